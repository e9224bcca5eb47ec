/* SPDX-License-Identifier: MIT */
/*
 * libvirt save images (qemu-migration.md §5; libvirt
 * src/qemu/qemu_saveimage.h). See libvirt.h.
 */
#include "formats/libvirt.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/out.h"
#include "formats/compressed.h"
#include "formats/qevm.h"

#define MAGIC_DONE "LibvirtQemudSave"
#define MAGIC_PART "LibvirtQemudPart"
#define MAGIC_LEN 16

static const char *const comp_names[] = {"raw",	 "gzip", "bzip2", "xz",
					 "lzop", "zstd", "sparse"};

const char *wdt_libvirt_comp_name(uint32_t format)
{
	return format < sizeof(comp_names) / sizeof(comp_names[0])
		   ? comp_names[format]
		   : NULL;
}

static uint32_t swap32(uint32_t v)
{
	return v >> 24 | (v >> 8 & 0xFF00) | (v << 8 & 0xFF0000) | v << 24;
}

/* Copy printable ASCII of [s, s+n) into dst, entities decoded. */
static void text_copy(char *dst, size_t cap, const char *s, size_t n)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {{"&lt;", '<'},
		    {"&gt;", '>'},
		    {"&amp;", '&'},
		    {"&quot;", '"'},
		    {"&apos;", '\''}};
	size_t k = 0;

	while (n && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' ||
		     s[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i < n && k + 1 < cap; i++) {
		char c = s[i];
		if (c == '&') {
			for (size_t e = 0; e < sizeof(ents) / sizeof(ents[0]);
			     e++) {
				size_t el = strlen(ents[e].ent);
				if (n - i >= el &&
				    memcmp(s + i, ents[e].ent, el) == 0) {
					c = ents[e].c;
					i += el - 1;
					break;
				}
			}
		}
		dst[k++] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	dst[k] = '\0';
}

/*
 * The first element <tag ...>text</tag> in xml: its attribute text and
 * its text. A scanner, not a parser: the XML is informational.
 */
static bool element(const char *xml, const char *tag, const char **attrs,
		    size_t *alen, const char **text, size_t *tlen)
{
	size_t tl = strlen(tag);
	for (const char *p = strchr(xml, '<'); p; p = strchr(p + 1, '<')) {
		if (strncmp(p + 1, tag, tl) != 0 ||
		    (p[1 + tl] != '>' && p[1 + tl] != ' ' &&
		     p[1 + tl] != '\t' && p[1 + tl] != '\n'))
			continue;
		const char *gt = strchr(p, '>');
		if (!gt)
			return false;
		*attrs = p + 1 + tl;
		*alen = (size_t)(gt - *attrs);
		if (gt[-1] == '/') { /* <tag/> */
			*text = gt;
			*tlen = 0;
			return true;
		}
		const char *end = strstr(gt + 1, "</");
		if (!end)
			return false;
		*text = gt + 1;
		*tlen = (size_t)(end - *text);
		return true;
	}
	return false;
}

static void attr(const char *a, size_t n, const char *name, char *dst,
		 size_t cap)
{
	size_t nl = strlen(name);
	dst[0] = '\0';
	for (size_t i = 0; i + nl + 2 < n; i++) {
		if ((i == 0 || a[i - 1] == ' ' || a[i - 1] == '\t' ||
		     a[i - 1] == '\n') &&
		    memcmp(a + i, name, nl) == 0 && a[i + nl] == '=' &&
		    (a[i + nl + 1] == '\'' || a[i + nl + 1] == '"')) {
			const char *v = a + i + nl + 2;
			const char *e =
			    memchr(v, a[i + nl + 1], n - (size_t)(v - a));
			if (e)
				text_copy(dst, cap, v, (size_t)(e - v));
			return;
		}
	}
}

/* <memory unit='...'>N</memory> in KiB (libvirt's units; default KiB). */
static uint64_t memory_kib(const char *xml, const char *tag)
{
	const char *a, *t;
	size_t an, tn;
	char unit[16], num[32];
	static const struct {
		const char *u;
		uint64_t mul, div;
	} units[] = {{"b", 1, 1024},
		     {"bytes", 1, 1024},
		     {"KB", 1000, 1024},
		     {"k", 1, 1},
		     {"KiB", 1, 1},
		     {"MB", 1000000, 1024},
		     {"M", 1024, 1},
		     {"MiB", 1024, 1},
		     {"GB", 1000000000, 1024},
		     {"G", 1048576, 1},
		     {"GiB", 1048576, 1},
		     {"T", 1073741824, 1},
		     {"TiB", 1073741824, 1}};

	if (!element(xml, tag, &a, &an, &t, &tn))
		return 0;
	attr(a, an, "unit", unit, sizeof(unit));
	text_copy(num, sizeof(num), t, tn);
	char *end;
	uint64_t v = strtoull(num, &end, 10);
	if (end == num || *end)
		return 0;
	if (!unit[0])
		return v;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(unit, units[i].u) == 0)
			return v * units[i].mul / units[i].div;
	return 0;
}

