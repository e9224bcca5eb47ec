/* SPDX-License-Identifier: MIT */
/*
 * wdt symbols: the kernel PDB's identity, where it comes from and where it
 * goes (docs/symbols.md); --fetch downloads it, --add files a PDB fetched
 * on another machine (the air-gapped workflow).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/cmd.h"
#include "cmd/image_opts.h"
#include "cmd/kernel_opts.h"

enum { OPT_FORMAT = 1, OPT_FETCH, OPT_ADD, OPT_NAME };

static const struct wdt_opt symbols_opts[] = {
    WDT_OPT_FORMAT_ENTRY(OPT_FORMAT),
    WDT_OPT_MAX_RATIO_ENTRY,
    {"symbol-path", 0, "PATH",
     "where to look for the PDB (WinDbg syntax; see docs/symbols.md)",
     WDT_KOPT_SYMBOL_PATH},
    {"offline", 0, NULL, "never download; use local PDBs only",
     WDT_KOPT_OFFLINE},
    {"fetch", 0, NULL, "download the PDB into the cache if it is not there",
     OPT_FETCH},
    {"add", 0, "FILE",
     "file this PDB (fetched elsewhere) in the cache under its GUID and age",
     OPT_ADD},
    {"name", 0, "NAME",
     "with --add: the PDB's store name (default: FILE's base name)", OPT_NAME},
    {"dtb", 0, "ADDR",
     "use this kernel directory table base (CR3) instead of searching",
     WDT_KOPT_DTB},
    {"kernel-base", 0, "VA",
     "use this kernel base address instead of searching", WDT_KOPT_KERNEL_BASE},
    {0},
};

static void out_ident(struct wdt_out *o, const char *name,
		      const uint8_t guid[16], uint32_t age)
{
	char g[39], key[WDT_SYMSTORE_KEY_MAX];

	wdt_pe_guid_str(guid, g);
	wdt_symstore_key(guid, age, key);
	wdt_out_obj_begin(o, "pdb", "PDB");
	wdt_out_str(o, "name", "Name", name);
	wdt_out_str(o, "guid", "GUID", g);
	wdt_out_u64(o, "age", "Age", age);
	wdt_out_str(o, "key", "Store key", key);
	wdt_out_obj_end(o);
}

static void out_plan(struct wdt_out *o, const struct wdt_symstore_plan *p)
{
	wdt_out_str(o, "symbol_path", "Symbol path", p->symbol_path);
	wdt_out_str(o, "symbol_path_origin", "Symbol path from", p->origin);
	wdt_out_str(o, "url", "Download URL", p->url);
	wdt_out_bool(o, "url_in_path", "URL from the symbol path",
		     p->url_in_path);
	wdt_out_str(o, "save_path", "Cache path", p->save_path);
}

/* wdt symbols --add FILE [--name NAME] */
static int add_run(struct wdt_ctx *ctx, const struct wdt_symopts *so)
{
	const char *src = wdt_ctx_opt(ctx, OPT_ADD);
	const char *name = wdt_ctx_opt(ctx, OPT_NAME);
	struct wdt_symstore_plan plan;
	uint8_t guid[16];
	uint32_t age;
	char *dest;
	bool added;

	if (ctx->nargs)
		return wdt_err_set(&ctx->err, WDT_USAGE,
				   "--add FILE takes no IMAGE (the identity "
				   "comes from the PDB)");
	if (wdt_ctx_flag(ctx, OPT_FETCH))
		return wdt_err_set(&ctx->err, WDT_USAGE,
				   "--add and --fetch exclude each other");
	if (!name) {
		const char *slash = strrchr(src, '/');
		size_t l;

		name = slash ? slash + 1 : src;
		l = strlen(name);
		if (l < 5 || strcasecmp(name + l - 4, ".pdb") != 0)
			return wdt_err_set(&ctx->err, WDT_USAGE,
					   "%s: the name does not end in .pdb; "
					   "give the store name with --name "
					   "(e.g. --name ntkrnlmp.pdb)",
					   src);
	}
	if (wdt_symstore_add(so, src, name, guid, &age, &dest, &added,
			     &ctx->err) < 0)
		return wdt_ctx_fail(ctx, NULL); /* messages name the files */
	wdt_out_str(ctx->out, "source", "Added", src);
	out_ident(ctx->out, name, guid, age);
	if (wdt_symstore_plan(so, name, guid, age, &plan, &ctx->err) == 0) {
		out_plan(ctx->out, &plan);
		wdt_symstore_plan_free(&plan);
	}
	wdt_out_bool(ctx->out, "added", "Copied", added);
	wdt_out_bool(ctx->out, "present", "Present", true);
	wdt_out_str(ctx->out, "path", "Path", dest);
	free(dest);
	return 0;
}

/* Is it there already? Lookup as kdbg --offline would do it. */
static int lookup(struct wdt_ctx *ctx, const struct wdt_symopts *so,
		  const struct wdt_kernel *k, bool offline, char **path,
		  struct wdt_err *e)
{
	struct wdt_symopts o = *so;

