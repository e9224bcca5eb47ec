/* SPDX-License-Identifier: MIT */
#include "symbols/kernel.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/bytes.h"

/* ---- attempt log ---- */

/* The detail of an attempt whose text could not be allocated. */
static char no_detail[] = "";

void wdt_attempt_add(struct wdt_attempts *a, const char *step,
		     const char *method, bool ok, const char *fmt, ...)
{
	struct wdt_attempt *t;
	va_list ap;
	int n;

	if (a->n == sizeof(a->v) / sizeof(a->v[0]))
		return;
	t = &a->v[a->n++];
	snprintf(t->step, sizeof(t->step), "%s", step);
	snprintf(t->method, sizeof(t->method), "%s", method);
	t->ok = ok;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	t->detail = n < 0 ? NULL : malloc((size_t)n + 1);
	if (!t->detail) {
		t->detail = no_detail;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(t->detail, (size_t)n + 1, fmt, ap);
	va_end(ap);
}

void wdt_attempts_free(struct wdt_attempts *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].detail != no_detail)
			free(a->v[i].detail); /* "" too: it was allocated */
	a->n = 0;
}

void wdt_attempts_summary(const struct wdt_attempts *a, const char *step,
			  char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < a->n && o + 1 < len; i++) {
		const struct wdt_attempt *t = &a->v[i];
		if (t->ok || strcmp(t->step, step) != 0)
			continue;
		int w = snprintf(buf + o, len - o, "%s%s (%s)", o ? "; " : "",
				 t->method, t->detail);
		if (w < 0)
			break;
		o += (size_t)w;
	}
	if (o >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
}

/* ---- helpers ---- */

static const char *const kernel_pdbs[] = {"ntkrnlmp.pdb", "ntoskrnl.pdb",
					  "ntkrnlpa.pdb", "ntkrpamp.pdb"};

static bool kernel_pdb_name(const char *name)
{
	for (size_t i = 0; i < sizeof(kernel_pdbs) / sizeof(kernel_pdbs[0]);
	     i++)
		if (strcasecmp(name, kernel_pdbs[i]) == 0)
			return true;
	return false;
}

static uint64_t image_top(const struct wdt_image *img)
{
	if (!img->nruns)
		return 0;
	return img->runs[img->nruns - 1].pa + img->runs[img->nruns - 1].len;
}

static int read_virt(struct wdt_image *img, uint64_t dtb, uint64_t va,
		     void *buf, size_t len, struct wdt_err *err)
{
	struct wdt_vas vas = {.img = img, .dtb = dtb, .la57 = false};

	return wdt_read_virt(&vas, va, buf, len, err);
}

int wdt_kernel_read(const struct wdt_kernel *k, uint64_t va, void *buf,
		    size_t len, struct wdt_err *err)
{
	return wdt_read_virt(&k->vas, va, buf, len, err);
}

int wdt_kernel_read_u64(const struct wdt_kernel *k, uint64_t va, uint64_t *v,
			struct wdt_err *err)
{
	uint8_t b[8];

	if (wdt_read_virt(&k->vas, va, b, 8, err) < 0)
		return -1;
	*v = wdt_le64(b);
	return 0;
}

bool wdt_kernel_contains(const struct wdt_kernel *k, uint64_t va)
{
	return k->base_va && va >= k->base_va &&
	       va - k->base_va < k->size_of_image;
}

/* CR3 without PCID / flag bits. */
static uint64_t cr3_base(uint64_t cr3)
{
	return cr3 & WDT_PTE_ADDR_MASK;
}

bool wdt_kernel_dtb_ok(struct wdt_image *img, uint64_t dtb, char *why,
		       size_t len)
{
	struct wdt_err e;
	uint8_t v[8];

	dtb = cr3_base(dtb);
	if (!dtb || dtb >= image_top(img)) {
		snprintf(why, len, "0x%" PRIx64 " is outside physical memory",
			 dtb);
		return false;
	}
	if (read_virt(img, dtb, WDT_KUSER_VA + WDT_KUSD_NT_MAJOR, v, 8, &e) <
	    0) {
		snprintf(why, len,
			 "0x%" PRIx64 " does not map KUSER_SHARED_DATA: %s",
			 dtb, e.msg);
		return false;
	}
	/* NtMajorVersion 5..10 (Windows 2000 to 11), minor small. */
	uint32_t major = wdt_le32(v), minor = wdt_le32(v + 4);
	if (major < 5 || major > 10 || minor > 10) {
		snprintf(why, len,
			 "0x%" PRIx64
			 " maps KUSER_SHARED_DATA, but its version "
			 "%u.%u is not Windows'",
			 dtb, major, minor);
		return false;
	}
	return true;
}

static int find_self_map(struct wdt_image *img, uint64_t dtb)
{
	uint8_t page[WDT_PAGE_SIZE];
	struct wdt_err e;

	if (wdt_image_read_phys(img, dtb, page, sizeof(page), &e) < 0)
		return -1;
	for (int i = 256; i < 512; i++) {
		uint64_t q = wdt_le64(page + 8 * i);
		if ((q & WDT_PTE_P) && (q & WDT_PTE_ADDR_MASK) == dtb &&
		    !(q & WDT_PTE_PS))
			return i;
	}
	return -1;
}

