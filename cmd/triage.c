/* SPDX-License-Identifier: MIT */
/* wdt triage: what crashed the guest, in one screen and one bucket line. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/image_opts.h"
#include "cmd/kernel_opts.h"
#include "core/bytes.h"
#include "formats/dmp.h"
#include "symbols/bugcodes.h"
#include "symbols/triage.h"

enum { OPT_FORMAT = 1 };

/* Exit status of a guest that had not crashed (a live dump). */
#define TRIAGE_NOT_CRASHED 5

static const struct wdt_opt triage_opts[] = {
    WDT_OPT_FORMAT_ENTRY(OPT_FORMAT),
    WDT_OPT_MAX_RATIO_ENTRY,
    WDT_KERNEL_OPT_ENTRIES,
    {0},
};

/* Text: one line "nt!KiPageFault+0x12 (0xfffff…)"; JSON: every part. */
static void out_where(struct wdt_out *o, const char *key, const char *label,
		      const struct wdt_where *w)
{
	if (!wdt_out_is_json(o)) {
		char line[320];
		snprintf(line, sizeof(line), "%s (0x%016" PRIx64 ")", w->text,
			 w->va);
		wdt_out_str(o, key, label, line);
		return;
	}
	wdt_out_obj_begin(o, key, label);
	wdt_out_str(o, "text", "Where", w->text);
	wdt_out_addr(o, "address", "Address", w->va);
	if (w->mod) {
		wdt_out_str(o, "module", "Module", w->mod->name);
		wdt_out_addr(o, "module_base", "Module base", w->mod->base);
		wdt_out_hex(o, "offset", "Offset", w->offset);
	} else {
		wdt_out_null(o, "module", "Module");
	}
	if (w->symbol) {
		wdt_out_str(o, "symbol", "Symbol", w->symbol);
		wdt_out_hex(o, "symbol_offset", "Symbol offset", w->sym_offset);
	} else {
		wdt_out_null(o, "symbol", "Symbol");
	}
	wdt_out_obj_end(o);
}

static void out_bugcheck(struct wdt_out *o, const struct wdt_bugcheck *bc)
{
	const struct wdt_bugcode *b = wdt_bugcode_find(bc->code);

	wdt_out_hex(o, "code", "Bugcheck code", bc->code);
	wdt_out_str(o, "name", "Name", b ? b->name : "(not in wdt's table)");
	if (b)
		wdt_out_str(o, "summary", "Meaning", b->summary);
	else
		wdt_out_null(o, "summary", "Meaning");
	wdt_out_arr_begin(o, "parameters", "Parameters");
	static const char *const pname[4] = {"P1", "P2", "P3", "P4"};

	for (int i = 0; i < 4; i++) {
		wdt_out_obj_begin(o, NULL, NULL);
		wdt_out_str(o, "name", "Parameter", pname[i]);
		wdt_out_hex(o, "value", "Value", bc->params[i]);
		wdt_out_str(o, "meaning", "Meaning",
			    b ? b->param[i] : "unknown");
		wdt_out_obj_end(o);
	}
	wdt_out_arr_end(o);
}

