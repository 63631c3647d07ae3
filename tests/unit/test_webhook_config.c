/* mirrorgate-webhook flags, environment and config file: precedence and errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/tls.h"

static const char *const *g_env;

static const char *fake_env(const char *name)
{
	for (size_t i = 0; g_env && g_env[i]; i += 2) {
		if (strcmp(g_env[i], name) == 0)
			return g_env[i + 1];
	}
	return NULL;
}

static int parse(mg_wh_config *cfg, char **err, int argc, char **argv)
{
	return mg_wh_config_parse(cfg, argc, argv, fake_env, err);
}

Test(webhook_config, defaults_with_self_signed)
{
	char *argv[] = {"mirrorgate-webhook", "--self-signed"};
	mg_wh_config cfg;
	char *err = NULL;
	g_env = NULL;
	cr_assert_eq(parse(&cfg, &err, 2, argv), 0, "%s", err);
	cr_assert_str_eq(cfg.address, "0.0.0.0");
	cr_assert_eq(cfg.port, 8443);
	cr_assert(cfg.self_signed);
	cr_assert_str_eq(cfg.log_level, "info");
	cr_assert_eq(cfg.max_connections, 512);
	cr_assert_eq(cfg.max_connections_per_client, 128);
	cr_assert_eq(cfg.header_timeout, 10);
	cr_assert_null(cfg.state_dir);
	cr_assert_not(cfg.help);
	mg_wh_config_free(&cfg);
	mg_wh_config_free(&cfg); /* idempotent */
}

Test(webhook_config, flags_beat_env_which_beats_file)
{
	char path[] = "/tmp/mg-wh-config-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	const char *yaml = "# settings\nport: 7000\nlog-level: warn\nstate-dir: /from/file\n"
			   "address: 10.0.0.1\nself-signed: true\n";
	cr_assert_eq(mg_write_file_atomic(path, yaml, strlen(yaml), 0600), 0);
	const char *env[] = {"MIRRORGATE_PORT", "7100", "MIRRORGATE_LOG_LEVEL", "debug",
			     "MIRRORGATE_CONFIG", path, NULL};
	g_env = env;
	char *argv[] = {"w", "--port=7200", "--address", "127.0.0.1"};
	mg_wh_config cfg;
	char *err = NULL;
	cr_assert_eq(parse(&cfg, &err, 4, argv), 0, "%s", err);
	cr_assert_eq(cfg.port, 7200, "flag wins");
	cr_assert_str_eq(cfg.address, "127.0.0.1", "flag wins over file");
	cr_assert_str_eq(cfg.log_level, "debug", "env wins over file");
	cr_assert_str_eq(cfg.state_dir, "/from/file", "file wins over default");
	cr_assert(cfg.self_signed);
	mg_wh_config_free(&cfg);
	g_env = NULL;
	unlink(path);
}

struct bad {
	int argc;
	char *argv[6];
	const char *message;
};

Test(webhook_config, errors_name_the_flag)
{
	static struct bad cases[] = {
		{2, {"w", "--port=70000"}, "--port: expected an integer from 0 to 65535, got \"70000\""},
		{3, {"w", "--port", "12ab"}, "--port: expected an integer from 0 to 65535, got \"12ab\""},
		{2, {"w", "--bogus"}, "unknown flag \"--bogus\" (see --help)"},
		{2, {"w", "stray"}, "unexpected argument \"stray\" (see --help)"},
		{2, {"w", "--state-dir"}, "flag --state-dir needs a value"},
		{2, {"w", "--self-signed=maybe"}, "--self-signed: expected true or false, got \"maybe\""},
		{1, {"w"}, "a serving certificate is required: --tls-cert-file and --tls-key-file, or "
			   "--self-signed"},
		{3, {"w", "--self-signed", "--tls-cert-file=x"},
		 "--self-signed and --tls-cert-file/--tls-key-file are exclusive"},
		{4, {"w", "--tls-cert-file=a", "--tls-key-file=b", "--ca-out=c"},
		 "--ca-out only applies with --self-signed"},
		{4, {"w", "--self-signed", "--kubeconfig=/k", "--in-cluster"},
		 "--kubeconfig and --in-cluster are exclusive"},
		{4, {"w", "--self-signed", "--kubeconfig=/k", "--state-dir=/s"},
		 "--state-dir is for running without a cluster; it cannot be combined with "
		 "--kubeconfig or --in-cluster"},
		{3, {"w", "--self-signed", "--config=/nonexistent/x.yaml"},
		 "--config /nonexistent/x.yaml: not found"},
	};
	g_env = NULL;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mg_wh_config cfg;
		char *err = NULL;
		cr_assert_neq(parse(&cfg, &err, cases[i].argc, cases[i].argv), 0, "case %zu", i);
		cr_assert_str_eq(err, cases[i].message, "case %zu", i);
		free(err);
	}
}

