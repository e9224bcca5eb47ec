/* SPDX-License-Identifier: MIT */
/*
 * JSON parser (see json.h): recursive descent over the text into one
 * node array; a container's children are copied into one shared index
 * array when the container closes, so element access is O(1).
 */
#include "core/json.h"

#include <stdlib.h>
#include <string.h>

struct jdoc;

struct wdt_json {
	const struct jdoc *doc;
	uint32_t type;
	uint32_t str; /* pool offset: string value, number text */
	uint32_t key; /* pool offset of the member name, or NONE */
	uint32_t nkids;
	uint32_t kids; /* first entry in doc->kids */
};

#define NONE UINT32_MAX

struct jdoc {
	struct wdt_json *nodes;
	size_t n, cap, max;
	uint32_t *kids;
	size_t nk, ck;
	uint32_t *stack; /* children of the open containers */
	size_t ns, cs;
	char *pool;
	size_t np, cp;
	const char *t;
	size_t len, pos;
	struct wdt_err *err;
};

static int fail(struct jdoc *d, const char *what)
{
	return wdt_err_set(d->err, WDT_CORRUPT, "JSON at byte %zu: %s", d->pos,
			   what);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem,
		struct wdt_err *err)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *n = realloc(*p, c * elem);
	if (!n)
		return wdt_err_nomem(err);
	*p = n;
	*cap = c;
	return 0;
}

static int pool_put(struct jdoc *d, const char *s, size_t n)
{
	if (d->np + n + 1 > UINT32_MAX)
		return wdt_err_set(d->err, WDT_UNSUPPORTED,
				   "JSON strings exceed 4 GiB");
	if (grow((void **)&d->pool, &d->cp, d->np + n + 1, 1, d->err) < 0)
		return -1;
	memcpy(d->pool + d->np, s, n);
	d->np += n;
	return 0;
}

static void ws(struct jdoc *d)
{
	while (d->pos < d->len &&
	       (d->t[d->pos] == ' ' || d->t[d->pos] == '\t' ||
		d->t[d->pos] == '\n' || d->t[d->pos] == '\r'))
		d->pos++;
}

static long new_node(struct jdoc *d, uint32_t type)
{
	if (d->n >= d->max) {
		wdt_err_set(d->err, WDT_UNSUPPORTED,
			    "JSON at byte %zu: more than %zu values", d->pos,
			    d->max);
		return -1;
	}
	if (grow((void **)&d->nodes, &d->cap, d->n + 1, sizeof(*d->nodes),
		 d->err) < 0)
		return -1;
	d->nodes[d->n] = (struct wdt_json){
	    .type = type, .str = NONE, .key = NONE, .kids = 0};
	return (long)d->n++;
}

static int hex4(struct jdoc *d, unsigned *v)
{
	*v = 0;
	if (d->len - d->pos < 4)
		return fail(d, "\\u escape cut off");
	for (int i = 0; i < 4; i++) {
		char c = d->t[d->pos++];
		unsigned x = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
						    : 16;
		if (x == 16)
			return fail(d, "bad hex digit in \\u escape");
		*v = *v << 4 | x;
	}
	return 0;
}

static int put_utf8(struct jdoc *d, unsigned cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return pool_put(d, b, n);
}

/* A string at d->pos ('"'); its decoded bytes go to the pool. */
static int string(struct jdoc *d, uint32_t *off)
{
	d->pos++;
	*off = (uint32_t)d->np;
	for (;;) {
		size_t start = d->pos;
		while (d->pos < d->len && d->t[d->pos] != '"' &&
		       d->t[d->pos] != '\\' &&
		       (unsigned char)d->t[d->pos] >= 0x20)
			d->pos++;
		if (pool_put(d, d->t + start, d->pos - start) < 0)
			return -1;
		if (d->pos >= d->len)
			return fail(d, "unterminated string");
		char c = d->t[d->pos];
		if (c == '"') {
			d->pos++;
			d->pool[d->np++] = '\0';
			return 0;
		}
		if (c != '\\')
			return fail(d, "control character in a string");
		if (++d->pos >= d->len)
			return fail(d, "unterminated string");
		c = d->t[d->pos++];
		const char *simple = strchr("\"\\/bfnrt", c);
		if (c && simple) {
			static const char map[] = "\"\\/\b\f\n\r\t";
			if (pool_put(d, &map[simple - "\"\\/bfnrt"], 1) < 0)
				return -1;
			continue;
		}
		if (c != 'u')
			return fail(d, "bad escape in a string");
		unsigned cp, lo;
		if (hex4(d, &cp) < 0)
			return -1;
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return fail(d, "lone low surrogate in a string");
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (d->len - d->pos < 2 || d->t[d->pos] != '\\' ||
			    d->t[d->pos + 1] != 'u')
				return fail(d,
					    "high surrogate without its pair");
			d->pos += 2;
			if (hex4(d, &lo) < 0)
				return -1;
			if (lo < 0xDC00 || lo > 0xDFFF)
				return fail(d,
					    "high surrogate without its pair");
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
		if (cp == 0)
			return fail(d, "\\u0000 in a string");
		if (put_utf8(d, cp) < 0)
			return -1;
	}
}

