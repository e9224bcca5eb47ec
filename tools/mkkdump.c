/*
 * mkkdump — convert a QEMU dump-guest-memory ELF core into a
 * kdump-compressed ("KDUMP   ") file, raw or makedumpfile-flattened.
 *
 * A test-data generator for wdt, written from ../shared/spec/kdump.md and
 * qemu-elf.md only. It deliberately shares no code with wdt's readers
 * (no core/ or formats/ headers, no libwdt.a) so that a bug in a reader
 * cannot hide behind the same bug in the writer.
 *
 * Memory use does not grow with the image except for the page bitmap
 * (one bit per PFN up to the highest dumped address): pages are read,
 * compressed and written one at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#define PAGE 4096u

/* kdump.md §2 (x86-64 disk_dump_header) */
#define DH_SIGNATURE 0x000
#define DH_VERSION 0x008
#define DH_MACHINE 0x110
#define DH_STATUS 0x1A8
#define DH_BLOCK_SIZE 0x1AC
#define DH_SUB_HDR_SIZE 0x1B0
#define DH_BITMAP_BLOCKS 0x1B4
#define DH_MAX_MAPNR 0x1B8
#define DH_NR_CPUS 0x1CC
/* kdump.md §3 (kdump_sub_header, 0x68 bytes at block_size) */
#define SH_PHYS_BASE 0x00
#define SH_DUMP_LEVEL 0x08
#define SH_OFF_VMCOREINFO 0x20
#define SH_SIZE_VMCOREINFO 0x28
#define SH_OFF_NOTE 0x30
#define SH_SIZE_NOTE 0x38
#define SH_MAX_MAPNR_64 0x60
#define SH_SIZE 0x68
/* kdump.md §2.1 */
#define F_ZLIB 0x01
#define F_LZO 0x02
#define F_SNAPPY 0x04
#define F_ZSTD 0x20
/* kdump.md §5 */
#define DESC_SIZE 24
/* kdump.md §7 */
#define FLAT_HDR_SIZE 4096

/* exit codes, as wdt's: 2 usage, 3 bad input, 4 environment */
enum { EX_USAGE_ = 2, EX_INPUT = 3, EX_ENV = 4 };

struct load {
	uint64_t paddr, off, filesz;
};

struct input {
	const char *path;
	int fd;
	uint64_t size;
	int is64;
	unsigned machine;
	struct load *loads; /* sorted by paddr */
	size_t nloads, cursor;
	uint8_t *notes;
	size_t note_size;
};

struct rec {
	uint64_t off;
	size_t len;
	uint8_t *data;
};

#define SCRAMBLE_WINDOW 7

struct out {
	int fd;
	const char *path;
	int flat;
	int scramble;
	size_t rec_max;
	uint8_t *buf; /* coalesces contiguous writes */
	size_t buf_len, buf_cap;
	uint64_t buf_off;
	uint64_t stream_pos; /* flat: bytes written to the stream */
	struct rec win[SCRAMBLE_WINDOW];
	size_t nwin;
};

struct codec {
	const char *name;
	uint32_t flag;
};

static const struct codec codecs[] = {
    {"zlib", F_ZLIB}, {"lzo", F_LZO}, {"snappy", F_SNAPPY},
    {"zstd", F_ZSTD}, {"none", 0},
};

struct opts {
	const struct codec *codec;
	int flat, scramble, exclude_zero, force;
	size_t rec_max;
	int header_version;
	const char *in, *outp;
};

static char tmp_path[PATH_MAX];

