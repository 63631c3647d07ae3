/* A bundle: every document of one `mirrorgate validate` invocation, in order, each with the
 * cluster state it is validated against.
 *
 * The state seen by document i holds, for every object key (kind/namespace/name), the latest
 * version that appears before i, or, if none does, the first version that appears after i.
 * So a bundle validates regardless of the order of its objects (a PVC may come before its
 * TMR), while a later document with the same key is an UPDATE of the earlier one: a file
 * sequence can tell a story (create, then promote, then re-establish). */
#ifndef MG_CLI_BUNDLE_H
#define MG_CLI_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#include "inputs.h"
#include "mirrorgate/core/doc.h"
#include "mirrorgate/rules/lookup.h"

enum mg_entry_kind {
	MG_ENTRY_OBJECT,    /* a Kubernetes object */
	MG_ENTRY_MALFORMED, /* unreadable file, YAML error, or not an object */
};

typedef struct mg_entry {
	enum mg_entry_kind kind;
	const char *file;
	int line;
	const mg_doc *doc;  /* for line lookups; NULL for unreadable files */
	cJSON *object;      /* owned copy, namespace defaulted */
	char *key;          /* "kind/namespace/name" */
	char *problem;      /* for MG_ENTRY_MALFORMED */
} mg_entry;

typedef struct mg_bundle {
	mg_doc_list *lists; /* one per input */
	size_t nlists;
	mg_entry *entries;
	size_t len;
} mg_bundle;

/* Parses every input into entries. Returns MG_ENOMEM only; problems become entries. */
int mg_bundle_load(mg_bundle *out, const mg_inputs *in, const char *default_ns);
/* The cluster state for entry i, as described above (mutated versions where the caller
 * replaced objects). Without lookahead, only earlier documents: mutations use that, since
 * they act on what exists when the object is applied. The store owns copies. */
int mg_bundle_state_for(const mg_bundle *b, size_t i, bool lookahead, mg_store **out);
/* The latest version of entry i's key before i, or NULL (then entry i is a CREATE). */
const cJSON *mg_bundle_previous(const mg_bundle *b, size_t i);
void mg_bundle_free(mg_bundle *b);

/* Kinds that are cluster-scoped (no namespace is defaulted). */
bool mg_kind_is_cluster_scoped(const char *kind);

#endif
