/* The route table and its handlers: thin shells over library calls.
 *
 * Adding a route is one row in `routes` plus its handler: the server looks
 * the row up, authenticates (public / officer with a minimum role / partner
 * mutual TLS) before the handler exists for the request, bounds the body by
 * the row's body class, and runs the handler on the worker pool when
 * in_worker is set (the handler then gets that worker's store). The gallery
 * routes (enrol / identify / verify) and the officer reports join the same way. */
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/routes_preclear.h"
#include "node/routes_reports.h"
#include "node/routes_review.h"
#include "node/server_impl.h"
#include "perimeter/an2k.h"
#include "perimeter/jobs.h"
#include "perimeter/audit.h"
#include "perimeter/gallery.h"
#include "perimeter/image.h"
#include "perimeter/policy.h"
#include "perimeter/tmpl.h"
#include "perimeter/travel.h"

const uint64_t pm__lat_bounds_us[PM__LAT_BUCKETS] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 5000000,
};

/* ------------------------------------------------------------ helpers */

/* Parses the JSON body and checks it against fields; on failure answers 400
 * with the reason and the field and returns NULL. */
json_t *pm__json_body(pm__req_t *rq, const pm__jbody_t *body)
{
    const char *ct = rq->content_type_in;
    if (ct[0] && strncmp(ct, "application/json", 16) != 0) {
        pm__reply_error(rq, 415, "unsupported_media_type", "the body must be application/json",
                        NULL);
        return NULL;
    }
    pm_error_t e;
    pm_error_clear(&e);
    json_t *o = NULL;
    char field[96];
    int rc = pm__body_parse(body, rq->body.data, rq->body.len, &o, field, sizeof field, &e);
    if (rc == PM_EFORMAT) {
        pm__reply_error(rq, 400, "malformed_json", e.msg, NULL);
        return NULL;
    }
    if (rc) {
        const char *code = strstr(e.msg, ": unknown field") ? "unknown_field"
                           : strstr(e.msg, ": required")     ? "missing_field"
                                                             : "invalid_field";
        pm__reply_error(rq, 400, code, e.msg, field);
        return NULL;
    }
    return o;
}


static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 19)
        return -1;
    uint64_t v = strtoull(s, NULL, 10);
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* Answers 500 when the disclosure log cannot take an entry: nothing is
 * disclosed that is not logged. */
int pm__audit_or_fail(pm__req_t *rq, const pm__audit_t *ev)
{
    pm_error_t e;
    pm_error_clear(&e);
    if (pm__audit_append(rq->node, ev, &e) == PM_OK)
        return 0;
    pm__node_log(rq->node, 2, "disclosure log: %s", e.msg);
    pm__reply_error(rq, 500, "audit_unavailable",
                    "the disclosure log cannot record this exchange; nothing was disclosed", NULL);
    return -1;
}

int pm__sync_or_fail(pm__req_t *rq)
{
    pm_error_t e;
    pm_error_clear(&e);
    if (pm__audit_sync(rq->node, &e) == PM_OK)
        return 0;
    pm__node_log(rq->node, 2, "disclosure log: %s", e.msg);
    pm__reply_error(rq, 500, "audit_unavailable",
                    "the disclosure log cannot record this exchange; nothing was disclosed", NULL);
    return -1;
}

/* Logs a refusal, makes it durable and answers it (naming the rule). */
void pm__refuse_logged(pm__req_t *rq, const char *purpose, const pm_decision_t *d,
                       const char *txn, const unsigned char *probe_sha256, const char *field)
{
    pm_error_t e;
    pm_error_clear(&e);
    atomic_fetch_add(&rq->node->policy_refusals, 1);
    if (pm__audit_refusal(rq, purpose, d, txn, NULL, probe_sha256, &e) ||
        pm__audit_sync(rq->node, &e)) {
        pm__node_log(rq->node, 2, "disclosure log: %s", e.msg);
        pm__reply_error(rq, 500, "audit_unavailable", "the disclosure log cannot record this",
                        NULL);
        return;
    }
    pm__node_log(rq->node, 1, "partner %s %s: refused by R%d: %s", rq->partner->code,
                 rq->path, d->rule, d->reason);
    pm__reply_refused(rq, d, field);
}

/* ------------------------------------------------------------ public */

static void h_health(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    pm__reply_json(rq, 200,
                   json_pack("{s:s, s:s, s:s}", "status", "ok", "country", rq->node->cfg->country,
                             "version", PM_VERSION_STRING));
}

static void h_ready(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    pm_node_t *node = rq->node;
    if (atomic_load(&node->draining)) {
        pm__reply_error(rq, 503, "draining", "the node is shutting down", NULL);
        return;
    }
    unsigned q = pm__node_pool_queued(node->pool);
    if (q >= node->cfg->limits.queue) {
        pm__reply_error(rq, 503, "busy", "the worker queue is full", NULL);
        return;
    }
    pm__reply_json(rq, 200, json_pack("{s:b, s:I}", "ready", 1, "queued", (json_int_t)q));
}

