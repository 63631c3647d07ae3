/* The request/response verbs of the Kubernetes client. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/tls.h"

#define TOKEN_MAX 65536
/* Idle curl handles kept for reuse. Each keeps its own live connections, so this bounds the
 * connections a client holds open to about one per concurrently requesting thread. */
#define POOL_MAX 16

struct mg_k8s_client {
	mg_k8s_config cfg; /* deep copy; cfg.token is the static or last-read token */
	long timeout_ms;
	pthread_mutex_t token_lock;
	struct stat token_stat; /* of the token file when it was last read */
	int token_read;
	/* Reused handles: a handle that is reset keeps its connection cache, so the next
	 * request on it goes over the same keep-alive connection instead of a new TCP + TLS
	 * handshake (which cost 78% of the reconciler's CPU when every request made one). */
	pthread_mutex_t pool_lock;
	CURL *idle[POOL_MAX];
	size_t nidle;
	/* DNS answers and TLS sessions shared by every handle, so a new connection resumes. */
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	atomic_ulong requests, connects;
	atomic_bool no_reuse;
};

const mg_k8s_resource mg_k8s_res_tmr = {"trident.netapp.io", "v1", "tridentmirrorrelationships", true};
const mg_k8s_resource mg_k8s_res_tamu = {"trident.netapp.io", "v1", "tridentactionmirrorupdates", true};
const mg_k8s_resource mg_k8s_res_tsi = {"trident.netapp.io", "v1", "tridentsnapshotinfos", true};
const mg_k8s_resource mg_k8s_res_pvc = {"", "v1", "persistentvolumeclaims", true};
const mg_k8s_resource mg_k8s_res_pv = {"", "v1", "persistentvolumes", false};
const mg_k8s_resource mg_k8s_res_sc = {"storage.k8s.io", "v1", "storageclasses", false};
const mg_k8s_resource mg_k8s_res_configmap = {"", "v1", "configmaps", true};
const mg_k8s_resource mg_k8s_res_event = {"", "v1", "events", true};
const mg_k8s_resource mg_k8s_res_lease = {"coordination.k8s.io", "v1", "leases", true};
const mg_k8s_resource mg_k8s_res_namespace = {"", "v1", "namespaces", false};
const mg_k8s_resource mg_k8s_res_secret = {"", "v1", "secrets", true};
const mg_k8s_resource mg_k8s_res_vs = {"snapshot.storage.k8s.io", "v1", "volumesnapshots", true};
const mg_k8s_resource mg_k8s_res_vsc = {"snapshot.storage.k8s.io", "v1", "volumesnapshotcontents", false};

void mg_k8s_client_free(mg_k8s_client *c)
{
	if (!c)
		return;
	free(c->cfg.server);
	mg_free_secret(c->cfg.token);
	free(c->cfg.token_file);
	free(c->cfg.ca_pem);
	free(c->cfg.client_cert_pem);
	mg_free_secret(c->cfg.client_key_pem);
	free(c->cfg.namespace);
	for (size_t i = 0; i < c->nidle; i++)
		curl_easy_cleanup(c->idle[i]);
	if (c->share)
		curl_share_cleanup(c->share);
	for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&c->share_locks[i]);
	pthread_mutex_destroy(&c->pool_lock);
	pthread_mutex_destroy(&c->token_lock);
	free(c);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userp)
{
	(void)h;
	(void)access;
	mg_k8s_client *c = userp;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userp)
{
	(void)h;
	mg_k8s_client *c = userp;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&c->share_locks[data]);
}

