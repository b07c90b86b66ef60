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
/* Frees a prepared template (NULL is fine). */
void pm_match_template_free(pm_match_template_t *t);
/* Bytes the prepared template occupies. */
size_t pm_match_template_size(const pm_match_template_t *t);
/* Number of minutiae kept in the prepared template. */
int pm_match_template_count(const pm_match_template_t *t);

/* Allocates per-thread scratch; free with pm_matcher_free. PM_ENOMEM on failure. */
int pm_matcher_new(pm_matcher_t **out, pm_error_t *err);
void pm_matcher_free(pm_matcher_t *m);

/* Compares two prepared views and returns the calibrated score (>= 0). If
 * out_result is not NULL it receives the details. Never fails (NULL
 * arguments give 0). Not symmetric to the last bit, but nearly. */
double pm_match_compare(pm_matcher_t *m, const pm_match_template_t *a,
                        const pm_match_template_t *b, pm_match_result_t *out_result);

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

#ifdef __cplusplus
}
#endif
#endif
