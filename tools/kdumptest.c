/* SPDX-License-Identifier: MIT */
/*
 * kdumptest: a test-only window on wdt's image readers for the integration
 * scripts (tests/integration/t04NN-*.sh). It opens an image through the
 * format registry, as `wdt` does, and prints what the reader sees:
 *
 *   kdumptest info IMG              format, variant, CPUs, notes
 *   kdumptest runs IMG              one line per run: pa len (hex)
 *   kdumptest cat IMG               every run's bytes, in run order
 *   kdumptest read IMG PA LEN       LEN bytes at physical address PA
 *   kdumptest bulk IMG PFN N [T]    N 4 KiB pages from PFN through the
 *                                   page readers (wdt_image_reader_*) on
 *                                   T threads (0 = one per core), 256
 *                                   pages a call; pages in no run are 0
 *   kdumptest pages IMG [T [CHUNK]] every page of every run the same way
 *                                   in CHUNK-page rounds (default 16384),
 *                                   data discarded; prints pages, bytes,
 *                                   seconds (bench)
 *
 * Bytes go to stdout (pipe into sha256sum); errors are one line on stderr,
 * exit 3 for input errors, 1 otherwise.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/workers.h"
#include "formats/registry.h"

#define PG WDT_PAGE_SIZE
#define UNIT 256u

static int fail(const char *path, const struct wdt_err *e)
{
	fprintf(stderr, "kdumptest: %s: %s (%s)\n", path, e->msg,
		wdt_status_name(e->status));
	return wdt_status_exit(e->status) == 3 ? 3 : 1;
}

static int put(const void *buf, size_t n)
{
	return fwrite(buf, 1, n, stdout) == n ? 0 : -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n pages at pa into buf: units of UNIT pages over threads, a reader each. */
struct bulk {
	struct wdt_image *img;
	uint64_t pa;
	size_t n;
	uint8_t *buf;
	atomic_uint_fast64_t next;
	struct wdt_first_err fail;
};

static void *bulk_worker(void *arg)
{
	struct bulk *b = arg;
	struct wdt_err e;
	struct wdt_image_reader *r;

	wdt_err_clear(&e);
	if (!(r = wdt_image_reader_new(b->img, &e))) {
		wdt_first_err_set(&b->fail, 0, &e);
		return NULL;
	}
	for (;;) {
		uint64_t u = atomic_fetch_add(&b->next, 1), lo = u * UNIT;
		if (lo >= b->n || wdt_first_err_any(&b->fail))
			break;
		size_t k = b->n - lo < UNIT ? (size_t)(b->n - lo) : UNIT;
		if (wdt_image_reader_read(r, b->pa + lo * PG, k,
					  b->buf + lo * PG, NULL, &e) < 0) {
			wdt_first_err_set(&b->fail, u, &e);
			break;
		}
	}
	wdt_image_reader_free(r);
	return NULL;
}

static int bulk_read(struct wdt_image *img, uint64_t pa, size_t n, void *buf,
		     unsigned t, struct wdt_err *err)
{
	struct bulk b = {.img = img, .pa = pa, .n = n, .buf = buf};
	pthread_t th[64];
	unsigned started = 0;

	t = wdt_workers_count(t, (n + UNIT - 1) / UNIT);
	t = wdt_image_reader_threads(img, t < 64 ? t : 64);
	atomic_init(&b.next, 0);
	wdt_first_err_init(&b.fail);
	for (unsigned i = 1; i < t; i++)
		if (pthread_create(&th[started], NULL, bulk_worker, &b) == 0)
			started++;
	bulk_worker(&b);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	return wdt_first_err_finish(&b.fail, err);
}

/* Read every page of every run in CHUNK-page rounds; time only that. */
static int all_pages(struct wdt_image *img, const char *path, unsigned t,
		     size_t chunk)
{
	struct wdt_err err;
	uint64_t pages = 0;
	uint8_t *buf = chunk ? malloc(chunk * PG) : NULL;

	wdt_err_clear(&err);
	if (!buf) {
		fprintf(stderr, "kdumptest: %s: no memory\n", path);
		return 1;
	}
	double t0 = now();
	for (size_t i = 0; i < img->nruns; i++) {
		uint64_t pa = img->runs[i].pa & ~(uint64_t)(PG - 1);
		uint64_t n =
		    (img->runs[i].pa + img->runs[i].len - pa + PG - 1) / PG;
		while (n > 0) {
			size_t k = n < chunk ? (size_t)n : chunk;
			if (bulk_read(img, pa, k, buf, t, &err) < 0) {
				free(buf);
				return fail(path, &err);
			}
			pa += k * PG;
			n -= k;
			pages += k;
		}
	}
	double dt = now() - t0;
	free(buf);
	printf("pages %" PRIu64 " bytes %" PRIu64 " seconds %.6f\n", pages,
	       pages * PG, dt);
	return 0;
}

