/* Load benchmark of partner biometric queries (issue 13 part 5): a real node
 * (HTTPS, mutual TLS, the policy, the disclosure log with its fsync, the 1:N
 * search of its gallery) whose gallery holds N fingers, queried by C
 * concurrent connections with the partner's certificate.
 *
 *   bench_vet_load [--fingers N] [--conns C] [--requests R] [--probe-fingers F]
 *                  [--probes P] [--format json|an2k] [--exhaustive] [--workers W]
 * --workers W: the node's limits.workers (default: the configuration's, 4).
 * --exhaustive: the node's searches without the gallery's first stage
 * (node.json "gallery": {"first_stage": false}); default: first stage on.
 *
 * Gallery: N/10 synthetic subjects x 10 finger positions, impression 0 of
 * the template-level synthetic masters (pm_gallery_synth_*, seed 3), written
 * to the node's store (the system of record) before it starts; the node
 * loads it at start. Probes: P ten-print (or F-finger) probes, every other
 * one mated (impression 1 of a gallery subject's masters), the others of
 * subjects not enrolled; each query sends one of them in turn
 * (JSON: ISO 19794-2 base64 to /v1/partner/query/biometric; an2k: a PMSR of
 * Type-9 records to /v1/partner/query/vetting). Figures: p50/p95/p99 latency
 * and queries/s over R requests at C keep-alive connections (each
 * connection first makes a GET /v1/partner/hello, its TLS set-up, not
 * measured), and in the same
 * process the baseline GET /v1/partner/hello at the same concurrency. The
 * load average of the machine is printed before and after (the machine is
 * shared). */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "perimeter/an2k.h"
#include "perimeter/core.h"
#include "perimeter/gallery.h"
#include "perimeter/node.h"
#include "perimeter/policy.h"
#include "perimeter/store.h"
#include "perimeter/tmpl.h"

static void die(const char *what, const pm_error_t *e)
{
    fprintf(stderr, "bench_vet_load: %s: %s\n", what, e ? pm_error_text(e) : strerror(errno));
    exit(1);
}

static unsigned long arg_num(int argc, char **argv, const char *name, unsigned long dflt)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return strtoul(argv[i + 1], NULL, 10);
    return dflt;
}

static const char *arg_str(int argc, char **argv, const char *name, const char *dflt)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return dflt;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    return n ? v[(size_t)(p * (double)(n - 1) + 0.5)] : 0;
}

