/* The SQLite backend of the store: WAL journal, foreign keys, STRICT tables,
 * per-module versioned migrations, prepared statements for the hot paths. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"
#include "store/store_impl.h"

typedef struct sqlite_store {
    sqlite3 *db;
    sqlite3_stmt *put;          /* INSERT of one crossing */
    sqlite3_stmt *put_many;     /* INSERT of PUT_MANY crossings */
    sqlite3_stmt *pair[2];      /* INSERT of one key pair into crossing_person, crossing_doc */
    sqlite3_stmt *pair_many[2]; /* ... of PAIR_MANY pairs */
    sqlite3_stmt *put_partner;  /* INSERT of one partner */
    sqlite3_stmt *find_id;      /* store id and doc_key of a record key */
    /* Key pairs of the open transaction not yet written to crossing_person
     * (name_key, doc_key) and crossing_doc (doc_key, id): written sorted and
     * de-duplicated before COMMIT (and before any query), so the random-key
     * b-tree inserts become one ordered pass per batch. */
    struct key_pair *pending[2];
    size_t npending[2], cap_pending[2];
    int in_tx;
    int checks_off; /* ignore_check_constraints is on for this transaction */
    int read_only;
} sqlite_store_t;

static const pm__store_ops_t sqlite_ops;

struct key_pair {
    int64_t a, b;
};

enum { PAIR_PERSON, PAIR_DOC };

/* Pending pairs are flushed early past this many (bounds memory for huge batches). */
#define PENDING_MAX 262144
#define PAIR_MANY 64

static int db_error(sqlite3 *db, pm_error_t *err, const char *what)
{
    int code = sqlite3_errcode(db);
    int pm = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? PM_EBUSY : PM_EDB;
    /* what may be NULL (exec callers that ignore the error); at -O3 gcc inlines
     * that NULL into the format and -Wformat-overflow refuses it. */
    return pm_error_set(err, pm, "%s: %s", what ? what : "database", sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql, pm_error_t *err, const char *what)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_error(db, err, what);
    return PM_OK;
}

/* Switch a connection to WAL. On a brand-new file the switch takes a write
 * lock from inside the read transaction the pragma opened, and SQLite does not
 * consult the busy handler for that upgrade: two processes creating the same
 * database at once made one fail at once with "database is locked" whatever
 * the busy timeout. So a busy switch is retried here, every 2-10 ms, within
 * the same budget as the busy timeout. */
static int set_wal(sqlite3 *db, int busy_ms, pm_error_t *err, const char *path)
{
    uint64_t deadline = pm_now_ns() + (uint64_t)busy_ms * 1000000u;
    for (unsigned attempt = 0;; attempt++) {
        int rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return PM_OK;
        if ((rc & 0xff) != SQLITE_BUSY || pm_now_ns() >= deadline)
            return db_error(db, err, path);
        sqlite3_sleep(attempt < 4 ? 2 : 10);
    }
}

static sqlite_store_t *S(pm_store_t *st)
{
    return (sqlite_store_t *)st->impl;
}

static void sq_close(pm_store_t *st)
{
    sqlite_store_t *s = S(st);
    if (s->in_tx)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_finalize(s->put);
    sqlite3_finalize(s->put_many);
    for (int t = 0; t < 2; t++) {
        sqlite3_finalize(s->pair[t]);
        sqlite3_finalize(s->pair_many[t]);
        free(s->pending[t]);
    }
    sqlite3_finalize(s->put_partner);
    sqlite3_finalize(s->find_id);
    sqlite3_close_v2(s->db);
    free(s);
    free(st);
}

