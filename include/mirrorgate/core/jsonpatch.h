/* RFC 6902 JSON Patch: building patches (the webhook's mutations) and applying them (tests,
 * kube-sim's admission chain). Paths are RFC 6901 JSON Pointers. */
#ifndef MIRRORGATE_JSONPATCH_H
#define MIRRORGATE_JSONPATCH_H

#include <cjson/cJSON.h>

/* Appends {"op": op, "path": path[, "value": value]} to the array `patch`; takes ownership
 * of `value` (also on failure). */
int mg_jsonpatch_append(cJSON *patch, const char *op, const char *path, cJSON *value);

/* Escapes one reference token ("~" -> "~0", "/" -> "~1"); caller frees. */
char *mg_json_pointer_escape(const char *token);

/* Applies `patch` to *doc atomically: on any failure *doc is unchanged and the return value
 * is MG_EINVAL (malformed patch), MG_ENOTFOUND (a path that does not exist), MG_ECONFLICT
 * (a failed "test"), or MG_ENOMEM. On success *doc may be a new root. */
int mg_jsonpatch_apply(cJSON **doc, const cJSON *patch);

/* The node at a JSON Pointer, or NULL. */
cJSON *mg_json_pointer_get(cJSON *doc, const char *pointer);

#endif
