/* Internals shared by the audit files. */
#ifndef PM_AUDIT_INTERNAL_H
#define PM_AUDIT_INTERNAL_H

#include <jansson.h>

#include "perimeter/audit.h"

/* The canonical form of an entry body: sorted keys, compact, ASCII. */
#define PM__AUDIT_JSON_FLAGS (JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII)

void pm__audit_chain(const unsigned char prev[PM_AUDIT_HASH_BYTES], const char *body, size_t len,
                     unsigned char out[PM_AUDIT_HASH_BYTES]);
int pm__audit_write_all(int fd, const char *p, size_t n);
void pm__audit_checkpoint_sign(pm_audit_checkpoint_t *cp,
                               const unsigned char sk[PM_AUDIT_SK_BYTES]);

/* Called for each intact entry with its parsed body and the chain head after
 * it; a non-zero return stops the walk with that code (the callback fills r). */
typedef int (*pm__audit_entry_fn)(void *ctx, json_t *body, uint64_t seq,
                                  const unsigned char head[PM_AUDIT_HASH_BYTES],
                                  pm_audit_verify_result_t *r);

/* Walks the chain in data. PM_OK when every entry is intact; otherwise
 * PM_ECORRUPT with r->bad_seq / r->what. r->entries and r->head describe the
 * intact prefix, *out_good_len its length in bytes, *out_tail is 1 when the
 * only fault is an unfinished last line. */
int pm__audit_walk(const uint8_t *data, size_t len, pm__audit_entry_fn fn, void *ctx,
                   pm_audit_verify_result_t *r, size_t *out_good_len, int *out_tail);

/* Where the walk's current entry lies in data (set before each callback). */
typedef struct pm__audit_line {
    size_t pos; /* first byte of the line */
    size_t len; /* without its '\n' */
} pm__audit_line_t;

/* pm__audit_walk over a part of a log: data starts with entry first_seq,
 * whose prev hash must be first_prev; r->entries counts from the log's start.
 * line_out (may be NULL) is updated before each callback. */
int pm__audit_walk_from(const uint8_t *data, size_t len, uint64_t first_seq,
                        const unsigned char first_prev[PM_AUDIT_HASH_BYTES],
                        pm__audit_entry_fn fn, void *ctx, pm_audit_verify_result_t *r,
                        size_t *out_good_len, int *out_tail, pm__audit_line_t *line_out);

/* Calls fn with the entry of a parsed, verified body (as pm_audit_read). */
int pm__audit_entry_call(json_t *body, uint64_t seq, pm_audit_entry_fn fn, void *ctx);

#endif
