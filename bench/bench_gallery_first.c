/* Development harness of the gallery's first stage (docs/gallery.md, "First
 * stage"): N synthetic records, P mated probes (impression 1 of records spread
 * over the gallery), every probe fast-compared with every record. Prints how
 * many mates rank first / within the best K, how many get no hypothesis
 * (fast score 1), and the CPU time per record, with the load average.
 *   build/bench/bench_gallery_first [seed [N [P [K]]]]   (default 1 5000 600 5)
 * PM_FAST_KEYS=n: keys looked up per record; PM_FAST_BASE_KEYS=n: also time
 * every probe with n keys (same process) and print the ratio; PM_FAST_BASE_SERIAL=1:
 * the baseline checks each key hit as it is looked up (the code before the
 * batched look-up, p->scan_serial) and the scores of the two are compared;
 * PM_FAST_BASE_NOPAIR=1: the baseline checks every key hit (no pair gate).
 * PM_FAST_PAIR=0|1, PM_FAST_PAIR_PX=n, PM_FAST_PAIR_ROT=n: the pair gate.
 * PM_FAST_EXTEND=0|1|2: near misses checked on all the record's minutiae (partial
 * overlaps): never, always, or (2, the default) when the record's centre lands
 * outside the probe; PM_FAST_BASE_NOEXTEND=1 (or PM_FAST_BASE_EXTEND=0|1|2): the
 * baseline's setting.
 * PM_FAST_PER_PROBE=1: a line per probe (its minutiae, us/record, records with
 * a hypothesis, the mate's fast score and rank; with a baseline, the
 * baseline's too), for the cost and the misses by probe size.
 * PM_SYNTH_SHIFTED=share: that share of the probes placed off-centre
 * (pm_gallery_synth_options_t.shift_share: one-sided overlaps).
 * Template-level simulation (pm_gallery_synth_*). Tune on seed 1 only. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gallery/gallery_internal.h"
#include "perimeter/gallery.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int atoi_bounded(const char *s)
{
    long v = strtol(s, NULL, 10);
    return v < 1 ? 1 : v > PM_GALLERY_KEYS ? PM_GALLERY_KEYS : (int)v;
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 5000;
    long np = argc > 3 ? strtol(argv[3], NULL, 10) : 600;
    long k = argc > 4 ? strtol(argv[4], NULL, 10) : 5;
    if (n < 1 || np < 1 || np > n || k < 1) {
        fprintf(stderr, "usage: bench_gallery_first [seed [N [P [K]]]] (P <= N)\n");
        return 2;
    }
    uint32_t *minu = malloc((size_t)n * PM_GALLERY_MAX_MINUTIAE * sizeof *minu);
    uint16_t *keys = malloc((size_t)n * PM_GALLERY_KEYS * sizeof *keys);
    uint8_t *nmin = malloc((size_t)n), *nk = malloc((size_t)n);
    int *sc = malloc((size_t)n * sizeof *sc);
    pm_fingerprint_t *m = malloc(sizeof *m), *v = malloc(sizeof *v);
    pm__gal_probe_t *p = malloc(sizeof *p);
    if (!minu || !keys || !nmin || !nk || !sc || !m || !v || !p)
        return 1;
    for (long i = 0; i < n; i++) {
        pm_gallery_synth_master(seed, (uint64_t)i, m);
        pm_gallery_synth_impression(m, seed, (uint64_t)i, 0, NULL, v);
        pm__gal_pack_view(v, minu + (size_t)i * PM_GALLERY_MAX_MINUTIAE, &nmin[i],
                          keys + (size_t)i * PM_GALLERY_KEYS, &nk[i]);
    }
    long first = 0, topk = 0, nohyp = 0, bfirst = 0, btopk = 0;
    double t = 0, tb = 0, hist_imp = 0;
    /* PM_FAST_BASE_KEYS=n: also time every probe with n keys per record
     * (alternating, same process) and print the ratio */
    int base_cap = getenv("PM_FAST_BASE_KEYS") ? atoi_bounded(getenv("PM_FAST_BASE_KEYS")) : 0;
    int base_serial = getenv("PM_FAST_BASE_SERIAL") != NULL;
    int base_nopair = getenv("PM_FAST_BASE_NOPAIR") != NULL;
    /* PM_FAST_BASE_NOEXTEND=1 is PM_FAST_BASE_EXTEND=0 */
    int base_ext = getenv("PM_FAST_BASE_NOEXTEND")  ? 0
                   : getenv("PM_FAST_BASE_EXTEND") ? atoi(getenv("PM_FAST_BASE_EXTEND"))
                                                    : -1;
    if ((base_serial || base_nopair || base_ext >= 0) && !base_cap)
        base_cap = PM_GALLERY_KEYS;
    int *sb = malloc((size_t)n * sizeof *sb);
    long base_differ = 0;
    if (!sb)
        return 1;
    long imp_over = 0, hm[64] = {0}, hmf[64] = {0}, hn[64] = {0};
    for (long q = 0; q < np; q++) {
        double tbp = 0;
        long who = q * (n / np);
        pm_gallery_synth_master(seed, (uint64_t)who, m);
        /* PM_SYNTH_SHIFTED=share: probes placed off-centre (one-sided overlaps) */
        pm_gallery_synth_options_t so = {0};
        if (getenv("PM_SYNTH_SHIFTED"))
            so.shift_share = atof(getenv("PM_SYNTH_SHIFTED"));
        pm_gallery_synth_impression(m, seed, (uint64_t)who, 1, &so, v);
        pm__gal_probe_build(v, p);
        if (getenv("PM_FAST_PORTABLE"))
            p->avx2 = 0; /* the portable path (same scores) */
        if (getenv("PM_FAST_KEYS"))
            p->key_cap = atoi_bounded(getenv("PM_FAST_KEYS"));
        if (getenv("PM_FAST_PAIR"))
            p->pair_gate = atoi(getenv("PM_FAST_PAIR")) != 0;
        if (getenv("PM_FAST_PAIR_PX"))
            p->pair_px = atoi(getenv("PM_FAST_PAIR_PX"));
        if (getenv("PM_FAST_EXTEND"))
            p->extend = atoi(getenv("PM_FAST_EXTEND"));
        if (getenv("PM_FAST_PAIR_ROT"))
            p->pair_rot = atoi(getenv("PM_FAST_PAIR_ROT"));
        if (base_cap) {
            /* the baseline in the same process: the same probe, key_cap = base_cap */
            int cap = p->key_cap;
            p->key_cap = base_cap;
            p->scan_serial = base_serial;
            int gate = p->pair_gate, ext = p->extend;
            if (base_nopair)
                p->pair_gate = 0;
            if (base_ext >= 0)
                p->extend = base_ext;
            double b0 = cpu_s();
            for (long r = 0; r < n; r++)
                sb[r] = pm__gal_fast_score(p, keys + (size_t)r * PM_GALLERY_KEYS,
                                           minu + (size_t)r * PM_GALLERY_MAX_MINUTIAE, nk[r], nmin[r]);
            tbp = cpu_s() - b0;
            tb += tbp;
            long ab = 0;
            for (long r = 0; r < n; r++)
                if (r != who)
                    ab += sb[r] > sb[who] || (sb[r] == sb[who] && r < who);
            bfirst += ab == 0;
            btopk += ab < k;
            p->key_cap = cap;
            p->scan_serial = 0;
            p->pair_gate = gate;
            p->extend = ext;
        }
        double t0 = cpu_s();
        for (long r = 0; r < n; r++)
            sc[r] = pm__gal_fast_score(p, keys + (size_t)r * PM_GALLERY_KEYS,
                                       minu + (size_t)r * PM_GALLERY_MAX_MINUTIAE, nk[r], nmin[r]);
        double tp = cpu_s() - t0;
        t += tp;
        if (getenv("PM_FAST_PER_PROBE")) {
            long nh = 0, rank = 0;
            for (long r = 0; r < n; r++) {
                nh += sc[r] > 1;
                rank += r != who && (sc[r] > sc[who] || (sc[r] == sc[who] && r < who));
            }
            long brank = 0;
            for (long r = 0; base_cap && r < n; r++)
                brank += r != who && (sb[r] > sb[who] || (sb[r] == sb[who] && r < who));
            printf("probe %ld: %d minutiae, %.3f us/record, %ld records with a hypothesis, mate "
                   "score %d rank %ld; baseline %.3f us/record, mate score %d rank %ld\n",
                   q, p->n, 1e6 * tp / (double)n, nh, sc[who], rank, 1e6 * tbp / (double)n,
                   base_cap ? sb[who] : 0, brank);
        }
        if (base_cap)
            for (long r = 0; r < n; r++)
                base_differ += sc[r] != sb[r];
        long above = 0;
        for (long r = 0; r < n; r++) {
            if (r == who)
                continue;
            above += sc[r] > sc[who] || (sc[r] == sc[who] && r < who);
            hist_imp += sc[r];
            imp_over += sc[r] > 1;
        }
        if (getenv("PM_FAST_HITS")) {
            /* key hits per record: mates against non-mates */
            for (long r = 0; r < n; r++) {
                int h = 0;
                for (int j = 0; j < nk[r] && j < PM_GALLERY_KEYS; j++)
                    for (unsigned qq = p->map[keys[(size_t)r * PM_GALLERY_KEYS + j]]; qq; qq >>= 8)
                        h++;
                int b = h > 63 ? 63 : h;
                if (r == who)
                    hm[b]++, hmf[b] += above == 0;
                else
                    hn[b]++;
            }
        }
        first += above == 0;
        topk += above < k;
        nohyp += sc[who] == 1;
    }
    double la[3] = {0, 0, 0};
    if (getloadavg(la, 3) != 3)
        la[0] = -1;
    printf("seed %llu, %ld records, %ld mated probes: mates first %ld, in best %ld %ld, no hypothesis "
           "%ld; non-mates: mean fast score %.2f, %.1f%% with a hypothesis; %.3f us/record CPU "
           "(load average %.2f)\n",
           (unsigned long long)seed, n, np, first, k, topk, nohyp, hist_imp / (double)(np * (n - 1)),
           100.0 * (double)imp_over / (double)(np * (n - 1)), 1e6 * t / (double)(np * n), la[0]);
    if (base_cap)
        printf("baseline (%d keys per record%s): mates first %ld, in best %ld %ld; %.3f us/record CPU; "
               "this / baseline time %.3f; %ld of %ld scores differ\n",
               base_cap,
               base_serial   ? ", hits checked as looked up"
               : base_nopair ? ", every hit checked (no pair gate)"
                             : "",
               bfirst, k, btopk,
               1e6 * tb / (double)(np * n), t / tb, base_differ, np * n);
    if (getenv("PM_FAST_HITS"))
        for (int b = 0; b < 64; b++)
            if (hm[b] || hn[b])
                printf("hits %2d: mates %ld (first %ld), non-mates %.3f%%\n", b, hm[b], hmf[b],
                       100.0 * (double)hn[b] / (double)(np * (n - 1)));
    free(minu), free(keys), free(nmin), free(nk), free(sc), free(sb), free(m), free(v), free(p);
    return 0;
}
