/* The final R14 review status copied back into a vetting run's case files
 * and summary (pm_vet_refresh): confirmed, rejected and pending items, an id
 * the node does not hold or whose transaction differs left alone, a match
 * with no queue counted, idempotent (a second refresh rewrites nothing), the
 * text summary's section replaced not appended, bad input refused. The run
 * folder is written by the test (no cohort is vetted). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "perimeter/core.h"
#include "perimeter/vet.h"
#include "testutil.h"

static char *tmp;

static void put(const char *rel, const char *text)
{
    char path[4200];
    pm_error_t err = {0};
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    assert_int_equal(pm_file_write_atomic(path, text, strlen(text), &err), 0);
}

static void put_case(const char *app, const char *txn, const char *outcome, long rid)
{
    char rel[256], text[1024];
    snprintf(rel, sizeof rel, "cases/%s.json", app);
    if (rid > 0)
        snprintf(text, sizeof text,
                 "{\"applicant\":\"%s\",\"transaction_id\":\"%s\",\"outcome\":\"%s\","
                 "\"review\":{\"status\":\"pending\",\"rule\":\"R14\",\"review_id\":%ld}}",
                 app, txn, outcome, rid);
    else if (rid == 0)
        snprintf(text, sizeof text,
                 "{\"applicant\":\"%s\",\"transaction_id\":\"%s\",\"outcome\":\"%s\","
                 "\"review\":{\"status\":\"pending\",\"rule\":\"R14\"}}",
                 app, txn, outcome);
    else
        snprintf(text, sizeof text,
                 "{\"applicant\":\"%s\",\"transaction_id\":\"%s\",\"outcome\":\"%s\"}", app, txn,
                 outcome);
    put(rel, text);
}

static json_t *load(const char *rel)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    json_error_t je;
    json_t *o = json_load_file(path, 0, &je);
    assert_non_null(o);
    return o;
}

static const char *review_str(json_t *c, const char *key)
{
    return json_string_value(json_object_get(json_object_get(c, "review"), key));
}

static const char reviews[] =
    "{\"reviews\":["
    "{\"id\":7,\"status\":\"confirmed\",\"txn\":\"VET-x-1\",\"officer\":\"sam\","
    "\"why\":\"checked the prints\",\"decided_at\":1800000000},"
    "{\"id\":8,\"status\":\"rejected\",\"txn\":\"VET-x-2\",\"officer\":\"kim\","
    "\"why\":\"different person\",\"decided_at\":1800000100},"
    "{\"id\":9,\"status\":\"pending\",\"txn\":\"VET-x-3\"},"
    "{\"id\":10,\"status\":\"confirmed\",\"txn\":\"VET-other-4\",\"officer\":\"sam\","
    "\"why\":\"x\",\"decided_at\":1}]}";

static void test_refresh_final_status(void **state)
{
    (void)state;
    tmp = pm_test_tmpdir();
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/cases", tmp);
    assert_int_equal(mkdir(dir, 0700), 0);
    put_case("A1", "VET-x-1", "match", 7);
    put_case("A2", "VET-x-2", "match", 8);
    put_case("A3", "VET-x-3", "match", 9);
    put_case("A4", "VET-x-4", "match", 10); /* the node's item 10 is another txn */
    put_case("A5", "VET-x-5", "match", 0);  /* in-process: no review item */
    put_case("A6", "VET-x-6", "no_match", -1);
    put("summary.json", "{\"applicants\":6,\"match\":5}");
    put("summary.txt", "applicants 6\n  match 5\n");

    pm_vet_refresh_stats_t s;
    pm_error_t err = {0};
    assert_int_equal(pm_vet_refresh(tmp, reviews, strlen(reviews), &s, &err), 0);
    assert_int_equal(s.cases, 6);
    assert_int_equal(s.matches, 5);
    assert_int_equal(s.confirmed, 1);
    assert_int_equal(s.rejected, 1);
    assert_int_equal(s.pending, 1);
    assert_int_equal(s.not_queued, 1);
    assert_int_equal(s.missing, 1);
    assert_int_equal(s.updated, 2);

    json_t *c = load("cases/A1.json");
    assert_string_equal(review_str(c, "status"), "confirmed");
    assert_string_equal(review_str(c, "by"), "sam");
    assert_string_equal(review_str(c, "why"), "checked the prints");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "review"), "decided_at")),
                     1800000000);
    assert_string_equal(review_str(c, "rule"), "R14");
    json_decref(c);
    c = load("cases/A2.json");
    assert_string_equal(review_str(c, "status"), "rejected");
    assert_string_equal(review_str(c, "by"), "kim");
    json_decref(c);
    c = load("cases/A3.json");
    assert_string_equal(review_str(c, "status"), "pending");
    assert_null(review_str(c, "by"));
    json_decref(c);
    c = load("cases/A4.json"); /* another transaction: untouched */
    assert_string_equal(review_str(c, "status"), "pending");
    assert_null(review_str(c, "by"));
    json_decref(c);

    json_t *sum = load("summary.json");
    json_t *rv = json_object_get(sum, "review");
    assert_int_equal(json_integer_value(json_object_get(rv, "confirmed")), 1);
    assert_int_equal(json_integer_value(json_object_get(rv, "rejected")), 1);
    assert_int_equal(json_integer_value(json_object_get(rv, "pending")), 1);
    assert_int_equal(json_integer_value(json_object_get(rv, "matches")), 5);
    assert_int_equal(json_integer_value(json_object_get(sum, "applicants")), 6);
    json_decref(sum);

    /* again: nothing changes, and the text section is replaced, not added */
    assert_int_equal(pm_vet_refresh(tmp, reviews, strlen(reviews), &s, &err), 0);
    assert_int_equal(s.updated, 0);
    assert_int_equal(s.confirmed, 1);
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.txt", tmp);
    uint8_t *txt = NULL;
    size_t len = 0;
    assert_int_equal(pm_file_read(path, 1 << 20, &txt, &len, &err), 0);
    const char *first = strstr((char *)txt, "review (R14");
    assert_non_null(first);
    assert_null(strstr(first + 1, "review (R14"));
    assert_non_null(strstr((char *)txt, "applicants 6\n"));
    assert_non_null(strstr((char *)txt, "  rejected        1\n"));
    free(txt);

    /* bad input: refused, nothing written */
    assert_int_equal(pm_vet_refresh(tmp, "{\"x\":1}", 7, &s, &err), PM_EFORMAT);
    assert_int_equal(pm_vet_refresh(tmp, "not json", 8, &s, &err), PM_EFORMAT);
    char nowhere[4300];
    snprintf(nowhere, sizeof nowhere, "%s/none", tmp);
    assert_int_equal(pm_vet_refresh(nowhere, reviews, strlen(reviews), &s, &err), PM_ENOTFOUND);
    pm_test_rmdir(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refresh_final_status),
    };
    return PM_RUN_TESTS("vet_refresh", tests, NULL, NULL);
}
