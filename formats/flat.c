/* SPDX-License-Identifier: MIT */
/*
 * Flattened kdump as a source over a source (kdump.md §7). On open, every
 * record header is read once (positions 4096, then +16+size); the records
 * are then painted into non-overlapping extents, the latest record winning
 * where records overlap, exactly what `makedumpfile -R` produces by seeking
 * and writing in file order.
 */
#include "formats/flat.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct rec {
	uint64_t start, end; /* target range */
	uint64_t pos;	     /* file position of the data */
};

struct extent {
	uint64_t start, len, pos;
};

struct flat {
	struct wdt_source *inner;
	struct extent *ext;
	size_t next;
	uint64_t nrecs;
};

static const struct wdt_source_ops flat_ops;

bool wdt_flat_probe(const uint8_t *head, size_t len)
{
	return len >= WDT_FLAT_SIG_LEN &&
	       memcmp(head, WDT_FLAT_SIG, WDT_FLAT_SIG_LEN) == 0;
}

int wdt_flat_check_header(const uint8_t *buf, size_t len, struct wdt_err *err)
{
	if (len < WDT_FLAT_OFF_VERSION + 8)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "flattened header: %zu bytes, need %u", len,
				   WDT_FLAT_OFF_VERSION + 8);
	if (!wdt_flat_probe(buf, len))
		return wdt_err_set(err, WDT_UNKNOWN_FORMAT,
				   "flattened header: no 'makedumpfile' "
				   "signature");
	for (size_t i = WDT_FLAT_SIG_LEN; i < WDT_FLAT_OFF_TYPE; i++)
		if (buf[i])
			return wdt_err_set(err, WDT_CORRUPT,
					   "flattened header: signature not "
					   "NUL-padded");
	uint64_t type = wdt_be64(buf + WDT_FLAT_OFF_TYPE);
	uint64_t ver = wdt_be64(buf + WDT_FLAT_OFF_VERSION);
	if (type != 1)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "flattened header: type %" PRId64
				   " (only 1, TYPE_FLAT_HEADER, is known)",
				   (int64_t)type);
	if (ver != 1)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "flattened header: version %" PRId64
				   " (only 1 is known)",
				   (int64_t)ver);
	return 0;
}

/* Read every record header; *out gets the records in file order. */
static int scan(struct wdt_source *in, struct rec **out, size_t *n,
		struct wdt_err *err)
{
	struct rec *r = NULL;
	size_t cnt = 0, cap = 0;
	uint64_t pos = WDT_FLAT_HDR_SIZE;
	uint8_t h[WDT_FLAT_REC_HDR];
	uint64_t maxrec = in->size / WDT_FLAT_MIN_RECORD_FILE;

	if (maxrec < WDT_FLAT_FREE_RECORDS)
		maxrec = WDT_FLAT_FREE_RECORDS;

