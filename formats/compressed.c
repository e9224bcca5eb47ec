/* SPDX-License-Identifier: MIT */
/*
 * gzip and LZ4-frame compressed raw images as seekable sources. One
 * decompressing pass on open builds the index (see compressed.h); a read
 * resumes from the nearest index point at or before it, or continues the
 * live stream when the read is at or just after the previous one, so
 * front-to-back reading costs one decompression in total.
 */
#include "formats/compressed.h"

#include <inttypes.h>
#include <lz4.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/out.h"

#define GZ_WIN 32768u
#define IN_CHUNK (256u * 1024)
#define SCRATCH (64u * 1024)
_Static_assert(SCRATCH >= GZ_WIN, "a window is inflated into scratch");

/* ================= gzip ================= */

struct gzpoint {
	uint64_t in, out; /* compressed / decompressed offsets */
	int bits;	  /* unused bits of the byte before in */
	bool fresh;	  /* a member starts here (gzip header next) */
	uint8_t *win;	  /* history, deflated (not fresh) */
	uint32_t winlen;  /* bytes of history (≤ 32 KiB) */
	uint32_t zlen;	  /* bytes of win */
};

struct gz {
	struct wdt_source *inner;
	pthread_mutex_t lock;
	struct gzpoint *pt;
	size_t npt, cap;
	uint64_t size;
	uint64_t max_ratio; /* 0: no limit */
	size_t inlen;	    /* of in: IN_CHUNK, or less for a small file */
	/* live stream */
	z_stream zs;
	bool live, raw;
	uint64_t out_pos; /* decompressed offset of the stream */
	uint64_t in_next; /* compressed offset just past the buffer */
	uint8_t *in, *scratch;
};

static uint64_t gz_in_pos(const struct gz *g)
{
	return g->in_next - g->zs.avail_in;
}

static int gz_refill(struct gz *g, struct wdt_err *err)
{
	size_t got;

	if (wdt_source_pread(g->inner, g->in, g->inlen, g->in_next, &got, err) <
	    0)
		return -1;
	g->zs.next_in = g->in;
	g->zs.avail_in = (uInt)got;
	g->in_next += got;
	return (int)(got > 0);
}

static void gz_seek_in(struct gz *g, uint64_t pos)
{
	g->zs.avail_in = 0;
	g->zs.next_in = g->in;
	g->in_next = pos;
}