static int sq_schema_version(pm_store_t *st, const char *module, int *out_version,
                             pm_error_t *err)
{
    sqlite3 *db = S(st)->db;
    sqlite3_stmt *q = NULL;
    *out_version = 0;
    if (sqlite3_prepare_v2(db, "SELECT version FROM schema_version WHERE module = ?1", -1, &q,
                           NULL) != SQLITE_OK)
        return db_error(db, err, "schema_version");
    sqlite3_bind_text(q, 1, module, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out_version = sqlite3_column_int(q, 0);
    else if (rc != SQLITE_DONE) {
        db_error(db, err, "schema_version");
        sqlite3_finalize(q);
        return err ? err->code : PM_EDB;
    }
    sqlite3_finalize(q);
    return PM_OK;
}

static int sq_migrate(pm_store_t *st, const pm_migration_set_t *set, pm_error_t *err)
{
    sqlite_store_t *s = S(st);
    if (!set || !set->module || !set->module[0] || (set->count && !set->steps))
        return pm_error_set(err, PM_EINVAL, "migrate: empty migration set");
    for (size_t i = 0; i < set->count; i++)
        if (set->steps[i].version != (int)i + 1 || !set->steps[i].sql_sqlite)
            return pm_error_set(err, PM_EINVAL,
                                "migrate %s: step %zu must have version %zu and SQLite SQL",
                                set->module, i, i + 1);
    if (s->in_tx)
        return pm_error_set(err, PM_ESTATE, "migrate %s: inside a transaction", set->module);
    if (s->read_only) {
        int have = 0;
        int rc = sq_schema_version(st, set->module, &have, err);
        if (rc)
            return rc;
        if ((size_t)have != set->count)
            return pm_error_set(err, PM_ESTATE,
                                "%s: database schema version %d, this program needs %zu",
                                set->module, have, set->count);
        return PM_OK;
    }
    for (;;) {
        /* One step per transaction; BEGIN IMMEDIATE serialises concurrent openers. */
        int rc = exec(s->db, "BEGIN IMMEDIATE", err, "migrate");
        if (rc)
            return rc;
        int have = 0;
        rc = sq_schema_version(st, set->module, &have, err);
        if (rc)
            goto fail;
        if ((size_t)have > set->count) {
            rc = pm_error_set(err, PM_ESTATE,
                              "migrate %s: database schema version %d is newer than this "
                              "program's %zu",
                              set->module, have, set->count);
            goto fail;
        }
        if ((size_t)have == set->count) {
            /* Nothing was written in this transaction: a failed COMMIT loses nothing. */
            exec(s->db, "COMMIT", NULL, "migrate");
            return PM_OK;
        }
        const pm_migration_t *m = &set->steps[have];
        char *msg = NULL;
        if (sqlite3_exec(s->db, m->sql_sqlite, NULL, NULL, &msg) != SQLITE_OK) {
            rc = pm_error_set(err, PM_EDB, "migrate %s to version %d (%s): %s", set->module,
                              m->version, m->description ? m->description : "",
                              msg ? msg : "error");
            sqlite3_free(msg);
            goto fail;
        }
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(s->db,
                               "INSERT INTO schema_version (module, version, applied_at) "
                               "VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) "
                               "ON CONFLICT (module) DO UPDATE SET version = excluded.version, "
                               "applied_at = excluded.applied_at",
                               -1, &q, NULL) != SQLITE_OK) {
            rc = db_error(s->db, err, "migrate");
            goto fail;
        }
        sqlite3_bind_text(q, 1, set->module, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 2, m->version);
        int step = sqlite3_step(q);
        sqlite3_finalize(q);
        if (step != SQLITE_DONE) {
            rc = db_error(s->db, err, "migrate");
            goto fail;
        }
        if ((rc = exec(s->db, "COMMIT", err, "migrate")))
            goto fail;
        continue;
    fail:
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
}

static int sq_begin(pm_store_t *st, pm_error_t *err)
{
    sqlite_store_t *s = S(st);
    if (s->in_tx)
        return pm_error_set(err, PM_ESTATE, "begin: a transaction is already open");
    int rc = exec(s->db, "BEGIN IMMEDIATE", err, "begin");
    if (!rc)
        s->in_tx = 1;
    return rc;
}

static int flush_pairs(sqlite_store_t *s, pm_error_t *err);

/* The crossing table's CHECK constraints are not evaluated by SQLite inside
 * a transaction that puts crossings: SQLite (3.40) evaluates
 * `sex IN ('M', 'F', 'X')` in a multi-row INSERT by filling and clearing a
 * temporary b-tree for every row, ~15% of an import's CPU. put_crossings
 * checks the same three conditions in C (row_check) before binding, and the
 * transaction writes nothing else with a CHECK. The pragma is switched back
 * when the transaction ends, so every other statement keeps the constraints
 * (each switch makes SQLite recompile the prepared statements once). */
static int checks_off(sqlite_store_t *s, pm_error_t *err)
{
    if (s->checks_off)
        return PM_OK;
    int rc = exec(s->db, "PRAGMA ignore_check_constraints = ON", err, "store crossings");
    if (!rc)
        s->checks_off = 1;
    return rc;
}

static int checks_on(sqlite_store_t *s, pm_error_t *err)
{
    if (!s->checks_off)
        return PM_OK;
    int rc = exec(s->db, "PRAGMA ignore_check_constraints = OFF", err, "store crossings");
    if (!rc)
        s->checks_off = 0;
    return rc;
}

static int sq_commit(pm_store_t *st, pm_error_t *err)
{
    sqlite_store_t *s = S(st);
    if (!s->in_tx)
        return pm_error_set(err, PM_ESTATE, "commit: no transaction is open");
    int rc = flush_pairs(s, err);
    if (rc)
        return rc; /* the transaction stays open: the caller rolls back */
    rc = exec(s->db, "COMMIT", err, "commit");
    if (!rc) {
        s->in_tx = 0;
        rc = checks_on(s, err);
    }
    return rc;
}

static int sq_rollback(pm_store_t *st, pm_error_t *err)
{
    sqlite_store_t *s = S(st);
    if (!s->in_tx)
        return pm_error_set(err, PM_ESTATE, "rollback: no transaction is open");
    s->in_tx = 0;
    s->npending[0] = s->npending[1] = 0;
    int rc = exec(s->db, "ROLLBACK", err, "rollback");
    int rc2 = checks_on(s, err);
    return rc ? rc : rc2;
}

static int sq_ensure_partner(pm_store_t *st, const char *code, pm_error_t *err)
{
    sqlite_store_t *s = S(st);
    if (!code || strlen(code) != 3)
        return pm_error_set(err, PM_EINVAL, "partner code must be 3 letters");
    sqlite3_stmt *q = s->put_partner;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, code, 3, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return db_error(s->db, err, "partner");
    return PM_OK;
}

static void bind_text(sqlite3_stmt *q, int i, const char *s);
static void col_text(sqlite3_stmt *q, int i, char *out, size_t cap);

static int sq_partners(pm_store_t *st, char (*out)[4], size_t max, size_t *out_n, pm_error_t *err)
{
    sqlite3 *db = S(st)->db;
    sqlite3_stmt *q = NULL;
    *out_n = 0;
    if (sqlite3_prepare_v2(db, "SELECT code FROM partner ORDER BY code", -1, &q, NULL) !=
        SQLITE_OK)
        return db_error(db, err, "partners");
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*out_n < max)
            col_text(q, 0, out[*out_n], 4);
        (*out_n)++;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return db_error(db, err, "partners");
    return PM_OK;
}

static int sq_partner_cursor(pm_store_t *st, const char *code, int64_t *out_cursor,
                             pm_error_t *err)
{
    sqlite3 *db = S(st)->db;
    sqlite3_stmt *q = NULL;
    *out_cursor = 0;
    if (sqlite3_prepare_v2(db, "SELECT feed_cursor FROM partner WHERE code = ?1", -1, &q, NULL) !=
        SQLITE_OK)
        return db_error(db, err, "partner cursor");
    bind_text(q, 1, code);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out_cursor = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_error(db, err, "partner cursor");
    return PM_OK;
}

static int sq_set_partner_cursor(pm_store_t *st, const char *code, int64_t cursor,
                                 pm_error_t *err)
{
    sqlite3 *db = S(st)->db;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "UPDATE partner SET feed_cursor = max(feed_cursor, ?2) WHERE code = ?1",
                           -1, &q, NULL) != SQLITE_OK)
        return db_error(db, err, "partner cursor");
    bind_text(q, 1, code);
    sqlite3_bind_int64(q, 2, cursor);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return db_error(db, err, "partner cursor");
    if (sqlite3_changes(db) != 1)
        return pm_error_set(err, PM_ENOTFOUND, "partner %s is not recorded", code);
    return PM_OK;
}

static const char put_head[] =
    "INSERT INTO crossing (reporting_country, record_id, direction, time_utc, utc_offset, "
    "port_code, mode, surname, given_names, middle_names, surname_norm, given_names_norm, "
    "dob, citizenship, sex, document_type, document_number, document_issuer, mrz, origin, "
    "doc_key, admission_class, stay_until) VALUES ";
