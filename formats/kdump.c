/* SPDX-License-Identifier: MIT */
/*
 * kdump-compressed reader (kdump.md). Open: unwrap the flattened layout if
 * present (formats/flat.c), parse and validate the headers, load the
 * bitmap that says which pages the file holds (the 2nd one when there are
 * two, as crash and libkdumpfile do), build prefix popcounts, turn the set
 * bits into physical runs, parse the ELF notes. Reads resolve a page's
 * descriptor (run start index + offset, or prefix popcount) and decode it
 * with the one decode() routine: read_phys keeps pages in a small cache
 * keyed by their data offset under a lock (so QEMU's one shared zero page
 * is decompressed once); the per-thread page readers the writers use read
 * descriptors and data a unit at a time, without the lock.
 */
#include "formats/kdump.h"

#include <inttypes.h>
#include <lzo/lzo1x.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "core/out.h"
#include "formats/elf.h"
#include "formats/flat.h"

#define CHUNK_WORDS 8u /* prefix count every 512 bits */
#define CACHE_SLOTS 256u

/*
 * Decompression contexts, made once: zlib and zstd contexts are costly to
 * set up per page. The image's read path keeps one under its lock, each
 * page reader its own.
 */
struct dctx {
	z_stream z;
	bool z_ok;
	ZSTD_DCtx *zd;
};

struct kdump {
	struct wdt_kdump_hdr h;
	bool flat;
	uint32_t bs;
	uint64_t *bits; /* dumpable bitmap, max_pfn bits */
	uint64_t nwords;
	uint64_t *prefix;   /* set bits before each chunk */
	uint64_t ndesc;	    /* set bits in all */
	uint64_t file_size; /* the file itself, before unflattening */

	pthread_mutex_t lock; /* cache */
	uint64_t *ckey;	      /* data offset + 1 per slot; 0 = empty */
	uint8_t *cdata;	      /* nslots pages */
	uint64_t nslots;      /* CACHE_SLOTS, fewer for a small file */
	uint8_t *cbuf;	      /* compressed data (under lock) */
	struct dctx dc;	      /* under lock */
};

/* ---- header parsing and validation (shared with verify) ---- */

static void copy_str(char *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && src[i]; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[i] = '\0';
}

static bool sane_block(uint32_t bs)
{
	return bs >= WDT_KDUMP_MIN_BLOCK && bs <= WDT_KDUMP_MAX_BLOCK &&
	       (bs & (bs - 1)) == 0;
}

static uint32_t be32_at(const uint8_t *p)
{
	return wdt_be32(p);
}

int wdt_kdump_parse_header(const uint8_t *buf, size_t len,
			   struct wdt_kdump_hdr *h, struct wdt_err *err)
{
	memset(h, 0, sizeof(*h));
	if (len < WDT_KDH_SIZE)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "kdump header: %zu bytes, need %u", len,
				   WDT_KDH_SIZE);
	if (memcmp(buf, WDT_KDUMP_SIG, WDT_KDUMP_SIG_LEN) != 0 &&
	    memcmp(buf, WDT_KDUMP_SIG_OLD, WDT_KDUMP_SIG_LEN) != 0)
		return wdt_err_set(err, WDT_UNKNOWN_FORMAT,
				   "kdump header: no 'KDUMP' or 'DISKDUMP' "
				   "signature");
	copy_str(h->signature, buf, WDT_KDUMP_SIG_LEN);
	copy_str(h->release, buf + WDT_KDH_UTS_RELEASE, WDT_KDH_UTS_FIELD);
	copy_str(h->machine, buf + WDT_KDH_UTS_MACHINE, WDT_KDH_UTS_FIELD);
	h->header_version = (int32_t)wdt_le32(buf + WDT_KDH_VERSION);
	h->status = wdt_le32(buf + WDT_KDH_STATUS);
	h->block_size = (int32_t)wdt_le32(buf + WDT_KDH_BLOCK_SIZE);
	h->sub_hdr_size = (int32_t)wdt_le32(buf + WDT_KDH_SUB_HDR_SIZE);
	h->bitmap_blocks = wdt_le32(buf + WDT_KDH_BITMAP_BLOCKS);
	h->max_mapnr = wdt_le32(buf + WDT_KDH_MAX_MAPNR);
	h->nr_cpus = (int32_t)wdt_le32(buf + WDT_KDH_NR_CPUS);

	uint32_t bs = (uint32_t)h->block_size;
	if (!sane_block(bs)) {
		/* Say why when we can tell: byte order or 32-bit layout. */
		if (sane_block(be32_at(buf + WDT_KDH_BLOCK_SIZE)))
			return wdt_err_set(err, WDT_UNSUPPORTED,
					   "kdump header: big-endian dump "
					   "(machine '%s') is not supported",
					   h->machine);
		if (sane_block(wdt_le32(buf + WDT_KDH32_BLOCK_SIZE)))
			return wdt_err_set(err, WDT_UNSUPPORTED,
					   "kdump header: 32-bit header layout "
					   "(machine '%s') is not supported",
					   h->machine);
		return wdt_err_set(err, WDT_CORRUPT,
				   "kdump header: block_size %" PRId32
				   " is not a power of two in [%u, %u]",
				   h->block_size, WDT_KDUMP_MIN_BLOCK,
				   WDT_KDUMP_MAX_BLOCK);
	}
	if (h->header_version < 0 || h->header_version > 64)
		return wdt_err_set(err, WDT_CORRUPT,
				   "kdump header: header_version %" PRId32
				   " is not plausible",
				   h->header_version);
	return 0;
}

