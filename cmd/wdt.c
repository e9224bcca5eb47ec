/* SPDX-License-Identifier: MIT */
/*
 * wdt: main, argv[0] dispatch (`wdt-info` runs `wdt info`), the command
 * table, option parsing from each command's table, --help, and the one
 * place that turns a status into an exit code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/progress.h"

#define SCHEMA_VERSION 2

/* The commands `wdt --help` lists: only those that work. */
static const struct wdt_cmd *const commands[] = {
    &wdt_cmd_info,   &wdt_cmd_read,    &wdt_cmd_find_kernel,
    &wdt_cmd_kdbg,   &wdt_cmd_convert, &wdt_cmd_verify,
    &wdt_cmd_triage, &wdt_cmd_symbols, NULL,
};

static const struct wdt_opt common_opts[] = {
    {"help", 'h', NULL, "show this help and exit", WDT_OPT_HELP},
    {"json", 0, NULL, "print results (or the error) as one JSON object",
     WDT_OPT_JSON},
    {"version", 'V', NULL, "print the version and exit", WDT_OPT_VERSION},
    {0},
};

const char *wdt_ctx_opt(const struct wdt_ctx *ctx, int id)
{
	const char *v = NULL;

	for (int i = 0; i < ctx->nopts; i++)
		if (ctx->opts[i].id == id)
			v = ctx->opts[i].val ? ctx->opts[i].val : "";
	return v;
}

bool wdt_ctx_flag(const struct wdt_ctx *ctx, int id)
{
	return wdt_ctx_opt(ctx, id) != NULL;
}

int wdt_ctx_fail(struct wdt_ctx *ctx, const char *subject)
{
	ctx->subject = subject;
	return -1;
}

/* The options that carry out each remedy, with the words joining them. */
const char *const wdt_cmd_remedies[WDT_REMEDY_COUNT] = {
    [WDT_REMEDY_OVERWRITE] = "; use --force to replace it",
    [WDT_REMEDY_FORCE_PDB] = " (use --force-pdb to accept it anyway)",
    [WDT_REMEDY_PDB_FILE] = ", or pass --pdb FILE",
    [WDT_REMEDY_PDB_FILE_OR_SERVER] =
	"; pass --pdb FILE or a symbol path with srv*",
    [WDT_REMEDY_SYMBOL_PATH] = ", or give --symbol-path",
    [WDT_REMEDY_SYMBOL_TIMEOUT] = " (--symbol-timeout raises it)",
    [WDT_REMEDY_DTB] = " If you know the kernel CR3, pass --dtb",
    [WDT_REMEDY_KERNEL_BASE] =
	". If you know the kernel's base address, pass --kernel-base",
    [WDT_REMEDY_FORMAT] = "; see 'wdt info --list-formats', or force one with "
			  "--format=raw",
    [WDT_REMEDY_LIST_FORMATS] = " (see --list-formats)",
    [WDT_REMEDY_RATIO] = "; --max-ratio N raises the limit (0: none)",
};

struct wdt_progress *wdt_cmd_progress(const char *label)
{
	return wdt_progress_new(label, 0, true);
}

const char *wdt_cmd_explain(struct wdt_err *e)
{
	const char *t = (unsigned)e->remedy < WDT_REMEDY_COUNT
			    ? wdt_cmd_remedies[e->remedy]
			    : NULL;
	size_t n = strlen(e->msg);

	if (t && n + strlen(t) < sizeof(e->msg))
		memcpy(e->msg + n, t, strlen(t) + 1);
	e->remedy = WDT_REMEDY_NONE;
	return e->msg;
}

/* ---- suggestions ---- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (lb >= sizeof(row) / sizeof(row[0]))
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins)
					   : (del < ins ? del : ins);
			prev = cur;
		}
	}
	return row[lb];
}

/* Closest of names[] within a small distance, or NULL. */
static const char *suggest(const char *typed, const char *const *names,
			   size_t n)
{
	const char *best = NULL;
	size_t bestd = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(typed, names[i]);
		if (d < bestd ||
		    (strncmp(typed, names[i], strlen(typed)) == 0 &&
		     strlen(typed) >= 2 && !best)) {
			bestd = d < bestd ? d : bestd;
			best = names[i];
		}
	}
	return best;
}

/* ---- help ---- */

static void print_opt(FILE *f, const struct wdt_opt *o)
{
	char left[64];

	if (o->shortname)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", o->shortname,
			 o->name, o->arg ? "=" : "", o->arg ? o->arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", o->name,
			 o->arg ? "=" : "", o->arg ? o->arg : "");
	fprintf(f, "  %-26s %s\n", left, o->help);
}

