/* SPDX-License-Identifier: MIT */
/*
 * TPI stream: struct sizes and member offsets. Layout: ../shared/spec/pdb.md
 * §8 (records, numeric leaves, field-list sub-records, property bits).
 * Every walk is bounded: type references may form cycles in a hostile PDB.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "symbols/pdb_priv.h"

/* TPI header */
#define TPI_VERSION 0x00
#define TPI_HEADER_SIZE 0x04
#define TPI_TI_BEGIN 0x08
#define TPI_TI_END 0x0C
#define TPI_RECORD_BYTES 0x10
#define TPI_MIN_HEADER 0x38
#define TPI_V80 20040203u
#define TPI_V70 19990903u
#define MAX_TYPES (1u << 24)

/* Leaf kinds */
#define LF_MODIFIER 0x1001
#define LF_POINTER 0x1002
#define LF_FIELDLIST 0x1203
#define LF_BITFIELD 0x1205
#define LF_BCLASS 0x1400
#define LF_VBCLASS 0x1401
#define LF_IVBCLASS 0x1402
#define LF_INDEX 0x1404
#define LF_VFUNCTAB 0x1409
#define LF_ENUMERATE 0x1502
#define LF_ARRAY 0x1503
#define LF_CLASS 0x1504
#define LF_STRUCTURE 0x1505
#define LF_UNION 0x1506
#define LF_ENUM 0x1507
#define LF_MEMBER 0x150D
#define LF_STMEMBER 0x150E
#define LF_METHOD 0x150F
#define LF_NESTTYPE 0x1510
#define LF_ONEMETHOD 0x1511
#define LF_INTERFACE 0x1519
#define LF_CLASS2 0x1608
#define LF_STRUCTURE2 0x1609
#define LF_UNION2 0x160A
#define LF_INTERFACE2 0x160B
/* Numeric leaves (§8.1) */
#define LF_NUMERIC 0x8000
#define LF_CHAR 0x8000
#define LF_SHORT 0x8001
#define LF_USHORT 0x8002
#define LF_LONG 0x8003
#define LF_ULONG 0x8004
#define LF_QUADWORD 0x8009
#define LF_UQUADWORD 0x800A
/* CV_prop_t */
#define PROP_FWDREF (1u << 7)
#define PROP_UNIQUE (1u << 9)

#define MAX_DEPTH 32
#define MAX_FIELD_CHAIN 4096
#define MAX_STEPS (1u << 20)

/* A cursor over one record's bytes. */
struct cur {
	const uint8_t *p;
	size_t len, pos;
};

struct udt {
	uint16_t kind;
	uint32_t prop;
	uint32_t fields;
	uint64_t size;
	const char *name;
	const char *uname; /* NULL without hasuniquename */
};

static int take(struct cur *c, size_t n, const uint8_t **out)
{
	if (!wdt_in_bounds(c->len, c->pos, n))
		return -1;
	*out = c->p + c->pos;
	c->pos += n;
	return 0;
}

static int take16(struct cur *c, uint16_t *v)
{
	const uint8_t *p;

	if (take(c, 2, &p) < 0)
		return -1;
	*v = wdt_le16(p);
	return 0;
}

static int take32(struct cur *c, uint32_t *v)
{
	const uint8_t *p;

	if (take(c, 4, &p) < 0)
		return -1;
	*v = wdt_le32(p);
	return 0;
}

/* Numeric leaf: a value < 0x8000 inline, else a tag and the value. */
static int take_num(struct cur *c, uint64_t *v)
{
	const uint8_t *p;
	uint16_t tag;

	if (take16(c, &tag) < 0)
		return -1;
	if (tag < LF_NUMERIC) {
		*v = tag;
		return 0;
	}
	switch (tag) {
	case LF_CHAR:
		if (take(c, 1, &p) < 0)
			return -1;
		*v = (uint64_t)(int64_t)(int8_t)p[0];
		return 0;
	case LF_SHORT:
		if (take(c, 2, &p) < 0)
			return -1;
		*v = (uint64_t)(int64_t)(int16_t)wdt_le16(p);
		return 0;
	case LF_USHORT:
		if (take(c, 2, &p) < 0)
			return -1;
		*v = wdt_le16(p);
		return 0;
	case LF_LONG:
		if (take(c, 4, &p) < 0)
			return -1;
		*v = (uint64_t)(int64_t)(int32_t)wdt_le32(p);
		return 0;
	case LF_ULONG:
		if (take(c, 4, &p) < 0)
			return -1;
		*v = wdt_le32(p);
		return 0;
	case LF_QUADWORD:
	case LF_UQUADWORD:
		if (take(c, 8, &p) < 0)
			return -1;
		*v = wdt_le64(p);
		return 0;
	default:
		return -1; /* floats, 128-bit, strings: not sizes/offsets */
	}
}

