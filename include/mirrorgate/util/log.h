/* Structured logging: one JSON object per line on stderr (ts, level, msg, then key/value
 * pairs). Callers never pass secrets: the logger cannot know what a secret is, so the rule
 * is enforced where values are chosen (see docs/operations.md). */
#ifndef MIRRORGATE_LOG_H
#define MIRRORGATE_LOG_H

#include <stdio.h>

enum mg_log_level { MG_LOG_DEBUG = 0, MG_LOG_INFO = 1, MG_LOG_WARN = 2, MG_LOG_ERROR = 3 };

/* Global settings (the logger is one of the two permitted globals). Defaults: info, stderr. */
void mg_log_set_level(enum mg_log_level level);
enum mg_log_level mg_log_get_level(void);
/* Parses "debug", "info", "warn", "error"; returns MG_EINVAL for anything else. */
int mg_log_parse_level(const char *name, enum mg_log_level *out);
/* Redirects output (tests capture it); NULL restores stderr. The caller keeps ownership. */
void mg_log_set_stream(FILE *stream);
int mg_log_enabled(enum mg_log_level level);

/* mg_log(MG_LOG_INFO, "denied", "uid", uid, "kind", kind, NULL): string key/value pairs,
 * terminated by NULL. A NULL value is written as JSON null. */
void mg_log(enum mg_log_level level, const char *msg, ...);

#define mg_debug(...) mg_log(MG_LOG_DEBUG, __VA_ARGS__)
#define mg_info(...) mg_log(MG_LOG_INFO, __VA_ARGS__)
#define mg_warn(...) mg_log(MG_LOG_WARN, __VA_ARGS__)
#define mg_error(...) mg_log(MG_LOG_ERROR, __VA_ARGS__)

#endif
