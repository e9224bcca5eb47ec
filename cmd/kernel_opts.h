/* SPDX-License-Identifier: MIT */
/*
 * Options and output shared by the commands that find the Windows kernel
 * (find-kernel, kdbg, convert, triage): where the PDB comes from, forced
 * DTB or base, -v, and the report of what was found and what was tried,
 * including the one warning when a wanted PDB was not used.
 */
#ifndef WDT_CMD_KERNEL_OPTS_H
#define WDT_CMD_KERNEL_OPTS_H

#include "cmd/cmd.h"
#include "core/image.h"
#include "symbols/bugcheck.h"
#include "symbols/kdbg.h"
#include "symbols/kernel.h"
#include "symbols/symstore.h"

/* Option ids 100..119 are reserved for these. */
enum {
	WDT_KOPT_PDB = 100,
	WDT_KOPT_SYMBOL_PATH,
	WDT_KOPT_OFFLINE,
	WDT_KOPT_NO_PDB,
	WDT_KOPT_FORCE_PDB,
	WDT_KOPT_DTB,
	WDT_KOPT_KERNEL_BASE,
	WDT_KOPT_VERBOSE,
	WDT_KOPT_REQUIRE_PDB,
	WDT_KOPT_SYMBOL_TIMEOUT,
};

#define WDT_KERNEL_OPT_ENTRIES                                                 \
	{"pdb", 0, "FILE",                                                     \
	 "use this kernel PDB (must match the image's GUID and age)",          \
	 WDT_KOPT_PDB},                                                        \
	    {"symbol-path", 0, "PATH",                                         \
	     "where to look for the PDB (WinDbg syntax; see docs/symbols.md)", \
	     WDT_KOPT_SYMBOL_PATH},                                            \
	    {"offline", 0, NULL, "never download; use local PDBs only",        \
	     WDT_KOPT_OFFLINE},                                                \
	    {"no-pdb", 0, NULL,                                                \
	     "do not look for a PDB at all (no-PDB methods)",                  \
	     WDT_KOPT_NO_PDB},                                                 \
	    {"require-pdb", 0, NULL,                                           \
	     "fail (exit 3) when the kernel's PDB cannot be used",             \
	     WDT_KOPT_REQUIRE_PDB},                                            \
	    {"symbol-timeout", 0, "SECS",                                      \
	     "time limit for downloading the PDB, retries included (default "  \
	     "120; 0: none)",                                                  \
	     WDT_KOPT_SYMBOL_TIMEOUT},                                         \
	    {"force-pdb", 0, NULL,                                             \
	     "accept a --pdb whose GUID or age differ from the image's",       \
	     WDT_KOPT_FORCE_PDB},                                              \
	    {"dtb", 0, "ADDR",                                                 \
	     "use this kernel directory table base (CR3) instead of "          \
	     "searching",                                                      \
	     WDT_KOPT_DTB},                                                    \
	    {"kernel-base", 0, "VA",                                           \
	     "use this kernel base address instead of searching",              \
	     WDT_KOPT_KERNEL_BASE},                                            \
	{                                                                      \
		"verbose", 'v', NULL,                                          \
		    "show every method tried and its outcome",                 \
		    WDT_KOPT_VERBOSE                                           \
	}

/*
 * Parse the options above into ko and so (so->pdb_file etc.); *want_pdb is
 * false with --no-pdb. -1 with ctx->err set on a bad value.
 */
int wdt_cmd_kernel_opts(struct wdt_ctx *ctx, struct wdt_kernel_opts *ko,
			struct wdt_symopts *so, bool *want_pdb);

/* Open the image and find the kernel; on failure ctx->err is set. */
int wdt_cmd_locate_kernel(struct wdt_ctx *ctx, struct wdt_image *img,
			  const struct wdt_kernel_opts *ko,
			  struct wdt_kernel *k);

/*
 * Locate and decode KdDebuggerDataBlock (sym NULL: no PDB lookup); on
 * failure the attempts are shown and ctx->err names the image. Then
 * wdt_cmd_pdb_check(): the warning, or the --require-pdb failure.
 */
int wdt_cmd_locate_kdbg(struct wdt_ctx *ctx, struct wdt_kernel *k,
			const struct wdt_symopts *sym, struct wdt_kdbg *d);

/* What became of the kernel's PDB (the strings are borrowed). */
struct wdt_cmd_pdb {
	bool wanted; /* not --no-pdb */
	bool used;
	const char *path; /* the PDB used (find-kernel: found) */
	const char *note; /* why none was used and what to do */
	const struct wdt_symstore_miss *miss; /* the lookup's miss, or NULL */
};

/* The outcome recorded by wdt_kdbg_find(). */
struct wdt_cmd_pdb wdt_cmd_pdb_of(const struct wdt_kdbg *d, bool wanted);

/*
 * A PDB wanted and not used: print one warning line on stderr, "wdt:
 * warning: IMAGE: no PDB for … (why)THEN; to use it, download URL and
 * save it as PATH, or pass --pdb FILE"; with --require-pdb, fail instead
 * (-1, ctx->err NOT_FOUND naming the image, the same facts).
 */
int wdt_cmd_pdb_check(struct wdt_ctx *ctx, const struct wdt_kernel *k,
		      const struct wdt_cmd_pdb *p, const char *then);

/* The "pdb" object: wanted, used, path, note, why, url, save_as. */
void wdt_cmd_out_pdb(struct wdt_out *o, const struct wdt_cmd_pdb *p);

/*
 * Bugcheck state (symbols/bugcheck.h) with the PDB kdbg used, if any. On
 * failure ctx->err names the image. bc must be freed in every case.
 */
int wdt_cmd_bugcheck(struct wdt_ctx *ctx, const struct wdt_kernel *k,
		     const struct wdt_kdbg *d, struct wdt_bugcheck *bc);

/* The "crash" object: crashed, code, name, parameters, CPU, method. */
void wdt_cmd_out_bugcheck(struct wdt_out *o, const struct wdt_bugcheck *bc);

/* "dtb" and "kernel" objects. */
void wdt_cmd_out_kernel(struct wdt_out *o, const struct wdt_kernel *k);
/*
 * How KdDebuggerDataBlock was found (va, pa, size, encoded, method, PDB),
 * as members of the current object: `kdbg` of `wdt kdbg` and `convert`.
 */
void wdt_cmd_out_kdbg_found(struct wdt_out *o, const struct wdt_kdbg *d,
			    const struct wdt_kernel *k);
/* "attempts" array: always in JSON, in text only with -v. */
void wdt_cmd_out_attempts(struct wdt_ctx *ctx, const struct wdt_kernel *k);

#endif