static int share_new(mg_k8s_client *c)
{
	if (!(c->share = curl_share_init()))
		return MG_ENOMEM;
	if (curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
		return MG_ENOMEM;
	return 0;
}

/* A handle for one request: an idle one (with its live connection) or a new one. */
CURL *mg_k8s__handle_take(mg_k8s_client *c)
{
	CURL *h = NULL;
	pthread_mutex_lock(&c->pool_lock);
	if (c->nidle > 0)
		h = c->idle[--c->nidle];
	pthread_mutex_unlock(&c->pool_lock);
	return h ? h : curl_easy_init();
}

/* Back to the pool after a request. The reset drops the request's options (pointers into
 * freed buffers) but keeps the connection cache, which is the point. */
void mg_k8s__handle_give(mg_k8s_client *c, CURL *h)
{
	if (!h)
		return;
	long nconn = 0;
	if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nconn) == CURLE_OK && nconn > 0)
		atomic_fetch_add(&c->connects, (unsigned long)nconn);
	curl_easy_reset(h);
	pthread_mutex_lock(&c->pool_lock);
	if (c->nidle < POOL_MAX && !atomic_load(&c->no_reuse)) {
		c->idle[c->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	if (h)
		curl_easy_cleanup(h);
}

void mg_k8s_client_set_reuse(mg_k8s_client *c, bool reuse)
{
	if (c)
		atomic_store(&c->no_reuse, !reuse);
}

void mg_k8s_client_stats(const mg_k8s_client *c, unsigned long *requests,
			 unsigned long *new_connections)
{
	if (requests)
		*requests = c ? atomic_load(&((mg_k8s_client *)c)->requests) : 0;
	if (new_connections)
		*new_connections = c ? atomic_load(&((mg_k8s_client *)c)->connects) : 0;
}

static void global_init(void)
{
	/* curl's global state is set up once per process; its result only matters for
	 * SSL back ends we do not use, and a failure shows up on the first request anyway. */
	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int dup_field(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = mg_strdup(src);
	return *dst ? 0 : MG_ENOMEM;
}

int mg_k8s_client_new(mg_k8s_client **out, const mg_k8s_config *cfg)
{
	if (!out || !cfg || !cfg->server)
		return MG_EINVAL;
	if (strncmp(cfg->server, "https://", 8) != 0 && strncmp(cfg->server, "http://", 7) != 0)
		return MG_EINVAL;
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, global_init);
	mg_k8s_client *c = calloc(1, sizeof(*c));
	if (!c)
		return MG_ENOMEM;
	pthread_mutex_init(&c->token_lock, NULL);
	pthread_mutex_init(&c->pool_lock, NULL);
	for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&c->share_locks[i], NULL);
	c->timeout_ms = 30000;
	if (share_new(c) != 0) {
		mg_k8s_client_free(c);
		return MG_ENOMEM;
	}
	c->cfg.insecure_skip_tls_verify = cfg->insecure_skip_tls_verify;
	size_t slen = strlen(cfg->server);
	if (dup_field(&c->cfg.server, cfg->server) || dup_field(&c->cfg.token, cfg->token) ||
	    dup_field(&c->cfg.token_file, cfg->token_file) || dup_field(&c->cfg.ca_pem, cfg->ca_pem) ||
	    dup_field(&c->cfg.client_cert_pem, cfg->client_cert_pem) ||
	    dup_field(&c->cfg.client_key_pem, cfg->client_key_pem) ||
	    dup_field(&c->cfg.namespace, cfg->namespace ? cfg->namespace : "default")) {
		mg_k8s_client_free(c);
		return MG_ENOMEM;
	}
	/* "https://host/" and "https://host" name the same server. */
	while (slen > 0 && c->cfg.server[slen - 1] == '/')
		c->cfg.server[--slen] = '\0';
	*out = c;
	return 0;
}

void mg_k8s_client_set_timeout_ms(mg_k8s_client *c, long ms)
{
	if (c && ms > 0)
		c->timeout_ms = ms;
}

const char *mg_k8s_client_namespace(const mg_k8s_client *c)
{
	return c ? c->cfg.namespace : NULL;
}

/* The service-account token is rotated by the kubelet (an atomic symlink swap): re-read it
 * whenever the file's identity or timestamp changes, as client-go's cached token source does. */
