/* ONTAP volumes and snapshots. Creates are asynchronous and wait for their job. */
#ifndef MIRRORGATE_ONTAP_VOLUME_H
#define MIRRORGATE_ONTAP_VOLUME_H

#include <stddef.h>
#include <stdint.h>

#include "mirrorgate/ontap/client.h"

typedef struct mg_ontap_volume {
	char name[MG_ONTAP_NAME_MAX];
	char uuid[MG_ONTAP_UUID_MAX];
	char svm_name[MG_ONTAP_NAME_MAX];
	char type[16];  /* rw, dp, ls */
	char state[16]; /* online, offline, restricted, ... */
	uint64_t size;  /* bytes */
	char nas_path[MG_ONTAP_NAME_MAX]; /* junction; "" when not mounted */
} mg_ontap_volume;

typedef struct mg_ontap_volume_spec {
	const char *svm_name;
	const char *name;
	const char *type;   /* "rw" (default) or "dp" */
	uint64_t size;      /* bytes; > 0 */
	const char *aggregate; /* optional */
} mg_ontap_volume_spec;

typedef struct mg_ontap_snapshot {
	char name[MG_ONTAP_NAME_MAX];
	char uuid[MG_ONTAP_UUID_MAX];
	char create_time[64];     /* ISO-8601 */
	char snapmirror_label[64];
} mg_ontap_snapshot;

typedef struct mg_ontap_snapshot_list {
	mg_ontap_snapshot *items;
	size_t len;
} mg_ontap_snapshot_list;

/* A volume by SVM and name; MG_ENOTFOUND when absent. */
int mg_ontap_volume_get(mg_ontap_client *c, const char *svm_name, const char *name,
			mg_ontap_volume *out, mg_ontap_error *err);
/* Creates a volume and waits for the job; `out` (may be NULL) is the volume read back. */
int mg_ontap_volume_create(mg_ontap_client *c, const mg_ontap_volume_spec *spec,
			   mg_ontap_volume *out, mg_ontap_error *err);

int mg_ontap_snapshots(mg_ontap_client *c, const char *volume_uuid,
			   mg_ontap_snapshot_list *out, mg_ontap_error *err);
/* A snapshot by name; MG_ENOTFOUND when it has not (yet) arrived. */
int mg_ontap_snapshot_get(mg_ontap_client *c, const char *volume_uuid, const char *name,
			  mg_ontap_snapshot *out, mg_ontap_error *err);
/* Creates a snapshot (RW volumes only) and waits for the job. `label` may be NULL. */
int mg_ontap_snapshot_create(mg_ontap_client *c, const char *volume_uuid, const char *name,
			     const char *label, mg_ontap_error *err);
void mg_ontap_snapshot_list_free(mg_ontap_snapshot_list *list);

#endif
