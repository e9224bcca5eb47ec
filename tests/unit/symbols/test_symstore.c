/* SPDX-License-Identifier: MIT */
/*
 * Symbol store: name checks, keys, symbol path parsing and resolution
 * order, local stores, and downloads from a real HTTP server on 127.0.0.1
 * (tools/symserver.py, started here on an ephemeral port and killed at
 * the end) with its request log as evidence.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ftw.h>
#include <signal.h>
#include <time.h>

#include "symbols/pdb.h"
#include "symbols/symstore.h"
#include "testdata.h"

static const char *argv0;
static char work[4400];
static char srvroot[4500], srvlog[4500], xdg[4500];
static int port;
static pid_t server = -1;
static uint8_t guid[16];
static uint32_t age;
static char key[WDT_SYMSTORE_KEY_MAX];
static const uint8_t OTHER[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2,	 3,  4,
				  5,	6,    7,    8,	  9, 10, 11, 12};
static const uint8_t WRONG[16] = {0xba, 0xd0, 0xba, 0xd0, 1, 2,	 3,  4,
				  5,	6,    7,    8,	  9, 10, 11, 12};

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void sh(const char *fmt, ...)
{
	char cmd[9000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static int start_server(void)
{
	char portfile[4500];

	snprintf(portfile, sizeof(portfile), "%s/port", work);
	server = fork();
	if (server < 0)
		return -1;
	if (server == 0) {
		execlp("python3", "python3", "tools/symserver.py", "--root",
		       srvroot, "--log", srvlog, "--port-file", portfile,
		       "--stall-seconds", "8", (char *)NULL);
		_exit(127);
	}
	/* bounded wait for the port file */
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(portfile, "r");
		struct timespec ts = {0, 50000000};

		if (f) {
			int ok = fscanf(f, "%d", &port) == 1;

			fclose(f);
			if (ok)
				return 0;
		}
		nanosleep(&ts, NULL);
	}
	return -1;
}

static int setup(void **state)
{
	char k2[WDT_SYMSTORE_KEY_MAX];

	(void)state;
	if (td_build(argv0) != 0)
		return -1;
	td_read_rsds(guid, &age);
	wdt_symstore_key(guid, age, key);
	snprintf(work, sizeof(work), "%s/symstore-test", td_dir);
	sh("rm -rf '%s' && mkdir -p '%s/srv'", work, work);
	snprintf(srvroot, sizeof(srvroot), "%s/srv", work);
	snprintf(srvlog, sizeof(srvlog), "%s/requests.log", work);
	/* the server's tree: the right PDB under its key, the same PDB under
	 * the key of another GUID (a wrong-GUID answer) */
	sh("mkdir -p '%s/wdttest.pdb/%s' && cp '%s' '%s/wdttest.pdb/%s/'",
	   srvroot, key, td_path("wdttest.pdb"), srvroot, key);
	wdt_symstore_key(WRONG, 1, k2);
	sh("mkdir -p '%s/wdttest.pdb/%s' && cp '%s' '%s/wdttest.pdb/%s/'",
	   srvroot, k2, td_path("wdttest.pdb"), srvroot, k2);
	/* the compressed .pd_ beside it, a real MSZIP cabinet made by gcab */
	sh("cd '%s/wdttest.pdb/%s' && gcab -c -z wdttest.pd_ wdttest.pdb",
	   srvroot, key);
	sh(": > '%s'", srvlog);
	unsetenv("WDT_SYMBOL_PATH");
	unsetenv("_NT_SYMBOL_PATH");
	unsetenv("_NT_ALT_SYMBOL_PATH");
	/* the default cache (.pd_ of plain directories) stays in here */
	{
		char *abs = realpath(work, NULL); /* XDG wants absolute */

		if (!abs)
			return -1;
		snprintf(xdg, sizeof(xdg), "%s/xdg", abs);
		free(abs);
	}
	setenv("XDG_CACHE_HOME", xdg, 1);
	return start_server();
}

static int teardown(void **state)
{
	(void)state;
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	return 0;
}

static int log_lines(void)
{
	size_t len = 0;
	unsigned char *b = td_slurp(srvlog, &len);
	int n = 0;

	for (size_t i = 0; b && i < len; i++)
		n += b[i] == '\n';
	free(b);
	return n;
}

static char *log_text(void)
{
	size_t len = 0;
	unsigned char *b = td_slurp(srvlog, &len);

	if (b)
		b[len] = '\0';
	return (char *)b;
}

static int nfiles;

static int count_cb(const char *p, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)p;
	(void)st;
	(void)ftw;
	nfiles += flag == FTW_F;
	return 0;
}

static int count_files(const char *dir)
{
	nfiles = 0;
	nftw(dir, count_cb, 16, FTW_PHYS);
	return nfiles;
}

