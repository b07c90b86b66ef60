/* Retention purge (R9) and destruction of received data found irrelevant
 * (R7), each batch leaving a tombstone in the disclosure log.
 *
 * Crash safety: a batch's rows are deleted in one store transaction together
 * with a pending tombstone row (jobs_tombstone); after the commit the
 * tombstone is appended to the log and synced, then the pending row is
 * deleted. A crash before the commit loses nothing (the rows are still
 * there, the next run takes them); a crash after it leaves the pending row,
 * which the next run logs unless the log already holds its txn. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs_internal.h"
#include "perimeter/travel.h"

int pm__jobs_tomb_pending(pm_store_t *st, const char *txn, const char *rule, const char *detail,
                          const char *const *records, size_t n, int64_t now, pm_error_t *err)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(records[i]));
    char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (!s) return pm_error_set(err, PM_ENOMEM, "tombstone: out of memory");
    pm_stmt_t *q = NULL;
    int rc = pm_stmt_prepare(st,
                             "INSERT INTO jobs_tombstone (txn, rule, detail, records, created_at) "
                             "VALUES (?, ?, ?, ?, ?)",
                             &q, err);
    if (rc) {
        free(s);
        return rc;
    }
    pm_stmt_bind_text(q, 1, txn);
    pm_stmt_bind_text(q, 2, rule);
    pm_stmt_bind_text(q, 3, detail);
    pm_stmt_bind_text(q, 4, s);
    pm_stmt_bind_int64(q, 5, now);
    int step = pm__jobs_run(q, NULL, err);
    free(s);
    return step < 0 ? step : PM_OK;
}

/* Appends the pending tombstone `txn` (unless `check` finds it logged
 * already) and deletes the pending row. *out_logged += 1 if appended. */
static int tomb_flush(const pm_jobs_ctx_t *ctx, const char *txn, int check, uint64_t *out_logged,
                      pm_error_t *err)
{
    pm_stmt_t *q = NULL;
    int rc = pm_stmt_prepare(ctx->store,
                             "SELECT rule, detail, records, created_at FROM jobs_tombstone "
                             "WHERE txn = ?",
                             &q, err);
    if (rc) return rc;
    pm_stmt_bind_text(q, 1, txn);
    int step = pm_stmt_step(q, err);
    if (step != 1) {
        pm_stmt_finish(q);
        return step < 0 ? step : PM_OK;
    }
    char rule[16], detail[PM_AUDIT_STR_MAX + 1];
    pm__jobs_col(q, 0, rule, sizeof rule);
    pm__jobs_col(q, 1, detail, sizeof detail);
    const char *rtext = pm_stmt_text(q, 2);
    json_t *recs = json_loads(rtext ? rtext : "", 0, NULL);
    int64_t at = pm_stmt_int64(q, 3);
    pm_stmt_finish(q);
    size_t n = json_array_size(recs);
    if (!json_is_array(recs) || n > PM_AUDIT_MAX_RECORDS) {
        json_decref(recs);
        return pm_error_set(err, PM_ECORRUPT, "tombstone %s: bad record list", txn);
    }
    const char **ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) {
        json_decref(recs);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        ids[i] = json_string_value(json_array_get(recs, i));
    uint64_t seq = 0;
    if (check) rc = pm_audit_find_txn(pm_audit_path(ctx->log), "purge", txn, &seq, err);
    if (!rc && !seq) {
        pm_audit_event_t ev = {.time = at,
                               .kind = "purge",
                               .actor = ctx->actor,
                               .rule = rule,
                               .record_ids = ids,
                               .n_record_ids = n,
                               .txn = txn,
                               .detail = detail};
        rc = pm__jobs_log(ctx, &ev, err);
        if (!rc) (*out_logged)++;
    }
    free(ids);
    json_decref(recs);
    if (rc) return rc;
    rc = pm_stmt_prepare(ctx->store, "DELETE FROM jobs_tombstone WHERE txn = ?", &q, err);
    if (rc) return rc;
    pm_stmt_bind_text(q, 1, txn);
    step = pm__jobs_run(q, NULL, err);
    return step < 0 ? step : PM_OK;
}

