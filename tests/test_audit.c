/* The disclosure log: chain, durability on reopen, signed checkpoints and
 * tamper detection (each tamper named by entry), threads sharing one handle.
 * ctest-label: threads */
#include "testutil.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "perimeter/audit.h"
#include "perimeter/core.h"

#define N_ENTRIES 8

static char *dir;
static char path[4096], cppath[4096];
static unsigned char pk[32], sk[64];
static pm_audit_index_t *warm; /* indexed in setup, before any tamper */

static void add(pm_audit_log_t *log, int i)
{
    static const char *const kinds[] = {"query", "disclosure", "refusal", "probe_destroyed"};
    const char *fields[] = {"surname", "date_of_birth"};
    char rec[32], txn[32], probe[32];
    snprintf(rec, sizeof rec, "rec-%d", i);
    snprintf(txn, sizeof txn, "txn-%d", i);
    snprintf(probe, sizeof probe, "probe bytes %d", i);
    const char *recs[] = {rec};
    unsigned char ph[32];
    pm_audit_probe_hash(probe, strlen(probe), ph);
    const char *kind = kinds[i % 4];
    pm_audit_event_t ev = {.time = 1800000000 + i,
                           .kind = kind,
                           .actor = "officer-17",
                           .partner = "USA",
                           .purpose = "REFUGEE_VETTING",
                           .rule = strcmp(kind, "refusal") == 0 ? "R2" : "agreement 4.1",
                           .fields = fields,
                           .n_fields = strcmp(kind, "disclosure") == 0 ? 2 : 0,
                           .record_ids = recs,
                           .n_record_ids = 1,
                           .txn = txn,
                           .probe_sha256 = ph};
    uint64_t seq = 0;
    pm_error_t e = {0};
    if (pm_audit_append(log, &ev, &seq, &e)) fail_msg("append: %s", e.msg);
    assert_int_equal(seq, (uint64_t)i);
}

/* A fresh log of N_ENTRIES entries with a signed checkpoint after 4 and after all. */
static int setup(void **st)
{
    (void)st;
    dir = pm_test_tmpdir();
    snprintf(path, sizeof path, "%s/audit.log", dir);
    snprintf(cppath, sizeof cppath, "%s/partner.cp", dir);
    remove(path);
    remove(cppath);
    pm_audit_keypair(pk, sk);
    pm_audit_log_t *log;
    pm_error_t e = {0};
    if (pm_audit_open(path, 3, &log, &e)) fail_msg("%s", e.msg);
    pm_audit_checkpoint_t cp;
    for (int i = 1; i <= N_ENTRIES; i++) {
        add(log, i);
        if (i == 4 || i == N_ENTRIES) {
            assert_int_equal(pm_audit_checkpoint(log, sk, 1800000100 + i, &cp, &e), PM_OK);
            assert_int_equal(pm_audit_checkpoint_store(cppath, &cp, pk, &e), PM_OK);
        }
    }
    assert_int_equal(pm_audit_close(log, &e), PM_OK);
    /* an old modification time: any later write gives the file another */
    struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
    pm_audit_verify_result_t r;
    assert_int_equal(pm_audit_index_new(path, &warm, &e), PM_OK);
    assert_int_equal(pm_audit_index_update(warm, NULL, 0, NULL, &r, &e), PM_OK);
    assert_int_equal(r.entries, N_ENTRIES);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    pm_audit_index_free(warm);
    warm = NULL;
    pm_test_rmdir(dir);
    free(dir);
    return 0;
}

static char *slurp(size_t *len)
{
    uint8_t *d;
    pm_error_t e;
    if (pm_file_read(path, 1 << 24, &d, len, &e)) fail_msg("%s", e.msg);
    return (char *)d;
}

static void spit(const char *d, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, len, f), len);
    fclose(f);
}

/* Start offset of line i (1-based) and its length with the newline. */
static size_t line_at(const char *d, size_t len, int i, size_t *out_n)
{
    size_t pos = 0, end;
    for (int k = 1;; k++) {
        end = pos;
        while (end < len && d[end] != '\n')
            end++;
        assert_true(end < len);
        if (k == i) break;
        pos = end + 1;
    }
    *out_n = end + 1 - pos;
    return pos;
}

