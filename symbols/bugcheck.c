/* SPDX-License-Identifier: MIT */
#include "symbols/bugcheck.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

int wdt_bugcheck_context_score(const struct wdt_bugcheck *b,
			       const uint8_t ctx[WDT_CTX_SIZE])
{
	uint64_t rip = wdt_le64(ctx + WDT_CTX_RIP);
	int score = 1;

	if (!b->kebugcheckex || rip < b->kebugcheckex ||
	    rip >= b->kebugcheckex_end ||
	    (uint32_t)wdt_le64(ctx + WDT_CTX_RCX) != b->code)
		return 0;
	score += wdt_le64(ctx + WDT_CTX_RDX) == b->params[0];
	score += wdt_le64(ctx + WDT_CTX_R8) == b->params[1];
	score += wdt_le64(ctx + WDT_CTX_R9) == b->params[2];
	return score;
}

/* KeBugCheckEx from the kernel's exports, its extent from .pdata. */
static void find_kebugcheckex(const struct wdt_kernel *k,
			      struct wdt_bugcheck *b)
{
	uint32_t rva, begin, end;
	struct wdt_err e;

	if (!k->pe || wdt_pe_export_rva(k->pe, "KeBugCheckEx", &rva, &e) != 1)
		return;
	b->kebugcheckex = k->base_va + rva;
	if (wdt_pe_function_range(k->pe, rva, &begin, &end, &e) == 1 &&
	    begin == rva) {
		b->kebugcheckex_end = k->base_va + end;
		b->kebugcheckex_extent = "pdata";
	} else {
		b->kebugcheckex_end = b->kebugcheckex + WDT_BUGCHECK_FN_GUESS;
		b->kebugcheckex_extent = "guess";
	}
}

static int read_context(const struct wdt_kernel *k, const struct wdt_kdbg *d,
			uint64_t prcb, uint64_t *va, uint8_t *ctx)
{
	struct wdt_err e;

	if (wdt_kdbg_prcb_context(k, d, prcb, va, &e) < 0 || !*va)
		return -1;
	return wdt_kernel_read(k, *va, ctx, WDT_CTX_SIZE, &e);
}

/* The index of the processor whose KPRCB.Number is num. */
static int cpu_by_number(const struct wdt_kernel *k, const struct wdt_kdbg *d,
			 const struct wdt_bugcheck *b, uint32_t num)
{
	uint32_t off =
	    (uint32_t)wdt_kdbg_get(d, WDT_KDBG_OFFSET_PRCB_NUMBER, 2);
	struct wdt_err e;

	if (!off)
		off = WDT_KPRCB_NUMBER_DEFAULT;
	for (uint32_t i = 0; i < b->nprocs; i++) {
		uint8_t v[2];
		if (wdt_kernel_read(k, b->prcbs[i] + off, v, 2, &e) == 0 &&
		    wdt_le16(v) == num)
			return (int)i;
	}
	return num < b->nprocs ? (int)num : -1;
}

/* With the PDB: KiBugCheckActive names the processor. */
static void by_active(const struct wdt_kernel *k, const struct wdt_kdbg *d,
		      struct wdt_pdb *pdb, struct wdt_bugcheck *b)
{
	uint8_t v[4];
	uint32_t rva;
	struct wdt_err e;

	if (wdt_pdb_symbol_rva(pdb, "KiBugCheckActive", &rva, &e) != 1) {
		snprintf(b->note, sizeof(b->note),
			 "the PDB has no KiBugCheckActive");
		return;
	}
	b->active_va = k->base_va + rva;
	if (wdt_kernel_read(k, b->active_va, v, 4, &e) < 0) {
		snprintf(b->note, sizeof(b->note),
			 "KiBugCheckActive at 0x%" PRIx64 ": %.200s",
			 b->active_va, e.msg);
		return;
	}
	b->have_active = true;
	b->active_value = wdt_le32(v);
	if (!(b->active_value & WDT_BUGCHECK_ACTIVE_MASK)) {
		snprintf(b->note, sizeof(b->note),
			 "KiBugCheckActive is 0x%" PRIx32
			 ": no bugcheck in progress",
			 b->active_value);
		return;
	}
	b->cpu = cpu_by_number(k, d, b,
			       b->active_value >> WDT_BUGCHECK_ACTIVE_SHIFT);
	if (b->cpu < 0) {
		snprintf(b->note, sizeof(b->note),
			 "KiBugCheckActive 0x%" PRIx32
			 " names processor %" PRIu32 " of %" PRIu32,
			 b->active_value,
			 b->active_value >> WDT_BUGCHECK_ACTIVE_SHIFT,
			 b->nprocs);
		return;
	}
	b->cpu_method = "KiBugCheckActive";
}

