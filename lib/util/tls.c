#include "mirrorgate/util/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

static EVP_PKEY *new_key(void)
{
	return EVP_EC_gen("P-256");
}

static char *bio_to_string(BIO *bio)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);
	if (len < 0)
		return NULL;
	char *out = malloc((size_t)len + 1);
	if (!out)
		return NULL;
	memcpy(out, data, (size_t)len);
	out[len] = '\0';
	return out;
}

static int encode(X509 *cert, EVP_PKEY *key, mg_pem_pair *out)
{
	int rc = MG_ENOMEM;
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	if (!cb || !kb)
		goto out;
	rc = MG_ETLS;
	if (!PEM_write_bio_X509(cb, cert) ||
	    !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL))
		goto out;
	rc = MG_ENOMEM;
	out->cert_pem = bio_to_string(cb);
	out->key_pem = bio_to_string(kb);
	if (!out->cert_pem || !out->key_pem) {
		mg_pem_pair_free(out);
		goto out;
	}
	rc = 0;
out:
	BIO_free(cb);
	BIO_free(kb);
	return rc;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return MG_ETLS;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : MG_ETLS;
}

static X509 *new_cert_window(EVP_PKEY *key, const char *cn, long not_before_s, long not_after_s);

static X509 *new_cert(EVP_PKEY *key, const char *cn, int days)
{
	/* Backdated an hour so that clocks slightly behind ours still accept it. */
	return new_cert_window(key, cn, -3600, (long)days * 86400);
}

static X509 *new_cert_window(EVP_PKEY *key, const char *cn, long not_before_s, long not_after_s)
{
	X509 *cert = X509_new();
	if (!cert)
		return NULL;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
		goto fail;
	BN_free(bn);
	bn = NULL;
	if (!X509_set_version(cert, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert), not_before_s) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), not_after_s) ||
	    !X509_set_pubkey(cert, key))
		goto fail;
	X509_NAME *name = X509_get_subject_name(cert);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0))
		goto fail;
	return cert;
fail:
	BN_free(bn);
	X509_free(cert);
	return NULL;
}

int mg_tls_make_ca(mg_pem_pair *out, const char *common_name, int days)
{
	int rc = MG_ETLS;
	X509 *cert = NULL;
	EVP_PKEY *key = new_key();
	if (!key || !(cert = new_cert(key, common_name, days)))
		goto out;
	if (!X509_set_issuer_name(cert, X509_get_subject_name(cert)))
		goto out;
	if (add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE") ||
	    add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") ||
	    add_ext(cert, cert, NID_subject_key_identifier, "hash"))
		goto out;
	if (!X509_sign(cert, key, EVP_sha256()))
		goto out;
	rc = encode(cert, key, out);
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

static int load_pair(const mg_pem_pair *pair, X509 **cert, EVP_PKEY **key)
{
	BIO *cb = BIO_new_mem_buf(pair->cert_pem, -1);
	BIO *kb = BIO_new_mem_buf(pair->key_pem, -1);
	*cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	*key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	BIO_free(cb);
	BIO_free(kb);
	if (*cert && *key)
		return 0;
	X509_free(*cert);
	EVP_PKEY_free(*key);
	*cert = NULL;
	*key = NULL;
	return MG_EPARSE;
}

int mg_tls_make_leaf(mg_pem_pair *out, const mg_pem_pair *ca, const char *common_name,
		     const char *const *sans, size_t nsans, int days, bool client)
{
	return mg_tls_make_leaf_window(out, ca, common_name, sans, nsans, -3600,
				       (long)days * 86400, client);
}

int mg_tls_make_leaf_window(mg_pem_pair *out, const mg_pem_pair *ca, const char *common_name,
			    const char *const *sans, size_t nsans, long not_before_s,
			    long not_after_s, bool client)
{
	int rc;
	X509 *ca_cert = NULL, *cert = NULL;
	EVP_PKEY *ca_key = NULL, *key = NULL;
	mg_strbuf san = MG_STRBUF_INIT;
	if ((rc = load_pair(ca, &ca_cert, &ca_key)))
		goto out;
	rc = MG_ETLS;
	if (!(key = new_key()) || !(cert = new_cert_window(key, common_name, not_before_s, not_after_s)))
		goto out;
	if (!X509_set_issuer_name(cert, X509_get_subject_name(ca_cert)))
		goto out;
	for (size_t i = 0; i < nsans; i++)
		mg_strbuf_printf(&san, "%s%s", i ? "," : "", sans[i]);
	if (san.failed) {
		rc = MG_ENOMEM;
		goto out;
	}
	if (add_ext(cert, ca_cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(cert, ca_cert, NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
	    add_ext(cert, ca_cert, NID_ext_key_usage, client ? "clientAuth" : "serverAuth") ||
	    add_ext(cert, ca_cert, NID_authority_key_identifier, "keyid:always") ||
	    (nsans && add_ext(cert, ca_cert, NID_subject_alt_name, san.data)))
		goto out;
	if (!X509_sign(cert, ca_key, EVP_sha256()))
		goto out;
	rc = encode(cert, key, out);
out:
	mg_strbuf_free(&san);
	X509_free(ca_cert);
	X509_free(cert);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	return rc;
}

int mg_tls_cert_not_after(const char *cert_pem, time_t *out)
{
	BIO *bio = BIO_new_mem_buf(cert_pem, -1);
	X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (!cert)
		return MG_EPARSE;
	struct tm tm;
	int ok = ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm);
	X509_free(cert);
	if (!ok)
		return MG_EPARSE;
	*out = timegm(&tm);
	return 0;
}

int mg_tls_check_pair(const char *cert_pem, const char *key_pem)
{
	mg_pem_pair pair = {(char *)cert_pem, (char *)key_pem};
	X509 *cert;
	EVP_PKEY *key;
	int rc = load_pair(&pair, &cert, &key);
	if (rc)
		return rc;
	rc = X509_check_private_key(cert, key) == 1 ? 0 : MG_ETLS;
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

void mg_pem_pair_free(mg_pem_pair *pair)
{
	if (!pair)
		return;
	free(pair->cert_pem);
	if (pair->key_pem) {
		OPENSSL_cleanse(pair->key_pem, strlen(pair->key_pem));
		free(pair->key_pem);
	}
	pair->cert_pem = pair->key_pem = NULL;
}

