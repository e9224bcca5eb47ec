/* SPDX-License-Identifier: MIT */
/*
 * DMP, raw and ELF writers over hand-made images: the outputs are read back
 * with a small parser of dmp64.md §3/§6/§7 written here (independent of the
 * DMP reader) and compared page by page with a flat model of the image.
 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/bytes.h"
#include "core/outfile.h"
#include "core/source.h"
#include "formats/dmp_layout.h"
#include "formats/dmpwrite.h"
#include "formats/kdump.h"
#include "formats/rawwrite.h"
#include "formats/registry.h"

#define PG 4096u

/* An image whose runs map into `file`, and the flat model of it. */
struct timg {
	struct wdt_image *img;
	uint8_t *file;
	size_t flen;
	uint8_t *flat; /* [0, top): guest bytes, zero outside runs */
	uint64_t top;
};

struct trun {
	uint64_t pa, len;
};

static char dir[] = "/tmp/wdt-dmpw.XXXXXX";
static char out[256];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(out, sizeof(out), "%s/out.dmp", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(out);
	return rmdir(dir);
}

/* Page k of the file: zero when k % 3 == 2, else bytes from k. */
static void mkimg(struct timg *t, const struct trun *r, size_t n)
{
	struct wdt_err e;
	uint64_t off = 0;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		t->flen += r[i].len;
		if (r[i].pa + r[i].len > t->top)
			t->top = r[i].pa + r[i].len;
	}
	t->top = (t->top + PG - 1) & ~(uint64_t)(PG - 1);
	t->file = malloc(t->flen);
	t->flat = calloc(1, t->top);
	assert_non_null(t->file);
	assert_non_null(t->flat);
	for (size_t i = 0; i < t->flen; i++) {
		size_t k = i / PG;
		t->file[i] = k % 3 == 2 ? 0 : (uint8_t)(k * 37 + i % 251 + 1);
	}
	t->img = calloc(1, sizeof(*t->img));
	t->img->src = wdt_source_open_mem(t->file, t->flen, "mem", &e);
	assert_non_null(t->img->src);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(
		    wdt_image_add_run(t->img, r[i].pa, r[i].len, off, &e), 0);
		memcpy(t->flat + r[i].pa, t->file + off, r[i].len);
		off += r[i].len;
	}
	assert_int_equal(wdt_image_finish_runs(t->img, &e), 0);
}

static void freeimg(struct timg *t)
{
	wdt_image_close(t->img);
	free(t->file);
	free(t->flat);
}

static void patch_model(struct timg *t, const struct wdt_dmp_patch *p,
			size_t np)
{
	for (size_t i = 0; i < np; i++)
		memcpy(t->flat + p[i].pa, p[i].data, p[i].len);
}

static uint8_t *slurp(const char *path, size_t *len, struct stat *st)
{
	int fd = open(path, O_RDONLY);
	uint8_t *b;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, st), 0);
	*len = (size_t)st->st_size;
	b = malloc(*len ? *len : 1);
	assert_non_null(b);
	assert_int_equal(pread(fd, b, *len, 0), (ssize_t)*len);
	close(fd);
	return b;
}

static void hdr_init(uint8_t *hdr)
{
	for (unsigned i = 0; i < WDT_DMP64_HDR_SIZE; i += 4)
		wdt_put_le32(hdr + i, WDT_DMP_SIG_PAGE);
	wdt_put_le32(hdr + WDT_DMP64_VALID_DUMP, WDT_DMP_VALID_DU64);
	wdt_put_le32(hdr + WDT_DMP64_MACHINE, WDT_MACHINE_AMD64);
}

/* Write a DMP of t; returns 0 or -1 (err set); output committed on 0. */
static int write_dmp_on(struct wdt_image *img, enum wdt_dmp_kind kind,
			bool sparse, unsigned threads,
			const struct wdt_dmp_patch *p, size_t np,
			struct wdt_dmp_write_result *r, struct wdt_err *e)
{
	static uint8_t hdr[WDT_DMP64_HDR_SIZE];
	struct wdt_dmp_write_opts o = {kind, sparse, threads, NULL};
	struct wdt_outfile *of;

	hdr_init(hdr);
	assert_int_equal(wdt_outfile_open(&of, out, NULL, 0, true, e), 0);
	if (wdt_dmp_write(img, hdr, p, np, &o, of, r, e) < 0) {
		wdt_outfile_abort(of);
		return -1;
	}
	return wdt_outfile_commit(of, e);
}

