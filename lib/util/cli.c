#include "mirrorgate/util/cli.h"

#include <string.h>

#include "mirrorgate/util/err.h"

bool mg_cli_env_name(char *buf, size_t cap, const char *flag)
{
	static const char prefix[] = "MIRRORGATE_";
	size_t n = strlen(flag);
	if (sizeof(prefix) + n > cap)
		return false;
	memcpy(buf, prefix, sizeof(prefix) - 1);
	char *p = buf + sizeof(prefix) - 1;
	for (const char *f = flag; *f; f++)
		*p++ = *f == '-' ? '_' : (*f >= 'a' && *f <= 'z') ? (char)(*f - 'a' + 'A') : *f;
	*p = '\0';
	return true;
}

int mg_cli_parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};
	for (size_t i = 0; text && i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(text, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(text, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return MG_EINVAL;
}

const char *mg_cli_bool_value(int argc, char *const *argv, int *optind)
{
	bool ignored;
	if (*optind < argc && mg_cli_parse_bool(argv[*optind], &ignored) == 0)
		return argv[(*optind)++];
	return "true";
}

void mg_cli_print_version(FILE *out, const char *program)
{
	fprintf(out, "%s %s\n", program, MG_VERSION);
}
