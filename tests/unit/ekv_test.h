/* ekv_test: the assertion macros of the unit tests.
 *
 * Each failed check prints the file, line, the expression and both values, then the test
 * exits non-zero. EKV_TEST_RUN runs one test function and prints its name. A test program's
 * main runs every test and ends with EKV_TEST_DONE(), which prints "N passed, 0 failed". */
#ifndef EKV_TEST_H
#define EKV_TEST_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ekv_test_count;

#define EKV_FAIL_(fmt, ...)                                                                        \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: check failed: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__);        \
        fprintf(stderr, "%d passed, 1 failed\n", ekv_test_count);                                  \
        exit(1);                                                                                   \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            EKV_FAIL_("%s", #cond);                                                                \
    } while (0)

#define CHECK_INT_OP_(a, op, b)                                                                    \
    do {                                                                                           \
        int64_t va_ = (int64_t)(a), vb_ = (int64_t)(b);                                            \
        if (!(va_ op vb_))                                                                         \
            EKV_FAIL_("%s %s %s (%" PRId64 " vs %" PRId64 ")", #a, #op, #b, va_, vb_);             \
    } while (0)

#define CHECK_EQ(a, b) CHECK_INT_OP_(a, ==, b)
#define CHECK_NE(a, b) CHECK_INT_OP_(a, !=, b)
#define CHECK_LT(a, b) CHECK_INT_OP_(a, <, b)
#define CHECK_LE(a, b) CHECK_INT_OP_(a, <=, b)
#define CHECK_GT(a, b) CHECK_INT_OP_(a, >, b)
#define CHECK_GE(a, b) CHECK_INT_OP_(a, >=, b)

/* a and b (doubles) within tol of each other. */
#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (a), b_ = (b), t_ = (tol);                                                     \
        if (!(fabs(a_ - b_) <= t_))                                                                \
            EKV_FAIL_("%s ~= %s (%.9g vs %.9g, tolerance %g)", #a, #b, a_, b_, t_);                \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                                                 \
            EKV_FAIL_("%s == %s (\"%s\" vs \"%s\")", #a, #b, sa_ ? sa_ : "(null)",                 \
                      sb_ ? sb_ : "(null)");                                                       \
    } while (0)

#define CHECK_MEM(p, n, q, m)                                                                      \
    do {                                                                                           \
        size_t na_ = (size_t)(n), nb_ = (size_t)(m);                                               \
        if (na_ != nb_ || (na_ && memcmp((p), (q), na_) != 0))                                     \
            EKV_FAIL_("%s[%zu] == %s[%zu]", #p, na_, #q, nb_);                                     \
    } while (0)

#define EKV_TEST_RUN(fn)                                                                           \
    do {                                                                                           \
        fprintf(stderr, "-- %s\n", #fn);                                                           \
        fn();                                                                                      \
        ekv_test_count++;                                                                          \
    } while (0)

#define EKV_TEST_DONE()                                                                            \
    do {                                                                                           \
        printf("%d passed, 0 failed\n", ekv_test_count);                                           \
        return 0;                                                                                  \
    } while (0)

#endif