/* Verifies with the stored checkpoints (or none) and expects entry bad_seq named. */
static void expect_bad(int with_cps, uint64_t bad_seq, const char *want)
{
    pm_audit_checkpoint_t *cps = NULL;
    size_t n = 0;
    pm_error_t e = {0};
    if (with_cps) assert_int_equal(pm_audit_checkpoints_load(cppath, &cps, &n, &e), PM_OK);
    pm_audit_verify_result_t r;
    int rc = pm_audit_verify(path, cps, n, pk, &r, &e);
    /* an index gives the same finding: one made now, and the one made before
     * the tamper (it notices the file changed and verifies it again) */
    pm_audit_index_t *fresh = NULL;
    assert_int_equal(pm_audit_index_new(path, &fresh, &e), PM_OK);
    for (int k = 0; k < 2; k++) {
        pm_audit_verify_result_t ri;
        int rci = pm_audit_index_update(k ? warm : fresh, cps, n, pk, &ri, &e);
        if (rci != rc || ri.bad_seq != r.bad_seq || strcmp(ri.what, r.what) != 0 ||
            ri.entries != r.entries || ri.checkpoints_matched != r.checkpoints_matched)
            fail_msg("%s index: rc %d entry %llu '%s', verify: rc %d entry %llu '%s'",
                     k ? "warm" : "fresh", rci, (unsigned long long)ri.bad_seq, ri.what, rc,
                     (unsigned long long)r.bad_seq, r.what);
    }
    pm_audit_index_free(fresh);
    free(cps);
    if (rc != PM_ECORRUPT) fail_msg("tamper not detected (rc %d, %s)", rc, r.what);
    if (r.bad_seq != bad_seq)
        fail_msg("named entry %llu, expected %llu: %s", (unsigned long long)r.bad_seq,
                 (unsigned long long)bad_seq, r.what);
    if (!strstr(r.what, want)) fail_msg("finding '%s' lacks '%s'", r.what, want);
}

static void test_intact_and_reopen(void **st)
{
    (void)st;
    pm_audit_checkpoint_t *cps;
    size_t n;
    pm_error_t e = {0};
    assert_int_equal(pm_audit_checkpoints_load(cppath, &cps, &n, &e), PM_OK);
    assert_int_equal(n, 2);
    pm_audit_verify_result_t r;
    if (pm_audit_verify(path, cps, n, pk, &r, &e)) fail_msg("%s", e.msg);
    assert_int_equal(r.entries, N_ENTRIES);
    assert_int_equal(r.checkpoints_matched, 2);
    /* A checkpoint from another key is refused. */
    unsigned char pk2[32], sk2[64];
    pm_audit_keypair(pk2, sk2);
    assert_int_equal(pm_audit_verify(path, cps, n, pk2, &r, &e), PM_EDENIED);
    cps[0].count++; /* signature no longer matches */
    assert_int_equal(pm_audit_verify(path, cps, n, NULL, &r, &e), PM_EDENIED);
    free(cps);
    /* Reopen continues the chain; the probe itself never appears in the file. */
    pm_audit_log_t *log;
    assert_int_equal(pm_audit_open(path, 1, &log, &e), PM_OK);
    add(log, N_ENTRIES + 1);
    pm_audit_close(log, &e);
    assert_int_equal(pm_audit_verify(path, NULL, 0, NULL, &r, &e), PM_OK);
    assert_int_equal(r.entries, N_ENTRIES + 1);
    size_t len;
    char *d = slurp(&len);
    assert_null(memmem(d, len, "probe bytes", 11));
    free(d);
}

/* A checkpoint older than the last one stored (rollback) or with another
 * head for the same count (fork) is refused, nothing written; the same one
 * again and a newer one are stored. */
