/* Fuzz target: every reader that turns a JSON number into an integer (the Kubernetes watch
 * error code, ONTAP collection fields, object generations, TMR observedGeneration, lease
 * durations all go through mg_json_int_in). The fuzzer found out-of-range double -> integer
 * conversions (undefined behaviour) here; corpus_numbers/ keeps each reproducer, replayed in
 * every build under the sanitizers (fuzz_numbers_replay). */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "../../lib/ontap/internal.h"
#include "kobj.h"
#include "mirrorgate/core/jsonnum.h"
#include "mirrorgate/reconcile/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile long long g_sink;

static void walk(const cJSON *n, int depth)
{
	if (!n || depth > 64)
		return;
	long long v = 0;
	if (mg_json_int_in(n, INT_MIN, INT_MAX, &v))
		g_sink += v;
	g_sink += mg_json_ll_or(n, -1);
	for (const cJSON *c = n->child; c; c = c->next)
		walk(c, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *root = cJSON_ParseWithLength((const char *)data, size);
	if (!root)
		return 0;
	walk(root, 0);
	g_sink += mg_ontap_json_ll(root, "code", 0);
	g_sink += mg_ontap_json_ll(root, "version.major", 0);
	g_sink += mg_kobj_generation(root);
	mg_tmr_condition_values v = {.observed_generation = 1};
	g_sink += mg_tmr_status_changed(root, &v);
	cJSON_Delete(root);
	return 0;
}
