/* The fused ten-print score's impostor tail (issue 13 step 1, docs/gallery.md
 * "Fused score calibration").
 *
 *   bench_vet_calib FIT.snap[,FIT2.snap...] [TEST.snap ...] [--scores-out FILE]
 *                   [--curve-out CSV]
 *
 * Each snapshot is a synthetic cohort's partner gallery (`perimeter synth
 * cohort --known N`: ten fingers per subject, impression 2 of ten distinct
 * masters, extracted by our extractor). Every subject is compared, finger
 * position by finger position, with every other subject of the same
 * snapshot (all of them impostors), and the ten finger scores are fused as
 * the node's search fuses them (pm_gallery_fuse, a finger without a score
 * counts 0). The raw fused impostor scores of FIT are fitted
 * (pm_gallery_fused_calibration_fit, tail above the 99% quantile); on each
 * TEST snapshot (another seed: never used to fit) the bench prints how many
 * impostor subject comparisons reach calibrated scores 20 / 30 / 40 / 50
 * (the model says 1e-2 / 1e-3 / 1e-4 / 1e-5 of them; each observed count
 * with its exact 95% Poisson interval), the largest calibrated impostor
 * score, and the best impostor of each subject's search over all the others
 * (FPIR at the nominal thresholds of match_fpir 1% / 0.1%).
 * --scores-out appends "set raw calibrated" per comparison (for the plot).
 *
 * Several FIT snapshots (comma-separated: cohorts of different seeds) are
 * pooled: impostor pairs within each cohort, all pairs fitted together,
 * both as exponential excesses (pm_gallery_fused_calibration_fit_exp) and
 * as generalized Pareto (pm_gallery_fused_calibration_fit). Every set (each
 * fit seed on its own, then each TEST) is then reported against three
 * models: the built-in default, the pooled exponential fit and the pooled
 * GPD fit; a model "holds" on a set when at no level 20..50 it lies below
 * the observed count's 95% interval. With three or more FIT snapshots two
 * more models: the between-cohort fits (pm_gallery_fused_calibration_fit_cohorts,
 * exponential and GPD, z 1.645), each also fitted leaving one FIT cohort
 * out and checked on it. --curve-out writes, per raw fused
 * score, -10*log10 of the share of impostor comparisons at or above it for
 * the pooled fit sets and the pooled TEST sets (flat beyond a set's largest
 * score) and for the three models: `perimeter plot lines` draws it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/gallery.h"
#include "perimeter/match.h"

typedef struct subj {
    uint64_t id;
    pm_match_template_t *probe[11];
    pm_match_template_t *cand[11];
    int nfingers;
} subj_t;

typedef struct set {
    subj_t *s;
    size_t n;
} set_t;

static int load_set(const char *path, set_t *out)
{
    pm_error_t e;
    pm_error_clear(&e);
    pm_gallery_t *g = NULL;
    if (pm_gallery_new(&(pm_gallery_options_t){1}, &g, &e) || pm_gallery_load(g, path, NULL, &e)) {
        fprintf(stderr, "%s: %s\n", path, e.msg);
        return -1;
    }
    pm_gallery_stats_t st;
    if (pm_gallery_stats(g, &st, &e)) {
        fprintf(stderr, "%s: %s\n", path, e.msg);
        return -1;
    }
    out->s = calloc(st.fingers + 1, sizeof *out->s);
    out->n = 0;
    pm_fingerprint_t *fp = malloc(sizeof *fp);
    for (size_t i = 0; i < st.fingers; i++) {
        uint64_t sub;
        uint32_t enc;
        int pos;
        if (pm_gallery_record(g, i, &sub, &enc, &pos, fp, &e))
            break;
        if (pos < 1 || pos > 10)
            continue;
        size_t k = 0;
        while (k < out->n && out->s[k].id != sub)
            k++;
        if (k == out->n)
            out->s[out->n++].id = sub;
        subj_t *s = &out->s[k];
        if (s->probe[pos])
            continue;
        if (pm_match_prepare(fp, &s->probe[pos], &e) ||
            pm_match_prepare_candidate(fp, &s->cand[pos], &e)) {
            fprintf(stderr, "%s: record %zu: %s\n", path, i, e.msg);
            continue;
        }
        s->nfingers++;
    }
    free(fp);
    pm_gallery_free(g);
    return 0;
}

/* raw fused impostor scores of every ordered pair (i probe, j gallery), i != j;
 * best[i] the best of probe i's search over the others */
