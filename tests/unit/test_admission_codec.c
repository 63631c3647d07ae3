/* The AdmissionReview codec, both directions, every field (issue 3). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "jsonscan.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/tls.h"

static char *fixture(const char *name, size_t *len)
{
	char path[512];
	char *data = NULL;
	snprintf(path, sizeof(path), "%s/tests/data/webhook/%s", MG_SOURCE_DIR, name);
	cr_assert_eq(mg_read_file(path, 1 << 20, &data, len), 0, "read %s", path);
	return data;
}

static int decode_str(mg_admission_request *r, const char *body, const char **why)
{
	return mg_admission_decode(r, body, strlen(body), why);
}

static const char *str_at(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

Test(admission_decode, every_request_field)
{
	size_t len;
	char *body = fixture("review-full.json", &len);
	mg_admission_request r;
	const char *why = "unset";
	cr_assert_eq(mg_admission_decode(&r, body, len, &why), 0, "%s", why);
	cr_assert_null(why);
	cr_assert_str_eq(r.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
	cr_assert_str_eq(r.kind.group, "trident.netapp.io");
	cr_assert_str_eq(r.kind.version, "v1");
	cr_assert_str_eq(r.kind.kind, "TridentMirrorRelationship");
	cr_assert_str_eq(r.resource.group, "trident.netapp.io");
	cr_assert_str_eq(r.resource.version, "v1");
	cr_assert_str_eq(r.resource.kind, "tridentmirrorrelationships");
	cr_assert_str_eq(r.sub_resource, "status");
	cr_assert_str_eq(r.operation, "UPDATE");
	cr_assert_eq(r.op, MG_OP_UPDATE);
	cr_assert_str_eq(r.ns, "prod");
	cr_assert_str_eq(r.name, "csi-nas");
	cr_assert(r.dry_run);
	cr_assert_str_eq(r.user_info.username, "admin");
	cr_assert_str_eq(r.user_info.uid, "014fbff9a07c");
	cr_assert_eq(cJSON_GetArraySize(r.user_info.groups), 2);
	cr_assert_str_eq(cJSON_GetArrayItem(r.user_info.groups, 1)->valuestring, "my-admin-group");
	const cJSON *extra = cJSON_GetObjectItemCaseSensitive(r.user_info.extra, "some-key");
	cr_assert_eq(cJSON_GetArraySize(extra), 2);
	cr_assert_not_null(r.object);
	cr_assert_not_null(r.old_object);
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(r.object, "spec");
	cr_assert_str_eq(str_at(spec, "state"), "promoted");
	spec = cJSON_GetObjectItemCaseSensitive(r.old_object, "spec");
	cr_assert_str_eq(str_at(spec, "state"), "established");
	mg_admission_request_free(&r);
	cr_assert_null(r.root);
	mg_admission_request_free(NULL);
	free(body);
}

Test(admission_decode, core_group_create_with_generate_name_and_delete)
{
	/* A PVC CREATE from a generateName: no name, core group "", no oldObject, dryRun false. */
	const char *create =
		"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
		"\"uid\":\"u1\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":"
		"\"PersistentVolumeClaim\"},\"resource\":{\"group\":\"\",\"version\":\"v1\","
		"\"resource\":\"persistentvolumeclaims\"},\"namespace\":\"ns\",\"operation\":"
		"\"CREATE\",\"userInfo\":{\"username\":\"u\"},\"object\":{\"kind\":"
		"\"PersistentVolumeClaim\"},\"oldObject\":null,\"dryRun\":false}}";
	mg_admission_request r;
	const char *why;
	cr_assert_eq(decode_str(&r, create, &why), 0, "%s", why);
	cr_assert_str_eq(r.kind.group, "");
	cr_assert_null(r.name);
	cr_assert_null(r.sub_resource);
	cr_assert_null(r.old_object);
	cr_assert_not_null(r.object);
	cr_assert_eq(r.op, MG_OP_CREATE);
	cr_assert_not(r.dry_run);
	cr_assert_null(r.user_info.groups);
	mg_admission_request_free(&r);

	/* A cluster-scoped DELETE: object null, no namespace, no group member at all. */
	const char *del =
		"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
		"\"uid\":\"u2\",\"kind\":{\"version\":\"v1\",\"kind\":\"StorageClass\"},"
		"\"resource\":{\"group\":\"storage.k8s.io\",\"version\":\"v1\",\"resource\":"
		"\"storageclasses\"},\"name\":\"gold\",\"operation\":\"DELETE\",\"object\":null,"
		"\"oldObject\":{\"kind\":\"StorageClass\"}}}";
	cr_assert_eq(decode_str(&r, del, &why), 0, "%s", why);
	cr_assert_eq(r.op, MG_OP_DELETE);
	cr_assert_null(r.object);
	cr_assert_not_null(r.old_object);
	cr_assert_null(r.ns);
	cr_assert_str_eq(r.kind.group, "");
	cr_assert_str_eq(r.name, "gold");
	mg_admission_request_free(&r);
}