static void cmd_help(FILE *f, const struct wdt_cmd *c)
{
	fprintf(f, "usage: wdt %s [OPTIONS] %s\n\n%s.\n", c->name, c->usage,
		c->summary);
	if (c->description)
		fprintf(f, "\n%s\n", c->description);
	fprintf(f, "\nOptions:\n");
	for (const struct wdt_opt *o = c->opts; o && o->name; o++)
		print_opt(f, o);
	for (const struct wdt_opt *o = common_opts; o->name; o++)
		print_opt(f, o);
	if (c->examples)
		fprintf(f, "\nExamples:\n%s", c->examples);
	fprintf(f,
		"\nExit status: 0 success, 2 usage error, 3 the input cannot "
		"be processed,\n4 environment (I/O, memory, output), 70 "
		"internal error.\nSee also: man wdt-%s\n",
		c->name);
}

static void main_help(FILE *f)
{
	fprintf(f, "usage: wdt COMMAND [OPTIONS] [ARGS]\n"
		   "       wdt-COMMAND [OPTIONS] [ARGS]\n\n"
		   "Offline toolkit for memory dumps of Windows virtual "
		   "machines.\n\nCommands:\n");
	for (size_t i = 0; commands[i]; i++)
		fprintf(f, "  %-12s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(f, "\nGeneral options:\n"
		   "  -h, --help        this help; 'wdt help COMMAND' or "
		   "'wdt COMMAND --help' for one command\n"
		   "  -V, --version     print the version (also after a "
		   "command)\n"
		   "\nEvery command takes --json. See man wdt.\n");
}

/* ---- option parsing ---- */

static const struct wdt_opt *find_long(const struct wdt_cmd *c,
				       const char *name, size_t len)
{
	const struct wdt_opt *tabs[2] = {c->opts, common_opts};

	for (int t = 0; t < 2; t++)
		for (const struct wdt_opt *o = tabs[t]; o && o->name; o++)
			if (strlen(o->name) == len &&
			    strncmp(o->name, name, len) == 0)
				return o;
	return NULL;
}

static const struct wdt_opt *find_short(const struct wdt_cmd *c, char ch)
{
	const struct wdt_opt *tabs[2] = {c->opts, common_opts};

	for (int t = 0; t < 2; t++)
		for (const struct wdt_opt *o = tabs[t]; o && o->name; o++)
			if (o->shortname == ch)
				return o;
	return NULL;
}

static void print_json_error(FILE *f, const char *cmd, enum wdt_status st,
			     const char *subject, const char *msg)
{
	fprintf(f, "{\n  \"schema\": \"wdt.%s/%d\",\n  \"wdt_version\": ", cmd,
		SCHEMA_VERSION);
	wdt_json_string(f, WDT_VERSION);
	fprintf(f, ",\n  \"error\": {\n    \"status\": ");
	wdt_json_string(f, wdt_status_name(st));
	fprintf(f, ",\n    \"exit_code\": %d,\n    \"file\": ",
		wdt_status_exit(st));
	if (subject)
		wdt_json_string(f, subject);
	else
		fputs("null", f);
	fprintf(f, ",\n    \"message\": ");
	wdt_json_string(f, msg);
	fprintf(f, "\n  }\n}\n");
}

/*
 * A usage error found while parsing: the line and the hint on stderr, and
 * with --json anywhere among the options (ctx->json, set before parsing)
 * the error object on stdout as for every other error.
 */
static int usage_error(const struct wdt_ctx *ctx, const char *fmt,
		       const char *a, const char *b)
{
	const struct wdt_cmd *c = ctx->cmd;
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, a, b);
	if (ctx->json)
		print_json_error(stdout, c->name, WDT_USAGE, NULL, msg);
	fprintf(stderr, "wdt %s: ", c->name);
	wdt_text_string(stderr, msg); /* may quote an argument */
	fprintf(stderr, "\nTry 'wdt %s --help'.\n", c->name);
	return 2;
}

static int unknown_option(const struct wdt_ctx *ctx, const char *typed)
{
	const struct wdt_cmd *c = ctx->cmd;
	const char *names[WDT_MAX_OPTS + 4];
	size_t n = 0;
	const struct wdt_opt *tabs[2] = {c->opts, common_opts};

	for (int t = 0; t < 2; t++)
		for (const struct wdt_opt *o = tabs[t]; o && o->name; o++)
			if (n < sizeof(names) / sizeof(names[0]))
				names[n++] = o->name;
	char base[64];
	snprintf(base, sizeof(base), "%.*s", (int)strcspn(typed, "="), typed);
	const char *s = suggest(base, names, n);
	if (s)
		return usage_error(
		    ctx, "unknown option '--%s'; did you mean '--%s'?", base,
		    s);
	return usage_error(ctx, "unknown option '--%s'%s", base, "");
}

