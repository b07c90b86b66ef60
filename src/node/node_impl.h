/* Internals of the node module shared between its files (pm__ names). */
#ifndef PM_NODE_IMPL_H
#define PM_NODE_IMPL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "perimeter/node.h"
#include "perimeter/policy.h"
#include "perimeter/seal.h"
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
/* replay.c: the partner_txn table, and claiming (partner, transaction_id)
 * at now: PM_OK the first time, PM_EEXISTS if claimed within window_s. */
int pm__replay_migrate(pm_store_t *st, pm_error_t *err);
int pm__replay_claim(pm_store_t *st, const char *partner, const char *purpose, const char *txn,
                     int64_t now, int64_t window_s, pm_error_t *err);
/* A re-ask naming a lost id (see replay.c): PM_OK, PM_ENOTFOUND (unknown
 * from this partner), PM_EDENIED (other purpose), PM_ESTATE (superseded
 * already), PM_EEXISTS (txn used), PM_EINVAL (empty or old == txn). */
int pm__replay_supersede(pm_store_t *st, const char *partner, const char *purpose,
                         const char *txn, const char *old, int64_t now, int64_t window_s,
                         pm_error_t *err);

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

/* ---- the feed over JetStream (feed_js.c) ---- */

typedef struct pm__jsfeed pm__jsfeed_t;
/* Connects to our nats-server (p->js_url) and makes sure of what p uses:
 * the outgoing stream (js_send), the incoming stream sourcing the
 * partner's and its durable pull consumer (js_receive). */
int pm__jsfeed_open(const char *ours, const pm_node_partner_t *p, pm__jsfeed_t **out,
                    pm_error_t *err);
void pm__jsfeed_close(pm__jsfeed_t *f);
/* Publishes each line of jsonl (exported records) as one message with its
 * Nats-Msg-Id and the agreement's hash; returns only when the stream
 * acknowledged every one (else an error: send the batch again). */
int pm__jsfeed_publish(pm__jsfeed_t *f, const char *agreement_hash, const pm_buf_t *jsonl,
                       pm_error_t *err);
/* Fetches up to batch incoming messages (waiting up to timeout_ms) and
 * appends them to out as JSON Lines; a message under another agreement is
 * refused (PM_EDENIED, nothing acknowledged). pm__jsfeed_ack acknowledges
 * the fetched batch (call it after the import committed). */
int pm__jsfeed_fetch(pm__jsfeed_t *f, int batch, int timeout_ms, const char *agreement_hash,
                     pm_buf_t *out, size_t *out_msgs, pm_error_t *err);
int pm__jsfeed_ack(pm__jsfeed_t *f, pm_error_t *err);
/* One fetched message as pm__jsfeed_fetch takes it (fuzzed:
 * fuzz/fuzz_feed_js.c): its Perimeter-Agreement header (NULL: none) must
 * be agreement_hash (else PM_EDENIED), its payload one JSON line: not
 * empty, at most PM_CROSSING_LINE_MAX bytes, no newline or NUL (else
 * PM_EFORMAT: one message can never smuggle in a second record). Appended
 * to out with a newline. */
int pm__jsfeed_take(const char *agreement_header, const void *payload, size_t len,
                    const char *agreement_hash, pm_buf_t *out, pm_error_t *err);
/* Messages in the outgoing (incoming = 0) or incoming stream. */
int pm__jsfeed_count(pm__jsfeed_t *f, int incoming, uint64_t *out_msgs, pm_error_t *err);

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

/* ---- request rate limits (rate.c) ---- */

typedef struct pm__rates pm__rates_t;
int pm__rates_new(const pm_node_limits_t *l, pm__rates_t **out, pm_error_t *err);
void pm__rates_free(pm__rates_t *r);
/* One token bucket step: refills *tokens at rate per second (capped at
 * burst; a bucket never used, last_ns 0, starts full) and takes one token.
 * 1 if the request may go, 0 if it is over the rate; rate <= 0 means no limit. */
int pm__bucket_take(double *tokens, uint64_t *last_ns, double rate, double burst, uint64_t now_ns);
/* The same for partner pi's bucket / the named officer's bucket. */
int pm__rate_take_partner(pm__rates_t *r, size_t pi, uint64_t now_ns);
int pm__rate_take_officer(pm__rates_t *r, const char *name, uint64_t now_ns);