static int bearer_header(mg_k8s_client *c, char **out)
{
	int rc = 0;
	*out = NULL;
	pthread_mutex_lock(&c->token_lock);
	if (c->cfg.token_file) {
		struct stat st;
		if (stat(c->cfg.token_file, &st) != 0) {
			rc = c->cfg.token ? 0 : MG_EAUTH;
		} else if (!c->token_read || st.st_ino != c->token_stat.st_ino ||
			   st.st_mtim.tv_sec != c->token_stat.st_mtim.tv_sec ||
			   st.st_mtim.tv_nsec != c->token_stat.st_mtim.tv_nsec ||
			   st.st_size != c->token_stat.st_size) {
			char *tok = NULL;
			size_t len;
			if (mg_read_file(c->cfg.token_file, TOKEN_MAX, &tok, &len) == 0) {
				while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r' ||
						   tok[len - 1] == ' '))
					tok[--len] = '\0';
				mg_free_secret(c->cfg.token);
				c->cfg.token = tok;
				c->token_stat = st;
				c->token_read = 1;
			} else if (!c->cfg.token) {
				rc = MG_EAUTH;
			}
		}
	}
	if (rc == 0 && c->cfg.token && c->cfg.token[0]) {
		*out = mg_asprintf("Authorization: Bearer %s", c->cfg.token);
		if (!*out)
			rc = MG_ENOMEM;
	}
	pthread_mutex_unlock(&c->token_lock);
	return rc;
}

size_t mg_k8s__header_cb(char *buf, size_t size, size_t n, void *userdata)
{
	size_t len = size * n;
	long *retry_after = userdata;
	static const char name[] = "retry-after:";
	if (len > sizeof(name) - 1 && strncasecmp(buf, name, sizeof(name) - 1) == 0) {
		char tmp[32];
		size_t vlen = len - (sizeof(name) - 1);
		if (vlen >= sizeof(tmp))
			vlen = sizeof(tmp) - 1;
		memcpy(tmp, buf + sizeof(name) - 1, vlen);
		tmp[vlen] = '\0';
		char *end;
		errno = 0;
		long v = strtol(tmp, &end, 10);
		if (errno == 0 && end != tmp && v >= 0)
			*retry_after = v;
	}
	return len;
}

int mg_k8s__setup(mg_k8s_client *c, CURL *h, const char *path_query, const char *accept,
		  struct curl_slist **headers)
{
	char *url = mg_asprintf("%s%s", c->cfg.server, path_query);
	char *auth = NULL;
	int rc = MG_ENOMEM;
	if (!url)
		goto out;
	if ((rc = bearer_header(c, &auth)) != 0)
		goto out;
	rc = MG_ENOMEM;
	struct curl_slist *hl = NULL, *tmp;
	char accept_h[256];
	snprintf(accept_h, sizeof(accept_h), "Accept: %s", accept ? accept : "application/json");
	if (!(tmp = curl_slist_append(hl, accept_h)))
		goto out;
	hl = tmp;
	if (!(tmp = curl_slist_append(hl, "User-Agent: mirrorgate/" MG_VERSION))) {
		curl_slist_free_all(hl);
		goto out;
	}
	hl = tmp;
	if (auth) {
		if (!(tmp = curl_slist_append(hl, auth))) {
			curl_slist_free_all(hl);
			goto out;
		}
		hl = tmp;
	}
	*headers = hl;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (atomic_load(&c->no_reuse))
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	else
		curl_easy_setopt(h, CURLOPT_SHARE, c->share);
	/* A peer that vanished without a FIN is noticed on an idle kept-alive connection
	 * (client-go's dialer uses the same 30 s); one that closed is noticed by curl before
	 * it reuses the connection. */
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 30L);
	/* HTTP/2 when the API server offers it in ALPN (it does), HTTP/1.1 otherwise. */
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	if (c->cfg.ca_pem) {
		struct curl_blob blob = {c->cfg.ca_pem, strlen(c->cfg.ca_pem), CURL_BLOB_COPY};
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (c->cfg.client_cert_pem && c->cfg.client_key_pem) {
		struct curl_blob cb = {c->cfg.client_cert_pem, strlen(c->cfg.client_cert_pem),
				       CURL_BLOB_COPY};
		struct curl_blob kb = {c->cfg.client_key_pem, strlen(c->cfg.client_key_pem),
				       CURL_BLOB_COPY};
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cb);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &kb);
	}
	if (c->cfg.insecure_skip_tls_verify) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	rc = 0;
