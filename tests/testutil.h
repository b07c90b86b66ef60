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

#endif
