/* SPDX-License-Identifier: MIT */
/*
 * PDB reader: a real lld-link PDB (publics checked against llvm-pdbutil,
 * member offsets against the compiler's offsetof) and hostile PDBs, both
 * mutated real ones and synthetic ones from msfbuild.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/bytes.h"
#include "symbols/pdb.h"
#include "symbols/pe.h"
#include "msfbuild.h"
#include "testdata.h"

static const char *argv0;
static unsigned char *pdbfile;
static size_t pdb_len;

static int setup(void **state)
{
	(void)state;
	if (td_build(argv0) != 0)
		return -1;
	pdbfile = td_slurp(td_path("wdttest.pdb"), &pdb_len);
	return pdbfile ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(pdbfile);
	return 0;
}

static struct wdt_pdb *open_real(void)
{
	struct wdt_err err = {0};
	struct wdt_pdb *pdb = wdt_pdb_open_file(td_path("wdttest.pdb"), &err);

	if (!pdb)
		fail_msg("%s", err.msg);
	return pdb;
}

static void test_identity_and_match(void **state)
{
	struct wdt_err err = {0};
	struct wdt_pdb *pdb = open_real();
	struct wdt_pdb_ident id;
	uint8_t guid[16];
	uint32_t age;
	char s[39];

	(void)state;
	td_read_rsds(guid, &age);
	wdt_pdb_identity(pdb, &id);
	assert_memory_equal(id.guid, guid, 16);
	assert_true(id.has_dbi);
	assert_int_equal(id.age, age);
	assert_int_equal(wdt_pdb_check_match(pdb, guid, age, false, &err), 0);
	assert_int_equal(wdt_pdb_check_match(pdb, guid, age + 1, false, &err),
			 -1);
	assert_int_equal(err.status, WDT_NOT_FOUND);
	wdt_pe_guid_str(guid, s);
	assert_non_null(strstr(err.msg, s)); /* both identities named */
	assert_non_null(strstr(err.msg, "age 2"));
	assert_non_null(strstr(err.msg, "age 1"));
	guid[3] ^= 1;
	assert_int_equal(wdt_pdb_check_match(pdb, guid, age, false, &err), -1);
	assert_int_equal(wdt_pdb_check_match(pdb, guid, age, true, &err), 0);
	wdt_pdb_close(pdb);
}

/* RVAs of every S_PUB32 equal llvm-pdbutil's (seg:off + section VA). */
static void test_publics_match_llvm(void **state)
{
	struct wdt_err err = {0};
	struct wdt_pdb *pdb = open_real();
	const struct wdt_pdb_public *v;
	char name[256];
	unsigned rva;
	size_t n, lines = 0;
	FILE *f = fopen(td_path("publics.txt"), "r");

	(void)state;
	assert_non_null(f);
	while (fscanf(f, "%255s %x", name, &rva) == 2) {
		uint32_t got = 0;

		assert_int_equal(wdt_pdb_symbol_rva(pdb, name, &got, &err), 1);
		if (got != rva)
			fail_msg("%s: 0x%x, llvm-pdbutil says 0x%x", name, got,
				 rva);
		lines++;
	}
	fclose(f);
	assert_int_equal(wdt_pdb_publics(pdb, &v, &n, &err), 0);
	assert_int_equal(n, lines);
	assert_true(n >= 9);
	{
		uint32_t got;

		assert_int_equal(wdt_pdb_symbol_rva(pdb, "helper", &got, &err),
				 0);
		assert_int_equal(err.status, WDT_NOT_FOUND);
		assert_non_null(strstr(err.msg, "no public symbol helper"));
	}
	wdt_pdb_close(pdb);
}