static int take_str(struct cur *c, const char **s)
{
	const uint8_t *p = c->p + c->pos;
	const uint8_t *nul;

	if (c->pos > c->len)
		return -1;
	nul = memchr(p, 0, c->len - c->pos);
	if (!nul)
		return -1;
	*s = (const char *)p;
	c->pos += (size_t)(nul - p) + 1;
	return 0;
}

/* Field-list sub-records are padded to 4 with 0xF0+k bytes. */
static void skip_pad(struct cur *c)
{
	while (c->pos < c->len && c->p[c->pos] >= 0xF0) {
		size_t k = c->p[c->pos] & 0x0F;

		c->pos += k ? k : 1;
	}
}

/* Record for ti: cursor over its payload (after len and kind). */
static int record(const struct wdt_pdb *pdb, uint32_t ti, uint16_t *kind,
		  struct cur *c)
{
	uint32_t off;
	uint16_t rlen;

	if (ti < pdb->ti_begin || ti >= pdb->ti_end)
		return -1;
	off = pdb->ti_off[ti - pdb->ti_begin];
	rlen = wdt_le16(pdb->tpi + off);
	*kind = wdt_le16(pdb->tpi + off + 2);
	c->p = pdb->tpi + off + 4;
	c->len = rlen - 2u;
	c->pos = 0;
	return 0;
}

static bool is_udt_kind(uint16_t k)
{
	return k == LF_CLASS || k == LF_STRUCTURE || k == LF_INTERFACE ||
	       k == LF_UNION || k == LF_CLASS2 || k == LF_STRUCTURE2 ||
	       k == LF_UNION2 || k == LF_INTERFACE2;
}

static int parse_udt(uint16_t kind, struct cur *c, struct udt *u)
{
	uint16_t count16, prop16;
	uint32_t skip;
	uint64_t count;

	memset(u, 0, sizeof(*u));
	u->kind = kind;
	switch (kind) {
	case LF_CLASS:
	case LF_STRUCTURE:
	case LF_INTERFACE:
		if (take16(c, &count16) < 0 || take16(c, &prop16) < 0 ||
		    take32(c, &u->fields) < 0 || take32(c, &skip) < 0 ||
		    take32(c, &skip) < 0)
			return -1;
		u->prop = prop16;
		break;
	case LF_UNION:
		if (take16(c, &count16) < 0 || take16(c, &prop16) < 0 ||
		    take32(c, &u->fields) < 0)
			return -1;
		u->prop = prop16;
		break;
	case LF_CLASS2:
	case LF_STRUCTURE2:
	case LF_INTERFACE2:
	case LF_UNION2:
		if (take32(c, &u->prop) < 0 || take32(c, &u->fields) < 0)
			return -1;
		if (kind != LF_UNION2 &&
		    (take32(c, &skip) < 0 || take32(c, &skip) < 0))
			return -1;
		if (take_num(c, &count) < 0)
			return -1;
		break;
	default:
		return -1;
	}
	if (take_num(c, &u->size) < 0 || take_str(c, &u->name) < 0)
		return -1;
	if ((u->prop & PROP_UNIQUE) && take_str(c, &u->uname) < 0)
		u->uname = NULL;
	return 0;
}

static int cmp_tname(const void *a, const void *b)
{
	const struct pdb_tname *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->ti < y->ti ? -1 : x->ti > y->ti;
}

