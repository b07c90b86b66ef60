/* The web console's side of the node (docs/console.md): the role grants of
 * the console roles, browser sessions (cookie login, session + CSRF token,
 * logout), the same-origin check, the officer action trail and the static
 * assets compiled into the binary. The data views are in
 * routes_console_data.c, thin shells over src/console. */
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console/assets.h"
#include "node/server_impl.h"
#include "perimeter/audit.h"

/* ------------------------------------------------------------ roles */

#define B(r) PM_ROLE_BIT(PM_ROLE_##r)
#define ALL_CONSOLE (B(VETTING) | B(ADJUDICATOR) | B(ANALYST) | B(AUDITOR))

/* What each console role may use beyond the ranked roles of a route's
 * minimum (admin, the console's administrator, is admitted everywhere by its
 * rank). A route not listed admits only its ranked roles. */
static const struct grant {
    const char *method, *path;
    unsigned roles;
} grants[] = {
    {"POST", "/v1/auth/logout", ALL_CONSOLE},
    {"GET", "/console/api/session", ALL_CONSOLE | B(OFFICER) | B(SUPERVISOR)},
    {"POST", "/console/api/logout", ALL_CONSOLE | B(OFFICER) | B(SUPERVISOR)},
    /* vetting cases and the cohort dashboard */
    {"GET", "/console/api/cohorts", B(VETTING) | B(ADJUDICATOR) | B(SUPERVISOR)},
    {"GET", "/console/api/cohorts/{run}", B(VETTING) | B(ADJUDICATOR) | B(SUPERVISOR)},
    {"GET", "/console/api/cases/{id}", B(VETTING) | B(ADJUDICATOR) | B(SUPERVISOR)},
    {"GET", "/console/api/cases/{id}/print.png", B(VETTING) | B(ADJUDICATOR) | B(SUPERVISOR)},
    {"GET", "/console/api/cases/{id}/pair.png", B(VETTING) | B(ADJUDICATOR) | B(SUPERVISOR)},
    {"POST", "/console/api/cases/{id}/decision", B(ADJUDICATOR) | B(SUPERVISOR)},
    {"POST", "/v1/gallery/identify", B(VETTING)},
    {"POST", "/v1/gallery/verify", B(VETTING)},
    {"POST", "/v1/partners/{code}/query/biometric", B(VETTING)},
    /* the R14 review queue */
    {"GET", "/v1/reviews", B(VETTING) | B(ADJUDICATOR) | B(AUDITOR)},
    {"POST", "/v1/reviews/{id}/decision", B(ADJUDICATOR)},
    /* travellers and reports */
    {"GET", "/v1/history", B(ANALYST)},
    {"GET", "/v1/reports/{kind}", B(ANALYST)},
    {"GET", "/v1/crossings/stats", B(ANALYST)},
    /* audit */
    {"GET", "/console/api/travellers/{id}", B(ANALYST)},
    {"GET", "/console/api/link-reviews", B(ANALYST)},
    {"POST", "/console/api/link-reviews/{id}", B(ANALYST)},
    {"GET", "/console/api/flights", B(ANALYST)},
    {"GET", "/console/api/flights/{manifest}", B(ANALYST)},
    {"GET", "/console/api/audit", B(AUDITOR) | B(SUPERVISOR)},
    {"GET", "/v1/subject-access", B(AUDITOR)},
    {"GET", "/v1/received", B(AUDITOR)},
    {"GET", "/v1/corrections", B(AUDITOR)},
};

unsigned pm__route_roles(const pm__route_t *rt)
{
    unsigned m = 0;
    if (rt->min_role >= PM_ROLE_OFFICER && rt->min_role <= PM_ROLE_ADMIN)
        for (int r = rt->min_role; r <= PM_ROLE_ADMIN; r++)
            m |= PM_ROLE_BIT(r);
    for (size_t i = 0; i < sizeof grants / sizeof grants[0]; i++)
        if (strcmp(grants[i].method, rt->info.method) == 0 &&
            strcmp(grants[i].path, rt->info.path) == 0)
            m |= grants[i].roles;
    return m;
}

/* ------------------------------------------------------------ browser checks */

int pm__console_same_origin(pm__req_t *rq)
{
    struct MHD_Connection *c = rq->conn;
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    const char *why = NULL;
    if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
        why = "Sec-Fetch-Site is not same-origin";
    if (!why && origin) {
        char own[300];
        snprintf(own, sizeof own, "https://%s", host ? host : "");
        if (!host || strcmp(origin, own) != 0)
            why = "Origin is not this node";
    }
    if (!why)
        return 0;
    pm__node_log(rq->node, 1, "refused %s %s: cross-site request (%s)", rq->method, rq->path,
                 why);
    pm__reply_error(rq, 403, "cross_site", why, NULL);
    return -1;
}

