/* RFC 7386 merge patch (the RFC's appendix A cases) and strategic merge patch as kubectl
 * apply sends it. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/mergepatch.h"

static void check_merge(const char *target, const char *patch, const char *want)
{
	cJSON *t = cJSON_Parse(target), *p = cJSON_Parse(patch), *w = cJSON_Parse(want), *out = NULL;
	cr_assert_not_null(p);
	cr_assert_eq(mg_merge_patch_apply(&out, t, p), 0);
	char *got = cJSON_PrintUnformatted(out);
	cr_assert(cJSON_Compare(out, w, 1), "merge %s + %s = %s, want %s", target, patch, got, want);
	free(got);
	cJSON_Delete(t);
	cJSON_Delete(p);
	cJSON_Delete(w);
	cJSON_Delete(out);
}

Test(k8s_mergepatch, rfc7386_appendix_a)
{
	check_merge("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
	check_merge("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
	check_merge("{\"a\":\"b\"}", "{\"a\":null}", "{}");
	check_merge("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
	check_merge("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
	check_merge("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
	check_merge("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}");
	check_merge("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
	check_merge("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
	check_merge("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
	check_merge("{\"a\":\"foo\"}", "null", "null");
	check_merge("{\"a\":\"foo\"}", "\"bar\"", "\"bar\"");
	check_merge("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
	check_merge("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
	check_merge("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
}

static void check_smp(const char *target, const char *patch, const char *want)
{
	cJSON *t = cJSON_Parse(target), *p = cJSON_Parse(patch), *w = cJSON_Parse(want), *out = NULL;
	cr_assert_eq(mg_strategic_merge_patch_apply(&out, t, p), 0, "%s", patch);
	char *got = cJSON_PrintUnformatted(out);
	cr_assert(cJSON_Compare(out, w, 1), "smp %s + %s = %s, want %s", target, patch, got, want);
	free(got);
	cJSON_Delete(t);
	cJSON_Delete(p);
	cJSON_Delete(w);
	cJSON_Delete(out);
}

Test(k8s_mergepatch, strategic_lists_merge_by_key)
{
	/* webhooks merge on name: one is changed, one added, one kept */
	check_smp("{\"webhooks\":[{\"name\":\"a\",\"timeoutSeconds\":5},{\"name\":\"b\"}]}",
		  "{\"webhooks\":[{\"name\":\"a\",\"timeoutSeconds\":3},{\"name\":\"c\"}]}",
		  "{\"webhooks\":[{\"name\":\"a\",\"timeoutSeconds\":3},{\"name\":\"b\"},{\"name\":\"c\"}]}");
	/* $patch: delete removes one element */
	check_smp("{\"webhooks\":[{\"name\":\"a\"},{\"name\":\"b\"}]}",
		  "{\"webhooks\":[{\"name\":\"a\",\"$patch\":\"delete\"}]}", "{\"webhooks\":[{\"name\":\"b\"}]}");
	/* finalizers merge as a set; other scalar lists are replaced */
	check_smp("{\"metadata\":{\"finalizers\":[\"x\"]},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"]}}",
		  "{\"metadata\":{\"finalizers\":[\"y\",\"x\"]},\"spec\":{\"accessModes\":[\"ReadOnlyMany\"]}}",
		  "{\"metadata\":{\"finalizers\":[\"x\",\"y\"]},\"spec\":{\"accessModes\":[\"ReadOnlyMany\"]}}");
	check_smp("{\"metadata\":{\"finalizers\":[\"x\",\"y\"]}}",
		  "{\"$deleteFromPrimitiveList/finalizers\":[\"x\"]}", "{\"metadata\":{\"finalizers\":[\"x\",\"y\"]}}");
	check_smp("{\"metadata\":{\"finalizers\":[\"x\",\"y\"]}}",
		  "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"x\"]}}",
		  "{\"metadata\":{\"finalizers\":[\"y\"]}}");
}

Test(k8s_mergepatch, strategic_directives_as_kubectl_apply_sends_them)
{
	/* what kubectl apply sends after removing an annotation and changing a request */
	check_smp("{\"metadata\":{\"annotations\":{\"a\":\"1\",\"last\":\"x\"}},\"spec\":{\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}",
		  "{\"metadata\":{\"annotations\":{\"a\":null,\"last\":\"y\"}},\"spec\":{\"resources\":{\"requests\":{\"storage\":\"2Gi\"}}}}",
		  "{\"metadata\":{\"annotations\":{\"last\":\"y\"}},\"spec\":{\"resources\":{\"requests\":{\"storage\":\"2Gi\"}}}}");
	check_smp("{\"spec\":{\"a\":1,\"b\":2}}", "{\"spec\":{\"$patch\":\"replace\",\"c\":3}}", "{\"spec\":{\"c\":3}}");
	check_smp("{\"spec\":{\"a\":1,\"b\":2}}", "{\"spec\":{\"$retainKeys\":[\"b\",\"c\"],\"c\":3}}",
		  "{\"spec\":{\"b\":2,\"c\":3}}");
	check_smp("{\"spec\":{\"a\":1}}", "{\"spec\":{\"$patch\":\"delete\"}}", "{}");
	check_smp("{\"webhooks\":[{\"name\":\"a\"}]}",
		  "{\"$setElementOrder/webhooks\":[{\"name\":\"a\"}],\"webhooks\":[{\"name\":\"a\",\"x\":1}]}",
		  "{\"webhooks\":[{\"name\":\"a\",\"x\":1}]}");
}

Test(k8s_mergepatch, malformed_strategic_patches_are_refused)
{
	const char *bad[] = {
		"[1]",
		"{\"$patch\":7}",
		"{\"$patch\":\"explode\"}",
		"{\"webhooks\":[{\"noname\":1}]}",
		"{\"$retainKeys\":\"a\"}",
		"{\"$unknownDirective\":1}",
	};
	cJSON *t = cJSON_Parse("{\"webhooks\":[]}");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *p = cJSON_Parse(bad[i]), *out = NULL;
		cr_assert_eq(mg_strategic_merge_patch_apply(&out, t, p), MG_EINVAL, "%s", bad[i]);
		cr_assert_null(out);
		cJSON_Delete(p);
	}
	cJSON *out = NULL;
	cr_assert_eq(mg_merge_patch_apply(&out, t, NULL), MG_EINVAL);
	/* a hostile depth is refused rather than recursing without bound */
	char deep[5 * 100 + 100 + 8] = "";
	size_t n = 0;
	for (int i = 0; i < 100; i++) {
		deep[n++] = '{';
		deep[n++] = '"';
		deep[n++] = 'a';
		deep[n++] = '"';
		deep[n++] = ':';
	}
	deep[n++] = '1';
	for (int i = 0; i < 100; i++)
		deep[n++] = '}';
	deep[n] = '\0';
	cJSON *p = cJSON_Parse(deep);
	cr_assert_not_null(p);
	cr_assert_eq(mg_strategic_merge_patch_apply(&out, t, p), MG_EINVAL);
	cJSON_Delete(p);
	cJSON_Delete(t);
}
