/* SPDX-License-Identifier: MIT */
/*
 * Kernel discovery on hand-built memory images (page tables, a
 * KUSER_SHARED_DATA page, a processor start block), the KDBG encoding, and
 * the CONTEXT built from a CPU. Whole guests are tested in t0601/t0701.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "formats/dmp_layout.h"
#include "symbols/crashhdr.h"
#include "symbols/kdbg.h"
#include "symbols/kernel.h"
#include "testutil.h"

#define MEM (4u << 20)
#define PML4 0x200000u
#define PDPT 0x201000u
#define PD 0x202000u
#define PT 0x203000u
#define KUSD_PA 0x300000u

/* PML4 at PML4 mapping KUSER_SHARED_DATA (Windows 10.0) in m. */
static void put_windows(uint8_t *m)
{
	uint64_t va = WDT_KUSER_VA;

	wdt_put_le64(m + PML4 + 8 * ((va >> 39) & 511), PDPT | 3);
	wdt_put_le64(m + PDPT + 8 * ((va >> 30) & 511), PD | 3);
	wdt_put_le64(m + PD + 8 * ((va >> 21) & 511), PT | 3);
	wdt_put_le64(m + PT + 8 * ((va >> 12) & 511), KUSD_PA | 3);
	wdt_put_le32(m + KUSD_PA + 0x26C, 10); /* NtMajorVersion */
	wdt_put_le32(m + KUSD_PA + 0x270, 0);
}

static uint8_t *mem_with_windows(void)
{
	uint8_t *m = calloc(1, MEM);

	assert_non_null(m);
	put_windows(m);
	return m;
}

static struct wdt_image *open_raw(uint8_t *m)
{
	struct wdt_err e = {0};
	struct wdt_image *img = wdt_test_open_mem(m, MEM, "raw", &e);

	if (!img)
		fail_msg("%s", e.msg);
	return img;
}

static void test_dtb_ok(void **state)
{
	(void)state;
	uint8_t *m = mem_with_windows();
	struct wdt_image *img = open_raw(m);
	char why[200];

	assert_true(wdt_kernel_dtb_ok(img, PML4, why, sizeof(why)));
	/* PCID bits in CR3 are ignored. */
	assert_true(wdt_kernel_dtb_ok(img, PML4 | 0x5, why, sizeof(why)));
	assert_false(wdt_kernel_dtb_ok(img, PDPT, why, sizeof(why)));
	assert_non_null(strstr(why, "does not map KUSER_SHARED_DATA"));
	assert_false(wdt_kernel_dtb_ok(img, 0x40000000, why, sizeof(why)));
	assert_non_null(strstr(why, "outside physical memory"));
	/* A mapped page whose version is not Windows'. */
	wdt_put_le32(m + KUSD_PA + 0x26C, 3);
	assert_false(wdt_kernel_dtb_ok(img, PML4, why, sizeof(why)));
	assert_non_null(strstr(why, "3.0 is not Windows'"));
	wdt_image_close(img);
	free(m);
}

/* Without a kernel PE the DTB is still found and reported; base is not. */
static void test_low_stub_then_no_kernel(void **state)
{
	(void)state;
	uint8_t *m = mem_with_windows();
	struct wdt_image *img;
	struct wdt_kernel k;
	struct wdt_err e = {0};
	uint8_t *psb = m + 0x7000;

	wdt_put_le64(psb, 0x00000001000600E9ull | 0x1200);
	wdt_put_le64(psb + 0x70, 0xFFFFF80012345000ull);
	wdt_put_le64(psb + 0xA0, PML4);
	img = open_raw(m);
	assert_int_equal(wdt_kernel_find(img, NULL, &k, &e), -1);
	assert_string_equal(k.dtb_method, "low-stub");
	assert_int_equal(k.vas.dtb, PML4);
	assert_err(&e, WDT_NOT_FOUND, "no Windows kernel image found");
	assert_non_null(strstr(e.msg, "scan ("));
	wdt_kernel_free(&k);
	wdt_image_close(img);
	free(m);
}

static void test_pml4_scan(void **state)
{
	(void)state;
	uint8_t *m = mem_with_windows();
	struct wdt_image *img;
	struct wdt_kernel k;
	struct wdt_err e = {0};

	/* A decoy self-map that does not map KUSER, then the real one. */
	wdt_put_le64(m + 0x100000 + 8 * 300, 0x100000 | 3);
	wdt_put_le64(m + PML4 + 8 * 0x1ED, PML4 | 3);
	img = open_raw(m);
	assert_int_equal(wdt_kernel_find(img, NULL, &k, &e), -1);
	assert_string_equal(k.dtb_method, "pml4-scan");
	assert_int_equal(k.vas.dtb, PML4);
	assert_int_equal(k.self_map_index, 0x1ED);
	wdt_kernel_free(&k);
	wdt_image_close(img);
	free(m);
}

