/* Perimeter vet module: cohort vetting (DOMAIN.md section 2, issue 13 part 1).
 *
 * A cohort is a folder of applicants: ANSI/NIST transactions (*.an2, *.an2k,
 * *.eft: ten-print Type-14/Type-4 images with a Type-2 record) or one
 * sub-folder of finger images per applicant. For each applicant the run
 * decodes, extracts with quality checks (a finger that fails or is of poor
 * quality is reported and queued for re-capture; an applicant with too few
 * usable fingers is a failed capture and is not queried), optionally searches
 * a local gallery (1:N), then queries the partner anonymously (templates +
 * purpose, no name) through a transport interface, and records the answer:
 * no match, match (candidates, scores, what the partner disclosed) or refused
 * (the rule). Each outcome is committed to a SQLite journal before it counts,
 * so a run interrupted at any point (kill -9 included) resumes where it
 * stopped: applicants done are never queried again. A case file per
 * applicant (JSON) and a cohort summary (JSON and text) are written; adverse
 * matches are listed as pending human review (R14). docs/vet.md.
 *
 * Also here: a synthetic cohort generator (pm_vet_cohort_generate) with the
 * partner's holdings and the truth, for tests, demos and the load benchmark.
 *
 * Thread-safe and reentrant: all state lives in caller-owned values. */
#ifndef PERIMETER_VET_H
#define PERIMETER_VET_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/core.h"
#include "perimeter/error.h"
#include "perimeter/minutiae.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_VET_MAX_APPLICANTS 1000000u /* applicants in one cohort */
#define PM_VET_MAX_CANDIDATES 20       /* candidates kept from one answer */
#define PM_VET_ID_MAX 64               /* applicant ids, subject ids, transaction ids */
#define PM_VET_DISCLOSED_MAX 4096      /* bytes of the disclosed-fields JSON text */
#define PM_VET_MAX_THREADS 64

/* Defaults. A match is a fused ten-print score of 100 (nominal FMR 1e-10 per
 * subject compared: about 0.03 expected false candidates per search of a
 * 270-million-identity gallery, DOMAIN.md section 2); a finger is unusable
 * below quality 5 or 10 minutiae (a floor for captures with nothing to
 * match, not a tuned value: the fp quality depends on the sensor's area);
 * six usable fingers are needed to query. */
#define PM_VET_DEFAULT_THRESHOLD 100.0
#define PM_VET_DEFAULT_MIN_QUALITY 5
#define PM_VET_DEFAULT_MIN_MINUTIAE 10
#define PM_VET_DEFAULT_MIN_FINGERS 6

struct pm_gallery;

/* Called with the number of items done so far and the total (from worker
 * threads, one call at a time). */