int main(int argc, char **argv)
{
	struct wdt_err err;
	struct wdt_image *img;
	int rc = 0;

	wdt_err_clear(&err);
	if (argc < 3) {
		fprintf(stderr, "usage: kdumptest "
				"info|runs|cat|read|bulk|pages IMG [ARGS]\n");
		return 2;
	}
	const char *cmd = argv[1], *path = argv[2];
	const char *fmt = getenv("KDUMPTEST_FORMAT");
	img = wdt_image_open(path, fmt && *fmt ? fmt : NULL, &err);
	if (!img)
		return fail(path, &err);
	if (strcmp(cmd, "info") == 0) {
		printf("format %s\nvariant %s\nruns %zu\ntotal 0x%" PRIx64
		       "\ncpus %zu\n",
		       img->fmt->name, img->variant, img->nruns,
		       wdt_image_total(img), img->ncpus);
		for (size_t i = 0; i < img->ncpus; i++)
			printf("cpu %u rip 0x%" PRIx64 " rsp 0x%" PRIx64
			       " cr3 0x%" PRIx64 "\n",
			       img->cpus[i].index, img->cpus[i].regs[WDT_RIP],
			       img->cpus[i].regs[WDT_RSP], img->cpus[i].cr[3]);
		for (size_t i = 0; i < img->nnotes; i++)
			printf("note %s type %" PRIu32 " size 0x%" PRIx64 "\n",
			       img->notes[i].name, img->notes[i].type,
			       img->notes[i].desc_size);
	} else if (strcmp(cmd, "runs") == 0) {
		for (size_t i = 0; i < img->nruns; i++)
			printf("0x%" PRIx64 " 0x%" PRIx64 "\n", img->runs[i].pa,
			       img->runs[i].len);
	} else if (strcmp(cmd, "cat") == 0 || strcmp(cmd, "read") == 0) {
		size_t bufsz = 1u << 20;
		uint8_t *buf = malloc(bufsz);
		if (!buf) {
			wdt_err_nomem(&err);
			rc = fail(path, &err);
			goto out;
		}
		for (size_t i = 0; i < img->nruns && rc == 0; i++) {
			uint64_t pa = img->runs[i].pa, len = img->runs[i].len;
			if (cmd[0] == 'r') {
				if (argc < 5 || i > 0)
					break;
				pa = strtoull(argv[3], NULL, 0);
				len = strtoull(argv[4], NULL, 0);
			}
			while (len > 0) {
				size_t n = len < bufsz ? (size_t)len : bufsz;
				if (wdt_image_read_phys(img, pa, buf, n, &err) <
				    0) {
					rc = fail(path, &err);
					break;
				}
				if (put(buf, n) < 0) {
					rc = 1;
					break;
				}
				pa += n;
				len -= n;
			}
		}
		free(buf);
	} else if (strcmp(cmd, "bulk") == 0 && argc >= 5) {
		uint64_t pfn = strtoull(argv[3], NULL, 0);
		size_t n = (size_t)strtoull(argv[4], NULL, 0);
		unsigned t = argc > 5 ? (unsigned)strtoul(argv[5], NULL, 0) : 0;
		uint8_t *buf = n ? malloc(n * PG) : NULL;
		if (!buf) {
			fprintf(stderr, "kdumptest: %s: no memory\n", path);
			rc = 1;
		} else if (bulk_read(img, pfn * PG, n, buf, t, &err) < 0) {
			rc = fail(path, &err);
		} else if (put(buf, n * PG) < 0) {
			rc = 1;
		}
		free(buf);
	} else if (strcmp(cmd, "pages") == 0) {
		unsigned t = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 0;
		size_t chunk =
		    argc > 4 ? (size_t)strtoull(argv[4], NULL, 0) : 16384;
		rc = all_pages(img, path, t, chunk);
	} else {
		fprintf(stderr, "kdumptest: unknown command %s\n", cmd);
		rc = 2;
	}
out:
	wdt_image_close(img);
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1;
	return rc;
}