static void test_nothing(void **state)
{
	(void)state;
	uint8_t *m = calloc(1, MEM);
	struct wdt_image *img = open_raw(m);
	struct wdt_kernel k;
	struct wdt_err e = {0};

	assert_int_equal(wdt_kernel_find(img, NULL, &k, &e), -1);
	assert_err(&e, WDT_NOT_FOUND, "no Windows kernel page tables found");
	assert_non_null(strstr(e.msg, "cpu-cr3 ("));
	assert_non_null(strstr(e.msg, "low-stub ("));
	assert_non_null(strstr(e.msg, "pml4-scan ("));
	assert_int_equal(e.remedy, WDT_REMEDY_DTB);
	wdt_kernel_free(&k);
	wdt_image_close(img);
	free(m);
}

/*
 * Tables mapping the 32 GiB kernel scan range with 2 MiB pages: 32 PDPT
 * entries to one page directory whose 512 entries map frame + (distinct ?
 * 2 MiB * (j % nbig) : 0); every page of those frames starts with MZ.
 */
static uint8_t *mem_hostile(size_t size, uint64_t frame, bool distinct)
{
	uint8_t *m = calloc(1, size);
	uint64_t va = WDT_KERNEL_RANGE_START, kpdpt = 0x204000, kpd = 0x205000;
	uint64_t nbig = (size - frame) >> 21, end;

	assert_non_null(m);
	put_windows(m);
	wdt_put_le64(m + PML4 + 8 * 0x1ED, PML4 | 3); /* for pml4-scan */
	wdt_put_le64(m + PML4 + 8 * ((va >> 39) & 511), kpdpt | 3);
	for (unsigned i = 0; i < 32; i++)
		wdt_put_le64(m + kpdpt + 8 * (((va >> 30) & 511) + i), kpd | 3);
	for (unsigned j = 0; j < 512; j++)
		wdt_put_le64(m + kpd + 8 * j,
			     (frame + (distinct ? (j % nbig) << 21 : 0)) |
				 0x83);
	end = distinct ? frame + (nbig << 21) : frame + (2u << 20);
	for (uint64_t pa = frame; pa < end; pa += WDT_PAGE_SIZE)
		memcpy(m + pa, "MZ", 2);
	return m;
}

/* 8,388,608 virtual pages on 512 frames: each frame is looked at once. */
static void test_scan_each_frame_once(void **state)
{
	(void)state;
	uint8_t *m = mem_hostile(MEM, 0, false);
	struct wdt_image *img = open_raw(m);
	struct wdt_kernel k;
	struct wdt_err e = {0};

	assert_int_equal(wdt_kernel_find(img, NULL, &k, &e), -1);
	assert_string_equal(k.dtb_method, "pml4-scan");
	assert_err(&e, WDT_NOT_FOUND, "no Windows kernel image found");
	assert_non_null(strstr(e.msg, "scan (512 mapped pages in "));
	assert_non_null(strstr(e.msg, ", 512 with MZ, none a kernel PE"));
	assert_int_equal(e.remedy, WDT_REMEDY_NONE);
	assert_false(k.scan_capped);
	wdt_kernel_free(&k);
	wdt_image_close(img);
	free(m);
}

/* More distinct MZ frames than the cap: a clear error and a remedy. */
static void test_scan_cap(void **state)
{
	(void)state;
	size_t size = 32u << 20;
	uint8_t *m = mem_hostile(size, 0x400000, true);
	struct wdt_err e = {0};
	struct wdt_image *img = wdt_test_open_mem(m, size, "raw", &e);
	struct wdt_kernel k;
	char cap[64];

	if (!img)
		fail_msg("%s", e.msg);
	assert_int_equal(wdt_kernel_find(img, NULL, &k, &e), -1);
	snprintf(cap, sizeof(cap), "stopped at its cap of %u MZ pages",
		 WDT_KERNEL_SCAN_MAX_MZ);
	assert_err(&e, WDT_NOT_FOUND, "no Windows kernel image found");
	assert_non_null(strstr(e.msg, cap));
	assert_int_equal(e.remedy, WDT_REMEDY_KERNEL_BASE);
	assert_true(k.scan_capped);
	wdt_kernel_free(&k);
	wdt_image_close(img);
	free(m);
}

