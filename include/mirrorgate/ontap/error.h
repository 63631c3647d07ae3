/* Typed ONTAP errors. ONTAP reports a refusal in three places: an HTTP error body (code is a
 * string), a failed job (code is an integer) and a relationship's unhealthy_reason. The
 * client funnels all of them, plus transport failures and "we cannot know what happened"
 * (purged or timed-out jobs), into this one value so that callers branch on one thing. */
#ifndef MIRRORGATE_ONTAP_ERROR_H
#define MIRRORGATE_ONTAP_ERROR_H

#include <stdbool.h>

#include <cjson/cJSON.h>

enum mg_ontap_err_source {
	MG_ONTAP_SRC_NONE = 0,
	MG_ONTAP_SRC_HTTP,            /* an HTTP error status with (usually) an error body */
	MG_ONTAP_SRC_JOB,             /* a job that ended in state "failure" */
	MG_ONTAP_SRC_TRANSPORT,       /* connect/TLS/timeout/dropped connection: no answer */
	MG_ONTAP_SRC_UNKNOWN_OUTCOME, /* a job vanished (404) or outlived the deadline */
	MG_ONTAP_SRC_CLIENT,          /* the client refused the call or the answer (bad shape) */
};

/* ONTAP error codes the reconciler acts on (strings, as in error bodies). */
#define MG_ONTAP_CODE_ENTRY_DOESNT_EXIST "4"
#define MG_ONTAP_CODE_DUPLICATE_ENTRY "1"
#define MG_ONTAP_CODE_PERMISSION_DENIED "6"
#define MG_ONTAP_CODE_INVALID_FIELDS "262197"
#define MG_ONTAP_CODE_PEER_UNREACHABLE "262224"
#define MG_ONTAP_CODE_RELATIONSHIP_EXISTS "6619637"
#define MG_ONTAP_CODE_MODIFICATION_IN_PROGRESS "6619715"
#define MG_ONTAP_CODE_INFO_PROPAGATING "6619720"
#define MG_ONTAP_CODE_TRANSFER_IN_PROGRESS "13303812"
#define MG_ONTAP_CODE_BREAK_FAILED "13303808"
#define MG_ONTAP_CODE_UPDATE_FAILED "13303844"
#define MG_ONTAP_CODE_RELEASE_FAILED "13303822"
#define MG_ONTAP_CODE_STATE_UNKNOWN_RETRY "13303816"
#define MG_ONTAP_CODE_INVALID_TRANSITION "13303818"
#define MG_ONTAP_CODE_DP_NOT_INITIALIZED "917536"

#define MG_ONTAP_ERR_MESSAGE_MAX 512

typedef struct mg_ontap_error {
	int rc;                              /* the mg_err the call returned */
	enum mg_ontap_err_source source;
	int http_status;                     /* 0 when no HTTP answer arrived */
	char code[24];                       /* ONTAP code as a decimal string; "" if none */
	char message[MG_ONTAP_ERR_MESSAGE_MAX];
	char target[128];
	char job_uuid[64];                   /* for job and unknown-outcome errors */
} mg_ontap_error;

void mg_ontap_error_clear(mg_ontap_error *err);

/* Fills err from an ONTAP error body ({"error":{"code","message","target"}}); code may be
 * a string or a number. A body that is not an error body leaves a generic message. */
void mg_ontap_error_from_body(mg_ontap_error *err, int http_status, const cJSON *body);
/* Fills err from a job object in state "failure": error{code,message} when present (newer
 * ONTAP), else the integer code and message. */
void mg_ontap_error_from_job(mg_ontap_error *err, const cJSON *job);
/* Sets a formatted error with no ONTAP code (transport, client, unknown outcome). */
void mg_ontap_error_set(mg_ontap_error *err, int rc, enum mg_ontap_err_source source,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The mg_err a given HTTP status / ONTAP code maps to (MG_ENOTFOUND for 404 or code 4, ...). */
int mg_ontap_error_rc(int http_status, const char *code);

bool mg_ontap_err_is(const mg_ontap_error *err, const char *code);
bool mg_ontap_err_is_not_found(const mg_ontap_error *err);
/* "Another transfer is in progress": retry later (13303812, 13303808, 13303844 with that
 * reason). Trident treats it on initialize as "already initializing". */
bool mg_ontap_err_is_transfer_in_progress(const mg_ontap_error *err);
bool mg_ontap_err_is_relationship_exists(const mg_ontap_error *err);
/* Transient "retry after a few minutes" refusals (6619715, 6619720, 13303816, 13303822). */
bool mg_ontap_err_is_modification_in_progress(const mg_ontap_error *err);
bool mg_ontap_err_is_unknown_outcome(const mg_ontap_error *err);
bool mg_ontap_err_is_auth(const mg_ontap_error *err);
bool mg_ontap_err_is_tls(const mg_ontap_error *err);
bool mg_ontap_err_is_transport(const mg_ontap_error *err);
bool mg_ontap_err_is_invalid_fields(const mg_ontap_error *err);
bool mg_ontap_err_is_peer_unreachable(const mg_ontap_error *err);

#endif
