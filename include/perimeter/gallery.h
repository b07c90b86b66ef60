/* Perimeter gallery module: 1:N identification over a packed in-memory gallery.
 *
 * A gallery holds finger records: (subject id, encounter id, finger position
 * ISO/ANSI 0..10, minutiae). Each record is packed at insert into a fixed-size
 * slot of a structure of arrays (docs/gallery.md): at most
 * PM_GALLERY_MAX_MINUTIAE minutiae of 4 bytes and PM_GALLERY_KEYS first-stage
 * keys of 2 bytes, 287 bytes per record (under 300 per finger with the index).
 *
 * Search is two-stage:
 *  1. first stage (optional, options.first_stage = 1): a fast comparison of
 *     the probe with every eligible packed record (about 0.8 us each): the
 *     record's triplet keys (quantised minutia-triplet invariants) found in
 *     a map built from the probe propose alignments; each is checked on the
 *     record's central minutiae against a grid built from the probe (a near
 *     miss is checked again turned +-5.6 degrees), the
 *     best are refitted (least squares) and verified on all minutiae. The
 *     records with the best scores survive: max(keep_min, keep_fraction x
 *     eligible). Its cost in FNIR is measured in docs/gallery.md;
 *  2. exact stage: the calibrated 1:1 matcher (pm_match_compare) on the
 *     survivors (on every eligible record when the first stage is off).
 * Scores are calibrated: -10*log10(FMR). Multi-finger probes are fused per
 * subject (sum of per-finger scores mapped back to -10*log10(FMR) of the
 * fused decision, assuming independent fingers: docs/gallery.md).
 *
 * Search is a pure function of (gallery contents, probe, options); it runs on
 * the gallery's worker pool. Inserts and deletes may run from other threads
 * while searches run (a reader-writer lock; a search sees the gallery as it
 * was when it started). All functions are thread-safe on one gallery. */
#ifndef PERIMETER_GALLERY_H
#define PERIMETER_GALLERY_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/error.h"
#include "perimeter/minutiae.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_GALLERY_MAX_MINUTIAE 48 /* minutiae kept per record (best quality first) */
#define PM_GALLERY_KEYS 40         /* first-stage keys per record */
#define PM_GALLERY_MAX_FINGERS 10  /* fingers per probe */
#define PM_GALLERY_MAX_CANDIDATES 1000
#define PM_GALLERY_NAME_MAX 63 /* subset names */

typedef struct pm_gallery pm_gallery_t;

typedef struct pm_gallery_options {
    int threads; /* worker threads (0 = number of online CPUs) */
} pm_gallery_options_t;

/* Creates an empty gallery with its worker pool. options may be NULL. */
int pm_gallery_new(const pm_gallery_options_t *options, pm_gallery_t **out, pm_error_t *err);
/* Stops the pool and frees everything. No call may be running. NULL is fine. */
void pm_gallery_free(pm_gallery_t *g);

/* Inserts one finger view. position: 0 unknown, 1..10 ISO/ANSI. A record with
 * the same (subject, encounter, position) gives PM_EEXISTS. Views with fewer
 * than 3 minutiae give PM_EVALIDATION. */
int pm_gallery_insert(pm_gallery_t *g, uint64_t subject, uint32_t encounter, int position,
                      const pm_fingerprint_t *fp, pm_error_t *err);
/* Deletes all fingers of one encounter of a subject. *out_removed (may be
 * NULL) = how many; PM_ENOTFOUND if none. */
int pm_gallery_delete_encounter(pm_gallery_t *g, uint64_t subject, uint32_t encounter,
                                size_t *out_removed, pm_error_t *err);
/* Deletes every finger of a subject; PM_ENOTFOUND if none. */
int pm_gallery_delete_subject(pm_gallery_t *g, uint64_t subject, size_t *out_removed,
                              pm_error_t *err);
/* Number of finger records. */
size_t pm_gallery_count(pm_gallery_t *g);

/* Named subsets of subjects (a watchlist, one flight's passengers). Setting an
 * existing name replaces it; n == 0 removes it. At most 64 subsets. */
int pm_gallery_subset_set(pm_gallery_t *g, const char *name, const uint64_t *subjects, size_t n,
                          pm_error_t *err);

