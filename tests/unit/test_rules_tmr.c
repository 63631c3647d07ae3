/* TridentMirrorRelationship rules: every rule accepts and rejects, messages exact. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>

#include "rules_cases.h"

#define TMR_HEAD                                                  \
	"apiVersion: trident.netapp.io/v1\n"                      \
	"kind: TridentMirrorRelationship\n"                       \
	"metadata: {name: csi-nas, namespace: app, finalizers: [trident.netapp.io]}\n"
#define Q "TridentMirrorRelationship.trident.netapp.io \"csi-nas\" is invalid: "

/* The secondary cluster: svm_b, peered with svm_a. */
#define TOPO                                                                        \
	"localSVMs: [svm_b]\n"                                                      \
	"peers: {svm_b: [svm_a]}\n"                                                 \
	"policies:\n"                                                               \
	"- {name: MirrorAllSnapshots, type: async, copyAllSourceSnapshots: true}\n" \
	"- {name: MirrorLatest, type: async, copyAllSourceSnapshots: false}\n"      \
	"- {name: Sync, type: sync, syncType: sync}\n"                              \
	"- {name: StrictSync, type: sync, syncType: strict_sync}\n"                 \
	"- {name: Vault, type: vault}\n"                                            \
	"schedules: [5min, hourly]\n"

#define ESTABLISHED(remote)                                                              \
	TMR_HEAD "spec:\n  state: established\n  volumeMappings:\n  - localPVCName: data\n" \
		 "    remoteVolumeHandle: " remote "\n"

#define PVC_HISTORY(remote)                                                           \
	"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n"      \
	"  namespace: app\n  annotations:\n    mirrorgate.io/replication-history: '" \
	"[{\"remoteVolumeHandle\":\"" remote "\",\"role\":\"source\"}]'\n"

Test(rules_tmr, structure_state_and_mappings)
{
	static const struct review_case cases[] = {
		{"observe-only with a PVC", NULL, TMR_HEAD "spec:\n  volumeMappings:\n  - localPVCName: data\n",
		 NULL, NULL, TOPO, NULL, NULL, "", NULL},
		{"state not in the enum", NULL,
		 TMR_HEAD "spec:\n  state: mirrored\n  volumeMappings:\n  - localPVCName: data\n", NULL,
		 NULL, TOPO,
		 Q "spec.state: Unsupported value: \"mirrored\": supported values: \"\", \"promoted\", "
		   "\"established\", \"reestablished\"",
		 NULL, "TMR-STATE", NULL},
		{"released is internal to Trident", NULL,
		 TMR_HEAD "spec:\n  state: released\n  volumeMappings:\n  - localPVCName: data\n", NULL,
		 NULL, TOPO,
		 Q "spec.state: Unsupported value: \"released\": supported values: \"\", \"promoted\", "
		   "\"established\", \"reestablished\"",
		 NULL, "TMR-STATE", NULL},
		{"no volumeMappings", NULL, TMR_HEAD "spec:\n  state: promoted\n", NULL, NULL, TOPO,
		 Q "spec.volumeMappings: Required value: must contain exactly one volume mapping", NULL,
		 "TMR-MAPPINGS", NULL},
		{"empty volumeMappings", NULL, TMR_HEAD "spec:\n  state: promoted\n  volumeMappings: []\n",
		 NULL, NULL, TOPO,
		 Q "spec.volumeMappings: Required value: must contain exactly one volume mapping", NULL,
		 "TMR-MAPPINGS", NULL},
		{"two volumeMappings", NULL,
		 TMR_HEAD "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: a\n"
			  "  - localPVCName: b\n",
		 NULL, NULL, TOPO, Q "spec.volumeMappings: Too many: 2: must have at most 1 items", NULL,
		 "TMR-MAPPINGS", NULL},
		{"mapping without localPVCName", NULL,
		 TMR_HEAD "spec:\n  state: promoted\n  volumeMappings:\n  - {}\n", NULL, NULL, TOPO,
		 Q "spec.volumeMappings[0].localPVCName: Required value: the name of the "
		   "PersistentVolumeClaim in this namespace to mirror",
		 NULL, "TMR-LOCAL-PVC", NULL},
		{"localPVCName not a DNS subdomain", NULL,
		 TMR_HEAD "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: Data_1\n", NULL,
		 NULL, TOPO,
		 Q "spec.volumeMappings[0].localPVCName: Invalid value: \"Data_1\": a lowercase RFC 1123 "
		   "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
		   "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
		   "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
		 NULL, "TMR-LOCAL-PVC", NULL},
		{"several errors are listed together", NULL,
		 TMR_HEAD "spec:\n  state: bogus\n  volumeMappings: []\n", NULL, NULL, TOPO,
		 Q "[spec.state: Unsupported value: \"bogus\": supported values: \"\", \"promoted\", "
		   "\"established\", \"reestablished\", spec.volumeMappings: Required value: must "
		   "contain exactly one volume mapping]",
		 NULL, "TMR-STATE TMR-MAPPINGS", NULL},
		{"wrong JSON types are schema errors", NULL,
		 TMR_HEAD "spec:\n  state: 3\n  volumeMappings: {localPVCName: a}\n", NULL, NULL, TOPO,
		 Q "[spec.state: Invalid value: \"number\": spec.state in body must be of type string: "
		   "\"number\", spec.volumeMappings: Invalid value: \"object\": spec.volumeMappings in "
		   "body must be of type array: \"object\"]",
		 NULL, "SCHEMA", NULL},
		{0},
	};
	run_review_cases(cases);
}