/* The DLL exports wdt_expected[]: offsetof/sizeof from the compiler. */
static void test_members_match_compiler(void **state)
{
	struct wdt_err err = {0};
	struct wdt_pdb *pdb = open_real();
	struct wdt_source *src =
	    wdt_source_open_file(td_path("wdttest.dll"), &err);
	struct wdt_pe *pe = wdt_pe_open_source(src, &err);
	uint32_t rva, crva, count;
	uint8_t *tab;
	struct wdt_pdb_member m;

	(void)state;
	assert_non_null(pe);
	assert_int_equal(wdt_pe_export_rva(pe, "wdt_expected", &rva, &err), 1);
	assert_int_equal(
	    wdt_pe_export_rva(pe, "wdt_expected_count", &crva, &err), 1);
	assert_int_equal(wdt_pe_read_rva(pe, crva, &count, 4, &err), 0);
	assert_true(count >= 20 && count < 100);
	tab = malloc(count * 80u);
	assert_int_equal(wdt_pe_read_rva(pe, rva, tab, count * 80u, &err), 0);
	for (uint32_t i = 0; i < count; i++) {
		const char *type = (const char *)tab + i * 80;
		const char *member = type + 32;
		uint64_t off = wdt_le64(type + 64), size = wdt_le64(type + 72);
		uint64_t got;

		if (wdt_pdb_member(pdb, type, member, &m, &err) != 1)
			fail_msg("%s.%s: %s", type, member, err.msg);
		if (m.offset != off)
			fail_msg("%s.%s at %llu, compiler says %llu", type,
				 member, (unsigned long long)m.offset,
				 (unsigned long long)off);
		assert_int_equal(wdt_pdb_struct_size(pdb, type, &got, &err), 1);
		assert_int_equal(got, size);
	}
	free(tab);
	/* bitfields: flag2 is bits 3..7 of the unit at flag1's offset */
	assert_int_equal(wdt_pdb_member(pdb, "_OUTER", "flag2", &m, &err), 1);
	assert_true(m.bitfield);
	assert_int_equal(m.bit_pos, 3);
	assert_int_equal(m.bit_len, 5);
	assert_int_equal(m.size, 4);
	assert_int_equal(wdt_pdb_member(pdb, "_OUTER", "arr", &m, &err), 1);
	assert_int_equal(m.size, 24);
	assert_int_equal(wdt_pdb_member(pdb, "_OUTER", "inner.zz", &m, &err),
			 0);
	assert_non_null(strstr(err.msg, "_INNER has no member zz"));
	assert_int_equal(wdt_pdb_member(pdb, "_OUTER", "tag.x", &m, &err), 0);
	assert_non_null(strstr(err.msg, "not a struct"));
	assert_int_equal(wdt_pdb_member(pdb, "_NOPE", "x", &m, &err), 0);
	assert_non_null(strstr(err.msg, "no type _NOPE"));
	wdt_pe_close(pe);
	wdt_source_close(src);
	wdt_pdb_close(pdb);
}

/* ---- hostile MSF containers (mutated real PDB) ---- */

static void expect_open(const uint8_t *buf, size_t len, enum wdt_status st,
			const char *needle)
{
	struct wdt_err err = {0};
	struct wdt_source *src = wdt_source_open_mem(buf, len, "bad.pdb", &err);
	struct wdt_pdb *pdb = wdt_pdb_open(src, &err);

	if (pdb)
		fail_msg("opened a PDB that should fail with \"%s\"", needle);
	assert_int_equal(err.status, st);
	if (!strstr(err.msg, needle) || strncmp(err.msg, "bad.pdb: ", 9))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
	wdt_source_close(src);
}

static void test_bad_msf(void **state)
{
	uint8_t *b = malloc(pdb_len);
	uint32_t bs = wdt_le32(pdbfile + 0x20), map = wdt_le32(pdbfile + 0x34);
	uint32_t dir0 = wdt_le32(pdbfile + (size_t)map * bs);
	uint8_t *dir;

	(void)state;
	memcpy(b, pdbfile, pdb_len);
	expect_open(b, 40, WDT_TRUNCATED, "too short");
	expect_open((const uint8_t *)"Microsoft C/C++ program database 2.00\r\n"
				     "\x1aJG\0\0 and so on and so forth",
		    64, WDT_UNSUPPORTED, "2.00");
	memcpy(b, "MZ", 2);
	expect_open(b, pdb_len, WDT_UNKNOWN_FORMAT, "no MSF 7.00 magic");
	memcpy(b, pdbfile, 2);
	wdt_put_le32(b + 0x20, 1000);
	expect_open(b, pdb_len, WDT_CORRUPT, "not a power of two");
	wdt_put_le32(b + 0x20, bs);
	wdt_put_le32(b + 0x28, 0x7FFFFFF0);
	expect_open(b, pdb_len, WDT_TRUNCATED, "blocks");
	wdt_put_le32(b + 0x28, wdt_le32(pdbfile + 0x28));
	wdt_put_le32(b + 0x34, 0x00FFFFFF);
	expect_open(b, pdb_len, WDT_CORRUPT, "outside");
	wdt_put_le32(b + 0x34, map);
	wdt_put_le32(b + 0x2C, 0x7FFFFFFF);
	expect_open(b, pdb_len, WDT_CORRUPT, "directory size");
	wdt_put_le32(b + 0x2C, wdt_le32(pdbfile + 0x2C));
	/* directory block number past the end of the file */
	wdt_put_le32(b + (size_t)map * bs, 0x00FFFFFF);
	expect_open(b, pdb_len, WDT_CORRUPT, "beyond");
	wdt_put_le32(b + (size_t)map * bs, dir0);
	/* stream sizes lying: stream 2 claims 256 MiB */
	dir = b + (size_t)dir0 * bs;
	wdt_put_le32(dir + 4 * 3, 0x10000000);
	expect_open(b, pdb_len, WDT_CORRUPT, "stream 2 claims");
	memcpy(dir, pdbfile + (size_t)dir0 * bs, bs);
	/* a stream count larger than the directory */
	wdt_put_le32(dir, 0x40000000);
	expect_open(b, pdb_len, WDT_CORRUPT, "streams");
	memcpy(dir, pdbfile + (size_t)dir0 * bs, bs);
	/* a file cut in half */
	expect_open(b, pdb_len / 2, WDT_TRUNCATED, "blocks");
	free(b);
}

