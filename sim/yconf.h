/* yconf: reading configuration files (topology, experiments) from libyaml documents.
 *
 * Every getter checks the node's type and range and, on a problem, records the first error as
 * "FILE:LINE: message" (later problems are ignored) and returns -1, so loaders can check many
 * fields and report the first mistake with its line. */
#ifndef EKV_YCONF_H
#define EKV_YCONF_H

#include <stddef.h>
#include <yaml.h>

typedef struct {
    yaml_document_t *doc; /* the loaded document */
    const char *name;     /* file name for messages */
    char *err;            /* where the message goes */
    size_t errlen;
    int failed; /* an error was recorded */
} yc_ctx_t;

/* Records the first problem as "FILE:LINE: message" (at the node's line, 1 for none);
 * returns -1. Later problems are dropped. */
int yc_problem(yc_ctx_t *c, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same at a line recorded earlier. */
int yc_problem_at(yc_ctx_t *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The text of a scalar node; NULL for other nodes. */
const char *yc_scalar(const yaml_node_t *n);
int yc_number(yc_ctx_t *c, const yaml_node_t *v, const char *field, double lo, double hi,
              double *out);
int yc_port(yc_ctx_t *c, const yaml_node_t *v, const char *field, int *out);
/* true or false (also yes/no, on/off). */
int yc_bool(yc_ctx_t *c, const yaml_node_t *v, const char *field, int *out);
int yc_string(yc_ctx_t *c, const yaml_node_t *v, const char *field, char *out, size_t size);
/* The pairs of a mapping node. */
int yc_pairs(yc_ctx_t *c, yaml_node_t *n, const char *what, yaml_node_pair_t **b,
             yaml_node_pair_t **e);
/* A jitter spec: none, uniform:MS, normal:MS or pareto:MS:SHAPE (SHAPE > 1). */
int yc_jitter(yc_ctx_t *c, const yaml_node_t *v, const char *field, char *out, size_t size);
/* A propagation policy name (already read into p). */
int yc_policy(yc_ctx_t *c, const yaml_node_t *v, const char *p);
/* Parses text into doc; on a syntax error writes "NAME:LINE: problem" to err and returns -1.
 * On success the caller deletes doc with yaml_document_delete(). */
int yc_load(const char *name, const char *text, size_t len, yaml_document_t *doc, char *err,
            size_t errlen);

/* Loads text as YAML and hands the root mapping to root_fn(ctx, root, obj): reports a syntax
 * error or an empty file itself. Returns 0, or -1 with "NAME:LINE: problem" in err. */
int yc_parse(const char *name, const char *text, size_t len,
             int (*root_fn)(yc_ctx_t *c, yaml_node_t *root, void *obj), void *obj, char *err,
             size_t errlen);
/* Reads a file (at most 16 MiB) into a new buffer; -1 with "PATH: cannot read: ..." in err. */
int yc_read(const char *path, char **text, size_t *len, char *err, size_t errlen);

#define YC_NODE(c, id) yaml_document_get_node((c)->doc, (id))

#endif
