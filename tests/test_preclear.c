/* Pre-clearance decisions (library): documents, watchlist, history and gate
 * fingerprint callbacks combine into the worst decision with every reason;
 * errors from a callback stop the run. */
#include "testutil.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "perimeter/preclear.h"

static pm_dob_t D(const char *s)
{
    pm_dob_t d;
    assert_int_equal(pm_dob_parse(s, strlen(s), &d, NULL), PM_OK);
    return d;
}

static pm_preclear_passenger_t base(void)
{
    pm_preclear_passenger_t p;
    memset(&p, 0, sizeof p);
    p.flight_id = "AC1";
    p.seq = "1";
    p.surname = "DUBOIS";
    p.given_names = "MARC";
    p.middle_names = "";
    p.dob = D("1988-03-03");
    p.sex = 'M';
    p.citizenship = "FRA";
    p.document_type = "P";
    p.document_number = "F7654321";
    p.document_issuer = "FRA";
    p.document_expiry = D("2029-01-01");
    p.mrz = "";
    p.departure = D("2026-09-01");
    return p;
}

struct hist_ctx {
    int calls;
    int overstays;
    int fail;
};

static int hist(void *ctx, const pm_preclear_passenger_t *p, pm_preclear_history_t *out,
                pm_error_t *err)
{
    struct hist_ctx *h = ctx;
    h->calls++;
    if (h->fail) return pm_error_set(err, PM_EDB, "history source down");
    out->known = strcmp(p->document_number, "F7654321") == 0;
    out->traveller = 42;
    out->stays = 3;
    out->overstays = h->overstays;
    out->max_days_over = 12;
    return PM_OK;
}

static int bio(void *ctx, const pm_preclear_passenger_t *p, int *checked, double *score,
               pm_error_t *err)
{
    (void)p;
    (void)err;
    *checked = 1;
    *score = *(const double *)ctx;
    return PM_OK;
}

static int gate(void *ctx, const pm_preclear_passenger_t *p, pm_preclear_gate_result_t *out,
                pm_error_t *err)
{
    (void)p;
    (void)err;
    *out = *(const pm_preclear_gate_result_t *)ctx;
    return 0;
}

static int count_row(void *ctx, const pm_preclear_passenger_t *p, pm_error_t *err)
{
    (void)err;
    assert_non_null(p->surname);
    (*(int *)ctx)++;
    return 0;
}