struct bad_case {
	const char *body;
	int rc;
	const char *why;
};

#define HDR "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
#define KINDS                                                                                  \
	"\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"resource\":{\"group\":"  \
	"\"\",\"version\":\"v1\",\"resource\":\"pods\"}"

Test(admission_decode, bad_reviews_are_refused_with_a_reason)
{
	static const struct bad_case cases[] = {
		{"", MG_EPARSE, "the request body is empty"},
		{"{\"apiVersion\":", MG_EPARSE, "the request body is not valid JSON"},
		{"[1,2]", MG_EINVAL, "the body is not a JSON object"},
		{"{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\"}",
		 MG_EINVAL, "apiVersion must be \"admission.k8s.io/v1\""},
		{"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Pod\"}", MG_EINVAL,
		 "kind must be \"AdmissionReview\""},
		{HDR "\"response\":{}}", MG_EINVAL, "request is missing or not an object"},
		{HDR "\"request\":[]}", MG_EINVAL, "request is missing or not an object"},
		{HDR "\"request\":{" KINDS ",\"operation\":\"CREATE\"}}", MG_EINVAL,
		 "request.uid is missing or not a string"},
		{HDR "\"request\":{\"uid\":7," KINDS ",\"operation\":\"CREATE\"}}", MG_EINVAL,
		 "request.uid is missing or not a string"},
		/* Invalid UTF-8 anywhere is refused before parsing (the uid included). */
		{HDR "\"request\":{\"uid\":\"\xff\xfe\"," KINDS ",\"operation\":\"CREATE\"}}", MG_EPARSE,
		 "the request body is not valid UTF-8"},
		{HDR "\"request\":{\"uid\":\"u\"," KINDS ",\"operation\":\"CREATE\",\"name\":\"a\xc0\xaf\"}}",
		 MG_EPARSE, "the request body is not valid UTF-8"},
		{HDR "\"request\":{\"uid\":\"u\xed\xa0\x80\"," KINDS ",\"operation\":\"CREATE\"}}",
		 MG_EPARSE, "the request body is not valid UTF-8"},
		/* A NUL would cut the echoed uid (or a reviewed name) short. */
		{HDR "\"request\":{\"uid\":\"abc\\u0000def\"," KINDS ",\"operation\":\"CREATE\"}}",
		 MG_EPARSE, "a string holds \\u0000, which cannot be reviewed"},
		{HDR "\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\"}}", MG_EINVAL,
		 "request.kind must be an object with a kind"},
		{HDR "\"request\":{\"uid\":\"u\"," KINDS ",\"operation\":\"PATCH\"}}", MG_EINVAL,
		 "request.operation must be CREATE, UPDATE, DELETE or CONNECT"},
		{HDR "\"request\":{\"uid\":\"u\"," KINDS ",\"operation\":\"CREATE\",\"object\":3}}",
		 MG_EINVAL, "request.object must be an object or null"},
		{HDR "\"request\":{\"uid\":\"u\"," KINDS ",\"operation\":\"CREATE\",\"oldObject\":\"x\"}}",
		 MG_EINVAL, "request.oldObject must be an object or null"},
		{HDR "\"request\":{\"uid\":\"u\"," KINDS ",\"operation\":\"CREATE\",\"dryRun\":\"yes\"}}",
		 MG_EINVAL, "request.dryRun must be a boolean"},
		{HDR "\"request\":{\"uid\":\"u\"," KINDS ",\"operation\":\"CREATE\",\"namespace\":1}}",
		 MG_EINVAL, "request.namespace must be a string"},
		{HDR "\"request\":{\"uid\":\"u\"," KINDS
		     ",\"operation\":\"CREATE\",\"userInfo\":{\"groups\":[1]}}}",
		 MG_EINVAL, "request.userInfo is malformed"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mg_admission_request r;
		const char *why = NULL;
		int rc = decode_str(&r, cases[i].body, &why);
		cr_assert_eq(rc, cases[i].rc, "case %zu: rc %d", i, rc);
		cr_assert_str_eq(why, cases[i].why, "case %zu", i);
		cr_assert_null(r.root, "case %zu leaves nothing to free", i);
	}
}

Test(admission_decode, deep_nesting_is_refused_not_crashing)
{
	size_t depth = 5000;
	char *body = malloc(depth * 2 + 1);
	cr_assert_not_null(body);
	memset(body, '[', depth);
	memset(body + depth, ']', depth);
	body[depth * 2] = '\0';
	mg_admission_request r;
	const char *why;
	cr_assert_eq(decode_str(&r, body, &why), MG_ETOOBIG);
	cr_assert_str_eq(why, "the JSON nesting is deeper than the webhook accepts");
	free(body);
}

/* Builds "<prefix><n copies of item, comma-separated><suffix>". */
static char *repeat(const char *prefix, const char *item, size_t n, const char *suffix)
{
	size_t il = strlen(item), len = strlen(prefix) + n * (il + 1) + strlen(suffix) + 1;
	char *s = malloc(len), *p = s;
	cr_assert_not_null(s);
	size_t pl = strlen(prefix);
	memcpy(p, prefix, pl);
	p += pl;
	for (size_t i = 0; i < n; i++) {
		memcpy(p, item, il);
		p += il;
		if (i + 1 < n)
			*p++ = ',';
	}
	memcpy(p, suffix, strlen(suffix) + 1);
	return s;
}

/* The attack: a 3 MB "[0,0,...]" was 1.5 M nodes (96 MB). Each limit refuses its own shape
 * before any tree is built, with MG_ETOOBIG and a reason naming the limit. */
Test(admission_decode, bodies_over_the_decoder_limits_are_refused_before_parsing)
{
	static const char *hdr = HDR "\"request\":{\"uid\":\"u\"," KINDS
				 ",\"operation\":\"CREATE\",\"object\":{\"x\":";
	struct {
		char *body;
		const char *why;
	} cases[] = {
		{NULL, "the request has more JSON values than the webhook accepts"},
		{repeat("[", "0", 1500000, "]"), "an array has more elements than the webhook accepts"},
		{repeat(hdr, "0", MG_JSON_MAX_ARRAY + 1, "}}}"), NULL},
		{NULL, "an object has more members than the webhook accepts"},
		{NULL, "a string is longer than the webhook accepts"},
	};
	/* 21 arrays of 5000: within the array limit, over the node limit. */
	char *inner = repeat("[", "0", 5000, "]");
	char *outer = repeat("[", inner, MG_JSON_MAX_NODES / 5000 + 1, "]");
	cases[0].body = repeat(hdr, outer, 1, "}}}");
	free(inner);
	free(outer);
	/* An array one over the limit, inside a real review. */
	char *arr = repeat("[", "0", MG_JSON_MAX_ARRAY + 1, "]");
	free(cases[2].body);
	cases[2].body = repeat(hdr, arr, 1, "}}}");
	cases[2].why = "an array has more elements than the webhook accepts";
	free(arr);
	/* An object with one member too many (distinct keys). */
	mg_strbuf sb = MG_STRBUF_INIT;
	mg_strbuf_puts(&sb, hdr);
	mg_strbuf_putc(&sb, '{');
	for (unsigned i = 0; i <= MG_JSON_MAX_MEMBERS; i++)
		mg_strbuf_printf(&sb, "%s\"k%u\":1", i ? "," : "", i);
	mg_strbuf_puts(&sb, "}}}}");
	cases[3].body = sb.data;
	/* A string one byte over. */
	char *big = malloc(MG_JSON_MAX_STRING + 2);
	cr_assert_not_null(big);
	memset(big, 'a', MG_JSON_MAX_STRING + 1);
	big[MG_JSON_MAX_STRING + 1] = '\0';
	mg_strbuf s2 = MG_STRBUF_INIT;
	mg_strbuf_printf(&s2, "%s\"%s\"}}}", hdr, big);
	free(big);
	cases[4].body = s2.data;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mg_admission_request r;
		const char *why = NULL;
		cr_assert_eq(decode_str(&r, cases[i].body, &why), MG_ETOOBIG, "case %zu", i);
		cr_assert_str_eq(why, cases[i].why, "case %zu", i);
		cr_assert_null(r.root);
		free(cases[i].body);
	}
}

