/* Shared between the k8s client's request and watch code; not part of the public contract. */
#ifndef MIRRORGATE_K8S_INTERNAL_H
#define MIRRORGATE_K8S_INTERNAL_H

#include <curl/curl.h>

#include "mirrorgate/k8s/client.h"
#include "mirrorgate/util/strbuf.h"

/* Prepares h for a request to url (server + path_query) with auth, TLS and headers.
 * *headers is owned by the caller afterwards (curl_slist_free_all). */
int mg_k8s__setup(mg_k8s_client *c, CURL *h, const char *path_query, const char *accept,
		  struct curl_slist **headers);
/* A curl handle from the client's pool (or a new one), and back into it after the request:
 * reused handles keep their kept-alive connections. take returns NULL on no memory. */
CURL *mg_k8s__handle_take(mg_k8s_client *c);
void mg_k8s__handle_give(mg_k8s_client *c, CURL *h);
/* Maps an HTTP answer (and its metav1.Status body, if any) to an mg_err code. */
int mg_k8s__error_from(long code, const char *body, long retry_after, mg_k8s_status *st);
/* Maps a curl failure to an mg_err code. */
int mg_k8s__curl_error(CURLcode cc, mg_k8s_status *st);
/* Appends "?a=b&c=d" pairs (NULL/empty values skipped), escaping values. */
int mg_k8s__query(mg_strbuf *sb, const char *key, const char *value);
/* curl header callback collecting Retry-After into *(long *)userdata. */
size_t mg_k8s__header_cb(char *buf, size_t size, size_t n, void *userdata);

#endif
