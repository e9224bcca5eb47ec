/* SPDX-License-Identifier: MIT */
/*
 * Crash state over a hand-built guest (symbols/bugcheck.c, crashhdr.c,
 * triage.c): three processors whose saved CONTEXTs the bugcheck search
 * reads, KiBugcheckData, a module list with a driver, a stack, a thread
 * and its process. KeBugCheckEx comes from the real lld-link test DLL
 * (exports and .pdata). Whole guests are tested in t0901.
 */
#include <stdlib.h>

#include "core/bytes.h"
#include "formats/dmp_layout.h"
#include "symbols/bugcheck.h"
#include "symbols/crashhdr.h"
#include "symbols/triage.h"
#include "testutil.h"
#include "testdata.h"

#define MEM (10u << 20)
#define PML4 0x1000u
#define PDPT_K 0x2000u
#define PD_K 0x3000u
#define PDPT_U 0x4000u
#define PD_U 0x5000u
#define KPA 0x200000u /* KB  -> kernel */
#define DPA 0x400000u /* DRV -> driver */
#define PPA 0x600000u /* POOL -> pool */
#define UPA 0x800000u /* KUSER_SHARED_DATA */
#define KB 0xFFFFF80000000000ull
#define DRV (KB + 0x200000)
#define POOL (KB + 0x400000)

#define BUGDATA (KB + 0x1000)
#define KPB (KB + 0x1100)
#define PFNVAR (KB + 0x1200)
#define MODLIST (KB + 0x1300)
#define KDBG_VA (KB + 0x2000)
#define CALLER (KB + 0x500)	/* a return address in the kernel */
#define DRV_RET (DRV + 0x1234)	/* a return address in the driver */
#define DRV_JUNK (DRV + 0x2000) /* in the driver, not after a call */
#define PRCB(i) (POOL + 0x1000ull * (i))
#define CTX(i) (POOL + 0x10000 + 0x1000ull * (i))
#define THREAD(i) (POOL + 0x20000 + 0x100ull * (i))
#define EPROC (POOL + 0x30000)
#define STACK (POOL + 0x40000 - 0x100)
#define LDR0 (POOL + 0x50000)
#define LDR1 (POOL + 0x50100)

#define CODE 0xD1u
static const uint64_t P[4] = { 0x700, 2, 0, DRV + 0x1111 };

static const char *argv0;
static uint8_t *m;
static uint8_t plain[0x340];
static struct wdt_image *img;
static struct wdt_kernel k;
static struct wdt_kdbg d;
static struct wdt_source *dll_src;
static uint64_t kbe; /* KeBugCheckEx in the guest */

static uint8_t *at(uint64_t va)
{
	if (va >= KB && va < KB + 0x600000)
		return m + KPA + (va - KB);
	fail_msg("VA 0x%llx is not mapped", (unsigned long long)va);
	return NULL;
}

static void put_ctx(unsigned i, uint64_t rip, uint64_t rcx, uint64_t rdx)
{
	uint8_t *c = at(CTX(i));

	memset(c, 0, WDT_CTX_SIZE);
	wdt_put_le32(c + WDT_CTX_FLAGS, WDT_CTX_ALL);
	wdt_put_le32(c + WDT_CTX_MXCSR, WDT_MXCSR_DEFAULT);
	wdt_put_le32(c + WDT_CTX_FLT_MXCSR, WDT_MXCSR_DEFAULT);
	wdt_put_le16(c + WDT_CTX_SEG_CS, 0x10);
	wdt_put_le64(c + WDT_CTX_RIP, rip);
	wdt_put_le64(c + WDT_CTX_RCX, rcx);
	wdt_put_le64(c + WDT_CTX_RDX, rdx);
	wdt_put_le64(c + WDT_CTX_R8, P[1]);
	wdt_put_le64(c + WDT_CTX_R9, P[2]);
	wdt_put_le64(c + WDT_CTX_RSP, STACK);
	wdt_put_le64(c + WDT_CTX_RAX, 0xAAAA0000 + i);
}

static void put_ustr(uint64_t us, uint64_t buf, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		wdt_put_le16(at(buf) + 2 * i, (uint8_t)s[i]);
	wdt_put_le16(at(us), (uint16_t)(2 * n));
	wdt_put_le16(at(us) + 2, (uint16_t)(2 * n + 2));
	wdt_put_le64(at(us) + 8, buf);
}

