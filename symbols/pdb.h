/* SPDX-License-Identifier: MIT */
/*
 * PDB reader (MSF 7.00): stream directory, PDB info and DBI streams,
 * public symbols (S_PUB32 -> RVA) and enough of the TPI stream to answer
 * "size of struct S" and "offset of member M in S". Layout facts:
 * ../shared/spec/pdb.md.
 *
 * Streams are read on demand through the byte source: opening reads the
 * superblock, the directory and the small info/DBI/section streams; the
 * symbol record stream is loaded on the first symbol query and the TPI
 * stream on the first type query. Every count and offset from the file is
 * checked; a hostile PDB gives an error, never a crash or a hang.
 */
#ifndef WDT_SYMBOLS_PDB_H
#define WDT_SYMBOLS_PDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/source.h"
#include "symbols/pe.h"

#define WDT_MSF_MAGIC "Microsoft C/C++ MSF 7.00\r\n\x1a\x44\x53\0\0\0"
#define WDT_MSF_MAGIC_LEN 32
#define WDT_MSF_SUPERBLOCK_SIZE 0x38

struct wdt_msf_super {
	uint32_t block_size;
	uint32_t fpm_block;
	uint32_t nblocks;
	uint32_t dir_bytes;
	uint32_t dir_map_blocks; /* how many BlockMapAddr entries are used */
	uint32_t file_blocks;	 /* blocks the file actually holds */
};

/*
 * Parse and validate the superblock in buf (at least
 * WDT_MSF_SUPERBLOCK_SIZE bytes; more when the block map address array is
 * long). file_size bounds block numbers and the directory.
 */
int wdt_msf_parse_super(const uint8_t *buf, size_t len, uint64_t file_size,
			struct wdt_msf_super *out, struct wdt_err *err);

/* True when buf starts with the MSF 7.00 magic. */
bool wdt_msf_probe(const uint8_t *buf, size_t len);

struct wdt_pdb;

struct wdt_pdb_ident {
	uint8_t guid[16];
	uint32_t info_age;
	uint32_t dbi_age;
	bool has_dbi;
	uint32_t age; /* the one to match an image with (pdb.md §7) */
	uint32_t signature;
};

/*
 * Open a PDB over a byte source. src is borrowed and must outlive the
 * reader. Caller frees with wdt_pdb_close.
 */
struct wdt_pdb *wdt_pdb_open(struct wdt_source *src, struct wdt_err *err);

/* Open a PDB file; the reader owns the file. */
struct wdt_pdb *wdt_pdb_open_file(const char *path, struct wdt_err *err);

void wdt_pdb_close(struct wdt_pdb *pdb);

void wdt_pdb_identity(const struct wdt_pdb *pdb, struct wdt_pdb_ident *out);

/*
 * Refuse a PDB that is not the image's (GUID and DBI age, pdb.md §7). The
 * message names both identities. With force, a mismatch is accepted.
 */
int wdt_pdb_check_match(const struct wdt_pdb *pdb, const uint8_t guid[16],
			uint32_t age, bool force, struct wdt_err *err);

/* ---- streams ---- */

uint32_t wdt_pdb_stream_count(const struct wdt_pdb *pdb);
/* Size of stream idx; 0 for nil or absent streams. */
uint32_t wdt_pdb_stream_size(const struct wdt_pdb *pdb, uint32_t idx);
int wdt_pdb_stream_read(const struct wdt_pdb *pdb, uint32_t idx, uint32_t off,
			void *buf, size_t len, struct wdt_err *err);

/* Section headers of the image (DBI optional debug header, index 5). */
const struct wdt_pe_section *wdt_pdb_sections(const struct wdt_pdb *pdb,
					      size_t *n);

/* ---- public symbols ---- */

struct wdt_pdb_public {
	const char *name; /* owned by the reader */
	uint32_t flags;	  /* PubSymFlags: bit0 code, bit1 function */
	uint16_t segment;
	uint32_t offset;
	bool has_rva; /* segment names a section */
	uint32_t rva;
};

/*
 * All S_PUB32 records sorted by name (loads the symbol record stream on
 * first use). The array is owned by the reader.
 */
int wdt_pdb_publics(struct wdt_pdb *pdb, const struct wdt_pdb_public **v,
		    size_t *n, struct wdt_err *err);

/* RVA of a public symbol: 1 found, 0 absent (err says so), -1 error. */
int wdt_pdb_symbol_rva(struct wdt_pdb *pdb, const char *name, uint32_t *rva,
		       struct wdt_err *err);

/* ---- types ---- */

struct wdt_pdb_member {
	uint64_t offset; /* bytes from the start of the outer struct */
	uint32_t type;	 /* type index of the member */
	uint64_t size;	 /* bytes, 0 if unknown */
	bool bitfield;
	uint8_t bit_pos;
	uint8_t bit_len;
};

/* Size of struct/class/union S: 1 found, 0 absent (err says so), -1 error. */
int wdt_pdb_struct_size(struct wdt_pdb *pdb, const char *type, uint64_t *size,
			struct wdt_err *err);

/*
 * Offset of member path ("Pcb.DirectoryTableBase", members of anonymous
 * unions/structs found through them) in S: 1 found, 0 absent (err says
 * which part is missing), -1 error.
 */
int wdt_pdb_member(struct wdt_pdb *pdb, const char *type, const char *path,
		   struct wdt_pdb_member *out, struct wdt_err *err);

#endif
