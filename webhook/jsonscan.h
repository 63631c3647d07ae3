/* A linear pre-scan of a request body, before cJSON builds a tree of it: the cost of a
 * request is the tree's size (a 3 MiB "[0,0,...]" is 1.5 M nodes, 96 MB), so the scan bounds
 * what the tree may hold and refuses the body otherwise, without allocating.
 *
 * It also refuses what the rules could not review faithfully: invalid UTF-8 (the response
 * would not be JSON) and the \u0000 escape (C strings would be reviewed cut short, e.g. a uid
 * echoed back truncated, or a name checked up to the NUL only).
 *
 * The limits are sized in docs/webhook.md ("Cost per request") against the largest legitimate
 * review: an UPDATE of a 1.5 MiB object (etcd's limit), object and oldObject, 3 MiB. */
#ifndef MIRRORGATE_WEBHOOK_JSONSCAN_H
#define MIRRORGATE_WEBHOOK_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mg_json_limits {
	size_t max_nodes;  /* values of any type, containers included */
	size_t max_depth;  /* nesting of arrays and objects */
	size_t max_array;  /* elements of one array */
	size_t max_members; /* members of one object */
	size_t max_string; /* bytes of one string or key, as written (escapes included) */
} mg_json_limits;

#define MG_JSON_MAX_NODES 100000u
#define MG_JSON_MAX_DEPTH 64u
#define MG_JSON_MAX_ARRAY 10000u
#define MG_JSON_MAX_MEMBERS 10000u
#define MG_JSON_MAX_STRING (1024u * 1024u)

extern const mg_json_limits mg_json_default_limits;

typedef struct mg_json_scan {
	size_t nodes;
	size_t depth; /* deepest nesting seen */
} mg_json_scan;

/* Scans body against lim. Returns true when within them; otherwise *why (static text) says
 * which limit or rule the body breaks. Malformed JSON that stays within the limits passes:
 * the parser reports it. */
bool mg_json_within(const char *body, size_t len, const mg_json_limits *lim, mg_json_scan *out,
		    const char **why);

#endif