static void build(void)
{
	uint32_t rva;
	struct wdt_err e = { 0 };

	memset(m, 0, MEM);
	/* Kernel half: KB.. three 2 MiB pages; KUSER_SHARED_DATA. */
	wdt_put_le64(m + PML4 + 8 * ((KB >> 39) & 511), PDPT_K | 3);
	wdt_put_le64(m + PDPT_K + 8 * ((KB >> 30) & 511), PD_K | 3);
	for (unsigned i = 0; i < 3; i++)
		wdt_put_le64(m + PD_K + 8 * i, (KPA + 0x200000ull * i) | 0x83);
	wdt_put_le64(m + PML4 + 8 * ((WDT_KUSER_VA >> 39) & 511), PDPT_U | 3);
	wdt_put_le64(m + PDPT_U, PD_U | 3);
	wdt_put_le64(m + PD_U, UPA | 0x83);
	wdt_put_le32(m + UPA + WDT_KUSD_NT_MAJOR, 10);
	wdt_put_le32(m + UPA + WDT_KUSD_SYSTEM_TIME, 0x11223344);

	/* KDBG (decoded, as wdt_kdbg_find leaves it). */
	memset(plain, 0, sizeof(plain));
	wdt_put_le32(plain + WDT_KDBG_OWNER_TAG, WDT_KDBG_TAG);
	wdt_put_le32(plain + WDT_KDBG_SIZE, sizeof(plain));
	wdt_put_le64(plain + WDT_KDBG_KERN_BASE, KB);
	wdt_put_le64(plain + WDT_KDBG_KI_BUGCHECK_DATA, BUGDATA);
	wdt_put_le64(plain + WDT_KDBG_KI_PROCESSOR_BLOCK, KPB);
	wdt_put_le64(plain + WDT_KDBG_MM_PFN_DATABASE, PFNVAR);
	wdt_put_le64(plain + WDT_KDBG_PS_LOADED_MODULE_LIST, MODLIST);
	wdt_put_le16(plain + WDT_KDBG_OFFSET_PRCB_CONTEXT, 0x100);
	wdt_put_le16(plain + WDT_KDBG_OFFSET_PRCB_NUMBER, 0x24);
	wdt_put_le16(plain + WDT_KDBG_OFFSET_PRCB_CURRENT_THREAD, 8);
	wdt_put_le16(plain + WDT_KDBG_OFFSET_KTHREAD_APC_PROCESS, 0xB8);
	memcpy(at(KDBG_VA), plain, sizeof(plain));
	wdt_put_le64(at(PFNVAR), 0xFFFFFA8000000000ull);

	/* Processors: KPRCB Number, Context pointer, CurrentThread. */
	for (unsigned i = 0; i < 3; i++) {
		wdt_put_le64(at(KPB + 8 * i), PRCB(i));
		wdt_put_le16(at(PRCB(i) + 0x24), (uint16_t)i);
		wdt_put_le64(at(PRCB(i) + 0x100), CTX(i));
		wdt_put_le64(at(PRCB(i) + 8), THREAD(i));
		wdt_put_le64(at(THREAD(i) + 0xB8), EPROC);
		put_ctx(i, KB + 0x777, 0x1234, 0);
	}
	memcpy(at(EPROC + 0x5A8), "victim.exe", 11);
	wdt_put_le64(at(EPROC + 0x440), 0x1234);

	/* Modules: the kernel, then a driver. */
	wdt_put_le64(at(MODLIST), LDR0);
	wdt_put_le64(at(LDR0), LDR1);
	wdt_put_le64(at(LDR1), MODLIST);
	wdt_put_le64(at(LDR0) + WDT_LDR_DLL_BASE, KB);
	wdt_put_le32(at(LDR0) + WDT_LDR_SIZE_OF_IMAGE, 0x200000);
	put_ustr(LDR0 + WDT_LDR_BASE_DLL_NAME, POOL + 0x51000, "ntoskrnl.exe");
	wdt_put_le64(at(LDR1) + WDT_LDR_DLL_BASE, DRV);
	wdt_put_le32(at(LDR1) + WDT_LDR_SIZE_OF_IMAGE, 0x10000);
	put_ustr(LDR1 + WDT_LDR_BASE_DLL_NAME, POOL + 0x51100, "victim.sys");

	/* Calls before the return addresses; the stack of the crash. */
	at(CALLER)[-5] = 0xE8;
	at(DRV_RET)[-5] = 0xE8;
	wdt_put_le64(at(STACK), CALLER);
	wdt_put_le64(at(STACK + 0x10), DRV_JUNK);
	wdt_put_le64(at(STACK + 0x48), DRV_RET);

	img = wdt_test_open_mem(m, MEM, "raw", &e);
	if (!img)
		fail_msg("%s", e.msg);
	memset(&k, 0, sizeof(k));
	k.img = img;
	k.vas.img = img;
	k.vas.dtb = PML4;
	k.base_va = KB;
	dll_src = wdt_source_open_file(td_path("wdttest.dll"), &e);
	assert_non_null(dll_src);
	k.pe = wdt_pe_open_source(dll_src, &e);
	if (!k.pe)
		fail_msg("%s", e.msg);
	assert_int_equal(wdt_pe_export_rva(k.pe, "KeBugCheckEx", &rva, &e), 1);
	kbe = KB + rva;
	memset(&d, 0, sizeof(d));
	d.va = KDBG_VA;
	d.size = sizeof(plain);
	d.plain = plain;
}

