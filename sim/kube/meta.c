/* The values the API server stamps on a new object: creation timestamps and uids. */
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "ksim.h"
#include "mirrorgate/util/strbuf.h"

void ksim_now(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *ksim_new_uid(ksim_server *srv)
{
	unsigned long long n = atomic_fetch_add(&srv->uid_counter, 1) + 1;
	unsigned long t = (unsigned long)time(NULL);
	return mg_asprintf("%08lx-%04x-4%03x-8%03x-%012llx", t, (unsigned)(n >> 32) & 0xffff,
			   (unsigned)(n >> 20) & 0xfff, (unsigned)(n >> 8) & 0xfff, n);
}
