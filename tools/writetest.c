/* SPDX-License-Identifier: MIT */
/*
 * writetest: a test-only driver of wdt's output writers for the
 * integration scripts (tests/integration/t075N-*.sh), until `wdt convert`
 * wires them into the CLI:
 *
 *   writetest dmp|raw|elf IN OUT [--full|--bitmap] [--no-sparse]
 *             [--threads N] [--force] [--slow MS] [--progress]
 *             [--no-sync]
 *
 * The DMP header is a 'PAGE'-filled DUMP_HEADER64 with only the magic and
 * machine set (the writer adds runs, type and size). --slow sleeps MS
 * milliseconds in every read of the input, so that a test can kill the
 * writer half-way. --no-sync skips the fsync at commit. Prints "type N runs N
 * pages N zero N size N" on success; errors are one line on stderr with the
 * status's exit code.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bytes.h"
#include "core/outfile.h"
#include "core/progress.h"
#include "formats/dmp_layout.h"
#include "formats/dmpwrite.h"
#include "formats/rawwrite.h"
#include "formats/registry.h"

static long slow_ms;

struct slow {
	struct wdt_source *inner;
};

static int slow_pread(struct wdt_source *src, void *buf, size_t len,
		      uint64_t off, size_t *got, struct wdt_err *err)
{
	struct slow *s = src->priv;
	struct timespec ts = {slow_ms / 1000, slow_ms % 1000 * 1000000L};

	nanosleep(&ts, NULL);
	return wdt_source_pread(s->inner, buf, len, off, got, err);
}

static void slow_close(struct wdt_source *src)
{
	struct slow *s = src->priv;

	wdt_source_close(s->inner);
	free(s);
}

static const struct wdt_source_ops slow_ops = {slow_pread, slow_close};

static int fail(const char *what, const struct wdt_err *e)
{
	fprintf(stderr, "writetest: %s%s%s\n", what ? what : "",
		what ? ": " : "", e->msg);
	return wdt_status_exit(e->status);
}

static int usage(void)
{
	fprintf(stderr, "usage: writetest dmp|raw|elf IN OUT [--full|--bitmap] "
			"[--no-sparse] [--threads N] [--force] [--slow MS] "
			"[--progress] [--no-sync]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static uint8_t hdr[WDT_DMP64_HDR_SIZE];
	struct wdt_dmp_write_opts o = {WDT_DMP_AUTO, true, 0, NULL};
	struct wdt_dmp_write_result r;
	struct wdt_outfile *of;
	struct wdt_image *img;
	struct wdt_err err;
	bool force = false, progress = false, sync = true;
	int rc;

	wdt_err_clear(&err);
	if (argc < 4)
		return usage();
	const char *what = argv[1], *in = argv[2], *out = argv[3];
	if (strcmp(what, "dmp") && strcmp(what, "raw") && strcmp(what, "elf"))
		return usage();
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--full"))
			o.kind = WDT_DMP_FULL;
		else if (!strcmp(argv[i], "--bitmap"))
			o.kind = WDT_DMP_BITMAP;
		else if (!strcmp(argv[i], "--no-sparse"))
			o.sparse = false;
		else if (!strcmp(argv[i], "--force"))
			force = true;
		else if (!strcmp(argv[i], "--no-sync"))
			sync = false;
		else if (!strcmp(argv[i], "--progress"))
			progress = true;
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			o.threads = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--slow") && i + 1 < argc)
			slow_ms = strtol(argv[++i], NULL, 0);
		else
			return usage();
	}
	img = wdt_image_open(in, NULL, &err);
	if (!img)
		return fail(in, &err);
	if (slow_ms > 0) {
		struct slow *s = malloc(sizeof(*s));
		struct wdt_source *w;
		if (!s)
			return 4;
		s->inner = img->src;
		w = wdt_source_new(&slow_ops, s, s->inner->size, in, &err);
		if (!w)
			return fail(in, &err);
		img->src = w;
	}
	const char *const inputs[] = {in};
	if (wdt_outfile_open(&of, out, inputs, 1, force, &err) < 0) {
		wdt_image_close(img);
		return fail(out, &err);
	}
	wdt_outfile_set_sync(of, sync);
	o.progress = wdt_progress_new(out, wdt_image_total(img), progress);
	for (unsigned i = 0; i < WDT_DMP64_HDR_SIZE; i += 4)
		wdt_put_le32(hdr + i, WDT_DMP_SIG_PAGE);
	wdt_put_le32(hdr + WDT_DMP64_VALID_DUMP, WDT_DMP_VALID_DU64);
	wdt_put_le32(hdr + WDT_DMP64_MACHINE, WDT_MACHINE_AMD64);
	if (!strcmp(what, "dmp"))
		rc = wdt_dmp_write(img, hdr, NULL, 0, &o, of, &r, &err);
	else if (!strcmp(what, "raw"))
		rc = wdt_raw_write(img, NULL, 0, &o, of, &r, &err);
	else
		rc = wdt_elf_write(img, NULL, 0, &o, of, &r, &err);
	if (rc < 0) {
		wdt_progress_abort(o.progress);
		wdt_outfile_abort(of);
	} else {
		wdt_progress_finish(o.progress);
		rc = wdt_outfile_commit(of, &err);
	}
	wdt_image_close(img);
	if (rc < 0)
		return fail(out,
			    &err); /* as cmd/ does: the output is the subject */
	printf("type %" PRIu32 " runs %" PRIu32 " pages %" PRIu64
	       " zero %" PRIu64 " size %" PRIu64 "\n",
	       r.dump_type, r.nruns, r.pages, r.zero_pages, r.file_size);
	return 0;
}
