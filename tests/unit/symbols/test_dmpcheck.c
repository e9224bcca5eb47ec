/* SPDX-License-Identifier: MIT */
/*
 * The DMP checks (symbols/dmpcheck.c) finding by finding, over a
 * hand-built 64-bit full dump in memory: a 2 MiB guest whose kernel half
 * maps KB.. onto physical 0.. with one large page, KUSER_SHARED_DATA, a
 * cleartext KDBG, an MZ/PE at KernBase, empty module and process lists,
 * two processors with saved CONTEXTs. The sound dump has no finding; each
 * test breaks it in one way and expects exactly one finding, its code,
 * severity and message. This compact DMP (2 MiB, one large page, a
 * bare MZ/PE) needs no Windows toolchain. The crash findings
 * (bugcheck-code, crash-context, crash-context-lost) need a kernel PE with
 * KeBugCheckEx's exports and .pdata: those run over the shared guest
 * (tests/unit/helpers/guest.h, the lld-link test DLL) made a DMP with the
 * header symbols/crashhdr builds for it, and are skipped without clang. The
 * code table is checked against docs/wdt-verify.1 (tests run from the top of
 * the tree).
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/bytes.h"
#include "formats/dmp_layout.h"
#include "symbols/bugcheck.h"
#include "symbols/crashhdr.h"
#include "symbols/dmpcheck.h"
#include "symbols/kdbg.h"
#include "symbols/kernel.h"
#include "testutil.h"
#include "testdata.h"
#include "guest.h"

#define MEM (2u << 20)
#define NPAGES (MEM / 4096)
#define KB 0xFFFFF80000000000ull
#define PML4 0x1000u
#define PDPT_K 0x2000u
#define PD_K 0x3000u
#define PDPT_U 0x4000u
#define PD_U 0x5000u
#define PT_U 0x6000u
#define KUSD_PA 0x7000u
#define KDBG_VA (KB + 0x8000)
#define MODS (KB + 0xA000)
#define PROCS (KB + 0xA010)
#define PFNVAR (KB + 0xA100)
#define PFNVAL 0xFFFFFA8000000000ull
#define SYSRANGE (KB + 0xA200)
#define BUGDATA (KB + 0xA300)
#define KPB (KB + 0xB000)
#define PRCB(i) (KB + 0xC000 + 0x1000ull * (i))
#define CTX(i) (KB + 0x10000 + 0x1000ull * (i))
#define CTX_OFF 0x100u /* KDBG OffsetPrcbContext */
#define UNMAPPED 0xFFFF800000000000ull

static uint8_t *dmp; /* header + body */
static size_t dmp_len;
static uint64_t body; /* file offset of physical address 0 */
static struct wdt_dmpcheck r;

static uint8_t *at_pa(uint64_t pa)
{
	return dmp + body + pa;
}

static uint8_t *at(uint64_t va)
{
	if (va < KB || va >= KB + MEM)
		fail_msg("VA 0x%llx is not mapped", (unsigned long long)va);
	return at_pa(va - KB);
}

static void put_ctx(uint8_t *c, uint64_t rip)
{
	memset(c, 0, WDT_CTX_SIZE);
	wdt_put_le32(c + WDT_CTX_FLAGS, WDT_CTX_ALL);
	wdt_put_le32(c + WDT_CTX_MXCSR, WDT_MXCSR_DEFAULT);
	wdt_put_le32(c + WDT_CTX_FLT_MXCSR, WDT_MXCSR_DEFAULT);
	wdt_put_le16(c + WDT_CTX_SEG_CS, 0x10);
	wdt_put_le64(c + WDT_CTX_RIP, rip);
	wdt_put_le64(c + WDT_CTX_RSP, KB + 0x50000);
}

