/* Fuzz target: arbitrary bytes as a POST /validate and /mutate body through the webhook's
 * handler (decoder limits, UTF-8 and NUL checks, duplicate keys, the rules, the encoder), in
 * the per-request arena as the server runs it. Whatever the input, the answer must be valid
 * JSON (an AdmissionReview or a Status), and nothing may crash, leak or trip a sanitizer.
 * corpus_admission/ holds the hostile bodies of issue 14; fuzz_admission_replay replays it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "arena.h"
#include "handler.h"
#include "mirrorgate/rules/lookup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* cJSON does not check UTF-8; the API server's decoder does. */
static int valid_utf8(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
						   : (c & 0xF8) == 0xF0 ? 4 : 0;
		if (!k || i + k > n)
			return 0;
		unsigned cp = k == 1 ? c : c & (0x7F >> k);
		for (size_t j = 1; j < k; j++) {
			if ((p[i + j] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + j] & 0x3F);
		}
		static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k;
	}
	return 1;
}

static void check(enum mg_wh_endpoint ep, const uint8_t *data, size_t size, mg_lookup *lk,
		  mg_wh_metrics *m)
{
	mg_strbuf out = MG_STRBUF_INIT;
	int status = 0;
	if (mg_wh_handle(&out, &status, ep, (const char *)data, size, lk, m) == 0) {
		cJSON *j = cJSON_ParseWithLength(out.data, out.len);
		if (!j || status < 200 || status > 599 ||
		    !valid_utf8((const unsigned char *)out.data, out.len))
			abort(); /* the answer must be JSON with a real status */
		cJSON_Delete(j);
	}
	mg_strbuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mg_wh_metrics m;
	static mg_store *store;
	static mg_lookup lk;
	if (!store) {
		mg_arena_install();
		if (mg_wh_metrics_init(&m) || mg_store_new(&store))
			abort();
		lk = mg_store_lookup(store);
	}
	check(MG_WH_VALIDATE, data, size, &lk, &m);
	check(MG_WH_MUTATE, data, size, &lk, &m);
	return 0;
}
