/* SPDX-License-Identifier: MIT */
/* Raw and ELF core writers (see rawwrite.h). */
#include "formats/rawwrite.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

/* ELF64 layout (System V gABI) */
#define EHDR_SIZE 64u
#define PHDR_SIZE 56u
#define SHDR_SIZE 64u
#define ET_CORE 4u
#define EM_X86_64 62u
#define PT_LOAD 1u
#define PT_NOTE 4u
#define PF_RWX 7u
#define PN_XNUM 0xffffu

/* What both writers work on. */
struct job {
	struct wdt_image *img;
	const struct wdt_dmp_patch *p;
	size_t np;
	const struct wdt_dmp_write_opts *o;
	struct wdt_outfile *of;
	struct wdt_dmp_write_result *r;
};

static int get_spans(struct job *j, struct wdt_span **s, size_t *n,
		     struct wdt_err *err)
{
	if (wdt_dmpw_spans(j->img, s, n, err) < 0)
		return -1;
	if (*n == 0)
		return wdt_err_set(err, WDT_NO_DATA,
				   "the image holds no memory");
	if (wdt_dmpw_check_patches(*s, *n, j->p, j->np, err) < 0) {
		free(*s);
		*s = NULL;
		return -1;
	}
	j->r->nruns = *n > UINT32_MAX ? UINT32_MAX : (uint32_t)*n;
	for (size_t i = 0; i < *n; i++)
		j->r->pages += (*s)[i].len / WDT_PAGE_SIZE;
	wdt_progress_set_total(j->o->progress, j->r->pages * WDT_PAGE_SIZE);
	return 0;
}

static int write_zeros(struct wdt_outfile *of, uint64_t off, uint64_t len,
		       struct wdt_err *err)
{
	size_t cap = len < WDT_DMPW_UNIT ? (size_t)len : WDT_DMPW_UNIT;
	uint8_t *z = calloc(1, cap ? cap : 1);
	int rc = 0;

	if (!z)
		return wdt_err_nomem(err);
	while (len > 0 && rc == 0) {
		size_t n = len < cap ? (size_t)len : cap;
		rc = wdt_outfile_write_at(of, off, z, n, err);
		off += n;
		len -= n;
	}
	free(z);
	return rc;
}

int wdt_raw_write(struct wdt_image *img, const struct wdt_dmp_patch *p,
		  size_t np, const struct wdt_dmp_write_opts *o,
		  struct wdt_outfile *of, struct wdt_dmp_write_result *r,
		  struct wdt_err *err)
{
	struct wdt_dmp_write_result local;
	struct job j = {img, p, np, o, of, r ? r : &local};
	struct wdt_span *s = NULL;
	size_t n;
	uint64_t done = 0, prev = 0;
	int rc = 0;

	memset(j.r, 0, sizeof(*j.r));
	if (get_spans(&j, &s, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		s[i].off = s[i].pa;
		/*
		 * Gaps hold no memory: holes, or zeros when not sparse. A
		 * stream writes them as zeros in order by itself.
		 */
		if (!o->sparse && !wdt_outfile_is_stream(of) && s[i].pa > prev)
			rc = write_zeros(of, prev, s[i].pa - prev, err);
		prev = s[i].pa + s[i].len;
	}
	if (rc == 0)
		rc = wdt_dmpw_body(img, s, n, p, np, o, of, &done,
				   &j.r->zero_pages, err);
	if (rc == 0) {
		j.r->file_size = prev;
		wdt_outfile_hole(of, prev, 0);
	}
	free(s);
	return rc < 0 ? -1 : 0;
}

/* ---- ELF ---- */

/* The image's notes as one PT_NOTE body; *len 0 when there are none. */
static int build_notes(struct wdt_image *img, uint8_t **out, size_t *len,
		       struct wdt_err *err)
{
	size_t total = 0, at = 0;
	uint8_t *b;

