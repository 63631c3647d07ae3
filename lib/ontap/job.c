/* ONTAP job polling: capped exponential backoff under an overall deadline. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/ontap/job.h"
#include "mirrorgate/util/strbuf.h"

static int parse_state(const char *s, enum mg_ontap_job_state *out)
{
	static const struct {
		const char *name;
		enum mg_ontap_job_state state;
	} map[] = {{"queued", MG_ONTAP_JOB_QUEUED}, {"running", MG_ONTAP_JOB_RUNNING},
		   {"paused", MG_ONTAP_JOB_PAUSED}, {"success", MG_ONTAP_JOB_SUCCESS},
		   {"failure", MG_ONTAP_JOB_FAILURE}};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(s, map[i].name) == 0) {
			*out = map[i].state;
			return 0;
		}
	return MG_EPARSE;
}

static int job_read(mg_ontap_client *c, const char *uuid, mg_ontap_job *out, cJSON **raw,
		    mg_ontap_error *err)
{
	int rc = MG_ENOMEM;
	cJSON *body = NULL;
	mg_ontap_version v;
	char *esc = NULL, *path = NULL;
	/* job.error exists only after 9.8; asking 9.8 for it fails the whole request. */
	rc = mg_ontap_client_version(c, &v, err);
	if (rc != 0)
		goto out;
	rc = MG_ENOMEM;
	esc = mg_ontap_escape(uuid);
	if (!esc)
		goto out;
	path = mg_asprintf("/api/cluster/jobs/%s?fields=uuid,state,message,code,end_time%s", esc,
			   mg_ontap_version_at_least(&v, 9, 9, 0) ? ",error" : "");
	if (!path)
		goto out;
	int status;
	rc = mg_ontap_request(c, "GET", path, NULL, &status, &body, err);
	if (rc != 0)
		goto out;
	char state[32];
	memset(out, 0, sizeof(*out));
	if (mg_ontap_json_str(state, sizeof(state), body, "state") != 0 ||
	    parse_state(state, &out->state) != 0) {
		rc = MG_EPARSE;
		mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT, "job %s: unknown state", uuid);
		goto out;
	}
	snprintf(out->uuid, sizeof(out->uuid), "%s", uuid);
	out->code = mg_ontap_json_ll(body, "code", 0);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "message");
	snprintf(out->message, sizeof(out->message), "%s", cJSON_IsString(m) ? m->valuestring : "");
	if (raw) {
		*raw = body;
		body = NULL;
	}
	rc = 0;
out:
	cJSON_Delete(body);
	free(esc);
	free(path);
	return rc;
}

int mg_ontap_job_get(mg_ontap_client *c, const char *uuid, mg_ontap_job *out, mg_ontap_error *err)
{
	if (!c || !uuid || !out)
		return mg_ontap_bad_args(err, __func__);
	return job_read(c, uuid, out, NULL, err);
}