static int write_dmp(struct timg *t, enum wdt_dmp_kind kind, bool sparse,
		     const struct wdt_dmp_patch *p, size_t np,
		     struct wdt_dmp_write_result *r, struct wdt_err *e)
{
	return write_dmp_on(t->img, kind, sparse, 2, p, np, r, e);
}

/*
 * Parse the DMP at `out` and check it against the model: every page the
 * dump holds equals the model, the pages held are exactly those of want
 * (PFN-granular presence), RequiredDumpSpace is the file size.
 */
static void check_dmp(struct timg *t, const uint8_t *want, uint32_t type,
		      uint32_t nruns_want)
{
	struct stat st;
	size_t len;
	uint8_t *d = slurp(out, &len, &st);
	uint64_t npfn = t->top / PG, held = 0;

	assert_true(len >= WDT_DMP64_HDR_SIZE);
	assert_int_equal(wdt_le32(d + WDT_DMP64_SIGNATURE), WDT_DMP_SIG_PAGE);
	assert_int_equal(wdt_le32(d + WDT_DMP64_DUMP_TYPE), type);
	assert_int_equal(wdt_le64(d + WDT_DMP64_REQUIRED_SPACE), st.st_size);
	if (type == WDT_DUMP_TYPE_FULL) {
		uint32_t n = wdt_le32(d + WDT_DMP64_PMB_NRUNS);
		uint64_t off = WDT_DMP64_HDR_SIZE, sum = 0, prev_end = 0;
		assert_int_equal(n, nruns_want);
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *e = d + WDT_DMP64_PMB_RUNS + 16 * i;
			uint64_t base = wdt_le64(e), cnt = wdt_le64(e + 8);
			assert_true(cnt > 0);
			/* merged: sorted with a gap between runs */
			assert_true(i == 0 || base > prev_end);
			prev_end = base + cnt;
			for (uint64_t k = 0; k < cnt; k++, off += PG) {
				assert_true(base + k < npfn);
				assert_true(want[base + k]);
				assert_memory_equal(
				    d + off, t->flat + (base + k) * PG, PG);
			}
			sum += cnt;
		}
		assert_int_equal(wdt_le64(d + WDT_DMP64_PMB_NPAGES), sum);
		assert_int_equal(off, len);
		held = sum;
	} else {
		const uint8_t *b = d + WDT_DMP64_HDR_SIZE;
		uint64_t first = wdt_le64(b + WDT_BMP_FIRST_PAGE);
		uint64_t present = wdt_le64(b + WDT_BMP_PRESENT_PAGES);
		uint64_t bits = wdt_le64(b + WDT_BMP_BITS), k = 0;
		/* The PMB is 'PAGE'-filled, the runs live in the bitmap. */
		assert_int_equal(wdt_le32(d + WDT_DMP64_PMB_NRUNS),
				 WDT_DMP_SIG_PAGE);
		assert_int_equal(wdt_le64(d + WDT_DMP64_PMB_NPAGES),
				 0x4547415045474150ull);
		assert_int_equal(wdt_le32(b + WDT_BMP_SIGNATURE),
				 WDT_DMP_SIG_FDMP);
		assert_int_equal(wdt_le32(b + WDT_BMP_VALID_DUMP),
				 WDT_DMP_VALID_DUMP);
		assert_int_equal(first % PG, 0);
		assert_true(first >=
			    WDT_DMP64_HDR_SIZE + WDT_BMP_BITMAP + bits / 8);
		assert_int_equal(bits % 8, 0);
		uint64_t last = 0;
		for (uint64_t f = 0; f < npfn; f++)
			if (want[f])
				last = f;
		assert_int_equal(bits, (last + 1 + 7) / 8 * 8);
		for (uint64_t f = 0; f < bits; f++) {
			bool set = b[WDT_BMP_BITMAP + f / 8] >> (f % 8) & 1;
			assert_int_equal(set, f < npfn && want[f]);
			if (!set)
				continue;
			assert_memory_equal(d + first + k * PG,
					    t->flat + f * PG, PG);
			k++;
		}
		assert_int_equal(k, present);
		assert_int_equal(first + k * PG, len);
		held = k;
	}
	for (uint64_t f = 0; f < npfn; f++)
		held -= want[f] ? 1 : 0;
	assert_int_equal(held, 0);
	free(d);
}

/* want[] from the runs: every page a run touches. */
static uint8_t *want_of(const struct timg *t)
{
	uint8_t *w = calloc(1, t->top / PG + 1);

	for (size_t i = 0; i < t->img->nruns; i++) {
		const struct wdt_run *r = &t->img->runs[i];
		for (uint64_t f = r->pa / PG;
		     f < (r->pa + r->len + PG - 1) / PG; f++)
			w[f] = 1;
	}
	return w;
}