static const char put_tail[] = " ON CONFLICT (reporting_country, record_id) DO NOTHING";
static const char *const pair_head[2] = {
    "INSERT INTO crossing_person (name_key, doc_key) VALUES ",
    "INSERT INTO crossing_doc (doc_key, id) VALUES "};
static const char pair_tail[] = " ON CONFLICT DO NOTHING";

static void bind_text(sqlite3_stmt *q, int i, const char *s)
{
    sqlite3_bind_text(q, i, s, (int)strlen(s), SQLITE_STATIC);
}

#define PUT_COLUMNS 23
#define PUT_MANY 16

/* Binds c to parameters base+1 .. base+PUT_COLUMNS of q. sex_buf must
 * outlive the step. */
static void bind_crossing(sqlite3_stmt *q, int base, const pm_crossing_t *c, char sex_buf[2])
{
    sex_buf[0] = c->sex;
    sex_buf[1] = '\0';
    bind_text(q, base + 1, c->reporting_country);
    bind_text(q, base + 2, c->record_id);
    sqlite3_bind_int(q, base + 3, (int)c->direction);
    sqlite3_bind_int64(q, base + 4, c->time_utc);
    sqlite3_bind_int(q, base + 5, c->utc_offset_min);
    bind_text(q, base + 6, c->port_code);
    sqlite3_bind_int(q, base + 7, (int)c->mode);
    bind_text(q, base + 8, c->surname);
    bind_text(q, base + 9, c->given_names);
    bind_text(q, base + 10, c->middle_names);
    bind_text(q, base + 11, c->surname_norm);
    bind_text(q, base + 12, c->given_names_norm);
    sqlite3_bind_int64(q, base + 13, pm__store_dob_int(&c->dob));
    bind_text(q, base + 14, c->citizenship);
    sqlite3_bind_text(q, base + 15, sex_buf, 1, SQLITE_STATIC);
    bind_text(q, base + 16, c->document_type);
    bind_text(q, base + 17, c->document_number);
    bind_text(q, base + 18, c->document_issuer);
    if (c->mrz[0])
        bind_text(q, base + 19, c->mrz);
    else
        sqlite3_bind_null(q, base + 19);
    if (c->origin[0])
        bind_text(q, base + 20, c->origin);
    else
        sqlite3_bind_null(q, base + 20);
    sqlite3_bind_int64(q, base + 21, pm__store_doc_key(c->document_number, c->document_issuer));
    if (c->admission_class[0])
        bind_text(q, base + 22, c->admission_class);
    else
        sqlite3_bind_null(q, base + 22);
    if (c->stay_until.year)
        sqlite3_bind_int64(q, base + 23, pm__store_dob_int(&c->stay_until));
    else
        sqlite3_bind_null(q, base + 23);
}

static int cmp_pair(const void *x, const void *y)
{
    const struct key_pair *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

/* Writes the pending pairs of table t in key order, each once. */
static int flush_table(sqlite_store_t *s, int t, pm_error_t *err)
{
    size_t n = s->npending[t];
    if (n == 0)
        return PM_OK;
    struct key_pair *p = s->pending[t];
    qsort(p, n, sizeof *p, cmp_pair);
    size_t u = 1;
    for (size_t i = 1; i < n; i++)
        if (p[i].a != p[u - 1].a || p[i].b != p[u - 1].b)
            p[u++] = p[i];
    size_t i = 0;
    while (i < u) {
        size_t k = u - i >= PAIR_MANY ? PAIR_MANY : 1;
        sqlite3_stmt *q = k == PAIR_MANY ? s->pair_many[t] : s->pair[t];
        for (size_t j = 0; j < k; j++) {
            sqlite3_bind_int64(q, (int)(2 * j + 1), p[i + j].a);
            sqlite3_bind_int64(q, (int)(2 * j + 2), p[i + j].b);
        }
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            return db_error(s->db, err, "store crossings");
        i += k;
    }
    s->npending[t] = 0;
    return PM_OK;
}

static int flush_pairs(sqlite_store_t *s, pm_error_t *err)
{
    int rc = flush_table(s, PAIR_PERSON, err);
    return rc ? rc : flush_table(s, PAIR_DOC, err);
}

/* Makes room for n more pending pairs of table t. */
static int reserve_pairs(sqlite_store_t *s, int t, size_t n, pm_error_t *err)
{
    if (s->npending[t] + n <= s->cap_pending[t])
        return PM_OK;
    size_t cap = s->cap_pending[t] ? s->cap_pending[t] : 1024;
    while (cap < s->npending[t] + n)
        cap *= 2;
    struct key_pair *np = realloc(s->pending[t], cap * sizeof *np);
    if (!np)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    s->pending[t] = np;
    s->cap_pending[t] = cap;
    return PM_OK;
}

static void add_pair(sqlite_store_t *s, int t, int64_t a, int64_t b)
{
    s->pending[t][s->npending[t]].a = a;
    s->pending[t][s->npending[t]].b = b;
    s->npending[t]++;
}

/* After a chunk with duplicates: each row's (doc_key, id) as stored (a
 * duplicate's pair is already there or pending; adding it again is harmless). */
static int doc_pairs_by_lookup(sqlite_store_t *s, const pm_crossing_t *rows, size_t k,
                               pm_error_t *err)
{
    for (size_t j = 0; j < k; j++) {
        sqlite3_stmt *q = s->find_id;
        bind_text(q, 1, rows[j].reporting_country);
        bind_text(q, 2, rows[j].record_id);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            add_pair(s, PAIR_DOC, sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 0));
        sqlite3_reset(q);
        if (rc == SQLITE_DONE)
            return pm_error_set(err, PM_EDB, "store crossings: %s %s neither stored nor found",
                                rows[j].reporting_country, rows[j].record_id);
        if (rc != SQLITE_ROW)
            return db_error(s->db, err, "store crossings");
    }
    return PM_OK;
}

static int put_crossings(sqlite_store_t *s, const pm_crossing_t *rows, size_t n,
                         uint64_t *out_inserted, pm_error_t *err);

/* Outside a transaction the rows and their pairs commit together in one. */
static int sq_put_crossings(pm_store_t *st, const pm_crossing_t *rows, size_t n,
                            uint64_t *out_inserted, pm_error_t *err)
{
    sqlite_store_t *s = S(st);
    *out_inserted = 0;
    if (s->in_tx)
        return put_crossings(s, rows, n, out_inserted, err);
    int rc = sq_begin(st, err);
    if (rc)
        return rc;
    rc = put_crossings(s, rows, n, out_inserted, err);
    rc = rc ? rc : sq_commit(st, err);
    if (rc) {
        if (s->in_tx)
            sq_rollback(st, NULL);
        *out_inserted = 0;
    }
    return rc;
}

