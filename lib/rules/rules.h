/* Private to the rule engine: the rule entry points that review.c, the dispatcher, calls (each
 * rule file includes it for its own prototype). The helpers the rules share are in rule_ctx.c,
 * so that nothing below review.c calls back up into it. */
#ifndef MIRRORGATE_RULES_H
#define MIRRORGATE_RULES_H

#include "rule_ctx.h"

int mg_rules_tmr(struct mg_rule_ctx *c);
int mg_rules_pvc(struct mg_rule_ctx *c);
int mg_rules_storage_class(struct mg_rule_ctx *c);
int mg_rules_tamu(struct mg_rule_ctx *c);
int mg_rules_tsi(struct mg_rule_ctx *c);
int mg_mutate_tmr(struct mg_rule_ctx *c);
int mg_mutate_pvc(struct mg_rule_ctx *c);

#endif
