/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/bytes.h"
#include "core/source.h"
#include "formats/kdump.h"
#include "formats/registry.h"

struct wdt_image *wdt_test_open_mem(const void *buf, size_t len,
				    const char *format, struct wdt_err *err)
{
	struct wdt_source *src = wdt_source_open_mem(buf, len, "mem", err);

	if (!src)
		return NULL;
	return wdt_image_open_source(src, format, err);
}

void wdt_test_kdump_header(uint8_t *p, uint32_t bs, uint32_t status,
			   uint32_t bitmap_blocks, uint64_t max_mapnr)
{
	memcpy(p, WDT_KDUMP_SIG, WDT_KDUMP_SIG_LEN);
	wdt_put_le32(p + WDT_KDH_VERSION, 6);
	memcpy(p + WDT_KDH_UTS_MACHINE, "x86_64", 6);
	wdt_put_le32(p + WDT_KDH_STATUS, status);
	wdt_put_le32(p + WDT_KDH_BLOCK_SIZE, bs);
	wdt_put_le32(p + WDT_KDH_SUB_HDR_SIZE, 1);
	wdt_put_le32(p + WDT_KDH_BITMAP_BLOCKS, bitmap_blocks);
	wdt_put_le32(p + WDT_KDH_MAX_MAPNR, (uint32_t)max_mapnr);
	wdt_put_le32(p + WDT_KDH_NR_CPUS, 1);
	wdt_put_le32(p + bs + WDT_KSH_DUMP_LEVEL, 1);
	wdt_put_le64(p + bs + WDT_KSH_MAX_MAPNR_64, max_mapnr);
}

int wdt_test_reader_read(struct wdt_image *img, uint64_t pa, size_t npages,
			 void *buf, uint8_t *zero, struct wdt_err *err)
{
	struct wdt_image_reader *r = wdt_image_reader_new(img, err);
	int rc;

	if (!r)
		return -1;
	rc = wdt_image_reader_read(r, pa, npages, buf, zero, err);
	wdt_image_reader_free(r);
	return rc;
}

struct agree {
	struct wdt_image *img;
	uint64_t pa;
	size_t npages;
	const uint8_t *want;
	unsigned index, rounds;
	unsigned bad; /* failed or wrong reads */
	struct wdt_err err;
};

/* cmocka's asserts are not thread-safe: count, assert in the caller. */
static void *agree_thread(void *arg)
{
	struct agree *a = arg;
	struct wdt_image_reader *r = wdt_image_reader_new(a->img, &a->err);
	uint8_t page[WDT_PAGE_SIZE], zero;
	static const uint8_t zeros[WDT_PAGE_SIZE];

	if (!r) {
		a->bad++;
		return NULL;
	}
	for (unsigned k = 0; k < a->rounds; k++)
		for (size_t j = 0; j < a->npages; j++) {
			size_t i = (j + a->index * 7 + k) % a->npages;
			const uint8_t *w = a->want + i * WDT_PAGE_SIZE;
			bool flags = (i + k + a->index) % 2;
			if (wdt_image_reader_read(r, a->pa + i * WDT_PAGE_SIZE,
						  1, page, flags ? &zero : NULL,
						  &a->err) < 0) {
				a->bad++;
				continue;
			}
			if (flags && zero)
				a->bad += memcmp(w, zeros, sizeof(zeros)) != 0;
			else
				a->bad += memcmp(w, page, sizeof(page)) != 0;
		}
	wdt_image_reader_free(r);
	return NULL;
}

void wdt_test_readers_agree(struct wdt_image *img, uint64_t pa, size_t npages,
			    const uint8_t *want, unsigned nthreads,
			    unsigned rounds)
{
	struct agree a[16];
	pthread_t th[16];

	assert_true(nthreads > 0 && nthreads <= 16);
	for (unsigned t = 0; t < nthreads; t++) {
		a[t] = (struct agree){.img = img,
				      .pa = pa,
				      .npages = npages,
				      .want = want,
				      .index = t,
				      .rounds = rounds};
		wdt_err_clear(&a[t].err);
		assert_int_equal(
		    pthread_create(&th[t], NULL, agree_thread, &a[t]), 0);
	}
	for (unsigned t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	for (unsigned t = 0; t < nthreads; t++)
		if (a[t].bad)
			fail_msg("reader thread %u: %u bad reads (%s)", t,
				 a[t].bad, a[t].err.msg);
}

void wdt_test_reader_contract(struct wdt_image *img, unsigned nthreads)
{
	struct wdt_err err;
	const uint64_t pg = WDT_PAGE_SIZE;

	assert_true(img->nruns > 0);
	const struct wdt_run *last = &img->runs[img->nruns - 1];
	uint64_t lo = img->runs[0].pa & ~(pg - 1);
	uint64_t hi = ((last->pa + last->len + pg - 1) & ~(pg - 1)) + pg;
	size_t n = (size_t)((hi - lo) / pg);
	assert_true(n <= 65536); /* test images are small */
	uint8_t *want = calloc(n, pg), *buf = malloc(n * pg);
	uint8_t *zero = malloc(n);
	assert_non_null(want);
	assert_non_null(buf);
	assert_non_null(zero);
	for (size_t i = 0; i < img->nruns; i++) {
		const struct wdt_run *r = &img->runs[i];
		if (wdt_image_read_phys(img, r->pa, want + (r->pa - lo),
					(size_t)r->len, &err) < 0)
			fail_msg("read_phys: %s", err.msg);
	}
	memset(buf, 0xaa, n * pg);
	if (wdt_test_reader_read(img, lo, n, buf, NULL, &err) < 0)
		fail_msg("reader: %s", err.msg);
	assert_memory_equal(buf, want, n * pg);
	memset(buf, 0xaa, n * pg);
	memset(zero, 7, n);
	if (wdt_test_reader_read(img, lo, n, buf, zero, &err) < 0)
		fail_msg("reader with flags: %s", err.msg);
	for (size_t i = 0; i < n; i++) {
		bool z = wdt_all_zero(want + i * pg, (size_t)pg);
		if (zero[i] != z)
			fail_msg("page 0x%llx: zero flag %u, page %s zero",
				 (unsigned long long)(lo + i * pg), zero[i],
				 z ? "is" : "is not");
		if (!z)
			assert_memory_equal(buf + i * pg, want + i * pg, pg);
	}
	wdt_test_readers_agree(img, lo, n, want, nthreads, 2);
	free(want);
	free(buf);
	free(zero);
}
