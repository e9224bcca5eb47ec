/* SPDX-License-Identifier: MIT */
/*
 * QEMU migration stream input (qemu-migration.md §1-4). See qevm.h.
 */
#include "formats/qevm.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/json.h"
#include "core/out.h"

/* Record types (§1). */
enum {
	QV_EOF = 0x00,
	QV_START = 0x01,
	QV_PART = 0x02,
	QV_END = 0x03,
	QV_FULL = 0x04,
	QV_SUBSECTION = 0x05,
	QV_VMDESC = 0x06,
	QV_CONFIG = 0x07,
	QV_COMMAND = 0x08,
	QV_FOOTER = 0x7E,
};

/* RAM page-record flags (§2). */
enum {
	RF_FULL = 0x01,
	RF_ZERO = 0x02,
	RF_MEM_SIZE = 0x04,
	RF_PAGE = 0x08,
	RF_EOS = 0x10,
	RF_CONTINUE = 0x20,
	RF_XBZRLE = 0x40,
	RF_HOOK = 0x80,
	RF_COMPRESS = 0x100,
	RF_MULTIFD_FLUSH = 0x200,
};
#define RF_MASK 0xFFFu

#define QV_MAX_BLOCKS 256u
#define QV_TAIL_SCAN                                                           \
	(16u << 20) /* where the JSON description is looked for                \
		     */
#define QV_JSON_MAX (16u << 20)
#define QV_BUF (1u << 20)
#define ISA_BIOS_MAX 0x20000u
#define GIB4 0x100000000ull

struct extent {
	uint64_t first;	 /* page index inside the block */
	uint64_t n;	 /* pages */
	uint64_t data;	 /* file offset of the first page's bytes (PAGE) */
	uint32_t stride; /* bytes between pages' data (PAGE, n > 1) */
	uint8_t zero;	 /* 1: ZERO record, fill below */
	uint8_t fill;
};

struct block {
	char id[256];
	uint64_t len; /* used_length */
	struct extent *ext;
	size_t n, cap;
	uint64_t next; /* one past the highest page seen */
	bool resent;   /* a page came again: resolve by arrival */
	uint64_t pages, zero_pages, resent_pages;
};

struct seg {
	uint64_t pa, len;
	size_t block;
	uint64_t off;
};

struct qevm {
	uint32_t version;
	char machine[128];
	struct block *blocks;
	size_t nblocks;
	size_t nextents;
	size_t main_block;
	uint64_t below_4g;
	const char *pam_from; /* static string */
	uint64_t ram_end;     /* stream offset after RAM's END section */
	uint64_t dev_off, dev_len;
	uint64_t json_off, json_len;
	bool have_json;
	unsigned ncpu_sections, ndevices;
	const char *cpu_layout; /* static string */
	struct block *cur;	/* last block named: CONTINUE spans sections */
	struct wdt_qevm_outer outer; /* a container's facts (libvirt) */
};

/* ---- sequential reader over the source ---- */

struct rd {
	struct wdt_source *src;
	uint8_t *buf;
	size_t have, pos;
	uint64_t base; /* file offset of buf[0] */
	size_t cap;
};

static uint64_t rd_tell(const struct rd *r)
{
	return r->base + r->pos;
}

static int rd_fill(struct rd *r, size_t need, struct wdt_err *err)
{
	if (r->have - r->pos >= need)
		return 0;
	size_t keep = r->have - r->pos, got;
	memmove(r->buf, r->buf + r->pos, keep);
	r->base += r->pos;
	r->pos = 0;
	r->have = keep;
	if (need > r->cap)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "the stream ends at offset 0x%" PRIx64
				   " inside a record: the file is truncated",
				   r->src->size);
	if (wdt_source_pread(r->src, r->buf + keep, r->cap - keep,
			     r->base + keep, &got, err) < 0)
		return -1;
	r->have += got;
	if (r->have < need)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "the stream ends at offset 0x%" PRIx64
				   " inside a record (%zu more bytes needed): "
				   "the file is truncated",
				   r->base + r->have, need - r->have);
	return 0;
}

static int rd_bytes(struct rd *r, void *dst, size_t n, struct wdt_err *err)
{
	if (rd_fill(r, n, err) < 0)
		return -1;
	memcpy(dst, r->buf + r->pos, n);
	r->pos += n;
	return 0;
}

static int rd_u8(struct rd *r, uint8_t *v, struct wdt_err *err)
{
	return rd_bytes(r, v, 1, err);
}

static int rd_be16(struct rd *r, uint16_t *v, struct wdt_err *err)
{
	uint8_t b[2];
	if (rd_bytes(r, b, 2, err) < 0)
		return -1;
	*v = (uint16_t)(b[0] << 8 | b[1]);
	return 0;
}

static int rd_be32(struct rd *r, uint32_t *v, struct wdt_err *err)
{
	uint8_t b[4];
	if (rd_bytes(r, b, 4, err) < 0)
		return -1;
	*v = wdt_be32(b);
	return 0;
}

static int rd_be64(struct rd *r, uint64_t *v, struct wdt_err *err)
{
	uint8_t b[8];
	if (rd_bytes(r, b, 8, err) < 0)
		return -1;
	*v = wdt_be64(b);
	return 0;
}

static int rd_skip(struct rd *r, uint64_t n, struct wdt_err *err)
{
	if (r->have - r->pos >= n) {
		r->pos += n;
		return 0;
	}
	uint64_t to = rd_tell(r) + n;
	if (to > r->src->size || to < n)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "the stream ends at offset 0x%" PRIx64
				   " inside a record: the file is truncated",
				   r->src->size);
	r->base = to;
	r->pos = r->have = 0;
	return 0;
}

/* u8 length + bytes, NUL-terminated into dst (256 bytes). */
static int rd_idstr(struct rd *r, char dst[256], struct wdt_err *err)
{
	uint8_t n;
	if (rd_u8(r, &n, err) < 0 || rd_bytes(r, dst, n, err) < 0)
		return -1;
	dst[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)dst[i] < 0x20 ||
		    (unsigned char)dst[i] > 0x7e)
			dst[i] = '?';
	return 0;
}