/* Without it: the one saved CONTEXT that is KeBugCheckEx's. */
static void by_saved_context(const struct wdt_kernel *k,
			     const struct wdt_kdbg *d, struct wdt_bugcheck *b)
{
	uint8_t ctx[WDT_CTX_SIZE];
	int best = 0, ties = 0;

	if (!b->kebugcheckex) {
		snprintf(b->note, sizeof(b->note),
			 "the kernel does not export KeBugCheckEx");
		return;
	}
	for (uint32_t i = 0; i < b->nprocs; i++) {
		uint64_t va;
		int s;
		if (read_context(k, d, b->prcbs[i], &va, ctx) < 0)
			continue;
		s = wdt_bugcheck_context_score(b, ctx);
		if (s > best) {
			best = s;
			ties = 0;
			b->cpu = (int)i;
		} else if (s && s == best) {
			ties++;
		}
	}
	if (!best) {
		snprintf(b->note, sizeof(b->note),
			 "no processor's saved CONTEXT is KeBugCheckEx's "
			 "(Rip in 0x%" PRIx64 "-0x%" PRIx64 ", Rcx 0x%" PRIx32
			 ")",
			 b->kebugcheckex, b->kebugcheckex_end, b->code);
		b->cpu = -1;
	} else if (ties) {
		snprintf(b->note, sizeof(b->note),
			 "%d processors' saved CONTEXTs look like "
			 "KeBugCheckEx's: the crashing one is unknown",
			 ties + 1);
		b->cpu = -1;
	} else {
		b->cpu_method = "saved-context";
	}
}

int wdt_bugcheck_find(const struct wdt_kernel *k, const struct wdt_kdbg *d,
		      struct wdt_pdb *pdb, struct wdt_bugcheck *b,
		      struct wdt_err *err)
{
	uint8_t bug[40];
	struct wdt_err e;

	memset(b, 0, sizeof(*b));
	b->cpu = -1;
	b->cpu_method = "none";
	b->prcbs = malloc(WDT_KDBG_MAX_CPUS * sizeof(*b->prcbs));
	if (!b->prcbs)
		return wdt_err_nomem(err);
	if (wdt_kdbg_prcbs(k, d, b->prcbs, WDT_KDBG_MAX_CPUS, &b->nprocs, err) <
	    0)
		return -1;

	b->data_va = wdt_kdbg_get(d, WDT_KDBG_KI_BUGCHECK_DATA, 8);
	if (wdt_kernel_read(k, b->data_va, bug, sizeof(bug), &e) < 0) {
		snprintf(b->note, sizeof(b->note),
			 "KiBugcheckData at 0x%" PRIx64 ": %.200s", b->data_va,
			 e.msg);
		return 0;
	}
	b->code = wdt_le32(bug);
	for (int i = 0; i < 4; i++)
		b->params[i] = wdt_le64(bug + 8 + 8 * i);
	b->crashed = b->code != 0;
	if (!b->crashed)
		return 0;

	find_kebugcheckex(k, b);
	if (pdb)
		by_active(k, d, pdb, b);
	if (b->cpu < 0)
		by_saved_context(k, d, b);
	if (b->cpu < 0)
		return 0;
	if (read_context(k, d, b->prcbs[b->cpu], &b->context_va, b->context) <
	    0) {
		snprintf(b->note, sizeof(b->note),
			 "processor %d's saved CONTEXT is unreadable", b->cpu);
		return 0;
	}
	b->have_context = true;
	b->context_consistent = wdt_bugcheck_context_score(b, b->context) > 0;
	if (!b->context_consistent && !b->note[0])
		snprintf(b->note, sizeof(b->note),
			 "processor %d's saved CONTEXT (Rip 0x%" PRIx64
			 ", Rcx 0x%" PRIx64 ") is not KeBugCheckEx's",
			 b->cpu, wdt_le64(b->context + WDT_CTX_RIP),
			 wdt_le64(b->context + WDT_CTX_RCX));
	return 0;
}

void wdt_bugcheck_free(struct wdt_bugcheck *b)
{
	free(b->prcbs);
	b->prcbs = NULL;
}
