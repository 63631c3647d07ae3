/* kube-sim's HTTPS front: libmicrohttpd with one thread per connection (watches block in
 * their content callback), bearer-token authentication, and the route split between
 * discovery, OpenAPI and the resource API. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ksim.h"
#include "prov.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

#define KSIM_MAX_BODY (3u * 1024 * 1024) /* the API server's request size limit */

struct conn_ctx {
	mg_strbuf body;
	int too_big;
};

/* Accepted tokens: the --token value and each line of --token-file, read per request so a
 * test can rotate them. */
static bool token_ok(const ksim_server *srv, const char *tok)
{
	if (srv->opt.token && strcmp(srv->opt.token, tok) == 0)
		return true;
	if (!srv->opt.token_file)
		return false;
	char *text = NULL;
	size_t len;
	bool ok = false;
	if (mg_read_file(srv->opt.token_file, 65536, &text, &len) != 0)
		return false;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);
		while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == ' '))
			line[--l] = '\0';
		if (l > 0 && strcmp(line, tok) == 0)
			ok = true;
	}
	memset(text, 0, len);
	free(text);
	return ok;
}

static bool authenticated(ksim_server *srv, struct MHD_Connection *conn)
{
	if (!srv->opt.token && !srv->opt.token_file)
		return true;
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	if (!auth || strncmp(auth, "Bearer ", 7) != 0)
		return false;
	return token_ok(srv, auth + 7);
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, ksim_resp *rs)
{
	struct MHD_Response *r = rs->stream;
	rs->stream = NULL;
	if (!r) {
		const char *body = rs->body ? rs->body : "";
		r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, "Content-Type", rs->ctype ? rs->ctype : "application/json");
	}
	for (size_t i = 0; i < rs->nwarnings; i++) {
		mg_strbuf sb = MG_STRBUF_INIT;
		mg_strbuf_puts(&sb, "299 - ");
		mg_strbuf_put_json_string(&sb, rs->warnings[i]);
		if (!sb.failed)
			MHD_add_response_header(r, "Warning", sb.data);
		mg_strbuf_free(&sb);
	}
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)(rs->code ? rs->code : 500), r);
	MHD_destroy_response(r);
	return ret;
}