Test(rules_tmr, handles)
{
	static const struct review_case cases[] = {
		{"established needs a remote handle", NULL,
		 TMR_HEAD "spec:\n  state: established\n  volumeMappings:\n  - localPVCName: data\n", NULL,
		 NULL, TOPO,
		 Q "spec.volumeMappings[0].remoteVolumeHandle: Required value: required when spec.state "
		   "is \"established\" or \"reestablished\"",
		 NULL, "TMR-REMOTE-HANDLE", NULL},
		{"reestablished needs a remote handle", NULL,
		 TMR_HEAD "spec:\n  state: reestablished\n  volumeMappings:\n  - localPVCName: data\n"
			  "    remoteVolumeHandle: ''\n",
		 NULL, NULL, TOPO,
		 Q "spec.volumeMappings[0].remoteVolumeHandle: Required value: required when spec.state "
		   "is \"established\" or \"reestablished\"",
		 NULL, "TMR-REMOTE-HANDLE", NULL},
		{"handle without a colon", NULL, ESTABLISHED("trident_pvc_1"), NULL, NULL, TOPO,
		 Q "spec.volumeMappings[0].remoteVolumeHandle: Invalid value: \"trident_pvc_1\": must be "
		   "<svm>:<volume>, the status.conditions[0].localVolumeHandle of the "
		   "TridentMirrorRelationship on the peer cluster",
		 NULL, "TMR-REMOTE-FORMAT", NULL},
		{"bad SVM name", NULL, ESTABLISHED("'9svm:trident_pvc_1'"), NULL, NULL, TOPO,
		 Q "spec.volumeMappings[0].remoteVolumeHandle: Invalid value: \"9svm:trident_pvc_1\": "
		   "\"9svm\" is not a valid ONTAP SVM name (1-47 letters, digits, '_', '-' or '.', "
		   "starting with a letter or '_')",
		 NULL, "TMR-REMOTE-FORMAT", NULL},
		{"bad volume name", NULL, ESTABLISHED("'svm_a:pvc-1'"), NULL, NULL, TOPO,
		 Q "spec.volumeMappings[0].remoteVolumeHandle: Invalid value: \"svm_a:pvc-1\": \"pvc-1\" "
		   "is not a valid ONTAP volume name (1-203 letters, digits or '_', starting with a "
		   "letter or '_')",
		 NULL, "TMR-REMOTE-FORMAT", NULL},
		{"empty volume part", NULL, ESTABLISHED("'svm_a:'"), NULL, NULL, TOPO,
		 Q "spec.volumeMappings[0].remoteVolumeHandle: Invalid value: \"svm_a:\": \"\" is not a "
		   "valid ONTAP volume name (1-203 letters, digits or '_', starting with a letter or '_')",
		 NULL, "TMR-REMOTE-FORMAT", NULL},
		{"valid handle", NULL, ESTABLISHED("svm_a:trident_pvc_1"), NULL, NULL, TOPO, NULL, NULL,
		 "", NULL},
		{"promotedSnapshotHandle without promoted", NULL,
		 TMR_HEAD "spec:\n  state: established\n  volumeMappings:\n  - localPVCName: data\n"
			  "    remoteVolumeHandle: svm_a:trident_pvc_1\n"
			  "    promotedSnapshotHandle: trident_pvc_1/snap-1\n",
		 NULL, NULL, TOPO,
		 Q "spec.volumeMappings[0].promotedSnapshotHandle: Forbidden: may only be set when "
		   "spec.state is \"promoted\"",
		 NULL, "TMR-PROMOTED-SNAPSHOT", NULL},
		{"promotedSnapshotHandle malformed", NULL,
		 TMR_HEAD "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n"
			  "    promotedSnapshotHandle: snap-1\n",
		 NULL, NULL, TOPO,
		 Q "spec.volumeMappings[0].promotedSnapshotHandle: Invalid value: \"snap-1\": must be "
		   "<volume>/<snapshot>, the status.snapshotHandle of a TridentSnapshotInfo on the "
		   "source cluster",
		 NULL, "TMR-SNAPSHOT-HANDLE", NULL},
		{"promotedSnapshotHandle with a space", NULL,
		 TMR_HEAD "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n"
			  "    promotedSnapshotHandle: 'vol/snap 1'\n",
		 NULL, NULL, TOPO,
		 Q "spec.volumeMappings[0].promotedSnapshotHandle: Invalid value: \"vol/snap 1\": must "
		   "be <volume>/<snapshot>, the status.snapshotHandle of a TridentSnapshotInfo on the "
		   "source cluster",
		 NULL, "TMR-SNAPSHOT-HANDLE", NULL},
		{"promoted with a snapshot handle", NULL,
		 TMR_HEAD "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n"
			  "    promotedSnapshotHandle: trident_pvc_1/snap-1\n",
		 NULL, NULL, TOPO, NULL, NULL, "", NULL},
		{0},
	};
	run_review_cases(cases);
}

