/* travel: the CSV and JSON Lines readers (RFC 4180 quoting, limits,
 * malformed and partial input) and import into a store (idempotent,
 * strict, partner mirror). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/store.h"
#include "perimeter/travel.h"

#define HDR                                                                                        \
    "record_id,reporting_country,direction,timestamp,port_code,mode,surname,given_names,"         \
    "middle_names,date_of_birth,citizenship,sex,document_type,document_number,document_issuer\n"
#define ROW(id) id ",CAN,entry,2026-03-01T08:15:00-05:00,0901,land,Lee,Ann,,1980-05-06,CAN,F,P,AB1,CAN\n"

struct result {
    int good;
    int rejected;
    pm_crossing_t last;
    uint64_t lines[16];
    pm_crossing_field_t fields[16];
    int codes[16];
    char msgs[16][PM_ERRMSG_MAX];
    int fatal;
};

static void read_all(const char *data, pm_crossing_format_t fmt, struct result *res)
{
    memset(res, 0, sizeof *res);
    pm_crossing_reader_t *r = NULL;
    pm_error_t e;
    assert_int_equal(pm_crossing_reader_open_mem(data, strlen(data), fmt, &r, &e), PM_OK);
    for (int guard = 0; guard < 1000; guard++) {
        pm_crossing_t c;
        pm_error_clear(&e);
        int rc = pm_crossing_reader_next(r, &c, NULL, &e);
        if (rc == 0)
            break;
        if (rc == 1) {
            res->good++;
            res->last = c;
            continue;
        }
        if (rc != PM_EVALIDATION) {
            res->fatal = rc;
            snprintf(res->msgs[0], PM_ERRMSG_MAX, "%s", e.msg);
            break;
        }
        if (res->rejected < 16) {
            res->lines[res->rejected] = pm_crossing_reader_line(r);
            res->fields[res->rejected] = pm_crossing_reader_error_field(r);
            res->codes[res->rejected] = e.code;
            snprintf(res->msgs[res->rejected], PM_ERRMSG_MAX, "%s", e.msg);
        }
        res->rejected++;
    }
    pm_crossing_reader_free(r);
}

static void test_csv_quoting(void **state)
{
    (void)state;
    struct result res;
    /* any column order, quoted fields with commas, quotes and a newline, CRLF, BOM, x_ column */
    read_all("\xef\xbb\xbf"
             "surname,x_note,record_id,reporting_country,direction,timestamp,port_code,mode,"
             "given_names,date_of_birth,citizenship,sex,document_type,document_number,"
             "document_issuer\r\n"
             "\"O\"\"Brien, Jr\",\"multi\nline\",R1,USA,exit,2026-03-01T08:15:00Z,BLA1,rail,"
             "\"Mary Ann\",1970-01,IRL,F,P,X123,IRL\r\n"
             "\r\n",
             PM_CROSSING_FORMAT_CSV, &res);
    assert_int_equal(res.fatal, 0);
    assert_int_equal(res.rejected, 0);
    assert_int_equal(res.good, 1);
    assert_string_equal(res.last.surname, "O\"Brien, Jr");
    assert_string_equal(res.last.given_names, "Mary Ann");
    assert_string_equal(res.last.middle_names, "");
    assert_int_equal(res.last.dob.month, 1);
    assert_int_equal(res.last.dob.day, 0);
    assert_int_equal(res.last.mode, PM_MODE_RAIL);
}

