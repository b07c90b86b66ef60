/* Perimeter jobs: the agreement's jobs over the store and the disclosure log.
 *
 *  - retention purge (R9): time to live per record class, tombstones in the log;
 *  - destruction of received data found irrelevant (R7);
 *  - onward transfer of received data only with recorded consent (R11);
 *  - correction propagation to every partner that received a record, with
 *    acknowledgement (R8);
 *  - subject access report (R12);
 *  - human review of adverse matches before any adverse action (R14).
 *
 * Every decision is the policy module's (pm_policy_*); every event goes to the
 * disclosure log (pm_audit_*). The jobs' own tables are module "jobs" in the
 * store's schema_version (SQLite). A store handle is used by one thread at a
 * time (store.h); the log handle may be shared. Nothing here prints.
 * See docs/jobs.md. */
#ifndef PERIMETER_JOBS_H
#define PERIMETER_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/audit.h"
#include "perimeter/core.h"
#include "perimeter/error.h"
#include "perimeter/policy.h"
#include "perimeter/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_JOBS_REF_MAX     128 /* record references, subject references, txn ids (bytes incl. NUL) */
#define PM_JOBS_TEXT_MAX    257 /* officer reasons, evidence (bytes incl. NUL) */
#define PM_JOBS_PAYLOAD_MAX (1u << 20)
#define PM_JOBS_BATCH_MAX   PM_AUDIT_MAX_RECORDS /* records named by one tombstone */

/* What every job runs with; all caller-owned. */
typedef struct pm_jobs_ctx {
    pm_store_t *store;               /* the node's store (SQLite or PostgreSQL) */
    pm_audit_log_t *log;             /* the node's disclosure log (its one writer) */
    const pm_agreement_t *agreement; /* the agreement in force */
    const char *ours;                /* our party code, alpha-3 (one of agreement->parties) */
    const char *actor;               /* who acts: a job name ("purge-job") or an officer */
} pm_jobs_ctx_t;

/* Applies the jobs module's schema steps (every call below does it too). */
int pm_jobs_migrate(pm_store_t *st, pm_error_t *err);

/* ---- received partner data (R7, R9, R11, R12) ---- */

/* A record received from a partner: a match answer (PM_RC_MATCH_RESULT) or
 * biographic data in an answer (PM_RC_RECEIVED_BIOGRAPHIC). Tagged with its
 * origin at storage; the payload is kept as received. */
typedef struct pm_received {
    int64_t id;
    char origin[4];
    pm_record_class_t cls;
    char purpose[PM_AGR_CODE_MAX];
    char txn[PM_JOBS_REF_MAX];
    char subject_ref[PM_JOBS_REF_MAX]; /* our reference to the person, e.g. "P:SYR:N1234567" */
    int64_t received_at;
    int64_t irrelevant_since; /* 0 unless found irrelevant */
    char irrelevant_by[PM_JOBS_REF_MAX];
    char irrelevant_why[PM_JOBS_TEXT_MAX];
    char sha256[65]; /* the payload's digest: "k1" + keyed BLAKE2b when the node has a
                        data key, else SHA-256 hex (docs/jobs.md) */
    size_t payload_len;
} pm_received_t;

/* Stores a received record; *out_id (may be NULL) gets its id. origin must be
 * the other party of the agreement; cls a received class; purpose in the
 * agreement. */
int pm_received_store(const pm_jobs_ctx_t *ctx, const char *origin, pm_record_class_t cls,
                      const char *purpose, const char *txn, const char *subject_ref,
                      const void *payload, size_t len, int64_t now, int64_t *out_id,
                      pm_error_t *err);
/* Reads one; payload (may be NULL) gets the bytes appended, checked against
 * the row's digest (PM_ECHECKSUM if they differ). PM_ENOTFOUND if absent
 * (never stored, or destroyed). */
int pm_received_get(pm_store_t *st, int64_t id, pm_received_t *out, pm_buf_t *payload,
                    pm_error_t *err);
/* Lists received records (all, or only those found irrelevant); *out is
 * malloc'd (free it). */
int pm_received_list(pm_store_t *st, int only_irrelevant, pm_received_t **out, size_t *out_n,
                     pm_error_t *err);

/* ---- R7: received data found irrelevant ---- */

/* An officer finds a received record irrelevant (who, why, when; logged).
 * From then on it must be destroyed within the agreement's
 * irrelevant_destruction_days. PM_ESTATE if already marked. */
