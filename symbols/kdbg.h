/* SPDX-License-Identifier: MIT */
/*
 * KdDebuggerDataBlock (KDDEBUGGER_DATA64) and KdVersionBlock
 * (DBGKD_GET_VERSION64): located by PDB symbol when the kernel's PDB can be
 * had, otherwise found in the kernel's data by known plaintext; decoded
 * from the Windows 8+ encoding (windows-kernel.md §1–§3) and checked for
 * consistency with the rest of memory.
 */
#ifndef WDT_SYMBOLS_KDBG_H
#define WDT_SYMBOLS_KDBG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "symbols/kernel.h"
#include "symbols/symstore.h"

#define WDT_KDBG_TAG 0x4742444Bu /* "KDBG" */
#define WDT_KDBG_HEADER_SIZE 0x18u
#define WDT_KDBG_MIN_SIZE 0x200u
#define WDT_KDBG_MAX_SIZE 0x1000u

/* Offsets in KDDEBUGGER_DATA64 (windows-kernel.md §1). */
#define WDT_KDBG_FLINK 0x000u
#define WDT_KDBG_BLINK 0x008u
#define WDT_KDBG_OWNER_TAG 0x010u
#define WDT_KDBG_SIZE 0x014u
#define WDT_KDBG_KERN_BASE 0x018u
#define WDT_KDBG_PS_LOADED_MODULE_LIST 0x048u
#define WDT_KDBG_PS_ACTIVE_PROCESS_HEAD 0x050u
#define WDT_KDBG_KI_BUGCHECK_DATA 0x088u
#define WDT_KDBG_MM_PFN_DATABASE 0x0C0u
#define WDT_KDBG_MM_SYSTEM_RANGE_START 0x1D0u
#define WDT_KDBG_KI_PROCESSOR_BLOCK 0x218u
#define WDT_KDBG_OFFSET_PRCB_PROC_STATE_CONTEXT 0x2BCu
#define WDT_KDBG_OFFSET_PRCB_CONTEXT 0x338u
#define WDT_KDBG_OFFSET_KTHREAD_APC_PROCESS 0x2A0u
#define WDT_KDBG_OFFSET_PRCB_CURRENT_THREAD 0x2B4u
#define WDT_KDBG_OFFSET_PRCB_NUMBER 0x2BEu

/* Most processors read from KiProcessorBlock. */
#define WDT_KDBG_MAX_CPUS 1024u

/* DBGKD_GET_VERSION64 (windows-kernel.md §3). */
#define WDT_KDVER_SIZE 0x28u
#define WDT_KDVER_MAJOR 0x00u
#define WDT_KDVER_MINOR 0x02u
#define WDT_KDVER_PROTOCOL 0x04u
#define WDT_KDVER_SECONDARY 0x05u
#define WDT_KDVER_FLAGS 0x06u
#define WDT_KDVER_MACHINE 0x08u
#define WDT_KDVER_KERN_BASE 0x10u
#define WDT_KDVER_PS_LOADED_MODULE_LIST 0x18u
#define WDT_KDVER_DEBUGGER_DATA_LIST 0x20u
/* DBGKD_GET_VERSION64.MajorVersion: 0xF free build, 0xC checked build */
#define WDT_KDVER_MAJOR_FREE 0xFu
#define WDT_KDVER_MAJOR_CHECKED 0xCu

struct wdt_kdbg_field {
	const char *name; /* windows-kernel.md §1 name */
	uint16_t off;
	uint8_t size; /* 2, 4 or 8 */
};

/* Every named field of KDDEBUGGER_DATA64, in offset order. */
extern const struct wdt_kdbg_field wdt_kdbg_fields[];
extern const size_t wdt_kdbg_nfields;

extern const struct wdt_kdbg_field wdt_kdver_fields[];
extern const size_t wdt_kdver_nfields;

struct wdt_kdbg_check {
	const char *name; /* static */
	bool ok;
	char detail[160];
};

/* The PDB note when the caller asked for no PDB lookup (sym NULL). */
#define WDT_KDBG_NOTE_NO_PDB "not looked for (PDB lookups turned off)"

struct wdt_kdbg {
	uint64_t va;	    /* nt!KdDebuggerDataBlock */
	uint32_t size;	    /* Header.Size */
	uint8_t *plain;	    /* size decoded bytes (malloc'd) */
	bool encoded;	    /* as found in memory */
	const char *method; /* "pdb", "cleartext-scan", "known-plaintext" */

	bool pdb_used;
	char *pdb_path; /* malloc'd, when used */
	/* Why no PDB was used and what to do, one line (malloc'd); NULL
	 * when one was used. */
	char *pdb_note;
	/* When the lookup missed: why, the URL and the path to save it as. */
	struct wdt_symstore_miss pdb_miss;

	/* Decoding keys (0 when cleartext) and where they were found. */
	uint64_t wait_never, wait_always, flag_va;
	uint64_t wait_never_va, wait_always_va; /* 0: unknown */
	uint8_t flag_value;

	struct wdt_kdbg_check checks[8];
	size_t nchecks;

	bool have_version;
	uint64_t version_va;
	uint8_t version[WDT_KDVER_SIZE];
	const char *version_method; /* "pdb", "scan", "kpcr" */
};

/*
 * Locate and decode the block. sym: where to look for the kernel's PDB;
 * NULL: do not look (no-PDB methods only). A PDB named explicitly
 * (sym->pdb_file) that cannot be used is an error; one merely not found is
 * noted in d->pdb_note and d->pdb_miss and the no-PDB methods are used.
 * Attempts go to k->log. d must be freed with wdt_kdbg_free() in every case.
 */
int wdt_kdbg_find(struct wdt_kernel *k, const struct wdt_symopts *sym,
		  struct wdt_kdbg *d, struct wdt_err *err);
void wdt_kdbg_free(struct wdt_kdbg *d);

/*
 * The KPRCB addresses KiProcessorBlock lists (until the first NULL or
 * unreadable slot, at most max). CORRUPT when it lists none.
 */
int wdt_kdbg_prcbs(const struct wdt_kernel *k, const struct wdt_kdbg *d,
		   uint64_t *prcbs, uint32_t max, uint32_t *n,
		   struct wdt_err *err);

/*
 * VA of a KPRCB's saved CONTEXT: the buffer its Context pointer names
 * (KDBG.OffsetPrcbContext), else the embedded ProcessorState.ContextFrame.
 */
int wdt_kdbg_prcb_context(const struct wdt_kernel *k, const struct wdt_kdbg *d,
			  uint64_t prcb, uint64_t *va, struct wdt_err *err);

/* Field value (little-endian) or 0 when beyond Header.Size. */
uint64_t wdt_kdbg_get(const struct wdt_kdbg *d, uint32_t off, unsigned size);

/* The Windows 8+ decoding of nwords 8-byte words (in may equal out). */
void wdt_kdbg_decode(const uint8_t *in, uint8_t *out, size_t nwords,
		     uint64_t wait_never, uint64_t wait_always,
		     uint64_t flag_va);
/* Its inverse, for tests and tools. */
void wdt_kdbg_encode(const uint8_t *in, uint8_t *out, size_t nwords,
		     uint64_t wait_never, uint64_t wait_always,
		     uint64_t flag_va);

#endif
