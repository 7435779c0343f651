/* ekv_pid: getpid() answered from memory in the daemons.
 *
 * libzmq asks getpid() on every signal it sends between threads and every time it checks a
 * socket's command mailbox (to notice use after fork), and glibc (2.25 and later) makes that
 * a system call each time. A PoP made 3.3 getpid calls per delivered change, a third of its
 * system calls, and the coordinator's loop one per acknowledged write; on a virtual machine
 * every system call is dear. This definition, linked into each daemon's executable, takes
 * the place of glibc's for the whole process (libzmq included, by symbol interposition).
 * The first call asks the kernel; a fork() child forgets the answer (pthread_atfork), so it
 * stays right in a forked process. Daemons only: never link it into a library. */
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t cached_pid; /* 0: not asked yet, or forgotten in a fork child */

static void forget_pid(void)
{
    __atomic_store_n(&cached_pid, 0, __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void ekv_pid_init(void)
{
    pthread_atfork(NULL, NULL, forget_pid);
}

pid_t getpid(void)
{
    pid_t pid = __atomic_load_n(&cached_pid, __ATOMIC_RELAXED);
    if (pid == 0) {
        pid = (pid_t)syscall(SYS_getpid);
        __atomic_store_n(&cached_pid, pid, __ATOMIC_RELAXED);
    }
    return pid;
}
