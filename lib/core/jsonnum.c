#include "mirrorgate/core/jsonnum.h"

#include <limits.h>
#include <math.h>

bool mg_json_int_in(const cJSON *n, long long min, long long max, long long *out)
{
	if (!cJSON_IsNumber(n))
		return false;
	double d = n->valuedouble;
	/* 2^63 is exactly representable; LLONG_MAX is not (it rounds up to 2^63), so the upper
	 * bound is a strict comparison with 2^63. NaN fails both comparisons. */
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return false;
	if (d != trunc(d))
		return false;
	long long v = (long long)d;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

long long mg_json_ll_or(const cJSON *n, long long dflt)
{
	long long v = dflt;
	return mg_json_int_in(n, LLONG_MIN, LLONG_MAX, &v) ? v : dflt;
}
