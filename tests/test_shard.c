/* shard: stable routing (and what growing S moves), scatter-gather over a
 * NATS server this suite starts itself (nats-server on a free loopback
 * port, killed after): merged top-k equals the unsharded gallery's; a
 * replica takes over when its twin stops; a shard process killed in the
 * middle of a search and a hung shard both give a partial answer at the
 * deadline, never a hang or a crash; a hung replica is hedged around, well
 * before the deadline; enrolments reach the shard that owns them (and a
 * shard of a grown layout); a shard loads only its own rows from the store.
 * nats-server not installed: skipped here, a failure under CI. */
#include "testutil.h"

#include <math.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/gallery.h"
#include "perimeter/shard.h"
#include "perimeter/store.h"
#include "perimeter/tmpl.h"

static char *dir;
static char *url;
static int nats_installed, nats_pid;

enum { SHARDS = 3, SUBJECTS = 60, SEED = 7 };

static int setup(void **state)
{
    (void)state;
    dir = pm_test_tmpdir();
    if (!dir)
        return -1;
    url = pm_test_nats_start(dir, &nats_installed, &nats_pid);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pm_test_nats_stop(nats_pid);
    free(url);
    pm_test_rmdir(dir);
    free(dir);
    nats_Close();
    return 0;
}

static void test_route(void **state)
{
    (void)state;
    enum { N = 100000 };
    int count[5] = {0};
    int moved = 0;
    for (uint64_t id = 1; id <= N; id++) {
        int a = pm_shard_of(id, 4), b = pm_shard_of(id, 5);
        assert_true(a >= 0 && a < 4);
        assert_int_equal(pm_shard_of(id, 4), a); /* stable */
        count[a]++;
        if (b != a) {
            assert_int_equal(b, 4); /* growing only ever moves to the new shard */
            moved++;
        }
    }
    for (int k = 0; k < 4; k++)
        assert_true(count[k] > N / 4 - N / 50 && count[k] < N / 4 + N / 50);
    /* about 1/5 moves: 20,000 +- 1,000 */
    assert_true(moved > N / 5 - N / 100 && moved < N / 5 + N / 100);
    assert_int_equal(pm_shard_of(12345, 1), 0);
    assert_int_equal(pm_shard_of(12345, 0), 0);
}

static void finger_of(uint64_t subject, uint32_t impression, pm_fingerprint_t *out)
{
    pm_fingerprint_t master;
    pm_gallery_synth_master(SEED, subject, &master);
    pm_gallery_synth_impression(&master, SEED, subject, impression, NULL, out);
}

/* A gallery with the subjects of shard k of S (k < 0: all of them), each
 * with `fingers` fingers at positions 1.. (distinct masters: subject s's
 * finger at position p is master s + (p - 1) * 1000). */
static pm_gallery_t *gallery_fingers_of(int k, int shards, int fingers)
{
    pm_gallery_options_t go = {1};
    pm_gallery_t *g = NULL;
    pm_error_t e;
    assert_int_equal(pm_gallery_new(&go, &g, &e), PM_OK);
    for (uint64_t s = 1; s <= SUBJECTS; s++) {
        if (k >= 0 && pm_shard_of(s, shards) != k)
            continue;
        for (int pos = 1; pos <= fingers; pos++) {
            pm_fingerprint_t fp;
            finger_of(s + (uint64_t)(pos - 1) * 1000, 0, &fp);
            assert_int_equal(pm_gallery_insert(g, s, 1, pos, &fp, &e), PM_OK);
        }
    }
    return g;
}

static pm_gallery_t *gallery_of(int k, int shards)
{
    return gallery_fingers_of(k, shards, 1);
}

/* A probe finger as the shards see it (a native template read back). */
static pm_fingerprint_t *as_shards_see(const pm_fingerprint_t *fp)
{
    pm_error_t e;
    pm_buf_t t;
    pm_buf_init(&t, 1 << 20);
    assert_int_equal(pm_tmpl_write(PM_TMPL_NATIVE, fp, 1, &t, &e), PM_OK);
    pm_fingerprint_t *rt = NULL;
    size_t nrt = 0;
    assert_int_equal(pm_tmpl_read(t.data, t.len, PM_TMPL_NATIVE, &rt, &nrt, NULL, &e), PM_OK);
    pm_buf_free(&t);
    return rt;
}

/* The slow shard's process (this binary re-executed with --slow-shard, so
 * libnats starts fresh in it): takes one request for the shard and never
 * answers, until it is killed. */
