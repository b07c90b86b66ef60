/* The PostgreSQL backend of the store (libpq): the same tables and
 * migrations as SQLite (sql_postgres of each step), COPY into a session
 * staging table for bulk puts, one writer at a time so store ids increase in
 * commit order, server-side cursors for iterators. See docs/store.md. */
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "perimeter/core.h"
#include "store/store_impl.h"

/* Advisory lock keys (transaction scope): one for migrations, one for
 * writers of crossings ("pm_migr", "pm_store" in ASCII). */
#define LOCK_MIGRATE "7002365054945906"
#define LOCK_WRITER "8101804954006791525"
/* Rows per FETCH of an iterator's cursor. */
#define FETCH_ROWS 1000

typedef struct pg_store {
    PGconn *conn;
    int in_tx;      /* the caller's transaction (pm_store_begin) is open */
    int aborted;    /* an error inside it that a savepoint did not undo */
    int writer;     /* the writer lock is held in the caller's transaction */
    int read_only;
    int iters;      /* open iterators */
    int iter_tx;    /* the iterators' own read transaction is open */
    unsigned next_cursor;
    unsigned next_stmt; /* names of the query API's prepared statements */
    pm_buf_t copy;  /* COPY data of a put */
} pg_store_t;

typedef struct pg_iter {
    pm_store_t *st;
    PGresult *res;
    int row, nrows;
    int done;
    char name[32];
} pg_iter_t;

static pg_store_t *P(pm_store_t *st)
{
    return (pg_store_t *)st->impl;
}

static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* the library never prints; NOTICEs carry nothing we act on */
}

/* The error of res (or of the connection when res is NULL) into err. */
static int pg_fail(pg_store_t *s, const PGresult *res, pm_error_t *err, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int code = PM_EDB;
    /* lock_timeout, serialization failure, deadlock, statement cancelled */
    if (state && (!strcmp(state, "55P03") || !strcmp(state, "40001") || !strcmp(state, "40P01") ||
                  !strcmp(state, "57014")))
        code = PM_EBUSY;
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    if (!msg || !*msg)
        msg = PQerrorMessage(s->conn);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    if (s->in_tx)
        s->aborted = 1; /* undone by the caller's ROLLBACK TO SAVEPOINT where there is one */
    return pm_error_set(err, code, "%s: %.*s", what ? what : "database", (int)n, msg);
}

/* Runs sql (no parameters; may hold several statements). */
static int run(pg_store_t *s, const char *sql, pm_error_t *err, const char *what)
{
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType t = PQresultStatus(r);
    int rc = t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK ? PM_OK : pg_fail(s, r, err, what);
    PQclear(r);
    return rc;
}

/* Runs sql with n text parameters; returns the result (caller PQclears) or
 * NULL with err set. */
static PGresult *query(pg_store_t *s, const char *sql, int n, const char *const *vals,
                       pm_error_t *err, const char *what)
{
    PGresult *r = PQexecParams(s->conn, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType t = PQresultStatus(r);
    if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK)
        return r;
    pg_fail(s, r, err, what);
    PQclear(r);
    return NULL;
}

static int parse_i64(const char *v, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        return -1;
    *out = x;
    return 0;
}

/* The one integer of a one-row result. */
static int result_i64(pg_store_t *s, PGresult *r, int64_t *out, pm_error_t *err, const char *what)
{
    (void)s;
    if (PQntuples(r) != 1 || PQnfields(r) < 1 || PQgetisnull(r, 0, 0) ||
        parse_i64(PQgetvalue(r, 0, 0), out))
        return pm_error_set(err, PM_EDB, "%s: unexpected answer from the server", what);
    return PM_OK;
}

/* --- transactions -------------------------------------------------------- */

/* Statement-level atomicity inside the caller's transaction (as SQLite has):
 * a failing write is undone to a savepoint and the transaction goes on. */
static int stmt_begin(pg_store_t *s, pm_error_t *err)
{
    if (!s->in_tx)
        return PM_OK;
    if (s->aborted)
        return pm_error_set(err, PM_ESTATE,
                            "the transaction failed earlier; roll it back");
    return run(s, "SAVEPOINT pm_stmt", err, "savepoint");
}

static int stmt_end(pg_store_t *s, int rc, pm_error_t *err)
{
    if (!s->in_tx)
        return rc;
    if (rc == PM_OK) {
        rc = run(s, "RELEASE SAVEPOINT pm_stmt", err, "savepoint");
        return rc;
    }
    if (run(s, "ROLLBACK TO SAVEPOINT pm_stmt; RELEASE SAVEPOINT pm_stmt", NULL, NULL) == PM_OK)
        s->aborted = 0;
    return rc;
}

static int begin_as(pm_store_t *st, const char *sql, pm_error_t *err)
{
    pg_store_t *s = P(st);
    if (s->in_tx)
        return pm_error_set(err, PM_ESTATE, "begin: a transaction is already open");
    if (s->iter_tx)
        return pm_error_set(err, PM_ESTATE, "begin: close the open iterators first");
    int rc = run(s, sql, err, "begin");
    if (!rc) {
        s->in_tx = 1;
        s->aborted = 0;
        s->writer = 0;
    }
    return rc;
}

static int pg_begin(pm_store_t *st, pm_error_t *err)
{
    return begin_as(st, "BEGIN", err);
}

static int pg_begin_read(pm_store_t *st, pm_error_t *err)
{
    return begin_as(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
}

static int pg_commit(pm_store_t *st, pm_error_t *err)
{
    pg_store_t *s = P(st);
    if (!s->in_tx)
        return pm_error_set(err, PM_ESTATE, "commit: no transaction is open");
    if (s->aborted)
        return pm_error_set(err, PM_ESTATE, "commit: the transaction failed earlier; roll it back");
    PGresult *r = PQexec(s->conn, "COMMIT");
    int rc;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = pg_fail(s, r, err, "commit");
    else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
        /* PostgreSQL answers COMMIT of an aborted transaction with ROLLBACK */
        rc = pm_error_set(err, PM_EDB, "commit: the server rolled the transaction back");
    else
        rc = PM_OK;
    PQclear(r);
    if (rc == PM_OK || PQtransactionStatus(s->conn) == PQTRANS_IDLE) {
        s->in_tx = 0;
        s->aborted = 0;
        s->writer = 0;
    }
    return rc;
}

static int pg_rollback(pm_store_t *st, pm_error_t *err)
{
    pg_store_t *s = P(st);
    if (!s->in_tx)
        return pm_error_set(err, PM_ESTATE, "rollback: no transaction is open");
    s->in_tx = 0;
    s->aborted = 0;
    s->writer = 0;
    return run(s, "ROLLBACK", err, "rollback");
}

/* A write outside the caller's transaction while an iterator's read
 * transaction is open would end that transaction (and the cursors). */
static int write_allowed(pg_store_t *s, pm_error_t *err, const char *what)
{
    if (s->read_only)
        return pm_error_set(err, PM_ESTATE, "%s: the store is open read-only", what);
    if (!s->in_tx && s->iter_tx)
        return pm_error_set(err, PM_ESTATE, "%s: close the open iterators before writing", what);
    return PM_OK;
}

/* --- migrations ---------------------------------------------------------- */

static int schema_version_in(pg_store_t *s, const char *module, int *out, pm_error_t *err)
{
    *out = 0;
    PGresult *r = query(s, "SELECT to_regclass('schema_version') IS NOT NULL", 0, NULL, err,
                        "schema_version");
    if (!r)
        return err ? err->code : PM_EDB;
    int exists = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!exists)
        return PM_OK;
    const char *v[1] = {module};
    r = query(s, "SELECT version FROM schema_version WHERE module = $1", 1, v, err,
              "schema_version");
    if (!r)
        return err ? err->code : PM_EDB;
    int64_t x = 0;
    int rc = PM_OK;
    if (PQntuples(r) == 1 && !(rc = result_i64(s, r, &x, err, "schema_version")))
        *out = (int)x;
    PQclear(r);
    return rc;
}

