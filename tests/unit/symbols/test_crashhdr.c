/* SPDX-License-Identifier: MIT */
/*
 * The DMP header and memory patches built from a guest's crash state
 * (symbols/crashhdr.c), over the shared hand-built guest
 * (tests/unit/helpers/guest.h): every header field for a live and for a
 * crashed guest, the saved-context rule (the crashing processor's saved
 * CONTEXT is the header's and is never patched; --contexts saved patches
 * none), the comment, a raw image without CPU state, and the failures.
 * Whole guests are tested in t0701 and t0901.
 */
#include <stdlib.h>

#include "core/bytes.h"
#include "formats/dmp_layout.h"
#include "symbols/bugcheck.h"
#include "symbols/crashhdr.h"
#include "testutil.h"
#include "testdata.h"
#include "guest.h"

#define CODE 0xD1u

static const char *argv0;
static struct wdt_test_guest g;

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

static void find(struct wdt_bugcheck *b)
{
	struct wdt_err e = {0};

	if (wdt_bugcheck_find(&g.k, &g.d, NULL, b, &e) < 0)
		fail_msg("%s", e.msg);
}

/* Does a patch cover guest VA va? */
static bool patched(const struct wdt_crash *c, uint64_t va)
{
	uint64_t pa = TG_KPA + (va - TG_KB);

	for (size_t i = 0; i < c->npatches; i++)
		if (c->patches[i].pa <= pa &&
		    pa < c->patches[i].pa + c->patches[i].len)
			return true;
	return false;
}

static bool has_note(const struct wdt_crash *c, const char *needle)
{
	for (size_t i = 0; i < c->nnotes; i++)
		if (strstr(c->notes[i], needle))
			return true;
	return false;
}

static void build(struct wdt_crash *c, const struct wdt_crash_opts *o,
		  struct wdt_bugcheck *b)
{
	struct wdt_err e = {0};

	find(b);
	if (wdt_crash_build(&g.k, &g.d, b, o, c, &e) < 0)
		fail_msg("%s", e.msg);
}

static void test_live(void **state)
{
	(void)state;
	struct wdt_crash_opts o = {.comment = "from a test"};
	struct wdt_bugcheck b;
	struct wdt_crash c;
	const uint8_t *h, *x;

	wdt_tg_build(&g);
	wdt_tg_add_cpus(&g);
	build(&c, &o, &b);
	h = c.hdr;
	assert_int_equal(wdt_le32(h + WDT_DMP64_SIGNATURE), WDT_DMP_SIG_PAGE);
	assert_int_equal(wdt_le32(h + WDT_DMP64_VALID_DUMP),
			 WDT_DMP_VALID_DU64);
	/* No KdVersionBlock: free build and KUSER_SHARED_DATA's number. */
	assert_int_equal(wdt_le32(h + WDT_DMP64_MAJOR), 0xF);
	assert_int_equal(wdt_le32(h + WDT_DMP64_MINOR), 19045);
	assert_int_equal(h[WDT_DMP64_KD_SECONDARY_VERSION], 2);
	assert_true(has_note(&c, "no KdVersionBlock"));
	assert_int_equal(wdt_le64(h + WDT_DMP64_DTB), TG_PML4);
	/* PfnDataBase is the variable's value, not its address. */
	assert_int_equal(wdt_le64(h + WDT_DMP64_PFN_DATABASE), TG_PFN_VALUE);
	assert_int_equal(wdt_le64(h + WDT_DMP64_PS_LOADED_MODULE_LIST),
			 TG_MODLIST);
	assert_int_equal(
	    wdt_le64(h + WDT_DMP64_PS_ACTIVE_PROCESS_HEAD),
	    wdt_kdbg_get(&g.d, WDT_KDBG_PS_ACTIVE_PROCESS_HEAD, 8));
	assert_int_equal(wdt_le32(h + WDT_DMP64_MACHINE), WDT_MACHINE_AMD64);
	assert_int_equal(wdt_le64(h + WDT_DMP64_KDBG), TG_KDBG_VA);
	assert_int_equal(wdt_le32(h + WDT_DMP64_NUMBER_PROCESSORS), TG_NCPUS);
	assert_int_equal(c.nprocs, TG_NCPUS);
	assert_false(c.crashed);
	assert_int_equal(c.crash_cpu, -1);
	assert_int_equal(wdt_le32(h + WDT_DMP64_BUGCHECK_CODE),
			 WDT_BUGCHECK_LIVE_SYSTEM_DUMP);
	for (int i = 0; i < 4; i++)
		assert_int_equal(wdt_le64(h + WDT_DMP64_BUGCHECK_PARAM + 8 * i),
				 0);
	/* CPU 0's live registers in the header, every CPU's in its KPRCB. */
	assert_string_equal(c.context_from, "CPU state");
	assert_int_equal(c.context_cpu, 0);
	assert_int_equal(wdt_le64(h + WDT_DMP64_CONTEXT + WDT_CTX_RIP),
			 TG_KB + 0x900);
	assert_int_equal(c.contexts_patched, TG_NCPUS);
	for (unsigned i = 0; i < TG_NCPUS; i++)
		assert_true(patched(&c, TG_CTX(i)));
	assert_true(patched(&c, TG_KDBG_VA));
	x = h + WDT_DMP64_EXCEPTION;
	assert_int_equal(wdt_le32(x + WDT_EXC_CODE), 0x80000003u);
	assert_int_equal(wdt_le64(x + WDT_EXC_ADDRESS), TG_KB + 0x900);
	/* KUSER_SHARED_DATA's times and product, the comment. */
	assert_int_equal(wdt_le64(h + WDT_DMP64_SYSTEM_TIME), 0x11223344);
	assert_int_equal(wdt_le64(h + WDT_DMP64_SYSTEM_UPTIME), 0x5566);
	assert_int_equal(wdt_le32(h + WDT_DMP64_PRODUCT_TYPE), 1);
	assert_int_equal(wdt_le32(h + WDT_DMP64_SUITE_MASK), 0x110);
	assert_int_equal(wdt_le32(h + WDT_DMP64_BOOT_ID), 7);
	assert_string_equal((const char *)h + WDT_DMP64_COMMENT, "from a test");
	/* Fields the writer sets are left as the 'PAGE' fill. */
	assert_int_equal(wdt_le32(h + WDT_DMP64_DUMP_TYPE), WDT_DMP_SIG_PAGE);
	wdt_crash_free(&c);
	wdt_bugcheck_free(&b);

	/* A KdVersionBlock gives the versions. */
	g.d.have_version = true;
	wdt_put_le16(g.d.version + WDT_KDVER_MAJOR, 0xC);
	wdt_put_le16(g.d.version + WDT_KDVER_MINOR, 22631);
	g.d.version[WDT_KDVER_SECONDARY] = 3;
	build(&c, &o, &b);
	assert_int_equal(wdt_le32(c.hdr + WDT_DMP64_MAJOR), 0xC);
	assert_int_equal(wdt_le32(c.hdr + WDT_DMP64_MINOR), 22631);
	assert_int_equal(c.hdr[WDT_DMP64_KD_SECONDARY_VERSION], 3);
	assert_false(has_note(&c, "no KdVersionBlock"));
	wdt_crash_free(&c);
	wdt_bugcheck_free(&b);
	wdt_tg_done(&g);
}