static int slow_shard_main(const char *nats_url, int shard, int ready_fd)
{
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    char subj[64];
    snprintf(subj, sizeof subj, "pm.gallery.%d.%d", SHARDS, shard);
    if (natsConnection_ConnectTo(&nc, nats_url) != NATS_OK ||
        natsConnection_QueueSubscribeSync(&sub, nc, subj, subj) != NATS_OK ||
        natsConnection_Flush(nc) != NATS_OK)
        return 1;
    if (write(ready_fd, "r", 1) != 1)
        return 1;
    natsMsg *m = NULL;
    natsSubscription_NextMsg(&m, sub, 60000); /* takes the request ... */
    sleep(60);                                /* ... and is killed before replying */
    return 0;
}

/* Starts the slow shard process; returns its pid once it is subscribed. */
static pid_t slow_shard_process(int shard)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        char k[16], w[16];
        snprintf(k, sizeof k, "%d", shard);
        snprintf(w, sizeof w, "%d", fd[1]);
        execl("/proc/self/exe", "test_shard", "--slow-shard", url, k, w, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char c = 0;
    assert_int_equal(read(fd[0], &c, 1), 1);
    close(fd[0]);
    return pid;
}

static void test_scatter_gather(void **state)
{
    (void)state;
    PM_REQUIRE_SERVICE(url, nats_installed, "nats-server");
    pm_error_t e;
    pm_gallery_t *whole = gallery_of(-1, SHARDS);
    pm_gallery_t *g[SHARDS], *twin;
    pm_shard_server_t *srv[SHARDS], *twin_srv;
    for (int k = 0; k < SHARDS; k++) {
        g[k] = gallery_of(k, SHARDS);
        pm_shard_server_options_t so = {url, k, SHARDS, NULL, 0};
        assert_int_equal(pm_shard_server_start(g[k], &so, &srv[k], &e), PM_OK);
    }
    /* a replica of shard 0 in the same queue group */
    twin = gallery_of(0, SHARDS);
    pm_shard_server_options_t to = {url, 0, SHARDS, NULL, 0};
    assert_int_equal(pm_shard_server_start(twin, &to, &twin_srv, &e), PM_OK);
    pm_shard_client_t *cl = NULL;
    assert_int_equal(pm_shard_client_open(url, SHARDS, NULL, &cl, &e), PM_OK);

    pm_gallery_search_options_t o;
    memset(&o, 0, sizeof o);
    o.max_candidates = 5;
    o.threshold = 0;
    pm_gallery_candidate_t got[5], want[5];
    size_t ngot = 0, nwant = 0;
    pm_shard_answer_t a;
    /* every probe: the merged top-5 is the whole gallery's top-5 */
    int shard_hit[SHARDS] = {0};
    for (uint64_t s = 1; s <= 12; s++) {
        pm_fingerprint_t probe;
        finger_of(s, 1, &probe);
        pm_gallery_finger_t f = {1, &probe};
        assert_int_equal(pm_shard_identify(cl, &f, 1, &o, 2000, got, &ngot, &a, &e), PM_OK);
        assert_int_equal(a.partial, 0);
        assert_int_equal(a.replied, SHARDS);
        /* the shards see the probe as a native template: so does the reference */
        pm_fingerprint_t *rt = as_shards_see(&probe);
        pm_gallery_finger_t fr = {1, rt};
        assert_int_equal(pm_gallery_identify(whole, &fr, 1, &o, want, &nwant, NULL, &e), PM_OK);
        free(rt);
        assert_int_equal(ngot, nwant);
        for (size_t i = 0; i < ngot; i++) {
            assert_int_equal(got[i].subject, want[i].subject);
            assert_true(got[i].score == want[i].score);
        }
        assert_true(ngot >= 1);
        assert_int_equal(got[0].subject, s); /* the mate ranks first */
        shard_hit[pm_shard_of(s, SHARDS)]++;
    }
    for (int k = 0; k < SHARDS; k++)
        assert_true(shard_hit[k] > 0); /* the probes' mates live on every shard */
    /* refused: options that need the whole gallery */
    pm_fingerprint_t probe;
    finger_of(3, 1, &probe);
    pm_gallery_finger_t f = {1, &probe};
    o.target_fpir = 0.01;
    assert_int_equal(pm_shard_identify(cl, &f, 1, &o, 2000, got, &ngot, &a, &e), PM_EUNSUPPORTED);
    o.target_fpir = 0;

    /* one replica of shard 0 stops: its twin takes over, answers stay whole */
    pm_shard_server_stop(srv[0]);
    srv[0] = NULL;
    uint64_t before = pm_shard_server_served(twin_srv);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(pm_shard_identify(cl, &f, 1, &o, 2000, got, &ngot, &a, &e), PM_OK);
        assert_int_equal(a.partial, 0);
        assert_int_equal(got[0].subject, 3);
    }
    assert_int_equal(pm_shard_server_served(twin_srv), before + 5);

    /* shard 0 is now a process that takes the request and is killed
     * mid-search: a partial answer at the deadline, shard 0 named */
    pm_shard_server_stop(twin_srv);
    pid_t slow = slow_shard_process(0);
    uint64_t t0 = pm_now_ns();
    pid_t killer = fork();
    assert_true(killer >= 0);
    if (killer == 0) {
        usleep(150000);
        kill(slow, SIGKILL);
        _exit(0);
    }
    assert_int_equal(pm_shard_identify(cl, &f, 1, &o, 800, got, &ngot, &a, &e), PM_OK);
    double took = (double)(pm_now_ns() - t0) / 1e9;
    waitpid(killer, NULL, 0);
    int st = 0;
    assert_int_equal(waitpid(slow, &st, 0), slow);
    assert_true(WIFSIGNALED(st)); /* it was killed, not finished */
    assert_int_equal(a.partial, 1);
    assert_int_equal(a.replied, SHARDS - 1);
    assert_int_equal(a.missing[0], 1);
    assert_int_equal(a.missing[1], 0);
    assert_int_equal(a.missing[2], 0);
    assert_true(took >= 0.75 && took < 3.0);
    /* the other shards' candidates are still there (3 lives on shard 0, so
     * its mate is missing: the answer says so instead of inventing one) */
    for (size_t i = 0; i < ngot; i++)
        assert_int_not_equal(pm_shard_of(got[i].subject, SHARDS), 0);

    /* a hung shard (subscribed, never answers, alive): cut off at the deadline */
    natsConnection *hung = NULL;
    natsSubscription *hsub = NULL;
    assert_int_equal(natsConnection_ConnectTo(&hung, url), NATS_OK);
    assert_int_equal(natsConnection_QueueSubscribeSync(&hsub, hung, "pm.gallery.3.1",
                                                       "pm.gallery.3.1"),
                     NATS_OK);
    assert_int_equal(natsConnection_Flush(hung), NATS_OK);
    pm_shard_server_stop(srv[1]); /* the hung one is shard 1's only replica now */
    srv[1] = NULL;
    t0 = pm_now_ns();
    assert_int_equal(pm_shard_identify(cl, &f, 1, &o, 400, got, &ngot, &a, &e), PM_OK);
    took = (double)(pm_now_ns() - t0) / 1e9;
    assert_int_equal(a.partial, 1);
    assert_int_equal(a.missing[1], 1);
    assert_int_equal(a.missing[2], 0);
    assert_true(took >= 0.38 && took < 3.0);
    natsSubscription_Destroy(hsub);
    natsConnection_Destroy(hung);

    pm_shard_client_close(cl);
    for (int k = 0; k < SHARDS; k++) {
        pm_shard_server_stop(srv[k]);
        pm_gallery_free(g[k]);
    }
    pm_gallery_free(twin);
    pm_gallery_free(whole);
}

