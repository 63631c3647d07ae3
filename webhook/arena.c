#include "arena.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cjson/cJSON.h>

typedef struct arena {
	unsigned char *base; /* MG_ARENA_MAX bytes reserved, or NULL */
	size_t used;
	size_t high; /* the most used since the last mg_arena_end() */
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
	/* A destructor so that worker threads that exit give their range back. */
	pthread_key_create(&g_key, release_at_exit);
}

static bool owns(const arena *a, const void *p)
{
	uintptr_t q = (uintptr_t)p, b = (uintptr_t)a->base;
	return a->base && q >= b && q - b < MG_ARENA_MAX;
}

static void *arena_malloc(size_t size)
{
	arena *a = &t_arena;
	if (!a->active)
		return malloc(size);
	size_t need = (size + 15u) & ~(size_t)15u;
	if (need < size || need > MG_ARENA_MAX - a->used)
		return NULL; /* over the per-request bound: cJSON reports the failure */
	void *p = a->base + a->used;
	a->used += need;
	if (a->used > a->high)
		a->high = a->used;
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

size_t mg_arena_used(void)
{
	return t_arena.high;
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
	if (!a->base) {
		/* Reserved, not committed: pages count towards RSS only once touched. */
		void *p = mmap(NULL, MG_ARENA_MAX, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return; /* inactive: cJSON falls back to malloc for this request */
		a->base = p;
		pthread_once(&g_once, make_key);
		pthread_setspecific(g_key, a); /* non-NULL, so the destructor runs */
	}
	a->used = 0;
	a->high = 0;
	a->active = true;
}

void mg_arena_end(void)
{
	arena *a = &t_arena;
	a->active = false;
	if (a->base && a->high > MG_ARENA_KEEP) {
		/* Give the pages of a large request back (MG_ARENA_KEEP is page-aligned). */
		size_t top = (a->high + (size_t)sysconf(_SC_PAGESIZE) - 1) &
			     ~((size_t)sysconf(_SC_PAGESIZE) - 1);
		if (top > MG_ARENA_MAX)
			top = MG_ARENA_MAX;
		madvise(a->base + MG_ARENA_KEEP, top - MG_ARENA_KEEP, MADV_DONTNEED);
	}
	a->used = 0;
}

void mg_arena_release(void)
{
	arena *a = &t_arena;
	a->active = false;
	if (a->base)
		munmap(a->base, MG_ARENA_MAX);
	a->base = NULL;
	a->used = a->high = 0;
}