static void put_guest(void)
{
	uint64_t u = WDT_KUSER_VA;
	uint8_t *k;

	/* Kernel half: KB -> PA 0 (one 2 MiB page); KUSER_SHARED_DATA. */
	wdt_put_le64(at_pa(PML4 + 8 * ((KB >> 39) & 511)), PDPT_K | 3);
	wdt_put_le64(at_pa(PDPT_K + 8 * ((KB >> 30) & 511)), PD_K | 3);
	wdt_put_le64(at_pa(PD_K), 0 | 0x83);
	wdt_put_le64(at_pa(PML4 + 8 * ((u >> 39) & 511)), PDPT_U | 3);
	wdt_put_le64(at_pa(PDPT_U + 8 * ((u >> 30) & 511)), PD_U | 3);
	wdt_put_le64(at_pa(PD_U + 8 * ((u >> 21) & 511)), PT_U | 3);
	wdt_put_le64(at_pa(PT_U + 8 * ((u >> 12) & 511)), KUSD_PA | 3);
	wdt_put_le32(at_pa(KUSD_PA + WDT_KUSD_NT_MAJOR), 10);

	/* MZ/PE at KernBase (page 0). */
	memcpy(at(KB), "MZ", 2);
	wdt_put_le32(at(KB) + 0x3C, 0x80);
	memcpy(at(KB + 0x80), "PE\0\0", 4);

	k = at(KDBG_VA);
	wdt_put_le32(k + WDT_KDBG_OWNER_TAG, WDT_KDBG_TAG);
	wdt_put_le32(k + WDT_KDBG_SIZE, 0x340);
	wdt_put_le64(k + WDT_KDBG_KERN_BASE, KB);
	wdt_put_le64(k + WDT_KDBG_PS_LOADED_MODULE_LIST, MODS);
	wdt_put_le64(k + WDT_KDBG_PS_ACTIVE_PROCESS_HEAD, PROCS);
	wdt_put_le64(k + WDT_KDBG_MM_PFN_DATABASE, PFNVAR);
	wdt_put_le64(k + WDT_KDBG_MM_SYSTEM_RANGE_START, SYSRANGE);
	wdt_put_le64(k + WDT_KDBG_KI_BUGCHECK_DATA, BUGDATA);
	wdt_put_le64(k + WDT_KDBG_KI_PROCESSOR_BLOCK, KPB);
	wdt_put_le16(k + WDT_KDBG_OFFSET_PRCB_CONTEXT, CTX_OFF);

	/* Empty lists point at themselves. */
	wdt_put_le64(at(MODS), MODS);
	wdt_put_le64(at(MODS + 8), MODS);
	wdt_put_le64(at(PROCS), PROCS);
	wdt_put_le64(at(PROCS + 8), PROCS);
	wdt_put_le64(at(PFNVAR), PFNVAL);
	wdt_put_le64(at(SYSRANGE), 0xFFFF800000000000ull);
	for (unsigned i = 0; i < 2; i++) {
		wdt_put_le64(at(KPB + 8 * i), PRCB(i));
		wdt_put_le64(at(PRCB(i) + CTX_OFF), CTX(i));
		put_ctx(at(CTX(i)), KB + 0x700 + i);
	}
}

static void put_header(uint32_t type)
{
	uint8_t *h = dmp;

	wdt_put_le32(h + WDT_DMP64_SIGNATURE, WDT_DMP_SIG_PAGE);
	wdt_put_le32(h + WDT_DMP64_VALID_DUMP, WDT_DMP_VALID_DU64);
	wdt_put_le32(h + WDT_DMP64_MAJOR, 0xF);
	wdt_put_le32(h + WDT_DMP64_MINOR, 19041);
	wdt_put_le64(h + WDT_DMP64_DTB, PML4);
	wdt_put_le64(h + WDT_DMP64_PFN_DATABASE, PFNVAL);
	wdt_put_le64(h + WDT_DMP64_PS_LOADED_MODULE_LIST, MODS);
	wdt_put_le64(h + WDT_DMP64_PS_ACTIVE_PROCESS_HEAD, PROCS);
	wdt_put_le32(h + WDT_DMP64_MACHINE, WDT_MACHINE_AMD64);
	wdt_put_le32(h + WDT_DMP64_NUMBER_PROCESSORS, 2);
	wdt_put_le32(h + WDT_DMP64_BUGCHECK_CODE,
		     WDT_BUGCHECK_LIVE_SYSTEM_DUMP);
	wdt_put_le64(h + WDT_DMP64_KDBG, KDBG_VA);
	put_ctx(h + WDT_DMP64_CONTEXT, KB + 0x700);
	wdt_put_le32(h + WDT_DMP64_DUMP_TYPE, type);
	wdt_put_le64(h + WDT_DMP64_REQUIRED_SPACE, dmp_len);
	if (type == WDT_DUMP_TYPE_FULL) {
		wdt_put_le32(h + WDT_DMP64_PMB_NRUNS, 1);
		wdt_put_le64(h + WDT_DMP64_PMB_NPAGES, NPAGES);
		wdt_put_le64(h + WDT_DMP64_PMB_RUNS, 0);
		wdt_put_le64(h + WDT_DMP64_PMB_RUNS + 8, NPAGES);
		return;
	}
	/* Bitmap: 'PAGE' fill over the run list, every page present. */
	memset(h + WDT_DMP64_PMB, 0, WDT_DMP64_PMB_SIZE);
	for (unsigned i = 0; i < WDT_DMP64_PMB_SIZE / 4; i++)
		wdt_put_le32(h + WDT_DMP64_PMB + 4 * i, WDT_DMP_SIG_PAGE);
	uint8_t *b = dmp + WDT_DMP64_HDR_SIZE;
	wdt_put_le32(b + WDT_BMP_SIGNATURE, WDT_DMP_SIG_FDMP);
	wdt_put_le32(b + WDT_BMP_VALID_DUMP, WDT_DMP_VALID_DUMP);
	wdt_put_le64(b + WDT_BMP_FIRST_PAGE, body);
	wdt_put_le64(b + WDT_BMP_PRESENT_PAGES, NPAGES);
	wdt_put_le64(b + WDT_BMP_BITS, NPAGES);
	memset(b + WDT_BMP_BITMAP, 0xFF, NPAGES / 8);
}

