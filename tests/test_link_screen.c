/* link screening: watchlist CSV with aliases, transliteration variants, date
 * levels, and the CSV reader's limits. */
#include "testutil.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "perimeter/link.h"
#include "perimeter/reports.h"

static const char wl_csv[] =
    "watchlist_id,surname,given_names,aliases,date_of_birth,sex,citizenship,reason\r\n"
    "W1,AL HASSAN,MOHAMMED,\"HASAN, MUHAMMAD;ABU OMAR\",1975-04-12,M,SYR,removal order\r\n"
    "W2,KOWALSKI,ANNA,,1980,F,POL,warrant\n"
    "\n"
    "W3,Шевченко,Олександр,\"SHEVCHENKO, ALEXANDER\",1969-11-02,M,UKR,\"lost, stolen "
    "\"\"doc\"\"\"\n"
    "W4,SMITH,JOHN,,1950-01-01,M,USA,test\n";

static pm_watchlist_t *load(void)
{
    pm_watchlist_t *wl;
    pm_error_t e;
    assert_int_equal(pm_watchlist_new(&wl, &e), PM_OK);
    int rc = pm_watchlist_load_csv(wl, wl_csv, strlen(wl_csv), &e);
    if (rc) fail_msg("%s", pm_error_text(&e));
    assert_int_equal(pm_watchlist_finalize(wl, &e), PM_OK);
    return wl;
}

static pm_dob_t D(const char *s)
{
    pm_dob_t d;
    assert_int_equal(pm_dob_parse(s, strlen(s), &d, NULL), PM_OK);
    return d;
}