out:
	free(url);
	mg_free_secret(auth);
	return rc;
}

int mg_k8s__curl_error(CURLcode cc, mg_k8s_status *st)
{
	if (st) {
		st->code = 0;
		snprintf(st->message, sizeof(st->message), "%s", curl_easy_strerror(cc));
	}
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return MG_ETIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return MG_ETLS;
	case CURLE_OUT_OF_MEMORY:
		return MG_ENOMEM;
	case CURLE_WRITE_ERROR:
		return MG_ETOOBIG;
	default:
		return MG_EIO;
	}
}

/* The metav1.Status in an error answer, already parsed (NULL when there was none). */
static int error_from_json(long code, const cJSON *s, long retry_after, mg_k8s_status *st)
{
	char reason[64] = "";
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(s, "reason");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "message");
	if (cJSON_IsString(r))
		snprintf(reason, sizeof(reason), "%s", r->valuestring);
	if (st) {
		st->code = code;
		st->retry_after = retry_after;
		snprintf(st->reason, sizeof(st->reason), "%s", reason);
		/* A 404 without a Status is the API server's plain "404 page not found": the
		 * path is not served at all, which for a custom resource means its CRD is not
		 * installed. Every caller gets that said, not an empty message. */
		const char *msg = cJSON_IsString(m) ? m->valuestring
				  : code == 404 ? "the API server does not serve this resource (is its "
						  "CRD installed?)"
						: "";
		snprintf(st->message, sizeof(st->message), "%s", msg);
	}
	if (code >= 200 && code < 300)
		return 0;
	switch (code) {
	case 401:
	case 403:
		return MG_EAUTH;
	case 404:
		return MG_ENOTFOUND;
	case 409:
		return strcmp(reason, "AlreadyExists") == 0 ? MG_EEXIST : MG_ECONFLICT;
	case 410:
		return MG_EGONE;
	case 429:
		return MG_ETHROTTLED;
	case 504:
		return MG_ETIMEOUT;
	default:
		return MG_EREMOTE;
	}
}

int mg_k8s__error_from(long code, const char *body, long retry_after, mg_k8s_status *st)
{
	cJSON *s = body ? cJSON_Parse(body) : NULL;
	int rc = error_from_json(code, s, retry_after, st);
	cJSON_Delete(s);
	return rc;
}

int mg_k8s__query(mg_strbuf *sb, const char *key, const char *value)
{
	if (!value || !*value)
		return 0;
	char *esc = curl_easy_escape(NULL, value, 0);
	if (!esc) {
		sb->failed = 1; /* callers check the sticky flag once after building */
		return MG_ENOMEM;
	}
	int rc = mg_strbuf_printf(sb, "%c%s=%s", sb->data && strchr(sb->data, '?') ? '&' : '?',
				  key, esc);
	curl_free(esc);
	return rc;
}

int mg_k8s_path(char **out, const mg_k8s_resource *r, const char *ns, const char *name,
		const char *subresource)
{
	if (!out || !r || !r->version || !r->resource)
		return MG_EINVAL;
	if (r->namespaced && ns && !*ns)
		return MG_EINVAL;
	mg_strbuf sb = MG_STRBUF_INIT;
	if (r->group && *r->group)
		mg_strbuf_printf(&sb, "/apis/%s/%s", r->group, r->version);
	else
		mg_strbuf_printf(&sb, "/api/%s", r->version);
	if (r->namespaced && ns)
		mg_strbuf_printf(&sb, "/namespaces/%s", ns);
	mg_strbuf_printf(&sb, "/%s", r->resource);
	if (name)
		mg_strbuf_printf(&sb, "/%s", name);
	if (name && subresource)
		mg_strbuf_printf(&sb, "/%s", subresource);
	if (sb.failed) {
		mg_strbuf_free(&sb);
		return MG_ENOMEM;
	}
	return mg_strbuf_detach(&sb, out);
}

