/* cpu_test: unit tests of the CPU list parser and the disk's completion CPU (common/ekv_cpu).
 *
 * ekv_cpulist_parse reads what sysfs and procfs write ("0-3,8,10-11\n"), so the cases are
 * the kernel's own shapes plus the ways a list can be broken: every refusal must leave the
 * set empty, even when earlier elements were good, and nothing past len may be read.
 * ekv_cpu_of_disk depends on the machine, so its tests assert only what holds everywhere:
 * no disk (tmpfs, procfs, a missing path) gives -1, a process allowed one CPU gets -1, and
 * any CPU it does name is one this process may run on. */
#include <sched.h>
#include <string.h>
#include <sys/statfs.h>

#include "ekv_cpu.h"
#include "ekv_err.h"
#include "ekv_test.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

/* Fails unless set holds exactly the n CPUs of want. */
static void check_set(const cpu_set_t *set, const int *want, int n)
{
    cpu_set_t exp;
    CPU_ZERO(&exp);
    for (int k = 0; k < n; k++)
        CPU_SET(want[k], &exp);
    CHECK_EQ(CPU_COUNT(set), n);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, set) != CPU_ISSET(cpu, &exp))
            EKV_FAIL_("CPU %d is %s", cpu, CPU_ISSET(cpu, set) ? "set" : "missing");
}

/* Parses the first len bytes of s into a set that starts full, so a parser that forgets to
 * clear it is caught. */
static int parse_n(const char *s, size_t len, cpu_set_t *out)
{
    memset(out, 0xff, sizeof *out);
    return ekv_cpulist_parse(s, len, out);
}

static int parse(const char *s, cpu_set_t *out)
{
    return parse_n(s, strlen(s), out);
}

/* s is refused and the set is left empty. */
static void check_refused_n(const char *s, size_t len)
{
    cpu_set_t set;
    int rc = parse_n(s, len, &set);
    if (rc != EKV_EMALFORMED)
        EKV_FAIL_("\"%.*s\" (%zu bytes) gives %d, not EKV_EMALFORMED", (int)len, s, len, rc);
    if (CPU_COUNT(&set) != 0)
        EKV_FAIL_("\"%.*s\" leaves %d CPUs in the set", (int)len, s, CPU_COUNT(&set));
}

static void check_refused(const char *s)
{
    check_refused_n(s, strlen(s));
}

static void test_single_cpu(void)
{
    cpu_set_t set;
    CHECK_EQ(parse("0", &set), EKV_OK);
    check_set(&set, (int[]){0}, 1);
    CHECK_EQ(parse("7", &set), EKV_OK);
    check_set(&set, (int[]){7}, 1);
    CHECK_EQ(parse("007", &set), EKV_OK); /* leading zeros are still CPU 7 */
    check_set(&set, (int[]){7}, 1);
    CHECK_EQ(parse("1023", &set), EKV_OK);
    CHECK_EQ(CPU_SETSIZE, 1024); /* glibc's size, which the case above relies on */
    check_set(&set, (int[]){CPU_SETSIZE - 1}, 1);
}

static void test_ranges(void)
{
    cpu_set_t set;
    CHECK_EQ(parse("0-3", &set), EKV_OK);
    check_set(&set, (int[]){0, 1, 2, 3}, 4);
    CHECK_EQ(parse("5-5", &set), EKV_OK);
    check_set(&set, (int[]){5}, 1);
    CHECK_EQ(parse("1022-1023", &set), EKV_OK);
    check_set(&set, (int[]){1022, 1023}, 2);
    CHECK_EQ(parse("0-1023", &set), EKV_OK);
    CHECK_EQ(CPU_COUNT(&set), CPU_SETSIZE);
}

static void test_lists(void)
{
    cpu_set_t set;
    CHECK_EQ(parse("0-3,8,10-11", &set), EKV_OK);
    check_set(&set, (int[]){0, 1, 2, 3, 8, 10, 11}, 7);
    CHECK_EQ(parse("1,3,5", &set), EKV_OK);
    check_set(&set, (int[]){1, 3, 5}, 3);
    /* Out of order and overlapping: still the union. */
    CHECK_EQ(parse("9,2-4,3", &set), EKV_OK);
    check_set(&set, (int[]){2, 3, 4, 9}, 4);
}

static void test_trailing_newline_and_spaces(void)
{
    cpu_set_t set;
    CHECK_EQ(parse("0-3,8\n", &set), EKV_OK); /* what sysfs writes */
    check_set(&set, (int[]){0, 1, 2, 3, 8}, 5);
    CHECK_EQ(parse("1 ", &set), EKV_OK);
    check_set(&set, (int[]){1}, 1);
    CHECK_EQ(parse("2-3 \n\n", &set), EKV_OK);
    check_set(&set, (int[]){2, 3}, 2);
}

static void test_empty(void)
{
    cpu_set_t set;
    CHECK_EQ(parse("", &set), EKV_OK);
    CHECK_EQ(CPU_COUNT(&set), 0);
    CHECK_EQ(parse("\n", &set), EKV_OK); /* an interrupt with no CPU yet */
    CHECK_EQ(CPU_COUNT(&set), 0);
    CHECK_EQ(parse(" \n", &set), EKV_OK);
    CHECK_EQ(CPU_COUNT(&set), 0);
}