Test(rules_tmr, svm_uniqueness_and_peering)
{
	static const struct review_case cases[] = {
		{"remote SVM has a local SVM's name", NULL, ESTABLISHED("svm_b:trident_pvc_1"), NULL,
		 NULL, TOPO,
		 Q "spec.volumeMappings[0].remoteVolumeHandle: Invalid value: \"svm_b:trident_pvc_1\": "
		   "SVM \"svm_b\" is also an SVM of this cluster; SVM names must be unique across "
		   "peered clusters (rename one, or peer the SVM with itself for intra-SVM mirroring)",
		 NULL, "TMR-SVM-UNIQUE", NULL},
		{"intra-SVM mirroring declared in the topology", NULL, ESTABLISHED("svm_b:trident_pvc_1"),
		 NULL, NULL, "localSVMs: [svm_b]\npeers: {svm_b: [svm_b, svm_a]}\n", NULL, NULL, "", NULL},
		{"remote SVM not peered", NULL, ESTABLISHED("svm_x:trident_pvc_1"), NULL, NULL, TOPO,
		 Q "spec.volumeMappings[0].remoteVolumeHandle: Invalid value: \"svm_x:trident_pvc_1\": "
		   "SVM \"svm_x\" is not peered with an SVM of this cluster (peers: svm_a); create the "
		   "SVM peer relationship first",
		 NULL, "TMR-SVM-PEER", NULL},
		{"topology unknown: a warning, not a silent pass", NULL,
		 ESTABLISHED("svm_x:trident_pvc_1"), NULL, NULL, NULL, NULL,
		 "cannot check that SVM \"svm_x\" is unique and peered: the local topology is unknown\n",
		 "TMR-SVM-UNIQUE", NULL},
		{"peers unknown: a warning", NULL, ESTABLISHED("svm_x:trident_pvc_1"), NULL, NULL,
		 "localSVMs: [svm_b]\n", NULL,
		 "cannot check that SVM \"svm_x\" is peered: SVM peers are unknown\n", "TMR-SVM-PEER",
		 NULL},
		{"promoted source TMRs are not checked", NULL,
		 TMR_HEAD "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n"
			  "    remoteVolumeHandle: svm_b:trident_pvc_1\n",
		 NULL, NULL, TOPO, NULL, NULL, "", NULL},
		{0},
	};
	run_review_cases(cases);
}

#define WITH_POLICY(policy, schedule)                                                        \
	TMR_HEAD "spec:\n  state: established\n  replicationPolicy: " policy "\n"            \
		 "  replicationSchedule: " schedule "\n  volumeMappings:\n  - localPVCName: data\n" \
		 "    remoteVolumeHandle: svm_a:trident_pvc_1\n"