static int pg_schema_version(pm_store_t *st, const char *module, int *out_version,
                             pm_error_t *err)
{
    return schema_version_in(P(st), module, out_version, err);
}

static int pg_migrate(pm_store_t *st, const pm_migration_set_t *set, pm_error_t *err)
{
    pg_store_t *s = P(st);
    if (!set || !set->module || !set->module[0] || (set->count && !set->steps))
        return pm_error_set(err, PM_EINVAL, "migrate: empty migration set");
    for (size_t i = 0; i < set->count; i++)
        if (set->steps[i].version != (int)i + 1)
            return pm_error_set(err, PM_EINVAL, "migrate %s: step %zu must have version %zu",
                                set->module, i, i + 1);
    if (s->in_tx || s->iter_tx)
        return pm_error_set(err, PM_ESTATE, "migrate %s: inside a transaction", set->module);
    if (s->read_only) {
        int have = 0;
        int rc = schema_version_in(s, set->module, &have, err);
        if (rc)
            return rc;
        if ((size_t)have != set->count)
            return pm_error_set(err, PM_ESTATE,
                                "%s: database schema version %d, this program needs %zu",
                                set->module, have, set->count);
        return PM_OK;
    }
    for (;;) {
        /* One step per transaction; the advisory lock serialises concurrent openers. */
        int rc = run(s,
                     "BEGIN; SELECT pg_advisory_xact_lock(" LOCK_MIGRATE ");"
                     "CREATE TABLE IF NOT EXISTS schema_version (\n"
                     "  module text PRIMARY KEY,\n"
                     "  version integer NOT NULL,\n"
                     "  applied_at text NOT NULL\n"
                     ")",
                     err, "migrate");
        if (rc)
            goto fail;
        int have = 0;
        if ((rc = schema_version_in(s, set->module, &have, err)))
            goto fail;
        if ((size_t)have > set->count) {
            rc = pm_error_set(err, PM_ESTATE,
                              "migrate %s: database schema version %d is newer than this "
                              "program's %zu",
                              set->module, have, set->count);
            goto fail;
        }
        if ((size_t)have == set->count)
            return run(s, "COMMIT", err, "migrate");
        const pm_migration_t *m = &set->steps[have];
        if (!m->sql_postgres) {
            rc = pm_error_set(err, PM_EUNSUPPORTED,
                              "the %s module's tables are SQLite-only for now (step %d has no "
                              "PostgreSQL version); use a SQLite store for it",
                              set->module, m->version);
            goto fail;
        }
        PGresult *r = PQexec(s->conn, m->sql_postgres);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
            char what[256];
            snprintf(what, sizeof what, "migrate %s to version %d (%s)", set->module, m->version,
                     m->description ? m->description : "");
            rc = pg_fail(s, r, err, what);
            PQclear(r);
            goto fail;
        }
        PQclear(r);
        char ver[16];
        snprintf(ver, sizeof ver, "%d", m->version);
        const char *v[2] = {set->module, ver};
        r = query(s,
                  "INSERT INTO schema_version (module, version, applied_at) VALUES ($1, $2, "
                  "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) "
                  "ON CONFLICT (module) DO UPDATE SET version = excluded.version, "
                  "applied_at = excluded.applied_at",
                  2, v, err, "migrate");
        if (!r) {
            rc = err ? err->code : PM_EDB;
            goto fail;
        }
        PQclear(r);
        if ((rc = run(s, "COMMIT", err, "migrate")))
            goto fail;
        continue;
    fail:
        run(s, "ROLLBACK", NULL, NULL);
        return rc;
    }
}

/* --- partners ------------------------------------------------------------ */

static int pg_ensure_partner(pm_store_t *st, const char *code, pm_error_t *err)
{
    pg_store_t *s = P(st);
    if (!code || strlen(code) != 3)
        return pm_error_set(err, PM_EINVAL, "partner code must be 3 letters");
    int rc = write_allowed(s, err, "partner");
    if (rc || (rc = stmt_begin(s, err)))
        return rc;
    const char *v[1] = {code};
    PGresult *r = query(s, "INSERT INTO partner (code) VALUES ($1) ON CONFLICT DO NOTHING", 1, v,
                        err, "partner");
    rc = r ? PM_OK : (err ? err->code : PM_EDB);
    PQclear(r);
    return stmt_end(s, rc, err);
}

static int pg_partners(pm_store_t *st, char (*out)[4], size_t max, size_t *out_n, pm_error_t *err)
{
    pg_store_t *s = P(st);
    *out_n = 0;
    PGresult *r = query(s, "SELECT code FROM partner ORDER BY code", 0, NULL, err, "partners");
    if (!r)
        return err ? err->code : PM_EDB;
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        if ((size_t)i < max)
            snprintf(out[i], 4, "%s", PQgetvalue(r, i, 0));
    }
    *out_n = (size_t)n;
    PQclear(r);
    return PM_OK;
}

static int pg_partner_cursor(pm_store_t *st, const char *code, int64_t *out_cursor,
                             pm_error_t *err)
{
    pg_store_t *s = P(st);
    *out_cursor = 0;
    const char *v[1] = {code};
    PGresult *r = query(s, "SELECT feed_cursor FROM partner WHERE code = $1", 1, v, err,
                        "partner cursor");
    if (!r)
        return err ? err->code : PM_EDB;
    int rc = PQntuples(r) == 1 ? result_i64(s, r, out_cursor, err, "partner cursor") : PM_OK;
    PQclear(r);
    return rc;
}

static int pg_set_partner_cursor(pm_store_t *st, const char *code, int64_t cursor,
                                 pm_error_t *err)
{
    pg_store_t *s = P(st);
    int rc = write_allowed(s, err, "partner cursor");
    if (rc || (rc = stmt_begin(s, err)))
        return rc;
    char cur[24];
    snprintf(cur, sizeof cur, "%lld", (long long)cursor);
    const char *v[2] = {code, cur};
    PGresult *r = query(s,
                        "UPDATE partner SET feed_cursor = greatest(feed_cursor, $2::bigint) "
                        "WHERE code = $1",
                        2, v, err, "partner cursor");
    if (!r)
        rc = err ? err->code : PM_EDB;
    else if (strcmp(PQcmdTuples(r), "1") != 0)
        rc = pm_error_set(err, PM_ENOTFOUND, "partner %s is not recorded", code);
    PQclear(r);
    return stmt_end(s, rc, err);
}

/* --- puts: COPY into the staging table, then one INSERT ... SELECT -------- */

#define STAGE_COLUMNS                                                                              \
    "reporting_country, record_id, direction, time_utc, utc_offset, port_code, mode, surname, "  \
    "given_names, middle_names, surname_norm, given_names_norm, dob, citizenship, sex, "         \
    "document_type, document_number, document_issuer, mrz, origin, doc_key, admission_class, "   \
    "stay_until"

/* COPY text format: backslash, tab, newline and carriage return escaped. */
static int copy_text(pm_buf_t *b, const char *v)
{
    const char *run_start = v;
    for (const char *p = v;; p++) {
        char c = *p;
        if (c && c != '\\' && c != '\t' && c != '\n' && c != '\r')
            continue;
        int rc = pm_buf_append(b, run_start, (size_t)(p - run_start));
        if (rc || !c)
            return rc;
        const char *esc = c == '\\' ? "\\\\" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : "\\r";
        if ((rc = pm_buf_append(b, esc, 2)))
            return rc;
        run_start = p + 1;
    }
}

