/* The reconciler's configuration file, credentials (re-read on change, never echoed),
 * flags, and the Prometheus registry's text format. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "flags.h"
#include "rmetrics.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/tls.h"

static int parse(const char *text, mg_config *c, char *why)
{
	return mg_config_parse(c, text, strlen(text), why, 256);
}

Test(reconcile_config, parses_backends)
{
	mg_config c;
	char why[256] = "";
	cr_assert_eq(parse("backends:\n"
			   "- {name: b, managementLIF: 10.0.0.2, svm: svm-b, credentialsFile: /c,"
			   " trustedCAFile: /ca, replicationPolicy: MirrorAllSnapshots,"
			   " replicationSchedule: 5min}\n"
			   "- {name: c, managementLIF: 'https://h:8443', svm: svm-c,"
			   " credentialsFile: /d, trustedCAFile: /ca.pem}\n",
			   &c, why),
		     0, "%s", why);
	cr_assert_eq(c.nbackends, 2);
	cr_expect_str_eq(c.backends[0].url, "https://10.0.0.2");
	cr_expect_str_eq(c.backends[0].policy, "MirrorAllSnapshots");
	cr_expect_str_eq(c.backends[0].schedule, "5min");
	cr_expect_str_eq(c.backends[1].url, "https://h:8443");
	cr_expect_str_eq(c.backends[1].ca_file, "/ca.pem");
	cr_expect_str_eq(c.mode, "", "no mode: the flag or auto decides");
	mg_config_free(&c);
	mg_config_free(NULL);
	cr_assert_eq(parse("mode: companion\nbackends:\n"
			   "- {name: b, managementLIF: h, svm: s, credentialsFile: /c,"
			   " trustedCAFile: /ca}\n",
			   &c, why),
		     0, "%s", why);
	cr_expect_str_eq(c.mode, "companion");
	mg_config_free(&c);
}

Test(reconcile_config, rejects_bad_files_with_the_place)
{
	static const struct {
		const char *text, *why;
	} rows[] = {
		{"", "non-empty backends list"},
		{"backends: []\n", "non-empty backends list"},
		{"backends: {a: b}\n", "non-empty backends list"},
		{"backends: [x]\n", "backends[0]: must be a mapping"},
		{"mode: both\nbackends: [x]\n", "mode: must be auto, controller or companion"},
		{"mode: [companion]\nbackends: [x]\n", "mode: must be auto"},
		{"backends: [{managementLIF: a, svm: s, credentialsFile: c, trustedCAFile: t}]\n",
		 "backends[0].name: required"},
		{"backends: [{name: a, managementLIF: 3, svm: s, credentialsFile: c, trustedCAFile: t}]\n",
		 "backends[0].managementLIF: must be a non-empty string"},
		{"backends: [{name: a, managementLIF: 'http://x', svm: s, credentialsFile: c,"
		 " trustedCAFile: t}]\n",
		 "https only"},
		{"backends: [{name: a, managementLIF: x, svm: s, credentialsFile: c, trustedCAFile: t},"
		 " {name: a, managementLIF: x2, svm: t, credentialsFile: d, trustedCAFile: t}]\n",
		 "backends[1]: name and svm must be unique"},
		{"backends: [{name: a, managementLIF: x, svm: s, trustedCAFile: t}]\n",
		 "backends[0].credentialsFile: required"},
		{"backends: [{name: a, managementLIF: x, svm: s, credentialsFile: c}]\n",
		 "backends[0].trustedCAFile: required"},
		{"backends:\n  - [\n", "line"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		mg_config c;
		char why[256] = "";
		cr_expect_eq(parse(rows[i].text, &c, why), MG_EPARSE, "row %zu", i);
		cr_expect(strstr(why, rows[i].why), "row %zu: %s", i, why);
	}
	mg_config c;
	char why[256];
	cr_expect_neq(mg_config_load(&c, "/nonexistent/file", why, sizeof(why)), 0);
	cr_expect(strstr(why, "cannot read /nonexistent/file"));
}

static char dir[64];

static void put_file(const char *name, const char *text, char *path, size_t len)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/mg-cfg-XXXXXX");
		cr_assert_not_null(mkdtemp(dir));
	}
	snprintf(path, len, "%s/%s", dir, name);
	cr_assert_eq(mg_write_file_atomic(path, text, strlen(text), 0600), 0);
}

Test(reconcile_config, credentials_never_echo_the_secret)
{
	char path[128], why[256];
	char *u, *p;
	put_file("ok", "username: admin\npassword: s3cret-value\n", path, sizeof(path));
	cr_assert_eq(mg_credentials_read(path, &u, &p, why, sizeof(why)), 0);
	cr_expect_str_eq(u, "admin");
	cr_expect_str_eq(p, "s3cret-value");
	free(u);
	free(p);
	put_file("nopass", "username: admin\n", path, sizeof(path));
	cr_expect_eq(mg_credentials_read(path, &u, &p, why, sizeof(why)), MG_EPARSE);
	cr_expect(strstr(why, "needs non-empty username and password"));
	put_file("bad", "username: admin\npassword: [s3cret-value\n", path, sizeof(path));
	cr_expect_eq(mg_credentials_read(path, &u, &p, why, sizeof(why)), MG_EPARSE);
	cr_expect_null(strstr(why, "s3cret"), "the secret is not quoted: %s", why);
	cr_expect_neq(mg_credentials_read("/nonexistent", &u, &p, why, sizeof(why)), 0);
	unlink(path);
}

Test(reconcile_config, credentials_are_reread_when_they_change)
{
	char cred[128], cfgp[128], why[256] = "";
	put_file("cred", "username: admin\npassword: one\n", cred, sizeof(cred));
	mg_config c = {0};
	mg_backend_config bc = {0};
	snprintf(bc.name, sizeof(bc.name), "b");
	snprintf(bc.url, sizeof(bc.url), "https://127.0.0.1:1");
	snprintf(bc.svm, sizeof(bc.svm), "svm-b");
	snprintf(bc.credentials_file, sizeof(bc.credentials_file), "%s", cred);
	snprintf(bc.ca_file, sizeof(bc.ca_file), "%s", cred); /* read only when connecting */
	c.backends = &bc;
	c.nbackends = 1;
	mg_backends b;
	cr_assert_eq(mg_backends_init(&b, &c, why, sizeof(why)), 0, "%s", why);
	mg_ontap_client *first = b.items[0].ontap;
	cr_expect_eq(mg_backends_refresh(&b), 0, "unchanged: nothing rebuilt");
	struct timespec ts = {0, 20000000};
	nanosleep(&ts, NULL);
	put_file("cred", "username: admin\npassword: two\n", cred, sizeof(cred));
	cr_expect_eq(mg_backends_refresh(&b), 1);
	cr_expect_neq(b.items[0].ontap, first);
	/* broken credentials keep the working client */
	nanosleep(&ts, NULL);
	put_file("cred", "username: admin\n", cred, sizeof(cred));
	mg_ontap_client *second = b.items[0].ontap;
	cr_expect_eq(mg_backends_refresh(&b), 0);
	cr_expect_eq(b.items[0].ontap, second);
	mg_backends_free(&b);
	(void)cfgp;
	unlink(cred);
	rmdir(dir);
	dir[0] = '\0';
}

