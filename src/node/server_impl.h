/* The request and the route table, shared by server.c, routes.c and feed.c. */
#ifndef PM_NODE_SERVER_IMPL_H
#define PM_NODE_SERVER_IMPL_H

#include <jansson.h>

#include "node/node_impl.h"
#include "perimeter/gallery.h"

#define PM__MAX_ARGS 16

enum { PM__REQ_RECEIVING = 0, PM__REQ_QUEUED = 1, PM__REQ_DONE = 2 };

typedef struct pm__req {
    pm_node_t *node;
    struct MHD_Connection *conn;
    int route; /* index in the table, -1 = none */
    uint64_t t0;
    char method[16];
    char path[256];
    char param[64]; /* the "{x}" path segment, if the route has one */
    struct {
        char name[32];
        char value[256];
    } args[PM__MAX_ARGS];
    size_t nargs;
    int args_over;
    char content_type_in[128];
    pm_buf_t body;
    size_t body_limit;
    int body_over;
    int body_busy;       /* the node-wide body budget ran out */
    size_t reserved;     /* bytes of that budget this request holds */
    /* who is asking (set before any handler runs) */
    const pm_node_partner_t *partner;
    char officer[65];
    pm_officer_role_t role;
    char token[65];
    int via_cookie; /* the session came in the console's cookie (docs/console.md) */
    /* the answer */
    _Atomic int state;
    int queued;
    int refused;       /* answer ready; the body is being dropped */
    int close_conn;    /* answer with Connection: close (a connection past the limits) */
    uint64_t drained;  /* bytes of it dropped so far */
    unsigned status;
    const char *content_type;
    char review_id[24]; /* non-empty: sent as the Perimeter-Review-Id header (R14) */
    char *resp;
    size_t resp_len;
    char set_cookie[192];      /* a Set-Cookie header to send, or "" */
    const char *cache_control; /* NULL: "no-store" */
    char etag[40];             /* an ETag header to send, or "" */
    const char *location;      /* a Location header (redirects), or NULL */
    unsigned retry_after;      /* Retry-After seconds of a 429/503 (0: 1) */
} pm__req_t;
/* The client's address as text ("" if unknown). */
void pm__req_peer(const pm__req_t *rq, char *out, size_t cap);

/* A handler fills the answer with pm__reply*; st is the worker's store
 * (NULL for routes that run on the HTTP thread). */
typedef void (*pm__route_fn)(pm__req_t *rq, pm_store_t *st);

typedef enum { PM__BODY_NONE = 0, PM__BODY_JSON, PM__BODY_IMPORT, PM__BODY_PROBE } pm__body_t;

typedef struct pm__route {
    pm_route_info_t info;
    pm_officer_role_t min_role; /* officer routes */
    int in_worker;              /* run on the worker pool (store, CPU or network work) */
    pm__body_t body;
    pm__route_fn fn;
} pm__route_t;

/* The roles a route admits (routes_console.c): every ranked role at or
 * above its min_role, plus the console roles granted to it. */
unsigned pm__route_roles(const pm__route_t *rt);
/* The console's cookie and its routes (routes_console.c). */
#define PM__SESSION_COOKIE "pm_session"
void pm__h_console_asset(pm__req_t *rq, pm_store_t *st);
void pm__h_console_redirect(pm__req_t *rq, pm_store_t *st);
void pm__h_console_login(pm__req_t *rq, pm_store_t *st);
void pm__h_console_session(pm__req_t *rq, pm_store_t *st);
void pm__h_console_logout(pm__req_t *rq, pm_store_t *st);
/* routes_console_data.c: the views' data */
void pm__h_console_cohorts(pm__req_t *rq, pm_store_t *st);
void pm__h_console_cohort(pm__req_t *rq, pm_store_t *st);
void pm__h_console_case(pm__req_t *rq, pm_store_t *st);
void pm__h_console_print(pm__req_t *rq, pm_store_t *st);
void pm__h_console_pair(pm__req_t *rq, pm_store_t *st);
void pm__h_console_decide(pm__req_t *rq, pm_store_t *st);
void pm__h_console_audit(pm__req_t *rq, pm_store_t *st);
void pm__h_console_traveller(pm__req_t *rq, pm_store_t *st);
void pm__h_console_link_reviews(pm__req_t *rq, pm_store_t *st);
void pm__h_console_link_decide(pm__req_t *rq, pm_store_t *st);
void pm__h_console_flights(pm__req_t *rq, pm_store_t *st);
void pm__h_console_flight(pm__req_t *rq, pm_store_t *st);
/* Same-origin check of a browser request: Origin (when sent) must be this
 * node's own https origin and Sec-Fetch-Site (when sent) same-origin or none.
 * 0 if it passes, else -1 after answering 403. */