int pm_received_mark_irrelevant(const pm_jobs_ctx_t *ctx, int64_t id, const char *officer,
                                const char *why, int64_t now, pm_error_t *err);

typedef struct pm_destroy_result {
    uint64_t destroyed;  /* records destroyed by this run */
    uint64_t overdue;    /* ... of which past their deadline (destroyed late: a finding) */
    uint64_t tombstones; /* log entries written (including recovered ones) */
} pm_destroy_result_t;
/* Destroys every received record found irrelevant (the deadline is the
 * latest moment; run the job more often than the deadline). Each batch
 * leaves a tombstone (kind purge, rule R7) naming the ids and payload
 * hashes. Idempotent and crash-safe like pm_jobs_purge. */
int pm_jobs_destroy_irrelevant(const pm_jobs_ctx_t *ctx, int64_t now, pm_destroy_result_t *out,
                               pm_error_t *err);

/* ---- R9: retention purge ---- */

typedef struct pm_purge_result {
    uint64_t purged[PM_RC_COUNT]; /* rows deleted per record class by this run */
    uint64_t tombstones;          /* log entries written by this run */
    uint64_t recovered;           /* ... of which for an interrupted earlier run */
} pm_purge_result_t;

/* Deletes every record whose class's retention (agreement retention_days)
 * has passed at `now`, as decided by pm_policy_keep_record: crossings (from
 * the crossing instant), received match results and biographic data (from
 * reception). Probes have retention 0 and are never stored (R6).
 *
 * Each batch (at most `batch` rows, 0 = PM_JOBS_BATCH_MAX) is deleted in one
 * store transaction that also records a pending tombstone; then the
 * tombstone is appended to the log (kind purge, rule R9, records = the ids,
 * detail = class, retention, cutoff, row count, SHA-256 of the deleted
 * rows) and synced; then the pending row is cleared. A crash anywhere
 * leaves either nothing done or a pending tombstone, which the next run
 * logs exactly once (pm_audit_find_txn). Running twice purges nothing twice. */
int pm_jobs_purge(const pm_jobs_ctx_t *ctx, int64_t now, size_t batch, pm_purge_result_t *out,
                  pm_error_t *err);

/* ---- R11: onward transfer ---- */

/* Hands received record `id` to a third party for `purpose`. Data received
 * from the partner (every received record: its origin is the partner) goes
 * only with a consent recorded in the agreement for (third_party, purpose):
 * otherwise *out says rule 11, a refusal (kind refusal, rule R11) is logged
 * and PM_EDENIED is returned with a message naming R11. On consent the
 * payload is appended to out and an onward_transfer entry is logged
 * (third party, purpose, record, origin). dec may be NULL. */
int pm_transfer_received(const pm_jobs_ctx_t *ctx, int64_t id, const char *third_party,
                         const char *purpose, int64_t now, pm_buf_t *out, pm_decision_t *dec,
                         pm_error_t *err);
/* The same for a stored crossing (store id): ours go freely (still logged),
 * one received in the partner's feed (origin set) needs the consent. out gets
 * the record as one JSON line (docs/crossings-format.md). */
int pm_transfer_crossing(const pm_jobs_ctx_t *ctx, int64_t store_id, const char *third_party,
                         const char *purpose, int64_t now, pm_buf_t *out, pm_decision_t *dec,
                         pm_error_t *err);

/* ---- R14: human review of adverse matches ---- */

typedef enum pm_review_status {
    PM_REVIEW_PENDING = 0,
    PM_REVIEW_CONFIRMED,
    PM_REVIEW_REJECTED,
} pm_review_status_t;

/* A match that would lead to adverse action (an established match in a
 * partner's answer, or a watchlist hit). */
typedef struct pm_review_request {
    const char *txn;         /* the query's transaction id */
    const char *partner;     /* who answered ("" for a local search) */
    const char *purpose;     /* in the agreement */
    const char *subject_ref; /* our reference to the person */
    double score;            /* -10*log10(FMR) */
    const char *action;      /* the adverse action proposed, e.g. "refuse entry" */
    const char *evidence;    /* for the officer: what matched (no probe) */
    int64_t received_id;     /* the stored answer (pm_received_store) or 0 */
} pm_review_request_t;

