/* SPDX-License-Identifier: MIT */
/* formats/kdump.c on kdump files built here in memory (kdump.md §1–§7). */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lz4frame.h>
#include <zlib.h>

#include "formats/compressed.h"
#include "formats/kdump.h"
#include "formats/registry.h"
#include "testutil.h"

#define BS 4096u
#define NPFN 16u

/*
 * The test dump: PFNs 0-2 and 4-7 present (3 is excluded), 8.. absent.
 * PFN 0 and 5 are zero pages sharing one raw data page; 1, 4 and 6 are
 * zlib compressed; 2 and 7 stored raw. Blocks: 0 header, 1 sub-header,
 * 2-3 bitmaps, 4 descriptors, then data.
 */
static const uint64_t present[] = {0, 1, 2, 4, 5, 6, 7};
#define NPRESENT (sizeof(present) / sizeof(present[0]))

struct kd {
	uint8_t *p;
	size_t len;
	uint64_t desc_off;
	uint64_t data_off[NPFN]; /* file offset of each PFN's data */
};

static void page_of(uint64_t pfn, uint8_t *out)
{
	if (pfn == 0 || pfn == 5) {
		memset(out, 0, BS);
		return;
	}
	for (unsigned i = 0; i < BS; i++)
		out[i] = (uint8_t)(pfn * 31 + (i % 7 == 0 ? i / 7 : 0));
	if (pfn == 2 || pfn == 7) /* incompressible */
		for (unsigned i = 0; i < BS; i++)
			out[i] = (uint8_t)((i * 2654435761u) >> (13 + pfn));
}

static void build(struct kd *k, uint32_t max_mapnr)
{
	size_t cap = 64 * BS;
	uint8_t *p = calloc(1, cap);
	assert_non_null(p);
	wdt_test_kdump_header(p, BS, WDT_KDUMP_ZLIB, 2, max_mapnr);
	/* 1st bitmap: all RAM; 2nd: what is dumped */
	p[2 * BS] = 0xff;
	for (size_t i = 0; i < NPRESENT; i++)
		p[3 * BS + present[i] / 8] |= (uint8_t)(1u << (present[i] % 8));
	k->desc_off = 4 * BS;
	uint64_t data = k->desc_off + NPRESENT * WDT_KPD_LEN, zero_at = 0;
	uint8_t page[BS];
	for (size_t i = 0; i < NPRESENT; i++) {
		uint64_t pfn = present[i];
		uint8_t *d = p + k->desc_off + i * WDT_KPD_LEN;
		uint32_t size = BS, flags = 0;
		page_of(pfn, page);
		if ((pfn == 0 || pfn == 5) && zero_at) {
			k->data_off[pfn] = zero_at;
		} else {
			k->data_off[pfn] = data;
			uLongf cl = BS;
			if (pfn == 1 || pfn == 4 || pfn == 6) {
				assert_int_equal(
				    compress2(p + data, &cl, page, BS, 6),
				    Z_OK);
				size = (uint32_t)cl;
				flags = WDT_KDUMP_ZLIB;
			} else {
				memcpy(p + data, page, BS);
			}
			if (pfn == 0)
				zero_at = data;
			data += size;
		}
		if (pfn == 5) {
			size = BS;
			flags = 0;
		}
		wdt_put_le64(d + WDT_KPD_OFFSET, k->data_off[pfn]);
		wdt_put_le32(d + WDT_KPD_SIZE, size);
		wdt_put_le32(d + WDT_KPD_FLAGS, flags);
	}
	k->p = p;
	k->len = data;
}

static struct wdt_image *open_buf(const uint8_t *p, size_t len,
				  struct wdt_err *err)
{
	wdt_err_clear(err);
	struct wdt_source *s = wdt_source_open_mem(p, len, "t.kdump", err);
	assert_non_null(s);
	return wdt_image_open_source(s, NULL, err);
}

static void expect_msg(const struct wdt_err *err, enum wdt_status st,
		       const char *msg)
{
	if (err->status != st || !strstr(err->msg, msg))
		fail_msg("got %s '%s', want %s '%s'",
			 wdt_status_name(err->status), err->msg,
			 wdt_status_name(st), msg);
}

