/* Jobs and the virtual clock: a job is queued, then running, then runs its operation and
 * ends in success or failure; finished jobs are purged after settings.job_purge_ms. */
#include "engine.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/util/err.h"

void sim_err_set(sim_err *e, int status, const char *code, const char *target, const char *fmt, ...)
{
	if (!e)
		return;
	e->status = status;
	snprintf(e->code, sizeof(e->code), "%s", code ? code : "");
	snprintf(e->target, sizeof(e->target), "%s", target ? target : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

static void apply_job_faults(sim_fabric *f, sim_job *j)
{
	for (size_t i = 0; i < f->job_faults.len; i++) {
		sim_job_fault *jf = f->job_faults.items[i];
		if (jf->count <= 0 || fnmatch(jf->match, j->description, 0) != 0)
			continue;
		jf->count--;
		if (strcmp(jf->mode, "stuck") == 0) {
			j->stuck = true;
		} else if (strcmp(jf->mode, "purge") == 0) {
			/* Finishes and disappears at once: the poller only ever sees 404. */
			j->purge_ms = -1;
		} else {
			j->fail = true;
			j->fail_code = jf->code;
			snprintf(j->fail_message, sizeof(j->fail_message), "%s", jf->message);
		}
		return;
	}
}

sim_job *sim_job_start(sim_fabric *f, sim_cluster *c, const char *method, const char *path,
		       enum sim_op op, cJSON *args)
{
	sim_job *j = calloc(1, sizeof(*j));
	if (!j) {
		cJSON_Delete(args);
		return NULL;
	}
	sim_new_uuid(f, j->uuid);
	j->cluster = c;
	snprintf(j->description, sizeof(j->description), "%s %s", method, path);
	snprintf(j->state, sizeof(j->state), "queued");
	j->start_ms = f->now_ms;
	j->due_ms = f->now_ms + f->settings.job_queue_ms;
	j->op = op;
	j->args = args;
	apply_job_faults(f, j);
	if (sim_vec_push(&f->jobs, j)) {
		cJSON_Delete(args);
		free(j);
		return NULL;
	}
	return j;
}

static const char *arg_str(const cJSON *args, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int do_volume_create(sim_fabric *f, sim_cluster *c, const cJSON *args, sim_err *e)
{
	sim_svm *s = sim_svm_find(f, c, arg_str(args, "svm"));
	if (!s) {
		sim_err_set(e, 400, "2621462", "svm.name", "The target SVM does not exist.");
		return -1;
	}
	const char *name = arg_str(args, "name");
	if (sim_volume_find(f, s, name)) {
		sim_err_set(e, 409, "917526", "name", "The volume name specified is a duplicate.");
		return -1;
	}
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(args, "size");
	if (!sim_volume_add(f, s, name, arg_str(args, "type"), (uint64_t)size->valuedouble)) {
		sim_err_set(e, 500, "1", NULL, "out of memory");
		return -1;
	}
	return 0;
}

/* The volume may have become part of a relationship while the job was queued. */
static int volume_delete_refusal(sim_fabric *f, sim_volume *v, sim_err *e)
{
	sim_relationship *r = sim_rel_using(f, v);
	if (!r)
		return 0;
	if (r->src == v)
		sim_err_set(e, 400, "18436", NULL,
			    "Cannot delete volume \"%s\" in SVM \"%s\" because it is the source "
			    "endpoint of one or more SnapMirror relationships. Release the "
			    "relationships first.",
			    v->name, v->svm->name);
	else
		sim_err_set(e, 400, "18436", NULL,
			    "Cannot delete volume \"%s\" in SVM \"%s\" because it is the "
			    "destination of a SnapMirror relationship. Delete the relationship first.",
			    v->name, v->svm->name);
	return -1;
}

int sim_volume_delete_check(sim_fabric *f, sim_volume *v, sim_err *e)
{
	return volume_delete_refusal(f, v, e);
}

static int do_volume_delete(sim_fabric *f, sim_cluster *c, const cJSON *args, sim_err *e)
{
	sim_volume *v = sim_volume_find_uuid(f, c, arg_str(args, "volume"));
	if (!v) {
		sim_err_set(e, 404, "4", "uuid", "entry doesn't exist");
		return -1;
	}
	if (volume_delete_refusal(f, v, e) != 0)
		return -1;
	sim_volume_remove(f, v, "volume delete");
	return 0;
}

static int do_snapshot_create(sim_fabric *f, sim_cluster *c, const cJSON *args, sim_err *e)
{
	sim_volume *v = sim_volume_find_uuid(f, c, arg_str(args, "volume"));
	if (!v) {
		sim_err_set(e, 404, "4", "uuid", "entry doesn't exist");
		return -1;
	}
	return sim_snapshot_create_checked(f, v, arg_str(args, "name"), arg_str(args, "label"), e);
}

static void job_finish(sim_fabric *f, sim_job *j)
{
	sim_err e = {0};
	int rc = 0;
	if (j->fail) {
		rc = -1;
		char code[24];
		snprintf(code, sizeof(code), "%lld", j->fail_code);
		sim_err_set(&e, 400, code, NULL, "%s", j->fail_message);
	} else {
		switch (j->op) {
		case SIM_OP_VOLUME_CREATE: rc = do_volume_create(f, j->cluster, j->args, &e); break;
		case SIM_OP_VOLUME_DELETE: rc = do_volume_delete(f, j->cluster, j->args, &e); break;
		case SIM_OP_SNAPSHOT_CREATE: rc = do_snapshot_create(f, j->cluster, j->args, &e); break;
		case SIM_OP_REL_CREATE: rc = sim_rel_do_create(f, j->cluster, j->args, &e); break;
		case SIM_OP_REL_STATE: rc = sim_rel_do_patch(f, j->cluster, j->args, &e); break;
		case SIM_OP_REL_DELETE: rc = sim_rel_do_delete(f, j->cluster, j->args, &e); break;
		case SIM_OP_NONE: break;
		}
	}
	j->end_ms = f->now_ms;
	if (rc == 0) {
		snprintf(j->state, sizeof(j->state), "success");
		snprintf(j->message, sizeof(j->message), "success");
		j->code = 0;
	} else {
		snprintf(j->state, sizeof(j->state), "failure");
		snprintf(j->message, sizeof(j->message), "%s", e.message);
		j->code = strtoll(e.code, NULL, 10);
	}
	j->purge_ms = j->purge_ms < 0 ? f->now_ms : f->now_ms + f->settings.job_purge_ms;
	j->due_ms = j->purge_ms;
}

static void job_remove(sim_fabric *f, size_t i)
{
	sim_job *j = f->jobs.items[i];
	sim_vec_remove(&f->jobs, i);
	cJSON_Delete(j->args);
	free(j);
}

static bool job_terminal(const sim_job *j)
{
	return strcmp(j->state, "success") == 0 || strcmp(j->state, "failure") == 0;
}

/* The earliest pending event at or before `limit`: a job step or a transfer step. */
static bool next_event(sim_fabric *f, int64_t limit, sim_job **job, size_t *job_i,
		       sim_transfer **xfer)
{
	int64_t best = limit + 1;
	*job = NULL;
	*xfer = NULL;
	for (size_t i = 0; i < f->jobs.len; i++) {
		sim_job *j = f->jobs.items[i];
		if (j->stuck && !job_terminal(j))
			continue;
		if (j->due_ms < best) {
			best = j->due_ms;
			*job = j;
			*job_i = i;
		}
	}
	for (size_t i = 0; i < f->transfers.len; i++) {
		sim_transfer *t = f->transfers.items[i];
		/* A hung transfer gets as far as transferring and stays there. */
		if (!sim_transfer_active(t) || (t->hang && strcmp(t->state, "transferring") == 0))
			continue;
		if (t->due_ms < best) {
			best = t->due_ms;
			*xfer = t;
			*job = NULL;
		}
	}
	return *job || *xfer;
}

void sim_clock_advance(sim_fabric *f, int64_t ms)
{
	if (ms < 0)
		return;
	int64_t target = f->now_ms + ms;
	/* Bounded: every step moves a job or transfer forward, and each has few steps. */
	for (int guard = 0; guard < 1000000; guard++) {
		sim_job *j;
		sim_transfer *t;
		size_t ji = 0;
		if (!next_event(f, target, &j, &ji, &t))
			break;
		int64_t at = j ? j->due_ms : t->due_ms;
		if (at > f->now_ms)
			f->now_ms = at;
		if (t) {
			sim_transfer_step(f, t);
		} else if (job_terminal(j)) {
			job_remove(f, ji);
		} else if (strcmp(j->state, "queued") == 0) {
			snprintf(j->state, sizeof(j->state), "running");
			j->due_ms = f->now_ms + f->settings.job_run_ms;
		} else {
			job_finish(f, j);
			if (j->purge_ms <= f->now_ms)
				job_remove(f, ji);
		}
	}
	f->now_ms = target;
}
