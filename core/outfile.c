/* SPDX-License-Identifier: MIT */
/* Atomic output files (see outfile.h and docs/output-safety.md). */
#define _GNU_SOURCE /* sync_file_range */
#include "core/outfile.h"

#include "core/bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct wdt_outfile {
	int fd;
	int slot;	/* index in the live registry */
	bool sync;
	bool force;
	bool stream;	/* "-": standard output, written in order */
	off_t trunc_at; /* stream into a regular file: where we started */
	bool seek_holes; /* ... not O_APPEND: holes skipped with lseek */
	uint64_t size;	/* logical size: furthest write or hole */
	uint64_t wend;	/* furthest byte actually written */
	char *path;	/* final name */
	char *tmp;	/* temp name */
};

/*
 * The live registry is the one piece of process-wide state below cmd/: a
 * signal handler can only reach what is global. Paths are preformatted so
 * the handler needs nothing but unlink(), which is async-signal-safe.
 */
#define LIVE_MAX 16

static struct {
	atomic_int used;
	pid_t owner; /* a forked child must not remove its parent's file */
	int fd;	     /* >= 0: standard output, cut back to trunc_at */
	off_t trunc_at;
	char path[PATH_MAX];
} live[LIVE_MAX];

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static int nlive;
static bool installed;
static const int catch_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
#define NCATCH (sizeof(catch_sigs) / sizeof(catch_sigs[0]))
static struct sigaction old_act[NCATCH];
static struct sigaction old_xfsz;

static void unlink_live(void)
{
	pid_t me = getpid();

	/* unlink() and ftruncate() are both async-signal-safe. */
	for (int i = 0; i < LIVE_MAX; i++) {
		if (!atomic_load(&live[i].used) || live[i].owner != me)
			continue;
		if (live[i].fd >= 0)
			(void)!ftruncate(live[i].fd, live[i].trunc_at);
		else
			unlink(live[i].path);
	}
}

/*
 * Remove the temp files, then let the signal do what it would have done
 * without us (default: kill, so the exit status says "killed by SIGINT").
 * The signal is blocked while we run; raise() leaves it pending and it is
 * delivered under the restored disposition as we return.
 */
static void on_signal(int sig)
{
	int saved = errno;

	unlink_live();
	for (size_t i = 0; i < NCATCH; i++)
		if (catch_sigs[i] == sig)
			sigaction(sig, &old_act[i], NULL);
	raise(sig);
	errno = saved;
}

static void on_exit_cleanup(void)
{
	unlink_live();
}

/* Called with live_lock held. */
static void install_handlers(void)
{
	struct sigaction sa;

	if (installed)
		return;
	installed = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < NCATCH; i++) {
		if (sigaction(catch_sigs[i], NULL, &old_act[i]) < 0)
			continue;
		/* Respect an inherited "ignore" (nohup, SIGPIPE ignored). */
		if (old_act[i].sa_handler == SIG_IGN)
			continue;
		sigaction(catch_sigs[i], &sa, NULL);
	}
	atexit(on_exit_cleanup);
}

static void block_sigs(sigset_t *old)
{
	sigset_t s;

	sigemptyset(&s);
	for (size_t i = 0; i < NCATCH; i++)
		sigaddset(&s, catch_sigs[i]);
	pthread_sigmask(SIG_BLOCK, &s, old);
}

/*
 * Called with live_lock held and the caught signals blocked. tmp: the
 * file to remove; or fd >= 0: the file to cut back to trunc_at.
 */
static int live_add(const char *tmp, int fd, off_t trunc_at)
{
	for (int i = 0; i < LIVE_MAX; i++) {
		if (atomic_load(&live[i].used))
			continue;
		snprintf(live[i].path, sizeof(live[i].path), "%s",
			 tmp ? tmp : "");
		live[i].fd = fd;
		live[i].trunc_at = trunc_at;
		live[i].owner = getpid();
		atomic_store(&live[i].used, 1);
		if (nlive++ == 0) {
			/* RLIMIT_FSIZE: get EFBIG and clean up, not die. */
			struct sigaction ign;
			memset(&ign, 0, sizeof(ign));
			ign.sa_handler = SIG_IGN;
			sigaction(SIGXFSZ, &ign, &old_xfsz);
		}
		return i;
	}
	return -1;
}