static void same_candidates(const pm_gallery_candidate_t *got, size_t ngot,
                            const pm_gallery_candidate_t *want, size_t nwant)
{
    assert_int_equal(ngot, nwant);
    for (size_t i = 0; i < ngot; i++) {
        assert_int_equal(got[i].subject, want[i].subject);
        assert_true(got[i].score == want[i].score);
        assert_true(got[i].fused_raw == want[i].fused_raw);
    }
}

/* A two-finger probe with a fused calibration: the shards search on the raw
 * fused score (the client translates the calibrated threshold to a raw one
 * and maps the merged candidates back), so the answer must be the unsharded
 * gallery's: the same subjects, calibrated scores and raw scores, with no
 * threshold and with a threshold set exactly at a candidate's calibrated
 * score (the translation's rounding must not drop or add that candidate).
 * The calibration has a generalized Pareto tail, so both of its pieces are
 * crossed. */
static void test_fused_calibrated(void **state)
{
    (void)state;
    PM_REQUIRE_SERVICE(url, nats_installed, "nats-server");
    pm_error_t e;
    pm_gallery_t *whole = gallery_fingers_of(-1, SHARDS, 2), *g[SHARDS];
    pm_shard_server_t *srv[SHARDS];
    for (int k = 0; k < SHARDS; k++) {
        g[k] = gallery_fingers_of(k, SHARDS, 2);
        pm_shard_server_options_t so = {url, k, SHARDS, NULL, 0};
        assert_int_equal(pm_shard_server_start(g[k], &so, &srv[k], &e), PM_OK);
    }
    pm_shard_client_t *cl = NULL;
    assert_int_equal(pm_shard_client_open(url, SHARDS, NULL, &cl, &e), PM_OK);
    pm_gallery_calibration_t fc = {.loc = 3.23, .growth = 6.51, .scale = 6.51, .shape = 0.08,
                                   .tail_u = 30.0};
    pm_gallery_search_options_t o;
    memset(&o, 0, sizeof o);
    o.max_candidates = 5;
    o.fused_calibration = &fc;
    pm_gallery_candidate_t got[5], want[5];
    size_t ngot = 0, nwant = 0;
    pm_shard_answer_t a;
    int at_threshold = 0, above_tail = 0, below_tail = 0;
    for (uint64_t s = 2; s <= SUBJECTS; s += 7) {
        pm_fingerprint_t p1, p2;
        finger_of(s, 1, &p1);
        finger_of(s + 1000, 1, &p2);
        pm_gallery_finger_t f[2] = {{1, &p1}, {2, &p2}};
        pm_fingerprint_t *r1 = as_shards_see(&p1), *r2 = as_shards_see(&p2);
        pm_gallery_finger_t fr[2] = {{1, r1}, {2, r2}};
        o.threshold = 0;
        assert_int_equal(pm_shard_identify(cl, f, 2, &o, 4000, got, &ngot, &a, &e), PM_OK);
        assert_int_equal(a.partial, 0);
        assert_int_equal(pm_gallery_identify(whole, fr, 2, &o, want, &nwant, NULL, &e), PM_OK);
        same_candidates(got, ngot, want, nwant);
        assert_true(ngot >= 1);
        assert_int_equal(got[0].subject, s); /* the mate ranks first */
        for (size_t i = 0; i < ngot; i++) {
            above_tail += got[i].fused_raw > fc.tail_u;
            below_tail += got[i].fused_raw <= fc.tail_u;
            assert_true(got[i].score == pm_gallery_fused_score(&fc, got[i].fused_raw));
        }
        /* a threshold exactly at the last candidate's calibrated score */
        if (nwant >= 2) {
            o.threshold = want[nwant - 1].score;
            size_t keep = nwant;
            assert_int_equal(pm_shard_identify(cl, f, 2, &o, 4000, got, &ngot, &a, &e), PM_OK);
            assert_int_equal(pm_gallery_identify(whole, fr, 2, &o, want, &nwant, NULL, &e),
                             PM_OK);
            same_candidates(got, ngot, want, nwant);
            assert_int_equal(ngot, keep);
            at_threshold++;
        }
        free(r1);
        free(r2);
    }
    assert_true(at_threshold >= 3);
    assert_true(above_tail > 0 && below_tail > 0); /* both pieces of the mapping crossed */
    pm_shard_client_close(cl);
    for (int k = 0; k < SHARDS; k++) {
        pm_shard_server_stop(srv[k]);
        pm_gallery_free(g[k]);
    }
    pm_gallery_free(whole);
}