/* A sound dump of the given type (1 full, 5 bitmap), room for a page more. */
static void build(uint32_t type)
{
	body = type == WDT_DUMP_TYPE_FULL ? WDT_DMP64_HDR_SIZE : 0x3000;
	dmp_len = body + MEM;
	free(dmp);
	dmp = calloc(1, dmp_len + 4096);
	assert_non_null(dmp);
	put_guest();
	put_header(type);
}

static int run_opts(const struct wdt_dmpcheck_opts *o)
{
	struct wdt_err e = {0};
	struct wdt_source *s = wdt_source_open_mem(dmp, dmp_len, "t.dmp", &e);

	assert_non_null(s);
	if (wdt_dmpcheck_run(s, o, &r, &e) < 0)
		fail_msg("not checked: %s", e.msg);
	return 0;
}

static void run(void)
{
	run_opts(NULL);
}

static void print_findings(void)
{
	for (size_t i = 0; i < r.n; i++)
		print_message("  %s %s: %s\n",
			      wdt_dmpcheck_code_name(r.f[i].code),
			      wdt_dmpcheck_sev_name(r.f[i].sev), r.f[i].msg);
}

/* Exactly one finding, with this code, severity and message. */
static const struct wdt_dmpcheck_finding *
expect_one(enum wdt_dmpcheck_code code, enum wdt_dmpcheck_sev sev,
	   const char *msg)
{
	run();
	if (r.n != 1) {
		print_findings();
		fail_msg("%zu findings, want only %s", r.n,
			 wdt_dmpcheck_code_name(code));
	}
	assert_string_equal(wdt_dmpcheck_code_name(r.f[0].code),
			    wdt_dmpcheck_code_name(code));
	assert_int_equal(r.f[0].sev, sev);
	assert_string_equal(r.f[0].msg, msg);
	return &r.f[0];
}

#define E WDT_DMPCHECK_ERROR
#define W WDT_DMPCHECK_WARNING

static void test_sound(void **state)
{
	(void)state;
	build(WDT_DUMP_TYPE_FULL);
	run();
	print_findings();
	assert_int_equal(r.n, 0);
	assert_false(r.memory_skipped);
	build(WDT_DUMP_TYPE_BITMAP_FULL);
	run();
	print_findings();
	assert_int_equal(r.n, 0);
	/* header_only: the header is judged, memory left alone. */
	struct wdt_dmpcheck_opts o = {.header_only = true};
	wdt_put_le64(dmp + WDT_DMP64_KDBG, UNMAPPED);
	run_opts(&o);
	assert_int_equal(r.n, 0);
	assert_true(r.memory_skipped);
	assert_string_equal(r.skipped, "not asked for");
}

static void test_not_dmp(void **state)
{
	(void)state;
	struct wdt_err e = {0};
	struct wdt_source *s;

	build(WDT_DUMP_TYPE_FULL);
	s = wdt_source_open_mem(dmp, 0x1000, "t.dmp", &e);
	assert_int_equal(wdt_dmpcheck_run(s, NULL, &r, &e), -1);
	assert_err(&e, WDT_TRUNCATED, "not a readable DMP");
	memcpy(dmp, "PAGX", 4);
	s = wdt_source_open_mem(dmp, dmp_len, "t.dmp", &e);
	assert_int_equal(wdt_dmpcheck_run(s, NULL, &r, &e), -1);
	assert_err(&e, WDT_UNKNOWN_FORMAT, "not a readable DMP");
}

static void test_header(void **state)
{
	(void)state;
	uint8_t *h;

	build(WDT_DUMP_TYPE_FULL);
	h = dmp;
	memcpy(h + 4, "DUXX", 4);
	expect_one(WDT_DC_VALID_DUMP, E,
		   "ValidDump is 0x58585544, not 'DU64': debuggers report "
		   "\"Could not match Dump File signature\"");
	assert_true(r.memory_skipped);

	build(WDT_DUMP_TYPE_FULL);
	memset(dmp, 0, WDT_DMP64_HDR_SIZE);
	memcpy(dmp, "PAGEDUMP", 8);
	expect_one(WDT_DC_NOT_64_BIT, E,
		   "a 32-bit ('PAGEDUMP') header: wdt verifies 64-bit dumps "
		   "only, and 64-bit debugger extensions will not load");
	assert_string_equal(r.skipped, "32-bit dump");

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le32(dmp + WDT_DMP64_DUMP_TYPE, 4);
	expect_one(
	    WDT_DC_DUMP_TYPE, E,
	    "DumpType 4 (triage (minidump)) is not a kernel memory dump: "
	    "debuggers will reject the file or show no memory");
	wdt_put_le32(dmp + WDT_DMP64_DUMP_TYPE, 9);
	expect_one(WDT_DC_DUMP_TYPE, W,
		   "DumpType 9 (kernel and user range (RDMP)): only some "
		   "debuggers open it (volatility and LeechCore read types 1, "
		   "5 and 6 only)");
	assert_true(r.memory_skipped);

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le32(dmp + WDT_DMP64_MACHINE, WDT_MACHINE_I386);
	const struct wdt_dmpcheck_finding *f = expect_one(
	    WDT_DC_MACHINE_TYPE, E,
	    "MachineImageType is 0x14c, not 0x8664 (AMD64): debuggers "
	    "will decode the dump for another architecture or refuse it");
	assert_true(f->have_values);
	assert_int_equal(f->expected, WDT_MACHINE_AMD64);
	assert_int_equal(f->found, WDT_MACHINE_I386);

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le32(dmp + WDT_DMP64_MAJOR, 5);
	expect_one(WDT_DC_VERSION, E,
		   "MajorVersion is 0x5, not 0xf (free) or 0xc (checked): "
		   "debuggers will not trust the kernel build");
	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le32(dmp + WDT_DMP64_MINOR, 100);
	expect_one(WDT_DC_VERSION, E,
		   "MinorVersion (build) is 100, outside 2600..60000: "
		   "debuggers will pick structure layouts for the wrong build");

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le32(dmp + WDT_DMP64_NUMBER_PROCESSORS, 3);
	f = expect_one(WDT_DC_PROCESSOR_COUNT, E,
		       "NumberProcessors is 3 but KiProcessorBlock "
		       "0xfffff8000000b000 lists 2 processors: debuggers show "
		       "the wrong processors");
	assert_true(f->have_addr);
	assert_int_equal(f->addr, KPB);
}