	o.offline = offline || so->offline;
	o.pdb_file = NULL;
	o.progress =
	    wdt_cmd_progress; /* drawn only when stderr is a terminal */
	wdt_err_clear(e);
	if (wdt_symstore_find(&o, k->cv.pdb_name, k->cv.guid, k->cv.age, path,
			      e) == 0)
		return 1;
	if (e->status == WDT_NOT_FOUND)
		return 0;
	ctx->err = *e;
	return -1;
}

static int image_run(struct wdt_ctx *ctx, const struct wdt_symopts *so,
		     const struct wdt_kernel_opts *ko)
{
	struct wdt_kernel k = {0};
	struct wdt_symstore_plan plan = {0};
	struct wdt_image *img;
	struct wdt_err e;
	bool fetch = wdt_ctx_flag(ctx, OPT_FETCH), fetched = false;
	char *path = NULL;
	int rc = -1, r;

	if (ctx->nargs != 1)
		return wdt_err_set(&ctx->err, WDT_USAGE,
				   "missing IMAGE (or --add FILE.pdb)");
	if (wdt_ctx_flag(ctx, OPT_NAME))
		return wdt_err_set(&ctx->err, WDT_USAGE,
				   "--name needs --add FILE");
	img = wdt_cmd_open_image(ctx, OPT_FORMAT);
	if (!img)
		return -1;
	if (wdt_cmd_locate_kernel(ctx, img, ko, &k) < 0)
		goto out;
	if (!k.have_cv) {
		wdt_err_set(&ctx->err, WDT_NOT_FOUND,
			    "the kernel image has no CodeView (RSDS) record "
			    "naming its PDB");
		wdt_ctx_fail(ctx, ctx->args[0]);
		goto out;
	}
	if (wdt_symstore_plan(so, k.cv.pdb_name, k.cv.guid, k.cv.age, &plan,
			      &ctx->err) < 0)
		goto out;
	r = lookup(ctx, so, &k, true, &path, &e);
	if (r < 0)
		goto out;
	if (r == 0 && fetch) {
		r = lookup(ctx, so, &k, false, &path, &e);
		if (r <= 0) {
			ctx->err = e;
			wdt_ctx_fail(ctx, ctx->args[0]);
			goto out;
		}
		fetched = true;
	}
	wdt_out_str(ctx->out, "file", "File", img->path);
	wdt_out_str(ctx->out, "format", "Format", img->fmt->name);
	out_ident(ctx->out, k.cv.pdb_name, k.cv.guid, k.cv.age);
	out_plan(ctx->out, &plan);
	wdt_out_bool(ctx->out, "present", "Present", r == 1);
	if (path)
		wdt_out_str(ctx->out, "path", "Path", path);
	else
		wdt_out_null(ctx->out, "path", "Path");
	if (fetch)
		wdt_out_bool(ctx->out, "fetched", "Downloaded now", fetched);
	if (r == 1)
		wdt_out_null(ctx->out, "note", "Note");
	else
		wdt_out_str(ctx->out, "note", "Note", wdt_cmd_explain(&e));
	rc = 0;
out:
	free(path);
	wdt_symstore_plan_free(&plan);
	wdt_kernel_free(&k);
	wdt_image_close(img);
	return rc;
}

static int symbols_run(struct wdt_ctx *ctx)
{
	struct wdt_kernel_opts ko;
	struct wdt_symopts so;
	bool want_pdb;

	if (wdt_cmd_kernel_opts(ctx, &ko, &so, &want_pdb) < 0)
		return -1;
	if (wdt_ctx_flag(ctx, OPT_ADD))
		return add_run(ctx, &so);
	return image_run(ctx, &so, &ko);
}

const struct wdt_cmd wdt_cmd_symbols = {
    .name = "symbols",
    .summary = "show, fetch or file the kernel's PDB in the symbol cache",
    .usage = "IMAGE | --add FILE.pdb",
    .description =
	"For IMAGE, prints the kernel PDB's name, GUID, age and "
	"symbol-store key, the\nsymbol path in effect, the URL it is "
	"downloaded from and the cache path it is\nsaved under, and "
	"whether a matching PDB is already present (looked up "
	"offline,\nas 'wdt kdbg --offline' would). --fetch downloads it "
	"when it is not there.\n--add FILE.pdb files a PDB fetched on "
	"another machine in the cache under the\nGUID and age read "
	"from the PDB itself, atomically; later commands find it\n"
	"offline. The symbol path is read as WinDbg reads "
	"_NT_SYMBOL_PATH.",
    .opts = symbols_opts,
    .examples = "  $ wdt symbols guest.elf\n"
		"  $ wdt symbols --fetch guest.elf\n"
		"  $ wdt symbols --add ~/Downloads/ntkrnlmp.pdb\n"
		"  $ wdt symbols --json guest.elf | jq -r .url\n",
    .min_args = 0,
    .max_args = 1,
    .run = symbols_run,
};
