/* mirrorgate-webhook under valgrind memcheck over the integration flow: every kind of
 * answer (allowed, denied, warnings, patch, bad requests, metrics), a certificate reload,
 * then SIGTERM. valgrind exits 99 on any memory error or definite/indirect leak. Skipped
 * in sanitizer builds (ASan and valgrind do not mix; ASan covers that build). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "webhook_harness.h"
#include "sanitizer.h"

#if !defined(MG_UNDER_ASAN) && (!defined(__clang__) || defined(MG_VALGRIND_CLANG_OK))
static void post(mg_wht *w, CURL *c, const char *path, const char *fixture, long want)
{
	size_t len;
	char *body = mg_wht_fixture(w, fixture, &len);
	mg_wht_resp r;
	mg_wht_request(w, c, "POST", path, "application/json", body, len, &r);
	cr_assert_eq(r.status, want, "%s %s: %ld %s", path, fixture, r.status, r.body);
	mg_wht_resp_free(&r);
	free(body);
}
#endif

Test(webhook_valgrind, request_loop_is_memcheck_clean, .timeout = 240)
{
#if defined(MG_UNDER_ASAN)
	cr_skip_test("sanitizer build: valgrind cannot run ASan binaries");
#elif defined(__clang__) && !defined(MG_VALGRIND_CLANG_OK)
	/* Debian 12's valgrind 3.19 cannot read the DWARF 5 that clang emits by default. */
	cr_skip_test("clang build: valgrind 3.19 cannot read DWARF 5 (build with -gdwarf-4 and "
		     "-DMG_VALGRIND_CLANG_OK)");
#else
	if (system("valgrind --version >/dev/null 2>&1") != 0)
		cr_skip_test("valgrind is not installed");
	mg_wht w;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	mg_wht_init(&w, MG_BIN_DIR, MG_SOURCE_DIR);
	char state[600];
	snprintf(state, sizeof(state), "--state-dir=%s/tests/data/webhook/state", MG_SOURCE_DIR);
	const char *args[] = {state, "--log-level=debug", "--cert-reload-interval=1", NULL};
	mg_wht_start(&w, args, true);

	CURL *c = mg_wht_curl(&w);
	/* Slow under valgrind: a generous per-request timeout. */
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
	static const char *const fixtures[] = {"tmr-create-valid.json", "tmr-create-bad-state.json",
					       "tmr-create-warning.json", "tmr-delete.json",
					       "pod-create.json", "tmr-status-update.json",
					       "review-full.json"};
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
			post(&w, c, "/validate", fixtures[i], 200);
			post(&w, c, "/mutate", fixtures[i], 200);
		}
	}
	mg_wht_resp r;
	const char *bad = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}";
	mg_wht_request(&w, c, "POST", "/validate", "application/json", bad, strlen(bad), &r);
	cr_assert_eq(r.status, 400);
	mg_wht_resp_free(&r);
	mg_wht_request(&w, c, "POST", "/validate", "application/json", "{x", 2, &r);
	cr_assert_eq(r.status, 400);
	mg_wht_resp_free(&r);
	mg_wht_request(&w, c, "POST", "/validate", "text/plain", "{}", 2, &r);
	cr_assert_eq(r.status, 415);
	mg_wht_resp_free(&r);
	mg_wht_request(&w, c, "GET", "/nowhere", NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 404);
	mg_wht_resp_free(&r);
	const char *paths[] = {"/healthz", "/readyz", "/metrics"};
	for (size_t i = 0; i < 3; i++) {
		mg_wht_request(&w, c, "GET", paths[i], NULL, NULL, 0, &r);
		cr_assert_eq(r.status, 200);
		mg_wht_resp_free(&r);
	}
	curl_easy_cleanup(c);

	/* A rotation, so that replaced certificates are freed too. */
	mg_wht_rotate(&w, "mirrorgate-valgrind-2");
	long code = 0;
	for (int i = 0; i < 60 && code != 200; i++) {
		struct timespec ts = {0, 500 * 1000 * 1000};
		nanosleep(&ts, NULL);
		c = mg_wht_curl(&w); /* a new connection: verified against the new CA */
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
		mg_wht_request(&w, c, "GET", "/healthz", NULL, NULL, 0, &r);
		code = r.status;
		mg_wht_resp_free(&r);
		curl_easy_cleanup(c);
	}
	cr_assert_eq(code, 200, "served with the rotated certificate");

	int status = mg_wht_stop(&w, SIGTERM, 60000);
	char *log = NULL;
	mg_read_file(w.err_path, 1 << 20, &log, NULL);
	cr_assert_eq(status, 0, "valgrind found errors (exit %d):\n%s", status, log ? log : "");
	free(log);
	mg_wht_cleanup(&w);
	curl_global_cleanup();
#endif
}
