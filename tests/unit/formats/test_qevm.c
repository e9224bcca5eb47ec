/* SPDX-License-Identifier: MIT */
/* formats/qevm.c: migration streams built here, record by record. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/source.h"
#include "formats/qevm.h"

struct sb {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct sb *s, const void *d, size_t n)
{
	if (s->n + n > s->cap) {
		s->cap = (s->n + n) * 2 + 4096;
		s->p = realloc(s->p, s->cap);
		assert_non_null(s->p);
	}
	memcpy(s->p + s->n, d, n);
	s->n += n;
}

static void u8(struct sb *s, unsigned v)
{
	uint8_t b = (uint8_t)v;
	put(s, &b, 1);
}

static void be32(struct sb *s, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};
	put(s, b, 4);
}

static void be64(struct sb *s, uint64_t v)
{
	be32(s, (uint32_t)(v >> 32));
	be32(s, (uint32_t)v);
}

static void idstr(struct sb *s, const char *id)
{
	u8(s, (unsigned)strlen(id));
	put(s, id, strlen(id));
}

/* Header, configuration, ram START with one block. */
static void begin(struct sb *s, const char *machine, uint64_t ram)
{
	put(s, "QEVM", 4);
	be32(s, 3);
	u8(s, 0x07);
	be32(s, (uint32_t)strlen(machine));
	put(s, machine, strlen(machine));
	u8(s, 0x01);
	be32(s, 0);
	idstr(s, "ram");
	be32(s, 0);
	be32(s, 4);
	be64(s, ram | 0x04);
	idstr(s, "pc.ram");
	be64(s, ram);
}

static void zero_page(struct sb *s, uint64_t page, unsigned fill, bool first)
{
	be64(s, page << 12 | 0x02 | (first ? 0 : 0x20));
	if (first)
		idstr(s, "pc.ram");
	u8(s, fill);
}

static void data_page(struct sb *s, uint64_t page, unsigned fill)
{
	uint8_t pg[4096];
	be64(s, page << 12 | 0x08 | 0x20);
	memset(pg, (int)fill, sizeof(pg));
	put(s, pg, sizeof(pg));
}

static void eos(struct sb *s)
{
	be64(s, 0x10);
}

/* END the ram section, one cpu section with `extra` unknown bytes first
 * (described by JSON when json), EOF, the description. */
static void finish(struct sb *s, bool json, size_t extra)
{
	u8(s, 0x03);
	be32(s, 0);
	eos(s);
	u8(s, 0x04);
	be32(s, 1);
	idstr(s, "cpu");
	be32(s, 0);
	be32(s, 12);
	/* QEMU 7.2's vmstate_x86_cpu prefix: regs, eip, eflags set. */
	static const struct {
		const char *name;
		unsigned size, count;
	} f[] = {{"env.regs", 8, 16},	     {"env.eip", 8, 1},
		 {"env.eflags", 8, 1},	     {"env.hflags", 4, 1},
		 {"env.fpu", 8, 1},	     {"env.fpregs", 10, 8},
		 {"env.segs", 20, 6},	     {"env.ldt", 20, 1},
		 {"env.tr", 20, 1},	     {"env.gdt", 20, 1},
		 {"env.idt", 20, 1},	     {"env.sysenter", 20, 1},
		 {"env.cr[0]", 8, 1},	     {"env.cr[2]", 8, 1},
		 {"env.cr[3]", 8, 1},	     {"env.cr[4]", 8, 1},
		 {"env.dr", 8, 8},	     {"env.a20_mask", 4, 1},
		 {"env.mxcsr", 4, 1},	     {"env.xmm_regs[0]", 16, 16},
		 {"env.efer", 8, 1},	     {"env.star", 8, 5},
		 {"env.kernelgsbase", 8, 1}, {"rest", 64, 1}};
	char js[4096];
	size_t jn = (size_t)snprintf(
	    js, sizeof(js),
	    "{\"page_size\":4096,\"devices\":[{\"name\":\"cpu\","
	    "\"instance_id\":0,\"version\":12,\"fields\":["
	    "{\"name\":\"x\",\"type\":\"buffer\",\"size\":%zu}",
	    extra);
	for (size_t i = 0; i < extra; i++)
		u8(s, 0xEE);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		jn += (size_t)snprintf(js + jn, sizeof(js) - jn,
				       ",{\"name\":\"%s\",\"size\":%u,"
				       "\"array_len\":%u}",
				       f[i].name, f[i].size, f[i].count);
		for (unsigned k = 0; k < f[i].count; k++) {
			uint8_t z[64] = {0};
			if (strcmp(f[i].name, "env.regs") == 0)
				be64(s, 0x100 + k);
			else if (strcmp(f[i].name, "env.eip") == 0)
				be64(s, 0xFFFFF80000123456ull);
			else
				put(s, z, f[i].size);
		}
	}
	jn += (size_t)snprintf(js + jn, sizeof(js) - jn, "]}]}");
	assert_true(jn < sizeof(js));
	u8(s, 0x00);
	if (json) {
		u8(s, 0x06);
		be32(s, (uint32_t)jn);
		put(s, js, jn);
	}
}

static struct wdt_image *open_sb(struct sb *s, struct wdt_err *e)
{
	return wdt_test_open_mem(s->p, s->n, "qevm", e);
}

static void page_is(struct wdt_image *img, uint64_t pa, unsigned fill)
{
	uint8_t pg[4096], want[4096];
	struct wdt_err e;
	memset(want, (int)fill, sizeof(want));
	assert_int_equal(wdt_image_read_phys(img, pa, pg, sizeof(pg), &e), 0);
	assert_memory_equal(pg, want, sizeof(pg));
}

