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
	img->runs[img->nruns++] = (struct wdt_run){ pa, len, file_off };
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
				"physical runs overlap: [0x%" PRIx64
				", 0x%" PRIx64 ") and [0x%" PRIx64
				", 0x%" PRIx64 ")",
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
			return wdt_err_prefix(err,
					      "reading physical address 0x%" PRIx64,
					      pa);
		p += n;
		pa += n;
		len -= n;
	}
	return 0;
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
