/* SPDX-License-Identifier: MIT */
/*
 * Windows kernel crash dump reader (dmp64.md). Full dumps (DumpType 1)
 * map the PhysicalMemoryBlock runs back to back from 0x2000; bitmap dumps
 * (5, 6, 2) store the pages whose bit is set, in PFN order, from
 * FirstPage, and become one run per stretch of set bits. Other types are
 * described but have no memory wdt can read. Every count and offset in the
 * header is checked against the file before use.
 */
#include "formats/dmp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bytes.h"
#include "core/out.h"

#define BMP_CHUNK 65536u /* bitmap bytes read at a time */

struct dmp {
	struct wdt_dmp_hdr h;
	uint64_t run_pages; /* full: sum of PageCount */
	bool have_bitmap;
	struct wdt_dmp_bitmap b;
	uint64_t popcount;   /* bitmap: set bits */
	uint64_t beyond_eof; /* bitmap: present pages past the file */
	bool have_rdmp;
	uint64_t rdmp_metadata, rdmp_first_page;
	const char *no_memory; /* why there are no runs, or NULL */
};

/* ---- small helpers ---- */

bool wdt_dmp_unset32(uint32_t v)
{
	return v == WDT_DMP_SIG_PAGE;
}

bool wdt_dmp_unset64(uint64_t v)
{
	return v == WDT_DMP_PAGE_FILL64;
}

bool wdt_dmp_context_unset(const uint8_t ctx[WDT_CTX_SIZE])
{
	bool zero = true, fill = true;

	for (size_t i = 0; i < WDT_CTX_SIZE; i += 4) {
		uint32_t v = wdt_le32(ctx + i);
		zero = zero && v == 0;
		fill = fill && v == WDT_DMP_SIG_PAGE;
	}
	return zero || fill;
}

const char *wdt_dmp_type_name(uint32_t t)
{
	switch (t) {
	case 0:
		return "unknown";
	case WDT_DUMP_TYPE_FULL:
		return "full";
	case WDT_DUMP_TYPE_SUMMARY:
		return "summary (kernel)";
	case WDT_DUMP_TYPE_HEADER:
		return "header only";
	case WDT_DUMP_TYPE_TRIAGE:
		return "triage (minidump)";
	case WDT_DUMP_TYPE_BITMAP_FULL:
		return "bitmap full";
	case WDT_DUMP_TYPE_BITMAP_KERNEL:
		return "bitmap kernel";
	case 7:
		return "automatic (a setting, not a file type)";
	case WDT_DUMP_TYPE_KERNEL_RANGE:
		return "kernel range (RDMP)";
	case WDT_DUMP_TYPE_KERNEL_USER_RANGE:
		return "kernel and user range (RDMP)";
	case WDT_DUMP_TYPE_COMPLETE_RANGE:
		return "complete range (RDMP)";
	case 0xFFFFFFFFu:
		return "invalid";
	default:
		return "not a known type";
	}
}

bool wdt_dmp_type_is_bitmap(uint32_t t)
{
	return t == WDT_DUMP_TYPE_BITMAP_FULL ||
	       t == WDT_DUMP_TYPE_BITMAP_KERNEL || t == WDT_DUMP_TYPE_SUMMARY;
}

uint64_t wdt_dmp_header_size(const struct wdt_dmp_hdr *h)
{
	return h->is64 ? WDT_DMP64_HDR_SIZE : WDT_DMP32_HDR_SIZE;
}

static void copy_ascii(char *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && src[i]; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	dst[i] = '\0';
	/* A 'PAGE'-filled field is unset, not text (dmp64.md §9). */
	if (i >= 4 && memcmp(src, "PAGE", 4) == 0)
		dst[0] = '\0';
}

/* ---- header parsing ---- */

