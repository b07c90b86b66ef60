/* Cohort vetting library: bad captures reported (never skipped), resume
 * after an interruption with no applicant queried twice, transport failures
 * retried with the same transaction id, refusals, case files. One small
 * synthetic cohort (5 applicants: 1 known to the partner, 3 bad captures)
 * generated once for the suite. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "perimeter/an2k.h"
#include "perimeter/core.h"
#include "perimeter/gallery.h"
#include "perimeter/image.h"
#include "perimeter/vet.h"
#include "testutil.h"

typedef struct fixture {
    char *tmp;
    char cohort[4096];
    pm_gallery_t *partner;
    char known[16], blank[16], bad_finger[16], corrupt[16], plain[16];
} fixture_t;

static fixture_t fx;

/* A transport wrapping the gallery one: counts calls, remembers transaction
 * ids, can fail once for one transaction, or raise cancel after N calls. */
typedef struct counting {
    pm_vet_gallery_transport_t gallery;
    pthread_mutex_t lock;
    int calls;
    char tcns[64][PM_VET_ID_MAX];
    int resend_flags;
    int fail_call; /* 1-based call number that fails (0: none) */
    int cancel_after;
    volatile int *cancel;
} counting_t;

static int counting_query(void *ctx, const pm_vet_query_t *q, pm_vet_answer_t *out,
                          pm_error_t *err)
{
    counting_t *c = ctx;
    pthread_mutex_lock(&c->lock);
    int call = ++c->calls;
    if (call <= 64)
        snprintf(c->tcns[call - 1], PM_VET_ID_MAX, "%s", q->transaction_id);
    c->resend_flags += q->resend;
    if (c->cancel_after && call >= c->cancel_after)
        *c->cancel = 1;
    pthread_mutex_unlock(&c->lock);
    if (call == c->fail_call)
        return pm_error_set(err, PM_ENET, "simulated: connection reset");
    return pm_vet_gallery_query(&c->gallery, q, out, err);
}

static void counting_init(counting_t *c)
{
    memset(c, 0, sizeof *c);
    c->gallery.gallery = fx.partner;
    pthread_mutex_init(&c->lock, NULL);
}

static int group_setup(void **state)
{
    (void)state;
    fx.tmp = pm_test_tmpdir();
    snprintf(fx.cohort, sizeof fx.cohort, "%s/cohort", fx.tmp);
    pm_vet_cohort_params_t p;
    pm_vet_cohort_params_default(&p);
    p.seed = 41;
    p.applicants = 5;
    p.known = 1;
    p.bad = 3;
    p.distractors = 20;
    p.threads = 2;
    pm_error_t err = {0};
    pm_vet_cohort_stats_t st;
    if (pm_vet_cohort_generate(&p, fx.cohort, NULL, NULL, &st, &err) != 0) {
        fprintf(stderr, "cohort: %s\n", pm_error_text(&err));
        return -1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/truth.csv", fx.cohort);
    FILE *f = fopen(path, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char id[16];
        if (sscanf(line, "%15[^,]", id) != 1 || id[0] != 'A')
            continue;
        char *dst = strstr(line, ",blank,")        ? fx.blank
                    : strstr(line, ",bad_finger,") ? fx.bad_finger
                    : strstr(line, ",corrupt,")    ? fx.corrupt
                    : strstr(line, ",match")       ? fx.known
                                                   : fx.plain;
        snprintf(dst, 16, "%s", id);
    }
    if (f)
        fclose(f);
    pm_gallery_options_t go = {.threads = 1};
    snprintf(path, sizeof path, "%s/partner/gallery.snap", fx.cohort);
    if (pm_gallery_new(&go, &fx.partner, &err) || pm_gallery_load(fx.partner, path, NULL, &err)) {
        fprintf(stderr, "gallery: %s\n", pm_error_text(&err));
        return -1;
    }
    return fx.known[0] && fx.blank[0] && fx.bad_finger[0] && fx.corrupt[0] && fx.plain[0] ? 0
                                                                                           : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    pm_gallery_free(fx.partner);
    pm_test_rmdir(fx.tmp);
    free(fx.tmp);
    return 0;
}

static json_t *load_case(const char *out, const char *id)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/cases/%s.json", out, id);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        fail_msg("case file %s: %s", path, je.text);
    return j;
}

static void out_dir(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", fx.tmp, name);
}

