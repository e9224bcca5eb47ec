/* SPDX-License-Identifier: MIT */
/* wdt info: what an image is and what it holds. */
#include <inttypes.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/image_opts.h"
#include "cmd/kernel_opts.h"
#include "core/bytes.h"
#include "core/image.h"
#include "symbols/kernel.h"

enum { OPT_FORMAT = 1, OPT_LIST_FORMATS, OPT_NO_RUNS, OPT_NO_WINDOWS };

static const struct wdt_opt info_opts[] = {
    WDT_OPT_FORMAT_ENTRY(OPT_FORMAT),
    WDT_OPT_MAX_RATIO_ENTRY,
    {"list-formats", 0, NULL, "list the formats wdt reads and exit",
     OPT_LIST_FORMATS},
    {"no-runs", 0, NULL, "omit the list of physical runs (keep counts)",
     OPT_NO_RUNS},
    {"no-windows", 0, NULL,
     "do not look for a Windows kernel (see 'wdt find-kernel')",
     OPT_NO_WINDOWS},
    {0},
};

static void out_runs(struct wdt_out *o, const struct wdt_image *img, bool list)
{
	uint64_t top = 0;

	if (img->nruns)
		top = img->runs[img->nruns - 1].pa +
		      img->runs[img->nruns - 1].len - 1;
	wdt_out_obj_begin(o, "memory", "Physical memory");
	wdt_out_u64(o, "run_count", "Runs", img->nruns);
	wdt_out_size(o, "total", "Total", wdt_image_total(img));
	wdt_out_addr(o, "highest_address", "Highest address", top);
	if (list) {
		wdt_out_arr_begin(o, "runs", "Ranges");
		for (size_t i = 0; i < img->nruns; i++) {
			const struct wdt_run *r = &img->runs[i];
			wdt_out_obj_begin(o, NULL, NULL);
			wdt_out_addr(o, "start", "Start", r->pa);
			wdt_out_addr(o, "end", "End", r->pa + r->len - 1);
			wdt_out_size(o, "size", "Size", r->len);
			wdt_out_obj_end(o);
		}
		wdt_out_arr_end(o);
	}
	wdt_out_obj_end(o);
}

static void out_seg(struct wdt_out *o, const struct wdt_cpu *c,
		    enum wdt_segreg s)
{
	const struct wdt_seg *g = &c->segs[s];

	wdt_out_obj_begin(o, NULL, NULL);
	wdt_out_str(o, "name", "Segment", wdt_seg_name(s));
	wdt_out_hex(o, "selector", "Selector", g->selector);
	wdt_out_addr(o, "base", "Base", g->base);
	wdt_out_hex(o, "limit", "Limit", g->limit);
	wdt_out_hex(o, "flags", "Flags", g->flags);
	wdt_out_obj_end(o);
}

