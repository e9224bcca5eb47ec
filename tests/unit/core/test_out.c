/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/out.h"

/* Render into a malloc'd string. */
static char *render(struct wdt_out *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct wdt_err e;

	assert_non_null(f);
	assert_int_equal(wdt_out_render(o, f, &e), 0);
	fclose(f);
	return buf;
}

static void fill(struct wdt_out *o)
{
	wdt_out_str(o, "file", "File", "a\"b\\c\n\x01\xff\xc3\xa9");
	wdt_out_addr(o, "kernel_base", "Kernel base", 0xfffff80012345000ull);
	wdt_out_size(o, "size", NULL, 4294967296ull);
	wdt_out_bool(o, "ok", "OK", true);
	wdt_out_null(o, "efer", "EFER");
	wdt_out_arr_begin(o, "runs", "Runs");
	for (int i = 0; i < 2; i++) {
		wdt_out_obj_begin(o, NULL, NULL);
		wdt_out_hex(o, "start", "Start", (uint64_t)i << 32);
		wdt_out_u64(o, "n", "Pages", 12345u * (unsigned)(i + 1));
		wdt_out_obj_end(o);
	}
	wdt_out_arr_end(o);
	wdt_out_arr_begin(o, "empty", NULL);
	wdt_out_arr_end(o);
	wdt_out_obj_begin(o, "nested", "Nested");
	wdt_out_i64(o, "neg", "Negative", -5);
	wdt_out_obj_end(o);
}

static void json_parses_and_escapes(void **state)
{
	struct wdt_out *o = wdt_out_new(true);
	char path[] = "/tmp/wdt-json-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	fill(o);
	char *s = render(o);
	assert_non_null(strstr(s, "\"kernel_base\": \"0xfffff80012345000\""));
	assert_non_null(strstr(s, "a\\\"b\\\\c\\n\\u0001\\ufffd\xc3\xa9"));
	assert_non_null(strstr(s, "\"size\": 4294967296"));
	assert_non_null(strstr(s, "\"efer\": null"));
	assert_non_null(strstr(s, "\"empty\": []"));
	/* A real JSON parser must accept it and see the same values. */
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
		 "assert d[\"runs\"][1][\"n\"]==24690; "
		 "assert d[\"nested\"][\"neg\"]==-5; "
		 "assert d[\"file\"].endswith(\"\\ufffd\\u00e9\")' %s",
		 path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
	free(s);
	wdt_out_free(o);
}

static void text_aligns_and_tabulates(void **state)
{
	struct wdt_out *o = wdt_out_new(false);

	(void)state;
	fill(o);
	char *s = render(o);
	/* Labels in one object padded to the longest ("Kernel base"). */
	assert_non_null(strstr(s, "Kernel base: 0xfffff80012345000\n"));
	assert_non_null(strstr(s, "OK:          yes\n"));
	assert_non_null(strstr(s, "Size:        4294967296 (4.0 GiB)\n"));
	/* Arrays of flat objects become tables with a header row. */
	assert_non_null(strstr(s, "Runs (2):\n  Start        Pages\n"
				  "  0x0          12345\n  0x100000000  24690\n"));
	assert_non_null(strstr(s, "Empty: none\n"));
	assert_non_null(strstr(s, "Nested:\n  Negative: -5\n"));
	free(s);
	wdt_out_free(o);
}

static void write_errors_reported(void **state)
{
	struct wdt_out *o = wdt_out_new(false);
	struct wdt_err e;
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	assert_non_null(f);
	fill(o);
	assert_int_equal(wdt_out_render(o, f, &e), -1);
	assert_int_equal(e.status, WDT_OUTPUT);
	fclose(f);
	wdt_out_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_parses_and_escapes),
		cmocka_unit_test(text_aligns_and_tabulates),
		cmocka_unit_test(write_errors_reported),
	};
	return cmocka_run_group_tests_name("core/out", tests, NULL, NULL);
}