int pm__jobs_tomb_log(const pm_jobs_ctx_t *ctx, const char *txn, pm_error_t *err)
{
    uint64_t n = 0;
    return tomb_flush(ctx, txn, 0, &n, err);
}

int pm__jobs_tomb_recover(const pm_jobs_ctx_t *ctx, uint64_t *out_logged, pm_error_t *err)
{
    int rc = pm_jobs_migrate(ctx->store, err);
    if (rc) return rc;
    for (;;) {
        pm_stmt_t *q = NULL;
        /* oldest first (SQLite took rowid order: the order they were written) */
        rc = pm_stmt_prepare(ctx->store,
                             "SELECT txn FROM jobs_tombstone ORDER BY created_at, txn LIMIT 1",
                             &q, err);
        if (rc) return rc;
        int step = pm_stmt_step(q, err);
        char txn[PM_JOBS_REF_MAX];
        if (step == 1) pm__jobs_col(q, 0, txn, sizeof txn);
        pm_stmt_finish(q);
        if (step == 0) return PM_OK;
        if (step < 0) return step;
        rc = tomb_flush(ctx, txn, 1, out_logged, err);
        if (rc) return rc;
    }
}

/* One batch of expired crossings: deleted with a pending tombstone. *out_n = rows. */
static int purge_crossing_batch(const pm_jobs_ctx_t *ctx, int64_t now, size_t batch, int64_t *after,
                                size_t *out_n, char txn[PM_JOBS_REF_MAX], pm_error_t *err)
{
    const pm_agreement_t *a = ctx->agreement;
    *out_n = 0;
    int64_t cutoff = now - a->retention_s[PM_RC_CROSSING]; /* created <= cutoff: expired */
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_STORE_ID;
    f.after_store_id = *after;
    f.has_time_to = 1;
    f.time_to = cutoff + 1;
    f.limit = (int64_t)batch;
    int64_t *ids = malloc(batch * sizeof *ids);
    char(*refs)[PM_JOBS_REF_MAX] = malloc(batch * sizeof *refs);
    const char **rp = malloc(batch * sizeof *rp);
    pm_crossing_t *c = malloc(sizeof *c);
    pm_buf_t line;
    pm_buf_init(&line, 0);
    int rc = ids && refs && rp && c ? PM_OK : pm_error_set(err, PM_ENOMEM, "out of memory");
    rc = rc ? rc : pm_store_begin(ctx->store, err);
    int in_tx = rc == PM_OK;
    pm_crossing_iter_t *it = NULL;
    rc = rc ? rc : pm_store_crossings(ctx->store, &f, &it, err);
    crypto_hash_sha256_state hs;
    crypto_hash_sha256_init(&hs);
    size_t n = 0;
    while (!rc && n < batch) {
        int got = pm_crossing_iter_next(it, c, err);
        if (got < 0) rc = got;
        if (got <= 0) break;
        *after = c->store_id;
        pm_decision_t d;
        pm_policy_keep_record(a, PM_RC_CROSSING, c->time_utc, 0, now, &d);
        if (d.allow) continue; /* the policy keeps it: never deleted */
        ids[n] = c->store_id;
        snprintf(refs[n], PM_JOBS_REF_MAX, "%s:%s", c->reporting_country, c->record_id);
        rp[n] = refs[n];
        pm_buf_reset(&line);
        if (pm_crossing_to_jsonl(c, c->store_id, &line) == PM_OK)
            crypto_hash_sha256_update(&hs, line.data, line.len);
        n++;
    }
    pm_crossing_iter_close(it);
    if (!rc && n) {
        uint64_t deleted = 0;
        unsigned char h[32];
        char hex[65], detail[PM_AUDIT_STR_MAX + 1];
        crypto_hash_sha256_final(&hs, h);
        sodium_bin2hex(hex, sizeof hex, h, sizeof h);
        pm__jobs_txn("purge", now, txn);
        snprintf(detail, sizeof detail,
                 "class crossing; retention %lld days; cutoff %lld; rows %zu; sha256 %s",
                 (long long)(a->retention_s[PM_RC_CROSSING] / 86400), (long long)cutoff, n, hex);
        rc = pm_store_delete_crossings(ctx->store, ids, n, &deleted, err);
        if (!rc && deleted != n)
            rc = pm_error_set(err, PM_ESTATE, "purge: %llu of %zu crossings deleted",
                              (unsigned long long)deleted, n);
        rc = rc ? rc
                : pm__jobs_tomb_pending(ctx->store, txn, "R9", detail, rp, n, now, err);
    }
    if (in_tx) {
        if (rc)
            pm_store_rollback(ctx->store, NULL);
        else if ((rc = pm_store_commit(ctx->store, err)))
            pm_store_rollback(ctx->store, NULL);
    }
    if (!rc) *out_n = n;
    /* the scan saw fewer rows than asked: nothing expired is left after *after */
    if (!rc && f.limit && n == 0) *after = INT64_MAX;
    free(ids);
    free(refs);
    free(rp);
    free(c);
    pm_buf_free(&line);
    return rc;
}

