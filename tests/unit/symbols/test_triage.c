/* SPDX-License-Identifier: MIT */
/*
 * Crash state over the shared hand-built guest (tests/unit/helpers/guest.h):
 * the bugcheck search (symbols/bugcheck.c) over three processors' saved
 * CONTEXTs and KiBugcheckData, and triage (triage.c) over a module list
 * with a driver, a stack, a thread and its process. KeBugCheckEx comes
 * from the real lld-link test DLL (exports and .pdata). The DMP header
 * built from it is test_crashhdr's; whole guests are tested in t0901.
 */
#include <stdlib.h>

#include "core/bytes.h"
#include "formats/dmp_layout.h"
#include "symbols/bugcheck.h"
#include "symbols/triage.h"
#include "testutil.h"
#include "testdata.h"

#include "guest.h"

/* The shared guest's names, short. */
#define KB TG_KB
#define DRV TG_DRV
#define POOL TG_POOL
#define BUGDATA TG_BUGDATA
#define MODLIST TG_MODLIST
#define DRV_RET TG_DRV_RET
#define STACK TG_STACK
#define CTX(i) TG_CTX(i)
#define THREAD(i) TG_THREAD(i)
#define P wdt_tg_params

#define CODE 0xD1u

static const char *argv0;
static struct wdt_test_guest g;

static uint8_t *at(uint64_t va)
{
	return wdt_tg_at(&g, va);
}

static void build(void)
{
	wdt_tg_build(&g);
}

static void put_ctx(unsigned i, uint64_t rip, uint64_t rcx, uint64_t rdx)
{
	wdt_tg_put_ctx(&g, i, rip, rcx, rdx);
}

static void crash_on(unsigned cpu, uint32_t code)
{
	wdt_tg_crash_on(&g, cpu, code);
}

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

static void done(void)
{
	wdt_tg_done(&g);
}

static void find(struct wdt_bugcheck *b)
{
	struct wdt_err e = {0};

	if (wdt_bugcheck_find(&g.k, &g.d, NULL, b, &e) < 0)
		fail_msg("%s", e.msg);
}

static void test_live(void **state)
{
	(void)state;
	struct wdt_bugcheck b;

	build();
	find(&b);
	assert_false(b.crashed);
	assert_int_equal(b.nprocs, 3);
	assert_int_equal(b.cpu, -1);
	assert_string_equal(b.cpu_method, "none");
	wdt_bugcheck_free(&b);
	done();
}

static void test_saved_context(void **state)
{
	(void)state;
	struct wdt_bugcheck b;

	build();
	crash_on(2, CODE);
	find(&b);
	assert_true(b.crashed);
	assert_int_equal(b.code, CODE);
	assert_memory_equal(b.params, P, sizeof(P));
	assert_int_equal(b.cpu, 2);
	assert_string_equal(b.cpu_method, "saved-context");
	/* KeBugCheckEx's extent comes from the DLL's .pdata. */
	assert_string_equal(b.kebugcheckex_extent, "pdata");
	assert_true(b.kebugcheckex_end > g.kbe);
	assert_true(b.kebugcheckex_end - g.kbe < WDT_BUGCHECK_FN_GUESS);
	assert_true(b.have_context);
	assert_true(b.context_consistent);
	assert_int_equal(b.context_va, CTX(2));
	assert_memory_equal(b.context, at(CTX(2)), WDT_CTX_SIZE);
	wdt_bugcheck_free(&b);
	done();
}

static void test_ties_and_misses(void **state)
{
	(void)state;
	struct wdt_bugcheck b;

	/* CPU 1 also looks like KeBugCheckEx's, but only 2 has P1 in Rdx. */
	build();
	crash_on(2, CODE);
	put_ctx(1, g.kbe + 4, CODE, 0x999);
	find(&b);
	assert_int_equal(b.cpu, 2);
	wdt_bugcheck_free(&b);
	/* Two equally good candidates: no guess. */
	put_ctx(1, g.kbe, CODE, P[0]);
	find(&b);
	assert_int_equal(b.cpu, -1);
	assert_non_null(strstr(b.note, "unknown"));
	wdt_bugcheck_free(&b);
	/* Rcx not the code, or Rip outside KeBugCheckEx: nobody. */
	put_ctx(1, g.kbe, CODE + 1, P[0]);
	put_ctx(2, b.kebugcheckex_end, CODE, P[0]);
	find(&b);
	assert_int_equal(b.cpu, -1);
	assert_non_null(strstr(b.note, "KeBugCheckEx's"));
	wdt_bugcheck_free(&b);
	done();
}

static void run_triage(uint32_t code, struct wdt_triage *t,
		       struct wdt_bugcheck *b, struct wdt_modules *mods)
{
	struct wdt_ntoffsets off = {.prcb_current_thread = 8,
				    .kthread_process = 0xB8,
				    .eprocess_name = 0x5A8,
				    .eprocess_pid = 0x440};
	struct wdt_err e = {0};

