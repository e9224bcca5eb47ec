/* SPDX-License-Identifier: MIT */
/*
 * Atomic output files on a real directory: refusals, temp file naming and
 * mode, commit/abort, holes, file-size limit, and cleanup on signals and
 * exit (in forked children).
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/outfile.h"

static char dir[] = "/tmp/wdt-outfile.XXXXXX";

static void path(char *buf, const char *name)
{
	snprintf(buf, 512, "%s/%s", dir, name);
}

static void put(const char *name, const char *text)
{
	char p[512];
	FILE *f;

	path(p, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *name)
{
	static char buf[256];
	char p[512];
	FILE *f;
	size_t n;

	path(p, name);
	f = fopen(p, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Number of entries in dir whose name starts with '.' (temp files). */
static int hidden(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") &&
		    strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void clean(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path(p, e->d_name);
		if (unlink(p) < 0)
			rmdir(p);
	}
	closedir(d);
}

/*
 * Every terminating signal at its default action, unblocked, before the
 * first outfile installs its handlers: an inherited "ignore" is kept on
 * purpose (nohup), so the signal tests would see nothing to clean up, and
 * a Python parent leaves SIGXFSZ ignored.
 */
static int default_all_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&set);
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD ||
		    sig == SIGCONT || sig == SIGURG || sig == SIGWINCH ||
		    sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			continue;
		(void)sigaction(sig, &sa, NULL); /* glibc's own: EINVAL */
		sigaddset(&set, sig);
	}
	return sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static int setup(void **state)
{
	(void)state;
	if (default_all_signals() < 0)
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	clean();
	return rmdir(dir);
}

static void commit_renames_temp(void **state)
{
	char p[512];
	struct wdt_outfile *of;
	struct wdt_err e;
	struct stat st;
	mode_t old = umask(022);

	(void)state;
	clean();
	path(p, "a.dmp");
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), 0);
	assert_string_equal(wdt_outfile_path(of), p);
	/* the temp file is hidden beside the target, target not there yet */
	assert_int_equal(hidden(), 1);
	assert_null(get("a.dmp"));
	/* ".a.dmp.wdt-PID-HOST6-RAND6" beside the target */
	const char *tp = wdt_outfile_temp_path(of);
	char pid[32];
	int npid = snprintf(pid, sizeof(pid), "%ld-", (long)getpid());
	assert_int_equal(strncmp(tp, p, strlen(dir) + 1), 0);
	assert_int_equal(strncmp(tp + strlen(dir) + 1, ".a.dmp.wdt-", 11), 0);
	assert_int_equal(strncmp(tp + strlen(dir) + 12, pid, (size_t)npid), 0);
	assert_int_equal(strlen(tp), strlen(dir) + 12 + (size_t)npid + 13);
	assert_int_equal(tp[strlen(tp) - 7], '-');
	assert_int_equal(access(tp, F_OK), 0);
	assert_int_equal(wdt_outfile_write_at(of, 3, "lo", 2, &e), 0);
	assert_int_equal(wdt_outfile_write_at(of, 0, "hel", 3, &e), 0);
	assert_int_equal(wdt_outfile_size(of), 5);
	assert_int_equal(fstat(wdt_outfile_fd(of), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(wdt_outfile_commit(of, &e), 0);
	assert_string_equal(get("a.dmp"), "hello");
	assert_int_equal(hidden(), 0);
	/* umask applies to the mode */
	umask(077);
	path(p, "b.dmp");
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), 0);
	assert_int_equal(wdt_outfile_commit(of, &e), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 0);
	umask(old);
}

static void abort_leaves_nothing(void **state)
{
	char p[512];
	struct wdt_outfile *of;
	struct wdt_err e;

	(void)state;
	clean();
	put("keep.dmp", "old");
	path(p, "keep.dmp");
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, true, &e), 0);
	assert_int_equal(wdt_outfile_write_at(of, 0, "new", 3, &e), 0);
	wdt_outfile_abort(of);
	assert_string_equal(get("keep.dmp"), "old"); /* untouched */
	assert_int_equal(hidden(), 0);
	wdt_outfile_abort(NULL);
}