static int copy_row(pm_buf_t *b, int64_t ord, const pm_crossing_t *c)
{
    int rc = pm_buf_printf(b, "%lld\t", (long long)ord);
    rc = rc ? rc : copy_text(b, c->reporting_country);
    rc = rc ? rc : pm_buf_append(b, "\t", 1);
    rc = rc ? rc : copy_text(b, c->record_id);
    rc = rc ? rc
            : pm_buf_printf(b, "\t%d\t%lld\t%d\t", (int)c->direction, (long long)c->time_utc,
                            (int)c->utc_offset_min);
    rc = rc ? rc : copy_text(b, c->port_code);
    rc = rc ? rc : pm_buf_printf(b, "\t%d\t", (int)c->mode);
    const char *texts[5] = {c->surname, c->given_names, c->middle_names, c->surname_norm,
                            c->given_names_norm};
    for (int i = 0; i < 5 && !rc; i++) {
        rc = copy_text(b, texts[i]);
        rc = rc ? rc : pm_buf_append(b, "\t", 1);
    }
    rc = rc ? rc : pm_buf_printf(b, "%lld\t", (long long)pm__store_dob_int(&c->dob));
    rc = rc ? rc : copy_text(b, c->citizenship);
    rc = rc ? rc : pm_buf_printf(b, "\t%c\t", c->sex);
    rc = rc ? rc : copy_text(b, c->document_type);
    rc = rc ? rc : pm_buf_append(b, "\t", 1);
    rc = rc ? rc : copy_text(b, c->document_number);
    rc = rc ? rc : pm_buf_append(b, "\t", 1);
    rc = rc ? rc : copy_text(b, c->document_issuer);
    rc = rc ? rc : pm_buf_append(b, "\t", 1);
    if (c->mrz[0])
        rc = rc ? rc : copy_text(b, c->mrz);
    else
        rc = rc ? rc : pm_buf_append(b, "\\N", 2);
    rc = rc ? rc : pm_buf_append(b, "\t", 1);
    if (c->origin[0])
        rc = rc ? rc : copy_text(b, c->origin);
    else
        rc = rc ? rc : pm_buf_append(b, "\\N", 2);
    rc = rc ? rc
            : pm_buf_printf(b, "\t%lld\t",
                            (long long)pm__store_doc_key(c->document_number, c->document_issuer));
    /* admission data (our own entries only; never in the feed) */
    if (c->admission_class[0])
        rc = rc ? rc : copy_text(b, c->admission_class);
    else
        rc = rc ? rc : pm_buf_append(b, "\\N", 2);
    if (c->stay_until.year)
        rc = rc ? rc : pm_buf_printf(b, "\t%lld\t", (long long)pm__store_dob_int(&c->stay_until));
    else
        rc = rc ? rc : pm_buf_append(b, "\t\\N\t", 4);
    rc = rc ? rc
            : pm_buf_printf(b, "%lld\n", (long long)pm__store_name_key(c->surname_norm, &c->dob));
    return rc;
}

/* Sends b as the data of the COPY that has just been started. */
static int copy_send(pg_store_t *s, const pm_buf_t *b, pm_error_t *err)
{
    PGresult *r = PQexec(s->conn, "COPY pm_stage (ord, " STAGE_COLUMNS ", name_key) FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        int rc = pg_fail(s, r, err, "store crossings (COPY)");
        PQclear(r);
        return rc;
    }
    PQclear(r);
    int ok = 1;
    /* PQputCopyData takes an int length: send in pieces */
    size_t off = 0;
    while (ok && off < b->len) {
        size_t n = b->len - off > (1u << 20) ? (1u << 20) : b->len - off;
        ok = PQputCopyData(s->conn, (const char *)b->data + off, (int)n) == 1;
        off += n;
    }
    if (PQputCopyEnd(s->conn, ok ? NULL : "client error") != 1)
        ok = 0;
    int rc = PM_OK;
    while ((r = PQgetResult(s->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == PM_OK)
            rc = pg_fail(s, r, err, "store crossings (COPY)");
        PQclear(r);
    }
    if (!ok && rc == PM_OK)
        rc = pg_fail(s, NULL, err, "store crossings (COPY)");
    return rc;
}

/* The rows go in input order (the first of a repeated key wins, later ones
 * and keys already stored change nothing); their document entries and the
 * name -> document pairs in the same statement. */
static const char put_sql[] =
    "WITH ins AS (\n"
    "  INSERT INTO crossing (" STAGE_COLUMNS ")\n"
    "  SELECT " STAGE_COLUMNS " FROM pm_stage ORDER BY ord\n"
    "  ON CONFLICT (reporting_country, record_id) DO NOTHING\n"
    "  RETURNING id, doc_key),\n"
    "d AS (INSERT INTO crossing_doc (doc_key, id) SELECT doc_key, id FROM ins ORDER BY 1, 2),\n"
    "p AS (INSERT INTO crossing_person (name_key, doc_key)\n"
    "  SELECT DISTINCT name_key, doc_key FROM pm_stage ORDER BY 1, 2 ON CONFLICT DO NOTHING)\n"
    "SELECT count(*) FROM ins";

/* Stores the rows whose COPY data is in s->copy. `head` opens the unit the
 * rows go in ("BEGIN" outside the caller's transaction, a savepoint inside
 * it) and rides with the first round trip. */
static int put_rows(pg_store_t *s, const char *head, uint64_t *out_inserted, pm_error_t *err)
{
    char sql[256];
    /* one writer at a time: ids are taken and committed in the same order */
    snprintf(sql, sizeof sql, "%s; %sTRUNCATE pm_stage", head,
             s->writer ? "" : "SELECT pg_advisory_xact_lock(" LOCK_WRITER "); ");
    int rc = run(s, sql, err, "store crossings");
    if (rc || (rc = copy_send(s, &s->copy, err)))
        return rc;
    PGresult *r = query(s, put_sql, 0, NULL, err, "store crossings");
    if (!r)
        return err ? err->code : PM_EDB;
    int64_t ins = 0;
    rc = result_i64(s, r, &ins, err, "store crossings");
    PQclear(r);
    if (!rc)
        *out_inserted = (uint64_t)ins;
    return rc;
}

static int pg_put_crossings(pm_store_t *st, const pm_crossing_t *rows, size_t n,
                            uint64_t *out_inserted, pm_error_t *err)
{
    pg_store_t *s = P(st);
    *out_inserted = 0;
    for (size_t j = 0; j < n; j++) {
        int rc = pm__store_row_check(&rows[j], err);
        if (rc)
            return rc;
    }
    int rc = write_allowed(s, err, "store crossings");
    if (rc)
        return rc;
    if (n == 0)
        return PM_OK;
    if (s->in_tx && s->aborted)
        return pm_error_set(err, PM_ESTATE, "the transaction failed earlier; roll it back");
    pm_buf_reset(&s->copy);
    for (size_t i = 0; i < n && !rc; i++)
        rc = copy_row(&s->copy, (int64_t)i, &rows[i]);
    if (rc)
        return pm_error_set(err, rc, "store crossings: %zu rows are too many for one call", n);
    if (s->in_tx) {
        rc = put_rows(s, "SAVEPOINT pm_stmt", out_inserted, err);
        int had_writer = s->writer;
        if (!rc)
            s->writer = 1; /* RELEASE keeps the lock to the end of the transaction */
        rc = stmt_end(s, rc, err);
        if (rc) {
            *out_inserted = 0;
            s->writer = had_writer; /* a lock taken inside the savepoint went with it */
        }
        return rc;
    }
    /* Outside a transaction the call is one. */
    rc = put_rows(s, "BEGIN", out_inserted, err);
    s->writer = 0; /* the lock ends with this transaction */
    if (!rc) {
        PGresult *r = PQexec(s->conn, "COMMIT");
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = pg_fail(s, r, err, "store crossings (commit)");
        else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
            rc = pm_error_set(err, PM_EDB, "store crossings: the server rolled back");
        PQclear(r);
    }
    if (rc) {
        if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
            run(s, "ROLLBACK", NULL, NULL);
        *out_inserted = 0;
    }
    return rc;
}

static int pg_put_crossing(pm_store_t *st, const pm_crossing_t *c, int *out_inserted,
                           pm_error_t *err)
{
    uint64_t n = 0;
    int rc = pg_put_crossings(st, c, 1, &n, err);
    *out_inserted = n > 0;
    return rc;
}

/* --- queries ------------------------------------------------------------- */

#define SELECT_COLUMNS                                                                             \
    "id, reporting_country, record_id, direction, time_utc, utc_offset, port_code, mode, "       \
    "surname, given_names, middle_names, surname_norm, given_names_norm, dob, citizenship, "    \
    "sex, document_type, document_number, document_issuer, mrz, origin, admission_class, "      \
    "stay_until"

typedef struct params {
    int n;
    const char *v[16];
    char num[16][24];
} params_t;

static void add_i64(params_t *p, int64_t x)
{
    snprintf(p->num[p->n], sizeof p->num[p->n], "%lld", (long long)x);
    p->v[p->n] = p->num[p->n];
    p->n++;
}

static void add_text(params_t *p, const char *t)
{
    p->v[p->n++] = t;
}

/* The WHERE clause of f (the same conditions as the SQLite backend's) and
 * its parameters. */
static int where_clause(const pm_crossing_filter_t *f, pm_buf_t *sql, params_t *p)
{
    int rc = pm_buf_append_str(sql, " WHERE true");
#define COND(text) (rc = rc ? rc : pm_buf_printf(sql, text, p->n))
    if (f->after_store_id > 0) {
        add_i64(p, f->after_store_id);
        COND(" AND id > $%d::bigint");
    }
    if (f->has_time_from) {
        add_i64(p, f->time_from);
        COND(" AND time_utc >= $%d::bigint");
    }
    if (f->has_time_to) {
        add_i64(p, f->time_to);
        COND(" AND time_utc < $%d::bigint");
    }
    if (f->direction != PM_DIRECTION_UNSET) {
        add_i64(p, (int64_t)f->direction);
        COND(" AND direction = $%d::smallint");
    }
    if (f->origin_filter == PM_ORIGIN_LOCAL)
        rc = rc ? rc : pm_buf_append_str(sql, " AND origin IS NULL");
    if (f->origin_filter == PM_ORIGIN_PARTNER) {
        if (f->origin[0]) {
            add_text(p, f->origin);
            COND(" AND origin = $%d");
        } else {
            rc = rc ? rc : pm_buf_append_str(sql, " AND origin IS NOT NULL");
        }
    }
    if (f->reporting_country[0]) {
        add_text(p, f->reporting_country);
        COND(" AND reporting_country = $%d");
    }
    if (f->document_number[0] && f->document_issuer[0]) {
        add_i64(p, pm__store_doc_key(f->document_number, f->document_issuer));
        COND(" AND id IN (SELECT id FROM crossing_doc WHERE doc_key = $%d::bigint)");
    }
    if (f->document_number[0]) {
        add_text(p, f->document_number);
        COND(" AND document_number = $%d");
    }
    if (f->document_issuer[0]) {
        add_text(p, f->document_issuer);
        COND(" AND document_issuer = $%d");
    }
    if (f->surname_norm[0] && f->dob.year) {
        add_i64(p, pm__store_name_key(f->surname_norm, &f->dob));
        COND(" AND id IN (SELECT d.id FROM crossing_person p JOIN crossing_doc d ON d.doc_key = "
             "p.doc_key WHERE p.name_key = $%d::bigint)");
    }
    if (f->surname_norm[0]) {
        add_text(p, f->surname_norm);
        COND(" AND surname_norm = $%d");
    }
    if (f->given_names_norm[0]) {
        add_text(p, f->given_names_norm);
        COND(" AND given_names_norm = $%d");
    }
    if (f->dob.year) {
        add_i64(p, pm__store_dob_int(&f->dob));
        COND(" AND dob = $%d::integer");
    }
#undef COND
    return rc;
}

static void col_text(const PGresult *r, int row, int col, char *out, size_t cap)
{
    const char *t = PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
    size_t n = strlen(t);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, t, n);
    out[n] = '\0';
}

