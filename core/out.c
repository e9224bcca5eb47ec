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
	char *text;	/* K_VAL: text form */
	char *json;	/* K_VAL: JSON form (already a literal if !quote) */
	bool quote;	/* K_VAL: json is a string to quote */
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
	n->text = xstrdup(o, text);
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

void wdt_out_bool(struct wdt_out *o, const char *key, const char *label,
		  bool v)
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
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
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

/* ---- JSON ---- */

/* Length of a valid UTF-8 sequence at s, or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned min, cp;

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		n = 2, min = 0x80, cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, min = 0x800, cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, min = 0x10000, cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void wdt_json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	while (*s) {
		unsigned c = *s;
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc((int)c, f);
			s++;
		} else if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n': fputs("\\n", f); break;
			case '\t': fputs("\\t", f); break;
			case '\r': fputs("\\r", f); break;
			default: fprintf(f, "\\u%04x", c); break;
			}
			s++;
		} else {
			size_t n = utf8_len(s);
			if (n == 0) {
				fputs("\\ufffd", f);
				s++;
			} else {
				fwrite(s, 1, n, f);
				s += n;
			}
		}
	}
	fputc('"', f);
}

static void indent(FILE *f, int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", f);
}

static void render_json(FILE *f, const struct node *n, int depth,
			bool with_key)
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
	size_t w[MAXCOL] = { 0 };
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
