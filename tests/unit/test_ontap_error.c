/* Typed ONTAP errors: both code encodings, job failures with and without error{}, and the
 * predicates the reconciler branches on. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/ontap/cluster.h"
#include "mirrorgate/ontap/error.h"
#include "mirrorgate/ontap/job.h"
#include "mirrorgate/ontap/snapmirror.h"
#include "mirrorgate/ontap/volume.h"

static mg_ontap_error from_body(int status, const char *json)
{
	mg_ontap_error e;
	cJSON *b = cJSON_Parse(json);
	mg_ontap_error_from_body(&e, status, b);
	cJSON_Delete(b);
	return e;
}

static mg_ontap_error from_job(const char *json)
{
	mg_ontap_error e;
	cJSON *b = cJSON_Parse(json);
	mg_ontap_error_from_job(&e, b);
	cJSON_Delete(b);
	return e;
}

Test(ontap_error, string_and_integer_codes_read_the_same)
{
	mg_ontap_error a = from_body(404, "{\"error\":{\"message\":\"entry doesn't exist\",\"code\":\"4\",\"target\":\"uuid\"}}");
	mg_ontap_error b = from_body(404, "{\"error\":{\"message\":\"entry doesn't exist\",\"code\":4}}");
	cr_assert_str_eq(a.code, "4");
	cr_assert_str_eq(b.code, "4");
	cr_assert_str_eq(a.target, "uuid");
	cr_assert_eq(a.rc, MG_ENOTFOUND);
	cr_assert(mg_ontap_err_is_not_found(&a) && mg_ontap_err_is_not_found(&b));
	cr_assert_eq(a.source, MG_ONTAP_SRC_HTTP);
}

Test(ontap_error, bodies_that_are_not_error_bodies_still_explain)
{
	mg_ontap_error e = from_body(502, "<html>bad gateway</html>");
	cr_assert_eq(e.rc, MG_EREMOTE);
	cr_assert(strstr(e.message, "502"));
	cr_assert_str_eq(e.code, "");
	e = from_body(500, "{\"error\":{\"code\":[1,2],\"message\":7}}");
	cr_assert_str_eq(e.code, "", "a code of the wrong type is ignored");
	cr_assert(strstr(e.message, "500"));
	mg_ontap_error_from_body(&e, 401, NULL);
	cr_assert_eq(e.rc, MG_EAUTH);
	cr_assert(mg_ontap_err_is_auth(&e));
}

Test(ontap_error, job_failures_prefer_error_object_and_fall_back_to_code)
{
	mg_ontap_error e = from_job("{\"uuid\":\"j1\",\"state\":\"failure\",\"code\":13303808,"
				    "\"message\":\"Transition to broken_off state failed. Reason:Another transfer is in progress.\","
				    "\"error\":{\"code\":\"13303808\",\"message\":\"from error\",\"target\":\"state\"}}");
	cr_assert_str_eq(e.code, "13303808");
	cr_assert_str_eq(e.message, "from error");
	cr_assert_str_eq(e.target, "state");
	cr_assert_str_eq(e.job_uuid, "j1");
	cr_assert_eq(e.source, MG_ONTAP_SRC_JOB);
	cr_assert(mg_ontap_err_is_transfer_in_progress(&e));
	/* ONTAP 9.8: no error object. */
	e = from_job("{\"uuid\":\"j2\",\"state\":\"failure\",\"code\":917526,\"message\":\"The volume name specified is a duplicate.\"}");
	cr_assert_str_eq(e.code, "917526");
	cr_assert_str_eq(e.message, "The volume name specified is a duplicate.");
	cr_assert_eq(e.rc, MG_EREMOTE);
	/* Either may be empty: gaps are filled from the other. */
	e = from_job("{\"uuid\":\"j3\",\"code\":6619637,\"message\":\"exists\",\"error\":{\"message\":\"\"}}");
	cr_assert_str_eq(e.code, "6619637");
	cr_assert_str_eq(e.message, "exists");
	cr_assert_eq(e.rc, MG_EEXIST);
	e = from_job("{}");
	cr_assert(strlen(e.message) > 0);
}