static void test_bad_captures_reported(void **state)
{
    (void)state;
    counting_t c;
    counting_init(&c);
    char out[4096];
    out_dir("run-bad", out, sizeof out);
    pm_vet_options_t o = {.cohort = fx.cohort, .out_dir = out, .purpose = "REFUGEE_VETTING",
                          .transport = {counting_query, &c, "test"}, .workers = 2};
    pm_vet_summary_t s;
    pm_error_t err = {0};
    assert_int_equal(pm_vet_run(&o, &s, &err), 0);
    assert_int_equal(s.applicants, 5);
    assert_int_equal(s.done, 5);
    assert_int_equal(s.failed_capture, 2); /* blank and corrupt: not queried */
    assert_int_equal(s.match, 1);
    assert_int_equal(s.no_match, 2);
    assert_int_equal(s.recapture, 3); /* blank, corrupt and the bad finger */
    assert_int_equal(c.calls, 3);
    assert_int_equal(s.queries, 3);

    json_t *j = load_case(out, fx.blank);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "failed_capture");
    assert_true(json_is_null(json_object_get(j, "partner")));
    assert_int_equal(json_array_size(json_object_get(j, "fingers")), 10);
    assert_int_equal(json_array_size(json_object_get(j, "recapture")), 10);
    assert_non_null(strstr(json_string_value(json_object_get(j, "capture_error")), "usable"));
    json_decref(j);

    j = load_case(out, fx.corrupt);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "failed_capture");
    assert_non_null(strstr(json_string_value(json_object_get(j, "capture_error")), "offset"));
    json_decref(j);

    j = load_case(out, fx.bad_finger);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "no_match");
    json_t *r = json_object_get(j, "recapture");
    /* finger 2 (blanked) is queued; a natural poor capture may be too */
    int has2 = 0;
    for (size_t i = 0; i < json_array_size(r); i++)
        has2 |= json_integer_value(json_object_get(json_array_get(r, i), "position")) == 2;
    assert_true(has2);
    assert_int_equal(json_integer_value(json_object_get(j, "usable_fingers")),
                     10 - (json_int_t)json_array_size(r));
    json_decref(j);

    j = load_case(out, fx.known);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "match");
    json_t *p = json_object_get(j, "partner");
    json_t *c0 = json_array_get(json_object_get(p, "candidates"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "subject")), "1000001");
    assert_true(json_number_value(json_object_get(c0, "score")) >= PM_VET_DEFAULT_THRESHOLD);
    assert_string_equal(json_string_value(json_object_get(p, "disclosed_under_purpose")),
                        "REFUGEE_VETTING");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(p, "disclosed"), "subject_id")),
        "1000001");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "review"), "status")), "pending");
    /* the name stays home (R5) */
    assert_false(json_is_true(
        json_object_get(json_object_get(j, "biographics"), "sent_to_partner")));
    json_decref(j);

    /* the adjudication list holds exactly the match */
    char path[4200];
    snprintf(path, sizeof path, "%s/adjudication.jsonl", out);
    uint8_t *text = NULL;
    size_t len = 0;
    assert_int_equal(pm_file_read(path, 1 << 20, &text, &len, &err), 0);
    assert_non_null(strstr((char *)text, fx.known));
    assert_non_null(strstr((char *)text, "pending_review"));
    assert_null(strstr((char *)text, fx.plain));
    free(text);

    /* a second run has nothing to do and queries nobody */
    assert_int_equal(pm_vet_run(&o, &s, &err), 0);
    assert_int_equal(c.calls, 3);
    assert_int_equal(s.done_this_run, 0);
    assert_int_equal(s.done, 5);
}

static void test_resume_no_duplicate_query(void **state)
{
    (void)state;
    volatile int cancel = 0;
    counting_t c;
    counting_init(&c);
    c.cancel = &cancel;
    c.cancel_after = 1; /* interrupted as soon as the first query is sent */
    char out[4096];
    out_dir("run-resume", out, sizeof out);
    pm_vet_options_t o = {.cohort = fx.cohort, .out_dir = out, .purpose = "REFUGEE_VETTING",
                          .transport = {counting_query, &c, "test"}, .workers = 1,
                          .cancel = &cancel};
    pm_vet_summary_t s;
    pm_error_t err = {0};
    assert_int_equal(pm_vet_run(&o, &s, &err), PM_EPARTIAL);
    assert_true(s.pending > 0);
    uint64_t first = s.done;
    assert_true(first >= 1 && first < 5);
    cancel = 0;
    c.cancel_after = 0;
    assert_int_equal(pm_vet_run(&o, &s, &err), 0);
    assert_int_equal(s.done, 5);
    assert_int_equal(s.done_this_run, 5 - first);
    /* three queryable applicants, three calls in all, three distinct ids */
    assert_int_equal(c.calls, 3);
    for (int i = 0; i < c.calls; i++)
        for (int k = 0; k < i; k++)
            assert_string_not_equal(c.tcns[i], c.tcns[k]);
    assert_int_equal(c.resend_flags, 0);
}