/* Exactly at each limit is accepted: the limits are inclusive. */
Test(admission_decode, bodies_at_the_limits_are_accepted)
{
	static const char *hdr = HDR "\"request\":{\"uid\":\"u\"," KINDS
				 ",\"operation\":\"CREATE\",\"object\":{\"x\":";
	char *arr = repeat("[", "0", MG_JSON_MAX_ARRAY, "]");
	char *body = repeat(hdr, arr, 1, "}}}");
	mg_admission_request r;
	const char *why = NULL;
	cr_assert_eq(decode_str(&r, body, &why), 0, "%s", why ? why : "");
	mg_admission_request_free(&r);
	free(body);
	free(arr);
	mg_json_scan scan;
	const char *small = "[[1],{\"a\":\"b\"}]";
	cr_assert(mg_json_within(small, strlen(small), &mg_json_default_limits, &scan, &why));
	cr_assert_eq(scan.nodes, 5, "the array, [1], 1, the object and \"b\": %zu", scan.nodes);
	cr_assert_eq(scan.depth, 2);
}

/* The API server's decoder keeps the last of duplicate keys; the review must see the same
 * object, at every level. */
Test(admission_decode, duplicate_keys_keep_the_last_as_the_api_server_does)
{
	const char *body = HDR "\"request\":{\"uid\":\"first\",\"uid\":\"last\"," KINDS
			       ",\"operation\":\"CREATE\",\"name\":\"a\",\"object\":{\"metadata\":"
			       "{\"name\":\"x\",\"labels\":{\"k\":\"1\"},\"name\":\"y\"}},"
			       "\"name\":\"b\"}}";
	mg_admission_request r;
	const char *why = NULL;
	cr_assert_eq(decode_str(&r, body, &why), 0, "%s", why ? why : "");
	cr_assert_str_eq(r.uid, "last");
	cr_assert_str_eq(r.name, "b");
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(r.object, "metadata");
	cr_assert_str_eq(str_at(md, "name"), "y");
	cr_assert_eq(cJSON_GetArraySize(md), 2, "one name and the labels");
	mg_admission_request_free(&r);
}

