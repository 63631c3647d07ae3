/* ontap-sim's in-memory fabric: every cluster, SVM, volume, snapshot, relationship,
 * transfer and job of the simulated clusters, guarded by one mutex (fabric.lock) that every
 * HTTP handler and the clock hold while they look or change. */
#ifndef ONTAP_SIM_MODEL_H
#define ONTAP_SIM_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define SIM_NAME 256
#define SIM_UUID 40
#define SIM_MSG 512
#define SIM_MAX_VOLUME_SIZE 1125899906842624.0 /* 1 PiB */

/* A growable array of owned pointers. */
typedef struct sim_vec {
	void **items;
	size_t len, cap;
} sim_vec;

int sim_vec_push(sim_vec *v, void *item);
void sim_vec_remove(sim_vec *v, size_t i); /* keeps order; does not free */

typedef struct sim_cluster {
	char name[SIM_NAME];
	char uuid[SIM_UUID];
	int generation, major, minor;
	char username[64];
	char password[128];
	char ro_username[64]; /* optional read-only user: GETs only, else 403 */
	char ro_password[128];
	bool reachable;       /* false: peers cannot contact it (fault) */
	unsigned port;        /* requested (0: any) then actual */
	void *daemon;         /* struct MHD_Daemon */
	void *listener;       /* its handler context (http.c) */
} sim_cluster;

typedef struct sim_svm {
	char name[SIM_NAME];
	char uuid[SIM_UUID];
	sim_cluster *cluster;
	char state[16];
	char subtype[24];
} sim_svm;

typedef struct sim_svm_peer {
	char uuid[SIM_UUID];
	sim_svm *local;
	sim_svm *peer;
	char name[SIM_NAME]; /* local alias of the peer SVM: what relationship paths use */
	char state[16];
} sim_svm_peer;

typedef struct sim_snapshot {
	char name[SIM_NAME];
	char uuid[SIM_UUID];
	int64_t create_ms;
	char label[64];
	uint64_t generation;    /* the active-file-system generation it captured */
	uint64_t origin;        /* identity shared by all copies: "common" snapshots match */
	char owner_rel[SIM_UUID]; /* relationship that created it (snapmirror.*), "" for users */
} sim_snapshot;

typedef struct sim_volume {
	char name[SIM_NAME];
	char uuid[SIM_UUID];
	sim_svm *svm;
	char type[8];   /* rw, dp */
	char state[16]; /* online */
	uint64_t size;
	char nas_path[SIM_NAME];
	uint64_t afs_gen; /* content of the active file system; 0 = empty (new DP) */
	int64_t create_ms;
	sim_vec snaps;  /* sim_snapshot*, oldest first */
} sim_volume;

typedef struct sim_policy {
	char name[SIM_NAME];
	char uuid[SIM_UUID];
	sim_cluster *cluster;
	char type[16];
	char sync_type[24];
	bool copy_all;
	bool copy_latest;
} sim_policy;

typedef struct sim_schedule {
	char name[SIM_NAME];
	char uuid[SIM_UUID];
	sim_cluster *cluster;
	char type[16];
} sim_schedule;

struct sim_relationship;

typedef struct sim_transfer {
	char uuid[SIM_UUID];
	struct sim_relationship *rel;
	char state[16];      /* queued, transferring, success, failed, aborted, hard_aborted */
	char kind[16];       /* initialize, update, resync */
	char snapshot[SIM_NAME]; /* source snapshot being transferred */
	uint64_t bytes;
	int64_t start_ms, due_ms, end_ms;
	bool hang;           /* fault: never finishes */
	bool fail;           /* fault: ends failed */
	char fail_code[24];
	char fail_message[SIM_MSG];
} sim_transfer;

