/* The modules' own tables through the store's query API, each test on
 * SQLite and on PostgreSQL: the node's officer accounts (add, duplicate
 * refused, replace, check, the console roles' migration step), the
 * gallery's templates (put, duplicate, delete, generation, a paged load of
 * more than one page, a filtered load), the jobs' tables (received data,
 * the review queue, the correction queue, a purge and a destruction run
 * with a recovered tombstone), the node's replay ids and the link tables (a
 * run saved and read back, the review queue, a decision, retention).
 * ~45-70 s on a loaded 2-core machine (4,200 gallery rows on PostgreSQL):
 * ctest-label: heavy */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node_impl.h"
#include "perimeter/audit.h"
#include "perimeter/gallery.h"
#include "perimeter/jobs.h"
#include "perimeter/link.h"
#include "perimeter/node.h"
#include "perimeter/policy.h"
#include "perimeter/store.h"
#include "perimeter/travel.h"

static void test_officers(void **state)
{
    const pm_test_backend_t *t = *state;
    char path[4400];
    pm_test_backend_fresh_db(t, "node_officers", path, sizeof path);
    pm_store_t *st = NULL;
    pm_error_t e;
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_officer_add(st, "ana", "correct horse", PM_ROLE_OFFICER, 0, &e), PM_OK);
    assert_int_equal(pm_officer_add(st, "ana", "another pass", PM_ROLE_ADMIN, 0, &e), PM_EEXISTS);
    assert_non_null(strstr(e.msg, "exists"));
    /* a console role (node step 3 widened the CHECK on both backends) */
    assert_int_equal(pm_officer_add(st, "vic", "vetting pass", PM_ROLE_VETTING, 0, &e), PM_OK);
    pm_officer_role_t role = PM_ROLE_NONE;
    assert_int_equal(pm_officer_check(st, "ana", "correct horse", &role, &e), PM_OK);
    assert_int_equal(role, PM_ROLE_OFFICER);
    assert_int_equal(pm_officer_check(st, "ana", "wrong password", &role, &e), PM_EDENIED);
    assert_int_equal(pm_officer_check(st, "nobody", "correct horse", &role, &e), PM_EDENIED);
    assert_int_equal(pm_officer_check(st, "vic", "vetting pass", &role, &e), PM_OK);
    assert_int_equal(role, PM_ROLE_VETTING);
    /* replace: new password and role */
    assert_int_equal(pm_officer_add(st, "ana", "another pass", PM_ROLE_ADMIN, 1, &e), PM_OK);
    assert_int_equal(pm_officer_check(st, "ana", "correct horse", &role, &e), PM_EDENIED);
    assert_int_equal(pm_officer_check(st, "ana", "another pass", &role, &e), PM_OK);
    assert_int_equal(role, PM_ROLE_ADMIN);
    pm_store_close(st);
    /* a second handle (a reopened store) sees them, migrations not repeated */
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_officer_check(st, "vic", "vetting pass", &role, &e), PM_OK);
    int v = 0;
    assert_int_equal(pm_store_schema_version(st, "node", &v, &e), PM_OK);
    assert_int_equal(v, 3);
    pm_store_close(st);
}

