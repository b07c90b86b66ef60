/* The console module (docs/console.md): names that could leave the vetting
 * folder refused, runs and cases paged and filtered, the applicant's print
 * decoded and drawn, the applicant beside a candidate with the matcher's
 * pairs (many for the mated candidate, few for another person's finger), the
 * audit view's filter, paging (newest first) and chain status on a synthetic
 * cohort and a log made here. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "perimeter/an2k.h"
#include "perimeter/audit.h"
#include "perimeter/console.h"
#include "perimeter/fp.h"
#include "perimeter/image.h"
#include "perimeter/jobs.h"
#include "perimeter/policy.h"
#include "perimeter/store.h"
#include "perimeter/match.h"
#include "perimeter/tmpl.h"
#include "perimeter/vet.h"

static char *tmp;
static char root[4096];
static pm_extractor_t *ex;
static char mated[64], subject[64], other[64];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A case file as `perimeter vet` writes it (the fields the console reads). */
static void write_case(const char *app, const char *outcome, const char *cand)
{
    char path[4400], text[2048];
    snprintf(path, sizeof path, "%s/run1/cases/%s.json", root, app);
    snprintf(text, sizeof text,
             "{\"applicant\":\"%s\",\"file\":\"elsewhere/applicants/%s.an2\","
             "\"transaction_id\":\"VET-t-%s\",\"purpose\":\"ASYLUM\",\"outcome\":\"%s\","
             "\"fingers\":[{\"position\":1,\"status\":\"ok\",\"quality\":80,\"minutiae\":40}],"
             "\"usable_fingers\":10,\"partner\":{\"result\":\"%s\",\"candidates\":[%s%s%s],"
             "\"disclosed\":{\"subject_id\":\"%s\"},\"disclosed_under_purpose\":\"ASYLUM\"}}",
             app, app, app, outcome, outcome, cand ? "{\"subject\":\"" : "", cand ? cand : "",
             cand ? "\",\"score\":120.5}" : "", cand ? cand : "");
    write_file(path, text);
}

static int setup(void **state)
{
    (void)state;
    tmp = pm_test_tmpdir();
    snprintf(root, sizeof root, "%s/vetting", tmp);
    pm_vet_cohort_params_t p;
    pm_vet_cohort_params_default(&p);
    p.seed = 4;
    p.applicants = 2;
    p.known = 1;
    p.threads = 2;
    pm_error_t e;
    pm_error_clear(&e);
    if (pm_vet_cohort_generate(&p, root, NULL, NULL, NULL, &e) != PM_OK) {
        fprintf(stderr, "cohort: %s\n", e.msg);
        return -1;
    }
    /* which applicant the partner holds, under which subject */
    char path[4200];
    snprintf(path, sizeof path, "%s/truth.csv", root);
    FILE *f = fopen(path, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char app[64] = "", file[128] = "", subj[64] = "";
        if (sscanf(line, "%63[^,],%127[^,],%63[^,],", app, file, subj) == 3 && app[0] == 'A')
            snprintf(mated, sizeof mated, "%s", app), snprintf(subject, sizeof subject, "%s", subj);
        else if (sscanf(line, "%63[^,],", app) == 1 && app[0] == 'A')
            snprintf(other, sizeof other, "%s", app);
    }
    if (f)
        fclose(f);
    if (!mated[0] || !other[0])
        return -1;
    snprintf(path, sizeof path, "%s/run1", root);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/run1/cases", root);
    mkdir(path, 0700);
    write_case(mated, "match", subject);
    write_case(other, "match", subject); /* as if a false candidate */
    static const char *const more[] = {"B1", "B2", "B3", "B4", "B5"};
    for (int i = 0; i < 5; i++)
        write_case(more[i], i % 2 ? "no_match" : "failed_capture", NULL);
    return pm_extractor_create(&ex, &e) == PM_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    pm_extractor_free(ex);
    pm_test_rmdir(tmp);
    free(tmp);
    return 0;
}

static json_t *parse(pm_buf_t *b)
{
    json_error_t je;
    json_t *o = json_loadb((const char *)b->data, b->len, 0, &je);
    assert_non_null(o);
    return o;
}

