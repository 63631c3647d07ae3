#include "admission.h"

#include <stdlib.h>
#include <string.h>

#include "jsonscan.h"
#include "mirrorgate/util/err.h"

#define API_VERSION "admission.k8s.io/v1"

/* Strict UTF-8 check (no overlongs, no surrogates): the uid is echoed back and compared
 * byte for byte by the API server, so it must survive JSON round trips unchanged. */
static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p;
		size_t n;
		unsigned min;
		if (c < 0x80) {
			p++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			n = 1, min = 0x80, c &= 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			n = 2, min = 0x800, c &= 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			n = 3, min = 0x10000, c &= 0x07;
		} else {
			return false;
		}
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return false;
			c = (c << 6) | (p[i] & 0x3F);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return false;
		p += n + 1;
	}
	return true;
}

/* An optional string member: absent or null gives NULL; any other non-string type is an
 * error. */
static int opt_string(const cJSON *obj, const char *key, const char **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = NULL;
	if (!item || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsString(item))
		return MG_EINVAL;
	*out = item->valuestring;
	return 0;
}

/* An optional object member: absent or null gives NULL. */
static int opt_object(const cJSON *obj, const char *key, const cJSON **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = NULL;
	if (!item || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsObject(item))
		return MG_EINVAL;
	*out = item;
	return 0;
}

static int decode_gvk(const cJSON *req, const char *key, const char *leaf, mg_gvk *out)
{
	const cJSON *gvk;
	if (opt_object(req, key, &gvk) || !gvk)
		return MG_EINVAL;
	if (opt_string(gvk, "group", &out->group) || opt_string(gvk, "version", &out->version) ||
	    opt_string(gvk, leaf, &out->kind))
		return MG_EINVAL;
	if (!out->group)
		out->group = "";
	if (!out->version)
		out->version = "";
	if (!out->kind || !*out->kind)
		return MG_EINVAL;
	return 0;
}

static int decode_user(const cJSON *req, mg_user_info *out)
{
	const cJSON *user;
	if (opt_object(req, "userInfo", &user))
		return MG_EINVAL;
	if (!user)
		return 0;
	if (opt_string(user, "username", &out->username) || opt_string(user, "uid", &out->uid))
		return MG_EINVAL;
	const cJSON *groups = cJSON_GetObjectItemCaseSensitive(user, "groups");
	if (groups && !cJSON_IsNull(groups)) {
		if (!cJSON_IsArray(groups))
			return MG_EINVAL;
		const cJSON *g;
		cJSON_ArrayForEach(g, groups) {
			if (!cJSON_IsString(g))
				return MG_EINVAL;
		}
		out->groups = groups;
	}
	return opt_object(user, "extra", &out->extra);
}

static const char *decode_request(mg_admission_request *r, const cJSON *root)
{
	const char *s;
	if (!cJSON_IsObject(root))
		return "the body is not a JSON object";
	if (opt_string(root, "apiVersion", &s) || !s || strcmp(s, API_VERSION) != 0)
		return "apiVersion must be \"" API_VERSION "\"";
	if (opt_string(root, "kind", &s) || !s || strcmp(s, "AdmissionReview") != 0)
		return "kind must be \"AdmissionReview\"";
	const cJSON *req;
	if (opt_object(root, "request", &req) || !req)
		return "request is missing or not an object";
	if (opt_string(req, "uid", &r->uid) || !r->uid || !*r->uid)
		return "request.uid is missing or not a string";
	if (!valid_utf8(r->uid))
		return "request.uid is not valid UTF-8";
	if (decode_gvk(req, "kind", "kind", &r->kind))
		return "request.kind must be an object with a kind";
	if (decode_gvk(req, "resource", "resource", &r->resource))
		return "request.resource must be an object with a resource";
	if (opt_string(req, "subResource", &r->sub_resource))
		return "request.subResource must be a string";
	if (r->sub_resource && !*r->sub_resource)
		r->sub_resource = NULL;
	if (opt_string(req, "operation", &r->operation) || !r->operation ||
	    mg_op_parse(r->operation, &r->op))
		return "request.operation must be CREATE, UPDATE, DELETE or CONNECT";
	if (opt_string(req, "namespace", &r->ns))
		return "request.namespace must be a string";
	if (r->ns && !*r->ns)
		r->ns = NULL;
	if (opt_string(req, "name", &r->name))
		return "request.name must be a string";
	if (r->name && !*r->name)
		r->name = NULL;
	if (opt_object(req, "object", &r->object))
		return "request.object must be an object or null";
	if (opt_object(req, "oldObject", &r->old_object))
		return "request.oldObject must be an object or null";
	const cJSON *dry = cJSON_GetObjectItemCaseSensitive(req, "dryRun");
	if (dry && !cJSON_IsNull(dry) && !cJSON_IsBool(dry))
		return "request.dryRun must be a boolean";
	r->dry_run = cJSON_IsTrue(dry);
	if (decode_user(req, &r->user_info))
		return "request.userInfo is malformed";
	return NULL;
}