/* Does another gzip member start at pos? */
static int gz_member_at(struct gz *g, uint64_t pos, struct wdt_err *err)
{
	uint8_t m[2];
	size_t got;

	if (wdt_source_pread(g->inner, m, 2, pos, &got, err) < 0)
		return -1;
	return got == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

static int gz_corrupt(struct gz *g, int rc, struct wdt_err *err)
{
	return wdt_err_set(err, WDT_CORRUPT,
			   "gzip: %s near compressed offset 0x%" PRIx64
			   " (decompressed 0x%" PRIx64 ")",
			   g->zs.msg	       ? g->zs.msg
			   : rc == Z_MEM_ERROR ? "out of memory"
					       : "bad deflate data",
			   gz_in_pos(g), g->out_pos);
}

/*
 * A checkpoint's 32 KiB window is kept deflated (level 1): history of
 * real memory compresses a few times, a run of zeros (a decompression
 * bomb's) to about a hundred bytes, so index memory follows the
 * compressed file rather than the decompressed size. Costs one 32 KiB
 * deflate per WDT_GZ_SPAN of output on open, one inflate per restart.
 */
static int gz_add_point(struct gz *g, uint64_t in, uint64_t out, int bits,
			bool fresh, const uint8_t *win, size_t wpos,
			uint64_t total, struct wdt_err *err)
{
	struct gzpoint p = {in, out, bits, fresh, NULL, 0, 0};

	if (g->npt == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 64;
		struct gzpoint *t = realloc(g->pt, nc * sizeof(*t));
		if (!t)
			return wdt_err_nomem(err);
		g->pt = t;
		g->cap = nc;
	}
	if (!fresh) {
		/* The ring holds the last min(total, 32 KiB) bytes. */
		uint8_t *lin = g->scratch;
		p.winlen = total < GZ_WIN ? (uint32_t)total : GZ_WIN;
		if (total < GZ_WIN) {
			memcpy(lin, win, p.winlen);
		} else {
			memcpy(lin, win + wpos, GZ_WIN - wpos);
			memcpy(lin + (GZ_WIN - wpos), win, wpos);
		}
		uLongf zl = compressBound(p.winlen);
		p.win = malloc(zl);
		if (!p.win)
			return wdt_err_nomem(err);
		if (compress2(p.win, &zl, lin, p.winlen, 1) != Z_OK) {
			free(p.win);
			return wdt_err_nomem(err);
		}
		uint8_t *t = realloc(p.win, zl ? zl : 1);
		if (t)
			p.win = t;
		p.zlen = (uint32_t)zl;
	}
	g->pt[g->npt++] = p;
	return 0;
}

/* The decompression-bomb guard: out bytes from a file of in bytes. */
static int over_ratio(uint64_t out, uint64_t in, uint64_t max_ratio)
{
	uint64_t lim;

	if (!max_ratio || __builtin_mul_overflow(in, max_ratio, &lim))
		return 0;
	return out > lim;
}

static int ratio_error(const char *what, uint64_t out, uint64_t in,
		       uint64_t max_ratio, struct wdt_err *err)
{
	wdt_err_set(err, WDT_UNSUPPORTED,
		    "%s: decompresses to more than %" PRIu64
		    " times its compressed size of %" PRIu64
		    " bytes (0x%" PRIx64 " bytes so far): refused as a "
		    "possible decompression bomb",
		    what, max_ratio, in, out);
	return wdt_err_remedy(err, WDT_REMEDY_RATIO);
}

/* The one pass: inflate everything, mark block boundaries every span. */
static int gz_index(struct gz *g, struct wdt_err *err)
{
	uint8_t *win = malloc(GZ_WIN);
	uint64_t last = 0, since_member = 0;
	size_t wpos = 0;
	int rc = -1;

	if (!win)
		return wdt_err_nomem(err);
	if (inflateInit2(&g->zs, 31) != Z_OK) {
		free(win);
		return wdt_err_nomem(err);
	}
	gz_seek_in(g, 0);
	g->out_pos = 0;
	if (gz_add_point(g, 0, 0, 0, true, NULL, 0, 0, err) < 0)
		goto out;
	for (;;) {
		if (!g->zs.avail_in) {
			int r = gz_refill(g, err);
			if (r < 0)
				goto out;
			if (r == 0) {
				wdt_err_set(err, WDT_TRUNCATED,
					    "gzip: data ends inside a stream "
					    "(after 0x%" PRIx64
					    " decompressed bytes)",
					    g->out_pos);
				goto out;
			}
		}
		if (wpos == GZ_WIN)
			wpos = 0;
		g->zs.next_out = win + wpos;
		g->zs.avail_out = GZ_WIN - (uInt)wpos;
		int zr = inflate(&g->zs, Z_BLOCK);
		size_t made = GZ_WIN - wpos - g->zs.avail_out;
		wpos += made;
		g->out_pos += made;
		since_member += made;
		if (over_ratio(g->out_pos, g->inner->size, g->max_ratio)) {
			ratio_error("gzip", g->out_pos, g->inner->size,
				    g->max_ratio, err);
			goto out;
		}
		if (zr == Z_STREAM_END) {
			uint64_t pos = gz_in_pos(g);
			int m = gz_member_at(g, pos, err);
			if (m < 0)
				goto out;
			if (!m)
				break; /* trailing bytes are ignored, as gzip
					  does */
			inflateReset(&g->zs);
			gz_seek_in(g, pos);
			since_member = 0;
			if (gz_add_point(g, pos, g->out_pos, 0, true, NULL, 0,
					 0, err) < 0)
				goto out;
			last = g->out_pos;
			continue;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			gz_corrupt(g, zr, err);
			goto out;
		}
		if ((g->zs.data_type & 128) && !(g->zs.data_type & 64) &&
		    g->out_pos - last >= WDT_GZ_SPAN) {
			if (gz_add_point(g, gz_in_pos(g), g->out_pos,
					 g->zs.data_type & 7, false, win, wpos,
					 since_member, err) < 0)
				goto out;
			last = g->out_pos;
		}
	}
	g->size = g->out_pos;
	rc = 0;
out:
	inflateEnd(&g->zs);
	memset(&g->zs, 0, sizeof(g->zs));
	free(win);
	return rc;
}

static int gz_restart(struct gz *g, const struct gzpoint *p,
		      struct wdt_err *err)
{
	if (g->live)
		inflateEnd(&g->zs);
	g->live = false;
	memset(&g->zs, 0, sizeof(g->zs));
	g->raw = !p->fresh;
	if (inflateInit2(&g->zs, p->fresh ? 31 : -15) != Z_OK)
		return wdt_err_nomem(err);
	g->live = true;
	if (p->bits) {
		uint8_t b;
		if (wdt_source_read(g->inner, &b, 1, p->in - 1, err) < 0)
			return -1;
		inflatePrime(&g->zs, p->bits, b >> (8 - p->bits));
	}
	if (!p->fresh && p->winlen) {
		uLongf wl = SCRATCH;
		if (uncompress(g->scratch, &wl, p->win, p->zlen) != Z_OK ||
		    wl != p->winlen ||
		    inflateSetDictionary(&g->zs, g->scratch, p->winlen) != Z_OK)
			return wdt_err_set(err, WDT_INTERNAL,
					   "gzip: bad dictionary");
	}
	gz_seek_in(g, p->in);
	g->out_pos = p->out;
	return 0;
}

/* Inflate up to n bytes into dst; *made says how many. */
static int gz_step(struct gz *g, uint8_t *dst, size_t n, size_t *made,
		   struct wdt_err *err)
{
	*made = 0;
	if (!g->zs.avail_in) {
		int r = gz_refill(g, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return wdt_err_set(err, WDT_TRUNCATED,
					   "gzip: data ended early (the file "
					   "changed since it was indexed?)");
	}
	g->zs.next_out = dst;
	g->zs.avail_out = (uInt)n;
	int zr = inflate(&g->zs, Z_NO_FLUSH);
	*made = n - g->zs.avail_out;
	g->out_pos += *made;
	if (zr == Z_STREAM_END) {
		/* Raw mode ends at the deflate data: skip the 8-byte trailer.
		 */
		uint64_t pos = gz_in_pos(g) + (g->raw ? 8 : 0);
		int m = gz_member_at(g, pos, err);
		if (m < 0)
			return -1;
		if (!m) {
			if (*made)
				return 0; /* the end; callers stop at g->size */
			return wdt_err_set(err, WDT_TRUNCATED,
					   "gzip: data ended early (the file "
					   "changed since it was indexed?)");
		}
		if (g->raw) {
			inflateEnd(&g->zs);
			memset(&g->zs, 0, sizeof(g->zs));
			g->live = false;
			if (inflateInit2(&g->zs, 31) != Z_OK)
				return wdt_err_nomem(err);
			g->live = true;
			g->raw = false;
		} else {
			inflateReset(&g->zs);
		}
		gz_seek_in(g, pos);
		return 0;
	}
	if (zr != Z_OK && zr != Z_BUF_ERROR)
		return gz_corrupt(g, zr, err);
	return 0;
}

static int gz_pread(struct wdt_source *src, void *buf, size_t len, uint64_t off,
		    size_t *got, struct wdt_err *err)
{
	struct gz *g = src->priv;
	uint8_t *p = buf;
	size_t done = 0;
	int rc = 0;

	pthread_mutex_lock(&g->lock);
	size_t lo = 0, hi = g->npt;
	while (hi - lo > 1) { /* last point with out <= off */
		size_t mid = lo + (hi - lo) / 2;
		if (g->pt[mid].out <= off)
			lo = mid;
		else
			hi = mid;
	}
	const struct gzpoint *pt = &g->pt[lo];
	if (!g->live || g->out_pos > off || pt->out > g->out_pos)
		rc = gz_restart(g, pt, err);
	while (rc == 0 && g->out_pos < off) {
		uint64_t skip = off - g->out_pos;
		size_t made;
		rc = gz_step(g, g->scratch, skip < SCRATCH ? skip : SCRATCH,
			     &made, err);
	}
	while (rc == 0 && done < len) {
		size_t made;
		rc = gz_step(g, p + done, len - done, &made, err);
		done += made;
		if (rc == 0 && !made && g->out_pos >= g->size)
			break;
	}
	if (rc < 0) {
		if (g->live)
			inflateEnd(&g->zs);
		g->live = false;
	}
	pthread_mutex_unlock(&g->lock);
	*got = done;
	return rc;
}

static void gz_free(struct gz *g)
{
	if (g->live)
		inflateEnd(&g->zs);
	for (size_t i = 0; i < g->npt; i++)
		free(g->pt[i].win);
	free(g->pt);
	free(g->in);
	free(g->scratch);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static void gz_close(struct wdt_source *src)
{
	struct gz *g = src->priv;

	wdt_source_close(g->inner);
	gz_free(g);
}

static const struct wdt_source_ops gz_ops = {
    .pread = gz_pread,
    .close = gz_close,
};

struct wdt_source *wdt_gzip_open(struct wdt_source *inner, uint64_t max_ratio,
				 struct wdt_err *err)
{
	struct gz *g = calloc(1, sizeof(*g));
	struct wdt_source *src;

	if (!g) {
		wdt_err_nomem(err);
		return NULL;
	}
	pthread_mutex_init(&g->lock, NULL);
	g->inner = inner;
	g->max_ratio = max_ratio;
	/* A small file needs no 256 KiB read buffer (fuzzing opens many). */
	g->inlen = inner->size < IN_CHUNK ? (size_t)inner->size + 1 : IN_CHUNK;
	g->in = malloc(g->inlen);
	g->scratch = malloc(SCRATCH);
	if (!g->in || !g->scratch) {
		wdt_err_nomem(err);
		goto fail;
	}
	if (gz_index(g, err) < 0)
		goto fail;
	src = wdt_source_new(&gz_ops, g, g->size, inner->name, err);
	if (!src)
		goto fail;
	src->serial = true;
	return src;
fail:
	gz_free(g);
	return NULL;
}

/* ================= LZ4 frame ================= */

/*
 * XXH32 (xxHash specification, "xxhash_spec.md"), the checksum of the LZ4
 * frame format: the block checksum is XXH32 of a block's stored bytes, the
 * content checksum XXH32 of the frame's whole decompressed content, both
 * with seed 0. Streaming, so the content checksum is computed while the
 * index pass decodes block by block.
 */
#define XXP1 0x9E3779B1u
#define XXP2 0x85EBCA77u
#define XXP3 0xC2B2AE3Du
#define XXP4 0x27D4EB2Fu
#define XXP5 0x165667B1u

struct xxh32 {
	uint32_t v[4];
	uint64_t total;
	uint8_t mem[16];
	uint32_t nmem;
};

static uint32_t rotl32(uint32_t x, unsigned r)
{
	return (x << r) | (x >> (32 - r));
}

static uint32_t xx_round(uint32_t acc, uint32_t lane)
{
	return rotl32(acc + lane * XXP2, 13) * XXP1;
}

static void xx_init(struct xxh32 *x)
{
	memset(x, 0, sizeof(*x));
	x->v[0] = XXP1 + XXP2;
	x->v[1] = XXP2;
	x->v[2] = 0;
	x->v[3] = 0u - XXP1;
}

static void xx_stripe(struct xxh32 *x, const uint8_t *p)
{
	for (int i = 0; i < 4; i++)
		x->v[i] = xx_round(x->v[i], wdt_le32(p + 4 * i));
}

static void xx_update(struct xxh32 *x, const uint8_t *p, size_t n)
{
	x->total += n;
	if (x->nmem) {
		size_t k = 16 - x->nmem < n ? 16 - x->nmem : n;
		memcpy(x->mem + x->nmem, p, k);
		x->nmem += (uint32_t)k;
		p += k;
		n -= k;
		if (x->nmem < 16)
			return;
		xx_stripe(x, x->mem);
		x->nmem = 0;
	}
	for (; n >= 16; p += 16, n -= 16)
		xx_stripe(x, p);
	memcpy(x->mem, p, n);
	x->nmem = (uint32_t)n;
}

static uint32_t xx_digest(const struct xxh32 *x)
{
	uint32_t h = x->total >= 16
			 ? rotl32(x->v[0], 1) + rotl32(x->v[1], 7) +
			       rotl32(x->v[2], 12) + rotl32(x->v[3], 18)
			 : XXP5;
	const uint8_t *p = x->mem;
	uint32_t n = x->nmem;

	h += (uint32_t)x->total;
	for (; n >= 4; p += 4, n -= 4)
		h = rotl32(h + wdt_le32(p) * XXP3, 17) * XXP4;
	for (; n > 0; p++, n--)
		h = rotl32(h + *p * XXP5, 11) * XXP1;
	h ^= h >> 15;
	h *= XXP2;
	h ^= h >> 13;
	h *= XXP3;
	h ^= h >> 16;
	return h;
}

static uint32_t xxh32_of(const uint8_t *p, size_t n)
{
	struct xxh32 x;

	xx_init(&x);
	xx_update(&x, p, n);
	return xx_digest(&x);
}

#define LZ4_HIST 65536u

enum {
	B_RAW = 1u,    /* stored uncompressed */
	B_LINKED = 2u, /* frame's blocks depend on the previous 64 KiB */
	B_FIRST = 4u,  /* first block of its frame */
};

struct lzblk {
	uint64_t in, out;
	uint32_t csize, olen;
	uint32_t flags;
	uint32_t hist; /* 1 + index into hist[], 0 = none */
};

struct lz {
	struct wdt_source *inner;
	pthread_mutex_t lock;
	struct lzblk *b;
	size_t nb, cap;
	uint8_t **hist;
	size_t nhist;
	uint64_t size;
	uint64_t max_ratio; /* 0: no limit */
	uint32_t bufcap;    /* of curbuf and cbuf: the largest frame maximum */
	/* decoder state: the last decoded block and the history after it */
	long cur;
	uint8_t *curbuf, *cbuf, *dict;
	uint32_t dlen;
};

/* The 4-byte little-endian checksum at pos must equal want. */
static int lz_check_sum(struct lz *l, uint64_t pos, uint32_t want,
			const char *what, uint64_t where, struct wdt_err *err)
{
	uint8_t c[4];

	if (wdt_source_read(l->inner, c, 4, pos, err) < 0)
		return wdt_err_prefix(err,
				      "LZ4: %s checksum of the %s at "
				      "0x%" PRIx64,
				      what, what[0] == 'b' ? "block" : "frame",
				      where);
	if (wdt_le32(c) != want)
		return wdt_err_set(err, WDT_CORRUPT,
				   "LZ4: %s checksum mismatch for the %s at "
				   "0x%" PRIx64 " (stored 0x%08" PRIx32
				   ", computed 0x%08" PRIx32 ")",
				   what, what[0] == 'b' ? "block" : "frame",
				   where, wdt_le32(c), want);
	return 0;
}

static void lz_hist_push(uint8_t *dict, uint32_t *dlen, const uint8_t *out,
			 uint32_t n)
{
	if (n >= LZ4_HIST) {
		memcpy(dict, out + n - LZ4_HIST, LZ4_HIST);
		*dlen = LZ4_HIST;
		return;
	}
	uint32_t keep = *dlen + n > LZ4_HIST ? LZ4_HIST - n : *dlen;
	memmove(dict, dict + *dlen - keep, keep);
	memcpy(dict + keep, out, n);
	*dlen = keep + n;
}

/* Decode block i into l->curbuf with the history in l->dict. */
static int lz_decode(struct lz *l, size_t i, uint32_t cap, uint32_t *olen,
		     struct wdt_err *err)
{
	struct lzblk *b = &l->b[i];

	if (wdt_source_read(l->inner, l->cbuf, b->csize, b->in, err) < 0)
		return wdt_err_prefix(err, "LZ4 block at 0x%" PRIx64, b->in);
	if (b->flags & B_RAW) {
		memcpy(l->curbuf, l->cbuf, b->csize);
		*olen = b->csize;
	} else {
		int r = (b->flags & B_LINKED) && l->dlen
			    ? LZ4_decompress_safe_usingDict(
				  (const char *)l->cbuf, (char *)l->curbuf,
				  (int)b->csize, (int)cap,
				  (const char *)l->dict, (int)l->dlen)
			    : LZ4_decompress_safe((const char *)l->cbuf,
						  (char *)l->curbuf,
						  (int)b->csize, (int)cap);
		if (r < 0)
			return wdt_err_set(err, WDT_CORRUPT,
					   "LZ4 block at compressed offset "
					   "0x%" PRIx64 " (0x%" PRIx32
					   " bytes) is corrupt",
					   b->in, b->csize);
		*olen = (uint32_t)r;
	}
	if (b->flags & B_LINKED)
		lz_hist_push(l->dict, &l->dlen, l->curbuf, *olen);
	l->cur = (long)i;
	return 0;
}

static int lz_add(struct lz *l, struct lzblk *b, struct wdt_err *err)
{
	if (l->nb == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct lzblk *t = realloc(l->b, nc * sizeof(*t));
		if (!t)
			return wdt_err_nomem(err);
		l->b = t;
		l->cap = nc;
	}
	l->b[l->nb++] = *b;
	return 0;
}

static int lz_save_hist(struct lz *l, struct lzblk *b, struct wdt_err *err)
{
	uint8_t **t = realloc(l->hist, (l->nhist + 1) * sizeof(*t));
	if (!t)
		return wdt_err_nomem(err);
	l->hist = t;
	t[l->nhist] = malloc(LZ4_HIST);
	if (!t[l->nhist])
		return wdt_err_nomem(err);
	/* Stored left-aligned; a short history is zero-padded in front. */
	memset(t[l->nhist], 0, LZ4_HIST - l->dlen);
	memcpy(t[l->nhist] + LZ4_HIST - l->dlen, l->dict, l->dlen);
	b->hist = (uint32_t)++l->nhist;
	return 0;
}

/*
 * Block buffers grow on demand, not 2 × 4 MiB up front (lz4's default
 * frame maximum): the index pass decodes into 64 KiB (or the stored size)
 * and grows to the frame maximum only when a block needs more.
 */
static int lz_bufs(struct lz *l, uint32_t bmax, struct wdt_err *err)
{
	if (bmax <= l->bufcap)
		return 0;
	free(l->curbuf);
	free(l->cbuf);
	l->curbuf = malloc(bmax);
	l->cbuf = malloc(bmax);
	l->bufcap = l->curbuf && l->cbuf ? bmax : 0;
	l->cur = -1;
	return l->bufcap ? 0 : wdt_err_nomem(err);
}

static int lz_frame(struct lz *l, uint64_t *pos, uint64_t *out,
		    uint64_t *last_hist, struct wdt_err *err)
{
	uint8_t h[19];
	size_t got;
	uint64_t p = *pos, fstart = *out;

	if (wdt_source_pread(l->inner, h, sizeof(h), p, &got, err) < 0)
		return -1;
	if (got < 7)
		return wdt_err_set(
		    err, WDT_TRUNCATED,
		    "LZ4: frame header at 0x%" PRIx64 " is cut short", p);
	uint8_t flg = h[4], bd = h[5];
	if ((flg >> 6) != 1 || (flg & 2) || (bd & 0x8f))
		return wdt_err_set(err, WDT_CORRUPT,
				   "LZ4: frame at 0x%" PRIx64
				   " has a bad descriptor (FLG 0x%02x, BD "
				   "0x%02x)",
				   p, flg, bd);
	uint32_t bid = (bd >> 4) & 7;
	if (bid < 4)
		return wdt_err_set(err, WDT_CORRUPT,
				   "LZ4: frame at 0x%" PRIx64
				   ": block size id %" PRIu32 " is reserved",
				   p, bid);
	uint32_t bmax = 1u << (8 + 2 * bid);
	bool linked = !(flg & 0x20), bsum = flg & 0x10, csize = flg & 8,
	     csum = flg & 4, dict = flg & 1;
	size_t hl = 7 + (csize ? 8 : 0) + (dict ? 4 : 0);
	if (got < hl)
		return wdt_err_set(
		    err, WDT_TRUNCATED,
		    "LZ4: frame header at 0x%" PRIx64 " is cut short", p);
	if (dict)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "LZ4: frame at 0x%" PRIx64
				   " needs an external dictionary",
				   p);
	uint64_t want = csize ? wdt_le64(h + 6) : 0;
	struct xxh32 content;
	xx_init(&content);
	p += hl;
	l->dlen = 0;
	for (bool first = true;; first = false) {
		uint8_t s[4];
		if (wdt_source_read(l->inner, s, 4, p, err) < 0)
			return wdt_err_prefix(err, "LZ4: block header");
		uint32_t v = wdt_le32(s);
		p += 4;
		if (v == 0)
			break;
		struct lzblk b = {p,
				  *out,
				  v & 0x7fffffffu,
				  0,
				  (v >> 31 ? B_RAW : 0) |
				      (linked ? B_LINKED : 0) |
				      (first ? B_FIRST : 0),
				  0};
		if (b.csize == 0 || b.csize > bmax)
			return wdt_err_set(
			    err, WDT_CORRUPT,
			    "LZ4: block at 0x%" PRIx64 " claims 0x%" PRIx32
			    " bytes (frame maximum 0x%" PRIx32 ")",
			    p - 4, b.csize, bmax);
		if (l->nb >= WDT_LZ4_FREE_BLOCKS &&
		    (l->nb + 1) * (uint64_t)WDT_LZ4_MIN_BLOCK_FILE >
			l->inner->size)
			return wdt_err_set(
			    err, WDT_UNSUPPORTED,
			    "LZ4: block at 0x%" PRIx64
			    ": more than %zu blocks in %" PRIu64
			    " bytes of file; the index is capped "
			    "at one block per %u bytes beyond "
			    "the first %u",
			    p - 4, l->nb, l->inner->size,
			    WDT_LZ4_MIN_BLOCK_FILE, WDT_LZ4_FREE_BLOCKS);
		if (linked && !first && *out - *last_hist >= WDT_LZ4_SPAN) {
			if (lz_save_hist(l, &b, err) < 0)
				return -1;
			*last_hist = *out;
		}
		uint32_t need = bmax < LZ4_HIST ? bmax : LZ4_HIST;
		if (lz_add(l, &b, err) < 0 ||
		    lz_bufs(l, b.csize > need ? b.csize : need, err) < 0)
			return -1;
		if (lz_decode(l, l->nb - 1, l->bufcap, &l->b[l->nb - 1].olen,
			      err) < 0) {
			if (l->bufcap >= bmax || lz_bufs(l, bmax, err) < 0 ||
			    lz_decode(l, l->nb - 1, l->bufcap,
				      &l->b[l->nb - 1].olen, err) < 0)
				return -1;
		}
		/* lz_decode leaves the stored bytes in cbuf, the output in
		 * curbuf: both checksums are verified on this one pass. */
		if (bsum &&
		    lz_check_sum(l, p + b.csize, xxh32_of(l->cbuf, b.csize),
				 "block", p - 4, err) < 0)
			return -1;
		if (csum)
			xx_update(&content, l->curbuf, l->b[l->nb - 1].olen);
		*out += l->b[l->nb - 1].olen;
		if (over_ratio(*out, l->inner->size, l->max_ratio))
			return ratio_error("LZ4", *out, l->inner->size,
					   l->max_ratio, err);
		p += b.csize + (bsum ? 4 : 0);
	}
	if (csum) {
		if (lz_check_sum(l, p, xx_digest(&content), "content", *pos,
				 err) < 0)
			return -1;
		p += 4;
	}
	if (csize && *out - fstart != want)
		return wdt_err_set(err, WDT_CORRUPT,
				   "LZ4: frame at 0x%" PRIx64
				   " decompresses to 0x%" PRIx64
				   " bytes, its header says 0x%" PRIx64,
				   *pos, *out - fstart, want);
	if (p > l->inner->size)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "LZ4: frame at 0x%" PRIx64
				   " runs past the end of the file",
				   *pos);
	*pos = p;
	return 0;
}

static int lz_index(struct lz *l, struct wdt_err *err)
{
	uint64_t pos = 0, out = 0, last_hist = 0;

	while (pos < l->inner->size) {
		uint8_t m[8];
		size_t got;
		if (wdt_source_pread(l->inner, m, 8, pos, &got, err) < 0)
			return -1;
		if (got < 4)
			return wdt_err_set(err, WDT_TRUNCATED,
					   "LZ4: %zu stray bytes at 0x%" PRIx64,
					   got, pos);
		uint32_t magic = wdt_le32(m);
		if ((magic & 0xfffffff0u) == WDT_LZ4_SKIP_MAGIC) {
			if (got < 8)
				return wdt_err_set(err, WDT_TRUNCATED,
						   "LZ4: skippable frame at "
						   "0x%" PRIx64 " is cut short",
						   pos);
			pos += 8 + (uint64_t)wdt_le32(m + 4);
			continue;
		}
		if (magic == WDT_LZ4_LEGACY_MAGIC)
			return wdt_err_set(err, WDT_UNSUPPORTED,
					   "LZ4: legacy frame format (lz4 -l) "
					   "at 0x%" PRIx64,
					   pos);
		if (magic != WDT_LZ4_MAGIC)
			return wdt_err_set(err, WDT_CORRUPT,
					   "LZ4: no frame magic at 0x%" PRIx64,
					   pos);
		if (lz_frame(l, &pos, &out, &last_hist, err) < 0)
			return -1;
	}
	l->size = out;
	return 0;
}

/* Make block j current (decoded in curbuf). */
static int lz_load(struct lz *l, size_t j, struct wdt_err *err)
{
	size_t s = j;
	uint32_t olen;

	if (l->cur == (long)j)
		return 0;
	/* Walk back to a block we can start from. */
	while ((l->b[s].flags & B_LINKED) && !(l->b[s].flags & B_FIRST) &&
	       !l->b[s].hist && (long)s - 1 != l->cur)
		s--;
	const struct lzblk *b = &l->b[s];
	if (!(b->flags & B_LINKED) || (b->flags & B_FIRST)) {
		l->dlen = 0;
	} else if (b->hist && (long)s - 1 != l->cur) {
		memcpy(l->dict, l->hist[b->hist - 1], LZ4_HIST);
		l->dlen = LZ4_HIST;
	} /* else: the history after block cur is in dict already */
	for (size_t i = s; i <= j; i++) {
		l->cur = -1;
		if (lz_decode(l, i, l->bufcap, &olen, err) < 0)
			return -1;
		if (olen != l->b[i].olen)
			return wdt_err_set(err, WDT_CORRUPT,
					   "LZ4: block at 0x%" PRIx64
					   " changed size since it was indexed",
					   l->b[i].in);
	}
	return 0;
}

static int lz_pread(struct wdt_source *src, void *buf, size_t len, uint64_t off,
		    size_t *got, struct wdt_err *err)
{
	struct lz *l = src->priv;
	uint8_t *p = buf;
	size_t done = 0;
	int rc = 0;

	pthread_mutex_lock(&l->lock);
	size_t lo = 0, hi = l->nb;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->b[mid].out <= off)
			lo = mid;
		else
			hi = mid;
	}
	while (done < len && lo < l->nb) {
		const struct lzblk *b = &l->b[lo];
		uint64_t o = off + done;
		if (o >= b->out + b->olen) {
			lo++;
			continue;
		}
		if (lz_load(l, lo, err) < 0) {
			l->cur = -1;
			rc = -1;
			break;
		}
		uint64_t avail = b->out + b->olen - o;
		size_t n = avail < len - done ? (size_t)avail : len - done;
		memcpy(p + done, l->curbuf + (o - b->out), n);
		done += n;
	}
	pthread_mutex_unlock(&l->lock);
	*got = done;
	return rc;
}

