/* perimeter/reports.h: report results as library calls and their rendering
 * (text, CSV, JSON) on a hand-checked set of events. The CLI's bytes are checked
 * end to end by tests/e2e/link_reports.sh. */
#include "testutil.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/reports.h"

static pm_link_event_t evt(int64_t id, uint32_t trav, pm_direction_t dir, int64_t t)
{
    pm_link_event_t e;
    memset(&e, 0, sizeof e);
    e.store_id = id;
    e.traveller = trav;
    e.direction = dir;
    e.time_utc = t;
    e.local_day = pm_link_local_day(t, 0);
    memcpy(e.citizenship, "USA", 4);
    return e;
}

/* Traveller 1: entry 10 then exit 11 (reconciled); traveller 2: exit 20 with no
 * entry (unreconciled). Sorted as pm_link_events_load leaves them. */
static pm_link_events_t sample(pm_link_event_t *ev)
{
    int64_t day = pm_days_from_civil(2026, 3, 1) * 86400;
    ev[0] = evt(10, 1, PM_DIRECTION_ENTRY, day + 3600);
    ev[1] = evt(11, 1, PM_DIRECTION_EXIT, day + 7200);
    ev[2] = evt(20, 2, PM_DIRECTION_EXIT, day + 600);
    pm_link_events_t L = {ev, 3, 7};
    return L;
}

static void test_reconcile_result(void **state)
{
    (void)state;
    pm_link_event_t ev[3];
    pm_link_events_t L = sample(ev);
    pm_error_t e = {0};
    pm_report_t *r = NULL;
    assert_int_equal(pm_report_reconcile(&L, 0, &r, &e), PM_OK);
    assert_int_equal(pm_report_ncols(r), 5);
    assert_string_equal(pm_report_column(r, 0), "exit_store_id");
    assert_null(pm_report_column(r, 5));
    assert_int_equal(pm_report_nrows(r), 1); /* the work queue only */
    assert_string_equal(pm_report_cell(r, 0, 0), "20");
    assert_string_equal(pm_report_cell(r, 0, 4), "unreconciled");
    assert_null(pm_report_cell(r, 1, 0));
    int64_t v = -1;
    assert_int_equal(pm_report_summary_int(r, "exits", &v, &e), PM_OK);
    assert_int_equal(v, 2);
    assert_int_equal(pm_report_summary_int(r, "reconciled", &v, &e), PM_OK);
    assert_int_equal(v, 1);
    assert_int_equal(pm_report_summary_int(r, "unlinked_crossings", &v, &e), PM_OK);
    assert_int_equal(v, 7);
    assert_int_equal(pm_report_summary_int(r, "nosuch", &v, &e), PM_ENOTFOUND);
    pm_report_free(r);

    assert_int_equal(pm_report_reconcile(&L, 1, &r, &e), PM_OK);
    assert_int_equal(pm_report_nrows(r), 2);
    assert_string_equal(pm_report_cell(r, 0, 0), "11");
    assert_string_equal(pm_report_cell(r, 0, 3), "10");
    assert_string_equal(pm_report_cell(r, 0, 4), "reconciled");
    pm_report_free(r);
}

