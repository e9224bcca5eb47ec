/* SPDX-License-Identifier: MIT */
/* wdt read: bytes of guest physical memory, as a hex dump or raw. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/image_opts.h"
#include "core/image.h"

enum { OPT_FORMAT = 1, OPT_RAW };

#define READ_MAX (64u << 20) /* one call; use a loop for more */
#define RAW_CHUNK (1u << 20)

static const struct wdt_opt read_opts[] = {
    WDT_OPT_FORMAT_ENTRY(OPT_FORMAT),
    WDT_OPT_MAX_RATIO_ENTRY,
    {"raw", 0, NULL, "write the bytes themselves to standard output", OPT_RAW},
    {0},
};

static void hexdump(struct wdt_out *o, uint64_t pa, const uint8_t *b, size_t n)
{
	wdt_out_arr_begin(o, "lines", "Bytes");
	for (size_t i = 0; i < n; i += 16) {
		char hex[16 * 3 + 1] = "", asc[17] = "";
		size_t k = n - i < 16 ? n - i : 16;
		for (size_t j = 0; j < k; j++) {
			snprintf(hex + 3 * j, 4, "%02x ", b[i + j]);
			asc[j] = b[i + j] >= 0x20 && b[i + j] < 0x7f
				     ? (char)b[i + j]
				     : '.';
		}
		asc[k] = '\0';
		hex[3 * k - 1] = '\0';
		wdt_out_obj_begin(o, NULL, NULL);
		wdt_out_addr(o, "address", "Address", pa + i);
		wdt_out_str(o, "hex", "Hex", hex);
		wdt_out_str(o, "ascii", "ASCII", asc);
		wdt_out_obj_end(o);
	}
	wdt_out_arr_end(o);
}

static int read_run(struct wdt_ctx *ctx)
{
	uint64_t pa, len = 256;
	struct wdt_image *img;
	uint8_t *buf;
	int rc = -1;

	if (wdt_ctx_parse_u64(ctx, ctx->args[1], "ADDRESS", &pa) < 0)
		return -1;
	if (ctx->nargs > 2 &&
	    wdt_ctx_parse_u64(ctx, ctx->args[2], "LENGTH", &len) < 0)
		return -1;
	if (len == 0 || len > READ_MAX)
		return wdt_err_set(&ctx->err, WDT_USAGE,
				   "LENGTH must be 1 to %u bytes", READ_MAX);
	if (wdt_ctx_flag(ctx, OPT_RAW) && ctx->json)
		return wdt_err_set(&ctx->err, WDT_USAGE,
				   "--raw and --json exclude each other");
	img = wdt_cmd_open_image(ctx, OPT_FORMAT);
	if (!img)
		return -1;
	/* --raw streams in chunks: memory does not grow with LENGTH. */
	size_t chunk = wdt_ctx_flag(ctx, OPT_RAW) && len > RAW_CHUNK
			   ? RAW_CHUNK
			   : (size_t)len;
	buf = malloc(chunk);
	if (!buf) {
		wdt_err_nomem(&ctx->err);
		goto out;
	}
	for (uint64_t done = 0; done < len; done += chunk) {
		size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
		if (wdt_image_read_phys(img, pa + done, buf, n, &ctx->err) <
		    0) {
			wdt_ctx_fail(ctx, ctx->args[0]);
			goto out;
		}
		if (!wdt_ctx_flag(ctx, OPT_RAW))
			break; /* one chunk holds all of a hex dump */
		if (fwrite(buf, 1, n, stdout) != n) {
			wdt_err_set(&ctx->err, WDT_OUTPUT,
				    "writing to standard output: %s",
				    strerror(errno));
			goto out;
		}
	}
	if (!wdt_ctx_flag(ctx, OPT_RAW)) {
		wdt_out_addr(ctx->out, "address", "Address", pa);
		wdt_out_u64(ctx->out, "length", "Length", len);
		hexdump(ctx->out, pa, buf, len);
	}
	rc = 0;
out:
	free(buf);
	wdt_image_close(img);
	return rc;
}

const struct wdt_cmd wdt_cmd_read = {
    .name = "read",
    .summary = "print bytes of guest physical memory from an image",
    .usage = "IMAGE ADDRESS [LENGTH]",
    .description =
	"Reads LENGTH bytes (default 256) of guest physical memory at "
	"ADDRESS (decimal\nor 0x-prefixed hex) and prints a hex dump, or "
	"the bytes themselves with --raw.\nA range that is not wholly in "
	"the image is an error naming the first missing\naddress; "
	"nothing is padded with zeros.",
    .opts = read_opts,
    .examples = "  $ wdt read guest.elf 0x1000 64\n"
		"  $ wdt read --raw guest.elf 0x100000 4096 > page.bin\n",
    .min_args = 2,
    .max_args = 3,
    .run = read_run,
};
