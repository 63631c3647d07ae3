/* Typed, borrowed views of the objects the rules reason about, with Trident's exact field
 * names. Strings point into the cJSON tree they were decoded from and live as long as it.
 * Decoding never fails on a missing field (absent = NULL / false); a field of the wrong JSON
 * type is a field error (rule SCHEMA), as the API server's structural schema would report.
 * Pass errs NULL to decode another object where type errors only mean "absent". */
#ifndef MIRRORGATE_MODEL_H
#define MIRRORGATE_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "mirrorgate/core/fielderr.h"

#define MG_TRIDENT_GROUP "trident.netapp.io"
#define MG_TRIDENT_FINALIZER "trident.netapp.io"
#define MG_TRIDENT_PROVISIONER "csi.trident.netapp.io"
#define MG_ANN_MIRROR_RELATIONSHIP "trident.netapp.io/mirrorRelationship"
#define MG_SC_PARAM_REPLICATION "trident.netapp.io/replication"
#define MG_SC_PARAM_BACKEND_TYPE "backendType"
/* Written by the reconciler on a PVC once it has been in a relationship (docs/rules.md). */
#define MG_ANN_REPLICATION_HISTORY "mirrorgate.io/replication-history"

/* TMR spec/status state strings (Trident's constants). */
#define MG_STATE_ESTABLISHED "established"
#define MG_STATE_ESTABLISHING "establishing"
#define MG_STATE_REESTABLISHED "reestablished"
#define MG_STATE_REESTABLISHING "reestablishing"
#define MG_STATE_PROMOTED "promoted"
#define MG_STATE_PROMOTING "promoting"
#define MG_STATE_FAILED "failed"
#define MG_STATE_INVALID "invalid"

typedef struct mg_meta {
	const char *name;
	const char *ns;
	const char *deletion_timestamp;
	const cJSON *annotations; /* object or NULL */
	const cJSON *finalizers;  /* array or NULL */
} mg_meta;

typedef struct mg_tmr_mapping {
	const char *local_pvc_name;
	const char *remote_volume_handle;
	const char *promoted_snapshot_handle;
} mg_tmr_mapping;

typedef struct mg_tmr_condition {
	const char *state;
	const char *message;
	const char *local_pvc_name;
	const char *remote_volume_handle;
	const char *local_volume_handle;
	const char *replication_policy;
	const char *replication_schedule;
} mg_tmr_condition;

typedef struct mg_tmr {
	mg_meta meta;
	bool has_spec;
	const char *state; /* NULL when absent (Trident: "") */
	const char *replication_policy;
	const char *replication_schedule;
	bool has_mappings;        /* spec.volumeMappings present and not null */
	size_t nmappings;
	mg_tmr_mapping *mappings; /* owned array */
	bool has_condition;       /* status.conditions[0] present */
	mg_tmr_condition condition;
} mg_tmr;

typedef struct mg_tamu {
	mg_meta meta;
	const cJSON *spec;
	const char *tmr_name;
	const char *snapshot_handle;
	const char *state; /* status.state */
} mg_tamu;

typedef struct mg_tsi {
	mg_meta meta;
	const cJSON *spec;
	const char *snapshot_name;
	bool has_docs_spelling; /* spec.snapshot-name present */
	const char *docs_snapshot_name;
	const char *snapshot_handle; /* status */
} mg_tsi;

typedef struct mg_pvc {
	mg_meta meta;
	const char *storage_class_name; /* spec.storageClassName */
	const char *volume_name;        /* spec.volumeName */
	const char *mirror_relationship; /* the Trident annotation */
	const char *phase;              /* status.phase */
} mg_pvc;

typedef struct mg_pv {
	mg_meta meta;
	const char *csi_driver;
	const char *volume_handle;
	const char *internal_name; /* spec.csi.volumeAttributes.internalName */
	const char *claim_namespace;
	const char *claim_name;
} mg_pv;

typedef struct mg_storage_class {
	mg_meta meta;
	const char *provisioner;
	const cJSON *parameters; /* object or NULL */
	bool is_default;
} mg_storage_class;

int mg_tmr_decode(mg_tmr *out, const cJSON *obj, mg_field_errors *errs);
void mg_tmr_free(mg_tmr *tmr);
int mg_tamu_decode(mg_tamu *out, const cJSON *obj, mg_field_errors *errs);
int mg_tsi_decode(mg_tsi *out, const cJSON *obj, mg_field_errors *errs);
int mg_pvc_decode(mg_pvc *out, const cJSON *obj, mg_field_errors *errs);
int mg_pv_decode(mg_pv *out, const cJSON *obj, mg_field_errors *errs);
int mg_storage_class_decode(mg_storage_class *out, const cJSON *obj, mg_field_errors *errs);

/* A string parameter of a StorageClass, or NULL. */
const char *mg_sc_param(const mg_storage_class *sc, const char *key);
/* An annotation's value, or NULL. */
const char *mg_meta_annotation(const mg_meta *meta, const char *key);
bool mg_meta_has_finalizer(const mg_meta *meta, const char *finalizer);

#endif