static void test_runs(void **state)
{
	(void)state;
	uint8_t *h;

	build(WDT_DUMP_TYPE_FULL);
	h = dmp;
	wdt_put_le32(h + WDT_DMP64_PMB_NRUNS, 43);
	expect_one(WDT_DC_RUNS_COUNT, E,
		   "NumberOfRuns is 43 (the header holds at most 42): "
		   "debuggers cannot map physical memory");
	wdt_put_le32(h + WDT_DMP64_PMB_NRUNS, WDT_DMP_SIG_PAGE);
	expect_one(WDT_DC_RUNS_COUNT, E,
		   "NumberOfRuns is the 'PAGE' fill, 1162297680 (the header "
		   "holds at most 42): debuggers cannot map physical memory");
	wdt_put_le32(h + WDT_DMP64_PMB_NRUNS, 0);
	expect_one(WDT_DC_RUNS_COUNT, E,
		   "NumberOfRuns is 0: the dump holds no memory");

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le64(dmp + WDT_DMP64_PMB_RUNS + 8, 0);
	run();
	assert_int_equal(r.n, 1);
	assert_int_equal(r.f[0].code, WDT_DC_RUNS_INVALID);
	assert_non_null(strstr(
	    r.f[0].msg, ": debuggers will misplace every page after it"));

	/* Two halves stored high half first: unsorted, still readable. */
	build(WDT_DUMP_TYPE_FULL);
	h = dmp;
	uint8_t *tmp = malloc(MEM / 2);
	assert_non_null(tmp);
	memcpy(tmp, at_pa(0), MEM / 2);
	memmove(at_pa(0), at_pa(MEM / 2), MEM / 2);
	memcpy(at_pa(MEM / 2), tmp, MEM / 2);
	free(tmp);
	wdt_put_le32(h + WDT_DMP64_PMB_NRUNS, 2);
	wdt_put_le64(h + WDT_DMP64_PMB_RUNS, NPAGES / 2);
	wdt_put_le64(h + WDT_DMP64_PMB_RUNS + 8, NPAGES / 2);
	wdt_put_le64(h + WDT_DMP64_PMB_RUNS + 16, 0);
	wdt_put_le64(h + WDT_DMP64_PMB_RUNS + 24, NPAGES / 2);
	expect_one(WDT_DC_RUNS_UNSORTED, E,
		   "run 1 (PFN 0x0) comes after run 0 (PFN 0x100): runs must "
		   "ascend; readers that search them will miss pages");

	build(WDT_DUMP_TYPE_FULL);
	h = dmp;
	wdt_put_le32(h + WDT_DMP64_PMB_NRUNS, 2);
	wdt_put_le64(h + WDT_DMP64_PMB_RUNS + 8, 0x100);
	wdt_put_le64(h + WDT_DMP64_PMB_RUNS + 16, 0x80);
	wdt_put_le64(h + WDT_DMP64_PMB_RUNS + 24, 0x100);
	expect_one(WDT_DC_RUNS_OVERLAP, E,
		   "runs at PFN 0x0 (+0x100) and 0x80 overlap: debuggers will "
		   "read one of two different pages for the same address");

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le64(dmp + WDT_DMP64_PMB_NPAGES, NPAGES + 1);
	expect_one(WDT_DC_RUNS_PAGE_COUNT, E,
		   "NumberOfPages is 513 but the runs hold 512 pages: "
		   "debuggers size the dump wrongly");
}

