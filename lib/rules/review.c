#include "mirrorgate/rules/review.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"
#include "rules.h"

static const char *const op_names[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};

int mg_op_parse(const char *s, enum mg_op *out)
{
	for (int i = 0; s && i < 4; i++) {
		if (strcmp(s, op_names[i]) == 0) {
			*out = (enum mg_op)i;
			return 0;
		}
	}
	return MG_EINVAL;
}

const char *mg_op_name(enum mg_op op)
{
	return (unsigned)op < 4 ? op_names[op] : "UNKNOWN";
}

static const char *meta_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool is_kind(const char *kind, const char *want)
{
	return strcmp(kind, want) == 0;
}

/* The Trident docs' "kind: SnapshotInfo" does not exist; only the CLI can meet it (the API
 * server has no such resource), and a precise hint beats "unknown kind". */
static int docs_kind(struct mg_rule_ctx *c)
{
	return mg_fe_add(&c->v->errors, "TSI-KIND", MG_FE_NOT_SUPPORTED, "kind", "SnapshotInfo",
			 "supported values: \"TridentSnapshotInfo\"");
}

int mg_review(mg_verdict *out, const mg_request *req, const mg_lookup *lk, unsigned what)
{
	memset(out, 0, sizeof(*out));
	if (!req || !req->kind)
		return MG_EINVAL;
	if (req->subresource && *req->subresource)
		return 0; /* status writes come from the controllers */
	const char *k = req->kind;
	bool known = is_kind(k, MG_KIND_TMR) || is_kind(k, MG_KIND_PVC) || is_kind(k, MG_KIND_SC) ||
		     is_kind(k, MG_KIND_TAMU) || is_kind(k, MG_KIND_TSI) || is_kind(k, "SnapshotInfo");
	if (!known || req->op == MG_OP_CONNECT)
		return 0;
	const cJSON *obj = req->op == MG_OP_DELETE ? req->old_object : req->object;
	if (!cJSON_IsObject(obj) || (req->op == MG_OP_UPDATE && !cJSON_IsObject(req->old_object))) {
		out->malformed = true;
		return 0;
	}
	struct mg_rule_ctx c = {.req = req, .lk = lk, .v = out};
	c.ns = req->ns && *req->ns ? req->ns : meta_str(obj, "namespace");
	if (!c.ns || !*c.ns)
		c.ns = "default";
	c.name = req->name && *req->name ? req->name : meta_str(obj, "name");
	if (!c.name)
		c.name = "";
	c.spec_changed = req->op == MG_OP_CREATE ||
			 (req->op == MG_OP_UPDATE &&
			  !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(req->object, "spec"),
					 cJSON_GetObjectItemCaseSensitive(req->old_object, "spec"), 1));
	int rc = 0;
	mg_lookup_begin(lk);
	if (what & MG_REVIEW_MUTATE) {
		if (is_kind(k, MG_KIND_TMR))
			rc = mg_mutate_tmr(&c);
		else if (is_kind(k, MG_KIND_PVC))
			rc = mg_mutate_pvc(&c);
	}
	if (!rc && (what & MG_REVIEW_VALIDATE)) {
		if (is_kind(k, MG_KIND_TMR))
			rc = mg_rules_tmr(&c);
		else if (is_kind(k, MG_KIND_PVC))
			rc = mg_rules_pvc(&c);
		else if (is_kind(k, MG_KIND_SC))
			rc = mg_rules_storage_class(&c);
		else if (is_kind(k, MG_KIND_TAMU))
			rc = mg_rules_tamu(&c);
		else if (is_kind(k, MG_KIND_TSI))
			rc = mg_rules_tsi(&c);
		else
			rc = docs_kind(&c);
	}
	mg_lookup_end(lk);
	for (size_t i = 0; !rc && i < out->errors.len; i++) {
		/* A field of the wrong JSON type cannot be decoded into the typed object, as in the
		 * API server's decoding: that is a bad request, not a rule violation. */
		if (strcmp(out->errors.items[i].rule, "SCHEMA") == 0)
			out->malformed = true;
		rc = mg_rule_fired(out, out->errors.items[i].rule);
	}
	for (size_t i = 0; !rc && i < out->nwarnings; i++)
		rc = mg_rule_fired(out, out->warnings[i].rule);
	if (rc)
		mg_verdict_free(out);
	return rc;
}

bool mg_verdict_allowed(const mg_verdict *v)
{
	return !v->malformed && v->errors.len == 0;
}

const char *mg_qualified_kind(const char *kind)
{
	static const struct {
		const char *kind, *qualified;
	} table[] = {
		{MG_KIND_TMR, "TridentMirrorRelationship.trident.netapp.io"},
		{MG_KIND_TAMU, "TridentActionMirrorUpdate.trident.netapp.io"},
		{MG_KIND_TSI, "TridentSnapshotInfo.trident.netapp.io"},
		{"SnapshotInfo", "SnapshotInfo.trident.netapp.io"},
		{MG_KIND_SC, "StorageClass.storage.k8s.io"},
		{MG_KIND_PVC, "PersistentVolumeClaim"},
		{MG_KIND_PV, "PersistentVolume"},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(kind, table[i].kind) == 0)
			return table[i].qualified;
	return kind;
}

int mg_verdict_message(const mg_verdict *v, const mg_request *req, char **out)
{
	const cJSON *obj = req->op == MG_OP_DELETE ? req->old_object : req->object;
	const char *name = req->name && *req->name ? req->name : meta_str(obj, "name");
	if (v->malformed && v->errors.len == 0) {
		*out = mg_asprintf("%s %s: the object could not be decoded",
				   mg_qualified_kind(req->kind), name ? name : "");
		return *out ? 0 : MG_ENOMEM;
	}
	return mg_fe_format_invalid(&v->errors, mg_qualified_kind(req->kind), name, out);
}

void mg_verdict_free(mg_verdict *v)
{
	if (!v)
		return;
	mg_fe_clear(&v->errors);
	for (size_t i = 0; i < v->nwarnings; i++)
		free(v->warnings[i].text);
	free(v->warnings);
	cJSON_Delete(v->patch);
	free(v->rules);
	memset(v, 0, sizeof(*v));
}