/* ---- the RAM index ---- */

static struct block *find_block(struct qevm *q, const char *id)
{
	for (size_t i = 0; i < q->nblocks; i++)
		if (strcmp(q->blocks[i].id, id) == 0)
			return &q->blocks[i];
	return NULL;
}

static int add_page(struct qevm *q, struct block *b, uint64_t page, bool zero,
		    uint8_t fill, uint64_t data, struct wdt_err *err)
{
	if (page < b->next) {
		b->resent = true;
		b->resent_pages++;
	} else {
		b->next = page + 1;
	}
	if (zero)
		b->zero_pages++;
	else
		b->pages++;
	if (b->n) {
		struct extent *e = &b->ext[b->n - 1];
		if (e->zero == zero && e->first + e->n == page) {
			if (zero && e->fill == fill) {
				e->n++;
				return 0;
			}
			if (!zero && e->n == 1 && data > e->data &&
			    data - e->data <= UINT32_MAX) {
				e->stride = (uint32_t)(data - e->data);
				e->n++;
				return 0;
			}
			if (!zero && e->n > 1 &&
			    data == e->data + e->n * (uint64_t)e->stride) {
				e->n++;
				return 0;
			}
		}
	}
	if (q->nextents >= WDT_QEVM_MAX_EXTENTS)
		return wdt_err_set(
		    err, WDT_UNSUPPORTED,
		    "more than %zu runs of page records: the "
		    "stream is fragmented beyond what wdt indexes",
		    q->nextents);
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct extent *n = realloc(b->ext, cap * sizeof(*n));
		if (!n)
			return wdt_err_nomem(err);
		b->ext = n;
		b->cap = cap;
	}
	/* Records only ever extend the last extent, so each extent's pages
	 * arrived together and the array is in order of arrival. */
	b->ext[b->n++] = (struct extent){
	    .first = page, .n = 1, .data = data, .zero = zero, .fill = fill};
	q->nextents++;
	return 0;
}

static int ext_cmp(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return 0;
}

static struct extent cut(const struct extent *e, uint64_t from, uint64_t to)
{
	struct extent r = *e;
	r.first = from;
	r.n = to - from;
	if (!e->zero)
		r.data = e->data + (from - e->first) * (uint64_t)e->stride;
	return r;
}

static int push_ext(struct extent **v, size_t *n, size_t *cap, struct extent e,
		    struct wdt_err *err)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		struct extent *g = realloc(*v, c * sizeof(*g));
		if (!g)
			return wdt_err_nomem(err);
		*v = g;
		*cap = c;
	}
	(*v)[(*n)++] = e;
	return 0;
}

/*
 * Pages sent more than once: the last copy wins. Extents are in order of
 * arrival; visiting them newest first, each keeps only the pages that no
 * newer extent covered (cov: the covered pages as sorted, disjoint
 * intervals). Quadratic in extents at worst, bounded by the extent cap.
 */
static int resolve_resent(struct block *b, struct wdt_err *err)
{
	struct extent *out = NULL, *cov = NULL;
	size_t nout = 0, cout = 0, ncov = 0, ccov = 0;
	int rc = -1;

	for (size_t i = b->n; i-- > 0;) {
		const struct extent *e = &b->ext[i];
		uint64_t lo = e->first, hi = e->first + e->n;
		size_t k = 0;
		while (k < ncov && cov[k].first + cov[k].n <= lo)
			k++;
		size_t first = k;
		uint64_t at = lo;
		for (; k < ncov && cov[k].first < hi; k++) {
			if (cov[k].first > at &&
			    push_ext(&out, &nout, &cout,
				     cut(e, at, cov[k].first), err) < 0)
				goto fail;
			if (cov[k].first + cov[k].n > at)
				at = cov[k].first + cov[k].n;
		}
		if (at < hi &&
		    push_ext(&out, &nout, &cout, cut(e, at, hi), err) < 0)
			goto fail;
		/* cov[first..k) and [lo, hi) become one interval. */
		uint64_t nlo = lo, nhi = hi;
		if (k > first) {
			if (cov[first].first < nlo)
				nlo = cov[first].first;
			if (cov[k - 1].first + cov[k - 1].n > nhi)
				nhi = cov[k - 1].first + cov[k - 1].n;
		}
		struct extent m = {.first = nlo, .n = nhi - nlo};
		if (k == first) {
			if (push_ext(&cov, &ncov, &ccov, m, err) < 0)
				goto fail;
			memmove(cov + first + 1, cov + first,
				(ncov - 1 - first) * sizeof(*cov));
			cov[first] = m;
		} else {
			cov[first] = m;
			memmove(cov + first + 1, cov + k,
				(ncov - k) * sizeof(*cov));
			ncov -= k - first - 1;
		}
	}
	free(b->ext);
	b->ext = out;
	b->n = nout;
	b->cap = cout;
	out = NULL;
	qsort(b->ext, b->n, sizeof(*b->ext), ext_cmp);
	rc = 0;
fail:
	free(out);
	free(cov);
	return rc;
}

static int finish_block(struct block *b, struct wdt_err *err)
{
	if (b->resent && resolve_resent(b, err) < 0)
		return -1;
	if (!b->resent && b->n > 1)
		qsort(b->ext, b->n, sizeof(*b->ext), ext_cmp);
	uint64_t want = b->len / WDT_PAGE_SIZE, at = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (b->ext[i].first != at)
			break;
		at += b->ext[i].n;
	}
	if (at != want)
		return wdt_err_set(err, WDT_CORRUPT,
				   "RAM block '%s': page 0x%" PRIx64
				   " of 0x%" PRIx64
				   " never sent: the stream is incomplete",
				   b->id, at, want);
	return 0;
}

static const char *page_flag_capability(uint64_t flags)
{
	if (flags & RF_XBZRLE)
		return "xbzrle";
	if (flags & RF_COMPRESS)
		return "compress";
	if (flags & RF_MULTIFD_FLUSH)
		return "multifd";
	return NULL;
}

