/* SPDX-License-Identifier: MIT */
#include "core/paging.h"

#include <inttypes.h>
#include <string.h>

#include "core/bytes.h"

bool wdt_va_canonical(uint64_t va, bool la57)
{
	unsigned bits = la57 ? 57 : 48;
	int64_t s = (int64_t)(va << (64 - bits)) >> (64 - bits);

	return (uint64_t)s == va;
}

static const char *const level_name[] = {"PT", "PD", "PDPT", "PML4", "PML5"};

/* Read the 8-byte entry `idx` of the table at `table`. */
static int read_entry(const struct wdt_vas *vas, uint64_t table, unsigned idx,
		      unsigned level, uint64_t va, uint64_t *e,
		      struct wdt_err *err)
{
	uint8_t b[8];

	if (wdt_image_read_phys(vas->img, table + 8ull * idx, b, sizeof(b),
				err) < 0) {
		if (err && err->status == WDT_NO_DATA)
			return wdt_err_set(err, WDT_NO_DATA,
					   "translating 0x%016" PRIx64
					   ": %s table at physical 0x%" PRIx64
					   " is not in the image",
					   va, level_name[level], table);
		return wdt_err_prefix(err, "translating 0x%016" PRIx64, va);
	}
	*e = wdt_le64(b);
	return 0;
}

int wdt_vtop(const struct wdt_vas *vas, uint64_t va, uint64_t *pa,
	     uint64_t *page_size, struct wdt_err *err)
{
	unsigned top = vas->la57 ? 4 : 3;
	uint64_t table = vas->dtb & WDT_PTE_ADDR_MASK;
	uint64_t e = 0;

	if (!wdt_va_canonical(va, vas->la57))
		return wdt_err_set(
		    err, WDT_NO_DATA,
		    "virtual address 0x%016" PRIx64 " is not canonical", va);
	for (int level = (int)top; level >= 0; level--) {
		unsigned idx = (unsigned)(va >> (12 + 9 * level)) & 0x1ff;
		if (read_entry(vas, table, idx, (unsigned)level, va, &e, err) <
		    0)
			return -1;
		if (!(e & WDT_PTE_P))
			return wdt_err_set(err, WDT_NO_DATA,
					   "virtual address 0x%016" PRIx64
					   " is not mapped (%s entry %u not "
					   "present)",
					   va, level_name[level], idx);
		/* PS means a large page only in PDPT (1 GiB) and PD (2 MiB). */
		if ((level == 1 || level == 2) && (e & WDT_PTE_PS)) {
			uint64_t mask =
			    level == 2 ? WDT_PTE_1G_MASK : WDT_PTE_2M_MASK;
			uint64_t size = level == 2 ? 1ull << 30 : 1ull << 21;
			*pa = (e & mask) | (va & (size - 1));
			if (page_size)
				*page_size = size;
			return 0;
		}
		table = e & WDT_PTE_ADDR_MASK;
	}
	*pa = table | (va & WDT_PAGE_MASK);
	if (page_size)
		*page_size = WDT_PAGE_SIZE;
	return 0;
}

int wdt_read_virt(const struct wdt_vas *vas, uint64_t va, void *buf, size_t len,
		  struct wdt_err *err)
{
	uint8_t *p = buf;

	while (len > 0) {
		uint64_t pa;
		size_t n = WDT_PAGE_SIZE - (size_t)(va & WDT_PAGE_MASK);
		if (n > len)
			n = len;
		if (wdt_vtop(vas, va, &pa, NULL, err) < 0)
			return -1;
		if (wdt_image_read_phys(vas->img, pa, p, n, err) < 0)
			return wdt_err_prefix(
			    err, "reading virtual 0x%016" PRIx64, va);
		p += n;
		va += n;
		len -= n;
	}
	return 0;
}
