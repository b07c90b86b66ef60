/* The console's data routes: thin shells over src/console (docs/console.md).
 * Vetting runs are read from the folder "vetting" beside the node's store
 * (a SQLite file), or beside its configuration when the store is a
 * PostgreSQL target: the runs and their journals are files, never in the
 * store. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/server_impl.h"
#include "perimeter/console.h"
#include "perimeter/jobs.h"
#include "perimeter/link.h"
#include "perimeter/travel.h"

static void vetting_root(const pm__req_t *rq, char *out, size_t cap)
{
    char tmp[PM_NODE_PATH_MAX];
    const pm_node_config_t *cfg = rq->node->cfg;
    snprintf(tmp, sizeof tmp, "%s",
             pm_store_is_postgres(cfg->store_path) ? cfg->path : cfg->store_path);
    snprintf(out, cap, "%s/vetting", dirname(tmp));
}

static int arg_size(pm__req_t *rq, const char *name, size_t dflt, size_t max, size_t *out)
{
    const char *v = pm__req_arg(rq, name);
    *out = dflt;
    if (!v)
        return 1;
    char *end = NULL;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || strspn(v, "0123456789") != strlen(v) || x > max) {
        pm__reply_error(rq, 400, "invalid_argument", "a whole number in range", name);
        return 0;
    }
    *out = (size_t)x;
    return 1;
}

static void reply_buf(pm__req_t *rq, pm_buf_t *b, const char *type)
{
    size_t n = 0;
    uint8_t *d = pm_buf_steal(b, &n);
    pm__reply(rq, 200, type, (char *)d, n);
}

/* A console data call's outcome: its document (type) or its error; b freed. */
static void reply_result(pm__req_t *rq, int rc, const pm_error_t *e, pm_buf_t *b,
                         const char *type)
{
    if (rc)
        pm__reply_pm_error(rq, rc, e, NULL);
    else
        reply_buf(rq, b, type);
    pm_buf_free(b);
}