static void test_render(void **state)
{
    (void)state;
    pm_link_event_t ev[3];
    pm_link_events_t L = sample(ev);
    pm_error_t e = {0};
    pm_report_t *r = NULL;
    assert_int_equal(pm_report_reconcile(&L, 1, &r, &e), PM_OK);

    char *s = NULL;
    size_t len = 0;
    assert_int_equal(pm_report_render(r, PM_REPORT_CSV, &s, &len, &e), PM_OK);
    assert_int_equal(len, strlen(s));
    assert_string_equal(s, "exit_store_id,traveller,exit_time_utc,entry_store_id,status\n"
                           "11,1,2026-03-01T02:00:00+00:00,10,reconciled\n"
                           "20,2,2026-03-01T00:10:00+00:00,,unreconciled\n");
    free(s);

    assert_int_equal(pm_report_render(r, PM_REPORT_JSON, &s, &len, &e), PM_OK);
    assert_int_equal(s[len - 1], '\n');
    json_error_t je;
    json_t *o = json_loads(s, 0, &je);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "exits")), 2);
    assert_true(json_real_value(json_object_get(o, "reconciliation_rate")) == 0.5);
    json_t *rows = json_object_get(o, "rows");
    assert_int_equal(json_array_size(rows), 2);
    json_t *row = json_array_get(rows, 0);
    assert_int_equal(json_integer_value(json_object_get(row, "exit_store_id")), 11);
    assert_true(json_is_string(json_object_get(row, "exit_time_utc")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "entry_store_id")), "");
    json_decref(o);
    /* the summary keys come first, in the order the report set them */
    assert_ptr_equal(strstr(s, "\"exits\""), strchr(s, '"'));
    free(s);

    assert_int_equal(pm_report_render(r, PM_REPORT_TEXT, &s, &len, &e), PM_OK);
    assert_non_null(strstr(s, "exits                  2\n"));
    assert_non_null(strstr(s, "reconciliation_rate    0.5\n"));
    assert_non_null(strstr(s, "\n\nexit_store_id  traveller  exit_time_utc              entry_store_id  status      \n"));
    assert_non_null(strstr(s, "\n20             2          2026-03-01T00:10:00+00:00                  unreconciled\n"));
    free(s);

    assert_int_equal(pm_report_render(r, (pm_report_format_t)9, &s, &len, &e), PM_EINVAL);
    assert_null(s);
    pm_report_free(r);
    pm_report_free(NULL);
}

static void test_history_args(void **state)
{
    (void)state;
    pm_error_t e = {0};
    pm_report_t *r = (pm_report_t *)&e;
    pm_link_events_t L = {NULL, 0, 0};
    pm_history_query_t q = {0, NULL, NULL};
    /* no selector: refused before the store is touched */
    assert_int_equal(pm_report_history((pm_store_t *)&L, &L, &q, &r, &e), PM_EINVAL);
    assert_null(r);
    assert_int_equal(pm_report_history(NULL, &L, &q, &r, &e), PM_EINVAL);
    pm_link_events_free(&L);
    assert_int_equal(pm_report_reconcile(NULL, 0, &r, &e), PM_EINVAL);
}

static void test_presence(void **state)
{
    (void)state;
    pm_link_event_t ev[3];
    pm_link_events_t L = sample(ev);
    pm_error_t e = {0};
    pm_report_t *r = NULL;
    pm_dob_t as_of = {2026, 3, 10};
    assert_int_equal(pm_report_presence(&L, 0, &as_of, 5, 1, &r, &e), PM_OK);
    assert_int_equal(pm_report_nrows(r), 2);
    assert_int_equal(pm_report_ncols(r), 11); /* + days_min, days_max, uncertain */
    /* traveller 1: in and out on 2026-03-01, one day present */
    assert_string_equal(pm_report_cell(r, 0, 0), "1");
    assert_string_equal(pm_report_cell(r, 0, 1), "2021-03-11");
    assert_string_equal(pm_report_cell(r, 0, 2), "2026-03-10");
    assert_string_equal(pm_report_cell(r, 0, 3), "1");
    assert_string_equal(pm_report_cell(r, 0, 5), "yes");
    char *s = NULL;
    assert_int_equal(pm_report_render(r, PM_REPORT_JSON, &s, NULL, &e), PM_OK);
    assert_true(strncmp(s, "{\n  \"rows\": [", 13) == 0); /* no summary: rows only */
    free(s);
    assert_int_equal(pm_report_render(r, PM_REPORT_TEXT, &s, NULL, &e), PM_OK);
    assert_true(strncmp(s, "traveller  window_from", 22) == 0);
    free(s);
    pm_report_free(r);

    assert_int_equal(pm_report_presence(&L, 2, &as_of, 5, 1095, &r, &e), PM_OK);
    /* traveller 2's first crossing is an exit: present from the window start */
    assert_int_equal(pm_report_nrows(r), 1);
    assert_string_equal(pm_report_cell(r, 0, 5), "yes");
    assert_string_equal(pm_report_cell(r, 0, 7), "yes");
    /* ... which is an assumption: the days before the exit are uncertain */
    assert_string_equal(pm_report_cell(r, 0, 8), "1");
    assert_string_equal(pm_report_cell(r, 0, 10), "2021-03-11..2026-02-28");
    pm_report_free(r);
    assert_int_equal(pm_report_presence(&L, 9, &as_of, 5, 1095, &r, &e), PM_ENOTFOUND);
    assert_null(r);
    assert_int_equal(pm_report_presence(&L, 0, &as_of, 0, 1095, &r, &e), PM_EINVAL);
    pm_dob_t no_day = {2026, 3, 0};
    assert_int_equal(pm_report_presence(&L, 0, &no_day, 5, 1095, &r, &e), PM_EINVAL);
    pm_stay_rules_t rules;
    memset(&rules, 0, sizeof rules);
    assert_int_equal(pm_report_overstays(NULL, &L, &rules, &as_of, &r, &e), PM_EINVAL);
}

