/* The agreement's jobs (docs/jobs.md): each test tries to break its rule and
 * checks that the job stops it and that the disclosure log says so. */
#include "testutil.h"

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/audit.h"
#include "perimeter/jobs.h"
#include "perimeter/policy.h"
#include "perimeter/seal.h"
#include "perimeter/store.h"
#include "perimeter/travel.h"

#define DAY 86400LL
#define NOW 2000000000LL /* 2033-05-18 */



typedef struct fixture {
    char *dir;
    char db[4096], logpath[4096];
    pm_agreement_t agr;
    pm_store_t *st;
    pm_audit_log_t *log;
    pm_jobs_ctx_t ctx;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    pm_error_t e = {0};
    f->dir = pm_test_tmpdir();
    snprintf(f->db, sizeof f->db, "%s/p.db", f->dir);
    snprintf(f->logpath, sizeof f->logpath, "%s/audit.log", f->dir);
    char agreement_text[2048];
    pm_test_jobs_agreement("T-JOBS", agreement_text, sizeof agreement_text);
    if (pm_agreement_parse(agreement_text, strlen(agreement_text), &f->agr, &e))
        fail_msg("agreement: %s", e.msg);
    if (pm_store_open(f->db, NULL, &f->st, &e)) fail_msg("store: %s", e.msg);
    if (pm_audit_open(f->logpath, 1, &f->log, &e)) fail_msg("log: %s", e.msg);
    f->ctx = (pm_jobs_ctx_t){f->st, f->log, &f->agr, "CAN", "test-job"};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    pm_audit_close(f->log, NULL);
    pm_store_close(f->st);
    pm_test_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Stores n sample crossings (ids CAN:Rbase..), crossing instant `when`. */
static void put_crossings(fixture_t *f, uint64_t base, size_t n, int64_t when, const char *origin)
{
    pm_error_t e = {0};
    pm_crossing_t *c = calloc(1, sizeof *c);
    for (size_t i = 0; i < n; i++) {
        pm_crossing_sample(7, base + i, origin ? origin : "CAN", c);
        snprintf(c->record_id, sizeof c->record_id, "R%llu", (unsigned long long)(base + i));
        c->time_utc = when;
        c->direction = PM_DIRECTION_ENTRY; /* as reported; a partner's becomes our exit */
        if (origin) c->direction = PM_DIRECTION_EXIT;
        if (origin) {
            memcpy(c->origin, origin, 4);
            pm_store_ensure_partner(f->st, origin, &e);
        }
        if (pm_store_put_crossing(f->st, c, NULL, &e)) fail_msg("put: %s", e.msg);
    }
    free(c);
}

static int64_t count_crossings(fixture_t *f)
{
    int64_t n = -1;
    pm_error_t e = {0};
    assert_int_equal(pm_store_count_crossings(f->st, NULL, &n, &e), PM_OK);
    return n;
}

/* Log entries of one kind (and rule, if given). */
typedef struct count_ctx {
    const char *kind, *rule, *txn;
    size_t n, records;
} count_ctx_t;

static int count_entry(void *ctx, const pm_audit_entry_t *e)
{
    count_ctx_t *c = ctx;
    if (strcmp(e->kind, c->kind) == 0 && (!c->rule || strcmp(e->rule, c->rule) == 0) &&
        (!c->txn || strcmp(e->txn, c->txn) == 0)) {
        c->n++;
        c->records += e->n_record_ids;
    }
    return 0;
}

static count_ctx_t count_log(fixture_t *f, const char *kind, const char *rule, const char *txn)
{
    count_ctx_t c = {kind, rule, txn, 0, 0};
    pm_error_t e = {0};
    pm_audit_sync(f->log, NULL);
    if (pm_audit_read(f->logpath, count_entry, &c, &e)) fail_msg("read log: %s", e.msg);
    return c;
}

static void assert_log_intact(fixture_t *f)
{
    pm_audit_verify_result_t r;
    pm_error_t e = {0};
    pm_audit_sync(f->log, NULL);
    if (pm_audit_verify(f->logpath, NULL, 0, NULL, &r, &e)) fail_msg("log not intact: %s", e.msg);
}

/* ---- R9 ---------------------------------------------------------------------- */

static void test_purge_retention(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    int64_t ret = 5479 * DAY;
    put_crossings(f, 0, 5, NOW - ret - 100 * DAY, NULL); /* long expired */
    put_crossings(f, 100, 3, NOW - ret, NULL);           /* expires exactly now */
    put_crossings(f, 200, 4, NOW - ret + 1, NULL);       /* one second left: kept */
    put_crossings(f, 300, 2, NOW - ret - DAY, "USA");    /* a partner's record: same class */
    int64_t rid[3];
    assert_int_equal(pm_received_store(&f->ctx, "USA", PM_RC_MATCH_RESULT, "REFUGEE_VETTING", "T1",
                                       "P:SYR:N1", "{\"match\":true}", 14, NOW - 1826 * DAY,
                                       &rid[0], &e),
                     PM_OK);
    assert_int_equal(pm_received_store(&f->ctx, "USA", PM_RC_RECEIVED_BIOGRAPHIC, "REFUGEE_VETTING",
                                       "T2", "P:SYR:N1", "{}", 2, NOW - 999 * DAY, &rid[1], &e),
                     PM_OK);
    assert_int_equal(pm_received_store(&f->ctx, "USA", PM_RC_RECEIVED_BIOGRAPHIC, "REFUGEE_VETTING",
                                       "T3", "P:SYR:N2", "{}", 2, NOW - 1000 * DAY, &rid[2], &e),
                     PM_OK);
    pm_purge_result_t r;
    if (pm_jobs_purge(&f->ctx, NOW, 0, &r, &e)) fail_msg("purge: %s", e.msg);
    assert_int_equal(r.purged[PM_RC_CROSSING], 10);
    assert_int_equal(r.purged[PM_RC_MATCH_RESULT], 1);
    assert_int_equal(r.purged[PM_RC_RECEIVED_BIOGRAPHIC], 1);
    assert_int_equal(r.tombstones, 3);
    assert_int_equal(count_crossings(f), 4);
    pm_crossing_filter_t flt;
    memset(&flt, 0, sizeof flt);
    flt.has_time_to = 1;
    flt.time_to = NOW - ret + 1;
    int64_t expired = -1;
    pm_store_count_crossings(f->st, &flt, &expired, &e);
    assert_int_equal(expired, 0); /* nothing past retention is left */
    pm_received_t rr;
    assert_int_equal(pm_received_get(f->st, rid[0], &rr, NULL, &e), PM_ENOTFOUND);
    assert_int_equal(pm_received_get(f->st, rid[1], &rr, NULL, &e), PM_OK); /* one day left */
    assert_int_equal(pm_received_get(f->st, rid[2], &rr, NULL, &e), PM_ENOTFOUND);
    count_ctx_t c = count_log(f, "purge", "R9", NULL);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.records, 12); /* every deleted row is named */
    assert_log_intact(f);
    /* The document lookup forgot them too: no history by a purged document. */
    pm_crossing_t s;
    pm_crossing_sample(7, 0, "CAN", &s);
    memset(&flt, 0, sizeof flt);
    snprintf(flt.document_number, sizeof flt.document_number, "%s", s.document_number);
    snprintf(flt.document_issuer, sizeof flt.document_issuer, "%s", s.document_issuer);
    pm_store_count_crossings(f->st, &flt, &expired, &e);
    assert_int_equal(expired, 0);
    /* Idempotent: a second run purges nothing and logs nothing. */
    if (pm_jobs_purge(&f->ctx, NOW, 0, &r, &e)) fail_msg("purge again: %s", e.msg);
    assert_int_equal(r.purged[PM_RC_CROSSING] + r.purged[PM_RC_MATCH_RESULT] +
                         r.purged[PM_RC_RECEIVED_BIOGRAPHIC] + r.tombstones,
                     0);
    assert_int_equal(count_log(f, "purge", "R9", NULL).n, 3);
}

