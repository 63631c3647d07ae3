#include "fence.h"

#define MARGIN_MS 1000
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
	long cap = MIN_TIMEOUT_MS;
	if (renew_deadline_ms > retry_period_ms + MARGIN_MS + MIN_TIMEOUT_MS)
		cap = (long)(renew_deadline_ms - retry_period_ms - MARGIN_MS);
	return configured > 0 && configured < cap ? configured : cap;
}
