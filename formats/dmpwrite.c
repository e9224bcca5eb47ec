/* SPDX-License-Identifier: MIT */
/* Streaming DMP writer and the shared body loop (see dmpwrite.h). */
#include "formats/dmpwrite.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/workers.h"
#include "formats/dmp_layout.h"

_Static_assert(WDT_DMP64_PMB_RUNS + 16 * WDT_DMP64_MAX_RUNS <=
		   WDT_DMP64_PMB + WDT_DMP64_PMB_SIZE,
	       "42 runs fit the 700-byte PhysicalMemoryBlock");
_Static_assert(WDT_DMPW_UNIT % WDT_PAGE_SIZE == 0, "units are whole pages");
_Static_assert(WDT_DMP64_PMB_SIZE % 4 == 0, "'PAGE' fill is whole dwords");
_Static_assert(WDT_DMP64_REQUIRED_SPACE + 8 <= WDT_DMP64_HDR_SIZE &&
		   WDT_DMP64_DUMP_TYPE + 4 <= WDT_DMP64_REQUIRED_SPACE,
	       "header fields inside the header");

/*
 * LeechCore refuses bitmaps of more than 0x7FFFFFFF bits (dmp64.md §7):
 * physical addresses up to 8 TiB.
 */
#define BMP_MAX_BITS 0x7FFFFFF8ull
#define BMP_PIECE (1u << 20) /* bitmap bytes built and written at once */

/* ---- spans ---- */

int wdt_dmpw_spans(const struct wdt_image *img, struct wdt_span **spans,
		   size_t *n, struct wdt_err *err)
{
	struct wdt_span *s = NULL;
	size_t k = 0;

	*spans = NULL;
	*n = 0;
	if (img->nruns == 0)
		return 0;
	if (img->nruns > SIZE_MAX / sizeof(*s) ||
	    !(s = malloc(img->nruns * sizeof(*s))))
		return wdt_err_nomem(err);
	for (size_t i = 0; i < img->nruns; i++) {
		const struct wdt_run *r = &img->runs[i];
		uint64_t lo = r->pa & ~WDT_PAGE_MASK, end;
		if (!wdt_add_ok(r->pa, r->len, &end) ||
		    end > UINT64_MAX - WDT_PAGE_SIZE) {
			free(s);
			return wdt_err_set(err, WDT_UNSUPPORTED,
					   "physical run at 0x%" PRIx64
					   " reaches the top of the address "
					   "space",
					   r->pa);
		}
		uint64_t hi = (end + WDT_PAGE_SIZE - 1) & ~WDT_PAGE_MASK;
		if (k > 0 && lo <= s[k - 1].pa + s[k - 1].len) {
			if (hi > s[k - 1].pa + s[k - 1].len)
				s[k - 1].len = hi - s[k - 1].pa;
			continue;
		}
		s[k++] = (struct wdt_span){lo, hi - lo, 0};
	}
	*spans = s;
	*n = k;
	return 0;
}

int wdt_dmpw_check_patches(const struct wdt_span *s, size_t n,
			   const struct wdt_dmp_patch *p, size_t np,
			   struct wdt_err *err)
{
	for (size_t i = 0; i < np; i++) {
		uint64_t end;
		size_t lo = 0, hi = n;

		if (p[i].len == 0)
			continue;
		if (!p[i].data)
			return wdt_err_set(err, WDT_INTERNAL,
					   "patch at 0x%" PRIx64 " has no data",
					   p[i].pa);
		if (!wdt_add_ok(p[i].pa, p[i].len, &end))
			goto out;
		/* the last span starting at or before pa */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (s[mid].pa <= p[i].pa)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0 && end <= s[lo - 1].pa + s[lo - 1].len)
			continue;
	out:
		return wdt_err_set(err, WDT_NO_DATA,
				   "patch of %" PRIu32 " bytes at physical "
				   "address 0x%" PRIx64 ": not in the image",
				   p[i].len, p[i].pa);
	}
	return 0;
}

/* ---- the body loop ---- */