static void test_bitmap(void **state)
{
	(void)state;
	uint8_t *b;

	build(WDT_DUMP_TYPE_BITMAP_FULL);
	b = dmp + WDT_DMP64_HDR_SIZE;
	memcpy(b, "XDMP", 4);
	run();
	assert_int_equal(r.n, 1);
	assert_int_equal(r.f[0].code, WDT_DC_BITMAP_HEADER);
	assert_non_null(
	    strstr(r.f[0].msg, ": debuggers cannot locate any page"));

	build(WDT_DUMP_TYPE_BITMAP_FULL);
	b = dmp + WDT_DMP64_HDR_SIZE;
	b[WDT_BMP_BITMAP + NPAGES / 8 - 1] = 0x7F; /* last page absent */
	dmp_len -= 4096;
	wdt_put_le64(dmp + WDT_DMP64_REQUIRED_SPACE, dmp_len);
	expect_one(WDT_DC_BITMAP_POPCOUNT, E,
		   "TotalPresentPages is 512 but the bitmap has 511 bits set: "
		   "debuggers disagree on how many pages follow");
}

static void test_size(void **state)
{
	(void)state;

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le64(dmp + WDT_DMP64_REQUIRED_SPACE, dmp_len + 4096);
	expect_one(WDT_DC_REQUIRED_SPACE, E,
		   "RequiredDumpSpace is 2109440 but the layout needs 2105344 "
		   "bytes: WinDbg treats the dump as damaged");

	build(WDT_DUMP_TYPE_FULL);
	dmp_len -= 3 * 4096 + 100;
	expect_one(WDT_DC_TRUNCATED, E,
		   "the file is 2092956 bytes, 12388 short of the 2105344 the "
		   "layout needs: 4 pages missing, which debuggers report as "
		   "not present");

	build(WDT_DUMP_TYPE_FULL);
	dmp_len += 4096;
	expect_one(WDT_DC_TRAILING_DATA, W,
		   "the file has 4096 bytes after the 2105344 the layout "
		   "needs: debuggers ignore them");
}

static void test_context(void **state)
{
	(void)state;
	uint8_t *c;

	build(WDT_DUMP_TYPE_FULL);
	c = dmp + WDT_DMP64_CONTEXT;
	for (unsigned i = 0; i < WDT_CTX_SIZE; i += 4)
		memcpy(c + i, "PAGE", 4);
	expect_one(WDT_DC_CONTEXT_UNSET, W,
		   "the header ContextRecord is unset ('PAGE' fill or zero): "
		   "debuggers take registers from the per-CPU PRCB contexts "
		   "only; tools that read the header show none");

	build(WDT_DUMP_TYPE_FULL);
	c = dmp + WDT_DMP64_CONTEXT;
	wdt_put_le64(c + WDT_CTX_RIP, 0x0000800000000000ull);
	const struct wdt_dmpcheck_finding *f = expect_one(
	    WDT_DC_CONTEXT_RIP, E,
	    "header ContextRecord: Rip 0x0000800000000000 is not "
	    "canonical: debuggers cannot disassemble or unwind from it");
	assert_false(f->have_addr);

	build(WDT_DUMP_TYPE_FULL);
	c = dmp + WDT_DMP64_CONTEXT;
	wdt_put_le64(c + WDT_CTX_RSP, 0x1234567812345678ull);
	expect_one(WDT_DC_CONTEXT_RSP, E,
		   "header ContextRecord: Rsp 0x1234567812345678 is not "
		   "canonical: debuggers cannot walk the stack");

	build(WDT_DUMP_TYPE_FULL);
	c = dmp + WDT_DMP64_CONTEXT;
	wdt_put_le16(c + WDT_CTX_SEG_CS, 0x23);
	expect_one(WDT_DC_CONTEXT_CS, E,
		   "header ContextRecord: SegCs is 0x23, not 0x10 or 0x33 "
		   "(64-bit code): WinDbg will show a 32-bit context");

	build(WDT_DUMP_TYPE_FULL);
	c = dmp + WDT_DMP64_CONTEXT;
	wdt_put_le32(c + WDT_CTX_MXCSR, 0x1F81);
	expect_one(WDT_DC_CONTEXT_MXCSR, E,
		   "header ContextRecord: MxCsr 0x1f81 differs from "
		   "FltSave.MxCsr 0x1f80: kdmp-parser rejects the dump");

	/* A processor's CONTEXT: the same checks, and its address. */
	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le16(at(CTX(1)) + WDT_CTX_SEG_CS, 0);
	f = expect_one(WDT_DC_CONTEXT_CS, E,
		       "CPU 1 context at 0xfffff80000011000: SegCs is 0x0, not "
		       "0x10 or 0x33 (64-bit code): WinDbg will show a 32-bit "
		       "context");
	assert_true(f->have_addr);
	assert_int_equal(f->addr, CTX(1));

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le64(at(PRCB(1) + CTX_OFF), UNMAPPED);
	run();
	assert_int_equal(r.n, 1);
	assert_int_equal(r.f[0].code, WDT_DC_CONTEXT_UNREADABLE);
	assert_non_null(strstr(r.f[0].msg,
			       "CPU 1: the CONTEXT of KPRCB 0xfffff8000000d000 "
			       "(+0x100) cannot be read ("));
	assert_int_equal(r.f[0].addr, PRCB(1));
}