static void loadavg(char *out, size_t cap)
{
    FILE *f = fopen("/proc/loadavg", "r");
    out[0] = '\0';
    if (f) {
        if (!fgets(out, (int)cap, f))
            out[0] = '\0';
        fclose(f);
    }
    out[strcspn(out, "\n")] = '\0';
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

struct conn {
    CURL *h;
    uint64_t n;
    char *buf; /* this connection's copy of the body in flight */
};

/* A probe body; its transaction id ends in TXN_DIGITS zeros at txn_off,
 * replaced by a number unique to each request: the node refuses a
 * transaction id it has seen (409, replay protection). */
#define TXN_DIGITS 9
typedef struct body {
    char *data;
    size_t len, txn_off;
} body_t;

static void set_txn_off(body_t *b, const char *txn)
{
    const char *p = memmem(b->data, b->len, txn, strlen(txn));
    if (!p) {
        fprintf(stderr, "bench_vet_load: transaction id not found in a probe\n");
        exit(1);
    }
    b->txn_off = (size_t)(p - b->data) + strlen(txn) - TXN_DIGITS;
}

/* R requests over C connections, the bodies sent in turn, after one warm-up
 * GET of warm_url per connection (its TLS set-up; not measured); latencies
 * (ms) into *out; returns requests/s. */
static double load(const char *url, const char *warm_url, const char *pair, const char *ctype, const body_t *bodies,
                   size_t nbodies, unsigned c, unsigned r, const char *agreement_hash,
                   double **out, size_t *out_n, unsigned *failed)
{
    char ca[4200], cert[4200], key[4200];
    snprintf(ca, sizeof ca, "%s/USA/ca/ca.pem", pair);
    snprintf(cert, sizeof cert, "%s/CAN/node.pem", pair);
    snprintf(key, sizeof key, "%s/CAN/node.key", pair);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c);
    struct conn *cs = calloc(c, sizeof *cs);
    double *lat = malloc(sizeof *lat * (r + c));
    size_t nlat = 0;
    char ct[96], agr[128];
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
    snprintf(agr, sizeof agr, "Perimeter-Agreement: %s", agreement_hash);
    struct curl_slist *hdrs = curl_slist_append(NULL, ct);
    hdrs = curl_slist_append(hdrs, agr);
    hdrs = curl_slist_append(hdrs, "Expect:");
    FILE *devnull = fopen("/dev/null", "w");
    unsigned started = 0, done = 0, warm = 0;
    *failed = 0;
    for (unsigned i = 0; i < c; i++) {
        CURL *h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, warm_url);
        curl_easy_setopt(h, CURLOPT_CAINFO, ca);
        /* only the node's CA (as pm_node_call): otherwise libcurl (GnuTLS)
         * loads the system store, ~430 certificates, for every connection,
         * CPU in this process counted as the node's */
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, key);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, devnull);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 3600L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_PRIVATE, &cs[i]);
        cs[i].h = h;
        curl_multi_add_handle(m, h);
        started++;
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
                if (++*failed <= 5)
                    fprintf(stderr, "bench_vet_load: request failed: %s, HTTP %ld\n",
                            curl_easy_strerror(msg->data.result), code);
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
                curl_easy_setopt(h, CURLOPT_URL, url);
                if (bodies) {
                    const body_t *b = &bodies[started % nbodies];
                    char num[TXN_DIGITS + 1];
                    free(cn->buf);
                    if (!(cn->buf = malloc(b->len)))
                        die("out of memory", NULL);
                    memcpy(cn->buf, b->data, b->len);
                    snprintf(num, sizeof num, "%0*u", TXN_DIGITS, started);
                    memcpy(cn->buf + b->txn_off, num, TXN_DIGITS);
                    curl_easy_setopt(h, CURLOPT_POSTFIELDS, cn->buf);
                    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
                }
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
        free(cs[i].buf);
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

/* One probe: F views of subject `subject` (impression 1) as a query body. */
static void make_probe(uint64_t seed, uint64_t subject, unsigned fingers, int an2k, unsigned k,
                       body_t *out)
{
    pm_fingerprint_t *views = calloc(fingers, sizeof *views), master;
    pm_error_t e;
    for (unsigned p = 0; p < fingers; p++) {
        uint64_t id = subject * 10 + p;
        pm_gallery_synth_master(seed, id, &master);
        pm_gallery_synth_impression(&master, seed, id, 1, NULL, &views[p]);
        views[p].finger = (int)p + 1;
    }
    char txn[64];
    snprintf(txn, sizeof txn, "LOAD-%u-%0*u", k, TXN_DIGITS, 0u);
    if (an2k) {
        pm_an2k_search_t s = {.header = {.date = "20261204", .dai = "USA", .ori = "CAN", .tcn = txn},
                              .purpose = "ASYLUM",
                              .views = views,
                              .nviews = fingers};
        pm_an2k_txn_t t;
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (pm_an2k_search_build(&s, &t, &e) || pm_an2k_write(&t, &bytes, &len, &e))
            die("probe", &e);
        pm_an2k_free(&t);
        out->data = (char *)bytes;
        out->len = len;
        set_txn_off(out, txn);
    } else {
        pm_buf_t iso = {0};
        if (pm_tmpl_write(PM_TMPL_ISO, views, fingers, &iso, &e))
            die("probe", &e);
        size_t n = sodium_base64_encoded_len(iso.len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = malloc(n);
        sodium_bin2base64(b64, n, iso.data, iso.len, sodium_base64_VARIANT_ORIGINAL);
        pm_buf_free(&iso);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "transaction_id", txn, "purpose", "ASYLUM",
                              "format", "iso19794-2", "data", b64);
        free(b64);
        out->data = json_dumps(o, JSON_COMPACT);
        out->len = strlen(out->data);
        json_decref(o);
        set_txn_off(out, txn);
    }
    free(views);
}