	*out = NULL;
	*len = 0;
	for (size_t i = 0; i < img->nnotes; i++) {
		const struct wdt_note *nt = &img->notes[i];
		size_t nl = strlen(nt->name) + 1;
		if (nt->desc_size > (64u << 20) || total > (256u << 20))
			return wdt_err_set(err, WDT_UNSUPPORTED,
					   "note %s of %" PRIu64 " bytes is "
					   "too large to copy",
					   nt->name, nt->desc_size);
		total += 12 + ((nl + 3) & ~3u) +
			 (((size_t)nt->desc_size + 3) & ~(size_t)3);
	}
	if (total == 0)
		return 0;
	if (!(b = calloc(1, total)))
		return wdt_err_nomem(err);
	for (size_t i = 0; i < img->nnotes; i++) {
		const struct wdt_note *nt = &img->notes[i];
		size_t nl = strlen(nt->name) + 1, dl = (size_t)nt->desc_size;
		wdt_put_le32(b + at, (uint32_t)nl);
		wdt_put_le32(b + at + 4, (uint32_t)dl);
		wdt_put_le32(b + at + 8, nt->type);
		memcpy(b + at + 12, nt->name, nl);
		at += 12 + ((nl + 3) & ~3u);
		if (dl && wdt_source_read(img->src, b + at, dl, nt->desc_off,
					  err) < 0) {
			free(b);
			return wdt_err_prefix(err, "copying note %s", nt->name);
		}
		at += (dl + 3) & ~(size_t)3;
	}
	*out = b;
	*len = total;
	return 0;
}

static void put_phdr(uint8_t *ph, uint32_t type, uint64_t off, uint64_t pa,
		     uint64_t len)
{
	wdt_put_le32(ph, type);
	wdt_put_le32(ph + 4, type == PT_LOAD ? PF_RWX : 0);
	wdt_put_le64(ph + 8, off);
	wdt_put_le64(ph + 16, 0);  /* p_vaddr: physical dump, as QEMU */
	wdt_put_le64(ph + 24, pa); /* p_paddr */
	wdt_put_le64(ph + 32, len);
	wdt_put_le64(ph + 40, len);
	wdt_put_le64(ph + 48, 0);
}

/* ELF header, program headers (+ section header 0 for PN_XNUM) and notes. */
static int put_elf_head(struct job *j, const struct wdt_span *s, size_t n,
			const uint8_t *notes, size_t nlen, uint64_t head,
			struct wdt_err *err)
{
	size_t nph = n + (nlen ? 1 : 0), at;
	bool xnum = nph >= PN_XNUM;
	uint64_t phend = EHDR_SIZE + (uint64_t)nph * PHDR_SIZE;
	uint64_t note_off = phend + (xnum ? SHDR_SIZE : 0);
	uint8_t *b = calloc(1, (size_t)head);
	int rc;

	if (!b)
		return wdt_err_nomem(err);
	memcpy(b, "\177ELF\2\1\1", 7); /* ELFCLASS64, LSB, EV_CURRENT */
	wdt_put_le16(b + 16, ET_CORE);
	wdt_put_le16(b + 18, EM_X86_64);
	wdt_put_le32(b + 20, 1);
	wdt_put_le64(b + 32, EHDR_SIZE);
	wdt_put_le16(b + 52, EHDR_SIZE);
	wdt_put_le16(b + 54, PHDR_SIZE);
	wdt_put_le16(b + 56, xnum ? PN_XNUM : (uint16_t)nph);
	if (xnum) {
		wdt_put_le64(b + 40, phend); /* e_shoff */
		wdt_put_le16(b + 58, SHDR_SIZE);
		wdt_put_le16(b + 60, 1);
		wdt_put_le32(b + phend + 44, (uint32_t)nph); /* sh_info */
	}
	at = EHDR_SIZE;
	if (nlen) {
		put_phdr(b + at, PT_NOTE, note_off, 0, nlen);
		at += PHDR_SIZE;
		memcpy(b + note_off, notes, nlen);
	}
	for (size_t i = 0; i < n; i++, at += PHDR_SIZE)
		put_phdr(b + at, PT_LOAD, s[i].off, s[i].pa, s[i].len);
	rc = wdt_outfile_write_at(j->of, 0, b, (size_t)head, err);
	free(b);
	return rc;
}

int wdt_elf_write(struct wdt_image *img, const struct wdt_dmp_patch *p,
		  size_t np, const struct wdt_dmp_write_opts *o,
		  struct wdt_outfile *of, struct wdt_dmp_write_result *r,
		  struct wdt_err *err)
{
	struct wdt_dmp_write_result local;
	struct job j = {img, p, np, o, of, r ? r : &local};
	struct wdt_span *s = NULL;
	uint8_t *notes = NULL;
	size_t n, nlen;
	uint64_t head, done = 0;
	int rc;

	memset(j.r, 0, sizeof(*j.r));
	if (get_spans(&j, &s, &n, err) < 0)
		return -1;
	if (build_notes(img, &notes, &nlen, err) < 0) {
		free(s);
		return -1;
	}
	if (n + 1 > UINT32_MAX) {
		free(s);
		free(notes);
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "%zu runs are too "
				   "many for ELF program headers",
				   n);
	}
	head = EHDR_SIZE + (uint64_t)(n + 1) * PHDR_SIZE + SHDR_SIZE + nlen;
	head = (head + WDT_PAGE_SIZE - 1) & ~WDT_PAGE_MASK;
	for (size_t i = 0, at = 0; i < n; at += s[i].len, i++)
		s[i].off = head + at;
	rc = put_elf_head(&j, s, n, notes, nlen, head, err);
	if (rc == 0)
		rc = wdt_dmpw_body(img, s, n, p, np, o, of, &done,
				   &j.r->zero_pages, err);
	if (rc == 0) {
		j.r->file_size = head + j.r->pages * WDT_PAGE_SIZE;
		wdt_outfile_hole(of, j.r->file_size, 0);
	}
	free(s);
	free(notes);
	return rc < 0 ? -1 : 0;
}