static void test_checkpoint_rollback_fork(void **st)
{
    (void)st;
    pm_audit_checkpoint_t *cps;
    size_t n;
    pm_error_t e = {0};
    assert_int_equal(pm_audit_checkpoints_load(cppath, &cps, &n, &e), PM_OK);
    assert_int_equal(n, 2);
    char cp2[4200];
    snprintf(cp2, sizeof cp2, "%s/rollback.cp", dir);
    assert_int_equal(pm_audit_checkpoint_store(cp2, &cps[1], pk, &e), PM_OK);
    assert_int_equal(pm_audit_checkpoint_store(cp2, &cps[0], pk, &e), PM_ESTATE);
    assert_non_null(strstr(e.msg, "rollback"));
    assert_int_equal(pm_audit_checkpoint_store(cp2, &cps[1], pk, &e), PM_OK);
    /* a fork: a log of the same length whose last entry differs, signed by the same key */
    char fork_path[4200];
    snprintf(fork_path, sizeof fork_path, "%s/fork.log", dir);
    pm_audit_log_t *log;
    assert_int_equal(pm_audit_open(fork_path, 1, &log, &e), PM_OK);
    for (int i = 1; i < N_ENTRIES; i++) add(log, i);
    pm_audit_event_t ev = {.time = 1800000999, .kind = "query", .actor = "officer-99",
                           .partner = "USA", .purpose = "REFUGEE_VETTING", .rule = "agreement 4.1",
                           .txn = "txn-other"};
    uint64_t seq = 0;
    assert_int_equal(pm_audit_append(log, &ev, &seq, &e), PM_OK);
    assert_int_equal(seq, N_ENTRIES);
    pm_audit_checkpoint_t fk, newer;
    assert_int_equal(pm_audit_checkpoint(log, sk, 1800001000, &fk, &e), PM_OK);
    assert_int_equal(fk.count, cps[1].count);
    assert_int_equal(pm_audit_checkpoint_store(cp2, &fk, pk, &e), PM_ESTATE);
    assert_non_null(strstr(e.msg, "fork"));
    add(log, N_ENTRIES + 1);
    assert_int_equal(pm_audit_checkpoint(log, sk, 1800001001, &newer, &e), PM_OK);
    assert_int_equal(pm_audit_checkpoint_store(cp2, &newer, pk, &e), PM_OK);
    pm_audit_close(log, &e);
    pm_audit_checkpoint_t *got;
    size_t ng;
    assert_int_equal(pm_audit_checkpoints_load(cp2, &got, &ng, &e), PM_OK);
    assert_int_equal(ng, 3); /* cps[1] twice, then the newer one: nothing refused was written */
    assert_int_equal(got[2].count, N_ENTRIES + 1);
    free(got);
    free(cps);
}

static void test_one_byte_changed(void **st)
{
    (void)st;
    size_t len, n;
    char *d = slurp(&len);
    size_t off = line_at(d, len, 5, &n);
    char *p = memmem(d + off, n, "USA", 3);
    assert_non_null(p);
    p[0] = 'X'; /* partner USA -> XSA in entry 5 */
    spit(d, len);
    free(d);
    expect_bad(0, 5, "entry 5: altered");
    expect_bad(1, 5, "entry 5: altered");
}

static void test_entry_deleted(void **st)
{
    (void)st;
    size_t len, n;
    char *d = slurp(&len);
    size_t off = line_at(d, len, 3, &n);
    memmove(d + off, d + off + n, len - off - n);
    spit(d, len - n);
    free(d);
    expect_bad(1, 3, "entry 3: removed or out of order");
}

static void test_entries_swapped(void **st)
{
    (void)st;
    size_t len, n6, n7;
    char *d = slurp(&len);
    size_t o6 = line_at(d, len, 6, &n6);
    line_at(d, len, 7, &n7);
    char *tmp = malloc(n6 + n7);
    memcpy(tmp, d + o6 + n6, n7);
    memcpy(tmp + n7, d + o6, n6);
    memcpy(d + o6, tmp, n6 + n7);
    free(tmp);
    spit(d, len);
    free(d);
    expect_bad(1, 6, "entry 6: removed or out of order (its position holds entry 7)");
}

static void test_truncated(void **st)
{
    (void)st;
    size_t len, n;
    char *d = slurp(&len);
    size_t off = line_at(d, len, 7, &n);
    spit(d, off); /* whole entries 7 and 8 gone: the chain alone cannot tell */
    pm_audit_verify_result_t r;
    pm_error_t e;
    assert_int_equal(pm_audit_verify(path, NULL, 0, NULL, &r, &e), PM_OK);
    expect_bad(1, 7, "log truncated");
    spit(d, off + 10); /* cut inside entry 7 */
    expect_bad(0, 7, "entry 7: unfinished");
    /* Opening cuts the unacknowledged tail and goes on from entry 6. */
    pm_audit_log_t *log;
    assert_int_equal(pm_audit_open(path, 1, &log, &e), PM_OK);
    uint64_t count;
    pm_audit_head(log, &count, NULL);
    assert_int_equal(count, 6);
    pm_audit_close(log, &e);
    free(d);
}