/* ---- synthetic PDBs for the type and symbol walkers ---- */

static const uint8_t G[16] = {1, 2,  3,	 4,  5,	 6,  7,	 8,
			      9, 10, 11, 12, 13, 14, 15, 16};

static uint32_t rec_begin(struct mb_buf *b, uint16_t kind)
{
	uint32_t at = b->n;

	mb_u16(b, 0);
	mb_u16(b, kind);
	return at;
}

static void rec_end(struct mb_buf *b, uint32_t at)
{
	mb_pad(b);
	wdt_put_le16(b->d + at, (uint16_t)(b->n - at - 2));
}

static void struct_rec(struct mb_buf *b, uint32_t fields, uint16_t size,
		       const char *name, uint16_t prop)
{
	uint32_t at = rec_begin(b, 0x1505);

	mb_u16(b, 1);
	mb_u16(b, prop);
	mb_u32(b, fields);
	mb_u32(b, 0);
	mb_u32(b, 0);
	mb_u16(b, size);
	mb_str(b, name);
	rec_end(b, at);
}

static void member(struct mb_buf *b, uint32_t ti, uint16_t off,
		   const char *name)
{
	mb_u16(b, 0x150D);
	mb_u16(b, 3);
	mb_u32(b, ti);
	mb_u16(b, off);
	mb_str(b, name);
	mb_pad(b);
}

static struct wdt_source *synth_src;
static struct mb_buf tpi, sym;

static struct wdt_pdb *open_synth(const struct mb_buf *t,
				  const struct mb_buf *y, uint8_t **file)
{
	struct wdt_err err = {0};
	size_t len;
	struct wdt_pdb *pdb;

	*file = mb_pdb(G, 1, t, y, &len);
	synth_src = wdt_source_open_mem(*file, len, "synth.pdb", &err);
	pdb = wdt_pdb_open(synth_src, &err);
	if (!pdb)
		fail_msg("%s", err.msg);
	return pdb;
}

static void close_synth(struct wdt_pdb *pdb, uint8_t *file)
{
	/* the memory source is not owned by the reader */
	wdt_pdb_close(pdb);
	wdt_source_close(synth_src);
	free(file);
}

static void test_cyclic_types(void **state)
{
	struct wdt_err err = {0};
	struct wdt_pdb_member m;
	struct wdt_pdb *pdb;
	uint8_t *file;
	uint32_t at;

	(void)state;
	memset(&tpi, 0, sizeof(tpi));
	memset(&sym, 0, sizeof(sym));
	tpi.n = 0x38;
	/* 0x1000: LF_MODIFIER of itself */
	at = rec_begin(&tpi, 0x1001);
	mb_u32(&tpi, 0x1000);
	mb_u16(&tpi, 1);
	rec_end(&tpi, at);
	/* 0x1001: field list: m (the modifier loop), two anonymous members of
	 * type _S itself, then LF_INDEX continuing with itself */
	at = rec_begin(&tpi, 0x1203);
	member(&tpi, 0x1000, 0, "m");
	member(&tpi, 0x1002, 8, "");
	member(&tpi, 0x1002, 16, "");
	mb_u16(&tpi, 0x1404);
	mb_u16(&tpi, 0);
	mb_u32(&tpi, 0x1001);
	rec_end(&tpi, at);
	/* 0x1002: _S */
	struct_rec(&tpi, 0x1001, 24, "_S", 0);
	mb_tpi_header(&tpi, 3);
	pdb = open_synth(&tpi, &sym, &file);

	assert_int_equal(wdt_pdb_member(pdb, "_S", "m", &m, &err), 1);
	assert_int_equal(m.size, 0); /* modifier loop: unknown, no hang */
	assert_int_equal(wdt_pdb_member(pdb, "_S", "m.x", &m, &err), 0);
	assert_non_null(strstr(err.msg, "not a struct"));
	assert_int_equal(wdt_pdb_member(pdb, "_S", "absent", &m, &err), -1);
	assert_int_equal(err.status, WDT_CORRUPT);
	assert_non_null(strstr(err.msg, "synth.pdb: field list of _S"));
	close_synth(pdb, file);
}