static void test_purge_batches_name_every_row(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    put_crossings(f, 0, 250, NOW - 6000 * DAY, NULL);
    put_crossings(f, 1000, 7, NOW - DAY, NULL);
    pm_purge_result_t r;
    if (pm_jobs_purge(&f->ctx, NOW, 100, &r, &e)) fail_msg("purge: %s", e.msg);
    assert_int_equal(r.purged[PM_RC_CROSSING], 250);
    assert_int_equal(r.tombstones, 3); /* 100 + 100 + 50 */
    count_ctx_t c = count_log(f, "purge", "R9", NULL);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.records, 250);
    assert_int_equal(count_crossings(f), 7);
}

/* A crash after the store commit and before the log append leaves a pending
 * tombstone: the next run logs it, once. A crash after the append and before
 * the pending row is cleared must not log it twice. */
static void test_purge_crash_recovery(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    assert_int_equal(pm_jobs_migrate(f->st, &e), PM_OK);
    sqlite3 *db = pm_store_sqlite_handle(f->st);
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO jobs_tombstone VALUES ('purge-crashed-1', 'R9', "
                     "'class crossing; rows 2', '[\"CAN:R1\",\"CAN:R2\"]', 1999999000);"
                     "INSERT INTO jobs_tombstone VALUES ('purge-crashed-2', 'R9', "
                     "'class crossing; rows 1', '[\"CAN:R3\"]', 1999999001);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    /* the second one had reached the log before the crash */
    const char *recs[1] = {"CAN:R3"};
    pm_audit_event_t ev = {.time = 1999999001,
                           .kind = "purge",
                           .actor = "test-job",
                           .rule = "R9",
                           .record_ids = recs,
                           .n_record_ids = 1,
                           .txn = "purge-crashed-2",
                           .detail = "class crossing; rows 1"};
    assert_int_equal(pm_audit_append(f->log, &ev, NULL, &e), PM_OK);
    pm_purge_result_t r;
    if (pm_jobs_purge(&f->ctx, NOW, 0, &r, &e)) fail_msg("purge: %s", e.msg);
    assert_int_equal(r.recovered, 1);
    assert_int_equal(count_log(f, "purge", NULL, "purge-crashed-1").n, 1);
    assert_int_equal(count_log(f, "purge", NULL, "purge-crashed-2").n, 1);
    if (pm_jobs_purge(&f->ctx, NOW, 0, &r, &e)) fail_msg("purge: %s", e.msg);
    assert_int_equal(r.recovered, 0);
    assert_int_equal(count_log(f, "purge", NULL, NULL).n, 2);
    sqlite3_stmt *q = NULL;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM jobs_tombstone", -1, &q, NULL);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 0);
    sqlite3_finalize(q);
    assert_log_intact(f);
}

static void test_purge_refuses_bad_context(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    pm_purge_result_t r;
    pm_jobs_ctx_t bad = f->ctx;
    bad.ours = "GBR"; /* not a party */
    assert_int_equal(pm_jobs_purge(&bad, NOW, 0, &r, &e), PM_EINVAL);
    bad = f->ctx;
    bad.log = NULL; /* no purge without its tombstones */
    assert_int_equal(pm_jobs_purge(&bad, NOW, 0, &r, &e), PM_EINVAL);
    /* A second writer on the same log is refused: two heads would fork the chain. */
    pm_audit_log_t *other = NULL;
    assert_int_equal(pm_audit_open(f->logpath, 1, &other, &e), PM_EBUSY);
}

/* ---- R7 ---------------------------------------------------------------------- */

static void test_irrelevant_destroyed(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    int64_t id[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pm_received_store(&f->ctx, "USA", PM_RC_RECEIVED_BIOGRAPHIC,
                                           "REFUGEE_VETTING", "T9", "P:SYR:N9", "{\"surname\":1}",
                                           13, NOW - 40 * DAY, &id[i], &e),
                         PM_OK);
    /* received from ourselves or a third country: not partner data */
    assert_int_equal(pm_received_store(&f->ctx, "GBR", PM_RC_RECEIVED_BIOGRAPHIC, "REFUGEE_VETTING",
                                       "T9", "x", "{}", 2, NOW, NULL, &e),
                     PM_EINVAL);
    /* no officer or no reason: refused */
    assert_int_equal(pm_received_mark_irrelevant(&f->ctx, id[0], "", "no link", NOW, &e),
                     PM_EINVAL);
    assert_int_equal(pm_received_mark_irrelevant(&f->ctx, id[0], "officer.ana", "", NOW, &e),
                     PM_EINVAL);
    assert_int_equal(pm_received_mark_irrelevant(&f->ctx, id[0], "officer.ana", "not the applicant",
                                                 NOW - 31 * DAY, &e),
                     PM_OK);
    assert_int_equal(
        pm_received_mark_irrelevant(&f->ctx, id[1], "officer.ana", "duplicate", NOW - DAY, &e),
        PM_OK);
    assert_int_equal(pm_received_mark_irrelevant(&f->ctx, id[1], "officer.bo", "again", NOW, &e),
                     PM_ESTATE);
    pm_received_t *list = NULL;
    size_t n = 0;
    assert_int_equal(pm_received_list(f->st, 1, &list, &n, &e), PM_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].irrelevant_by, "officer.ana");
    free(list);
    /* The retention purge alone keeps them (1000 days): only R7 destroys them. */
    pm_purge_result_t pr;
    assert_int_equal(pm_jobs_purge(&f->ctx, NOW, 0, &pr, &e), PM_OK);
    assert_int_equal(pr.purged[PM_RC_RECEIVED_BIOGRAPHIC], 0);
    pm_destroy_result_t r;
    if (pm_jobs_destroy_irrelevant(&f->ctx, NOW, &r, &e)) fail_msg("destroy: %s", e.msg);
    assert_int_equal(r.destroyed, 2);
    assert_int_equal(r.overdue, 1); /* marked 31 days ago: the 30-day deadline was missed */
    assert_int_equal(r.tombstones, 1);
    pm_received_t rr;
    pm_buf_t payload = {0};
    assert_int_equal(pm_received_get(f->st, id[0], &rr, &payload, &e), PM_ENOTFOUND);
    assert_int_equal(pm_received_get(f->st, id[1], &rr, &payload, &e), PM_ENOTFOUND);
    assert_int_equal(pm_received_get(f->st, id[2], &rr, &payload, &e), PM_OK); /* not marked */
    assert_int_equal(payload.len, 13);
    pm_buf_free(&payload);
    count_ctx_t c = count_log(f, "purge", "R7", NULL);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.records, 2);
    assert_int_equal(count_log(f, "review", "R7", NULL).n, 2); /* who found them irrelevant */
    if (pm_jobs_destroy_irrelevant(&f->ctx, NOW, &r, &e)) fail_msg("destroy: %s", e.msg);
    assert_int_equal(r.destroyed + r.tombstones, 0);
    assert_log_intact(f);
}