static void live_remove(int slot)
{
	pthread_mutex_lock(&live_lock);
	atomic_store(&live[slot].used, 0);
	if (--nlive == 0)
		sigaction(SIGXFSZ, &old_xfsz, NULL);
	pthread_mutex_unlock(&live_lock);
}

static bool same_file(const char *path, const struct stat *st,
		      const char *input)
{
	struct stat si;
	char *a, *b;
	bool same;

	if (stat(input, &si) == 0 && si.st_dev == st->st_dev &&
	    si.st_ino == st->st_ino)
		return true;
	a = realpath(path, NULL);
	b = realpath(input, NULL);
	same = a && b && strcmp(a, b) == 0;
	free(a);
	free(b);
	return same;
}

/* Refusals that depend only on what already exists at path. */
static int check_target(const char *path, const char *const *inputs,
			size_t ninputs, bool force, struct wdt_err *err)
{
	struct stat st;
	size_t n = strlen(path);

	if (n == 0)
		return wdt_err_set(err, WDT_USAGE, "empty output file name");
	if (path[n - 1] == '/')
		return wdt_err_set(err, WDT_USAGE, "is a directory");
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0; /* also a dangling symlink: rename replaces it */
		return wdt_err_set(err, WDT_OUTPUT, "%s", strerror(errno));
	}
	for (size_t i = 0; i < ninputs; i++)
		if (inputs[i] && same_file(path, &st, inputs[i]))
			return wdt_err_set(err, WDT_USAGE,
					   "output would overwrite the input "
					   "%s",
					   inputs[i]);
	if (S_ISDIR(st.st_mode))
		return wdt_err_set(err, WDT_USAGE, "is a directory");
	if (!S_ISREG(st.st_mode))
		return wdt_err_set(err, WDT_USAGE,
				   "exists and is not a regular file");
	if (!force) {
		wdt_err_set(err, WDT_USAGE, "exists");
		return wdt_err_remedy(err, WDT_REMEDY_OVERWRITE);
	}
	return 0;
}

/* "dir/.name.wdt-" with dir taken from path ("" when path has no '/'). */
static char *temp_prefix(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path + 1) : 0;
	const char *name = path + dlen;
	size_t n = dlen + 1 + strlen(name) + sizeof(".wdt-XXXXXX");
	char *t = malloc(n);

	if (t)
		snprintf(t, n, "%.*s.%s.wdt-", (int)dlen, path, name);
	return t;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* Create the temp file and register it, with the caught signals blocked
 * so that it is never on disk unregistered. */