typedef struct pm_gallery_stats {
    size_t fingers;
    size_t subjects;          /* distinct subject ids */
    size_t bytes_records;     /* the packed records in use (fingers x record size) */
    size_t bytes_index;       /* the (subject, encounter, position) hash */
    size_t bytes_allocated;   /* arrays at their capacity + index */
    double bytes_per_finger;  /* (records + index) / fingers */
    size_t subsets;
    int threads;
    size_t positions[11];     /* fingers per position 0..10 */
} pm_gallery_stats_t;
int pm_gallery_stats(pm_gallery_t *g, pm_gallery_stats_t *out, pm_error_t *err);

/* One probe finger. */
typedef struct pm_gallery_finger {
    int position; /* 0 unknown (searched against every position), 1..10 */
    const pm_fingerprint_t *fp;
} pm_gallery_finger_t;

/* Identification calibration (docs/gallery.md "Identification scores"):
 * the best impostor score of a single-finger search over n records is
 * modelled as Gumbel distributed with location loc + growth * ln(n) and
 * scale `scale`, so a score s has
 *   FPIR(s, n) = 1 - exp(-exp(-(s - loc - growth * ln(n)) / scale)).
 * loc 0, growth = scale = 10/ln(10) is the 1:1 matcher's nominal
 * calibration (score = -10*log10(FMR), n independent comparisons); a
 * calibration fitted on non-mated searches at several gallery sizes corrects
 * it where the matcher's calibrated range ends and for what the search
 * (first stage, top-k) actually returns. scale <= 0 means nominal. */
typedef struct pm_gallery_calibration {
    double loc;
    double growth;
    double scale;
    /* Fused calibrations only (0 elsewhere): above raw score tail_u the
     * exponential tail is replaced by a generalized Pareto tail of shape
     * `shape` > 0 (peaks over threshold), continuous at tail_u:
     *   p(s) = p(tail_u) * (1 + shape * (s - tail_u) / scale)^(-1 / shape).
     * shape 0: the exponential tail throughout (older configurations). */
    double shape;
    double tail_u;
} pm_gallery_calibration_t;

/* FPIR of score s in a search over n records (c NULL: nominal). */
double pm_gallery_fpir(const pm_gallery_calibration_t *c, double score, double n);
/* -10*log10(FPIR(s, n)), computed without underflow: the identification score. */
double pm_gallery_id_score(const pm_gallery_calibration_t *c, double score, double n);
/* The score whose FPIR over n records is fpir (0 < fpir < 1). */
double pm_gallery_threshold(const pm_gallery_calibration_t *c, double fpir, double n);
/* Maximum-likelihood fit from the best impostor scores best[i] of k
 * non-mated single-finger searches over n[i] records each. Searches at two
 * or more gallery sizes fix the growth with n; at one size only, growth is
 * tied to the scale (independent comparisons). Scores <= 0 (no candidate)
 * are left out; PM_EINVAL with fewer than 10 left. */
int pm_gallery_calibration_fit(const double *best, const double *n, size_t k,
                               pm_gallery_calibration_t *out, pm_error_t *err);

/* Fused ten-print calibration (docs/gallery.md "Fused score calibration").
 * The fused score (pm_gallery_fuse) assumes independent, exactly calibrated
 * fingers; a subject's impostor fused score is heavier tailed than that. A
 * fused calibration is the same model at n = 1: the probability that one
 * impostor subject compared reaches raw fused score s is
 *   p(s) = 1 - exp(-exp(-(s - loc) / scale))   (growth = scale),
 * and the calibrated fused score is -10*log10(p(s)): the same meaning per
 * subject compared as the 1:1 score per finger compared, so thresholds and
 * FPIR over n subjects are the nominal ones on it. */
/* The calibrated fused score of raw fused score `fused` (fc NULL: unchanged). */
double pm_gallery_fused_score(const pm_gallery_calibration_t *fc, double fused);
/* The raw fused score whose calibrated score is `score` (fc NULL: unchanged). */
double pm_gallery_fused_raw(const pm_gallery_calibration_t *fc, double score);
/* Fits the tail of the raw fused scores of k impostor subject comparisons
 * (peaks over a threshold: the scores above their `tail_q` quantile, e.g.
 * 0.99, as generalized Pareto excesses: the maximum-likelihood shape with
 * shape >= 0, then raised to its upper one-sigma bound (1 + shape)/sqrt(n)
 * and the scale refitted at it, never below the nominal 10/ln 10: a
 * conservative, heavier-than-fitted far tail). PM_EINVAL with fewer than 20
 * excesses. */
int pm_gallery_fused_calibration_fit(const double *scores, size_t k, double tail_q,
                                     pm_gallery_calibration_t *out, pm_error_t *err);