static void opts_for(struct wdt_symopts *o, char *buf, size_t len,
		     const char *cache, const char *mode)
{
	wdt_symopts_init(o);
	snprintf(buf, len, "srv*%s/%s*http://127.0.0.1:%d/%s", work, cache,
		 port, mode);
	o->symbol_path = buf;
	o->retry_delay_ms = 20;
	o->connect_timeout_s = 5;
	o->timeout_s = 20;
}

static void test_download_then_cache_hit(void **state)
{
	struct wdt_err err = {0};
	struct wdt_symopts o;
	char sp[16384], want[16384], *path = NULL;
	int before = log_lines();

	(void)state;
	opts_for(&o, sp, sizeof(sp), "c1", "store/");
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), 0);
	snprintf(want, sizeof(want), "%s/c1/wdttest.pdb/%s/wdttest.pdb", work,
		 key);
	assert_string_equal(path, want);
	free(path);
	assert_int_equal(log_lines(), before + 1);
	{
		char *t = log_text(), exp[256];

		/* no "//" although the URL had a trailing slash */
		snprintf(exp, sizeof(exp),
			 "GET /store/wdttest.pdb/%s/wdttest.pdb\n", key);
		assert_non_null(strstr(t, exp));
		free(t);
	}
	{
		char dir[16384];

		snprintf(dir, sizeof(dir), "%s/c1", work);
		assert_int_equal(count_files(dir), 1); /* no temp files */
	}
	/* second run: a cache hit, no request */
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), 0);
	assert_string_equal(path, want);
	free(path);
	assert_int_equal(log_lines(), before + 1);
	/* offline also finds the cached copy */
	o.offline = true;
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), 0);
	free(path);
	assert_int_equal(log_lines(), before + 1);
}

static void test_404_names_url_and_cache(void **state)
{
	struct wdt_err err = {0};
	struct wdt_symopts o;
	char sp[16384], k[WDT_SYMSTORE_KEY_MAX], url[512], cache[16384];
	char *path = NULL;
	int before = log_lines();

	(void)state;
	opts_for(&o, sp, sizeof(sp), "c2", "store");
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", OTHER, 3, &path, &err), -1);
	assert_null(path);
	assert_int_equal(err.status, WDT_NOT_FOUND);
	wdt_symstore_key(OTHER, 3, k);
	snprintf(url, sizeof(url),
		 "http://127.0.0.1:%d/store/wdttest.pdb/%s/wdttest.pdb", port,
		 k);
	snprintf(cache, sizeof(cache), "%s/c2/wdttest.pdb/%s/wdttest.pdb", work,
		 k);
	if (!strstr(err.msg, url) || !strstr(err.msg, cache))
		fail_msg("message lacks URL or cache path: %s", err.msg);
	assert_non_null(strstr(err.msg, "HTTP 404"));
	/* .pdb, then .pd_, then file.ptr; no retries on 404 */
	assert_int_equal(log_lines(), before + 3);
	snprintf(cache, sizeof(cache), "%s/c2", work);
	assert_int_equal(count_files(cache), 0);
}

static void test_redirect_followed(void **state)
{
	struct wdt_err err = {0};
	struct wdt_symopts o;
	char sp[16384], *path = NULL;
	int before = log_lines();

	(void)state;
	opts_for(&o, sp, sizeof(sp), "c3", "redirect");
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), 0);
	assert_non_null(strstr(path, "/c3/wdttest.pdb/"));
	free(path);
	assert_int_equal(log_lines(), before + 2); /* 302, then the file */
}

static void test_wrong_guid_rejected(void **state)
{
	struct wdt_err err = {0};
	struct wdt_symopts o;
	char sp[16384], dir[16384], *path = NULL;

	(void)state;
	opts_for(&o, sp, sizeof(sp), "c4", "store");
	o.force = true; /* force never lets a wrong download into the cache */
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", WRONG, 1, &path, &err), -1);
	assert_non_null(strstr(err.msg, "does not match the image"));
	assert_non_null(strstr(err.msg, "rejected the download"));
	snprintf(dir, sizeof(dir), "%s/c4", work);
	assert_int_equal(count_files(dir), 0);
}

static void test_stall_rejected(void **state)
{
	struct wdt_err err = {0};
	struct wdt_symopts o;
	char sp[16384], dir[16384], *path = NULL;
	time_t t0 = time(NULL);

	(void)state;
	opts_for(&o, sp, sizeof(sp), "c5", "stall");
	o.low_speed_time_s = 1;
	o.low_speed_bytes = 25000;
	o.retries = 0;
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), -1);
	assert_true(time(NULL) - t0 < 15);
	assert_non_null(strstr(err.msg, "/stall/wdttest.pdb/"));
	snprintf(dir, sizeof(dir), "%s/c5", work);
	assert_int_equal(count_files(dir), 0);
}

