#include "rules_cases.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/rules/lookup.h"
#include "mirrorgate/rules/review.h"
#include "mirrorgate/util/strbuf.h"
#include "yaml_fixture.h"

static mg_store *make_store(const struct review_case *c)
{
	mg_store *store;
	cr_assert_eq(mg_store_new(&store), 0);
	if (c->state) {
		mg_doc_list l;
		mg_parse_error err;
		cr_assert_eq(mg_doc_parse_yaml(&l, c->state, strlen(c->state), &err), 0,
			     "%s: state YAML: line %d: %s", c->name, err.line, err.message);
		for (size_t i = 0; i < l.len; i++) {
			if (!l.items[i].root)
				continue;
			cr_assert_eq(mg_store_put(store, l.items[i].root), 0, "%s: state doc %zu",
				     c->name, i);
			l.items[i].root = NULL;
		}
		mg_doc_list_free(&l);
	}
	if (c->topology) {
		cJSON *tree = mg_test_yaml(c->topology);
		mg_topology t;
		mg_field_errors errs = {0};
		cr_assert_eq(mg_topology_from_json(&t, tree, &errs), 0, "%s: topology", c->name);
		mg_store_set_topology(store, &t);
		cJSON_Delete(tree);
	}
	return store;
}

static const char *str_at(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, a);
	if (b)
		n = cJSON_GetObjectItemCaseSensitive(n, b);
	return cJSON_IsString(n) ? n->valuestring : NULL;
}

void run_review_case(const struct review_case *c)
{
	mg_store *store = make_store(c);
	mg_lookup lk = mg_store_lookup(store);
	cJSON *obj = mg_test_yaml(c->object);
	cJSON *old = c->old ? mg_test_yaml(c->old) : NULL;
	mg_request req = {0};
	cr_assert_eq(mg_op_parse(c->op ? c->op : "CREATE", &req.op), 0);
	req.kind = str_at(obj, "kind", NULL);
	req.ns = str_at(obj, "metadata", "namespace");
	req.name = str_at(obj, "metadata", "name");
	if (req.op == MG_OP_DELETE) {
		req.old_object = obj;
	} else {
		req.object = obj;
		req.old_object = old;
	}
	mg_verdict v;
	cr_assert_eq(mg_review(&v, &req, &lk, MG_REVIEW_VALIDATE | MG_REVIEW_MUTATE), 0, "%s",
		     c->name);
	if (c->message) {
		cr_assert(!mg_verdict_allowed(&v), "%s: expected a denial", c->name);
		char *msg = NULL;
		cr_assert_eq(mg_verdict_message(&v, &req, &msg), 0);
		cr_assert_str_eq(msg, c->message, "%s:\n got: %s\nwant: %s", c->name, msg, c->message);
		free(msg);
	} else if (!mg_verdict_allowed(&v)) {
		char *msg = NULL;
		mg_verdict_message(&v, &req, &msg);
		cr_assert_fail("%s: expected allowed, got: %s", c->name, msg ? msg : "(malformed)");
	}
	bool schema = c->rules && strstr(c->rules, "SCHEMA");
	cr_assert_eq(v.malformed, schema, "%s: wrong JSON types (only) make a request malformed",
		     c->name);
	mg_strbuf warnings = MG_STRBUF_INIT;
	for (size_t i = 0; i < v.nwarnings; i++)
		mg_strbuf_printf(&warnings, "%s\n", v.warnings[i].text);
	cr_assert_str_eq(warnings.data ? warnings.data : "", c->warnings ? c->warnings : "",
			 "%s: warnings:\n got: %s\nwant: %s", c->name, warnings.data ? warnings.data : "", c->warnings ? c->warnings : "");
	mg_strbuf_free(&warnings);
	if (c->rules) {
		mg_strbuf ids = MG_STRBUF_INIT;
		for (size_t i = 0; i < v.nrules; i++)
			mg_strbuf_printf(&ids, "%s%s", i ? " " : "", v.rules[i]);
		cr_assert_str_eq(ids.data ? ids.data : "", c->rules, "%s: rules", c->name);
		mg_strbuf_free(&ids);
	}
	char *patch = v.patch ? cJSON_PrintUnformatted(v.patch) : NULL;
	if (c->patch)
		cr_assert_str_eq(patch ? patch : "(none)", c->patch, "%s: patch", c->name);
	else
		cr_assert_null(patch, "%s: unexpected patch %s", c->name, patch);
	free(patch);
	mg_verdict_free(&v);
	cJSON_Delete(obj);
	cJSON_Delete(old);
	mg_store_free(store);
}

void run_review_cases(const struct review_case *cases)
{
	for (const struct review_case *c = cases; c->name; c++)
		run_review_case(c);
}