/* The same tail as exponential excesses (shape 0 throughout): the mean
 * excess over the tail_q quantile at its upper one-sigma bound
 * mean * (1 + 1/sqrt(m)), never below 10/ln 10. PM_EINVAL with fewer than 20
 * excesses. */
int pm_gallery_fused_calibration_fit_exp(const double *scores, size_t k, double tail_q,
                                         pm_gallery_calibration_t *out, pm_error_t *err);
/* Between cohorts (docs/gallery.md "Between cohorts"): cohorts of people
 * differ in how often their impostor pairs reach a fused score (one sensor,
 * one population), more than their counts' noise explains, so one pooled
 * fit under-states some cohorts. This fits the pooled tail (GPD when gpd is
 * non-zero, else exponential: the functions above), then each cohort's own
 * level: the shift delta_c of the location that passes the model through
 * the cohort's share of comparisons above the pooled tail_q quantile u
 * (the shape kept). The between-cohort variance tau^2 is the variance of
 * the delta_c less their Poisson part (scale^2 / m_c, m_c above u), and the
 * result's location is the pooled one moved by
 *   mean(delta) + z * sqrt(tau^2 + var(delta) / C)
 * (never less than 0): for z = 1.645 the level a new cohort stays under
 * with ~95% probability if the levels are normal. scores[c][0..k[c]) are
 * cohort c's raw fused impostor scores; 3..PM_GALLERY_MAX_COHORTS cohorts
 * of at least 100 each. spread (may be NULL) receives the terms. */
#define PM_GALLERY_MAX_COHORTS 64
typedef struct pm_gallery_cohort_spread {
    double mean;  /* mean(delta_c), raw score units */
    double sd;    /* their standard deviation */
    double tau;   /* between cohorts, beyond the counts' noise */
    double shift; /* added to the pooled location */
    double u;     /* the pooled quantile the levels are read at */
} pm_gallery_cohort_spread_t;
int pm_gallery_fused_calibration_fit_cohorts(const double *const *scores, const size_t *k,
                                             size_t ncohorts, double tail_q, double z, int gpd,
                                             pm_gallery_calibration_t *out,
                                             pm_gallery_cohort_spread_t *spread, pm_error_t *err);
/* The built-in fused calibration: the between-cohort GPD fit above on
 * synthetic ten-prints of cohort seeds 7101..7108 (docs/gallery.md
 * "Between cohorts"); what the node and `perimeter vet` apply. */
void pm_gallery_fused_calibration_default(pm_gallery_calibration_t *out);

typedef struct pm_gallery_search_options {
    int max_candidates;    /* top-k subjects returned (0 = 10) */
    double threshold;      /* return only fused scores >= this; used when target_fpir is 0 */
    double target_fpir;    /* > 0: threshold = pm_gallery_threshold(calibration, target_fpir,
                            * records searched for the probe finger with the fewest) */
    const char *subset;    /* NULL or a name given to pm_gallery_subset_set */
    int first_stage;       /* 0: exhaustive exact search; 1: first stage + exact */
    double keep_fraction;  /* first stage: fraction of records kept (0 = 0.0002) */
    int keep_min;          /* ... and at least this many (0 = 200) */
    /* single-finger probes: NULL = nominal; target_fpir and each candidate's
     * id_score use it (multi-finger probes: always nominal on the fused score) */
    const pm_gallery_calibration_t *calibration;
    /* multi-finger probes: NULL = the fused score as pm_gallery_fuse gives it;
     * else each candidate's score is pm_gallery_fused_score of it (the raw
     * one in fused_raw) and threshold / target_fpir apply to that */
    const pm_gallery_calibration_t *fused_calibration;
    /* multi-finger probes with the first stage: the exact matcher runs only
     * on the subjects with the best first-stage evidence (per subject, the
     * sum over the lead fingers below of its best first-stage score at that
     * finger): this many subjects (0 = the default,
     * PM_GALLERY_SHORTLIST_DEFAULT; < 0 = off: the exact matcher on every
     * survivor of every finger, the search before session 9). Each
     * shortlisted subject is compared finger by finger, every probe finger
     * with each of its position-compatible records: its scores are the
     * ones pm_gallery_verify gives (docs/gallery.md "Ten-print shortlist"). */
    int shortlist;
    /* ... and the first stage runs on this many probe fingers, those of
     * best print quality, then most minutiae (ties: the earlier one):
     * 0 = the default, PM_GALLERY_LEAD_DEFAULT; < 0 = every probe finger. */
    int lead_fingers;
    /* first stage, the pair gate: a key hit is checked only if another hit
     * agrees with its placement (docs/gallery.md "Pair gate"): ~2x cheaper
     * per record, and it loses mates whose finger has one true key hit.
     * 0 = the default: on for multi-finger probes with the shortlist (the
     * other lead fingers make up for a finger it loses), off otherwise;
     * 1 = on; < 0 = off. */
    int pair_gate;
} pm_gallery_search_options_t;