/* ---- directory table base ---- */

static bool accept_dtb(struct wdt_kernel *k, uint64_t dtb, const char *method,
		       int cpu, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static bool accept_dtb(struct wdt_kernel *k, uint64_t dtb, const char *method,
		       int cpu, const char *fmt, ...)
{
	char why[160], what[120];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!wdt_kernel_dtb_ok(k->img, dtb, why, sizeof(why))) {
		wdt_attempt_add(&k->log, "dtb", method, false, "%s: %s", what,
				why);
		return false;
	}
	k->vas.dtb = cr3_base(dtb);
	k->dtb_method = method;
	k->dtb_cpu = cpu;
	wdt_attempt_add(&k->log, "dtb", method, true,
			"%s: 0x%" PRIx64 " maps KUSER_SHARED_DATA", what,
			k->vas.dtb);
	return true;
}

static bool kernel_va(uint64_t va)
{
	return va >= 0xFFFF800000000000ull;
}

static uint64_t cpu_gs_base(const struct wdt_cpu *c)
{
	return (c->have & WDT_CPU_HAVE_SYSTEM) ? c->segs[WDT_GS].base
					       : c->gs_base;
}

/* 1: CR3 of a CPU that maps KUSER_SHARED_DATA; 2: CR3 of a kernel CPU. */
static bool dtb_from_cpus(struct wdt_kernel *k)
{
	struct wdt_image *img = k->img;
	bool any = false;

	for (size_t i = 0; i < img->ncpus; i++) {
		const struct wdt_cpu *c = &img->cpus[i];
		if (!(c->have & WDT_CPU_HAVE_SYSTEM))
			continue;
		any = true;
		if (accept_dtb(k, c->cr[3], "cpu-cr3", (int)i,
			       "CPU %zu CR3 0x%" PRIx64, i, c->cr[3]))
			return true;
	}
	if (!any) {
		wdt_attempt_add(&k->log, "dtb", "cpu-cr3", false,
				"the image holds no CPU control registers");
		return false;
	}
	for (size_t i = 0; i < img->ncpus; i++) {
		const struct wdt_cpu *c = &img->cpus[i];
		uint64_t gs = cpu_gs_base(c);
		uint8_t self[8];
		struct wdt_err e;
		if (!(c->have & WDT_CPU_HAVE_SYSTEM) || !kernel_va(gs))
			continue;
		/* A kernel-mode CPU: its CR3 reaches its own KPCR. */
		if (read_virt(img, cr3_base(c->cr[3]), gs + 0x18, self, 8, &e) <
			0 ||
		    wdt_le64(self) != gs) {
			wdt_attempt_add(&k->log, "dtb", "kernel-cpu-cr3", false,
					"CPU %zu (GS base 0x%" PRIx64
					" in kernel space): its CR3 does not "
					"map a KPCR there",
					i, gs);
			continue;
		}
		if (accept_dtb(k, c->cr[3], "kernel-cpu-cr3", (int)i,
			       "CPU %zu in kernel mode, CR3 0x%" PRIx64, i,
			       c->cr[3]))
			return true;
	}
	wdt_attempt_add(&k->log, "dtb", "kernel-cpu-cr3", false,
			"no CPU runs in kernel mode with a usable CR3");
	return false;
}

/* KPCR-relative offsets of KPRCB.KernelDirectoryTableBase seen in builds. */
static const uint32_t kdtb_offsets[] = {0x7000, 0x9000, 0xA000,
					0xB000, 0x8000, 0xC000};

static bool dtb_candidate_kpcr(struct wdt_kernel *k, uint64_t cand,
			       uint64_t kpcr)
{
	uint8_t self[8];
	struct wdt_err e;
	char why[160];

	if (!cand || (cand & WDT_PAGE_MASK & ~0x3ull) || cand >= k->max_pa ||
	    !wdt_kernel_dtb_ok(k->img, cand, why, sizeof(why)))
		return false;
	if (read_virt(k->img, cr3_base(cand), kpcr + 0x18, self, 8, &e) < 0 ||
	    wdt_le64(self) != kpcr)
		return false;
	return true;
}

