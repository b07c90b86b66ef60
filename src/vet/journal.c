/* The vetting journal: one SQLite table row per applicant, its state moving
 * pending -> sent -> done, each step committed (synchronous = FULL) before it
 * counts. docs/vet.md "Journal and resume". */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vet/vet_run.h"

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS applicants("
    " seq INTEGER PRIMARY KEY,"
    " applicant TEXT NOT NULL UNIQUE,"
    " file TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'pending' CHECK(state IN ('pending','sent','done')),"
    " outcome TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " recapture TEXT,"
    " local_hits INTEGER NOT NULL DEFAULT 0,"
    " candidates TEXT,"
    " last_error TEXT,"
    " updated TEXT);";

static int db_fail(pm__vet_journal_t *j, int code, const char *what, pm_error_t *err)
{
    return pm_error_set(err, code, "journal: %s: %s", what, sqlite3_errmsg(j->db));
}

static int exec(pm__vet_journal_t *j, const char *sql, pm_error_t *err)
{
    char *msg = NULL;
    if (sqlite3_exec(j->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = pm_error_set(err, PM_EDB, "journal: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

/* Returns the value of meta key (malloc'd) or NULL. */
static char *meta_get(pm__vet_journal_t *j, const char *key)
{
    sqlite3_stmt *st = NULL;
    char *v = NULL;
    if (sqlite3_prepare_v2(j->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            v = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return v;
}

static int meta_put(pm__vet_journal_t *j, const char *key, const char *value, pm_error_t *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(j->db, "INSERT INTO meta(key, value) VALUES(?, ?)", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(j, PM_EDB, "meta", err);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(j, PM_EDB, "meta", err);
    sqlite3_finalize(st);
    return rc;
}

/* One meta key: stored on first use, checked against on resume. */
static int meta_check(pm__vet_journal_t *j, const char *key, const char *value, pm_error_t *err)
{
    char *old = meta_get(j, key);
    int rc = 0;
    if (!old)
        rc = meta_put(j, key, value, err);
    else if (strcmp(old, value) != 0)
        rc = pm_error_set(err, PM_ESTATE,
                          "journal: this output folder belongs to a run with %s '%s', not '%s' "
                          "(use another --out)",
                          key, old, value);
    free(old);
    return rc;
}

int pm__vet_journal_open(pm__vet_journal_t *j, const char *path, const char *cohort,
                         const char *purpose, const pm__vet_applicant_t *apps, size_t n,
                         pm_error_t *err)
{
    memset(j, 0, sizeof *j);
    if (sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        int rc = pm_error_set(err, PM_EDB, "journal %s: %s", path,
                              j->db ? sqlite3_errmsg(j->db) : "cannot open");
        sqlite3_close(j->db);
        j->db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(j->db, 30000);
    int rc = exec(j, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", err);
    if (!rc)
        rc = exec(j, schema, err);
    /* the R14 review item of a match (journals written before it had none) */
    if (!rc && sqlite3_exec(j->db, "ALTER TABLE applicants ADD COLUMN review_id INTEGER "
                                   "NOT NULL DEFAULT 0", NULL, NULL, NULL) != SQLITE_OK &&
        !strstr(sqlite3_errmsg(j->db), "duplicate column"))
        rc = db_fail(j, PM_EDB, "schema", err);
    if (!rc)
        rc = exec(j, "BEGIN IMMEDIATE", err);
    if (!rc)
        rc = meta_check(j, "cohort", cohort, err);
    if (!rc)
        rc = meta_check(j, "purpose", purpose, err);
    if (!rc) {
        /* the run's nonce: transaction ids are VET-<nonce>-<seq>, stable across resumes */
        char *nonce = meta_get(j, "nonce");
        if (!nonce) {
            char fresh[17];
            uint64_t x = pm__vet_random64();
            snprintf(fresh, sizeof fresh, "%016llx", (unsigned long long)x);
            rc = meta_put(j, "nonce", fresh, err);
            snprintf(j->nonce, sizeof j->nonce, "%s", fresh);
        } else {
            snprintf(j->nonce, sizeof j->nonce, "%s", nonce);
            free(nonce);
        }
    }
    sqlite3_stmt *ins = NULL;
    if (!rc && sqlite3_prepare_v2(j->db,
                                  "INSERT OR IGNORE INTO applicants(applicant, file) VALUES(?, ?)",
                                  -1, &ins, NULL) != SQLITE_OK)
        rc = db_fail(j, PM_EDB, "insert", err);
    for (size_t i = 0; !rc && i < n; i++) {
        sqlite3_reset(ins);
        sqlite3_bind_text(ins, 1, apps[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, apps[i].path, -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = db_fail(j, PM_EDB, "insert", err);
    }
    sqlite3_finalize(ins);
    if (!rc)
        rc = exec(j, "COMMIT", err);
    if (rc) {
        sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(j->db);
        j->db = NULL;
        return rc;
    }
    pthread_mutex_init(&j->lock, NULL);
    return 0;
}

void pm__vet_journal_close(pm__vet_journal_t *j)
{
    if (!j->db)
        return;
    sqlite3_close(j->db);
    j->db = NULL;
    pthread_mutex_destroy(&j->lock);
}

int pm__vet_journal_load(pm__vet_journal_t *j, pm__vet_applicant_t *apps, size_t n,
                         pm_error_t *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(j->db, "SELECT seq, state FROM applicants WHERE applicant = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return db_fail(j, PM_EDB, "load", err);
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, apps[i].id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
            rc = db_fail(j, PM_EDB, "load", err);
            break;
        }
        apps[i].seq = sqlite3_column_int64(st, 0);
        const char *s = (const char *)sqlite3_column_text(st, 1);
        apps[i].state = strcmp(s, "done") == 0 ? PM__VET_DONE
                        : strcmp(s, "sent") == 0 ? PM__VET_SENT
                                                 : PM__VET_PENDING;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Runs one UPDATE in its own committed transaction (autocommit), under the lock. */
static int update(pm__vet_journal_t *j, const char *sql, int64_t seq, const char *a,
                  const char *b, const char *c, int d, pm_error_t *err)
{
    pthread_mutex_lock(&j->lock);
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(j, PM_EDB, "update", err);
    } else {
        int k = 1;
        if (a) sqlite3_bind_text(st, k++, a, -1, SQLITE_STATIC);
        if (b) sqlite3_bind_text(st, k++, b, -1, SQLITE_STATIC);
        if (c) sqlite3_bind_text(st, k++, c, -1, SQLITE_STATIC);
        if (d >= 0) sqlite3_bind_int(st, k++, d);
        sqlite3_bind_int64(st, k, seq);
        if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(j->db) != 1)
            rc = db_fail(j, PM_EDB, "update", err);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&j->lock);
    return rc;
}

int pm__vet_journal_sent(pm__vet_journal_t *j, int64_t seq, pm_error_t *err)
{
    return update(j,
                  "UPDATE applicants SET state = 'sent', attempts = attempts + 1, "
                  "updated = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE seq = ?",
                  seq, NULL, NULL, NULL, -1, err);
}

int pm__vet_journal_error(pm__vet_journal_t *j, int64_t seq, const char *message,
                          pm_error_t *err)
{
    return update(j, "UPDATE applicants SET last_error = ? WHERE seq = ?", seq, message, NULL,
                  NULL, -1, err);
}

int pm__vet_journal_done(pm__vet_journal_t *j, int64_t seq, const char *outcome,
                         const char *recapture, const char *candidates, int local_hits,
                         int64_t review_id, pm_error_t *err)
{
    pthread_mutex_lock(&j->lock);
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(j->db,
                           "UPDATE applicants SET state = 'done', outcome = ?1, recapture = ?2, "
                           "candidates = ?3, local_hits = ?4, review_id = ?5, last_error = NULL, "
                           "updated = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE seq = ?6",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(j, PM_EDB, "update", err);
    } else {
        sqlite3_bind_text(st, 1, outcome, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, recapture ? recapture : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, candidates ? candidates : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, local_hits);
        sqlite3_bind_int64(st, 5, review_id);
        sqlite3_bind_int64(st, 6, seq);
        if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(j->db) != 1)
            rc = db_fail(j, PM_EDB, "update", err);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&j->lock);
    return rc;
}

int pm__vet_journal_each(pm__vet_journal_t *j, pm__vet_row_fn fn, void *ctx, pm_error_t *err)
{
    pthread_mutex_lock(&j->lock);
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT seq, applicant, file, state, outcome, attempts, recapture, "
                           "local_hits, candidates, last_error, review_id FROM applicants ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(j, PM_EDB, "read", err);
    } else {
        int s;
        while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
            pm__vet_row_t r = {
                .seq = sqlite3_column_int64(st, 0),
                .applicant = (const char *)sqlite3_column_text(st, 1),
                .file = (const char *)sqlite3_column_text(st, 2),
                .state = (const char *)sqlite3_column_text(st, 3),
                .outcome = (const char *)sqlite3_column_text(st, 4),
                .attempts = sqlite3_column_int(st, 5),
                .recapture = (const char *)sqlite3_column_text(st, 6),
                .local_hits = sqlite3_column_int(st, 7),
                .candidates = (const char *)sqlite3_column_text(st, 8),
                .last_error = (const char *)sqlite3_column_text(st, 9),
                .review_id = sqlite3_column_int64(st, 10),
            };
            rc = fn(ctx, &r, err);
        }
        if (!rc && s != SQLITE_DONE)
            rc = db_fail(j, PM_EDB, "read", err);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&j->lock);
    return rc;
}
