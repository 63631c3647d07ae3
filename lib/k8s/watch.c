/* Watch streams: newline-delimited {"type":..., "object":...} events over one long GET. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mirrorgate/core/jsonnum.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"

#define WATCH_LINE_MAX (16u * 1024 * 1024)

struct watch_ctx {
	CURL *h;
	mg_k8s_watch_fn fn;
	void *ctx;
	atomic_int *stop;
	mg_strbuf line;
	char *last_rv;
	int result;       /* an error found in the stream (ERROR event, bad JSON, oversized) */
	int stopped;      /* the callback asked to stop */
	long code;        /* HTTP status, once known */
	mg_strbuf errbody; /* body of a non-200 answer */
};

static int remember_rv(struct watch_ctx *w, const cJSON *obj)
{
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "resourceVersion");
	if (!cJSON_IsString(rv) || !rv->valuestring[0])
		return 0;
	char *copy = mg_strdup(rv->valuestring);
	if (!copy)
		return MG_ENOMEM;
	free(w->last_rv);
	w->last_rv = copy;
	return 0;
}

/* Handles one complete line; returns non-zero to end the stream. */
static int handle_line(struct watch_ctx *w, const char *data, size_t len)
{
	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == ' '))
		len--;
	if (len == 0)
		return 0;
	cJSON *ev = cJSON_ParseWithLength(data, len);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
	int rc = 0;
	if (!cJSON_IsString(type) || !cJSON_IsObject(obj)) {
		w->result = MG_EPARSE;
		rc = 1;
		goto out;
	}
	if (strcmp(type->valuestring, "ERROR") == 0) {
		/* The API server reports an expired version as an ERROR event carrying a
		 * Status with code 410 on an HTTP 200 stream. */
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
		char *body = cJSON_PrintUnformatted(obj);
		long c = (long)mg_json_ll_or(code, 500);
		w->result = mg_k8s__error_from(c, body, -1, NULL);
		if (w->result == 0)
			w->result = MG_EREMOTE;
		free(body);
		rc = 1;
		goto out;
	}
	if ((w->result = remember_rv(w, obj)) != 0) {
		rc = 1;
		goto out;
	}
	if (w->fn(w->ctx, type->valuestring, obj) != 0) {
		w->stopped = 1;
		rc = 1;
	}
out:
	cJSON_Delete(ev);
	return rc;
}

static size_t watch_write(char *data, size_t size, size_t n, void *userdata)
{
	struct watch_ctx *w = userdata;
	size_t len = size * n;
	if (w->code == 0)
		curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &w->code);
	if (w->code != 200) {
		if (w->errbody.len + len > 65536)
			return len; /* keep the start of an error body only */
		return mg_strbuf_append(&w->errbody, data, len) == 0 ? len : 0;
	}
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		int stop;
		if (w->line.len > 0) {
			if (mg_strbuf_append(&w->line, data + start, i - start) != 0) {
				w->result = MG_ENOMEM;
				return 0;
			}
			stop = handle_line(w, w->line.data, w->line.len);
			mg_strbuf_reset(&w->line);
		} else {
			stop = handle_line(w, data + start, i - start);
		}
		start = i + 1;
		if (stop)
			return 0;
	}
	if (start < len) {
		if (w->line.len + (len - start) > WATCH_LINE_MAX) {
			w->result = MG_ETOOBIG;
			return 0;
		}
		if (mg_strbuf_append(&w->line, data + start, len - start) != 0) {
			w->result = MG_ENOMEM;
			return 0;
		}
	}
	return len;
}

static int watch_progress(void *userdata, curl_off_t dt, curl_off_t dn, curl_off_t ut,
			  curl_off_t un)
{
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	struct watch_ctx *w = userdata;
	return w->stop && atomic_load(w->stop) ? 1 : 0;
}

