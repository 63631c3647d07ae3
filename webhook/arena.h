/* A per-thread bump allocator behind cJSON while one admission review is handled: the
 * nodes of a request cost a pointer bump each and are released together, instead of a malloc
 * and a free each (a fifth of the CPU per request, measured with callgrind; docs/webhook.md
 * "Performance").
 *
 * Each thread reserves one contiguous range of address space (MG_ARENA_MAX, not committed
 * until touched), so that telling arena memory from malloc memory in cJSON_free is one range
 * comparison, O(1) (a list of chunks walked on every free made a 3 MB body quadratic: 4.3 s).
 * The range is also the hard bound of a request's tree: an allocation beyond it fails, and
 * cJSON reports the failure. The decoder limits (jsonscan.h) keep legitimate requests well
 * inside it; docs/webhook.md "Cost per request" has the arithmetic.
 *
 * Contract inside mg_arena_begin()/mg_arena_end() on a thread: cJSON memory must be
 * released with cJSON_Delete/cJSON_free (never free()), and nothing cJSON allocates may
 * outlive mg_arena_end(). The webhook's handler is the only user; outside the bracket, and
 * on every other thread, cJSON uses malloc/free as usual. */
#ifndef MIRRORGATE_WEBHOOK_ARENA_H
#define MIRRORGATE_WEBHOOK_ARENA_H

#include <stdbool.h>
#include <stddef.h>

/* Address space reserved per thread; the most one request's cJSON memory may take. */
#define MG_ARENA_MAX (16u * 1024u * 1024u)
/* What stays committed between requests; pages above it go back to the kernel at
 * mg_arena_end(), so that one large request does not keep a worker's RSS high. */
#define MG_ARENA_KEEP (64u * 1024u)

/* Installs the allocator as cJSON's hooks (process-wide); call once before threads start. */
void mg_arena_install(void);
void mg_arena_begin(void);
void mg_arena_end(void);
/* True when p is memory of this thread's active arena: a tree built entirely inside the
 * bracket can then be dropped without walking it, mg_arena_end() releases it. */
bool mg_arena_owns(const void *p);
/* Bytes the current (or last) request took from this thread's arena. */
size_t mg_arena_used(void);
/* Unmaps this thread's arena (threads that exit call it through a destructor). */
void mg_arena_release(void);

#endif