static void test_rehashed_forgery(void **st)
{
    (void)st;
    /* The forger rewrites entry 6 (drops a disclosure's record id) and
     * re-hashes the chain from there: internally consistent. */
    size_t len, n;
    char *d = slurp(&len);
    size_t off = line_at(d, len, 6, &n);
    spit(d, off); /* keep entries 1..5 */
    free(d);
    pm_audit_log_t *log;
    pm_error_t e = {0};
    assert_int_equal(pm_audit_open(path, 1, &log, &e), PM_OK);
    for (int i = 6; i <= N_ENTRIES; i++) {
        pm_audit_event_t ev = {.time = 1800000000 + i,
                               .kind = "query",
                               .partner = "USA",
                               .purpose = "REFUGEE_VETTING",
                               .rule = "agreement 4.1",
                               .txn = "forged"};
        assert_int_equal(pm_audit_append(log, &ev, NULL, &e), PM_OK);
    }
    pm_audit_close(log, &e);
    pm_audit_verify_result_t r;
    assert_int_equal(pm_audit_verify(path, NULL, 0, NULL, &r, &e), PM_OK); /* chain alone: fooled */
    expect_bad(1, 5, "differ from the signed checkpoint at count 8");
}

typedef struct {
    uint64_t seq[16];
    int n;
} seqs_t;

static int note_seq(void *ctx, const pm_audit_entry_t *en)
{
    seqs_t *s = ctx;
    if (s->n < 16) s->seq[s->n++] = en->seq;
    return 0;
}

/* The index: extended as the log grows (checkpoints matched without a walk),
 * filtered pages newest first, each entry read by its offset and re-hashed:
 * one changed in place while the log also grew is refused, and the next
 * update verifies everything and names it. */
static void test_index(void **st)
{
    (void)st;
    pm_error_t e = {0};
    pm_audit_checkpoint_t *cps = NULL;
    size_t ncps = 0;
    assert_int_equal(pm_audit_checkpoints_load(cppath, &cps, &ncps, &e), PM_OK);
    pm_audit_verify_result_t r;
    assert_int_equal(pm_audit_index_update(warm, cps, ncps, pk, &r, &e), PM_OK);
    assert_int_equal(r.checkpoints_matched, 2);
    pm_audit_log_t *log;
    assert_int_equal(pm_audit_open(path, 1, &log, &e), PM_OK);
    for (int i = N_ENTRIES + 1; i <= N_ENTRIES + 4; i++)
        add(log, i);
    pm_audit_close(log, &e);
    assert_int_equal(pm_audit_index_update(warm, cps, ncps, pk, &r, &e), PM_OK);
    assert_int_equal(r.entries, N_ENTRIES + 4);
    assert_int_equal(pm_audit_index_entries(warm), N_ENTRIES + 4);
    pm_audit_verify_result_t rv;
    assert_int_equal(pm_audit_verify(path, cps, ncps, pk, &rv, &e), PM_OK);
    assert_memory_equal(r.head, rv.head, 32);
    /* refusals (i % 4 == 2: 2, 6, 10) newest first, skipping one */
    pm_audit_filter_t f = {.kind = "refusal"};
    seqs_t s = {{0}, 0};
    uint64_t total = 0;
    assert_int_equal(pm_audit_index_page(warm, &f, 1, 5, note_seq, &s, &total, &e), PM_OK);
    assert_int_equal(total, 3);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.seq[0], 6);
    assert_int_equal(s.seq[1], 2);
    /* a period and a value never logged */
    pm_audit_filter_t g = {.from = 1800000000 + 5, .to = 1800000000 + 9};
    s.n = 0;
    assert_int_equal(pm_audit_index_page(warm, &g, 0, 16, note_seq, &s, &total, &e), PM_OK);
    assert_int_equal(total, 5);
    assert_int_equal(s.seq[0], 9);
    assert_int_equal(s.seq[4], 5);
    pm_audit_filter_t h = {.purpose = "NEVER"};
    assert_int_equal(pm_audit_index_page(warm, &h, 0, 16, note_seq, &s, &total, &e), PM_OK);
    assert_int_equal(total, 0);
    /* entry 10 changed in place (same length) and an entry appended: the
     * head is where it was, so the update cannot tell; the page reading it
     * can */
    size_t len, n;
    char *d = slurp(&len);
    size_t off = line_at(d, len, 10, &n);
    char *p = memmem(d + off, n, "USA", 3);
    assert_non_null(p);
    p[0] = 'X';
    spit(d, len);
    free(d);
    assert_int_equal(pm_audit_open(path, 1, &log, &e), PM_ECORRUPT); /* the writer refuses it */
    FILE *fa = fopen(path, "ab");
    assert_non_null(fa);
    fputs("0000", fa); /* an unfinished line: the file grew */
    fclose(fa);
    pm_audit_index_update(warm, cps, ncps, pk, &r, &e);
    s.n = 0;
    assert_int_equal(pm_audit_index_page(warm, NULL, 0, 16, note_seq, &s, &total, &e),
                     PM_ECORRUPT);
    assert_int_equal(pm_audit_index_update(warm, cps, ncps, pk, &r, &e), PM_ECORRUPT);
    assert_int_equal(r.bad_seq, 10);
    assert_non_null(strstr(r.what, "entry 10: altered"));
    s.n = 0;
    assert_int_equal(pm_audit_index_page(warm, NULL, 0, 16, note_seq, &s, &total, &e), PM_OK);
    assert_int_equal(total, 9); /* the intact prefix */
    free(cps);
}

