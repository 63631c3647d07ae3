#include "state.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"
#include "mirrorgate/core/topology.h"

typedef struct loader {
	mg_store *store;
	size_t objects;
	const char *topology_from; /* for the log line: the file it came from */
	char *topology_where;      /* owned copy when it came from a ConfigMap */
	char **error;
} loader;

static bool wanted(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot && (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0 ||
		       strcmp(dot, ".json") == 0);
}

static int set_topology(loader *ld, const cJSON *tree, const char *where)
{
	mg_topology t = {0};
	mg_field_errors errs = {0};
	int rc = mg_topology_from_json(&t, tree, &errs);
	if (rc) {
		char *first = NULL;
		if (errs.len)
			mg_fe_format_one(&errs.items[0], &first);
		*ld->error = mg_asprintf("%s: invalid topology: %s", where,
					 first ? first : mg_strerror(rc));
		free(first);
		mg_fe_clear(&errs);
		return rc;
	}
	mg_fe_clear(&errs);
	mg_store_set_topology(ld->store, &t);
	mg_topology_free(&t);
	return 0;
}

/* A ConfigMap carrying the topology (what the reconciler publishes). --topology is read
 * after the directory, so it wins. */
static int maybe_topology_configmap(loader *ld, const cJSON *obj, const char *where)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(obj, "data");
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(data, MG_TOPOLOGY_CONFIGMAP_KEY);
	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "ConfigMap") ||
	    !cJSON_IsString(text))
		return 0;
	mg_doc_list docs = {0};
	mg_parse_error perr = {0};
	int rc = mg_doc_parse_yaml(&docs, text->valuestring, strlen(text->valuestring), &perr);
	if (rc) {
		*ld->error = mg_asprintf("%s: ConfigMap key %s: %s", where,
					 MG_TOPOLOGY_CONFIGMAP_KEY, perr.message);
	} else if (docs.len && (rc = set_topology(ld, docs.items[0].root, where)) == 0) {
		free(ld->topology_where);
		ld->topology_where = mg_strdup(where);
		ld->topology_from = ld->topology_where;
	}
	mg_doc_list_free(&docs);
	return rc;
}

static int put_object(loader *ld, cJSON *obj, const char *path, int line)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
	cJSON *items = cJSON_GetObjectItemCaseSensitive(obj, "items");
	char where[600];
	snprintf(where, sizeof(where), "%s:%d", path, line);
	if (cJSON_IsString(kind) && strlen(kind->valuestring) >= 4 &&
	    strcmp(kind->valuestring + strlen(kind->valuestring) - 4, "List") == 0 &&
	    cJSON_IsArray(items)) {
		cJSON *item;
		while ((item = cJSON_DetachItemFromArray(items, 0))) {
			int rc = put_object(ld, item, path, line);
			if (rc)
				return rc;
		}
		cJSON_Delete(obj);
		return 0;
	}
	int rc = maybe_topology_configmap(ld, obj, where);
	if (rc) {
		cJSON_Delete(obj);
		return rc;
	}
	rc = mg_store_put(ld->store, obj);
	if (rc == MG_EINVAL) {
		/* Not a Kubernetes object (a kustomization, a values file): not state. */
		mg_debug("state: skipped a document without kind and metadata.name", "file", where,
			 NULL);
		cJSON_Delete(obj);
		return 0;
	}
	if (rc) {
		cJSON_Delete(obj);
		*ld->error = mg_asprintf("%s: %s", where, mg_strerror(rc));
		return rc;
	}
	ld->objects++;
	return 0;
}

static int load_file(loader *ld, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	mg_doc_list docs = {0};
	mg_parse_error perr = {0};
	int rc = mg_read_file(path, MG_STATE_MAX_FILE, &data, &len);
	if (rc) {
		*ld->error = mg_asprintf("%s: %s", path, mg_strerror(rc));
		return rc;
	}
	if ((rc = mg_doc_parse_yaml(&docs, data, len, &perr))) {
		*ld->error = mg_asprintf("%s:%d: %s", path, perr.line, perr.message);
		goto out;
	}
	for (size_t i = 0; i < docs.len && !rc; i++) {
		cJSON *root = docs.items[i].root;
		if (!root)
			continue;
		if (!cJSON_IsObject(root)) {
			*ld->error = mg_asprintf("%s:%d: a document must be an object", path,
						 docs.items[i].line);
			rc = MG_EPARSE;
			break;
		}
		docs.items[i].root = NULL; /* the store owns it now */
		rc = put_object(ld, root, path, docs.items[i].line);
	}
out:
	mg_doc_list_free(&docs);
	free(data);
	return rc;
}

static int filter_entry(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int load_dir(loader *ld, const char *dir, int depth)
{
	struct dirent **names = NULL;
	int rc = 0;
	if (depth > MG_STATE_MAX_DEPTH) {
		*ld->error = mg_asprintf("%s: directories nested deeper than %d", dir,
					 MG_STATE_MAX_DEPTH);
		return MG_ETOOBIG;
	}
	/* Sorted, so that a later file's object replaces an earlier one predictably. */
	int n = scandir(dir, &names, filter_entry, alphasort);
	if (n < 0) {
		*ld->error = mg_asprintf("--state-dir %s: cannot read the directory", dir);
		return MG_EIO;
	}
	for (int i = 0; i < n; i++) {
		char *path = NULL;
		struct stat st;
		if (!rc && !(path = mg_asprintf("%s/%s", dir, names[i]->d_name)))
			rc = MG_ENOMEM;
		if (!rc && stat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				rc = load_dir(ld, path, depth + 1);
			else if (S_ISREG(st.st_mode) && wanted(names[i]->d_name))
				rc = load_file(ld, path);
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return rc;
}

int mg_wh_state_load(mg_store **out, const char *state_dir, const char *topology_file,
		     char **error)
{
	loader ld = {.error = error};
	int rc;
	*error = NULL;
	if ((rc = mg_store_new(&ld.store)))
		return rc;
	if (state_dir && (rc = load_dir(&ld, state_dir, 0)))
		goto out;
	if (topology_file) {
		char *data = NULL;
		size_t len = 0;
		mg_doc_list docs = {0};
		mg_parse_error perr = {0};
		if ((rc = mg_read_file(topology_file, MG_STATE_MAX_FILE, &data, &len))) {
			*error = mg_asprintf("--topology %s: %s", topology_file, mg_strerror(rc));
			goto out;
		}
		rc = mg_doc_parse_yaml(&docs, data, len, &perr);
		if (rc)
			*error = mg_asprintf("--topology %s:%d: %s", topology_file, perr.line,
					     perr.message);
		else if (docs.len != 1) {
			*error = mg_asprintf("--topology %s: expected one document", topology_file);
			rc = MG_EPARSE;
		} else {
			rc = set_topology(&ld, docs.items[0].root, topology_file);
			ld.topology_from = topology_file;
		}
		mg_doc_list_free(&docs);
		free(data);
		if (rc)
			goto out;
	}
	char count[32];
	snprintf(count, sizeof(count), "%zu", ld.objects);
	mg_info("state loaded", "state_dir", state_dir, "objects", count, "topology",
		ld.topology_from, NULL);
	*out = ld.store;
	ld.store = NULL;
out:
	free(ld.topology_where);
	mg_store_free(ld.store);
	return rc;
}
