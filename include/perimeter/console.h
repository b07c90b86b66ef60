/* Perimeter console module: the data behind the officers' web console
 * (issue 16, docs/console.md). The node's console routes are thin shells
 * over these calls; the browser gets JSON text and PNG images from them.
 *
 * Vetting runs (the output folders of `perimeter vet`, pm_vet_run) are found
 * under a root folder: every sub-folder holding cases/ is one run. Run and
 * applicant names are path segments: [A-Za-z0-9._-], 1-64, no leading dot.
 *
 * Thread-safe and reentrant: every call reads files and writes only into
 * caller-owned buffers. */
#ifndef PERIMETER_CONSOLE_H
#define PERIMETER_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/core.h"
#include "perimeter/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_CONSOLE_PAGE_MAX 500 /* rows in one page of any list */

struct pm_extractor;
struct pm_jobs_ctx;
struct pm_store;

/* The vetting runs under root as a JSON array appended to out: per run its
 * name, cohort, purpose, transport and live progress read from its journal
 * (applicants, done, pending, per outcome, pending review). */
int pm_console_runs(const char *root, pm_buf_t *out, pm_error_t *err);

/* One run's progress (as in pm_console_runs) and one page of its cases in
 * applicant order, optionally only those of one outcome ("match", "no_match",
 * "refused", "failed_capture"; NULL = all): {"run":..., "progress":...,
 * "total":N, "offset":O, "limit":L, "cases":[{applicant, outcome, usable
 * fingers, best candidate score, review status}]}. limit 1..PM_CONSOLE_PAGE_MAX.
 * The review status is the queue's, live, when `reviews` (the node's store)
 * is given and holds the case's item (its transaction id, or a re-ask's
 * `supersedes` / `reask_of` id): "review_source":"queue"; else the case
 * file's (as of the run's last refresh): "review_source":"case_file". */
int pm_console_run(const char *root, const char *run, const char *outcome, size_t offset,
                   size_t limit, struct pm_store *reviews, pm_buf_t *out, pm_error_t *err);

/* One case file (JSON) as written by the run, plus "candidate_templates":
 * for each candidate, the finger positions whose template this node holds
 * (docs/console.md: what the partner disclosed). */
int pm_console_case(const char *root, const char *run, const char *applicant, pm_buf_t *out,
                    pm_error_t *err);

/* The applicant's print of finger position 1..10, decoded server-side from
 * the transaction (WSQ, JPEG, PNG...), extracted with ex and drawn as an RGB
 * PNG with its minutiae (ridge endings red, bifurcations blue, a tick along
 * each direction), appended to out. *out_minutiae (may be NULL) gets the count. */
int pm_console_print_png(const struct pm_extractor *ex, const char *root, const char *run,
                         const char *applicant, int finger, pm_buf_t *out, int *out_minutiae,
                         pm_error_t *err);

/* The applicant's print (left) beside the candidate's finger (right: its
 * template drawn on a pale plate, no image of the partner's print), each with
 * its minutiae, and the minutiae the matcher paired joined by lines: the
 * matcher's own pairing (pm_match_last_pairs), the one its score comes from.
 * *out_score / *out_pairs (the number of pairs) may be NULL; out_list (may be
 * NULL, room for PM_MAX_MINUTIAE) gets the pairs drawn: indices into the
 * applicant's extracted minutiae and the candidate template's.
 * PM_ENOTFOUND when the node holds no template of that candidate finger (a
 * partner's candidate: the partner never sends templates). */
struct pm_match_minutia_pair;
int pm_console_pair_png(const struct pm_extractor *ex, const char *root, const char *run,
                        const char *applicant, int finger, const char *subject, pm_buf_t *out,
                        double *out_score, int *out_pairs, struct pm_match_minutia_pair *out_list,
                        pm_error_t *err);

/* An adjudicator's decision on a vetting case's match: the match is put in
 * the R14 review queue (pm_review_enqueue, once per transaction id, as
 * answered by partner_code) and
 * decided there (pm_review_decide) with the officer's name and reason.
 * PM_ESTATE when the case is not a match or was decided already; *out_review
 * (may be NULL) gets the queue's item id. */
