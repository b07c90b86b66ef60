/* The jobs module's tables and received partner data: stored with their
 * origin (R11), found irrelevant by an officer (R7). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs_internal.h"

/* Released steps are never edited; changes are new steps. */
static const pm_migration_t jobs_steps[] = {
    {1, "received partner data, pending tombstones",
     "CREATE TABLE jobs_received (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  origin TEXT NOT NULL CHECK (length(origin) = 3),\n"
     "  class TEXT NOT NULL CHECK (class IN ('match_result', 'received_biographic')),\n"
     "  purpose TEXT NOT NULL,\n"
     "  txn TEXT NOT NULL,\n"
     "  subject_ref TEXT NOT NULL,\n"
     "  payload BLOB NOT NULL,\n"
     "  sha256 TEXT NOT NULL,\n"
     "  received_at INTEGER NOT NULL,\n"
     "  irrelevant_since INTEGER NOT NULL DEFAULT 0,\n"
     "  irrelevant_by TEXT NOT NULL DEFAULT '',\n"
     "  irrelevant_why TEXT NOT NULL DEFAULT ''\n"
     ") STRICT;\n"
     "CREATE INDEX jobs_received_subject ON jobs_received (subject_ref);\n"
     "CREATE INDEX jobs_received_age ON jobs_received (class, received_at);\n"
     "CREATE TABLE jobs_tombstone (\n"
     "  txn TEXT PRIMARY KEY,\n"
     "  rule TEXT NOT NULL,\n"
     "  detail TEXT NOT NULL,\n"
     "  records TEXT NOT NULL,\n"
     "  created_at INTEGER NOT NULL\n"
     ") STRICT;\n",
     NULL},
    {2, "human review queue of adverse matches",
     "CREATE TABLE jobs_review (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  txn TEXT NOT NULL,\n"
     "  partner TEXT NOT NULL,\n"
     "  purpose TEXT NOT NULL,\n"
     "  subject_ref TEXT NOT NULL,\n"
     "  score REAL NOT NULL,\n"
     "  action TEXT NOT NULL,\n"
     "  evidence TEXT NOT NULL,\n"
     "  received_id INTEGER NOT NULL DEFAULT 0,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  status TEXT NOT NULL DEFAULT 'pending'\n"
     "    CHECK (status IN ('pending', 'confirmed', 'rejected')),\n"
     "  officer TEXT NOT NULL DEFAULT '',\n"
     "  decided_at INTEGER NOT NULL DEFAULT 0,\n"
     "  why TEXT NOT NULL DEFAULT '',\n"
     "  CHECK ((status = 'pending') = (officer = ''))\n"
     ") STRICT;\n"
     "CREATE INDEX jobs_review_status ON jobs_review (status, id);\n",
     NULL},
    {3, "correction propagation with acknowledgement",
     "CREATE TABLE jobs_correction (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  record TEXT NOT NULL,\n"
     "  store_id INTEGER NOT NULL,\n"
     "  partner TEXT NOT NULL CHECK (length(partner) = 3),\n"
     "  txn TEXT NOT NULL,\n"
     "  payload TEXT NOT NULL,\n"
     "  reason TEXT NOT NULL,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  attempts INTEGER NOT NULL DEFAULT 0,\n"
     "  last_sent_at INTEGER NOT NULL DEFAULT 0,\n"
     "  acked_at INTEGER NOT NULL DEFAULT 0,\n"
     "  ack_ref TEXT NOT NULL DEFAULT '',\n"
     "  UNIQUE (txn, partner)\n"
     ") STRICT;\n"
     "CREATE INDEX jobs_correction_open ON jobs_correction (acked_at, partner, id);\n"
     "CREATE INDEX jobs_correction_record ON jobs_correction (record);\n",
     NULL},
};
static const pm_migration_set_t jobs_schema = {"jobs", jobs_steps,
                                               sizeof jobs_steps / sizeof jobs_steps[0]};

int pm_jobs_migrate(pm_store_t *st, pm_error_t *err)
{
    if (!st) return pm_error_set(err, PM_EINVAL, "jobs: NULL store");
    if (!pm_store_sqlite_handle(st))
        return pm_error_set(err, PM_EUNSUPPORTED, "the jobs' tables need the SQLite store");
    return pm_store_migrate(st, &jobs_schema, err);
}

