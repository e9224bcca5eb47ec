/* SPDX-License-Identifier: MIT */
/*
 * PE reader against a real lld-link DLL (expectations from llvm-readobj)
 * and against hand-broken headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/bytes.h"
#include "symbols/pe.h"
#include "testdata.h"

static const char *argv0;
static unsigned char *dll;
static size_t dll_len;

static int setup(void **state)
{
	(void)state;
	if (td_build(argv0) != 0)
		return -1;
	dll = td_slurp(td_path("wdttest.dll"), &dll_len);
	return dll ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(dll);
	return 0;
}

static struct wdt_pe *open_file(struct wdt_source **src)
{
	struct wdt_err err = {0};
	struct wdt_pe *pe;

	*src = wdt_source_open_file(td_path("wdttest.dll"), &err);
	assert_non_null(*src);
	pe = wdt_pe_open_source(*src, &err);
	if (!pe)
		fail_msg("%s", err.msg);
	return pe;
}

/* Every named export of llvm-readobj --coff-exports, and no others. */
static void test_exports_match_llvm(void **state)
{
	struct wdt_err err = {0};
	struct wdt_source *src;
	struct wdt_pe *pe = open_file(&src);
	const struct wdt_pe_export *v;
	const char *dll_name;
	char name[256];
	unsigned rva;
	size_t n, lines = 0;
	FILE *f = fopen(td_path("exports.txt"), "r");

	(void)state;
	assert_non_null(f);
	assert_int_equal(wdt_pe_exports(pe, &v, &n, &dll_name, &err), 0);
	assert_string_equal(dll_name, "wdttest.dll");
	while (fscanf(f, "%255s %x", name, &rva) == 2) {
		uint32_t got = 0;

		assert_int_equal(wdt_pe_export_rva(pe, name, &got, &err), 1);
		assert_int_equal(got, rva);
		lines++;
	}
	fclose(f);
	assert_true(lines >= 8);
	assert_int_equal(n, lines);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i].forwarder,
				 strcmp(v[i].name, "FwdThing") == 0);
	{
		uint32_t got;

		assert_int_equal(
		    wdt_pe_export_rva(pe, "NotExported", &got, &err), 0);
	}
	wdt_pe_close(pe);
	wdt_source_close(src);
}

static void hex16(const uint8_t *g, char *out)
{
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02X", g[i]);
}

/* RSDS: GUID bytes, age and name of llvm-readobj --coff-debug-directory. */
static void test_rsds_matches_llvm(void **state)
{
	struct wdt_err err = {0};
	struct wdt_source *src;
	struct wdt_pe *pe = open_file(&src);
	const struct wdt_pe_codeview *cv;
	char want_guid[64], want_name[256], got[33];
	unsigned age;
	FILE *f = fopen(td_path("rsds.txt"), "r");

	(void)state;
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%63s %u %255s", want_guid, &age, want_name),
			 3);
	fclose(f);
	assert_int_equal(wdt_pe_codeview(pe, &cv, &err), 0);
	hex16(cv->guid, got);
	assert_string_equal(got, want_guid);
	assert_int_equal(cv->age, age);
	assert_string_equal(cv->pdb_name, want_name);
	assert_int_equal(wdt_pe_headers(pe)->machine, WDT_PE_MACHINE_AMD64);
	wdt_pe_close(pe);
	wdt_source_close(src);
}

/* ---- the same DLL mapped as an image, with holes ---- */

struct image {
	uint8_t *mem;
	uint32_t size;
	uint32_t hole; /* page RVA that is missing, or UINT32_MAX */
};

static int image_read(void *ctx, uint64_t off, void *buf, size_t len,
		      struct wdt_err *err)
{
	struct image *im = ctx;

	if (!wdt_in_bounds(im->size, off, len))
		return wdt_err_set(err, WDT_NO_DATA, "beyond image");
	for (uint64_t p = off & ~0xFFFull; p < off + len; p += 0x1000)
		if (p == im->hole)
			return wdt_err_set(err, WDT_NO_DATA,
					   "page 0x%llx not in dump",
					   (unsigned long long)p);
	memcpy(buf, im->mem + off, len);
	return 0;
}

