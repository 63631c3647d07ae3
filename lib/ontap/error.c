#include "mirrorgate/ontap/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mirrorgate/util/err.h"

void mg_ontap_error_clear(mg_ontap_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* Codes arrive as strings in error bodies and as integers in jobs: normalise to a string. */
static void copy_code(char *dst, size_t cap, const cJSON *code)
{
	if (cJSON_IsString(code))
		copy_str(dst, cap, code->valuestring);
	else if (cJSON_IsNumber(code))
		snprintf(dst, cap, "%.0f", code->valuedouble);
	else
		dst[0] = '\0';
}

int mg_ontap_error_rc(int http_status, const char *code)
{
	if (http_status == 401 || http_status == 403 || (code && strcmp(code, "6") == 0))
		return MG_EAUTH;
	if (http_status == 404 || (code && strcmp(code, MG_ONTAP_CODE_ENTRY_DOESNT_EXIST) == 0))
		return MG_ENOTFOUND;
	if (code && (strcmp(code, MG_ONTAP_CODE_RELATIONSHIP_EXISTS) == 0 ||
		     strcmp(code, MG_ONTAP_CODE_DUPLICATE_ENTRY) == 0))
		return MG_EEXIST;
	if (http_status == 409)
		return MG_ECONFLICT;
	if (http_status == 429)
		return MG_ETHROTTLED;
	return MG_EREMOTE;
}

void mg_ontap_error_from_body(mg_ontap_error *err, int http_status, const cJSON *body)
{
	if (!err)
		return;
	mg_ontap_error_clear(err);
	err->source = MG_ONTAP_SRC_HTTP;
	err->http_status = http_status;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
	if (cJSON_IsObject(e)) {
		copy_code(err->code, sizeof(err->code), cJSON_GetObjectItemCaseSensitive(e, "code"));
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "target");
		copy_str(err->message, sizeof(err->message), cJSON_IsString(m) ? m->valuestring : "");
		copy_str(err->target, sizeof(err->target), cJSON_IsString(t) ? t->valuestring : "");
	}
	if (!err->message[0])
		snprintf(err->message, sizeof(err->message), "HTTP %d without an ONTAP error body",
			 http_status);
	err->rc = mg_ontap_error_rc(http_status, err->code);
}

void mg_ontap_error_from_job(mg_ontap_error *err, const cJSON *job)
{
	if (!err)
		return;
	mg_ontap_error_clear(err);
	err->source = MG_ONTAP_SRC_JOB;
	err->rc = MG_EREMOTE;
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(job, "uuid");
	copy_str(err->job_uuid, sizeof(err->job_uuid), cJSON_IsString(u) ? u->valuestring : "");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(job, "error");
	if (cJSON_IsObject(e)) {
		copy_code(err->code, sizeof(err->code), cJSON_GetObjectItemCaseSensitive(e, "code"));
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "target");
		if (cJSON_IsString(m))
			copy_str(err->message, sizeof(err->message), m->valuestring);
		if (cJSON_IsString(t))
			copy_str(err->target, sizeof(err->target), t->valuestring);
	}
	/* Terraform's note: either representation may be empty, so fill gaps from the other. */
	if (!err->code[0])
		copy_code(err->code, sizeof(err->code), cJSON_GetObjectItemCaseSensitive(job, "code"));
	if (!err->message[0]) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(job, "message");
		copy_str(err->message, sizeof(err->message),
			 cJSON_IsString(m) ? m->valuestring : "job failed without a message");
	}
	int rc = mg_ontap_error_rc(0, err->code);
	if (rc != MG_EREMOTE && rc != MG_EAUTH)
		err->rc = rc;
}

void mg_ontap_error_set(mg_ontap_error *err, int rc, enum mg_ontap_err_source source,
			const char *fmt, ...)
{
	if (!err)
		return;
	int keep_status = err->http_status;
	char job[sizeof(err->job_uuid)];
	memcpy(job, err->job_uuid, sizeof(job));
	mg_ontap_error_clear(err);
	err->rc = rc;
	err->source = source;
	if (source == MG_ONTAP_SRC_UNKNOWN_OUTCOME)
		memcpy(err->job_uuid, job, sizeof(job));
	else if (source == MG_ONTAP_SRC_CLIENT)
		err->http_status = keep_status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

bool mg_ontap_err_is(const mg_ontap_error *err, const char *code)
{
	return err && code && strcmp(err->code, code) == 0;
}

bool mg_ontap_err_is_not_found(const mg_ontap_error *err)
{
	if (!err || err->source == MG_ONTAP_SRC_UNKNOWN_OUTCOME || err->source == MG_ONTAP_SRC_TRANSPORT)
		return false;
	return err->rc == MG_ENOTFOUND || err->http_status == 404 ||
	       mg_ontap_err_is(err, MG_ONTAP_CODE_ENTRY_DOESNT_EXIST);
}

bool mg_ontap_err_is_transfer_in_progress(const mg_ontap_error *err)
{
	if (!err)
		return false;
	if (mg_ontap_err_is(err, MG_ONTAP_CODE_TRANSFER_IN_PROGRESS) ||
	    mg_ontap_err_is(err, MG_ONTAP_CODE_BREAK_FAILED))
		return true;
	/* "Update operation failed" is also used for other reasons: only the busy one counts. */
	return mg_ontap_err_is(err, MG_ONTAP_CODE_UPDATE_FAILED) &&
	       strstr(err->message, "Another transfer is in progress") != NULL;
}

bool mg_ontap_err_is_relationship_exists(const mg_ontap_error *err)
{
	return mg_ontap_err_is(err, MG_ONTAP_CODE_RELATIONSHIP_EXISTS) ||
	       mg_ontap_err_is(err, MG_ONTAP_CODE_DUPLICATE_ENTRY);
}

bool mg_ontap_err_is_modification_in_progress(const mg_ontap_error *err)
{
	return mg_ontap_err_is(err, MG_ONTAP_CODE_MODIFICATION_IN_PROGRESS) ||
	       mg_ontap_err_is(err, MG_ONTAP_CODE_INFO_PROPAGATING) ||
	       mg_ontap_err_is(err, MG_ONTAP_CODE_STATE_UNKNOWN_RETRY) ||
	       mg_ontap_err_is(err, MG_ONTAP_CODE_RELEASE_FAILED);
}

bool mg_ontap_err_is_unknown_outcome(const mg_ontap_error *err)
{
	return err && err->source == MG_ONTAP_SRC_UNKNOWN_OUTCOME;
}

bool mg_ontap_err_is_auth(const mg_ontap_error *err)
{
	return err && (err->http_status == 401 || err->http_status == 403 ||
		       mg_ontap_err_is(err, MG_ONTAP_CODE_PERMISSION_DENIED));
}

bool mg_ontap_err_is_tls(const mg_ontap_error *err)
{
	return err && err->source == MG_ONTAP_SRC_TRANSPORT && err->rc == MG_ETLS;
}

bool mg_ontap_err_is_transport(const mg_ontap_error *err)
{
	return err && err->source == MG_ONTAP_SRC_TRANSPORT;
}

bool mg_ontap_err_is_invalid_fields(const mg_ontap_error *err)
{
	return mg_ontap_err_is(err, MG_ONTAP_CODE_INVALID_FIELDS);
}

bool mg_ontap_err_is_peer_unreachable(const mg_ontap_error *err)
{
	return mg_ontap_err_is(err, MG_ONTAP_CODE_PEER_UNREACHABLE);
}
