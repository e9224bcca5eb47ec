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
#include "symbols/kdbg.h"
#include "symbols/kernel.h"

#define WDT_CRASH_MAX_CPUS 1024u

struct wdt_crash {
	uint8_t hdr[WDT_DMP64_HDR_SIZE];

	/* Patches over guest memory; data points into bufs below. */
	struct wdt_dmp_patch *patches;
	size_t npatches;
	uint8_t *ctx_bufs; /* WDT_CTX_SIZE per patched CPU */

	/* For the report. */
	uint32_t nprocs;	 /* from KiProcessorBlock */
	bool crashed;		 /* KiBugcheckData holds a code */
	int context_cpu;	 /* image CPU whose CONTEXT is in the header */
	const char *context_from; /* "CPU state", "KPRCB", "none" */
	unsigned contexts_patched;
	char notes[4][200];	 /* things the user should know */
	size_t nnotes;
};

/*
 * Fill c from the located kernel and decoded block. comment: text for the
 * header's Comment (truncated to 127 bytes). c must be released with
 * wdt_crash_free() in every case.
 */
int wdt_crash_build(struct wdt_kernel *k, const struct wdt_kdbg *d,
		    const char *comment, struct wdt_crash *c,
		    struct wdt_err *err);
void wdt_crash_free(struct wdt_crash *c);

/* An x64 CONTEXT (windows-kernel.md §8) from an image CPU's registers. */
void wdt_crash_context(const struct wdt_cpu *cpu, uint8_t ctx[WDT_CTX_SIZE]);

#endif