static void crash_on(unsigned cpu, uint32_t code)
{
	wdt_put_le64(at(BUGDATA), code);
	for (int i = 0; i < 4; i++)
		wdt_put_le64(at(BUGDATA + 8 + 8 * i), P[i]);
	put_ctx(cpu, kbe, code, P[0]);
}

static int setup(void **state)
{
	uint8_t *dll;
	size_t n;

	(void)state;
	if (td_build(argv0) != 0)
		return -1;
	dll = td_slurp(td_path("wdttest.dll"), &n); /* built and readable */
	if (!dll)
		return -1;
	free(dll);
	m = malloc(MEM);
	return m ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(m);
	return 0;
}

static void done(void)
{
	wdt_pe_close(k.pe);
	wdt_source_close(dll_src);
	k.pe = NULL;
	wdt_image_close(img);
}

static void find(struct wdt_bugcheck *b)
{
	struct wdt_err e = { 0 };

	if (wdt_bugcheck_find(&k, &d, NULL, b, &e) < 0)
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
	assert_true(b.kebugcheckex_end > kbe);
	assert_true(b.kebugcheckex_end - kbe < WDT_BUGCHECK_FN_GUESS);
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
	put_ctx(1, kbe + 4, CODE, 0x999);
	find(&b);
	assert_int_equal(b.cpu, 2);
	wdt_bugcheck_free(&b);
	/* Two equally good candidates: no guess. */
	put_ctx(1, kbe, CODE, P[0]);
	find(&b);
	assert_int_equal(b.cpu, -1);
	assert_non_null(strstr(b.note, "unknown"));
	wdt_bugcheck_free(&b);
	/* Rcx not the code, or Rip outside KeBugCheckEx: nobody. */
	put_ctx(1, kbe, CODE + 1, P[0]);
	put_ctx(2, b.kebugcheckex_end, CODE, P[0]);
	find(&b);
	assert_int_equal(b.cpu, -1);
	assert_non_null(strstr(b.note, "KeBugCheckEx's"));
	wdt_bugcheck_free(&b);
	done();
}

static void cpus(void)
{
	struct wdt_err e = { 0 };

	for (unsigned i = 0; i < 3; i++) {
		struct wdt_cpu c = { .index = i };
		c.have = WDT_CPU_HAVE_GPRS | WDT_CPU_HAVE_SEGS;
		c.regs[WDT_RIP] = KB + 0x900 + i;
		c.regs[WDT_RSP] = STACK - 0x1000;
		c.segs[WDT_CS].selector = 0x10;
		assert_int_equal(wdt_image_add_cpu(img, &c, &e), 0);
	}
}

/* Does a patch cover the CONTEXT at va? */
static bool patched(const struct wdt_crash *c, uint64_t va)
{
	uint64_t pa = KPA + (va - KB);

	for (size_t i = 0; i < c->npatches; i++)
		if (c->patches[i].pa <= pa &&
		    pa < c->patches[i].pa + c->patches[i].len)
			return true;
	return false;
}

