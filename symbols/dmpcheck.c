/* SPDX-License-Identifier: MIT */
/*
 * The checks of symbols/dmpcheck.h. Every finding names what a debugger
 * will do because of it; codes, severities and descriptions come from the
 * one table in the header.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/image.h"
#include "core/paging.h"
#include "formats/dmp.h"
#include "formats/registry.h"
#include "symbols/bugcheck.h"
#include "symbols/dmpcheck.h"
#include "symbols/kdbg.h"
#include "symbols/kernel.h"

#define MAX_CPUS 256
/* Start of the kernel half of the 48-bit canonical address space. */
#define KERNEL_SPACE 0xFFFF800000000000ull
/* KDBG bytes read: Header.Size of Windows 7, the first with
 * OffsetPrcbContext (windows-kernel.md §1). */
#define KDBG_READ 0x340u
/* 64-bit kernel and user code selectors (windows-kernel.md §8). */
#define CS_KERNEL 0x10u
#define CS_USER64 0x33u

static const struct {
	const char *name, *desc;
	enum wdt_dmpcheck_sev sev;
} codes[WDT_DC_COUNT] = {
#define ROW(id, n, s, d) [WDT_DC_##id] = {n, d, WDT_DMPCHECK_##s},
    WDT_DMPCHECK_CODES(ROW)
#undef ROW
};

const char *wdt_dmpcheck_code_name(enum wdt_dmpcheck_code c)
{
	return (unsigned)c < WDT_DC_COUNT ? codes[c].name : "?";
}

const char *wdt_dmpcheck_code_desc(enum wdt_dmpcheck_code c)
{
	return (unsigned)c < WDT_DC_COUNT ? codes[c].desc : "?";
}

enum wdt_dmpcheck_sev wdt_dmpcheck_code_sev(enum wdt_dmpcheck_code c)
{
	return (unsigned)c < WDT_DC_COUNT ? codes[c].sev : WDT_DMPCHECK_ERROR;
}

const char *wdt_dmpcheck_sev_name(enum wdt_dmpcheck_sev s)
{
	return s == WDT_DMPCHECK_WARNING ? "warning" : "error";
}

size_t wdt_dmpcheck_count(const struct wdt_dmpcheck *r, enum wdt_dmpcheck_sev s)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->f[i].sev == s;
	return n;
}

/* One run of the checks. */
struct check {
	struct wdt_dmpcheck *r;
	struct wdt_dmp_hdr h;
	uint64_t file_size;
	struct wdt_image *img;
	struct wdt_vas vas;
	uint8_t kdbg[KDBG_READ];
};

static struct wdt_dmpcheck_finding *vadd(struct check *v,
					 enum wdt_dmpcheck_code code,
					 enum wdt_dmpcheck_sev sev,
					 const char *fmt, va_list ap)
{
	struct wdt_dmpcheck *r = v->r;
	struct wdt_dmpcheck_finding *f;

	if (r->n == WDT_DMPCHECK_MAX) {
		r->dropped++;
		return NULL;
	}
	f = &r->f[r->n++];
	memset(f, 0, sizeof(*f));
	f->code = code;
	f->sev = sev;
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	return f;
}