static void test_crashed(void **state)
{
	(void)state;
	struct wdt_crash_opts o = {0};
	struct wdt_bugcheck b;
	struct wdt_crash c;
	const uint8_t *x;

	wdt_tg_build(&g);
	wdt_tg_add_cpus(&g);
	wdt_tg_crash_on(&g, 2, CODE);
	build(&c, &o, &b);
	assert_true(c.crashed);
	assert_int_equal(c.crash_cpu, 2);
	assert_int_equal(wdt_le32(c.hdr + WDT_DMP64_BUGCHECK_CODE), CODE);
	for (int i = 0; i < 4; i++)
		assert_int_equal(
		    wdt_le64(c.hdr + WDT_DMP64_BUGCHECK_PARAM + 8 * i),
		    wdt_tg_params[i]);
	/* The saved bugcheck CONTEXT, byte for byte. */
	assert_memory_equal(c.hdr + WDT_DMP64_CONTEXT, wdt_tg_at(&g, TG_CTX(2)),
			    WDT_CTX_SIZE);
	assert_string_equal(c.context_from, "bugcheck");
	assert_int_equal(c.context_cpu, 2);
	x = c.hdr + WDT_DMP64_EXCEPTION;
	assert_int_equal(wdt_le32(x + WDT_EXC_CODE), 0x80000003u);
	assert_int_equal(wdt_le32(x + WDT_EXC_FLAGS), 1);
	assert_int_equal(wdt_le64(x + WDT_EXC_ADDRESS), g.kbe);
	assert_int_equal(wdt_le32(x + WDT_EXC_NPARAMS), 0);
	/* Live registers go to CPUs 0 and 1, never over CPU 2's. */
	assert_true(patched(&c, TG_CTX(0)));
	assert_true(patched(&c, TG_CTX(1)));
	assert_false(patched(&c, TG_CTX(2)));
	assert_int_equal(c.contexts_patched, 2);
	wdt_crash_free(&c);
	wdt_bugcheck_free(&b);

	/* --contexts saved: no CONTEXT is patched, only the KDBG. */
	o.saved_contexts = true;
	build(&c, &o, &b);
	assert_false(patched(&c, TG_CTX(0)));
	assert_false(patched(&c, TG_CTX(1)));
	assert_true(patched(&c, TG_KDBG_VA));
	assert_int_equal(c.contexts_patched, 0);
	assert_memory_equal(c.hdr + WDT_DMP64_CONTEXT, wdt_tg_at(&g, TG_CTX(2)),
			    WDT_CTX_SIZE);
	wdt_crash_free(&c);
	wdt_bugcheck_free(&b);

	/* Two candidates: the crashing CPU is unknown, CPU 0 in the header. */
	o.saved_contexts = false;
	wdt_tg_put_ctx(&g, 1, g.kbe, CODE, wdt_tg_params[0]);
	build(&c, &o, &b);
	assert_true(c.crashed);
	assert_int_equal(c.crash_cpu, -1);
	assert_string_equal(c.context_from, "CPU state");
	assert_int_equal(c.context_cpu, 0);
	assert_true(has_note(&c, "crashing processor unknown"));
	wdt_crash_free(&c);
	wdt_bugcheck_free(&b);
	wdt_tg_done(&g);
}

