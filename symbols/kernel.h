/* SPDX-License-Identifier: MIT */
/*
 * Finding the Windows kernel in an image (windows-kernel.md §5, §6): the
 * directory table base (kernel CR3), then ntoskrnl's base address, PE and
 * PDB identity. Every method tried is recorded with its outcome, so the
 * commands can explain what they did (-v) and what failed.
 */
#ifndef WDT_SYMBOLS_KERNEL_H
#define WDT_SYMBOLS_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/err.h"
#include "core/image.h"
#include "core/paging.h"
#include "symbols/pdb.h"
#include "symbols/pe.h"
#include "symbols/symstore.h"

#define WDT_KUSER_VA 0xFFFFF78000000000ull
#define WDT_KERNEL_RANGE_START 0xFFFFF80000000000ull
#define WDT_KERNEL_RANGE_END 0xFFFFF80800000000ull /* exclusive */
#define WDT_KPCR_SELF 0x018u			   /* KPCR.Self */
#define WDT_KPCR_PRCB 0x180u			   /* KPCR.Prcb */
/*
 * The kernel scan tests at most this many MZ pages for a kernel PE (each
 * a PE parse), then gives up with WDT_REMEDY_KERNEL_BASE: a Windows kernel
 * range holds a few hundred images, hostile tables could offer millions.
 */
#define WDT_KERNEL_SCAN_MAX_MZ 4096u
/* The first canonical address of the upper half (kernel space). */
#define WDT_KERNEL_HALF_START 0xFFFF800000000000ull

/* KUSER_SHARED_DATA offsets (windows-kernel.md §4). */
#define WDT_KUSD_INTERRUPT_TIME 0x008u	/* KSYSTEM_TIME */
#define WDT_KUSD_SYSTEM_TIME 0x014u	/* KSYSTEM_TIME */
#define WDT_KUSD_NT_BUILD_NUMBER 0x260u /* Windows 10+ */
#define WDT_KUSD_NT_PRODUCT_TYPE 0x264u
#define WDT_KUSD_NT_MAJOR 0x26Cu
#define WDT_KUSD_NT_MINOR 0x270u
#define WDT_KUSD_BOOT_ID 0x2C4u /* Windows 10+ */
#define WDT_KUSD_SUITE_MASK 0x2D0u
#define WDT_KUSD_READ 0x2D8u /* bytes covering the fields above */

/* A KSYSTEM_TIME's value: High1Time:LowPart. */
static inline uint64_t wdt_kusd_time(const uint8_t *p)
{
	return (uint64_t)wdt_le32(p + 4) << 32 | wdt_le32(p);
}

/* One method tried, for -v and for the error when nothing works. */
struct wdt_attempt {
	char step[16];	 /* "dtb", "kernel", "kdbg", "version", "pdb" */
	char method[40]; /* e.g. "cpu-cr3", "low-stub" */
	bool ok;
	char *detail; /* malloc'd, never NULL (static "" when memory ran
		       * short); freed by wdt_attempts_free() */
};

struct wdt_attempts {
	struct wdt_attempt v[48];
	size_t n;
};

void wdt_attempt_add(struct wdt_attempts *a, const char *step,
		     const char *method, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

void wdt_attempts_free(struct wdt_attempts *a);

/* "method (detail); method (detail)" of the failed attempts of step. */
void wdt_attempts_summary(const struct wdt_attempts *a, const char *step,
			  char *buf, size_t len);

struct wdt_kernel_opts {
	uint64_t dtb; /* forced directory table base; 0: search */
	bool have_dtb;
	uint64_t base; /* forced kernel base VA; 0: search */
	bool have_base;
	const char *pdb_file; /* --pdb: KPRCB offsets come from it */
	bool quick;	      /* skip the whole-memory PML4 scan */
};

struct wdt_kernel {
	struct wdt_image *img;
	struct wdt_vas vas;
	const char *dtb_method; /* static string */
	int dtb_cpu;		/* CPU it came from, or -1 */
	int self_map_index;	/* PML4 slot pointing at itself, or -1 */
	uint64_t max_pa;	/* end of the highest run */

	uint64_t base_va, base_pa;
	const char *base_method; /* static string */
	int base_cpu;
	struct wdt_pe *pe; /* read through guest virtual memory */
	void *pe_ctx;
	uint32_t size_of_image, timestamp;
	bool have_cv;
	struct wdt_pe_codeview cv;
	char pdb_key[WDT_SYMSTORE_KEY_MAX];
	char exe_key[32];
	bool scan_capped; /* the scan stopped at WDT_KERNEL_SCAN_MAX_MZ */

	struct wdt_attempts log;
};

/*
 * Find the directory table base and the kernel. On failure err says which
 * methods were tried and why each failed; k->log has the details either
 * way. k must be released with wdt_kernel_free() in both cases.
 */
int wdt_kernel_find(struct wdt_image *img, const struct wdt_kernel_opts *o,
		    struct wdt_kernel *k, struct wdt_err *err);
void wdt_kernel_free(struct wdt_kernel *k);

/* Symbol-store URL of the kernel's PDB (needs have_cv). */
void wdt_kernel_pdb_url(const struct wdt_kernel *k, char *buf, size_t len);

/* True if the VA is inside the kernel image. */
bool wdt_kernel_contains(const struct wdt_kernel *k, uint64_t va);

/* Read guest virtual memory through the kernel's directory. */
int wdt_kernel_read(const struct wdt_kernel *k, uint64_t va, void *buf,
		    size_t len, struct wdt_err *err);
int wdt_kernel_read_u64(const struct wdt_kernel *k, uint64_t va, uint64_t *v,
			struct wdt_err *err);

/*
 * Find and open the kernel's PDB following opts (symstore.h). The PDB
 * must match the image's RSDS GUID/age unless opts->force. On success
 * *pdb is open and *path (malloc'd) names it. When it is not found and
 * miss is not NULL, *miss says why, where to download it and where to
 * save it (wdt_symstore_lookup); the caller frees it.
 */
int wdt_kernel_open_pdb(const struct wdt_kernel *k,
			const struct wdt_symopts *opts, struct wdt_pdb **pdb,
			char **path, struct wdt_symstore_miss *miss,
			struct wdt_err *err);

/*
 * Does dtb look like a Windows kernel directory: it maps
 * KUSER_SHARED_DATA, whose version fields are plausible?
 */
bool wdt_kernel_dtb_ok(struct wdt_image *img, uint64_t dtb, char *why,
		       size_t len);

#endif
