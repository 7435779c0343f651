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
#define EKV_EXP_MAX_GROUPS   16
#define EKV_EXP_MAX_PHASES   32
#define EKV_EXP_MAX_WEIGHTS  64

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
    EKV_FAULT_REROUTE,       /* clients' requests for a PoP go to another (`to`; itself: undo) */
    EKV_FAULT_COUNT
} ekv_fault_kind_t;

typedef struct {
    double at_s; /* when, simulated seconds from the start */
    ekv_fault_kind_t kind;
    char pop[64];    /* which PoP ("" for coordinator faults) */
    double delay_ms; /* slow: the new one-way delay */
    char to[64];     /* reroute: the PoP that takes the requests */
    int line;
} ekv_fault_t;

typedef enum { EKV_OP_LT, EKV_OP_LE, EKV_OP_GT, EKV_OP_GE } ekv_cmp_t;

typedef struct {
    char metric[32]; /* stale_ratio, stale_reads, visibility_p50_ms, visibility_p99_ms,
                        visibility_max_ms, failed_reads, and the use-case metrics
                        (docs/experiments.md): rate_limited_writes, hit_ratio, origin_reads,
                        tier_reads, p_fresh_at, stale_age_max_ms, ryw_violations,
                        monotonic_violations, lost_updates, convergence_ms */
    char policy[16]; /* "" = every policy */
    char pop[64];    /* "" = every PoP (visibility: the worst PoP) */
    ekv_cmp_t op;
    double value;
    double t_ms; /* p_fresh_at: how long after the write the read comes (simulated ms) */
    int line;
} ekv_assert_t;

/* How a group's reads are made: get (text, json and arrayBuffer are the same HTTP read),
 * getWithMetadata (the same read; the metadata header is kept), or a bulk get of bulk_keys
 * keys. */
typedef enum { EKV_READ_GET, EKV_READ_META, EKV_READ_BULK } ekv_read_kind_t;

/* A key group: keys of one use case with their own rates and options. Rates are operations
 * per simulated second over the whole world, spread over the clients allowed to make them. */
typedef struct {
    char name[32];
    char pattern[128]; /* key name: "{}" replaced by the key's number (default NAME:{}) */
    long count;        /* keys in the group */
    ekv_dist_t dist;
    double zipf_s;
    long value_min, value_max; /* bytes: a fixed size when equal, else uniform between */
    double read_rate, write_rate, delete_rate, list_rate;
    ekv_read_kind_t read;
    int bulk_keys;  /* bulk reads: keys per request (1..100) */
    int list_limit; /* list: keys per page, following the cursor (1..1000) */
    double cache_ttl;
    long expiration_ttl; /* puts: expirationTtl, 0 = none */
    long expiration;     /* puts: absolute expiration this many seconds after the put, 0 = none */
    char metadata[512];  /* puts: metadata, stored as this JSON string; "" = none */
    int counter;         /* writes are read-modify-write increments (get, +1, put) */
    int append;          /* writes append an item to a JSON list (get, append, put); such a
                          * group is a counter too, whose value is the list's length */
    int per_client;      /* key i belongs to client i % clients: sessions, carts */
    char writers[EKV_EXP_MAX_NAMES][64]; /* home PoPs of the clients that write; none = all */
    size_t nwriters;
    char readers[EKV_EXP_MAX_NAMES][64]; /* home PoPs of the clients that read; none = all */
    size_t nreaders;
    long first_key; /* number of its first key over every group of the run */
    int line;
} ekv_group_t;

/* Rates that change at a time: every rate given replaces the group's (or every group's). */
typedef struct {
    double at_s;
    char group[32];                                       /* "" = every group */
    double read_rate, write_rate, delete_rate, list_rate; /* < 0: unchanged */
    int line;
} ekv_phase_t;

typedef struct {
    char pop[64];
    double weight;
} ekv_weight_t;

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
    double stale_bound_ms;   /* bounded staleness: reads staler than this are violations */
    /* Key groups (groups:): when there are any, they are the workload, driven by clients;
     * else the flat workload: above is. */
    ekv_group_t *groups;
    size_t ngroups;
    long keys_total;                   /* keys over every group */
    long clients;                      /* clients: count (default one per PoP) */
    char homes[EKV_EXP_MAX_NAMES][64]; /* clients' home PoPs, round robin; none = by weight */
    size_t nhomes;
    double reroute;      /* probability that a request goes to another PoP than the home */
    ekv_phase_t *phases; /* sorted by at_s */
    size_t nphases;
    ekv_weight_t weights[EKV_EXP_MAX_WEIGHTS]; /* pop_weights: PoP traffic; unlisted = 1 */
    size_t nweights;
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

/* The name of key number `key` (over every group) into buf; "" when out of range. */
void ekv_experiment_key_name(const ekv_experiment_t *e, long key, char *buf, size_t len);
/* The group holding key number `key`; NULL when out of range. */
const ekv_group_t *ekv_experiment_group_of(const ekv_experiment_t *e, long key);

/* A counter key's value in its stored bytes: the integer, or for an append group the length
 * of the JSON list [1,2,...] (0 for anything else). */
long long ekv_experiment_counter_value(const ekv_group_t *g, const char *body, size_t len);
/* The bytes a counter put of value v stores into buf (at most len - 1); its length, or 0 when
 * it does not fit. */
size_t ekv_experiment_counter_body(const ekv_group_t *g, long long v, char *buf, size_t len);

/* 1 when s names a metric assertions know. */
int ekv_experiment_metric_ok(const char *s);

const char *ekv_fault_name(ekv_fault_kind_t k);
/* Parses a fault action name; -1 when unknown. */
int ekv_fault_parse(const char *s, ekv_fault_kind_t *out);

#endif
