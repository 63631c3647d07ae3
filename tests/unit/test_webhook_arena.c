/* The per-request arena behind cJSON. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"

Test(webhook_arena, nodes_come_from_the_arena_only_inside_the_bracket)
{
	mg_arena_install();
	cJSON *outside = cJSON_CreateObject(); /* malloc: survives the bracket */
	cr_assert_not_null(outside);

	mg_arena_begin();
	unsigned char *a = cJSON_malloc(24), *b = cJSON_malloc(24);
	cr_assert_eq(b - a, 32, "bump allocation, 16-byte aligned");
	cr_assert_eq((uintptr_t)a % 16, 0);
	const char *text = "{\"a\":[1,2,{\"b\":\"c\"}],\"d\":\"\\u00e9\"}";
	cJSON *tree = cJSON_Parse(text);
	cr_assert_not_null(tree);
	cr_assert(mg_arena_owns(tree));
	cr_assert(mg_arena_owns(cJSON_GetObjectItem(tree, "a")->child));
	cr_assert_not(mg_arena_owns(outside));
	cr_assert_str_eq(cJSON_GetObjectItem(tree, "d")->valuestring, "\xc3\xa9");
	char *printed = cJSON_PrintUnformatted(tree);
	cr_assert_str_eq(printed, "{\"a\":[1,2,{\"b\":\"c\"}],\"d\":\"\xc3\xa9\"}");
	cJSON_free(printed);
	cJSON_Delete(tree);
	cJSON_free(a);
	cJSON_free(b);
	/* Bigger than a chunk: its own chunk, freed at the end (valgrind checks). */
	char *big = cJSON_malloc(MG_ARENA_CHUNK * 3);
	cr_assert_not_null(big);
	memset(big, 'x', MG_ARENA_CHUNK * 3);
	/* Memory from before the bracket is still released with free(). */
	cJSON_Delete(outside);
	mg_arena_end();

	/* The kept chunk is reused: the first allocation lands at its start again. */
	mg_arena_begin();
	unsigned char *again = cJSON_malloc(24);
	cr_assert_eq(again, a);
	mg_arena_end();

	cJSON *after = cJSON_CreateString("malloc again");
	cr_assert_not_null(after);
	cr_assert_not(mg_arena_owns(after));
	cJSON_Delete(after);
	mg_arena_release();
	mg_arena_release();
}
