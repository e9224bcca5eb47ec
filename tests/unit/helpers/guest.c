/* SPDX-License-Identifier: MIT */
#include "guest.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/bytes.h"
#include "formats/dmp_layout.h"
#include "symbols/bugcheck.h"
#include "symbols/pe.h"
#include "symbols/triage.h"
#include "testutil.h"

const uint64_t wdt_tg_params[4] = {0x700, 2, 0, TG_DRV + 0x1111};

#define TG_PROCS (TG_KB + 0x1500) /* an empty PsActiveProcessHead */
#define TG_NAME_RVA 0x3F00u	  /* the export name we give the DLL */

int wdt_tg_init(struct wdt_test_guest *g, const char *dll_path)
{
	memset(g, 0, sizeof(*g));
	g->dll_path = dll_path;
	g->m = malloc(TG_MEM);
	return g->m ? 0 : -1;
}

void wdt_tg_free(struct wdt_test_guest *g)
{
	free(g->m);
	g->m = NULL;
}

uint8_t *wdt_tg_at(struct wdt_test_guest *g, uint64_t va)
{
	if (va >= TG_KB && va < TG_KB + 0x600000)
		return g->m + TG_KPA + (va - TG_KB);
	fail_msg("VA 0x%llx is not mapped", (unsigned long long)va);
	return NULL;
}

void wdt_tg_put_ctx(struct wdt_test_guest *g, unsigned i, uint64_t rip,
		    uint64_t rcx, uint64_t rdx)
{
	uint8_t *c = wdt_tg_at(g, TG_CTX(i));

	memset(c, 0, WDT_CTX_SIZE);
	wdt_put_le32(c + WDT_CTX_FLAGS, WDT_CTX_ALL);
	wdt_put_le32(c + WDT_CTX_MXCSR, WDT_MXCSR_DEFAULT);
	wdt_put_le32(c + WDT_CTX_FLT_MXCSR, WDT_MXCSR_DEFAULT);
	wdt_put_le16(c + WDT_CTX_SEG_CS, 0x10);
	wdt_put_le64(c + WDT_CTX_RIP, rip);
	wdt_put_le64(c + WDT_CTX_RCX, rcx);
	wdt_put_le64(c + WDT_CTX_RDX, rdx);
	wdt_put_le64(c + WDT_CTX_R8, wdt_tg_params[1]);
	wdt_put_le64(c + WDT_CTX_R9, wdt_tg_params[2]);
	wdt_put_le64(c + WDT_CTX_RSP, TG_STACK);
	wdt_put_le64(c + WDT_CTX_RAX, 0xAAAA0000 + i);
}

void wdt_tg_crash_on(struct wdt_test_guest *g, unsigned cpu, uint32_t code)
{
	wdt_put_le64(wdt_tg_at(g, TG_BUGDATA), code);
	for (int i = 0; i < 4; i++)
		wdt_put_le64(wdt_tg_at(g, TG_BUGDATA + 8 + 8 * i),
			     wdt_tg_params[i]);
	wdt_tg_put_ctx(g, cpu, g->kbe, code, wdt_tg_params[0]);
}

void wdt_tg_add_cpus(struct wdt_test_guest *g)
{
	struct wdt_err e = {0};

	for (unsigned i = 0; i < TG_NCPUS; i++) {
		struct wdt_cpu c = {.index = i};
		c.have = WDT_CPU_HAVE_GPRS | WDT_CPU_HAVE_SEGS;
		c.regs[WDT_RIP] = TG_KB + 0x900 + i;
		c.regs[WDT_RSP] = TG_STACK - 0x1000;
		c.segs[WDT_CS].selector = 0x10;
		assert_int_equal(wdt_image_add_cpu(g->img, &c, &e), 0);
	}
}

static void put_ustr(struct wdt_test_guest *g, uint64_t us, uint64_t buf,
		     const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		wdt_put_le16(wdt_tg_at(g, buf) + 2 * i, (uint8_t)s[i]);
	wdt_put_le16(wdt_tg_at(g, us), (uint16_t)(2 * n));
	wdt_put_le16(wdt_tg_at(g, us) + 2, (uint16_t)(2 * n + 2));
	wdt_put_le64(wdt_tg_at(g, us) + 8, buf);
}

static void link2(struct wdt_test_guest *g, uint64_t a, uint64_t b)
{
	wdt_put_le64(wdt_tg_at(g, a), b);     /* a.Flink */
	wdt_put_le64(wdt_tg_at(g, b) + 8, a); /* b.Blink */
}

/*
 * The DLL as the loader lays it out, at TG_KB: headers, .rdata (exports)
 * and .pdata; .text is left out (the page holds KiBugcheckData and the
 * other variables). Its export name becomes ntoskrnl.exe.
 */
