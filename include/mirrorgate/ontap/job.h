/* ONTAP asynchronous jobs. A 202 answer carries {"job":{"uuid",...}}; the job is polled at
 * GET /api/cluster/jobs/{uuid} with capped exponential backoff under an overall deadline
 * (mg_ontap_config). ONTAP purges finished jobs after about five minutes, so a 404 while
 * polling, or a job still running at the deadline, means the outcome is unknown: the caller
 * gets MG_EUNKNOWN (mg_ontap_err_is_unknown_outcome) and must re-read the object it changed
 * instead of assuming success or failure. */
#ifndef MIRRORGATE_ONTAP_JOB_H
#define MIRRORGATE_ONTAP_JOB_H

#include "mirrorgate/ontap/client.h"

enum mg_ontap_job_state {
	MG_ONTAP_JOB_QUEUED,
	MG_ONTAP_JOB_RUNNING,
	MG_ONTAP_JOB_PAUSED,
	MG_ONTAP_JOB_SUCCESS,
	MG_ONTAP_JOB_FAILURE,
};

typedef struct mg_ontap_job {
	char uuid[MG_ONTAP_UUID_MAX];
	enum mg_ontap_job_state state;
	long long code;
	char message[MG_ONTAP_ERR_MESSAGE_MAX];
} mg_ontap_job;

/* Consecutive failed polls (transport errors, 5xx) tolerated before the outcome is unknown. */
#define MG_ONTAP_JOB_POLL_RETRIES 3

/* One read of a job. */
int mg_ontap_job_get(mg_ontap_client *c, const char *uuid, mg_ontap_job *out, mg_ontap_error *err);

/* Polls until success (0), failure (MG_EREMOTE or the code's mg_err, err from the job), or
 * MG_EUNKNOWN: purged, still running at the deadline, or unreadable for more than
 * MG_ONTAP_JOB_POLL_RETRIES polls in a row. */
int mg_ontap_job_wait(mg_ontap_client *c, const char *uuid, mg_ontap_error *err);

/* For a 2xx answer of a POST/PATCH/DELETE: waits for the job in it when there is one
 * (with "job" or "jobs"), otherwise returns 0. */
int mg_ontap_job_wait_response(mg_ontap_client *c, const cJSON *response, mg_ontap_error *err);

/* A write (POST/PATCH/DELETE) and, when ONTAP answers with a job, the wait for it: the whole
 * of most write operations. body may be NULL. */
int mg_ontap_request_wait(mg_ontap_client *c, const char *method, const char *path,
			  const cJSON *body, mg_ontap_error *err);

#endif
