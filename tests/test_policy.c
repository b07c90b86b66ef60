/* The agreement parser and the rule decisions R1-R16 (docs/agreement.md). */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/policy.h"
#include "perimeter/travel.h"

static const char *base_text =
    "{\"version\":\"T-1\",\"parties\":[\"CAN\",\"USA\"],"
    "\"purposes\":[\"REFUGEE_VETTING\",\"ENTRY_EXIT\"],"
    "\"never_disclose\":[\"citizen\",\"permanent_resident\",\"asylum_claimant_persecution_by_"
    "requester\"],"
    "\"allow\":{\"REFUGEE_VETTING\":[\"surname\",\"date_of_birth\",\"match\",\"refused\"],"
    "\"ENTRY_EXIT\":[\"surname\",\"document_number\",\"port\"]},"
    "\"biographic_query_purposes\":[\"ENTRY_EXIT\"],"
    "\"match_threshold\":40.0,"
    "\"quota\":{\"period_days\":365,\"biometric_query\":3,\"biographic_query\":100},"
    "\"retention_days\":{\"crossing\":5479,\"probe\":0,\"match_result\":1826,\"received_"
    "biographic\":1826},"
    "\"onward_transfer_consent\":[{\"third_party\":\"GBR\",\"purpose\":\"REFUGEE_VETTING\"}],"
    "\"review_before_adverse_action\":true,\"irrelevant_destruction_days\":30,"
    "\"biographic_with_biometric\":false}";

static pm_agreement_t agr;

static void load_base(void)
{
    pm_error_t e = {0};
    int rc = pm_agreement_parse(base_text, strlen(base_text), &agr, &e);
    if (rc) fail_msg("base agreement refused: %s", e.msg);
}

static void test_example_file_parses(void **st)
{
    (void)st;
    const char *src = getenv("PERIMETER_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/agreement-example.json", src ? src : "..");
    pm_agreement_t a;
    pm_error_t e = {0};
    int rc = pm_agreement_load(path, &a, &e);
    if (rc) fail_msg("%s", e.msg);
    assert_int_equal(a.n_purposes, 3);
    assert_int_equal(a.retention_s[PM_RC_CROSSING], 5479LL * 86400);
    assert_int_equal(strlen(a.hash_hex), 64);
}

static void test_hash_is_canonical(void **st)
{
    (void)st;
    load_base();
    /* Same content, other key order and whitespace: same hash. */
    json_t *j = json_loads(base_text, 0, NULL);
    char *pretty = json_dumps(j, JSON_INDENT(3));
    pm_agreement_t b;
    pm_error_t e = {0};
    assert_int_equal(pm_agreement_parse(pretty, strlen(pretty), &b, &e), PM_OK);
    assert_string_equal(agr.hash_hex, b.hash_hex);
    /* One value changed: another hash. */
    json_object_set_new(j, "match_threshold", json_real(41.0));
    free(pretty);
    pretty = json_dumps(j, 0);
    assert_int_equal(pm_agreement_parse(pretty, strlen(pretty), &b, &e), PM_OK);
    assert_string_not_equal(agr.hash_hex, b.hash_hex);
    assert_true(agr.match_fpir == 0.0); /* absent: the plain threshold alone */
    /* The optional target FPIR is read and changes the hash. */
    pm_agreement_t f;
    json_object_set_new(j, "match_fpir", json_real(0.001));
    char *fp = json_dumps(j, 0);
    assert_int_equal(pm_agreement_parse(fp, strlen(fp), &f, &e), PM_OK);
    assert_true(f.match_fpir == 0.001);
    assert_string_not_equal(b.hash_hex, f.hash_hex);
    free(fp);
    json_object_del(j, "match_fpir");
    assert_int_equal(pm_agreement_check_partner(&agr, agr.hash_hex, &e), PM_OK);
    assert_int_equal(pm_agreement_check_partner(&agr, b.hash_hex, &e), PM_EDENIED);
    assert_non_null(strstr(e.msg, agr.hash_hex));
    assert_int_equal(pm_agreement_check_partner(&agr, "", &e), PM_EDENIED);
    free(pretty);
    json_decref(j);
}