typedef void (*pm_vet_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* ------------------------------------------------------------ synthetic cohort */

typedef struct pm_vet_cohort_params {
    uint64_t seed;
    uint32_t applicants;  /* 1..PM_VET_MAX_APPLICANTS */
    uint32_t known;       /* applicants the partner also holds (another impression) */
    uint32_t bad;         /* applicants with deliberately bad captures (disjoint from known) */
    uint32_t distractors; /* partner subjects not in the cohort (template-level synthetic) */
    double difficulty;    /* synthetic print difficulty (default 1, as synth prints) */
    int threads;          /* worker threads (0 = 1) */
    const char *purpose;  /* 2.037 of the transactions (NULL: "REFUGEE_VETTING") */
    const char *ori;      /* 1.008 (NULL: "CAN") */
    const char *dai;      /* 1.007 (NULL: "USA") */
} pm_vet_cohort_params_t;

void pm_vet_cohort_params_default(pm_vet_cohort_params_t *p);

typedef struct pm_vet_cohort_stats {
    uint32_t applicants, known, bad, distractors;
    size_t partner_fingers; /* finger records in the partner gallery snapshot */
    double seconds;         /* wall time */
    double cpu_seconds;     /* CPU time of the process during the run */
} pm_vet_cohort_stats_t;

/* Writes a synthetic cohort under dir (created; must not hold a cohort yet:
 * PM_EEXISTS):
 *  dir/applicants/A000001.an2 ...  one ten-print transaction per applicant
 *      (Type-1 PMSR, Type-2 with 2.018 name and 2.022 date of birth from the
 *      synthetic population, ten Type-14 plain impressions, WSQ 500 ppi);
 *  dir/partner/gallery.snap        the partner's gallery (pm_gallery_save):
 *      known applicants' fingers from another impression, plus distractors;
 *  dir/partner/templates/S_P.iso   ISO 19794-2 views of the known subjects and
 *      dir/partner/enroll.csv (subject,encounter,position,path relative to
 *      dir/partner) for `perimeter enroll --list`;
 *  dir/truth.csv  applicant,file,partner_subject,capture,expected
 *      (capture: good | blank | bad_finger | corrupt; expected: match |
 *      no_match | failed_capture).
 * progress (may be NULL) counts applicants. */
int pm_vet_cohort_generate(const pm_vet_cohort_params_t *p, const char *dir,
                           pm_vet_progress_fn progress, void *progress_ctx,
                           pm_vet_cohort_stats_t *out_stats, pm_error_t *err);

/* ------------------------------------------------------------ transport */

/* What goes to the partner: anonymous (no name, no applicant id). */
typedef struct pm_vet_query {
    const char *transaction_id; /* stable per cohort and applicant (a resend reuses it) */
    const char *purpose;
    const pm_fingerprint_t *fingers; /* views; .finger holds the position 1..10 (0 unknown) */
    size_t nfingers;
    int resend; /* 1: this transaction id may have reached the partner before (resumed run) */
    /* NULL, or the id of an earlier query of this applicant whose answer was
     * lost (the partner refused its resend as replayed): this query re-asks
     * it under a new transaction_id (docs/security.md, supersedes) */
    const char *supersedes;
    /* with supersedes: the applicant's first transaction_id, which every
     * re-ask of a chain answers (a re-ask's own answer lost too is re-asked
     * again, superseding it); the applicant's node keeps one review item
     * under it (docs/vet.md "Resuming") */
    const char *reask_of;
} pm_vet_query_t;

typedef enum pm_vet_result {
    PM_VET_NO_MATCH = 0,
    PM_VET_MATCH = 1,
    PM_VET_REFUSED = 2,
} pm_vet_result_t;

typedef struct pm_vet_candidate {
    char subject[PM_VET_ID_MAX];
    double score; /* calibrated, -10*log10(FMR) */
} pm_vet_candidate_t;

/* The partner's answer, filled by the transport. */
typedef struct pm_vet_answer {
    int result; /* pm_vet_result_t */
    pm_vet_candidate_t candidates[PM_VET_MAX_CANDIDATES];
    size_t ncandidates;
    char disclosed[PM_VET_DISCLOSED_MAX]; /* JSON object text of the disclosed fields ("" = none) */
    char rule[16];                        /* refused: the rule, e.g. "R1" */
    char reason[256];                     /* refused: the partner's reason */
    char partner_ref[PM_VET_ID_MAX];      /* the partner's transaction reference, if any */
    int64_t review_id; /* match: the R14 review item the asking node queued it as (0 = none:
                        * the in-process transport has no queue) */
} pm_vet_answer_t;

/* Sends one query and fills *out (zeroed by the caller). Returns 0 when an
 * answer arrived (no match, match or refused), a negative code when none did
 * (network, timeout, partner unavailable): the applicant is then left to be
 * retried by the next run with the same transaction id. PM_EEXISTS: the
 * partner refused the id as already used (409 replayed): its answer to it
 * was lost, the caller re-asks with a new id and supersedes. Called from several
 * worker threads at once: must be thread-safe. */
typedef int (*pm_vet_transport_fn)(void *ctx, const pm_vet_query_t *q, pm_vet_answer_t *out,
                                   pm_error_t *err);

typedef struct pm_vet_transport {
    pm_vet_transport_fn query;
    void *ctx;
    const char *name; /* for the case files and summary, e.g. "gallery", "node" */
} pm_vet_transport_t;

/* In-process transport: the partner's side simulated against a gallery the
 * caller owns (a snapshot of the partner's holdings). The search is the
 * gallery's pm_gallery_identify over the probe's fingers; candidates with a
 * calibrated fused score (docs/gallery.md) >= threshold are a match. Purposes, if listed, are the closed
 * list of R1 (anything else is refused with "R1"). Disclosed fields are the
 * subject id only (no agreement is applied: that is the partner node's job). */
typedef struct pm_vet_gallery_transport {
    struct pm_gallery *gallery;
    double threshold;       /* fused score for a match (0 = PM_VET_DEFAULT_THRESHOLD) */
    int max_candidates;     /* 0 = 5 */
    int first_stage;        /* pm_gallery_search_options_t.first_stage */
    const char *const *purposes; /* NULL: any purpose accepted */
    size_t npurposes;
    const char *log_path;   /* NULL or a file each query's transaction id is appended to */
    int fused_nominal;      /* 1: fused scores without the built-in fused calibration
                             * (pm_gallery_fused_calibration_default), as before it */
} pm_vet_gallery_transport_t;
int pm_vet_gallery_query(void *ctx, const pm_vet_query_t *q, pm_vet_answer_t *out,
                         pm_error_t *err);

/* Transport through our own node's officer route
 * POST /v1/partners/{partner}/query/biometric (pm_node_call): the probe as an
 * ISO 19794-2 record of all views, base64 (docs/API.md). 200 with
 * {"result":"no_match"} or {"result":"match","candidates":[{"subject","score"}],
 * "disclosed":{...},"review_id":N}; 403 with {"rule","error"} is a refusal;
 * anything else (503 gallery_unavailable included) is no answer (the
 * applicant is retried). Our node keeps a match as received partner data and
 * queues it for human review (R14, /v1/reviews): review_id is that item. */
typedef struct pm_vet_node_transport {
    const char *base_url;
    const char *ca_file;
    const char *token; /* officer session token */
    const char *partner; /* alpha-3 */
    unsigned timeout_s;
    /* 1: send the query in the ANSI/NIST vetting profile (docs/an2k.md): a
     * PMSR (TCN = the transaction id, 2.037 the purpose, one Type-9 minutiae
     * record per view, no Type-2 name) to /v1/partners/{partner}/query/vetting;
     * the PMRS answer is read (TCR must echo the TCN; 2.059, 2.064, 2.070)
     * and the review item comes in the Perimeter-Review-Id header */
    int an2k;
    const char *ori; /* 1.008 of the request (our country); NULL: "XXX" */
} pm_vet_node_transport_t;
int pm_vet_node_query(void *ctx, const pm_vet_query_t *q, pm_vet_answer_t *out, pm_error_t *err);

/* ------------------------------------------------------------ the run */

typedef struct pm_vet_options {
    const char *cohort;  /* folder of transactions or of per-applicant image folders */
    const char *out_dir; /* journal, case files, summary (created if missing) */
    const char *purpose; /* mandatory (R1) */
    pm_vet_transport_t transport;
    struct pm_gallery *local_gallery; /* NULL: no local 1:N */
    double local_threshold;           /* local candidates at or above (0 = default threshold) */
    int workers;                      /* parallel applicants (0 = 1) */
    int min_quality;                  /* a finger below this quality is poor (0 = default) */
    int min_minutiae;                 /* ... or with fewer minutiae (0 = default) */
    int min_fingers;                  /* usable fingers needed to query (0 = default) */
    uint64_t limit;                   /* stop after this many applicants this run (0 = all) */
    volatile int *cancel;             /* set nonzero to stop after the applicants in flight */
    pm_vet_progress_fn progress;
    void *progress_ctx;
    /* test hook (tests/e2e/vet_supersedes.sh; the CLI sets it from
     * $PERIMETER_TEST_VET_KILL_AFTER): SIGKILL the process after that many
     * answers, each received and not journaled. 0: off (production). */
    uint64_t test_kill_after;
} pm_vet_options_t;

typedef struct pm_vet_summary {
    uint64_t applicants;     /* found in the cohort */
    uint64_t done;           /* with a committed outcome (all runs) */
    uint64_t done_this_run;
    uint64_t no_match, match, refused, failed_capture;
    uint64_t recapture;      /* applicants with at least one finger to re-capture */
    uint64_t local_hits;     /* applicants with a local 1:N candidate */
    uint64_t pending;        /* not done yet (interrupted, transport failures) */
    uint64_t transport_errors; /* this run */
    uint64_t resent;         /* this run: queries resent after an interruption */
    uint64_t superseded;     /* this run: of those, re-asked with supersedes (answer lost) */
    uint64_t queries;        /* this run: transport calls */
    double seconds;          /* this run, wall */
    double per_hour;         /* applicants done this run per hour of wall time */
    double cpu_seconds;      /* this run: CPU time of the whole process (all threads) */
    double extract_ms_median, local_ms_median, query_ms_median, total_ms_median; /* this run */
} pm_vet_summary_t;

/* Vets the cohort (resuming a previous run in out_dir) and writes
 * out_dir/journal.sqlite, out_dir/cases/<applicant>.json,
 * out_dir/summary.json, out_dir/summary.txt, out_dir/recapture.csv and
 * out_dir/adjudication.jsonl (matches pending review). Returns 0 when every
 * applicant has an outcome, PM_EPARTIAL when some are pending (transport
 * failures, cancel, limit), or a negative code for a failure of the run
 * itself (cohort unreadable, journal, out_dir; a resumed journal of another
 * cohort or purpose gives PM_ESTATE). *out summary may be NULL. */
int pm_vet_run(const pm_vet_options_t *o, pm_vet_summary_t *out, pm_error_t *err);

/* ------------------------------------------------------------ final review status */

/* What a refresh found: the matches of the run and their R14 review status. */
typedef struct pm_vet_refresh_stats {
    uint64_t cases;      /* case files read */
    uint64_t matches;    /* case files with outcome match */
    uint64_t confirmed, rejected, pending; /* matches by the node's review status */
    uint64_t not_queued; /* matches with no review_id (in-process transport) */
    uint64_t missing;    /* review_id not in the node's list, or its txn differs */
    uint64_t updated;    /* case files rewritten (the status or decision changed) */
} pm_vet_refresh_stats_t;

/* 1 if a review item filed under transaction id `item` belongs to the case
 * whose query went out as `txn`: its own id, or for a re-ask the lost id it
 * superseded (`supersedes`), or down a chain of re-asks the applicant's
 * first id (`reask_of`, read only with supersedes), as the node files the
 * item. The case file's fields; any may be NULL. */
int pm_vet_case_owns_txn(const char *txn, const char *supersedes, const char *reask_of,
                         const char *item);

/* Copies the final R14 review status back into the run's case files and
 * summary. reviews is the body of our node's GET /v1/reviews?status=all
 * ({"reviews":[{"id","status","txn","officer","why","decided_at"},...]}).
 * Each case file out_dir/cases/<applicant>.json of a match whose
 * review.review_id is listed (and whose transaction id equals the item's
 * txn) gets review.status (pending, confirmed, rejected) and, once decided,
 * review.by, review.decided_at (Unix seconds) and review.why; each is
 * rewritten atomically (temp + fsync + rename), so a crash mid-refresh leaves
 * every file either old or new and the refresh can simply be run again.
 * Then summary.json gets a "review" object of the counts and summary.txt a
 * "review:" section (replacing a previous one), both atomically. A resumed
 * pm_vet_run rewrites the summary without it: refresh again after it. */
int pm_vet_refresh(const char *out_dir, const char *reviews, size_t len,
                   pm_vet_refresh_stats_t *out, pm_error_t *err);

/* GET /v1/reviews?status=all on our node (t->base_url, ca_file, token) into
 * *body (reset first; at most 64 MiB). Non-200 is PM_EIO with the status. */
int pm_vet_node_reviews(const pm_vet_node_transport_t *t, pm_buf_t *body, pm_error_t *err);

/* "no_match", "match", "refused", "failed_capture" ("" if out of range). */
const char *pm_vet_outcome_name(int outcome);

#ifdef __cplusplus
}
#endif
#endif