static int64_t col_i64(const PGresult *r, int row, int col)
{
    int64_t v = 0;
    if (parse_i64(PQgetvalue(r, row, col), &v))
        v = 0;
    return v;
}

static int iter_fetch(pg_iter_t *it, pm_error_t *err)
{
    pg_store_t *s = P(it->st);
    char sql[64];
    snprintf(sql, sizeof sql, "FETCH %d FROM %s", FETCH_ROWS, it->name);
    PQclear(it->res);
    it->res = query(s, sql, 0, NULL, err, "read crossings");
    if (!it->res)
        return err ? err->code : PM_EDB;
    it->row = 0;
    it->nrows = PQntuples(it->res);
    if (it->nrows < FETCH_ROWS)
        it->done = 1;
    return PM_OK;
}

static int iter_next(pm_crossing_iter_t *pit, pm_crossing_t *c, pm_error_t *err)
{
    pg_iter_t *it = pit->impl;
    if (it->row >= it->nrows) {
        if (it->done)
            return 0;
        int rc = iter_fetch(it, err);
        if (rc)
            return rc;
        if (it->nrows == 0)
            return 0;
    }
    const PGresult *r = it->res;
    int i = it->row++;
    memset(c, 0, sizeof *c);
    c->store_id = col_i64(r, i, 0);
    col_text(r, i, 1, c->reporting_country, sizeof c->reporting_country);
    col_text(r, i, 2, c->record_id, sizeof c->record_id);
    c->direction = (pm_direction_t)col_i64(r, i, 3);
    c->time_utc = col_i64(r, i, 4);
    c->utc_offset_min = (int16_t)col_i64(r, i, 5);
    col_text(r, i, 6, c->port_code, sizeof c->port_code);
    c->mode = (pm_mode_t)col_i64(r, i, 7);
    col_text(r, i, 8, c->surname, sizeof c->surname);
    col_text(r, i, 9, c->given_names, sizeof c->given_names);
    col_text(r, i, 10, c->middle_names, sizeof c->middle_names);
    col_text(r, i, 11, c->surname_norm, sizeof c->surname_norm);
    col_text(r, i, 12, c->given_names_norm, sizeof c->given_names_norm);
    int64_t dob = col_i64(r, i, 13);
    c->dob.year = (int16_t)(dob / 10000);
    c->dob.month = (uint8_t)(dob / 100 % 100);
    c->dob.day = (uint8_t)(dob % 100);
    col_text(r, i, 14, c->citizenship, sizeof c->citizenship);
    c->sex = PQgetisnull(r, i, 15) ? 0 : PQgetvalue(r, i, 15)[0];
    col_text(r, i, 16, c->document_type, sizeof c->document_type);
    col_text(r, i, 17, c->document_number, sizeof c->document_number);
    col_text(r, i, 18, c->document_issuer, sizeof c->document_issuer);
    col_text(r, i, 19, c->mrz, sizeof c->mrz);
    col_text(r, i, 20, c->origin, sizeof c->origin);
    col_text(r, i, 21, c->admission_class, sizeof c->admission_class);
    if (!PQgetisnull(r, i, 22)) {
        int64_t su = col_i64(r, i, 22);
        c->stay_until.year = (int16_t)(su / 10000);
        c->stay_until.month = (uint8_t)(su / 100 % 100);
        c->stay_until.day = (uint8_t)(su % 100);
    }
    /* the middle names' normalised form is not stored (nothing looks it up) */
    if (c->middle_names[0] &&
        pm_name_normalize(c->middle_names, strlen(c->middle_names), c->middle_names_norm,
                          sizeof c->middle_names_norm, err) != PM_OK)
        c->middle_names_norm[0] = '\0';
    return 1;
}

