/* SPDX-License-Identifier: MIT */
/* formats/dmp.c on DMP files built here in memory (dmp64.md §2-§7, §10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/bytes.h"
#include "formats/dmp.h"
#include "testutil.h"

#define PG 4096u

static void fill_page(uint8_t *p, uint64_t pfn)
{
	for (unsigned i = 0; i < PG; i += 8)
		wdt_put_le64(p + i, pfn * 0x1000 + i + 0xA5A50000);
}

/* A header 'PAGE'-filled like the kernel's, with the magic and type set. */
static uint8_t *new_dmp(size_t size, uint32_t type)
{
	uint8_t *d = calloc(1, size);

	assert_non_null(d);
	for (size_t i = 0; i < WDT_DMP64_HDR_SIZE; i += 4)
		memcpy(d + i, "PAGE", 4);
	memcpy(d + 4, "DU64", 4);
	wdt_put_le32(d + WDT_DMP64_MAJOR, 0xF);
	wdt_put_le32(d + WDT_DMP64_MINOR, 19041);
	wdt_put_le32(d + WDT_DMP64_MACHINE, WDT_MACHINE_AMD64);
	wdt_put_le32(d + WDT_DMP64_DUMP_TYPE, type);
	return d;
}

/* Full dump: PFNs 0-1 and 0x10-0x11. */
static uint8_t *full_dmp(size_t *len)
{
	static const uint64_t pfns[] = {0, 1, 0x10, 0x11};
	size_t size = WDT_DMP64_HDR_SIZE + 4 * PG;
	uint8_t *d = new_dmp(size, WDT_DUMP_TYPE_FULL);

	wdt_put_le32(d + WDT_DMP64_PMB_NRUNS, 2);
	wdt_put_le32(d + WDT_DMP64_PMB_NRUNS + 4, 0);
	wdt_put_le64(d + WDT_DMP64_PMB_NPAGES, 4);
	wdt_put_le64(d + WDT_DMP64_PMB_RUNS, 0);
	wdt_put_le64(d + WDT_DMP64_PMB_RUNS + 8, 2);
	wdt_put_le64(d + WDT_DMP64_PMB_RUNS + 16, 0x10);
	wdt_put_le64(d + WDT_DMP64_PMB_RUNS + 24, 2);
	wdt_put_le64(d + WDT_DMP64_REQUIRED_SPACE, size);
	for (int i = 0; i < 4; i++)
		fill_page(d + WDT_DMP64_HDR_SIZE + i * PG, pfns[i]);
	*len = size;
	return d;
}

static void expect_page(struct wdt_image *img, uint64_t pfn)
{
	uint8_t got[PG], want[PG];
	struct wdt_err err;

	fill_page(want, pfn);
	assert_int_equal(wdt_image_read_phys(img, pfn * PG, got, PG, &err), 0);
	assert_memory_equal(got, want, PG);
}

static void test_full(void **state)
{
	struct wdt_err err;
	size_t len;
	uint8_t *d = full_dmp(&len), b[8];
	struct wdt_image *img = wdt_test_open_mem(d, len, NULL, &err);

	(void)state;
	assert_non_null(img);
	assert_string_equal(img->fmt->name, "dmp");
	assert_string_equal(img->variant, "DMP64, full dump");
	assert_int_equal(img->nruns, 2);
	assert_int_equal(img->runs[1].pa, 0x10000);
	assert_int_equal(img->ncpus, 0); /* ContextRecord is 'PAGE' fill */
	expect_page(img, 0);
	expect_page(img, 1);
	expect_page(img, 0x10);
	expect_page(img, 0x11);
	assert_int_equal(wdt_image_read_phys(img, 0x2000, b, 8, &err), -1);
	assert_int_equal(err.status, WDT_NO_DATA);
	assert_int_equal(wdt_dmp_header(img)->npages, 4);
	wdt_test_reader_contract(img, 3);
	/* no DTB in the header ('PAGE' fill): no hint */
	assert_false(img->hints.have_dtb);
	wdt_image_close(img);
	free(d);
}