int wdt_kdump_parse_sub(const uint8_t *buf, size_t len, struct wdt_kdump_hdr *h,
			struct wdt_err *err)
{
	int v = h->header_version;
	size_t need = v >= 6   ? WDT_KSH_SIZE
		      : v >= 5 ? WDT_KSH_SIZE_ERASEINFO + 8
		      : v >= 4 ? WDT_KSH_SIZE_NOTE + 8
		      : v >= 3 ? WDT_KSH_SIZE_VMCOREINFO + 8
		      : v >= 2 ? WDT_KSH_END_PFN + 8
		      : v >= 1 ? WDT_KSH_DUMP_LEVEL + 4
			       : 0;

	if (len < need)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "kdump sub-header: %zu bytes, version %d "
				   "needs %zu",
				   len, v, need);
	if (v >= 1) {
		h->phys_base = wdt_le64(buf + WDT_KSH_PHYS_BASE);
		h->dump_level = (int32_t)wdt_le32(buf + WDT_KSH_DUMP_LEVEL);
	}
	if (v >= 2) {
		h->split = (int32_t)wdt_le32(buf + WDT_KSH_SPLIT);
		h->start_pfn = wdt_le64(buf + WDT_KSH_START_PFN);
		h->end_pfn = wdt_le64(buf + WDT_KSH_END_PFN);
	}
	if (v >= 3) {
		h->offset_vmcoreinfo = wdt_le64(buf + WDT_KSH_OFF_VMCOREINFO);
		h->size_vmcoreinfo = wdt_le64(buf + WDT_KSH_SIZE_VMCOREINFO);
	}
	if (v >= 4) {
		h->offset_note = wdt_le64(buf + WDT_KSH_OFF_NOTE);
		h->size_note = wdt_le64(buf + WDT_KSH_SIZE_NOTE);
	}
	if (v >= 5) {
		h->offset_eraseinfo = wdt_le64(buf + WDT_KSH_OFF_ERASEINFO);
		h->size_eraseinfo = wdt_le64(buf + WDT_KSH_SIZE_ERASEINFO);
	}
	if (v >= 6) {
		h->start_pfn_64 = wdt_le64(buf + WDT_KSH_START_PFN_64);
		h->end_pfn_64 = wdt_le64(buf + WDT_KSH_END_PFN_64);
		h->max_mapnr_64 = wdt_le64(buf + WDT_KSH_MAX_MAPNR_64);
	}
	return 0;
}

int wdt_kdump_check(struct wdt_kdump_hdr *h, uint64_t size, struct wdt_err *err)
{
	uint64_t bs = (uint64_t)(uint32_t)h->block_size;

	if (!sane_block((uint32_t)bs))
		return wdt_err_set(err, WDT_CORRUPT,
				   "kdump header: bad block_size %" PRId32,
				   h->block_size);
	if (h->sub_hdr_size < 0 || (uint64_t)h->sub_hdr_size > size / bs)
		return wdt_err_set(err, WDT_CORRUPT,
				   "kdump header: sub_hdr_size %" PRId32
				   " blocks does not fit the file (0x%" PRIx64
				   " bytes)",
				   h->sub_hdr_size, size);
	h->max_pfn = h->max_mapnr;
	if (h->header_version >= 6 && h->max_mapnr_64)
		h->max_pfn = h->max_mapnr_64;
	if (h->max_pfn == 0)
		return wdt_err_set(err, WDT_CORRUPT,
				   "kdump header: max_mapnr is 0");
	if (h->max_pfn > WDT_KDUMP_MAX_PFN)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "kdump header: max_mapnr 0x%" PRIx64
				   " is beyond the 0x%llx pages wdt accepts",
				   h->max_pfn, WDT_KDUMP_MAX_PFN);
	if (h->bitmap_blocks == 0)
		return wdt_err_set(err, WDT_CORRUPT,
				   "kdump header: bitmap_blocks is 0");
	h->bitmap_off = (1 + (uint64_t)h->sub_hdr_size) * bs;
	uint64_t area = (uint64_t)h->bitmap_blocks * bs;
	uint64_t one = (h->max_pfn + 7) / 8; /* bytes per bitmap */
	uint64_t one_blocks = (one + bs - 1) / bs;
	if (!wdt_in_bounds(size, h->bitmap_off, area))
		return wdt_err_set(
		    err, WDT_TRUNCATED,
		    "kdump bitmap: %" PRIu32 " blocks at 0x%" PRIx64
		    " run past the end of the file (0x%" PRIx64 " bytes)",
		    h->bitmap_blocks, h->bitmap_off, size);
	/* Room for two → partial dump: use the 2nd (kdump.md §4). */
	h->two_bitmaps = h->bitmap_blocks >= 2 * one_blocks;
	if (h->two_bitmaps) {
		h->bitmap_off += (uint64_t)(h->bitmap_blocks / 2) * bs;
	} else if (area < one) {
		return wdt_err_set(err, WDT_CORRUPT,
				   "kdump bitmap: %" PRIu32
				   " blocks cover 0x%" PRIx64
				   " pages but max_mapnr is 0x%" PRIx64,
				   h->bitmap_blocks, area * 8, h->max_pfn);
	}
	h->bitmap_len = one;
	h->desc_off = (1 + (uint64_t)h->sub_hdr_size) * bs + area;
	h->first_pfn = 0;
	h->end_pfn_used = h->max_pfn;
	if (h->split) {
		uint64_t s =
		    h->header_version >= 6 ? h->start_pfn_64 : h->start_pfn;
		uint64_t e =
		    h->header_version >= 6 ? h->end_pfn_64 : h->end_pfn;
		if (s > e || e > h->max_pfn)
			return wdt_err_set(err, WDT_CORRUPT,
					   "kdump sub-header: split range "
					   "[0x%" PRIx64 ", 0x%" PRIx64
					   ") outside max_mapnr 0x%" PRIx64,
					   s, e, h->max_pfn);
		h->first_pfn = s;
		h->end_pfn_used = e;
	}
	return 0;
}