static void iter_close(pm_crossing_iter_t *pit)
{
    pg_iter_t *it = pit->impl;
    pg_store_t *s = P(it->st);
    PQclear(it->res);
    s->iters--;
    if (s->iter_tx && s->iters == 0) {
        /* the iterators' own read-only transaction: nothing to keep */
        run(s, "COMMIT", NULL, NULL);
        s->iter_tx = 0;
    } else if (PQtransactionStatus(s->conn) == PQTRANS_INTRANS) {
        char sql[64];
        snprintf(sql, sizeof sql, "CLOSE %s", it->name);
        run(s, sql, NULL, NULL);
    }
    free(it);
    free(pit);
}

static const pm__crossing_iter_ops_t pg_iter_ops = {iter_next, iter_close};

static int pg_crossings(pm_store_t *st, const pm_crossing_filter_t *f, pm_crossing_iter_t **out,
                        pm_error_t *err)
{
    pg_store_t *s = P(st);
    *out = NULL;
    if (s->in_tx && s->aborted)
        return pm_error_set(err, PM_ESTATE, "read crossings: the transaction failed earlier");
    pm_crossing_iter_t *pit = calloc(1, sizeof *pit);
    pg_iter_t *it = calloc(1, sizeof *it);
    if (!pit || !it) {
        free(pit);
        free(it);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    it->st = st;
    snprintf(it->name, sizeof it->name, "pm_iter_%u", s->next_cursor++);
    pm_buf_t sql;
    pm_buf_init(&sql, 8192);
    params_t p;
    p.n = 0;
    int rc = pm_buf_printf(&sql, "DECLARE %s NO SCROLL CURSOR FOR SELECT " SELECT_COLUMNS
                                 " FROM crossing",
                           it->name);
    rc = rc ? rc : where_clause(f, &sql, &p);
    rc = rc ? rc
            : pm_buf_append_str(&sql, f->order == PM_ORDER_STORE_ID ? " ORDER BY id"
                                                                    : " ORDER BY time_utc, id");
    if (f->limit > 0)
        rc = rc ? rc : pm_buf_printf(&sql, " LIMIT %lld", (long long)f->limit);
    if (rc) {
        pm_buf_free(&sql);
        free(pit);
        free(it);
        return pm_error_set(err, rc, "query too long");
    }
    /* Outside the caller's transaction the iterators share one read-only
     * snapshot transaction, ended when the last of them closes. */
    int began = 0;
    if (!s->in_tx && !s->iter_tx) {
        rc = run(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, "read crossings");
        began = !rc;
    }
    PGresult *r = rc ? NULL : query(s, (const char *)sql.data, p.n, p.v, err, "read crossings");
    pm_buf_free(&sql);
    if (!r) {
        if (began)
            run(s, "ROLLBACK", NULL, NULL);
        free(pit);
        free(it);
        return err && err->code ? err->code : PM_EDB;
    }
    PQclear(r);
    if (began)
        s->iter_tx = 1;
    s->iters++;
    pit->ops = &pg_iter_ops;
    pit->impl = it;
    *out = pit;
    return PM_OK;
}

static int pg_count(pm_store_t *st, const pm_crossing_filter_t *f, int64_t *out, pm_error_t *err)
{
    pg_store_t *s = P(st);
    *out = 0;
    pm_buf_t sql;
    pm_buf_init(&sql, 8192);
    params_t p;
    p.n = 0;
    int rc = pm_buf_append_str(&sql, "SELECT count(*) FROM crossing");
    rc = rc ? rc : where_clause(f, &sql, &p);
    if (rc) {
        pm_buf_free(&sql);
        return pm_error_set(err, rc, "query too long");
    }
    PGresult *r = query(s, (const char *)sql.data, p.n, p.v, err, "count crossings");
    pm_buf_free(&sql);
    if (!r)
        return err ? err->code : PM_EDB;
    rc = result_i64(s, r, out, err, "count crossings");
    PQclear(r);
    return rc;
}

static int pg_max_id(pm_store_t *st, int64_t *out, pm_error_t *err)
{
    pg_store_t *s = P(st);
    *out = 0;
    PGresult *r = query(s, "SELECT coalesce(max(id), 0) FROM crossing", 0, NULL, err, "max id");
    if (!r)
        return err ? err->code : PM_EDB;
    int rc = result_i64(s, r, out, err, "max id");
    PQclear(r);
    return rc;
}

static void pg_close(pm_store_t *st)
{
    pg_store_t *s = P(st);
    if (s->conn) {
        if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
            run(s, "ROLLBACK", NULL, NULL);
        PQfinish(s->conn);
    }
    pm_buf_free(&s->copy);
    free(s);
    free(st);
}

/* --- deletes (retention purge, R9) and corrections (R8) ------------------ */

/* A write of crossings other than a put runs as one unit: its own
 * transaction outside the caller's, a savepoint inside it; either way under
 * the writer lock, so a put cannot add a name pair that a concurrent delete
 * is about to judge unused. */
static int unit_begin(pg_store_t *s, pm_error_t *err, const char *what)
{
    int rc = write_allowed(s, err, what);
    if (rc)
        return rc;
    if (s->in_tx && s->aborted)
        return pm_error_set(err, PM_ESTATE, "the transaction failed earlier; roll it back");
    char sql[160];
    snprintf(sql, sizeof sql, "%s; %s", s->in_tx ? "SAVEPOINT pm_stmt" : "BEGIN",
             s->writer ? "" : "SELECT pg_advisory_xact_lock(" LOCK_WRITER ")");
    return run(s, sql, err, what);
}

/* Ends the unit: released or committed when rc is 0, else undone. */
static int unit_end(pg_store_t *s, int rc, pm_error_t *err, const char *what)
{
    if (s->in_tx) {
        int had_writer = s->writer;
        if (!rc)
            s->writer = 1;
        rc = stmt_end(s, rc, err);
        if (rc)
            s->writer = had_writer;
        return rc;
    }
    s->writer = 0;
    if (!rc) {
        PGresult *r = PQexec(s->conn, "COMMIT");
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = pg_fail(s, r, err, what);
        else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
            rc = pm_error_set(err, PM_EDB, "%s: the server rolled the transaction back", what);
        PQclear(r);
    }
    if (rc && PQtransactionStatus(s->conn) != PQTRANS_IDLE)
        run(s, "ROLLBACK", NULL, NULL);
    return rc;
}

/* One element of a PostgreSQL array literal: quoted, " and \ escaped. */
static int array_text(pm_buf_t *b, const char *v)
{
    int rc = pm_buf_append(b, "\"", 1);
    for (const char *p = v; *p && !rc; p++)
        rc = *p == '"' || *p == '\\' ? pm_buf_printf(b, "\\%c", *p) : pm_buf_append(b, p, 1);
    return rc ? rc : pm_buf_append(b, "\"", 1);
}

/* Drops the name -> document pairs (rows of r: doc_key, surname_norm, dob
 * from column c0 on) that no stored crossing uses any more, as SQLite's
 * drop_person_pair does one by one. */
static int drop_person_pairs(pg_store_t *s, PGresult *r, int c0, pm_error_t *err,
                             const char *what)
{
    int n = PQntuples(r);
    if (n == 0)
        return PM_OK;
    pm_buf_t a[4] = {{0}};
    int rc = PM_OK;
    for (int k = 0; k < 4 && !rc; k++)
        rc = pm_buf_append(&a[k], "{", 1);
    for (int i = 0; i < n && !rc; i++) {
        int64_t dk = col_i64(r, i, c0), dob = col_i64(r, i, c0 + 2);
        const char *sn = PQgetvalue(r, i, c0 + 1);
        pm_dob_t d = {(int16_t)(dob / 10000), (uint8_t)(dob / 100 % 100), (uint8_t)(dob % 100)};
        const char *sep = i ? "," : "";
        rc = pm_buf_printf(&a[0], "%s%lld", sep, (long long)pm__store_name_key(sn, &d));
        rc = rc ? rc : pm_buf_printf(&a[1], "%s%lld", sep, (long long)dk);
        rc = rc ? rc : pm_buf_append_str(&a[2], sep);
        rc = rc ? rc : array_text(&a[2], sn);
        rc = rc ? rc : pm_buf_printf(&a[3], "%s%lld", sep, (long long)dob);
    }
    for (int k = 0; k < 4 && !rc; k++)
        rc = pm_buf_append(&a[k], "}", 1);
    if (rc) {
        rc = pm_error_set(err, rc, "%s: too many rows for one call", what);
    } else {
        const char *v[4] = {(const char *)a[0].data, (const char *)a[1].data,
                            (const char *)a[2].data, (const char *)a[3].data};
        PGresult *d = query(s,
                            "DELETE FROM crossing_person p USING unnest($1::bigint[], "
                            "$2::bigint[], $3::text[], $4::integer[]) AS g(nk, dk, sn, dob) "
                            "WHERE p.name_key = g.nk AND p.doc_key = g.dk AND NOT EXISTS "
                            "(SELECT 1 FROM crossing_doc x JOIN crossing c ON c.id = x.id "
                            "WHERE x.doc_key = g.dk AND c.surname_norm = g.sn AND c.dob = g.dob)",
                            4, v, err, what);
        rc = d ? PM_OK : err ? err->code : PM_EDB;
        PQclear(d);
    }
    for (int k = 0; k < 4; k++)
        pm_buf_free(&a[k]);
    return rc;
}

static int pg_delete_crossings(pm_store_t *st, const int64_t *ids, size_t n, uint64_t *out_deleted,
                               pm_error_t *err)
{
    pg_store_t *s = P(st);
    static const char what[] = "delete crossings";
    *out_deleted = 0;
    if (n && !ids)
        return pm_error_set(err, PM_EINVAL, "delete crossings: NULL ids");
    pm_buf_t list = {0};
    int rc = pm_buf_append(&list, "{", 1);
    for (size_t i = 0; i < n && !rc; i++)
        rc = pm_buf_printf(&list, "%s%lld", i ? "," : "", (long long)ids[i]);
    rc = rc ? rc : pm_buf_append(&list, "}", 1);
    if (rc) {
        pm_buf_free(&list);
        return pm_error_set(err, rc, "delete crossings: %zu ids are too many for one call", n);
    }
    rc = unit_begin(s, err, what);
    if (rc) {
        pm_buf_free(&list);
        return rc;
    }
    /* crossing_doc entries go with their rows (trigger), links by cascade */
    const char *v[1] = {(const char *)list.data};
    PGresult *r = query(s,
                        "DELETE FROM crossing WHERE id = ANY($1::bigint[]) "
                        "RETURNING doc_key, surname_norm, dob",
                        1, v, err, what);
    pm_buf_free(&list);
    if (!r)
        rc = err ? err->code : PM_EDB;
    uint64_t deleted = r ? (uint64_t)PQntuples(r) : 0;
    rc = rc ? rc : drop_person_pairs(s, r, 0, err, what);
    PQclear(r);
    rc = unit_end(s, rc, err, what);
    if (!rc)
        *out_deleted = deleted;
    return rc;
}

static int pg_update_crossing(pm_store_t *st, const pm_crossing_t *c, int64_t *out_id,
                              pm_error_t *err)
{
    pg_store_t *s = P(st);
    static const char what[] = "update crossing";
    int rc = pm__store_row_check(c, err);
    rc = rc ? rc : unit_begin(s, err, what);
    if (rc)
        return rc;
    const char *key[2] = {c->reporting_country, c->record_id};
    PGresult *old = query(s,
                          "SELECT id, doc_key, surname_norm, dob FROM crossing "
                          "WHERE reporting_country = $1 AND record_id = $2 FOR UPDATE",
                          2, key, err, what);
    int64_t id = 0;
    if (!old)
        rc = err ? err->code : PM_EDB;
    else if (PQntuples(old) != 1)
        rc = pm_error_set(err, PM_ENOTFOUND, "no crossing %s %s", c->reporting_country,
                          c->record_id);
    else
        id = col_i64(old, 0, 0);
    if (!rc) {
        /* every stored value but the origin (a correction never changes whose
         * record it is) and the admission data, as on SQLite */
        char num[7][24];
        int64_t dk = pm__store_doc_key(c->document_number, c->document_issuer);
        snprintf(num[0], sizeof num[0], "%d", (int)c->direction);
        snprintf(num[1], sizeof num[1], "%lld", (long long)c->time_utc);
        snprintf(num[2], sizeof num[2], "%d", (int)c->utc_offset_min);
        snprintf(num[3], sizeof num[3], "%d", (int)c->mode);
        snprintf(num[4], sizeof num[4], "%lld", (long long)pm__store_dob_int(&c->dob));
        snprintf(num[5], sizeof num[5], "%lld", (long long)dk);
        snprintf(num[6], sizeof num[6], "%lld",
                 (long long)pm__store_name_key(c->surname_norm, &c->dob));
        char sex[2] = {c->sex, '\0'}, idtext[24];
        snprintf(idtext, sizeof idtext, "%lld", (long long)id);
        const char *v[22] = {c->reporting_country, c->record_id, num[0], num[1], num[2],
                             c->port_code, num[3], c->surname, c->given_names, c->middle_names,
                             c->surname_norm, c->given_names_norm, num[4], c->citizenship, sex,
                             c->document_type, c->document_number, c->document_issuer,
                             c->mrz[0] ? c->mrz : NULL, num[5], idtext, num[6]};
        PGresult *u = query(
            s,
            "WITH u AS (UPDATE crossing SET reporting_country = $1, record_id = $2, "
            "direction = $3, time_utc = $4, utc_offset = $5, port_code = $6, mode = $7, "
            "surname = $8, given_names = $9, middle_names = $10, surname_norm = $11, "
            "given_names_norm = $12, dob = $13, citizenship = $14, sex = $15, "
            "document_type = $16, document_number = $17, document_issuer = $18, mrz = $19, "
            "doc_key = $20 WHERE id = $21 RETURNING id, doc_key),\n"
            "od AS (DELETE FROM crossing_doc WHERE id = $21 AND doc_key <> $20),\n"
            "p AS (INSERT INTO crossing_person (name_key, doc_key) VALUES ($22, $20) "
            "ON CONFLICT DO NOTHING)\n"
            "INSERT INTO crossing_doc (doc_key, id) SELECT doc_key, id FROM u "
            "ON CONFLICT DO NOTHING",
            22, v, err, what);
        rc = u ? PM_OK : err ? err->code : PM_EDB;
        PQclear(u);
    }
    /* the old name pair, if no crossing uses it any more (sees the update) */
    rc = rc ? rc : drop_person_pairs(s, old, 1, err, what);
    PQclear(old);
    rc = unit_end(s, rc, err, what);
    if (!rc && out_id)
        *out_id = id;
    return rc;
}

/* --- the query API (pm_stmt_*) ---------------------------------------------- */

#define BYTEA_OID 17
#define BOOL_OID 16

typedef struct pg_q {
    char name[24];
    int nparams;
    int is_select; /* read-only: no savepoint, allowed beside open iterators */
    char **vals;
    int *lens, *fmts;
    PGresult *res;
    int row, nrows; /* row = the current row; -1 before the first step */
    int done;
    int64_t changes;
    unsigned char **blobs; /* decoded bytea of the current row, per column */
    size_t *blob_n;
    int nblobs;
} pg_q_t;

/* sql with each `?` outside quotes and comments replaced by $1..$n. */
/* PostgreSQL's limit on a statement's parameters (its protocol counts them in 16 bits). */
#define PG_MAX_PARAMS 65535

/* sql with its `?` placeholders numbered $1..$n; NULL when out of memory or
 * (*out_n > PG_MAX_PARAMS) past the limit. */
static char *translate(const char *sql, int *out_n)
{
    size_t len = strlen(sql);
    char *out = malloc(len * 6 + 1); /* "?" -> "$NNNNN" at most (65535 parameters) */
    if (!out)
        return NULL;
    char *o = out;
    int n = 0;
    for (const char *p = sql; *p;) {
        if (*p == '\'' || *p == '"') {
            char q = *p;
            *o++ = *p++;
            while (*p && *p != q)
                *o++ = *p++;
            if (*p)
                *o++ = *p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                *o++ = *p++;
        } else if (*p == '?') {
            if (++n > PG_MAX_PARAMS) {
                *out_n = n;
                free(out);
                return NULL;
            }
            o += snprintf(o, 7, "$%d", n);
            p++;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    *out_n = n;
    return out;
}

static int first_word_is(const char *sql, const char *word)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(')
        sql++;
    size_t n = strlen(word);
    return strncasecmp(sql, word, n) == 0;
}

/* pg_fail, with a unique violation as PM_EEXISTS. */
static int q_fail(pg_store_t *s, const PGresult *res, pm_error_t *err, const char *what)
{
    int rc = pg_fail(s, res, err, what);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state && !strcmp(state, "23505")) {
        if (err)
            err->code = PM_EEXISTS;
        rc = PM_EEXISTS;
    } else if (state && !strncmp(state, "23", 2)) { /* CHECK, NOT NULL, foreign key */
        if (err)
            err->code = PM_EVALIDATION;
        rc = PM_EVALIDATION;
    }
    return rc;
}

static void q_clear_row(pg_q_t *q)
{
    for (int i = 0; i < q->nblobs; i++) {
        if (q->blobs[i])
            PQfreemem(q->blobs[i]);
        q->blobs[i] = NULL;
    }
}

static void pg_q_reset(void *p, int clear)
{
    pg_q_t *q = p;
    q_clear_row(q);
    PQclear(q->res);
    q->res = NULL;
    q->row = -1;
    q->nrows = 0;
    q->done = 0;
    if (clear)
        for (int i = 0; i < q->nparams; i++) {
            free(q->vals[i]);
            q->vals[i] = NULL;
            q->lens[i] = 0;
            q->fmts[i] = 0;
        }
}

static void pg_q_free(pm_store_t *st, void *p)
{
    pg_q_t *q = p;
    pg_store_t *s = P(st);
    pg_q_reset(q, 1);
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) != PQTRANS_INERROR &&
        q->name[0]) {
        char sql[48];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", q->name);
        run(s, sql, NULL, NULL);
    }
    free(q->vals);
    free(q->lens);
    free(q->fmts);
    free(q->blobs);
    free(q->blob_n);
    free(q);
}

