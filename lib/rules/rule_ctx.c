/* What every rule shares: recording warnings and fired rules on the verdict, string and state
 * predicates, and the TMR-by-PVC index query. The rules and mutate call these; review.c, the
 * dispatcher, sits above them all, so nothing here may call back into it. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"
#include "rule_ctx.h"

bool mg_str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

bool mg_state_is_mirror(const char *state)
{
	return state && (strcmp(state, MG_STATE_ESTABLISHED) == 0 ||
			 strcmp(state, MG_STATE_REESTABLISHED) == 0);
}

static int note_rule(mg_verdict *v, const char *rule)
{
	for (size_t i = 0; i < v->nrules; i++)
		if (strcmp(v->rules[i], rule) == 0)
			return 0;
	const char **grown = realloc(v->rules, (v->nrules + 1) * sizeof(*grown));
	if (!grown)
		return MG_ENOMEM;
	v->rules = grown;
	v->rules[v->nrules++] = rule;
	return 0;
}

int mg_rule_fired(mg_verdict *v, const char *rule)
{
	return note_rule(v, rule);
}

int mg_rule_warn(struct mg_rule_ctx *c, const char *rule, const char *fmt, ...)
{
	mg_verdict *v = c->v;
	mg_strbuf sb = MG_STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	int rc = mg_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	char *text = NULL;
	if (rc || mg_strbuf_detach(&sb, &text)) {
		mg_strbuf_free(&sb);
		return MG_ENOMEM;
	}
	mg_warning *grown = realloc(v->warnings, (v->nwarnings + 1) * sizeof(*grown));
	if (!grown) {
		free(text);
		return MG_ENOMEM;
	}
	v->warnings = grown;
	v->warnings[v->nwarnings++] = (mg_warning){rule, text};
	return 0;
}

struct naming_tmrs {
	size_t count;
	const char *names[2];
	const cJSON *first;
};

static int collect(void *ctx, const cJSON *obj)
{
	struct naming_tmrs *n = ctx;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "name");
	if (n->count < 2)
		n->names[n->count] = cJSON_IsString(name) ? name->valuestring : "";
	if (n->count == 0)
		n->first = obj;
	n->count++;
	return 0;
}

/* The TMRs in this namespace whose localPVCName is this PVC. */
int mg_tmrs_naming_pvc(const mg_lookup *lk, const char *ns, const char *pvc, size_t *count,
		       const char **first_name, const cJSON **first)
{
	char *key = mg_asprintf("%s/%s", ns, pvc);
	if (!key)
		return MG_ENOMEM;
	struct naming_tmrs n = {0};
	int rc = mg_lookup_each_indexed(lk, MG_INDEX_TMR_BY_PVC, key, collect, &n);
	free(key);
	if (rc < 0)
		return rc;
	*count = n.count;
	if (first_name)
		*first_name = n.names[0];
	if (first)
		*first = n.first;
	return 0;
}
