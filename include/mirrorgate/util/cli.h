/* The one command-line convention of every mirrorgate binary (mirrorgate-webhook,
 * mirrorgate-reconciler, mirrorgate): long flags parsed with getopt_long, written
 * `--name=value` or `--name value`; a boolean flag alone means true, and also takes
 * `=BOOL` or a following true/false word; every daemon flag can be set in the environment
 * as MIRRORGATE_<NAME> (upper case, '-' as '_'), and a flag on the command line wins over
 * the environment; `--version` prints "<program> <version>" and `--help` the usage. */
#ifndef MIRRORGATE_UTIL_CLI_H
#define MIRRORGATE_UTIL_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* "tls-cert-file" -> "MIRRORGATE_TLS_CERT_FILE" into buf; false when it does not fit. */
bool mg_cli_env_name(char *buf, size_t cap, const char *flag);

/* true/false, yes/no, on/off, 1/0. MG_EINVAL for anything else. */
int mg_cli_parse_bool(const char *text, bool *out);

/* For a boolean flag given without "=value": when the next argument is a boolean word,
 * takes it as the value (advancing *optind) and returns it; otherwise returns "true". */
const char *mg_cli_bool_value(int argc, char *const *argv, int *optind);

/* "mirrorgate-webhook 0.1.0\n" */
void mg_cli_print_version(FILE *out, const char *program);

#endif
