/* Unit tests of ekv_opts: every kind of row with valid values, ranges, malformed numbers,
 * inf and nan, enums, custom callbacks, unknown options, missing values, --help, and the
 * usage text and debug line generated from the same table; --options-file: comments, blank
 * lines, values with spaces, order against the command line, errors with the file's line. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ekv_err.h"
#include "ekv_opts.h"
#include "ekv_test.h"
#include "ekv_tmpdir.h"

typedef struct {
    const char *name, *path, *token;
    long count;
    double ratio;
    int mode, flag, even;
} opts_t;

static int check_no_slash(const char *s)
{
    return strchr(s, '/') ? -1 : 0;
}

/* An even number, into an int. */
static int parse_even(const char *s, void *field)
{
    if (strcmp(s, "two") == 0 || strcmp(s, "four") == 0) {
        *(int *)field = s[0] == 't' ? 2 : 4;
        return 0;
    }
    return -1;
}

static void show_even(const void *field, char *buf, size_t len)
{
    snprintf(buf, len, "%s", *(const int *)field == 2 ? "two" : "four");
}

static const char *const modes[] = {"fast", "safe", "off", NULL};
static const int mode_values[] = {10, 20, 30};

#define O(field) offsetof(opts_t, field)
static const ekv_opt_t table[] = {
    {"name", EKV_OPT_STRING, O(name), "NAME", .help = "a name", .check = check_no_slash},
    {"path", EKV_OPT_STRING, O(path), "PATH", .help = "a path"},
    {"count", EKV_OPT_INT, O(count), "N", .help = "how many", .min = -5, .max = 100},
    {"ratio", EKV_OPT_DOUBLE, O(ratio), "R", .help = "a ratio\nsecond line", .dmin = 0.5,
     .dmax = 2},
    {"mode", EKV_OPT_ENUM, O(mode), "M", .help = "the mode", .names = modes, .values = mode_values},
    {"flag", EKV_OPT_FLAG, O(flag), NULL, .help = "a flag"},
    {"even", EKV_OPT_CUSTOM, O(even), "E", .help = "two or four", .parse = parse_even,
     .show = show_even},
    {"a-very-long-option-name", EKV_OPT_FLAG, O(flag), NULL, .help = "long"},
    {"token", EKV_OPT_STRING, O(token), "T", .help = "a credential", .secret = 1},
    {.name = NULL}, /* the end */
};
#undef O

static const opts_t defaults = {"dflt", NULL, NULL, 7, 1.0, 20, 0, 2};

static char err[256];

/* Parses the NULL-terminated words after a program name into *o (from the defaults). */
static int parse_words(opts_t *o, const char *const *words)
{
    char *argv[32] = {"prog"};
    int argc = 1;
    while (*words)
        argv[argc++] = (char *)*words++;
    *o = defaults;
    err[0] = '\0';
    return ekv_opts_parse(table, argc, argv, o, err, sizeof err);
}

#define PARSE(o, ...) parse_words((o), (const char *const[]){__VA_ARGS__, NULL})

/* The arguments are refused with exactly this message. */
#define REFUSED(msg, ...)                                                                          \
    do {                                                                                           \
        opts_t o_;                                                                                 \
        CHECK_EQ(PARSE(&o_, __VA_ARGS__), EKV_EINVAL);                                             \
        CHECK_STR(err, msg);                                                                       \
    } while (0)

static void test_defaults_kept(void)
{
    opts_t o;
    char *argv[] = {"prog"};
    o = defaults;
    CHECK_EQ(ekv_opts_parse(table, 1, argv, &o, err, sizeof err), EKV_OK);
    CHECK_STR(o.name, "dflt");
    CHECK(o.path == NULL);
    CHECK_EQ(o.count, 7);
    CHECK(o.ratio == 1.0);
    CHECK_EQ(o.mode, 20);
    CHECK_EQ(o.flag, 0);
    CHECK_EQ(o.even, 2);
}

static void test_valid_values(void)
{
    opts_t o;
    CHECK_EQ(PARSE(&o, "--name", "pop1", "--path=/tmp/x", "--count", "-5", "--ratio", "2", "--mode",
                   "off", "--flag", "--even", "four"),
             EKV_OK);
    CHECK_STR(o.name, "pop1");
    CHECK_STR(o.path, "/tmp/x");
    CHECK_EQ(o.count, -5);
    CHECK(o.ratio == 2.0);
    CHECK_EQ(o.mode, 30);
    CHECK_EQ(o.flag, 1);
    CHECK_EQ(o.even, 4);
    /* range ends, --name=VALUE, a value that looks like an option, a later option wins */
    CHECK_EQ(PARSE(&o, "--count=100", "--ratio", "0.5", "--path", "--flag", "--count", "0"),
             EKV_OK);
    CHECK_EQ(o.count, 0);
    CHECK(o.ratio == 0.5);
    CHECK_STR(o.path, "--flag");
    CHECK_EQ(o.flag, 0);
    CHECK_EQ(PARSE(&o, "--path="), EKV_OK); /* an empty string is a string */
    CHECK_STR(o.path, "");
    CHECK_EQ(PARSE(&o, "--ratio", "1e0", "--count", "+3"), EKV_OK);
    CHECK(o.ratio == 1.0);
    CHECK_EQ(o.count, 3);
}