static void test_context_cpu(void **state)
{
	struct wdt_err err;
	size_t len;
	uint8_t *d = full_dmp(&len), *c;
	struct wdt_image *img;

	(void)state;
	c = d + WDT_DMP64_CONTEXT;
	memset(c, 0, WDT_CTX_SIZE);
	wdt_put_le32(c + WDT_CTX_FLAGS, WDT_CTX_FULL);
	wdt_put_le16(c + WDT_CTX_SEG_CS, 0x10);
	wdt_put_le16(c + WDT_CTX_SEG_SS, 0x18);
	wdt_put_le32(c + WDT_CTX_EFLAGS, 0x246);
	wdt_put_le64(c + WDT_CTX_RAX, 0x1111);			   /* Rax */
	wdt_put_le64(c + WDT_CTX_RAX + 8, 0x3333);		   /* Rcx */
	wdt_put_le64(c + WDT_CTX_RAX + 32, 0xfffff00000001000ull); /* Rsp */
	wdt_put_le64(c + WDT_CTX_RIP, 0xfffff80000401234ull);
	wdt_put_le64(d + WDT_DMP64_DTB, 0x1ae000);
	img = wdt_test_open_mem(d, len, "dmp", &err);
	assert_non_null(img);
	/* the header's DirectoryTableBase, as a hint for symbols/ */
	assert_true(img->hints.have_dtb);
	assert_int_equal(img->hints.dtb, 0x1ae000);
	assert_string_equal(img->hints.method, "dmp-header");
	assert_string_equal(img->hints.what, "the DMP header");
	assert_int_equal(img->ncpus, 1);
	assert_string_equal(img->cpus[0].source, "DMP ContextRecord");
	/* A saved context, not a numbered processor's live state. */
	assert_int_equal(img->cpus[0].have, WDT_CPU_HAVE_GPRS |
						WDT_CPU_HAVE_SEGS |
						WDT_CPU_SAVED_CONTEXT);
	assert_int_equal(img->cpus[0].regs[WDT_RAX], 0x1111);
	assert_int_equal(img->cpus[0].regs[WDT_RCX], 0x3333);
	assert_int_equal(img->cpus[0].regs[WDT_RSP], 0xfffff00000001000ull);
	assert_int_equal(img->cpus[0].regs[WDT_RIP], 0xfffff80000401234ull);
	assert_int_equal(img->cpus[0].regs[WDT_RFLAGS], 0x246);
	assert_int_equal(img->cpus[0].segs[WDT_CS].selector, 0x10);
	assert_int_equal(img->cpus[0].segs[WDT_SS].selector, 0x18);
	wdt_image_close(img);
	free(d);
}

/* Bitmap dump: PFNs 0, 1, 3 and 9 present of 12 bits. */
static uint8_t *bitmap_dmp(size_t *len, uint64_t present)
{
	static const uint64_t pfns[] = {0, 1, 3, 9};
	uint64_t first = WDT_DMP64_HDR_SIZE + PG;
	size_t size = first + 4 * PG;
	uint8_t *d = new_dmp(size, WDT_DUMP_TYPE_BITMAP_FULL), *b;

	b = d + WDT_DMP64_HDR_SIZE;
	memcpy(b, "FDMPDUMP", 8);
	wdt_put_le64(b + WDT_BMP_FIRST_PAGE, first);
	wdt_put_le64(b + WDT_BMP_PRESENT_PAGES, present);
	wdt_put_le64(b + WDT_BMP_BITS, 12);
	b[WDT_BMP_BITMAP] = 0x0B;     /* 0, 1, 3 */
	b[WDT_BMP_BITMAP + 1] = 0x02; /* 9 */
	wdt_put_le64(d + WDT_DMP64_REQUIRED_SPACE, size);
	for (int i = 0; i < 4; i++)
		fill_page(d + first + i * PG, pfns[i]);
	*len = size;
	return d;
}