static int pg_q_prepare(pm_store_t *st, const char *sql, void **out, pm_error_t *err)
{
    pg_store_t *s = P(st);
    pg_q_t *q = calloc(1, sizeof *q);
    int n = 0;
    char *text = q ? translate(sql, &n) : NULL;
    if (!text) {
        free(q);
        if (n > PG_MAX_PARAMS)
            return pm_error_set(err, PM_ELIMIT, "prepare: more than %d parameters",
                                PG_MAX_PARAMS);
        return pm_error_set(err, PM_ENOMEM, "prepare: out of memory");
    }
    q->row = -1;
    q->nparams = n;
    q->is_select = first_word_is(sql, "SELECT");
    q->vals = calloc((size_t)n + 1, sizeof *q->vals);
    q->lens = calloc((size_t)n + 1, sizeof *q->lens);
    q->fmts = calloc((size_t)n + 1, sizeof *q->fmts);
    if (!q->vals || !q->lens || !q->fmts) {
        free(text);
        pg_q_free(st, q);
        return pm_error_set(err, PM_ENOMEM, "prepare: out of memory");
    }
    snprintf(q->name, sizeof q->name, "pmq%u", ++s->next_stmt);
    PGresult *r = PQprepare(s->conn, q->name, text, n, NULL);
    free(text);
    int rc = PM_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = q_fail(s, r, err, "prepare");
        q->name[0] = '\0';
    }
    PQclear(r);
    if (rc) {
        pg_q_free(st, q);
        return rc;
    }
    *out = q;
    return PM_OK;
}

