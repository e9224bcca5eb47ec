/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the PDB reader over an in-memory source: directory, info,
 * DBI, publics, and type queries (sizes, members, paths through nested
 * and anonymous members).
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/source.h"
#include "symbols/pdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {"_S",   "_T",     "_A",   "_B",
					    "_FWD", "_OUTER", "_NODE"};
	static const char *const paths[] = {"m",  "a",	     "fwd.q", "inner.b",
					    "hi", "later.q", "x.y.z"};
	static const uint8_t g[16];
	struct wdt_err err;
	struct wdt_source *src = wdt_source_open_mem(data, size, "fuzz", &err);
	struct wdt_pdb *pdb;
	const struct wdt_pdb_public *v;
	struct wdt_pdb_member m;
	uint64_t sz;
	uint32_t rva;
	size_t n;

	if (!src)
		return 0;
	pdb = wdt_pdb_open(src, &err);
	if (pdb) {
		wdt_pdb_check_match(pdb, g, 1, false, &err);
		if (wdt_pdb_publics(pdb, &v, &n, &err) == 0 && n)
			wdt_pdb_symbol_rva(pdb, v[n - 1].name, &rva, &err);
		wdt_pdb_symbol_rva(pdb, "PsLoadedModuleList", &rva, &err);
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			wdt_pdb_struct_size(pdb, types[i], &sz, &err);
			for (size_t j = 0; j < sizeof(paths) / sizeof(paths[0]);
			     j++)
				wdt_pdb_member(pdb, types[i], paths[j], &m,
					       &err);
		}
		wdt_pdb_close(pdb);
	}
	wdt_source_close(src);
	return 0;
}
