#ifndef MG_TEST_YAML_FIXTURE_H
#define MG_TEST_YAML_FIXTURE_H

#include <cjson/cJSON.h>

/* The single document of `text` as a tree; fails the test on a parse error. Caller deletes. */
cJSON *mg_test_yaml(const char *text);

#endif
