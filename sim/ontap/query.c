/* ONTAP query conventions: fields= projection and validation, filters with * | ! < >,
 * max_records paging with an opaque start.uuid cursor in _links.next. */
#include "http.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/strbuf.h"

static const char *const k_reserved[] = {
	"fields", "max_records", "return_records", "return_timeout", "order_by", "start.uuid",
	"list_destinations_only", "ignore_unknown_fields", "force", "destination_only",
	"source_only", "source_info_only", "validate_only", "failover", "failback",
};

static bool reserved(const char *key)
{
	for (size_t i = 0; i < sizeof(k_reserved) / sizeof(k_reserved[0]); i++)
		if (strcmp(key, k_reserved[i]) == 0)
			return true;
	return false;
}

const char *sim_qarg(const sim_req *rq, const char *key)
{
	for (size_t i = 0; i < rq->nargs; i++)
		if (strcmp(rq->args[i].key, key) == 0)
			return rq->args[i].value ? rq->args[i].value : "";
	return NULL;
}

bool sim_arg_true(const sim_req *rq, const char *key)
{
	const char *v = sim_qarg(rq, key);
	return v && strcmp(v, "true") == 0;
}

void sim_resp_error(sim_resp *rs, int status, const char *code, const char *message,
		    const char *target)
{
	cJSON_Delete(rs->body);
	rs->status = status;
	rs->body = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(rs->body, "error");
	cJSON_AddStringToObject(e, "message", message);
	if (code && *code)
		cJSON_AddStringToObject(e, "code", code);
	if (target && *target)
		cJSON_AddStringToObject(e, "target", target);
}

void sim_resp_err(sim_resp *rs, const sim_err *e)
{
	sim_resp_error(rs, e->status ? e->status : 400, e->code, e->message, e->target);
}

static void resp_job_uuid(sim_resp *rs, const char *uuid)
{
	cJSON_Delete(rs->body);
	rs->status = 202;
	rs->body = cJSON_CreateObject();
	cJSON *job = cJSON_AddObjectToObject(rs->body, "job");
	cJSON_AddStringToObject(job, "uuid", uuid);
	cJSON *links = cJSON_AddObjectToObject(job, "_links");
	cJSON *self = cJSON_AddObjectToObject(links, "self");
	char href[SIM_MSG];
	snprintf(href, sizeof(href), "/api/cluster/jobs/%s", uuid);
	cJSON_AddStringToObject(self, "href", href);
}

void sim_resp_job(sim_resp *rs, const sim_job *j)
{
	resp_job_uuid(rs, j->uuid);
}

static bool job_done(const sim_job *j)
{
	return strcmp(j->state, "success") == 0 || strcmp(j->state, "failure") == 0;
}

static void nap(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

void sim_resp_job_wait(sim_req *rq, sim_resp *rs, sim_job *j, int done_status)
{
	sim_fabric *f = rq->f;
	const char *rt = sim_qarg(rq, "return_timeout");
	long secs = rt ? strtol(rt, NULL, 10) : 0; /* validated by http.c */
	char uuid[SIM_UUID];
	snprintf(uuid, sizeof(uuid), "%s", j->uuid);
	int64_t waited = 0;
	sim_job *cur = j;
	/* ONTAP waits up to return_timeout seconds and answers 200/201 (still with the job) when
	 * the job finished; virtual time moves while it waits, real time in real-time mode. */
	while (cur && !job_done(cur) && waited < secs * 1000) {
		int64_t step = secs * 1000 - waited < 100 ? secs * 1000 - waited : 100;
		if (f->realtime) {
			pthread_mutex_unlock(&f->lock);
			nap(step);
			pthread_mutex_lock(&f->lock);
		} else {
			sim_clock_advance(f, step);
		}
		waited += step;
		cur = sim_job_find(f, uuid);
	}
	if (!cur || !job_done(cur)) {
		/* Not done in time (or purged meanwhile): the usual 202 naming the job. */
		resp_job_uuid(rs, uuid);
		return;
	}
	if (strcmp(cur->state, "failure") == 0) {
		char code[32];
		snprintf(code, sizeof(code), "%lld", cur->code);
		sim_resp_error(rs, 400, code, cur->message, NULL);
		return;
	}
	sim_resp_job(rs, cur);
	rs->status = done_status;
}

static const cJSON *at(const cJSON *o, const char *path)
{
	char seg[SIM_NAME];
	const char *p = path;
	while (o && p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, p, n);
		seg[n] = '\0';
		o = cJSON_GetObjectItemCaseSensitive(o, seg);
		p = dot ? dot + 1 : NULL;
	}
	return o;
}