static void test_transport_failure_retried(void **state)
{
    (void)state;
    counting_t c;
    counting_init(&c);
    c.fail_call = 2;
    char out[4096];
    out_dir("run-fail", out, sizeof out);
    pm_vet_options_t o = {.cohort = fx.cohort, .out_dir = out, .purpose = "REFUGEE_VETTING",
                          .transport = {counting_query, &c, "test"}, .workers = 1};
    pm_vet_summary_t s;
    pm_error_t err = {0};
    assert_int_equal(pm_vet_run(&o, &s, &err), PM_EPARTIAL);
    assert_int_equal(s.pending, 1);
    assert_int_equal(s.transport_errors, 1);
    assert_int_equal(s.done, 4);
    char failed_tcn[PM_VET_ID_MAX];
    snprintf(failed_tcn, sizeof failed_tcn, "%s", c.tcns[1]);
    assert_int_equal(pm_vet_run(&o, &s, &err), 0);
    assert_int_equal(s.done, 5);
    assert_int_equal(s.resent, 1);
    assert_int_equal(c.calls, 4);
    /* the retry reuses the transaction id and says it may be a repeat */
    assert_string_equal(c.tcns[3], failed_tcn);
    assert_int_equal(c.resend_flags, 1);
}

static void test_refused_with_rule(void **state)
{
    (void)state;
    counting_t c;
    counting_init(&c);
    static const char *const purposes[] = {"IMMIGRATION_ADMISSIBILITY"};
    c.gallery.purposes = purposes;
    c.gallery.npurposes = 1;
    char out[4096];
    out_dir("run-refused", out, sizeof out);
    pm_vet_options_t o = {.cohort = fx.cohort, .out_dir = out, .purpose = "REFUGEE_VETTING",
                          .transport = {counting_query, &c, "test"}, .workers = 2};
    pm_vet_summary_t s;
    pm_error_t err = {0};
    assert_int_equal(pm_vet_run(&o, &s, &err), 0);
    assert_int_equal(s.refused, 3);
    assert_int_equal(s.match, 0);
    json_t *j = load_case(out, fx.known);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "refused");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "partner"), "rule")), "R1");
    json_decref(j);

    /* the same output folder with another purpose is refused */
    o.purpose = "IMMIGRATION_ADMISSIBILITY";
    assert_int_equal(pm_vet_run(&o, &s, &err), PM_ESTATE);
    /* and no purpose at all (R1) */
    o.purpose = NULL;
    assert_int_equal(pm_vet_run(&o, &s, &err), PM_EINVAL);
}

static void test_image_folder_cohort(void **state)
{
    (void)state;
    /* the known applicant's ten images as a folder of PNGs (f01.png .. f10.png) */
    char src[4200], dir[4096], app[4200];
    snprintf(src, sizeof src, "%s/applicants/%s.an2", fx.cohort, fx.known);
    snprintf(dir, sizeof dir, "%s/folders", fx.tmp);
    mkdir(dir, 0777);
    snprintf(app, sizeof app, "%s/P1", dir);
    mkdir(app, 0777);
    uint8_t *data = NULL;
    size_t len = 0;
    pm_error_t err = {0};
    assert_int_equal(pm_file_read(src, 64 << 20, &data, &len, &err), 0);
    pm_an2k_txn_t t = {0};
    assert_int_equal(pm_an2k_read(data, len, &t, &err), 0);
    int written = 0;
    for (size_t i = 0; i < t.nrecords; i++) {
        if (t.records[i].type != 14)
            continue;
        char pos[8];
        assert_true(pm_an2k_get(&t.records[i], 13, 1, 1, pos, sizeof pos) > 0);
        pm_image_t img = {0};
        assert_int_equal(pm_an2k_image_decode(&t.records[i], NULL, &img, &err), 0);
        char path[4300];
        snprintf(path, sizeof path, "%s/f%02d.png", app, atoi(pos));
        assert_int_equal(pm_image_save(path, &img, NULL, &err), 0);
        pm_image_free(&img);
        written++;
    }
    pm_an2k_free(&t);
    free(data);
    assert_int_equal(written, 10);

    counting_t c;
    counting_init(&c);
    char out[4200];
    /* the output folder inside the cohort folder is not taken for an applicant */
    snprintf(out, sizeof out, "%s/vet-REFUGEE_VETTING", dir);
    pm_vet_options_t o = {.cohort = dir, .out_dir = out, .purpose = "REFUGEE_VETTING",
                          .transport = {counting_query, &c, "test"}, .workers = 1,
                          .local_gallery = fx.partner};
    pm_vet_summary_t s;
    assert_int_equal(pm_vet_run(&o, &s, &err), 0);
    assert_int_equal(s.applicants, 1);
    assert_int_equal(s.match, 1);
    assert_int_equal(s.local_hits, 1);
    json_t *j = load_case(out, "P1");
    json_t *f = json_array_get(json_object_get(j, "fingers"), 9);
    assert_int_equal(json_integer_value(json_object_get(f, "position")), 10);
    json_t *lc = json_array_get(json_object_get(json_object_get(j, "local"), "candidates"), 0);
    assert_string_equal(json_string_value(json_object_get(lc, "subject")), "1000001");
    json_decref(j);
    assert_int_equal(pm_vet_run(&o, &s, &err), 0);
    assert_int_equal(s.applicants, 1);
    assert_int_equal(c.calls, 1);
}

