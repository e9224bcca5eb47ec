/* SPDX-License-Identifier: MIT */
/*
 * HTTP(S) downloads with libcurl for the symbol store: certificate checks
 * on, redirects followed (never from https to http), a connect timeout, a
 * low-speed limit, one time limit for all attempts, retries with back-off
 * on transient failures (5xx, 429, resets, timeouts) but not on 404, proxy
 * from the environment, a size cap, and core/progress.c's line on stderr
 * only when it is a terminal and the caller asked for one.
 */
#ifndef WDT_SYMBOLS_DOWNLOAD_H
#define WDT_SYMBOLS_DOWNLOAD_H

#include <stdint.h>

#include "core/err.h"
#include "symbols/symstore.h"

/*
 * The protocols a redirect from url may lead to (CURLOPT_REDIR_PROTOCOLS_STR):
 * "https" when url's scheme is https (any case; "https:" with any
 * number of slashes counts: the safe side), so a download never drops
 * from https to plain http; "http,https" for anything else (an http URL may be
 * sent on to https; CURLOPT_PROTOCOLS_STR refuses other schemes). Pure: looks
 * at the scheme only.
 */
const char *wdt_download_redirect_protocols(const char *url);

/*
 * GET url into fd (truncated first and before each retry). Returns 0 on
 * HTTP 200; -1 otherwise: status NOT_FOUND for 404/410 (message "URL:
 * HTTP 404 ..."), NETWORK for anything else, the message naming the URL
 * and the HTTP status or curl's error. All attempts end by
 * opts->deadline_ms, or timeout_s from the call when that is 0. label
 * names the file for progress.
 */
int wdt_download(const struct wdt_symopts *opts, const char *url, int fd,
		 const char *label, struct wdt_err *err);

#endif