static void test_bitmap(void **state)
{
	struct wdt_err err;
	size_t len;
	uint8_t *d = bitmap_dmp(&len, 4), b[8];
	struct wdt_image *img = wdt_test_open_mem(d, len, NULL, &err);

	(void)state;
	assert_non_null(img);
	assert_string_equal(img->variant, "DMP64, bitmap full dump");
	assert_int_equal(img->nruns, 3);
	assert_int_equal(img->runs[0].len, 2 * PG);
	assert_int_equal(img->runs[1].pa, 3 * PG);
	assert_int_equal(img->runs[2].file_off, WDT_DMP64_HDR_SIZE + 4 * PG);
	expect_page(img, 0);
	expect_page(img, 1);
	expect_page(img, 3);
	expect_page(img, 9);
	assert_int_equal(wdt_image_read_phys(img, 2 * PG, b, 8, &err), -1);
	assert_int_equal(err.status, WDT_NO_DATA);
	wdt_test_reader_contract(img, 3);
	wdt_image_close(img);

	/* Cut inside the last page: PFN 9 is dropped, not read past EOF. */
	img = wdt_test_open_mem(d, len - 100, NULL, &err);
	assert_non_null(img);
	assert_int_equal(img->nruns, 2);
	wdt_image_close(img);
	free(d);
}

static int count_run(void *arg, uint64_t pfn, uint64_t n, uint64_t off,
		     struct wdt_err *err)
{
	uint64_t *seen = arg;

	(void)err;
	seen[0]++;
	seen[1] += n;
	seen[2] = pfn;
	seen[3] = off;
	return 0;
}

static void test_bitmap_walk(void **state)
{
	struct wdt_dmp_bitmap bm;
	struct wdt_source *src;
	struct wdt_err err;
	uint64_t seen[4] = {0}, pop = 0;
	size_t len;
	uint8_t *d = bitmap_dmp(&len, 5);

	(void)state;
	assert_int_equal(
	    wdt_dmp_parse_bitmap(d + WDT_DMP64_HDR_SIZE, 0x38, &bm, &err), 0);
	assert_int_equal(wdt_dmp_check_bitmap(&bm, len, &err), 0);
	src = wdt_source_open_mem(d, len, "mem", &err);
	assert_non_null(src);
	assert_int_equal(
	    wdt_dmp_bitmap_walk(src, &bm, count_run, seen, &pop, &err), 0);
	assert_int_equal(pop, 4); /* not the 5 the header claims */
	assert_int_equal(seen[0], 3);
	assert_int_equal(seen[1], 4);
	assert_int_equal(seen[2], 9);
	assert_int_equal(seen[3], WDT_DMP64_HDR_SIZE + PG + 3 * PG);
	assert_int_equal(wdt_dmp_bitmap_walk(src, &bm, NULL, NULL, &pop, &err),
			 0);
	assert_int_equal(pop, 4);
	wdt_source_close(src);
	free(d);
}

static void test_bitmap_rejects(void **state)
{
	struct wdt_dmp_bitmap bm;
	struct wdt_err err;
	size_t len;
	uint8_t *d = bitmap_dmp(&len, 4), *b = d + WDT_DMP64_HDR_SIZE;
	struct wdt_image *img;

	(void)state;
	assert_int_equal(wdt_dmp_parse_bitmap(b, 0x20, &bm, &err), -1);
	assert_err(&err, WDT_TRUNCATED, "bitmap header truncated");

	memcpy(b, "XDMP", 4);
	assert_null(wdt_test_open_mem(d, len, NULL, &err));
	assert_err(&err, WDT_CORRUPT, "not 'FDMP' or 'SDMP'");
	memcpy(b, "SDMP", 4); /* readers accept either */
	img = wdt_test_open_mem(d, len, NULL, &err);
	assert_non_null(img);
	wdt_image_close(img);

	wdt_put_le64(b + WDT_BMP_FIRST_PAGE, 0x3010);
	assert_null(wdt_test_open_mem(d, len, NULL, &err));
	assert_err(&err, WDT_CORRUPT, "FirstPage 0x3010");
	wdt_put_le64(b + WDT_BMP_FIRST_PAGE, 0x3000);

	wdt_put_le64(b + WDT_BMP_BITS, 0x80000000ull);
	assert_null(wdt_test_open_mem(d, len, NULL, &err));
	assert_err(&err, WDT_CORRUPT, "0x80000000 bits");

	/* 0x7fff0000 bits need a 256 MiB bitmap the file does not have. */
	wdt_put_le64(b + WDT_BMP_BITS, 0x7fff0000ull);
	wdt_put_le64(b + WDT_BMP_FIRST_PAGE, 0x1000000);
	assert_int_equal(wdt_dmp_parse_bitmap(b, 0x38, &bm, &err), 0);
	assert_int_equal(wdt_dmp_check_bitmap(&bm, len, &err), -1);
	assert_int_equal(err.status, WDT_CORRUPT); /* FirstPage inside it */
	wdt_put_le64(b + WDT_BMP_BITS, 0x40000);
	assert_int_equal(wdt_dmp_parse_bitmap(b, 0x38, &bm, &err), 0);
	assert_int_equal(wdt_dmp_check_bitmap(&bm, len, &err), -1);
	assert_err(&err, WDT_TRUNCATED, "runs past the end of the file");

	wdt_put_le64(b + WDT_BMP_BITS, 12);
	wdt_put_le64(b + WDT_BMP_FIRST_PAGE, 0x3000);
	wdt_put_le64(b + WDT_BMP_PRESENT_PAGES, 13);
	assert_null(wdt_test_open_mem(d, len, NULL, &err));
	assert_err(&err, WDT_CORRUPT, "exceeds its 0xc bits");
	free(d);
}