/* n one-page runs with one-page gaps (so nothing merges). */
static void gapped(struct trun *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		r[i] = (struct trun){(2 * i + 1) * PG, PG};
}

static void full_at_42_runs(void **state)
{
	struct trun r[42];
	struct timg t;
	struct wdt_err e;
	struct wdt_dmp_write_result res;

	(void)state;
	gapped(r, 42);
	mkimg(&t, r, 42);
	assert_int_equal(write_dmp(&t, WDT_DMP_AUTO, true, NULL, 0, &res, &e),
			 0);
	assert_int_equal(res.dump_type, WDT_DUMP_TYPE_FULL);
	assert_int_equal(res.nruns, 42);
	assert_int_equal(res.pages, 42);
	assert_int_equal(res.zero_pages, 14); /* file pages 2, 5, 8, … */
	assert_int_equal(res.file_size, WDT_DMP64_HDR_SIZE + 42 * PG);
	uint8_t *w = want_of(&t);
	check_dmp(&t, w, WDT_DUMP_TYPE_FULL, 42);
	free(w);
	freeimg(&t);
}

static void bitmap_at_43_runs(void **state)
{
	struct trun r[43];
	struct timg t;
	struct wdt_err e;
	struct wdt_dmp_write_result res;

	(void)state;
	gapped(r, 43);
	mkimg(&t, r, 43);
	assert_int_equal(write_dmp(&t, WDT_DMP_AUTO, true, NULL, 0, &res, &e),
			 0);
	assert_int_equal(res.dump_type, WDT_DUMP_TYPE_BITMAP_FULL);
	assert_int_equal(res.nruns, 43);
	uint8_t *w = want_of(&t);
	check_dmp(&t, w, WDT_DUMP_TYPE_BITMAP_FULL, 0);
	/* Asking for a full dump never truncates the run list. */
	assert_int_equal(write_dmp(&t, WDT_DMP_FULL, true, NULL, 0, &res, &e),
			 -1);
	assert_err(&e, WDT_UNSUPPORTED, "43 physical runs do not fit");
	free(w);
	freeimg(&t);
}

static void adjacent_runs_merge(void **state)
{
	struct trun r[60];
	struct timg t;
	struct wdt_err e;
	struct wdt_dmp_write_result res;

	(void)state;
	/* 50 touching runs, then 10 sharing pages: 0x100 bytes apart … */
	for (size_t i = 0; i < 50; i++)
		r[i] = (struct trun){i * PG, PG};
	for (size_t i = 0; i < 10; i++)
		r[50 + i] = (struct trun){0x100000 + i * 0x180, 0x100};
	mkimg(&t, r, 60);
	assert_int_equal(write_dmp(&t, WDT_DMP_AUTO, true, NULL, 0, &res, &e),
			 0);
	assert_int_equal(res.dump_type, WDT_DUMP_TYPE_FULL);
	assert_int_equal(res.nruns, 2);
	assert_int_equal(res.pages, 50 + 1);
	uint8_t *w = want_of(&t);
	check_dmp(&t, w, WDT_DUMP_TYPE_FULL, 2);
	/* The same memory as a bitmap dump holds the same pages. */
	assert_int_equal(write_dmp(&t, WDT_DMP_BITMAP, true, NULL, 0, &res, &e),
			 0);
	check_dmp(&t, w, WDT_DUMP_TYPE_BITMAP_FULL, 0);
	free(w);
	freeimg(&t);
}

static void unaligned_runs_widen_with_zeros(void **state)
{
	struct trun r[] = {{0x1800, 0x1000}, {0x5010, 0x20}};
	struct timg t;
	struct wdt_err e;
	struct wdt_dmp_write_result res;

	(void)state;
	mkimg(&t, r, 2);
	assert_int_equal(write_dmp(&t, WDT_DMP_AUTO, true, NULL, 0, &res, &e),
			 0);
	assert_int_equal(res.nruns, 2);
	assert_int_equal(res.pages, 3);
	/* the model has zeros around the runs inside the widened pages */
	assert_int_equal(t.flat[0x17ff], 0);
	assert_int_not_equal(t.flat[0x1800], 0);
	uint8_t *w = want_of(&t);
	check_dmp(&t, w, WDT_DUMP_TYPE_FULL, 2);
	free(w);
	freeimg(&t);
}