const char *wdt_kdump_comp_name(uint32_t flags)
{
	switch (flags & WDT_KDUMP_COMP_MASK) {
	case 0:
		return "none";
	case WDT_KDUMP_ZLIB:
		return "zlib";
	case WDT_KDUMP_LZO:
		return "lzo";
	case WDT_KDUMP_SNAPPY:
		return "snappy";
	case WDT_KDUMP_ZSTD:
		return "zstd";
	default:
		return "mixed";
	}
}

/* ---- probe ---- */

static int kdump_probe(const uint8_t *head, size_t len, uint64_t size)
{
	(void)size;
	if (len >= WDT_KDUMP_SIG_LEN &&
	    (memcmp(head, WDT_KDUMP_SIG, WDT_KDUMP_SIG_LEN) == 0 ||
	     memcmp(head, WDT_KDUMP_SIG_OLD, WDT_KDUMP_SIG_LEN) == 0))
		return 100;
	if (!wdt_flat_probe(head, len))
		return 0;
	/* The first record normally writes the kdump header at offset 0. */
	const uint8_t *r = head + WDT_FLAT_HDR_SIZE;
	if (len >= WDT_FLAT_HDR_SIZE + WDT_FLAT_REC_HDR + WDT_KDUMP_SIG_LEN &&
	    wdt_be64(r) == 0 &&
	    memcmp(r + WDT_FLAT_REC_HDR, WDT_KDUMP_SIG, WDT_KDUMP_SIG_LEN) == 0)
		return 100;
	return 50; /* flattened, content unknown: let open() say */
}

/* ---- bitmap, prefix counts, runs ---- */

static bool bit(const struct kdump *kd, uint64_t pfn)
{
	return pfn < kd->h.max_pfn && (kd->bits[pfn >> 6] >> (pfn & 63)) & 1;
}

/* Descriptor index of pfn (which must be dumpable). */
static uint64_t desc_index(const struct kdump *kd, uint64_t pfn)
{
	uint64_t w = pfn >> 6, c = w / CHUNK_WORDS, k = kd->prefix[c];

	for (uint64_t i = c * CHUNK_WORDS; i < w; i++)
		k += (uint64_t)__builtin_popcountll(kd->bits[i]);
	k += (uint64_t)__builtin_popcountll(kd->bits[w] &
					    ((1ull << (pfn & 63)) - 1));
	return k;
}

/* Clear the bits of PFNs [lo, hi) (a split part's outside, or the slack
 * past max_pfn in the last word). */
static void clear_bits(struct kdump *kd, uint64_t lo, uint64_t hi)
{
	while (lo < hi) {
		uint64_t w = lo >> 6, b = lo & 63;
		uint64_t n = hi - lo < 64 - b ? hi - lo : 64 - b;
		uint64_t m = n == 64 ? ~0ull : ((1ull << n) - 1) << b;
		kd->bits[w] &= ~m;
		lo += n;
	}
}

#define BITMAP_STEP (1u << 20) /* bitmap bytes read per call */

static int load_bitmap(struct wdt_image *img, struct kdump *kd,
		       struct wdt_err *err)
{
	const struct wdt_kdump_hdr *h = &kd->h;
	uint64_t nbytes = h->bitmap_len, nchunks;
	uint64_t area = (uint64_t)h->bitmap_blocks * kd->bs;
	uint8_t *raw;

	/*
	 * The bitmap is stored in the file, so a header asking for more than
	 * the file holds is corrupt. Checked against the file itself: a
	 * flattened file's rearranged size can be far larger than the file
	 * (gaps read as zero), and the bitmap is what sizes our allocation.
	 */
	if (area > kd->file_size)
		return wdt_err_set(
		    err, WDT_CORRUPT,
		    "kdump bitmap: %" PRIu32 " blocks (0x%" PRIx64
		    " bytes, max_mapnr 0x%" PRIx64
		    ") are larger than the file (0x%" PRIx64 " bytes)",
		    h->bitmap_blocks, area, h->max_pfn, kd->file_size);
	kd->nwords = (h->max_pfn + 63) / 64;
	nchunks = (kd->nwords + CHUNK_WORDS - 1) / CHUNK_WORDS;
	kd->bits = calloc(kd->nwords, 8);
	kd->prefix = calloc(nchunks + 1, 8);
	raw = malloc(nbytes < BITMAP_STEP ? nbytes : BITMAP_STEP);
	if (!kd->bits || !kd->prefix || !raw) {
		free(raw);
		return wdt_err_nomem(err);
	}
	/* Streamed: the bitmap is in memory once, as 64-bit words. */
	for (uint64_t at = 0; at < nbytes; at += BITMAP_STEP) {
		size_t n = nbytes - at < BITMAP_STEP ? (size_t)(nbytes - at)
						     : BITMAP_STEP;
		if (wdt_source_read(img->src, raw, n, h->bitmap_off + at, err) <
		    0) {
			free(raw);
			return wdt_err_prefix(err, "kdump bitmap");
		}
		for (size_t i = 0; i < n; i++)
			kd->bits[(at + i) / 8] |= (uint64_t)raw[i]
						  << (8 * ((at + i) % 8));
	}
	free(raw);
	/* Bits past max_pfn and, for a split part, outside its range are
	 * pages this file has no descriptors for. */
	clear_bits(kd, h->max_pfn, kd->nwords * 64);
	clear_bits(kd, 0, h->first_pfn);
	clear_bits(kd, h->end_pfn_used, h->max_pfn);
	uint64_t k = 0;
	for (uint64_t c = 0; c < nchunks; c++) {
		kd->prefix[c] = k;
		for (uint64_t i = c * CHUNK_WORDS;
		     i < (c + 1) * CHUNK_WORDS && i < kd->nwords; i++)
			k += (uint64_t)__builtin_popcountll(kd->bits[i]);
	}
	kd->prefix[nchunks] = k;
	kd->ndesc = k;
	return 0;
}

