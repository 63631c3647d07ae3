/* The scripted admission webhook (see kube_webhook_stub.h). */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "kube_webhook_stub.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

#define NPATHS 10
static const char *const paths[NPATHS] = {"/allow", "/warn", "/deny403", "/deny-nocode",
					  "/deny-reason", "/patch", "/slow", "/baduid",
					  "/badpatch", "/http500"};

struct kube_webhook_stub {
	struct MHD_Daemon *d;
	int port;
	mg_pem_pair ca, leaf;
	char *ca_b64;
	pthread_mutex_t mu;
	int calls[NPATHS];
	char *last[NPATHS];
	volatile int stopping;
};

static int path_index(const char *p)
{
	for (int i = 0; i < NPATHS; i++)
		if (strcmp(paths[i], p) == 0)
			return i;
	return -1;
}

static char *b64(const char *data, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)n);
	return out;
}

static char *answer(int which, const char *uid)
{
	cJSON *rev = cJSON_CreateObject();
	cJSON_AddStringToObject(rev, "apiVersion", "admission.k8s.io/v1");
	cJSON_AddStringToObject(rev, "kind", "AdmissionReview");
	cJSON *r = cJSON_AddObjectToObject(rev, "response");
	cJSON_AddStringToObject(r, "uid", which == 7 ? "not-the-uid" : uid);
	bool allowed = which != 2 && which != 3 && which != 4;
	cJSON_AddBoolToObject(r, "allowed", allowed);
	if (which == 1) {
		const char *w[] = {"careful: this is a test warning"};
		cJSON_AddItemToObject(r, "warnings", cJSON_CreateStringArray(w, 1));
	}
	if (which == 2 || which == 3 || which == 4) {
		cJSON *st = cJSON_AddObjectToObject(r, "status");
		if (which == 2)
			cJSON_AddNumberToObject(st, "code", 403);
		if (which == 4)
			cJSON_AddStringToObject(st, "reason", "NotAcceptable");
		else
			cJSON_AddStringToObject(st, "message", which == 2 ? "no way" : "bad request");
		const char *w[] = {"denied with a warning too"};
		cJSON_AddItemToObject(r, "warnings", cJSON_CreateStringArray(w, 1));
	}
	if (which == 5 || which == 8) {
		const char *ops = "[{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{}},"
				  "{\"op\":\"add\",\"path\":\"/metadata/labels/mutated\",\"value\":\"yes\"}]";
		char *p = b64(ops, strlen(ops));
		cJSON_AddStringToObject(r, "patch", p);
		cJSON_AddStringToObject(r, "patchType", "JSONPatch");
		free(p);
	}
	char *text = cJSON_PrintUnformatted(rev);
	cJSON_Delete(rev);
	return text;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	(void)version;
	(void)method;
	kube_webhook_stub *s = cls;
	mg_strbuf *body = *con_cls;
	if (!body) {
		body = calloc(1, sizeof(*body));
		if (!body)
			return MHD_NO;
		*con_cls = body;
		return MHD_YES;
	}
	if (*upload_size) {
		mg_strbuf_append(body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	int which = path_index(url);
	cJSON *req = body->data ? cJSON_Parse(body->data) : NULL;
	const cJSON *uid = cJSON_GetObjectItem(cJSON_GetObjectItem(req, "request"), "uid");
	if (which >= 0) {
		pthread_mutex_lock(&s->mu);
		s->calls[which]++;
		free(s->last[which]);
		s->last[which] = mg_strdup(body->data);
		pthread_mutex_unlock(&s->mu);
	}
	if (which == 6)
		for (int i = 0; i < 300 && !s->stopping; i++)
			usleep(10000);
	char *text = which < 0 || which == 9 ? mg_strdup("oops")
					     : answer(which, cJSON_IsString(uid) ? uid->valuestring : "");
	cJSON_Delete(req);
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, which < 0 ? 404 : which == 9 ? 500 : 200, r);
	MHD_destroy_response(r);
	return ret;
}

static void done(void *cls, struct MHD_Connection *c, void **con_cls,
		 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	mg_strbuf *b = *con_cls;
	if (b) {
		mg_strbuf_free(b);
		free(b);
	}
	*con_cls = NULL;
}

int kube_webhook_stub_start(kube_webhook_stub **out)
{
	kube_webhook_stub *s = calloc(1, sizeof(*s));
	const char *sans[] = {"IP:127.0.0.1"};
	if (!s)
		return -1;
	pthread_mutex_init(&s->mu, NULL);
	if (mg_tls_make_ca(&s->ca, "stub-ca", 1) != 0 ||
	    mg_tls_make_leaf(&s->leaf, &s->ca, "stub", sans, 1, 1, false) != 0)
		goto fail;
	s->ca_b64 = b64(s->ca.cert_pem, strlen(s->ca.cert_pem));
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
					MHD_USE_TLS,
				0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, &sa,
				MHD_OPTION_HTTPS_MEM_KEY, s->leaf.key_pem, MHD_OPTION_HTTPS_MEM_CERT,
				s->leaf.cert_pem, MHD_OPTION_NOTIFY_COMPLETED, done, s, MHD_OPTION_END);
	if (!s->d || !s->ca_b64)
		goto fail;
	s->port = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
	*out = s;
	return 0;
fail:
	kube_webhook_stub_stop(s);
	return -1;
}

int kube_webhook_stub_port(const kube_webhook_stub *s)
{
	return s->port;
}

const char *kube_webhook_stub_ca_b64(const kube_webhook_stub *s)
{
	return s->ca_b64;
}

int kube_webhook_stub_calls(kube_webhook_stub *s, const char *path)
{
	int i = path_index(path);
	pthread_mutex_lock(&s->mu);
	int n = i < 0 ? 0 : s->calls[i];
	pthread_mutex_unlock(&s->mu);
	return n;
}

char *kube_webhook_stub_last(kube_webhook_stub *s, const char *path)
{
	int i = path_index(path);
	pthread_mutex_lock(&s->mu);
	char *c = i < 0 ? NULL : mg_strdup(s->last[i]);
	pthread_mutex_unlock(&s->mu);
	return c;
}

void kube_webhook_stub_stop(kube_webhook_stub *s)
{
	if (!s)
		return;
	s->stopping = 1;
	if (s->d)
		MHD_stop_daemon(s->d);
	for (int i = 0; i < NPATHS; i++)
		free(s->last[i]);
	mg_pem_pair_free(&s->ca);
	mg_pem_pair_free(&s->leaf);
	free(s->ca_b64);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