/* 3: KPRCB.KernelDirectoryTableBase of a CPU in user mode (KVA shadow). */
static bool dtb_from_kprcb(struct wdt_kernel *k, int64_t pdb_off)
{
	struct wdt_image *img = k->img;
	bool tried = false;

	for (size_t i = 0; i < img->ncpus; i++) {
		const struct wdt_cpu *c = &img->cpus[i];
		uint64_t kpcr = 0;
		if (!(c->have & WDT_CPU_HAVE_SYSTEM))
			continue;
		if ((c->have & WDT_CPU_HAVE_KGSBASE) &&
		    kernel_va(c->kernel_gs_base))
			kpcr = c->kernel_gs_base;
		else if (kernel_va(cpu_gs_base(c)))
			kpcr = cpu_gs_base(c);
		if (!kpcr)
			continue;
		tried = true;
		size_t nofs = sizeof(kdtb_offsets) / sizeof(kdtb_offsets[0]);
		for (size_t j = pdb_off >= 0 ? 0 : 1; j <= nofs; j++) {
			uint64_t off =
			    j == 0 ? (uint64_t)pdb_off : kdtb_offsets[j - 1];
			uint8_t v[8];
			struct wdt_err e;
			if (read_virt(img, cr3_base(c->cr[3]), kpcr + off, v, 8,
				      &e) < 0)
				continue;
			uint64_t cand = wdt_le64(v);
			if (!dtb_candidate_kpcr(k, cand, kpcr))
				continue;
			k->vas.dtb = cr3_base(cand);
			k->dtb_method = "kprcb-kernel-directory";
			k->dtb_cpu = (int)i;
			wdt_attempt_add(&k->log, "dtb", k->dtb_method, true,
					"CPU %zu KPCR 0x%" PRIx64 "+0x%" PRIx64
					" (%s) = 0x%" PRIx64
					": maps KUSER_SHARED_DATA and the KPCR",
					i, kpcr, off,
					j == 0 ? "offset from the PDB"
					       : "known offset",
					k->vas.dtb);
			return true;
		}
		wdt_attempt_add(&k->log, "dtb", "kprcb-kernel-directory", false,
				"CPU %zu KPCR 0x%" PRIx64
				": no KernelDirectoryTableBase at the known "
				"offsets maps KUSER_SHARED_DATA and the KPCR",
				i, kpcr);
	}
	if (!tried)
		wdt_attempt_add(
		    &k->log, "dtb", "kprcb-kernel-directory", false,
		    "no CPU has a kernel GS base or KERNEL_GS_BASE");
	return false;
}

/*
 * 4: PROCESSOR_START_BLOCK in low memory (windows-kernel.md §5). Worst
 * case: 255 page reads, and accept_dtb (a 4-level walk) for each page
 * that matches the block's signature.
 */
static bool dtb_from_low_stub(struct wdt_kernel *k)
{
	uint8_t page[WDT_PAGE_SIZE];
	unsigned seen = 0, found = 0;

	for (uint64_t pa = 0x1000; pa < 0x100000; pa += WDT_PAGE_SIZE) {
		struct wdt_err e;
		if (wdt_image_read_phys(k->img, pa, page, sizeof(page), &e) < 0)
			continue;
		seen++;
		uint64_t q0 = wdt_le64(page), lm = wdt_le64(page + 0x70),
			 cr3 = wdt_le64(page + 0xA0);
		if ((q0 & 0xFFFFFFFFFFFF00FFull) != 0x00000001000600E9ull ||
		    (lm & 0xFFFFF80000000003ull) != 0xFFFFF80000000000ull ||
		    (cr3 & 0xFFFFFF0000000FFFull) != 0)
			continue;
		found++;
		if (accept_dtb(k, cr3, "low-stub", -1,
			       "PROCESSOR_START_BLOCK at 0x%" PRIx64
			       " (CR3 0x%" PRIx64 ")",
			       pa, cr3))
			return true;
	}
	if (!found)
		wdt_attempt_add(&k->log, "dtb", "low-stub", false,
				"no PROCESSOR_START_BLOCK in 0x1000-0xfffff "
				"(%u pages present)",
				seen);
	return false;
}

/*
 * 5: a page that maps itself from an upper-half PML4 slot. Worst case: one
 * front-to-back read of physical memory in 1 MiB chunks, 256 entries per
 * page, and accept_dtb (a 4-level walk, random reads) for at most
 * PML4_MAX_CANDIDATES self-referencing pages: every process's PML4 is one,
 * and any of them maps KUSER_SHARED_DATA, so a Windows guest stops at the
 * first; memory of nothing but self-maps stops at the cap.
 */
enum { PML4_MAX_CANDIDATES = 1024 };