typedef struct sim_relationship {
	char uuid[SIM_UUID];
	sim_volume *src;
	sim_volume *dst;
	char src_path[SIM_NAME]; /* as the destination names it (peer alias) */
	char dst_path[SIM_NAME];
	sim_policy *policy;
	char schedule[SIM_NAME];
	char state[16];
	bool healthy;
	char unhealthy_code[24];
	char unhealthy_message[SIM_MSG];
	char exported_snapshot[SIM_NAME];
	int64_t exported_ms;
	char last_transfer_type[16];
	bool dest_record;   /* destination-side relationship exists */
	bool source_record; /* source-side info exists (after the first transfer) */
	bool quiesce_pending; /* PATCH paused while a transfer runs */
	int hidden_gets;    /* fault: GETs that do not see it yet */
	sim_transfer *transfer; /* current or last; owned by fabric.transfers */
	unsigned sm_seq;
} sim_relationship;

enum sim_op {
	SIM_OP_NONE,
	SIM_OP_VOLUME_CREATE,
	SIM_OP_VOLUME_DELETE,
	SIM_OP_SNAPSHOT_CREATE,
	SIM_OP_REL_CREATE,
	SIM_OP_REL_STATE,
	SIM_OP_REL_DELETE,
};

typedef struct sim_job {
	char uuid[SIM_UUID];
	sim_cluster *cluster;
	char description[SIM_MSG];
	char state[16]; /* queued, running, success, failure */
	int64_t start_ms, due_ms, end_ms, purge_ms;
	long long code;
	char message[SIM_MSG];
	enum sim_op op;
	cJSON *args;    /* owned: what the operation needs */
	bool stuck;     /* fault: never finishes */
	bool fail;      /* fault: fails with fail_code/fail_message */
	long long fail_code;
	char fail_message[SIM_MSG];
} sim_job;

typedef struct sim_ledger_entry {
	uint64_t seq;
	int64_t at_ms;
	char cluster[SIM_NAME];
	char volume[2 * SIM_NAME + 2]; /* svm:volume */
	uint64_t generation;   /* the destroyed generation */
	char operation[64];    /* resync, break restore_to_snapshot, ... */
	char detail[SIM_MSG];
} sim_ledger_entry;

typedef struct sim_request_fault {
	char cluster[SIM_NAME]; /* "" = any */
	char method[16];        /* "" = any */
	char path[SIM_NAME];    /* fnmatch glob over the path (no query) */
	int count;
	int status;             /* 0: no error answer */
	char code[24];
	char message[SIM_MSG];
	char target[64];
	int latency_ms;
	bool drop;              /* close the connection without an answer */
	char body[SIM_MSG];     /* answer this raw text instead of an error body */
} sim_request_fault;

typedef struct sim_job_fault {
	char match[SIM_NAME]; /* fnmatch glob over the job description */
	int count;
	char mode[16];        /* stuck, fail, purge */
	long long code;
	char message[SIM_MSG];
} sim_job_fault;

typedef struct sim_transfer_fault {
	int count;
	char mode[16]; /* fail, hang */
	char code[24];
	char message[SIM_MSG];
} sim_transfer_fault;

typedef struct sim_settings {
	int64_t job_queue_ms;  /* queued -> running */
	int64_t job_run_ms;    /* running -> done */
	int64_t job_purge_ms;  /* done -> gone (404) */
	int64_t transfer_queue_ms;
	int64_t transfer_ms;
	uint64_t bytes_per_generation;
} sim_settings;

typedef struct sim_log_entry {
	uint64_t seq;
	int64_t at_ms;
	char cluster[SIM_NAME];
	char method[16];
	char *path;  /* with query; owned */
	char *body;  /* request body (truncated); owned */
	int status;
	char user_agent[96]; /* who asked: tests tell the reconciler's requests from their own */
} sim_log_entry;

typedef struct sim_fabric {
	pthread_mutex_t lock;
	int64_t now_ms;        /* virtual clock */
	bool realtime;         /* the clock follows the wall clock (main.c's ticker) */
	uint64_t next_id;
	uint64_t next_gen;
	uint64_t next_origin;
	sim_vec gen_parent;    /* (uintptr_t) parent of generation i: lineage for loss checks */
	sim_settings settings;
	sim_vec clusters, svms, svm_peers, volumes, policies, schedules;
	sim_vec relationships, transfers, jobs;
	sim_vec ledger;        /* sim_ledger_entry* */
	sim_vec request_faults, job_faults, transfer_faults;
	int visibility_delay;  /* next created relationship is hidden for this many GETs */
	sim_vec log;           /* sim_log_entry* (bounded) */
	uint64_t log_seq, ledger_seq;
	char ca_pem_path[SIM_NAME];
} sim_fabric;

