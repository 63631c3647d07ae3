#include "report.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

int mg_report_add(mg_report *r, mg_result *res)
{
	mg_result *grown = realloc(r->results, (r->len + 1) * sizeof(*grown));
	if (!grown)
		return MG_ENOMEM;
	r->results = grown;
	r->results[r->len++] = *res;
	memset(res, 0, sizeof(*res));
	return 0;
}

int mg_report_exit_code(const mg_report *r, bool strict)
{
	int code = 0;
	for (size_t i = 0; i < r->len; i++) {
		const mg_result *res = &r->results[i];
		if (res->status == MG_RESULT_MALFORMED)
			return 2;
		if (res->status == MG_RESULT_INVALID || (strict && res->nwarnings))
			code = 1;
	}
	return code;
}

static const char *object_name(const mg_result *res, mg_strbuf *sb)
{
	mg_strbuf_reset(sb);
	mg_strbuf_printf(sb, "%s %s%s%s", res->kind ? res->kind : "?", res->ns ? res->ns : "",
			 res->ns ? "/" : "", res->name ? res->name : "?");
	return sb->failed ? "?" : sb->data;
}

struct counts {
	size_t valid, invalid, skipped, malformed, warnings;
};

static struct counts count(const mg_report *r)
{
	struct counts c = {0};
	for (size_t i = 0; i < r->len; i++) {
		switch (r->results[i].status) {
		case MG_RESULT_VALID: c.valid++; break;
		case MG_RESULT_INVALID: c.invalid++; break;
		case MG_RESULT_SKIPPED: c.skipped++; break;
		case MG_RESULT_MALFORMED: c.malformed++; break;
		}
		c.warnings += r->results[i].nwarnings;
	}
	return c;
}

static int write_text(const mg_report *r, bool verbose, FILE *out)
{
	mg_strbuf name = MG_STRBUF_INIT;
	for (size_t i = 0; i < r->len; i++) {
		const mg_result *res = &r->results[i];
		switch (res->status) {
		case MG_RESULT_MALFORMED:
			fprintf(out, "%s:%d: error: %s\n", res->file,
				res->nerrors ? res->errors[0].line : res->line, res->message);
			break;
		case MG_RESULT_INVALID:
			fprintf(out, "%s:%d: %s\n", res->file,
				res->nerrors ? res->errors[0].line : res->line, res->message);
			break;
		case MG_RESULT_VALID:
			if (verbose)
				fprintf(out, "%s:%d: ok: %s (%s)\n", res->file, res->line,
					object_name(res, &name), res->operation);
			break;
		case MG_RESULT_SKIPPED:
			if (verbose)
				fprintf(out, "%s:%d: skipped: %s (no mirrorgate rules for this kind)\n",
					res->file, res->line, object_name(res, &name));
			break;
		}
		for (size_t w = 0; w < res->nwarnings; w++)
			fprintf(out, "%s:%d: warning: %s [%s]\n", res->file, res->line, res->warnings[w],
				res->warning_rules[w]);
	}
	mg_strbuf_free(&name);
	struct counts c = count(r);
	fprintf(out, "%zu documents: %zu valid, %zu invalid, %zu malformed, %zu skipped; %zu "
		"warnings\n", r->len, c.valid, c.invalid, c.malformed, c.skipped, c.warnings);
	return ferror(out) ? MG_EIO : 0;
}

static const char *status_name(enum mg_result_status s)
{
	switch (s) {
	case MG_RESULT_VALID: return "valid";
	case MG_RESULT_INVALID: return "invalid";
	case MG_RESULT_SKIPPED: return "skipped";
	case MG_RESULT_MALFORMED: return "malformed";
	}
	return "invalid";
}

static cJSON *result_json(const mg_result *res)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "file", res->file);
	cJSON_AddNumberToObject(o, "line", res->line);
	cJSON_AddStringToObject(o, "status", status_name(res->status));
	if (res->kind)
		cJSON_AddStringToObject(o, "kind", res->kind);
	if (res->ns)
		cJSON_AddStringToObject(o, "namespace", res->ns);
	if (res->name)
		cJSON_AddStringToObject(o, "name", res->name);
	if (res->operation)
		cJSON_AddStringToObject(o, "operation", res->operation);
	if (res->message)
		cJSON_AddStringToObject(o, "message", res->message);
	cJSON *errs = cJSON_AddArrayToObject(o, "errors");
	for (size_t i = 0; errs && i < res->nerrors; i++) {
		cJSON *e = cJSON_CreateObject();
		if (!e)
			break;
		cJSON_AddStringToObject(e, "rule", res->errors[i].rule);
		cJSON_AddNumberToObject(e, "line", res->errors[i].line);
		cJSON_AddStringToObject(e, "message", res->errors[i].text);
		cJSON_AddItemToArray(errs, e);
	}
	cJSON *warns = cJSON_AddArrayToObject(o, "warnings");
	for (size_t i = 0; warns && i < res->nwarnings; i++) {
		cJSON *w = cJSON_CreateObject();
		if (!w)
			break;
		cJSON_AddStringToObject(w, "rule", res->warning_rules[i]);
		cJSON_AddStringToObject(w, "message", res->warnings[i]);
		cJSON_AddItemToArray(warns, w);
	}
	if (res->patch) {
		cJSON *p = cJSON_Parse(res->patch);
		if (p)
			cJSON_AddItemToObject(o, "patch", p);
	}
	return o;
}

