/* Cross-validated evaluation across databases: choose the grid point and fit
 * the calibration on all sets but one, measure on that one, rotate
 * (docs/match.md "Held-out evaluation"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/match.h"

static const double check_scores[PM_MATCH_CV_NCHECK] = {20.0, 30.0, 40.0};

static double *calibrated(const pm_match_calibration_t *cal, const double *raw, size_t n)
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = pm_match_calibrate_with(cal, raw[i]);
    return v;
}

static void mean_add(pm_match_rates_t *dst, const pm_match_rates_t *src, int n)
{
    dst->eer += src->eer / n;
    dst->fmr100 += src->fmr100 / n;
    dst->fmr1000 += src->fmr1000 / n;
    dst->zerofmr += src->zerofmr / n;
}

int pm_match_cross_validate(const pm_match_cv_set_t *sets, int ngrid, int nsets,
                            pm_match_cal_method_t method, pm_match_cv_result_t *out,
                            pm_error_t *err)
{
    if (!sets || !out || nsets < 2 || nsets > PM_MATCH_CV_MAX_SETS || ngrid < 1 ||
        ngrid > PM_MATCH_CV_MAX_GRID)
        return pm_error_set(err, PM_EINVAL, "cross-validation: need 2..%d sets and 1..%d grid points",
                            PM_MATCH_CV_MAX_SETS, PM_MATCH_CV_MAX_GRID);
    for (int k = 0; k < ngrid * nsets; k++)
        if (!sets[k].genuine || !sets[k].impostor || !sets[k].ngenuine || !sets[k].nimpostor)
            return pm_error_set(err, PM_EINVAL, "cross-validation: set %d of grid point %d is empty",
                                k % nsets, k / nsets);
    memset(out, 0, sizeof *out);
    /* rates of every (grid point, set): monotone calibration leaves them
     * unchanged, so raw scores give the same EER/FMR1000 */
    pm_match_rates_t *rates = calloc((size_t)ngrid * nsets, sizeof *rates);
    if (!rates)
        return pm_error_set(err, PM_ENOMEM, "cross-validation: out of memory");
    int rc = PM_OK;
    for (int k = 0; k < ngrid * nsets && !rc; k++)
        rc = pm_match_rates(sets[k].genuine, sets[k].ngenuine, sets[k].impostor, sets[k].nimpostor,
                            &rates[k], err);
    size_t ng = 0, ni = 0, nf = 0;
    for (int s = 0; s < nsets; s++) {
        /* pooled sizes take the largest grid point's set sizes */
        size_t mg = 0, mi = 0, mf = 0;
        for (int g = 0; g < ngrid; g++) {
            const pm_match_cv_set_t *x = &sets[g * nsets + s];
            mg = x->ngenuine > mg ? x->ngenuine : mg;
            mi = x->nimpostor > mi ? x->nimpostor : mi;
            mf = x->impostor_fvc && x->nimpostor_fvc > mf ? x->nimpostor_fvc : mf;
        }
        ng += mg;
        ni += mi;
        nf += mf;
    }
    double *pg = malloc((ng ? ng : 1) * sizeof *pg), *pi = malloc((ni ? ni : 1) * sizeof *pi);
    double *pf = malloc((nf ? nf : 1) * sizeof *pf);
    if (!rc && (!pg || !pi || !pf))
        rc = pm_error_set(err, PM_ENOMEM, "cross-validation: out of memory");
    size_t ag = 0, ai = 0, af = 0;
    int have_fvc = 1;
    for (int h = 0; h < nsets && !rc; h++) {
        pm_match_cv_fold_t *f = &out->fold[h];
        f->held_out = h;
        /* grid point: lowest mean training EER, then FMR1000, then index */
        double best_eer = INFINITY, best_fmr = INFINITY;
        for (int g = 0; g < ngrid; g++) {
            double e = 0, m = 0;
            for (int s = 0; s < nsets; s++)
                if (s != h) {
                    e += rates[g * nsets + s].eer / (nsets - 1);
                    m += rates[g * nsets + s].fmr1000 / (nsets - 1);
                }
            if (e < best_eer - 1e-12 || (fabs(e - best_eer) <= 1e-12 && m < best_fmr - 1e-12)) {
                best_eer = e;
                best_fmr = m;
                f->choice = g;
            }
        }
        f->train_eer = best_eer;
        const pm_match_cv_set_t *row = &sets[f->choice * nsets];
        const double *train[PM_MATCH_CV_MAX_SETS];
        size_t ntrain[PM_MATCH_CV_MAX_SETS];
        int nt = 0;
        for (int s = 0; s < nsets; s++)
            if (s != h) {
                train[nt] = row[s].impostor;
                ntrain[nt++] = row[s].nimpostor;
            }
        rc = pm_match_calibration_fit(train, ntrain, nt, method, &f->cal, err);
        if (rc)
            break;
        const pm_match_cv_set_t *test = &row[h];
        f->all = rates[f->choice * nsets + h];
        f->nimpostor = test->nimpostor;
        double *cg = calibrated(&f->cal, test->genuine, test->ngenuine);
        double *ci = calibrated(&f->cal, test->impostor, test->nimpostor);
        double *cf = test->impostor_fvc
                         ? calibrated(&f->cal, test->impostor_fvc, test->nimpostor_fvc)
                         : NULL;
        if (!cg || !ci || (test->impostor_fvc && !cf)) {
            free(cg);
            free(ci);
            free(cf);
            rc = pm_error_set(err, PM_ENOMEM, "cross-validation: out of memory");
            break;
        }
        for (size_t i = 0; i < test->nimpostor; i++)
            for (int c = 0; c < PM_MATCH_CV_NCHECK; c++)
                if (ci[i] >= check_scores[c])
                    f->at[c]++;
        if (cf && test->nimpostor_fvc)
            rc = pm_match_rates(test->genuine, test->ngenuine, test->impostor_fvc,
                                test->nimpostor_fvc, &f->fvc, err);
        else
            have_fvc = 0;
        memcpy(pg + ag, cg, test->ngenuine * sizeof *pg);
        ag += test->ngenuine;
        memcpy(pi + ai, ci, test->nimpostor * sizeof *pi);
        ai += test->nimpostor;
        if (cf) {
            memcpy(pf + af, cf, test->nimpostor_fvc * sizeof *pf);
            af += test->nimpostor_fvc;
        }
        for (int c = 0; c < PM_MATCH_CV_NCHECK; c++)
            out->pooled_at[c] += f->at[c];
        out->pooled_nimpostor += test->nimpostor;
        mean_add(&out->mean_all, &f->all, nsets);
        mean_add(&out->mean_fvc, &f->fvc, nsets);
        free(cg);
        free(ci);
        free(cf);
    }
    if (!rc) {
        out->nfolds = nsets;
        rc = pm_match_rates(pg, ag, pi, ai, &out->pooled_all, err);
        if (!rc && have_fvc && af)
            rc = pm_match_rates(pg, ag, pf, af, &out->pooled_fvc, err);
        if (!have_fvc)
            memset(&out->mean_fvc, 0, sizeof out->mean_fvc);
    }
    free(rates);
    free(pg);
    free(pi);
    free(pf);
    return rc;
}
