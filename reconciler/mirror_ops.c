#include "mirror_ops.h"

#include <stdio.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/ontap/cluster.h"
#include "mirrorgate/ontap/volume.h"

int mg_mirror_find_backend(const mg_rctx *c, const char *volume, mg_mirror_target *out,
			   mg_ontap_error *err)
{
	int last = MG_ENOTFOUND;
	mg_ontap_error_clear(err);
	for (size_t i = 0; i < c->nbackends; i++) {
		mg_backend *b = &c->backends[i];
		mg_ontap_volume v;
		int rc = mg_ontap_volume_get(b->ontap, b->svm, volume, &v, err);
		if (rc == 0) {
			memset(out, 0, sizeof(*out));
			out->backend = b;
			snprintf(out->volume, sizeof(out->volume), "%s", volume);
			snprintf(out->local_path, sizeof(out->local_path), "%s:%s", b->svm, volume);
			return 0;
		}
		if (rc != MG_ENOTFOUND)
			last = rc; /* an unreachable backend may be the one: not "not found" */
	}
	if (last == MG_ENOTFOUND)
		mg_ontap_error_set(err, MG_ENOTFOUND, MG_ONTAP_SRC_CLIENT,
				   "volume %s is on none of the configured backends", volume);
	return last;
}

int mg_mirror_read(const mg_mirror_target *t, mg_ontap_relationship *rel, bool *found,
		   mg_ontap_error *err)
{
	mg_ontap_relationship_filter f = {t->remote_path[0] ? t->remote_path : NULL,
					  t->local_path, false};
	*found = false;
	int rc = mg_ontap_relationship_get(t->backend->ontap, &f, rel, err);
	if (rc == MG_ENOTFOUND)
		return 0;
	if (rc == 0)
		*found = true;
	return rc;
}

int mg_mirror_snapshot_present(const mg_mirror_target *t, const char *snapshot, bool *present,
			       mg_ontap_error *err)
{
	*present = false;
	mg_ontap_volume v;
	int rc = mg_ontap_volume_get(t->backend->ontap, t->backend->svm, t->volume, &v, err);
	if (rc != 0)
		return rc;
	mg_ontap_snapshot s;
	rc = mg_ontap_snapshot_get(t->backend->ontap, v.uuid, snapshot, &s, err);
	if (rc == MG_ENOTFOUND)
		return 0; /* H1: not arrived yet is an answer, not an error */
	if (rc == 0)
		*present = true;
	return rc;
}

int mg_mirror_policy_type(const mg_mirror_target *t, const char *policy, char *type,
			  size_t len, mg_ontap_error *err)
{
	type[0] = '\0';
	if (!policy || !*policy)
		return 0;
	mg_ontap_policy p;
	int rc = mg_ontap_policy_get(t->backend->ontap, policy, &p, err);
	if (rc == MG_ENOTFOUND)
		return 0;
	if (rc == 0)
		snprintf(type, len, "%s", p.type);
	return rc;
}

static int set_state(const mg_mirror_target *t, const mg_ontap_relationship *rel,
		     const char *state, const char *restore, bool force, mg_ontap_error *err)
{
	mg_ontap_state_change ch = {state, restore, false, force};
	return mg_ontap_relationship_set_state(t->backend->ontap, rel->uuid, &ch, err);
}

int mg_mirror_step(const mg_mirror_target *t, enum mg_step step, const mg_ontap_relationship *rel,
		   const mg_step_args *args, mg_ontap_error *err)
{
	mg_ontap_client *o = t->backend->ontap;
	mg_ontap_error_clear(err);
	if (step != MG_STEP_CREATE && !rel) {
		mg_ontap_error_set(err, MG_EINVAL, MG_ONTAP_SRC_CLIENT, "no relationship for %s",
				   mg_step_name(step));
		return MG_EINVAL;
	}
	int rc;
	switch (step) {
	case MG_STEP_CREATE: {
		mg_ontap_relationship_spec spec = {
			t->remote_path, t->local_path,
			args && args->policy && *args->policy ? args->policy : NULL,
			args && args->schedule && *args->schedule ? args->schedule : NULL};
		rc = mg_ontap_relationship_create(o, &spec, NULL, err);
		/* created by an earlier pass whose answer was lost: the re-read will show it */
		if (rc == MG_EEXIST && mg_ontap_err_is_relationship_exists(err))
			rc = 0;
		return rc;
	}
	case MG_STEP_INITIALIZE:
		rc = mg_ontap_transfer_start(o, rel->uuid, NULL, NULL, err);
		return rc;
	case MG_STEP_RESYNC:
	case MG_STEP_RESUME:
		return set_state(t, rel, "snapmirrored", NULL, false, err);
	case MG_STEP_QUIESCE:
		return set_state(t, rel, "paused", NULL, false, err);
	case MG_STEP_ABORT:
		if (!rel->transfer_uuid[0])
			return 0;
		rc = mg_ontap_transfer_abort(o, rel->uuid, rel->transfer_uuid, false, err);
		return rc == MG_ENOTFOUND ? 0 : rc; /* already finished: nothing to abort */
	case MG_STEP_BREAK:
		return set_state(t, rel, "broken_off", args ? args->restore_to_snapshot : NULL,
				 args && args->force, err);
	case MG_STEP_DELETE_DEST:
		rc = mg_ontap_relationship_delete(o, rel->uuid, MG_ONTAP_DELETE_DESTINATION_ONLY,
						  err);
		return rc == MG_ENOTFOUND ? 0 : rc;
	default:
		mg_ontap_error_set(err, MG_EINVAL, MG_ONTAP_SRC_CLIENT, "step %s performs nothing",
				   mg_step_name(step));
		return MG_EINVAL;
	}
}

