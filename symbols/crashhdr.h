/* SPDX-License-Identifier: MIT */
/*
 * What a Windows crash dump needs from the guest (dmp64.md §2, §12–§14):
 * the DUMP_HEADER64 fields filled from the kernel, KDBG, KdVersionBlock,
 * KiBugcheckData and KUSER_SHARED_DATA, and the patches to lay over guest
 * memory in the body (the decoded KDBG; each CPU's CONTEXT where its KPRCB
 * points). The writer (formats/dmpwrite.h) adds the layout fields.
 */
#ifndef WDT_SYMBOLS_CRASHHDR_H
#define WDT_SYMBOLS_CRASHHDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "formats/dmp_layout.h"
#include "formats/dmpwrite.h"
#include "symbols/bugcheck.h"
#include "symbols/kdbg.h"
#include "symbols/kernel.h"

struct wdt_crash {
	uint8_t hdr[WDT_DMP64_HDR_SIZE];

	/* Patches over guest memory; data points into bufs below. */
	struct wdt_dmp_patch *patches;
	size_t npatches;
	uint8_t *ctx_bufs; /* WDT_CTX_SIZE per patched CPU */

	/* For the report. */
	uint32_t nprocs; /* from KiProcessorBlock */
	bool crashed;	 /* KiBugcheckData holds a code */
	int context_cpu; /* processor whose CONTEXT is in the header */
	/* "bugcheck" (the crashing processor's saved CONTEXT), "CPU state",
	 * "KPRCB" (a saved CONTEXT of a live guest), "none" */
	const char *context_from;
	int crash_cpu; /* processor that bugchecked, -1 unknown */
	unsigned contexts_patched;
	char notes[4][200]; /* things the user should know */
	size_t nnotes;
};

struct wdt_crash_opts {
	const char *comment; /* header Comment (truncated to 127 bytes) */
	/*
	 * Leave every KPRCB Context buffer as the guest wrote it instead of
	 * writing the image's CPU state into the non-crashing processors'.
	 */
	bool saved_contexts;
};

/*
 * Fill c from the located kernel, decoded block and bugcheck state (see
 * docs/crash.md). A crashed guest gets what Windows writes: code and
 * parameters from KiBugcheckData, the crashing processor's saved CONTEXT
 * byte for byte as ContextRecord, a breakpoint exception at its Rip, and
 * that buffer is never patched. c must be released with wdt_crash_free()
 * in every case.
 */
int wdt_crash_build(struct wdt_kernel *k, const struct wdt_kdbg *d,
		    const struct wdt_bugcheck *bc,
		    const struct wdt_crash_opts *o, struct wdt_crash *c,
		    struct wdt_err *err);
void wdt_crash_free(struct wdt_crash *c);

/*
 * Is ctx registers a debugger can use: set (not all 'PAGE' or zero), Rip
 * and Rsp canonical and no fill pattern, SegCs 64-bit code (0x10/0x33),
 * SegSs 0, 0x18 or 0x2b, MxCsr equal to FltSave.MxCsr (what 'wdt verify'
 * demands)? If not, why says what is wrong.
 */
bool wdt_crash_context_ok(const uint8_t ctx[WDT_CTX_SIZE], char *why,
			  size_t len);

/* An x64 CONTEXT (windows-kernel.md §8) from an image CPU's registers. */
void wdt_crash_context(const struct wdt_cpu *cpu, uint8_t ctx[WDT_CTX_SIZE]);

#endif
