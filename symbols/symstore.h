/* SPDX-License-Identifier: MIT */
/*
 * Symbol store: find the PDB that matches an image (name, GUID, age) via
 * --pdb, a symbol path (_NT_SYMBOL_PATH syntax) or the default Microsoft
 * server, downloading into a local cache with libcurl. Facts:
 * ../shared/spec/pe-and-symbols.md §7–§10; user documentation:
 * docs/symbols.md.
 *
 * The PDB name, GUID and age come from an untrusted image: the name is
 * checked (wdt_symstore_check_name) before any path or URL is built, and
 * nothing is ever passed to a shell.
 */
#ifndef WDT_SYMBOLS_SYMSTORE_H
#define WDT_SYMBOLS_SYMSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct wdt_progress;

#define WDT_SYMSTORE_MSDL "https://msdl.microsoft.com/download/symbols"
#define WDT_SYMSTORE_NAME_MAX 128
/* "<32 hex GUID><age in hex>" */
#define WDT_SYMSTORE_KEY_MAX (32 + 8 + 1)

struct wdt_symopts {
	const char *pdb_file;	 /* --pdb FILE: use it (verified) */
	const char *symbol_path; /* --symbol-path; NULL: environment */
	bool offline;		 /* never touch the network */
	bool force;		 /* accept a local PDB whose GUID/age differ */
	/*
	 * A progress line for a download of label (size unknown yet), or
	 * NULL for none; the caller (cmd/) decides whether and where one is
	 * drawn. NULL: no progress.
	 */
	struct wdt_progress *(*progress)(const char *label);
	long connect_timeout_s;
	/*
	 * --symbol-timeout: every download of one lookup together, retries
	 * and back-off included; 0: no bound (connect and low-speed limits
	 * still apply).
	 */
	long timeout_s;
	long low_speed_time_s; /* abort when slower than low_speed_bytes/s */
	long low_speed_bytes;
	/* CLOCK_MONOTONIC ms when downloads must stop (set per lookup from
	 * timeout_s); 0: wdt_download() starts the clock itself. */
	int64_t deadline_ms;
	int retries;	     /* extra attempts on transient errors; at
			      * most one more after a timeout */
	long retry_delay_ms; /* first back-off, doubled each retry */
	uint64_t max_bytes;  /* size cap of one download */
	/*
	 * The words for each remedy (enum wdt_remedy) in the caller's terms,
	 * e.g. ", or pass --pdb FILE", used where a remedy ends a note rather
	 * than an error; NULL: notes name none (cmd/ passes its table).
	 */
	const char *const *remedies;
};

/* o->remedies[r], or "" when there are none. */
const char *wdt_symopts_remedy(const struct wdt_symopts *o, enum wdt_remedy r);

/*
 * Fill opts with the defaults: online, connect within 15 s, abort below
 * 16 KiB/s for 15 s, 120 s for all downloads of a lookup, 3 retries (one
 * after a timeout), 512 MiB cap.
 */
void wdt_symopts_init(struct wdt_symopts *opts);

/*
 * Reject a PDB name unusable in a path or URL: empty, too long, path
 * separators, "..", a leading dot, control or URL/shell-special bytes.
 */
int wdt_symstore_check_name(const char *name, struct wdt_err *err);

/* Store key "<GUID><AGE>": %08X%04X%04X + 8×%02X, age %X. */
void wdt_symstore_key(const uint8_t guid[16], uint32_t age,
		      char out[WDT_SYMSTORE_KEY_MAX]);

/* Default cache: $XDG_CACHE_HOME/wdt/symbols, else ~/.cache/wdt/symbols. */
char *wdt_symstore_default_cache(struct wdt_err *err);

/*
 * The symbol path in effect and where it came from ("--symbol-path",
 * "WDT_SYMBOL_PATH", "_NT_SYMBOL_PATH", "default"). Caller frees *path.
 */
int wdt_symstore_effective_path(const struct wdt_symopts *opts, char **path,
				const char **origin, struct wdt_err *err);

enum wdt_sympath_kind {
	WDT_SYMPATH_DIR, /* plain directory: flat or store layout */
	WDT_SYMPATH_SRV, /* srv*[store*…]*[URL] */
};

struct wdt_sympath_entry {
	enum wdt_sympath_kind kind;
	char **stores; /* DIR: one entry; SRV: local stores, left first */
	size_t nstores;
	char *url;   /* SRV: server URL without trailing '/', or NULL */
	char *cache; /* where downloads and expanded .pd_ files go: SRV
		      * stores[0]; DIR the cache*DIR or default cache */
};

