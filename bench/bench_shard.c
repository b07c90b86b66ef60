/* bench_shard: one synthetic gallery searched directly (the baseline, same
 * process) and through NATS as 1, 2 and 4 shards (in-process shard servers,
 * each with its own gallery and worker pool, on a nats-server the caller
 * starts): search latency p50/p95 per layout, and the transport + merge
 * overhead per query (1 shard over NATS minus the direct search).
 *
 *   bench_shard --nats URL [--fingers N] [--probes P] [--threads T] [--exhaustive]
 *
 * e.g. nats-server -a 127.0.0.1 -p 14222 & \
 *      build/bench/bench_shard --nats nats://127.0.0.1:14222 --fingers 100000
 *
 * Data: pm_gallery_synth masters (seed 3), impression 0 enrolled at position
 * 1, probes = impression 1 of P enrolled subjects (mated). The same probes in
 * the same order for every layout; the first-stage search (first_stage = 1,
 * the gallery's defaults) unless --exhaustive. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"
#include "perimeter/gallery.h"
#include "perimeter/shard.h"

#define SEED 3

static double pct(double *v, size_t n, double p)
{
    /* nearest rank on a sorted copy */
    double *c = malloc(n * sizeof *c);
    if (!c)
        return 0;
    memcpy(c, v, n * sizeof *c);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && c[j - 1] > c[j]; j--) {
            double t = c[j];
            c[j] = c[j - 1];
            c[j - 1] = t;
        }
    size_t k = (size_t)(p * (double)n + 0.999999);
    double r = c[k ? k - 1 : 0];
    free(c);
    return r;
}