static int create_temp(struct wdt_outfile *of, struct wdt_err *err)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
				 "rstuvwxyz0123456789";
	static atomic_uint counter;
	char *pre = temp_prefix(of->path);
	size_t plen;
	struct timespec ts;
	sigset_t old;
	int e = EEXIST;

	if (!pre)
		return wdt_err_nomem(err);
	plen = strlen(pre);
	if (plen + 7 > PATH_MAX) {
		free(pre);
		return wdt_err_set(err, WDT_OUTPUT, "file name too long");
	}
	of->tmp = realloc(pre, plen + 7);
	if (!of->tmp) {
		free(pre);
		return wdt_err_nomem(err);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&live_lock);
	install_handlers();
	block_sigs(&old);
	for (int tries = 0; tries < 100 && e == EEXIST; tries++) {
		uint64_t r = mix((uint64_t)ts.tv_nsec ^
				 ((uint64_t)getpid() << 32) ^
				 ((uint64_t)atomic_fetch_add(&counter, 1)
				  << 48) ^ (uint64_t)(uintptr_t)of);
		for (int i = 0; i < 6; i++, r /= sizeof(al) - 1)
			of->tmp[plen + i] = al[r % (sizeof(al) - 1)];
		of->tmp[plen + 6] = '\0';
		of->fd = open(of->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			      0644);
		e = of->fd < 0 ? errno : 0;
	}
	if (of->fd >= 0) {
		of->slot = live_add(of->tmp, -1, 0);
		if (of->slot < 0) {
			close(of->fd);
			unlink(of->tmp);
			of->fd = -1;
			e = EMFILE;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_unlock(&live_lock);
	if (of->fd < 0)
		return wdt_err_set(err, WDT_OUTPUT,
				   "cannot create a temporary file beside "
				   "it: %s",
				   e == EMFILE ? "too many open output files"
					       : strerror(e));
	return 0;
}

/*
 * "-": standard output. Refused on a terminal (binary data) and when it
 * is one of the inputs (`wdt convert x.elf -o - >>x.elf`). A regular file
 * is remembered with its starting offset so that a failure or a signal
 * cuts it back: partial output is never left there either. A pipe cannot
 * be taken back; the reader sees a short stream and wdt's exit status.
 */
static int open_stream(struct wdt_outfile *of, const char *const *inputs,
		       size_t ninputs, struct wdt_err *err)
{
	struct stat st, si;
	sigset_t old;

	if (fstat(STDOUT_FILENO, &st) < 0)
		return wdt_err_set(err, WDT_OUTPUT, "standard output: %s",
				   strerror(errno));
	if (isatty(STDOUT_FILENO))
		return wdt_err_set(err, WDT_USAGE,
				   "is a terminal; redirect "
				   "it (> FILE, | COMMAND) or give -o FILE");
	for (size_t i = 0; i < ninputs; i++)
		if (inputs[i] && stat(inputs[i], &si) == 0 &&
		    si.st_dev == st.st_dev && si.st_ino == st.st_ino)
			return wdt_err_set(err, WDT_USAGE,
					   "is the input %s",
					   inputs[i]);
	of->fd = STDOUT_FILENO;
	of->stream = true;
	of->trunc_at = -1;
	if (S_ISREG(st.st_mode)) {
		int fl = fcntl(STDOUT_FILENO, F_GETFL);
		off_t at = lseek(STDOUT_FILENO, 0, SEEK_CUR);
		of->trunc_at = fl >= 0 && (fl & O_APPEND) ? st.st_size
				: at >= 0 ? at : st.st_size;
		/* Only over nothing: old bytes must not show through holes. */
		of->seek_holes = fl >= 0 && !(fl & O_APPEND) && at >= 0 &&
				 st.st_size <= at;
	}
	if (of->trunc_at < 0)
		return 0;
	pthread_mutex_lock(&live_lock);
	install_handlers();
	block_sigs(&old);
	of->slot = live_add(NULL, STDOUT_FILENO, of->trunc_at);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_unlock(&live_lock);
	if (of->slot < 0)
		return wdt_err_set(err, WDT_OUTPUT, "too many open output files");
	return 0;
}

int wdt_outfile_open(struct wdt_outfile **ofp, const char *path,
		     const char *const *inputs, size_t ninputs, bool force,
		     struct wdt_err *err)
{
	struct wdt_outfile *of;
	bool stream = strcmp(path, "-") == 0;

	*ofp = NULL;
	if (!stream && check_target(path, inputs, ninputs, force, err) < 0)
		return -1;
	of = calloc(1, sizeof(*of));
	if (!of)
		return wdt_err_nomem(err);
	of->fd = -1;
	of->slot = -1;
	of->sync = true;
	of->force = force;
	of->path = strdup(path);
	if (!of->path) {
		free(of);
		return wdt_err_nomem(err);
	}
	if (stream ? open_stream(of, inputs, ninputs, err) < 0
		   : create_temp(of, err) < 0) {
		free(of->tmp);
		free(of->path);
		free(of);
		return -1;
	}
	*ofp = of;
	return 0;
}

int wdt_outfile_fd(const struct wdt_outfile *of)
{
	return of->fd;
}

const char *wdt_outfile_path(const struct wdt_outfile *of)
{
	return of->path;
}

const char *wdt_outfile_temp_path(const struct wdt_outfile *of)
{
	return of->tmp;
}

bool wdt_outfile_is_stream(const struct wdt_outfile *of)
{
	return of->stream;
}

uint64_t wdt_outfile_size(const struct wdt_outfile *of)
{
	return of->size;
}

void wdt_outfile_set_sync(struct wdt_outfile *of, bool sync)
{
	of->sync = sync;
}

static int out_errno(int e, const char *what, struct wdt_err *err)
{
	return wdt_err_set(err, WDT_OUTPUT, "%s: %s", what, strerror(e));
}

/* *v = max(*v, to), safe against concurrent writers of distinct ranges. */
static void raise_to(uint64_t *v, uint64_t to)
{
	uint64_t cur = __atomic_load_n(v, __ATOMIC_RELAXED);

	while (cur < to && !__atomic_compare_exchange_n(v, &cur, to, true,
							__ATOMIC_RELAXED,
							__ATOMIC_RELAXED))
		;
}

/*
 * Write all of buf at off: pwrite() into a file, write() into a stream
 * (pipes take it in pieces; the stream is at off). *written (may be NULL)
 * grows by what was written.
 */
static int write_all(int fd, bool positioned, uint64_t off, const void *buf,
		     size_t len, uint64_t *written, struct wdt_err *err)
{
	const uint8_t *p = buf;

	while (len > 0) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;
		ssize_t w = positioned ? pwrite(fd, p, n, (off_t)off)
				       : write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return wdt_err_set(err, WDT_OUTPUT,
					   "writing at offset 0x%" PRIx64
					   ": %s",
					   off,
					   strerror(w < 0 ? errno : ENOSPC));
		p += w;
		off += (uint64_t)w;
		len -= (size_t)w;
		if (written)
			*written += (uint64_t)w;
	}
	return 0;
}

