/* SPDX-License-Identifier: MIT */
/*
 * libvirt save images (qemu-migration.md §5): `virsh save`, `managedsave`,
 * `virsh dump` without --memory-only. A 92-byte header in the writer's
 * byte order, the domain XML, then the QEMU migration stream, raw or as
 * the compressor's own container. The stream is read by formats/qevm.c
 * through a window source (raw) or a gzip seek index (gzip).
 */
#ifndef WDT_FORMATS_LIBVIRT_H
#define WDT_FORMATS_LIBVIRT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/image.h"
#include "core/source.h"

#define WDT_LIBVIRT_HDR 92u
#define WDT_LIBVIRT_MAX_DATA (64u << 20) /* XML + cookie + padding */

struct wdt_libvirt_hdr {
	bool partial;	 /* "LibvirtQemudPart": the save did not finish */
	bool big_endian; /* fields were byte-swapped */
	uint32_t version, data_len, was_running, format, cookie_offset;
	uint64_t body_off; /* 92 + data_len */
	/* From the domain XML ("" / 0 when absent), printable ASCII. */
	char name[256], uuid[64], machine[64], arch[32];
	uint64_t memory_kib, current_memory_kib;
	unsigned vcpus;
};

/* Read and check the header and XML at the start of src. */
int wdt_libvirt_read_header(struct wdt_source *src, struct wdt_libvirt_hdr *h,
			    struct wdt_err *err);

/* "raw", "gzip", "bzip2", "xz", "lzop", "zstd", "sparse", or NULL. */
const char *wdt_libvirt_comp_name(uint32_t format);

extern const struct wdt_format wdt_format_libvirt;

#endif
