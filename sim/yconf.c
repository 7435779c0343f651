/* yconf: typed, range-checked getters over libyaml documents (see yconf.h). */
#include "yconf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_file.h"

static int problem(yc_ctx_t *c, int line, const char *fmt, va_list ap)
{
    if (c->failed)
        return -1;
    c->failed = 1;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    snprintf(c->err, c->errlen, "%s:%d: %s", c->name, line, msg);
    return -1;
}

int yc_problem(yc_ctx_t *c, const yaml_node_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    problem(c, at ? (int)at->start_mark.line + 1 : 1, fmt, ap);
    va_end(ap);
    return -1;
}

int yc_problem_at(yc_ctx_t *c, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    problem(c, line, fmt, ap);
    va_end(ap);
    return -1;
}

const char *yc_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int yc_number(yc_ctx_t *c, const yaml_node_t *v, const char *field, double lo, double hi,
              double *out)
{
    const char *s = yc_scalar(v);
    char *end = NULL;
    double d = s ? strtod(s, &end) : NAN;
    if (!s || !*s || *end || !isfinite(d) || d < lo || d > hi)
        return yc_problem(c, v, "%s: expected a number in %g..%g, got '%s'", field, lo, hi,
                          s ? s : "(not a scalar)");
    *out = d;
    return 0;
}

int yc_port(yc_ctx_t *c, const yaml_node_t *v, const char *field, int *out)
{
    double d = 0; /* set on success only; gcc -O3 cannot see that through the inlined check */
    if (yc_number(c, v, field, 0, 65535, &d) != 0)
        return -1;
    if (d != floor(d))
        return yc_problem(c, v, "%s: expected a whole port number", field);
    *out = (int)d;
    return 0;
}

int yc_string(yc_ctx_t *c, const yaml_node_t *v, const char *field, char *out, size_t size)
{
    const char *s = yc_scalar(v);
    if (!s || strlen(s) >= size)
        return yc_problem(c, v, "%s: expected text of at most %zu characters", field, size - 1);
    strcpy(out, s);
    return 0;
}

int yc_bool(yc_ctx_t *c, const yaml_node_t *v, const char *field, int *out)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    const char *s = yc_scalar(v);
    for (size_t i = 0; s && i < 3; i++) {
        if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
            *out = !strcmp(s, yes[i]);
            return 0;
        }
    }
    return yc_problem(c, v, "%s: expected true or false", field);
}

int yc_pairs(yc_ctx_t *c, yaml_node_t *n, const char *what, yaml_node_pair_t **b,
             yaml_node_pair_t **e)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return yc_problem(c, n, "%s: expected a mapping", what);
    *b = n->data.mapping.pairs.start;
    *e = n->data.mapping.pairs.top;
    return 0;
}

int yc_jitter(yc_ctx_t *c, const yaml_node_t *v, const char *field, char *out, size_t size)
{
    if (yc_string(c, v, field, out, size))
        return -1;
    double a, b;
    char kind[16], extra;
    int n = sscanf(out, "%15[a-z]:%lf:%lf%c", kind, &a, &b, &extra);
    int ok = (!strcmp(out, "none")) ||
             (n == 2 && (!strcmp(kind, "uniform") || !strcmp(kind, "normal")) && a >= 0) ||
             (n == 3 && !strcmp(kind, "pareto") && a >= 0 && b > 1);
    return ok ? 0
              : yc_problem(c, v, "%s: '%s' is not none, uniform:MS, normal:MS or pareto:MS:SHAPE",
                           field, out);
}

int yc_policy(yc_ctx_t *c, const yaml_node_t *v, const char *p)
{
    static const char *ok[] = {"push", "push-all", "invalidate", "ttl", "kv"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(p, ok[i]) == 0)
            return 0;
    return yc_problem(c, v, "policy: '%s' is not one of push, push-all, invalidate, ttl, kv", p);
}

int yc_load(const char *name, const char *text, size_t len, yaml_document_t *doc, char *err,
            size_t errlen)
{
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int ok = yaml_parser_load(&parser, doc);
    if (!ok)
        snprintf(err, errlen, "%s:%d: %s", name, (int)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "YAML syntax error");
    yaml_parser_delete(&parser);
    return ok ? 0 : -1;
}

int yc_parse(const char *name, const char *text, size_t len,
             int (*root_fn)(yc_ctx_t *c, yaml_node_t *root, void *obj), void *obj, char *err,
             size_t errlen)
{
    yaml_document_t doc;
    if (yc_load(name, text, len, &doc, err, errlen) != 0)
        return -1;
    yc_ctx_t c = {&doc, name, err, errlen, 0};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        yc_problem(&c, NULL, "the file is empty");
    else
        root_fn(&c, root, obj);
    yaml_document_delete(&doc);
    return c.failed ? -1 : 0;
}

int yc_read(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    int rc = ekv_file_read(path, 16u << 20, text, len);
    if (rc != EKV_OK)
        snprintf(err, errlen, "%s: cannot read: %s", path, ekv_strerror(rc));
    return rc == EKV_OK ? 0 : -1;
}
