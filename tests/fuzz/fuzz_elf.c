/* SPDX-License-Identifier: MIT */
/* Fuzz target: the ELF core reader, over an in-memory source. */
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	wdt_image_close(fuzz_open_image(data, size, "elf"));
	return 0;
}
