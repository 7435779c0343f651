/* kvcli: the parts of `edgekv kv` that need no world: JSONC to JSON (comments and trailing
 * commas go, strings and line numbers stay), wrangler's rules for the namespace a --binding
 * names, and the base64 of bulk values. */
#include <jansson.h>

#include "ekv_mem.h"
#include "ekv_test.h"
#include "kvcli.h"
#include "kvcli_int.h"

/* Strips text (a copy) and parses it; NULL when jansson refuses, e set. */
static json_t *strip_load(const char *text, json_error_t *e)
{
    size_t n = strlen(text);
    char *s = ekv_strdup(text);
    ekv_kvcli_jsonc_strip(s, n);
    CHECK_EQ(strlen(s), n); /* same length: positions still point into the file */
    json_t *j = json_loadb(s, n, 0, e);
    free(s);
    return j;
}

static void test_jsonc_comments_and_commas(void)
{
    json_error_t e;
    json_t *j = strip_load("// head\n{\n  \"a\": 1, /* inline */\n  \"b\": [1, 2, ],\n"
                           "  \"c\": { \"d\": true, // after a comma\n  },\n}\n",
                           &e);
    CHECK(j != NULL);
    CHECK_EQ(json_integer_value(json_object_get(j, "a")), 1);
    CHECK_EQ(json_array_size(json_object_get(j, "b")), 2);
    CHECK(json_is_true(json_object_get(json_object_get(j, "c"), "d")));
    json_decref(j);
}

static void test_jsonc_strings_untouched(void)
{
    json_error_t e;
    json_t *j = strip_load("{\"u\": \"https://x.example/*\", \"q\": \"a \\\"b\\\" // c */\","
                           " \"k\": \"x,]\", \"s\": \"\\\\\"}",
                           &e);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "u")), "https://x.example/*");
    CHECK_STR(json_string_value(json_object_get(j, "q")), "a \"b\" // c */");
    CHECK_STR(json_string_value(json_object_get(j, "k")), "x,]");
    CHECK_STR(json_string_value(json_object_get(j, "s")), "\\");
    json_decref(j);
}

static void test_jsonc_lines_kept(void)
{
    json_error_t e;
    /* the mistake is on line 4, after a comment over two lines */
    json_t *j = strip_load("{\n/* one\n two */\n  \"a\" 1,\n}\n", &e);
    CHECK(j == NULL);
    CHECK_EQ(e.line, 4);
    /* an unterminated comment or string ends the text, nothing is read past it */
    json_t *j2 = strip_load("{\"a\": 1} /* open", &e);
    CHECK(j2 != NULL);
    json_decref(j2);
    char open[] = "{\"a\": \"\\";
    ekv_kvcli_jsonc_strip(open, strlen(open));
    CHECK_STR(open, "{\"a\": \"\\");
}

static kv_ctx_t ctx_with(const char *conf)
{
    kv_ctx_t c = {0};
    c.conf = json_loads(conf, 0, NULL);
    CHECK(c.conf != NULL);
    snprintf(c.conf_path, sizeof c.conf_path, "wrangler.jsonc");
    return c;
}

static void test_binding_rules(void)
{
    char err[512];
    kv_args_t a = {.binding = "ONE", .preview = -1};
    kv_ctx_t c = ctx_with("{\"kv_namespaces\": [{\"binding\": \"ONE\", \"id\": \"i1\"},"
                          "{\"binding\": \"PRE\", \"preview_id\": \"p2\"},"
                          "{\"binding\": \"TWO\", \"id\": \"i3\", \"preview_id\": \"p3\"}],"
                          "\"env\": {\"st\": {\"kv_namespaces\": [{\"binding\": \"ONE\","
                          "\"id\": \"s1\"}]}}}");
    CHECK_EQ(kv_resolve_ns(&c, &a, err, sizeof err), 0);
    CHECK_STR(c.ns, "i1");
    a.binding = "PRE"; /* its only id */
    CHECK_EQ(kv_resolve_ns(&c, &a, err, sizeof err), 0);
    CHECK_STR(c.ns, "p2");
    a.binding = "TWO"; /* both: --preview must say which */
    CHECK_EQ(kv_resolve_ns(&c, &a, err, sizeof err), -1);
    CHECK(strstr(err, "TWO has both a namespace ID and a preview ID") == err);
    a.preview = 1;
    CHECK_EQ(kv_resolve_ns(&c, &a, err, sizeof err), 0);
    CHECK_STR(c.ns, "p3");
    a.preview = 0;
    CHECK_EQ(kv_resolve_ns(&c, &a, err, sizeof err), 0);
    CHECK_STR(c.ns, "i3");
    a = (kv_args_t){.binding = "ONE", .preview = 1};
    CHECK_EQ(kv_resolve_ns(&c, &a, err, sizeof err), -1);
    CHECK(strstr(err, "No preview ID found for ONE.") == err);
    a = (kv_args_t){.binding = "ONE", .preview = -1, .env = "st"};
    CHECK_EQ(kv_resolve_ns(&c, &a, err, sizeof err), 0);
    CHECK_STR(c.ns, "s1");
    a.env = "prod";
    CHECK_EQ(kv_resolve_ns(&c, &a, err, sizeof err), -1);
    a = (kv_args_t){.binding = "NOPE", .preview = -1};
    CHECK_EQ(kv_resolve_ns(&c, &a, err, sizeof err), -1);
    CHECK_STR(err, "A namespace with binding name \"NOPE\" was not found in the configured "
                   "\"kv_namespaces\".");
    a = (kv_args_t){.ns_id = "a b/c", .preview = -1}; /* taken as it is, encoded for paths */
    CHECK_EQ(kv_resolve_ns(&c, &a, err, sizeof err), 0);
    CHECK_STR(c.ns, "a b/c");
    CHECK_STR(c.ns_enc, "a%20b%2Fc");
    json_decref(c.conf);
    kv_ctx_t none = {0};
    a = (kv_args_t){.binding = "ONE", .preview = -1};
    CHECK_EQ(kv_resolve_ns(&none, &a, err, sizeof err), -1);
    CHECK(strstr(err, "No KV Namespaces configured!") == err); /* wrangler 4: no file, none */
}

int main(void)
{
    EKV_TEST_RUN(test_jsonc_comments_and_commas);
    EKV_TEST_RUN(test_jsonc_strings_untouched);
    EKV_TEST_RUN(test_jsonc_lines_kept);
    EKV_TEST_RUN(test_binding_rules);
    EKV_TEST_DONE();
}