Test(rules_tmr, policy_and_schedule)
{
	static const struct review_case cases[] = {
		{"async with all snapshots", NULL, WITH_POLICY("MirrorAllSnapshots", "5min"), NULL, NULL,
		 TOPO, NULL, NULL, "", NULL},
		{"unknown policy", NULL, WITH_POLICY("Nope", "5min"), NULL, NULL, TOPO,
		 Q "spec.replicationPolicy: Not found: \"Nope\": no SnapMirror policy of that name on "
		   "this cluster",
		 NULL, "TMR-POLICY", NULL},
		{"async without all_source_snapshots", NULL, WITH_POLICY("MirrorLatest", "5min"), NULL,
		 NULL, TOPO,
		 Q "spec.replicationPolicy: Invalid value: \"MirrorLatest\": policy is async but has no "
		   "all_source_snapshots rule; use a policy like MirrorAllSnapshots",
		 NULL, "TMR-POLICY", NULL},
		{"strict sync", NULL, WITH_POLICY("StrictSync", "''"), NULL, NULL, TOPO,
		 Q "spec.replicationPolicy: Invalid value: \"StrictSync\": policy has sync_type "
		   "\"strict_sync\"; only async (with all_source_snapshots) and plain sync policies are "
		   "supported",
		 NULL, "TMR-POLICY", NULL},
		{"vault policy", NULL, WITH_POLICY("Vault", "''"), NULL, NULL, TOPO,
		 Q "spec.replicationPolicy: Invalid value: \"Vault\": policy has type \"vault\"; only "
		   "async and sync SnapMirror policies are supported",
		 NULL, "TMR-POLICY", NULL},
		{"sync policy ignores a schedule", NULL, WITH_POLICY("Sync", "5min"), NULL, NULL, TOPO,
		 NULL, "replicationSchedule \"5min\" is ignored: policy \"Sync\" is synchronous\n",
		 "TMR-SCHEDULE", NULL},
		{"unknown schedule", NULL, WITH_POLICY("MirrorAllSnapshots", "2min"), NULL, NULL, TOPO,
		 Q "spec.replicationSchedule: Not found: \"2min\": no job schedule of that name on this "
		   "cluster",
		 NULL, "TMR-SCHEDULE", NULL},
		{"policies and schedules unknown: warnings", NULL, WITH_POLICY("MirrorAllSnapshots", "5min"),
		 NULL, NULL, "localSVMs: [svm_b]\npeers: {svm_b: [svm_a]}\n", NULL,
		 "cannot check replication policy \"MirrorAllSnapshots\": SnapMirror policies are "
		 "unknown\ncannot check replication schedule \"5min\": schedules are unknown\n",
		 "TMR-POLICY TMR-SCHEDULE", NULL},
		{0},
	};
	run_review_cases(cases);
}

#define OLD_ESTABLISHED_STATUS                                                          \
	TMR_HEAD "spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n" \
		 "  replicationSchedule: 5min\n  volumeMappings:\n  - localPVCName: data\n"  \
		 "    remoteVolumeHandle: svm_a:trident_pvc_1\n"                              \
		 "status:\n  conditions:\n  - state: established\n    localPVCName: data\n"    \
		 "    remoteVolumeHandle: svm_a:trident_pvc_1\n"                              \
		 "    replicationPolicy: MirrorAllSnapshots\n    replicationSchedule: 5min\n"

