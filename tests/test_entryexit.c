/* Entry/exit answers on a real store with linked crossings: overstays from
 * each traveller's own admission data, presence days with uncertain ranges,
 * removal departures with their evidence, and the edge cases of issue 15. */
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/link.h"
#include "perimeter/reports.h"
#include "perimeter/store.h"
#include "perimeter/travel.h"

static char *dir;
static char dbpath[4200];

static int setup(void **state)
{
    (void)state;
    dir = pm_test_tmpdir();
    if (!dir) return -1;
    snprintf(dbpath, sizeof dbpath, "%s/ee.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pm_test_rmdir(dir);
    free(dir);
    return 0;
}

/* One crossing reported by rc (our own "CAN", or "USA" for a partner entry
 * that becomes our exit), with optional admission data (cls/stay "" = none). */
static void put_x(pm_store_t *st, const char *rc, const char *id, const char *dir_,
                  const char *ts, const char *surname, const char *given, const char *dob,
                  const char *cit, const char *doc, const char *cls, const char *stay)
{
    const char *v[PM_CF_COUNT] = {id,  rc,  dir_, ts,  "0901", "land", surname, given, "",
                                  dob, cit, "F",  "P", doc,    cit,    ""};
    pm_crossing_t c;
    pm_crossing_init(&c);
    pm_error_t e;
    for (int i = 0; i < PM_CF_COUNT; i++)
        assert_int_equal(pm_crossing_set_field(&c, (pm_crossing_field_t)i, v[i], strlen(v[i]), &e),
                         PM_OK);
    assert_int_equal(pm_crossing_set_field(&c, PM_CF_ADMISSION_CLASS, cls, strlen(cls), &e), PM_OK);
    assert_int_equal(pm_crossing_set_field(&c, PM_CF_STAY_UNTIL, stay, strlen(stay), &e), PM_OK);
    assert_int_equal(pm_crossing_finish(&c, NULL, &e), PM_OK);
    if (strcmp(rc, "CAN")) { /* a partner's entry is our exit */
        c.direction = PM_DIRECTION_EXIT;
        memcpy(c.origin, rc, 4);
    }
    int ins = 0;
    assert_int_equal(pm_store_put_crossing(st, &c, &ins, &e), PM_OK);
    assert_int_equal(ins, 1);
}

static void put_adm(pm_store_t *st, const char *id, const char *dir_, const char *ts,
                    const char *surname, const char *dob, const char *cit, const char *doc,
                    const char *cls, const char *stay)
{
    put_x(st, "CAN", id, dir_, ts, surname, "Ann", dob, cit, doc, cls, stay);
}

static void link_store(pm_store_t *st)
{
    pm_error_t e;
    pm_linker_t *lk = NULL;
    assert_int_equal(pm_link_store_migrate(st, &e), PM_OK);
    assert_int_equal(pm_linker_new(NULL, &lk, &e), PM_OK);
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_STORE_ID;
    pm_crossing_iter_t *it = NULL;
    assert_int_equal(pm_store_crossings(st, &f, &it, &e), PM_OK);
    pm_crossing_t *c = malloc(sizeof *c);
    assert_non_null(c);
    while (pm_crossing_iter_next(it, c, &e) == 1)
        assert_int_equal(pm_linker_add(lk, c, NULL, &e), PM_OK);
    free(c);
    pm_crossing_iter_close(it);
    assert_int_equal(pm_link_store_save(st, lk, &e), PM_OK);
    pm_linker_free(lk);
}

static pm_store_t *fresh_store(void)
{
    pm_store_t *st = NULL;
    pm_error_t e;
    remove(dbpath);
    assert_int_equal(pm_store_open(dbpath, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_store_ensure_partner(st, "USA", &e), PM_OK);
    return st;
}

static const char *col_cell(const pm_report_t *r, size_t row, const char *col)
{
    for (size_t c = 0; c < pm_report_ncols(r); c++)
        if (!strcmp(pm_report_column(r, c), col)) return pm_report_cell(r, row, c);
    fail_msg("no column %s", col);
    return NULL;
}

static size_t find_row(const pm_report_t *r, const char *col, const char *value)
{
    for (size_t i = 0; i < pm_report_nrows(r); i++)
        if (!strcmp(col_cell(r, i, col), value)) return i;
    return SIZE_MAX;
}

static pm_report_t *overstays(pm_store_t *st, const pm_stay_rules_t *rules, pm_dob_t as_of)
{
    pm_error_t e;
    pm_link_events_t L;
    assert_int_equal(pm_link_events_load(st, &L, &e), PM_OK);
    pm_report_t *r = NULL;
    assert_int_equal(pm_report_overstays(st, &L, rules, &as_of, &r, &e), PM_OK);
    pm_link_events_free(&L);
    return r;
}

/* Overstays from each traveller's own authorised stay; the citizenship
 * default only without admission data, and then marked estimated. */
static void test_overstays_admission(void **state)
{
    (void)state;
    pm_store_t *st = fresh_store();
    put_adm(st, "a1", "entry", "2026-03-01T10:00:00-05:00", "Avis", "1980-01-02", "USA", "A1",
            "visitor", "2026-03-31");
    put_adm(st, "b1", "entry", "2026-03-01T10:00:00-05:00", "Brown", "1970-03-04", "USA", "B1",
            "citizen", "");
    put_adm(st, "c1", "entry", "2026-03-01T10:00:00-05:00", "Cole", "1960-05-06", "USA", "C1", "",
            "");
    /* a change of class: a visit, then back as a student with a longer stay */
    put_adm(st, "d1", "entry", "2026-01-01T10:00:00-05:00", "Diaz", "1990-07-08", "MEX", "D1",
            "visitor", "2026-01-31");
    put_x(st, "USA", "d2", "entry", "2026-01-20T10:00:00-05:00", "Diaz", "Ann", "1990-07-08",
          "MEX", "D1", "", "");
    put_adm(st, "d3", "entry", "2026-02-01T10:00:00-05:00", "Diaz", "1990-07-08", "MEX", "D1",
            "student", "2027-01-31");
    link_store(st);
    pm_stay_rules_t rules;
    memset(&rules, 0, sizeof rules);
    rules.default_days = 10;
    /* on the last authorised day: Avis is not over; Cole (no data, 10-day default) is */
    pm_report_t *r = overstays(st, &rules, (pm_dob_t){2026, 3, 31});
    assert_int_equal(find_row(r, "surname", "Avis"), SIZE_MAX);
    size_t i = find_row(r, "surname", "Cole");
    assert_true(i != SIZE_MAX);
    assert_string_equal(col_cell(r, i, "stay_basis"), "estimated");
    assert_string_equal(col_cell(r, i, "stay_days"), "10");
    assert_int_equal(find_row(r, "surname", "Brown"), SIZE_MAX); /* a citizen never overstays */
    assert_int_equal(find_row(r, "surname", "Diaz"), SIZE_MAX);  /* the student's stay runs */
    pm_report_free(r);
    /* the next day Avis is one day over her own 31-day stay */
    r = overstays(st, &rules, (pm_dob_t){2026, 4, 1});
    i = find_row(r, "surname", "Avis");
    assert_true(i != SIZE_MAX);
    assert_string_equal(col_cell(r, i, "stay_basis"), "admission");
    assert_string_equal(col_cell(r, i, "stay_days"), "31");
    assert_string_equal(col_cell(r, i, "days_over"), "1");
    assert_string_equal(col_cell(r, i, "stay_end"), "2026-03-31T23:59:59-05:00");
    assert_int_equal(find_row(r, "surname", "Brown"), SIZE_MAX);
    assert_int_equal(find_row(r, "surname", "Diaz"), SIZE_MAX);
    assert_int_equal(pm_report_nrows(r), 2);
    pm_report_free(r);
    pm_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overstays_admission),
    };
    return PM_RUN_TESTS("entryexit", tests, setup, teardown);
}
