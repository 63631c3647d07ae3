/* The admission handler without HTTP: verdicts, HTTP status, metrics. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler.h"
#include "mirrorgate/util/err.h"

static mg_wh_metrics g_m;
static mg_store *g_store;
static mg_lookup g_lk;

static void setup(void)
{
	cr_assert_eq(mg_wh_metrics_init(&g_m), 0);
	cr_assert_eq(mg_store_new(&g_store), 0);
	g_lk = mg_store_lookup(g_store);
}

static void teardown(void)
{
	mg_store_free(g_store);
	mg_wh_metrics_free(&g_m);
}

TestSuite(webhook_handler, .init = setup, .fini = teardown);

static cJSON *handle(enum mg_wh_endpoint ep, const char *body, int want_status)
{
	mg_strbuf out = MG_STRBUF_INIT;
	int status = 0;
	cr_assert_eq(mg_wh_handle(&out, &status, ep, body, strlen(body), &g_lk, &g_m), 0);
	cr_assert_eq(status, want_status, "%s", out.data);
	cJSON *j = cJSON_Parse(out.data);
	cr_assert_not_null(j);
	mg_strbuf_free(&out);
	return j;
}

#define REVIEW(group, kind, op, object)                                                        \
	"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"    \
	"\"uid\":\"u-1\",\"kind\":{\"group\":\"" group "\",\"version\":\"v1\",\"kind\":\"" kind  \
	"\"},\"resource\":{\"group\":\"" group "\",\"version\":\"v1\",\"resource\":\"x\"},"      \
	"\"name\":\"n\",\"namespace\":\"ns\",\"operation\":\"" op "\",\"object\":" object ","   \
	"\"dryRun\":false}}"

static double value(mg_metric *m, const char *const *labels)
{
	double v = 0;
	if (mg_metric_value(&v, m, labels))
		return 0;
	return v;
}

Test(webhook_handler, same_kind_name_in_another_group_is_not_reviewed)
{
	/* A StorageClass with a bad provisioner parameter would be reviewed in
	 * storage.k8s.io; in example.com it is some other resource: allowed untouched. */
	cJSON *j = handle(MG_WH_VALIDATE,
			  REVIEW("example.com", "TridentMirrorRelationship", "CREATE",
				 "{\"kind\":\"TridentMirrorRelationship\",\"spec\":{\"state\":\"x\"}}"),
			  200);
	cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "response");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "allowed")));
	cJSON_Delete(j);
	const char *l[] = {"validate", "other", "CREATE", "allowed", "false"};
	cr_assert_eq(value(g_m.requests, l), 1.0);
}

Test(webhook_handler, undecodable_object_is_a_400_denial)
{
	/* UPDATE without an oldObject cannot be reviewed: allowed:false with code 400. */
	cJSON *j = handle(MG_WH_VALIDATE,
			  REVIEW("trident.netapp.io", "TridentMirrorRelationship", "UPDATE",
				 "{\"kind\":\"TridentMirrorRelationship\"}"),
			  200);
	cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "response");
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "allowed")));
	cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "status");
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "code")->valueint, 400);
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(st, "reason")->valuestring, "BadRequest");
	cJSON_Delete(j);
	const char *l[] = {"validate", "TridentMirrorRelationship", "UPDATE", "invalid", "false"};
	cr_assert_eq(value(g_m.requests, l), 1.0);
}

Test(webhook_handler, denial_counts_each_rule_once)
{
	cJSON *j = handle(MG_WH_VALIDATE,
			  REVIEW("trident.netapp.io", "TridentMirrorRelationship", "CREATE",
				 "{\"kind\":\"TridentMirrorRelationship\",\"metadata\":{\"name\":\"n\"},"
				 "\"spec\":{\"state\":\"bogus\",\"volumeMappings\":[{\"localPVCName\":"
				 "\"d\"}]}}"),
			  200);
	cJSON_Delete(j);
	const char *rule[] = {"TMR-STATE"};
	cr_assert_eq(value(g_m.rejections, rule), 1.0);
	mg_strbuf text = MG_STRBUF_INIT;
	cr_assert_eq(mg_metrics_render(&text, g_m.reg), 0);
	cr_assert(strstr(text.data, "mirrorgate_webhook_request_duration_seconds_count{webhook="
				    "\"validate\"} 1\n"));
	mg_strbuf_free(&text);
}

Test(webhook_handler, bad_review_is_http_400_with_a_status_body)
{
	cJSON *j = handle(MG_WH_MUTATE, "{\"apiVersion\":\"v1\"}", 400);
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "kind")->valuestring, "Status");
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "message")->valuestring,
			 "apiVersion must be \"admission.k8s.io/v1\"");
	cJSON_Delete(j);
	const char *code[] = {"400"};
	cr_assert_eq(value(g_m.http_errors, code), 1.0);
}