Test(rules_tmr, immutable_once_recorded)
{
	static const struct review_case cases[] = {
		{"changing the remote handle", "UPDATE",
		 TMR_HEAD "spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"
			  "  replicationSchedule: 5min\n  volumeMappings:\n  - localPVCName: data\n"
			  "    remoteVolumeHandle: svm_a:trident_pvc_2\n",
		 OLD_ESTABLISHED_STATUS, NULL, TOPO,
		 Q "spec.volumeMappings[0].remoteVolumeHandle: Invalid value: \"svm_a:trident_pvc_2\": "
		   "field is immutable: status records \"svm_a:trident_pvc_1\"; delete this "
		   "TridentMirrorRelationship and create a new one to change it",
		 NULL, "TMR-IMMUTABLE", NULL},
		{"changing localPVCName", "UPDATE",
		 TMR_HEAD "spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"
			  "  replicationSchedule: 5min\n  volumeMappings:\n  - localPVCName: other\n"
			  "    remoteVolumeHandle: svm_a:trident_pvc_1\n",
		 OLD_ESTABLISHED_STATUS, NULL, TOPO,
		 Q "spec.volumeMappings[0].localPVCName: Invalid value: \"other\": field is immutable: "
		   "status records \"data\"; delete this TridentMirrorRelationship and create a new one "
		   "to change it",
		 NULL, "TMR-IMMUTABLE", NULL},
		{"changing the policy", "UPDATE",
		 TMR_HEAD "spec:\n  state: established\n  replicationPolicy: Sync\n"
			  "  replicationSchedule: 5min\n  volumeMappings:\n  - localPVCName: data\n"
			  "    remoteVolumeHandle: svm_a:trident_pvc_1\n",
		 OLD_ESTABLISHED_STATUS, NULL, TOPO,
		 Q "spec.replicationPolicy: Invalid value: \"Sync\": field is immutable: status records "
		   "\"MirrorAllSnapshots\"; delete this TridentMirrorRelationship and create a new one "
		   "to change it",
		 "replicationSchedule \"5min\" is ignored: policy \"Sync\" is synchronous\n",
		 "TMR-IMMUTABLE TMR-SCHEDULE", NULL},
		{"changing the schedule", "UPDATE",
		 TMR_HEAD "spec:\n  state: established\n  replicationPolicy: MirrorAllSnapshots\n"
			  "  replicationSchedule: hourly\n  volumeMappings:\n  - localPVCName: data\n"
			  "    remoteVolumeHandle: svm_a:trident_pvc_1\n",
		 OLD_ESTABLISHED_STATUS, NULL, TOPO,
		 Q "spec.replicationSchedule: Invalid value: \"hourly\": field is immutable: status "
		   "records \"5min\"; delete this TridentMirrorRelationship and create a new one to "
		   "change it",
		 NULL, "TMR-IMMUTABLE", NULL},
		{"promoting may change the policy (Trident allows it)", "UPDATE",
		 TMR_HEAD "spec:\n  state: promoted\n  replicationPolicy: Sync\n"
			  "  replicationSchedule: 5min\n  volumeMappings:\n  - localPVCName: data\n"
			  "    remoteVolumeHandle: svm_a:trident_pvc_1\n",
		 OLD_ESTABLISHED_STATUS, NULL, TOPO, NULL,
		 "promoting PVC \"data\" stops replication from \"svm_a:trident_pvc_1\"; the volume "
		 "becomes writable; the source stays writable if it still runs, so to fail back "
		 "later set reestablished on the side that gives up its writes\n",
		 "TMR-DATA-WARNING", NULL},
		{"metadata-only updates always pass (the reconciler's finalizer writes)", "UPDATE",
		 OLD_ESTABLISHED_STATUS "  # relabelled\n", OLD_ESTABLISHED_STATUS, NULL,
		 "localSVMs: [svm_b]\npeers: {svm_b: []}\n", NULL, NULL, "", NULL},
		{"an object being deleted is left alone", "UPDATE",
		 "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		 "metadata: {name: csi-nas, namespace: app, deletionTimestamp: '2026-11-25T10:00:00Z'}\n"
		 "spec:\n  state: bogus\n",
		 OLD_ESTABLISHED_STATUS, NULL, TOPO, NULL, NULL, "", NULL},
		{0},
	};
	run_review_cases(cases);
}

Test(rules_tmr, one_relationship_per_pvc)
{
	static const struct review_case cases[] = {
		{"a second TMR for the same PVC", NULL, ESTABLISHED("svm_a:trident_pvc_1"), NULL,
		 "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		 "metadata: {name: first, namespace: app}\n"
		 "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n",
		 TOPO,
		 Q "spec.volumeMappings[0].localPVCName: Duplicate value: \"data\": already mapped by "
		   "TridentMirrorRelationship \"first\"; a PVC can be in only one relationship",
		 NULL, "TMR-UNIQUE-PVC", NULL},
		{"same PVC name in another namespace is fine", NULL, ESTABLISHED("svm_a:trident_pvc_1"),
		 NULL,
		 "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		 "metadata: {name: first, namespace: other}\n"
		 "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n",
		 TOPO, NULL, NULL, "", NULL},
		{0},
	};
	run_review_cases(cases);
}

#define REESTABLISHED(remote)                                                              \
	TMR_HEAD "spec:\n  state: reestablished\n  volumeMappings:\n  - localPVCName: data\n" \
		 "    remoteVolumeHandle: " remote "\n"