static void test_503_retried(void **state)
{
	struct wdt_err err = {0};
	struct wdt_symopts o;
	char sp[16384], *path = NULL;
	int before = log_lines();

	(void)state;
	opts_for(&o, sp, sizeof(sp), "c6", "flaky");
	o.retries = 2;
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), 0);
	free(path);
	assert_int_equal(log_lines(), before + 2);
	/* without retries a 503 is a failure */
	sh("rm -rf '%s/c6'", work);
}

static void test_offline_cold_cache(void **state)
{
	struct wdt_err err = {0};
	struct wdt_symopts o;
	char sp[16384], *path = NULL;
	int before = log_lines();

	(void)state;
	opts_for(&o, sp, sizeof(sp), "c7", "store");
	o.offline = true;
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), -1);
	assert_non_null(strstr(err.msg, "offline"));
	assert_non_null(strstr(err.msg, "/store/wdttest.pdb/"));
	assert_non_null(strstr(err.msg, "/c7/wdttest.pdb/"));
	assert_int_equal(log_lines(), before);
}

/* The miss: why, the server URL, the server's cache (where a download or
 * `wdt symbols --add` files it). */
static void test_lookup_miss(void **state)
{
	struct wdt_err err = {0};
	struct wdt_symstore_miss m;
	struct wdt_symopts o;
	char sp[16384], want[16384], k[WDT_SYMSTORE_KEY_MAX], *path = NULL;

	(void)state;
	wdt_symstore_key(OTHER, 3, k);
	/* a plain directory first: still the server's cache, as --add */
	wdt_symopts_init(&o);
	o.offline = true;
	snprintf(sp, sizeof(sp),
		 "%s/nowhere;srv*%s/c8*http://127.0.0.1:%d/store", work, work,
		 port);
	o.symbol_path = sp;
	assert_int_equal(
	    wdt_symstore_lookup(&o, "wdttest.pdb", OTHER, 3, &path, &m, &err),
	    -1);
	assert_int_equal(err.status, WDT_NOT_FOUND);
	assert_string_equal(m.why, "offline, so nothing was downloaded");
	snprintf(want, sizeof(want),
		 "http://127.0.0.1:%d/store/wdttest.pdb/%s/wdttest.pdb", port,
		 k);
	assert_string_equal(m.url, want);
	snprintf(want, sizeof(want), "%s/c8/wdttest.pdb/%s/wdttest.pdb", work,
		 k);
	assert_string_equal(m.save_as, want);
	wdt_symstore_miss_free(&m);
	assert_null(m.why);
	/* no server at all: Microsoft's URL */
	snprintf(sp, sizeof(sp), "%s/nowhere", work);
	assert_int_equal(
	    wdt_symstore_lookup(&o, "wdttest.pdb", OTHER, 3, &path, &m, &err),
	    -1);
	snprintf(want, sizeof(want),
		 WDT_SYMSTORE_MSDL "/wdttest.pdb/%s/wdttest.pdb", k);
	assert_string_equal(m.url, want);
	assert_string_equal(m.why, "not in any store of the symbol path");
	wdt_symstore_miss_free(&m);
	/* found: the miss stays empty */
	opts_for(&o, sp, sizeof(sp), "c1", "store/");
	assert_int_equal(
	    wdt_symstore_lookup(&o, "wdttest.pdb", guid, age, &path, &m, &err),
	    0);
	assert_null(m.why);
	assert_null(m.url);
	assert_null(m.save_as);
	free(path);
}