static void h_metrics(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    pm_node_t *node = rq->node;
    pm_buf_t b;
    pm_buf_init(&b, 4u << 20);
    size_t n = 0;
    const pm__route_t *routes = pm__routes(&n);
    static const char *const cls[6] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
    int rc = pm_buf_append_str(&b, "# HELP perimeter_http_requests_total HTTP requests by route "
                                   "and status class.\n# TYPE perimeter_http_requests_total "
                                   "counter\n");
    for (size_t i = 0; i < n && !rc; i++)
        for (int c = 0; c < 6 && !rc; c++) {
            unsigned long long v = atomic_load(&node->metrics[i].requests[c]);
            if (v)
                rc = pm_buf_printf(&b,
                                   "perimeter_http_requests_total{method=\"%s\",route=\"%s\","
                                   "status=\"%s\"} %llu\n",
                                   routes[i].info.method, routes[i].info.path, cls[c], v);
        }
    for (int c = 0; c < 6 && !rc; c++) {
        unsigned long long v = atomic_load(&node->unrouted[c]);
        if (v)
            rc = pm_buf_printf(&b,
                               "perimeter_http_requests_total{method=\"\",route=\"unrouted\","
                               "status=\"%s\"} %llu\n",
                               cls[c], v);
    }
    rc = rc ? rc
            : pm_buf_append_str(&b, "# HELP perimeter_http_request_duration_seconds Time from "
                                    "request headers to the answer's end.\n# TYPE "
                                    "perimeter_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < n && !rc; i++) {
        const pm__route_metrics_t *m = &node->metrics[i];
        unsigned long long cum = 0, total = 0;
        for (int k = 0; k <= PM__LAT_BUCKETS; k++)
            total += atomic_load(&m->lat_bucket[k]);
        if (!total)
            continue;
        for (int k = 0; k <= PM__LAT_BUCKETS && !rc; k++) {
            cum += atomic_load(&m->lat_bucket[k]);
            char le[32];
            if (k < PM__LAT_BUCKETS)
                snprintf(le, sizeof le, "%g", (double)pm__lat_bounds_us[k] / 1e6);
            else
                snprintf(le, sizeof le, "+Inf");
            rc = pm_buf_printf(&b,
                               "perimeter_http_request_duration_seconds_bucket{method=\"%s\","
                               "route=\"%s\",le=\"%s\"} %llu\n",
                               routes[i].info.method, routes[i].info.path, le, cum);
        }
        rc = rc ? rc
                : pm_buf_printf(&b,
                                "perimeter_http_request_duration_seconds_sum{method=\"%s\","
                                "route=\"%s\"} %.6f\n"
                                "perimeter_http_request_duration_seconds_count{method=\"%s\","
                                "route=\"%s\"} %llu\n",
                                routes[i].info.method, routes[i].info.path,
                                (double)atomic_load(&m->lat_sum_us) / 1e6, routes[i].info.method,
                                routes[i].info.path, total);
    }
    rc = rc ? rc
            : pm_buf_printf(
                  &b,
                  "# HELP perimeter_feed_pushed_rows_total Crossings the partners acknowledged.\n"
                  "# TYPE perimeter_feed_pushed_rows_total counter\n"
                  "perimeter_feed_pushed_rows_total %llu\n"
                  "# HELP perimeter_feed_received_rows_total New crossings stored from partner "
                  "pushes.\n# TYPE perimeter_feed_received_rows_total counter\n"
                  "perimeter_feed_received_rows_total %llu\n"
                  "# HELP perimeter_feed_pulled_rows_total New crossings stored from pulls.\n"
                  "# TYPE perimeter_feed_pulled_rows_total counter\n"
                  "perimeter_feed_pulled_rows_total %llu\n"
                  "# HELP perimeter_feed_push_failures_total Failed push attempts.\n"
                  "# TYPE perimeter_feed_push_failures_total counter\n"
                  "perimeter_feed_push_failures_total %llu\n"
                  "# HELP perimeter_feed_lag_ids Store ids between the partner's acknowledged "
                  "cursor and our newest row while entries wait (0 = caught up).\n# TYPE perimeter_feed_lag_ids gauge\n",
                  (unsigned long long)atomic_load(&node->feed_pushed_rows),
                  (unsigned long long)atomic_load(&node->feed_received_rows),
                  (unsigned long long)atomic_load(&node->feed_pulled_rows),
                  (unsigned long long)atomic_load(&node->feed_push_failures));
    for (size_t i = 0; i < node->cfg->npartners && !rc; i++)
        if (node->cfg->partners[i].push)
            rc = pm_buf_printf(&b, "perimeter_feed_lag_ids{partner=\"%s\"} %lld\n",
                               node->cfg->partners[i].code,
                               (long long)atomic_load(&node->feed_lag[i]));
    pm_store_pool_stats_t ps;
    pm__node_pool_store_stats(node->pool, &ps);
    rc = rc ? rc
            : pm_buf_printf(&b,
                            "# HELP perimeter_store_pool_size Store handles allowed "
                            "(limits.store_pool).\n# TYPE perimeter_store_pool_size gauge\n"
                            "perimeter_store_pool_size %u\n"
                            "# HELP perimeter_store_pool_in_use Store handles checked out.\n"
                            "# TYPE perimeter_store_pool_in_use gauge\n"
                            "perimeter_store_pool_in_use %u\n"
                            "# HELP perimeter_store_pool_timeouts_total Requests answered 503: "
                            "no store handle within limits.store_wait_ms.\n"
                            "# TYPE perimeter_store_pool_timeouts_total counter\n"
                            "perimeter_store_pool_timeouts_total %llu\n"
                            "# HELP perimeter_store_pool_replaced_total Broken store handles "
                            "closed and replaced.\n"
                            "# TYPE perimeter_store_pool_replaced_total counter\n"
                            "perimeter_store_pool_replaced_total %llu\n",
                            ps.size, ps.in_use, (unsigned long long)ps.timeouts,
                            (unsigned long long)ps.replaced);
    rc = rc ? rc
            : pm_buf_printf(&b,
                            "# HELP perimeter_http_requests_in_flight Requests between their "
                            "headers and the end of their answer (this one included).\n"
                            "# TYPE perimeter_http_requests_in_flight gauge\n"
                            "perimeter_http_requests_in_flight %d\n"
                            "# HELP perimeter_worker_queue Jobs waiting for a worker.\n"
                            "# TYPE perimeter_worker_queue gauge\nperimeter_worker_queue %u\n"
                            "# HELP perimeter_officer_sessions Open officer sessions.\n"
                            "# TYPE perimeter_officer_sessions gauge\n"
                            "perimeter_officer_sessions %zu\n"
                            "# HELP perimeter_gallery_available 1 when a 1:N gallery is "
                            "loaded (its size is perimeter_gallery_size).\n"
                            "# TYPE perimeter_gallery_available gauge\n"
                            "perimeter_gallery_available %d\n"
                            "# HELP perimeter_gallery_size Finger views in the loaded gallery.\n"
                            "# TYPE perimeter_gallery_size gauge\n"
                            "perimeter_gallery_size %zu\n"
                            "# HELP perimeter_rate_limited_total Requests answered 429 "
                            "(limits.partner_rate / officer_rate).\n"
                            "# TYPE perimeter_rate_limited_total counter\n"
                            "perimeter_rate_limited_total %llu\n"
                            "# HELP perimeter_connections_cut_total Connections cut for not "
                            "sending their headers in time (limits.header_timeout_s).\n"
                            "# TYPE perimeter_connections_cut_total counter\n"
                            "perimeter_connections_cut_total %llu\n"
                            "# HELP perimeter_connections_refused_total Requests answered 503 "
                            "too_many_connections on a connection accepted past "
                            "limits.connections or connections_per_ip.\n"
                            "# TYPE perimeter_connections_refused_total counter\n"
                            "perimeter_connections_refused_total %llu\n",
                            atomic_load(&node->inflight), pm__node_pool_queued(node->pool),
                            pm__sessions_count(node->sessions), node->gallery ? 1 : 0,
                            node->gallery ? pm_gallery_count(node->gallery) : (size_t)0,
                            (unsigned long long)atomic_load(&node->rate_limited),
                            pm__guard_cut(node->guard), pm__guard_refused(node->guard));
    rc = rc ? rc
            : pm_buf_printf(&b,
                            "# HELP perimeter_login_checks_total Passwords checked (Argon2id "
                            "runs) by API and console logins.\n"
                            "# TYPE perimeter_login_checks_total counter\n"
                            "perimeter_login_checks_total %llu\n"
                            "# HELP perimeter_login_locked_total Logins refused 429 by a lock "
                            "(limits.login_failures / login_failures_ip), password unchecked.\n"
                            "# TYPE perimeter_login_locked_total counter\n"
                            "perimeter_login_locked_total %llu\n",
                            (unsigned long long)atomic_load(&node->login_checks),
                            (unsigned long long)atomic_load(&node->login_locked));
    if (rc) {
        pm_buf_free(&b);
        pm__reply_error(rq, 500, "internal", "metrics too large", NULL);
        return;
    }
    size_t len = b.len;
    char *text = (char *)pm_buf_steal(&b, &len);
    pm__reply(rq, 200, "text/plain; version=0.0.4", text, len);
}