static void patches_cross_chunks_and_runs(void **state)
{
	/* one run over two chunks; two touching runs; a separate run */
	struct trun r[] = {{0, WDT_DMPW_UNIT + 2 * PG},
			   {0x1000000, PG},
			   {0x1001000, PG},
			   {0x2000000, PG}};
	static uint8_t a[64], b[32], c[8], z[PG];
	struct wdt_dmp_patch p[] = {
	    {WDT_DMPW_UNIT - 20, sizeof(a), a}, /* across chunks */
	    {0x1000ff0, sizeof(b), b},		/* across runs */
	    {WDT_DMPW_UNIT - 4, sizeof(c), c},	/* overlaps a: wins */
	    {0x2000000, PG, z},			/* zeroes a page */
	};
	struct timg t;
	struct wdt_err e;
	struct wdt_dmp_write_result res;

	(void)state;
	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	memset(c, 0xcc, sizeof(c));
	mkimg(&t, r, 4);
	assert_int_equal(write_dmp(&t, WDT_DMP_AUTO, true, p, 4, &res, &e), 0);
	patch_model(&t, p, 4);
	assert_int_equal(t.flat[WDT_DMPW_UNIT], 0xcc);
	uint8_t *w = want_of(&t);
	check_dmp(&t, w, WDT_DUMP_TYPE_FULL, 3);
	assert_int_equal(write_dmp(&t, WDT_DMP_BITMAP, true, p, 4, &res, &e),
			 0);
	check_dmp(&t, w, WDT_DUMP_TYPE_BITMAP_FULL, 0);
	free(w);
	freeimg(&t);
}

static void patches_outside_fail(void **state)
{
	struct trun r[] = {{0, PG}, {2 * PG, PG}};
	static uint8_t a[16];
	struct wdt_dmp_patch gap = {PG - 8, sizeof(a), a};
	struct wdt_dmp_patch past = {3 * PG - 8, sizeof(a), a};
	struct wdt_dmp_patch below = {0x800000, 1, a};
	struct timg t;
	struct wdt_err e;

	(void)state;
	mkimg(&t, r, 2);
	assert_int_equal(write_dmp(&t, WDT_DMP_AUTO, true, &gap, 1, NULL, &e),
			 -1);
	assert_err(&e, WDT_NO_DATA, "physical address 0xff8: not in the image");
	assert_int_equal(write_dmp(&t, WDT_DMP_AUTO, true, &past, 1, NULL, &e),
			 -1);
	assert_err(&e, WDT_NO_DATA, "0x2ff8");
	assert_int_equal(write_dmp(&t, WDT_DMP_AUTO, true, &below, 1, NULL, &e),
			 -1);
	assert_err(&e, WDT_NO_DATA, "0x800000");
	freeimg(&t);
}

/* Whether the file system at dir keeps holes (ext4, xfs, tmpfs do). */
static bool sparse_fs(void)
{
	char p[300];
	struct stat st;
	int fd;

	snprintf(p, sizeof(p), "%s/probe", dir);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	fstat(fd, &st);
	close(fd);
	unlink(p);
	return st.st_blocks == 0;
}

static void sparse_holes(void **state)
{
	/* 300 pages, a third of them zero; plus a zero patch of 64 pages */
	struct trun r[] = {{0, 300 * PG}};
	uint8_t *z = calloc(1, 64 * PG);
	struct wdt_dmp_patch p = {100 * PG, 64 * PG, z};
	struct timg t;
	struct wdt_err e;
	struct wdt_dmp_write_result res;
	struct stat st;

	(void)state;
	mkimg(&t, r, 1);
	assert_int_equal(write_dmp(&t, WDT_DMP_AUTO, true, &p, 1, &res, &e), 0);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_size, res.file_size);
	/* pages 2,5,…: 100 zero; 64 patched of which ~21 were zero already */
	uint64_t zero = 0;
	patch_model(&t, &p, 1);
	for (size_t k = 0; k < 300; k++) {
		bool allz = true;
		for (size_t i = 0; i < PG && allz; i++)
			allz = t.flat[k * PG + i] == 0;
		zero += allz;
	}
	assert_int_equal(res.zero_pages, zero);
	uint8_t *w = want_of(&t);
	check_dmp(&t, w, WDT_DUMP_TYPE_FULL, 1);
	if (sparse_fs()) {
		/* allocated: header + data pages (plus a little slack) */
		uint64_t data =
		    (uint64_t)(300 - zero) * PG + WDT_DMP64_HDR_SIZE;
		assert_true((uint64_t)st.st_blocks * 512 <= data + 64 * 1024);
		assert_true((uint64_t)st.st_blocks * 512 <
			    (uint64_t)st.st_size);
		assert_int_equal(
		    write_dmp(&t, WDT_DMP_AUTO, false, &p, 1, &res, &e), 0);
		assert_int_equal(stat(out, &st), 0);
		assert_true((uint64_t)st.st_blocks * 512 >=
			    (uint64_t)st.st_size);
		check_dmp(&t, w, WDT_DUMP_TYPE_FULL, 1);
	}
	/* trailing zero pages still count in the size (ftruncate) */
	struct trun r2[] = {{0, 3 * PG}}; /* file page 2 is zero */
	freeimg(&t);
	mkimg(&t, r2, 1);
	assert_int_equal(write_dmp(&t, WDT_DMP_AUTO, true, NULL, 0, &res, &e),
			 0);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_size, WDT_DMP64_HDR_SIZE + 3 * PG);
	free(w);
	w = want_of(&t);
	check_dmp(&t, w, WDT_DUMP_TYPE_FULL, 1);
	free(w);
	free(z);
	freeimg(&t);
}