static void check_pages(struct wdt_image *img)
{
	uint8_t got[BS], want[BS];
	struct wdt_err err;

	for (size_t i = 0; i < NPRESENT; i++) {
		page_of(present[i], want);
		assert_int_equal(
		    wdt_image_read_phys(img, present[i] * BS, got, BS, &err),
		    0);
		assert_memory_equal(got, want, BS);
	}
	/* across a page boundary inside a run */
	uint8_t two[BS];
	assert_int_equal(wdt_image_read_phys(img, 5 * BS + 100, two, BS, &err),
			 0);
	page_of(6, want);
	assert_memory_equal(two + BS - 100, want, 100);
	/* the excluded page is a hole, not zeros */
	assert_int_equal(wdt_image_read_phys(img, 3 * BS, got, 1, &err), -1);
	assert_int_equal(err.status, WDT_NO_DATA);
}

static void test_good(void **state)
{
	(void)state;
	struct kd k;
	struct wdt_err err;
	build(&k, NPFN);
	struct wdt_image *img = open_buf(k.p, k.len, &err);
	if (!img)
		fail_msg("%s", err.msg);
	assert_string_equal(img->fmt->name, "kdump");
	assert_string_equal(img->variant, "kdump, zlib");
	assert_int_equal(img->nruns, 2);
	assert_int_equal(img->runs[0].pa, 0);
	assert_int_equal(img->runs[0].len, 3 * BS);
	assert_int_equal(img->runs[1].pa, 4 * BS);
	assert_int_equal(img->runs[1].len, 4 * BS);
	check_pages(img);

	/* page reader = page reads; a page outside the bitmap reads as 0 */
	uint8_t *bulk = malloc(NPFN * BS), want[BS];
	memset(bulk, 0xaa, NPFN * BS);
	assert_int_equal(wdt_test_reader_read(img, 0, NPFN, bulk, NULL, &err),
			 0);
	for (unsigned i = 0; i < NPFN; i++) {
		bool in = i <= 7 && i != 3;
		if (in)
			page_of(i, want);
		else
			memset(want, 0, BS);
		assert_memory_equal(bulk + i * BS, want, BS);
	}
	/* several threads, each its own reader, agree with it */
	wdt_test_readers_agree(img, 0, NPFN, bulk, 4, 3);
	free(bulk);
	wdt_image_close(img);
	free(k.p);
}

/* Flattened copy of the same dump, records out of order and overlapping. */
static void test_flattened(void **state)
{
	(void)state;
	struct kd k;
	struct wdt_err err;
	build(&k, NPFN);
	size_t cap = k.len * 3 + 8192, n = 0;
	uint8_t *f = calloc(1, cap);
	memcpy(f, "makedumpfile", 12);
	f[23] = 1;
	f[31] = 1;
	n = 4096;
	/* decoy: garbage over the descriptors, overwritten later */
	size_t chunks[][2] = {{k.desc_off, 100},
			      {0, 3000},
			      {3000, 5000},
			      {k.desc_off, k.len - k.desc_off},
			      {8000, k.desc_off - 8000}};
	for (size_t i = 0; i < 5; i++) {
		uint64_t off = chunks[i][0], len = chunks[i][1];
		for (int b = 0; b < 8; b++) {
			f[n + b] = (uint8_t)(off >> (56 - 8 * b));
			f[n + 8 + b] = (uint8_t)(len >> (56 - 8 * b));
		}
		n += 16;
		if (i == 0)
			memset(f + n, 0x5a, len);
		else
			memcpy(f + n, k.p + off, len);
		n += len;
	}
	memset(f + n, 0xff, 16);
	n += 16;
	struct wdt_image *img = open_buf(f, n, &err);
	if (!img)
		fail_msg("%s", err.msg);
	assert_string_equal(img->variant, "kdump, zlib, flattened");
	check_pages(img);
	uint8_t *bulk = malloc(8 * BS), want[BS];
	assert_int_equal(wdt_test_reader_read(img, 0, 8, bulk, NULL, &err), 0);
	page_of(2, want);
	assert_memory_equal(bulk + 2 * BS, want, BS);
	page_of(7, want);
	assert_memory_equal(bulk + 7 * BS, want, BS);
	/* the flattened source is read-only after open: threads are fine */
	assert_int_equal(wdt_image_reader_threads(img, 3), 3);
	wdt_test_readers_agree(img, 0, 8, bulk, 3, 2);
	free(bulk);
	wdt_image_close(img);
	free(f);
	free(k.p);
}

