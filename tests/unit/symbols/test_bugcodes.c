/* SPDX-License-Identifier: MIT */
/*
 * The bugcheck table: its shape (sorted, unique, well-formed), names of the
 * codes triage meets most (from Microsoft's bug check reference), and which
 * parameter each code blames.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "symbols/bugcodes.h"

/* Codes the table must hold, with their SDK names. */
static const struct {
	uint32_t code;
	const char *name;
} known[] = {
    {0x01, "APC_INDEX_MISMATCH"},
    {0x0A, "IRQL_NOT_LESS_OR_EQUAL"},
    {0x19, "BAD_POOL_HEADER"},
    {0x1A, "MEMORY_MANAGEMENT"},
    {0x1E, "KMODE_EXCEPTION_NOT_HANDLED"},
    {0x24, "NTFS_FILE_SYSTEM"},
    {0x3B, "SYSTEM_SERVICE_EXCEPTION"},
    {0x3D, "INTERRUPT_EXCEPTION_NOT_HANDLED"},
    {0x44, "MULTIPLE_IRP_COMPLETE_REQUESTS"},
    {0x4E, "PFN_LIST_CORRUPT"},
    {0x50, "PAGE_FAULT_IN_NONPAGED_AREA"},
    {0x7A, "KERNEL_DATA_INPAGE_ERROR"},
    {0x7B, "INACCESSIBLE_BOOT_DEVICE"},
    {0x7E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED"},
    {0x7F, "UNEXPECTED_KERNEL_MODE_TRAP"},
    {0x80, "NMI_HARDWARE_FAILURE"},
    {0x8E, "KERNEL_MODE_EXCEPTION_NOT_HANDLED"},
    {0x9C, "MACHINE_CHECK_EXCEPTION"},
    {0x9F, "DRIVER_POWER_STATE_FAILURE"},
    {0xA0, "INTERNAL_POWER_ERROR"},
    {0xBE, "ATTEMPTED_WRITE_TO_READONLY_MEMORY"},
    {0xC1, "SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION"},
    {0xC2, "BAD_POOL_CALLER"},
    {0xC4, "DRIVER_VERIFIER_DETECTED_VIOLATION"},
    {0xC5, "DRIVER_CORRUPTED_EXPOOL"},
    {0xC7, "TIMER_OR_DPC_INVALID"},
    {0xC9, "DRIVER_VERIFIER_IOMANAGER_VIOLATION"},
    {0xCA, "PNP_DETECTED_FATAL_ERROR"},
    {0xCE, "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS"},
    {0xD1, "DRIVER_IRQL_NOT_LESS_OR_EQUAL"},
    {0xD5, "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL"},
    {0xD6, "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION"},
    {0xDA, "SYSTEM_PTE_MISUSE"},
    {0xE2, "MANUALLY_INITIATED_CRASH"},
    {0xEF, "CRITICAL_PROCESS_DIED"},
    {0xF4, "CRITICAL_OBJECT_TERMINATION"},
    {0xF7, "DRIVER_OVERRAN_STACK_BUFFER"},
    {0xFC, "ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY"},
    {0xFE, "BUGCODE_USB_DRIVER"},
    {0x101, "CLOCK_WATCHDOG_TIMEOUT"},
    {0x109, "CRITICAL_STRUCTURE_CORRUPTION"},
    {0x10D, "WDF_VIOLATION"},
    {0x10E, "VIDEO_MEMORY_MANAGEMENT_INTERNAL"},
    {0x116, "VIDEO_TDR_FAILURE"},
    {0x117, "VIDEO_TDR_TIMEOUT_DETECTED"},
    {0x119, "VIDEO_SCHEDULER_INTERNAL_ERROR"},
    {0x124, "WHEA_UNCORRECTABLE_ERROR"},
    {0x127, "PAGE_NOT_ZERO"},
    {0x12B, "FAULTY_HARDWARE_CORRUPTED_PAGE"},
    {0x133, "DPC_WATCHDOG_VIOLATION"},
    {0x139, "KERNEL_SECURITY_CHECK_FAILURE"},
    {0x13A, "KERNEL_MODE_HEAP_CORRUPTION"},
    {0x144, "BUGCODE_USB3_DRIVER"},
    {0x154, "UNEXPECTED_STORE_EXCEPTION"},
    {0x15F, "CONNECTED_STANDBY_WATCHDOG_TIMEOUT_LIVEDUMP"},
    {0x160, "WIN32K_ATOMIC_CHECK_FAILURE"},
    {0x161, "LIVE_SYSTEM_DUMP"},
    {0x17E, "MICROCODE_REVISION_MISMATCH"},
    {0x187, "VIDEO_DWMINIT_TIMEOUT_FALLBACK_BDD"},
    {0x191, "PF_DETECTED_CORRUPTION"},
    {0x1A3, "CALL_HAS_NOT_RETURNED_WATCHDOG_TIMEOUT_LIVEDUMP"},
    {0x1C8, "MANUALLY_INITIATED_POWER_BUTTON_HOLD"},
    {0x1D4, "UCMUCSI_LIVEDUMP"},
    {0x1E4, "VIDEO_DXGKRNL_SYSMM_FATAL_ERROR"},
    {0x1000007E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M"},
    {0x1000008E, "KERNEL_MODE_EXCEPTION_NOT_HANDLED_M"},
    {0xC000021A, "WINLOGON_FATAL_ERROR"},
};

static int name_ok(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return 0;
	return 1;
}

static void test_table_sorted_and_unique(void **state)
{
	size_t n = 0;
	const struct wdt_bugcode *t = wdt_bugcode_table(&n);

	(void)state;
	assert_non_null(t);
	assert_true(n >= 70);
	for (size_t i = 1; i < n; i++)
		if (t[i - 1].code >= t[i].code)
			fail_msg("entry %zu (0x%X) not above entry %zu (0x%X)",
				 i, t[i].code, i - 1, t[i - 1].code);
	assert_ptr_equal(wdt_bugcode_table(NULL), t);
}

static void test_entries_well_formed(void **state)
{
	size_t n;
	const struct wdt_bugcode *t = wdt_bugcode_table(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		if (!name_ok(t[i].name))
			fail_msg("0x%X: bad name \"%s\"", t[i].code,
				 t[i].name ? t[i].name : "(null)");
		assert_non_null(t[i].summary);
		assert_true(strlen(t[i].summary) > 0);
		for (int p = 0; p < 4; p++) {
			if (!t[i].param[p] || !*t[i].param[p])
				fail_msg("%s: P%d has no meaning", t[i].name,
					 p + 1);
		}
		assert_true(t[i].blame >= WDT_BLAME_NONE &&
			    t[i].blame <= WDT_BLAME_P4);
	}
}

static void test_find_known(void **state)
{
	const struct wdt_bugcode *e;

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		e = wdt_bugcode_find(known[i].code);
		if (!e)
			fail_msg("0x%X (%s) missing", known[i].code,
				 known[i].name);
		assert_int_equal(e->code, known[i].code);
		assert_string_equal(e->name, known[i].name);
	}
	assert_string_equal(wdt_bugcode_find(0xD1)->name,
			    "DRIVER_IRQL_NOT_LESS_OR_EQUAL");
	assert_string_equal(wdt_bugcode_find(0x80)->name,
			    "NMI_HARDWARE_FAILURE");
	assert_string_equal(wdt_bugcode_find(0x161)->name, "LIVE_SYSTEM_DUMP");
}

/* Binary search must reach every entry, first and last included. */
static void test_find_every_entry(void **state)
{
	size_t n;
	const struct wdt_bugcode *t = wdt_bugcode_table(&n);

	(void)state;
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(wdt_bugcode_find(t[i].code), &t[i]);
}

static void test_find_unknown(void **state)
{
	size_t n, gaps = 0;
	const struct wdt_bugcode *t = wdt_bugcode_table(&n);

	(void)state;
	assert_null(wdt_bugcode_find(0x0));
	assert_null(wdt_bugcode_find(0xDEADBEEF));
	assert_null(wdt_bugcode_find(0xFFFFFFFF));
	assert_null(wdt_bugcode_find(0x02)); /* between 0x01 and 0x03 */
	for (size_t i = 1; i < n; i++) {
		if (t[i].code - t[i - 1].code < 2)
			continue;
		assert_null(wdt_bugcode_find(t[i - 1].code + 1));
		assert_null(wdt_bugcode_find(t[i].code - 1));
		gaps++;
	}
	assert_true(gaps > 0);
}

static int blame(uint32_t code, uint64_t p1, uint64_t p2, uint64_t p3,
		 uint64_t p4)
{
	const uint64_t p[4] = {p1, p2, p3, p4};

	return wdt_bugcode_blame_param(code, p);
}

static void test_blame_common(void **state)
{
	const uint64_t rip = 0xfffff8012345abcdull;

	(void)state;
	assert_int_equal(blame(0xD1, 0x28, 2, 0, rip), 3);
	assert_int_equal(blame(0x0A, 0x28, 2, 1, rip), 3);
	assert_int_equal(blame(0x50, 0xffffd0000000ull, 2, rip, 2), 2);
	assert_int_equal(blame(0x7E, 0xc0000005ull, rip, 0xffff1, 0xffff2), 1);
	assert_int_equal(blame(0x1E, 0xc0000005ull, rip, 0, 0), 1);
	assert_int_equal(blame(0x3B, 0xc0000005ull, rip, 0xffff1, 0), 1);
	assert_int_equal(blame(0x8E, 0xc0000005ull, rip, 0xffff1, 0), 1);
	assert_int_equal(blame(0x1000007E, 0xc0000005ull, rip, 1, 1), 1);
	assert_int_equal(blame(0xD5, 0xffff1, 0, rip, 0), 2);
	assert_int_equal(blame(0xD6, 0xffff1, 1, rip, 0), 2);
	assert_int_equal(blame(0xCE, 0xffff1, 0, rip, 0), 2);
	assert_int_equal(blame(0xC5, 0xffff1, 2, 0, rip), 3);
	assert_int_equal(blame(0xFC, rip, 0x8000000012345867ull, 0, 0), 0);
	assert_int_equal(blame(0x133, 0, 0x501, 0x500, 0xfffff1), -1);
	assert_int_equal(blame(0x133, 1, 0x1e00, 0xfffff1, 0), -1);
	assert_int_equal(blame(0x80, 0, 0, 0, 0), -1);
	assert_int_equal(blame(0x7F, 8, 1, 2, 3), -1);
	assert_int_equal(blame(0x101, 0xc, 0, 0xfffff1, 1), -1);
	assert_int_equal(blame(0xEF, 0xffff1, 0, 0, 0), -1);
	assert_int_equal(blame(0x161, 0x005461736b6d6772ull, 0, 0, 0), -1);
}

/* A blamed parameter that is 0 ("if known", and unknown) names nothing. */
static void test_blame_zero_param(void **state)
{
	(void)state;
	assert_int_equal(blame(0xD1, 0x28, 2, 0, 0), -1);
	assert_int_equal(blame(0x50, 0xffffd0000000ull, 0, 0, 2), -1);
	assert_int_equal(blame(0xD5, 0xffff1, 0, 0, 0), -1);
	assert_int_equal(blame(0x7E, 0xc0000005ull, 0, 1, 1), -1);
	assert_int_equal(blame(0xFC, 0, 1, 0, 0), -1);
}

static void test_blame_subtypes(void **state)
{
	const uint64_t fn = 0xfffff80100001000ull;

	(void)state;
	/* BAD_POOL_CALLER 0x9B: P4 is the caller; 0x00 blames nothing. */
	assert_int_equal(blame(0xC2, 0x9B, 0, 0x100, fn), 3);
	assert_int_equal(blame(0xC2, 0x9B, 0, 0x100, 0), -1);
	assert_int_equal(blame(0xC2, 0x00, 0, 0, 0x656e6f4e), -1);
	/* Verifier: completion routine in P2, bad handle reference in P4. */
	assert_int_equal(blame(0xC4, 0xFA, fn, 0, 2), 1);
	assert_int_equal(blame(0xC4, 0xF6, 0x80, 0xffff1, fn), 3);
	assert_int_equal(blame(0xC4, 0xDA, 0xfffff80100000000ull, fn, 0), 2);
	assert_int_equal(blame(0xC4, 0x62, fn, fn, fn), -1);
	/* 0xC8 selects on the low byte of P1 only. */
	assert_int_equal(blame(0xC8, 2u << 16 | 0u << 8 | 3, fn, 1, 0), 1);
	assert_int_equal(blame(0xC8, 0u << 16 | 1u << 8 | 0xFE, 1, 0, 0), -1);
	assert_int_equal(blame(0xC7, 0x2, fn, 1, 2), 1);
	assert_int_equal(blame(0xC7, 0x0, fn, 1, 2), -1);
	assert_int_equal(blame(0xC9, 0x12, fn, 2, 2), 1);
	assert_int_equal(blame(0x10D, 0x4, 0, fn, 0), 2);
	assert_int_equal(blame(0xA0, 0x900, fn, 0, 2), 1);
}

static void test_blame_unknown_or_null(void **state)
{
	const uint64_t p[4] = {1, 2, 3, 4};

	(void)state;
	assert_int_equal(wdt_bugcode_blame_param(0xDEADBEEF, p), -1);
	assert_int_equal(wdt_bugcode_blame_param(0x0, p), -1);
	assert_int_equal(wdt_bugcode_blame_param(0xD1, NULL), -1);
}

/*
 * With every parameter nonzero and a P1 that selects no special subtype,
 * the function agrees with each entry's .blame.
 */
static void test_blame_matches_table(void **state)
{
	const uint64_t p[4] = {0x7654321EFull, 2, 3, 4};
	size_t n;
	const struct wdt_bugcode *t = wdt_bugcode_table(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		int want = t[i].blame == WDT_BLAME_NONE
			       ? -1
			       : (int)t[i].blame - (int)WDT_BLAME_P1;
		int got = wdt_bugcode_blame_param(t[i].code, p);

		if (got != want)
			fail_msg("%s: blame_param %d, table says %d", t[i].name,
				 got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_sorted_and_unique),
	    cmocka_unit_test(test_entries_well_formed),
	    cmocka_unit_test(test_find_known),
	    cmocka_unit_test(test_find_every_entry),
	    cmocka_unit_test(test_find_unknown),
	    cmocka_unit_test(test_blame_common),
	    cmocka_unit_test(test_blame_zero_param),
	    cmocka_unit_test(test_blame_subtypes),
	    cmocka_unit_test(test_blame_unknown_or_null),
	    cmocka_unit_test(test_blame_matches_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