static void test_bad_tpi(void **state)
{
	struct wdt_err err = {0};
	struct wdt_pdb *pdb;
	uint64_t size;
	uint8_t *file;
	uint32_t at;

	(void)state;
	memset(&tpi, 0, sizeof(tpi));
	memset(&sym, 0, sizeof(sym));
	tpi.n = 0x38;
	struct_rec(&tpi, 0, 8, "_A", 0);
	/* huge count */
	mb_tpi_header(&tpi, 0x7FFFFFFF);
	pdb = open_synth(&tpi, &sym, &file);
	assert_int_equal(wdt_pdb_struct_size(pdb, "_A", &size, &err), -1);
	assert_int_equal(err.status, WDT_CORRUPT);
	assert_non_null(strstr(err.msg, "type index range"));
	close_synth(pdb, file);
	/* more types declared than present */
	mb_tpi_header(&tpi, 5);
	pdb = open_synth(&tpi, &sym, &file);
	assert_int_equal(wdt_pdb_struct_size(pdb, "_A", &size, &err), -1);
	assert_non_null(strstr(err.msg, "declares 5 types but holds only 1"));
	close_synth(pdb, file);
	/* a record length running past the records */
	wdt_put_le16(tpi.d + 0x38, 0x7000);
	mb_tpi_header(&tpi, 1);
	pdb = open_synth(&tpi, &sym, &file);
	assert_int_equal(wdt_pdb_struct_size(pdb, "_A", &size, &err), -1);
	assert_non_null(strstr(err.msg, "record length"));
	close_synth(pdb, file);
	/* an unknown field-list leaf: lengths are implicit, so refuse */
	memset(&tpi, 0, sizeof(tpi));
	tpi.n = 0x38;
	at = rec_begin(&tpi, 0x1203);
	mb_u16(&tpi, 0x1234);
	mb_u16(&tpi, 0);
	rec_end(&tpi, at);
	struct_rec(&tpi, 0x1000, 8, "_B", 0);
	mb_tpi_header(&tpi, 2);
	pdb = open_synth(&tpi, &sym, &file);
	{
		struct wdt_pdb_member m;

		assert_int_equal(wdt_pdb_struct_size(pdb, "_B", &size, &err),
				 1);
		assert_int_equal(size, 8);
		assert_int_equal(wdt_pdb_member(pdb, "_B", "x", &m, &err), -1);
		assert_int_equal(err.status, WDT_CORRUPT);
	}
	close_synth(pdb, file);
}