static void test_corrupt_page(void **state)
{
	(void)state;
	struct kd k;
	struct wdt_err err;
	char msg[128];
	uint8_t buf[BS];
	build(&k, NPFN);
	memset(k.p + k.data_off[4] + 2, 0xee, 16);
	struct wdt_image *img = open_buf(k.p, k.len, &err);
	assert_non_null(img);
	assert_int_equal(wdt_image_read_phys(img, 4 * BS, buf, 8, &err), -1);
	snprintf(msg, sizeof(msg),
		 "PFN 0x4: zlib data at file offset 0x%" PRIx64, k.data_off[4]);
	expect_msg(&err, WDT_CORRUPT, msg);
	/* the page reader names the same page, with the same words */
	uint8_t *bulk = malloc(4 * BS), zero[4];
	assert_int_equal(wdt_test_reader_read(img, 4 * BS, 4, bulk, zero, &err),
			 -1);
	expect_msg(&err, WDT_CORRUPT, msg);
	free(bulk);
	wdt_image_close(img);
	free(k.p);
}

static void test_desc_outside(void **state)
{
	(void)state;
	struct kd k;
	struct wdt_err err;
	uint8_t buf[16];
	build(&k, NPFN);
	/* PFN 6 is the 6th descriptor (index 5) */
	wdt_put_le64(k.p + k.desc_off + 5 * WDT_KPD_LEN, k.len + 4096);
	struct wdt_image *img = open_buf(k.p, k.len, &err);
	assert_non_null(img);
	assert_int_equal(wdt_image_read_phys(img, 6 * BS, buf, 8, &err), -1);
	expect_msg(&err, WDT_CORRUPT, "PFN 0x6: descriptor points at");
	/* size larger than a block */
	wdt_put_le64(k.p + k.desc_off + 5 * WDT_KPD_LEN, k.data_off[6]);
	wdt_put_le32(k.p + k.desc_off + 5 * WDT_KPD_LEN + WDT_KPD_SIZE, BS + 1);
	assert_int_equal(wdt_image_read_phys(img, 6 * BS, buf, 8, &err), -1);
	expect_msg(&err, WDT_CORRUPT, "impossible");
	/* offset 0: page missing (incomplete dump) */
	wdt_put_le64(k.p + k.desc_off + 5 * WDT_KPD_LEN, 0);
	assert_int_equal(wdt_image_read_phys(img, 6 * BS, buf, 8, &err), -1);
	expect_msg(&err, WDT_NO_DATA, "incomplete");
	wdt_image_close(img);
	free(k.p);
}

static void test_truncated(void **state)
{
	(void)state;
	struct kd k;
	struct wdt_err err;
	build(&k, NPFN);
	assert_null(open_buf(k.p, k.desc_off + 30, &err));
	expect_msg(&err, WDT_TRUNCATED, "descriptors at 0x4000 run past");
	assert_null(open_buf(k.p, 100, &err));
	expect_msg(&err, WDT_TRUNCATED, "kdump header");
	assert_null(open_buf(k.p, 3 * BS, &err));
	expect_msg(&err, WDT_TRUNCATED, "bitmap");
	free(k.p);
}

static void test_header_values(void **state)
{
	(void)state;
	struct kd k;
	struct wdt_err err;
	static const uint32_t bad_bs[] = {0, 3, 1u << 30, 4095};
	for (size_t i = 0; i < 4; i++) {
		build(&k, NPFN);
		wdt_put_le32(k.p + WDT_KDH_BLOCK_SIZE, bad_bs[i]);
		assert_null(open_buf(k.p, k.len, &err));
		expect_msg(&err, WDT_CORRUPT, "block_size");
		free(k.p);
	}
	/* absurd max_mapnr_64 */
	build(&k, NPFN);
	wdt_put_le64(k.p + BS + WDT_KSH_MAX_MAPNR_64, 1ull << 50);
	assert_null(open_buf(k.p, k.len, &err));
	expect_msg(&err, WDT_UNSUPPORTED, "max_mapnr");
	free(k.p);
	/* bitmap too small for max_mapnr: 2 blocks hold 65536 bits */
	build(&k, NPFN);
	wdt_put_le64(k.p + BS + WDT_KSH_MAX_MAPNR_64, 70000);
	assert_null(open_buf(k.p, k.len, &err));
	expect_msg(&err, WDT_CORRUPT,
		   "cover 0x10000 pages but max_mapnr is "
		   "0x11170");
	free(k.p);
	/* more bitmap bits than descriptors in the file */
	build(&k, NPFN);
	wdt_put_le64(k.p + BS + WDT_KSH_MAX_MAPNR_64, 4096);
	memset(k.p + 3 * BS + 1, 0xff, 511);
	assert_null(open_buf(k.p, k.len, &err));
	expect_msg(&err, WDT_TRUNCATED, "marks 4095 pages");
	free(k.p);
	/* big-endian and 32-bit layouts are named, not misread */
	build(&k, NPFN);
	wdt_put_le32(k.p + WDT_KDH_BLOCK_SIZE, 0x00100000);
	assert_null(open_buf(k.p, k.len, &err));
	expect_msg(&err, WDT_UNSUPPORTED, "big-endian");
	free(k.p);
}

