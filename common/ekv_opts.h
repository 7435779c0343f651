/* ekv_opts: a program's command-line options read from one table.
 *
 * A program keeps its options in one struct of its own (values in the units the user types:
 * milliseconds, MiB) and describes each option by one row: long name, kind, the field's
 * offset in that struct, the value's name and help text for the usage, and what the kind needs
 * (a range, the names of an enum, a callback). ekv_opts_parse() fills the struct from argv
 * and stops at the first mistake with a message naming the option; the program then builds
 * its real configuration from the struct. The usage text and the "effective options" debug
 * line are generated from the same rows, so they cannot drift from what is parsed.
 *
 * Syntax: `--name VALUE`, `--name=VALUE`, `--flag`; names match exactly (no abbreviations);
 * a later occurrence of an option replaces an earlier one; `--help` is always known.
 * A table ends with a row whose name is NULL ({.name = NULL}). STRING fields are set to point
 * into argv, which must outlive them. */
#ifndef EKV_OPTS_H
#define EKV_OPTS_H

#include <stddef.h>
#include <stdio.h>

typedef enum {
    EKV_OPT_STRING, /* const char *: the argument itself; check() may refuse it */
    EKV_OPT_INT,    /* long: a whole decimal number in min..max */
    EKV_OPT_DOUBLE, /* double: a finite number in dmin..dmax (inf and nan refused) */
    EKV_OPT_FLAG,   /* int: set to 1; the option takes no value */
    EKV_OPT_ENUM,   /* int: values[i] (or i) for the argument equal to names[i] */
    EKV_OPT_CUSTOM, /* any type: parse() reads the argument into the field */
} ekv_opt_kind_t;

typedef struct {
    const char *name;              /* long name without "--"; NULL ends the table */
    ekv_opt_kind_t kind;           /* how the argument is read */
    size_t off;                    /* offset of the field in the options struct */
    const char *arg;               /* the value's name in the usage ("MS"); flags: NULL */
    const char *help;              /* what it does; '\n' starts another usage line */
    long min, max;                 /* EKV_OPT_INT: the accepted range */
    double dmin, dmax;             /* EKV_OPT_DOUBLE: the accepted range */
    const char *const *names;      /* EKV_OPT_ENUM: accepted names, NULL-terminated */
    const int *values;             /* EKV_OPT_ENUM: value of each name; NULL: its index */
    int (*check)(const char *arg); /* EKV_OPT_STRING, optional: non-zero refuses */
    int (*parse)(const char *arg, void *field);             /* EKV_OPT_CUSTOM: 0, or -1 */
    void (*show)(const void *field, char *buf, size_t len); /* EKV_OPT_CUSTOM: as text */
    int secret; /* a credential: ekv_opts_format() writes "(secret)" for its value */
} ekv_opt_t;

#define EKV_OPTS_HELP 1 /* ekv_opts_parse(): --help was given */

/* Reads argv[1..argc-1] into opts (a struct laid out as the table's offsets say), which holds
 * the defaults beforehand. Returns EKV_OK, EKV_OPTS_HELP as soon as --help is seen (print the
 * usage and exit 0), or EKV_EINVAL with a message naming the option in err: an unknown
 * option, an argument that is no option, a missing value, a value given to a flag, or a value
 * that is malformed or out of range ("bad value for --NAME: ..."). opts may be partly
 * filled on error. */
int ekv_opts_parse(const ekv_opt_t *table, int argc, char **argv, void *opts, char *err,
                   size_t errlen);

/* Writes "usage: SYNOPSIS" and one entry per row (name, value name, help, and the value in
 * defaults as "(default ...)" when it has one) to f. */
void ekv_opts_usage(FILE *f, const char *synopsis, const ekv_opt_t *table, const void *defaults);

/* Writes every option's value in opts as a command line ("--name pop --delay-ms 20 ...";
 * unset strings and flags left out, secrets hidden) into buf, cut to len - 1 bytes. For the
 * debug log. */
void ekv_opts_format(const ekv_opt_t *table, const void *opts, char *buf, size_t len);

/* What a daemon does once its options are read: logging under program's name at debug level
 * with verbose, else info; its options as one debug line; the soft open-file limit raised to
 * the hard one (ekv_fdlimit), logged. */
void ekv_opts_begin(const char *program, const ekv_opt_t *table, const void *opts, int verbose);

#endif