static void test_decisions(void **state)
{
    (void)state;
    pm_preclear_options_t o;
    memset(&o, 0, sizeof o);
    pm_preclear_passenger_t p = base();
    pm_preclear_decision_t d;
    char why[512];
    pm_error_t e;
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_OK);
    assert_int_equal(d, PM_PRECLEAR_CLEARED);
    assert_string_equal(why, "");
    /* expired on the day before departure: do not board */
    p.document_expiry = D("2026-08-31");
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_OK);
    assert_int_equal(d, PM_PRECLEAR_DO_NOT_BOARD);
    assert_non_null(strstr(why, "document expired 2026-08-31"));
    /* valid on the departure day itself */
    p.document_expiry = D("2026-09-01");
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_OK);
    assert_int_equal(d, PM_PRECLEAR_CLEARED);
    /* an unknown issuer code is a referral naming the field */
    p.document_issuer = "QQQ";
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_OK);
    assert_int_equal(d, PM_PRECLEAR_REFER);
    assert_non_null(strstr(why, "document_issuer"));
    p = base();
    /* history: an overstay refers, and the worst decision wins over it */
    struct hist_ctx hc = {0, 1, 0};
    o.history = hist;
    o.history_ctx = &hc;
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_OK);
    assert_int_equal(d, PM_PRECLEAR_REFER);
    assert_non_null(strstr(why, "overstayed 1 of 3 stays (up to 12 days; traveller 42)"));
    p.document_expiry = D("2020-01-01");
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_OK);
    assert_int_equal(d, PM_PRECLEAR_DO_NOT_BOARD);
    assert_non_null(strstr(why, "expired"));
    assert_non_null(strstr(why, "overstayed"));
    p = base();
    hc.overstays = 0;
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_OK);
    assert_int_equal(d, PM_PRECLEAR_CLEARED);
    /* gate fingerprint: below the threshold refers; at it clears */
    double score = 39.9;
    o.biometric = bio;
    o.biometric_ctx = &score;
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_OK);
    assert_int_equal(d, PM_PRECLEAR_REFER);
    assert_non_null(strstr(why, "fingerprint does not match"));
    score = 40.0;
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_OK);
    assert_int_equal(d, PM_PRECLEAR_CLEARED);
    /* the gate with its evidence: another traveller's prints refer naming him;
     * a low own score refers; a note alone is a remark */
    o.biometric = NULL;
    pm_preclear_gate_result_t gr = {0};
    o.gate = gate;
    o.gate_ctx = &gr;
    gr.other = "passenger 003 of this flight";
    gr.other_score = 120;
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_OK);
    assert_int_equal(d, PM_PRECLEAR_REFER);
    assert_non_null(strstr(why, "those of passenger 003 of this flight (score 120.0)"));
    gr.other_score = 39; /* a weak impostor says nothing */
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_OK);
    assert_int_equal(d, PM_PRECLEAR_CLEARED);
    gr.other = NULL;
    gr.checked = 1;
    gr.score = 12;
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_OK);
    assert_int_equal(d, PM_PRECLEAR_REFER);
    assert_non_null(strstr(why, "score 12.0 < 40"));
    gr.checked = 0;
    snprintf(gr.note, sizeof gr.note, "no prints on file");
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_OK);
    assert_int_equal(d, PM_PRECLEAR_CLEARED);
    assert_string_equal(why, "gate: no prints on file");
    o.gate = NULL;
    o.biometric = bio;
    /* a failing source stops with its error */
    hc.fail = 1;
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, why, sizeof why, &e), PM_EDB);
    assert_non_null(strstr(pm_error_text(&e), "history source down"));
    /* reasons are truncated, never overflow */
    hc.fail = 0;
    hc.overstays = 2;
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    assert_int_equal(pm_preclear_passenger(&o, &p, &d, tiny, sizeof tiny, &e), PM_OK);
    assert_true(memchr(tiny, '\0', sizeof tiny) != NULL);
}

static void test_each(void **state)
{
    (void)state;
    const char *m = "flight_id,passenger_seq,surname,date_of_birth\nXA1,001,DOE,1980-01-02\n"
                    "XA1,002,ROE,\n";
    int n = 0;
    pm_error_t e;
    pm_dob_t dep = {0};
    assert_int_equal(pm_preclear_manifest_each(m, strlen(m), "m", dep, count_row, &n, &e), PM_OK);
    assert_int_equal(n, 2);
    const char *bad = "surname,date_of_birth\nDOE,1980-13-45\n";
    assert_int_equal(pm_preclear_manifest_each(bad, strlen(bad), "m", dep, count_row, &n, &e),
                     PM_EFORMAT);
    assert_non_null(strstr(pm_error_text(&e), "m:2: bad date_of_birth"));
}