/*
 * Each of o->threads threads (the caller's among them) takes the next unit
 * of UNIT_PAGES pages, reads it with its own image reader (which flags
 * the zero pages, so kdump's shared zero page is neither decoded again
 * nor scanned), lays the patches over it and writes its data pages
 * itself. Units are independent, so there is no barrier and no writer
 * thread, and one thread means one thread. A stream output takes the
 * units in order from one worker; a serial source (compressed raw) gets
 * one worker too (wdt_image_reader_threads).
 */
#define UNIT_PAGES (WDT_DMPW_UNIT / WDT_PAGE_SIZE)

struct body {
	struct wdt_image *img;
	const struct wdt_span *s;
	size_t n;
	uint64_t *units; /* units before span i (n + 1 entries) */
	const struct wdt_dmp_patch *p;
	size_t np;
	const struct wdt_dmp_write_opts *o;
	struct wdt_outfile *of;
	uint64_t base; /* progress before the body */
	atomic_uint_fast64_t next, done, zero_pages;
	struct wdt_first_err fail;
};

struct worker {
	struct body *q;
	bool main; /* the caller's thread: draws the progress line */
	struct wdt_image_reader *rd;
	uint8_t *buf;
	uint8_t zero[UNIT_PAGES];
};

/* The patches over the unit at pa; touched pages are zero-tested again. */
static void patch(struct worker *w, uint64_t pa, size_t npg)
{
	const struct wdt_dmp_patch *p = w->q->p;
	uint64_t end = pa + (uint64_t)npg * WDT_PAGE_SIZE;

	for (size_t i = 0; i < w->q->np; i++) {
		uint64_t lo = p[i].pa, hi = p[i].pa + p[i].len;
		if (hi <= pa || lo >= end)
			continue;
		size_t a = lo < pa ? 0 : (size_t)((lo - pa) / WDT_PAGE_SIZE);
		size_t b = hi >= end
			       ? npg
			       : (size_t)((hi - 1 - pa) / WDT_PAGE_SIZE) + 1;
		for (size_t k = a; k < b; k++)
			if (w->zero[k]) {
				memset(w->buf + k * WDT_PAGE_SIZE, 0,
				       WDT_PAGE_SIZE);
				w->zero[k] = 0;
			}
		if (lo < pa)
			lo = pa;
		if (hi > end)
			hi = end;
		memcpy(w->buf + (lo - pa), p[i].data + (lo - p[i].pa),
		       (size_t)(hi - lo));
		for (size_t k = a; k < b; k++)
			w->zero[k] = wdt_all_zero(w->buf + k * WDT_PAGE_SIZE,
						  WDT_PAGE_SIZE);
	}
}

/* The unit's pages at off: data pages in as few writes as possible. */
static int emit(struct worker *w, uint64_t off, size_t npg, uint64_t *zeros,
		struct wdt_err *e)
{
	bool sparse = w->q->o->sparse;
	size_t start = 0;

	for (size_t k = 0; k < npg; k++) {
		if (!w->zero[k])
			continue;
		(*zeros)++;
		if (!sparse) {
			memset(w->buf + k * WDT_PAGE_SIZE, 0, WDT_PAGE_SIZE);
			continue;
		}
		if (k > start &&
		    wdt_outfile_write_at(w->q->of, off + start * WDT_PAGE_SIZE,
					 w->buf + start * WDT_PAGE_SIZE,
					 (k - start) * WDT_PAGE_SIZE, e) < 0)
			return -1;
		start = k + 1;
	}
	if (npg > start)
		return wdt_outfile_write_at(w->q->of,
					    off + start * WDT_PAGE_SIZE,
					    w->buf + start * WDT_PAGE_SIZE,
					    (npg - start) * WDT_PAGE_SIZE, e);
	return 0;
}