/* A replica that announces itself and takes requests (queue group and its
 * own subject) but never answers them: hung, as NATS cannot tell. */
typedef struct hung_replica {
    natsConnection *nc;
    natsSubscription *q, *direct, *who;
    uint64_t id;
    int taken;
} hung_replica_t;

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void hung_on_who(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    hung_replica_t *h = closure;
    uint8_t b[16] = {'P', 'M', 'W', '1'};
    put_le(b + 4, 0, 4); /* shard 0 */
    put_le(b + 8, h->id, 8);
    if (natsMsg_GetReply(msg))
        natsConnection_Publish(nc, natsMsg_GetReply(msg), b, 16);
    natsMsg_Destroy(msg);
}

static void hung_on_search(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    ((hung_replica_t *)closure)->taken++; /* and never answered */
    natsMsg_Destroy(msg);
}

static void test_hedge(void **state)
{
    (void)state;
    PM_REQUIRE_SERVICE(url, nats_installed, "nats-server");
    pm_error_t e;
    /* 2 shards (prefix "hedge"); shard 0 has a good replica and a hung one */
    pm_gallery_t *g[2];
    pm_shard_server_t *srv[2];
    for (int k = 0; k < 2; k++) {
        g[k] = gallery_of(k, 2);
        pm_shard_server_options_t so = {url, k, 2, "hedge", 0};
        assert_int_equal(pm_shard_server_start(g[k], &so, &srv[k], &e), PM_OK);
    }
    hung_replica_t h = {0};
    h.id = 0x1234abcd5678ef00ULL;
    char direct[96];
    snprintf(direct, sizeof direct, "hedge.2.0.r.%016llx", (unsigned long long)h.id);
    assert_int_equal(natsConnection_ConnectTo(&h.nc, url), NATS_OK);
    assert_int_equal(natsConnection_QueueSubscribe(&h.q, h.nc, "hedge.2.0", "hedge.2.0",
                                                   hung_on_search, &h),
                     NATS_OK);
    assert_int_equal(natsConnection_Subscribe(&h.direct, h.nc, direct, hung_on_search, &h),
                     NATS_OK);
    assert_int_equal(natsConnection_Subscribe(&h.who, h.nc, "hedge.2.who", hung_on_who, &h),
                     NATS_OK);
    assert_int_equal(natsConnection_Flush(h.nc), NATS_OK);
    pm_shard_client_t *cl = NULL;
    assert_int_equal(pm_shard_client_open(url, 2, "hedge", &cl, &e), PM_OK);
    /* the client learns both replicas of shard 0 from their announcements */
    for (int i = 0; i < 200 && pm_shard_client_replicas(cl, 0) < 2; i++)
        usleep(10000);
    assert_int_equal(pm_shard_client_replicas(cl, 0), 2);
    assert_int_equal(pm_shard_client_replicas(cl, 1), 1);
    pm_shard_client_set_hedge(cl, 150);
    pm_gallery_search_options_t o;
    memset(&o, 0, sizeof o);
    o.max_candidates = 3;
    int hedged = 0;
    for (uint64_t s = 1; s <= 8; s++) {
        pm_fingerprint_t probe;
        finger_of(s, 1, &probe);
        pm_gallery_finger_t f = {1, &probe};
        pm_gallery_candidate_t got[3];
        size_t n = 0;
        pm_shard_answer_t a;
        uint64_t t0 = pm_now_ns();
        assert_int_equal(pm_shard_identify(cl, &f, 1, &o, 5000, got, &n, &a, &e), PM_OK);
        double took = (double)(pm_now_ns() - t0) / 1e9;
        /* whole, and well before the 5 s deadline: the hung replica cost at
         * most the 150 ms hedge delay */
        assert_int_equal(a.partial, 0);
        assert_true(n >= 1);
        assert_int_equal(got[0].subject, s);
        assert_true(took < 2.5);
        hedged += a.hedged;
    }
    /* round robin over shard 0's two replicas: the hung one got some */
    assert_true(h.taken >= 2);
    assert_true(hedged >= 2 && hedged == h.taken);
    /* without hedging the hung replica costs its shard: partial at the deadline */
    pm_shard_client_set_hedge(cl, -1);
    int partial = 0;
    for (uint64_t s = 1; s <= 4; s++) {
        pm_fingerprint_t probe;
        finger_of(s, 1, &probe);
        pm_gallery_finger_t f = {1, &probe};
        pm_gallery_candidate_t got[3];
        size_t n = 0;
        pm_shard_answer_t a;
        assert_int_equal(pm_shard_identify(cl, &f, 1, &o, 300, got, &n, &a, &e), PM_OK);
        assert_int_equal(a.hedged, 0);
        partial += a.partial;
        if (a.partial)
            assert_int_equal(a.missing[0], 1);
    }
    assert_true(partial >= 1);
    /* a replica that stops says so: the client forgets it at once */
    pm_shard_server_stop(srv[1]);
    srv[1] = NULL;
    for (int i = 0; i < 200 && pm_shard_client_replicas(cl, 1) > 0; i++)
        usleep(10000);
    assert_int_equal(pm_shard_client_replicas(cl, 1), 0);
    pm_shard_client_close(cl);
    natsSubscription_Destroy(h.q);
    natsSubscription_Destroy(h.direct);
    natsSubscription_Destroy(h.who);
    natsConnection_Destroy(h.nc);
    for (int k = 0; k < 2; k++) {
        pm_shard_server_stop(srv[k]);
        pm_gallery_free(g[k]);
    }
}