static void test_crash_header(void **state)
{
	(void)state;
	struct wdt_crash_opts o = { .comment = "t" };
	struct wdt_bugcheck b;
	struct wdt_crash c;
	struct wdt_err e = { 0 };
	const uint8_t *x;

	build();
	cpus();
	crash_on(2, CODE);
	find(&b);
	assert_int_equal(wdt_crash_build(&k, &d, &b, &o, &c, &e), 0);
	assert_int_equal(wdt_le32(c.hdr + WDT_DMP64_BUGCHECK_CODE), CODE);
	for (int i = 0; i < 4; i++)
		assert_int_equal(
			wdt_le64(c.hdr + WDT_DMP64_BUGCHECK_PARAM + 8 * i), P[i]);
	/* The saved bugcheck CONTEXT, byte for byte. */
	assert_memory_equal(c.hdr + WDT_DMP64_CONTEXT, at(CTX(2)),
			    WDT_CTX_SIZE);
	assert_string_equal(c.context_from, "bugcheck");
	assert_int_equal(c.context_cpu, 2);
	x = c.hdr + WDT_DMP64_EXCEPTION;
	assert_int_equal(wdt_le32(x + WDT_EXC_CODE), 0x80000003u);
	assert_int_equal(wdt_le32(x + WDT_EXC_FLAGS), 1);
	assert_int_equal(wdt_le64(x + WDT_EXC_ADDRESS), kbe);
	assert_int_equal(wdt_le32(x + WDT_EXC_NPARAMS), 0);
	/* Live registers go to CPUs 0 and 1, never over CPU 2's. */
	assert_true(patched(&c, CTX(0)));
	assert_true(patched(&c, CTX(1)));
	assert_false(patched(&c, CTX(2)));
	assert_int_equal(c.contexts_patched, 2);
	wdt_crash_free(&c);
	/* --contexts saved: no CONTEXT is patched, only the KDBG. */
	o.saved_contexts = true;
	assert_int_equal(wdt_crash_build(&k, &d, &b, &o, &c, &e), 0);
	assert_false(patched(&c, CTX(0)));
	assert_false(patched(&c, CTX(1)));
	assert_true(patched(&c, KDBG_VA));
	assert_memory_equal(c.hdr + WDT_DMP64_CONTEXT, at(CTX(2)),
			    WDT_CTX_SIZE);
	wdt_crash_free(&c);
	wdt_bugcheck_free(&b);

	/* A live guest: CPU 0's registers, LIVE_SYSTEM_DUMP. */
	wdt_put_le64(at(BUGDATA), 0);
	o.saved_contexts = false;
	find(&b);
	assert_int_equal(wdt_crash_build(&k, &d, &b, &o, &c, &e), 0);
	assert_int_equal(wdt_le32(c.hdr + WDT_DMP64_BUGCHECK_CODE),
			 WDT_BUGCHECK_LIVE_SYSTEM_DUMP);
	assert_string_equal(c.context_from, "CPU state");
	assert_int_equal(wdt_le64(c.hdr + WDT_DMP64_CONTEXT + WDT_CTX_RIP),
			 KB + 0x900);
	assert_int_equal(c.contexts_patched, 3);
	wdt_crash_free(&c);
	wdt_bugcheck_free(&b);
	done();
}

static void run_triage(uint32_t code, struct wdt_triage *t,
		       struct wdt_bugcheck *b, struct wdt_modules *mods)
{
	struct wdt_ntoffsets off = { .prcb_current_thread = 8,
				     .kthread_process = 0xB8,
				     .eprocess_name = 0x5A8,
				     .eprocess_pid = 0x440 };
	struct wdt_err e = { 0 };

	crash_on(1, code);
	find(b);
	assert_int_equal(wdt_modules_read(&k, MODLIST, mods, &e), 0);
	wdt_triage_run(&k, b, mods, NULL, 0, &off, t);
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
	static const uint8_t e8[7] = { 0, 0, 0xE8, 1, 2, 3, 4 };
	static const uint8_t ind[7] = { 0, 0xFF, 0x15, 1, 2, 3, 4 };
	static const uint8_t reg[7] = { 0, 0, 0, 0, 0x41, 0xFF, 0xD3 };
	static const uint8_t d8[7] = { 0, 0, 0, 0, 0xFF, 0x53, 0x10 };
	static const uint8_t none[7] = { 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
					 0xC3 };
	struct wdt_module mod = { .base = 0x1000, .size = 0x100 };
	struct wdt_where w = { .va = 0x1010, .mod = &mod, .offset = 0x10,
			       .symbol = "Fn", .sym_offset = 4 };
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
		cmocka_unit_test(test_crash_header),
		cmocka_unit_test(test_triage),
		cmocka_unit_test(test_helpers),
	};

	(void)argc;
	argv0 = argv[0];
	return cmocka_run_group_tests(tests, setup, teardown);
}
