/* SPDX-License-Identifier: MIT */
/*
 * x86-64 virtual-to-physical translation from a directory table base
 * (x86-64-paging.md): 4-level (and 5-level with LA57), 4 KiB, 2 MiB and
 * 1 GiB pages. Permissions are ignored; only P and PS matter.
 */
#ifndef WDT_CORE_PAGING_H
#define WDT_CORE_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "core/image.h"

#define WDT_PTE_ADDR_MASK 0x000FFFFFFFFFF000ull
#define WDT_PTE_2M_MASK 0x000FFFFFFFE00000ull
#define WDT_PTE_1G_MASK 0x000FFFFFC0000000ull
#define WDT_PTE_P 0x1ull
#define WDT_PTE_PS 0x80ull

struct wdt_vas {
	struct wdt_image *img;
	uint64_t dtb; /* CR3 value; low flag bits are masked off */
	bool la57;    /* CR4.LA57: 5-level paging */
};

bool wdt_va_canonical(uint64_t va, bool la57);

/*
 * Translate va. On success *pa is the physical address and *page_size
 * (if non-NULL) the size of the mapping page (4 KiB, 2 MiB or 1 GiB).
 * Not mapped (an entry not present, or non-canonical va): status
 * NO_DATA, message naming the va and the level. A table outside the
 * image: NO_DATA naming the table's physical address.
 */
int wdt_vtop(const struct wdt_vas *vas, uint64_t va, uint64_t *pa,
	     uint64_t *page_size, struct wdt_err *err);

/* Read len bytes of virtual memory, translating each page separately. */
int wdt_read_virt(const struct wdt_vas *vas, uint64_t va, void *buf, size_t len,
		  struct wdt_err *err);

#endif
