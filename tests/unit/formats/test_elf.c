/* SPDX-License-Identifier: MIT */
/*
 * The ELF reader on crafted cores: the shapes QEMU writes (ELF64/ELF32,
 * EM_386 in ELF64, PN_XNUM, CORE + QEMU notes) and hostile ones.
 */
#include "testutil.h"

#include <stdlib.h>

#include "core/bytes.h"
#include "formats/elf.h"

#define CAP 0x10000

struct seg {
	uint32_t type;
	uint64_t off, paddr, filesz, memsz;
};

struct elfb {
	uint8_t *b;
	size_t len;
	unsigned cls;
	uint16_t machine;
	bool xnum;
	struct seg segs[8];
	int nsegs;
};

static void b_init(struct elfb *e, unsigned cls, uint16_t machine)
{
	memset(e, 0, sizeof(*e));
	e->b = calloc(1, CAP);
	e->cls = cls;
	e->machine = machine;
}

/* Notes blob: N CPUs, CORE prstatus (64-bit layout) then QEMU states. */
static size_t put_notes(uint8_t *p, int ncpu, bool qemu_kgs)
{
	size_t o = 0;

	for (int i = 0; i < ncpu; i++) {
		wdt_put_le32(p + o, 5);
		wdt_put_le32(p + o + 4, WDT_PRSTATUS64_SIZE);
		wdt_put_le32(p + o + 8, 1);
		memcpy(p + o + 12, "CORE", 5);
		uint8_t *d = p + o + 20;
		wdt_put_le32(d + 0x20, (uint32_t)i + 1);
		wdt_put_le64(d + 0x70 + 0x80,
			     0xfffff80000001000ull + (unsigned)i);    /* rip */
		wdt_put_le64(d + 0x70 + 0x98, 0xfffff80000777000ull); /* rsp */
		wdt_put_le64(d + 0x70 + 0x50, 0x1111);		      /* rax */
		wdt_put_le64(d + 0x70 + 0x88, 0x10);		      /* cs */
		wdt_put_le64(d + 0x70 + 0xB0,
			     0xfffff80001000000ull +
				 0x1000u * (unsigned)i); /* gs_base */
		o += 20 + WDT_PRSTATUS64_SIZE;
	}
	for (int i = 0; i < ncpu; i++) {
		uint32_t sz =
		    qemu_kgs ? WDT_QEMU_CPUSTATE_KGS : WDT_QEMU_CPUSTATE_MIN;
		wdt_put_le32(p + o, 5);
		wdt_put_le32(p + o + 4, sz);
		wdt_put_le32(p + o + 8, 0);
		memcpy(p + o + 12, "QEMU", 5);
		uint8_t *d = p + o + 20;
		wdt_put_le32(d, 1);
		wdt_put_le32(d + 4, sz);
		wdt_put_le64(d + 8, 0x2222); /* rax */
		wdt_put_le64(d + 0x88,
			     0xfffff80000002000ull + (unsigned)i); /* rip */
		wdt_put_le32(d + 0x98, 0x10);			   /* cs sel */
		wdt_put_le32(d + 0x98 + 8, 1u << 21);		   /* cs L */
		wdt_put_le64(d + 0xF8 + 16,
			     0xfffff80005000000ull); /* gs base */
		wdt_put_le64(d + 0x170 + 16,
			     0xfffff80006000000ull); /* idt base */
		wdt_put_le32(d + 0x170 + 4, 0xfff);  /* idt limit */
		wdt_put_le64(d + 0x188 + 24,
			     0x1ad000 + 0x1000u * (unsigned)i); /* cr3 */
		if (qemu_kgs)
			wdt_put_le64(d + 0x1B0, 0xfffff80007000000ull);
		o += 20 + sz;
	}
	return o;
}

