/* Node benchmark: the partner feed between two real nodes in this process
 * (HTTPS, mutual TLS, the feed job, the receiver's import), and the latency of
 * a small partner query at C concurrent connections.
 *
 *   bench_node [--rows N] [--repeat K] [--conns C] [--requests R]
 *
 * 1. Feed: CAN's store holds N entries (a day of traffic is ~150,000); CAN's
 *    node starts and pushes them to USA's node. Figures: seconds until USA has
 *    all of them, rows/s end to end, and USA's receiving rate (rows over the
 *    time its POST /v1/partner/feed handlers took, from its /metrics). Baseline
 *    in the same process: the same rows imported straight into a fresh store
 *    with the partner mirror (no HTTP), rows/s; the ratio says what the wire
 *    costs. Medians of K runs.
 * 2. Latency: C connections (libcurl multi, keep-alive, CAN's certificate)
 *    send R biographic queries to USA's node; p50/p95/p99 and requests/s.
 *    Baseline in the same run: GET /v1/partner/hello (same TLS and peer
 *    check, no worker, no store). Connection set-up is excluded: each
 *    connection's first request is a warm-up. */
#include <curl/curl.h>
#include <jansson.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/policy.h"
#include "perimeter/node.h"
#include "perimeter/store.h"
#include "perimeter/travel.h"

static void die(const char *what, const pm_error_t *e)
{
    fprintf(stderr, "bench_node: %s: %s\n", what, e ? pm_error_text(e) : strerror(errno));
    exit(1);
}

static unsigned long arg_num(int argc, char **argv, const char *name, unsigned long dflt)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return strtoul(argv[i + 1], NULL, 10);
    return dflt;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static pm_store_t *open_store(const char *path)
{
    pm_store_options_t o = {PM_STORE_DURABLE_FULL, 1, 0, 0};
    pm_store_t *st = NULL;
    pm_error_t e;
    if (pm_store_open(path, &o, &st, &e))
        die("store", &e);
    return st;
}

static void import_mem(const char *db, const pm_buf_t *rows, const char *partner,
                       pm_import_stats_t *s)
{
    pm_store_t *st = open_store(db);
    pm_crossing_reader_t *r = NULL;
    pm_error_t e;
    if (pm_crossing_reader_open_mem((const char *)rows->data, rows->len, PM_CROSSING_FORMAT_JSONL,
                                    &r, &e))
        die("reader", &e);
    pm_import_options_t io = {0, 0, partner, NULL, NULL, NULL};
    int rc = pm_crossings_import(st, r, &io, s, &e);
    if (rc && rc != PM_EPARTIAL)
        die("import", &e);
    pm_crossing_reader_free(r);
    pm_store_close(st);
}

static void rm_db(const char *db)
{
    char p[4200];
    unlink(db);
    snprintf(p, sizeof p, "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db);
    unlink(p);
}

/* The value of a metric line starting with prefix, from the node's /metrics. */
static double scrape(const char *url, const char *ca, const char *prefix)
{
    pm_node_request_t rq = {url, ca, NULL, NULL, NULL, 10, 0, NULL};
    long status = 0;
    pm_buf_t b;
    pm_error_t e;
    if (pm_node_call(&rq, "GET", "/metrics", NULL, 0, NULL, &status, &b, &e) || status != 200)
        die("metrics", &e);
    const char *p = strstr((const char *)b.data, prefix);
    double v = p ? strtod(p + strlen(prefix), NULL) : -1;
    pm_buf_free(&b);
    return v;
}

struct conn {
    CURL *h;
    uint64_t n;
};

/* R requests over C connections; latencies (ms) of all but each connection's
 * first request into out (caller frees); returns requests per second. */
static double load(const char *url, const char *path, const char *body, const char *dir, unsigned c,
                   unsigned r, const char *agreement_hash, double **out, size_t *out_n)
{
    char ca[4200], cert[4200], key[4200], full[4400];
    snprintf(ca, sizeof ca, "%s/USA/ca/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/CAN/node.pem", dir);
    snprintf(key, sizeof key, "%s/CAN/node.key", dir);
    snprintf(full, sizeof full, "%s%s", url, path);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c);
    struct conn *cs = calloc(c, sizeof *cs);
    double *lat = malloc(sizeof *lat * (r + c));
    size_t nlat = 0;
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    char agr[128];
    snprintf(agr, sizeof agr, "Perimeter-Agreement: %s", agreement_hash);
    hdrs = curl_slist_append(hdrs, agr);
    FILE *devnull = fopen("/dev/null", "w");
    unsigned started = 0, done = 0, warm = 0;
    for (unsigned i = 0; i < c && started < r + c; i++, started++) {
        CURL *h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, full);
        curl_easy_setopt(h, CURLOPT_CAINFO, ca);
        curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, key);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, devnull);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        if (body)
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_PRIVATE, &cs[i]);
        cs[i].h = h;
        curl_multi_add_handle(m, h);
    }
    uint64_t t0 = 0;
    int running = 1;
    while (done < r + c) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *h = msg->easy_handle;
            struct conn *cn;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&cn);
            long code = 0;
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result != CURLE_OK || code != 200) {
                fprintf(stderr, "bench_node: request failed: %s, HTTP %ld\n",
                        curl_easy_strerror(msg->data.result), code);
                exit(1);
            }
            curl_off_t us = 0;
            curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &us);
            done++;
            if (cn->n++ > 0)
                lat[nlat++] = (double)us / 1000.0;
            else if (++warm == c)
                t0 = pm_now_ns(); /* every connection is set up */
            curl_multi_remove_handle(m, h);
            if (started < r + c) {
                started++;
                curl_multi_add_handle(m, h);
            }
        }
        if (done < r + c)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    double secs = (double)(pm_now_ns() - (t0 ? t0 : pm_now_ns())) / 1e9;
    for (unsigned i = 0; i < c; i++) {
        curl_multi_remove_handle(m, cs[i].h);
        curl_easy_cleanup(cs[i].h);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(hdrs);
    fclose(devnull);
    free(cs);
    qsort(lat, nlat, sizeof *lat, cmp_double);
    *out = lat;
    *out_n = nlat;
    return secs > 0 ? (double)nlat / secs : 0;
}