/* Record one parsed option. Returns 0, 1 for help or version shown, 2. */
static int take_opt(struct wdt_ctx *ctx, const struct wdt_opt *o,
		    const char *val)
{
	if (o->id == WDT_OPT_HELP) {
		cmd_help(stdout, ctx->cmd);
		return 1;
	}
	if (o->id == WDT_OPT_VERSION) {
		printf("wdt %s\n", WDT_VERSION);
		return 1;
	}
	if (o->id == WDT_OPT_JSON) {
		ctx->json = true;
		return 0;
	}
	if (ctx->nopts >= WDT_MAX_OPTS)
		return usage_error(ctx, "too many options%s%s", "", "");
	ctx->opts[ctx->nopts].id = o->id;
	ctx->opts[ctx->nopts].val = val;
	ctx->nopts++;
	return 0;
}

/* One word of short options, argv[*i] ("-qv", "-qoFILE", "-qo" FILE). */
static int parse_shorts(struct wdt_ctx *ctx, const char *a, int argc,
			char **argv, int *i)
{
	const struct wdt_cmd *c = ctx->cmd;

	for (const char *p = a + 1; *p; p++) {
		const struct wdt_opt *o = find_short(c, *p);
		const char *val = NULL;
		char s[2] = {*p, 0};
		int r;

		if (!o) {
			if (p == a + 1)
				return usage_error(
				    ctx, "unknown option '-%s'%s", s, "");
			return usage_error(ctx, "unknown option '-%s' in '%s'",
					   s, a);
		}
		if (o->arg) {
			if (p[1])
				val = p + 1;
			else if (*i + 1 < argc)
				val = argv[++*i];
			else
				return usage_error(
				    ctx, "option '-%s' needs a value", s, "");
		}
		r = take_opt(ctx, o, val);
		if (r != 0 || val)
			return r;
	}
	return 0;
}

/* Returns 0 to run, 1 for help shown, 2 usage error. */
static int parse(struct wdt_ctx *ctx, int argc, char **argv)
{
	const struct wdt_cmd *c = ctx->cmd;
	bool only_args = false;

	/*
	 * --json anywhere before "--" decides the form of the errors found
	 * below, even one in an earlier word (wdt info --bad --json).
	 * An option's value that is literally "--json" counts too: a
	 * harmless over-approximation.
	 */
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			ctx->json = true;

	ctx->args = calloc((size_t)argc + 1, sizeof(char *));
	if (!ctx->args) {
		fprintf(stderr, "wdt: out of memory\n");
		return 4;
	}
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		const struct wdt_opt *o;
		const char *val = NULL;

		if (only_args || a[0] != '-' || a[1] == '\0') {
			ctx->args[ctx->nargs++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = true;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			o = find_long(c, name, len);
			if (!o)
				return unknown_option(ctx, name);
			if (o->arg) {
				if (eq)
					val = eq + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else
					return usage_error(
					    ctx,
					    "option '--%s' needs a value (%s)",
					    o->name, o->arg);
			} else if (eq) {
				return usage_error(
				    ctx, "option '--%s' takes no value%s",
				    o->name, "");
			}
		} else {
			/*
			 * Short options bundle as in getopt: -qv is -q -v, and
			 * the last may take its value from the rest of the word
			 * or the next one (-qoFILE, -qo FILE).
			 */
			int r = parse_shorts(ctx, a, argc, argv, &i);
			if (r != 0)
				return r;
			continue;
		}
		int r = take_opt(ctx, o, val);
		if (r != 0)
			return r;
	}
	if (ctx->nargs < c->min_args)
		return usage_error(ctx, "missing %s", c->usage, "");
	if (c->max_args >= 0 && ctx->nargs > c->max_args)
		return usage_error(ctx, "unexpected argument '%s'%s",
				   ctx->args[c->max_args], "");
	return 0;
}

/* ---- running ---- */