static void test_memory(void **state)
{
	(void)state;
	const struct wdt_dmpcheck_finding *f;

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le64(dmp + WDT_DMP64_DTB, PML4 | 0x800);
	expect_one(WDT_DC_DTB, E,
		   "DirectoryTableBase 0x1800 is not page aligned: debuggers "
		   "may use the wrong page tables");
	wdt_put_le64(dmp + WDT_DMP64_DTB, PDPT_K);
	run();
	assert_int_equal(r.n, 1);
	assert_int_equal(r.f[0].code, WDT_DC_DTB);
	assert_non_null(strstr(r.f[0].msg,
			       "DirectoryTableBase 0x2000 does not translate "
			       "KUSER_SHARED_DATA ("));

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le64(dmp + WDT_DMP64_KDBG, UNMAPPED);
	run();
	assert_int_equal(r.n, 1);
	assert_int_equal(r.f[0].code, WDT_DC_KDBG_UNREADABLE);
	assert_non_null(strstr(r.f[0].msg,
			       "KdDebuggerDataBlock "
			       "0xffff800000000000 cannot be read ("));
	assert_int_equal(r.f[0].addr, UNMAPPED);

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le32(at(KDBG_VA) + WDT_KDBG_OWNER_TAG, 0x12345678);
	f = expect_one(
	    WDT_DC_KDBG_ENCODED, E,
	    "KdDebuggerDataBlock 0xfffff80000008000 has OwnerTag "
	    "0x12345678, not a cleartext 'KDBG' (encoded, as Windows "
	    "8+ keeps it): WinDbg reports \"KdDebuggerDataBlock is "
	    "not present or unreadable\"");
	assert_int_equal(f->addr, KDBG_VA);

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le64(at(KDBG_VA) + WDT_KDBG_KERN_BASE, 0x7ff000000000ull);
	expect_one(WDT_DC_KERNBASE_RANGE, E,
		   "KDBG KernBase 0x00007ff000000000 is below the system range "
		   "start 0xffff800000000000: debuggers cannot load kernel "
		   "symbols");

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le64(at(KDBG_VA) + WDT_KDBG_KERN_BASE, KB + 0x1000);
	expect_one(WDT_DC_KERNBASE_NO_IMAGE, E,
		   "no MZ/PE image at KDBG KernBase 0xfffff80000001000: "
		   "debuggers cannot identify the kernel or load its symbols");

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le64(dmp + WDT_DMP64_PS_LOADED_MODULE_LIST, MODS + 0x10);
	expect_one(WDT_DC_PS_LOADED_MODULE_LIST, E,
		   "header PsLoadedModuleList 0xfffff8000000a010 differs from "
		   "KDBG's 0xfffff8000000a000: debuggers list the wrong "
		   "modules");

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le64(dmp + WDT_DMP64_PS_ACTIVE_PROCESS_HEAD, PROCS + 0x10);
	expect_one(WDT_DC_PS_ACTIVE_PROCESS_HEAD, E,
		   "header PsActiveProcessHead 0xfffff8000000a020 differs from "
		   "KDBG's 0xfffff8000000a010: debuggers list the wrong "
		   "processes");

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le64(dmp + WDT_DMP64_PFN_DATABASE, PFNVAR);
	expect_one(WDT_DC_PFN_DATABASE, W,
		   "header PfnDataBase 0xfffff8000000a100 is the address of "
		   "nt!MmPfnDatabase, not its value 0xfffffa8000000000 (QEMU "
		   "writes it so): tools that trust the header look for PFN "
		   "entries in the wrong place");
	wdt_put_le64(dmp + WDT_DMP64_PFN_DATABASE, 0xFFFF123400000000ull);
	expect_one(WDT_DC_PFN_DATABASE, E,
		   "header PfnDataBase 0xffff123400000000 is neither "
		   "nt!MmPfnDatabase's value 0xfffffa8000000000 nor its "
		   "address 0xfffff8000000a100: tools that trust the header "
		   "misread the PFN database");

	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le64(at(PROCS), 0x1234);
	f = expect_one(WDT_DC_LIST_HEAD, E,
		       "PsActiveProcessHead list head 0xfffff8000000a010 is "
		       "broken (Flink or Blink is not a kernel pointer): "
		       "debuggers cannot walk it");
	assert_int_equal(f->addr, PROCS);
	build(WDT_DUMP_TYPE_FULL);
	wdt_put_le64(at(MODS + 8), MODS + 0x40); /* Flink->Blink */
	expect_one(WDT_DC_LIST_HEAD, E,
		   "PsLoadedModuleList list head 0xfffff8000000a000 is broken "
		   "(Flink->Blink does not point back at the head): debuggers "
		   "cannot walk it");
}

/*
 * A source over dmp whose reads fail after the first (the header checks'
 * read): the image cannot be opened although the header is sound.
 */
struct flaky {
	unsigned reads;
};

static int flaky_pread(struct wdt_source *src, void *buf, size_t len,
		       uint64_t off, size_t *got, struct wdt_err *err)
{
	struct flaky *f = src->priv;

	if (f->reads++)
		return wdt_err_set(err, WDT_IO, "read error at 0x%llx",
				   (unsigned long long)off);
	*got = off >= dmp_len ? 0 : len < dmp_len - off ? len : dmp_len - off;
	memcpy(buf, dmp + off, *got);
	return 0;
}

