/* ekv_cpu: CPU lists and the CPU that completes a disk's I/O (see ekv_cpu.h). */
#include "ekv_cpu.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ekv_err.h"

/* One decimal CPU number at s[*i] (leading zeros allowed); -1 when there is none or it is not
 * below CPU_SETSIZE. */
static int cpu_number(const char *s, size_t len, size_t *i)
{
    long v = 0;
    size_t start = *i;
    for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++)
        if (v < CPU_SETSIZE)
            v = v * 10 + (s[*i] - '0'); /* once too big it stays too big: no overflow */
    if (*i == start || v >= CPU_SETSIZE)
        return -1;
    return (int)v;
}

int ekv_cpulist_parse(const char *s, size_t len, cpu_set_t *out)
{
    CPU_ZERO(out);
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
        len--;
    if (len == 0)
        return EKV_OK; /* an empty list: no CPU */
    for (size_t i = 0;;) {
        int lo = cpu_number(s, len, &i), hi = lo;
        if (lo >= 0 && i < len && s[i] == '-') {
            i++;
            hi = cpu_number(s, len, &i);
        }
        if (lo < 0 || hi < lo) {
            CPU_ZERO(out);
            return EKV_EMALFORMED;
        }
        for (int c = lo; c <= hi; c++)
            CPU_SET(c, out);
        if (i == len)
            return EKV_OK;
        if (s[i++] != ',') {
            CPU_ZERO(out);
            return EKV_EMALFORMED;
        }
    }
}

/* Reads a small sysfs or procfs file into buf (NUL-terminated); its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* ORs into irqs' CPUs the effective affinity of every MSI interrupt listed in dir/msi_irqs;
 * the number of interrupts read, 0 when dir has none, -1 on an unreadable entry. */
static int msi_cpus(const char *dir, cpu_set_t *cpus)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/msi_irqs", dir);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char aff[256];
        cpu_set_t one;
        snprintf(path, sizeof path, "/proc/irq/%s/effective_affinity_list", e->d_name);
        ssize_t len = read_small(path, aff, sizeof aff);
        if (len < 0 || ekv_cpulist_parse(aff, (size_t)len, &one) != EKV_OK) {
            n = -1;
            break;
        }
        CPU_OR(cpus, cpus, &one);
        n++;
    }
    closedir(d);
    return n;
}

int ekv_cpu_of_disk(const char *path, char *dev, size_t devlen)
{
    struct stat st;
    char link[64], blk[PATH_MAX], hw[PATH_MAX], probe[PATH_MAX + 16];
    if (devlen)
        dev[0] = '\0';
    if (stat(path, &st) != 0)
        return -1;
    snprintf(link, sizeof link, "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
    if (!realpath(link, blk))
        return -1; /* not on a block device: tmpfs, overlay, NFS */
    snprintf(probe, sizeof probe, "%s/partition", blk);
    if (access(probe, F_OK) == 0)
        *strrchr(blk, '/') = '\0'; /* a partition: the interrupts are its disk's */
    if (devlen)
        snprintf(dev, devlen, "%s", strrchr(blk, '/') + 1);
    snprintf(probe, sizeof probe, "%s/device", blk);
    if (!realpath(probe, hw))
        return -1; /* a virtual device (device mapper, loop, zram) */
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    int n = 0;
    /* The interrupts belong to the PCI function: the device itself or one of its parents. */
    while (n == 0 && strncmp(hw, "/sys/devices/", 13) == 0) {
        n = msi_cpus(hw, &cpus);
        *strrchr(hw, '/') = '\0';
    }
    cpu_set_t allowed;
    if (n <= 0 || CPU_COUNT(&cpus) != 1 || sched_getaffinity(0, sizeof allowed, &allowed) != 0 ||
        CPU_COUNT(&allowed) < 2)
        return -1; /* spread over several CPUs (multi-queue), or nothing to choose from */
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &cpus))
            return CPU_ISSET(cpu, &allowed) ? cpu : -1;
    return -1;
}