/* A login refused by a lock, or a lock started: in the disclosure log. */
static void login_audit(pm__req_t *rq, const char *user, const char *addr, const char *detail)
{
    if (!rq->node->audit)
        return;
    char actor[96];
    snprintf(actor, sizeof actor, "login:%.64s", user ? user : "");
    char d[256];
    snprintf(d, sizeof d, "%s %s from %s: %s", rq->method, rq->path, addr[0] ? addr : "?",
             detail);
    pm_audit_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.time = (int64_t)time(NULL);
    ev.kind = "officer_action";
    ev.actor = actor;
    ev.detail = d;
    pm_error_t e;
    pm_error_clear(&e);
    if (pm_audit_append(rq->node->audit, &ev, NULL, &e))
        pm__node_log(rq->node, 2, "login log: %s", e.msg);
}

json_t *pm__login(pm__req_t *rq, pm_store_t *st, const char *what, pm_officer_role_t *role,
                  char token[65], int64_t *expires)
{
    json_t *o = pm__json_body(rq, &pm__body_login);
    if (!o)
        return NULL;
    pm_error_t e;
    pm_error_clear(&e);
    *role = PM_ROLE_NONE;
    const char *user = pm__json_str(o, "username");
    /* failed attempts past the limit: refused before the password is checked */
    char addr[64], m[200];
    pm__req_peer(rq, addr, sizeof addr);
    int64_t now = (int64_t)time(NULL);
    unsigned failures = 0, lock_s = 0;
    unsigned wait = pm__login_gate(rq->node->logins, st, user, addr, now, &failures);
    if (wait) {
        atomic_fetch_add(&rq->node->login_locked, 1);
        snprintf(m, sizeof m, "refused 429, locked for %u s after %u failed attempts", wait,
                 failures);
        login_audit(rq, user, addr, m);
        pm__node_log(rq->node, 1, "%s for '%s' from %s %s", what, user, addr, m);
        rq->retry_after = wait;
        pm__reply_error(rq, 429, "login_locked",
                        "too many failed logins for this name or address; retry later", NULL);
        json_decref(o);
        return NULL;
    }
    atomic_fetch_add(&rq->node->login_checks, 1);
    int rc = pm_officer_check(st, user, pm__json_str(o, "password"), role, &e);
    pm_error_t le;
    pm_error_clear(&le);
    if (pm__login_result(rq->node->logins, st, user, addr, rc == PM_OK ? 1 : rc == PM_EDENIED ? 0 : -1,
                         now, &lock_s, &le))
        pm__node_log(rq->node, 2, "login lock: %s", le.msg);
    if (lock_s) {
        snprintf(m, sizeof m, "failed login; locked for %u s", lock_s);
        login_audit(rq, user, addr, m);
    }
    if (rc == PM_EDENIED) {
        pm__node_log(rq->node, 1, "%s refused for '%s'", what, user);
        pm__reply_error(rq, 401, "login_failed", e.msg, NULL);
    } else if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
    } else if ((rc = pm__sessions_create(rq->node->sessions, user, *role, token, expires, &e))) {
        pm__reply_error(rq, 503, "busy", e.msg, NULL);
    } else {
        return o;
    }
    json_decref(o);
    return NULL;
}

static void h_login(pm__req_t *rq, pm_store_t *st)
{
    pm_officer_role_t role;
    char token[65];
    int64_t expires = 0;
    json_t *o = pm__login(rq, st, "login", &role, token, &expires);
    if (!o)
        return;
    pm__reply_json(rq, 200,
                   json_pack("{s:s, s:s, s:s, s:I}", "token", token, "username",
                             pm__json_str(o, "username"), "role", pm_officer_role_name(role),
                             "expires_at", (json_int_t)expires));
    sodium_memzero(token, sizeof token);
    json_decref(o);
}

/* ------------------------------------------------------------ officer */

static void h_logout(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    pm__sessions_drop(rq->node->sessions, rq->token);
    pm__reply_json(rq, 200, json_pack("{s:b}", "logged_out", 1));
}

struct reject_list {
    json_t *arr;
    size_t max;
};

static void on_reject(void *ctx, uint64_t line, pm_crossing_field_t field, const pm_error_t *e)
{
    struct reject_list *rl = ctx;
    if (json_array_size(rl->arr) < rl->max)
        json_array_append_new(rl->arr,
                              json_pack("{s:I, s:s, s:s}", "line", (json_int_t)line, "field",
                                        pm_crossing_field_name(field), "message", e->msg));
}

/* Imports the body (CSV or JSON Lines by Content-Type) with the store's
 * import rules; partner != NULL applies the partner mirror. */
static void import_body(pm__req_t *rq, pm_store_t *st, const char *partner)
{
    const char *ct = rq->content_type_in;
    pm_crossing_format_t fmt;
    if (strncmp(ct, "text/csv", 8) == 0)
        fmt = PM_CROSSING_FORMAT_CSV;
    else if (strncmp(ct, "application/x-ndjson", 20) == 0 ||
             strncmp(ct, "application/jsonl", 17) == 0 || strncmp(ct, "application/json-seq", 20) == 0)
        fmt = PM_CROSSING_FORMAT_JSONL;
    else {
        pm__reply_error(rq, 415, "unsupported_media_type",
                        "send text/csv or application/x-ndjson (JSON Lines)", NULL);
        return;
    }
    if (partner && fmt != PM_CROSSING_FORMAT_JSONL) {
        pm__reply_error(rq, 415, "unsupported_media_type", "the feed is JSON Lines", NULL);
        return;
    }
    pm_error_t e;
    pm_error_clear(&e);
    pm_crossing_reader_t *r = NULL;
    int rc = pm_crossing_reader_open_mem(rq->body.data ? (const char *)rq->body.data : "",
                                         rq->body.len, fmt, &r, &e);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    struct reject_list rl = {json_array(), 100};
    pm_import_options_t io = {0, 0, partner, on_reject, NULL, &rl};
    pm_import_stats_t s;
    memset(&s, 0, sizeof s);
    rc = pm_crossings_import(st, r, &io, &s, &e);
    pm_crossing_reader_free(r);
    if (rc && rc != PM_EPARTIAL) {
        json_decref(rl.arr);
        pm__node_log(rq->node, 2, "import failed: %s", pm_error_text(&e));
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    if (partner)
        atomic_fetch_add(&rq->node->feed_received_rows, s.stored);
    json_t *o = json_pack("{s:I, s:I, s:I, s:I}", "rows", (json_int_t)s.rows, "stored",
                          (json_int_t)s.stored, "duplicates", (json_int_t)s.duplicates,
                          "rejected", (json_int_t)s.rejected);
    if (o && partner)
        json_object_set_new(o, "cursor", json_integer(s.last_cursor));
    if (o)
        json_object_set_new(o, "errors", rl.arr);
    else
        json_decref(rl.arr);
    pm__reply_json(rq, 200, o);
}

static void h_crossings_post(pm__req_t *rq, pm_store_t *st)
{
    import_body(rq, st, NULL);
}

static void h_crossings_stats(pm__req_t *rq, pm_store_t *st)
{
    pm_crossing_counts_t c;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_store_crossing_counts(st, &c, &e);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "total", json_integer(c.total));
    json_object_set_new(o, "our_entries", json_integer(c.our_entries));
    json_object_set_new(o, "our_exits", json_integer(c.our_exits));
    json_object_set_new(o, "partner_exits", json_integer(c.partner_exits));
    pm__reply_json(rq, 200, o);
}