static void test_malformed(void)
{
    static const char *bad[] = {
        ",",  "1,",    "3-1", "-1",      "a",    "1-",  "1--2", "99999",   "1024",   "1,,2",
        ",1", "1-2-3", "1 2", "1 ,2",    "1, 2", " 1",  "\n1",  "1,\n",    "0-1024", "1x",
        "+1", "0x1",   "1-a", "1234567", "-",    "1:2", "\t1",  "0-3,8,a",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        check_refused(bad[k]);
    char big[16];
    snprintf(big, sizeof big, "%d", CPU_SETSIZE);
    check_refused(big);
    snprintf(big, sizeof big, "0-%d", CPU_SETSIZE);
    check_refused(big);
    snprintf(big, sizeof big, "%d-%d", CPU_SETSIZE, CPU_SETSIZE + 1);
    check_refused(big);
}

static void test_embedded_nul(void)
{
    /* len counts the NUL: it is a byte of the list, not its end. */
    check_refused_n("1\0", 2);
    check_refused_n("1\0,2", 4);
    check_refused_n("\0", 1);
    check_refused_n("0-\0003", 4);
}

static void test_reads_only_len(void)
{
    cpu_set_t set;
    CHECK_EQ(parse_n("0-3,8", 3, &set), EKV_OK);
    check_set(&set, (int[]){0, 1, 2, 3}, 4);
    CHECK_EQ(parse_n("12", 1, &set), EKV_OK);
    check_set(&set, (int[]){1}, 1);
    check_refused_n("1,2", 2); /* a trailing comma once cut at len */
}

static void test_error_empties_set(void)
{
    /* Good elements before the bad one must not survive in out. */
    static const char *bad[] = {"0-3,8,a", "0-3,", "5,3-1", "0-1023,1024", "1,2,3 4"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        check_refused(bad[k]);

    /* A good parse after a bad one starts from nothing. */
    cpu_set_t set;
    CHECK_EQ(parse("0-1023,x", &set), EKV_EMALFORMED);
    CHECK_EQ(CPU_COUNT(&set), 0);
    CHECK_EQ(parse("4", &set), EKV_OK);
    check_set(&set, (int[]){4}, 1);
}

/* dev holds a NUL-terminated string within its devlen bytes. */
static void check_dev_string(const char *dev, size_t devlen)
{
    CHECK(memchr(dev, '\0', devlen) != NULL);
}

static void test_disk_not_a_disk(void)
{
    char dev[32];
    struct statfs fs;
    if (statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC) {
        memset(dev, 'x', sizeof dev);
        CHECK_EQ(ekv_cpu_of_disk("/dev/shm", dev, sizeof dev), -1);
        CHECK_STR(dev, "");
    } else {
        fprintf(stderr, "   /dev/shm is not tmpfs here: that case is skipped\n");
    }
    memset(dev, 'x', sizeof dev);
    CHECK_EQ(ekv_cpu_of_disk("/proc/self", dev, sizeof dev), -1);
    CHECK_STR(dev, "");
    memset(dev, 'x', sizeof dev);
    CHECK_EQ(ekv_cpu_of_disk("/nonexistent/ekv_cpu_test/file", dev, sizeof dev), -1);
    CHECK_STR(dev, "");
    CHECK_EQ(ekv_cpu_of_disk("", dev, sizeof dev), -1);
}

static void test_disk_of_root(void)
{
    cpu_set_t allowed;
    CHECK_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    char dev[32];
    memset(dev, 'x', sizeof dev);
    int cpu = ekv_cpu_of_disk("/", dev, sizeof dev);
    check_dev_string(dev, sizeof dev);
    fprintf(stderr, "   / is on \"%s\", completion CPU %d\n", dev, cpu);
    CHECK_GE(cpu, -1);
    CHECK_LT(cpu, CPU_SETSIZE);
    if (cpu >= 0) {
        CHECK(CPU_ISSET(cpu, &allowed));
        CHECK_GE(CPU_COUNT(&allowed), 2);
        CHECK(dev[0] != '\0'); /* a PCI disk was found, so its name is known */
    }

    /* The answer does not depend on the room given to the name; a short one is cut. */
    char small[3];
    memset(small, 'x', sizeof small);
    CHECK_EQ(ekv_cpu_of_disk("/", small, sizeof small), cpu);
    check_dev_string(small, sizeof small);
    CHECK(strlen(small) <= 2 && strncmp(small, dev, strlen(small)) == 0);
    CHECK_EQ(ekv_cpu_of_disk("/", dev, 0), cpu);
}

static void test_disk_one_allowed_cpu(void)
{
    /* Allowed on one CPU only, the process has nothing to gain: -1 whatever the disk. */
    cpu_set_t allowed, one;
    CHECK_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    int first = 0;
    while (first < CPU_SETSIZE && !CPU_ISSET(first, &allowed))
        first++;
    CHECK_LT(first, CPU_SETSIZE);
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    CHECK_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    char dev[32];
    int cpu = ekv_cpu_of_disk("/", dev, sizeof dev);
    CHECK_EQ(sched_setaffinity(0, sizeof allowed, &allowed), 0);
    CHECK_EQ(cpu, -1);
}

int main(void)
{
    EKV_TEST_RUN(test_single_cpu);
    EKV_TEST_RUN(test_ranges);
    EKV_TEST_RUN(test_lists);
    EKV_TEST_RUN(test_trailing_newline_and_spaces);
    EKV_TEST_RUN(test_empty);
    EKV_TEST_RUN(test_malformed);
    EKV_TEST_RUN(test_embedded_nul);
    EKV_TEST_RUN(test_reads_only_len);
    EKV_TEST_RUN(test_error_empties_set);
    EKV_TEST_RUN(test_disk_not_a_disk);
    EKV_TEST_RUN(test_disk_of_root);
    EKV_TEST_RUN(test_disk_one_allowed_cpu);
    EKV_TEST_DONE();
}
