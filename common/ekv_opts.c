/* ekv_opts: table-driven command-line options (see ekv_opts.h). */
#include "ekv_opts.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_fdlimit.h"
#include "ekv_log.h"
#include "ekv_mem.h"

#define HELP_COLUMN 26 /* where help text starts in the usage */

static void *field_of(const ekv_opt_t *o, void *opts)
{
    return (char *)opts + o->off;
}

static const void *cfield_of(const ekv_opt_t *o, const void *opts)
{
    return (const char *)opts + o->off;
}

static int problem(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int problem(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return EKV_EINVAL;
}

/* Whole numbers and numbers: strto* would skip leading space, so it is refused here. */
static int read_int(const ekv_opt_t *o, const char *s, long *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || end == s || *end || isspace((unsigned char)*s))
        return problem(err, errlen, "bad value for --%s: '%s' is not a whole number", o->name, s);
    if (errno == ERANGE || v < o->min || v > o->max)
        return problem(err, errlen, "bad value for --%s: %s is out of range %ld..%ld", o->name, s,
                       o->min, o->max);
    *out = v;
    return EKV_OK;
}

static int read_double(const ekv_opt_t *o, const char *s, double *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || end == s || *end || isspace((unsigned char)*s))
        return problem(err, errlen, "bad value for --%s: '%s' is not a number", o->name, s);
    if (!isfinite(v)) /* "inf", "nan", or too large for a double */
        return problem(err, errlen, "bad value for --%s: '%s' is not a finite number", o->name, s);
    if (v < o->dmin || v > o->dmax)
        return problem(err, errlen, "bad value for --%s: %s is out of range %g..%g", o->name, s,
                       o->dmin, o->dmax);
    *out = v;
    return EKV_OK;
}

static void list_names(const ekv_opt_t *o, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; o->names[i] && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", o->names[i]);
}

static int read_enum(const ekv_opt_t *o, const char *s, int *out, char *err, size_t errlen)
{
    for (int i = 0; o->names[i]; i++) {
        if (strcmp(s, o->names[i]) == 0) {
            *out = o->values ? o->values[i] : i;
            return EKV_OK;
        }
    }
    char names[256];
    list_names(o, names, sizeof names);
    return problem(err, errlen, "bad value for --%s: '%s' is not one of %s", o->name, s, names);
}

/* Reads the value s of option o into its field. */
static int read_value(const ekv_opt_t *o, const char *s, void *opts, char *err, size_t errlen)
{
    void *f = field_of(o, opts);
    switch (o->kind) {
    case EKV_OPT_STRING:
        if (o->check && o->check(s) != 0)
            break;
        *(const char **)f = s;
        return EKV_OK;
    case EKV_OPT_INT:
        return read_int(o, s, f, err, errlen);
    case EKV_OPT_DOUBLE:
        return read_double(o, s, f, err, errlen);
    case EKV_OPT_ENUM:
        return read_enum(o, s, f, err, errlen);
    case EKV_OPT_CUSTOM:
        if (o->parse(s, f) != 0)
            break;
        return EKV_OK;
    case EKV_OPT_FLAG:
        break;
    }
    return problem(err, errlen, "bad value for --%s: '%s' is not a valid %s", o->name, s,
                   o->arg ? o->arg : "value");
}

static const ekv_opt_t *find(const ekv_opt_t *table, const char *name, size_t n)
{
    for (const ekv_opt_t *o = table; o->name; o++)
        if (strlen(o->name) == n && memcmp(o->name, name, n) == 0)
            return o;
    return NULL;
}

/* The options files read so far: STRING fields point into them, so they live as long as the
 * process (as argv does). */
typedef struct opts_file {
    struct opts_file *next;
    char text[];
} opts_file_t;
static opts_file_t *g_files;

static int parse_args(const ekv_opt_t *table, int argc, char **argv, void *opts, char *err,
                      size_t errlen, int in_file);

