#include "tamu_controller.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kobj.h"
#include "rmetrics.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/core/model.h"
#include "mirrorgate/reconcile/reconcile.h"
#include "mirrorgate/reconcile/tamu.h"
#include "volume_ref.h"

static int set_str(cJSON *obj, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	if (!value || !*value)
		return 0; /* omitempty, as Trident's fields */
	return cJSON_AddStringToObject(obj, key, value) ? 0 : MG_ENOMEM;
}

/* One plain update of the TAMU: status fields (NULL leaves a field as it is) and our
 * finalizer present or not. */
typedef struct tamu_write {
	const char *state, *message, *local, *remote, *snapshot, *previous, *completion;
	/* MG_ANN_TAMU_PRIOR_TRANSFER: set when ONTAP accepted our update (NULL: as it is) */
	const char *prior_transfer;
	bool finalizer;
} tamu_write;

/* Present once ONTAP accepted this TAMU's update: the relationship's transfer.uuid just
 * before it ("none" when it had none). A transfer with that uuid is not ours. */
#define MG_ANN_TAMU_PRIOR_TRANSFER "mirrorgate.io/update-prior-transfer"

static const char *annotation(const cJSON *obj, const char *key)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *a = cJSON_IsObject(md) ? cJSON_GetObjectItemCaseSensitive(md, "annotations")
					    : NULL;
	const cJSON *v = cJSON_IsObject(a) ? cJSON_GetObjectItemCaseSensitive(a, key) : NULL;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int set_annotation(cJSON *obj, const char *key, const char *value)
{
	cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	if (!cJSON_IsObject(md))
		return MG_EINVAL;
	cJSON *a = cJSON_GetObjectItemCaseSensitive(md, "annotations");
	if (!cJSON_IsObject(a)) {
		cJSON_DeleteItemFromObjectCaseSensitive(md, "annotations");
		a = cJSON_AddObjectToObject(md, "annotations");
		if (!a)
			return MG_ENOMEM;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(a, key);
	return cJSON_AddStringToObject(a, key, value) ? 0 : MG_ENOMEM;
}

/* updated (may be NULL) receives the object as written, for a later write. */
static int write_tamu(cJSON **updated, const mg_rctx *c, const cJSON *obj, const tamu_write *w)
{
	if (updated)
		*updated = NULL;
	if (!mg_rctx_may_act(c))
		return MG_EAUTH;
	int rc = MG_ENOMEM;
	cJSON *copy = cJSON_Duplicate(obj, true);
	if (!copy)
		return MG_ENOMEM;
	cJSON *st = cJSON_GetObjectItemCaseSensitive(copy, "status");
	if (!cJSON_IsObject(st)) {
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "status");
		st = cJSON_AddObjectToObject(copy, "status");
		if (!st)
			goto out;
	}
	const struct {
		const char *key, *value;
	} f[] = {{"state", w->state},
		 {"message", w->message},
		 {"localVolumeHandle", w->local},
		 {"remoteVolumeHandle", w->remote},
		 {"snapshotHandle", w->snapshot},
		 {"previousTransferTime", w->previous},
		 {"completionTime", w->completion}};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].value && set_str(st, f[i].key, f[i].value) != 0)
			goto out;
	if (w->prior_transfer && set_annotation(copy, MG_ANN_TAMU_PRIOR_TRANSFER,
						w->prior_transfer) != 0)
		goto out;
	cJSON *md = cJSON_GetObjectItemCaseSensitive(copy, "metadata");
	cJSON *fins = cJSON_GetObjectItemCaseSensitive(md, "finalizers");
	if (!cJSON_IsArray(fins)) {
		cJSON_DeleteItemFromObjectCaseSensitive(md, "finalizers");
		fins = cJSON_AddArrayToObject(md, "finalizers");
		if (!fins)
			goto out;
	}
	for (int i = cJSON_GetArraySize(fins) - 1; i >= 0; i--) {
		cJSON *it = cJSON_GetArrayItem(fins, i);
		if (cJSON_IsString(it) && strcmp(it->valuestring, MG_TAMU_FINALIZER) == 0)
			cJSON_DeleteItemFromArray(fins, i);
	}
	if (w->finalizer) {
		cJSON *s = cJSON_CreateString(MG_TAMU_FINALIZER);
		if (!s)
			goto out;
		cJSON_AddItemToArray(fins, s);
	}
	mg_k8s_status kst;
	rc = mg_k8s_update(updated, c->kube, &mg_k8s_res_tamu, mg_kobj_str(obj, "metadata", "namespace"),
			   copy, &kst);
	mg_kobj_wrote(c, &mg_k8s_res_tamu, obj);
	if (rc == MG_ENOTFOUND && !w->finalizer)
		rc = 0;
out:
	cJSON_Delete(copy);
	return rc;
}

