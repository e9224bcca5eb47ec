/* SPDX-License-Identifier: MIT */
#include "core/out.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_OBJ, K_ARR, K_VAL };

struct node {
	enum kind kind;
	char *key;
	char *label;
	char *text; /* K_VAL: text form */
	char *json; /* K_VAL: JSON form (already a literal if !quote) */
	bool quote; /* K_VAL: json is a string to quote */
	struct node *parent, *child, *last, *next;
	size_t nchild;
};

struct wdt_out {
	bool json;
	bool failed; /* an allocation failed; reported at render */
	struct node *root, *cur;
};

static char *xstrdup(struct wdt_out *o, const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		o->failed = true;
	return d;
}

static struct node *add(struct wdt_out *o, enum kind k, const char *key,
			const char *label)
{
	struct node *n;

	if (o->failed)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n) {
		o->failed = true;
		return NULL;
	}
	n->kind = k;
	n->key = xstrdup(o, key);
	n->label = xstrdup(o, label);
	n->parent = o->cur;
	if (o->cur) {
		if (o->cur->last)
			o->cur->last->next = n;
		else
			o->cur->child = n;
		o->cur->last = n;
		o->cur->nchild++;
	}
	return n;
}

struct wdt_out *wdt_out_new(bool json)
{
	struct wdt_out *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->json = json;
	o->root = add(o, K_OBJ, NULL, NULL);
	if (!o->root) {
		free(o);
		return NULL;
	}
	o->cur = o->root;
	return o;
}

static void free_node(struct node *n)
{
	while (n) {
		struct node *next = n->next;
		free_node(n->child);
		free(n->key);
		free(n->label);
		free(n->text);
		free(n->json);
		free(n);
		n = next;
	}
}

void wdt_out_free(struct wdt_out *o)
{
	if (!o)
		return;
	free_node(o->root);
	free(o);
}

bool wdt_out_is_json(const struct wdt_out *o)
{
	return o->json;
}

void wdt_out_obj_begin(struct wdt_out *o, const char *key, const char *label)
{
	struct node *n = add(o, K_OBJ, key, label);

	if (n)
		o->cur = n;
}

void wdt_out_arr_begin(struct wdt_out *o, const char *key, const char *label)
{
	struct node *n = add(o, K_ARR, key, label);

	if (n)
		o->cur = n;
}

static void end(struct wdt_out *o)
{
	if (!o->failed && o->cur && o->cur->parent)
		o->cur = o->cur->parent;
}

void wdt_out_obj_end(struct wdt_out *o)
{
	end(o);
}

void wdt_out_arr_end(struct wdt_out *o)
{
	end(o);
}

static void val(struct wdt_out *o, const char *key, const char *label,
		const char *text, const char *json, bool quote)
{
	struct node *n = add(o, K_VAL, key, label);

	if (!n)
		return;
	/* Text is escaped here, once: table widths count what is shown. */
	n->text = wdt_text_escape(text);
	if (!n->text)
		o->failed = true;
	n->json = xstrdup(o, json ? json : text);
	n->quote = quote;
}

void wdt_out_str(struct wdt_out *o, const char *key, const char *label,
		 const char *s)
{
	if (!s) {
		wdt_out_null(o, key, label);
		return;
	}
	val(o, key, label, s, s, true);
}

void wdt_out_u64(struct wdt_out *o, const char *key, const char *label,
		 uint64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	val(o, key, label, b, b, false);
}

void wdt_out_i64(struct wdt_out *o, const char *key, const char *label,
		 int64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "%" PRId64, v);
	val(o, key, label, b, b, false);
}

void wdt_out_bool(struct wdt_out *o, const char *key, const char *label, bool v)
{
	val(o, key, label, v ? "yes" : "no", v ? "true" : "false", false);
}

void wdt_out_addr(struct wdt_out *o, const char *key, const char *label,
		  uint64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "0x%016" PRIx64, v);
	val(o, key, label, b, b, true);
}

void wdt_out_hex(struct wdt_out *o, const char *key, const char *label,
		 uint64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "0x%" PRIx64, v);
	val(o, key, label, b, b, true);
}

void wdt_out_u64_hex(struct wdt_out *o, const char *key, const char *label,
		     uint64_t v)
{
	char t[32], j[32];

	snprintf(t, sizeof(t), "0x%" PRIx64, v);
	snprintf(j, sizeof(j), "%" PRIu64, v);
	val(o, key, label, t, j, false);
}

void wdt_out_size(struct wdt_out *o, const char *key, const char *label,
		  uint64_t bytes)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB",
					   "TiB", "PiB", "EiB"};
	char t[64], j[32];
	double v = (double)bytes;
	int u = -1;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(t, sizeof(t), "%" PRIu64 " bytes", bytes);
	else
		snprintf(t, sizeof(t), "%" PRIu64 " (%.1f %s)", bytes, v,
			 unit[u]);
	snprintf(j, sizeof(j), "%" PRIu64, bytes);
	val(o, key, label, t, j, false);
}