static void test_csv_bad_rows(void **state)
{
    (void)state;
    struct result res;
    char big[2000];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char data[8192];
    snprintf(data, sizeof data,
             HDR ROW("G1")                                                          /* line 2 */
             "B1,CAN,entry,2026-03-01T08:15:00-05:00,0901,land,Lee,Ann,,1980-05-06,CAN,F,P\n"
             "B2,CAN,entry,2026-03-01T08:15:00-05:00,0901,land,Lee,Ann,,1980-02-30,CAN,F,P,AB1,"
             "CAN\n" /* line 4: impossible date */
             "B3,CAN,entry,2026-03-01T08:15:00-05:00,0901,land,Lee,Ann,,1980-05-06,ZZZ,F,P,AB1,"
             "CAN\n" /* line 5: unknown country */
             "B4,CAN,entry,2026-03-01T08:15:00-05:00,0901,land,L\xff"
             "e,Ann,,1980-05-06,CAN,F,P,AB1,CAN\n" /* line 6: invalid UTF-8 */
             "B5,CAN,entry,2026-03-01T08:15:00-05:00,0901,land,%s,Ann,,1980-05-06,CAN,F,P,AB1,"
             "CAN\n" /* line 7: oversized field */
             "B6,CAN,entry,2026-03-01T08:15:00-05:00,0901,land,Le\"e,Ann,,1980-05-06,CAN,F,P,"
             "AB1,CAN\n" /* line 8: stray quote */
             ROW("G2") /* line 9 */
             "B7,CAN,entry,2026-03-01T08:15:00-05:00,0901,land,\"Lee,Ann,,1980-05-06,CAN,F,P,AB1,"
             "CAN\n" /* line 10: truncated inside quotes to the end */,
             big);
    read_all(data, PM_CROSSING_FORMAT_CSV, &res);
    assert_int_equal(res.fatal, 0);
    assert_int_equal(res.good, 2);
    assert_int_equal(res.rejected, 7);
    uint64_t want_lines[] = {3, 4, 5, 6, 7, 8, 10};
    pm_crossing_field_t want_fields[] = {PM_CF_NONE,   PM_CF_DATE_OF_BIRTH, PM_CF_CITIZENSHIP,
                                         PM_CF_SURNAME, PM_CF_SURNAME,      PM_CF_NONE,
                                         PM_CF_NONE};
    int want_codes[] = {PM_EVALIDATION, PM_EVALIDATION, PM_EVALIDATION, PM_EUTF8,
                        PM_ELIMIT,      PM_EFORMAT,     PM_ETRUNCATED};
    const char *want_text[] = {"want 15 columns, got 13", "does not exist", "'ZZZ'",
                               "invalid UTF-8",            "longer than",    "quote",
                               "truncated"};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(res.lines[i], want_lines[i]);
        assert_int_equal(res.fields[i], want_fields[i]);
        assert_int_equal(res.codes[i], want_codes[i]);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "line %llu: ", (unsigned long long)want_lines[i]);
        assert_memory_equal(res.msgs[i], prefix, strlen(prefix));
        if (!strstr(res.msgs[i], want_text[i]))
            fail_msg("row %d: '%s' lacks '%s'", i, res.msgs[i], want_text[i]);
    }
}

static void test_csv_truncated_mid_row(void **state)
{
    (void)state;
    struct result res;
    /* the file ends in the middle of a row, without a newline */
    read_all(HDR ROW("G1") "G2,CAN,entry,2026-03-01T08:15", PM_CROSSING_FORMAT_CSV, &res);
    assert_int_equal(res.good, 1);
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.lines[0], 3);
    /* a complete last row without a newline is fine */
    read_all(HDR "G1,CAN,entry,2026-03-01T08:15:00-05:00,0901,land,Lee,Ann,,1980-05-06,CAN,F,P,"
                 "AB1,CAN",
             PM_CROSSING_FORMAT_CSV, &res);
    assert_int_equal(res.good, 1);
    assert_int_equal(res.rejected, 0);
}

static void test_csv_header_errors(void **state)
{
    (void)state;
    struct result res;
    read_all("", PM_CROSSING_FORMAT_CSV, &res);
    assert_int_equal(res.fatal, PM_EFORMAT);
    read_all("record_id,colour\n", PM_CROSSING_FORMAT_CSV, &res);
    assert_int_equal(res.fatal, PM_EFORMAT);
    assert_non_null(strstr(res.msgs[0], "colour"));
    read_all("record_id,record_id\n", PM_CROSSING_FORMAT_CSV, &res);
    assert_int_equal(res.fatal, PM_EFORMAT);
    assert_non_null(strstr(res.msgs[0], "twice"));
    read_all("record_id,reporting_country\nA,CAN\n", PM_CROSSING_FORMAT_CSV, &res);
    assert_int_equal(res.fatal, PM_EFORMAT);
    assert_non_null(strstr(res.msgs[0], "direction"));
}

static void test_csv_long_line(void **state)
{
    (void)state;
    /* a line longer than the limit is rejected and the next row still read */
    char *data = malloc(PM_CROSSING_LINE_MAX * 2 + 2048);
    assert_non_null(data);
    size_t len = (size_t)snprintf(data, 1024, HDR);
    for (size_t i = 0; i < PM_CROSSING_LINE_MAX / 400 + 2; i++) {
        memset(data + len, 'x', 400);
        len += 400;
        data[len++] = ',';
    }
    data[len++] = '\n';
    len += (size_t)snprintf(data + len, 1024, ROW("G1"));
    data[len] = '\0';
    struct result res;
    read_all(data, PM_CROSSING_FORMAT_CSV, &res);
    free(data);
    assert_int_equal(res.good, 1);
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.codes[0], PM_ELIMIT);
}