static int flags(mg_flags *f, char *why, const char *a1, const char *a2, const char *a3,
		 const char *a4)
{
	char *argv[] = {"mirrorgate-reconciler", (char *)a1, (char *)a2, (char *)a3, (char *)a4,
			NULL};
	int argc = 1;
	while (argv[argc])
		argc++;
	return mg_flags_parse(f, argc, argv, why, 256);
}

Test(reconcile_config, flags_and_durations)
{
	mg_flags f;
	char why[256] = "";
	cr_assert_eq(flags(&f, why, "--config", "/c", "--lease-duration", "20s"), 0, "%s", why);
	cr_expect_eq(f.lease_ms, 20000);
	cr_expect_eq(f.renew_ms, 10000, "client-go default");
	cr_expect_eq(f.retry_ms, 2000, "client-go default");
	cr_expect_eq(f.workers, 2);
	cr_expect(f.leader_elect);
	uint64_t ms;
	cr_assert_eq(mg_duration_flag("500ms", &ms), 0);
	cr_expect_eq(ms, 500);
	cr_assert_eq(mg_duration_flag("1.5m", &ms), 0);
	cr_expect_eq(ms, 90000);
	cr_assert_eq(mg_duration_flag("3", &ms), 0);
	cr_expect_eq(ms, 3000);
	cr_expect_neq(mg_duration_flag("3d", &ms), 0);
	cr_expect_neq(mg_duration_flag("-1s", &ms), 0);
	cr_expect_neq(mg_duration_flag("", &ms), 0);
	cr_expect_eq(flags(&f, why, "--lease-duration", "20s", NULL, NULL), MG_EINVAL);
	cr_expect(strstr(why, "--config or --backends-from-trident is required"), "%s", why);
	/* beside Trident: the TBCs may replace the file; the mode is one of three */
	cr_expect_eq(flags(&f, why, "--backends-from-trident", "--mode", "companion", NULL), 0);
	cr_expect(f.backends_from_trident);
	cr_expect_str_eq(f.mode, "companion");
	cr_expect_eq(flags(&f, why, "--config", "/c", "--mode", "both"), MG_EINVAL);
	cr_expect(strstr(why, "bad value for --mode"), "%s", why);
	cr_expect_eq(flags(&f, why, "--config", "/c", "--allow-controller-beside-trident", NULL), 0);
	cr_expect(f.allow_beside_trident);
	cr_expect_eq(f.detect_ms, 60000);
	cr_expect_eq(flags(&f, why, "--config", "/c", "--trident-detect-period", "10ms"), MG_EINVAL);
	cr_expect_eq(flags(&f, why, "--config", "/c", "--leader-elect=maybe", NULL), MG_EINVAL);
	cr_expect(strstr(why, "bad value for --leader-elect"), "%s", why);
	cr_expect_eq(flags(&f, why, "--config", "/c", "--bogus", "x"), MG_EINVAL);
	cr_expect_eq(flags(&f, why, "--config", "/c", "--retry-period", "10s"), MG_EINVAL);
	cr_expect_eq(flags(&f, why, "--config", "/c", "extra", NULL), MG_EINVAL);
	cr_expect(strstr(why, "unexpected argument extra"), "%s", why);
}