static void refuses_existing_without_force(void **state)
{
	char p[512];
	struct wdt_outfile *of;
	struct wdt_err e;

	(void)state;
	clean();
	put("x.dmp", "old");
	path(p, "x.dmp");
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), -1);
	assert_int_equal(e.status, WDT_USAGE);
	assert_string_equal(e.msg, "exists");
	assert_int_equal(e.remedy, WDT_REMEDY_OVERWRITE);
	assert_null(of);
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, true, &e), 0);
	assert_int_equal(wdt_outfile_write_at(of, 0, "new", 3, &e), 0);
	assert_int_equal(wdt_outfile_commit(of, &e), 0);
	assert_string_equal(get("x.dmp"), "new");
	/* created by someone else between open and commit: still refused */
	path(p, "race.dmp");
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), 0);
	put("race.dmp", "theirs");
	assert_int_equal(wdt_outfile_commit(of, &e), -1);
	assert_err(&e, WDT_USAGE, "exists");
	assert_int_equal(e.remedy, WDT_REMEDY_OVERWRITE);
	assert_string_equal(get("race.dmp"), "theirs");
	assert_int_equal(hidden(), 0);
}

static void refuses_input_as_output(void **state)
{
	char in[512], p[512], rel[600];
	const char *inputs[2];
	struct wdt_outfile *of;
	struct wdt_err e;

	(void)state;
	clean();
	put("in.elf", "guest");
	path(in, "in.elf");
	inputs[0] = "/nonexistent/other";
	inputs[1] = in;
	/* the same name, even with force */
	assert_int_equal(wdt_outfile_open(&of, in, inputs, 2, true, &e), -1);
	assert_err(&e, WDT_USAGE, "output would overwrite the input");
	/* a symlink to it */
	path(p, "link.dmp");
	assert_int_equal(symlink(in, p), 0);
	assert_int_equal(wdt_outfile_open(&of, p, inputs, 2, true, &e), -1);
	assert_err(&e, WDT_USAGE, "output would overwrite the input");
	/* a hard link to it */
	path(p, "hard.dmp");
	assert_int_equal(link(in, p), 0);
	assert_int_equal(wdt_outfile_open(&of, p, inputs, 2, true, &e), -1);
	assert_err(&e, WDT_USAGE, "output would overwrite the input");
	/* another spelling of the path */
	snprintf(rel, sizeof(rel), "%s/./../%s/in.elf", dir,
		 strrchr(dir, '/') + 1);
	assert_int_equal(wdt_outfile_open(&of, rel, inputs, 2, true, &e), -1);
	assert_err(&e, WDT_USAGE, "output would overwrite the input");
	assert_string_equal(get("in.elf"), "guest");
	assert_int_equal(hidden(), 0);
}

static void refuses_directories_and_devices(void **state)
{
	char p[512];
	struct wdt_outfile *of;
	struct wdt_err e;

	(void)state;
	clean();
	path(p, "sub");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, true, &e), -1);
	assert_int_equal(e.status, WDT_USAGE);
	assert_string_equal(e.msg, "is a directory");
	strcat(p, "/");
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, true, &e), -1);
	assert_err(&e, WDT_USAGE, "is a directory");
	assert_int_equal(wdt_outfile_open(&of, "/dev/null", NULL, 0, true, &e),
			 -1);
	assert_err(&e, WDT_USAGE, "exists and is not a regular file");
	assert_int_equal(wdt_outfile_open(&of, "", NULL, 0, true, &e), -1);
	assert_int_equal(e.status, WDT_USAGE);
	/* a symlink to nothing: refused before any work, even with force */
	path(p, "dangling.dmp");
	assert_int_equal(symlink("nowhere.dmp", p), 0);
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, true, &e), -1);
	assert_err(&e, WDT_USAGE, "is a symbolic link to a missing file");
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), -1);
	assert_err(&e, WDT_USAGE, "is a symbolic link to a missing file");
	assert_int_equal(hidden(), 0);
	assert_int_equal(access(p, F_OK), -1);
	/* a symlink to a file: exists; with force the link is replaced */
	put("real.dmp", "old");
	path(p, "link.dmp");
	assert_int_equal(symlink("real.dmp", p), 0);
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), -1);
	assert_err(&e, WDT_USAGE, "exists");
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, true, &e), 0);
	assert_int_equal(wdt_outfile_write_at(of, 0, "new", 3, &e), 0);
	assert_int_equal(wdt_outfile_commit(of, &e), 0);
	assert_string_equal(get("real.dmp"), "old");
	assert_string_equal(get("link.dmp"), "new");
}

