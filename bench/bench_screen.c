/* bench_screen: per-traveller watchlist screening time.
 *
 *   bench_screen WATCHLIST.csv MANIFEST.csv [ROUNDS]
 *
 * Files from `perimeter synth watchlist` and `perimeter synth manifest`.
 * Loads and finalises the watchlist (timed), then screens every passenger
 * ROUNDS times (default 5) with pm_watchlist_screen_query_min at the default
 * thresholds (94 dated, 95.5 undated entries): plain (hits
 * only, what pre-clearance asks) and with PM_SCREEN_NAME_ONLY (hits and
 * name-only referrals, `perimeter screen --name-only`), interleaved per
 * round. Prints per-traveller medians and p95 of one call (ns, CPU clock of
 * this thread), the per-round totals, and the ratio of the referral mode to
 * the plain one measured in the same process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "perimeter/core.h"
#include "perimeter/link.h"

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct pax {
    char f[8][64]; /* surname, given, middle, dob, sex, citizenship, document, issuer */
    pm_dob_t dob;
} pax_t;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t pct(uint64_t *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_u64);
    return n ? v[(size_t)(p * (double)(n - 1))] : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_screen WATCHLIST.csv MANIFEST.csv [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5;
    if (rounds < 1 || rounds > 100) rounds = 5;
    pm_error_t err = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    if (pm_file_read(argv[1], 256u << 20, &data, &len, &err)) {
        fprintf(stderr, "bench_screen: %s: %s\n", argv[1], pm_error_text(&err));
        return 1;
    }
    pm_watchlist_t *wl = NULL;
    uint64_t t0 = cpu_ns();
    int rc = pm_watchlist_new(&wl, &err);
    if (!rc) rc = pm_watchlist_load_csv(wl, (const char *)data, len, &err);
    if (!rc) rc = pm_watchlist_finalize(wl, &err);
    uint64_t t_load = cpu_ns() - t0;
    free(data);
    if (rc) {
        fprintf(stderr, "bench_screen: %s: %s\n", argv[1], pm_error_text(&err));
        pm_watchlist_free(wl);
        return 1;
    }
    if (pm_file_read(argv[2], 1u << 30, &data, &len, &err)) {
        fprintf(stderr, "bench_screen: %s: %s\n", argv[2], pm_error_text(&err));
        pm_watchlist_free(wl);
        return 1;
    }
    pm_list_row_t *hdr = malloc(sizeof *hdr), *row = malloc(sizeof *row);
    size_t cap = 1024, n = 0, pos = 0;
    uint64_t line = 1;
    pax_t *px = malloc(cap * sizeof *px);
    if (!hdr || !row || !px || pm_list_next((const char *)data, len, &pos, &line, hdr, &err) != 1) {
        fprintf(stderr, "bench_screen: %s: no header\n", argv[2]);
        return 1;
    }
    static const char *const cols[8] = {"surname", "given_names",    "middle_names",
                                        "date_of_birth", "sex",      "citizenship",
                                        "document_number", "document_issuer"};
    int ci[8];
    for (int k = 0; k < 8; k++)
        ci[k] = pm_list_column(hdr, cols[k]);
    while (pm_list_next((const char *)data, len, &pos, &line, row, &err) == 1) {
        if (n == cap) {
            pax_t *np = realloc(px, 2 * cap * sizeof *px);
            if (!np) return 1;
            px = np;
            cap *= 2;
        }
        pax_t *p = &px[n];
        memset(p, 0, sizeof *p);
        for (int k = 0; k < 8; k++)
            if (ci[k] >= 0 && (size_t)ci[k] < row->n)
                snprintf(p->f[k], sizeof p->f[k], "%s", row->f[ci[k]]);
        if (p->f[3][0] && pm_dob_parse(p->f[3], strlen(p->f[3]), &p->dob, NULL))
            memset(&p->dob, 0, sizeof p->dob);
        n++;
    }
    free(data);
    uint64_t *one[2], tot[2][100];
    one[0] = malloc(n * (size_t)rounds * sizeof(uint64_t));
    one[1] = malloc(n * (size_t)rounds * sizeof(uint64_t));
    if (!one[0] || !one[1]) return 1;
    uint64_t nhits[2] = {0, 0};
    for (int r = 0; r < rounds; r++)
        for (int mode = 0; mode < 2; mode++) {
            uint64_t r0 = cpu_ns();
            for (size_t i = 0; i < n; i++) {
                const pax_t *p = &px[i];
                pm_screen_query_t q = {p->f[0], p->f[1], p->f[2], &p->dob,
                                       p->f[4][0], p->f[5], p->f[6], p->f[7]};
                pm_screen_hit_t h[5];
                size_t nh = 0;
                uint64_t a = cpu_ns();
                const pm_screen_min_t m = pm_screen_min_of(0, 0); /* the defaults */
                if (pm_watchlist_screen_query_min(wl, &q, mode ? PM_SCREEN_NAME_ONLY : 0, &m, h, 5,
                                                  &nh, &err)) {
                    fprintf(stderr, "bench_screen: %s\n", pm_error_text(&err));
                    return 1;
                }
                one[mode][(size_t)r * n + i] = cpu_ns() - a;
                if (r == 0) nhits[mode] += nh;
            }
            tot[mode][r] = cpu_ns() - r0;
        }
    printf("watchlist %s: %zu entries, load + finalize %.1f ms CPU\n", argv[1],
           pm_watchlist_count(wl), (double)t_load / 1e6);
    printf("manifest %s: %zu passengers, %d rounds\n", argv[2], n, rounds);
    double med[2];
    for (int mode = 0; mode < 2; mode++) {
        size_t m = n * (size_t)rounds;
        uint64_t p50 = pct(one[mode], m, 0.5), p95 = pct(one[mode], m, 0.95);
        uint64_t p99 = pct(one[mode], m, 0.99);
        med[mode] = (double)pct(tot[mode], (size_t)rounds, 0.5);
        printf("%-22s per traveller p50 %.1f us, p95 %.1f us, p99 %.1f us; round median %.1f ms "
               "(%.0f travellers/CPU-s); rows %llu\n",
               mode ? "hits + name-only:" : "hits only:", (double)p50 / 1e3, (double)p95 / 1e3,
               (double)p99 / 1e3, med[mode] / 1e6, (double)n / (med[mode] / 1e9),
               (unsigned long long)nhits[mode]);
    }
    printf("ratio name-only mode / hits only (round medians): %.3f\n", med[1] / med[0]);
    free(one[0]);
    free(one[1]);
    free(px);
    free(hdr);
    free(row);
    pm_watchlist_free(wl);
    return 0;
}
