/* PersistentVolumeClaim and StorageClass rules. */
#include <criterion/criterion.h>

#include "rules_cases.h"

#define SC_GOLD                                                                    \
	"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gold}\n" \
	"provisioner: csi.trident.netapp.io\n"                                        \
	"parameters: {backendType: ontap-nas, trident.netapp.io/replication: 'true'}\n"
#define TMR_EST(name, pvc)                                                                  \
	"apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"              \
	"metadata: {name: " name ", namespace: app}\n"                                      \
	"spec:\n  state: established\n  volumeMappings:\n  - localPVCName: " pvc "\n"       \
	"    remoteVolumeHandle: svm_a:trident_pvc_1\n"
#define PVC_ANNOTATED(tmr)                                                       \
	"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n" \
	"  namespace: app\n  annotations: {trident.netapp.io/mirrorRelationship: " tmr "}\n" \
	"spec: {storageClassName: gold}\n"
#define PVC_PLAIN                                                                        \
	"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: app}\n" \
	"spec: {storageClassName: gold}\n"
#define Q "PersistentVolumeClaim \"data\" is invalid: "
#define P_ANN "metadata.annotations[trident.netapp.io/mirrorRelationship]"

Test(rules_pvc, mirror_annotation_needs_a_destination_tmr)
{
	static const struct review_case cases[] = {
		{"annotated PVC whose TMR exists", NULL, PVC_ANNOTATED("mirror"), NULL,
		 SC_GOLD "---\n" TMR_EST("mirror", "data"), NULL, NULL, NULL, "", NULL},
		{"secondary PVC applied before its TMR", NULL, PVC_ANNOTATED("mirror"), NULL, SC_GOLD,
		 NULL,
		 Q P_ANN ": Not found: \"mirror\": no TridentMirrorRelationship \"mirror\" in namespace "
		   "\"app\"; create it (spec.state established, with a remoteVolumeHandle) before this PVC",
		 NULL, "PVC-MIRROR-TMR", NULL},
		{"TMR maps another PVC", NULL, PVC_ANNOTATED("mirror"), NULL,
		 SC_GOLD "---\n" TMR_EST("mirror", "other"), NULL,
		 Q P_ANN ": Invalid value: \"mirror\": TridentMirrorRelationship \"mirror\" maps "
		   "localPVCName \"other\", not this PVC",
		 NULL, "PVC-MIRROR-TMR", NULL},
		{"TMR is promoted (H7: a DP volume forever)", NULL, PVC_ANNOTATED("mirror"), NULL,
		 SC_GOLD "---\napiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
			 "metadata: {name: mirror, namespace: app}\n"
			 "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n",
		 NULL,
		 Q P_ANN ": Invalid value: \"mirror\": TridentMirrorRelationship \"mirror\" has "
		   "spec.state \"promoted\"; a mirror destination needs \"established\" or "
		   "\"reestablished\" with a remoteVolumeHandle, or it stays a read-only DP volume forever",
		 NULL, "PVC-MIRROR-TMR", NULL},
		{"empty annotation", NULL, PVC_ANNOTATED("''"), NULL, SC_GOLD, NULL,
		 Q P_ANN ": Invalid value: \"\": must name a TridentMirrorRelationship in this namespace",
		 NULL, "PVC-MIRROR-TMR", NULL},
		{"two TMRs name the PVC", NULL, PVC_ANNOTATED("mirror"), NULL,
		 SC_GOLD "---\n" TMR_EST("mirror", "data") "---\n" TMR_EST("mirror2", "data"), NULL,
		 Q "metadata.name: Invalid value: \"data\": is the localPVCName of more than one "
		   "TridentMirrorRelationship; a PVC can be in only one relationship",
		 NULL, "PVC-MIRROR-UNIQUE", NULL},
		{"annotation names one TMR, another maps the PVC", NULL, PVC_ANNOTATED("mirror"), NULL,
		 SC_GOLD "---\n" TMR_EST("mirror", "other") "---\n" TMR_EST("mirror2", "data"), NULL,
		 Q "[" P_ANN ": Invalid value: \"mirror\": TridentMirrorRelationship \"mirror\" maps "
		   "localPVCName \"other\", not this PVC, " P_ANN ": Invalid value: \"mirror\": "
		   "TridentMirrorRelationship \"mirror2\" maps this PVC too; a PVC can be in only one "
		   "relationship]",
		 NULL, "PVC-MIRROR-TMR PVC-MIRROR-UNIQUE", NULL},
		{"ordinary PVC with no TMR", NULL, PVC_PLAIN, NULL, NULL, NULL, NULL, NULL, "", NULL},
		{0},
	};
	run_review_cases(cases);
}

