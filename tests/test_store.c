/* store: open and migrations (per module), idempotent puts, iterators and
 * filters, foreign keys and typing, on both backends: every test runs on
 * SQLite and on PostgreSQL (a throwaway cluster this suite starts with
 * tests/pg_env.sh and stops after; PostgreSQL not installed = skipped here,
 * a failure under CI; installed but not starting = a failure). */
#include "testutil.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "perimeter/gallery.h"
#include "perimeter/store.h"

typedef struct target {
    const char *name; /* pm_store_backend's answer */
    int pg;
} target_t;
static target_t T_SQLITE = {"sqlite", 0};
static target_t T_PG = {"postgres", 1};

static char *dir;
static char *pg_uri; /* the cluster's URI (database "postgres"), or NULL */
static int pg_installed;

static int setup(void **state)
{
    (void)state;
    dir = pm_test_tmpdir();
    if (!dir)
        return -1;
    pg_uri = pm_test_pg_start(dir, &pg_installed);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (pg_uri)
        pm_test_pg_stop(dir);
    free(pg_uri);
    pm_test_rmdir(dir);
    free(dir);
    return 0;
}

/* The store target of database `name` on t (a file, or a database of the cluster). */
static void db_path(const target_t *t, const char *name, char *out, size_t cap)
{
    if (!t->pg) {
        snprintf(out, cap, "%s/%s.db", dir, name);
        return;
    }
    const char *slash = strrchr(pg_uri, '/');
    snprintf(out, cap, "%.*s/%s", (int)(slash - pg_uri), pg_uri, name);
}

/* Runs sql on a PostgreSQL database (the admin one when uri is NULL); 0 = ok. */
static int pg_exec(const char *uri, const char *sql)
{
    return pm_test_pg_exec(uri ? uri : pg_uri, sql);
}

/* A fresh, empty database `name` on t; its target into out. */
static void fresh_db(const target_t *t, const char *name, char *out, size_t cap)
{
    if (t->pg) {
        PM_REQUIRE_SERVICE(pg_uri, pg_installed, "PostgreSQL");
    }
    db_path(t, name, out, cap);
    if (!t->pg) {
        char side[4400];
        unlink(out);
        snprintf(side, sizeof side, "%s-wal", out);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", out);
        unlink(side);
        return;
    }
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
    assert_int_equal(pg_exec(NULL, sql), 0);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    assert_int_equal(pg_exec(NULL, sql), 0);
}