static void parse64(const uint8_t *p, struct wdt_dmp_hdr *h)
{
	h->major = wdt_le32(p + WDT_DMP64_MAJOR);
	h->minor = wdt_le32(p + WDT_DMP64_MINOR);
	h->dtb = wdt_le64(p + WDT_DMP64_DTB);
	h->pfn_database = wdt_le64(p + WDT_DMP64_PFN_DATABASE);
	h->ps_loaded_module_list =
	    wdt_le64(p + WDT_DMP64_PS_LOADED_MODULE_LIST);
	h->ps_active_process_head =
	    wdt_le64(p + WDT_DMP64_PS_ACTIVE_PROCESS_HEAD);
	h->machine = wdt_le32(p + WDT_DMP64_MACHINE);
	h->nprocs = wdt_le32(p + WDT_DMP64_NUMBER_PROCESSORS);
	h->bugcheck_code = wdt_le32(p + WDT_DMP64_BUGCHECK_CODE);
	for (int i = 0; i < 4; i++)
		h->bugcheck_params[i] =
		    wdt_le64(p + WDT_DMP64_BUGCHECK_PARAM + 8 * i);
	copy_ascii(h->version_user, p + WDT_DMP64_VERSION_USER, 32);
	h->kdbg = wdt_le64(p + WDT_DMP64_KDBG);
	h->nruns_raw = wdt_le32(p + WDT_DMP64_PMB_NRUNS);
	h->npages = wdt_le64(p + WDT_DMP64_PMB_NPAGES);
	h->nruns = h->nruns_raw < WDT_DMP64_MAX_RUNS ? h->nruns_raw
						     : WDT_DMP64_MAX_RUNS;
	for (unsigned i = 0; i < h->nruns; i++) {
		const uint8_t *r = p + WDT_DMP64_PMB_RUNS + 16 * i;
		h->runs[i].base_page = wdt_le64(r);
		h->runs[i].page_count = wdt_le64(r + 8);
	}
	memcpy(h->context, p + WDT_DMP64_CONTEXT, WDT_CTX_SIZE);
	const uint8_t *e = p + WDT_DMP64_EXCEPTION;
	h->exc.code = wdt_le32(e + WDT_EXC_CODE);
	h->exc.flags = wdt_le32(e + WDT_EXC_FLAGS);
	h->exc.record = wdt_le64(e + WDT_EXC_RECORD);
	h->exc.address = wdt_le64(e + WDT_EXC_ADDRESS);
	h->exc.nparams = wdt_le32(e + WDT_EXC_NPARAMS);
	for (int i = 0; i < 15; i++)
		h->exc.info[i] = wdt_le64(e + WDT_EXC_INFO + 8 * i);
	h->dump_type = wdt_le32(p + WDT_DMP64_DUMP_TYPE);
	h->required_space = (int64_t)wdt_le64(p + WDT_DMP64_REQUIRED_SPACE);
	h->system_time = (int64_t)wdt_le64(p + WDT_DMP64_SYSTEM_TIME);
	copy_ascii(h->comment, p + WDT_DMP64_COMMENT, WDT_DMP64_COMMENT_SIZE);
	h->system_uptime = (int64_t)wdt_le64(p + WDT_DMP64_SYSTEM_UPTIME);
	h->minidump_fields = wdt_le32(p + WDT_DMP64_MINIDUMP_FIELDS);
	h->secondary_data_state = wdt_le32(p + WDT_DMP64_SECONDARY_DATA_STATE);
	h->product_type = wdt_le32(p + WDT_DMP64_PRODUCT_TYPE);
	h->suite_mask = wdt_le32(p + WDT_DMP64_SUITE_MASK);
	h->writer_status = wdt_le32(p + WDT_DMP64_WRITER_STATUS);
	h->kd_secondary_version = p[WDT_DMP64_KD_SECONDARY_VERSION];
	h->attributes = wdt_le32(p + WDT_DMP64_ATTRIBUTES);
	h->boot_id = wdt_le32(p + WDT_DMP64_BOOT_ID);
}

static void parse32(const uint8_t *p, struct wdt_dmp_hdr *h)
{
	h->major = wdt_le32(p + WDT_DMP64_MAJOR);
	h->minor = wdt_le32(p + WDT_DMP64_MINOR);
	h->dtb = wdt_le32(p + WDT_DMP32_DTB);
	h->pfn_database = wdt_le32(p + WDT_DMP32_PFN_DATABASE);
	h->ps_loaded_module_list =
	    wdt_le32(p + WDT_DMP32_PS_LOADED_MODULE_LIST);
	h->ps_active_process_head =
	    wdt_le32(p + WDT_DMP32_PS_ACTIVE_PROCESS_HEAD);
	h->machine = wdt_le32(p + WDT_DMP32_MACHINE);
	h->nprocs = wdt_le32(p + WDT_DMP32_NUMBER_PROCESSORS);
	h->bugcheck_code = wdt_le32(p + WDT_DMP32_BUGCHECK_CODE);
	for (int i = 0; i < 4; i++)
		h->bugcheck_params[i] =
		    wdt_le32(p + WDT_DMP32_BUGCHECK_PARAM + 4 * i);
	h->pae = p[WDT_DMP32_PAE] != 0;
	h->kd_secondary_version = p[WDT_DMP32_KD_SECONDARY_VERSION];
	h->kdbg = wdt_le32(p + WDT_DMP32_KDBG);
	h->nruns_raw = wdt_le32(p + WDT_DMP32_PMB);
	h->npages = wdt_le32(p + WDT_DMP32_PMB + 4);
	h->nruns = h->nruns_raw < WDT_DMP32_MAX_RUNS ? h->nruns_raw
						     : WDT_DMP32_MAX_RUNS;
	for (unsigned i = 0; i < h->nruns; i++) {
		const uint8_t *r = p + WDT_DMP32_PMB_RUNS + 8 * i;
		h->runs[i].base_page = wdt_le32(r);
		h->runs[i].page_count = wdt_le32(r + 4);
	}
	copy_ascii(h->comment, p + WDT_DMP32_COMMENT, WDT_DMP64_COMMENT_SIZE);
	h->dump_type = wdt_le32(p + WDT_DMP32_DUMP_TYPE);
	h->product_type = wdt_le32(p + WDT_DMP32_PRODUCT_TYPE);
	h->suite_mask = wdt_le32(p + WDT_DMP32_SUITE_MASK);
	h->required_space = (int64_t)wdt_le64(p + WDT_DMP32_REQUIRED_SPACE);
	h->system_uptime = (int64_t)wdt_le64(p + WDT_DMP32_SYSTEM_UPTIME);
	h->system_time = (int64_t)wdt_le64(p + WDT_DMP32_SYSTEM_TIME);
}