Test(rules_tmr, reestablish_needs_history)
{
	static const struct review_case cases[] = {
		{"reestablished on a volume never mirrored", NULL, REESTABLISHED("svm_a:trident_pvc_1"),
		 NULL,
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: app}\n",
		 TOPO,
		 Q "spec.state: Invalid value: \"reestablished\": PVC \"data\" has no record of a "
		   "SnapMirror relationship with \"svm_a:trident_pvc_1\" (in this "
		   "TridentMirrorRelationship's status or the PVC's mirrorgate.io/replication-history "
		   "annotation); a resync would overwrite it with unrelated data: use \"established\" "
		   "for a new mirror (after a failover, on the old source: mirrorgate-reconciler "
		   "records the relationship once this TMR, state promoted, has seen it in ONTAP)",
		 NULL, "TMR-REESTABLISH-HISTORY", NULL},
		{"reestablished with a different remote than the history", NULL,
		 REESTABLISHED("svm_a:trident_pvc_9"), NULL, PVC_HISTORY("svm_a:trident_pvc_1"), TOPO,
		 Q "spec.state: Invalid value: \"reestablished\": PVC \"data\" has no record of a "
		   "SnapMirror relationship with \"svm_a:trident_pvc_9\" (in this "
		   "TridentMirrorRelationship's status or the PVC's mirrorgate.io/replication-history "
		   "annotation); a resync would overwrite it with unrelated data: use \"established\" "
		   "for a new mirror (after a failover, on the old source: mirrorgate-reconciler "
		   "records the relationship once this TMR, state promoted, has seen it in ONTAP)",
		 NULL, NULL, NULL},
		{"reestablished with history on the PVC: allowed, with a warning", NULL,
		 REESTABLISHED("svm_a:trident_pvc_1"), NULL, PVC_HISTORY("svm_a:trident_pvc_1"), TOPO,
		 NULL,
		 "reestablished resyncs PVC \"data\" from \"svm_a:trident_pvc_1\": its writes since the "
		 "last common snapshot will be lost (after a failover both sides are writable: "
		 "reestablish only the side that gives up its writes)\n",
		 "TMR-DATA-WARNING", NULL},
		{"reestablished after promote: the TMR's own status is the evidence", "UPDATE",
		 TMR_HEAD "spec:\n  state: reestablished\n  volumeMappings:\n  - localPVCName: data\n"
			  "    remoteVolumeHandle: svm_a:trident_pvc_1\n",
		 TMR_HEAD "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n"
			  "    remoteVolumeHandle: svm_a:trident_pvc_1\n"
			  "status:\n  conditions:\n  - state: promoted\n    localPVCName: data\n"
			  "    remoteVolumeHandle: svm_a:trident_pvc_1\n",
		 NULL, TOPO, NULL,
		 "reestablished resyncs PVC \"data\" from \"svm_a:trident_pvc_1\": its writes since the "
		 "last common snapshot will be lost (after a failover both sides are writable: "
		 "reestablish only the side that gives up its writes)\n",
		 "TMR-DATA-WARNING", NULL},
		{"malformed history is ignored with a warning", NULL, REESTABLISHED("svm_a:trident_pvc_1"),
		 NULL,
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: app\n"
		 "  annotations: {mirrorgate.io/replication-history: 'not json'}\n",
		 TOPO,
		 Q "spec.state: Invalid value: \"reestablished\": PVC \"data\" has no record of a "
		   "SnapMirror relationship with \"svm_a:trident_pvc_1\" (in this "
		   "TridentMirrorRelationship's status or the PVC's mirrorgate.io/replication-history "
		   "annotation); a resync would overwrite it with unrelated data: use \"established\" "
		   "for a new mirror (after a failover, on the old source: mirrorgate-reconciler "
		   "records the relationship once this TMR, state promoted, has seen it in ONTAP)",
		 "PVC \"data\" has a malformed mirrorgate.io/replication-history annotation; it is "
		 "ignored\n",
		 "TMR-REESTABLISH-HISTORY TMR-HISTORY", NULL},
		{0},
	};
	run_review_cases(cases);
}

/* Failback through the webhook, both directions, with the history exactly as the reconciler
 * writes it (issue 11): the original source's TMR (promoted, no remote) becomes reestablished
 * with the promoted destination's handle (its PVC has role "source"), and the promoted
 * destination's TMR becomes reestablished with the original source's handle (role
 * "destination"). Both are admitted, each with the data-loss warning. */
#define SOURCE_TMR_PROMOTED                                                                \
	TMR_HEAD "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n"     \
		 "status:\n  conditions:\n  - {state: promoted, localPVCName: data, "           \
		 "localVolumeHandle: 'svm_b:trident_pvc_2', remoteVolumeHandle: ''}\n"
#define PVC_RECORDED(remote, role)                                                          \
	"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n"            \
	"  namespace: app\n  finalizers: [mirrorgate.io/replication]\n  annotations:\n"       \
	"    mirrorgate.io/replication-history: '[{\"remoteVolumeHandle\":\"" remote "\","      \
	"\"role\":\"" role "\",\"tmr\":\"csi-nas\",\"since\":\"2026-12-03T19:00:00Z\"}]'\n"