sqlite3 *pm__jobs_db(pm_store_t *st, pm_error_t *err)
{
    if (pm_jobs_migrate(st, err)) return NULL;
    return pm_store_sqlite_handle(st);
}

int pm__jobs_db_error(sqlite3 *db, pm_error_t *err, const char *what)
{
    int code = sqlite3_errcode(db);
    return pm_error_set(err, code == SQLITE_BUSY || code == SQLITE_LOCKED ? PM_EBUSY : PM_EDB,
                        "%s: %s", what, sqlite3_errmsg(db));
}

void pm__jobs_col(sqlite3_stmt *q, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    size_t n = t ? (size_t)sqlite3_column_bytes(q, i) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(out, t, n);
    out[n] = '\0';
}

static int code_ok(const char *s)
{
    return s && strlen(s) == 3 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3;
}

int pm__jobs_ctx_check(const pm_jobs_ctx_t *ctx, pm_error_t *err)
{
    if (!ctx || !ctx->store || !ctx->log || !ctx->agreement)
        return pm_error_set(err, PM_EINVAL, "jobs: store, log and agreement are required");
    if (!code_ok(ctx->ours) || (strcmp(ctx->ours, ctx->agreement->parties[0]) != 0 &&
                                strcmp(ctx->ours, ctx->agreement->parties[1]) != 0))
        return pm_error_set(err, PM_EINVAL, "jobs: our code '%.8s' is not a party to agreement %s",
                            ctx->ours ? ctx->ours : "", ctx->agreement->version);
    if (!ctx->actor || !ctx->actor[0] || strlen(ctx->actor) >= PM_JOBS_REF_MAX)
        return pm_error_set(err, PM_EINVAL, "jobs: an actor (1-127 bytes) is required");
    if (sodium_init() < 0) return pm_error_set(err, PM_EINTERNAL, "libsodium cannot initialise");
    return PM_OK;
}

void pm__jobs_txn(const char *prefix, int64_t now, char out[PM_JOBS_REF_MAX])
{
    unsigned char r[8];
    char hex[17];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(hex, sizeof hex, r, sizeof r);
    snprintf(out, PM_JOBS_REF_MAX, "%s-%lld-%s", prefix, (long long)now, hex);
}

int pm__jobs_log(const pm_jobs_ctx_t *ctx, const pm_audit_event_t *ev, pm_error_t *err)
{
    int rc = pm_audit_append(ctx->log, ev, NULL, err);
    return rc ? rc : pm_audit_sync(ctx->log, err);
}

static const char *partner_of(const pm_jobs_ctx_t *ctx)
{
    const pm_agreement_t *a = ctx->agreement;
    return strcmp(a->parties[0], ctx->ours) == 0 ? a->parties[1] : a->parties[0];
}

static int text_ok(const char *s, size_t cap)
{
    return s && strlen(s) < cap;
}

static void received_use_of(char *out, const pm_received_t *r)
{
    pm__jobs_received_use(out, r->origin, pm_record_class_name(r->cls), r->purpose, r->txn,
                 r->subject_ref, r->received_at, r->sha256);
}