/* Plain SQL on the store's database, beside the store: 0 = ok. */
static int raw_exec(const target_t *t, pm_store_t *st, const char *path, const char *sql)
{
    if (t->pg) {
        assert_null(pm_store_sqlite_handle(st));
        return pg_exec(path, sql);
    }
    sqlite3 *db = pm_store_sqlite_handle(st);
    assert_non_null(db);
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* The integer a one-row query answers. */
static int64_t raw_count(const target_t *t, pm_store_t *st, const char *path, const char *sql)
{
    int64_t v = -1;
    if (t->pg) {
        PGconn *c = PQconnectdb(path);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        PGresult *r = PQexec(c, sql);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_int_equal(PQntuples(r), 1);
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        PQfinish(c);
        return v;
    }
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(pm_store_sqlite_handle(st), sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

static void make(pm_crossing_t *c, const char *country, const char *id, const char *ts,
                 const char *surname, const char *docnum, const char *dob)
{
    const char *v[PM_CF_COUNT] = {id,      country, "entry", ts,  "0901", "land", surname,
                                  "Ann",   "",      dob,     "CAN", "F",    "P",    docnum,
                                  "CAN",   ""};
    pm_crossing_init(c);
    pm_error_t e;
    for (int i = 0; i < PM_CF_COUNT; i++)
        assert_int_equal(pm_crossing_set_field(c, (pm_crossing_field_t)i, v[i], strlen(v[i]), &e),
                         PM_OK);
    assert_int_equal(pm_crossing_finish(c, NULL, &e), PM_OK);
}

static void test_open_and_migrations(void **state)
{
    const target_t *t = *state;
    pm_store_t *st = NULL;
    pm_error_t e;
    char dbpath[4400];
    fresh_db(t, "mig", dbpath, sizeof dbpath);
    assert_int_equal(pm_store_is_postgres(dbpath), t->pg);
    assert_int_equal(pm_store_open(dbpath, NULL, &st, &e), PM_OK);
    assert_string_equal(pm_store_backend(st), t->name);
    int v = -1;
    assert_int_equal(pm_store_schema_version(st, "store", &v, &e), PM_OK);
    assert_true(v >= 1);
    /* another module's migrations, applied step by step and only once */
    static const pm_migration_t steps[] = {
        {1, "t1", "CREATE TABLE other_t (x INTEGER NOT NULL) STRICT;",
         "CREATE TABLE other_t (x integer NOT NULL);"},
        {2, "t2", "ALTER TABLE other_t ADD COLUMN y TEXT;", "ALTER TABLE other_t ADD COLUMN y text;"},
    };
    pm_migration_set_t one = {"other", steps, 1};
    pm_migration_set_t two = {"other", steps, 2};
    assert_int_equal(pm_store_migrate(st, &one, &e), PM_OK);
    assert_int_equal(pm_store_schema_version(st, "other", &v, &e), PM_OK);
    assert_int_equal(v, 1);
    assert_int_equal(pm_store_migrate(st, &two, &e), PM_OK);
    assert_int_equal(pm_store_migrate(st, &two, &e), PM_OK); /* no-op: ALTER would fail twice */
    assert_int_equal(pm_store_schema_version(st, "other", &v, &e), PM_OK);
    assert_int_equal(v, 2);
    /* a database newer than the program is refused */
    assert_int_equal(pm_store_migrate(st, &one, &e), PM_ESTATE);
    assert_non_null(strstr(e.msg, "newer"));
    /* a failing step leaves the version where it was */
    static const pm_migration_t broken[] = {
        {1, "t1", "CREATE TABLE other_t (x INTEGER NOT NULL) STRICT;", "-"},
        {2, "t2", "ALTER TABLE other_t ADD COLUMN y TEXT;", "-"},
        {3, "bad", "CREATE TABLE z (a INTEGER) STRICT; SELEC nonsense;",
         "CREATE TABLE z (a integer); SELEC nonsense;"},
    };
    pm_migration_set_t three = {"other", broken, 3};
    assert_int_equal(pm_store_migrate(st, &three, &e), PM_EDB);
    assert_int_equal(pm_store_schema_version(st, "other", &v, &e), PM_OK);
    assert_int_equal(v, 2);
    /* the failed step's first statement was rolled back too */
    assert_int_not_equal(raw_exec(t, st, dbpath, "SELECT * FROM z"), 0);
    /* typed columns: text into an integer column is refused (STRICT on SQLite) */
    assert_int_not_equal(raw_exec(t, st, dbpath, "INSERT INTO other_t (x) VALUES ('abc')"), 0);
    if (!t->pg) {
        /* WAL */
        sqlite3 *db = pm_store_sqlite_handle(st);
        sqlite3_stmt *q;
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
        sqlite3_finalize(q);
    }
    /* a module without PostgreSQL SQL is SQLite-only: refused there, by name */
    static const pm_migration_t lite[] = {{1, "l1", "CREATE TABLE lite_t (x INTEGER) STRICT;", NULL}};
    pm_migration_set_t lite_set = {"liteonly", lite, 1};
    pm_error_clear(&e);
    int rc = pm_store_migrate(st, &lite_set, &e);
    if (t->pg) {
        assert_int_equal(rc, PM_EUNSUPPORTED);
        assert_non_null(strstr(e.msg, "liteonly"));
        assert_int_equal(pm_store_schema_version(st, "liteonly", &v, &e), PM_OK);
        assert_int_equal(v, 0);
        /* the gallery's tables have their PostgreSQL SQL (test_store_modules) */
        assert_int_equal(pm_gallery_store_migrate(st, &e), PM_OK);
        assert_null(pm_store_sqlite_handle(st));
    } else {
        assert_int_equal(rc, PM_OK);
    }
    pm_store_close(st);
    /* reopening keeps versions */
    assert_int_equal(pm_store_open(dbpath, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_store_schema_version(st, "other", &v, &e), PM_OK);
    assert_int_equal(v, 2);
    pm_store_close(st);
    /* opening a missing database without create fails cleanly */
    char missing[4400];
    if (t->pg)
        db_path(t, "nope", missing, sizeof missing);
    else
        snprintf(missing, sizeof missing, "%s/nope/x.db", dir);
    pm_store_options_t o = {PM_STORE_DURABLE_FULL, 0, 0, 0};
    assert_int_not_equal(pm_store_open(missing, &o, &st, &e), PM_OK);
    assert_null(st);
}

static void test_put_idempotent_and_query(void **state)
{
    const target_t *t = *state;
    pm_store_t *st = NULL;
    pm_error_t e;
    char dbpath[4400];
    fresh_db(t, "query", dbpath, sizeof dbpath);
    assert_int_equal(pm_store_open(dbpath, NULL, &st, &e), PM_OK);
    pm_crossing_t a, b, c;
    make(&a, "CAN", "A1", "2026-03-02T10:00:00-05:00", "Lee", "D1", "1980-05-06");
    make(&b, "CAN", "A2", "2026-03-01T10:00:00-05:00", "Lee", "D1", "1980-05-06");
    make(&c, "USA", "A1", "2026-03-03T10:00:00Z", "Kim", "D2", "1970");
    int ins = -1;
    assert_int_equal(pm_store_begin(st, &e), PM_OK);
    assert_int_equal(pm_store_put_crossing(st, &a, &ins, &e), PM_OK);
    assert_int_equal(ins, 1);
    assert_int_equal(pm_store_put_crossing(st, &b, &ins, &e), PM_OK);
    assert_int_equal(ins, 1);
    assert_int_equal(pm_store_commit(st, &e), PM_OK);
    /* same key again: nothing new, even with different content */
    pm_crossing_t a2 = a;
    snprintf(a2.surname, sizeof a2.surname, "%s", "Changed");
    assert_int_equal(pm_store_put_crossing(st, &a2, &ins, &e), PM_OK);
    assert_int_equal(ins, 0);
    /* same record id from another country is a different record */
    c.origin[0] = '\0';
    memcpy(c.origin, "USA", 4);
    c.direction = PM_DIRECTION_EXIT;
    assert_int_not_equal(pm_store_put_crossing(st, &c, &ins, &e), PM_OK); /* FK: no partner */
    assert_int_equal(pm_store_ensure_partner(st, "USA", &e), PM_OK);
    assert_int_equal(pm_store_put_crossing(st, &c, &ins, &e), PM_OK);
    assert_int_equal(ins, 1);
    int64_t n = 0;
    assert_int_equal(pm_store_count_crossings(st, NULL, &n, &e), PM_OK);
    assert_int_equal(n, 3);
    /* time order: b, a, c */
    pm_crossing_iter_t *it;
    assert_int_equal(pm_store_crossings(st, NULL, &it, &e), PM_OK);
    pm_crossing_t r;
    const char *want[] = {"A2", "A1", "A1"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pm_crossing_iter_next(it, &r, &e), 1);
        assert_string_equal(r.record_id, want[i]);
        assert_true(r.store_id > 0);
    }
    assert_string_equal(r.origin, "USA");
    assert_int_equal(r.direction, PM_DIRECTION_EXIT);
    assert_int_equal(pm_crossing_iter_next(it, &r, &e), 0);
    pm_crossing_iter_close(it);
    /* round trip of every field */
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    memcpy(f.reporting_country, "CAN", 4);
    snprintf(f.document_number, sizeof f.document_number, "%s", "D1");
    snprintf(f.document_issuer, sizeof f.document_issuer, "%s", "CAN");
    f.order = PM_ORDER_STORE_ID;
    assert_int_equal(pm_store_crossings(st, &f, &it, &e), PM_OK);
    assert_int_equal(pm_crossing_iter_next(it, &r, &e), 1);
    int64_t id_a = r.store_id;
    pm_crossing_t cmp = a;
    cmp.store_id = r.store_id;
    assert_memory_equal(&cmp, &r, sizeof r);
    assert_int_equal(pm_crossing_iter_next(it, &r, &e), 1);
    assert_string_equal(r.record_id, "A2");
    pm_crossing_iter_close(it);
    /* filters: origin, after id, name + dob, time window */
    memset(&f, 0, sizeof f);
    f.origin_filter = PM_ORIGIN_LOCAL;
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    assert_int_equal(n, 2);
    f.origin_filter = PM_ORIGIN_PARTNER;
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    memset(&f, 0, sizeof f);
    f.after_store_id = id_a;
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    assert_int_equal(n, 2);
    memset(&f, 0, sizeof f);
    snprintf(f.surname_norm, sizeof f.surname_norm, "%s", "lee");
    f.dob = a.dob;
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    assert_int_equal(n, 2);
    f.dob.day = 7;
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    /* the same person on a second document, and a namesake born another day */
    pm_crossing_t a3, a4;
    make(&a3, "CAN", "A3", "2026-03-04T10:00:00-05:00", "LEE", "D7", "1980-05-06");
    make(&a4, "CAN", "A4", "2026-03-04T11:00:00-05:00", "Lee", "D1", "1980-05-07");
    assert_int_equal(pm_store_put_crossing(st, &a3, &ins, &e), PM_OK);
    assert_int_equal(pm_store_put_crossing(st, &a4, &ins, &e), PM_OK);
    f.dob = a.dob;
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    assert_int_equal(n, 3);
    f.dob = a4.dob;
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    snprintf(f.given_names_norm, sizeof f.given_names_norm, "%s", "ann");
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    snprintf(f.given_names_norm, sizeof f.given_names_norm, "%s", "bob");
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    memset(&f, 0, sizeof f);
    f.has_time_from = 1;
    f.time_from = a.time_utc;
    f.limit = 1;
    assert_int_equal(pm_store_crossings(st, &f, &it, &e), PM_OK);
    assert_int_equal(pm_crossing_iter_next(it, &r, &e), 1);
    assert_string_equal(r.record_id, "A1");
    assert_int_equal(pm_crossing_iter_next(it, &r, &e), 0);
    pm_crossing_iter_close(it);
    int64_t maxid;
    assert_int_equal(pm_store_max_store_id(st, &maxid, &e), PM_OK);
    assert_true(maxid >= 3);
    /* rollback discards */
    pm_crossing_t d;
    make(&d, "CAN", "A9", "2026-03-02T10:00:00-05:00", "Lee", "D1", "1980-05-06");
    assert_int_equal(pm_store_begin(st, &e), PM_OK);
    assert_int_equal(pm_store_begin(st, &e), PM_ESTATE);
    assert_int_equal(pm_store_put_crossing(st, &d, &ins, &e), PM_OK);
    assert_int_equal(pm_store_rollback(st, &e), PM_OK);
    assert_int_equal(pm_store_count_crossings(st, NULL, &n, &e), PM_OK);
    assert_int_equal(n, 5);
    pm_store_close(st);
}

static void test_put_many(void **state)
{
    const target_t *t = *state;
    pm_store_t *st = NULL;
    pm_error_t e;
    char path[4400];
    fresh_db(t, "many", path, sizeof path);
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    /* 40 rows: 16 + 16 + 8 singles; row 20 repeats row 3, row 35 repeats row 33 */
    pm_crossing_t rows[40];
    for (int i = 0; i < 40; i++)
        pm_crossing_sample(3, (uint64_t)i, "CAN", &rows[i]);
    rows[20] = rows[3];
    rows[35] = rows[33];
    uint64_t ins = 0;
    assert_int_equal(pm_store_begin(st, &e), PM_OK);
    assert_int_equal(pm_store_put_crossings(st, rows, 40, &ins, &e), PM_OK);
    assert_int_equal(pm_store_commit(st, &e), PM_OK);
    assert_int_equal(ins, 38);
    assert_int_equal(pm_store_put_crossings(st, rows, 40, &ins, &e), PM_OK);
    assert_int_equal(ins, 0);
    int64_t n = 0;
    assert_int_equal(pm_store_count_crossings(st, NULL, &n, &e), PM_OK);
    assert_int_equal(n, 38);
    /* stored in input order: the cursor follows the file */
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_STORE_ID;
    pm_crossing_iter_t *it;
    assert_int_equal(pm_store_crossings(st, &f, &it, &e), PM_OK);
    pm_crossing_t r;
    for (int i = 0; i < 40; i++) {
        if (i == 20 || i == 35)
            continue;
        assert_int_equal(pm_crossing_iter_next(it, &r, &e), 1);
        assert_string_equal(r.record_id, rows[i].record_id);
        pm_crossing_t want = rows[i];
        want.store_id = r.store_id;
        assert_memory_equal(&want, &r, sizeof r);
    }
    assert_int_equal(pm_crossing_iter_next(it, &r, &e), 0);
    pm_crossing_iter_close(it);
    pm_store_close(st);
}

/* Name lookups see pairs written in the open transaction; every stored row
 * is found by name + date of birth after commit; a rolled-back pair is gone;
 * the CHECK conditions hold for the store's puts and for plain SQL. */
static void test_name_pairs_and_checks(void **state)
{
    const target_t *t = *state;
    pm_store_t *st = NULL;
    pm_error_t e;
    char path[4400];
    fresh_db(t, "pairs", path, sizeof path);
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    pm_crossing_t rows[300];
    for (int i = 0; i < 300; i++)
        pm_crossing_sample(5, (uint64_t)i, "CAN", &rows[i]);
    uint64_t ins = 0;
    pm_crossing_filter_t f;
    int64_t n = 0;
    assert_int_equal(pm_store_begin(st, &e), PM_OK);
    assert_int_equal(pm_store_put_crossings(st, rows, 150, &ins, &e), PM_OK);
    memset(&f, 0, sizeof f);
    memcpy(f.surname_norm, rows[77].surname_norm, sizeof f.surname_norm);
    f.dob = rows[77].dob;
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    assert_true(n >= 1);
    /* chunks with duplicates (rows 10..39 again, mixed with new ones) */
    pm_crossing_t mixed[60];
    for (int i = 0; i < 60; i++)
        mixed[i] = rows[i % 2 ? 10 + i / 2 : 150 + i / 2];
    assert_int_equal(pm_store_put_crossings(st, mixed, 60, &ins, &e), PM_OK);
    assert_int_equal(ins, 30);
    assert_int_equal(pm_store_put_crossings(st, rows + 150, 150, &ins, &e), PM_OK);
    assert_int_equal(ins, 120);
    assert_int_equal(pm_store_commit(st, &e), PM_OK);
    for (int i = 0; i < 300; i++) {
        /* by document */
        memset(&f, 0, sizeof f);
        memcpy(f.document_number, rows[i].document_number, sizeof f.document_number);
        memcpy(f.document_issuer, rows[i].document_issuer, sizeof f.document_issuer);
        pm_crossing_iter_t *dit;
        assert_int_equal(pm_store_crossings(st, &f, &dit, &e), PM_OK);
        pm_crossing_t dr;
        int dfound = 0;
        while (pm_crossing_iter_next(dit, &dr, &e) == 1)
            dfound |= strcmp(dr.record_id, rows[i].record_id) == 0;
        pm_crossing_iter_close(dit);
        assert_true(dfound);
        memset(&f, 0, sizeof f);
        memcpy(f.surname_norm, rows[i].surname_norm, sizeof f.surname_norm);
        f.dob = rows[i].dob;
        if (!f.dob.year)
            continue; /* a lookup needs a year of birth */
        pm_crossing_iter_t *it;
        assert_int_equal(pm_store_crossings(st, &f, &it, &e), PM_OK);
        pm_crossing_t r;
        int found = 0;
        while (pm_crossing_iter_next(it, &r, &e) == 1)
            found |= strcmp(r.record_id, rows[i].record_id) == 0;
        pm_crossing_iter_close(it);
        assert_true(found);
    }
    /* a pair of a rolled-back row is not kept */
    pm_crossing_t x;
    make(&x, "CAN", "RB1", "2026-03-02T10:00:00-05:00", "Rollback", "RB0001", "1961-02-03");
    assert_int_equal(pm_store_begin(st, &e), PM_OK);
    assert_int_equal(pm_store_put_crossings(st, &x, 1, &ins, &e), PM_OK);
    assert_int_equal(pm_store_rollback(st, &e), PM_OK);
    int64_t pairs = raw_count(t, st, path, "SELECT count(*) FROM crossing_person");
    /* outside a transaction: the row and its pair are stored together */
    assert_int_equal(pm_store_put_crossings(st, &x, 1, &ins, &e), PM_OK);
    assert_int_equal(ins, 1);
    assert_int_equal(raw_count(t, st, path, "SELECT count(*) FROM crossing_person"), pairs + 1);
    memset(&f, 0, sizeof f);
    memcpy(f.surname_norm, x.surname_norm, sizeof f.surname_norm);
    f.dob = x.dob;
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    /* deleting a crossing drops its document entry */
    int64_t docs = raw_count(t, st, path, "SELECT count(*) FROM crossing_doc");
    assert_int_equal(raw_exec(t, st, path, "DELETE FROM crossing WHERE record_id = 'RB1'"), 0);
    assert_int_equal(raw_count(t, st, path, "SELECT count(*) FROM crossing_doc"), docs - 1);
    assert_int_equal(pm_store_put_crossings(st, &x, 1, &ins, &e), PM_OK);
    assert_int_equal(ins, 1);
    /* the table's CHECKs: refused by a put (nothing of the call stored) ... */
    int64_t before = 0, after = 0;
    assert_int_equal(pm_store_count_crossings(st, NULL, &before, &e), PM_OK);
    pm_crossing_t bad[20];
    for (int i = 0; i < 20; i++)
        pm_crossing_sample(6, (uint64_t)i, "CAN", &bad[i]);
    bad[17].sex = 'Q';
    assert_int_equal(pm_store_put_crossings(st, bad, 20, &ins, &e), PM_EINVAL);
    bad[17].sex = 'F';
    bad[3].direction = PM_DIRECTION_UNSET;
    assert_int_equal(pm_store_put_crossings(st, bad, 20, &ins, &e), PM_EINVAL);
    bad[3].direction = PM_DIRECTION_EXIT;
    bad[19].mode = (pm_mode_t)6;
    assert_int_equal(pm_store_begin(st, &e), PM_OK);
    assert_int_equal(pm_store_put_crossings(st, bad, 20, &ins, &e), PM_EINVAL);
    assert_int_equal(pm_store_commit(st, &e), PM_OK);
    assert_int_equal(pm_store_count_crossings(st, NULL, &after, &e), PM_OK);
    assert_int_equal(after, before);
    /* ... and by plain SQL */
    assert_int_not_equal(
        raw_exec(t, st, path,
                 "INSERT INTO crossing (reporting_country, record_id, direction, time_utc, "
                 "utc_offset, port_code, mode, surname, given_names, middle_names, "
                 "surname_norm, given_names_norm, dob, citizenship, sex, document_type, "
                 "document_number, document_issuer, doc_key) VALUES ('CAN', 'SQ1', 1, 0, 0, "
                 "'P1', 1, 'A', '', '', 'a', '', 0, 'CAN', 'Q', 'P', 'D', 'CAN', 0)"),
        0);
    assert_int_equal(pm_store_count_crossings(st, NULL, &after, &e), PM_OK);
    assert_int_equal(after, before);
    pm_store_close(st);
}

static void test_partner_cursor(void **state)
{
    const target_t *t = *state;
    pm_store_t *st = NULL;
    pm_error_t e;
    char path[4400];
    fresh_db(t, "cursor", path, sizeof path);
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    int v = 0;
    assert_int_equal(pm_store_schema_version(st, "store", &v, &e), PM_OK);
    assert_int_equal(v, 4);
    int64_t cur = -1;
    assert_int_equal(pm_store_partner_cursor(st, "USA", &cur, &e), PM_OK);
    assert_int_equal(cur, 0);
    assert_int_equal(pm_store_set_partner_cursor(st, "USA", 5, &e), PM_ENOTFOUND);
    assert_int_equal(pm_store_ensure_partner(st, "USA", &e), PM_OK);
    assert_int_equal(pm_store_ensure_partner(st, "MEX", &e), PM_OK);
    assert_int_equal(pm_store_ensure_partner(st, "USA", &e), PM_OK);
    assert_int_equal(pm_store_set_partner_cursor(st, "USA", 5, &e), PM_OK);
    assert_int_equal(pm_store_set_partner_cursor(st, "USA", 3, &e), PM_OK); /* never lowers */
    assert_int_equal(pm_store_partner_cursor(st, "USA", &cur, &e), PM_OK);
    assert_int_equal(cur, 5);
    /* rolled back with its transaction */
    assert_int_equal(pm_store_begin(st, &e), PM_OK);
    assert_int_equal(pm_store_set_partner_cursor(st, "USA", 9, &e), PM_OK);
    assert_int_equal(pm_store_rollback(st, &e), PM_OK);
    assert_int_equal(pm_store_partner_cursor(st, "USA", &cur, &e), PM_OK);
    assert_int_equal(cur, 5);
    char codes[1][4];
    size_t n = 0;
    assert_int_equal(pm_store_partners(st, codes, 1, &n, &e), PM_OK);
    assert_int_equal(n, 2);
    assert_string_equal(codes[0], "MEX");
    pm_store_close(st);
}

/* A database left at store schema version 1 is brought to the current
 * version on open, keeping its rows. */
static void test_upgrade_on_open(void **state)
{
    const target_t *t = *state;
    pm_store_t *st = NULL;
    pm_error_t e;
    char path[4400];
    fresh_db(t, "old", path, sizeof path);
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    pm_crossing_t c;
    make(&c, "CAN", "OLD1", "2026-03-02T10:00:00-05:00", "Lee", "D1", "1980-05-06");
    assert_int_equal(pm_store_put_crossing(st, &c, NULL, &e), PM_OK);
    assert_int_equal(pm_store_ensure_partner(st, "USA", &e), PM_OK);
    /* undo steps 4, 3 and 2 by hand, as a version-1 database looks */
    assert_int_equal(
        raw_exec(t, st, path,
                 t->pg ? "ALTER TABLE crossing DROP COLUMN admission_class;"
                         "ALTER TABLE crossing DROP COLUMN stay_until;"
                         "DROP TRIGGER crossing_doc_delete ON crossing;"
                         "DROP FUNCTION crossing_doc_delete(); DROP TABLE crossing_doc;"
                         "CREATE INDEX crossing_doc_key ON crossing (doc_key);"
                         "ALTER TABLE partner DROP COLUMN feed_cursor;"
                         "UPDATE schema_version SET version = 1 WHERE module = 'store';"
                       : "ALTER TABLE crossing DROP COLUMN admission_class;"
                         "ALTER TABLE crossing DROP COLUMN stay_until;"
                         "DROP TRIGGER crossing_doc_delete; DROP TABLE crossing_doc;"
                         "CREATE INDEX crossing_doc_key ON crossing (doc_key);"
                         "ALTER TABLE partner DROP COLUMN feed_cursor;"
                         "UPDATE schema_version SET version = 1 WHERE module = 'store';"),
        0);
    pm_store_close(st);
    /* read-only: too old, refused without writing */
    pm_store_options_t ro = {PM_STORE_DURABLE_FULL, 0, 1, 0};
    assert_int_equal(pm_store_open(path, &ro, &st, &e), PM_ESTATE);
    assert_null(st);
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    int v = 0;
    assert_int_equal(pm_store_schema_version(st, "store", &v, &e), PM_OK);
    assert_int_equal(v, 4);
    assert_int_equal(pm_store_set_partner_cursor(st, "USA", 4, &e), PM_OK);
    int64_t n = 0;
    assert_int_equal(pm_store_count_crossings(st, NULL, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    /* the old row is found by document and by name + date of birth */
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.document_number, sizeof f.document_number, "%s", "D1");
    snprintf(f.document_issuer, sizeof f.document_issuer, "%s", "CAN");
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    memset(&f, 0, sizeof f);
    snprintf(f.surname_norm, sizeof f.surname_norm, "%s", "lee");
    f.dob = c.dob;
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    pm_store_close(st);
    /* and now read-only works */
    assert_int_equal(pm_store_open(path, &ro, &st, &e), PM_OK);
    int64_t cur = 0;
    assert_int_equal(pm_store_partner_cursor(st, "USA", &cur, &e), PM_OK);
    assert_int_equal(cur, 4);
    pm_store_close(st);
}

/* Inside a transaction a failing put (unknown partner) is undone alone and
 * the transaction goes on, on both backends. */
static void test_failed_put_in_transaction(void **state)
{
    const target_t *t = *state;
    pm_store_t *st = NULL;
    pm_error_t e;
    char path[4400];
    fresh_db(t, "txfail", path, sizeof path);
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    pm_crossing_t a, b, x;
    make(&a, "CAN", "T1", "2026-03-02T10:00:00-05:00", "Lee", "D1", "1980-05-06");
    make(&b, "CAN", "T2", "2026-03-02T11:00:00-05:00", "Lee", "D1", "1980-05-06");
    make(&x, "USA", "T3", "2026-03-02T12:00:00-05:00", "Kim", "D2", "1970");
    memcpy(x.origin, "USA", 4); /* no such partner recorded: foreign key */
    x.direction = PM_DIRECTION_EXIT;
    assert_int_equal(pm_store_begin(st, &e), PM_OK);
    assert_int_equal(pm_store_put_crossing(st, &a, NULL, &e), PM_OK);
    assert_int_not_equal(pm_store_put_crossing(st, &x, NULL, &e), PM_OK);
    assert_int_equal(pm_store_put_crossing(st, &b, NULL, &e), PM_OK);
    assert_int_equal(pm_store_set_partner_cursor(st, "USA", 3, &e), PM_ENOTFOUND);
    assert_int_equal(pm_store_ensure_partner(st, "USA", &e), PM_OK);
    assert_int_equal(pm_store_commit(st, &e), PM_OK);
    int64_t n = 0;
    assert_int_equal(pm_store_count_crossings(st, NULL, &n, &e), PM_OK);
    assert_int_equal(n, 2);
    char codes[2][4];
    size_t np = 0;
    assert_int_equal(pm_store_partners(st, codes, 2, &np, &e), PM_OK);
    assert_int_equal(np, 1);
    pm_store_close(st);
}

/* An iteration longer than one fetch, in store order, with a lookup
 * (pm_store_get_crossing: a second iterator) in the middle of it. */
static void test_iterate_many(void **state)
{
    const target_t *t = *state;
    pm_store_t *st = NULL;
    pm_error_t e;
    char path[4400];
    fresh_db(t, "iter", path, sizeof path);
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    enum { N = 2600 };
    pm_crossing_t *rows = calloc(N, sizeof *rows);
    assert_non_null(rows);
    for (int i = 0; i < N; i++)
        pm_crossing_sample(9, (uint64_t)i, "CAN", &rows[i]);
    uint64_t ins = 0;
    assert_int_equal(pm_store_put_crossings(st, rows, N, &ins, &e), PM_OK);
    assert_int_equal(ins, N);
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_STORE_ID;
    pm_crossing_iter_t *it = NULL;
    assert_int_equal(pm_store_crossings(st, &f, &it, &e), PM_OK);
    pm_crossing_t r, g;
    int64_t last = 0;
    int i = 0;
    while (pm_crossing_iter_next(it, &r, &e) == 1) {
        assert_true(i < N);
        assert_string_equal(r.record_id, rows[i].record_id);
        assert_true(r.store_id > last);
        last = r.store_id;
        if (i == 1500) {
            assert_int_equal(pm_store_get_crossing(st, r.store_id, &g, &e), PM_OK);
            assert_memory_equal(&g, &r, sizeof r);
        }
        i++;
    }
    assert_int_equal(i, N);
    pm_crossing_iter_close(it);
    /* after the iterators are closed, writes go on */
    pm_crossing_t extra;
    pm_crossing_sample(10, 1, "CAN", &extra);
    assert_int_equal(pm_store_put_crossing(st, &extra, NULL, &e), PM_OK);
    int64_t maxid = 0;
    assert_int_equal(pm_store_max_store_id(st, &maxid, &e), PM_OK);
    assert_true(maxid > last);
    free(rows);
    pm_store_close(st);
}

/* PostgreSQL: one writer at a time (store ids increase in commit order, so a
 * feed reader that follows `id > cursor` never skips a late commit); a second
 * writer waits busy_ms and then gets PM_EBUSY; the "postgres:" keyword/value
 * form of the target. */
static void test_pg_writers(void **state)
{
    (void)state;
    PM_REQUIRE_SERVICE(pg_uri, pg_installed, "PostgreSQL");
    char path[4400];
    fresh_db(&T_PG, "writers", path, sizeof path);
    const char *port = strrchr(pg_uri, ':');
    assert_non_null(port);
    char kv[512];
    snprintf(kv, sizeof kv, "postgres:host=127.0.0.1 port=%d user=pm dbname=writers",
             atoi(port + 1));
    assert_true(pm_store_is_postgres(kv));
    pm_store_t *a = NULL, *b = NULL;
    pm_error_t e;
    pm_store_options_t quick = {PM_STORE_DURABLE_FULL, 1, 0, 300};
    assert_int_equal(pm_store_open(path, NULL, &a, &e), PM_OK);
    assert_int_equal(pm_store_open(kv, &quick, &b, &e), PM_OK);
    assert_string_equal(pm_store_backend(b), "postgres");
    pm_crossing_t r1, r2;
    pm_crossing_sample(11, 1, "CAN", &r1);
    pm_crossing_sample(11, 2, "CAN", &r2);
    assert_int_equal(pm_store_begin(a, &e), PM_OK);
    assert_int_equal(pm_store_put_crossing(a, &r1, NULL, &e), PM_OK);
    assert_int_equal(pm_store_put_crossing(b, &r2, NULL, &e), PM_EBUSY);
    assert_int_equal(pm_store_commit(a, &e), PM_OK);
    assert_int_equal(pm_store_put_crossing(b, &r2, NULL, &e), PM_OK);
    int64_t n = 0;
    assert_int_equal(pm_store_count_crossings(a, NULL, &n, &e), PM_OK);
    assert_int_equal(n, 2);
    /* read-only handle: reads, refuses writes */
    pm_store_t *ro = NULL;
    pm_store_options_t roo = {PM_STORE_DURABLE_FULL, 0, 1, 0};
    assert_int_equal(pm_store_open(path, &roo, &ro, &e), PM_OK);
    assert_int_equal(pm_store_count_crossings(ro, NULL, &n, &e), PM_OK);
    assert_int_equal(n, 2);
    assert_int_not_equal(pm_store_put_crossing(ro, &r1, NULL, &e), PM_OK);
    pm_store_close(ro);
    pm_store_close(a);
    pm_store_close(b);
}

static void test_default_path(void **state)
{
    (void)state;
    /* The environment belongs to the CLI: the library ignores $PERIMETER_DB. */
    setenv("PERIMETER_DB", "/tmp/x.db", 1);
    assert_string_equal(pm_store_default_path(), "./perimeter.db");
    unsetenv("PERIMETER_DB");
    assert_string_equal(pm_store_default_path(), "./perimeter.db");
}

static int64_t count_where(pm_store_t *st, const char *docnum, const char *surname,
                           const char *dob)
{
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    pm_error_t e;
    if (docnum) {
        snprintf(f.document_number, sizeof f.document_number, "%s", docnum);
        snprintf(f.document_issuer, sizeof f.document_issuer, "CAN");
    }
    if (surname) {
        snprintf(f.surname_norm, sizeof f.surname_norm, "%s", surname);
        assert_int_equal(pm_dob_parse(dob, strlen(dob), &f.dob, &e), PM_OK);
    }
    int64_t n = -1;
    assert_int_equal(pm_store_count_crossings(st, &f, &n, &e), PM_OK);
    return n;
}

/* A correction (update) and the retention purge (delete) keep the document
 * and name lookups in step: nothing is found under the old values, the new
 * ones are found, and a deleted record is found by neither; both are
 * idempotent, and inside a transaction that is rolled back leave nothing. */
static void test_update_and_delete(void **state)
{
    const target_t *t = *state;
    pm_store_t *st = NULL;
    pm_error_t e;
    char path[4400];
    fresh_db(t, "upd", path, sizeof path);
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    pm_crossing_t c[4];
    make(&c[0], "CAN", "u1", "2026-03-01T10:00:00-05:00", "Smith", "AB1234567", "1980-05-17");
    make(&c[1], "CAN", "u2", "2026-03-02T10:00:00-05:00", "Smith", "AB1234567", "1980-05-17");
    make(&c[2], "CAN", "u3", "2026-03-03T10:00:00-05:00", "Jones", "ZZ7654321", "1970-01-02");
    make(&c[3], "CAN", "u4", "2026-03-04T10:00:00-05:00", "Brown", "BB1111111", "1965-07-08");
    snprintf(c[0].admission_class, sizeof c[0].admission_class, "visitor");
    for (int i = 0; i < 4; i++)
        assert_int_equal(pm_store_put_crossing(st, &c[i], NULL, &e), PM_OK);
    assert_int_equal(count_where(st, "AB1234567", NULL, NULL), 2);
    assert_int_equal(count_where(st, NULL, "smith", "1980-05-17"), 2);
    int64_t pairs = raw_count(t, st, path, "SELECT count(*) FROM crossing_person");
    assert_int_equal(pairs, 3);
    /* u1 corrected: other document, other surname */
    pm_crossing_t fix;
    make(&fix, "CAN", "u1", "2026-03-01T10:00:00-05:00", "Smyth", "AB1234568", "1980-05-17");
    int64_t id = 0;
    assert_int_equal(pm_store_update_crossing(st, &fix, &id, &e), PM_OK);
    assert_int_equal(id, 1);
    assert_int_equal(count_where(st, "AB1234567", NULL, NULL), 1);
    assert_int_equal(count_where(st, "AB1234568", NULL, NULL), 1);
    assert_int_equal(count_where(st, NULL, "smith", "1980-05-17"), 1);
    assert_int_equal(count_where(st, NULL, "smyth", "1980-05-17"), 1);
    /* Smith's pair stays (u2 uses it), Smyth's is new */
    assert_int_equal(raw_count(t, st, path, "SELECT count(*) FROM crossing_person"), 4);
    assert_int_equal(raw_count(t, st, path, "SELECT count(*) FROM crossing_doc"), 4);
    pm_crossing_t got;
    assert_int_equal(pm_store_get_crossing(st, 1, &got, &e), PM_OK);
    assert_string_equal(got.surname, "Smyth");
    assert_string_equal(got.document_number, "AB1234568");
    assert_string_equal(got.admission_class, "visitor"); /* admission data is not part of a correction */
    /* the same correction again: same id, nothing else changes */
    id = 0;
    assert_int_equal(pm_store_update_crossing(st, &fix, &id, &e), PM_OK);
    assert_int_equal(id, 1);
    assert_int_equal(raw_count(t, st, path, "SELECT count(*) FROM crossing_person"), 4);
    assert_int_equal(raw_count(t, st, path, "SELECT count(*) FROM crossing_doc"), 4);
    assert_int_equal(count_where(st, "AB1234568", NULL, NULL), 1);
    /* a record that is not stored */
    make(&fix, "CAN", "nope", "2026-03-01T10:00:00-05:00", "X", "AB1234568", "1980-05-17");
    assert_int_equal(pm_store_update_crossing(st, &fix, NULL, &e), PM_ENOTFOUND);
    fix.sex = 'Q';
    assert_int_equal(pm_store_update_crossing(st, &fix, NULL, &e), PM_EINVAL);
    /* inside a transaction that is rolled back: nothing stays */
    assert_int_equal(pm_store_begin(st, &e), PM_OK);
    make(&fix, "CAN", "u4", "2026-03-04T10:00:00-05:00", "Black", "BB2222222", "1965-07-08");
    assert_int_equal(pm_store_update_crossing(st, &fix, NULL, &e), PM_OK);
    int64_t four = 4;
    uint64_t n = 0;
    assert_int_equal(pm_store_delete_crossings(st, &four, 1, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    /* a failing call inside it is undone alone */
    make(&fix, "CAN", "nope", "2026-03-01T10:00:00-05:00", "X", "AB1234568", "1980-05-17");
    assert_int_equal(pm_store_update_crossing(st, &fix, NULL, &e), PM_ENOTFOUND);
    assert_int_equal(count_where(st, "BB2222222", NULL, NULL), 0);
    assert_int_equal(count_where(st, "BB1111111", NULL, NULL), 0);
    assert_int_equal(pm_store_rollback(st, &e), PM_OK);
    assert_int_equal(count_where(st, "BB1111111", NULL, NULL), 1);
    assert_int_equal(count_where(st, NULL, "brown", "1965-07-08"), 1);
    assert_int_equal(count_where(st, NULL, "black", "1965-07-08"), 0);
    assert_int_equal(raw_count(t, st, path, "SELECT count(*) FROM crossing_person"), 4);
    /* delete u2 and u3 (and an id that does not exist) */
    int64_t ids[3] = {2, 3, 99};
    assert_int_equal(pm_store_delete_crossings(st, ids, 3, &n, &e), PM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(count_where(st, "AB1234567", NULL, NULL), 0);
    assert_int_equal(count_where(st, "ZZ7654321", NULL, NULL), 0);
    assert_int_equal(count_where(st, NULL, "smith", "1980-05-17"), 0);
    assert_int_equal(count_where(st, NULL, "jones", "1970-01-02"), 0);
    assert_int_equal(count_where(st, NULL, NULL, NULL), 2);
    /* the lookup entries of the deleted rows are gone too */
    assert_int_equal(raw_count(t, st, path, "SELECT count(*) FROM crossing_person"), 2);
    assert_int_equal(raw_count(t, st, path, "SELECT count(*) FROM crossing_doc"), 2);
    /* again: nothing left to delete; none at all */
    assert_int_equal(pm_store_delete_crossings(st, ids, 3, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pm_store_delete_crossings(st, NULL, 0, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pm_store_delete_crossings(st, NULL, 2, &n, &e), PM_EINVAL);
    assert_int_equal(count_where(st, NULL, NULL, NULL), 2);
    /* a deleted record's key can be stored again, under a new id */
    assert_int_equal(pm_store_put_crossing(st, &c[2], NULL, &e), PM_OK);
    assert_int_equal(count_where(st, NULL, "jones", "1970-01-02"), 1);
    pm_store_close(st);
}

#define BOTH(fn, name)                                                                             \
    {name "/sqlite", fn, NULL, NULL, &T_SQLITE}, {name "/postgres", fn, NULL, NULL, &T_PG}

/* Several processes creating the same new database at once all open it. The
 * switch to WAL on a new file does not wait on the busy timeout (SQLite takes
 * that lock without its busy handler), so without the store's own retry one
 * opener of a racing pair failed at once with "database is locked" (seen as a
 * rare e2e crossings failure: two imports started together on a new file). */
static void test_concurrent_first_open(void **state)
{
    (void)state;
    enum { ROUNDS = 40, PROCS = 8 };
    int failed = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/race%d.db", dir, round);
        int gate[2];
        assert_int_equal(pipe(gate), 0);
        pid_t kids[PROCS];
        for (int k = 0; k < PROCS; k++) {
            kids[k] = fork();
            assert_true(kids[k] >= 0);
            if (kids[k] == 0) {
                close(gate[1]);
                char c;
                /* released all at once when the parent closes its end */
                while (read(gate[0], &c, 1) > 0) {
                }
                pm_store_t *st = NULL;
                pm_error_t e = {0};
                int rc = pm_store_open(path, NULL, &st, &e);
                if (rc != PM_OK)
                    fprintf(stderr, "round %d opener %d: %s\n", round, k, e.msg);
                pm_store_close(st);
                _exit(rc == PM_OK ? 0 : 1);
            }
        }
        close(gate[0]);
        close(gate[1]);
        for (int k = 0; k < PROCS; k++) {
            int status = 0;
            assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                failed++;
        }
    }
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_open_and_migrations, "open_and_migrations"),
        BOTH(test_put_idempotent_and_query, "put_idempotent_and_query"),
        BOTH(test_put_many, "put_many"),
        BOTH(test_name_pairs_and_checks, "name_pairs_and_checks"),
        BOTH(test_partner_cursor, "partner_cursor"),
        BOTH(test_upgrade_on_open, "upgrade_on_open"),
        BOTH(test_failed_put_in_transaction, "failed_put_in_transaction"),
        BOTH(test_iterate_many, "iterate_many"),
        BOTH(test_update_and_delete, "update_and_delete"),
        cmocka_unit_test(test_pg_writers),
        cmocka_unit_test(test_default_path),
        cmocka_unit_test(test_concurrent_first_open),
    };
    return PM_RUN_TESTS("store", tests, setup, teardown);
}