/* ---- R11 --------------------------------------------------------------------- */

static void test_onward_transfer_needs_consent(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    int64_t id;
    assert_int_equal(pm_received_store(&f->ctx, "USA", PM_RC_MATCH_RESULT, "REFUGEE_VETTING", "T5",
                                       "P:SYR:N5", "{\"refused\":true}", 16, NOW, &id, &e),
                     PM_OK);
    pm_buf_t out = {0};
    pm_decision_t d;
    /* no consent for this third party, or for this purpose: refused, nothing handed out */
    assert_int_equal(pm_transfer_received(&f->ctx, id, "FRA", "REFUGEE_VETTING", NOW, &out, &d, &e),
                     PM_EDENIED);
    assert_int_equal(d.rule, 11);
    assert_non_null(strstr(e.msg, "R11"));
    assert_int_equal(out.len, 0);
    assert_int_equal(pm_transfer_received(&f->ctx, id, "GBR", "ENTRY_EXIT", NOW, &out, &d, &e),
                     PM_EDENIED);
    assert_int_equal(d.rule, 11);
    assert_int_equal(out.len, 0);
    /* an unlisted purpose is R1 */
    assert_int_equal(pm_transfer_received(&f->ctx, id, "GBR", "FISHING", NOW, &out, &d, &e),
                     PM_EDENIED);
    assert_int_equal(d.rule, 1);
    /* the partner itself is not a third party */
    assert_int_equal(pm_transfer_received(&f->ctx, id, "USA", "REFUGEE_VETTING", NOW, &out, &d, &e),
                     PM_EINVAL);
    /* consent recorded for (GBR, REFUGEE_VETTING) */
    assert_int_equal(pm_transfer_received(&f->ctx, id, "GBR", "REFUGEE_VETTING", NOW, &out, &d, &e),
                     PM_OK);
    assert_int_equal(out.len, 16);
    pm_buf_reset(&out);
    /* a partner's crossing from the feed is partner data too; our own goes */
    put_crossings(f, 0, 1, NOW - DAY, "USA");
    put_crossings(f, 10, 1, NOW - DAY, NULL);
    assert_int_equal(pm_transfer_crossing(&f->ctx, 1, "FRA", "ENTRY_EXIT", NOW, &out, &d, &e),
                     PM_EDENIED);
    assert_int_equal(d.rule, 11);
    assert_int_equal(out.len, 0);
    assert_int_equal(pm_transfer_crossing(&f->ctx, 2, "FRA", "ENTRY_EXIT", NOW, &out, &d, &e),
                     PM_OK);
    assert_true(out.len > 0);
    pm_buf_free(&out);
    assert_int_equal(count_log(f, "refusal", "R11", NULL).n, 3);
    assert_int_equal(count_log(f, "refusal", "R1", NULL).n, 1);
    assert_int_equal(count_log(f, "onward_transfer", NULL, NULL).n, 2);
    assert_log_intact(f);
}

/* ---- R14 --------------------------------------------------------------------- */

