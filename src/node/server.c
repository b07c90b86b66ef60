/* The HTTPS server: libmicrohttpd with TLS, the request path (route lookup,
 * authentication before any handler, bounded bodies, the worker pool through
 * suspend/resume), metrics, and the clean stop. Routes live in routes.c. */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "node/node_impl.h"
#include "node/server_impl.h"
#include "perimeter/audit.h"
#include "perimeter/fp.h"
#include "perimeter/gallery.h"
#include "perimeter/jobs.h"
#include "perimeter/shard.h"
#include "perimeter/policy.h"
#include <sodium.h>

void pm__node_log(const pm_node_t *node, int level, const char *fmt, ...)
{
    if (!node->opt.log)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    node->opt.log(node->opt.log_ctx, level, line);
}

/* libmicrohttpd's messages: its format strings, checked as such. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    pm_node_t *node = cls;
    if (!node->opt.log)
        return;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    node->opt.log(node->opt.log_ctx, 1, line);
}

/* ------------------------------------------------------------ replies */

void pm__reply(pm__req_t *rq, unsigned status, const char *content_type, char *body, size_t len)
{
    free(rq->resp);
    rq->status = status;
    rq->content_type = content_type;
    rq->resp = body;
    rq->resp_len = len;
}

void pm__reply_json(pm__req_t *rq, unsigned status, json_t *obj)
{
    char *s = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(obj);
    if (!s) {
        pm__reply_error(rq, 500, "internal", "cannot build the answer", NULL);
        return;
    }
    size_t n = strlen(s);
    pm__reply(rq, status, "application/json", s, n);
}

void pm__reply_error(pm__req_t *rq, unsigned status, const char *code, const char *message,
                     const char *field)
{
    json_t *o = json_pack("{s:s, s:s, s:o}", "code", code, "message", message ? message : "",
                          "field", field && field[0] ? json_string(field) : json_null());
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s) {
        /* out of memory: a fixed body (MHD copies it) */
        static const char oom[] = "{\"code\":\"internal\",\"message\":\"out of memory\",\"field\":null}";
        char *c = malloc(sizeof oom);
        if (c)
            memcpy(c, oom, sizeof oom);
        pm__reply(rq, 500, "application/json", c, c ? sizeof oom - 1 : 0);
        return;
    }
    pm__reply(rq, status, "application/json", s, strlen(s));
}

/* An error from a library call: its code picks the HTTP status. */
void pm__reply_pm_error(pm__req_t *rq, int code, const pm_error_t *e, const char *field)
{
    unsigned status = 500;
    const char *name = "internal";
    switch (code) {
    case PM_EINVAL:
    case PM_EVALIDATION:
    case PM_EFORMAT:
    case PM_EUTF8:
    case PM_ERANGE:
    case PM_ETRUNCATED:
    case PM_ECHECKSUM: status = 400; name = "invalid"; break;
    case PM_ELIMIT: status = 413; name = "too_large"; break;
    case PM_ENOTFOUND: status = 404; name = "not_found"; break;
    case PM_EEXISTS: status = 409; name = "exists"; break;
    case PM_EDENIED: status = 403; name = "denied"; break;
    case PM_EBUSY: status = 503; name = "busy"; break;
    case PM_ENET:
    case PM_ETLS:
    case PM_ETIMEOUT: status = 502; name = "partner_unreachable"; break;
    case PM_EUNSUPPORTED: status = 415; name = "unsupported"; break;
    default: break;
    }
    pm__reply_error(rq, status, name, pm_error_text(e), field);
}

const char *pm__req_arg(const pm__req_t *rq, const char *name)
{
    for (size_t i = 0; i < rq->nargs; i++)
        if (strcmp(rq->args[i].name, name) == 0)
            return rq->args[i].value;
    return NULL;
}