static void lz_free(struct lz *l)
{
	for (size_t i = 0; i < l->nhist; i++)
		free(l->hist[i]);
	free(l->hist);
	free(l->b);
	free(l->curbuf);
	free(l->cbuf);
	free(l->dict);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static void lz_close(struct wdt_source *src)
{
	struct lz *l = src->priv;

	wdt_source_close(l->inner);
	lz_free(l);
}

static const struct wdt_source_ops lz_ops = {
    .pread = lz_pread,
    .close = lz_close,
};

struct wdt_source *wdt_lz4_open(struct wdt_source *inner, uint64_t max_ratio,
				struct wdt_err *err)
{
	struct lz *l = calloc(1, sizeof(*l));
	struct wdt_source *src;

	if (!l) {
		wdt_err_nomem(err);
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	l->inner = inner;
	l->cur = -1;
	l->max_ratio = max_ratio;
	l->dict = malloc(LZ4_HIST);
	if (!l->dict) {
		wdt_err_nomem(err);
		goto fail;
	}
	if (lz_index(l, err) < 0)
		goto fail;
	l->cur = -1;
	src = wdt_source_new(&lz_ops, l, l->size, inner->name, err);
	if (!src)
		goto fail;
	src->serial = true;
	return src;
fail:
	lz_free(l);
	return NULL;
}

/* ================= index facts and the two formats ================= */

uint64_t wdt_compressed_points(const struct wdt_source *src)
{
	if (src && src->ops == &gz_ops)
		return ((const struct gz *)src->priv)->npt;
	if (src && src->ops == &lz_ops)
		return ((const struct lz *)src->priv)->nb;
	return 0;
}

uint64_t wdt_compressed_index_bytes(const struct wdt_source *src)
{
	if (src && src->ops == &gz_ops) {
		const struct gz *g = src->priv;
		uint64_t n = g->npt * sizeof(*g->pt);
		for (size_t i = 0; i < g->npt; i++)
			n += g->pt[i].zlen;
		return n;
	}
	if (src && src->ops == &lz_ops) {
		const struct lz *l = src->priv;
		return l->nb * sizeof(*l->b) + l->nhist * (uint64_t)LZ4_HIST;
	}
	return 0;
}

static int gz_probe(const uint8_t *head, size_t len, uint64_t size)
{
	(void)size;
	/* gzip magic, CM = 8 (deflate), reserved FLG bits clear */
	return len >= 10 && head[0] == 0x1f && head[1] == 0x8b &&
		       head[2] == 8 && !(head[3] & 0xe0)
		   ? 90
		   : 0;
}

static int lz4_probe(const uint8_t *head, size_t len, uint64_t size)
{
	(void)size;
	if (len < 7)
		return 0;
	uint32_t m = wdt_le32(head);
	return m == WDT_LZ4_MAGIC && (head[4] >> 6) == 1 ? 90 : 0;
}

static int open_wrapped(struct wdt_image *img, bool gzip, struct wdt_err *err)
{
	struct wdt_source *s =
	    gzip ? wdt_gzip_open(img->src, img->max_ratio, err)
		 : wdt_lz4_open(img->src, img->max_ratio, err);
	if (!s)
		return -1;
	img->src = s;
	if (s->size == 0)
		return wdt_err_set(err, WDT_CORRUPT,
				   "%s stream decompresses to nothing",
				   gzip ? "gzip" : "LZ4");
	bool linked = false;
	if (!gzip) {
		const struct lz *l = s->priv;
		linked = l->nb && (l->b[0].flags & B_LINKED);
	}
	snprintf(img->variant, sizeof(img->variant), "raw, %s",
		 gzip	  ? "gzip"
		 : linked ? "LZ4 frame (linked blocks)"
			  : "LZ4 frame (independent blocks)");
	return wdt_image_add_run(img, 0, s->size, 0, err);
}

static int gz_fmt_open(struct wdt_image *img, struct wdt_err *err)
{
	return open_wrapped(img, true, err);
}

static int lz4_fmt_open(struct wdt_image *img, struct wdt_err *err)
{
	return open_wrapped(img, false, err);
}

static void describe(struct wdt_image *img, struct wdt_out *o)
{
	const struct wdt_source *s = img->src;
	bool gz = s->ops == &gz_ops;

	wdt_out_obj_begin(o, "compressed", "Compressed raw image");
	wdt_out_str(o, "compression", "Compression", gz ? "gzip" : "lz4");
	if (gz) {
		const struct gz *g = s->priv;
		wdt_out_size(o, "compressed_size", "Compressed size",
			     g->inner->size);
	} else {
		const struct lz *l = s->priv;
		wdt_out_size(o, "compressed_size", "Compressed size",
			     l->inner->size);
	}
	wdt_out_size(o, "decompressed_size", "Decompressed size", s->size);
	wdt_out_u64(o, "index_points", gz ? "Index checkpoints" : "LZ4 blocks",
		    wdt_compressed_points(s));
	wdt_out_size(o, "index_memory", "Index memory",
		     wdt_compressed_index_bytes(s));
	wdt_out_obj_end(o);
}

const struct wdt_format wdt_format_raw_gzip = {
    .name = "raw-gzip",
    .summary = "gzip-compressed flat physical image (offset in the "
	       "decompressed stream = physical address)",
    .probe = gz_probe,
    .open = gz_fmt_open,
    .describe = describe,
};

const struct wdt_format wdt_format_raw_lz4 = {
    .name = "raw-lz4",
    .summary = "LZ4-frame-compressed flat physical image (offset in the "
	       "decompressed stream = physical address)",
    .probe = lz4_probe,
    .open = lz4_fmt_open,
    .describe = describe,
};
