/* SPDX-License-Identifier: MIT */
/*
 * symtest: test-only driver of the symbols layer for integration scripts
 * (tests/integration/t05NN-*.sh). One query per line of output:
 *   symtest rsds PE                    name GUIDHEX age
 *   symtest sym PDB NAME...            NAME 0xRVA
 *   symtest size PDB TYPE              TYPE SIZE
 *   symtest member PDB TYPE PATH       TYPE.PATH OFFSET
 *   symtest find SYMPATH PE [offline]  path of the verified PDB
 * Errors: "symtest: message" on stderr, exit 1.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/pdb.h"
#include "symbols/pe.h"
#include "symbols/symstore.h"

static int die(const struct wdt_err *err)
{
	fprintf(stderr, "symtest: %s\n", err->msg);
	return 1;
}

static int rsds(const char *file, struct wdt_pe_codeview *out,
		struct wdt_err *err)
{
	struct wdt_source *src = wdt_source_open_file(file, err);
	const struct wdt_pe_codeview *cv;
	struct wdt_pe *pe;
	int rc = -1;

	if (!src)
		return wdt_err_prefix(err, "%s", file);
	pe = wdt_pe_open_source(src, err);
	if (pe && wdt_pe_codeview(pe, &cv, err) == 0) {
		*out = *cv;
		out->pdb_name = out->pdb_path + (cv->pdb_name - cv->pdb_path);
		rc = 0;
	}
	wdt_pe_close(pe);
	wdt_source_close(src);
	return rc;
}

int main(int argc, char **argv)
{
	struct wdt_err err = {0};
	struct wdt_pe_codeview cv = {0};
	struct wdt_pdb *pdb;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: see tools/symtest.c\n");
		return 2;
	}
	if (strcmp(argv[1], "rsds") == 0) {
		char g[33];

		if (rsds(argv[2], &cv, &err) < 0)
			return die(&err);
		wdt_pe_guid_hex(cv.guid, g);
		printf("%s %s %" PRIu32 "\n", cv.pdb_name, g, cv.age);
		return 0;
	}
	if (strcmp(argv[1], "find") == 0 && argc >= 4) {
		struct wdt_symopts o;
		char *path;

		if (rsds(argv[3], &cv, &err) < 0)
			return die(&err);
		wdt_symopts_init(&o);
		o.symbol_path = argv[2];
		o.offline = argc > 4 && strcmp(argv[4], "offline") == 0;
		if (wdt_symstore_find(&o, cv.pdb_name, cv.guid, cv.age, &path,
				      &err) < 0)
			return die(&err);
		printf("%s\n", path);
		free(path);
		return 0;
	}
	pdb = wdt_pdb_open_file(argv[2], &err);
	if (!pdb)
		return die(&err);
	if (strcmp(argv[1], "sym") == 0) {
		for (int i = 3; i < argc && rc == 0; i++) {
			uint32_t rva;

			if (wdt_pdb_symbol_rva(pdb, argv[i], &rva, &err) != 1)
				rc = die(&err);
			else
				printf("%s 0x%" PRIx32 "\n", argv[i], rva);
		}
	} else if (strcmp(argv[1], "size") == 0 && argc == 4) {
		uint64_t size;

		if (wdt_pdb_struct_size(pdb, argv[3], &size, &err) != 1)
			rc = die(&err);
		else
			printf("%s %" PRIu64 "\n", argv[3], size);
	} else if (strcmp(argv[1], "member") == 0 && argc == 5) {
		struct wdt_pdb_member m;

		if (wdt_pdb_member(pdb, argv[3], argv[4], &m, &err) != 1)
			rc = die(&err);
		else
			printf("%s.%s %" PRIu64 "\n", argv[3], argv[4],
			       m.offset);
	} else {
		fprintf(stderr, "symtest: bad command\n");
		rc = 2;
	}
	wdt_pdb_close(pdb);
	return rc;
}
