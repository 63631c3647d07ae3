/* Private to doc.c: node pointer -> source line, an open-addressing hash table. */
#ifndef MIRRORGATE_LINEMAP_H
#define MIRRORGATE_LINEMAP_H

#include <stddef.h>

struct mg_linemap;

int mg_linemap_new(struct mg_linemap **out);
int mg_linemap_put(struct mg_linemap *m, const void *key, int line);
int mg_linemap_get(const struct mg_linemap *m, const void *key); /* 0 when absent */
void mg_linemap_free(struct mg_linemap *m);

#endif
