/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include "core/bytes.h"
#include "core/source.h"
#include "formats/kdump.h"
#include "formats/registry.h"

struct wdt_image *wdt_test_open_mem(const void *buf, size_t len,
				    const char *format, struct wdt_err *err)
{
	struct wdt_source *src = wdt_source_open_mem(buf, len, "mem", err);

	if (!src)
		return NULL;
	return wdt_image_open_source(src, format, err);
}

void wdt_test_kdump_header(uint8_t *p, uint32_t bs, uint32_t status,
			   uint32_t bitmap_blocks, uint64_t max_mapnr)
{
	memcpy(p, WDT_KDUMP_SIG, WDT_KDUMP_SIG_LEN);
	wdt_put_le32(p + WDT_KDH_VERSION, 6);
	memcpy(p + WDT_KDH_UTS_MACHINE, "x86_64", 6);
	wdt_put_le32(p + WDT_KDH_STATUS, status);
	wdt_put_le32(p + WDT_KDH_BLOCK_SIZE, bs);
	wdt_put_le32(p + WDT_KDH_SUB_HDR_SIZE, 1);
	wdt_put_le32(p + WDT_KDH_BITMAP_BLOCKS, bitmap_blocks);
	wdt_put_le32(p + WDT_KDH_MAX_MAPNR, (uint32_t)max_mapnr);
	wdt_put_le32(p + WDT_KDH_NR_CPUS, 1);
	wdt_put_le32(p + bs + WDT_KSH_DUMP_LEVEL, 1);
	wdt_put_le64(p + bs + WDT_KSH_MAX_MAPNR_64, max_mapnr);
}
