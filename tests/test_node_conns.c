/* Many concurrent TLS connections against a running node (issue 13 part 5):
 * every connection gets an HTTP answer, either 200 or, past a connection
 * limit (limits.connections, limits.connections_per_ip), a clean 503
 * too_many_connections with Retry-After, counted in /metrics; never a failed
 * TLS handshake or a dropped connection (which is what libmicrohttpd's own
 * limits did: they refuse at accept).
 * Each run opens N connections at once (one curl handle each, all in one
 * multi handle, kept alive until every answer is in, so all N are open on
 * the node together) and sends GET /v1/partner/hello with the partner's
 * certificate on each. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "perimeter/node.h"
#include "perimeter/policy.h"

enum { N = 60 };

static char *g_dir;

static int setup(void **state)
{
    (void)state;
    g_dir = pm_test_tmpdir();
    pm_node_init_options_t o = {"CAN", "USA", 0, 0, 30};
    pm_error_t e;
    char pair[4096];
    snprintf(pair, sizeof pair, "%s/pair", g_dir);
    int rc = pm_node_init_pair(pair, &o, &e);
    if (rc)
        fprintf(stderr, "init: %s\n", e.msg);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    pm_test_rmdir(g_dir);
    free(g_dir);
    return 0;
}

typedef struct one {
    int retry_after; /* the answer had a Retry-After header */
    char err[CURL_ERROR_SIZE];
} one_t;

static size_t on_header(char *b, size_t size, size_t n, void *ud)
{
    one_t *o = ud;
    if (size * n >= 12 && strncasecmp(b, "Retry-After:", 12) == 0)
        o->retry_after = 1;
    return size * n;
}

static size_t discard(char *b, size_t size, size_t n, void *ud)
{
    (void)b;
    (void)ud;
    return size * n;
}

static void log_line(void *ctx, int level, const char *line)
{
    (void)ctx;
    fprintf(stderr, "node[%d]: %s\n", level, line);
}

/* One node (USA) with the given limits; N concurrent connections from CAN.
 * Counts of 200 and 503 answers; fails on anything else. */