static void test_miss_note(void **state)
{
	static char longp[4200];
	struct wdt_symstore_miss m = {.why = "offline",
				      .url = "https://h/x.pdb/K/x.pdb",
				      .save_as = "/c/x.pdb/K/x.pdb"};
	char *s, *want;
	size_t n;

	(void)state;
	static const char *const words[WDT_REMEDY_COUNT] = {
	    [WDT_REMEDY_PDB_FILE] = ", or pass --pdb FILE",
	    [WDT_REMEDY_PDB_FILE_OR_SERVER] = "; pass --pdb FILE",
	};

	s = wdt_symstore_miss_note("x.pdb", OTHER, 3, &m, ": going on", words);
	assert_string_equal(s, "no PDB for x.pdb "
			       "{EFBEADDE-0201-0403-0506-0708090A0B0C} age 3 "
			       "(offline): going on; to use it, download "
			       "https://h/x.pdb/K/x.pdb and save it as "
			       "/c/x.pdb/K/x.pdb, or pass --pdb FILE");
	free(s);
	/* without a place to save it */
	m.save_as = NULL;
	s = wdt_symstore_miss_note("x.pdb", OTHER, 3, &m, NULL, words);
	assert_non_null(strstr(s,
			       "(offline); to use it, download "
			       "https://h/x.pdb/K/x.pdb, or pass --pdb FILE"));
	free(s);
	/* no URL either; and without the caller's words no remedy at all */
	m.url = NULL;
	s = wdt_symstore_miss_note("x.pdb", OTHER, 3, &m, NULL, words);
	assert_true(strlen(s) > 17 &&
		    strcmp(s + strlen(s) - 17, "; pass --pdb FILE") == 0);
	free(s);
	m.url = "https://h/x.pdb/K/x.pdb";
	s = wdt_symstore_miss_note("x.pdb", OTHER, 3, &m, NULL, NULL);
	assert_null(strstr(s, "--pdb"));
	free(s);
	/* a path longer than PATH_MAX arrives whole */
	memset(longp, 'p', sizeof(longp) - 1);
	longp[0] = '/';
	m.save_as = longp;
	s = wdt_symstore_miss_note("x.pdb", OTHER, 3, &m, NULL, words);
	n = strlen(longp) + 64;
	want = malloc(n);
	snprintf(want, n, "save it as %s, or pass --pdb FILE", longp);
	assert_non_null(strstr(s, want));
	free(want);
	free(s);
}

/* ---- local stores and resolution order ---- */

static void test_local_stores(void **state)
{
	struct wdt_err err = {0};
	struct wdt_symopts o;
	char sp[16384], *path = NULL;

	(void)state;
	wdt_symopts_init(&o);
	o.offline = true;
	/* flat directory */
	sh("mkdir -p '%s/flat' && cp '%s' '%s/flat/'", work,
	   td_path("wdttest.pdb"), work);
	snprintf(sp, sizeof(sp), "%s/nonexistent;%s/flat", work, work);
	o.symbol_path = sp;
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), 0);
	assert_non_null(strstr(path, "/flat/wdttest.pdb"));
	free(path);
	/* same flat file asked with another GUID: mismatch noted */
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", OTHER, 1, &path, &err), -1);
	assert_non_null(strstr(err.msg, "does not match"));
	assert_non_null(strstr(err.msg, "no server"));
	/* symstore layout + .pd_ refusal + file.ptr */
	sh("mkdir -p '%s/st/wdttest.pdb/%s' && cp '%s' '%s/real.pdb' && "
	   "printf 'PATH:%s/real.pdb\\n' > '%s/st/wdttest.pdb/%s/file.ptr' && "
	   "printf 'MSCF' > '%s/st/wdttest.pdb/%s/wdttest.pd_'",
	   work, key, td_path("wdttest.pdb"), work, work, work, key, work, key);
	snprintf(sp, sizeof(sp), "srv*%s/st", work);
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), 0);
	assert_non_null(strstr(path, "/real.pdb"));
	free(path);
	sh("rm '%s/st/wdttest.pdb/%s/file.ptr'", work, key);
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), -1);
	/* "MSCF" alone: a broken cabinet, said so, nothing left behind */
	assert_non_null(strstr(err.msg, "expanding the CAB-compressed PDB: "));
	assert_non_null(strstr(err.msg, "/wdttest.pd_: "));
	{
		char dir[16384];

		snprintf(dir, sizeof(dir), "%s/st", work);
		assert_int_equal(count_files(dir), 1);
	}
}

static int same_file(const char *a, const char *b)
{
	size_t la = 0, lb = 0;
	unsigned char *x = td_slurp(a, &la), *y = td_slurp(b, &lb);
	int same = x && y && la == lb && memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return same;
}