static void test_context_ok(void **state)
{
	(void)state;
	struct wdt_cpu c = {0};
	uint8_t ctx[WDT_CTX_SIZE], bad[WDT_CTX_SIZE];
	char why[120];
	static const struct {
		uint32_t off, width;
		uint64_t v;
		const char *why;
	} cases[] = {
	    {WDT_CTX_RIP, 8, 0x4547415045474150ull, "is a fill pattern"},
	    {WDT_CTX_RAX + 32, 8, 0xFFFFFFFFFFFFFFFFull, "is a fill pattern"},
	    {WDT_CTX_RIP, 8, 0x0000800000001000ull,
	     "Rip 0x0000800000001000 is not canonical"},
	    {WDT_CTX_RAX + 32, 8, 0xFFFF7FFFFFFFF000ull,
	     "Rsp 0xffff7ffffffff000 is not canonical"},
	    {WDT_CTX_SEG_CS, 2, 0x23, "SegCs 0x23 is not 64-bit code"},
	    {WDT_CTX_SEG_SS, 2, 0x1234, "SegSs 0x1234 is not a stack"},
	    {WDT_CTX_MXCSR, 4, 0x1F81, "MxCsr differs"},
	};

	c.have = WDT_CPU_HAVE_GPRS | WDT_CPU_HAVE_SEGS;
	c.regs[WDT_RIP] = 0xFFFFF80012345678ull;
	c.regs[WDT_RSP] = 0xFFFF8A0012345000ull;
	c.segs[WDT_CS].selector = 0x10;
	c.segs[WDT_SS].selector = 0x18;
	wdt_crash_context(&c, ctx);
	assert_true(wdt_crash_context_ok(ctx, why, sizeof(why)));
	/* User mode, and SS 0 (a NULL stack selector is legal in ring 0). */
	c.segs[WDT_CS].selector = 0x33;
	c.segs[WDT_SS].selector = 0x2B;
	c.regs[WDT_RIP] = 0x00007FF612345678ull;
	wdt_crash_context(&c, bad);
	assert_true(wdt_crash_context_ok(bad, why, sizeof(why)));
	wdt_put_le16(bad + WDT_CTX_SEG_SS, 0);
	assert_true(wdt_crash_context_ok(bad, why, sizeof(why)));

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, ctx, sizeof(bad));
		if (cases[i].width == 8)
			wdt_put_le64(bad + cases[i].off, cases[i].v);
		else if (cases[i].width == 4)
			wdt_put_le32(bad + cases[i].off, (uint32_t)cases[i].v);
		else
			wdt_put_le16(bad + cases[i].off, (uint16_t)cases[i].v);
		assert_false(wdt_crash_context_ok(bad, why, sizeof(why)));
		if (!strstr(why, cases[i].why))
			fail_msg("case %zu: '%s' lacks '%s'", i, why,
				 cases[i].why);
	}
	/* All 'PAGE' or zero: unset; 'PAGE' with one byte changed: a fill. */
	for (size_t i = 0; i < sizeof(bad); i += 4)
		memcpy(bad + i, "PAGE", 4);
	assert_false(wdt_crash_context_ok(bad, why, sizeof(why)));
	assert_non_null(strstr(why, "unset"));
	bad[0x100] ^= 1;
	assert_false(wdt_crash_context_ok(bad, why, sizeof(why)));
	assert_non_null(strstr(why, "Rip 0x4547415045474150"));
	memset(bad, 0, sizeof(bad));
	assert_false(wdt_crash_context_ok(bad, why, sizeof(why)));
	assert_non_null(strstr(why, "unset"));
}

static void test_kdbg_encoding(void **state)
{
	(void)state;
	uint8_t plain[32], enc[32], back[32];
	const uint64_t n = 0x07EE96FA6CF98338ull; /* rotation 56 */
	const uint64_t a = 0x05257A00B93CE49Dull;
	const uint64_t f = 0xFFFFF8033740A3D0ull;

	for (int i = 0; i < 32; i++)
		plain[i] = (uint8_t)(i * 37 + 1);
	wdt_kdbg_encode(plain, enc, 4, n, a, f);
	assert_memory_not_equal(plain, enc, 32);
	wdt_kdbg_decode(enc, back, 4, n, a, f);
	assert_memory_equal(plain, back, 32);

	/* By hand: rotation 0, no address, no always-key: bswap(w ^ n). */
	uint8_t w[8], out[8];
	wdt_put_le64(w, 0x1122334455667788ull ^ 0x40ull);
	wdt_kdbg_decode(w, out, 1, 0x40, 0, 0);
	assert_int_equal(wdt_le64(out), 0x8877665544332211ull);
	/* Rotation by 8 (n & 63), then the address, then bswap, then a. */
	wdt_put_le64(w, 0x00000000000000FFull ^ 0x8ull);
	wdt_kdbg_decode(w, out, 1, 0x8, 0x1, 0xFF00);
	/* rol8(0xFF) = 0xFF00; ^ 0xFF00 = 0; bswap 0 = 0; ^ 1 = 1 */
	assert_int_equal(wdt_le64(out), 1);
}

