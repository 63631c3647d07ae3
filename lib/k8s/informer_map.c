/* Chained hash map with FNV-1a, grown at load factor 1. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "informer_map.h"
#include "mirrorgate/util/err.h"

struct node {
	struct node *next;
	char *key;
	void *val;
};

struct mg_strmap {
	struct node **buckets;
	size_t nbuckets;
	size_t len;
	void (*free_val)(void *);
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

int mg_strmap_new(mg_strmap **out, void (*free_val)(void *))
{
	mg_strmap *m = calloc(1, sizeof(*m));
	if (!m)
		return MG_ENOMEM;
	m->nbuckets = 64;
	m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
	if (!m->buckets) {
		free(m);
		return MG_ENOMEM;
	}
	m->free_val = free_val;
	*out = m;
	return 0;
}

static struct node **find(const mg_strmap *m, const char *key)
{
	struct node **p = &m->buckets[hash(key) % m->nbuckets];
	while (*p && strcmp((*p)->key, key) != 0)
		p = &(*p)->next;
	return p;
}

void *mg_strmap_get(const mg_strmap *m, const char *key)
{
	struct node *n = *find(m, key);
	return n ? n->val : NULL;
}

static void grow(mg_strmap *m)
{
	size_t nb = m->nbuckets * 2;
	struct node **b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* a full table still works, only slower */
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct node *n = m->buckets[i];
		while (n) {
			struct node *next = n->next;
			size_t idx = hash(n->key) % nb;
			n->next = b[idx];
			b[idx] = n;
			n = next;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = nb;
}

int mg_strmap_put(mg_strmap *m, const char *key, void *val)
{
	struct node **p = find(m, key);
	if (*p) {
		if (m->free_val && (*p)->val != val)
			m->free_val((*p)->val);
		(*p)->val = val;
		return 0;
	}
	struct node *n = calloc(1, sizeof(*n));
	if (!n)
		return MG_ENOMEM;
	n->key = strdup(key);
	if (!n->key) {
		free(n);
		return MG_ENOMEM;
	}
	n->val = val;
	*p = n;
	if (++m->len > m->nbuckets)
		grow(m);
	return 0;
}

void *mg_strmap_take(mg_strmap *m, const char *key)
{
	struct node **p = find(m, key);
	struct node *n = *p;
	if (!n)
		return NULL;
	*p = n->next;
	void *v = n->val;
	free(n->key);
	free(n);
	m->len--;
	return v;
}

int mg_strmap_each(const mg_strmap *m, int (*fn)(void *ctx, const char *key, void *val),
		   void *ctx)
{
	for (size_t i = 0; i < m->nbuckets; i++)
		for (struct node *n = m->buckets[i]; n; n = n->next) {
			int rc = fn(ctx, n->key, n->val);
			if (rc)
				return rc;
		}
	return 0;
}

size_t mg_strmap_len(const mg_strmap *m)
{
	return m ? m->len : 0;
}

void mg_strmap_free(mg_strmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct node *n = m->buckets[i];
		while (n) {
			struct node *next = n->next;
			if (m->free_val)
				m->free_val(n->val);
			free(n->key);
			free(n);
			n = next;
		}
	}
	free(m->buckets);
	free(m);
}