static void h_feed_status(pm__req_t *rq, pm_store_t *st)
{
    const pm_node_config_t *cfg = rq->node->cfg;
    json_t *arr = json_array();
    pm_error_t e;
    pm_error_clear(&e);
    for (size_t i = 0; i < cfg->npartners; i++) {
        const pm_node_partner_t *p = &cfg->partners[i];
        pm__feed_state_t fs;
        int rc = pm__feed_state_get(st, p->code, &fs, &e);
        int64_t pending = 0;
        if (!rc) {
            pm_crossing_filter_t f;
            memset(&f, 0, sizeof f);
            f.after_store_id = fs.push_acked;
            f.direction = PM_DIRECTION_ENTRY;
            f.origin_filter = PM_ORIGIN_LOCAL;
            rc = pm_store_count_crossings(st, &f, &pending, &e);
        }
        if (rc) {
            json_decref(arr);
            pm__reply_pm_error(rq, rc, &e, NULL);
            return;
        }
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:s, s:I}", "partner",
                           p->code, "url", p->url, "push", p->push, "pull", p->pull, "push_acked",
                           (json_int_t)fs.push_acked, "push_pending", (json_int_t)pending,
                           "store_max", (json_int_t)fs.store_max, "received_cursor",
                           (json_int_t)fs.pull_cursor, "failures", (json_int_t)fs.failures,
                           "last_error", fs.last_error, "last_ok_at", (json_int_t)fs.last_ok_at));
    }
    pm__reply_json(rq, 200, json_pack("{s:s, s:o}", "country", cfg->country, "partners", arr));
}

