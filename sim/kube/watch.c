/* Watch streams: newline-delimited JSON events from the store's history, with bookmarks
 * and the API server's "too old resource version" ERROR (410) for expired versions. The
 * content callback blocks (one thread per connection) until there is something to send. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ksim.h"
#include "mirrorgate/util/strbuf.h"

struct wstate {
	ksim_server *srv;
	const ksim_res *res;
	char *ns; /* NULL: all namespaces */
	char *name; /* fieldSelector metadata.name, or NULL */
	mg_label_selector *sel;
	unsigned long long pos; /* last resourceVersion examined */
	bool bookmarks;
	struct timespec deadline, next_bookmark;
	mg_strbuf out;
	size_t off;
	bool ended;
};

static void ts_add_ms(struct timespec *t, long ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static bool ts_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec >= b->tv_nsec);
}

static bool matches(const struct wstate *w, const ksim_res *r, const char *ns, const cJSON *obj)
{
	if (r != w->res || (w->ns && strcmp(ns, w->ns) != 0))
		return false;
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	if (w->name) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(md, "name");
		if (!cJSON_IsString(n) || strcmp(n->valuestring, w->name) != 0)
			return false;
	}
	return mg_label_selector_matches(w->sel, cJSON_GetObjectItemCaseSensitive(md, "labels"));
}

static void emit(struct wstate *w, const char *type, const cJSON *obj)
{
	char *o = cJSON_PrintUnformatted(obj);
	if (!o) {
		w->ended = true;
		return;
	}
	mg_strbuf_printf(&w->out, "{\"type\":\"%s\",\"object\":%s}\n", type, o);
	free(o);
	if (w->out.failed)
		w->ended = true;
}

static void emit_bookmark(struct wstate *w, unsigned long long rv)
{
	char *av = ksim_res_api_version(w->res);
	mg_strbuf_printf(&w->out,
			 "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\","
			 "\"metadata\":{\"resourceVersion\":\"%llu\"}}}\n",
			 w->res->kind, av ? av : "", rv);
	free(av);
}

static void emit_expired(struct wstate *w, unsigned long long asked, unsigned long long now)
{
	mg_strbuf_printf(&w->out,
			 "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
			 "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource "
			 "version: %llu (%llu)\",\"reason\":\"Expired\",\"code\":410}}\n",
			 asked, now);
	w->ended = true;
}

