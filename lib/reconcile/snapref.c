#include "mirrorgate/reconcile/snapref.h"

#include <string.h>

static const char *str_at(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(obj, a);
	const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, b) : NULL;
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

bool mg_vsc_snapshot_ref(const char **ns, const char **name, const cJSON *vsc)
{
	*ns = NULL;
	*name = NULL;
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(vsc, "spec");
	const char *n = str_at(spec, "volumeSnapshotRef", "namespace");
	const char *s = str_at(spec, "volumeSnapshotRef", "name");
	if (!n || !s)
		return false;
	*ns = n;
	*name = s;
	return true;
}

bool mg_tsi_refers_to(const cJSON *tsi, const char *ns, const char *vs_name)
{
	const char *tns = str_at(tsi, "metadata", "namespace");
	const char *snap = str_at(tsi, "spec", "snapshotName");
	return ns && vs_name && tns && snap && strcmp(tns, ns) == 0 && strcmp(snap, vs_name) == 0;
}