int pm__req_args_only(pm__req_t *rq, const char *const *names)
{
    if (rq->args_over) {
        pm__reply_error(rq, 400, "bad_request", "too many or too long query arguments", NULL);
        return 0;
    }
    for (size_t i = 0; i < rq->nargs; i++) {
        int ok = 0;
        for (const char *const *n = names; *n && !ok; n++)
            ok = strcmp(rq->args[i].name, *n) == 0;
        if (!ok) {
            pm__reply_error(rq, 400, "unknown_argument", "this route has no such query argument",
                            rq->args[i].name);
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------ routing */

/* Matches path against a pattern with "{x}" segments; copies the one
 * parameter (if any) into param. */
static int path_match(const char *pattern, const char *path, char *param, size_t cap)
{
    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *pe = strchr(pattern, '}');
            const char *se = strchr(path, '/');
            size_t n = se ? (size_t)(se - path) : strlen(path);
            if (!pe || n == 0 || n >= cap)
                return 0;
            memcpy(param, path, n);
            param[n] = '\0';
            pattern = pe + 1;
            path += n;
            continue;
        }
        if (*pattern++ != *path++)
            return 0;
    }
    return *pattern == '\0' && *path == '\0';
}

/* The route for method + path; *out_path_known = 1 if the path exists with
 * another method (405). */
static int find_route(const char *method, const char *path, char *param, size_t cap,
                      int *out_path_known)
{
    size_t n = 0;
    const pm__route_t *routes = pm__routes(&n);
    *out_path_known = 0;
    for (size_t i = 0; i < n; i++) {
        if (!path_match(routes[i].info.path, path, param, cap))
            continue;
        if (strcmp(routes[i].info.method, method) == 0)
            return (int)i;
        *out_path_known = 1;
    }
    return -1;
}

/* ------------------------------------------------------------ authentication */

static int auth_partner(pm_node_t *node, struct MHD_Connection *conn, pm__req_t *rq)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    gnutls_session_t s = ci ? (gnutls_session_t)ci->tls_session : NULL;
    unsigned n = 0;
    const gnutls_datum_t *peers = s ? gnutls_certificate_get_peers(s, &n) : NULL;
    pm_error_t e;
    pm_error_clear(&e);
    const void *der[1] = {NULL};
    size_t der_len[1] = {0};
    if (peers && n) {
        der[0] = peers[0].data;
        der_len[0] = peers[0].size;
    }
    const pm_node_partner_t *p = NULL;
    if (pm_node_peer_partner(node->cfg, der, der_len, peers && n ? 1 : 0, &p, &e) == PM_OK) {
        rq->partner = p;
        /* The agreement hash is exchanged on every partner request: the
         * caller names the agreement it runs, and nothing is exchanged with a
         * partner running another version (docs/agreement.md). */
        const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Perimeter-Agreement");
        if (!h) {
            pm__node_log(node, 1, "refused %s %s from %s: no Perimeter-Agreement header",
                         rq->method, rq->path, p->code);
            pm__reply_error(rq, 409, "agreement_mismatch",
                            "no Perimeter-Agreement header: say which agreement you run (its "
                            "SHA-256)",
                            NULL);
            return -1;
        }
        if (pm_agreement_check_partner(p->agreement, h, &e) != PM_OK) {
            pm__node_log(node, 1, "refused %s %s from %s: %s", rq->method, rq->path, p->code,
                         e.msg);
            pm__reply_error(rq, 409, "agreement_mismatch", e.msg, NULL);
            return -1;
        }
        return 0;
    }
    pm__node_log(node, 1, "refused %s %s: %s", rq->method, rq->path, e.msg);
    if (!peers || !n)
        pm__reply_error(rq, 401, "client_certificate_required", e.msg, NULL);
    else
        pm__reply_error(rq, 403, "partner_not_recognised", e.msg, NULL);
    return -1;
}

/* The session comes as a bearer token (CLI, scripts) or, from the web
 * console, in the pm_session cookie. A cookie is ambient authority: a
 * state-changing request carried by it must also come from our own origin
 * and carry the session's CSRF token in X-CSRF-Token (docs/console.md). The
 * cookie is only ever looked at here, so it never reaches a partner route. */
