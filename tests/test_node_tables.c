/* node tables ported to the query API, on SQLite and PostgreSQL: officer
 * accounts (add, duplicate refused, replace, check, roles of the console
 * migration step). The other node tables are SQLite-only for now
 * (docs/node.md); perimeter serve refuses a PostgreSQL store naming them. */
#include "testutil.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perimeter/node.h"
#include "perimeter/store.h"

typedef struct target {
    const char *name;
    int pg;
} target_t;
static target_t T_SQLITE = {"sqlite", 0};
static target_t T_PG = {"postgres", 1};

static char *dir;
static char *pg_uri;
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

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static void admin(const char *sql)
{
    PGconn *c = PQconnectdb(pg_uri);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQsetNoticeProcessor(c, quiet, NULL);
    PGresult *r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
}

/* A fresh database `name` on t, its target into out. */
static void fresh_db(const target_t *t, const char *name, char *out, size_t cap)
{
    if (!t->pg) {
        snprintf(out, cap, "%s/%s.db", dir, name);
        unlink(out);
        return;
    }
    PM_REQUIRE_SERVICE(pg_uri, pg_installed, "PostgreSQL");
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
    admin(sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    admin(sql);
    const char *slash = strrchr(pg_uri, '/');
    snprintf(out, cap, "%.*s/%s", (int)(slash - pg_uri), pg_uri, name);
}


static void test_officers(void **state)
{
    const target_t *t = *state;
    char path[4400];
    fresh_db(t, "node_officers", path, sizeof path);
    pm_store_t *st = NULL;
    pm_error_t e;
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_officer_add(st, "ana", "correct horse", PM_ROLE_OFFICER, 0, &e), PM_OK);
    assert_int_equal(pm_officer_add(st, "ana", "another pass", PM_ROLE_ADMIN, 0, &e), PM_EEXISTS);
    assert_non_null(strstr(e.msg, "exists"));
    /* a console role (node step 3 widened the CHECK on both backends) */
    assert_int_equal(pm_officer_add(st, "vic", "vetting pass", PM_ROLE_VETTING, 0, &e),
                     PM_OK);
    pm_officer_role_t role = PM_ROLE_NONE;
    assert_int_equal(pm_officer_check(st, "ana", "correct horse", &role, &e), PM_OK);
    assert_int_equal(role, PM_ROLE_OFFICER);
    assert_int_equal(pm_officer_check(st, "ana", "wrong password", &role, &e), PM_EDENIED);
    assert_int_equal(pm_officer_check(st, "nobody", "correct horse", &role, &e), PM_EDENIED);
    assert_int_equal(pm_officer_check(st, "vic", "vetting pass", &role, &e), PM_OK);
    assert_int_equal(role, PM_ROLE_VETTING);
    /* replace: new password and role */
    assert_int_equal(pm_officer_add(st, "ana", "another pass", PM_ROLE_ADMIN, 1, &e), PM_OK);
    assert_int_equal(pm_officer_check(st, "ana", "correct horse", &role, &e), PM_EDENIED);
    assert_int_equal(pm_officer_check(st, "ana", "another pass", &role, &e), PM_OK);
    assert_int_equal(role, PM_ROLE_ADMIN);
    pm_store_close(st);
    /* a second handle (a reopened store) sees them, migrations not repeated */
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_officer_check(st, "vic", "vetting pass", &role, &e), PM_OK);
    int v = 0;
    assert_int_equal(pm_store_schema_version(st, "node", &v, &e), PM_OK);
    assert_int_equal(v, 3);
    pm_store_close(st);
}

#define BOTH(fn, name)                                                                             \
    {name "/sqlite", fn, NULL, NULL, &T_SQLITE}, {name "/postgres", fn, NULL, NULL, &T_PG}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_officers, "officers"),
    };
    return PM_RUN_TESTS("node_tables", tests, setup, teardown);
}