static void test_old_versions(void **state)
{
	(void)state;
	struct kd k;
	struct wdt_err err;
	/* version 5 and older: max_mapnr (32-bit) counts; 1st bitmap ignored */
	for (int v = 1; v <= 5; v++) {
		build(&k, NPFN);
		wdt_put_le32(k.p + WDT_KDH_VERSION, (uint32_t)v);
		wdt_put_le64(k.p + BS + WDT_KSH_MAX_MAPNR_64, 1ull << 40);
		struct wdt_image *img = open_buf(k.p, k.len, &err);
		if (!img)
			fail_msg("v%d: %s", v, err.msg);
		check_pages(img);
		wdt_image_close(img);
		free(k.p);
	}
}

static void test_header_parse_pure(void **state)
{
	(void)state;
	struct kd k;
	struct wdt_kdump_hdr h;
	struct wdt_err err;
	build(&k, NPFN);
	assert_int_equal(wdt_kdump_parse_header(k.p, WDT_KDH_SIZE, &h, &err),
			 0);
	assert_int_equal(wdt_kdump_parse_sub(k.p + BS, WDT_KSH_SIZE, &h, &err),
			 0);
	assert_int_equal(wdt_kdump_check(&h, k.len, &err), 0);
	assert_true(h.two_bitmaps);
	assert_int_equal(h.bitmap_off, 3 * BS);
	assert_int_equal(h.desc_off, 4 * BS);
	assert_string_equal(h.machine, "x86_64");
	assert_int_equal(
	    wdt_kdump_parse_header(k.p, WDT_KDH_SIZE - 1, &h, &err), -1);
	assert_int_equal(err.status, WDT_TRUNCATED);
	free(k.p);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int b = 0; b < 8; b++)
		p[b] = (uint8_t)(v >> (56 - 8 * b));
}

/*
 * Hostile flattened file: the header asks for max_mapnr 2^33 (two 1 GiB
 * bitmaps) and a record far out makes the rearranged size cover them,
 * but the file itself is a few KiB. Open must refuse before allocating
 * the bitmap, naming the sizes.
 */
static void test_bitmap_larger_than_file(void **state)
{
	(void)state;
	struct kd k;
	struct wdt_err err;
	uint64_t max = 1ull << 33, blocks = 2 * (max / 8 / BS);
	build(&k, NPFN);
	wdt_put_le32(k.p + WDT_KDH_BITMAP_BLOCKS, (uint32_t)blocks);
	wdt_put_le64(k.p + BS + WDT_KSH_MAX_MAPNR_64, max);
	size_t n = 4096 + 16 + 2 * BS + 16 + 16 + 16;
	uint8_t *f = calloc(1, n);
	assert_non_null(f);
	memcpy(f, "makedumpfile", 12);
	f[23] = 1;
	f[31] = 1;
	size_t at = 4096;
	put_be64(f + at, 0);
	put_be64(f + at + 8, 2 * BS);
	memcpy(f + at + 16, k.p, 2 * BS);
	at += 16 + 2 * BS;
	put_be64(f + at, (2 + blocks) * BS + 4096); /* past the bitmaps */
	put_be64(f + at + 8, 16);
	at += 32;
	memset(f + at, 0xff, 16);
	at += 16;
	assert_int_equal(at, n);
	struct wdt_image *img = open_buf(f, n, &err);
	assert_null(img);
	char msg[160];
	snprintf(msg, sizeof(msg),
		 "kdump bitmap: %" PRIu64 " blocks (0x%" PRIx64
		 " bytes, max_mapnr 0x%" PRIx64
		 ") are larger than the file (0x%zx bytes)",
		 blocks, blocks * BS, max, n);
	expect_msg(&err, WDT_CORRUPT, msg);
	/* The same header in a plain file is cut short (bitmap past EOF). */
	assert_null(open_buf(k.p, k.len, &err));
	expect_msg(&err, WDT_TRUNCATED, "run past the end of the file");
	free(f);
	free(k.p);
}

