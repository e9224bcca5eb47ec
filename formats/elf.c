/* SPDX-License-Identifier: MIT */
#include "formats/elf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/out.h"

/* ELF identification and header fields (System V gABI). */
#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_CORE 4
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4
#define PN_XNUM 0xffff
#define EHDR64_SIZE 64
#define EHDR32_SIZE 52
#define PHDR64_SIZE 56
#define PHDR32_SIZE 32
#define SHDR64_SIZE 64
#define SHDR32_SIZE 40
/* More program headers than any real dump has; bounds the table we read. */
#define PHNUM_MAX (1u << 20)

struct elf_info {
	unsigned cls;	  /* 32 or 64 */
	unsigned machine; /* EM_* */
	uint64_t phoff, shoff;
	uint32_t phnum;
	bool xnum;
	uint32_t nloads;
	uint64_t note_off, note_size;
};

struct phdr {
	uint32_t type;
	uint64_t offset, paddr, vaddr, filesz, memsz;
};

static int elf_probe(const uint8_t *head, size_t len, uint64_t size)
{
	(void)size;
	return len >= 4 && memcmp(head, "\177ELF", 4) == 0 ? 90 : 0;
}

static void parse_phdr(const uint8_t *p, unsigned cls, struct phdr *ph)
{
	if (cls == 64) {
		ph->type = wdt_le32(p + 0);
		ph->offset = wdt_le64(p + 8);
		ph->vaddr = wdt_le64(p + 16);
		ph->paddr = wdt_le64(p + 24);
		ph->filesz = wdt_le64(p + 32);
		ph->memsz = wdt_le64(p + 40);
	} else {
		ph->type = wdt_le32(p + 0);
		ph->offset = wdt_le32(p + 4);
		ph->vaddr = wdt_le32(p + 8);
		ph->paddr = wdt_le32(p + 12);
		ph->filesz = wdt_le32(p + 16);
		ph->memsz = wdt_le32(p + 20);
	}
}

/* Validate the ELF header (pure). */
static int parse_ehdr(const uint8_t *b, size_t len, uint64_t size,
		      struct elf_info *ei, struct wdt_err *err)
{
	if (len < 16 || memcmp(b, "\177ELF", 4) != 0)
		return wdt_err_set(err, WDT_UNKNOWN_FORMAT, "not an ELF file");
	if (b[EI_CLASS] != ELFCLASS32 && b[EI_CLASS] != ELFCLASS64)
		return wdt_err_set(err, WDT_CORRUPT,
				   "bad ELF class %u (expected 1 or 2)",
				   b[EI_CLASS]);
	if (b[EI_DATA] != ELFDATA2LSB)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "big-endian ELF (data encoding %u): not an "
				   "x86 memory dump",
				   b[EI_DATA]);
	ei->cls = b[EI_CLASS] == ELFCLASS64 ? 64 : 32;
	size_t ehsz = ei->cls == 64 ? EHDR64_SIZE : EHDR32_SIZE;
	if (len < ehsz)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "ELF header truncated (%zu of %zu bytes)",
				   len, ehsz);
	uint16_t type = wdt_le16(b + 16);
	ei->machine = wdt_le16(b + 18);
	if (type != ET_CORE)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "ELF type %u is not a core dump (ET_CORE)",
				   type);
	if (ei->machine != EM_X86_64 && ei->machine != EM_386)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "ELF machine %u is not x86 (EM_X86_64 or "
				   "EM_386)",
				   ei->machine);
	unsigned phentsize, shentsize;
	if (ei->cls == 64) {
		ei->phoff = wdt_le64(b + 32);
		ei->shoff = wdt_le64(b + 40);
		phentsize = wdt_le16(b + 54);
		ei->phnum = wdt_le16(b + 56);
		shentsize = wdt_le16(b + 58);
	} else {
		ei->phoff = wdt_le32(b + 28);
		ei->shoff = wdt_le32(b + 32);
		phentsize = wdt_le16(b + 42);
		ei->phnum = wdt_le16(b + 44);
		shentsize = wdt_le16(b + 46);
	}
	unsigned want_ph = ei->cls == 64 ? PHDR64_SIZE : PHDR32_SIZE;
	if (phentsize != want_ph)
		return wdt_err_set(err, WDT_CORRUPT,
				   "program header entry size %u (expected %u)",
				   phentsize, want_ph);
	ei->xnum = ei->phnum == PN_XNUM;
	if (ei->xnum) {
		unsigned want_sh = ei->cls == 64 ? SHDR64_SIZE : SHDR32_SIZE;
		if (ei->shoff == 0 || shentsize != want_sh)
			return wdt_err_set(err, WDT_CORRUPT,
					   "e_phnum is PN_XNUM but there is no "
					   "valid section header 0 to hold the "
					   "real count");
		if (!wdt_in_bounds(size, ei->shoff, want_sh))
			return wdt_err_set(err, WDT_TRUNCATED,
					   "section header 0 at 0x%" PRIx64
					   " lies beyond the end of the file",
					   ei->shoff);
	}
	return 0;
}

