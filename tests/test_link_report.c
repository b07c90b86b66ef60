/* link reports: reconciliation, overstays with per-class stays, presence days
 * across a window edge, on hand-checked scenarios. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "perimeter/link.h"

static int64_t at(int y, int m, int d, int hh)
{
    return pm_days_from_civil(y, m, d) * 86400 + hh * 3600;
}

static pm_link_event_t evt(int64_t id, uint32_t trav, pm_direction_t dir, int64_t t,
                           const char *cit)
{
    pm_link_event_t e;
    memset(&e, 0, sizeof e);
    e.store_id = id;
    e.traveller = trav;
    e.direction = dir;
    e.time_utc = t;
    e.local_day = pm_link_local_day(t, -300); /* UTC-5 */
    memcpy(e.citizenship, cit, 4);
    return e;
}

static void test_reconcile_and_overstay(void **state)
{
    (void)state;
    pm_link_event_t ev[] = {
        evt(4, 3, PM_DIRECTION_EXIT, at(2026, 1, 20, 12), "CAN"),  /* no prior entry */
        evt(1, 1, PM_DIRECTION_ENTRY, at(2026, 1, 10, 15), "USA"), /* a reconciled trip */
        evt(2, 1, PM_DIRECTION_EXIT, at(2026, 2, 1, 15), "USA"),
        evt(3, 2, PM_DIRECTION_ENTRY, at(2025, 6, 1, 15), "MEX"),  /* overstays */
        evt(5, 4, PM_DIRECTION_ENTRY, at(2026, 2, 20, 15), "MEX"), /* still within its stay */
        evt(6, 5, PM_DIRECTION_ENTRY, at(2020, 2, 20, 15), "CAN"), /* citizen: no limit */
    };
    size_t n = sizeof ev / sizeof ev[0];
    pm_link_sort_events(ev, n);
    assert_int_equal(ev[0].store_id, 1);
    int64_t entry[6];
    size_t exits = 0;
    assert_int_equal(pm_link_reconcile(ev, n, entry, &exits), 1);
    assert_int_equal(exits, 2);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].store_id == 2)
            assert_int_equal(ev[entry[i]].store_id, 1);
        else if (ev[i].store_id == 4)
            assert_int_equal(entry[i], -1);
        else
            assert_int_equal(entry[i], -2);
    }
    pm_stay_rules_t rules;
    memset(&rules, 0, sizeof rules);
    pm_error_t e;
    assert_int_equal(pm_stay_rules_add(&rules, "default=90", &e), PM_OK);
    assert_int_equal(pm_stay_rules_add(&rules, "MEX=180", &e), PM_OK);
    assert_int_equal(pm_stay_rules_add(&rules, "CAN=0", &e), PM_OK);
    assert_int_equal(pm_stay_rules_add(&rules, "MEX", &e), PM_EFORMAT);
    assert_int_equal(pm_stay_rules_add(&rules, "mex=3", &e), PM_EFORMAT);
    assert_int_equal(pm_stay_rules_add(&rules, "MEX=-3", &e), PM_EFORMAT);
    assert_int_equal(pm_stay_rules_days(&rules, "MEX"), 180);
    assert_int_equal(pm_stay_rules_days(&rules, "FRA"), 90);
    pm_link_overstay_t *os;
    size_t nos;
    assert_int_equal(pm_link_overstays(ev, n, &rules, at(2026, 3, 1, 15), &os, &nos, &e), PM_OK);
    assert_int_equal(nos, 1);
    assert_int_equal(ev[os[0].entry].store_id, 3);
    /* 2025-06-01 + 180 days = 2025-11-28; to 2026-03-01 is 93 days */
    assert_int_equal(os[0].stay_end_utc, at(2025, 11, 28, 15));
    assert_int_equal(os[0].days_over, 93);
    free(os);
    /* as of before the stay ended: nobody */
    assert_int_equal(pm_link_overstays(ev, n, &rules, at(2025, 11, 1, 0), &os, &nos, &e), PM_OK);
    assert_int_equal(nos, 0);
    free(os);
}