static int add_name(struct wdt_pdb *pdb, size_t *cap, const char *name,
		    uint32_t ti, struct wdt_err *err)
{
	if (pdb->ntnames == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		void *nv = realloc(pdb->tnames, nc * sizeof(*pdb->tnames));

		if (!nv)
			return wdt_err_nomem(err);
		pdb->tnames = nv;
		*cap = nc;
	}
	pdb->tnames[pdb->ntnames].name = name;
	pdb->tnames[pdb->ntnames].ti = ti;
	pdb->ntnames++;
	return 0;
}

static int index_types(struct wdt_pdb *pdb, uint32_t hdr, struct wdt_err *err)
{
	uint32_t n = pdb->ti_end - pdb->ti_begin, off = hdr;
	size_t cap = 0;

	pdb->ti_off = malloc(((size_t)n + 1) * sizeof(*pdb->ti_off));
	if (!pdb->ti_off)
		return wdt_err_nomem(err);
	for (uint32_t i = 0; i < n; i++) {
		uint16_t rlen, kind;
		struct cur c;
		struct udt u;

		if (off + 4 > pdb->tpi_len)
			return wdt_err_set(err, WDT_CORRUPT,
					   "TPI declares %" PRIu32
					   " types but holds only %" PRIu32,
					   n, i);
		rlen = wdt_le16(pdb->tpi + off);
		if (rlen < 2 || (uint64_t)off + 2 + rlen > pdb->tpi_len)
			return wdt_err_set(err, WDT_CORRUPT,
					   "type 0x%" PRIx32
					   " record length %u is invalid",
					   pdb->ti_begin + i, rlen);
		pdb->ti_off[i] = off;
		kind = wdt_le16(pdb->tpi + off + 2);
		c.p = pdb->tpi + off + 4;
		c.len = rlen - 2u;
		c.pos = 0;
		if (is_udt_kind(kind) && parse_udt(kind, &c, &u) == 0 &&
		    !(u.prop & PROP_FWDREF)) {
			if (add_name(pdb, &cap, u.name, pdb->ti_begin + i,
				     err) < 0)
				return -1;
			if (u.uname && strcmp(u.uname, u.name) &&
			    add_name(pdb, &cap, u.uname, pdb->ti_begin + i,
				     err) < 0)
				return -1;
		}
		off += 2u + rlen;
	}
	if (pdb->ntnames)
		qsort(pdb->tnames, pdb->ntnames, sizeof(*pdb->tnames),
		      cmp_tname);
	return 0;
}

static int load_tpi(struct wdt_pdb *pdb, struct wdt_err *err)
{
	uint32_t hdr, ver, bytes;

	if (pdb->tpi_loaded)
		return 0;
	if (wdt_pdb_stream_size(pdb, PDB_STREAM_TPI) < TPI_MIN_HEADER)
		return wdt_err_set(err, WDT_NOT_FOUND,
				   "%s has no type information (TPI stream "
				   "empty)",
				   pdb->name);
	if (pdb_stream_load(pdb, PDB_STREAM_TPI, &pdb->tpi, &pdb->tpi_len,
			    err) < 0)
		goto fail;
	ver = wdt_le32(pdb->tpi + TPI_VERSION);
	hdr = wdt_le32(pdb->tpi + TPI_HEADER_SIZE);
	pdb->ti_begin = wdt_le32(pdb->tpi + TPI_TI_BEGIN);
	pdb->ti_end = wdt_le32(pdb->tpi + TPI_TI_END);
	bytes = wdt_le32(pdb->tpi + TPI_RECORD_BYTES);
	if (ver != TPI_V80 && ver != TPI_V70) {
		wdt_err_set(err, WDT_UNSUPPORTED, "TPI version %" PRIu32, ver);
		goto fail;
	}
	if (hdr < TPI_MIN_HEADER || !wdt_in_bounds(pdb->tpi_len, hdr, bytes)) {
		wdt_err_set(err, WDT_CORRUPT,
			    "TPI header size %" PRIu32 " and %" PRIu32
			    " record bytes exceed the %" PRIu32 "-byte stream",
			    hdr, bytes, pdb->tpi_len);
		goto fail;
	}
	if (pdb->ti_begin < 0x1000 || pdb->ti_end < pdb->ti_begin ||
	    pdb->ti_end - pdb->ti_begin > MAX_TYPES) {
		wdt_err_set(err, WDT_CORRUPT,
			    "TPI type index range 0x%" PRIx32 "..0x%" PRIx32
			    " is invalid",
			    pdb->ti_begin, pdb->ti_end);
		goto fail;
	}
	pdb->tpi_len = hdr + bytes; /* records end here */
	if (index_types(pdb, hdr, err) < 0)
		goto fail;
	pdb->tpi_loaded = true;
	return 0;
fail:
	pdb_tpi_free(pdb);
	return wdt_err_prefix(err, "%s: types", pdb->name);
}