static int auth_officer(pm_node_t *node, struct MHD_Connection *conn, pm__req_t *rq,
                        const pm__route_t *rt)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    const char *tok = NULL;
    if (h && strncmp(h, "Bearer ", 7) == 0) {
        tok = h + 7;
    } else if (!h) {
        tok = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, PM__SESSION_COOKIE);
        rq->via_cookie = tok != NULL;
    }
    if (!tok) {
        pm__reply_error(rq, 401, "token_required",
                        "officer routes need 'Authorization: Bearer <token>' from /v1/auth/login "
                        "(or the console's session cookie)",
                        NULL);
        return -1;
    }
    char csrf[65] = "";
    if (pm__sessions_lookup(node->sessions, tok, rq->officer, &rq->role, NULL, csrf) != PM_OK) {
        pm__reply_error(rq, 401, "token_invalid", "unknown or expired session", NULL);
        return -1;
    }
    snprintf(rq->token, sizeof rq->token, "%s", tok);
    if (rq->via_cookie) {
        int safe = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
        if (pm__console_same_origin(rq))
            return -1;
        const char *x = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
        if (!safe && (!x || strlen(x) != 64 || sodium_memcmp(x, csrf, 64) != 0)) {
            pm__node_log(node, 1, "refused %s %s for %s: missing or wrong CSRF token",
                         rq->method, rq->path, rq->officer);
            pm__reply_error(rq, 403, "csrf_failed",
                            "a state-changing request with the session cookie needs the "
                            "session's X-CSRF-Token header",
                            NULL);
            return -1;
        }
    }
    sodium_memzero(csrf, sizeof csrf);
    if (!(pm__route_roles(rt) & PM_ROLE_BIT(rq->role))) {
        char m[128];
        snprintf(m, sizeof m, "the role %s may not use this route",
                 pm_officer_role_name(rq->role));
        pm__reply_error(rq, 403, "role_insufficient", m, NULL);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ request path */

/* Takes `add` bytes of the node-wide body budget (limits.max_body_total):
 * bodies of all connections together never exceed it. 0 if it would. */
static int body_reserve(pm__req_t *rq, size_t add)
{
    pm_node_t *node = rq->node;
    unsigned long long cur = atomic_load(&node->body_bytes);
    do {
        if (cur + add > node->cfg->limits.max_body_total)
            return 0;
    } while (!atomic_compare_exchange_weak(&node->body_bytes, &cur, cur + add));
    rq->reserved += add;
    return 1;
}

static enum MHD_Result copy_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    pm__req_t *rq = cls;
    if (rq->nargs == PM__MAX_ARGS || !key || strlen(key) >= sizeof rq->args[0].name ||
        (value && strlen(value) >= sizeof rq->args[0].value)) {
        rq->args_over = 1;
        return MHD_NO;
    }
    snprintf(rq->args[rq->nargs].name, sizeof rq->args[0].name, "%s", key);
    snprintf(rq->args[rq->nargs].value, sizeof rq->args[0].value, "%s", value ? value : "");
    rq->nargs++;
    return MHD_YES;
}

