/* args_test: the strict command-line values of common/ekv_args, which every daemon's option
 * table checks with: a value is taken whole or refused, never read up to a bad character. */
#include <string.h>

#include "ekv_args.h"
#include "ekv_test.h"

static void test_hostport(void)
{
    char host[16];
    int port = -1;
    CHECK_EQ(ekv_args_hostport("127.0.0.1:8780", host, sizeof host, &port), 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK_EQ(port, 8780);
    CHECK_EQ(ekv_args_hostport("[::1]:0", host, sizeof host, &port), 0); /* the last colon */
    CHECK_STR(host, "[::1]");
    CHECK_EQ(port, 0);
    CHECK_EQ(ekv_args_hostport("nocolon", host, sizeof host, &port), -1);
    CHECK_EQ(ekv_args_hostport(":80", host, sizeof host, &port), -1);     /* no host */
    CHECK_EQ(ekv_args_hostport("h:65536", host, sizeof host, &port), -1); /* range */
    CHECK_EQ(ekv_args_hostport("h:80x", host, sizeof host, &port), -1);   /* whole */
    CHECK_EQ(ekv_args_hostport("h:", host, sizeof host, &port), -1);      /* no port */
    CHECK_EQ(ekv_args_hostport("longer.than16bytes:1", host, sizeof host, &port), -1);
    CHECK_EQ(ekv_args_hostport(NULL, host, sizeof host, &port), -1);
}

/* The check an option table uses for --http: the same rule, with a host of up to 255 bytes. */
static void test_is_hostport(void)
{
    CHECK_EQ(ekv_args_is_hostport("127.0.0.1:8780"), 0);
    CHECK_EQ(ekv_args_is_hostport("localhost:0"), 0);
    CHECK_EQ(ekv_args_is_hostport("127.0.0.1:99999"), -1);
    CHECK_EQ(ekv_args_is_hostport("127.0.0.1"), -1);
    CHECK_EQ(ekv_args_is_hostport(NULL), -1);
    char s[300];
    memset(s, 'h', 255);
    strcpy(s + 255, ":1");
    CHECK_EQ(ekv_args_is_hostport(s), 0);
    memset(s, 'h', 256);
    strcpy(s + 256, ":1");
    CHECK_EQ(ekv_args_is_hostport(s), -1);
}

static void test_numbers_and_names(void)
{
    long v = 0;
    double d = 0;
    CHECK_EQ(ekv_args_int("-5", -10, 10, &v), 0);
    CHECK_EQ(v, -5);
    CHECK_EQ(ekv_args_int("11", -10, 10, &v), -1);
    CHECK_EQ(ekv_args_int("1 ", -10, 10, &v), -1);
    CHECK_EQ(ekv_args_int("", -10, 10, &v), -1);
    CHECK_EQ(ekv_args_double("2.5", 0, 3, &d), 0);
    CHECK_NEAR(d, 2.5, 0);
    CHECK_EQ(ekv_args_double("nan", 0, 3, &d), -1);
    CHECK_EQ(ekv_args_double("3.5", 0, 3, &d), -1);
    CHECK_EQ(ekv_args_name("fra-2.b_c"), 0);
    CHECK_EQ(ekv_args_name("a/b"), -1);
    CHECK_EQ(ekv_args_name(""), -1);
}

int main(void)
{
    EKV_TEST_RUN(test_hostport);
    EKV_TEST_RUN(test_is_hostport);
    EKV_TEST_RUN(test_numbers_and_names);
    EKV_TEST_DONE();
}
