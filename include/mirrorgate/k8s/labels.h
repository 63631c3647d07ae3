/* Kubernetes label selectors in both forms: the string form of ?labelSelector= ("a=b,c!=d,
 * e in (x,y),f notin (z),g,!h") and the LabelSelector object of webhook configurations
 * (matchLabels + matchExpressions with In/NotIn/Exists/DoesNotExist). */
#ifndef MIRRORGATE_K8S_LABELS_H
#define MIRRORGATE_K8S_LABELS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

typedef struct mg_label_selector mg_label_selector;

/* An empty or NULL text selects everything. MG_EPARSE on a malformed selector. */
int mg_label_selector_parse(mg_label_selector **out, const char *text);
/* NULL or {} selects everything. MG_EINVAL on an unknown operator or wrong types. */
int mg_label_selector_from_json(mg_label_selector **out, const cJSON *selector);
/* labels: the metadata.labels object of an object, or NULL when it has none. */
bool mg_label_selector_matches(const mg_label_selector *sel, const cJSON *labels);
bool mg_label_selector_empty(const mg_label_selector *sel);
void mg_label_selector_free(mg_label_selector *sel);

#endif
