/* StorageClass rules: Trident reads trident.netapp.io/replication with strconv.ParseBool,
 * and only the ontap-nas and ontap-san drivers implement SnapMirror. */
#include <string.h>

#include "mirrorgate/core/names.h"
#include "rules.h"

#define P_REPL "parameters[" MG_SC_PARAM_REPLICATION "]"
#define P_BACKEND "parameters[" MG_SC_PARAM_BACKEND_TYPE "]"

int mg_rules_storage_class(struct mg_rule_ctx *c)
{
	if (c->req->op == MG_OP_DELETE)
		return 0;
	mg_storage_class sc;
	mg_field_errors *e = &c->v->errors;
	int rc = mg_storage_class_decode(&sc, c->req->object, e);
	if (rc < 0 || e->len)
		return rc < 0 ? rc : 0;
	const char *flag = mg_sc_param(&sc, MG_SC_PARAM_REPLICATION);
	bool repl = false;
	if (!flag)
		return 0;
	if (!mg_parse_go_bool(flag, &repl))
		return mg_fe_add(e, "SC-REPLICATION", MG_FE_INVALID, P_REPL, flag,
				 "must be a boolean string (\"true\" or \"false\")");
	if (!repl)
		return 0;
	if (!mg_str_eq(sc.provisioner, MG_TRIDENT_PROVISIONER))
		return mg_fe_add(e, "SC-BACKEND", MG_FE_INVALID, "provisioner",
				 sc.provisioner ? sc.provisioner : "",
				 "%s is a Trident parameter; replication needs provisioner %s",
				 MG_SC_PARAM_REPLICATION, MG_TRIDENT_PROVISIONER);
	const char *backend = mg_sc_param(&sc, MG_SC_PARAM_BACKEND_TYPE);
	if (backend && strcmp(backend, "ontap-nas") != 0 && strcmp(backend, "ontap-san") != 0)
		return mg_fe_add(e, "SC-BACKEND", MG_FE_NOT_SUPPORTED, P_BACKEND, backend,
				 "supported values: \"ontap-nas\", \"ontap-san\"");
	return 0;
}
