#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mirrorgate/core/doc.h"
#include "mirrorgate/util/err.h"
#include "mirrorgate/util/strbuf.h"

static mg_doc_list parse_ok(const char *text)
{
	mg_doc_list list;
	mg_parse_error err;
	int rc = mg_doc_parse_yaml(&list, text, strlen(text), &err);
	cr_assert_eq(rc, 0, "parse failed: line %d: %s", err.line, err.message);
	return list;
}

static mg_parse_error parse_bad(const char *text, size_t len, int want_rc)
{
	mg_doc_list list;
	mg_parse_error err;
	int rc = mg_doc_parse_yaml(&list, text, len, &err);
	cr_assert_eq(rc, want_rc, "rc %d (%s), message: %s", rc, mg_strerror(rc), err.message);
	cr_assert_eq(list.len, 0);
	cr_assert_null(list.items);
	cr_assert_neq(err.message[0], '\0');
	return err;
}

Test(doc, multi_document_stream_with_lines)
{
	mg_doc_list l = parse_ok("a: 1\n---\n# comment\nkind: PersistentVolumeClaim\nmetadata:\n"
				 "  name: x\n---\n");
	cr_assert_eq(l.len, 3);
	cr_assert_eq(l.items[0].line, 1);
	cr_assert_eq(l.items[1].line, 4);
	cr_assert_null(l.items[2].root, "a trailing --- is an empty document");
	const cJSON *name = cJSON_GetObjectItem(cJSON_GetObjectItem(l.items[1].root, "metadata"), "name");
	cr_assert_str_eq(name->valuestring, "x");
	cr_assert_eq(mg_doc_line_of(&l.items[1], name), 6);
	cr_assert_eq(mg_doc_line_of_path(&l.items[1], "metadata.name"), 6);
	cr_assert_eq(mg_doc_line_of_path(&l.items[1], "metadata.labels[x]"), 5,
		     "a missing leaf points at its deepest existing parent");
	mg_doc_list_free(&l);
}

Test(doc, scalars_resolve_like_kubernetes)
{
	mg_doc_list l = parse_ok("t: true\ny: yes\noff: off\nn: ~\ne:\ni: 42\nneg: -7\nh: 0x1F\n"
				 "o: 0o17\nf: 1.5\nq: \"true\"\ns: '42'\nstr: !!str 12\nv: 1.2.3\n"
				 "big: 1_000\n");
	const cJSON *r = l.items[0].root;
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "t")));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "y")));
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r, "off")));
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "n")));
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "e")));
	cr_assert_eq(cJSON_GetObjectItem(r, "i")->valuedouble, 42);
	cr_assert_eq(cJSON_GetObjectItem(r, "neg")->valuedouble, -7);
	cr_assert_eq(cJSON_GetObjectItem(r, "h")->valuedouble, 31);
	cr_assert_eq(cJSON_GetObjectItem(r, "o")->valuedouble, 15);
	cr_assert_eq(cJSON_GetObjectItem(r, "f")->valuedouble, 1.5);
	cr_assert_str_eq(cJSON_GetObjectItem(r, "q")->valuestring, "true");
	cr_assert_str_eq(cJSON_GetObjectItem(r, "s")->valuestring, "42");
	cr_assert_str_eq(cJSON_GetObjectItem(r, "str")->valuestring, "12");
	cr_assert_str_eq(cJSON_GetObjectItem(r, "v")->valuestring, "1.2.3");
	cr_assert_eq(cJSON_GetObjectItem(r, "big")->valuedouble, 1000);
	mg_doc_list_free(&l);
}

Test(doc, anchors_aliases_and_merge_keys)
{
	mg_doc_list l = parse_ok("base: &b {x: 1, y: 2}\nlist: &l [a, b]\nuse: *b\n"
				 "merged:\n  <<: *b\n  y: 3\ncopy: *l\n");
	const cJSON *r = l.items[0].root;
	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "use"), "x")->valuedouble, 1);
	const cJSON *m = cJSON_GetObjectItem(r, "merged");
	cr_assert_eq(cJSON_GetObjectItem(m, "x")->valuedouble, 1);
	cr_assert_eq(cJSON_GetObjectItem(m, "y")->valuedouble, 3, "explicit keys beat merged ones");
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "copy")), 2);
	cr_assert_eq(mg_doc_line_of(&l.items[0], cJSON_GetObjectItem(r, "copy")), 7);
	mg_doc_list_free(&l);
}

