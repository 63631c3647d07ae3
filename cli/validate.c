/* `mirrorgate validate`: the webhook's rules, offline, over manifest files. */
#include "validate.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "inputs.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/core/jsonpatch.h"
#include "mirrorgate/rules/review.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"
#include "report.h"

#define TOPOLOGY_CONFIGMAP "mirrorgate-topology"

struct options {
	enum mg_output output;
	const char *topology;
	const char *ns;
	bool strict;
	bool verbose;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mirrorgate validate [options] PATH...\n"
		"\n"
		"Checks Kubernetes manifests against mirrorgate's replication rules, with the other\n"
		"documents of the same invocation as the cluster state. PATH is a file, a directory\n"
		"(*.yaml, *.yml, *.json, recursively) or - for standard input.\n"
		"\n"
		"options:\n"
		"  -o, --output FORMAT   text (default), json or junit\n"
		"  -t, --topology FILE   local SVMs, SVM peers, SnapMirror policies and schedules\n"
		"                        (default: a ConfigMap named mirrorgate-topology among the\n"
		"                        inputs; otherwise unknown, which makes some checks warn)\n"
		"  -n, --namespace NS    namespace for objects that name none (default: default)\n"
		"      --strict          warnings fail the run too\n"
		"  -v, --verbose         also list valid and skipped documents\n"
		"  -h, --help            this help\n"
		"\n"
		"exit status: 0 all valid, 1 rule violations, 2 unreadable or malformed input\n");
}

static int load_topology_tree(const cJSON *tree, const char *where, mg_store *store)
{
	mg_topology t;
	mg_field_errors errs = {0};
	int rc = mg_topology_from_json(&t, tree, &errs);
	if (rc == 0) {
		mg_store_set_topology(store, &t);
	} else if (rc == MG_EPARSE) {
		for (size_t i = 0; i < errs.len; i++) {
			char *msg = NULL;
			if (mg_fe_format_one(&errs.items[i], &msg) == 0)
				fprintf(stderr, "mirrorgate: %s: invalid topology: %s\n", where, msg);
			free(msg);
		}
	}
	mg_fe_clear(&errs);
	return rc;
}

/* The topology from --topology, or from the ConfigMap the reconciler publishes. */
static int find_topology(const struct options *o, const mg_bundle *b, cJSON **out, char **where)
{
	*out = NULL;
	*where = NULL;
	if (o->topology) {
		char *data = NULL;
		size_t len = 0;
		int rc = mg_read_file(o->topology, MG_CLI_MAX_INPUT, &data, &len);
		if (rc) {
			fprintf(stderr, "mirrorgate: %s: %s\n", o->topology, mg_strerror(rc));
			return rc;
		}
		mg_doc_list l;
		mg_parse_error err;
		rc = mg_doc_parse_yaml(&l, data, len, &err);
		free(data);
		if (rc) {
			fprintf(stderr, "mirrorgate: %s:%d: %s\n", o->topology, err.line, err.message);
			return rc;
		}
		if (l.len && l.items[0].root) {
			*out = l.items[0].root;
			l.items[0].root = NULL;
		}
		mg_doc_list_free(&l);
		*where = mg_strdup(o->topology);
		return *where ? 0 : MG_ENOMEM;
	}
	for (size_t i = b->len; i-- > 0;) {
		const mg_entry *e = &b->entries[i];
		if (e->kind != MG_ENTRY_OBJECT || strncmp(e->key, "ConfigMap/", 10) != 0)
			continue;
		const char *name = strrchr(e->key, '/') + 1;
		if (strcmp(name, TOPOLOGY_CONFIGMAP) != 0)
			continue;
		const cJSON *data = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(e->object, "data"), MG_TOPOLOGY_CONFIGMAP_KEY);
		if (!cJSON_IsString(data))
			continue;
		mg_doc_list l;
		mg_parse_error err;
		int rc = mg_doc_parse_yaml(&l, data->valuestring, strlen(data->valuestring), &err);
		if (rc) {
			fprintf(stderr, "mirrorgate: %s:%d: ConfigMap %s: %s\n", e->file, e->line,
				TOPOLOGY_CONFIGMAP, err.message);
			return rc;
		}
		if (l.len && l.items[0].root) {
			*out = l.items[0].root;
			l.items[0].root = NULL;
		}
		mg_doc_list_free(&l);
		*where = mg_asprintf("%s:%d", e->file, e->line);
		return *where ? 0 : MG_ENOMEM;
	}
	return 0;
}