static int put_crossings(sqlite_store_t *s, const pm_crossing_t *rows, size_t n,
                         uint64_t *out_inserted, pm_error_t *err)
{
    for (size_t j = 0; j < n; j++) {
        int rc = pm__store_row_check(&rows[j], err);
        if (rc)
            return rc;
    }
    char sex[PUT_MANY][2];
    *out_inserted = 0;
    int rc;
    if ((rc = reserve_pairs(s, PAIR_PERSON, n, err)) ||
        (rc = reserve_pairs(s, PAIR_DOC, n, err)) || (rc = checks_off(s, err)))
        return rc;
    size_t i = 0;
    while (i < n) {
        size_t k = n - i >= PUT_MANY ? PUT_MANY : 1;
        sqlite3_stmt *q = k == PUT_MANY ? s->put_many : s->put;
        for (size_t j = 0; j < k; j++)
            bind_crossing(q, (int)(j * PUT_COLUMNS), &rows[i + j], sex[j]);
        rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            return db_error(s->db, err, "store crossings");
        int changed = sqlite3_changes(s->db);
        *out_inserted += (uint64_t)changed;
        /* Without conflicts the k new rows got consecutive ids ending at the
         * last one (SQLite gives each the largest id + 1 while that is far
         * below its maximum); otherwise look each one up. */
        int64_t last = sqlite3_last_insert_rowid(s->db);
        if ((size_t)changed == k && last > 0 && last < INT64_MAX / 2) {
            for (size_t j = 0; j < k; j++)
                add_pair(s, PAIR_DOC,
                         pm__store_doc_key(rows[i + j].document_number, rows[i + j].document_issuer),
                         last - (int64_t)(k - 1 - j));
        } else if ((rc = doc_pairs_by_lookup(s, rows + i, k, err))) {
            return rc;
        }
        i += k;
    }
    /* A duplicate's pair is already there; re-adding it is harmless. */
    for (size_t j = 0; j < n; j++) {
        const pm_crossing_t *c = &rows[j];
        add_pair(s, PAIR_PERSON, pm__store_name_key(c->surname_norm, &c->dob),
                 pm__store_doc_key(c->document_number, c->document_issuer));
    }
    if (s->npending[PAIR_PERSON] >= PENDING_MAX || s->npending[PAIR_DOC] >= PENDING_MAX)
        return flush_pairs(s, err);
    return PM_OK;
}

static int sq_put_crossing(pm_store_t *st, const pm_crossing_t *c, int *out_inserted,
                           pm_error_t *err)
{
    uint64_t n = 0;
    int rc = sq_put_crossings(st, c, 1, &n, err);
    *out_inserted = n > 0;
    return rc;
}