static int finish(const mg_rctx *c, const cJSON *obj, bool ok, const char *message,
		  mg_rec_result *res)
{
	char now[40];
	mg_rctx_now_rfc3339(c, now, sizeof(now));
	tamu_write w = {.state = ok ? MG_TAMU_SUCCEEDED : MG_TAMU_FAILED,
			.message = ok ? "" : message,
			.completion = now,
			.finalizer = false};
	int rc = write_tamu(NULL, c, obj, &w);
	if (rc != 0) {
		mg_rec_retry(res, "TAMU status write: %s", mg_strerror(rc));
		return 0;
	}
	mg_info("TAMU finished", "tamu", mg_kobj_str(obj, "metadata", "name"), "state", w.state,
		"message", w.message, NULL);
	res->outcome = MG_REC_FORGET;
	return 0;
}

/* One step of an In-progress TAMU on a fresh read of its relationship: wait while any
 * transfer runs, send our update once nothing does, finish when a transfer that started
 * after our accepted request has ended (mg_tamu_progress_next). */
static int advance(const mg_rctx *c, const cJSON *obj, const mg_mirror_target *t,
		   const mg_ontap_relationship *rel, const char *snap, mg_rec_result *res)
{
	const char *name = mg_kobj_str(obj, "metadata", "name");
	const char *prior = annotation(obj, MG_ANN_TAMU_PRIOR_TRANSFER);
	mg_tamu_progress p = {.rel = rel,
			      .previous_transfer_time = mg_kobj_str(obj, "status",
								    "previousTransferTime"),
			      .requested = prior != NULL,
			      .prior_transfer_uuid = prior && strcmp(prior, "none") != 0 ? prior
											  : "",
			      .snapshot = snap};
	mg_ontap_error err;
	if (snap && rel &&
	    mg_mirror_snapshot_present(t, snap, &p.snapshot_present, &err) != 0) {
		mg_rec_retry(res, "read destination snapshot: %s", err.message);
		return 0;
	}
	char msg[768], end[64];
	enum mg_tamu_action a = mg_tamu_progress_next(&p, msg, sizeof(msg), end, sizeof(end));
	if (a == MG_TAMU_WAIT) {
		mg_rec_retry(res, p.requested ? "transfer running"
					      : "another transfer is in progress; the update is "
						"sent when it ends");
		return 0;
	}
	if (a != MG_TAMU_SEND)
		return finish(c, obj, a == MG_TAMU_SUCCEED, msg, res);
	if (!mg_rctx_may_act(c)) {
		mg_rec_retry(res, "not the leader");
		return 0;
	}
	int rc = mg_ontap_transfer_start(t->backend->ontap, rel->uuid, snap, NULL, &err);
	const char *ml[] = {"operation", "update", "outcome",
			    rc == 0 ? "success" : mg_mirror_err_transient(&err) ? "retry" : "error",
			    NULL};
	mg_rmetrics_inc(c->metrics, "mirrorgate_ontap_calls_total", ml, 1);
	if (rc != 0) {
		if (mg_mirror_err_transient(&err)) {
			/* "Another transfer is in progress": that transfer is not ours; send
			 * again once it has ended */
			mg_rec_retry(res, "transfer start: %s", err.message);
			return 0;
		}
		return finish(c, obj, false, err.message, res);
	}
	/* Accepted: from now on a transfer other than the one the relationship showed
	 * before, ending after the last end time seen before, is ours (or a later one). */
	tamu_write w = {.previous = rel->transfer_end_time,
			.prior_transfer = rel->transfer_uuid[0] ? rel->transfer_uuid : "none",
			.finalizer = true};
	rc = write_tamu(NULL, c, obj, &w);
	if (rc != 0)
		/* the next pass sends again once ours has ended: one transfer too many, no
		 * wrong answer */
		mg_warn("could not record the accepted update", "tamu", name, "error",
			mg_strerror(rc), NULL);
	mg_info("TAMU transfer started", "tamu", name, "destination", t->local_path, "snapshot",
		snap ? snap : "(new)", NULL);
	mg_rec_retry(res, "mirror update started");
	return 0;
}

