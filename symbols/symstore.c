/* SPDX-License-Identifier: MIT */
/*
 * Symbol path parsing and PDB lookup/caching. Conventions:
 * ../shared/spec/pe-and-symbols.md §7 (key), §8 (path syntax), §9 (store
 * layout, .pd_, file.ptr), §10 (HTTP).
 */
#include "symbols/symstore.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/outfile.h"
#include "core/source.h"
#include "symbols/cab.h"
#include "symbols/download.h"
#include "symbols/pdb.h"
#include "symbols/pe.h"

#define PTR_MAX 4096 /* file.ptr is one short line */

static char *xprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *xprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void wdt_symopts_init(struct wdt_symopts *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout_s = 15;
	/*
	 * A kernel PDB is 10-30 MB (a CAB about half): under a minute on any
	 * link a symbol server sits behind; 2 min bound a stalled or
	 * trickling one. Below 16 KiB/s for 15 s no real server is that
	 * slow (a 12 MB PDB would take 12 min), a trickle is.
	 */
	o->timeout_s = 120;
	o->low_speed_time_s = 15;
	o->low_speed_bytes = 16384;
	o->retries = 3;
	o->retry_delay_ms = 1000;
	o->max_bytes = 512ull << 20;
}

int wdt_symstore_check_name(const char *name, struct wdt_err *err)
{
	size_t n = strnlen(name, WDT_SYMSTORE_NAME_MAX + 1);

	if (n == 0)
		return wdt_err_set(err, WDT_CORRUPT, "PDB name is empty");
	if (n > WDT_SYMSTORE_NAME_MAX)
		return wdt_err_set(err, WDT_CORRUPT,
				   "PDB name is longer than %d bytes",
				   WDT_SYMSTORE_NAME_MAX);
	if (name[0] == '.' || strstr(name, ".."))
		return wdt_err_set(err, WDT_CORRUPT,
				   "PDB name \"%s\" starts with a dot or "
				   "contains \"..\"",
				   name);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c >= 0x7f)
			return wdt_err_set(err, WDT_CORRUPT,
					   "PDB name contains byte 0x%02x at "
					   "%zu",
					   c, i);
		if (c == ' ' || strchr("/\\:*?\"<>|%#;&$`'", c))
			return wdt_err_set(err, WDT_CORRUPT,
					   "PDB name \"%s\" contains '%c'",
					   name, c);
	}
	return 0;
}

void wdt_symstore_key(const uint8_t guid[16], uint32_t age,
		      char out[WDT_SYMSTORE_KEY_MAX])
{
	char g[33];

	wdt_pe_guid_hex(guid, g);
	snprintf(out, WDT_SYMSTORE_KEY_MAX, "%s%" PRIX32, g, age);
}

char *wdt_symstore_default_cache(struct wdt_err *err)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char *s;

	/* XDG: a relative XDG_CACHE_HOME is invalid and ignored. */
	if (xdg && xdg[0] == '/')
		s = xprintf("%s/wdt/symbols", xdg);
	else if (home && home[0] == '/')
		s = xprintf("%s/.cache/wdt/symbols", home);
	else {
		wdt_err_set(err, WDT_USAGE,
			    "no symbol cache: set XDG_CACHE_HOME or HOME");
		wdt_err_remedy(err, WDT_REMEDY_SYMBOL_PATH);
		return NULL;
	}
	if (!s)
		wdt_err_nomem(err);
	return s;
}

int wdt_symstore_effective_path(const struct wdt_symopts *opts, char **path,
				const char **origin, struct wdt_err *err)
{
	const char *wdt = getenv("WDT_SYMBOL_PATH");
	const char *alt = getenv("_NT_ALT_SYMBOL_PATH");
	const char *nt = getenv("_NT_SYMBOL_PATH");
	char *cache;

	*path = NULL;
	if (opts->symbol_path) {
		*origin = "--symbol-path";
		*path = strdup(opts->symbol_path);
		return *path ? 0 : wdt_err_nomem(err);
	}
	if (wdt && wdt[0]) {
		*origin = "WDT_SYMBOL_PATH";
		*path = strdup(wdt);
		return *path ? 0 : wdt_err_nomem(err);
	}
	/*
	 * WinDbg: "The symbol path is created by appending _NT_SYMBOL_PATH
	 * after _NT_ALT_SYMBOL_PATH" (docs/symbols.md cites the page).
	 */
	alt = alt && alt[0] ? alt : NULL;
	nt = nt && nt[0] ? nt : NULL;
	if (alt && nt) {
		*origin = "_NT_ALT_SYMBOL_PATH;_NT_SYMBOL_PATH";
		*path = xprintf("%s;%s", alt, nt);
		return *path ? 0 : wdt_err_nomem(err);
	}
	if (alt || nt) {
		*origin = alt ? "_NT_ALT_SYMBOL_PATH" : "_NT_SYMBOL_PATH";
		*path = strdup(alt ? alt : nt);
		return *path ? 0 : wdt_err_nomem(err);
	}
	cache = wdt_symstore_default_cache(err);
	if (!cache)
		return -1;
	*origin = "default";
	*path = xprintf("srv*%s*%s", cache, WDT_SYMSTORE_MSDL);
	free(cache);
	return *path ? 0 : wdt_err_nomem(err);
}

