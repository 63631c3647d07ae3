/* mirrorgate validate, driven as a user drives it: the real binary, real files. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mirrorgate/util/strbuf.h"
#include "run_cmd.h"

#define CLI MG_BIN_DIR "/mirrorgate"
#define EXAMPLES MG_SOURCE_DIR "/manifests/examples"

static mg_cmd_result run(const char *const *args, const char *input)
{
	char *argv[16] = {CLI, "validate"};
	size_t n = 2;
	for (; args && *args && n < 15; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	mg_cmd_result r;
	int rc = mg_run_cmd(&r, argv, input, input ? strlen(input) : 0, 30);
	cr_assert_eq(rc, 0, "mirrorgate validate did not finish");
	return r;
}

static mg_cmd_result run_stdin(const char *input, size_t len)
{
	char *argv[] = {CLI, "validate", "-", NULL};
	mg_cmd_result r;
	cr_assert_eq(mg_run_cmd(&r, argv, input, len, 30), 0);
	return r;
}

Test(cli_validate, the_replication_story_is_valid)
{
	const char *primary[] = {"-v", EXAMPLES "/primary", NULL};
	mg_cmd_result r = run(primary, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "7 documents: 4 valid, 0 invalid, 0 malformed, 3 skipped"), "%s",
		  r.out);
	mg_cmd_result_free(&r);
	/* the failback needs the history the reconciler records: offline, without it, the
	 * webhook's rule refuses it */
	const char *failback[] = {EXAMPLES "/failback", NULL};
	r = run(failback, NULL);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "has no record of a SnapMirror relationship"), "%s", r.out);
	mg_cmd_result_free(&r);
	const char *secondary[] = {EXAMPLES "/secondary", NULL};
	r = run(secondary, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "5 documents: 3 valid, 0 invalid, 0 malformed, 2 skipped"), "%s",
		  r.out);
	mg_cmd_result_free(&r);
	/* the planned failover's TAMU needs the TMR's status, which only the reconciler writes:
	 * offline, after the secondary walkthrough, the rule refuses it (and the promote is
	 * admitted, with its warning) */
	const char *failover[] = {EXAMPLES "/secondary", EXAMPLES "/planned-failover", NULL};
	r = run(failover, NULL);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "has no status yet"), "%s", r.out);
	cr_assert(strstr(r.out, "7 documents: 4 valid, 1 invalid, 0 malformed, 2 skipped; 1 warnings"),
		  "%s", r.out);
	mg_cmd_result_free(&r);
}

/* Every file under invalid/ names its rule on line 1 ("# rule: ID") and fails for exactly
 * that rule: exit 1 (2 for SCHEMA, which is undecodable input). */
Test(cli_validate, every_invalid_example_fails_for_exactly_its_rule)
{
	DIR *d = opendir(EXAMPLES "/invalid");
	cr_assert_not_null(d);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d))) {
		if (!strstr(e->d_name, ".yaml"))
			continue;
		char path[512], want[64];
		snprintf(path, sizeof(path), EXAMPLES "/invalid/%s", e->d_name);
		FILE *f = fopen(path, "r");
		cr_assert(f && fscanf(f, "# rule: %63s", want) == 1, "%s: no '# rule:' line", path);
		fclose(f);
		const char *args[] = {"-o", "json", path, NULL};
		mg_cmd_result r = run(args, NULL);
		int want_status = strcmp(want, "SCHEMA") == 0 ? 2 : 1;
		cr_assert_eq(r.status, want_status, "%s: exit %d\n%s%s", path, r.status, r.out, r.err);
		cJSON *doc = cJSON_Parse(r.out);
		cr_assert_not_null(doc, "%s: output is not JSON", path);
		int fired = 0;
		const cJSON *docs = cJSON_GetObjectItem(doc, "documents"), *item, *err;
		cJSON_ArrayForEach(item, docs) {
			cJSON_ArrayForEach(err, cJSON_GetObjectItem(item, "errors")) {
				const char *rule = cJSON_GetObjectItem(err, "rule")->valuestring;
				cr_assert_str_eq(rule, want, "%s: unexpected rule %s", path, rule);
				fired++;
			}
		}
		cr_assert(fired >= 1, "%s: %s did not fire", path, want);
		cJSON_Delete(doc);
		mg_cmd_result_free(&r);
		files++;
	}
	closedir(d);
	cr_assert(files >= 30, "only %d invalid examples", files);
}

Test(cli_validate, text_output_points_at_the_line)
{
	const char *args[] = {EXAMPLES "/invalid/tmr-remote-handle.yaml", NULL};
	mg_cmd_result r = run(args, NULL);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.out, EXAMPLES "/invalid/tmr-remote-handle.yaml:11: "
			  "TridentMirrorRelationship.trident.netapp.io \"tmr-remote-handle\" is invalid: "
			  "spec.volumeMappings[0].remoteVolumeHandle: Required value: required when "
			  "spec.state is \"established\" or \"reestablished\"\n"),
		  "%s", r.out);
	mg_cmd_result_free(&r);
}

Test(cli_validate, junit_output)
{
	const char *args[] = {"-o", "junit", EXAMPLES "/invalid/sc-backend.yaml", NULL};
	mg_cmd_result r = run(args, NULL);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.out, "<testsuite name=\"mirrorgate validate\" tests=\"1\" failures=\"1\" "
				"errors=\"0\" skipped=\"0\">"), "%s", r.out);
	cr_assert(strstr(r.out, "<failure message=\"StorageClass.storage.k8s.io &quot;sc-backend&quot; "
				"is invalid: parameters[backendType]: Unsupported value: "
				"&quot;ontap-nas-economy&quot;"), "%s", r.out);
	mg_cmd_result_free(&r);
}

