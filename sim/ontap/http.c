/* One libmicrohttpd HTTPS listener per simulated cluster: authentication, request faults,
 * routing, the request log. Every request runs under the fabric lock (after any injected
 * latency), so the model never sees two requests at once. */
#include "http.h"

#include <arpa/inet.h>
#include <fnmatch.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"

typedef struct listener {
	sim_fabric *f;
	sim_cluster *cl;
	bool client_ca;
} listener;

typedef struct conn_ctx {
	mg_strbuf body;
	bool too_big;
} conn_ctx;


static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	(void)kind;
	sim_req *rq = cls;
	if (rq->nargs < SIM_MAX_ARGS) {
		rq->args[rq->nargs].key = key;
		rq->args[rq->nargs].value = value;
		rq->nargs++;
	}
	return MHD_YES;
}

static void split_path(sim_req *rq)
{
	rq->path_copy = mg_strdup(rq->path);
	char *save = NULL;
	for (char *tok = rq->path_copy ? strtok_r(rq->path_copy, "/", &save) : NULL;
	     tok && rq->nseg < SIM_MAX_SEGS; tok = strtok_r(NULL, "/", &save))
		rq->segs[rq->nseg++] = tok;
}

static bool const_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = (unsigned char)(la != lb);
	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* 0: admin, 1: read-only user, -1: refused. */
static int check_basic(const sim_cluster *cl, const char *header)
{
	if (!header || strncmp(header, "Basic ", 6) != 0)
		return -1;
	const char *b64 = header + 6;
	size_t n = strlen(b64);
	if (n == 0 || n > 1024 || n % 4)
		return -1;
	unsigned char dec[800];
	int len = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n);
	if (len < 0)
		return -1;
	while (len > 0 && n > 0 && b64[--n] == '=')
		len--;
	dec[len] = '\0';
	char *colon = strchr((char *)dec, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	const char *user = (const char *)dec, *pass = colon + 1;
	int who = -1;
	if (cl->password[0] && const_eq(user, cl->username) && const_eq(pass, cl->password))
		who = 0;
	else if (cl->ro_username[0] && const_eq(user, cl->ro_username) &&
		 const_eq(pass, cl->ro_password))
		who = 1;
	memset(dec, 0, sizeof(dec));
	return who;
}

/* Certificate login: a verified client certificate whose CN is the cluster's user. */
static bool check_cert(struct MHD_Connection *conn, const sim_cluster *cl)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	gnutls_session_t session = ci->tls_session;
	unsigned status = 0;
	if (gnutls_certificate_verify_peers2(session, &status) != 0 || status != 0)
		return false;
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
	if (!certs || n == 0)
		return false;
	gnutls_x509_crt_t crt;
	if (gnutls_x509_crt_init(&crt) != 0)
		return false;
	char cn[256];
	size_t size = sizeof(cn);
	bool ok = gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0 &&
		  gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &size) == 0 &&
		  strcmp(cn, cl->username) == 0;
	gnutls_x509_crt_deinit(crt);
	return ok;
}

static sim_request_fault *match_fault(sim_fabric *f, const sim_cluster *cl, const char *method,
				      const char *path)
{
	for (size_t i = 0; i < f->request_faults.len; i++) {
		sim_request_fault *rf = f->request_faults.items[i];
		if (rf->count <= 0 || (rf->cluster[0] && strcmp(rf->cluster, cl->name) != 0) ||
		    (rf->method[0] && strcasecmp(rf->method, method) != 0) ||
		    fnmatch(rf->path, path, 0) != 0)
			continue;
		rf->count--;
		return rf;
	}
	return NULL;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static char *full_path(const sim_req *rq)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	char *out = NULL;
	mg_strbuf_puts(&sb, rq->path);
	for (size_t i = 0; i < rq->nargs; i++)
		mg_strbuf_printf(&sb, "%c%s=%s", i ? '&' : '?', rq->args[i].key,
				 rq->args[i].value ? rq->args[i].value : "");
	if (sb.failed || mg_strbuf_detach(&sb, &out) != 0)
		out = NULL;
	mg_strbuf_free(&sb);
	return out;
}