Test(webhook_config, bad_env_and_bad_file_are_reported)
{
	const char *env[] = {"MIRRORGATE_MAX_CONNECTIONS", "0", NULL};
	g_env = env;
	char *argv[] = {"w", "--self-signed"};
	mg_wh_config cfg;
	char *err = NULL;
	cr_assert_eq(parse(&cfg, &err, 2, argv), MG_EINVAL);
	cr_assert_str_eq(err, "MIRRORGATE_MAX_CONNECTIONS: expected an integer from 1 to 100000, "
			      "got \"0\"");
	free(err);
	g_env = NULL;

	char path[] = "/tmp/mg-wh-config-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	const char *yaml = "port: 1\nnot-a-setting: 3\n";
	cr_assert_eq(mg_write_file_atomic(path, yaml, strlen(yaml), 0600), 0);
	char *argv2[] = {"w", "--self-signed", "--config", path};
	err = NULL;
	cr_assert_eq(parse(&cfg, &err, 4, argv2), MG_EINVAL);
	cr_assert_not_null(strstr(err, ":2: unknown setting \"not-a-setting\""), "%s", err);
	free(err);
	const char *list = "[1, 2]\n";
	cr_assert_eq(mg_write_file_atomic(path, list, strlen(list), 0600), 0);
	err = NULL;
	int rc = parse(&cfg, &err, 4, argv2);
	cr_assert_eq(rc, MG_EINVAL, "%d %s", rc, err);
	cr_assert_not_null(strstr(err, "expected one mapping"), "%s", err);
	free(err);
	unlink(path);
}

Test(webhook_config, help_is_not_an_error)
{
	char *argv[] = {"w", "--help"};
	mg_wh_config cfg;
	char *err = NULL;
	g_env = NULL;
	cr_assert_eq(parse(&cfg, &err, 2, argv), 0);
	cr_assert(cfg.help);
	mg_wh_config_free(&cfg);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	mg_wh_config_usage(f);
	fclose(f);
	cr_assert(strstr(buf, "--tls-cert-file VALUE"));
	cr_assert(strstr(buf, "MIRRORGATE_<FLAG>"));
	cr_assert(strstr(buf, "(default 8443)"));
	free(buf);
}

/* The convention every binary shares (mirrorgate/util/cli.h). */
Test(webhook_config, bool_flag_takes_a_following_word_or_stands_alone)
{
	char *argv[] = {"w", "--self-signed", "false", "--tls-cert-file=/c", "--tls-key-file",
			"/k", "--in-cluster", "--topology-namespace", "mirrorgate"};
	mg_wh_config cfg;
	char *err = NULL;
	g_env = NULL;
	cr_assert_eq(parse(&cfg, &err, 9, argv), 0, "%s", err);
	cr_assert_not(cfg.self_signed);
	cr_assert(cfg.in_cluster);
	cr_assert_str_eq(cfg.topology_namespace, "mirrorgate");
	cr_assert_str_eq(cfg.tls_key_file, "/k");
	mg_wh_config_free(&cfg);
}

Test(webhook_config, version_flag_and_env_topology_namespace)
{
	const char *env[] = {"MIRRORGATE_TOPOLOGY_NAMESPACE", "ops", NULL};
	g_env = env;
	char *argv[] = {"w", "--version"};
	mg_wh_config cfg;
	char *err = NULL;
	cr_assert_eq(parse(&cfg, &err, 2, argv), 0, "%s", err);
	cr_assert(cfg.version);
	cr_assert_str_eq(cfg.topology_namespace, "ops");
	mg_wh_config_free(&cfg);
}

Test(webhook_config, flag_errors_name_the_flag)
{
	static const struct {
		int argc;
		char *argv[3];
		const char *want;
	} cases[] = {
		{2, {"w", "--no-such-flag=1"}, "unknown flag \"--no-such-flag\""},
		{2, {"w", "--port"}, "flag --port needs a value"},
		{3, {"w", "--self-signed", "extra"}, "unexpected argument \"extra\""},
		{2, {"w", "--self-signed=maybe"}, "--self-signed: expected true or false"},
		{2, {"w", "--port=x"}, "--port: expected an integer"},
	};
	g_env = NULL;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mg_wh_config cfg;
		char *err = NULL;
		cr_expect_eq(parse(&cfg, &err, cases[i].argc, (char **)cases[i].argv), MG_EINVAL,
			     "case %zu", i);
		cr_expect(err && strstr(err, cases[i].want), "case %zu: %s", i, err);
		free(err);
	}
}
