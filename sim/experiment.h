/* experiment: a workload, the policies to compare, faults and assertions, loaded from an
 * experiment YAML file (docs/experiments.md; examples in sim/experiments/).
 *
 * All durations and rates are simulated (the topology's time_scale, or the experiment's,
 * turns them into real ones). Loading checks types, ranges and names of fields and reports
 * "FILE:LINE: problem"; PoP names are checked against the topology by the runner. */
#ifndef EKV_EXPERIMENT_H
#define EKV_EXPERIMENT_H

#include <stddef.h>

#define EKV_EXP_MAX_POLICIES 5
#define EKV_EXP_MAX_NAMES    64

typedef enum { EKV_DIST_UNIFORM, EKV_DIST_ZIPF } ekv_dist_t;

typedef enum {
    EKV_FAULT_KILL,          /* kill -9 a PoP */
    EKV_FAULT_RESTART,       /* start it again (stopping it first if it runs) */
    EKV_FAULT_STOP,          /* SIGSTOP a PoP */
    EKV_FAULT_CONTINUE,      /* SIGCONT it */
    EKV_FAULT_PARTITION,     /* cut a PoP's link to the coordinator */
    EKV_FAULT_HEAL,          /* restore it */
    EKV_FAULT_SLOW,          /* set a PoP's one-way delay to delay_ms */
    EKV_FAULT_COORD_KILL,    /* kill -9 the coordinator */
    EKV_FAULT_COORD_RESTART, /* start it again on the same data */
    EKV_FAULT_COUNT
} ekv_fault_kind_t;

typedef struct {
    double at_s; /* when, simulated seconds from the start */
    ekv_fault_kind_t kind;
    char pop[64];    /* which PoP ("" for coordinator faults) */
    double delay_ms; /* slow: the new one-way delay */
    int line;
} ekv_fault_t;

typedef enum { EKV_OP_LT, EKV_OP_LE, EKV_OP_GT, EKV_OP_GE } ekv_cmp_t;

typedef struct {
    char metric[32]; /* stale_ratio, stale_reads, visibility_p50_ms, visibility_p99_ms,
                        visibility_max_ms, failed_reads */
    char policy[16]; /* "" = every policy */
    char pop[64];    /* "" = every PoP (visibility: the worst PoP) */
    ekv_cmp_t op;
    double value;
    int line;
} ekv_assert_t;

typedef struct {
    char name[64];
    double duration_s; /* simulated seconds of load */
    double time_scale; /* 0 = the topology's */
    long seed;
    /* workload */
    long keys; /* key space size */
    ekv_dist_t dist;
    double zipf_s;                       /* zipf exponent */
    long value_size;                     /* bytes */
    double write_rate;                   /* writes per second, all writers together */
    double read_rate;                    /* reads per second at each reading PoP */
    double cache_ttl;                    /* cacheTtl of the reads, seconds */
    char writers[EKV_EXP_MAX_NAMES][64]; /* PoPs that write; none listed = the first PoP */
    size_t nwriters;
    int writers_all;                     /* writers: all */
    char readers[EKV_EXP_MAX_NAMES][64]; /* PoPs that read; none listed = every PoP */
    size_t nreaders;
    double write_rate_limit; /* writes per key per second during the run (default 0: off) */
    char policies[EKV_EXP_MAX_POLICIES][16];
    size_t npolicies;    /* none listed = the topology's policy */
    ekv_fault_t *faults; /* sorted by at_s */
    size_t nfaults;
    ekv_assert_t *asserts;
    size_t nasserts;
} ekv_experiment_t;

ekv_experiment_t *ekv_experiment_load(const char *path, char *err, size_t errlen);
ekv_experiment_t *ekv_experiment_parse(const char *name, const char *text, size_t len, char *err,
                                       size_t errlen);
void ekv_experiment_destroy(ekv_experiment_t **self_p);

/* 1 when s can name a folder inside the results folder: not empty, no leading '.', no '/' and
 * no control characters. The loader refuses other names. */
int ekv_experiment_name_ok(const char *s);

const char *ekv_fault_name(ekv_fault_kind_t k);
/* Parses a fault action name; -1 when unknown. */
int ekv_fault_parse(const char *s, ekv_fault_kind_t *out);

#endif
