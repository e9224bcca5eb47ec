/* SPDX-License-Identifier: MIT */
/*
 * Page walks over crafted page tables in a small physical
 * memory with tables placed by hand, including 2 MiB and 1 GiB pages,
 * non-present entries and a table outside the image.
 */
#include "testutil.h"

#include <stdlib.h>

#include "core/bytes.h"
#include "core/paging.h"

#define MEM (8u << 20) /* 8 MiB of "physical memory" */
#define P 0x1ull
#define RW 0x2ull
#define PS 0x80ull
#define NX (1ull << 63)

static uint8_t *mem;
static struct wdt_image *img;

static void put(uint64_t pa, uint64_t v)
{
	wdt_put_le64(mem + pa, v);
}

static unsigned idx(uint64_t va, int level)
{
	return (unsigned)(va >> (12 + 9 * level)) & 0x1ff;
}

/* Tables: PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000. */
static int setup(void **state)
{
	struct wdt_err e;

	(void)state;
	mem = calloc(1, MEM);
	const uint64_t k = 0xfffff80000000000ull; /* kernel-ish VA */
	/* 4 KiB page: k → PA 0x10000, with software bits and NX set. */
	put(0x1000 + 8 * idx(k, 3), 0x2000 | P | RW);
	put(0x2000 + 8 * idx(k, 2), 0x3000 | P | RW);
	put(0x3000 + 8 * idx(k, 1), 0x4000 | P | RW);
	put(0x4000 + 8 * idx(k, 0), 0x10000 | P | NX | (0x7full << 52));
	/* Next 4 KiB page not present (but with an address). */
	put(0x4000 + 8 * (idx(k, 0) + 1), 0x11000);
	/* k + 2 MiB: a 2 MiB page at PA 0x400000. */
	put(0x3000 + 8 * (idx(k, 1) + 1), 0x400000 | P | PS);
	/* k + 1 GiB: a 1 GiB page at PA 0x40000000 (beyond the image). */
	put(0x2000 + 8 * (idx(k, 2) + 1), 0x40000000 | P | PS);
	/* k + 2 GiB: a PD table that lies outside the image. */
	put(0x2000 + 8 * (idx(k, 2) + 2), 0x80000000ull | P);
	/* Self-map at slot 0x1ed: PML4 points at itself. */
	put(0x1000 + 8 * 0x1ed, 0x1000 | P | RW);
	/* PS bit in a PML4E must be ignored (not a page size). */
	put(0x1000 + 8 * 1, 0x2000 | P | PS);
	mem[0x10000 + 0x123] = 0xab;
	mem[0x400000 + 0x1234] = 0xcd;
	memcpy(mem + 0x10ff0, "0123456789abcdef", 16);
	img = wdt_test_open_mem(mem, MEM, "raw", &e);
	return img ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	wdt_image_close(img);
	free(mem);
	return 0;
}

static const uint64_t K = 0xfffff80000000000ull;

static void four_k_page_masks_software_bits(void **state)
{
	struct wdt_vas v = {img, 0x1000 | 0x18 /* PWT|PCD */, false};
	struct wdt_err e;
	uint64_t pa, ps;

	(void)state;
	assert_int_equal(wdt_vtop(&v, K + 0x123, &pa, &ps, &e), 0);
	assert_int_equal(pa, 0x10123);
	assert_int_equal(ps, 4096);
}

static void large_pages(void **state)
{
	struct wdt_vas v = {img, 0x1000, false};
	struct wdt_err e;
	uint64_t pa, ps;

	(void)state;
	assert_int_equal(wdt_vtop(&v, K + (2u << 20) + 0x1234, &pa, &ps, &e),
			 0);
	assert_int_equal(pa, 0x401234);
	assert_int_equal(ps, 2u << 20);
	assert_int_equal(
	    wdt_vtop(&v, K + (1ull << 30) + 0x12345678, &pa, &ps, &e), 0);
	assert_int_equal(pa, 0x40000000 + 0x12345678);
	assert_int_equal(ps, 1u << 30);
}

