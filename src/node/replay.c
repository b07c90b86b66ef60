/* Partner transaction ids already taken (threat: a partner, or whoever holds
 * its key, replaying a query): each (partner, transaction_id) is claimed in
 * the store once; the same pair again within limits.replay_window_s is
 * refused. Claimed before the query is decided, so a replay neither runs
 * nor counts against the quota; kept durably (the store's own commit), so a
 * restart does not forget them; rows older than the window are deleted as
 * new ones come. Its own migration set ("node_replay"), plain SQL through
 * the store's query API: SQLite or PostgreSQL. */
#include <string.h>
#include <time.h>

#include "perimeter/audit.h"

#include "node/node_impl.h"
#include "node/server_impl.h"

static const pm_migration_t replay_steps[] = {
    {1, "partner transaction ids already answered (replay refusal)",
     "CREATE TABLE partner_txn (\n"
     "  partner TEXT NOT NULL,\n"
     "  txn TEXT NOT NULL,\n"
     "  seen_at INTEGER NOT NULL,\n"
     "  PRIMARY KEY (partner, txn)\n"
     ") STRICT;\n"
     "CREATE INDEX partner_txn_seen ON partner_txn (seen_at);\n",
     "CREATE TABLE partner_txn (\n"
     "  partner text NOT NULL,\n"
     "  txn text NOT NULL,\n"
     "  seen_at bigint NOT NULL,\n"
     "  PRIMARY KEY (partner, txn)\n"
     ");\n"
     "CREATE INDEX partner_txn_seen ON partner_txn (seen_at);\n"},
    {2, "purpose of each claimed id and the id that superseded it (supersedes re-ask)",
     "ALTER TABLE partner_txn ADD COLUMN purpose TEXT;\n"
     "ALTER TABLE partner_txn ADD COLUMN superseded_by TEXT;\n",
     "ALTER TABLE partner_txn ADD COLUMN purpose text;\n"
     "ALTER TABLE partner_txn ADD COLUMN superseded_by text;\n"},
};
static const pm_migration_set_t replay_schema = {"node_replay", replay_steps,
                                                 sizeof replay_steps / sizeof replay_steps[0]};

int pm__replay_migrate(pm_store_t *st, pm_error_t *err)
{
    return pm_store_migrate(st, &replay_schema, err);
}

int pm__replay_claim(pm_store_t *st, const char *partner, const char *purpose, const char *txn,
                     int64_t now, int64_t window_s, pm_error_t *err)
{
    static const char *const sql[2] = {
        "DELETE FROM partner_txn WHERE seen_at < ?",
        "INSERT INTO partner_txn (partner, txn, seen_at, purpose) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (partner, txn) DO NOTHING",
    };
    int claimed = 0;
    for (int i = 0; i < 2; i++) {
        pm_stmt_t *q = NULL;
        int rc = pm_stmt_prepare(st, sql[i], &q, err);
        if (rc)
            return rc;
        if (i == 0)
            pm_stmt_bind_int64(q, 1, now - window_s);
        else {
            pm_stmt_bind_text(q, 1, partner);
            pm_stmt_bind_text(q, 2, txn);
            pm_stmt_bind_int64(q, 3, now);
            if (purpose)
                pm_stmt_bind_text(q, 4, purpose);
            else
                pm_stmt_bind_null(q, 4);
        }
        int s = pm_stmt_step(q, err);
        if (i == 1 && s == 0)
            claimed = pm_stmt_changes(q) == 1;
        pm_stmt_finish(q);
        if (s < 0)
            return s;
    }
    return claimed ? PM_OK
                   : pm_error_set(err, PM_EEXISTS,
                                  "transaction_id %.64s was already used by %s within %lld s",
                                  txn, partner, (long long)window_s);
}

/* A re-ask after a lost answer: `old` must have been claimed by the same
 * partner for the same purpose within the window and not superseded yet;
 * it is marked superseded by `txn` (a conditional UPDATE: of two racing
 * re-asks one wins), then `txn` is claimed as any id. PM_ENOTFOUND: old
 * unknown (never seen from this partner, or forgotten); PM_EDENIED: another
 * purpose; PM_ESTATE: already superseded; PM_EEXISTS: txn already used. */