static void out_cpu(struct wdt_out *o, const struct wdt_cpu *c)
{
	char title[32];
	static const char *const cr_key[] = {"cr0", "cr2", "cr3", "cr4"};
	static const int cr_idx[] = {0, 2, 3, 4};
	static const char *const cr_label[] = {"CR0", "CR2", "CR3", "CR4"};

	snprintf(title, sizeof(title), "CPU %u", c->index);
	wdt_out_obj_begin(o, NULL, title);
	wdt_out_u64(o, "index", "Index", c->index);
	wdt_out_str(o, "source", "State from", c->source ? c->source : "-");
	wdt_out_bool(o, "long_mode", "Long mode", c->long_mode);
	if (c->have & WDT_CPU_HAVE_GPRS) {
		wdt_out_addr(o, "rip", "RIP", c->regs[WDT_RIP]);
		wdt_out_addr(o, "rsp", "RSP", c->regs[WDT_RSP]);
	}
	if (c->have & WDT_CPU_HAVE_SYSTEM) {
		for (int i = 0; i < 4; i++)
			wdt_out_addr(o, cr_key[i], cr_label[i],
				     c->cr[cr_idx[i]]);
	}
	if (c->have & WDT_CPU_HAVE_EFER)
		wdt_out_hex(o, "efer", "EFER", c->efer);
	else
		wdt_out_null(o, "efer", "EFER");
	if (c->have & WDT_CPU_HAVE_SEGS)
		wdt_out_addr(o, "gs_base", "GS base",
			     (c->have & WDT_CPU_HAVE_SYSTEM)
				 ? c->segs[WDT_GS].base
				 : c->gs_base);
	if (c->have & WDT_CPU_HAVE_KGSBASE)
		wdt_out_addr(o, "kernel_gs_base", "Kernel GS base",
			     c->kernel_gs_base);
	else
		wdt_out_null(o, "kernel_gs_base", "Kernel GS base");
	if (c->have & WDT_CPU_HAVE_SYSTEM) {
		wdt_out_addr(o, "idtr_base", "IDTR base",
			     c->segs[WDT_IDT].base);
		wdt_out_hex(o, "idtr_limit", "IDTR limit",
			    c->segs[WDT_IDT].limit);
		wdt_out_addr(o, "gdtr_base", "GDTR base",
			     c->segs[WDT_GDT].base);
		wdt_out_hex(o, "gdtr_limit", "GDTR limit",
			    c->segs[WDT_GDT].limit);
	}
	if (c->have & WDT_CPU_HAVE_GPRS) {
		wdt_out_arr_begin(o, "registers", "Registers");
		for (int r = 0; r < WDT_NREGS; r++) {
			wdt_out_obj_begin(o, NULL, NULL);
			wdt_out_str(o, "name", "Register",
				    wdt_reg_name((enum wdt_reg)r));
			wdt_out_addr(o, "value", "Value", c->regs[r]);
			wdt_out_obj_end(o);
		}
		wdt_out_arr_end(o);
	}
	if (c->have & WDT_CPU_HAVE_SEGS) {
		wdt_out_arr_begin(o, "segments", "Segments");
		int nseg =
		    (c->have & WDT_CPU_HAVE_SYSTEM) ? WDT_LDT : WDT_SS + 1;
		for (int s = 0; s < nseg; s++)
			out_seg(o, c, (enum wdt_segreg)s);
		if (c->have & WDT_CPU_HAVE_SYSTEM) {
			out_seg(o, c, WDT_LDT);
			out_seg(o, c, WDT_TR);
		}
		wdt_out_arr_end(o);
	}
	wdt_out_obj_end(o);
}

static void out_notes(struct wdt_out *o, const struct wdt_image *img)
{
	wdt_out_arr_begin(o, "notes", "Notes");
	for (size_t i = 0; i < img->nnotes; i++) {
		const struct wdt_note *n = &img->notes[i];
		wdt_out_obj_begin(o, NULL, NULL);
		wdt_out_str(o, "name", "Name", n->name);
		wdt_out_u64(o, "type", "Type", n->type);
		wdt_out_hex(o, "offset", "Offset", n->desc_off);
		wdt_out_u64(o, "size", "Size", n->desc_size);
		wdt_out_obj_end(o);
	}
	wdt_out_arr_end(o);
}