static void unwritable_directory(void **state)
{
	char p[512];
	struct wdt_outfile *of;
	struct wdt_err e;

	(void)state;
	clean();
	path(p, "missing/out.dmp");
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), -1);
	assert_int_equal(e.status, WDT_OUTPUT);
	assert_string_equal(e.msg, "cannot create a temporary file beside it: "
				   "No such file or directory");
	put("file", "x");
	path(p, "file/out.dmp");
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), -1);
	assert_int_equal(e.status, WDT_OUTPUT);
	/* permissions do not stop root: only as another user */
	if (geteuid() != 0) {
		path(p, "ro");
		assert_int_equal(mkdir(p, 0555), 0);
		path(p, "ro/out.dmp");
		assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e),
				 -1);
		assert_err(&e, WDT_OUTPUT, "Permission denied");
	}
}

static void holes_extend_at_commit(void **state)
{
	char p[512];
	struct wdt_outfile *of;
	struct wdt_err e;
	struct stat st;

	(void)state;
	clean();
	path(p, "h.dmp");
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), 0);
	wdt_outfile_set_sync(of, false);
	assert_int_equal(wdt_outfile_write_at(of, 0, "abcd", 4, &e), 0);
	wdt_outfile_hole(of, 4096, 1 << 20);
	wdt_outfile_hole(of, 8192, 4096); /* inside: no change */
	assert_int_equal(wdt_outfile_size(of), 4096 + (1 << 20));
	assert_int_equal(wdt_outfile_commit(of, &e), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 4096 + (1 << 20));
	assert_true(st.st_blocks * 512 < (1 << 20));
}

static void file_size_limit_is_efbig(void **state)
{
	char p[512];
	static char buf[64 * 1024];
	struct wdt_outfile *of;
	struct wdt_err e;
	struct rlimit old, lim;

	(void)state;
	clean();
	path(p, "big.dmp");
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 32 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), 0);
	/* without SIGXFSZ ignored this write would kill the process */
	int rc = wdt_outfile_write_at(of, 0, buf, sizeof(buf), &e);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(rc, -1);
	assert_err(&e, WDT_OUTPUT, "writing ");
	if (strcmp(e.msg, "writing at offset 0x8000: File too large"))
		fail_msg("%s", e.msg);
	wdt_outfile_abort(of);
	assert_int_equal(hidden(), 0);
	assert_null(get("big.dmp"));
	/* ftruncate past the limit at commit fails the same way */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), 0);
	wdt_outfile_hole(of, 0, 1 << 20);
	rc = wdt_outfile_commit(of, &e);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(rc, -1);
	assert_err(&e, WDT_OUTPUT, "File too large");
	assert_int_equal(hidden(), 0);
	assert_null(get("big.dmp"));
	/* SIGXFSZ is back to its default once no outfile is live */
	struct sigaction sa;
	sigaction(SIGXFSZ, NULL, &sa);
	assert_true(sa.sa_handler == SIG_DFL);
}