typedef struct member_ref {
	cJSON *item;
	size_t index;
} member_ref;

static int by_key_then_index(const void *a, const void *b)
{
	const member_ref *x = a, *y = b;
	int c = strcmp(x->item->string, y->item->string);
	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Drops all but the last of the members of obj sharing a key. O(k log k) for k members (the
 * scan bounds k), instead of comparing every pair. */
static int dedupe_object(cJSON *obj)
{
	size_t k = 0;
	for (cJSON *c = obj->child; c; c = c->next)
		k++;
	if (k < 2)
		return 0;
	member_ref *refs = malloc(k * sizeof(*refs));
	if (!refs)
		return MG_ENOMEM;
	size_t i = 0;
	for (cJSON *c = obj->child; c; c = c->next, i++)
		refs[i] = (member_ref){c, i};
	qsort(refs, k, sizeof(*refs), by_key_then_index);
	for (i = 0; i + 1 < k; i++) {
		if (strcmp(refs[i].item->string, refs[i + 1].item->string) == 0)
			cJSON_Delete(cJSON_DetachItemViaPointer(obj, refs[i].item));
	}
	free(refs);
	return 0;
}

/* The API server's decoder (sigs.k8s.io/json, like encoding/json) keeps the last of
 * duplicate keys, cJSON's look-ups find the first: the review must see what the API server
 * stores, so only the last of each key is kept, at every level. Depth is bounded by the scan. */
static int keep_last_duplicates(cJSON *node)
{
	if (cJSON_IsObject(node) && dedupe_object(node))
		return MG_ENOMEM;
	for (cJSON *c = node->child; c; c = c->next)
		if (keep_last_duplicates(c))
			return MG_ENOMEM;
	return 0;
}

int mg_admission_decode(mg_admission_request *out, const char *body, size_t len,
			const char **why)
{
	mg_admission_request r = {0};
	int rc = 0;
	*why = NULL;
	memset(out, 0, sizeof(*out));
	if (!body || len == 0) {
		*why = "the request body is empty";
		return MG_EPARSE;
	}
	if (!mg_json_within(body, len, &mg_json_default_limits, NULL, why)) {
		/* Over a limit (a 413), or text the rules cannot review (a 400). */
		return strstr(*why, "than the webhook accepts") ? MG_ETOOBIG : MG_EPARSE;
	}
	r.root = cJSON_ParseWithLength(body, len);
	if (r.root && keep_last_duplicates(r.root)) {
		*why = "out of memory";
		rc = MG_ENOMEM;
		goto out;
	}
	if (!r.root) {
		*why = "the request body is not valid JSON";
		rc = MG_EPARSE;
		goto out;
	}
	if ((*why = decode_request(&r, r.root))) {
		rc = MG_EINVAL;
		goto out;
	}
	*out = r;
	r.root = NULL;
out:
	cJSON_Delete(r.root);
	return rc;
}

void mg_admission_request_free(mg_admission_request *req)
{
	if (!req)
		return;
	cJSON_Delete(req->root);
	memset(req, 0, sizeof(*req));
}

int mg_base64_encode(mg_strbuf *out, const unsigned char *data, size_t len)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char quad[4];
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)data[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		quad[0] = tbl[(v >> 18) & 63];
		quad[1] = tbl[(v >> 12) & 63];
		quad[2] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		quad[3] = i + 2 < len ? tbl[v & 63] : '=';
		mg_strbuf_append(out, quad, 4);
	}
	return out->failed ? MG_ENOMEM : 0;
}

