/* Label selector parsing and matching, as apimachinery's labels package does it. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/k8s/labels.h"
#include "mirrorgate/util/strbuf.h"

enum op { OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS };

struct req {
	char *key;
	enum op op;
	char **values;
	size_t nvalues;
};

struct mg_label_selector {
	struct req *reqs;
	size_t nreqs;
};

void mg_label_selector_free(mg_label_selector *sel)
{
	if (!sel)
		return;
	for (size_t i = 0; i < sel->nreqs; i++) {
		free(sel->reqs[i].key);
		for (size_t j = 0; j < sel->reqs[i].nvalues; j++)
			free(sel->reqs[i].values[j]);
		free(sel->reqs[i].values);
	}
	free(sel->reqs);
	free(sel);
}

static int add_req(mg_label_selector *sel, struct req *r)
{
	struct req *n = realloc(sel->reqs, (sel->nreqs + 1) * sizeof(*n));
	if (!n)
		return MG_ENOMEM;
	sel->reqs = n;
	sel->reqs[sel->nreqs++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

static int add_value(struct req *r, const char *s, size_t n)
{
	char **v = realloc(r->values, (r->nvalues + 1) * sizeof(*v));
	if (!v)
		return MG_ENOMEM;
	r->values = v;
	char *copy = malloc(n + 1);
	if (!copy)
		return MG_ENOMEM;
	memcpy(copy, s, n);
	copy[n] = '\0';
	r->values[r->nvalues++] = copy;
	return 0;
}

static void req_clear(struct req *r)
{
	free(r->key);
	for (size_t j = 0; j < r->nvalues; j++)
		free(r->values[j]);
	free(r->values);
	memset(r, 0, sizeof(*r));
}

static int is_name_char(int c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/';
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads a key or value token; empty tokens are allowed only for values. */
static const char *token(const char *p, const char **start, size_t *len)
{
	p = skip_ws(p);
	*start = p;
	while (*p && is_name_char((unsigned char)*p))
		p++;
	*len = (size_t)(p - *start);
	return skip_ws(p);
}

static int parse_one(mg_label_selector *sel, const char **pp)
{
	struct req r = {0};
	int rc = MG_EPARSE;
	const char *p = skip_ws(*pp), *s;
	size_t n;
	int negated = 0;
	if (*p == '!') {
		negated = 1;
		p++;
	}
	p = token(p, &s, &n);
	if (n == 0)
		goto out;
	r.key = malloc(n + 1);
	if (!r.key) {
		rc = MG_ENOMEM;
		goto out;
	}
	memcpy(r.key, s, n);
	r.key[n] = '\0';
	if (negated) {
		r.op = OP_NOTEXISTS;
	} else if (*p == ',' || *p == '\0') {
		r.op = OP_EXISTS;
	} else if (p[0] == '!' && p[1] == '=') {
		r.op = OP_NE;
		p += 2;
	} else if (p[0] == '=' && p[1] == '=') {
		r.op = OP_EQ;
		p += 2;
	} else if (p[0] == '=') {
		r.op = OP_EQ;
		p += 1;
	} else if (strncmp(p, "in", 2) == 0 && !is_name_char((unsigned char)p[2])) {
		r.op = OP_IN;
		p += 2;
	} else if (strncmp(p, "notin", 5) == 0 && !is_name_char((unsigned char)p[5])) {
		r.op = OP_NOTIN;
		p += 5;
	} else {
		goto out;
	}
	if (r.op == OP_EQ || r.op == OP_NE) {
		p = token(p, &s, &n);
		if ((rc = add_value(&r, s, n)) != 0)
			goto out;
		rc = MG_EPARSE;
	} else if (r.op == OP_IN || r.op == OP_NOTIN) {
		p = skip_ws(p);
		if (*p != '(')
			goto out;
		p++;
		for (;;) {
			p = token(p, &s, &n);
			if (n > 0 && (rc = add_value(&r, s, n)) != 0)
				goto out;
			rc = MG_EPARSE;
			if (*p == ',') {
				p++;
				continue;
			}
			if (*p == ')') {
				p++;
				break;
			}
			goto out;
		}
		if (r.nvalues == 0)
			goto out;
	}
	p = skip_ws(p);
	if (*p != ',' && *p != '\0')
		goto out;
	if (*p == ',')
		p++;
	if ((rc = add_req(sel, &r)) != 0)
		goto out;
	*pp = p;
	rc = 0;
out:
	req_clear(&r);
	return rc;
}

