/* The ONTAP client's HTTP layer: libcurl with one reused handle per client. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"

static uint64_t default_now_ms(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void default_sleep_ms(void *ctx, uint64_t ms)
{
	(void)ctx;
	struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static CURLcode g_curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
	g_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void mg_ontap_client_free(mg_ontap_client *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nidle; i++)
		curl_easy_cleanup(c->idle[i]);
	pthread_mutex_destroy(&c->lock);
	free(c->base_url);
	free(c->ca_file);
	free(c->ca_pem);
	free(c->username);
	if (c->password) {
		/* The password must not linger in freed memory. */
		volatile char *p = c->password;
		while (*p)
			*p++ = '\0';
		free(c->password);
	}
	free(c->cert_file);
	free(c->key_file);
	free(c->user_agent);
	free(c);
}

static int dup_opt(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = mg_strdup(src);
	return *dst ? 0 : MG_ENOMEM;
}

int mg_ontap_client_new(mg_ontap_client **out, const mg_ontap_config *cfg)
{
	int rc = MG_EINVAL;
	mg_ontap_client *c = NULL;
	if (!out || !cfg || !cfg->base_url)
		goto out;
	if (strncmp(cfg->base_url, "https://", 8) != 0) {
		mg_error("ontap: base_url must start with https://", "base_url", cfg->base_url, NULL);
		goto out;
	}
	bool basic = cfg->username || cfg->password;
	bool cert = cfg->client_cert_file || cfg->client_key_file;
	if (basic == cert || (basic && (!cfg->username || !cfg->password)) ||
	    (cert && (!cfg->client_cert_file || !cfg->client_key_file))) {
		mg_error("ontap: configure exactly one of username+password or client certificate+key",
			 NULL);
		goto out;
	}
	if (!cfg->insecure && !cfg->ca_file && !cfg->ca_pem) {
		mg_error("ontap: a CA (ca_file or ca_pem) is required unless insecure is set", NULL);
		goto out;
	}
	pthread_once(&g_curl_once, curl_init_once);
	if (g_curl_init_rc != CURLE_OK) {
		rc = MG_EIO;
		goto out;
	}
	rc = MG_ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto out;
	pthread_mutex_init(&c->lock, NULL);
	size_t n = strlen(cfg->base_url);
	while (n > 8 && cfg->base_url[n - 1] == '/')
		n--;
	c->base_url = strndup(cfg->base_url, n);
	if (!c->base_url || dup_opt(&c->ca_file, cfg->ca_file) || dup_opt(&c->ca_pem, cfg->ca_pem) ||
	    dup_opt(&c->username, cfg->username) || dup_opt(&c->password, cfg->password) ||
	    dup_opt(&c->cert_file, cfg->client_cert_file) ||
	    dup_opt(&c->key_file, cfg->client_key_file))
		goto out;
	c->user_agent = cfg->user_agent ? mg_strdup(cfg->user_agent) : mg_strdup("mirrorgate/" MG_VERSION);
	if (!c->user_agent)
		goto out;
	c->insecure = cfg->insecure;
	c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
	c->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000;
	c->max_response_bytes = cfg->max_response_bytes ? cfg->max_response_bytes : 16u << 20;
	c->page_size = cfg->page_size ? cfg->page_size : 500;
	c->job_deadline_ms = cfg->job_deadline_ms ? cfg->job_deadline_ms : 120000;
	c->job_initial_interval_ms = cfg->job_initial_interval_ms ? cfg->job_initial_interval_ms : 250;
	c->job_max_interval_ms = cfg->job_max_interval_ms ? cfg->job_max_interval_ms : 4000;
	c->return_timeout_s = cfg->return_timeout_s;
	c->now_ms = cfg->now_ms ? cfg->now_ms : default_now_ms;
	c->sleep_ms = cfg->sleep_ms ? cfg->sleep_ms : default_sleep_ms;
	c->clock_ctx = cfg->clock_ctx;
	c->may_write = cfg->may_write;
	c->may_write_ctx = cfg->may_write_ctx;
	c->write_pause_hook = cfg->write_pause_hook;
	if (!(c->idle[0] = curl_easy_init()))
		goto out;
	c->nidle = 1;
	if (c->insecure)
		mg_warn("ontap: TLS verification disabled (insecure); do not use in production",
			"base_url", c->base_url, NULL);
	*out = c;
	c = NULL;
	rc = 0;
out:
	mg_ontap_client_free(c);
	return rc;
}