Test(rules_pvc, storage_class_of_mirrored_pvcs)
{
	static const struct review_case cases[] = {
		{"not Trident", NULL, PVC_ANNOTATED("mirror"), NULL,
		 "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gold}\n"
		 "provisioner: ebs.csi.aws.com\n---\n" TMR_EST("mirror", "data"),
		 NULL,
		 Q "spec.storageClassName: Invalid value: \"gold\": StorageClass \"gold\" is provisioned "
		   "by \"ebs.csi.aws.com\"; mirrored volumes need Trident (csi.trident.netapp.io)",
		 NULL, "PVC-STORAGECLASS", NULL},
		{"no replication parameter", NULL, PVC_ANNOTATED("mirror"), NULL,
		 "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gold}\n"
		 "provisioner: csi.trident.netapp.io\n---\n" TMR_EST("mirror", "data"),
		 NULL,
		 Q "spec.storageClassName: Invalid value: \"gold\": StorageClass \"gold\" does not set "
		   "parameter trident.netapp.io/replication: \"true\"; Trident could place the volume on "
		   "a backend that cannot mirror",
		 NULL, "PVC-STORAGECLASS", NULL},
		{"unsupported driver", NULL, PVC_ANNOTATED("mirror"), NULL,
		 "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gold}\n"
		 "provisioner: csi.trident.netapp.io\n"
		 "parameters: {backendType: ontap-nas-economy, trident.netapp.io/replication: 'true'}\n"
		 "---\n" TMR_EST("mirror", "data"),
		 NULL,
		 Q "spec.storageClassName: Invalid value: \"gold\": StorageClass \"gold\" has backendType "
		   "\"ontap-nas-economy\"; SnapMirror replication supports only ontap-nas and ontap-san",
		 NULL, "PVC-STORAGECLASS", NULL},
		{"unknown StorageClass: a warning", NULL, PVC_ANNOTATED("mirror"), NULL,
		 TMR_EST("mirror", "data"), NULL, NULL,
		 "cannot check StorageClass \"gold\" of mirrored PVC \"data\": not found\n",
		 "PVC-STORAGECLASS", NULL},
		{"default StorageClass is used when none is named", NULL,
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: app\n"
		 "  annotations: {trident.netapp.io/mirrorRelationship: mirror}\n",
		 NULL,
		 "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: std\n"
		 "  annotations: {storageclass.kubernetes.io/is-default-class: 'true'}\n"
		 "provisioner: kubernetes.io/no-provisioner\n---\n" TMR_EST("mirror", "data"),
		 NULL,
		 Q "spec.storageClassName: Invalid value: \"std\": StorageClass \"std\" is provisioned by "
		   "\"kubernetes.io/no-provisioner\"; mirrored volumes need Trident (csi.trident.netapp.io)",
		 NULL, "PVC-STORAGECLASS", NULL},
		{"source PVC named by a promoted TMR is checked too", NULL, PVC_PLAIN, NULL,
		 "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gold}\n"
		 "provisioner: csi.trident.netapp.io\n---\n"
		 "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		 "metadata: {name: src, namespace: app}\n"
		 "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n",
		 NULL,
		 Q "spec.storageClassName: Invalid value: \"gold\": StorageClass \"gold\" does not set "
		   "parameter trident.netapp.io/replication: \"true\"; Trident could place the volume on "
		   "a backend that cannot mirror",
		 NULL, "PVC-STORAGECLASS", NULL},
		{0},
	};
	run_review_cases(cases);
}

Test(rules_pvc, annotation_is_immutable_and_history_well_formed)
{
	static const struct review_case cases[] = {
		{"adding the annotation later", "UPDATE", PVC_ANNOTATED("mirror"), PVC_PLAIN, NULL, NULL,
		 Q P_ANN ": Forbidden: cannot be added after the PVC is created: whether a volume is a "
		   "mirror destination is decided when it is provisioned",
		 NULL, "PVC-MIRROR-IMMUTABLE", NULL},
		{"removing the annotation", "UPDATE", PVC_PLAIN, PVC_ANNOTATED("mirror"), NULL, NULL,
		 Q P_ANN ": Forbidden: cannot be removed (was \"mirror\"): whether a volume is a mirror "
		   "destination is decided when it is provisioned",
		 NULL, "PVC-MIRROR-IMMUTABLE", NULL},
		{"changing the annotation", "UPDATE", PVC_ANNOTATED("other"), PVC_ANNOTATED("mirror"),
		 NULL, NULL,
		 Q P_ANN ": Forbidden: cannot be changed from \"mirror\": whether a volume is a mirror "
		   "destination is decided when it is provisioned",
		 NULL, "PVC-MIRROR-IMMUTABLE", NULL},
		{"other updates of an annotated PVC (e.g. resize after failover)", "UPDATE",
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n"
		 "  namespace: app\n  annotations: {trident.netapp.io/mirrorRelationship: mirror}\n"
		 "spec: {storageClassName: gold, resources: {requests: {storage: 2Gi}}}\n",
		 PVC_ANNOTATED("mirror"), NULL, NULL, NULL, NULL, "", NULL},
		{"well-formed history annotation", NULL,
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: app\n"
		 "  annotations: {mirrorgate.io/replication-history: "
		 "'[{\"remoteVolumeHandle\":\"svm_a:vol_1\",\"role\":\"source\"}]'}\n",
		 NULL, NULL, NULL, NULL, NULL, "", NULL},
		{"malformed history annotation", NULL,
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: app\n"
		 "  annotations: {mirrorgate.io/replication-history: '[{\"role\":\"source\"}]'}\n",
		 NULL, NULL, NULL,
		 Q "metadata.annotations[mirrorgate.io/replication-history]: Invalid value: "
		   "\"[{\\\"role\\\":\\\"source\\\"}]\": entry 0 has no remoteVolumeHandle of the form "
		   "<svm>:<volume>; expected a JSON list like "
		   "[{\"remoteVolumeHandle\":\"<svm>:<volume>\"}] as mirrorgate-reconciler writes it",
		 NULL, "PVC-HISTORY-FORMAT", NULL},
		{0},
	};
	run_review_cases(cases);
}