static void test_manifest(void **state)
{
    (void)state;
    static const char wl_csv[] = "watchlist_id,surname,given_names,date_of_birth,sex,citizenship,"
                                 "document_number,document_issuer,reason\n"
                                 "W1,NOBODY,KNOWN,,,,X9999999,FRA,lost_stolen_document\n";
    pm_watchlist_t *wl;
    pm_error_t e;
    assert_int_equal(pm_watchlist_new(&wl, &e), PM_OK);
    assert_int_equal(pm_watchlist_load_csv(wl, wl_csv, strlen(wl_csv), &e), PM_OK);
    assert_int_equal(pm_watchlist_finalize(wl, &e), PM_OK);
    pm_preclear_options_t o;
    memset(&o, 0, sizeof o);
    o.watchlist = wl;
    o.departure = D("2026-09-01");
    static const char man[] =
        "flight_id,passenger_seq,surname,given_names,date_of_birth,sex,nationality,"
        "document_number,document_issuer,document_expiry\n"
        "AC1,1,MARTIN,PAUL,1991-05-05,M,FRA,X9999999,FRA,2031-01-01\n"
        "AC1,2,MARTIN,CLAIRE,1992-05-05,F,FRA,F1234567,FRA,2031-01-01\n";
    pm_report_t *r = NULL;
    int rc = pm_preclear_manifest(&o, man, strlen(man), "m.csv", &r, &e);
    if (rc) fail_msg("%s", pm_error_text(&e));
    int64_t v;
    assert_int_equal(pm_report_summary_int(r, "passengers", &v, &e), PM_OK);
    assert_int_equal(v, 2);
    assert_int_equal(pm_report_summary_int(r, "do_not_board", &v, &e), PM_OK);
    assert_int_equal(v, 1);
    assert_int_equal(pm_report_summary_int(r, "cleared", &v, &e), PM_OK);
    assert_int_equal(v, 1);
    assert_string_equal(pm_report_cell(r, 0, 3), "do_not_board");
    assert_non_null(strstr(pm_report_cell(r, 0, 4), "W1"));
    assert_string_equal(pm_report_cell(r, 1, 3), "cleared");
    pm_report_free(r);
    pm_watchlist_free(wl);
    /* an entry listed with neither a date of birth nor a document, whose
     * common name a passenger shares in full: a name-only referral, which
     * refers (never clears, never "do not board") and says so */
    static const char wl2[] = "watchlist_id,surname,given_names,date_of_birth,sex,citizenship,"
                              "document_number,document_issuer,reason\n"
                              "W2,SMITH,JOHN,,,,,,sanctions\n"
                              "W3,SMITH,JOHN,1970-01-01,M,USA,,,sanctions\n"
                              "W4,SMITH,JOHN,1980-02-02,M,USA,,,sanctions\n"
                              "W5,SMITH,JOHN,1990-03-03,M,GBR,,,sanctions\n";
    assert_int_equal(pm_watchlist_new(&wl, &e), PM_OK);
    assert_int_equal(pm_watchlist_load_csv(wl, wl2, strlen(wl2), &e), PM_OK);
    assert_int_equal(pm_watchlist_finalize(wl, &e), PM_OK);
    o.watchlist = wl;
    static const char man2[] =
        "flight_id,passenger_seq,surname,given_names,date_of_birth,sex,nationality,"
        "document_number,document_issuer,document_expiry\n"
        "AC2,1,SMITH,JOHN,2001-07-07,M,CAN,C7654321,CAN,2031-01-01\n";
    rc = pm_preclear_manifest(&o, man2, strlen(man2), "m2.csv", &r, &e);
    if (rc) fail_msg("%s", pm_error_text(&e));
    assert_string_equal(pm_report_cell(r, 0, 3), "refer");
    if (!strstr(pm_report_cell(r, 0, 4), "W2 (sanctions) name-only referral"))
        fail_msg("reasons: %s", pm_report_cell(r, 0, 4));
    pm_report_free(r);
    /* no surname column; a bad expiry names the line */
    static const char nosur[] = "flight_id,given_names\nAC1,X\n";
    assert_int_equal(pm_preclear_manifest(&o, nosur, strlen(nosur), "n.csv", &r, &e), PM_EFORMAT);
    assert_null(r);
    static const char badexp[] = "surname,document_expiry\nX,2031-13-01\n";
    assert_int_equal(pm_preclear_manifest(&o, badexp, strlen(badexp), "b.csv", &r, &e),
                     PM_EFORMAT);
    assert_non_null(strstr(pm_error_text(&e), "b.csv:2: bad document_expiry"));
    pm_watchlist_free(wl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decisions),
        cmocka_unit_test(test_manifest),
        cmocka_unit_test(test_each),
    };
    return PM_RUN_TESTS("preclear", tests, NULL, NULL);
}
