/* R14: adverse matches wait for an officer to confirm or reject them; no
 * adverse action before a confirmation. Every step is logged with who, when
 * and why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs_internal.h"

static const char *const status_names[] = {"pending", "confirmed", "rejected"};

const char *pm_review_status_name(pm_review_status_t s)
{
    return (unsigned)s < 3 ? status_names[s] : "unknown";
}

static int text_ok(const char *s, size_t cap, int required)
{
    return s ? strlen(s) < cap && (!required || s[0]) : !required;
}

/* 1 if the store seals officer text (a data key is configured). */
static int sealing(pm_store_t *st)
{
    const pm_seal_ring_t *ring = pm_store_seal(st);
    return ring && ring->n;
}

/* One R14 entry naming the item (kind review): appended and synced. */
static int log_entry(pm_audit_log_t *log, const char *actor, const char *partner,
                     const char *purpose, const char *txn, int64_t id, int64_t when,
                     const char *detail, pm_error_t *err)
{
    char ref[48];
    snprintf(ref, sizeof ref, "review:%lld", (long long)id);
    const char *recs[1] = {ref};
    pm_audit_event_t ev = {.time = when,
                           .kind = "review",
                           .actor = actor,
                           .partner = partner,
                           .purpose = purpose,
                           .rule = "R14",
                           .record_ids = recs,
                           .n_record_ids = 1,
                           .txn = txn,
                           .detail = detail};
    int rc = pm_audit_append(log, &ev, NULL, err);
    return rc ? rc : pm_audit_sync(log, err);
}

/* The R14 "queued" entry of an item (kind review, the job's actor). */
static int log_queued(pm_store_t *st, pm_audit_log_t *log, const char *actor, const char *txn,
                      const char *partner, const char *purpose, const char *action, double score,
                      int64_t id, int64_t when, int recovered, pm_error_t *err)
{
    char detail[PM_AUDIT_STR_MAX + 1];
    const char *late = recovered ? "; entry written at restart" : "";
    if (sealing(st)) /* the action is sealed in the item; the log names the item */
        snprintf(detail, sizeof detail, "queued for human review; score %.1f%s", score, late);
    else
        snprintf(detail, sizeof detail, "queued for human review: %.160s; score %.1f%s", action,
                 score, late);
    return log_entry(log, actor, partner, purpose, txn, id, when, detail, err);
}

static int mark_logged(pm_store_t *st, int64_t id, pm_error_t *err);

