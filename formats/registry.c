/* SPDX-License-Identifier: MIT */
#include "formats/registry.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/compressed.h"
#include "formats/dmp.h"
#include "formats/elf.h"
#include "formats/kdump.h"
#include "formats/libvirt.h"
#include "formats/qevm.h"
#include "formats/raw.h"
#include "core/bytes.h"

/* Formats with a magic first; "raw" (no magic) last. */
const struct wdt_format *const wdt_formats[] = {
    &wdt_format_elf,	 &wdt_format_kdump, &wdt_format_raw_gzip,
    &wdt_format_raw_lz4, &wdt_format_qevm,  &wdt_format_libvirt,
    &wdt_format_dmp,	 &wdt_format_raw,   NULL,
};

/* ---- files that are not memory images, recognised to say what to do ---- */

#define TAKE_DUMP                                                              \
	"take one with 'virsh dump --memory-only DOMAIN FILE' or QMP "         \
	"dump-guest-memory"

/* e_machine values worth a name (ELF gABI, "Machine" table). */
static const struct {
	unsigned em;
	const char *name;
} elf_machines[] = {
    {2, "SPARC"},     {8, "MIPS"},     {20, "PowerPC"},	   {21, "PowerPC 64"},
    {22, "s390"},     {40, "ARM"},     {43, "SPARC v9"},   {50, "IA-64"},
    {183, "AArch64"}, {243, "RISC-V"}, {258, "LoongArch"},
};

/* An ELF file for a machine other than x86 (EM_386 3, EM_X86_64 62). */
static bool foreign_elf(const uint8_t *h, size_t len, char *d, size_t dlen)
{
	unsigned em, type;
	const char *name = NULL;

	if (len < 20 || (h[5] != 1 && h[5] != 2)) /* EI_DATA: LSB, MSB */
		return false;
	em = h[5] == 1 ? wdt_le16(h + 18) : (unsigned)(h[18] << 8 | h[19]);
	type = h[5] == 1 ? wdt_le16(h + 16) : (unsigned)(h[16] << 8 | h[17]);
	if (em == 3 || em == 62)
		return false;
	for (size_t i = 0; i < sizeof(elf_machines) / sizeof(*elf_machines);
	     i++)
		if (elf_machines[i].em == em)
			name = elf_machines[i].name;
	snprintf(d, dlen, "%s for %s (e_machine %u)",
		 type == 4 ? "an ELF core" : "an ELF file",
		 name ? name : "another machine", em);
	return true;
}

/* A kdump whose utsname.machine names another architecture. */
static bool foreign_kdump(const uint8_t *h, size_t len, char *d, size_t dlen)
{
	static const char *const x86[] = {"",	  "x86_64", "i386",
					  "i486", "i586",   "i686"};
	char m[WDT_KDH_UTS_FIELD + 1];
	size_t k = 0;

	if (len < WDT_KDH_UTS_MACHINE + WDT_KDH_UTS_FIELD)
		return false;
	for (; k < WDT_KDH_UTS_FIELD && h[WDT_KDH_UTS_MACHINE + k]; k++) {
		uint8_t c = h[WDT_KDH_UTS_MACHINE + k];
		if (c < 0x20 || c > 0x7e)
			return false; /* not a name: leave it to the reader */
		m[k] = (char)c;
	}
	m[k] = '\0';
	for (size_t i = 0; i < sizeof(x86) / sizeof(*x86); i++)
		if (strcmp(m, x86[i]) == 0)
			return false;
	snprintf(d, dlen,
		 "a kdump file of another architecture (machine "
		 "'%s')",
		 m);
	return true;
}

/*
 * Checked before detection, in order. what: the file as the user knows
 * it (or NULL: detail() says it); todo: what to do instead. Sources:
 * ../shared/spec/qemu-migration.md (QEVM, libvirt header), kdump.md,
 * the ELF gABI, and minidumpapiset.h (MINIDUMP_HEADER.Signature).
 */