static void map_image(struct image *im)
{
	struct wdt_err err = {0};
	struct wdt_pe_headers h;
	size_t n;
	struct wdt_source *src;
	struct wdt_pe *pe = open_file(&src);
	const struct wdt_pe_section *s = wdt_pe_sections(pe, &n);

	assert_int_equal(wdt_pe_parse_headers(dll, dll_len, &h, &err), 0);
	im->size = h.size_of_image;
	im->mem = calloc(1, im->size);
	assert_non_null(im->mem);
	memcpy(im->mem, dll, h.size_of_headers);
	for (size_t i = 0; i < n; i++)
		if (s[i].raw_size)
			memcpy(im->mem + s[i].rva, dll + s[i].raw_off,
			       s[i].raw_size < s[i].vsize ? s[i].raw_size
							  : s[i].vsize);
	im->hole = UINT32_MAX;
	wdt_pe_close(pe);
	wdt_source_close(src);
}

static void test_image_layout(void **state)
{
	struct wdt_err err = {0};
	struct image im;
	struct wdt_pe_io io = {image_read, &im, WDT_PE_LAYOUT_IMAGE, "img"};
	struct wdt_pe *pe;
	const struct wdt_pe_codeview *cv;
	uint32_t rva, file_rva;
	struct wdt_source *src;
	struct wdt_pe *fpe = open_file(&src);

	(void)state;
	map_image(&im);
	pe = wdt_pe_open(&io, &err);
	assert_non_null(pe);
	assert_int_equal(wdt_pe_codeview(pe, &cv, &err), 0);
	assert_string_equal(cv->pdb_name, "wdttest.pdb");
	assert_int_equal(wdt_pe_export_rva(pe, "gOuter", &rva, &err), 1);
	assert_int_equal(wdt_pe_export_rva(fpe, "gOuter", &file_rva, &err), 1);
	assert_int_equal(rva, file_rva);
	wdt_pe_close(pe);

	/* The page with the export and debug directories is missing. */
	im.hole = wdt_pe_headers(fpe)->dirs[WDT_PE_DIR_EXPORT].rva & ~0xFFFu;
	pe = wdt_pe_open(&io, &err);
	assert_non_null(pe);
	assert_int_equal(wdt_pe_export_rva(pe, "gOuter", &rva, &err), -1);
	assert_int_equal(err.status, WDT_NO_DATA);
	assert_non_null(strstr(err.msg, "exports unavailable"));
	assert_non_null(strstr(err.msg, "not in dump"));
	wdt_pe_close(pe);

	/* Without the header page nothing can be said. */
	im.hole = 0;
	assert_null(wdt_pe_open(&io, &err));
	assert_int_equal(err.status, WDT_NO_DATA);
	assert_non_null(strstr(err.msg, "img"));
	free(im.mem);
	wdt_pe_close(fpe);
	wdt_source_close(src);
}

/* ---- hostile headers ---- */