struct wdt_sympath {
	struct wdt_sympath_entry *v;
	size_t n;
};

/*
 * Parse a symbol path (WinDbg's syntax, docs/symbols.md). Empty stores
 * ("srv**URL", "srv*URL", "srv*") get the latest cache*DIR or
 * default_cache; an empty server ("srv*", "srv*DIR*") is Microsoft's.
 * Windows drive-letter and UNC paths are refused (USAGE) naming the entry.
 */
int wdt_sympath_parse(const char *path, const char *default_cache,
		      struct wdt_sympath *out, struct wdt_err *err);
void wdt_sympath_free(struct wdt_sympath *p);

/*
 * Find the PDB pdbname with this GUID and age: --pdb, then each symbol
 * path entry left to right (local stores first, then the server, whose
 * answer is verified and renamed into the entry's first store). On
 * success *path_out (caller frees) names a verified PDB. On failure the
 * message gives the URL and the cache path to fetch it by hand.
 */
int wdt_symstore_find(const struct wdt_symopts *opts, const char *pdbname,
		      const uint8_t guid[16], uint32_t age, char **path_out,
		      struct wdt_err *err);

/*
 * What a failed lookup leaves for a note the user can act on. All heap
 * strings (free with wdt_symstore_miss_free), any may be NULL.
 */
struct wdt_symstore_miss {
	char *why;     /* each candidate refused and why, "; "-separated */
	char *url;     /* where to download it: the first server of the
			* symbol path, else Microsoft's */
	char *save_as; /* where to file it so the same path finds it: the
			* first server's cache, else the first store (the
			* path `wdt symbols --add` uses) */
};

void wdt_symstore_miss_free(struct wdt_symstore_miss *m);

/*
 * wdt_symstore_find() that also fills *miss (when not NULL) on a miss,
 * that is when it returns -1 with status NOT_FOUND; other failures leave
 * it empty.
 */
int wdt_symstore_lookup(const struct wdt_symopts *opts, const char *pdbname,
			const uint8_t guid[16], uint32_t age, char **path_out,
			struct wdt_symstore_miss *miss, struct wdt_err *err);

/*
 * The one-line note for a miss, malloc'd (NULL when memory is short):
 * "no PDB for NAME {GUID} age N (WHY)THEN; to use it, download URL and
 * save it as PATH" and the words of remedies (may be NULL) for PDB_FILE
 * (cmd/: ", or pass --pdb FILE"). then (may be NULL) is inserted after the
 * reason, e.g. ": continuing without it". Pure.
 */
char *wdt_symstore_miss_note(const char *pdbname, const uint8_t guid[16],
			     uint32_t age, const struct wdt_symstore_miss *m,
			     const char *then, const char *const *remedies);

/* Where a PDB would come from and go to, for `wdt symbols`. */
struct wdt_symstore_plan {
	char *symbol_path;  /* the path in effect */
	const char *origin; /* where it came from (static) */
	char *url;	    /* the first server's URL of the PDB, else
			     * Microsoft's */
	bool url_in_path;   /* url comes from a server of the path */
	char *save_path;    /* where a download or --add files it: the
			     * first server's cache, else the first entry's
			     * first store, in store layout */
};

/*
 * Fill plan for pdbname/guid/age under opts' symbol path (the name is
 * checked first). Caller frees with wdt_symstore_plan_free.
 */
int wdt_symstore_plan(const struct wdt_symopts *opts, const char *pdbname,
		      const uint8_t guid[16], uint32_t age,
		      struct wdt_symstore_plan *plan, struct wdt_err *err);
void wdt_symstore_plan_free(struct wdt_symstore_plan *plan);

/*
 * File the PDB at src, fetched elsewhere, under pdbname and its own GUID
 * and DBI age (read from the PDB) at plan's save_path: copied to a temp
 * file, verified, renamed into place. *guid and *age receive its
 * identity; *dest (caller frees) names the filed copy; *added is false
 * when a PDB with that identity was already there (nothing is written).
 * A file that is not a PDB is refused (its reader's status and message).
 */
int wdt_symstore_add(const struct wdt_symopts *opts, const char *src,
		     const char *pdbname, uint8_t guid[16], uint32_t *age,
		     char **dest, bool *added, struct wdt_err *err);

#endif
