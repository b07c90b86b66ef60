/* Perimeter audit: the disclosure log (R10). An append-only file of
 * hash-chained entries, Ed25519-signed checkpoints (count + head hash) that
 * each node sends the partner and stores from it, a verifier that names the
 * first altered, removed or reordered entry, and an auditor's report.
 * See docs/audit.md for the file format. */
#ifndef PERIMETER_AUDIT_H
#define PERIMETER_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/core.h"
#include "perimeter/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_AUDIT_HASH_BYTES  32
#define PM_AUDIT_PK_BYTES    32
#define PM_AUDIT_SK_BYTES    64
#define PM_AUDIT_SIG_BYTES   64
#define PM_AUDIT_STR_MAX     256 /* any one string in an entry (bytes) */
#define PM_AUDIT_MAX_FIELDS  64
#define PM_AUDIT_MAX_RECORDS 1024
#define PM_AUDIT_LINE_MAX    (1u << 17) /* one entry on disk */
#define PM_AUDIT_FILE_MAX    ((size_t)1 << 32)

/* One event. Kinds: query, answer, disclosure, correction, purge, refusal,
 * probe_destroyed, onward_transfer, review (an officer's decision on a match,
 * R14), subject_access (a report given to the person, R12), officer_action (an
 * officer's request through the web console). Strings may be
 * NULL (stored as ""). The probe itself is never logged: pass its SHA-256
 * (pm_audit_probe_hash). */
typedef struct pm_audit_event {
    int64_t time; /* unix seconds */
    const char *kind;
    const char *actor; /* who: the officer or system acting (R10) */
    const char *partner;
    const char *purpose;
    const char *rule;          /* legal basis, or the refusing rule "R2" */
    const char *const *fields; /* names of the fields disclosed */
    size_t n_fields;
    const char *const *record_ids;
    size_t n_record_ids;
    const char *txn;                   /* transaction id */
    const unsigned char *probe_sha256; /* PM_AUDIT_HASH_BYTES or NULL */
    const char *detail; /* optional free text (a tombstone's record class and digest, an
                           officer's reason); written only when non-empty */
} pm_audit_event_t;

typedef struct pm_audit_log pm_audit_log_t;

/* Opens (creating if absent, mode 0600) the log at path for appending. An
 * existing log is verified first (PM_ECORRUPT naming the first bad entry if
 * not intact); an incomplete last line, which can only be an append that was
 * never acknowledged, is cut off. sync_batch: appends per fsync (1 = every
 * append durable before pm_audit_append returns; N > 1 = durable when the
 * N-th pending append or pm_audit_sync returns). The handle is locked
 * internally: one handle may be shared by threads, but a log has one writer:
 * the handle holds an exclusive lock (flock) on the file and a second open
 * for writing, from this process or another, gets PM_EBUSY. Free with
 * pm_audit_close. */
int pm_audit_open(const char *path, unsigned sync_batch, pm_audit_log_t **out, pm_error_t *err);
/* Appends one entry; *out_seq (may be NULL) gets its sequence number (1-based).
 * Acknowledged (durable) as described at pm_audit_open. */
int pm_audit_append(pm_audit_log_t *log, const pm_audit_event_t *ev, uint64_t *out_seq,
                    pm_error_t *err);
/* Makes every appended entry durable (fsync). */
int pm_audit_sync(pm_audit_log_t *log, pm_error_t *err);
/* Entry count and head hash (all zero for an empty log). */
void pm_audit_head(pm_audit_log_t *log, uint64_t *out_count,
                   unsigned char out_head[PM_AUDIT_HASH_BYTES]);
/* The path the log was opened with (valid until pm_audit_close). */
const char *pm_audit_path(pm_audit_log_t *log);
/* Syncs and frees; returns the sync result. NULL is a no-op. */
int pm_audit_close(pm_audit_log_t *log, pm_error_t *err);

/* SHA-256 of a probe's bytes, for pm_audit_event_t.probe_sha256. */
void pm_audit_probe_hash(const void *probe, size_t len, unsigned char out[PM_AUDIT_HASH_BYTES]);

/* One entry as read back (pointers valid during the callback only). */
typedef struct pm_audit_entry {
    uint64_t seq;
    int64_t time;
    const char *kind, *actor, *partner, *purpose, *rule, *txn, *detail; /* "" when absent */
    const char *fields[PM_AUDIT_MAX_FIELDS];
    size_t n_fields;
    const char **record_ids;
    size_t n_record_ids;
} pm_audit_entry_t;
/* Return 0 to go on, non-zero to stop (pm_audit_read returns that value). */
typedef int (*pm_audit_entry_fn)(void *ctx, const pm_audit_entry_t *e);

/* Reads the log at path and calls fn for each intact entry in order. A
 * damaged log gives PM_ECORRUPT (after the intact prefix was visited); an
 * unfinished last line (never acknowledged) is skipped. */
int pm_audit_read(const char *path, pm_audit_entry_fn fn, void *ctx, pm_error_t *err);

/* Looks for an entry of `kind` whose txn is `txn` in the log at path (read
 * and verified from disk; the chain must be intact up to it). *out_seq gets
 * its sequence number, or 0 when there is none. A job that must log an event
 * exactly once across crashes asks this before appending again. */
int pm_audit_find_txn(const char *path, const char *kind, const char *txn, uint64_t *out_seq,
                      pm_error_t *err);

/* ---- checkpoints ---- */
typedef struct pm_audit_checkpoint {
    uint64_t count;
    unsigned char head[PM_AUDIT_HASH_BYTES];
    int64_t time;
    unsigned char signer[PM_AUDIT_PK_BYTES];
    unsigned char sig[PM_AUDIT_SIG_BYTES];
} pm_audit_checkpoint_t;