static void out_triage(struct wdt_ctx *ctx, const struct wdt_bugcheck *bc,
		       const struct wdt_triage *t, const uint8_t *kusd,
		       bool pdb_used)
{
	struct wdt_out *o = ctx->out;

	out_bugcheck(o, bc);
	if (bc->cpu >= 0)
		wdt_out_u64(o, "cpu", "Crashing CPU", (uint64_t)bc->cpu);
	else
		wdt_out_null(o, "cpu", "Crashing CPU");
	wdt_out_str(o, "cpu_method", "CPU found by", bc->cpu_method);
	if (t->have_rip) {
		out_where(o, "rip", "RIP", &t->rip);
		wdt_out_addr(o, "rsp", "RSP",
			     wdt_le64(bc->context + WDT_CTX_RSP));
		out_where(o, "return_address", "Return address [RSP]",
			  &t->rsp_ret);
	}
	if (t->blame_how) {
		out_where(o, "blamed", "Blamed", &t->blamed);
		wdt_out_str(o, "blamed_by", "Blamed by", t->blame_how);
	} else {
		wdt_out_null(o, "blamed", "Blamed");
	}
	if (t->have_process) {
		wdt_out_addr(o, "thread", "Thread", t->thread);
		wdt_out_addr(o, "process", "Process", t->process);
		if (t->process_name[0])
			wdt_out_str(o, "process_name", "Process name",
				    t->process_name);
		else
			wdt_out_null(o, "process_name", "Process name");
		if (t->have_pid)
			wdt_out_u64(o, "process_id", "Process ID", t->pid);
		else
			wdt_out_null(o, "process_id", "Process ID");
	}
	if (kusd) {
		int64_t st =
		    (int64_t)wdt_kusd_time(kusd + WDT_KUSD_SYSTEM_TIME);
		int64_t up =
		    (int64_t)wdt_kusd_time(kusd + WDT_KUSD_INTERRUPT_TIME);
		char buf[64];
		if (wdt_out_is_json(o)) {
			wdt_dmp_out_time(o, "system_time", "System time", st);
			wdt_dmp_out_uptime(o, "uptime", "Uptime", up);
		} else {
			wdt_dmp_time_str(st, buf, sizeof(buf));
			wdt_out_str(o, "system_time", "System time", buf);
			wdt_dmp_uptime_str(up, buf, sizeof(buf));
			wdt_out_str(o, "uptime", "Uptime", buf);
		}
	}
	wdt_out_bool(o, "pdb_used", "PDB used", pdb_used);
	wdt_out_str(o, "bucket", "Bucket", t->bucket);
	wdt_out_str(o, "bucket_basis", "Bucket from", t->bucket_basis);
	if (bc->note[0])
		wdt_out_str(o, "note", "Note", bc->note);
}

static uint32_t kernel_build(const struct wdt_kdbg *d, const uint8_t *kusd)
{
	if (d->have_version)
		return wdt_le16(d->version + WDT_KDVER_MINOR);
	return kusd ? wdt_le32(kusd + WDT_KUSD_NT_BUILD_NUMBER) & 0xFFFF : 0;
}

