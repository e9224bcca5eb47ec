/* SPDX-License-Identifier: MIT */
/* PE32+ reader. Field offsets: ../shared/spec/pe-and-symbols.md §1–§6. */
#include "symbols/pe.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

/* DOS header */
#define DOS_MAGIC 0x00
#define DOS_LFANEW 0x3C
#define DOS_SIZE 0x40
/* NT headers, relative to e_lfanew */
#define NT_SIG 0x00
#define NT_FILE 0x04
#define NT_OPT 0x18
/* IMAGE_FILE_HEADER, relative to NT_FILE */
#define FH_MACHINE 0x00
#define FH_NSECTIONS 0x02
#define FH_TIMESTAMP 0x04
#define FH_OPT_SIZE 0x10
#define FH_CHARACTERISTICS 0x12
/* IMAGE_OPTIONAL_HEADER64 */
#define OH_MAGIC 0x00
#define OH_ENTRY 0x10
#define OH_IMAGE_BASE 0x18
#define OH_SIZE_OF_IMAGE 0x38
#define OH_SIZE_OF_HEADERS 0x3C
#define OH_NDIRS 0x6C
#define OH_DIRS 0x70
#define OH_MIN_SIZE OH_DIRS
/* IMAGE_SECTION_HEADER */
#define SH_NAME 0x00
#define SH_VSIZE 0x08
#define SH_RVA 0x0C
#define SH_RAW_SIZE 0x10
#define SH_RAW_OFF 0x14
#define SH_CHARACTERISTICS 0x24
/* IMAGE_DEBUG_DIRECTORY */
#define DD_TYPE 0x0C
#define DD_SIZE 0x10
#define DD_RVA 0x14
#define DD_RAW_OFF 0x18
/* CV_INFO_PDB70 */
#define RSDS_SIG 0x00
#define RSDS_GUID 0x04
#define RSDS_AGE 0x14
#define RSDS_NAME 0x18
/* IMAGE_EXPORT_DIRECTORY */
#define ED_NAME 0x0C
#define ED_BASE 0x10
#define ED_NFUNCS 0x14
#define ED_NNAMES 0x18
#define ED_FUNCS 0x1C
#define ED_NAMES 0x20
#define ED_ORDINALS 0x24

/* Limits for untrusted counts: the kernel has ~3000 exports, ~30 sections. */
#define MAX_SECTIONS 96
#define MAX_DEBUG_ENTRIES 64
#define MAX_EXPORTS (1u << 20)
#define MAX_NAME 512

struct wdt_pe {
	struct wdt_pe_io io;
	char *name;
	struct wdt_pe_headers hdr;
	struct wdt_pe_section *sec;
	size_t nsec;
	/* optional parts: ok, or the reason in *_err */
	bool cv_ok;
	struct wdt_pe_codeview cv;
	struct wdt_err cv_err;
	bool exp_ok;
	struct wdt_pe_export *exp;
	size_t nexp;
	char *dll_name;
	struct wdt_err exp_err;
};

/* ---- pure parsers ---- */

int wdt_pe_parse_headers(const uint8_t *buf, size_t len,
			 struct wdt_pe_headers *out, struct wdt_err *err)
{
	const uint8_t *nt, *oh;
	uint32_t lfanew, ndirs;
	uint64_t end;