static void test_review_before_adverse_action(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    pm_review_request_t rq = {.txn = "Q-1",
                              .partner = "USA",
                              .purpose = "REFUGEE_VETTING",
                              .subject_ref = "P:SYR:N7",
                              .score = 57.5,
                              .action = "refuse the refugee claim",
                              .evidence = "10-print match, prior removal"};
    int64_t id, id2;
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW, &id, &e), PM_OK);
    /* the same match re-sent (resume, re-run after a crash): the same item */
    int64_t again = 0;
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW + 5, &again, &e), PM_OK);
    assert_int_equal(again, id);
    rq.txn = "Q-2";
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW, &id2, &e), PM_OK);
    assert_true(id2 != id);
    /* another purpose or partner subject is another item */
    rq.subject_ref = "P:SYR:N8";
    int64_t id3 = 0;
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW, &id3, &e), PM_OK);
    assert_true(id3 != id2 && id3 != id);
    rq.subject_ref = "P:SYR:N7";
    rq.action = "";
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW, NULL, &e), PM_EINVAL);
    /* acting on an unreviewed match: refused, naming R14, and logged */
    pm_decision_t d;
    assert_int_equal(pm_review_adverse_action(&f->ctx, id, NOW, &d, &e), PM_EDENIED);
    assert_int_equal(d.rule, 14);
    assert_non_null(strstr(e.msg, "R14"));
    /* a decision needs who and why */
    assert_int_equal(pm_review_decide(&f->ctx, id, 1, "", "looked at it", NOW, &e), PM_EINVAL);
    assert_int_equal(pm_review_decide(&f->ctx, id, 1, "officer.kim", "", NOW, &e), PM_EINVAL);
    assert_int_equal(pm_review_decide(&f->ctx, 999, 1, "officer.kim", "x", NOW, &e), PM_ENOTFOUND);
    assert_int_equal(pm_review_decide(&f->ctx, id, 1, "officer.kim", "prints compared: same person",
                                      NOW + 60, &e),
                     PM_OK);
    /* a decision is never overwritten */
    assert_int_equal(
        pm_review_decide(&f->ctx, id, 0, "officer.lee", "changed my mind", NOW + 90, &e),
        PM_ESTATE);
    assert_int_equal(pm_review_adverse_action(&f->ctx, id, NOW + 120, &d, &e), PM_OK);
    assert_int_equal(d.allow, 1);
    /* a rejected match never supports adverse action */
    assert_int_equal(
        pm_review_decide(&f->ctx, id2, 0, "officer.lee", "different person", NOW + 60, &e), PM_OK);
    assert_int_equal(pm_review_adverse_action(&f->ctx, id2, NOW + 120, &d, &e), PM_EDENIED);
    assert_int_equal(d.rule, 14);
    pm_review_item_t it;
    assert_int_equal(pm_review_get(f->st, id, &it, &e), PM_OK);
    assert_int_equal(it.status, PM_REVIEW_CONFIRMED);
    assert_string_equal(it.officer, "officer.kim");
    assert_int_equal(it.decided_at, NOW + 60);
    assert_string_equal(it.why, "prints compared: same person");
    pm_review_item_t *v = NULL;
    size_t n = 0;
    /* re-sent after the decision: the decided item, still confirmed */
    rq.txn = "Q-1";
    rq.action = "refuse the refugee claim";
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW + 200, &again, &e), PM_OK);
    assert_int_equal(again, id);
    assert_int_equal(pm_review_get(f->st, id, &it, &e), PM_OK);
    assert_int_equal(it.status, PM_REVIEW_CONFIRMED);
    assert_int_equal(pm_review_list(f->st, PM_REVIEW_PENDING, &v, &n, &e), PM_OK);
    assert_int_equal(n, 1); /* Q-2 for the other subject */
    assert_true(v[0].id == id3);
    free(v);
    assert_int_equal(pm_review_list(f->st, -1, &v, &n, &e), PM_OK);
    assert_int_equal(n, 3);
    free(v);
    /* the log holds: 3 queued (re-sends add nothing), 2 decisions (who, why), 2 refusals */
    assert_int_equal(count_log(f, "review", "R14", NULL).n, 5);
    assert_int_equal(count_log(f, "refusal", "R14", NULL).n, 2);
    assert_log_intact(f);
}

/* ---- R8 ---------------------------------------------------------------------- */

static void test_correction_reaches_every_recipient(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    put_crossings(f, 0, 3, NOW - DAY, NULL);   /* store ids 1..3, ours */
    put_crossings(f, 50, 1, NOW - DAY, "USA"); /* store id 4, the partner's */
    pm_crossing_t c[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pm_store_get_crossing(f->st, i + 1, &c[i], &e), PM_OK);
    /* the feed job has pushed our records up to store id 1 to USA (node table) */
    sqlite3 *db = pm_store_sqlite_handle(f->st);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE feed_push (partner TEXT PRIMARY KEY, acked "
                                  "INTEGER NOT NULL DEFAULT 0) STRICT;"
                                  "INSERT INTO feed_push VALUES ('USA', 1);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    /* record 2 was disclosed to USA in an answer (disclosure log) */
    char ref2[PM_JOBS_REF_MAX];
    snprintf(ref2, sizeof ref2, "%s:%s", c[1].reporting_country, c[1].record_id);
    const char *recs[1] = {ref2};
    const char *fields[1] = {"surname"};
    pm_audit_event_t ev = {.time = NOW - 10,
                           .kind = "disclosure",
                           .actor = "node-CAN",
                           .partner = "USA",
                           .purpose = "ENTRY_EXIT",
                           .rule = "agreement",
                           .fields = fields,
                           .n_fields = 1,
                           .record_ids = recs,
                           .n_record_ids = 1,
                           .txn = "Q-9"};
    assert_int_equal(pm_audit_append(f->log, &ev, NULL, &e), PM_OK);
    char who[4][4];
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pm_correction_recipients(&f->ctx, &c[i], who, 4, &n, &e), PM_OK);
        assert_int_equal(n, i < 2 ? 1 : 0); /* 1 by the feed, 2 by the log, 3 never sent */
        if (n) assert_string_equal(who[0], "USA");
    }
    /* correct each of our three records */
    size_t queued = 9;
    for (int i = 0; i < 3; i++) {
        pm_crossing_t fix = c[i];
        snprintf(fix.surname, sizeof fix.surname, "CORRECTED%d", i);
        fix.mrz[0] = '\0';
        if (pm_correction_crossing(&f->ctx, &fix, "surname misspelt at the port", NOW, &queued, &e))
            fail_msg("correction %d: %s", i, e.msg);
        assert_int_equal(queued, i < 2 ? 1 : 0);
        pm_crossing_t now_stored;
        assert_int_equal(pm_store_get_crossing(f->st, i + 1, &now_stored, &e), PM_OK);
        assert_string_equal(now_stored.surname, fix.surname); /* same store id, new value */
    }
    /* no reason, or the partner's record: refused */
    pm_crossing_t fix = c[0];
    fix.mrz[0] = '\0';
    assert_int_equal(pm_correction_crossing(&f->ctx, &fix, "", NOW, NULL, &e), PM_EINVAL);
    fix = c[3];
    fix.mrz[0] = '\0';
    snprintf(fix.surname, sizeof fix.surname, "MINE");
    assert_int_equal(pm_correction_crossing(&f->ctx, &fix, "we think so", NOW, NULL, &e),
                     PM_EDENIED);
    assert_non_null(strstr(e.msg, "R8"));
    pm_crossing_t still;
    assert_int_equal(pm_store_get_crossing(f->st, 4, &still, &e), PM_OK);
    assert_string_equal(still.surname, c[3].surname); /* rolled back */
    /* the queue: two unacknowledged, with their age */
    pm_correction_t *v = NULL;
    assert_int_equal(pm_corrections_pending(f->st, "USA", &v, &n, &e), PM_OK);
    assert_int_equal(n, 2);
    int64_t id1 = v[0].id, id2 = v[1].id;
    assert_int_equal(v[0].created_at, NOW);
    free(v);
    pm_buf_t payload = {0};
    pm_correction_t one;
    assert_int_equal(pm_correction_get(f->st, id1, &one, &payload, &e), PM_OK);
    assert_non_null(strstr((const char *)payload.data, "CORRECTED0"));
    pm_buf_free(&payload);
    /* not complete until acknowledged: R8 */
    pm_decision_t d;
    char ref1[PM_JOBS_REF_MAX];
    snprintf(ref1, sizeof ref1, "%s:%s", c[0].reporting_country, c[0].record_id);
    assert_int_equal(pm_correction_status(f->st, ref1, &d, &e), PM_OK);
    assert_int_equal(d.allow, 0);
    assert_int_equal(d.rule, 8);
    assert_int_equal(pm_correction_sent(&f->ctx, id1, NOW + 5, &e), PM_OK);
    /* only the partner it was sent to may acknowledge it */
    assert_int_equal(pm_correction_acknowledged(&f->ctx, id1, "GBR", "x", NOW + 6, &e), PM_EDENIED);
    assert_int_equal(pm_correction_acknowledged(&f->ctx, id1, "USA", "ACK-1", NOW + 6, &e), PM_OK);
    assert_int_equal(pm_correction_acknowledged(&f->ctx, id1, "USA", "ACK-1", NOW + 7, &e), PM_OK);
    assert_int_equal(pm_correction_status(f->st, ref1, &d, &e), PM_OK);
    assert_int_equal(d.allow, 1);
    assert_int_equal(pm_corrections_pending(f->st, NULL, &v, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, id2);
    free(v);
    /* the log: 2 queued + 1 acknowledgement (the repeat is not logged again) */
    assert_int_equal(count_log(f, "correction", "R8", NULL).n, 3);
    assert_log_intact(f);
}