void pdb_tpi_free(struct wdt_pdb *pdb)
{
	free(pdb->tpi);
	free(pdb->ti_off);
	free(pdb->tnames);
	pdb->tpi = NULL;
	pdb->ti_off = NULL;
	pdb->tnames = NULL;
	pdb->ntnames = 0;
	pdb->tpi_loaded = false;
}

/* Defining record of a UDT name: 1 found (*ti), 0 none. */
static int find_name(const struct wdt_pdb *pdb, const char *name, uint32_t *ti)
{
	size_t lo = 0, hi = pdb->ntnames;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(pdb->tnames[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < pdb->ntnames && strcmp(pdb->tnames[lo].name, name) == 0) {
		*ti = pdb->tnames[lo].ti;
		return 1;
	}
	return 0;
}

/*
 * Strip modifiers and resolve forward references: the UDT behind ti.
 * 1 with *u, 0 when ti is not a (defined) struct/class/union.
 */
static int resolve_udt(const struct wdt_pdb *pdb, uint32_t ti, struct udt *u,
		       uint32_t *def_ti)
{
	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		uint16_t kind;
		struct cur c;

		if (record(pdb, ti, &kind, &c) < 0)
			return 0;
		if (kind == LF_MODIFIER) {
			if (take32(&c, &ti) < 0)
				return 0;
			continue;
		}
		if (!is_udt_kind(kind) || parse_udt(kind, &c, u) < 0)
			return 0;
		if (u->prop & PROP_FWDREF) {
			uint32_t def;

			if (!(u->uname && find_name(pdb, u->uname, &def)) &&
			    !find_name(pdb, u->name, &def))
				return 0;
			ti = def;
			continue;
		}
		if (def_ti)
			*def_ti = ti;
		return 1;
	}
	return 0;
}

static uint64_t simple_size(uint32_t ti)
{
	uint32_t mode = (ti >> 8) & 0xF, kind = ti & 0xFF;

	if (mode == 4 || mode == 5)
		return 4; /* 32-bit pointers */
	if (mode == 6)
		return 8;
	switch (kind) {
	case 0x10:
	case 0x20:
	case 0x30:
	case 0x68:
	case 0x69:
	case 0x70:
	case 0x7c:
		return 1;
	case 0x11:
	case 0x21:
	case 0x31:
	case 0x71:
	case 0x72:
	case 0x73:
	case 0x7a:
		return 2;
	case 0x12:
	case 0x22:
	case 0x32:
	case 0x40:
	case 0x74:
	case 0x75:
	case 0x7b:
		return 4;
	case 0x13:
	case 0x23:
	case 0x33:
	case 0x41:
	case 0x76:
	case 0x77:
		return 8;
	case 0x14:
	case 0x24:
	case 0x78:
	case 0x79:
		return 16;
	default:
		return 0;
	}
}

static uint64_t type_size(const struct wdt_pdb *pdb, uint32_t ti, int depth)
{
	uint16_t kind;
	struct cur c;
	uint32_t ref, attrs;
	uint64_t v;
	struct udt u;

	if (ti < 0x1000)
		return simple_size(ti);
	if (depth > MAX_DEPTH || record(pdb, ti, &kind, &c) < 0)
		return 0;
	switch (kind) {
	case LF_MODIFIER:
	case LF_BITFIELD:
		return take32(&c, &ref) < 0 ? 0
					    : type_size(pdb, ref, depth + 1);
	case LF_POINTER:
		if (take32(&c, &ref) < 0 || take32(&c, &attrs) < 0)
			return 0;
		return (attrs >> 13) & 0x3F;
	case LF_ARRAY:
		if (take32(&c, &ref) < 0 || take32(&c, &ref) < 0 ||
		    take_num(&c, &v) < 0)
			return 0;
		return v;
	case LF_ENUM:
		if (take32(&c, &ref) < 0 || take32(&c, &ref) < 0)
			return 0;
		return type_size(pdb, ref, depth + 1);
	default:
		if (is_udt_kind(kind) && resolve_udt(pdb, ti, &u, NULL))
			return u.size;
		return 0;
	}
}