static int add_runs(struct wdt_image *img, struct kdump *kd,
		    struct wdt_err *err)
{
	uint64_t p = 0, k = 0, bs = kd->bs;

	while (p < kd->h.max_pfn) {
		uint64_t w = kd->bits[p >> 6] >> (p & 63);
		if (!w) {
			p = (p | 63) + 1;
			continue;
		}
		p += (uint64_t)__builtin_ctzll(w);
		uint64_t start = p;
		for (;;) {
			uint64_t x = ~(kd->bits[p >> 6] >> (p & 63));
			uint64_t left = 64 - (p & 63);
			uint64_t ones = x ? (uint64_t)__builtin_ctzll(x) : left;
			if (ones > left)
				ones = left;
			p += ones;
			if (ones < left || p >= kd->h.max_pfn)
				break;
		}
		if (p > kd->h.max_pfn)
			p = kd->h.max_pfn;
		if (wdt_image_add_run(img, start * bs, (p - start) * bs, k,
				      err) < 0)
			return -1;
		k += p - start;
	}
	return 0;
}

/* ---- one page ---- */

/* zlib's state is small and common; zstd's (~96 KiB) is made on first use. */
static int dctx_init(struct dctx *c)
{
	memset(c, 0, sizeof(*c));
	c->z_ok = inflateInit(&c->z) == Z_OK;
	return c->z_ok ? 0 : -1;
}

static void dctx_free(struct dctx *c)
{
	if (c->z_ok)
		inflateEnd(&c->z);
	c->z_ok = false;
	ZSTD_freeDCtx(c->zd);
	c->zd = NULL;
}

/* The one decompression routine: n bytes at in to exactly bs at out. */
static int decode(struct dctx *c, uint32_t method, const uint8_t *in,
		  uint32_t n, uint8_t *out, uint32_t bs, const char **why)
{
	switch (method) {
	case WDT_KDUMP_ZLIB: {
		if (inflateReset(&c->z) != Z_OK) {
			*why = "zlib reset failed";
			return -1;
		}
		c->z.next_in = (Bytef *)(uintptr_t)in;
		c->z.avail_in = n;
		c->z.next_out = out;
		c->z.avail_out = bs;
		int rc = inflate(&c->z, Z_FINISH);
		if (rc == Z_STREAM_END && c->z.total_out == bs)
			return 0;
		if (rc == Z_STREAM_END)
			*why = "inflates to less than a page";
		else if (rc == Z_BUF_ERROR && !c->z.avail_out)
			*why = "inflates past a page";
		else if (rc == Z_MEM_ERROR)
			*why = "out of memory";
		else
			*why = "bad zlib stream";
		return -1;
	}
	case WDT_KDUMP_LZO: {
		lzo_uint dl = bs;
		if (lzo1x_decompress_safe(in, n, out, &dl, NULL) != LZO_E_OK) {
			*why = "bad LZO1X data";
			return -1;
		}
		if (dl != bs) {
			*why = "LZO data is not one page";
			return -1;
		}
		return 0;
	}
	case WDT_KDUMP_SNAPPY: {
		size_t dl;
		if (snappy_uncompressed_length((const char *)in, n, &dl) !=
			SNAPPY_OK ||
		    dl != bs) {
			*why = "snappy length is not one page";
			return -1;
		}
		if (snappy_uncompress((const char *)in, n, (char *)out, &dl) !=
			SNAPPY_OK ||
		    dl != bs) {
			*why = "bad snappy data";
			return -1;
		}
		return 0;
	}
	case WDT_KDUMP_ZSTD: {
		if (!c->zd && !(c->zd = ZSTD_createDCtx())) {
			*why = "out of memory for a zstd context";
			return -1;
		}
		size_t r = ZSTD_decompressDCtx(c->zd, out, bs, in, n);
		if (ZSTD_isError(r)) {
			*why = ZSTD_getErrorName(r);
			return -1;
		}
		if (r != bs) {
			*why = "zstd frame is not one page";
			return -1;
		}
		return 0;
	}
	}
	*why = "unknown compression";
	return -1;
}

struct desc {
	uint64_t off;
	uint32_t size, flags;
};

static int parse_desc(struct wdt_image *img, const struct kdump *kd,
		      uint64_t pfn, const uint8_t *b, struct desc *d,
		      struct wdt_err *err);

static int read_desc(struct wdt_image *img, const struct kdump *kd,
		     uint64_t pfn, uint64_t k, struct desc *d,
		     struct wdt_err *err)
{
	uint8_t b[WDT_KPD_LEN];
	uint64_t at = kd->h.desc_off + k * WDT_KPD_LEN;

