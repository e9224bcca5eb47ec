/* SPDX-License-Identifier: MIT */
/*
 * Shared by the places that split work into numbered units over threads
 * (kdump bulk reads, the DMP writer's kdump workers): how many threads to
 * start, and which error to report — the one of the lowest-numbered unit
 * that failed, so the message does not depend on scheduling.
 */
#ifndef WDT_CORE_WORKERS_H
#define WDT_CORE_WORKERS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

/*
 * Threads for `units` units when `asked` were requested (0: one per online
 * CPU): never more than the units, at least 1.
 */
unsigned wdt_workers_count(unsigned asked, uint64_t units);

struct wdt_first_err {
	pthread_mutex_t lock;
	atomic_bool failed;
	uint64_t unit; /* lowest failing unit so far */
	struct wdt_err err;
};

void wdt_first_err_init(struct wdt_first_err *f);

/* Unit `unit` failed with e; kept if it is the lowest so far. Thread-safe. */
void wdt_first_err_set(struct wdt_first_err *f, uint64_t unit,
		       const struct wdt_err *e);

/* Whether any unit failed (workers stop taking units then). */
bool wdt_first_err_any(struct wdt_first_err *f);

/*
 * After the workers are joined: release f; -1 with the lowest unit's error
 * in err (may be NULL) if any unit failed, else 0.
 */
int wdt_first_err_finish(struct wdt_first_err *f, struct wdt_err *err);

#endif