static int stream_put(struct wdt_outfile *of, const void *buf, size_t len,
		      struct wdt_err *err)
{
	return write_all(of->fd, false, of->wend, buf, len, &of->wend, err);
}

/* Zeros from the stream's position up to off (holes cannot be skipped). */
static int stream_fill(struct wdt_outfile *of, uint64_t off,
		       struct wdt_err *err)
{
	static const uint8_t zeros[1u << 16];

	/* A redirected regular file stays sparse: skip, extend at commit. */
	if (of->seek_holes && of->wend < off) {
		if (lseek(of->fd, (off_t)(off - of->wend), SEEK_CUR) < 0)
			return out_errno(errno, "seeking", err);
		of->wend = off;
		return 0;
	}
	while (of->wend < off) {
		uint64_t n = off - of->wend;
		if (stream_put(of, zeros, n < sizeof(zeros) ? (size_t)n
							    : sizeof(zeros),
			       err) < 0)
			return -1;
	}
	return 0;
}

static int stream_write(struct wdt_outfile *of, uint64_t off,
			const void *buf, size_t len, uint64_t end,
			struct wdt_err *err)
{
	if (off < of->wend)
		return wdt_err_set(err, WDT_INTERNAL,
				   "writing at offset 0x%" PRIx64 " behind "
				   "0x%" PRIx64 " on standard output, which "
				   "is written in order",
				   off, of->wend);
	if (stream_fill(of, off, err) < 0 || stream_put(of, buf, len, err) < 0)
		return -1;
	raise_to(&of->size, end);
	return 0;
}