static int pg_q_bind(void *p, int i, int kind, int64_t v, const void *data, size_t n)
{
    pg_q_t *q = p;
    if (i < 1 || i > q->nparams)
        return PM_ERANGE;
    i--;
    free(q->vals[i]);
    q->vals[i] = NULL;
    q->lens[i] = 0;
    q->fmts[i] = 0;
    if (kind == PM__BIND_NULL)
        return PM_OK;
    if (kind == PM__BIND_INT64) {
        q->vals[i] = malloc(24);
        if (!q->vals[i])
            return PM_ENOMEM;
        snprintf(q->vals[i], 24, "%lld", (long long)v);
        return PM_OK;
    }
    if (kind == PM__BIND_DOUBLE) {
        double d;
        memcpy(&d, data, sizeof d);
        q->vals[i] = malloc(32);
        if (!q->vals[i])
            return PM_ENOMEM;
        snprintf(q->vals[i], 32, "%.17g", d); /* reads back to the same double */
        return PM_OK;
    }
    if (n > (size_t)1 << 30)
        return PM_ERANGE;
    q->vals[i] = malloc(n + 1);
    if (!q->vals[i])
        return PM_ENOMEM;
    memcpy(q->vals[i], data, n);
    q->vals[i][n] = '\0';
    q->lens[i] = (int)n;
    q->fmts[i] = kind == PM__BIND_BLOB; /* bytea in binary: the bytes as they are */
    return PM_OK;
}

static int pg_q_step(pm_store_t *st, void *p, pm_error_t *err)
{
    pg_store_t *s = P(st);
    pg_q_t *q = p;
    if (q->res) {
        q_clear_row(q);
        if (q->row + 1 < q->nrows) {
            q->row++;
            return 1;
        }
        return 0;
    }
    if (q->done)
        return 0;
    int rc = PM_OK;
    if (!q->is_select && (rc = write_allowed(s, err, "query")))
        return rc;
    if (!q->is_select && (rc = stmt_begin(s, err)))
        return rc;
    PGresult *r = PQexecPrepared(s->conn, q->name, q->nparams, (const char *const *)q->vals,
                                 q->lens, q->fmts, 0);
    ExecStatusType t = PQresultStatus(r);
    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
        rc = q_fail(s, r, err, "query");
        PQclear(r);
        if (!q->is_select)
            stmt_end(s, rc, NULL);
        return rc;
    }
    if (!q->is_select && (rc = stmt_end(s, PM_OK, err))) {
        PQclear(r);
        return rc;
    }
    const char *ct = PQcmdTuples(r);
    int64_t ch = 0;
    q->changes = ct && *ct && !parse_i64(ct, &ch) ? ch : 0;
    if (q->is_select)
        q->changes = 0;
    q->nrows = t == PGRES_TUPLES_OK ? PQntuples(r) : 0;
    int nf = PQnfields(r);
    if (nf > q->nblobs) {
        unsigned char **b = realloc(q->blobs, (size_t)nf * sizeof *b);
        if (b)
            q->blobs = b;
        size_t *bn = b ? realloc(q->blob_n, (size_t)nf * sizeof *bn) : NULL;
        if (!b || !bn) {
            PQclear(r);
            return pm_error_set(err, PM_ENOMEM, "query: out of memory");
        }
        q->blob_n = bn;
        for (int i = q->nblobs; i < nf; i++)
            q->blobs[i] = NULL;
        q->nblobs = nf;
    }
    if (q->nrows == 0) {
        PQclear(r);
        q->done = 1;
        return 0;
    }
    q->res = r;
    q->row = 0;
    return 1;
}