typedef struct body_buf {
	mg_strbuf sb;
	size_t max;
	bool too_big;
	mg_ontap_client *client; /* for the write fence at connect time */
	bool fenced;             /* the fence refused as the connection opened */
} body_buf;

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	body_buf *b = userdata;
	size_t n = size * nmemb;
	if (b->sb.len + n > b->max) {
		b->too_big = true;
		return 0;
	}
	if (mg_strbuf_append(&b->sb, ptr, n) != 0)
		return 0;
	return n;
}

static int map_curl_error(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT: return MG_ETIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_INITFAILED: return MG_ETLS;
	default: return MG_EIO;
	}
}

/* A connection that died before any answer: ONTAP closes idle keep-alive connections. */
static bool retryable(CURLcode cc)
{
	return cc == CURLE_GOT_NOTHING || cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR;
}

/* A write's connection is opening (writes always get a fresh one): the last moment to
 * refuse it before a byte leaves. */
static int on_write_socket(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	body_buf *r = clientp;
	mg_ontap_client *c = r->client;
	(void)fd, (void)purpose;
	if (c->write_pause_hook)
		c->write_pause_hook(c->may_write_ctx);
	if (c->may_write && !c->may_write(c->may_write_ctx, c->timeout_ms)) {
		r->fenced = true;
		return CURL_SOCKOPT_ERROR;
	}
	return CURL_SOCKOPT_OK;
}

static CURL *handle_take(mg_ontap_client *c)
{
	CURL *h = NULL;
	pthread_mutex_lock(&c->lock);
	if (c->nidle > 0)
		h = c->idle[--c->nidle];
	pthread_mutex_unlock(&c->lock);
	return h ? h : curl_easy_init();
}