static void read_xml(struct wdt_libvirt_hdr *h, const char *xml)
{
	const char *a, *t;
	size_t an, tn;
	char num[32];

	if (element(xml, "name", &a, &an, &t, &tn))
		text_copy(h->name, sizeof(h->name), t, tn);
	if (element(xml, "uuid", &a, &an, &t, &tn))
		text_copy(h->uuid, sizeof(h->uuid), t, tn);
	if (element(xml, "vcpu", &a, &an, &t, &tn)) {
		text_copy(num, sizeof(num), t, tn);
		h->vcpus = (unsigned)strtoul(num, NULL, 10);
	}
	if (element(xml, "type", &a, &an, &t, &tn)) {
		attr(a, an, "machine", h->machine, sizeof(h->machine));
		attr(a, an, "arch", h->arch, sizeof(h->arch));
	}
	h->memory_kib = memory_kib(xml, "memory");
	h->current_memory_kib = memory_kib(xml, "currentMemory");
}

int wdt_libvirt_read_header(struct wdt_source *src, struct wdt_libvirt_hdr *h,
			    struct wdt_err *err)
{
	uint8_t b[WDT_LIBVIRT_HDR];

	memset(h, 0, sizeof(*h));
	if (src->size < WDT_LIBVIRT_HDR)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "libvirt save image of %" PRIu64
				   " bytes: its %u-byte header is cut off",
				   src->size, WDT_LIBVIRT_HDR);
	if (wdt_source_read(src, b, sizeof(b), 0, err) < 0)
		return -1;
	if (memcmp(b, MAGIC_PART, MAGIC_LEN) == 0)
		h->partial = true;
	else if (memcmp(b, MAGIC_DONE, MAGIC_LEN) != 0)
		return wdt_err_set(err, WDT_UNKNOWN_FORMAT,
				   "not a libvirt save image");
	uint32_t f[5];
	for (int i = 0; i < 5; i++)
		f[i] = wdt_le32(b + 16 + 4 * i);
	if ((f[0] < 1 || f[0] > 2) && swap32(f[0]) >= 1 && swap32(f[0]) <= 2) {
		h->big_endian = true;
		for (int i = 0; i < 5; i++)
			f[i] = swap32(f[i]);
	}
	h->version = f[0];
	h->data_len = f[1];
	h->was_running = f[2];
	h->format = h->version >= 2 ? f[3] : 0;
	h->cookie_offset = h->version >= 2 ? f[4] : 0;
	if (h->version < 1 || h->version > 2)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "libvirt save image version %" PRIu32
				   " is not known (1 and 2 are)",
				   h->version);
	if (!wdt_libvirt_comp_name(h->format))
		return wdt_err_set(err, WDT_CORRUPT,
				   "format %" PRIu32
				   " is not a libvirt save-image format",
				   h->format);
	if (h->data_len > WDT_LIBVIRT_MAX_DATA)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "XML length %" PRIu32
				   " is implausible (wdt reads up to %u)",
				   h->data_len, WDT_LIBVIRT_MAX_DATA);
	h->body_off = WDT_LIBVIRT_HDR + (uint64_t)h->data_len;
	if (h->body_off > src->size)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "libvirt save image: XML length %" PRIu32
				   " runs past the end of the file (file is "
				   "%" PRIu64 " bytes)",
				   h->data_len, src->size);
	if (h->cookie_offset && h->cookie_offset >= h->data_len)
		return wdt_err_set(err, WDT_CORRUPT,
				   "libvirt save image: cookie offset %" PRIu32
				   " lies outside the %" PRIu32
				   " bytes of XML data",
				   h->cookie_offset, h->data_len);
	char *xml = malloc((size_t)h->data_len + 1);
	if (!xml)
		return wdt_err_nomem(err);
	if (wdt_source_read(src, xml, h->data_len, WDT_LIBVIRT_HDR, err) < 0) {
		free(xml);
		return -1;
	}
	if (!memchr(xml, '\0', h->data_len)) {
		free(xml);
		return wdt_err_set(err, WDT_CORRUPT,
				   "libvirt save image: the domain XML is not "
				   "NUL-terminated inside its %" PRIu32
				   " bytes",
				   h->data_len);
	}
	read_xml(h, xml);
	free(xml);
	return 0;
}