int pm_review_enqueue(const pm_jobs_ctx_t *ctx, const pm_review_request_t *r, int64_t now,
                      int64_t *out_id, pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if (!r || !text_ok(r->txn, PM_JOBS_REF_MAX, 1) ||
        !text_ok(r->subject_ref, PM_JOBS_REF_MAX, 1) || !text_ok(r->action, PM_JOBS_TEXT_MAX, 1) ||
        !text_ok(r->evidence, PM_JOBS_TEXT_MAX, 0) || !text_ok(r->partner, 4, 0))
        return pm_error_set(err, PM_EINVAL,
                            "review: txn, subject and the proposed action are required (bounded)");
    if (pm_agreement_purpose_index(ctx->agreement, r->purpose) < 0)
        return pm_error_set(err, PM_EINVAL, "review: purpose '%.64s' is not in the agreement",
                            r->purpose ? r->purpose : "");
    if ((rc = pm_jobs_migrate(ctx->store, err))) return rc;
    const char *partner = r->partner ? r->partner : "";
    char use[PM_SEAL_CONTEXT_MAX + 1];
    pm__jobs_evidence_use(use, r->txn, partner, r->purpose, r->subject_ref);
    pm_buf_t ev_col = {0}; /* the evidence as stored: sealed text under a data key */
    pm_buf_t act_col = {0}; /* the proposed action, sealed the same way */
    char act_use[PM_SEAL_CONTEXT_MAX + 1];
    pm__jobs_review_text_use(act_use, "review-action", r->txn, partner, r->purpose,
                             r->subject_ref);
    if ((rc = pm__jobs_seal_text(ctx->store, use, r->evidence, &ev_col, err)) ||
        (rc = pm__jobs_seal_text(ctx->store, act_use, r->action, &act_col, err))) {
        pm_buf_free(&ev_col);
        pm_buf_free(&act_col);
        return rc;
    }
    pm_stmt_t *q = NULL;
    /* idempotent on (txn, partner, purpose, subject): a query re-sent (vet
     * resume, re-run after a crash between the answer and the journal) finds
     * the item already queued. Typed casts: PostgreSQL cannot infer the
     * types of a SELECT list's parameters. */
    rc = pm_stmt_prepare(ctx->store,
                         "INSERT INTO jobs_review (txn, partner, purpose, subject_ref, score, "
                         "action, evidence, received_id, created_at, logged) SELECT "
                         "CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), "
                         "CAST(? AS DOUBLE PRECISION), CAST(? AS TEXT), CAST(? AS TEXT), "
                         "CAST(? AS BIGINT), CAST(? AS BIGINT), 2 WHERE NOT EXISTS (SELECT 1 FROM "
                         "jobs_review WHERE txn = ? AND partner = ? AND purpose = ? AND "
                         "subject_ref = ?) RETURNING id",
                         &q, err);
    if (rc) {
        pm_buf_free(&ev_col);
        pm_buf_free(&act_col);
        return rc;
    }
    pm_stmt_bind_text(q, 1, r->txn);
    pm_stmt_bind_text(q, 2, partner);
    pm_stmt_bind_text(q, 3, r->purpose);
    pm_stmt_bind_text(q, 4, r->subject_ref);
    pm__jobs_bind_double(q, 5, r->score);
    pm_stmt_bind_text(q, 6, act_col.len ? (const char *)act_col.data : "");
    pm_stmt_bind_text(q, 7, ev_col.len ? (const char *)ev_col.data : "");
    pm_stmt_bind_int64(q, 8, r->received_id);
    pm_stmt_bind_int64(q, 9, now);
    pm_stmt_bind_text(q, 10, r->txn);
    pm_stmt_bind_text(q, 11, partner);
    pm_stmt_bind_text(q, 12, r->purpose);
    pm_stmt_bind_text(q, 13, r->subject_ref);
    int64_t id = 0;
    int step = pm__jobs_run(q, &id, err);
    pm_buf_free(&ev_col);
    pm_buf_free(&act_col);
    if (step < 0) return step;
    if (step == 0) { /* already queued: its id; its entry only if a crash kept it out */
        rc = pm_stmt_prepare(ctx->store,
                             "SELECT id, logged, created_at FROM jobs_review WHERE txn = ? AND "
                             "partner = ? AND purpose = ? AND subject_ref = ? ORDER BY id LIMIT 1",
                             &q, err);
        if (rc) return rc;
        pm_stmt_bind_text(q, 1, r->txn);
        pm_stmt_bind_text(q, 2, partner);
        pm_stmt_bind_text(q, 3, r->purpose);
        pm_stmt_bind_text(q, 4, r->subject_ref);
        step = pm_stmt_step(q, err);
        int64_t old = step == 1 ? pm_stmt_int64(q, 0) : 0;
        int64_t owed = step == 1 ? pm_stmt_int64(q, 1) : 0;
        int64_t at = step == 1 ? pm_stmt_int64(q, 2) : 0;
        pm_stmt_finish(q);
        if (step < 0) return step;
        if (step == 0) return pm_error_set(err, PM_EDB, "review: queued item not found");
        if (owed == 2 &&
            ((rc = log_queued(ctx->store, ctx->log, ctx->actor, r->txn, partner, r->purpose,
                              r->action, r->score, old, at, 0, err)) ||
             (rc = mark_logged(ctx->store, old, err))))
            return rc;
        if (out_id) *out_id = old;
        return PM_OK;
    }
    if (out_id) *out_id = id;
    if ((rc = log_queued(ctx->store, ctx->log, ctx->actor, r->txn, partner, r->purpose, r->action,
                         r->score, id, now, 0, err)))
        return rc; /* queued, owed to the log: a re-send or the next start writes it */
    return mark_logged(ctx->store, id, err);
}

#define REVIEW_COLUMNS                                                                             \
    "id, txn, partner, purpose, subject_ref, score, action, evidence, received_id, created_at, "   \
    "status, officer, decided_at, why"