	memset(out, 0, sizeof(*out));
	if (len < DOS_SIZE)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "PE: %zu bytes are too few for a DOS header",
				   len);
	if (wdt_le16(buf + DOS_MAGIC) != WDT_PE_DOS_MAGIC)
		return wdt_err_set(err, WDT_UNKNOWN_FORMAT,
				   "PE: no MZ signature (0x%04x)",
				   wdt_le16(buf + DOS_MAGIC));
	lfanew = wdt_le32(buf + DOS_LFANEW);
	if (!wdt_in_bounds(len, lfanew, NT_OPT + OH_MIN_SIZE))
		return wdt_err_set(err, WDT_TRUNCATED,
				   "PE: NT headers at 0x%" PRIx32
				   " lie beyond the %zu header bytes",
				   lfanew, len);
	nt = buf + lfanew;
	if (wdt_le32(nt + NT_SIG) != WDT_PE_NT_SIGNATURE)
		return wdt_err_set(err, WDT_UNKNOWN_FORMAT,
				   "PE: no PE signature at 0x%" PRIx32, lfanew);
	out->nt_off = lfanew;
	out->machine = wdt_le16(nt + NT_FILE + FH_MACHINE);
	out->nsections = wdt_le16(nt + NT_FILE + FH_NSECTIONS);
	out->timestamp = wdt_le32(nt + NT_FILE + FH_TIMESTAMP);
	out->opt_size = wdt_le16(nt + NT_FILE + FH_OPT_SIZE);
	out->characteristics = wdt_le16(nt + NT_FILE + FH_CHARACTERISTICS);
	oh = nt + NT_OPT;
	out->opt_magic = wdt_le16(oh + OH_MAGIC);
	if (out->opt_magic != WDT_PE_OPT_MAGIC_PE32PLUS)
		return wdt_err_set(
		    err, WDT_UNSUPPORTED,
		    "PE: optional header magic 0x%x is not PE32+ "
		    "(0x20b)",
		    out->opt_magic);
	if (out->opt_size < OH_MIN_SIZE)
		return wdt_err_set(err, WDT_CORRUPT,
				   "PE: optional header size %u is below %u",
				   out->opt_size, OH_MIN_SIZE);
	out->entry_rva = wdt_le32(oh + OH_ENTRY);
	out->image_base = wdt_le64(oh + OH_IMAGE_BASE);
	out->size_of_image = wdt_le32(oh + OH_SIZE_OF_IMAGE);
	out->size_of_headers = wdt_le32(oh + OH_SIZE_OF_HEADERS);
	ndirs = wdt_le32(oh + OH_NDIRS);
	if (ndirs > WDT_PE_MAX_DIRS)
		ndirs = WDT_PE_MAX_DIRS;
	/* Only directories inside the optional header are real. */
	if (OH_DIRS + 8u * ndirs > out->opt_size)
		ndirs = (out->opt_size - OH_DIRS) / 8u;
	if (!wdt_in_bounds(len, lfanew + NT_OPT, OH_DIRS + 8u * ndirs))
		return wdt_err_set(err, WDT_TRUNCATED,
				   "PE: data directories beyond the %zu header "
				   "bytes",
				   len);
	out->ndirs = ndirs;
	for (uint32_t i = 0; i < ndirs; i++) {
		out->dirs[i].rva = wdt_le32(oh + OH_DIRS + 8 * i);
		out->dirs[i].size = wdt_le32(oh + OH_DIRS + 8 * i + 4);
	}
	end = (uint64_t)lfanew + NT_OPT + out->opt_size;
	out->sections_off = (uint32_t)end;
	if (out->nsections == 0 || out->nsections > MAX_SECTIONS)
		return wdt_err_set(err, WDT_CORRUPT,
				   "PE: %u sections (expected 1..%u)",
				   out->nsections, MAX_SECTIONS);
	return 0;
}

int wdt_pe_parse_section(const uint8_t *buf, size_t len,
			 struct wdt_pe_section *out, struct wdt_err *err)
{
	if (len < WDT_PE_SECTION_SIZE)
		return wdt_err_set(
		    err, WDT_TRUNCATED,
		    "PE: section header needs %u bytes, have %zu",
		    WDT_PE_SECTION_SIZE, len);
	memcpy(out->name, buf + SH_NAME, 8);
	out->name[8] = '\0';
	for (int i = 0; i < 8; i++)
		if (out->name[i] &&
		    (out->name[i] < 0x20 || out->name[i] > 0x7e))
			out->name[i] = '?';
	out->vsize = wdt_le32(buf + SH_VSIZE);
	out->rva = wdt_le32(buf + SH_RVA);
	out->raw_size = wdt_le32(buf + SH_RAW_SIZE);
	out->raw_off = wdt_le32(buf + SH_RAW_OFF);
	out->characteristics = wdt_le32(buf + SH_CHARACTERISTICS);
	return 0;
}

