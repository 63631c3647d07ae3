/* kube-sim's answers, as the API server writes them: metav1.Status bodies with the reason for
 * each code, JSON bodies, Warning headers, and Go's plain-text 404 for unserved paths. The
 * server, the API handlers, discovery and the watch stream all answer through these, so they
 * sit beneath all of them (nothing here calls back into a handler). */
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksim.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"

const char *ksim_query(const ksim_req *rq, const char *key)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *ksim_reason_for(int code)
{
	switch (code) {
	case 400:
		return "BadRequest";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "NotFound";
	case 405:
		return "MethodNotAllowed";
	case 409:
		return "Conflict";
	case 410:
		return "Expired";
	case 413:
		return "RequestEntityTooLarge";
	case 415:
		return "UnsupportedMediaType";
	case 422:
		return "Invalid";
	case 429:
		return "TooManyRequests";
	case 504:
		return "Timeout";
	default:
		return code >= 500 ? "InternalError" : "";
	}
}

void ksim_resp_json(ksim_resp *rs, int code, cJSON *j)
{
	free(rs->body);
	rs->body = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	rs->code = rs->body ? code : 500;
}

void ksim_resp_status(ksim_resp *rs, int code, const char *reason, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON *s = cJSON_CreateObject();
	if (!s) {
		rs->code = 500;
		return;
	}
	cJSON_AddStringToObject(s, "kind", "Status");
	cJSON_AddStringToObject(s, "apiVersion", "v1");
	cJSON_AddObjectToObject(s, "metadata");
	cJSON_AddStringToObject(s, "status", code < 400 ? "Success" : "Failure");
	cJSON_AddStringToObject(s, "message", msg);
	if (!reason)
		reason = ksim_reason_for(code);
	if (reason && *reason)
		cJSON_AddStringToObject(s, "reason", reason);
	cJSON_AddNumberToObject(s, "code", code);
	ksim_resp_json(rs, code, s);
}

void ksim_resp_page_not_found(ksim_resp *rs)
{
	free(rs->body);
	rs->body = mg_strdup("404 page not found\n");
	rs->code = rs->body ? 404 : 500;
	rs->ctype = "text/plain; charset=utf-8";
}

void ksim_resp_warn(ksim_resp *rs, const char *text)
{
	char *copy = mg_strdup(text);
	char **w = copy ? realloc(rs->warnings, (rs->nwarnings + 1) * sizeof(*w)) : NULL;
	if (!w) {
		free(copy);
		mg_warn("kube-sim: out of memory: a warning for the client was dropped", NULL);
		return;
	}
	rs->warnings = w;
	w[rs->nwarnings++] = copy;
}
