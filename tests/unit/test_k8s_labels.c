/* Label selectors: the string form of ?labelSelector= and the LabelSelector object. */
#include <criterion/criterion.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/labels.h"

static bool sel_matches(const char *sel, const char *labels)
{
	mg_label_selector *s = NULL;
	cr_assert_eq(mg_label_selector_parse(&s, sel), 0, "%s", sel);
	cJSON *l = labels ? cJSON_Parse(labels) : NULL;
	bool m = mg_label_selector_matches(s, l);
	cJSON_Delete(l);
	mg_label_selector_free(s);
	return m;
}

Test(k8s_labels, string_form)
{
	const char *l = "{\"app\":\"db\",\"tier\":\"gold\"}";
	cr_assert(sel_matches("", l));
	cr_assert(sel_matches(NULL, NULL));
	cr_assert(sel_matches("app=db", l));
	cr_assert(sel_matches("app==db", l));
	cr_assert_not(sel_matches("app=web", l));
	cr_assert(sel_matches("app!=web", l));
	cr_assert(sel_matches("missing!=x", l));
	cr_assert(sel_matches("tier in (silver, gold)", l));
	cr_assert_not(sel_matches("tier notin (silver,gold)", l));
	cr_assert(sel_matches("app,tier", l));
	cr_assert(sel_matches("!missing", l));
	cr_assert_not(sel_matches("!app", l));
	cr_assert(sel_matches("app=db, tier in (gold)", l));
	cr_assert_not(sel_matches("app=db,tier=silver", l));
	cr_assert_not(sel_matches("app", NULL));
	cr_assert(sel_matches("example.com/x-y_z=a.b", "{\"example.com/x-y_z\":\"a.b\"}"));
}

Test(k8s_labels, malformed_string_selectors)
{
	const char *bad[] = {"=x", "a in x", "a in ()", "a in (x", "a ~ b", "a=b c", "a=b,,", "!"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mg_label_selector *s = NULL;
		cr_assert_eq(mg_label_selector_parse(&s, bad[i]), MG_EPARSE, "%s", bad[i]);
		cr_assert_null(s);
	}
}

static bool obj_matches(const char *sel, const char *labels)
{
	mg_label_selector *s = NULL;
	cJSON *j = sel ? cJSON_Parse(sel) : NULL;
	cr_assert_eq(mg_label_selector_from_json(&s, j), 0, "%s", sel);
	cJSON *l = labels ? cJSON_Parse(labels) : NULL;
	bool m = mg_label_selector_matches(s, l);
	cJSON_Delete(l);
	cJSON_Delete(j);
	mg_label_selector_free(s);
	return m;
}

Test(k8s_labels, object_form)
{
	const char *l = "{\"kubernetes.io/metadata.name\":\"kube-system\"}";
	cr_assert(obj_matches(NULL, l));
	cr_assert(obj_matches("{}", NULL));
	cr_assert(obj_matches("{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"kube-system\"}}", l));
	cr_assert_not(obj_matches("{\"matchExpressions\":[{\"key\":\"kubernetes.io/metadata.name\","
				  "\"operator\":\"NotIn\",\"values\":[\"kube-system\"]}]}", l));
	cr_assert(obj_matches("{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"DoesNotExist\"}]}", l));
	cr_assert_not(obj_matches("{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"Exists\"}]}", l));
	cr_assert(obj_matches("{\"matchExpressions\":[{\"key\":\"kubernetes.io/metadata.name\","
			      "\"operator\":\"In\",\"values\":[\"a\",\"kube-system\"]}]}", l));
	const char *bad[] = {
		"[]",
		"{\"matchLabels\":{\"a\":1}}",
		"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Near\",\"values\":[\"x\"]}]}",
		"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}",
		"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}",
		"{\"matchExpressions\":[{\"operator\":\"Exists\"}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mg_label_selector *s = NULL;
		cJSON *j = cJSON_Parse(bad[i]);
		cr_assert_eq(mg_label_selector_from_json(&s, j), MG_EINVAL, "%s", bad[i]);
		cr_assert_null(s);
		cJSON_Delete(j);
	}
}