static int read_item(pm_store_t *store, pm_stmt_t *q, pm_review_item_t *r, pm_error_t *err)
{
    memset(r, 0, sizeof *r);
    char st[16];
    r->id = pm_stmt_int64(q, 0);
    pm__jobs_col(q, 1, r->txn, sizeof r->txn);
    pm__jobs_col(q, 2, r->partner, sizeof r->partner);
    pm__jobs_col(q, 3, r->purpose, sizeof r->purpose);
    pm__jobs_col(q, 4, r->subject_ref, sizeof r->subject_ref);
    r->score = pm__jobs_double(q, 5);
    pm__jobs_col(q, 6, r->action, sizeof r->action);
    pm__jobs_col(q, 7, r->evidence, sizeof r->evidence);
    r->received_id = pm_stmt_int64(q, 8);
    r->created_at = pm_stmt_int64(q, 9);
    pm__jobs_col(q, 10, st, sizeof st);
    r->status = strcmp(st, "confirmed") == 0  ? PM_REVIEW_CONFIRMED
                : strcmp(st, "rejected") == 0 ? PM_REVIEW_REJECTED
                                              : PM_REVIEW_PENDING;
    pm__jobs_col(q, 11, r->officer, sizeof r->officer);
    r->decided_at = pm_stmt_int64(q, 12);
    pm__jobs_col(q, 13, r->why, sizeof r->why);
    char use[PM_SEAL_CONTEXT_MAX + 1];
    pm__jobs_evidence_use(use, r->txn, r->partner, r->purpose, r->subject_ref);
    int rc = pm__jobs_open_text(store, use, pm_stmt_text(q, 7), r->evidence, sizeof r->evidence,
                                err);
    if (rc) {
        pm_error_prefix(err, "review item %lld: evidence", (long long)r->id);
        return rc;
    }
    pm__jobs_review_text_use(use, "review-action", r->txn, r->partner, r->purpose,
                             r->subject_ref);
    if ((rc = pm__jobs_open_text(store, use, pm_stmt_text(q, 6), r->action, sizeof r->action,
                                 err))) {
        pm_error_prefix(err, "review item %lld: action", (long long)r->id);
        return rc;
    }
    pm__jobs_review_text_use(use, "review-why", r->txn, r->partner, r->purpose, r->subject_ref);
    if ((rc = pm__jobs_open_text(store, use, pm_stmt_text(q, 13), r->why, sizeof r->why, err)))
        pm_error_prefix(err, "review item %lld: reason", (long long)r->id);
    return rc;
}

int pm_review_get(pm_store_t *st, int64_t id, pm_review_item_t *out, pm_error_t *err)
{
    if (!out) return pm_error_set(err, PM_EINVAL, "review: NULL argument");
    int rc = pm_jobs_migrate(st, err);
    if (rc) return rc;
    pm_stmt_t *q = NULL;
    rc = pm_stmt_prepare(st, "SELECT " REVIEW_COLUMNS " FROM jobs_review WHERE id = ?", &q, err);
    if (rc) return rc;
    pm_stmt_bind_int64(q, 1, id);
    int step = pm_stmt_step(q, err);
    if (step == 1)
        rc = read_item(st, q, out, err);
    else if (step == 0)
        rc = pm_error_set(err, PM_ENOTFOUND, "no review item %lld", (long long)id);
    else
        rc = step;
    pm_stmt_finish(q);
    return rc;
}

int pm_review_list(pm_store_t *st, int status, pm_review_item_t **out, size_t *out_n,
                   pm_error_t *err)
{
    if (!out || !out_n) return pm_error_set(err, PM_EINVAL, "review: NULL argument");
    *out = NULL;
    *out_n = 0;
    if (status < -1 || status > PM_REVIEW_REJECTED)
        return pm_error_set(err, PM_EINVAL, "review: unknown status %d", status);
    int rc = pm_jobs_migrate(st, err);
    if (rc) return rc;
    pm_stmt_t *q = NULL;
    rc = pm_stmt_prepare(st,
                         status < 0 ? "SELECT " REVIEW_COLUMNS " FROM jobs_review ORDER BY id"
                                    : "SELECT " REVIEW_COLUMNS
                                      " FROM jobs_review WHERE status = ? ORDER BY id",
                         &q, err);
    if (rc) return rc;
    if (status >= 0) pm_stmt_bind_text(q, 1, status_names[status]);
    size_t cap = 0;
    int step;
    while ((step = pm_stmt_step(q, err)) == 1) {
        if (*out_n == cap) {
            cap = cap ? cap * 2 : 16;
            pm_review_item_t *n = realloc(*out, cap * sizeof *n);
            if (!n) {
                rc = pm_error_set(err, PM_ENOMEM, "out of memory");
                break;
            }
            *out = n;
        }
        if ((rc = read_item(st, q, &(*out)[(*out_n)++], err))) break;
    }
    if (!rc && step < 0) rc = step;
    pm_stmt_finish(q);
    if (rc) {
        free(*out);
        *out = NULL;
        *out_n = 0;
    }
    return rc;
}

/* The R14 entry of a decision (kind review, actor the officer, the item as
 * its record id): appended and synced. */
