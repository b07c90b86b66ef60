/* Internals of the node module shared between its files (pm__ names). */
#ifndef PM_NODE_IMPL_H
#define PM_NODE_IMPL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "perimeter/node.h"
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
int pm__feed_export(pm_store_t *st, int64_t after, size_t limit, pm_buf_t *out,
                    int64_t *out_last, size_t *out_rows, pm_error_t *err);

typedef struct pm__feed_job pm__feed_job_t;
int pm__feed_start(pm_node_t *node, pm__feed_job_t **out, pm_error_t *err);
void pm__feed_stop(pm__feed_job_t *job);

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

#define PM__ROUTE_MAX 64
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
};

void pm__node_log(const pm_node_t *node, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
