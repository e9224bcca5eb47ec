/* SPDX-License-Identifier: MIT */
#include "core/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	const char *desc;
	int exit_code;
} status_info[WDT_STATUS_COUNT] = {
#define WDT_X_INFO(e, n, code, d) [WDT_##e] = {n, d, code},
    WDT_STATUS_LIST(WDT_X_INFO)
#undef WDT_X_INFO
};

void wdt_err_clear(struct wdt_err *err)
{
	if (!err)
		return;
	err->status = WDT_OK;
	err->remedy = WDT_REMEDY_NONE;
	err->msg[0] = '\0';
}

int wdt_err_vset(struct wdt_err *err, enum wdt_status st, const char *fmt,
		 va_list ap)
{
	if (!err)
		return -1;
	err->status = st;
	err->remedy = WDT_REMEDY_NONE;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -1;
}

int wdt_err_set(struct wdt_err *err, enum wdt_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wdt_err_vset(err, st, fmt, ap);
	va_end(ap);
	return -1;
}

int wdt_err_prefix(struct wdt_err *err, const char *fmt, ...)
{
	char ctx[WDT_ERR_MSG_MAX];
	size_t cl, ol, room = sizeof(err->msg) - 1;
	va_list ap;
	int n;

	if (!err)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	cl = n < 0 ? 0 : (size_t)n < sizeof(ctx) ? (size_t)n : sizeof(ctx) - 1;
	ol = strlen(err->msg);
	if (!ol) {
		memcpy(err->msg, ctx, cl + 1);
	} else if (cl + 2 >= room) {
		cl = cl < room ? cl : room;
		memcpy(err->msg, ctx, cl);
		err->msg[cl] = '\0';
	} else {
		/* "ctx: old": keep the innermost detail's start readable and
		 * cut at the end when the whole cannot fit. */
		size_t keep = ol < room - cl - 2 ? ol : room - cl - 2;

		memmove(err->msg + cl + 2, err->msg, keep);
		err->msg[cl + 2 + keep] = '\0';
		memcpy(err->msg, ctx, cl);
		memcpy(err->msg + cl, ": ", 2);
	}
	if (err->status == WDT_OK)
		err->status = WDT_INTERNAL;
	return -1;
}

int wdt_err_errno(struct wdt_err *err, int errnum, const char *fmt, ...)
{
	char what[WDT_ERR_MSG_MAX / 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return wdt_err_set(err, errnum == ENOMEM ? WDT_NOMEM : WDT_IO, "%s: %s",
			   what, strerror(errnum));
}

int wdt_err_remedy(struct wdt_err *err, enum wdt_remedy r)
{
	if (err && (unsigned)r < WDT_REMEDY_COUNT)
		err->remedy = r;
	return -1;
}

int wdt_err_nomem(struct wdt_err *err)
{
	return wdt_err_set(err, WDT_NOMEM, "out of memory");
}

const char *wdt_status_name(enum wdt_status st)
{
	if ((unsigned)st >= WDT_STATUS_COUNT)
		return "internal";
	return status_info[st].name;
}

const char *wdt_status_desc(enum wdt_status st)
{
	if ((unsigned)st >= WDT_STATUS_COUNT)
		return "internal error";
	return status_info[st].desc;
}

int wdt_status_exit(enum wdt_status st)
{
	if ((unsigned)st >= WDT_STATUS_COUNT)
		return 70;
	return status_info[st].exit_code;
}