/* Appends what is new since w->pos; caller holds the store lock. */
static void collect(struct wstate *w)
{
	ksim_store *s = &w->srv->store;
	if (w->pos < s->compacted_rv) {
		emit_expired(w, w->pos, s->rv);
		return;
	}
	for (size_t i = 0; i < s->ring_len; i++) {
		const ksim_event *e = &s->ring[(s->ring_start + i) % s->ring_cap];
		if (e->rv <= w->pos)
			continue;
		if (matches(w, e->res, e->ns, e->obj))
			emit(w, e->type, e->obj);
		w->pos = e->rv;
	}
	if (w->pos < s->rv)
		w->pos = s->rv;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct wstate *w = cls;
	ksim_store *s = &w->srv->store;
	for (;;) {
		if (w->off < w->out.len) {
			size_t n = w->out.len - w->off;
			if (n > max)
				n = max;
			memcpy(buf, w->out.data + w->off, n);
			w->off += n;
			if (w->off == w->out.len) {
				mg_strbuf_reset(&w->out);
				w->off = 0;
			}
			return (ssize_t)n;
		}
		if (w->ended || atomic_load(&s->stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ts_after(&now, &w->deadline))
			return MHD_CONTENT_READER_END_OF_STREAM;
		pthread_mutex_lock(&s->lock);
		collect(w);
		if (w->out.len == 0 && !w->ended) {
			if (w->bookmarks && ts_after(&now, &w->next_bookmark)) {
				emit_bookmark(w, s->rv);
				w->next_bookmark = now;
				ts_add_ms(&w->next_bookmark, w->srv->opt.bookmark_ms);
			} else {
				struct timespec until = now;
				ts_add_ms(&until, 200);
				pthread_cond_timedwait(&s->changed, &s->lock, &until);
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
}

static void wstate_free(void *cls)
{
	struct wstate *w = cls;
	if (!w)
		return;
	free(w->ns);
	free(w->name);
	mg_label_selector_free(w->sel);
	mg_strbuf_free(&w->out);
	free(w);
}

void ksim_watch(ksim_req *rq, ksim_resp *rs, const ksim_res *r, const char *ns)
{
	ksim_store *s = &rq->srv->store;
	struct wstate *w = calloc(1, sizeof(*w));
	if (!w) {
		ksim_resp_status(rs, 500, NULL, "out of memory");
		return;
	}
	w->srv = rq->srv;
	w->res = r;
	w->out = (mg_strbuf)MG_STRBUF_INIT;
	if (ns && !(w->ns = mg_strdup(ns)))
		goto oom;
	if (mg_label_selector_parse(&w->sel, ksim_query(rq, "labelSelector")) != 0) {
		ksim_resp_status(rs, 400, NULL, "unable to parse requirement: invalid label selector");
		wstate_free(w);
		return;
	}
	const char *fs = ksim_query(rq, "fieldSelector");
	if (fs && *fs) {
		const char *v = strncmp(fs, "metadata.name==", 15) == 0 ? fs + 15
				: strncmp(fs, "metadata.name=", 14) == 0 ? fs + 14
									  : NULL;
		if (!v || strchr(v, ',')) {
			ksim_resp_status(rs, 400, NULL,
					 "kube-sim watches support only the fieldSelector "
					 "metadata.name=<name>");
			wstate_free(w);
			return;
		}
		if (!(w->name = mg_strdup(v)))
			goto oom;
	}
	const char *bm = ksim_query(rq, "allowWatchBookmarks");
	w->bookmarks = bm && strcmp(bm, "true") == 0;
	long timeout = 1800;
	const char *tos = ksim_query(rq, "timeoutSeconds");
	if (tos) {
		char *end;
		long t = strtol(tos, &end, 10);
		if (*end || t < 0) {
			ksim_resp_status(rs, 400, NULL, "invalid timeoutSeconds \"%s\"", tos);
			wstate_free(w);
			return;
		}
		if (t > 0)
			timeout = t;
	}
	clock_gettime(CLOCK_MONOTONIC, &w->deadline);
	w->next_bookmark = w->deadline;
	ts_add_ms(&w->next_bookmark, rq->srv->opt.bookmark_ms);
	ts_add_ms(&w->deadline, timeout * 1000);
	const char *rv = ksim_query(rq, "resourceVersion");
	pthread_mutex_lock(&s->lock);
	if (!rv || !*rv || strcmp(rv, "0") == 0) {
		/* No version: the current state as synthetic ADDED events, then changes. */
		for (size_t i = 0; i < s->nobjs; i++)
			if (matches(w, s->objs[i].res, s->objs[i].ns, s->objs[i].obj))
				emit(w, "ADDED", s->objs[i].obj);
		w->pos = s->rv;
	} else {
		char *end;
		w->pos = strtoull(rv, &end, 10);
		if (*end) {
			pthread_mutex_unlock(&s->lock);
			ksim_resp_status(rs, 400, NULL, "invalid resourceVersion \"%s\"", rv);
			wstate_free(w);
			return;
		}
		if (w->pos < s->compacted_rv)
			emit_expired(w, w->pos, s->rv);
	}
	pthread_mutex_unlock(&s->lock);
	rs->stream = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, reader, w,
						       wstate_free);
	if (!rs->stream) {
		wstate_free(w);
		ksim_resp_status(rs, 500, NULL, "cannot start watch");
		return;
	}
	MHD_add_response_header(rs->stream, "Content-Type", "application/json");
	rs->code = 200;
	return;
oom:
	wstate_free(w);
	ksim_resp_status(rs, 500, NULL, "out of memory");
}