struct member_find {
	const char *name; /* component to match */
	size_t name_len;
	uint64_t offset;
	uint32_t type;
	bool found;
	uint32_t steps; /* bounds the whole search (cycles, fan-out) */
};

static bool anonymous(const struct wdt_pdb *pdb, const char *mname, uint32_t ti)
{
	struct udt u;

	if (mname[0] == '\0' || mname[0] == '<' || strstr(mname, "<unnamed") ||
	    strstr(mname, "__unnamed"))
		return true;
	if (resolve_udt(pdb, ti, &u, NULL))
		return strstr(u.name, "<unnamed-") ||
		       strstr(u.name, "<anonymous-") ||
		       strstr(u.name, "__unnamed");
	return false;
}

static int search_fields(const struct wdt_pdb *pdb, uint32_t fields,
			 struct member_find *f, uint64_t base, int depth);

/*
 * Walk one field list chain for member f->name; recurse into anonymous
 * members. -1 malformed, 0 not found, 1 found.
 */
static int walk_fields(const struct wdt_pdb *pdb, uint32_t fields,
		       struct member_find *f, uint64_t base, int depth,
		       bool anon_pass)
{
	for (int chain = 0; chain < MAX_FIELD_CHAIN; chain++) {
		uint16_t kind, leaf, attr, u16;
		uint32_t ti, next = 0, u32;
		uint64_t off, v;
		const char *mname;
		struct cur c;

		if (++f->steps > MAX_STEPS ||
		    record(pdb, fields, &kind, &c) < 0 || kind != LF_FIELDLIST)
			return -1;
		while (c.pos + 2 <= c.len) {
			if (++f->steps > MAX_STEPS || take16(&c, &leaf) < 0)
				return -1;
			switch (leaf) {
			case LF_MEMBER:
				if (take16(&c, &attr) < 0 ||
				    take32(&c, &ti) < 0 ||
				    take_num(&c, &off) < 0 ||
				    take_str(&c, &mname) < 0)
					return -1;
				if (!anon_pass &&
				    strlen(mname) == f->name_len &&
				    memcmp(mname, f->name, f->name_len) == 0) {
					f->offset = base + off;
					f->type = ti;
					f->found = true;
					return 1;
				}
				if (anon_pass && anonymous(pdb, mname, ti)) {
					struct udt u;
					int rc;

					if (!resolve_udt(pdb, ti, &u, NULL))
						break;
					rc = search_fields(pdb, u.fields, f,
							   base + off,
							   depth + 1);
					if (rc != 0)
						return rc;
				}
				break;
			case LF_STMEMBER:
			case LF_NESTTYPE:
			case LF_VFUNCTAB:
				if (take16(&c, &attr) < 0 ||
				    take32(&c, &ti) < 0)
					return -1;
				if (leaf != LF_VFUNCTAB &&
				    take_str(&c, &mname) < 0)
					return -1;
				break;
			case LF_BCLASS:
				if (take16(&c, &attr) < 0 ||
				    take32(&c, &ti) < 0 || take_num(&c, &v) < 0)
					return -1;
				break;
			case LF_VBCLASS:
			case LF_IVBCLASS:
				if (take16(&c, &attr) < 0 ||
				    take32(&c, &ti) < 0 ||
				    take32(&c, &u32) < 0 ||
				    take_num(&c, &v) < 0 ||
				    take_num(&c, &v) < 0)
					return -1;
				break;
			case LF_METHOD:
				if (take16(&c, &u16) < 0 ||
				    take32(&c, &ti) < 0 ||
				    take_str(&c, &mname) < 0)
					return -1;
				break;
			case LF_ONEMETHOD:
				if (take16(&c, &attr) < 0 ||
				    take32(&c, &ti) < 0)
					return -1;
				/* mprop 4/6: introducing virtual, has vtable
				 * offset */
				if ((((attr >> 2) & 7) == 4 ||
				     ((attr >> 2) & 7) == 6) &&
				    take32(&c, &u32) < 0)
					return -1;
				if (take_str(&c, &mname) < 0)
					return -1;
				break;
			case LF_ENUMERATE:
				if (take16(&c, &attr) < 0 ||
				    take_num(&c, &v) < 0 ||
				    take_str(&c, &mname) < 0)
					return -1;
				break;
			case LF_INDEX:
				if (take16(&c, &u16) < 0 ||
				    take32(&c, &next) < 0)
					return -1;
				break;
			default:
				return -1; /* lengths are implicit: cannot skip
					    */
			}
			skip_pad(&c);
		}
		if (!next)
			return 0;
		fields = next;
	}
	return -1;
}

