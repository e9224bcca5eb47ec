/* SPDX-License-Identifier: MIT */
/* formats/registry.c: files that are not memory images, named. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/source.h"

#include "formats/kdump.h"
#include "formats/registry.h"

/* A 4 KiB buffer starting with magic (len bytes). */
static uint8_t *with_magic(const void *magic, size_t len)
{
	uint8_t *m = calloc(1, 4096);

	assert_non_null(m);
	memcpy(m, magic, len);
	return m;
}

static void refuse_one(const void *magic, size_t mlen, const char *needle,
		       const char *todo)
{
	struct wdt_err e;
	uint8_t *m = with_magic(magic, mlen);

	wdt_err_clear(&e);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), -1);
	assert_err(&e, WDT_UNSUPPORTED, needle);
	assert_err(&e, WDT_UNSUPPORTED, todo);
	/* Opening it says the same, though raw would take 4096 bytes. */
	assert_null(wdt_test_open_mem(m, 4096, NULL, &e));
	assert_err(&e, WDT_UNSUPPORTED, needle);
	/* A forced format is the user's word: no hint. */
	struct wdt_image *img = wdt_test_open_mem(m, 4096, "raw", &e);
	assert_non_null(img);
	wdt_image_close(img);
	free(m);
}

static void minidump(void **state)
{
	(void)state;
	refuse_one("MDMP\x93\xa7", 6, "a Windows user-mode minidump (MDMP)",
		   "open it in WinDbg as it is");
}

static void foreign_elf(void **state)
{
	struct wdt_err e;
	uint8_t *m = with_magic("\177ELF\2\1\1", 7);

	(void)state;
	m[16] = 4;   /* ET_CORE */
	m[18] = 183; /* EM_AARCH64 */
	wdt_err_clear(&e);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), -1);
	assert_err(&e, WDT_UNSUPPORTED,
		   "an ELF core for AArch64 (e_machine 183): wdt reads dumps "
		   "of x86");
	/* Big-endian s390x executable: e_machine read in its byte order. */
	m[5] = 2;
	m[16] = 0, m[17] = 2, m[18] = 0, m[19] = 22;
	assert_int_equal(wdt_format_refuse(m, 4096, &e), -1);
	assert_err(&e, WDT_UNSUPPORTED, "an ELF file for s390 (e_machine 22)");
	m[19] = 0x99, m[18] = 0x99;
	assert_int_equal(wdt_format_refuse(m, 4096, &e), -1);
	assert_err(&e, WDT_UNSUPPORTED, "another machine (e_machine 39321)");
	/* x86: not refused here, the ELF reader takes it. */
	m[5] = 1, m[16] = 4, m[17] = 0, m[18] = 62, m[19] = 0;
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	m[18] = 3;
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	/* Too short to tell: left to the reader's own message. */
	assert_int_equal(wdt_format_refuse(m, 19, &e), 0);
	free(m);
}

static void foreign_kdump(void **state)
{
	struct wdt_err e;
	uint8_t *m = with_magic(WDT_KDUMP_SIG, WDT_KDUMP_SIG_LEN);

	(void)state;
	memcpy(m + WDT_KDH_UTS_MACHINE, "aarch64", 7);
	wdt_err_clear(&e);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), -1);
	assert_err(&e, WDT_UNSUPPORTED,
		   "a kdump file of another architecture (machine 'aarch64')");
	memcpy(m, WDT_KDUMP_SIG_OLD, WDT_KDUMP_SIG_LEN);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), -1);
	/* x86 names, an empty field (left unfilled), or junk: not ours. */
	memcpy(m + WDT_KDH_UTS_MACHINE, "x86_64\0", 7);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	memcpy(m + WDT_KDH_UTS_MACHINE, "i686\0\0\0", 7);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	memset(m + WDT_KDH_UTS_MACHINE, 0, 7);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	m[WDT_KDH_UTS_MACHINE] = 0xff;
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	/* Header cut before utsname.machine ends. */
	memcpy(m + WDT_KDH_UTS_MACHINE, "aarch64", 7);
	assert_int_equal(wdt_format_refuse(m, WDT_KDH_UTS_MACHINE + 10, &e), 0);
	free(m);
}