int wdt_dmp_parse_header(const uint8_t *buf, size_t len, struct wdt_dmp_hdr *h,
			 struct wdt_err *err)
{
	memset(h, 0, sizeof(*h));
	if (len < 8 || wdt_le32(buf) != WDT_DMP_SIG_PAGE)
		return wdt_err_set(err, WDT_UNKNOWN_FORMAT,
				   "not a crash dump: no 'PAGE' signature");
	h->signature = wdt_le32(buf);
	h->valid_dump = wdt_le32(buf + WDT_DMP64_VALID_DUMP);
	if (h->valid_dump == WDT_DMP_VALID_DU64)
		h->is64 = true;
	else if (h->valid_dump != WDT_DMP_VALID_DUMP)
		return wdt_err_set(
		    err, WDT_UNKNOWN_FORMAT,
		    "'PAGE' signature but ValidDump is 0x%08" PRIx32
		    ", neither 'DU64' nor 'DUMP'",
		    h->valid_dump);
	if (len < wdt_dmp_header_size(h))
		return wdt_err_set(err, WDT_TRUNCATED,
				   "header truncated: %zu bytes of the "
				   "%" PRIu64 "-byte %s header",
				   len, wdt_dmp_header_size(h),
				   h->is64 ? "DUMP_HEADER64" : "DUMP_HEADER32");
	if (h->is64)
		parse64(buf, h);
	else
		parse32(buf, h);
	return 0;
}

void wdt_dmp_context_to_cpu(const uint8_t ctx[WDT_CTX_SIZE], const char *source,
			    struct wdt_cpu *cpu)
{
	/* CONTEXT order is Rax Rcx Rdx Rbx Rsp Rbp Rsi Rdi R8..R15. */
	static const enum wdt_reg order[16] = {
	    WDT_RAX, WDT_RCX, WDT_RDX, WDT_RBX, WDT_RSP, WDT_RBP,
	    WDT_RSI, WDT_RDI, WDT_R8,  WDT_R9,	WDT_R10, WDT_R11,
	    WDT_R12, WDT_R13, WDT_R14, WDT_R15,
	};
	static const struct {
		enum wdt_segreg s;
		unsigned off;
	} segs[] = {
	    {WDT_CS, WDT_CTX_SEG_CS}, {WDT_DS, WDT_CTX_SEG_DS},
	    {WDT_ES, WDT_CTX_SEG_ES}, {WDT_FS, WDT_CTX_SEG_FS},
	    {WDT_GS, WDT_CTX_SEG_GS}, {WDT_SS, WDT_CTX_SEG_SS},
	};

	memset(cpu, 0, sizeof(*cpu));
	for (int i = 0; i < 16; i++)
		cpu->regs[order[i]] = wdt_le64(ctx + WDT_CTX_RAX + 8 * i);
	cpu->regs[WDT_RIP] = wdt_le64(ctx + WDT_CTX_RIP);
	cpu->regs[WDT_RFLAGS] = wdt_le32(ctx + WDT_CTX_EFLAGS);
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
		cpu->segs[segs[i].s].selector = wdt_le16(ctx + segs[i].off);
	cpu->have = WDT_CPU_HAVE_GPRS | WDT_CPU_HAVE_SEGS;
	cpu->long_mode = true;
	cpu->source = source;
}

/* ---- full dumps ---- */

int wdt_dmp_check_runs(const struct wdt_dmp_hdr *h, uint64_t *pages,
		       struct wdt_err *err)
{
	unsigned cap = h->is64 ? WDT_DMP64_MAX_RUNS : WDT_DMP32_MAX_RUNS;
	uint64_t sum = 0;

