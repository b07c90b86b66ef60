/* Pre-clearance at the gate, per traveller, as a gate client does it: one
 * process, connections kept open (issue 13 step 2; bench/README.md
 * "Pre-clearance at the gate"). Driven by bench/bench_preclear_gate.sh,
 * which starts the CAN/USA pair, enrols the travellers and writes the
 * request bodies.
 *
 *   bench_gate URL CA_FILE TOKEN DIR N [ROUNDS]
 *
 * DIR/pc<i>.json is traveller i's POST /v1/preclear body (manifest row and
 * 1:1 gate capture), DIR/pq<i>.json his anonymous partner query
 * (POST /v1/partners/CAN/query/biometric). Per traveller: (a) + (b), wall
 * clock on this client. Each round is done twice in the same process: with
 * one kept-open connection (a gate client), and with a fresh connection and
 * TLS handshake per call (what curl-per-call measured); the baseline
 * GET /health is timed in both. p50 / p95 / max, load average printed. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return s * n;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b)
        b[n] = 0, *len = (size_t)n;
    return b;
}

/* one call; returns ms, or -1 on a failure (or an HTTP status other than 200) */
static double g_tls_ms; /* the last call's TCP + TLS set-up (0 on a kept connection) */

static double call(CURL *c, const char *url, const char *auth, const char *body, size_t len,
                   int fresh)
{
    struct curl_slist *h = NULL;
    if (auth)
        h = curl_slist_append(h, auth);
    if (body)
        h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, fresh ? 1L : 0L);
    uint64_t t0 = pm_now_ns();
    CURLcode rc = curl_easy_perform(c);
    double ms = (double)(pm_now_ns() - t0) / 1e6;
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t app = 0;
    curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &app);
    g_tls_ms = (double)app / 1e3;
    curl_slist_free_all(h);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    if (rc != CURLE_OK || status != 200) {
        fprintf(stderr, "bench_gate: %s: %s, HTTP %ld\n", url, curl_easy_strerror(rc), status);
        return -1;
    }
    return ms;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void stats(const char *what, double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    int i95 = (int)(0.95 * n + 0.999) - 1;
    printf("  %-38s p50 %7.1f ms, p95 %7.1f ms, max %7.1f ms (n %d)\n", what, v[(n - 1) / 2],
           v[i95 < 0 ? 0 : i95], v[n - 1], n);
}

static void loadavg(const char *when)
{
    char b[128] = "";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (!fgets(b, sizeof b, f))
            b[0] = 0;
        fclose(f);
    }
    b[strcspn(b, "\n")] = 0;
    printf("load average %s: %s\n", when, b);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench_gate URL CA_FILE TOKEN DIR N [ROUNDS]\n");
        return 2;
    }
    const char *url = argv[1], *ca = argv[2], *dir = argv[4];
    int n = (int)strtol(argv[5], NULL, 10), rounds = argc > 6 ? (int)strtol(argv[6], NULL, 10) : 1;
    if (n < 1 || n > 100000 || rounds < 1 || rounds > 1000)
        return 2;
    char auth[600];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", argv[3]);
    char **pc = calloc((size_t)n, sizeof *pc), **pq = calloc((size_t)n, sizeof *pq);
    size_t *pcl = calloc((size_t)n, sizeof *pcl), *pql = calloc((size_t)n, sizeof *pql);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/pc%d.json", dir, i + 1);
        pc[i] = slurp(path, &pcl[i]);
        snprintf(path, sizeof path, "%s/pq%d.json", dir, i + 1);
        pq[i] = slurp(path, &pql[i]);
        if (!pc[i] || !pq[i]) {
            fprintf(stderr, "bench_gate: cannot read %s\n", path);
            return 1;
        }
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char u_health[1024], u_pre[1024], u_part[1024];
    snprintf(u_health, sizeof u_health, "%s/health", url);
    snprintf(u_pre, sizeof u_pre, "%s/v1/preclear", url);
    snprintf(u_part, sizeof u_part, "%s/v1/partners/CAN/query/biometric", url);
    int total = n * rounds;
    double *v[2][5];
    for (int m = 0; m < 2; m++)
        for (int k = 0; k < 5; k++)
            v[m][k] = calloc((size_t)total, sizeof(double));
    loadavg("before");
    for (int m = 0; m < 2; m++) { /* 0: kept open, 1: fresh connection per call */
        CURL *c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
        /* warm: the connection of a gate client is already open */
        if (call(c, u_health, NULL, NULL, 0, m) < 0)
            return 1;
        int k = 0;
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < n; i++, k++) {
                double h = call(c, u_health, NULL, NULL, 0, m);
                v[m][4][k] = g_tls_ms;
                double a = call(c, u_pre, auth, pc[i], pcl[i], m);
                char *x = strstr(pq[i], "XXXXXXXX");
                if (x) { /* a transaction id never sent before */
                    char id[16];
                    snprintf(id, sizeof id, "%08d", (m * rounds + r) * 100000 + i);
                    memcpy(x, id, 8);
                }
                double b = call(c, u_part, auth, pq[i], pql[i], m);
                if (x)
                    memcpy(x, "XXXXXXXX", 8);
                if (h < 0 || a < 0 || b < 0)
                    return 1;
                v[m][0][k] = h, v[m][1][k] = a, v[m][2][k] = b, v[m][3][k] = a + b;
            }
        curl_easy_cleanup(c);
        printf("per traveller, %d travellers x %d rounds, one at a time, %s:\n", n, rounds,
               m ? "a fresh connection + TLS handshake per call (as curl per call)"
                 : "one connection kept open (a gate client)");
        stats("GET /health (baseline)", v[m][0], total);
        stats("  of which TCP + TLS set-up", v[m][4], total);
        stats("POST /v1/preclear, 1:1 gate", v[m][1], total);
        stats("partner round trip through the node", v[m][2], total);
        stats("end to end (preclear + partner)", v[m][3], total);
        loadavg("after this mode");
    }
    curl_global_cleanup();
    return 0;
}
