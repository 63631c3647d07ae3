#include "jsonscan.h"

#include "mirrorgate/util/strbuf.h"

const mg_json_limits mg_json_default_limits = {
	.max_nodes = MG_JSON_MAX_NODES,
	.max_depth = MG_JSON_MAX_DEPTH,
	.max_array = MG_JSON_MAX_ARRAY,
	.max_members = MG_JSON_MAX_MEMBERS,
	.max_string = MG_JSON_MAX_STRING,
};

static bool is_nul_escape(const unsigned char *p, const unsigned char *end)
{
	/* p points after the backslash */
	return end - p >= 5 && p[0] == 'u' && p[1] == '0' && p[2] == '0' && p[3] == '0' &&
	       p[4] == '0';
}

bool mg_json_within(const char *body, size_t len, const mg_json_limits *lim, mg_json_scan *out,
		    const char **why)
{
	/* Per open container: how many values it holds, and whether it is an object. The depth
	 * limit bounds the stack. */
	size_t counts[MG_JSON_MAX_DEPTH + 1];
	bool object[MG_JSON_MAX_DEPTH + 1];
	size_t depth = 0, nodes = 0, deepest = 0;
	size_t max_depth = lim->max_depth < MG_JSON_MAX_DEPTH ? lim->max_depth : MG_JSON_MAX_DEPTH;
	const unsigned char *p = (const unsigned char *)body, *end = p + len;
	bool after_key = false; /* the string just read is an object key, not a value */
	*why = NULL;
	while (p < end) {
		unsigned char c = *p;
		switch (c) {
		case '"': {
			const unsigned char *start = ++p;
			while (p < end && *p != '"') {
				if (*p == '\\') {
					if (is_nul_escape(p + 1, end)) {
						*why = "a string holds \\u0000, which cannot be reviewed";
						return false;
					}
					p += 2;
					continue;
				}
				if (*p < 0x80) {
					p++;
					continue;
				}
				size_t n = mg_utf8_seq_len(p, end);
				if (!n) {
					*why = "the request body is not valid UTF-8";
					return false;
				}
				p += n;
			}
			if ((size_t)(p - start) > lim->max_string) {
				*why = "a string is longer than the webhook accepts";
				return false;
			}
			p++; /* the closing quote (or past the end: the parser reports it) */
			/* A key is followed by ':'; whitespace may come between. */
			const unsigned char *q = p;
			while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
				q++;
			after_key = depth && object[depth] && q < end && *q == ':';
			if (after_key)
				continue;
			break;
		}
		case '{':
		case '[':
			if (depth >= max_depth) {
				*why = "the JSON nesting is deeper than the webhook accepts";
				return false;
			}
			nodes++;
			if (depth)
				counts[depth]++;
			depth++;
			counts[depth] = 0;
			object[depth] = c == '{';
			if (depth > deepest)
				deepest = depth;
			p++;
			goto check;
		case '}':
		case ']':
			if (depth)
				depth--;
			p++;
			continue;
		case ' ':
		case '\t':
		case '\n':
		case '\r':
		case ',':
		case ':':
			p++;
			continue;
		default:
			/* A number or a literal: one value up to the next delimiter. */
			while (p < end && *p != ',' && *p != ']' && *p != '}' && *p != ' ' &&
			       *p != '\n' && *p != '\r' && *p != '\t' && *p != ':' && *p != '"')
				p++;
			break;
		}
		/* One scalar value ended (a string, a number or a literal). */
		nodes++;
		if (depth)
			counts[depth]++;
	check:
		if (nodes > lim->max_nodes) {
			*why = "the request has more JSON values than the webhook accepts";
			return false;
		}
		/* The container just opened was counted in its parent, at depth - 1. */
		size_t d = c == '{' || c == '[' ? depth - 1 : depth;
		if (d && counts[d] > (object[d] ? lim->max_members : lim->max_array)) {
			*why = object[d] ? "an object has more members than the webhook accepts"
					 : "an array has more elements than the webhook accepts";
			return false;
		}
	}
	if (out) {
		out->nodes = nodes;
		out->depth = deepest;
	}
	return true;
}