static void flaky_close(struct wdt_source *src)
{
	(void)src;
}

static const struct wdt_source_ops flaky_ops = {flaky_pread, flaky_close};

static void test_unreadable(void **state)
{
	(void)state;
	struct flaky f = {0};
	struct wdt_err e = {0};
	struct wdt_source *s;

	build(WDT_DUMP_TYPE_FULL);
	s = wdt_source_new(&flaky_ops, &f, dmp_len, "flaky.dmp", &e);
	assert_non_null(s);
	assert_int_equal(wdt_dmpcheck_run(s, NULL, &r, &e), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.f[0].code, WDT_DC_UNREADABLE);
	assert_int_equal(r.f[0].sev, E);
	assert_non_null(strstr(r.f[0].msg, "read error at 0x0"));
	assert_non_null(
	    strstr(r.f[0].msg, ": debuggers will not open the dump"));
	assert_true(r.memory_skipped);
	assert_non_null(strstr(r.skipped, "read error at 0x0"));
}

/* More findings than the report keeps are counted, not lost silently. */
static void test_dropped(void **state)
{
	(void)state;

	build(WDT_DUMP_TYPE_FULL);
	/* 2 CPUs x 4 context findings = 8; raise the count with many CPUs. */
	for (unsigned i = 0; i < 40; i++) {
		wdt_put_le64(at(KPB + 8 * i), PRCB(0));
		put_ctx(at(CTX(0)), 0x0000800000000000ull);
	}
	wdt_put_le64(at(CTX(0)) + WDT_CTX_RSP, 0x0000800000000000ull);
	wdt_put_le16(at(CTX(0)) + WDT_CTX_SEG_CS, 0x23);
	wdt_put_le32(at(CTX(0)) + WDT_CTX_MXCSR, 0);
	wdt_put_le32(dmp + WDT_DMP64_NUMBER_PROCESSORS, 40);
	run();
	assert_int_equal(r.n, WDT_DMPCHECK_MAX);
	assert_int_equal(r.dropped, 40 * 4 - WDT_DMPCHECK_MAX);
	assert_int_equal(wdt_dmpcheck_count(&r, E), WDT_DMPCHECK_MAX);
	assert_int_equal(wdt_dmpcheck_count(&r, W), 0);
}

/* docs/wdt-verify.1 lists every code of the table, with its severity. */
static void test_table_and_man_page(void **state)
{
	(void)state;
	FILE *f = fopen("docs/wdt-verify.1", "r");
	bool seen[WDT_DC_COUNT] = {false};
	char line[512];
	unsigned listed = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *pq, *tok, *save = NULL;
		enum wdt_dmpcheck_sev want;

		if (strncmp(line, ".It ", 4) != 0 ||
		    !(pq = strstr(line, " Pq ")))
			continue;
		*pq = '\0';
		pq += 4;
		pq[strcspn(pq, "\n")] = '\0';
		if (!strcmp(pq, "error"))
			want = E;
		else if (!strcmp(pq, "warning"))
			want = W;
		else if (!strcmp(pq, "error or warning") ||
			 !strcmp(pq, "warning or error"))
			want = WDT_DMPCHECK_EITHER;
		else
			continue; /* not a finding */
		for (tok = strtok_r(line + 4, " ,", &save); tok;
		     tok = strtok_r(NULL, " ,", &save)) {
			unsigned c = 0;

			while (c < WDT_DC_COUNT &&
			       strcmp(wdt_dmpcheck_code_name(c), tok))
				c++;
			if (c == WDT_DC_COUNT)
				fail_msg("man page lists '%s', not a code",
					 tok);
			assert_false(seen[c]);
			seen[c] = true;
			listed++;
			if (wdt_dmpcheck_code_sev(c) != want)
				fail_msg("'%s': man page says %s", tok, pq);
		}
	}
	fclose(f);
	for (unsigned c = 0; c < WDT_DC_COUNT; c++) {
		if (!seen[c])
			fail_msg("'%s' is not in docs/wdt-verify.1",
				 wdt_dmpcheck_code_name(c));
		assert_true(strlen(wdt_dmpcheck_code_desc(c)) > 10);
	}
	assert_int_equal(listed, WDT_DC_COUNT);
	assert_string_equal(wdt_dmpcheck_code_name(WDT_DC_COUNT), "?");
}

/* ---- crash findings, over the shared guest ---- */

#define CODE 0xD1u

static const char *argv0;
static struct wdt_test_guest g;
static bool have_guest;

/*
 * dmp = the header crashhdr builds for g (crashed on CPU 2 when crash) +
 * g's memory as one run.
 */
