/* Runs a program with optional standard input and captures its output: for tests that drive
 * the real binaries. */
#ifndef MG_TEST_RUN_CMD_H
#define MG_TEST_RUN_CMD_H

#include <stddef.h>

typedef struct mg_cmd_result {
	int status; /* exit status, or 128+signal */
	char *out;  /* standard output, NUL-terminated */
	char *err;  /* standard error, NUL-terminated */
} mg_cmd_result;

/* argv[0] is a path; argv is NULL-terminated. stdin_data may be NULL (empty input). Gives up
 * (killing the child) after timeout_s seconds. */
int mg_run_cmd(mg_cmd_result *out, char *const argv[], const char *stdin_data, size_t stdin_len,
	       int timeout_s);
void mg_cmd_result_free(mg_cmd_result *r);

#endif
