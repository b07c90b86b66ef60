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

/* Skips the current test with a clear message when shared data is absent. */
#define PM_REQUIRE_DATA(var, sub)                                                                  \
    const char *var = pm_test_data_dir(sub);                                                       \
    if (!var) {                                                                                    \
        print_message("SKIP: shared test data '%s' not found (set PERIMETER_DATA)\n", sub);       \
        skip();                                                                                    \
    }

/* A fresh private temporary directory (removed with its contents by
 * pm_test_rmdir). Returns a malloc'd path. */
char *pm_test_tmpdir(void);
void pm_test_rmdir(const char *path);

/* Deterministic pseudo-random numbers for tests (xorshift64*). */
uint64_t pm_test_rand(uint64_t *state);

#endif
