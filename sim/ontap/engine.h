/* ontap-sim's behaviour: the SnapMirror state machine, transfers, jobs and the virtual
 * clock. Every function expects fabric.lock to be held. Refusals are returned as an
 * sim_err carrying what ONTAP would answer (HTTP status, ONTAP code, message, target). */
#ifndef ONTAP_SIM_ENGINE_H
#define ONTAP_SIM_ENGINE_H

#include "model.h"

typedef struct sim_err {
	int status;
	char code[24];
	char message[SIM_MSG];
	char target[64];
} sim_err;

void sim_err_set(sim_err *e, int status, const char *code, const char *target, const char *fmt,
		 ...) __attribute__((format(printf, 5, 6)));

/* ---- jobs and clock (jobs.c) ---- */
/* A queued job that performs `op` with `args` (taken) when it finishes; job faults apply. */
sim_job *sim_job_start(sim_fabric *f, sim_cluster *c, const char *method, const char *path,
		       enum sim_op op, cJSON *args);
/* Moves virtual time forward, firing every due job and transfer step in time order. */
void sim_clock_advance(sim_fabric *f, int64_t ms);

/* ONTAP's refusal to delete a volume that is part of a SnapMirror relationship: 18436 for a
 * source (Trident #453), 917536 for a destination (code unverified). */
int sim_volume_delete_check(sim_fabric *f, sim_volume *v, sim_err *e);

/* ---- relationships (smachine.c) ---- */
/* Synchronous validation of POST /snapmirror/relationships on cluster c. */
int sim_rel_check_create(sim_fabric *f, sim_cluster *c, const cJSON *body, sim_err *e);
/* Synchronous validation of PATCH; the change itself happens when its job runs. */
int sim_rel_check_patch(sim_fabric *f, sim_cluster *c, sim_relationship *r, const cJSON *body,
			sim_err *e);
/* Job bodies. */
int sim_rel_do_create(sim_fabric *f, sim_cluster *c, const cJSON *args, sim_err *e);
int sim_rel_do_patch(sim_fabric *f, sim_cluster *c, const cJSON *args, sim_err *e);
int sim_rel_do_delete(sim_fabric *f, sim_cluster *c, const cJSON *args, sim_err *e);
/* Is relationship r visible on cluster c (destination record here, or source record here)? */
bool sim_rel_visible(const sim_relationship *r, const sim_cluster *c, bool source_view);
sim_cluster *sim_rel_src_cluster(const sim_relationship *r);
sim_cluster *sim_rel_dst_cluster(const sim_relationship *r);

/* ---- transfers (transfer.c) ---- */
bool sim_transfer_active(const sim_transfer *t);
/* The mirrored state of r: "in_sync" for a synchronous policy (Sync, StrictSync), else
 * "snapmirrored". */
const char *sim_rel_mirrored_state(const sim_relationship *r);
/* POST .../transfers: initialize or update now; 201 semantics (synchronous). */
int sim_transfer_post(sim_fabric *f, sim_relationship *r, const char *source_snapshot,
		      sim_transfer **out, sim_err *e);
/* Starts a transfer of kind initialize/update/resync (no state checks). */
int sim_transfer_begin(sim_fabric *f, sim_relationship *r, const char *kind,
		       const char *source_snapshot, sim_transfer **out, sim_err *e);
int sim_transfer_abort(sim_fabric *f, sim_transfer *t, bool hard, sim_err *e);
/* The next clock step of an active transfer (called by the clock when due). */
void sim_transfer_step(sim_fabric *f, sim_transfer *t);
/* Peer check for operations that need the source cluster. */
int sim_check_peer(sim_relationship *r, bool force, sim_err *e);

/* ---- data operations (control API) ---- */
/* A client write: the volume's active file system moves to a new generation. */
int sim_volume_write(sim_fabric *f, sim_volume *v, uint64_t *gen, sim_err *e);
/* Snapshot create (RW only) with ONTAP's checks. */
int sim_snapshot_create_checked(sim_fabric *f, sim_volume *v, const char *name,
				const char *label, sim_err *e);

#endif