/* ---- symbol path parsing ---- */

static void entry_free(struct wdt_sympath_entry *e)
{
	for (size_t i = 0; i < e->nstores; i++)
		free(e->stores[i]);
	free(e->stores);
	free(e->url);
	free(e->cache);
}

void wdt_sympath_free(struct wdt_sympath *p)
{
	for (size_t i = 0; i < p->n; i++)
		entry_free(&p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static bool is_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 ||
	       strncasecmp(s, "https://", 8) == 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int add_store(struct wdt_sympath_entry *e, const char *dir)
{
	char **nv = realloc(e->stores, (e->nstores + 1) * sizeof(*nv));

	if (!nv)
		return -1;
	e->stores = nv;
	e->stores[e->nstores] = strdup(dir);
	if (!e->stores[e->nstores])
		return -1;
	e->nstores++;
	return 0;
}

/*
 * A Windows location this machine cannot open: a drive letter (C:\x,
 * c:/x, C:) or a UNC share (\\server\share). Taken as a relative POSIX
 * path it would create a directory named "C:\cache" in the current one.
 */
static bool is_windows_path(const char *s)
{
	if (s[0] == '\\' && s[1] == '\\')
		return true;
	return isalpha((unsigned char)s[0]) && s[1] == ':';
}

static int windows_path(const char *entry, const char *part,
			struct wdt_err *err)
{
	return wdt_err_set(
	    err, WDT_USAGE,
	    "symbol path entry \"%s\": \"%s\" is a Windows "
	    "path (drive letter or \\\\server\\share), which wdt "
	    "cannot use; give a directory on this machine",
	    entry, part);
}

/*
 * After "srv*" (or "symsrv*DLL*"): stores, then an optional server.
 * WinDbg's forms (docs/symbols.md): nothing at all ("srv*", what .symfix
 * writes) is the cache plus Microsoft's server; an empty last part
 * ("srv*DIR*") is Microsoft's server; an empty store ("srv**URL") is the
 * cache; a single store ("srv*DIR") is used in place, with no server.
 * 1 = ok, 0 = refused (err set), -1 = out of memory.
 */
static int parse_srv(const char *entry, char *rest, const char *cache,
		     struct wdt_sympath_entry *e, struct wdt_err *err)
{
	char *tok, *save = NULL;
	char *parts[32];
	size_t n = 0;
	const char *url = NULL;

	/* strtok would drop empty fields ("srv**URL"): split by hand. */
	for (tok = rest;; tok = save + 1) {
		save = strchr(tok, '*');
		if (save)
			*save = '\0';
		if (n == 32) {
			wdt_err_set(err, WDT_USAGE,
				    "symbol path entry \"%s\" has more than 32 "
				    "parts",
				    entry);
			return 0;
		}
		parts[n++] = trim(tok);
		if (!save)
			break;
	}
	if (n == 1 && !parts[0][0]) {
		url = WDT_SYMSTORE_MSDL; /* "srv*" */
	} else if (n >= 2 && !parts[n - 1][0]) {
		url = WDT_SYMSTORE_MSDL; /* "srv*DIR*" */
		n--;
	} else if (is_url(parts[n - 1])) {
		url = parts[n - 1];
		n--;
	}
	if (url) {
		size_t l;

		e->url = strdup(url);
		if (!e->url)
			return -1;
		l = strlen(e->url);
		while (l > 8 && e->url[l - 1] == '/')
			e->url[--l] = '\0';
	}
	for (size_t i = 0; i < n; i++) {
		if (is_windows_path(parts[i])) {
			windows_path(entry, parts[i], err);
			return 0;
		}
		if (add_store(e, parts[i][0] ? parts[i] : cache) < 0)
			return -1;
	}
	if (e->nstores == 0 && add_store(e, cache) < 0)
		return -1;
	return 1;
}

/* One entry (s, trimmed, modified): 1 = an entry in *e, 0 = refused. */
static int parse_entry(const char *orig, char *s, const char *cache,
		       struct wdt_sympath_entry *e, struct wdt_err *err)
{
	char *rest = NULL;

	if (strncasecmp(s, "symsrv*", 7) == 0) {
		/* symsrv*DLL[*stores*server]: the DLL name is not ours */
		char *star = strchr(s + 7, '*');

		if (!*trim(s + 7) || *trim(s + 7) == '*') {
			wdt_err_set(err, WDT_USAGE,
				    "symbol path entry \"%s\" lacks the "
				    "server DLL (symsrv*symsrv.dll*…)",
				    orig);
			return 0;
		}
		rest = star ? star + 1 : s + strlen(s);
	} else if (strncasecmp(s, "srv*", 4) == 0) {
		rest = s + 4;
	} else if (strcasecmp(s, "srv") == 0) {
		rest = s + 3;
	}
	if (rest) {
		e->kind = WDT_SYMPATH_SRV;
		return parse_srv(orig, rest, cache, e, err);
	}
	if (is_windows_path(s))
		return windows_path(orig, s, err), 0;
	e->kind = WDT_SYMPATH_DIR;
	return add_store(e, s) < 0 ? -1 : 1;
}

int wdt_sympath_parse(const char *path, const char *default_cache,
		      struct wdt_sympath *out, struct wdt_err *err)
{
	char *copy = strdup(path), *cur, *next;
	char *cache = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!copy)
		return wdt_err_nomem(err);
	for (cur = copy; cur; cur = next) {
		struct wdt_sympath_entry e = {0};
		struct wdt_sympath_entry *nv;
		const char *c;
		char *s, *orig;
		int r;

		next = strchr(cur, ';');
		if (next)
			*next++ = '\0';
		s = trim(cur);
		if (!*s)
			continue;
		if (strncasecmp(s, "cache*", 6) == 0 ||
		    strcasecmp(s, "cache") == 0) {
			/* "cache*" alone: back to the default cache */
			char *d = trim(s + (s[5] ? 6 : 5));

			if (is_windows_path(d)) {
				windows_path(s, d, err);
				goto out;
			}
			free(cache);
			cache = strdup(d);
			if (!cache)
				goto nomem;
			continue;
		}
		c = cache && *cache ? cache : default_cache;
		orig = strdup(s);
		if (!orig)
			goto nomem;
		r = parse_entry(orig, s, c, &e, err);
		free(orig);
		if (r == 1 &&
		    !(e.cache =
			  strdup(e.kind == WDT_SYMPATH_SRV ? e.stores[0] : c)))
			r = -1;
		if (r <= 0) {
			entry_free(&e);
			if (r < 0)
				goto nomem;
			goto out;
		}
		nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
		if (!nv) {
			entry_free(&e);
			goto nomem;
		}
		out->v = nv;
		out->v[out->n++] = e;
	}
	rc = 0;
	goto out;
nomem:
	wdt_err_nomem(err);
out:
	if (rc < 0)
		wdt_sympath_free(out);
	free(cache);
	free(copy);
	return rc;
}

/* ---- lookup ---- */

struct want {
	const struct wdt_symopts *opts;
	const char *name;
	const uint8_t *guid;
	uint32_t age;
	char key[WDT_SYMSTORE_KEY_MAX];
	char *notes; /* why candidates were refused (heap, may be NULL) */
	size_t notes_len;
	char *first_url; /* where_to(): for the final message */
	char *first_cache;
	bool has_server;	/* the URL is a server of the path */
	enum wdt_remedy remedy; /* of the last refusal (a forcible mismatch) */
};

static void note(struct want *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append "; text" to the notes; a note lost to short memory is dropped. */
static void note(struct want *w, const char *fmt, ...)
{
	size_t sep = w->notes_len ? 2 : 0;
	va_list ap;
	char *nv;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	nv = realloc(w->notes, w->notes_len + sep + (size_t)n + 1);
	if (!nv)
		return;
	w->notes = nv;
	memcpy(nv + w->notes_len, "; ", sep);
	va_start(ap, fmt);
	vsnprintf(nv + w->notes_len + sep, (size_t)n + 1, fmt, ap);
	va_end(ap);
	w->notes_len += sep + (size_t)n;
}

static const char *notes_or(const struct want *w, const char *none)
{
	return w->notes_len ? w->notes : none;
}

static bool exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* 1 = path is the PDB we want, 0 = not (noted), -1 = fatal (nomem). */
static int verify(struct want *w, const char *path, bool allow_force,
		  struct wdt_err *err)
{
	struct wdt_err e;
	struct wdt_pdb *pdb;
	int rc;

	wdt_err_clear(&e);
	pdb = wdt_pdb_open_file(path, &e);
	if (!pdb) {
		if (e.status == WDT_NOMEM)
			return wdt_err_nomem(err);
		note(w, "%s", e.msg);
		return 0;
	}
	rc = wdt_pdb_check_match(pdb, w->guid, w->age,
				 allow_force && w->opts->force, &e);
	wdt_pdb_close(pdb);
	if (rc < 0) {
		note(w, "%s", e.msg);
		w->remedy = allow_force ? e.remedy : WDT_REMEDY_NONE;
		return 0;
	}
	return 1;
}

/* Read a short text file (file.ptr). Caller frees. */
static char *read_small(const char *path)
{
	char buf[PTR_MAX + 1];
	struct wdt_err e;
	struct stat st;
	/* Not a plain open(): a FIFO named file.ptr would block for ever. */
	int fd = wdt_source_open_input(path, &st, &e);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, PTR_MAX);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/*
 * file.ptr: "PATH:<location>" or "MSG:<text>" (Symbol Storage Format).
 * Returns the location (caller frees) or NULL with a note.
 */
static char *ptr_target(struct want *w, const char *where, char *text)
{
	char *t = trim(text);

	if (strncmp(t, "PATH:", 5) == 0 && t[5])
		return strdup(trim(t + 5));
	if (strncmp(t, "MSG:", 4) == 0)
		note(w, "%s: %.200s", where, trim(t + 4));
	else
		note(w, "%s: not a PATH: pointer", where);
	return NULL;
}

static int try_local_ptr(struct want *w, const char *ptrfile, char **found,
			 struct wdt_err *err)
{
	char *text = read_small(ptrfile), *target;
	int rc = 0;

	if (!text)
		return 0;
	target = ptr_target(w, ptrfile, text);
	free(text);
	if (!target)
		return 0;
	if (!exists(target))
		note(w, "%s points to %s, which is not a readable file",
		     ptrfile, target);
	else if ((rc = verify(w, target, true, err)) == 1) {
		*found = target;
		return 1;
	}
	free(target);
	return rc;
}

static int make_dirs(const char *path, struct wdt_err *err)
{
	char *p = strdup(path);

	if (!p)
		return wdt_err_nomem(err);
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST) {
				wdt_err_errno(err, errno, "creating %s", p);
				free(p);
				return -1;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return 0;
}

/* Remove dir and its parent when empty: no litter after a miss. */
static void prune(char *dir)
{
	char *slash;

	rmdir(dir);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		rmdir(dir);
		*slash = '/';
	}
}

/*
 * Expand the CAB at cab into final (in dir): temp file, libmspack, GUID
 * and age verified (never forced), then renamed into place. 1 = done,
 * 0 = not possible (noted), -1 = fatal.
 */
static int expand_into(struct want *w, const char *cab, const char *dir,
		       const char *final, struct wdt_err *err)
{
	struct wdt_outfile *of = NULL;
	struct wdt_err e;
	int rc;

	wdt_err_clear(&e);
	if (make_dirs(dir, &e) < 0 ||
	    wdt_outfile_open(&of, final, NULL, 0, true, &e) < 0) {
		note(w, "cannot expand %s: %s", cab, e.msg);
		return 0;
	}
	if (wdt_cab_expand(cab, w->name, wdt_outfile_fd(of), w->opts->max_bytes,
			   &e) < 0) {
		wdt_outfile_abort(of);
		if (e.status == WDT_NOMEM)
			return wdt_err_nomem(err);
		note(w, "expanding the CAB-compressed PDB: %s", e.msg);
		return 0;
	}
	rc = verify(w, wdt_outfile_temp_path(of), false, err);
	if (rc == 1) {
		if (wdt_outfile_commit(of, err) < 0)
			return wdt_err_prefix(err, "%s", final);
		return 1;
	}
	if (rc == 0)
		note(w, "rejected the PDB expanded from %s", cab);
	wdt_outfile_abort(of);
	return rc;
}

/*
 * A store's N/K/N_ (a CAB holding the PDB): expand it into the entry's
 * cache as cache/N/K/N, where the next lookup finds it (an expanded copy
 * already there is used as it is).
 */
static int expand_local(struct want *w, const char *cab, const char *cache,
			char **found, struct wdt_err *err)
{
	char *dir = xprintf("%s/%s/%s", cache, w->name, w->key);
	char *final = dir ? xprintf("%s/%s", dir, w->name) : NULL;
	int rc = 0;

	if (!final) {
		free(dir);
		return wdt_err_nomem(err);
	}
	if (exists(final))
		rc = verify(w, final, false, err);
	if (rc == 0)
		rc = expand_into(w, cab, dir, final, err);
	if (rc == 1) {
		*found = final;
		final = NULL;
	} else {
		prune(dir);
	}
	free(final);
	free(dir);
	return rc;
}

/* Look in one local store: N/K/N, N/K/N_ (expanded), N/K/file.ptr. */
static int try_store(struct want *w, const char *dir, bool flat,
		     const char *cache, char **found, struct wdt_err *err)
{
	char *p = NULL;
	int rc = 0;

	if (flat) {
		p = xprintf("%s/%s", dir, w->name);
		if (!p)
			return wdt_err_nomem(err);
		if (exists(p) && (rc = verify(w, p, true, err)) == 1) {
			*found = p;
			return 1;
		}
		free(p);
		if (rc < 0)
			return rc;
	}
	p = xprintf("%s/%s/%s/%s", dir, w->name, w->key, w->name);
	if (!p)
		return wdt_err_nomem(err);
	if (exists(p) && (rc = verify(w, p, true, err)) == 1) {
		*found = p;
		return 1;
	}
	if (rc < 0)
		goto out;
	/* The compressed variant: same path with the last character '_'. */
	p[strlen(p) - 1] = '_';
	if (exists(p) && (rc = expand_local(w, p, cache, found, err)) != 0)
		goto out;
	free(p);
	p = xprintf("%s/%s/%s/file.ptr", dir, w->name, w->key);
	if (!p)
		return wdt_err_nomem(err);
	rc = try_local_ptr(w, p, found, err);
out:
	free(p);
	return rc;
}

/*
 * Download url into a temp file beside target (an atomic output file:
 * removed on failure, on exit and on SIGINT/SIGTERM). 1 = downloaded (*of
 * open; the caller commits or aborts it), 0 = not available (noted, *st
 * set), -1 = fatal.
 */
static int fetch_tmp(struct want *w, const char *url, const char *target,
		     struct wdt_outfile **of, enum wdt_status *st,
		     struct wdt_err *err)
{
	struct wdt_err e;

	if (wdt_outfile_open(of, target, NULL, 0, true, err) < 0)
		return -1;
	wdt_err_clear(&e);
	if (wdt_download(w->opts, url, wdt_outfile_fd(*of), w->name, &e) == 0)
		return 1;
	*st = e.status;
	note(w, "%s%s", e.msg, wdt_symopts_remedy(w->opts, e.remedy));
	wdt_outfile_abort(*of);
	*of = NULL;
	return 0;
}

/* Download, verify GUID/age, rename into the cache: 1 / 0 (noted) / -1. */
static int fetch_verify(struct want *w, const char *url, const char *final,
			enum wdt_status *st, struct wdt_err *err)
{
	struct wdt_outfile *of;
	int rc = fetch_tmp(w, url, final, &of, st, err);

	if (rc != 1)
		return rc;
	if ((rc = verify(w, wdt_outfile_temp_path(of), false, err)) == 1) {
		/* fsync, rename into place, fsync the directory */
		if (wdt_outfile_commit(of, err) < 0)
			return wdt_err_prefix(err, "%s", final);
		return 1;
	}
	if (rc == 0) {
		*st = WDT_CORRUPT;
		note(w, "rejected the download from %s", url);
	}
	wdt_outfile_abort(of);
	return rc;
}

/*
 * The server's N/K/N_: a symbol server answers .pd_ requests too (WinDbg
 * asks for it after the .pdb). Downloaded to a temp file, expanded into
 * final, verified. 1 / 0 (noted, *st set) / -1.
 */
static int try_server_cab(struct want *w, const char *url, const char *dir,
			  const char *final, enum wdt_status *st,
			  struct wdt_err *err)
{
	uint8_t magic[4] = {0};
	struct wdt_outfile *of;
	char *target = xprintf("%s/%s.pd_", dir, w->name);
	int rc;

	if (!target)
		return wdt_err_nomem(err);
	rc = fetch_tmp(w, url, target, &of, st, err);
	free(target);
	if (rc != 1)
		return rc;
	if (pread(wdt_outfile_fd(of), magic, 4, 0) == 4 &&
	    wdt_cab_probe(magic, 4))
		rc = expand_into(w, wdt_outfile_temp_path(of), dir, final, err);
	else
		note(w, "%s is neither a CAB nor a PDB", url);
	wdt_outfile_abort(of);
	return rc;
}

/*
 * The server's file.ptr: follow a PATH: that is an http(s) URL. A file
 * system path from a remote server names a place on the server's network,
 * and reading local files on its say-so would be unsafe: report it.
 */
static int try_server_ptr(struct want *w, const char *url, const char *dir,
			  const char *final, struct wdt_err *err)
{
	enum wdt_status st = WDT_OK;
	char buf[PTR_MAX + 1], *target;
	ssize_t n;
	struct wdt_outfile *of;
	char *probe = xprintf("%s/%s.probe", dir, w->name);
	int rc;

	if (!probe)
		return wdt_err_nomem(err);
	rc = fetch_tmp(w, url, probe, &of, &st, err);
	free(probe);
	if (rc != 1)
		return rc;
	n = pread(wdt_outfile_fd(of), buf, PTR_MAX, 0);
	wdt_outfile_abort(of);
	buf[n > 0 ? n : 0] = '\0';
	target = ptr_target(w, url, buf);
	if (!target)
		return 0;
	if (is_url(target))
		rc = fetch_verify(w, target, final, &st, err);
	else
		note(w, "%s points to %s, which is not an http(s) URL", url,
		     target);
	free(target);
	return rc;
}

/* Ask the server for N/K/N, then N/K/N_ (refused), then N/K/file.ptr. */
static int try_server(struct want *w, const struct wdt_sympath_entry *e,
		      char **found, struct wdt_err *err)
{
	const char *cache = e->stores[0];
	char *dir = xprintf("%s/%s/%s", cache, w->name, w->key);
	char *final = dir ? xprintf("%s/%s", dir, w->name) : NULL;
	char *url = xprintf("%s/%s/%s/%s", e->url, w->name, w->key, w->name);
	enum wdt_status st = WDT_OK;
	int rc = 0;

	if (!dir || !final || !url) {
		rc = wdt_err_nomem(err);
		goto out;
	}
	if (w->opts->offline) {
		note(w, "offline, so nothing was downloaded");
		goto out;
	}
	if (make_dirs(dir, err) < 0) {
		rc = -1;
		goto out;
	}
	rc = fetch_verify(w, url, final, &st, err);
	if (rc != 0 || st != WDT_NOT_FOUND)
		goto out;
	url[strlen(url) - 1] = '_';
	st = WDT_OK;
	rc = try_server_cab(w, url, dir, final, &st, err);
	if (rc != 0 || st != WDT_NOT_FOUND)
		goto out;
	free(url);
	url = xprintf("%s/%s/%s/file.ptr", e->url, w->name, w->key);
	if (!url) {
		rc = wdt_err_nomem(err);
		goto out;
	}
	rc = try_server_ptr(w, url, dir, final, err);
out:
	if (rc == 1) {
		*found = final;
		final = NULL;
	} else if (dir && !w->opts->offline) {
		prune(dir); /* no empty directories behind a miss */
	}
	free(dir);
	free(final);
	free(url);
	return rc;
}

static int try_entry(struct want *w, const struct wdt_sympath_entry *e,
		     char **found, struct wdt_err *err)
{
	int rc;

	for (size_t i = 0; i < e->nstores; i++) {
		rc = try_store(w, e->stores[i], e->kind == WDT_SYMPATH_DIR,
			       e->cache, found, err);
		if (rc != 0)
			return rc;
	}
	if (e->kind == WDT_SYMPATH_SRV && e->url)
		return try_server(w, e, found, err);
	return 0;
}

static int not_found(struct want *w, const char *origin, struct wdt_err *err)
{
	char g[39];

	wdt_pe_guid_str(w->guid, g);
	if (w->has_server) {
		wdt_err_set(
		    err, WDT_NOT_FOUND,
		    "%s %s age %" PRIu32
		    " not found (symbol path from %s): %s; fetch %s and "
		    "save it as %s",
		    w->name, g, w->age, origin, notes_or(w, "no candidate"),
		    w->first_url, w->first_cache);
		return wdt_err_remedy(err, WDT_REMEDY_PDB_FILE);
	}
	wdt_err_set(err, WDT_NOT_FOUND,
		    "%s %s age %" PRIu32 " not found (symbol path from %s, no "
		    "server): %s",
		    w->name, g, w->age, origin, notes_or(w, "no candidate"));
	return wdt_err_remedy(err, WDT_REMEDY_PDB_FILE_OR_SERVER);
}

/*
 * Where to download a PDB from and where to file it so that the same
 * symbol path finds it first: the first server entry's URL and its first
 * store (its cache), else Microsoft's URL and the first entry's first
 * store, else the default cache. Used by lookups (the note of a miss) and
 * by `wdt symbols` (plan, --add), so both name the same path.
 */
static int where_to(const struct wdt_sympath *sp, const char *cache,
		    const char *name, const char *key, char **url,
		    bool *url_in_path, char **save, struct wdt_err *err)
{
	const struct wdt_sympath_entry *srv = NULL;
	const char *store;

	for (size_t i = 0; i < sp->n && !srv; i++)
		if (sp->v[i].kind == WDT_SYMPATH_SRV && sp->v[i].url)
			srv = &sp->v[i];
	store = srv && srv->nstores	    ? srv->stores[0]
		: sp->n && sp->v[0].nstores ? sp->v[0].stores[0]
					    : cache;
	if (url_in_path)
		*url_in_path = srv != NULL;
	*url = xprintf("%s/%s/%s/%s", srv ? srv->url : WDT_SYMSTORE_MSDL, name,
		       key, name);
	*save = xprintf("%s/%s/%s/%s", store, name, key, name);
	if (!*url || !*save) {
		free(*url);
		free(*save);
		*url = *save = NULL;
		return wdt_err_nomem(err);
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Hand the facts of a miss to the caller (takes w's strings). */
static int fill_miss(struct want *w, struct wdt_symstore_miss *m,
		     struct wdt_err *err)
{
	m->why = strdup(notes_or(w, "not in any store of the symbol path"));
	m->url = w->first_url;
	m->save_as = w->first_cache;
	w->first_url = w->first_cache = NULL;
	if (!m->why || !m->url) {
		wdt_symstore_miss_free(m);
		return wdt_err_nomem(err);
	}
	return 0;
}

int wdt_symstore_find(const struct wdt_symopts *opts, const char *pdbname,
		      const uint8_t guid[16], uint32_t age, char **path_out,
		      struct wdt_err *err)
{
	return wdt_symstore_lookup(opts, pdbname, guid, age, path_out, NULL,
				   err);
}

int wdt_symstore_lookup(const struct wdt_symopts *opts, const char *pdbname,
			const uint8_t guid[16], uint32_t age, char **path_out,
			struct wdt_symstore_miss *miss, struct wdt_err *err)
{
	struct wdt_symopts o = *opts;
	struct want w = {.opts = &o, .name = pdbname, .guid = guid, .age = age};
	struct wdt_sympath sp = {0};
	const char *origin;
	char *path = NULL, *cache = NULL;
	int rc = -1;

	*path_out = NULL;
	if (miss)
		memset(miss, 0, sizeof(*miss));
	/* One budget for every download of this lookup (download.h). */
	if (!o.deadline_ms && o.timeout_s > 0)
		o.deadline_ms = now_ms() + (int64_t)o.timeout_s * 1000;
	if (opts->pdb_file) {
		if (verify(&w, opts->pdb_file, true, err) < 0)
			goto out;
		if (w.notes_len) {
			wdt_err_set(err, WDT_NOT_FOUND, "given PDB file: %s",
				    w.notes);
			wdt_err_remedy(err, w.remedy);
			goto out;
		}
		*path_out = strdup(opts->pdb_file);
		rc = *path_out ? 0 : wdt_err_nomem(err);
		goto out;
	}
	if (wdt_symstore_check_name(pdbname, err) < 0)
		return wdt_err_prefix(err, "refusing to look up symbols");
	wdt_symstore_key(guid, age, w.key);
	if (wdt_symstore_effective_path(opts, &path, &origin, err) < 0)
		return -1;
	cache = wdt_symstore_default_cache(err);
	if (!cache)
		goto out;
	if (wdt_sympath_parse(path, cache, &sp, err) < 0) {
		wdt_err_prefix(err, "%s", origin);
		goto out;
	}
	if (where_to(&sp, cache, w.name, w.key, &w.first_url, &w.has_server,
		     &w.first_cache, err) < 0)
		goto out;
	for (size_t i = 0; i < sp.n; i++) {
		int r = try_entry(&w, &sp.v[i], path_out, err);

		if (r < 0)
			goto out;
		if (r == 1) {
			rc = 0;
			goto out;
		}
	}
	not_found(&w, origin, err);
	if (miss && fill_miss(&w, miss, err) < 0)
		goto out;
out:
	wdt_sympath_free(&sp);
	free(w.notes);
	free(w.first_url);
	free(w.first_cache);
	free(path);
	free(cache);
	return rc;
}

void wdt_symstore_miss_free(struct wdt_symstore_miss *m)
{
	free(m->why);
	free(m->url);
	free(m->save_as);
	memset(m, 0, sizeof(*m));
}

const char *wdt_symopts_remedy(const struct wdt_symopts *o, enum wdt_remedy r)
{
	const char *s = o && o->remedies && (unsigned)r < WDT_REMEDY_COUNT
			    ? o->remedies[r]
			    : NULL;

	return s ? s : "";
}

char *wdt_symstore_miss_note(const char *pdbname, const uint8_t guid[16],
			     uint32_t age, const struct wdt_symstore_miss *m,
			     const char *then, const char *const *remedies)
{
	struct wdt_symopts o = {.remedies = remedies};
	const char *pass = wdt_symopts_remedy(&o, WDT_REMEDY_PDB_FILE);
	char g[39];

	wdt_pe_guid_str(guid, g);
	if (!then)
		then = "";
	if (m->url && m->save_as)
		return xprintf("no PDB for %s %s age %" PRIu32
			       " (%s)%s; to use "
			       "it, download %s and save it as %s%s",
			       pdbname, g, age, m->why ? m->why : "not found",
			       then, m->url, m->save_as, pass);
	if (m->url)
		return xprintf("no PDB for %s %s age %" PRIu32
			       " (%s)%s; to use "
			       "it, download %s%s",
			       pdbname, g, age, m->why ? m->why : "not found",
			       then, m->url, pass);
	return xprintf("no PDB for %s %s age %" PRIu32 " (%s)%s%s", pdbname, g,
		       age, m->why ? m->why : "not found", then,
		       wdt_symopts_remedy(&o, WDT_REMEDY_PDB_FILE_OR_SERVER));
}

/* ---- plan and add (wdt symbols) ---- */

void wdt_symstore_plan_free(struct wdt_symstore_plan *plan)
{
	free(plan->symbol_path);
	free(plan->url);
	free(plan->save_path);
	memset(plan, 0, sizeof(*plan));
}

int wdt_symstore_plan(const struct wdt_symopts *opts, const char *pdbname,
		      const uint8_t guid[16], uint32_t age,
		      struct wdt_symstore_plan *plan, struct wdt_err *err)
{
	struct wdt_sympath sp = {0};
	char key[WDT_SYMSTORE_KEY_MAX], *cache = NULL;
	int rc = -1;

	memset(plan, 0, sizeof(*plan));
	if (wdt_symstore_check_name(pdbname, err) < 0)
		return wdt_err_prefix(err, "refusing to look up symbols");
	wdt_symstore_key(guid, age, key);
	if (wdt_symstore_effective_path(opts, &plan->symbol_path, &plan->origin,
					err) < 0)
		return -1;
	cache = wdt_symstore_default_cache(err);
	if (!cache)
		goto out;
	if (wdt_sympath_parse(plan->symbol_path, cache, &sp, err) < 0) {
		wdt_err_prefix(err, "%s", plan->origin);
		goto out;
	}
	if (where_to(&sp, cache, pdbname, key, &plan->url, &plan->url_in_path,
		     &plan->save_path, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		wdt_symstore_plan_free(plan);
	wdt_sympath_free(&sp);
	free(cache);
	return rc;
}

/* Copy src into of (read/pwrite loop). */
static int copy_into(const char *src, struct wdt_outfile *of,
		     struct wdt_err *err)
{
	char buf[1 << 16];
	uint64_t off = 0;
	struct stat st;
	/* src was read as a PDB already, but may have changed since. */
	int fd = wdt_source_open_input(src, &st, err);

	if (fd < 0)
		return wdt_err_prefix(err, "%s", src);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			wdt_err_errno(err, errno, "reading %s", src);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (wdt_outfile_write_at(of, off, buf, (size_t)n, err) < 0) {
			close(fd);
			return -1;
		}
		off += (uint64_t)n;
	}
	close(fd);
	return 0;
}

int wdt_symstore_add(const struct wdt_symopts *opts, const char *src,
		     const char *pdbname, uint8_t guid[16], uint32_t *age,
		     char **dest, bool *added, struct wdt_err *err)
{
	struct want w = {.opts = opts, .name = pdbname};
	struct wdt_symstore_plan plan;
	struct wdt_pdb_ident id;
	struct wdt_outfile *of = NULL;
	struct wdt_pdb *pdb;
	char *dir = NULL;
	int rc = -1;

	*dest = NULL;
	*added = false;
	pdb = wdt_pdb_open_file(src, err);
	if (!pdb)
		return -1;
	wdt_pdb_identity(pdb, &id);
	wdt_pdb_close(pdb);
	memcpy(guid, id.guid, 16);
	*age = id.age;
	w.guid = guid;
	w.age = id.age;
	if (wdt_symstore_plan(opts, pdbname, guid, id.age, &plan, err) < 0)
		return -1;
	if (exists(plan.save_path) &&
	    (rc = verify(&w, plan.save_path, false, err)) != 0) {
		if (rc == 1) {
			*dest = plan.save_path;
			plan.save_path = NULL;
			rc = 0;
		}
		goto out;
	}
	rc = -1;
	dir = strdup(plan.save_path);
	if (!dir) {
		wdt_err_nomem(err);
		goto out;
	}
	*strrchr(dir, '/') = '\0';
	/* a wrong file at the key path is replaced: it could never match */
	if (make_dirs(dir, err) < 0 ||
	    wdt_outfile_open(&of, plan.save_path, &src, 1, true, err) < 0 ||
	    copy_into(src, of, err) < 0) {
		wdt_err_prefix(err, "%s", plan.save_path);
		goto out;
	}
	rc = verify(&w, wdt_outfile_temp_path(of), false, err);
	if (rc != 1) {
		/* src changed while it was copied */
		if (rc == 0)
			wdt_err_set(err, WDT_CORRUPT, "%s: %s", src,
				    notes_or(&w, "it changed while copied"));
		rc = -1;
		goto out;
	}
	rc = -1;
	if (wdt_outfile_commit(of, err) < 0) {
		of = NULL;
		wdt_err_prefix(err, "%s", plan.save_path);
		goto out;
	}
	of = NULL;
	*added = true;
	*dest = plan.save_path;
	plan.save_path = NULL;
	rc = 0;
out:
	wdt_outfile_abort(of);
	free(dir);
	free(w.notes);
	wdt_symstore_plan_free(&plan);
	return rc;
}