/* The node's feed push state (feed_push) on both backends. */
static void test_feed_state(void **state)
{
    const pm_test_backend_t *t = *state;
    char path[4400];
    pm_test_backend_fresh_db(t, "node_feed", path, sizeof path);
    pm_store_t *st = NULL;
    pm_error_t e;
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    assert_int_equal(pm__node_migrate(st, &e), PM_OK);
    pm__feed_state_t fs;
    assert_int_equal(pm__feed_state_get(st, "USA", &fs, &e), PM_OK);
    assert_int_equal(fs.push_acked, 0);
    assert_int_equal(pm__feed_note_error(st, "USA", "connection refused", &e), PM_OK);
    assert_int_equal(pm__feed_note_error(st, "USA", "timed out", &e), PM_OK);
    assert_int_equal(pm__feed_state_get(st, "USA", &fs, &e), PM_OK);
    assert_int_equal(fs.failures, 2);
    assert_string_equal(fs.last_error, "timed out");
    assert_int_equal(fs.last_ok_at, 0);
    assert_int_equal(pm__feed_set_acked(st, "USA", 40, &e), PM_OK);
    assert_int_equal(pm__feed_set_acked(st, "USA", 25, &e), PM_OK); /* never lowered */
    assert_int_equal(pm__feed_state_get(st, "USA", &fs, &e), PM_OK);
    assert_int_equal(fs.push_acked, 40);
    assert_int_equal(fs.failures, 0);
    assert_string_equal(fs.last_error, "");
    assert_true(fs.last_ok_at > 0);
    /* the CHECK on the partner code is the caller's input: PM_EVALIDATION */
    assert_int_equal(pm__feed_set_acked(st, "TOOLONG", 1, &e), PM_EVALIDATION);
    pm_store_close(st);
}

static int odd(uint64_t subject, void *ctx)
{
    (void)ctx;
    return (int)(subject & 1);
}

/* More than one page of the load (4096 rows a page). */
#define GALLERY_ROWS 4200

