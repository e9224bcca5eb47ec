/* SPDX-License-Identifier: MIT */
/* Reader state shared by pdb.c (MSF, DBI, publics) and pdb_tpi.c (types). */
#ifndef WDT_SYMBOLS_PDB_PRIV_H
#define WDT_SYMBOLS_PDB_PRIV_H

#include "symbols/pdb.h"

#define PDB_STREAM_INFO 1
#define PDB_STREAM_TPI 2
#define PDB_STREAM_DBI 3
#define PDB_NIL_STREAM 0xFFFFFFFFu

struct pdb_tname {
	const char *name;
	uint32_t ti;
};

struct wdt_pdb {
	struct wdt_source *src;
	struct wdt_source *own_src; /* closed with the reader, may be NULL */
	char *name;
	struct wdt_msf_super sb;
	uint32_t nstreams;
	uint32_t *ssize;    /* stream sizes (nil -> 0) */
	uint32_t **sblocks; /* each stream's block list, into dir */
	uint32_t *dir;	    /* directory words */
	struct wdt_pdb_ident ident;
	uint16_t symrec_stream; /* 0xFFFF when absent */
	uint16_t tpi_present;
	struct wdt_pe_section *secs;
	size_t nsecs;
	bool has_omap;
	/* publics, on demand */
	uint8_t *symrec;
	struct wdt_pdb_public *pubs;
	size_t npubs;
	bool pubs_loaded;
	/* types, on demand */
	uint8_t *tpi;
	uint32_t tpi_len;
	uint32_t ti_begin, ti_end;
	uint32_t *ti_off;	  /* record offset in tpi per (ti - ti_begin) */
	struct pdb_tname *tnames; /* defined UDTs by name and unique name */
	size_t ntnames;
	bool tpi_loaded;
};

/* Read a whole stream into memory (caller frees). */
int pdb_stream_load(const struct wdt_pdb *pdb, uint32_t idx, uint8_t **buf,
		    uint32_t *len, struct wdt_err *err);

void pdb_tpi_free(struct wdt_pdb *pdb);

#endif
