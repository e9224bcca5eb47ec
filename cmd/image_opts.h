/* SPDX-License-Identifier: MIT */
/* Options and helpers shared by the commands that open an image. */
#ifndef WDT_CMD_IMAGE_OPTS_H
#define WDT_CMD_IMAGE_OPTS_H

#include "cmd/cmd.h"
#include "core/image.h"
#include "formats/registry.h"

#define WDT_OPT_FORMAT_ENTRY(id)                                               \
	{                                                                      \
		"format", 'f', "NAME",                                         \
		    "read IMAGE as format NAME instead of detecting it", (id)  \
	}

/*
 * --max-ratio, the decompression-bomb guard of compressed raw images;
 * id 120 is reserved for it (kernel options use 100..119).
 */
#define WDT_OPT_MAX_RATIO 120
#define WDT_OPT_STR_(x) #x
#define WDT_OPT_STR(x) WDT_OPT_STR_(x)
#define WDT_OPT_MAX_RATIO_ENTRY                                                \
	{                                                                      \
		"max-ratio", 0, "N",                                           \
		    "accept compressed images that decompress to up to N "     \
		    "times "                                                   \
		    "their size (default " WDT_OPT_STR(                        \
			WDT_MAX_RATIO_DEFAULT) "; 0: no limit)",               \
		    WDT_OPT_MAX_RATIO                                          \
	}

/* Open ctx->args[0] honouring --format (option id fmt_id), --max-ratio. */
struct wdt_image *wdt_cmd_open_image(struct wdt_ctx *ctx, int fmt_id);

/* The registry as output: name and summary of every format. */
void wdt_cmd_list_formats(struct wdt_ctx *ctx);

/*
 * Parse a number: decimal or 0x hex; WinDbg's 0xfffff803`37400000 form (a
 * backtick between the halves) is accepted. USAGE error naming what.
 */
int wdt_ctx_parse_u64(struct wdt_ctx *ctx, const char *s, const char *what,
		      uint64_t *v);

#endif