/* Write header + phdrs (+ shdr 0 if xnum); returns total length so far. */
static void b_finish(struct elfb *e, size_t data_end)
{
	uint8_t *b = e->b;
	bool c64 = e->cls == 64;
	size_t ph = c64 ? 64 : 52, phsz = c64 ? 56 : 32;

	memcpy(b, "\177ELF", 4);
	b[4] = c64 ? 2 : 1;
	b[5] = 1;
	b[6] = 1;
	wdt_put_le16(b + 16, 4);
	wdt_put_le16(b + 18, e->machine);
	wdt_put_le32(b + 20, 1);
	size_t shoff = ph + phsz * (size_t)e->nsegs;
	if (c64) {
		wdt_put_le64(b + 32, ph);
		wdt_put_le64(b + 40, e->xnum ? shoff : 0);
		wdt_put_le16(b + 52, 64);
		wdt_put_le16(b + 54, 56);
		wdt_put_le16(b + 56, e->xnum ? 0xffff : (uint16_t)e->nsegs);
		wdt_put_le16(b + 58, 64);
		wdt_put_le16(b + 60, e->xnum ? 1 : 0);
	} else {
		wdt_put_le32(b + 28, (uint32_t)ph);
		wdt_put_le32(b + 32, e->xnum ? (uint32_t)shoff : 0);
		wdt_put_le16(b + 40, 52);
		wdt_put_le16(b + 42, 32);
		wdt_put_le16(b + 44, e->xnum ? 0xffff : (uint16_t)e->nsegs);
		wdt_put_le16(b + 46, 40);
		wdt_put_le16(b + 48, e->xnum ? 1 : 0);
	}
	for (int i = 0; i < e->nsegs; i++) {
		uint8_t *p = b + ph + phsz * (size_t)i;
		const struct seg *s = &e->segs[i];
		if (c64) {
			wdt_put_le32(p, s->type);
			wdt_put_le64(p + 8, s->off);
			wdt_put_le64(p + 16, s->paddr);
			wdt_put_le64(p + 24, s->paddr);
			wdt_put_le64(p + 32, s->filesz);
			wdt_put_le64(p + 40, s->memsz);
		} else {
			wdt_put_le32(p, s->type);
			wdt_put_le32(p + 4, (uint32_t)s->off);
			wdt_put_le32(p + 8, (uint32_t)s->paddr);
			wdt_put_le32(p + 12, (uint32_t)s->paddr);
			wdt_put_le32(p + 16, (uint32_t)s->filesz);
			wdt_put_le32(p + 20, (uint32_t)s->memsz);
		}
	}
	if (e->xnum) /* sh_info of section 0 holds the count */
		wdt_put_le32(b + shoff + (c64 ? 44 : 28), (uint32_t)e->nsegs);
	e->len = data_end;
}

static void add(struct elfb *e, uint32_t type, uint64_t off, uint64_t pa,
		uint64_t filesz, uint64_t memsz)
{
	e->segs[e->nsegs++] = (struct seg){type, off, pa, filesz, memsz};
}

/* A well-formed core like QEMU's: notes, then two RAM blocks. */
static void good(struct elfb *e, unsigned cls, uint16_t machine, int ncpu)
{
	b_init(e, cls, machine);
	size_t notes_at = 0x400;
	size_t nlen = put_notes(e->b + notes_at, ncpu, true);
	size_t data = notes_at + nlen; /* not page aligned, like QEMU */
	add(e, 4, notes_at, 0, nlen, nlen);
	add(e, 1, data, 0x0, 0x2000, 0x2000);
	add(e, 1, data + 0x2000, 0x100000, 0x1000, 0x1000);
	for (size_t i = 0; i < 0x3000; i++)
		e->b[data + i] = (uint8_t)(i ^ (i >> 8));
	b_finish(e, data + 0x3000);
}

static struct wdt_image *open_elf(struct elfb *e, struct wdt_err *err)
{
	return wdt_test_open_mem(e->b, e->len, NULL, err);
}

static void reads_qemu_shaped_core(void **state)
{
	struct elfb e;
	struct wdt_err err;
	uint8_t buf[16];

	(void)state;
	good(&e, 64, 62, 2);
	struct wdt_image *img = open_elf(&e, &err);
	assert_non_null(img);
	assert_string_equal(img->fmt->name, "elf");
	assert_int_equal(img->nruns, 2);
	assert_int_equal(img->runs[1].pa, 0x100000);
	assert_int_equal(img->runs[1].len, 0x1000);
	assert_int_equal(img->ncpus, 2);
	assert_int_equal(img->nnotes, 4);
	/* QEMU note wins over prstatus for registers it has. */
	assert_int_equal(img->cpus[1].regs[WDT_RIP], 0xfffff80000002001ull);
	assert_int_equal(img->cpus[0].regs[WDT_RAX], 0x2222);
	assert_int_equal(img->cpus[1].cr[3], 0x1ae000);
	assert_int_equal(img->cpus[0].segs[WDT_IDT].base,
			 0xfffff80006000000ull);
	assert_int_equal(img->cpus[0].kernel_gs_base, 0xfffff80007000000ull);
	assert_true(img->cpus[0].have & WDT_CPU_HAVE_KGSBASE);
	assert_true(img->cpus[0].long_mode);
	/* prstatus-only facts kept. */
	assert_int_equal(img->cpus[1].gs_base, 0xfffff80001001000ull);
	/* Physical reads map through p_offset, across the RAM gap: none. */
	assert_int_equal(wdt_image_read_phys(img, 0x1ff8, buf, 8, &err), 0);
	assert_int_equal(buf[0], (uint8_t)(0x1ff8 ^ 0x1f));
	assert_int_equal(wdt_image_read_phys(img, 0x100000, buf, 4, &err), 0);
	assert_int_equal(buf[1], (uint8_t)(0x2001 ^ 0x20));
	assert_int_equal(wdt_image_read_phys(img, 0x2000, buf, 1, &err), -1);
	assert_int_equal(err.status, WDT_NO_DATA);
	/* the default page reader over the program headers' runs */
	wdt_test_reader_contract(img, 3);
	wdt_image_close(img);
	free(e.b);
}