/* Child: open, write, then how = 0 raise(SIGTERM), 1 exit(3). */
static void child(const char *p, int how)
{
	struct wdt_outfile *of;
	struct wdt_err e;

	if (wdt_outfile_open(&of, p, NULL, 0, false, &e) < 0 ||
	    wdt_outfile_write_at(of, 0, "part", 4, &e) < 0)
		_exit(10);
	if (how == 0)
		raise(SIGTERM);
	if (how == 1)
		exit(3);
	if (how == 2)
		pause(); /* parent sends SIGINT */
	_exit(11);
}

static void signals_and_exit_remove_temp(void **state)
{
	char p[512];
	int status;
	pid_t pid;

	(void)state;
	clean();
	path(p, "sig.dmp");
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		child(p, 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	assert_int_equal(hidden(), 0);
	assert_null(get("sig.dmp"));

	pid = fork();
	if (pid == 0)
		child(p, 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	assert_int_equal(hidden(), 0);

	pid = fork();
	if (pid == 0)
		child(p, 2);
	while (hidden() == 0)
		usleep(1000);
	kill(pid, SIGINT);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGINT);
	assert_int_equal(hidden(), 0);
	assert_null(get("sig.dmp"));
}

/*
 * Every signal whose default action ends the process removes the temp
 * file and still ends the process with that signal. The child sets the
 * disposition to default itself (an inherited "ignore" is kept on purpose)
 * and unblocks it; no core files.
 */
static void every_terminating_signal_removes_temp(void **state)
{
	/* Not SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGSYS: cmocka handles them
	 * in the test process (its handler, which our outfile chains to,
	 * would report and go on running the tests in the child). */
	int sigs[] = {SIGHUP,  SIGINT,	SIGQUIT, SIGTRAP, SIGABRT, SIGUSR1,
		      SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGXCPU, SIGVTALRM,
		      SIGPROF, SIGPOLL, SIGPWR,	 0,	  0};
	size_t n = sizeof(sigs) / sizeof(sigs[0]);
	char p[512];

	(void)state;
	sigs[n - 2] = SIGRTMIN;
	sigs[n - 1] = SIGRTMAX;
	path(p, "sig.dmp");
	for (size_t i = 0; i < n; i++) {
		struct rlimit nocore = {0, 0};
		int status;
		pid_t pid;

		clean();
		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			setrlimit(RLIMIT_CORE, &nocore);
			child(p, 2);
		}
		while (hidden() == 0)
			usleep(1000);
		kill(pid, sigs[i]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != sigs[i])
			fail_msg("signal %d: status 0x%x", sigs[i], status);
		if (hidden() != 0)
			fail_msg("signal %d left the temp file", sigs[i]);
		assert_null(get("sig.dmp"));
	}
}

/* A PID that is no process: a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return pid;
}

/*
 * Opening an outfile removes the temp files of dead wdt processes in its
 * directory (our name pattern and host, regular, ours) and nothing else:
 * a live process's, another host's, our own live one, other names.
 */
