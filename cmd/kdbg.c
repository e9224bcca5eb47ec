/* SPDX-License-Identifier: MIT */
/* wdt kdbg: locate and decode KdDebuggerDataBlock and KdVersionBlock. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/image_opts.h"
#include "cmd/kernel_opts.h"
#include "core/bytes.h"

enum { OPT_FORMAT = 1, OPT_RAW };

static const struct wdt_opt kdbg_opts[] = {
    WDT_OPT_FORMAT_ENTRY(OPT_FORMAT),
    WDT_OPT_MAX_RATIO_ENTRY,
    WDT_KERNEL_OPT_ENTRIES,
    {"raw", 0, NULL,
     "write the decoded block's bytes to standard output instead", OPT_RAW},
    {0},
};

static void out_fields(struct wdt_out *o, const char *key, const char *label,
		       const struct wdt_kdbg_field *f, size_t n,
		       const uint8_t *b, size_t len)
{
	wdt_out_obj_begin(o, key, label);
	for (size_t i = 0; i < n; i++) {
		if (f[i].off + f[i].size > len)
			break;
		uint64_t v = f[i].size == 8   ? wdt_le64(b + f[i].off)
			     : f[i].size == 4 ? wdt_le32(b + f[i].off)
			     : f[i].size == 2 ? wdt_le16(b + f[i].off)
					      : b[f[i].off];
		if (f[i].size == 8)
			wdt_out_addr(o, f[i].name, f[i].name, v);
		else
			wdt_out_hex(o, f[i].name, f[i].name, v);
	}
	wdt_out_obj_end(o);
}

static void out_kdbg(struct wdt_out *o, const struct wdt_kdbg *d,
		     const struct wdt_kernel *k)
{
	wdt_out_obj_begin(o, "kdbg", "KdDebuggerDataBlock");
	wdt_cmd_out_kdbg_found(o, d, k);
	wdt_out_obj_begin(o, "keys", "Decoding keys");
	wdt_out_hex(o, "ki_wait_never", "KiWaitNever", d->wait_never);
	wdt_out_hex(o, "ki_wait_always", "KiWaitAlways", d->wait_always);
	wdt_out_addr(o, "kdp_data_block_encoded", "&KdpDataBlockEncoded",
		     d->flag_va);
	wdt_out_u64(o, "kdp_data_block_encoded_value", "KdpDataBlockEncoded",
		    d->flag_value);
	if (d->wait_never_va)
		wdt_out_addr(o, "ki_wait_never_va", "&KiWaitNever",
			     d->wait_never_va);
	else
		wdt_out_null(o, "ki_wait_never_va", "&KiWaitNever");
	if (d->wait_always_va)
		wdt_out_addr(o, "ki_wait_always_va", "&KiWaitAlways",
			     d->wait_always_va);
	else
		wdt_out_null(o, "ki_wait_always_va", "&KiWaitAlways");
	wdt_out_obj_end(o);
	wdt_out_arr_begin(o, "checks", "Consistency checks");
	for (size_t i = 0; i < d->nchecks; i++) {
		wdt_out_obj_begin(o, NULL, NULL);
		wdt_out_str(o, "name", "Check", d->checks[i].name);
		wdt_out_bool(o, "ok", "OK", d->checks[i].ok);
		wdt_out_str(o, "detail", "Detail", d->checks[i].detail);
		wdt_out_obj_end(o);
	}
	wdt_out_arr_end(o);
	out_fields(o, "fields", "Fields", wdt_kdbg_fields, wdt_kdbg_nfields,
		   d->plain, d->size);
	wdt_out_obj_end(o);

	wdt_out_obj_begin(o, "version", "KdVersionBlock");
	if (d->have_version) {
		wdt_out_addr(o, "va", "Address", d->version_va);
		wdt_out_str(o, "method", "Found by", d->version_method);
		out_fields(o, "fields", "Fields", wdt_kdver_fields,
			   wdt_kdver_nfields, d->version, sizeof(d->version));
	} else {
		wdt_out_null(o, "va", "Address");
	}
	wdt_out_obj_end(o);
}

static int kdbg_run(struct wdt_ctx *ctx)
{
	struct wdt_kernel_opts ko;
	struct wdt_symopts so;
	struct wdt_kernel k = {0};
	struct wdt_kdbg d = {0};
	struct wdt_bugcheck bc = {0};
	struct wdt_cmd_pdb p;
	struct wdt_image *img;
	bool want_pdb, raw = wdt_ctx_flag(ctx, OPT_RAW);
	int rc = -1;

	if (wdt_cmd_kernel_opts(ctx, &ko, &so, &want_pdb) < 0)
		return -1;
	if (raw && ctx->json)
		return wdt_err_set(&ctx->err, WDT_USAGE,
				   "--raw and --json exclude each other");
	if (raw && isatty(STDOUT_FILENO))
		return wdt_err_set(
		    &ctx->err, WDT_USAGE,
		    "--raw writes binary data: redirect standard "
		    "output to a file");
	img = wdt_cmd_open_image(ctx, OPT_FORMAT);
	if (!img)
		return -1;
	if (wdt_cmd_locate_kernel(ctx, img, &ko, &k) < 0)
		goto out;
	if (wdt_cmd_locate_kdbg(ctx, &k, want_pdb ? &so : NULL, &d) < 0)
		goto out;
	if (raw) {
		if (fwrite(d.plain, 1, d.size, stdout) != d.size) {
			wdt_err_errno(&ctx->err, errno, "standard output");
			ctx->err.status = WDT_OUTPUT;
			goto out;
		}
		rc = 0;
		goto out;
	}
	wdt_out_str(ctx->out, "file", "File", img->path);
	wdt_out_str(ctx->out, "format", "Format", img->fmt->name);
	wdt_cmd_out_kernel(ctx->out, &k);
	out_kdbg(ctx->out, &d, &k);
	if (wdt_cmd_bugcheck(ctx, &k, &d, &bc) < 0)
		goto out;
	wdt_cmd_out_bugcheck(ctx->out, &bc);
	p = wdt_cmd_pdb_of(&d, want_pdb);
	wdt_cmd_out_pdb(ctx->out, &p);
	wdt_cmd_out_attempts(ctx, &k);
	rc = 0;
out:
	wdt_bugcheck_free(&bc);
	wdt_kdbg_free(&d);
	wdt_kernel_free(&k);
	wdt_image_close(img);
	return rc;
}

const struct wdt_cmd wdt_cmd_kdbg = {
    .name = "kdbg",
    .summary = "locate and decode KdDebuggerDataBlock, with or without a PDB",
    .usage = "IMAGE",
    .description =
	"Finds the kernel (as 'wdt find-kernel'), then its debugger data "
	"block\n(KDDEBUGGER_DATA64) and prints every field by name, "
	"decoded: since Windows 8\nthe block is encoded in memory with "
	"KiWaitNever, KiWaitAlways and the address\nof "
	"KdpDataBlockEncoded. With the kernel's PDB the block and keys "
	"are found by\nsymbol. Without one (none found, --offline, "
	"--no-pdb) wdt finds the block in\nthe kernel's data by known "
	"plaintext (the 'KDBG' tag, its size and KernBase)\nand recovers "
	"the keys from the values in the kernel's data. Either way the\n"
	"decoded block is checked against memory (list heads link back, "
	"KernBase is\nthe kernel, KiProcessorBlock holds KPRCBs) and the "
	"output says whether a PDB\nwas used; one that was wanted and "
	"not used gets one warning line on stderr\nwith the URL to "
	"download it from and the path to save it as (--require-pdb:\n"
	"exit 3 instead). KdVersionBlock "
	"(DBGKD_GET_VERSION64) is printed too, and\nwhether the guest "
	"crashed: the bugcheck in KiBugcheckData and the processor\n"
	"that raised it (see 'wdt triage').",
    .opts = kdbg_opts,
    .examples =
	"  $ wdt kdbg guest.elf\n"
	"  $ wdt kdbg --offline --symbol-path ~/symbols guest.kdump\n"
	"  $ wdt kdbg --no-pdb -v memory.raw\n"
	"  $ wdt kdbg --json guest.elf | jq .kdbg.fields.PsLoadedModuleList\n"
	"  $ wdt kdbg --raw guest.elf > kdbg.bin\n",
    .min_args = 1,
    .max_args = 1,
    .run = kdbg_run,
};