static int ram_mem_size(struct qevm *q, struct rd *r, uint64_t total,
			struct wdt_err *err)
{
	uint64_t sum = 0;

	if (q->nblocks)
		return wdt_err_set(
		    err, WDT_CORRUPT,
		    "a second RAM block list at offset 0x%" PRIx64, rd_tell(r));
	while (sum < total) {
		if (q->nblocks == QV_MAX_BLOCKS)
			return wdt_err_set(err, WDT_UNSUPPORTED,
					   "more than %u RAM blocks",
					   QV_MAX_BLOCKS);
		struct block *nb =
		    realloc(q->blocks, (q->nblocks + 1) * sizeof(*nb));
		if (!nb)
			return wdt_err_nomem(err);
		q->blocks = nb;
		struct block *b = &q->blocks[q->nblocks];
		memset(b, 0, sizeof(*b));
		q->nblocks++;
		if (rd_idstr(r, b->id, err) < 0 || rd_be64(r, &b->len, err) < 0)
			return -1;
		if (b->len == 0 || b->len % WDT_PAGE_SIZE ||
		    b->len > total - sum)
			return wdt_err_set(
			    err, WDT_CORRUPT,
			    "RAM block '%s' of 0x%" PRIx64
			    " bytes does not fit the total of 0x%" PRIx64
			    " (a capability wdt does not know, e.g. "
			    "postcopy-ram or x-ignore-shared, may add fields)",
			    b->id, b->len, total);
		sum += b->len;
	}
	return 0;
}

/* The data of one "ram" START/PART/END section, up to its EOS. */
static int ram_section(struct qevm *q, struct rd *r, struct wdt_err *err)
{
	struct block *cur = q->cur;
	char id[256];

	for (;;) {
		uint64_t at = rd_tell(r), af;
		if (rd_be64(r, &af, err) < 0)
			return -1;
		uint64_t flags = af & RF_MASK, addr = af & ~(uint64_t)RF_MASK;
		if (flags & RF_EOS)
			return 0;
		const char *cap = page_flag_capability(flags);
		if (cap)
			return wdt_err_set(err, WDT_UNSUPPORTED,
					   "page record at offset 0x%" PRIx64
					   " is sent with the '%s' migration "
					   "capability, which wdt does not "
					   "decode; save the VM with it off",
					   at, cap);
		if (flags & RF_MEM_SIZE) {
			if (ram_mem_size(q, r, addr, err) < 0)
				return -1;
			continue;
		}
		if (flags & RF_HOOK)
			continue;
		if (!(flags & (RF_ZERO | RF_PAGE)) || (flags & RF_FULL))
			return wdt_err_set(err, WDT_CORRUPT,
					   "page record at offset 0x%" PRIx64
					   " has flags 0x%" PRIx64
					   " that no QEMU writes",
					   at, flags);
		if (!(flags & RF_CONTINUE)) {
			if (rd_idstr(r, id, err) < 0)
				return -1;
			cur = q->cur = find_block(q, id);
			if (!cur)
				return wdt_err_set(err, WDT_CORRUPT,
						   "page record at offset "
						   "0x%" PRIx64
						   " names RAM block '%s', "
						   "which the block list lacks",
						   at, id);
		} else if (!cur) {
			return wdt_err_set(err, WDT_CORRUPT,
					   "page record at offset 0x%" PRIx64
					   " continues a block, but no block "
					   "was named before it",
					   at);
		}
		if (addr >= cur->len)
			return wdt_err_set(err, WDT_CORRUPT,
					   "page record at offset 0x%" PRIx64
					   ": offset 0x%" PRIx64
					   " is past the end of RAM block '%s' "
					   "(0x%" PRIx64 " bytes)",
					   at, addr, cur->id, cur->len);
		int rc;
		if (flags & RF_ZERO) {
			uint8_t fill;
			if (rd_u8(r, &fill, err) < 0)
				return -1;
			rc = add_page(q, cur, addr / WDT_PAGE_SIZE, true, fill,
				      0, err);
		} else {
			uint64_t data = rd_tell(r);
			if (rd_skip(r, WDT_PAGE_SIZE, err) < 0)
				return -1;
			rc = add_page(q, cur, addr / WDT_PAGE_SIZE, false, 0,
				      data, err);
		}
		if (rc < 0)
			return -1;
	}
}

/* Configuration section (§1): the machine type and known subsections. */
static int config_section(struct qevm *q, struct rd *r, struct wdt_err *err)
{
	uint32_t len;
	if (rd_be32(r, &len, err) < 0)
		return -1;
	if (len >= sizeof(q->machine))
		return wdt_err_set(err, WDT_CORRUPT,
				   "machine type name of %" PRIu32
				   " bytes is implausible",
				   len);
	if (rd_bytes(r, q->machine, len, err) < 0)
		return -1;
	q->machine[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)q->machine[i] < 0x20 ||
		    (unsigned char)q->machine[i] > 0x7e)
			q->machine[i] = '?';
	for (;;) {
		if (rd_fill(r, 1, err) < 0)
			return -1;
		if (r->buf[r->pos] != QV_SUBSECTION)
			return 0;
		r->pos++;
		char name[256];
		uint32_t ver;
		if (rd_idstr(r, name, err) < 0 || rd_be32(r, &ver, err) < 0)
			return -1;
		if (strcmp(name, "configuration/target-page-bits") == 0) {
			uint32_t bits;
			if (rd_be32(r, &bits, err) < 0)
				return -1;
			if (bits != 12)
				return wdt_err_set(err, WDT_UNSUPPORTED,
						   "target page size 2^%" PRIu32
						   ": only 4 KiB pages are "
						   "read",
						   bits);
		} else if (strcmp(name, "configuration/capabilities") == 0) {
			uint32_t n;
			if (rd_be32(r, &n, err) < 0)
				return -1;
			if (n > 256)
				return wdt_err_set(
				    err, WDT_CORRUPT,
				    "%" PRIu32 " migration capabilities", n);
			for (uint32_t i = 0; i < n; i++)
				if (rd_idstr(r, name, err) < 0)
					return -1;
		} else if (strcmp(name, "configuration/uuid") == 0) {
			if (rd_skip(r, 16, err) < 0)
				return -1;
		} else {
			return wdt_err_set(err, WDT_UNSUPPORTED,
					   "configuration subsection '%s' is "
					   "not known to wdt",
					   name);
		}
	}
}

