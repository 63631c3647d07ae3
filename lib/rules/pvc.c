/* PersistentVolumeClaim rules: the mirror annotation decides at provisioning time whether a
 * volume becomes a read-only DP destination, so it must point at a TMR that will make it one. */
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/core/history.h"
#include "mirrorgate/core/names.h"
#include "mirrorgate/util/strbuf.h"
#include "rules.h"

#define P_ANN "metadata.annotations[" MG_ANN_MIRROR_RELATIONSHIP "]"
#define P_HISTORY "metadata.annotations[" MG_ANN_REPLICATION_HISTORY "]"

static int rule_annotation_target(struct mg_rule_ctx *c, const mg_pvc *pvc)
{
	const char *ann = pvc->mirror_relationship;
	mg_field_errors *e = &c->v->errors;
	if (!*ann)
		return mg_fe_add(e, "PVC-MIRROR-TMR", MG_FE_INVALID, P_ANN, ann,
				 "must name a TridentMirrorRelationship in this namespace");
	const cJSON *obj = mg_lookup_get(c->lk, MG_KIND_TMR, c->ns, ann);
	if (!obj)
		return mg_fe_add(e, "PVC-MIRROR-TMR", MG_FE_NOT_FOUND, P_ANN, ann,
				 "no TridentMirrorRelationship \"%s\" in namespace \"%s\"; create it "
				 "(spec.state established, with a remoteVolumeHandle) before this PVC",
				 ann, c->ns);
	mg_tmr tmr;
	int rc = mg_tmr_decode(&tmr, obj, NULL);
	if (rc < 0)
		return rc;
	const mg_tmr_mapping *m = tmr.nmappings ? &tmr.mappings[0] : NULL;
	rc = 0;
	if (!m || !mg_str_eq(m->local_pvc_name, c->name)) {
		rc = mg_fe_add(e, "PVC-MIRROR-TMR", MG_FE_INVALID, P_ANN, ann,
			       "TridentMirrorRelationship \"%s\" maps localPVCName \"%s\", not this "
			       "PVC", ann, m && m->local_pvc_name ? m->local_pvc_name : "");
	} else if (!mg_state_is_mirror(tmr.state) || !m->remote_volume_handle ||
		   !*m->remote_volume_handle) {
		rc = mg_fe_add(e, "PVC-MIRROR-TMR", MG_FE_INVALID, P_ANN, ann,
			       "TridentMirrorRelationship \"%s\" has spec.state \"%s\"%s; a mirror "
			       "destination needs \"established\" or \"reestablished\" with a "
			       "remoteVolumeHandle, or it stays a read-only DP volume forever",
			       ann, tmr.state ? tmr.state : "",
			       mg_state_is_mirror(tmr.state) ? " and no remoteVolumeHandle" : "");
	}
	mg_tmr_free(&tmr);
	return rc;
}

static int rule_unique(struct mg_rule_ctx *c, const mg_pvc *pvc, bool *mirrored)
{
	size_t count = 0;
	const char *first = NULL;
	int rc = mg_tmrs_naming_pvc(c->lk, c->ns, c->name, &count, &first, NULL);
	if (rc)
		return rc;
	*mirrored = count > 0 || pvc->mirror_relationship;
	if (count > 1)
		return mg_fe_add(&c->v->errors, "PVC-MIRROR-UNIQUE", MG_FE_INVALID, "metadata.name",
				 c->name,
				 "is the localPVCName of more than one TridentMirrorRelationship; a "
				 "PVC can be in only one relationship");
	if (count == 1 && pvc->mirror_relationship && *pvc->mirror_relationship &&
	    strcmp(first, pvc->mirror_relationship) != 0)
		return mg_fe_add(&c->v->errors, "PVC-MIRROR-UNIQUE", MG_FE_INVALID, P_ANN,
				 pvc->mirror_relationship,
				 "TridentMirrorRelationship \"%s\" maps this PVC too; a PVC can be in "
				 "only one relationship", first);
	return 0;
}

struct default_sc {
	const char *name;
};

static int find_default(void *ctx, const cJSON *obj)
{
	struct default_sc *d = ctx;
	mg_storage_class sc;
	int rc = mg_storage_class_decode(&sc, obj, NULL);
	if (rc < 0)
		return rc;
	if (sc.is_default && sc.meta.name) {
		d->name = sc.meta.name;
		return 1;
	}
	return 0;
}

/* Replication needs Trident's CSI driver, replication-capable pools, and a driver that
 * implements SnapMirror (ontap-nas, ontap-san). */