static void lv_describe(void *priv, struct wdt_out *o)
{
	const struct wdt_libvirt_hdr *h = priv;

	wdt_out_obj_begin(o, "libvirt", "libvirt save image");
	wdt_out_u64(o, "version", "Version", h->version);
	wdt_out_bool(o, "finished", "Save finished", !h->partial);
	wdt_out_str(o, "byte_order", "Byte order",
		    h->big_endian ? "big-endian" : "little-endian");
	wdt_out_str(o, "compression", "Compression",
		    wdt_libvirt_comp_name(h->format));
	wdt_out_bool(o, "was_running", "Was running", h->was_running != 0);
	wdt_out_hex(o, "stream_offset", "Stream offset", h->body_off);
	wdt_out_str(o, "name", "Domain name", h->name);
	wdt_out_str(o, "uuid", "Domain UUID", h->uuid);
	wdt_out_u64(o, "memory_kib", "Memory (KiB)", h->memory_kib);
	wdt_out_u64(o, "current_memory_kib", "Current memory (KiB)",
		    h->current_memory_kib);
	wdt_out_u64(o, "vcpus", "vCPUs", h->vcpus);
	wdt_out_str(o, "machine", "Machine", h->machine);
	wdt_out_str(o, "arch", "Architecture", h->arch);
	wdt_out_obj_end(o);
}

/* What to run when wdt cannot decompress the body itself. */
static const char *const decompress_cmd[] = {
    [2] = "bzip2 -dc", [3] = "xz -dc", [4] = "lzop -dc", [5] = "zstd -dc"};

static int lv_open(struct wdt_image *img, struct wdt_err *err)
{
	struct wdt_libvirt_hdr *h = malloc(sizeof(*h));
	struct wdt_source *s;

	if (!h)
		return wdt_err_nomem(err);
	if (wdt_libvirt_read_header(img->src, h, err) < 0)
		goto fail;
	if (h->format >= 2 && h->format <= 5) {
		wdt_err_set(err, WDT_UNSUPPORTED,
			    "the migration stream is %s-compressed, which wdt "
			    "does not decompress yet: run 'tail -c +%" PRIu64
			    " FILE | %s > vm.qevm' and give vm.qevm",
			    wdt_libvirt_comp_name(h->format), h->body_off + 1,
			    decompress_cmd[h->format]);
		goto fail;
	}
	if (h->format == 6) {
		wdt_err_set(err, WDT_UNSUPPORTED,
			    "a 'sparse' (mapped-ram) save image, which wdt "
			    "does not read yet");
		goto fail;
	}
	s = wdt_source_open_window(img->src, h->body_off, err);
	if (!s)
		goto fail;
	img->src = s;
	if (h->format == 1) {
		s = wdt_gzip_open(img->src, img->max_ratio, err);
		if (!s) {
			wdt_err_prefix(err, "the gzip-compressed stream");
			goto fail;
		}
		img->src = s;
	}
	if (wdt_qevm_open_stream(img, err) < 0) {
		if (h->partial)
			wdt_err_prefix(err, "an unfinished save image (libvirt "
					    "was still writing it)");
		goto fail;
	}
	wdt_qevm_set_outer(img, &(struct wdt_qevm_outer){
				    .priv = h,
				    .describe = lv_describe,
				    .free = free,
				});
	char v[sizeof(img->variant)];
	snprintf(v, sizeof(v), "libvirt save image v%" PRIu32 " (%s%s), %.50s",
		 h->version, wdt_libvirt_comp_name(h->format),
		 h->partial ? ", unfinished" : "", img->variant);
	memcpy(img->variant, v, sizeof(v));
	return 0;
fail:
	free(h);
	return -1;
}

static int lv_probe(const uint8_t *head, size_t len, uint64_t size)
{
	(void)size;
	return len >= MAGIC_LEN && (memcmp(head, MAGIC_DONE, MAGIC_LEN) == 0 ||
				    memcmp(head, MAGIC_PART, MAGIC_LEN) == 0)
		   ? 100
		   : 0;
}

const struct wdt_format wdt_format_libvirt = {
    .name = "libvirt",
    .summary = "libvirt save image (virsh save / managedsave, virsh dump "
	       "without --memory-only): raw or gzip stream",
    .flags = WDT_FMT_HAS_CPUS,
    .probe = lv_probe,
    .open = lv_open,
    .read = wdt_qevm_read,
    .describe = wdt_qevm_describe,
    .close = wdt_qevm_close,
};