int pm_received_store(const pm_jobs_ctx_t *ctx, const char *origin, pm_record_class_t cls,
                      const char *purpose, const char *txn, const char *subject_ref,
                      const void *payload, size_t len, int64_t now, int64_t *out_id,
                      pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if (!code_ok(origin) || strcmp(origin, partner_of(ctx)) != 0)
        return pm_error_set(err, PM_EINVAL,
                            "received data: origin '%.8s' is not the partner of agreement %s",
                            origin ? origin : "", ctx->agreement->version);
    if (cls != PM_RC_MATCH_RESULT && cls != PM_RC_RECEIVED_BIOGRAPHIC)
        return pm_error_set(err, PM_EINVAL,
                            "received data: class must be match_result or "
                            "received_biographic");
    if (pm_agreement_purpose_index(ctx->agreement, purpose) < 0)
        return pm_error_set(err, PM_EINVAL,
                            "received data: purpose '%.64s' is not in the agreement",
                            purpose ? purpose : "");
    if (!text_ok(txn, PM_JOBS_REF_MAX) || !text_ok(subject_ref, PM_JOBS_REF_MAX))
        return pm_error_set(err, PM_ELIMIT,
                            "received data: txn and subject reference: at most %d bytes",
                            PM_JOBS_REF_MAX - 1);
    if ((!payload && len) || len > PM_JOBS_PAYLOAD_MAX)
        return pm_error_set(err, PM_ELIMIT, "received data: payload above %u bytes",
                            PM_JOBS_PAYLOAD_MAX);
    sqlite3 *db = pm__jobs_db(ctx->store, err);
    if (!db) return err ? err->code : PM_EDB;
    unsigned char h[32];
    char hex[65];
    crypto_hash_sha256(h, payload ? payload : (const void *)"", len);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    char use[PM_SEAL_CONTEXT_MAX + 1];
    pm__jobs_received_use(use, origin, pm_record_class_name(cls), purpose, txn, subject_ref, now, hex);
    pm_buf_t sealed = {0};
    pm_buf_init(&sealed, PM_JOBS_PAYLOAD_MAX + PM_SEAL_OVERHEAD + 1);
    if ((rc = pm_seal_ring_seal(pm_store_seal(ctx->store), use, payload, len, &sealed, err)))
        return rc;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO jobs_received (origin, class, purpose, txn, subject_ref, "
                           "payload, sha256, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           -1, &q, NULL) != SQLITE_OK) {
        pm_buf_free(&sealed);
        return pm__jobs_db_error(db, err, "received data");
    }
    sqlite3_bind_text(q, 1, origin, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, pm_record_class_name(cls), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, purpose, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, txn, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, subject_ref, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 6, sealed.len ? (const void *)sealed.data : "", (int)sealed.len,
                      SQLITE_STATIC);
    sqlite3_bind_text(q, 7, hex, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 8, now);
    int step = sqlite3_step(q);
    sqlite3_finalize(q);
    pm_buf_free(&sealed);
    if (step != SQLITE_DONE) return pm__jobs_db_error(db, err, "received data");
    if (out_id) *out_id = sqlite3_last_insert_rowid(db);
    return PM_OK;
}

#define RECEIVED_COLUMNS                                                                           \
    "id, origin, class, purpose, txn, subject_ref, received_at, irrelevant_since, "                \
    "irrelevant_by, irrelevant_why, sha256, length(payload), payload"

static void read_received(sqlite3_stmt *q, pm_received_t *r)
{
    memset(r, 0, sizeof *r);
    char cls[32];
    r->id = sqlite3_column_int64(q, 0);
    pm__jobs_col(q, 1, r->origin, sizeof r->origin);
    pm__jobs_col(q, 2, cls, sizeof cls);
    r->cls = strcmp(cls, "match_result") == 0 ? PM_RC_MATCH_RESULT : PM_RC_RECEIVED_BIOGRAPHIC;
    pm__jobs_col(q, 3, r->purpose, sizeof r->purpose);
    pm__jobs_col(q, 4, r->txn, sizeof r->txn);
    pm__jobs_col(q, 5, r->subject_ref, sizeof r->subject_ref);
    r->received_at = sqlite3_column_int64(q, 6);
    r->irrelevant_since = sqlite3_column_int64(q, 7);
    pm__jobs_col(q, 8, r->irrelevant_by, sizeof r->irrelevant_by);
    pm__jobs_col(q, 9, r->irrelevant_why, sizeof r->irrelevant_why);
    pm__jobs_col(q, 10, r->sha256, sizeof r->sha256);
    r->payload_len = (size_t)sqlite3_column_int64(q, 11);
    if (pm_seal_is_sealed(sqlite3_column_blob(q, 12), r->payload_len))
        r->payload_len -= PM_SEAL_OVERHEAD; /* the received bytes, not their sealed form */
}

int pm_received_get(pm_store_t *st, int64_t id, pm_received_t *out, pm_buf_t *payload,
                    pm_error_t *err)
{
    if (!out) return pm_error_set(err, PM_EINVAL, "received data: NULL argument");
    sqlite3 *db = pm__jobs_db(st, err);
    if (!db) return err ? err->code : PM_EDB;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT " RECEIVED_COLUMNS " FROM jobs_received WHERE id = ?1", -1,
                           &q, NULL) != SQLITE_OK)
        return pm__jobs_db_error(db, err, "received data");
    sqlite3_bind_int64(q, 1, id);
    int step = sqlite3_step(q), rc = PM_OK;
    if (step == SQLITE_ROW) {
        read_received(q, out);
        if (payload) {
            char use[PM_SEAL_CONTEXT_MAX + 1];
            received_use_of(use, out);
            rc = pm_seal_ring_open(pm_store_seal(st), use, sqlite3_column_blob(q, 12),
                                   (size_t)sqlite3_column_bytes(q, 12), payload, NULL, err);
            if (rc) pm_error_prefix(err, "received record %lld", (long long)id);
        }
    } else if (step == SQLITE_DONE) {
        rc = pm_error_set(err, PM_ENOTFOUND, "no received record %lld (never stored or destroyed)",
                          (long long)id);
    } else {
        rc = pm__jobs_db_error(db, err, "received data");
    }
    sqlite3_finalize(q);
    return rc;
}