/* An INSERT of `rows` rows of `columns` values in one statement. */
static int prepare_put(sqlite3 *db, const char *head, size_t rows, int columns, const char *tail,
                       sqlite3_stmt **out)
{
    pm_buf_t sql;
    pm_buf_init(&sql, 1 << 16);
    int rc = pm_buf_append_str(&sql, head);
    for (size_t r = 0; r < rows && !rc; r++) {
        rc = pm_buf_append_str(&sql, r ? ",(" : "(");
        for (int k = 0; k < columns && !rc; k++)
            rc = pm_buf_append_str(&sql, k ? ",?" : "?");
        rc = rc ? rc : pm_buf_append_str(&sql, ")");
    }
    rc = rc ? rc : pm_buf_append_str(&sql, tail);
    if (rc || sqlite3_prepare_v3(db, (const char *)sql.data, (int)sql.len,
                                 SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK) {
        pm_buf_free(&sql);
        return PM_EDB;
    }
    pm_buf_free(&sql);
    return PM_OK;
}

/* --- queries --- */

#define SELECT_COLUMNS                                                                             \
    "id, reporting_country, record_id, direction, time_utc, utc_offset, port_code, mode, "       \
    "surname, given_names, middle_names, surname_norm, given_names_norm, dob, citizenship, "    \
    "sex, document_type, document_number, document_issuer, mrz, origin, admission_class, "  \
    "stay_until"

/* Appends the WHERE clause for f; parameters are bound by bind_filter in the same order. */
static int where_clause(const pm_crossing_filter_t *f, pm_buf_t *sql)
{
    int rc = pm_buf_append_str(sql, " WHERE 1");
    if (f->after_store_id > 0)
        rc = rc ? rc : pm_buf_append_str(sql, " AND id > ?");
    if (f->has_time_from)
        rc = rc ? rc : pm_buf_append_str(sql, " AND time_utc >= ?");
    if (f->has_time_to)
        rc = rc ? rc : pm_buf_append_str(sql, " AND time_utc < ?");
    if (f->direction != PM_DIRECTION_UNSET)
        rc = rc ? rc : pm_buf_append_str(sql, " AND direction = ?");
    if (f->origin_filter == PM_ORIGIN_LOCAL)
        rc = rc ? rc : pm_buf_append_str(sql, " AND origin IS NULL");
    if (f->origin_filter == PM_ORIGIN_PARTNER)
        rc = rc ? rc : pm_buf_append_str(sql, f->origin[0] ? " AND origin = ?"
                                                            : " AND origin IS NOT NULL");
    if (f->reporting_country[0])
        rc = rc ? rc : pm_buf_append_str(sql, " AND reporting_country = ?");
    if (f->document_number[0] && f->document_issuer[0])
        rc = rc ? rc
                : pm_buf_append_str(sql, " AND id IN (SELECT id FROM crossing_doc WHERE doc_key = ?)");
    if (f->document_number[0])
        rc = rc ? rc : pm_buf_append_str(sql, " AND document_number = ?");
    if (f->document_issuer[0])
        rc = rc ? rc : pm_buf_append_str(sql, " AND document_issuer = ?");
    if (f->surname_norm[0] && f->dob.year)
        rc = rc ? rc
                : pm_buf_append_str(sql, " AND id IN (SELECT d.id FROM crossing_person p "
                                         "JOIN crossing_doc d ON d.doc_key = p.doc_key "
                                         "WHERE p.name_key = ?)");
    if (f->surname_norm[0])
        rc = rc ? rc : pm_buf_append_str(sql, " AND surname_norm = ?");
    if (f->given_names_norm[0])
        rc = rc ? rc : pm_buf_append_str(sql, " AND given_names_norm = ?");
    if (f->dob.year)
        rc = rc ? rc : pm_buf_append_str(sql, " AND dob = ?");
    return rc;
}

static void bind_filter(sqlite3_stmt *q, const pm_crossing_filter_t *f)
{
    int i = 1;
    if (f->after_store_id > 0)
        sqlite3_bind_int64(q, i++, f->after_store_id);
    if (f->has_time_from)
        sqlite3_bind_int64(q, i++, f->time_from);
    if (f->has_time_to)
        sqlite3_bind_int64(q, i++, f->time_to);
    if (f->direction != PM_DIRECTION_UNSET)
        sqlite3_bind_int(q, i++, (int)f->direction);
    if (f->origin_filter == PM_ORIGIN_PARTNER && f->origin[0])
        bind_text(q, i++, f->origin);
    if (f->reporting_country[0])
        bind_text(q, i++, f->reporting_country);
    if (f->document_number[0] && f->document_issuer[0])
        sqlite3_bind_int64(q, i++, pm__store_doc_key(f->document_number, f->document_issuer));
    if (f->document_number[0])
        bind_text(q, i++, f->document_number);
    if (f->document_issuer[0])
        bind_text(q, i++, f->document_issuer);
    if (f->surname_norm[0] && f->dob.year) {
        sqlite3_bind_int64(q, i++, pm__store_name_key(f->surname_norm, &f->dob));
    }
    if (f->surname_norm[0])
        bind_text(q, i++, f->surname_norm);
    if (f->given_names_norm[0])
        bind_text(q, i++, f->given_names_norm);
    if (f->dob.year)
        sqlite3_bind_int64(q, i++, pm__store_dob_int(&f->dob));
}

static int prepare_filtered(sqlite3 *db, const char *head, const pm_crossing_filter_t *f,
                            int with_order, sqlite3_stmt **out, pm_error_t *err)
{
    pm_buf_t sql;
    pm_buf_init(&sql, 4096);
    int rc = pm_buf_append_str(&sql, head);
    rc = rc ? rc : where_clause(f, &sql);
    if (with_order) {
        rc = rc ? rc
                : pm_buf_append_str(&sql, f->order == PM_ORDER_STORE_ID
                                              ? " ORDER BY id"
                                              : " ORDER BY time_utc, id");
        if (f->limit > 0)
            rc = rc ? rc : pm_buf_printf(&sql, " LIMIT %lld", (long long)f->limit);
    }
    if (rc) {
        pm_buf_free(&sql);
        return pm_error_set(err, rc, "query too long");
    }
    if (sqlite3_prepare_v2(db, (const char *)sql.data, (int)sql.len, out, NULL) != SQLITE_OK) {
        pm_buf_free(&sql);
        return db_error(db, err, "query");
    }
    pm_buf_free(&sql);
    bind_filter(*out, f);
    return PM_OK;
}

static void col_text(sqlite3_stmt *q, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    size_t n = t ? (size_t)sqlite3_column_bytes(q, i) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(out, t, n);
    out[n] = '\0';
}

static int iter_next(pm_crossing_iter_t *it, pm_crossing_t *c, pm_error_t *err)
{
    sqlite3_stmt *q = it->impl;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return db_error(sqlite3_db_handle(q), err, "read crossings");
    memset(c, 0, sizeof *c);
    c->store_id = sqlite3_column_int64(q, 0);
    col_text(q, 1, c->reporting_country, sizeof c->reporting_country);
    col_text(q, 2, c->record_id, sizeof c->record_id);
    c->direction = (pm_direction_t)sqlite3_column_int(q, 3);
    c->time_utc = sqlite3_column_int64(q, 4);
    c->utc_offset_min = (int16_t)sqlite3_column_int(q, 5);
    col_text(q, 6, c->port_code, sizeof c->port_code);
    c->mode = (pm_mode_t)sqlite3_column_int(q, 7);
    col_text(q, 8, c->surname, sizeof c->surname);
    col_text(q, 9, c->given_names, sizeof c->given_names);
    col_text(q, 10, c->middle_names, sizeof c->middle_names);
    col_text(q, 11, c->surname_norm, sizeof c->surname_norm);
    col_text(q, 12, c->given_names_norm, sizeof c->given_names_norm);
    int64_t dob = sqlite3_column_int64(q, 13);
    c->dob.year = (int16_t)(dob / 10000);
    c->dob.month = (uint8_t)(dob / 100 % 100);
    c->dob.day = (uint8_t)(dob % 100);
    col_text(q, 14, c->citizenship, sizeof c->citizenship);
    const unsigned char *sex = sqlite3_column_text(q, 15);
    c->sex = sex ? (char)sex[0] : 0;
    col_text(q, 16, c->document_type, sizeof c->document_type);
    col_text(q, 17, c->document_number, sizeof c->document_number);
    col_text(q, 18, c->document_issuer, sizeof c->document_issuer);
    col_text(q, 19, c->mrz, sizeof c->mrz);
    col_text(q, 20, c->origin, sizeof c->origin);
    col_text(q, 21, c->admission_class, sizeof c->admission_class);
    int64_t su = sqlite3_column_int64(q, 22); /* NULL reads as 0: not recorded */
    c->stay_until.year = (int16_t)(su / 10000);
    c->stay_until.month = (uint8_t)(su / 100 % 100);
    c->stay_until.day = (uint8_t)(su % 100);
    /* the middle names' normalised form is not stored (nothing looks it up) */
    if (c->middle_names[0] &&
        pm_name_normalize(c->middle_names, strlen(c->middle_names), c->middle_names_norm,
                          sizeof c->middle_names_norm, err) != PM_OK)
        c->middle_names_norm[0] = '\0';
    return 1;
}

static void iter_close(pm_crossing_iter_t *it)
{
    sqlite3_finalize(it->impl);
    free(it);
}

static const pm__crossing_iter_ops_t sqlite_iter_ops = {iter_next, iter_close};

static int sq_crossings(pm_store_t *st, const pm_crossing_filter_t *f, pm_crossing_iter_t **out,
                        pm_error_t *err)
{
    *out = NULL;
    int rc = flush_pairs(S(st), err);
    if (rc)
        return rc;
    pm_crossing_iter_t *it = calloc(1, sizeof *it);
    if (!it)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    sqlite3_stmt *q = NULL;
    rc = prepare_filtered(S(st)->db, "SELECT " SELECT_COLUMNS " FROM crossing", f, 1, &q, err);
    if (rc) {
        free(it);
        return rc;
    }
    it->ops = &sqlite_iter_ops;
    it->impl = q;
    *out = it;
    return PM_OK;
}

static int sq_count(pm_store_t *st, const pm_crossing_filter_t *f, int64_t *out,
                    pm_error_t *err)
{
    sqlite3_stmt *q = NULL;
    *out = 0;
    int rc = flush_pairs(S(st), err);
    rc = rc ? rc : prepare_filtered(S(st)->db, "SELECT count(*) FROM crossing", f, 0, &q, err);
    if (rc)
        return rc;
    if (sqlite3_step(q) == SQLITE_ROW)
        *out = sqlite3_column_int64(q, 0);
    else
        rc = db_error(S(st)->db, err, "count crossings");
    sqlite3_finalize(q);
    return rc;
}

static int sq_max_id(pm_store_t *st, int64_t *out, pm_error_t *err)
{
    sqlite3_stmt *q = NULL;
    *out = 0;
    if (sqlite3_prepare_v2(S(st)->db, "SELECT coalesce(max(id), 0) FROM crossing", -1, &q,
                           NULL) != SQLITE_OK)
        return db_error(S(st)->db, err, "max id");
    int rc = PM_OK;
    if (sqlite3_step(q) == SQLITE_ROW)
        *out = sqlite3_column_int64(q, 0);
    else
        rc = db_error(S(st)->db, err, "max id");
    sqlite3_finalize(q);
    return rc;
}

/* --- deletion (retention purge) and replacement (correction) --- */

/* Drops the (name_key, doc_key) lookup pair of a row that is gone or changed
 * when no remaining crossing has that document with that name and birth
 * date. *q is prepared on first use; the caller finalizes it. */
static int drop_person_pair(sqlite_store_t *s, sqlite3_stmt **q, int64_t dk,
                            const char *surname_norm, int64_t dob, pm_error_t *err)
{
    pm_dob_t d = {(int16_t)(dob / 10000), (uint8_t)(dob / 100 % 100), (uint8_t)(dob % 100)};
    if (!*q && sqlite3_prepare_v2(s->db,
                                  "DELETE FROM crossing_person WHERE name_key = ?1 AND doc_key = "
                                  "?2 AND NOT EXISTS (SELECT 1 FROM crossing_doc x JOIN crossing "
                                  "c ON c.id = x.id WHERE x.doc_key = ?2 AND c.surname_norm = ?3 "
                                  "AND c.dob = ?4)",
                                  -1, q, NULL) != SQLITE_OK)
        return db_error(s->db, err, "crossing lookup");
    sqlite3_bind_int64(*q, 1, pm__store_name_key(surname_norm, &d));
    sqlite3_bind_int64(*q, 2, dk);
    bind_text(*q, 3, surname_norm);
    sqlite3_bind_int64(*q, 4, dob);
    int rc = sqlite3_step(*q);
    sqlite3_reset(*q);
    return rc == SQLITE_DONE ? PM_OK : db_error(s->db, err, "crossing lookup");
}

static int delete_crossings(sqlite_store_t *s, const int64_t *ids, size_t n, uint64_t *out,
                            pm_error_t *err)
{
    int rc = flush_pairs(s, err);
    if (rc)
        return rc;
    sqlite3_stmt *q = NULL, *pair = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "DELETE FROM crossing WHERE id = ?1 RETURNING doc_key, surname_norm, dob",
                           -1, &q, NULL) != SQLITE_OK)
        return db_error(s->db, err, "delete crossings");
    for (size_t i = 0; i < n && !rc; i++) {
        sqlite3_bind_int64(q, 1, ids[i]);
        int step = sqlite3_step(q);
        if (step == SQLITE_ROW) {
            int64_t dk = sqlite3_column_int64(q, 0), dob = sqlite3_column_int64(q, 2);
            char sn[PM_NAME_NORM_MAX + 1];
            col_text(q, 1, sn, sizeof sn);
            step = sqlite3_step(q); /* finishes the statement (DONE) */
            sqlite3_reset(q);
            (*out)++;
            rc = step == SQLITE_DONE ? drop_person_pair(s, &pair, dk, sn, dob, err)
                                     : db_error(s->db, err, "delete crossings");
        } else {
            sqlite3_reset(q);
            if (step != SQLITE_DONE)
                rc = db_error(s->db, err, "delete crossings");
        }
    }
    sqlite3_finalize(q);
    sqlite3_finalize(pair);
    return rc;
}