static void test_received_correction_applied(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    put_crossings(f, 0, 1, NOW - DAY, "USA");
    put_crossings(f, 10, 1, NOW - DAY, NULL);
    pm_crossing_t theirs, ours;
    assert_int_equal(pm_store_get_crossing(f->st, 1, &theirs, &e), PM_OK);
    assert_int_equal(pm_store_get_crossing(f->st, 2, &ours, &e), PM_OK);
    theirs.mrz[0] = '\0';
    snprintf(theirs.given_names, sizeof theirs.given_names, "FIXED");
    assert_int_equal(pm_correction_apply_received(&f->ctx, &theirs, "USA-CORR-1", NOW, &e), PM_OK);
    pm_crossing_t got;
    assert_int_equal(pm_store_get_crossing(f->st, 1, &got, &e), PM_OK);
    assert_string_equal(got.given_names, "FIXED");
    assert_string_equal(got.origin, "USA");
    /* the partner cannot "correct" our own record */
    ours.mrz[0] = '\0';
    memcpy(ours.origin, "USA", 4);
    snprintf(ours.given_names, sizeof ours.given_names, "HIJACKED");
    assert_int_equal(pm_correction_apply_received(&f->ctx, &ours, "USA-CORR-2", NOW, &e),
                     PM_EDENIED);
    assert_int_equal(pm_store_get_crossing(f->st, 2, &got, &e), PM_OK);
    assert_string_not_equal(got.given_names, "HIJACKED");
    assert_int_equal(count_log(f, "correction", "R8", "USA-CORR-1").n, 1);
    assert_int_equal(count_log(f, "correction", "R8", "USA-CORR-2").n, 0);
}

/* ---- R12 --------------------------------------------------------------------- */

static void test_subject_access_report(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    put_crossings(f, 0, 4, NOW - 3 * DAY, NULL);
    pm_crossing_t a, other;
    assert_int_equal(pm_store_get_crossing(f->st, 1, &a, &e), PM_OK);
    /* a second crossing on the same document, the partner's */
    pm_crossing_t b = a;
    snprintf(b.record_id, sizeof b.record_id, "USA-X1");
    snprintf(b.reporting_country, sizeof b.reporting_country, "USA");
    memcpy(b.origin, "USA", 4);
    b.direction = PM_DIRECTION_EXIT;
    b.store_id = 0;
    pm_store_ensure_partner(f->st, "USA", &e);
    assert_int_equal(pm_store_put_crossing(f->st, &b, NULL, &e), PM_OK);
    int64_t oid = 2;
    do
        assert_int_equal(pm_store_get_crossing(f->st, oid++, &other, &e), PM_OK);
    while (strcmp(other.document_number, a.document_number) == 0);
    char ra[PM_JOBS_REF_MAX], ro[PM_JOBS_REF_MAX];
    snprintf(ra, sizeof ra, "%s:%s", a.reporting_country, a.record_id);
    snprintf(ro, sizeof ro, "%s:%s", other.reporting_country, other.record_id);
    const char *fields[2] = {"surname", "document_number"};
    const char *mine[1] = {ra}, *theirs[1] = {ro};
    pm_audit_event_t ev = {.time = NOW - 100,
                           .kind = "disclosure",
                           .actor = "node-CAN",
                           .partner = "USA",
                           .purpose = "ENTRY_EXIT",
                           .rule = "agreement",
                           .fields = fields,
                           .n_fields = 2,
                           .record_ids = mine,
                           .n_record_ids = 1,
                           .txn = "Q-MINE"};
    assert_int_equal(pm_audit_append(f->log, &ev, NULL, &e), PM_OK);
    ev.record_ids = theirs;
    ev.txn = "Q-OTHER";
    assert_int_equal(pm_audit_append(f->log, &ev, NULL, &e), PM_OK);
    assert_int_equal(pm_received_store(&f->ctx, "USA", PM_RC_MATCH_RESULT, "REFUGEE_VETTING", "Q-7",
                                       "P:<b>ME</b>", "{\"secret\":\"partner-payload\"}", 29, NOW,
                                       NULL, &e),
                     PM_OK);
    pm_review_request_t rq = {.txn = "Q-7",
                              .partner = "USA",
                              .purpose = "REFUGEE_VETTING",
                              .subject_ref = "P:<b>ME</b>",
                              .score = 50,
                              .action = "refuse entry",
                              .evidence = "prints"};
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW, NULL, &e), PM_OK);
    pm_subject_query_t q = {.document_number = a.document_number,
                            .document_issuer = a.document_issuer,
                            .subject_ref = "P:<b>ME</b>"};
    pm_buf_t out = {0};
    /* no one to look for: refused */
    pm_subject_query_t none = {0};
    assert_int_equal(pm_subject_access(&f->ctx, &none, "clerk.sam", NOW, &out, &e), PM_EINVAL);
    assert_int_equal(pm_subject_access(&f->ctx, &q, "", NOW, &out, &e), PM_EINVAL);
    if (pm_subject_access(&f->ctx, &q, "clerk.sam", NOW, &out, &e)) fail_msg("%s", e.msg);
    json_t *r = json_loadb((const char *)out.data, out.len, 0, NULL);
    assert_non_null(r);
    json_t *cr = json_object_get(r, "crossings");
    assert_true(json_array_size(cr) >= 2); /* ours and the partner's */
    int saw_partner = 0;
    size_t i;
    json_t *x;
    json_array_foreach(cr, i, x)
    {
        if (strcmp(json_string_value(json_object_get(x, "source")), "received from USA") == 0)
            saw_partner = 1;
    }
    assert_true(saw_partner);
    json_t *log = json_object_get(r, "disclosure_log");
    int mine_seen = 0, other_seen = 0;
    json_array_foreach(log, i, x)
    {
        const char *txn = json_string_value(json_object_get(x, "txn"));
        if (strcmp(txn, "Q-MINE") == 0) mine_seen = 1;
        if (strcmp(txn, "Q-OTHER") == 0) other_seen = 1;
    }
    assert_true(mine_seen);
    assert_false(other_seen); /* another person's disclosure is not in my report */
    assert_int_equal(json_array_size(json_object_get(r, "received_about_you")), 1);
    assert_int_equal(json_array_size(json_object_get(r, "reviews")), 1);
    assert_null(strstr((const char *)out.data, "partner-payload")); /* metadata only */
    json_decref(r);
    pm_buf_t html = {0};
    assert_int_equal(pm_subject_access_html((const char *)out.data, out.len, &html, &e), PM_OK);
    assert_non_null(strstr((const char *)html.data, "Your border crossings"));
    assert_non_null(strstr((const char *)html.data, "P:&lt;b&gt;ME&lt;/b&gt;"));
    assert_null(strstr((const char *)html.data, "<b>ME</b>"));
    assert_non_null(strstr((const char *)html.data, "Q-MINE"));
    assert_int_equal(pm_subject_access_html("[1]", 3, &html, &e), PM_EFORMAT);
    pm_buf_free(&html);
    pm_buf_free(&out);
    assert_int_equal(count_log(f, "subject_access", "R12", NULL).n, 1);
    assert_log_intact(f);
}