#define PM_GALLERY_SHORTLIST_DEFAULT 20
#define PM_GALLERY_LEAD_DEFAULT 2

typedef struct pm_gallery_candidate {
    uint64_t subject;
    double score;                           /* fused, -10*log10(FMR) */
    double finger_score[PM_GALLERY_MAX_FINGERS]; /* per probe finger (0 if not found) */
    uint32_t encounter;                     /* of the best-scoring finger */
    double id_score; /* -10*log10(FPIR) of `score` for this search's size and calibration */
    double fused_raw; /* pm_gallery_fuse of the finger scores (= score without a fused calibration) */
} pm_gallery_candidate_t;

typedef struct pm_gallery_search_stats {
    uint64_t records_scanned;  /* records considered (position/subset filters applied) */
    uint64_t records_exact;    /* exact comparisons made */
    double threshold_used;
    double seconds;            /* wall time */
} pm_gallery_search_stats_t;

/* Searches the gallery. out must hold max_candidates entries; *out_n gets how
 * many were filled, best first (scores >= the threshold). stats may be NULL.
 * PM_EINVAL on bad arguments, PM_ENOTFOUND for an unknown subset. */
int pm_gallery_identify(pm_gallery_t *g, const pm_gallery_finger_t *fingers, int nfingers,
                        const pm_gallery_search_options_t *options, pm_gallery_candidate_t *out,
                        size_t *out_n, pm_gallery_search_stats_t *stats, pm_error_t *err);

/* Compares a probe with one subject's fingers (same position, or all when
 * either is unknown) and returns the fused score in *out. PM_ENOTFOUND if the
 * subject has no fingers. */
int pm_gallery_verify(pm_gallery_t *g, uint64_t subject, const pm_gallery_finger_t *fingers,
                      int nfingers, pm_gallery_candidate_t *out, pm_error_t *err);

/* Fused score of k independent calibrated finger scores summing to `sum`:
 * -10*log10(P(S >= sum)) for S a sum of k scores each with P(s >= t) = 10^(-t/10). */
double pm_gallery_fuse(double sum, int k);

/* Snapshot: the packed arrays in one file with a BLAKE2b-256 checksum,
 * written atomically. `generation` is stored with it (the store's change
 * counter) so a stale snapshot can be told apart. Loading verifies magic,
 * version, sizes and checksum before anything is trusted: PM_ECORRUPT or
 * PM_ETRUNCATED otherwise, and the gallery is left unchanged. Load replaces
 * the gallery's contents (subsets are kept). */
int pm_gallery_save(pm_gallery_t *g, const char *path, uint64_t generation, pm_error_t *err);
int pm_gallery_load(pm_gallery_t *g, const char *path, uint64_t *out_generation, pm_error_t *err);
/* The same, the snapshot sealed under ring->keys[0] (use "gallery-snapshot",
 * file mode 0600; built and opened in memory: about twice the snapshot's
 * size while saving or loading). A NULL or empty ring: pm_gallery_save /
 * pm_gallery_load. Loading a snapshot in clear with a ring is refused
 * (PM_EDENIED): rebuild it from the store. */
struct pm_seal_ring;
int pm_gallery_save_sealed(pm_gallery_t *g, const char *path, uint64_t generation,
                           const struct pm_seal_ring *ring, pm_error_t *err);
int pm_gallery_load_sealed(pm_gallery_t *g, const char *path, const struct pm_seal_ring *ring,
                           uint64_t *out_generation, pm_error_t *err);

/* The unpacked view of record i (for rebuilds and tests), under the read
 * lock. PM_ERANGE if i >= count. */
int pm_gallery_record(pm_gallery_t *g, size_t i, uint64_t *subject, uint32_t *encounter,
                      int *position, pm_fingerprint_t *fp, pm_error_t *err);

/* ---- synthetic templates (template-level simulation, not images) ---------------
 * A master finger is a whole fingertip's minutiae (500 ppi): a pattern class
 * (arch, tented arch, left/right loop, whorl with the usual frequencies)
 * gives a zero-pole orientation field (Sherlock & Monro 1993); minutiae are
 * spread by dart throwing with a minimum spacing and follow the ridge
 * orientation. An impression is what one capture of it yields: a sensor
 * window placed on the finger, rotation, displacement, smooth non-linear
 * skin distortion growing away from the contact centre, position and angle
 * jitter, minutiae missed, spurious minutiae added, types flipped.
 * Accuracy measured on these is a simulation at template level: it says how
 * the search behaves, not how the matcher does on real prints. */