/*
 * Records up to the first device section (RAM is iterated first, devices
 * follow as FULL sections whose length only the JSON description tells).
 */
static int parse_records(struct wdt_image *img, struct qevm *q,
			 struct wdt_err *err)
{
	struct rd r = {.src = img->src};
	uint32_t ram_id = UINT32_MAX;
	bool ram_done = false;
	int rc = -1;

	/* Small streams (fuzz inputs, tests) need no 1 MiB buffer. */
	r.cap =
	    img->src->size + 16 < QV_BUF ? (size_t)img->src->size + 16 : QV_BUF;
	r.buf = malloc(r.cap);
	if (!r.buf)
		return wdt_err_nomem(err);
	uint32_t magic, version;
	if (rd_be32(&r, &magic, err) < 0 || rd_be32(&r, &version, err) < 0)
		goto out;
	if (magic != WDT_QEVM_MAGIC) {
		wdt_err_set(err, WDT_UNKNOWN_FORMAT,
			    "not a QEMU migration stream (no 'QEVM' magic)");
		goto out;
	}
	if (version != 3) {
		wdt_err_set(err, WDT_UNSUPPORTED,
			    "migration stream version %" PRIu32
			    " (wdt reads version 3, QEMU's since 1.3)",
			    version);
		goto out;
	}
	q->version = version;
	for (;;) {
		uint64_t at = rd_tell(&r);
		uint8_t type;
		uint32_t id, inst, ver;
		char name[256];
		if (at == img->src->size) {
			wdt_err_set(err, WDT_TRUNCATED,
				    "the stream stops at offset 0x%" PRIx64
				    " with no end-of-stream record%s: the file "
				    "is truncated",
				    at, ram_done ? " (RAM is complete)" : "");
			goto out;
		}
		if (rd_u8(&r, &type, err) < 0)
			goto out;
		switch (type) {
		case QV_CONFIG:
			if (config_section(q, &r, err) < 0)
				goto out;
			break;
		case QV_START:
		case QV_FULL:
			if (rd_be32(&r, &id, err) < 0 ||
			    rd_idstr(&r, name, err) < 0 ||
			    rd_be32(&r, &inst, err) < 0 ||
			    rd_be32(&r, &ver, err) < 0)
				goto out;
			if (strcmp(name, "ram") == 0 && type == QV_START &&
			    ram_id == UINT32_MAX) {
				ram_id = id;
				if (ram_section(q, &r, err) < 0)
					goto out;
				break;
			}
			if (type == QV_START) {
				wdt_err_set(err, WDT_UNSUPPORTED,
					    "iterable section '%s' at offset "
					    "0x%" PRIx64
					    " (block or dirty-bitmap "
					    "migration) is not read by wdt",
					    name, at);
				goto out;
			}
			/* The first device section: RAM is complete. */
			q->dev_off = at;
			rc = 0;
			goto out;
		case QV_PART:
		case QV_END:
			if (rd_be32(&r, &id, err) < 0)
				goto out;
			if (id != ram_id || ram_done) {
				wdt_err_set(err, WDT_CORRUPT,
					    "section part at offset 0x%" PRIx64
					    " continues section %" PRIu32
					    ", which is not an open RAM "
					    "section",
					    at, id);
				goto out;
			}
			if (ram_section(q, &r, err) < 0)
				goto out;
			if (type == QV_END) {
				ram_done = true;
				q->ram_end = rd_tell(&r);
			}
			break;
		case QV_FOOTER:
			if (rd_be32(&r, &id, err) < 0)
				goto out;
			break;
		case QV_COMMAND: {
			uint16_t cmd, len;
			if (rd_be16(&r, &cmd, err) < 0 ||
			    rd_be16(&r, &len, err) < 0 ||
			    rd_skip(&r, len, err) < 0)
				goto out;
			break;
		}
		case QV_EOF:
			q->dev_off = at;
			rc = 0;
			goto out;
		default:
			wdt_err_set(err, WDT_CORRUPT,
				    "unknown record type 0x%02x at offset "
				    "0x%" PRIx64,
				    type, at);
			goto out;
		}
	}
out:
	free(r.buf);
	if (rc == 0 && !q->nblocks)
		rc = wdt_err_set(err, WDT_CORRUPT,
				 "the stream has no RAM section: it holds no "
				 "guest memory");
	else if (rc == 0 && !ram_done)
		rc = wdt_err_set(err, WDT_TRUNCATED,
				 "the RAM section never ends (no END record "
				 "before offset 0x%" PRIx64 ")",
				 q->dev_off);
	return rc;
}

/* ---- the JSON description and device sections ---- */

static int find_json(struct wdt_image *img, struct qevm *q, struct wdt_err *err)
{
	uint64_t size = img->src->size;
	uint64_t from = size > QV_TAIL_SCAN ? size - QV_TAIL_SCAN : 0;
	if (from < q->dev_off)
		from = q->dev_off;
	size_t n = (size_t)(size - from);
	uint8_t *t = malloc(n + 1);
	if (!t)
		return wdt_err_nomem(err);
	if (wdt_source_read(img->src, t, n, from, err) < 0) {
		free(t);
		return -1;
	}
	/*
	 * The description is the last thing in the stream: 0x06, be32
	 * length, JSON text (no NUL in it). The last NUL lies in the EOF
	 * record or in the length; the text starts at the first '{' after
	 * it, 5 bytes after the 0x06.
	 */
	size_t nul = n;
	while (nul > 0 && t[nul - 1] != 0)
		nul--;
	size_t j = nul;
	while (j < n && t[j] != '{')
		j++;
	if (nul && j < n && j >= 5 && t[j - 5] == QV_VMDESC) {
		uint32_t len = wdt_be32(t + j - 4);
		if (len && len <= n - j) {
			q->json_off = from + j;
			q->json_len = len;
			q->have_json = true;
		}
	}
	free(t);
	return 0;
}

