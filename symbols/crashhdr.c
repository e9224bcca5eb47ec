/* SPDX-License-Identifier: MIT */
#include "symbols/crashhdr.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "formats/dmp.h"

#define EXCEPTION_BREAKPOINT 0x80000003u
#define EXCEPTION_NONCONTINUABLE 1u
#define CONTEXT_CONTROL_INTEGER_SEGMENTS 0x100007u

static void note(struct wdt_crash *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(struct wdt_crash *c, const char *fmt, ...)
{
	va_list ap;

	if (c->nnotes == sizeof(c->notes) / sizeof(c->notes[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(c->notes[c->nnotes++], sizeof(c->notes[0]), fmt, ap);
	va_end(ap);
}

/* 64-bit code and stack selectors of Windows x64 (windows-kernel.md §8). */
#define CS_KERNEL 0x10u
#define CS_USER64 0x33u
#define SS_KERNEL 0x18u
#define SS_USER 0x2Bu

/* A qword of one repeated 32-bit fill word ('PAGE', 0xFFFFFFFF, ...). */
static bool fill_qword(uint64_t v)
{
	return v && (uint32_t)v == (uint32_t)(v >> 32) &&
	       ((uint32_t)v == WDT_DMP_SIG_PAGE || (uint32_t)v == 0xFFFFFFFFu);
}

bool wdt_crash_context_ok(const uint8_t ctx[WDT_CTX_SIZE], char *why,
			  size_t len)
{
	uint64_t rip = wdt_le64(ctx + WDT_CTX_RIP);
	uint64_t rsp = wdt_le64(ctx + WDT_CTX_RAX + 4 * 8);
	uint16_t cs = wdt_le16(ctx + WDT_CTX_SEG_CS);
	uint16_t ss = wdt_le16(ctx + WDT_CTX_SEG_SS);

	if (wdt_dmp_context_unset(ctx))
		snprintf(why, len, "unset ('PAGE' fill or zero)");
	else if (fill_qword(rip) || fill_qword(rsp))
		snprintf(why, len,
			 "Rip 0x%016" PRIx64 " / Rsp 0x%016" PRIx64
			 " is a fill pattern",
			 rip, rsp);
	else if (!wdt_va_canonical(rip, false))
		snprintf(why, len, "Rip 0x%016" PRIx64 " is not canonical",
			 rip);
	else if (!wdt_va_canonical(rsp, false))
		snprintf(why, len, "Rsp 0x%016" PRIx64 " is not canonical",
			 rsp);
	else if (cs != CS_KERNEL && cs != CS_USER64)
		snprintf(why, len, "SegCs 0x%" PRIx16 " is not 64-bit code",
			 cs);
	else if (ss != 0 && ss != SS_KERNEL && ss != SS_USER)
		snprintf(why, len,
			 "SegSs 0x%" PRIx16 " is not a stack selector", ss);
	else if (wdt_le32(ctx + WDT_CTX_MXCSR) !=
		 wdt_le32(ctx + WDT_CTX_FLT_MXCSR))
		snprintf(why, len, "MxCsr differs from FltSave.MxCsr");
	else
		return true;
	return false;
}

void wdt_crash_context(const struct wdt_cpu *cpu, uint8_t ctx[WDT_CTX_SIZE])
{
	/* CONTEXT order: Rax Rcx Rdx Rbx Rsp Rbp Rsi Rdi R8..R15. */
	static const enum wdt_reg order[16] = {
	    WDT_RAX, WDT_RCX, WDT_RDX, WDT_RBX, WDT_RSP, WDT_RBP,
	    WDT_RSI, WDT_RDI, WDT_R8,  WDT_R9,	WDT_R10, WDT_R11,
	    WDT_R12, WDT_R13, WDT_R14, WDT_R15,
	};
	static const struct {
		uint32_t off;
		enum wdt_segreg seg;
	} segs[] = {
	    {WDT_CTX_SEG_CS, WDT_CS}, {WDT_CTX_SEG_DS, WDT_DS},
	    {WDT_CTX_SEG_ES, WDT_ES}, {WDT_CTX_SEG_FS, WDT_FS},
	    {WDT_CTX_SEG_GS, WDT_GS}, {WDT_CTX_SEG_SS, WDT_SS},
	};

	memset(ctx, 0, WDT_CTX_SIZE);
	/* No floating-point state in QEMU's notes: control, integer, segments.
	 */
	wdt_put_le32(ctx + WDT_CTX_FLAGS, CONTEXT_CONTROL_INTEGER_SEGMENTS);
	wdt_put_le32(ctx + WDT_CTX_MXCSR, WDT_MXCSR_DEFAULT);
	wdt_put_le32(ctx + WDT_CTX_FLT_MXCSR, WDT_MXCSR_DEFAULT);
	if (cpu->have & WDT_CPU_HAVE_SEGS)
		for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
			wdt_put_le16(ctx + segs[i].off,
				     (uint16_t)cpu->segs[segs[i].seg].selector);
	if (cpu->have & WDT_CPU_HAVE_GPRS) {
		wdt_put_le32(ctx + WDT_CTX_EFLAGS,
			     (uint32_t)cpu->regs[WDT_RFLAGS]);
		for (int i = 0; i < 16; i++)
			wdt_put_le64(ctx + WDT_CTX_RAX + 8 * i,
				     cpu->regs[order[i]]);
		wdt_put_le64(ctx + WDT_CTX_RIP, cpu->regs[WDT_RIP]);
	}
}

/* Patches covering [va, va+len) page by page; data stays the caller's. */
static int add_virt_patch(struct wdt_crash *c, const struct wdt_kernel *k,
			  uint64_t va, const uint8_t *data, uint32_t len,
			  size_t *cap, struct wdt_err *err)
{
	while (len) {
		uint64_t pa, ps;
		uint32_t n = (uint32_t)(WDT_PAGE_SIZE - (va & WDT_PAGE_MASK));
		if (n > len)
			n = len;
		if (wdt_vtop(&k->vas, va, &pa, &ps, err) < 0)
			return -1;
		if (c->npatches == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			void *p = realloc(c->patches, nc * sizeof(*c->patches));
			if (!p)
				return wdt_err_nomem(err);
			c->patches = p;
			*cap = nc;
		}
		c->patches[c->npatches++] =
		    (struct wdt_dmp_patch){.pa = pa, .len = n, .data = data};
		va += n;
		data += n;
		len -= n;
	}
	return 0;
}

int wdt_crash_build(struct wdt_kernel *k, const struct wdt_kdbg *d,
		    const struct wdt_bugcheck *bc,
		    const struct wdt_crash_opts *o, struct wdt_crash *c,
		    struct wdt_err *err)
{
	struct wdt_image *img = k->img;
	uint8_t *h = c->hdr, kusd[WDT_KUSD_READ];
	size_t cap = 0;
	struct wdt_err e;
	bool crashed = bc->crashed;

	memset(c, 0, sizeof(*c));
	c->context_cpu = -1;
	c->crash_cpu = crashed ? bc->cpu : -1;
	c->context_from = "none";

	/* 'PAGE' everywhere, as the kernel initialises it (dmp64.md §9). */
	for (size_t i = 0; i < WDT_DMP64_HDR_SIZE; i += 4)
		wdt_put_le32(h + i, WDT_DMP_SIG_PAGE);
	wdt_put_le32(h + WDT_DMP64_VALID_DUMP, WDT_DMP_VALID_DU64);
	memset(h + WDT_DMP64_PAD_BUGCHECK, 0, 4);
	memset(h + WDT_DMP64_VERSION_USER, 0, 32);
	memset(h + WDT_DMP64_CONTEXT, 0, WDT_DMP64_CONTEXT_AREA);
	memset(h + WDT_DMP64_EXCEPTION, 0, WDT_DMP64_EXCEPTION_SIZE);
	memset(h + WDT_DMP64_PAD_DUMP_TYPE, 0, 4);
	memset(h + WDT_DMP64_COMMENT, 0, WDT_DMP64_COMMENT_SIZE);
	memset(h + WDT_DMP64_MINIDUMP_FIELDS, 0, 8);
	memset(h + WDT_DMP64_UNUSED1, 0,
	       WDT_DMP64_BOOT_ID + 4 - WDT_DMP64_UNUSED1);

	/* Versions: KdVersionBlock, else KUSER_SHARED_DATA. */
	if (wdt_kernel_read(k, WDT_KUSER_VA, kusd, sizeof(kusd), err) < 0)
		return wdt_err_prefix(err, "KUSER_SHARED_DATA");
	if (d->have_version) {
		wdt_put_le32(h + WDT_DMP64_MAJOR,
			     wdt_le16(d->version + WDT_KDVER_MAJOR));
		wdt_put_le32(h + WDT_DMP64_MINOR,
			     wdt_le16(d->version + WDT_KDVER_MINOR));
		h[WDT_DMP64_KD_SECONDARY_VERSION] =
		    d->version[WDT_KDVER_SECONDARY];
	} else {
		wdt_put_le32(h + WDT_DMP64_MAJOR, WDT_KDVER_MAJOR_FREE);
		wdt_put_le32(h + WDT_DMP64_MINOR,
			     wdt_le32(kusd + WDT_KUSD_NT_BUILD_NUMBER) &
				 0xFFFF);
		h[WDT_DMP64_KD_SECONDARY_VERSION] = 2;
		note(c, "no KdVersionBlock: versions from KUSER_SHARED_DATA");
	}
	wdt_put_le64(h + WDT_DMP64_DTB, k->vas.dtb);

	uint64_t pfn_var = wdt_kdbg_get(d, WDT_KDBG_MM_PFN_DATABASE, 8), pfn;
	if (wdt_kernel_read_u64(k, pfn_var, &pfn, err) < 0)
		return wdt_err_prefix(err, "MmPfnDatabase at 0x%" PRIx64,
				      pfn_var);
	wdt_put_le64(h + WDT_DMP64_PFN_DATABASE, pfn);
	wdt_put_le64(h + WDT_DMP64_PS_LOADED_MODULE_LIST,
		     wdt_kdbg_get(d, WDT_KDBG_PS_LOADED_MODULE_LIST, 8));
	wdt_put_le64(h + WDT_DMP64_PS_ACTIVE_PROCESS_HEAD,
		     wdt_kdbg_get(d, WDT_KDBG_PS_ACTIVE_PROCESS_HEAD, 8));
	wdt_put_le32(h + WDT_DMP64_MACHINE, WDT_MACHINE_AMD64);
	wdt_put_le64(h + WDT_DMP64_KDBG, d->va);

	/* Processors: the KPRCBs KiProcessorBlock lists. */
	c->nprocs = bc->nprocs;
	wdt_put_le32(h + WDT_DMP64_NUMBER_PROCESSORS, c->nprocs);
	if (img->ncpus > c->nprocs)
		note(c, "the image has %zu CPUs but KiProcessorBlock lists %u",
		     img->ncpus, c->nprocs);

	/* Bugcheck: KiBugcheckData, else LIVE_SYSTEM_DUMP. */
	if (crashed) {
		c->crashed = true;
		wdt_put_le32(h + WDT_DMP64_BUGCHECK_CODE, bc->code);
		for (int i = 0; i < 4; i++)
			wdt_put_le64(h + WDT_DMP64_BUGCHECK_PARAM + 8 * i,
				     bc->params[i]);
	} else {
		wdt_put_le32(h + WDT_DMP64_BUGCHECK_CODE,
			     WDT_BUGCHECK_LIVE_SYSTEM_DUMP);
		memset(h + WDT_DMP64_BUGCHECK_PARAM, 0, 32);
	}

	/*
	 * A crash: the context Windows would have written, byte for byte, if
	 * it is one (wdt_crash_context_ok); every context below is checked
	 * the same way before it reaches the header or a KPRCB, so the DMP
	 * carries no registers a debugger cannot use.
	 */
	char why[120];
	bool bc_ok = crashed && bc->have_context &&
		     wdt_crash_context_ok(bc->context, why, sizeof(why));
	if (crashed && bc->have_context && !bc_ok)
		note(c, "the bugcheck CONTEXT of CPU %d is not used: %s",
		     bc->cpu, why);
	if (bc_ok) {
		memcpy(h + WDT_DMP64_CONTEXT, bc->context, WDT_CTX_SIZE);
		c->context_cpu = bc->cpu;
		c->context_from = "bugcheck";
		if (!bc->context_consistent)
			note(c, "%.190s", bc->note);
	} else if (crashed && !bc->have_context) {
		note(c,
		     "crashing processor unknown (%.150s): header context "
		     "from processor 0",
		     bc->note);
	}

	/* Each other CPU's registers where its KPRCB's Context points. */
	size_t nctx = img->ncpus < c->nprocs ? img->ncpus : c->nprocs;
	c->ctx_bufs = calloc(nctx ? nctx : 1, WDT_CTX_SIZE);
	if (!c->ctx_bufs)
		return wdt_err_nomem(err);
	for (size_t i = 0; i < nctx && !o->saved_contexts; i++) {
		const struct wdt_cpu *cpu = &img->cpus[i];
		uint8_t *ctx = c->ctx_bufs + i * WDT_CTX_SIZE;
		uint64_t va;
		if (!(cpu->have & WDT_CPU_HAVE_GPRS))
			continue;
		/* The crashing processor's saved CONTEXT stays; a DMP's
		 * ContextRecord is nobody's live state in a crash. */
		if (crashed &&
		    ((int)i == bc->cpu || (cpu->have & WDT_CPU_SAVED_CONTEXT)))
			continue;
		if (wdt_kdbg_prcb_context(k, d, bc->prcbs[i], &va, &e) < 0 ||
		    !va) {
			note(c, "CPU %zu: no CONTEXT in its KPRCB (%.120s)", i,
			     e.msg);
			continue;
		}
		wdt_crash_context(cpu, ctx);
		if (!wdt_crash_context_ok(ctx, why, sizeof(why))) {
			note(c,
			     "CPU %zu: its state is not written to its "
			     "KPRCB: %s",
			     i, why);
			continue;
		}
		if (add_virt_patch(c, k, va, ctx, WDT_CTX_SIZE, &cap, &e) < 0) {
			note(c, "CPU %zu: CONTEXT at 0x%" PRIx64 ": %.120s", i,
			     va, e.msg);
			continue;
		}
		c->contexts_patched++;
		if (c->context_cpu < 0) {
			c->context_cpu = (int)i;
			c->context_from = "CPU state";
			memcpy(h + WDT_DMP64_CONTEXT, ctx, WDT_CTX_SIZE);
		}
	}
	if (c->context_cpu < 0) {
		/* No CPU state (raw images): the guest's own saved CONTEXT. */
		uint64_t va;
		uint8_t *hc = h + WDT_DMP64_CONTEXT;
		bool read =
		    wdt_kdbg_prcb_context(k, d, bc->prcbs[0], &va, &e) == 0 &&
		    wdt_kernel_read(k, va, hc, WDT_CTX_SIZE, &e) == 0;
		if (read && wdt_crash_context_ok(hc, why, sizeof(why))) {
			c->context_cpu = 0;
			c->context_from = "KPRCB";
		} else if (read) {
			memset(hc, 0, WDT_CTX_SIZE);
			note(c,
			     "no CPU context for the header: CPU 0's KPRCB "
			     "CONTEXT is not used: %s",
			     why);
		} else {
			note(c, "no CPU context for the header");
		}
	}

	/* The decoded block over the encoded one. */
	if (add_virt_patch(c, k, d->va, d->plain, d->size, &cap, err) < 0)
		return wdt_err_prefix(err, "KdDebuggerDataBlock");

	/* A break-instruction exception at the context's RIP, as Windows. */
	uint8_t *x = h + WDT_DMP64_EXCEPTION;
	wdt_put_le32(x + WDT_EXC_CODE, EXCEPTION_BREAKPOINT);
	wdt_put_le32(x + WDT_EXC_FLAGS, EXCEPTION_NONCONTINUABLE);
	wdt_put_le64(x + WDT_EXC_ADDRESS,
		     wdt_le64(h + WDT_DMP64_CONTEXT + WDT_CTX_RIP));

	wdt_put_le64(h + WDT_DMP64_SYSTEM_TIME,
		     wdt_kusd_time(kusd + WDT_KUSD_SYSTEM_TIME));
	wdt_put_le64(h + WDT_DMP64_SYSTEM_UPTIME,
		     wdt_kusd_time(kusd + WDT_KUSD_INTERRUPT_TIME));
	wdt_put_le32(h + WDT_DMP64_PRODUCT_TYPE,
		     wdt_le32(kusd + WDT_KUSD_NT_PRODUCT_TYPE));
	wdt_put_le32(h + WDT_DMP64_SUITE_MASK,
		     wdt_le32(kusd + WDT_KUSD_SUITE_MASK));
	wdt_put_le32(h + WDT_DMP64_ATTRIBUTES, 0);
	wdt_put_le32(h + WDT_DMP64_BOOT_ID,
		     wdt_le32(kusd + WDT_KUSD_NT_MAJOR) >= 10
			 ? wdt_le32(kusd + WDT_KUSD_BOOT_ID)
			 : 0);
	if (o->comment)
		snprintf((char *)h + WDT_DMP64_COMMENT, WDT_DMP64_COMMENT_SIZE,
			 "%s", o->comment);
	return 0;
}

void wdt_crash_free(struct wdt_crash *c)
{
	free(c->patches);
	free(c->ctx_bufs);
	c->patches = NULL;
	c->ctx_bufs = NULL;
}