static cJSON *encode(const mg_admission_response *resp)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	cr_assert_eq(mg_admission_encode(&sb, resp), 0);
	cJSON *j = cJSON_Parse(sb.data);
	cr_assert_not_null(j, "encoder output is JSON: %s", sb.data);
	mg_strbuf_free(&sb);
	return j;
}

Test(admission_encode, allowed_minimal_has_no_status_patch_or_annotations)
{
	mg_admission_response resp = {.uid = "u-1", .allowed = true};
	cJSON *j = encode(&resp);
	cr_assert_str_eq(str_at(j, "apiVersion"), "admission.k8s.io/v1");
	cr_assert_str_eq(str_at(j, "kind"), "AdmissionReview");
	cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "response");
	cr_assert_str_eq(str_at(r, "uid"), "u-1");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "allowed")));
	cr_assert_eq(cJSON_GetArraySize(r), 2, "only uid and allowed");
	cJSON_Delete(j);
}

Test(admission_encode, denial_with_every_field)
{
	const char *warnings[] = {"TMR-X: \"quoted\" warning", "second"};
	const char *rules[] = {"TMR-STATE", "TMR-PVC"};
	const char *patch = "[{\"op\":\"add\",\"path\":\"/metadata/labels/a~1b\",\"value\":\"x\"}]";
	mg_admission_response resp = {
		.uid = "uid\"with\\quote",
		.allowed = false,
		.code = 403,
		.reason = "Forbidden",
		.message = "TridentMirrorRelationship.trident.netapp.io \"a\" is invalid: x: Required value",
		.warnings = warnings,
		.nwarnings = 2,
		.patch = patch,
		.patch_len = strlen(patch),
		.rules = rules,
		.nrules = 2,
	};
	cJSON *j = encode(&resp);
	cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "response");
	cr_assert_str_eq(str_at(r, "uid"), "uid\"with\\quote");
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "allowed")));
	cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "status");
	cr_assert_str_eq(str_at(st, "status"), "Failure");
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "code")->valueint, 403);
	cr_assert_str_eq(str_at(st, "reason"), "Forbidden");
	cr_assert_str_eq(str_at(st, "message"), resp.message);
	cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "warnings");
	cr_assert_eq(cJSON_GetArraySize(w), 2);
	cr_assert_str_eq(cJSON_GetArrayItem(w, 0)->valuestring, warnings[0]);
	cr_assert_str_eq(str_at(r, "patchType"), "JSONPatch");
	/* echo -n '<patch>' | base64 -w0 */
	cr_assert_str_eq(str_at(r, "patch"),
			 "W3sib3AiOiJhZGQiLCJwYXRoIjoiL21ldGFkYXRhL2xhYmVscy9hfjFiIiwidmFsdWUiOiJ4In1d");
	cJSON *aa = cJSON_GetObjectItemCaseSensitive(r, "auditAnnotations");
	cr_assert_str_eq(str_at(aa, "rules"), "TMR-STATE,TMR-PVC");
	cJSON_Delete(j);
}