static bool dtb_from_pml4_scan(struct wdt_kernel *k)
{
	struct wdt_image *img = k->img;
	size_t chunk = 1u << 20;
	uint64_t most = 0;
	unsigned cands = 0;

	/* No bigger than the largest run: small images (fuzzing) stay cheap. */
	for (size_t r = 0; r < img->nruns; r++)
		if (img->runs[r].len > most)
			most = img->runs[r].len;
	if (most < chunk)
		chunk = most ? (size_t)((most + WDT_PAGE_MASK) & ~WDT_PAGE_MASK)
			     : WDT_PAGE_SIZE;
	uint8_t *buf = malloc(chunk);

	if (!buf) {
		wdt_attempt_add(&k->log, "dtb", "pml4-scan", false,
				"out of memory");
		return false;
	}
	for (size_t r = 0; r < img->nruns; r++) {
		uint64_t start =
		    (img->runs[r].pa + WDT_PAGE_MASK) & ~WDT_PAGE_MASK;
		uint64_t end =
		    (img->runs[r].pa + img->runs[r].len) & ~WDT_PAGE_MASK;
		for (uint64_t pa = start;
		     pa < end && cands < PML4_MAX_CANDIDATES; pa += chunk) {
			size_t n =
			    end - pa < chunk ? (size_t)(end - pa) : chunk;
			struct wdt_err e;
			if (wdt_image_read_phys(img, pa, buf, n, &e) < 0)
				continue;
			for (size_t off = 0;
			     off < n && cands < PML4_MAX_CANDIDATES;
			     off += WDT_PAGE_SIZE) {
				const uint8_t *p = buf + off;
				uint64_t self = pa + off;
				for (int i = 256; i < 512; i++) {
					uint64_t q = wdt_le64(p + 8 * i);
					if ((q & 0x0000FFFFFFFFF083ull) !=
					    (self | 3))
						continue;
					/* entry 0 must be sane too */
					uint64_t q0 = wdt_le64(p);
					if ((q0 & WDT_PTE_P) &&
					    (q0 & WDT_PTE_ADDR_MASK) >=
						k->max_pa)
						break;
					cands++;
					if (accept_dtb(k, self, "pml4-scan", -1,
						       "self-referencing PML4 "
						       "at 0x%" PRIx64
						       " (slot %d)",
						       self, i)) {
						free(buf);
						return true;
					}
					break;
				}
			}
		}
	}
	free(buf);
	if (cands >= PML4_MAX_CANDIDATES)
		wdt_attempt_add(&k->log, "dtb", "pml4-scan", false,
				"stopped at the cap of %u self-referencing "
				"pages, none maps KUSER_SHARED_DATA",
				cands);
	else
		wdt_attempt_add(&k->log, "dtb", "pml4-scan", false,
				"%u self-referencing page(s) in physical "
				"memory, none maps KUSER_SHARED_DATA",
				cands);
	return false;
}

static int64_t pdb_kdtb_offset(struct wdt_kernel *k, const char *pdb_file)
{
	struct wdt_pdb_member m;
	struct wdt_err e;
	struct wdt_pdb *pdb;
	int64_t off = -1;

	if (!pdb_file)
		return -1;
	pdb = wdt_pdb_open_file(pdb_file, &e);
	if (!pdb)
		return -1;
	if (wdt_pdb_member(pdb, "_KPRCB", "KernelDirectoryTableBase", &m, &e) ==
	    0)
		off = (int64_t)(m.offset + WDT_KPCR_PRCB);
	else
		wdt_attempt_add(&k->log, "dtb", "pdb-kprcb-offset", false, "%s",
				e.msg);
	wdt_pdb_close(pdb);
	return off;
}

static int find_dtb(struct wdt_kernel *k, const struct wdt_kernel_opts *o,
		    struct wdt_err *err)
{
	char tried[WDT_ERR_MSG_MAX - 200];

	if (o && o->have_dtb) {
		char why[160];
		if (!wdt_kernel_dtb_ok(k->img, o->dtb, why, sizeof(why)))
			return wdt_err_set(err, WDT_NOT_FOUND,
					   "the given DTB: %s", why);
		k->vas.dtb = cr3_base(o->dtb);
		k->dtb_method = "given";
		wdt_attempt_add(&k->log, "dtb", "given", true,
				"0x%" PRIx64 " as given", k->vas.dtb);
		return 0;
	}
	const struct wdt_image_hints *h = &k->img->hints;
	if (h->have_dtb &&
	    accept_dtb(k, h->dtb, h->method, -1,
		       "%s's DirectoryTableBase 0x%" PRIx64, h->what, h->dtb))
		return 0;
	if (dtb_from_cpus(k) ||
	    dtb_from_kprcb(k, pdb_kdtb_offset(k, o ? o->pdb_file : NULL)) ||
	    dtb_from_low_stub(k))
		return 0;
	if (o && o->quick)
		wdt_attempt_add(&k->log, "dtb", "pml4-scan", false,
				"skipped (reads all memory; 'wdt find-kernel' "
				"does it)");
	else if (dtb_from_pml4_scan(k))
		return 0;
	wdt_attempts_summary(&k->log, "dtb", tried, sizeof(tried));
	wdt_err_set(err, WDT_NOT_FOUND,
		    "no Windows kernel page tables found; tried %s. Is this a "
		    "64-bit Windows guest?",
		    tried);
	return wdt_err_remedy(err, WDT_REMEDY_DTB);
}

/* ---- kernel base ---- */

static void free_pe(struct wdt_kernel *k)
{
	wdt_pe_close(k->pe);
	free(k->pe_ctx);
	k->pe = NULL;
	k->pe_ctx = NULL;
	k->base_va = k->base_pa = 0;
	k->size_of_image = k->timestamp = 0;
	k->have_cv = false;
}

struct pe_ctx {
	struct wdt_kernel *k;
	uint64_t base;
	const uint8_t *head; /* the first page at base, or NULL */
};

static int pe_read_virt(void *ctx, uint64_t off, void *buf, size_t len,
			struct wdt_err *err)
{
	struct pe_ctx *c = ctx;