static void print_error(struct wdt_ctx *ctx)
{
	struct wdt_err *e = &ctx->err;
	FILE *f = ctx->data_on_stdout ? stderr : stdout;

	wdt_cmd_explain(e);
	if (ctx->json)
		print_json_error(f, ctx->cmd->name, e->status, ctx->subject,
				 e->msg);
	/*
	 * The one-line error goes to stderr in both modes, escaped: file
	 * names, PDB names and server text must not end or steer the line.
	 */
	fputs("wdt: ", stderr);
	if (ctx->subject) {
		wdt_text_string(stderr, ctx->subject);
		fputs(": ", stderr);
	}
	wdt_text_string(stderr, e->msg);
	fputc('\n', stderr);
}

/* stdout must really have been written: check at exit, like git. */
static int finish_stdout(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (errno != EPIPE)
			fprintf(stderr, "wdt: writing to standard output: %s\n",
				strerror(errno ? errno : EIO));
		return code == 0 || code == 1 ? 4 : code;
	}
	return code;
}

static int run_cmd(const struct wdt_cmd *c, int argc, char **argv)
{
	struct wdt_ctx ctx = {.cmd = c};
	int code;

	wdt_err_clear(&ctx.err);
	code = parse(&ctx, argc, argv);
	if (code != 0) {
		free(ctx.args);
		return code == 1 ? 0 : code;
	}
	ctx.out = wdt_out_new(ctx.json);
	if (!ctx.out) {
		free(ctx.args);
		fprintf(stderr, "wdt: out of memory\n");
		return 4;
	}
	if (ctx.json) {
		char schema[64];
		snprintf(schema, sizeof(schema), "wdt.%s/%d", c->name,
			 SCHEMA_VERSION);
		wdt_out_str(ctx.out, "schema", NULL, schema);
		wdt_out_str(ctx.out, "wdt_version", NULL, WDT_VERSION);
	}
	int rc = c->run(&ctx);
	if (rc < 0) {
		if (ctx.err.status == WDT_OK)
			ctx.err.status = WDT_INTERNAL;
		print_error(&ctx);
		code = wdt_status_exit(ctx.err.status);
	} else {
		code = rc;
		if (wdt_out_render(ctx.out,
				   ctx.data_on_stdout ? stderr : stdout,
				   &ctx.err) < 0) {
			fputs("wdt: ", stderr);
			wdt_text_string(stderr, ctx.err.msg);
			fputc('\n', stderr);
			code = 4;
		}
	}
	wdt_out_free(ctx.out);
	free(ctx.args);
	return code;
}

static const struct wdt_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; commands[i]; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static int unknown_cmd(const char *name)
{
	const char *names[16];
	size_t n = 0;

	for (size_t i = 0; commands[i] && n < 16; i++)
		names[n++] = commands[i]->name;
	const char *s = suggest(name, names, n);
	fputs("wdt: '", stderr);
	wdt_text_string(stderr, name);
	if (s)
		fprintf(stderr, "' is not a wdt command; did you mean '%s'?\n",
			s);
	else
		fputs("' is not a wdt command\n", stderr);
	fprintf(stderr, "See 'wdt --help'.\n");
	return 2;
}

static int dispatch(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');

	base = base ? base + 1 : argv[0];
	/* argv[0] dispatch: wdt-info … is wdt info … */
	if (strncmp(base, "wdt-", 4) == 0) {
		const struct wdt_cmd *c = find_cmd(base + 4);
		if (!c)
			return unknown_cmd(base + 4);
		return run_cmd(c, argc - 1, argv + 1);
	}
	if (argc < 2) {
		main_help(stderr);
		return 2;
	}
	const char *a = argv[1];
	if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
		main_help(stdout);
		return 0;
	}
	if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
		printf("wdt %s\n", WDT_VERSION);
		return 0;
	}
	if (strcmp(a, "--list-commands") == 0) {
		for (size_t i = 0; commands[i]; i++)
			printf("%s\n", commands[i]->name);
		return 0;
	}
	if (strcmp(a, "help") == 0) {
		if (argc < 3) {
			main_help(stdout);
			return 0;
		}
		const struct wdt_cmd *c = find_cmd(argv[2]);
		if (!c)
			return unknown_cmd(argv[2]);
		cmd_help(stdout, c);
		return 0;
	}
	if (a[0] == '-') {
		fprintf(stderr,
			"wdt: unknown option '%s'; the command comes first. "
			"See 'wdt --help'.\n",
			a);
		return 2;
	}
	const struct wdt_cmd *c = find_cmd(a);
	if (!c)
		return unknown_cmd(a);
	return run_cmd(c, argc - 2, argv + 2);
}

int main(int argc, char **argv)
{
	if (argc < 1 || !argv[0])
		return 2;
	return finish_stdout(dispatch(argc, argv));
}