static void test_report(void **st)
{
    (void)st;
    pm_buf_t b;
    pm_buf_init(&b, 0);
    pm_error_t e = {0};
    assert_int_equal(pm_audit_report(path, &b, &e), PM_OK);
    json_t *o = json_loads((const char *)b.data, 0, NULL);
    assert_non_null(o);
    assert_true(json_is_true(json_object_get(o, "intact")));
    assert_int_equal(json_integer_value(json_object_get(o, "entries")), N_ENTRIES);
    /* entries 2, 6 are disclosures; 3, 7 refusals by R2; 1, 5 queries */
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(o, "disclosures_per_purpose"), "REFUGEE_VETTING")),
                     2);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(o, "refusals_per_rule"), "R2")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(o, "queries_per_partner"), "USA")), 2);
    json_decref(o);
    pm_buf_free(&b);
}

static void test_append_refuses_bad_events(void **st)
{
    (void)st;
    pm_audit_log_t *log;
    pm_error_t e = {0};
    assert_int_equal(pm_audit_open(path, 1, &log, &e), PM_OK);
    pm_audit_event_t ev = {.kind = "gossip"};
    assert_int_equal(pm_audit_append(log, &ev, NULL, &e), PM_EINVAL);
    char big[PM_AUDIT_STR_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    pm_audit_event_t ev2 = {.kind = "query", .partner = big};
    assert_int_equal(pm_audit_append(log, &ev2, NULL, &e), PM_ELIMIT);
    pm_audit_close(log, &e);
    pm_audit_verify_result_t r;
    assert_int_equal(pm_audit_verify(path, NULL, 0, NULL, &r, &e), PM_OK);
    assert_int_equal(r.entries, N_ENTRIES);
}

#define N_THREADS  4
#define PER_THREAD 100

static void *appender(void *arg)
{
    pm_audit_log_t *log = arg;
    pm_audit_event_t ev = {
        .time = 1800000000, .kind = "query", .partner = "USA", .purpose = "REFUGEE_VETTING"};
    for (int i = 0; i < PER_THREAD; i++)
        if (pm_audit_append(log, &ev, NULL, NULL) != PM_OK) return (void *)1;
    return NULL;
}

static void test_threads_share_a_handle(void **st)
{
    (void)st;
    pm_audit_log_t *log;
    pm_error_t e = {0};
    assert_int_equal(pm_audit_open(path, 16, &log, &e), PM_OK);
    pthread_t t[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, appender, log), 0);
    for (int i = 0; i < N_THREADS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        assert_null(ret);
    }
    uint64_t count;
    pm_audit_head(log, &count, NULL);
    assert_int_equal(count, N_ENTRIES + N_THREADS * PER_THREAD);
    assert_int_equal(pm_audit_close(log, &e), PM_OK);
    pm_audit_verify_result_t r;
    if (pm_audit_verify(path, NULL, 0, NULL, &r, &e)) fail_msg("%s", e.msg);
    assert_int_equal(r.entries, N_ENTRIES + N_THREADS * PER_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_intact_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_rollback_fork, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_byte_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entry_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entries_swapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rehashed_forgery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_refuses_bad_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_share_a_handle, setup, teardown),
    };
    return PM_RUN_TESTS("audit", tests, NULL, NULL);
}