int mg_k8s_watch(mg_k8s_client *c, const mg_k8s_resource *r, const char *ns,
		 const mg_k8s_watch_opts *opts, mg_k8s_watch_fn fn, void *ctx, char **last_rv,
		 mg_k8s_status *st)
{
	int rc;
	char *path = NULL;
	mg_strbuf q = MG_STRBUF_INIT;
	struct curl_slist *headers = NULL;
	struct watch_ctx w = {0};
	long retry_after = -1;
	mg_k8s_watch_opts o = {0};
	if (!c || !fn)
		return MG_EINVAL;
	if (opts)
		o = *opts;
	if (st) {
		memset(st, 0, sizeof(*st));
		st->retry_after = -1;
	}
	w.fn = fn;
	w.ctx = ctx;
	w.stop = o.stop;
	w.line = (mg_strbuf)MG_STRBUF_INIT;
	w.errbody = (mg_strbuf)MG_STRBUF_INIT;
	if ((rc = mg_k8s_path(&path, r, ns, NULL, NULL)) != 0)
		return rc;
	char tos[32];
	snprintf(tos, sizeof(tos), "%ld", o.timeout_seconds);
	mg_strbuf_puts(&q, path);
	mg_k8s__query(&q, "watch", "1");
	mg_k8s__query(&q, "resourceVersion", o.resource_version);
	mg_k8s__query(&q, "labelSelector", o.label_selector);
	mg_k8s__query(&q, "fieldSelector", o.field_selector);
	if (o.allow_bookmarks)
		mg_k8s__query(&q, "allowWatchBookmarks", "true");
	if (o.timeout_seconds > 0)
		mg_k8s__query(&q, "timeoutSeconds", tos);
	if (q.failed) {
		rc = MG_ENOMEM;
		goto out;
	}
	if (!(w.h = curl_easy_init())) {
		rc = MG_ENOMEM;
		goto out;
	}
	if ((rc = mg_k8s__setup(c, w.h, q.data, NULL, &headers)) != 0)
		goto out;
	curl_easy_setopt(w.h, CURLOPT_WRITEFUNCTION, watch_write);
	curl_easy_setopt(w.h, CURLOPT_WRITEDATA, &w);
	curl_easy_setopt(w.h, CURLOPT_HEADERFUNCTION, mg_k8s__header_cb);
	curl_easy_setopt(w.h, CURLOPT_HEADERDATA, &retry_after);
	curl_easy_setopt(w.h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(w.h, CURLOPT_XFERINFOFUNCTION, watch_progress);
	curl_easy_setopt(w.h, CURLOPT_XFERINFODATA, &w);
	/* A watch is long-lived; bound it loosely so a silent dead peer is noticed. */
	if (o.timeout_seconds > 0)
		curl_easy_setopt(w.h, CURLOPT_TIMEOUT_MS, (o.timeout_seconds + 30) * 1000L);
	curl_easy_setopt(w.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(w.h, CURLOPT_LOW_SPEED_TIME, 600L);
	CURLcode cc = curl_easy_perform(w.h);
	if (w.code == 0)
		curl_easy_getinfo(w.h, CURLINFO_RESPONSE_CODE, &w.code);
	if (w.code != 0 && w.code != 200) {
		rc = mg_k8s__error_from(w.code, w.errbody.data, retry_after, st);
		if (rc == 0)
			rc = MG_EREMOTE;
	} else if (w.result != 0) {
		rc = w.result;
		if (st && rc == MG_EGONE) {
			st->code = 410;
			snprintf(st->reason, sizeof(st->reason), "Expired");
		}
	} else if (w.stopped || cc == CURLE_OK || cc == CURLE_ABORTED_BY_CALLBACK) {
		rc = 0;
	} else {
		rc = mg_k8s__curl_error(cc, st);
	}
	if (last_rv && w.last_rv) {
		free(*last_rv);
		*last_rv = w.last_rv;
		w.last_rv = NULL;
	}
out:
	free(path);
	mg_strbuf_free(&q);
	mg_strbuf_free(&w.line);
	mg_strbuf_free(&w.errbody);
	free(w.last_rv);
	curl_slist_free_all(headers);
	if (w.h)
		curl_easy_cleanup(w.h);
	return rc;
}
