/* Admission data (class, authorised stay end) on our own entries: parsed and
 * validated, stored, and never written to the partner feed. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/store.h"
#include "perimeter/travel.h"

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = pm_test_tmpdir();
    return dir ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    pm_test_rmdir(dir);
    free(dir);
    return 0;
}

static const char hdr[] =
    "record_id,reporting_country,direction,timestamp,port_code,mode,surname,given_names,"
    "middle_names,date_of_birth,citizenship,sex,document_type,document_number,"
    "document_issuer,admission_class,stay_until\n";

/* Reads data (CSV); returns the number of good rows, the first n into out,
 * and the rejected count in *bad. */
static int read_rows(const char *data, pm_crossing_t *out, int n, int *bad, char *msg,
                     size_t msgcap)
{
    pm_crossing_reader_t *r = NULL;
    pm_error_t e;
    assert_int_equal(
        pm_crossing_reader_open_mem(data, strlen(data), PM_CROSSING_FORMAT_CSV, &r, &e), PM_OK);
    int good = 0;
    *bad = 0;
    pm_crossing_t c;
    for (;;) {
        int rc = pm_crossing_reader_next(r, &c, NULL, &e);
        if (rc == 0) break;
        if (rc == 1) {
            if (good < n) out[good] = c;
            good++;
        } else {
            assert_int_equal(rc, PM_EVALIDATION);
            if (msg && !*bad) snprintf(msg, msgcap, "%s", pm_error_text(&e));
            (*bad)++;
        }
    }
    pm_crossing_reader_free(r);
    return good;
}

static void test_parse_and_validate(void **state)
{
    (void)state;
    char data[4096], msg[256] = "";
    snprintf(data, sizeof data,
             "%s"
             "a1,CAN,entry,2026-03-01T10:00:00-05:00,0901,land,Lee,Ann,,1980-05-06,USA,F,P,D1,USA,visitor,2026-05-30\n"
             "a2,CAN,entry,2026-03-01T10:00:00-05:00,0901,land,Lee,Bo,,1980-05-06,CAN,M,P,D2,CAN,citizen,\n"
             "a3,CAN,entry,2026-03-01T10:00:00-05:00,0901,land,Lee,Cy,,1980-05-06,USA,M,P,D3,USA,,\n",
             hdr);
    pm_crossing_t rows[3];
    int bad = 0;
    assert_int_equal(read_rows(data, rows, 3, &bad, NULL, 0), 3);
    assert_int_equal(bad, 0);
    assert_string_equal(rows[0].admission_class, "visitor");
    assert_int_equal(rows[0].stay_until.year, 2026);
    assert_int_equal(rows[0].stay_until.month, 5);
    assert_int_equal(rows[0].stay_until.day, 30);
    assert_string_equal(rows[1].admission_class, "citizen");
    assert_int_equal(rows[1].stay_until.year, 0);
    assert_string_equal(rows[2].admission_class, "");

    /* each of these is rejected with the field and reason */
    static const struct {
        const char *row, *want;
    } cases[] = {
        {"b1,CAN,entry,2026-03-01T10:00:00-05:00,0901,land,Lee,Ann,,1980-05-06,USA,F,P,D1,USA,tourist,2026-05-30\n",
         "admission_class: want citizen"},
        {"b2,CAN,entry,2026-03-01T10:00:00-05:00,0901,land,Lee,Ann,,1980-05-06,USA,F,P,D1,USA,visitor,2026-05\n",
         "stay_until: want a full date"},
        {"b3,CAN,exit,2026-03-01T10:00:00-05:00,0901,land,Lee,Ann,,1980-05-06,USA,F,P,D1,USA,visitor,2026-05-30\n",
         "admission data belongs on an entry"},
        {"b4,CAN,entry,2026-03-01T10:00:00-05:00,0901,land,Lee,Ann,,1980-05-06,CAN,F,P,D1,CAN,citizen,2026-05-30\n",
         "stay has no end date"},
        {"b5,CAN,entry,2026-03-01T10:00:00-05:00,0901,land,Lee,Ann,,1980-05-06,USA,F,P,D1,USA,visitor,2026-02-28\n",
         "stay_until: before the entry date"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(data, sizeof data, "%s%s", hdr, cases[i].row);
        msg[0] = '\0';
        assert_int_equal(read_rows(data, rows, 1, &bad, msg, sizeof msg), 0);
        assert_int_equal(bad, 1);
        if (!strstr(msg, cases[i].want)) fail_msg("case %zu: '%s' lacks '%s'", i, msg, cases[i].want);
    }
    /* a stay ending on the entry day itself is allowed (a same-day transit) */
    snprintf(data, sizeof data, "%s%s", hdr,
             "c1,CAN,entry,2026-03-01T23:30:00-05:00,0901,land,Lee,Ann,,1980-05-06,USA,F,P,D1,USA,visitor,2026-03-01\n");
    assert_int_equal(read_rows(data, rows, 1, &bad, NULL, 0), 1);
}

static void test_stored_and_never_exported(void **state)
{
    (void)state;
    char path[4300], data[2048];
    snprintf(path, sizeof path, "%s/adm.db", dir);
    snprintf(data, sizeof data, "%s%s", hdr,
             "a1,CAN,entry,2026-03-01T10:00:00-05:00,0901,land,Lee,Ann,,1980-05-06,USA,F,P,D1,USA,student,2026-09-15\n");
    pm_crossing_t c;
    int bad = 0;
    assert_int_equal(read_rows(data, &c, 1, &bad, NULL, 0), 1);
    pm_store_t *st = NULL;
    pm_error_t e;
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_store_put_crossing(st, &c, NULL, &e), PM_OK);
    pm_crossing_iter_t *it = NULL;
    assert_int_equal(pm_store_crossings(st, NULL, &it, &e), PM_OK);
    pm_crossing_t back;
    assert_int_equal(pm_crossing_iter_next(it, &back, &e), 1);
    pm_crossing_iter_close(it);
    pm_store_close(st);
    assert_string_equal(back.admission_class, "student");
    assert_int_equal(back.stay_until.year, 2026);
    assert_int_equal(back.stay_until.month, 9);
    assert_int_equal(back.stay_until.day, 15);

    /* the wire writers (the partner feed, exports) never carry it */
    pm_buf_t b = {0};
    assert_int_equal(pm_crossing_csv_header(&b), PM_OK);
    assert_int_equal(pm_crossing_to_csv(&back, &b), PM_OK);
    assert_int_equal(pm_crossing_to_jsonl(&back, back.store_id, &b), PM_OK);
    assert_int_equal(pm_buf_append(&b, "", 1), PM_OK);
    const char *s = (const char *)b.data;
    assert_null(strstr(s, "admission"));
    assert_null(strstr(s, "stay_until"));
    assert_null(strstr(s, "student"));
    assert_null(strstr(s, "2026-09-15"));
    assert_non_null(strstr(s, "\"record_id\":\"a1\"")); /* it did write the record */
    pm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_validate),
        cmocka_unit_test(test_stored_and_never_exported),
    };
    return PM_RUN_TESTS("admission", tests, setup, teardown);
}