/* A local .pd_ (real cabinets from gcab) is expanded into the cache. */
static void test_local_cab(void **state)
{
	struct wdt_err err = {0};
	struct wdt_symopts o;
	char sp[16384], want[16384], k2[WDT_SYMSTORE_KEY_MAX], *path = NULL;

	(void)state;
	wdt_symopts_init(&o);
	o.offline = true;
	o.symbol_path = sp;
	/* srv*CACHE*STORE: the .pd_ in the store, expanded into the cache */
	sh("mkdir -p '%s/cs/wdttest.pdb/%s' && cp '%s' '%s/cs/wdttest.pdb/%s/' "
	   "&& "
	   "cd '%s/cs/wdttest.pdb/%s' && gcab -c -z wdttest.pd_ wdttest.pdb && "
	   "rm wdttest.pdb",
	   work, key, td_path("wdttest.pdb"), work, key, work, key);
	snprintf(sp, sizeof(sp), "srv*%s/cc*%s/cs", work, work);
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), 0);
	snprintf(want, sizeof(want), "%s/cc/wdttest.pdb/%s/wdttest.pdb", work,
		 key);
	assert_string_equal(path, want);
	assert_true(same_file(path, td_path("wdttest.pdb")));
	free(path);
	{
		char dir[16384];

		snprintf(dir, sizeof(dir), "%s/cc", work);
		assert_int_equal(count_files(dir), 1); /* no temp file */
	}
	/* an uncompressed cabinet in a plain directory (store layout):
	 * expanded into the default cache, found there the next time */
	sh("mkdir -p '%s/pd/wdttest.pdb/%s' && cp '%s' '%s/pd/wdttest.pdb/%s/' "
	   "&& "
	   "cd '%s/pd/wdttest.pdb/%s' && gcab -c wdttest.pd_ wdttest.pdb && "
	   "rm wdttest.pdb",
	   work, key, td_path("wdttest.pdb"), work, key, work, key);
	snprintf(sp, sizeof(sp), "%s/pd", work);
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), 0);
	snprintf(want, sizeof(want),
		 "%s/wdt/symbols/wdttest.pdb/%s/wdttest.pdb", xdg, key);
	assert_string_equal(path, want);
	assert_true(same_file(path, td_path("wdttest.pdb")));
	free(path);
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), 0);
	assert_string_equal(path, want);
	free(path);
	sh("rm -rf '%s/wdt'", xdg);
	/* a cabinet of the PDB asked with another GUID: expanded, checked,
	 * refused, and no PDB is left in the cache */
	wdt_symstore_key(OTHER, 1, k2);
	sh("mkdir -p '%s/wg/wdttest.pdb/%s' && cp '%s/cs/wdttest.pdb/%s/"
	   "wdttest.pd_' '%s/wg/wdttest.pdb/%s/'",
	   work, k2, work, key, work, k2);
	snprintf(sp, sizeof(sp), "srv*%s/wc*%s/wg", work, work);
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", OTHER, 1, &path, &err), -1);
	assert_non_null(strstr(err.msg, "does not match"));
	assert_non_null(strstr(err.msg, "rejected the PDB expanded from"));
	{
		char dir[16384];

		snprintf(dir, sizeof(dir), "%s/wc", work);
		assert_int_equal(count_files(dir), 0);
	}
	/* a cabinet without the PDB in it */
	sh("mkdir -p '%s/ot/wdttest.pdb/%s' && cd '%s/ot/wdttest.pdb/%s' && "
	   "echo a > a.txt && echo b > b.txt && gcab -c -z wdttest.pd_ a.txt "
	   "b.txt",
	   work, key, work, key);
	snprintf(sp, sizeof(sp), "srv*%s/oc*%s/ot", work, work);
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), -1);
	assert_non_null(
	    strstr(err.msg, "holds 2 files, none named wdttest.pdb"));
}

/* A server that has only the .pd_: asked after the .pdb's 404. */
static void test_server_cab_only(void **state)
{
	struct wdt_err err = {0};
	struct wdt_symopts o;
	char sp[16384], want[16384], *path = NULL;
	int before = log_lines();

	(void)state;
	opts_for(&o, sp, sizeof(sp), "c8", "cabonly");
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), 0);
	snprintf(want, sizeof(want), "%s/c8/wdttest.pdb/%s/wdttest.pdb", work,
		 key);
	assert_string_equal(path, want);
	assert_true(same_file(path, td_path("wdttest.pdb")));
	free(path);
	assert_int_equal(log_lines(), before + 2); /* .pdb 404, then .pd_ */
	{
		char *t = log_text(), exp[256];

		snprintf(exp, sizeof(exp),
			 "GET /cabonly/wdttest.pdb/%s/wdttest.pd_\n", key);
		assert_non_null(strstr(t, exp));
		free(t);
	}
	{
		char dir[16384];

		snprintf(dir, sizeof(dir), "%s/c8", work);
		assert_int_equal(count_files(dir), 1); /* no .pd_, no temp */
	}
	/* the next run is a cache hit */
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), 0);
	free(path);
	assert_int_equal(log_lines(), before + 2);
}