/* Unit u (numbered across all spans): read, patch, write. */
static int unit(struct worker *w, uint64_t u, struct wdt_err *e)
{
	struct body *q = w->q;
	size_t lo = 0, hi = q->n; /* the span holding unit u */

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (q->units[mid] <= u)
			lo = mid;
		else
			hi = mid;
	}
	const struct wdt_span *sp = &q->s[lo];
	uint64_t at = (u - q->units[lo]) * UNIT_PAGES * WDT_PAGE_SIZE;
	uint64_t left = sp->len - at, zeros = 0;
	size_t npg = (size_t)((left < UNIT_PAGES * WDT_PAGE_SIZE
				   ? left
				   : UNIT_PAGES * WDT_PAGE_SIZE) /
			      WDT_PAGE_SIZE);
	if (wdt_image_reader_read(w->rd, sp->pa + at, npg, w->buf, w->zero, e) <
	    0)
		return -1;
	patch(w, sp->pa + at, npg);
	if (emit(w, sp->off + at, npg, &zeros, e) < 0)
		return -1;
	atomic_fetch_add(&q->zero_pages, zeros);
	uint64_t d = atomic_fetch_add(&q->done, npg * WDT_PAGE_SIZE) +
		     npg * WDT_PAGE_SIZE;
	if (w->main)
		wdt_progress_update(q->o->progress, q->base + d);
	return 0;
}

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct body *q = w->q;
	struct wdt_err e;

	wdt_err_clear(&e);
	for (;;) {
		uint64_t u = atomic_fetch_add(&q->next, 1);
		if (u >= q->units[q->n] || wdt_first_err_any(&q->fail))
			break;
		if (unit(w, u, &e) < 0) {
			wdt_first_err_set(&q->fail, u, &e);
			break;
		}
	}
	return NULL;
}

int wdt_dmpw_body(struct wdt_image *img, const struct wdt_span *s, size_t n,
		  const struct wdt_dmp_patch *p, size_t np,
		  const struct wdt_dmp_write_opts *o, struct wdt_outfile *of,
		  uint64_t *done, uint64_t *zero_pages, struct wdt_err *err)
{
	struct body q;
	struct worker *w = NULL;
	pthread_t *th = NULL;
	unsigned nt, started = 0;
	int rc = 0;

	memset(&q, 0, sizeof(q));
	q.img = img;
	q.s = s;
	q.n = n;
	q.p = p;
	q.np = np;
	q.o = o;
	q.of = of;
	q.base = *done;
	q.units = malloc((n + 1) * sizeof(*q.units));
	if (!q.units)
		return wdt_err_nomem(err);
	q.units[0] = 0;
	for (size_t i = 0; i < n; i++)
		q.units[i + 1] =
		    q.units[i] +
		    (s[i].len / WDT_PAGE_SIZE + UNIT_PAGES - 1) / UNIT_PAGES;
	/* Standard output takes the units in order: one worker. */
	nt = wdt_outfile_is_stream(of) ? 1 : o->threads;
	nt = wdt_image_reader_threads(img, wdt_workers_count(nt, q.units[n]));
	atomic_init(&q.next, 0);
	atomic_init(&q.done, 0);
	atomic_init(&q.zero_pages, 0);
	wdt_first_err_init(&q.fail);
	w = calloc(nt, sizeof(*w));
	th = calloc(nt, sizeof(*th));
	for (unsigned i = 0; w && i < nt && rc == 0; i++) {
		w[i].q = &q;
		w[i].main = i == 0;
		w[i].buf =
		    aligned_alloc(WDT_PAGE_SIZE, UNIT_PAGES * WDT_PAGE_SIZE);
		if (!w[i].buf)
			rc = wdt_err_nomem(err);
		else if (!(w[i].rd = wdt_image_reader_new(img, err)))
			rc = -1;
	}
	if (!w || !th || rc < 0) {
		wdt_first_err_finish(&q.fail, NULL);
		if (!w || !th)
			wdt_err_nomem(err);
		rc = -1;
		goto out;
	}
	/* The calling thread works too; extra threads only if they start. */
	for (unsigned i = 1; i < nt; i++) {
		if (pthread_create(&th[i], NULL, worker, &w[i]) != 0)
			break;
		started++;
	}
	worker(&w[0]);
	for (unsigned i = 1; i <= started; i++)
		pthread_join(th[i], NULL);
	rc = wdt_first_err_finish(&q.fail, err);
	if (rc == 0) /* the zero pages at the end are holes the file spans */
		for (size_t i = 0; i < n; i++)
			wdt_outfile_hole(of, s[i].off, s[i].len);
	*done += atomic_load(&q.done);
	*zero_pages += atomic_load(&q.zero_pages);
out:
	for (unsigned i = 0; w && i < nt; i++) {
		wdt_image_reader_free(w[i].rd);
		free(w[i].buf);
	}
	free(w);
	free(th);
	free(q.units);
	return rc;
}