static int log_decision(pm_store_t *st, pm_audit_log_t *log, const pm_review_item_t *it,
                        int64_t id, int confirm, const char *officer, const char *why,
                        int64_t when, pm_error_t *err)
{
    char detail[PM_AUDIT_STR_MAX + 1];
    if (sealing(st)) /* the reason is sealed in the item; the log names the item */
        snprintf(detail, sizeof detail, "%s", confirm ? "match confirmed" : "match rejected");
    else
        snprintf(detail, sizeof detail, "%s: %.200s",
                 confirm ? "match confirmed" : "match rejected", why);
    return log_entry(log, officer, it->partner, it->purpose, it->txn, id, when, detail, err);
}

/* The decision's entry is in the log: nothing is owed any more. */
static int mark_logged(pm_store_t *st, int64_t id, pm_error_t *err)
{
    pm_stmt_t *q = NULL;
    int rc = pm_stmt_prepare(st, "UPDATE jobs_review SET logged = 1 WHERE id = ?", &q, err);
    if (rc) return rc;
    pm_stmt_bind_int64(q, 1, id);
    int step = pm_stmt_step(q, err);
    pm_stmt_finish(q);
    return step < 0 ? step : PM_OK;
}

int pm_review_decide(const pm_jobs_ctx_t *ctx, int64_t id, int confirm, const char *officer,
                     const char *why, int64_t now, pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if (!text_ok(officer, PM_JOBS_REF_MAX, 1) || !text_ok(why, PM_JOBS_TEXT_MAX, 1))
        return pm_error_set(err, PM_EINVAL,
                            "review: a decision needs the officer (1-127 bytes) and the reason "
                            "(1-256 bytes)");
    pm_review_item_t it;
    rc = pm_review_get(ctx->store, id, &it, err);
    if (rc) return rc;
    if (it.status != PM_REVIEW_PENDING)
        return pm_error_set(err, PM_ESTATE, "review item %lld was already %s by %s at %lld",
                            (long long)id, pm_review_status_name(it.status), it.officer,
                            (long long)it.decided_at);
    char use[PM_SEAL_CONTEXT_MAX + 1];
    pm__jobs_review_text_use(use, "review-why", it.txn, it.partner, it.purpose, it.subject_ref);
    pm_buf_t why_col = {0}; /* the officer's reason, sealed under a data key */
    if ((rc = pm__jobs_seal_text(ctx->store, use, why, &why_col, err))) {
        pm_buf_free(&why_col);
        return rc;
    }
    pm_stmt_t *q = NULL;
    rc = pm_stmt_prepare(ctx->store,
                         "UPDATE jobs_review SET status = ?, officer = ?, decided_at = ?, "
                         "why = ?, logged = 0 WHERE id = ? AND status = 'pending'",
                         &q, err);
    if (rc) {
        pm_buf_free(&why_col);
        return rc;
    }
    pm_stmt_bind_text(q, 1, confirm ? "confirmed" : "rejected");
    pm_stmt_bind_text(q, 2, officer);
    pm_stmt_bind_int64(q, 3, now);
    pm_stmt_bind_text(q, 4, why_col.len ? (const char *)why_col.data : "");
    pm_stmt_bind_int64(q, 5, id);
    int step = pm_stmt_step(q, err);
    int64_t changed = step == 0 ? pm_stmt_changes(q) : 0;
    pm_stmt_finish(q);
    pm_buf_free(&why_col);
    if (step < 0) return step;
    if (changed != 1)
        return pm_error_set(err, PM_ESTATE, "review item %lld was decided meanwhile",
                            (long long)id);
    if ((rc = log_decision(ctx->store, ctx->log, &it, id, confirm, officer, why, now, err)))
        return rc; /* stored, owed to the log: pm_review_recover appends it at the next start */
    return mark_logged(ctx->store, id, err);
}

/* Every decision whose R14 entry was not written (a crash between the
 * store's update and the log's append) gets it now, exactly once: the log
 * is read first and an item it already names is only marked. */
typedef struct owed {
    int64_t *ids;
    int *what;      /* 0 the decision's entry is owed, 2 the "queued" one */
    uint8_t *found;
    size_t n;
} owed_t;

static int owed_seen(void *ctx, const pm_audit_entry_t *e)
{
    owed_t *o = ctx;
    if (strcmp(e->kind, "review") != 0 || e->n_record_ids != 1)
        return 0;
    int decision = strncmp(e->detail, "match confirmed", 15) == 0 ||
                   strncmp(e->detail, "match rejected", 14) == 0;
    int queued = strncmp(e->detail, "queued for human review", 23) == 0;
    long long id = 0;
    char tail;
    if ((!decision && !queued) || sscanf(e->record_ids[0], "review:%lld%c", &id, &tail) != 1)
        return 0;
    for (size_t i = 0; i < o->n; i++)
        if (o->ids[i] == id && (o->what[i] == 2 ? queued : decision))
            o->found[i] = 1;
    return 0;
}

