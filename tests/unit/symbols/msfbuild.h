/* SPDX-License-Identifier: MIT */
/*
 * A tiny MSF 7.00 writer for tests: lays given streams out in 512-byte
 * blocks (superblock, two FPM blocks, block map, directory, data) so unit
 * tests and fuzz seeds can describe malformed PDBs precisely.
 */
#ifndef WDT_TESTS_SYMBOLS_MSFBUILD_H
#define WDT_TESTS_SYMBOLS_MSFBUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "symbols/pdb.h"

#define MB_BS 512u

struct mb_stream {
	const uint8_t *data;
	uint32_t size; /* 0xFFFFFFFF = nil */
};

/* Returns a malloc'ed file image of *len bytes. */
static uint8_t *mb_build(const struct mb_stream *s, uint32_t n, size_t *len)
{
	uint32_t dir_words = 1 + n, nblk[64], first = 0, ndir, total;
	uint8_t *f;
	uint32_t *dir;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t sz = s[i].size == 0xFFFFFFFFu ? 0 : s[i].size;

		nblk[i] = (sz + MB_BS - 1) / MB_BS;
		dir_words += nblk[i];
	}
	ndir = (dir_words * 4 + MB_BS - 1) / MB_BS;
	first = 4 + ndir;
	total = first;
	for (uint32_t i = 0; i < n; i++)
		total += nblk[i];
	f = calloc(total, MB_BS);
	dir = calloc(dir_words, 4);
	memcpy(f, WDT_MSF_MAGIC, WDT_MSF_MAGIC_LEN);
	wdt_put_le32(f + 0x20, MB_BS);
	wdt_put_le32(f + 0x24, 1);
	wdt_put_le32(f + 0x28, total);
	wdt_put_le32(f + 0x2C, dir_words * 4);
	wdt_put_le32(f + 0x34, 3);
	for (uint32_t i = 0; i < ndir; i++)
		wdt_put_le32(f + 3 * MB_BS + 4 * i, 4 + i);
	dir[0] = n;
	{
		uint32_t w = 1 + n, b = first;

		for (uint32_t i = 0; i < n; i++) {
			dir[1 + i] = s[i].size;
			for (uint32_t j = 0; j < nblk[i]; j++) {
				uint32_t chunk = s[i].size - j * MB_BS;

				if (chunk > MB_BS)
					chunk = MB_BS;
				memcpy(f + (size_t)b * MB_BS,
				       s[i].data + j * MB_BS, chunk);
				dir[w++] = b++;
			}
		}
	}
	for (uint32_t i = 0; i < dir_words; i++)
		wdt_put_le32(f + 4 * MB_BS + 4 * i, dir[i]);
	free(dir);
	*len = (size_t)total * MB_BS;
	return f;
}

/* A growable byte buffer for stream contents. */
struct mb_buf {
	uint8_t d[8192];
	uint32_t n;
};

static void mb_u16(struct mb_buf *b, uint16_t v)
{
	wdt_put_le16(b->d + b->n, v);
	b->n += 2;
}

static void mb_u32(struct mb_buf *b, uint32_t v)
{
	wdt_put_le32(b->d + b->n, v);
	b->n += 4;
}

static void mb_str(struct mb_buf *b, const char *s)
{
	size_t l = strlen(s) + 1;

	memcpy(b->d + b->n, s, l);
	b->n += (uint32_t)l;
}

/* Pad to 4 with LF_PAD bytes (0xF3 0xF2 0xF1). */
static void mb_pad(struct mb_buf *b)
{
	while (b->n % 4) {
		b->d[b->n] = (uint8_t)(0xF0 + (4 - b->n % 4));
		b->n++;
	}
}

/*
 * Standard streams: 0 old dir, 1 info (guid, age), 2 TPI (tpi), 3 DBI
 * (symrec stream 4, section stream 5, dbi age), 4 symrec, 5 one section
 * ".text" at RVA 0x1000.
 */
static uint8_t *mb_pdb(const uint8_t guid[16], uint32_t age,
		       const struct mb_buf *tpi, const struct mb_buf *sym,
		       size_t *len)
{
	static struct mb_buf info, dbi, sec;
	struct mb_stream s[6];

	memset(&info, 0, sizeof(info));
	mb_u32(&info, 20000404);
	mb_u32(&info, 0x12345678);
	mb_u32(&info, age);
	memcpy(info.d + info.n, guid, 16);
	info.n += 16;
	mb_u32(&info, 0); /* empty named stream map */
	mb_u32(&info, 0);
	mb_u32(&info, 0);
	mb_u32(&info, 0);
	mb_u32(&info, 0);

	memset(&dbi, 0, sizeof(dbi));
	mb_u32(&dbi, 0xFFFFFFFFu);
	mb_u32(&dbi, 19990903);
	mb_u32(&dbi, age);
	mb_u16(&dbi, 0xFFFF); /* GSI */
	mb_u16(&dbi, 0);
	mb_u16(&dbi, 0xFFFF); /* PSI */
	mb_u16(&dbi, 0);
	mb_u16(&dbi, 4); /* symbol records */
	mb_u16(&dbi, 0);
	for (int i = 0; i < 6; i++)
		mb_u32(&dbi, 0); /* substreams .. MFC index */
	mb_u32(&dbi, 22);	 /* optional debug header: 11 u16 */
	mb_u32(&dbi, 0);	 /* EC */
	mb_u16(&dbi, 0);
	mb_u16(&dbi, 0x8664);
	mb_u32(&dbi, 0);
	for (int i = 0; i < 11; i++)
		mb_u16(&dbi, i == 5 ? 5 : 0xFFFF);

	memset(&sec, 0, sizeof(sec));
	memcpy(sec.d, ".text", 5);
	wdt_put_le32(sec.d + 8, 0x1000);
	wdt_put_le32(sec.d + 12, 0x1000);
	sec.n = 40;

	s[0] = (struct mb_stream){NULL, 0};
	s[1] = (struct mb_stream){info.d, info.n};
	s[2] = (struct mb_stream){tpi->d, tpi->n};
	s[3] = (struct mb_stream){dbi.d, dbi.n};
	s[4] = (struct mb_stream){sym->d, sym->n};
	s[5] = (struct mb_stream){sec.d, sec.n};
	return mb_build(s, 6, len);
}

/* TPI header for records already in b after 0x38 bytes. */
static void mb_tpi_header(struct mb_buf *b, uint32_t ntypes)
{
	wdt_put_le32(b->d + 0x00, 20040203);
	wdt_put_le32(b->d + 0x04, 0x38);
	wdt_put_le32(b->d + 0x08, 0x1000);
	wdt_put_le32(b->d + 0x0C, 0x1000 + ntypes);
	wdt_put_le32(b->d + 0x10, b->n - 0x38);
}

#endif
