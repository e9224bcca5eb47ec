/* SPDX-License-Identifier: MIT */
#include "cmd/kernel_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/image_opts.h"
#include "symbols/bugcodes.h"

int wdt_cmd_kernel_opts(struct wdt_ctx *ctx, struct wdt_kernel_opts *ko,
			struct wdt_symopts *so, bool *want_pdb)
{
	const char *v;

	memset(ko, 0, sizeof(*ko));
	wdt_symopts_init(so);
	so->pdb_file = wdt_ctx_opt(ctx, WDT_KOPT_PDB);
	so->symbol_path = wdt_ctx_opt(ctx, WDT_KOPT_SYMBOL_PATH);
	so->offline = wdt_ctx_flag(ctx, WDT_KOPT_OFFLINE);
	so->force = wdt_ctx_flag(ctx, WDT_KOPT_FORCE_PDB);
	ko->pdb_file = so->pdb_file;
	*want_pdb = !wdt_ctx_flag(ctx, WDT_KOPT_NO_PDB);
	if (!*want_pdb && (so->pdb_file || so->symbol_path))
		return wdt_err_set(&ctx->err, WDT_USAGE,
				   "--no-pdb excludes --pdb and --symbol-path");
	if (so->force && !so->pdb_file)
		return wdt_err_set(&ctx->err, WDT_USAGE,
				   "--force-pdb needs --pdb FILE");
	if (!*want_pdb && wdt_ctx_flag(ctx, WDT_KOPT_REQUIRE_PDB))
		return wdt_err_set(&ctx->err, WDT_USAGE,
				   "--no-pdb excludes --require-pdb");
	if ((v = wdt_ctx_opt(ctx, WDT_KOPT_SYMBOL_TIMEOUT))) {
		uint64_t t;

		if (wdt_ctx_parse_u64(ctx, v, "--symbol-timeout", &t) < 0)
			return -1;
		if (t > 7 * 86400)
			return wdt_err_set(&ctx->err, WDT_USAGE,
					   "--symbol-timeout %s: use 0 (no "
					   "limit) to 604800 seconds",
					   v);
		so->timeout_s = (long)t;
	}
	/* On a terminal only (core/progress.c); commands with -q turn it
	 * off. */
	so->progress = wdt_cmd_progress;
	so->remedies = wdt_cmd_remedies;
	if ((v = wdt_ctx_opt(ctx, WDT_KOPT_DTB))) {
		if (wdt_ctx_parse_u64(ctx, v, "--dtb", &ko->dtb) < 0)
			return -1;
		ko->have_dtb = true;
	}
	if ((v = wdt_ctx_opt(ctx, WDT_KOPT_KERNEL_BASE))) {
		if (wdt_ctx_parse_u64(ctx, v, "--kernel-base", &ko->base) < 0)
			return -1;
		ko->have_base = true;
	}
	return 0;
}

int wdt_cmd_locate_kernel(struct wdt_ctx *ctx, struct wdt_image *img,
			  const struct wdt_kernel_opts *ko,
			  struct wdt_kernel *k)
{
	if (wdt_kernel_find(img, ko, k, &ctx->err) < 0) {
		wdt_cmd_out_attempts(ctx, k);
		return wdt_ctx_fail(ctx, ctx->args[0]);
	}
	return 0;
}

int wdt_cmd_locate_kdbg(struct wdt_ctx *ctx, struct wdt_kernel *k,
			const struct wdt_symopts *sym, struct wdt_kdbg *d)
{
	struct wdt_cmd_pdb p;

	if (wdt_kdbg_find(k, sym, d, &ctx->err) < 0) {
		wdt_cmd_out_attempts(ctx, k);
		wdt_err_prefix(&ctx->err, "KdDebuggerDataBlock");
		return wdt_ctx_fail(ctx, ctx->args[0]);
	}
	p = wdt_cmd_pdb_of(d, sym != NULL);
	return wdt_cmd_pdb_check(ctx, k, &p, ": using the no-PDB methods");
}

struct wdt_cmd_pdb wdt_cmd_pdb_of(const struct wdt_kdbg *d, bool wanted)
{
	struct wdt_cmd_pdb p = {
	    .wanted = wanted,
	    .used = d->pdb_used,
	    .path = d->pdb_path,
	    .note = d->pdb_note,
	    .miss = d->pdb_miss.why ? &d->pdb_miss : NULL,
	};

	return p;
}

/* The note with then inserted after the reason (malloc'd or NULL). */
static char *pdb_text(const struct wdt_kernel *k, const struct wdt_cmd_pdb *p,
		      const char *then)
{
	const char *note = p->note ? p->note : "no PDB (out of memory)";
	char *s;

	if (p->miss && k->have_cv)
		return wdt_symstore_miss_note(k->cv.pdb_name, k->cv.guid,
					      k->cv.age, p->miss, then,
					      wdt_cmd_remedies);
	s = malloc(strlen(note) + strlen(then) + 1);
	if (s)
		strcat(strcpy(s, note), then);
	return s;
}

