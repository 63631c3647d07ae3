/* A per-thread bump allocator behind cJSON while one admission review is handled: the few
 * hundred small nodes of a request cost a pointer bump each and are released together,
 * instead of a malloc and a free each (a fifth of the CPU per request, measured with
 * callgrind; docs/webhook.md "Performance").
 *
 * Contract inside mg_arena_begin()/mg_arena_end() on a thread: cJSON memory must be
 * released with cJSON_Delete/cJSON_free (never free()), and nothing cJSON allocates may
 * outlive mg_arena_end(). The webhook's handler is the only user; outside the bracket, and
 * on every other thread, cJSON uses malloc/free as usual. */
#ifndef MIRRORGATE_WEBHOOK_ARENA_H
#define MIRRORGATE_WEBHOOK_ARENA_H

#include <stdbool.h>
#include <stddef.h>

/* The first chunk of each thread's arena, kept between requests; larger requests add
 * chunks that are freed at mg_arena_end(). */
#define MG_ARENA_CHUNK (64u * 1024u)

/* Installs the allocator as cJSON's hooks (process-wide); call once before threads start. */
void mg_arena_install(void);
void mg_arena_begin(void);
void mg_arena_end(void);
/* True when p is memory of this thread's active arena: a tree built entirely inside the
 * bracket can then be dropped without walking it, mg_arena_end() releases it. */
bool mg_arena_owns(const void *p);
/* Frees this thread's kept chunk (threads that exit call it through a destructor). */
void mg_arena_release(void);

#endif