static void not_present_and_holes(void **state)
{
	struct wdt_vas v = {img, 0x1000, false};
	struct wdt_err e;
	uint64_t pa;
	uint8_t b[4];

	(void)state;
	assert_int_equal(wdt_vtop(&v, K + 0x1000, &pa, NULL, &e), -1);
	assert_err(&e, WDT_NO_DATA, "PT entry");
	assert_int_equal(wdt_vtop(&v, 0xfffff70000000000ull, &pa, NULL, &e),
			 -1);
	assert_err(&e, WDT_NO_DATA, "PML4 entry");
	/* PD table outside the image. */
	assert_int_equal(wdt_vtop(&v, K + (2ull << 30), &pa, NULL, &e), -1);
	assert_err(&e, WDT_NO_DATA, "PD table at physical 0x80000000");
	/* 1 GiB page maps fine but its data is not in the image. */
	assert_int_equal(wdt_read_virt(&v, K + (1ull << 30), b, 4, &e), -1);
	assert_int_equal(e.status, WDT_NO_DATA);
}

static void non_canonical_rejected(void **state)
{
	struct wdt_vas v = {img, 0x1000, false};
	struct wdt_err e;
	uint64_t pa;

	(void)state;
	assert_false(wdt_va_canonical(0x0000800000000000ull, false));
	assert_true(wdt_va_canonical(0xffff800000000000ull, false));
	assert_true(wdt_va_canonical(0x0000800000000000ull, true));
	assert_false(wdt_va_canonical(0x0100000000000000ull, true));
	assert_int_equal(wdt_vtop(&v, 0x0000800000000000ull, &pa, NULL, &e),
			 -1);
	assert_err(&e, WDT_NO_DATA, "not canonical");
}

static void self_map_and_pml4_ps_ignored(void **state)
{
	struct wdt_vas v = {img, 0x1000, false};
	struct wdt_err e;
	uint64_t pa;
	/* With self-map slot s, PXE_BASE + 8*s maps the PML4 entry itself. */
	const uint64_t s = 0x1ed;
	uint64_t pxe =
	    0xffff000000000000ull | s << 39 | s << 30 | s << 21 | s << 12;

	(void)state;
	assert_int_equal(wdt_vtop(&v, pxe + 8 * s, &pa, NULL, &e), 0);
	assert_int_equal(pa, 0x1000 + 8 * s);
	/* PML4 slot 1 has PS set; the walk must go on through the PDPT at
	 * 0x2000 (shared with the kernel mapping) down to the 4 KiB page. */
	assert_int_equal(wdt_vtop(&v, (1ull << 39) + 0x42, &pa, NULL, &e), 0);
	assert_int_equal(pa, 0x10042);
	assert_int_equal(
	    wdt_vtop(&v, (1ull << 39) + (5ull << 30), &pa, NULL, &e), -1);
	assert_err(&e, WDT_NO_DATA, "PDPT entry 5");
}

static void read_virt_across_pages(void **state)
{
	struct wdt_vas v = {img, 0x1000, false};
	struct wdt_err e;
	uint8_t b[32];

	(void)state;
	/* K+0xff0..K+0x1010 crosses into the non-present page. */
	assert_int_equal(wdt_read_virt(&v, K + 0xff0, b, 32, &e), -1);
	assert_int_equal(e.status, WDT_NO_DATA);
	assert_int_equal(wdt_read_virt(&v, K + 0xff0, b, 16, &e), 0);
	assert_memory_equal(b, "0123456789abcdef", 16);
}

static void five_level(void **state)
{
	struct wdt_err e;
	uint64_t pa;
	/* PML5 at 0x5000, entry 0x1ff → the PML4 at 0x1000. */
	put(0x5000 + 8 * 0x1ff, 0x1000 | P);
	struct wdt_vas v = {img, 0x5000, true};
	uint64_t va = 0xff00000000000000ull | (K & 0x00ffffffffffffffull);

	(void)state;
	assert_int_equal(wdt_vtop(&v, va + 0x123, &pa, NULL, &e), 0);
	assert_int_equal(pa, 0x10123);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(four_k_page_masks_software_bits),
	    cmocka_unit_test(large_pages),
	    cmocka_unit_test(not_present_and_holes),
	    cmocka_unit_test(non_canonical_rejected),
	    cmocka_unit_test(self_map_and_pml4_ps_ignored),
	    cmocka_unit_test(read_virt_across_pages),
	    cmocka_unit_test(five_level),
	};
	return cmocka_run_group_tests_name("core/paging", tests, setup,
					   teardown);
}