struct body_sink {
	mg_strbuf *sb;
	size_t max;
};

static size_t write_cb(char *data, size_t size, size_t n, void *userdata)
{
	struct body_sink *s = userdata;
	size_t len = size * n;
	if (s->sb->len + len > s->max)
		return 0; /* curl reports CURLE_WRITE_ERROR: over the limit */
	if (mg_strbuf_append(s->sb, data, len) != 0)
		return 0;
	return len;
}

struct body_source {
	const char *data;
	size_t len, off;
};

/* The request body goes out through a read callback with no seek callback on purpose:
 * when a kept-alive connection turns out dead after the body was sent, curl would retry on
 * a fresh connection, and it can only do that by rewinding the body. Refusing the rewind
 * makes that a CURLE_SEND_FAIL_REWIND the caller sees instead of a silent second write
 * (the first may have been applied). A connection found dead before anything was sent is
 * still replaced quietly: nothing reached the server. */
static size_t read_cb(char *buf, size_t size, size_t n, void *userdata)
{
	struct body_source *src = userdata;
	size_t room = size * n, left = src->len - src->off;
	size_t k = left < room ? left : room;
	memcpy(buf, src->data + src->off, k);
	src->off += k;
	return k;
}

/* One request with a JSON answer, parsed once. */
static int request(mg_k8s_client *c, const char *method, const char *path_query,
		   const char *content_type, const char *body, cJSON **out, mg_k8s_status *st)
{
	int rc;
	struct curl_slist *headers = NULL;
	mg_strbuf resp = MG_STRBUF_INIT;
	struct body_sink sink = {&resp, MG_K8S_MAX_BODY};
	struct body_source src = {body, body ? strlen(body) : 0, 0};
	long retry_after = -1, code = 0;
	cJSON *j = NULL;
	if (st) {
		memset(st, 0, sizeof(*st));
		st->retry_after = -1;
	}
	CURL *h = mg_k8s__handle_take(c);
	if (!h)
		return MG_ENOMEM;
	atomic_fetch_add(&c->requests, 1);
	if ((rc = mg_k8s__setup(c, h, path_query, NULL, &headers)) != 0)
		goto out;
	const char *extra[2] = {NULL, NULL};
	char ct[128];
	if (content_type) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		extra[0] = ct;
	}
	if (body)
		extra[1] = "Expect:"; /* no 100-continue round trip for large bodies */
	for (size_t i = 0; i < 2; i++) {
		if (!extra[i])
			continue;
		struct curl_slist *tmp = curl_slist_append(headers, extra[i]);
		if (!tmp) {
			rc = MG_ENOMEM;
			goto out;
		}
		headers = tmp;
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)src.len);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, &src);
	}
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, mg_k8s__header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &retry_after);
	CURLcode cc = curl_easy_perform(h);
	if (cc == CURLE_SEND_FAIL_REWIND) {
		rc = MG_EIO;
		if (st)
			snprintf(st->message, sizeof(st->message),
				 "the connection closed after the request was sent; it was not "
				 "resent, and may or may not have been applied");
		mg_warn("kubernetes API: connection lost after a write was sent; not resent",
			"method", method, "path", path_query, NULL);
		goto out;
	}
	if (cc != CURLE_OK) {
		rc = mg_k8s__curl_error(cc, st);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (mg_log_enabled(MG_LOG_DEBUG)) {
		char cs[16];
		snprintf(cs, sizeof(cs), "%ld", code);
		/* method, path and status only: never headers (the token) or bodies */
		mg_debug("kubernetes request", "method", method, "path", path_query, "status", cs,
			 NULL);
	}
	bool ok = code >= 200 && code < 300;
	/* Parsed once: the object on success (when wanted), the Status otherwise. */
	if (resp.data && (!ok || out))
		j = cJSON_ParseWithLength(resp.data, resp.len);
	if ((rc = error_from_json(code, j, retry_after, st)) != 0) {
		mg_debug("kubernetes API error", "method", method, "path", path_query, NULL);
		goto out;
	}
	if (out) {
		if (!j) {
			rc = MG_EPARSE;
			if (st)
				snprintf(st->message, sizeof(st->message),
					 "the API server's answer is not JSON");
			goto out;
		}
		*out = j;
		j = NULL;
	}
out:
	cJSON_Delete(j);
	curl_slist_free_all(headers);
	mg_k8s__handle_give(c, h);
	mg_strbuf_free(&resp);
	return rc;
}