int pm__replay_supersede(pm_store_t *st, const char *partner, const char *purpose,
                         const char *txn, const char *old, int64_t now, int64_t window_s,
                         pm_error_t *err)
{
    if (!old || !old[0] || !txn || !txn[0] || !strcmp(old, txn))
        return pm_error_set(err, PM_EINVAL, "supersedes must name another transaction_id");
    pm_stmt_t *q = NULL;
    int rc = pm_stmt_prepare(st,
                             "SELECT purpose, superseded_by FROM partner_txn "
                             "WHERE partner = ? AND txn = ? AND seen_at >= ?",
                             &q, err);
    if (rc)
        return rc;
    pm_stmt_bind_text(q, 1, partner);
    pm_stmt_bind_text(q, 2, old);
    pm_stmt_bind_int64(q, 3, now - window_s);
    int s = pm_stmt_step(q, err);
    if (s < 0) {
        pm_stmt_finish(q);
        return s;
    }
    if (s == 0) {
        pm_stmt_finish(q);
        return pm_error_set(err, PM_ENOTFOUND,
                            "supersedes %.64s: no query with that transaction_id from %s "
                            "within %lld s",
                            old, partner, (long long)window_s);
    }
    int same = !pm_stmt_is_null(q, 0) && purpose && !strcmp(pm_stmt_text(q, 0), purpose);
    int taken = !pm_stmt_is_null(q, 1);
    /* superseded by this very id: the re-ask was answered before (its
     * answer lost too): a replay of it, which the client re-asks in turn */
    int again = taken && !strcmp(pm_stmt_text(q, 1), txn);
    pm_stmt_finish(q);
    if (!same)
        return pm_error_set(err, PM_EDENIED,
                            "supersedes %.64s: that query was under another purpose", old);
    if (again)
        return pm_error_set(err, PM_EEXISTS,
                            "%.64s was answered before (it superseded %.64s)", txn, old);
    if (taken)
        return pm_error_set(err, PM_ESTATE, "supersedes %.64s: it was already superseded", old);
    if ((rc = pm_stmt_prepare(st,
                              "UPDATE partner_txn SET superseded_by = ? "
                              "WHERE partner = ? AND txn = ? AND superseded_by IS NULL",
                              &q, err)))
        return rc;
    pm_stmt_bind_text(q, 1, txn);
    pm_stmt_bind_text(q, 2, partner);
    pm_stmt_bind_text(q, 3, old);
    s = pm_stmt_step(q, err);
    int64_t changed = s == 0 ? pm_stmt_changes(q) : 0;
    pm_stmt_finish(q);
    if (s < 0)
        return s;
    if (changed != 1)
        return pm_error_set(err, PM_ESTATE, "supersedes %.64s: it was already superseded", old);
    rc = pm__replay_claim(st, partner, purpose, txn, now, window_s, err);
    if (rc) { /* the new id is refused: the old one stays re-askable */
        pm_error_t ue;
        pm_error_clear(&ue);
        if (pm_stmt_prepare(st,
                            "UPDATE partner_txn SET superseded_by = NULL "
                            "WHERE partner = ? AND txn = ? AND superseded_by = ?",
                            &q, &ue) == PM_OK) {
            pm_stmt_bind_text(q, 1, partner);
            pm_stmt_bind_text(q, 2, old);
            pm_stmt_bind_text(q, 3, txn);
            (void)pm_stmt_step(q, &ue);
            pm_stmt_finish(q);
        }
    }
    return rc;
}

int pm__replay_check(pm__req_t *rq, pm_store_t *st, const char *purpose, const char *txn,
                     const char *supersedes, int *superseded)
{
    if (superseded)
        *superseded = 0;
    int64_t window = (int64_t)rq->node->cfg->limits.replay_window_s;
    if (window == 0 || !txn || !txn[0])
        return PM_OK; /* off, or no id to hold the partner to (an ANSI/NIST TCN may be empty) */
    pm_error_t e;
    pm_error_clear(&e);
    int rc = supersedes && supersedes[0]
                 ? pm__replay_supersede(st, rq->partner->code, purpose, txn, supersedes,
                                        (int64_t)time(NULL), window, &e)
                 : pm__replay_claim(st, rq->partner->code, purpose, txn, (int64_t)time(NULL),
                                    window, &e);
    if (rc == PM_OK && supersedes && supersedes[0]) {
        /* the link, in the log before the query's own entries */
        char actor[80], detail[96];
        pm__audit_actor(rq, actor, sizeof actor);
        snprintf(detail, sizeof detail, "supersedes %.64s", supersedes);
        pm_audit_event_t se;
        memset(&se, 0, sizeof se);
        se.time = (int64_t)time(NULL);
        se.kind = "supersede";
        se.actor = actor;
        se.partner = rq->partner->code;
        se.purpose = purpose;
        se.txn = txn;
        se.detail = detail;
        pm_error_t ae;
        pm_error_clear(&ae);
        if (!rq->node->audit ||
            pm_audit_append(rq->node->audit, &se, NULL, &ae)) {
            pm__node_log(rq->node, 2, "disclosure log: %s", ae.msg);
            pm__reply_error(rq, 500, "audit_unavailable", "the disclosure log cannot record this",
                            NULL);
            return PM_EINTERNAL;
        }
        if (superseded)
            *superseded = 1;
    }
    if (rc == PM_OK)
        return PM_OK;
    int superseding = supersedes && supersedes[0] && rc != PM_EEXISTS;
    if (rc != PM_EEXISTS && !(superseding && (rc == PM_ENOTFOUND || rc == PM_EDENIED ||
                                             rc == PM_ESTATE || rc == PM_EINVAL))) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return rc;
    }
    char actor[80];
    pm__audit_actor(rq, actor, sizeof actor);
    pm__audit_t ev = {"refusal", actor, rq->partner->code, purpose,
                      superseding ? "supersedes" : "replay", NULL, 0, NULL, 0, txn, NULL};
    pm_error_t ae;
    pm_error_clear(&ae);
    if (pm__audit_append(rq->node, &ev, &ae) || pm__audit_sync(rq->node, &ae)) {
        pm__node_log(rq->node, 2, "disclosure log: %s", ae.msg);
        pm__reply_error(rq, 500, "audit_unavailable", "the disclosure log cannot record this",
                        NULL);
        return PM_EINTERNAL;
    }
    pm__node_log(rq->node, 1, "partner %s %s: refused, %s: %s", rq->partner->code, rq->path,
                 superseding ? "supersedes" : "replayed", e.msg);
    if (superseding)
        pm__reply_error(rq, 409, "supersedes_refused", e.msg, "supersedes");
    else
        pm__reply_error(rq, 409, "replayed", e.msg, "transaction_id");
    return rc;
}