/* Reads the file's text (up to 1 MiB) into memory kept for the process; NULL with errno on
 * failure. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1u << 20;
    opts_file_t *of = ekv_malloc(sizeof *of + cap);
    size_t n = fread(of->text, 1, cap, f);
    int e = ferror(f) ? EIO : n == cap ? EFBIG : 0;
    fclose(f);
    if (e) {
        free(of);
        errno = e;
        return NULL;
    }
    of->text[n] = '\0'; /* n < cap: the text ends before the last byte */
    of = ekv_realloc(of, sizeof *of + n + 1);
    of->next = g_files;
    g_files = of;
    return of->text;
}

/* --options-file PATH: one option a line ("--name VALUE", "--name=VALUE" or "--flag"; the
 * value is the rest of the line, so it may hold spaces), blank lines and lines starting with
 * '#' skipped. The options take effect where the file is named: later ones replace them. */
static int parse_file(const ekv_opt_t *table, const char *path, void *opts, char *err,
                      size_t errlen)
{
    char *text = slurp(path);
    if (!text)
        return problem(err, errlen, "--options-file %s: %s", path, strerror(errno));
    char *line = text;
    for (int lineno = 1; line && *line; lineno++) {
        char *nl = strchr(line, '\n'), *next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        char *end = line + strlen(line);
        while (end > line && isspace((unsigned char)end[-1]))
            *--end = '\0';
        while (isspace((unsigned char)*line))
            line++;
        if (*line && *line != '#') {
            char *words[3] = {"", line, NULL};
            int n = 2;
            char *sp = line + strcspn(line, " \t");
            if (*sp) { /* "--name VALUE": the value after the blanks */
                *sp++ = '\0';
                sp += strspn(sp, " \t");
                words[n++] = sp;
            }
            char why[256];
            int rc = parse_args(table, n, words, opts, why, sizeof why, 1);
            if (rc == EKV_OPTS_HELP)
                return problem(err, errlen, "%s:%d: --help is not an option for a file", path,
                               lineno);
            if (rc != EKV_OK)
                return problem(err, errlen, "%s:%d: %s", path, lineno, why);
        }
        line = next;
    }
    return EKV_OK;
}

int ekv_opts_parse(const ekv_opt_t *table, int argc, char **argv, void *opts, char *err,
                   size_t errlen)
{
    return parse_args(table, argc, argv, opts, err, errlen, 0);
}

static int parse_args(const ekv_opt_t *table, int argc, char **argv, void *opts, char *err,
                      size_t errlen, int in_file)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || !a[2])
            return problem(err, errlen, "unexpected argument '%s'", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        if (!eq && strcmp(name, "help") == 0)
            return EKV_OPTS_HELP;
        if (n == 12 && memcmp(name, "options-file", 12) == 0 && !find(table, name, n)) {
            const char *path = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (in_file)
                return problem(err, errlen, "--options-file cannot name another file");
            if (!path || !*path)
                return problem(err, errlen, "--options-file needs a value (FILE)");
            int rc = parse_file(table, path, opts, err, errlen);
            if (rc != EKV_OK)
                return rc;
            continue;
        }
        const ekv_opt_t *o = find(table, name, n);
        if (!o)
            return problem(err, errlen, "unknown option '--%.*s' (see --help)", (int)n, name);
        if (o->kind == EKV_OPT_FLAG) {
            if (eq)
                return problem(err, errlen, "--%s takes no value", o->name);
            *(int *)field_of(o, opts) = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v)
            return problem(err, errlen, "--%s needs a value (%s)", o->name,
                           o->arg ? o->arg : "VALUE");
        int rc = read_value(o, v, opts, err, errlen);
        if (rc != EKV_OK)
            return rc;
    }
    return EKV_OK;
}

