/* SPDX-License-Identifier: MIT */
/*
 * Compressed symbol files: a store's "file.pd_" is a Microsoft Cabinet
 * ("MSCF") holding the PDB, MSZIP- or LZX-compressed
 * (../shared/spec/pe-and-symbols.md §9). Expanded with libmspack, whose
 * file I/O goes through our own mspack_system: plain descriptors, no
 * messages on stderr, and a size cap on what is written.
 */
#ifndef WDT_SYMBOLS_CAB_H
#define WDT_SYMBOLS_CAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* True when buf starts with the cabinet signature "MSCF". */
bool wdt_cab_probe(const uint8_t *buf, size_t len);

/*
 * Expand the file named want (case-insensitive; else the cabinet's only
 * file) from the cabinet at cab_path, writing it to out_fd from its
 * current offset. Files declaring more than max_bytes are refused before
 * anything is written. Errors: CORRUPT for a bad or truncated cabinet or
 * a decompression failure, NOT_FOUND when want is not in it, UNSUPPORTED
 * for a file larger than max_bytes, IO/OUTPUT for read/write failures.
 */
int wdt_cab_expand(const char *cab_path, const char *want, int out_fd,
		   uint64_t max_bytes, struct wdt_err *err);

#endif
