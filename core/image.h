/* SPDX-License-Identifier: MIT */
/*
 * A physical address space: sorted, non-overlapping runs, each backed by
 * the image's format reader, plus the CPU state and notes the image holds.
 * Formats (formats/) fill it in their open(); everything above reads guest
 * physical memory through wdt_image_read_phys() (any bytes) or, for bulk
 * copies, through per-thread page readers (wdt_image_reader_*), which the
 * writers' one body loop uses for every format.
 */
#ifndef WDT_CORE_IMAGE_H
#define WDT_CORE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/source.h"

struct wdt_out;
struct wdt_format;

struct wdt_run {
	uint64_t pa;	   /* first physical address */
	uint64_t len;	   /* bytes */
	uint64_t file_off; /* reader-defined; run readers: offset of pa */
};

/* Register indexes, in QEMUCPUState order (qemu-elf.md §7). */
enum wdt_reg {
	WDT_RAX,
	WDT_RBX,
	WDT_RCX,
	WDT_RDX,
	WDT_RSI,
	WDT_RDI,
	WDT_RSP,
	WDT_RBP,
	WDT_R8,
	WDT_R9,
	WDT_R10,
	WDT_R11,
	WDT_R12,
	WDT_R13,
	WDT_R14,
	WDT_R15,
	WDT_RIP,
	WDT_RFLAGS,
	WDT_NREGS
};

const char *wdt_reg_name(enum wdt_reg r);

struct wdt_seg {
	uint32_t selector;
	uint32_t limit;
	uint32_t flags; /* QEMU descriptor flags word */
	uint64_t base;
};

/* Segment indexes, in QEMUCPUState order. */
enum wdt_segreg {
	WDT_CS,
	WDT_DS,
	WDT_ES,
	WDT_FS,
	WDT_GS,
	WDT_SS,
	WDT_LDT,
	WDT_TR,
	WDT_GDT,
	WDT_IDT,
	WDT_NSEGS
};

const char *wdt_seg_name(enum wdt_segreg s);

/* Which parts of struct wdt_cpu are known. */
enum {
	WDT_CPU_HAVE_GPRS = 1u << 0,	 /* general registers, rip, rflags */
	WDT_CPU_HAVE_SEGS = 1u << 1,	 /* selectors (+ bases if QEMU note) */
	WDT_CPU_HAVE_SYSTEM = 1u << 2,	 /* cr0-4, gdt, idt, ldt, tr bases */
	WDT_CPU_HAVE_KGSBASE = 1u << 3,	 /* MSR KERNEL_GS_BASE */
	WDT_CPU_HAVE_EFER = 1u << 4,	 /* MSR EFER */
	WDT_CPU_HAVE_FSGSBASE = 1u << 5, /* fs_base/gs_base (prstatus) */
	/* A saved CONTEXT (a DMP's ContextRecord), not a processor's live
	 * state: index is not a processor number. */
	WDT_CPU_SAVED_CONTEXT = 1u << 6,
};

struct wdt_cpu {
	unsigned index; /* 0-based as the image numbers them */
	unsigned have;	/* WDT_CPU_HAVE_* */
	bool long_mode; /* state came from a 64-bit note */
	uint64_t regs[WDT_NREGS];
	struct wdt_seg segs[WDT_NSEGS];
	uint64_t cr[5];
	uint64_t efer;
	uint64_t kernel_gs_base;
	uint64_t fs_base, gs_base;
	const char *source; /* static string: "QEMU note", "NT_PRSTATUS", … */
};

/*
 * The most note bytes a format reads (ELF PT_NOTE segments, a kdump's
 * note area): real dumps carry a few KiB per CPU; more is hostile.
 */
#define WDT_NOTES_MAX (64u << 20)

struct wdt_note {
	char name[32]; /* owner name, NUL-terminated, sanitised */
	uint32_t type;
	uint64_t desc_off; /* offset of the descriptor in img->src */
	uint64_t desc_size;
};

/*
 * Facts a format's header states that the layers above would otherwise
 * search guest memory for (a DMP header's DirectoryTableBase), so they
 * need not know the format. method names the source in attempt logs
 * ("dmp-header"), what in sentences ("the DMP header"); static strings.
 * Stated values are still checked by their user, not trusted.
 */
struct wdt_image_hints {
	bool have_dtb;
	uint64_t dtb;
	const char *method, *what;
};

struct wdt_image {
	const struct wdt_format *fmt;
	struct wdt_source *src; /* owned; a format may wrap it in open() */
	char *path;		/* owned; for messages */
	char variant[96];	/* e.g. "ELF64, EM_X86_64" */
	uint64_t file_size;	/* of the file itself, before any wrapping */
	/* Set by the opener for open(): a decompressing format refuses
	 * more than max_ratio × file_size of output (0: no limit). */
	uint64_t max_ratio;

	struct wdt_run *runs; /* sorted by pa, non-overlapping */
	size_t nruns;
	size_t runs_cap;

	struct wdt_cpu *cpus;
	size_t ncpus;

	struct wdt_note *notes;
	size_t nnotes;

	struct wdt_image_hints hints; /* the format's open() fills them */

	void *priv; /* the format's */
};

/* Append a run; order does not matter until wdt_image_finish_runs(). */
int wdt_image_add_run(struct wdt_image *img, uint64_t pa, uint64_t len,
		      uint64_t file_off, struct wdt_err *err);

/*
 * Sort runs and check them: no zero length, no wrap past 2^64, no overlap.
 * CORRUPT with both ranges named on overlap.
 */