int main(int argc, char **argv)
{
    unsigned long nfingers = arg_num(argc, argv, "--fingers", 100000);
    unsigned long conns = arg_num(argc, argv, "--conns", 50);
    unsigned long requests = arg_num(argc, argv, "--requests", 200);
    unsigned long pf = arg_num(argc, argv, "--probe-fingers", 10);
    unsigned long nprobes = arg_num(argc, argv, "--probes", 20);
    const char *format = arg_str(argc, argv, "--format", "json");
    int an2k = strcmp(format, "an2k") == 0;
    if (nfingers < 10 || !conns || conns > 1000 || !requests || !pf || pf > 10 || !nprobes ||
        (!an2k && strcmp(format, "json"))) {
        fprintf(stderr, "usage: bench_vet_load [--fingers N] [--conns C] [--requests R] "
                        "[--probe-fingers 1..10] [--probes P] [--format json|an2k]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const uint64_t seed = 3;
    const char *tmpdir = getenv("TMPDIR");
    char dir[1024], pair[1200], path[1400];
    snprintf(dir, sizeof dir, "%s/perimeter-bench-vet-load-XXXXXX",
             tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    snprintf(pair, sizeof pair, "%s/pair", dir);
    pm_error_t e;
    pm_node_init_options_t io = {"CAN", "USA", 1, 2, 30};
    if (pm_node_init_pair(pair, &io, &e))
        die("init", &e);
    /* R13: the agreement `init` writes allows 20 biometric queries a day;
     * both sides' copy (the same text, the same hash) is raised above the
     * run's count, so no measured query is a quota refusal */
    static const char *const agrs[] = {"CAN/agreement-USA.json", "USA/agreement-CAN.json"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", pair, agrs[i]);
        json_t *aj = json_load_file(path, 0, NULL);
        json_t *qj = aj ? json_object_get(aj, "quota") : NULL;
        if (!qj || json_object_set_new(qj, "biometric_query", json_integer(1000000)) ||
            json_dump_file(aj, path, JSON_INDENT(2)))
            die("raising the agreement's quota", NULL);
        json_decref(aj);
    }
    pm_node_config_t usa;
    snprintf(path, sizeof path, "%s/USA/node.json", pair);
    if (pm_node_config_load(path, &usa, &e))
        die("config", &e);
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--exhaustive") == 0)
            usa.gallery_exhaustive = 1;
    /* the slow-loris guard (limits.header_timeout_s) closes connections whose
     * TLS set-up and headers take over 10 s, which 50 connections on this
     * loaded 2-core machine do: off here, so the figures are the queries' */
    usa.limits.header_timeout_s = 0;
    unsigned long workers = arg_num(argc, argv, "--workers", 0);
    if (workers >= 1 && workers <= 256)
        usa.limits.workers = (unsigned)workers;
    usa.port = 0;
    usa.partners[0].push = usa.partners[0].pull = 0;

    /* the gallery, written to USA's store in one transaction */
    uint64_t subjects = nfingers / 10, t0 = pm_now_ns();
    pm_store_options_t so = {PM_STORE_DURABLE_FULL, 1, 0, 0};
    pm_store_t *st = NULL;
    if (pm_store_open(usa.store_path, &so, &st, &e) || pm_gallery_store_migrate(st, &e))
        die("store", &e);
    sqlite3 *db = pm_store_sqlite_handle(st);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    pm_fingerprint_t master, fp;
    for (uint64_t s = 0; s < subjects; s++)
        for (int p = 0; p < 10; p++) {
            uint64_t id = s * 10 + (uint64_t)p;
            pm_gallery_synth_master(seed, id, &master);
            pm_gallery_synth_impression(&master, seed, id, 0, NULL, &fp);
            fp.finger = p + 1;
            if (pm_gallery_store_put(st, 1000000 + s, 1, p + 1, &fp, &e))
                die("enrol", &e);
        }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        die("commit", NULL);
    pm_store_close(st);
    printf("bench_vet_load: gallery %llu subjects x 10 = %llu fingers written in %.1f s\n",
           (unsigned long long)subjects, (unsigned long long)subjects * 10,
           (double)(pm_now_ns() - t0) / 1e9);

    body_t *bodies = calloc(nprobes, sizeof *bodies);
    for (unsigned k = 0; k < nprobes; k++) {
        /* even: a gallery subject's second impression; odd: a subject not enrolled */
        uint64_t subj = k % 2 == 0 ? (uint64_t)k * 7919 % subjects : subjects + 1000 + k;
        make_probe(seed, subj, (unsigned)pf, an2k, k, &bodies[k]);
    }

    t0 = pm_now_ns();
    pm_node_options_t quiet = {NULL, NULL, 0};
    pm_node_t *node = NULL;
    if (pm_node_start(&usa, &quiet, &node, &e))
        die("start USA", &e);
    printf("node started (gallery loaded) in %.1f s; %u workers, %u HTTP threads\n",
           (double)(pm_now_ns() - t0) / 1e9, usa.limits.workers, usa.limits.http_threads);
    char url[128], hello[160];
    snprintf(url, sizeof url, "https://127.0.0.1:%u/v1/partner/query/%s", pm_node_port(node),
             an2k ? "vetting" : "biometric");
    snprintf(hello, sizeof hello, "https://127.0.0.1:%u/v1/partner/hello", pm_node_port(node));
    const char *agr = usa.partners[0].agreement->hash_hex;
    char la0[128], la1[128];
    loadavg(la0, sizeof la0);
    double *l0 = NULL, *l1 = NULL;
    size_t n0 = 0, n1 = 0;
    unsigned f0 = 0, f1 = 0;
    double rps0 = load(hello, hello, pair, "application/json", NULL, 0, (unsigned)conns,
                       (unsigned)(requests > 1000 ? requests : 1000), agr, &l0, &n0, &f0);
    double c0 = cpu_seconds();
    t0 = pm_now_ns();
    double rps1 = load(url, hello, pair, an2k ? "application/octet-stream" : "application/json", bodies,
                       nprobes, (unsigned)conns, (unsigned)requests, agr, &l1, &n1, &f1);
    double wall = (double)(pm_now_ns() - t0) / 1e9, cpu = cpu_seconds() - c0;
    loadavg(la1, sizeof la1);
    printf("load average before: %s; after: %s (2 CPUs); node search: %s\n", la0, la1,
           usa.gallery_exhaustive ? "exhaustive" : "first stage");
    printf("%lu connections, %zu measured requests, %lu-finger probes (%lu distinct, half "
           "mated), %s, gallery %llu fingers:\n",
           conns, n1, pf, nprobes, an2k ? "ANSI/NIST PMSR" : "JSON ISO 19794-2",
           (unsigned long long)subjects * 10);
    printf("  %-40s %9s %9s %9s %9s %7s\n", "request", "p50 ms", "p95 ms", "p99 ms", "req/s",
           "failed");
    printf("  %-40s %9.1f %9.1f %9.1f %9.1f %7u\n", "GET /v1/partner/hello (baseline)",
           pct(l0, n0, 0.5), pct(l0, n0, 0.95), pct(l0, n0, 0.99), rps0, f0);
    printf("  %-40s %9.1f %9.1f %9.1f %9.2f %7u\n",
           an2k ? "POST /v1/partner/query/vetting" : "POST /v1/partner/query/biometric",
           pct(l1, n1, 0.5), pct(l1, n1, 0.95), pct(l1, n1, 0.99), rps1, f1);
    printf("  process CPU during the queries: %.1f s over %.1f s wall = %.2f CPU s per query\n",
           cpu, wall, n1 ? cpu / (double)n1 : 0);
    free(l0);
    free(l1);
    pm_node_stop(node, 5000);
    pm_node_config_free(&usa);
    for (unsigned k = 0; k < nprobes; k++)
        free(bodies[k].data);
    free(bodies);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_vet_load: could not remove %s\n", dir);
    curl_global_cleanup();
    return 0;
}
