/* The modules' own tables through the store's query API, each test on
 * SQLite and on PostgreSQL: the node's officer accounts (add, duplicate
 * refused, replace, check, the console roles' migration step) and the
 * gallery's templates (put, duplicate, delete, generation, a paged load of
 * more than one page, a filtered load). Modules not ported yet are listed in
 * docs/node.md; perimeter serve refuses a PostgreSQL store naming them.
 * ~35 s on a loaded 2-core machine (4,200 gallery rows on PostgreSQL):
 * ctest-label: heavy */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node_impl.h"
#include "perimeter/gallery.h"
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

/* A fresh database `name` on t, its target into out. */
static void fresh_db(const target_t *t, const char *name, char *out, size_t cap)
{
    if (!t->pg) {
        snprintf(out, cap, "%s/%s.db", dir, name);
        unlink(out);
        return;
    }
    PM_REQUIRE_SERVICE(pg_uri, pg_installed, "PostgreSQL");
    assert_int_equal(pm_test_pg_fresh_db(pg_uri, name, out, cap), 0);
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

/* The node's feed push state (feed_push) on both backends. */
static void test_feed_state(void **state)
{
    const target_t *t = *state;
    char path[4400];
    fresh_db(t, "node_feed", path, sizeof path);
    pm_store_t *st = NULL;
    pm_error_t e;
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    assert_int_equal(pm__node_migrate(st, &e), PM_OK);
    pm__feed_state_t fs;
    assert_int_equal(pm__feed_state_get(st, "USA", &fs, &e), PM_OK);
    assert_int_equal(fs.push_acked, 0);
    assert_int_equal(pm__feed_note_error(st, "USA", "connection refused", &e), PM_OK);
    assert_int_equal(pm__feed_note_error(st, "USA", "timed out", &e), PM_OK);
    assert_int_equal(pm__feed_state_get(st, "USA", &fs, &e), PM_OK);
    assert_int_equal(fs.failures, 2);
    assert_string_equal(fs.last_error, "timed out");
    assert_int_equal(fs.last_ok_at, 0);
    assert_int_equal(pm__feed_set_acked(st, "USA", 40, &e), PM_OK);
    assert_int_equal(pm__feed_set_acked(st, "USA", 25, &e), PM_OK); /* never lowered */
    assert_int_equal(pm__feed_state_get(st, "USA", &fs, &e), PM_OK);
    assert_int_equal(fs.push_acked, 40);
    assert_int_equal(fs.failures, 0);
    assert_string_equal(fs.last_error, "");
    assert_true(fs.last_ok_at > 0);
    /* the CHECK on the partner code is the caller's input: PM_EVALIDATION */
    assert_int_equal(pm__feed_set_acked(st, "TOOLONG", 1, &e), PM_EVALIDATION);
    pm_store_close(st);
}

static int odd(uint64_t subject, void *ctx)
{
    (void)ctx;
    return (int)(subject & 1);
}

/* More than one page of the load (4096 rows a page). */
#define GALLERY_ROWS 4200

static void test_gallery_store(void **state)
{
    const target_t *t = *state;
    char path[4400];
    fresh_db(t, "gallery_store", path, sizeof path);
    pm_store_t *st = NULL;
    pm_error_t e;
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_gallery_store_migrate(st, &e), PM_OK);
    pm_fingerprint_t *master = malloc(sizeof *master);
    assert_non_null(master);
    assert_int_equal(pm_store_begin(st, &e), PM_OK);
    for (size_t i = 0; i < GALLERY_ROWS; i++) {
        if (i % 64 == 0)
            pm_gallery_synth_master(77, i / 64, master);
        master->count = 12 + i % 7; /* small templates: the test is about rows */
        int rc = pm_gallery_store_put(st, 1000 + i / 2, (uint32_t)(i % 2), 2, master, &e);
        if (rc)
            fail_msg("put %zu: %s", i, e.msg);
    }
    /* a duplicate is PM_EEXISTS and the transaction goes on */
    assert_int_equal(pm_gallery_store_put(st, 1000, 0, 2, master, &e), PM_EEXISTS);
    assert_int_equal(pm_store_commit(st, &e), PM_OK);
    uint64_t gen = 0, gen2 = 0;
    assert_int_equal(pm_gallery_store_generation(st, &gen, &e), PM_OK);
    assert_int_equal(gen, GALLERY_ROWS);
    size_t removed = 0;
    assert_int_equal(pm_gallery_store_delete(st, 1001, 1, &removed, &e), PM_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(pm_gallery_store_delete(st, 1001, -1, &removed, &e), PM_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(pm_gallery_store_delete(st, 1001, -1, &removed, &e), PM_ENOTFOUND);
    assert_int_equal(pm_gallery_store_generation(st, &gen, &e), PM_OK);
    assert_int_equal(gen, GALLERY_ROWS + 2);
    pm_gallery_t *g = NULL;
    assert_int_equal(pm_gallery_new(NULL, &g, &e), PM_OK);
    assert_int_equal(pm_gallery_store_load(st, g, &gen2, &e), PM_OK);
    assert_int_equal(gen2, gen);
    assert_int_equal(pm_gallery_count(g), GALLERY_ROWS - 2);
    pm_gallery_free(g);
    /* only the odd subjects (one shard's part) */
    assert_int_equal(pm_gallery_new(NULL, &g, &e), PM_OK);
    size_t inserted = 0;
    assert_int_equal(pm_gallery_store_load_where(st, g, odd, NULL, &gen2, &inserted, &e), PM_OK);
    assert_int_equal(inserted, GALLERY_ROWS / 2 - 2);
    assert_int_equal(pm_gallery_count(g), inserted);
    pm_gallery_free(g);
    pm_store_close(st);
    free(master);
}

#define BOTH(fn, name)                                                                             \
    {name "/sqlite", fn, NULL, NULL, &T_SQLITE}, {name "/postgres", fn, NULL, NULL, &T_PG}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_officers, "officers"),
        BOTH(test_feed_state, "feed_state"),
        BOTH(test_gallery_store, "gallery_store"),
    };
    return PM_RUN_TESTS("store_modules", tests, setup, teardown);
}