	crash_on(1, code);
	find(b);
	assert_int_equal(wdt_modules_read(&g.k, MODLIST, mods, &e), 0);
	wdt_triage_run(&g.k, b, mods, NULL, 0, &off, t);
}

static void test_triage(void **state)
{
	(void)state;
	struct wdt_triage t;
	struct wdt_bugcheck b;
	struct wdt_modules mods;

	build();
	/* 0xD1 blames P4, in the driver. */
	run_triage(CODE, &t, &b, &mods);
	assert_int_equal(mods.n, 2);
	assert_string_equal(mods.v[0].name, "ntoskrnl.exe");
	assert_string_equal(mods.v[1].name, "victim.sys");
	assert_string_equal(t.blame_how, "P4");
	assert_string_equal(t.blamed.text, "victim+0x1111");
	assert_string_equal(t.bucket, "0xD1_victim+0x1111");
	assert_string_equal(t.bucket_basis, "offset");
	assert_string_equal(t.rsp_ret.text, "nt+0x500");
	assert_true(t.have_process);
	assert_int_equal(t.thread, THREAD(1));
	assert_string_equal(t.process_name, "victim.exe");
	assert_int_equal(t.pid, 0x1234);
	wdt_modules_free(&mods);
	wdt_bugcheck_free(&b);

	/* 0x133 names no address: the driver return address on the stack
	 * (not the word that follows no call). */
	run_triage(0x133, &t, &b, &mods);
	assert_string_equal(t.blame_how, "stack");
	assert_int_equal(t.blamed.va, DRV_RET);
	assert_string_equal(t.bucket, "0x133_victim+0x1234");
	wdt_modules_free(&mods);
	wdt_bugcheck_free(&b);

	/* Without it, KeBugCheckEx's caller. */
	wdt_put_le64(at(STACK + 0x48), 0);
	run_triage(0x133, &t, &b, &mods);
	assert_string_equal(t.blame_how, "caller");
	assert_string_equal(t.bucket, "0x133_nt+0x500");
	wdt_modules_free(&mods);
	wdt_bugcheck_free(&b);
	done();
}

static void test_helpers(void **state)
{
	(void)state;
	static const uint8_t e8[7] = {0, 0, 0xE8, 1, 2, 3, 4};
	static const uint8_t ind[7] = {0, 0xFF, 0x15, 1, 2, 3, 4};
	static const uint8_t reg[7] = {0, 0, 0, 0, 0x41, 0xFF, 0xD3};
	static const uint8_t d8[7] = {0, 0, 0, 0, 0xFF, 0x53, 0x10};
	static const uint8_t none[7] = {0x90, 0x90, 0x90, 0x90,
					0x90, 0x90, 0xC3};
	struct wdt_module mod = {.base = 0x1000, .size = 0x100};
	struct wdt_where w = {.va = 0x1010,
			      .mod = &mod,
			      .offset = 0x10,
			      .symbol = "Fn",
			      .sym_offset = 4};
	const char *basis;
	char buf[64];
	uint32_t pid, name;

	assert_true(wdt_triage_after_call(e8));
	assert_true(wdt_triage_after_call(ind));
	assert_true(wdt_triage_after_call(reg));
	assert_true(wdt_triage_after_call(d8));
	assert_false(wdt_triage_after_call(none));

	snprintf(w.text, sizeof(w.text), "drv!Fn+0x4");
	wdt_triage_bucket(0xD1, &w, buf, sizeof(buf), &basis);
	assert_string_equal(buf, "0xD1_drv!Fn");
	assert_string_equal(basis, "symbol");
	w.mod = NULL;
	wdt_triage_bucket(0x80, &w, buf, sizeof(buf), &basis);
	assert_string_equal(buf, "0x80_UNKNOWN");

	/* The per-build EPROCESS table (Vergilius values). */
	assert_int_equal(wdt_ntoffsets_table(7601, &pid, &name), 1);
	assert_int_equal(pid, 0x180);
	assert_int_equal(name, 0x2E0);
	assert_int_equal(wdt_ntoffsets_table(17763, &pid, &name), 1);
	assert_int_equal(name, 0x450);
	assert_int_equal(wdt_ntoffsets_table(19045, &pid, &name), 1);
	assert_int_equal(pid, 0x440);
	assert_int_equal(name, 0x5A8);
	assert_int_equal(wdt_ntoffsets_table(22631, &pid, &name), 1);
	assert_int_equal(name, 0x5A8);
	assert_int_equal(wdt_ntoffsets_table(26100, &pid, &name), 1);
	assert_int_equal(pid, 0x1D0);
	assert_int_equal(name, 0x338);
	assert_int_equal(wdt_ntoffsets_table(6002, &pid, &name), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_live),
	    cmocka_unit_test(test_saved_context),
	    cmocka_unit_test(test_ties_and_misses),
	    cmocka_unit_test(test_triage),
	    cmocka_unit_test(test_helpers),
	};

	(void)argc;
	argv0 = argv[0];
	return cmocka_run_group_tests(tests, setup, teardown);
}
