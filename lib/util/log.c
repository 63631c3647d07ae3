#include "mirrorgate/util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

static enum mg_log_level g_level = MG_LOG_INFO;
static FILE *g_stream;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *level_name(enum mg_log_level level)
{
	switch (level) {
	case MG_LOG_DEBUG: return "debug";
	case MG_LOG_INFO: return "info";
	case MG_LOG_WARN: return "warn";
	case MG_LOG_ERROR: return "error";
	}
	return "info";
}

void mg_log_set_level(enum mg_log_level level) { g_level = level; }
enum mg_log_level mg_log_get_level(void) { return g_level; }
int mg_log_enabled(enum mg_log_level level) { return level >= g_level; }

int mg_log_parse_level(const char *name, enum mg_log_level *out)
{
	static const enum mg_log_level all[] = {MG_LOG_DEBUG, MG_LOG_INFO, MG_LOG_WARN, MG_LOG_ERROR};
	for (size_t i = 0; name && i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(name, level_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	}
	if (name && strcmp(name, "warning") == 0) {
		*out = MG_LOG_WARN;
		return 0;
	}
	return MG_EINVAL;
}

void mg_log_set_stream(FILE *stream)
{
	pthread_mutex_lock(&g_lock);
	g_stream = stream;
	pthread_mutex_unlock(&g_lock);
}

void mg_log(enum mg_log_level level, const char *msg, ...)
{
	if (!mg_log_enabled(level))
		return;
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	char ts[40];
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);

	mg_strbuf sb = MG_STRBUF_INIT;
	mg_strbuf_printf(&sb, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":", ts,
			 now.tv_nsec / 1000000, level_name(level));
	mg_strbuf_put_json_string(&sb, msg ? msg : "");
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		const char *key = va_arg(ap, const char *);
		if (!key)
			break;
		const char *value = va_arg(ap, const char *);
		mg_strbuf_putc(&sb, ',');
		mg_strbuf_put_json_string(&sb, key);
		mg_strbuf_putc(&sb, ':');
		if (value)
			mg_strbuf_put_json_string(&sb, value);
		else
			mg_strbuf_puts(&sb, "null");
	}
	va_end(ap);
	mg_strbuf_puts(&sb, "}\n");
	if (!sb.failed) {
		pthread_mutex_lock(&g_lock);
		FILE *out = g_stream ? g_stream : stderr;
		fwrite(sb.data, 1, sb.len, out);
		fflush(out);
		pthread_mutex_unlock(&g_lock);
	}
	mg_strbuf_free(&sb);
}