static int keep_shard1_of2(uint64_t subject, void *ctx)
{
    (void)ctx;
    return pm_shard_of(subject, 2) == 1;
}

/* A shard server loads only its shard from the store (streamed), learns
 * enrolments made afterwards; a server of a grown layout (3 shards) learns
 * them too; verify goes to the subject's shard. */
static void test_learn_and_load(void **state)
{
    (void)state;
    pm_error_t e;
    char path[512];
    snprintf(path, sizeof path, "%s/learn.db", dir);
    pm_store_t *st = NULL;
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_gallery_store_migrate(st, &e), PM_OK);
    size_t in1 = 0;
    for (uint64_t s = 1; s <= 40; s++) {
        pm_fingerprint_t fp;
        finger_of(s, 0, &fp);
        assert_int_equal(pm_gallery_store_put(st, s, 1, 1, &fp, &e), PM_OK);
        in1 += pm_shard_of(s, 2) == 1;
    }
    /* the shard's rows only; one already held (learnt meanwhile) is kept */
    pm_gallery_options_t go = {1};
    pm_gallery_t *g1 = NULL;
    assert_int_equal(pm_gallery_new(&go, &g1, &e), PM_OK);
    uint64_t first = 1;
    while (pm_shard_of(first, 2) != 1)
        first++;
    pm_fingerprint_t fp;
    finger_of(first, 0, &fp);
    assert_int_equal(pm_gallery_insert(g1, first, 1, 1, &fp, &e), PM_OK);
    uint64_t gen = 0;
    size_t inserted = 0;
    assert_int_equal(pm_gallery_store_load_where(st, g1, keep_shard1_of2, NULL, &gen, &inserted,
                                                 &e),
                     PM_OK);
    assert_int_equal(pm_gallery_count(g1), in1);
    assert_int_equal(inserted, in1 - 1);
    assert_int_equal(gen, 40);
    for (size_t i = 0; i < pm_gallery_count(g1); i++) {
        uint64_t subj;
        uint32_t enc;
        int pos;
        assert_int_equal(pm_gallery_record(g1, i, &subj, &enc, &pos, &fp, &e), PM_OK);
        assert_int_equal(pm_shard_of(subj, 2), 1);
    }
    pm_store_close(st);
    if (!url) {
        pm_gallery_free(g1);
        PM_REQUIRE_SERVICE(url, nats_installed, "nats-server");
        return;
    }
    /* servers: shard 0 and 1 of 2 (learning), and shard 2 of 3 (a grown layout) */
    pm_gallery_t *g0 = gallery_of(0, 2), *g23 = NULL;
    assert_int_equal(pm_gallery_new(&go, &g23, &e), PM_OK);
    pm_shard_server_t *s0 = NULL, *s1 = NULL, *s23 = NULL;
    pm_shard_server_options_t o0 = {url, 0, 2, "learn", 1}, o1 = {url, 1, 2, "learn", 1},
                              o23 = {url, 2, 3, "learn", 1};
    assert_int_equal(pm_shard_server_start(g0, &o0, &s0, &e), PM_OK);
    assert_int_equal(pm_shard_server_start(g1, &o1, &s1, &e), PM_OK);
    assert_int_equal(pm_shard_server_open(g23, &o23, &s23, &e), PM_OK); /* learning, not serving */
    pm_shard_client_t *cl = NULL;
    assert_int_equal(pm_shard_client_open(url, 2, "learn", &cl, &e), PM_OK);
    size_t before0 = pm_gallery_count(g0), before1 = pm_gallery_count(g1);
    int to0 = 0, to1 = 0, to23 = 0;
    for (uint64_t s = 1001; s <= 1012; s++) {
        finger_of(s, 0, &fp);
        assert_int_equal(pm_shard_client_enrol(cl, s, 1, 1, &fp, 2000, &e), PM_OK);
        to0 += pm_shard_of(s, 2) == 0;
        to1 += pm_shard_of(s, 2) == 1;
        to23 += pm_shard_of(s, 3) == 2;
    }
    assert_int_equal(pm_gallery_count(g0), before0 + (size_t)to0);
    assert_int_equal(pm_gallery_count(g1), before1 + (size_t)to1);
    assert_true(to0 > 0 && to1 > 0 && to23 > 0);
    assert_int_equal(pm_shard_server_learned(s0), (uint64_t)to0);
    /* the grown layout's shard learnt its subjects; nothing else */
    for (int i = 0; i < 100 && pm_gallery_count(g23) < (size_t)to23; i++)
        usleep(10000);
    assert_int_equal(pm_gallery_count(g23), (size_t)to23);
    /* the same enrolment twice is no error (the gallery already holds it) */
    finger_of(1001, 0, &fp);
    assert_int_equal(pm_shard_client_enrol(cl, 1001, 1, 1, &fp, 2000, &e), PM_OK);
    /* a new subject is found by a search and verified on its shard */
    pm_fingerprint_t probe;
    finger_of(1005, 1, &probe);
    pm_gallery_finger_t f = {1, &probe};
    pm_gallery_search_options_t so;
    memset(&so, 0, sizeof so);
    so.max_candidates = 2;
    pm_gallery_candidate_t got[2], v;
    size_t n = 0;
    pm_shard_answer_t a;
    assert_int_equal(pm_shard_identify(cl, &f, 1, &so, 3000, got, &n, &a, &e), PM_OK);
    assert_int_equal(a.partial, 0);
    assert_true(n >= 1);
    assert_int_equal(got[0].subject, 1005);
    assert_true(a.records_scanned >= 40);
    assert_int_equal(pm_shard_verify(cl, 1005, &f, 1, 3000, &v, &e), PM_OK);
    assert_true(v.score > 30);
    assert_int_equal(pm_shard_verify(cl, 1006, &f, 1, 3000, &v, &e), PM_OK);
    assert_true(v.score < 30);
    assert_int_equal(pm_shard_verify(cl, 99999, &f, 1, 3000, &v, &e), PM_ENOTFOUND);
    /* no server of that layout learns it: a timeout, not a hang */
    pm_shard_server_stop(s0);
    s0 = NULL;
    uint64_t s0subj = 2001;
    while (pm_shard_of(s0subj, 2) != 0)
        s0subj++;
    finger_of(s0subj, 0, &fp);
    uint64_t t0 = pm_now_ns();
    assert_int_equal(pm_shard_client_enrol(cl, s0subj, 1, 1, &fp, 300, &e), PM_ETIMEOUT);
    assert_true(pm_now_ns() - t0 < 3000000000ULL);
    pm_shard_client_close(cl);
    pm_shard_server_stop(s1);
    pm_shard_server_stop(s23);
    pm_gallery_free(g0);
    pm_gallery_free(g1);
    pm_gallery_free(g23);
}