/* Byte offset of top-level field `name` in a device's "fields" list. */
static bool json_field_off(const struct wdt_json *fields, const char *name,
			   uint64_t *off, uint64_t *size)
{
	uint64_t at = 0;
	for (size_t i = 0; i < wdt_json_len(fields); i++) {
		const struct wdt_json *f = wdt_json_at(fields, i);
		const char *fn = wdt_json_str(wdt_json_get(f, "name"));
		uint64_t sz, n = 1;
		if (!fn || !wdt_json_u64(wdt_json_get(f, "size"), &sz))
			return false;
		const struct wdt_json *al = wdt_json_get(f, "array_len");
		if (al && !wdt_json_u64(al, &n))
			return false;
		if (strcmp(fn, name) == 0) {
			*off = at;
			*size = sz;
			return true;
		}
		at += sz * n;
	}
	return false;
}

/* The 7.x-10.x vmstate_x86_cpu prefix (target/i386/machine.c). */
static const struct {
	const char *name;
	uint32_t size, count;
} cpu_layout[] = {
    {"env.regs", 8, 16},	 {"env.eip", 8, 1},
    {"env.eflags", 8, 1},	 {"env.hflags", 4, 1},
    {"env.fpuc", 2, 1},		 {"env.fpus_vmstate", 2, 1},
    {"env.fptag_vmstate", 2, 1}, {"env.fpregs_format_vmstate", 2, 1},
    {"env.fpregs", 10, 8},	 {"env.segs", 20, 6},
    {"env.ldt", 20, 1},		 {"env.tr", 20, 1},
    {"env.gdt", 20, 1},		 {"env.idt", 20, 1},
    {"env.sysenter_cs", 4, 1},	 {"env.sysenter_esp", 8, 1},
    {"env.sysenter_eip", 8, 1},	 {"env.cr[0]", 8, 1},
    {"env.cr[2]", 8, 1},	 {"env.cr[3]", 8, 1},
    {"env.cr[4]", 8, 1},	 {"env.dr", 8, 8},
    {"env.a20_mask", 4, 1},	 {"env.mxcsr", 4, 1},
    {"env.xmm_regs[0]", 16, 16}, {"env.efer", 8, 1},
    {"env.star", 8, 1},		 {"env.lstar", 8, 1},
    {"env.cstar", 8, 1},	 {"env.fmask", 8, 1},
    {"env.kernelgsbase", 8, 1},
};

static bool static_field_off(const char *name, uint64_t *off, uint64_t *size)
{
	uint64_t at = 0;
	for (size_t i = 0; i < sizeof(cpu_layout) / sizeof(cpu_layout[0]);
	     i++) {
		if (strcmp(cpu_layout[i].name, name) == 0) {
			*off = at;
			*size = cpu_layout[i].size;
			return true;
		}
		at += (uint64_t)cpu_layout[i].size * cpu_layout[i].count;
	}
	return false;
}

struct cpu_fields {
	const struct wdt_json *json; /* the device's "fields", or NULL */
	const uint8_t *d;	     /* section data */
	size_t n;		     /* bytes available */
	bool bad;
};

static const uint8_t *cpu_field(struct cpu_fields *cf, const char *name,
				uint64_t want_size, uint64_t index)
{
	uint64_t off, size;
	bool ok = cf->json ? json_field_off(cf->json, name, &off, &size)
			   : static_field_off(name, &off, &size);
	if (!ok || size != want_size || off + size * (index + 1) > cf->n) {
		cf->bad = true;
		return NULL;
	}
	return cf->d + off + size * index;
}

static uint64_t cpu_u64(struct cpu_fields *cf, const char *name, uint64_t i)
{
	const uint8_t *p = cpu_field(cf, name, 8, i);
	return p ? wdt_be64(p) : 0;
}

static void cpu_seg(struct cpu_fields *cf, const char *name, uint64_t i,
		    struct wdt_seg *s)
{
	const uint8_t *p = cpu_field(cf, name, 20, i);
	if (!p)
		return;
	s->selector = wdt_be32(p);
	s->base = wdt_be64(p + 4);
	s->limit = wdt_be32(p + 12);
	s->flags = wdt_be32(p + 16);
}

static const struct wdt_json *json_device(const struct wdt_json *desc,
					  const char *name, uint32_t inst)
{
	const struct wdt_json *devs = wdt_json_get(desc, "devices");
	for (size_t i = 0; i < wdt_json_len(devs); i++) {
		const struct wdt_json *d = wdt_json_at(devs, i);
		const char *n = wdt_json_str(wdt_json_get(d, "name"));
		uint64_t id;
		if (n && strcmp(n, name) == 0 &&
		    wdt_json_u64(wdt_json_get(d, "instance_id"), &id) &&
		    id == inst)
			return d;
	}
	return NULL;
}

static int decode_cpu(struct wdt_image *img, struct qevm *q,
		      const struct wdt_json *desc, uint32_t inst,
		      const uint8_t *d, size_t n, uint64_t at,
		      struct wdt_err *err)
{
	struct cpu_fields cf = {.d = d, .n = n};
	const struct wdt_json *dev =
	    desc ? json_device(desc, "cpu", inst) : NULL;
	if (dev)
		cf.json = wdt_json_get(dev, "fields");
	q->cpu_layout = cf.json ? "the stream's JSON description"
				: "QEMU 7.x-10.x's vmstate_x86_cpu";

