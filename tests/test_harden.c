/* Regression tests for what fuzzing found (issue 18) and for the parse
 * calls the fuzz targets share with the node's routes: each input here is a
 * reproducer or a boundary of fuzz/fuzz_<target>.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"
#include "perimeter/vet.h"
#include "testutil.h"
#include "vet/vet_int.h"

/* fuzz_vet_answer: HTTP 403 {"rule":""} was read as a refusal by no rule. */
static void test_vet_refusal_needs_rule(void **state)
{
    (void)state;
    pm_vet_answer_t a;
    pm_error_t e;
    static const char empty[] = "{\"rule\":\"\"}";
    memset(&a, 0, sizeof a);
    assert_int_equal(pm__vet_answer_parse(403, empty, strlen(empty), &a, &e), PM_EFORMAT);
    assert_non_null(strstr(e.msg, "rule"));
    static const char longr[] = "{\"rule\":\"R1234567890123456789\",\"message\":\"x\"}";
    memset(&a, 0, sizeof a);
    assert_int_equal(pm__vet_answer_parse(403, longr, strlen(longr), &a, &e), PM_EFORMAT);
    static const char good[] = "{\"code\":\"policy_refused\",\"rule\":\"R5\",\"message\":\"names\"}";
    memset(&a, 0, sizeof a);
    assert_int_equal(pm__vet_answer_parse(403, good, strlen(good), &a, &e), PM_OK);
    assert_int_equal(a.result, PM_VET_REFUSED);
    assert_string_equal(a.rule, "R5");
    assert_string_equal(a.reason, "names");
    static const char nomatch[] = "{\"result\":\"no_match\",\"transaction_id\":\"T\"}";
    memset(&a, 0, sizeof a);
    assert_int_equal(pm__vet_answer_parse(200, nomatch, strlen(nomatch), &a, &e), PM_OK);
    assert_int_equal(a.result, PM_VET_NO_MATCH);
    assert_string_equal(a.partner_ref, "T");
    memset(&a, 0, sizeof a);
    assert_true(pm__vet_answer_parse(503, "", 0, &a, &e) < 0);
}

/* pm__body_parse: the nested items are checked with the field named. */
static void test_body_nested_refusals(void **state)
{
    (void)state;
    json_t *o = NULL;
    char field[96];
    pm_error_t e;
    static const char extra[] =
        "{\"subject\":1,\"fingers\":[{\"format\":\"wsq\",\"data\":\"AA==\"},"
        "{\"format\":\"wsq\",\"data\":\"AA==\",\"extra\":1}]}";
    assert_int_equal(pm__body_parse(&pm__body_enrol, extra, strlen(extra), &o, field,
                                    sizeof field, &e), PM_EVALIDATION);
    assert_null(o);
    assert_string_equal(field, "fingers[1].extra");
    static const char person[] = "{\"subject\":1,\"person\":{\"sex\":\"FF\"},\"fingers\":[]}";
    assert_int_equal(pm__body_parse(&pm__body_enrol, person, strlen(person), &o, field,
                                    sizeof field, &e), PM_EVALIDATION);
    assert_string_equal(field, "person.sex");
    static const char notobj[] = "{\"fingers\":[1]}";
    assert_int_equal(pm__body_parse(&pm__body_identify, notobj, strlen(notobj), &o, field,
                                    sizeof field, &e), PM_EVALIDATION);
    static const char dup[] = "{\"username\":\"a\",\"username\":\"b\",\"password\":\"x\"}";
    assert_int_equal(pm__body_parse(&pm__body_login, dup, strlen(dup), &o, field, sizeof field,
                                    &e), PM_EFORMAT);
    static const char nul[] = "{\"username\":\"a\\u0000b\",\"password\":\"12345678\"}";
    /* jansson refuses \u0000 itself (no JSON_ALLOW_NUL) */
    assert_int_equal(pm__body_parse(&pm__body_login, nul, strlen(nul), &o, field, sizeof field,
                                    &e), PM_EFORMAT);
    static const char ok[] = "{\"username\":\"alice\",\"password\":\"correct-horse\"}";
    assert_int_equal(pm__body_parse(&pm__body_login, ok, strlen(ok), &o, field, sizeof field, &e),
                     PM_OK);
    assert_non_null(o);
    json_decref(o);
    assert_int_equal(pm__body_parse(&pm__body_login, NULL, 0, &o, field, sizeof field, &e),
                     PM_EFORMAT);
    /* every body of the table is reachable by the fuzz target */
    assert_true(pm__body_count() >= 10);
    for (size_t i = 0; i < pm__body_count(); i++)
        assert_non_null(pm__body_at(i)->name);
    assert_null(pm__body_at(pm__body_count()));
}

/* The token bucket of limits.partner_rate / officer_rate. */
static void test_rate_bucket(void **state)
{
    (void)state;
    double tok = 0;
    uint64_t last = 0, t = 1000000000ull;
    int ok = 0;
    for (int i = 0; i < 10; i++) /* burst 3 at 2/s: three at once, then refused */
        ok += pm__bucket_take(&tok, &last, 2.0, 3.0, t);
    assert_int_equal(ok, 3);
    assert_int_equal(pm__bucket_take(&tok, &last, 2.0, 3.0, t + 400000000ull), 0);
    assert_int_equal(pm__bucket_take(&tok, &last, 2.0, 3.0, t + 600000000ull), 1);
    /* a long idle time refills to the burst, never past it */
    t += 100ull * 1000000000ull;
    ok = 0;
    for (int i = 0; i < 10; i++)
        ok += pm__bucket_take(&tok, &last, 2.0, 3.0, t);
    assert_int_equal(ok, 3);
    /* rate 0: no limit */
    for (int i = 0; i < 100; i++)
        assert_int_equal(pm__bucket_take(&tok, &last, 0, 0, t), 1);
    /* per officer: one officer's bucket does not limit another */
    pm_node_limits_t l;
    pm_node_limits_default(&l);
    l.officer_rate = 1;
    l.officer_burst = 2;
    pm__rates_t *r = NULL;
    pm_error_t e;
    assert_int_equal(pm__rates_new(&l, &r, &e), PM_OK);
    assert_int_equal(pm__rate_take_officer(r, "alice", t), 1);
    assert_int_equal(pm__rate_take_officer(r, "alice", t), 1);
    assert_int_equal(pm__rate_take_officer(r, "alice", t), 0);
    assert_int_equal(pm__rate_take_officer(r, "bob", t), 1);
    /* 300 other names pass through the 256 slots; alice's bucket may be
     * recycled, which only ever gives back a full bucket */
    char name[16];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "o%d", i);
        assert_int_equal(pm__rate_take_officer(r, name, t + 1), 1);
    }
    pm__rates_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vet_refusal_needs_rule),
        cmocka_unit_test(test_body_nested_refusals),
        cmocka_unit_test(test_rate_bucket),
    };
    return PM_RUN_TESTS("harden", tests, NULL, NULL);
}