int mg_k8s_get(cJSON **out, mg_k8s_client *c, const mg_k8s_resource *r, const char *ns,
	       const char *name, mg_k8s_status *st)
{
	char *path = NULL;
	if (!out || !c || !name)
		return MG_EINVAL;
	int rc = mg_k8s_path(&path, r, ns, name, NULL);
	if (rc == 0)
		rc = request(c, "GET", path, NULL, NULL, out, st);
	free(path);
	return rc;
}

int mg_k8s_list(cJSON **out, mg_k8s_client *c, const mg_k8s_resource *r, const char *ns,
		const mg_k8s_list_opts *opts, mg_k8s_status *st)
{
	char *path = NULL;
	mg_strbuf sb = MG_STRBUF_INIT;
	if (!out || !c)
		return MG_EINVAL;
	int rc = mg_k8s_path(&path, r, ns, NULL, NULL);
	if (rc != 0)
		return rc;
	mg_strbuf_puts(&sb, path);
	if (opts) {
		char lim[32];
		snprintf(lim, sizeof(lim), "%ld", opts->limit);
		mg_k8s__query(&sb, "labelSelector", opts->label_selector);
		mg_k8s__query(&sb, "fieldSelector", opts->field_selector);
		if (opts->limit > 0)
			mg_k8s__query(&sb, "limit", lim);
		mg_k8s__query(&sb, "continue", opts->continue_token);
		mg_k8s__query(&sb, "resourceVersion", opts->resource_version);
	}
	if (sb.failed)
		rc = MG_ENOMEM;
	else
		rc = request(c, "GET", sb.data, NULL, NULL, out, st);
	free(path);
	mg_strbuf_free(&sb);
	return rc;
}

static const char *list_meta(const cJSON *list, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(list, "metadata"), field);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

int mg_k8s_list_all(cJSON **items, char **rv, mg_k8s_client *c, const mg_k8s_resource *r,
		    const char *ns, const mg_k8s_list_opts *opts, mg_k8s_status *st)
{
	int rc, restarts = 0;
	cJSON *all = NULL, *page = NULL;
	char *first_rv = NULL, *cont = NULL;
	mg_k8s_list_opts o = {0};
	if (!items || !c)
		return MG_EINVAL;
	if (opts)
		o = *opts;
restart:
	cJSON_Delete(all);
	free(first_rv);
	free(cont);
	first_rv = cont = NULL;
	o.continue_token = NULL;
	if (!(all = cJSON_CreateArray()))
		return MG_ENOMEM;
	for (;;) {
		rc = mg_k8s_list(&page, c, r, ns, &o, st);
		if (rc == MG_EGONE && o.continue_token && restarts++ == 0)
			goto restart; /* the continue token expired: start over, once */
		if (rc != 0)
			goto out;
		if (!first_rv && !(first_rv = mg_strdup(list_meta(page, "resourceVersion")))) {
			rc = list_meta(page, "resourceVersion") ? MG_ENOMEM : MG_EPARSE;
			goto out;
		}
		cJSON *pitems = cJSON_DetachItemFromObjectCaseSensitive(page, "items");
		cJSON *it;
		while (pitems && (it = cJSON_DetachItemFromArray(pitems, 0))) {
			cJSON_AddItemToArray(all, it);
		}
		cJSON_Delete(pitems);
		const char *next = list_meta(page, "continue");
		free(cont);
		cont = NULL;
		if (next && !(cont = mg_strdup(next))) {
			rc = MG_ENOMEM;
			goto out;
		}
		cJSON_Delete(page);
		page = NULL;
		if (!cont)
			break;
		o.continue_token = cont;
	}
	*items = all;
	all = NULL;
	if (rv) {
		*rv = first_rv;
		first_rv = NULL;
	}
	rc = 0;
out:
	cJSON_Delete(page);
	cJSON_Delete(all);
	free(first_rv);
	free(cont);
	return rc;
}