	/*
	 * Headers from the page the scan has read already: on a compressed
	 * image a read behind the last one decompresses again from an index
	 * point.
	 */
	if (c->head && off < WDT_PAGE_SIZE && len <= WDT_PAGE_SIZE - off) {
		memcpy(buf, c->head + off, len);
		return 0;
	}
	return wdt_read_virt(&c->k->vas, c->base + off, buf, len, err);
}

/*
 * Is there a kernel PE at va? On success k->pe etc. are set. why says
 * what was wrong otherwise. head, if not NULL, holds the page at va.
 */
static bool try_kernel_pe(struct wdt_kernel *k, uint64_t va,
			  const uint8_t *head, char *why, size_t len)
{
	struct pe_ctx *c = malloc(sizeof(*c));
	struct wdt_pe_io io;
	struct wdt_err e;
	struct wdt_pe *pe;
	const struct wdt_pe_codeview *cv = NULL;
	const char *dll = NULL;
	const struct wdt_pe_export *ex;
	size_t nex;

	if (!c) {
		snprintf(why, len, "out of memory");
		return false;
	}
	c->k = k;
	c->base = va;
	c->head = head;
	io = (struct wdt_pe_io){.read = pe_read_virt,
				.ctx = c,
				.layout = WDT_PE_LAYOUT_IMAGE,
				.name = "kernel image"};
	pe = wdt_pe_open(&io, &e);
	if (!pe) {
		snprintf(why, len, "%.160s", e.msg);
		free(c);
		return false;
	}
	const struct wdt_pe_headers *h = wdt_pe_headers(pe);
	if (h->machine != WDT_PE_MACHINE_AMD64) {
		snprintf(why, len, "PE machine 0x%x is not AMD64", h->machine);
		goto reject;
	}
	bool named = false;
	if (wdt_pe_codeview(pe, &cv, &e) == 0 && cv->pdb_name &&
	    kernel_pdb_name(cv->pdb_name))
		named = true;
	if (!named && wdt_pe_exports(pe, &ex, &nex, &dll, &e) == 0 && dll &&
	    strcasecmp(dll, "ntoskrnl.exe") == 0)
		named = true;
	if (!named) {
		snprintf(why, len,
			 "PE at 0x%" PRIx64 " is not the kernel (PDB %s)", va,
			 cv && cv->pdb_name ? cv->pdb_name : "unknown");
		goto reject;
	}
	c->head = NULL; /* the caller's buffer: later reads go to the image */
	k->pe = pe;
	k->pe_ctx = c;
	k->base_va = va;
	k->size_of_image = h->size_of_image;
	k->timestamp = h->timestamp;
	if (cv) {
		k->have_cv = true;
		k->cv = *cv;
		k->cv.pdb_name = k->cv.pdb_path + (cv->pdb_name - cv->pdb_path);
		wdt_symstore_key(cv->guid, cv->age, k->pdb_key);
	}
	snprintf(k->exe_key, sizeof(k->exe_key), "%08X%X", h->timestamp,
		 h->size_of_image);
	{
		uint64_t pa, ps;
		if (wdt_vtop(&k->vas, va, &pa, &ps, &e) == 0)
			k->base_pa = pa;
	}
	return true;
reject:
	wdt_pe_close(pe);
	free(c);
	return false;
}

/*
 * Worst case: the walk below the handler reads at most 0x4000 pages, for
 * at most IDT_MAX_HANDLERS distinct handlers (CPUs sharing a handler, as
 * all of Windows' do, are walked once), and parses at most
 * WDT_KERNEL_SCAN_MAX_MZ MZ pages in all.
 */
enum { IDT_MAX_HANDLERS = 16 };