static void test_header_rejects(void **state)
{
	struct wdt_dmp_hdr h;
	struct wdt_err err;
	size_t len;
	uint8_t *d = full_dmp(&len);

	(void)state;
	assert_int_equal(wdt_dmp_parse_header(d, 0x1000, &h, &err), -1);
	assert_err(&err, WDT_TRUNCATED, "header truncated");
	assert_null(wdt_test_open_mem(d, 0x1000, "dmp", &err));
	assert_err(&err, WDT_TRUNCATED, "DUMP_HEADER64");
	memcpy(d + 4, "DUXX", 4);
	assert_int_equal(wdt_dmp_parse_header(d, len, &h, &err), -1);
	assert_err(&err, WDT_UNKNOWN_FORMAT, "neither 'DU64' nor 'DUMP'");
	memcpy(d, "PAGX", 4);
	assert_int_equal(wdt_dmp_parse_header(d, len, &h, &err), -1);
	assert_err(&err, WDT_UNKNOWN_FORMAT, "no 'PAGE' signature");
	free(d);
}

static void test_runs_rejects(void **state)
{
	struct wdt_err err;
	size_t len;
	uint8_t *d = full_dmp(&len);

	(void)state;
	memcpy(d + WDT_DMP64_PMB_NRUNS, "PAGE", 4);
	assert_null(wdt_test_open_mem(d, len, NULL, &err));
	assert_err(&err, WDT_CORRUPT, "'PAGE' fill");
	wdt_put_le32(d + WDT_DMP64_PMB_NRUNS, 43);
	assert_null(wdt_test_open_mem(d, len, NULL, &err));
	assert_err(&err, WDT_CORRUPT, "more than the 42");
	wdt_put_le32(d + WDT_DMP64_PMB_NRUNS, 2);
	wdt_put_le64(d + WDT_DMP64_PMB_RUNS + 24, 0);
	assert_null(wdt_test_open_mem(d, len, NULL, &err));
	assert_err(&err, WDT_CORRUPT, "has no pages");
	wdt_put_le64(d + WDT_DMP64_PMB_RUNS + 24, UINT64_MAX);
	assert_null(wdt_test_open_mem(d, len, NULL, &err));
	assert_err(&err, WDT_CORRUPT, "52-bit");
	/* Overlap is caught when the runs are finished. */
	wdt_put_le64(d + WDT_DMP64_PMB_RUNS + 16, 1);
	wdt_put_le64(d + WDT_DMP64_PMB_RUNS + 24, 2);
	assert_null(wdt_test_open_mem(d, len, NULL, &err));
	assert_int_equal(err.status, WDT_CORRUPT);
	free(d);
}