/* A finding whose code has one severity (the table's). NULL when full. */
static struct wdt_dmpcheck_finding *
add(struct check *v, enum wdt_dmpcheck_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static struct wdt_dmpcheck_finding *
add(struct check *v, enum wdt_dmpcheck_code code, const char *fmt, ...)
{
	struct wdt_dmpcheck_finding *f;
	va_list ap;

	va_start(ap, fmt);
	f = vadd(v, code, codes[code].sev, fmt, ap);
	va_end(ap);
	return f;
}

/* A finding of an EITHER code, with the severity the check chose. */
static struct wdt_dmpcheck_finding *
add_as(struct check *v, enum wdt_dmpcheck_code code, enum wdt_dmpcheck_sev sev,
       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct wdt_dmpcheck_finding *add_as(struct check *v,
					   enum wdt_dmpcheck_code code,
					   enum wdt_dmpcheck_sev sev,
					   const char *fmt, ...)
{
	struct wdt_dmpcheck_finding *f;
	va_list ap;

	va_start(ap, fmt);
	f = vadd(v, code, sev, fmt, ap);
	va_end(ap);
	return f;
}

static struct wdt_dmpcheck_finding *values(struct wdt_dmpcheck_finding *f,
					   uint64_t expected, uint64_t found)
{
	if (f) {
		f->have_values = true;
		f->expected = expected;
		f->found = found;
	}
	return f;
}

static void at_addr(struct wdt_dmpcheck_finding *f, uint64_t va)
{
	if (f) {
		f->have_addr = true;
		f->addr = va;
	}
}

static bool kernel_ptr(uint64_t va)
{
	return va >= KERNEL_SPACE;
}

/* ---- header ---- */

static void check_version(struct check *v)
{
	const struct wdt_dmp_hdr *h = &v->h;

	if (h->major != 0xF && h->major != 0xC)
		add(v, WDT_DC_VERSION,
		    "MajorVersion is 0x%" PRIx32 ", not 0xf (free) or 0xc "
		    "(checked): debuggers will not trust the kernel build",
		    h->major);
	if (h->minor < 2600 || h->minor > 60000)
		add(v, WDT_DC_VERSION,
		    "MinorVersion (build) is %" PRIu32 ", outside 2600..60000: "
		    "debuggers will pick structure layouts for the wrong build",
		    h->minor);
}

static void check_types(struct check *v)
{
	const struct wdt_dmp_hdr *h = &v->h;
	uint32_t t = h->dump_type;

	if (h->machine != WDT_MACHINE_AMD64)
		values(
		    add(v, WDT_DC_MACHINE_TYPE,
			"MachineImageType is 0x%" PRIx32 ", not 0x8664 "
			"(AMD64): debuggers will decode the dump for another "
			"architecture or refuse it",
			h->machine),
		    WDT_MACHINE_AMD64, h->machine);
	if (t == WDT_DUMP_TYPE_FULL || t == WDT_DUMP_TYPE_BITMAP_FULL ||
	    t == WDT_DUMP_TYPE_BITMAP_KERNEL)
		return;
	if (t == WDT_DUMP_TYPE_SUMMARY || (t >= WDT_DUMP_TYPE_KERNEL_RANGE &&
					   t <= WDT_DUMP_TYPE_COMPLETE_RANGE))
		add_as(v, WDT_DC_DUMP_TYPE, WDT_DMPCHECK_WARNING,
		       "DumpType %" PRIu32 " (%s): only some debuggers open it "
		       "(volatility and LeechCore read types 1, 5 and 6 only)",
		       t, wdt_dmp_type_name(t));
	else
		add_as(v, WDT_DC_DUMP_TYPE, WDT_DMPCHECK_ERROR,
		       "DumpType %" PRIu32 " (%s) is not a kernel memory dump: "
		       "debuggers will reject the file or show no memory",
		       t, wdt_dmp_type_name(t));
}

/* va: where the CONTEXT is in the guest, 0 for the header's. */
static void check_context(struct check *v, const uint8_t *c, const char *what,
			  uint64_t va)
{
	struct wdt_dmpcheck_finding *f[4] = {NULL};

	uint64_t rip = wdt_le64(c + WDT_CTX_RIP);
	uint64_t rsp = wdt_le64(c + WDT_CTX_RSP);
	uint16_t cs = wdt_le16(c + WDT_CTX_SEG_CS);
	uint32_t mx = wdt_le32(c + WDT_CTX_MXCSR);
	uint32_t fmx = wdt_le32(c + WDT_CTX_FLT_MXCSR);

	if (!wdt_va_canonical(rip, false))
		f[0] =
		    values(add(v, WDT_DC_CONTEXT_RIP,
			       "%s: Rip 0x%016" PRIx64 " is not canonical: "
			       "debuggers cannot disassemble or unwind from it",
			       what, rip),
			   0, rip);
	if (!wdt_va_canonical(rsp, false))
		f[1] = values(add(v, WDT_DC_CONTEXT_RSP,
				  "%s: Rsp 0x%016" PRIx64 " is not canonical: "
				  "debuggers cannot walk the stack",
				  what, rsp),
			      0, rsp);
	if (cs != CS_KERNEL && cs != CS_USER64)
		f[2] = values(
		    add(v, WDT_DC_CONTEXT_CS,
			"%s: SegCs is 0x%" PRIx16 ", not 0x10 or 0x33 "
			"(64-bit code): WinDbg will show a 32-bit context",
			what, cs),
		    CS_KERNEL, cs);
	if (mx != fmx)
		f[3] = values(add(v, WDT_DC_CONTEXT_MXCSR,
				  "%s: MxCsr 0x%" PRIx32
				  " differs from FltSave.MxCsr "
				  "0x%" PRIx32 ": kdmp-parser rejects the dump",
				  what, mx, fmx),
			      fmx, mx);
	for (unsigned i = 0; va && i < 4; i++)
		at_addr(f[i], va);
}

static void check_header_context(struct check *v)
{
	if (wdt_dmp_context_unset(v->h.context)) {
		add(v, WDT_DC_CONTEXT_UNSET,
		    "the header ContextRecord is unset ('PAGE' fill or zero): "
		    "debuggers take registers from the per-CPU PRCB contexts "
		    "only; tools that read the header show none");
		return;
	}
	check_context(v, v->h.context, "header ContextRecord", 0);
}

/* Full dump run list; returns the pages the runs hold (0 if unusable). */
static uint64_t check_runs(struct check *v)
{
	const struct wdt_dmp_hdr *h = &v->h;
	struct wdt_dmp_run s[WDT_DMP32_MAX_RUNS];
	uint64_t sum = 0;
	struct wdt_err e;

	if (wdt_dmp_unset32(h->nruns_raw) ||
	    h->nruns_raw > WDT_DMP64_MAX_RUNS) {
		values(add(v, WDT_DC_RUNS_COUNT,
			   "NumberOfRuns is %s%" PRIu32 " (the header holds at "
			   "most 42): debuggers cannot map physical memory",
			   wdt_dmp_unset32(h->nruns_raw) ? "the 'PAGE' fill, "
							 : "",
			   h->nruns_raw),
		       WDT_DMP64_MAX_RUNS, h->nruns_raw);
		return 0;
	}
	if (h->nruns == 0) {
		add(v, WDT_DC_RUNS_COUNT,
		    "NumberOfRuns is 0: the dump holds no memory");
		return 0;
	}
	if (wdt_dmp_check_runs(h, &sum, &e) < 0) {
		add(v, WDT_DC_RUNS_INVALID,
		    "%s: debuggers will misplace every page after it", e.msg);
		return 0;
	}
	memcpy(s, h->runs, h->nruns * sizeof(s[0]));
	for (unsigned i = 1; i < h->nruns; i++)
		if (h->runs[i].base_page < h->runs[i - 1].base_page) {
			add(v, WDT_DC_RUNS_UNSORTED,
			    "run %u (PFN 0x%" PRIx64 ") comes after run %u "
			    "(PFN 0x%" PRIx64 "): runs must ascend; readers "
			    "that search them will miss pages",
			    i, h->runs[i].base_page, i - 1,
			    h->runs[i - 1].base_page);
			break;
		}
	for (unsigned i = 1; i < h->nruns; i++) /* insertion sort: <= 42 */
		for (unsigned j = i;
		     j > 0 && s[j].base_page < s[j - 1].base_page; j--) {
			struct wdt_dmp_run t = s[j];
			s[j] = s[j - 1];
			s[j - 1] = t;
		}
	for (unsigned i = 1; i < h->nruns; i++)
		if (s[i].base_page < s[i - 1].base_page + s[i - 1].page_count) {
			add(v, WDT_DC_RUNS_OVERLAP,
			    "runs at PFN 0x%" PRIx64 " (+0x%" PRIx64 ") and "
			    "0x%" PRIx64 " overlap: debuggers will read one of "
			    "two different pages for the same address",
			    s[i - 1].base_page, s[i - 1].page_count,
			    s[i].base_page);
			break;
		}
	if (sum != h->npages)
		values(add(v, WDT_DC_RUNS_PAGE_COUNT,
			   "NumberOfPages is %" PRIu64
			   " but the runs hold %" PRIu64
			   " pages: debuggers size the dump wrongly",
			   h->npages, sum),
		       sum, h->npages);
	return sum;
}

/* Bitmap dump; returns the layout size (0 if unusable). */
static uint64_t check_bitmap(struct check *v, struct wdt_source *src)
{
	uint8_t buf[WDT_BMP_BITMAP];
	struct wdt_dmp_bitmap b;
	uint64_t pop = 0;
	struct wdt_err e;

	if (wdt_source_read(src, buf, sizeof(buf), WDT_DMP64_HDR_SIZE, &e) <
		0 ||
	    wdt_dmp_parse_bitmap(buf, sizeof(buf), &b, &e) < 0 ||
	    wdt_dmp_check_bitmap(&b, v->file_size, &e) < 0 ||
	    wdt_dmp_bitmap_walk(src, &b, NULL, NULL, &pop, &e) < 0) {
		add(v, WDT_DC_BITMAP_HEADER,
		    "%s: debuggers cannot locate any page", e.msg);
		return 0;
	}
	if (pop != b.present)
		values(add(v, WDT_DC_BITMAP_POPCOUNT,
			   "TotalPresentPages is %" PRIu64
			   " but the bitmap has "
			   "%" PRIu64 " bits set: debuggers disagree on how "
			   "many pages follow",
			   b.present, pop),
		       pop, b.present);
	return b.first_page + pop * WDT_PAGE_SIZE;
}

static void check_size(struct check *v, uint64_t want)
{
	const struct wdt_dmp_hdr *h = &v->h;

	if ((uint64_t)h->required_space != want)
		values(add(v, WDT_DC_REQUIRED_SPACE,
			   "RequiredDumpSpace is %" PRId64 " but the layout "
			   "needs %" PRIu64 " bytes: WinDbg treats the dump as "
			   "damaged",
			   h->required_space, want),
		       want, (uint64_t)h->required_space);
	if (v->file_size < want) {
		uint64_t missing =
		    (want - v->file_size + WDT_PAGE_SIZE - 1) / WDT_PAGE_SIZE;
		values(add(v, WDT_DC_TRUNCATED,
			   "the file is %" PRIu64 " bytes, %" PRIu64 " short "
			   "of the %" PRIu64 " the layout needs: %" PRIu64
			   " pages missing, which debuggers report as not "
			   "present",
			   v->file_size, want - v->file_size, want, missing),
		       want, v->file_size);
	} else if (v->file_size > want) {
		values(add(v, WDT_DC_TRAILING_DATA,
			   "the file has %" PRIu64 " bytes after the %" PRIu64
			   " the layout needs: debuggers ignore them",
			   v->file_size - want, want),
		       want, v->file_size);
	}
}

/* ---- memory ---- */

static int rd(struct check *v, uint64_t va, void *buf, size_t len,
	      struct wdt_err *e)
{
	return wdt_read_virt(&v->vas, va, buf, len, e);
}

static int rd64(struct check *v, uint64_t va, uint64_t *val, struct wdt_err *e)
{
	uint8_t b[8];

	if (rd(v, va, b, 8, e) < 0)
		return -1;
	*val = wdt_le64(b);
	return 0;
}

static bool check_dtb(struct check *v)
{
	struct wdt_err e;
	uint64_t pa;

	if (v->h.dtb & WDT_PAGE_MASK)
		add(v, WDT_DC_DTB,
		    "DirectoryTableBase 0x%" PRIx64 " is not page aligned: "
		    "debuggers may use the wrong page tables",
		    v->h.dtb);
	if (wdt_vtop(&v->vas, WDT_KUSER_VA, &pa, NULL, &e) < 0) {
		add(v, WDT_DC_DTB,
		    "DirectoryTableBase 0x%" PRIx64 " does not translate "
		    "KUSER_SHARED_DATA (%s): debuggers cannot translate kernel "
		    "addresses",
		    v->h.dtb, e.msg);
		return false;
	}
	return true;
}

static bool check_kdbg(struct check *v)
{
	struct wdt_err e;
	uint32_t tag;

	if (rd(v, v->h.kdbg, v->kdbg, sizeof(v->kdbg), &e) < 0) {
		at_addr(add(v, WDT_DC_KDBG_UNREADABLE,
			    "KdDebuggerDataBlock 0x%016" PRIx64
			    " cannot be read (%s): "
			    "WinDbg reports \"KdDebuggerDataBlock is not "
			    "present or "
			    "unreadable\"",
			    v->h.kdbg, e.msg),
			v->h.kdbg);
		return false;
	}
	tag = wdt_le32(v->kdbg + WDT_KDBG_OWNER_TAG);
	if (tag != WDT_KDBG_TAG) {
		at_addr(values(add(v, WDT_DC_KDBG_ENCODED,
				   "KdDebuggerDataBlock 0x%016" PRIx64
				   " has OwnerTag "
				   "0x%08" PRIx32
				   ", not a cleartext 'KDBG' (encoded, as "
				   "Windows 8+ keeps it): WinDbg reports "
				   "\"KdDebuggerDataBlock is not present or "
				   "unreadable\"",
				   v->h.kdbg, tag),
			       WDT_KDBG_TAG, tag),
			v->h.kdbg);
		return false;
	}
	return true;
}

static uint64_t kdbg64(const struct check *v, unsigned off)
{
	return wdt_le64(v->kdbg + off);
}

static void check_kernbase(struct check *v)
{
	uint64_t kb = kdbg64(v, WDT_KDBG_KERN_BASE), start = KERNEL_SPACE;
	uint8_t mz[0x40], pe[4];
	struct wdt_err e;
	uint32_t lfanew;

	if (rd64(v, kdbg64(v, WDT_KDBG_MM_SYSTEM_RANGE_START), &start, &e) <
		0 ||
	    !kernel_ptr(start))
		start = KERNEL_SPACE;
	if (kb < start) {
		at_addr(values(add(v, WDT_DC_KERNBASE_RANGE,
				   "KDBG KernBase 0x%016" PRIx64
				   " is below the system "
				   "range start 0x%016" PRIx64
				   ": debuggers cannot load "
				   "kernel symbols",
				   kb, start),
			       start, kb),
			kb);
		return;
	}
	if (rd(v, kb, mz, sizeof(mz), &e) < 0 || mz[0] != 'M' || mz[1] != 'Z' ||
	    (lfanew = wdt_le32(mz + 0x3C)) > WDT_PAGE_SIZE - 4 ||
	    rd(v, kb + lfanew, pe, 4, &e) < 0 || memcmp(pe, "PE\0\0", 4) != 0)
		at_addr(add(v, WDT_DC_KERNBASE_NO_IMAGE,
			    "no MZ/PE image at KDBG KernBase 0x%016" PRIx64 ": "
			    "debuggers cannot identify the kernel or load its "
			    "symbols",
			    kb),
			kb);
}

static void check_pointers(struct check *v)
{
	const struct wdt_dmp_hdr *h = &v->h;
	uint64_t mods = kdbg64(v, WDT_KDBG_PS_LOADED_MODULE_LIST);
	uint64_t procs = kdbg64(v, WDT_KDBG_PS_ACTIVE_PROCESS_HEAD);
	uint64_t pfnvar = kdbg64(v, WDT_KDBG_MM_PFN_DATABASE), pfn = 0;
	struct wdt_err e;

	if (h->ps_loaded_module_list != mods)
		values(add(v, WDT_DC_PS_LOADED_MODULE_LIST,
			   "header PsLoadedModuleList 0x%016" PRIx64 " differs "
			   "from KDBG's 0x%016" PRIx64 ": debuggers list the "
			   "wrong modules",
			   h->ps_loaded_module_list, mods),
		       mods, h->ps_loaded_module_list);
	if (h->ps_active_process_head != procs)
		values(add(v, WDT_DC_PS_ACTIVE_PROCESS_HEAD,
			   "header PsActiveProcessHead 0x%016" PRIx64
			   " differs "
			   "from KDBG's 0x%016" PRIx64 ": debuggers list the "
			   "wrong processes",
			   h->ps_active_process_head, procs),
		       procs, h->ps_active_process_head);
	bool have = rd64(v, pfnvar, &pfn, &e) == 0;
	if (have && h->pfn_database == pfn)
		return;
	if (h->pfn_database == pfnvar)
		values(
		    add_as(v, WDT_DC_PFN_DATABASE, WDT_DMPCHECK_WARNING,
			   "header PfnDataBase 0x%016" PRIx64 " is the address "
			   "of nt!MmPfnDatabase, not its value%s0x%016" PRIx64
			   " (QEMU writes it so): tools that trust the header "
			   "look for PFN entries in the wrong place",
			   h->pfn_database, have ? " " : " (unreadable) ",
			   have ? pfn : 0),
		    pfn, h->pfn_database);
	else
		values(add_as(v, WDT_DC_PFN_DATABASE, WDT_DMPCHECK_ERROR,
			      "header PfnDataBase 0x%016" PRIx64 " is neither "
			      "nt!MmPfnDatabase's value 0x%016" PRIx64
			      " nor its "
			      "address 0x%016" PRIx64 ": tools that trust the "
			      "header misread the PFN database",
			      h->pfn_database, pfn, pfnvar),
		       pfn, h->pfn_database);
}

static void check_list(struct check *v, const char *name, uint64_t head)
{
	uint8_t le[16];
	uint64_t flink, blink, back = 0;
	struct wdt_err e;
	const char *why = NULL;

	if (rd(v, head, le, sizeof(le), &e) < 0) {
		why = e.msg;
	} else {
		flink = wdt_le64(le);
		blink = wdt_le64(le + 8);
		if (!kernel_ptr(flink) || !kernel_ptr(blink) ||
		    !wdt_va_canonical(flink, false) ||
		    !wdt_va_canonical(blink, false))
			why = "Flink or Blink is not a kernel pointer";
		else if (rd64(v, flink + 8, &back, &e) < 0)
			why = e.msg;
		else if (back != head)
			why = "Flink->Blink does not point back at the head";
	}
	if (why)
		at_addr(add(v, WDT_DC_LIST_HEAD,
			    "%s list head 0x%016" PRIx64
			    " is broken (%s): debuggers "
			    "cannot walk it",
			    name, head, why),
			head);
}

static void check_cpus(struct check *v)
{
	uint64_t block = kdbg64(v, WDT_KDBG_KI_PROCESSOR_BLOCK);
	uint16_t ctxoff = wdt_le16(v->kdbg + WDT_KDBG_OFFSET_PRCB_CONTEXT);
	uint32_t ksize = wdt_le32(v->kdbg + WDT_KDBG_SIZE);
	uint64_t prcb[MAX_CPUS];
	unsigned n = 0;
	struct wdt_err e;

	for (; n < MAX_CPUS; n++)
		if (rd64(v, block + 8ull * n, &prcb[n], &e) < 0 || !prcb[n])
			break;
	if (n != v->h.nprocs)
		at_addr(values(add(v, WDT_DC_PROCESSOR_COUNT,
				   "NumberProcessors is %" PRIu32
				   " but KiProcessorBlock "
				   "0x%016" PRIx64
				   " lists %u processors: debuggers show "
				   "the wrong processors",
				   v->h.nprocs, block, n),
			       n, v->h.nprocs),
			block);
	/* OffsetPrcbContext exists from Windows 7 (Header.Size >= 0x340). */
	if (ksize < KDBG_READ || !ctxoff)
		return;
	for (unsigned i = 0; i < n; i++) {
		uint8_t c[WDT_CTX_SIZE];
		uint64_t cva = 0;
		char what[96];

		if (rd64(v, prcb[i] + ctxoff, &cva, &e) < 0 ||
		    rd(v, cva, c, sizeof(c), &e) < 0) {
			at_addr(add(v, WDT_DC_CONTEXT_UNREADABLE,
				    "CPU %u: the CONTEXT of KPRCB 0x%016" PRIx64
				    " (+0x%" PRIx16
				    ") cannot be read (%s): debuggers "
				    "show no registers for it",
				    i, prcb[i], ctxoff, e.msg),
				prcb[i]);
			continue;
		}
		snprintf(what, sizeof(what), "CPU %u context at 0x%016" PRIx64,
			 i, cva);
		check_context(v, c, what, cva);
	}
}

/*
 * A crashed guest (KiBugcheckData holds a code): the header must carry
 * that bugcheck and, as Windows writes it, the crashing processor's saved
 * bugcheck CONTEXT (symbols/bugcheck.h, no-PDB method).
 */
static void check_crash(struct check *v)
{
	struct wdt_kernel_opts ko = {.dtb = v->vas.dtb,
				     .have_dtb = true,
				     .base = kdbg64(v, WDT_KDBG_KERN_BASE),
				     .have_base = true,
				     .quick = true};
	struct wdt_kdbg d = {.va = v->h.kdbg, .plain = v->kdbg};
	struct wdt_kernel k;
	struct wdt_bugcheck bc;
	struct wdt_err e;

	d.size = wdt_le32(v->kdbg + WDT_KDBG_SIZE);
	if (d.size > sizeof(v->kdbg))
		d.size = sizeof(v->kdbg);
	if (wdt_kernel_find(v->img, &ko, &k, &e) < 0) {
		wdt_kernel_free(&k);
		return; /* KernBase was judged by check_kernbase */
	}
	if (wdt_bugcheck_find(&k, &d, NULL, &bc, &e) < 0 || !bc.crashed)
		goto out;
	if (v->h.bugcheck_code != bc.code ||
	    memcmp(v->h.bugcheck_params, bc.params, sizeof(bc.params)))
		values(add(v, WDT_DC_BUGCHECK_CODE,
			   "the header says bugcheck 0x%" PRIx32 " (0x%" PRIx64
			   ", 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64
			   ") but KiBugcheckData holds 0x%" PRIx32
			   " (0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64
			   ", 0x%" PRIx64 "): debuggers report the wrong crash",
			   v->h.bugcheck_code, v->h.bugcheck_params[0],
			   v->h.bugcheck_params[1], v->h.bugcheck_params[2],
			   v->h.bugcheck_params[3], bc.code, bc.params[0],
			   bc.params[1], bc.params[2], bc.params[3]),
		       bc.code, v->h.bugcheck_code);
	if (bc.cpu < 0 || !bc.have_context) {
		add(v, WDT_DC_CRASH_CONTEXT_LOST,
		    "the guest crashed (bugcheck 0x%" PRIx32 ") but %s: the "
		    "state at the bugcheck was overwritten (QEMU's and "
		    "elf2dmp's writers do this), so k and !analyze start from "
		    "the wrong registers",
		    bc.code, bc.note[0] ? bc.note : "no saved context found");
	} else if (memcmp(v->h.context, bc.context, WDT_CTX_SIZE) != 0) {
		at_addr(values(add(v, WDT_DC_CRASH_CONTEXT,
				   "the header ContextRecord (Rip 0x%" PRIx64
				   ") is not CPU %d's saved bugcheck CONTEXT "
				   "at 0x%016" PRIx64 " (Rip 0x%" PRIx64
				   "): WinDbg's .ecxr, k and "
				   "!analyze start from the wrong registers",
				   wdt_le64(v->h.context + WDT_CTX_RIP), bc.cpu,
				   bc.context_va,
				   wdt_le64(bc.context + WDT_CTX_RIP)),
			       wdt_le64(bc.context + WDT_CTX_RIP),
			       wdt_le64(v->h.context + WDT_CTX_RIP)),
			bc.context_va);
	}
out:
	wdt_bugcheck_free(&bc);
	wdt_kernel_free(&k);
}

static void check_memory(struct check *v)
{
	v->vas.img = v->img;
	v->vas.dtb = v->h.dtb & WDT_PTE_ADDR_MASK;
	v->vas.la57 = false;
	if (!check_dtb(v) || !check_kdbg(v))
		return;
	check_kernbase(v);
	check_pointers(v);
	check_list(v, "PsLoadedModuleList",
		   kdbg64(v, WDT_KDBG_PS_LOADED_MODULE_LIST));
	check_list(v, "PsActiveProcessHead",
		   kdbg64(v, WDT_KDBG_PS_ACTIVE_PROCESS_HEAD));
	check_cpus(v);
	check_crash(v);
}

/* ---- driver ---- */

static void skip(struct check *v, const char *why)
{
	v->r->memory_skipped = true;
	snprintf(v->r->skipped, sizeof(v->r->skipped), "%s", why);
}

/* Every check of a 64-bit header; src is taken over. */
static void check_all(struct check *v, struct wdt_source *src,
		      const struct wdt_dmpcheck_opts *o)
{
	uint64_t want = 0;
	struct wdt_err e;

	check_version(v);
	check_types(v);
	if (v->h.nprocs == 0)
		add(v, WDT_DC_PROCESSOR_COUNT,
		    "NumberProcessors is 0: debuggers show no processors");
	check_header_context(v);
	if (v->h.dump_type == WDT_DUMP_TYPE_FULL) {
		uint64_t pages = check_runs(v);
		if (pages)
			want = WDT_DMP64_HDR_SIZE + pages * WDT_PAGE_SIZE;
	} else if (wdt_dmp_type_is_bitmap(v->h.dump_type)) {
		want = check_bitmap(v, src);
	}
	if (want)
		check_size(v, want);
	if (o && o->header_only) {
		wdt_source_close(src);
		skip(v, "not asked for");
		return;
	}

	v->img = wdt_image_open_source(src, "dmp", &e);
	if (!v->img) {
		skip(v, e.msg);
		if (!wdt_dmpcheck_count(v->r, WDT_DMPCHECK_ERROR))
			add(v, WDT_DC_UNREADABLE,
			    "%s: debuggers will not open the dump", e.msg);
		return;
	}
	if (!v->img->nruns) {
		skip(v, "the dump type holds no memory wdt reads");
		return;
	}
	check_memory(v);
}

/* Parse the header; a 'PAGE' file with a bad ValidDump is a finding. */
static int read_header(struct check *v, struct wdt_source *src,
		       struct wdt_err *err)
{
	uint8_t buf[WDT_DMP64_HDR_SIZE];
	size_t got;

	if (wdt_source_pread(src, buf, sizeof(buf), 0, &got, err) < 0)
		return -1;
	if (got >= 8 && wdt_le32(buf) == WDT_DMP_SIG_PAGE &&
	    wdt_le32(buf + 4) != WDT_DMP_VALID_DU64 &&
	    wdt_le32(buf + 4) != WDT_DMP_VALID_DUMP) {
		uint32_t vd = wdt_le32(buf + 4);
		values(add(v, WDT_DC_VALID_DUMP,
			   "ValidDump is 0x%08" PRIx32 ", not 'DU64': "
			   "debuggers report \"Could not match Dump File "
			   "signature\"",
			   vd),
		       WDT_DMP_VALID_DU64, vd);
		wdt_put_le32(buf + 4, WDT_DMP_VALID_DU64);
	}
	/* A minidump or a save image given for a DMP: say what it is. */
	if (wdt_le32(buf) != WDT_DMP_SIG_PAGE &&
	    wdt_format_refuse(buf, got, err) < 0)
		return wdt_err_prefix(err, "not a readable DMP");
	if (wdt_dmp_parse_header(buf, got, &v->h, err) < 0)
		return wdt_err_prefix(err, "not a readable DMP");
	return 0;
}

int wdt_dmpcheck_run(struct wdt_source *src, const struct wdt_dmpcheck_opts *o,
		     struct wdt_dmpcheck *r, struct wdt_err *err)
{
	struct check *v = calloc(1, sizeof(*v));

	memset(r, 0, sizeof(*r));
	if (!v) {
		wdt_source_close(src);
		return wdt_err_nomem(err);
	}
	v->r = r;
	v->file_size = src->size;
	if (read_header(v, src, err) < 0) {
		wdt_source_close(src);
		free(v);
		return -1;
	}
	if (!v->h.is64) {
		add(v, WDT_DC_NOT_64_BIT,
		    "a 32-bit ('PAGEDUMP') header: wdt verifies 64-bit dumps "
		    "only, and 64-bit debugger extensions will not load");
		wdt_source_close(src);
		skip(v, "32-bit dump");
	} else {
		check_all(v, src,
			  o); /* src now owned by the image (or closed) */
	}
	wdt_image_close(v->img);
	free(v);
	return 0;
}
