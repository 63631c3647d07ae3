/* The one entry point to the rules: given an admission request (operation, kind, new and
 * old object) and a lookup, produce a verdict: field errors (deny), warnings, and a JSON
 * Patch of mutations. Pure: no I/O, no clock, no globals. The webhook, the CLI and the
 * reconciler all call this, so the rules exist once. Rule IDs: docs/rules.md. */
#ifndef MIRRORGATE_REVIEW_H
#define MIRRORGATE_REVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "mirrorgate/core/fielderr.h"
#include "mirrorgate/rules/lookup.h"

enum mg_op { MG_OP_CREATE, MG_OP_UPDATE, MG_OP_DELETE, MG_OP_CONNECT };

/* Parses "CREATE"/"UPDATE"/"DELETE"/"CONNECT"; MG_EINVAL otherwise. */
int mg_op_parse(const char *s, enum mg_op *out);
const char *mg_op_name(enum mg_op op);

typedef struct mg_request {
	enum mg_op op;
	const char *kind;        /* e.g. "TridentMirrorRelationship"; required */
	const char *ns;          /* request namespace, may be NULL */
	const char *name;        /* request name, may be NULL (generateName) */
	const char *subresource; /* e.g. "status", or NULL */
	const cJSON *object;     /* new object (CREATE/UPDATE); NULL for DELETE */
	const cJSON *old_object; /* old object (UPDATE/DELETE); NULL for CREATE */
} mg_request;

typedef struct mg_warning {
	const char *rule; /* static rule ID */
	char *text;       /* owned; kept under 120 characters where possible */
} mg_warning;

typedef struct mg_verdict {
	mg_field_errors errors; /* non-empty => deny (403 Invalid) */
	/* The object could not be decoded => deny (400 BadRequest): not an object, or fields of
	 * the wrong JSON type (then `errors` holds them, rule SCHEMA, for the message). */
	bool malformed;
	mg_warning *warnings;
	size_t nwarnings;
	cJSON *patch;           /* JSON array of RFC 6902 operations, or NULL */
	const char **rules;     /* distinct IDs of every rule that fired, in order */
	size_t nrules;
} mg_verdict;

enum mg_review_what {
	MG_REVIEW_VALIDATE = 1, /* errors and warnings */
	MG_REVIEW_MUTATE = 2,   /* patch */
};

/* Reviews one request. Kinds mirrorgate does not know, and status subresource writes, get an
 * empty verdict (allowed untouched). Returns MG_ENOMEM (or MG_EINVAL for a request without
 * kind); rule violations are not errors of this call: they are in `out`. */
int mg_review(mg_verdict *out, const mg_request *req, const mg_lookup *lk, unsigned what);

bool mg_verdict_allowed(const mg_verdict *v);
/* The API server style message for a denial (see fielderr.h). */
int mg_verdict_message(const mg_verdict *v, const mg_request *req, char **out);
/* "TridentMirrorRelationship.trident.netapp.io", "PersistentVolumeClaim",
 * "StorageClass.storage.k8s.io", ... (the group-qualified kind of API server messages). */
const char *mg_qualified_kind(const char *kind);
void mg_verdict_free(mg_verdict *v);

#endif
