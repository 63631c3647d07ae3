/* TridentActionMirrorUpdate and TridentSnapshotInfo rules. */
#include <criterion/criterion.h>

#include "rules_cases.h"

#define TMR_WITH_STATUS(state, policy)                                                       \
	"apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"               \
	"metadata: {name: mirror, namespace: app}\n"                                         \
	"spec:\n  state: established\n  volumeMappings:\n  - localPVCName: data\n"           \
	"    remoteVolumeHandle: svm_a:trident_pvc_1\n"                                      \
	"status:\n  conditions:\n  - {state: " state ", replicationPolicy: " policy "}\n"
#define TAMU(spec)                                                                          \
	"apiVersion: trident.netapp.io/v1\nkind: TridentActionMirrorUpdate\n"              \
	"metadata: {name: update-1, namespace: app}\nspec: " spec "\n"
#define QA "TridentActionMirrorUpdate.trident.netapp.io \"update-1\" is invalid: "

Test(rules_tamu, target_state_and_handle)
{
	static const struct review_case cases[] = {
		{"update of an established TMR", NULL,
		 TAMU("{tridentMirrorRelationshipName: mirror, snapshotHandle: trident_pvc_1/snap-1}"),
		 NULL, TMR_WITH_STATUS("established", "MirrorAllSnapshots"), NULL, NULL, NULL, "", NULL},
		{"no TMR named", NULL, TAMU("{}"), NULL, NULL, NULL,
		 QA "spec.tridentMirrorRelationshipName: Required value: the TridentMirrorRelationship (in "
		    "this namespace) to update",
		 NULL, "TAMU-TMR", NULL},
		{"TMR does not exist", NULL, TAMU("{tridentMirrorRelationshipName: nope}"), NULL, NULL,
		 NULL,
		 QA "spec.tridentMirrorRelationshipName: Not found: \"nope\": no "
		    "TridentMirrorRelationship \"nope\" in namespace \"app\"",
		 NULL, "TAMU-TMR", NULL},
		{"TMR promoted", NULL, TAMU("{tridentMirrorRelationshipName: mirror}"), NULL,
		 TMR_WITH_STATUS("promoted", "MirrorAllSnapshots"), NULL,
		 QA "spec.tridentMirrorRelationshipName: Invalid value: \"mirror\": "
		    "TridentMirrorRelationship \"mirror\" is in state \"promoted\"; a mirror update needs "
		    "\"established\" or \"reestablished\"",
		 NULL, "TAMU-TMR-STATE", NULL},
		{"TMR without status (H6: no crash, a clear answer)", NULL,
		 TAMU("{tridentMirrorRelationshipName: mirror}"), NULL,
		 "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		 "metadata: {name: mirror, namespace: app}\n",
		 NULL,
		 QA "spec.tridentMirrorRelationshipName: Invalid value: \"mirror\": "
		    "TridentMirrorRelationship \"mirror\" has no status yet; a mirror update needs it to "
		    "report \"established\" or \"reestablished\"",
		 NULL, "TAMU-TMR-STATE", NULL},
		{"synchronous policy by name", NULL, TAMU("{tridentMirrorRelationshipName: mirror}"), NULL,
		 TMR_WITH_STATUS("established", "Sync"), NULL,
		 QA "spec.tridentMirrorRelationshipName: Invalid value: \"mirror\": "
		    "TridentMirrorRelationship \"mirror\" uses synchronous policy \"Sync\"; a synchronous "
		    "mirror has no transfers to trigger",
		 NULL, "TAMU-SYNC", NULL},
		{"synchronous policy by topology", NULL, TAMU("{tridentMirrorRelationshipName: mirror}"),
		 NULL, TMR_WITH_STATUS("established", "MySync"),
		 "policies: [{name: MySync, type: sync, syncType: sync}]\n",
		 QA "spec.tridentMirrorRelationshipName: Invalid value: \"mirror\": "
		    "TridentMirrorRelationship \"mirror\" uses synchronous policy \"MySync\"; a synchronous "
		    "mirror has no transfers to trigger",
		 NULL, "TAMU-SYNC", NULL},
		{"malformed snapshot handle", NULL,
		 TAMU("{tridentMirrorRelationshipName: mirror, snapshotHandle: snap-1}"), NULL,
		 TMR_WITH_STATUS("reestablished", "MirrorAllSnapshots"), NULL,
		 QA "spec.snapshotHandle: Invalid value: \"snap-1\": must be <volume>/<snapshot>, the "
		    "status.snapshotHandle of a TridentSnapshotInfo on the source cluster",
		 NULL, "TAMU-SNAPSHOT-HANDLE", NULL},
		{"spec is immutable", "UPDATE",
		 TAMU("{tridentMirrorRelationshipName: mirror, snapshotHandle: v/s2}"),
		 TAMU("{tridentMirrorRelationshipName: mirror, snapshotHandle: v/s1}"), NULL, NULL,
		 QA "spec: Forbidden: a TridentActionMirrorUpdate is a one-shot action; create a new one "
		    "instead of changing its spec",
		 NULL, "TAMU-IMMUTABLE", NULL},
		{"status written with a plain update passes even after the TMR moved on", "UPDATE",
		 TAMU("{tridentMirrorRelationshipName: mirror}") "status: {state: Succeeded}\n",
		 TAMU("{tridentMirrorRelationshipName: mirror}"),
		 TMR_WITH_STATUS("promoted", "MirrorAllSnapshots"), NULL, NULL, NULL, "", NULL},
		{0},
	};
	run_review_cases(cases);
}

