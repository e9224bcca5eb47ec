/* SPDX-License-Identifier: MIT */
/*
 * Error model: every library function takes `struct wdt_err *err` last and
 * returns 0 / -1 (or pointer / NULL; searches 1 found, 0 not found, -1 error).
 * The innermost failure sets status and message; each outer layer that adds
 * meaning prefixes context ("kdbg: reading X: "). Only cmd/ prints or exits.
 */
#ifndef WDT_CORE_ERR_H
#define WDT_CORE_ERR_H

#include <stdarg.h>

/* X(ENUM, json_name, exit_code, description) */
#define WDT_STATUS_LIST(X)                                                     \
	X(OK, "ok", 0, "success")                                              \
	X(USAGE, "usage", 2, "usage error")                                    \
	X(UNKNOWN_FORMAT, "unknown_format", 3, "unknown input format")         \
	X(CORRUPT, "corrupt", 3, "corrupt input")                              \
	X(TRUNCATED, "truncated", 3, "truncated input")                        \
	X(NOT_FOUND, "not_found", 3, "not found")                              \
	X(NO_DATA, "no_data", 3, "data not in image")                          \
	X(UNSUPPORTED, "unsupported", 3, "unsupported input")                  \
	X(IO, "io", 4, "I/O error")                                            \
	X(NOMEM, "nomem", 4, "out of memory")                                  \
	X(NETWORK, "network", 4, "network error")                              \
	X(OUTPUT, "output", 4, "output error")                                 \
	X(INTERNAL, "internal", 70, "internal error")

enum wdt_status {
#define WDT_X_ENUM(e, name, code, desc) WDT_##e,
	WDT_STATUS_LIST(WDT_X_ENUM)
#undef WDT_X_ENUM
	    WDT_STATUS_COUNT
};

/*
 * Room for messages that carry paths and URLs whole: a PDB note names a
 * PATH_MAX (4096) cache path, a URL and why each candidate was refused,
 * and the layers above prefix context. Nothing is ever allocated here, so
 * an error can always be reported.
 */
#define WDT_ERR_MSG_MAX 16384

/*
 * What the user can do about an error, when the layer that failed knows
 * it: the library names the remedy, cmd/ words it in the command line's
 * terms (cmd/wdt.c, wdt_cmd_explain), so no library message names a flag
 * another front end would not have. X(ENUM, what the user can do)
 */
#define WDT_REMEDY_LIST(X)                                                     \
	X(NONE, "nothing")                                                     \
	X(OVERWRITE, "allow replacing the output file")                        \
	X(FORCE_PDB, "accept a PDB whose GUID or age differs")                 \
	X(PDB_FILE, "give the PDB file itself")                                \
	X(PDB_FILE_OR_SERVER, "give the PDB file or a symbol server")          \
	X(SYMBOL_PATH, "give a symbol path")                                   \
	X(SYMBOL_TIMEOUT, "raise the download time limit")                     \
	X(DTB, "give the kernel's page-table root")                            \
	X(KERNEL_BASE, "give the kernel's base address")                       \
	X(FORMAT, "list the formats or force one")                             \
	X(LIST_FORMATS, "list the formats")                                    \
	X(RATIO, "accept a higher decompression ratio")

enum wdt_remedy {
#define WDT_X_ENUM(e, desc) WDT_REMEDY_##e,
	WDT_REMEDY_LIST(WDT_X_ENUM)
#undef WDT_X_ENUM
	    WDT_REMEDY_COUNT
};

struct wdt_err {
	enum wdt_status status;
	enum wdt_remedy remedy; /* NONE unless the failing layer knows one */
	char msg[WDT_ERR_MSG_MAX];
};

void wdt_err_clear(struct wdt_err *err);

/*
 * Set status and message (printf-style); the remedy becomes NONE. Always
 * returns -1. err may be NULL.
 */
int wdt_err_set(struct wdt_err *err, enum wdt_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int wdt_err_vset(struct wdt_err *err, enum wdt_status st, const char *fmt,
		 va_list ap) __attribute__((format(printf, 3, 0)));

/* Prefix the existing message with "context: ". Keeps status. Returns -1. */
int wdt_err_prefix(struct wdt_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Set from errno: "what: strerror(errno)", status IO (NOMEM for ENOMEM). */
int wdt_err_errno(struct wdt_err *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Name what the user can do about err (kept by prefixes). Returns -1. */
int wdt_err_remedy(struct wdt_err *err, enum wdt_remedy r);

/* Convenience for allocation failures. Returns -1. */
int wdt_err_nomem(struct wdt_err *err);

const char *wdt_status_name(enum wdt_status st);
const char *wdt_status_desc(enum wdt_status st);
int wdt_status_exit(enum wdt_status st);

#endif