int wdt_image_finish_runs(struct wdt_image *img, struct wdt_err *err);

/* Index of the run holding pa, or -1 (binary search). */
long wdt_image_find_run(const struct wdt_image *img, uint64_t pa);

/* Total bytes in runs. */
uint64_t wdt_image_total(const struct wdt_image *img);

/*
 * Read exactly len bytes of guest physical memory at pa, across runs.
 * A byte outside every run: status NO_DATA, message naming the address
 * ("physical address 0x… is not in the image"). Corruption in the reader
 * has its own status. Never returns partial success.
 */
int wdt_image_read_phys(struct wdt_image *img, uint64_t pa, void *buf,
			size_t len, struct wdt_err *err);

/*
 * Per-thread page readers, for copying a whole image. Each thread makes
 * its own reader (buffers, decompression contexts); readers of one image
 * may run at once, on up to wdt_image_reader_threads() threads.
 *
 * wdt_image_reader_read() reads npages pages at pa (page aligned) into
 * buf (npages * WDT_PAGE_SIZE bytes). The range may lie partly or wholly
 * outside the runs: bytes in no run read as zero (the writers' spans widen
 * runs to whole pages and merge runs a page apart; they want zeros there,
 * not an error). zero may be NULL: then every page is stored in buf. With
 * zero (npages flags), zero[i] = 1 says page i is all zero and buf's page i
 * is then unspecified (left as it was or written: callers must not look at
 * it), zero[i] = 0 says buf's page i holds the page's bytes. A page a
 * format knows to be zero (kdump's shared zero page) is not decoded or
 * scanned again. Errors name the page that failed (the physical address,
 * or for kdump the PFN), with the reader's status (NO_DATA for a page the
 * dump lists but does not hold, CORRUPT, TRUNCATED, IO).
 *
 * Formats without reader ops get the default reader: pread of each run's
 * bytes at run->file_off (or fmt->read, if the format has one), zero flags
 * by scanning. It is thread-safe for file and memory sources. A source
 * that decodes one stream under a lock (gzip, zstd, xz, LZ4 raw:
 * src->serial) is thread-safe too, but several threads only make it seek
 * back and re-decode, so wdt_image_reader_threads() caps such images at
 * one thread: a capability, not a mutex in the reader, because the source
 * already serialises and the win is in not asking, not in waiting.
 * Returned readers are owned by the caller (wdt_image_reader_free; NULL
 * is fine). The image must outlive its readers.
 */
struct wdt_image_reader;

struct wdt_image_reader *wdt_image_reader_new(struct wdt_image *img,
					      struct wdt_err *err);
int wdt_image_reader_read(struct wdt_image_reader *r, uint64_t pa,
			  size_t npages, void *buf, uint8_t *zero,
			  struct wdt_err *err);
void wdt_image_reader_free(struct wdt_image_reader *r);

/* Readers worth running on img at once when `want` (>= 1) are asked. */
unsigned wdt_image_reader_threads(const struct wdt_image *img, unsigned want);

/*
 * The default reader's read, for formats whose reader falls back to it
 * for some images (kdump with blocks other than 4 KiB).
 */
int wdt_image_read_pages(struct wdt_image *img, uint64_t pa, size_t npages,
			 void *buf, uint8_t *zero, struct wdt_err *err);

/* Append CPU / note records (copied). */
int wdt_image_add_cpu(struct wdt_image *img, const struct wdt_cpu *cpu,
		      struct wdt_err *err);
int wdt_image_add_note(struct wdt_image *img, const struct wdt_note *note,
		       struct wdt_err *err);

/* Free everything the image owns (also calls fmt->close). NULL is fine. */
void wdt_image_close(struct wdt_image *img);

/*
 * A format: a const ops table. Detection calls probe() on the first bytes
 * of the file; the highest score wins (0 = not this format).
 */
enum {
	WDT_FMT_HAS_CPUS = 1u << 0, /* may carry CPU state */
	WDT_FMT_FALLBACK = 1u << 1, /* weak probe (no magic) */
};

#define WDT_PROBE_HEAD 8192u /* bytes given to probe() */

struct wdt_format {
	const char *name;    /* "elf", "raw", … (--format=NAME) */
	const char *summary; /* one line for --list-formats */
	unsigned flags;
	/* Score 0..100 from the first bytes (len may be < WDT_PROBE_HEAD). */
	int (*probe)(const uint8_t *head, size_t len, uint64_t size);
	/* Fill runs/cpus/notes/variant. img->src and img->path are set. */
	int (*open)(struct wdt_image *img, struct wdt_err *err);
	/*
	 * Read [pa, pa+len) which lies entirely inside *run. NULL means the
	 * default: the bytes are at run->file_off + (pa - run->pa) in src.
	 */
	int (*read)(struct wdt_image *img, const struct wdt_run *run,
		    uint64_t pa, void *buf, size_t len, struct wdt_err *err);
	/*
	 * Per-thread page reader (all three NULL: the default reader, see
	 * wdt_image_reader_read() for the contract reader_read keeps).
	 */
	void *(*reader_new)(struct wdt_image *img, struct wdt_err *err);
	int (*reader_read)(void *r, uint64_t pa, size_t npages, void *buf,
			   uint8_t *zero, struct wdt_err *err);
	void (*reader_free)(void *r);
	/* Add format-specific facts to `wdt info` output (may be NULL). */
	void (*describe)(struct wdt_image *img, struct wdt_out *out);
	/* Free priv (may be NULL). */
	void (*close)(struct wdt_image *img);
};

#endif