/* The value of o in opts as text; "" when it has none (an unset string, a flag). */
static void show(const ekv_opt_t *o, const void *opts, char *buf, size_t len)
{
    const void *f = cfield_of(o, opts);
    buf[0] = '\0';
    switch (o->kind) {
    case EKV_OPT_STRING:
        snprintf(buf, len, "%s", *(const char *const *)f ? *(const char *const *)f : "");
        break;
    case EKV_OPT_INT:
        snprintf(buf, len, "%ld", *(const long *)f);
        break;
    case EKV_OPT_DOUBLE:
        snprintf(buf, len, "%.15g", *(const double *)f); /* exact for what people type */
        break;
    case EKV_OPT_ENUM:
        for (int i = 0; o->names[i]; i++)
            if ((o->values ? o->values[i] : i) == *(const int *)f)
                snprintf(buf, len, "%s", o->names[i]);
        break;
    case EKV_OPT_CUSTOM:
        if (o->show)
            o->show(f, buf, len);
        break;
    case EKV_OPT_FLAG:
        break;
    }
}

static void usage_row(FILE *f, const ekv_opt_t *o, const void *defaults)
{
    char head[128], def[256] = "", names[256] = "";
    snprintf(head, sizeof head, "  --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    if (o->kind != EKV_OPT_FLAG)
        show(o, defaults, def, sizeof def);
    if (o->kind == EKV_OPT_ENUM)
        list_names(o, names, sizeof names);
    int col = (int)strlen(head) < HELP_COLUMN - 1 ? (int)strlen(head) : -1;
    fprintf(f, "%s", head);
    if (col < 0) /* too long: help on the next line */
        fprintf(f, "\n");
    const char *line = o->help;
    for (int first = 1;; first = 0) {
        const char *nl = strchr(line, '\n');
        int n = nl ? (int)(nl - line) : (int)strlen(line);
        int pad = first && col >= 0 ? HELP_COLUMN - col : HELP_COLUMN;
        fprintf(f, "%*s%.*s", pad, "", n, line);
        if (!nl)
            break;
        fprintf(f, "\n");
        line = nl + 1;
    }
    if (names[0])
        fprintf(f, ": %s", names);
    if (def[0])
        fprintf(f, " (default %s)", def);
    fprintf(f, "\n");
}

void ekv_opts_usage(FILE *f, const char *synopsis, const ekv_opt_t *table, const void *defaults)
{
    fprintf(f, "usage: %s\n", synopsis);
    for (const ekv_opt_t *o = table; o->name; o++)
        usage_row(f, o, defaults);
    fprintf(f,
            "  --options-file FILE%*sread options from FILE, one a line (\"--name VALUE\",\n"
            "%*s'#' comments); later options replace its\n",
            HELP_COLUMN - 21, "", HELP_COLUMN, "");
    fprintf(f, "  --help%*sprint this text and exit\n", HELP_COLUMN - 8, "");
}

void ekv_opts_format(const ekv_opt_t *table, const void *opts, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const ekv_opt_t *o = table; o->name && n < len; o++) {
        char v[256];
        show(o, opts, v, sizeof v);
        int set = o->kind == EKV_OPT_FLAG ? *(const int *)cfield_of(o, opts) : v[0] != '\0';
        if (!set)
            continue;
        if (o->secret)
            snprintf(v, sizeof v, "(secret)");
        n += (size_t)snprintf(buf + n, len - n, "%s--%s%s%s", n ? " " : "", o->name,
                              o->kind == EKV_OPT_FLAG ? "" : " ", v);
    }
}

void ekv_opts_begin(const char *program, const ekv_opt_t *table, const void *opts, int verbose)
{
    ekv_log_init(program, verbose ? EKV_LOG_DEBUG : EKV_LOG_INFO);
    char line[2048];
    ekv_opts_format(table, opts, line, sizeof line);
    ekv_debug("options: %s", line);
    int rc = ekv_fdlimit_raise(line, sizeof line);
    ekv_log(rc == EKV_OK ? EKV_LOG_INFO : EKV_LOG_WARN, "%s", line);
}