/* ---- DMP layout ---- */

static void put_runs(uint8_t *hdr, const struct wdt_span *s, size_t n,
		     uint64_t pages)
{
	wdt_put_le32(hdr + WDT_DMP64_PMB_NRUNS, (uint32_t)n);
	wdt_put_le64(hdr + WDT_DMP64_PMB_NPAGES, pages);
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = hdr + WDT_DMP64_PMB_RUNS + 16 * i;
		wdt_put_le64(e, s[i].pa / WDT_PAGE_SIZE);
		wdt_put_le64(e + 8, s[i].len / WDT_PAGE_SIZE);
	}
}

/*
 * Write the FDMP header and the bitmap at 0x2000, up to first_page, built
 * a piece at a time: bit f set for every PFN f in a span.
 */
static int put_bitmap(struct wdt_outfile *of, const struct wdt_span *s,
		      size_t n, uint64_t bits, uint64_t pages,
		      uint64_t first_page, struct wdt_err *err)
{
	uint64_t nbytes = bits / 8, off = WDT_DMP64_HDR_SIZE;
	uint64_t total = first_page - off; /* header + bitmap + padding */
	uint8_t *buf = calloc(1, BMP_PIECE);
	size_t k = 0;
	int rc = 0;

	if (!buf)
		return wdt_err_nomem(err);
	/* Piece q covers file bytes [off + q*BMP_PIECE, …). */
	for (uint64_t at = 0; at < total && rc == 0; at += BMP_PIECE) {
		size_t len =
		    total - at < BMP_PIECE ? (size_t)(total - at) : BMP_PIECE;
		memset(buf, 0, len);
		if (at == 0) {
			wdt_put_le32(buf + WDT_BMP_SIGNATURE, WDT_DMP_SIG_FDMP);
			wdt_put_le32(buf + WDT_BMP_VALID_DUMP,
				     WDT_DMP_VALID_DUMP);
			wdt_put_le64(buf + WDT_BMP_FIRST_PAGE, first_page);
			wdt_put_le64(buf + WDT_BMP_PRESENT_PAGES, pages);
			wdt_put_le64(buf + WDT_BMP_BITS, bits);
		}
		/* bitmap bytes [b0, b1) live in this piece */
		uint64_t b0 = at < WDT_BMP_BITMAP ? 0 : at - WDT_BMP_BITMAP;
		uint64_t b1 = at + len - WDT_BMP_BITMAP;
		if (b1 > nbytes)
			b1 = nbytes;
		uint8_t *bm = buf + (WDT_BMP_BITMAP + b0 - at); /* byte b0 */
		for (; k < n && b0 < b1; k++) {
			uint64_t f0 = s[k].pa / WDT_PAGE_SIZE,
				 f1 = f0 + s[k].len / WDT_PAGE_SIZE;
			if (f0 < b0 * 8)
				f0 = b0 * 8;
			if (f1 > b1 * 8)
				f1 = b1 * 8;
			for (uint64_t f = f0; f < f1; f++)
				bm[f / 8 - b0] |= (uint8_t)(1u << (f % 8));
			if ((s[k].pa + s[k].len) / WDT_PAGE_SIZE > b1 * 8)
				break; /* continues in the next piece */
		}
		rc = wdt_outfile_write_at(of, off + at, buf, len, err);
	}
	free(buf);
	return rc;
}

static int choose(const struct wdt_dmp_write_opts *o, size_t nspans,
		  uint32_t *type, struct wdt_err *err)
{
	switch (o->kind) {
	case WDT_DMP_FULL:
		if (nspans > WDT_DMP64_MAX_RUNS)
			return wdt_err_set(
			    err, WDT_UNSUPPORTED,
			    "%zu physical runs do not fit a full "
			    "dump's header (at most %u); write a "
			    "bitmap dump",
			    nspans, WDT_DMP64_MAX_RUNS);
		*type = WDT_DUMP_TYPE_FULL;
		return 0;
	case WDT_DMP_BITMAP:
		*type = WDT_DUMP_TYPE_BITMAP_FULL;
		return 0;
	case WDT_DMP_AUTO:
		*type = nspans <= WDT_DMP64_MAX_RUNS
			    ? WDT_DUMP_TYPE_FULL
			    : WDT_DUMP_TYPE_BITMAP_FULL;
		return 0;
	}
	return wdt_err_set(err, WDT_INTERNAL, "unknown dump kind %d",
			   (int)o->kind);
}