static void test_pdb_option(void **state)
{
	struct wdt_err err = {0};
	struct wdt_symopts o;
	char *path = NULL;

	(void)state;
	wdt_symopts_init(&o);
	o.pdb_file = td_path("wdttest.pdb");
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), 0);
	free(path);
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", OTHER, age, &path, &err), -1);
	assert_non_null(strstr(err.msg, "given PDB file: "));
	assert_int_equal(err.remedy, WDT_REMEDY_FORCE_PDB);
	assert_non_null(
	    strstr(err.msg, "{EFBEADDE-0201-0403-0506-0708090A0B0C}"));
	o.force = true;
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", OTHER, age, &path, &err), 0);
	free(path);
	o.pdb_file = "/nonexistent/x.pdb";
	assert_int_equal(
	    wdt_symstore_find(&o, "wdttest.pdb", guid, age, &path, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/x.pdb"));
}

static void test_effective_path_order(void **state)
{
	struct wdt_err err = {0};
	struct wdt_symopts o;
	const char *origin, *home = getenv("HOME");
	char *p, *saved = home ? strdup(home) : NULL;

	(void)state;
	wdt_symopts_init(&o);
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	assert_int_equal(wdt_symstore_effective_path(&o, &p, &origin, &err), 0);
	assert_string_equal(origin, "default");
	assert_string_equal(
	    p,
	    "srv*/xdg/wdt/symbols*https://msdl.microsoft.com/download/symbols");
	free(p);
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "/home/u", 1);
	p = wdt_symstore_default_cache(&err);
	assert_string_equal(p, "/home/u/.cache/wdt/symbols");
	free(p);
	setenv("_NT_SYMBOL_PATH", "nt", 1);
	assert_int_equal(wdt_symstore_effective_path(&o, &p, &origin, &err), 0);
	assert_string_equal(p, "nt");
	free(p);
	setenv("WDT_SYMBOL_PATH", "wdt", 1);
	assert_int_equal(wdt_symstore_effective_path(&o, &p, &origin, &err), 0);
	assert_string_equal(p, "wdt");
	assert_string_equal(origin, "WDT_SYMBOL_PATH");
	free(p);
	o.symbol_path = "cli";
	assert_int_equal(wdt_symstore_effective_path(&o, &p, &origin, &err), 0);
	assert_string_equal(p, "cli");
	free(p);
	unsetenv("WDT_SYMBOL_PATH");
	/* WinDbg: _NT_SYMBOL_PATH appended after _NT_ALT_SYMBOL_PATH */
	o.symbol_path = NULL;
	setenv("_NT_ALT_SYMBOL_PATH", "alt", 1);
	assert_int_equal(wdt_symstore_effective_path(&o, &p, &origin, &err), 0);
	assert_string_equal(p, "alt;nt");
	assert_string_equal(origin, "_NT_ALT_SYMBOL_PATH;_NT_SYMBOL_PATH");
	free(p);
	unsetenv("_NT_SYMBOL_PATH");
	assert_int_equal(wdt_symstore_effective_path(&o, &p, &origin, &err), 0);
	assert_string_equal(p, "alt");
	assert_string_equal(origin, "_NT_ALT_SYMBOL_PATH");
	free(p);
	setenv("_NT_ALT_SYMBOL_PATH", "", 1); /* empty counts as unset */
	setenv("_NT_SYMBOL_PATH", "nt", 1);
	assert_int_equal(wdt_symstore_effective_path(&o, &p, &origin, &err), 0);
	assert_string_equal(p, "nt");
	free(p);
	setenv("WDT_SYMBOL_PATH", "wdt", 1); /* ours wins over both */
	setenv("_NT_ALT_SYMBOL_PATH", "alt", 1);
	assert_int_equal(wdt_symstore_effective_path(&o, &p, &origin, &err), 0);
	assert_string_equal(p, "wdt");
	free(p);
	unsetenv("WDT_SYMBOL_PATH");
	unsetenv("_NT_SYMBOL_PATH");
	unsetenv("_NT_ALT_SYMBOL_PATH");
	setenv("XDG_CACHE_HOME", xdg, 1);
	if (saved)
		setenv("HOME", saved, 1);
	free(saved);
}

static void test_sympath_parse(void **state)
{
	struct wdt_err err = {0};
	struct wdt_sympath sp;

	(void)state;
	assert_int_equal(
	    wdt_sympath_parse(" /a/b ; SRV*/c*https://x/sym/ ;srv*https://y;"
			      "cache*/k;srv**http://z;symsrv*symsrv.dll*/d*"
			      "https://w;;srv*/l1*/l2",
			      "/def", &sp, &err),
	    0);
	assert_int_equal(sp.n, 6);
	assert_int_equal(sp.v[0].kind, WDT_SYMPATH_DIR);
	assert_string_equal(sp.v[0].stores[0], "/a/b");
	assert_int_equal(sp.v[1].kind, WDT_SYMPATH_SRV);
	assert_string_equal(sp.v[1].stores[0], "/c");
	assert_string_equal(sp.v[1].url, "https://x/sym");
	assert_string_equal(sp.v[2].stores[0], "/def");
	assert_string_equal(sp.v[2].url, "https://y");
	assert_string_equal(sp.v[3].stores[0], "/k"); /* cache* applies */
	assert_string_equal(sp.v[3].url, "http://z");
	assert_string_equal(sp.v[4].stores[0], "/d");
	assert_string_equal(sp.v[4].url, "https://w");
	assert_int_equal(sp.v[5].nstores, 2);
	assert_null(sp.v[5].url);
	assert_string_equal(sp.v[0].cache, "/def");
	for (size_t i = 1; i < sp.n;
	     i++) /* a SRV entry's cache: its first store */
		assert_string_equal(sp.v[i].cache, sp.v[i].stores[0]);
	wdt_sympath_free(&sp);
	assert_int_equal(wdt_sympath_parse("symsrv*", "/def", &sp, &err), -1);
	assert_int_equal(err.status, WDT_USAGE);
	assert_non_null(strstr(err.msg, "lacks the server DLL"));
	assert_int_equal(
	    wdt_sympath_parse("symsrv**/c*http://x", "/def", &sp, &err), -1);
	assert_non_null(strstr(err.msg, "\"symsrv**/c*http://x\""));
}