/* A fresh Ed25519 key pair. */
int pm_audit_keypair(unsigned char pk[PM_AUDIT_PK_BYTES], unsigned char sk[PM_AUDIT_SK_BYTES]);
/* Signs the log's current head (after syncing it). */
int pm_audit_checkpoint(pm_audit_log_t *log, const unsigned char sk[PM_AUDIT_SK_BYTES],
                        int64_t time, pm_audit_checkpoint_t *out, pm_error_t *err);
/* Checks the signature, against trusted_pk if not NULL (else the embedded
 * signer key, which proves integrity only). PM_EDENIED if it fails. */
int pm_audit_checkpoint_check(const pm_audit_checkpoint_t *cp, const unsigned char *trusted_pk,
                              pm_error_t *err);
/* One JSON line (with '\n') for the wire and the checkpoint file. */
int pm_audit_checkpoint_to_json(const pm_audit_checkpoint_t *cp, pm_buf_t *out);
int pm_audit_checkpoint_from_json(const char *text, size_t len, pm_audit_checkpoint_t *out,
                                  pm_error_t *err);
/* Stores a (partner's) checkpoint: checks its signature, appends it to the
 * file at path and fsyncs before returning. Refuses (PM_ESTATE, nothing
 * written) a checkpoint older than the last one in the file (fewer
 * entries: a rollback) or with another head for the same count (a fork);
 * the same head again is stored. The check and the append hold an
 * exclusive flock on the file. */
int pm_audit_checkpoint_store(const char *path, const pm_audit_checkpoint_t *cp,
                              const unsigned char *trusted_pk, pm_error_t *err);
/* Reads every checkpoint of a file; *out is malloc'd (free it). */
int pm_audit_checkpoints_load(const char *path, pm_audit_checkpoint_t **out, size_t *out_n,
                              pm_error_t *err);

/* ---- verify and report ---- */
typedef struct pm_audit_verify_result {
    uint64_t entries; /* intact entries read */
    unsigned char head[PM_AUDIT_HASH_BYTES];
    size_t checkpoints_matched;
    uint64_t bad_seq; /* first altered/removed/reordered entry, 0 if intact */
    char what[256];   /* the finding, for a human */
} pm_audit_verify_result_t;

/* Proves the log at path intact and consistent with the checkpoints (each
 * signature checked against trusted_pk, or the embedded key when NULL).
 * PM_OK when intact; PM_ECORRUPT with out->bad_seq and out->what (also in
 * err) naming the first bad entry; PM_EDENIED for a bad checkpoint signature. */
int pm_audit_verify(const char *path, const pm_audit_checkpoint_t *cps, size_t n_cps,
                    const unsigned char *trusted_pk, pm_audit_verify_result_t *out,
                    pm_error_t *err);

/* ---- index: verify once, extend as the log grows, page by offset ---- */

/* A reader's index of the log at a path (docs/audit.md "Index"): the chain
 * verified up to entry n with head h, and per entry its offset, length, hash,
 * time, kind, purpose, rule and partner (about 70 bytes an entry). Held by
 * the caller between reads (the node keeps one); the handle is locked
 * internally, so threads may share it. Free with pm_audit_index_free. */
typedef struct pm_audit_index pm_audit_index_t;

int pm_audit_index_new(const char *path, pm_audit_index_t **out, pm_error_t *err);
void pm_audit_index_free(pm_audit_index_t *ix);

/* Brings the index up to the file and gives the result pm_audit_verify would
 * give (same codes, findings and out fields): the bytes appended since the
 * last update are walked from the verified head; the whole file is verified
 * again when it is another file (inode), shorter than before, modified
 * without growing (same size, another modification time), or the verified
 * head entry's line no longer holds its hash. Checkpoints are compared with
 * the stored hash at their count (no walk); their signatures are checked
 * once (a list given again identical, with the same key, is not re-checked).
 * What the index cannot see without reading everything: an entry inside the
 * verified prefix rewritten in place with the same length, together with an
 * append (the file grew, the head kept); any entry read through
 * pm_audit_index_page is re-hashed first, and pm_audit_verify reads all. */
int pm_audit_index_update(pm_audit_index_t *ix, const pm_audit_checkpoint_t *cps, size_t n_cps,
                          const unsigned char *trusted_pk, pm_audit_verify_result_t *out,
                          pm_error_t *err);

/* Which entries a page shows: each non-NULL, non-empty string must equal the
 * entry's; from/to are unix seconds, inclusive, 0 = open. */
typedef struct pm_audit_filter {
    const char *kind, *purpose, *rule, *partner;
    int64_t from, to;
} pm_audit_filter_t;

/* The verified entries matching f (NULL = all), newest first: skips offset
 * of them and calls fn for up to limit (each read by its offset and checked
 * against its verified hash first); *out_total (may be NULL) gets the number
 * matching. Covers the entries as of the last pm_audit_index_update.
 * PM_ECORRUPT when an entry read differs from the one verified (the index is
 * then emptied: the next update verifies the whole file). */
int pm_audit_index_page(pm_audit_index_t *ix, const pm_audit_filter_t *f, size_t offset,
                        size_t limit, pm_audit_entry_fn fn, void *ctx, uint64_t *out_total,
                        pm_error_t *err);

/* Verified entries in the index. */
uint64_t pm_audit_index_entries(pm_audit_index_t *ix);

/* Auditor's report as JSON appended to out: {"intact":..., "entries":N,
 * "by_kind":{...}, "disclosures_per_purpose":{...}, "refusals_per_rule":{...},
 * "queries_per_partner":{...}}. A damaged log is still reported (intact false,
 * counted up to the first bad entry). */
int pm_audit_report(const char *path, pm_buf_t *out, pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
