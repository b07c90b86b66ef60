/* travel: field validation rules, dates, codes, ICAO 9303 check digits, names. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "perimeter/travel.h"

static int setf(pm_crossing_t *c, pm_crossing_field_t f, const char *v, pm_error_t *e)
{
    return pm_crossing_set_field(c, f, v, strlen(v), e);
}

/* A valid record, field by field as on the wire. */
static void good_record(pm_crossing_t *c)
{
    static const char *const v[PM_CF_COUNT] = {
        "CAN-0001", "CAN", "entry", "2026-03-01T08:15:00-05:00", "0901", "land", "Müller",
        "Anna Maria", "", "1974-08-12", "DEU", "F", "P", "C01X00T47", "DEU", "",
    };
    pm_crossing_init(c);
    pm_error_t e;
    for (int i = 0; i < PM_CF_COUNT; i++)
        assert_int_equal(setf(c, (pm_crossing_field_t)i, v[i], &e), PM_OK);
}

static void expect_reject(pm_crossing_field_t f, const char *value, const char *reason_part)
{
    pm_crossing_t c;
    good_record(&c);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = setf(&c, f, value, &e);
    if (rc == PM_OK) {
        pm_crossing_field_t bf;
        rc = pm_crossing_finish(&c, &bf, &e);
        assert_int_equal(bf, f);
    }
    if (rc == PM_OK)
        fail_msg("%s = '%s' accepted", pm_crossing_field_name(f), value);
    assert_true(rc < 0);
    assert_non_null(strstr(e.msg, pm_crossing_field_name(f)));
    if (!strstr(e.msg, reason_part))
        fail_msg("reason '%s' lacks '%s'", e.msg, reason_part);
}

static void expect_accept(pm_crossing_field_t f, const char *value)
{
    pm_crossing_t c;
    good_record(&c);
    pm_error_t e;
    pm_error_clear(&e);
    if (setf(&c, f, value, &e) != PM_OK || pm_crossing_finish(&c, NULL, &e) != PM_OK)
        fail_msg("%s = '%s' rejected: %s", pm_crossing_field_name(f), value, e.msg);
}

static void test_good_record(void **state)
{
    (void)state;
    pm_crossing_t c;
    good_record(&c);
    pm_error_t e;
    assert_int_equal(pm_crossing_finish(&c, NULL, &e), PM_OK);
    assert_string_equal(c.surname, "Müller");
    assert_string_equal(c.surname_norm, "muller");
    assert_string_equal(c.given_names_norm, "anna maria");
    assert_int_equal(c.direction, PM_DIRECTION_ENTRY);
    assert_int_equal(c.mode, PM_MODE_LAND);
    assert_int_equal(c.utc_offset_min, -300);
    /* 2026-03-01 08:15 at -05:00 is 13:15 UTC */
    assert_int_equal(c.time_utc, pm_days_from_civil(2026, 3, 1) * 86400 + 13 * 3600 + 15 * 60);
    char ts[32];
    pm_timestamp_format(c.time_utc, c.utc_offset_min, ts);
    assert_string_equal(ts, "2026-03-01T08:15:00-05:00");
}