static int triage_run(struct wdt_ctx *ctx)
{
	struct wdt_kernel_opts ko;
	struct wdt_symopts so;
	struct wdt_kernel k = {0};
	struct wdt_kdbg d = {0};
	struct wdt_bugcheck bc = {0};
	struct wdt_modules m = {0};
	struct wdt_symtab syms = {0};
	struct wdt_ntoffsets off;
	struct wdt_triage t;
	struct wdt_image *img;
	struct wdt_pdb *pdb = NULL;
	uint8_t kusd[WDT_KUSD_READ];
	bool want_pdb, have_kusd;
	size_t nsyms = 0;
	struct wdt_err e;
	int rc = -1;

	if (wdt_cmd_kernel_opts(ctx, &ko, &so, &want_pdb) < 0)
		return -1;
	img = wdt_cmd_open_image(ctx, OPT_FORMAT);
	if (!img)
		return -1;
	if (wdt_cmd_locate_kernel(ctx, img, &ko, &k) < 0 ||
	    wdt_cmd_locate_kdbg(ctx, &k, want_pdb ? &so : NULL, &d) < 0 ||
	    wdt_cmd_bugcheck(ctx, &k, &d, &bc) < 0)
		goto out;
	if (wdt_modules_read(
		&k, wdt_kdbg_get(&d, WDT_KDBG_PS_LOADED_MODULE_LIST, 8), &m,
		&ctx->err) < 0) {
		wdt_ctx_fail(ctx, ctx->args[0]);
		goto out;
	}
	have_kusd =
	    wdt_kernel_read(&k, WDT_KUSER_VA, kusd, sizeof(kusd), &e) == 0;
	if (d.pdb_used && d.pdb_path)
		pdb = wdt_pdb_open_file(d.pdb_path, &e);
	wdt_ntoffsets_find(&k, &d, pdb,
			   kernel_build(&d, have_kusd ? kusd : NULL), &off);
	/* The kernel's symbols, when its PDB is at hand. */
	if (pdb && m.n && m.v[0].base == k.base_va) {
		if (wdt_symtab_init(&syms, &m.v[0], pdb, &e) == 0)
			nsyms = 1;
		pdb = NULL; /* the symbol table owns it now */
	}
	wdt_triage_run(&k, &bc, &m, &syms, nsyms, &off, &t);

	struct wdt_out *o = ctx->out;
	wdt_out_str(o, "file", "File", img->path);
	wdt_out_str(o, "format", "Format", img->fmt->name);
	wdt_out_bool(o, "crashed", "Crashed", bc.crashed);
	if (bc.crashed) {
		out_triage(ctx, &bc, &t, have_kusd ? kusd : NULL, d.pdb_used);
	} else {
		wdt_out_str(o, "why", "Why",
			    bc.note[0] ? bc.note
				       : "KiBugcheckData holds no bugcheck: "
					 "a dump of a running guest");
	}
	wdt_out_u64(o, "module_count", "Loaded modules", m.n);
	if (m.note[0])
		wdt_out_str(o, "module_note", "Module list", m.note);
	wdt_out_str(o, "offsets_from", "Thread offsets from",
		    off.thread_source ? off.thread_source : "none");
	wdt_out_str(o, "process_offsets_from", "Process offsets from",
		    off.process_source ? off.process_source : "none");
	struct wdt_cmd_pdb p = wdt_cmd_pdb_of(&d, want_pdb);
	wdt_cmd_out_pdb(o, &p);
	wdt_cmd_out_attempts(ctx, &k);
	rc = bc.crashed ? 0 : TRIAGE_NOT_CRASHED;
out:
	wdt_pdb_close(pdb);
	wdt_symtab_free(&syms);
	wdt_modules_free(&m);
	wdt_bugcheck_free(&bc);
	wdt_kdbg_free(&d);
	wdt_kernel_free(&k);
	wdt_image_close(img);
	return rc;
}

const struct wdt_cmd wdt_cmd_triage = {
    .name = "triage",
    .summary = "name what crashed a guest: bugcheck, CPU, module, process, "
	       "bucket",
    .usage = "IMAGE",
    .description =
	"Reads IMAGE (any input 'wdt info' reads, DMP files included) "
	"and tells why\nthe guest crashed: the bugcheck code from "
	"KiBugcheckData, its name and what\neach parameter means; the "
	"CPU that bugchecked (KiBugCheckActive with the\nkernel's PDB, "
	"else the one CPU whose saved context is KeBugCheckEx's); its\n"
	"RIP and return address as module+offset (symbol+offset with the "
	"PDB);\nthe module to blame (the parameter the code defines, "
	"else the first driver\nreturn address on the crashing stack, "
	"else KeBugCheckEx's caller); the\nthread and process running "
	"on that CPU; system time and uptime; and a\nstable one-line "
	"bucket, CODE_module!function or CODE_module+offset, that is\n"
	"the same for every dump of the same crash. Exit 0: crashed and "
	"described;\n5: the guest had not crashed (a live dump); 3: the "
	"image cannot be read.",
    .opts = triage_opts,
    .examples = "  $ wdt triage guest.elf\n"
		"  $ wdt triage --json guest.kdump | jq -r .bucket\n"
		"  $ wdt triage --offline --symbol-path ~/symbols guest.dmp\n"
		"  $ wdt triage memory.raw; echo $?   # 5: not crashed\n",
    .min_args = 1,
    .max_args = 1,
    .run = triage_run,
};
