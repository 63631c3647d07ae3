/* `mirrorgate certs`: a CA and a serving certificate for the webhook's Service, for clusters
 * without cert-manager (air-gapped labs, kind, CI). Keys are written 0600 and never printed. */
#include "certs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mirrorgate certs --out DIR [--service NAME] [--namespace NS] [--days N]\n"
		"                        [--ip ADDR]...\n"
		"\n"
		"Writes DIR/ca.crt, DIR/tls.crt and DIR/tls.key (mode 0600): a new CA and a serving\n"
		"certificate for https://NAME.NS.svc, and prints the CA bundle, base64-encoded, for\n"
		"the webhook configurations' clientConfig.caBundle. DIR is created if missing.\n"
		"\n"
		"  --service NAME     Service name (default mirrorgate-webhook)\n"
		"  --namespace NS     namespace (default mirrorgate)\n"
		"  --days N           validity in days (default 365; the CA gets ten times that)\n"
		"  --ip ADDR          also an IP address SAN (IPv4 or IPv6; repeatable, up to 8), for\n"
		"                     a webhook reached by URL at an address\n");
}

static int write_pem(const char *dir, const char *name, const char *pem, unsigned mode)
{
	char *path = mg_asprintf("%s/%s", dir, name);
	if (!path)
		return MG_ENOMEM;
	int rc = mg_write_file_atomic(path, pem, strlen(pem), mode);
	if (rc)
		fprintf(stderr, "mirrorgate certs: cannot write %s: %s\n", path, mg_strerror(rc));
	free(path);
	return rc;
}

#define MAX_IPS 8

/* mkdir -p: each missing component of dir, mode 0755 (the key file itself is 0600). */
static int make_dirs(const char *dir)
{
	char *path = mg_strdup(dir);
	if (!path)
		return MG_ENOMEM;
	int rc = 0;
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		struct stat st;
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			fprintf(stderr, "mirrorgate certs: cannot create directory %s: %s\n", path,
				strerror(errno));
			rc = MG_EIO;
		} else if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "mirrorgate certs: %s exists and is not a directory\n", path);
			rc = MG_EIO;
		}
		*p = saved;
		if (rc || saved == '\0')
			break;
	}
	free(path);
	return rc;
}

static char *base64(const char *data)
{
	size_t n = strlen(data);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)n);
	return out;
}

int mg_cli_certs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"out", required_argument, NULL, 'o'},	     {"service", required_argument, NULL, 's'},
		{"namespace", required_argument, NULL, 'n'}, {"days", required_argument, NULL, 'd'},
		{"ip", required_argument, NULL, 'i'},	     {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *ips[MAX_IPS];
	size_t nips = 0;
	const char *out = NULL, *service = "mirrorgate-webhook", *ns = "mirrorgate";
	long days = 365;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:s:n:d:h", longopts, NULL)) != -1) {
		char *end;
		unsigned char addr[16];
		switch (c) {
		case 'i':
			if (inet_pton(AF_INET, optarg, addr) != 1 &&
			    inet_pton(AF_INET6, optarg, addr) != 1) {
				fprintf(stderr, "mirrorgate certs: --ip %s is not an IPv4 or IPv6 "
						"address\n", optarg);
				return 2;
			}
			if (nips == MAX_IPS) {
				fprintf(stderr, "mirrorgate certs: at most %d --ip\n", MAX_IPS);
				return 2;
			}
			ips[nips++] = optarg;
			break;
		case 'o': out = optarg; break;
		case 's': service = optarg; break;
		case 'n': ns = optarg; break;
		case 'd':
			days = strtol(optarg, &end, 10);
			if (*end || days < 1 || days > 3650) {
				fprintf(stderr, "mirrorgate certs: --days must be 1..3650\n");
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!out) {
		fprintf(stderr, "mirrorgate certs: --out DIR is required\n");
		usage(stderr);
		return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "mirrorgate certs: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	mg_pem_pair ca = {0}, leaf = {0};
	char *sans[4 + MAX_IPS] = {mg_asprintf("DNS:%s", service),
				   mg_asprintf("DNS:%s.%s", service, ns),
				   mg_asprintf("DNS:%s.%s.svc", service, ns),
				   mg_asprintf("DNS:%s.%s.svc.cluster.local", service, ns)};
	size_t nsans = 4 + nips;
	for (size_t i = 0; i < nips; i++)
		sans[4 + i] = mg_asprintf("IP:%s", ips[i]);
	char *cn = mg_asprintf("%s.%s.svc", service, ns), *bundle = NULL;
	int rc = MG_ENOMEM;
	for (size_t i = 0; i < nsans; i++)
		if (!sans[i])
			goto out;
	if (!cn)
		goto out;
	if ((rc = make_dirs(out)))
		goto out;
	if ((rc = mg_tls_make_ca(&ca, "mirrorgate-webhook-ca", (int)days * 10)) ||
	    (rc = mg_tls_make_leaf(&leaf, &ca, cn, (const char *const *)sans, nsans, (int)days,
				   false)))
		goto out;
	if ((rc = write_pem(out, "ca.crt", ca.cert_pem, 0644)) ||
	    (rc = write_pem(out, "tls.crt", leaf.cert_pem, 0644)) ||
	    (rc = write_pem(out, "tls.key", leaf.key_pem, 0600)))
		goto out;
	if (!(bundle = base64(ca.cert_pem))) {
		rc = MG_ENOMEM;
		goto out;
	}
	fprintf(stderr, "wrote %s/ca.crt, %s/tls.crt, %s/tls.key for %s (valid %ld days)\n", out,
		out, out, cn, days);
	printf("%s\n", bundle);
out:
	if (rc && rc != MG_EIO)
		fprintf(stderr, "mirrorgate certs: %s\n", mg_strerror(rc));
	for (size_t i = 0; i < 4 + MAX_IPS; i++)
		free(sans[i]);
	free(cn);
	free(bundle);
	mg_pem_pair_free(&ca);
	mg_pem_pair_free(&leaf);
	return rc ? 1 : 0;
}