static bool digit(const struct jdoc *d)
{
	return d->pos < d->len && d->t[d->pos] >= '0' && d->t[d->pos] <= '9';
}

static int number(struct jdoc *d, uint32_t *off)
{
	size_t start = d->pos;
	if (d->t[d->pos] == '-')
		d->pos++;
	if (!digit(d))
		return fail(d, "bad number");
	if (d->t[d->pos] == '0')
		d->pos++;
	else
		while (digit(d))
			d->pos++;
	if (d->pos < d->len && d->t[d->pos] == '.') {
		d->pos++;
		if (!digit(d))
			return fail(d, "bad number: no digit after '.'");
		while (digit(d))
			d->pos++;
	}
	if (d->pos < d->len && (d->t[d->pos] == 'e' || d->t[d->pos] == 'E')) {
		d->pos++;
		if (d->pos < d->len &&
		    (d->t[d->pos] == '+' || d->t[d->pos] == '-'))
			d->pos++;
		if (!digit(d))
			return fail(d, "bad number: no digit in the exponent");
		while (digit(d))
			d->pos++;
	}
	*off = (uint32_t)d->np;
	if (pool_put(d, d->t + start, d->pos - start) < 0)
		return -1;
	d->pool[d->np++] = '\0';
	return 0;
}

static int word(struct jdoc *d, const char *w)
{
	size_t n = strlen(w);
	if (d->len - d->pos < n || memcmp(d->t + d->pos, w, n) != 0)
		return fail(d, "unexpected character");
	d->pos += n;
	return 0;
}

static long value(struct jdoc *d, int depth);

static int push_kid(struct jdoc *d, long idx)
{
	if (grow((void **)&d->stack, &d->cs, d->ns + 1, sizeof(*d->stack),
		 d->err) < 0)
		return -1;
	d->stack[d->ns++] = (uint32_t)idx;
	return 0;
}

/* Move the container's children (top of the stack) into doc->kids. */
static int close_kids(struct jdoc *d, long idx, size_t base)
{
	size_t n = d->ns - base;
	if (grow((void **)&d->kids, &d->ck, d->nk + n, sizeof(*d->kids),
		 d->err) < 0)
		return -1;
	memcpy(d->kids + d->nk, d->stack + base, n * sizeof(*d->kids));
	d->nodes[idx].kids = (uint32_t)d->nk;
	d->nodes[idx].nkids = (uint32_t)n;
	d->nk += n;
	d->ns = base;
	return 0;
}

static long container(struct jdoc *d, int depth, bool obj)
{
	long idx = new_node(d, obj ? WDT_JSON_OBJECT : WDT_JSON_ARRAY);
	size_t base = d->ns;
	char end = obj ? '}' : ']';

	if (idx < 0)
		return -1;
	d->pos++;
	ws(d);
	if (d->pos < d->len && d->t[d->pos] == end) {
		d->pos++;
		return close_kids(d, idx, base) < 0 ? -1 : idx;
	}
	for (;;) {
		uint32_t key = NONE;
		if (obj) {
			ws(d);
			if (d->pos >= d->len || d->t[d->pos] != '"')
				return fail(d, "expected a string key");
			if (string(d, &key) < 0)
				return -1;
			ws(d);
			if (d->pos >= d->len || d->t[d->pos] != ':')
				return fail(d, "expected ':' after object key");
			d->pos++;
		}
		long v = value(d, depth + 1);
		if (v < 0 || push_kid(d, v) < 0)
			return -1;
		d->nodes[v].key = key;
		ws(d);
		if (d->pos >= d->len)
			return fail(d, obj ? "unterminated object"
					   : "unterminated array");
		if (d->t[d->pos] == end) {
			d->pos++;
			return close_kids(d, idx, base) < 0 ? -1 : idx;
		}
		if (d->t[d->pos] != ',')
			return fail(d, obj ? "expected ',' or '}'"
					   : "expected ',' or ']'");
		d->pos++;
		ws(d);
		if (d->pos < d->len && d->t[d->pos] == end)
			return fail(d, "trailing comma");
	}
}

