/* SPDX-License-Identifier: MIT */
#include "core/image.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const reg_names[WDT_NREGS] = {
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8",
    "r9",  "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags",
};

static const char *const seg_names[WDT_NSEGS] = {
    "cs", "ds", "es", "fs", "gs", "ss", "ldt", "tr", "gdt", "idt",
};

const char *wdt_reg_name(enum wdt_reg r)
{
	return (unsigned)r < WDT_NREGS ? reg_names[r] : "?";
}

const char *wdt_seg_name(enum wdt_segreg s)
{
	return (unsigned)s < WDT_NSEGS ? seg_names[s] : "?";
}

/* Grow *arr (of *cap elements of size sz) to hold n+1. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz,
		struct wdt_err *err)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	if (ncap > SIZE_MAX / sz)
		return wdt_err_nomem(err);
	void *p = realloc(*arr, ncap * sz);
	if (!p)
		return wdt_err_nomem(err);
	*arr = p;
	*cap = ncap;
	return 0;
}

int wdt_image_add_run(struct wdt_image *img, uint64_t pa, uint64_t len,
		      uint64_t file_off, struct wdt_err *err)
{
	if (grow((void **)&img->runs, &img->runs_cap, img->nruns,
		 sizeof(*img->runs), err) < 0)
		return -1;
	img->runs[img->nruns++] = (struct wdt_run){pa, len, file_off};
	return 0;
}

static int run_cmp(const void *a, const void *b)
{
	const struct wdt_run *x = a, *y = b;

	return x->pa < y->pa ? -1 : x->pa > y->pa;
}

int wdt_image_finish_runs(struct wdt_image *img, struct wdt_err *err)
{
	uint64_t end;

	for (size_t i = 0; i < img->nruns; i++) {
		const struct wdt_run *r = &img->runs[i];
		if (r->len == 0)
			return wdt_err_set(err, WDT_CORRUPT,
					   "empty physical run at 0x%" PRIx64,
					   r->pa);
		if (!wdt_add_ok(r->pa, r->len, &end) ||
		    !wdt_add_ok(r->file_off, r->len, &end))
			return wdt_err_set(err, WDT_CORRUPT,
					   "physical run at 0x%" PRIx64
					   " of 0x%" PRIx64
					   " bytes wraps the address space",
					   r->pa, r->len);
	}
	if (img->nruns > 1)
		qsort(img->runs, img->nruns, sizeof(*img->runs), run_cmp);
	for (size_t i = 1; i < img->nruns; i++) {
		const struct wdt_run *a = &img->runs[i - 1], *b = &img->runs[i];
		if (a->pa + a->len > b->pa)
			return wdt_err_set(
			    err, WDT_CORRUPT,
			    "physical runs overlap: [0x%" PRIx64 ", 0x%" PRIx64
			    ") and [0x%" PRIx64 ", 0x%" PRIx64 ")",
			    a->pa, a->pa + a->len, b->pa, b->pa + b->len);
	}
	return 0;
}

long wdt_image_find_run(const struct wdt_image *img, uint64_t pa)
{
	size_t lo = 0, hi = img->nruns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct wdt_run *r = &img->runs[mid];
		if (pa < r->pa)
			hi = mid;
		else if (pa - r->pa >= r->len)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

uint64_t wdt_image_total(const struct wdt_image *img)
{
	uint64_t t = 0;

	for (size_t i = 0; i < img->nruns; i++)
		t += img->runs[i].len;
	return t;
}

int wdt_image_read_phys(struct wdt_image *img, uint64_t pa, void *buf,
			size_t len, struct wdt_err *err)
{
	uint8_t *p = buf;

	while (len > 0) {
		long i = wdt_image_find_run(img, pa);
		if (i < 0)
			return wdt_err_set(err, WDT_NO_DATA,
					   "physical address 0x%" PRIx64
					   " is not in the image",
					   pa);
		const struct wdt_run *r = &img->runs[i];
		uint64_t avail = r->len - (pa - r->pa);
		size_t n = avail < len ? (size_t)avail : len;
		int rc;
		if (img->fmt && img->fmt->read)
			rc = img->fmt->read(img, r, pa, p, n, err);
		else
			rc = wdt_source_read(img->src, p, n,
					     r->file_off + (pa - r->pa), err);
		if (rc < 0)
			return wdt_err_prefix(
			    err, "reading physical address 0x%" PRIx64, pa);
		p += n;
		pa += n;
		len -= n;
	}
	return 0;
}

/* ---- page readers ---- */