	if (!wdt_in_bounds(img->src->size, at, WDT_KPD_LEN)) {
		if (kd->h.status & WDT_KDUMP_INCOMPLETE)
			return wdt_err_set(err, WDT_NO_DATA,
					   "PFN 0x%" PRIx64
					   ": page missing (incomplete dump)",
					   pfn);
		return wdt_err_set(err, WDT_TRUNCATED,
				   "PFN 0x%" PRIx64 ": page descriptor %" PRIu64
				   " at 0x%" PRIx64
				   " lies past the end of the file",
				   pfn, k, at);
	}
	if (wdt_source_read(img->src, b, sizeof(b), at, err) < 0)
		return wdt_err_prefix(err, "PFN 0x%" PRIx64 ": descriptor",
				      pfn);
	return parse_desc(img, kd, pfn, b, d, err);
}

/* Descriptor bytes b of pfn into d, checked against the file. */
static int parse_desc(struct wdt_image *img, const struct kdump *kd,
		      uint64_t pfn, const uint8_t *b, struct desc *d,
		      struct wdt_err *err)
{
	int64_t off = (int64_t)wdt_le64(b + WDT_KPD_OFFSET);
	d->size = wdt_le32(b + WDT_KPD_SIZE);
	d->flags = wdt_le32(b + WDT_KPD_FLAGS);
	d->off = (uint64_t)off;
	if (off == 0)
		return wdt_err_set(err, WDT_NO_DATA,
				   "PFN 0x%" PRIx64
				   ": page data missing (incomplete dump)",
				   pfn);
	if (off < 0 || !wdt_in_bounds(img->src->size, d->off, d->size))
		return wdt_err_set(err, WDT_CORRUPT,
				   "PFN 0x%" PRIx64 ": descriptor points at "
				   "0x%" PRIx64 "+0x%" PRIx32
				   ", outside the file (0x%" PRIx64 " bytes)",
				   pfn, d->off, d->size, img->src->size);
	uint32_t m = d->flags & WDT_KDUMP_COMP_MASK;
	if (m & (m - 1))
		return wdt_err_set(err, WDT_CORRUPT,
				   "PFN 0x%" PRIx64
				   ": descriptor flags 0x%" PRIx32
				   " name several compressions",
				   pfn, d->flags);
	if (m ? (d->size == 0 || d->size > kd->bs) : d->size != kd->bs)
		return wdt_err_set(err, WDT_CORRUPT,
				   "PFN 0x%" PRIx64 ": stored size 0x%" PRIx32
				   " at file offset 0x%" PRIx64
				   " is impossible for a 0x%" PRIx32
				   "-byte %s page",
				   pfn, d->size, d->off, kd->bs,
				   m ? wdt_kdump_comp_name(m) : "uncompressed");
	return 0;
}

/*
 * Page data of d into out: the stored bytes at in (NULL: read them into
 * cbuf, which holds a block), decoded with c.
 */
static int load_data(struct wdt_image *img, const struct kdump *kd,
		     struct dctx *c, uint64_t pfn, const struct desc *d,
		     const uint8_t *in, uint8_t *out, uint8_t *cbuf,
		     struct wdt_err *err)
{
	uint32_t m = d->flags & WDT_KDUMP_COMP_MASK;
	const char *why = NULL;

	if (!in) {
		uint8_t *to = m ? cbuf : out;
		if (wdt_source_read(img->src, to, m ? d->size : kd->bs, d->off,
				    err) < 0)
			return wdt_err_prefix(err, "PFN 0x%" PRIx64, pfn);
		in = to;
	}
	if (!m) {
		if (in != out)
			memcpy(out, in, kd->bs);
		return 0;
	}
	if (decode(c, m, in, d->size, out, kd->bs, &why) < 0)
		return wdt_err_set(
		    err, WDT_CORRUPT,
		    "PFN 0x%" PRIx64 ": %s data at file offset "
		    "0x%" PRIx64 " (0x%" PRIx32 " bytes) is corrupt: %s",
		    pfn, wdt_kdump_comp_name(m), d->off, d->size, why);
	return 0;
}

/* The cached page for pfn (descriptor k); valid while the lock is held. */
static const uint8_t *cached_page(struct wdt_image *img, struct kdump *kd,
				  uint64_t pfn, uint64_t k, struct wdt_err *err)
{
	struct desc d;

	/* The cache is made on the first read: opening stays cheap. */
	if (!kd->cdata) {
		/* a page per block of file at most: small files (fuzzing,
		 * tests) get a small cache */
		kd->nslots = img->src->size / kd->bs;
		if (kd->nslots > CACHE_SLOTS)
			kd->nslots = CACHE_SLOTS;
		if (kd->nslots == 0)
			kd->nslots = 1;
		kd->ckey = calloc(kd->nslots, sizeof(*kd->ckey));
		kd->cdata = malloc((size_t)kd->nslots * kd->bs);
		kd->cbuf = malloc(kd->bs);
		if (!kd->ckey || !kd->cdata || !kd->cbuf) {
			free(kd->ckey);
			free(kd->cdata);
			free(kd->cbuf);
			kd->ckey = NULL;
			kd->cdata = kd->cbuf = NULL;
			wdt_err_nomem(err);
			return NULL;
		}
	}
	if (read_desc(img, kd, pfn, k, &d, err) < 0)
		return NULL;
	uint64_t slot = (d.off / 8 * 0x9E3779B97F4A7C15ull >> 32) % kd->nslots;
	uint8_t *page = kd->cdata + slot * kd->bs;
	if (kd->ckey[slot] == d.off + 1)
		return page;
	kd->ckey[slot] = 0;
	if (load_data(img, kd, &kd->dc, pfn, &d, NULL, page, kd->cbuf, err) < 0)
		return NULL;
	kd->ckey[slot] = d.off + 1;
	return page;
}