static void test_names_refused(void **state)
{
    (void)state;
    pm_buf_t b;
    pm_buf_init(&b, 1u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    assert_int_equal(pm_console_case(root, "../vetting/run1", mated, &b, &e), PM_EINVAL);
    assert_int_equal(pm_console_case(root, "run1", "../../x", &b, &e), PM_EINVAL);
    assert_int_equal(pm_console_case(root, ".hidden", mated, &b, &e), PM_EINVAL);
    assert_int_equal(pm_console_case(root, "run1", "A999999", &b, &e), PM_ENOTFOUND);
    assert_int_equal(pm_console_case(root, "nope", mated, &b, &e), PM_ENOTFOUND);
    assert_int_equal(pm_console_pair_png(ex, root, "run1", mated, 1, "../x", &b, NULL, NULL, NULL, &e),
                     PM_EINVAL);
    assert_int_equal(pm_console_print_png(ex, root, "run1", mated, 11, &b, NULL, &e), PM_EINVAL);
    assert_int_equal(b.len, 0);
    pm_buf_free(&b);
}

static void test_runs_and_pages(void **state)
{
    (void)state;
    pm_buf_t b;
    pm_buf_init(&b, 1u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    assert_int_equal(pm_console_runs(root, &b, &e), PM_OK);
    json_t *runs = parse(&b);
    assert_int_equal(json_array_size(runs), 1); /* applicants/ and partner/ are no runs */
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 0), "run")), "run1");
    json_decref(runs);
    pm_buf_reset(&b);
    /* 7 cases in name order: page 2 of 3 rows */
    assert_int_equal(pm_console_run(root, "run1", NULL, 3, 3, NULL, &b, &e), PM_OK);
    json_t *r = parse(&b);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 7);
    json_t *cases = json_object_get(r, "cases");
    assert_int_equal(json_array_size(cases), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cases, 0), "applicant")),
                        "B2"); /* A000001, A000002, B1 | B2, B3, B4 | B5 */
    json_decref(r);
    pm_buf_reset(&b);
    assert_int_equal(pm_console_run(root, "run1", "match", 0, 50, NULL, &b, &e), PM_OK);
    r = parse(&b);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 2);
    assert_true(json_real_value(json_object_get(json_array_get(json_object_get(r, "cases"), 0),
                                                "best_score")) > 120);
    json_decref(r);
    pm_buf_reset(&b);
    assert_int_equal(pm_console_run(root, "run1", NULL, 0, PM_CONSOLE_PAGE_MAX + 1, NULL, &b, &e),
                     PM_EINVAL);
    /* the case, with the candidate fingers this node holds templates of */
    assert_int_equal(pm_console_case(root, "run1", mated, &b, &e), PM_OK);
    r = parse(&b);
    json_t *held = json_object_get(json_object_get(r, "candidate_templates"), subject);
    assert_int_equal(json_array_size(held), 10);
    json_decref(r);
    pm_buf_free(&b);
}

