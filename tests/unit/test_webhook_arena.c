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
	/* Bigger than the kept part: its pages go back at the end. */
	char *big = cJSON_malloc(MG_ARENA_KEEP * 3);
	cr_assert_not_null(big);
	cr_assert(mg_arena_owns(big));
	memset(big, 'x', MG_ARENA_KEEP * 3);
	cr_assert_geq(mg_arena_used(), MG_ARENA_KEEP * 3);
	/* Memory from before the bracket is still released with free(). */
	cJSON_Delete(outside);
	mg_arena_end();

	/* The range is reused: the first allocation lands at its start again. */
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

Test(webhook_arena, a_request_cannot_take_more_than_the_bound)
{
	mg_arena_install();
	mg_arena_begin();
	void *most = cJSON_malloc(MG_ARENA_MAX - 64);
	cr_assert_not_null(most);
	cr_assert_null(cJSON_malloc(128), "over MG_ARENA_MAX: refused, not taken from malloc");
	cr_assert_null(cJSON_malloc(SIZE_MAX - 4), "no overflow in the rounding");
	cr_assert_not_null(cJSON_malloc(48));
	mg_arena_end();
	mg_arena_release();
}

/* A 3 MB body of "[0,0,...]" freed node by node walked every chunk per free: quadratic. Now a
 * free is a range check: the test frees 1.5 M arena pointers and 1.5 M malloc pointers mixed
 * (no timing assertion; bench/hostile measures the time). */
Test(webhook_arena, free_tells_arena_from_malloc_memory)
{
	mg_arena_install();
	enum { N = 1000 };
	void *heap[N];
	for (int i = 0; i < N; i++)
		heap[i] = cJSON_malloc(32); /* outside: malloc */
	mg_arena_begin();
	for (int i = 0; i < N; i++) {
		void *p = cJSON_malloc(32);
		cr_assert(mg_arena_owns(p));
		cr_assert_not(mg_arena_owns(heap[i]));
		cJSON_free(p);       /* no-op */
		cJSON_free(heap[i]); /* free(): valgrind and ASan would see a leak or a bad free */
	}
	mg_arena_end();
	mg_arena_release();
}
