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

static int setup(void **state)
{
	(void)state;
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
	/* ".a.dmp.wdt-XXXXXX" beside the target */
	const char *tp = wdt_outfile_temp_path(of);
	assert_int_equal(strncmp(tp, p, strlen(dir) + 1), 0);
	assert_int_equal(strncmp(tp + strlen(dir) + 1, ".a.dmp.wdt-", 11), 0);
	assert_int_equal(strlen(tp), strlen(dir) + 1 + 11 + 6);
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
	assert_string_equal(e.msg, "exists; use --force to replace it");
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
	assert_err(&e, WDT_USAGE, "exists; use --force");
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
	snprintf(rel, sizeof(rel), "%s/./../%s/in.elf", dir, strrchr(dir, '/') + 1);
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
	assert_int_equal(wdt_outfile_open(&of, "/dev/null", NULL, 0, true, &e), -1);
	assert_err(&e, WDT_USAGE, "exists and is not a regular file");
	assert_int_equal(wdt_outfile_open(&of, "", NULL, 0, true, &e), -1);
	assert_int_equal(e.status, WDT_USAGE);
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
		assert_int_equal(wdt_outfile_open(&of, p, NULL, 0, false, &e), -1);
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
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