	if (wdt_dmp_unset32(h->nruns_raw))
		return wdt_err_set(err, WDT_CORRUPT,
				   "NumberOfRuns is the 'PAGE' fill: the run "
				   "list was never written");
	if (h->nruns_raw > cap)
		return wdt_err_set(err, WDT_CORRUPT,
				   "NumberOfRuns is %" PRIu32
				   ", more than the %u the header holds",
				   h->nruns_raw, cap);
	for (unsigned i = 0; i < h->nruns; i++) {
		const struct wdt_dmp_run *r = &h->runs[i];
		if (r->page_count == 0)
			return wdt_err_set(err, WDT_CORRUPT,
					   "run %u (PFN 0x%" PRIx64
					   ") has no pages",
					   i, r->base_page);
		/* PFNs are below 2^52: keeps every byte address in range. */
		if (r->base_page >= (1ull << 52) ||
		    r->page_count > (1ull << 52) - r->base_page)
			return wdt_err_set(err, WDT_CORRUPT,
					   "run %u (PFN 0x%" PRIx64
					   ", 0x%" PRIx64
					   " pages) passes the 52-bit physical "
					   "address limit",
					   i, r->base_page, r->page_count);
		sum += r->page_count; /* < 42 * 2^52: no overflow */
	}
	*pages = sum;
	return 0;
}

static int open_full(struct wdt_image *img, struct dmp *d, struct wdt_err *err)
{
	const struct wdt_dmp_hdr *h = &d->h;
	uint64_t off = wdt_dmp_header_size(h);

	if (wdt_dmp_check_runs(h, &d->run_pages, err) < 0)
		return -1;
	for (unsigned i = 0; i < h->nruns; i++) {
		const struct wdt_dmp_run *r = &h->runs[i];
		if (wdt_image_add_run(img, r->base_page * WDT_PAGE_SIZE,
				      r->page_count * WDT_PAGE_SIZE, off,
				      err) < 0)
			return -1;
		off += r->page_count * WDT_PAGE_SIZE;
	}
	return 0;
}

/* ---- bitmap dumps ---- */

int wdt_dmp_parse_bitmap(const uint8_t *buf, size_t len,
			 struct wdt_dmp_bitmap *b, struct wdt_err *err)
{
	memset(b, 0, sizeof(*b));
	if (len < WDT_BMP_BITMAP)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "bitmap header truncated: %zu of %u bytes",
				   len, WDT_BMP_BITMAP);
	b->signature = wdt_le32(buf + WDT_BMP_SIGNATURE);
	b->valid_dump = wdt_le32(buf + WDT_BMP_VALID_DUMP);
	b->dump_options = wdt_le32(buf + WDT_BMP_DUMP_OPTIONS);
	b->first_page = wdt_le64(buf + WDT_BMP_FIRST_PAGE);
	b->present = wdt_le64(buf + WDT_BMP_PRESENT_PAGES);
	b->bits = wdt_le64(buf + WDT_BMP_BITS);
	b->bitmap_off = WDT_DMP64_HDR_SIZE + WDT_BMP_BITMAP;
	b->bitmap_len = b->bits <= WDT_DMP_BMP_MAX_BITS ? (b->bits + 7) / 8 : 0;
	return 0;
}

int wdt_dmp_check_bitmap(const struct wdt_dmp_bitmap *b, uint64_t file_size,
			 struct wdt_err *err)
{
	if ((b->signature != WDT_DMP_SIG_FDMP &&
	     b->signature != WDT_DMP_SIG_SDMP) ||
	    b->valid_dump != WDT_DMP_VALID_DUMP)
		return wdt_err_set(err, WDT_CORRUPT,
				   "bitmap header at 0x2000 has signature "
				   "0x%08" PRIx32 "/0x%08" PRIx32
				   ", not 'FDMP' or 'SDMP' + 'DUMP'",
				   b->signature, b->valid_dump);
	if (b->bits > WDT_DMP_BMP_MAX_BITS)
		return wdt_err_set(err, WDT_CORRUPT,
				   "bitmap claims 0x%" PRIx64
				   " bits (more than 0x7fffffff)",
				   b->bits);
	if (b->first_page % WDT_PAGE_SIZE ||
	    b->first_page > WDT_DMP_BMP_MAX_FIRST_PAGE ||
	    b->first_page < b->bitmap_off + b->bitmap_len)
		return wdt_err_set(err, WDT_CORRUPT,
				   "bitmap FirstPage 0x%" PRIx64
				   " is not a page-aligned offset after the "
				   "0x%" PRIx64 "-byte bitmap (and <= 16 MiB)",
				   b->first_page, b->bitmap_len);
	if (b->present > b->bits)
		return wdt_err_set(err, WDT_CORRUPT,
				   "bitmap TotalPresentPages 0x%" PRIx64
				   " exceeds its 0x%" PRIx64 " bits",
				   b->present, b->bits);
	if (!wdt_in_bounds(file_size, b->bitmap_off, b->bitmap_len))
		return wdt_err_set(err, WDT_TRUNCATED,
				   "the 0x%" PRIx64 "-byte bitmap at 0x%" PRIx64
				   " runs past the end of the file (0x%" PRIx64
				   " bytes)",
				   b->bitmap_len, b->bitmap_off, file_size);
	return 0;
}