static int rule_storage_class(struct mg_rule_ctx *c, const mg_pvc *pvc)
{
	const char *name = pvc->storage_class_name;
	if (!name) {
		struct default_sc d = {NULL};
		int rc = mg_lookup_each(c->lk, MG_KIND_SC, NULL, find_default, &d);
		if (rc < 0)
			return rc;
		if (!(name = d.name))
			return mg_rule_warn(c, "PVC-STORAGECLASS",
					    "cannot check the StorageClass of mirrored PVC \"%s\": no "
					    "storageClassName and no default StorageClass known", c->name);
	}
	const cJSON *obj = mg_lookup_get(c->lk, MG_KIND_SC, NULL, name);
	if (!obj)
		return mg_rule_warn(c, "PVC-STORAGECLASS",
				    "cannot check StorageClass \"%s\" of mirrored PVC \"%s\": not found",
				    name, c->name);
	mg_storage_class sc;
	int rc = mg_storage_class_decode(&sc, obj, NULL);
	if (rc < 0)
		return rc;
	mg_field_errors *e = &c->v->errors;
	const char *path = "spec.storageClassName";
	if (!mg_str_eq(sc.provisioner, MG_TRIDENT_PROVISIONER))
		return mg_fe_add(e, "PVC-STORAGECLASS", MG_FE_INVALID, path, name,
				 "StorageClass \"%s\" is provisioned by \"%s\"; mirrored volumes need "
				 "Trident (%s)", name, sc.provisioner ? sc.provisioner : "",
				 MG_TRIDENT_PROVISIONER);
	bool repl = false;
	const char *flag = mg_sc_param(&sc, MG_SC_PARAM_REPLICATION);
	if (!flag || !mg_parse_go_bool(flag, &repl) || !repl)
		return mg_fe_add(e, "PVC-STORAGECLASS", MG_FE_INVALID, path, name,
				 "StorageClass \"%s\" does not set parameter %s: \"true\"; Trident "
				 "could place the volume on a backend that cannot mirror",
				 name, MG_SC_PARAM_REPLICATION);
	const char *backend = mg_sc_param(&sc, MG_SC_PARAM_BACKEND_TYPE);
	if (backend && strcmp(backend, "ontap-nas") != 0 && strcmp(backend, "ontap-san") != 0)
		return mg_fe_add(e, "PVC-STORAGECLASS", MG_FE_INVALID, path, name,
				 "StorageClass \"%s\" has backendType \"%s\"; SnapMirror replication "
				 "supports only ontap-nas and ontap-san", name, backend);
	return 0;
}

static int rule_history_format(struct mg_rule_ctx *c, const mg_pvc *pvc, const mg_pvc *old)
{
	const char *h = mg_meta_annotation(&pvc->meta, MG_ANN_REPLICATION_HISTORY);
	if (!h || (old && mg_str_eq(h, mg_meta_annotation(&old->meta, MG_ANN_REPLICATION_HISTORY))))
		return 0;
	char problem[128];
	if (mg_history_check(h, problem, sizeof(problem)) == 0)
		return 0;
	return mg_fe_add(&c->v->errors, "PVC-HISTORY-FORMAT", MG_FE_INVALID, P_HISTORY, h,
			 "%s; expected a JSON list like [{\"remoteVolumeHandle\":\"<svm>:<volume>\"}] "
			 "as mirrorgate-reconciler writes it", problem);
}

static int rule_annotation_immutable(struct mg_rule_ctx *c, const mg_pvc *pvc, const mg_pvc *old)
{
	const char *now = pvc->mirror_relationship, *was = old->mirror_relationship;
	if ((!now && !was) || (now && was && strcmp(now, was) == 0))
		return 0;
	mg_field_errors *e = &c->v->errors;
	const char *why = "whether a volume is a mirror destination is decided when it is "
			  "provisioned";
	if (!was)
		return mg_fe_add(e, "PVC-MIRROR-IMMUTABLE", MG_FE_FORBIDDEN, P_ANN, NULL,
				 "cannot be added after the PVC is created: %s", why);
	if (!now)
		return mg_fe_add(e, "PVC-MIRROR-IMMUTABLE", MG_FE_FORBIDDEN, P_ANN, NULL,
				 "cannot be removed (was \"%s\"): %s", was, why);
	return mg_fe_add(e, "PVC-MIRROR-IMMUTABLE", MG_FE_FORBIDDEN, P_ANN, NULL,
			 "cannot be changed from \"%s\": %s", was, why);
}

int mg_rules_pvc(struct mg_rule_ctx *c)
{
	const mg_request *r = c->req;
	if (r->op == MG_OP_DELETE)
		return 0;
	mg_pvc pvc, old;
	mg_field_errors *e = &c->v->errors;
	int rc = mg_pvc_decode(&pvc, r->object, e);
	if (rc < 0 || e->len || pvc.meta.deletion_timestamp)
		return rc < 0 ? rc : 0;
	if (r->op == MG_OP_UPDATE) {
		rc = mg_pvc_decode(&old, r->old_object, NULL);
		if (rc < 0)
			return rc;
		if ((rc = rule_annotation_immutable(c, &pvc, &old)))
			return rc;
		return rule_history_format(c, &pvc, &old);
	}
	if ((rc = rule_history_format(c, &pvc, NULL)))
		return rc;
	if (pvc.mirror_relationship && (rc = rule_annotation_target(c, &pvc)))
		return rc;
	bool mirrored = false;
	if ((rc = rule_unique(c, &pvc, &mirrored)))
		return rc;
	return mirrored ? rule_storage_class(c, &pvc) : 0;
}
