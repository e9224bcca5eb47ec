/* SPDX-License-Identifier: MIT */
/* wdt find-kernel: directory table base, kernel base, PE and PDB identity. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/image_opts.h"
#include "cmd/kernel_opts.h"

enum { OPT_FORMAT = 1 };

static const struct wdt_opt find_kernel_opts[] = {
    WDT_OPT_FORMAT_ENTRY(OPT_FORMAT),
    WDT_OPT_MAX_RATIO_ENTRY,
    WDT_KERNEL_OPT_ENTRIES,
    {0},
};

static int find_kernel_run(struct wdt_ctx *ctx)
{
	struct wdt_kernel_opts ko;
	struct wdt_symopts so;
	struct wdt_kernel k = {0};
	struct wdt_image *img;
	struct wdt_symstore_miss miss = {0};
	struct wdt_cmd_pdb p;
	char *path = NULL, *note = NULL;
	bool want_pdb;
	int rc = -1;

	if (wdt_cmd_kernel_opts(ctx, &ko, &so, &want_pdb) < 0)
		return -1;
	img = wdt_cmd_open_image(ctx, OPT_FORMAT);
	if (!img)
		return -1;
	if (wdt_cmd_locate_kernel(ctx, img, &ko, &k) < 0)
		goto out;
	wdt_out_str(ctx->out, "file", "File", img->path);
	wdt_out_str(ctx->out, "format", "Format", img->fmt->name);
	wdt_cmd_out_kernel(ctx->out, &k);
	if (want_pdb) {
		struct wdt_pdb *pdb;
		struct wdt_err e;

		if (wdt_kernel_open_pdb(&k, &so, &pdb, &path, &miss, &e) == 0) {
			wdt_pdb_close(pdb);
		} else if (so.pdb_file) {
			ctx->err = e;
			wdt_ctx_fail(ctx, so.pdb_file);
			goto out;
		} else {
			note = miss.why
				   ? wdt_symstore_miss_note(
					 k.cv.pdb_name, k.cv.guid, k.cv.age,
					 &miss, NULL, wdt_cmd_remedies)
				   : strdup(wdt_cmd_explain(&e));
		}
	}
	p = (struct wdt_cmd_pdb){
	    .wanted = want_pdb,
	    .used = path != NULL,
	    .path = path,
	    .note = want_pdb ? note : WDT_KDBG_NOTE_NO_PDB,
	    .miss = miss.why ? &miss : NULL,
	};
	if (wdt_cmd_pdb_check(ctx, &k, &p, ": continuing without it") < 0)
		goto out;
	wdt_cmd_out_pdb(ctx->out, &p);
	wdt_cmd_out_attempts(ctx, &k);
	rc = 0;
out:
	free(path);
	free(note);
	wdt_symstore_miss_free(&miss);
	wdt_kernel_free(&k);
	wdt_image_close(img);
	return rc;
}

const struct wdt_cmd wdt_cmd_find_kernel = {
    .name = "find-kernel",
    .summary = "find the kernel page tables, base address and PDB identity",
    .usage = "IMAGE",
    .description =
	"Finds the Windows kernel in IMAGE (any format wdt reads) and "
	"reports how.\nThe directory table base (kernel CR3) comes from, "
	"in order: a CPU whose CR3\nmaps KUSER_SHARED_DATA; a CPU in "
	"kernel mode; KPRCB.KernelDirectoryTableBase\nof a CPU in user "
	"mode under KVA shadow; the processor start block in low\n"
	"memory; a scan for a self-referencing PML4. The kernel base "
	"comes from the\nIDT (walking down from a handler to the image) "
	"or a scan of the kernel\naddress range for a PE naming a kernel "
	"PDB. Images without CPU state (raw,\nkdump without notes) work "
	"too. The PDB's name, GUID, age and symbol-store\nURL are "
	"printed; the PDB file itself is looked up as for 'wdt kdbg'.\n"
	"-v shows every method tried and why it failed.",
    .opts = find_kernel_opts,
    .examples =
	"  $ wdt find-kernel guest.elf\n"
	"  $ wdt find-kernel -v --no-pdb memory.raw\n"
	"  $ wdt find-kernel --json guest.kdump | jq -r .kernel.pdb_url\n",
    .min_args = 1,
    .max_args = 1,
    .run = find_kernel_run,
};
