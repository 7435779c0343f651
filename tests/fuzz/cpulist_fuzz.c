/* cpulist_fuzz: libFuzzer target of the kernel CPU list parser (common/ekv_cpu,
 * ekv_cpulist_parse).
 *
 * ekv_cpu_of_disk feeds it /proc/irq/N/effective_affinity_list; the lists it accepts decide
 * where a process pins its threads. The input is such a list, copied into a buffer of exactly
 * its size with no NUL after it, so reading past len is caught by the sanitizers. The parser
 * must agree with an independent reference written from the header's contract: after
 * trailing newlines and spaces are dropped, an empty list is no CPU, otherwise the list is
 * elements separated by single commas, each a decimal number or lo-hi with lo <= hi, every
 * number below CPU_SETSIZE (leading zeros allowed). Accept exactly when the reference does,
 * with the same set; on refusal EKV_EMALFORMED and an empty set, whatever out held before.
 * The input's bytes read as a CPU bitmap must also survive a round trip through a writer of
 * the kernel's format. A broken promise aborts, which libFuzzer reports with the input as
 * reproducer. replay_main.c feeds the committed corpus (corpus/cpulist) under ctest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_cpu.h"
#include "ekv_err.h"

static void fail(const char *what)
{
    fprintf(stderr, "cpulist_fuzz: %s\n", what);
    abort();
}

/* The decimal number s[a..b), or -1 when it is empty, not all digits or >= CPU_SETSIZE. */
static long ref_number(const unsigned char *s, size_t a, size_t b)
{
    if (a == b)
        return -1;
    long v = 0;
    for (size_t i = a; i < b; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
        if (v >= CPU_SETSIZE)
            return -1; /* the number only grows from here */
    }
    return v;
}

/* One element s[a..b): "n" or "lo-hi"; ORs its CPUs into set, 0 or -1. */
static int ref_element(const unsigned char *s, size_t a, size_t b, cpu_set_t *set)
{
    const unsigned char *dash = memchr(s + a, '-', b - a);
    size_t m = dash ? (size_t)(dash - s) : b;
    long lo = ref_number(s, a, m), hi = dash ? ref_number(s, m + 1, b) : lo;
    if (lo < 0 || hi < lo)
        return -1;
    for (long c = lo; c <= hi; c++)
        CPU_SET(c, set);
    return 0;
}

/* Reference parser: 0 and the set, or -1. Splits on every comma first, then reads each
 * element, where ekv_cpulist_parse walks the bytes once. */
static int reference(const unsigned char *s, size_t len, cpu_set_t *set)
{
    CPU_ZERO(set);
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
        len--;
    size_t a = 0;
    while (len > 0) {
        const unsigned char *comma = memchr(s + a, ',', len - a);
        size_t b = comma ? (size_t)(comma - s) : len;
        if (ref_element(s, a, b, set) != 0)
            return -1;
        if (!comma)
            break;
        a = b + 1; /* a trailing comma leaves an empty element, which ref_number refuses */
    }
    return 0;
}

static int same_set(const cpu_set_t *a, const cpu_set_t *b)
{
    return CPU_EQUAL(a, b);
}

static void fuzz_parse(const unsigned char *raw, size_t len)
{
    cpu_set_t want, got;
    int want_rc = reference(raw, len, &want);
    memset(&got, 0xa5, sizeof got); /* out must be cleared on both paths */
    int rc = ekv_cpulist_parse((const char *)raw, len, &got);
    if (rc != EKV_OK && rc != EKV_EMALFORMED)
        fail("a code other than EKV_OK or EKV_EMALFORMED");
    if (rc == EKV_EMALFORMED && CPU_COUNT(&got) != 0)
        fail("a refused list leaves CPUs in the set");
    if ((rc == EKV_OK) != (want_rc == 0))
        fail(rc == EKV_OK ? "a malformed list is accepted" : "a well-formed list is refused");
    if (rc == EKV_OK && !same_set(&got, &want))
        fail("the set differs from the reference");
}

/* Writes set in the kernel's format ("0-3,8\n"): ranges of two or more as lo-hi. */
static size_t format(const cpu_set_t *set, char *out)
{
    size_t n = 0;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, set))
            continue;
        int hi = c;
        while (hi + 1 < CPU_SETSIZE && CPU_ISSET(hi + 1, set))
            hi++;
        n += (size_t)sprintf(out + n, n ? ",%d" : "%d", c);
        if (hi > c)
            n += (size_t)sprintf(out + n, "-%d", hi);
        c = hi;
    }
    out[n++] = '\n';
    return n;
}

static void round_trip(const uint8_t *data, size_t size)
{
    cpu_set_t set, back;
    CPU_ZERO(&set);
    for (size_t i = 0; i < size && i < CPU_SETSIZE / 8; i++)
        for (int bit = 0; bit < 8; bit++)
            if (data[i] >> bit & 1)
                CPU_SET(i * 8 + (size_t)bit, &set);
    /* At most 512 elements "dddd," plus the newline: well under 4096. */
    static char text[4096];
    size_t n = format(&set, text);
    char *exact = malloc(n); /* no NUL after it */
    memcpy(exact, text, n);
    memset(&back, 0x5a, sizeof back);
    if (ekv_cpulist_parse(exact, n, &back) != EKV_OK || !same_set(&set, &back))
        fail("a list in the kernel's format does not give its set back");
    free(exact);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *raw = malloc(size ? size : 1);
    if (size)
        memcpy(raw, data, size);
    fuzz_parse(raw, size);
    round_trip(raw, size);
    free(raw);
    return 0;
}