void wdt_out_null(struct wdt_out *o, const char *key, const char *label)
{
	val(o, key, label, "-", "null", false);
}

/* ---- escaping: one walker, two renderings ---- */

/*
 * Strings from images, file names and servers are untrusted: a PDB name
 * with ESC[2J or a newline must neither steer the terminal nor forge an
 * output line. One walker splits a string into characters and classes;
 * JSON and text only differ in how they write the unsafe ones.
 */
enum chr {
	CHR_PLAIN,   /* printable ASCII or a valid UTF-8 sequence */
	CHR_CONTROL, /* C0, DEL, or C1 (U+0080..U+009F, as UTF-8) */
	CHR_BAD,     /* one byte that starts no valid UTF-8 sequence */
};

/*
 * Length of the character at s (1..4) and its class; *cp is the code
 * point (the byte itself for CHR_BAD). Overlong forms, surrogates and
 * values past U+10FFFF are CHR_BAD, one byte at a time.
 */
static size_t next_chr(const unsigned char *s, enum chr *k, unsigned *cp)
{
	unsigned c = s[0], min, v;
	size_t n;

	*cp = c;
	if (c < 0x80) {
		*k = c < 0x20 || c == 0x7f ? CHR_CONTROL : CHR_PLAIN;
		return 1;
	}
	*k = CHR_BAD;
	if ((c & 0xe0) == 0xc0)
		n = 2, min = 0x80, v = c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		n = 3, min = 0x800, v = c & 0x0f;
	else if ((c & 0xf8) == 0xf0)
		n = 4, min = 0x10000, v = c & 0x07;
	else
		return 1;
	/* Stops at the NUL terminator too: it is not a continuation byte. */
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 1;
	*cp = v;
	*k = v < 0xa0 ? CHR_CONTROL : CHR_PLAIN;
	return n;
}

/* Where escaped bytes go: a FILE, or a buffer (NULL buf: count only). */
struct sink {
	FILE *f;
	char *buf;
	size_t len;
};

static void put(struct sink *k, const char *p, size_t n)
{
	if (k->f)
		fwrite(p, 1, n, k->f);
	else if (k->buf)
		memcpy(k->buf + k->len, p, n);
	k->len += n;
}

static void put_short(struct sink *k, char c)
{
	char e[2] = {'\\', c};

	put(k, e, 2);
}

/* \n, \t, \r as in C and JSON; the caller handles the other controls. */
static bool put_named(struct sink *k, unsigned cp)
{
	switch (cp) {
	case '\n':
		put_short(k, 'n');
		return true;
	case '\t':
		put_short(k, 't');
		return true;
	case '\r':
		put_short(k, 'r');
		return true;
	default:
		return false;
	}
}

static void escape(struct sink *k, const char *str, bool json)
{
	const unsigned char *s = (const unsigned char *)str;
	char b[8];

	while (*s) {
		enum chr cls;
		unsigned cp;
		size_t n = next_chr(s, &cls, &cp);

		if (cls == CHR_PLAIN) {
			if (json && (cp == '"' || cp == '\\'))
				put_short(k, (char)cp);
			else
				put(k, (const char *)s, n);
		} else if (cls == CHR_CONTROL && put_named(k, cp)) {
			;
		} else if (json) {
			/* JSON cannot carry a lone byte: U+FFFD stands in. */
			put(k, b,
			    (size_t)snprintf(b, sizeof(b), "\\u%04x",
					     cls == CHR_BAD ? 0xfffdu : cp));
		} else {
			/* Text keeps the value: \x1b, \x7f, \xff; C1 \u0085. */
			put(k, b,
			    (size_t)snprintf(b, sizeof(b),
					     cp < 0x80 || cls == CHR_BAD
						 ? "\\x%02x"
						 : "\\u%04x",
					     cp));
		}
		s += n;
	}
}

void wdt_json_string(FILE *f, const char *s)
{
	struct sink k = {.f = f};

	fputc('"', f);
	escape(&k, s, true);
	fputc('"', f);
}

void wdt_text_string(FILE *f, const char *s)
{
	struct sink k = {.f = f};

	escape(&k, s, false);
}

char *wdt_text_escape(const char *s)
{
	struct sink k = {0};

	escape(&k, s, false);
	k.buf = malloc(k.len + 1);
	if (!k.buf)
		return NULL;
	k.len = 0;
	escape(&k, s, false);
	k.buf[k.len] = '\0';
	return k.buf;
}

static void indent(FILE *f, int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", f);
}

static void render_json(FILE *f, const struct node *n, int depth, bool with_key)
{
	if (with_key) {
		wdt_json_string(f, n->key ? n->key : "");
		fputs(": ", f);
	}
	if (n->kind == K_VAL) {
		if (n->quote)
			wdt_json_string(f, n->json);
		else
			fputs(n->json, f);
		return;
	}
	bool obj = n->kind == K_OBJ;
	fputc(obj ? '{' : '[', f);
	if (!n->child) {
		fputc(obj ? '}' : ']', f);
		return;
	}
	fputc('\n', f);
	for (const struct node *c = n->child; c; c = c->next) {
		indent(f, depth + 1);
		render_json(f, c, depth + 1, obj);
		if (c->next)
			fputc(',', f);
		fputc('\n', f);
	}
	indent(f, depth);
	fputc(obj ? '}' : ']', f);
}