/* 256 pages sent, then 10..19 again as data, then 15..16 again as zero
 * pages of 0x77: each page reads as its last copy. */
static void last_copy_wins(void **state)
{
	struct sb s = {0};
	struct wdt_err e;
	(void)state;

	begin(&s, "pc-i440fx-7.2", 1 << 20);
	for (uint64_t p = 0; p < 256; p++)
		zero_page(&s, p, 0, p == 0);
	eos(&s);
	u8(&s, 0x02);
	be32(&s, 0);
	for (uint64_t p = 10; p < 20; p++)
		data_page(&s, p, 0xA0 + (unsigned)p);
	zero_page(&s, 15, 0x77, false);
	zero_page(&s, 16, 0x77, false);
	eos(&s);
	finish(&s, false, 0);
	struct wdt_image *img = open_sb(&s, &e);
	assert_non_null(img);
	assert_int_equal(img->nruns, 1);
	assert_int_equal(img->runs[0].len, 1 << 20);
	page_is(img, 9 * 4096, 0);
	for (uint64_t p = 10; p < 20; p++)
		page_is(img, p * 4096,
			p == 15 || p == 16 ? 0x77 : 0xA0 + (unsigned)p);
	page_is(img, 20 * 4096, 0);
	assert_int_equal(img->ncpus, 1);
	assert_int_equal(img->cpus[0].regs[WDT_RIP], 0xFFFFF80000123456ull);
	assert_int_equal(img->cpus[0].regs[WDT_RCX], 0x101); /* regs[1] */
	assert_int_equal(img->cpus[0].regs[WDT_RBX], 0x103); /* regs[3] */
	assert_int_equal(img->cpus[0].regs[WDT_R15], 0x10F);
	wdt_image_close(img);
	free(s.p);
}

/* Field offsets follow the JSON description, not the built-in layout. */
static void json_layout_wins(void **state)
{
	struct sb s = {0};
	struct wdt_err e;
	(void)state;

	begin(&s, "pc", 1 << 20);
	for (uint64_t p = 0; p < 256; p++)
		zero_page(&s, p, 0, p == 0);
	eos(&s);
	finish(&s, true, 24);
	struct wdt_image *img = open_sb(&s, &e);
	if (!img)
		fail_msg("%s", e.msg);

	assert_int_equal(img->cpus[0].regs[WDT_RIP], 0xFFFFF80000123456ull);
	assert_int_equal(img->cpus[0].regs[WDT_RAX], 0x100);
	wdt_image_close(img);
	free(s.p);
}

/* q35 with 3 GiB: 2 GiB below 4 GiB, the rest from 4 GiB. */
static void q35_split(void **state)
{
	struct sb s = {0};
	struct wdt_err e;
	uint64_t ram = 3ull << 30, pages = ram / 4096;
	(void)state;

	begin(&s, "pc-q35-7.2", ram);
	for (uint64_t p = 0; p < pages; p++)
		zero_page(&s, p, p == pages - 1 ? 0x42 : 0, p == 0);
	eos(&s);
	finish(&s, false, 0);
	struct wdt_image *img = open_sb(&s, &e);
	assert_non_null(img);
	assert_int_equal(img->nruns, 2);
	assert_int_equal(img->runs[0].pa, 0);
	assert_int_equal(img->runs[0].len, 2ull << 30);
	assert_int_equal(img->runs[1].pa, 4ull << 30);
	assert_int_equal(img->runs[1].len, 1ull << 30);
	page_is(img, (5ull << 30) - 4096, 0x42);
	wdt_image_close(img);
	free(s.p);

	assert_int_equal(wdt_qevm_below_4g("pc-q35-9.2", 0xB0000000ull),
			 0x80000000ull);
	assert_int_equal(wdt_qevm_below_4g("q35", 0xAFFFF000ull),
			 0xAFFFF000ull);
	assert_int_equal(wdt_qevm_below_4g("pc-i440fx-7.2", 0xE0000000ull),
			 0xC0000000ull);
	assert_int_equal(wdt_qevm_below_4g("pc", 0xDFFFF000ull), 0xDFFFF000ull);
	assert_int_equal(wdt_qevm_below_4g("virt-9.0", 1ull << 30), 0);
}

static void bad_streams(void **state)
{
	struct sb s = {0};
	struct wdt_err e;
	(void)state;

	/* A page sent with xbzrle. */
	begin(&s, "pc", 1 << 20);
	zero_page(&s, 0, 0, true);
	be64(&s, 1ull << 12 | 0x40 | 0x20);
	u8(&s, 1);
	assert_null(open_sb(&s, &e));
	assert_err(&e, WDT_UNSUPPORTED, "'xbzrle' migration capability");
	/* Cut inside a page. */
	s.n = 0;
	begin(&s, "pc", 1 << 20);
	zero_page(&s, 0, 0, true);
	data_page(&s, 1, 1);
	s.n -= 100;
	assert_null(open_sb(&s, &e));
	assert_err(&e, WDT_TRUNCATED, "the file is truncated");
	/* A page never sent. */
	s.n = 0;
	begin(&s, "pc", 1 << 20);
	for (uint64_t p = 0; p < 256; p++)
		if (p != 77)
			zero_page(&s, p, 0, p == 0);
	eos(&s);
	finish(&s, false, 0);
	assert_null(open_sb(&s, &e));
	assert_err(&e, WDT_CORRUPT, "page 0x4d of 0x100 never sent");
	free(s.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(last_copy_wins),
	    cmocka_unit_test(json_layout_wins),
	    cmocka_unit_test(q35_split),
	    cmocka_unit_test(bad_streams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
