/* Perimeter match module: 1:1 comparison of two finger views' minutiae.
 *
 * A view is first prepared once (pm_match_prepare): minutiae scaled to 500 ppi,
 * a neighbour graph of minutia-pair edges (length and the two angles of the
 * minutiae relative to the edge, all invariant to translation and rotation)
 * and a hash of those edges. A comparison then finds root pairs through the
 * hash, grows a pairing along the edges with distance-dependent tolerances and
 * scores it by the paired minutiae and supporting edges, normalised by the
 * minutiae in the overlap (docs/match.md).
 *
 * The score is calibrated to the false-match rate: score = -10*log10(FMR),
 * so 30 means about one false match in 1,000 impostor comparisons and 40 one
 * in 10,000, whatever the sensor. 0 means no evidence at all. */
#ifndef PERIMETER_MATCH_H
#define PERIMETER_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/error.h"
#include "perimeter/minutiae.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A prepared (compiled) view: immutable after pm_match_prepare, so one
 * template may be compared from many threads at once. */
typedef struct pm_match_template pm_match_template_t;

/* Per-thread scratch space for comparisons (about 250 KB). */
typedef struct pm_matcher pm_matcher_t;

/* Details of one comparison. */
typedef struct pm_match_result {
    double score;   /* calibrated: -10*log10(FMR), >= 0 */
    double raw;     /* uncalibrated similarity the score is mapped from */
    int paired;     /* minutiae paired in the best pairing */
    int support;    /* edges between paired minutiae consistent in both views */
    int overlap_a;  /* minutiae of A inside B's area after alignment */
    int overlap_b;  /* minutiae of B inside A's area after alignment */
    double rotation; /* radians, B = R(rotation) A + t, in 500 ppi pixels */
    double dx, dy;
} pm_match_result_t;

/* Prepares a view for comparison. *out is malloc'd; free it with
 * pm_match_template_free. Returns PM_EINVAL on a NULL or inconsistent view,
 * PM_ENOMEM on allocation failure. A view with fewer than 3 minutiae is
 * accepted (it simply never matches). */
int pm_match_prepare(const pm_fingerprint_t *fp, pm_match_template_t **out, pm_error_t *err);
/* Prepares a view that will only ever be the second template (b) of
 * pm_match_compare, as a gallery's candidates are: without the edge hash,
 * which only the first template's side reads (about half the preparation
 * time). Comparisons with it as b give exactly the scores of a template
 * from pm_match_prepare; as a it matches nothing (score 0). */
int pm_match_prepare_candidate(const pm_fingerprint_t *fp, pm_match_template_t **out,
                               pm_error_t *err);
/* pm_match_prepare_candidate reusing the memory of a template: *t NULL
 * allocates one (as pm_match_prepare_candidate); *t from an earlier call is
 * overwritten in place, without allocating when its room suffices. For a
 * loop over many candidates (a gallery's exact stage): same result, none of
 * the per-candidate allocation and zeroing. On failure *t is freed and set
 * to NULL. Free the last one with pm_match_template_free. */
int pm_match_prepare_candidate_into(const pm_fingerprint_t *fp, pm_match_template_t **t,
                                    pm_error_t *err);
/* Frees a prepared template (NULL is fine). */
void pm_match_template_free(pm_match_template_t *t);
/* Bytes the prepared template occupies. */
size_t pm_match_template_size(const pm_match_template_t *t);
/* Number of minutiae kept in the prepared template. */
int pm_match_template_count(const pm_match_template_t *t);

/* Allocates per-thread scratch; free with pm_matcher_free. PM_ENOMEM on failure. */
int pm_matcher_new(pm_matcher_t **out, pm_error_t *err);
void pm_matcher_free(pm_matcher_t *m);

/* Options of the comparison, held by a matcher (per thread). The defaults
 * (pm_match_options_default) are the values chosen by cross-validation across
 * the FVC2002 databases (docs/match.md). */
typedef struct pm_match_options {
    /* Distortion-tolerant consolidation of the best rigid pairing: each
     * minutia's displacement from the rigid alignment is predicted from its
     * paired neighbours (Gaussian weights of this width, px at 500 ppi), the
     * pairing is extended with that local correction and the pairs are scored
     * by their residual from it. 0 = off (rigid only). */
    double local_sigma;
    /* Weight of the minutiae's own quality (0..1) in the overlap
     * normalisation: each minutia counts (1 - w) + w * q / 100, so the paired
     * share of a view's overlap is measured in reliability, and an unpaired
     * low-quality minutia (a likely false one, or one in a poor region) costs
     * less than a reliable one. Minutiae without a quality (0, ISO "not
     * reported") count fully. 0 = quality unused. */
    double quality_weight;
} pm_match_options_t;

