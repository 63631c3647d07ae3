#include "yaml_fixture.h"

#include <criterion/criterion.h>
#include <string.h>

#include "mirrorgate/core/doc.h"

cJSON *mg_test_yaml(const char *text)
{
	mg_doc_list l;
	mg_parse_error err;
	cr_assert_eq(mg_doc_parse_yaml(&l, text, strlen(text), &err), 0, "line %d: %s", err.line,
		     err.message);
	cr_assert_eq(l.len, 1, "one document expected");
	cJSON *root = l.items[0].root;
	l.items[0].root = NULL;
	mg_doc_list_free(&l);
	return root;
}
