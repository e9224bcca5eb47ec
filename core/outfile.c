/* SPDX-License-Identifier: MIT */
/* Atomic output files (see outfile.h and docs/output-safety.md). */
#define _GNU_SOURCE /* sync_file_range */
#include "core/outfile.h"

#include "core/bytes.h"

#include <dirent.h>
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
	int slot; /* index in the live registry */
	bool sync;
	bool force;
	bool stream;	 /* "-": standard output, written in order */
	off_t trunc_at;	 /* stream into a regular file: where we started */
	bool seek_holes; /* ... not O_APPEND: holes skipped with lseek */
	uint64_t size;	 /* logical size: furthest write or hole */
	uint64_t wend;	 /* furthest byte actually written */
	char *path;	 /* final name */
	char *tmp;	 /* temp name */
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
/*
 * Every signal whose default action ends the process (signal(7)), except
 * SIGKILL and SIGSTOP, which cannot be caught (a later run collects what
 * SIGKILL leaves: stale_sweep()), and SIGXFSZ, ignored while an outfile
 * is live. The faults (SEGV, BUS, ILL, FPE, ABRT, TRAP, SYS) too: a crash
 * must not leave a temp file either; the restored disposition (default,
 * or a sanitizer's handler) then sees the signal again. SIGRTMIN..SIGRTMAX
 * are added at install time (their numbers are known only at run time).
 */
static const int catch_sigs[] = {
    SIGHUP,    SIGINT,	SIGQUIT, SIGILL,    SIGTRAP, SIGABRT,
    SIGBUS,    SIGFPE,	SIGUSR1, SIGSEGV,   SIGUSR2, SIGPIPE,
    SIGALRM,   SIGTERM, SIGXCPU, SIGVTALRM, SIGPROF, SIGSYS,
#ifdef SIGSTKFLT
    SIGSTKFLT,
#endif
#ifdef SIGPOLL
    SIGPOLL,
#endif
#ifdef SIGPWR
    SIGPWR,
#endif
};
#define NCATCH (sizeof(catch_sigs) / sizeof(catch_sigs[0]))
static sigset_t caught;		       /* the signals we handle */
static struct sigaction old_act[NSIG]; /* by signal number */
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
static void on_signal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	(void)uc;
	unlink_live();
	if (sig > 0 && sig < NSIG)
		sigaction(sig, &old_act[sig], NULL);
	/*
	 * A fault of the instruction (SEGV_MAPERR, FPE_INTDIV…: si_code > 0)
	 * recurs when we return, now with the old disposition and its real
	 * siginfo; anything else (kill, raise, SIGTRAP, SIGSYS) is raised
	 * again.
	 */
	if (!(si && si->si_code > 0 &&
	      (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	       sig == SIGFPE)))
		raise(sig);
	errno = saved;
}

static void on_exit_cleanup(void)
{
	unlink_live();
}

static void catch_one(int sig, const struct sigaction *sa)
{
	struct sigaction *old = &old_act[sig];

	if (sigaction(sig, NULL, old) < 0)
		return;
	/* Respect an inherited "ignore" (nohup, SIGPIPE ignored). */
	if (!(old->sa_flags & SA_SIGINFO) && old->sa_handler == SIG_IGN)
		return;
	if (sigaction(sig, sa, NULL) == 0)
		sigaddset(&caught, sig);
}

/* Called with live_lock held. */
static void install_handlers(void)
{
	struct sigaction sa;

	if (installed)
		return;
	installed = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	sigemptyset(&caught);
	for (size_t i = 0; i < NCATCH; i++)
		catch_one(catch_sigs[i], &sa);
#if defined(SIGRTMIN) && defined(SIGRTMAX)
	for (int sig = SIGRTMIN; sig <= SIGRTMAX && sig < NSIG; sig++)
		catch_one(sig, &sa);
#endif
	atexit(on_exit_cleanup);
}