/* Fills *o with the shipped defaults. */
void pm_match_options_default(pm_match_options_t *o);
/* Sets the options a matcher compares with (a copy is kept). PM_EINVAL on a
 * NULL argument or a value out of range (local_sigma 0..400, quality_weight
 * 0..1). */
int pm_matcher_set_options(pm_matcher_t *m, const pm_match_options_t *o, pm_error_t *err);

/* Compares two prepared views and returns the calibrated score (>= 0). If
 * out_result is not NULL it receives the details. Never fails (NULL
 * arguments give 0). Not symmetric to the last bit, but nearly. */
double pm_match_compare(pm_matcher_t *m, const pm_match_template_t *a,
                        const pm_match_template_t *b, pm_match_result_t *out_result);

/* One pair of minutiae of a comparison: indices into the minutiae arrays of
 * the two pm_fingerprint_t views the templates were prepared from. */
typedef struct pm_match_minutia_pair {
    int a, b;
} pm_match_minutia_pair_t;

/* The minutiae the last pm_match_compare on m paired: the pairing its score
 * was computed from (after consolidation when the options apply it), so
 * their count is that comparison's pm_match_result_t.paired. a and b must
 * be the two templates of that comparison, in the same order. Writes up to
 * max pairs to out (may be NULL with max 0) and returns the number of pairs;
 * 0 when the last comparison paired nothing or scored 0. */
int pm_match_last_pairs(const pm_matcher_t *m, const pm_match_template_t *a,
                        const pm_match_template_t *b, pm_match_minutia_pair_t *out, int max);

/* Maps a raw similarity to the calibrated score with the fitted table. */
double pm_match_calibrate(double raw);
/* The false-match rate a calibrated score stands for: 10^(-score/10). */
double pm_match_score_to_fmr(double score);

/* Verification error rates from genuine and impostor scores (accept when
 * score >= threshold). Rates are fractions (0.05 = 5%). */
typedef struct pm_match_rates {
    double eer;       /* equal error rate: (FMR + FNMR) / 2 at the threshold where they are closest */
    double eer_threshold; /* that threshold (accept when score >= it) */
    double fmr100;    /* lowest FNMR with FMR <= 1% */
    double fmr1000;   /* lowest FNMR with FMR <= 0.1% */
    double zerofmr;   /* lowest FNMR with FMR = 0 */
} pm_match_rates_t;

/* Computes the rates; the score arrays are not modified. Returns PM_EINVAL
 * when either set is empty, PM_ENOMEM if the sorted copies cannot be made. */
int pm_match_rates(const double *genuine, size_t ngenuine, const double *impostor,
                   size_t nimpostor, pm_match_rates_t *out, pm_error_t *err);

/* One point of a DET curve: the FMR and FNMR at one threshold. Fills up to
 * max_points points over all distinct thresholds (decimated evenly) and
 * returns how many; 0 on bad input or no memory. */
size_t pm_match_det(const double *genuine, size_t ngenuine, const double *impostor,
                    size_t nimpostor, double *out_fmr, double *out_fnmr, size_t max_points);


/* ---- calibration fitting and cross-validated evaluation (docs/match.md) ---- */

/* A raw -> score table like the built-in one (pm_match_calibrate), fitted
 * from impostor raw scores: knots (raw, score) linearly interpolated, and
 * beyond the last knot a logarithmic continuation. */
#define PM_MATCH_CAL_MAX_KNOTS 40
typedef struct pm_match_calibration {
    int nknots;
    double raw[PM_MATCH_CAL_MAX_KNOTS];   /* strictly increasing, raw[0] = 0 */
    double score[PM_MATCH_CAL_MAX_KNOTS]; /* -10*log10(FMR), score[0] = 0 */
    /* the exponential tail log10(FMR) = tail_icpt + tail_slope * raw the
     * tail knots come from (per set: the most conservative set's line is kept
     * for reference only) */
    double tail_icpt, tail_slope;
} pm_match_calibration_t;

/* How pm_match_calibration_fit treats the tail. */
typedef enum pm_match_cal_method {
    /* all sets pooled: empirical quantiles for FMR >= 10%, then an
     * exponential tail fitted by least squares on the pooled top 5% (the
     * method the built-in table was made with) */
    PM_MATCH_CAL_POOLED = 0,
    /* conservative: every set fitted alone (empirical quantile where at least
     * 25 impostors lie above the level, its own exponential tail beyond), and
     * at every FMR level the knot takes the HIGHEST raw threshold of any set,
     * so the claim holds for the worst sensor seen; see docs/match.md */
    PM_MATCH_CAL_CONSERVATIVE = 1,
    /* bound: as conservative, with each set's tail line taken at the upper
     * 95% confidence bound of its decay (shallower where it extrapolates
     * beyond the data); see docs/match.md "Calibration" */
    PM_MATCH_CAL_BOUND = 2,
} pm_match_cal_method_t;

