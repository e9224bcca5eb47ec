/* SPDX-License-Identifier: MIT */
/*
 * wdt verify: is a Windows crash dump sound, by the rules a debugger
 * relies on? The checks are symbols/dmpcheck.h's; this file parses the
 * options, prints the findings (text or JSON) and turns them into the
 * exit status. Every finding has a stable code (documented in
 * wdt-verify(1)), a severity and one line saying what a debugger will do
 * because of it.
 */
#include <stdlib.h>

#include "cmd/cmd.h"
#include "symbols/dmpcheck.h"

enum { OPT_STRICT = 1 };

static const struct wdt_opt verify_opts[] = {
    {"strict", 0, NULL, "treat warnings as errors (exit 1)", OPT_STRICT},
    {0},
};

static void emit(struct wdt_out *o, const char *path,
		 const struct wdt_dmpcheck *r, bool strict)
{
	size_t errs = wdt_dmpcheck_count(r, WDT_DMPCHECK_ERROR);
	size_t warns = wdt_dmpcheck_count(r, WDT_DMPCHECK_WARNING);
	bool ok = errs == 0 && (!strict || warns == 0);

	wdt_out_str(o, "file", "File", path);
	wdt_out_bool(o, "ok", "Sound", ok);
	wdt_out_u64(o, "errors", "Errors", errs);
	wdt_out_u64(o, "warnings", "Warnings", warns);
	if (r->dropped)
		wdt_out_u64(o, "findings_not_shown", "Findings not shown",
			    r->dropped);
	if (r->memory_skipped)
		wdt_out_str(o, "memory_checks_skipped", "Memory checks skipped",
			    r->skipped);
	else
		wdt_out_null(o, "memory_checks_skipped",
			     "Memory checks skipped");
	wdt_out_arr_begin(o, "findings", "Findings");
	for (size_t i = 0; i < r->n; i++) {
		const struct wdt_dmpcheck_finding *f = &r->f[i];
		wdt_out_obj_begin(o, NULL, NULL);
		wdt_out_str(o, "code", "Code", wdt_dmpcheck_code_name(f->code));
		wdt_out_str(o, "severity", "Severity",
			    wdt_dmpcheck_sev_name(f->sev));
		wdt_out_str(o, "message", "Message", f->msg);
		/* Text keeps a flat table; JSON also carries the numbers. */
		if (wdt_out_is_json(o)) {
			if (f->have_values) {
				wdt_out_hex(o, "expected", NULL, f->expected);
				wdt_out_hex(o, "found", NULL, f->found);
			} else {
				wdt_out_null(o, "expected", NULL);
				wdt_out_null(o, "found", NULL);
			}
		}
		wdt_out_obj_end(o);
	}
	wdt_out_arr_end(o);
}

static int verify_run(struct wdt_ctx *ctx)
{
	struct wdt_dmpcheck *r = calloc(1, sizeof(*r));
	const char *path = ctx->args[0];
	bool strict = wdt_ctx_flag(ctx, OPT_STRICT);
	struct wdt_source *src;
	int rc;

	if (!r)
		return wdt_err_nomem(&ctx->err);
	src = wdt_source_open_file(path, &ctx->err);
	if (!src || wdt_dmpcheck_run(src, NULL, r, &ctx->err) < 0) {
		free(r);
		return wdt_ctx_fail(ctx, path);
	}
	emit(ctx->out, path, r, strict);
	rc = wdt_dmpcheck_count(r, WDT_DMPCHECK_ERROR) ||
	     (strict && wdt_dmpcheck_count(r, WDT_DMPCHECK_WARNING));
	free(r);
	return rc;
}

const struct wdt_cmd wdt_cmd_verify = {
    .name = "verify",
    .summary = "check that a Windows crash dump (.dmp) is sound for a "
	       "debugger",
    .usage = "FILE.dmp",
    .description =
	"Checks a 64-bit Windows kernel crash dump the way debuggers "
	"rely on it:\nsignatures, DumpType, MachineImageType, versions, "
	"the run list or bitmap,\nRequiredDumpSpace against the file "
	"(a truncated dump says how many pages are\nmissing), the "
	"DirectoryTableBase, a cleartext KdDebuggerDataBlock, KernBase,"
	"\nthe header's list heads and PfnDataBase against KDBG, "
	"NumberProcessors\nagainst KiProcessorBlock and every CPU's "
	"CONTEXT; for a crashed guest, that\nthe header holds "
	"KiBugcheckData's bugcheck and the crashing CPU's saved\n"
	"bugcheck CONTEXT. Each finding has a code,\na severity and what a "
	"debugger will do because of it. Exit 0: sound\n(warnings "
	"allowed unless --strict), 1: errors found, 3: not a readable "
	"DMP.",
    .opts = verify_opts,
    .examples = "  $ wdt verify memory.dmp\n"
		"  $ wdt verify --json memory.dmp | jq -r "
		"'.findings[].code'\n"
		"  $ wdt verify --strict memory.dmp && echo sound\n",
    .min_args = 1,
    .max_args = 1,
    .run = verify_run,
};
