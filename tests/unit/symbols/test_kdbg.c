/* SPDX-License-Identifier: MIT */
/*
 * KdDebuggerDataBlock (symbols/kdbg.c): the field tables, field reads
 * bounded by Header.Size, the Windows 8+ encoding over a block; then, over
 * the shared hand-built guest (tests/unit/helpers/guest.h), finding the
 * block without a PDB in the kernel's data (cleartext, and encoded with
 * the keys recovered by known plaintext), its fields and consistency
 * checks, KiProcessorBlock and the KPRCB CONTEXT, and the failures with
 * their messages. Real guests are tested in t0601.
 */
#include <stdlib.h>

#include "core/bytes.h"
#include "symbols/kdbg.h"
#include "symbols/pe.h"
#include "testutil.h"
#include "testdata.h"
#include "guest.h"

static const char *argv0;
static struct wdt_test_guest g;

static void test_field_tables(void **state)
{
	(void)state;
	bool saw_tag = false, saw_base = false;

	assert_true(wdt_kdbg_nfields > 10);
	for (size_t i = 0; i < wdt_kdbg_nfields; i++) {
		const struct wdt_kdbg_field *f = &wdt_kdbg_fields[i];

		assert_non_null(f->name);
		assert_true(f->size == 1 || f->size == 2 || f->size == 4 ||
			    f->size == 8);
		assert_true(f->off + f->size <= WDT_KDBG_MAX_SIZE);
		if (i)
			assert_true(f->off > wdt_kdbg_fields[i - 1].off);
		saw_tag |= f->off == WDT_KDBG_OWNER_TAG;
		saw_base |= f->off == WDT_KDBG_KERN_BASE && f->size == 8;
	}
	assert_true(saw_tag);
	assert_true(saw_base);
	for (size_t i = 0; i < wdt_kdver_nfields; i++)
		assert_true(wdt_kdver_fields[i].off +
				wdt_kdver_fields[i].size <=
			    WDT_KDVER_SIZE);
}

static void test_get(void **state)
{
	(void)state;
	uint8_t plain[0x40] = {0};
	struct wdt_kdbg d = {.plain = plain, .size = 0x28};

	wdt_put_le32(plain + WDT_KDBG_OWNER_TAG, WDT_KDBG_TAG);
	wdt_put_le64(plain + WDT_KDBG_KERN_BASE, 0xFFFFF80012345000ull);
	wdt_put_le16(plain + 0x20, 0xBEEF);
	plain[0x22] = 0x7F;
	assert_int_equal(wdt_kdbg_get(&d, WDT_KDBG_KERN_BASE, 8),
			 0xFFFFF80012345000ull);
	assert_int_equal(wdt_kdbg_get(&d, WDT_KDBG_OWNER_TAG, 4), WDT_KDBG_TAG);
	assert_int_equal(wdt_kdbg_get(&d, 0x20, 2), 0xBEEF);
	assert_int_equal(wdt_kdbg_get(&d, 0x22, 1), 0x7F);
	/* Beyond Header.Size reads as 0, even partly. */
	wdt_put_le64(plain + 0x28, 0x1111);
	assert_int_equal(wdt_kdbg_get(&d, 0x28, 8), 0);
	assert_int_equal(wdt_kdbg_get(&d, 0x24, 8), 0);
	d.size = 0x30;
	assert_int_equal(wdt_kdbg_get(&d, 0x28, 8), 0x1111);
	d.plain = NULL;
	assert_int_equal(wdt_kdbg_get(&d, WDT_KDBG_KERN_BASE, 8), 0);
}

/* Each word's encoding depends on its own value only: decoding a block
 * word by word equals decoding it at once, and a wrong key does not give
 * the cleartext back. */
static void test_encoding_blocks(void **state)
{
	(void)state;
	enum { N = WDT_KDBG_MIN_SIZE / 8 };
	uint8_t plain[N * 8], enc[N * 8], back[N * 8];
	const uint64_t n = 0x3C1E0F0787C3E1F0ull, a = 0x0123456789ABCDEFull;
	const uint64_t f = 0xFFFFF8033740A3D0ull;

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 11 + 3);
	wdt_put_le32(plain + WDT_KDBG_OWNER_TAG, WDT_KDBG_TAG);
	wdt_kdbg_encode(plain, enc, N, n, a, f);
	assert_int_not_equal(wdt_le32(enc + WDT_KDBG_OWNER_TAG), WDT_KDBG_TAG);
	for (size_t w = 0; w < N; w++)
		wdt_kdbg_decode(enc + 8 * w, back + 8 * w, 1, n, a, f);
	assert_memory_equal(plain, back, sizeof(plain));
	/* In place, as decode_at does. */
	memcpy(back, enc, sizeof(back));
	wdt_kdbg_decode(back, back, N, n, a, f);
	assert_memory_equal(plain, back, sizeof(plain));
	/* The KdpDataBlockEncoded address is part of the key. */
	wdt_kdbg_decode(enc, back, N, n, a, f + 8);
	assert_memory_not_equal(plain, back, sizeof(plain));
}