void pm__h_console_cohorts(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    static const char *const names[] = {NULL};
    if (!pm__req_args_only(rq, names))
        return;
    char root[PM_NODE_PATH_MAX + 16];
    vetting_root(rq, root, sizeof root);
    pm_buf_t b;
    pm_buf_init(&b, 16u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_console_runs(root, &b, &e);
    reply_result(rq, rc, &e, &b, "application/json");
}

void pm__h_console_cohort(pm__req_t *rq, pm_store_t *st)
{
    static const char *const names[] = {"outcome", "offset", "limit", NULL};
    size_t off, lim;
    if (!pm__req_args_only(rq, names) || !arg_size(rq, "offset", 0, 100000000, &off) ||
        !arg_size(rq, "limit", 50, PM_CONSOLE_PAGE_MAX, &lim))
        return;
    char root[PM_NODE_PATH_MAX + 16];
    vetting_root(rq, root, sizeof root);
    pm_buf_t b;
    pm_buf_init(&b, 16u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    const char *oc = pm__req_arg(rq, "outcome");
    /* the review status live from this node's queue */
    int rc = pm_console_run(root, rq->param, oc && *oc ? oc : NULL, off, lim ? lim : 1, st, &b, &e);
    reply_result(rq, rc, &e, &b, "application/json");
}

void pm__h_console_case(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    static const char *const names[] = {"run", NULL};
    if (!pm__req_args_only(rq, names))
        return;
    char root[PM_NODE_PATH_MAX + 16];
    vetting_root(rq, root, sizeof root);
    pm_buf_t b;
    pm_buf_init(&b, 4u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_console_case(root, pm__req_arg(rq, "run"), rq->param, &b, &e);
    reply_result(rq, rc, &e, &b, "application/json");
}

static void image_route(pm__req_t *rq, int pair)
{
    static const char *const names[] = {"run", "finger", "candidate", NULL};
    size_t finger;
    if (!pm__req_args_only(rq, names) || !arg_size(rq, "finger", 1, 10, &finger))
        return;
    char root[PM_NODE_PATH_MAX + 16];
    vetting_root(rq, root, sizeof root);
    pm_buf_t b;
    pm_buf_init(&b, 64u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pair ? pm_console_pair_png(rq->node->extractor, root, pm__req_arg(rq, "run"),
                                        rq->param, (int)finger, pm__req_arg(rq, "candidate"), &b,
                                        NULL, NULL, NULL, &e)
                  : pm_console_print_png(rq->node->extractor, root, pm__req_arg(rq, "run"),
                                         rq->param, (int)finger, &b, NULL, &e);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
    } else {
        rq->cache_control = "private, max-age=300";
        reply_buf(rq, &b, "image/png");
    }
    pm_buf_free(&b);
}

void pm__h_console_print(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    image_route(rq, 0);
}

void pm__h_console_pair(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    image_route(rq, 1);
}

void pm__h_console_decide(pm__req_t *rq, pm_store_t *st)
{
    static const char *const names[] = {"run", "partner", NULL};
    if (!pm__req_args_only(rq, names))
        return;
    json_t *o = pm__json_body(rq, &pm__body_review_decision);
    if (!o)
        return;
    const char *d = pm__json_str(o, "decision");
    int confirm = d && !strcmp(d, "confirm");
    if (!confirm && !(d && !strcmp(d, "reject"))) {
        json_decref(o);
        pm__reply_error(rq, 400, "invalid_field", "decision is confirm or reject", "decision");
        return;
    }
    const pm_node_config_t *cfg = rq->node->cfg;
    const char *pc = pm__req_arg(rq, "partner");
    const pm_node_partner_t *p = pc ? pm_node_config_partner(cfg, pc) : NULL;
    if (!p && cfg->npartners)
        p = &cfg->partners[0];
    char actor[80], root[PM_NODE_PATH_MAX + 16];
    pm__audit_actor(rq, actor, sizeof actor);
    vetting_root(rq, root, sizeof root);
    pm_jobs_ctx_t jc = {st, rq->node->audit, p ? p->agreement : NULL, cfg->country, actor};
    pm_error_t e;
    pm_error_clear(&e);
    int64_t id = 0;
    int rc = pm_console_case_decide(&jc, p ? p->code : "", root, pm__req_arg(rq, "run"), rq->param,
                                    confirm, rq->officer, pm__json_str(o, "why"),
                                    (int64_t)time(NULL), &id, &e);
    json_decref(o);
    if (!rc && pm__sync_or_fail(rq))
        return;
    if (rc == PM_ESTATE) {
        pm__reply_error(rq, 409, "not_pending", pm_error_text(&e), NULL);
        return;
    }
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    pm__reply_json(rq, 200,
                   json_pack("{s:I, s:s, s:s}", "review", (json_int_t)id, "status",
                             confirm ? "confirmed" : "rejected", "officer", rq->officer));
}

static int arg_time(pm__req_t *rq, const char *name, int64_t *out)
{
    size_t v;
    if (!arg_size(rq, name, 0, (size_t)4102444800ull, &v))
        return 0;
    *out = (int64_t)v;
    return 1;
}

void pm__h_console_audit(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    static const char *const names[] = {"kind", "purpose", "rule", "partner", "from", "to",
                                        "offset", "limit", NULL};
    pm_console_audit_query_t q;
    memset(&q, 0, sizeof q);
    if (!pm__req_args_only(rq, names) || !arg_size(rq, "offset", 0, 100000000, &q.offset) ||
        !arg_size(rq, "limit", 50, PM_CONSOLE_PAGE_MAX, &q.limit) || !arg_time(rq, "from", &q.from) ||
        !arg_time(rq, "to", &q.to))
        return;
    if (!q.limit)
        q.limit = 1;
    q.kind = pm__req_arg(rq, "kind");
    q.purpose = pm__req_arg(rq, "purpose");
    q.rule = pm__req_arg(rq, "rule");
    q.partner = pm__req_arg(rq, "partner");
    const pm_node_config_t *cfg = rq->node->cfg;
    pm_console_partner_log_t parts[PM_NODE_MAX_PARTNERS];
    for (size_t i = 0; i < cfg->npartners; i++)
        parts[i] = (pm_console_partner_log_t){cfg->partners[i].code,
                                              cfg->partners[i].checkpoints_file,
                                              cfg->partners[i].audit_pub};
    pm_buf_t b;
    pm_buf_init(&b, 64u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_console_audit(cfg->audit_log, cfg->audit_checkpoints, parts, cfg->npartners,
                              rq->node->audit_index, &q, &b, &e);
    reply_result(rq, rc, &e, &b, "application/json");
}

void pm__h_console_traveller(pm__req_t *rq, pm_store_t *st)
{
    static const char *const names[] = {"document", "as_of", "stay", NULL};
    size_t stay;
    if (!pm__req_args_only(rq, names) || !arg_size(rq, "stay", 180, 36600, &stay))
        return;
    const char *doc = pm__req_arg(rq, "document");
    const char *as_of_s = pm__req_arg(rq, "as_of");
    int64_t trav = 0;
    if (strcmp(rq->param, "-") != 0) {
        char *end = NULL;
        long long v = strtoll(rq->param, &end, 10);
        if (!*rq->param || *end || v < 1) {
            pm__reply_error(rq, 400, "bad_request", "a traveller id, or '-' with ?document=",
                            "id");
            return;
        }
        trav = v;
    }
    pm_dob_t as_of;
    memset(&as_of, 0, sizeof as_of);
    if (as_of_s) {
        if (pm_dob_parse(as_of_s, strlen(as_of_s), &as_of, NULL) || !as_of.month || !as_of.day) {
            pm__reply_error(rq, 400, "bad_argument", "not a date YYYY-MM-DD", "as_of");
            return;
        }
    } else { /* today (UTC) */
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        as_of.year = (int16_t)(tm.tm_year + 1900);
        as_of.month = (uint8_t)(tm.tm_mon + 1);
        as_of.day = (uint8_t)tm.tm_mday;
    }
    pm_buf_t b;
    pm_buf_init(&b, 64u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_console_traveller(st, trav, doc, &as_of, (int)stay, &b, &e);
    reply_result(rq, rc, &e, &b, "application/json");
}

void pm__h_console_link_reviews(pm__req_t *rq, pm_store_t *st)
{
    static const char *const names[] = {"status", "offset", "limit", NULL};
    size_t off, lim;
    if (!pm__req_args_only(rq, names) || !arg_size(rq, "offset", 0, 100000000, &off) ||
        !arg_size(rq, "limit", 50, PM_CONSOLE_PAGE_MAX, &lim))
        return;
    const char *status = pm__req_arg(rq, "status");
    pm_buf_t b;
    pm_buf_init(&b, 16u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_console_link_reviews(st, status && *status && strcmp(status, "all") ? status : NULL,
                                     off, lim ? lim : 1, &b, &e);
    reply_result(rq, rc, &e, &b, "application/json");
}

/* accept: the two records are one traveller (merged now and after every
 * later link run); split: they are two (the pair is closed as rejected). */
void pm__h_console_link_decide(pm__req_t *rq, pm_store_t *st)
{
    static const char *const names[] = {NULL};
    if (!pm__req_args_only(rq, names))
        return;
    char *end = NULL;
    long long id = strtoll(rq->param, &end, 10);
    if (!*rq->param || *end || id < 1) {
        pm__reply_error(rq, 400, "bad_request", "a review pair id", "id");
        return;
    }
    json_t *o = pm__json_body(rq, &pm__body_link_decision);
    if (!o)
        return;
    const char *d = pm__json_str(o, "decision");
    int accept = d && !strcmp(d, "accept");
    if (!accept && !(d && !strcmp(d, "split"))) {
        json_decref(o);
        pm__reply_error(rq, 400, "invalid_field", "decision is accept or split", "decision");
        return;
    }
    json_decref(o);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_link_store_decide(st, id, accept, &e);
    if (rc == PM_ESTATE) {
        pm__reply_error(rq, 409, "already_decided", pm_error_text(&e), NULL);
        return;
    }
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    pm__node_log(rq->node, 0, "link review %lld %s by %s", id, accept ? "accepted" : "split",
                 rq->officer);
    pm__reply_json(rq, 200,
                   json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "status",
                             accept ? "accepted" : "rejected", "officer", rq->officer));
}

static void preclear_dir(const pm__req_t *rq, char *out, size_t cap)
{
    char tmp[PM_NODE_PATH_MAX];
    const pm_node_config_t *cfg = rq->node->cfg;
    snprintf(tmp, sizeof tmp, "%s",
             pm_store_is_postgres(cfg->store_path) ? cfg->path : cfg->store_path);
    snprintf(out, cap, "%s/preclear", dirname(tmp));
}

void pm__h_console_flights(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    static const char *const names[] = {NULL};
    if (!pm__req_args_only(rq, names))
        return;
    char dir[PM_NODE_PATH_MAX + 16];
    preclear_dir(rq, dir, sizeof dir);
    pm_buf_t b;
    pm_buf_init(&b, 1u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_console_manifests(dir, &b, &e);
    reply_result(rq, rc, &e, &b, "application/json");
}

void pm__h_console_flight(pm__req_t *rq, pm_store_t *st)
{
    static const char *const names[] = {"date", "stay", "decision", "offset", "limit", NULL};
    size_t stay, off, lim;
    if (!pm__req_args_only(rq, names) || !arg_size(rq, "stay", 180, 36600, &stay) ||
        !arg_size(rq, "offset", 0, 100000000, &off) ||
        !arg_size(rq, "limit", 100, PM_CONSOLE_PAGE_MAX, &lim))
        return;
    const char *ds = pm__req_arg(rq, "date");
    pm_dob_t dep;
    memset(&dep, 0, sizeof dep);
    if (ds && (pm_dob_parse(ds, strlen(ds), &dep, NULL) || !dep.month || !dep.day)) {
        pm__reply_error(rq, 400, "bad_argument", "not a date YYYY-MM-DD", "date");
        return;
    }
    char dir[PM_NODE_PATH_MAX + 16];
    preclear_dir(rq, dir, sizeof dir);
    pm_buf_t b;
    pm_buf_init(&b, 16u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_console_preclear(st, dir, rq->param, ds ? &dep : NULL, (int)stay,
                                 pm__req_arg(rq, "decision"), off, lim ? lim : 1, &b, &e);
    reply_result(rq, rc, &e, &b, "application/json");
}