	/* env.regs: RAX RCX RDX RBX RSP RBP RSI RDI R8-R15. */
	static const enum wdt_reg order[8] = {WDT_RAX, WDT_RCX, WDT_RDX,
					      WDT_RBX, WDT_RSP, WDT_RBP,
					      WDT_RSI, WDT_RDI};
	struct wdt_cpu c = {.index = inst, .source = "QEMU migration stream"};
	for (int i = 0; i < 16; i++)
		c.regs[i < 8 ? order[i] : (enum wdt_reg)(WDT_R8 + i - 8)] =
		    cpu_u64(&cf, "env.regs", (uint64_t)i);
	c.regs[WDT_RIP] = cpu_u64(&cf, "env.eip", 0);
	c.regs[WDT_RFLAGS] = cpu_u64(&cf, "env.eflags", 0);
	/* env.segs: ES CS SS DS FS GS. */
	static const enum wdt_segreg segs[6] = {WDT_ES, WDT_CS, WDT_SS,
						WDT_DS, WDT_FS, WDT_GS};
	for (int i = 0; i < 6; i++)
		cpu_seg(&cf, "env.segs", (uint64_t)i, &c.segs[segs[i]]);
	cpu_seg(&cf, "env.ldt", 0, &c.segs[WDT_LDT]);
	cpu_seg(&cf, "env.tr", 0, &c.segs[WDT_TR]);
	cpu_seg(&cf, "env.gdt", 0, &c.segs[WDT_GDT]);
	cpu_seg(&cf, "env.idt", 0, &c.segs[WDT_IDT]);
	c.cr[0] = cpu_u64(&cf, "env.cr[0]", 0);
	c.cr[2] = cpu_u64(&cf, "env.cr[2]", 0);
	c.cr[3] = cpu_u64(&cf, "env.cr[3]", 0);
	c.cr[4] = cpu_u64(&cf, "env.cr[4]", 0);
	c.efer = cpu_u64(&cf, "env.efer", 0);
	c.kernel_gs_base = cpu_u64(&cf, "env.kernelgsbase", 0);
	if (cf.bad)
		return wdt_err_set(err, WDT_CORRUPT,
				   "CPU %" PRIu32 " state at offset 0x%" PRIx64
				   " does not match %s",
				   inst, at, q->cpu_layout);
	c.fs_base = c.segs[WDT_FS].base;
	c.gs_base = c.segs[WDT_GS].base;
	c.have = WDT_CPU_HAVE_GPRS | WDT_CPU_HAVE_SEGS | WDT_CPU_HAVE_SYSTEM |
		 WDT_CPU_HAVE_KGSBASE | WDT_CPU_HAVE_EFER |
		 WDT_CPU_HAVE_FSGSBASE;
	c.long_mode = (c.segs[WDT_CS].flags >> 21) & 1;
	return wdt_image_add_cpu(img, &c, err);
}