static const struct {
	size_t off;
	const char *magic;
	size_t mlen;
	bool (*detail)(const uint8_t *h, size_t len, char *d, size_t dlen);
	const char *what;
	const char *todo;
} not_images[] = {
    {0, "MDMP", 4, NULL,
     "a Windows user-mode minidump (MDMP): one process, not the "
     "machine's memory",
     "open it in WinDbg as it is; for the whole guest, " TAKE_DUMP},
    {0, "\177ELF", 4, foreign_elf, NULL,
     "wdt reads dumps of x86 (x86-64 or i386) guests only"},
    {0, WDT_KDUMP_SIG, WDT_KDUMP_SIG_LEN, foreign_kdump, NULL,
     "wdt reads dumps of x86 (x86-64 or i386) guests only"},
    {0, WDT_KDUMP_SIG_OLD, WDT_KDUMP_SIG_LEN, foreign_kdump, NULL,
     "wdt reads dumps of x86 (x86-64 or i386) guests only"},
};

int wdt_format_refuse(const uint8_t *head, size_t len, struct wdt_err *err)
{
	for (size_t i = 0; i < sizeof(not_images) / sizeof(*not_images); i++) {
		char d[160];
		const char *what = not_images[i].what;

		if (len < not_images[i].off + not_images[i].mlen ||
		    memcmp(head + not_images[i].off, not_images[i].magic,
			   not_images[i].mlen) != 0)
			continue;
		if (not_images[i].detail) {
			if (!not_images[i].detail(head, len, d, sizeof(d)))
				continue;
			what = d;
		}
		return wdt_err_set(err, WDT_UNSUPPORTED, "%s: %s", what,
				   not_images[i].todo);
	}
	return 0;
}

const struct wdt_format *wdt_format_find(const char *name)
{
	for (size_t i = 0; wdt_formats[i]; i++)
		if (strcmp(wdt_formats[i]->name, name) == 0)
			return wdt_formats[i];
	return NULL;
}

const struct wdt_format *wdt_format_detect(const uint8_t *head, size_t len,
					   uint64_t size)
{
	const struct wdt_format *best = NULL;
	int best_score = 0;

	for (size_t i = 0; wdt_formats[i]; i++) {
		int s = wdt_formats[i]->probe(head, len, size);
		if (s > best_score) {
			best_score = s;
			best = wdt_formats[i];
		}
	}
	return best;
}

static void describe_head(char *buf, size_t len, const uint8_t *head, size_t n)
{
	size_t k = n < 8 ? n : 8, o = 0;

	for (size_t i = 0; i < k && o + 4 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%02x", i ? " " : "",
				      head[i]);
}

struct wdt_image *wdt_image_open_source(struct wdt_source *src,
					const char *format, struct wdt_err *err)
{
	struct wdt_open_opts o = {format, WDT_MAX_RATIO_DEFAULT};

	return wdt_image_open_source_opts(src, &o, err);
}

struct wdt_image *wdt_image_open_source_opts(struct wdt_source *src,
					     const struct wdt_open_opts *o,
					     struct wdt_err *err)
{
	const char *format = o->format;
	uint8_t head[WDT_PROBE_HEAD];
	const struct wdt_format *fmt;
	struct wdt_image *img;
	size_t got;

