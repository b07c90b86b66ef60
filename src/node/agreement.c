/* The agreement as the node applies it: quota counters kept in the store
 * (R13, one row per partner, decided and counted in one transaction), the
 * disclosure log (R10) every query, answer, disclosure and refusal goes to,
 * and the refusal answer that names the rule. The decisions themselves are
 * the policy library's (pm_policy_*); nothing here decides a rule. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "node/server_impl.h"
#include "perimeter/audit.h"
#include "perimeter/policy.h"

int pm__quota_decide(pm_store_t *st, const char *partner, const pm_agreement_t *a,
                     const pm_query_facts_t *q, int biometric, int64_t now, pm_decision_t *out,
                     pm_error_t *err)
{
    sqlite3 *db = pm_store_sqlite_handle(st);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return pm_error_set(err, PM_EDB, "quota: %s", sqlite3_errmsg(db));
    pm_quota_counter_t qc;
    memset(&qc, 0, sizeof qc);
    sqlite3_stmt *s = NULL;
    int rc = PM_OK;
    if (sqlite3_prepare_v2(db,
                           "SELECT period_start, biometric, biographic FROM quota WHERE partner = ?1",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = pm_error_set(err, PM_EDB, "quota: %s", sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_text(s, 1, partner, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        qc.period_start = sqlite3_column_int64(s, 0);
        qc.biometric = (uint64_t)sqlite3_column_int64(s, 1);
        qc.biographic = (uint64_t)sqlite3_column_int64(s, 2);
    } else if (r != SQLITE_DONE) {
        rc = pm_error_set(err, PM_EDB, "quota: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc)
        goto done;
    rc = biometric ? pm_policy_biometric_query(a, q, &qc, now, out)
                   : pm_policy_biographic_query(a, q, &qc, now, out);
    if (rc) {
        pm_error_set(err, rc, "quota: policy call failed");
        goto done;
    }
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO quota (partner, period_start, biometric, biographic) "
                           "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (partner) DO UPDATE SET "
                           "period_start = ?2, biometric = ?3, biographic = ?4",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = pm_error_set(err, PM_EDB, "quota: %s", sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_text(s, 1, partner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, qc.period_start);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)qc.biometric);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)qc.biographic);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = pm_error_set(err, PM_EDB, "quota: %s", sqlite3_errmsg(db));
    sqlite3_finalize(s);
done:
    if (rc) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = pm_error_set(err, PM_EDB, "quota: %s", sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

int pm__audit_append(pm_node_t *node, const pm__audit_t *ev, pm_error_t *err)
{
    if (!node->audit)
        return pm_error_set(err, PM_ESTATE, "the disclosure log is not open");
    pm_audit_event_t e;
    memset(&e, 0, sizeof e);
    e.time = (int64_t)time(NULL);
    e.kind = ev->kind;
    e.actor = ev->actor;
    e.partner = ev->partner;
    e.purpose = ev->purpose;
    e.rule = ev->rule;
    e.fields = ev->fields;
    e.n_fields = ev->n_fields;
    e.record_ids = ev->records;
    e.n_record_ids = ev->n_records;
    e.txn = ev->txn;
    e.probe_sha256 = ev->probe_sha256;
    return pm_audit_append(node->audit, &e, NULL, err);
}

int pm__audit_sync(pm_node_t *node, pm_error_t *err)
{
    return node->audit ? pm_audit_sync(node->audit, err) : PM_OK;
}

void pm__reply_refused(pm__req_t *rq, const pm_decision_t *d, const char *field)
{
    char rule[8];
    snprintf(rule, sizeof rule, "R%d", d->rule);
    json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "code", "policy_refused", "rule", rule,
                          "message", d->reason, "field",
                          field && field[0] ? json_string(field) : json_null());
    pm__reply_json(rq, d->rule == 13 ? 429 : 403, o);
}

int pm__audit_refusal(pm__req_t *rq, const char *purpose, const pm_decision_t *d,
                      const char *txn, const char *record, const unsigned char *probe_sha256,
                      pm_error_t *err)
{
    char rule[8], actor[80];
    snprintf(rule, sizeof rule, "R%d", d->rule);
    pm__audit_actor(rq, actor, sizeof actor);
    const char *recs[1] = {record};
    pm__audit_t ev = {"refusal", actor, rq->partner ? rq->partner->code : NULL, purpose, rule,
                      NULL, 0, record ? recs : NULL, record ? 1 : 0, txn, probe_sha256};
    return pm__audit_append(rq->node, &ev, err);
}

void pm__audit_actor(const pm__req_t *rq, char *out, size_t cap)
{
    if (rq->partner)
        snprintf(out, cap, "partner:%s", rq->partner->code);
    else if (rq->officer[0])
        snprintf(out, cap, "officer:%s", rq->officer);
    else
        snprintf(out, cap, "node:%s", rq->node->cfg->country);
}