/* One batch of received records: expired in class cls (R9), or found
 * irrelevant (cls = PM_RC_COUNT, R7). */
static int purge_received_batch(const pm_jobs_ctx_t *ctx, pm_record_class_t cls, int64_t now,
                                size_t batch, size_t *out_n, uint64_t *out_overdue,
                                char txn[PM_JOBS_REF_MAX], pm_error_t *err)
{
    const pm_agreement_t *a = ctx->agreement;
    int r7 = cls == PM_RC_COUNT;
    int64_t cutoff = r7 ? 0 : now - a->retention_s[cls];
    *out_n = 0;
    int rc = pm_store_begin(ctx->store, err);
    if (rc) return rc;
    pm_stmt_t *q = NULL;
    rc = pm_stmt_prepare(ctx->store,
                         r7 ? "SELECT id, sha256, class, received_at, irrelevant_since FROM "
                              "jobs_received WHERE irrelevant_since > 0 ORDER BY id LIMIT ?"
                            : "SELECT id, sha256, class, received_at, irrelevant_since FROM "
                              "jobs_received WHERE class = ? AND received_at <= ? "
                              "ORDER BY id LIMIT ?",
                         &q, err);
    if (rc) {
        pm_store_rollback(ctx->store, NULL);
        return rc;
    }
    if (r7) {
        pm_stmt_bind_int64(q, 1, (int64_t)batch);
    } else {
        pm_stmt_bind_text(q, 1, pm_record_class_name(cls));
        pm_stmt_bind_int64(q, 2, cutoff);
        pm_stmt_bind_int64(q, 3, (int64_t)batch);
    }
    int64_t *ids = malloc(batch * sizeof *ids);
    char(*refs)[PM_JOBS_REF_MAX] = malloc(batch * sizeof *refs);
    const char **rp = malloc(batch * sizeof *rp);
    if (!ids || !refs || !rp) rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    crypto_hash_sha256_state hs;
    crypto_hash_sha256_init(&hs);
    size_t n = 0;
    uint64_t overdue = 0;
    int step = 0;
    while (!rc && n < batch && (step = pm_stmt_step(q, err)) == 1) {
        char sha[65], cname[32];
        int64_t id = pm_stmt_int64(q, 0);
        pm__jobs_col(q, 1, sha, sizeof sha);
        pm__jobs_col(q, 2, cname, sizeof cname);
        pm_record_class_t rc_cls =
            strcmp(cname, "match_result") == 0 ? PM_RC_MATCH_RESULT : PM_RC_RECEIVED_BIOGRAPHIC;
        int64_t irr = pm_stmt_int64(q, 4);
        pm_decision_t d;
        pm_policy_keep_record(a, rc_cls, pm_stmt_int64(q, 3), irr, now, &d);
        if (!r7 && d.allow) continue; /* the policy keeps it */
        if (r7 && !d.allow && d.rule == 7) overdue++;
        ids[n] = id;
        snprintf(refs[n], PM_JOBS_REF_MAX, "received:%lld sha256:%s", (long long)id, sha);
        rp[n] = refs[n];
        crypto_hash_sha256_update(&hs, (const unsigned char *)sha, strlen(sha));
        n++;
    }
    if (!rc && step < 0) rc = step;
    pm_stmt_finish(q);
    q = NULL;
    if (!rc && n) {
        rc = pm_stmt_prepare(ctx->store, "DELETE FROM jobs_received WHERE id = ?", &q, err);
        for (size_t i = 0; !rc && i < n; i++) {
            pm_stmt_bind_int64(q, 1, ids[i]);
            int s = pm_stmt_step(q, err);
            if (s < 0) rc = s;
            pm_stmt_reset(q);
        }
        pm_stmt_finish(q);
        unsigned char h[32];
        char hex[65], detail[PM_AUDIT_STR_MAX + 1];
        crypto_hash_sha256_final(&hs, h);
        sodium_bin2hex(hex, sizeof hex, h, sizeof h);
        pm__jobs_txn(r7 ? "destroy" : "purge", now, txn);
        if (r7)
            snprintf(detail, sizeof detail,
                     "received data found irrelevant; deadline %lld days; rows %zu (overdue "
                     "%llu); sha256 %s",
                     (long long)(a->irrelevant_destruction_s / 86400), n,
                     (unsigned long long)overdue, hex);
        else
            snprintf(detail, sizeof detail,
                     "class %s; retention %lld days; cutoff %lld; rows %zu; sha256 %s",
                     pm_record_class_name(cls), (long long)(a->retention_s[cls] / 86400),
                     (long long)cutoff, n, hex);
        rc = rc ? rc : pm__jobs_tomb_pending(ctx->store, txn, r7 ? "R7" : "R9", detail, rp, n, now, err);
    }
    if (rc)
        pm_store_rollback(ctx->store, NULL);
    else if ((rc = pm_store_commit(ctx->store, err)))
        pm_store_rollback(ctx->store, NULL);
    if (!rc) {
        *out_n = n;
        if (out_overdue) *out_overdue += overdue;
    }
    free(ids);
    free(refs);
    free(rp);
    return rc;
}

