/* Private to the rule engine: what every rule function sees, and the helpers they share
 * (defined in rule_ctx.c). A rule includes this header, never rules.h. */
#ifndef MIRRORGATE_RULE_CTX_H
#define MIRRORGATE_RULE_CTX_H

#include <stdbool.h>

#include "mirrorgate/core/model.h"
#include "mirrorgate/rules/review.h"

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

#endif
