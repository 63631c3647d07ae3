#include <criterion/criterion.h>
#include <string.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/rules/lookup.h"
#include "mirrorgate/core/model.h"
#include "yaml_fixture.h"

Test(model, pv_as_trident_provisions_it)
{
	cJSON *o = mg_test_yaml("apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pvc-1}\n"
			"spec:\n  csi:\n    driver: csi.trident.netapp.io\n    volumeHandle: pvc-1\n"
			"    volumeAttributes: {internalName: trident_pvc_1, backendUUID: x}\n"
			"  claimRef: {namespace: app, name: data}\n");
	mg_pv pv;
	mg_field_errors errs = {0};
	cr_assert_eq(mg_pv_decode(&pv, o, &errs), 0);
	cr_assert_eq(errs.len, 0);
	cr_assert_str_eq(pv.csi_driver, "csi.trident.netapp.io");
	cr_assert_str_eq(pv.volume_handle, "pvc-1");
	cr_assert_str_eq(pv.internal_name, "trident_pvc_1");
	cr_assert_str_eq(pv.claim_namespace, "app");
	cr_assert_str_eq(pv.claim_name, "data");
	cJSON_Delete(o);
}

Test(model, partial_objects_decode_without_crashing)
{
	/* H6: nothing is assumed present. */
	const char *texts[] = {"{}", "{kind: TridentMirrorRelationship}", "{spec: {}}",
			       "{status: {conditions: []}}", "{status: {conditions: [7]}}",
			       "{spec: {volumeMappings: [null, 3]}}", NULL};
	for (const char **t = texts; *t; t++) {
		cJSON *o = mg_test_yaml(*t);
		mg_field_errors errs = {0};
		mg_tmr tmr;
		cr_assert_eq(mg_tmr_decode(&tmr, o, &errs), 0, "%s", *t);
		mg_tmr_free(&tmr);
		mg_tamu tamu;
		mg_tsi tsi;
		mg_pvc pvc;
		mg_pv pv;
		mg_storage_class sc;
		cr_assert_eq(mg_tamu_decode(&tamu, o, &errs), 0);
		cr_assert_eq(mg_tsi_decode(&tsi, o, &errs), 0);
		cr_assert_eq(mg_pvc_decode(&pvc, o, &errs), 0);
		cr_assert_eq(mg_pv_decode(&pv, o, &errs), 0);
		cr_assert_eq(mg_storage_class_decode(&sc, o, &errs), 0);
		mg_fe_clear(&errs);
		cJSON_Delete(o);
	}
}

Test(model, tmr_status_condition_fields)
{
	cJSON *o = mg_test_yaml("metadata: {name: m, finalizers: [trident.netapp.io]}\n"
			"status:\n  conditions:\n  - {state: established, message: ok, localPVCName: d, "
			"localVolumeHandle: 'svm_b:v', remoteVolumeHandle: 'svm_a:v', "
			"replicationPolicy: P, replicationSchedule: S}\n");
	mg_tmr t;
	mg_field_errors errs = {0};
	cr_assert_eq(mg_tmr_decode(&t, o, &errs), 0);
	cr_assert(t.has_condition);
	cr_assert_str_eq(t.condition.state, "established");
	cr_assert_str_eq(t.condition.local_volume_handle, "svm_b:v");
	cr_assert_str_eq(t.condition.replication_schedule, "S");
	cr_assert(mg_meta_has_finalizer(&t.meta, MG_TRIDENT_FINALIZER));
	mg_tmr_free(&t);
	cJSON_Delete(o);
}

static int count(void *ctx, const cJSON *obj)
{
	(void)obj;
	(*(int *)ctx)++;
	return 0;
}

Test(store, put_replace_get_and_index_scan)
{
	mg_store *s;
	cr_assert_eq(mg_store_new(&s), 0);
	cr_assert_eq(mg_store_put(s, mg_test_yaml("{kind: TridentMirrorRelationship, metadata: {name: a, "
					  "namespace: ns1}, spec: {volumeMappings: [{localPVCName: p, "
					  "remoteVolumeHandle: 'svm:v'}]}}")), 0);
	cr_assert_eq(mg_store_put(s, mg_test_yaml("{kind: TridentMirrorRelationship, metadata: {name: b, "
					  "namespace: ns1}, spec: {volumeMappings: [{localPVCName: q}]}}")), 0);
	cr_assert_eq(mg_store_put(s, mg_test_yaml("{kind: StorageClass, metadata: {name: gold}}")), 0);
	cr_assert_eq(mg_store_put(s, mg_test_yaml("{kind: TridentMirrorRelationship, metadata: {name: b, "
					  "namespace: ns1}, spec: {volumeMappings: [{localPVCName: p}]}}")), 0,
		     "replace by kind/namespace/name");
	cJSON *nameless = mg_test_yaml("{kind: StorageClass}");
	cr_assert_eq(mg_store_put(s, nameless), MG_EINVAL);
	cJSON_Delete(nameless);
	cr_assert_eq(mg_store_count(s), 3);
	mg_lookup lk = mg_store_lookup(s);
	cr_assert_not_null(mg_lookup_get(&lk, MG_KIND_SC, NULL, "gold"));
	cr_assert_null(mg_lookup_get(&lk, MG_KIND_TMR, "other", "a"));
	int n = 0;
	cr_assert_eq(mg_lookup_each_indexed(&lk, MG_INDEX_TMR_BY_PVC, "ns1/p", count, &n), 0);
	cr_assert_eq(n, 2);
	n = 0;
	mg_lookup_each_indexed(&lk, MG_INDEX_TMR_BY_REMOTE, "svm:v", count, &n);
	cr_assert_eq(n, 1);
	cr_assert_null(mg_lookup_topology(&lk));
	cr_assert(mg_lookup_synced(&lk));
	mg_store_free(s);
	mg_store_free(NULL);
}