int pm_jobs_purge(const pm_jobs_ctx_t *ctx, int64_t now, size_t batch, pm_purge_result_t *out,
                  pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if (!out) return pm_error_set(err, PM_EINVAL, "purge: NULL result");
    memset(out, 0, sizeof *out);
    if (batch == 0 || batch > PM_JOBS_BATCH_MAX) batch = PM_JOBS_BATCH_MAX;
    rc = pm__jobs_tomb_recover(ctx, &out->recovered, err);
    out->tombstones = out->recovered;
    if (rc) return rc;
    char txn[PM_JOBS_REF_MAX];
    int64_t after = 0;
    for (;;) {
        size_t n = 0;
        rc = purge_crossing_batch(ctx, now, batch, &after, &n, txn, err);
        if (rc) return rc;
        if (n) {
            if ((rc = pm__jobs_tomb_log(ctx, txn, err))) return rc;
            out->purged[PM_RC_CROSSING] += n;
            out->tombstones++;
        }
        if (after == INT64_MAX) break;
    }
    static const pm_record_class_t received[2] = {PM_RC_MATCH_RESULT, PM_RC_RECEIVED_BIOGRAPHIC};
    for (int k = 0; k < 2; k++) {
        for (;;) {
            size_t n = 0;
            rc = purge_received_batch(ctx, received[k], now, batch, &n, NULL, txn, err);
            if (rc) return rc;
            if (!n) break;
            if ((rc = pm__jobs_tomb_log(ctx, txn, err))) return rc;
            out->purged[received[k]] += n;
            out->tombstones++;
        }
    }
    return PM_OK;
}

int pm_jobs_destroy_irrelevant(const pm_jobs_ctx_t *ctx, int64_t now, pm_destroy_result_t *out,
                               pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if (!out) return pm_error_set(err, PM_EINVAL, "destroy: NULL result");
    memset(out, 0, sizeof *out);
    rc = pm__jobs_tomb_recover(ctx, &out->tombstones, err);
    if (rc) return rc;
    char txn[PM_JOBS_REF_MAX];
    for (;;) {
        size_t n = 0;
        rc = purge_received_batch(ctx, PM_RC_COUNT, now, PM_JOBS_BATCH_MAX, &n, &out->overdue, txn,
                                  err);
        if (rc) return rc;
        if (!n) return PM_OK;
        if ((rc = pm__jobs_tomb_log(ctx, txn, err))) return rc;
        out->destroyed += n;
        out->tombstones++;
    }
}
