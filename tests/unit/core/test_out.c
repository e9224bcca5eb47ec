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
	assert_non_null(strstr(s,
			       "Runs (2):\n  Start        Pages\n"
			       "  0x0          12345\n  0x100000000  24690\n"));
	assert_non_null(strstr(s, "Empty: none\n"));
	assert_non_null(strstr(s, "Nested:\n  Negative: -5\n"));
	free(s);
	wdt_out_free(o);
}

/* wdt_text_escape(in) must be exactly want. */
static void text_is(const char *in, const char *want)
{
	char *got = wdt_text_escape(in);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* wdt_json_string(in) must be exactly want (with the quotes). */
static void json_is(const char *in, const char *want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	wdt_json_string(f, in);
	fclose(f);
	assert_string_equal(buf, want);
	free(buf);
}

static void escape_c0_and_del(void **state)
{
	(void)state;
	text_is("a\nb\tc\rd", "a\\nb\\tc\\rd");
	text_is("\x1b[2J\a\x01\x1f\x7f", "\\x1b[2J\\x07\\x01\\x1f\\x7f");
	json_is("a\nb\tc\rd", "\"a\\nb\\tc\\rd\"");
	json_is("\x1b[2J\a\x01\x1f\x7f",
		"\"\\u001b[2J\\u0007\\u0001\\u001f\\u007f\"");
	/* Printable ASCII is kept; text leaves '\' and '"' alone. */
	text_is(" ~d:\\x\\ntkrnlmp.pdb \"q\"", " ~d:\\x\\ntkrnlmp.pdb \"q\"");
	json_is("d:\\x \"q\"", "\"d:\\\\x \\\"q\\\"\"");
	text_is("", "");
	json_is("", "\"\"");
}

static void escape_c1(void **state)
{
	(void)state;
	/* U+009B (CSI) and U+0085 (NEL) as UTF-8; U+00A0 is no control. */
	text_is("a\xc2\x9b"
		"2Jb\xc2\x85\xc2\x80\xc2\x9f\xc2\xa0",
		"a\\u009b2Jb\\u0085\\u0080\\u009f\xc2\xa0");
	json_is("\xc2\x9b\xc2\xa0", "\"\\u009b\xc2\xa0\"");
}

static void valid_utf8_kept(void **state)
{
	const char *s = "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
			"\xed\x9f\xbf \xee\x80\x80 \xf4\x8f\xbf\xbf";

	(void)state;
	/* é € 😀 U+D7FF U+E000 U+10FFFF: kept byte for byte. */
	text_is(s, s);
	char want[64];
	snprintf(want, sizeof(want), "\"%s\"", s);
	json_is(s, want);
}

static void invalid_utf8_replaced(void **state)
{
	(void)state;
	/* Lone bytes: 0xff, 0xfe, 0xf5, a stray continuation byte. */
	text_is("a\xff\xfe\xf5\x80z", "a\\xff\\xfe\\xf5\\x80z");
	json_is("a\xff\x80z", "\"a\\ufffd\\ufffdz\"");
	/* Truncated: "\xe2\x82" then ASCII, and at the end of the string. */
	text_is("\xe2\x82x\xe2\x82", "\\xe2\\x82x\\xe2\\x82");
	json_is("\xe2\x82x", "\"\\ufffd\\ufffdx\"");
	/* Overlong '/' (2 and 3 bytes), overlong NUL. */
	text_is("\xc0\xaf\xe0\x80\xaf\xc0\x80",
		"\\xc0\\xaf\\xe0\\x80\\xaf\\xc0\\x80");
	/* Overlong ESC must not decode to a control either. */
	json_is("\xc0\x9b", "\"\\ufffd\\ufffd\"");
	/* Surrogates U+D800 and U+DFFF, and U+110000. */
	text_is("\xed\xa0\x80\xed\xbf\xbf", "\\xed\\xa0\\x80\\xed\\xbf\\xbf");
	text_is("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	json_is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	/* A bad lead byte does not swallow the valid character after it. */
	text_is("\xe2\xc3\xa9", "\\xe2\xc3\xa9");
}

/* Text output: a hostile value stays on its line; widths count escapes. */
static void emitter_escapes_text_values(void **state)
{
	struct wdt_out *o = wdt_out_new(false);

	(void)state;
	wdt_out_str(o, "pdb_name", "Kernel PDB", "\x1b[2J\a\nwdt: forged");
	wdt_out_arr_begin(o, "notes", "Notes");
	wdt_out_obj_begin(o, NULL, NULL);
	wdt_out_str(o, "name", "Name", "\x1b]0;x\a");
	wdt_out_u64(o, "n", "N", 1);
	wdt_out_obj_end(o);
	wdt_out_arr_end(o);
	char *s = render(o);
	assert_string_equal(s, "Kernel PDB: \\x1b[2J\\x07\\nwdt: forged\n"
			       "Notes (1):\n"
			       "  Name          N\n"
			       "  \\x1b]0;x\\x07  1\n");
	for (const char *p = s; *p; p++)
		assert_true(*p == '\n' || ((unsigned char)*p >= 0x20 &&
					   (unsigned char)*p != 0x7f));
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
	    cmocka_unit_test(escape_c0_and_del),
	    cmocka_unit_test(escape_c1),
	    cmocka_unit_test(valid_utf8_kept),
	    cmocka_unit_test(invalid_utf8_replaced),
	    cmocka_unit_test(emitter_escapes_text_values),
	    cmocka_unit_test(write_errors_reported),
	};
	return cmocka_run_group_tests_name("core/out", tests, NULL, NULL);
}