/* A split part: only [start_pfn_64, end_pfn_64) is this file's, its
 * descriptors start with the first PFN of the range. */
static void test_split_range(void **state)
{
	(void)state;
	struct kd k;
	struct wdt_err err;
	uint8_t got[BS], want[BS];
	build(&k, NPFN);
	wdt_put_le32(k.p + BS + WDT_KSH_SPLIT, 1);
	wdt_put_le64(k.p + BS + WDT_KSH_START_PFN_64, 4);
	wdt_put_le64(k.p + BS + WDT_KSH_END_PFN_64, 7);
	/* drop the descriptors of PFNs 0-2 (the first three) */
	memmove(k.p + k.desc_off, k.p + k.desc_off + 3 * WDT_KPD_LEN,
		(NPRESENT - 3) * WDT_KPD_LEN);
	struct wdt_image *img = open_buf(k.p, k.len, &err);
	if (!img)
		fail_msg("%s", err.msg);
	assert_int_equal(img->nruns, 1);
	assert_int_equal(img->runs[0].pa, 4 * BS);
	assert_int_equal(img->runs[0].len, 3 * BS);
	for (uint64_t pfn = 4; pfn < 7; pfn++) {
		page_of(pfn, want);
		assert_int_equal(
		    wdt_image_read_phys(img, pfn * BS, got, BS, &err), 0);
		assert_memory_equal(got, want, BS);
	}
	assert_int_equal(wdt_image_read_phys(img, 7 * BS, got, 1, &err), -1);
	assert_int_equal(err.status, WDT_NO_DATA);
	assert_int_equal(wdt_image_read_phys(img, 1 * BS, got, 1, &err), -1);
	assert_int_equal(err.status, WDT_NO_DATA);
	wdt_image_close(img);
	free(k.p);
}

/*
 * LZ4 frame checksums (formats/compressed.c, the raw-lz4 reader; here with
 * the other hardening tests of issue 4): liblz4's own frame writer makes
 * frames with block and content checksums, which must open and read back;
 * one flipped bit in either checksum must fail the open as corrupt.
 */
static void test_lz4_checksums(void **state)
{
	(void)state;
	size_t n = 300 * 1024;
	uint8_t *d = malloc(n), *back = malloc(n);
	assert_non_null(d);
	assert_non_null(back);
	for (size_t i = 0; i < n; i++)
		d[i] = (uint8_t)(i % 4096 < 2048 ? (i / 4096) * 7 + (i % 13)
						 : (i * 2654435761u) >> 17);
	for (int linked = 0; linked < 2; linked++) {
		LZ4F_preferences_t pr;
		memset(&pr, 0, sizeof(pr));
		pr.frameInfo.blockSizeID = LZ4F_max64KB;
		pr.frameInfo.blockMode =
		    linked ? LZ4F_blockLinked : LZ4F_blockIndependent;
		pr.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
		pr.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
		size_t cap = LZ4F_compressFrameBound(n, &pr);
		uint8_t *f = malloc(cap);
		assert_non_null(f);
		size_t fl = LZ4F_compressFrame(f, cap, d, n, &pr);
		assert_false(LZ4F_isError(fl));
		assert_int_equal(f[4] & 0x14, 0x14); /* both flags set */
		struct wdt_err err;
		wdt_err_clear(&err);
		struct wdt_source *m =
		    wdt_source_open_mem(f, fl, "t.lz4", &err);
		struct wdt_source *s = wdt_lz4_open(m, 0, &err);
		if (!s)
			fail_msg("%s", err.msg);
		assert_int_equal(s->size, n);
		assert_int_equal(wdt_source_read(s, back, n, 0, &err), 0);
		assert_memory_equal(back, d, n);
		wdt_source_close(s);

		/* content checksum: the last 4 bytes, after the end mark */
		f[fl - 2] ^= 0x10;
		m = wdt_source_open_mem(f, fl, "t.lz4", &err);
		assert_null(wdt_lz4_open(m, 0, &err));
		expect_msg(&err, WDT_CORRUPT,
			   "LZ4: content checksum mismatch for the frame "
			   "at 0x0");
		wdt_source_close(m);
		f[fl - 2] ^= 0x10;

		/* block checksum of the first block (header is 7 bytes) */
		uint32_t c = wdt_le32(f + 7) & 0x7fffffffu;
		f[11 + c] ^= 0x01;
		m = wdt_source_open_mem(f, fl, "t.lz4", &err);
		assert_null(wdt_lz4_open(m, 0, &err));
		expect_msg(&err, WDT_CORRUPT,
			   "LZ4: block checksum mismatch for the block "
			   "at 0x7");
		wdt_source_close(m);
		f[11 + c] ^= 0x01;

		/* a frame cut inside its content checksum is truncated */
		m = wdt_source_open_mem(f, fl - 2, "t.lz4", &err);
		assert_null(wdt_lz4_open(m, 0, &err));
		expect_msg(&err, WDT_TRUNCATED, "content checksum");
		wdt_source_close(m);
		free(f);
	}
	free(d);
	free(back);
}