static int kdump_read(struct wdt_image *img, const struct wdt_run *run,
		      uint64_t pa, void *buf, size_t len, struct wdt_err *err)
{
	struct kdump *kd = img->priv;
	uint8_t *p = buf;
	uint64_t bs = kd->bs;
	int rc = 0;

	pthread_mutex_lock(&kd->lock);
	while (len > 0) {
		uint64_t pfn = pa / bs, in = pa % bs;
		uint64_t k = run->file_off + (pfn - run->pa / bs);
		const uint8_t *page = cached_page(img, kd, pfn, k, err);
		if (!page) {
			rc = -1;
			break;
		}
		size_t n = bs - in < len ? (size_t)(bs - in) : len;
		memcpy(p, page + in, n);
		p += n;
		pa += n;
		len -= n;
	}
	pthread_mutex_unlock(&kd->lock);
	return rc;
}

/* ---- the page reader (one per thread) ---- */

/*
 * A reader takes UNIT pages at a time: it reads their descriptors with
 * one pread and their page data through a window of up to a unit's worth
 * of blocks (the data of consecutive PFNs is consecutive in files QEMU and
 * makedumpfile write), so a page costs no system call of its own; pages
 * whose data lies before the window (QEMU's shared zero page) come from a
 * few slots the reader keeps. Anything unusual (descriptors past the end
 * of the file) takes the page-at-a-time path, which says what is wrong
 * with the page. Blocks other than 4 KiB go through the image's locked
 * read path (wdt_image_read_pages).
 */
#define UNIT 256u
#define BACK 8u /* slots for data before the window */

struct reader {
	struct wdt_image *img;
	struct kdump *kd;
	uint8_t *desc; /* UNIT descriptors */
	uint8_t *win;  /* UNIT blocks of file data (win_cap bytes) */
	size_t win_cap;
	uint64_t win_off, win_len;
	uint64_t back_key[BACK]; /* data offset + 1 */
	uint8_t *back;		 /* BACK decoded pages */
	uint8_t *cbuf;		 /* one block (slow path) */
	struct desc zero;	 /* data known to decode to zeros */
	bool zero_known;
	struct dctx dc;
};

static void kdump_reader_free(void *arg)
{
	struct reader *r = arg;

	if (!r)
		return;
	free(r->desc);
	free(r->win);
	free(r->back);
	free(r->cbuf);
	dctx_free(&r->dc);
	free(r);
}

static void *kdump_reader_new(struct wdt_image *img, struct wdt_err *err)
{
	struct kdump *kd = img->priv;
	struct reader *r = calloc(1, sizeof(*r));

	if (!r) {
		wdt_err_nomem(err);
		return NULL;
	}
	r->img = img;
	r->kd = kd;
	if (kd->bs != WDT_PAGE_SIZE)
		return r; /* wdt_image_read_pages needs nothing */
	r->desc = malloc(UNIT * WDT_KPD_LEN);
	/* window_at never reads more than the file holds */
	r->win_cap = (size_t)UNIT * kd->bs;
	if (r->win_cap > img->src->size)
		r->win_cap = img->src->size ? (size_t)img->src->size : 1;
	r->win = malloc(r->win_cap);
	r->back = malloc((size_t)BACK * kd->bs);
	r->cbuf = malloc(kd->bs);
	if (dctx_init(&r->dc) < 0 || !r->desc || !r->win || !r->back ||
	    !r->cbuf) {
		kdump_reader_free(r);
		wdt_err_nomem(err);
		return NULL;
	}
	return r;
}

/* The bytes of d: from the window, refilled from d.off when d lies past
 * it; NULL when d lies before it (the caller uses the back slots). */
static const uint8_t *window_at(struct reader *r, const struct desc *d,
				uint64_t left, struct wdt_err *err)
{
	struct wdt_source *src = r->img->src;

	if (d->off >= r->win_off && d->off + d->size <= r->win_off + r->win_len)
		return r->win + (d->off - r->win_off);
	if (d->off < r->win_off)
		return NULL;
	/* The rest of this unit's data, if it is consecutive. */
	uint64_t len = left * r->kd->bs;
	if (len > src->size - d->off)
		len = src->size - d->off;
	if (len > r->win_cap)
		len = r->win_cap;
	if (wdt_source_read(src, r->win, (size_t)len, d->off, err) < 0)
		return NULL;
	r->win_off = d->off;
	r->win_len = len;
	return r->win;
}

static bool same_desc(const struct desc *a, const struct desc *b)
{
	return a->off == b->off && a->size == b->size && a->flags == b->flags;
}

/* One page from its descriptor into out. */
static int window_page(struct reader *r, uint64_t pfn, const struct desc *d,
		       uint64_t left, uint8_t *out, struct wdt_err *err)
{
	struct kdump *kd = r->kd;

	if (d->off < r->win_off) {
		unsigned slot = (unsigned)(d->off / 8 % BACK);
		uint8_t *page = r->back + (size_t)slot * kd->bs;
		if (r->back_key[slot] != d->off + 1) {
			r->back_key[slot] = 0;
			if (load_data(r->img, kd, &r->dc, pfn, d, NULL, page,
				      r->cbuf, err) < 0)
				return -1;
			r->back_key[slot] = d->off + 1;
		}
		memcpy(out, page, kd->bs);
		return 0;
	}
	const uint8_t *in = window_at(r, d, left, err);
	if (!in)
		return wdt_err_prefix(err, "PFN 0x%" PRIx64, pfn);
	return load_data(r->img, kd, &r->dc, pfn, d, in, out, NULL, err);
}

/*
 * n (<= UNIT) dumpable pages from first into out, zero flags as in
 * wdt_image_reader_read(). Data once found to decode to zeros (QEMU points
 * every zero page at one shared copy) is not read again.
 */