typedef struct pm_review_item {
    int64_t id;
    char txn[PM_JOBS_REF_MAX];
    char partner[4];
    char purpose[PM_AGR_CODE_MAX];
    char subject_ref[PM_JOBS_REF_MAX];
    double score;
    char action[PM_JOBS_TEXT_MAX];
    char evidence[PM_JOBS_TEXT_MAX];
    int64_t received_id;
    int64_t created_at;
    pm_review_status_t status;
    char officer[PM_JOBS_REF_MAX]; /* who decided ("" while pending) */
    int64_t decided_at;
    char why[PM_JOBS_TEXT_MAX];
} pm_review_item_t;

const char *pm_review_status_name(pm_review_status_t s);

/* Queues a match for review; *out_id (may be NULL) gets its id. Logged
 * (kind review, rule R14, detail "queued: <action>"). Idempotent on (txn,
 * partner, purpose, subject_ref): the same match sent again (a resumed or
 * re-run vetting) gets the existing item's id, whatever its status; nothing
 * new is queued or logged. */
int pm_review_enqueue(const pm_jobs_ctx_t *ctx, const pm_review_request_t *r, int64_t now,
                      int64_t *out_id, pm_error_t *err);
/* Reads one (PM_ENOTFOUND if absent). */
int pm_review_get(pm_store_t *st, int64_t id, pm_review_item_t *out, pm_error_t *err);
/* Lists the queue, oldest first: status -1 = all, else one pm_review_status_t.
 * *out is malloc'd (free it). */
int pm_review_list(pm_store_t *st, int status, pm_review_item_t **out, size_t *out_n,
                   pm_error_t *err);
/* An officer confirms (confirm = 1) or rejects (0) a pending match, saying
 * why. Refused without officer or reason (PM_EINVAL), or when the item is
 * no longer pending (PM_ESTATE: a decision is never overwritten). Logged
 * with who, when and why (kind review, rule R14, actor the officer). */
int pm_review_decide(const pm_jobs_ctx_t *ctx, int64_t id, int confirm, const char *officer,
                     const char *why, int64_t now, pm_error_t *err);
/* At start, before serving: an item queued, or a decision stored, whose R14
 * entry a crash kept out of the log gets the entry now (the log is read
 * first, so an entry is never written twice; a recovered "queued" entry
 * names `actor` and says it was written at restart). *out_logged (may be
 * NULL) = entries written. */
int pm_review_recover(pm_store_t *st, pm_audit_log_t *log, const char *actor,
                      uint64_t *out_logged, pm_error_t *err);
/* May adverse action follow review item `id`? Only once an officer has
 * confirmed the match (pm_policy_adverse_action). A pending or rejected
 * match gives PM_EDENIED naming R14, fills *out (rule 14) and logs the
 * refusal; a confirmed one gives PM_OK with out->allow = 1. out may be NULL. */
int pm_review_adverse_action(const pm_jobs_ctx_t *ctx, int64_t id, int64_t now, pm_decision_t *out,
                             pm_error_t *err);

/* ---- R8: corrections ---- */

#define PM_JOBS_MAX_PARTNERS 16

struct pm_crossing;

typedef struct pm_correction {
    int64_t id;
    char record[PM_JOBS_REF_MAX]; /* "CAN:<record_id>" */
    int64_t store_id;
    char partner[4];           /* who must receive it */
    char txn[PM_JOBS_REF_MAX]; /* one correction, the same for all its partners */
    char reason[PM_JOBS_TEXT_MAX];
    int64_t created_at;
    unsigned attempts;    /* times the node reported sending it */
    int64_t last_sent_at; /* 0 = never sent */
    int64_t acked_at;     /* 0 = not acknowledged */
    char ack_ref[PM_JOBS_REF_MAX];
} pm_correction_t;

/* The partners that received our crossing `c` (as stored, store_id set):
 * those whose acknowledged feed cursor (the node's feed_push table) covers
 * it, if it is one of our entries, and every partner named in a disclosure
 * or answer entry of the log listing "<reporting_country>:<record_id>" (or
 * the bare record id). Sorted, distinct; *out_n may exceed max. */
int pm_correction_recipients(const pm_jobs_ctx_t *ctx, const struct pm_crossing *c, char (*out)[4],
                             size_t max, size_t *out_n, pm_error_t *err);