int mg_admission_encode(mg_strbuf *out, const mg_admission_response *resp)
{
	if (!resp || !resp->uid)
		return MG_EINVAL;
	mg_strbuf_puts(out, "{\"apiVersion\":\"" API_VERSION "\",\"kind\":\"AdmissionReview\","
			    "\"response\":{\"uid\":");
	mg_strbuf_put_json_string(out, resp->uid);
	mg_strbuf_puts(out, resp->allowed ? ",\"allowed\":true" : ",\"allowed\":false");
	if (!resp->allowed) {
		/* The API server forces codes below 400 to 400; say what we mean instead. */
		int code = resp->code >= 400 ? resp->code : 403;
		mg_strbuf_printf(out, ",\"status\":{\"status\":\"Failure\",\"code\":%d", code);
		if (resp->reason) {
			mg_strbuf_puts(out, ",\"reason\":");
			mg_strbuf_put_json_string(out, resp->reason);
		}
		if (resp->message) {
			mg_strbuf_puts(out, ",\"message\":");
			mg_strbuf_put_json_string(out, resp->message);
		}
		mg_strbuf_putc(out, '}');
	}
	if (resp->nwarnings) {
		mg_strbuf_puts(out, ",\"warnings\":[");
		for (size_t i = 0; i < resp->nwarnings; i++) {
			if (i)
				mg_strbuf_putc(out, ',');
			mg_strbuf_put_json_string(out, resp->warnings[i]);
		}
		mg_strbuf_putc(out, ']');
	}
	/* patchType is sent exactly when a patch is: the API server refuses either alone. */
	if (resp->patch && resp->patch_len) {
		mg_strbuf_puts(out, ",\"patchType\":\"JSONPatch\",\"patch\":\"");
		mg_base64_encode(out, (const unsigned char *)resp->patch, resp->patch_len);
		mg_strbuf_putc(out, '"');
	}
	if (resp->nrules) {
		mg_strbuf_puts(out, ",\"auditAnnotations\":{\"rules\":\"");
		for (size_t i = 0; i < resp->nrules; i++) {
			if (i)
				mg_strbuf_putc(out, ',');
			/* Rule IDs are static [A-Z0-9-] identifiers; escape anyway. */
			mg_strbuf stripped = MG_STRBUF_INIT;
			mg_strbuf_put_json_string(&stripped, resp->rules[i]);
			if (stripped.len >= 2)
				mg_strbuf_append(out, stripped.data + 1, stripped.len - 2);
			mg_strbuf_free(&stripped);
		}
		mg_strbuf_puts(out, "\"}");
	}
	mg_strbuf_puts(out, "}}");
	return out->failed ? MG_ENOMEM : 0;
}

int mg_admission_encode_status(mg_strbuf *out, int code, const char *reason,
			       const char *message)
{
	mg_strbuf_printf(out, "{\"apiVersion\":\"v1\",\"kind\":\"Status\",\"status\":\"Failure\","
			      "\"code\":%d,\"reason\":",
			 code);
	mg_strbuf_put_json_string(out, reason ? reason : "");
	mg_strbuf_puts(out, ",\"message\":");
	mg_strbuf_put_json_string(out, message ? message : "");
	mg_strbuf_puts(out, "}");
	return out->failed ? MG_ENOMEM : 0;
}