/* Officer -> our node -> the partner's node: forwards a query over mutual TLS. */
static void forward_query(pm__req_t *rq, pm_store_t *st, const char *kind)
{
    const pm_node_partner_t *p = pm_node_config_partner(rq->node->cfg, rq->param);
    if (!p || !p->url[0]) {
        pm__reply_error(rq, 404, "unknown_partner", "no partner with that code and a URL",
                        "code");
        return;
    }
    const pm_node_config_t *cfg = rq->node->cfg;
    pm_node_request_t r = {p->url,     p->ca_file, cfg->cert_file,
                           cfg->key_file, NULL,    cfg->limits.client_timeout_s,
                           1u << 20,   p->agreement->hash_hex};
    /* Our side of the exchange goes to our disclosure log too (R10): the
     * query we send (who, partner, purpose, transaction, the probe's hash,
     * the same hash the partner logs) before it leaves, and what came back.
     * The partner judges the body; we only read what we log. */
    json_t *q = NULL;
    pm_error_t e;
    pm_error_clear(&e);
    unsigned char ph[PM_AUDIT_HASH_BYTES];
    int have_ph = 0;
    int an2k = strcmp(kind, "vetting") == 0;
    pm_an2k_vetting_t *vq = NULL;
    const char *purpose = NULL, *txn = NULL;
    if (an2k) {
        /* an ANSI/NIST search request: purpose and TCN from the transaction,
         * the probe's hash over the whole transaction (as the partner logs it) */
        pm_an2k_txn_t t;
        memset(&t, 0, sizeof t);
        vq = calloc(1, sizeof *vq);
        int prc = vq ? pm_an2k_read(rq->body.data, rq->body.len, &t, &e) : PM_ENOMEM;
        if (!prc) prc = pm_an2k_vetting_parse(&t, vq, &e);
        pm_an2k_free(&t);
        if (prc) {
            free(vq);
            pm__reply_error(rq, prc == PM_ENOMEM ? 503 : 400,
                            prc == PM_ENOMEM ? "busy" : "invalid_transaction", e.msg, "an2k");
            return;
        }
        purpose = vq->purpose;
        txn = vq->tcn;
        pm_audit_probe_hash(rq->body.data, rq->body.len, ph);
        have_ph = 1;
    } else {
        pm__json_parse(rq->body.data ? (const char *)rq->body.data : "", rq->body.len, &q, &e);
        purpose = q ? pm__json_str(q, "purpose") : NULL;
        txn = q ? pm__json_str(q, "transaction_id") : NULL;
    }
    const char *b64 = q ? pm__json_str(q, "data") : NULL;
    if (b64) {
        size_t cap = strlen(b64) / 4 * 3 + 3, n = 0;
        uint8_t *d = malloc(cap);
        if (d && sodium_base642bin(d, cap, b64, strlen(b64), NULL, &n, NULL,
                                   sodium_base64_VARIANT_ORIGINAL) == 0) {
            pm_audit_probe_hash(d, n, ph);
            have_ph = 1;
        }
        if (d) {
            sodium_memzero(d, cap);
            free(d);
        }
    }
    char actor[80];
    pm__audit_actor(rq, actor, sizeof actor);
    pm__audit_t qev = {"query", actor, p->code, purpose, "sent", NULL, 0, NULL, 0, txn,
                       have_ph ? ph : NULL};
    if (pm__audit_or_fail(rq, &qev) || pm__sync_or_fail(rq)) {
        json_decref(q);
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "/v1/partner/query/%s", kind);
    long status = 0;
    pm_buf_t ans;
    int rc = pm_node_call(&r, "POST", path, rq->body.data, rq->body.len,
                          an2k ? "application/octet-stream" : "application/json", &status, &ans,
                          &e);
    /* what came back: the result, or the refusing rule, or the failure */
    char outcome[64];
    json_t *a = NULL;
    const char *res = NULL;
    pm_an2k_vetting_t *va = NULL;
    if (!rc && an2k && status == 200) {
        /* a search response to this request, or no answer */
        pm_an2k_txn_t t;
        memset(&t, 0, sizeof t);
        va = calloc(1, sizeof *va);
        pm_error_t pe;
        int prc = va ? pm_an2k_read(ans.data, ans.len, &t, &pe) : PM_ENOMEM;
        if (!prc) prc = pm_an2k_vetting_parse(&t, va, &pe);
        pm_an2k_free(&t);
        if (!prc && (strcmp(va->tot, PM_AN2K_TOT_RESPONSE) || strcmp(va->tcr, vq->tcn)))
            prc = pm_error_set(&pe, PM_EFORMAT, "TOT %s TCR %s: not the response to %s", va->tot,
                               va->tcr, vq->tcn);
        if (prc) {
            status = 502;
            rc = pm_error_set(&e, PM_EFORMAT, "the partner's answer: %s", pe.msg);
        } else {
            res = va->match == 1 ? "match" : "no_match";
        }
    } else if (!rc && ans.len) {
        a = json_loadb((const char *)ans.data, ans.len, 0, NULL);
        res = a && !an2k ? json_string_value(json_object_get(a, "result")) : NULL;
    }
    const char *rule = a ? json_string_value(json_object_get(a, "rule")) : NULL;
    if (rc)
        snprintf(outcome, sizeof outcome, "not delivered");
    else if (res)
        snprintf(outcome, sizeof outcome, "%s", res);
    else
        snprintf(outcome, sizeof outcome, "HTTP %ld%s%s", status, rule ? " refused " : "",
                 rule ? rule : "");
    pm__audit_t aev = {"answer", actor, p->code, purpose, outcome, NULL, 0, NULL, 0, txn, NULL};
    int bad = pm__audit_or_fail(rq, &aev) || pm__sync_or_fail(rq);
    if (bad || rc) {
        json_decref(a);
        json_decref(q);
        free(vq);
        free(va);
        pm_buf_free(&ans);
        if (!bad) pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    pm__node_log(rq->node, 0, "officer %s: %s query to %s answered %ld", rq->officer, kind, p->code,
                 status);
    /* A match can lead to adverse action: it is kept as received partner data
     * (origin tagged, R11) and waits in the review queue for an officer (R14);
     * the officer's answer carries the review's id. */
    if (status == 200 && st && res && strcmp(res, "match") == 0) {
        pm_jobs_ctx_t jc = {st, rq->node->audit, p->agreement, cfg->country, actor};
        char sref[PM_JOBS_REF_MAX], evid[PM_JOBS_TEXT_MAX];
        /* a re-ask of a lost answer (supersedes) joins the lost query's
         * review item: one per applicant, the queue is idempotent on it;
         * down a chain of re-asks (a re-ask's answer lost too) the item is
         * the first query's, which every re-ask names (reask_of) */
        const char *sup = vq ? vq->supersedes : q ? pm__json_str(q, "supersedes") : NULL;
        const char *root = vq ? vq->reask_of : q ? pm__json_str(q, "reask_of") : NULL;
        const char *rtxn = sup && sup[0] ? (root && root[0] ? root : sup) : txn ? txn : "";
        snprintf(sref, sizeof sref, "txn:%s", rtxn);
        json_t *disc = a ? json_incref(json_object_get(a, "disclosure")) : NULL;
        if (va) { /* the fields of 2.070, as the JSON answer's "disclosure" */
            disc = json_object();
            for (size_t i = 0; disc && i < va->ndisclosed; i++)
                json_object_set_new(disc, va->disclosed[i].name,
                                    json_string(va->disclosed[i].value));
        }
        char *dtext = disc ? json_dumps(disc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(disc);
        snprintf(evid, sizeof evid, "%s", dtext ? dtext : "match");
        free(dtext);
        int64_t now = (int64_t)time(NULL), rid = 0, review = 0;
        pm_error_t je;
        pm_error_clear(&je);
        int jr = pm_received_store(&jc, p->code, PM_RC_MATCH_RESULT, purpose ? purpose : "",
                                   txn ? txn : "", sref, ans.data, ans.len, now, &rid, &je);
        pm_review_request_t rr = {rtxn, p->code, purpose ? purpose : "", sref, 0,
                                  "adverse decision on the case", evid, rid};
        if (!jr) jr = pm_review_enqueue(&jc, &rr, now, &review, &je);
        if (!jr && pm__sync_or_fail(rq)) jr = PM_EIO;
        if (jr) {
            json_decref(a);
            json_decref(q);
            free(vq);
            free(va);
            pm_buf_free(&ans);
            if (jr != PM_EIO)
                pm__reply_error(rq, 500, "review_unavailable", pm_error_text(&je), NULL);
            return;
        }
        snprintf(rq->review_id, sizeof rq->review_id, "%lld", (long long)review);
        if (va) { /* the partner's transaction as it came, the review item in a header */
            free(vq);
            free(va);
            json_decref(q);
            size_t len = ans.len;
            char *body = (char *)pm_buf_steal(&ans, &len);
            pm__reply(rq, 200, "application/octet-stream", body, len);
            return;
        }
        json_object_set_new(a, "review_id", json_integer(review));
        pm_buf_free(&ans);
        json_decref(q);
        pm__reply_json(rq, 200, a);
        return;
    }
    json_decref(a);
    json_decref(q);
    free(vq);
    free(va);
    size_t len = ans.len;
    char *body = (char *)pm_buf_steal(&ans, &len);
    pm__reply(rq, (unsigned)status, an2k && status == 200 ? "application/octet-stream"
                                                          : "application/json", body, len);
}

static void h_officer_query_bio(pm__req_t *rq, pm_store_t *st)
{
    forward_query(rq, st, "biographic");
}

static void h_officer_query_biometric(pm__req_t *rq, pm_store_t *st)
{
    forward_query(rq, st, "biometric");
}

static void h_officer_query_vetting(pm__req_t *rq, pm_store_t *st)
{
    forward_query(rq, st, "vetting");
}

/* ------------------------------------------------------------ partner */

static void h_partner_hello(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    pm__reply_json(rq, 200,
                   json_pack("{s:s, s:s, s:s, s:s}", "country", rq->node->cfg->country, "partner",
                             rq->partner->code, "agreement", rq->partner->agreement->hash_hex,
                             "agreement_version", rq->partner->agreement->version));
}

static void h_partner_feed_get(pm__req_t *rq, pm_store_t *st)
{
    uint64_t since = 0, limit = rq->node->cfg->limits.feed_batch;
    const char *s = pm__req_arg(rq, "since"), *l = pm__req_arg(rq, "limit");
    if (s && parse_u64(s, INT64_MAX, &since)) {
        pm__reply_error(rq, 400, "invalid_field", "since: a non-negative integer cursor", "since");
        return;
    }
    if (l && (parse_u64(l, 100000, &limit) || limit == 0)) {
        pm__reply_error(rq, 400, "invalid_field", "limit: 1..100000", "limit");
        return;
    }
    const pm_node_partner_t *p = rq->partner;
    if (pm_agreement_purpose_index(p->agreement, p->feed_purpose) < 0) {
        pm_decision_t d = {0, 1, ""};
        snprintf(d.reason, sizeof d.reason, "the feed purpose %s is not in the agreement",
                 p->feed_purpose);
        pm__refuse_logged(rq, p->feed_purpose, &d, NULL, NULL, NULL);
        return;
    }
    pm_buf_t b;
    pm_buf_init(&b, rq->node->cfg->limits.max_import_bytes);
    int64_t last = 0;
    size_t rows = 0;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm__feed_export(rq->node, p, st, (int64_t)since, (size_t)limit, &b, &last, &rows, &e);
    if (!rc)
        rc = rows ? pm__feed_log_disclosure(rq->node, p, (int64_t)since, last, rows, &e)
                  : pm__audit_sync(rq->node, &e);
    if (rc) {
        pm_buf_free(&b);
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    size_t len = b.len;
    char *text = (char *)pm_buf_steal(&b, &len);
    pm__reply(rq, 200, "application/x-ndjson", text, len);
}

static void h_partner_feed_post(pm__req_t *rq, pm_store_t *st)
{
    import_body(rq, st, rq->partner->code);
}

static void h_partner_feed_cursor(pm__req_t *rq, pm_store_t *st)
{
    int64_t c = 0;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_store_partner_cursor(st, rq->partner->code, &c, &e);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    pm__reply_json(rq, 200, json_pack("{s:s, s:I}", "partner", rq->partner->code, "cursor",
                                      (json_int_t)c));
}

/* The subject class of one of our records as far as the record tells (R2):
 * a citizen of either party. Permanent residence and asylum claims are not
 * part of a crossing record; the gallery's subjects carry them. */
static pm_subject_class_t crossing_subject(const pm__req_t *rq, const pm_crossing_t *c)
{
    if (strcmp(c->citizenship, rq->node->cfg->country) == 0 ||
        strcmp(c->citizenship, rq->partner->code) == 0)
        return PM_SUBJ_CITIZEN;
    return PM_SUBJ_FOREIGN_NATIONAL;
}

/* Adds the keys of obj (a serializer's "fields") to names (distinct, at most cap). */
static void collect_names(const json_t *obj, const char **names, size_t *n, size_t cap)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        (void)v;
        size_t i = 0;
        while (i < *n && strcmp(names[i], k) != 0)
            i++;
        if (i == *n && *n < cap) {
            int fi = pm_agreement_field_index(k);
            if (fi >= 0)
                names[(*n)++] = pm_agreement_field_name((size_t)fi); /* static storage */
        }
    }
}

/* Biographic query (name + date of birth). Every step goes through the
 * policy library: the query (R15 channel, R1 purpose and whether it allows a
 * biographic query, R13 quota), each record found (R2 subject class, R16
 * valid at source; R3 is met by an exact name + date-of-birth match, the
 * threshold gates fingerprint scores), the answer (R4: only the purpose's
 * allow-list through pm_disclosure_serialize_crossing), and the disclosure
 * log (R10) gets the query, every refusal, and the disclosure or "no match"
 * before the answer leaves. */
static void h_partner_query_bio(pm__req_t *rq, pm_store_t *st)
{
json_t *o = pm__json_body(rq, &pm__body_partner_biographic);
    if (!o)
        return;
    const pm_agreement_t *a = rq->partner->agreement;
    const char *purpose = pm__json_str(o, "purpose"), *txn = pm__json_str(o, "transaction_id");
    pm_crossing_filter_t flt;
    memset(&flt, 0, sizeof flt);
    flt.order = PM_ORDER_TIME;
    flt.origin_filter = PM_ORIGIN_LOCAL; /* R11: never hand back what a partner sent us */
    flt.limit = 200;
    pm_error_t e;
    pm_error_clear(&e);
    const char *sn = pm__json_str(o, "surname"), *gn = pm__json_str(o, "given_names"),
               *dob = pm__json_str(o, "date_of_birth");
    if (pm_name_normalize(sn, strlen(sn), flt.surname_norm, sizeof flt.surname_norm, &e) ||
        !flt.surname_norm[0]) {
        pm__reply_error(rq, 400, "invalid_field", e.msg[0] ? e.msg : "surname is empty", "surname");
        goto out;
    }
    if (gn && pm_name_normalize(gn, strlen(gn), flt.given_names_norm, sizeof flt.given_names_norm,
                                &e)) {
        pm__reply_error(rq, 400, "invalid_field", e.msg, "given_names");
        goto out;
    }
    if (pm_dob_parse(dob, strlen(dob), &flt.dob, &e)) {
        pm__reply_error(rq, 400, "invalid_field", e.msg, "date_of_birth");
        goto out;
    }
    const char *supersedes = pm__json_str(o, "supersedes");
    int superseded = 0;
    if (pm__replay_check(rq, st, purpose, txn, supersedes, &superseded))
        goto out; /* a transaction id already answered: refused before it counts */
    /* the query itself: R15, R1, R13 */
    pm_query_facts_t qf = {purpose, 1 /* mutual TLS + pinned partner: we are past the check */,
                           0};
    pm_decision_t d;
    int rc = pm__quota_decide(rq->node, rq->partner, a, &qf, 0, (int64_t)time(NULL), txn,
                              superseded ? supersedes : NULL, &d, &e);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        goto out;
    }
    if (!d.allow) {
        pm__refuse_logged(rq, purpose, &d, txn, NULL, "purpose");
        goto out;
    }
    char actor[80];
    pm__audit_actor(rq, actor, sizeof actor);
    char basis[PM_AGR_CODE_MAX + 16];
    snprintf(basis, sizeof basis, "agreement %s", a->version);
    pm__audit_t qev = {"query", actor, rq->partner->code, purpose, basis, NULL, 0, NULL, 0, txn,
                       NULL};
    if (pm__audit_or_fail(rq, &qev))
        goto out;
    pm_crossing_iter_t *it = NULL;
    rc = pm_store_crossings(st, &flt, &it, &e);
    json_t *arr = json_array();
    size_t withheld = 0, nids = 0, nnames = 0;
    char(*rid)[PM_RECORD_ID_MAX + 1] = calloc((size_t)flt.limit, PM_RECORD_ID_MAX + 1);
    const char *names[PM_AGR_MAX_FIELDS];
    pm_crossing_t c;
    pm_buf_t ser;
    pm_buf_init(&ser, 1u << 16);
    while (!rc && rid && (rc = pm_crossing_iter_next(it, &c, &e)) == 1) {
        rc = 0;
        pm_decision_t vd, dd;
        pm_policy_send_crossing(&c, &vd); /* R16 (R11 cannot fire: local records only) */
        pm_answer_facts_t af = {purpose, crossing_subject(rq, &c), 1, INFINITY, 0, vd.allow};
        pm_policy_disclosure(a, &af, &dd);
        if (!dd.allow) {
            withheld++;
            if ((rc = pm__audit_refusal(rq, purpose, &dd, txn, c.record_id, NULL, &e)))
                break;
            continue;
        }
        ser.len = 0;
        if ((rc = pm_disclosure_serialize_crossing(a, purpose, &c, &ser, &e)))
            break;
        json_t *one = json_loadb((const char *)ser.data, ser.len, 0, NULL);
        json_t *fields = one ? json_object_get(one, "fields") : NULL;
        if (!fields) {
            json_decref(one);
            rc = pm_error_set(&e, PM_EINTERNAL, "serializer output unreadable");
            break;
        }
        collect_names(fields, names, &nnames, PM_AGR_MAX_FIELDS);
        json_array_append(arr, fields);
        json_decref(one);
        snprintf(rid[nids++], PM_RECORD_ID_MAX + 1, "%s", c.record_id);
    }
    pm_buf_free(&ser);
    pm_crossing_iter_close(it);
    if (!rid && !rc)
        rc = pm_error_set(&e, PM_ENOMEM, "out of memory");
    if (rc < 0) {
        free(rid);
        json_decref(arr);
        pm__reply_pm_error(rq, rc, &e, NULL);
        goto out;
    }
    /* the disclosure (or "no match") is logged before the answer leaves */
    size_t n = json_array_size(arr);
    const char **recs = n ? calloc(n, sizeof *recs) : NULL;
    for (size_t i = 0; recs && i < n; i++)
        recs[i] = rid[i];
    pm__audit_t aev = {n ? "disclosure" : "answer", actor, rq->partner->code, purpose,
                       n ? basis : "no_match", names, n ? nnames : 0, recs, recs ? n : 0, txn,
                       NULL};
    int bad = pm__audit_or_fail(rq, &aev) || pm__sync_or_fail(rq);
    free(recs);
    free(rid);
    if (bad) {
        json_decref(arr);
        goto out;
    }
    /* Withheld records answer exactly like no record: "no match". */
    pm__node_log(rq->node, 0, "partner %s biographic query %s purpose %s: %zu record(s)%s",
                 rq->partner->code, txn, purpose, n, withheld ? " (some withheld)" : "");
    pm__reply_json(rq, 200,
                   json_pack("{s:s, s:s, s:s, s:o}", "transaction_id", txn, "purpose", purpose,
                             "result", n ? "match" : "no_match", "crossings", arr));
out:
    json_decref(o);
}