/* The wire codec both ends call: a request and a reply survive a round
 * trip; a truncated or padded message, a shard out of range, a NaN score
 * and a wrong finger count are refused (PM_EFORMAT), never half-read. */
static void test_wire(void **state)
{
    (void)state;
    pm_error_t e;
    pm_fingerprint_t fp;
    finger_of(3, 0, &fp);
    pm_gallery_finger_t f[2] = {{1, &fp}, {6, &fp}};
    pm_gallery_search_options_t o = {.max_candidates = 7, .threshold = 31.5, .first_stage = 1,
                                     .keep_fraction = 0.01, .keep_min = 20};
    pm_buf_t b;
    pm_buf_init(&b, 1u << 20);
    assert_int_equal(pm_shard_request_encode(1, 42, f, 2, &o, &b, &e), PM_OK);
    pm_shard_request_t q;
    assert_int_equal(pm_shard_request_decode(b.data, b.len, &q, &e), PM_OK);
    assert_int_equal(q.op, 1);
    assert_true(q.subject == 42);
    assert_int_equal(q.nfingers, 2);
    assert_int_equal(q.fingers[1].position, 6);
    assert_int_equal(q.fingers[0].fp->count, fp.count);
    assert_int_equal(q.options.max_candidates, 7);
    assert_true(q.options.threshold == 31.5 && q.options.keep_min == 20);
    pm_shard_request_free(&q);
    assert_int_equal(pm_shard_request_decode(b.data, b.len - 1, &q, &e), PM_EFORMAT);
    pm_shard_request_free(&q);
    assert_int_equal(pm_buf_append(&b, "x", 1), PM_OK);
    assert_int_equal(pm_shard_request_decode(b.data, b.len, &q, &e), PM_EFORMAT);
    pm_shard_request_free(&q);

    pm_gallery_candidate_t c[2];
    memset(c, 0, sizeof c);
    c[0].subject = 9, c[0].score = 50, c[0].encounter = 2, c[0].finger_score[0] = 50;
    c[1].subject = 4, c[1].score = 33, c[1].encounter = 1, c[1].finger_score[0] = 33;
    pm_shard_reply_t h = {2, PM_OK, 77, 1000, 0.25, 1, 2}, h2;
    pm_buf_reset(&b);
    assert_int_equal(pm_shard_reply_encode(&h, c, &b), PM_OK);
    pm_gallery_candidate_t got[2];
    assert_int_equal(pm_shard_reply_decode(b.data, b.len, 3, 1, &h2, got, 2, &e), PM_OK);
    assert_int_equal(h2.shard, 2);
    assert_true(h2.n == 2 && h2.replica == 77 && got[1].subject == 4 && got[1].score == 33);
    assert_int_equal(pm_shard_reply_decode(b.data, b.len, 2, 1, &h2, got, 2, &e), PM_EFORMAT);
    assert_int_equal(pm_shard_reply_decode(b.data, b.len, 3, 2, &h2, got, 2, &e), PM_EFORMAT);
    assert_int_equal(pm_shard_reply_decode(b.data, b.len - 3, 3, 1, &h2, got, 2, &e),
                     PM_EFORMAT);
    c[1].score = NAN;
    pm_buf_reset(&b);
    assert_int_equal(pm_shard_reply_encode(&h, c, &b), PM_OK);
    assert_int_equal(pm_shard_reply_decode(b.data, b.len, 3, 1, &h2, got, 2, &e), PM_EFORMAT);
    pm_buf_free(&b);
}