static int search_fields(const struct wdt_pdb *pdb, uint32_t fields,
			 struct member_find *f, uint64_t base, int depth)
{
	int rc;

	if (depth > MAX_DEPTH)
		return -1;
	rc = walk_fields(pdb, fields, f, base, depth, false);
	if (rc != 0)
		return rc;
	return walk_fields(pdb, fields, f, base, depth, true);
}

static int lookup_udt(struct wdt_pdb *pdb, const char *type, struct udt *u,
		      struct wdt_err *err)
{
	uint32_t ti;

	if (load_tpi(pdb, err) < 0)
		return -1;
	if (!find_name(pdb, type, &ti) || !resolve_udt(pdb, ti, u, NULL)) {
		wdt_err_set(err, WDT_NOT_FOUND, "%s: no type %s", pdb->name,
			    type);
		return 0;
	}
	return 1;
}

int wdt_pdb_struct_size(struct wdt_pdb *pdb, const char *type, uint64_t *size,
			struct wdt_err *err)
{
	struct udt u;
	int rc = lookup_udt(pdb, type, &u, err);

	if (rc == 1)
		*size = u.size;
	return rc;
}

int wdt_pdb_member(struct wdt_pdb *pdb, const char *type, const char *path,
		   struct wdt_pdb_member *out, struct wdt_err *err)
{
	struct member_find f;
	struct udt u;
	const char *p = path;
	uint64_t base = 0;
	int rc = lookup_udt(pdb, type, &u, err);

	if (rc != 1)
		return rc;
	memset(out, 0, sizeof(*out));
	for (;;) {
		const char *dot = strchr(p, '.');

		memset(&f, 0, sizeof(f));
		f.name = p;
		f.name_len = dot ? (size_t)(dot - p) : strlen(p);
		rc = search_fields(pdb, u.fields, &f, base, 0);
		if (rc < 0)
			return wdt_err_set(err, WDT_CORRUPT,
					   "%s: field list of %s is malformed "
					   "or nests too deeply",
					   pdb->name, u.name);
		if (rc == 0) {
			wdt_err_set(err, WDT_NOT_FOUND,
				    "%s: %s has no member %.*s", pdb->name,
				    u.name, (int)f.name_len, p);
			return 0;
		}
		base = f.offset;
		if (!dot)
			break;
		if (!resolve_udt(pdb, f.type, &u, NULL)) {
			wdt_err_set(err, WDT_NOT_FOUND,
				    "%s: member %.*s of %s is not a struct or "
				    "union",
				    pdb->name, (int)f.name_len, p, type);
			return 0;
		}
		p = dot + 1;
	}
	out->offset = f.offset;
	out->type = f.type;
	out->size = type_size(pdb, f.type, 0);
	{
		uint16_t kind;
		struct cur c;
		uint32_t base_ti;
		const uint8_t *b;

		if (record(pdb, f.type, &kind, &c) == 0 &&
		    kind == LF_BITFIELD && take32(&c, &base_ti) == 0 &&
		    take(&c, 2, &b) == 0) {
			out->bitfield = true;
			out->bit_len = b[0];
			out->bit_pos = b[1];
		}
	}
	return 1;
}