static double *impostors(const set_t *set, size_t *out_n, double *best)
{
    pm_error_t e;
    pm_matcher_t *m = NULL;
    if (pm_matcher_new(&m, &e))
        return NULL;
    double *v = malloc((set->n * set->n + 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < set->n; i++) {
        best[i] = 0;
        for (size_t j = 0; j < set->n; j++) {
            if (i == j)
                continue;
            double sum = 0, fs[11] = {0};
            for (int p = 1; p <= 10; p++)
                if (set->s[i].probe[p] && set->s[j].cand[p])
                    sum += fs[p] = pm_match_compare(m, set->s[i].probe[p], set->s[j].cand[p], NULL);
            double f = pm_gallery_fuse(sum, set->s[i].nfingers);
            if (f >= 60) { /* the extreme impostors: which fingers carry them */
                printf("  impostor %llu vs %llu: fused %.1f, fingers", (unsigned long long)set->s[i].id,
                       (unsigned long long)set->s[j].id, f);
                for (int p = 1; p <= 10; p++)
                    printf(" %.0f", fs[p]);
                printf("\n");
            }
            v[k++] = f;
            if (f > best[i])
                best[i] = f;
        }
        if (isatty(2))
            fprintf(stderr, "\r  %zu/%zu subjects", i + 1, set->n);
    }
    if (isatty(2))
        fprintf(stderr, "\n");
    pm_matcher_free(m);
    *out_n = k;
    return v;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* P(X <= c) for X ~ Poisson(mu) */
static double pois_cdf(size_t c, double mu)
{
    double term = exp(-mu), sum = term;
    for (size_t i = 1; i <= c; i++)
        term *= mu / (double)i, sum += term;
    return sum;
}

/* exact (Garwood) 95% interval of a Poisson mean given count c */
static void pois_ci(size_t c, double *lo, double *hi)
{
    double a = 0, b = (double)c + 10 * sqrt((double)c + 1) + 10;
    *lo = 0;
    if (c > 0) { /* P(X >= c | lo) = 0.025 */
        double l = 0, h = (double)c;
        for (int it = 0; it < 200; it++) {
            double m = (l + h) / 2;
            if (1 - pois_cdf(c - 1, m) < 0.025)
                l = m;
            else
                h = m;
        }
        *lo = l;
    }
    for (int it = 0; it < 200; it++) { /* P(X <= c | hi) = 0.025 */
        double m = (a + b) / 2;
        if (pois_cdf(c, m) > 0.025)
            a = m;
        else
            b = m;
    }
    *hi = a;
}

static void loadavg(char *buf, size_t n)
{
    FILE *f = fopen("/proc/loadavg", "r");
    buf[0] = 0;
    if (f) {
        if (!fgets(buf, (int)n, f))
            buf[0] = 0;
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = 0;
}

#define NMODEL 5
static const char *model_name[NMODEL] = {"default", "pooled exp", "pooled GPD", "cohorts exp",
                                         "cohorts GPD"};
#define COHORT_Z 1.645 /* one-sided 95%: pm_gallery_fused_calibration_fit_cohorts */

/* prints the counts of set v[0..n) at calibrated 20/30/40/50 under each
 * model; returns a bit mask of the models that under-state it somewhere */
static int report_some(const double *v, size_t n, const pm_gallery_calibration_t *models,
                       int m0, int m1)
{
    int under = 0;
    for (int m = m0; m < m1; m++) {
        size_t over[4] = {0, 0, 0, 0};
        double cmax = 0;
        for (size_t i = 0; i < n; i++) {
            double c = pm_gallery_fused_score(&models[m], v[i]);
            cmax = c > cmax ? c : cmax;
            for (int l = 0; l < 4; l++)
                over[l] += c >= 20 + 10 * l;
        }
        printf("  %-10s:", model_name[m]);
        for (int l = 0; l < 4; l++) {
            double lo, hi, model = (double)n * pow(10.0, -(2 + l));
            pois_ci(over[l], &lo, &hi);
            int below = model < lo;
            under |= below << m;
            printf("  >=%d %zu (%.1f-%.1f) vs %.2f%s", 20 + 10 * l, over[l], lo, hi, model,
                   below ? " UNDER" : "");
        }
        printf("  max %.1f\n", cmax);
    }
    return under;
}

static int report(const double *v, size_t n, const pm_gallery_calibration_t *models, int nm)
{
    return report_some(v, n, models, 0, nm);
}

/* the between-cohort fits (exponential and GPD) of the fit sets other than
 * `skip` (-1: all of them) into models[3] and models[4]; 0 if there are
 * fewer than 3 such sets */
typedef struct scores scores_t;
static int fit_cohorts(const scores_t *sets, int nsets, int skip, pm_gallery_calibration_t *models,
                       int verbose);

struct scores {
    const char *name;
    double *v;
    size_t n;
    int fit;
};

static int run_set(const char *path, int fit, scores_t *out)
{
    set_t set;
    if (load_set(path, &set) || set.n < 2)
        return -1;
    double *best = calloc(set.n, sizeof *best);
    size_t n = 0;
    char la[128];
    uint64_t t0 = pm_now_ns();
    double *v = impostors(&set, &n, best);
    double secs = (double)(pm_now_ns() - t0) / 1e9;
    loadavg(la, sizeof la);
    printf("%s %s: %zu subjects, %zu impostor subject comparisons (%.1f s, load %s)\n",
           fit ? "FIT" : "TEST", path, set.n, n, secs, la);
    double *sorted = malloc(n * sizeof *sorted);
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, cmp_d);
    printf("  raw fused impostor: median %.1f, 99%% %.1f, 99.9%% %.1f, max %.1f\n",
           sorted[n / 2], sorted[(size_t)(0.99 * (double)n)], sorted[(size_t)(0.999 * (double)n)],
           sorted[n - 1]);
    free(sorted);
    free(best);
    *out = (scores_t){path, v, n, fit};
    return 0;
}

static int fit_cohorts(const scores_t *sets, int nsets, int skip, pm_gallery_calibration_t *models,
                       int verbose)
{
    const double *v[32];
    size_t k[32];
    size_t c = 0;
    for (int i = 0; i < nsets; i++)
        if (sets[i].fit && i != skip)
            v[c] = sets[i].v, k[c] = sets[i].n, c++;
    if (c < 3)
        return 0;
    pm_error_t e;
    pm_gallery_cohort_spread_t sp[2];
    for (int g = 0; g < 2; g++)
        if (pm_gallery_fused_calibration_fit_cohorts(v, k, c, 0.99, COHORT_Z, g, &models[3 + g],
                                                     &sp[g], &e)) {
            fprintf(stderr, "cohort fit: %s\n", e.msg);
            return -1;
        }
    if (verbose)
        for (int g = 0; g < 2; g++)
            printf("  %-10s: %zu cohorts, levels at raw %.2f: mean %+.3f sd %.3f, between "
                   "(beyond the counts' noise) %.3f; location moved %+.3f (z %.3f)\n",
                   model_name[3 + g], c, sp[g].u, sp[g].mean, sp[g].sd, sp[g].tau, sp[g].shift,
                   COHORT_Z);
    return 1;
}

/* -10*log10 of the share of v[0..n) (sorted) at or above x, flat beyond the max */
static double emp_score(const double *v, size_t n, double x)
{
    size_t lo = 0, hi = n; /* first index with v >= x */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t c = n - lo;
    return -10 * log10((double)(c ? c : 1) / (double)n);
}

static double *pool(const scores_t *sets, int ns, int fit, size_t *n)
{
    size_t k = 0;
    for (int i = 0; i < ns; i++)
        k += sets[i].fit == fit ? sets[i].n : 0;
    double *v = malloc((k + 1) * sizeof *v);
    k = 0;
    for (int i = 0; i < ns; i++)
        if (sets[i].fit == fit) {
            memcpy(v + k, sets[i].v, sets[i].n * sizeof *v);
            k += sets[i].n;
        }
    *n = k;
    return v;
}

int main(int argc, char **argv)
{
    const char *scores_out = NULL, *curve_out = NULL;
    const char *snaps[16];
    int ns = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--scores-out") && i + 1 < argc)
            scores_out = argv[++i];
        else if (!strcmp(argv[i], "--curve-out") && i + 1 < argc)
            curve_out = argv[++i];
        else if (ns < 16)
            snaps[ns++] = argv[i];
    }
    if (ns < 1) {
        fprintf(stderr, "usage: bench_vet_calib FIT.snap[,FIT2.snap...] [TEST.snap ...] "
                        "[--scores-out FILE] [--curve-out CSV]\n");
        return 2;
    }
    scores_t sets[32];
    int nsets = 0;
    char fitlist[4096];
    snprintf(fitlist, sizeof fitlist, "%s", snaps[0]);
    for (char *p = fitlist; p && *p && nsets < 16;) {
        char *c = strchr(p, ',');
        if (c)
            *c = 0;
        if (run_set(p, 1, &sets[nsets]))
            return 1;
        nsets++;
        p = c ? c + 1 : NULL;
    }
    for (int t = 1; t < ns; t++) {
        if (run_set(snaps[t], 0, &sets[nsets]))
            return 1;
        nsets++;
    }
    size_t nf = 0, nt = 0;
    double *fv = pool(sets, nsets, 1, &nf), *tv = pool(sets, nsets, 0, &nt);
    pm_gallery_calibration_t models[NMODEL];
    pm_gallery_fused_calibration_default(&models[0]);
    pm_error_t e;
    if (pm_gallery_fused_calibration_fit_exp(fv, nf, 0.99, &models[1], &e) ||
        pm_gallery_fused_calibration_fit(fv, nf, 0.99, &models[2], &e)) {
        fprintf(stderr, "fit: %s\n", e.msg);
        return 1;
    }
    printf("pooled fit set: %zu impostor subject comparisons\n", nf);
    int ncoh = fit_cohorts(sets, nsets, -1, models, 1);
    if (ncoh < 0)
        return 1;
    const int nm = ncoh ? NMODEL : 3; /* the cohort models need 3 fit sets */
    for (int m = 0; m < nm; m++)
        printf("  %-10s: loc %.4f scale %.4f shape %.4f above raw %.4f\n", model_name[m],
               models[m].loc, models[m].scale, models[m].shape, models[m].tail_u);
    printf("observed counts at calibrated >= 20 / 30 / 40 / 50 (exact 95%% Poisson interval) vs "
           "each model's expected count; UNDER = the model below the interval\n");
    int under_test = 0;
    FILE *so = scores_out ? fopen(scores_out, "a") : NULL;
    for (int i = 0; i < nsets; i++) {
        printf("%s %s (%zu):\n", sets[i].fit ? "fit" : "held out", sets[i].name, sets[i].n);
        int u = report(sets[i].v, sets[i].n, models, nm);
        if (!sets[i].fit)
            under_test |= u;
        if (so)
            for (size_t j = 0; j < sets[i].n; j++)
                fprintf(so, "%s %.3f %.3f\n", sets[i].fit ? "fit" : "test", sets[i].v[j],
                        pm_gallery_fused_score(&models[0], sets[i].v[j]));
    }
    if (nt) {
        printf("held out, pooled (%zu):\n", nt);
        under_test |= report(tv, nt, models, nm);
        for (int m = 0; m < nm; m++)
            printf("  %-10s: held out: %s\n", model_name[m],
                   under_test >> m & 1 ? "under-states on at least one set" : "holds");
    }
    if (so)
        fclose(so);
    /* leave one cohort out: the cohort models fitted without a fit set,
     * checked on it (a set never used for its own model) */
    int nfit = 0;
    for (int i = 0; i < nsets; i++)
        nfit += sets[i].fit;
    if (nfit >= 4) {
        printf("leave one fit cohort out (the cohort models fitted on the other %d):\n", nfit - 1);
        int held[2] = {0, 0};
        for (int i = 0; i < nsets; i++) {
            if (!sets[i].fit)
                continue;
            pm_gallery_calibration_t lm[NMODEL];
            if (fit_cohorts(sets, nsets, i, lm, 0) != 1)
                return 1;
            printf("without %s (%zu):\n", sets[i].name, sets[i].n);
            int u = report_some(sets[i].v, sets[i].n, lm, 3, 5);
            held[0] += !(u >> 3 & 1);
            held[1] += !(u >> 4 & 1);
        }
        printf("  left out: cohorts exp holds on %d of %d, cohorts GPD on %d of %d\n", held[0], nfit,
               held[1], nfit);
    }
    if (curve_out) {
        FILE *f = fopen(curve_out, "w");
        if (!f) {
            fprintf(stderr, "%s: cannot write\n", curve_out);
            return 1;
        }
        qsort(fv, nf, sizeof *fv, cmp_d);
        if (nt)
            qsort(tv, nt, sizeof *tv, cmp_d);
        double top = fv[nf - 1];
        if (nt && tv[nt - 1] > top)
            top = tv[nt - 1];
        fprintf(f, "raw,fit_seeds,held_out,default,pooled_exp,pooled_gpd%s\n",
                nm == NMODEL ? ",cohorts_exp,cohorts_gpd" : "");
        for (double x = 0; x <= top + 0.25; x += 0.5) {
            fprintf(f, "%.1f,%.3f,%.3f,%.3f,%.3f,%.3f", x, emp_score(fv, nf, x),
                    nt ? emp_score(tv, nt, x) : 0.0, pm_gallery_fused_score(&models[0], x),
                    pm_gallery_fused_score(&models[1], x), pm_gallery_fused_score(&models[2], x));
            if (nm == NMODEL)
                fprintf(f, ",%.3f,%.3f", pm_gallery_fused_score(&models[3], x),
                        pm_gallery_fused_score(&models[4], x));
            fprintf(f, "\n");
        }
        fclose(f);
    }
    for (int i = 0; i < nsets; i++)
        free(sets[i].v);
    free(fv);
    free(tv);
    return 0;
}