/* Copies the value at a dotted path into `out`, creating the intermediate objects. */
static void copy_path(cJSON *out, const cJSON *full, const char *path)
{
	const cJSON *v = at(full, path);
	if (!v)
		return;
	char seg[SIM_NAME];
	const char *p = path;
	cJSON *dst = out;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(seg))
			return;
		memcpy(seg, p, n);
		seg[n] = '\0';
		cJSON *child = cJSON_GetObjectItemCaseSensitive(dst, seg);
		if (!dot) {
			if (!child)
				cJSON_AddItemToObject(dst, seg, cJSON_Duplicate(v, 1));
			return;
		}
		if (!child)
			child = cJSON_AddObjectToObject(dst, seg);
		if (!cJSON_IsObject(child))
			return;
		dst = child;
		p = dot + 1;
	}
}

/* NULL when every field is known to this version; else the first unknown one. */
static int check_fields(const sim_req *rq, const char *resource, char *bad, size_t cap)
{
	const char *fields = sim_qarg(rq, "fields");
	if (!fields)
		return 0;
	cJSON *schema = sim_schema(resource, rq->cl);
	char *copy = mg_strdup(fields), *save = NULL;
	int rc = 0;
	for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "*") == 0 || strcmp(tok, "**") == 0 || strcmp(tok, "_links") == 0)
			continue;
		if (!at(schema, tok)) {
			snprintf(bad, cap, "%s", tok);
			rc = -1;
			break;
		}
	}
	free(copy);
	cJSON_Delete(schema);
	return rc;
}

static cJSON *project(const sim_req *rq, const cJSON *full, bool collection)
{
	const char *fields = sim_qarg(rq, "fields");
	if ((!fields && !collection) ||
	    (fields && (strstr(fields, "**") || strcmp(fields, "*") == 0)))
		return cJSON_Duplicate(full, 1);
	cJSON *out = cJSON_CreateObject();
	/* Key fields come back whatever was asked, like ONTAP's default projection. */
	copy_path(out, full, "uuid");
	copy_path(out, full, "name");
	char *copy = fields ? mg_strdup(fields) : NULL, *save = NULL;
	for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save))
		copy_path(out, full, tok);
	free(copy);
	copy_path(out, full, "_links");
	return out;
}