/* ---- slow-loris guard (guard.c) ---- */

struct MHD_Connection;
typedef struct pm__guard pm__guard_t;
/* Starts the sweeper (header_timeout_s 0: no guard, calls are no-ops) and
 * counts connections against max_conns / max_per_ip (0: no limit). */
int pm__guard_start(unsigned header_timeout_s, unsigned request_timeout_s, unsigned max_conns,
                    unsigned max_per_ip, pm__guard_t **out, pm_error_t *err);
/* libmicrohttpd's own limit for one of ours: above it, so that ours answers
 * 503 before libmicrohttpd refuses at accept (0 stays 0: no limit). */
unsigned pm__guard_hard_limit(unsigned limit);
/* The connection was accepted past limits.connections or connections_per_ip:
 * 1 (counted once per call: call it once per refusal). */
int pm__guard_over(pm__guard_t *g, struct MHD_Connection *c);
/* Connections refused 503 so far. */
unsigned long long pm__guard_refused(pm__guard_t *g);
/* After MHD_stop_daemon. */
void pm__guard_stop(pm__guard_t *g);
/* MHD_OPTION_NOTIFY_CONNECTION: started != 0 when accepted, 0 when closed. */
void pm__guard_notify(void *g, struct MHD_Connection *c, void **socket_context, int started);
/* The request line and headers are in (on_request's first call) / the
 * request ended (its completion): the deadline is cleared / set again. */
void pm__guard_headers_done(pm__guard_t *g, struct MHD_Connection *c);
/* The whole body arrived: no deadline while the handler runs. */
void pm__guard_body_done(pm__guard_t *g, struct MHD_Connection *c);
void pm__guard_request_ended(pm__guard_t *g, struct MHD_Connection *c);
/* Connections cut so far. */
unsigned long long pm__guard_cut(pm__guard_t *g);

/* ---- configuration (config.c) ---- */

/* The configuration text (already read) into cfg, whose limits hold the
 * defaults and path the file's name; relative paths resolve against dir.
 * pm_node_config_load is this after reading the file; the fuzz target
 * fuzz/fuzz_node_config.c calls it directly. Frees cfg on failure. */
int pm__node_config_parse(const void *data, size_t len, const char *dir, pm_node_config_t *cfg,
                          pm_error_t *err);

/* ---- request bodies (bodies.c) ---- */

/* One route's JSON body: its keys, and optionally one nested object and one
 * array of objects whose items are checked too ("person", "fingers[i]"). */
typedef struct pm__jbody {
    const char *name; /* e.g. "gallery_enrol" (fuzz target, messages) */
    const pm__jfield_t *fields;
    size_t n;
    const char *object_key;
    const pm__jfield_t *object_fields;
    size_t object_n;
    const char *array_key;
    const pm__jfield_t *array_fields;
    size_t array_n;
} pm__jbody_t;
extern const pm__jfield_t pm__body_finger_fields[3];  /* {position?, format, data} */
extern const pm__jfield_t pm__body_person_fields[11]; /* enrol's "person" */
extern const pm__jbody_t pm__body_login, pm__body_partner_biographic, pm__body_partner_biometric,
    pm__body_review_decision, pm__body_review_act, pm__body_partner_correction,
    pm__body_transfer, pm__body_enrol, pm__body_identify, pm__body_verify, pm__body_preclear,
    pm__body_link_decision;
/* Every body above, in a fixed order (NULL past the end). */
size_t pm__body_count(void);
const pm__jbody_t *pm__body_at(size_t i);
/* Parses data as one JSON object (pm__json_parse: PM_EFORMAT) and checks it
 * and its nested object/array items against b (PM_EVALIDATION, field set to
 * the offending key). On success *out is the object (json_decref it). */
int pm__body_parse(const pm__jbody_t *b, const void *data, size_t len, json_t **out, char *field,
                   size_t cap, pm_error_t *err);

/* ---- worker pool (pool.c) ---- */

typedef struct pm__pool pm__node_pool_t;
/* st: a store handle checked out for this job (given back after it), or
 * NULL when none came within store_wait_ms or a replacement could not be
 * opened (why says which): the job then answers 503. */
typedef struct pm__login_limit pm__login_limit_t;
/* Every store handle a job checks out seals with ring (the node's data key;
 * set before serving). */
