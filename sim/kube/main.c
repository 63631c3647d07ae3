/* kube-sim: flags, certificates, the kubeconfig it writes for kubectl, and signal handling.
 * The engine is in server.c and friends. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ksim.h"
#include "prov.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/log.h"
#include "mirrorgate/util/strbuf.h"
#include "mirrorgate/util/tls.h"

static void usage(FILE *f)
{
	fputs("usage: kube-sim [options]\n"
	      "  --address A            listen address (default 127.0.0.1)\n"
	      "  --port N               listen port (default 0: any free port)\n"
	      "  --port-file F          write the bound port to F once serving\n"
	      "  --kubeconfig-out F     write a kubeconfig for kubectl (CA and token) to F\n"
	      "  --ca-out F             write the serving CA certificate (PEM) to F\n"
	      "  --crds DIR             load CustomResourceDefinitions from DIR (*.yaml); twice\n"
	      "                         for a second directory (Trident's other CRDs)\n"
	      "  --request-log F        append one line per API request to F: method, path,\n"
	      "                         status, User-Agent (tests assert who wrote what)\n"
	      "  --token T              accepted bearer token (default: a random one)\n"
	      "  --token-file F         also accept each line of F (re-read per request)\n"
	      "  --history N            watch events kept before versions expire (410); 1000\n"
	      "  --bookmark-interval-ms N  bookmark period on watches that allow them; 5000\n"
	      "  --snapshot F           write the whole state as JSON to F after each change\n"
	      "  --provisioner F        run the built-in Trident-like provisioner with the ONTAP\n"
	      "                         backends in F (YAML; docs/kube-sim.md)\n"
	      "  --without-resource GROUP/RESOURCE  do not serve this built-in kind (404, as\n"
	      "                         without its CRD), e.g.\n"
	      "                         snapshot.storage.k8s.io/volumesnapshots; repeatable\n"
	      "  --log-level L          debug, info, warn, error\n",
	      f);
}

static long parse_long(const char *s, long min, long max, const char *flag)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max) {
		fprintf(stderr, "kube-sim: %s wants a number in [%ld, %ld], got \"%s\"\n", flag, min,
			max, s);
		exit(2);
	}
	return v;
}

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static int write_kubeconfig(const char *path, int port, const char *ca_pem, const char *token)
{
	char *ca = b64(ca_pem);
	if (!ca)
		return MG_ENOMEM;
	char *text = mg_asprintf("apiVersion: v1\n"
				 "kind: Config\n"
				 "clusters:\n"
				 "- name: kube-sim\n"
				 "  cluster:\n"
				 "    server: https://127.0.0.1:%d\n"
				 "    certificate-authority-data: %s\n"
				 "users:\n"
				 "- name: kube-sim-user\n"
				 "  user:\n"
				 "    token: %s\n"
				 "contexts:\n"
				 "- name: kube-sim\n"
				 "  context:\n"
				 "    cluster: kube-sim\n"
				 "    user: kube-sim-user\n"
				 "    namespace: default\n"
				 "current-context: kube-sim\n",
				 port, ca, token);
	free(ca);
	if (!text)
		return MG_ENOMEM;
	int rc = mg_write_file_atomic(path, text, strlen(text), 0600);
	memset(text, 0, strlen(text));
	free(text);
	return rc;
}

int main(int argc, char **argv)
{
	ksim_options opt = {0};
	const char *port_file = NULL, *kubeconfig_out = NULL, *ca_out = NULL;
	char token_buf[33] = "";
	opt.address = "127.0.0.1";
	opt.history = 1000;
	opt.bookmark_ms = 5000;
	enum { O_ADDR = 1, O_PORT, O_PORTFILE, O_KCFG, O_CA, O_CRDS, O_TOKEN, O_TOKENFILE,
	       O_HIST, O_BM, O_SNAP, O_LOG, O_PROV, O_WITHOUT, O_HELP,
	       O_REQLOG };
	const char *prov_file = NULL;
	const char *without[32];
	opt.without = without;
	static const struct option longopts[] = {
		{"address", required_argument, NULL, O_ADDR},
		{"port", required_argument, NULL, O_PORT},
		{"port-file", required_argument, NULL, O_PORTFILE},
		{"kubeconfig-out", required_argument, NULL, O_KCFG},
		{"ca-out", required_argument, NULL, O_CA},
		{"crds", required_argument, NULL, O_CRDS},
		{"token", required_argument, NULL, O_TOKEN},
		{"token-file", required_argument, NULL, O_TOKENFILE},
		{"history", required_argument, NULL, O_HIST},
		{"bookmark-interval-ms", required_argument, NULL, O_BM},
		{"snapshot", required_argument, NULL, O_SNAP},
		{"log-level", required_argument, NULL, O_LOG},
		{"provisioner", required_argument, NULL, O_PROV},
		{"without-resource", required_argument, NULL, O_WITHOUT},
		{"request-log", required_argument, NULL, O_REQLOG},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_ADDR: opt.address = optarg; break;
		case O_PORT: opt.port = (int)parse_long(optarg, 0, 65535, "--port"); break;
		case O_PORTFILE: port_file = optarg; break;
		case O_KCFG: kubeconfig_out = optarg; break;
		case O_CA: ca_out = optarg; break;
		case O_CRDS:
			if (opt.crd_dir && opt.crd_dir2) {
				fprintf(stderr, "kube-sim: --crds at most twice\n");
				return 2;
			}
			if (opt.crd_dir)
				opt.crd_dir2 = optarg;
			else
				opt.crd_dir = optarg;
			break;
		case O_REQLOG: opt.request_log = optarg; break;
		case O_TOKEN: opt.token = optarg; break;
		case O_TOKENFILE: opt.token_file = optarg; break;
		case O_HIST: opt.history = (size_t)parse_long(optarg, 1, 10000000, "--history"); break;
		case O_BM: opt.bookmark_ms = parse_long(optarg, 10, 3600000, "--bookmark-interval-ms"); break;
		case O_SNAP: opt.snapshot = optarg; break;
		case O_PROV: prov_file = optarg; break;
		case O_WITHOUT:
			if (opt.nwithout == sizeof(without) / sizeof(without[0])) {
				fprintf(stderr, "kube-sim: too many --without-resource flags\n");
				return 2;
			}
			without[opt.nwithout++] = optarg;
			break;
		case O_LOG: {
			enum mg_log_level l;
			if (mg_log_parse_level(optarg, &l) != 0) {
				fprintf(stderr, "kube-sim: unknown log level \"%s\"\n", optarg);
				return 2;
			}
			mg_log_set_level(l);
			break;
		}
		case O_HELP: usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	/* A kind that is not a removable built-in is a usage error, found before anything starts. */
	for (size_t i = 0; i < opt.nwithout; i++) {
		ksim_types probe;
		char twhy[256] = "";
		int trc = ksim_types_init(&probe);
		if (trc == 0)
			trc = ksim_types_remove(&probe, without[i], twhy, sizeof(twhy));
		ksim_types_free(&probe);
		if (trc != 0) {
			fprintf(stderr, "kube-sim: --without-resource %s: %s\n", without[i],
				twhy[0] ? twhy : mg_strerror(trc));
			return 2;
		}
	}
	/* The provisioner's file is checked before anything starts: a bad one is a clear exit. */
	ksim_prov_config prov_cfg = {0};
	if (prov_file) {
		char pwhy[512] = "";
		if (ksim_prov_config_load(&prov_cfg, prov_file, pwhy, sizeof(pwhy)) != 0) {
			fprintf(stderr, "kube-sim: --provisioner %s: %s\n", prov_file, pwhy);
			return 2;
		}
		opt.provisioner = &prov_cfg;
	}
	if (!opt.token) {
		unsigned char raw[16];
		if (RAND_bytes(raw, sizeof(raw)) != 1) {
			fprintf(stderr, "kube-sim: no randomness for a token\n");
			ksim_prov_config_free(&prov_cfg);
			return 1;
		}
		for (size_t i = 0; i < sizeof(raw); i++)
			snprintf(token_buf + 2 * i, 3, "%02x", raw[i]);
		opt.token = token_buf;
	}
	/* Signals are taken synchronously by main; the server threads never see them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	mg_pem_pair ca = {0}, leaf = {0};
	char *san_ip = mg_asprintf("IP:%s", opt.address);
	const char *sans[] = {"DNS:localhost", "IP:127.0.0.1", san_ip};
	int rc;
	if (!san_ip || (rc = mg_tls_make_ca(&ca, "kube-sim-ca", 30)) != 0 ||
	    (rc = mg_tls_make_leaf(&leaf, &ca, "kube-sim", sans,
				   strcmp(opt.address, "127.0.0.1") == 0 ? 2 : 3, 30, false)) != 0) {
		fprintf(stderr, "kube-sim: cannot make certificates\n");
		ksim_prov_config_free(&prov_cfg);
		return 1;
	}
	free(san_ip);
	opt.cert_pem = leaf.cert_pem;
	opt.key_pem = leaf.key_pem;
	ksim_server *srv = NULL;
	char why[512] = "";
	if ((rc = ksim_server_start(&srv, &opt, why, sizeof(why))) != 0) {
		fprintf(stderr, "kube-sim: %s (%s)\n", why[0] ? why : "cannot start", mg_strerror(rc));
		mg_pem_pair_free(&ca);
		mg_pem_pair_free(&leaf);
		ksim_prov_config_free(&prov_cfg);
		return 1;
	}
	int status = 0;
	char portbuf[16];
	snprintf(portbuf, sizeof(portbuf), "%d", srv->port);
	if (ca_out && mg_write_file_atomic(ca_out, ca.cert_pem, strlen(ca.cert_pem), 0644) != 0) {
		fprintf(stderr, "kube-sim: cannot write %s\n", ca_out);
		status = 1;
	}
	if (!status && kubeconfig_out &&
	    write_kubeconfig(kubeconfig_out, srv->port, ca.cert_pem, opt.token) != 0) {
		fprintf(stderr, "kube-sim: cannot write %s\n", kubeconfig_out);
		status = 1;
	}
	/* The port file comes last: its appearance means everything else is ready. */
	if (!status && port_file && mg_write_file_atomic(port_file, portbuf, strlen(portbuf), 0644) != 0) {
		fprintf(stderr, "kube-sim: cannot write %s\n", port_file);
		status = 1;
	}
	if (!status) {
		printf("%d\n", srv->port);
		fflush(stdout);
		mg_info("kube-sim serving", "address", opt.address, "port", portbuf, "crds",
			opt.crd_dir, "provisioner", prov_file, NULL);
		int sig;
		sigwait(&set, &sig);
		mg_info("kube-sim stopping", NULL);
	}
	ksim_server_stop(srv);
	mg_pem_pair_free(&ca);
	mg_pem_pair_free(&leaf);
	ksim_prov_config_free(&prov_cfg);
	return status;
}
