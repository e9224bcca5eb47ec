/* SPDX-License-Identifier: MIT */
/*
 * Is a Windows crash dump sound, by the rules a debugger relies on
 * (dmp64.md §11, windows-kernel.md §1, §4, §8)? The checks behind
 * `wdt verify`: header checks use the pure parsers of formats/dmp.h;
 * memory checks open the dump as an image and translate with its
 * DirectoryTableBase, then judge KdDebuggerDataBlock, KernBase, the list
 * heads, the processors' CONTEXTs and, for a crashed guest, the bugcheck
 * state. They live in symbols/ because they need the KDBG, KUSER_SHARED_DATA
 * and bugcheck knowledge; they print nothing and decide no exit status
 * (cmd/verify.c does both).
 */
#ifndef WDT_SYMBOLS_DMPCHECK_H
#define WDT_SYMBOLS_DMPCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/source.h"

/*
 * Every finding: X(ID, code as printed, severities it can have, one-line
 * description). ERROR or WARNING: always that; EITHER: the check decides
 * (dump-type, pfn-database). The order is the order of docs/wdt-verify.1's
 * FINDINGS list, which test_dmpcheck keeps in step with this table.
 */
#define WDT_DMPCHECK_CODES(X)                                                  \
	X(VALID_DUMP, "valid-dump", ERROR, "ValidDump is not 'DU64'")          \
	X(NOT_64_BIT, "not-64-bit", ERROR,                                     \
	  "a 32-bit 'PAGEDUMP' header; no further checks")                     \
	X(DUMP_TYPE, "dump-type", EITHER,                                      \
	  "DumpType is not 1, 5 or 6 (a warning for 2, 8, 9 and 0xA)")         \
	X(MACHINE_TYPE, "machine-type", ERROR,                                 \
	  "MachineImageType is not 0x8664")                                    \
	X(VERSION, "version", ERROR,                                           \
	  "MajorVersion is not 0xf or 0xc, or MinorVersion is outside "        \
	  "2600..60000")                                                       \
	X(PROCESSOR_COUNT, "processor-count", ERROR,                           \
	  "NumberProcessors is 0 or differs from KiProcessorBlock")            \
	X(RUNS_COUNT, "runs-count", ERROR,                                     \
	  "NumberOfRuns is the 'PAGE' fill, 0 or more than 42")                \
	X(RUNS_INVALID, "runs-invalid", ERROR,                                 \
	  "a run has no pages or passes the physical address limit")           \
	X(RUNS_UNSORTED, "runs-unsorted", ERROR,                               \
	  "runs do not ascend by BasePage")                                    \
	X(RUNS_OVERLAP, "runs-overlap", ERROR, "two runs overlap")             \
	X(RUNS_PAGE_COUNT, "runs-page-count", ERROR,                           \
	  "NumberOfPages differs from the sum of the runs")                    \
	X(BITMAP_HEADER, "bitmap-header", ERROR,                               \
	  "the bitmap header is unusable")                                     \
	X(BITMAP_POPCOUNT, "bitmap-popcount", ERROR,                           \
	  "TotalPresentPages differs from the bits set")                       \
	X(REQUIRED_SPACE, "required-space", ERROR,                             \
	  "RequiredDumpSpace differs from the size the layout needs")          \
	X(TRUNCATED, "truncated", ERROR,                                       \
	  "the file is shorter than the layout needs")                         \
	X(TRAILING_DATA, "trailing-data", WARNING,                             \
	  "the file is longer than the layout needs")                          \
	X(CONTEXT_UNSET, "context-unset", WARNING,                             \
	  "the header ContextRecord is the 'PAGE' fill or zero")               \
	X(CONTEXT_RIP, "context-rip", ERROR,                                   \
	  "a CONTEXT's Rip is not canonical")                                  \
	X(CONTEXT_RSP, "context-rsp", ERROR,                                   \
	  "a CONTEXT's Rsp is not canonical")                                  \
	X(CONTEXT_CS, "context-cs", ERROR,                                     \
	  "a CONTEXT's SegCs is not 0x10 or 0x33")                             \
	X(CONTEXT_MXCSR, "context-mxcsr", ERROR,                               \
	  "a CONTEXT's MxCsr differs from FltSave.MxCsr")                      \
	X(CONTEXT_UNREADABLE, "context-unreadable", ERROR,                     \
	  "a processor's CONTEXT cannot be read")                              \
	X(DTB, "dtb", ERROR,                                                   \
	  "DirectoryTableBase is unaligned or does not map KUSER_SHARED_DATA") \
	X(KDBG_UNREADABLE, "kdbg-unreadable", ERROR,                           \
	  "KdDebuggerDataBlock cannot be read")                                \
	X(KDBG_ENCODED, "kdbg-encoded", ERROR,                                 \
	  "KdDebuggerDataBlock has no cleartext 'KDBG' OwnerTag")              \
	X(KERNBASE_RANGE, "kernbase-range", ERROR,                             \
	  "KDBG KernBase is below the system range")                           \
	X(KERNBASE_NO_IMAGE, "kernbase-no-image", ERROR,                       \
	  "no MZ/PE image at KDBG KernBase")                                   \
	X(PS_LOADED_MODULE_LIST, "ps-loaded-module-list", ERROR,               \
	  "the header's PsLoadedModuleList differs from KDBG's")               \
	X(PS_ACTIVE_PROCESS_HEAD, "ps-active-process-head", ERROR,             \
	  "the header's PsActiveProcessHead differs from KDBG's")              \
	X(PFN_DATABASE, "pfn-database", EITHER,                                \
	  "the header's PfnDataBase is not nt!MmPfnDatabase's value")          \
	X(LIST_HEAD, "list-head", ERROR,                                       \
	  "a module or process list head is broken")                           \
	X(BUGCHECK_CODE, "bugcheck-code", ERROR,                               \
	  "the header's bugcheck is not KiBugcheckData's")                     \
	X(CRASH_CONTEXT, "crash-context", ERROR,                               \
	  "the header ContextRecord is not the saved bugcheck CONTEXT")        \
	X(CRASH_CONTEXT_LOST, "crash-context-lost", WARNING,                   \
	  "the saved bugcheck CONTEXT was overwritten")                        \
	X(UNREADABLE, "unreadable", ERROR,                                     \
	  "the dump cannot be opened for the memory checks")

