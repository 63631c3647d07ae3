/* Private to the ONTAP client's lib/ontap/ files: the client object, JSON field readers
 * and the paged collection reader. */
#ifndef MIRRORGATE_ONTAP_INTERNAL_H
#define MIRRORGATE_ONTAP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "mirrorgate/ontap/client.h"

#define MG_ONTAP_POOL_MAX 8

struct mg_ontap_client {
	pthread_mutex_t lock; /* guards the handle pool and the cached version */
	/* Idle handles, each with its kept-alive connection: concurrent requests (several
	 * workers on one SVM, a request held open by return_timeout) each take their own
	 * instead of queueing behind one handle. */
	CURL *idle[MG_ONTAP_POOL_MAX];
	size_t nidle;
	char *base_url;
	char *ca_file;
	char *ca_pem;
	bool insecure;
	char *username;
	char *password;
	char *cert_file;
	char *key_file;
	char *user_agent;
	long timeout_ms;
	long connect_timeout_ms;
	size_t max_response_bytes;
	unsigned page_size;
	uint64_t job_deadline_ms;
	uint64_t job_initial_interval_ms;
	uint64_t job_max_interval_ms;
	unsigned return_timeout_s;
	mg_ontap_now_fn now_ms;
	mg_ontap_sleep_fn sleep_ms;
	void *clock_ctx;
	bool (*may_write)(void *ctx, long needed_ms);
	void *may_write_ctx;
	void (*write_pause_hook)(void *ctx);
	bool have_version;
	mg_ontap_version version;
};

/* Copies a string at a dotted path ("source.svm.name") into dst; "" when absent. Returns
 * MG_EPARSE when the value does not fit (names are never silently truncated). */
int mg_ontap_json_str(char *dst, size_t cap, const cJSON *obj, const char *path);
const cJSON *mg_ontap_json_at(const cJSON *obj, const char *path);
bool mg_ontap_json_bool(const cJSON *obj, const char *path, bool dflt);
long long mg_ontap_json_ll(const cJSON *obj, const char *path, long long dflt);

/* Reads every record of a collection (GET path?query&max_records=N, then _links.next until
 * absent), calling each(record, ctx) for each. `query` excludes max_records. */
typedef int (*mg_ontap_record_fn)(const cJSON *record, void *ctx);
int mg_ontap_collect(mg_ontap_client *c, const char *path, const char *query,
		     mg_ontap_record_fn each, void *ctx, mg_ontap_error *err);

/* One query parameter; a NULL value leaves the parameter out (an optional filter). */
typedef struct mg_ontap_param {
	const char *key;
	const char *value;
} mg_ontap_param;

/* Appends every parameter whose value is not NULL, in order. */
struct mg_strbuf;
int mg_ontap_query_build(struct mg_strbuf *sb, const mg_ontap_param *params, size_t nparams);

/* The "query + collect" of every list getter: GET path with the given parameters into a typed
 * list {items, len}. The list starts empty, each(record, list) adds a record, and on failure
 * the list is freed again, so the caller owns a list only on success. */
int mg_ontap_collect_list(mg_ontap_client *c, const char *path, const mg_ontap_param *params,
			  size_t nparams, mg_ontap_record_fn each, void *list, void **items,
			  size_t *len, mg_ontap_error *err);
#define MG_ONTAP_COLLECT_LIST(c, path, params, each, list, err)                                  \
	mg_ontap_collect_list((c), (path), (params), sizeof(params) / sizeof((params)[0]), (each), \
			      (list), (void **)&(list)->items, &(list)->len, (err))

/* A look-up by name found nothing: MG_ENOTFOUND with ONTAP's own "entry doesn't exist" code,
 * so callers test one error whether ONTAP or the client said it. */
int mg_ontap_not_found(mg_ontap_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends "&key=escaped(value)" (or "?..." when sb is empty) to a query under construction. */
struct mg_strbuf;
int mg_ontap_query_add(struct mg_strbuf *sb, const char *key, const char *value);

/* Fills err for a call with unusable arguments and returns MG_EINVAL. */
int mg_ontap_bad_args(mg_ontap_error *err, const char *function);

/* Grows a typed array by one zeroed element; returns it or NULL when out of memory. */
void *mg_ontap_array_push(void **items, size_t *len, size_t elem_size);
/* Frees what mg_ontap_array_push grew and empties it: every *_list_free is this. */
void mg_ontap_array_free(void **items, size_t *len);

#endif