static long value(struct jdoc *d, int depth)
{
	long idx;
	ws(d);
	if (depth > WDT_JSON_MAX_DEPTH)
		return fail(d, "nested too deeply");
	if (d->pos >= d->len)
		return fail(d, "expected a value");
	switch (d->t[d->pos]) {
	case '{':
		return container(d, depth, true);
	case '[':
		return container(d, depth, false);
	case '"':
		idx = new_node(d, WDT_JSON_STRING);
		if (idx < 0 || string(d, &d->nodes[idx].str) < 0)
			return -1;
		return idx;
	case 't':
	case 'f':
		idx = new_node(d, WDT_JSON_BOOL);
		if (idx < 0)
			return -1;
		d->nodes[idx].str = d->t[d->pos] == 't';
		return word(d, d->t[d->pos] == 't' ? "true" : "false") < 0
			   ? -1
			   : idx;
	case 'n':
		idx = new_node(d, WDT_JSON_NULL);
		return idx < 0 || word(d, "null") < 0 ? -1 : idx;
	default:
		idx = new_node(d, WDT_JSON_NUMBER);
		if (idx < 0 || number(d, &d->nodes[idx].str) < 0)
			return -1;
		return idx;
	}
}

static void doc_free(struct jdoc *d)
{
	free(d->nodes);
	free(d->kids);
	free(d->stack);
	free(d->pool);
	free(d);
}

struct wdt_json *wdt_json_parse(const char *text, size_t len, size_t max_nodes,
				struct wdt_err *err)
{
	struct jdoc *d = calloc(1, sizeof(*d));

	if (!d) {
		wdt_err_nomem(err);
		return NULL;
	}
	d->t = text;
	d->len = len;
	d->err = err;
	d->max = max_nodes ? max_nodes : WDT_JSON_DEFAULT_NODES;
	if (d->max > UINT32_MAX)
		d->max = UINT32_MAX;
	if (value(d, 1) < 0)
		goto fail;
	ws(d);
	if (d->pos != d->len) {
		fail(d, "text after the value");
		goto fail;
	}
	free(d->stack);
	d->stack = NULL;
	for (size_t i = 0; i < d->n; i++)
		d->nodes[i].doc = d;
	return d->nodes;
fail:
	doc_free(d);
	return NULL;
}

void wdt_json_free(struct wdt_json *j)
{
	if (j)
		doc_free((struct jdoc *)j->doc);
}

enum wdt_json_type wdt_json_type(const struct wdt_json *j)
{
	return j ? (enum wdt_json_type)j->type : WDT_JSON_NULL;
}

size_t wdt_json_len(const struct wdt_json *j)
{
	return j && (j->type == WDT_JSON_ARRAY || j->type == WDT_JSON_OBJECT)
		   ? j->nkids
		   : 0;
}

const struct wdt_json *wdt_json_at(const struct wdt_json *j, size_t i)
{
	if (i >= wdt_json_len(j))
		return NULL;
	return &j->doc->nodes[j->doc->kids[j->kids + i]];
}

const char *wdt_json_key(const struct wdt_json *obj, size_t i)
{
	const struct wdt_json *v =
	    wdt_json_type(obj) == WDT_JSON_OBJECT ? wdt_json_at(obj, i) : NULL;
	return v ? v->doc->pool + v->key : NULL;
}

const struct wdt_json *wdt_json_get(const struct wdt_json *obj, const char *key)
{
	if (wdt_json_type(obj) != WDT_JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->nkids; i++)
		if (strcmp(wdt_json_key(obj, i), key) == 0)
			return wdt_json_at(obj, i);
	return NULL;
}

const char *wdt_json_str(const struct wdt_json *j)
{
	return wdt_json_type(j) == WDT_JSON_STRING ? j->doc->pool + j->str
						   : NULL;
}

bool wdt_json_u64(const struct wdt_json *j, uint64_t *v)
{
	if (wdt_json_type(j) != WDT_JSON_NUMBER)
		return false;
	const char *s = j->doc->pool + j->str;
	uint64_t x = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned dg = (unsigned)(*s - '0');
		if (x > (UINT64_MAX - dg) / 10)
			return false;
		x = x * 10 + dg;
	}
	*v = x;
	return true;
}

bool wdt_json_bool(const struct wdt_json *j, bool *v)
{
	if (wdt_json_type(j) != WDT_JSON_BOOL)
		return false;
	*v = j->str != 0;
	return true;
}
