#include <criterion/criterion.h>
#include <string.h>

#include "mirrorgate/core/names.h"

Test(names, dns1123_subdomain)
{
	const char *ok[] = {"a", "data", "app-data", "a.b-c.d", "0abc", NULL};
	const char *bad[] = {"", "Data", "a_b", "-a", "a-", "a..b", ".a", "a.", "a b", NULL};
	for (const char **s = ok; *s; s++)
		cr_assert(mg_is_dns1123_subdomain(*s), "%s", *s);
	for (const char **s = bad; *s; s++)
		cr_assert(!mg_is_dns1123_subdomain(*s), "%s", *s);
	char long_name[300];
	memset(long_name, 'a', 254);
	long_name[254] = '\0';
	cr_assert(!mg_is_dns1123_subdomain(long_name), "254 characters");
	long_name[253] = '\0';
	cr_assert(mg_is_dns1123_subdomain(long_name), "253 characters");
	cr_assert(!mg_is_dns1123_subdomain(NULL));
}

Test(names, ontap_names)
{
	cr_assert(mg_is_ontap_svm_name("svm_a"));
	cr_assert(mg_is_ontap_svm_name("_svm.prod-1"));
	cr_assert(!mg_is_ontap_svm_name("1svm"));
	cr_assert(!mg_is_ontap_svm_name("svm a"));
	cr_assert(!mg_is_ontap_svm_name("a23456789012345678901234567890123456789012345678"));
	cr_assert(mg_is_ontap_volume_name("trident_pvc_3f1a"));
	cr_assert(!mg_is_ontap_volume_name("pvc-1"));
	cr_assert(!mg_is_ontap_volume_name(""));
}

Test(names, handles)
{
	char svm[8], vol[8];
	cr_assert(mg_split_volume_handle("svm:vol", svm, sizeof(svm), vol, sizeof(vol)));
	cr_assert_str_eq(svm, "svm");
	cr_assert_str_eq(vol, "vol");
	cr_assert(mg_split_volume_handle("a:b:c", svm, sizeof(svm), vol, sizeof(vol)),
		  "split at the first colon, as Trident does");
	cr_assert_str_eq(vol, "b:c");
	cr_assert(!mg_split_volume_handle("novolume", svm, sizeof(svm), vol, sizeof(vol)));
	cr_assert(!mg_split_volume_handle("toolongsvm:v", svm, sizeof(svm), vol, sizeof(vol)));
	cr_assert(mg_is_snapshot_handle("vol/snap"));
	cr_assert(!mg_is_snapshot_handle("snap"));
	cr_assert(!mg_is_snapshot_handle("/snap"));
	cr_assert(!mg_is_snapshot_handle("vol/"));
	cr_assert(!mg_is_snapshot_handle("a/b/c"));
	cr_assert(!mg_is_snapshot_handle("vol/sn\tap"));
}

Test(names, go_bool)
{
	bool v;
	const char *t[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
	const char *f[] = {"0", "f", "F", "FALSE", "false", "False", NULL};
	for (const char **s = t; *s; s++)
		cr_assert(mg_parse_go_bool(*s, &v) && v, "%s", *s);
	for (const char **s = f; *s; s++)
		cr_assert(mg_parse_go_bool(*s, &v) && !v, "%s", *s);
	cr_assert(!mg_parse_go_bool("yes", &v));
	cr_assert(!mg_parse_go_bool("tRUE", &v));
}