enum wdt_dmpcheck_code {
#define WDT_DMPCHECK_ENUM(id, name, sev, desc) WDT_DC_##id,
	WDT_DMPCHECK_CODES(WDT_DMPCHECK_ENUM)
#undef WDT_DMPCHECK_ENUM
	    WDT_DC_COUNT
};

enum wdt_dmpcheck_sev {
	WDT_DMPCHECK_WARNING = 1,
	WDT_DMPCHECK_ERROR = 2,
	WDT_DMPCHECK_EITHER = 3, /* table only: the check decides */
};

/* "valid-dump", … (static; "?" out of range). */
const char *wdt_dmpcheck_code_name(enum wdt_dmpcheck_code c);
/* The table's one-line description (static). */
const char *wdt_dmpcheck_code_desc(enum wdt_dmpcheck_code c);
/* The severities c can have: WARNING, ERROR or EITHER. */
enum wdt_dmpcheck_sev wdt_dmpcheck_code_sev(enum wdt_dmpcheck_code c);
/* "error" or "warning" (static). */
const char *wdt_dmpcheck_sev_name(enum wdt_dmpcheck_sev s);

#define WDT_DMPCHECK_MAX 64 /* findings kept; more are counted */

struct wdt_dmpcheck_finding {
	enum wdt_dmpcheck_code code;
	enum wdt_dmpcheck_sev sev; /* WARNING or ERROR */
	char msg[480];		   /* what a debugger will do because of it */
	bool have_values;	   /* the single pair of values judged */
	uint64_t expected, found;
	bool have_addr; /* guest VA the finding is about */
	uint64_t addr;
};

struct wdt_dmpcheck_opts {
	bool header_only; /* skip the memory checks */
};

struct wdt_dmpcheck {
	struct wdt_dmpcheck_finding f[WDT_DMPCHECK_MAX];
	size_t n;	/* findings in f, in the order found */
	size_t dropped; /* findings beyond WDT_DMPCHECK_MAX */
	bool memory_skipped;
	char skipped[WDT_ERR_MSG_MAX]; /* why, when memory_skipped */
};

/*
 * Check the DMP in src (taken over: closed before return in every case).
 * o may be NULL. 0 with the findings in r (none: sound); -1 when src is
 * not a readable DMP at all (I/O error, another kind of file, a header
 * cut short): err says why, prefixed "not a readable DMP" for content.
 */
int wdt_dmpcheck_run(struct wdt_source *src, const struct wdt_dmpcheck_opts *o,
		     struct wdt_dmpcheck *r, struct wdt_err *err);

/* Findings of r with severity s. */
size_t wdt_dmpcheck_count(const struct wdt_dmpcheck *r,
			  enum wdt_dmpcheck_sev s);

#endif