static void bitmap_spans_many_pieces(void **state)
{
	/* memory far up: a bitmap larger than one 1 MiB build piece */
	struct trun r[] = {
	    {0, PG}, {0x2000000000ull, 2 * PG}, {0x2000100000ull, PG}};
	struct timg t;
	struct wdt_err e;
	struct wdt_dmp_write_result res;
	struct stat st;
	size_t len;

	(void)state;
	/* model only the low part; read the rest directly */
	memset(&t, 0, sizeof(t));
	t.flen = 4 * PG;
	t.file = malloc(t.flen);
	for (size_t i = 0; i < t.flen; i++)
		t.file[i] = (uint8_t)(i / PG + 1);
	t.img = calloc(1, sizeof(*t.img));
	t.img->src = wdt_source_open_mem(t.file, t.flen, "mem", &e);
	wdt_image_add_run(t.img, r[0].pa, r[0].len, 0, &e);
	wdt_image_add_run(t.img, r[1].pa, r[1].len, PG, &e);
	wdt_image_add_run(t.img, r[2].pa, r[2].len, 3 * PG, &e);
	assert_int_equal(wdt_image_finish_runs(t.img, &e), 0);
	assert_int_equal(write_dmp(&t, WDT_DMP_BITMAP, true, NULL, 0, &res, &e),
			 0);
	uint8_t *d = slurp(out, &len, &st);
	const uint8_t *b = d + WDT_DMP64_HDR_SIZE;
	uint64_t bits = wdt_le64(b + WDT_BMP_BITS);
	uint64_t first = wdt_le64(b + WDT_BMP_FIRST_PAGE);
	assert_int_equal(bits, 0x2000108); /* max PFN + 1, multiple of 8 */
	assert_int_equal(wdt_le64(b + WDT_BMP_PRESENT_PAGES), 4);
	uint64_t seen = 0;
	for (uint64_t i = 0; i < bits / 8; i++)
		seen += (uint64_t)__builtin_popcount(b[WDT_BMP_BITMAP + i]);
	assert_int_equal(seen, 4);
	assert_true(b[WDT_BMP_BITMAP] & 1);
	assert_true(b[WDT_BMP_BITMAP + 0x2000000 / 8] & 3);
	assert_true(b[WDT_BMP_BITMAP + 0x2000100 / 8] & 1);
	for (int k = 0; k < 4; k++)
		assert_int_equal(d[first + k * PG], k + 1);
	assert_int_equal(len, first + 4 * PG);
	free(d);
	wdt_image_close(t.img);
	free(t.file);
}