static void handle_give(mg_ontap_client *c, CURL *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->nidle < MG_ONTAP_POOL_MAX) {
		c->idle[c->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_cleanup(h);
}

static int configure(mg_ontap_client *c, CURL *h, const char *method, const char *url,
		     const char *payload, struct curl_slist *headers, body_buf *resp)
{
	/* Reset per-request options but keep the connection cache of this handle. */
	curl_easy_reset(h);
	int bad = 0;
	bad |= curl_easy_setopt(h, CURLOPT_URL, url);
	bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	bad |= curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	if (c->insecure) {
		bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (c->ca_file) {
		bad |= curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	} else {
		struct curl_blob blob = {c->ca_pem, strlen(c->ca_pem), CURL_BLOB_COPY};
		bad |= curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (c->username) {
		bad |= curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		bad |= curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
		bad |= curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
	} else {
		bad |= curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
		bad |= curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
	}
	/* libcurl silently resends a request whose reused connection died without an answer.
	 * For a write that may already have been applied, so writes get a fresh connection
	 * (no silent resend); reads keep reusing theirs. */
	if (strcmp(method, "GET") != 0) {
		bad |= curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
		bad |= curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, on_write_socket);
		bad |= curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, resp);
	}
	if (payload) {
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	}
	return bad ? MG_EINVAL : 0;
}

int mg_ontap_request(mg_ontap_client *c, const char *method, const char *path_and_query,
		     const cJSON *body, int *status, cJSON **response, mg_ontap_error *err)
{
	int rc = MG_EINVAL;
	char *url = NULL, *payload = NULL;
	struct curl_slist *headers = NULL;
	body_buf resp = {MG_STRBUF_INIT, 0, false, c, false};
	cJSON *parsed = NULL;
	long code = 0;
	CURL *h = NULL;
	if (response)
		*response = NULL;
	if (status)
		*status = 0;
	mg_ontap_error_clear(err);
	if (!c || !method || !path_and_query || strncmp(path_and_query, "/api/", 5) != 0) {
		mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT, "invalid request arguments");
		goto out;
	}
	rc = MG_ENOMEM;
	url = mg_asprintf("%s%s", c->base_url, path_and_query);
	if (!url)
		goto out;
	if (body && !(payload = cJSON_PrintUnformatted(body)))
		goto out;
	struct curl_slist *tmp = curl_slist_append(NULL, "Accept: application/hal+json");
	if (!tmp)
		goto out;
	headers = tmp;
	if (payload) {
		if (!(tmp = curl_slist_append(headers, "Content-Type: application/json")))
			goto out;
		headers = tmp;
	}
	resp.max = c->max_response_bytes;

	if (!(h = handle_take(c)))
		goto out;
	uint64_t started = default_now_ms(NULL);
	CURLcode cc = CURLE_OK;
	bool idempotent = strcmp(method, "GET") == 0;
	if (!idempotent && c->may_write && !c->may_write(c->may_write_ctx, c->timeout_ms)) {
		rc = MG_ECONFLICT;
		mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT,
				   "%s %s not sent: leadership is not certain for the request's "
				   "%ld ms timeout",
				   method, path_and_query, c->timeout_ms);
		goto out;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		mg_strbuf_reset(&resp.sb);
		resp.too_big = false;
		if (configure(c, h, method, url, payload, headers, &resp) != 0) {
			rc = MG_EINVAL;
			mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT, "libcurl refused an option");
			goto out;
		}
		cc = curl_easy_perform(h);
		if (!(idempotent && attempt == 0 && retryable(cc)))
			break;
		mg_debug("ontap: connection lost before an answer, retrying once", "method", method,
			 "path", path_and_query, NULL);
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (mg_log_enabled(MG_LOG_DEBUG)) {
		char st[16], ms[32];
		snprintf(st, sizeof(st), "%ld", code);
		snprintf(ms, sizeof(ms), "%llu",
			 (unsigned long long)(default_now_ms(NULL) - started));
		/* Method, path, status and time only: never headers (credentials) or bodies. */
		mg_debug("ontap request", "method", method, "path", path_and_query, "status", st,
			 "ms", ms, NULL);
	}
	if (cc != CURLE_OK) {
		if (resp.fenced) {
			rc = MG_ECONFLICT;
			mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT,
					   "%s %s not sent: leadership was lost before the connection "
					   "opened",
					   method, path_and_query);
		} else if (resp.too_big) {
			rc = MG_ETOOBIG;
			mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT,
					   "response to %s %s exceeds %zu bytes", method,
					   path_and_query, c->max_response_bytes);
		} else {
			rc = map_curl_error(cc);
			mg_ontap_error_set(err, rc, MG_ONTAP_SRC_TRANSPORT, "%s %s: %s", method,
					   path_and_query, curl_easy_strerror(cc));
		}
		goto out;
	}
	handle_give(c, h);
	h = NULL;
	if (status)
		*status = (int)code;
	if (resp.sb.len > 0) {
		parsed = cJSON_ParseWithLength(resp.sb.data, resp.sb.len);
		if (!parsed && code >= 200 && code < 300) {
			rc = MG_EPARSE;
			mg_ontap_error_set(err, rc, MG_ONTAP_SRC_CLIENT,
					   "%s %s: answer is not JSON (HTTP %ld)", method,
					   path_and_query, code);
			if (err)
				err->http_status = (int)code;
			goto out;
		}
	}
	if (code < 200 || code >= 300) {
		mg_ontap_error_from_body(err, (int)code, parsed);
		rc = mg_ontap_error_rc((int)code, err ? err->code : NULL);
		if (err)
			err->rc = rc;
		goto out;
	}
	if (response) {
		*response = parsed;
		parsed = NULL;
	}
	rc = 0;
out:
	handle_give(c, h);
	cJSON_Delete(parsed);
	mg_strbuf_free(&resp.sb);
	curl_slist_free_all(headers);
	free(payload);
	free(url);
	return rc;
}

char *mg_ontap_escape(const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	mg_strbuf sb = MG_STRBUF_INIT;
	char *out = NULL;
	for (const unsigned char *p = (const unsigned char *)(value ? value : ""); *p; p++) {
		/* ONTAP's filter operators (* | ! < >) stay literal so that patterns work. */
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-_.~*|!<>:", *p))
			mg_strbuf_putc(&sb, (char)*p);
		else
			mg_strbuf_printf(&sb, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	if (sb.failed || mg_strbuf_detach(&sb, &out) != 0)
		out = NULL;
	mg_strbuf_free(&sb);
	return out;
}