/*
 * The page reader's zero flags say which pages are all zero and leave
 * those pages of the buffer alone; without flags the shared zero page,
 * once known, is stored as zeros; pages outside the bitmap are flagged
 * zero; corruption names the page; unaligned reads are refused.
 */
static void test_reader(void **state)
{
	(void)state;
	struct kd k;
	struct wdt_err err;
	uint8_t *buf = malloc(4 * BS), want[BS], zero[4];
	char msg[128];
	build(&k, NPFN);
	struct wdt_image *img = open_buf(k.p, k.len, &err);
	assert_non_null(img);
	struct wdt_image_reader *r = wdt_image_reader_new(img, &err);
	assert_non_null(r);

	/* PFNs 4-7: 5 is the shared zero page, met first here */
	memset(buf, 0xaa, 4 * BS);
	memset(zero, 7, sizeof(zero));
	assert_int_equal(wdt_image_reader_read(r, 4 * BS, 4, buf, zero, &err),
			 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(zero[i], i == 1);
		page_of(4 + i, want);
		if (i != 1)
			assert_memory_equal(buf + i * BS, want, BS);
	}
	/* PFN 0 shares 5's data: flagged without being stored */
	memset(buf, 0xaa, 4 * BS);
	assert_int_equal(wdt_image_reader_read(r, 0, 3, buf, zero, &err), 0);
	assert_int_equal(zero[0], 1);
	assert_int_equal(zero[1], 0);
	assert_int_equal(zero[2], 0);
	assert_int_equal(buf[0], 0xaa);
	assert_int_equal(buf[BS - 1], 0xaa);
	/* without flags the known zero page is written as zeros */
	memset(buf, 0xaa, 4 * BS);
	assert_int_equal(wdt_image_reader_read(r, 4 * BS, 4, buf, NULL, &err),
			 0);
	for (unsigned i = 0; i < 4; i++) {
		page_of(4 + i, want);
		assert_memory_equal(buf + i * BS, want, BS);
	}
	/* PFN 3 is excluded: flagged zero, or zeros */
	memset(zero, 7, sizeof(zero));
	assert_int_equal(wdt_image_reader_read(r, 2 * BS, 3, buf, zero, &err),
			 0);
	assert_int_equal(zero[0], 0);
	assert_int_equal(zero[1], 1);
	assert_int_equal(zero[2], 0);
	memset(buf, 0xaa, 4 * BS);
	assert_int_equal(wdt_image_reader_read(r, 2 * BS, 3, buf, NULL, &err),
			 0);
	memset(want, 0, BS);
	assert_memory_equal(buf + BS, want, BS);
	/* not page aligned */
	assert_int_equal(wdt_image_reader_read(r, 8, 1, buf, zero, &err), -1);
	expect_msg(&err, WDT_INTERNAL, "unaligned address 0x8");
	wdt_image_reader_free(r);

	/* corrupt zlib data names the page */
	memset(k.p + k.data_off[6] + 2, 0xee, 16);
	r = wdt_image_reader_new(img, &err);
	assert_non_null(r);
	assert_int_equal(wdt_image_reader_read(r, 4 * BS, 4, buf, zero, &err),
			 -1);
	snprintf(msg, sizeof(msg),
		 "PFN 0x6: zlib data at file offset 0x%" PRIx64, k.data_off[6]);
	expect_msg(&err, WDT_CORRUPT, msg);
	wdt_image_reader_free(r);
	wdt_image_close(img);
	free(buf);
	free(k.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_flattened),
	    cmocka_unit_test(test_corrupt_page),
	    cmocka_unit_test(test_reader),
	    cmocka_unit_test(test_desc_outside),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_header_values),
	    cmocka_unit_test(test_old_versions),
	    cmocka_unit_test(test_header_parse_pure),
	    cmocka_unit_test(test_bitmap_larger_than_file),
	    cmocka_unit_test(test_split_range),
	    cmocka_unit_test(test_lz4_checksums),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
