/* Verification error rates (EER, FMR100, FMR1000, ZeroFMR) and DET points. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/match.h"

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double *sorted_copy(const double *v, size_t n)
{
    double *c = malloc(n * sizeof *c);
    if (!c)
        return NULL;
    memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_double);
    return c;
}

/* Walks the distinct thresholds in increasing order and calls
 * visit(threshold, fmr, fnmr, ctx) for each, where a comparison is accepted when
 * score >= threshold: the first threshold is the lowest score (everything
 * accepted), each next one the next distinct score, and the last lies just above
 * the highest score (everything rejected). */
typedef void (*visit_fn)(double threshold, double fmr, double fnmr, void *ctx);

static void walk(const double *g, size_t ng, const double *im, size_t ni, visit_fn visit, void *ctx)
{
    size_t gi = 0, ii = 0;
    double lowest = g[0] < im[0] ? g[0] : im[0];
    visit(lowest, 1.0, 0.0, ctx);
    while (gi < ng || ii < ni) {
        double t;
        if (gi < ng && (ii >= ni || g[gi] <= im[ii]))
            t = g[gi];
        else
            t = im[ii];
        /* reject every score <= t: the threshold is the next distinct score */
        while (gi < ng && g[gi] <= t)
            gi++;
        while (ii < ni && im[ii] <= t)
            ii++;
        double next;
        if (gi < ng && ii < ni)
            next = g[gi] < im[ii] ? g[gi] : im[ii];
        else if (gi < ng)
            next = g[gi];
        else if (ii < ni)
            next = im[ii];
        else
            next = nextafter(t, INFINITY);
        visit(next, (double)(ni - ii) / (double)ni, (double)gi / (double)ng, ctx);
    }
}

typedef struct rates_ctx {
    pm_match_rates_t r;
    double best_gap;
} rates_ctx_t;

static void rates_visit(double threshold, double fmr, double fnmr, void *p)
{
    rates_ctx_t *c = p;
    double gap = fmr > fnmr ? fmr - fnmr : fnmr - fmr;
    if (gap < c->best_gap) {
        c->best_gap = gap;
        c->r.eer = (fmr + fnmr) / 2;
        c->r.eer_threshold = threshold;
    }
    if (fmr <= 0.01 && fnmr < c->r.fmr100)
        c->r.fmr100 = fnmr;
    if (fmr <= 0.001 && fnmr < c->r.fmr1000)
        c->r.fmr1000 = fnmr;
    if (fmr <= 0.0 && fnmr < c->r.zerofmr)
        c->r.zerofmr = fnmr;
}

int pm_match_rates(const double *genuine, size_t ngenuine, const double *impostor,
                   size_t nimpostor, pm_match_rates_t *out, pm_error_t *err)
{
    if (!genuine || !impostor || !out || ngenuine == 0 || nimpostor == 0)
        return pm_error_set(err, PM_EINVAL, "pm_match_rates: need genuine and impostor scores");
    double *g = sorted_copy(genuine, ngenuine), *im = sorted_copy(impostor, nimpostor);
    if (!g || !im) {
        free(g);
        free(im);
        return pm_error_set(err, PM_ENOMEM, "out of memory sorting scores");
    }
    rates_ctx_t c = {.r = {.eer = 1, .fmr100 = 1, .fmr1000 = 1, .zerofmr = 1}, .best_gap = 2};
    walk(g, ngenuine, im, nimpostor, rates_visit, &c);
    *out = c.r;
    free(g);
    free(im);
    return 0;
}

typedef struct det_ctx {
    double *fmr, *fnmr;
    size_t n, cap;
} det_ctx_t;

static void det_visit(double threshold, double fmr, double fnmr, void *p)
{
    (void)threshold;
    det_ctx_t *c = p;
    if (c->n < c->cap) {
        c->fmr[c->n] = fmr;
        c->fnmr[c->n] = fnmr;
    }
    c->n++;
}

size_t pm_match_det(const double *genuine, size_t ngenuine, const double *impostor,
                    size_t nimpostor, double *out_fmr, double *out_fnmr, size_t max_points)
{
    if (!genuine || !impostor || !ngenuine || !nimpostor || !out_fmr || !out_fnmr || !max_points)
        return 0;
    double *g = sorted_copy(genuine, ngenuine), *im = sorted_copy(impostor, nimpostor);
    size_t total = ngenuine + nimpostor + 1;
    det_ctx_t c = {malloc(total * sizeof(double)), malloc(total * sizeof(double)), 0, total};
    size_t out = 0;
    if (g && im && c.fmr && c.fnmr) {
        walk(g, ngenuine, im, nimpostor, det_visit, &c);
        if (c.n <= max_points) {
            memcpy(out_fmr, c.fmr, c.n * sizeof(double));
            memcpy(out_fnmr, c.fnmr, c.n * sizeof(double));
            out = c.n;
        } else {
            for (size_t k = 0; k < max_points; k++) {
                size_t src = max_points > 1 ? k * (c.n - 1) / (max_points - 1) : 0;
                out_fmr[k] = c.fmr[src];
                out_fnmr[k] = c.fnmr[src];
            }
            out = max_points;
        }
    }
    free(g);
    free(im);
    free(c.fmr);
    free(c.fnmr);
    return out;
}