int wdt_outfile_write_at(struct wdt_outfile *of, uint64_t off,
			 const void *buf, size_t len, struct wdt_err *err)
{
	uint64_t end;

	if (!wdt_add_ok(off, len, &end) || end > (uint64_t)INT64_MAX)
		return wdt_err_set(err, WDT_OUTPUT,
				   "writing at offset 0x%" PRIx64
				   ": offset too large",
				   off);
	if (of->stream)
		return stream_write(of, off, buf, len, end, err);
	if (write_all(of->fd, true, off, buf, len, NULL, err) < 0)
		return -1;
	/*
	 * Start writing the range back now, so commit's fsync has little
	 * left to wait for and the disk works while the input is read.
	 * Best effort (commit's fsync reports errors); not with --no-sync,
	 * where the page cache may keep it all.
	 */
	if (of->sync)
		sync_file_range(of->fd, (off_t)off, (off_t)len,
				SYNC_FILE_RANGE_WRITE);
	raise_to(&of->wend, end);
	raise_to(&of->size, end);
	return 0;
}

void wdt_outfile_hole(struct wdt_outfile *of, uint64_t off, uint64_t len)
{
	uint64_t end;

	if (wdt_add_ok(off, len, &end))
		raise_to(&of->size, end);
}

static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path) + 1)
			  : strdup(".");
	int fd;

	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd); /* best effort: some file systems refuse */
		close(fd);
	}
	free(dir);
}

static void release(struct wdt_outfile *of)
{
	if (of->slot >= 0)
		live_remove(of->slot);
	free(of->tmp);
	free(of->path);
	free(of);
}

/*
 * Put the temp file in place. Without force the target must still not
 * exist: link() fails atomically with EEXIST if someone created it since
 * open; where hard links are unsupported, fall back to rename().
 */
static int install(struct wdt_outfile *of, bool noreplace,
		   struct wdt_err *err)
{
	if (noreplace) {
		if (link(of->tmp, of->path) == 0) {
			unlink(of->tmp);
			return 0;
		}
		if (errno == EEXIST) {
			wdt_err_set(err, WDT_USAGE, "exists");
			return wdt_err_remedy(err, WDT_REMEDY_OVERWRITE);
		}
	}
	if (rename(of->tmp, of->path) < 0)
		return out_errno(errno, "renaming the temporary file into place", err);
	return 0;
}

/* Stream: the trailing zeros, then fsync a regular file. Not closed. */
static int stream_commit(struct wdt_outfile *of, struct wdt_err *err)
{
	int rc = stream_fill(of, of->size, err);

	if (rc == 0 && of->seek_holes &&
	    ftruncate(of->fd, of->trunc_at + (off_t)of->size) < 0)
		rc = out_errno(errno, "extending", err);
	if (rc == 0 && of->sync && of->trunc_at >= 0 && fsync(of->fd) < 0)
		rc = out_errno(errno, "syncing", err);
	if (rc < 0 && of->trunc_at >= 0)
		(void)!ftruncate(of->fd, of->trunc_at);
	release(of);
	return rc;
}

int wdt_outfile_commit(struct wdt_outfile *of, struct wdt_err *err)
{
	int rc = -1;

	if (of->stream)
		return stream_commit(of, err);
	if (of->size > of->wend && ftruncate(of->fd, (off_t)of->size) < 0)
		out_errno(errno, "extending", err);
	else if (of->sync && fsync(of->fd) < 0)
		out_errno(errno, "syncing", err);
	else
		rc = 0;
	if (close(of->fd) < 0 && rc == 0)
		rc = out_errno(errno, "closing", err);
	of->fd = -1;
	if (rc == 0)
		rc = install(of, !of->force, err);
	if (rc < 0)
		unlink(of->tmp);
	else if (of->sync)
		sync_dir(of->path);
	release(of);
	return rc;
}

void wdt_outfile_abort(struct wdt_outfile *of)
{
	if (!of)
		return;
	if (of->stream) {
		if (of->trunc_at >= 0)
			(void)!ftruncate(of->fd, of->trunc_at);
		release(of);
		return;
	}
	if (of->fd >= 0)
		close(of->fd);
	unlink(of->tmp);
	release(of);
}
