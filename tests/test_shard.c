/* shard: stable routing (and what growing S moves), scatter-gather over a
 * NATS server this suite starts itself (nats-server on a free loopback
 * port, killed after): merged top-k equals the unsharded gallery's; a
 * replica takes over when its twin stops; a shard process killed in the
 * middle of a search and a hung shard both give a partial answer at the
 * deadline, never a hang or a crash. nats-server not installed: skipped
 * here, a failure under CI. */
#include "testutil.h"

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

/* A gallery with the subjects of shard k of S (k < 0: all of them). */
static pm_gallery_t *gallery_of(int k, int shards)
{
    pm_gallery_options_t go = {1};
    pm_gallery_t *g = NULL;
    pm_error_t e;
    assert_int_equal(pm_gallery_new(&go, &g, &e), PM_OK);
    for (uint64_t s = 1; s <= SUBJECTS; s++) {
        if (k >= 0 && pm_shard_of(s, shards) != k)
            continue;
        pm_fingerprint_t fp;
        finger_of(s, 0, &fp);
        assert_int_equal(pm_gallery_insert(g, s, 1, 1, &fp, &e), PM_OK);
    }
    return g;
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
        pm_shard_server_options_t so = {url, k, SHARDS, NULL};
        assert_int_equal(pm_shard_server_start(g[k], &so, &srv[k], &e), PM_OK);
    }
    /* a replica of shard 0 in the same queue group */
    twin = gallery_of(0, SHARDS);
    pm_shard_server_options_t to = {url, 0, SHARDS, NULL};
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
        pm_buf_t t;
        pm_buf_init(&t, 1 << 20);
        assert_int_equal(pm_tmpl_write(PM_TMPL_NATIVE, &probe, 1, &t, &e), PM_OK);
        pm_fingerprint_t *rt = NULL;
        size_t nrt = 0;
        assert_int_equal(pm_tmpl_read(t.data, t.len, PM_TMPL_NATIVE, &rt, &nrt, NULL, &e), PM_OK);
        pm_buf_free(&t);
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

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--slow-shard") == 0)
        return slow_shard_main(argv[2], (int)strtol(argv[3], NULL, 10),
                               (int)strtol(argv[4], NULL, 10));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_scatter_gather),
    };
    return PM_RUN_TESTS("shard", tests, setup, teardown);
}