Test(admission_encode, denial_code_below_400_becomes_403_and_bad_request_keeps_400)
{
	mg_admission_response resp = {.uid = "u", .allowed = false, .code = 200};
	cJSON *j = encode(&resp);
	cJSON *st = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "response"),
						     "status");
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "code")->valueint, 403);
	cr_assert_null(str_at(st, "message"));
	cJSON_Delete(j);
	resp.code = 400;
	resp.reason = "BadRequest";
	j = encode(&resp);
	st = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "response"),
					      "status");
	cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "code")->valueint, 400);
	cJSON_Delete(j);
	mg_strbuf sb = MG_STRBUF_INIT;
	mg_admission_response no_uid = {.allowed = true};
	cr_assert_eq(mg_admission_encode(&sb, &no_uid), MG_EINVAL);
	mg_strbuf_free(&sb);
}

Test(admission_encode, empty_patch_sends_no_patch_type)
{
	mg_admission_response resp = {.uid = "u", .allowed = true, .patch = "", .patch_len = 0};
	cJSON *j = encode(&resp);
	cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "response");
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "patchType"));
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "patch"));
	cJSON_Delete(j);
}

Test(admission_encode, base64_padding)
{
	static const struct {
		const char *in, *out;
	} cases[] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
		     {"\xff\xfe\xfd", "//79"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mg_strbuf sb = MG_STRBUF_INIT;
		cr_assert_eq(mg_base64_encode(&sb, (const unsigned char *)cases[i].in,
					      strlen(cases[i].in)),
			     0);
		cr_assert_str_eq(sb.data ? sb.data : "", cases[i].out);
		mg_strbuf_free(&sb);
	}
}

Test(admission_encode, http_error_status_body)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	cr_assert_eq(mg_admission_encode_status(&sb, 413, "RequestEntityTooLarge", "body \"too\" big"),
		     0);
	cr_assert_str_eq(sb.data, "{\"apiVersion\":\"v1\",\"kind\":\"Status\",\"status\":\"Failure\","
				  "\"code\":413,\"reason\":\"RequestEntityTooLarge\",\"message\":"
				  "\"body \\\"too\\\" big\"}");
	mg_strbuf_free(&sb);
}

/* Whatever bytes a message quotes, the response is JSON: invalid UTF-8 becomes U+FFFD (as
 * Go's encoder does), valid multi-byte text is kept. */
Test(admission_encode, invalid_utf8_in_a_message_is_escaped)
{
	mg_admission_response resp = {.uid = "u", .allowed = false, .code = 403,
				      .message = "name \"a\xff\xc0\xaf\xed\xa0\x80\xe2\x82\" caf\xc3\xa9"};
	mg_strbuf sb = MG_STRBUF_INIT;
	cr_assert_eq(mg_admission_encode(&sb, &resp), 0);
	cr_assert_not_null(strstr(sb.data, "name \\\"a\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
					   "\\ufffd\\ufffd\\\" caf\xc3\xa9"),
			   "%s", sb.data);
	mg_strbuf_free(&sb);
}