int pm_received_list(pm_store_t *st, int only_irrelevant, pm_received_t **out, size_t *out_n,
                     pm_error_t *err)
{
    if (!out || !out_n) return pm_error_set(err, PM_EINVAL, "received data: NULL argument");
    *out = NULL;
    *out_n = 0;
    sqlite3 *db = pm__jobs_db(st, err);
    if (!db) return err ? err->code : PM_EDB;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           only_irrelevant ? "SELECT " RECEIVED_COLUMNS " FROM jobs_received "
                                             "WHERE irrelevant_since > 0 ORDER BY id"
                                           : "SELECT " RECEIVED_COLUMNS
                                             " FROM jobs_received ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return pm__jobs_db_error(db, err, "received data");
    size_t cap = 0;
    int step, rc = PM_OK;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        if (*out_n == cap) {
            cap = cap ? cap * 2 : 16;
            pm_received_t *n = realloc(*out, cap * sizeof *n);
            if (!n) {
                rc = pm_error_set(err, PM_ENOMEM, "out of memory");
                break;
            }
            *out = n;
        }
        read_received(q, &(*out)[(*out_n)++]);
    }
    if (!rc && step != SQLITE_DONE) rc = pm__jobs_db_error(db, err, "received data");
    sqlite3_finalize(q);
    if (rc) {
        free(*out);
        *out = NULL;
        *out_n = 0;
    }
    return rc;
}

int pm_received_mark_irrelevant(const pm_jobs_ctx_t *ctx, int64_t id, const char *officer,
                                const char *why, int64_t now, pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if (!officer || !officer[0] || !text_ok(officer, PM_JOBS_REF_MAX) || !why || !why[0] ||
        !text_ok(why, PM_JOBS_TEXT_MAX))
        return pm_error_set(err, PM_EINVAL,
                            "finding data irrelevant needs the officer (1-127 bytes) and a reason "
                            "(1-256 bytes)");
    pm_received_t r;
    rc = pm_received_get(ctx->store, id, &r, NULL, err);
    if (rc) return rc;
    if (r.irrelevant_since)
        return pm_error_set(err, PM_ESTATE, "received record %lld was already found irrelevant",
                            (long long)id);
    sqlite3 *db = pm_store_sqlite_handle(ctx->store);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "UPDATE jobs_received SET irrelevant_since = ?2, irrelevant_by = ?3, "
                           "irrelevant_why = ?4 WHERE id = ?1 AND irrelevant_since = 0",
                           -1, &q, NULL) != SQLITE_OK)
        return pm__jobs_db_error(db, err, "received data");
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, now > 0 ? now : 1);
    sqlite3_bind_text(q, 3, officer, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, why, -1, SQLITE_STATIC);
    int step = sqlite3_step(q);
    sqlite3_finalize(q);
    if (step != SQLITE_DONE) return pm__jobs_db_error(db, err, "received data");
    char ref[64], detail[PM_AUDIT_STR_MAX + 1];
    snprintf(ref, sizeof ref, "received:%lld", (long long)id);
    snprintf(detail, sizeof detail, "found irrelevant; destroy by %lld: %.180s",
             (long long)(now + ctx->agreement->irrelevant_destruction_s), why);
    const char *recs[1] = {ref};
    pm_audit_event_t ev = {.time = now,
                           .kind = "review",
                           .actor = officer,
                           .partner = r.origin,
                           .purpose = r.purpose,
                           .rule = "R7",
                           .record_ids = recs,
                           .n_record_ids = 1,
                           .txn = r.txn,
                           .detail = detail};
    return pm__jobs_log(ctx, &ev, err);
}
