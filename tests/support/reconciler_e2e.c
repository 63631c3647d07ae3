#include "reconciler_e2e.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

void rec_e2e_nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void kube_client(rec_env *e)
{
	mg_k8s_config *cfg = NULL;
	char why[256] = "";
	cr_assert_eq(mg_k8s_config_from_kubeconfig(&cfg, e->kube.kubeconfig, NULL, why, sizeof(why)),
		     0, "%s", why);
	cr_assert_eq(mg_k8s_client_new(&e->k8s, cfg), 0);
	mg_k8s_config_free(cfg);
}

void rec_e2e_start_at(rec_env *e, const char *bin_dir, const char *source_dir,
		      const char *const *kube_extra)
{
	static const char *const rt[] = {"--realtime", NULL};
	memset(e, 0, sizeof(*e));
	char bin[512];
	snprintf(bin, sizeof(bin), "%s/ontap-sim", bin_dir);
	ontap_sim_start_bin(&e->ontap, bin, NULL, rt);
	cr_assert_eq(ontap_sim_control(&e->ontap, "POST", "settings",
				       "{\"job_queue_ms\":10,\"job_run_ms\":30,"
				       "\"transfer_queue_ms\":20,\"transfer_ms\":100}",
				       NULL),
		     200);
	cr_assert_eq(kube_sim_start_at(&e->kube, bin_dir, source_dir, kube_extra), 0,
		     "kube-sim did not start");
	kube_client(e);
	/* the test's own ONTAP clients wait on the real clock, like the sim and the binary */
	mg_ontap_config oc;
	for (int i = 0; i < 2; i++) {
		ontap_sim_client_config(&e->ontap, (size_t)i, &oc);
		oc.now_ms = NULL;
		oc.sleep_ms = NULL;
		oc.clock_ctx = NULL;
		cr_assert_eq(mg_ontap_client_new(i ? &e->cb : &e->ca, &oc), 0);
	}
}

void rec_e2e_restart_kube_at(rec_env *e, const char *bin_dir, const char *source_dir,
			     const char *const *extra)
{
	mg_k8s_client_free(e->k8s);
	e->k8s = NULL;
	kube_sim_stop(&e->kube);
	cr_assert_eq(kube_sim_start_at(&e->kube, bin_dir, source_dir, extra), 0,
		     "kube-sim did not restart");
	kube_client(e);
}

void rec_e2e_config(rec_env *e, rec_proc *p)
{
	rec_proc_config(p, e->ontap.clusters[1].url, "svm-b", e->ontap.ca_file, "admin",
			"password-b");
}

bool rec_e2e_wait_state(rec_env *e, const char *ns, const char *name, const char *state,
			long timeout_ms)
{
	for (long t = 0; t < timeout_ms; t += 100) {
		if (strcmp(rec_env_cond(e, ns, name, "state"), state) == 0)
			return true;
		rec_e2e_nap(100);
	}
	return strcmp(rec_env_cond(e, ns, name, "state"), state) == 0;
}

const char *rec_e2e_status(rec_env *e, const mg_k8s_resource *r, const char *ns,
			   const char *name, const char *field)
{
	static char buf[1024];
	buf[0] = '\0';
	cJSON *o = rec_env_get(e, r, ns, name);
	const cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "status"), field);
	if (cJSON_IsString(f))
		snprintf(buf, sizeof(buf), "%s", f->valuestring);
	cJSON_Delete(o);
	return buf;
}

bool rec_e2e_wait_status(rec_env *e, const mg_k8s_resource *r, const char *ns, const char *name,
			 const char *field, const char *value, long timeout_ms)
{
	for (long t = 0; t < timeout_ms; t += 50) {
		if (strcmp(rec_e2e_status(e, r, ns, name, field), value) == 0)
			return true;
		rec_e2e_nap(50);
	}
	return strcmp(rec_e2e_status(e, r, ns, name, field), value) == 0;
}

bool rec_e2e_wait_gone(rec_env *e, const mg_k8s_resource *r, const char *ns, const char *name,
		       long timeout_ms)
{
	for (long t = 0;; t += 100) {
		cJSON *o = rec_env_get(e, r, ns, name);
		cJSON_Delete(o);
		if (!o)
			return true;
		if (t >= timeout_ms)
			return false;
		rec_e2e_nap(100);
	}
}

bool rec_e2e_wait_metric(rec_proc *p, const char *needle, bool want, long timeout_ms,
			 char **body)
{
	char *text = NULL;
	bool ok = false;
	for (long t = 0;; t += 100) {
		free(text);
		text = NULL;
		int st = rec_proc_get(p, "/metrics", &text);
		ok = st == 200 && text && (strstr(text, needle) != NULL) == want;
		if (ok || t >= timeout_ms)
			break;
		rec_e2e_nap(100);
	}
	if (body)
		*body = text;
	else
		free(text);
	return ok;
}

double rec_e2e_metric(rec_proc *p, const char *series)
{
	char *text = NULL;
	double v = -1;
	if (rec_proc_get(p, "/metrics", &text) == 200 && text) {
		size_t n = strlen(series);
		for (const char *at = strstr(text, series); at; at = strstr(at + 1, series))
			if ((at == text || at[-1] == '\n') && at[n] == ' ') {
				v = strtod(at + n + 1, NULL);
				break;
			}
	}
	free(text);
	return v;
}

bool rec_e2e_file_contains(const char *path, const char *needle)
{
	char *text = NULL;
	size_t len = 0;
	if (mg_read_file(path, 64u << 20, &text, &len) != 0)
		return false;
	bool yes = strstr(text, needle) != NULL;
	free(text);
	return yes;
}

bool rec_e2e_wait_file(const char *path, const char *needle, long timeout_ms)
{
	for (long t = 0; t < timeout_ms; t += 100) {
		if (rec_e2e_file_contains(path, needle))
			return true;
		rec_e2e_nap(100);
	}
	return rec_e2e_file_contains(path, needle);
}

char *rec_e2e_list_text(rec_env *e, const mg_k8s_resource *r, const char *ns)
{
	cJSON *list = NULL;
	mg_k8s_status st;
	mg_k8s_list_opts o = {0};
	int rc = mg_k8s_list(&list, e->k8s, r, ns, &o, &st);
	cr_assert_eq(rc, 0, "list: %s", mg_strerror(rc));
	char *text = cJSON_PrintUnformatted(list);
	cJSON_Delete(list);
	cr_assert_not_null(text);
	return text;
}

void rec_e2e_assert_no_loss(rec_env *e)
{
	char *text = NULL;
	cr_expect_eq(rec_env_ledger(e, &text), 0, "data-loss ledger: %s", text);
	free(text);
}

void rec_e2e_start_with_config_at(rec_env *e, rec_proc *p, const char *bin_dir,
				  const char *source_dir, const char *const *kube_extra)
{
	rec_e2e_start_at(e, bin_dir, source_dir, kube_extra);
	memset(p, 0, sizeof(*p));
	rec_e2e_config(e, p);
}

void rec_e2e_stop_with_proc(rec_env *e, rec_proc *p)
{
	rec_proc_stop(p, true);
	rec_proc_cleanup(p);
	rec_env_stop(e);
}