/* First run that ends after pa. */
static size_t run_after(const struct wdt_image *img, uint64_t pa)
{
	size_t lo = 0, hi = img->nruns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct wdt_run *r = &img->runs[mid];
		if (r->pa + r->len <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int read_in_run(struct wdt_image *img, const struct wdt_run *r,
		       uint64_t pa, uint8_t *dst, size_t len,
		       struct wdt_err *err)
{
	if (img->fmt && img->fmt->read)
		return img->fmt->read(img, r, pa, dst, len, err);
	return wdt_source_read(img->src, dst, len, r->file_off + (pa - r->pa),
			       err);
}

/*
 * [pa, pa+len) inside run r in one read; when that fails, again a page at
 * a time, so the message names the page that fails (only the error path
 * pays for it).
 */
static int read_piece(struct wdt_image *img, const struct wdt_run *r,
		      uint64_t pa, uint8_t *dst, size_t len,
		      struct wdt_err *err)
{
	if (read_in_run(img, r, pa, dst, len, err) == 0)
		return 0;
	for (size_t at = 0; at < len;
	     at += WDT_PAGE_SIZE - (pa + at) % WDT_PAGE_SIZE) {
		size_t n = WDT_PAGE_SIZE - (pa + at) % WDT_PAGE_SIZE;
		if (read_in_run(img, r, pa + at, dst + at,
				n < len - at ? n : len - at, err) < 0)
			return wdt_err_prefix(
			    err, "reading physical address 0x%" PRIx64,
			    pa + at);
	}
	return wdt_err_set(err, WDT_IO,
			   "reading physical address 0x%" PRIx64
			   ": failed once, then succeeded",
			   pa);
}

int wdt_image_read_pages(struct wdt_image *img, uint64_t pa, size_t npages,
			 void *buf, uint8_t *zero, struct wdt_err *err)
{
	uint8_t *b = buf;
	uint64_t cur = pa, end = pa + (uint64_t)npages * WDT_PAGE_SIZE;
	size_t i = run_after(img, pa);

	while (cur < end) {
		const struct wdt_run *r = i < img->nruns ? &img->runs[i] : NULL;
		if (r && r->pa <= cur) {
			uint64_t rend = r->pa + r->len;
			uint64_t e = rend < end ? rend : end;
			if (read_piece(img, r, cur, b + (cur - pa),
				       (size_t)(e - cur), err) < 0)
				return -1;
			cur = e;
			i++;
		} else {
			uint64_t e = r && r->pa < end ? r->pa : end;
			memset(b + (cur - pa), 0, (size_t)(e - cur));
			cur = e;
		}
	}
	for (size_t k = 0; zero && k < npages; k++)
		zero[k] = wdt_all_zero(b + k * WDT_PAGE_SIZE, WDT_PAGE_SIZE);
	return 0;
}

struct wdt_image_reader {
	struct wdt_image *img;
	void *fr; /* the format's reader; NULL for the default */
};

struct wdt_image_reader *wdt_image_reader_new(struct wdt_image *img,
					      struct wdt_err *err)
{
	struct wdt_image_reader *r = calloc(1, sizeof(*r));

	if (!r) {
		wdt_err_nomem(err);
		return NULL;
	}
	r->img = img;
	if (img->fmt && img->fmt->reader_new &&
	    !(r->fr = img->fmt->reader_new(img, err))) {
		free(r);
		return NULL;
	}
	return r;
}

int wdt_image_reader_read(struct wdt_image_reader *r, uint64_t pa,
			  size_t npages, void *buf, uint8_t *zero,
			  struct wdt_err *err)
{
	if (pa % WDT_PAGE_SIZE)
		return wdt_err_set(err, WDT_INTERNAL,
				   "page read at unaligned address 0x%" PRIx64,
				   pa);
	if (r->fr)
		return r->img->fmt->reader_read(r->fr, pa, npages, buf, zero,
						err);
	return wdt_image_read_pages(r->img, pa, npages, buf, zero, err);
}

void wdt_image_reader_free(struct wdt_image_reader *r)
{
	if (!r)
		return;
	if (r->fr)
		r->img->fmt->reader_free(r->fr);
	free(r);
}

unsigned wdt_image_reader_threads(const struct wdt_image *img, unsigned want)
{
	return img->src && img->src->serial ? 1 : want;
}

int wdt_image_add_cpu(struct wdt_image *img, const struct wdt_cpu *cpu,
		      struct wdt_err *err)
{
	struct wdt_cpu *n = realloc(img->cpus, (img->ncpus + 1) * sizeof(*n));

	if (!n)
		return wdt_err_nomem(err);
	img->cpus = n;
	img->cpus[img->ncpus++] = *cpu;
	return 0;
}

int wdt_image_add_note(struct wdt_image *img, const struct wdt_note *note,
		       struct wdt_err *err)
{
	struct wdt_note *n =
	    realloc(img->notes, (img->nnotes + 1) * sizeof(*n));

	if (!n)
		return wdt_err_nomem(err);
	img->notes = n;
	img->notes[img->nnotes++] = *note;
	return 0;
}

void wdt_image_close(struct wdt_image *img)
{
	if (!img)
		return;
	if (img->fmt && img->fmt->close)
		img->fmt->close(img);
	wdt_source_close(img->src);
	free(img->runs);
	free(img->cpus);
	free(img->notes);
	free(img->path);
	free(img);
}