	if (format) {
		fmt = wdt_format_find(format);
		if (!fmt) {
			wdt_source_close(src);
			wdt_err_set(err, WDT_USAGE, "unknown format '%s'",
				    format);
			wdt_err_remedy(err, WDT_REMEDY_LIST_FORMATS);
			return NULL;
		}
	} else {
		if (src->size == 0) {
			wdt_source_close(src);
			wdt_err_set(err, WDT_UNKNOWN_FORMAT,
				    "empty file, not a memory image");
			return NULL;
		}
		if (wdt_source_pread(src, head, sizeof(head), 0, &got, err) <
		    0) {
			wdt_source_close(src);
			return NULL;
		}
		if (wdt_format_refuse(head, got, err) < 0) {
			wdt_source_close(src);
			return NULL;
		}
		fmt = wdt_format_detect(head, got, src->size);
		if (!fmt) {
			char hex[40] = "";
			describe_head(hex, sizeof(hex), head, got);
			wdt_source_close(src);
			wdt_err_set(err, WDT_UNKNOWN_FORMAT,
				    "not a memory image wdt knows (first bytes "
				    "%s)",
				    hex);
			wdt_err_remedy(err, WDT_REMEDY_FORMAT);
			return NULL;
		}
	}
	img = calloc(1, sizeof(*img));
	if (!img) {
		wdt_source_close(src);
		wdt_err_nomem(err);
		return NULL;
	}
	img->src = src;
	img->fmt = fmt;
	/* A format may wrap src (flattened, gzip): keep the file's own size. */
	img->file_size = src->size;
	img->max_ratio = o->max_ratio;
	img->path = strdup(src->name);
	if (!img->path) {
		wdt_image_close(img);
		wdt_err_nomem(err);
		return NULL;
	}
	if (fmt->open(img, err) < 0 || wdt_image_finish_runs(img, err) < 0) {
		wdt_err_prefix(err, "%s", fmt->name);
		wdt_image_close(img);
		return NULL;
	}
	return img;
}

/*
 * Standard input that cannot be read at random offsets: read what a probe
 * needs to say what it holds and why it cannot be read from there. Every
 * reader seeks (headers point at data anywhere; kernel discovery follows
 * page tables across the image), so none is read from a pipe.
 */
static struct wdt_image *refuse_stdin(const char *kind, const char *format,
				      struct wdt_err *err)
{
	uint8_t head[WDT_PROBE_HEAD];
	size_t got = 0;
	const struct wdt_format *fmt = format ? wdt_format_find(format) : NULL;

	if (format && !fmt) {
		wdt_err_set(err, WDT_USAGE, "unknown format '%s'", format);
		wdt_err_remedy(err, WDT_REMEDY_LIST_FORMATS);
		return NULL;
	}
	if (strcmp(kind, "a terminal") == 0) {
		wdt_err_set(err, WDT_USAGE,
			    "standard input is a terminal; give an image file "
			    "or redirect one (< FILE)");
		return NULL;
	}
	while (!fmt && got < sizeof(head)) {
		ssize_t n = read(STDIN_FILENO, head + got, sizeof(head) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (!fmt && wdt_format_refuse(head, got, err) < 0) {
		wdt_err_prefix(err, "standard input is %s", kind);
		return NULL;
	}
	if (!fmt)
		fmt = wdt_format_detect(head, got, got);
	if (!fmt) {
		wdt_err_set(err, WDT_UNSUPPORTED,
			    "standard input is %s and %s; wdt reads images at "
			    "random offsets: save it to a file first",
			    kind,
			    got ? "not a memory image wdt knows" : "empty");
		return NULL;
	}
	wdt_err_set(err, WDT_UNSUPPORTED,
		    "standard input is %s; %s needs random access: save it to "
		    "a file first (cat > FILE) and give FILE",
		    kind, fmt->name);
	return NULL;
}

struct wdt_image *wdt_image_open(const char *path, const char *format,
				 struct wdt_err *err)
{
	struct wdt_open_opts o = {format, WDT_MAX_RATIO_DEFAULT};

	return wdt_image_open_opts(path, &o, err);
}

struct wdt_image *wdt_image_open_opts(const char *path,
				      const struct wdt_open_opts *o,
				      struct wdt_err *err)
{
	const char *format = o->format;
	const char *kind;

	if (strcmp(path, "-") == 0 && (kind = wdt_source_stdin_stream()))
		return refuse_stdin(kind, format, err);

	struct wdt_source *src = wdt_source_open_file(path, err);

	if (!src)
		return NULL;
	return wdt_image_open_source_opts(src, o, err);
}
