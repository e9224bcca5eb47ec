/* SPDX-License-Identifier: MIT */
/*
 * kdump-compressed ("KDUMP   ", diskdump) reader: makedumpfile's and QEMU's
 * `dump-guest-memory -z/-l/-s` files, flattened or not (kdump.md). Offsets
 * are the x86-64 (LP64, little-endian) layout of kdump.md §2–§5.
 */
#ifndef WDT_FORMATS_KDUMP_H
#define WDT_FORMATS_KDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/image.h"

/* disk_dump_header (kdump.md §2) */
#define WDT_KDUMP_SIG "KDUMP   "
#define WDT_KDUMP_SIG_OLD "DISKDUMP"
#define WDT_KDUMP_SIG_LEN 8u
#define WDT_KDH_VERSION 0x008u /* i32 header_version */
#define WDT_KDH_UTSNAME 0x00Cu /* char[6][65] */
#define WDT_KDH_UTS_FIELD 65u
#define WDT_KDH_UTS_RELEASE 0x08Eu   /* utsname.release */
#define WDT_KDH_UTS_MACHINE 0x110u   /* utsname.machine */
#define WDT_KDH_STATUS 0x1A8u	     /* u32 */
#define WDT_KDH_BLOCK_SIZE 0x1ACu    /* i32 */
#define WDT_KDH_SUB_HDR_SIZE 0x1B0u  /* i32, blocks */
#define WDT_KDH_BITMAP_BLOCKS 0x1B4u /* u32, both bitmaps */
#define WDT_KDH_MAX_MAPNR 0x1B8u     /* u32 */
#define WDT_KDH_NR_CPUS 0x1CCu	     /* i32 */
#define WDT_KDH_SIZE 0x1D0u
#define WDT_KDH32_BLOCK_SIZE 0x1A0u /* 32-bit producers (not supported) */

/* kdump_sub_header (kdump.md §3), at offset block_size */
#define WDT_KSH_PHYS_BASE 0x00u
#define WDT_KSH_DUMP_LEVEL 0x08u
#define WDT_KSH_SPLIT 0x0Cu
#define WDT_KSH_START_PFN 0x10u
#define WDT_KSH_END_PFN 0x18u
#define WDT_KSH_OFF_VMCOREINFO 0x20u
#define WDT_KSH_SIZE_VMCOREINFO 0x28u
#define WDT_KSH_OFF_NOTE 0x30u
#define WDT_KSH_SIZE_NOTE 0x38u
#define WDT_KSH_OFF_ERASEINFO 0x40u
#define WDT_KSH_SIZE_ERASEINFO 0x48u
#define WDT_KSH_START_PFN_64 0x50u
#define WDT_KSH_END_PFN_64 0x58u
#define WDT_KSH_MAX_MAPNR_64 0x60u
#define WDT_KSH_SIZE 0x68u

/* page_desc (kdump.md §5) */
#define WDT_KPD_OFFSET 0x00u /* i64 */
#define WDT_KPD_SIZE 0x08u   /* u32 */
#define WDT_KPD_FLAGS 0x0Cu  /* u32 */
#define WDT_KPD_LEN 24u

/* status / page_desc.flags bits (kdump.md §2.1) */
#define WDT_KDUMP_ZLIB 0x01u
#define WDT_KDUMP_LZO 0x02u
#define WDT_KDUMP_SNAPPY 0x04u
#define WDT_KDUMP_INCOMPLETE 0x08u
#define WDT_KDUMP_EXCL_VMEMMAP 0x10u
#define WDT_KDUMP_ZSTD 0x20u
#define WDT_KDUMP_COMP_MASK                                                    \
	(WDT_KDUMP_ZLIB | WDT_KDUMP_LZO | WDT_KDUMP_SNAPPY | WDT_KDUMP_ZSTD)

/* Limits wdt imposes on untrusted headers. */
#define WDT_KDUMP_MIN_BLOCK 512u
#define WDT_KDUMP_MAX_BLOCK (256u * 1024)
#define WDT_KDUMP_MAX_PFN (1ull << 33) /* 1 GiB of bitmap */

/* The parsed headers plus the layout derived from them. */
struct wdt_kdump_hdr {
	char signature[WDT_KDUMP_SIG_LEN + 1];
	int32_t header_version;
	char release[WDT_KDH_UTS_FIELD + 1];
	char machine[WDT_KDH_UTS_FIELD + 1];
	uint32_t status;
	int32_t block_size;
	int32_t sub_hdr_size;
	uint32_t bitmap_blocks;
	uint32_t max_mapnr;
	int32_t nr_cpus;

	/* sub-header; fields the version lacks stay 0 */
	uint64_t phys_base;
	int32_t dump_level;
	int32_t split;
	uint64_t start_pfn, end_pfn;
	uint64_t offset_vmcoreinfo, size_vmcoreinfo;
	uint64_t offset_note, size_note;
	uint64_t offset_eraseinfo, size_eraseinfo;
	uint64_t start_pfn_64, end_pfn_64, max_mapnr_64;

	/* derived by wdt_kdump_check() */
	uint64_t max_pfn;    /* PFNs covered by the bitmap */
	uint64_t bitmap_off; /* the bitmap wdt uses (2nd if there are two) */
	uint64_t bitmap_len; /* bytes of it that cover max_pfn */
	bool two_bitmaps;
	uint64_t desc_off; /* page_desc array */
	uint64_t first_pfn,
	    end_pfn_used; /* PFNs this file has descriptors for */
};

/* Parse the disk_dump_header from buf (>= WDT_KDH_SIZE bytes). Pure. */
int wdt_kdump_parse_header(const uint8_t *buf, size_t len,
			   struct wdt_kdump_hdr *h, struct wdt_err *err);

/*
 * Parse the sub-header fields header_version defines from buf (len may be
 * less than WDT_KSH_SIZE for old versions). Pure.
 */
int wdt_kdump_parse_sub(const uint8_t *buf, size_t len, struct wdt_kdump_hdr *h,
			struct wdt_err *err);

/*
 * Validate a parsed header against the size of the (rearranged) file and
 * derive the layout. Shared by the reader and `verify`.
 */
int wdt_kdump_check(struct wdt_kdump_hdr *h, uint64_t file_size,
		    struct wdt_err *err);

/* "zlib", "lzo", "snappy", "zstd", "none" or "mixed" for status bits. */
const char *wdt_kdump_comp_name(uint32_t flags);

/*
 * Reads: wdt_image_read_phys() (cached, under a lock) and the per-thread
 * page readers of core/image.h (wdt_image_reader_*): pages outside the
 * bitmap read as zero (flagged), a listed page without data is NO_DATA,
 * corrupt data CORRUPT naming the PFN and the file offset.
 */
extern const struct wdt_format wdt_format_kdump;

#endif