int wdt_dmp_bitmap_walk(struct wdt_source *src, const struct wdt_dmp_bitmap *b,
			wdt_dmp_run_fn fn, void *arg, uint64_t *popcount,
			struct wdt_err *err)
{
	uint8_t *buf = malloc(BMP_CHUNK);
	uint64_t k = 0, run_pfn = 0, run_len = 0, run_k = 0;
	int rc = -1;

	if (!buf)
		return wdt_err_nomem(err);
	for (uint64_t pos = 0; pos < b->bitmap_len; pos += BMP_CHUNK) {
		size_t n = b->bitmap_len - pos < BMP_CHUNK
			       ? (size_t)(b->bitmap_len - pos)
			       : BMP_CHUNK;
		if (wdt_source_read(src, buf, n, b->bitmap_off + pos, err) <
		    0) {
			wdt_err_prefix(err, "reading the bitmap");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (!buf[i] && !run_len)
				continue;
			for (unsigned j = 0; j < 8; j++) {
				uint64_t pfn = (pos + i) * 8 + j;
				if (pfn >= b->bits || !((buf[i] >> j) & 1)) {
					if (run_len && fn &&
					    fn(arg, run_pfn, run_len,
					       b->first_page +
						   run_k * WDT_PAGE_SIZE,
					       err) < 0)
						goto out;
					run_len = 0;
					continue;
				}
				if (!run_len) {
					run_pfn = pfn;
					run_k = k;
				}
				run_len++;
				k++;
			}
		}
	}
	if (run_len && fn &&
	    fn(arg, run_pfn, run_len, b->first_page + run_k * WDT_PAGE_SIZE,
	       err) < 0)
		goto out;
	if (popcount)
		*popcount = k;
	rc = 0;
out:
	free(buf);
	return rc;
}

struct add_ctx {
	struct wdt_image *img;
	struct dmp *d;
};

/* Keep the run list bounded by the file: pages past its end are dropped. */
static int add_bitmap_run(void *arg, uint64_t pfn, uint64_t npages,
			  uint64_t file_off, struct wdt_err *err)
{
	struct add_ctx *a = arg;
	uint64_t size = a->img->src->size, fit;

	if (file_off >= size) {
		a->d->beyond_eof += npages;
		return 0;
	}
	fit = (size - file_off) / WDT_PAGE_SIZE;
	if (fit < npages) {
		a->d->beyond_eof += npages - fit;
		npages = fit;
	}
	if (!npages)
		return 0;
	return wdt_image_add_run(a->img, pfn * WDT_PAGE_SIZE,
				 npages * WDT_PAGE_SIZE, file_off, err);
}

static int open_bitmap(struct wdt_image *img, struct dmp *d,
		       struct wdt_err *err)
{
	uint8_t buf[WDT_BMP_BITMAP];
	struct add_ctx a = {img, d};

	if (wdt_source_read(img->src, buf, sizeof(buf), WDT_DMP64_HDR_SIZE,
			    err) < 0)
		return wdt_err_prefix(err, "bitmap header");
	if (wdt_dmp_parse_bitmap(buf, sizeof(buf), &d->b, err) < 0 ||
	    wdt_dmp_check_bitmap(&d->b, img->src->size, err) < 0)
		return -1;
	d->have_bitmap = true;
	return wdt_dmp_bitmap_walk(img->src, &d->b, add_bitmap_run, &a,
				   &d->popcount, err);
}

uint64_t wdt_dmp_expected_size(const struct wdt_dmp_hdr *h, uint64_t run_pages,
			       const struct wdt_dmp_bitmap *b,
			       uint64_t popcount)
{
	if (h->dump_type == WDT_DUMP_TYPE_FULL)
		return wdt_dmp_header_size(h) + run_pages * WDT_PAGE_SIZE;
	if (b && wdt_dmp_type_is_bitmap(h->dump_type))
		return b->first_page + popcount * WDT_PAGE_SIZE;
	return 0;
}

/* ---- probe / open / close ---- */

static int dmp_probe(const uint8_t *head, size_t len, uint64_t size)
{
	(void)size;
	if (len < 8 || wdt_le32(head) != WDT_DMP_SIG_PAGE)
		return 0;
	if (wdt_le32(head + 4) == WDT_DMP_VALID_DU64)
		return 100;
	if (wdt_le32(head + 4) == WDT_DMP_VALID_DUMP)
		return 90;
	return 0;
}