/* The convention every mirrorgate binary shares (mirrorgate/util/cli.h). */
Test(reconcile_config, flags_bool_words_version_and_topology_namespace)
{
	mg_flags f;
	char why[256] = "";
	cr_assert_eq(flags(&f, why, "--config=/c", "--leader-elect", "false", NULL), 0, "%s", why);
	cr_expect_not(f.leader_elect);
	cr_assert_eq(flags(&f, why, "--leader-elect", "--config", "/c", NULL), 0, "%s", why);
	cr_expect(f.leader_elect);
	cr_assert_eq(flags(&f, why, "--config", "/c", "--topology-namespace", "ops"), 0, "%s", why);
	cr_expect_str_eq(f.topology_ns, "ops");
	cr_assert_eq(flags(&f, why, "--version", NULL, NULL, NULL), 0, "%s", why);
	cr_expect(f.version, "--version needs no --config");
}

Test(reconcile_config, flags_from_the_environment_lose_to_the_command_line)
{
	mg_flags f;
	char why[256] = "";
	setenv("MIRRORGATE_CONFIG", "/env.yaml", 1);
	setenv("MIRRORGATE_LEASE_NAMESPACE", "envns", 1);
	setenv("MIRRORGATE_LEADER_ELECT", "false", 1);
	cr_assert_eq(flags(&f, why, "--lease-namespace", "flagns", NULL, NULL), 0, "%s", why);
	cr_expect_str_eq(f.config, "/env.yaml");
	cr_expect_str_eq(f.lease_ns, "flagns");
	cr_expect_not(f.leader_elect);
	setenv("MIRRORGATE_WORKERS", "zero", 1);
	cr_expect_eq(flags(&f, why, NULL, NULL, NULL, NULL), MG_EINVAL);
	cr_expect(strstr(why, "bad value for MIRRORGATE_WORKERS: zero"), "%s", why);
	unsetenv("MIRRORGATE_CONFIG");
	unsetenv("MIRRORGATE_LEASE_NAMESPACE");
	unsetenv("MIRRORGATE_LEADER_ELECT");
	unsetenv("MIRRORGATE_WORKERS");
}

Test(reconcile_config, metrics_text_format)
{
	mg_rmetrics *m;
	cr_assert_eq(mg_rmetrics_new(&m), 0);
	static const mg_rmetric_desc d[] = {{"t_total", "counter", "A counter."}};
	mg_rmetrics_describe(m, d, 1);
	const char *l[] = {"tmr", "app/x\"y", NULL};
	mg_rmetrics_inc(m, "t_total", l, 1);
	mg_rmetrics_inc(m, "t_total", l, 2);
	mg_rmetrics_set(m, "g", NULL, 5);
	mg_rmetrics_observe(m, "h_seconds", NULL, 0.3);
	char *text;
	cr_assert_eq(mg_rmetrics_render(m, &text), 0);
	cr_expect(strstr(text, "# HELP t_total A counter.\n# TYPE t_total counter\n"
			       "t_total{tmr=\"app/x\\\"y\"} 3\n"),
		  "%s", text);
	cr_expect(strstr(text, "g{} 5\n"), "%s", text);
	cr_expect(strstr(text, "h_seconds_bucket{le=\"0.25\"} 0\n"), "%s", text);
	cr_expect(strstr(text, "h_seconds_bucket{le=\"0.5\"} 1\n"), "%s", text);
	cr_expect(strstr(text, "h_seconds_count{} 1\n"), "%s", text);
	free(text);
	mg_rmetrics_drop(m, "t_total", "tmr", "app/x\"y");
	cr_assert_eq(mg_rmetrics_render(m, &text), 0);
	cr_expect_null(strstr(text, "t_total{"), "%s", text);
	free(text);
	mg_rmetrics_free(m);
	mg_rmetrics_free(NULL);
	mg_rmetrics_inc(NULL, "x", NULL, 1); /* a NULL registry is a no-op */
}