int pm_review_recover(pm_store_t *st, pm_audit_log_t *log, const char *actor,
                      uint64_t *out_logged, pm_error_t *err)
{
    if (!st || !log || !actor) return pm_error_set(err, PM_EINVAL, "review recover: NULL argument");
    if (out_logged) *out_logged = 0;
    int rc = pm_jobs_migrate(st, err);
    if (rc) return rc;
    owed_t o = {0};
    size_t cap = 0;
    pm_stmt_t *q = NULL;
    rc = pm_stmt_prepare(st, "SELECT id, logged FROM jobs_review WHERE logged <> 1 ORDER BY id",
                         &q, err);
    if (rc) return rc;
    int step;
    while ((step = pm_stmt_step(q, err)) == 1) {
        if (o.n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            int64_t *ni = realloc(o.ids, nc * sizeof *ni);
            if (ni) o.ids = ni;
            int *nw = ni ? realloc(o.what, nc * sizeof *nw) : NULL;
            if (nw) o.what = nw;
            if (!ni || !nw) {
                step = pm_error_set(err, PM_ENOMEM, "out of memory");
                break;
            }
            cap = nc;
        }
        o.ids[o.n] = pm_stmt_int64(q, 0);
        o.what[o.n++] = pm_stmt_int64(q, 1) == 2 ? 2 : 0;
    }
    pm_stmt_finish(q);
    if (step < 0 || !o.n) {
        free(o.ids);
        free(o.what);
        return step < 0 ? step : PM_OK;
    }
    o.found = calloc(o.n, 1);
    rc = o.found ? pm_audit_read(pm_audit_path(log), owed_seen, &o, err)
                 : pm_error_set(err, PM_ENOMEM, "out of memory");
    for (size_t i = 0; i < o.n && !rc; i++) {
        if (!o.found[i]) {
            pm_review_item_t it;
            rc = pm_review_get(st, o.ids[i], &it, err);
            if (!rc && o.what[i] == 2)
                rc = log_queued(st, log, actor, it.txn, it.partner, it.purpose, it.action,
                                it.score, o.ids[i], it.created_at, 1, err);
            else if (!rc && it.status == PM_REVIEW_PENDING)
                rc = pm_error_set(err, PM_ECORRUPT, "review item %lld: owed to the log but pending",
                                  (long long)o.ids[i]);
            else if (!rc)
                rc = log_decision(st, log, &it, o.ids[i], it.status == PM_REVIEW_CONFIRMED,
                                  it.officer, it.why, it.decided_at, err);
            if (!rc && out_logged) (*out_logged)++;
        }
        if (!rc) rc = mark_logged(st, o.ids[i], err);
    }
    free(o.ids);
    free(o.what);
    free(o.found);
    return rc;
}

int pm_review_adverse_action(const pm_jobs_ctx_t *ctx, int64_t id, int64_t now, pm_decision_t *out,
                             pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    pm_decision_t d;
    if (!out) out = &d;
    pm_review_item_t it;
    rc = pm_review_get(ctx->store, id, &it, err);
    if (rc) return rc;
    pm_policy_adverse_action(ctx->agreement, it.status == PM_REVIEW_CONFIRMED, out);
    if (it.status == PM_REVIEW_REJECTED) { /* a rejected match never supports adverse action */
        out->allow = 0;
        out->rule = 14;
        snprintf(out->reason, sizeof out->reason, "the reviewing officer %.60s rejected the match",
                 it.officer);
    }
    if (out->allow) return PM_OK;
    char ref[48], detail[PM_AUDIT_STR_MAX + 1];
    snprintf(ref, sizeof ref, "review:%lld", (long long)id);
    snprintf(detail, sizeof detail, "adverse action refused: %.200s", out->reason);
    const char *recs[1] = {ref};
    pm_audit_event_t ev = {.time = now,
                           .kind = "refusal",
                           .actor = ctx->actor,
                           .partner = it.partner,
                           .purpose = it.purpose,
                           .rule = "R14",
                           .record_ids = recs,
                           .n_record_ids = 1,
                           .txn = it.txn,
                           .detail = detail};
    rc = pm__jobs_log(ctx, &ev, err);
    if (rc) return rc;
    return pm_error_set(err, PM_EDENIED, "R%d: %s (review item %lld is %s)", out->rule, out->reason,
                        (long long)id, pm_review_status_name(it.status));
}