static void test_field_rules(void **state)
{
    (void)state;
    expect_reject(PM_CF_RECORD_ID, "", "1-64");
    expect_reject(PM_CF_RECORD_ID, "a b", "not one of");
    expect_accept(PM_CF_RECORD_ID, "usa.2026:0001-x_Y");
    expect_reject(PM_CF_RECORD_ID,
                  "12345678901234567890123456789012345678901234567890123456789012345", "1-64");
    expect_reject(PM_CF_REPORTING_COUNTRY, "XXA", "ISO 3166-1");
    expect_reject(PM_CF_REPORTING_COUNTRY, "ZZZ", "ISO 3166-1");
    expect_reject(PM_CF_REPORTING_COUNTRY, "CA", "3-letter");
    expect_reject(PM_CF_DIRECTION, "in", "entry");
    expect_reject(PM_CF_DIRECTION, "ENTRY", "entry");
    expect_accept(PM_CF_DIRECTION, "exit");
    expect_reject(PM_CF_TIMESTAMP, "2026-02-30T08:00:00Z", "does not exist");
    expect_reject(PM_CF_TIMESTAMP, "2026-13-01T08:00:00Z", "month");
    expect_reject(PM_CF_TIMESTAMP, "2026-03-01T24:00:00Z", "time");
    expect_reject(PM_CF_TIMESTAMP, "2026-03-01T08:00:00", "timestamp");
    expect_reject(PM_CF_TIMESTAMP, "2026-03-01T08:00:00+15:00", "offset");
    expect_reject(PM_CF_TIMESTAMP, "1960-03-01T08:00:00Z", "year");
    expect_accept(PM_CF_TIMESTAMP, "2024-02-29T23:59:59+14:00");
    expect_accept(PM_CF_TIMESTAMP, "2026-03-01T08:00:00Z");
    expect_reject(PM_CF_PORT_CODE, "09 1", "not one of");
    expect_reject(PM_CF_PORT_CODE, "abc", "not one of");
    expect_reject(PM_CF_PORT_CODE, "ABCDEFGHIJKLMNOPQ", "1-16");
    expect_reject(PM_CF_MODE, "car", "land");
    expect_accept(PM_CF_MODE, "pedestrian");
    expect_reject(PM_CF_SURNAME, "", "required");
    expect_reject(PM_CF_SURNAME, "  ", "required");
    expect_reject(PM_CF_SURNAME, "A\tB", "control");
    expect_reject(PM_CF_SURNAME, "\xc3\x28", "UTF-8");
    expect_reject(PM_CF_GIVEN_NAMES, "\xed\xa0\x80", "UTF-8"); /* surrogate */
    expect_reject(PM_CF_GIVEN_NAMES, "\xc0\xaf", "UTF-8");     /* overlong */
    expect_reject(PM_CF_MIDDLE_NAMES, "\xe2\x82", "UTF-8");    /* truncated */
    expect_accept(PM_CF_SURNAME, "محمد");
    expect_accept(PM_CF_GIVEN_NAMES, "");
    expect_reject(PM_CF_DATE_OF_BIRTH, "1974-02-30", "does not exist");
    expect_reject(PM_CF_DATE_OF_BIRTH, "1974-00", "month");
    expect_reject(PM_CF_DATE_OF_BIRTH, "74-08-12", "YYYY");
    expect_reject(PM_CF_DATE_OF_BIRTH, "1800", "year");
    expect_reject(PM_CF_DATE_OF_BIRTH, "2027-01-01", "after the crossing");
    expect_reject(PM_CF_DATE_OF_BIRTH, "2026-03-02", "after the crossing");
    expect_accept(PM_CF_DATE_OF_BIRTH, "2026-03-01");
    expect_accept(PM_CF_DATE_OF_BIRTH, "2026-03");
    expect_accept(PM_CF_DATE_OF_BIRTH, "1974");
    expect_accept(PM_CF_DATE_OF_BIRTH, "1974-01-01");
    expect_reject(PM_CF_DATE_OF_BIRTH, "1890-01-01", "130 years");
    expect_reject(PM_CF_CITIZENSHIP, "ZZZ", "not an ISO");
    expect_reject(PM_CF_CITIZENSHIP, "deu", "not an ISO");
    expect_accept(PM_CF_CITIZENSHIP, "XXA");
    expect_accept(PM_CF_CITIZENSHIP, "XXB");
    expect_accept(PM_CF_CITIZENSHIP, "UNO");
    expect_accept(PM_CF_CITIZENSHIP, "ZWE");
    expect_reject(PM_CF_SEX, "m", "M, F or X");
    expect_reject(PM_CF_SEX, "MF", "M, F or X");
    expect_accept(PM_CF_SEX, "X");
    expect_reject(PM_CF_DOCUMENT_TYPE, "Q", "ICAO");
    expect_reject(PM_CF_DOCUMENT_TYPE, "PPP", "ICAO");
    expect_reject(PM_CF_DOCUMENT_TYPE, "p", "ICAO");
    expect_accept(PM_CF_DOCUMENT_TYPE, "ID");
    expect_accept(PM_CF_DOCUMENT_TYPE, "V");
    expect_reject(PM_CF_DOCUMENT_NUMBER, "ab12", "not one of");
    expect_reject(PM_CF_DOCUMENT_NUMBER, "123456789012345678901", "1-20");
    expect_reject(PM_CF_DOCUMENT_ISSUER, "EU", "3-letter");
    expect_accept(PM_CF_DOCUMENT_ISSUER, "XOM");
    expect_reject(PM_CF_MRZ, "P<UTO", "mrz");
    expect_reject(PM_CF_MRZ, "p<uto", "not one of");
}