static void test_folder_limits_reported(void **state)
{
    (void)state;
    /* 33 images in one applicant's folder and an unreadable image in another:
     * both reported as failed captures, neither skipped nor queried */
    char dir[4096], app[4200], path[4300];
    snprintf(dir, sizeof dir, "%s/many", fx.tmp);
    mkdir(dir, 0777);
    snprintf(app, sizeof app, "%s/P33", dir);
    mkdir(app, 0777);
    pm_error_t err = {0};
    for (int i = 1; i <= 33; i++) {
        snprintf(path, sizeof path, "%s/x%02d.png", app, i);
        assert_int_equal(pm_file_write_atomic(path, "not a png", 9, &err), 0);
    }
    snprintf(app, sizeof app, "%s/P1", dir);
    mkdir(app, 0777);
    snprintf(path, sizeof path, "%s/f01.wsq", app);
    assert_int_equal(pm_file_write_atomic(path, "\xff\xa0junk", 6, &err), 0);
    counting_t c;
    counting_init(&c);
    char out[4096];
    out_dir("run-many", out, sizeof out);
    pm_vet_options_t o = {.cohort = dir, .out_dir = out, .purpose = "REFUGEE_VETTING",
                          .transport = {counting_query, &c, "test"}, .workers = 2};
    pm_vet_summary_t s;
    assert_int_equal(pm_vet_run(&o, &s, &err), 0);
    assert_int_equal(s.applicants, 2);
    assert_int_equal(s.failed_capture, 2);
    assert_int_equal(s.recapture, 2);
    assert_int_equal(c.calls, 0);
    json_t *j = load_case(out, "P33");
    assert_non_null(strstr(json_string_value(json_object_get(j, "capture_error")), "at most 32"));
    json_decref(j);
    j = load_case(out, "P1");
    json_t *f = json_array_get(json_object_get(j, "fingers"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "status")), "decode_failed");
    assert_int_equal(json_integer_value(json_object_get(f, "position")), 1);
    json_decref(j);
}

static void test_bad_options(void **state)
{
    (void)state;
    counting_t c;
    counting_init(&c);
    pm_error_t err = {0};
    char out[4096];
    out_dir("run-opts", out, sizeof out);
    pm_vet_options_t o = {.cohort = "/nonexistent/cohort", .out_dir = out,
                          .purpose = "REFUGEE_VETTING",
                          .transport = {counting_query, &c, "test"}};
    assert_int_equal(pm_vet_run(&o, NULL, &err), PM_EIO);
    o.cohort = fx.cohort;
    o.workers = PM_VET_MAX_THREADS + 1;
    assert_int_equal(pm_vet_run(&o, NULL, &err), PM_EINVAL);
    o.workers = 1;
    o.transport.query = NULL;
    assert_int_equal(pm_vet_run(&o, NULL, &err), PM_EINVAL);
    assert_int_equal(c.calls, 0);

    pm_vet_cohort_params_t p;
    pm_vet_cohort_params_default(&p);
    p.applicants = 3;
    p.known = 2;
    p.bad = 2;
    assert_int_equal(pm_vet_cohort_generate(&p, out, NULL, NULL, NULL, &err), PM_EINVAL);
    p.known = 0;
    p.bad = 0;
    assert_int_equal(pm_vet_cohort_generate(&p, fx.cohort, NULL, NULL, NULL, &err), PM_EEXISTS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_captures_reported),
        cmocka_unit_test(test_resume_no_duplicate_query),
        cmocka_unit_test(test_transport_failure_retried),
        cmocka_unit_test(test_refused_with_rule),
        cmocka_unit_test(test_image_folder_cohort),
        cmocka_unit_test(test_folder_limits_reported),
        cmocka_unit_test(test_bad_options),
    };
    return PM_RUN_TESTS("vet", tests, group_setup, group_teardown);
}
