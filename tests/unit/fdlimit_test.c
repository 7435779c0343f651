/* Unit test of ekv_fdlimit: a process started with a low soft open-file limit leaves
 * ekv_fdlimit_raise() with the hard limit, and the message says what was set. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "ekv_err.h"
#include "ekv_fdlimit.h"
#include "ekv_test.h"

static void test_raises_to_hard(void)
{
    struct rlimit rl;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rlim_t hard = rl.rlim_max;
    if (hard <= 64) {
        fprintf(stderr, "hard limit %llu: nothing to raise\n", (unsigned long long)hard);
        return;
    }
    rl.rlim_cur = 64;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
    char msg[256], want[256];
    CHECK_EQ(ekv_fdlimit_raise(msg, sizeof msg), EKV_OK);
    snprintf(want, sizeof want, "open files: limit raised from 64 to %llu (the hard limit)",
             (unsigned long long)hard);
    CHECK_STR(msg, want);
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    CHECK_EQ(rl.rlim_cur, hard);
    CHECK_EQ(rl.rlim_max, hard);
    /* again: nothing left to raise, and it says so */
    CHECK_EQ(ekv_fdlimit_raise(msg, sizeof msg), EKV_OK);
    snprintf(want, sizeof want, "open files: limit %llu (the hard limit)",
             (unsigned long long)hard);
    CHECK_STR(msg, want);
}

int main(void)
{
    EKV_TEST_RUN(test_raises_to_hard);
    EKV_TEST_DONE();
}
