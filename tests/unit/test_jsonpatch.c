#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/core/jsonpatch.h"

/* Applies patch_text to doc_text; on success compares with want_text. */
static int run(const char *doc_text, const char *patch_text, const char *want_text)
{
	cJSON *doc = cJSON_Parse(doc_text), *patch = cJSON_Parse(patch_text);
	cr_assert(doc && patch);
	cJSON *before = cJSON_Duplicate(doc, 1);
	int rc = mg_jsonpatch_apply(&doc, patch);
	if (rc == 0) {
		cJSON *want = cJSON_Parse(want_text);
		char *got = cJSON_PrintUnformatted(doc);
		cr_assert(cJSON_Compare(doc, want, 1), "got %s, want %s", got, want_text);
		free(got);
		cJSON_Delete(want);
	} else {
		cr_assert(cJSON_Compare(doc, before, 1), "a failed patch must leave the document alone");
	}
	cJSON_Delete(before);
	cJSON_Delete(doc);
	cJSON_Delete(patch);
	return rc;
}

Test(jsonpatch, rfc6902_operations)
{
	cr_assert_eq(run("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":[1]}]",
			 "{\"a\":1,\"b\":[1]}"), 0);
	cr_assert_eq(run("{\"b\":[1,3]}", "[{\"op\":\"add\",\"path\":\"/b/1\",\"value\":2}]",
			 "{\"b\":[1,2,3]}"), 0);
	cr_assert_eq(run("{\"b\":[1]}", "[{\"op\":\"add\",\"path\":\"/b/-\",\"value\":2}]",
			 "{\"b\":[1,2]}"), 0);
	cr_assert_eq(run("{\"a\":1,\"b\":2}", "[{\"op\":\"remove\",\"path\":\"/a\"}]", "{\"b\":2}"), 0);
	cr_assert_eq(run("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":\"x\"}]",
			 "{\"a\":\"x\"}"), 0);
	cr_assert_eq(run("{\"a\":{\"x\":1}}", "[{\"op\":\"move\",\"from\":\"/a/x\",\"path\":\"/y\"}]",
			 "{\"a\":{},\"y\":1}"), 0);
	cr_assert_eq(run("{\"a\":[1]}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]",
			 "{\"a\":[1],\"b\":[1]}"), 0);
	cr_assert_eq(run("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1}]", "{\"a\":1}"), 0);
	cr_assert_eq(run("{\"m\":{}}", "[{\"op\":\"add\",\"path\":\"/m/a~1b~0c\",\"value\":1}]",
			 "{\"m\":{\"a/b~c\":1}}"), 0);
	cr_assert_eq(run("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":[]}]", "[]"), 0);
}

Test(jsonpatch, failures_leave_the_document_untouched)
{
	cr_assert_eq(run("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},"
				      "{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]", NULL),
		     MG_ECONFLICT);
	cr_assert_eq(run("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/nope\"}]", NULL), MG_ENOTFOUND);
	cr_assert_eq(run("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/nope\",\"value\":1}]", NULL),
		     MG_ENOTFOUND);
	cr_assert_eq(run("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":1}]", NULL),
		     MG_ENOTFOUND);
	cr_assert_eq(run("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":1}]", NULL),
		     MG_EINVAL);
	cr_assert_eq(run("{\"a\":1}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", NULL), MG_EINVAL);
	cr_assert_eq(run("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", NULL), MG_EINVAL);
	cr_assert_eq(run("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\"}]", NULL), MG_EINVAL);
	cr_assert_eq(run("{\"a\":{}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b\"}]", NULL),
		     MG_EINVAL);
	cr_assert_eq(run("{\"a\":1}", "{\"op\":\"add\"}", NULL), MG_EINVAL);
	cr_assert_eq(run("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a/~2\",\"value\":1}]", NULL),
		     MG_EINVAL);
}

Test(jsonpatch, building_patches)
{
	cJSON *patch = cJSON_CreateArray();
	char *esc = mg_json_pointer_escape("trident.netapp.io/mirrorRelationship");
	cr_assert_str_eq(esc, "trident.netapp.io~1mirrorRelationship");
	char path[128];
	snprintf(path, sizeof(path), "/metadata/annotations/%s", esc);
	free(esc);
	cr_assert_eq(mg_jsonpatch_append(patch, "add", "/metadata/annotations", cJSON_CreateObject()), 0);
	cr_assert_eq(mg_jsonpatch_append(patch, "add", path, cJSON_CreateString("tmr")), 0);
	cJSON *doc = cJSON_Parse("{\"metadata\":{}}");
	cr_assert_eq(mg_jsonpatch_apply(&doc, patch), 0);
	cJSON *v = mg_json_pointer_get(doc, path);
	cr_assert_str_eq(v->valuestring, "tmr");
	cJSON_Delete(doc);
	cJSON_Delete(patch);
}