static void read_rdmp(struct wdt_image *img, struct dmp *d)
{
	uint8_t buf[0x20];
	struct wdt_err e;

	if (wdt_source_read(img->src, buf, sizeof(buf), WDT_DMP64_HDR_SIZE,
			    &e) < 0 ||
	    wdt_le32(buf + WDT_RDMP_SIGNATURE) != WDT_DMP_SIG_RDMP)
		return;
	d->have_rdmp = true;
	d->rdmp_metadata = wdt_le64(buf + WDT_RDMP_METADATA_SIZE);
	d->rdmp_first_page = wdt_le64(buf + WDT_RDMP_FIRST_PAGE);
}

static int open_body(struct wdt_image *img, struct dmp *d, struct wdt_err *err)
{
	uint32_t t = d->h.dump_type;

	if (t == WDT_DUMP_TYPE_FULL)
		return open_full(img, d, err);
	if (d->h.is64 && wdt_dmp_type_is_bitmap(t))
		return open_bitmap(img, d, err);
	if (d->h.is64 && t >= WDT_DUMP_TYPE_KERNEL_RANGE &&
	    t <= WDT_DUMP_TYPE_COMPLETE_RANGE) {
		read_rdmp(img, d);
		d->no_memory = "RDMP range dumps are described, not read";
	} else if (t == WDT_DUMP_TYPE_TRIAGE) {
		d->no_memory = "a triage dump holds no physical memory layout "
			       "wdt reads";
	} else if (t == WDT_DUMP_TYPE_HEADER) {
		d->no_memory = "a header-only dump holds no memory";
	} else if (!d->h.is64 && wdt_dmp_type_is_bitmap(t)) {
		d->no_memory = "32-bit bitmap dumps are described, not read";
	} else {
		d->no_memory = "unknown DumpType: no memory layout";
	}
	return 0;
}

static int dmp_open(struct wdt_image *img, struct wdt_err *err)
{
	uint8_t *buf = malloc(WDT_DMP64_HDR_SIZE);
	struct dmp *d = calloc(1, sizeof(*d));
	size_t got;

	if (!buf || !d) {
		free(buf);
		free(d);
		return wdt_err_nomem(err);
	}
	if (wdt_source_pread(img->src, buf, WDT_DMP64_HDR_SIZE, 0, &got, err) <
		0 ||
	    wdt_dmp_parse_header(buf, got, &d->h, err) < 0)
		goto fail;
	free(buf);
	buf = NULL;
	img->priv = d;
	if (open_body(img, d, err) < 0) {
		img->priv = NULL;
		goto fail;
	}
	if (d->h.is64 && !wdt_dmp_context_unset(d->h.context)) {
		struct wdt_cpu cpu;
		wdt_dmp_context_to_cpu(d->h.context, "DMP ContextRecord", &cpu);
		cpu.have |= WDT_CPU_SAVED_CONTEXT;
		if (wdt_image_add_cpu(img, &cpu, err) < 0) {
			img->priv = NULL;
			goto fail;
		}
	}
	if (d->h.is64 && !wdt_dmp_unset64(d->h.dtb))
		img->hints = (struct wdt_image_hints){
		    true, d->h.dtb, "dmp-header", "the DMP header"};
	snprintf(img->variant, sizeof(img->variant), "DMP%s, %s dump%s",
		 d->h.is64 ? "64" : "32", wdt_dmp_type_name(d->h.dump_type),
		 d->no_memory ? " (memory not readable)" : "");
	return 0;
fail:
	free(buf);
	free(d);
	return -1;
}

static void dmp_close(struct wdt_image *img)
{
	free(img->priv);
	img->priv = NULL;
}

const struct wdt_dmp_hdr *wdt_dmp_header(const struct wdt_image *img)
{
	if (!img || img->fmt != &wdt_format_dmp || !img->priv)
		return NULL;
	return &((const struct dmp *)img->priv)->h;
}

/* ---- describe ---- */

void wdt_dmp_time_str(int64_t ft, char *buf, size_t len)
{
	/* FILETIME: 100 ns since 1601-01-01; 11644473600 s before 1970. */
	int64_t secs = ft / 10000000 - 11644473600LL;
	time_t t = (time_t)secs;
	struct tm tm;

	snprintf(buf, len, "unset");
	if (ft > 0 && !wdt_dmp_unset64((uint64_t)ft) && gmtime_r(&t, &tm))
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%07dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)(ft % 10000000));
}

void wdt_dmp_uptime_str(int64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "unset");
	if (v >= 0 && !wdt_dmp_unset64((uint64_t)v)) {
		uint64_t s = (uint64_t)v / 10000000;
		snprintf(buf, len,
			 "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
			 s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
	}
}