static int unit_pages(struct reader *r, uint64_t first, uint64_t n,
		      uint8_t *out, uint8_t *zero, struct wdt_err *e)
{
	struct wdt_image *img = r->img;
	struct kdump *kd = r->kd;
	uint64_t k = desc_index(kd, first);
	uint64_t at = kd->h.desc_off + k * WDT_KPD_LEN;
	bool batch = wdt_in_bounds(img->src->size, at, n * WDT_KPD_LEN);

	if (batch && wdt_source_read(img->src, r->desc, (size_t)n * WDT_KPD_LEN,
				     at, e) < 0)
		return wdt_err_prefix(e, "PFN 0x%" PRIx64 ": descriptors",
				      first);
	r->win_off = r->win_len = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t pfn = first + i;
		uint8_t *page = out + i * kd->bs;
		struct desc d;
		int rc = batch ? parse_desc(img, kd, pfn,
					    r->desc + i * WDT_KPD_LEN, &d, e)
			       : read_desc(img, kd, pfn, k + i, &d, e);
		if (rc < 0)
			return -1;
		if (r->zero_known && same_desc(&d, &r->zero)) {
			if (zero)
				zero[i] = 1;
			else
				memset(page, 0, kd->bs);
			continue;
		}
		rc = batch ? window_page(r, pfn, &d, n - i, page, e)
			   : load_data(img, kd, &r->dc, pfn, &d, NULL, page,
				       r->cbuf, e);
		if (rc < 0)
			return -1;
		bool z = wdt_all_zero(page, kd->bs);
		if (z) {
			r->zero = d;
			r->zero_known = true;
		}
		if (zero)
			zero[i] = z;
	}
	return 0;
}

static int kdump_reader_read(void *arg, uint64_t pa, size_t npages, void *buf,
			     uint8_t *zero, struct wdt_err *err)
{
	struct reader *r = arg;
	struct kdump *kd = r->kd;
	uint8_t *out = buf;
	uint64_t pfn = pa / WDT_PAGE_SIZE, end = pfn + npages;

	if (kd->bs != WDT_PAGE_SIZE)
		return wdt_image_read_pages(r->img, pa, npages, buf, zero, err);
	/* Runs are the bitmap's set bits: walk the bits directly. */
	while (pfn < end) {
		size_t i = (size_t)(pfn - pa / WDT_PAGE_SIZE), n = 0;
		bool in = bit(kd, pfn);
		while (pfn + n < end && n < UNIT && bit(kd, pfn + n) == in)
			n++;
		if (!in) {
			if (zero)
				memset(zero + i, 1, n);
			else
				memset(out + i * WDT_PAGE_SIZE, 0,
				       n * WDT_PAGE_SIZE);
		} else if (unit_pages(r, pfn, n, out + i * WDT_PAGE_SIZE,
				      zero ? zero + i : NULL, err) < 0) {
			return -1;
		}
		pfn += n;
	}
	return 0;
}

/* ---- notes ---- */

static int load_notes(struct wdt_image *img, struct kdump *kd,
		      struct wdt_err *err)
{
	const struct wdt_kdump_hdr *h = &kd->h;

	if (h->header_version >= 4 && h->size_note) {
		if (h->size_note > WDT_NOTES_MAX ||
		    !wdt_in_bounds(img->src->size, h->offset_note,
				   h->size_note))
			return wdt_err_set(err, WDT_CORRUPT,
					   "kdump notes: 0x%" PRIx64
					   " bytes at 0x%" PRIx64
					   " lie outside the file",
					   h->size_note, h->offset_note);
		uint8_t *buf = malloc(h->size_note);
		if (!buf)
			return wdt_err_nomem(err);
		int rc = wdt_source_read(img->src, buf, h->size_note,
					 h->offset_note, err);
		if (rc == 0)
			rc = wdt_elf_parse_notes(img, buf, h->size_note,
						 h->offset_note, err);
		free(buf);
		if (rc < 0)
			return wdt_err_prefix(err, "kdump notes");
	}
	/* Version 3 has VMCOREINFO only through the sub-header. */
	if (h->header_version >= 3 && h->size_vmcoreinfo) {
		for (size_t i = 0; i < img->nnotes; i++)
			if (strcmp(img->notes[i].name, "VMCOREINFO") == 0)
				return 0;
		if (!wdt_in_bounds(img->src->size, h->offset_vmcoreinfo,
				   h->size_vmcoreinfo))
			return wdt_err_set(
			    err, WDT_CORRUPT,
			    "kdump VMCOREINFO: 0x%" PRIx64
			    " bytes at 0x%" PRIx64 " lie outside the file",
			    h->size_vmcoreinfo, h->offset_vmcoreinfo);
		struct wdt_note n;
		memset(&n, 0, sizeof(n));
		strcpy(n.name, "VMCOREINFO");
		n.desc_off = h->offset_vmcoreinfo;
		n.desc_size = h->size_vmcoreinfo;
		return wdt_image_add_note(img, &n, err);
	}
	return 0;
}

/* ---- open / close / describe ---- */

static void free_kd(struct kdump *kd)
{
	if (!kd)
		return;
	free(kd->bits);
	free(kd->prefix);
	free(kd->ckey);
	free(kd->cdata);
	free(kd->cbuf);
	dctx_free(&kd->dc); /* zeroed by calloc if never made */
	pthread_mutex_destroy(&kd->lock);
	free(kd);
}