/* ------------------------------------------------------------ the table */

#define PUB PM_AUTH_PUBLIC
#define OFF PM_AUTH_OFFICER
#define PAR PM_AUTH_PARTNER

static const pm__route_t routes[] = {
    {{"GET", "/health", PUB, "liveness"}, 0, 0, PM__BODY_NONE, h_health},
    {{"GET", "/ready", PUB, "readiness (503 while draining or saturated)"}, 0, 0, PM__BODY_NONE,
     h_ready},
    {{"GET", "/metrics", PUB, "Prometheus text metrics"}, 0, 0, PM__BODY_NONE, h_metrics},
    {{"POST", "/v1/auth/login", PUB, "officer login: a bearer session token"}, 0, 1,
     PM__BODY_JSON, h_login},
    {{"POST", "/v1/auth/logout", OFF, "end this session"}, PM_ROLE_OFFICER, 0, PM__BODY_NONE,
     h_logout},
    {{"POST", "/v1/crossings", OFF, "import crossings (CSV or JSON Lines)"}, PM_ROLE_OFFICER, 1,
     PM__BODY_IMPORT, h_crossings_post},
    {{"GET", "/v1/crossings/stats", OFF, "counts of stored crossings"}, PM_ROLE_OFFICER, 1,
     PM__BODY_NONE, h_crossings_stats},
    {{"GET", "/v1/feed/status", OFF, "feed state per partner"}, PM_ROLE_OFFICER, 1, PM__BODY_NONE,
     h_feed_status},
    {{"POST", "/v1/partners/{code}/query/biographic", OFF,
      "ask a partner about a name + date of birth"},
     PM_ROLE_OFFICER, 1, PM__BODY_JSON, h_officer_query_bio},
    {{"POST", "/v1/partners/{code}/query/biometric", OFF, "send a partner a biometric probe"},
     PM_ROLE_OFFICER, 1, PM__BODY_PROBE, h_officer_query_biometric},
    {{"POST", "/v1/partners/{code}/query/vetting", OFF,
      "send a partner an ANSI/NIST vetting search (PMSR; the PMRS comes back)"},
     PM_ROLE_OFFICER, 1, PM__BODY_PROBE, h_officer_query_vetting},
    {{"GET", "/v1/history", OFF, "a traveller's linked crossings (by traveller, record or document)"},
     PM_ROLE_OFFICER, 1, PM__BODY_NONE, pm__h_history},
    {{"GET", "/v1/reports/{kind}", OFF, "reconcile, overstays or presence report"},
     PM_ROLE_SUPERVISOR, 1, PM__BODY_NONE, pm__h_report},
    {{"POST", "/v1/reports/removals", OFF, "departures of people under removal orders (CSV orders)"},
     PM_ROLE_SUPERVISOR, 1, PM__BODY_IMPORT, pm__h_report_removals},
    {{"POST", "/v1/preclear", OFF,
      "pre-clear a flight manifest: cleared / refer / do not board, gate fingerprints 1:1 or 1:N"},
     PM_ROLE_OFFICER, 1, PM__BODY_PROBE, pm__h_preclear},
    {{"GET", "/v1/reviews", OFF, "matches waiting for human review (R14)"}, PM_ROLE_OFFICER, 1,
     PM__BODY_NONE, pm__h_reviews},
    {{"POST", "/v1/reviews/{id}/decision", OFF, "confirm or reject a match, with a reason (R14)"},
     PM_ROLE_SUPERVISOR, 1, PM__BODY_JSON, pm__h_review_decide},
    {{"POST", "/v1/reviews/{id}/act", OFF, "may adverse action follow? refused before review (R14)"},
     PM_ROLE_OFFICER, 1, PM__BODY_NONE, pm__h_review_act},
    {{"GET", "/v1/subject-access", OFF, "a person's own crossings and disclosures (R12)"},
     PM_ROLE_SUPERVISOR, 1, PM__BODY_NONE, pm__h_subject_access},
    {{"GET", "/v1/received", OFF, "data received from partners (metadata)"}, PM_ROLE_OFFICER, 1,
     PM__BODY_NONE, pm__h_received},
    {{"POST", "/v1/received/{id}/irrelevant", OFF, "received data found irrelevant (R7)"},
     PM_ROLE_OFFICER, 1, PM__BODY_JSON, pm__h_received_irrelevant},
    {{"POST", "/v1/jobs/{job}", OFF, "run the retention purge (R9) or the destruction (R7) now"},
     PM_ROLE_ADMIN, 1, PM__BODY_NONE, pm__h_job},
    {{"POST", "/v1/corrections", OFF, "correct our record and send it to every recipient (R8)"},
     PM_ROLE_SUPERVISOR, 1, PM__BODY_IMPORT, pm__h_correction},
    {{"GET", "/v1/corrections", OFF, "corrections not yet acknowledged (R8)"}, PM_ROLE_OFFICER, 1,
     PM__BODY_NONE, pm__h_corrections},
    {{"POST", "/v1/transfers", OFF, "hand a record to a third party (R11: partner data needs consent)"},
     PM_ROLE_SUPERVISOR, 1, PM__BODY_JSON, pm__h_transfer},
    {{"GET", "/v1/partner/hello", PAR, "which partner the node sees"}, 0, 0, PM__BODY_NONE,
     h_partner_hello},
    {{"GET", "/v1/partner/feed", PAR, "pull our entries after a cursor (JSON Lines)"}, 0, 1,
     PM__BODY_NONE, h_partner_feed_get},
    {{"POST", "/v1/partner/feed", PAR, "push the partner's entries (stored as our exits)"}, 0, 1,
     PM__BODY_IMPORT, h_partner_feed_post},
    {{"GET", "/v1/partner/feed/cursor", PAR, "how far we stored the partner's feed"}, 0, 1,
     PM__BODY_NONE, h_partner_feed_cursor},
    {{"POST", "/v1/partner/correction", PAR, "the partner's correction of its record (R8)"}, 0, 1,
     PM__BODY_JSON, pm__h_partner_correction},
    {{"POST", "/v1/partner/query/biographic", PAR, "name + date of birth query"}, 0, 1,
     PM__BODY_JSON, h_partner_query_bio},
    {{"POST", "/v1/partner/query/biometric", PAR, "anonymous biometric probe"}, 0, 1,
     PM__BODY_PROBE, pm__h_partner_query_biometric},
    {{"POST", "/v1/partner/query/vetting", PAR,
      "anonymous biometric probe as an ANSI/NIST vetting search (PMSR -> PMRS)"},
     0, 1, PM__BODY_PROBE, pm__h_partner_query_vetting},
    {{"POST", "/v1/partner/checkpoint", PAR, "the partner's signed head of its disclosure log"}, 0,
     1, PM__BODY_JSON, pm__h_partner_checkpoint_post},
    {{"GET", "/v1/partner/checkpoint", PAR, "a signed head of our disclosure log, now"}, 0, 1,
     PM__BODY_NONE, pm__h_partner_checkpoint_get},
    {{"POST", "/v1/audit/checkpoint", OFF, "sign our log's head and send it to every partner"},
     PM_ROLE_SUPERVISOR, 1, PM__BODY_NONE, pm__h_audit_checkpoint},
    {{"POST", "/v1/partners/{code}/checkpoint", OFF, "fetch and keep a partner's signed head"},
     PM_ROLE_SUPERVISOR, 1, PM__BODY_NONE, pm__h_partner_checkpoint_fetch},
    {{"POST", "/v1/gallery/enrol", OFF, "enrol a subject's fingers (and what is known of them)"},
     PM_ROLE_OFFICER, 1, PM__BODY_PROBE, pm__h_gallery_enrol},
    {{"POST", "/v1/gallery/identify", OFF, "1:N search of our gallery"}, PM_ROLE_OFFICER, 1,
     PM__BODY_PROBE, pm__h_gallery_identify},
    {{"POST", "/v1/gallery/verify", OFF, "1:1 against one enrolled subject"}, PM_ROLE_OFFICER, 1,
     PM__BODY_PROBE, pm__h_gallery_verify},
    /* the web console (routes_console.c, docs/console.md); console roles per route there */
    {{"GET", "/console", PUB, "the officers' web console (redirect)"}, 0, 0, PM__BODY_NONE,
     pm__h_console_redirect},
    {{"GET", "/console/", PUB, "the officers' web console"}, 0, 0, PM__BODY_NONE,
     pm__h_console_asset},
    {{"GET", "/console/{file}", PUB, "the console's static files (compiled in)"}, 0, 0,
     PM__BODY_NONE, pm__h_console_asset},
    {{"POST", "/console/api/login", PUB, "console login: a session cookie"}, 0, 1, PM__BODY_JSON,
     pm__h_console_login},
    {{"GET", "/console/api/session", OFF, "who is logged in, the CSRF token, the views"},
     PM_ROLE_ADMIN, 0, PM__BODY_NONE, pm__h_console_session},
    {{"POST", "/console/api/logout", OFF, "end the console session"}, PM_ROLE_ADMIN, 0,
     PM__BODY_NONE, pm__h_console_logout},
    {{"GET", "/console/api/cohorts", OFF, "vetting runs and their live progress"}, PM_ROLE_ADMIN, 1,
     PM__BODY_NONE, pm__h_console_cohorts},
    {{"GET", "/console/api/cohorts/{run}", OFF, "a vetting run: progress and a page of cases"},
     PM_ROLE_ADMIN, 1, PM__BODY_NONE, pm__h_console_cohort},
    {{"GET", "/console/api/cases/{id}", OFF, "a vetting case file"}, PM_ROLE_ADMIN, 1,
     PM__BODY_NONE, pm__h_console_case},
    {{"GET", "/console/api/cases/{id}/print.png", OFF, "an applicant's print with its minutiae"},
     PM_ROLE_ADMIN, 1, PM__BODY_NONE, pm__h_console_print},
    {{"GET", "/console/api/cases/{id}/pair.png", OFF,
      "applicant and candidate side by side, paired minutiae joined"},
     PM_ROLE_ADMIN, 1, PM__BODY_NONE, pm__h_console_pair},
    {{"POST", "/console/api/cases/{id}/decision", OFF,
      "confirm or reject a vetting match with a reason (R14 queue)"},
     PM_ROLE_ADMIN, 1, PM__BODY_JSON, pm__h_console_decide},
    {{"GET", "/console/api/audit", OFF,
      "the disclosure log filtered and paged, chain status, partners' checkpoints"},
     PM_ROLE_ADMIN, 1, PM__BODY_NONE, pm__h_console_audit},
    {{"GET", "/console/api/travellers/{id}", OFF,
      "a traveller: history, presence, overstay flags, link reviews with evidence"},
     PM_ROLE_SUPERVISOR, 1, PM__BODY_NONE, pm__h_console_traveller},
    {{"GET", "/console/api/link-reviews", OFF, "the linkage review queue, paged"},
     PM_ROLE_SUPERVISOR, 1, PM__BODY_NONE, pm__h_console_link_reviews},
    {{"POST", "/console/api/link-reviews/{id}", OFF, "accept or split a linkage review pair"},
     PM_ROLE_SUPERVISOR, 1, PM__BODY_JSON, pm__h_console_link_decide},
    {{"GET", "/console/api/flights", OFF, "flight manifests waiting for pre-clearance"},
     PM_ROLE_SUPERVISOR, 1, PM__BODY_NONE, pm__h_console_flights},
    {{"GET", "/console/api/flights/{manifest}", OFF,
      "pre-clearance of a manifest: each passenger's decision and reasons"},
     PM_ROLE_SUPERVISOR, 1, PM__BODY_NONE, pm__h_console_flight},
};

const pm__route_t *pm__routes(size_t *out_n)
{
    if (out_n)
        *out_n = sizeof routes / sizeof routes[0];
    return routes;
}

size_t pm__route_body_limit(const pm_node_t *node, const pm__route_t *rt)
{
    switch (rt->body) {
    case PM__BODY_JSON: return node->cfg->limits.max_json_bytes;
    case PM__BODY_IMPORT: return node->cfg->limits.max_import_bytes;
    case PM__BODY_PROBE: return node->cfg->limits.max_probe_bytes;
    default: return 0;
    }
}

size_t pm_node_route_count(void)
{
    return sizeof routes / sizeof routes[0];
}

const pm_route_info_t *pm_node_route(size_t i)
{
    return i < sizeof routes / sizeof routes[0] ? &routes[i].info : NULL;
}