static const char *str_at(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, a);
	if (b)
		n = cJSON_GetObjectItemCaseSensitive(n, b);
	return cJSON_IsString(n) ? n->valuestring : NULL;
}

static bool has_rules(const char *kind)
{
	static const char *const kinds[] = {"TridentMirrorRelationship", "TridentActionMirrorUpdate",
					    "TridentSnapshotInfo", "PersistentVolumeClaim",
					    "StorageClass", "SnapshotInfo"};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return true;
	return false;
}

static int fill_verdict(mg_result *res, const mg_verdict *v, const mg_request *req,
			const mg_entry *e)
{
	if (!mg_verdict_allowed(v)) {
		res->status = v->malformed ? MG_RESULT_MALFORMED : MG_RESULT_INVALID;
		if (mg_verdict_message(v, req, &res->message))
			return MG_ENOMEM;
	}
	if (v->errors.len) {
		res->errors = calloc(v->errors.len, sizeof(*res->errors));
		if (!res->errors)
			return MG_ENOMEM;
		res->nerrors = v->errors.len;
		for (size_t i = 0; i < v->errors.len; i++) {
			res->errors[i].rule = v->errors.items[i].rule;
			res->errors[i].line = e->doc ? mg_doc_line_of_path(e->doc, v->errors.items[i].path)
						     : e->line;
			/* A document inside a List: its own line is the better anchor. */
			if (res->errors[i].line < e->line)
				res->errors[i].line = e->line;
			if (mg_fe_format_one(&v->errors.items[i], &res->errors[i].text))
				return MG_ENOMEM;
		}
	}
	if (v->nwarnings) {
		res->warnings = calloc(v->nwarnings, sizeof(*res->warnings));
		res->warning_rules = calloc(v->nwarnings, sizeof(*res->warning_rules));
		if (!res->warnings || !res->warning_rules)
			return MG_ENOMEM;
		res->nwarnings = v->nwarnings;
		for (size_t i = 0; i < v->nwarnings; i++) {
			res->warning_rules[i] = v->warnings[i].rule;
			if (!(res->warnings[i] = mg_strdup(v->warnings[i].text)))
				return MG_ENOMEM;
		}
	}
	return 0;
}