/* Handles an /api request under the lock; returns false to drop the connection. */
static bool handle_api(struct MHD_Connection *conn, listener *l, sim_req *rq, sim_resp *rs)
{
	sim_fabric *f = l->f;
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	int who = auth ? check_basic(l->cl, auth) : -1;
	if (who < 0 && !auth && l->client_ca && check_cert(conn, l->cl))
		who = 0;
	if (who < 0) {
		sim_resp_error(rs, 401, "6", "Authentication failed: bad user name or password.", NULL);
		return true;
	}
	rq->readonly = who == 1;
	sim_request_fault *rf = match_fault(f, l->cl, rq->method, rq->path);
	if (rf) {
		int latency = rf->latency_ms;
		bool drop = rf->drop;
		int status = rf->status;
		char code[24], msg[SIM_MSG], target[64];
		if (rf->body[0]) {
			rs->status = status ? status : 200;
			rs->raw = mg_strdup(rf->body);
			if (rs->raw)
				return true;
		}
		snprintf(code, sizeof(code), "%s", rf->code);
		snprintf(msg, sizeof(msg), "%s", rf->message);
		snprintf(target, sizeof(target), "%s", rf->target);
		if (latency > 0) {
			pthread_mutex_unlock(&f->lock);
			sleep_ms(latency);
			pthread_mutex_lock(&f->lock);
		}
		if (drop)
			return false;
		if (status) {
			sim_resp_error(rs, status, code, msg[0] ? msg : "Injected failure.", target);
			return true;
		}
	}
	if (rq->readonly && strcmp(rq->method, "GET") != 0) {
		sim_resp_error(rs, 403, "6", "not authorized for that command", NULL);
		return true;
	}
	const char *rt = sim_qarg(rq, "return_timeout");
	if (rt) {
		char *end;
		long secs = strtol(rt, &end, 10);
		if (end == rt || *end || secs < 0 || secs > 120) {
			sim_resp_error(rs, 400, "2", "return_timeout must be 0 to 120 seconds.",
				       "return_timeout");
			return true;
		}
	}
	if (rq->body_text && *rq->body_text) {
		rq->body = cJSON_Parse(rq->body_text);
		if (!rq->body) {
			sim_resp_error(rs, 400, "2", "The request body is not valid JSON.", NULL);
			return true;
		}
	}
	if (!sim_route_cluster(rq, rs) && !sim_route_svm(rq, rs) && !sim_route_volume(rq, rs) &&
	    !sim_route_snapmirror(rq, rs) && !rs->body)
		sim_resp_error(rs, 404, "3", "API not found.", NULL);
	return true;
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, sim_resp *rs)
{
	char *text = rs->raw ? NULL : rs->body ? cJSON_PrintUnformatted(rs->body) : NULL;
	const char *data = rs->raw ? rs->raw : text ? text : "";
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(data), (void *)data, MHD_RESPMEM_MUST_COPY);
	free(text);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/hal+json");
	if (rs->location[0])
		MHD_add_response_header(r, "Location", rs->location);
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)rs->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	listener *l = cls;
	conn_ctx *ctx = *con_cls;
	if (!ctx) {
		ctx = calloc(1, sizeof(*ctx));
		if (!ctx)
			return MHD_NO;
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_size) {
		if (ctx->body.len + *upload_size > SIM_MAX_BODY)
			ctx->too_big = true;
		else
			mg_strbuf_append(&ctx->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	sim_req rq = {0};
	sim_resp rs = {0};
	rq.f = l->f;
	rq.cl = l->cl;
	rq.method = method;
	rq.path = url;
	rq.body_text = ctx->body.data;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &rq);
	split_path(&rq);
	bool keep = true;
	pthread_mutex_lock(&l->f->lock);
	if (ctx->too_big || ctx->body.failed) {
		sim_resp_error(&rs, 413, "2", "The request body is too large.", NULL);
	} else if (rq.nseg >= 1 && strcmp(rq.segs[0], "__sim") == 0) {
		if (rq.body_text && *rq.body_text && !(rq.body = cJSON_Parse(rq.body_text)) &&
		    !(rq.nseg == 2 && strcmp(rq.segs[1], "seed") == 0))
			sim_resp_error(&rs, 400, "2", "The request body is not valid JSON.", NULL);
		else
			sim_route_control(&rq, &rs);
	} else if (rq.nseg >= 1 && strcmp(rq.segs[0], "api") == 0) {
		keep = handle_api(conn, l, &rq, &rs);
	} else {
		sim_resp_error(&rs, 404, "3", "API not found.", NULL);
	}
	if (!rs.status)
		rs.status = 200;
	if (rq.nseg >= 1 && strcmp(rq.segs[0], "api") == 0) {
		char *p = full_path(&rq);
		sim_log_request(l->f, l->cl->name, method, p ? p : url,
				MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent"),
				rq.body_text,
				keep ? rs.status : 0);
		free(p);
	}
	pthread_mutex_unlock(&l->f->lock);
	enum MHD_Result ret = keep ? send_resp(conn, &rs) : MHD_NO;
	cJSON_Delete(rs.body);
	free(rs.raw);
	cJSON_Delete(rq.body);
	free(rq.path_copy);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	conn_ctx *ctx = *con_cls;
	if (ctx) {
		mg_strbuf_free(&ctx->body);
		free(ctx);
		*con_cls = NULL;
	}
}