int mg_label_selector_parse(mg_label_selector **out, const char *text)
{
	mg_label_selector *sel = calloc(1, sizeof(*sel));
	if (!sel)
		return MG_ENOMEM;
	const char *p = text ? text : "";
	while (*(p = skip_ws(p))) {
		int rc = parse_one(sel, &p);
		if (rc != 0) {
			mg_label_selector_free(sel);
			return rc;
		}
	}
	*out = sel;
	return 0;
}

int mg_label_selector_from_json(mg_label_selector **out, const cJSON *selector)
{
	int rc = MG_EINVAL;
	struct req r = {0};
	mg_label_selector *sel = calloc(1, sizeof(*sel));
	if (!sel)
		return MG_ENOMEM;
	if (!selector || cJSON_IsNull(selector))
		goto done;
	if (!cJSON_IsObject(selector))
		goto out;
	const cJSON *ml = cJSON_GetObjectItemCaseSensitive(selector, "matchLabels");
	const cJSON *kv;
	if (ml && !cJSON_IsObject(ml) && !cJSON_IsNull(ml))
		goto out;
	cJSON_ArrayForEach(kv, ml)
	{
		if (!cJSON_IsString(kv))
			goto out;
		r.op = OP_EQ;
		if (!(r.key = mg_strdup(kv->string)) ||
		    add_value(&r, kv->valuestring, strlen(kv->valuestring)) != 0 ||
		    add_req(sel, &r) != 0) {
			rc = MG_ENOMEM;
			goto out;
		}
	}
	const cJSON *exprs = cJSON_GetObjectItemCaseSensitive(selector, "matchExpressions");
	if (exprs && !cJSON_IsArray(exprs) && !cJSON_IsNull(exprs))
		goto out;
	const cJSON *e;
	cJSON_ArrayForEach(e, exprs)
	{
		const cJSON *key = cJSON_GetObjectItemCaseSensitive(e, "key");
		const cJSON *op = cJSON_GetObjectItemCaseSensitive(e, "operator");
		const cJSON *vals = cJSON_GetObjectItemCaseSensitive(e, "values");
		if (!cJSON_IsString(key) || !cJSON_IsString(op))
			goto out;
		if (strcmp(op->valuestring, "In") == 0)
			r.op = OP_IN;
		else if (strcmp(op->valuestring, "NotIn") == 0)
			r.op = OP_NOTIN;
		else if (strcmp(op->valuestring, "Exists") == 0)
			r.op = OP_EXISTS;
		else if (strcmp(op->valuestring, "DoesNotExist") == 0)
			r.op = OP_NOTEXISTS;
		else
			goto out;
		int need_values = r.op == OP_IN || r.op == OP_NOTIN;
		int nvals = cJSON_IsArray(vals) ? cJSON_GetArraySize(vals) : 0;
		/* The API server's validation: In/NotIn need values, Exists/DoesNotExist none. */
		if ((need_values && nvals == 0) || (!need_values && nvals > 0))
			goto out;
		if (!(r.key = mg_strdup(key->valuestring))) {
			rc = MG_ENOMEM;
			goto out;
		}
		const cJSON *v;
		cJSON_ArrayForEach(v, vals)
		{
			if (!cJSON_IsString(v))
				goto out;
			if (add_value(&r, v->valuestring, strlen(v->valuestring)) != 0) {
				rc = MG_ENOMEM;
				goto out;
			}
		}
		if (add_req(sel, &r) != 0) {
			rc = MG_ENOMEM;
			goto out;
		}
	}
done:
	*out = sel;
	sel = NULL;
	rc = 0;
out:
	req_clear(&r);
	mg_label_selector_free(sel);
	return rc;
}

static int in_values(const struct req *r, const char *v)
{
	for (size_t i = 0; i < r->nvalues; i++)
		if (strcmp(r->values[i], v) == 0)
			return 1;
	return 0;
}

bool mg_label_selector_matches(const mg_label_selector *sel, const cJSON *labels)
{
	if (!sel)
		return true;
	for (size_t i = 0; i < sel->nreqs; i++) {
		const struct req *r = &sel->reqs[i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, r->key);
		const char *val = cJSON_IsString(v) ? v->valuestring : NULL;
		switch (r->op) {
		case OP_EQ:
		case OP_IN:
			if (!val || !in_values(r, val))
				return false;
			break;
		case OP_NE:
		case OP_NOTIN:
			if (val && in_values(r, val))
				return false;
			break;
		case OP_EXISTS:
			if (!val)
				return false;
			break;
		case OP_NOTEXISTS:
			if (val)
				return false;
			break;
		}
	}
	return true;
}

bool mg_label_selector_empty(const mg_label_selector *sel)
{
	return !sel || sel->nreqs == 0;
}
