/* A scripted admission webhook over TLS for kube-sim's admission tests. The URL path picks
 * the behaviour: /allow, /warn, /deny403, /deny-nocode, /deny-reason, /patch (adds label
 * mutated=yes), /slow (answers after 3 s), /baduid, /badpatch (validating answer carrying a
 * patch), /http500. */
#ifndef KUBE_WEBHOOK_STUB_H
#define KUBE_WEBHOOK_STUB_H

typedef struct kube_webhook_stub kube_webhook_stub;

int kube_webhook_stub_start(kube_webhook_stub **out);
int kube_webhook_stub_port(const kube_webhook_stub *s);
/* base64 of the CA that signed the stub's certificate (for caBundle); borrowed. */
const char *kube_webhook_stub_ca_b64(const kube_webhook_stub *s);
/* Number of calls to a path, and a copy of the last AdmissionReview posted there (caller
 * frees; NULL when none). */
int kube_webhook_stub_calls(kube_webhook_stub *s, const char *path);
char *kube_webhook_stub_last(kube_webhook_stub *s, const char *path);
void kube_webhook_stub_stop(kube_webhook_stub *s);

#endif
