/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>

static void set_and_prefix(void **state)
{
	struct wdt_err e;

	(void)state;
	wdt_err_clear(&e);
	assert_int_equal(wdt_err_set(&e, WDT_CORRUPT, "bad %s %d", "x", 7), -1);
	assert_string_equal(e.msg, "bad x 7");
	assert_int_equal(wdt_err_prefix(&e, "kdbg: reading %s", "KPRCB"), -1);
	assert_string_equal(e.msg, "kdbg: reading KPRCB: bad x 7");
	assert_int_equal(e.status, WDT_CORRUPT);
}

static void prefix_truncates_safely(void **state)
{
	struct wdt_err e;
	static char big[WDT_ERR_MSG_MAX + 1000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	wdt_err_set(&e, WDT_IO, "%s", big);
	assert_int_equal(strlen(e.msg), WDT_ERR_MSG_MAX - 1);
	wdt_err_prefix(&e, "ctx");
	assert_int_equal(strlen(e.msg), WDT_ERR_MSG_MAX - 1);
	assert_memory_equal(e.msg, "ctx: aaa", 8);
}

/* A PATH_MAX path and a URL, prefixed twice, arrive whole. */
static void path_and_url_fit(void **state)
{
	struct wdt_err e;
	static char path[4096], want[WDT_ERR_MSG_MAX];

	(void)state;
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	wdt_err_set(&e, WDT_NOT_FOUND, "save https://example.com/a/b/c as %s",
		    path);
	wdt_err_prefix(&e, "KdDebuggerDataBlock");
	wdt_err_prefix(&e, "%s", path);
	snprintf(
	    want, sizeof(want),
	    "%s: KdDebuggerDataBlock: save https://example.com/a/b/c as %s",
	    path, path);
	assert_string_equal(e.msg, want);
	assert_int_equal(e.status, WDT_NOT_FOUND);
}

/* A remedy survives the context outer layers add, not a new error. */
static void remedy_kept_by_prefix_reset_by_set(void **state)
{
	struct wdt_err e;

	(void)state;
	wdt_err_clear(&e);
	assert_int_equal(e.remedy, WDT_REMEDY_NONE);
	assert_int_equal(wdt_err_set(&e, WDT_USAGE, "exists"), -1);
	assert_int_equal(wdt_err_remedy(&e, WDT_REMEDY_OVERWRITE), -1);
	wdt_err_prefix(&e, "out.dmp");
	assert_int_equal(e.remedy, WDT_REMEDY_OVERWRITE);
	assert_string_equal(e.msg, "out.dmp: exists");
	wdt_err_remedy(&e, WDT_REMEDY_COUNT); /* out of range: ignored */
	assert_int_equal(e.remedy, WDT_REMEDY_OVERWRITE);
	wdt_err_set(&e, WDT_IO, "other");
	assert_int_equal(e.remedy, WDT_REMEDY_NONE);
	wdt_err_remedy(&e, WDT_REMEDY_DTB);
	wdt_err_clear(&e);
	assert_int_equal(e.remedy, WDT_REMEDY_NONE);
	assert_int_equal(wdt_err_remedy(NULL, WDT_REMEDY_DTB), -1);
}

static void exit_codes_follow_the_table(void **state)
{
	(void)state;
	assert_int_equal(wdt_status_exit(WDT_OK), 0);
	assert_int_equal(wdt_status_exit(WDT_USAGE), 2);
	assert_int_equal(wdt_status_exit(WDT_CORRUPT), 3);
	assert_int_equal(wdt_status_exit(WDT_TRUNCATED), 3);
	assert_int_equal(wdt_status_exit(WDT_UNKNOWN_FORMAT), 3);
	assert_int_equal(wdt_status_exit(WDT_NO_DATA), 3);
	assert_int_equal(wdt_status_exit(WDT_IO), 4);
	assert_int_equal(wdt_status_exit(WDT_NOMEM), 4);
	assert_int_equal(wdt_status_exit(WDT_OUTPUT), 4);
	assert_int_equal(wdt_status_exit(WDT_INTERNAL), 70);
	assert_int_equal(wdt_status_exit((enum wdt_status)999), 70);
	assert_string_equal(wdt_status_name(WDT_NO_DATA), "no_data");
}

static void errno_maps_status(void **state)
{
	struct wdt_err e;

	(void)state;
	wdt_err_errno(&e, ENOMEM, "alloc");
	assert_int_equal(e.status, WDT_NOMEM);
	wdt_err_errno(&e, EIO, "read at %d", 5);
	assert_err(&e, WDT_IO, "read at 5: ");
	/* A NULL err is allowed and still reports failure. */
	assert_int_equal(wdt_err_set(NULL, WDT_IO, "x"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(set_and_prefix),
	    cmocka_unit_test(prefix_truncates_safely),
	    cmocka_unit_test(path_and_url_fit),
	    cmocka_unit_test(remedy_kept_by_prefix_reset_by_set),
	    cmocka_unit_test(exit_codes_follow_the_table),
	    cmocka_unit_test(errno_maps_status),
	};
	return cmocka_run_group_tests_name("core/err", tests, NULL, NULL);
}