static void test_gallery_store(void **state)
{
    const pm_test_backend_t *t = *state;
    char path[4400];
    pm_test_backend_fresh_db(t, "gallery_store", path, sizeof path);
    pm_store_t *st = NULL;
    pm_error_t e;
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_gallery_store_migrate(st, &e), PM_OK);
    pm_fingerprint_t *master = malloc(sizeof *master);
    assert_non_null(master);
    assert_int_equal(pm_store_begin(st, &e), PM_OK);
    for (size_t i = 0; i < GALLERY_ROWS; i++) {
        if (i % 64 == 0) pm_gallery_synth_master(77, i / 64, master);
        master->count = 12 + i % 7; /* small templates: the test is about rows */
        int rc = pm_gallery_store_put(st, 1000 + i / 2, (uint32_t)(i % 2), 2, master, &e);
        if (rc) fail_msg("put %zu: %s", i, e.msg);
    }
    /* a duplicate is PM_EEXISTS and the transaction goes on */
    assert_int_equal(pm_gallery_store_put(st, 1000, 0, 2, master, &e), PM_EEXISTS);
    assert_int_equal(pm_store_commit(st, &e), PM_OK);
    uint64_t gen = 0, gen2 = 0;
    assert_int_equal(pm_gallery_store_generation(st, &gen, &e), PM_OK);
    assert_int_equal(gen, GALLERY_ROWS);
    size_t removed = 0;
    assert_int_equal(pm_gallery_store_delete(st, 1001, 1, &removed, &e), PM_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(pm_gallery_store_delete(st, 1001, -1, &removed, &e), PM_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(pm_gallery_store_delete(st, 1001, -1, &removed, &e), PM_ENOTFOUND);
    assert_int_equal(pm_gallery_store_generation(st, &gen, &e), PM_OK);
    assert_int_equal(gen, GALLERY_ROWS + 2);
    pm_gallery_t *g = NULL;
    assert_int_equal(pm_gallery_new(NULL, &g, &e), PM_OK);
    assert_int_equal(pm_gallery_store_load(st, g, &gen2, &e), PM_OK);
    assert_int_equal(gen2, gen);
    assert_int_equal(pm_gallery_count(g), GALLERY_ROWS - 2);
    pm_gallery_free(g);
    /* only the odd subjects (one shard's part) */
    assert_int_equal(pm_gallery_new(NULL, &g, &e), PM_OK);
    size_t inserted = 0;
    assert_int_equal(pm_gallery_store_load_where(st, g, odd, NULL, &gen2, &inserted, &e), PM_OK);
    assert_int_equal(inserted, GALLERY_ROWS / 2 - 2);
    assert_int_equal(pm_gallery_count(g), inserted);
    pm_gallery_free(g);
    pm_store_close(st);
    free(master);
}

/* ---- the jobs' tables and the replay ids ---- */



#define JNOW 2000000000LL
#define JDAY 86400LL

typedef struct log_count {
    const char *kind, *rule;
    size_t n;
} log_count_t;

static int count_entry(void *ctx, const pm_audit_entry_t *e)
{
    log_count_t *c = ctx;
    if (strcmp(e->kind, c->kind) == 0 && (!c->rule || strcmp(e->rule, c->rule) == 0)) c->n++;
    return 0;
}

static size_t log_count(pm_audit_log_t *log, const char *kind, const char *rule)
{
    log_count_t c = {kind, rule, 0};
    pm_error_t e;
    assert_int_equal(pm_audit_sync(log, &e), PM_OK);
    if (pm_audit_read(pm_audit_path(log), count_entry, &c, &e)) fail_msg("log: %s", e.msg);
    return c.n;
}

static int64_t count_rows(pm_store_t *st, const char *sql)
{
    int64_t n = -1;
    pm_error_t e;
    if (pm_store_query_int64(st, sql, NULL, 0, &n, &e)) fail_msg("%s: %s", sql, e.msg);
    return n;
}

static void test_jobs_tables(void **state)
{
    const pm_test_backend_t *t = *state;
    char path[4400], logpath[4400];
    pm_test_backend_fresh_db(t, "jobs_tables", path, sizeof path);
    snprintf(logpath, sizeof logpath, "%s/jobs_%s.log", pm_test_backends_dir(), t->name);
    unlink(logpath);
    pm_error_t e;
    pm_agreement_t agr;
    char jobs_agreement[2048];
    pm_test_jobs_agreement("T-PGJOBS", jobs_agreement, sizeof jobs_agreement);
    if (pm_agreement_parse(jobs_agreement, strlen(jobs_agreement), &agr, &e))
        fail_msg("agreement: %s", e.msg);
    pm_store_t *st = NULL;
    pm_audit_log_t *log = NULL;
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_audit_open(logpath, 1, &log, &e), PM_OK);
    pm_jobs_ctx_t ctx = {st, log, &agr, "CAN", "test-job"};

    /* received data: bytes kept as they are (a NUL inside), its hash, R7 marking */
    static const unsigned char pay[5] = {'a', 0, 'b', 0xff, '\n'};
    int64_t old_id = 0, new_id = 0;
    assert_int_equal(pm_received_store(&ctx, "USA", PM_RC_MATCH_RESULT, "REFUGEE_VETTING", "T-1",
                                       "subj-1", pay, sizeof pay, JNOW - 2000 * JDAY, &old_id, &e),
                     PM_OK);
    assert_int_equal(pm_received_store(&ctx, "USA", PM_RC_RECEIVED_BIOGRAPHIC, "ENTRY_EXIT", "T-2",
                                       "subj-2", "x", 1, JNOW - JDAY, &new_id, &e),
                     PM_OK);
    assert_true(new_id > old_id && old_id > 0);
    assert_int_equal(pm_received_store(&ctx, "GBR", PM_RC_MATCH_RESULT, "ENTRY_EXIT", "T-3", "s",
                                       "x", 1, JNOW, NULL, &e),
                     PM_EINVAL);
    pm_received_t r;
    pm_buf_t b;
    pm_buf_init(&b, 0);
    assert_int_equal(pm_received_get(st, old_id, &r, &b, &e), PM_OK);
    assert_int_equal(b.len, sizeof pay);
    assert_memory_equal(b.data, pay, sizeof pay);
    assert_int_equal(r.payload_len, sizeof pay);
    assert_int_equal(strlen(r.sha256), 64);
    assert_string_equal(r.origin, "USA");
    pm_buf_free(&b);
    assert_int_equal(pm_received_get(st, 999999, &r, NULL, &e), PM_ENOTFOUND);
    assert_int_equal(
        pm_received_mark_irrelevant(&ctx, new_id, "ana", "not our subject", JNOW - 40 * JDAY, &e),
        PM_OK);
    assert_int_equal(pm_received_mark_irrelevant(&ctx, new_id, "ana", "again", JNOW, &e),
                     PM_ESTATE);
    pm_received_t *list = NULL;
    size_t n = 0;
    assert_int_equal(pm_received_list(st, 1, &list, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, new_id);
    assert_string_equal(list[0].irrelevant_by, "ana");
    free(list);

    /* the review queue: idempotent enqueue, one decision, R14 */
    pm_review_request_t rq = {"Q-1", "USA",          "REFUGEE_VETTING", "subj-1",
                              57.25, "refuse entry", "finger 2",        old_id};
    int64_t rid = 0, rid2 = 0;
    assert_int_equal(pm_review_enqueue(&ctx, &rq, JNOW, &rid, &e), PM_OK);
    assert_int_equal(pm_review_enqueue(&ctx, &rq, JNOW + 5, &rid2, &e), PM_OK);
    assert_true(rid > 0);
    assert_int_equal(rid2, rid);
    pm_review_item_t *items = NULL;
    assert_int_equal(pm_review_list(st, PM_REVIEW_PENDING, &items, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_true(items[0].score == 57.25);
    assert_int_equal(items[0].received_id, old_id);
    free(items);
    assert_int_equal(pm_review_adverse_action(&ctx, rid, JNOW, NULL, &e), PM_EDENIED);
    assert_int_equal(pm_review_decide(&ctx, rid, 1, "bob", "same person", JNOW + 10, &e), PM_OK);
    assert_int_equal(pm_review_decide(&ctx, rid, 0, "eve", "no", JNOW + 11, &e), PM_ESTATE);
    pm_review_item_t it;
    assert_int_equal(pm_review_get(st, rid, &it, &e), PM_OK);
    assert_int_equal(it.status, PM_REVIEW_CONFIRMED);
    assert_string_equal(it.officer, "bob");
    assert_int_equal(it.decided_at, JNOW + 10);
    assert_int_equal(pm_review_adverse_action(&ctx, rid, JNOW, NULL, &e), PM_OK);
    assert_int_equal(log_count(log, "review", "R14"), 2);

    /* R8: recipients through the node's feed_push (a catalog query per
     * backend), then the queue: pending, sent, acknowledged, status */
    assert_int_equal(pm__node_migrate(st, &e), PM_OK);
    pm_crossing_t *c = calloc(1, sizeof *c);
    assert_non_null(c);
    pm_crossing_sample(7, 1, "CAN", c);
    c->direction = PM_DIRECTION_ENTRY;
    int64_t cid = 0;
    if (pm_store_put_crossing(st, c, NULL, &e)) fail_msg("put: %s", e.msg);
    assert_int_equal(pm_store_max_store_id(st, &cid, &e), PM_OK);
    c->store_id = cid;
    assert_int_equal(pm__feed_set_acked(st, "USA", cid, &e), PM_OK);
    char to[4][4];
    assert_int_equal(pm_correction_recipients(&ctx, c, to, 4, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(to[0], "USA");
    free(c);
    /* the queue row as pm_correction_crossing writes it (its crossing update
     * is the store's, ported to PostgreSQL separately) */
    assert_int_equal(pm_store_exec(st,
                                   "INSERT INTO jobs_correction (record, store_id, partner, txn, "
                                   "payload, reason, created_at) VALUES ('CAN:R1', 1, 'USA', "
                                   "'correction-1', '{\"x\":1}', 'typo', 1999990000)",
                                   &e),
                     PM_OK);
    pm_correction_t *pend = NULL;
    assert_int_equal(pm_corrections_pending(st, "USA", &pend, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    int64_t corr = pend[0].id;
    free(pend);
    pm_decision_t d;
    assert_int_equal(pm_correction_status(st, "CAN:R1", &d, &e), PM_OK);
    assert_false(d.allow);
    assert_int_equal(pm_correction_sent(&ctx, corr, JNOW, &e), PM_OK);
    assert_int_equal(pm_correction_sent(&ctx, corr + 100, JNOW, &e), PM_ENOTFOUND);
    assert_int_equal(pm_correction_acknowledged(&ctx, corr, "USA", "ack-9", JNOW + 1, &e), PM_OK);
    pm_correction_t cr;
    pm_buf_init(&b, 0);
    assert_int_equal(pm_correction_get(st, corr, &cr, &b, &e), PM_OK);
    assert_int_equal(cr.attempts, 1);
    assert_int_equal(cr.acked_at, JNOW + 1);
    assert_string_equal(cr.ack_ref, "ack-9");
    assert_string_equal((const char *)b.data, "{\"x\":1}");
    pm_buf_free(&b);
    assert_int_equal(pm_correction_status(st, "CAN:R1", &d, &e), PM_OK);
    assert_true(d.allow);
    assert_int_equal(pm_correction_status(st, "CAN:R2", &d, &e), PM_ENOTFOUND);

    /* a tombstone left by an interrupted run, then R9 and R7 runs */
    assert_int_equal(pm_store_exec(st,
                                   "INSERT INTO jobs_tombstone (txn, rule, detail, records, "
                                   "created_at) VALUES ('purge-crashed-1', 'R9', 'rows 1', "
                                   "'[\"CAN:R9\"]', 1999999000)",
                                   &e),
                     PM_OK);
    pm_purge_result_t pr;
    if (pm_jobs_purge(&ctx, JNOW, 0, &pr, &e)) fail_msg("purge: %s", e.msg);
    assert_int_equal(pr.recovered, 1);
    assert_int_equal(pr.purged[PM_RC_MATCH_RESULT], 1); /* 2000 days > 1826 */
    assert_int_equal(pr.purged[PM_RC_RECEIVED_BIOGRAPHIC], 0);
    assert_int_equal(pr.tombstones, 2);
    assert_int_equal(pm_received_get(st, old_id, &r, NULL, &e), PM_ENOTFOUND);
    pm_destroy_result_t dr;
    if (pm_jobs_destroy_irrelevant(&ctx, JNOW, &dr, &e)) fail_msg("destroy: %s", e.msg);
    assert_int_equal(dr.destroyed, 1);
    assert_int_equal(dr.overdue, 1); /* marked 40 days ago, deadline 30 */
    assert_int_equal(count_rows(st, "SELECT count(*) FROM jobs_received"), 0);
    assert_int_equal(count_rows(st, "SELECT count(*) FROM jobs_tombstone"), 0);
    assert_int_equal(log_count(log, "purge", "R9"), 2);
    assert_int_equal(log_count(log, "purge", "R7"), 1);

    /* replay ids: claimed once within the window, old ones forgotten */
    assert_int_equal(pm__replay_claim(st, "USA", "RV", "txn-1", JNOW, 100, &e), PM_OK);
    assert_int_equal(pm__replay_claim(st, "USA", "RV", "txn-1", JNOW + 50, 100, &e), PM_EEXISTS);
    assert_int_equal(pm__replay_claim(st, "MEX", "RV", "txn-1", JNOW + 50, 100, &e), PM_OK);
    assert_int_equal(pm__replay_claim(st, "USA", "RV", "txn-1", JNOW + 101, 100, &e), PM_OK);
    /* USA's new claim and MEX's, still in its window */
    assert_int_equal(count_rows(st, "SELECT count(*) FROM partner_txn"), 2);

    /* supersedes: a re-ask of a lost answer (USA's txn-1 under RV at JNOW + 101) */
    const int64_t tt = JNOW + 110;
    assert_int_equal(pm__replay_supersede(st, "USA", "RV", "txn-2", "nope", tt, 100, &e),
                     PM_ENOTFOUND); /* an id never seen */
    assert_int_equal(pm__replay_supersede(st, "CHN", "RV", "txn-2", "txn-1", tt, 100, &e),
                     PM_ENOTFOUND); /* another partner's id */
    assert_int_equal(pm__replay_supersede(st, "USA", "OTHER", "txn-2", "txn-1", tt, 100, &e),
                     PM_EDENIED); /* under another purpose */
    assert_int_equal(pm__replay_supersede(st, "USA", "RV", "txn-1", "txn-1", tt, 100, &e),
                     PM_EINVAL); /* itself */
    assert_int_equal(pm__replay_supersede(st, "USA", "RV", "txn-1x", "txn-1", tt, 100, &e), PM_OK);
    assert_int_equal(pm__replay_supersede(st, "USA", "RV", "txn-1y", "txn-1", tt, 100, &e),
                     PM_ESTATE); /* twice */
    assert_int_equal(pm__replay_supersede(st, "USA", "RV", "txn-1x", "txn-1", tt, 100, &e),
                     PM_EEXISTS); /* the same re-ask again: a replay of it (its answer lost) */
    assert_int_equal(pm__replay_claim(st, "USA", "RV", "txn-1x", tt, 100, &e),
                     PM_EEXISTS); /* the new id is claimed as any */
    /* a chain (issue 13 b): the re-ask's own answer lost too, re-asked
     * again; each id once, same partner and purpose, no depth limit */
    assert_int_equal(pm__replay_supersede(st, "USA", "RV", "txn-1z", "txn-1x", tt, 100, &e),
                     PM_OK);
    assert_int_equal(pm__replay_supersede(st, "USA", "RV", "txn-1q", "txn-1x", tt, 100, &e),
                     PM_ESTATE); /* the link is used once */
    assert_int_equal(pm__replay_supersede(st, "USA", "OTHER", "txn-1q", "txn-1z", tt, 100, &e),
                     PM_EDENIED); /* the purpose carries down the chain */
    assert_int_equal(pm__replay_supersede(st, "MEX", "RV", "txn-1q", "txn-1z", tt, 100, &e),
                     PM_ENOTFOUND); /* so does the partner */
    assert_int_equal(pm__replay_supersede(st, "USA", "RV", "txn-1w", "txn-1z", tt, 100, &e),
                     PM_OK);
    /* a re-ask whose own id is used already leaves the lost one re-askable */
    assert_int_equal(pm__replay_claim(st, "MEX", "RV", "m-2", tt, 100, &e), PM_OK);
    assert_int_equal(pm__replay_supersede(st, "MEX", "RV", "m-2", "txn-1", tt, 100, &e),
                     PM_EEXISTS);
    assert_int_equal(pm__replay_supersede(st, "MEX", "RV", "m-3", "txn-1", tt, 100, &e), PM_OK);
    /* out of the window: forgotten, so unknown */
    assert_int_equal(pm__replay_claim(st, "USA", "RV", "txn-9", tt, 100, &e), PM_OK);
    assert_int_equal(pm__replay_supersede(st, "USA", "RV", "txn-10", "txn-9", tt + 101, 100, &e),
                     PM_ENOTFOUND);

    pm_audit_verify_result_t vr;
    assert_int_equal(pm_audit_sync(log, &e), PM_OK);
    if (pm_audit_verify(logpath, NULL, 0, NULL, &vr, &e)) fail_msg("log: %s", e.msg);
    pm_audit_close(log, NULL);
    pm_store_close(st);
}

/* A link run over every stored crossing but `skip` (0: none), saved. */
static void link_but(pm_store_t *st, int64_t skip)
{
    pm_error_t e;
    pm_linker_t *lk = NULL;
    assert_int_equal(pm_linker_new(NULL, &lk, &e), PM_OK);
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_STORE_ID;
    pm_crossing_iter_t *it = NULL;
    assert_int_equal(pm_store_crossings(st, &f, &it, &e), PM_OK);
    pm_crossing_t c;
    while (pm_crossing_iter_next(it, &c, &e) == 1)
        if (c.store_id != skip) assert_int_equal(pm_linker_add(lk, &c, NULL, &e), PM_OK);
    pm_crossing_iter_close(it);
    int rc = pm_link_store_save(st, lk, &e);
    if (rc) fail_msg("link save: %s", e.msg);
    pm_linker_free(lk);
}

static void link_all(pm_store_t *st)
{
    link_but(st, 0);
}

static uint32_t traveller_of(pm_store_t *st, int64_t id)
{
    pm_error_t e;
    pm_link_map_t *map = NULL;
    uint32_t trav = 0;
    assert_int_equal(pm_link_map_load(st, &map, &e), PM_OK);
    assert_int_equal(pm_link_map_traveller(map, id, &trav), PM_OK);
    pm_link_map_free(map);
    return trav;
}

/* The link module's tables: a small run saved and read back (the map, the
 * links with their evidence, the review queue), a review decision applied
 * and kept by the next run, and a crossing deleted by retention taking its
 * link with it (ON DELETE CASCADE). */
static void test_link_tables(void **state)
{
    const pm_test_backend_t *t = *state;
    char path[4400];
    pm_test_backend_fresh_db(t, "link_tables", path, sizeof path);
    pm_store_t *st = NULL;
    pm_error_t e;
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    int64_t r1 = pm_test_put_crossing(st, "R1", "2026-01-01T10:00:00Z", "SMITH", "JOHN",
                                      "1980-05-06", "CAN", "P1000001");
    int64_t r2 = pm_test_put_crossing(st, "R2", "2026-01-05T10:00:00Z", "SMITH", "JOHN",
                                      "1980-05-06", "CAN", "P1000001");
    int64_t r3 = pm_test_put_crossing(st, "R3", "2026-02-01T10:00:00Z", "JOHN", "SMITH",
                                      "1980-05-06", "CAN", "PI000OO1");
    int64_t r4 = pm_test_put_crossing(st, "R4", "2026-03-01T10:00:00Z", "SMYTHE", "JON",
                                      "1980-06-05", "GBR", "GB7777777");
    int64_t r5 = pm_test_put_crossing(st, "R5", "2026-04-01T10:00:00Z", "SMITH", "JOHN",
                                      "1980-05-06", "GBR", "GB7777777");
    /* the review pair: same name, a date in the same year, another passport */
    int64_t i1 = pm_test_put_crossing(st, "I1", "2026-01-02T10:00:00Z", "IVANOV", "PETR",
                                      "1975-01-01", "RUS", "700000001");
    int64_t i2 = pm_test_put_crossing(st, "I2", "2026-01-03T10:00:00Z", "IVANOV", "PETR",
                                      "1975-09-14", "RUS", "711111112");
    link_all(st);
    link_all(st); /* a second run replaces links and evidence: each listed once */
    pm_link_map_t *map = NULL;
    assert_int_equal(pm_link_map_load(st, &map, &e), PM_OK);
    assert_int_equal(pm_link_map_count(map), 7);
    pm_link_map_free(map);
    uint32_t trav = traveller_of(st, r1);
    assert_int_equal(traveller_of(st, r2), trav);
    assert_int_equal(traveller_of(st, r3), trav);
    assert_int_equal(traveller_of(st, r5), trav);
    assert_int_not_equal(traveller_of(st, i1), traveller_of(st, i2));
    /* the links with their evidence */
    pm_link_model_t m;
    pm_link_model_default(&m);
    pm_link_evidence_row_t *rows = NULL;
    size_t n = 0;
    assert_int_equal(pm_link_store_links(st, trav, &rows, &n, &e), PM_OK);
    int seen_link3 = 0, seen_merge5 = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(rows[i].score >= m.link_threshold);
        assert_true(rows[i].threshold == m.link_threshold); /* the double, bit for bit */
        assert_true(rows[i].run > 0);
        assert_int_equal(strlen(rows[i].at), 20);
        assert_int_equal(rows[i].fields[0], '[');
        assert_non_null(strstr(rows[i].fields, "\"field\":\"document\""));
        if (rows[i].crossing_id == r3) {
            seen_link3++;
            assert_string_equal(rows[i].how, "link");
            assert_int_equal(rows[i].candidate_id, r1);
            assert_non_null(strstr(rows[i].rule, "link threshold"));
        }
        seen_merge5 += rows[i].crossing_id == r5 && strcmp(rows[i].how, "merge") == 0;
    }
    assert_int_equal(seen_link3, 1);
    assert_int_equal(seen_merge5, 1);
    free(rows);
    /* the review queue */
    pm_link_review_row_t *rv = NULL;
    assert_int_equal(pm_link_store_reviews(st, "open", 0, &rv, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rv[0].crossing_id, i2);
    assert_int_equal(rv[0].candidate_id, i1);
    assert_true(rv[0].score >= m.review_threshold && rv[0].score < m.link_threshold);
    assert_string_equal(rv[0].status, "open");
    assert_non_null(strstr(rv[0].evidence, "dob="));
    int64_t review = rv[0].id;
    free(rv);
    assert_int_equal(pm_link_store_reviews(st, "accepted", 0, &rv, &n, &e), PM_OK);
    assert_int_equal(n, 0);
    free(rv);
    assert_int_equal(pm_link_store_decide(st, review + 1000, 1, &e), PM_ENOTFOUND);
    assert_int_equal(pm_link_store_decide(st, review, 1, &e), PM_OK);
    assert_int_equal(pm_link_store_decide(st, review, 0, &e), PM_ESTATE);
    uint32_t ivanov = traveller_of(st, i1);
    assert_int_equal(traveller_of(st, i2), ivanov);
    /* the accepted pair is listed with the traveller's links, and kept by a rerun */
    assert_int_equal(pm_link_store_links(st, ivanov, &rows, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].how, "review");
    assert_int_equal(strlen(rows[0].at), 20);
    free(rows);
    link_all(st);
    assert_int_equal(traveller_of(st, i2), traveller_of(st, i1));
    assert_int_equal(pm_link_store_reviews(st, NULL, 0, &rv, &n, &e), PM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rv[0].status, "accepted");
    free(rv);
    /* a run without R4 saves no row for it (only changed rows are written);
     * the next full run brings it back under the same traveller */
    uint32_t t4 = traveller_of(st, r4);
    link_but(st, r4);
    assert_int_equal(pm_link_map_load(st, &map, &e), PM_OK);
    assert_int_equal(pm_link_map_count(map), 6);
    uint32_t none = 0;
    assert_int_equal(pm_link_map_traveller(map, r4, &none), PM_ENOTFOUND);
    pm_link_map_free(map);
    link_all(st);
    assert_int_equal(traveller_of(st, r4), t4);
    assert_int_equal(traveller_of(st, i2), traveller_of(st, i1));
    /* retention: a deleted crossing takes its link with it */
    uint64_t deleted = 0;
    assert_int_equal(pm_store_delete_crossings(st, &r2, 1, &deleted, &e), PM_OK);
    assert_int_equal(deleted, 1);
    assert_int_equal(pm_link_map_load(st, &map, &e), PM_OK);
    assert_int_equal(pm_link_map_count(map), 6);
    assert_int_equal(pm_link_map_traveller(map, r2, &none), PM_ENOTFOUND);
    pm_link_map_free(map);
    pm_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PM_TEST_BOTH(test_officers, "officers"),
        PM_TEST_BOTH(test_feed_state, "feed_state"),
        PM_TEST_BOTH(test_gallery_store, "gallery_store"),
        PM_TEST_BOTH(test_jobs_tables, "jobs_tables"),
        PM_TEST_BOTH(test_link_tables, "link_tables"),
    };
    return PM_RUN_TESTS("store_modules", tests, pm_test_backends_setup, pm_test_backends_teardown);
}