static bool base_from_idt(struct wdt_kernel *k)
{
	struct wdt_image *img = k->img;
	bool any = false;
	uint64_t walked[IDT_MAX_HANDLERS];
	unsigned nwalked = 0, mz_total = 0;

	for (size_t i = 0; i < img->ncpus; i++) {
		const struct wdt_cpu *c = &img->cpus[i];
		uint8_t gate[16];
		struct wdt_err e;
		char why[200] = "";
		if (!(c->have & WDT_CPU_HAVE_SYSTEM) ||
		    !kernel_va(c->segs[WDT_IDT].base))
			continue;
		any = true;
		uint64_t idt = c->segs[WDT_IDT].base;
		if (wdt_read_virt(&k->vas, idt, gate, sizeof(gate), &e) < 0) {
			wdt_attempt_add(&k->log, "kernel", "idt", false,
					"CPU %zu IDT 0x%" PRIx64 ": %s", i, idt,
					e.msg);
			continue;
		}
		uint64_t h = (uint64_t)wdt_le16(gate) |
			     (uint64_t)wdt_le16(gate + 6) << 16 |
			     (uint64_t)wdt_le32(gate + 8) << 32;
		if (!kernel_va(h)) {
			wdt_attempt_add(&k->log, "kernel", "idt", false,
					"CPU %zu: vector 0 handler 0x%" PRIx64
					" is not a kernel address",
					i, h);
			continue;
		}
		bool again = false;
		for (unsigned w = 0; w < nwalked; w++)
			again |= walked[w] == h;
		if (again)
			continue;
		if (nwalked == IDT_MAX_HANDLERS ||
		    mz_total >= WDT_KERNEL_SCAN_MAX_MZ) {
			wdt_attempt_add(
			    &k->log, "kernel", "idt", false,
			    "CPU %zu: not walked, %u distinct "
			    "handlers and %u MZ pages tried already",
			    i, nwalked, mz_total);
			break;
		}
		walked[nwalked++] = h;
		/* Walk down page by page to the image's MZ (≤ 64 MiB). */
		uint64_t va = h & ~WDT_PAGE_MASK;
		unsigned mz = 0;
		for (unsigned n = 0; n < 0x4000 && va >= WDT_KUSER_VA &&
				     mz_total < WDT_KERNEL_SCAN_MAX_MZ;
		     n++, va -= WDT_PAGE_SIZE) {
			uint8_t m[2];
			if (wdt_read_virt(&k->vas, va, m, 2, &e) < 0 ||
			    m[0] != 'M' || m[1] != 'Z')
				continue;
			mz++;
			mz_total++;
			if (!try_kernel_pe(k, va, NULL, why, sizeof(why)))
				continue;
			if (h - va >= k->size_of_image) {
				snprintf(why, sizeof(why),
					 "kernel at 0x%" PRIx64
					 " does not contain the handler",
					 va);
				free_pe(k);
				continue;
			}
			k->base_method = "idt";
			k->base_cpu = (int)i;
			wdt_attempt_add(&k->log, "kernel", "idt", true,
					"CPU %zu vector 0 handler 0x%" PRIx64
					" lies in the PE at 0x%" PRIx64,
					i, h, va);
			return true;
		}
		wdt_attempt_add(&k->log, "kernel", "idt", false,
				"CPU %zu: walking down from vector 0 handler "
				"0x%" PRIx64 " found %u MZ page(s), none the "
				"kernel%s%s",
				i, h, mz, why[0] ? ": " : "", why);
	}
	if (!any)
		wdt_attempt_add(&k->log, "kernel", "idt", false,
				"no CPU state with a kernel IDT base");
	return false;
}

/*
 * Physical frames the kernel scan has looked at, one bit per page of the
 * image (numbered run by run), so that many virtual pages mapping one
 * frame cost one look: hostile tables can map the whole 32 GiB scan range
 * (8,388,608 pages) onto one 2 MiB frame. Frames outside every run are not
 * tracked: reading them fails at once.
 */
struct frames {
	const struct wdt_image *img;
	uint64_t *first; /* per run: number of its first frame */
	uint8_t *bits;
};

static void frames_free(struct frames *f)
{
	free(f->first);
	free(f->bits);
}

static bool frames_init(struct frames *f, const struct wdt_image *img)
{
	uint64_t n = 0;

	f->img = img;
	f->first = malloc((img->nruns + 1) * sizeof(*f->first));
	if (!f->first)
		return false;
	for (size_t r = 0; r < img->nruns; r++) {
		uint64_t lo = img->runs[r].pa / WDT_PAGE_SIZE;
		uint64_t hi =
		    (img->runs[r].pa + img->runs[r].len - 1) / WDT_PAGE_SIZE;
		f->first[r] = n;
		n += hi - lo + 1;
	}
	f->bits = n / 8 + 1 <= SIZE_MAX ? calloc(1, (size_t)(n / 8 + 1)) : NULL;
	if (!f->bits) {
		frames_free(f);
		return false;
	}
	return true;
}

/* Mark pa's frame; true if it was marked already. */
static bool frames_seen(struct frames *f, uint64_t pa)
{
	long r = wdt_image_find_run(f->img, pa);

	if (r < 0)
		return false;
	uint64_t i = f->first[r] + pa / WDT_PAGE_SIZE -
		     f->img->runs[r].pa / WDT_PAGE_SIZE;
	uint8_t m = (uint8_t)(1u << (i % 8));
	bool seen = f->bits[i / 8] & m;
	f->bits[i / 8] |= m;
	return seen;
}

struct scan {
	struct wdt_kernel *k;
	struct frames leaf;  /* frames tested for MZ */
	struct frames table; /* page directories and page tables walked */
	struct frames big;   /* first frames of 2 MiB pages walked */
	unsigned mz, pages;
	char why[200];
	bool found, capped;
	uint8_t page[WDT_PAGE_SIZE];
};

static bool scan_page(struct scan *s, uint64_t va, uint64_t pa)
{
	uint8_t *m = s->page;
	const uint8_t *head = m;
	struct wdt_err e;

	if (frames_seen(&s->leaf, pa))
		return false;
	s->pages++;
	/* The whole page, so the PE parse needs no second read of it. */
	if (wdt_image_read_phys(s->k->img, pa, m, WDT_PAGE_SIZE, &e) < 0) {
		head = NULL;
		if (wdt_image_read_phys(s->k->img, pa, m, 2, &e) < 0)
			return false;
	}
	if (m[0] != 'M' || m[1] != 'Z')
		return false;
	if (s->mz == WDT_KERNEL_SCAN_MAX_MZ) {
		s->capped = true;
		return false;
	}
	s->mz++;
	if (!try_kernel_pe(s->k, va, head, s->why, sizeof(s->why)))
		return false;
	s->found = true;
	return true;
}