void pm__console_log_action(pm__req_t *rq)
{
    if (!rq->node->audit)
        return;
    char actor[80], detail[600];
    snprintf(actor, sizeof actor, "officer:%s", rq->officer);
    int n = snprintf(detail, sizeof detail, "%s %s", rq->method, rq->path);
    for (size_t i = 0; i < rq->nargs && n > 0 && (size_t)n < sizeof detail; i++)
        n += snprintf(detail + n, sizeof detail - (size_t)n, "%c%s=%s", i ? '&' : '?',
                      rq->args[i].name, rq->args[i].value);
    if (n > 0 && (size_t)n < sizeof detail)
        snprintf(detail + n, sizeof detail - (size_t)n, " -> %u", rq->status);
    pm_audit_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.time = (int64_t)time(NULL);
    ev.kind = "officer_action";
    ev.actor = actor;
    ev.detail = detail;
    pm_error_t e;
    pm_error_clear(&e);
    if (pm_audit_append(rq->node->audit, &ev, NULL, &e))
        pm__node_log(rq->node, 2, "officer action log: %s", e.msg);
}

/* ------------------------------------------------------------ sessions */

static void clear_cookie(pm__req_t *rq)
{
    snprintf(rq->set_cookie, sizeof rq->set_cookie,
             "%s=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict", PM__SESSION_COOKIE);
}

void pm__h_console_login(pm__req_t *rq, pm_store_t *st)
{
    if (pm__console_same_origin(rq)) /* no login planted from another site */
        return;
    pm_officer_role_t role;
    char token[65];
    int64_t expires = 0;
    json_t *o = pm__login(rq, st, "console login", &role, token, &expires);
    if (!o)
        return;
    const char *user = pm__json_str(o, "username");
    snprintf(rq->set_cookie, sizeof rq->set_cookie,
             "%s=%s; Path=/; Max-Age=%u; HttpOnly; Secure; SameSite=Strict", PM__SESSION_COOKIE,
             token, rq->node->cfg->limits.session_ttl_s);
    sodium_memzero(token, sizeof token);
    snprintf(rq->officer, sizeof rq->officer, "%s", user);
    pm__reply_json(rq, 200,
                   json_pack("{s:s, s:s, s:I}", "officer", user, "role",
                             pm_officer_role_name(role), "expires_at", (json_int_t)expires));
    rq->status = 200;
    pm__console_log_action(rq); /* who logged in, when */
    json_decref(o);
}

/* The views of the console a role may open (for its navigation). */
static json_t *views_of(pm_officer_role_t role)
{
    static const struct {
        const char *view, *method, *path;
    } v[] = {
        {"cohorts", "GET", "/console/api/cohorts"},
        {"reviews", "GET", "/v1/reviews"},
        {"traveller", "GET", "/console/api/travellers/{id}"},
        {"links", "GET", "/console/api/link-reviews"},
        {"flights", "GET", "/console/api/flights"},
        {"audit", "GET", "/console/api/audit"},
    };
    json_t *a = json_array();
    size_t n = 0;
    const pm__route_t *routes = pm__routes(&n);
    for (size_t i = 0; a && i < sizeof v / sizeof v[0]; i++)
        for (size_t k = 0; k < n; k++)
            if (!strcmp(routes[k].info.method, v[i].method) &&
                !strcmp(routes[k].info.path, v[i].path) &&
                (pm__route_roles(&routes[k]) & PM_ROLE_BIT(role))) {
                json_array_append_new(a, json_string(v[i].view));
                break;
            }
    return a;
}

void pm__h_console_session(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    char name[65], csrf[65];
    pm_officer_role_t role;
    int64_t expires = 0;
    if (pm__sessions_lookup(rq->node->sessions, rq->token, name, &role, &expires, csrf)) {
        pm__reply_error(rq, 401, "token_invalid", "unknown or expired session", NULL);
        return;
    }
    pm__reply_json(rq, 200,
                   json_pack("{s:s, s:s, s:s, s:I, s:s, s:o}", "officer", name, "role",
                             pm_officer_role_name(role), "csrf", csrf, "expires_at",
                             (json_int_t)expires, "country", rq->node->cfg->country, "views",
                             views_of(role)));
    sodium_memzero(csrf, sizeof csrf);
}

void pm__h_console_logout(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    pm__sessions_drop(rq->node->sessions, rq->token);
    clear_cookie(rq);
    pm__reply_json(rq, 200, json_pack("{s:b}", "logged_out", 1));
}

/* ------------------------------------------------------------ static assets */

void pm__h_console_redirect(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    rq->location = "/console/";
    pm__reply(rq, 308, NULL, NULL, 0);
}

void pm__h_console_asset(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    const char *name = rq->param[0] ? rq->param : "index.html";
    const pm__console_asset_t *a = NULL;
    for (const pm__console_asset_t *x = pm__console_assets; x->name && !a; x++)
        if (strcmp(x->name, name) == 0)
            a = x;
    if (!a) {
        pm__reply_error(rq, 404, "not_found", "no such console file", NULL);
        return;
    }
    /* Revalidated on every load (cheap: a 304), so a new binary's files are
     * never mixed with an old cached module. */
    rq->cache_control = "no-cache";
    snprintf(rq->etag, sizeof rq->etag, "%s", a->etag);
    const char *inm = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "If-None-Match");
    if (inm && strcmp(inm, a->etag) == 0) {
        pm__reply(rq, 304, NULL, NULL, 0);
        return;
    }
    char *body = malloc(a->len ? a->len : 1);
    if (!body) {
        pm__reply_error(rq, 500, "internal", "out of memory", NULL);
        return;
    }
    memcpy(body, a->data, a->len);
    pm__reply(rq, 200, a->type, body, a->len);
}