int pm__console_same_origin(pm__req_t *rq);
/* Logs a console request (officer, method, path, arguments, status) in the
 * disclosure log as an officer_action entry (not synced: an access trail). */
void pm__console_log_action(pm__req_t *rq);

/* The table (routes.c); out_n may be NULL. */
const pm__route_t *pm__routes(size_t *out_n);
size_t pm__route_body_limit(const pm_node_t *node, const pm__route_t *rt);
extern const uint64_t pm__lat_bounds_us[PM__LAT_BUCKETS];

void pm__reply(pm__req_t *rq, unsigned status, const char *content_type, char *body, size_t len);
void pm__reply_json(pm__req_t *rq, unsigned status, json_t *obj); /* steals obj */
void pm__reply_error(pm__req_t *rq, unsigned status, const char *code, const char *message,
                     const char *field);
void pm__reply_pm_error(pm__req_t *rq, int code, const pm_error_t *e, const char *field);
const char *pm__req_arg(const pm__req_t *rq, const char *name);
/* 1 if every query argument is one of names (NULL-terminated) and none was
 * dropped for size or count; else answers 400 naming the first unknown one
 * and returns 0. */
int pm__req_args_only(pm__req_t *rq, const char *const *names);
/* Parses the JSON body and checks it against fields; on failure answers 400
 * (or 415) with the reason and the field and returns NULL. */
json_t *pm__json_body(pm__req_t *rq, const pm__jbody_t *body);
/* The officers' login both forms share (bearer token, console cookie): the
 * body, the password, a new session. Returns the body (json_decref it) with
 * *role, token (wipe it) and *expires set, or NULL after answering the
 * refusal; `what` names the form in the node's log. */
json_t *pm__login(pm__req_t *rq, pm_store_t *st, const char *what, pm_officer_role_t *role,
                  char token[65], int64_t *expires);
struct pm__audit;
struct pm_decision;
/* Disclosure log helpers of routes.c: 0, or -1 after answering 500. */
int pm__audit_or_fail(pm__req_t *rq, const struct pm__audit *ev);
int pm__sync_or_fail(pm__req_t *rq);
/* Logs a refusal (durable), answers it naming the rule. */
void pm__refuse_logged(pm__req_t *rq, const char *purpose, const struct pm_decision *d,
                       const char *txn, const unsigned char *probe_sha256, const char *field);

/* biometric.c: the gallery's routes */
void pm__h_partner_query_biometric(pm__req_t *rq, pm_store_t *st);
/* A "fingers" array [{position?, format, data}] read into one probe; answers
 * 400/422 and returns -1 on a bad item. */
int pm__read_fingers(pm__req_t *rq, const json_t *arr, pm__probe_t *p);
/* The fused ten-print calibration every route that compares a multi-finger
 * score applies (the built-in one, in *buf), or NULL when node.json says
 * "gallery": {"fused_calibration": false}. */
const pm_gallery_calibration_t *pm__node_fused_calibration(const pm_node_t *node,
                                                           pm_gallery_calibration_t *buf);
/* A verify candidate's score as the routes report it: calibrated for a
 * multi-finger probe (fused_raw keeps pm_gallery_fuse's), as is for one finger. */