Test(rules_tmr, failback_is_admitted_in_both_directions)
{
	static const struct review_case cases[] = {
		{"original source gives up its writes: reestablished from the promoted destination",
		 "UPDATE", REESTABLISHED("svm_a:trident_pvc_1"), SOURCE_TMR_PROMOTED,
		 PVC_RECORDED("svm_a:trident_pvc_1", "source"), TOPO, NULL,
		 "reestablished resyncs PVC \"data\" from \"svm_a:trident_pvc_1\": its writes since the "
		 "last common snapshot will be lost (after a failover both sides are writable: "
		 "reestablish only the side that gives up its writes)\n",
		 "TMR-DATA-WARNING", NULL},
		{"promoted destination gives up its writes: reestablished from the original source",
		 "UPDATE", REESTABLISHED("svm_a:trident_pvc_1"),
		 TMR_HEAD "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n"
			  "    remoteVolumeHandle: svm_a:trident_pvc_1\n",
		 PVC_RECORDED("svm_a:trident_pvc_1", "destination"), TOPO, NULL,
		 "reestablished resyncs PVC \"data\" from \"svm_a:trident_pvc_1\": its writes since the "
		 "last common snapshot will be lost (after a failover both sides are writable: "
		 "reestablish only the side that gives up its writes)\n",
		 "TMR-DATA-WARNING", NULL},
		{"without the source entry the original source is refused (the bug of issue 11)",
		 "UPDATE", REESTABLISHED("svm_a:trident_pvc_1"), SOURCE_TMR_PROMOTED,
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: app}\n",
		 TOPO,
		 Q "spec.state: Invalid value: \"reestablished\": PVC \"data\" has no record of a "
		   "SnapMirror relationship with \"svm_a:trident_pvc_1\" (in this "
		   "TridentMirrorRelationship's status or the PVC's mirrorgate.io/replication-history "
		   "annotation); a resync would overwrite it with unrelated data: use \"established\" "
		   "for a new mirror (after a failover, on the old source: mirrorgate-reconciler "
		   "records the relationship once this TMR, state promoted, has seen it in ONTAP)",
		 NULL, "TMR-REESTABLISH-HISTORY", NULL},
		{0},
	};
	run_review_cases(cases);
}

Test(rules_tmr, establish_only_into_new_destinations)
{
	static const struct review_case cases[] = {
		{"established where the history shows the same remote", NULL,
		 ESTABLISHED("svm_a:trident_pvc_1"), NULL, PVC_HISTORY("svm_a:trident_pvc_1"), TOPO,
		 Q "spec.state: Invalid value: \"established\": PVC \"data\" was in a SnapMirror "
		   "relationship with \"svm_a:trident_pvc_1\" before; use \"reestablished\" to resync it "
		   "(\"established\" needs a new, empty destination volume)",
		 NULL, "TMR-ESTABLISH-HISTORY", NULL},
		{"established back to a remote after promote (status evidence)", "UPDATE",
		 ESTABLISHED("svm_a:trident_pvc_1"),
		 TMR_HEAD "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n"
			  "    remoteVolumeHandle: svm_a:trident_pvc_1\n"
			  "status:\n  conditions:\n  - {state: promoted, localPVCName: data, "
			  "remoteVolumeHandle: 'svm_a:trident_pvc_1'}\n",
		 NULL, TOPO,
		 Q "spec.state: Invalid value: \"established\": PVC \"data\" was in a SnapMirror "
		   "relationship with \"svm_a:trident_pvc_1\" before; use \"reestablished\" to resync it "
		   "(\"established\" needs a new, empty destination volume)",
		 NULL, "TMR-ESTABLISH-HISTORY", NULL},
		{"established on an existing ordinary PVC", NULL, ESTABLISHED("svm_a:trident_pvc_1"), NULL,
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: app}\n"
		 "spec: {storageClassName: gold}\n",
		 TOPO,
		 Q "spec.volumeMappings[0].localPVCName: Invalid value: \"data\": PVC \"data\" already "
		   "exists as an ordinary read-write volume; \"established\" mirrors only into a new PVC "
		   "created with annotation trident.netapp.io/mirrorRelationship: csi-nas",
		 NULL, "TMR-ESTABLISH-RW-PVC", NULL},
		{"established on the annotated destination PVC", NULL, ESTABLISHED("svm_a:trident_pvc_1"),
		 NULL,
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: app\n"
		 "  annotations: {trident.netapp.io/mirrorRelationship: csi-nas}\n",
		 TOPO, NULL, NULL, "", NULL},
		{"an established TMR keeps passing once the reconciler recorded history", "UPDATE",
		 OLD_ESTABLISHED_STATUS "  # edited\n", OLD_ESTABLISHED_STATUS,
		 PVC_HISTORY("svm_a:trident_pvc_1"), TOPO, NULL, NULL, "", NULL},
		{0},
	};
	run_review_cases(cases);
}