static int sq_delete_crossings(pm_store_t *st, const int64_t *ids, size_t n, uint64_t *out,
                               pm_error_t *err)
{
    sqlite_store_t *s = S(st);
    *out = 0;
    if (n && !ids)
        return pm_error_set(err, PM_EINVAL, "delete crossings: NULL ids");
    if (s->in_tx)
        return delete_crossings(s, ids, n, out, err);
    int rc = sq_begin(st, err);
    rc = rc ? rc : delete_crossings(s, ids, n, out, err);
    rc = rc ? rc : sq_commit(st, err);
    if (rc) {
        if (s->in_tx)
            sq_rollback(st, NULL);
        *out = 0;
    }
    return rc;
}

static int update_crossing(sqlite_store_t *s, const pm_crossing_t *c, int64_t *out_id,
                           pm_error_t *err)
{
    int rc = pm__store_row_check(c, err);
    rc = rc ? rc : flush_pairs(s, err);
    if (rc)
        return rc;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, doc_key, surname_norm, dob FROM crossing WHERE "
                           "reporting_country = ?1 AND record_id = ?2",
                           -1, &q, NULL) != SQLITE_OK)
        return db_error(s->db, err, "update crossing");
    bind_text(q, 1, c->reporting_country);
    bind_text(q, 2, c->record_id);
    int step = sqlite3_step(q);
    if (step != SQLITE_ROW) {
        sqlite3_finalize(q);
        return step == SQLITE_DONE ? pm_error_set(err, PM_ENOTFOUND, "no crossing %s %s",
                                                  c->reporting_country, c->record_id)
                                   : db_error(s->db, err, "update crossing");
    }
    int64_t id = sqlite3_column_int64(q, 0), old_dk = sqlite3_column_int64(q, 1),
            old_dob = sqlite3_column_int64(q, 3);
    char old_sn[PM_NAME_NORM_MAX + 1];
    col_text(q, 2, old_sn, sizeof old_sn);
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE crossing SET (reporting_country, record_id, direction, time_utc, "
                           "utc_offset, port_code, mode, surname, given_names, middle_names, "
                           "surname_norm, given_names_norm, dob, citizenship, sex, document_type, "
                           "document_number, document_issuer, mrz, doc_key) = (?1, ?2, "
                           "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
                           "?18, ?19, ?21) WHERE id = ?22", /* ?20 (origin) never changes */
                           -1, &q, NULL) != SQLITE_OK)
        return db_error(s->db, err, "update crossing");
    char sex[2];
    bind_crossing(q, 0, c, sex);
    sqlite3_bind_int64(q, 22, id);
    step = sqlite3_step(q);
    sqlite3_finalize(q);
    if (step != SQLITE_DONE)
        return db_error(s->db, err, "update crossing");
    int64_t dk = pm__store_doc_key(c->document_number, c->document_issuer);
    if (dk != old_dk) {
        if (sqlite3_prepare_v2(s->db, "DELETE FROM crossing_doc WHERE doc_key = ?1 AND id = ?2",
                               -1, &q, NULL) != SQLITE_OK)
            return db_error(s->db, err, "update crossing");
        sqlite3_bind_int64(q, 1, old_dk);
        sqlite3_bind_int64(q, 2, id);
        step = sqlite3_step(q);
        sqlite3_finalize(q);
        if (step != SQLITE_DONE)
            return db_error(s->db, err, "update crossing");
    }
    if ((rc = reserve_pairs(s, PAIR_PERSON, 1, err)) || (rc = reserve_pairs(s, PAIR_DOC, 1, err)))
        return rc;
    add_pair(s, PAIR_DOC, dk, id);
    add_pair(s, PAIR_PERSON, pm__store_name_key(c->surname_norm, &c->dob), dk);
    rc = flush_pairs(s, err);
    sqlite3_stmt *pair = NULL;
    rc = rc ? rc : drop_person_pair(s, &pair, old_dk, old_sn, old_dob, err);
    sqlite3_finalize(pair);
    if (!rc && out_id)
        *out_id = id;
    return rc;
}