#define TSI(spec)                                                                    \
	"apiVersion: trident.netapp.io/v1\nkind: TridentSnapshotInfo\n"             \
	"metadata: {name: snap-info, namespace: app}\nspec: " spec "\n"
#define QT "TridentSnapshotInfo.trident.netapp.io \"snap-info\" is invalid: "

Test(rules_tsi, snapshot_name_and_docs_spelling)
{
	static const struct review_case cases[] = {
		{"snapshotName set", NULL, TSI("{snapshotName: snap-1}"), NULL, NULL, NULL, NULL, NULL, "",
		 NULL},
		{"snapshotName missing", NULL, TSI("{}"), NULL, NULL, NULL,
		 QT "spec.snapshotName: Required value: the name of a VolumeSnapshot in this namespace",
		 NULL, "TSI-SNAPSHOT-NAME", NULL},
		{"snapshotName blank", NULL, TSI("{snapshotName: '  '}"), NULL, NULL, NULL,
		 QT "spec.snapshotName: Required value: the name of a VolumeSnapshot in this namespace",
		 NULL, "TSI-SNAPSHOT-NAME", NULL},
		{"the documentation's spelling", NULL, TSI("{snapshot-name: snap-1}"), NULL, NULL, NULL,
		 QT "[spec.snapshot-name: Invalid value: \"snap-1\": unknown field; the field is "
		    "spec.snapshotName (the Trident documentation's \"snapshot-name\" is not read by "
		    "Trident), spec.snapshotName: Required value: the name of a VolumeSnapshot in this "
		    "namespace]",
		 NULL, "TSI-SPELLING TSI-SNAPSHOT-NAME", NULL},
		{"the documentation's kind", NULL,
		 "apiVersion: trident.netapp.io/v1\nkind: SnapshotInfo\n"
		 "metadata: {name: snap-info, namespace: app}\nspec: {snapshot-name: snap-1}\n",
		 NULL, NULL, NULL,
		 "SnapshotInfo.trident.netapp.io \"snap-info\" is invalid: kind: Unsupported value: "
		 "\"SnapshotInfo\": supported values: \"TridentSnapshotInfo\"",
		 NULL, "TSI-KIND", NULL},
		{0},
	};
	run_review_cases(cases);
}
