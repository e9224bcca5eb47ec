/* SPDX-License-Identifier: MIT */
/*
 * One emitter for human text and JSON, fed by the same calls. Commands build
 * a small document tree, then render it once: text (labels aligned, arrays of
 * objects as tables) or JSON (one object; addresses as "0x…" strings).
 * Every text value is escaped (see wdt_text_string): no byte of a string
 * can reach the terminal as a control or start a new line.
 * Allocation failures are remembered and reported by wdt_out_render().
 */
#ifndef WDT_CORE_OUT_H
#define WDT_CORE_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

struct wdt_out;

/* json: render as JSON; otherwise text. Returns NULL on allocation failure. */
struct wdt_out *wdt_out_new(bool json);
void wdt_out_free(struct wdt_out *o);
bool wdt_out_is_json(const struct wdt_out *o);

/*
 * key: JSON member name (ignored inside arrays, may be NULL there).
 * label: human label for text output (NULL: derived from key).
 */
void wdt_out_obj_begin(struct wdt_out *o, const char *key, const char *label);
void wdt_out_obj_end(struct wdt_out *o);
void wdt_out_arr_begin(struct wdt_out *o, const char *key, const char *label);
void wdt_out_arr_end(struct wdt_out *o);

void wdt_out_str(struct wdt_out *o, const char *key, const char *label,
		 const char *s);
void wdt_out_u64(struct wdt_out *o, const char *key, const char *label,
		 uint64_t v);
void wdt_out_i64(struct wdt_out *o, const char *key, const char *label,
		 int64_t v);
void wdt_out_bool(struct wdt_out *o, const char *key, const char *label,
		  bool v);
/* A 64-bit address: "0x%016llx" in both forms (JSON string). */
void wdt_out_addr(struct wdt_out *o, const char *key, const char *label,
		  uint64_t v);
/* A hex value without padding: "0x1f" (JSON string). */
void wdt_out_hex(struct wdt_out *o, const char *key, const char *label,
		 uint64_t v);
/*
 * A size or count the format's documents give in hex (SizeOfImage,
 * Header.Size, PageCount): a JSON number, "0x1f" in text.
 */
void wdt_out_u64_hex(struct wdt_out *o, const char *key, const char *label,
		     uint64_t v);
/* A byte count: JSON number; text "4294967296 (4.0 GiB)". */
void wdt_out_size(struct wdt_out *o, const char *key, const char *label,
		  uint64_t bytes);
void wdt_out_null(struct wdt_out *o, const char *key, const char *label);

/* Render the document; checks for write errors. Status OUTPUT on failure. */
int wdt_out_render(struct wdt_out *o, FILE *f, struct wdt_err *err);

/*
 * Escaping of untrusted strings (names from images, file names, server
 * text). Text values given to the emitter are escaped by it; these are for
 * lines printed outside it (errors, warnings on stderr).
 *
 * Both forms keep printable ASCII and valid UTF-8 as they are and escape
 * C0 controls, DEL and C1 controls (U+0080..U+009F): "\n", "\t", "\r",
 * otherwise JSON "\u001b" and text "\x1b" (C1: "\u0085"). A byte that
 * starts no valid UTF-8 sequence (overlong forms, surrogates, > U+10FFFF
 * included) becomes "\ufffd" in JSON and "\xff" (its value) in text.
 * Text does not escape the backslash: Windows paths stay readable, so
 * "\x1b" in text may also be those four characters in the input.
 */
/* Write s as a JSON string literal (quoted; '"' and '\' escaped too). */
void wdt_json_string(FILE *f, const char *s);
/* Write s with controls and bad UTF-8 escaped for a terminal. */
void wdt_text_string(FILE *f, const char *s);
/* The same as a string the caller frees; NULL when out of memory. */
char *wdt_text_escape(const char *s);

#endif
