/* The store pool (pm_store_pool_*): checkout and return, exhaustion and the
 * timeout, a waiter woken by a return, a transaction left open rolled back
 * on return, and (PostgreSQL) a broken connection replaced, never handed
 * out again. Each test on SQLite and on a throwaway PostgreSQL cluster.
 * ~15-25 s on a loaded 2-core machine (the cluster's start); also run
 * under ThreadSanitizer (a waiter thread woken by a return):
 * ctest-label: heavy
 * ctest-label: threads */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perimeter/store.h"

/* The prepare hook: counts the handles opened and makes the test's table. */
static int prepare(pm_store_t *st, void *ctx, pm_error_t *err)
{
    int *n = ctx;
    (*n)++;
    return pm_store_exec(st, "CREATE TABLE IF NOT EXISTS pool_t (v BIGINT NOT NULL)", err);
}

static int64_t query(pm_store_t *st, const char *sql)
{
    int64_t v = -1;
    pm_error_t e;
    if (pm_store_query_int64(st, sql, NULL, 0, &v, &e)) fail_msg("%s: %s", sql, e.msg);
    return v;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_checkout_exhaustion(void **state)
{
    const pm_test_backend_t *t = *state;
    char path[4400];
    pm_test_backend_fresh_db(t, "pool_exhaust", path, sizeof path);
    pm_error_t e;
    int opened = 0;
    pm_store_pool_t *p = NULL;
    if (pm_store_pool_open(path, NULL, 2, prepare, &opened, &p, &e)) fail_msg("open: %s", e.msg);
    assert_int_equal(opened, 2);
    pm_store_t *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(pm_store_pool_get(p, 0, &a, &e), PM_OK);
    assert_int_equal(pm_store_pool_get(p, 0, &b, &e), PM_OK);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    /* both out: a third waits its timeout, then PM_EBUSY */
    double t0 = now_ms();
    assert_int_equal(pm_store_pool_get(p, 60, &c, &e), PM_EBUSY);
    assert_true(now_ms() - t0 >= 50); /* it did wait (no upper bound: the machine is loaded) */
    assert_null(c);
    assert_non_null(strstr(e.msg, "in use"));
    pm_store_pool_stats_t s;
    pm_store_pool_stats(p, &s);
    assert_int_equal(s.size, 2);
    assert_int_equal(s.in_use, 2);
    assert_int_equal(s.idle, 0);
    assert_int_equal(s.timeouts, 1);
    /* each handle works and sees the other's commits */
    assert_int_equal(pm_store_exec(a, "INSERT INTO pool_t (v) VALUES (7)", &e), PM_OK);
    assert_int_equal(query(b, "SELECT count(*) FROM pool_t"), 1);
    pm_store_pool_put(p, a);
    assert_int_equal(pm_store_pool_get(p, 0, &c, &e), PM_OK);
    assert_ptr_equal(c, a); /* the same handle again, not a new one */
    pm_store_pool_put(p, b);
    pm_store_pool_put(p, c);
    pm_store_pool_put(p, NULL);
    pm_store_pool_stats(p, &s);
    assert_int_equal(s.in_use, 0);
    assert_int_equal(s.idle, 2);
    assert_int_equal(s.checkouts, 3);
    assert_int_equal(s.replaced, 0);
    assert_int_equal(opened, 2);
    pm_store_pool_close(p);
    /* bad arguments */
    assert_int_equal(pm_store_pool_open(path, NULL, 0, NULL, NULL, &p, &e), PM_EINVAL);
    assert_null(p);
}

typedef struct waiter {
    pm_store_pool_t *p;
    pm_store_t *got;
    int rc;
} waiter_t;

static void *wait_main(void *v)
{
    waiter_t *w = v;
    pm_error_t e;
    w->rc = pm_store_pool_get(w->p, 20000, &w->got, &e);
    return NULL;
}

/* A waiter is woken by a return; a transaction left open is rolled back. */
static void test_wait_and_rollback(void **state)
{
    const pm_test_backend_t *t = *state;
    char path[4400];
    pm_test_backend_fresh_db(t, "pool_wait", path, sizeof path);
    pm_error_t e;
    int opened = 0;
    pm_store_pool_t *p = NULL;
    if (pm_store_pool_open(path, NULL, 1, prepare, &opened, &p, &e)) fail_msg("open: %s", e.msg);
    pm_store_t *a = NULL;
    assert_int_equal(pm_store_pool_get(p, 0, &a, &e), PM_OK);
    waiter_t w = {p, NULL, -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, wait_main, &w), 0);
    usleep(100 * 1000);
    /* a transaction left open by a failing request */
    assert_int_equal(pm_store_begin(a, &e), PM_OK);
    assert_int_equal(pm_store_exec(a, "INSERT INTO pool_t (v) VALUES (1)", &e), PM_OK);
    pm_store_pool_put(p, a);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(w.rc, PM_OK);
    assert_ptr_equal(w.got, a);
    assert_int_equal(query(w.got, "SELECT count(*) FROM pool_t"), 0);
    assert_int_equal(pm_store_begin(w.got, &e), PM_OK); /* no transaction was left open */
    assert_int_equal(pm_store_commit(w.got, &e), PM_OK);
    pm_store_pool_put(p, w.got);
    pm_store_pool_stats_t s;
    pm_store_pool_stats(p, &s);
    assert_int_equal(s.timeouts, 0);
    assert_int_equal(s.replaced, 0);
    pm_store_pool_close(p);
}

