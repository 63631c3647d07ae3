/* Documents: YAML (libyaml) and JSON into one tree type (cJSON), keeping the source line of
 * every node so that messages can point at the line a user must edit.
 *
 * YAML is read as Kubernetes reads it (YAML 1.1 scalars as in sigs.k8s.io/yaml): plain
 * true/false/yes/no/on/off are booleans, plain numbers are numbers, ~/null/empty is null.
 * Deliberate choices (docs/validate.md): duplicate keys are an error (the API server's strict
 * decoding refuses them); anchors and aliases are expanded, with a cap on the expanded size
 * so that an alias bomb is an error, not an out-of-memory; merge keys (<<) are honoured;
 * the standard tags (!!str, !!int, !!float, !!bool, !!null, !!map, !!seq) are honoured and
 * any other tag is an error; mapping keys must be scalars; invalid UTF-8 is an error. */
#ifndef MIRRORGATE_DOC_H
#define MIRRORGATE_DOC_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Limits against hostile input. */
#define MG_DOC_MAX_DEPTH 128
#define MG_DOC_MAX_NODES 200000
#define MG_DOC_MAX_SCALAR (1024 * 1024)

struct mg_linemap;

typedef struct mg_doc {
	cJSON *root;               /* owned; NULL for an empty document */
	int line;                  /* 1-based line where the document starts */
	struct mg_linemap *lines;  /* node -> line, owned */
} mg_doc;

typedef struct mg_doc_list {
	mg_doc *items;
	size_t len;
} mg_doc_list;

typedef struct mg_parse_error {
	int line;   /* 1-based; 0 when unknown */
	int column; /* 1-based; 0 when unknown */
	char message[256];
} mg_parse_error;

/* Parses a stream of YAML documents (JSON is accepted as YAML). On MG_EPARSE, err says
 * where and why; out is left empty. */
int mg_doc_parse_yaml(mg_doc_list *out, const char *data, size_t len, mg_parse_error *err);

/* Source line of a node of this document, or the document's line when unknown. */
int mg_doc_line_of(const mg_doc *doc, const cJSON *node);
/* Line of the deepest existing node along a field path such as
 * "spec.volumeMappings[0].remoteVolumeHandle" or "metadata.annotations[trident.netapp.io/x]". */
int mg_doc_line_of_path(const mg_doc *doc, const char *path);

void mg_doc_free(mg_doc *doc);
void mg_doc_list_free(mg_doc_list *list);

#endif
