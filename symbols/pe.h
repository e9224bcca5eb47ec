/* SPDX-License-Identifier: MIT */
/*
 * PE32+ reader: DOS/NT headers, sections, data directories, the CodeView
 * (RSDS) debug record and the export directory. Layout facts:
 * ../shared/spec/pe-and-symbols.md.
 *
 * Two layers:
 *  - pure parsers wdt_pe_parse_*(buf, len, out, err) over byte buffers;
 *  - a reader over a read callback, which works on a file (offsets are
 *    file offsets; RVAs are mapped through the section table) or on an
 *    image mapped in (guest) memory (offset = RVA; a page the dump lacks is
 *    reported by the callback as WDT_NO_DATA).
 * A PE whose headers are readable opens even when its debug or export data
 * are not: those parts then carry the reason (wdt_pe_codeview/
 * wdt_pe_export_rva return it).
 */
#ifndef WDT_SYMBOLS_PE_H
#define WDT_SYMBOLS_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/source.h"

#define WDT_PE_DOS_MAGIC 0x5A4Du
#define WDT_PE_NT_SIGNATURE 0x00004550u
#define WDT_PE_OPT_MAGIC_PE32PLUS 0x20Bu
#define WDT_PE_OPT_MAGIC_PE32 0x10Bu
#define WDT_PE_MACHINE_AMD64 0x8664u
#define WDT_PE_MAX_DIRS 16
#define WDT_PE_DIR_EXPORT 0
#define WDT_PE_DIR_EXCEPTION 3 /* RUNTIME_FUNCTION table (x64 .pdata) */
#define WDT_PE_RUNTIME_FUNCTION_SIZE 12
#define WDT_PE_DIR_DEBUG 6
#define WDT_PE_SECTION_SIZE 40
/* IMAGE_SECTION_HEADER.Characteristics bits */
#define WDT_PE_SCN_MEM_DISCARDABLE 0x02000000u
#define WDT_PE_SCN_MEM_WRITE 0x80000000u
#define WDT_PE_DEBUG_ENTRY_SIZE 28
#define WDT_PE_DEBUG_TYPE_CODEVIEW 2
#define WDT_PE_EXPORT_DIR_SIZE 40
#define WDT_PE_RSDS_SIGNATURE 0x53445352u
#define WDT_PE_RSDS_MIN 0x19 /* signature, GUID, age, at least the NUL */
#define WDT_PE_PDB_PATH_MAX 1024
/* Bytes that hold every header of a sane image (DOS, NT, 96 sections). */
#define WDT_PE_HEADER_PROBE 4096

struct wdt_pe_dir {
	uint32_t rva;
	uint32_t size;
};

struct wdt_pe_headers {
	uint32_t nt_off; /* e_lfanew */
	uint16_t machine;
	uint16_t nsections;
	uint32_t timestamp;
	uint16_t opt_size; /* SizeOfOptionalHeader */
	uint16_t characteristics;
	uint16_t opt_magic;
	uint64_t image_base; /* preferred */
	uint32_t size_of_image;
	uint32_t size_of_headers;
	uint32_t entry_rva;
	uint32_t ndirs; /* min(NumberOfRvaAndSizes, 16) */
	struct wdt_pe_dir dirs[WDT_PE_MAX_DIRS];
	uint32_t sections_off; /* offset of the section table */
};

struct wdt_pe_section {
	char name[9]; /* NUL-terminated copy of the 8-byte name */
	uint32_t vsize;
	uint32_t rva;
	uint32_t raw_size;
	uint32_t raw_off;
	uint32_t characteristics;
};

struct wdt_pe_debug_entry {
	uint32_t type;
	uint32_t size;
	uint32_t rva;	  /* AddressOfRawData */
	uint32_t raw_off; /* PointerToRawData */
};

struct wdt_pe_codeview {
	uint8_t guid[16]; /* as stored: Data1..3 little-endian, Data4 bytes */
	uint32_t age;
	char pdb_path[WDT_PE_PDB_PATH_MAX]; /* as recorded (may be a path) */
	const char *pdb_name;		    /* last component, in pdb_path */
};

struct wdt_pe_export_dir {
	uint32_t name_rva;
	uint32_t ordinal_base;
	uint32_t nfunctions;
	uint32_t nnames;
	uint32_t functions_rva;
	uint32_t names_rva;
	uint32_t ordinals_rva;
};

struct wdt_pe_export {
	char *name;
	uint32_t rva;
	uint32_t ordinal; /* biased by the ordinal base */
	bool forwarder;	  /* rva points at a "DLL.func" string */
};

/* ---- pure parsers ---- */

/*
 * Parse DOS + NT headers from the first len bytes of an image or file
 * (WDT_PE_HEADER_PROBE is enough for sane images). Only PE32+ is accepted.
 */