static void memory_images_pass(void **state)
{
	struct wdt_err e;
	uint8_t *m = calloc(1, 4096);

	(void)state;
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	assert_int_equal(wdt_format_refuse(m, 0, &e), 0);
	memcpy(m, "MDM", 3); /* a near miss */
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	memcpy(m, "MDMP", 4); /* magic beyond len */
	assert_int_equal(wdt_format_refuse(m, 3, &e), 0);
	free(m);
}

/*
 * Child: stdin is a pipe fed len bytes of buf; open "-" and exit 0 when the
 * error has status st and holds needle.
 */
static int stdin_child(const void *buf, size_t len, const char *format,
		       enum wdt_status st, const char *needle)
{
	int pfd[2], status;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct wdt_err e;
		dup2(pfd[0], STDIN_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		wdt_err_clear(&e);
		_exit(!wdt_image_open("-", format, &e) && e.status == st &&
			      strstr(e.msg, needle)
			  ? 0
			  : 1);
	}
	close(pfd[0]);
	/*
	 * A child that refuses without reading (an unknown --format) may be
	 * gone before this write: EPIPE then, not a SIGPIPE that kills the
	 * test program (a race that loaded machines lose).
	 */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	ssize_t w = write(pfd[1], buf, len);
	signal(SIGPIPE, old);
	assert_true(w == (ssize_t)len || (w < 0 && errno == EPIPE));
	close(pfd[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

static void stdin_pipe_refused_by_name(void **state)
{
	uint8_t *m = with_magic(WDT_KDUMP_SIG, WDT_KDUMP_SIG_LEN);

	(void)state;
	assert_int_equal(stdin_child(m, 4096, NULL, WDT_UNSUPPORTED,
				     "standard input is a pipe; kdump needs "
				     "random access: save it to a file first"),
			 0);
	assert_int_equal(stdin_child(m, 4096, "raw", WDT_UNSUPPORTED,
				     "pipe; raw needs random access"),
			 0);
	assert_int_equal(
	    stdin_child(m, 4096, "nope", WDT_USAGE, "unknown format 'nope'"),
	    0);
	assert_int_equal(stdin_child("QEVM\0\0\0\3", 8, NULL, WDT_UNSUPPORTED,
				     "standard input is a pipe; qevm needs "
				     "random access"),
			 0);
	assert_int_equal(stdin_child("hi\n", 3, NULL, WDT_UNSUPPORTED,
				     "pipe and not a memory image wdt knows"),
			 0);
	assert_int_equal(
	    stdin_child("", 0, NULL, WDT_UNSUPPORTED, "pipe and empty"), 0);
	free(m);
}

static void stdin_file_is_read(void **state)
{
	char p[] = "/tmp/wdt-registry.XXXXXX";
	int fd = mkstemp(p), status;
	uint8_t *m = calloc(1, 8192);
	pid_t pid;

	(void)state;
	assert_true(fd >= 0 && m);
	m[4096] = 0x5a;
	assert_int_equal(write(fd, m, 8192), 8192);
	/* Whatever its position: a redirected file is read whole. */
	lseek(fd, 100, SEEK_SET);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct wdt_err e;
		uint8_t b;
		dup2(fd, STDIN_FILENO);
		struct wdt_image *img = wdt_image_open("-", NULL, &e);
		_exit(img && !strcmp(img->fmt->name, "raw") &&
			      wdt_image_read_phys(img, 4096, &b, 1, &e) == 0 &&
			      b == 0x5a
			  ? 0
			  : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
	unlink(p);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(minidump),
	    cmocka_unit_test(foreign_elf),
	    cmocka_unit_test(foreign_kdump),
	    cmocka_unit_test(memory_images_pass),
	    cmocka_unit_test(stdin_pipe_refused_by_name),
	    cmocka_unit_test(stdin_file_is_read),
	};
	return cmocka_run_group_tests_name("formats/registry", tests, NULL,
					   NULL);
}