int wdt_cmd_pdb_check(struct wdt_ctx *ctx, const struct wdt_kernel *k,
		      const struct wdt_cmd_pdb *p, const char *then)
{
	bool require = wdt_ctx_flag(ctx, WDT_KOPT_REQUIRE_PDB);
	char *text;

	if (!p->wanted || p->used)
		return 0;
	text = pdb_text(k, p, require ? ", which --require-pdb needs" : then);
	if (require) {
		wdt_err_set(&ctx->err, WDT_NOT_FOUND, "%s",
			    text ? text : "no PDB, which --require-pdb needs");
		free(text);
		return wdt_ctx_fail(ctx, ctx->args[0]);
	}
	/* The whole line, however long its paths: stderr, not ctx->err. */
	fputs("wdt: warning: ", stderr);
	wdt_text_string(stderr, ctx->args[0]);
	fputs(": ", stderr);
	wdt_text_string(stderr, text ? text : "no PDB was used");
	fputc('\n', stderr);
	free(text);
	return 0;
}

void wdt_cmd_out_pdb(struct wdt_out *o, const struct wdt_cmd_pdb *p)
{
	const struct wdt_symstore_miss *m = p->miss;

	wdt_out_obj_begin(o, "pdb", "PDB");
	wdt_out_bool(o, "wanted", "Looked for", p->wanted);
	wdt_out_bool(o, "used", "Used", p->used);
	if (p->path)
		wdt_out_str(o, "path", "Path", p->path);
	else
		wdt_out_null(o, "path", "Path");
	if (!p->used && p->note)
		wdt_out_str(o, "note", "Note", p->note);
	else
		wdt_out_null(o, "note", "Note");
	if (m && m->why)
		wdt_out_str(o, "why", "Why", m->why);
	else
		wdt_out_null(o, "why", "Why");
	if (m && m->url)
		wdt_out_str(o, "url", "Download", m->url);
	else
		wdt_out_null(o, "url", "Download");
	if (m && m->save_as)
		wdt_out_str(o, "save_as", "Save as", m->save_as);
	else
		wdt_out_null(o, "save_as", "Save as");
	wdt_out_obj_end(o);
}

int wdt_cmd_bugcheck(struct wdt_ctx *ctx, const struct wdt_kernel *k,
		     const struct wdt_kdbg *d, struct wdt_bugcheck *bc)
{
	struct wdt_pdb *pdb = NULL;
	struct wdt_err e;
	int rc;

	/* The PDB kdbg used matched the image; a failure here only costs
	 * the KiBugCheckActive method. */
	if (d->pdb_used && d->pdb_path)
		pdb = wdt_pdb_open_file(d->pdb_path, &e);
	rc = wdt_bugcheck_find(k, d, pdb, bc, &ctx->err);
	wdt_pdb_close(pdb);
	if (rc < 0)
		return wdt_ctx_fail(ctx, ctx->args[0]);
	return 0;
}

void wdt_cmd_out_bugcheck(struct wdt_out *o, const struct wdt_bugcheck *bc)
{
	const struct wdt_bugcode *bcode = wdt_bugcode_find(bc->code);

	wdt_out_obj_begin(o, "crash", "Crash");
	wdt_out_bool(o, "crashed", "Crashed", bc->crashed);
	if (bc->crashed) {
		wdt_out_hex(o, "code", "Bugcheck code", bc->code);
		if (bcode)
			wdt_out_str(o, "name", "Name", bcode->name);
		else
			wdt_out_null(o, "name", "Name");
		wdt_out_arr_begin(o, "parameters", "Parameters");
		for (int i = 0; i < 4; i++)
			wdt_out_hex(o, NULL, NULL, bc->params[i]);
		wdt_out_arr_end(o);
		if (bc->cpu >= 0)
			wdt_out_u64(o, "cpu", "Crashing CPU",
				    (uint64_t)bc->cpu);
		else
			wdt_out_null(o, "cpu", "Crashing CPU");
		wdt_out_str(o, "cpu_method", "CPU found by", bc->cpu_method);
		if (bc->have_context) {
			wdt_out_addr(o, "context_va", "Saved context",
				     bc->context_va);
			wdt_out_bool(o, "context_consistent",
				     "Context is KeBugCheckEx's",
				     bc->context_consistent);
		}
	}
	if (bc->have_active)
		wdt_out_hex(o, "ki_bugcheck_active", "KiBugCheckActive",
			    bc->active_value);
	wdt_out_addr(o, "ki_bugcheck_data", "KiBugcheckData", bc->data_va);
	if (bc->note[0])
		wdt_out_str(o, "note", "Note", bc->note);
	wdt_out_obj_end(o);
}