Test(rules_pvc, mirror_annotation_is_added)
{
	static const struct review_case cases[] = {
		{"exactly one established TMR names the new PVC", NULL, PVC_PLAIN, NULL,
		 SC_GOLD "---\n" TMR_EST("mirror", "data"), NULL, NULL, NULL,
		 "PVC-MIRROR-ANNOTATE",
		 "[{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":"
		 "{\"trident.netapp.io/mirrorRelationship\":\"mirror\"}}]"},
		{"existing annotations are kept", NULL,
		 "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: app\n"
		 "  annotations: {team: a}\nspec: {storageClassName: gold}\n",
		 NULL, SC_GOLD "---\n" TMR_EST("mirror", "data"), NULL, NULL, NULL,
		 "PVC-MIRROR-ANNOTATE",
		 "[{\"op\":\"add\",\"path\":\"/metadata/annotations/trident.netapp.io~1mirrorRelationship\","
		 "\"value\":\"mirror\"}]"},
		{"a promoted (source) TMR does not make a destination", NULL, PVC_PLAIN, NULL,
		 SC_GOLD "---\napiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
			 "metadata: {name: src, namespace: app}\n"
			 "spec:\n  state: promoted\n  volumeMappings:\n  - localPVCName: data\n",
		 NULL, NULL, NULL, "", NULL},
		{0},
	};
	run_review_cases(cases);
}

#define SC(params)                                                                 \
	"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gold}\n" \
	"provisioner: csi.trident.netapp.io\nparameters: " params "\n"
#define QSC "StorageClass.storage.k8s.io \"gold\" is invalid: "

Test(rules_storage_class, replication_parameter)
{
	static const struct review_case cases[] = {
		{"replication true on ontap-san", NULL,
		 SC("{backendType: ontap-san, trident.netapp.io/replication: 'true'}"), NULL, NULL, NULL,
		 NULL, NULL, "", NULL},
		{"Go's ParseBool spellings are accepted", NULL,
		 SC("{trident.netapp.io/replication: 'T'}"), NULL, NULL, NULL, NULL, NULL, "", NULL},
		{"replication not a boolean", NULL, SC("{trident.netapp.io/replication: 'yes'}"), NULL,
		 NULL, NULL,
		 QSC "parameters[trident.netapp.io/replication]: Invalid value: \"yes\": must be a "
		     "boolean string (\"true\" or \"false\")",
		 NULL, "SC-REPLICATION", NULL},
		{"replication on an economy driver", NULL,
		 SC("{backendType: ontap-nas-economy, trident.netapp.io/replication: 'true'}"), NULL, NULL,
		 NULL,
		 QSC "parameters[backendType]: Unsupported value: \"ontap-nas-economy\": supported "
		     "values: \"ontap-nas\", \"ontap-san\"",
		 NULL, "SC-BACKEND", NULL},
		{"economy driver without replication is fine", NULL,
		 SC("{backendType: ontap-nas-economy, trident.netapp.io/replication: 'false'}"), NULL,
		 NULL, NULL, NULL, NULL, "", NULL},
		{"replication on another provisioner", NULL,
		 "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gold}\n"
		 "provisioner: ebs.csi.aws.com\nparameters: {trident.netapp.io/replication: 'true'}\n",
		 NULL, NULL, NULL,
		 QSC "provisioner: Invalid value: \"ebs.csi.aws.com\": trident.netapp.io/replication is "
		     "a Trident parameter; replication needs provisioner csi.trident.netapp.io",
		 NULL, "SC-BACKEND", NULL},
		{"non-string parameter", NULL, SC("{trident.netapp.io/replication: true}"), NULL, NULL,
		 NULL,
		 QSC "parameters[trident.netapp.io/replication]: Invalid value: \"boolean\": "
		     "parameters[trident.netapp.io/replication] in body must be of type string: "
		     "\"boolean\"",
		 NULL, "SCHEMA", NULL},
		{0},
	};
	run_review_cases(cases);
}
