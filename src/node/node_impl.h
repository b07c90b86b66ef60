/* Internals of the node module shared between its files (pm__ names). */
#ifndef PM_NODE_IMPL_H
#define PM_NODE_IMPL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "perimeter/node.h"
#include "perimeter/policy.h"
#include "perimeter/store.h"

/* ---- strict JSON (json.c) ---- */

/* A key an object may hold. type: JSON_STRING, JSON_INTEGER, JSON_TRUE
 * (either boolean), JSON_OBJECT, JSON_ARRAY. max: string bytes / array items
 * (0 = no limit beyond the body's). */
typedef struct pm__jfield {
    const char *name;
    json_type type;
    int required;
    size_t max;
} pm__jfield_t;

/* Checks obj against the list: it is an object, every key is listed
 * (unknown keys refused), each value has its type and bound, required keys
 * are present. On failure returns PM_EVALIDATION, err says why and
 * out_field (cap bytes) gets "<where>.<key>" (or where alone). */
int pm__json_check(const json_t *obj, const char *where, const pm__jfield_t *fields, size_t n,
                   char *out_field, size_t cap, pm_error_t *err);
/* Parses a body as one JSON object (duplicate keys refused). PM_EFORMAT with
 * the line/column in err on malformed input. */
int pm__json_parse(const void *data, size_t len, json_t **out, pm_error_t *err);
/* Convenience getters (NULL / 0 / dflt when absent). */
const char *pm__json_str(const json_t *obj, const char *key);
int pm__json_bool(const json_t *obj, const char *key, int dflt);

/* ---- officer sessions (auth.c) ---- */

typedef struct pm__sessions pm__sessions_t;
int pm__sessions_new(unsigned max, unsigned ttl_s, pm__sessions_t **out, pm_error_t *err);
void pm__sessions_free(pm__sessions_t *s);
/* Creates a session; writes the token (64 hex + NUL) into token. Only its
 * BLAKE2b hash is kept. */
int pm__sessions_create(pm__sessions_t *s, const char *name, pm_officer_role_t role,
                        char token[65], int64_t *out_expires, pm_error_t *err);
/* Looks a bearer token up. PM_EDENIED if unknown or expired. */
int pm__sessions_find(pm__sessions_t *s, const char *token, char name[65],
                      pm_officer_role_t *out_role);
/* The same, also giving the expiry and the session's CSRF token (64 hex +
 * NUL; out_expires and csrf may be NULL). */
int pm__sessions_lookup(pm__sessions_t *s, const char *token, char name[65],
                        pm_officer_role_t *out_role, int64_t *out_expires, char csrf[65]);
void pm__sessions_drop(pm__sessions_t *s, const char *token);
size_t pm__sessions_count(pm__sessions_t *s);
/* Applies the node module's schema (officer accounts, feed state). */
int pm__node_migrate(pm_store_t *st, pm_error_t *err);

/* ---- feed (feed.c) ---- */

typedef struct pm__feed_state {
    char partner[4];
    int64_t push_acked;   /* highest store id of ours the partner acknowledged */
    int64_t pull_cursor;  /* highest cursor of its feed we stored */
    int64_t store_max;    /* highest store id of any row */
    int64_t failures;     /* consecutive failed attempts */
    char last_error[256];
    int64_t last_ok_at;   /* unix seconds of the last acknowledged push, 0 = never */
} pm__feed_state_t;

int pm__feed_state_get(pm_store_t *st, const char *partner, pm__feed_state_t *out,
                       pm_error_t *err);
int pm__feed_set_acked(pm_store_t *st, const char *partner, int64_t cursor, pm_error_t *err);
int pm__feed_note_error(pm_store_t *st, const char *partner, const char *msg, pm_error_t *err);
/* Our own entries after cursor, at most limit, as JSON Lines with "cursor";
 * stops early rather than pass out->max. */
int pm__feed_export(pm_node_t *node, const pm_node_partner_t *p, pm_store_t *st, int64_t after,
                    size_t limit, pm_buf_t *out, int64_t *out_last, size_t *out_rows,
                    pm_error_t *err);
/* The disclosure-log entry of a batch the partner received (store ids
 * from+1..last), made durable. */
int pm__feed_log_disclosure(pm_node_t *node, const pm_node_partner_t *p, int64_t from,
                            int64_t last, size_t rows, pm_error_t *err);

