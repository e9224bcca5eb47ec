/* SPDX-License-Identifier: MIT */
/*
 * MSF 7.00 container, PDB info and DBI streams, public symbols.
 * Layout: ../shared/spec/pdb.md §1–§7.
 */
#include "symbols/pdb.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "symbols/pdb_priv.h"

/* Superblock (§1) */
#define SB_BLOCK_SIZE 0x20
#define SB_FPM_BLOCK 0x24
#define SB_NBLOCKS 0x28
#define SB_DIR_BYTES 0x2C
#define SB_DIR_MAP 0x34
/* PDB info stream (§3) */
#define INFO_VERSION 0x00
#define INFO_SIGNATURE 0x04
#define INFO_AGE 0x08
#define INFO_GUID 0x0C
#define INFO_MIN 0x1C
/* DBI header (§4) */
#define DBI_VERSION_SIG 0x00
#define DBI_AGE 0x08
#define DBI_SYMREC 0x14
#define DBI_MODINFO_SIZE 0x18
#define DBI_OPTDBG_SIZE 0x30
#define DBI_EC_SIZE 0x34
#define DBI_HEADER_SIZE 0x40
#define DBI_OPTDBG_OMAP_TO 3
#define DBI_OPTDBG_OMAP_FROM 4
#define DBI_OPTDBG_SECTIONS 5
/* Symbol records (§5) */
#define SYM_LEN 0x00
#define SYM_KIND 0x02
#define SYM_PUB32 0x110E
#define PUB_FLAGS 0x04
#define PUB_OFFSET 0x08
#define PUB_SEGMENT 0x0C
#define PUB_NAME 0x0E

#define NO_STREAM 0xFFFF
/* Bounds for untrusted sizes. */
#define MAX_DIR_BYTES (64u << 20)
#define MAX_SECTIONS 65535u
#define MAX_STREAM_LOAD (1u << 30)

static const char msf_old_magic[] = "Microsoft C/C++ program database 2.00";

bool wdt_msf_probe(const uint8_t *buf, size_t len)
{
	return len >= WDT_MSF_MAGIC_LEN &&
	       memcmp(buf, WDT_MSF_MAGIC, WDT_MSF_MAGIC_LEN) == 0;
}

int wdt_msf_parse_super(const uint8_t *buf, size_t len, uint64_t file_size,
			struct wdt_msf_super *out, struct wdt_err *err)
{
	uint32_t bs, ndir;
	uint64_t maps;

	memset(out, 0, sizeof(*out));
	if (len >= sizeof(msf_old_magic) - 1 &&
	    memcmp(buf, msf_old_magic, sizeof(msf_old_magic) - 1) == 0)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "old PDB 2.00 format (small MSF) is not "
				   "supported");
	if (len < WDT_MSF_SUPERBLOCK_SIZE ||
	    file_size < WDT_MSF_SUPERBLOCK_SIZE)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "file of %" PRIu64
				   " bytes is too short for an MSF superblock",
				   file_size < len ? file_size : (uint64_t)len);
	if (!wdt_msf_probe(buf, len))
		return wdt_err_set(err, WDT_UNKNOWN_FORMAT,
				   "not a PDB (no MSF 7.00 magic)");
	bs = wdt_le32(buf + SB_BLOCK_SIZE);
	if (bs < 512 || bs > 65536 || (bs & (bs - 1)))
		return wdt_err_set(err, WDT_CORRUPT,
				   "MSF block size %" PRIu32
				   " is not a power of two in 512..65536",
				   bs);
	out->block_size = bs;
	out->fpm_block = wdt_le32(buf + SB_FPM_BLOCK);
	out->nblocks = wdt_le32(buf + SB_NBLOCKS);
	out->dir_bytes = wdt_le32(buf + SB_DIR_BYTES);
	out->file_blocks =
	    (uint32_t)(file_size / bs <= UINT32_MAX ? file_size / bs
						    : UINT32_MAX);
	if (out->nblocks == 0 || out->nblocks > out->file_blocks + 1u)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "MSF claims %" PRIu32 " blocks of %" PRIu32
				   " bytes but the file holds %" PRIu64
				   " bytes",
				   out->nblocks, bs, file_size);
	if (out->dir_bytes < 4 || out->dir_bytes > MAX_DIR_BYTES ||
	    out->dir_bytes > file_size)
		return wdt_err_set(err, WDT_CORRUPT,
				   "MSF stream directory size %" PRIu32
				   " is implausible for a %" PRIu64
				   "-byte file",
				   out->dir_bytes, file_size);
	ndir = (out->dir_bytes + bs - 1) / bs;
	maps = ((uint64_t)ndir * 4 + bs - 1) / bs;
	if (SB_DIR_MAP + maps * 4 > bs || SB_DIR_MAP + maps * 4 > len)
		return wdt_err_set(
		    err, WDT_CORRUPT,
		    "MSF directory of %" PRIu32 " bytes needs %" PRIu64
		    " block-map blocks, more than the superblock "
		    "lists",
		    out->dir_bytes, maps);
	out->dir_map_blocks = (uint32_t)maps;
	for (uint32_t i = 0; i < maps; i++) {
		uint32_t b = wdt_le32(buf + SB_DIR_MAP + 4 * i);

		if (b == 0 || b >= out->nblocks)
			return wdt_err_set(
			    err, WDT_CORRUPT,
			    "MSF directory block map at block "
			    "%" PRIu32 " lies outside the %" PRIu32 " blocks",
			    b, out->nblocks);
	}
	return 0;
}