static bool scan_done(const struct scan *s)
{
	return s->found || s->capped;
}

/*
 * Enumerate mapped 4 KiB pages of [WDT_KERNEL_RANGE_START, _END), testing
 * each physical frame for the kernel's MZ once: the first virtual page
 * that maps a frame decides for it.
 *
 * Worst case: 32 PDPT entries, each either a 1 GiB page (512 looks at its
 * 2 MiB steps) or a page directory read once per distinct frame; each
 * distinct page directory costs 512 entries, each 2 MiB page or page table
 * (read once per distinct frame) 512 looks. A look at a frame seen before
 * is a bit test; a new frame costs a 2-byte read, and an MZ on it a PE
 * parse, at most WDT_KERNEL_SCAN_MAX_MZ of them. So the work is bounded by
 * the frames in the image (a few bit tests and one read each) plus 512 per
 * distinct page directory, not by the 8,388,608 pages of the range.
 */
static void scan_range(struct scan *s)
{
	struct wdt_kernel *k = s->k;
	uint8_t pml4e[8];
	struct wdt_err e;
	uint64_t top = WDT_KERNEL_RANGE_START;
	unsigned slot = (unsigned)((top >> 39) & 511);

	if (wdt_image_read_phys(k->img, k->vas.dtb + 8 * slot, pml4e, 8, &e) <
		0 ||
	    !(wdt_le64(pml4e) & WDT_PTE_P))
		return;
	uint64_t pdpt = wdt_le64(pml4e) & WDT_PTE_ADDR_MASK;
	unsigned first = (unsigned)((top >> 30) & 511);
	unsigned last = (unsigned)(((WDT_KERNEL_RANGE_END - 1) >> 30) & 511);
	for (unsigned i = first; i <= last && !scan_done(s); i++) {
		uint8_t b[8];
		if (wdt_image_read_phys(k->img, pdpt + 8 * i, b, 8, &e) < 0)
			continue;
		uint64_t pdpte = wdt_le64(b);
		uint64_t va1 =
		    (top & ~((1ull << 39) - 1)) | ((uint64_t)i << 30);
		if (!(pdpte & WDT_PTE_P))
			continue;
		if (pdpte & WDT_PTE_PS) {
			uint64_t pa = pdpte & WDT_PTE_1G_MASK;
			for (uint64_t o = 0; o < (1ull << 30) && !scan_done(s);
			     o += 0x200000)
				scan_page(s, va1 + o, pa + o);
			continue;
		}
		uint8_t pd[WDT_PAGE_SIZE];
		uint64_t pd_pa = pdpte & WDT_PTE_ADDR_MASK;
		if (frames_seen(&s->table, pd_pa) ||
		    wdt_image_read_phys(k->img, pd_pa, pd, sizeof(pd), &e) < 0)
			continue;
		for (unsigned j = 0; j < 512 && !scan_done(s); j++) {
			uint64_t pde = wdt_le64(pd + 8 * j);
			uint64_t va2 = va1 | ((uint64_t)j << 21);
			if (!(pde & WDT_PTE_P))
				continue;
			if (pde & WDT_PTE_PS) {
				uint64_t pa = pde & WDT_PTE_2M_MASK;
				if (frames_seen(&s->big, pa))
					continue;
				for (uint64_t o = 0;
				     o < 0x200000 && !scan_done(s);
				     o += WDT_PAGE_SIZE)
					scan_page(s, va2 + o, pa + o);
				continue;
			}
			uint8_t pt[WDT_PAGE_SIZE];
			uint64_t pt_pa = pde & WDT_PTE_ADDR_MASK;
			if (frames_seen(&s->table, pt_pa) ||
			    wdt_image_read_phys(k->img, pt_pa, pt, sizeof(pt),
						&e) < 0)
				continue;
			for (unsigned m = 0; m < 512 && !scan_done(s); m++) {
				uint64_t pte = wdt_le64(pt + 8 * m);
				if (pte & WDT_PTE_P)
					scan_page(s, va2 | ((uint64_t)m << 12),
						  pte & WDT_PTE_ADDR_MASK);
			}
		}
	}
}