static void build_crashed(bool crash)
{
	struct wdt_crash_opts o = {0};
	struct wdt_bugcheck b;
	struct wdt_crash c;
	struct wdt_err e = {0};

	wdt_tg_build(&g);
	if (crash)
		wdt_tg_crash_on(&g, 2, CODE);
	if (wdt_bugcheck_find(&g.k, &g.d, NULL, &b, &e) < 0 ||
	    wdt_crash_build(&g.k, &g.d, &b, &o, &c, &e) < 0)
		fail_msg("%s", e.msg);
	free(dmp);
	body = WDT_DMP64_HDR_SIZE;
	dmp_len = body + TG_MEM;
	dmp = malloc(dmp_len);
	assert_non_null(dmp);
	memcpy(dmp, c.hdr, WDT_DMP64_HDR_SIZE);
	memcpy(dmp + body, g.m, TG_MEM);
	wdt_put_le32(dmp + WDT_DMP64_PMB_NRUNS, 1);
	wdt_put_le64(dmp + WDT_DMP64_PMB_NPAGES, TG_MEM / 4096);
	wdt_put_le64(dmp + WDT_DMP64_PMB_RUNS, 0);
	wdt_put_le64(dmp + WDT_DMP64_PMB_RUNS + 8, TG_MEM / 4096);
	wdt_put_le32(dmp + WDT_DMP64_DUMP_TYPE, WDT_DUMP_TYPE_FULL);
	wdt_put_le64(dmp + WDT_DMP64_REQUIRED_SPACE, dmp_len);
	wdt_crash_free(&c);
	wdt_bugcheck_free(&b);
	wdt_tg_done(&g);
}

static void test_crash(void **state)
{
	(void)state;
	const struct wdt_dmpcheck_finding *f;

	if (!have_guest)
		skip(); /* tools/mkpdb-test.sh: no clang/lld-link */
	/* Live, and crashed with the saved bugcheck CONTEXT: sound. */
	build_crashed(false);
	run();
	print_findings();
	assert_int_equal(r.n, 0);
	build_crashed(true);
	run();
	print_findings();
	assert_int_equal(r.n, 0);

	/* The header's code is not KiBugcheckData's. */
	wdt_put_le32(dmp + WDT_DMP64_BUGCHECK_CODE, 0x50);
	f = expect_one(
	    WDT_DC_BUGCHECK_CODE, E,
	    "the header says bugcheck 0x50 (0x700, 0x2, 0x0, "
	    "0xfffff80000201111) but KiBugcheckData holds 0xd1 "
	    "(0x700, 0x2, 0x0, 0xfffff80000201111): debuggers report "
	    "the wrong crash");
	assert_int_equal(f->expected, CODE);
	assert_int_equal(f->found, 0x50);

	/* The header ContextRecord is CPU 0's, not the crashing one's. */
	build_crashed(true);
	memcpy(dmp + WDT_DMP64_CONTEXT, at_pa(TG_KPA + (TG_CTX(0) - TG_KB)),
	       WDT_CTX_SIZE);
	char want[300];
	snprintf(want, sizeof(want),
		 "the header ContextRecord (Rip 0xfffff80000000777) is not "
		 "CPU 2's saved bugcheck CONTEXT at 0xfffff80000412000 (Rip "
		 "0x%llx): WinDbg's .ecxr, k and !analyze start from the "
		 "wrong registers",
		 (unsigned long long)g.kbe); /* KeBugCheckEx */
	f = expect_one(WDT_DC_CRASH_CONTEXT, E, want);
	assert_int_equal(f->addr, TG_CTX(2));

	/* Every saved CONTEXT overwritten with live state. */
	build_crashed(true);
	wdt_put_le64(at_pa(TG_KPA + (TG_CTX(2) - TG_KB)) + WDT_CTX_RIP,
		     TG_KB + 0x777);
	run();
	if (r.n != 1)
		print_findings();
	assert_int_equal(r.n, 1);
	assert_int_equal(r.f[0].code, WDT_DC_CRASH_CONTEXT_LOST);
	assert_int_equal(r.f[0].sev, W);
	assert_non_null(strstr(r.f[0].msg,
			       "the guest crashed (bugcheck 0xd1) but no "
			       "processor's saved CONTEXT is KeBugCheckEx's"));
	assert_non_null(strstr(r.f[0].msg, "so k and !analyze start from the "
					   "wrong registers"));
}

/* Without the Windows toolchain (77) only test_crash is skipped. */
static int group_setup(void **state)
{
	int rc;

	(void)state;
	rc = td_build(argv0);
	if (rc == 77)
		return 0;
	if (rc != 0)
		return -1;
	have_guest = true;
	return wdt_tg_init(&g, td_path("wdttest.dll"));
}

static int teardown(void **state)
{
	(void)state;
	free(dmp);
	dmp = NULL;
	wdt_tg_free(&g);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sound),
	    cmocka_unit_test(test_not_dmp),
	    cmocka_unit_test(test_header),
	    cmocka_unit_test(test_runs),
	    cmocka_unit_test(test_bitmap),
	    cmocka_unit_test(test_size),
	    cmocka_unit_test(test_context),
	    cmocka_unit_test(test_memory),
	    cmocka_unit_test(test_unreadable),
	    cmocka_unit_test(test_dropped),
	    cmocka_unit_test(test_crash),
	    cmocka_unit_test(test_table_and_man_page),
	};

	(void)argc;
	argv0 = argv[0];
	return cmocka_run_group_tests(tests, group_setup, teardown);
}