static void run(unsigned connections, unsigned per_ip, unsigned *ok, unsigned *refused,
                unsigned long long *metric)
{
    char p[4096], ca[4096], cert[4096], key[4096], url[128];
    snprintf(p, sizeof p, "%s/pair/USA/node.json", g_dir);
    pm_node_config_t cfg;
    pm_error_t e;
    assert_int_equal(pm_node_config_load(p, &cfg, &e), PM_OK);
    cfg.port = 0;
    cfg.partners[0].push = cfg.partners[0].pull = 0;
    if (connections)
        cfg.limits.connections = connections;
    if (per_ip)
        cfg.limits.connections_per_ip = per_ip;
    pm_node_options_t o = {getenv("PM_TEST_NODE_LOG") ? log_line : NULL, NULL, 1};
    pm_node_t *node = NULL;
    if (pm_node_start(&cfg, &o, &node, &e))
        fail_msg("start: %s", e.msg);
    snprintf(ca, sizeof ca, "%s/pair/USA/ca/ca.pem", g_dir);
    snprintf(cert, sizeof cert, "%s/pair/CAN/node.pem", g_dir);
    snprintf(key, sizeof key, "%s/pair/CAN/node.key", g_dir);
    snprintf(url, sizeof url, "https://127.0.0.1:%u/v1/partner/hello", pm_node_port(node));
    char agr[128];
    snprintf(agr, sizeof agr, "Perimeter-Agreement: %s", cfg.partners[0].agreement->hash_hex);
    struct curl_slist *hdrs = curl_slist_append(NULL, agr);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)N * 2);
    CURL *h[N];
    one_t res[N];
    memset(res, 0, sizeof res);
    for (int i = 0; i < N; i++) {
        h[i] = curl_easy_init();
        assert_non_null(h[i]);
        curl_easy_setopt(h[i], CURLOPT_URL, url);
        curl_easy_setopt(h[i], CURLOPT_CAINFO, ca);
        /* only the node's CA: without this libcurl (GnuTLS) also loads the
         * system store, ~430 certificates, for every connection */
        curl_easy_setopt(h[i], CURLOPT_CAPATH, NULL);
        curl_easy_setopt(h[i], CURLOPT_ERRORBUFFER, res[i].err);
        curl_easy_setopt(h[i], CURLOPT_SSLCERT, cert);
        curl_easy_setopt(h[i], CURLOPT_SSLKEY, key);
        curl_easy_setopt(h[i], CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h[i], CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h[i], CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h[i], CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h[i], CURLOPT_HEADERDATA, &res[i]);
        curl_easy_setopt(h[i], CURLOPT_PRIVATE, &res[i]);
        curl_multi_add_handle(m, h[i]);
    }
    int running = 1, done = 0;
    *ok = *refused = 0;
    while (done < N) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            one_t *r = NULL;
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            done++;
            if (msg->data.result != CURLE_OK)
                fail_msg("connection %d of %d: %s: %s (no HTTP answer)", done, N,
                         curl_easy_strerror(msg->data.result), r->err);
            if (code == 200)
                ++*ok;
            else if (code == 503 && r->retry_after)
                ++*refused;
            else
                fail_msg("HTTP %ld%s", code, code == 503 ? " without Retry-After" : "");
        }
        if (done < N && running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
        else if (done < N && !running)
            fail_msg("%d of %d transfers ended without a result", N - done, N);
    }
    for (int i = 0; i < N; i++) {
        curl_multi_remove_handle(m, h[i]);
        curl_easy_cleanup(h[i]);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(hdrs);
    /* the refusals in the node's metrics (GET /metrics, public), on a new
     * connection once the N above are closed */
    char base[96];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", pm_node_port(node));
    pm_node_request_t rq = {base, ca, NULL, NULL, NULL, 30, 0, NULL};
    long status = 0;
    pm_buf_t b;
    *metric = ~0ull;
    unsigned own = 0; /* this loop's own refusals (the N may still be open) */
    for (int tries = 0; tries < 50; tries++) { /* the node closes them asynchronously */
        if (pm_node_call(&rq, "GET", "/metrics", NULL, 0, NULL, &status, &b, &e))
            fail_msg("metrics: %s", e.msg);
        if (status == 200) {
            pm_buf_append(&b, "", 1);
            const char *v = strstr((const char *)b.data, "\nperimeter_connections_refused_total ");
            assert_non_null(v);
            *metric = strtoull(v + strlen("\nperimeter_connections_refused_total "), NULL, 10) - own;
            pm_buf_free(&b);
            break;
        }
        pm_buf_free(&b);
        if (status != 503)
            fail_msg("metrics: HTTP %ld", status);
        own++;
        usleep(100000);
    }
    assert_int_equal(status, 200);
    pm_node_stop(node, 2000);
    pm_node_config_free(&cfg);
}

/* Default limits: all N answered 200 (N well under limits.connections 256
 * and connections_per_ip 128). */
static void test_conns_default(void **state)
{
    (void)state;
    unsigned ok, refused;
    unsigned long long metric;
    run(0, 0, &ok, &refused, &metric);
    assert_int_equal(ok, N);
    assert_int_equal(refused, 0);
    assert_int_equal(metric, 0);
}

/* limits.connections 20: the first 20 connections stay open through the
 * run, so each of the other 40 is accepted past the limit and refused 503. */
static void test_conns_total_limit(void **state)
{
    (void)state;
    unsigned ok, refused;
    unsigned long long metric;
    run(20, 0, &ok, &refused, &metric);
    assert_int_equal(ok + refused, N);
    assert_int_equal(ok, 20);
    assert_int_equal(refused, N - 20);
    assert_int_equal(metric, N - 20);
}

/* limits.connections_per_ip 10 (all from 127.0.0.1). */
static void test_conns_per_ip_limit(void **state)
{
    (void)state;
    unsigned ok, refused;
    unsigned long long metric;
    run(0, 10, &ok, &refused, &metric);
    assert_int_equal(ok, 10);
    assert_int_equal(refused, N - 10);
    assert_int_equal(metric, N - 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conns_default),
        cmocka_unit_test(test_conns_total_limit),
        cmocka_unit_test(test_conns_per_ip_limit),
    };
    return PM_RUN_TESTS("node_conns", tests, setup, teardown);
}