/* Applies `patch` (a JSON object merged into the base; "$del" lists keys to
 * delete) and expects refusal with `want` in the message. */
static void expect_refused(const char *patch, const char *want)
{
    json_t *j = json_loads(base_text, 0, NULL);
    json_error_t je;
    json_t *p = json_loads(patch, 0, &je);
    if (!p) fail_msg("bad test patch %s: %s", patch, je.text);
    json_t *del = json_object_get(p, "$del");
    for (size_t i = 0; del && i < json_array_size(del); i++)
        json_object_del(j, json_string_value(json_array_get(del, i)));
    json_object_del(p, "$del");
    json_object_update(j, p);
    char *text = json_dumps(j, JSON_INDENT(1));
    pm_agreement_t a;
    pm_error_t e = {0};
    int rc = pm_agreement_parse(text, strlen(text), &a, &e);
    if (rc != PM_EFORMAT) fail_msg("patch %s: rc %d, expected refusal", patch, rc);
    if (!strstr(e.msg, want)) fail_msg("patch %s: message '%s' lacks '%s'", patch, e.msg, want);
    free(text);
    json_decref(p);
    json_decref(j);
}

static void test_bad_agreements_refused(void **st)
{
    (void)st;
    expect_refused("{\"colour\":1}", "$.colour: unknown field");
    expect_refused("{\"match_threshold\":\"high\"}", "$.match_threshold: expected a number");
    expect_refused("{\"match_threshold\":-3}", "$.match_threshold: must be in");
    expect_refused("{\"match_fpir\":\"low\"}", "$.match_fpir: expected a number");
    expect_refused("{\"match_fpir\":0}", "$.match_fpir: must be in (0, 1)");
    expect_refused("{\"match_fpir\":1.5}", "$.match_fpir: must be in (0, 1)");
    expect_refused("{\"allow\":{\"FISHING\":[\"surname\"]}}",
                   "$.allow.FISHING: purpose not in $.purposes");
    expect_refused("{\"allow\":{\"ENTRY_EXIT\":[\"licence_plate\"]}}",
                   "$.allow.ENTRY_EXIT[0]: 'licence_plate' is not in the legal list");
    expect_refused("{\"allow\":{\"ENTRY_EXIT\":[\"fingerprints\"]}}", "not in the legal list");
    expect_refused("{\"retention_days\":{\"crossing\":-1,\"probe\":0,\"match_result\":1,\"received_"
                   "biographic\":1}}",
                   "$.retention_days.crossing: must not be negative");
    expect_refused("{\"retention_days\":{\"crossing\":1,\"probe\":3,\"match_result\":1,\"received_"
                   "biographic\":1}}",
                   "$.retention_days.probe: must be 0 (R6)");
    expect_refused("{\"retention_days\":{\"crossing\":1,\"probe\":0,\"match_result\":1}}",
                   "$.retention_days.received_biographic: missing");
    expect_refused("{\"never_disclose\":[\"citizen\"]}",
                   "'permanent_resident' must be listed (R2)");
    expect_refused("{\"never_disclose\":[\"citizen\",\"permanent_resident\",\"asylum_claimant_"
                   "persecution_by_requester\",\"tourist\"]}",
                   "$.never_disclose[3]: 'tourist' is not a protected subject class");
    expect_refused("{\"review_before_adverse_action\":false}", "must be true (R14)");
    expect_refused("{\"quota\":{\"period_days\":0,\"biometric_query\":1,\"biographic_query\":1}}",
                   "$.quota.period_days: must be at least 1");
    expect_refused("{\"quota\":{\"period_days\":1,\"biometric_query\":1}}",
                   "$.quota.biographic_query: missing");
    expect_refused(
        "{\"onward_transfer_consent\":[{\"third_party\":\"USA\",\"purpose\":\"ENTRY_EXIT\"}]}",
        "a party is not a third party");
    expect_refused(
        "{\"onward_transfer_consent\":[{\"third_party\":\"GBR\",\"purpose\":\"SPYING\"}]}",
        "purpose not in $.purposes");
    expect_refused("{\"purposes\":[\"A\",\"A\"]}", "$.purposes[1]: duplicate purpose");
    expect_refused("{\"biographic_query_purposes\":[\"X\"]}", "$.biographic_query_purposes[0]");
    expect_refused("{\"$del\":[\"version\"]}", "$.version: missing");
    expect_refused("{\"parties\":[\"CAN\",\"CAN\"]}", "the two parties are the same");
    expect_refused("{\"biographic_with_biometric\":1}", "expected true or false");

    pm_agreement_t a;
    pm_error_t e = {0};
    const char *syntax = "{\n  \"version\": \"x\",\n  \"parties\": [\n}";
    assert_int_equal(pm_agreement_parse(syntax, strlen(syntax), &a, &e), PM_EFORMAT);
    if (!strstr(e.msg, "line 4")) fail_msg("syntax error message lacks the line: %s", e.msg);
    const char *dup = "{\"version\":\"a\",\"version\":\"b\"}";
    assert_int_equal(pm_agreement_parse(dup, strlen(dup), &a, &e), PM_EFORMAT);
}

