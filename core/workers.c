/* SPDX-License-Identifier: MIT */
#include "core/workers.h"

#include <unistd.h>

unsigned wdt_workers_count(unsigned asked, uint64_t units)
{
	if (asked == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		asked = c > 0 ? (unsigned)c : 1;
	}
	if (asked > units)
		asked = units ? (unsigned)units : 1;
	return asked;
}

void wdt_first_err_init(struct wdt_first_err *f)
{
	pthread_mutex_init(&f->lock, NULL);
	atomic_init(&f->failed, false);
	f->unit = 0;
	wdt_err_clear(&f->err);
}

void wdt_first_err_set(struct wdt_first_err *f, uint64_t unit,
		       const struct wdt_err *e)
{
	pthread_mutex_lock(&f->lock);
	if (!atomic_load(&f->failed) || unit < f->unit) {
		f->unit = unit;
		f->err = *e;
	}
	atomic_store(&f->failed, true);
	pthread_mutex_unlock(&f->lock);
}

bool wdt_first_err_any(struct wdt_first_err *f)
{
	return atomic_load(&f->failed);
}

int wdt_first_err_finish(struct wdt_first_err *f, struct wdt_err *err)
{
	bool failed = atomic_load(&f->failed);

	pthread_mutex_destroy(&f->lock);
	if (!failed)
		return 0;
	if (err)
		*err = f->err;
	return -1;
}