static int sq_update_crossing(pm_store_t *st, const pm_crossing_t *c, int64_t *out_id,
                              pm_error_t *err)
{
    sqlite_store_t *s = S(st);
    if (s->in_tx)
        return update_crossing(s, c, out_id, err);
    int rc = sq_begin(st, err);
    rc = rc ? rc : update_crossing(s, c, out_id, err);
    rc = rc ? rc : sq_commit(st, err);
    if (rc && s->in_tx)
        sq_rollback(st, NULL);
    return rc;
}

static void *sq_handle(pm_store_t *st)
{
    return S(st)->db;
}

/* --- the query API (pm_stmt_*) ---------------------------------------------- */

typedef struct sq_q {
    sqlite3_stmt *s;
    sqlite3 *db;
    int64_t changes;
} sq_q_t;

static int q_error(sqlite3 *db, pm_error_t *err, const char *sql)
{
    int ext = sqlite3_extended_errcode(db);
    int code = sqlite3_errcode(db);
    int pm = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? PM_EBUSY
             : (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) ? PM_EEXISTS
             : code == SQLITE_CONSTRAINT ? PM_EVALIDATION
                                         : PM_EDB;
    return pm_error_set(err, pm, "%.60s: %s", sql, sqlite3_errmsg(db));
}

static int sq_q_prepare(pm_store_t *st, const char *sql, void **out, pm_error_t *err)
{
    sqlite3 *db = S(st)->db;
    sq_q_t *q = calloc(1, sizeof *q);
    if (!q)
        return pm_error_set(err, PM_ENOMEM, "prepare: out of memory");
    q->db = db;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q->s, NULL) != SQLITE_OK) {
        int rc = q_error(db, err, sql);
        free(q);
        return rc;
    }
    *out = q;
    return PM_OK;
}

static void sq_q_free(pm_store_t *st, void *p)
{
    (void)st;
    sq_q_t *q = p;
    sqlite3_finalize(q->s);
    free(q);
}

static int sq_q_bind(void *p, int i, int kind, int64_t v, const void *data, size_t n)
{
    sq_q_t *q = p;
    if (i < 1 || i > sqlite3_bind_parameter_count(q->s))
        return PM_ERANGE;
    int rc;
    switch (kind) {
    case PM__BIND_INT64:
        rc = sqlite3_bind_int64(q->s, i, v);
        break;
    case PM__BIND_TEXT:
        rc = sqlite3_bind_text64(q->s, i, data, n, SQLITE_TRANSIENT, SQLITE_UTF8);
        break;
    case PM__BIND_BLOB:
        rc = sqlite3_bind_blob64(q->s, i, data, n, SQLITE_TRANSIENT);
        break;
    case PM__BIND_DOUBLE: {
        double d;
        memcpy(&d, data, sizeof d);
        rc = sqlite3_bind_double(q->s, i, d);
        break;
    }
    default:
        rc = sqlite3_bind_null(q->s, i);
    }
    return rc == SQLITE_OK ? PM_OK : rc == SQLITE_NOMEM ? PM_ENOMEM : PM_ERANGE;
}

static int sq_q_step(pm_store_t *st, void *p, pm_error_t *err)
{
    sqlite_store_t *s = S(st);
    sq_q_t *q = p;
    /* the lookup pairs of the open transaction go in before any query */
    int rc = flush_pairs(s, err);
    if (rc)
        return rc;
    int r = sqlite3_step(q->s);
    if (r == SQLITE_ROW)
        return 1;
    if (r == SQLITE_DONE) {
        q->changes = sqlite3_stmt_readonly(q->s) ? 0 : sqlite3_changes64(q->db);
        return 0;
    }
    rc = q_error(q->db, err, sqlite3_sql(q->s));
    sqlite3_reset(q->s);
    return rc;
}

static void sq_q_reset(void *p, int clear)
{
    sq_q_t *q = p;
    sqlite3_reset(q->s);
    if (clear)
        sqlite3_clear_bindings(q->s);
}

static int sq_q_columns(void *p)
{
    return sqlite3_column_count(((sq_q_t *)p)->s);
}

static int sq_q_is_null(void *p, int col)
{
    return sqlite3_column_type(((sq_q_t *)p)->s, col) == SQLITE_NULL;
}