static void elf32_i386_and_pn_xnum(void **state)
{
	struct elfb e;
	struct wdt_err err;

	(void)state;
	good(&e, 32, 3, 1);
	struct wdt_image *img = open_elf(&e, &err);
	assert_non_null(img);
	assert_non_null(strstr(img->variant, "ELF32"));
	assert_int_equal(img->nruns, 2);
	wdt_image_close(img);
	free(e.b);

	good(&e, 64, 3, 1);
	e.xnum = true;
	b_finish(&e, e.len);
	img = open_elf(&e, &err);
	assert_non_null(img);
	assert_non_null(strstr(img->variant, "not in long mode"));
	assert_int_equal(img->nruns, 2);
	wdt_image_close(img);
	free(e.b);
}

static void memsz_tail_absent_and_unbacked_skipped(void **state)
{
	struct elfb e;
	struct wdt_err err;

	(void)state;
	good(&e, 64, 62, 1);
	e.segs[2].memsz = 0x5000; /* filesz 0x1000: tail not in the file */
	add(&e, 1, UINT64_MAX, 0x900000, 0, 0x1000); /* -p unbacked */
	b_finish(&e, e.len);
	struct wdt_image *img = open_elf(&e, &err);
	assert_non_null(img);
	assert_int_equal(img->nruns, 2);
	assert_int_equal(img->runs[1].len, 0x1000);
	wdt_image_close(img);
	free(e.b);
}

/* Each hostile variant: expected status and a piece of the message. */
static void expect_fail(struct elfb *e, enum wdt_status st, const char *needle)
{
	struct wdt_err err;
	/* Forced: the reader's own checks (detection may name the file as
	 * something else first, see test_registry). */
	struct wdt_image *img = wdt_test_open_mem(e->b, e->len, "elf", &err);

	if (img)
		fail_msg("accepted a bad ELF (expected '%s')", needle);
	assert_err(&err, st, needle);
	assert_memory_equal(err.msg, "elf: ", 5);
	free(e->b);
}

static void hostile_headers(void **state)
{
	struct elfb e;
	struct wdt_err err;

	(void)state;
	good(&e, 64, 62, 1);
	e.len = 40; /* truncated header */
	expect_fail(&e, WDT_TRUNCATED, "ELF header truncated");

	good(&e, 64, 62, 1);
	e.b[4] = 7;
	expect_fail(&e, WDT_CORRUPT, "bad ELF class 7");

	good(&e, 64, 62, 1);
	wdt_put_le16(e.b + 18, 40); /* EM_ARM */
	expect_fail(&e, WDT_UNSUPPORTED, "machine 40 is not x86");

	good(&e, 64, 62, 1);
	wdt_put_le16(e.b + 16, 2); /* ET_EXEC */
	expect_fail(&e, WDT_UNSUPPORTED, "not a core dump");

	good(&e, 64, 62, 1);
	e.b[5] = 2;
	expect_fail(&e, WDT_UNSUPPORTED, "big-endian");

	good(&e, 64, 62, 1);
	wdt_put_le16(e.b + 54, 55);
	expect_fail(&e, WDT_CORRUPT, "entry size 55");

	good(&e, 64, 62, 1);
	wdt_put_le16(e.b + 56, 0x7fff); /* phnum far past EOF */
	expect_fail(&e, WDT_TRUNCATED, "run past the end of the file");

	good(&e, 64, 62, 1);
	wdt_put_le16(e.b + 56, 0xffff); /* PN_XNUM with no section header */
	expect_fail(&e, WDT_CORRUPT, "PN_XNUM");

	good(&e, 64, 62, 1);
	e.xnum = true;
	b_finish(&e, e.len);
	wdt_put_le32(e.b + 64 + 56 * 3 + 44, 0x7fffffff); /* sh_info lies */
	expect_fail(&e, WDT_CORRUPT, "absurd program header count");

	/* Empty file: detection says so. */
	assert_null(wdt_test_open_mem("", 0, NULL, &err));
	assert_err(&err, WDT_UNKNOWN_FORMAT, "empty file");
}