int main(int argc, char **argv)
{
    unsigned long rows = arg_num(argc, argv, "--rows", 150000);
    unsigned long repeat = arg_num(argc, argv, "--repeat", 3);
    unsigned long conns = arg_num(argc, argv, "--conns", 50);
    unsigned long requests = arg_num(argc, argv, "--requests", 20000);
    if (!rows || !repeat || repeat > 20 || !conns || conns > 1000 || !requests) {
        fprintf(stderr, "usage: bench_node [--rows N] [--repeat K] [--conns C] [--requests R]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* $TMPDIR (default /tmp): where both nodes keep their stores and logs */
    const char *tmpdir = getenv("TMPDIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/perimeter-bench-node-XXXXXX",
             tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    char pair[4200];
    snprintf(pair, sizeof pair, "%s/pair", dir);
    pm_error_t e;
    pm_node_init_options_t io = {"CAN", "USA", 1, 2, 30};
    if (pm_node_init_pair(pair, &io, &e))
        die("init", &e);

    /* N entries of CAN (sample rows, every one turned into an entry). */
    pm_buf_t jsonl;
    pm_buf_init(&jsonl, 0);
    for (unsigned long i = 0; i < rows; i++) {
        pm_crossing_t c;
        pm_crossing_sample(42, i, "CAN", &c);
        c.direction = PM_DIRECTION_ENTRY;
        if (pm_crossing_to_jsonl(&c, -1, &jsonl))
            die("rows", NULL);
    }
    printf("bench_node: %lu CAN entries (%.1f MB JSON Lines), %lu runs, push batch 5000\n", rows,
           (double)jsonl.len / 1e6, repeat);

    double base[20], e2e[20], recv[20], secs[20];
    char db[4400], db2[4400], url[64], ca[4400];
    snprintf(ca, sizeof ca, "%s/USA/ca/ca.pem", pair);
    pm_node_config_t can, usa;
    char path[4400];
    snprintf(path, sizeof path, "%s/CAN/node.json", pair);
    if (pm_node_config_load(path, &can, &e))
        die("config", &e);
    snprintf(path, sizeof path, "%s/USA/node.json", pair);
    if (pm_node_config_load(path, &usa, &e))
        die("config", &e);
    can.port = usa.port = 0;
    usa.partners[0].push = 0; /* USA has nothing for CAN; keep its job quiet */
    /* the benchmark measures throughput, not the per-caller rate limits */
    can.limits.partner_rate = usa.limits.partner_rate = 0;
    pm_node_t *nusa = NULL;
    for (unsigned long k = 0; k < repeat; k++) {
        /* baseline: straight import with the partner mirror */
        snprintf(db, sizeof db, "%s/base.db", dir);
        rm_db(db);
        pm_import_stats_t s;
        uint64_t t0 = pm_now_ns();
        import_mem(db, &jsonl, "CAN", &s);
        base[k] = (double)rows / ((double)(pm_now_ns() - t0) / 1e9);
        rm_db(db);
        if (s.stored != rows)
            die("baseline stored fewer rows", NULL);

        /* the feed between two nodes */
        snprintf(db, sizeof db, "%s/can-%lu.db", dir, k);
        snprintf(db2, sizeof db2, "%s/usa-%lu.db", dir, k);
        import_mem(db, &jsonl, NULL, &s);
        snprintf(can.store_path, sizeof can.store_path, "%s", db);
        snprintf(usa.store_path, sizeof usa.store_path, "%s", db2);
        pm_node_options_t quiet = {NULL, NULL, 0};
        if (pm_node_start(&usa, &quiet, &nusa, &e))
            die("start USA", &e);
        snprintf(url, sizeof url, "https://127.0.0.1:%u", pm_node_port(nusa));
        snprintf(can.partners[0].url, sizeof can.partners[0].url, "%s", url);
        pm_store_t *src = open_store(db), *dst = open_store(db2);
        int64_t want = 0, got = 0;
        if (pm_store_max_store_id(src, &want, &e))
            die("max id", &e);
        pm_store_close(src);
        pm_node_t *ncan = NULL;
        t0 = pm_now_ns();
        if (pm_node_start(&can, &quiet, &ncan, &e))
            die("start CAN", &e);
        while (got < want) {
            usleep(20000);
            if (pm_store_partner_cursor(dst, "CAN", &got, &e))
                die("cursor", &e);
        }
        secs[k] = (double)(pm_now_ns() - t0) / 1e9;
        pm_store_close(dst);
        pm_node_stop(ncan, 5000);
        double handler = scrape(url, ca,
                                "perimeter_http_request_duration_seconds_sum{method=\"POST\","
                                "route=\"/v1/partner/feed\"} ");
        e2e[k] = (double)rows / secs[k];
        recv[k] = handler > 0 ? (double)rows / handler : 0;
        printf("  run %lu: %.2f s until USA had all %lu, %.0f rows/s end to end, receiving "
               "%.0f rows/s, baseline import %.0f rows/s\n",
               k + 1, secs[k], rows, e2e[k], recv[k], base[k]);
        if (k + 1 < repeat) {
            pm_node_stop(nusa, 5000);
            nusa = NULL;
            rm_db(db2);
        }
        rm_db(db);
    }
    double mb = pm_median(base, repeat), me = pm_median(e2e, repeat), mr = pm_median(recv, repeat);
    printf("feed: median %.2f s until the partner has all %lu; %.0f rows/s end to end; "
           "receiving %.0f rows/s; baseline import (no HTTP) %.0f rows/s; receiving/baseline %.2f\n",
           pm_median(secs, repeat), rows, me, mr, mb, mb > 0 ? mr / mb : 0);

    /* Latency: USA's own entries (a third-country national to find). */
    pm_buf_t usa_rows;
    pm_buf_init(&usa_rows, 0);
    pm_crossing_t probe;
    memset(&probe, 0, sizeof probe);
    for (unsigned long i = 0; i < 20000; i++) {
        pm_crossing_t c;
        pm_crossing_sample(43, i, "USA", &c);
        if (!probe.surname[0] && c.dob.day && strcmp(c.citizenship, "USA") &&
            strcmp(c.citizenship, "CAN"))
            probe = c;
        pm_crossing_to_jsonl(&c, -1, &usa_rows);
    }
    pm_import_stats_t s;
    import_mem(db2, &usa_rows, NULL, &s);
    char dob[16], body[1024];
    pm_dob_format(&probe.dob, dob);
    json_t *q = json_pack("{s:s, s:s, s:s, s:s}", "transaction_id", "bench", "purpose", "ASYLUM",
                          "surname", probe.surname, "date_of_birth", dob);
    char *qs = json_dumps(q, JSON_COMPACT);
    snprintf(body, sizeof body, "%s", qs);
    free(qs);
    json_decref(q);
    double *lat = NULL, *lat0 = NULL;
    size_t n = 0, n0 = 0;
    const char *agr = usa.partners[0].agreement->hash_hex;
    double rps0 = load(url, "/v1/partner/hello", NULL, pair, (unsigned)conns, (unsigned)requests,
                       agr, &lat0, &n0);
    double rps = load(url, "/v1/partner/query/biographic", body, pair, (unsigned)conns,
                      (unsigned)requests, agr, &lat, &n);
    printf("latency at %lu connections, %zu measured requests (ms):\n", conns, n);
    printf("  %-38s %8s %8s %8s %10s\n", "request", "p50", "p95", "p99", "req/s");
    printf("  %-38s %8.2f %8.2f %8.2f %10.0f\n", "GET /v1/partner/hello (baseline)",
           pct(lat0, n0, 0.5), pct(lat0, n0, 0.95), pct(lat0, n0, 0.99), rps0);
    printf("  %-38s %8.2f %8.2f %8.2f %10.0f\n", "POST /v1/partner/query/biographic",
           pct(lat, n, 0.5), pct(lat, n, 0.95), pct(lat, n, 0.99), rps);
    printf("  query/baseline p50 %.2f\n", pct(lat0, n0, 0.5) > 0 ? pct(lat, n, 0.5) / pct(lat0, n0, 0.5) : 0);
    free(lat);
    free(lat0);
    pm_node_stop(nusa, 5000);
    rm_db(db2);
    pm_node_config_free(&can);
    pm_node_config_free(&usa);
    pm_buf_free(&jsonl);
    pm_buf_free(&usa_rows);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_node: could not remove %s\n", dir);
    curl_global_cleanup();
    return 0;
}