void wdt_cmd_out_kernel(struct wdt_out *o, const struct wdt_kernel *k)
{
	char buf[512];

	wdt_out_obj_begin(o, "dtb", "Directory table base");
	wdt_out_addr(o, "value", "DTB", k->vas.dtb);
	wdt_out_str(o, "method", "Found by", k->dtb_method);
	if (k->dtb_cpu >= 0)
		wdt_out_u64(o, "cpu", "From CPU", (uint64_t)k->dtb_cpu);
	else
		wdt_out_null(o, "cpu", "From CPU");
	if (k->self_map_index >= 0) {
		uint64_t pte =
		    0xFFFF000000000000ull | (uint64_t)k->self_map_index << 39;
		wdt_out_u64(o, "self_map_index", "Self-map PML4 slot",
			    (uint64_t)k->self_map_index);
		wdt_out_addr(o, "pte_base", "PTE base", pte);
	} else {
		wdt_out_null(o, "self_map_index", "Self-map PML4 slot");
	}
	wdt_out_obj_end(o);

	wdt_out_obj_begin(o, "kernel", "Kernel");
	wdt_out_addr(o, "base_va", "Base (virtual)", k->base_va);
	wdt_out_addr(o, "base_pa", "Base (physical)", k->base_pa);
	wdt_out_str(o, "method", "Found by", k->base_method);
	wdt_out_u64_hex(o, "size_of_image", "SizeOfImage", k->size_of_image);
	wdt_out_hex(o, "timestamp", "TimeDateStamp", k->timestamp);
	wdt_out_str(o, "exe_key", "Image store key", k->exe_key);
	if (k->have_cv) {
		char g[39];
		wdt_pe_guid_str(k->cv.guid, g);
		wdt_out_str(o, "pdb_name", "PDB", k->cv.pdb_name);
		wdt_out_str(o, "pdb_guid", "PDB GUID", g);
		wdt_out_u64(o, "pdb_age", "PDB age", k->cv.age);
		wdt_out_str(o, "pdb_key", "PDB store key", k->pdb_key);
		wdt_kernel_pdb_url(k, buf, sizeof(buf));
		wdt_out_str(o, "pdb_url", "PDB URL", buf);
	} else {
		wdt_out_null(o, "pdb_name", "PDB");
	}
	wdt_out_obj_end(o);
}

void wdt_cmd_out_kdbg_found(struct wdt_out *o, const struct wdt_kdbg *d,
			    const struct wdt_kernel *k)
{
	uint64_t pa = 0, ps;
	struct wdt_err e;

	wdt_out_addr(o, "va", "Address", d->va);
	if (wdt_vtop(&k->vas, d->va, &pa, &ps, &e) == 0)
		wdt_out_addr(o, "pa", "Physical", pa);
	else
		wdt_out_null(o, "pa", "Physical");
	wdt_out_u64_hex(o, "size", "Size", d->size);
	wdt_out_bool(o, "encoded", "Encoded in memory", d->encoded);
	wdt_out_str(o, "method", "Found by", d->method);
	wdt_out_bool(o, "pdb_used", "PDB used", d->pdb_used);
	if (d->pdb_path)
		wdt_out_str(o, "pdb", "PDB", d->pdb_path);
	else
		wdt_out_null(o, "pdb", "PDB");
	if (d->pdb_note)
		wdt_out_str(o, "pdb_note", "Why no PDB", d->pdb_note);
	else
		wdt_out_null(o, "pdb_note", "Why no PDB");
}

void wdt_cmd_out_attempts(struct wdt_ctx *ctx, const struct wdt_kernel *k)
{
	struct wdt_out *o = ctx->out;

	if (!wdt_out_is_json(o) && !wdt_ctx_flag(ctx, WDT_KOPT_VERBOSE))
		return;
	if (!wdt_out_is_json(o)) {
		/* Text goes to stderr so it shows even when the command fails.
		 */
		for (size_t i = 0; i < k->log.n; i++) {
			const struct wdt_attempt *a = &k->log.v[i];
			fprintf(stderr, "wdt: %-7s %-24s %-4s ", a->step,
				a->method, a->ok ? "ok" : "no");
			wdt_text_string(stderr, a->detail);
			fputc('\n', stderr);
		}
		return;
	}
	wdt_out_arr_begin(o, "attempts", "Methods tried");
	for (size_t i = 0; i < k->log.n; i++) {
		const struct wdt_attempt *a = &k->log.v[i];
		wdt_out_obj_begin(o, NULL, NULL);
		wdt_out_str(o, "step", "Step", a->step);
		wdt_out_str(o, "method", "Method", a->method);
		wdt_out_bool(o, "ok", "OK", a->ok);
		wdt_out_str(o, "detail", "Detail", a->detail);
		wdt_out_obj_end(o);
	}
	wdt_out_arr_end(o);
}