void pm__calibrate_verify(const pm_node_t *node, int nfingers, pm_gallery_candidate_t *c);
/* the same query as an ANSI/NIST vetting-profile transaction (PMSR -> PMRS) */
void pm__h_partner_query_vetting(pm__req_t *rq, pm_store_t *st);
void pm__h_gallery_enrol(pm__req_t *rq, pm_store_t *st);
void pm__h_gallery_identify(pm__req_t *rq, pm_store_t *st);
void pm__h_gallery_verify(pm__req_t *rq, pm_store_t *st);

/* checkpoint.c: signed log heads between the nodes */
int pm__checkpoint_start(pm_node_t *node, pm_error_t *err);
void pm__checkpoint_stop(pm_node_t *node);
void pm__h_partner_checkpoint_post(pm__req_t *rq, pm_store_t *st);
void pm__h_partner_checkpoint_get(pm__req_t *rq, pm_store_t *st);
void pm__h_audit_checkpoint(pm__req_t *rq, pm_store_t *st);
void pm__h_partner_checkpoint_fetch(pm__req_t *rq, pm_store_t *st);

/* ---- the agreement applied (agreement.c) ---- */
struct pm_agreement;
struct pm_query_facts;
struct pm_decision;

/* R13 (and R1, R5, R15 through the policy call): decides a partner's query
 * with its in-memory counter (biometric != 0: a biometric query). txn: the
 * query's transaction id (NULL or "": none), remembered when the query is
 * charged; superseded: the id of the lost query an accepted re-ask names
 * (pm__replay_check's *superseded), whose charge in the current period, if
 * it had one, is taken back first: a query and its re-asks count once. */
#define PM__QUOTA_RECENT 8192
typedef struct pm__charge {
    char txn[65]; /* "" = free, or taken back */
    uint8_t biometric;
    int64_t period_start;
} pm__charge_t;
int pm__quota_decide(pm_node_t *node, const pm_node_partner_t *p, const struct pm_agreement *a,
                     const struct pm_query_facts *q, int biometric, int64_t now, const char *txn,
                     const char *superseded, struct pm_decision *out, pm_error_t *err);
/* Rebuilds the counters from the disclosure log's partner queries (start),
 * the supersede entries taking back charges as pm__quota_decide did. */
int pm__quota_replay(pm_node_t *node, pm_error_t *err);
/* Frees the rings of charges (node shutdown). */
void pm__quota_free(pm_node_t *node);

/* One disclosure-log entry (R10); strings may be NULL. */
typedef struct pm__audit {
    const char *kind, *actor, *partner, *purpose, *rule;
    const char *const *fields;
    size_t n_fields;
    const char *const *records;
    size_t n_records;
    const char *txn;
    const unsigned char *probe_sha256;
} pm__audit_t;
int pm__audit_append(pm_node_t *node, const pm__audit_t *ev, pm_error_t *err);
/* Makes every entry appended so far durable: called before an answer leaves. */
int pm__audit_sync(pm_node_t *node, pm_error_t *err);
/* A partner query's transaction_id claimed (replay.c): PM_OK to go on; else
 * the answer was sent (409 replayed, logged as a refusal, or the error).
 * supersedes (NULL or ""): the id of a query of the same partner and purpose
 * whose answer was lost; accepted once (a "supersede" log entry names both
 * ids; *superseded, which may be NULL, is then 1, else 0), else 409
 * supersedes_refused, logged as a refusal. */
int pm__replay_check(pm__req_t *rq, pm_store_t *st, const char *purpose, const char *txn,
                     const char *supersedes, int *superseded);
/* A refusal entry naming the rule (record and probe hash optional). */
int pm__audit_refusal(pm__req_t *rq, const char *purpose, const struct pm_decision *d,
                      const char *txn, const char *record, const unsigned char *probe_sha256,
                      pm_error_t *err);
/* "partner:USA", "officer:alice" or "node:CAN". */
void pm__audit_actor(const pm__req_t *rq, char *out, size_t cap);
/* 403 (429 for R13) {"code":"policy_refused","rule":"R1","message":...,"field":...}. */
void pm__reply_refused(pm__req_t *rq, const struct pm_decision *d, const char *field);

#endif