void pm__req_peer(const pm__req_t *rq, char *out, size_t cap)
{
    out[0] = 0;
    const union MHD_ConnectionInfo *ci =
        rq->conn ? MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)cap);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, pm__req_t *rq)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(rq->resp_len, rq->resp ? rq->resp : (char *)"",
                                        rq->resp ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    rq->resp = NULL; /* MHD owns it now */
    if (rq->content_type)
        MHD_add_response_header(r, "Content-Type", rq->content_type);
    if (rq->status == 401 && rq->route >= 0 && pm__routes(NULL)[rq->route].info.auth ==
                                                   PM_AUTH_OFFICER)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    if (rq->status == 503 || rq->status == 429) {
        char ra[16];
        snprintf(ra, sizeof ra, "%u", rq->retry_after ? rq->retry_after : 1u);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    if (rq->review_id[0])
        MHD_add_response_header(r, "Perimeter-Review-Id", rq->review_id);
    if (rq->close_conn)
        MHD_add_response_header(r, "Connection", "close");
    MHD_add_response_header(r, "Cache-Control",
                            rq->cache_control ? rq->cache_control : "no-store");
    /* For browsers (the console): nothing here may be framed, sniffed into
     * another type, run inline script or leak its address to other sites. */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; script-src 'self'; style-src 'self'; "
                            "img-src 'self'; connect-src 'self'; object-src 'none'; "
                            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    if (rq->set_cookie[0])
        MHD_add_response_header(r, "Set-Cookie", rq->set_cookie);
    if (rq->etag[0])
        MHD_add_response_header(r, "ETag", rq->etag);
    if (rq->location)
        MHD_add_response_header(r, "Location", rq->location);
    if (rq->via_cookie && rq->officer[0]) /* a known officer's request, refused or not */
        pm__console_log_action(rq);
    enum MHD_Result ok = MHD_queue_response(conn, rq->status, r);
    MHD_destroy_response(r);
    rq->queued = 1;
    return ok;
}

/* Bodies of refused requests up to this size are read and dropped before the
 * answer, so the client sees the answer instead of a connection reset while
 * it is still sending; larger ones (or "Expect: 100-continue", where the
 * client waits) are answered at once and the connection closed. */
#define DRAIN_MAX ((uint64_t)16 << 20)

/* Answers a request refused before its body was read (404, 405, 401, 403,
 * 413, 414, 503): at once when nothing or too much follows, else after
 * dropping the body. No byte of it is kept. */
static enum MHD_Result refuse(struct MHD_Connection *conn, pm__req_t *rq)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
    const char *ex = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
    uint64_t len = cl ? strtoull(cl, NULL, 10) : 0;
    int body = (cl && len > 0) || te;
    if (!body || (ex && strcasecmp(ex, "100-continue") == 0) || len > DRAIN_MAX)
        return send_reply(conn, rq);
    rq->refused = 1;
    return MHD_YES;
}