static const char *obj_name(const cJSON *obj)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "name");
	return cJSON_IsString(n) ? n->valuestring : NULL;
}

static int send_obj(cJSON **out, mg_k8s_client *c, const char *method, const mg_k8s_resource *r,
		    const char *ns, const char *name, const char *sub, const char *ctype,
		    const cJSON *obj, mg_k8s_status *st)
{
	char *path = NULL, *body = NULL;
	int rc = mg_k8s_path(&path, r, ns, name, sub);
	if (rc != 0)
		return rc;
	if (!(body = cJSON_PrintUnformatted(obj))) {
		rc = MG_ENOMEM;
		goto out;
	}
	rc = request(c, method, path, ctype, body, out, st);
out:
	free(path);
	free(body);
	return rc;
}

int mg_k8s_create(cJSON **out, mg_k8s_client *c, const mg_k8s_resource *r, const char *ns,
		  const cJSON *obj, mg_k8s_status *st)
{
	if (!c || !cJSON_IsObject(obj))
		return MG_EINVAL;
	return send_obj(out, c, "POST", r, ns, NULL, NULL, "application/json", obj, st);
}

int mg_k8s_update(cJSON **out, mg_k8s_client *c, const mg_k8s_resource *r, const char *ns,
		  const cJSON *obj, mg_k8s_status *st)
{
	const char *name = obj_name(obj);
	if (!c || !name)
		return MG_EINVAL;
	return send_obj(out, c, "PUT", r, ns, name, NULL, "application/json", obj, st);
}

int mg_k8s_update_status(cJSON **out, mg_k8s_client *c, const mg_k8s_resource *r,
			 const char *ns, const cJSON *obj, mg_k8s_status *st)
{
	const char *name = obj_name(obj);
	if (!c || !name)
		return MG_EINVAL;
	return send_obj(out, c, "PUT", r, ns, name, "status", "application/json", obj, st);
}

int mg_k8s_patch(cJSON **out, mg_k8s_client *c, const mg_k8s_resource *r, const char *ns,
		 const char *name, const char *subresource, enum mg_k8s_patch_type type,
		 const cJSON *patch, mg_k8s_status *st)
{
	static const char *const ctypes[] = {"application/merge-patch+json",
					     "application/json-patch+json",
					     "application/strategic-merge-patch+json"};
	if (!c || !name || !patch || (unsigned)type > MG_K8S_PATCH_STRATEGIC)
		return MG_EINVAL;
	return send_obj(out, c, "PATCH", r, ns, name, subresource, ctypes[type], patch, st);
}