static void test_context(void **state)
{
	(void)state;
	struct wdt_cpu c = {0};
	uint8_t ctx[WDT_CTX_SIZE];

	c.have = WDT_CPU_HAVE_GPRS | WDT_CPU_HAVE_SEGS;
	for (int r = 0; r < WDT_NREGS; r++)
		c.regs[r] = 0x1000 + (uint64_t)r;
	c.segs[WDT_CS].selector = 0x10;
	c.segs[WDT_SS].selector = 0x18;
	c.segs[WDT_GS].selector = 0x2B;
	wdt_crash_context(&c, ctx);
	assert_int_equal(wdt_le32(ctx + WDT_CTX_FLAGS), 0x100007);
	assert_int_equal(wdt_le32(ctx + WDT_CTX_MXCSR),
			 wdt_le32(ctx + WDT_CTX_FLT_MXCSR));
	/* Rax Rcx Rdx Rbx, not QEMU's a b c d order. */
	assert_int_equal(wdt_le64(ctx + WDT_CTX_RAX), 0x1000 + WDT_RAX);
	assert_int_equal(wdt_le64(ctx + WDT_CTX_RAX + 8), 0x1000 + WDT_RCX);
	assert_int_equal(wdt_le64(ctx + WDT_CTX_RAX + 16), 0x1000 + WDT_RDX);
	assert_int_equal(wdt_le64(ctx + WDT_CTX_RAX + 24), 0x1000 + WDT_RBX);
	assert_int_equal(wdt_le64(ctx + WDT_CTX_RAX + 32), 0x1000 + WDT_RSP);
	assert_int_equal(wdt_le64(ctx + WDT_CTX_RAX + 15 * 8),
			 0x1000 + WDT_R15);
	assert_int_equal(wdt_le64(ctx + WDT_CTX_RIP), 0x1000 + WDT_RIP);
	assert_int_equal(wdt_le32(ctx + WDT_CTX_EFLAGS), 0x1000 + WDT_RFLAGS);
	assert_int_equal(wdt_le16(ctx + WDT_CTX_SEG_CS), 0x10);
	assert_int_equal(wdt_le16(ctx + WDT_CTX_SEG_SS), 0x18);
	assert_int_equal(wdt_le16(ctx + WDT_CTX_SEG_GS), 0x2B);
}

static void test_attempts(void **state)
{
	(void)state;
	struct wdt_attempts a = {0};
	char buf[64];

	wdt_attempt_add(&a, "dtb", "one", false, "first %d", 1);
	wdt_attempt_add(&a, "kernel", "x", false, "other step");
	wdt_attempt_add(&a, "dtb", "two", true, "worked");
	wdt_attempt_add(&a, "dtb", "three", false, "third");
	wdt_attempts_summary(&a, "dtb", buf, sizeof(buf));
	assert_string_equal(buf, "one (first 1); three (third)");
	wdt_attempts_summary(&a, "dtb", buf, 12);
	assert_int_equal(strlen(buf), 11);
	/* Details are heap strings: a long one arrives whole. */
	{
		static char path[4096];

		memset(path, 'p', sizeof(path) - 1);
		wdt_attempt_add(&a, "pdb", "symbol-path", false, "save as %s",
				path);
		assert_int_equal(strlen(a.v[a.n - 1].detail), 8 + 4095);
	}
	wdt_attempts_free(&a);
	assert_int_equal(a.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dtb_ok),
	    cmocka_unit_test(test_low_stub_then_no_kernel),
	    cmocka_unit_test(test_pml4_scan),
	    cmocka_unit_test(test_nothing),
	    cmocka_unit_test(test_scan_each_frame_once),
	    cmocka_unit_test(test_scan_cap),
	    cmocka_unit_test(test_context_ok),
	    cmocka_unit_test(test_kdbg_encoding),
	    cmocka_unit_test(test_context),
	    cmocka_unit_test(test_attempts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