/* A received record's digest: SHA-256 of the clear payload without a data
 * key; with one, a keyed hash that SHA-256 of the guessed payload does not
 * confirm; reseal rewrites old digests and re-keys them on rotation, and
 * each row still reads back checked against its digest. */
static void test_received_keyed_digest(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    static const char pay[] = "{\"surname\":\"QUINTERO\",\"date_of_birth\":\"1980-02-03\"}";
    char clear_hex[65], path[4200];
    unsigned char h[32];
    crypto_hash_sha256(h, (const unsigned char *)pay, strlen(pay));
    sodium_bin2hex(clear_hex, sizeof clear_hex, h, sizeof h);
    int64_t id0 = 0, id1 = 0;
    assert_int_equal(pm_received_store(&f->ctx, "USA", PM_RC_RECEIVED_BIOGRAPHIC, "ENTRY_EXIT",
                                       "T-D0", "P:0", pay, strlen(pay), NOW, &id0, &e),
                     PM_OK);
    pm_received_t r;
    assert_int_equal(pm_received_get(f->st, id0, &r, NULL, &e), PM_OK);
    assert_string_equal(r.sha256, clear_hex); /* no key: SHA-256, as documented */

    pm_seal_ring_t ring = {0};
    snprintf(path, sizeof path, "%s/a.key", f->dir);
    assert_int_equal(pm_seal_key_new(path, &ring.keys[0], &e), PM_OK);
    ring.n = 1;
    pm_store_set_seal(f->st, &ring);
    assert_int_equal(pm_received_store(&f->ctx, "USA", PM_RC_RECEIVED_BIOGRAPHIC, "ENTRY_EXIT",
                                       "T-D1", "P:1", pay, strlen(pay), NOW, &id1, &e),
                     PM_OK);
    pm_buf_t b = {0};
    if (pm_received_get(f->st, id1, &r, &b, &e)) fail_msg("get: %s", e.msg);
    assert_int_equal(strlen(r.sha256), 64);
    assert_memory_equal(r.sha256, "k1", 2);
    assert_null(strstr(r.sha256, clear_hex + 2)); /* not SHA-256 of the clear payload */
    assert_string_not_equal(r.sha256, clear_hex);
    assert_memory_equal(b.data, pay, strlen(pay));
    char first[65];
    memcpy(first, r.sha256, sizeof first);

    /* reseal: the old row's SHA-256 becomes a keyed digest (the same one:
     * same payload, same key), and the row still reads back */
    pm_seal_progress_t pg = {0};
    if (pm_jobs_reseal(f->st, 0, &pg, &e)) fail_msg("reseal: %s", e.msg);
    assert_int_equal(pg.sealed, 1);
    b.len = 0;
    if (pm_received_get(f->st, id0, &r, &b, &e)) fail_msg("get after reseal: %s", e.msg);
    assert_string_equal(r.sha256, first);
    assert_memory_equal(b.data, pay, strlen(pay));

    /* rotation: a new key seals, the old one still opens; reseal re-keys
     * both digests */
    pm_seal_key_t old = ring.keys[0];
    snprintf(path, sizeof path, "%s/b.key", f->dir);
    assert_int_equal(pm_seal_key_new(path, &ring.keys[0], &e), PM_OK);
    ring.keys[1] = old;
    ring.n = 2;
    b.len = 0;
    if (pm_received_get(f->st, id1, &r, &b, &e)) fail_msg("get with old key: %s", e.msg);
    memset(&pg, 0, sizeof pg);
    if (pm_jobs_reseal(f->st, 0, &pg, &e)) fail_msg("reseal rotate: %s", e.msg);
    assert_int_equal(pg.rotated, 2);
    for (int i = 0; i < 2; i++) {
        b.len = 0;
        if (pm_received_get(f->st, i ? id1 : id0, &r, &b, &e)) fail_msg("get: %s", e.msg);
        assert_memory_equal(r.sha256, "k1", 2);
        assert_string_not_equal(r.sha256, first);
        assert_memory_equal(b.data, pay, strlen(pay));
    }
    memset(&pg, 0, sizeof pg);
    if (pm_jobs_reseal(f->st, 0, &pg, &e)) fail_msg("reseal again: %s", e.msg);
    assert_int_equal(pg.rotated + pg.sealed, 0); /* nothing left to do */

    /* an altered digest does not read back */
    pm_stmt_t *q = NULL;
    assert_int_equal(pm_stmt_prepare(f->st, "UPDATE jobs_received SET sha256 = ? WHERE id = ?",
                                     &q, &e),
                     PM_OK);
    pm_stmt_bind_text(q, 1, first);
    pm_stmt_bind_int64(q, 2, id1);
    assert_true(pm_stmt_step(q, &e) >= 0);
    pm_stmt_finish(q);
    b.len = 0;
    assert_int_equal(pm_received_get(f->st, id1, &r, &b, &e), PM_ECHECKSUM);
    pm_store_set_seal(f->st, NULL);
    pm_buf_free(&b);
    pm_seal_ring_wipe(&ring);
    pm_seal_key_wipe(&old);
}

