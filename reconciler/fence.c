#include "fence.h"

#define MIN_TIMEOUT_MS 1000

void mg_fence_set_leader(mg_fence *f, mg_leader *l)
{
	atomic_store(&f->leader, l);
}

bool mg_fence_may_write(void *ctx, long needed_ms)
{
	mg_fence *f = ctx;
	mg_leader *l = f ? atomic_load(&f->leader) : NULL;
	if (!l)
		return true;
	return needed_ms >= 0 && mg_leader_time_left_ms(l) > (uint64_t)needed_ms;
}

long mg_fence_write_timeout_ms(long configured, uint64_t renew_deadline_ms,
			       uint64_t retry_period_ms)
{
	/* A tenth of the renew deadline for a renewal that comes a little late (1 s by
	 * default; short test timings keep a usable timeout). */
	uint64_t margin = renew_deadline_ms / 10;
	long cap = MIN_TIMEOUT_MS;
	if (renew_deadline_ms > retry_period_ms + margin + MIN_TIMEOUT_MS)
		cap = (long)(renew_deadline_ms - retry_period_ms - margin);
	return configured > 0 && configured < cap ? configured : cap;
}