static int write_json(const mg_report *r, FILE *out)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *docs = root ? cJSON_AddArrayToObject(root, "documents") : NULL;
	if (!docs) {
		cJSON_Delete(root);
		return MG_ENOMEM;
	}
	for (size_t i = 0; i < r->len; i++) {
		cJSON *d = result_json(&r->results[i]);
		if (!d) {
			cJSON_Delete(root);
			return MG_ENOMEM;
		}
		cJSON_AddItemToArray(docs, d);
	}
	struct counts c = count(r);
	cJSON *s = cJSON_AddObjectToObject(root, "summary");
	if (s) {
		cJSON_AddNumberToObject(s, "documents", (double)r->len);
		cJSON_AddNumberToObject(s, "valid", (double)c.valid);
		cJSON_AddNumberToObject(s, "invalid", (double)c.invalid);
		cJSON_AddNumberToObject(s, "malformed", (double)c.malformed);
		cJSON_AddNumberToObject(s, "skipped", (double)c.skipped);
		cJSON_AddNumberToObject(s, "warnings", (double)c.warnings);
	}
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return MG_ENOMEM;
	fprintf(out, "%s\n", text);
	free(text);
	return ferror(out) ? MG_EIO : 0;
}

static void xml_escaped(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputs("?", out); /* not representable in XML 1.0 */
			else
				fputc(*s, out);
		}
	}
}

static int write_junit(const mg_report *r, FILE *out)
{
	struct counts c = count(r);
	mg_strbuf name = MG_STRBUF_INIT;
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(out, "<testsuites name=\"mirrorgate validate\" tests=\"%zu\" failures=\"%zu\" "
		"errors=\"%zu\" skipped=\"%zu\">\n", r->len, c.invalid, c.malformed, c.skipped);
	fprintf(out, "  <testsuite name=\"mirrorgate validate\" tests=\"%zu\" failures=\"%zu\" "
		"errors=\"%zu\" skipped=\"%zu\">\n", r->len, c.invalid, c.malformed, c.skipped);
	for (size_t i = 0; i < r->len; i++) {
		const mg_result *res = &r->results[i];
		fputs("    <testcase classname=\"", out);
		xml_escaped(out, res->file);
		fputs("\" name=\"", out);
		if (res->status == MG_RESULT_MALFORMED)
			fprintf(out, "line %d", res->line);
		else
			xml_escaped(out, object_name(res, &name));
		fputs("\"", out);
		if (res->status == MG_RESULT_VALID && !res->nwarnings) {
			fputs("/>\n", out);
			continue;
		}
		fputs(">\n", out);
		const char *tag = res->status == MG_RESULT_INVALID     ? "failure"
				  : res->status == MG_RESULT_MALFORMED ? "error"
				  : res->status == MG_RESULT_SKIPPED   ? "skipped"
								       : NULL;
		if (tag) {
			fprintf(out, "      <%s message=\"", tag);
			xml_escaped(out, res->message ? res->message : "no mirrorgate rules for this kind");
			fprintf(out, "\"/>\n");
		}
		if (res->nwarnings) {
			fputs("      <system-out>", out);
			for (size_t w = 0; w < res->nwarnings; w++) {
				fputs("warning: ", out);
				xml_escaped(out, res->warnings[w]);
				fputs("\n", out);
			}
			fputs("</system-out>\n", out);
		}
		fputs("    </testcase>\n", out);
	}
	fputs("  </testsuite>\n</testsuites>\n", out);
	mg_strbuf_free(&name);
	return ferror(out) ? MG_EIO : 0;
}

int mg_report_write(const mg_report *r, enum mg_output fmt, bool verbose, FILE *out)
{
	switch (fmt) {
	case MG_OUTPUT_JSON: return write_json(r, out);
	case MG_OUTPUT_JUNIT: return write_junit(r, out);
	case MG_OUTPUT_TEXT: break;
	}
	return write_text(r, verbose, out);
}

void mg_result_free(mg_result *res)
{
	free(res->kind);
	free(res->ns);
	free(res->name);
	free(res->message);
	for (size_t e = 0; e < res->nerrors; e++)
		free(res->errors[e].text);
	free(res->errors);
	for (size_t w = 0; w < res->nwarnings; w++)
		free(res->warnings[w]);
	free(res->warnings);
	free(res->warning_rules);
	free(res->patch);
	memset(res, 0, sizeof(*res));
}

void mg_report_free(mg_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->len; i++)
		mg_result_free(&r->results[i]);
	free(r->results);
	r->results = NULL;
	r->len = 0;
}