#define PM_GALLERY_SYNTH_SHIFT_PX 150.0 /* default shift_px below */
typedef struct pm_gallery_synth_options {
    double rotation_deg;   /* max |rotation| (default 20) */
    double displacement;   /* max |translation| px (default 40) */
    double distortion;     /* max distortion px at the window border (default 8) */
    double jitter_px;      /* sigma of position noise (default 2.5) */
    double jitter_deg;     /* sigma of direction noise (default 5) */
    double drop;           /* fraction of minutiae missed (default 0.2) */
    double spurious;       /* spurious minutiae, fraction of those kept (default 0.1) */
    double type_flip;      /* (default 0.1) */
    int window_w, window_h; /* sensor window px (default 300 x 360) */
    /* Off-centre placements (default none): this share of impressions has
     * its contact centre moved a further shift_px/2..shift_px (default
     * PM_GALLERY_SYNTH_SHIFT_PX)
     * in a random direction, so that two impressions may overlap on one
     * side of the finger only, as real captures do when the finger is
     * placed high, low or sideways. The choice is drawn apart from the
     * rest: with share 0 every impression is the same as without these
     * fields. */
    double shift_share;
    double shift_px;
} pm_gallery_synth_options_t;

/* The master finger `id` of the population `seed` (deterministic). */
void pm_gallery_synth_master(uint64_t seed, uint64_t id, pm_fingerprint_t *out);
/* Impression number `impression` of a master (deterministic in all
 * arguments). options may be NULL (defaults above); zero fields take defaults. */
void pm_gallery_synth_impression(const pm_fingerprint_t *master, uint64_t seed, uint64_t id,
                                 uint32_t impression, const pm_gallery_synth_options_t *options,
                                 pm_fingerprint_t *out);

/* ---- system of record: the store ------------------------------------------ */
struct pm_store;
/* Applies the gallery's tables to a store (module "gallery"). */
int pm_gallery_store_migrate(struct pm_store *st, pm_error_t *err);
/* Records an enrolment (native template bytes of one view); bumps the
 * generation. Same key twice: PM_EEXISTS. */
int pm_gallery_store_put(struct pm_store *st, uint64_t subject, uint32_t encounter, int position,
                         const pm_fingerprint_t *fp, pm_error_t *err);
/* Deletes a subject (encounter < 0: all encounters); bumps the generation. */
int pm_gallery_store_delete(struct pm_store *st, uint64_t subject, int64_t encounter,
                            size_t *out_removed, pm_error_t *err);
/* The store's change counter for the gallery tables. */
int pm_gallery_store_generation(struct pm_store *st, uint64_t *out, pm_error_t *err);
/* Empties g and inserts every stored template; *out_generation = the
 * generation read in the same transaction. Meant for start-up: a search
 * running meanwhile sees a partly filled gallery. */
int pm_gallery_store_load(struct pm_store *st, pm_gallery_t *g, uint64_t *out_generation,
                          pm_error_t *err);
/* Adds to g the stored templates of the subjects keep(subject, ctx) accepts
 * (keep NULL: all), streamed row by row: only the kept rows are decoded, so
 * memory is that of the kept part (a shard), never the whole gallery's.
 * Unlike pm_gallery_store_load it does not empty g, and a record g already
 * holds (same subject, encounter, position; e.g. learnt meanwhile) is left
 * as it is. *out_generation (may be NULL) = the generation read in the same
 * transaction; *out_inserted (may be NULL) = records inserted. */
/* Re-seals every stored template not sealed under the store's current data
 * key (pm_store_set_seal; PM_EINVAL without one): clear rows are sealed,
 * rows under an older key of the ring re-sealed. batch rows per
 * transaction (0: 512), so a crash loses at most the batch in flight and a
 * rerun finishes the work. Counts are added to *progress (may be NULL). */
struct pm_seal_progress;
int pm_gallery_store_reseal(struct pm_store *st, size_t batch, struct pm_seal_progress *progress,
                            pm_error_t *err);
int pm_gallery_store_load_where(struct pm_store *st, pm_gallery_t *g,
                                int (*keep)(uint64_t subject, void *ctx), void *ctx,
                                uint64_t *out_generation, size_t *out_inserted, pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