static int pg_q_columns(void *p)
{
    pg_q_t *q = p;
    return q->res ? PQnfields(q->res) : 0;
}

static int pg_q_is_null(void *p, int col)
{
    pg_q_t *q = p;
    return !q->res || col < 0 || col >= PQnfields(q->res) || PQgetisnull(q->res, q->row, col);
}

static int64_t pg_q_int64(void *p, int col)
{
    pg_q_t *q = p;
    if (pg_q_is_null(p, col))
        return 0;
    const char *v = PQgetvalue(q->res, q->row, col);
    if (PQftype(q->res, col) == BOOL_OID)
        return v[0] == 't';
    int64_t x = 0;
    if (parse_i64(v, &x))
        x = (int64_t)strtod(v, NULL); /* numeric answers such as sum() */
    return x;
}

static double pg_q_double(void *p, int col)
{
    pg_q_t *q = p;
    if (pg_q_is_null(p, col))
        return 0;
    return strtod(PQgetvalue(q->res, q->row, col), NULL); /* float8 text is exact */
}

static const char *pg_q_text(void *p, int col)
{
    pg_q_t *q = p;
    if (pg_q_is_null(p, col))
        return NULL;
    return PQgetvalue(q->res, q->row, col);
}

static const void *pg_q_blob(void *p, int col, size_t *n)
{
    pg_q_t *q = p;
    *n = 0;
    if (pg_q_is_null(p, col))
        return NULL;
    const char *v = PQgetvalue(q->res, q->row, col);
    if (PQftype(q->res, col) != BYTEA_OID) {
        *n = (size_t)PQgetlength(q->res, q->row, col);
        return v;
    }
    if (!q->blobs[col])
        q->blobs[col] = PQunescapeBytea((const unsigned char *)v, &q->blob_n[col]);
    if (!q->blobs[col])
        return NULL;
    *n = q->blob_n[col];
    return q->blobs[col];
}

static int64_t pg_q_changes(void *p)
{
    return ((pg_q_t *)p)->changes;
}

static int pg_exec(pm_store_t *st, const char *sql, pm_error_t *err)
{
    pg_store_t *s = P(st);
    int rc = write_allowed(s, err, "exec");
    if (!rc)
        rc = stmt_begin(s, err);
    if (rc)
        return rc;
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType t = PQresultStatus(r);
    rc = t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK ? PM_OK : q_fail(s, r, err, "exec");
    PQclear(r);
    return stmt_end(s, rc, err);
}

static int pg_reusable(pm_store_t *st)
{
    pg_store_t *s = P(st);
    if (PQstatus(s->conn) != CONNECTION_OK)
        return 0;
    if (s->in_tx && pg_rollback(st, NULL) != PM_OK)
        return 0;
    PGTransactionStatusType ts = PQtransactionStatus(s->conn);
    return ts == PQTRANS_IDLE && PQstatus(s->conn) == CONNECTION_OK;
}

static const pm__store_ops_t postgres_ops = {
    .name = "postgres",
    .reusable = pg_reusable,
    .close = pg_close,
    .migrate = pg_migrate,
    .schema_version = pg_schema_version,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .ensure_partner = pg_ensure_partner,
    .partners = pg_partners,
    .partner_cursor = pg_partner_cursor,
    .set_partner_cursor = pg_set_partner_cursor,
    .put_crossing = pg_put_crossing,
    .put_crossings = pg_put_crossings,
    .crossings = pg_crossings,
    .count_crossings = pg_count,
    .max_store_id = pg_max_id,
    .delete_crossings = pg_delete_crossings,
    .update_crossing = pg_update_crossing,
    .sqlite_handle = NULL, /* pm_store_sqlite_handle answers NULL */
    .q_prepare = pg_q_prepare,
    .q_free = pg_q_free,
    .q_bind = pg_q_bind,
    .q_step = pg_q_step,
    .q_reset = pg_q_reset,
    .q_columns = pg_q_columns,
    .q_is_null = pg_q_is_null,
    .q_int64 = pg_q_int64,
    .q_text = pg_q_text,
    .q_blob = pg_q_blob,
    .q_changes = pg_q_changes,
    .q_double = pg_q_double,
    .exec = pg_exec,
    .begin_read = pg_begin_read,
};

int pm__postgres_open(const char *target, const pm_store_options_t *options, pm_store_t **out,
                      pm_error_t *err)
{
    pm_store_options_t defaults = {PM_STORE_DURABLE_FULL, 1, 0, 0};
    const pm_store_options_t *o = options ? options : &defaults;
    *out = NULL;
    /* "postgres:" + keyword/value string; URIs go to libpq as they are */
    const char *conninfo = target;
    if (strncmp(target, "postgres:", 9) == 0 && strncmp(target, "postgres://", 11) != 0)
        conninfo = target + 9;
    pm_store_t *st = calloc(1, sizeof *st);
    pg_store_t *s = calloc(1, sizeof *s);
    if (!st || !s) {
        free(st);
        free(s);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    st->ops = &postgres_ops;
    st->impl = s;
    s->read_only = o->read_only;
    pm_buf_init(&s->copy, (size_t)1 << 31);
    int rc;
    s->conn = PQconnectdb(conninfo);
    if (!s->conn) {
        rc = pm_error_set(err, PM_ENOMEM, "postgres: out of memory");
        goto fail;
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        const char *m = PQerrorMessage(s->conn);
        size_t n = strlen(m);
        while (n && m[n - 1] == '\n')
            n--;
        /* the target may carry a password: name only the backend */
        rc = pm_error_set(err, strstr(m, "does not exist") ? PM_ENOTFOUND : PM_EDB,
                          "postgres: cannot connect: %.*s", (int)n, m);
        goto fail;
    }
    PQsetNoticeProcessor(s->conn, no_notices, NULL);
    char set[256];
    snprintf(set, sizeof set,
             "SET client_encoding = 'UTF8'; SET client_min_messages = warning; "
             "SET lock_timeout = %d; SET synchronous_commit = on%s",
             o->busy_ms > 0 ? o->busy_ms : 30000,
             o->read_only ? "; SET default_transaction_read_only = on" : "");
    if ((rc = run(s, set, err, "postgres")))
        goto fail;
    if ((rc = pg_migrate(st, &pm__store_schema, err)))
        goto fail;
    if (!o->read_only &&
        (rc = run(s,
                  "CREATE TEMP TABLE pm_stage (ord bigint NOT NULL, reporting_country text, "
                  "record_id text, direction smallint, time_utc bigint, utc_offset integer, "
                  "port_code text, mode smallint, surname text, given_names text, "
                  "middle_names text, surname_norm text, given_names_norm text, dob integer, "
                  "citizenship text, sex text, document_type text, document_number text, "
                  "document_issuer text, mrz text, origin text, doc_key bigint, admission_class text, "
                  "stay_until bigint, name_key bigint)",
                  err, "postgres")))
        goto fail;
    *out = st;
    return PM_OK;
fail:
    pg_close(st);
    return rc;
}