	for (;;) {
		if (!wdt_in_bounds(in->size, pos, sizeof(h))) {
			wdt_err_set(err, WDT_TRUNCATED,
				    "flattened: no end marker (file ends at "
				    "0x%" PRIx64 " after %zu records)",
				    in->size, cnt);
			goto fail;
		}
		if (wdt_source_read(in, h, sizeof(h), pos, err) < 0)
			goto fail;
		int64_t off = (int64_t)wdt_be64(h);
		int64_t sz = (int64_t)wdt_be64(h + 8);
		if (off == -1 && sz == -1)
			break;
		if (off < 0 || sz <= 0) {
			wdt_err_set(err, WDT_CORRUPT,
				    "flattened: record %zu at file offset "
				    "0x%" PRIx64 " has offset %" PRId64
				    " and size %" PRId64,
				    cnt, pos, off, sz);
			goto fail;
		}
		uint64_t end;
		if (!wdt_add_ok((uint64_t)off, (uint64_t)sz, &end) ||
		    (int64_t)end < 0) {
			wdt_err_set(err, WDT_CORRUPT,
				    "flattened: record %zu at file offset "
				    "0x%" PRIx64 " wraps past 2^63",
				    cnt, pos);
			goto fail;
		}
		pos += sizeof(h);
		if (!wdt_in_bounds(in->size, pos, (uint64_t)sz)) {
			wdt_err_set(err, WDT_TRUNCATED,
				    "flattened: record %zu at file offset "
				    "0x%" PRIx64 ": %" PRId64
				    " bytes of data run past the end of the "
				    "file (size 0x%" PRIx64 ")",
				    cnt, pos - sizeof(h), sz, in->size);
			goto fail;
		}
		if (cnt >= maxrec) {
			wdt_err_set(err, WDT_UNSUPPORTED,
				    "flattened: record %zu at file offset "
				    "0x%" PRIx64 ": the index is capped at "
				    "%" PRIu64 " records for a file of "
				    "%" PRIu64 " bytes (the larger of %u and "
				    "one per %u bytes of file)",
				    cnt, pos - sizeof(h), maxrec, in->size,
				    WDT_FLAT_FREE_RECORDS,
				    WDT_FLAT_MIN_RECORD_FILE);
			goto fail;
		}
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct rec *t = realloc(r, nc * sizeof(*r));
			if (!t) {
				wdt_err_nomem(err);
				goto fail;
			}
			r = t;
			cap = nc;
		}
		r[cnt++] = (struct rec){(uint64_t)off, end, pos};
		pos += (uint64_t)sz;
	}
	*out = r;
	*n = cnt;
	return 0;
fail:
	free(r);
	return -1;
}

/* ---- painting: latest record wins ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct by_start {
	uint64_t start;
	size_t idx;
};

static int cmp_start(const void *a, const void *b)
{
	const struct by_start *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Max-heap of record indexes: a higher index is a later record. */
static void heap_push(size_t *h, size_t *n, size_t v)
{
	size_t i = (*n)++;
	while (i > 0 && h[(i - 1) / 2] < v) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static void heap_pop(size_t *h, size_t *n)
{
	size_t v = h[--*n], i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] > h[c])
			c++;
		if (h[c] <= v)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = v;
}

static int emit(struct extent **e, size_t *n, size_t *cap, uint64_t start,
		uint64_t len, uint64_t pos, struct wdt_err *err)
{
	if (*n) {
		struct extent *l = &(*e)[*n - 1];
		if (l->start + l->len == start && l->pos + l->len == pos) {
			l->len += len;
			return 0;
		}
	}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct extent *t = realloc(*e, nc * sizeof(**e));
		if (!t)
			return wdt_err_nomem(err);
		*e = t;
		*cap = nc;
	}
	(*e)[(*n)++] = (struct extent){start, len, pos};
	return 0;
}

/*
 * Sweep the distinct boundaries in order; between two boundaries the
 * winner is the latest record covering the stretch (top of a max-heap
 * whose dead entries are dropped lazily). O(n log n) for any record order.
 */
static int paint(const struct rec *r, size_t n, struct extent **out,
		 size_t *nout, struct wdt_err *err)
{
	uint64_t *pts = malloc(2 * n * sizeof(*pts) + 1);
	struct by_start *ord = malloc(n * sizeof(*ord) + 1);
	size_t *heap = malloc(n * sizeof(*heap) + 1);
	struct extent *e = NULL;
	size_t ne = 0, cap = 0, npts = 0, hn = 0, k = 0;

	if (!pts || !ord || !heap) {
		wdt_err_nomem(err);
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		pts[npts++] = r[i].start;
		pts[npts++] = r[i].end;
		ord[i] = (struct by_start){r[i].start, i};
	}
	qsort(pts, npts, sizeof(*pts), cmp_u64);
	qsort(ord, n, sizeof(*ord), cmp_start);
	for (size_t p = 0; p < npts; p++) {
		uint64_t x = pts[p];
		if (p + 1 < npts && pts[p + 1] == x)
			continue;
		while (k < n && ord[k].start <= x)
			heap_push(heap, &hn, ord[k++].idx);
		while (hn && r[heap[0]].end <= x)
			heap_pop(heap, &hn);
		if (!hn || p + 1 >= npts)
			continue;
		const struct rec *w = &r[heap[0]];
		if (emit(&e, &ne, &cap, x, pts[p + 1] - x,
			 w->pos + (x - w->start), err) < 0)
			goto fail;
	}
	free(pts);
	free(ord);
	free(heap);
	*out = e;
	*nout = ne;
	return 0;
fail:
	free(pts);
	free(ord);
	free(heap);
	free(e);
	return -1;
}