static void test_jsonl(void **state)
{
    (void)state;
    struct result res;
    const char *good = "{\"record_id\":\"J1\",\"reporting_country\":\"USA\",\"direction\":\"entry\","
                       "\"timestamp\":\"2026-03-01T08:15:00Z\",\"port_code\":\"0901\",\"mode\":"
                       "\"land\",\"surname\":\"\\u0645\\u062d\\u0645\\u062f\",\"given_names\":"
                       "\"Ali\",\"date_of_birth\":\"1990\",\"citizenship\":\"XXA\",\"sex\":\"M\","
                       "\"document_type\":\"P\",\"document_number\":\"Z1\",\"document_issuer\":"
                       "\"USA\",\"x_extra\":1,\"cursor\":42}\n";
    char data[4096];
    snprintf(data, sizeof data,
             "%s"
             "[1,2]\n"
             "{\"record_id\":\n"
             "{\"record_id\":\"J2\",\"colour\":\"red\"}\n"
             "{\"record_id\":5}\n"
             "{\"record_id\":\"J3\",\"surname\":\"L\xc3\"}\n"
             "\n"
             "{\"record_id\":\"J4\"}\n",
             good);
    read_all(data, PM_CROSSING_FORMAT_JSONL, &res);
    assert_int_equal(res.fatal, 0);
    assert_int_equal(res.good, 1);
    assert_string_equal(res.last.surname, "محمد");
    assert_string_equal(res.last.citizenship, "XXA");
    assert_int_equal(res.rejected, 6);
    assert_int_equal(res.lines[0], 2);
    assert_non_null(strstr(res.msgs[1], "invalid JSON"));
    assert_non_null(strstr(res.msgs[2], "colour"));
    assert_int_equal(res.fields[3], PM_CF_RECORD_ID);
    assert_int_equal(res.codes[4], PM_EUTF8);
    assert_int_equal(res.lines[5], 8);
    assert_non_null(strstr(res.msgs[5], "missing"));
    /* the cursor is returned */
    pm_crossing_reader_t *r;
    pm_error_t e;
    assert_int_equal(pm_crossing_reader_open_mem(good, strlen(good), PM_CROSSING_FORMAT_JSONL, &r,
                                                 &e),
                     PM_OK);
    pm_crossing_t c;
    int64_t cursor = -1;
    assert_int_equal(pm_crossing_reader_next(r, &c, &cursor, &e), 1);
    assert_int_equal(cursor, 42);
    pm_crossing_reader_free(r);
}

/* The JSON Lines reader takes plain rows on a fast path and everything else
 * through jansson; both must give the same answers. */
static void test_jsonl_paths_agree(void **state)
{
    (void)state;
#define J_HEAD "{\"record_id\":\"J1\",\"reporting_country\":\"USA\",\"direction\":\"entry\"," \
               "\"timestamp\":\"2026-03-01T08:15:00Z\",\"port_code\":\"0901\",\"mode\":\"land\","
#define J_TAIL "\"date_of_birth\":\"1990\",\"citizenship\":\"USA\",\"sex\":\"M\",\"document_type\":" \
               "\"P\",\"document_number\":\"Z1\",\"document_issuer\":\"USA\""
    struct {
        const char *line;
        int good;
    } cases[] = {
        {J_HEAD "\"surname\":\"M\u00fcller\"," J_TAIL "}\n", 1}, /* escape: jansson */
        {J_HEAD "\"surname\":\"Müller\"," J_TAIL "}\n", 1},       /* plain: fast path */
        {J_HEAD "\"surname\":\"Müller\"," J_TAIL ",\"cursor\":017}\n", 0},
        {J_HEAD "\"surname\":\"Müller\"," J_TAIL ",\"cursor\":17}\n", 1},
        {J_HEAD "\"surname\":\"Müller\"," J_TAIL ",\"cursor\":-1}\n", 0},
        {J_HEAD "\"surname\":\"Müller\"," J_TAIL ",\"cursor\":1.5}\n", 0},
        {J_HEAD "\"surname\":\"Müller\"," J_TAIL ",\"x_\xff\":\"a\"}\n", 0},
        {J_HEAD "\"surname\":\"Müller\"," J_TAIL ",\"x_a\":\"\xff\"}\n", 0},
        {J_HEAD "\"surname\":\"Müller\"," J_TAIL ",\"x_a\":[1,{}]}\n", 1},
        {J_HEAD "\"surname\":\"Müller\"," J_TAIL ",\"surname\":\"Lee\"}\n", 0}, /* duplicate */
        {J_HEAD "\"surname\":\"Mü\tller\"," J_TAIL "}\n", 0}, /* raw control character */
        {J_HEAD "\"surname\":\"Müller\"," J_TAIL "} x\n", 0},  /* trailing garbage */
        {J_HEAD "\"surname\":\"Müller\"," J_TAIL ",}\n", 0},   /* trailing comma */
        {J_HEAD "\"surname\":null," J_TAIL "}\n", 0},
        {"  " J_HEAD "\"surname\" : \"Müller\" ," J_TAIL " }  \r\n", 1},
    };
    pm_crossing_t first;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct result res;
        read_all(cases[i].line, PM_CROSSING_FORMAT_JSONL, &res);
        assert_int_equal(res.fatal, 0);
        if (res.good != cases[i].good || res.rejected != !cases[i].good)
            fail_msg("case %zu: good %d rejected %d (%s)", i, res.good, res.rejected, res.msgs[0]);
        if (i == 0)
            first = res.last;
        else if (cases[i].good)
            assert_memory_equal(&first, &res.last, sizeof first);
    }
}