static int kdump_open(struct wdt_image *img, struct wdt_err *err)
{
	uint8_t hb[WDT_KDH_SIZE], sb[WDT_KSH_SIZE];
	struct kdump *kd;
	bool flat = false;
	size_t got;
	uint64_t file_size = img->src->size;

	if (wdt_source_pread(img->src, hb, WDT_FLAT_SIG_LEN, 0, &got, err) < 0)
		return -1;
	if (wdt_flat_probe(hb, got)) {
		struct wdt_source *s = wdt_flat_open(img->src, err);
		if (!s)
			return -1;
		img->src = s;
		flat = true;
	}
	if (wdt_source_pread(img->src, hb, sizeof(hb), 0, &got, err) < 0)
		return -1;
	if (got >= WDT_FLAT_SIG_LEN && memcmp(hb, "\177ELF", 4) == 0)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "flattened file holds an ELF core, not a "
				   "kdump; rearrange it with makedumpfile -R");
	kd = calloc(1, sizeof(*kd));
	if (!kd)
		return wdt_err_nomem(err);
	pthread_mutex_init(&kd->lock, NULL);
	kd->flat = flat;
	kd->file_size = file_size;
	if (wdt_kdump_parse_header(hb, got, &kd->h, err) < 0)
		goto fail;
	kd->bs = (uint32_t)kd->h.block_size;
	if (wdt_source_pread(img->src, sb, sizeof(sb), kd->bs, &got, err) < 0)
		goto fail;
	if (kd->h.sub_hdr_size > 0 &&
	    got > (uint64_t)kd->h.sub_hdr_size * kd->bs)
		got = (size_t)((uint64_t)kd->h.sub_hdr_size * kd->bs);
	if (wdt_kdump_parse_sub(sb, got, &kd->h, err) < 0 ||
	    wdt_kdump_check(&kd->h, img->src->size, err) < 0 ||
	    load_bitmap(img, kd, err) < 0)
		goto fail;
	uint64_t dend;
	if (!(kd->h.status & WDT_KDUMP_INCOMPLETE) &&
	    (!wdt_add_ok(kd->h.desc_off, kd->ndesc * WDT_KPD_LEN, &dend) ||
	     dend > img->src->size)) {
		wdt_err_set(err, WDT_TRUNCATED,
			    "the bitmap marks %" PRIu64
			    " pages but their descriptors at 0x%" PRIx64
			    " run past the end of the file (0x%" PRIx64
			    " bytes)",
			    kd->ndesc, kd->h.desc_off, img->src->size);
		goto fail;
	}
	if (dctx_init(&kd->dc) < 0) {
		wdt_err_nomem(err);
		goto fail;
	}
	lzo_init();
	img->priv = kd;
	if (add_runs(img, kd, err) < 0 || load_notes(img, kd, err) < 0) {
		img->priv = NULL;
		goto fail;
	}
	snprintf(img->variant, sizeof(img->variant), "kdump, %s%s",
		 wdt_kdump_comp_name(kd->h.status), flat ? ", flattened" : "");
	return 0;
fail:
	free_kd(kd);
	return -1;
}

static void kdump_close(struct wdt_image *img)
{
	free_kd(img->priv);
	img->priv = NULL;
}

static void kdump_describe(struct wdt_image *img, struct wdt_out *o)
{
	const struct kdump *kd = img->priv;
	const struct wdt_kdump_hdr *h;

	if (!kd)
		return;
	h = &kd->h;
	wdt_out_obj_begin(o, "kdump", "kdump");
	wdt_out_bool(o, "flattened", "Flattened", kd->flat);
	if (kd->flat) {
		wdt_out_u64(o, "flat_records", "Flattened records",
			    wdt_flat_records(img->src));
		wdt_out_u64(o, "flat_extents", "Flattened extents",
			    wdt_flat_extents(img->src));
	}
	wdt_out_str(o, "signature", "Signature", h->signature);
	wdt_out_str(o, "compression", "Compression",
		    wdt_kdump_comp_name(h->status));
	wdt_out_hex(o, "status", "Status flags", h->status);
	wdt_out_bool(o, "incomplete", "Incomplete",
		     (h->status & WDT_KDUMP_INCOMPLETE) != 0);
	wdt_out_i64(o, "header_version", "Header version", h->header_version);
	wdt_out_u64(o, "block_size", "Block size", kd->bs);
	wdt_out_u64(o, "max_mapnr", "max_mapnr", h->max_pfn);
	wdt_out_u64(o, "dumpable_pages", "Dumpable pages", kd->ndesc);
	wdt_out_bool(o, "two_bitmaps", "Two bitmaps", h->two_bitmaps);
	wdt_out_str(o, "machine", "Machine", h->machine);
	if (h->release[0])
		wdt_out_str(o, "release", "Release", h->release);
	wdt_out_i64(o, "nr_cpus", "CPUs in header", h->nr_cpus);
	wdt_out_addr(o, "phys_base", "phys_base", h->phys_base);
	wdt_out_i64(o, "dump_level", "Dump level", h->dump_level);
	if (h->split) {
		wdt_out_hex(o, "split_start_pfn", "Split start PFN",
			    h->first_pfn);
		wdt_out_hex(o, "split_end_pfn", "Split end PFN",
			    h->end_pfn_used);
	}
	wdt_out_obj_end(o);
}

const struct wdt_format wdt_format_kdump = {
    .name = "kdump",
    .summary = "kdump-compressed (makedumpfile, QEMU kdump-zlib/lzo/"
	       "snappy), flattened or not",
    .flags = WDT_FMT_HAS_CPUS,
    .probe = kdump_probe,
    .open = kdump_open,
    .read = kdump_read,
    .reader_new = kdump_reader_new,
    .reader_read = kdump_reader_read,
    .reader_free = kdump_reader_free,
    .describe = kdump_describe,
    .close = kdump_close,
};
