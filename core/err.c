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
#define WDT_X_INFO(e, n, code, d) [WDT_##e] = { n, d, code },
	WDT_STATUS_LIST(WDT_X_INFO)
#undef WDT_X_INFO
};

void wdt_err_clear(struct wdt_err *err)
{
	if (!err)
		return;
	err->status = WDT_OK;
	err->msg[0] = '\0';
}

int wdt_err_vset(struct wdt_err *err, enum wdt_status st, const char *fmt,
		 va_list ap)
{
	if (!err)
		return -1;
	err->status = st;
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
	char old[WDT_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	char both[2 * WDT_ERR_MSG_MAX + 2];
	if (old[0])
		snprintf(both, sizeof(both), "%s: %s", ctx, old);
	else
		snprintf(both, sizeof(both), "%s", ctx);
	/* Keep the innermost detail's start readable; cut at the end. */
	memcpy(err->msg, both, sizeof(err->msg) - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
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