static void test_out_of_range(void)
{
    REFUSED("bad value for --count: 101 is out of range -5..100", "--count", "101");
    REFUSED("bad value for --count: -6 is out of range -5..100", "--count", "-6");
    REFUSED("bad value for --count: 99999999999999999999999 is out of range -5..100", "--count",
            "99999999999999999999999");
    REFUSED("bad value for --ratio: 2.0001 is out of range 0.5..2", "--ratio", "2.0001");
    REFUSED("bad value for --ratio: 0.4 is out of range 0.5..2", "--ratio=0.4");
}

static void test_not_a_number(void)
{
    REFUSED("bad value for --count: 'abc' is not a whole number", "--count", "abc");
    REFUSED("bad value for --count: '' is not a whole number", "--count", "");
    REFUSED("bad value for --count: '1.5' is not a whole number", "--count", "1.5");
    REFUSED("bad value for --count: '12x' is not a whole number", "--count", "12x");
    REFUSED("bad value for --count: ' 12' is not a whole number", "--count", " 12");
    REFUSED("bad value for --count: '0x10' is not a whole number", "--count", "0x10");
    REFUSED("bad value for --ratio: 'one' is not a number", "--ratio", "one");
    REFUSED("bad value for --ratio: '1,5' is not a number", "--ratio", "1,5");
    REFUSED("bad value for --ratio: ' 1' is not a number", "--ratio", " 1");
    REFUSED("bad value for --ratio: '' is not a number", "--ratio=");
}

static void test_inf_nan(void)
{
    REFUSED("bad value for --ratio: 'inf' is not a finite number", "--ratio", "inf");
    REFUSED("bad value for --ratio: '-Infinity' is not a finite number", "--ratio", "-Infinity");
    REFUSED("bad value for --ratio: 'nan' is not a finite number", "--ratio", "nan");
    REFUSED("bad value for --ratio: '1e400' is not a finite number", "--ratio", "1e400");
}

static void test_enum_string_custom(void)
{
    REFUSED("bad value for --mode: 'slow' is not one of fast, safe, off", "--mode", "slow");
    REFUSED("bad value for --mode: 'FAST' is not one of fast, safe, off", "--mode", "FAST");
    REFUSED("bad value for --name: 'a/b' is not a valid NAME", "--name", "a/b");
    REFUSED("bad value for --even: 'three' is not a valid E", "--even", "three");
    opts_t o;
    CHECK_EQ(PARSE(&o, "--mode", "fast"), EKV_OK);
    CHECK_EQ(o.mode, 10);
}

static void test_unknown_and_missing(void)
{
    REFUSED("unknown option '--bogus' (see --help)", "--bogus");
    REFUSED("unknown option '--coun' (see --help)", "--coun", "3"); /* no abbreviations */
    REFUSED("unknown option '--counts' (see --help)", "--counts=3");
    REFUSED("unexpected argument 'stray'", "--flag", "stray");
    REFUSED("unexpected argument '-c'", "-c", "3");
    REFUSED("unexpected argument '--'", "--");
    REFUSED("--count needs a value (N)", "--count");
    REFUSED("--name needs a value (NAME)", "--flag", "--name");
    REFUSED("--flag takes no value", "--flag=1");
    /* parsing stops at the first mistake: later options are not read */
    opts_t o;
    CHECK_EQ(PARSE(&o, "--count", "x", "--flag"), EKV_EINVAL);
    CHECK_EQ(o.flag, 0);
}

static void test_help(void)
{
    opts_t o;
    CHECK_EQ(PARSE(&o, "--count", "3", "--help", "--bogus"), EKV_OPTS_HELP);
    CHECK_EQ(PARSE(&o, "--help=1"), EKV_EINVAL);
}

/* The text a FILE * collects. */
static void capture(char *buf, size_t len, const opts_t *o)
{
    FILE *f = fmemopen(buf, len, "w");
    CHECK(f != NULL);
    ekv_opts_usage(f, "prog [options]", table, o);
    fclose(f);
}

static void test_usage(void)
{
    char text[4096] = "";
    capture(text, sizeof text, &defaults);
    const char *want = "usage: prog [options]\n"
                       "  --name NAME             a name (default dflt)\n"
                       "  --path PATH             a path\n"
                       "  --count N               how many (default 7)\n"
                       "  --ratio R               a ratio\n"
                       "                          second line (default 1)\n"
                       "  --mode M                the mode: fast, safe, off (default safe)\n"
                       "  --flag                  a flag\n"
                       "  --even E                two or four (default two)\n"
                       "  --a-very-long-option-name\n"
                       "                          long\n"
                       "  --token T               a credential\n"
                       "  --options-file FILE     read options from FILE, one a line (\"--name "
                       "VALUE\",\n"
                       "                          '#' comments); later options replace its\n"
                       "  --help                  print this text and exit\n";
    CHECK_STR(text, want);
}

