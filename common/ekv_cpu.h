/* ekv_cpu: spreading processes over CPUs, one CPU each (the PoPs of a topology, and the
 * SUBs of the fan-out floor, placed alike).
 *
 * A PoP wakes two threads per change: ZeroMQ's I/O thread, then its loop. With both on one
 * CPU that wakeup stays on the CPU instead of an interrupt to another one; on a 2-core VM
 * that cut a PoP's CPU per delivered change by a quarter to a third. Process i goes to CPU
 * i mod n of the n CPUs the caller may use, which keeps the load even. */
#ifndef EKV_CPU_H
#define EKV_CPU_H

#include <pthread.h>
#include <sched.h>
#include <stddef.h>

/* The CPU for process i: the (i mod n)-th CPU this process may run on; -1 when it may run
 * on fewer than two or they cannot be read (then pinning would gain nothing). */
static inline int ekv_cpu_spread(size_t i)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return -1;
    int n = CPU_COUNT(&allowed);
    if (n < 2)
        return -1;
    int want = (int)(i % (size_t)n);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &allowed) && want-- == 0)
            return cpu;
    return -1;
}

/* Confines the calling process (and every thread it starts later) to cpu; 0 or -1 (errno). */
static inline int ekv_cpu_pin(int cpu)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one);
}

/* Confines one thread to cpu; 0 or an errno value. */
static inline int ekv_cpu_pin_thread(pthread_t t, int cpu)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return pthread_setaffinity_np(t, sizeof one, &one);
}

/* Parses a kernel CPU list ("0-3,8,10-11", a trailing newline allowed; "" is no CPU) into
 * out: EKV_OK, or EKV_EMALFORMED (out then empty). */
int ekv_cpulist_parse(const char *s, size_t len, cpu_set_t *out);

/* The CPU that takes the completion interrupts of the disk holding path: the one CPU in the
 * effective affinity of every MSI interrupt of the disk's PCI function (sysfs, /proc/irq).
 * A thread that waits for that disk's fsyncs runs there without a wakeup across CPUs when
 * each completes (on a virtual machine whose idle CPUs halt, 40-50 us a time). -1 when path
 * is not on a PCI disk (tmpfs, device mapper, loop), its interrupts are spread over several
 * CPUs (multi-queue NVMe, where completions come back to the submitting CPU anyway), this
 * process may not run there or may run on fewer than two CPUs. dev gets the disk's name
 * ("vda") when known. */
int ekv_cpu_of_disk(const char *path, char *dev, size_t devlen);

#endif