static int layout_and_write(struct wdt_image *img, uint8_t *hdr,
			    struct wdt_span *s, size_t n,
			    const struct wdt_dmp_patch *p, size_t np,
			    const struct wdt_dmp_write_opts *o,
			    struct wdt_outfile *of,
			    struct wdt_dmp_write_result *r, struct wdt_err *err)
{
	uint64_t pages = 0, body, done = 0, bits = 0;

	if (choose(o, n, &r->dump_type, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		pages += s[i].len / WDT_PAGE_SIZE;
	wdt_progress_set_total(o->progress, pages * WDT_PAGE_SIZE);
	body = WDT_DMP64_HDR_SIZE;
	if (r->dump_type == WDT_DUMP_TYPE_FULL) {
		put_runs(hdr, s, n, pages);
	} else {
		uint64_t maxpfn =
		    n ? (s[n - 1].pa + s[n - 1].len) / WDT_PAGE_SIZE : 0;
		bits = (maxpfn + 7) & ~7ull;
		if (bits > BMP_MAX_BITS)
			return wdt_err_set(err, WDT_UNSUPPORTED,
					   "physical memory up to 0x%" PRIx64
					   " is too large for a bitmap dump "
					   "(8 TiB at most)",
					   s[n - 1].pa + s[n - 1].len);
		for (uint32_t i = 0; i < WDT_DMP64_PMB_SIZE; i += 4)
			wdt_put_le32(hdr + WDT_DMP64_PMB + i, WDT_DMP_SIG_PAGE);
		body = (WDT_DMP64_HDR_SIZE + WDT_BMP_BITMAP + bits / 8 +
			WDT_PAGE_SIZE - 1) &
		       ~WDT_PAGE_MASK;
	}
	for (size_t i = 0, at = 0; i < n; at += s[i].len, i++)
		s[i].off = body + at;
	r->nruns = (uint32_t)n;
	r->pages = pages;
	r->file_size = body + pages * WDT_PAGE_SIZE;
	wdt_put_le32(hdr + WDT_DMP64_DUMP_TYPE, r->dump_type);
	wdt_put_le64(hdr + WDT_DMP64_REQUIRED_SPACE, r->file_size);
	if (wdt_outfile_write_at(of, 0, hdr, WDT_DMP64_HDR_SIZE, err) < 0)
		return -1;
	if (r->dump_type != WDT_DUMP_TYPE_FULL &&
	    put_bitmap(of, s, n, bits, pages, body, err) < 0)
		return -1;
	if (wdt_dmpw_body(img, s, n, p, np, o, of, &done, &r->zero_pages, err) <
	    0)
		return -1;
	wdt_outfile_hole(of, r->file_size, 0);
	return 0;
}

int wdt_dmp_write(struct wdt_image *img, uint8_t *hdr,
		  const struct wdt_dmp_patch *p, size_t np,
		  const struct wdt_dmp_write_opts *o, struct wdt_outfile *of,
		  struct wdt_dmp_write_result *r, struct wdt_err *err)
{
	struct wdt_dmp_write_result local;
	struct wdt_span *s;
	size_t n;
	int rc;

	if (!r)
		r = &local;
	memset(r, 0, sizeof(*r));
	if (wdt_dmpw_spans(img, &s, &n, err) < 0)
		return -1;
	if (n == 0)
		return wdt_err_set(err, WDT_NO_DATA,
				   "the image holds no memory");
	rc = wdt_dmpw_check_patches(s, n, p, np, err);
	if (rc == 0)
		rc = layout_and_write(img, hdr, s, n, p, np, o, of, r, err);
	free(s);
	return rc;
}