static int cpu_cmp(const void *a, const void *b)
{
	const struct wdt_cpu *x = a, *y = b;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Device sections: FULL records found by their headers (type, id, idstr,
 * instance, version), which the JSON's field sizes then decode. Scanning
 * for headers needs no length of the sections before them, so a stream
 * without the description still gives its CPUs.
 */
static int read_devices(struct wdt_image *img, struct qevm *q, uint8_t pam[7],
			bool *have_pam, struct wdt_err *err)
{
	uint64_t end = q->have_json ? q->json_off - 5 : img->src->size;
	struct wdt_json *desc = NULL;
	int rc = -1;

	if (end < q->dev_off)
		end = q->dev_off;
	q->dev_len = end - q->dev_off;
	if (q->dev_len > WDT_QEVM_MAX_DEVSTATE)
		return wdt_err_set(
		    err, WDT_UNSUPPORTED,
		    "%" PRIu64 " bytes of device state after RAM (wdt reads "
		    "at most %u)",
		    q->dev_len, WDT_QEVM_MAX_DEVSTATE);
	uint8_t *d = malloc(q->dev_len + 1);
	if (!d)
		return wdt_err_nomem(err);
	if (wdt_source_read(img->src, d, q->dev_len, q->dev_off, err) < 0)
		goto out;
	if (q->have_json) {
		char *js = malloc(q->json_len);
		if (!js)
			goto nomem;
		if (wdt_source_read(img->src, js, q->json_len, q->json_off,
				    err) < 0) {
			free(js);
			goto out;
		}
		desc = wdt_json_parse(js, q->json_len, 0, err);
		free(js);
		if (!desc) {
			wdt_err_prefix(err, "the stream's VM description");
			goto out;
		}
	}
	for (size_t i = 0; i + 14 <= q->dev_len; i++) {
		if (d[i] != QV_FULL)
			continue;
		size_t nl = d[i + 5];
		if (nl == 0 || i + 6 + nl + 8 > q->dev_len)
			continue;
		const char *name = (const char *)d + i + 6;
		size_t data = i + 6 + nl + 8;
		uint32_t inst = wdt_be32(d + i + 6 + nl);
		uint32_t ver = wdt_be32(d + i + 6 + nl + 4);
		if (nl == 3 && memcmp(name, "cpu", 3) == 0 && ver >= 11 &&
		    ver < 64 && inst < 4096) {
			q->ncpu_sections++;
			if (decode_cpu(img, q, desc, inst, d + data,
				       q->dev_len - data, q->dev_off + i,
				       err) < 0)
				goto out;
		} else if ((nl > 7 &&
			    memcmp(name + nl - 7, "/I440FX", 7) == 0) ||
			   (nl > 4 && memcmp(name + nl - 4, "/mch", 4) == 0)) {
			/* vmstate PCIDevice comes first: int32 version_id,
			 * then the 256-byte config space; PAM registers at
			 * 0x59 (i440FX) or 0x90 (MCH). */
			size_t reg = name[nl - 1] == 'h' ? 0x90 : 0x59;
			if (data + 4 + 256 <= q->dev_len) {
				memcpy(pam, d + data + 4 + reg, 7);
				*have_pam = true;
			}
		}
	}
	if (img->ncpus > 1)
		qsort(img->cpus, img->ncpus, sizeof(*img->cpus), cpu_cmp);
	for (size_t i = 1; i < img->ncpus; i++)
		if (img->cpus[i].index == img->cpus[i - 1].index) {
			wdt_err_set(err, WDT_CORRUPT,
				    "two state sections for CPU %u",
				    img->cpus[i].index);
			goto out;
		}
	rc = 0;
	goto out;
nomem:
	wdt_err_nomem(err);
out:
	wdt_json_free(desc);
	free(d);
	return rc;
}

/* ---- guest-physical mapping (§3) ---- */

uint64_t wdt_qevm_below_4g(const char *machine, uint64_t ram)
{
	if (strncmp(machine, "pc-q35", 6) == 0 || strcmp(machine, "q35") == 0)
		return ram >= 0xB0000000ull ? 0x80000000ull : ram;
	if (strncmp(machine, "pc-i440fx", 9) == 0 || strcmp(machine, "pc") == 0)
		return ram >= 0xE0000000ull ? 0xC0000000ull : ram;
	return 0;
}

static bool is_guest_ram_name(const char *id)
{
	size_t n = strlen(id);
	if (strncmp(id, "/rom@", 5) == 0 || strstr(id, "vram") ||
	    strcmp(id, "pc.bios") == 0 || strcmp(id, "pc.rom") == 0)
		return false;
	return !(n > 4 && (strcmp(id + n - 4, ".rom") == 0 ||
			   strcmp(id + n - 4, ".bin") == 0));
}

static int add_seg(struct wdt_image *img, uint64_t pa, uint64_t len,
		   size_t block, uint64_t off, struct wdt_err *err)
{
	if (len == 0)
		return 0;
	/* Extend the previous run when this piece continues it. */
	if (img->nruns) {
		struct wdt_run *last = &img->runs[img->nruns - 1];
		if (last->pa + last->len == pa &&
		    last->file_off + last->len ==
			((uint64_t)block << 48 | off)) {
			last->len += len;
			return 0;
		}
	}
	return wdt_image_add_run(img, pa, len, (uint64_t)block << 48 | off,
				 err);
}

static int map_ram(struct wdt_image *img, struct qevm *q, const uint8_t pam[7],
		   bool have_pam, struct wdt_err *err)
{
	size_t m = SIZE_MAX;
	for (size_t i = 0; i < q->nblocks; i++) {
		if (strcmp(q->blocks[i].id, "pc.ram") == 0) {
			m = i;
			break;
		}
		if (is_guest_ram_name(q->blocks[i].id) &&
		    (m == SIZE_MAX || q->blocks[i].len > q->blocks[m].len))
			m = i;
	}
	if (m == SIZE_MAX)
		return wdt_err_set(err, WDT_CORRUPT,
				   "no RAM block of the stream is guest RAM "
				   "(only ROMs and video memory)");
	q->main_block = m;
	uint64_t ram = q->blocks[m].len;
	uint64_t below = wdt_qevm_below_4g(q->machine, ram);
	if (!below)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "machine type '%s' is not a PC machine (pc, "
				   "i440fx, q35): where its RAM sits is not "
				   "known",
				   q->machine);
	q->below_4g = below;
	struct block *rom = find_block(q, "pc.rom");
	struct block *bios = find_block(q, "pc.bios");
	bool vga = false;
	for (size_t i = 0; i < q->nblocks; i++)
		if (strstr(q->blocks[i].id, "vram"))
			vga = true;
	size_t irom = rom ? (size_t)(rom - q->blocks) : 0;
	size_t ibios = bios ? (size_t)(bios - q->blocks) : 0;
	uint64_t isa =
	    bios ? (bios->len < ISA_BIOS_MAX ? bios->len : ISA_BIOS_MAX) : 0;
	int rc = 0;

	rc |= add_seg(img, 0, below < 0xA0000 ? below : 0xA0000, m, 0, err);
	if (!vga && below > 0xA0000)
		rc |= add_seg(img, 0xA0000, 0x20000, m, 0xA0000, err);
	/*
	 * 0xC0000-0xFFFFF in 16 KiB PAM segments (0xF0000: one of 64 KiB):
	 * read-enabled DRAM, else the PCI space's ROMs (pc.rom, the top of
	 * pc.bios as isa-bios), else RAM, which shows through where the
	 * PCI space maps nothing (QEMU's flat view, as its ELF dump has it).
	 */
	q->pam_from = have_pam ? "the host bridge's PAM registers"
			       : "no host-bridge state: ROMs assumed";
	for (uint64_t pa = 0xC0000; pa < 0x100000 && rc == 0;
	     pa += WDT_PAGE_SIZE) {
		unsigned nib;
		if (pa >= 0xF0000)
			nib = pam[0] >> 4;
		else {
			unsigned k = (unsigned)((pa - 0xC0000) / 0x4000);
			nib = (k & 1) ? pam[1 + k / 2] >> 4
				      : pam[1 + k / 2] & 0xF;
		}
		if (have_pam && (nib & 1) && pa < below)
			rc = add_seg(img, pa, WDT_PAGE_SIZE, m, pa, err);
		else if (pa < 0xE0000 && rom && pa - 0xC0000 < rom->len)
			rc = add_seg(img, pa, WDT_PAGE_SIZE, irom, pa - 0xC0000,
				     err);
		else if (bios && pa >= 0x100000 - isa)
			rc = add_seg(img, pa, WDT_PAGE_SIZE, ibios,
				     bios->len - isa + (pa - (0x100000 - isa)),
				     err);
		else if (pa < below) /* nothing above it: RAM shows through */
			rc = add_seg(img, pa, WDT_PAGE_SIZE, m, pa, err);
	}
	if (rc == 0 && below > 0x100000)
		rc = add_seg(img, 0x100000, below - 0x100000, m, 0x100000, err);
	if (rc == 0 && ram > below)
		rc = add_seg(img, GIB4, ram - below, m, below, err);
	if (rc == 0 && bios && bios->len <= 0x1000000)
		rc = add_seg(img, GIB4 - bios->len, bios->len, ibios, 0, err);
	return rc ? -1 : 0;
}

/* ---- reading ---- */

static const struct extent *find_extent(const struct block *b, uint64_t page)
{
	size_t lo = 0, hi = b->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct extent *e = &b->ext[mid];
		if (page < e->first)
			hi = mid;
		else if (page >= e->first + e->n)
			lo = mid + 1;
		else
			return e;
	}
	return NULL;
}