int mg_ontap_job_wait(mg_ontap_client *c, const char *uuid, mg_ontap_error *err)
{
	if (!c || !uuid)
		return mg_ontap_bad_args(err, __func__);
	uint64_t start = c->now_ms(c->clock_ctx);
	uint64_t interval = c->job_initial_interval_ms;
	int failed_polls = 0;
	for (;;) {
		mg_ontap_job job = {0};
		cJSON *raw = NULL;
		int rc = job_read(c, uuid, &job, &raw, err);
		if (rc != 0 && rc != MG_ENOTFOUND) {
			/* The job exists and may finish whatever happens to our polling: a few failed
			 * polls are retried, then the outcome is unknown, never "failed". */
			if (++failed_polls > MG_ONTAP_JOB_POLL_RETRIES) {
				char cause[MG_ONTAP_ERR_MESSAGE_MAX];
				if (err && err->http_status)
					snprintf(cause, sizeof(cause), "HTTP %d: %.400s", err->http_status,
						 err->message);
				else
					snprintf(cause, sizeof(cause), "%s", err ? err->message : mg_strerror(rc));
				if (err)
					snprintf(err->job_uuid, sizeof(err->job_uuid), "%s", uuid);
				mg_ontap_error_set(err, MG_EUNKNOWN, MG_ONTAP_SRC_UNKNOWN_OUTCOME,
						   "cannot read job %s (%s); re-read the object it changed",
						   uuid, cause);
				return MG_EUNKNOWN;
			}
			job.state = MG_ONTAP_JOB_RUNNING;
		} else {
			failed_polls = 0;
		}
		if (rc == MG_ENOTFOUND) {
			/* Purged (or never visible): the operation may or may not have happened. */
			if (err)
				snprintf(err->job_uuid, sizeof(err->job_uuid), "%s", uuid);
			mg_ontap_error_set(err, MG_EUNKNOWN, MG_ONTAP_SRC_UNKNOWN_OUTCOME,
					   "job %s disappeared before it was seen to finish; "
					   "re-read the object it changed", uuid);
			return MG_EUNKNOWN;
		}
		if (rc == 0 && job.state == MG_ONTAP_JOB_SUCCESS) {
			cJSON_Delete(raw);
			return 0;
		}
		if (rc == 0 && job.state == MG_ONTAP_JOB_FAILURE) {
			mg_ontap_error_from_job(err, raw);
			if (err)
				snprintf(err->job_uuid, sizeof(err->job_uuid), "%s", uuid);
			cJSON_Delete(raw);
			return err ? err->rc : MG_EREMOTE;
		}
		cJSON_Delete(raw);
		uint64_t now = c->now_ms(c->clock_ctx);
		uint64_t elapsed = now - start;
		if (elapsed >= c->job_deadline_ms) {
			if (err)
				snprintf(err->job_uuid, sizeof(err->job_uuid), "%s", uuid);
			mg_ontap_error_set(err, MG_EUNKNOWN, MG_ONTAP_SRC_UNKNOWN_OUTCOME,
					   "job %s still %s after %llu ms; re-read the object it "
					   "changed", uuid,
					   job.state == MG_ONTAP_JOB_QUEUED ? "queued" : "running",
					   (unsigned long long)elapsed);
			return MG_EUNKNOWN;
		}
		uint64_t wait = interval;
		if (wait > c->job_deadline_ms - elapsed)
			wait = c->job_deadline_ms - elapsed;
		c->sleep_ms(c->clock_ctx, wait);
		interval = interval * 2 > c->job_max_interval_ms ? c->job_max_interval_ms : interval * 2;
	}
}

int mg_ontap_job_wait_response(mg_ontap_client *c, const cJSON *response, mg_ontap_error *err)
{
	char uuid[MG_ONTAP_UUID_MAX];
	const cJSON *job = cJSON_GetObjectItemCaseSensitive(response, "job");
	if (job) {
		if (mg_ontap_json_str(uuid, sizeof(uuid), job, "uuid") != 0 || !uuid[0]) {
			mg_ontap_error_set(err, MG_EPARSE, MG_ONTAP_SRC_CLIENT, "job link without uuid");
			return MG_EPARSE;
		}
		return mg_ontap_job_wait(c, uuid, err);
	}
	const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(response, "jobs");
	const cJSON *j;
	cJSON_ArrayForEach(j, jobs) {
		if (mg_ontap_json_str(uuid, sizeof(uuid), j, "uuid") != 0 || !uuid[0])
			return MG_EPARSE;
		int rc = mg_ontap_job_wait(c, uuid, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int mg_ontap_request_wait(mg_ontap_client *c, const char *method, const char *path,
			  const cJSON *body, mg_ontap_error *err)
{
	int status;
	cJSON *resp = NULL;
	if (!c || !path)
		return mg_ontap_bad_args(err, __func__);
	long rt = (long)c->return_timeout_s;
	if (rt * 1000 > c->timeout_ms / 2)
		rt = c->timeout_ms / 2000;
	char *full = rt > 0 ? mg_asprintf("%s%creturn_timeout=%ld", path,
					  strchr(path, '?') ? '&' : '?', rt)
			    : mg_strdup(path);
	if (!full) {
		mg_ontap_error_set(err, MG_ENOMEM, MG_ONTAP_SRC_CLIENT, "out of memory");
		return MG_ENOMEM;
	}
	int rc = mg_ontap_request(c, method, full, body, &status, &resp, err);
	/* 200/201 under return_timeout: the job finished, and succeeded (a failure comes back
	 * as an error answer); 202: still running, poll it as before. */
	if (rc == 0 && (rt == 0 || status == 202))
		rc = mg_ontap_job_wait_response(c, resp, err);
	free(full);
	cJSON_Delete(resp);
	return rc;
}