void wdt_dmp_out_time(struct wdt_out *o, const char *key, const char *label,
		      int64_t ft)
{
	char buf[64];

	wdt_dmp_time_str(ft, buf, sizeof(buf));
	wdt_out_obj_begin(o, key, label);
	wdt_out_str(o, "utc", "UTC", buf);
	wdt_out_hex(o, "raw", "Raw", (uint64_t)ft);
	wdt_out_obj_end(o);
}

void wdt_dmp_out_uptime(struct wdt_out *o, const char *key, const char *label,
			int64_t v)
{
	char buf[64];

	wdt_dmp_uptime_str(v, buf, sizeof(buf));
	wdt_out_obj_begin(o, key, label);
	wdt_out_str(o, "text", "Uptime", buf);
	wdt_out_hex(o, "raw", "Raw", (uint64_t)v);
	wdt_out_obj_end(o);
}

static void out_body(struct wdt_out *o, const struct dmp *d,
		     const struct wdt_image *img)
{
	const struct wdt_dmp_hdr *h = &d->h;

	if (h->dump_type == WDT_DUMP_TYPE_FULL ||
	    !wdt_dmp_unset32(h->nruns_raw)) {
		wdt_out_obj_begin(o, "physical_memory_block",
				  "PhysicalMemoryBlock");
		wdt_out_u64(o, "number_of_runs", "NumberOfRuns", h->nruns_raw);
		wdt_out_u64(o, "number_of_pages", "NumberOfPages", h->npages);
		wdt_out_arr_begin(o, "runs", "Runs");
		for (unsigned i = 0; i < h->nruns; i++) {
			wdt_out_obj_begin(o, NULL, NULL);
			wdt_out_hex(o, "base_page", "BasePage",
				    h->runs[i].base_page);
			wdt_out_u64_hex(o, "page_count", "PageCount",
					h->runs[i].page_count);
			wdt_out_obj_end(o);
		}
		wdt_out_arr_end(o);
		wdt_out_obj_end(o);
	}
	if (d->have_bitmap) {
		wdt_out_obj_begin(o, "bitmap", "Bitmap header");
		wdt_out_str(o, "signature", "Signature",
			    d->b.signature == WDT_DMP_SIG_FDMP ? "FDMP"
							       : "SDMP");
		wdt_out_hex(o, "dump_options", "DumpOptions",
			    d->b.dump_options);
		wdt_out_hex(o, "first_page", "FirstPage", d->b.first_page);
		wdt_out_u64(o, "total_present_pages", "TotalPresentPages",
			    d->b.present);
		wdt_out_u64(o, "bits", "Bitmap bits", d->b.bits);
		wdt_out_u64(o, "set_bits", "Set bits", d->popcount);
		wdt_out_u64(o, "pages_beyond_eof", "Pages past end of file",
			    d->beyond_eof);
		wdt_out_obj_end(o);
	}
	if (d->have_rdmp) {
		wdt_out_obj_begin(o, "rdmp", "RDMP header");
		wdt_out_u64_hex(o, "metadata_size", "MetadataSize",
				d->rdmp_metadata);
		wdt_out_hex(o, "first_page", "FirstPageOffset",
			    d->rdmp_first_page);
		wdt_out_obj_end(o);
	}
	if (d->no_memory)
		wdt_out_str(o, "memory_note", "Memory", d->no_memory);
	(void)img;
}

static void out_context(struct wdt_out *o, const struct wdt_dmp_hdr *h)
{
	const uint8_t *c = h->context;

	wdt_out_obj_begin(o, "context_record", "ContextRecord");
	if (wdt_dmp_context_unset(c)) {
		wdt_out_bool(o, "set", "Set", false);
	} else {
		wdt_out_bool(o, "set", "Set", true);
		wdt_out_hex(o, "context_flags", "ContextFlags",
			    wdt_le32(c + WDT_CTX_FLAGS));
		wdt_out_addr(o, "rip", "Rip", wdt_le64(c + WDT_CTX_RIP));
		wdt_out_addr(o, "rsp", "Rsp", wdt_le64(c + WDT_CTX_RAX + 32));
		wdt_out_hex(o, "seg_cs", "SegCs", wdt_le16(c + WDT_CTX_SEG_CS));
		wdt_out_hex(o, "seg_ss", "SegSs", wdt_le16(c + WDT_CTX_SEG_SS));
		wdt_out_hex(o, "eflags", "EFlags",
			    wdt_le32(c + WDT_CTX_EFLAGS));
		wdt_out_hex(o, "mxcsr", "MxCsr", wdt_le32(c + WDT_CTX_MXCSR));
		wdt_out_hex(o, "fltsave_mxcsr", "FltSave.MxCsr",
			    wdt_le32(c + WDT_CTX_FLT_MXCSR));
	}
	wdt_out_obj_end(o);
}

