/* Private to the rule engine: what every rule function sees. */
#ifndef MIRRORGATE_RULES_H
#define MIRRORGATE_RULES_H

#include <stdbool.h>

#include "mirrorgate/model.h"
#include "mirrorgate/review.h"

struct mg_rule_ctx {
	const mg_request *req;
	const mg_lookup *lk;
	mg_verdict *v;
	const char *ns;   /* effective namespace */
	const char *name; /* effective object name ("" for generateName) */
	bool spec_changed; /* CREATE, or UPDATE whose spec differs from the old object's */
};

/* Records a warning (rule ID kept for auditAnnotations). */
int mg_rule_warn(struct mg_rule_ctx *c, const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Records that a mutating rule fired (it has no error or warning of its own). */
int mg_rule_fired(mg_verdict *v, const char *rule);

bool mg_state_is_mirror(const char *state); /* established or reestablished */
bool mg_str_eq(const char *a, const char *b); /* NULL == "" */

/* The TMRs of namespace ns whose localPVCName is pvc: how many, and the first. */
int mg_tmrs_naming_pvc(const mg_lookup *lk, const char *ns, const char *pvc, size_t *count,
		       const char **first_name, const cJSON **first);

int mg_rules_tmr(struct mg_rule_ctx *c);
int mg_rules_pvc(struct mg_rule_ctx *c);
int mg_rules_storage_class(struct mg_rule_ctx *c);
int mg_rules_tamu(struct mg_rule_ctx *c);
int mg_rules_tsi(struct mg_rule_ctx *c);
int mg_mutate_tmr(struct mg_rule_ctx *c);
int mg_mutate_pvc(struct mg_rule_ctx *c);

#endif