/* Corrects our crossing (same reporting_country + record_id, validated by
 * pm_crossing_finish) in the store, keeping its store id, and queues a
 * correction to every partner that received it (pm_correction_recipients),
 * logged per partner (kind correction, rule R8, detail the reason). A record
 * never sent is corrected with nothing queued. A partner's record (origin
 * set) is not ours to correct: PM_EDENIED (the source corrects it and we
 * apply theirs, pm_correction_apply_received). *out_queued may be NULL. */
int pm_correction_crossing(const pm_jobs_ctx_t *ctx, const struct pm_crossing *corrected,
                           const char *reason, int64_t now, size_t *out_queued, pm_error_t *err);

/* Unacknowledged corrections, oldest first, for one partner or all (NULL);
 * their age is now - created_at. *out is malloc'd (free it). */
int pm_corrections_pending(pm_store_t *st, const char *partner, pm_correction_t **out,
                           size_t *out_n, pm_error_t *err);
/* One correction and (payload may be NULL) the corrected record to send, as
 * one JSON line (docs/crossings-format.md). PM_ENOTFOUND if absent. */
int pm_correction_get(pm_store_t *st, int64_t id, pm_correction_t *out, pm_buf_t *payload,
                      pm_error_t *err);
/* The node sent correction `id` to its partner (attempts + 1). */
int pm_correction_sent(const pm_jobs_ctx_t *ctx, int64_t id, int64_t now, pm_error_t *err);
/* The partner acknowledged correction `id` (ack_ref: its reference, may be
 * ""). Only the partner it was queued for may acknowledge it (PM_EDENIED
 * otherwise). Logged (kind correction, rule R8, "acknowledged by ..."). A
 * repeated acknowledgement is a no-op. */
int pm_correction_acknowledged(const pm_jobs_ctx_t *ctx, int64_t id, const char *partner,
                               const char *ack_ref, int64_t now, pm_error_t *err);
/* Is the latest correction of record ("CAN:<record_id>") complete? R8: sent
 * to every partner that received the record and acknowledged by each.
 * *out says allow, or rule 8 with how many of how many acknowledged.
 * PM_ENOTFOUND if the record has no correction queued. */
int pm_correction_status(pm_store_t *st, const char *record, pm_decision_t *out, pm_error_t *err);

/* A correction received from the partner for its record: replaces the
 * stored values of the crossing with the same key (origin must be the
 * partner) and logs it (kind correction, rule R8, "received from ...; applied").
 * The node acknowledges to the partner after this returns PM_OK. */
int pm_correction_apply_received(const pm_jobs_ctx_t *ctx, const struct pm_crossing *corrected,
                                 const char *partner_txn, int64_t now, pm_error_t *err);

/* ---- R12: subject access ---- */

/* Whose report: a travel document, or name + date of birth, and optionally
 * our reference to the person in received data and reviews. */
typedef struct pm_subject_query {
    const char *document_number; /* with document_issuer */
    const char *document_issuer;
    const char *surname; /* with given_names and dob (YYYY-MM-DD, partial allowed) */
    const char *given_names;
    const char *dob;
    const char *subject_ref; /* may be NULL */
} pm_subject_query_t;

/* A person's own report as JSON appended to out: their crossings (ours and
 * the partner's), every log entry naming one of their records (disclosures,
 * answers, corrections, onward transfers, reviews, refusals), the data
 * received about them (metadata, never the partner's payload) and the
 * reviews of matches about them. The report itself is logged (kind
 * subject_access, actor = requester: the officer handling the request). */
int pm_subject_access(const pm_jobs_ctx_t *ctx, const pm_subject_query_t *q, const char *requester,
                      int64_t now, pm_buf_t *out, pm_error_t *err);
/* The same report as a readable HTML page (every value escaped). */
int pm_subject_access_html(const char *json, size_t len, pm_buf_t *out, pm_error_t *err);

/* Re-seals the partner data this module keeps (received payloads, review
 * evidence) under the store's current data key (pm_store_set_seal;
 * PM_EINVAL without one): rows in clear are sealed, rows under an older key
 * of the ring re-sealed; batch rows per transaction (0: 512), so a crash
 * loses at most the batch in flight and a rerun finishes. Counts are added
 * to *progress (may be NULL). docs/security.md "A stolen node disk". */
struct pm_seal_progress;
int pm_jobs_reseal(pm_store_t *st, size_t batch, struct pm_seal_progress *progress,
                   pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