static pm_gallery_t *build(long fingers, int shard, int shards, int threads)
{
    pm_gallery_options_t go = {threads};
    pm_gallery_t *g = NULL;
    pm_error_t e;
    if (pm_gallery_new(&go, &g, &e)) {
        fprintf(stderr, "bench_shard: %s\n", pm_error_text(&e));
        exit(3);
    }
    pm_fingerprint_t *m = malloc(sizeof *m), *fp = malloc(sizeof *fp);
    if (!m || !fp)
        exit(3);
    for (long s = 1; s <= fingers; s++) {
        if (shards > 1 && pm_shard_of((uint64_t)s, shards) != shard)
            continue;
        pm_gallery_synth_master(SEED, (uint64_t)s, m);
        pm_gallery_synth_impression(m, SEED, (uint64_t)s, 0, NULL, fp);
        if (pm_gallery_insert(g, (uint64_t)s, 1, 1, fp, &e) && e.code != PM_EVALIDATION) {
            fprintf(stderr, "bench_shard: %s\n", pm_error_text(&e));
            exit(3);
        }
    }
    free(m);
    free(fp);
    return g;
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    long fingers = 100000, probes = 15, threads = 1;
    int exhaustive = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--exhaustive")) {
            exhaustive = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_shard: %s needs a value\n", argv[i]);
            return 2;
        }
        char *end = NULL;
        const char *v = argv[++i];
        if (!strcmp(argv[i - 1], "--nats"))
            url = v;
        else if (!strcmp(argv[i - 1], "--fingers"))
            fingers = strtol(v, &end, 10);
        else if (!strcmp(argv[i - 1], "--probes"))
            probes = strtol(v, &end, 10);
        else if (!strcmp(argv[i - 1], "--threads"))
            threads = strtol(v, &end, 10);
        else
            end = (char *)"x";
        if (end && *end) {
            fprintf(stderr, "usage: bench_shard --nats URL [--fingers N] [--probes P] "
                            "[--threads T] [--exhaustive]\n");
            return 2;
        }
    }
    if (!url || fingers < 100 || probes < 1 || probes > 1000 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: bench_shard --nats URL [--fingers N] [--probes P] [--threads T] "
                        "[--exhaustive]\n");
        return 2;
    }
    pm_error_t e;
    pm_gallery_search_options_t o;
    memset(&o, 0, sizeof o);
    o.max_candidates = 10;
    o.threshold = 0;
    o.first_stage = !exhaustive;
    pm_fingerprint_t *probe = calloc((size_t)probes, sizeof *probe);
    pm_fingerprint_t m;
    if (!probe)
        return 3;
    for (long p = 0; p < probes; p++) {
        uint64_t s = 1 + (uint64_t)(p * (fingers / probes));
        pm_gallery_synth_master(SEED, s, &m);
        pm_gallery_synth_impression(&m, SEED, s, 1, NULL, &probe[p]);
    }
    static const int layouts[3] = {1, 2, 4};
    double *lat = calloc((size_t)probes, sizeof *lat);
    double direct_p50 = 0, direct_p95 = 0;
    pm_gallery_t *whole = NULL;
    printf("bench_shard: %ld synthetic fingers, %ld mated probes, %s search, %ld thread(s) per "
           "gallery\n",
           fingers, probes, exhaustive ? "exhaustive" : "first-stage", threads);
    printf("%-22s %10s %10s %10s %8s\n", "layout", "p50 ms", "p95 ms", "rank-1", "partial");
    /* baseline: the whole gallery, searched directly */
    {
        pm_gallery_t *g = build(fingers, 0, 1, (int)threads);
        int hits = 0;
        pm_gallery_candidate_t c[10];
        for (long p = 0; p < probes; p++) {
            pm_gallery_finger_t f = {1, &probe[p]};
            size_t n = 0;
            uint64_t t0 = pm_now_ns();
            if (pm_gallery_identify(g, &f, 1, &o, c, &n, NULL, &e)) {
                fprintf(stderr, "bench_shard: %s\n", pm_error_text(&e));
                return 3;
            }
            lat[p] = (double)(pm_now_ns() - t0) / 1e6;
            hits += n && c[0].subject == 1 + (uint64_t)(p * (fingers / probes));
        }
        direct_p50 = pct(lat, (size_t)probes, 0.5);
        direct_p95 = pct(lat, (size_t)probes, 0.95);
        printf("%-22s %10.2f %10.2f %7d/%-3ld %8s\n", "direct (no NATS)", direct_p50, direct_p95,
               hits, probes, "-");
        whole = g;
    }
    double one_p50 = 0;
    double *diff = calloc((size_t)probes, sizeof *diff);
    if (!diff)
        return 3;
    for (int L = 0; L < 3; L++) {
        int S = layouts[L];
        pm_gallery_t *g[4];
        pm_shard_server_t *srv[4];
        char prefix[32];
        snprintf(prefix, sizeof prefix, "bench.%d", S);
        for (int k = 0; k < S; k++) {
            g[k] = build(fingers, k, S, (int)threads);
            pm_shard_server_options_t so = {url, k, S, prefix, 0};
            if (pm_shard_server_start(g[k], &so, &srv[k], &e)) {
                fprintf(stderr, "bench_shard: %s\n", pm_error_text(&e));
                return 3;
            }
        }
        pm_shard_client_t *cl = NULL;
        if (pm_shard_client_open(url, S, prefix, &cl, &e)) {
            fprintf(stderr, "bench_shard: %s\n", pm_error_text(&e));
            return 3;
        }
        int hits = 0, partial = 0;
        pm_gallery_candidate_t c[10];
        for (long p = 0; p < probes; p++) {
            pm_gallery_finger_t f = {1, &probe[p]};
            size_t n = 0;
            pm_shard_answer_t a;
            uint64_t t0 = pm_now_ns();
            if (pm_shard_identify(cl, &f, 1, &o, 600000, c, &n, &a, &e)) {
                fprintf(stderr, "bench_shard: %s\n", pm_error_text(&e));
                return 3;
            }
            lat[p] = (double)(pm_now_ns() - t0) / 1e6;
            partial += a.partial;
            if (S == 1) {
                /* paired: the same probe searched directly right after, so
                 * the difference cancels the machine's drifting load */
                pm_gallery_candidate_t d[10];
                size_t nd = 0;
                uint64_t t1 = pm_now_ns();
                if (pm_gallery_identify(whole, &f, 1, &o, d, &nd, NULL, &e))
                    return 3;
                diff[p] = lat[p] - (double)(pm_now_ns() - t1) / 1e6;
            }
            hits += n && c[0].subject == 1 + (uint64_t)(p * (fingers / probes));
        }
        double p50 = pct(lat, (size_t)probes, 0.5), p95 = pct(lat, (size_t)probes, 0.95);
        if (S == 1)
            one_p50 = p50;
        char name[40];
        snprintf(name, sizeof name, "%d shard%s over NATS", S, S > 1 ? "s" : "");
        printf("%-22s %10.2f %10.2f %7d/%-3ld %8d\n", name, p50, p95, hits, probes, partial);
        pm_shard_client_close(cl);
        for (int k = 0; k < S; k++) {
            pm_shard_server_stop(srv[k]);
            pm_gallery_free(g[k]);
        }
    }
    printf("transport + merge + (de)serialisation overhead per query: median of paired\n"
           "differences (1 shard over NATS - the same probe searched directly): %.3f ms\n",
           pm_median(diff, (size_t)probes));
    printf("ratio 1 shard / direct (p50 of each run): %.3f\n",
           direct_p50 > 0 ? one_p50 / direct_p50 : 0);
    pm_gallery_free(whole);
    free(diff);
    free(lat);
    free(probe);
    return 0;
}