static void resp_clear(ksim_resp *rs)
{
	free(rs->body);
	for (size_t i = 0; i < rs->nwarnings; i++)
		free(rs->warnings[i]);
	free(rs->warnings);
	if (rs->stream)
		MHD_destroy_response(rs->stream);
	memset(rs, 0, sizeof(*rs));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	ksim_server *srv = cls;
	struct conn_ctx *cc = *con_cls;
	if (!cc) {
		if (!(cc = calloc(1, sizeof(*cc))))
			return MHD_NO;
		*con_cls = cc;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (cc->body.len + *upload_size > KSIM_MAX_BODY)
			cc->too_big = 1;
		else if (mg_strbuf_append(&cc->body, upload, *upload_size) != 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	ksim_resp rs = {0};
	ksim_req rq = {srv, conn, method, url, cc->body.data ? cc->body.data : "", cc->body.len,
		       MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"), NULL};
	if (strcmp(url, "/healthz") == 0 || strcmp(url, "/livez") == 0 ||
	    strcmp(url, "/readyz") == 0) {
		rs.code = 200;
		rs.body = mg_strdup("ok");
		rs.ctype = "text/plain";
	} else if (!authenticated(srv, conn)) {
		ksim_resp_status(&rs, 401, NULL, "Unauthorized");
	} else if (cc->too_big) {
		ksim_resp_status(&rs, 413, NULL, "Request entity too large: limit is %u",
				 KSIM_MAX_BODY);
	} else {
		rq.username = "kube-sim-user";
		bool handled = false;
		ksim_discovery(&rq, &rs, &handled);
		if (!handled)
			ksim_openapi(&rq, &rs, &handled);
		if (!handled)
			ksim_api(&rq, &rs);
	}
	enum MHD_Result ret = send_resp(conn, &rs);
	resp_clear(&rs);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct conn_ctx *cc = *con_cls;
	if (cc) {
		mg_strbuf_free(&cc->body);
		free(cc);
	}
	*con_cls = NULL;
}

static int ensure_namespace(ksim_server *srv, const char *name)
{
	const ksim_res *nsr = ksim_types_find(&srv->types, "", "v1", "namespaces");
	char ts[32];
	ksim_now(ts, sizeof(ts));
	char *uid = ksim_new_uid(srv);
	cJSON *o = cJSON_CreateObject();
	if (!o || !uid) {
		free(uid);
		cJSON_Delete(o);
		return MG_ENOMEM;
	}
	cJSON_AddStringToObject(o, "apiVersion", "v1");
	cJSON_AddStringToObject(o, "kind", "Namespace");
	cJSON *md = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(md, "name", name);
	cJSON_AddStringToObject(md, "uid", uid);
	cJSON_AddStringToObject(md, "creationTimestamp", ts);
	cJSON *labels = cJSON_AddObjectToObject(md, "labels");
	cJSON_AddStringToObject(labels, "kubernetes.io/metadata.name", name);
	cJSON_AddObjectToObject(o, "spec");
	cJSON *st = cJSON_AddObjectToObject(o, "status");
	cJSON_AddStringToObject(st, "phase", "Active");
	free(uid);
	return ksim_store_put(&srv->store, nsr, "", name, o, "ADDED");
}

int ksim_server_start(ksim_server **out, const ksim_options *opt, char *why, size_t why_len)
{
	int rc;
	ksim_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return MG_ENOMEM;
	srv->opt = *opt;
	if ((rc = ksim_types_init(&srv->types)) != 0)
		goto fail;
	for (size_t i = 0; i < opt->nwithout; i++)
		if ((rc = ksim_types_remove(&srv->types, opt->without[i], why, why_len)) != 0)
			goto fail;
	if (opt->crd_dir && (rc = ksim_types_load_dir(&srv->types, opt->crd_dir, why, why_len)) != 0)
		goto fail;
	if ((rc = ksim_store_init(&srv->store, opt->history)) != 0)
		goto fail;
	static const char *const initial_ns[] = {"default", "kube-system", "kube-public"};
	for (size_t i = 0; i < 3; i++)
		if ((rc = ensure_namespace(srv, initial_ns[i])) != 0)
			goto fail;
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)opt->port);
	if (inet_pton(AF_INET, opt->address ? opt->address : "127.0.0.1", &sa.sin_addr) != 1) {
		snprintf(why, why_len, "bad listen address");
		rc = MG_EINVAL;
		goto fail;
	}
	srv->mhd = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, 0,
		NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_HTTPS_MEM_KEY, opt->key_pem, MHD_OPTION_HTTPS_MEM_CERT, opt->cert_pem,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)300, MHD_OPTION_END);
	if (!srv->mhd) {
		snprintf(why, why_len, "cannot listen on %s:%d",
			 opt->address ? opt->address : "127.0.0.1", opt->port);
		rc = MG_EIO;
		goto fail;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : opt->port;
	if (opt->provisioner &&
	    (rc = ksim_prov_start(&srv->prov, srv, opt->provisioner, why, why_len)) != 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	ksim_types_free(&srv->types);
	ksim_store_free(&srv->store);
	free(srv);
	return rc;
}

void ksim_server_stop(ksim_server *srv)
{
	if (!srv)
		return;
	atomic_store(&srv->store.stopping, 1);
	pthread_mutex_lock(&srv->store.lock);
	pthread_cond_broadcast(&srv->store.changed);
	pthread_mutex_unlock(&srv->store.lock);
	ksim_prov_stop(srv->prov); /* before the store it reads goes */
	if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	ksim_store_free(&srv->store);
	ksim_types_free(&srv->types);
	free(srv);
}