int wdt_pe_parse_headers(const uint8_t *buf, size_t len,
			 struct wdt_pe_headers *out, struct wdt_err *err);

/* Parse one 40-byte IMAGE_SECTION_HEADER (also the PDB section stream). */
int wdt_pe_parse_section(const uint8_t *buf, size_t len,
			 struct wdt_pe_section *out, struct wdt_err *err);

/* Parse one 28-byte IMAGE_DEBUG_DIRECTORY entry. */
int wdt_pe_parse_debug_entry(const uint8_t *buf, size_t len,
			     struct wdt_pe_debug_entry *out,
			     struct wdt_err *err);

/* Parse a CV_INFO_PDB70 ("RSDS") record. */
int wdt_pe_parse_rsds(const uint8_t *buf, size_t len,
		      struct wdt_pe_codeview *out, struct wdt_err *err);

/* Parse the 40-byte export directory table. */
int wdt_pe_parse_export_dir(const uint8_t *buf, size_t len,
			    struct wdt_pe_export_dir *out, struct wdt_err *err);

/* Format a GUID as the symbol store does: 32 upper-case hex digits. */
void wdt_pe_guid_hex(const uint8_t guid[16], char out[33]);
/* Format a GUID for people: {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}. */
void wdt_pe_guid_str(const uint8_t guid[16], char out[39]);

/* ---- reader ---- */

enum wdt_pe_layout {
	WDT_PE_LAYOUT_FILE,  /* read offsets are file offsets */
	WDT_PE_LAYOUT_IMAGE, /* read offsets are RVAs (mapped image) */
};

struct wdt_pe_io {
	/*
	 * Read exactly len bytes at off (see layout). A hole in the image is
	 * status WDT_NO_DATA; any other failure its own status.
	 */
	int (*read)(void *ctx, uint64_t off, void *buf, size_t len,
		    struct wdt_err *err);
	void *ctx;
	enum wdt_pe_layout layout;
	const char *name; /* for messages ("ntoskrnl.exe at 0xfffff80…") */
};

struct wdt_pe;

/*
 * Read headers and sections (required), then the CodeView record and the
 * export directory (optional: failures are kept and reported on use).
 * io is copied; io->ctx must outlive the reader. Caller frees with
 * wdt_pe_close.
 */
struct wdt_pe *wdt_pe_open(const struct wdt_pe_io *io, struct wdt_err *err);

/* Open a PE file from a byte source (borrowed; must outlive the reader). */
struct wdt_pe *wdt_pe_open_source(struct wdt_source *src, struct wdt_err *err);

void wdt_pe_close(struct wdt_pe *pe);

const struct wdt_pe_headers *wdt_pe_headers(const struct wdt_pe *pe);
/* Section table; *n gets the count. Owned by pe. */
const struct wdt_pe_section *wdt_pe_sections(const struct wdt_pe *pe,
					     size_t *n);

/* CodeView identity: 0, or -1 with the reason it is unavailable. */
int wdt_pe_codeview(const struct wdt_pe *pe, const struct wdt_pe_codeview **cv,
		    struct wdt_err *err);

/*
 * Exports sorted by name (binary-searchable); owned by pe. -1 with the
 * reason when the export directory could not be read. *dll_name may be ""
 * when only the name is unreadable.
 */
int wdt_pe_exports(const struct wdt_pe *pe, const struct wdt_pe_export **v,
		   size_t *n, const char **dll_name, struct wdt_err *err);

/* Look an export up by name: 1 found (*rva set), 0 absent, -1 unavailable. */
int wdt_pe_export_rva(const struct wdt_pe *pe, const char *name, uint32_t *rva,
		      struct wdt_err *err);

/*
 * Map an RVA to a file offset through the section table (file layout):
 * 1 mapped, 0 not backed by file data (e.g. .bss).
 */
int wdt_pe_rva_to_off(const struct wdt_pe *pe, uint32_t rva, uint32_t len,
		      uint64_t *off);

/*
 * The function holding rva, from the exception directory (x64 .pdata:
 * RUNTIME_FUNCTION {BeginAddress, EndAddress, UnwindData}, sorted):
 * 1 found ([*begin, *end) set), 0 no directory or rva not covered, -1 a
 * read error. At most log2(entries) small reads.
 */
int wdt_pe_function_range(const struct wdt_pe *pe, uint32_t rva,
			  uint32_t *begin, uint32_t *end, struct wdt_err *err);

/* Read len bytes at an RVA through the reader's layout. */
int wdt_pe_read_rva(const struct wdt_pe *pe, uint32_t rva, void *buf,
		    size_t len, struct wdt_err *err);

#endif