static int read_xnum(struct wdt_image *img, struct elf_info *ei,
		     struct wdt_err *err)
{
	uint8_t sh[SHDR64_SIZE];
	size_t n = ei->cls == 64 ? SHDR64_SIZE : SHDR32_SIZE;

	if (wdt_source_read(img->src, sh, n, ei->shoff, err) < 0)
		return wdt_err_prefix(err, "reading section header 0");
	/* sh_info: offset 44 in Elf64_Shdr, 28 in Elf32_Shdr. */
	ei->phnum = wdt_le32(sh + (ei->cls == 64 ? 44 : 28));
	return 0;
}

/* ---- notes ---- */

static struct wdt_cpu *cpu_slot(struct wdt_image *img, size_t idx,
				struct wdt_err *err)
{
	while (img->ncpus <= idx) {
		struct wdt_cpu c = {.index = (unsigned)img->ncpus};
		if (wdt_image_add_cpu(img, &c, err) < 0)
			return NULL;
	}
	return &img->cpus[idx];
}

/* NT_PRSTATUS of x86-64 (user_regs_struct order) or i386. */
static int parse_prstatus(struct wdt_cpu *c, const uint8_t *d, size_t n)
{
	static const int64_t map64[] = {
	    /* index in pr_reg → our register (-1: not a GPR) */
	    WDT_R15, WDT_R14, WDT_R13, WDT_R12, WDT_RBP,    WDT_RBX, WDT_R11,
	    WDT_R10, WDT_R9,  WDT_R8,  WDT_RAX, WDT_RCX,    WDT_RDX, WDT_RSI,
	    WDT_RDI, -1,      WDT_RIP, -2,	WDT_RFLAGS, WDT_RSP, -3,
	};
	static const int64_t map32[] = {
	    WDT_RBX, WDT_RCX, WDT_RDX,	  WDT_RSI, WDT_RDI, WDT_RBP,
	    WDT_RAX, -4,      -5,	  -6,	   -7,	    -1,
	    WDT_RIP, -2,      WDT_RFLAGS, WDT_RSP, -3,
	};
	/* Selectors: -2 cs, -3 ss, -4 ds, -5 es, -6 fs, -7 gs. */
	static const enum wdt_segreg segof[] = {0,	0,	WDT_CS, WDT_SS,
						WDT_DS, WDT_ES, WDT_FS, WDT_GS};
	const int64_t *map;
	size_t nregs, w;
	const uint8_t *r;

	if (n == WDT_PRSTATUS64_SIZE) {
		map = map64, nregs = sizeof(map64) / sizeof(map64[0]), w = 8;
		r = d + WDT_PRSTATUS64_REGS;
		c->fs_base = wdt_le64(r + 0xA8);
		c->gs_base = wdt_le64(r + 0xB0);
		uint64_t sel[4] = {wdt_le64(r + 0xB8), wdt_le64(r + 0xC0),
				   wdt_le64(r + 0xC8), wdt_le64(r + 0xD0)};
		if (!(c->have & WDT_CPU_HAVE_SEGS)) {
			c->segs[WDT_DS].selector = (uint32_t)sel[0];
			c->segs[WDT_ES].selector = (uint32_t)sel[1];
			c->segs[WDT_FS].selector = (uint32_t)sel[2];
			c->segs[WDT_GS].selector = (uint32_t)sel[3];
		}
		c->have |= WDT_CPU_HAVE_FSGSBASE;
	} else if (n == WDT_PRSTATUS32_SIZE) {
		map = map32, nregs = sizeof(map32) / sizeof(map32[0]), w = 4;
		r = d + WDT_PRSTATUS32_REGS;
	} else {
		return 0; /* another architecture's layout: keep the note only
			   */
	}
	bool had_qemu = c->source != NULL;
	for (size_t i = 0; i < nregs; i++) {
		uint64_t v = w == 8 ? wdt_le64(r + i * w) : wdt_le32(r + i * w);
		if (map[i] >= 0) {
			if (!had_qemu)
				c->regs[map[i]] = v;
		} else if (map[i] <= -2 && !had_qemu) {
			c->segs[segof[-map[i]]].selector = (uint32_t)v;
		}
	}
	if (!had_qemu) {
		c->long_mode = w == 8;
		c->source = "NT_PRSTATUS";
	}
	c->have |= WDT_CPU_HAVE_GPRS | WDT_CPU_HAVE_SEGS;
	return 0;
}

