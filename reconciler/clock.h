/* Time for the reconciler's timers, injectable so tests run on a virtual clock. */
#ifndef MG_RECONCILER_CLOCK_H
#define MG_RECONCILER_CLOCK_H

#include <stdint.h>

typedef struct mg_clock {
	uint64_t (*now_ms)(void *ctx); /* monotonic milliseconds */
	void *ctx;
} mg_clock;

/* CLOCK_MONOTONIC. */
uint64_t mg_clock_monotonic_ms(void *ctx);
/* The clock's time, or the monotonic clock when c or c->now_ms is NULL. */
uint64_t mg_clock_now(const mg_clock *c);

#endif