int sim_fabric_init(sim_fabric *f);
void sim_fabric_free(sim_fabric *f);

void sim_new_uuid(sim_fabric *f, char out[SIM_UUID]);
uint64_t sim_new_generation(sim_fabric *f, uint64_t parent);
/* ISO-8601 with offset for a virtual time. */
void sim_format_time(int64_t ms, char *out, size_t cap);

sim_cluster *sim_cluster_add(sim_fabric *f, const char *name, const char *version);
int sim_parse_version(const char *s, int *g, int *ma, int *mi);
sim_svm *sim_svm_add(sim_fabric *f, sim_cluster *c, const char *name);
/* Peers two SVMs both ways (alias = the other SVM's name). */
int sim_svm_peer_add(sim_fabric *f, sim_svm *a, sim_svm *b);
sim_volume *sim_volume_add(sim_fabric *f, sim_svm *s, const char *name, const char *type,
			   uint64_t size);
sim_snapshot *sim_snapshot_add(sim_fabric *f, sim_volume *v, const char *name, const char *label);
void sim_add_system_policies(sim_fabric *f, sim_cluster *c);

sim_cluster *sim_cluster_find(sim_fabric *f, const char *name);
sim_svm *sim_svm_find(sim_fabric *f, sim_cluster *c, const char *name);
sim_svm *sim_svm_find_uuid(sim_fabric *f, sim_cluster *c, const char *uuid);
/* The SVM that `name` means on cluster c: a local SVM, or a peer alias. */
sim_svm *sim_svm_resolve(sim_fabric *f, sim_cluster *c, const char *name);
sim_svm_peer *sim_svm_peer_find(sim_fabric *f, sim_svm *local, sim_svm *peer);
sim_volume *sim_volume_find(sim_fabric *f, sim_svm *s, const char *name);
sim_volume *sim_volume_find_uuid(sim_fabric *f, sim_cluster *c, const char *uuid);
/* "svm:vol" resolved from cluster c's point of view (peer aliases allowed). */
sim_volume *sim_volume_by_path(sim_fabric *f, sim_cluster *c, const char *path);
sim_snapshot *sim_snapshot_find(sim_volume *v, const char *name);
sim_snapshot *sim_snapshot_find_uuid(sim_volume *v, const char *uuid);
sim_snapshot *sim_snapshot_find_origin(sim_volume *v, uint64_t origin);
void sim_snapshot_remove(sim_fabric *f, sim_volume *v, size_t i, const char *operation);
/* A relationship (either record) that has v as its source or destination, or NULL. */
sim_relationship *sim_rel_using(sim_fabric *f, const sim_volume *v);
/* Removes a volume and its snapshots; what only it held goes to the ledger as `operation`. */
void sim_volume_remove(sim_fabric *f, sim_volume *v, const char *operation);
sim_policy *sim_policy_find(sim_fabric *f, sim_cluster *c, const char *name);
sim_schedule *sim_schedule_find(sim_fabric *f, sim_cluster *c, const char *name);
sim_relationship *sim_rel_find_uuid(sim_fabric *f, const char *uuid);
sim_relationship *sim_rel_find_dst(sim_fabric *f, sim_volume *dst);
sim_job *sim_job_find(sim_fabric *f, const char *uuid);
sim_transfer *sim_transfer_find(sim_fabric *f, const char *uuid);
void sim_rel_remove(sim_fabric *f, sim_relationship *r);

/* Data-loss ledger: after something replaced or deleted `gen`, record it as destroyed if
 * neither it nor anything derived from it survives anywhere in the fabric. */
void sim_note_discard(sim_fabric *f, sim_volume *v, uint64_t gen, const char *operation,
		      const char *detail);

/* Request log (bounded). */
void sim_log_request(sim_fabric *f, const char *cluster, const char *method, const char *path,
		     const char *user_agent,
		     const char *body, int status);

#endif
