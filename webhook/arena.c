#include "arena.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

typedef struct chunk {
	struct chunk *next;
	size_t size; /* bytes in data */
	size_t used;
	_Alignas(16) unsigned char data[];
} chunk;

typedef struct arena {
	chunk *head; /* the current chunk; the kept first chunk is last in the list */
	bool active;
} arena;

static _Thread_local arena t_arena;
static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void release_at_exit(void *unused)
{
	(void)unused;
	mg_arena_release();
}

static void make_key(void)
{
	/* A destructor so that worker threads that exit give their chunk back. */
	pthread_key_create(&g_key, release_at_exit);
}

static chunk *new_chunk(size_t size)
{
	chunk *c = malloc(sizeof(chunk) + size);
	if (!c)
		return NULL;
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

static bool owns(const arena *a, const void *p)
{
	for (const chunk *c = a->head; c; c = c->next) {
		const unsigned char *q = p;
		if (q >= c->data && q < c->data + c->size)
			return true;
	}
	return false;
}

static void *arena_malloc(size_t size)
{
	arena *a = &t_arena;
	if (!a->active)
		return malloc(size);
	size_t need = (size + 15u) & ~(size_t)15u;
	if (need < size)
		return NULL;
	chunk *c = a->head;
	if (!c || c->size - c->used < need) {
		size_t csize = need > MG_ARENA_CHUNK ? need : MG_ARENA_CHUNK;
		chunk *fresh = new_chunk(csize);
		if (!fresh)
			return NULL;
		fresh->next = c;
		a->head = fresh;
		c = fresh;
	}
	void *p = c->data + c->used;
	c->used += need;
	return p;
}

static void arena_free(void *p)
{
	arena *a = &t_arena;
	if (!p)
		return;
	if (a->active && owns(a, p))
		return; /* released with the whole arena at mg_arena_end() */
	free(p);
}

bool mg_arena_owns(const void *p)
{
	return t_arena.active && p && owns(&t_arena, p);
}

void mg_arena_install(void)
{
	cJSON_Hooks hooks = {arena_malloc, arena_free};
	pthread_once(&g_once, make_key);
	cJSON_InitHooks(&hooks);
}

void mg_arena_begin(void)
{
	arena *a = &t_arena;
	if (!a->head) {
		a->head = new_chunk(MG_ARENA_CHUNK);
		pthread_once(&g_once, make_key);
		pthread_setspecific(g_key, a); /* non-NULL, so the destructor runs */
	}
	a->active = a->head != NULL;
}

void mg_arena_end(void)
{
	arena *a = &t_arena;
	a->active = false;
	/* Keep one chunk (the oldest, first-allocated one) for the next request. */
	while (a->head && a->head->next) {
		chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
	if (a->head)
		a->head->used = 0;
}

void mg_arena_release(void)
{
	arena *a = &t_arena;
	a->active = false;
	while (a->head) {
		chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
}
