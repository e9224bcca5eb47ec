/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: kernel discovery, KDBG search and crash-header building over
 * hostile guest memory (the input is a raw physical image): page tables,
 * start blocks, PE headers and KDBG candidates all come from the input.
 */
#include "fuzz_image.h"
#include "symbols/bugcheck.h"
#include "symbols/crashhdr.h"
#include "symbols/kdbg.h"
#include "symbols/kernel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wdt_image *img = fuzz_open_image(data, size, "raw");
	struct wdt_kernel k;
	struct wdt_kdbg d;
	struct wdt_crash c;
	struct wdt_bugcheck b;
	struct wdt_crash_opts o = { .comment = "fuzz" };
	struct wdt_err err;

	if (!img)
		return 0;
	if (wdt_kernel_find(img, NULL, &k, &err) == 0) {
		if (wdt_kdbg_find(&k, NULL, &d, &err) == 0) {
			if (wdt_bugcheck_find(&k, &d, NULL, &b, &err) == 0) {
				wdt_crash_build(&k, &d, &b, &o, &c, &err);
				wdt_crash_free(&c);
			}
			wdt_bugcheck_free(&b);
		}
		wdt_kdbg_free(&d);
	}
	wdt_kernel_free(&k);
	wdt_image_close(img);
	return 0;
}