static void test_find_needs_kernel(void **state)
{
	(void)state;
	struct wdt_kernel k;
	struct wdt_kdbg d;
	struct wdt_err e = {0};

	memset(&k, 0, sizeof(k));
	assert_int_equal(wdt_kdbg_find(&k, NULL, &d, &e), -1);
	assert_err(&e, WDT_INTERNAL, "kernel not located");
	wdt_kdbg_free(&d);
}

/* ---- over the guest ---- */

#define WAIT_NEVER 0x07EE96FA6CF98338ull /* rotation 56 */
#define WAIT_ALWAYS 0x05257A00B93CE49Dull
#define NEVER_VA (TG_KB + 0x3800) /* in .data, after the block */
#define ALWAYS_VA (TG_KB + 0x3808)
#define FLAG_VA (TG_KB + 0x3810) /* KdpDataBlockEncoded */

static int setup(void **state)
{
	(void)state;
	if (td_build(argv0) != 0)
		return -1;
	return wdt_tg_init(&g, td_path("wdttest.dll"));
}

static int teardown(void **state)
{
	(void)state;
	wdt_tg_free(&g);
	return 0;
}

static const char *const check_names[7] = {
    "owner-tag",
    "kern-base",
    "debugger-data-list",
    "ps-loaded-module-list",
    "ps-active-process-head",
    "ki-processor-block",
    "mm-pfn-database",
};

static void expect_checks_pass(const struct wdt_kdbg *d)
{
	assert_int_equal(d->nchecks, 7);
	for (size_t i = 0; i < d->nchecks; i++) {
		assert_string_equal(d->checks[i].name, check_names[i]);
		if (!d->checks[i].ok)
			fail_msg("%s: %s", d->checks[i].name,
				 d->checks[i].detail);
	}
}