int pm_console_case_decide(const struct pm_jobs_ctx *ctx, const char *partner_code,
                           const char *root, const char *run, const char *applicant, int confirm, const char *officer,
                           const char *why, int64_t now, int64_t *out_review, pm_error_t *err);

/* ------------------------------------------------------------ travellers */

struct pm_store;
struct pm_dob;

/* One traveller, by linked traveller id (traveller > 0) or by a document
 * number (the first traveller it names), as JSON appended to out:
 * {"traveller", "history": the history report (crossings of both countries
 * in time order), "presence": days present in the 5 years to as_of (with the
 * uncertain range), "overstays": this traveller's rows of the overstays
 * report as of as_of (stay_days for citizenships without admission data),
 * "link_reviews": the linkage review pairs involving them with the evidence
 * and status}. PM_ENOTFOUND when no linked traveller matches. */
int pm_console_traveller(struct pm_store *st, int64_t traveller, const char *document,
                         const struct pm_dob *as_of, int stay_days, pm_buf_t *out,
                         pm_error_t *err);

/* The linkage review queue paged (best score first): status "open",
 * "accepted", "rejected" or NULL for all: {"total","offset","limit","reviews":[
 * {id, crossing, candidate_crossing, traveller, candidate_traveller, score,
 * evidence, status}]}. Decisions are pm_link_store_decide. */
int pm_console_link_reviews(struct pm_store *st, const char *status, size_t offset, size_t limit,
                            pm_buf_t *out, pm_error_t *err);

/* ------------------------------------------------------------ pre-clearance */

/* The flight manifests (*.csv but watchlist.csv) in dir as a JSON array of
 * names (without .csv), sorted; an absent dir gives []. */
int pm_console_manifests(const char *dir, pm_buf_t *out, pm_error_t *err);

/* Pre-clearance of manifest dir/<manifest>.csv (pm_preclear_manifest): the
 * history from the linked store st (stays judged with stay_days where the
 * entry has no admission data), names screened against dir/watchlist.csv when
 * present, departure for rows without scheduled_departure (NULL: none).
 * JSON appended to out: the report's summary (passengers, cleared, refer,
 * do_not_board, time per traveller), "watchlist": bool, "total" (rows of the
 * decision asked for, NULL = all), "offset", "limit", "rows": [{flight_id,
 * passenger_seq, name, decision, reasons, ms}]. */
int pm_console_preclear(struct pm_store *st, const char *dir, const char *manifest,
                        const struct pm_dob *departure, int stay_days, const char *decision,
                        size_t offset, size_t limit, pm_buf_t *out, pm_error_t *err);

/* ------------------------------------------------------------ audit */

typedef struct pm_console_audit_query {
    const char *kind;    /* NULL = every kind */
    const char *purpose; /* NULL = any */
    const char *rule;    /* NULL = any */
    const char *partner; /* NULL = any */
    int64_t from, to;    /* unix seconds, inclusive; 0 = open */
    size_t offset, limit; /* newest first; limit 1..PM_CONSOLE_PAGE_MAX */
} pm_console_audit_query_t;

typedef struct pm_console_partner_log {
    const char *code;        /* alpha-3 */
    const char *checkpoints; /* the file its signed checkpoints are kept in */
    const char *audit_pub;   /* hex Ed25519 key they must be signed with ("" = none) */
} pm_console_partner_log_t;

/* The disclosure log for an auditor, as JSON appended to out:
 * {"verify":{"intact","entries","checkpoints_matched","bad_seq","what"},
 *  "partners":[{"code","checkpoints","last":{"count","time","signature"}}],
 *  "total":N (entries matching the filter), "offset","limit",
 *  "entries":[{seq,time,kind,actor,partner,purpose,rule,txn,fields,records,detail}]}.
 * The chain is verified against our own checkpoints (own_checkpoints, may be
 * NULL); each partner's last signed checkpoint is checked with its key.
 * index: the caller's pm_audit_index_t of log_path, kept between calls (the
 * verified head is extended by what was appended since, and only the page's
 * entries are read); NULL verifies and indexes the whole log for this call. */
struct pm_audit_index;
int pm_console_audit(const char *log_path, const char *own_checkpoints,
                     const pm_console_partner_log_t *partners, size_t npartners,
                     struct pm_audit_index *index, const pm_console_audit_query_t *q,
                     pm_buf_t *out, pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
