/* SPDX-License-Identifier: MIT */
/* wdt convert: a WinDbg-ready DMP (or raw / ELF image) from any image. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "cmd/image_opts.h"
#include "cmd/kernel_opts.h"
#include "core/bytes.h"
#include "core/outfile.h"
#include "core/progress.h"
#include "formats/dmp.h"
#include "formats/dmpwrite.h"
#include "formats/rawwrite.h"
#include "symbols/crashhdr.h"

enum {
	OPT_FORMAT = 1,
	OPT_OUTPUT,
	OPT_OUT_FORMAT,
	OPT_TYPE,
	OPT_FORCE,
	OPT_QUIET,
	OPT_NO_SPARSE,
	OPT_THREADS,
	OPT_NO_SYNC,
	OPT_CONTEXTS,
};

static const struct wdt_opt convert_opts[] = {
    {"output", 'o', "FILE",
     "write to FILE (required; never the input; - for standard output)",
     OPT_OUTPUT},
    {"out-format", 'O', "FMT",
     "dmp (default), raw (flat physical image) or elf (ELF core)",
     OPT_OUT_FORMAT},
    {"type", 0, "TYPE",
     "DMP type: auto (default: full if the runs fit, else bitmap), "
     "full or bitmap",
     OPT_TYPE},
    {"force", 0, NULL, "replace FILE if it exists", OPT_FORCE},
    {"quiet", 'q', NULL, "no progress line on a terminal", OPT_QUIET},
    {"no-sparse", 0, NULL, "write zero pages instead of leaving holes",
     OPT_NO_SPARSE},
    {"threads", 0, "N",
     "threads that read and write memory (default: one per CPU)", OPT_THREADS},
    {"no-sync", 0, NULL, "do not fsync FILE before renaming it into place",
     OPT_NO_SYNC},
    {"contexts", 0, "WHICH",
     "other CPUs' KPRCB contexts: live (default: the image's CPU "
     "state) or saved (as the guest left them)",
     OPT_CONTEXTS},
    WDT_OPT_FORMAT_ENTRY(OPT_FORMAT),
    WDT_OPT_MAX_RATIO_ENTRY,
    WDT_KERNEL_OPT_ENTRIES,
    {0},
};

static int parse_opts(struct wdt_ctx *ctx, struct wdt_dmp_write_opts *wo,
		      struct wdt_crash_opts *co, int *out_fmt)
{
	const char *v;

	memset(wo, 0, sizeof(*wo));
	memset(co, 0, sizeof(*co));
	*out_fmt = 0;
	if ((v = wdt_ctx_opt(ctx, OPT_CONTEXTS))) {
		if (!strcmp(v, "saved"))
			co->saved_contexts = true;
		else if (strcmp(v, "live"))
			return wdt_err_set(&ctx->err, WDT_USAGE,
					   "--contexts '%s': use live or saved",
					   v);
	}
	wo->sparse = !wdt_ctx_flag(ctx, OPT_NO_SPARSE);
	*out_fmt = 0;
	if ((v = wdt_ctx_opt(ctx, OPT_OUT_FORMAT))) {
		if (!strcmp(v, "dmp"))
			*out_fmt = 0;
		else if (!strcmp(v, "raw"))
			*out_fmt = 1;
		else if (!strcmp(v, "elf"))
			*out_fmt = 2;
		else
			return wdt_err_set(&ctx->err, WDT_USAGE,
					   "-O '%s': use dmp, raw or elf", v);
	}
	if ((v = wdt_ctx_opt(ctx, OPT_TYPE))) {
		if (!strcmp(v, "auto"))
			wo->kind = WDT_DMP_AUTO;
		else if (!strcmp(v, "full"))
			wo->kind = WDT_DMP_FULL;
		else if (!strcmp(v, "bitmap"))
			wo->kind = WDT_DMP_BITMAP;
		else
			return wdt_err_set(
			    &ctx->err, WDT_USAGE,
			    "--type '%s': use auto, full or bitmap", v);
		if (*out_fmt)
			return wdt_err_set(&ctx->err, WDT_USAGE,
					   "--type applies to DMP output only");
	}
	if ((v = wdt_ctx_opt(ctx, OPT_THREADS))) {
		uint64_t n;
		if (wdt_ctx_parse_u64(ctx, v, "--threads", &n) < 0)
			return -1;
		if (n < 1 || n > 256)
			return wdt_err_set(&ctx->err, WDT_USAGE,
					   "--threads %s: use 1 to 256", v);
		wo->threads = (unsigned)n;
	}
	if (!wdt_ctx_opt(ctx, OPT_OUTPUT))
		return wdt_err_set(&ctx->err, WDT_USAGE,
				   "convert needs -o FILE (see 'wdt convert "
				   "--help')");
	return 0;
}

static int convert_run(struct wdt_ctx *ctx)
{
	struct wdt_kernel_opts ko;
	struct wdt_symopts so;
	struct wdt_dmp_write_opts wo;
	struct wdt_dmp_write_result res = {0};
	struct wdt_kernel k = {0};
	struct wdt_kdbg d = {0};
	struct wdt_crash c = {0};
	struct wdt_crash_opts co;
	struct wdt_bugcheck bc = {0};
	struct wdt_outfile *of = NULL;
	struct wdt_image *img = NULL;
	const char *out = wdt_ctx_opt(ctx, OPT_OUTPUT);
	const char *input = ctx->args[0];
	bool want_pdb, quiet = wdt_ctx_flag(ctx, OPT_QUIET);
	bool to_stdout = out && strcmp(out, "-") == 0;
	const char *out_name = to_stdout ? "standard output" : out;
	int out_fmt, rc = -1;

	/* Before anything can fail: no report or error into the data. */
	ctx->data_on_stdout = to_stdout;
	if (parse_opts(ctx, &wo, &co, &out_fmt) < 0 ||
	    wdt_cmd_kernel_opts(ctx, &ko, &so, &want_pdb) < 0)
		return -1;
	if (quiet)
		so.progress = NULL;
	/* Refuse a bad output before any work. */
	if (wdt_outfile_open(&of, out, &input, 1, wdt_ctx_flag(ctx, OPT_FORCE),
			     &ctx->err) < 0)
		return wdt_ctx_fail(ctx, out_name);
	if (wdt_ctx_flag(ctx, OPT_NO_SYNC))
		wdt_outfile_set_sync(of, false);
	img = wdt_cmd_open_image(ctx, OPT_FORMAT);
	if (!img)
		goto out;

	if (out_fmt == 0) {
		char comment[WDT_DMP64_COMMENT_SIZE];
		if (wdt_cmd_locate_kernel(ctx, img, &ko, &k) < 0 ||
		    wdt_cmd_locate_kdbg(ctx, &k, want_pdb ? &so : NULL, &d) <
			0 ||
		    wdt_cmd_bugcheck(ctx, &k, &d, &bc) < 0)
			goto out;
		snprintf(comment, sizeof(comment),
			 "Converted by wdt %s from a memory image of a live or "
			 "crashed VM",
			 WDT_VERSION);
		co.comment = comment;
		if (wdt_crash_build(&k, &d, &bc, &co, &c, &ctx->err) < 0) {
			wdt_ctx_fail(ctx, input);
			goto out;
		}
	}

	wo.progress =
	    wdt_progress_new("converting", wdt_image_total(img), !quiet);
	if (out_fmt == 0)
		rc = wdt_dmp_write(img, c.hdr, c.patches, c.npatches, &wo, of,
				   &res, &ctx->err);
	else if (out_fmt == 1)
		rc = wdt_raw_write(img, NULL, 0, &wo, of, &res, &ctx->err);
	else
		rc = wdt_elf_write(img, NULL, 0, &wo, of, &res, &ctx->err);
	if (rc < 0) {
		wdt_progress_abort(wo.progress);
		/* Reading errors are about the input, the rest the output. */
		wdt_ctx_fail(ctx, ctx->err.status == WDT_OUTPUT ||
					  ctx->err.status == WDT_USAGE
				      ? out_name
				      : input);
		goto out;
	}
	wdt_progress_finish(wo.progress);
	rc = -1;
	if (wdt_outfile_commit(of, &ctx->err) < 0) {
		of = NULL;
		wdt_ctx_fail(ctx, out_name);
		goto out;
	}
	of = NULL;

	struct stat st;
	uint64_t on_disk = !to_stdout && stat(out, &st) == 0
			       ? (uint64_t)st.st_blocks * 512
			       : 0;
	struct wdt_out *o = ctx->out;
	wdt_out_str(o, "input", "Input", input);
	wdt_out_str(o, "input_format", "Input format", img->fmt->name);
	wdt_out_str(o, "output", "Output", out);
	wdt_out_str(o, "output_format", "Output format",
		    out_fmt == 0   ? "dmp"
		    : out_fmt == 1 ? "raw"
				   : "elf");
	if (out_fmt == 0) {
		wdt_out_u64(o, "dump_type", "DumpType", res.dump_type);
		wdt_out_str(o, "dump_type_name", "Dump type",
			    wdt_dmp_type_name(res.dump_type));
	}
	wdt_out_u64(o, "runs", "Runs", res.nruns);
	wdt_out_u64(o, "pages", "Pages", res.pages);
	wdt_out_u64(o, "zero_pages", "Zero pages", res.zero_pages);
	wdt_out_size(o, "file_size", "File size", res.file_size);
	if (to_stdout)
		wdt_out_null(o, "disk_usage", "On disk");
	else
		wdt_out_size(o, "disk_usage", "On disk", on_disk);
	if (out_fmt == 0) {
		/* The same objects as find-kernel and kdbg print. */
		wdt_cmd_out_kernel(o, &k);
		wdt_out_obj_begin(o, "kdbg", "KdDebuggerDataBlock");
		wdt_cmd_out_kdbg_found(o, &d, &k);
		wdt_out_obj_end(o);
		wdt_out_bool(o, "pdb_used", "PDB used", d.pdb_used);
		struct wdt_cmd_pdb p = wdt_cmd_pdb_of(&d, want_pdb);
		wdt_cmd_out_pdb(o, &p);
		wdt_out_bool(o, "crashed", "Guest had crashed", c.crashed);
		wdt_out_u64(o, "contexts_written", "CPU contexts written",
			    c.contexts_patched);
		wdt_out_str(o, "header_context_from", "Header context from",
			    c.context_from);
		if (c.context_cpu >= 0)
			wdt_out_u64(o, "header_context_cpu",
				    "Header context CPU",
				    (uint64_t)c.context_cpu);
		else
			wdt_out_null(o, "header_context_cpu",
				     "Header context CPU");
		wdt_cmd_out_bugcheck(o, &bc);
		wdt_out_arr_begin(o, "notes", "Notes");
		for (size_t i = 0; i < c.nnotes; i++)
			wdt_out_str(o, NULL, NULL, c.notes[i]);
		wdt_out_arr_end(o);
		/* Report the header as written, through the DMP parser. */
		struct wdt_dmp_hdr h;
		if (wdt_dmp_parse_header(c.hdr, sizeof(c.hdr), &h, &ctx->err) <
		    0) {
			wdt_ctx_fail(ctx, out_name);
			goto out;
		}
		wdt_out_obj_begin(o, "header", "DMP header");
		wdt_dmp_out_header(o, &h);
		wdt_out_obj_end(o);
		wdt_cmd_out_attempts(ctx, &k);
	}
	rc = 0;
