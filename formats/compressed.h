/* SPDX-License-Identifier: MIT */
/*
 * Compressed raw images: a gzip or LZ4-frame stream whose decompressed
 * bytes are a flat physical image (offset = physical address). Each is a
 * byte source wrapping a byte source, made seekable by an index built in
 * one decompressing pass on open:
 *  - gzip: checkpoints at deflate block boundaries every WDT_GZ_SPAN bytes
 *    of output, each with the 32 KiB window inflate needs to resume there;
 *  - LZ4 frame: one entry per block; for frames with linked blocks, also
 *    the 64 KiB of history every WDT_LZ4_SPAN bytes.
 * Memory and time costs per GiB are in docs/formats-kdump.md.
 *
 * Hostile streams are bounded: indexing stops with UNSUPPORTED (remedy
 * RATIO) once the decompressed bytes exceed max_ratio times the
 * compressed file (a decompression bomb), and an LZ4 file may hold only
 * WDT_LZ4_FREE_BLOCKS blocks plus one per WDT_LZ4_MIN_BLOCK_FILE bytes of
 * file (32 bytes of index each: ≤ 0.5 × the file beyond 2 MiB; a 64 KiB
 * block of zeros is still 260 bytes). gzip windows are kept deflated.
 */
#ifndef WDT_FORMATS_COMPRESSED_H
#define WDT_FORMATS_COMPRESSED_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/image.h"
#include "core/source.h"

#define WDT_GZ_SPAN (4u << 20)
#define WDT_LZ4_SPAN (16u << 20)
#define WDT_LZ4_MAGIC 0x184D2204u
#define WDT_LZ4_LEGACY_MAGIC 0x184C2102u
#define WDT_LZ4_SKIP_MAGIC 0x184D2A50u /* low 4 bits free */
#define WDT_LZ4_FREE_BLOCKS 65536u
#define WDT_LZ4_MIN_BLOCK_FILE 64u

/*
 * Index inner and return a source of its decompressed bytes. On success
 * the new source owns inner; on failure inner stays the caller's. Reads
 * are serialised by a lock inside (the stream state is shared), and the
 * source says so (src->serial). max_ratio: the decompression-bomb guard
 * above (0: no limit).
 */
struct wdt_source *wdt_gzip_open(struct wdt_source *inner, uint64_t max_ratio,
				 struct wdt_err *err);
struct wdt_source *wdt_lz4_open(struct wdt_source *inner, uint64_t max_ratio,
				struct wdt_err *err);

/* Index facts for `info` (0 when src is not such a source). */
uint64_t wdt_compressed_points(const struct wdt_source *src);
uint64_t wdt_compressed_index_bytes(const struct wdt_source *src);

extern const struct wdt_format wdt_format_raw_gzip;
extern const struct wdt_format wdt_format_raw_lz4;

#endif