static void raw_and_elf_outputs(void **state)
{
	struct trun r[] = {
	    {0x1000, 3 * PG}, {0x10000, 0x800}, {0x20000, 2 * PG}};
	static uint8_t a[100];
	struct wdt_dmp_patch p = {0x3f00, sizeof(a), a};
	struct timg t;
	struct wdt_err e;
	struct wdt_dmp_write_result res;
	struct wdt_dmp_write_opts o = {WDT_DMP_AUTO, true, 1, NULL};
	struct wdt_outfile *of;
	struct stat st;
	size_t len;

	(void)state;
	memset(a, 0x5a, sizeof(a));
	mkimg(&t, r, 3);
	assert_int_equal(wdt_outfile_open(&of, out, NULL, 0, true, &e), 0);
	assert_int_equal(wdt_raw_write(t.img, &p, 1, &o, of, &res, &e), 0);
	assert_int_equal(wdt_outfile_commit(of, &e), 0);
	patch_model(&t, &p, 1);
	uint8_t *d = slurp(out, &len, &st);
	assert_int_equal(len, t.top);
	assert_int_equal(res.file_size, t.top);
	assert_memory_equal(d, t.flat, len);
	free(d);

	/* ELF: read back through wdt's ELF reader */
	o.sparse = false;
	assert_int_equal(wdt_outfile_open(&of, out, NULL, 0, true, &e), 0);
	assert_int_equal(wdt_elf_write(t.img, &p, 1, &o, of, &res, &e), 0);
	assert_int_equal(wdt_outfile_commit(of, &e), 0);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_size, res.file_size);
	struct wdt_image *img = wdt_image_open(out, "elf", &e);
	if (!img)
		fail_msg("%s", e.msg);
	assert_int_equal(img->nruns, 3);
	assert_int_equal(img->runs[1].pa, 0x10000);
	assert_int_equal(img->runs[1].len, PG);
	uint8_t *buf = malloc(t.top);
	for (size_t i = 0; i < img->nruns; i++) {
		const struct wdt_run *x = &img->runs[i];
		assert_int_equal(
		    wdt_image_read_phys(img, x->pa, buf, x->len, &e), 0);
		assert_memory_equal(buf, t.flat + x->pa, x->len);
	}
	free(buf);
	wdt_image_close(img);
	freeimg(&t);
}

static void read_errors_name_pa_and_output(void **state)
{
	struct trun r[] = {{0, 2 * PG}};
	struct timg t;
	struct wdt_err e;

	(void)state;
	mkimg(&t, r, 1);
	/* a run past the end of the source: the read fails */
	t.img->runs[0].len = 4 * PG;
	assert_int_equal(write_dmp(&t, WDT_DMP_AUTO, true, NULL, 0, NULL, &e),
			 -1);
	assert_int_equal(e.status, WDT_TRUNCATED);
	if (!strstr(e.msg, "physical address 0x2000: "))
		fail_msg("%s", e.msg);
	t.img->runs[0].len = 2 * PG;
	freeimg(&t);
}

/*
 * Raw and ELF inputs (through their formats' default page readers) give
 * the same DMP with 1 and 3 workers, sparse or not, as the image they
 * were written from.
 */
static void run_inputs_same_dmp_any_threads(void **state)
{
	struct trun r[] = {
	    {0, 300 * PG}, {320 * PG, 500 * PG}, {900 * PG, 2 * PG}};
	static uint8_t one[PG];
	struct wdt_dmp_patch p = {256 * PG - 32, 64, one}; /* across units */
	struct wdt_dmp_write_opts o = {WDT_DMP_AUTO, false, 1, NULL};
	struct timg t;
	struct wdt_err e;
	struct wdt_outfile *of;
	struct stat st;
	char in[300];
	size_t alen, blen;

	(void)state;
	memset(one, 0x77, sizeof(one));
	mkimg(&t, r, 3);
	snprintf(in, sizeof(in), "%s/in", dir);
	for (int elf = 0; elf < 2; elf++) {
		assert_int_equal(wdt_outfile_open(&of, in, NULL, 0, true, &e),
				 0);
		assert_int_equal(
		    elf ? wdt_elf_write(t.img, NULL, 0, &o, of, NULL, &e)
			: wdt_raw_write(t.img, NULL, 0, &o, of, NULL, &e),
		    0);
		assert_int_equal(wdt_outfile_commit(of, &e), 0);
		struct wdt_image *img =
		    wdt_image_open(in, elf ? "elf" : "raw", &e);
		if (!img)
			fail_msg("%s", e.msg);
		for (int sparse = 0; sparse < 2; sparse++) {
			uint8_t *a;
			if (elf) { /* the ELF holds exactly t's runs */
				assert_int_equal(
				    write_dmp_on(t.img, WDT_DMP_BITMAP, sparse,
						 1, &p, 1, NULL, &e),
				    0);
				a = slurp(out, &alen, &st);
			} else {
				a = NULL;
			}
			for (unsigned th = 1; th <= 3; th += 2) {
				if (write_dmp_on(img, WDT_DMP_BITMAP, sparse,
						 th, &p, 1, NULL, &e) < 0)
					fail_msg("%s", e.msg);
				uint8_t *b = slurp(out, &blen, &st);
				if (!a) {
					a = b;
					alen = blen;
					continue;
				}
				assert_int_equal(alen, blen);
				assert_memory_equal(a, b, alen);
				free(b);
			}
			free(a);
		}
		wdt_image_close(img);
	}
	unlink(in);
	freeimg(&t);
}

/*
 * A read error with several workers names the first page that fails,
 * whichever worker meets which failing unit first.
 */