static void test_required_fields(void **state)
{
    (void)state;
    for (int f = 0; f < PM_CF_COUNT; f++) {
        if (f == PM_CF_GIVEN_NAMES || f == PM_CF_MIDDLE_NAMES || f == PM_CF_MRZ)
            continue;
        pm_crossing_t c;
        good_record(&c);
        pm_crossing_t blank;
        pm_crossing_init(&blank);
        /* clear one field by rebuilding without it */
        pm_crossing_init(&c);
        static const char *const v[PM_CF_COUNT] = {
            "R1", "USA", "exit", "2026-03-01T08:15:00Z", "BLA1", "rail", "Lee", "Ann", "",
            "1980", "USA", "F", "P", "123456789", "USA", "",
        };
        pm_error_t e;
        for (int i = 0; i < PM_CF_COUNT; i++)
            if (i != f)
                assert_int_equal(setf(&c, (pm_crossing_field_t)i, v[i], &e), PM_OK);
        pm_crossing_field_t bf;
        assert_int_equal(pm_crossing_finish(&c, &bf, &e), PM_EVALIDATION);
        assert_int_equal(bf, f);
        assert_non_null(strstr(e.msg, "missing"));
    }
}

static void test_countries(void **state)
{
    (void)state;
    const char *iso[] = {"ABW", "AFG", "CAN", "USA", "MEX", "DEU", "SSD", "ZWE", "ALA", "XKX"};
    for (size_t i = 0; i < 9; i++)
        assert_true(pm_country_is_iso(iso[i]));
    assert_false(pm_country_is_iso("XKX")); /* user-assigned, not ISO */
    assert_false(pm_country_is_iso("XXA"));
    assert_true(pm_country_is_valid("XXA"));
    assert_true(pm_country_is_valid("XXC"));
    assert_true(pm_country_is_valid("XXX"));
    assert_true(pm_country_is_valid("UNA"));
    assert_true(pm_country_is_valid("GBN"));
    assert_false(pm_country_is_valid("UTO")); /* ICAO specimen country */
    assert_false(pm_country_is_valid("AB"));
    assert_false(pm_country_is_valid("ABCD"));
    assert_false(pm_country_is_valid(""));
}

/* The ICAO 9303 specimen documents (Part 4 TD3, Part 5 TD1). */
#define TD3_L1 "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
#define TD3_L2 "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
#define TD1_L1 "I<UTOD231458907<<<<<<<<<<<<<<<"
#define TD1_L2 "7408122F1204159UTO<<<<<<<<<<<6"
#define TD1_L3 "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"

static void test_check_digits(void **state)
{
    (void)state;
    assert_int_equal(pm_icao_check_digit("L898902C3", 9), 6);
    assert_int_equal(pm_icao_check_digit("740812", 6), 2);
    assert_int_equal(pm_icao_check_digit("120415", 6), 9);
    assert_int_equal(pm_icao_check_digit("ZE184226B<<<<<", 14), 1);
    assert_int_equal(pm_icao_check_digit("D23145890", 9), 7);
    assert_int_equal(pm_icao_check_digit("a", 1), -1);
    pm_error_t e;
    assert_int_equal(pm_mrz_validate(TD3_L1 "|" TD3_L2, NULL, &e), PM_OK);
    assert_int_equal(pm_mrz_validate(TD1_L1 "|" TD1_L2 "|" TD1_L3, NULL, &e), PM_OK);
    /* one changed character breaks exactly the check that covers it */
    char bad[200];
    snprintf(bad, sizeof bad, "%s|%s", TD3_L1, TD3_L2);
    bad[45 + 2] = '7'; /* document number L898 -> L878 */
    assert_int_equal(pm_mrz_validate(bad, NULL, &e), PM_ECHECKSUM);
    assert_non_null(strstr(e.msg, "document number"));
    snprintf(bad, sizeof bad, "%s|%s", TD3_L1, TD3_L2);
    bad[45 + 15] = '5'; /* date of birth */
    assert_int_equal(pm_mrz_validate(bad, NULL, &e), PM_ECHECKSUM);
    assert_non_null(strstr(e.msg, "date of birth"));
    snprintf(bad, sizeof bad, "%s|%s", TD3_L1, TD3_L2);
    bad[45 + 43] = '1'; /* composite */
    assert_int_equal(pm_mrz_validate(bad, NULL, &e), PM_ECHECKSUM);
    assert_non_null(strstr(e.msg, "composite"));
    snprintf(bad, sizeof bad, "%s|%s|%s", TD1_L1, TD1_L2, TD1_L3);
    bad[31 + 29] = '7';
    assert_int_equal(pm_mrz_validate(bad, NULL, &e), PM_ECHECKSUM);
    assert_int_equal(pm_mrz_validate(TD3_L1 "|" TD1_L2, NULL, &e), PM_EVALIDATION);
}