static void test_presence_window_edge(void **state)
{
    (void)state;
    /* a 5-year window ending 2026-02-28 starts 2021-03-01 */
    int32_t from = (int32_t)pm_days_from_civil(2021, 3, 1);
    int32_t to = (int32_t)pm_days_from_civil(2026, 2, 28);
    pm_link_event_t ev[] = {
        evt(1, 1, PM_DIRECTION_ENTRY, at(2021, 2, 25, 18), "USA"), /* straddles the edge */
        evt(2, 1, PM_DIRECTION_EXIT, at(2021, 3, 5, 18), "USA"),   /* 03-01..03-05: 5 days */
        evt(3, 1, PM_DIRECTION_ENTRY, at(2023, 7, 1, 18), "USA"),  /* 07-01..07-10: 10 days */
        evt(4, 1, PM_DIRECTION_EXIT, at(2023, 7, 10, 18), "USA"),
        evt(5, 1, PM_DIRECTION_ENTRY, at(2023, 7, 10, 20), "USA"), /* same day again: 07-10 once */
        evt(6, 1, PM_DIRECTION_EXIT, at(2023, 7, 12, 18), "USA"),  /* + 07-11, 07-12 */
        evt(7, 1, PM_DIRECTION_ENTRY, at(2026, 2, 20, 18), "USA"), /* open: 02-20..02-28: 9 */
    };
    pm_link_presence_t p;
    pm_link_presence_days(ev, 7, from, to, &p);
    assert_int_equal(p.days, 5 + 10 + 2 + 9);
    assert_int_equal(p.anomalies, 0);
    assert_int_equal(p.assumed_in, 0);
    /* one day later the window loses 2021-03-01 */
    pm_link_presence_days(ev, 7, from + 1, to + 1, &p);
    assert_int_equal(p.days, 4 + 10 + 2 + 10);
    /* local time: 2021-03-05 23:30 at UTC-5 is 03-06 UTC but counts as 03-05 */
    pm_link_event_t late[] = {evt(1, 1, PM_DIRECTION_ENTRY, at(2021, 3, 1, 12), "USA"),
                              evt(2, 1, PM_DIRECTION_EXIT, at(2021, 3, 6, 4) + 1800, "USA")};
    pm_link_presence_days(late, 2, from, to, &p);
    assert_int_equal(p.days, 5);
    /* first crossing an exit: present from the window start; missing exit */
    pm_link_event_t odd[] = {
        evt(1, 1, PM_DIRECTION_EXIT, at(2021, 3, 10, 18), "USA"), /* 03-01..03-10: 10 */
        evt(2, 1, PM_DIRECTION_ENTRY, at(2022, 1, 1, 18), "USA"), /* exit missing: 1 day */
        evt(3, 1, PM_DIRECTION_ENTRY, at(2022, 5, 1, 18), "USA"), /* 05-01..05-02: 2 */
        evt(4, 1, PM_DIRECTION_EXIT, at(2022, 5, 2, 18), "USA"),
        evt(5, 1, PM_DIRECTION_EXIT, at(2022, 6, 2, 18), "USA"), /* entry missing: 0 */
    };
    pm_link_presence_days(odd, 5, from, to, &p);
    assert_int_equal(p.days, 10 + 1 + 2);
    assert_int_equal(p.anomalies, 2);
    assert_int_equal(p.assumed_in, 1);
    /* 1,095 days over 5 years: a resident present the whole window */
    pm_link_event_t resident[] = {evt(1, 1, PM_DIRECTION_ENTRY, at(2019, 1, 1, 18), "USA")};
    pm_link_presence_days(resident, 1, from, to, &p);
    assert_int_equal(p.days, to - from + 1);
    assert_true(p.days >= 1095);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reconcile_and_overstay),
        cmocka_unit_test(test_presence_window_edge),
    };
    return PM_RUN_TESTS("link_report", tests, NULL, NULL);
}