static void block_sigs(sigset_t *old)
{
	pthread_sigmask(SIG_BLOCK, &caught, old);
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
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return wdt_err_set(err, WDT_OUTPUT, "%s", strerror(errno));
	}
	/*
	 * A symlink is judged by what it points to, and the commit replaces
	 * the link itself (rename), never writes through it. One that points
	 * nowhere is refused now, not after the work: without --force the
	 * final link() would fail with EEXIST, and with it the user likely
	 * meant the missing target.
	 */
	if (S_ISLNK(st.st_mode) && stat(path, &st) < 0) {
		if (errno == ENOENT)
			return wdt_err_set(err, WDT_USAGE,
					   "is a symbolic link to a missing "
					   "file");
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

/* The 6 letters of a temp file's random part; the host tag uses them too. */
static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789";
#define NAL (sizeof(al) - 1)

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static void letters(char *out, uint64_t r)
{
	for (int i = 0; i < 6; i++, r /= NAL)
		out[i] = al[r % NAL];
	out[6] = '\0';
}

/*
 * 6 letters from the host name: a PID means something only on its own
 * host, so the temp files of another host sharing the directory (NFS) are
 * never judged by our PIDs.
 */
static void host_tag(char out[7])
{
	char name[256] = "";
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	(void)gethostname(name, sizeof(name) - 1);
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	letters(out, mix(h));
}

/*
 * "dir/.name.wdt-PID-HOST-" with dir taken from path ("" when path has no
 * '/'); *dlen gets the length of "dir/".
 */
static char *temp_prefix(const char *path, const char *host, size_t *dlen)
{
	const char *slash = strrchr(path, '/');
	const char *name;
	size_t n;
	char *t;

	*dlen = slash ? (size_t)(slash - path + 1) : 0;
	name = path + *dlen;
	n = *dlen + strlen(name) + 64;
	t = malloc(n);
	if (t)
		snprintf(t, n, "%.*s.%s.wdt-%ld-%s-", (int)*dlen, path, name,
			 (long)getpid(), host);
	return t;
}

/*
 * Whether name is a temp file of this host, ".X.wdt-PID-HOST-RAND6";
 * *pid gets PID.
 */
static bool temp_name(const char *name, const char *host, pid_t *pid)
{
	const char *w = NULL, *p;
	long v = 0;

	if (name[0] != '.')
		return false;
	for (p = name + 1; (p = strstr(p, ".wdt-")); p++)
		w = p;
	if (!w || w == name + 1)
		return false; /* no ".wdt-", or an empty X */
	p = w + 5;
	if (*p < '1' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return false;
	}
	if (*p != '-' || strncmp(p + 1, host, 6) != 0 || p[7] != '-')
		return false;
	p += 8;
	if (strspn(p, al) != 6 || p[6] != '\0')
		return false;
	*pid = (pid_t)v;
	return true;
}

/* Called with live_lock held: whether path is one of our live files. */
static bool is_live(const char *path)
{
	pid_t me = getpid();

	for (int i = 0; i < LIVE_MAX; i++)
		if (atomic_load(&live[i].used) && live[i].owner == me &&
		    live[i].fd < 0 && strcmp(live[i].path, path) == 0)
			return true;
	return false;
}

/*
 * Remove the temp files a killed wdt (SIGKILL, a crash, a power cut of a
 * process but not the host) left in the directory of path, dlen bytes of
 * it ("" is "."): names of our pattern and host whose PID is not a
 * process (kill(pid, 0) fails with ESRCH), regular files we own. Our own
 * PID counts as dead unless the file is live here (a PID reused after a
 * reboot). Best effort: errors leave the file. Called with live_lock
 * held, so our other threads' files are in the registry.
 */
static void stale_sweep(const char *path, size_t dlen, const char *host)
{
	char *dir = dlen ? strndup(path, dlen) : strdup(".");
	char full[PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d;
	pid_t pid;

	d = dir ? opendir(dir) : NULL;
	free(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!temp_name(e->d_name, host, &pid))
			continue;
		if (pid == getpid()) {
			snprintf(full, sizeof(full), "%.*s%s", (int)dlen, path,
				 e->d_name);
			if (is_live(full))
				continue;
		} else if (kill(pid, 0) == 0 || errno != ESRCH) {
			continue; /* alive (EPERM: someone else's) */
		}
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		(void)unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/* Create the temp file and register it, with the caught signals blocked
 * so that it is never on disk unregistered. */
static int create_temp(struct wdt_outfile *of, struct wdt_err *err)
{
	static atomic_uint counter;
	char host[7];
	char *pre;
	size_t plen, dlen;
	struct timespec ts;
	sigset_t old;
	int e = EEXIST;

	host_tag(host);
	pre = temp_prefix(of->path, host, &dlen);
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
	stale_sweep(of->path, dlen, host);
	for (int tries = 0; tries < 100 && e == EEXIST; tries++) {
		letters(of->tmp + plen,
			mix((uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^
			    ((uint64_t)atomic_fetch_add(&counter, 1) << 48) ^
			    (uint64_t)(uintptr_t)of));
		of->fd =
		    open(of->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
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
			return wdt_err_set(err, WDT_USAGE, "is the input %s",
					   inputs[i]);
	of->fd = STDOUT_FILENO;
	of->stream = true;
	of->trunc_at = -1;
	if (S_ISREG(st.st_mode)) {
		int fl = fcntl(STDOUT_FILENO, F_GETFL);
		off_t at = lseek(STDOUT_FILENO, 0, SEEK_CUR);
		of->trunc_at = fl >= 0 && (fl & O_APPEND) ? st.st_size
			       : at >= 0		  ? at
							  : st.st_size;
		/* Only over nothing: old bytes must not show through holes. */
		of->seek_holes =
		    fl >= 0 && !(fl & O_APPEND) && at >= 0 && st.st_size <= at;
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
		return wdt_err_set(err, WDT_OUTPUT,
				   "too many open output files");
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

	while (cur < to &&
	       !__atomic_compare_exchange_n(v, &cur, to, true, __ATOMIC_RELAXED,
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
		ssize_t w =
		    positioned ? pwrite(fd, p, n, (off_t)off) : write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return wdt_err_set(
			    err, WDT_OUTPUT,
			    "writing at offset 0x%" PRIx64 ": %s", off,
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
		if (stream_put(of, zeros,
			       n < sizeof(zeros) ? (size_t)n : sizeof(zeros),
			       err) < 0)
			return -1;
	}
	return 0;
}

static int stream_write(struct wdt_outfile *of, uint64_t off, const void *buf,
			size_t len, uint64_t end, struct wdt_err *err)
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

int wdt_outfile_write_at(struct wdt_outfile *of, uint64_t off, const void *buf,
			 size_t len, struct wdt_err *err)
{
	uint64_t end;

	if (!wdt_add_ok(off, len, &end) || end > (uint64_t)INT64_MAX)
		return wdt_err_set(
		    err, WDT_OUTPUT,
		    "writing at offset 0x%" PRIx64 ": offset too large", off);
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
	char *dir =
	    slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
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
static int install(struct wdt_outfile *of, bool noreplace, struct wdt_err *err)
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
		return out_errno(errno,
				 "renaming the temporary file into place", err);
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