int wdt_qevm_read(struct wdt_image *img, const struct wdt_run *run, uint64_t pa,
		  void *buf, size_t len, struct wdt_err *err)
{
	const struct qevm *q = img->priv;
	size_t bi = (size_t)(run->file_off >> 48);
	uint64_t off = (run->file_off & ((1ull << 48) - 1)) + (pa - run->pa);
	uint8_t *out = buf;

	if (bi >= q->nblocks)
		return wdt_err_set(err, WDT_INTERNAL, "bad RAM block index");
	const struct block *b = &q->blocks[bi];
	while (len) {
		uint64_t page = off / WDT_PAGE_SIZE, in = off % WDT_PAGE_SIZE;
		size_t k = WDT_PAGE_SIZE - in < len ? WDT_PAGE_SIZE - in : len;
		const struct extent *e = find_extent(b, page);
		if (!e)
			return wdt_err_set(err, WDT_NO_DATA,
					   "physical address 0x%" PRIx64
					   " (RAM block '%s' page 0x%" PRIx64
					   ") is not in the stream",
					   pa, b->id, page);
		if (e->zero) {
			memset(out, e->fill, k);
		} else {
			uint64_t at = e->data +
				      (page - e->first) * (uint64_t)e->stride +
				      in;
			if (wdt_source_read(img->src, out, k, at, err) < 0)
				return -1;
		}
		out += k;
		off += k;
		pa += k;
		len -= k;
	}
	return 0;
}

/* ---- the format ---- */

int wdt_qevm_open_stream(struct wdt_image *img, struct wdt_err *err)
{
	struct qevm *q = calloc(1, sizeof(*q));
	uint8_t pam[7] = {0};
	bool have_pam = false;

	if (!q)
		return wdt_err_nomem(err);
	img->priv = q;
	if (parse_records(img, q, err) < 0)
		return -1;
	for (size_t i = 0; i < q->nblocks; i++)
		if (finish_block(&q->blocks[i], err) < 0)
			return -1;
	if (find_json(img, q, err) < 0 ||
	    read_devices(img, q, pam, &have_pam, err) < 0)
		return -1;
	if (!img->ncpus)
		return wdt_err_set(
		    err, WDT_CORRUPT,
		    "no x86 CPU state section ('cpu') after RAM: "
		    "not an x86 guest, or the stream is "
		    "truncated");
	if (map_ram(img, q, pam, have_pam, err) < 0)
		return -1;
	snprintf(img->variant, sizeof(img->variant),
		 "QEMU migration stream v%" PRIu32 ", %.40s, %zu CPU%s",
		 q->version, q->machine[0] ? q->machine : "no machine type",
		 img->ncpus, img->ncpus == 1 ? "" : "s");
	return 0;
}

void wdt_qevm_set_outer(struct wdt_image *img,
			const struct wdt_qevm_outer *outer)
{
	struct qevm *q = img->priv;
	q->outer = *outer;
}

void wdt_qevm_close(struct wdt_image *img)
{
	struct qevm *q = img->priv;
	if (!q)
		return;
	if (q->outer.free)
		q->outer.free(q->outer.priv);
	for (size_t i = 0; i < q->nblocks; i++)
		free(q->blocks[i].ext);
	free(q->blocks);
	free(q);
	img->priv = NULL;
}

void wdt_qevm_describe(struct wdt_image *img, struct wdt_out *o)
{
	const struct qevm *q = img->priv;

	if (q->outer.describe)
		q->outer.describe(q->outer.priv, o);
	wdt_out_obj_begin(o, "migration_stream", "Migration stream");
	wdt_out_u64(o, "version", "Version", q->version);
	wdt_out_str(o, "machine", "Machine type", q->machine);
	wdt_out_str(o, "main_ram_block", "Guest RAM block",
		    q->blocks[q->main_block].id);
	wdt_out_size(o, "ram_below_4g", "RAM below 4 GiB", q->below_4g);
	wdt_out_str(o, "low_rom_map", "0xC0000-0xFFFFF from", q->pam_from);
	wdt_out_str(o, "cpu_layout", "CPU state layout from", q->cpu_layout);
	wdt_out_bool(o, "vm_description", "JSON VM description", q->have_json);
	wdt_out_hex(o, "device_state_offset", "Device state offset",
		    q->dev_off);
	wdt_out_u64_hex(o, "device_state_size", "Device state size",
			q->dev_len);
	wdt_out_u64(o, "page_runs", "Indexed page runs", q->nextents);
	wdt_out_arr_begin(o, "ram_blocks", "RAM blocks");
	for (size_t i = 0; i < q->nblocks; i++) {
		const struct block *b = &q->blocks[i];
		wdt_out_obj_begin(o, NULL, b->id);
		wdt_out_str(o, "name", "Name", b->id);
		wdt_out_size(o, "size", "Size", b->len);
		wdt_out_u64(o, "pages", "Pages sent", b->pages);
		wdt_out_u64(o, "zero_pages", "Zero pages sent", b->zero_pages);
		wdt_out_u64(o, "resent_pages", "Pages sent again",
			    b->resent_pages);
		wdt_out_obj_end(o);
	}
	wdt_out_arr_end(o);
	wdt_out_obj_end(o);
}

static int qevm_probe(const uint8_t *head, size_t len, uint64_t size)
{
	(void)size;
	return len >= 8 && wdt_be32(head) == WDT_QEVM_MAGIC ? 100 : 0;
}

const struct wdt_format wdt_format_qevm = {
    .name = "qevm",
    .summary = "QEMU migration stream: virsh save/managedsave bodies, "
	       "Proxmox vmstate, migrate \"exec:cat > FILE\"",
    .flags = WDT_FMT_HAS_CPUS,
    .probe = qevm_probe,
    .open = wdt_qevm_open_stream,
    .read = wdt_qevm_read,
    .describe = wdt_qevm_describe,
    .close = wdt_qevm_close,
};
