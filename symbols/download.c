/* SPDX-License-Identifier: MIT */
/* libcurl downloads for the symbol store (see download.h). */
#include "symbols/download.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef WDT_VERSION
#define WDT_VERSION "unknown"
#endif

struct xfer {
	int fd;
	uint64_t got;
	uint64_t cap;
	bool over_cap;
	int write_errno;
	const char *label;
	bool progress;
	time_t last_draw;
	bool drew;
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

/*
 * Progress goes to stderr, and only when it is a terminal (STYLE.md:
 * stdout carries results only); callers opt in with opts->progress.
 */
static int on_progress(void *ctx, curl_off_t total, curl_off_t now,
		       curl_off_t ut, curl_off_t un)
{
	struct xfer *x = ctx;
	time_t t = time(NULL);

	(void)ut;
	(void)un;
	if (!x->progress || (t == x->last_draw && now != total))
		return 0;
	x->last_draw = t;
	x->drew = true;
	if (total > 0)
		fprintf(stderr, "\rwdt: downloading %s: %3d%% (%.1f of %.1f MiB)",
			x->label, (int)(now * 100 / total), now / 1048576.0,
			total / 1048576.0);
	else
		fprintf(stderr, "\rwdt: downloading %s: %.1f MiB", x->label,
			now / 1048576.0);
	return 0;
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
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static CURL *make_handle(const struct wdt_symopts *o, const char *url,
			 struct xfer *x, char *errbuf)
{
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, o->timeout_s);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_bytes);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
			 (curl_off_t)(o->max_bytes > INT64_MAX ? INT64_MAX
							       : o->max_bytes));
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

/* One attempt. 1 = retry may help, 0 = done (ok or final), sets *ok. */
static int attempt(const struct wdt_symopts *o, const char *url,
		   struct xfer *x, bool *ok, struct wdt_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *h = make_handle(o, url, x, errbuf);
	CURLcode rc;
	long code = 0;
	int again = 0;

	*ok = false;
	if (!h) {
		wdt_err_set(err, WDT_NOMEM, "%s: cannot create a curl handle",
			    url);
		return 0;
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	if (x->drew) {
		fputc('\n', stderr);
		x->drew = false;
	}
	if (x->over_cap || rc == CURLE_FILESIZE_EXCEEDED) {
		wdt_err_set(err, WDT_NETWORK,
			    "%s: larger than the %" PRIu64 "-byte limit", url,
			    x->cap);
	} else if (x->write_errno) {
		wdt_err_errno(err, x->write_errno, "%s: writing download",
			      url);
	} else if (rc != CURLE_OK) {
		wdt_err_set(err, WDT_NETWORK, "%s: %s", url,
			    errbuf[0] ? errbuf : curl_easy_strerror(rc));
		again = transient_curl(rc);
	} else if (code == 200) {
		*ok = true;
	} else if (code == 404 || code == 410) {
		wdt_err_set(err, WDT_NOT_FOUND, "%s: HTTP %ld (not on the "
			    "server)", url, code);
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

	pthread_once(&curl_once, init_curl);
	if (curl_init_rc != CURLE_OK)
		return wdt_err_set(err, WDT_NETWORK, "libcurl init: %s",
				   curl_easy_strerror(curl_init_rc));
	for (int i = 0;; i++) {
		bool ok;
		int again;

		memset(&x, 0, sizeof(x));
		x.fd = fd;
		x.cap = o->max_bytes;
		x.label = label;
		x.progress = o->progress && isatty(STDERR_FILENO);
		if (rewind_fd(fd, err) < 0)
			return -1;
		again = attempt(o, url, &x, &ok, err);
		if (ok)
			return 0;
		if (!again || i >= o->retries)
			return -1;
		sleep_ms(delay);
		if (delay < 60000)
			delay *= 2;
	}
}
