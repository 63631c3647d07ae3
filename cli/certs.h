#ifndef MG_CLI_CERTS_H
#define MG_CLI_CERTS_H

/* `mirrorgate certs [options]`; returns the process exit status. */
int mg_cli_certs(int argc, char **argv);

#endif