static bool base_from_scan(struct wdt_kernel *k)
{
	struct scan s = {.k = k};

	if (!frames_init(&s.leaf, k->img) || !frames_init(&s.table, k->img) ||
	    !frames_init(&s.big, k->img)) {
		frames_free(&s.leaf);
		frames_free(&s.table);
		wdt_attempt_add(&k->log, "kernel", "scan", false,
				"out of memory");
		return false;
	}
	scan_range(&s);
	frames_free(&s.leaf);
	frames_free(&s.table);
	frames_free(&s.big);
	if (s.found) {
		k->base_method = "scan";
		k->base_cpu = -1;
		wdt_attempt_add(&k->log, "kernel", "scan", true,
				"PE at 0x%" PRIx64 " names %s (reached after "
				"%u mapped pages, %u with MZ)",
				k->base_va,
				k->have_cv ? k->cv.pdb_name : "ntoskrnl.exe",
				s.pages, s.mz);
		return true;
	}
	if (s.capped) {
		k->scan_capped = true;
		wdt_attempt_add(&k->log, "kernel", "scan", false,
				"stopped at the cap of %u MZ pages (after %u "
				"mapped frames in 0x%llx-0x%llx), none a "
				"kernel PE%s%s",
				WDT_KERNEL_SCAN_MAX_MZ, s.pages,
				WDT_KERNEL_RANGE_START,
				WDT_KERNEL_RANGE_END - 1,
				s.why[0] ? "; last: " : "", s.why);
		return false;
	}
	wdt_attempt_add(&k->log, "kernel", "scan", false,
			"%u mapped pages in 0x%llx-0x%llx, %u with MZ, none a "
			"kernel PE%s%s",
			s.pages, WDT_KERNEL_RANGE_START,
			WDT_KERNEL_RANGE_END - 1, s.mz,
			s.why[0] ? "; last: " : "", s.why);
	return false;
}

static int find_base(struct wdt_kernel *k, const struct wdt_kernel_opts *o,
		     struct wdt_err *err)
{
	char tried[WDT_ERR_MSG_MAX - 200];

	if (o && o->have_base) {
		char why[200];
		if (!try_kernel_pe(k, o->base, NULL, why, sizeof(why)))
			return wdt_err_set(err, WDT_NOT_FOUND,
					   "the given kernel base 0x%" PRIx64
					   ": %s",
					   o->base, why);
		k->base_method = "given";
		k->base_cpu = -1;
		wdt_attempt_add(&k->log, "kernel", "given", true,
				"0x%" PRIx64 " as given", o->base);
		return 0;
	}
	if (base_from_idt(k) || base_from_scan(k))
		return 0;
	wdt_attempts_summary(&k->log, "kernel", tried, sizeof(tried));
	if (!k->scan_capped)
		return wdt_err_set(err, WDT_NOT_FOUND,
				   "no Windows kernel image found (directory "
				   "table base 0x%" PRIx64
				   " from %s); tried %s",
				   k->vas.dtb, k->dtb_method, tried);
	wdt_err_set(err, WDT_NOT_FOUND,
		    "no Windows kernel image found (directory table base "
		    "0x%" PRIx64 " from %s): the scan stopped at its cap of %u "
		    "MZ pages; tried %s",
		    k->vas.dtb, k->dtb_method, WDT_KERNEL_SCAN_MAX_MZ, tried);
	return wdt_err_remedy(err, WDT_REMEDY_KERNEL_BASE);
}

int wdt_kernel_find(struct wdt_image *img, const struct wdt_kernel_opts *o,
		    struct wdt_kernel *k, struct wdt_err *err)
{
	memset(k, 0, sizeof(*k));
	k->img = img;
	k->vas.img = img;
	k->dtb_cpu = -1;
	k->base_cpu = -1;
	k->self_map_index = -1;
	k->max_pa = image_top(img);
	if (!img->nruns)
		return wdt_err_set(err, WDT_NO_DATA,
				   "the image holds no physical memory");
	if (find_dtb(k, o, err) < 0)
		return -1;
	k->self_map_index = find_self_map(img, k->vas.dtb);
	return find_base(k, o, err);
}

void wdt_kernel_free(struct wdt_kernel *k)
{
	free_pe(k);
	wdt_attempts_free(&k->log);
}

void wdt_kernel_pdb_url(const struct wdt_kernel *k, char *buf, size_t len)
{
	if (!k->have_cv) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, "%s/%s/%s/%s", WDT_SYMSTORE_MSDL, k->cv.pdb_name,
		 k->pdb_key, k->cv.pdb_name);
}

int wdt_kernel_open_pdb(const struct wdt_kernel *k,
			const struct wdt_symopts *opts, struct wdt_pdb **pdb,
			char **path, struct wdt_symstore_miss *miss,
			struct wdt_err *err)
{
	*pdb = NULL;
	*path = NULL;
	if (miss)
		memset(miss, 0, sizeof(*miss));
	if (!k->have_cv)
		return wdt_err_set(err, WDT_NOT_FOUND,
				   "the kernel image has no CodeView (RSDS) "
				   "record naming its PDB");
	if (wdt_symstore_lookup(opts, k->cv.pdb_name, k->cv.guid, k->cv.age,
				path, miss, err) < 0)
		return -1;
	*pdb = wdt_pdb_open_file(*path, err);
	if (!*pdb) {
		wdt_err_prefix(err, "%s", *path);
		free(*path);
		*path = NULL;
		return -1;
	}
	if (wdt_pdb_check_match(*pdb, k->cv.guid, k->cv.age, opts->force, err) <
	    0) {
		wdt_err_prefix(err, "%s", *path);
		wdt_pdb_close(*pdb);
		*pdb = NULL;
		free(*path);
		*path = NULL;
		return -1;
	}
	return 0;
}