/* ---- text ---- */

static void label_of(const struct node *n, char *buf, size_t len)
{
	if (n->label) {
		snprintf(buf, len, "%s", n->label);
		return;
	}
	snprintf(buf, len, "%s", n->key ? n->key : "");
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = ' ';
	if (buf[0])
		buf[0] = (char)toupper((unsigned char)buf[0]);
}

static bool flat_object(const struct node *n)
{
	if (n->kind != K_OBJ)
		return false;
	for (const struct node *c = n->child; c; c = c->next)
		if (c->kind != K_VAL)
			return false;
	return true;
}

/* An array whose elements are all objects with scalar members only. */
static bool is_table(const struct node *n)
{
	if (n->kind != K_ARR || !n->child)
		return false;
	for (const struct node *c = n->child; c; c = c->next)
		if (!flat_object(c))
			return false;
	return true;
}

static void render_text(FILE *f, const struct node *n, int depth);

static void render_table(FILE *f, const struct node *arr, int depth)
{
	enum { MAXCOL = 32 };
	size_t w[MAXCOL] = {0};
	size_t ncol = 0;
	char lab[128];

	/* Columns are those of the first row; widths cover all rows. */
	for (const struct node *c = arr->child->child; c && ncol < MAXCOL;
	     c = c->next) {
		label_of(c, lab, sizeof(lab));
		w[ncol++] = strlen(lab);
	}
	for (const struct node *row = arr->child; row; row = row->next) {
		size_t i = 0;
		for (const struct node *c = row->child; c && i < ncol;
		     c = c->next, i++)
			if (strlen(c->text) > w[i])
				w[i] = strlen(c->text);
	}
	indent(f, depth);
	size_t i = 0;
	for (const struct node *c = arr->child->child; c && i < ncol;
	     c = c->next, i++) {
		label_of(c, lab, sizeof(lab));
		fprintf(f, "%-*s%s", c->next ? (int)w[i] : 0, lab,
			c->next ? "  " : "");
	}
	fputc('\n', f);
	for (const struct node *row = arr->child; row; row = row->next) {
		indent(f, depth);
		i = 0;
		for (const struct node *c = row->child; c && i < ncol;
		     c = c->next, i++)
			fprintf(f, "%-*s%s", c->next ? (int)w[i] : 0, c->text,
				c->next ? "  " : "");
		fputc('\n', f);
	}
}

static void render_members(FILE *f, const struct node *n, int depth)
{
	size_t w = 0;
	char lab[128];

	for (const struct node *c = n->child; c; c = c->next) {
		if (c->kind != K_VAL)
			continue;
		label_of(c, lab, sizeof(lab));
		if (strlen(lab) > w)
			w = strlen(lab);
	}
	for (const struct node *c = n->child; c; c = c->next) {
		if (c->kind == K_VAL) {
			label_of(c, lab, sizeof(lab));
			indent(f, depth);
			fprintf(f, "%s:%*s %s\n", lab, (int)(w - strlen(lab)),
				"", c->text);
		} else {
			render_text(f, c, depth);
		}
	}
}

static void render_text(FILE *f, const struct node *n, int depth)
{
	char lab[128];

	label_of(n, lab, sizeof(lab));
	if (n->kind == K_OBJ) {
		indent(f, depth);
		fprintf(f, "%s:\n", lab);
		render_members(f, n, depth + 1);
		return;
	}
	/* array */
	indent(f, depth);
	if (!n->child) {
		fprintf(f, "%s: none\n", lab);
		return;
	}
	if (is_table(n)) {
		fprintf(f, "%s (%zu):\n", lab, n->nchild);
		render_table(f, n, depth + 1);
		return;
	}
	bool scalars = true;
	for (const struct node *c = n->child; c; c = c->next)
		if (c->kind != K_VAL)
			scalars = false;
	if (scalars) {
		fprintf(f, "%s:", lab);
		for (const struct node *c = n->child; c; c = c->next)
			fprintf(f, " %s%s", c->text, c->next ? "," : "");
		fputc('\n', f);
		return;
	}
	fprintf(f, "%s (%zu):\n", lab, n->nchild);
	for (const struct node *c = n->child; c; c = c->next)
		render_text(f, c, depth + 1);
}

int wdt_out_render(struct wdt_out *o, FILE *f, struct wdt_err *err)
{
	if (o->failed)
		return wdt_err_nomem(err);
	if (o->json) {
		render_json(f, o->root, 0, false);
		fputc('\n', f);
	} else {
		render_members(f, o->root, 0);
	}
	if (fflush(f) != 0 || ferror(f))
		return wdt_err_set(err, WDT_OUTPUT, "writing output: %s",
				   strerror(errno ? errno : EIO));
	return 0;
}
