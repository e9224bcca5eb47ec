/* SPDX-License-Identifier: MIT */
/*
 * A small read-only JSON parser (RFC 8259) for documents wdt reads, such
 * as the VM description QEMU appends to a migration stream. Bounded: depth
 * at most WDT_JSON_MAX_DEPTH, at most max_nodes values; memory is
 * proportional to the input (one node array, one string pool).
 */
#ifndef WDT_CORE_JSON_H
#define WDT_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define WDT_JSON_MAX_DEPTH 64
#define WDT_JSON_DEFAULT_NODES 1000000u

enum wdt_json_type {
	WDT_JSON_NULL,
	WDT_JSON_BOOL,
	WDT_JSON_NUMBER,
	WDT_JSON_STRING,
	WDT_JSON_ARRAY,
	WDT_JSON_OBJECT
};

struct wdt_json;

/*
 * Parse exactly one value (whitespace around it allowed). Errors name the
 * byte offset: CORRUPT for bad syntax, a string holding \u0000, depth
 * beyond WDT_JSON_MAX_DEPTH; UNSUPPORTED beyond max_nodes (0: default).
 */
struct wdt_json *wdt_json_parse(const char *text, size_t len, size_t max_nodes,
				struct wdt_err *err);
void wdt_json_free(struct wdt_json *j); /* NULL is fine */

/* Accessors: NULL or the wrong type give NULL / 0 / false. */
enum wdt_json_type wdt_json_type(const struct wdt_json *j);
const struct wdt_json *wdt_json_get(const struct wdt_json *obj,
				    const char *key);
size_t wdt_json_len(const struct wdt_json *j);
const struct wdt_json *wdt_json_at(const struct wdt_json *j, size_t i);
const char *wdt_json_key(const struct wdt_json *obj, size_t i);
const char *wdt_json_str(const struct wdt_json *j);
/* A non-negative integer without fraction or exponent that fits. */
bool wdt_json_u64(const struct wdt_json *j, uint64_t *v);
bool wdt_json_bool(const struct wdt_json *j, bool *v);

#endif
