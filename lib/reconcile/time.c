/* Date-times and durations as Kubernetes (RFC 3339) and ONTAP (ISO 8601) write them. */
#include "mirrorgate/reconcile/reconcile.h"

#include <ctype.h>
#include <stdio.h>
#include <time.h>

#include "mirrorgate/util/err.h"

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

int mg_time_parse(int64_t *out, const char *s)
{
	int64_t ms;
	int rc = mg_time_parse_ms(&ms, s);
	if (rc == 0)
		*out = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	return rc;
}

int mg_time_parse_ms(int64_t *out, const char *s)
{
	if (!s)
		return MG_EPARSE;
	const char *p = s;
	int y, mo, d, h, mi, se;
	if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) || !expect(&p, '-') ||
	    !digits(&p, 2, &d) || !(expect(&p, 'T') || expect(&p, 't') || expect(&p, ' ')) ||
	    !digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi) || !expect(&p, ':') ||
	    !digits(&p, 2, &se))
		return MG_EPARSE;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return MG_EPARSE;
	int frac_ms = 0;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return MG_EPARSE;
		for (int scale = 100; isdigit((unsigned char)*p); p++, scale /= 10)
			frac_ms += (*p - '0') * scale;
	}
	int offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om) || oh > 23 ||
		    om > 59)
			return MG_EPARSE;
		offset = sign * (oh * 3600 + om * 60);
	} else {
		return MG_EPARSE;
	}
	if (*p)
		return MG_EPARSE;
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	time_t t = timegm(&tm);
	*out = ((int64_t)t - offset) * 1000 + frac_ms;
	return 0;
}

void mg_time_format(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		if (len)
			buf[0] = '\0';
	}
}

int mg_duration_parse(int64_t *out, const char *s)
{
	if (!s || *s != 'P')
		return MG_EPARSE;
	const char *p = s + 1;
	bool in_time = false, any = false;
	int64_t total = 0;
	while (*p) {
		if (*p == 'T') {
			if (in_time)
				return MG_EPARSE;
			in_time = true;
			p++;
			continue;
		}
		if (!isdigit((unsigned char)*p))
			return MG_EPARSE;
		int64_t v = 0;
		while (isdigit((unsigned char)*p)) {
			if (v > 100000000000LL)
				return MG_EPARSE;
			v = v * 10 + (*p - '0');
			p++;
		}
		int64_t unit;
		switch (*p) {
		case 'D': unit = in_time ? -1 : 86400; break;
		case 'W': unit = in_time ? -1 : 7 * 86400; break;
		case 'H': unit = in_time ? 3600 : -1; break;
		case 'M': unit = in_time ? 60 : -1; break; /* months are not durations ONTAP uses */
		case 'S': unit = in_time ? 1 : -1; break;
		default: return MG_EPARSE;
		}
		if (unit < 0)
			return MG_EPARSE;
		total += v * unit;
		any = true;
		p++;
	}
	if (!any)
		return MG_EPARSE;
	*out = total;
	return 0;
}