/* Sample rows written as CSV and as JSONL read back equal, field for field. */
static void test_round_trip(void **state)
{
    (void)state;
    for (int fmt = PM_CROSSING_FORMAT_CSV; fmt <= PM_CROSSING_FORMAT_JSONL; fmt++) {
        pm_buf_t b;
        pm_buf_init(&b, 0);
        if (fmt == PM_CROSSING_FORMAT_CSV)
            assert_int_equal(pm_crossing_csv_header(&b), PM_OK);
        pm_crossing_t want[300];
        int mrz = 0;
        for (int i = 0; i < 300; i++) {
            pm_crossing_sample(7, (uint64_t)i, "USA", &want[i]);
            mrz += want[i].mrz[0] != 0;
            if (i == 5)
                snprintf(want[i].surname, sizeof want[i].surname, "%s", "Comma, \"Quote\"");
            if (i == 5) {
                pm_error_t e;
                assert_int_equal(pm_crossing_finish(&want[i], NULL, &e), PM_OK);
            }
            assert_int_equal(fmt == PM_CROSSING_FORMAT_CSV ? pm_crossing_to_csv(&want[i], &b)
                                                           : pm_crossing_to_jsonl(&want[i], i, &b),
                             PM_OK);
        }
        assert_true(mrz > 10); /* the sample exercises MRZ validation */
        pm_crossing_reader_t *r;
        pm_error_t e;
        assert_int_equal(pm_crossing_reader_open_mem((const char *)b.data, b.len,
                                                     (pm_crossing_format_t)fmt, &r, &e),
                         PM_OK);
        for (int i = 0; i < 300; i++) {
            pm_crossing_t c;
            int rc = pm_crossing_reader_next(r, &c, NULL, &e);
            if (rc != 1)
                fail_msg("row %d: %s", i, e.msg);
            assert_memory_equal(&c, &want[i], sizeof c);
        }
        pm_crossing_t c;
        assert_int_equal(pm_crossing_reader_next(r, &c, NULL, &e), 0);
        pm_crossing_reader_free(r);
        pm_buf_free(&b);
    }
}

static char *dir;

static int import_mem(pm_store_t *st, const char *data, pm_crossing_format_t fmt,
                      const pm_import_options_t *o, pm_import_stats_t *stats)
{
    pm_crossing_reader_t *r;
    pm_error_t e;
    assert_int_equal(pm_crossing_reader_open_mem(data, strlen(data), fmt, &r, &e), PM_OK);
    int rc = pm_crossings_import(st, r, o, stats, &e);
    pm_crossing_reader_free(r);
    return rc;
}