bool mg_step_destructive(enum mg_step step)
{
	return step == MG_STEP_BREAK || step == MG_STEP_DELETE_DEST || step == MG_STEP_RESYNC ||
	       step == MG_STEP_ABORT;
}

int mg_mirror_recheck(const mg_mirror_target *t, const mg_ontap_relationship *rel,
		      mg_ontap_error *err)
{
	mg_ontap_relationship now;
	bool found = false;
	int rc = mg_mirror_read(t, &now, &found, err);
	if (rc != 0)
		return rc;
	if (!found || strcmp(now.uuid, rel->uuid) != 0 || strcmp(now.state, rel->state) != 0 ||
	    strcmp(now.transfer_uuid, rel->transfer_uuid) != 0 ||
	    strcmp(now.transfer_state, rel->transfer_state) != 0) {
		mg_ontap_error_set(err, MG_ECONFLICT, MG_ONTAP_SRC_CLIENT,
				   "the relationship changed since it was read (%s, now %s): "
				   "deciding again",
				   rel->state, found ? now.state : "gone");
		return MG_ECONFLICT;
	}
	return 0;
}

bool mg_mirror_err_transient(const mg_ontap_error *err)
{
	/* A write the fence held back, or a re-read that saw a change: nothing was sent;
	 * decide again on the next pass (as the leader, or not at all). */
	if (err->source == MG_ONTAP_SRC_CLIENT && err->rc == MG_ECONFLICT)
		return true;
	if (mg_ontap_err_is_transfer_in_progress(err) ||
	    mg_ontap_err_is_modification_in_progress(err) || mg_ontap_err_is_unknown_outcome(err) ||
	    mg_ontap_err_is_transport(err))
		return true;
	if (err->rc == MG_ETIMEOUT || err->rc == MG_EIO || err->rc == MG_EUNKNOWN ||
	    err->rc == MG_ETHROTTLED)
		return true;
	return err->http_status >= 500;
}

int mg_mirror_release(const mg_mirror_target *t, mg_ontap_error *err)
{
	mg_ontap_relationship_list list = {0};
	int rc = mg_ontap_relationship_list_destinations(t->backend->ontap, t->local_path, &list,
							 err);
	if (rc == MG_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < list.len && rc == 0; i++) {
		rc = mg_ontap_relationship_delete(t->backend->ontap, list.items[i].uuid,
						  MG_ONTAP_DELETE_SOURCE_ONLY, err);
		if (rc == MG_ENOTFOUND)
			rc = 0;
		else if (rc == 0)
			mg_info("released SnapMirror source metadata", "source", t->local_path,
				"destination", list.items[i].destination_path, NULL);
	}
	mg_ontap_relationship_list_free(&list);
	return rc;
}

int mg_mirror_release_stale_reverse(const mg_mirror_target *t, const char *remote,
				    int *released, mg_ontap_error *err)
{
	*released = 0;
	mg_ontap_relationship_list list = {0};
	int rc = mg_ontap_relationship_list_destinations(t->backend->ontap, t->local_path, &list,
							 err);
	if (rc == MG_ENOTFOUND)
		return 0;
	for (size_t i = 0; rc == 0 && i < list.len; i++) {
		if (strcmp(list.items[i].destination_path, remote) != 0)
			continue;
		rc = mg_ontap_relationship_delete(t->backend->ontap, list.items[i].uuid,
						  MG_ONTAP_DELETE_SOURCE_INFO_ONLY, err);
		if (rc == MG_ENOTFOUND) {
			rc = 0;
		} else if (rc == 0) {
			(*released)++;
			mg_info("removed the stale source-side record of the reversed relationship",
				"source", t->local_path, "destination", remote, NULL);
		}
	}
	mg_ontap_relationship_list_free(&list);
	return rc;
}
