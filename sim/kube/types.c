/* The resource types kube-sim serves: built-ins plus CustomResourceDefinitions. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksim.h"
#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

struct builtin {
	const char *group, *version, *resource, *singular, *kind;
	bool namespaced, has_status;
	const char *shorts; /* comma-separated */
	const char *cats;
};

static const struct builtin builtins[] = {
	{"", "v1", "namespaces", "namespace", "Namespace", false, true, "ns", ""},
	{"", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true,
	 true, "pvc", ""},
	{"", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, true, "pv",
	 ""},
	{"", "v1", "configmaps", "configmap", "ConfigMap", true, false, "cm", ""},
	{"", "v1", "secrets", "secret", "Secret", true, false, "", ""},
	{"", "v1", "events", "event", "Event", true, false, "ev", ""},
	{"storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, false,
	 "sc", ""},
	{"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, false, "", ""},
	{"snapshot.storage.k8s.io", "v1", "volumesnapshots", "volumesnapshot", "VolumeSnapshot",
	 true, true, "vs", ""},
	{"snapshot.storage.k8s.io", "v1", "volumesnapshotcontents", "volumesnapshotcontent",
	 "VolumeSnapshotContent", false, true, "vsc,vscs", ""},
	{"snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", "volumesnapshotclass",
	 "VolumeSnapshotClass", false, false, "vsclass,vsclasses", ""},
	{"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
	 "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", false, false, "", "api-extensions"},
	{"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
	 "mutatingwebhookconfiguration", "MutatingWebhookConfiguration", false, false, "", "api-extensions"},
	{"apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
	 "CustomResourceDefinition", false, true, "crd,crds", "api-extensions"},
};

static void res_free(ksim_res *r)
{
	if (!r)
		return;
	free(r->group);
	free(r->version);
	free(r->resource);
	free(r->singular);
	free(r->kind);
	for (size_t i = 0; i < r->nshort; i++)
		free(r->short_names[i]);
	free(r->short_names);
	for (size_t i = 0; i < r->ncat; i++)
		free(r->categories[i]);
	free(r->categories);
	cJSON_Delete(r->schema);
	free(r);
}

void ksim_types_free(ksim_types *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->len; i++)
		res_free(t->items[i]);
	free(t->items);
	t->items = NULL;
	t->len = 0;
}

static int push_str(char ***arr, size_t *n, const char *s, size_t len)
{
	char **a = realloc(*arr, (*n + 1) * sizeof(*a));
	if (!a)
		return MG_ENOMEM;
	*arr = a;
	char *c = malloc(len + 1);
	if (!c)
		return MG_ENOMEM;
	memcpy(c, s, len);
	c[len] = '\0';
	a[(*n)++] = c;
	return 0;
}

static int split_csv(char ***arr, size_t *n, const char *csv)
{
	while (*csv) {
		const char *e = strchr(csv, ',');
		size_t len = e ? (size_t)(e - csv) : strlen(csv);
		if (len && push_str(arr, n, csv, len) != 0)
			return MG_ENOMEM;
		csv += len + (e ? 1 : 0);
	}
	return 0;
}

static int add(ksim_types *t, ksim_res *r)
{
	ksim_res **items = realloc(t->items, (t->len + 1) * sizeof(*items));
	if (!items)
		return MG_ENOMEM;
	t->items = items;
	t->items[t->len++] = r;
	return 0;
}

int ksim_types_init(ksim_types *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		const struct builtin *b = &builtins[i];
		ksim_res *r = calloc(1, sizeof(*r));
		if (!r)
			goto oom;
		r->group = mg_strdup(b->group);
		r->version = mg_strdup(b->version);
		r->resource = mg_strdup(b->resource);
		r->singular = mg_strdup(b->singular);
		r->kind = mg_strdup(b->kind);
		r->namespaced = b->namespaced;
		r->has_status = b->has_status;
		if (!r->group || !r->version || !r->resource || !r->singular || !r->kind ||
		    split_csv(&r->short_names, &r->nshort, b->shorts) != 0 ||
		    split_csv(&r->categories, &r->ncat, b->cats) != 0 || add(t, r) != 0) {
			res_free(r);
			goto oom;
		}
	}
	return 0;
oom:
	ksim_types_free(t);
	return MG_ENOMEM;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int str_list(char ***arr, size_t *n, const cJSON *list)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, list)
	{
		if (cJSON_IsString(e) && push_str(arr, n, e->valuestring, strlen(e->valuestring)) != 0)
			return MG_ENOMEM;
	}
	return 0;
}

