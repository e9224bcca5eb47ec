/* SPDX-License-Identifier: MIT */
/*
 * A hand-built Windows-like guest in memory, shared by the symbols unit
 * tests (test_triage, test_kdbg, test_crashhdr, test_dmpcheck): 10 MiB of
 * physical memory whose kernel half maps TG_KB.. onto TG_KPA.. with three
 * 2 MiB pages, KUSER_SHARED_DATA, a cleartext KDBG (TG_KDBG_VA, in the
 * test DLL's .data page) whose list heads, KiProcessorBlock and
 * MmPfnDatabase pass wdt_kdbg's consistency checks, three processors with
 * KPRCB, saved CONTEXT, thread and process, a module list (the kernel,
 * then a driver) and a stack. The kernel PE is the real lld-link test DLL
 * (tools/mkpdb-test.sh; KeBugCheckEx in its exports and .pdata): opened
 * from its file as g->k.pe, and also laid out in guest memory at TG_KB
 * (headers, .rdata, .pdata) with its export name changed to ntoskrnl.exe,
 * so wdt_kernel_find accepts it there.
 */
#ifndef WDT_TEST_GUEST_H
#define WDT_TEST_GUEST_H

#include <stdint.h>

#include "core/image.h"
#include "core/source.h"
#include "symbols/kdbg.h"
#include "symbols/kernel.h"

#define TG_MEM (10u << 20)
#define TG_PML4 0x1000u
#define TG_PDPT_K 0x2000u
#define TG_PD_K 0x3000u
#define TG_PDPT_U 0x4000u
#define TG_PD_U 0x5000u
#define TG_KPA 0x200000u /* TG_KB  -> kernel */
#define TG_DPA 0x400000u /* TG_DRV -> driver */
#define TG_PPA 0x600000u /* TG_POOL -> pool */
#define TG_UPA 0x800000u /* KUSER_SHARED_DATA */
#define TG_KB 0xFFFFF80000000000ull
#define TG_DRV (TG_KB + 0x200000)
#define TG_POOL (TG_KB + 0x400000)

#define TG_BUGDATA (TG_KB + 0x1000)
#define TG_KPB (TG_KB + 0x1100)
#define TG_PFNVAR (TG_KB + 0x1200)
#define TG_MODLIST (TG_KB + 0x1300)
#define TG_DBGLIST (TG_KB + 0x1400) /* KDBG Header.List's other end */
#define TG_KDBG_VA (TG_KB + 0x3000) /* the test DLL's .data */
#define TG_KDBG_SIZE 0x340u
#define TG_PFN_VALUE 0xFFFFFA8000000000ull
#define TG_CALLER (TG_KB + 0x500)     /* a return address in the kernel */
#define TG_DRV_RET (TG_DRV + 0x1234)  /* a return address in the driver */
#define TG_DRV_JUNK (TG_DRV + 0x2000) /* in the driver, not after a call */
#define TG_PRCB(i) (TG_POOL + 0x1000ull * (i))
#define TG_CTX(i) (TG_POOL + 0x10000 + 0x1000ull * (i))
#define TG_THREAD(i) (TG_POOL + 0x20000 + 0x100ull * (i))
#define TG_EPROC (TG_POOL + 0x30000)
#define TG_STACK (TG_POOL + 0x40000 - 0x100)
#define TG_LDR0 (TG_POOL + 0x50000)
#define TG_LDR1 (TG_POOL + 0x50100)
#define TG_NCPUS 3u
#define TG_CTX_OFF 0x100u /* KDBG OffsetPrcbContext */

/* Bugcheck parameters crash_on writes (P4 points into the driver). */
extern const uint64_t wdt_tg_params[4];

struct wdt_test_guest {
	uint8_t *m;		     /* TG_MEM bytes of physical memory */
	uint8_t plain[TG_KDBG_SIZE]; /* the KDBG as decoded */
	struct wdt_image *img;	     /* raw image over m */
	struct wdt_kernel k;	     /* located by hand: DTB, base, PE */
	struct wdt_kdbg d;	     /* the block, plain borrowed */
	struct wdt_source *dll_src;
	const char *dll_path;
	uint64_t kbe; /* KeBugCheckEx in the guest */
};

/* Allocate g->m; dll_path is the test DLL (must outlive g). -1 if short. */
int wdt_tg_init(struct wdt_test_guest *g, const char *dll_path);
/* (Re)build the guest and open g->img, g->k, g->d over it. */
void wdt_tg_build(struct wdt_test_guest *g);
/* Close what wdt_tg_build opened (not g->m). */
void wdt_tg_done(struct wdt_test_guest *g);
void wdt_tg_free(struct wdt_test_guest *g);

/* The bytes of kernel-half VA va (fails the test when not mapped). */
uint8_t *wdt_tg_at(struct wdt_test_guest *g, uint64_t va);
/* A valid saved CONTEXT of CPU i with these Rip, Rcx and Rdx. */
void wdt_tg_put_ctx(struct wdt_test_guest *g, unsigned i, uint64_t rip,
		    uint64_t rcx, uint64_t rdx);
/* KiBugcheckData holds code and wdt_tg_params; CPU cpu's saved CONTEXT is
 * KeBugCheckEx's. */
void wdt_tg_crash_on(struct wdt_test_guest *g, unsigned cpu, uint32_t code);
/* One live CPU state per processor in g->img (Rip TG_KB + 0x900 + i). */
void wdt_tg_add_cpus(struct wdt_test_guest *g);

#endif