static void test_format(void)
{
    opts_t o;
    char line[256];
    CHECK_EQ(PARSE(&o, "--flag", "--ratio", "1.25", "--mode", "fast", "--even", "four"), EKV_OK);
    ekv_opts_format(table, &o, line, sizeof line);
    CHECK_STR(line, "--name dflt --count 7 --ratio 1.25 --mode fast --flag --even four "
                    "--a-very-long-option-name");
    CHECK_EQ(PARSE(&o, "--token", "hunter2"), EKV_OK);
    CHECK_STR(o.token, "hunter2");
    ekv_opts_format(table, &o, line, sizeof line);
    CHECK(strstr(line, "hunter2") == NULL);
    CHECK(strstr(line, "--token (secret)") != NULL);
    char small[12];
    ekv_opts_format(table, &o, small, sizeof small); /* cut, still terminated */
    CHECK_STR(small, "--name dflt");
}

/* A file holding text, in the test's temporary folder (removed at exit); its path in path. */
static void write_file(char *path, size_t len, const char *text)
{
    if (!ekv_tmpdir_top[0])
        CHECK_EQ(ekv_tmpdir_init("opts"), 0);
    ekv_tmpdir_new(path, len);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void test_options_file(void)
{
    char path[256];
    opts_t o;
    write_file(path, sizeof path,
               "# a comment\n"
               "\n"
               "--name pop1\n"
               "   --count=12   \n"
               "\t# indented comment\n"
               "--path /tmp/with space  inside\n"
               "--flag\n"
               "--mode\tfast\n"
               "--ratio 1.5"); /* no newline at the end */
    CHECK_EQ(PARSE(&o, "--options-file", path), EKV_OK);
    CHECK_STR(o.name, "pop1");
    CHECK_EQ(o.count, 12);
    CHECK_STR(o.path, "/tmp/with space  inside");
    CHECK_EQ(o.flag, 1);
    CHECK_EQ(o.mode, 10);
    CHECK(o.ratio == 1.5);
    /* in order: options after the file replace its, those before are replaced by it */
    CHECK_EQ(PARSE(&o, "--count", "1", "--name", "before", "--options-file", path, "--count", "3"),
             EKV_OK);
    CHECK_EQ(o.count, 3);
    CHECK_STR(o.name, "pop1");
    char eq[300];
    snprintf(eq, sizeof eq, "--options-file=%s", path);
    CHECK_EQ(PARSE(&o, eq), EKV_OK);
    CHECK_STR(o.name, "pop1");
    /* an empty file changes nothing */
    write_file(path, sizeof path, "");
    CHECK_EQ(PARSE(&o, "--options-file", path), EKV_OK);
    CHECK_STR(o.name, "dflt");
    CHECK_EQ(o.count, 7);
}

/* The file's text is refused with "PATH:" followed by exactly msg. */
static void refused_file(const char *text, const char *msg)
{
    char path[256], want[512];
    opts_t o;
    write_file(path, sizeof path, text);
    snprintf(want, sizeof want, "%s:%s", path, msg);
    CHECK_EQ(PARSE(&o, "--options-file", path), EKV_EINVAL);
    CHECK_STR(err, want);
}

static void test_options_file_errors(void)
{
    refused_file("--name a\n# ok\n--count 500\n",
                 "3: bad value for --count: 500 is out of range -5..100");
    refused_file("--bogus 1\n", "1: unknown option '--bogus' (see --help)");
    refused_file("\n\nname x\n", "3: unexpected argument 'name'");
    refused_file("--count\n", "1: --count needs a value (N)");
    refused_file("--flag yes\n", "1: unexpected argument 'yes'");
    refused_file("--flag=1\n", "1: --flag takes no value");
    refused_file("--help\n", "1: --help is not an option for a file");
    refused_file("--options-file /etc/passwd\n", "1: --options-file cannot name another file");
    refused_file("--name a/b\n", "1: bad value for --name: 'a/b' is not a valid NAME");
    REFUSED("--options-file /nonexistent/x.options: No such file or directory", "--options-file",
            "/nonexistent/x.options");
    REFUSED("--options-file needs a value (FILE)", "--options-file");
    REFUSED("--options-file needs a value (FILE)", "--options-file=");
    /* a mistake in the file stops parsing: the command line after it is not read */
    char path[256];
    opts_t o;
    write_file(path, sizeof path, "--count x\n");
    CHECK_EQ(PARSE(&o, "--options-file", path, "--flag"), EKV_EINVAL);
    CHECK_EQ(o.flag, 0);
}

int main(void)
{
    EKV_TEST_RUN(test_defaults_kept);
    EKV_TEST_RUN(test_valid_values);
    EKV_TEST_RUN(test_out_of_range);
    EKV_TEST_RUN(test_not_a_number);
    EKV_TEST_RUN(test_inf_nan);
    EKV_TEST_RUN(test_enum_string_custom);
    EKV_TEST_RUN(test_unknown_and_missing);
    EKV_TEST_RUN(test_help);
    EKV_TEST_RUN(test_usage);
    EKV_TEST_RUN(test_format);
    EKV_TEST_RUN(test_options_file);
    EKV_TEST_RUN(test_options_file_errors);
    EKV_TEST_DONE();
}
