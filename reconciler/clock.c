#include "clock.h"

#include <time.h>

uint64_t mg_clock_monotonic_ms(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t mg_clock_now(const mg_clock *c)
{
	if (c && c->now_ms)
		return c->now_ms(c->ctx);
	return mg_clock_monotonic_ms(NULL);
}