/* The control messages: enrolment, its ack, a replica's presence. */
static void test_wire_control(void **state)
{
    (void)state;
    pm_error_t e;
    pm_fingerprint_t fp;
    finger_of(5, 1, &fp);
    pm_buf_t t, b;
    pm_buf_init(&t, 1u << 20);
    pm_buf_init(&b, 1u << 21);
    assert_int_equal(pm_tmpl_write(PM_TMPL_NATIVE, &fp, 1, &t, &e), PM_OK);
    pm_shard_enrol_msg_t m = {0x0123456789abcdefULL, 7, 4, t.data, t.len}, m2;
    assert_int_equal(pm_shard_enrol_encode(&m, &b), PM_OK);
    assert_int_equal(pm_shard_enrol_decode(b.data, b.len, &m2, &e), PM_OK);
    assert_true(m2.subject == m.subject && m2.encounter == 7 && m2.position == 4);
    assert_true(m2.tmpl_len == t.len && memcmp(m2.tmpl, t.data, t.len) == 0);
    assert_int_equal(pm_shard_enrol_decode(b.data, b.len - 1, &m2, &e), PM_EFORMAT);
    assert_int_equal(pm_buf_append(&b, "x", 1), PM_OK);
    assert_int_equal(pm_shard_enrol_decode(b.data, b.len, &m2, &e), PM_EFORMAT);
    b.data[16] = 11; /* position byte: 4 magic + 8 subject + 4 encounter */
    assert_int_equal(pm_shard_enrol_decode(b.data, b.len - 1, &m2, &e), PM_EFORMAT);
    m.position = 11;
    pm_buf_reset(&b);
    assert_int_equal(pm_shard_enrol_encode(&m, &b), PM_EINVAL);

    pm_shard_ack_t a = {4, 3, PM_EEXISTS}, a2;
    pm_buf_reset(&b);
    assert_int_equal(pm_shard_ack_encode(&a, &b), PM_OK);
    assert_int_equal(b.len, 16);
    assert_int_equal(pm_shard_ack_decode(b.data, b.len, &a2, &e), PM_OK);
    assert_true(a2.shards == 4 && a2.shard == 3 && a2.status == PM_EEXISTS);
    assert_int_equal(pm_shard_ack_decode(b.data, 15, &a2, &e), PM_EFORMAT);
    a.status = 5; /* a positive status is not a PM_* code */
    pm_buf_reset(&b);
    assert_int_equal(pm_shard_ack_encode(&a, &b), PM_OK);
    assert_int_equal(pm_shard_ack_decode(b.data, b.len, &a2, &e), PM_EFORMAT);
    a.status = 0, a.shard = 4; /* shard outside the layout */
    pm_buf_reset(&b);
    assert_int_equal(pm_shard_ack_encode(&a, &b), PM_OK);
    assert_int_equal(pm_shard_ack_decode(b.data, b.len, &a2, &e), PM_EFORMAT);

    for (int alive = 0; alive < 2; alive++) {
        pm_shard_presence_t p = {alive, 2, 0xfeedULL}, p2;
        pm_buf_reset(&b);
        assert_int_equal(pm_shard_presence_encode(&p, &b), PM_OK);
        assert_int_equal(pm_shard_presence_decode(b.data, b.len, &p2, &e), PM_OK);
        assert_true(p2.alive == alive && p2.shard == 2 && p2.replica == 0xfeedULL);
        assert_int_equal(pm_shard_presence_decode(b.data, b.len - 1, &p2, &e), PM_EFORMAT);
        assert_int_equal(pm_buf_append(&b, "x", 1), PM_OK);
        assert_int_equal(pm_shard_presence_decode(b.data, b.len, &p2, &e), PM_EFORMAT);
    }
    assert_int_equal(pm_shard_presence_decode("PMX1abcdabcdefgh", 16, &(pm_shard_presence_t){0},
                                              &e),
                     PM_EFORMAT);
    pm_buf_free(&t);
    pm_buf_free(&b);
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--slow-shard") == 0)
        return slow_shard_main(argv[2], (int)strtol(argv[3], NULL, 10),
                               (int)strtol(argv[4], NULL, 10));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_wire),
        cmocka_unit_test(test_wire_control),
        cmocka_unit_test(test_scatter_gather),
        cmocka_unit_test(test_fused_calibrated),
        cmocka_unit_test(test_hedge),
        cmocka_unit_test(test_learn_and_load),
    };
    return PM_RUN_TESTS("shard", tests, setup, teardown);
}