/* Fits a calibration from nsets sets of impostor raw scores (raw[s][0..n[s])).
 * Knots at FMR 50%, 20%, 10%, then every 10^-0.5 down to 1e-7. Returns
 * PM_EINVAL when a set is NULL or holds fewer than 100 scores, PM_ENOMEM. */
int pm_match_calibration_fit(const double *const *raw, const size_t *n, int nsets,
                             pm_match_cal_method_t method, pm_match_calibration_t *out,
                             pm_error_t *err);
/* Maps a raw similarity with a fitted table (pm_match_calibrate uses the
 * built-in one). NULL cal gives the built-in mapping. */
double pm_match_calibrate_with(const pm_match_calibration_t *cal, double raw);

/* Cross-validated evaluation across databases: leave one set out, choose a
 * grid point and fit the calibration on the others, measure on the held-out
 * set; every set is held out once.
 *
 * The caller provides the raw scores of every set under every grid point
 * (grid point g, set s: sets[g * nsets + s]); the grid stands for any
 * parameters that change the scores (extraction, matching). For each fold
 * the grid point with the lowest mean EER (all cross-finger impostors) over
 * the training sets is chosen (ties: the lower mean FMR1000, then the lower
 * index), the calibration is fitted on the training sets' impostors at that
 * point, and the held-out set's raw scores are mapped with it. */
typedef struct pm_match_cv_set {
    const char *name;
    const double *genuine;  /* raw scores of genuine pairs */
    size_t ngenuine;
    const double *impostor; /* raw scores of all cross-finger impostor pairs */
    size_t nimpostor;
    const double *impostor_fvc; /* raw scores of the FVC protocol's impostors (may be NULL) */
    size_t nimpostor_fvc;
} pm_match_cv_set_t;

#define PM_MATCH_CV_MAX_SETS 16
#define PM_MATCH_CV_MAX_GRID 64
/* Thresholds of the calibration check: the share of held-out impostors
 * scoring at or above 20, 30 and 40 (claimed 1%, 0.1%, 0.01%). */
#define PM_MATCH_CV_NCHECK 3

typedef struct pm_match_cv_fold {
    int held_out;              /* index of the held-out set */
    int choice;                /* grid point chosen on the training sets */
    double train_eer;          /* its mean training EER (all impostors) */
    pm_match_rates_t fvc;      /* held out, FVC impostors (zeroed when none given) */
    pm_match_rates_t all;      /* held out, all cross-finger impostors */
    size_t at[PM_MATCH_CV_NCHECK]; /* held-out impostors scoring >= 20/30/40 */
    size_t nimpostor;
    pm_match_calibration_t cal; /* fitted on the training sets */
} pm_match_cv_fold_t;

typedef struct pm_match_cv_result {
    int nfolds;
    pm_match_cv_fold_t fold[PM_MATCH_CV_MAX_SETS];
    pm_match_rates_t mean_fvc, mean_all; /* means of the held-out figures */
    /* all held-out calibrated scores pooled (each set scored by its own
     * fold's calibration and grid point) */
    pm_match_rates_t pooled_all, pooled_fvc;
    size_t pooled_at[PM_MATCH_CV_NCHECK];
    size_t pooled_nimpostor;
} pm_match_cv_result_t;

/* Runs the cross-validation. nsets 2..PM_MATCH_CV_MAX_SETS, ngrid
 * 1..PM_MATCH_CV_MAX_GRID. PM_EINVAL on bad arguments or an empty set,
 * PM_ENOMEM. */
int pm_match_cross_validate(const pm_match_cv_set_t *sets, int ngrid, int nsets,
                            pm_match_cal_method_t method, pm_match_cv_result_t *out,
                            pm_error_t *err);


/* ---- quality: error versus reject ---------------------------------------- */

/* One comparison of an evaluation: the two views (indices into a quality
 * array), genuine (same finger) or not, and its score. */
typedef struct pm_match_pair {
    uint32_t a, b;
    int genuine;
    double score;
} pm_match_pair_t;

/* Error-versus-reject curve: for each share reject[k] (0..0.9), rejects the
 * floor(reject[k] * nviews) views of lowest quality (ties: lower index
 * first), drops every comparison involving a rejected view, and writes the
 * EER of the rest to out_eer[k] (and the comparisons kept to out_kept[k] when
 * out_kept is not NULL). A quality that predicts failure makes the EER fall
 * faster than rejecting at random. PM_EINVAL on bad arguments, a view index
 * out of range or when no genuine or impostor comparison is left; PM_ENOMEM. */
int pm_match_error_reject(const pm_match_pair_t *pairs, size_t npairs, const int *quality,
                          size_t nviews, const double *reject, int nreject, double *out_eer,
                          size_t *out_kept, pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