int wdt_pe_parse_debug_entry(const uint8_t *buf, size_t len,
			     struct wdt_pe_debug_entry *out,
			     struct wdt_err *err)
{
	if (len < WDT_PE_DEBUG_ENTRY_SIZE)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "PE: debug directory entry needs %u bytes, "
				   "have %zu",
				   WDT_PE_DEBUG_ENTRY_SIZE, len);
	out->type = wdt_le32(buf + DD_TYPE);
	out->size = wdt_le32(buf + DD_SIZE);
	out->rva = wdt_le32(buf + DD_RVA);
	out->raw_off = wdt_le32(buf + DD_RAW_OFF);
	return 0;
}

int wdt_pe_parse_rsds(const uint8_t *buf, size_t len,
		      struct wdt_pe_codeview *out, struct wdt_err *err)
{
	size_t n, max;
	const char *slash;

	memset(out, 0, sizeof(*out));
	if (len < WDT_PE_RSDS_MIN)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "CodeView record of %zu bytes is too short",
				   len);
	if (wdt_le32(buf + RSDS_SIG) != WDT_PE_RSDS_SIGNATURE)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "CodeView record signature 0x%08" PRIx32
				   " is not RSDS",
				   wdt_le32(buf + RSDS_SIG));
	memcpy(out->guid, buf + RSDS_GUID, 16);
	out->age = wdt_le32(buf + RSDS_AGE);
	max = len - RSDS_NAME;
	n = strnlen((const char *)buf + RSDS_NAME, max);
	if (n == max)
		return wdt_err_set(err, WDT_CORRUPT,
				   "CodeView PDB name is not NUL-terminated");
	if (n >= sizeof(out->pdb_path))
		return wdt_err_set(err, WDT_CORRUPT,
				   "CodeView PDB name of %zu bytes is too long",
				   n);
	if (n == 0)
		return wdt_err_set(err, WDT_CORRUPT,
				   "CodeView PDB name is empty");
	memcpy(out->pdb_path, buf + RSDS_NAME, n + 1);
	out->pdb_name = out->pdb_path;
	slash = strrchr(out->pdb_path, '\\');
	if (slash)
		out->pdb_name = slash + 1;
	slash = strrchr(out->pdb_name, '/');
	if (slash)
		out->pdb_name = slash + 1;
	return 0;
}

int wdt_pe_parse_export_dir(const uint8_t *buf, size_t len,
			    struct wdt_pe_export_dir *out, struct wdt_err *err)
{
	if (len < WDT_PE_EXPORT_DIR_SIZE)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "export directory needs %u bytes, have %zu",
				   WDT_PE_EXPORT_DIR_SIZE, len);
	out->name_rva = wdt_le32(buf + ED_NAME);
	out->ordinal_base = wdt_le32(buf + ED_BASE);
	out->nfunctions = wdt_le32(buf + ED_NFUNCS);
	out->nnames = wdt_le32(buf + ED_NNAMES);
	out->functions_rva = wdt_le32(buf + ED_FUNCS);
	out->names_rva = wdt_le32(buf + ED_NAMES);
	out->ordinals_rva = wdt_le32(buf + ED_ORDINALS);
	if (out->nfunctions > MAX_EXPORTS || out->nnames > MAX_EXPORTS)
		return wdt_err_set(err, WDT_CORRUPT,
				   "export directory claims %" PRIu32
				   " functions and %" PRIu32
				   " names (limit %u)",
				   out->nfunctions, out->nnames, MAX_EXPORTS);
	return 0;
}

void wdt_pe_guid_hex(const uint8_t g[16], char out[33])
{
	snprintf(out, 33,
		 "%08" PRIX32 "%04X%04X%02X%02X%02X%02X%02X%02X%02X%02X",
		 wdt_le32(g), wdt_le16(g + 4), wdt_le16(g + 6), g[8], g[9],
		 g[10], g[11], g[12], g[13], g[14], g[15]);
}

