/* Reading the CLI's inputs: files, directories (recursively, *.yaml *.yml *.json, in sorted
 * order so output is stable) and "-" for standard input. */
#ifndef MG_CLI_INPUTS_H
#define MG_CLI_INPUTS_H

#include <stddef.h>

#define MG_CLI_MAX_INPUT (64u * 1024 * 1024)

typedef struct mg_input {
	char *path; /* as shown to the user; "<stdin>" for "-" */
	char *data; /* NULL when it could not be read */
	size_t len;
	char *error; /* why it could not be read */
} mg_input;

typedef struct mg_inputs {
	mg_input *items;
	size_t len;
} mg_inputs;

/* Expands and reads every argument. Unreadable inputs are kept with `error` set, so the
 * caller reports them next to everything else. Returns MG_ENOMEM only. */
int mg_inputs_read(mg_inputs *out, char *const *args, size_t nargs);
void mg_inputs_free(mg_inputs *in);

#endif