/* WinDbg's server forms: what is the cache, what is the server. */
static void test_sympath_srv_forms(void **state)
{
	static const struct {
		const char *path;
		const char *stores; /* ','-joined */
		const char *url;    /* NULL: no server */
	} cases[] = {
	    /* .symfix writes "srv*": cache plus Microsoft's server */
	    {"srv*", "/def", WDT_SYMSTORE_MSDL},
	    {"SRV*", "/def", WDT_SYMSTORE_MSDL},
	    {"srv", "/def", WDT_SYMSTORE_MSDL},
	    {"srv**", "/def", WDT_SYMSTORE_MSDL},
	    {"srv*/c*", "/c", WDT_SYMSTORE_MSDL},
	    {"srv*/c", "/c", NULL},
	    {"srv*/a*/b", "/a,/b", NULL},
	    {"srv*/a*/b*", "/a,/b", WDT_SYMSTORE_MSDL},
	    {"srv*http://h/s", "/def", "http://h/s"},
	    {"srv**http://h/s", "/def", "http://h/s"},
	    {"srv*/a**http://h/s", "/a,/def", "http://h/s"},
	    {"symsrv*symsrv.dll", "/def", WDT_SYMSTORE_MSDL},
	    {"symsrv*symsrv.dll*", "/def", WDT_SYMSTORE_MSDL},
	    {"symsrv*symsrv.dll*/c", "/c", NULL},
	    {"symsrv*symsrv.dll*/c*", "/c", WDT_SYMSTORE_MSDL},
	    {"symsrv*symsrv.dll**https://h", "/def", "https://h"},
	    {"symsrv*symsrv.dll*/c*https://h/", "/c", "https://h"},
	    {"cache*/k;srv*", "/k", WDT_SYMSTORE_MSDL},
	    {"cache*/k;srv*/c", "/c", NULL},
	    {"cache*/k;cache*;srv*", "/def", WDT_SYMSTORE_MSDL},
	    {"cache*/k;cache;srv*", "/def", WDT_SYMSTORE_MSDL},
	};
	struct wdt_err err = {0};
	struct wdt_sympath sp;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got[256] = "";

		if (wdt_sympath_parse(cases[i].path, "/def", &sp, &err) < 0)
			fail_msg("%s: %s", cases[i].path, err.msg);
		assert_int_equal(sp.n, 1);
		assert_int_equal(sp.v[0].kind, WDT_SYMPATH_SRV);
		for (size_t j = 0; j < sp.v[0].nstores; j++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
				 "%s%s", j ? "," : "", sp.v[0].stores[j]);
		if (strcmp(got, cases[i].stores) != 0)
			fail_msg("%s: stores %s, want %s", cases[i].path, got,
				 cases[i].stores);
		if (cases[i].url)
			assert_string_equal(sp.v[0].url, cases[i].url);
		else if (sp.v[0].url)
			fail_msg("%s: server %s, want none", cases[i].path,
				 sp.v[0].url);
		wdt_sympath_free(&sp);
	}
	/* a plain directory's .pd_ expands into the cache in effect */
	assert_int_equal(wdt_sympath_parse("/d;cache*/k;/e", "/def", &sp, &err),
			 0);
	assert_int_equal(sp.v[0].kind, WDT_SYMPATH_DIR);
	assert_string_equal(sp.v[0].cache, "/def");
	assert_string_equal(sp.v[1].cache, "/k");
	wdt_sympath_free(&sp);
}

