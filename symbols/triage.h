/* SPDX-License-Identifier: MIT */
/*
 * What crashed a guest (docs/crash.md): the loaded modules
 * (PsLoadedModuleList), addresses as module+offset and, with a PDB,
 * symbol+offset; the crashing processor's thread and process; the module
 * the bugcheck blames; and a stable one-line bucket.
 *
 * Structure offsets: KPRCB.CurrentThread and KTHREAD.ApcState.Process come
 * from KDBG (OffsetPrcbCurrentThread, OffsetKThreadApcProcess) or the PDB's
 * types; EPROCESS.ImageFileName and UniqueProcessId from the PDB's types,
 * else a small per-build table (sources in triage.c) that is checked
 * against the System process ("System", pid 4) before it is trusted, else
 * a search of the System EPROCESS for its name.
 */
#ifndef WDT_SYMBOLS_TRIAGE_H
#define WDT_SYMBOLS_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "symbols/bugcheck.h"
#include "symbols/kdbg.h"
#include "symbols/kernel.h"
#include "symbols/pdb.h"

/* LDR_DATA_TABLE_ENTRY (x64, every build since XP x64). */
#define WDT_LDR_DLL_BASE 0x30u
#define WDT_LDR_SIZE_OF_IMAGE 0x40u
#define WDT_LDR_FULL_DLL_NAME 0x48u
#define WDT_LDR_BASE_DLL_NAME 0x58u
#define WDT_LDR_READ 0x68u
#define WDT_MODULES_MAX 4096u
#define WDT_MODULE_NAME_MAX 64u

/* EPROCESS.ImageFileName: 15 characters and a NUL. */
#define WDT_IMAGE_FILE_NAME_LEN 15u

/* Bytes of the crashing stack searched for return addresses. */
#define WDT_TRIAGE_STACK_SCAN 0x2000u

struct wdt_module {
	uint64_t base;
	uint32_t size;
	uint64_t ldr;			/* its LDR_DATA_TABLE_ENTRY */
	char name[WDT_MODULE_NAME_MAX]; /* BaseDllName; non-ASCII as '?' */
};

struct wdt_modules {
	struct wdt_module *v; /* in list order (the kernel first) */
	size_t n;
	char note[200]; /* why the list stopped early, if it did */
};

/*
 * Walk the LDR_DATA_TABLE_ENTRY list at head (KDBG.PsLoadedModuleList).
 * A broken link ends the walk with a note; -1 only when the head itself is
 * unreadable or memory runs out. m must be freed in every case.
 */
int wdt_modules_read(const struct wdt_kernel *k, uint64_t head,
		     struct wdt_modules *m, struct wdt_err *err);
void wdt_modules_free(struct wdt_modules *m);
/* The module holding va, or NULL. */
const struct wdt_module *wdt_modules_find(const struct wdt_modules *m,
					  uint64_t va);

/* Public symbols of one module, sorted by RVA. */
struct wdt_symtab {
	const struct wdt_module *mod;
	struct wdt_pdb *pdb; /* owned */
	const struct wdt_pdb_public **by_rva;
	size_t n;
};

/* Own pdb (closed by wdt_symtab_free, also on failure). */
int wdt_symtab_init(struct wdt_symtab *t, const struct wdt_module *mod,
		    struct wdt_pdb *pdb, struct wdt_err *err);
void wdt_symtab_free(struct wdt_symtab *t);

/* An address described: module, offset, nearest public symbol. */
struct wdt_where {
	uint64_t va;
	const struct wdt_module *mod; /* NULL: in no loaded module */
	uint64_t offset;	      /* from mod->base */
	const char *symbol;	      /* NULL: no PDB or before every public */
	uint64_t sym_offset;
	char text[256]; /* "nt!KiPageFault+0x12", "foo+0x1a0" */
};

void wdt_where(const struct wdt_modules *m, const struct wdt_symtab *syms,
	       size_t nsyms, uint64_t va, struct wdt_where *w);

struct wdt_ntoffsets {
	uint32_t prcb_current_thread;
	uint32_t kthread_process;   /* KTHREAD.ApcState.Process */
	uint32_t eprocess_name;	    /* 0: unknown */
	uint32_t eprocess_pid;	    /* 0: unknown */
	const char *thread_source;  /* "pdb", "kdbg" */
	const char *process_source; /* "pdb", "build-table", "system-scan" */
};

/*
 * Offsets for the thread and process, from the PDB (may be NULL), KDBG,
 * the build table or the scan. The build is the kernel's build number.
 */
void wdt_ntoffsets_find(const struct wdt_kernel *k, const struct wdt_kdbg *d,
			struct wdt_pdb *pdb, uint32_t build,
			struct wdt_ntoffsets *o);

/* The per-build table, for tests: 1 and the offsets, or 0 unknown build. */
int wdt_ntoffsets_table(uint32_t build, uint32_t *pid, uint32_t *name);

struct wdt_triage {
	const struct wdt_bugcheck *bc;
	struct wdt_where rip, rsp_ret, blamed;
	bool have_rip;
	const char *blame_how; /* "P1".."P4", "stack", "caller", "rip", NULL */
	uint64_t thread, process;
	bool have_process;
	char process_name[WDT_IMAGE_FILE_NAME_LEN + 1];
	uint64_t pid;
	bool have_pid;
	char bucket[200];
	const char *bucket_basis; /* "symbol" or "offset" */
};

/*
 * Describe a crash (bc->crashed) from the crashing processor's saved
 * CONTEXT (or, when that processor is unknown, nothing but the code).
 */
void wdt_triage_run(const struct wdt_kernel *k, const struct wdt_bugcheck *bc,
		    const struct wdt_modules *m, const struct wdt_symtab *syms,
		    size_t nsyms, const struct wdt_ntoffsets *off,
		    struct wdt_triage *t);

/* Is the code before ret a call instruction (E8, FF /2 forms)? */
bool wdt_triage_after_call(const uint8_t before[7]);

/* "0xD1_wdtfault.sys!Fn" or "0xD1_wdtfault.sys+0x1a0" into buf. */
void wdt_triage_bucket(uint32_t code, const struct wdt_where *blamed, char *buf,
		       size_t len, const char **basis);

#endif
