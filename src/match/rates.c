/* Verification error rates (EER, FMR100, FMR1000, ZeroFMR) and DET points. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/error.h"
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

typedef struct qrank {
    int q;
    uint32_t idx;
} qrank_t;

static int cmp_qrank(const void *x, const void *y)
{
    const qrank_t *a = x, *b = y;
    if (a->q != b->q)
        return a->q < b->q ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

int pm_match_error_reject(const pm_match_pair_t *pairs, size_t npairs, const int *quality,
                          size_t nviews, const double *reject, int nreject, double *out_eer,
                          size_t *out_kept, pm_error_t *err)
{
    if (!pairs || !npairs || !quality || !nviews || nviews > UINT32_MAX || !reject || nreject < 1 ||
        !out_eer)
        return pm_error_set(err, PM_EINVAL, "error-reject: nothing to evaluate");
    for (size_t i = 0; i < npairs; i++)
        if (pairs[i].a >= nviews || pairs[i].b >= nviews)
            return pm_error_set(err, PM_EINVAL, "error-reject: pair %zu names view %u of %zu", i,
                                pairs[i].a >= nviews ? pairs[i].a : pairs[i].b, nviews);
    for (int k = 0; k < nreject; k++)
        if (!(reject[k] >= 0.0 && reject[k] <= 0.9))
            return pm_error_set(err, PM_EINVAL, "error-reject: share %g outside 0..0.9", reject[k]);
    qrank_t *rank = malloc(nviews * sizeof *rank);
    uint8_t *out = malloc(nviews);
    double *g = malloc(npairs * sizeof *g), *im = malloc(npairs * sizeof *im);
    int rc = PM_OK;
    if (!rank || !out || !g || !im)
        rc = pm_error_set(err, PM_ENOMEM, "error-reject: out of memory");
    if (!rc) {
        for (size_t v = 0; v < nviews; v++)
            rank[v] = (qrank_t){quality[v], (uint32_t)v};
        qsort(rank, nviews, sizeof *rank, cmp_qrank);
    }
    for (int k = 0; k < nreject && !rc; k++) {
        size_t drop = (size_t)floor(reject[k] * (double)nviews + 1e-9);
        memset(out, 0, nviews);
        for (size_t v = 0; v < drop; v++)
            out[rank[v].idx] = 1;
        size_t ng = 0, ni = 0;
        for (size_t i = 0; i < npairs; i++) {
            if (out[pairs[i].a] || out[pairs[i].b])
                continue;
            if (pairs[i].genuine)
                g[ng++] = pairs[i].score;
            else
                im[ni++] = pairs[i].score;
        }
        if (!ng || !ni) {
            rc = pm_error_set(err, PM_EINVAL,
                              "error-reject: no %s comparison left after rejecting %.0f%%",
                              ng ? "impostor" : "genuine", 100 * reject[k]);
            break;
        }
        pm_match_rates_t r;
        rc = pm_match_rates(g, ng, im, ni, &r, err);
        out_eer[k] = r.eer;
        if (out_kept)
            out_kept[k] = ng + ni;
    }
    free(rank);
    free(out);
    free(g);
    free(im);
    return rc;
}