static void test_print_png(void **state)
{
    (void)state;
    pm_buf_t b;
    pm_buf_init(&b, 64u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    int nm = 0;
    /* the case names a path that is not here: found in the cohort beside the run */
    assert_int_equal(pm_console_print_png(ex, root, "run1", mated, 1, &b, &nm, &e), PM_OK);
    assert_true(nm >= 10);
    pm_image_t img;
    memset(&img, 0, sizeof img);
    assert_int_equal(pm_image_decode(b.data, b.len, NULL, &img, &e), PM_OK);
    assert_true(img.width > 200 && img.height > 200);
    pm_image_free(&img);
    pm_buf_free(&b);
}

static void test_pair_png(void **state)
{
    (void)state;
    pm_buf_t b;
    pm_buf_init(&b, 64u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    double s_mate = 0, s_other = 0;
    int p_mate = 0, p_other = 0;
    pm_match_minutia_pair_t drawn[PM_MAX_MINUTIAE];
    assert_int_equal(pm_console_pair_png(ex, root, "run1", mated, 1, subject, &b, &s_mate, &p_mate,
                                         drawn, &e),
                     PM_OK);
    /* the drawn pairs are the matcher's own: the same comparison made here
     * (the applicant's finger 1 from its transaction, the candidate's template
     * from the cohort's partner folder) gives the same list */
    char path[4400];
    snprintf(path, sizeof path, "%s/applicants/%s.an2", root, mated);
    uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(pm_file_read(path, 64u << 20, &data, &len, &e), PM_OK);
    pm_an2k_txn_t t;
    memset(&t, 0, sizeof t);
    assert_int_equal(pm_an2k_read(data, len, &t, &e), PM_OK);
    free(data);
    pm_image_t img;
    memset(&img, 0, sizeof img);
    int found = 0;
    for (size_t i = 0; i < t.nrecords && !found; i++) {
        char v[16];
        const pm_an2k_record_t *r = &t.records[i];
        if (r->type == 14 && pm_an2k_get(r, 13, 1, 1, v, sizeof v) > 0 && strcmp(v, "1") == 0) {
            assert_int_equal(pm_an2k_image_decode(r, NULL, &img, &e), PM_OK);
            found = 1;
        }
    }
    pm_an2k_free(&t);
    assert_true(found);
    pm_fingerprint_t *fa = calloc(1, sizeof *fa);
    assert_non_null(fa);
    assert_int_equal(pm_fp_extract(ex, &img, fa, &e), PM_OK);
    pm_image_free(&img);
    snprintf(path, sizeof path, "%s/partner/templates/%s_1.iso", root, subject);
    pm_fingerprint_t *views = NULL;
    size_t nviews = 0;
    assert_int_equal(pm_tmpl_read_file(path, &views, &nviews, NULL, &e), PM_OK);
    assert_true(nviews >= 1);
    pm_match_template_t *ta = NULL, *tb = NULL;
    pm_matcher_t *m = NULL;
    assert_int_equal(pm_match_prepare(fa, &ta, &e), PM_OK);
    assert_int_equal(pm_match_prepare(&views[0], &tb, &e), PM_OK);
    assert_int_equal(pm_matcher_new(&m, &e), PM_OK);
    pm_match_result_t res;
    double s_here = pm_match_compare(m, ta, tb, &res);
    pm_match_minutia_pair_t want[PM_MAX_MINUTIAE];
    int nwant = pm_match_last_pairs(m, ta, tb, want, PM_MAX_MINUTIAE);
    assert_true(s_here == s_mate);
    assert_int_equal(nwant, res.paired);
    assert_int_equal(p_mate, nwant);
    for (int k = 0; k < nwant; k++) {
        assert_int_equal(drawn[k].a, want[k].a);
        assert_int_equal(drawn[k].b, want[k].b);
    }
    pm_matcher_free(m);
    pm_match_template_free(ta);
    pm_match_template_free(tb);
    free(views);
    free(fa);
    size_t mate_len = b.len;
    pm_buf_reset(&b);
    assert_int_equal(pm_console_pair_png(ex, root, "run1", other, 1, subject, &b, &s_other,
                                         &p_other, NULL, &e),
                     PM_OK);
    print_message("mated: score %.1f, %d pairs; other person: score %.1f, %d pairs\n", s_mate,
                  p_mate, s_other, p_other);
    assert_true(mate_len > 0 && b.len > 0);
    assert_true(s_mate > s_other);
    assert_true(p_mate >= 12);
    assert_true(p_other * 2 < p_mate);
    pm_buf_reset(&b);
    assert_int_equal(pm_console_pair_png(ex, root, "run1", mated, 1, "5000001", &b, NULL, NULL, NULL, &e),
                     PM_ENOTFOUND);
    pm_buf_free(&b);
}

static void test_audit_view(void **state)
{
    (void)state;
    char log_path[4200];
    snprintf(log_path, sizeof log_path, "%s/audit.log", tmp);
    pm_audit_log_t *log = NULL;
    pm_error_t e;
    pm_error_clear(&e);
    assert_int_equal(pm_audit_open(log_path, 1, &log, &e), PM_OK);
    for (int i = 0; i < 30; i++) {
        pm_audit_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.time = 1800000000 + i * 100;
        ev.kind = i % 3 == 0 ? "refusal" : "disclosure";
        ev.actor = "officer:alice";
        ev.partner = "USA";
        ev.purpose = i % 2 ? "ASYLUM" : "IMMIGRATION";
        ev.rule = i % 3 == 0 ? "R2" : "agreement 4.1";
        assert_int_equal(pm_audit_append(log, &ev, NULL, &e), PM_OK);
    }
    assert_int_equal(pm_audit_close(log, &e), PM_OK);
    /* an old modification time: the tamper below gives it another */
    struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, log_path, old, 0), 0);
    pm_audit_index_t *ix = NULL; /* kept between calls, as the node keeps one */
    assert_int_equal(pm_audit_index_new(log_path, &ix, &e), PM_OK);
    pm_buf_t b;
    pm_buf_init(&b, 1u << 20);
    pm_console_audit_query_t q;
    memset(&q, 0, sizeof q);
    q.kind = "refusal";
    q.limit = 4;
    q.offset = 1;
    assert_int_equal(pm_console_audit(log_path, NULL, NULL, 0, NULL, &q, &b, &e), PM_OK);
    size_t one_shot = b.len;
    pm_buf_reset(&b);
    assert_int_equal(pm_console_audit(log_path, NULL, NULL, 0, ix, &q, &b, &e), PM_OK);
    assert_int_equal(b.len, one_shot); /* the same page with or without a kept index */
    json_t *r = parse(&b);
    assert_true(json_is_true(json_object_get(json_object_get(r, "verify"), "intact")));
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 10);
    json_t *en = json_object_get(r, "entries");
    assert_int_equal(json_array_size(en), 4);
    /* newest first, skipping the newest refusal (seq 28): 25, 22, 19, 16 */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(en, 0), "seq")), 25);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(en, 3), "seq")), 16);
    json_decref(r);
    /* purpose and period */
    memset(&q, 0, sizeof q);
    q.purpose = "ASYLUM";
    q.from = 1800000000 + 1000;
    q.to = 1800000000 + 1900;
    q.limit = 50;
    pm_buf_reset(&b);
    assert_int_equal(pm_console_audit(log_path, NULL, NULL, 0, ix, &q, &b, &e), PM_OK);
    r = parse(&b);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 5); /* i = 11,13,...,19 */
    json_decref(r);
    /* the log grows: the kept index takes the new entries in */
    assert_int_equal(pm_audit_open(log_path, 1, &log, &e), PM_OK);
    pm_audit_event_t ev2;
    memset(&ev2, 0, sizeof ev2);
    ev2.time = 1800000000 + 1500;
    ev2.kind = "refusal";
    ev2.purpose = "ASYLUM";
    assert_int_equal(pm_audit_append(log, &ev2, NULL, &e), PM_OK);
    assert_int_equal(pm_audit_close(log, &e), PM_OK);
    assert_int_equal(utimensat(AT_FDCWD, log_path, old, 0), 0);
    pm_buf_reset(&b);
    assert_int_equal(pm_console_audit(log_path, NULL, NULL, 0, ix, &q, &b, &e), PM_OK);
    r = parse(&b);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 6);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "verify"), "entries")),
                     31);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(r, "entries"), 0), "seq")),
                     31);
    json_decref(r);
    /* an altered entry: shown as broken, naming it */
    FILE *f = fopen(log_path, "r+");
    assert_non_null(f);
    char all[65536];
    size_t n = fread(all, 1, sizeof all - 1, f);
    all[n] = '\0';
    char *hit = strstr(all, "IMMIGRATION");
    assert_non_null(hit);
    memcpy(hit, "IMMIGRATIOX", 11);
    rewind(f);
    fwrite(all, 1, n, f);
    fclose(f);
    /* with and without the kept index (it sees the file rewritten) */
    for (int k = 0; k < 2; k++) {
        pm_buf_reset(&b);
        assert_int_equal(pm_console_audit(log_path, NULL, NULL, 0, k ? ix : NULL, &q, &b, &e),
                         PM_OK);
        r = parse(&b);
        json_t *v = json_object_get(r, "verify");
        assert_true(json_is_false(json_object_get(v, "intact")));
        assert_int_equal(json_integer_value(json_object_get(v, "bad_seq")), 1);
        json_decref(r);
    }
    pm_audit_index_free(ix);
    pm_buf_free(&b);
}