static void expect_deny(const pm_decision_t *d, int rule)
{
    if (d->allow || d->rule != rule)
        fail_msg("expected refusal by R%d, got allow=%d rule=%d (%s)", rule, d->allow, d->rule,
                 d->reason);
}

static void test_queries(void **st)
{
    (void)st;
    load_base();
    pm_quota_counter_t qc = {0};
    pm_decision_t d;
    int64_t now = 1800000000;
    pm_query_facts_t q = {.purpose = "REFUGEE_VETTING", .channel_authenticated = 1};
    assert_int_equal(pm_policy_biometric_query(&agr, &q, &qc, now, &d), PM_OK);
    assert_true(d.allow);
    q.purpose = NULL; /* R1 */
    pm_policy_biometric_query(&agr, &q, &qc, now, &d);
    expect_deny(&d, 1);
    q.purpose = "FISHING";
    pm_policy_biometric_query(&agr, &q, &qc, now, &d);
    expect_deny(&d, 1);
    q.purpose = "REFUGEE_VETTING";
    q.has_biographic = 1; /* R5 */
    pm_policy_biometric_query(&agr, &q, &qc, now, &d);
    expect_deny(&d, 5);
    q.has_biographic = 0;
    q.channel_authenticated = 0; /* R15 */
    pm_policy_biometric_query(&agr, &q, &qc, now, &d);
    expect_deny(&d, 15);
    q.channel_authenticated = 1;
    /* R13: quota 3, one used; refusals above did not count. */
    assert_int_equal(qc.biometric, 1);
    pm_policy_biometric_query(&agr, &q, &qc, now, &d);
    assert_true(d.allow);
    pm_policy_biometric_query(&agr, &q, &qc, now, &d);
    assert_true(d.allow);
    pm_policy_biometric_query(&agr, &q, &qc, now, &d);
    expect_deny(&d, 13);
    pm_policy_biometric_query(&agr, &q, &qc, now - 86400,
                              &d); /* clock stepped back: still refused */
    expect_deny(&d, 13);
    pm_policy_biometric_query(&agr, &q, &qc, now + 365 * 86400, &d); /* next period */
    assert_true(d.allow);

    /* Biographic: only for a purpose that allows it (R1). */
    pm_policy_biographic_query(&agr, &q, &qc, now, &d);
    expect_deny(&d, 1);
    q.purpose = "ENTRY_EXIT";
    pm_policy_biographic_query(&agr, &q, &qc, now, &d);
    assert_true(d.allow);
}

