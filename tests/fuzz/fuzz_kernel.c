/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: kernel discovery, KDBG search, bugcheck state, crash-header
 * building and triage (module list, thread, process, stack) over hostile
 * guest memory (the input is a raw physical image): page tables,
 * start blocks, PE headers and KDBG candidates all come from the input.
 */
#include "fuzz_image.h"
#include "symbols/bugcheck.h"
#include "symbols/crashhdr.h"
#include "symbols/kdbg.h"
#include "symbols/kernel.h"
#include "symbols/triage.h"

/* Everything a crashed guest's image goes through after KDBG. */
static void crash_state(struct wdt_kernel *k, struct wdt_kdbg *d)
{
	struct wdt_crash_opts o = {.comment = "fuzz"};
	struct wdt_bugcheck b;
	struct wdt_crash c;
	struct wdt_modules m;
	struct wdt_ntoffsets off;
	struct wdt_triage t;
	struct wdt_err err;

	if (wdt_bugcheck_find(k, d, NULL, &b, &err) == 0) {
		wdt_crash_build(k, d, &b, &o, &c, &err);
		wdt_crash_free(&c);
		if (wdt_modules_read(
			k, wdt_kdbg_get(d, WDT_KDBG_PS_LOADED_MODULE_LIST, 8),
			&m, &err) == 0) {
			wdt_ntoffsets_find(k, d, NULL, 19041, &off);
			wdt_triage_run(k, &b, &m, NULL, 0, &off, &t);
		}
		wdt_modules_free(&m);
	}
	wdt_bugcheck_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wdt_image *img =
	    size > FUZZ_MAX_LEN ? NULL : fuzz_open_image(data, size, "raw");
	struct wdt_kernel k;
	struct wdt_kdbg d;
	struct wdt_err err;

	if (!img)
		return 0;
	if (wdt_kernel_find(img, NULL, &k, &err) == 0) {
		if (wdt_kdbg_find(&k, NULL, &d, &err) == 0)
			crash_state(&k, &d);
		wdt_kdbg_free(&d);
	}
	wdt_kernel_free(&k);
	wdt_image_close(img);
	return 0;
}
