/* SPDX-License-Identifier: MIT */
#include "cmd/image_opts.h"

#include "formats/registry.h"

struct wdt_image *wdt_cmd_open_image(struct wdt_ctx *ctx, int fmt_id)
{
	const char *path = ctx->args[0];
	struct wdt_image *img =
		wdt_image_open(path, wdt_ctx_opt(ctx, fmt_id), &ctx->err);

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