static void value_text(const cJSON *v, char *out, size_t cap)
{
	if (cJSON_IsString(v))
		snprintf(out, cap, "%s", v->valuestring);
	else if (cJSON_IsNumber(v))
		snprintf(out, cap, "%.0f", v->valuedouble);
	else if (cJSON_IsBool(v))
		snprintf(out, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else
		snprintf(out, cap, "%s", "");
}

static bool match_one(const cJSON *v, const char *pat)
{
	bool neg = pat[0] == '!';
	if (neg)
		pat++;
	bool m;
	if (strcmp(pat, "null") == 0) {
		m = !v || cJSON_IsNull(v);
	} else if (!v) {
		m = false;
	} else if (pat[0] == '<' || pat[0] == '>') {
		bool eq = pat[1] == '=';
		const char *num = pat + (eq ? 2 : 1);
		char *end;
		double want = strtod(num, &end);
		if (!cJSON_IsNumber(v) || end == num) {
			char text[SIM_NAME];
			value_text(v, text, sizeof(text));
			int c = strcmp(text, num);
			m = pat[0] == '<' ? (c < 0 || (eq && c == 0)) : (c > 0 || (eq && c == 0));
		} else {
			double have = v->valuedouble;
			m = pat[0] == '<' ? (have < want || (eq && have == want))
					  : (have > want || (eq && have == want));
		}
	} else {
		char text[SIM_NAME];
		value_text(v, text, sizeof(text));
		m = fnmatch(pat, text, 0) == 0;
	}
	return neg ? !m : m;
}

static bool matches(const sim_req *rq, const cJSON *full)
{
	for (size_t i = 0; i < rq->nargs; i++) {
		if (reserved(rq->args[i].key))
			continue;
		const cJSON *v = at(full, rq->args[i].key);
		char *alts = mg_strdup(rq->args[i].value ? rq->args[i].value : ""), *save = NULL;
		bool any = false;
		for (char *tok = alts ? strtok_r(alts, "|", &save) : NULL; tok && !any;
		     tok = strtok_r(NULL, "|", &save))
			any = match_one(v, tok);
		free(alts);
		if (!any)
			return false;
	}
	return true;
}

static void escape_into(mg_strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-_.~*|!<>:,", *p))
			mg_strbuf_putc(sb, (char)*p);
		else
			mg_strbuf_printf(sb, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
}

static bool bad_query(const sim_req *rq, sim_resp *rs, const char *resource)
{
	char bad[SIM_NAME];
	if (check_fields(rq, resource, bad, sizeof(bad)) != 0) {
		char msg[SIM_MSG];
		snprintf(msg, sizeof(msg), "The value \"%s\" is invalid for field \"fields\" (<field,...>)",
			 bad);
		sim_resp_error(rs, 400, "262197", msg, "fields");
		return true;
	}
	cJSON *schema = sim_schema(resource, rq->cl);
	for (size_t i = 0; i < rq->nargs; i++) {
		if (reserved(rq->args[i].key) || at(schema, rq->args[i].key))
			continue;
		char msg[SIM_MSG];
		snprintf(msg, sizeof(msg), "Unexpected argument \"%s\".", rq->args[i].key);
		sim_resp_error(rs, 400, "262179", msg, rq->args[i].key);
		cJSON_Delete(schema);
		return true;
	}
	cJSON_Delete(schema);
	return false;
}

static bool cheap_mismatch(const sim_req *rq, const sim_coll_src *src, const void *item)
{
	if (!src->field)
		return false;
	for (size_t i = 0; i < rq->nargs; i++) {
		if (reserved(rq->args[i].key))
			continue;
		const char *text = src->field(src->ctx, item, rq->args[i].key);
		if (!text)
			continue;
		cJSON v = {0};
		v.type = cJSON_String;
		v.valuestring = (char *)text;
		char *alts = mg_strdup(rq->args[i].value ? rq->args[i].value : ""), *save = NULL;
		bool any = false;
		for (char *tok = alts ? strtok_r(alts, "|", &save) : NULL; tok && !any;
		     tok = strtok_r(NULL, "|", &save))
			any = match_one(&v, tok);
		free(alts);
		if (!any)
			return true;
	}
	return false;
}

struct array_src {
	const cJSON *cur;
};

static const void *array_item(void *ctx, size_t i)
{
	(void)i;
	struct array_src *a = ctx;
	const cJSON *it = a->cur;
	a->cur = it ? it->next : NULL;
	return it;
}

static cJSON *array_render(void *ctx, const void *item)
{
	(void)ctx;
	return cJSON_Duplicate(item, 1);
}

void sim_respond_collection(const sim_req *rq, sim_resp *rs, const char *resource, cJSON *records)
{
	struct array_src a = {records ? records->child : NULL};
	sim_coll_src src = {(size_t)cJSON_GetArraySize(records), array_item, array_render, NULL, &a};
	sim_respond_collection_src(rq, rs, resource, &src);
	cJSON_Delete(records);
}

void sim_respond_collection_src(const sim_req *rq, sim_resp *rs, const char *resource,
				const sim_coll_src *src)
{
	if (bad_query(rq, rs, resource))
		return;
	long max = 0;
	const char *mr = sim_qarg(rq, "max_records");
	if (mr) {
		char *end;
		max = strtol(mr, &end, 10);
		if (*end || max < 1 || max > 100000) {
			sim_resp_error(rs, 400, "262185", "Invalid value for max_records.", "max_records");
			return;
		}
	}
	const char *start = sim_qarg(rq, "start.uuid");
	bool started = start == NULL, more = false;
	char next_uuid[SIM_UUID] = "";
	cJSON *out = cJSON_CreateArray();
	long n = 0;
	for (size_t i = 0; i < src->n; i++) {
		const void *item = src->item(src->ctx, i);
		if (!item || more || cheap_mismatch(rq, src, item))
			continue; /* items are still walked after the page is full: item() may count */
		cJSON *rec = src->render(src->ctx, item);
		if (!rec)
			continue;
		if (!matches(rq, rec)) {
			cJSON_Delete(rec);
			continue;
		}
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(rec, "uuid");
		const char *uuid = cJSON_IsString(u) ? u->valuestring : "";
		if (!started && strcmp(uuid, start) != 0) {
			cJSON_Delete(rec);
			continue;
		}
		started = true;
		if (max && n == max) {
			snprintf(next_uuid, sizeof(next_uuid), "%s", uuid);
			more = true;
			cJSON_Delete(rec);
			continue;
		}
		cJSON_AddItemToArray(out, project(rq, rec, true));
		cJSON_Delete(rec);
		n++;
	}
	rs->status = 200;
	rs->body = cJSON_CreateObject();
	cJSON_AddItemToObject(rs->body, "records", out);
	cJSON_AddNumberToObject(rs->body, "num_records", (double)n);
	cJSON *links = cJSON_AddObjectToObject(rs->body, "_links");
	mg_strbuf self = MG_STRBUF_INIT;
	mg_strbuf_puts(&self, rq->path);
	for (size_t i = 0; i < rq->nargs; i++) {
		mg_strbuf_puts(&self, i ? "&" : "?");
		escape_into(&self, rq->args[i].key);
		mg_strbuf_putc(&self, '=');
		escape_into(&self, rq->args[i].value ? rq->args[i].value : "");
	}
	cJSON_AddStringToObject(cJSON_AddObjectToObject(links, "self"), "href", self.data);
	if (more) {
		mg_strbuf next = MG_STRBUF_INIT;
		mg_strbuf_puts(&next, rq->path);
		size_t k = 0;
		for (size_t i = 0; i < rq->nargs; i++) {
			if (strcmp(rq->args[i].key, "start.uuid") == 0)
				continue;
			mg_strbuf_puts(&next, k++ ? "&" : "?");
			escape_into(&next, rq->args[i].key);
			mg_strbuf_putc(&next, '=');
			escape_into(&next, rq->args[i].value ? rq->args[i].value : "");
		}
		mg_strbuf_printf(&next, "%sstart.uuid=%s", k ? "&" : "?", next_uuid);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(links, "next"), "href", next.data);
		mg_strbuf_free(&next);
	}
	mg_strbuf_free(&self);
}

void sim_respond_record(const sim_req *rq, sim_resp *rs, const char *resource, cJSON *full)
{
	char bad[SIM_NAME];
	if (check_fields(rq, resource, bad, sizeof(bad)) != 0) {
		char msg[SIM_MSG];
		snprintf(msg, sizeof(msg), "The value \"%s\" is invalid for field \"fields\" (<field,...>)",
			 bad);
		sim_resp_error(rs, 400, "262197", msg, "fields");
		cJSON_Delete(full);
		return;
	}
	rs->status = 200;
	rs->body = project(rq, full, false);
	cJSON_Delete(full);
}