/* Forward reference resolved by name; numeric leaves; LF_INDEX chain. */
static void test_synthetic_types(void **state)
{
	struct wdt_err err = {0};
	struct wdt_pdb_member m;
	struct wdt_pdb *pdb;
	uint64_t size;
	uint8_t *file;
	uint32_t at;

	(void)state;
	memset(&tpi, 0, sizeof(tpi));
	memset(&sym, 0, sizeof(sym));
	tpi.n = 0x38;
	struct_rec(&tpi, 0, 0, "_FWD", 0x80); /* 0x1000 forward ref */
	at = rec_begin(&tpi, 0x1203);	      /* 0x1001 continuation */
	mb_u16(&tpi, 0x150D);
	mb_u16(&tpi, 3);
	mb_u32(&tpi, 0x1000);
	mb_u16(&tpi, 0x8003); /* LF_LONG */
	mb_u32(&tpi, 0x12345);
	mb_str(&tpi, "fwd");
	mb_pad(&tpi);
	rec_end(&tpi, at);
	at = rec_begin(&tpi, 0x1203); /* 0x1002 first part */
	member(&tpi, 0x0075, 4, "a");
	mb_u16(&tpi, 0x1404);
	mb_u16(&tpi, 0);
	mb_u32(&tpi, 0x1001);
	rec_end(&tpi, at);
	at = rec_begin(&tpi, 0x1203); /* 0x1003 _FWD's fields */
	member(&tpi, 0x0023, 8, "q");
	rec_end(&tpi, at);
	struct_rec(&tpi, 0x1002, 0x7FFF, "_T", 0); /* 0x1004 */
	struct_rec(&tpi, 0x1003, 16, "_FWD", 0);   /* 0x1005 definition */
	mb_tpi_header(&tpi, 6);
	/* symbols: one good S_PUB32 and a record past the end */
	at = rec_begin(&sym, 0x110E);
	mb_u32(&sym, 2);
	mb_u32(&sym, 0x20);
	mb_u16(&sym, 1);
	mb_str(&sym, "PsLoadedModuleList");
	rec_end(&sym, at);
	at = rec_begin(&sym, 0x110E);
	mb_u32(&sym, 0);
	mb_u32(&sym, 0x40);
	mb_u16(&sym, 9); /* no section 9 */
	mb_str(&sym, "Orphan");
	rec_end(&sym, at);
	pdb = open_synth(&tpi, &sym, &file);
	assert_int_equal(wdt_pdb_member(pdb, "_T", "fwd.q", &m, &err), 1);
	assert_int_equal(m.offset, 0x12345 + 8);
	assert_int_equal(m.size, 8);
	assert_int_equal(wdt_pdb_member(pdb, "_T", "fwd", &m, &err), 1);
	assert_int_equal(m.size, 16); /* through the forward reference */
	assert_int_equal(wdt_pdb_struct_size(pdb, "_T", &size, &err), 1);
	assert_int_equal(size, 0x7FFF);
	{
		uint32_t rva;

		assert_int_equal(
		    wdt_pdb_symbol_rva(pdb, "PsLoadedModuleList", &rva, &err),
		    1);
		assert_int_equal(rva, 0x1020);
		assert_int_equal(wdt_pdb_symbol_rva(pdb, "Orphan", &rva, &err),
				 -1);
		assert_non_null(strstr(err.msg, "segment 9"));
	}
	close_synth(pdb, file);

	/* a symbol record that runs past the stream */
	wdt_put_le16(sym.d, 0x4000);
	pdb = open_synth(&tpi, &sym, &file);
	{
		uint32_t rva;

		assert_int_equal(wdt_pdb_symbol_rva(pdb, "X", &rva, &err), -1);
		assert_int_equal(err.status, WDT_CORRUPT);
		assert_non_null(strstr(err.msg, "past the stream end"));
	}
	close_synth(pdb, file);
}

static void test_bad_dbi(void **state)
{
	size_t len;
	uint8_t *file;
	uint32_t bs = MB_BS;

	(void)state;
	memset(&tpi, 0, sizeof(tpi));
	memset(&sym, 0, sizeof(sym));
	tpi.n = 0x38;
	mb_tpi_header(&tpi, 0);
	file = mb_pdb(G, 1, &tpi, &sym, &len);
	/* DBI is stream 3; find its first block through the directory */
	{
		uint32_t dir = wdt_le32(file + 3 * bs);
		uint8_t *d = file + (size_t)dir * bs;
		uint32_t n = wdt_le32(d), pos = 1 + n;

		for (uint32_t i = 0; i < 3; i++)
			pos += (wdt_le32(d + 4 + 4 * i) + bs - 1) / bs;
		wdt_put_le32(file + (size_t)wdt_le32(d + 4 * pos) * bs,
			     20000404);
	}
	expect_open(file, len, WDT_CORRUPT, "DBI stream signature");
	free(file);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identity_and_match),
	    cmocka_unit_test(test_publics_match_llvm),
	    cmocka_unit_test(test_members_match_compiler),
	    cmocka_unit_test(test_bad_msf),
	    cmocka_unit_test(test_cyclic_types),
	    cmocka_unit_test(test_bad_tpi),
	    cmocka_unit_test(test_synthetic_types),
	    cmocka_unit_test(test_bad_dbi),
	};

	(void)argc;
	argv0 = argv[0];
	return cmocka_run_group_tests_name("symbols/pdb", tests, setup,
					   teardown);
}