typedef struct pm__feed_job pm__feed_job_t;
int pm__feed_start(pm_node_t *node, pm__feed_job_t **out, pm_error_t *err);
void pm__feed_stop(pm__feed_job_t *job);

/* ---- biometric probes (probe.c) ---- */

#include "perimeter/minutiae.h"
struct pm_extractor;
#define PM__PROBE_MAX 10
typedef struct pm__probe {
    pm_fingerprint_t views[PM__PROBE_MAX];
    int position[PM__PROBE_MAX];
    int n;
    int has_biographic; /* an ANSI/NIST Type-2 record names the person (R5) */
} pm__probe_t;
/* Reads a probe of the given format (iso19794-2, ansi378, wsq, png, an2k)
 * into finger views (images through the extractor). PM_EUNSUPPORTED for an
 * unknown format, the parser's code otherwise. */
int pm__probe_read(const struct pm_extractor *ex, const char *format, const uint8_t *d, size_t n,
                   pm__probe_t *p, pm_error_t *err);
/* 1 if an ANSI/NIST probe's Type-2 record carries biographic fields (R5);
 * cheap enough to run before the policy decides the query. */
int pm__probe_has_biographic(const char *format, const uint8_t *d, size_t n);
/* Overwrites every view (the probe is destroyed, R6). */
void pm__probe_wipe(pm__probe_t *p);

/* ---- worker pool (pool.c) ---- */

typedef struct pm__pool pm__node_pool_t;
typedef void (*pm__job_fn)(void *arg, pm_store_t *st);
int pm__node_pool_new(const char *store_path, unsigned threads, unsigned queue, pm__node_pool_t **out,
                 pm_error_t *err);
/* Queues fn(arg, worker's store). PM_EBUSY when the queue is full or the
 * pool is stopping: the caller answers 503. */
int pm__node_pool_submit(pm__node_pool_t *p, pm__job_fn fn, void *arg);
/* Runs every queued job, then joins the workers and closes their stores. */
void pm__node_pool_free(pm__node_pool_t *p);
unsigned pm__node_pool_queued(pm__node_pool_t *p);

/* ---- the node ---- */

#define PM__ROUTE_MAX 96
#define PM__LAT_BUCKETS 12

typedef struct pm__route_metrics {
    atomic_ullong requests[6]; /* by status class: 1xx..5xx index 1..5, 0 = other */
    atomic_ullong lat_bucket[PM__LAT_BUCKETS + 1];
    atomic_ullong lat_sum_us;
} pm__route_metrics_t;

struct pm_node {
    const pm_node_config_t *cfg;
    pm_node_options_t opt;
    void *daemon; /* struct MHD_Daemon * */
    unsigned port;
    char *cert_pem, *key_pem, *trust_pem;
    pm__node_pool_t *pool;
    pm__sessions_t *sessions;
    pm__feed_job_t *feed;
    atomic_int draining;
    atomic_int inflight;
    atomic_ullong body_bytes; /* request body bytes reserved, all connections */
    atomic_ullong feed_pushed_rows, feed_received_rows, feed_push_failures, feed_pulled_rows;
    atomic_llong feed_lag[PM_NODE_MAX_PARTNERS];
    pm__route_metrics_t metrics[PM__ROUTE_MAX];
    atomic_ullong unrouted[6];
    struct pm_audit_log *audit;     /* the disclosure log (R10), shared by every thread */
    unsigned char audit_sk[64];     /* checkpoint signing key (audit.key) */
    int has_audit_sk;
    atomic_ullong policy_refusals;  /* partner requests refused by a rule */
    pthread_mutex_t quota_mu;       /* R13 counters, one per partner (replayed from the log) */
    struct pm_quota_counter quota[PM_NODE_MAX_PARTNERS];
    struct pm_gallery *gallery;     /* 1:N search over the enrolled subjects */
    struct pm_extractor *extractor; /* minutiae of probe images */
    pthread_mutex_t enrol_mu;       /* one enrolment at a time (store + gallery in step) */
    /* checkpoint job (checkpoint.c) */
    pthread_t cp_thread;
    int cp_started;
    pthread_mutex_t cp_mu;
    pthread_cond_t cp_cv;
    int cp_stop;
};

void pm__node_log(const pm_node_t *node, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
