/* Checks the identification calibration (docs/gallery.md, "Identification
 * scores") on held-out data: fits pm_gallery_calibration_fit on the
 * 'records best-score' lines of FIT (from `perimeter bench gallery
 * --nonmated-out`, e.g. seed 1) and, for each gallery size in TEST (e.g.
 * seed 2), prints the thresholds for FPIR 1% and 0.1% and the share of
 * TEST's non-mated searches at or above them (measured FPIR), with a 95%
 * upper bound when the count is small, and the calibration curve: measured
 * FPIR at the thresholds for targets 20% .. 0.1%.
 *   build/bench/bench_gallery_calib FIT TEST */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "perimeter/gallery.h"

static size_t read_lines(const char *path, double **x, double **n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t k = 0, cap = 0;
    double a, b;
    while (fscanf(f, "%lf %lf", &a, &b) == 2) {
        if (k == cap) {
            cap = cap ? 2 * cap : 256;
            double *nx = realloc(*x, cap * sizeof *nx), *nn = realloc(*n, cap * sizeof *nn);
            if (!nx || !nn) {
                free(nx ? nx : *x), free(nn ? nn : *n);
                *x = *n = NULL;
                fclose(f);
                return 0;
            }
            *x = nx, *n = nn;
        }
        (*n)[k] = a, (*x)[k] = b, k++;
    }
    fclose(f);
    return k;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_gallery_calib FIT TEST\n");
        return 2;
    }
    double *fx = NULL, *fn = NULL, *tx = NULL, *tn = NULL;
    size_t fk = read_lines(argv[1], &fx, &fn), tk = read_lines(argv[2], &tx, &tn);
    if (!fk || !tk) {
        fprintf(stderr, "bench_gallery_calib: no 'records score' lines in %s\n", !fk ? argv[1] : argv[2]);
        return 1;
    }
    pm_gallery_calibration_t cal;
    pm_error_t err = {0};
    if (pm_gallery_calibration_fit(fx, fn, fk, &cal, &err)) {
        fprintf(stderr, "bench_gallery_calib: %s\n", pm_error_text(&err));
        return 1;
    }
    printf("fitted on %zu searches of %s: loc %.3f, growth %.3f, scale %.3f\n", fk, argv[1], cal.loc,
           cal.growth, cal.scale);
    for (size_t i = 0; i < tk; i++) {
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= tn[j] == tn[i];
        if (seen)
            continue;
        size_t tot = 0;
        for (size_t j = 0; j < tk; j++)
            tot += tn[j] == tn[i];
        printf("%s: %.0f records, %zu non-mated searches:", argv[2], tn[i], tot);
        static const double fpir[2] = {0.01, 0.001};
        for (int t = 0; t < 2; t++) {
            double thr = pm_gallery_threshold(&cal, fpir[t], tn[i]);
            size_t over = 0;
            for (size_t j = 0; j < tk; j++)
                over += tn[j] == tn[i] && tx[j] >= thr;
            /* 95% upper bound of a binomial share (Wilson, z = 1.645) */
            double p = (double)over / (double)tot, z = 1.645, nn = (double)tot;
            double up = (p + z * z / (2 * nn) + z * sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn))) /
                        (1 + z * z / nn);
            printf("  FPIR %g%%: threshold %.2f, measured %.2f%% (%zu), <= %.2f%% at 95%%", 100 * fpir[t],
                   thr, 100 * p, over, 100 * up);
        }
        printf("\n");
        /* the calibration curve as a table: target FPIR against measured */
        static const double curve[] = {0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001};
        printf("  curve (target -> measured FPIR, count):");
        for (size_t t = 0; t < sizeof curve / sizeof curve[0]; t++) {
            double thr = pm_gallery_threshold(&cal, curve[t], tn[i]);
            size_t over = 0;
            for (size_t j = 0; j < tk; j++)
                over += tn[j] == tn[i] && tx[j] >= thr;
            printf(" %g%% -> %.2f%% (%zu)", 100 * curve[t], 100.0 * (double)over / (double)tot, over);
        }
        printf("\n");
    }
    free(fx), free(fn), free(tx), free(tn);
    return 0;
}
