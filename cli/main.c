/* mirrorgate: the command-line tool. main only dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include "certs.h"
#include "validate.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: mirrorgate <command> [options]\n\n"
		     "commands:\n"
		     "  validate   check manifests against the replication rules (see validate --help)\n"
		     "  certs      make a CA and a serving certificate for the webhook (see certs --help)\n"
		     "  version    print the version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "validate") == 0)
		return mg_cli_validate(argc - 1, argv + 1);
	if (strcmp(cmd, "certs") == 0)
		return mg_cli_certs(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("mirrorgate %s\n", MG_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "mirrorgate: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
