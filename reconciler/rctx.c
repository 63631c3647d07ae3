#include "rctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/reconcile/reconcile.h"

bool mg_rctx_may_act(const mg_rctx *c)
{
	return !c->may_act || c->may_act(c->may_act_ctx);
}

bool mg_rctx_companion(const mg_rctx *c)
{
	return c->companion || (c->companion_now && c->companion_now(c->may_act_ctx));
}

bool mg_rctx_may_write_trident(const mg_rctx *c, const char *group)
{
	if (group && strcmp(group, "trident.netapp.io") == 0 && mg_rctx_companion(c))
		return false;
	return mg_rctx_may_act(c);
}

bool mg_rctx_may_write_ontap(const mg_rctx *c)
{
	return !mg_rctx_companion(c) && mg_rctx_may_act(c);
}

int64_t mg_rctx_wall_ms(const mg_rctx *c)
{
	if (c->wall_ms)
		return c->wall_ms(c->wall_ctx);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mg_rctx_now_rfc3339(const mg_rctx *c, char *buf, size_t len)
{
	mg_time_format(buf, len, mg_rctx_wall_ms(c) / 1000);
}

void mg_rec_retry(mg_rec_result *res, const char *fmt, ...)
{
	res->outcome = MG_REC_RETRY;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}
