/* Cost of the gallery's exact stage per candidate, split into its parts
 * (docs/gallery.md, "Exact stage"): N synthetic records packed as the gallery
 * packs them; for each, what stage 2 of a search does: unpack the packed
 * record, prepare it as a candidate (pm_match_prepare_candidate), compare it
 * with a prepared probe, free it. Timed separately on this thread's CPU
 * clock, in R rounds, medians printed:
 *   unpack+prepare+free   the candidate's preparation alone
 *   compare               pm_match_compare on candidates prepared beforehand
 *   stage-2 sequence      unpack + prepare + compare, as stage2 runs it (one
 *                         candidate template reused: pm_match_prepare_candidate_into)
 * P probes (impression 1 of records 0, N/P, ...; mated with one record each)
 * are compared with every record. The checksum is a hash of every score's
 * bits: two builds that print the same checksum scored every pair the same,
 * so a speed change can be checked to change no result (run the old and the
 * new binary one after the other in one script; their ratio is the figure).
 *   build/bench/bench_prepare [seed [N [P [R]]]]   (default 3 2000 4 7)
 * Template-level simulation (pm_gallery_synth_*). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gallery/gallery_internal.h"
#include "perimeter/gallery.h"
#include "perimeter/match.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, dcmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 3;
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 2000;
    long np = argc > 3 ? strtol(argv[3], NULL, 10) : 4;
    int rounds = argc > 4 ? atoi(argv[4]) : 7;
    if (n < 1 || n > 1000000 || np < 1 || np > n || rounds < 1 || rounds > 99) {
        fprintf(stderr, "usage: bench_prepare [seed [N [P [R]]]] (1 <= P <= N <= 1e6, R <= 99)\n");
        return 2;
    }
    uint32_t *minu = malloc((size_t)n * PM_GALLERY_MAX_MINUTIAE * sizeof *minu);
    uint16_t keys[PM_GALLERY_KEYS];
    uint8_t *nmin = malloc((size_t)n), nk;
    pm_fingerprint_t *m = malloc(sizeof *m), *v = malloc(sizeof *v);
    pm_match_template_t **probe = calloc((size_t)np, sizeof *probe);
    pm_match_template_t **cand = calloc((size_t)n, sizeof *cand);
    double *t_prep = calloc((size_t)rounds, sizeof(double));
    double *t_cmp = calloc((size_t)rounds, sizeof(double));
    double *t_seq = calloc((size_t)rounds, sizeof(double));
    pm_matcher_t *mt = NULL;
    pm_error_t err = {0};
    if (!minu || !nmin || !m || !v || !probe || !cand || !t_prep || !t_cmp || !t_seq ||
        pm_matcher_new(&mt, &err))
        return 1;
    long minutiae = 0;
    for (long i = 0; i < n; i++) {
        pm_gallery_synth_master(seed, (uint64_t)i, m);
        pm_gallery_synth_impression(m, seed, (uint64_t)i, 0, NULL, v);
        pm__gal_pack_view(v, minu + (size_t)i * PM_GALLERY_MAX_MINUTIAE, &nmin[i], keys, &nk);
        minutiae += nmin[i];
    }
    for (long p = 0; p < np; p++) {
        long id = p * (n / np);
        pm_gallery_synth_master(seed, (uint64_t)id, m);
        pm_gallery_synth_impression(m, seed, (uint64_t)id, 1, NULL, v);
        if (pm_match_prepare(v, &probe[p], &err)) {
            fprintf(stderr, "bench_prepare: probe: %s\n", pm_error_text(&err));
            return 1;
        }
    }
    uint64_t check = 1469598103934665603ull;
    long mated_top = 0;
    for (int r = 0; r < rounds; r++) {
        /* preparation alone */
        double c0 = cpu_s();
        for (long i = 0; i < n; i++) {
            pm__gal_unpack_view(minu + (size_t)i * PM_GALLERY_MAX_MINUTIAE, nmin[i], 0, v);
            pm_match_template_t *t = NULL;
            if (pm_match_prepare_candidate(v, &t, NULL))
                return 1;
            pm_match_template_free(t);
        }
        t_prep[r] = cpu_s() - c0;
        /* comparison alone (candidates prepared untimed) */
        for (long i = 0; i < n; i++) {
            pm__gal_unpack_view(minu + (size_t)i * PM_GALLERY_MAX_MINUTIAE, nmin[i], 0, v);
            if (pm_match_prepare_candidate(v, &cand[i], NULL))
                return 1;
        }
        double sink = 0;
        c0 = cpu_s();
        for (long p = 0; p < np; p++)
            for (long i = 0; i < n; i++)
                sink += pm_match_compare(mt, probe[p], cand[i], NULL);
        t_cmp[r] = (cpu_s() - c0) / (double)np;
        for (long i = 0; i < n; i++) {
            pm_match_template_free(cand[i]);
            cand[i] = NULL;
        }
        /* what stage2 does: one candidate template per worker, reused */
        c0 = cpu_s();
        pm_match_template_t *t = NULL;
        for (long p = 0; p < np; p++) {
            long id = p * (n / np), best = -1;
            double bs = -1;
            for (long i = 0; i < n; i++) {
                pm__gal_unpack_view(minu + (size_t)i * PM_GALLERY_MAX_MINUTIAE, nmin[i], 0, v);
                if (pm_match_prepare_candidate_into(v, &t, NULL))
                    return 1;
                double s = pm_match_compare(mt, probe[p], t, NULL);
                if (r == 0) {
                    uint64_t bits;
                    memcpy(&bits, &s, sizeof bits);
                    check = (check ^ bits) * 1099511628211ull;
                }
                if (s > bs) {
                    bs = s;
                    best = i;
                }
            }
            if (r == 0)
                mated_top += best == id;
        }
        pm_match_template_free(t);
        t_seq[r] = (cpu_s() - c0) / (double)np;
        if (sink < 0)
            return 1;
    }
    double prep = median(t_prep, rounds), cmp = median(t_cmp, rounds), seq = median(t_seq, rounds);
    double la[3] = {0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
            la[0] = la[1] = la[2] = 0;
        fclose(f);
    }
    printf("bench_prepare: seed %llu, %ld records (%.1f minutiae each), %ld probes, %d rounds, "
           "load %.2f %.2f %.2f\n",
           (unsigned long long)seed, n, (double)minutiae / (double)n, np, rounds, la[0], la[1], la[2]);
    printf("  unpack+prepare+free  %7.2f us/candidate (median of %d rounds)\n", prep / n * 1e6, rounds);
    printf("  compare              %7.2f us/candidate\n", cmp / n * 1e6);
    printf("  stage-2 sequence     %7.2f us/candidate = %.0f candidates/s; preparation %.0f%% of it\n",
           seq / n * 1e6, n / seq, 100.0 * prep / (prep + cmp));
    printf("  mate ranked first for %ld of %ld probes; score checksum %016llx\n", mated_top, np,
           (unsigned long long)check);
    for (long p = 0; p < np; p++)
        pm_match_template_free(probe[p]);
    pm_matcher_free(mt);
    free(minu), free(nmin), free(m), free(v), free(probe), free(cand);
    free(t_prep), free(t_cmp), free(t_seq);
    return 0;
}
