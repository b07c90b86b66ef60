/* bench_shard: one synthetic gallery searched directly (the baseline, same
 * process) and through NATS as 1, 2 and 4 shards (in-process shard servers,
 * each with its own gallery and worker pool, on a nats-server the caller
 * starts), all layouts up at once and each probe run on every layout in a
 * rotating order (the machine's drifting load falls on all alike): search
 * latency p50/p95 per layout, each shard's own search time (reported by the
 * shard), and the transport + queueing + merge overhead per query (latency
 * minus the slowest shard's own search time); the load average before and
 * after.
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
#include <sys/resource.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/gallery.h"
#include "perimeter/shard.h"

#define SEED 3
#define NL 3 /* layouts: 1, 2 and 4 shards */

/* CPU seconds of this process so far (every thread: the shard servers'
 * searches, libnats, the coordinator). */
static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static void loadavg(double out[3])
{
    out[0] = out[1] = out[2] = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &out[0], &out[1], &out[2]) != 3)
            out[0] = out[1] = out[2] = -1;
        fclose(f);
    }
}

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
    static const int layouts[NL] = {1, 2, 4};
    double *lat[NL + 1], *ovh[NL], *srch[NL], *diff = calloc((size_t)probes, sizeof *diff);
    double *cpu[NL + 1];
    int hits[NL + 1] = {0}, partial[NL] = {0}, hedged[NL] = {0};
    for (int L = 0; L <= NL; L++) {
        lat[L] = calloc((size_t)probes, sizeof *lat[L]);
        cpu[L] = calloc((size_t)probes, sizeof *cpu[L]);
        if (!cpu[L])
            return 3;
        if (L < NL) {
            ovh[L] = calloc((size_t)probes, sizeof *ovh[L]);
            srch[L] = calloc((size_t)probes, sizeof *srch[L]);
            if (!ovh[L] || !srch[L])
                return 3;
        }
        if (!lat[L])
            return 3;
    }
    if (!diff)
        return 3;
    double load0[3];
    loadavg(load0);
    printf("bench_shard: %ld synthetic fingers, %ld mated probes, %s search, %ld thread(s) per "
           "gallery\n",
           fingers, probes, exhaustive ? "exhaustive" : "first-stage", threads);
    printf("load average at start: %.2f %.2f %.2f (%ld CPUs online)\n", load0[0], load0[1],
           load0[2], sysconf(_SC_NPROCESSORS_ONLN));
    fflush(stdout);
    /* every layout up at once (the 1-shard server serves the whole gallery
     * the direct search uses), so each probe runs on all of them in turn and
     * the machine's drifting load falls on every layout alike */
    pm_gallery_t *whole = build(fingers, 0, 1, (int)threads);
    pm_gallery_t *g[NL][4] = {{NULL}};
    pm_shard_server_t *srv[NL][4] = {{NULL}};
    pm_shard_client_t *cl[NL] = {NULL};
    for (int L = 0; L < NL; L++) {
        int S = layouts[L];
        char prefix[32];
        snprintf(prefix, sizeof prefix, "bench.%d", S);
        for (int k = 0; k < S; k++) {
            g[L][k] = S == 1 ? whole : build(fingers, k, S, (int)threads);
            pm_shard_server_options_t so = {url, k, S, prefix, 0};
            if (pm_shard_server_start(g[L][k], &so, &srv[L][k], &e)) {
                fprintf(stderr, "bench_shard: %s\n", pm_error_text(&e));
                return 3;
            }
        }
        if (pm_shard_client_open(url, S, prefix, &cl[L], &e)) {
            fprintf(stderr, "bench_shard: %s\n", pm_error_text(&e));
            return 3;
        }
        pm_shard_client_set_hedge(cl[L], -1); /* pure transport: no second requests */
    }
    double built[3];
    loadavg(built);
    printf("galleries built; load average %.2f %.2f %.2f\n", built[0], built[1], built[2]);
    fflush(stdout);
    for (long p = 0; p < probes; p++) {
        pm_gallery_finger_t f = {1, &probe[p]};
        uint64_t mate = 1 + (uint64_t)(p * (fingers / probes));
        pm_gallery_candidate_t c[10];
        size_t n = 0;
        double direct_ms = 0;
        for (int step = 0; step <= NL; step++) {
            int L = (int)((step + p) % (NL + 1)); /* the order rotates with the probe */
            uint64_t t0 = pm_now_ns();
            double c0 = cpu_seconds();
            if (L == NL) {
                if (pm_gallery_identify(whole, &f, 1, &o, c, &n, NULL, &e)) {
                    fprintf(stderr, "bench_shard: %s\n", pm_error_text(&e));
                    return 3;
                }
                direct_ms = lat[NL][p] = (double)(pm_now_ns() - t0) / 1e6;
                cpu[NL][p] = (cpu_seconds() - c0) * 1e3;
                hits[NL] += n && c[0].subject == mate;
                continue;
            }
            pm_shard_answer_t a;
            if (pm_shard_identify(cl[L], &f, 1, &o, 600000, c, &n, &a, &e)) {
                fprintf(stderr, "bench_shard: %s\n", pm_error_text(&e));
                return 3;
            }
            lat[L][p] = (double)(pm_now_ns() - t0) / 1e6;
            cpu[L][p] = (cpu_seconds() - c0) * 1e3;
            srch[L][p] = a.shard_seconds_max * 1e3;
            ovh[L][p] = lat[L][p] - srch[L][p];
            partial[L] += a.partial;
            hedged[L] += a.hedged;
            hits[L] += n && c[0].subject == mate;
        }
        diff[p] = lat[0][p] - direct_ms;
        if (isatty(2))
            fprintf(stderr, "\rprobe %ld/%ld", p + 1, probes);
    }
    if (isatty(2))
        fprintf(stderr, "\n");
    double load1[3];
    loadavg(load1);
    printf("%-20s %9s %9s %10s %13s %13s %13s %8s %7s\n", "layout", "p50 ms", "p95 ms",
           "CPU ms p50", "shard p50 ms", "overhead p50", "overhead p95", "rank-1", "partial");
    printf("%-20s %9.2f %9.2f %10.1f %13s %13s %13s %5d/%-3ld %7s\n", "direct (no NATS)",
           pct(lat[NL], (size_t)probes, 0.5), pct(lat[NL], (size_t)probes, 0.95),
           pct(cpu[NL], (size_t)probes, 0.5), "-", "-", "-", hits[NL], probes, "-");
    for (int L = 0; L < NL; L++) {
        char name[40];
        snprintf(name, sizeof name, "%d shard%s over NATS", layouts[L], layouts[L] > 1 ? "s" : "");
        printf("%-20s %9.2f %9.2f %10.1f %13.2f %13.3f %13.3f %5d/%-3ld %7d\n", name,
               pct(lat[L], (size_t)probes, 0.5), pct(lat[L], (size_t)probes, 0.95),
               pct(cpu[L], (size_t)probes, 0.5), pct(srch[L], (size_t)probes, 0.5), pct(ovh[L], (size_t)probes, 0.5),
               pct(ovh[L], (size_t)probes, 0.95), hits[L], probes, partial[L]);
    }
    printf("CPU ms: CPU time of the whole process per query (all shards' searches, NATS,\n"
           "merge), independent of how busy the machine is;\n"
           "shard p50: the slowest shard's own search time per query (median);\n"
           "overhead = query latency at the coordinator - that shard's own search time\n"
           "(transport, queueing, (de)serialisation, merge), per query\n");
    printf("paired difference 1 shard over NATS - the same probe searched directly right\n"
           "before or after (median): %.3f ms\n",
           pm_median(diff, (size_t)probes));
    printf("ratio p50 1 shard / direct: %.3f; 2 shards / direct: %.3f; 4 shards / direct: %.3f\n",
           pct(lat[0], (size_t)probes, 0.5) / pct(lat[NL], (size_t)probes, 0.5),
           pct(lat[1], (size_t)probes, 0.5) / pct(lat[NL], (size_t)probes, 0.5),
           pct(lat[2], (size_t)probes, 0.5) / pct(lat[NL], (size_t)probes, 0.5));
    printf("hedged requests: %d %d %d (hedging off: must be 0)\n", hedged[0], hedged[1],
           hedged[2]);
    printf("load average at end: %.2f %.2f %.2f\n", load1[0], load1[1], load1[2]);
    for (int L = 0; L < NL; L++) {
        pm_shard_client_close(cl[L]);
        for (int k = 0; k < layouts[L]; k++) {
            pm_shard_server_stop(srv[L][k]);
            if (g[L][k] != whole)
                pm_gallery_free(g[L][k]);
        }
        free(ovh[L]);
        free(srch[L]);
    }
    for (int L = 0; L <= NL; L++) {
        free(lat[L]);
        free(cpu[L]);
    }
    pm_gallery_free(whole);
    free(diff);
    free(probe);
    return 0;
}
