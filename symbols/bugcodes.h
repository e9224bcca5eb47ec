/* SPDX-License-Identifier: MIT */
/*
 * Windows bugcheck (stop) codes for triage: the SDK name of each code, what
 * its four parameters mean, and which parameter, if any, holds the address
 * of the code at fault. Facts are from Microsoft's "Bug check code
 * reference" (names as bugcodes.h spells them); the wording is ours.
 */
#ifndef WDT_SYMBOLS_BUGCODES_H
#define WDT_SYMBOLS_BUGCODES_H

#include <stddef.h>
#include <stdint.h>

/* Where a bugcheck's parameters name the faulting code. */
enum wdt_blame {
	WDT_BLAME_NONE = 0, /* no parameter holds a code address */
	/* That parameter is the address of the faulting instruction or
	 * routine. */
	WDT_BLAME_P1,
	WDT_BLAME_P2,
	WDT_BLAME_P3,
	WDT_BLAME_P4,
};

struct wdt_bugcode {
	uint32_t code;
	const char *name;     /* e.g. "DRIVER_IRQL_NOT_LESS_OR_EQUAL" */
	const char *summary;  /* one short sentence */
	const char *param[4]; /* meaning of P1..P4 ("reserved", "unused") */
	enum wdt_blame blame;
};

/*
 * The entry for code, or NULL if the table does not know it. The entry is
 * static; never free it.
 */
const struct wdt_bugcode *wdt_bugcode_find(uint32_t code);

/* Every entry, sorted by code (for docs and tests); *n gets the count. */
const struct wdt_bugcode *wdt_bugcode_table(size_t *n);

/*
 * The parameter index 0..3 holding the blamed code address for this code
 * and these parameters, or -1. Handles the codes whose blamed parameter
 * depends on another parameter (a subtype in P1); a parameter that is 0 is
 * never a code address. params may be NULL (then -1).
 */
int wdt_bugcode_blame_param(uint32_t code, const uint64_t params[4]);

#endif