int sim_http_start(sim_fabric *f, const char *bind_addr, const char *cert_pem,
		   const char *key_pem, const char *client_ca_pem, unsigned idle_timeout_s)
{
	for (size_t i = 0; i < f->clusters.len; i++) {
		sim_cluster *cl = f->clusters.items[i];
		listener *l = calloc(1, sizeof(*l));
		if (!l)
			return MG_ENOMEM;
		l->f = f;
		l->cl = cl;
		l->client_ca = client_ca_pem != NULL;
		struct sockaddr_in addr = {0};
		addr.sin_family = AF_INET;
		addr.sin_port = htons((uint16_t)cl->port);
		if (inet_pton(AF_INET, bind_addr, &addr.sin_addr) != 1) {
			free(l);
			return MG_EINVAL;
		}
		struct MHD_OptionItem ca_opt[] = {
			{client_ca_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0,
			 (void *)client_ca_pem},
			{MHD_OPTION_END, 0, NULL},
		};
		struct MHD_Daemon *d = MHD_start_daemon(
			MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS,
			0, NULL, NULL, on_request, l, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_HTTPS_MEM_KEY, key_pem,
			MHD_OPTION_CONNECTION_TIMEOUT, idle_timeout_s, MHD_OPTION_NOTIFY_COMPLETED,
			on_completed, NULL, MHD_OPTION_ARRAY, ca_opt, MHD_OPTION_END);
		if (!d) {
			free(l);
			mg_error("ontap-sim: cannot listen", "cluster", cl->name, NULL);
			return MG_EIO;
		}
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		cl->port = di ? di->port : cl->port;
		cl->daemon = d;
		/* The listener lives as long as the daemon; remember it to free on stop. */
		cl->listener = l;
	}
	return 0;
}

void sim_http_stop(sim_fabric *f)
{
	for (size_t i = 0; i < f->clusters.len; i++) {
		sim_cluster *cl = f->clusters.items[i];
		if (cl->daemon)
			MHD_stop_daemon(cl->daemon);
		cl->daemon = NULL;
		free(cl->listener);
		cl->listener = NULL;
	}
}
