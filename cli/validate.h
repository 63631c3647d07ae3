#ifndef MG_CLI_VALIDATE_H
#define MG_CLI_VALIDATE_H

/* `mirrorgate validate [options] PATH...`; returns the process exit status. */
int mg_cli_validate(int argc, char **argv);

#endif