static int read_block(const struct wdt_pdb *pdb, uint32_t b, uint32_t off,
		      void *buf, size_t len, struct wdt_err *err)
{
	if (b >= pdb->sb.nblocks)
		return wdt_err_set(err, WDT_CORRUPT,
				   "block %" PRIu32 " beyond the %" PRIu32
				   " blocks of the file",
				   b, pdb->sb.nblocks);
	return wdt_source_read(pdb->src, buf, len,
			       (uint64_t)b * pdb->sb.block_size + off, err);
}

/* Read the directory: block map block(s) -> directory blocks -> bytes. */
static int read_directory(struct wdt_pdb *pdb, const uint8_t *super,
			  struct wdt_err *err)
{
	uint32_t bs = pdb->sb.block_size;
	uint32_t ndir = (pdb->sb.dir_bytes + bs - 1) / bs;
	uint8_t *map = malloc((size_t)pdb->sb.dir_map_blocks * bs);
	uint8_t *dir = malloc((size_t)ndir * bs);
	int rc = -1;

	if (!map || !dir) {
		wdt_err_nomem(err);
		goto out;
	}
	for (uint32_t i = 0; i < pdb->sb.dir_map_blocks; i++)
		if (read_block(pdb, wdt_le32(super + SB_DIR_MAP + 4 * i), 0,
			       map + (size_t)i * bs, bs, err) < 0) {
			wdt_err_prefix(err, "directory block map");
			goto out;
		}
	for (uint32_t i = 0; i < ndir; i++)
		if (read_block(pdb, wdt_le32(map + 4 * i), 0,
			       dir + (size_t)i * bs, bs, err) < 0) {
			wdt_err_prefix(err, "directory block %" PRIu32, i);
			goto out;
		}
	pdb->dir = malloc(pdb->sb.dir_bytes);
	if (!pdb->dir) {
		wdt_err_nomem(err);
		goto out;
	}
	/* Keep the directory as host-order words. */
	for (uint32_t i = 0; i < pdb->sb.dir_bytes / 4; i++)
		pdb->dir[i] = wdt_le32(dir + 4 * i);
	rc = 0;
out:
	free(map);
	free(dir);
	return rc;
}