static void test_import(void **state)
{
    (void)state;
    dir = pm_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/i.db", dir);
    pm_store_t *st;
    pm_error_t e;
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    const char *good = HDR ROW("G1") ROW("G2") ROW("G3");
    const char *mixed = HDR ROW("M1") "M2,CAN,entry,bad\n" ROW("M3");
    pm_import_stats_t s;
    pm_import_options_t o = {2, 0, NULL, NULL, NULL, NULL};
    assert_int_equal(import_mem(st, good, PM_CROSSING_FORMAT_CSV, &o, &s), PM_OK);
    assert_int_equal(s.rows, 3);
    assert_int_equal(s.stored, 3);
    /* idempotent: the same file again stores nothing */
    assert_int_equal(import_mem(st, good, PM_CROSSING_FORMAT_CSV, &o, &s), PM_OK);
    assert_int_equal(s.stored, 0);
    assert_int_equal(s.duplicates, 3);
    /* strict: one bad row, nothing stored */
    o.strict = 1;
    assert_int_equal(import_mem(st, mixed, PM_CROSSING_FORMAT_CSV, &o, &s), PM_EVALIDATION);
    assert_int_equal(s.rejected, 1);
    assert_int_equal(s.stored, 0);
    int64_t n;
    assert_int_equal(pm_store_count_crossings(st, NULL, &n, &e), PM_OK);
    assert_int_equal(n, 3);
    /* not strict: the good rows stored, the result says some were rejected */
    o.strict = 0;
    assert_int_equal(import_mem(st, mixed, PM_CROSSING_FORMAT_CSV, &o, &s), PM_EPARTIAL);
    assert_int_equal(s.rejected, 1);
    assert_int_equal(s.stored, 2);
    assert_int_equal(pm_store_count_crossings(st, NULL, &n, &e), PM_OK);
    assert_int_equal(n, 5);
    /* partner feed: USA entries become our exits with origin USA; a USA exit and a
     * CAN row in USA's feed are rejected */
    const char *feed =
        "{\"record_id\":\"U1\",\"reporting_country\":\"USA\",\"direction\":\"entry\",\"timestamp\":"
        "\"2026-03-01T08:15:00-05:00\",\"port_code\":\"0901\",\"mode\":\"land\",\"surname\":\"Lee\","
        "\"given_names\":\"Ann\",\"date_of_birth\":\"1980-05-06\",\"citizenship\":\"CAN\",\"sex\":"
        "\"F\",\"document_type\":\"P\",\"document_number\":\"AB1\",\"document_issuer\":\"CAN\","
        "\"cursor\":7}\n"
        "{\"record_id\":\"U2\",\"reporting_country\":\"USA\",\"direction\":\"exit\",\"timestamp\":"
        "\"2026-03-01T08:15:00-05:00\",\"port_code\":\"0901\",\"mode\":\"land\",\"surname\":\"Lee\","
        "\"given_names\":\"Ann\",\"date_of_birth\":\"1980-05-06\",\"citizenship\":\"CAN\",\"sex\":"
        "\"F\",\"document_type\":\"P\",\"document_number\":\"AB1\",\"document_issuer\":\"CAN\","
        "\"cursor\":8}\n"
        "{\"record_id\":\"U3\",\"reporting_country\":\"CAN\",\"direction\":\"entry\",\"timestamp\":"
        "\"2026-03-01T08:15:00-05:00\",\"port_code\":\"0901\",\"mode\":\"land\",\"surname\":\"Lee\","
        "\"given_names\":\"Ann\",\"date_of_birth\":\"1980-05-06\",\"citizenship\":\"CAN\",\"sex\":"
        "\"F\",\"document_type\":\"P\",\"document_number\":\"AB1\",\"document_issuer\":\"CAN\","
        "\"cursor\":9}\n";
    o.from_partner = "USA";
    assert_int_equal(import_mem(st, feed, PM_CROSSING_FORMAT_JSONL, &o, &s), PM_EPARTIAL);
    assert_int_equal(s.stored, 1);
    assert_int_equal(s.rejected, 2);
    assert_int_equal(s.last_cursor, 9);
    /* the feed's cursor is stored with the rows (rejected rows are consumed too) */
    int64_t cur = 0;
    assert_int_equal(pm_store_partner_cursor(st, "USA", &cur, &e), PM_OK);
    assert_int_equal(cur, 9);
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.origin_filter = PM_ORIGIN_PARTNER;
    memcpy(f.origin, "USA", 4);
    pm_crossing_iter_t *it;
    assert_int_equal(pm_store_crossings(st, &f, &it, &e), PM_OK);
    pm_crossing_t c;
    assert_int_equal(pm_crossing_iter_next(it, &c, &e), 1);
    assert_string_equal(c.record_id, "U1");
    assert_int_equal(c.direction, PM_DIRECTION_EXIT);
    assert_string_equal(c.origin, "USA");
    assert_int_equal(pm_crossing_iter_next(it, &c, &e), 0);
    pm_crossing_iter_close(it);
    o.from_partner = "ZZZ";
    assert_int_equal(import_mem(st, feed, PM_CROSSING_FORMAT_JSONL, &o, &s), PM_EINVAL);
    pm_store_close(st);
    pm_test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quoting),     cmocka_unit_test(test_csv_bad_rows),
        cmocka_unit_test(test_csv_truncated_mid_row), cmocka_unit_test(test_csv_header_errors),
        cmocka_unit_test(test_csv_long_line),   cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_jsonl_paths_agree),
        cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_import),
    };
    return PM_RUN_TESTS("ingest", tests, NULL, NULL);
}