Test(cli_validate, bundle_order_does_not_matter)
{
	/* The destination PVC before its TMR, in one stream: valid as a bundle. */
	const char *bundle =
		"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n"
		"  annotations: {trident.netapp.io/mirrorRelationship: m}\nspec: {storageClassName: sc}\n"
		"---\napiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
		"metadata: {name: m}\nspec:\n  state: established\n  volumeMappings:\n"
		"  - {localPVCName: data, remoteVolumeHandle: 'svm_a:vol_1'}\n"
		"---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: sc}\n"
		"provisioner: csi.trident.netapp.io\nparameters: {trident.netapp.io/replication: 'true'}\n";
	const char *args[] = {"-", NULL};
	mg_cmd_result r = run(args, bundle);
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_assert(strstr(r.out, "3 documents: 3 valid"), "%s", r.out);
	cr_assert(strstr(r.out, "warning: cannot check that SVM \"svm_a\" is unique and peered"),
		  "%s", r.out);
	mg_cmd_result_free(&r);
	const char *strict[] = {"--strict", "-", NULL};
	r = run(strict, bundle);
	cr_assert_eq(r.status, 1, "--strict fails on warnings");
	mg_cmd_result_free(&r);
}

Test(cli_validate, other_kinds_are_skipped_and_counted)
{
	const char *in = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n"
			 "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, "
			 "metadata: {name: s}}\n";
	const char *args[] = {"-", NULL};
	mg_cmd_result r = run(args, in);
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "2 documents: 0 valid, 0 invalid, 0 malformed, 2 skipped"), "%s", r.out);
	mg_cmd_result_free(&r);
}

struct bad_input {
	const char *name;
	const char *text;
	size_t len; /* 0: strlen */
	const char *expect; /* substring of the output, with the line number */
};

Test(cli_validate, malformed_input_is_exit_2_with_a_line)
{
	static const struct bad_input cases[] = {
		{"truncated", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: x\n", 0,
		 "<stdin>:4: error: YAML syntax error"},
		{"duplicate keys", "apiVersion: v1\nkind: StorageClass\nmetadata: {name: a}\nkind: x\n",
		 0, "<stdin>:4: error: duplicate key \"kind\" (first defined on line 2)"},
		{"invalid UTF-8", "apiVersion: v1\nkind: StorageClass\nmetadata: {name: \xc3\x28}\n", 0,
		 "<stdin>:3: error: invalid input"},
		{"wrong types", "apiVersion: trident.netapp.io/v1\nkind: TridentMirrorRelationship\n"
				"metadata: {name: t}\nspec:\n  state: [established]\n",
		 0,
		 "<stdin>:5: error: TridentMirrorRelationship.trident.netapp.io \"t\" is invalid: "
		 "spec.state: Invalid value: \"array\": spec.state in body must be of type string"},
		{"not an object", "- a\n- b\n", 0,
		 "<stdin>:1: error: document is not a Kubernetes object (not a mapping)"},
		{"no kind", "metadata: {name: x}\n", 0,
		 "<stdin>:1: error: document is not a Kubernetes object (apiVersion and kind are required)"},
		{NULL, NULL, 0, NULL},
	};
	for (const struct bad_input *c = cases; c->name; c++) {
		mg_cmd_result r = run_stdin(c->text, c->len ? c->len : strlen(c->text));
		cr_assert_eq(r.status, 2, "%s: exit %d: %s", c->name, r.status, r.out);
		cr_assert(strstr(r.out, c->expect), "%s:\n%s", c->name, r.out);
		mg_cmd_result_free(&r);
	}
}

Test(cli_validate, hostile_sizes_are_refused_not_crashed)
{
	mg_strbuf deep = MG_STRBUF_INIT;
	mg_strbuf_puts(&deep, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: ");
	for (int i = 0; i < 5000; i++)
		mg_strbuf_putc(&deep, '[');
	mg_cmd_result r = run_stdin(deep.data, deep.len);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.out, "<stdin>:4: error: nesting deeper than 128 levels"), "%s", r.out);
	mg_cmd_result_free(&r);
	mg_strbuf_free(&deep);

	mg_strbuf big = MG_STRBUF_INIT;
	mg_strbuf_puts(&big, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: ");
	for (int i = 0; i < 2 * 1024 * 1024; i++)
		mg_strbuf_putc(&big, 'x');
	mg_strbuf_puts(&big, "}\n");
	r = run_stdin(big.data, big.len);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.out, "<stdin>:4: error: scalar of 2097152 bytes is over the limit"), "%s",
		  r.out);
	mg_cmd_result_free(&r);
	mg_strbuf_free(&big);
}

Test(cli_validate, usage_errors)
{
	const char *none[] = {NULL};
	mg_cmd_result r = run(none, NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "no PATH given"));
	mg_cmd_result_free(&r);
	const char *fmt[] = {"-o", "xml", "x", NULL};
	r = run(fmt, NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "unknown output format \"xml\""));
	mg_cmd_result_free(&r);
	const char *missing[] = {"/nonexistent/file.yaml", NULL};
	r = run(missing, NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.out, "/nonexistent/file.yaml:0: error: cannot read"), "%s", r.out);
	mg_cmd_result_free(&r);
}
