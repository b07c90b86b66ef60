/* Shared helpers for the cmocka suites. Include after <cmocka.h>'s prerequisites. */
#ifndef PM_TESTUTIL_H
#define PM_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* The shared data folder ($PERIMETER_DATA, else ../shared/data from the source
 * tree) if `sub` exists inside it, else NULL. Tests call PM_REQUIRE_DATA. */
const char *pm_test_data_dir(const char *sub);

/* True when a missing data set must fail rather than skip: CI sets
 * PERIMETER_REQUIRE_DATA=1 (CI=true does the same) so nothing proves green by skipping. */
int pm_test_data_required(void);
/* Counts skips so the suite can exit 77 (CTest: Skipped) instead of 0 (Passed). */
void pm_test_note_skip(void);

/* Skips the current test with a clear message when shared data is absent, or
 * fails it when pm_test_data_required(). */
#define PM_REQUIRE_DATA(var, sub)                                                                  \
    const char *var = pm_test_data_dir(sub);                                                       \
    if (!var) {                                                                                    \
        if (pm_test_data_required())                                                               \
            fail_msg("shared test data '%s' not found and PERIMETER_REQUIRE_DATA is set", sub);    \
        print_message("SKIP: shared test data '%s' not found (set PERIMETER_DATA)\n", sub);       \
        pm_test_note_skip();                                                                       \
        skip();                                                                                    \
    }

/* A service a test needs (a PostgreSQL or NATS server it starts itself): when
 * it is not installed the test is skipped on a developer's machine and FAILS
 * under PERIMETER_REQUIRE_DATA=1 / CI=true, like shared data; when it is
 * installed but could not be started, the test fails everywhere. */
#define PM_REQUIRE_SERVICE(available, installed, what)                                             \
    if (!(available)) {                                                                            \
        if ((installed) || pm_test_data_required())                                                \
            fail_msg("%s is %s", what, (installed) ? "installed but did not start" : "not installed"); \
        print_message("SKIP: %s is not installed\n", what);                                       \
        pm_test_note_skip();                                                                       \
        skip();                                                                                    \
    }

/* A throwaway PostgreSQL cluster in dir/pg (tests/pg_env.sh start DIR --fast
 * --watch <this process>): returns its URI (malloc'd), or NULL with
 * *installed = 0 when PostgreSQL is not installed, 1 when it failed to start
 * (its messages went to stderr). pm_test_pg_stop stops it; if the test dies
 * first, the watcher stops it. */
char *pm_test_pg_start(const char *dir, int *installed);
/* Runs sql on the PostgreSQL database at uri (notices silenced); 0 = it succeeded. */
int pm_test_pg_exec(const char *uri, const char *sql);
/* Drops and creates database `name` on the cluster whose URI (database "postgres")
 * is cluster_uri; the new database's URI into out. 0 = done. */
int pm_test_pg_fresh_db(const char *cluster_uri, const char *name, char *out, size_t cap);
void pm_test_pg_stop(const char *dir);

/* A throwaway NATS server (nats-server -a 127.0.0.1 -p -1 --ports_file_dir
 * dir; $PM_NATS_SERVER overrides the program): returns its URL (malloc'd) and
 * its pid, or NULL with *installed = 0 when nats-server is not installed, 1
 * when it did not start. It dies with the test process (PR_SET_PDEATHSIG);
 * pm_test_nats_stop kills it and waits. */
char *pm_test_nats_start(const char *dir, int *installed, int *out_pid);
void pm_test_nats_stop(int pid);

/* Suites that run each test on both store backends: a group set-up making a
 * temporary folder and starting a throwaway PostgreSQL cluster in it (absent:
 * the PostgreSQL cases skip, or fail under PERIMETER_REQUIRE_DATA), its
 * teardown, and a fresh database per test. Pass &PM_TEST_SQLITE or
 * &PM_TEST_PG as the test's state (PM_TEST_BOTH). */
typedef struct pm_test_backend {
    const char *name; /* "sqlite" or "postgres" */
    int pg;
} pm_test_backend_t;
extern const pm_test_backend_t PM_TEST_SQLITE, PM_TEST_PG;
int pm_test_backends_setup(void **state);
int pm_test_backends_teardown(void **state);
/* The group's temporary folder (valid between set-up and teardown). */
const char *pm_test_backends_dir(void);
/* A fresh database `name` on t (an emptied SQLite file in the folder, or a
 * new PostgreSQL database); its target into out. */
void pm_test_backend_fresh_db(const pm_test_backend_t *t, const char *name, char *out, size_t cap);
#define PM_TEST_BOTH(fn, name)                                                                     \
    {name "/sqlite", fn, NULL, NULL, (void *)&PM_TEST_SQLITE},                                     \
    {                                                                                              \
        name "/postgres", fn, NULL, NULL, (void *)&PM_TEST_PG                                      \
    }

/* A crossing stored as imported (CAN's own record, entry at port 0901, land,
 * the fields given); asserts it was new and returns its store id. */
struct pm_store;
int64_t pm_test_put_crossing(struct pm_store *st, const char *id, const char *ts, const char *sur,
                             const char *given, const char *dob, const char *cit, const char *doc);

/* Runs a cmocka group and turns its result into the process exit code:
 * 1 if any test failed, 77 if none failed but some skipped (registered in CTest
 * with SKIP_RETURN_CODE 77, so a skip is reported as skipped, never as passed), else 0. */
int pm_test_exit(int failed);
#define PM_RUN_TESTS(name, tests, setup, teardown)                                                 \
    pm_test_exit(cmocka_run_group_tests_name(name, tests, setup, teardown))

/* A fresh private temporary directory (removed with its contents by
 * pm_test_rmdir). Returns a malloc'd path. */
char *pm_test_tmpdir(void);
void pm_test_rmdir(const char *path);

/* Deterministic pseudo-random numbers for tests (xorshift64*). */
uint64_t pm_test_rand(uint64_t *state);

/* The agreement text the jobs suites use (CAN-USA, REFUGEE_VETTING and
 * ENTRY_EXIT, 3 biometric queries a year, review before adverse action),
 * under `version`, into buf (n bytes: 2048 is enough). */
void pm_test_jobs_agreement(const char *version, char *buf, size_t n);

#endif