static void test_disclosure_rules(void **st)
{
    (void)st;
    load_base();
    pm_decision_t d;
    pm_answer_facts_t f = {.purpose = "REFUGEE_VETTING",
                           .subject = PM_SUBJ_FOREIGN_NATIONAL,
                           .matched = 1,
                           .score = 55.0,
                           .record_valid = 1};
    pm_policy_disclosure(&agr, &f, &d);
    assert_true(d.allow);
    f.purpose = "FISHING";
    pm_policy_disclosure(&agr, &f, &d);
    expect_deny(&d, 1);
    f.purpose = "REFUGEE_VETTING";
    for (int c = PM_SUBJ_CITIZEN; c < PM_SUBJ_COUNT; c++) {
        f.subject = (pm_subject_class_t)c;
        pm_policy_disclosure(&agr, &f, &d);
        expect_deny(&d, 2);
    }
    f.subject = PM_SUBJ_FOREIGN_NATIONAL;
    f.score = 39.9; /* R3: under threshold */
    pm_policy_disclosure(&agr, &f, &d);
    expect_deny(&d, 3);
    f.prior_adverse_decision = 1; /* prior adverse decision opens it */
    pm_policy_disclosure(&agr, &f, &d);
    assert_true(d.allow);
    f.record_valid = 0; /* R16 */
    pm_policy_disclosure(&agr, &f, &d);
    expect_deny(&d, 16);
}

static void test_lifecycle_rules(void **st)
{
    (void)st;
    load_base();
    pm_decision_t d;
    pm_policy_retain_probe(&agr, 0, &d);
    assert_true(d.allow);
    pm_policy_retain_probe(&agr, 1, &d); /* R6 */
    expect_deny(&d, 6);
    int64_t t0 = 1800000000, day = 86400;
    pm_policy_keep_record(&agr, PM_RC_CROSSING, t0, 0, t0 + 5478 * day, &d);
    assert_true(d.allow);
    pm_policy_keep_record(&agr, PM_RC_CROSSING, t0, 0, t0 + 5479 * day, &d); /* R9 */
    expect_deny(&d, 9);
    pm_policy_keep_record(&agr, PM_RC_PROBE, t0, 0, t0, &d); /* probes: 0 */
    expect_deny(&d, 9);
    pm_policy_keep_record(&agr, PM_RC_RECEIVED_BIOGRAPHIC, t0, t0 + day, t0 + 30 * day, &d);
    assert_true(d.allow);
    pm_policy_keep_record(&agr, PM_RC_RECEIVED_BIOGRAPHIC, t0, t0 + day, t0 + 31 * day,
                          &d); /* R7 */
    expect_deny(&d, 7);
    pm_policy_correction(2, 1, &d); /* R8 */
    expect_deny(&d, 8);
    pm_policy_correction(2, 2, &d);
    assert_true(d.allow);
    pm_policy_onward_transfer(&agr, "USA", "CAN", "GBR", "REFUGEE_VETTING", &d);
    assert_true(d.allow);
    pm_policy_onward_transfer(&agr, "USA", "CAN", "GBR", "ENTRY_EXIT", &d); /* R11 */
    expect_deny(&d, 11);
    pm_policy_onward_transfer(&agr, "USA", "CAN", "AUS", "REFUGEE_VETTING", &d);
    expect_deny(&d, 11);
    pm_policy_onward_transfer(&agr, "CAN", "CAN", "AUS", "REFUGEE_VETTING", &d); /* our own data */
    assert_true(d.allow);
    pm_policy_adverse_action(&agr, 0, &d); /* R14 */
    expect_deny(&d, 14);
    pm_policy_adverse_action(&agr, 1, &d);
    assert_true(d.allow);
}

