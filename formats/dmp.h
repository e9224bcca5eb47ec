/* SPDX-License-Identifier: MIT */
/*
 * Windows kernel crash dump (.dmp) reader (dmp64.md): 64-bit full
 * (DumpType 1) and bitmap (5, 6, 2) dumps are read; other types and 32-bit
 * 'PAGEDUMP' headers are recognised and described. The pure parsers here
 * are shared by the reader and `wdt verify`.
 */
#ifndef WDT_FORMATS_DMP_H
#define WDT_FORMATS_DMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/image.h"
#include "core/source.h"
#include "formats/dmp_layout.h"

#define WDT_DMP_PAGE_FILL64 0x4547415045474150ull /* "PAGEPAGE" */

/* DUMP_HEADER32 offsets used here (dmp64.md §10) */
#define WDT_DMP32_DTB 0x10u
#define WDT_DMP32_PFN_DATABASE 0x14u
#define WDT_DMP32_PS_LOADED_MODULE_LIST 0x18u
#define WDT_DMP32_PS_ACTIVE_PROCESS_HEAD 0x1Cu
#define WDT_DMP32_MACHINE 0x20u
#define WDT_DMP32_NUMBER_PROCESSORS 0x24u
#define WDT_DMP32_BUGCHECK_CODE 0x28u
#define WDT_DMP32_BUGCHECK_PARAM 0x2Cu
#define WDT_DMP32_PAE 0x5Cu
#define WDT_DMP32_KD_SECONDARY_VERSION 0x5Du
#define WDT_DMP32_KDBG 0x60u
#define WDT_DMP32_PMB 0x64u /* u32 runs, u32 pages, {u32 base, u32 count}[] */
#define WDT_DMP32_PMB_RUNS 0x6Cu
#define WDT_DMP32_MAX_RUNS 86u /* (700 - 8) / 8 */
#define WDT_DMP32_COMMENT 0x820u
#define WDT_DMP32_PRODUCT_TYPE 0xF94u
#define WDT_DMP32_SUITE_MASK 0xF98u
#define WDT_DMP32_SYSTEM_UPTIME 0xFB8u
#define WDT_DMP32_SYSTEM_TIME 0xFC0u

/* Bitmap header sanity limits (LeechCore's, dmp64.md §7). */
#define WDT_DMP_BMP_MAX_BITS 0x7FFFFFFFull
#define WDT_DMP_BMP_MAX_FIRST_PAGE (16ull << 20)

/* RDMP layout at 0x2000 (dmp64.md §7.3), read-only knowledge. */
#define WDT_RDMP_MARKER 0x00u
#define WDT_RDMP_SIGNATURE 0x04u
#define WDT_RDMP_VALID_DUMP 0x08u
#define WDT_RDMP_METADATA_SIZE 0x10u
#define WDT_RDMP_FIRST_PAGE 0x18u

struct wdt_dmp_run {
	uint64_t base_page;
	uint64_t page_count;
};

/*
 * DUMP_HEADER64 (or DUMP_HEADER32 widened) as parsed, without judgement:
 * values are whatever the file holds, 'PAGE' fill included. Runs beyond
 * the header's capacity are not parsed (nruns_raw keeps the field).
 */
struct wdt_dmp_hdr {
	bool is64;
	uint32_t signature, valid_dump;
	uint32_t major, minor;
	uint64_t dtb, pfn_database, ps_loaded_module_list,
	    ps_active_process_head;
	uint32_t machine, nprocs, bugcheck_code;
	uint64_t bugcheck_params[4];
	char version_user[33];
	uint64_t kdbg;
	uint32_t nruns_raw; /* NumberOfRuns as stored */
	uint64_t npages;    /* NumberOfPages as stored */
	unsigned nruns;	    /* runs parsed: min(nruns_raw, capacity) */
	struct wdt_dmp_run runs[WDT_DMP32_MAX_RUNS];
	uint8_t context[WDT_CTX_SIZE]; /* 64-bit only */
	struct {
		uint32_t code, flags, nparams;
		uint64_t record, address;
		uint64_t info[15];
	} exc;
	uint32_t dump_type;
	int64_t required_space;
	int64_t system_time, system_uptime;
	char comment[WDT_DMP64_COMMENT_SIZE + 1]; /* printable ASCII only */
	uint32_t minidump_fields, secondary_data_state;
	uint32_t product_type, suite_mask, writer_status;
	uint8_t kd_secondary_version;
	uint32_t attributes, boot_id;
	bool pae; /* 32-bit only */
};

/* Bitmap dump header at 0x2000 (dmp64.md §7). */
struct wdt_dmp_bitmap {
	uint32_t signature, valid_dump, dump_options;
	uint64_t first_page; /* file offset of the first stored page */
	uint64_t present;    /* TotalPresentPages as stored */
	uint64_t bits;	     /* bits in the bitmap */
	uint64_t bitmap_off; /* file offset of the bitmap (0x2038) */
	uint64_t bitmap_len; /* bytes: ceil(bits / 8) */
};