int mg_tamu_reconcile(const mg_rctx *c, const char *ns, const char *name, mg_rec_result *res)
{
	memset(res, 0, sizeof(*res));
	cJSON *obj = NULL, *tmr_obj = NULL, *written = NULL;
	mg_tamu tamu;
	mg_tmr tmr;
	memset(&tmr, 0, sizeof(tmr));
	mg_field_errors errs = {0};
	mg_k8s_status kst;
	int rc = 0;
	if (!mg_kobj_open(&obj, c, &mg_k8s_res_tamu, ns, name, "TAMU", res))
		goto out;
	rc = mg_tamu_decode(&tamu, obj, &errs);
	if (rc != 0)
		goto out;
	bool has_fin = mg_kobj_has_finalizer(obj, MG_TAMU_FINALIZER);
	if (mg_kobj_deleting(obj)) {
		/* deleting a TAMU cancels nothing on ONTAP; it only lets go */
		if (has_fin) {
			tamu_write w = {.finalizer = false};
			rc = write_tamu(NULL, c, obj, &w);
			if (rc != 0) {
				mg_rec_retry(res, "finalizer removal: %s", mg_strerror(rc));
				rc = 0;
				goto out;
			}
		}
		res->outcome = MG_REC_FORGET;
		goto out;
	}
	if (tamu.tmr_name && *tamu.tmr_name) {
		rc = mg_kobj_get(&tmr_obj, c, &mg_k8s_res_tmr, ns, tamu.tmr_name, &kst);
		if (rc != 0 && rc != MG_ENOTFOUND) {
			mg_rec_retry(res, "read TMR: %s", mg_strerror(rc));
			rc = 0;
			goto out;
		}
		rc = tmr_obj ? mg_tmr_decode(&tmr, tmr_obj, &errs) : 0;
		if (rc != 0)
			goto out;
	}
	mg_tamu_view v = {.tamu = &tamu, .has_finalizer = has_fin,
			  .completed = mg_kobj_str(obj, "status", "completionTime") != NULL,
			  .tmr = tmr_obj ? &tmr : NULL};
	char msg[768];
	enum mg_tamu_action a = mg_tamu_check(&v, msg, sizeof(msg));
	if (a == MG_TAMU_IGNORE) {
		res->outcome = MG_REC_FORGET;
		goto out;
	}
	if (a == MG_TAMU_FAIL) {
		rc = finish(c, obj, false, msg, res);
		goto out;
	}
	/* START and POLL both need the destination relationship */
	mg_mirror_target t;
	enum mg_resolve rs;
	char why[512], handle[256];
	const char *pvc = tmr.has_condition && tmr.condition.local_pvc_name
				  ? tmr.condition.local_pvc_name
				  : (tmr.nmappings ? tmr.mappings[0].local_pvc_name : NULL);
	rc = mg_volume_ref_resolve(c, ns, pvc, &t, &rs, why, sizeof(why), handle, sizeof(handle));
	if (rc != 0 || rs == MG_RESOLVE_DEFER) {
		mg_rec_retry(res, "resolve: %s", why);
		rc = 0;
		goto out;
	}
	if (rs == MG_RESOLVE_ERROR) {
		snprintf(msg, sizeof(msg), "could not find volume '%.200s' in mirrorgate's backends; %.400s",
			 handle, why);
		rc = finish(c, obj, false, msg, res);
		goto out;
	}
	const char *remote = tmr.has_condition && tmr.condition.remote_volume_handle
				     ? tmr.condition.remote_volume_handle
				     : "";
	snprintf(t.remote_path, sizeof(t.remote_path), "%s", remote);
	mg_ontap_relationship rel;
	bool found;
	mg_ontap_error err;
	if (mg_mirror_read(&t, &rel, &found, &err) != 0) {
		mg_rec_retry(res, "read relationship: %s", err.message);
		goto out;
	}
	const char *snap = NULL;
	if (!mg_tamu_snapshot_name(tamu.snapshot_handle, &snap)) {
		/* mg_tamu_check failed such a TAMU before it was started; one edited since is
		 * failed here */
		snprintf(msg, sizeof(msg), "invalid snapshot handle %s", tamu.snapshot_handle);
		rc = finish(c, obj, false, msg, res);
		goto out;
	}
	if (a == MG_TAMU_START) {
		if (!found) {
			rc = finish(c, obj, false,
				    "mirror update failed, the SnapMirror relationship does not exist",
				    res);
			goto out;
		}
		if (strcmp(rel.policy_type, "sync") == 0) {
			snprintf(msg, sizeof(msg),
				 "mirror update failed: TAMU %s cannot be executed for TMR %s is a "
				 "synchronous relationship",
				 name, tamu.tmr_name);
			rc = finish(c, obj, false, msg, res);
			goto out;
		}
		tamu_write w = {.state = MG_TAMU_IN_PROGRESS,
				.message = "",
				.local = t.local_path,
				.remote = remote,
				.snapshot = tamu.snapshot_handle ? tamu.snapshot_handle : "",
				/* ONTAP's own string, with its fraction: compared to later end
				 * times ("" while a transfer runs: none has ended since) */
				.previous = rel.transfer_end_time,
				.finalizer = true};
		/* tamu's strings point into obj: keep it, continue from what was written */
		rc = write_tamu(&written, c, obj, &w);
		if (rc != 0) {
			mg_rec_retry(res, "TAMU in-progress write: %s", mg_strerror(rc));
			rc = 0;
			goto out;
		}
	}
	rc = advance(c, written ? written : obj, &t, found ? &rel : NULL, snap, res);
out:
	cJSON_Delete(written);
	mg_fe_clear(&errs);
	mg_tmr_free(&tmr);
	cJSON_Delete(tmr_obj);
	cJSON_Delete(obj);
	return rc;
}
