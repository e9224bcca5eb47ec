/* SPDX-License-Identifier: MIT */
/* core/workers.c: thread counts and the lowest failing unit's error. */
#include "testutil.h"

#include <pthread.h>
#include <unistd.h>

#include "core/workers.h"

static void counts(void **state)
{
	(void)state;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	assert_int_equal(wdt_workers_count(4, 100), 4);
	assert_int_equal(wdt_workers_count(4, 3), 3); /* no idle threads */
	assert_int_equal(wdt_workers_count(4, 0), 1); /* at least one */
	assert_int_equal(wdt_workers_count(0, 1000), cpus > 0 ? cpus : 1);
	assert_int_equal(wdt_workers_count(0, 1), 1);
}

struct job {
	struct wdt_first_err *f;
	uint64_t unit;
};

static void *fail_unit(void *arg)
{
	struct job *j = arg;
	struct wdt_err e;

	wdt_err_set(&e, WDT_CORRUPT, "unit %llu is bad",
		    (unsigned long long)j->unit);
	wdt_first_err_set(j->f, j->unit, &e);
	return NULL;
}

/* Whatever order the failures arrive in, the lowest unit's error wins. */
static void lowest_unit_wins(void **state)
{
	(void)state;
	static const uint64_t units[] = {900, 17, 400, 5, 63, 5000, 6, 70};
	enum { N = sizeof(units) / sizeof(units[0]) };
	struct wdt_first_err f;
	struct wdt_err err;
	struct job jobs[N];
	pthread_t th[N];

	wdt_first_err_init(&f);
	assert_false(wdt_first_err_any(&f));
	/* in sequence: a later, higher unit does not replace a lower one */
	jobs[0] = (struct job){&f, 40};
	fail_unit(&jobs[0]);
	jobs[0] = (struct job){&f, 41};
	fail_unit(&jobs[0]);
	assert_true(wdt_first_err_any(&f));
	/* on threads */
	for (size_t i = 0; i < N; i++) {
		jobs[i] = (struct job){&f, units[i]};
		assert_int_equal(
		    pthread_create(&th[i], NULL, fail_unit, &jobs[i]), 0);
	}
	for (size_t i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	wdt_err_clear(&err);
	assert_int_equal(wdt_first_err_finish(&f, &err), -1);
	assert_err(&err, WDT_CORRUPT, "unit 5 is bad");
}

static void none_failed(void **state)
{
	(void)state;
	struct wdt_first_err f;
	struct wdt_err err;

	wdt_first_err_init(&f);
	wdt_err_clear(&err);
	assert_int_equal(wdt_first_err_finish(&f, &err), 0);
	assert_int_equal(err.status, WDT_OK);
	wdt_first_err_init(&f);
	assert_int_equal(wdt_first_err_finish(&f, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(counts),
	    cmocka_unit_test(lowest_unit_wins),
	    cmocka_unit_test(none_failed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