static void read_error_names_first_page(void **state)
{
	struct trun r[] = {{0, 1000 * PG}};
	struct timg t;
	struct wdt_err e;

	(void)state;
	mkimg(&t, r, 1);
	/* the source ends at page 300: units 1, 2 and 3 all fail */
	struct wdt_source *s =
	    wdt_source_open_mem(t.file, 300 * PG, "short", &e);
	assert_non_null(s);
	wdt_source_close(t.img->src);
	t.img->src = s;
	for (unsigned th = 1; th <= 4; th++) {
		unlink(out);
		assert_int_equal(write_dmp_on(t.img, WDT_DMP_AUTO, true, th,
					      NULL, 0, NULL, &e),
				 -1);
		assert_int_equal(e.status, WDT_TRUNCATED);
		if (!strstr(e.msg, "physical address 0x12c000: "))
			fail_msg("%u threads: %s", th, e.msg);
		assert_int_equal(access(out, F_OK), -1);
	}
	freeimg(&t);
}

/*
 * The model of t as a kdump file the way QEMU writes one (kdump.md): every
 * page of t's runs present, all-zero pages pointing at one shared raw
 * zero page, the others zlib compressed when that is smaller, else raw.
 * at (if not NULL) receives the file offset of each page's data.
 */
static uint8_t *mkkdump(const struct timg *t, size_t *len, uint64_t *at)
{
	uint64_t npfn = t->top / PG, nbm = (npfn + 8 * PG - 1) / (8 * PG);
	uint64_t ndesc = 0;
	uint8_t *present = calloc(1, npfn);

	assert_non_null(present);
	for (size_t i = 0; i < t->img->nruns; i++) {
		const struct wdt_run *r = &t->img->runs[i];
		assert_int_equal((r->pa | r->len) % PG, 0);
		for (uint64_t f = r->pa / PG; f < (r->pa + r->len) / PG; f++)
			present[f] = 1;
	}
	for (uint64_t f = 0; f < npfn; f++)
		ndesc += present[f];
	uint64_t desc = (2 + 2 * nbm) * PG, data = desc + ndesc * WDT_KPD_LEN;
	size_t cap = data + PG + ndesc * (PG + 64);
	uint8_t *p = calloc(1, cap);
	assert_non_null(p);
	wdt_test_kdump_header(p, PG, WDT_KDUMP_ZLIB, (uint32_t)(2 * nbm), npfn);
	uint64_t zero_at = data; /* the shared zero page comes first */
	data += PG;
	for (uint64_t f = 0, k = 0; f < npfn; f++) {
		if (!present[f])
			continue;
		p[2 * PG + f / 8] |= (uint8_t)(1u << (f % 8));
		p[(2 + nbm) * PG + f / 8] |= (uint8_t)(1u << (f % 8));
		const uint8_t *pg = t->flat + f * PG;
		uint8_t *d = p + desc + k++ * WDT_KPD_LEN;
		uint64_t off = data;
		uint32_t size = PG, flags = 0;
		uLongf cl = PG + 64;
		if (wdt_all_zero(pg, PG)) {
			off = zero_at;
		} else if (compress2(p + data, &cl, pg, PG, 1) == Z_OK &&
			   cl < PG) {
			size = (uint32_t)cl;
			flags = WDT_KDUMP_ZLIB;
		} else {
			memcpy(p + data, pg, PG);
		}
		if (off == data)
			data += size;
		if (at)
			at[f] = off;
		wdt_put_le64(d + WDT_KPD_OFFSET, off);
		wdt_put_le32(d + WDT_KPD_SIZE, size);
		wdt_put_le32(d + WDT_KPD_FLAGS, flags);
	}
	free(present);
	*len = data;
	return p;
}

/*
 * kdump input (the kdump reader's zero flags, workers writing their own
 * units): the DMP must equal the one written from the same memory in an
 * image without a format, for 1 and 3 threads, sparse or not, with
 * patches turning a zero page into data, data into a zero page, and
 * crossing the 256-page unit boundary; zero pages counted exactly.
 */