/* Sorted, non-overlapping records need no painting (makedumpfile -F). */
static bool is_sorted(const struct rec *r, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (r[i].start < r[i - 1].end)
			return false;
	return true;
}

struct wdt_source *wdt_flat_open(struct wdt_source *inner, struct wdt_err *err)
{
	uint8_t hdr[WDT_FLAT_OFF_VERSION + 8];
	struct rec *r = NULL;
	size_t nr = 0;
	struct flat *f = NULL;
	struct wdt_source *src;

	if (wdt_source_read(inner, hdr, sizeof(hdr), 0, err) < 0 ||
	    wdt_flat_check_header(hdr, sizeof(hdr), err) < 0)
		return NULL;
	if (scan(inner, &r, &nr, err) < 0)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f) {
		wdt_err_nomem(err);
		goto fail;
	}
	f->nrecs = nr;
	if (is_sorted(r, nr)) {
		size_t cap = 0;
		for (size_t i = 0; i < nr; i++)
			if (emit(&f->ext, &f->next, &cap, r[i].start,
				 r[i].end - r[i].start, r[i].pos, err) < 0)
				goto fail;
	} else if (paint(r, nr, &f->ext, &f->next, err) < 0) {
		goto fail;
	}
	free(r);
	r = NULL;
	if (f->next) {
		/* Give back the doubling slack. */
		struct extent *t = realloc(f->ext, f->next * sizeof(*f->ext));
		if (t)
			f->ext = t;
	}
	uint64_t size =
	    f->next ? f->ext[f->next - 1].start + f->ext[f->next - 1].len : 0;
	f->inner = inner;
	src = wdt_source_new(&flat_ops, f, size, inner->name, err);
	if (!src)
		goto fail;
	return src;
fail:
	free(r);
	if (f)
		free(f->ext);
	free(f);
	return NULL;
}

static int flat_pread(struct wdt_source *src, void *buf, size_t len,
		      uint64_t off, size_t *got, struct wdt_err *err)
{
	struct flat *f = src->priv;
	uint8_t *p = buf;
	size_t lo = 0, hi = f->next, done = 0;

	/* First extent ending after off. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->ext[mid].start + f->ext[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (done < len) {
		uint64_t o = off + done;
		size_t want = len - done;
		if (lo >= f->next) {
			memset(p + done, 0, want);
			break;
		}
		const struct extent *x = &f->ext[lo];
		if (o < x->start) {
			uint64_t gap = x->start - o;
			size_t n = gap < want ? (size_t)gap : want;
			memset(p + done, 0, n);
			done += n;
			continue;
		}
		uint64_t avail = x->start + x->len - o;
		size_t n = avail < want ? (size_t)avail : want;
		if (wdt_source_read(f->inner, p + done, n,
				    x->pos + (o - x->start), err) < 0) {
			*got = done;
			return wdt_err_prefix(err, "flattened record data");
		}
		done += n;
		lo++;
	}
	*got = len;
	return 0;
}

static void flat_close(struct wdt_source *src)
{
	struct flat *f = src->priv;

	wdt_source_close(f->inner);
	free(f->ext);
	free(f);
}

static const struct wdt_source_ops flat_ops = {
    .pread = flat_pread,
    .close = flat_close,
};

bool wdt_flat_is(const struct wdt_source *src)
{
	return src && src->ops == &flat_ops;
}

uint64_t wdt_flat_records(const struct wdt_source *src)
{
	return wdt_flat_is(src) ? ((const struct flat *)src->priv)->nrecs : 0;
}

uint64_t wdt_flat_extents(const struct wdt_source *src)
{
	return wdt_flat_is(src) ? ((const struct flat *)src->priv)->next : 0;
}
