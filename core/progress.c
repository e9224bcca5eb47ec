/* SPDX-License-Identifier: MIT */
/* Progress line on a terminal (see progress.h). */
#include "core/progress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 160
#define REDRAW_NS 100000000ll /* 10 per second at most */

struct wdt_progress {
	int fd;
	uint64_t total;
	uint64_t done;
	long long start_ns;
	long long last_ns;
	size_t last_len; /* visible length of the last line, for erasing */
	char label[64];
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

void wdt_progress_size(char *buf, size_t n, uint64_t bytes)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB",
					   "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, n, "%u B", (unsigned)bytes);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	/* 1023.96 KiB would print as "1024.0 KiB": move up a unit. */
	if (v >= 1023.95 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, n, "%.1f %s", v, unit[u]);
}

static void fmt_eta(char *buf, size_t n, double s)
{
	unsigned long long t;

	if (!(s < 100.0 * 3600)) { /* also NaN; and no overflowing cast */
		snprintf(buf, n, ">99h");
		return;
	}
	t = (unsigned long long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, n, "%llu:%02llu:%02llu", t / 3600, t / 60 % 60,
			 t % 60);
	else
		snprintf(buf, n, "%llu:%02llu", t / 60, t % 60);
}

size_t wdt_progress_format(char *buf, size_t n, uint64_t done, uint64_t total,
			   double elapsed)
{
	char d[24], t[24], rate[24], eta[24];
	unsigned pct;

	if (done > total)
		done = total;
	/* 100% only when complete: never round up to it. */
	pct = total ? (unsigned)((double)done / (double)total * 100.0) : 100;
	if (pct >= 100 && done < total)
		pct = 99;
	wdt_progress_size(d, sizeof(d), done);
	wdt_progress_size(t, sizeof(t), total);
	if (elapsed > 0 && done > 0) {
		double r = (double)done / elapsed; /* bytes per second */
		double mb = r / 1e6;
		/* A slow download reads "12.3 kB/s", not "0.0 MB/s". */
		if (mb < 1)
			snprintf(rate, sizeof(rate), "%.1f kB/s", r / 1e3);
		else
			snprintf(rate, sizeof(rate),
				 mb < 10 ? "%.1f MB/s" : "%.0f MB/s", mb);
		fmt_eta(eta, sizeof(eta), (double)(total - done) / r);
	} else {
		snprintf(rate, sizeof(rate), "-- MB/s");
		snprintf(eta, sizeof(eta), "--:--");
	}
	int k =
	    snprintf(buf, n, "%4u%%  %s/%s  %s  ETA %s", pct, d, t, rate, eta);
	if (k < 0)
		k = 0;
	return n == 0 ? 0 : (size_t)k < n ? (size_t)k : n - 1;
}

struct wdt_progress *wdt_progress_new_fd(int fd, const char *label,
					 uint64_t total)
{
	struct wdt_progress *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->fd = fd;
	p->total = total;
	p->start_ns = now_ns();
	p->last_ns = p->start_ns - REDRAW_NS;
	snprintf(p->label, sizeof(p->label), "%s", label ? label : "");
	return p;
}

struct wdt_progress *wdt_progress_new(const char *label, uint64_t total,
				      bool enabled)
{
	if (!enabled || !isatty(STDERR_FILENO))
		return NULL;
	return wdt_progress_new_fd(STDERR_FILENO, label, total);
}

static void put(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* progress is best effort */
		s += w;
		n -= (size_t)w;
	}
}

static void draw(struct wdt_progress *p, long long t)
{
	char fig[LINE_MAX_LEN], line[LINE_MAX_LEN + 80];
	size_t len;

	wdt_progress_format(fig, sizeof(fig), p->done, p->total,
			    (double)(t - p->start_ns) / 1e9);
	int k = snprintf(line, sizeof(line), "\r%s%s%s", p->label,
			 p->label[0] ? " " : "", fig);
	len = k < 0			 ? 0
	      : (size_t)k < sizeof(line) ? (size_t)k
					 : sizeof(line) - 1;
	/* Blank what is left of a longer previous line. */
	size_t vis = len - 1;
	while (vis < p->last_len && len < sizeof(line) - 1) {
		line[len++] = ' ';
		vis++;
	}
	p->last_len = vis;
	put(p->fd, line, len);
	p->last_ns = t;
}

void wdt_progress_set_total(struct wdt_progress *p, uint64_t total)
{
	if (p)
		p->total = total;
}

void wdt_progress_update(struct wdt_progress *p, uint64_t done)
{
	long long t;

	if (!p)
		return;
	p->done = done;
	t = now_ns();
	if (t - p->last_ns >= REDRAW_NS)
		draw(p, t);
}

void wdt_progress_finish(struct wdt_progress *p)
{
	if (!p)
		return;
	draw(p, now_ns());
	put(p->fd, "\n", 1);
	free(p);
}

void wdt_progress_abort(struct wdt_progress *p)
{
	char blank[LINE_MAX_LEN + 80];
	size_t n;

	if (!p)
		return;
	n = p->last_len + 2 < sizeof(blank) ? p->last_len : sizeof(blank) - 2;
	if (p->last_len) {
		blank[0] = '\r';
		memset(blank + 1, ' ', n);
		blank[n + 1] = '\r';
		put(p->fd, blank, n + 2);
	}
	free(p);
}