static void on_signal(int sig)
{
	if (tmp_path[0])
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void die(int code, const char *fmt, ...)
{
	va_list ap;
	fputs("mkkdump: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (tmp_path[0])
		unlink(tmp_path);
	exit(code);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die(EX_ENV, "out of memory");
	return p;
}

static uint16_t ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t ld32(const uint8_t *p)
{
	return ld16(p) | (uint32_t)ld16(p + 2) << 16;
}
static uint64_t ld64(const uint8_t *p)
{
	return ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

static void st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

static void st64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

static void stbe64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> 8 * (7 - i));
}

/* Reads exactly len bytes at off or dies naming what was being read. */
static void in_read(struct input *in, void *buf, size_t len, uint64_t off,
		    const char *what)
{
	uint8_t *p = buf;
	if (off > in->size || len > in->size - off)
		die(EX_INPUT,
		    "%s: %s at 0x%" PRIx64 "+0x%zx: beyond end of file"
		    " (size 0x%" PRIx64 ")",
		    in->path, what, off, len, in->size);
	while (len) {
		ssize_t n = pread(in->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EX_ENV, "%s: reading %s: %s", in->path, what,
			    strerror(errno));
		if (n == 0)
			die(EX_INPUT, "%s: %s: unexpected end of file",
			    in->path, what);
		p += n, len -= (size_t)n, off += (uint64_t)n;
	}
}

static int cmp_load(const void *a, const void *b)
{
	const struct load *x = a, *y = b;
	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/* ELF class-dependent field offsets (ELF gABI). */
struct elf_layout {
	size_t ehsize, phoff, shoff, phentsize_off, phnum_off, phent;
	size_t p_offset, p_paddr, p_filesz, sh_info;
};

static const struct elf_layout elf64 = {64, 0x20, 0x28, 0x36, 0x38,
					56, 0x08, 0x18, 0x20, 0x2C};
static const struct elf_layout elf32 = {52, 0x1C, 0x20, 0x2A, 0x2C,
					32, 0x04, 0x0C, 0x10, 0x1C};

static uint64_t ldw(const uint8_t *p, int is64)
{
	return is64 ? ld64(p) : ld32(p);
}

static void open_input(struct input *in)
{
	uint8_t eh[64], ph[56];
	struct stat st;
	in->fd = open(in->path, O_RDONLY);
	if (in->fd < 0)
		die(EX_INPUT, "%s: %s", in->path, strerror(errno));
	if (fstat(in->fd, &st) < 0)
		die(EX_ENV, "%s: %s", in->path, strerror(errno));
	in->size = (uint64_t)st.st_size;
	if (in->size < 52)
		die(EX_INPUT, "%s: too small for an ELF header", in->path);
	in_read(in, eh, in->size < 64 ? 52 : 64, 0, "ELF header");
	if (memcmp(eh, "\177ELF", 4))
		die(EX_INPUT, "%s: not an ELF file", in->path);
	if (eh[4] != 1 && eh[4] != 2)
		die(EX_INPUT, "%s: bad ELF class %u", in->path, eh[4]);
	if (eh[5] != 1)
		die(EX_INPUT, "%s: only little-endian ELF is supported",
		    in->path);
	in->is64 = eh[4] == 2;
	const struct elf_layout *L = in->is64 ? &elf64 : &elf32;
	if (in->is64 && in->size < 64)
		die(EX_INPUT, "%s: truncated ELF header", in->path);
	if (ld16(eh + 0x10) != 4)
		die(EX_INPUT, "%s: not an ELF core (e_type %u)", in->path,
		    ld16(eh + 0x10));
	in->machine = ld16(eh + 0x12);
	if (in->machine != 62 && in->machine != 3)
		die(EX_INPUT, "%s: unsupported e_machine %u (want x86)",
		    in->path, in->machine);
	uint64_t phoff = ldw(eh + L->phoff, in->is64);
	uint64_t phnum = ld16(eh + L->phnum_off);
	if (ld16(eh + L->phentsize_off) != L->phent)
		die(EX_INPUT, "%s: e_phentsize %u, want %zu", in->path,
		    ld16(eh + L->phentsize_off), L->phent);
	if (phnum == 0xFFFF) { /* PN_XNUM: real count in shdr 0 sh_info */
		uint8_t sh[4];
		uint64_t shoff = ldw(eh + L->shoff, in->is64);
		if (!shoff)
			die(EX_INPUT,
			    "%s: e_phnum is PN_XNUM but there is no"
			    " section header",
			    in->path);
		in_read(in, sh, 4, shoff + L->sh_info, "section header 0");
		phnum = ld32(sh);
	}
	if (phnum >
	    (in->size - (phoff < in->size ? phoff : in->size)) / L->phent)
		die(EX_INPUT,
		    "%s: %" PRIu64 " program headers at 0x%" PRIx64
		    " do not fit in the file",
		    in->path, phnum, phoff);
	in->loads = xcalloc(phnum, sizeof(*in->loads));
	for (uint64_t i = 0; i < phnum; i++) {
		in_read(in, ph, L->phent, phoff + i * L->phent,
			"program header");
		uint32_t type = ld32(ph);
		uint64_t off = ldw(ph + L->p_offset, in->is64);
		uint64_t paddr = ldw(ph + L->p_paddr, in->is64);
		uint64_t filesz = ldw(ph + L->p_filesz, in->is64);
		if (type != 1 && type != 4)
			continue;
		if (off > in->size || filesz > in->size - off)
			die(EX_INPUT,
			    "%s: segment %" PRIu64 " (offset 0x%" PRIx64
			    ", size 0x%" PRIx64 ") runs past end of file",
			    in->path, i, off, filesz);
		if (type == 4) {
			if (filesz > (64u << 20) - in->note_size)
				die(EX_INPUT, "%s: notes too large", in->path);
			in->notes =
			    realloc(in->notes, in->note_size + filesz + 1);
			if (!in->notes)
				die(EX_ENV, "out of memory");
			in_read(in, in->notes + in->note_size, filesz, off,
				"notes");
			in->note_size += filesz;
			continue;
		}
		if (!filesz)
			continue;
		if (paddr > UINT64_MAX - filesz)
			die(EX_INPUT,
			    "%s: segment %" PRIu64 " wraps the address"
			    " space",
			    in->path, i);
		in->loads[in->nloads++] = (struct load){paddr, off, filesz};
	}
	qsort(in->loads, in->nloads, sizeof(*in->loads), cmp_load);
}

/* Copies into page (PAGE bytes) the dumped bytes of PFN pfn, zero elsewhere.
 * PFNs must be asked in ascending order (a cursor walks the sorted loads). */
static void read_page(struct input *in, uint64_t pfn, uint8_t *page)
{
	uint64_t lo = pfn * PAGE, hi = lo + PAGE;
	memset(page, 0, PAGE);
	while (in->cursor < in->nloads) {
		const struct load *l = &in->loads[in->cursor];
		if (l->paddr + l->filesz > lo)
			break;
		in->cursor++;
	}
	for (size_t i = in->cursor; i < in->nloads; i++) {
		const struct load *l = &in->loads[i];
		if (l->paddr >= hi)
			break;
		uint64_t a = l->paddr > lo ? l->paddr : lo;
		uint64_t b =
		    l->paddr + l->filesz < hi ? l->paddr + l->filesz : hi;
		if (a < b)
			in_read(in, page + (a - lo), b - a,
				l->off + (a - l->paddr), "memory");
	}
}

/* ---- output: raw file or flattened records ---- */

static void xwrite(struct out *o, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(o->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EX_ENV, "%s: write: %s", o->path, strerror(errno));
		p += n, len -= (size_t)n;
	}
	o->stream_pos += (uint64_t)(p - (const uint8_t *)buf);
}

static void emit_record(struct out *o, uint64_t off, const void *data,
			size_t len)
{
	uint8_t h[16];
	stbe64(h, off);
	stbe64(h + 8, len);
	xwrite(o, h, 16);
	xwrite(o, data, len);
}

static void drain_window(struct out *o)
{
	/* Emitting a window of disjoint records backwards makes the stream
	 * out of order without changing the rearranged result. */
	while (o->nwin) {
		struct rec *r = &o->win[--o->nwin];
		emit_record(o, r->off, r->data, r->len);
		free(r->data);
	}
}

static void put_record(struct out *o, uint64_t off, const uint8_t *data,
		       size_t len)
{
	if (!o->scramble) {
		emit_record(o, off, data, len);
		return;
	}
	struct rec *r = &o->win[o->nwin++];
	r->off = off;
	r->len = len;
	r->data = xcalloc(1, len);
	memcpy(r->data, data, len);
	if (o->nwin == SCRAMBLE_WINDOW)
		drain_window(o);
}

static void out_direct(struct out *o, uint64_t off, const uint8_t *p,
		       size_t len)
{
	if (!o->flat) {
		while (len) {
			ssize_t n = pwrite(o->fd, p, len, (off_t)off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die(EX_ENV, "%s: write: %s", o->path,
				    strerror(errno));
			p += n, len -= (size_t)n, off += (uint64_t)n;
		}
		return;
	}
	while (len) {
		size_t n = len < o->rec_max ? len : o->rec_max;
		put_record(o, off, p, n);
		p += n, len -= n, off += n;
	}
}

static void out_flush(struct out *o)
{
	if (o->buf_len)
		out_direct(o, o->buf_off, o->buf, o->buf_len);
	o->buf_len = 0;
}

/* Writes len bytes destined for offset off of the kdump file. */
static void out_put(struct out *o, uint64_t off, const void *data, size_t len)
{
	if (o->buf_len &&
	    (off != o->buf_off + o->buf_len || o->buf_len + len > o->buf_cap))
		out_flush(o);
	if (len > o->buf_cap) {
		out_direct(o, off, data, len);
		return;
	}
	if (!o->buf_len)
		o->buf_off = off;
	memcpy(o->buf + o->buf_len, data, len);
	o->buf_len += len;
}

/* Flattened only: records that later records overwrite entirely, so a
 * reader must let the last record win (kdump.md §7). */
static void decoy(struct out *o, uint64_t off, size_t len)
{
	uint8_t junk[100 * DESC_SIZE];
	memset(junk, 0xA5, sizeof(junk));
	while (len) {
		size_t n = len < o->rec_max ? len : o->rec_max;
		emit_record(o, off, junk, n);
		off += n, len -= n;
	}
}

static void out_decoys(struct out *o, uint64_t desc_off, uint64_t ndesc)
{
	decoy(o, 0, 0x200);
	decoy(o, PAGE - 256, 512); /* straddles header and sub-header */
	decoy(o, desc_off, (size_t)(ndesc < 100 ? ndesc : 100) * DESC_SIZE);
}

static void out_open(struct out *o, const struct opts *op)
{
	char *slash;
	size_t n = strlen(op->outp);
	if (n + 16 >= sizeof(tmp_path))
		die(EX_USAGE_, "%s: path too long", op->outp);
	memcpy(tmp_path, op->outp, n + 1);
	slash = strrchr(tmp_path, '/');
	snprintf(slash ? slash + 1 : tmp_path,
		 sizeof(tmp_path) - (size_t)(slash ? slash + 1 - tmp_path : 0),
		 ".mkkdump.XXXXXX");
	o->fd = mkstemp(tmp_path);
	if (o->fd < 0) {
		int e = errno;
		tmp_path[0] = 0;
		die(EX_ENV, "%s: cannot create temporary file: %s", op->outp,
		    strerror(e));
	}
	o->path = op->outp;
	o->flat = op->flat;
	o->scramble = op->flat && op->scramble;
	o->rec_max = op->rec_max;
	o->buf_cap = op->flat ? op->rec_max : (1u << 20);
	o->buf = xcalloc(1, o->buf_cap);
	if (o->flat) {
		uint8_t h[FLAT_HDR_SIZE] = {0};
		memcpy(h, "makedumpfile", 12);
		stbe64(h + 16, 1); /* TYPE_FLAT_HEADER */
		stbe64(h + 24, 1); /* VERSION_FLAT_HEADER */
		xwrite(o, h, sizeof(h));
	}
}

static void out_close(struct out *o)
{
	out_flush(o);
	drain_window(o);
	if (o->flat) {
		uint8_t end[16];
		memset(end, 0xFF, sizeof(end)); /* (-1, -1) end marker */
		xwrite(o, end, sizeof(end));
	}
	if (fchmod(o->fd, 0644) < 0 || fsync(o->fd) < 0 || close(o->fd) < 0)
		die(EX_ENV, "%s: %s", o->path, strerror(errno));
	if (rename(tmp_path, o->path) < 0)
		die(EX_ENV, "%s: rename: %s", o->path, strerror(errno));
	tmp_path[0] = 0;
	free(o->buf);
}

/* ---- compression ---- */

struct compressor {
	uint32_t flag;
	uint8_t *dst;
	size_t cap;
	void *lzo_wrk;
	ZSTD_CCtx *zctx;
};

static void comp_init(struct compressor *c, uint32_t flag)
{
	c->flag = flag;
	c->cap = 2 * PAGE + 1024; /* above every codec's bound for 4 KiB */
	c->dst = xcalloc(1, c->cap);
	if (flag == F_LZO) {
		if (lzo_init() != LZO_E_OK)
			die(EX_ENV, "lzo_init failed");
		c->lzo_wrk = xcalloc(1, LZO1X_1_MEM_COMPRESS);
	}
	if (flag == F_ZSTD && !(c->zctx = ZSTD_createCCtx()))
		die(EX_ENV, "ZSTD_createCCtx failed");
}

/* Returns the compressed size in c->dst, or 0 when the codec did not
 * shrink the page (then it is stored raw, as QEMU and makedumpfile do). */
static size_t comp_page(struct compressor *c, const uint8_t *page)
{
	size_t n = 0;
	switch (c->flag) {
	case F_ZLIB: {
		uLongf len = (uLongf)c->cap;
		if (compress2(c->dst, &len, page, PAGE, Z_BEST_SPEED) == Z_OK)
			n = len;
		break;
	}
	case F_LZO: {
		lzo_uint len = c->cap;
		if (lzo1x_1_compress(page, PAGE, c->dst, &len, c->lzo_wrk) ==
		    LZO_E_OK)
			n = len;
		break;
	}
	case F_SNAPPY: {
		size_t len = c->cap;
		if (snappy_compress((const char *)page, PAGE, (char *)c->dst,
				    &len) == SNAPPY_OK)
			n = len;
		break;
	}
	case F_ZSTD: {
		size_t r =
		    ZSTD_compressCCtx(c->zctx, c->dst, c->cap, page, PAGE, 1);
		if (!ZSTD_isError(r))
			n = r;
		break;
	}
	default:
		break;
	}
	return n < PAGE ? n : 0;
}

/* ---- kdump layout ---- */

static int bit(const uint8_t *bm, uint64_t pfn)
{
	return bm[pfn >> 3] >> (pfn & 7) & 1;
}

static int is_zero(const uint8_t *p)
{
	for (size_t i = 0; i < PAGE; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Counts NT_PRSTATUS notes named CORE and finds the VMCOREINFO note's
 * descriptor (qemu-elf.md §4, kdump.md §6). Malformed notes end the walk:
 * the blob is still copied verbatim. */
static uint32_t scan_notes(const uint8_t *n, size_t size, uint64_t *vmci_off,
			   uint64_t *vmci_size)
{
	uint32_t cpus = 0;
	size_t pos = 0;
	*vmci_off = *vmci_size = 0;
	while (size - pos >= 12) {
		uint32_t namesz = ld32(n + pos), descsz = ld32(n + pos + 4);
		uint32_t type = ld32(n + pos + 8);
		size_t name = pos + 12;
		size_t desc = name + ((namesz + 3ull) & ~3ull);
		if (desc > size || ((descsz + 3ull) & ~3ull) > size - desc)
			break;
		if (namesz == 5 && !memcmp(n + name, "CORE", 5) && type == 1)
			cpus++;
		if (namesz == 11 && !memcmp(n + name, "VMCOREINFO", 11)) {
			*vmci_off = desc;
			*vmci_size = descsz;
		}
		pos = desc + ((descsz + 3ull) & ~3ull);
	}
	return cpus;
}

static void convert(struct input *in, const struct opts *op)
{
	uint64_t end = 0, max_mapnr, bm_len, bm_blocks, ndesc = 0;
	for (size_t i = 0; i < in->nloads; i++) {
		uint64_t e = in->loads[i].paddr + in->loads[i].filesz;
		end = e > end ? e : end;
	}
	max_mapnr = end / PAGE + (end % PAGE != 0);
	if (max_mapnr > (1ull << 33)) /* 32 TiB: a 1 GiB bitmap */
		die(EX_INPUT,
		    "%s: highest address 0x%" PRIx64 " is too large"
		    " for a page bitmap",
		    in->path, end);
	if (op->header_version < 6 && max_mapnr > UINT32_MAX)
		die(EX_USAGE_,
		    "%s: header version %d cannot describe %" PRIu64 " PFNs",
		    in->path, op->header_version, max_mapnr);
	bm_len = (max_mapnr + 7) / 8;
	bm_blocks = (bm_len + PAGE - 1) / PAGE;
	if (!bm_blocks)
		bm_blocks = 1;
	uint8_t *bm1 = xcalloc(bm_blocks, PAGE),
		*bm2 = xcalloc(bm_blocks, PAGE);
	uint8_t *page = xcalloc(1, PAGE);

	/* 1st bitmap: every PFN inside a PT_LOAD (kdump.md §4, QEMU). */
	for (size_t i = 0; i < in->nloads; i++) {
		const struct load *l = &in->loads[i];
		for (uint64_t p = l->paddr / PAGE;
		     p * PAGE < l->paddr + l->filesz; p++)
			bm1[p >> 3] |= (uint8_t)(1u << (p & 7));
	}
	memcpy(bm2, bm1, bm_blocks * PAGE);
	int have_zero = 0;
	if (op->exclude_zero) {
		/* makedumpfile dump_level bit 1: zero pages leave the dump */
		for (uint64_t p = 0; p < max_mapnr; p++)
			if (bit(bm1, p)) {
				read_page(in, p, page);
				if (is_zero(page))
					bm2[p >> 3] &=
					    (uint8_t) ~(1u << (p & 7));
			}
		in->cursor = 0;
	}
	for (uint64_t p = 0; p < max_mapnr; p++)
		ndesc += (uint64_t)bit(bm2, p);

	uint64_t note_at = PAGE + SH_SIZE; /* 0x1068 */
	uint64_t sub_blocks = (SH_SIZE + in->note_size + PAGE - 1) / PAGE;
	uint64_t bm_off = (1 + sub_blocks) * PAGE;
	uint64_t desc_off = bm_off + 2 * bm_blocks * PAGE;
	uint64_t data_off = desc_off + ndesc * DESC_SIZE;
	uint64_t vmci_off, vmci_size;
	uint32_t cpus =
	    scan_notes(in->notes, in->note_size, &vmci_off, &vmci_size);

	struct out o = {0};
	out_open(&o, op);
	if (o.scramble)
		out_decoys(&o, desc_off, ndesc);

	/* Sub-header block(s) with the notes copied verbatim. */
	uint8_t *sub = xcalloc(sub_blocks, PAGE);
	int hv = op->header_version;
	st64(sub + SH_PHYS_BASE, 0);
	st32(sub + SH_DUMP_LEVEL, 1);
	if (hv >= 3 && vmci_size) {
		st64(sub + SH_OFF_VMCOREINFO, note_at + vmci_off);
		st64(sub + SH_SIZE_VMCOREINFO, vmci_size);
	}
	if (hv >= 4) {
		st64(sub + SH_OFF_NOTE, note_at);
		st64(sub + SH_SIZE_NOTE, in->note_size);
	}
	if (hv >= 6)
		st64(sub + SH_MAX_MAPNR_64, max_mapnr);
	if (in->note_size)
		memcpy(sub + SH_SIZE, in->notes, in->note_size);
	out_put(&o, PAGE, sub, sub_blocks * PAGE);
	free(sub);
	out_put(&o, bm_off, bm1, bm_blocks * PAGE);
	out_put(&o, bm_off + bm_blocks * PAGE, bm2, bm_blocks * PAGE);

	struct compressor c = {0};
	comp_init(&c, op->codec->flag);
	uint64_t pos = data_off, zero_at = 0;
	if (!op->exclude_zero) {
		/* QEMU: one shared zero page first (kdump.md §5) */
		memset(page, 0, PAGE);
		zero_at = pos;
		out_put(&o, pos, page, PAGE);
		pos += PAGE;
		have_zero = 1;
	}
	enum { DESC_BATCH = 170 }; /* ~4 KiB of descriptors per write */
	uint8_t descs[DESC_BATCH * DESC_SIZE];
	uint64_t k = 0, batch_start = 0;
	for (uint64_t p = 0; p < max_mapnr; p++) {
		if (!bit(bm2, p))
			continue;
		uint8_t *d = descs + (k - batch_start) * DESC_SIZE;
		memset(d, 0, DESC_SIZE);
		read_page(in, p, page);
		if (have_zero && is_zero(page)) {
			st64(d, zero_at);
			st32(d + 8, PAGE);
		} else {
			size_t n = comp_page(&c, page);
			st64(d, pos);
			st32(d + 8, n ? (uint32_t)n : PAGE);
			st32(d + 12, n ? c.flag : 0);
			out_put(&o, pos, n ? c.dst : page, n ? n : PAGE);
			pos += n ? n : PAGE;
		}
		if (++k - batch_start == DESC_BATCH || k == ndesc) {
			out_put(&o, desc_off + batch_start * DESC_SIZE, descs,
				(size_t)(k - batch_start) * DESC_SIZE);
			batch_start = k;
		}
	}

	/* Header last: an interrupted run leaves no valid signature. */
	memset(page, 0, PAGE);
	memcpy(page + DH_SIGNATURE, "KDUMP   ", 8);
	st32(page + DH_VERSION, (uint32_t)hv);
	memcpy(page + DH_MACHINE, "x86_64",
	       6); /* what qemu-system-x86_64 writes */
	st32(page + DH_STATUS, c.flag);
	st32(page + DH_BLOCK_SIZE, PAGE);
	st32(page + DH_SUB_HDR_SIZE, (uint32_t)sub_blocks);
	st32(page + DH_BITMAP_BLOCKS, (uint32_t)(2 * bm_blocks));
	st32(page + DH_MAX_MAPNR,
	     max_mapnr > UINT32_MAX ? UINT32_MAX : (uint32_t)max_mapnr);
	st32(page + DH_NR_CPUS, cpus);
	out_put(&o, 0, page, PAGE);
	out_close(&o);
	free(c.dst);
	free(c.lzo_wrk);
	ZSTD_freeCCtx(c.zctx);
	free(bm1);
	free(bm2);
	free(page);
}

static const char usage[] =
    "usage: mkkdump [--codec zlib|lzo|snappy|zstd|none] [--flat]\n"
    "               [--split-records N] [--scramble] [--exclude-zero]\n"
    "               [--header-version 1..6] [--force] INPUT.elf OUTPUT\n"
    "Converts a QEMU dump-guest-memory ELF core to a kdump-compressed file.\n"
    "  --codec C            page compression (default zlib)\n"
    "  --flat               makedumpfile flattened layout (records)\n"
    "  --split-records N    flattened records of at most N bytes (16384)\n"
    "  --scramble           flattened: records out of order, and decoy\n"
    "                       records that later ones overwrite\n"
    "  --exclude-zero       leave zero pages out of the 2nd bitmap\n"
    "  --header-version V   disk_dump_header version (default 6)\n"
    "  --force              overwrite OUTPUT if it exists\n";

static void parse_args(int argc, char **argv, struct opts *op)
{
	static const struct option lo[] = {
	    {"codec", required_argument, 0, 'c'},
	    {"flat", no_argument, 0, 'f'},
	    {"split-records", required_argument, 0, 's'},
	    {"scramble", no_argument, 0, 'x'},
	    {"exclude-zero", no_argument, 0, 'z'},
	    {"header-version", required_argument, 0, 'v'},
	    {"force", no_argument, 0, 'F'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	int ch;
	char *e;
	op->codec = &codecs[0];
	op->rec_max = 4 * PAGE; /* QEMU's BUFSIZE_DATA_CACHE */
	op->header_version = 6;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			op->codec = NULL;
			for (size_t i = 0; i < sizeof(codecs) / sizeof(*codecs);
			     i++)
				if (!strcmp(optarg, codecs[i].name))
					op->codec = &codecs[i];
			if (!op->codec)
				die(EX_USAGE_, "unknown codec '%s'", optarg);
			break;
		case 'f':
			op->flat = 1;
			break;
		case 'x':
			op->scramble = 1;
			break;
		case 'z':
			op->exclude_zero = 1;
			break;
		case 'F':
			op->force = 1;
			break;
		case 's': {
			unsigned long long v = strtoull(optarg, &e, 0);
			if (*e || !*optarg || v < 1 || v > (64u << 20))
				die(EX_USAGE_,
				    "--split-records: want 1..64Mi, got"
				    " '%s'",
				    optarg);
			op->rec_max = (size_t)v;
			break;
		}
		case 'v': {
			long v = strtol(optarg, &e, 10);
			if (*e || !*optarg || v < 1 || v > 6)
				die(EX_USAGE_,
				    "--header-version: want 1..6, got"
				    " '%s'",
				    optarg);
			op->header_version = (int)v;
			break;
		}
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			exit(EX_USAGE_);
		}
	}
	if (argc - optind != 2) {
		fputs(usage, stderr);
		exit(EX_USAGE_);
	}
	op->in = argv[optind];
	op->outp = argv[optind + 1];
}

int main(int argc, char **argv)
{
	struct opts op = {0};
	struct input in = {0};
	struct stat si, so;
	parse_args(argc, argv, &op);
	in.path = op.in;
	if (stat(op.outp, &so) == 0) {
		if (stat(op.in, &si) == 0 && si.st_dev == so.st_dev &&
		    si.st_ino == so.st_ino)
			die(EX_USAGE_, "%s: output is the input", op.outp);
		if (!op.force)
			die(EX_USAGE_, "%s: exists (use --force)", op.outp);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	open_input(&in);
	convert(&in, &op);
	close(in.fd);
	free(in.loads);
	free(in.notes);
	return 0;
}