static void kdump_input_same_dmp(void **state)
{
	struct trun r[] = {
	    {0, 300 * PG}, {320 * PG, 500 * PG}, {900 * PG, 2 * PG}};
	static uint8_t one[PG + 64], zero[PG];
	struct wdt_dmp_patch p[] = {
	    {257 * PG + 8, 16, one},  /* a zero page gets data (2nd unit) */
	    {3 * PG, PG, zero},	      /* data page becomes zero */
	    {256 * PG - 32, 64, one}, /* across units */
	    {320 * PG + 255 * PG + 100, PG, one}, /* across units */
	};
	struct timg t;
	struct wdt_err e;
	struct wdt_dmp_write_result want_r, r2;
	size_t klen, alen, blen;
	struct stat st;

	(void)state;
	memset(one, 0x5c, sizeof(one));
	mkimg(&t, r, 3);
	uint8_t *k = mkkdump(&t, &klen, NULL);
	wdt_err_clear(&e);
	struct wdt_image *ki = wdt_test_open_mem(k, klen, "kdump", &e);
	if (!ki)
		fail_msg("%s", e.msg);
	for (int sparse = 0; sparse < 2; sparse++) {
		assert_int_equal(
		    write_dmp(&t, WDT_DMP_AUTO, sparse, p, 4, &want_r, &e), 0);
		uint8_t *a = slurp(out, &alen, &st);
		for (unsigned th = 1; th <= 3; th += 2) {
			if (write_dmp_on(ki, WDT_DMP_AUTO, sparse, th, p, 4,
					 &r2, &e) < 0)
				fail_msg("%s", e.msg);
			uint8_t *b = slurp(out, &blen, &st);
			assert_int_equal(alen, blen);
			assert_memory_equal(a, b, alen);
			assert_int_equal(r2.zero_pages, want_r.zero_pages);
			assert_int_equal(r2.pages, want_r.pages);
			if (sparse && sparse_fs())
				assert_true((uint64_t)st.st_blocks * 512 <=
					    WDT_DMP64_HDR_SIZE +
						(r2.pages - r2.zero_pages) *
						    PG +
						64 * 1024);
			free(b);
		}
		free(a);
	}
	/* independent of the raw writer: the model, patched, page by page */
	patch_model(&t, p, 4);
	uint8_t *w = want_of(&t);
	check_dmp(&t, w, WDT_DUMP_TYPE_FULL, 3);
	/* page 257 was zero and page 3 data before the patches */
	assert_false(wdt_all_zero(t.flat + 257 * PG, PG));
	assert_true(wdt_all_zero(t.flat + 3 * PG, PG));
	assert_true(want_r.zero_pages > 0);
	free(w);
	wdt_image_close(ki);
	free(k);
	freeimg(&t);
}

/*
 * A corrupt page in the kdump input: the write fails naming the first bad
 * PFN whichever thread meets which bad page first, and leaves no output.
 */
static void kdump_input_corrupt(void **state)
{
	struct trun r[] = {{0, 1000 * PG}};
	struct timg t;
	struct wdt_err e;
	size_t klen;
	uint64_t *at = calloc(1000, sizeof(*at));
	char want[64];

	(void)state;
	mkimg(&t, r, 1);
	uint8_t *k = mkkdump(&t, &klen, at);
	/* pages 700 and 10 hold zlib data (k % 3 != 2): break both */
	memset(k + at[700] + 2, 0xee, 8);
	memset(k + at[10] + 2, 0xee, 8);
	wdt_err_clear(&e);
	struct wdt_image *ki = wdt_test_open_mem(k, klen, "kdump", &e);
	assert_non_null(ki);
	unlink(out);
	for (unsigned th = 1; th <= 4; th++) {
		assert_int_equal(
		    write_dmp_on(ki, WDT_DMP_AUTO, true, th, NULL, 0, NULL, &e),
		    -1);
		assert_int_equal(e.status, WDT_CORRUPT);
		snprintf(want, sizeof(want), "PFN 0xa: zlib data");
		if (!strstr(e.msg, want))
			fail_msg("%u threads: %s", th, e.msg);
		assert_int_equal(access(out, F_OK), -1);
	}
	wdt_image_close(ki);
	free(k);
	free(at);
	freeimg(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(full_at_42_runs),
	    cmocka_unit_test(bitmap_at_43_runs),
	    cmocka_unit_test(adjacent_runs_merge),
	    cmocka_unit_test(unaligned_runs_widen_with_zeros),
	    cmocka_unit_test(patches_cross_chunks_and_runs),
	    cmocka_unit_test(patches_outside_fail),
	    cmocka_unit_test(sparse_holes),
	    cmocka_unit_test(bitmap_spans_many_pieces),
	    cmocka_unit_test(raw_and_elf_outputs),
	    cmocka_unit_test(read_errors_name_pa_and_output),
	    cmocka_unit_test(run_inputs_same_dmp_any_threads),
	    cmocka_unit_test(read_error_names_first_page),
	    cmocka_unit_test(kdump_input_same_dmp),
	    cmocka_unit_test(kdump_input_corrupt),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
