/* SPDX-License-Identifier: MIT */
/*
 * Did the guest bugcheck, and which processor did (windows-kernel.md,
 * "Bugcheck state left in memory")? KeBugCheckEx saves its caller's
 * CONTEXT in the buffer the bugchecking processor's KPRCB.Context points
 * to (Rip = KeBugCheckEx, Rcx = code, Rdx/R8/R9 = P1..P3, [Rsp+0x28] =
 * P4), fills KiBugcheckData and sets KiBugCheckActive = (KPRCB Number <<
 * 4) | active bits. Two ways to name the processor:
 *
 *   "KiBugCheckActive"  with the kernel's PDB: the global says which.
 *   "saved-context"     without it: the one processor whose saved CONTEXT
 *                       has Rip inside the exported KeBugCheckEx (extent
 *                       from the exception directory) and Rcx = the code;
 *                       Rdx/R8/R9 = P1..P3 break a tie.
 *
 * Either way the chosen processor's saved CONTEXT is read and checked
 * against the bugcheck data (context_consistent).
 */
#ifndef WDT_SYMBOLS_BUGCHECK_H
#define WDT_SYMBOLS_BUGCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "formats/dmp_layout.h"
#include "symbols/kdbg.h"
#include "symbols/kernel.h"
#include "symbols/pdb.h"

/* Extent assumed for KeBugCheckEx when the image has no .pdata entry. */
#define WDT_BUGCHECK_FN_GUESS 0x400u
/* KiBugCheckActive: bits 0-1 active, bits 4+ the KPRCB Number. */
#define WDT_BUGCHECK_ACTIVE_MASK 3u
#define WDT_BUGCHECK_ACTIVE_SHIFT 4u
/* KPRCB.Number when KDBG gives no offset (stable x64 layout). */
#define WDT_KPRCB_NUMBER_DEFAULT 0x24u

struct wdt_bugcheck {
	bool crashed; /* KiBugcheckData holds a code */
	uint32_t code;
	uint64_t params[4];
	uint64_t data_va; /* nt!KiBugcheckData */

	uint64_t *prcbs; /* KiProcessorBlock (malloc'd) */
	uint32_t nprocs;

	int cpu; /* index in KiProcessorBlock, -1 unknown */
	const char
	    *cpu_method;  /* "KiBugCheckActive", "saved-context", "none" */
	bool have_active; /* KiBugCheckActive was read */
	uint64_t active_va;
	uint32_t active_value;

	uint64_t kebugcheckex, kebugcheckex_end; /* [start, end); 0 unknown */
	const char *kebugcheckex_extent;	 /* "pdata", "guess" */

	uint64_t context_va; /* the crashing processor's saved CONTEXT */
	bool have_context;
	uint8_t context[WDT_CTX_SIZE];
	bool context_consistent; /* Rip in KeBugCheckEx and Rcx = code */

	char note[320]; /* why the CPU is unknown, or a doubt */
};

/*
 * Fill b from the located kernel and decoded KDBG. pdb: the kernel's PDB
 * or NULL (no-PDB method only). Returns -1 only when KiProcessorBlock is
 * unusable or memory runs out; everything else is a note. b must be
 * released with wdt_bugcheck_free() in every case.
 */
int wdt_bugcheck_find(const struct wdt_kernel *k, const struct wdt_kdbg *d,
		      struct wdt_pdb *pdb, struct wdt_bugcheck *b,
		      struct wdt_err *err);
void wdt_bugcheck_free(struct wdt_bugcheck *b);

/*
 * Does a saved CONTEXT look like KeBugCheckEx's for this bugcheck? Score
 * 0 no; else 1 + how many of Rdx/R8/R9 equal P1..P3.
 */
int wdt_bugcheck_context_score(const struct wdt_bugcheck *b,
			       const uint8_t ctx[WDT_CTX_SIZE]);

/* Register offsets in the CONTEXT (Rax Rcx Rdx Rbx Rsp Rbp Rsi Rdi R8…). */
#define WDT_CTX_RCX (WDT_CTX_RAX + 0x08u)
#define WDT_CTX_RDX (WDT_CTX_RAX + 0x10u)
#define WDT_CTX_RSP (WDT_CTX_RAX + 0x20u)
#define WDT_CTX_R8 (WDT_CTX_RAX + 0x40u)
#define WDT_CTX_R9 (WDT_CTX_RAX + 0x48u)

#endif