/* What Windows is inside, when a kernel is found; never an error. */
static void out_windows(struct wdt_out *o, struct wdt_image *img)
{
	struct wdt_kernel k;
	struct wdt_err e = {0};
	uint8_t kusd[WDT_KUSD_READ];

	wdt_out_obj_begin(o, "windows", "Windows");
	struct wdt_kernel_opts ko = {.quick = true};

	if (wdt_kernel_find(img, &ko, &k, &e) < 0) {
		wdt_out_bool(o, "found", "Kernel found", false);
		wdt_out_str(o, "why", "Why not", wdt_cmd_explain(&e));
		wdt_out_obj_end(o);
		wdt_kernel_free(&k);
		return;
	}
	wdt_out_bool(o, "found", "Kernel found", true);
	if (wdt_kernel_read(&k, WDT_KUSER_VA, kusd, sizeof(kusd), &e) == 0) {
		char ver[64];
		uint32_t build = wdt_le32(kusd + WDT_KUSD_NT_BUILD_NUMBER);
		snprintf(ver, sizeof(ver), "%u.%u",
			 wdt_le32(kusd + WDT_KUSD_NT_MAJOR),
			 wdt_le32(kusd + WDT_KUSD_NT_MINOR));
		wdt_out_str(o, "version", "NT version", ver);
		if (build)
			wdt_out_u64(o, "build", "Build", build);
		else
			wdt_out_null(o, "build", "Build");
		wdt_out_u64(o, "product_type", "Product type",
			    wdt_le32(kusd + WDT_KUSD_NT_PRODUCT_TYPE));
	}
	wdt_out_addr(o, "dtb", "Directory table base", k.vas.dtb);
	wdt_out_addr(o, "kernel_base", "Kernel base", k.base_va);
	if (k.have_cv) {
		wdt_out_str(o, "pdb_name", "Kernel PDB", k.cv.pdb_name);
		wdt_out_str(o, "pdb_key", "PDB store key", k.pdb_key);
	}
	/* Crashed? KDBG and the bugcheck without a PDB (info is offline). */
	struct wdt_kdbg d;
	struct wdt_bugcheck bc = {0};
	if (wdt_kdbg_find(&k, NULL, &d, &e) == 0 &&
	    wdt_bugcheck_find(&k, &d, NULL, &bc, &e) == 0) {
		wdt_cmd_out_bugcheck(o, &bc);
	} else {
		wdt_out_obj_begin(o, "crash", "Crash");
		wdt_out_null(o, "crashed", "Crashed");
		wdt_out_str(o, "why", "Unknown because", wdt_cmd_explain(&e));
		wdt_out_obj_end(o);
	}
	wdt_bugcheck_free(&bc);
	wdt_kdbg_free(&d);
	wdt_out_obj_end(o);
	wdt_kernel_free(&k);
}

static int info_run(struct wdt_ctx *ctx)
{
	struct wdt_out *o = ctx->out;
	struct wdt_image *img;

	if (wdt_ctx_flag(ctx, OPT_LIST_FORMATS)) {
		wdt_cmd_list_formats(ctx);
		return 0;
	}
	if (ctx->nargs != 1) {
		wdt_err_set(
		    &ctx->err, WDT_USAGE,
		    "info needs exactly one IMAGE (see 'wdt info --help')");
		return -1;
	}
	img = wdt_cmd_open_image(ctx, OPT_FORMAT);
	if (!img)
		return -1;
	wdt_out_str(o, "file", "File", img->path);
	wdt_out_str(o, "format", "Format", img->fmt->name);
	wdt_out_str(o, "variant", "Variant", img->variant);
	wdt_out_size(o, "size", "File size", img->file_size);
	wdt_out_u64(o, "cpu_count", "CPUs", img->ncpus);
	out_runs(o, img, !wdt_ctx_flag(ctx, OPT_NO_RUNS));
	wdt_out_arr_begin(o, "cpus", "CPU state");
	for (size_t i = 0; i < img->ncpus; i++)
		out_cpu(o, &img->cpus[i]);
	wdt_out_arr_end(o);
	out_notes(o, img);
	if (img->fmt->describe)
		img->fmt->describe(img, o);
	if (!wdt_ctx_flag(ctx, OPT_NO_WINDOWS))
		out_windows(o, img);
	wdt_image_close(img);
	return 0;
}

const struct wdt_cmd wdt_cmd_info = {
    .name = "info",
    .summary = "show an image's format, physical memory runs, CPUs and notes",
    .usage = "IMAGE",
    .description =
	"Reads IMAGE without changing it and reports what it is: the "
	"detected format\n(QEMU ELF core, kdump, raw, gzip or LZ4 raw), "
	"every run of physical memory\nit holds, each CPU's registers "
	"(RIP, RSP, CR0/CR3/CR4, GS bases, IDTR,\nGDTR, segments) and "
	"the notes, and which Windows kernel is inside (version, build, "
	"page tables,\nkernel base, PDB identity; 'wdt find-kernel' "
	"explains how) and whether it\ncrashed: bugcheck code and the "
	"crashing CPU, found without a PDB ('wdt\ntriage' says more). "
	"The format is\ndetected from the content, "
	"never from the file name; --format forces one.",
    .opts = info_opts,
    .examples = "  $ wdt info guest.elf\n"
		"  $ wdt info --json guest.elf | jq '.memory.runs'\n"
		"  $ wdt info --format=raw memory.bin\n"
		"  $ wdt info --list-formats\n",
    .min_args = 0,
    .max_args = 1,
    .run = info_run,
};