static void stale_temps_of_dead_processes_removed(void **state)
{
	char p[512], host[8], name[128], dead[128], live[128], self[128];
	struct wdt_outfile *of, *mine;
	struct wdt_err e;
	const char *tp;
	pid_t alive, gone = dead_pid();
	int status;

	(void)state;
	clean();
	/* this host's tag, from a temp name: "...-HOST6-RAND6" */
	path(p, "mine.dmp");
	assert_int_equal(wdt_outfile_open(&mine, p, NULL, 0, false, &e), 0);
	tp = wdt_outfile_temp_path(mine);
	snprintf(host, sizeof(host), "%.6s", tp + strlen(tp) - 13);
	fflush(NULL);
	alive = fork();
	if (alive == 0) {
		pause();
		_exit(0);
	}
	snprintf(dead, sizeof(dead), ".x.dmp.wdt-%ld-%s-AAAAAA", (long)gone,
		 host);
	put(dead, "stale");
	snprintf(live, sizeof(live), ".x.dmp.wdt-%ld-%s-BBBBBB", (long)alive,
		 host);
	put(live, "writing");
	snprintf(self, sizeof(self), ".y.raw.wdt-%ld-%s-CCCCCC", (long)getpid(),
		 host);
	put(self, "our PID, not live: a PID reused");
	/* another host's (its PIDs mean nothing here) */
	snprintf(name, sizeof(name), ".x.dmp.wdt-%ld-%s-DDDDDD", (long)gone,
		 strcmp(host, "zzzzzz") ? "zzzzzz" : "yyyyyy");
	put(name, "other host");
	/* not our pattern: old names without PID, extra bytes, a symlink */
	put(".x.dmp.wdt-EEEEEE", "old");
	snprintf(name, sizeof(name), ".x.dmp.wdt-%ld-%s-FFFFFFx", (long)gone,
		 host);
	put(name, "longer");
	snprintf(name, sizeof(name), "x.dmp.wdt-%ld-%s-GGGGGG", (long)gone,
		 host);
	put(name, "not hidden");
	snprintf(name, sizeof(name), ".x.dmp.wdt-%ld-%s-HHHHHH", (long)gone,
		 host);
	path(p, name);
	assert_int_equal(symlink("x.dmp", p), 0);
	assert_int_equal(hidden(), 8);

	path(p, "other.dmp");
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), 0);
	assert_null(get(dead));
	assert_null(get(self));
	assert_string_equal(get(live), "writing");
	/* ours (live), the new one, the live PID's and 4 not ours */
	assert_int_equal(access(wdt_outfile_temp_path(mine), F_OK), 0);
	assert_int_equal(hidden(), 7);
	wdt_outfile_abort(of);
	wdt_outfile_abort(mine);
	kill(alive, SIGKILL);
	assert_int_equal(waitpid(alive, &status, 0), alive);
	/* now dead: the next open removes it */
	path(p, "third.dmp");
	assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), 0);
	assert_null(get(live));
	wdt_outfile_abort(of);
	assert_int_equal(hidden(), 4);
}

/* ---- "-": standard output, in forked children (fd 1 is replaced) ---- */

/*
 * Child with fd 1 = fd: open "-", write "abc" at 0, a hole to 8192, "xyz"
 * at 8192, then how: 0 commit, 1 abort, 2 raise(SIGTERM), 3 write behind
 * (must fail INTERNAL), 4 exit(3) without commit.
 */
static void stream_child(int fd, int how)
{
	struct wdt_outfile *of;
	struct wdt_err e;

	if (dup2(fd, STDOUT_FILENO) < 0)
		_exit(10);
	if (wdt_outfile_open(&of, "-", NULL, 0, false, &e) < 0 ||
	    !wdt_outfile_is_stream(of) ||
	    wdt_outfile_write_at(of, 0, "abc", 3, &e) < 0)
		_exit(11);
	wdt_outfile_hole(of, 3, 8189);
	if (wdt_outfile_write_at(of, 8192, "xyz", 3, &e) < 0)
		_exit(12);
	wdt_outfile_hole(of, 8195, 5); /* trailing zeros up to 8200 */
	if (how == 1) {
		wdt_outfile_abort(of);
		_exit(0);
	}
	if (how == 2)
		raise(SIGTERM);
	if (how == 3) {
		int bad = wdt_outfile_write_at(of, 4096, "q", 1, &e) != -1 ||
			  e.status != WDT_INTERNAL ||
			  !strstr(e.msg, "behind 0x2003");
		wdt_outfile_abort(of);
		_exit(bad ? 13 : 0);
	}
	if (how == 4)
		exit(3);
	_exit(wdt_outfile_commit(of, &e) == 0 ? 0 : 14);
}

static int run_stream_child(int fd, int how)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		stream_child(fd, how);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void expect_stream_bytes(const char *p, off_t start)
{
	struct stat st;
	char b[8200];
	int fd = open(p, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, start + 8200);
	assert_int_equal(pread(fd, b, sizeof(b), start), (ssize_t)sizeof(b));
	close(fd);
	assert_memory_equal(b, "abc", 3);
	for (size_t i = 3; i < 8192; i++)
		assert_int_equal(b[i], 0);
	assert_memory_equal(b + 8192, "xyz\0\0\0\0\0", 8);
}