static void test_find_cleartext(void **state)
{
	(void)state;
	struct wdt_kdbg d;
	struct wdt_err e = {0};

	wdt_tg_build(&g);
	if (wdt_kdbg_find(&g.k, NULL, &d, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(d.method, "cleartext-scan");
	assert_false(d.encoded);
	assert_int_equal(d.va, TG_KDBG_VA);
	assert_int_equal(d.size, TG_KDBG_SIZE);
	assert_memory_equal(d.plain, g.plain, TG_KDBG_SIZE);
	assert_int_equal(d.wait_never, 0);
	assert_int_equal(d.wait_always, 0);
	assert_false(d.pdb_used);
	assert_string_equal(d.pdb_note, WDT_KDBG_NOTE_NO_PDB);
	expect_checks_pass(&d);
	assert_int_equal(wdt_kdbg_get(&d, WDT_KDBG_KERN_BASE, 8), TG_KB);
	assert_non_null(strstr(d.checks[0].detail, "OwnerTag 0x4742444b"));
	wdt_kdbg_free(&d);
	wdt_tg_done(&g);
}

/*
 * A copy of the test DLL whose .data covers its whole page, so the keys
 * can live after the block (the real .data is 0x90 bytes).
 */
static struct wdt_pe *wide_data_pe(uint8_t **file, struct wdt_source **src)
{
	const struct wdt_pe_headers *h = wdt_pe_headers(g.k.pe);
	const struct wdt_pe_section *s;
	struct wdt_err e = {0};
	struct wdt_pe *pe;
	size_t n, len = 0;

	*file = td_slurp(g.dll_path, &len);
	assert_non_null(*file);
	s = wdt_pe_sections(g.k.pe, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s[i].name, ".data"))
			wdt_put_le32(*file + h->sections_off + 40 * i + 8,
				     0x1000);
	*src = wdt_source_open_mem(*file, len, "wide.dll", &e);
	assert_non_null(*src);
	pe = wdt_pe_open_source(*src, &e);
	if (!pe)
		fail_msg("%s", e.msg);
	return pe;
}

static void test_find_encoded(void **state)
{
	(void)state;
	struct wdt_kdbg d;
	struct wdt_err e = {0};
	struct wdt_pe *orig;
	struct wdt_source *src;
	uint8_t *file;

	wdt_tg_build(&g);
	orig = g.k.pe;
	g.k.pe = wide_data_pe(&file, &src);
	wdt_kdbg_encode(g.plain, wdt_tg_at(&g, TG_KDBG_VA), TG_KDBG_SIZE / 8,
			WAIT_NEVER, WAIT_ALWAYS, FLAG_VA);
	wdt_put_le64(wdt_tg_at(&g, NEVER_VA), WAIT_NEVER);
	wdt_put_le64(wdt_tg_at(&g, ALWAYS_VA), WAIT_ALWAYS);
	*wdt_tg_at(&g, FLAG_VA) = 1;
	if (wdt_kdbg_find(&g.k, NULL, &d, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(d.method, "known-plaintext");
	assert_true(d.encoded);
	assert_int_equal(d.va, TG_KDBG_VA);
	assert_int_equal(d.size, TG_KDBG_SIZE);
	assert_memory_equal(d.plain, g.plain, TG_KDBG_SIZE);
	assert_int_equal(d.wait_never, WAIT_NEVER);
	assert_int_equal(d.wait_always, WAIT_ALWAYS);
	assert_int_equal(d.flag_va, FLAG_VA);
	assert_int_equal(d.flag_value, 1);
	assert_int_equal(d.wait_never_va, NEVER_VA);
	assert_int_equal(d.wait_always_va, ALWAYS_VA);
	expect_checks_pass(&d);
	wdt_kdbg_free(&d);

	/* Without the flag byte there is no key set to try. */
	*wdt_tg_at(&g, FLAG_VA) = 0;
	assert_int_equal(wdt_kdbg_find(&g.k, NULL, &d, &e), -1);
	assert_err(&e, WDT_NOT_FOUND,
		   "no KdDebuggerDataBlock found in the kernel's data sections "
		   "(cleartext scan and known-plaintext recovery of the "
		   "Windows 8+ keys both failed)");
	wdt_kdbg_free(&d);
	wdt_pe_close(g.k.pe);
	wdt_source_close(src);
	free(file);
	g.k.pe = orig;
	wdt_tg_done(&g);
}

static void test_find_failures(void **state)
{
	(void)state;
	struct wdt_kdbg d;
	struct wdt_err e = {0};

	/* A cleartext header with an implausible Header.Size is skipped. */
	wdt_tg_build(&g);
	wdt_put_le32(wdt_tg_at(&g, TG_KDBG_VA) + WDT_KDBG_SIZE, 0x100);
	assert_int_equal(wdt_kdbg_find(&g.k, NULL, &d, &e), -1);
	assert_err(&e, WDT_NOT_FOUND, "no KdDebuggerDataBlock found");
	bool logged = false;
	for (size_t i = 0; i < g.k.log.n; i++)
		logged |= !strcmp(g.k.log.v[i].method, "known-plaintext") &&
			  !g.k.log.v[i].ok &&
			  strstr(g.k.log.v[i].detail, "of 7 checks") != NULL;
	assert_true(logged);
	wdt_kdbg_free(&d);
	wdt_tg_done(&g);

	/* A kernel image too large to search. */
	wdt_tg_build(&g);
	g.k.size_of_image = 65u << 20;
	assert_int_equal(wdt_kdbg_find(&g.k, NULL, &d, &e), -1);
	assert_err(&e, WDT_UNSUPPORTED,
		   "kernel image of 68157440 bytes is too large to search");
	wdt_kdbg_free(&d);
	wdt_tg_done(&g);
}

static void test_processors(void **state)
{
	(void)state;
	uint64_t prcbs[8], va;
	uint32_t n;
	struct wdt_err e = {0};

	wdt_tg_build(&g);
	assert_int_equal(wdt_kdbg_prcbs(&g.k, &g.d, prcbs, 8, &n, &e), 0);
	assert_int_equal(n, TG_NCPUS);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(prcbs[i], TG_PRCB(i));
	assert_int_equal(wdt_kdbg_prcbs(&g.k, &g.d, prcbs, 2, &n, &e), 0);
	assert_int_equal(n, 2);
	/* The Context pointer (OffsetPrcbContext) ... */
	assert_int_equal(wdt_kdbg_prcb_context(&g.k, &g.d, TG_PRCB(1), &va, &e),
			 0);
	assert_int_equal(va, TG_CTX(1));
	/* ... else the embedded ProcessorState.ContextFrame ... */
	wdt_put_le16(g.plain + WDT_KDBG_OFFSET_PRCB_CONTEXT, 0);
	wdt_put_le16(g.plain + WDT_KDBG_OFFSET_PRCB_PROC_STATE_CONTEXT, 0x40);
	assert_int_equal(wdt_kdbg_prcb_context(&g.k, &g.d, TG_PRCB(1), &va, &e),
			 0);
	assert_int_equal(va, TG_PRCB(1) + 0x40);
	/* ... else nothing. */
	wdt_put_le16(g.plain + WDT_KDBG_OFFSET_PRCB_PROC_STATE_CONTEXT, 0);
	assert_int_equal(wdt_kdbg_prcb_context(&g.k, &g.d, TG_PRCB(1), &va, &e),
			 -1);
	assert_err(&e, WDT_NOT_FOUND, "KDBG gives no KPRCB context offset");
	/* An empty KiProcessorBlock. */
	wdt_put_le64(wdt_tg_at(&g, TG_KPB), 0);
	assert_int_equal(wdt_kdbg_prcbs(&g.k, &g.d, prcbs, 8, &n, &e), -1);
	assert_err(&e, WDT_CORRUPT,
		   "KiProcessorBlock at 0xfffff80000001100 lists no processor");
	wdt_tg_done(&g);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_field_tables),
	    cmocka_unit_test(test_get),
	    cmocka_unit_test(test_encoding_blocks),
	    cmocka_unit_test(test_find_needs_kernel),
	    cmocka_unit_test(test_find_cleartext),
	    cmocka_unit_test(test_find_encoded),
	    cmocka_unit_test(test_find_failures),
	    cmocka_unit_test(test_processors),
	};

	(void)argc;
	argv0 = argv[0];
	return cmocka_run_group_tests(tests, setup, teardown);
}
