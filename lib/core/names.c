#include "mirrorgate/core/names.h"

#include <ctype.h>
#include <string.h>

const char mg_dns1123_subdomain_msg[] =
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
	"or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
	"used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool mg_is_dns1123_subdomain(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 253)
		return false;
	/* Labels separated by '.', each alnum at both ends with '-' allowed inside. */
	bool label_start = true;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label_start || s[i - 1] == '-')
				return false;
			label_start = true;
			continue;
		}
		if (c == '-') {
			if (label_start)
				return false;
		} else if (!lower_alnum(c)) {
			return false;
		}
		label_start = false;
	}
	return !label_start && s[n - 1] != '-';
}

static bool ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ascii_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool mg_is_ontap_svm_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 47 || !(ascii_alpha(s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(ascii_alpha(s[i]) || ascii_digit(s[i]) || strchr("_-.", s[i])))
			return false;
	return true;
}

bool mg_is_ontap_volume_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 203 || !(ascii_alpha(s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(ascii_alpha(s[i]) || ascii_digit(s[i]) || s[i] == '_'))
			return false;
	return true;
}

bool mg_split_volume_handle(const char *handle, char *svm, size_t svm_len, char *volume,
			    size_t volume_len)
{
	const char *colon = handle ? strchr(handle, ':') : NULL;
	if (!colon)
		return false;
	size_t a = (size_t)(colon - handle), b = strlen(colon + 1);
	if (a >= svm_len || b >= volume_len)
		return false;
	memcpy(svm, handle, a);
	svm[a] = '\0';
	memcpy(volume, colon + 1, b + 1);
	return true;
}

/* Go's \s in RE2: [\t\n\f\r ]. */
static bool go_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

bool mg_is_snapshot_handle(const char *s)
{
	if (!s)
		return false;
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
		return false;
	for (const char *p = s; *p; p++)
		if (go_space(*p))
			return false;
	return true;
}

bool mg_parse_go_bool(const char *s, bool *out)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; s && i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(s, t[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcmp(s, f[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}