/* QEMUCPUState version 1 (qemu-elf.md §7). */
static int parse_qemu(struct wdt_cpu *c, const uint8_t *d, size_t n,
		      uint64_t off, struct wdt_err *err)
{
	if (n < 8)
		return wdt_err_set(err, WDT_CORRUPT,
				   "QEMU note at 0x%" PRIx64 " too short", off);
	uint32_t version = wdt_le32(d), size = wdt_le32(d + 4);
	if (version != 1)
		return 0; /* a future layout: keep the note, skip the state */
	if (size < WDT_QEMU_CPUSTATE_MIN || size > n)
		return wdt_err_set(err, WDT_CORRUPT,
				   "QEMU CPU-state note at 0x%" PRIx64
				   " claims %u bytes (descriptor has %zu, "
				   "minimum 0x%x)",
				   off, size, n, WDT_QEMU_CPUSTATE_MIN);
	for (int i = 0; i < WDT_NREGS; i++)
		c->regs[i] = wdt_le64(d + 8 + 8 * i);
	for (int s = 0; s < WDT_NSEGS; s++) {
		const uint8_t *p =
		    d + WDT_QEMU_CPUSTATE_SEGS + WDT_QEMU_SEG_SIZE * s;
		c->segs[s].selector = wdt_le32(p);
		c->segs[s].limit = wdt_le32(p + 4);
		c->segs[s].flags = wdt_le32(p + 8);
		c->segs[s].base = wdt_le64(p + 16);
	}
	for (int i = 0; i < 5; i++)
		c->cr[i] = wdt_le64(d + WDT_QEMU_CPUSTATE_CR + 8 * i);
	c->have |= WDT_CPU_HAVE_GPRS | WDT_CPU_HAVE_SEGS | WDT_CPU_HAVE_SYSTEM;
	if (size >= WDT_QEMU_CPUSTATE_KGS) {
		c->kernel_gs_base = wdt_le64(d + 0x1B0);
		c->have |= WDT_CPU_HAVE_KGSBASE;
	}
	/* DESC_L_MASK (bit 21) of CS: executing 64-bit code. */
	c->long_mode = (c->segs[WDT_CS].flags >> 21) & 1;
	c->source = "QEMU note";
	return 0;
}