static int parse_directory(struct wdt_pdb *pdb, struct wdt_err *err)
{
	uint32_t words = pdb->sb.dir_bytes / 4, n = pdb->dir[0], pos;
	uint32_t bs = pdb->sb.block_size;

	if (n == 0 || n > words - 1)
		return wdt_err_set(err, WDT_CORRUPT,
				   "stream directory lists %" PRIu32
				   " streams but holds %" PRIu32 " words",
				   n, words);
	pdb->nstreams = n;
	pdb->ssize = calloc(n, sizeof(*pdb->ssize));
	pdb->sblocks = calloc(n, sizeof(*pdb->sblocks));
	if (!pdb->ssize || !pdb->sblocks)
		return wdt_err_nomem(err);
	pos = 1 + n;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t sz = pdb->dir[1 + i], nb;

		if (sz == PDB_NIL_STREAM)
			sz = 0;
		nb = (uint32_t)(((uint64_t)sz + bs - 1) / bs);
		if (nb > words - pos)
			return wdt_err_set(err, WDT_CORRUPT,
					   "stream %" PRIu32 " claims %" PRIu32
					   " bytes (%" PRIu32
					   " blocks) but the directory ends",
					   i, sz, nb);
		pdb->ssize[i] = sz;
		pdb->sblocks[i] = pdb->dir + pos;
		for (uint32_t j = 0; j < nb; j++)
			if (pdb->dir[pos + j] >= pdb->sb.nblocks)
				return wdt_err_set(
				    err, WDT_CORRUPT,
				    "stream %" PRIu32 " block %" PRIu32
				    " points past the end of "
				    "the file (block %" PRIu32 " of %" PRIu32
				    ")",
				    i, j, pdb->dir[pos + j], pdb->sb.nblocks);
		pos += nb;
	}
	return 0;
}

uint32_t wdt_pdb_stream_count(const struct wdt_pdb *pdb)
{
	return pdb->nstreams;
}

uint32_t wdt_pdb_stream_size(const struct wdt_pdb *pdb, uint32_t idx)
{
	return idx < pdb->nstreams ? pdb->ssize[idx] : 0;
}

int wdt_pdb_stream_read(const struct wdt_pdb *pdb, uint32_t idx, uint32_t off,
			void *buf, size_t len, struct wdt_err *err)
{
	uint32_t bs = pdb->sb.block_size;
	uint8_t *p = buf;

	if (idx >= pdb->nstreams)
		return wdt_err_set(err, WDT_CORRUPT,
				   "stream %" PRIu32 " does not exist (%" PRIu32
				   " streams)",
				   idx, pdb->nstreams);
	if (!wdt_in_bounds(pdb->ssize[idx], off, len))
		return wdt_err_set(err, WDT_TRUNCATED,
				   "stream %" PRIu32
				   ": %zu bytes at offset %" PRIu32
				   " lie beyond its %" PRIu32 " bytes",
				   idx, len, off, pdb->ssize[idx]);
	while (len) {
		uint32_t blk = off / bs, in = off % bs;
		size_t chunk = bs - in;

		if (chunk > len)
			chunk = len;
		if (read_block(pdb, pdb->sblocks[idx][blk], in, p, chunk, err) <
		    0)
			return wdt_err_prefix(err, "stream %" PRIu32, idx);
		p += chunk;
		off += (uint32_t)chunk;
		len -= chunk;
	}
	return 0;
}