Test(rules_tmr, data_warnings_and_mutation)
{
	static const struct review_case cases[] = {
		{"deleting a destination TMR warns", "DELETE", ESTABLISHED("svm_a:trident_pvc_1"), NULL,
		 NULL, TOPO, NULL,
		 "deleting this TMR promotes PVC \"data\": replication from \"svm_a:trident_pvc_1\" "
		 "stops\n",
		 "TMR-DATA-WARNING", NULL},
		{"deleting a source TMR is quiet", "DELETE",
		 TMR_HEAD "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n", NULL,
		 NULL, TOPO, NULL, NULL, "", NULL},
		{"finalizer added on create", NULL,
		 "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		 "metadata: {name: csi-nas, namespace: app}\n"
		 "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n",
		 NULL, NULL, TOPO, NULL, NULL, "TMR-FINALIZER",
		 "[{\"op\":\"add\",\"path\":\"/metadata/finalizers\",\"value\":[\"trident.netapp.io\"]}]"},
		{"finalizer appended to others", NULL,
		 "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		 "metadata: {name: csi-nas, namespace: app, finalizers: [example.com/x]}\n"
		 "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n",
		 NULL, NULL, TOPO, NULL, NULL, "TMR-FINALIZER",
		 "[{\"op\":\"add\",\"path\":\"/metadata/finalizers/-\",\"value\":\"trident.netapp.io\"}]"},
		{0},
	};
	run_review_cases(cases);
}

/* research trident.md 6.1: Trident's IsValid cases. Valid means that none of the rules that
 * implement IsValid fires; the format rules (TMR-REMOTE-FORMAT, TMR-SNAPSHOT-HANDLE) are
 * stricter than Trident and fire on "foo"/"test", which is asserted separately. */
#define ISVALID_RULES "TMR-MAPPINGS TMR-LOCAL-PVC TMR-STATE TMR-PROMOTED-SNAPSHOT TMR-REMOTE-HANDLE"
#include <string.h>
#include "mirrorgate/core/doc.h"
#include "mirrorgate/rules/review.h"

static void isvalid_case(const char *spec, bool valid, const char *extra_rule)
{
	char yaml[1024];
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		 "metadata: {name: t, namespace: ns, finalizers: [trident.netapp.io]}\nspec: %s\n",
		 spec);
	mg_doc_list l;
	mg_parse_error err;
	cr_assert_eq(mg_doc_parse_yaml(&l, yaml, strlen(yaml), &err), 0, "%s", err.message);
	mg_request req = {.op = MG_OP_CREATE, .kind = "TridentMirrorRelationship", .ns = "ns",
			  .name = "t", .object = l.items[0].root};
	mg_store *store;
	mg_store_new(&store);
	mg_lookup lk = mg_store_lookup(store);
	mg_verdict v;
	cr_assert_eq(mg_review(&v, &req, &lk, MG_REVIEW_VALIDATE), 0);
	bool isvalid_fired = false, extra_fired = false;
	for (size_t i = 0; i < v.errors.len; i++) {
		if (strstr(ISVALID_RULES, v.errors.items[i].rule))
			isvalid_fired = true;
		if (extra_rule && strcmp(v.errors.items[i].rule, extra_rule) == 0)
			extra_fired = true;
	}
	cr_assert_eq(!isvalid_fired, valid, "spec %s: IsValid expected %s", spec,
		     valid ? "valid" : "invalid");
	if (extra_rule)
		cr_assert(extra_fired, "spec %s: %s expected", spec, extra_rule);
	else if (valid)
		cr_assert_eq(v.errors.len, 0, "spec %s: no error expected", spec);
	mg_verdict_free(&v);
	mg_store_free(store);
	mg_doc_list_free(&l);
}

Test(rules_tmr, trident_isvalid_cases)
{
	isvalid_case("{volumeMappings: [{localPVCName: test}], state: ''}", true, NULL);
	isvalid_case("{volumeMappings: [{remoteVolumeHandle: foo, localPVCName: bar}], "
		     "state: established}", true, "TMR-REMOTE-FORMAT");
	isvalid_case("{volumeMappings: [{remoteVolumeHandle: foo, localPVCName: bar}], "
		     "state: reestablished}", true, "TMR-REMOTE-FORMAT");
	isvalid_case("{volumeMappings: [{localPVCName: test, promotedSnapshotHandle: test}], "
		     "state: promoted}", true, "TMR-SNAPSHOT-HANDLE");
	isvalid_case("{state: promoted}", false, NULL);
	isvalid_case("{volumeMappings: [], state: promoted}", false, NULL);
	isvalid_case("{volumeMappings: [{}], state: promoted}", false, NULL);
	isvalid_case("{volumeMappings: [{localPVCName: test}], state: notamirrorstate}", false, NULL);
	isvalid_case("{volumeMappings: [{localPVCName: test, promotedSnapshotHandle: test}], "
		     "state: established}", false, NULL);
	isvalid_case("{volumeMappings: [{localPVCName: test}], state: established}", false, NULL);
	isvalid_case("{volumeMappings: [{localPVCName: test}], state: reestablished}", false, NULL);
}