/* PostgreSQL: a connection the server ended is closed on return and a fresh
 * one opened in its place; the broken one is never handed out again. */
static void test_broken_connection(void **state)
{
    (void)state;
    char path[4400];
    pm_test_backend_fresh_db(&PM_TEST_PG, "pool_broken", path, sizeof path);
    pm_error_t e;
    int opened = 0;
    pm_store_pool_t *p = NULL;
    if (pm_store_pool_open(path, NULL, 2, prepare, &opened, &p, &e)) fail_msg("open: %s", e.msg);
    pm_store_t *a = NULL, *b = NULL;
    assert_int_equal(pm_store_pool_get(p, 0, &a, &e), PM_OK);
    assert_int_equal(pm_store_pool_get(p, 0, &b, &e), PM_OK);
    int64_t pid = query(a, "SELECT pg_backend_pid()");
    int64_t args[1] = {pid};
    int64_t killed = 0;
    assert_int_equal(pm_store_query_int64(b, "SELECT CAST(pg_terminate_backend(CAST(? AS INTEGER)) "
                                             "AS INTEGER)",
                                          args, 1, &killed, &e),
                     PM_OK);
    assert_int_equal(killed, 1);
    /* the request that had it sees an error (the server may take a moment) */
    int64_t v = 0;
    int rc = PM_OK;
    for (int i = 0; i < 50 && rc == PM_OK; i++) {
        rc = pm_store_query_int64(a, "SELECT 1", NULL, 0, &v, &e);
        if (rc == PM_OK)
            usleep(20 * 1000);
    }
    assert_int_not_equal(rc, PM_OK);
    pm_store_pool_put(p, a);
    pm_store_pool_put(p, b);
    pm_store_pool_stats_t s;
    pm_store_pool_stats(p, &s);
    assert_int_equal(s.replaced, 1);
    assert_int_equal(s.idle, 1);
    /* both handles out again: b, and a fresh connection (prepared) */
    pm_store_t *c = NULL, *d = NULL;
    assert_int_equal(pm_store_pool_get(p, 0, &c, &e), PM_OK);
    assert_int_equal(pm_store_pool_get(p, 0, &d, &e), PM_OK);
    assert_int_equal(opened, 3);
    assert_int_equal(query(c, "SELECT 1"), 1);
    assert_int_equal(query(d, "SELECT 1"), 1);
    assert_true(query(c, "SELECT pg_backend_pid()") != pid);
    assert_true(query(d, "SELECT pg_backend_pid()") != pid);
    pm_store_pool_put(p, c);
    pm_store_pool_put(p, d);
    pm_store_pool_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PM_TEST_BOTH(test_checkout_exhaustion, "checkout_exhaustion"),
        PM_TEST_BOTH(test_wait_and_rollback, "wait_and_rollback"),
        cmocka_unit_test(test_broken_connection),
    };
    return PM_RUN_TESTS("store_pool", tests, pm_test_backends_setup, pm_test_backends_teardown);
}