/* The stored irrelevant_why column of a received row, as written. */
static void raw_why(fixture_t *f, int64_t id, char *out, size_t cap)
{
    pm_error_t e = {0};
    pm_stmt_t *q = NULL;
    assert_int_equal(
        pm_stmt_prepare(f->st, "SELECT irrelevant_why FROM jobs_received WHERE id = ?", &q, &e),
        PM_OK);
    pm_stmt_bind_int64(q, 1, id);
    assert_int_equal(pm_stmt_step(q, &e), 1);
    snprintf(out, cap, "%s", pm_stmt_text(q, 0) ? pm_stmt_text(q, 0) : "");
    pm_stmt_finish(q);
}

static int find_text(void *ctx, const pm_audit_entry_t *en)
{
    const char **s = ctx;
    if (strstr(en->detail, s[0])) s[1] = "found";
    return 0;
}

/* The officer's reason (R7) is sealed at rest under a data key: a reason
 * written in clear before the key is sealed by reseal, a new one at once;
 * the read calls open it; the log names the item but not the reason; the
 * officer's name stays in clear; a row never found irrelevant keeps ''. */
static void test_irrelevant_why_sealed(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    int64_t id[3];
    char raw[1024], path[4200];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pm_received_store(&f->ctx, "USA", PM_RC_RECEIVED_BIOGRAPHIC,
                                           "ENTRY_EXIT", "T-W", "P:W", "{\"a\":1}", 7,
                                           NOW - DAY, &id[i], &e),
                         PM_OK);
    assert_int_equal(pm_received_mark_irrelevant(&f->ctx, id[0], "officer.ana",
                                                 "OLDREASON-4711 namesake", NOW, &e),
                     PM_OK);
    raw_why(f, id[0], raw, sizeof raw);
    assert_string_equal(raw, "OLDREASON-4711 namesake"); /* no key: in clear */

    pm_seal_ring_t ring = {0};
    snprintf(path, sizeof path, "%s/w.key", f->dir);
    assert_int_equal(pm_seal_key_new(path, &ring.keys[0], &e), PM_OK);
    ring.n = 1;
    pm_store_set_seal(f->st, &ring);
    pm_seal_progress_t pg = {0};
    if (pm_jobs_reseal(f->st, 0, &pg, &e)) fail_msg("reseal: %s", e.msg);
    assert_int_equal(pg.sealed, 3); /* three clear payloads, one clear reason */
    raw_why(f, id[0], raw, sizeof raw);
    assert_memory_equal(raw, "pmx1:", 5);
    assert_null(strstr(raw, "OLDREASON"));
    raw_why(f, id[2], raw, sizeof raw);
    assert_string_equal(raw, ""); /* never found irrelevant: stays empty */

    assert_int_equal(pm_received_mark_irrelevant(&f->ctx, id[1], "officer.bo",
                                                 "NEWREASON-0815 wrong person", NOW, &e),
                     PM_OK);
    raw_why(f, id[1], raw, sizeof raw);
    assert_memory_equal(raw, "pmx1:", 5); /* sealed at once */
    pm_received_t *list = NULL;
    size_t n = 0;
    if (pm_received_list(f->st, 1, &list, &n, &e)) fail_msg("list: %s", e.msg);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].irrelevant_why, "OLDREASON-4711 namesake");
    assert_string_equal(list[1].irrelevant_why, "NEWREASON-0815 wrong person");
    assert_string_equal(list[1].irrelevant_by, "officer.bo"); /* names stay in clear */
    free(list);
    /* the log: the old entry (written in clear before the key) has its
     * reason; the new one names the item only */
    const char *look[2] = {"NEWREASON", NULL};
    pm_audit_sync(f->log, NULL);
    if (pm_audit_read(f->logpath, find_text, look, &e)) fail_msg("read log: %s", e.msg);
    assert_null(look[1]);
    assert_int_equal(count_log(f, "review", "R7", NULL).n, 2);

    /* rotation re-keys the reasons too; a reason moved to another row does
     * not open */
    pm_seal_key_t old = ring.keys[0];
    snprintf(path, sizeof path, "%s/w2.key", f->dir);
    assert_int_equal(pm_seal_key_new(path, &ring.keys[0], &e), PM_OK);
    ring.keys[1] = old;
    ring.n = 2;
    memset(&pg, 0, sizeof pg);
    if (pm_jobs_reseal(f->st, 0, &pg, &e)) fail_msg("reseal rotate: %s", e.msg);
    assert_int_equal(pg.rotated, 3);
    memset(&pg, 0, sizeof pg);
    if (pm_jobs_reseal(f->st, 0, &pg, &e)) fail_msg("reseal again: %s", e.msg);
    assert_int_equal(pg.rotated + pg.sealed, 0);
    pm_received_t r;
    assert_int_equal(pm_received_get(f->st, id[1], &r, NULL, &e), PM_OK);
    assert_string_equal(r.irrelevant_why, "NEWREASON-0815 wrong person");
    raw_why(f, id[0], raw, sizeof raw);
    pm_stmt_t *q = NULL;
    assert_int_equal(pm_stmt_prepare(f->st,
                                     "UPDATE jobs_received SET irrelevant_why = ? WHERE id = ?",
                                     &q, &e),
                     PM_OK);
    pm_stmt_bind_text(q, 1, raw);
    pm_stmt_bind_int64(q, 2, id[1]);
    assert_true(pm_stmt_step(q, &e) >= 0);
    pm_stmt_finish(q);
    assert_int_not_equal(pm_received_get(f->st, id[1], &r, NULL, &e), PM_OK);
    pm_store_set_seal(f->st, NULL);
    pm_seal_ring_wipe(&ring);
    pm_seal_key_wipe(&old);
    assert_log_intact(f);
}

static void sql(fixture_t *f, const char *text, int64_t id)
{
    pm_error_t e = {0};
    pm_stmt_t *q = NULL;
    if (pm_stmt_prepare(f->st, text, &q, &e)) fail_msg("prepare: %s", e.msg);
    pm_stmt_bind_int64(q, 1, id);
    if (pm_stmt_step(q, &e) < 0) fail_msg("step: %s", e.msg);
    pm_stmt_finish(q);
}