static void stdout_into_a_file(void **state)
{
	char p[512];
	int fd, status;

	(void)state;
	clean();
	path(p, "out.raw");
	/* `> out.raw`: written from offset 0, holes left sparse. */
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	status = run_stream_child(fd, 0);
	close(fd);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	expect_stream_bytes(p, 0);
	/* `>> out.raw` after "prefix": appended, zeros written. */
	put("out.raw", "prefix");
	fd = open(p, O_WRONLY | O_APPEND);
	status = run_stream_child(fd, 0);
	close(fd);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	expect_stream_bytes(p, 6);
	/* Abort, a signal, exit without commit: cut back to "prefix". */
	for (int how = 1; how <= 4; how++) {
		put("out.raw", "prefix");
		fd = open(p, how == 2 ? O_WRONLY | O_APPEND : O_WRONLY);
		lseek(fd, 0, SEEK_END);
		status = run_stream_child(fd, how);
		close(fd);
		if (how == 2)
			assert_true(WIFSIGNALED(status) &&
				    WTERMSIG(status) == SIGTERM);
		else
			assert_true(WIFEXITED(status) &&
				    WEXITSTATUS(status) == (how == 4 ? 3 : 0));
		assert_string_equal(get("out.raw"), "prefix");
	}
	assert_int_equal(hidden(), 0);
}

static void stdout_into_a_pipe(void **state)
{
	int pfd[2], status;
	char b[8300];
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		stream_child(pfd[1], 0);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], b + got, sizeof(b) - got)) > 0)
		got += (size_t)n;
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Holes came as zeros, in order. */
	assert_int_equal(got, 8200);
	assert_memory_equal(b, "abc", 3);
	for (size_t i = 3; i < 8192; i++)
		assert_int_equal(b[i], 0);
	assert_memory_equal(b + 8192, "xyz", 3);
	/* Writing behind the position is a bug, caught. */
	assert_int_equal(pipe(pfd), 0);
	status = run_stream_child(pfd[1], 3);
	close(pfd[0]);
	close(pfd[1]);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void stdout_refusals(void **state)
{
	char p[512];
	struct wdt_outfile *of;
	struct wdt_err e;
	int fd, status;
	pid_t pid;

	(void)state;
	clean();
	put("in.elf", "input");
	path(p, "in.elf");
	fd = open(p, O_WRONLY | O_APPEND);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		const char *in = p;
		dup2(fd, STDOUT_FILENO);
		_exit(wdt_outfile_open(&of, "-", &in, 1, true, &e) == -1 &&
			      e.status == WDT_USAGE &&
			      strstr(e.msg, "is the input")
			  ? 0
			  : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(fd);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_string_equal(get("in.elf"), "input");
	/* A closed standard output is an OUTPUT error. */
	pid = fork();
	if (pid == 0) {
		close(STDOUT_FILENO);
		_exit(wdt_outfile_open(&of, "-", NULL, 0, false, &e) == -1 &&
			      e.status == WDT_OUTPUT
			  ? 0
			  : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(commit_renames_temp),
	    cmocka_unit_test(abort_leaves_nothing),
	    cmocka_unit_test(refuses_existing_without_force),
	    cmocka_unit_test(refuses_input_as_output),
	    cmocka_unit_test(refuses_directories_and_devices),
	    cmocka_unit_test(unwritable_directory),
	    cmocka_unit_test(holes_extend_at_commit),
	    cmocka_unit_test(file_size_limit_is_efbig),
	    cmocka_unit_test(signals_and_exit_remove_temp),
	    cmocka_unit_test(every_terminating_signal_removes_temp),
	    cmocka_unit_test(stale_temps_of_dead_processes_removed),
	    cmocka_unit_test(stdout_into_a_file),
	    cmocka_unit_test(stdout_into_a_pipe),
	    cmocka_unit_test(stdout_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
