/* R8: a corrected record goes to every partner it was sent or disclosed to,
 * and each must acknowledge it. The queue (jobs_correction) holds one row per
 * (correction, partner); the node sends and reports acknowledgements through
 * this API. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs_internal.h"
#include "perimeter/travel.h"

typedef struct partner_set {
    char code[PM_JOBS_MAX_PARTNERS][4];
    size_t n;
} partner_set_t;

static void set_add(partner_set_t *s, const char *code)
{
    if (!code || strlen(code) != 3) return;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->code[i], code) == 0) return;
    if (s->n < PM_JOBS_MAX_PARTNERS) memcpy(s->code[s->n++], code, 4);
}

static int cmp_code(const void *a, const void *b)
{
    return strcmp(a, b);
}

typedef struct scan_ctx {
    const char *ref, *bare;
    partner_set_t *set;
} scan_ctx_t;

static int scan_entry(void *ctx, const pm_audit_entry_t *e)
{
    scan_ctx_t *s = ctx;
    if (strcmp(e->kind, "disclosure") != 0 && strcmp(e->kind, "answer") != 0) return 0;
    for (size_t i = 0; i < e->n_record_ids; i++)
        if (strcmp(e->record_ids[i], s->ref) == 0 || strcmp(e->record_ids[i], s->bare) == 0) {
            set_add(s->set, e->partner);
            break;
        }
    return 0;
}

/* Whether the node's feed_push table is there (the jobs do not own it):
 * the one catalog query that differs per backend. */
static int table_exists(pm_store_t *st, const char *name, int *out, pm_error_t *err)
{
    int pg = strcmp(pm_store_backend(st), "postgres") == 0;
    pm_stmt_t *q = NULL;
    int rc = pm_stmt_prepare(st,
                             pg ? "SELECT 1 FROM information_schema.tables WHERE "
                                  "table_schema = current_schema() AND table_name = ?"
                                : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                             &q, err);
    if (rc) return rc;
    pm_stmt_bind_text(q, 1, name);
    int step = pm__jobs_run(q, NULL, err);
    if (step < 0) return step;
    *out = step == 1;
    return PM_OK;
}

static int recipients(const pm_jobs_ctx_t *ctx, const pm_crossing_t *c, partner_set_t *set,
                      pm_error_t *err)
{
    memset(set, 0, sizeof *set);
    /* the feed: our entries up to the cursor each partner acknowledged */
    int feed = 0, rc = PM_OK;
    if (!c->origin[0] && c->direction == PM_DIRECTION_ENTRY)
        rc = table_exists(ctx->store, "feed_push", &feed, err);
    if (rc) return rc;
    if (feed) {
        pm_stmt_t *q = NULL;
        rc = pm_stmt_prepare(ctx->store, "SELECT partner FROM feed_push WHERE acked >= ?", &q, err);
        if (rc) return rc;
        pm_stmt_bind_int64(q, 1, c->store_id);
        int step;
        while ((step = pm_stmt_step(q, err)) == 1)
            set_add(set, pm_stmt_text(q, 0));
        pm_stmt_finish(q);
        if (step < 0) return step;
    }
    /* the disclosure log: every answer or disclosure naming the record */
    char ref[PM_JOBS_REF_MAX];
    snprintf(ref, sizeof ref, "%s:%s", c->reporting_country, c->record_id);
    scan_ctx_t s = {ref, c->record_id, set};
    rc = pm_audit_sync(ctx->log, err);
    rc = rc ? rc : pm_audit_read(pm_audit_path(ctx->log), scan_entry, &s, err);
    if (rc == PM_ENOTFOUND) rc = PM_OK;
    if (rc) return rc;
    qsort(set->code, set->n, sizeof set->code[0], cmp_code);
    return PM_OK;
}

int pm_correction_recipients(const pm_jobs_ctx_t *ctx, const pm_crossing_t *c, char (*out)[4],
                             size_t max, size_t *out_n, pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if (!c || !out_n) return pm_error_set(err, PM_EINVAL, "correction: NULL argument");
    partner_set_t set;
    rc = recipients(ctx, c, &set, err);
    if (rc) return rc;
    for (size_t i = 0; i < set.n && i < max; i++)
        memcpy(out[i], set.code[i], 4);
    *out_n = set.n;
    return PM_OK;
}

static int text_ok(const char *s, size_t cap)
{
    return s && s[0] && strlen(s) < cap;
}

