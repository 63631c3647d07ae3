/* What `mirrorgate validate` found, and its three output formats. */
#ifndef MG_CLI_REPORT_H
#define MG_CLI_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "mirrorgate/rules/review.h"

enum mg_result_status {
	MG_RESULT_VALID,
	MG_RESULT_INVALID,
	MG_RESULT_SKIPPED,   /* a kind mirrorgate has no rules for */
	MG_RESULT_MALFORMED, /* unreadable or not a Kubernetes object */
};

typedef struct mg_error_line {
	char *text; /* one field error, "<path>: <body>" */
	const char *rule;
	int line;
} mg_error_line;

typedef struct mg_result {
	enum mg_result_status status;
	const char *file;
	int line;
	char *kind, *ns, *name;
	const char *operation; /* "CREATE" or "UPDATE" */
	char *message;         /* the API server style message, or the problem */
	mg_error_line *errors;
	size_t nerrors;
	char **warnings;       /* "<text>" */
	const char **warning_rules;
	size_t nwarnings;
	char *patch;           /* JSON, or NULL */
} mg_result;

typedef struct mg_report {
	mg_result *results;
	size_t len;
} mg_report;

enum mg_output { MG_OUTPUT_TEXT, MG_OUTPUT_JSON, MG_OUTPUT_JUNIT };

int mg_report_add(mg_report *r, mg_result *res); /* takes ownership of res's contents */
/* Exit status: 2 if anything was malformed, else 1 if invalid (or warned, with strict),
 * else 0. */
int mg_report_exit_code(const mg_report *r, bool strict);
int mg_report_write(const mg_report *r, enum mg_output fmt, bool verbose, FILE *out);
void mg_result_free(mg_result *res);
void mg_report_free(mg_report *r);

#endif
