/* /api/cluster, /api/cluster/jobs, /api/cluster/peers, /api/cluster/schedules. */
#include "http.h"

#include <string.h>

static bool seg(const sim_req *rq, size_t i, const char *s)
{
	return i < rq->nseg && strcmp(rq->segs[i], s) == 0;
}

static void method_not_allowed(sim_resp *rs)
{
	sim_resp_error(rs, 405, "3", "The method is not allowed for this resource.", NULL);
}

bool sim_route_cluster(sim_req *rq, sim_resp *rs)
{
	sim_fabric *f = rq->f;
	if (!seg(rq, 1, "cluster"))
		return false;
	bool get = strcmp(rq->method, "GET") == 0;
	if (rq->nseg == 2) {
		if (!get)
			method_not_allowed(rs);
		else
			sim_respond_record(rq, rs, "cluster", sim_json_cluster(rq->cl));
		return true;
	}
	if (seg(rq, 2, "jobs") && rq->nseg <= 4) {
		if (!get) {
			method_not_allowed(rs);
		} else if (rq->nseg == 3) {
			cJSON *all = cJSON_CreateArray();
			for (size_t i = 0; i < f->jobs.len; i++) {
				sim_job *j = f->jobs.items[i];
				if (j->cluster == rq->cl)
					cJSON_AddItemToArray(all, sim_json_job(rq->cl, j));
			}
			sim_respond_collection(rq, rs, "job", all);
		} else {
			sim_job *j = sim_job_find(f, rq->segs[3]);
			if (!j || j->cluster != rq->cl)
				sim_resp_error(rs, 404, "4", "entry doesn't exist", "uuid");
			else
				sim_respond_record(rq, rs, "job", sim_json_job(rq->cl, j));
		}
		return true;
	}
	if (seg(rq, 2, "peers") && rq->nseg == 3) {
		if (!get) {
			method_not_allowed(rs);
			return true;
		}
		cJSON *all = cJSON_CreateArray();
		/* Clusters are peered when any of their SVMs are. */
		for (size_t i = 0; i < f->clusters.len; i++) {
			sim_cluster *other = f->clusters.items[i];
			bool peered = false;
			for (size_t k = 0; k < f->svm_peers.len && !peered; k++) {
				sim_svm_peer *p = f->svm_peers.items[k];
				peered = p->local->cluster == rq->cl && p->peer->cluster == other;
			}
			if (other != rq->cl && peered)
				cJSON_AddItemToArray(all, sim_json_cluster_peer(rq->cl, other));
		}
		sim_respond_collection(rq, rs, "cluster_peer", all);
		return true;
	}
	if (seg(rq, 2, "schedules") && rq->nseg == 3) {
		if (!get) {
			method_not_allowed(rs);
			return true;
		}
		cJSON *all = cJSON_CreateArray();
		for (size_t i = 0; i < f->schedules.len; i++) {
			sim_schedule *s = f->schedules.items[i];
			if (s->cluster == rq->cl)
				cJSON_AddItemToArray(all, sim_json_schedule(s));
		}
		sim_respond_collection(rq, rs, "schedule", all);
		return true;
	}
	return false;
}

bool sim_route_svm(sim_req *rq, sim_resp *rs)
{
	sim_fabric *f = rq->f;
	if (!seg(rq, 1, "svm") || rq->nseg != 3)
		return false;
	if (strcmp(rq->method, "GET") != 0) {
		method_not_allowed(rs);
		return true;
	}
	cJSON *all = cJSON_CreateArray();
	if (seg(rq, 2, "svms")) {
		for (size_t i = 0; i < f->svms.len; i++) {
			sim_svm *s = f->svms.items[i];
			if (s->cluster == rq->cl)
				cJSON_AddItemToArray(all, sim_json_svm(s));
		}
		sim_respond_collection(rq, rs, "svm", all);
		return true;
	}
	if (seg(rq, 2, "peers")) {
		for (size_t i = 0; i < f->svm_peers.len; i++) {
			sim_svm_peer *p = f->svm_peers.items[i];
			if (p->local->cluster == rq->cl)
				cJSON_AddItemToArray(all, sim_json_svm_peer(p));
		}
		sim_respond_collection(rq, rs, "svm_peer", all);
		return true;
	}
	cJSON_Delete(all);
	return false;
}