/* Windows locations are refused naming the entry, and nothing is created. */
static void test_sympath_windows_paths(void **state)
{
	static const struct {
		const char *path, *entry, *part;
	} cases[] = {
	    {"srv*C:\\cache*https://msdl.microsoft.com/download/symbols",
	     "srv*C:\\cache*https://msdl.microsoft.com/download/symbols",
	     "C:\\cache"},
	    {"/ok;c:/syms", "c:/syms", "c:/syms"},
	    {"D:", "D:", "D:"},
	    {"srv*\\\\server\\share", "srv*\\\\server\\share",
	     "\\\\server\\share"},
	    {"srv*/c*\\\\server\\share*https://h",
	     "srv*/c*\\\\server\\share*https://h", "\\\\server\\share"},
	    {"symsrv*symsrv.dll*e:\\s*https://h",
	     "symsrv*symsrv.dll*e:\\s*https://h", "e:\\s"},
	    {"cache*C:\\k;srv*", "cache*C:\\k", "C:\\k"},
	    {"\\\\srv\\syms", "\\\\srv\\syms", "\\\\srv\\syms"},
	};
	struct wdt_err err = {0};
	struct wdt_sympath sp;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[512];

		assert_int_equal(
		    wdt_sympath_parse(cases[i].path, "/def", &sp, &err), -1);
		assert_int_equal(err.status, WDT_USAGE);
		assert_int_equal(sp.n, 0);
		snprintf(want, sizeof(want),
			 "symbol path entry \"%s\": \"%s\" is a Windows path",
			 cases[i].entry, cases[i].part);
		if (!strstr(err.msg, want))
			fail_msg("%s: message %s", cases[i].path, err.msg);
	}
	/* a POSIX relative path with a colon later on is fine */
	assert_int_equal(
	    wdt_sympath_parse("srv*ab:c*http://h", "/def", &sp, &err), 0);
	wdt_sympath_free(&sp);
}

static void test_names_and_keys(void **state)
{
	static const char *const bad[] = {
	    "",	       "../x.pdb",  "a/b.pdb",	 "a\\b.pdb",
	    ".hidden", "x..pdb",    "a\x01.pdb", "a;rm.pdb",
	    "a b.pdb", "a$(x).pdb", "c:x.pdb",	 "\xc3\xa9.pdb",
	};
	struct wdt_err err = {0};
	char k[WDT_SYMSTORE_KEY_MAX], longname[300];
	const uint8_t g[16] = {0x7b, 0xc3, 0x8b, 0x16, 0xeb, 0x40, 0xd8, 0xc0,
			       0x15, 0x26, 0x21, 0xee, 0x55, 0x2a, 0x78, 0x23};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(wdt_symstore_check_name(bad[i], &err), -1);
		assert_int_equal(err.status, WDT_CORRUPT);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(wdt_symstore_check_name(longname, &err), -1);
	assert_non_null(strstr(err.msg, "longer"));
	assert_int_equal(wdt_symstore_check_name("ntkrnlmp.pdb", &err), 0);
	/* the ntdll.pdb example of pe-and-symbols.md §7, and hex ages */
	wdt_symstore_key(g, 1, k);
	assert_string_equal(k, "168BC37B40EBC0D8152621EE552A78231");
	wdt_symstore_key(g, 10, k);
	assert_string_equal(k, "168BC37B40EBC0D8152621EE552A7823A");
	/* a hostile name never reaches a path */
	{
		struct wdt_symopts o;
		char *path = NULL;

		wdt_symopts_init(&o);
		o.symbol_path = "/tmp";
		o.offline = true;
		assert_int_equal(wdt_symstore_find(&o, "../../etc/passwd", g, 1,
						   &path, &err),
				 -1);
		assert_int_equal(err.status, WDT_CORRUPT);
		assert_non_null(strstr(err.msg, "refusing"));
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_and_keys),
	    cmocka_unit_test(test_sympath_parse),
	    cmocka_unit_test(test_sympath_srv_forms),
	    cmocka_unit_test(test_sympath_windows_paths),
	    cmocka_unit_test(test_effective_path_order),
	    cmocka_unit_test(test_pdb_option),
	    cmocka_unit_test(test_local_stores),
	    cmocka_unit_test(test_local_cab),
	    cmocka_unit_test(test_download_then_cache_hit),
	    cmocka_unit_test(test_404_names_url_and_cache),
	    cmocka_unit_test(test_redirect_followed),
	    cmocka_unit_test(test_wrong_guid_rejected),
	    cmocka_unit_test(test_stall_rejected),
	    cmocka_unit_test(test_503_retried),
	    cmocka_unit_test(test_offline_cold_cache),
	    cmocka_unit_test(test_server_cab_only),
	    cmocka_unit_test(test_lookup_miss),
	    cmocka_unit_test(test_miss_note),
	};

	(void)argc;
	argv0 = argv[0];
	return cmocka_run_group_tests_name("symbols/symstore", tests, setup,
					   teardown);
}