/* An adjudicator's decision on a re-asked case (its first answer lost:
 * `supersedes`, down a chain `reask_of`) decides the item the node filed
 * under the lost, resp. first, id: no second item for the applicant. A case
 * never re-asked finds its own, else queues one. */
static void write_decide_case(const char *app, const char *txn, const char *sup,
                              const char *first)
{
    char path[4400], text[2048], extra[512] = "";
    if (sup)
        snprintf(extra, sizeof extra, "\"supersedes\":\"%s\",%s%s%s", sup,
                 first ? "\"reask_of\":\"" : "", first ? first : "", first ? "\"," : "");
    snprintf(path, sizeof path, "%s/run2/cases/%s.json", root, app);
    snprintf(text, sizeof text,
             "{\"applicant\":\"%s\",\"transaction_id\":\"%s\",%s\"purpose\":"
             "\"REFUGEE_VETTING\",\"outcome\":\"match\",\"usable_fingers\":10,"
             "\"partner\":{\"result\":\"match\",\"candidates\":[{\"subject\":\"S9\","
             "\"score\":120.5}]}}",
             app, txn, extra);
    write_file(path, text);
}

static void test_case_decide_reasked(void **state)
{
    (void)state;
    char path[4200], agr_text[2048];
    snprintf(path, sizeof path, "%s/run2", root);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/run2/cases", root);
    mkdir(path, 0700);
    pm_error_t e;
    pm_error_clear(&e);
    pm_agreement_t agr;
    pm_test_jobs_agreement("T-CONSOLE", agr_text, sizeof agr_text);
    assert_int_equal(pm_agreement_parse(agr_text, strlen(agr_text), &agr, &e), PM_OK);
    pm_store_t *st = NULL;
    pm_audit_log_t *log = NULL;
    snprintf(path, sizeof path, "%s/decide.db", tmp);
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    snprintf(path, sizeof path, "%s/decide.log", tmp);
    assert_int_equal(pm_audit_open(path, 1, &log, &e), PM_OK);
    pm_jobs_ctx_t ctx = {st, log, &agr, "CAN", "test-console"};
    const int64_t now = 2000000000LL;
    /* the node's items: a chain's under the first id, a single re-ask's
     * under the lost one */
    int64_t chain_item = 0, single_item = 0;
    pm_review_request_t a = {"VET-x-000001", "USA", "REFUGEE_VETTING", "txn:VET-x-000001", 0,
                             "adverse decision on the case", "match", 0};
    assert_int_equal(pm_review_enqueue(&ctx, &a, now, &chain_item, &e), PM_OK);
    pm_review_request_t b = {"VET-x-000002", "USA", "REFUGEE_VETTING", "txn:VET-x-000002", 0,
                             "adverse decision on the case", "match", 0};
    assert_int_equal(pm_review_enqueue(&ctx, &b, now, &single_item, &e), PM_OK);
    write_decide_case("C1", "VET-x-000001-R2", "VET-x-000001-R", "VET-x-000001");
    write_decide_case("C2", "VET-x-000002-R", "VET-x-000002", NULL);
    write_decide_case("C3", "VET-x-000003", NULL, NULL);
    int64_t got = 0;
    assert_int_equal(pm_console_case_decide(&ctx, "USA", root, "run2", "C1", 1, "adj", "same person",
                                            now + 10, &got, &e),
                     PM_OK);
    assert_int_equal(got, chain_item);
    assert_int_equal(pm_console_case_decide(&ctx, "USA", root, "run2", "C2", 0, "adj", "not him",
                                            now + 20, &got, &e),
                     PM_OK);
    assert_int_equal(got, single_item);
    assert_int_equal(pm_console_case_decide(&ctx, "USA", root, "run2", "C3", 1, "adj", "same person",
                                            now + 30, &got, &e),
                     PM_OK);
    assert_true(got != chain_item && got != single_item);
    pm_review_item_t *items = NULL;
    size_t n = 0;
    assert_int_equal(pm_review_list(st, -1, &items, &n, &e), PM_OK);
    assert_int_equal(n, 3); /* one per applicant */
    for (size_t i = 0; i < n; i++) {
        if (items[i].id == chain_item)
            assert_int_equal(items[i].status, PM_REVIEW_CONFIRMED);
        else if (items[i].id == single_item)
            assert_int_equal(items[i].status, PM_REVIEW_REJECTED);
        else
            assert_string_equal(items[i].txn, "VET-x-000003");
    }
    free(items);
    /* the run view reads the queue live: each case's item, re-asked or not */
    pm_buf_t page;
    pm_buf_init(&page, 1u << 20);
    assert_int_equal(pm_console_run(root, "run2", NULL, 0, 50, st, &page, &e), PM_OK);
    json_t *r = parse(&page);
    json_t *rows = json_object_get(r, "cases");
    assert_int_equal(json_array_size(rows), 3);
    static const char *const want[] = {"confirmed", "rejected", "confirmed"};
    for (size_t i = 0; i < 3; i++) {
        json_t *row = json_array_get(rows, i);
        assert_string_equal(json_string_value(json_object_get(row, "review")), want[i]);
        assert_string_equal(json_string_value(json_object_get(row, "review_source")), "queue");
    }
    json_decref(r);
    /* without the store: the case files' (which hold none here) */
    page.len = 0;
    assert_int_equal(pm_console_run(root, "run2", NULL, 0, 50, NULL, &page, &e), PM_OK);
    r = parse(&page);
    json_t *row0 = json_array_get(json_object_get(r, "cases"), 0);
    assert_true(json_is_null(json_object_get(row0, "review")));
    assert_true(json_is_null(json_object_get(row0, "review_source")));
    json_decref(r);
    pm_buf_free(&page);
    /* decided already: refused, not queued again */
    assert_int_equal(pm_console_case_decide(&ctx, "USA", root, "run2", "C1", 0, "adj", "again",
                                            now + 40, &got, &e),
                     PM_ESTATE);
    pm_audit_close(log, NULL);
    pm_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_refused), cmocka_unit_test(test_runs_and_pages),
        cmocka_unit_test(test_print_png),     cmocka_unit_test(test_pair_png),
        cmocka_unit_test(test_audit_view),    cmocka_unit_test(test_case_decide_reasked),
    };
    return PM_RUN_TESTS("console", tests, setup, teardown);
}
