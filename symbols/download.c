/* SPDX-License-Identifier: MIT */
/* libcurl downloads for the symbol store (see download.h). */
#include "symbols/download.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/progress.h"

#ifndef WDT_VERSION
#define WDT_VERSION "unknown"
#endif

struct xfer {
	int fd;
	uint64_t got;
	uint64_t cap;
	bool over_cap;
	int write_errno;
	bool timed_out; /* the low-speed limit or the deadline hit */
	struct wdt_progress *progress; /* NULL: none (not a terminal, -q) */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_data(char *p, size_t sz, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	size_t len = sz * n, done = 0;

	if (x->got + len > x->cap) {
		x->over_cap = true;
		return 0; /* aborts with CURLE_WRITE_ERROR */
	}
	while (done < len) {
		ssize_t w = write(x->fd, p + done, len - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			x->write_errno = errno;
			return 0;
		}
		done += (size_t)w;
	}
	x->got += len;
	return len;
}

/* The caller's progress line (symopts.progress). */
static int on_progress(void *ctx, curl_off_t total, curl_off_t now,
		       curl_off_t ut, curl_off_t un)
{
	struct xfer *x = ctx;

	(void)ut;
	(void)un;
	/* Until the headers give the size (or without one) the total is
	 * what has arrived. */
	wdt_progress_set_total(x->progress,
			       (uint64_t)(total > now ? total : now));
	wdt_progress_update(x->progress, (uint64_t)now);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool transient_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

const char *wdt_download_redirect_protocols(const char *url)
{
	/* Never from https down to plain http. */
	return strncasecmp(url, "https:", 6) == 0 ? "https" : "http,https";
}

static CURL *make_handle(const struct wdt_symopts *o, const char *url,
			 struct xfer *x, int64_t left_ms, char *errbuf)
{
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR,
			 wdt_download_redirect_protocols(url));
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
			 (long)(left_ms > 0 ? left_ms : 0));
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_bytes);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
	curl_easy_setopt(
	    h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)(o->max_bytes > INT64_MAX ? INT64_MAX : o->max_bytes));
	curl_easy_setopt(h, CURLOPT_USERAGENT, "wdt/" WDT_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if (x->progress) {
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	}
	return h;
}

static int rewind_fd(int fd, struct wdt_err *err)
{
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return wdt_err_errno(err, errno, "truncating download file");
	return 0;
}

/*
 * One attempt with left_ms of the time limit left (0: no limit). 1 =
 * retry may help, 0 = done (ok or final), sets *ok.
 */
static int attempt(const struct wdt_symopts *o, const char *url, struct xfer *x,
		   int64_t left_ms, bool *ok, struct wdt_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *h = make_handle(o, url, x, left_ms, errbuf);
	CURLcode rc;
	long code = 0;
	int again = 0;
	int64_t start = now_ms();

	*ok = false;
	if (!h) {
		wdt_progress_abort(x->progress);
		x->progress = NULL;
		wdt_err_set(err, WDT_NOMEM, "%s: cannot create a curl handle",
			    url);
		return 0;
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	if (rc == CURLE_OK && code == 200 && !x->over_cap && !x->write_errno)
		wdt_progress_finish(x->progress);
	else
		wdt_progress_abort(x->progress);
	x->progress = NULL;
	if (x->over_cap || rc == CURLE_FILESIZE_EXCEEDED) {
		wdt_err_set(err, WDT_NETWORK,
			    "%s: larger than the %" PRIu64 "-byte limit", url,
			    x->cap);
	} else if (x->write_errno) {
		wdt_err_errno(err, x->write_errno, "%s: writing download", url);
	} else if (rc == CURLE_OPERATION_TIMEDOUT && left_ms > 0 &&
		   now_ms() - start >= left_ms - 100) {
		wdt_err_set(
		    err, WDT_NETWORK,
		    "%s: timed out: no complete answer within the %ld s "
		    "download time limit (%s)",
		    url, o->timeout_s,
		    errbuf[0] ? errbuf : curl_easy_strerror(rc));
		wdt_err_remedy(err, WDT_REMEDY_SYMBOL_TIMEOUT);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		wdt_err_set(err, WDT_NETWORK, "%s: timed out (%s)", url,
			    errbuf[0] ? errbuf : curl_easy_strerror(rc));
		x->timed_out = true;
		again = 1;
	} else if (rc != CURLE_OK) {
		wdt_err_set(err, WDT_NETWORK, "%s: %s", url,
			    errbuf[0] ? errbuf : curl_easy_strerror(rc));
		again = transient_curl(rc);
	} else if (code == 200) {
		*ok = true;
	} else if (code == 404 || code == 410) {
		wdt_err_set(err, WDT_NOT_FOUND,
			    "%s: HTTP %ld (not on the "
			    "server)",
			    url, code);
	} else {
		wdt_err_set(err, WDT_NETWORK, "%s: HTTP %ld", url, code);
		again = code >= 500 || code == 429 || code == 408;
	}
	return again;
}

int wdt_download(const struct wdt_symopts *o, const char *url, int fd,
		 const char *label, struct wdt_err *err)
{
	struct xfer x;
	long delay = o->retry_delay_ms;
	int64_t deadline = o->deadline_ms;
	char what[WDT_SYMSTORE_NAME_MAX + 16];

	pthread_once(&curl_once, init_curl);
	if (curl_init_rc != CURLE_OK)
		return wdt_err_set(err, WDT_NETWORK, "libcurl init: %s",
				   curl_easy_strerror(curl_init_rc));
	if (!deadline && o->timeout_s > 0)
		deadline = now_ms() + (int64_t)o->timeout_s * 1000;
	snprintf(what, sizeof(what), "downloading %s", label);
	/* A server too slow once is likely too slow again: one more try
	 * after a timeout, not o->retries (each may cost the low-speed
	 * window). */
	int timeouts = 0;

	for (int i = 0;; i++) {
		int64_t left = deadline ? deadline - now_ms() : 0;
		bool ok;
		int again;

		if (deadline && left <= 0) {
			if (i == 0) {
				wdt_err_set(err, WDT_NETWORK,
					    "%s: not tried: the %ld s download "
					    "time limit was spent",
					    url, o->timeout_s);
				wdt_err_remedy(err, WDT_REMEDY_SYMBOL_TIMEOUT);
			}
			return -1;
		}
		memset(&x, 0, sizeof(x));
		x.fd = fd;
		x.cap = o->max_bytes;
		if (rewind_fd(fd, err) < 0)
			return -1;
		x.progress = o->progress ? o->progress(what) : NULL;
		again = attempt(o, url, &x, left, &ok, err);
		if (ok)
			return 0;
		if (i > 0)
			wdt_err_prefix(err, "attempt %d of %d", i + 1,
				       o->retries + 1);
		timeouts += x.timed_out;
		if (!again || i >= o->retries || timeouts > 1)
			return -1;
		if (deadline && deadline - now_ms() <= delay)
			return -1; /* no time left to wait and try again */
		sleep_ms(delay);
		if (delay < 60000)
			delay *= 2;
	}
}