static void test_hits(void **state)
{
    (void)state;
    pm_watchlist_t *wl = load();
    assert_int_equal(pm_watchlist_count(wl), 4);
    assert_string_equal(pm_watchlist_entry_reason(wl, 2), "lost, stolen \"doc\"");
    char nm[128];
    pm_watchlist_entry_name(wl, 2, 0, nm, sizeof nm);
    assert_string_equal(nm, "SHEVCHENKO OLEKSANDR");
    pm_screen_hit_t hits[4];
    size_t n;
    pm_error_t e;
    /* another transliteration, particle joined, names swapped */
    pm_dob_t d = D("1975-04-12");
    assert_int_equal(pm_watchlist_screen(wl, "MUHAMMAD", "ALHASSAN", "", &d, 'M', "SYR",
                                         PM_SCREEN_DEFAULT_MIN, hits, 4, &n, &e),
                     PM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(pm_watchlist_entry_id(wl, hits[0].entry), "W1");
    assert_true(hits[0].score >= 100);
    char why[160];
    pm_screen_hit_reason(&hits[0], why, sizeof why);
    assert_non_null(strstr(why, "dob exact"));
    /* the alias with a day/month swap */
    d = D("1975-12-04");
    assert_int_equal(
        pm_watchlist_screen(wl, "HASAN", "MUHAMMAD", "", &d, 'M', "", 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].dob_level, PM_DOB_SWAP);
    /* Latin spelling of a Cyrillic entry */
    d = D("1969-11-02");
    assert_int_equal(
        pm_watchlist_screen(wl, "SHEVCHENKO", "OLEKSANDR", "", &d, 'M', "UKR", 95, hits, 4, &n, &e),
        PM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(pm_watchlist_entry_id(wl, hits[0].entry), "W3");
    /* partial date on the list: the year agrees */
    d = D("1980-06-30");
    assert_int_equal(
        pm_watchlist_screen(wl, "KOWALSKY", "ANNA", "", &d, 'F', "POL", 95, hits, 4, &n, &e),
        PM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].dob_level, PM_DOB_PARTIAL);
    /* same name, another date of birth: not a hit */
    d = D("1961-03-03");
    assert_int_equal(
        pm_watchlist_screen(wl, "SMITH", "JOHN", "", &d, 'M', "USA", 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    /* an unrelated name */
    assert_int_equal(
        pm_watchlist_screen(wl, "NGUYEN", "THI", "", NULL, 'F', "VNM", 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    pm_watchlist_free(wl);
}

static void test_bad_input(void **state)
{
    (void)state;
    pm_watchlist_t *wl;
    pm_error_t e;
    assert_int_equal(pm_watchlist_new(&wl, &e), PM_OK);
    pm_screen_hit_t h[1];
    size_t n;
    assert_int_equal(pm_watchlist_screen(wl, "A", "B", "", NULL, 0, "", 0, h, 1, &n, &e),
                     PM_ESTATE);
    const char *nohdr = "id,name\nW1,X\n";
    assert_int_equal(pm_watchlist_load_csv(wl, nohdr, strlen(nohdr), &e), PM_EFORMAT);
    const char *unterminated = "watchlist_id,surname\nW1,\"SMITH\n";
    assert_int_equal(pm_watchlist_load_csv(wl, unterminated, strlen(unterminated), &e), PM_EFORMAT);
    assert_non_null(strstr(pm_error_text(&e), "line 2"));
    const char *baddate = "watchlist_id,surname,date_of_birth\nW1,SMITH,1990-13-01\n";
    assert_int_not_equal(pm_watchlist_load_csv(wl, baddate, strlen(baddate), &e), PM_OK);
    assert_non_null(strstr(pm_error_text(&e), "line 2"));
    const char *count = "watchlist_id,surname\nW1,SMITH,EXTRA\n";
    assert_int_equal(pm_watchlist_load_csv(wl, count, strlen(count), &e), PM_EFORMAT);
    pm_watchlist_free(wl);
}

/* The screening run (library): a manifest in, hit rows and counts out; each
 * identity screened once; errors name the manifest line; a finished run refuses
 * more input. */
/* Document evidence: a listed document number is a hit whatever the name
 * (a lost or stolen passport in anyone's hands), compared on letters and
 * digits, issuers agreeing; a short name with no date of birth and a
 * different stated citizenship is not enough on its own. */
static void test_document_and_weak_evidence(void **state)
{
    (void)state;
    static const char csv[] =
        "watchlist_id,surname,given_names,date_of_birth,sex,citizenship,document_number,"
        "document_issuer,reason\n"
        "D1,LOPEZ,MARIA,,F,MEX,G1234-5678,MEX,lost_stolen_document\n"
        "D2,WANG,WEI,,M,CHN,,,warrant\n"
        "D3,NOVAK,PETRA JANA,,F,CZE,,,warrant\n";
    pm_watchlist_t *wl;
    pm_error_t e;
    assert_int_equal(pm_watchlist_new(&wl, &e), PM_OK);
    int rc = pm_watchlist_load_csv(wl, csv, strlen(csv), &e);
    if (rc) fail_msg("%s", pm_error_text(&e));
    assert_int_equal(pm_watchlist_finalize(wl, &e), PM_OK);
    pm_screen_hit_t hits[4];
    size_t n;
    pm_dob_t d = D("1990-01-01");
    /* someone else carrying the listed document */
    pm_screen_query_t q = {"BROWN", "JAMES", "", &d, 'M', "USA", "g12345678", "MEX"};
    assert_int_equal(pm_watchlist_screen_query(wl, &q, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(pm_watchlist_entry_id(wl, hits[0].entry), "D1");
    assert_int_equal(hits[0].document_level, 0);
    assert_true(hits[0].score >= 100);
    char why[200];
    pm_screen_hit_reason(&hits[0], why, sizeof why);
    assert_non_null(strstr(why, "document exact"));
    /* the same number from another issuer is another document */
    q.document_issuer = "USA";
    assert_int_equal(pm_watchlist_screen_query(wl, &q, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    /* a two-token name, no listed date: the same stated citizenship keeps it a
     * hit; another stated citizenship does not */
    pm_screen_query_t w = {"WANG", "WEI", "", &d, 'M', "CHN", NULL, NULL};
    assert_int_equal(pm_watchlist_screen_query(wl, &w, 90, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    double same = hits[0].score;
    w.citizenship = "CAN";
    assert_int_equal(pm_watchlist_screen_query(wl, &w, 0, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_true(hits[0].score <= same - 7);
    /* three agreeing name tokens without a date weigh more than two */
    pm_screen_query_t p3 = {"NOVAK", "PETRA", "JANA", &d, 'F', "CZE", NULL, NULL};
    assert_int_equal(pm_watchlist_screen_query(wl, &p3, 0, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_true(hits[0].score > same);
    /* bounds: a document number too long, a bad issuer */
    assert_int_equal(pm_watchlist_set_document(wl, 0, "123456789012345678901", "MEX", &e), PM_ELIMIT);
    assert_int_equal(pm_watchlist_set_document(wl, 0, "X1", "mex!", &e), PM_EFORMAT);
    assert_int_equal(pm_watchlist_set_document(wl, 9, "X1", "MEX", &e), PM_EINVAL);
    pm_watchlist_free(wl);
}

static void test_run_manifest(void **state)
{
    (void)state;
    pm_watchlist_t *wl = load();
    pm_error_t e = {0};
    pm_screen_run_t *run = NULL;
    pm_screen_run_options_t o = {0, 0, 0, 0};
    assert_int_equal(pm_screen_run_new(wl, &o, &run, &e), PM_OK);
    const char man[] = "flight_id,passenger_seq,surname,given_names,date_of_birth,sex,nationality\n"
                       "AC1,1,HASAN,MUHAMMAD,1975-04-12,M,SYR\n"
                       "AC1,2,TREMBLAY,MARIE,1990-02-03,F,CAN\n"
                       "AC1,3,SMITH,JOHN,1950-01-01,M,USA\n"
                       "AC1,4,HASAN,MUHAMMAD,1975-04-12,M,SYR\n";
    int rc = pm_screen_run_manifest(run, man, strlen(man), "m.csv", &e);
    if (rc) fail_msg("%s", pm_error_text(&e));
    pm_report_t *r = NULL;
    assert_int_equal(pm_screen_run_finish(run, 0.5, &r, &e), PM_OK);
    int64_t v;
    assert_int_equal(pm_report_summary_int(r, "screened", &v, &e), PM_OK);
    assert_int_equal(v, 4);
    assert_int_equal(pm_report_summary_int(r, "records_with_hits", &v, &e), PM_OK);
    assert_int_equal(v, 3);
    assert_int_equal(pm_report_nrows(r), 3);
    assert_string_equal(pm_report_column(r, 2), "watchlist_id");
    assert_string_equal(pm_report_cell(r, 0, 0), "AC1:1");
    assert_string_equal(pm_report_cell(r, 0, 2), "W1");
    assert_string_equal(pm_report_cell(r, 1, 2), "W4");
    assert_string_equal(pm_report_cell(r, 2, 0), "AC1:4");
    assert_string_equal(pm_report_cell(r, 2, 2), "W1");
    char *json = NULL;
    assert_int_equal(pm_report_render(r, PM_REPORT_JSON, &json, NULL, &e), PM_OK);
    assert_non_null(strstr(json, "\"list_reason\": \"removal order\""));
    free(json);
    pm_report_free(r);
    pm_screen_subject_t p = {"X", "1", "X:1", "SMITH", "JOHN", "", NULL, 'M', "USA", NULL, NULL};
    assert_int_equal(pm_screen_run_person(run, &p, &e), PM_ESTATE);
    pm_screen_run_free(run);

    assert_int_equal(pm_screen_run_new(wl, &o, &run, &e), PM_OK);
    const char bad[] = "flight_id,passenger_seq,surname,date_of_birth\nAC1,1,SMITH,1950-01-01\n"
                       "AC1,2,SMITH,1950-02-31\n";
    assert_int_equal(pm_screen_run_manifest(run, bad, strlen(bad), "m.csv", &e), PM_EFORMAT);
    assert_non_null(strstr(pm_error_text(&e), "m.csv:3"));
    const char nosur[] = "flight_id,given_names\nAC1,JOHN\n";
    assert_int_equal(pm_screen_run_manifest(run, nosur, strlen(nosur), "n.csv", &e), PM_EFORMAT);
    pm_screen_run_free(run);
    o.max_hits = 17;
    assert_int_equal(pm_screen_run_new(wl, &o, &run, &e), PM_EINVAL);
    assert_null(run);
    pm_watchlist_free(wl);
}

/* Entries without a date of birth: the name carries the hit alone, weighed by
 * how rare its tokens are on the list (a rare full name is a hit, a common
 * one is not); PM_SCREEN_NAME_ONLY refers the common one instead, unless the
 * sex or citizenship disagree or the entry lists a document. Names listed in
 * Han or Devanagari are found by their Latin spelling. */
static void test_no_dob_rarity_and_referrals(void **state)
{
    (void)state;
    pm_watchlist_t *wl;
    pm_error_t e;
    assert_int_equal(pm_watchlist_new(&wl, &e), PM_OK);
    /* 300 entries: SMITH and JOHN common, each with a date of birth */
    static const char *const giv[] = {"JOHN", "JAMES", "MARY", "ANNA", "PAUL", "JOHN"};
    static const char *const sur[] = {"SMITH", "JONES", "SMITH", "BROWN", "SMITH"};
    for (int i = 0; i < 300; i++) {
        char id[16], born[16];
        snprintf(id, sizeof id, "C%d", i);
        snprintf(born, sizeof born, "19%02d-%02d-%02d", 40 + i % 50, 1 + i % 12, 1 + i % 28);
        pm_dob_t d = D(born);
        assert_int_equal(pm_watchlist_add(wl, id, sur[i % 5], giv[i % 6], NULL, &d, 'M', "USA",
                                          "test", &e),
                         PM_OK);
    }
    pm_dob_t none = {0};
    assert_int_equal(pm_watchlist_add(wl, "R1", "QUIGLEY", "PERPETUA", NULL, &none, 'F', "IRL",
                                      "warrant", &e),
                     PM_OK);
    assert_int_equal(pm_watchlist_add(wl, "N1", "SMITH", "JOHN", NULL, &none, 'M', "USA",
                                      "warrant", &e),
                     PM_OK);
    assert_int_equal(pm_watchlist_add(wl, "N2", "JONES", "PAUL", NULL, &none, 'M', "USA",
                                      "warrant", &e),
                     PM_OK);
    assert_int_equal(pm_watchlist_set_document(wl, 302, "X1234567", "USA", &e), PM_OK);
    pm_dob_t hd = D("1969-12-18");
    assert_int_equal(pm_watchlist_add(wl, "H1", "王", "思琪", NULL, &hd, 'F', "CHN", "warrant", &e),
                     PM_OK);
    pm_dob_t dd = D("1977-03-09");
    assert_int_equal(
        pm_watchlist_add(wl, "H2", "शर्मा", "राहुल", NULL, &dd, 'M', "IND", "warrant", &e), PM_OK);
    assert_int_equal(pm_watchlist_finalize(wl, &e), PM_OK);
    /* which entries list a date of birth (the figures per kind of entry) */
    assert_int_equal(pm_watchlist_entry_dated(wl, 0), 1);
    assert_string_equal(pm_watchlist_entry_id(wl, 300), "R1");
    assert_int_equal(pm_watchlist_entry_dated(wl, 300), 0);
    assert_int_equal(pm_watchlist_entry_dated(wl, 303), 1);
    assert_int_equal(pm_watchlist_entry_dated(wl, 100000), 0);
    pm_screen_hit_t hits[4];
    size_t n;
    pm_dob_t d = D("1981-05-05");
    /* a rare name, no listed date: a hit */
    pm_screen_query_t q = {"QUIGLEY", "PERPETUA", "", &d, 'F', "IRL", "P1", "IRL"};
    assert_int_equal(pm_watchlist_screen_query(wl, &q, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(pm_watchlist_entry_id(wl, hits[0].entry), "R1");
    assert_int_equal(hits[0].name_only, 0);
    double rare_bits = hits[0].name_bits;
    /* a common one: not a hit, and weaker evidence */
    pm_screen_query_t c = {"SMITH", "JOHN", "", &d, 'M', "USA", "P2", "USA"};
    assert_int_equal(pm_watchlist_screen_query(wl, &c, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pm_watchlist_screen_query(wl, &c, 0, hits, 4, &n, &e), PM_OK);
    assert_true(n >= 1);
    assert_string_equal(pm_watchlist_entry_id(wl, hits[0].entry), "N1");
    assert_true(hits[0].name_bits + 8 < rare_bits);
    /* ... but a name-only referral when asked for, marked as such */
    assert_int_equal(
        pm_watchlist_screen_query_ex(wl, &c, PM_SCREEN_NAME_ONLY, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(pm_watchlist_entry_id(wl, hits[0].entry), "N1");
    assert_int_equal(hits[0].name_only, 1);
    assert_true(hits[0].score < 95);
    char why[200];
    pm_screen_hit_reason(&hits[0], why, sizeof why);
    assert_non_null(strstr(why, "name only"));
    /* not when the sex disagrees */
    c.sex = 'F';
    assert_int_equal(
        pm_watchlist_screen_query_ex(wl, &c, PM_SCREEN_NAME_ONLY, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    /* not for an entry listing a document the traveller does not carry */
    pm_screen_query_t j = {"JONES", "PAUL", "", &d, 'M', "USA", "P3", "USA"};
    assert_int_equal(
        pm_watchlist_screen_query_ex(wl, &j, PM_SCREEN_NAME_ONLY, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    /* Han and Devanagari entries, Latin travellers */
    pm_screen_query_t h = {"WANG", "SIQI", "", &hd, 'F', "CHN", NULL, NULL};
    assert_int_equal(pm_watchlist_screen_query(wl, &h, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(pm_watchlist_entry_id(wl, hits[0].entry), "H1");
    pm_screen_query_t s2 = {"SHARMA", "RAHUL", "", &dd, 'M', "IND", NULL, NULL};
    assert_int_equal(pm_watchlist_screen_query(wl, &s2, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(pm_watchlist_entry_id(wl, hits[0].entry), "H2");
    pm_watchlist_free(wl);
}

/* Issue 13 evidence: romanisation classes (RHEE ~ LI, J/Y), a dual national
 * counted against once, a document of another issuer not required to match,
 * and every hit's reasons naming the terms and their weights. */
static void test_romanisation_and_nationality(void **state)
{
    (void)state;
    static const char csv[] =
        "watchlist_id,surname,given_names,date_of_birth,sex,citizenship,document_number,"
        "document_issuer,reason\n"
        "R1,RHEE,JING,2012-06-28,F,CAN,,,warrant\n"
        "R2,CLARK,YESSICA MEGAN,1967-06-03,F,USA,,,warrant\n"
        "R3,MOORE,ASHLEY ERIN,1965-12-22,F,GBR,229037779,GBR,warrant\n"
        "R4,SHEIKH,FARHANA AYESHA,1971-12-13,F,PAK,EV210411,CAN,warrant\n"
        "R5,NOVAK,TEREZA,,F,CZE,,,warrant\n";
    pm_watchlist_t *wl;
    pm_error_t e;
    assert_int_equal(pm_watchlist_new(&wl, &e), PM_OK);
    int rc = pm_watchlist_load_csv(wl, csv, strlen(csv), &e);
    if (rc) fail_msg("%s", pm_error_text(&e));
    assert_int_equal(pm_watchlist_finalize(wl, &e), PM_OK);
    pm_screen_hit_t hits[4];
    size_t n;
    char why[400];
    pm_dob_t d1 = D("2012-06-28"), d2 = D("1967-06-03"), d3 = D("1965-12-22"),
             d4 = D("1971-12-13"), d5 = D("1980-02-02");
    /* the Korean/Chinese surname 李 in another romanisation */
    pm_screen_query_t a = {"LI", "JING", "", &d1, 'F', "CAN", "ED650685", "CAN"};
    assert_int_equal(pm_watchlist_screen_query(wl, &a, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(pm_watchlist_entry_id(wl, hits[0].entry), "R1");
    assert_int_equal(hits[0].romanised, 1);
    pm_screen_hit_reason(&hits[0], why, sizeof why);
    assert_non_null(strstr(why, "romanisation variant"));
    assert_non_null(strstr(why, "dob exact +10.0"));
    /* J/Y in a given name */
    pm_screen_query_t b = {"CLARK", "JESSICA", "MEGAN", &d2, 'F', "USA", NULL, NULL};
    assert_int_equal(pm_watchlist_screen_query(wl, &b, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_true(hits[0].name_similarity >= 0.99);
    /* a different name is not made equal by folding */
    pm_screen_query_t c = {"PARK", "JING", "", &d1, 'F', "CAN", NULL, NULL};
    assert_int_equal(pm_watchlist_screen_query(wl, &c, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    /* a dual national on the other passport: citizenship and document are one
     * fact, counted once (-8, not -5 - 8) */
    pm_screen_query_t m = {"MOORE", "ASHLEY", "", &d3, 'F', "CAN", "EH481462", "CAN"};
    assert_int_equal(pm_watchlist_screen_query(wl, &m, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_true(hits[0].w_natdoc == -8.0);
    assert_true(hits[0].score == hits[0].w_name + hits[0].w_dob + hits[0].w_natdoc);
    /* nationality as a set: listed PAK with a CAN document, travelling on a
     * PAK passport: the listed number is not required to match */
    pm_screen_query_t s4 = {"SHEIKH", "FARHANA", "AYESHA", &d4, 'F', "PAK", "VU8538864", "PAK"};
    assert_int_equal(pm_watchlist_screen_query(wl, &s4, 95, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_true(hits[0].w_natdoc == 0.0);
    pm_screen_hit_reason(&hits[0], why, sizeof why);
    assert_non_null(strstr(why, "not required"));
    /* ... but the same issuer's other number still counts against */
    s4.document_issuer = "CAN";
    s4.citizenship = "CAN";
    assert_int_equal(pm_watchlist_screen_query(wl, &s4, 0, hits, 4, &n, &e), PM_OK);
    assert_true(n >= 1);
    assert_true(hits[0].w_natdoc < -5.0);
    /* no date listed: the reasons say so and give the rarity term */
    pm_screen_query_t t = {"NOVAK", "TEREZA", "", &d5, 'F', "CZE", NULL, NULL};
    assert_int_equal(pm_watchlist_screen_query(wl, &t, 0, hits, 4, &n, &e), PM_OK);
    assert_true(n >= 1);
    pm_screen_hit_reason(&hits[0], why, sizeof why);
    assert_non_null(strstr(why, "no date listed: name rarity"));
    assert_true(hits[0].w_rarity != 0.0);
    pm_watchlist_free(wl);
}

/* Two thresholds (issue 13, "entries without a date of birth handled
 * explicitly"): an entry listed without a date of birth is held to
 * min->undated, one listing a date to min->dated, each alone. The pairs are
 * scored first, then the thresholds are put on either side of each score. */
static void test_two_thresholds(void **state)
{
    (void)state;
    static const char csv[] =
        "watchlist_id,surname,given_names,date_of_birth,sex,citizenship,reason\n"
        "U1,OKONKWO-BELLAMY,THADDEUS,,M,NGA,warrant\n"
        "D1,VANTERPOOL,ESPERANZA,1982-06-30,F,VCT,warrant\n";
    pm_watchlist_t *wl;
    pm_error_t e = {0};
    assert_int_equal(pm_watchlist_new(&wl, &e), PM_OK);
    assert_int_equal(pm_watchlist_load_csv(wl, csv, strlen(csv), &e), PM_OK);
    assert_int_equal(pm_watchlist_finalize(wl, &e), PM_OK);
    assert_int_equal(pm_watchlist_entry_dated(wl, 0), 0);
    assert_int_equal(pm_watchlist_entry_dated(wl, 1), 1);
    pm_dob_t du = D("1971-03-04"), dd = D("1982-06-30");
    pm_screen_query_t qu = {"OKONKWO-BELLAMY", "THADDEUS", "", &du, 'M', "NGA", NULL, NULL};
    pm_screen_query_t qd = {"VANTERPOOL", "ESPERANZA", "", &dd, 'F', "VCT", NULL, NULL};
    pm_screen_hit_t hits[4];
    size_t n = 0;
    /* the scores, every candidate kept */
    const pm_screen_min_t low = {1, 1};
    assert_int_equal(pm_watchlist_screen_query_min(wl, &qu, 0, &low, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].entry, 0);
    assert_int_equal(hits[0].dob_level, PM_DOB_MISSING);
    const double su = hits[0].score;
    assert_int_equal(pm_watchlist_screen_query_min(wl, &qd, 0, &low, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].entry, 1);
    const double sd = hits[0].score;
    /* the undated pair between the two thresholds: a hit only when the
     * undated one is below its score, whatever the dated one */
    pm_screen_min_t m = {su - 1, su + 1};
    assert_int_equal(pm_watchlist_screen_query_min(wl, &qu, 0, &m, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    m = (pm_screen_min_t){su + 1, su - 1};
    assert_int_equal(pm_watchlist_screen_query_min(wl, &qu, 0, &m, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].entry, 0);
    assert_int_equal(hits[0].name_only, 0);
    /* below its threshold the full name agreement is a name-only referral */
    m = (pm_screen_min_t){su - 1, su + 1};
    assert_int_equal(
        pm_watchlist_screen_query_min(wl, &qu, PM_SCREEN_NAME_ONLY, &m, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].name_only, 1);
    /* the dated pair: the dated threshold alone decides */
    m = (pm_screen_min_t){sd - 1, sd + 1};
    assert_int_equal(pm_watchlist_screen_query_min(wl, &qd, 0, &m, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].entry, 1);
    m = (pm_screen_min_t){sd + 1, sd - 1};
    assert_int_equal(pm_watchlist_screen_query_min(wl, &qd, 0, &m, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    /* one threshold (the older calls) holds both kinds to it */
    assert_int_equal(pm_watchlist_screen_query(wl, &qu, su + 1, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pm_watchlist_screen_query(wl, &qu, su - 1, hits, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    /* defaults: 94 / 95.5; min_undated 0 follows min_score by the same gap */
    pm_screen_min_t d = pm_screen_min_of(0, 0);
    assert_true(d.dated == PM_SCREEN_DEFAULT_MIN && d.undated == PM_SCREEN_DEFAULT_MIN_UNDATED);
    assert_true(PM_SCREEN_DEFAULT_MIN_UNDATED > PM_SCREEN_DEFAULT_MIN);
    d = pm_screen_min_of(90, 0);
    assert_true(d.dated == 90 &&
                d.undated == 90 + PM_SCREEN_DEFAULT_MIN_UNDATED - PM_SCREEN_DEFAULT_MIN);
    d = pm_screen_min_of(90, 99);
    assert_true(d.dated == 90 && d.undated == 99);
    /* the run's options carry both: the undated pair is hit at min_undated
     * below its score, not above */
    for (int k = 0; k < 2; k++) {
        pm_screen_run_options_t o = {su - 1, 0, 0, k ? su - 0.5 : su + 0.5};
        pm_screen_run_t *run = NULL;
        assert_int_equal(pm_screen_run_new(wl, &o, &run, &e), PM_OK);
        const char man[] = "flight_id,passenger_seq,surname,given_names,date_of_birth,sex,"
                           "nationality\nF1,1,OKONKWO-BELLAMY,THADDEUS,1971-03-04,M,NGA\n";
        assert_int_equal(pm_screen_run_manifest(run, man, strlen(man), "m.csv", &e), PM_OK);
        pm_report_t *r = NULL;
        assert_int_equal(pm_screen_run_finish(run, 0.1, &r, &e), PM_OK);
        int64_t v;
        assert_int_equal(pm_report_summary_int(r, "records_with_hits", &v, &e), PM_OK);
        assert_int_equal(v, k);
        pm_report_free(r);
        pm_screen_run_free(run);
    }
    pm_watchlist_free(wl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hits),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_run_manifest),
        cmocka_unit_test(test_document_and_weak_evidence),
        cmocka_unit_test(test_no_dob_rarity_and_referrals),
        cmocka_unit_test(test_romanisation_and_nationality),
        cmocka_unit_test(test_two_thresholds),
    };
    return PM_RUN_TESTS("link_screen", tests, NULL, NULL);
}