Test(ontap_error, predicates_match_exactly_their_codes)
{
	struct {
		const char *code;
		const char *message;
		bool busy, exists, modifying, peer, fields;
	} cases[] = {
		{"13303812", "Initialize operation failed. Reason:Another transfer is in progress.", 1, 0, 0, 0, 0},
		{"13303808", "Transition to broken_off state failed.", 1, 0, 0, 0, 0},
		{"13303844", "Update operation failed. Reason:Another transfer is in progress.", 1, 0, 0, 0, 0},
		{"13303844", "Update operation failed. Reason: relationship is quiesced", 0, 0, 0, 0, 0},
		{"6619637", "Relationship with specified destination volume already exists.", 0, 1, 0, 0, 0},
		{"1", "duplicate entry", 0, 1, 0, 0, 0},
		{"6619715", "Modification of relationship is in progress.", 0, 0, 1, 0, 0},
		{"6619720", "retry", 0, 0, 1, 0, 0},
		{"13303816", "retry later", 0, 0, 1, 0, 0},
		{"13303822", "SnapMirror release has failed", 0, 0, 1, 0, 0},
		{"262224", "Failed to contact peer cluster", 0, 0, 0, 1, 0},
		{"262197", "The value \"x\" is invalid for field \"fields\"", 0, 0, 0, 0, 1},
		{"2", "invalid", 0, 0, 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mg_ontap_error e = {0};
		e.source = MG_ONTAP_SRC_HTTP;
		e.http_status = 400;
		snprintf(e.code, sizeof(e.code), "%s", cases[i].code);
		snprintf(e.message, sizeof(e.message), "%s", cases[i].message);
		cr_assert_eq(mg_ontap_err_is_transfer_in_progress(&e), cases[i].busy, "case %zu", i);
		cr_assert_eq(mg_ontap_err_is_relationship_exists(&e), cases[i].exists, "case %zu", i);
		cr_assert_eq(mg_ontap_err_is_modification_in_progress(&e), cases[i].modifying, "case %zu", i);
		cr_assert_eq(mg_ontap_err_is_peer_unreachable(&e), cases[i].peer, "case %zu", i);
		cr_assert_eq(mg_ontap_err_is_invalid_fields(&e), cases[i].fields, "case %zu", i);
		cr_assert(!mg_ontap_err_is_not_found(&e));
		cr_assert(!mg_ontap_err_is_unknown_outcome(&e));
	}
}

Test(ontap_error, unknown_outcome_and_transport_are_never_not_found)
{
	mg_ontap_error e;
	mg_ontap_error_clear(&e);
	snprintf(e.job_uuid, sizeof(e.job_uuid), "j9");
	mg_ontap_error_set(&e, MG_EUNKNOWN, MG_ONTAP_SRC_UNKNOWN_OUTCOME, "job %s vanished", "j9");
	cr_assert(mg_ontap_err_is_unknown_outcome(&e));
	cr_assert(!mg_ontap_err_is_not_found(&e));
	cr_assert_str_eq(e.job_uuid, "j9", "the job stays named");
	cr_assert_str_eq(e.message, "job j9 vanished");
	mg_ontap_error_set(&e, MG_ETLS, MG_ONTAP_SRC_TRANSPORT, "handshake");
	cr_assert(mg_ontap_err_is_tls(&e) && mg_ontap_err_is_transport(&e));
	cr_assert(!mg_ontap_err_is_not_found(&e));
	cr_assert_eq(mg_ontap_error_rc(404, ""), MG_ENOTFOUND);
	cr_assert_eq(mg_ontap_error_rc(403, "6"), MG_EAUTH);
	cr_assert_eq(mg_ontap_error_rc(409, "6619637"), MG_EEXIST);
	cr_assert_eq(mg_ontap_error_rc(409, "8"), MG_ECONFLICT);
	cr_assert_eq(mg_ontap_error_rc(500, NULL), MG_EREMOTE);
	/* NULL error pointers are tolerated everywhere. */
	mg_ontap_error_set(NULL, MG_EIO, MG_ONTAP_SRC_TRANSPORT, "x");
	mg_ontap_error_from_body(NULL, 500, NULL);
	cr_assert(!mg_ontap_err_is_auth(NULL));
}

Test(ontap_error, unusable_arguments_are_refused_with_an_explanation)
{
	mg_ontap_error e;
	mg_ontap_svm_list svms;
	mg_ontap_relationship rel;
	mg_ontap_relationship_filter none = {NULL, NULL, false};
	mg_ontap_volume vol;
	mg_ontap_cluster cl;
	cr_assert_eq(mg_ontap_svms(NULL, NULL, &svms, &e), MG_EINVAL);
	cr_assert_eq(e.rc, MG_EINVAL);
	cr_assert(strstr(e.message, "mg_ontap_svms"), "%s", e.message);
	cr_assert_eq(mg_ontap_cluster_get(NULL, &cl, &e), MG_EINVAL);
	cr_assert_eq(mg_ontap_relationship_get(NULL, &none, &rel, &e), MG_EINVAL, "a filter is required");
	cr_assert_eq(mg_ontap_volume_get(NULL, "svm", "v", &vol, &e), MG_EINVAL);
	cr_assert_eq(mg_ontap_transfer_abort(NULL, "r", NULL, false, &e), MG_EINVAL);
	cr_assert_eq(mg_ontap_relationship_delete(NULL, "r", (enum mg_ontap_delete_mode)9, &e), MG_EINVAL);
	cr_assert_eq(mg_ontap_job_wait(NULL, "j", &e), MG_EINVAL);
	cr_assert_eq(mg_ontap_snapshot_create(NULL, "v", "", NULL, &e), MG_EINVAL);
	int status;
	cJSON *body;
	cr_assert_eq(mg_ontap_request(NULL, "GET", "/api/cluster", NULL, &status, &body, &e), MG_EINVAL);
	cr_assert_eq(e.source, MG_ONTAP_SRC_CLIENT);
	mg_ontap_svm_list_free(NULL);
	mg_ontap_relationship_list_free(NULL);
	mg_ontap_snapshot_list_free(NULL);
	mg_ontap_svm_peer_list_free(NULL);
	mg_ontap_cluster_peer_list_free(NULL);
}