int mg_k8s_delete(mg_k8s_client *c, const mg_k8s_resource *r, const char *ns, const char *name,
		  const char *uid, const char *resource_version, mg_k8s_status *st)
{
	int rc = MG_ENOMEM;
	if (!c || !name)
		return MG_EINVAL;
	cJSON *opts = cJSON_CreateObject();
	cJSON *pre = NULL;
	if (!opts)
		return MG_ENOMEM;
	if (!cJSON_AddStringToObject(opts, "apiVersion", "v1") ||
	    !cJSON_AddStringToObject(opts, "kind", "DeleteOptions"))
		goto out;
	if (uid || resource_version) {
		if (!(pre = cJSON_AddObjectToObject(opts, "preconditions")))
			goto out;
		if (uid && !cJSON_AddStringToObject(pre, "uid", uid))
			goto out;
		if (resource_version && !cJSON_AddStringToObject(pre, "resourceVersion", resource_version))
			goto out;
	}
	rc = send_obj(NULL, c, "DELETE", r, ns, name, NULL, "application/json", opts, st);
out:
	cJSON_Delete(opts);
	return rc;
}

static const char *member_str(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int mg_k8s_event(mg_k8s_client *c, const cJSON *about, const char *type, const char *reason,
		 const char *message, const char *component, mg_k8s_status *st)
{
	const char *name = member_str(about, "metadata", "name");
	const char *ns = member_str(about, "metadata", "namespace");
	if (!c || !name || !type || !reason || !message)
		return MG_EINVAL;
	if (!ns)
		ns = "default"; /* events about cluster-scoped objects go to default, as kubectl shows */
	int rc = MG_ENOMEM;
	char ts[32], rnd[16];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(rnd, sizeof(rnd), "%08lx", (unsigned long)random());
	cJSON *ev = cJSON_CreateObject();
	char *ev_name = mg_asprintf("%s.%lx%s", name, (unsigned long)now, rnd);
	if (!ev || !ev_name)
		goto out;
	cJSON *md = cJSON_AddObjectToObject(ev, "metadata");
	cJSON *inv = cJSON_AddObjectToObject(ev, "involvedObject");
	cJSON *src = cJSON_AddObjectToObject(ev, "source");
	if (!md || !inv || !src || !cJSON_AddStringToObject(ev, "apiVersion", "v1") ||
	    !cJSON_AddStringToObject(ev, "kind", "Event") ||
	    !cJSON_AddStringToObject(md, "name", ev_name) ||
	    !cJSON_AddStringToObject(md, "namespace", ns) ||
	    !cJSON_AddStringToObject(ev, "type", type) ||
	    !cJSON_AddStringToObject(ev, "reason", reason) ||
	    !cJSON_AddStringToObject(ev, "message", message) ||
	    !cJSON_AddStringToObject(ev, "firstTimestamp", ts) ||
	    !cJSON_AddStringToObject(ev, "lastTimestamp", ts) ||
	    !cJSON_AddNumberToObject(ev, "count", 1) ||
	    !cJSON_AddStringToObject(src, "component", component ? component : "mirrorgate"))
		goto out;
	static const char *const copy[][2] = {{"apiVersion", NULL}, {"kind", NULL},
					      {"metadata", "name"}, {"metadata", "namespace"},
					      {"metadata", "uid"}, {"metadata", "resourceVersion"}};
	static const char *const as[] = {"apiVersion", "kind", "name", "namespace", "uid",
					 "resourceVersion"};
	for (size_t i = 0; i < sizeof(as) / sizeof(as[0]); i++) {
		const char *v = member_str(about, copy[i][0], copy[i][1]);
		if (v && !cJSON_AddStringToObject(inv, as[i], v))
			goto out;
	}
	rc = mg_k8s_create(NULL, c, &mg_k8s_res_event, ns, ev, st);
out:
	free(ev_name);
	cJSON_Delete(ev);
	return rc;
}

long mg_k8s_backoff_ms(unsigned attempt, long base_ms, long cap_ms, double rnd)
{
	long d = base_ms;
	for (unsigned i = 0; i < attempt && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	if (rnd < 0)
		rnd = 0;
	if (rnd >= 1)
		rnd = 0.999999;
	return d / 2 + (long)((double)(d - d / 2) * rnd);
}