static void run_job(void *arg, pm_store_t *st, const pm_error_t *why)
{
    pm__req_t *rq = arg;
    if (!st) { /* no store handle in time (or a broken one not replaced): 503 + Retry-After */
        pm__node_log(rq->node, 1, "%s %s: 503, no store handle: %s", rq->method, rq->path,
                     why ? why->msg : "");
        pm__reply_error(rq, 503, "store_busy",
                        "every store handle is in use; retry shortly", NULL);
    } else
        pm__routes(NULL)[rq->route].fn(rq, st);
    rq->state = PM__REQ_DONE;
    MHD_resume_connection(rq->conn);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    pm_node_t *node = cls;
    pm__req_t *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        pm__guard_headers_done(node->guard, conn);
        atomic_fetch_add(&node->inflight, 1);
        rq->node = node;
        rq->conn = conn;
        rq->t0 = pm_now_ns();
        snprintf(rq->method, sizeof rq->method, "%s", method);
        snprintf(rq->path, sizeof rq->path, "%s", url);
        int known = 0;
        rq->route = find_route(method, url, rq->param, sizeof rq->param, &known);
        if (rq->route < 0) {
            if (known)
                pm__reply_error(rq, 405, "method_not_allowed", "this path exists with another method",
                                NULL);
            else
                pm__reply_error(rq, 404, "not_found", "no such route", NULL);
            return refuse(conn, rq);
        }
        const pm__route_t *rt = &pm__routes(NULL)[rq->route];
        /* Accepted past limits.connections / connections_per_ip (libmicrohttpd's
         * own limits are above ours): a clean refusal, not a failed handshake. */
        if (pm__guard_over(node->guard, conn)) {
            rq->close_conn = 1;
            pm__reply_error(rq, 503, "too_many_connections",
                            "this node has too many open connections (from this address); "
                            "retry on a new connection",
                            NULL);
            return refuse(conn, rq);
        }
        if (atomic_load(&node->draining) && rt->info.auth != PM_AUTH_PUBLIC) {
            pm__reply_error(rq, 503, "draining", "the node is shutting down", NULL);
            return refuse(conn, rq);
        }
        /* Authentication before anything else of the request is looked at. */
        if ((rt->info.auth == PM_AUTH_PARTNER && auth_partner(node, conn, rq)) ||
            (rt->info.auth == PM_AUTH_OFFICER && auth_officer(node, conn, rq, rt)))
            return refuse(conn, rq);
        /* Rate per caller (limits.partner_rate / officer_rate), before any work. */
        if ((rt->info.auth == PM_AUTH_PARTNER &&
             !pm__rate_take_partner(node->rates, (size_t)(rq->partner - node->cfg->partners),
                                    pm_now_ns())) ||
            (rt->info.auth == PM_AUTH_OFFICER &&
             !pm__rate_take_officer(node->rates, rq->officer, pm_now_ns()))) {
            atomic_fetch_add(&node->rate_limited, 1);
            pm__reply_error(rq, 429, "rate_limited",
                            "too many requests from this caller; retry after a second", NULL);
            return refuse(conn, rq);
        }
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, copy_arg, rq);
        if (rq->args_over) {
            pm__reply_error(rq, 414, "query_too_large", "too many or too long query arguments",
                            NULL);
            return refuse(conn, rq);
        }
        size_t limit = pm__route_body_limit(node, rt);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end = NULL;
            unsigned long long v = strtoull(cl, &end, 10);
            if (!end || *end || v > limit) {
                char m[128];
                snprintf(m, sizeof m, "body of %s bytes exceeds this route's limit of %zu", cl,
                         limit);
                pm__reply_error(rq, 413, "body_too_large", m, NULL);
                return refuse(conn, rq);
            }
            if (v && !body_reserve(rq, (size_t)v)) {
                pm__reply_error(rq, 503, "busy",
                                "too many request bodies in memory at once; retry", NULL);
                return refuse(conn, rq);
            }
        }
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        snprintf(rq->content_type_in, sizeof rq->content_type_in, "%s", ct ? ct : "");
        pm_buf_init(&rq->body, limit ? limit : 1);
        rq->body_limit = limit;
        return MHD_YES;
    }
    if (rq->queued) { /* an early answer was sent; drop whatever body follows */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->refused) { /* read and drop the body, then answer (see refuse) */
        rq->drained += *upload_data_size;
        if (rq->drained > DRAIN_MAX)
            return MHD_NO; /* closes the connection */
        if (*upload_data_size) {
            *upload_data_size = 0;
            return MHD_YES;
        }
        pm__guard_body_done(node->guard, conn);
        return send_reply(conn, rq);
    }
    if (rq->state == PM__REQ_DONE)
        return send_reply(conn, rq);
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (!rq->body_over && !rq->body_busy && rq->body.len + n > rq->reserved &&
            rq->body.len + n <= rq->body_limit &&
            !body_reserve(rq, rq->body.len + n - rq->reserved)) {
            rq->body_busy = 1; /* chunked upload past the node-wide budget */
            pm_buf_free(&rq->body);
        }
        if (!rq->body_over && !rq->body_busy &&
            (rq->body_limit == 0 || pm_buf_append(&rq->body, upload_data, n))) {
            rq->body_over = 1;
            pm_buf_free(&rq->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    pm__guard_body_done(node->guard, conn); /* the whole body is in */
    const pm__route_t *rt = &pm__routes(NULL)[rq->route];
    if (rq->body_busy) {
        pm__reply_error(rq, 503, "busy", "too many request bodies in memory at once; retry",
                        NULL);
        return send_reply(conn, rq);
    }
    if (rq->body_over) {
        char m[128];
        snprintf(m, sizeof m, "body exceeds this route's limit of %zu bytes", rq->body_limit);
        pm__reply_error(rq, 413, "body_too_large", m, NULL);
        return send_reply(conn, rq);
    }
    if (!rt->in_worker) {
        rt->fn(rq, NULL);
        return send_reply(conn, rq);
    }
    rq->state = PM__REQ_QUEUED;
    MHD_suspend_connection(conn);
    if (pm__node_pool_submit(node->pool, run_job, rq) != PM_OK) {
        pm__reply_error(rq, 503, "busy", "every worker is busy and the queue is full; retry", NULL);
        rq->state = PM__REQ_DONE;
        MHD_resume_connection(conn);
    }
    return MHD_YES;
}

static unsigned bucket_of(uint64_t us)
{
    for (unsigned i = 0; i < PM__LAT_BUCKETS; i++)
        if (us <= pm__lat_bounds_us[i])
            return i;
    return PM__LAT_BUCKETS;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    pm__guard_notify(cls, conn, socket_context, toe == MHD_CONNECTION_NOTIFY_STARTED);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    pm_node_t *node = cls;
    pm__req_t *rq = *con_cls;
    pm__guard_request_ended(node->guard, conn);
    if (!rq)
        return;
    unsigned cls_idx = rq->status >= 100 && rq->status < 600 ? rq->status / 100 : 0;
    if (!rq->queued)
        cls_idx = 0; /* the connection ended before an answer */
    if (rq->route >= 0 && rq->route < PM__ROUTE_MAX) {
        pm__route_metrics_t *m = &node->metrics[rq->route];
        uint64_t us = (pm_now_ns() - rq->t0) / 1000;
        atomic_fetch_add(&m->requests[cls_idx], 1);
        atomic_fetch_add(&m->lat_bucket[bucket_of(us)], 1);
        atomic_fetch_add(&m->lat_sum_us, us);
    } else {
        atomic_fetch_add(&node->unrouted[cls_idx], 1);
    }
    free(rq->resp);
    pm_buf_free(&rq->body);
    atomic_fetch_sub(&node->body_bytes, rq->reserved);
    free(rq);
    *con_cls = NULL;
    atomic_fetch_sub(&node->inflight, 1);
}

/* ------------------------------------------------------------ start / stop */

static int read_pem(const char *path, char **out, pm_error_t *err)
{
    uint8_t *d = NULL;
    size_t n = 0;
    int rc = pm_file_read(path, 1u << 20, &d, &n, err);
    *out = (char *)d;
    return rc;
}

int pm_node_start(const pm_node_config_t *cfg, const pm_node_options_t *options, pm_node_t **out,
                  pm_error_t *err)
{
    *out = NULL;
    size_t nroutes = 0;
    pm__routes(&nroutes);
    if (nroutes > PM__ROUTE_MAX)
        return pm_error_set(err, PM_EINTERNAL, "route table larger than PM__ROUTE_MAX");
    pm_node_t *node = calloc(1, sizeof *node);
    if (!node)
        return pm_error_set(err, PM_ENOMEM, "node: out of memory");
    node->cfg = cfg;
    if (options)
        node->opt = *options;
    int rc;
    pm_buf_t trust;
    pm_buf_init(&trust, 8u << 20);
    for (size_t i = 0; i < cfg->npartners; i++)
        if (pm_buf_append_str(&trust, cfg->partners[i].ca_pem) ||
            pm_buf_append_str(&trust, "\n")) {
            pm_buf_free(&trust);
            rc = pm_error_set(err, PM_ELIMIT, "partner CAs too large");
            goto fail;
        }
    node->trust_pem = (char *)pm_buf_steal(&trust, NULL);
    if ((rc = read_pem(cfg->cert_file, &node->cert_pem, err)) ||
        (rc = read_pem(cfg->key_file, &node->key_pem, err)))
        goto fail;
    /* sealing at rest: the data key, loaded once (docs/security.md) */
    if ((rc = pm_node_data_keys_load(cfg, &node->seal, err)))
        goto fail;
    if (node->seal.n == 0)
        pm__node_log(node, 1, "no data_key configured: enrolled templates and the partner's "
                              "received records are stored in clear (docs/security.md)");
    else
        pm__node_log(node, 0, "data at rest sealed under the data key (%zu older key(s) for "
                              "reading)", node->seal.n - 1);
    /* the store: schema up to date before anything serves */
    {
        pm_store_t *st = NULL;
        pm_store_options_t so = {PM_STORE_DURABLE_FULL, 1, 0, 0};
        if ((rc = pm_store_open(cfg->store_path, &so, &st, err)) ||
            (rc = pm__node_migrate(st, err))) {
            pm_store_close(st);
            goto fail;
        }
        pm_store_set_seal(st, &node->seal);
        if ((rc = pm__login_limit_migrate(st, err))) {
            pm_store_close(st);
            goto fail;
        }
        for (size_t i = 0; i < cfg->npartners && !rc; i++)
            rc = pm_store_ensure_partner(st, cfg->partners[i].code, err);
        /* the gallery: the store is its system of record; loaded whole at
         * start, or held by shard servers (they load their part themselves) */
        /* one search thread per CPU unless configured: the workers share
         * the pool (a search from one worker uses all of it) */
        pm_gallery_options_t go = {(int)cfg->gallery_threads};
        uint64_t gen = 0;
        if (!rc && !(rc = pm_gallery_store_migrate(st, err)) && cfg->gallery_shards) {
            if (!(rc = pm_shard_client_open(cfg->gallery_nats, (int)cfg->gallery_shards,
                                            cfg->gallery_prefix, &node->shards, err)))
                pm_shard_client_set_hedge(node->shards, cfg->gallery_hedge_ms);
            else
                pm_error_prefix(err, "gallery.nats");
        } else if (!rc && !(rc = pm_gallery_new(&go, &node->gallery, err)))
            rc = pm_gallery_store_load(st, node->gallery, &gen, err);
        pm_store_close(st);
        if (rc)
            goto fail;
    }
    pthread_mutex_init(&node->enrol_mu, NULL);
    if ((rc = pm_extractor_create(&node->extractor, err)))
        goto fail;
    /* the disclosure log: verified when opened (a damaged log stops the node) */
    if ((rc = pm_audit_open(cfg->audit_log, 256, &node->audit, err))) {
        pm_error_prefix(err, "disclosure log %s", cfg->audit_log);
        goto fail;
    }
    {
        /* a review decision stored but kept out of the log by a crash gets
         * its R14 entry before anything serves */
        pm_store_t *st = NULL;
        pm_store_options_t so = {PM_STORE_DURABLE_FULL, 1, 0, 0};
        uint64_t owed = 0;
        if (!(rc = pm_store_open(cfg->store_path, &so, &st, err))) {
            pm_store_set_seal(st, &node->seal);
            char actor[32];
            snprintf(actor, sizeof actor, "node:%s", cfg->country);
            rc = pm_review_recover(st, node->audit, actor, &owed, err);
        }
        pm_store_close(st);
        if (rc) {
            pm_error_prefix(err, "review decisions owed to the log");
            goto fail;
        }
        if (owed)
            pm__node_log(node, 1, "%llu review item(s) or decision(s) stored before a crash got "
                                  "their R14 log entry now",
                         (unsigned long long)owed);
    }
    if ((rc = pm_audit_index_new(cfg->audit_log, &node->audit_index, err)))
        goto fail;
    pthread_mutex_init(&node->quota_mu, NULL);
    if ((rc = pm__quota_replay(node, err)))
        goto fail;
    if (cfg->audit_key[0]) {
        uint8_t *d = NULL;
        size_t n = 0, bl = 0;
        if ((rc = pm_file_read(cfg->audit_key, 4096, &d, &n, err)))
            goto fail;
        int bad = sodium_hex2bin(node->audit_sk, sizeof node->audit_sk, (const char *)d, n, "\n",
                                 &bl, NULL) != 0 ||
                  bl != sizeof node->audit_sk;
        sodium_memzero(d, n);
        free(d);
        if (bad) {
            rc = pm_error_set(err, PM_EFORMAT, "audit.key %s: not 128 hex digits (audit keygen)",
                              cfg->audit_key);
            goto fail;
        }
        node->has_audit_sk = 1;
    }
    if ((rc = pm__login_limit_new(&cfg->limits, &node->logins, err)) ||
        (rc = pm__rates_new(&cfg->limits, &node->rates, err)) ||
        (rc = pm__guard_start(cfg->limits.header_timeout_s, cfg->limits.request_timeout_s,
                              cfg->limits.connections, cfg->limits.connections_per_ip,
                              &node->guard, err)) ||
        (rc = pm__sessions_new(cfg->limits.sessions, cfg->limits.session_ttl_s, &node->sessions,
                               err)) ||
        (rc = pm__node_pool_new(cfg->store_path, cfg->limits.workers, cfg->limits.queue,
                                cfg->limits.store_pool, cfg->limits.store_wait_ms, &node->pool,
                                err)))
        goto fail;
    pm__node_pool_set_seal(node->pool, &node->seal);
    struct sockaddr_in sa4;
    struct sockaddr_in6 sa6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    memset(&sa4, 0, sizeof sa4);
    memset(&sa6, 0, sizeof sa6);
    if (inet_pton(AF_INET, cfg->address, &sa4.sin_addr) == 1) {
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons((uint16_t)cfg->port);
        sa = (struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, cfg->address, &sa6.sin6_addr) == 1) {
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons((uint16_t)cfg->port);
        sa = (struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        rc = pm_error_set(err, PM_EINVAL, "listen.address '%s' is not an IP address",
                          cfg->address);
        goto fail;
    }
    node->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, node, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, node, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_HTTPS_MEM_KEY, node->key_pem, MHD_OPTION_HTTPS_MEM_CERT, node->cert_pem,
        MHD_OPTION_HTTPS_MEM_TRUST, node->trust_pem, MHD_OPTION_HTTPS_PRIORITIES,
        "SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE",
        MHD_OPTION_THREAD_POOL_SIZE, cfg->limits.http_threads, MHD_OPTION_CONNECTION_LIMIT,
        pm__guard_hard_limit(cfg->limits.connections), MHD_OPTION_CONNECTION_TIMEOUT,
        cfg->limits.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->limits.max_header_bytes,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, pm__guard_hard_limit(cfg->limits.connections_per_ip),
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, node->guard,
        MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, node, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
    if (!node->daemon) {
        rc = pm_error_set(err, PM_ENET,
                          "cannot start the HTTPS server on %s:%u (port in use, or a bad "
                          "certificate/key)",
                          cfg->address, cfg->port);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(node->daemon, MHD_DAEMON_INFO_BIND_PORT);
    node->port = di ? di->port : cfg->port;
    if (!node->opt.no_feed && (rc = pm__feed_start(node, &node->feed, err)))
        goto fail;
    if ((rc = pm__checkpoint_start(node, err)))
        goto fail;
    pm__node_log(node, 0, "node %s listening on https://%s:%u (%zu partner%s, %u workers)",
                 cfg->country, cfg->address, node->port, cfg->npartners,
                 cfg->npartners == 1 ? "" : "s", cfg->limits.workers);
    if (node->shards)
        pm__node_log(node, 0, "gallery: %u shards over NATS %s (%s.%u.*), deadline %u ms",
                     cfg->gallery_shards, cfg->gallery_nats, cfg->gallery_prefix,
                     cfg->gallery_shards, cfg->gallery_deadline_ms);
    *out = node;
    return PM_OK;
fail:
    pm_node_stop(node, 0);
    return rc;
}

unsigned pm_node_port(const pm_node_t *node)
{
    return node->port;
}

void pm_node_stop(pm_node_t *node, unsigned drain_ms)
{
    if (!node)
        return;
    atomic_store(&node->draining, 1);
    if (node->daemon) {
        MHD_socket s = MHD_quiesce_daemon(node->daemon);
        if (s != MHD_INVALID_SOCKET)
            close(s);
        uint64_t t_end = pm_now_ns() + (uint64_t)drain_ms * 1000000u;
        while (atomic_load(&node->inflight) > 0 && pm_now_ns() < t_end)
            usleep(10000);
    }
    pm__checkpoint_stop(node);
    pm__feed_stop(node->feed); /* after its current request */
    node->feed = NULL;
    pm__node_pool_free(node->pool); /* finishes queued jobs, closes the workers' stores */
    node->pool = NULL;
    if (node->daemon)
        MHD_stop_daemon(node->daemon);
    pm__guard_stop(node->guard); /* after the daemon: no connection is left */
    if (node->opt.log && node->daemon)
        pm__node_log(node, 0, "node %s stopped", node->cfg->country);
    pm__sessions_free(node->sessions);
    pm__rates_free(node->rates);
    pm__quota_free(node);
    pm_gallery_free(node->gallery);
    pm_seal_ring_wipe(&node->seal);
    pm__login_limit_free(node->logins);
    pm_shard_client_close(node->shards);
    pm_extractor_free(node->extractor);
    pm_audit_close(node->audit, NULL); /* syncs */
    pm_audit_index_free(node->audit_index);
    sodium_memzero(node->audit_sk, sizeof node->audit_sk);
    if (node->key_pem) {
        memset(node->key_pem, 0, strlen(node->key_pem));
        free(node->key_pem);
    }
    free(node->cert_pem);
    free(node->trust_pem);
    free(node);
}