int ksim_types_add_crd(ksim_types *t, const cJSON *crd, char *why, size_t why_len)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(crd, "spec");
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(spec, "names");
	const char *group = jstr(spec, "group"), *scope = jstr(spec, "scope");
	const char *plural = jstr(names, "plural"), *kind = jstr(names, "kind");
	const char *singular = jstr(names, "singular");
	if (!group || !scope || !plural || !kind) {
		snprintf(why, why_len, "CRD lacks spec.group, spec.scope, names.plural or names.kind");
		return MG_EINVAL;
	}
	const cJSON *v, *served = NULL;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(spec, "versions"))
	{
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "served")) && jstr(v, "name")) {
			served = v;
			break;
		}
	}
	if (!served) {
		snprintf(why, why_len, "CRD %s.%s has no served version", plural, group);
		return MG_EINVAL;
	}
	if (ksim_types_find(t, group, jstr(served, "name"), plural))
		return 0; /* already known (reloading the same CRD) */
	ksim_res *r = calloc(1, sizeof(*r));
	if (!r)
		return MG_ENOMEM;
	char *low_kind = mg_strdup(kind);
	for (char *p = low_kind; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	r->group = mg_strdup(group);
	r->version = mg_strdup(jstr(served, "name"));
	r->resource = mg_strdup(plural);
	r->singular = singular ? mg_strdup(singular) : low_kind;
	if (singular)
		free(low_kind);
	r->kind = mg_strdup(kind);
	r->namespaced = strcmp(scope, "Namespaced") == 0;
	r->crd = true;
	r->has_status = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(served, "subresources"), "status") != NULL;
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(served, "schema"), "openAPIV3Schema");
	if (schema && !(r->schema = cJSON_Duplicate(schema, 1)))
		goto oom;
	if (!r->group || !r->version || !r->resource || !r->singular || !r->kind ||
	    str_list(&r->short_names, &r->nshort,
		     cJSON_GetObjectItemCaseSensitive(names, "shortNames")) != 0 ||
	    str_list(&r->categories, &r->ncat,
		     cJSON_GetObjectItemCaseSensitive(names, "categories")) != 0 ||
	    add(t, r) != 0)
		goto oom;
	return 0;
oom:
	res_free(r);
	return MG_ENOMEM;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

int ksim_types_load_dir(ksim_types *t, const char *dir, char *why, size_t why_len)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(why, why_len, "cannot open CRD directory %s", dir);
		return MG_EIO;
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		if (!has_suffix(de->d_name, ".yaml") && !has_suffix(de->d_name, ".yml") &&
		    !has_suffix(de->d_name, ".json"))
			continue;
		char *path = mg_asprintf("%s/%s", dir, de->d_name), *text = NULL;
		size_t len;
		mg_doc_list docs = {0};
		mg_parse_error perr = {0};
		if (!path) {
			rc = MG_ENOMEM;
			break;
		}
		if ((rc = mg_read_file(path, 4u << 20, &text, &len)) != 0) {
			snprintf(why, why_len, "cannot read %s", path);
		} else if ((rc = mg_doc_parse_yaml(&docs, text, len, &perr)) != 0) {
			snprintf(why, why_len, "%s:%d: %s", path, perr.line, perr.message);
		} else {
			for (size_t i = 0; rc == 0 && i < docs.len; i++) {
				const char *k = jstr(docs.items[i].root, "kind");
				if (k && strcmp(k, "CustomResourceDefinition") == 0)
					rc = ksim_types_add_crd(t, docs.items[i].root, why, why_len);
			}
		}
		mg_doc_list_free(&docs);
		free(text);
		free(path);
	}
	closedir(d);
	return rc;
}

const ksim_res *ksim_types_find(const ksim_types *t, const char *group, const char *version,
				const char *resource)
{
	for (size_t i = 0; i < t->len; i++) {
		const ksim_res *r = t->items[i];
		if (strcmp(r->group, group) == 0 && strcmp(r->version, version) == 0 &&
		    strcmp(r->resource, resource) == 0)
			return r;
	}
	return NULL;
}

int ksim_types_remove(ksim_types *t, const char *spec, char *why, size_t why_len)
{
	const char *slash = strrchr(spec, '/');
	const char *resource = slash ? slash + 1 : spec;
	size_t glen = slash ? (size_t)(slash - spec) : 0;
	/* Without namespaces kube-sim could not scope anything: no API server lacks them. */
	if (glen == 0 && strcmp(resource, "namespaces") == 0) {
		snprintf(why, why_len, "namespaces cannot be removed");
		return MG_EINVAL;
	}
	for (size_t i = 0; i < t->len; i++) {
		ksim_res *r = t->items[i];
		if (r->crd || strlen(r->group) != glen || strncmp(r->group, spec, glen) != 0 ||
		    strcmp(r->resource, resource) != 0)
			continue;
		res_free(r);
		memmove(&t->items[i], &t->items[i + 1], (t->len - i - 1) * sizeof(t->items[0]));
		t->len--;
		return 0;
	}
	snprintf(why, why_len, "no built-in resource \"%s\" (want GROUP/RESOURCE, e.g. "
			       "snapshot.storage.k8s.io/volumesnapshots)",
		 spec);
	return MG_ENOTFOUND;
}

char *ksim_res_api_version(const ksim_res *r)
{
	if (!r->group[0])
		return mg_strdup(r->version);
	return mg_asprintf("%s/%s", r->group, r->version);
}
