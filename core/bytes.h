/* SPDX-License-Identifier: MIT */
/*
 * Little/big-endian loads and stores from byte buffers, and overflow-safe
 * bounds checks. Never cast a struct over untrusted bytes: check the range
 * with wdt_in_bounds() once, then load fields with wdt_le32(p + OFF).
 */
#ifndef WDT_CORE_BYTES_H
#define WDT_CORE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The x86-64 base page: guest frames, dump bodies, page-table walks. */
#define WDT_PAGE_SIZE 4096u
#define WDT_PAGE_MASK ((uint64_t)WDT_PAGE_SIZE - 1) /* offset in a page */

/* True when [off, off+n) lies inside a buffer of len bytes (no overflow). */
static inline bool wdt_in_bounds(uint64_t len, uint64_t off, uint64_t n)
{
	return off <= len && n <= len - off;
}

/* a + b without wrapping; false on overflow. */
static inline bool wdt_add_ok(uint64_t a, uint64_t b, uint64_t *sum)
{
	return !__builtin_add_overflow(a, b, sum);
}

static inline uint16_t wdt_le16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] | (uint16_t)b[1] << 8);
}

static inline uint32_t wdt_le32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static inline uint64_t wdt_le64(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)wdt_le32(b) | (uint64_t)wdt_le32(b + 4) << 32;
}

static inline uint32_t wdt_be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static inline uint64_t wdt_be64(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)wdt_be32(b) << 32 | (uint64_t)wdt_be32(b + 4);
}

static inline void wdt_put_le16(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static inline void wdt_put_le32(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static inline void wdt_put_le64(void *p, uint64_t v)
{
	wdt_put_le32(p, (uint32_t)v);
	wdt_put_le32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

/*
 * Whether len bytes at p (8-byte aligned, len a multiple of 32) are all
 * zero: the test behind sparse output and zero-page accounting.
 */
static inline bool wdt_all_zero(const void *p, size_t len)
{
	const uint64_t *w = p;

	for (size_t i = 0; i < len / 8; i += 4)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3])
			return false;
	return true;
}

#endif