static void sanitize_name(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && src[i] && k + 1 < cap; i++)
		dst[k++] =
		    (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[k] = '\0';
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

int wdt_elf_parse_notes(struct wdt_image *img, const uint8_t *buf, size_t len,
			uint64_t file_off, struct wdt_err *err)
{
	size_t pos = 0, ncore = 0, nqemu = 0;

	while (pos < len) {
		uint64_t at = file_off + pos;
		if (!wdt_in_bounds(len, pos, 12))
			return wdt_err_set(err, WDT_CORRUPT,
					   "note at 0x%" PRIx64
					   ": header cut off by the end of the "
					   "note segment",
					   at);
		uint32_t namesz = wdt_le32(buf + pos);
		uint32_t descsz = wdt_le32(buf + pos + 4);
		uint32_t type = wdt_le32(buf + pos + 8);
		size_t name_off = pos + 12;
		if (!wdt_in_bounds(len, name_off, pad4(namesz)))
			return wdt_err_set(
			    err, WDT_CORRUPT,
			    "note at 0x%" PRIx64
			    ": name size %u runs past the end of "
			    "the note segment",
			    at, namesz);
		size_t desc_off = name_off + pad4(namesz);
		if (!wdt_in_bounds(len, desc_off, descsz))
			return wdt_err_set(err, WDT_CORRUPT,
					   "note at 0x%" PRIx64
					   ": descriptor size %u runs past the "
					   "end of the note segment",
					   at, descsz);
		struct wdt_note note = {.type = type,
					.desc_off = file_off + desc_off,
					.desc_size = descsz};
		sanitize_name(note.name, sizeof(note.name), buf + name_off,
			      namesz);
		if (wdt_image_add_note(img, &note, err) < 0)
			return -1;
		const uint8_t *d = buf + desc_off;
		if (strcmp(note.name, "CORE") == 0 && type == WDT_NT_PRSTATUS) {
			struct wdt_cpu *c = cpu_slot(img, ncore++, err);
			if (!c || parse_prstatus(c, d, descsz) < 0)
				return -1;
		} else if (strcmp(note.name, "QEMU") == 0 && type == 0) {
			struct wdt_cpu *c = cpu_slot(img, nqemu++, err);
			if (!c || parse_qemu(c, d, descsz, at, err) < 0)
				return -1;
		}
		/* descsz < 2^32 and pos < len: no overflow in size_t (64-bit).
		 */
		pos = desc_off + pad4(descsz);
	}
	return 0;
}

/* ---- program headers → runs ---- */

static int run_cmp(const void *a, const void *b)
{
	const struct wdt_run *x = a, *y = b;

	return x->pa < y->pa ? -1 : x->pa > y->pa;
}

/*
 * Paging-mode dumps (-p) may map the same physical bytes twice. Merge
 * overlaps that agree on the file bytes; any other overlap is corrupt
 * (left for wdt_image_finish_runs to report).
 */
static void merge_coherent(struct wdt_image *img)
{
	size_t k = 0;

	if (img->nruns == 0)
		return;
	qsort(img->runs, img->nruns, sizeof(*img->runs), run_cmp);
	for (size_t i = 1; i < img->nruns; i++) {
		struct wdt_run *a = &img->runs[k], *b = &img->runs[i];
		uint64_t a_end = a->pa + a->len;
		if (b->pa < a_end &&
		    b->file_off - b->pa == a->file_off - a->pa) {
			if (b->pa + b->len > a_end)
				a->len = b->pa + b->len - a->pa;
			continue;
		}
		img->runs[++k] = *b;
	}
	img->nruns = k + 1;
}

static int load_phdrs(struct wdt_image *img, struct elf_info *ei,
		      struct wdt_err *err)
{
	size_t entsz = ei->cls == 64 ? PHDR64_SIZE : PHDR32_SIZE;
	uint64_t size = img->src->size;

	if (ei->phnum == 0)
		return wdt_err_set(err, WDT_CORRUPT,
				   "no program headers: nothing to read");
	if (ei->phnum > PHNUM_MAX)
		return wdt_err_set(err, WDT_CORRUPT,
				   "absurd program header count %" PRIu32,
				   ei->phnum);
	if (!wdt_in_bounds(size, ei->phoff, (uint64_t)ei->phnum * entsz))
		return wdt_err_set(
		    err, WDT_TRUNCATED,
		    "%" PRIu32 " program headers at 0x%" PRIx64
		    " run past the end of the file (size 0x%" PRIx64 ")",
		    ei->phnum, ei->phoff, size);
	uint8_t *tab = malloc((size_t)ei->phnum * entsz);
	if (!tab)
		return wdt_err_nomem(err);
	if (wdt_source_read(img->src, tab, (size_t)ei->phnum * entsz, ei->phoff,
			    err) < 0) {
		free(tab);
		return wdt_err_prefix(err, "reading program headers");
	}
	int rc = 0;
	for (uint32_t i = 0; i < ei->phnum && rc == 0; i++) {
		struct phdr ph;
		uint64_t end;
		parse_phdr(tab + (size_t)i * entsz, ei->cls, &ph);
		if (ph.type == PT_NOTE) {
			if (ei->note_size)
				continue; /* QEMU writes one; use the first */
			if (!wdt_add_ok(ph.offset, ph.filesz, &end) ||
			    end > size)
				rc = wdt_err_set(err, WDT_TRUNCATED,
						 "note segment [0x%" PRIx64
						 ", +0x%" PRIx64
						 ") runs past the end of the "
						 "file (size 0x%" PRIx64 ")",
						 ph.offset, ph.filesz, size);
			ei->note_off = ph.offset;
			ei->note_size = ph.filesz;
			continue;
		}
		if (ph.type != PT_LOAD)
			continue;
		ei->nloads++;
		/* Paging-mode mappings not backed by dumped RAM. */
		if (ph.offset == UINT64_MAX || ph.filesz == 0)
			continue;
		if (ph.filesz > ph.memsz)
			rc = wdt_err_set(err, WDT_CORRUPT,
					 "program header %" PRIu32
					 ": file size 0x%" PRIx64
					 " exceeds memory size 0x%" PRIx64,
					 i, ph.filesz, ph.memsz);
		else if (!wdt_add_ok(ph.paddr, ph.filesz, &end))
			rc = wdt_err_set(err, WDT_CORRUPT,
					 "program header %" PRIu32
					 ": physical range 0x%" PRIx64
					 " + 0x%" PRIx64
					 " wraps the address space",
					 i, ph.paddr, ph.filesz);
		else if (!wdt_add_ok(ph.offset, ph.filesz, &end) || end > size)
			rc = wdt_err_set(
			    err, WDT_TRUNCATED,
			    "program header %" PRIu32
			    ": data for physical 0x%" PRIx64 "-0x%" PRIx64
			    " at file offset 0x%" PRIx64
			    " ends past the end of the file (size "
			    "0x%" PRIx64 "); the dump is truncated",
			    i, ph.paddr, ph.paddr + ph.filesz - 1, ph.offset,
			    size);
		else
			rc = wdt_image_add_run(img, ph.paddr, ph.filesz,
					       ph.offset, err);
	}
	free(tab);
	if (rc == 0)
		merge_coherent(img);
	return rc;
}

static int elf_open(struct wdt_image *img, struct wdt_err *err)
{
	uint8_t eh[EHDR64_SIZE];
	size_t got;
	struct elf_info *ei = calloc(1, sizeof(*ei));

	if (!ei)
		return wdt_err_nomem(err);
	img->priv = ei;
	if (wdt_source_pread(img->src, eh, sizeof(eh), 0, &got, err) < 0)
		return -1;
	if (parse_ehdr(eh, got, img->src->size, ei, err) < 0)
		return -1;
	if (ei->xnum && read_xnum(img, ei, err) < 0)
		return -1;
	if (load_phdrs(img, ei, err) < 0)
		return -1;
	if (ei->note_size) {
		if (ei->note_size > WDT_NOTES_MAX)
			return wdt_err_set(err, WDT_CORRUPT,
					   "note segment of 0x%" PRIx64
					   " bytes is implausibly large",
					   ei->note_size);
		uint8_t *nb = malloc(ei->note_size);
		if (!nb)
			return wdt_err_nomem(err);
		int rc = wdt_source_read(img->src, nb, ei->note_size,
					 ei->note_off, err);
		if (rc == 0)
			rc = wdt_elf_parse_notes(img, nb, ei->note_size,
						 ei->note_off, err);
		free(nb);
		if (rc < 0)
			return wdt_err_prefix(err, "notes");
	}
	snprintf(img->variant, sizeof(img->variant), "ELF%u core, %s%s",
		 ei->cls, ei->machine == EM_X86_64 ? "EM_X86_64" : "EM_386",
		 ei->machine == EM_386 && ei->cls == 64
		     ? " (CPU 0 was not in long mode)"
		     : "");
	return 0;
}

static void elf_describe(struct wdt_image *img, struct wdt_out *o)
{
	const struct elf_info *ei = img->priv;

	wdt_out_obj_begin(o, "elf", "ELF");
	wdt_out_u64(o, "class", "Class", ei->cls);
	wdt_out_str(o, "machine", "Machine",
		    ei->machine == EM_X86_64 ? "EM_X86_64" : "EM_386");
	wdt_out_u64(o, "program_headers", "Program headers", ei->phnum);
	wdt_out_bool(o, "pn_xnum", "PN_XNUM", ei->xnum);
	wdt_out_u64(o, "loads", "PT_LOAD segments", ei->nloads);
	wdt_out_hex(o, "note_offset", "Note offset", ei->note_off);
	wdt_out_u64_hex(o, "note_size", "Note size", ei->note_size);
	wdt_out_obj_end(o);
}

static void elf_close(struct wdt_image *img)
{
	free(img->priv);
	img->priv = NULL;
}

const struct wdt_format wdt_format_elf = {
    .name = "elf",
    .summary = "ELF core from QEMU dump-guest-memory / virsh dump "
	       "--memory-only (ELF64/ELF32, x86-64/i386)",
    .flags = WDT_FMT_HAS_CPUS,
    .probe = elf_probe,
    .open = elf_open,
    .describe = elf_describe,
    .close = elf_close,
};
