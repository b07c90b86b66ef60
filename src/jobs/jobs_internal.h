/* Internals shared by the jobs files. */
#ifndef PM_JOBS_INTERNAL_H
#define PM_JOBS_INTERNAL_H

#include "perimeter/jobs.h"

/* The jobs' SQL goes through the store's query API (pm_stmt_*, both
 * backends); pm_jobs_migrate applies the schema first. */
/* Runs a statement that returns no row (or only its first row is wanted)
 * and finishes it: 0 done, 1 a row was returned (out_id = column 0 when
 * not NULL), negative = error (err set). */
int pm__jobs_run(pm_stmt_t *q, int64_t *out_first, pm_error_t *err);
/* A REAL column / parameter: bound as text ("%.17g"), read back with strtod. */
int pm__jobs_bind_double(pm_stmt_t *q, int i, double v);
double pm__jobs_double(pm_stmt_t *q, int col);
/* Checks ctx's handles and codes (PM_EINVAL otherwise). */
int pm__jobs_ctx_check(const pm_jobs_ctx_t *ctx, pm_error_t *err);
/* A fresh transaction id "<prefix>-<unix time>-<16 hex random>". */
void pm__jobs_txn(const char *prefix, int64_t now, char out[PM_JOBS_REF_MAX]);
/* Appends one event and syncs the log (the event is durable on return). */
int pm__jobs_log(const pm_jobs_ctx_t *ctx, const pm_audit_event_t *ev, pm_error_t *err);
/* Copies a column's text into out (truncating to cap). */
void pm__jobs_col(pm_stmt_t *q, int i, char *out, size_t cap);

/* Tombstones (R7, R9): inside the caller's open store transaction, records a
 * pending tombstone for rows it deletes in the same transaction. */
int pm__jobs_tomb_pending(pm_store_t *st, const char *txn, const char *rule, const char *detail,
                          const char *const *records, size_t n, int64_t now, pm_error_t *err);
/* After the commit: appends the pending tombstone txn to the log and clears it. */
int pm__jobs_tomb_log(const pm_jobs_ctx_t *ctx, const char *txn, pm_error_t *err);
/* Logs (exactly once) every pending tombstone left by an interrupted run. */
int pm__jobs_tomb_recover(const pm_jobs_ctx_t *ctx, uint64_t *out_logged, pm_error_t *err);

/* Sealing at rest (sealed.c): a row's use label "use:<16 hex>" from its
 * immutable columns; text sealed as "pmx1:<base64>" (clear without a data
 * key on the store) and opened back (a clear value is returned as is). */
#include "perimeter/seal.h"
void pm__jobs_seal_use(char out[PM_SEAL_CONTEXT_MAX + 1], const char *use,
                       const char *const *parts, size_t n);
int pm__jobs_seal_text(pm_store_t *st, const char *use, const char *text, pm_buf_t *out,
                       pm_error_t *err);
/* The use labels: a received payload bound to its row's immutable columns,
 * review evidence (the disclosed fields) to the item's identity. */
void pm__jobs_received_use(char *out, const char *origin, const char *cls, const char *purpose,
                           const char *txn, const char *subject_ref, int64_t at, const char *sha);
void pm__jobs_evidence_use(char *out, const char *txn, const char *partner, const char *purpose,
                           const char *subject_ref);
/* The officer's reason for finding a received record irrelevant (R7), bound
 * to the row's id and the columns that never change (not its digest,
 * which reseal rewrites). */
void pm__jobs_received_why_use(char *out, int64_t id, const char *origin, const char *purpose,
                               const char *txn, const char *subject_ref, int64_t at);
/* The received record's digest: keyed ("k1" + 62 hex) under key, or
 * SHA-256 (64 hex) when key is NULL; pm__jobs_digest_check recomputes it
 * for a row (stored = the payload column, payload = its opened bytes) with
 * the key that sealed it: PM_ECHECKSUM on a mismatch. */
#define PM_JOBS_DIGEST_LEN 64
void pm__jobs_digest(const pm_seal_key_t *key, const void *payload, size_t len,
                     char out[PM_JOBS_DIGEST_LEN + 1]);
int pm__jobs_digest_keyed(const char *digest);
int pm__jobs_digest_check(const pm_seal_ring_t *ring, const void *stored, size_t stored_len,
                          const void *payload, size_t len, const char *digest, pm_error_t *err);
/* An officer's text on a review item (kind "review-action", "review-why"),
 * bound to the item's identity like its evidence. */
void pm__jobs_review_text_use(char *out, const char *kind, const char *txn, const char *partner,
                              const char *purpose, const char *subject_ref);
int pm__jobs_open_text(pm_store_t *st, const char *use, const char *col, char *out, size_t cap,
                       pm_error_t *err);

#endif
