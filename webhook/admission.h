/* The AdmissionReview admission.k8s.io/v1 codec: a request body in, a response body out.
 * Wire contract: ../shared/research/admission.md B.2 (request) and B.3 (response). */
#ifndef MIRRORGATE_WEBHOOK_ADMISSION_H
#define MIRRORGATE_WEBHOOK_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "mirrorgate/rules/review.h"
#include "mirrorgate/util/strbuf.h"

typedef struct mg_gvk {
	const char *group;   /* "" for the core group */
	const char *version;
	const char *kind;    /* for a resource: the plural resource name */
} mg_gvk;

typedef struct mg_user_info {
	const char *username; /* may be NULL */
	const char *uid;      /* may be NULL */
	const cJSON *groups;  /* array of strings, or NULL */
	const cJSON *extra;   /* object of string arrays, or NULL */
} mg_user_info;

/* Every pointer borrows from `root`, which the request owns. */
typedef struct mg_admission_request {
	cJSON *root;
	const char *uid;
	mg_gvk kind;
	mg_gvk resource;         /* .kind holds the resource name, e.g. "persistentvolumeclaims" */
	const char *sub_resource; /* NULL when absent or empty */
	const char *operation;   /* as sent: "CREATE", ... */
	enum mg_op op;
	const char *ns;          /* NULL when absent (cluster-scoped) */
	const char *name;        /* NULL when absent (generateName on CREATE) */
	const cJSON *object;     /* NULL when absent or JSON null (DELETE) */
	const cJSON *old_object; /* NULL when absent or JSON null (CREATE) */
	bool dry_run;
	mg_user_info user_info;
} mg_admission_request;

/* Decodes a request body. On failure returns MG_EPARSE (not JSON, not UTF-8, or a \u0000
 * escape), MG_ETOOBIG (over a limit of jsonscan.h, checked before any tree is built) or
 * MG_EINVAL (JSON, but not a usable AdmissionReview v1) and points *why at a static,
 * user-readable reason; out is left zeroed. Unknown fields are ignored, as new ones appear
 * over Kubernetes releases. Of duplicate keys the last is kept, as the API server does. */
int mg_admission_decode(mg_admission_request *out, const char *body, size_t len,
			const char **why);
void mg_admission_request_free(mg_admission_request *req);

typedef struct mg_admission_response {
	const char *uid;
	bool allowed;
	int code;             /* status.code on denial (400, 403, ...) */
	const char *reason;   /* status.reason on denial, e.g. "Forbidden" */
	const char *message;  /* status.message on denial */
	const char *const *warnings;
	size_t nwarnings;
	const char *patch;    /* RFC 6902 JSON array text, sent base64; NULL for none */
	size_t patch_len;
	const char *const *rules; /* rule IDs that fired, into auditAnnotations["rules"] */
	size_t nrules;
} mg_admission_response;

/* Appends the AdmissionReview response JSON. */
int mg_admission_encode(mg_strbuf *out, const mg_admission_response *resp);

/* Appends a metav1.Status JSON body for an HTTP-level error (bad request, 404, 405, ...). */
int mg_admission_encode_status(mg_strbuf *out, int code, const char *reason,
			       const char *message);

/* Standard base64 of `len` bytes (padding, no line breaks). */
int mg_base64_encode(mg_strbuf *out, const unsigned char *data, size_t len);

#endif