static void test_send_crossing(void **st)
{
    (void)st;
    load_base();
    char mrz[100];
    assert_int_equal(pm_mrz_build_td3("P", "CAN", "DOE", "JANE", "AB1234567", "CAN", "1980-05-17",
                                      'F', "2030-01-01", mrz, sizeof mrz),
                     PM_OK);
    char line[512];
    snprintf(
        line, sizeof line,
        "{\"record_id\":\"r1\",\"reporting_country\":\"CAN\",\"direction\":\"entry\","
        "\"timestamp\":\"2026-03-01T10:00:00-05:00\",\"port_code\":\"0901\",\"mode\":\"land\","
        "\"surname\":\"DOE\",\"given_names\":\"JANE\",\"middle_names\":\"\","
        "\"date_of_birth\":\"1980-05-17\",\"citizenship\":\"CAN\",\"sex\":\"F\","
        "\"document_type\":\"P\",\"document_number\":\"AB1234567\",\"document_issuer\":\"CAN\","
        "\"mrz\":\"%s\"}\n",
        mrz);
    pm_crossing_reader_t *r = NULL;
    pm_error_t e = {0};
    assert_int_equal(
        pm_crossing_reader_open_mem(line, strlen(line), PM_CROSSING_FORMAT_JSONL, &r, &e), PM_OK);
    pm_crossing_t c;
    if (pm_crossing_reader_next(r, &c, NULL, &e) != 1) fail_msg("valid record refused: %s", e.msg);
    pm_crossing_reader_free(r);
    pm_decision_t d;
    pm_policy_send_crossing(&c, &d);
    if (!d.allow) fail_msg("valid record refused: %s", d.reason);
    pm_buf_t b; /* R4 on a whole crossing record */
    pm_buf_init(&b, 0);
    assert_int_equal(pm_disclosure_serialize_crossing(&agr, "ENTRY_EXIT", &c, &b, &e), PM_OK);
    assert_string_equal((const char *)b.data,
                        "{\"fields\":{\"document_number\":\"AB1234567\",\"port\":\"0901\","
                        "\"surname\":\"DOE\"},\"purpose\":\"ENTRY_EXIT\"}");
    pm_buf_reset(&b);
    assert_int_equal(pm_disclosure_serialize_crossing(&agr, "REFUGEE_VETTING", &c, &b, &e), PM_OK);
    assert_string_equal((const char *)b.data,
                        "{\"fields\":{\"date_of_birth\":\"1980-05-17\",\"surname\":\"DOE\"},"
                        "\"purpose\":\"REFUGEE_VETTING\"}");
    pm_buf_free(&b);
    pm_crossing_t bad = c; /* R16: a wrong check digit (document number's, position 9 of line 2) */
    char *l2 = strchr(bad.mrz, '|') + 1;
    l2[9] = l2[9] == '0' ? '1' : '0';
    pm_policy_send_crossing(&bad, &d);
    expect_deny(&d, 16);
    pm_crossing_t theirs = c; /* R11: received from the partner */
    memcpy(theirs.origin, "USA", 4);
    pm_policy_send_crossing(&theirs, &d);
    expect_deny(&d, 11);
}

static void test_serializer_drops_unlisted(void **st)
{
    (void)st;
    load_base();
    pm_field_value_t fields[] = {
        {"surname", "DOE"},           {"date_of_birth", "1980-01-01"}, {"document_number", "X123"},
        {"licence_plate", "ABC-123"}, {"fingerprints", "AAAA"},        {"refused", "yes"},
    };
    pm_buf_t out;
    pm_buf_init(&out, 0);
    size_t dropped = 99;
    pm_error_t e = {0};
    assert_int_equal(
        pm_disclosure_serialize(&agr, "REFUGEE_VETTING", fields, 6, &out, &dropped, &e), PM_OK);
    assert_string_equal(
        (const char *)out.data,
        "{\"fields\":{\"date_of_birth\":\"1980-01-01\",\"refused\":\"yes\",\"surname\":\"DOE\"},"
        "\"purpose\":\"REFUGEE_VETTING\"}");
    assert_int_equal(dropped, 3);
    pm_buf_reset(&out);
    assert_int_equal(pm_disclosure_serialize(&agr, "FISHING", fields, 6, &out, NULL, &e),
                     PM_EDENIED);
    pm_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_file_parses),
        cmocka_unit_test(test_hash_is_canonical),
        cmocka_unit_test(test_bad_agreements_refused),
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_disclosure_rules),
        cmocka_unit_test(test_lifecycle_rules),
        cmocka_unit_test(test_send_crossing),
        cmocka_unit_test(test_serializer_drops_unlisted),
    };
    return PM_RUN_TESTS("policy", tests, NULL, NULL);
}