int pdb_stream_load(const struct wdt_pdb *pdb, uint32_t idx, uint8_t **buf,
		    uint32_t *len, struct wdt_err *err)
{
	uint32_t n = wdt_pdb_stream_size(pdb, idx);

	*buf = NULL;
	*len = 0;
	if (n > MAX_STREAM_LOAD)
		return wdt_err_set(err, WDT_CORRUPT,
				   "stream %" PRIu32 " of %" PRIu32
				   " bytes is too large",
				   idx, n);
	/* One spare NUL so string scans at the very end stay in bounds. */
	*buf = malloc((size_t)n + 1);
	if (!*buf)
		return wdt_err_nomem(err);
	if (n && wdt_pdb_stream_read(pdb, idx, 0, *buf, n, err) < 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	(*buf)[n] = 0;
	*len = n;
	return 0;
}

static int read_info(struct wdt_pdb *pdb, struct wdt_err *err)
{
	uint8_t h[INFO_MIN];

	if (wdt_pdb_stream_read(pdb, PDB_STREAM_INFO, 0, h, sizeof(h), err) < 0)
		return wdt_err_prefix(err, "PDB info stream");
	pdb->ident.signature = wdt_le32(h + INFO_SIGNATURE);
	pdb->ident.info_age = wdt_le32(h + INFO_AGE);
	memcpy(pdb->ident.guid, h + INFO_GUID, 16);
	pdb->ident.age = pdb->ident.info_age;
	return 0;
}

static int read_sections(struct wdt_pdb *pdb, uint32_t idx, struct wdt_err *err)
{
	uint8_t *buf;
	uint32_t len;
	size_t n;

	if (pdb_stream_load(pdb, idx, &buf, &len, err) < 0)
		return wdt_err_prefix(err, "section header stream");
	n = len / WDT_PE_SECTION_SIZE;
	if (n > MAX_SECTIONS)
		n = MAX_SECTIONS;
	pdb->secs = calloc(n + 1, sizeof(*pdb->secs));
	if (!pdb->secs) {
		free(buf);
		return wdt_err_nomem(err);
	}
	for (size_t i = 0; i < n; i++)
		wdt_pe_parse_section(buf + i * WDT_PE_SECTION_SIZE,
				     WDT_PE_SECTION_SIZE, &pdb->secs[i], NULL);
	pdb->nsecs = n;
	free(buf);
	return 0;
}

static int read_dbi(struct wdt_pdb *pdb, struct wdt_err *err)
{
	uint32_t size = wdt_pdb_stream_size(pdb, PDB_STREAM_DBI);
	uint8_t h[DBI_HEADER_SIZE];
	uint64_t off = DBI_HEADER_SIZE;
	int32_t optdbg;

	pdb->symrec_stream = NO_STREAM;
	if (size == 0)
		return 0; /* no DBI: match on the info age */
	if (wdt_pdb_stream_read(pdb, PDB_STREAM_DBI, 0, h, sizeof(h), err) < 0)
		return wdt_err_prefix(err, "DBI stream header");
	/* microsoft-pdb issue #13: check the signature before trusting it. */
	if (wdt_le32(h + DBI_VERSION_SIG) != 0xFFFFFFFFu)
		return wdt_err_set(err, WDT_CORRUPT,
				   "DBI stream signature 0x%08" PRIx32
				   " is not -1",
				   wdt_le32(h + DBI_VERSION_SIG));
	pdb->ident.has_dbi = true;
	pdb->ident.dbi_age = wdt_le32(h + DBI_AGE);
	pdb->ident.age = pdb->ident.dbi_age;
	pdb->symrec_stream = wdt_le16(h + DBI_SYMREC);
	/* Substreams: ModInfo..TypeServerMap, then EC, then OptionalDbgHeader.
	 */
	for (int i = 0; i < 5; i++) {
		int32_t s = (int32_t)wdt_le32(h + DBI_MODINFO_SIZE + 4 * i);

		if (s < 0)
			return wdt_err_set(err, WDT_CORRUPT,
					   "DBI substream %d has negative size",
					   i);
		off += (uint32_t)s;
	}
	if ((int32_t)wdt_le32(h + DBI_EC_SIZE) < 0)
		return wdt_err_set(err, WDT_CORRUPT,
				   "DBI EC substream has negative size");
	off += wdt_le32(h + DBI_EC_SIZE);
	optdbg = (int32_t)wdt_le32(h + DBI_OPTDBG_SIZE);
	if (optdbg < 0 || off + (uint32_t)optdbg > size)
		return wdt_err_set(err, WDT_CORRUPT,
				   "DBI substreams (%" PRIu64
				   " bytes) exceed the %" PRIu32 "-byte stream",
				   off + (uint32_t)(optdbg < 0 ? 0 : optdbg),
				   size);
	if (optdbg >= 2 * (DBI_OPTDBG_SECTIONS + 1)) {
		uint8_t d[2 * (DBI_OPTDBG_SECTIONS + 1)];
		uint16_t sec;

		if (wdt_pdb_stream_read(pdb, PDB_STREAM_DBI, (uint32_t)off, d,
					sizeof(d), err) < 0)
			return wdt_err_prefix(err, "DBI debug header");
		pdb->has_omap =
		    wdt_le16(d + 2 * DBI_OPTDBG_OMAP_FROM) != NO_STREAM &&
		    wdt_le16(d + 2 * DBI_OPTDBG_OMAP_FROM) != 0;
		sec = wdt_le16(d + 2 * DBI_OPTDBG_SECTIONS);
		if (sec != NO_STREAM && read_sections(pdb, sec, err) < 0)
			return -1;
	}
	return 0;
}

struct wdt_pdb *wdt_pdb_open(struct wdt_source *src, struct wdt_err *err)
{
	struct wdt_pdb *pdb = calloc(1, sizeof(*pdb));
	uint8_t super[512];
	size_t got;

	if (!pdb) {
		wdt_err_nomem(err);
		return NULL;
	}
	pdb->src = src;
	pdb->name = strdup(src->name);
	if (!pdb->name) {
		wdt_err_nomem(err);
		goto fail;
	}
	memset(super, 0, sizeof(super));
	if (wdt_source_pread(src, super, sizeof(super), 0, &got, err) < 0 ||
	    wdt_msf_parse_super(super, got, src->size, &pdb->sb, err) < 0 ||
	    read_directory(pdb, super, err) < 0 ||
	    parse_directory(pdb, err) < 0 || read_info(pdb, err) < 0 ||
	    read_dbi(pdb, err) < 0) {
		wdt_err_prefix(err, "%s", pdb->name);
		goto fail;
	}
	return pdb;
fail:
	wdt_pdb_close(pdb);
	return NULL;
}

struct wdt_pdb *wdt_pdb_open_file(const char *path, struct wdt_err *err)
{
	struct wdt_source *src = wdt_source_open_file(path, err);
	struct wdt_pdb *pdb;

	if (!src) {
		wdt_err_prefix(err, "%s", path);
		return NULL;
	}
	pdb = wdt_pdb_open(src, err);
	if (!pdb) {
		wdt_source_close(src);
		return NULL;
	}
	pdb->own_src = src;
	return pdb;
}

void wdt_pdb_close(struct wdt_pdb *pdb)
{
	if (!pdb)
		return;
	pdb_tpi_free(pdb);
	free(pdb->pubs);
	free(pdb->symrec);
	free(pdb->secs);
	free(pdb->ssize);
	free(pdb->sblocks);
	free(pdb->dir);
	free(pdb->name);
	wdt_source_close(pdb->own_src);
	free(pdb);
}

void wdt_pdb_identity(const struct wdt_pdb *pdb, struct wdt_pdb_ident *out)
{
	*out = pdb->ident;
}

int wdt_pdb_check_match(const struct wdt_pdb *pdb, const uint8_t guid[16],
			uint32_t age, bool force, struct wdt_err *err)
{
	char want[39], have[39];

	if (memcmp(pdb->ident.guid, guid, 16) == 0 && pdb->ident.age == age)
		return 0;
	if (force)
		return 0;
	wdt_pe_guid_str(guid, want);
	wdt_pe_guid_str(pdb->ident.guid, have);
	wdt_err_set(err, WDT_NOT_FOUND,
		    "%s does not match the image: PDB has %s age %" PRIu32
		    ", image wants %s age %" PRIu32,
		    pdb->name, have, pdb->ident.age, want, age);
	return wdt_err_remedy(err, WDT_REMEDY_FORCE_PDB);
}

const struct wdt_pe_section *wdt_pdb_sections(const struct wdt_pdb *pdb,
					      size_t *n)
{
	*n = pdb->nsecs;
	return pdb->secs;
}

/* ---- public symbols ---- */

static int cmp_pub(const void *a, const void *b)
{
	const struct wdt_pdb_public *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int scan_publics(struct wdt_pdb *pdb, uint32_t len, struct wdt_err *err)
{
	uint32_t off = 0;
	size_t cap = 0;

	while (off + 4 <= len) {
		uint16_t rlen = wdt_le16(pdb->symrec + off + SYM_LEN);
		uint16_t kind = wdt_le16(pdb->symrec + off + SYM_KIND);
		const uint8_t *r = pdb->symrec + off;
		struct wdt_pdb_public *p;
		size_t end;

		if (rlen < 2 || kind == 0)
			break;
		end = (size_t)off + 2 + rlen;
		if (end > len)
			return wdt_err_set(err, WDT_CORRUPT,
					   "%s: symbol record at %" PRIu32
					   " runs past the stream end",
					   pdb->name, off);
		if (kind == SYM_PUB32) {
			if (rlen + 2u < PUB_NAME + 1u ||
			    !memchr(r + PUB_NAME, 0, end - off - PUB_NAME))
				return wdt_err_set(err, WDT_CORRUPT,
						   "%s: S_PUB32 at %" PRIu32
						   " is malformed",
						   pdb->name, off);
			if (pdb->npubs == cap) {
				size_t nc = cap ? cap * 2 : 256;
				void *nv =
				    realloc(pdb->pubs, nc * sizeof(*pdb->pubs));

				if (!nv)
					return wdt_err_nomem(err);
				pdb->pubs = nv;
				cap = nc;
			}
			p = &pdb->pubs[pdb->npubs++];
			p->name = (const char *)r + PUB_NAME;
			p->flags = wdt_le32(r + PUB_FLAGS);
			p->offset = wdt_le32(r + PUB_OFFSET);
			p->segment = wdt_le16(r + PUB_SEGMENT);
			p->has_rva =
			    p->segment >= 1 && p->segment <= pdb->nsecs;
			p->rva = p->has_rva
				     ? pdb->secs[p->segment - 1].rva + p->offset
				     : 0;
		}
		off = (uint32_t)end;
	}
	return 0;
}

static int load_publics(struct wdt_pdb *pdb, struct wdt_err *err)
{
	uint32_t len;

	if (pdb->pubs_loaded)
		return 0;
	if (pdb->symrec_stream == NO_STREAM)
		return wdt_err_set(err, WDT_NOT_FOUND,
				   "%s has no symbol record stream (no DBI)",
				   pdb->name);
	if (pdb_stream_load(pdb, pdb->symrec_stream, &pdb->symrec, &len, err) <
	    0)
		return wdt_err_prefix(err, "%s: symbol records", pdb->name);
	if (scan_publics(pdb, len, err) < 0) {
		/* Forget the partial state: a later call fails the same way. */
		free(pdb->symrec);
		free(pdb->pubs);
		pdb->symrec = NULL;
		pdb->pubs = NULL;
		pdb->npubs = 0;
		return -1;
	}
	if (pdb->npubs)
		qsort(pdb->pubs, pdb->npubs, sizeof(*pdb->pubs), cmp_pub);
	pdb->pubs_loaded = true;
	return 0;
}

int wdt_pdb_publics(struct wdt_pdb *pdb, const struct wdt_pdb_public **v,
		    size_t *n, struct wdt_err *err)
{
	if (load_publics(pdb, err) < 0)
		return -1;
	*v = pdb->pubs;
	*n = pdb->npubs;
	return 0;
}

int wdt_pdb_symbol_rva(struct wdt_pdb *pdb, const char *name, uint32_t *rva,
		       struct wdt_err *err)
{
	size_t lo = 0, hi;

	if (load_publics(pdb, err) < 0)
		return -1;
	hi = pdb->npubs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct wdt_pdb_public *p = &pdb->pubs[mid];
		int c = strcmp(name, p->name);

		if (c == 0) {
			if (!p->has_rva)
				return wdt_err_set(
				    err, WDT_CORRUPT,
				    "%s: symbol %s is in segment "
				    "%u but the PDB has %zu "
				    "section headers",
				    pdb->name, name, p->segment, pdb->nsecs);
			*rva = p->rva;
			return 1;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	wdt_err_set(err, WDT_NOT_FOUND, "%s: no public symbol %s", pdb->name,
		    name);
	return 0;
}
