/* SPDX-License-Identifier: MIT */
/*
 * The command layer: each cmd/<x>.c exports one struct wdt_cmd. One option
 * table per command drives both parsing and --help, so they cannot drift.
 * Only cmd/ prints or exits.
 */
#ifndef WDT_CMD_CMD_H
#define WDT_CMD_CMD_H

#include <stdbool.h>

#include "core/err.h"
#include "core/out.h"

struct wdt_progress;

struct wdt_opt {
	const char *name; /* long name, without "--" */
	char shortname;	  /* 0: none */
	const char *arg;  /* metavar; NULL for a flag */
	const char *help; /* one line */
	int id;		  /* returned by the parser; > 0 */
};

#define WDT_MAX_OPTS 32

struct wdt_ctx {
	const struct wdt_cmd *cmd;
	/* Parsed options, in command-line order. */
	struct {
		int id;
		const char *val;
	} opts[WDT_MAX_OPTS];
	int nopts;
	char **args; /* positional arguments */
	int nargs;
	bool json;
	struct wdt_out *out; /* results; rendered to stdout on success */
	struct wdt_err err;  /* set on failure */
	const char *subject; /* file the error is about (may be NULL) */
	/*
	 * The command's data goes to standard output (`-o -`): the report
	 * and any error, text or JSON, go to standard error instead.
	 */
	bool data_on_stdout;
};

struct wdt_cmd {
	const char *name;
	const char *summary;	    /* one line, for `wdt --help` */
	const char *usage;	    /* after "wdt NAME [OPTIONS] " */
	const char *description;    /* paragraph for `--help` */
	const struct wdt_opt *opts; /* terminated by { 0 } */
	const char *examples;	    /* lines "  $ wdt …" */
	int min_args, max_args;
	/*
	 * Returns 0 success, -1 failure (ctx->err set), or a positive exit
	 * status decided by the command's semantics (verify: 1).
	 */
	int (*run)(struct wdt_ctx *ctx);
};

/* Options every command has; ids below 0 are reserved for these. */
enum { WDT_OPT_HELP = -1, WDT_OPT_JSON = -2, WDT_OPT_VERSION = -3 };

/* Last value of option id, or NULL. */
const char *wdt_ctx_opt(const struct wdt_ctx *ctx, int id);
bool wdt_ctx_flag(const struct wdt_ctx *ctx, int id);

/*
 * Append what to do about e, in this command line's words, to e->msg
 * (the remedy the library named, core/err.h), and clear it. Every message
 * the user sees from a wdt_err goes through it; printing a command's error
 * does. Returns e->msg.
 */
const char *wdt_cmd_explain(struct wdt_err *e);

/*
 * A progress line on stderr when it is a terminal (core/progress.c), for
 * symopts.progress: the library draws only what cmd/ hands it.
 */
struct wdt_progress *wdt_cmd_progress(const char *label);

/* The words of each remedy (NULL for NONE), for symopts.remedies. */
extern const char *const wdt_cmd_remedies[WDT_REMEDY_COUNT];

/* Record the file an error is about, then return -1 (for `return`). */
int wdt_ctx_fail(struct wdt_ctx *ctx, const char *subject);

extern const struct wdt_cmd wdt_cmd_info;
extern const struct wdt_cmd wdt_cmd_read;
extern const struct wdt_cmd wdt_cmd_find_kernel;
extern const struct wdt_cmd wdt_cmd_kdbg;
extern const struct wdt_cmd wdt_cmd_convert;
extern const struct wdt_cmd wdt_cmd_verify;
extern const struct wdt_cmd wdt_cmd_triage;
extern const struct wdt_cmd wdt_cmd_symbols;

#endif