/* Builds a TD3 MRZ for a record using the check-digit function. */
static void make_td3(const char *num9, const char *nat, const char *dob6, char sex, char *out)
{
    char l2[45];
    memset(l2, '<', 44);
    l2[44] = '\0';
    memcpy(l2, num9, strlen(num9));
    l2[9] = (char)('0' + pm_icao_check_digit(l2, 9));
    memcpy(l2 + 10, nat, 3);
    memcpy(l2 + 13, dob6, 6);
    l2[19] = (char)('0' + pm_icao_check_digit(l2 + 13, 6));
    l2[20] = sex;
    memcpy(l2 + 21, "3001019", 7);
    l2[27] = (char)('0' + pm_icao_check_digit(l2 + 21, 6));
    char comp[64];
    memcpy(comp, l2, 10);
    memcpy(comp + 10, l2 + 13, 7);
    memcpy(comp + 17, l2 + 21, 22);
    l2[43] = (char)('0' + pm_icao_check_digit(comp, 39));
    char l1[45];
    memset(l1, '<', 44);
    l1[44] = '\0';
    memcpy(l1, "P<", 2);
    memcpy(l1 + 2, nat, 3);
    memcpy(l1 + 5, "MUELLER<<ANNA<MARIA", 19);
    snprintf(out, 100, "%s|%s", l1, l2);
}

static void test_mrz_agreement(void **state)
{
    (void)state;
    char mrz[100];
    make_td3("C01X00T47", "D<<", "740812", 'F', mrz);
    expect_accept(PM_CF_MRZ, mrz);
    make_td3("C01X00T48", "D<<", "740812", 'F', mrz);
    expect_reject(PM_CF_MRZ, mrz, "document number");
    make_td3("C01X00T47", "AUT", "740812", 'F', mrz);
    expect_reject(PM_CF_MRZ, mrz, "disagrees");
    make_td3("C01X00T47", "D<<", "740813", 'F', mrz);
    expect_reject(PM_CF_MRZ, mrz, "date of birth");
    make_td3("C01X00T47", "D<<", "740812", 'M', mrz);
    expect_reject(PM_CF_MRZ, mrz, "sex");
}

static char cd(const char *s, size_t n)
{
    return (char)('0' + pm_icao_check_digit(s, n));
}

/* TD2 (2 x 36) for the good record's document. */
static void make_td2(const char *num, char *out)
{
    char l1[37], l2[37];
    memset(l1, '<', 36);
    memset(l2, '<', 36);
    l1[36] = l2[36] = '\0';
    memcpy(l1, "I<DEUMUELLER<<ANNA<MARIA", 24);
    memcpy(l2, num, strlen(num));
    l2[9] = cd(l2, 9);
    memcpy(l2 + 10, "D<<740812", 9);
    l2[19] = cd(l2 + 13, 6);
    l2[20] = 'F';
    memcpy(l2 + 21, "300101", 6);
    l2[27] = cd(l2 + 21, 6);
    char comp[40];
    memcpy(comp, l2, 10);
    memcpy(comp + 10, l2 + 13, 7);
    memcpy(comp + 17, l2 + 21, 14);
    l2[35] = cd(comp, 31);
    snprintf(out, 100, "%s|%s", l1, l2);
}

/* TD1 (3 x 30) with a 12-character document number continued in optional data 1. */
static void make_td1_long(const char *num12, char *out)
{
    char l1[31], l2[31], l3[31];
    memset(l1, '<', 30);
    memset(l2, '<', 30);
    memset(l3, '<', 30);
    l1[30] = l2[30] = l3[30] = '\0';
    memcpy(l1, "I<DEU", 5);
    memcpy(l1 + 5, num12, 9);
    l1[14] = '<';
    memcpy(l1 + 15, num12 + 9, 3);
    l1[18] = cd(num12, 12);
    memcpy(l2, "740812", 6);
    l2[6] = cd(l2, 6);
    l2[7] = 'F';
    memcpy(l2 + 8, "300101", 6);
    l2[14] = cd(l2 + 8, 6);
    memcpy(l2 + 15, "D<<", 3);
    char comp[64];
    memcpy(comp, l1 + 5, 25);
    memcpy(comp + 25, l2, 7);
    memcpy(comp + 32, l2 + 8, 7);
    memcpy(comp + 39, l2 + 18, 11);
    l2[29] = cd(comp, 50);
    memcpy(l3, "MUELLER<<ANNA<MARIA", 19);
    snprintf(out, 100, "%s|%s|%s", l1, l2, l3);
}

