/* VolumeSnapshot / VolumeSnapshotContent events mapped to the TSIs they concern. */
#include <criterion/criterion.h>

#include "mirrorgate/reconcile/snapref.h"

static cJSON *J(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	cr_assert_not_null(j, "bad fixture %s", text);
	return j;
}

Test(reconcile_snapref, content_points_back_at_its_snapshot)
{
	const char *ns, *name;
	cJSON *vsc = J("{\"spec\":{\"volumeSnapshotRef\":{\"kind\":\"VolumeSnapshot\","
		       "\"namespace\":\"app\",\"name\":\"snap1\"}}}");
	cr_expect(mg_vsc_snapshot_ref(&ns, &name, vsc));
	cr_expect_str_eq(ns, "app");
	cr_expect_str_eq(name, "snap1");
	cJSON_Delete(vsc);
	const char *partial[] = {"{}", "{\"spec\":{}}", "{\"spec\":{\"volumeSnapshotRef\":[]}}",
				 "{\"spec\":{\"volumeSnapshotRef\":{\"name\":\"snap1\"}}}",
				 "{\"spec\":{\"volumeSnapshotRef\":{\"namespace\":\"app\","
				 "\"name\":\"\"}}}",
				 "{\"spec\":{\"volumeSnapshotRef\":{\"namespace\":1,\"name\":\"s\"}}}"};
	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		vsc = J(partial[i]);
		cr_expect_not(mg_vsc_snapshot_ref(&ns, &name, vsc), "%s", partial[i]);
		cr_expect_null(ns);
		cJSON_Delete(vsc);
	}
	cr_expect_not(mg_vsc_snapshot_ref(&ns, &name, NULL));
}

Test(reconcile_snapref, tsi_matches_its_snapshot_in_its_namespace_only)
{
	cJSON *tsi = J("{\"metadata\":{\"namespace\":\"app\",\"name\":\"info\"},"
		       "\"spec\":{\"snapshotName\":\"snap1\"}}");
	cr_expect(mg_tsi_refers_to(tsi, "app", "snap1"));
	cr_expect_not(mg_tsi_refers_to(tsi, "other", "snap1"), "another namespace's snapshot");
	cr_expect_not(mg_tsi_refers_to(tsi, "app", "snap2"));
	cr_expect_not(mg_tsi_refers_to(tsi, NULL, "snap1"));
	cr_expect_not(mg_tsi_refers_to(tsi, "app", NULL));
	cJSON_Delete(tsi);
	tsi = J("{\"metadata\":{\"namespace\":\"app\"},\"spec\":{\"snapshot-name\":\"snap1\"}}");
	cr_expect_not(mg_tsi_refers_to(tsi, "app", "snap1"), "the docs' spelling is not a name");
	cJSON_Delete(tsi);
	tsi = J("{\"metadata\":{\"namespace\":\"app\"}}");
	cr_expect_not(mg_tsi_refers_to(tsi, "app", "snap1"), "H6: no spec");
	cJSON_Delete(tsi);
}
