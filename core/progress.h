/* SPDX-License-Identifier: MIT */
/*
 * A progress line on stderr, only when stderr is a terminal (STYLE.md:
 * stdout carries results only, progress goes to a terminal or nowhere):
 *
 *   "  42%  1.2 GiB/2.9 GiB  812 MB/s  ETA 0:03"
 *
 * redrawn in place at most 10 times a second and ended with a newline by
 * wdt_progress_finish(). One thread updates a given progress object.
 */
#ifndef WDT_CORE_PROGRESS_H
#define WDT_CORE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wdt_progress;

/*
 * A progress line for total bytes of work, drawn on stderr only when
 * enabled (false for -q) and stderr is a terminal. label (copied, may be
 * NULL) is printed before the figures. Returns NULL when nothing would be
 * drawn or memory is short; every function below accepts NULL.
 */
struct wdt_progress *wdt_progress_new(const char *label, uint64_t total,
				      bool enabled);

/* The same drawing to fd whether or not it is a terminal (tests). */
struct wdt_progress *wdt_progress_new_fd(int fd, const char *label,
					 uint64_t total);

/* Change the total (a writer knows the exact amount of work late). */
void wdt_progress_set_total(struct wdt_progress *p, uint64_t total);

/* done bytes of total are complete; redraws if 100 ms have passed. */
void wdt_progress_update(struct wdt_progress *p, uint64_t done);

/* Draw the final state, end the line with a newline, free p. */
void wdt_progress_finish(struct wdt_progress *p);

/* Erase the line (on error, before a message is printed) and free p. */
void wdt_progress_abort(struct wdt_progress *p);

/*
 * Pure formatting: the figures for done of total after elapsed seconds,
 * NUL-terminated in buf (truncated to n). Rate and ETA read "--" until
 * elapsed > 0 and done > 0. Returns strlen(buf).
 */
size_t wdt_progress_format(char *buf, size_t n, uint64_t done, uint64_t total,
			   double elapsed);

/* "1.2 GiB"-style size (B, KiB … EiB, one decimal above bytes). Pure. */
void wdt_progress_size(char *buf, size_t n, uint64_t bytes);

#endif
