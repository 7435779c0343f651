/* ekv_pid: the daemons' getpid() from memory stays right, in the process and after fork. */
#include <dlfcn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "ekv_test.h"

static void test_answers_the_kernels_pid(void)
{
    pid_t real = (pid_t)syscall(SYS_getpid);
    CHECK_EQ(getpid(), real);
    CHECK_EQ(getpid(), real); /* the remembered answer */
}

static void test_a_fork_child_has_its_own(void)
{
    pid_t parent = getpid();
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        pid_t real = (pid_t)syscall(SYS_getpid);
        _exit(getpid() == real && real != parent && getppid() == parent ? 0 : 1);
    }
    int status = 0;
    CHECK_EQ(waitpid(child, &status, 0), child);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    CHECK_EQ(getpid(), parent);
}

/* What libzmq calls: the process-wide getpid must be the executable's (ekv_pid), not
 * glibc's. The executable exports it because a library it links (libzmq) refers to it. */
static void test_libzmq_gets_this_one(void)
{
    int major = 0, minor = 0, patch = 0;
    zmq_version(&major, &minor, &patch); /* libzmq is linked, as in the daemons */
    CHECK_GE(major, 4);
    void *used = dlsym(RTLD_DEFAULT, "getpid");
    Dl_info where;
    CHECK(used != NULL);
    CHECK(dladdr(used, &where) != 0);
    if (strstr(where.dli_fname, "libc"))
        EKV_FAIL_("getpid resolves to %s, not the executable", where.dli_fname);
}

int main(void)
{
    EKV_TEST_RUN(test_answers_the_kernels_pid);
    EKV_TEST_RUN(test_a_fork_child_has_its_own);
    EKV_TEST_RUN(test_libzmq_gets_this_one);
    EKV_TEST_DONE();
}