static int state_with_topology(const mg_bundle *b, size_t i, bool lookahead,
			       const cJSON *topology, const char *where, mg_store **out)
{
	int rc = mg_bundle_state_for(b, i, lookahead, out);
	if (rc || !topology)
		return rc;
	if ((rc = load_topology_tree(topology, where, *out))) {
		mg_store_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Reviews entry i as the API server would: mutate, apply the patch, validate the result.
 * The mutated object replaces the entry, so later documents see what the cluster would. */
static int review_entry(mg_bundle *b, size_t i, const cJSON *topology, const char *where,
			mg_result *res)
{
	mg_entry *e = &b->entries[i];
	const char *kind = str_at(e->object, "kind", NULL);
	res->file = e->file;
	res->line = e->line;
	res->kind = mg_strdup(kind);
	res->ns = mg_strdup(str_at(e->object, "metadata", "namespace"));
	res->name = mg_strdup(str_at(e->object, "metadata", "name"));
	if (!res->kind || !res->name)
		return MG_ENOMEM;
	if (!has_rules(kind)) {
		res->status = MG_RESULT_SKIPPED;
		return 0;
	}
	const cJSON *old = mg_bundle_previous(b, i);
	/* The request's strings are the result's copies: applying a patch replaces e->object. */
	mg_request req = {.op = old ? MG_OP_UPDATE : MG_OP_CREATE, .kind = res->kind,
			  .ns = res->ns, .name = res->name,
			  .object = e->object, .old_object = old};
	res->operation = mg_op_name(req.op);
	mg_store *store = NULL;
	mg_verdict v;
	int rc = state_with_topology(b, i, false, topology, where, &store);
	if (rc)
		return rc;
	mg_lookup lk = mg_store_lookup(store);
	if ((rc = mg_review(&v, &req, &lk, MG_REVIEW_MUTATE)))
		goto out;
	if (v.patch) {
		res->patch = cJSON_PrintUnformatted(v.patch);
		rc = res->patch ? mg_jsonpatch_apply(&e->object, v.patch) : MG_ENOMEM;
		req.object = e->object;
	}
	mg_verdict_free(&v);
	mg_store_free(store);
	store = NULL;
	if (rc || (rc = state_with_topology(b, i, true, topology, where, &store)))
		goto out;
	lk = mg_store_lookup(store);
	if ((rc = mg_review(&v, &req, &lk, MG_REVIEW_VALIDATE)))
		goto out;
	res->status = MG_RESULT_VALID;
	rc = fill_verdict(res, &v, &req, e);
	mg_verdict_free(&v);
out:
	mg_store_free(store);
	return rc;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'}, {"topology", required_argument, NULL, 't'},
		{"namespace", required_argument, NULL, 'n'}, {"strict", no_argument, NULL, 's'},
		{"verbose", no_argument, NULL, 'v'},	     {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->ns = "default";
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "o:t:n:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "text") == 0)
				o->output = MG_OUTPUT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->output = MG_OUTPUT_JSON;
			else if (strcmp(optarg, "junit") == 0)
				o->output = MG_OUTPUT_JUNIT;
			else {
				fprintf(stderr, "mirrorgate validate: unknown output format \"%s\" "
						"(text, json, junit)\n", optarg);
				return 2;
			}
			break;
		case 't': o->topology = optarg; break;
		case 'n': o->ns = optarg; break;
		case 's': o->strict = true; break;
		case 'v': o->verbose = true; break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "mirrorgate validate: no PATH given\n");
		usage(stderr);
		return 2;
	}
	return 0;
}

int mg_cli_validate(int argc, char **argv)
{
	struct options o;
	int rc = parse_options(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	mg_inputs in;
	mg_bundle b;
	mg_report report = {0};
	cJSON *topology = NULL;
	char *where = NULL;
	memset(&b, 0, sizeof(b));
	int status = 2;
	if ((rc = mg_inputs_read(&in, argv + optind, (size_t)(argc - optind))))
		goto out;
	if ((rc = mg_bundle_load(&b, &in, o.ns)))
		goto out;
	if ((rc = find_topology(&o, &b, &topology, &where)))
		goto out;
	for (size_t i = 0; i < b.len; i++) {
		mg_result res;
		memset(&res, 0, sizeof(res));
		const mg_entry *e = &b.entries[i];
		if (e->kind == MG_ENTRY_MALFORMED) {
			res.status = MG_RESULT_MALFORMED;
			res.file = e->file;
			res.line = e->line;
			res.message = mg_strdup(e->problem);
			rc = res.message ? 0 : MG_ENOMEM;
		} else {
			rc = review_entry(&b, i, topology, where, &res);
		}
		if (!rc)
			rc = mg_report_add(&report, &res);
		if (rc) {
			mg_result_free(&res);
			goto out;
		}
	}
	if ((rc = mg_report_write(&report, o.output, o.verbose, stdout)))
		goto out;
	status = mg_report_exit_code(&report, o.strict);
out:
	if (rc)
		fprintf(stderr, "mirrorgate validate: %s\n", mg_strerror(rc));
	cJSON_Delete(topology);
	free(where);
	mg_report_free(&report);
	mg_bundle_free(&b);
	mg_inputs_free(&in);
	return rc ? 2 : status;
}