static void test_other_types(void **state)
{
	struct wdt_err err;
	size_t len;
	uint8_t *d = full_dmp(&len);
	struct wdt_image *img;

	(void)state;
	wdt_put_le32(d + WDT_DMP64_DUMP_TYPE, WDT_DUMP_TYPE_TRIAGE);
	img = wdt_test_open_mem(d, len, NULL, &err);
	assert_non_null(img);
	assert_int_equal(img->nruns, 0);
	assert_string_equal(
	    img->variant,
	    "DMP64, triage (minidump) dump (memory not readable)");
	wdt_image_close(img);
	wdt_put_le32(d + WDT_DMP64_DUMP_TYPE, WDT_DUMP_TYPE_COMPLETE_RANGE);
	memcpy(d + WDT_DMP64_HDR_SIZE + 4, "RDMPDUMP", 8);
	img = wdt_test_open_mem(d, len, NULL, &err);
	assert_non_null(img);
	assert_int_equal(img->nruns, 0);
	wdt_image_close(img);
	free(d);
}

/* 32-bit full dump: runs of u32 at 0x64, data at 0x1000. */
static void test_dmp32(void **state)
{
	size_t len = WDT_DMP32_HDR_SIZE + 2 * PG;
	uint8_t *d = calloc(1, len);
	struct wdt_image *img;
	struct wdt_err err;

	(void)state;
	memcpy(d, "PAGEDUMP", 8);
	wdt_put_le32(d + WDT_DMP32_DUMP_TYPE, WDT_DUMP_TYPE_FULL);
	wdt_put_le32(d + WDT_DMP32_PMB, 1);
	wdt_put_le32(d + WDT_DMP32_PMB + 4, 2);
	wdt_put_le32(d + WDT_DMP32_PMB_RUNS, 0x20);
	wdt_put_le32(d + WDT_DMP32_PMB_RUNS + 4, 2);
	fill_page(d + WDT_DMP32_HDR_SIZE, 0x20);
	fill_page(d + WDT_DMP32_HDR_SIZE + PG, 0x21);
	img = wdt_test_open_mem(d, len, NULL, &err);
	assert_non_null(img);
	assert_string_equal(img->variant, "DMP32, full dump");
	expect_page(img, 0x20);
	expect_page(img, 0x21);
	assert_false(wdt_dmp_header(img)->is64);
	wdt_image_close(img);
	free(d);
}

static void test_helpers(void **state)
{
	uint8_t c[WDT_CTX_SIZE];
	struct wdt_dmp_hdr h = {.dump_type = WDT_DUMP_TYPE_FULL, .is64 = true};
	struct wdt_dmp_bitmap b = {.first_page = 0x3000};

	(void)state;
	memset(c, 0, sizeof(c));
	assert_true(wdt_dmp_context_unset(c));
	for (size_t i = 0; i < sizeof(c); i += 4)
		memcpy(c + i, "PAGE", 4);
	assert_true(wdt_dmp_context_unset(c));
	c[0x40] = 0;
	assert_false(wdt_dmp_context_unset(c));
	assert_true(wdt_dmp_unset64(0x4547415045474150ull));
	assert_string_equal(wdt_dmp_type_name(6), "bitmap kernel");
	assert_true(wdt_dmp_type_is_bitmap(2));
	assert_false(wdt_dmp_type_is_bitmap(1));
	assert_int_equal(wdt_dmp_expected_size(&h, 3, NULL, 0), 0x5000);
	h.dump_type = WDT_DUMP_TYPE_BITMAP_KERNEL;
	assert_int_equal(wdt_dmp_expected_size(&h, 0, &b, 2), 0x5000);
	h.dump_type = WDT_DUMP_TYPE_TRIAGE;
	assert_int_equal(wdt_dmp_expected_size(&h, 0, &b, 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_context_cpu),
	    cmocka_unit_test(test_bitmap),
	    cmocka_unit_test(test_bitmap_walk),
	    cmocka_unit_test(test_bitmap_rejects),
	    cmocka_unit_test(test_header_rejects),
	    cmocka_unit_test(test_runs_rejects),
	    cmocka_unit_test(test_other_types),
	    cmocka_unit_test(test_dmp32),
	    cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
