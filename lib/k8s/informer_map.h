/* A string-keyed hash map for the informer's cache and indexes (internal to lib/). */
#ifndef MIRRORGATE_INFORMER_MAP_H
#define MIRRORGATE_INFORMER_MAP_H

#include <stddef.h>

typedef struct mg_strmap mg_strmap;

/* free_val releases a value when it is replaced or the map is freed (may be NULL). */
int mg_strmap_new(mg_strmap **out, void (*free_val)(void *));
void *mg_strmap_get(const mg_strmap *m, const char *key);
/* Inserts or replaces (the old value is freed). */
int mg_strmap_put(mg_strmap *m, const char *key, void *val);
/* Removes the entry and returns its value without freeing it (NULL when absent). */
void *mg_strmap_take(mg_strmap *m, const char *key);
/* Stops at the first non-zero return of fn and returns it. */
int mg_strmap_each(const mg_strmap *m, int (*fn)(void *ctx, const char *key, void *val),
		   void *ctx);
size_t mg_strmap_len(const mg_strmap *m);
void mg_strmap_free(mg_strmap *m);

#endif