static void test_mrz_td1_td2(void **state)
{
    (void)state;
    char mrz[100];
    pm_crossing_t c;
    pm_error_t e;
    /* TD2 identity card */
    make_td2("C01X00T47", mrz);
    good_record(&c);
    assert_int_equal(pm_crossing_set_field(&c, PM_CF_DOCUMENT_TYPE, "I", 1, &e), PM_OK);
    assert_int_equal(pm_crossing_set_field(&c, PM_CF_MRZ, mrz, strlen(mrz), &e), PM_OK);
    if (pm_crossing_finish(&c, NULL, &e) != PM_OK)
        fail_msg("TD2: %s", e.msg);
    mrz[37 + 35] = mrz[37 + 35] == '0' ? '1' : '0'; /* composite */
    assert_int_equal(pm_mrz_validate(mrz, NULL, &e), PM_ECHECKSUM);
    assert_non_null(strstr(e.msg, "composite"));
    /* TD1 with a long document number */
    make_td1_long("L23145890123", mrz);
    good_record(&c);
    assert_int_equal(pm_crossing_set_field(&c, PM_CF_DOCUMENT_TYPE, "I", 1, &e), PM_OK);
    assert_int_equal(pm_crossing_set_field(&c, PM_CF_DOCUMENT_NUMBER, "L23145890123", 12, &e),
                     PM_OK);
    assert_int_equal(pm_crossing_set_field(&c, PM_CF_MRZ, mrz, strlen(mrz), &e), PM_OK);
    if (pm_crossing_finish(&c, NULL, &e) != PM_OK)
        fail_msg("TD1 long number: %s", e.msg);
    /* the same MRZ against a record with a different number disagrees */
    assert_int_equal(pm_crossing_set_field(&c, PM_CF_DOCUMENT_NUMBER, "L23145890124", 12, &e),
                     PM_OK);
    assert_int_equal(pm_crossing_finish(&c, NULL, &e), PM_EVALIDATION);
    assert_non_null(strstr(e.msg, "document number"));
    /* a wrong digit in the continued part fails its check digit */
    make_td1_long("L23145890123", mrz);
    mrz[16] = '9';
    assert_int_equal(pm_mrz_validate(mrz, NULL, &e), PM_ECHECKSUM);
}

static void test_names(void **state)
{
    (void)state;
    char out[64];
    pm_error_t e;
    assert_int_equal(pm_name_normalize("  José   María ", 16, out, sizeof out, &e), PM_OK);
    assert_string_equal(out, "jose maria");
    assert_int_equal(pm_name_normalize("STRAßE", strlen("STRAßE"), out, sizeof out, &e), PM_OK);
    assert_string_equal(out, "strasse");
    /* NFKC: the fi ligature and full-width letters become plain letters */
    assert_int_equal(pm_name_normalize("\xef\xac\x81sh \xef\xbc\xa1", 9, out, sizeof out, &e),
                     PM_OK);
    assert_string_equal(out, "fish a");
    assert_int_equal(pm_name_normalize("\xff", 1, out, sizeof out, &e), PM_EUTF8);
    assert_int_equal(pm_name_normalize("abcdef", 6, out, 4, &e), PM_ELIMIT);
}

static void test_dob(void **state)
{
    (void)state;
    pm_dob_t d;
    pm_error_t e;
    assert_int_equal(pm_dob_parse("2000-02-29", 10, &d, &e), PM_OK);
    assert_int_equal(pm_dob_parse("1900-02-29", 10, &d, &e), PM_EVALIDATION);
    assert_int_equal(pm_dob_parse("1980-07", 7, &d, &e), PM_OK);
    assert_int_equal(d.month, 7);
    assert_int_equal(d.day, 0);
    char s[16];
    pm_dob_format(&d, s);
    assert_string_equal(s, "1980-07");
    assert_int_equal(pm_dob_parse("1980-07-01", 10, &d, &e), PM_OK);
    assert_true(pm_dob_is_placeholder(&d));
    assert_int_equal(pm_dob_parse("1980-07-02", 10, &d, &e), PM_OK);
    assert_false(pm_dob_is_placeholder(&d));
    assert_int_equal(pm_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(pm_days_from_civil(2000, 3, 1), 11017);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_record),   cmocka_unit_test(test_field_rules),
        cmocka_unit_test(test_required_fields), cmocka_unit_test(test_countries),
        cmocka_unit_test(test_check_digits),  cmocka_unit_test(test_mrz_agreement),
        cmocka_unit_test(test_names),         cmocka_unit_test(test_dob),
        cmocka_unit_test(test_mrz_td1_td2),
    };
    return PM_RUN_TESTS("travel", tests, NULL, NULL);
}