Test(doc, json_is_accepted_including_tabs)
{
	mg_doc_list l = parse_ok("{\n\t\"kind\": \"StorageClass\",\n\t\"n\": [1, 2]\n}\n");
	cr_assert_str_eq(cJSON_GetObjectItem(l.items[0].root, "kind")->valuestring, "StorageClass");
	cr_assert_eq(mg_doc_line_of_path(&l.items[0], "n"), 3);
	mg_doc_list_free(&l);
}

Test(doc, duplicate_keys_are_errors_with_both_lines)
{
	mg_parse_error e = parse_bad("a: 1\nb: 2\na: 3\n", 14, MG_EPARSE);
	cr_assert_eq(e.line, 3);
	cr_assert_str_eq(e.message, "duplicate key \"a\" (first defined on line 1)");
}

Test(doc, truncated_and_broken_syntax)
{
	mg_parse_error e = parse_bad("a: [1, 2\n", 9, MG_EPARSE);
	cr_assert(e.line >= 1);
	cr_assert(strstr(e.message, "YAML syntax error"), "%s", e.message);
	e = parse_bad("a: \"unterminated\n", 17, MG_EPARSE);
	cr_assert(strstr(e.message, "YAML syntax error"), "%s", e.message);
	e = parse_bad("a: b\n c: d\n", 11, MG_EPARSE);
	cr_assert_eq(e.line, 2);
}

Test(doc, invalid_utf8_and_nul)
{
	const char bad[] = "a: b\nc: \xff\xfe\n";
	mg_parse_error e = parse_bad(bad, sizeof(bad) - 1, MG_EPARSE);
	cr_assert_eq(e.line, 2, "line %d: %s", e.line, e.message);
	cr_assert(strstr(e.message, "invalid input"), "%s", e.message);
	const char nul[] = "a: b\0c\n";
	parse_bad(nul, sizeof(nul) - 1, MG_EPARSE);
}

Test(doc, tags_keys_and_unknown_aliases)
{
	mg_parse_error e = parse_bad("a: !custom x\n", 13, MG_EPARSE);
	cr_assert_str_eq(e.message, "unsupported YAML tag !custom");
	e = parse_bad("a: !!int abc\n", 13, MG_EPARSE);
	cr_assert_str_eq(e.message, "value abc cannot be read as !!int");
	e = parse_bad("? [a]\n: 1\n", 10, MG_EPARSE);
	cr_assert_str_eq(e.message, "mapping keys must be strings, not collections");
	e = parse_bad("a: *nope\n", 9, MG_EPARSE);
	cr_assert(strstr(e.message, "unknown anchor \"nope\""), "%s", e.message);
}

Test(doc, deep_nesting_is_refused)
{
	mg_strbuf sb = MG_STRBUF_INIT;
	for (int i = 0; i < 1000; i++)
		mg_strbuf_putc(&sb, '[');
	for (int i = 0; i < 1000; i++)
		mg_strbuf_putc(&sb, ']');
	mg_parse_error e = parse_bad(sb.data, sb.len, MG_ETOOBIG);
	cr_assert(strstr(e.message, "nesting deeper than 128 levels"), "%s", e.message);
	mg_strbuf_free(&sb);
}

Test(doc, huge_scalar_is_refused)
{
	size_t n = MG_DOC_MAX_SCALAR + 10;
	char *text = malloc(n + 4);
	memcpy(text, "a: ", 3);
	memset(text + 3, 'x', n);
	text[n + 3] = '\0';
	mg_parse_error e = parse_bad(text, n + 3, MG_ETOOBIG);
	cr_assert(strstr(e.message, "over the limit"), "%s", e.message);
	free(text);
}

Test(doc, alias_bomb_is_refused)
{
	const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
			   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
			   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
	mg_parse_error e = parse_bad(bomb, strlen(bomb), MG_ETOOBIG);
	cr_assert(strstr(e.message, "document too large"), "%s", e.message);
}

Test(doc, empty_input_has_no_documents)
{
	mg_doc_list l = parse_ok("");
	cr_assert_eq(l.len, 0);
	mg_doc_list_free(&l);
	l = parse_ok("# only a comment\n");
	cr_assert_eq(l.len, 0);
	mg_doc_list_free(&l);
}