void wdt_pe_guid_str(const uint8_t g[16], char out[39])
{
	snprintf(out, 39,
		 "{%08" PRIX32 "-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
		 wdt_le32(g), wdt_le16(g + 4), wdt_le16(g + 6), g[8], g[9],
		 g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* ---- reader ---- */

int wdt_pe_rva_to_off(const struct wdt_pe *pe, uint32_t rva, uint32_t len,
		      uint64_t *off)
{
	if (rva < pe->hdr.size_of_headers &&
	    (uint64_t)rva + len <= pe->hdr.size_of_headers) {
		*off = rva;
		return 1;
	}
	for (size_t i = 0; i < pe->nsec; i++) {
		const struct wdt_pe_section *s = &pe->sec[i];
		uint32_t span = s->raw_size;

		/* Bytes past SizeOfRawData are zero fill, not in the file. */
		if (s->vsize && s->vsize < span)
			span = s->vsize;
		if (rva >= s->rva && rva - s->rva < span &&
		    (uint64_t)(rva - s->rva) + len <= span) {
			*off = (uint64_t)s->raw_off + (rva - s->rva);
			return 1;
		}
	}
	return 0;
}

int wdt_pe_read_rva(const struct wdt_pe *pe, uint32_t rva, void *buf,
		    size_t len, struct wdt_err *err)
{
	uint64_t off;

	if (pe->io.layout == WDT_PE_LAYOUT_IMAGE) {
		if ((uint64_t)rva + len > pe->hdr.size_of_image)
			return wdt_err_set(err, WDT_CORRUPT,
					   "RVA 0x%" PRIx32 "+%zu lies beyond "
					   "the image size 0x%" PRIx32,
					   rva, len, pe->hdr.size_of_image);
		return pe->io.read(pe->io.ctx, rva, buf, len, err);
	}
	if (len > UINT32_MAX ||
	    !wdt_pe_rva_to_off(pe, rva, (uint32_t)len, &off))
		return wdt_err_set(err, WDT_NO_DATA,
				   "RVA 0x%" PRIx32 "+%zu is not in any "
				   "section's file data",
				   rva, len);
	return pe->io.read(pe->io.ctx, off, buf, len, err);
}

int wdt_pe_function_range(const struct wdt_pe *pe, uint32_t rva,
			  uint32_t *begin, uint32_t *end, struct wdt_err *err)
{
	const struct wdt_pe_dir *dir;
	size_t lo = 0, hi;

	if (pe->hdr.ndirs <= WDT_PE_DIR_EXCEPTION)
		return 0;
	dir = &pe->hdr.dirs[WDT_PE_DIR_EXCEPTION];
	if (!dir->rva || dir->size < WDT_PE_RUNTIME_FUNCTION_SIZE)
		return 0;
	hi = dir->size / WDT_PE_RUNTIME_FUNCTION_SIZE;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint8_t e[WDT_PE_RUNTIME_FUNCTION_SIZE];
		uint32_t b, x;

		if (wdt_pe_read_rva(pe,
				    dir->rva + (uint32_t)mid *
						   WDT_PE_RUNTIME_FUNCTION_SIZE,
				    e, sizeof(e), err) < 0)
			return wdt_err_prefix(err, "%s: exception directory",
					      pe->name);
		b = wdt_le32(e);
		x = wdt_le32(e + 4);
		if (rva < b) {
			hi = mid;
		} else if (rva >= x) {
			lo = mid + 1;
		} else {
			*begin = b;
			*end = x;
			return 1;
		}
	}
	return 0;
}

/*
 * Read a NUL-terminated string at an RVA, page by page so a string that
 * ends before a missing page is still read. Caller frees *out.
 */
static int read_str(const struct wdt_pe *pe, uint32_t rva, char **out,
		    struct wdt_err *err)
{
	char buf[MAX_NAME + 1];
	size_t have = 0;

	while (have < MAX_NAME) {
		uint64_t at = (uint64_t)rva + have;
		size_t chunk = WDT_PAGE_SIZE - (size_t)(at % WDT_PAGE_SIZE);

		if (at > UINT32_MAX)
			break;
		if (chunk > MAX_NAME - have)
			chunk = MAX_NAME - have;
		if (pe->io.layout == WDT_PE_LAYOUT_IMAGE &&
		    at + chunk > pe->hdr.size_of_image) {
			if (at >= pe->hdr.size_of_image)
				break;
			chunk = (size_t)(pe->hdr.size_of_image - at);
		}
		if (wdt_pe_read_rva(pe, (uint32_t)at, buf + have, chunk, err) <
		    0) {
			/* file layout: retry byte-wise near section ends */
			if (pe->io.layout == WDT_PE_LAYOUT_FILE && chunk > 1 &&
			    wdt_pe_read_rva(pe, (uint32_t)at, buf + have, 1,
					    err) == 0) {
				chunk = 1;
			} else {
				return wdt_err_prefix(
				    err, "string at RVA 0x%" PRIx32, rva);
			}
		}
		for (size_t i = 0; i < chunk; i++)
			if (buf[have + i] == '\0') {
				*out = strdup(buf);
				return *out ? 0 : wdt_err_nomem(err);
			}
		have += chunk;
	}
	return wdt_err_set(err, WDT_CORRUPT,
			   "string at RVA 0x%" PRIx32
			   " is not NUL-terminated within %d bytes",
			   rva, MAX_NAME);
}

static int read_sections(struct wdt_pe *pe, struct wdt_err *err)
{
	size_t n = pe->hdr.nsections;
	size_t bytes = n * WDT_PE_SECTION_SIZE;
	uint8_t *buf = malloc(bytes);

	pe->sec = calloc(n, sizeof(*pe->sec));
	if (!buf || !pe->sec) {
		free(buf);
		return wdt_err_nomem(err);
	}
	/* The section table lies in the headers: file offset == RVA. */
	if (pe->io.read(pe->io.ctx, pe->hdr.sections_off, buf, bytes, err) <
	    0) {
		free(buf);
		return wdt_err_prefix(err, "section table at 0x%" PRIx32,
				      pe->hdr.sections_off);
	}
	for (size_t i = 0; i < n; i++)
		wdt_pe_parse_section(buf + i * WDT_PE_SECTION_SIZE,
				     WDT_PE_SECTION_SIZE, &pe->sec[i], NULL);
	pe->nsec = n;
	free(buf);
	return 0;
}

static int load_codeview(struct wdt_pe *pe, struct wdt_err *err)
{
	const struct wdt_pe_dir *d = &pe->hdr.dirs[WDT_PE_DIR_DEBUG];
	uint8_t ent[WDT_PE_DEBUG_ENTRY_SIZE];
	uint32_t n;

	if (pe->hdr.ndirs <= WDT_PE_DIR_DEBUG || d->rva == 0 || d->size == 0)
		return wdt_err_set(err, WDT_NOT_FOUND, "no debug directory");
	n = d->size / WDT_PE_DEBUG_ENTRY_SIZE;
	if (n > MAX_DEBUG_ENTRIES)
		n = MAX_DEBUG_ENTRIES;
	for (uint32_t i = 0; i < n; i++) {
		struct wdt_pe_debug_entry de;
		uint8_t *rec;
		int rc;

		if (wdt_pe_read_rva(pe, d->rva + i * WDT_PE_DEBUG_ENTRY_SIZE,
				    ent, sizeof(ent), err) < 0)
			return wdt_err_prefix(err, "debug directory entry %u",
					      i);
		wdt_pe_parse_debug_entry(ent, sizeof(ent), &de, NULL);
		if (de.type != WDT_PE_DEBUG_TYPE_CODEVIEW)
			continue;
		if (de.size < WDT_PE_RSDS_MIN ||
		    de.size > RSDS_NAME + WDT_PE_PDB_PATH_MAX)
			return wdt_err_set(err, WDT_CORRUPT,
					   "CodeView record size %" PRIu32
					   " is implausible",
					   de.size);
		rec = malloc(de.size);
		if (!rec)
			return wdt_err_nomem(err);
		if (pe->io.layout == WDT_PE_LAYOUT_IMAGE)
			rc = wdt_pe_read_rva(pe, de.rva, rec, de.size, err);
		else
			rc = pe->io.read(pe->io.ctx, de.raw_off, rec, de.size,
					 err);
		if (rc == 0)
			rc = wdt_pe_parse_rsds(rec, de.size, &pe->cv, err);
		free(rec);
		if (rc < 0)
			return wdt_err_prefix(
			    err, "CodeView record at RVA 0x%" PRIx32, de.rva);
		return 0;
	}
	return wdt_err_set(
	    err, WDT_NOT_FOUND,
	    "no CodeView entry among %" PRIu32 " debug directory entries", n);
}

static int cmp_export(const void *a, const void *b)
{
	const struct wdt_pe_export *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int load_exports(struct wdt_pe *pe, struct wdt_err *err)
{
	const struct wdt_pe_dir *d = &pe->hdr.dirs[WDT_PE_DIR_EXPORT];
	struct wdt_pe_export_dir ed;
	uint8_t raw[WDT_PE_EXPORT_DIR_SIZE];
	uint8_t *names = NULL, *ords = NULL, *funcs = NULL;
	int rc = -1;

	if (pe->hdr.ndirs <= WDT_PE_DIR_EXPORT || d->rva == 0 || d->size == 0)
		return wdt_err_set(err, WDT_NOT_FOUND, "no export directory");
	if (wdt_pe_read_rva(pe, d->rva, raw, sizeof(raw), err) < 0 ||
	    wdt_pe_parse_export_dir(raw, sizeof(raw), &ed, err) < 0)
		return wdt_err_prefix(err, "export directory at RVA 0x%" PRIx32,
				      d->rva);
	if (ed.name_rva && read_str(pe, ed.name_rva, &pe->dll_name, err) < 0)
		return wdt_err_prefix(err, "export DLL name");
	names = malloc((size_t)ed.nnames * 4 + 1);
	ords = malloc((size_t)ed.nnames * 2 + 1);
	funcs = malloc((size_t)ed.nfunctions * 4 + 1);
	pe->exp = calloc((size_t)ed.nnames + 1, sizeof(*pe->exp));
	if (!names || !ords || !funcs || !pe->exp) {
		wdt_err_nomem(err);
		goto out;
	}
	if (wdt_pe_read_rva(pe, ed.names_rva, names, (size_t)ed.nnames * 4,
			    err) < 0 ||
	    wdt_pe_read_rva(pe, ed.ordinals_rva, ords, (size_t)ed.nnames * 2,
			    err) < 0 ||
	    wdt_pe_read_rva(pe, ed.functions_rva, funcs,
			    (size_t)ed.nfunctions * 4, err) < 0) {
		wdt_err_prefix(err, "export tables");
		goto out;
	}
	for (uint32_t i = 0; i < ed.nnames; i++) {
		struct wdt_pe_export *e = &pe->exp[i];
		uint16_t j = wdt_le16(ords + 2 * i);

		if (j >= ed.nfunctions) {
			wdt_err_set(err, WDT_CORRUPT,
				    "export %u has ordinal index %u beyond "
				    "%" PRIu32 " functions",
				    i, j, ed.nfunctions);
			goto out;
		}
		if (read_str(pe, wdt_le32(names + 4 * i), &e->name, err) < 0) {
			wdt_err_prefix(err, "export name %u", i);
			goto out;
		}
		pe->nexp = i + 1;
		e->rva = wdt_le32(funcs + 4 * j);
		e->ordinal = ed.ordinal_base + j;
		e->forwarder = e->rva >= d->rva && e->rva - d->rva < d->size;
	}
	qsort(pe->exp, pe->nexp, sizeof(*pe->exp), cmp_export);
	rc = 0;
out:
	free(names);
	free(ords);
	free(funcs);
	return rc;
}

static void free_exports(struct wdt_pe *pe)
{
	for (size_t i = 0; i < pe->nexp; i++)
		free(pe->exp[i].name);
	free(pe->exp);
	pe->exp = NULL;
	pe->nexp = 0;
}

struct wdt_pe *wdt_pe_open(const struct wdt_pe_io *io, struct wdt_err *err)
{
	uint8_t head[WDT_PE_HEADER_PROBE];
	struct wdt_pe *pe = calloc(1, sizeof(*pe));
	size_t len = sizeof(head);

	if (!pe) {
		wdt_err_nomem(err);
		return NULL;
	}
	pe->io = *io;
	pe->name = strdup(io->name ? io->name : "PE image");
	if (!pe->name) {
		wdt_err_nomem(err);
		goto fail;
	}
	pe->io.name = pe->name;
	/* The first page holds every header; a small file may be shorter. */
	if (io->read(io->ctx, 0, head, len, err) < 0) {
		static const size_t smaller[] = {1024, 512, 0x40};
		struct wdt_err e2;
		size_t i;

		for (i = 0; i < sizeof(smaller) / sizeof(smaller[0]); i++)
			if (io->read(io->ctx, 0, head, smaller[i], &e2) == 0)
				break;
		if (i == sizeof(smaller) / sizeof(smaller[0]))
			goto fail_prefix;
		len = smaller[i];
	}
	if (wdt_pe_parse_headers(head, len, &pe->hdr, err) < 0 ||
	    read_sections(pe, err) < 0)
		goto fail_prefix;
	wdt_err_clear(&pe->cv_err);
	pe->cv_ok = load_codeview(pe, &pe->cv_err) == 0;
	wdt_err_clear(&pe->exp_err);
	pe->exp_ok = load_exports(pe, &pe->exp_err) == 0;
	if (!pe->exp_ok)
		free_exports(pe);
	return pe;
fail_prefix:
	wdt_err_prefix(err, "%s", pe->name);
fail:
	wdt_pe_close(pe);
	return NULL;
}

static int src_read(void *ctx, uint64_t off, void *buf, size_t len,
		    struct wdt_err *err)
{
	return wdt_source_read(ctx, buf, len, off, err);
}

struct wdt_pe *wdt_pe_open_source(struct wdt_source *src, struct wdt_err *err)
{
	struct wdt_pe_io io = {
	    .read = src_read,
	    .ctx = src,
	    .layout = WDT_PE_LAYOUT_FILE,
	    .name = src->name,
	};

	return wdt_pe_open(&io, err);
}

void wdt_pe_close(struct wdt_pe *pe)
{
	if (!pe)
		return;
	free_exports(pe);
	free(pe->dll_name);
	free(pe->sec);
	free(pe->name);
	free(pe);
}

const struct wdt_pe_headers *wdt_pe_headers(const struct wdt_pe *pe)
{
	return &pe->hdr;
}

const struct wdt_pe_section *wdt_pe_sections(const struct wdt_pe *pe, size_t *n)
{
	*n = pe->nsec;
	return pe->sec;
}

static int unavailable(const struct wdt_pe *pe, const struct wdt_err *why,
		       const char *what, struct wdt_err *err)
{
	return wdt_err_set(err, why->status, "%s: %s unavailable: %s", pe->name,
			   what, why->msg);
}

int wdt_pe_codeview(const struct wdt_pe *pe, const struct wdt_pe_codeview **cv,
		    struct wdt_err *err)
{
	if (!pe->cv_ok)
		return unavailable(pe, &pe->cv_err, "CodeView (PDB identity)",
				   err);
	*cv = &pe->cv;
	return 0;
}

int wdt_pe_exports(const struct wdt_pe *pe, const struct wdt_pe_export **v,
		   size_t *n, const char **dll_name, struct wdt_err *err)
{
	if (!pe->exp_ok)
		return unavailable(pe, &pe->exp_err, "exports", err);
	*v = pe->exp;
	*n = pe->nexp;
	if (dll_name)
		*dll_name = pe->dll_name ? pe->dll_name : "";
	return 0;
}

int wdt_pe_export_rva(const struct wdt_pe *pe, const char *name, uint32_t *rva,
		      struct wdt_err *err)
{
	size_t lo = 0, hi;

	if (!pe->exp_ok)
		return unavailable(pe, &pe->exp_err, "exports", err);
	hi = pe->nexp;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, pe->exp[mid].name);

		if (c == 0) {
			*rva = pe->exp[mid].rva;
			return 1;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}