static void test_removals_empty_store(void **state)
{
    (void)state;
    char *dir = pm_test_tmpdir();
    assert_non_null(dir);
    char path[512];
    snprintf(path, sizeof path, "%s/r.db", dir);
    pm_error_t e = {0};
    pm_store_t *st = NULL;
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_link_store_migrate(st, &e), PM_OK);
    pm_link_events_t L;
    assert_int_equal(pm_link_events_load(st, &L, &e), PM_OK);
    assert_int_equal(L.n, 0);
    pm_report_t *r = NULL;
    static const char orders[] =
        "order_id,surname,given_names,date_of_birth,document_number,order_date\n"
        "RO-1,NOBODY,NEVER,1999-09-09,,2025-09-01\n";
    assert_int_equal(pm_report_removals(st, &L, orders, sizeof orders - 1, "o.csv", &r, &e), PM_OK);
    assert_int_equal(pm_report_nrows(r), 1);
    assert_string_equal(pm_report_cell(r, 0, 0), "RO-1");
    assert_string_equal(pm_report_cell(r, 0, 1), "no match");
    int64_t v = 0;
    assert_int_equal(pm_report_summary_int(r, "orders", &v, &e), PM_OK);
    assert_int_equal(v, 1);
    pm_report_free(r);
    /* an empty body, a missing column and an impossible date are refused */
    assert_int_equal(pm_report_removals(st, &L, "", 0, "o.csv", &r, &e), PM_EFORMAT);
    assert_null(r);
    assert_int_equal(pm_report_removals(st, &L, "order_id,surname\nA,B\n", 20, "o.csv", &r, &e),
                     PM_EFORMAT);
    assert_non_null(strstr(pm_error_text(&e), "order_date"));
    static const char bad[] =
        "order_id,surname,given_names,date_of_birth,document_number,order_date\n"
        "X,A,B,1970-01-01,,2025-02-30\n";
    assert_int_equal(pm_report_removals(st, &L, bad, sizeof bad - 1, "o.csv", &r, &e), PM_EFORMAT);
    assert_non_null(strstr(pm_error_text(&e), "o.csv:2"));
    assert_int_equal(pm_report_removals(NULL, &L, bad, sizeof bad - 1, "o.csv", &r, &e), PM_EINVAL);
    /* history of an unknown traveller in an empty store */
    pm_history_query_t q = {0, NULL, "NOPE"};
    assert_int_equal(pm_report_history(st, &L, &q, &r, &e), PM_ENOTFOUND);
    pm_link_events_free(&L);
    pm_store_close(st);
    pm_test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reconcile_result),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_history_args),
        cmocka_unit_test(test_presence),
        cmocka_unit_test(test_removals_empty_store),
    };
    return PM_RUN_TESTS("reports", tests, NULL, NULL);
}