static void map_dll(struct wdt_test_guest *g, const uint8_t *file, size_t len)
{
	const struct wdt_pe_headers *h = wdt_pe_headers(g->k.pe);
	const struct wdt_pe_section *s;
	size_t n;

	assert_true(h->size_of_headers <= len && h->size_of_image <= 0x100000);
	memcpy(wdt_tg_at(g, TG_KB), file, h->size_of_headers);
	s = wdt_pe_sections(g->k.pe, &n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s[i].name, ".rdata") && strcmp(s[i].name, ".pdata"))
			continue;
		assert_true((uint64_t)s[i].raw_off + s[i].raw_size <= len);
		memcpy(wdt_tg_at(g, TG_KB + s[i].rva), file + s[i].raw_off,
		       s[i].raw_size < s[i].vsize ? s[i].raw_size : s[i].vsize);
	}
	uint32_t ex = h->dirs[WDT_PE_DIR_EXPORT].rva;
	assert_true(ex != 0);
	wdt_put_le32(wdt_tg_at(g, TG_KB + ex + 0x0C), TG_NAME_RVA);
	memcpy(wdt_tg_at(g, TG_KB + TG_NAME_RVA), "ntoskrnl.exe", 13);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

void wdt_tg_build(struct wdt_test_guest *g)
{
	uint8_t *m = g->m, *file;
	uint32_t rva;
	size_t flen = 0;
	struct wdt_err e = {0};

	memset(m, 0, TG_MEM);
	memset(&g->k, 0, sizeof(g->k));
	g->dll_src = wdt_source_open_file(g->dll_path, &e);
	if (!g->dll_src)
		fail_msg("%s", e.msg);
	g->k.pe = wdt_pe_open_source(g->dll_src, &e);
	if (!g->k.pe)
		fail_msg("%s", e.msg);
	file = slurp(g->dll_path, &flen);
	assert_non_null(file);
	map_dll(g, file, flen);
	free(file);

	/* Kernel half: TG_KB.. three 2 MiB pages; KUSER_SHARED_DATA. */
	wdt_put_le64(m + TG_PML4 + 8 * ((TG_KB >> 39) & 511), TG_PDPT_K | 3);
	wdt_put_le64(m + TG_PDPT_K + 8 * ((TG_KB >> 30) & 511), TG_PD_K | 3);
	for (unsigned i = 0; i < 3; i++)
		wdt_put_le64(m + TG_PD_K + 8 * i,
			     (TG_KPA + 0x200000ull * i) | 0x83);
	wdt_put_le64(m + TG_PML4 + 8 * ((WDT_KUSER_VA >> 39) & 511),
		     TG_PDPT_U | 3);
	wdt_put_le64(m + TG_PDPT_U, TG_PD_U | 3);
	wdt_put_le64(m + TG_PD_U, TG_UPA | 0x83);
	wdt_put_le32(m + TG_UPA + WDT_KUSD_NT_MAJOR, 10);
	wdt_put_le32(m + TG_UPA + WDT_KUSD_NT_BUILD_NUMBER, 19045);
	wdt_put_le32(m + TG_UPA + WDT_KUSD_SYSTEM_TIME, 0x11223344);
	wdt_put_le32(m + TG_UPA + WDT_KUSD_INTERRUPT_TIME, 0x5566);
	wdt_put_le32(m + TG_UPA + WDT_KUSD_NT_PRODUCT_TYPE, 1);
	wdt_put_le32(m + TG_UPA + WDT_KUSD_SUITE_MASK, 0x110);
	wdt_put_le32(m + TG_UPA + WDT_KUSD_BOOT_ID, 7);

	/* KDBG (decoded, as wdt_kdbg_find leaves it). */
	uint8_t *p = g->plain;
	memset(p, 0, sizeof(g->plain));
	wdt_put_le64(p + WDT_KDBG_FLINK, TG_DBGLIST);
	wdt_put_le64(p + WDT_KDBG_BLINK, TG_DBGLIST);
	wdt_put_le32(p + WDT_KDBG_OWNER_TAG, WDT_KDBG_TAG);
	wdt_put_le32(p + WDT_KDBG_SIZE, sizeof(g->plain));
	wdt_put_le64(p + WDT_KDBG_KERN_BASE, TG_KB);
	wdt_put_le64(p + WDT_KDBG_KI_BUGCHECK_DATA, TG_BUGDATA);
	wdt_put_le64(p + WDT_KDBG_KI_PROCESSOR_BLOCK, TG_KPB);
	wdt_put_le64(p + WDT_KDBG_MM_PFN_DATABASE, TG_PFNVAR);
	wdt_put_le64(p + WDT_KDBG_PS_LOADED_MODULE_LIST, TG_MODLIST);
	wdt_put_le64(p + WDT_KDBG_PS_ACTIVE_PROCESS_HEAD, TG_PROCS);
	wdt_put_le16(p + WDT_KDBG_OFFSET_PRCB_CONTEXT, TG_CTX_OFF);
	wdt_put_le16(p + WDT_KDBG_OFFSET_PRCB_NUMBER, 0x24);
	wdt_put_le16(p + WDT_KDBG_OFFSET_PRCB_CURRENT_THREAD, 8);
	wdt_put_le16(p + WDT_KDBG_OFFSET_KTHREAD_APC_PROCESS, 0xB8);
	memcpy(wdt_tg_at(g, TG_KDBG_VA), p, sizeof(g->plain));
	wdt_put_le64(wdt_tg_at(g, TG_DBGLIST), TG_KDBG_VA);
	wdt_put_le64(wdt_tg_at(g, TG_DBGLIST + 8), TG_KDBG_VA);
	wdt_put_le64(wdt_tg_at(g, TG_PFNVAR), TG_PFN_VALUE);
	link2(g, TG_PROCS, TG_PROCS);

	/* Processors: KPCR self, KPRCB Number, Context, CurrentThread. */
	for (unsigned i = 0; i < TG_NCPUS; i++) {
		uint64_t kpcr = TG_PRCB(i) - WDT_KPCR_PRCB;
		wdt_put_le64(wdt_tg_at(g, TG_KPB + 8 * i), TG_PRCB(i));
		wdt_put_le64(wdt_tg_at(g, kpcr + 0x18), kpcr);
		wdt_put_le16(wdt_tg_at(g, TG_PRCB(i) + 0x24), (uint16_t)i);
		wdt_put_le64(wdt_tg_at(g, TG_PRCB(i) + TG_CTX_OFF), TG_CTX(i));
		wdt_put_le64(wdt_tg_at(g, TG_PRCB(i) + 8), TG_THREAD(i));
		wdt_put_le64(wdt_tg_at(g, TG_THREAD(i) + 0xB8), TG_EPROC);
		wdt_tg_put_ctx(g, i, TG_KB + 0x777, 0x1234, 0);
	}
	memcpy(wdt_tg_at(g, TG_EPROC + 0x5A8), "victim.exe", 11);
	wdt_put_le64(wdt_tg_at(g, TG_EPROC + 0x440), 0x1234);

	/* Modules: the kernel, then a driver (a ring with Blinks). */
	link2(g, TG_MODLIST, TG_LDR0);
	link2(g, TG_LDR0, TG_LDR1);
	link2(g, TG_LDR1, TG_MODLIST);
	wdt_put_le64(wdt_tg_at(g, TG_LDR0) + WDT_LDR_DLL_BASE, TG_KB);
	wdt_put_le32(wdt_tg_at(g, TG_LDR0) + WDT_LDR_SIZE_OF_IMAGE, 0x200000);
	put_ustr(g, TG_LDR0 + WDT_LDR_BASE_DLL_NAME, TG_POOL + 0x51000,
		 "ntoskrnl.exe");
	wdt_put_le64(wdt_tg_at(g, TG_LDR1) + WDT_LDR_DLL_BASE, TG_DRV);
	wdt_put_le32(wdt_tg_at(g, TG_LDR1) + WDT_LDR_SIZE_OF_IMAGE, 0x10000);
	put_ustr(g, TG_LDR1 + WDT_LDR_BASE_DLL_NAME, TG_POOL + 0x51100,
		 "victim.sys");

	/* Calls before the return addresses; the stack of the crash. */
	wdt_tg_at(g, TG_CALLER)[-5] = 0xE8;
	wdt_tg_at(g, TG_DRV_RET)[-5] = 0xE8;
	wdt_put_le64(wdt_tg_at(g, TG_STACK), TG_CALLER);
	wdt_put_le64(wdt_tg_at(g, TG_STACK + 0x10), TG_DRV_JUNK);
	wdt_put_le64(wdt_tg_at(g, TG_STACK + 0x48), TG_DRV_RET);

	g->img = wdt_test_open_mem(m, TG_MEM, "raw", &e);
	if (!g->img)
		fail_msg("%s", e.msg);
	g->k.img = g->img;
	g->k.vas.img = g->img;
	g->k.vas.dtb = TG_PML4;
	g->k.base_va = TG_KB;
	g->k.size_of_image = wdt_pe_headers(g->k.pe)->size_of_image;
	assert_int_equal(wdt_pe_export_rva(g->k.pe, "KeBugCheckEx", &rva, &e),
			 1);
	g->kbe = TG_KB + rva;
	memset(&g->d, 0, sizeof(g->d));
	g->d.va = TG_KDBG_VA;
	g->d.size = sizeof(g->plain);
	g->d.plain = g->plain;
}

void wdt_tg_done(struct wdt_test_guest *g)
{
	wdt_attempts_free(&g->k.log);
	wdt_pe_close(g->k.pe);
	wdt_source_close(g->dll_src);
	g->k.pe = NULL;
	g->dll_src = NULL;
	wdt_image_close(g->img);
	g->img = NULL;
}
