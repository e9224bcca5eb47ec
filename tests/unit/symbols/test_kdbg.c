/* SPDX-License-Identifier: MIT */
/*
 * KdDebuggerDataBlock helpers (symbols/kdbg.c) that need no guest: the
 * field tables, field reads bounded by Header.Size, the Windows 8+
 * encoding over several words, and the refusal without a located kernel.
 * Locating and decoding a block in a guest (cleartext and encoded) is
 * tested on the QEMU fixtures by t0601; a hand-built guest for it is left
 * to a later change (see the report of issue 15).
 */
#include <stdlib.h>

#include "core/bytes.h"
#include "symbols/kdbg.h"
#include "testutil.h"

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
		assert_true(wdt_kdver_fields[i].off + wdt_kdver_fields[i].size <=
			    WDT_KDVER_SIZE);
}

static void test_get(void **state)
{
	(void)state;
	uint8_t plain[0x40] = { 0 };
	struct wdt_kdbg d = { .plain = plain, .size = 0x28 };

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
	struct wdt_err e = { 0 };

	memset(&k, 0, sizeof(k));
	assert_int_equal(wdt_kdbg_find(&k, NULL, &d, &e), -1);
	assert_err(&e, WDT_INTERNAL, "kernel not located");
	wdt_kdbg_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_tables),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_encoding_blocks),
		cmocka_unit_test(test_find_needs_kernel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
