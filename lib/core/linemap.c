#include "linemap.h"

#include <stdint.h>
#include <stdlib.h>

#include "mirrorgate/util/err.h"

struct slot {
	const void *key;
	int line;
};

struct mg_linemap {
	struct slot *slots;
	size_t cap; /* power of two */
	size_t len;
};

static size_t hash_ptr(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

int mg_linemap_new(struct mg_linemap **out)
{
	struct mg_linemap *m = calloc(1, sizeof(*m));
	if (!m)
		return MG_ENOMEM;
	m->cap = 64;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return MG_ENOMEM;
	}
	*out = m;
	return 0;
}

static void insert(struct slot *slots, size_t cap, const void *key, int line)
{
	size_t i = hash_ptr(key) & (cap - 1);
	while (slots[i].key && slots[i].key != key)
		i = (i + 1) & (cap - 1);
	slots[i].key = key;
	slots[i].line = line;
}

int mg_linemap_put(struct mg_linemap *m, const void *key, int line)
{
	if ((m->len + 1) * 2 > m->cap) {
		size_t cap = m->cap * 2;
		struct slot *slots = calloc(cap, sizeof(*slots));
		if (!slots)
			return MG_ENOMEM;
		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].key)
				insert(slots, cap, m->slots[i].key, m->slots[i].line);
		free(m->slots);
		m->slots = slots;
		m->cap = cap;
	}
	if (mg_linemap_get(m, key) == 0)
		m->len++;
	insert(m->slots, m->cap, key, line);
	return 0;
}

int mg_linemap_get(const struct mg_linemap *m, const void *key)
{
	if (!m)
		return 0;
	size_t i = hash_ptr(key) & (m->cap - 1);
	while (m->slots[i].key) {
		if (m->slots[i].key == key)
			return m->slots[i].line;
		i = (i + 1) & (m->cap - 1);
	}
	return 0;
}

void mg_linemap_free(struct mg_linemap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}