static void test_comment_and_no_cpus(void **state)
{
	(void)state;
	char longc[300];
	struct wdt_crash_opts o = {.comment = longc};
	struct wdt_bugcheck b;
	struct wdt_crash c;

	/* A raw image has no CPU state: CPU 0's KPRCB CONTEXT, unpatched. */
	wdt_tg_build(&g);
	memset(longc, 'c', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	build(&c, &o, &b);
	assert_string_equal(c.context_from, "KPRCB");
	assert_int_equal(c.context_cpu, 0);
	assert_int_equal(c.contexts_patched, 0);
	assert_memory_equal(c.hdr + WDT_DMP64_CONTEXT, wdt_tg_at(&g, TG_CTX(0)),
			    WDT_CTX_SIZE);
	/* The comment is cut to 127 bytes and NUL-terminated. */
	assert_int_equal(strlen((const char *)c.hdr + WDT_DMP64_COMMENT),
			 WDT_DMP64_COMMENT_SIZE - 1);
	wdt_crash_free(&c);
	wdt_bugcheck_free(&b);
	/* No comment: the field is zero, not the 'PAGE' fill. */
	o.comment = NULL;
	build(&c, &o, &b);
	for (unsigned i = 0; i < WDT_DMP64_COMMENT_SIZE; i++)
		assert_int_equal(c.hdr[WDT_DMP64_COMMENT + i], 0);
	wdt_crash_free(&c);
	wdt_bugcheck_free(&b);
	wdt_tg_done(&g);
}

static void test_errors(void **state)
{
	(void)state;
	struct wdt_crash_opts o = {0};
	struct wdt_bugcheck b;
	struct wdt_crash c;
	struct wdt_err e = {0};

	/* KUSER_SHARED_DATA not mapped. */
	wdt_tg_build(&g);
	find(&b);
	wdt_put_le64(g.m + TG_PML4 + 8 * ((WDT_KUSER_VA >> 39) & 511), 0);
	assert_int_equal(wdt_crash_build(&g.k, &g.d, &b, &o, &c, &e), -1);
	assert_err(&e, WDT_NO_DATA, "KUSER_SHARED_DATA: ");
	wdt_crash_free(&c);
	wdt_bugcheck_free(&b);
	wdt_tg_done(&g);

	/* MmPfnDatabase names an unmapped variable. */
	wdt_tg_build(&g);
	find(&b);
	wdt_put_le64(g.plain + WDT_KDBG_MM_PFN_DATABASE, 0xFFFF800000000000ull);
	assert_int_equal(wdt_crash_build(&g.k, &g.d, &b, &o, &c, &e), -1);
	assert_err(&e, WDT_NO_DATA, "MmPfnDatabase at 0xffff800000000000: ");
	wdt_crash_free(&c);
	wdt_bugcheck_free(&b);
	wdt_tg_done(&g);

	/* The block to patch is not in mapped memory. */
	wdt_tg_build(&g);
	find(&b);
	g.d.va = 0xFFFF800000000000ull;
	assert_int_equal(wdt_crash_build(&g.k, &g.d, &b, &o, &c, &e), -1);
	assert_err(&e, WDT_NO_DATA, "KdDebuggerDataBlock: ");
	wdt_crash_free(&c);
	wdt_bugcheck_free(&b);
	wdt_tg_done(&g);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_live),
	    cmocka_unit_test(test_crashed),
	    cmocka_unit_test(test_comment_and_no_cpus),
	    cmocka_unit_test(test_errors),
	};

	(void)argc;
	argv0 = argv[0];
	return cmocka_run_group_tests(tests, setup, teardown);
}