static void out_exception(struct wdt_out *o, const struct wdt_dmp_hdr *h)
{
	wdt_out_obj_begin(o, "exception", "Exception");
	wdt_out_hex(o, "code", "ExceptionCode", h->exc.code);
	wdt_out_hex(o, "flags", "ExceptionFlags", h->exc.flags);
	wdt_out_addr(o, "record", "ExceptionRecord", h->exc.record);
	wdt_out_addr(o, "address", "ExceptionAddress", h->exc.address);
	wdt_out_u64(o, "number_parameters", "NumberParameters", h->exc.nparams);
	wdt_out_obj_end(o);
}

void wdt_dmp_out_header(struct wdt_out *o, const struct wdt_dmp_hdr *h)
{
	wdt_out_str(o, "signature", "Signature",
		    h->is64 ? "PAGE DU64" : "PAGE DUMP");
	wdt_out_hex(o, "major_version", "MajorVersion", h->major);
	wdt_out_u64(o, "minor_version", "MinorVersion (build)", h->minor);
	wdt_out_addr(o, "directory_table_base", "DirectoryTableBase", h->dtb);
	wdt_out_addr(o, "pfn_database", "PfnDataBase", h->pfn_database);
	wdt_out_addr(o, "ps_loaded_module_list", "PsLoadedModuleList",
		     h->ps_loaded_module_list);
	wdt_out_addr(o, "ps_active_process_head", "PsActiveProcessHead",
		     h->ps_active_process_head);
	wdt_out_hex(o, "machine_image_type", "MachineImageType", h->machine);
	wdt_out_u64(o, "number_processors", "NumberProcessors", h->nprocs);
	wdt_out_hex(o, "bugcheck_code", "BugCheckCode", h->bugcheck_code);
	wdt_out_arr_begin(o, "bugcheck_parameters", "BugCheckParameters");
	for (int i = 0; i < 4; i++)
		wdt_out_addr(o, NULL, NULL, h->bugcheck_params[i]);
	wdt_out_arr_end(o);
	wdt_out_str(o, "version_user", "VersionUser", h->version_user);
	wdt_out_addr(o, "kd_debugger_data_block", "KdDebuggerDataBlock",
		     h->kdbg);
	wdt_out_u64(o, "dump_type", "DumpType", h->dump_type);
	wdt_out_str(o, "dump_type_name", "DumpType name",
		    wdt_dmp_type_name(h->dump_type));
	wdt_out_i64(o, "required_dump_space", "RequiredDumpSpace",
		    h->required_space);
	wdt_dmp_out_time(o, "system_time", "SystemTime", h->system_time);
	wdt_dmp_out_uptime(o, "system_uptime", "SystemUpTime",
			   h->system_uptime);
	wdt_out_str(o, "comment", "Comment", h->comment);
	wdt_out_hex(o, "minidump_fields", "MiniDumpFields", h->minidump_fields);
	wdt_out_hex(o, "secondary_data_state", "SecondaryDataState",
		    h->secondary_data_state);
	wdt_out_u64(o, "product_type", "ProductType", h->product_type);
	wdt_out_hex(o, "suite_mask", "SuiteMask", h->suite_mask);
	wdt_out_hex(o, "writer_status", "WriterStatus", h->writer_status);
	wdt_out_u64(o, "kd_secondary_version", "KdSecondaryVersion",
		    h->kd_secondary_version);
	wdt_out_hex(o, "attributes", "Attributes", h->attributes);
	wdt_out_hex(o, "boot_id", "BootId", h->boot_id);
	if (h->is64) {
		out_exception(o, h);
		out_context(o, h);
	} else {
		wdt_out_bool(o, "pae_enabled", "PaeEnabled", h->pae);
	}
}

static void dmp_describe(struct wdt_image *img, struct wdt_out *o)
{
	const struct dmp *d = img->priv;
	const struct wdt_dmp_hdr *h;
	uint64_t want;

	if (!d)
		return;
	h = &d->h;
	wdt_out_obj_begin(o, "dmp", "DMP header");
	wdt_dmp_out_header(o, h);
	out_body(o, d, img);
	want = wdt_dmp_expected_size(
	    h, d->run_pages, d->have_bitmap ? &d->b : NULL, d->popcount);
	if (want)
		wdt_out_u64(o, "layout_size", "Size the layout needs", want);
	else
		wdt_out_null(o, "layout_size", "Size the layout needs");
	wdt_out_u64(o, "file_size", "File size", img->file_size);
	wdt_out_obj_end(o);
}

const struct wdt_format wdt_format_dmp = {
    .name = "dmp",
    .summary = "Windows kernel crash dump (PAGEDU64 full and bitmap; "
	       "other types described)",
    .flags = WDT_FMT_HAS_CPUS,
    .probe = dmp_probe,
    .open = dmp_open,
    .describe = dmp_describe,
    .close = dmp_close,
};