static void expect_headers(const uint8_t *buf, size_t len, enum wdt_status st,
			   const char *needle)
{
	struct wdt_err err = {0};
	struct wdt_pe_headers h;

	assert_int_equal(wdt_pe_parse_headers(buf, len, &h, &err), -1);
	assert_int_equal(err.status, st);
	if (!strstr(err.msg, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
}

static void test_bad_headers(void **state)
{
	uint8_t *b = malloc(dll_len);
	uint32_t nt;

	(void)state;
	memcpy(b, dll, dll_len);
	nt = wdt_le32(b + 0x3C);
	expect_headers(b, 0x20, WDT_TRUNCATED, "too few");
	b[0] = 'X';
	expect_headers(b, 4096, WDT_UNKNOWN_FORMAT, "MZ");
	b[0] = 'M';
	wdt_put_le32(b + 0x3C, 0xFFFFFFF0u);
	expect_headers(b, 4096, WDT_TRUNCATED, "NT headers");
	wdt_put_le32(b + 0x3C, nt);
	b[nt] = 'Q';
	expect_headers(b, 4096, WDT_UNKNOWN_FORMAT, "PE signature");
	b[nt] = 'P';
	wdt_put_le16(b + nt + 0x18, 0x10B);
	expect_headers(b, 4096, WDT_UNSUPPORTED, "PE32+");
	wdt_put_le16(b + nt + 0x18, 0x20B);
	wdt_put_le16(b + nt + 0x06, 0);
	expect_headers(b, 4096, WDT_CORRUPT, "0 sections");
	wdt_put_le16(b + nt + 0x06, 3);
	wdt_put_le16(b + nt + 0x14, 0x10);
	expect_headers(b, 4096, WDT_CORRUPT, "optional header size");
	free(b);
}

static void test_bad_rsds_and_exports(void **state)
{
	struct wdt_err err = {0};
	struct wdt_pe_codeview cv;
	struct wdt_pe_export_dir ed;
	uint8_t r[64];

	(void)state;
	memset(r, 'a', sizeof(r));
	memcpy(r, "RSDS", 4);
	assert_int_equal(wdt_pe_parse_rsds(r, sizeof(r), &cv, &err), -1);
	assert_int_equal(err.status, WDT_CORRUPT);
	assert_non_null(strstr(err.msg, "not NUL-terminated"));
	memcpy(r, "NB10", 4);
	assert_int_equal(wdt_pe_parse_rsds(r, sizeof(r), &cv, &err), -1);
	assert_int_equal(err.status, WDT_UNSUPPORTED);
	assert_int_equal(wdt_pe_parse_rsds(r, 10, &cv, &err), -1);
	assert_int_equal(err.status, WDT_TRUNCATED);
	memcpy(r, "RSDS", 4);
	strcpy((char *)r + 0x18, "C:\\build\\x\\ntkrnlmp.pdb");
	assert_int_equal(wdt_pe_parse_rsds(r, sizeof(r), &cv, &err), 0);
	assert_string_equal(cv.pdb_name, "ntkrnlmp.pdb");

	memset(r, 0, sizeof(r));
	wdt_put_le32(r + 0x18, 0x7FFFFFFF);
	assert_int_equal(wdt_pe_parse_export_dir(r, 40, &ed, &err), -1);
	assert_int_equal(err.status, WDT_CORRUPT);
	assert_non_null(strstr(err.msg, "names"));
	assert_int_equal(wdt_pe_parse_export_dir(r, 39, &ed, &err), -1);
	assert_int_equal(err.status, WDT_TRUNCATED);
}

/* Export tables that point outside the file: exports unavailable, no crash. */
static void test_exports_broken_in_file(void **state)
{
	struct wdt_err err = {0};
	uint8_t *b = malloc(dll_len);
	struct wdt_pe_headers h;
	struct wdt_source *src;
	struct wdt_pe *pe;
	uint32_t rva;
	uint64_t off;

	(void)state;
	memcpy(b, dll, dll_len);
	assert_int_equal(wdt_pe_parse_headers(b, dll_len, &h, &err), 0);
	src = wdt_source_open_mem(b, dll_len, "broken.dll", &err);
	pe = wdt_pe_open_source(src, &err);
	assert_non_null(pe);
	assert_int_equal(wdt_pe_rva_to_off(pe, h.dirs[0].rva, 40, &off), 1);
	wdt_pe_close(pe);
	wdt_put_le32(b + off + 0x20, 0x7FFF0000); /* AddressOfNames */
	pe = wdt_pe_open_source(src, &err);
	assert_non_null(pe);
	assert_int_equal(wdt_pe_export_rva(pe, "gNode", &rva, &err), -1);
	assert_non_null(strstr(err.msg, "broken.dll: exports unavailable"));
	wdt_pe_close(pe);
	wdt_source_close(src);
	free(b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exports_match_llvm),
	    cmocka_unit_test(test_rsds_matches_llvm),
	    cmocka_unit_test(test_image_layout),
	    cmocka_unit_test(test_bad_headers),
	    cmocka_unit_test(test_bad_rsds_and_exports),
	    cmocka_unit_test(test_exports_broken_in_file),
	};

	(void)argc;
	argv0 = argv[0];
	return cmocka_run_group_tests_name("symbols/pe", tests, setup,
					   teardown);
}