/* A decision stored but kept out of the log by a crash (between the store's
 * update and the append) gets its R14 entry at the next start, exactly once;
 * one whose entry was written but not yet marked gets none. */
static void test_review_decision_owed_to_log(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    pm_review_request_t rq = {.txn = "Q-7",
                              .partner = "USA",
                              .purpose = "REFUGEE_VETTING",
                              .subject_ref = "P:SYR:N9",
                              .score = 61.0,
                              .action = "refuse the refugee claim",
                              .evidence = "10-print match"};
    int64_t a, b, c;
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW, &a, &e), PM_OK);
    rq.subject_ref = "P:SYR:N10";
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW, &b, &e), PM_OK);
    rq.subject_ref = "P:SYR:N11";
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW, &c, &e), PM_OK);
    /* a: decided normally: nothing owed */
    assert_int_equal(pm_review_decide(&f->ctx, a, 1, "officer.kim", "same person", NOW + 9, &e),
                     PM_OK);
    uint64_t owed = 99;
    assert_int_equal(pm_review_recover(f->st, f->log, "node:CAN", &owed, &e), PM_OK);
    assert_int_equal(owed, 0);
    size_t before = count_log(f, "review", "R14", NULL).n; /* 3 queued + 1 decision */
    assert_int_equal(before, 4);
    /* b: the crash after the store's update, before the append */
    sql(f, "UPDATE jobs_review SET status = 'rejected', officer = 'officer.lee', "
           "decided_at = 1700000100, why = 'another person', logged = 0 WHERE id = ?", b);
    /* c: decided and logged, the crash before the mark */
    assert_int_equal(pm_review_decide(&f->ctx, c, 1, "officer.kim", "same person", NOW + 9, &e),
                     PM_OK);
    sql(f, "UPDATE jobs_review SET logged = 0 WHERE id = ?", c);
    assert_int_equal(pm_review_recover(f->st, f->log, "node:CAN", &owed, &e), PM_OK);
    assert_int_equal(owed, 1); /* b only */
    assert_int_equal(count_log(f, "review", "R14", NULL).n, before + 2);
    assert_int_equal(pm_review_recover(f->st, f->log, "node:CAN", &owed, &e), PM_OK);
    assert_int_equal(owed, 0); /* never twice */
    assert_int_equal(count_log(f, "review", "R14", NULL).n, before + 2);
    assert_log_intact(f);
    pm_review_item_t it;
    assert_int_equal(pm_review_get(f->st, b, &it, &e), PM_OK);
    assert_int_equal(it.status, PM_REVIEW_REJECTED);
    /* an owed item that is still pending is a damaged store, not guessed at */
    int64_t d;
    rq.subject_ref = "P:SYR:N12";
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW, &d, &e), PM_OK);
    sql(f, "UPDATE jobs_review SET logged = 0 WHERE id = ?", d);
    assert_int_equal(pm_review_recover(f->st, f->log, "node:CAN", &owed, &e), PM_ECORRUPT);
    assert_non_null(strstr(e.msg, "pending"));
}

/* An item queued but kept out of the log by a crash (between the insert and
 * the append): a re-send of the same match writes its "queued" entry, or the
 * next start does (saying so); never twice. */
static void test_review_queued_owed_to_log(void **state)
{
    fixture_t *f = *state;
    pm_error_t e = {0};
    assert_int_equal(pm_jobs_migrate(f->st, &e), PM_OK);
    const char *ins = "INSERT INTO jobs_review (txn, partner, purpose, subject_ref, score, action, "
                      "evidence, received_id, created_at, logged) VALUES ('Q-20', 'USA', "
                      "'REFUGEE_VETTING', 'P:SYR:N20', 52.5, 'refuse the claim', 'ev', 0, ?, 2)";
    sql(f, ins, NOW);
    size_t n0 = count_log(f, "review", "R14", NULL).n;
    /* the re-send finds the item and writes the entry it is owed, once */
    pm_review_request_t rq = {.txn = "Q-20",
                              .partner = "USA",
                              .purpose = "REFUGEE_VETTING",
                              .subject_ref = "P:SYR:N20",
                              .score = 52.5,
                              .action = "refuse the claim",
                              .evidence = "ev"};
    int64_t id = 0, again = 0;
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW + 30, &id, &e), PM_OK);
    assert_int_equal(count_log(f, "review", "R14", "Q-20").n, 1);
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW + 60, &again, &e), PM_OK);
    assert_int_equal(again, id);
    assert_int_equal(count_log(f, "review", "R14", "Q-20").n, 1);
    /* a second such item, no re-send: the start writes it, once */
    const char *ins2 = "INSERT INTO jobs_review (txn, partner, purpose, subject_ref, score, action, "
                       "evidence, received_id, created_at, logged) VALUES ('Q-21', 'USA', "
                       "'REFUGEE_VETTING', 'P:SYR:N21', 48.0, 'refuse the claim', 'ev', 0, ?, 2)";
    sql(f, ins2, NOW);
    /* and a normal item whose entry was written but not yet marked */
    rq.txn = "Q-22", rq.subject_ref = "P:SYR:N22";
    int64_t c = 0;
    assert_int_equal(pm_review_enqueue(&f->ctx, &rq, NOW, &c, &e), PM_OK);
    sql(f, "UPDATE jobs_review SET logged = 2 WHERE id = ?", c);
    uint64_t owed = 99;
    assert_int_equal(pm_review_recover(f->st, f->log, "node:CAN", &owed, &e), PM_OK);
    assert_int_equal(owed, 1); /* Q-21 only */
    assert_int_equal(count_log(f, "review", "R14", "Q-21").n, 1);
    assert_int_equal(count_log(f, "review", "R14", "Q-22").n, 1);
    assert_int_equal(pm_review_recover(f->st, f->log, "node:CAN", &owed, &e), PM_OK);
    assert_int_equal(owed, 0);
    assert_int_equal(count_log(f, "review", "R14", NULL).n, n0 + 3);
    assert_log_intact(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_purge_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_batches_name_every_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_crash_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_refuses_bad_context, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irrelevant_destroyed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_onward_transfer_needs_consent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_review_before_adverse_action, setup, teardown),
        cmocka_unit_test_setup_teardown(test_review_decision_owed_to_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_review_queued_owed_to_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_correction_reaches_every_recipient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_received_correction_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subject_access_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_received_keyed_digest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irrelevant_why_sealed, setup, teardown),
    };
    return PM_RUN_TESTS("jobs", tests, NULL, NULL);
}
