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
};
static const pm_migration_set_t replay_schema = {"node_replay", replay_steps,
                                                 sizeof replay_steps / sizeof replay_steps[0]};

int pm__replay_migrate(pm_store_t *st, pm_error_t *err)
{
    return pm_store_migrate(st, &replay_schema, err);
}

int pm__replay_claim(pm_store_t *st, const char *partner, const char *txn, int64_t now,
                     int64_t window_s, pm_error_t *err)
{
    static const char *const sql[2] = {
        "DELETE FROM partner_txn WHERE seen_at < ?",
        "INSERT INTO partner_txn (partner, txn, seen_at) VALUES (?, ?, ?) "
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

int pm__replay_check(pm__req_t *rq, pm_store_t *st, const char *purpose, const char *txn)
{
    int64_t window = (int64_t)rq->node->cfg->limits.replay_window_s;
    if (window == 0 || !txn || !txn[0])
        return PM_OK; /* off, or no id to hold the partner to (an ANSI/NIST TCN may be empty) */
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm__replay_claim(st, rq->partner->code, txn, (int64_t)time(NULL), window, &e);
    if (rc == PM_OK)
        return PM_OK;
    if (rc != PM_EEXISTS) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return rc;
    }
    char actor[80];
    pm__audit_actor(rq, actor, sizeof actor);
    pm__audit_t ev = {"refusal", actor, rq->partner->code, purpose, "replay", NULL, 0, NULL, 0,
                      txn, NULL};
    pm_error_t ae;
    pm_error_clear(&ae);
    if (pm__audit_append(rq->node, &ev, &ae) || pm__audit_sync(rq->node, &ae)) {
        pm__node_log(rq->node, 2, "disclosure log: %s", ae.msg);
        pm__reply_error(rq, 500, "audit_unavailable", "the disclosure log cannot record this",
                        NULL);
        return PM_EINTERNAL;
    }
    pm__node_log(rq->node, 1, "partner %s %s: refused, replayed: %s", rq->partner->code, rq->path,
                 e.msg);
    pm__reply_error(rq, 409, "replayed", e.msg, "transaction_id");
    return PM_EEXISTS;
}
