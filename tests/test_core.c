/* Core: the error table, bounded buffers, bounded file reads. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"

static void test_error_table(void **state)
{
    (void)state;
    assert_string_equal(pm_err_name(PM_OK), "PM_EOK");
    assert_string_equal(pm_err_name(PM_EFORMAT), "PM_EFORMAT");
    assert_string_equal(pm_strerror(PM_ENOMEM), "out of memory");
    assert_string_equal(pm_strerror(-9999), "unknown error");
    pm_error_t e;
    pm_error_clear(&e);
    assert_int_equal(pm_error_set(&e, PM_ERANGE, "field %s is %d", "x", 7), PM_ERANGE);
    assert_int_equal(e.code, PM_ERANGE);
    assert_string_equal(pm_error_text(&e), "field x is 7");
    pm_error_prefix(&e, "line %d", 3);
    assert_string_equal(pm_error_text(&e), "line 3: field x is 7");
    assert_int_equal(pm_error_set(NULL, PM_EIO, "ignored"), PM_EIO);
}

static void test_buf_limit(void **state)
{
    (void)state;
    pm_buf_t b;
    pm_buf_init(&b, 10);
    assert_int_equal(pm_buf_append_str(&b, "hello"), PM_OK);
    assert_int_equal(pm_buf_printf(&b, "%d", 1234), PM_OK);
    assert_string_equal((char *)b.data, "hello1234");
    assert_int_equal(pm_buf_append_str(&b, "xy"), PM_ELIMIT);
    assert_int_equal(b.len, 9);
    assert_int_equal(pm_buf_append_str(&b, "z"), PM_OK);
    assert_int_equal(b.len, 10);
    pm_buf_free(&b);
}

static void test_file_read_limit(void **state)
{
    (void)state;
    char *dir = pm_test_tmpdir();
    assert_non_null(dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/f.txt", dir);
    pm_error_t e;
    assert_int_equal(pm_file_write_atomic(path, "0123456789", 10, &e), PM_OK);
    uint8_t *data;
    size_t len;
    assert_int_equal(pm_file_read(path, 10, &data, &len, &e), PM_OK);
    assert_int_equal(len, 10);
    assert_memory_equal(data, "0123456789", 10);
    free(data);
    assert_int_equal(pm_file_read(path, 9, &data, &len, &e), PM_ELIMIT);
    assert_null(data);
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(pm_file_read(path, 9, &data, &len, &e), PM_ENOTFOUND);
    pm_test_rmdir(dir);
    free(dir);
}

static void test_median(void **state)
{
    (void)state;
    double v[] = {5, 1, 3, 2, 4};
    assert_true(pm_median(v, 5) == 3.0);
    assert_true(pm_median(v, 4) == 2.5);
    assert_true(pm_median(v, 0) == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_buf_limit),
        cmocka_unit_test(test_file_read_limit),
        cmocka_unit_test(test_median),
    };
    return PM_RUN_TESTS("core", tests, NULL, NULL);
}