/*
 * Parse a header from buf (the file's first bytes). Needs 'PAGE' and
 * 'DU64' (0x2000 bytes) or 'DUMP' (0x1000 bytes). UNKNOWN_FORMAT for
 * another signature, TRUNCATED when buf is shorter than the header. Pure.
 */
int wdt_dmp_parse_header(const uint8_t *buf, size_t len, struct wdt_dmp_hdr *h,
			 struct wdt_err *err);

/* Header size for h: 0x2000 (64-bit) or 0x1000. */
uint64_t wdt_dmp_header_size(const struct wdt_dmp_hdr *h);

/* "full", "bitmap full", … or "unknown" for a DumpType value. */
const char *wdt_dmp_type_name(uint32_t dump_type);

/* True for the DumpTypes whose body is the bitmap layout (5, 6, 2). */
bool wdt_dmp_type_is_bitmap(uint32_t dump_type);

/* True when v is the kernel's 'PAGE' fill (dmp64.md §9). */
bool wdt_dmp_unset32(uint32_t v);
bool wdt_dmp_unset64(uint64_t v);

/* True when the CONTEXT bytes are all 'PAGE' fill or all zero. */
bool wdt_dmp_context_unset(const uint8_t ctx[WDT_CTX_SIZE]);

/*
 * Fill cpu (index 0) from an x64 CONTEXT: registers, rflags, segment
 * selectors; have = GPRS|SEGS; source is the given static string.
 */
void wdt_dmp_context_to_cpu(const uint8_t ctx[WDT_CTX_SIZE], const char *source,
			    struct wdt_cpu *cpu);

/*
 * Validate a full dump's run list against the header's capacity:
 * NumberOfRuns not 'PAGE' fill and <= capacity, no zero-length run, no
 * address wrap. On success *pages is the sum of the PageCounts (may differ
 * from h->npages: verify reports that). CORRUPT otherwise. Pure.
 */
int wdt_dmp_check_runs(const struct wdt_dmp_hdr *h, uint64_t *pages,
		       struct wdt_err *err);

/* Parse the bitmap header from buf (bytes at file offset 0x2000). Pure. */
int wdt_dmp_parse_bitmap(const uint8_t *buf, size_t len,
			 struct wdt_dmp_bitmap *b, struct wdt_err *err);

/*
 * Check a bitmap header: 'FDMP'/'SDMP' + 'DUMP', bits <= 0x7FFFFFFF,
 * FirstPage page aligned, <= 16 MiB and after the bitmap, the bitmap
 * itself inside file_size (TRUNCATED), present <= bits. CORRUPT otherwise.
 */
int wdt_dmp_check_bitmap(const struct wdt_dmp_bitmap *b, uint64_t file_size,
			 struct wdt_err *err);

/*
 * Walk the bitmap in src (which b describes and wdt_dmp_check_bitmap
 * accepted): call fn once per maximal run of set bits with its first PFN,
 * its page count and the file offset of its first page (FirstPage + index
 * of the set bit * 4096); fn may be NULL to count only. fn returning -1 stops
 * the walk (its err stands). *popcount (may be NULL) receives the number of set
 * bits. Memory use is one fixed buffer.
 */
typedef int (*wdt_dmp_run_fn)(void *arg, uint64_t pfn, uint64_t npages,
			      uint64_t file_off, struct wdt_err *err);
int wdt_dmp_bitmap_walk(struct wdt_source *src, const struct wdt_dmp_bitmap *b,
			wdt_dmp_run_fn fn, void *arg, uint64_t *popcount,
			struct wdt_err *err);

/*
 * Bytes the body needs: header + NumberOfPages pages (full) or FirstPage
 * + present pages (bitmap, using popcount). 0 when unknown for the type.
 */
uint64_t wdt_dmp_expected_size(const struct wdt_dmp_hdr *h, uint64_t run_pages,
			       const struct wdt_dmp_bitmap *b,
			       uint64_t popcount);

/*
 * Every header field of h by name (what `wdt info` shows for a DMP, and
 * what `wdt convert --json` reports it wrote).
 */
struct wdt_out;
void wdt_dmp_out_header(struct wdt_out *o, const struct wdt_dmp_hdr *h);

/* The parsed header of an open DMP image, or NULL if img is not one. */
const struct wdt_dmp_hdr *wdt_dmp_header(const struct wdt_image *img);

extern const struct wdt_format wdt_format_dmp;

/*
 * A FILETIME as {"utc": "YYYY-MM-DDTHH:MM:SS.fffffffZ", "raw"} and a 100 ns
 * duration as {"text": "Nd HH:MM:SS", "raw"} ("unset" for 'PAGE' fill).
 */
void wdt_dmp_out_time(struct wdt_out *o, const char *key, const char *label,
		      int64_t ft);
/* The same texts into buf. */
void wdt_dmp_time_str(int64_t ft, char *buf, size_t len);
void wdt_dmp_uptime_str(int64_t v, char *buf, size_t len);
void wdt_dmp_out_uptime(struct wdt_out *o, const char *key, const char *label,
			int64_t v);

#endif