int pm_correction_crossing(const pm_jobs_ctx_t *ctx, const pm_crossing_t *corrected,
                           const char *reason, int64_t now, size_t *out_queued, pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if (out_queued) *out_queued = 0;
    if (!corrected || !text_ok(reason, PM_JOBS_TEXT_MAX))
        return pm_error_set(err, PM_EINVAL, "correction: the record and a reason are required");
    if ((rc = pm_jobs_migrate(ctx->store, err))) return rc;
    pm_crossing_t *c = malloc(2 * sizeof *c);
    if (!c) return pm_error_set(err, PM_ENOMEM, "out of memory");
    pm_crossing_t *stored = c + 1;
    *c = *corrected;
    c->origin[0] = '\0';
    pm_crossing_field_t fld = PM_CF_NONE;
    rc = pm_crossing_finish(c, &fld, err); /* R16: a correction is validated like any record */
    if (rc) goto out;
    /* the update finds the stored record by its key and keeps its store id */
    rc = pm_store_begin(ctx->store, err);
    if (rc) goto out;
    int64_t id = 0;
    rc = pm_store_update_crossing(ctx->store, c, &id, err);
    if (!rc) rc = pm_store_get_crossing(ctx->store, id, stored, err);
    if (!rc && stored->origin[0]) {
        rc = pm_error_set(err, PM_EDENIED,
                          "R8: %s %s was received from %s: only its source corrects it",
                          c->reporting_country, c->record_id, stored->origin);
    }
    partner_set_t set;
    if (!rc) rc = recipients(ctx, stored, &set, err);
    char txn[PM_JOBS_REF_MAX], ref[PM_JOBS_REF_MAX];
    pm_buf_t line;
    pm_buf_init(&line, 0);
    if (!rc) {
        pm__jobs_txn("correction", now, txn);
        snprintf(ref, sizeof ref, "%s:%s", stored->reporting_country, stored->record_id);
        if (pm_crossing_to_jsonl(stored, stored->store_id, &line))
            rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    pm_stmt_t *q = NULL;
    if (!rc && set.n)
        rc = pm_stmt_prepare(ctx->store,
                             "INSERT INTO jobs_correction (record, store_id, partner, txn, "
                             "payload, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             &q, err);
    for (size_t i = 0; !rc && i < set.n; i++) {
        pm_stmt_bind_text(q, 1, ref);
        pm_stmt_bind_int64(q, 2, stored->store_id);
        pm_stmt_bind_text(q, 3, set.code[i]);
        pm_stmt_bind_text(q, 4, txn);
        pm_stmt_bind_text(q, 5, (const char *)line.data);
        pm_stmt_bind_text(q, 6, reason);
        pm_stmt_bind_int64(q, 7, now);
        int step = pm_stmt_step(q, err);
        if (step < 0) rc = step;
        pm_stmt_reset(q);
    }
    pm_stmt_finish(q);
    pm_buf_free(&line);
    if (rc) {
        pm_store_rollback(ctx->store, NULL);
        goto out;
    }
    if ((rc = pm_store_commit(ctx->store, err))) {
        pm_store_rollback(ctx->store, NULL);
        goto out;
    }
    /* Logged after the commit: the queue row is the durable promise to send;
     * the log says it was queued, per partner. */
    for (size_t i = 0; !rc && i < set.n; i++) {
        const char *recs[1] = {ref};
        char detail[PM_AUDIT_STR_MAX + 1];
        snprintf(detail, sizeof detail, "correction queued: %.200s", reason);
        pm_audit_event_t ev = {.time = now,
                               .kind = "correction",
                               .actor = ctx->actor,
                               .partner = set.code[i],
                               .rule = "R8",
                               .record_ids = recs,
                               .n_record_ids = 1,
                               .txn = txn,
                               .detail = detail};
        rc = pm__jobs_log(ctx, &ev, err);
    }
    if (!rc && out_queued) *out_queued = set.n;
out:
    free(c);
    return rc;
}

#define CORR_COLUMNS                                                                               \
    "id, record, store_id, partner, txn, reason, created_at, attempts, last_sent_at, acked_at, "   \
    "ack_ref, payload"

static void read_corr(pm_stmt_t *q, pm_correction_t *c)
{
    memset(c, 0, sizeof *c);
    c->id = pm_stmt_int64(q, 0);
    pm__jobs_col(q, 1, c->record, sizeof c->record);
    c->store_id = pm_stmt_int64(q, 2);
    pm__jobs_col(q, 3, c->partner, sizeof c->partner);
    pm__jobs_col(q, 4, c->txn, sizeof c->txn);
    pm__jobs_col(q, 5, c->reason, sizeof c->reason);
    c->created_at = pm_stmt_int64(q, 6);
    c->attempts = (unsigned)pm_stmt_int64(q, 7);
    c->last_sent_at = pm_stmt_int64(q, 8);
    c->acked_at = pm_stmt_int64(q, 9);
    pm__jobs_col(q, 10, c->ack_ref, sizeof c->ack_ref);
}

int pm_corrections_pending(pm_store_t *st, const char *partner, pm_correction_t **out,
                           size_t *out_n, pm_error_t *err)
{
    if (!out || !out_n) return pm_error_set(err, PM_EINVAL, "correction: NULL argument");
    *out = NULL;
    *out_n = 0;
    int rc = pm_jobs_migrate(st, err);
    if (rc) return rc;
    pm_stmt_t *q = NULL;
    rc = pm_stmt_prepare(st,
                         partner ? "SELECT " CORR_COLUMNS " FROM jobs_correction WHERE "
                                   "acked_at = 0 AND partner = ? ORDER BY id"
                                 : "SELECT " CORR_COLUMNS " FROM jobs_correction WHERE "
                                   "acked_at = 0 ORDER BY id",
                         &q, err);
    if (rc) return rc;
    if (partner) pm_stmt_bind_text(q, 1, partner);
    size_t cap = 0;
    int step;
    while ((step = pm_stmt_step(q, err)) == 1) {
        if (*out_n == cap) {
            cap = cap ? cap * 2 : 16;
            pm_correction_t *n = realloc(*out, cap * sizeof *n);
            if (!n) {
                rc = pm_error_set(err, PM_ENOMEM, "out of memory");
                break;
            }
            *out = n;
        }
        read_corr(q, &(*out)[(*out_n)++]);
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

int pm_correction_get(pm_store_t *st, int64_t id, pm_correction_t *out, pm_buf_t *payload,
                      pm_error_t *err)
{
    if (!out) return pm_error_set(err, PM_EINVAL, "correction: NULL argument");
    int rc = pm_jobs_migrate(st, err);
    if (rc) return rc;
    pm_stmt_t *q = NULL;
    rc = pm_stmt_prepare(st, "SELECT " CORR_COLUMNS " FROM jobs_correction WHERE id = ?", &q, err);
    if (rc) return rc;
    pm_stmt_bind_int64(q, 1, id);
    int step = pm_stmt_step(q, err);
    if (step == 1) {
        read_corr(q, out);
        const char *p = pm_stmt_text(q, 11);
        if (payload && pm_buf_append(payload, p ? p : "", p ? strlen(p) : 0))
            rc = pm_error_set(err, PM_ELIMIT, "correction: payload too large for the buffer");
    } else if (step == 0) {
        rc = pm_error_set(err, PM_ENOTFOUND, "no correction %lld", (long long)id);
    } else {
        rc = step;
    }
    pm_stmt_finish(q);
    return rc;
}

int pm_correction_sent(const pm_jobs_ctx_t *ctx, int64_t id, int64_t now, pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if ((rc = pm_jobs_migrate(ctx->store, err))) return rc;
    pm_stmt_t *q = NULL;
    rc = pm_stmt_prepare(ctx->store,
                         "UPDATE jobs_correction SET attempts = attempts + 1, last_sent_at = ? "
                         "WHERE id = ?",
                         &q, err);
    if (rc) return rc;
    pm_stmt_bind_int64(q, 1, now);
    pm_stmt_bind_int64(q, 2, id);
    int step = pm_stmt_step(q, err);
    int64_t changed = step == 0 ? pm_stmt_changes(q) : 0;
    pm_stmt_finish(q);
    if (step < 0) return step;
    if (changed != 1)
        return pm_error_set(err, PM_ENOTFOUND, "no correction %lld", (long long)id);
    return PM_OK;
}

int pm_correction_acknowledged(const pm_jobs_ctx_t *ctx, int64_t id, const char *partner,
                               const char *ack_ref, int64_t now, pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if (!ack_ref) ack_ref = "";
    if (!partner || strlen(ack_ref) >= PM_JOBS_REF_MAX)
        return pm_error_set(err, PM_EINVAL, "correction: partner required, reference bounded");
    pm_correction_t c;
    rc = pm_correction_get(ctx->store, id, &c, NULL, err);
    if (rc) return rc;
    if (strcmp(c.partner, partner) != 0)
        return pm_error_set(err, PM_EDENIED,
                            "R8: correction %lld was sent to %s; %.8s cannot acknowledge it",
                            (long long)id, c.partner, partner);
    if (c.acked_at) return PM_OK; /* at-least-once delivery: a repeat changes nothing */
    pm_stmt_t *q = NULL;
    rc = pm_stmt_prepare(ctx->store,
                         "UPDATE jobs_correction SET acked_at = ?, ack_ref = ? WHERE id = ? "
                         "AND acked_at = 0",
                         &q, err);
    if (rc) return rc;
    pm_stmt_bind_int64(q, 1, now > 0 ? now : 1);
    pm_stmt_bind_text(q, 2, ack_ref);
    pm_stmt_bind_int64(q, 3, id);
    int step = pm__jobs_run(q, NULL, err);
    if (step < 0) return step;
    char detail[PM_AUDIT_STR_MAX + 1];
    snprintf(detail, sizeof detail, "acknowledged by %s%s%.120s after %lld s", partner,
             ack_ref[0] ? ", ref " : "", ack_ref, (long long)(now - c.created_at));
    const char *recs[1] = {c.record};
    pm_audit_event_t ev = {.time = now,
                           .kind = "correction",
                           .actor = ctx->actor,
                           .partner = partner,
                           .rule = "R8",
                           .record_ids = recs,
                           .n_record_ids = 1,
                           .txn = c.txn,
                           .detail = detail};
    return pm__jobs_log(ctx, &ev, err);
}

int pm_correction_status(pm_store_t *st, const char *record, pm_decision_t *out, pm_error_t *err)
{
    if (!record || !out) return pm_error_set(err, PM_EINVAL, "correction: NULL argument");
    int rc = pm_jobs_migrate(st, err);
    if (rc) return rc;
    pm_stmt_t *q = NULL;
    rc = pm_stmt_prepare(st,
                         "SELECT count(*), count(nullif(acked_at, 0)) FROM jobs_correction "
                         "WHERE txn = (SELECT txn FROM jobs_correction WHERE record = ? "
                         "ORDER BY id DESC LIMIT 1)",
                         &q, err);
    if (rc) return rc;
    pm_stmt_bind_text(q, 1, record);
    int step = pm_stmt_step(q, err);
    if (step < 0) {
        rc = step;
    } else if (step == 0) {
        rc = pm_error_set(err, PM_EDB, "correction: no count returned");
    } else {
        int64_t total = pm_stmt_int64(q, 0), acked = pm_stmt_int64(q, 1);
        if (total == 0)
            rc = pm_error_set(err, PM_ENOTFOUND, "no correction queued for %s", record);
        else
            pm_policy_correction((size_t)total, (size_t)acked, out);
    }
    pm_stmt_finish(q);
    return rc;
}

int pm_correction_apply_received(const pm_jobs_ctx_t *ctx, const pm_crossing_t *corrected,
                                 const char *partner_txn, int64_t now, pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if (!corrected || !partner_txn || strlen(partner_txn) >= PM_JOBS_REF_MAX)
        return pm_error_set(err, PM_EINVAL, "correction: record and partner txn required");
    const pm_agreement_t *a = ctx->agreement;
    const char *partner = strcmp(a->parties[0], ctx->ours) == 0 ? a->parties[1] : a->parties[0];
    if (strcmp(corrected->origin, partner) != 0)
        return pm_error_set(err, PM_EINVAL, "correction: the record's origin must be %s", partner);
    pm_crossing_t *c = malloc(2 * sizeof *c);
    if (!c) return pm_error_set(err, PM_ENOMEM, "out of memory");
    *c = *corrected;
    pm_crossing_field_t fld = PM_CF_NONE;
    rc = pm_crossing_finish(c, &fld, err);
    int64_t id = 0;
    if (!rc) rc = pm_store_begin(ctx->store, err);
    if (!rc) {
        rc = pm_store_update_crossing(ctx->store, c, &id, err);
        if (!rc) rc = pm_store_get_crossing(ctx->store, id, c + 1, err);
        if (!rc && strcmp(c[1].origin, partner) != 0)
            rc = pm_error_set(err, PM_EDENIED,
                              "R8: %s %s is not a record received from %s: a partner corrects "
                              "only its own records",
                              c->reporting_country, c->record_id, partner);
        if (rc)
            pm_store_rollback(ctx->store, NULL);
        else if ((rc = pm_store_commit(ctx->store, err)))
            pm_store_rollback(ctx->store, NULL);
    }
    if (!rc) {
        char ref[PM_JOBS_REF_MAX], detail[64];
        snprintf(ref, sizeof ref, "%s:%s", c->reporting_country, c->record_id);
        snprintf(detail, sizeof detail, "received from %s; applied", partner);
        const char *recs[1] = {ref};
        pm_audit_event_t ev = {.time = now,
                               .kind = "correction",
                               .actor = ctx->actor,
                               .partner = partner,
                               .rule = "R8",
                               .record_ids = recs,
                               .n_record_ids = 1,
                               .txn = partner_txn,
                               .detail = detail};
        rc = pm__jobs_log(ctx, &ev, err);
    }
    free(c);
    return rc;
}