static void hostile_segments(void **state)
{
	struct elfb e;

	(void)state;
	good(&e, 64, 62, 1);
	e.segs[2].filesz = e.segs[2].memsz = 0x100000; /* past EOF */
	b_finish(&e, e.len);
	expect_fail(&e, WDT_TRUNCATED, "ends past the end of the file");

	good(&e, 64, 62, 1);
	e.segs[2].filesz = e.segs[2].memsz = 1ull << 63; /* absurd */
	b_finish(&e, e.len);
	expect_fail(&e, WDT_TRUNCATED, "ends past the end of the file");

	good(&e, 64, 62, 1);
	e.segs[2].paddr = UINT64_MAX - 0x10;
	b_finish(&e, e.len);
	expect_fail(&e, WDT_CORRUPT, "wraps");

	good(&e, 64, 62, 1);
	e.segs[2].filesz = 0x2000; /* > memsz */
	b_finish(&e, e.len);
	expect_fail(&e, WDT_CORRUPT, "exceeds memory size");

	good(&e, 64, 62, 1);
	e.segs[2].paddr = 0x1000; /* overlaps block 1 with other bytes */
	b_finish(&e, e.len);
	expect_fail(&e, WDT_CORRUPT, "overlap");

	good(&e, 64, 62, 1);
	e.segs[0].filesz = 0x100000; /* note segment past EOF */
	b_finish(&e, e.len);
	expect_fail(&e, WDT_TRUNCATED, "note segment");
}

static void coherent_overlap_merged(void **state)
{
	struct elfb e;
	struct wdt_err err;

	(void)state;
	good(&e, 64, 62, 1);
	/* Paging-mode style duplicate: same PA, same file bytes. */
	add(&e, 1, e.segs[1].off + 0x1000, 0x1000, 0x1000, 0x1000);
	b_finish(&e, e.len);
	struct wdt_image *img = open_elf(&e, &err);
	assert_non_null(img);
	assert_int_equal(img->nruns, 2);
	assert_int_equal(img->runs[0].len, 0x2000);
	wdt_image_close(img);
	free(e.b);
}

static void lying_notes(void **state)
{
	uint8_t blob[64] = {0};
	struct wdt_err err;
	struct wdt_image img = {0};

	(void)state;
	wdt_put_le32(blob, 5);
	wdt_put_le32(blob + 4, 0x1000); /* descsz past the blob */
	memcpy(blob + 12, "CORE", 5);
	assert_int_equal(
	    wdt_elf_parse_notes(&img, blob, sizeof(blob), 0x100, &err), -1);
	assert_err(&err, WDT_CORRUPT, "descriptor size 4096");
	assert_non_null(strstr(err.msg, "0x100"));

	wdt_put_le32(blob, 0xfffffff0); /* namesz absurd */
	assert_int_equal(wdt_elf_parse_notes(&img, blob, sizeof(blob), 0, &err),
			 -1);
	assert_err(&err, WDT_CORRUPT, "name size");

	/* A QEMU note whose own size field lies. */
	memset(blob, 0, sizeof(blob));
	wdt_put_le32(blob, 5);
	wdt_put_le32(blob + 4, 16);
	memcpy(blob + 12, "QEMU", 5);
	wdt_put_le32(blob + 20, 1);
	wdt_put_le32(blob + 24, 0x1b8);
	assert_int_equal(wdt_elf_parse_notes(&img, blob, 36, 0, &err), -1);
	assert_err(&err, WDT_CORRUPT, "claims 440 bytes");

	/* Truncated header at the end. */
	assert_int_equal(wdt_elf_parse_notes(&img, blob, 8, 0, &err), -1);
	assert_err(&err, WDT_CORRUPT, "header cut off");
	free(img.cpus);
	free(img.notes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reads_qemu_shaped_core),
	    cmocka_unit_test(elf32_i386_and_pn_xnum),
	    cmocka_unit_test(memsz_tail_absent_and_unbacked_skipped),
	    cmocka_unit_test(hostile_headers),
	    cmocka_unit_test(hostile_segments),
	    cmocka_unit_test(coherent_overlap_merged),
	    cmocka_unit_test(lying_notes),
	};
	return cmocka_run_group_tests_name("formats/elf", tests, NULL, NULL);
}