static double sq_q_double(void *p, int col)
{
    return sqlite3_column_double(((sq_q_t *)p)->s, col);
}

static int64_t sq_q_int64(void *p, int col)
{
    return sqlite3_column_int64(((sq_q_t *)p)->s, col);
}

static const char *sq_q_text(void *p, int col)
{
    return (const char *)sqlite3_column_text(((sq_q_t *)p)->s, col);
}

static const void *sq_q_blob(void *p, int col, size_t *n)
{
    sq_q_t *q = p;
    const void *b = sqlite3_column_blob(q->s, col);
    *n = b ? (size_t)sqlite3_column_bytes(q->s, col) : 0;
    return b;
}

static int64_t sq_q_changes(void *p)
{
    return ((sq_q_t *)p)->changes;
}

static int sq_exec(pm_store_t *st, const char *sql, pm_error_t *err)
{
    sqlite_store_t *s = S(st);
    int rc = flush_pairs(s, err);
    if (rc)
        return rc;
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return q_error(s->db, err, sql);
    return PM_OK;
}

static int sq_reusable(pm_store_t *st)
{
    sqlite_store_t *s = S(st);
    if (s->in_tx)
        sq_rollback(st, NULL);
    return 1;
}

static const pm__store_ops_t sqlite_ops = {
    .name = "sqlite",
    .reusable = sq_reusable,
    .close = sq_close,
    .migrate = sq_migrate,
    .schema_version = sq_schema_version,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .ensure_partner = sq_ensure_partner,
    .partners = sq_partners,
    .partner_cursor = sq_partner_cursor,
    .set_partner_cursor = sq_set_partner_cursor,
    .put_crossing = sq_put_crossing,
    .put_crossings = sq_put_crossings,
    .crossings = sq_crossings,
    .count_crossings = sq_count,
    .max_store_id = sq_max_id,
    .sqlite_handle = sq_handle,
    .q_prepare = sq_q_prepare,
    .q_free = sq_q_free,
    .q_bind = sq_q_bind,
    .q_step = sq_q_step,
    .q_reset = sq_q_reset,
    .q_columns = sq_q_columns,
    .q_is_null = sq_q_is_null,
    .q_int64 = sq_q_int64,
    .q_double = sq_q_double,
    .q_text = sq_q_text,
    .q_blob = sq_q_blob,
    .q_changes = sq_q_changes,
    .exec = sq_exec,
    .delete_crossings = sq_delete_crossings,
    .update_crossing = sq_update_crossing,
};

int pm__sqlite_open(const char *path, const pm_store_options_t *options, pm_store_t **out,
                    pm_error_t *err)
{
    pm_store_options_t defaults = {PM_STORE_DURABLE_FULL, 1, 0, 0};
    const pm_store_options_t *o = options ? options : &defaults;
    *out = NULL;
    if (sqlite3_libversion_number() < 3037000)
        return pm_error_set(err, PM_EUNSUPPORTED, "SQLite %s is too old (STRICT tables need 3.37)",
                            sqlite3_libversion());
    pm_store_t *st = calloc(1, sizeof *st);
    sqlite_store_t *s = calloc(1, sizeof *s);
    if (!st || !s) {
        free(st);
        free(s);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    st->ops = &sqlite_ops;
    st->impl = s;
    s->read_only = o->read_only;
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    flags |= o->read_only ? SQLITE_OPEN_READONLY
                          : SQLITE_OPEN_READWRITE | (o->create ? SQLITE_OPEN_CREATE : 0);
    int rc;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        int code = sqlite3_errcode(s->db);
        rc = pm_error_set(err, (code & 0xff) == SQLITE_CANTOPEN ? PM_ENOTFOUND : PM_EDB,
                          "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        goto fail;
    }
    int busy_ms = o->busy_ms > 0 ? o->busy_ms : 30000;
    sqlite3_busy_timeout(s->db, busy_ms);
    sqlite3_extended_result_codes(s->db, 0);
    if (!o->read_only && (rc = set_wal(s->db, busy_ms, err, path)))
        goto fail;
    /* A 64 MiB page cache keeps the index pages of a large import hot. */
    if ((rc = exec(s->db, "PRAGMA foreign_keys = ON", err, path)) ||
        (rc = exec(s->db, "PRAGMA cache_size = -65536", err, path)) ||
        (rc = exec(s->db, "PRAGMA temp_store = MEMORY", err, path)) ||
        (rc = exec(s->db,
                   o->durability == PM_STORE_DURABLE_NORMAL ? "PRAGMA synchronous = NORMAL"
                                                            : "PRAGMA synchronous = FULL",
                   err, path)))
        goto fail;
    if (!o->read_only &&
        (rc = exec(s->db,
                   "CREATE TABLE IF NOT EXISTS schema_version (\n"
                   "  module TEXT PRIMARY KEY,\n"
                   "  version INTEGER NOT NULL,\n"
                   "  applied_at TEXT NOT NULL\n"
                   ") STRICT",
                   err, path)))
        goto fail;
    if ((rc = sq_migrate(st, &pm__store_schema, err)))
        goto fail;
    if (prepare_put(s->db, put_head, 1, PUT_COLUMNS, put_tail, &s->put) ||
        prepare_put(s->db, put_head, PUT_MANY, PUT_COLUMNS, put_tail, &s->put_many) ||
        prepare_put(s->db, pair_head[0], 1, 2, pair_tail, &s->pair[0]) ||
        prepare_put(s->db, pair_head[0], PAIR_MANY, 2, pair_tail, &s->pair_many[0]) ||
        prepare_put(s->db, pair_head[1], 1, 2, pair_tail, &s->pair[1]) ||
        prepare_put(s->db, pair_head[1], PAIR_MANY, 2, pair_tail, &s->pair_many[1]) ||
        sqlite3_prepare_v3(s->db,
                           "SELECT id, doc_key FROM crossing WHERE reporting_country = ?1 AND "
                           "record_id = ?2",
                           -1, SQLITE_PREPARE_PERSISTENT, &s->find_id, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(s->db, "INSERT INTO partner (code) VALUES (?1) ON CONFLICT DO NOTHING",
                           -1, SQLITE_PREPARE_PERSISTENT, &s->put_partner, NULL) != SQLITE_OK) {
        rc = db_error(s->db, err, path);
        goto fail;
    }
    *out = st;
    return PM_OK;
fail:
    sq_close(st);
    return rc;
}
