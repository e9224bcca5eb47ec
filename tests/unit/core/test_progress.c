/* SPDX-License-Identifier: MIT */
/* Progress line: pure formatting, and drawing into a pipe. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/progress.h"

#define GiB (1024ull * 1024 * 1024)

static void sizes(void **state)
{
	char b[32];

	(void)state;
	wdt_progress_size(b, sizeof(b), 0);
	assert_string_equal(b, "0 B");
	wdt_progress_size(b, sizeof(b), 1023);
	assert_string_equal(b, "1023 B");
	wdt_progress_size(b, sizeof(b), 1024);
	assert_string_equal(b, "1.0 KiB");
	wdt_progress_size(b, sizeof(b), 1536 * 1024);
	assert_string_equal(b, "1.5 MiB");
	wdt_progress_size(b, sizeof(b), 1024 * 1024 - 1); /* not 1024.0 KiB */
	assert_string_equal(b, "1.0 MiB");
	wdt_progress_size(b, sizeof(b), (uint64_t)(2.9 * GiB));
	assert_string_equal(b, "2.9 GiB");
	wdt_progress_size(b, sizeof(b), UINT64_MAX);
	assert_string_equal(b, "16.0 EiB");
}

static void format_line(void **state)
{
	char b[128];
	uint64_t total = (uint64_t)(2.9 * GiB), done = (uint64_t)(1.2 * GiB);
	/* 812 MB/s: elapsed = done / 812e6 */
	double el = (double)done / 812e6;

	(void)state;
	size_t n = wdt_progress_format(b, sizeof(b), done, total, el);
	assert_int_equal(n, strlen(b));
	/* remaining 1.7 GiB at 812 MB/s = 2.25 s */
	assert_string_equal(b, "  41%  1.2 GiB/2.9 GiB  812 MB/s  ETA 0:02");
	wdt_progress_format(b, sizeof(b), 0, total, 0);
	assert_string_equal(b, "   0%  0 B/2.9 GiB  -- MB/s  ETA --:--");
	wdt_progress_format(b, sizeof(b), total, total, 10);
	assert_non_null(strstr(b, " 100%  2.9 GiB/2.9 GiB"));
	assert_non_null(strstr(b, "ETA 0:00"));
	/* never 100% before the end */
	wdt_progress_format(b, sizeof(b), total - 1, total, 10);
	assert_non_null(strstr(b, "  99%"));
	/* slow: one decimal, hours in the ETA */
	wdt_progress_format(b, sizeof(b), 5000000,
			    5000000 + 2ull * 3600 * 2500000, 2);
	assert_non_null(strstr(b, "2.5 MB/s  ETA 2:00:00"));
	/* below 1 MB/s in kB/s: 96 KiB in 2 s */
	wdt_progress_format(b, sizeof(b), 96 << 10, 96 << 10, 2.0);
	assert_string_equal(b, " 100%  96.0 KiB/96.0 KiB  49.2 kB/s  ETA 0:00");
	wdt_progress_format(b, sizeof(b), 1, UINT64_MAX, 1000);
	assert_non_null(strstr(b, "ETA >99h"));
	/* done past total is clamped; total 0 is complete */
	wdt_progress_format(b, sizeof(b), 10, 0, 1);
	assert_non_null(strstr(b, " 100%"));
	/* truncation keeps a terminated string */
	assert_int_equal(wdt_progress_format(b, 8, done, total, el), 7);
	assert_int_equal(strlen(b), 7);
}

static void draws_rate_limited_and_ends_line(void **state)
{
	int fd[2];
	char buf[4096];

	(void)state;
	assert_int_equal(pipe(fd), 0);
	struct wdt_progress *p = wdt_progress_new_fd(fd[1], "writing x.dmp", 1);
	assert_non_null(p);
	wdt_progress_set_total(p, 100 << 20); /* the writer knows it late */
	/* a burst of updates draws once (the first), not 1000 times */
	for (int i = 1; i <= 1000; i++)
		wdt_progress_update(p, (uint64_t)i << 10);
	wdt_progress_finish(p);
	close(fd[1]);
	ssize_t n = read(fd[0], buf, sizeof(buf) - 1);
	close(fd[0]);
	assert_true(n > 0);
	buf[n] = '\0';
	int draws = 0;
	for (char *c = buf; (c = strchr(c, '\r')); c++)
		draws++;
	assert_int_equal(draws, 2); /* first update + finish */
	assert_int_equal(buf[n - 1], '\n');
	assert_non_null(strstr(buf, "\rwriting x.dmp    0%"));
	assert_non_null(
	    strstr(buf, "\rwriting x.dmp    0%  1000.0 KiB/100.0 MiB"));
}

static void quiet_or_not_a_terminal_draws_nothing(void **state)
{
	(void)state;
	assert_null(wdt_progress_new("x", 10, false));
	/* the test's stderr is a file or pipe under make */
	if (!isatty(STDERR_FILENO))
		assert_null(wdt_progress_new("x", 10, true));
	wdt_progress_set_total(NULL, 5);
	wdt_progress_update(NULL, 5);
	wdt_progress_finish(NULL);
	wdt_progress_abort(NULL);
}

static void abort_erases(void **state)
{
	int fd[2];
	char buf[512];

	(void)state;
	assert_int_equal(pipe(fd), 0);
	struct wdt_progress *p = wdt_progress_new_fd(fd[1], NULL, 1000);
	wdt_progress_update(p, 10);
	wdt_progress_abort(p);
	close(fd[1]);
	ssize_t n = read(fd[0], buf, sizeof(buf) - 1);
	close(fd[0]);
	buf[n] = '\0';
	/* the line, then \r + blanks + \r, no newline */
	char *second = strchr(buf + 1, '\r');
	assert_non_null(second);
	assert_int_equal(buf[n - 1], '\r');
	assert_null(strchr(buf, '\n'));
	for (char *c = second + 1; c < buf + n - 1; c++)
		assert_int_equal(*c, ' ');
	assert_int_equal(buf + n - 1 - (second + 1), second - buf - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sizes),
	    cmocka_unit_test(format_line),
	    cmocka_unit_test(draws_rate_limited_and_ends_line),
	    cmocka_unit_test(quiet_or_not_a_terminal_draws_nothing),
	    cmocka_unit_test(abort_erases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