struct pm_seal_ring;
void pm__node_pool_set_seal(pm__node_pool_t *p, const struct pm_seal_ring *ring);
typedef void (*pm__job_fn)(void *arg, pm_store_t *st, const pm_error_t *why);
/* threads workers, queue jobs waiting, store_size handles in the store pool
 * (0 = one per worker), a job waits up to wait_ms for one. */
int pm__node_pool_new(const char *store_path, unsigned threads, unsigned queue,
                      unsigned store_size, unsigned wait_ms, pm__node_pool_t **out,
                      pm_error_t *err);
/* Queues fn(arg, store, why). PM_EBUSY when the queue is full or the
 * pool is stopping: the caller answers 503. */
int pm__node_pool_submit(pm__node_pool_t *p, pm__job_fn fn, void *arg);
/* Runs every queued job, then joins the workers and closes their stores. */
void pm__node_pool_free(pm__node_pool_t *p);
unsigned pm__node_pool_queued(pm__node_pool_t *p);
void pm__node_pool_store_stats(pm__node_pool_t *p, pm_store_pool_stats_t *out);

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
    struct pm_audit_index *audit_index; /* the console audit view's verified head and offsets */
    unsigned char audit_sk[64];     /* checkpoint signing key (audit.key) */
    int has_audit_sk;
    atomic_ullong policy_refusals;  /* partner requests refused by a rule */
    pthread_mutex_t quota_mu;       /* R13 counters, one per partner (replayed from the log) */
    struct pm_quota_counter quota[PM_NODE_MAX_PARTNERS];
    /* ... and each partner's last PM__QUOTA_RECENT charged queries (a ring,
     * allocated at the first), so an accepted re-ask (supersedes) moves its
     * lost query's charge instead of adding a second one (agreement.c) */
    struct pm__charge *charges[PM_NODE_MAX_PARTNERS];
    uint32_t charges_next[PM_NODE_MAX_PARTNERS];
    struct pm_gallery *gallery;     /* 1:N search over the enrolled subjects (in-process) */
    struct pm_shard_client *shards; /* ... or the gallery's shards over NATS (cfg gallery_shards) */
    struct pm_extractor *extractor; /* minutiae of probe images */
    pthread_mutex_t enrol_mu;       /* one enrolment at a time (store + gallery in step) */
    /* checkpoint job (checkpoint.c) */
    pthread_t cp_thread;
    int cp_started;
    pthread_mutex_t cp_mu;
    pthread_cond_t cp_cv;
    int cp_stop;
    pm__rates_t *rates;             /* limits.partner_rate / officer_rate (rate.c) */
    atomic_ullong rate_limited;     /* requests answered 429 */
    pm__guard_t *guard;             /* limits.header_timeout_s (guard.c) */
    pm_seal_ring_t seal;            /* data_key: what every store handle seals with (datakey.c) */
    pm__login_limit_t *logins;      /* failed logins, locks (login_limit.c) */
    atomic_ullong login_checks;     /* passwords checked (Argon2id runs) */
    atomic_ullong login_locked;     /* logins refused 429 by a lock, unchecked */
};

void pm__node_log(const pm_node_t *node, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* datakey.c: "data_key" of the configuration, and the ring it loads. */
int pm__node_data_key_parse(const json_t *o, const char *dir, pm_node_config_t *cfg,
                            pm_error_t *err);

/* login_limit.c: failed logins per name and per address; a lock refused
 * before the password is checked. */
int pm__login_limit_new(const pm_node_limits_t *l, pm__login_limit_t **out, pm_error_t *err);
void pm__login_limit_free(pm__login_limit_t *ll);
int pm__login_limit_migrate(pm_store_t *st, pm_error_t *err);
/* 0: go ahead (the attempt is counted in flight; report it with
 * pm__login_result), else the seconds to wait. *failures: the count so far. */
unsigned pm__login_gate(pm__login_limit_t *ll, pm_store_t *st, const char *name, const char *addr,
                        int64_t now, unsigned *failures);
/* The attempt's outcome; *lock_s = the lock it started (0 = none). */
int pm__login_result(pm__login_limit_t *ll, pm_store_t *st, const char *name, const char *addr,
                     int ok, int64_t now, unsigned *lock_s, pm_error_t *err);

#endif