out:
	wdt_outfile_abort(of);
	wdt_crash_free(&c);
	wdt_bugcheck_free(&bc);
	wdt_kdbg_free(&d);
	wdt_kernel_free(&k);
	if (img)
		wdt_image_close(img);
	return rc;
}

const struct wdt_cmd wdt_cmd_convert = {
    .name = "convert",
    .summary = "write a WinDbg-ready crash dump (.dmp) from any image",
    .usage = "IMAGE -o FILE",
    .description =
	"Converts IMAGE (QEMU ELF, kdump in any variant, raw, gzip/LZ4 "
	"raw, or a DMP)\ninto a Windows crash dump WinDbg opens: the "
	"kernel is found as by\n'wdt find-kernel', KdDebuggerDataBlock as "
	"by 'wdt kdbg' (PDB optional), and\nthe header is filled from "
	"the guest: versions from KdVersionBlock, the\nkernel CR3, lists "
	"and PFN database from KDBG, the bugcheck from KiBugcheckData\n"
	"(else LIVE_SYSTEM_DUMP 0x161), times, product type and suite "
	"from\nKUSER_SHARED_DATA, a CPU CONTEXT. In the body the decoded "
	"KDBG replaces the\nencoded one and each CPU's registers are "
	"written where its KPRCB's Context\npoints. A crashed guest gets "
	"what Windows writes: the crashing CPU's own\nsaved bugcheck "
	"CONTEXT as the header context, byte for byte, and that buffer\n"
	"is never overwritten (--contexts saved keeps the other CPUs' "
	"too). A full dump "
	"(DumpType 1) is written when the physical runs fit in\nthe "
	"header (42), else a bitmap dump (5) -- never a truncated run "
	"list.\nThe input is only read. FILE appears only when complete "
	"(temporary file,\nthen rename); errors and Ctrl-C leave nothing "
	"behind. Zero pages become\nholes unless --no-sparse. A progress "
	"line is shown on a terminal.\n-o - writes to standard output "
	"(a pipe or a redirected file; not a terminal),\nin order: any "
	"output format, holes as zeros, the report on standard error.\n"
	"IMAGE - reads a file redirected to standard input; a pipe is "
	"refused\n(every reader needs random access).",
    .opts = convert_opts,
    .examples =
	"  $ virsh dump --memory-only --format kdump-zlib win10 guest.kdump\n"
	"  $ wdt convert guest.kdump -o guest.dmp\n"
	"  $ wdt convert --offline --symbol-path ~/symbols guest.elf -o "
	"guest.dmp\n"
	"  $ wdt convert --type bitmap --json guest.elf -o guest.dmp\n"
	"  $ wdt convert -O raw guest.kdump -o guest.raw\n"
	"  $ wdt convert -q guest.elf -o - | ssh host 'cat > guest.dmp'\n",
    .min_args = 1,
    .max_args = 1,
    .run = convert_run,
};
