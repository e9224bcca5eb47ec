/* SPDX-License-Identifier: MIT */
#include "cmd/image_opts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "formats/registry.h"

struct wdt_image *wdt_cmd_open_image(struct wdt_ctx *ctx, int fmt_id)
{
	const char *path = ctx->args[0];
	const char *ratio = wdt_ctx_opt(ctx, WDT_OPT_MAX_RATIO);
	struct wdt_open_opts o = {wdt_ctx_opt(ctx, fmt_id),
				  WDT_MAX_RATIO_DEFAULT};
	struct wdt_image *img;

	if (ratio &&
	    wdt_ctx_parse_u64(ctx, ratio, "--max-ratio", &o.max_ratio) < 0)
		return NULL;
	img = wdt_image_open_opts(path, &o, &ctx->err);
	if (!img)
		wdt_ctx_fail(ctx, path);
	return img;
}

void wdt_cmd_list_formats(struct wdt_ctx *ctx)
{
	wdt_out_arr_begin(ctx->out, "formats", "Formats");
	for (size_t i = 0; wdt_formats[i]; i++) {
		wdt_out_obj_begin(ctx->out, NULL, NULL);
		wdt_out_str(ctx->out, "name", "Name", wdt_formats[i]->name);
		wdt_out_str(ctx->out, "summary", "Description",
			    wdt_formats[i]->summary);
		wdt_out_obj_end(ctx->out);
	}
	wdt_out_arr_end(ctx->out);
}

int wdt_ctx_parse_u64(struct wdt_ctx *ctx, const char *s, const char *what,
		      uint64_t *v)
{
	char buf[64], *end;
	size_t o = 0;
	bool windbg = false;

	for (const char *p = s; *p && o + 1 < sizeof(buf); p++) {
		if (*p == '`')
			windbg = true;
		else
			buf[o++] = *p;
	}
	buf[o] = '\0';
	errno = 0;
	/* WinDbg prints addresses in hex without a prefix. */
	*v = strtoull(buf, &end, windbg ? 16 : 0);
	if (errno || end == buf || *end || buf[0] == '-' || strlen(s) >= 64)
		return wdt_err_set(&ctx->err, WDT_USAGE,
				   "%s '%s' is not a number (decimal or 0x…)",
				   what, s);
	return 0;
}
