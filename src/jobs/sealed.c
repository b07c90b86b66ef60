/* Sealing at rest of the jobs module's partner data (docs/security.md "A
 * stolen node disk"): the received payload (BLOB) and the review evidence
 * (TEXT: the disclosed fields) are sealed under the store's data key, each
 * bound to its row by a use label naming the row's immutable columns. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs_internal.h"
#include "perimeter/seal.h"

#define TEXT_PREFIX "pmx1:"

void pm__jobs_seal_use(char out[PM_SEAL_CONTEXT_MAX + 1], const char *use,
                       const char *const *parts, size_t n)
{
    crypto_generichash_state h;
    uint8_t d[8];
    crypto_generichash_init(&h, (const uint8_t *)use, strlen(use), sizeof d);
    for (size_t i = 0; i < n; i++) /* each part with its NUL: no ambiguity */
        crypto_generichash_update(&h, (const uint8_t *)(parts[i] ? parts[i] : ""),
                                  strlen(parts[i] ? parts[i] : "") + 1);
    crypto_generichash_final(&h, d, sizeof d);
    char hex[2 * sizeof d + 1];
    sodium_bin2hex(hex, sizeof hex, d, sizeof d);
    snprintf(out, PM_SEAL_CONTEXT_MAX + 1, "%.40s:%s", use, hex);
}

/* The received record's digest (docs/jobs.md "Digest of a received record").
 * With a data key: "k1" and 62 hex digits, a 31-byte keyed BLAKE2b
 * (crypto_generichash) of the payload under a subkey derived from that data
 * key for this one use (crypto_kdf, context "pmrecvd1", subkey 1), so
 * someone holding the disk and a guessed payload cannot confirm the guess.
 * Without a key: 64 hex digits, SHA-256 of the clear payload (version 0, also
 * what rows stored before a key was configured carry). */
#define DIGEST_KDF_CTX "pmrecvd1"
#define DIGEST_K1_BYTES 31

void pm__jobs_digest(const pm_seal_key_t *key, const void *payload, size_t len,
                     char out[PM_JOBS_DIGEST_LEN + 1])
{
    const uint8_t *p = payload ? payload : (const uint8_t *)"";
    if (!key) {
        uint8_t h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, p, len);
        sodium_bin2hex(out, PM_JOBS_DIGEST_LEN + 1, h, sizeof h);
        return;
    }
    _Static_assert(PM_SEAL_KEY_BYTES == crypto_kdf_KEYBYTES, "data key size");
    uint8_t sub[crypto_generichash_KEYBYTES], h[DIGEST_K1_BYTES];
    crypto_kdf_derive_from_key(sub, sizeof sub, 1, DIGEST_KDF_CTX, key->key);
    crypto_generichash(h, sizeof h, p, len, sub, sizeof sub);
    sodium_memzero(sub, sizeof sub);
    memcpy(out, "k1", 2);
    sodium_bin2hex(out + 2, PM_JOBS_DIGEST_LEN + 1 - 2, h, sizeof h);
}

int pm__jobs_digest_keyed(const char *digest)
{
    return digest && strncmp(digest, "k1", 2) == 0;
}

int pm__jobs_digest_check(const pm_seal_ring_t *ring, const void *stored, size_t stored_len,
                          const void *payload, size_t len, const char *digest, pm_error_t *err)
{
    const pm_seal_key_t *key = NULL;
    if (pm__jobs_digest_keyed(digest)) {
        /* keyed with the key that sealed the payload (same write, same reseal) */
        if (!pm_seal_is_sealed(stored, stored_len))
            return pm_error_set(err, PM_ECHECKSUM, "keyed digest on a payload in clear");
        for (size_t i = 0; ring && i < ring->n && !key; i++)
            if (memcmp(ring->keys[i].id, (const uint8_t *)stored + 4, PM_SEAL_ID_BYTES) == 0)
                key = &ring->keys[i];
        if (!key)
            return pm_error_set(err, PM_EDENIED, "digest keyed with a key that is not loaded");
    }
    char want[PM_JOBS_DIGEST_LEN + 1];
    pm__jobs_digest(key, payload, len, want);
    if (!digest || strlen(digest) != PM_JOBS_DIGEST_LEN ||
        sodium_memcmp(want, digest, PM_JOBS_DIGEST_LEN) != 0)
        return pm_error_set(err, PM_ECHECKSUM, "payload does not match its %s digest",
                            key ? "keyed" : "SHA-256");
    return PM_OK;
}

void pm__jobs_received_use(char *out, const char *origin, const char *cls, const char *purpose,
                           const char *txn, const char *subject_ref, int64_t at, const char *sha)
{
    char when[24];
    snprintf(when, sizeof when, "%lld", (long long)at);
    const char *parts[] = {origin, cls, purpose, txn, subject_ref, when, sha};
    pm__jobs_seal_use(out, "received", parts, sizeof parts / sizeof parts[0]);
}

void pm__jobs_received_why_use(char *out, int64_t id, const char *origin, const char *purpose,
                               const char *txn, const char *subject_ref, int64_t at)
{
    char when[24], row[24];
    snprintf(when, sizeof when, "%lld", (long long)at);
    snprintf(row, sizeof row, "%lld", (long long)id);
    const char *parts[] = {row, origin, purpose, txn, subject_ref, when};
    pm__jobs_seal_use(out, "received-why", parts, sizeof parts / sizeof parts[0]);
}

void pm__jobs_evidence_use(char *out, const char *txn, const char *partner, const char *purpose,
                           const char *subject_ref)
{
    const char *parts[] = {txn, partner, purpose, subject_ref};
    pm__jobs_seal_use(out, "review-evidence", parts, 4);
}

void pm__jobs_review_text_use(char *out, const char *kind, const char *txn, const char *partner,
                              const char *purpose, const char *subject_ref)
{
    const char *parts[] = {txn, partner, purpose, subject_ref};
    pm__jobs_seal_use(out, kind, parts, 4);
}

int pm__jobs_seal_text(pm_store_t *st, const char *use, const char *text, pm_buf_t *out,
                       pm_error_t *err)
{
    const pm_seal_ring_t *ring = pm_store_seal(st);
    size_t n = text ? strlen(text) : 0;
    if (!ring || !ring->n || n == 0)
        return pm_buf_append(out, text ? text : "", n)
                   ? pm_error_set(err, PM_ENOMEM, "out of memory")
                   : PM_OK;
    pm_buf_t b = {0};
    int rc = pm_seal_ring_seal(ring, use, text, n, &b, err);
    size_t need = sodium_base64_ENCODED_LEN(b.len, sodium_base64_VARIANT_ORIGINAL);
    if (!rc && (pm_buf_append_str(out, TEXT_PREFIX) || pm_buf_reserve(out, need)))
        rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    if (!rc) {
        sodium_bin2base64((char *)out->data + out->len, need, b.data, b.len,
                          sodium_base64_VARIANT_ORIGINAL);
        out->len += need - 1;
    }
    pm_buf_free(&b);
    return rc;
}

int pm__jobs_open_text(pm_store_t *st, const char *use, const char *col, char *out, size_t cap,
                       pm_error_t *err)
{
    if (!col)
        col = "";
    if (strncmp(col, TEXT_PREFIX, strlen(TEXT_PREFIX)) != 0) {
        snprintf(out, cap, "%s", col); /* written in clear (before a data key) */
        return PM_OK;
    }
    const char *b64 = col + strlen(TEXT_PREFIX);
    size_t bl = strlen(b64), n = 0;
    pm_buf_t raw = {0}, plain = {0};
    int rc = pm_buf_reserve(&raw, bl) ? PM_ENOMEM : PM_OK;
    if (rc)
        return pm_error_set(err, rc, "out of memory");
    if (sodium_base642bin(raw.data, bl, b64, bl, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL))
        rc = pm_error_set(err, PM_EFORMAT, "sealed text: not base64");
    else
        rc = pm_seal_ring_open(pm_store_seal(st), use, raw.data, n, &plain, NULL, err);
    if (!rc)
        snprintf(out, cap, "%.*s", (int)plain.len, plain.data ? (const char *)plain.data : "");
    if (plain.data)
        sodium_memzero(plain.data, plain.cap);
    pm_buf_free(&plain);
    pm_buf_free(&raw);
    return rc;
}

/* ---- re-sealing (perimeter store reseal) ---------------------------------- */

/* One row to rewrite. */
typedef struct row {
    int64_t id;
    pm_buf_t val[3]; /* received: payload, irrelevant_why; review: evidence, action, why */
    char digest[PM_JOBS_DIGEST_LEN + 1]; /* received rows: the digest under keys[0] */
} row_t;

/* Writes rows[0..n) with sql in one transaction: review (as_text) ?1..?3 =
 * evidence, action, why, ?4 = id; received ?1 = payload, ?2 = digest, ?3 = irrelevant_why,
 * ?4 = id. */
static int write_rows(pm_store_t *st, const char *sql, int as_text, row_t *rows, size_t n,
                      pm_error_t *err)
{
    int rc = pm_store_begin(st, err);
    for (size_t i = 0; i < n && !rc; i++) {
        pm_stmt_t *u = NULL;
        if ((rc = pm_stmt_prepare(st, sql, &u, err)))
            break;
        if (as_text) {
            for (int c = 0; c < 3; c++)
                pm_stmt_bind_text(u, c + 1,
                                  rows[i].val[c].len ? (const char *)rows[i].val[c].data : "");
        } else {
            pm_stmt_bind_blob(u, 1, rows[i].val[0].data, rows[i].val[0].len);
            pm_stmt_bind_text(u, 2, rows[i].digest);
            pm_stmt_bind_text(u, 3, rows[i].val[1].len ? (const char *)rows[i].val[1].data : "");
        }
        pm_stmt_bind_int64(u, 4, rows[i].id);
        rc = pm_stmt_step(u, err);
        pm_stmt_finish(u);
    }
    if (!rc)
        return pm_store_commit(st, err);
    pm_store_rollback(st, NULL);
    return rc;
}

/* One text column of a review row: *out gets the value to store (the
 * same when it is empty or already under keys[0]; else sealed under
 * keys[0]); *state 0 unchanged, 1 was clear, 2 was under an older key. */
static int reseal_text(pm_store_t *st, const char *use, const char *col, pm_buf_t *raw,
                       pm_buf_t *plain, pm_buf_t *out, int *state, pm_error_t *err)
{
    *state = 0;
    raw->len = 0;
    plain->len = 0;
    out->len = 0;
    if (!col)
        col = "";
    if (strncmp(col, TEXT_PREFIX, strlen(TEXT_PREFIX)) == 0) {
        const char *b64 = col + strlen(TEXT_PREFIX);
        size_t bl = strlen(b64), n = 0;
        if (pm_buf_reserve(raw, bl) || sodium_base642bin(raw->data, bl, b64, bl, NULL, &n, NULL,
                                                         sodium_base64_VARIANT_ORIGINAL))
            return pm_error_set(err, PM_EFORMAT, "sealed text not base64");
        raw->len = n;
    } else if (col[0] && pm_buf_append(raw, col, strlen(col))) {
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    const pm_seal_ring_t *ring = pm_store_seal(st);
    if (!col[0] || pm_seal_ring_current(ring, raw->data, raw->len))
        return pm_buf_append(out, col, strlen(col) + 1) ? pm_error_set(err, PM_ENOMEM,
                                                                       "out of memory")
                                                        : PM_OK;
    int was = 0;
    int rc = pm_seal_ring_open(ring, use, raw->data, raw->len, plain, &was, err);
    if (!rc && pm_buf_append(plain, "", 0)) /* NUL-terminated */
        rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    if (!rc)
        rc = pm__jobs_seal_text(st, use, (const char *)plain->data, out, err);
    if (!rc)
        *state = was ? 2 : 1;
    return rc;
}

/* One table: pages of `batch` rows by id; a value not sealed under the
 * current key is opened (or taken as clear) and sealed again; each page is
 * written in one transaction, so a crash loses at most the page in flight.
 * A review row counts once (sealed if any of its texts was in clear). */
static int reseal_table(pm_store_t *st, int review, size_t batch, pm_seal_progress_t *pg,
                        pm_error_t *err)
{
    const pm_seal_ring_t *ring = pm_store_seal(st);
    const char *sel =
        review ? "SELECT id, txn, partner, purpose, subject_ref, evidence, action, why "
                 "FROM jobs_review WHERE id > ? ORDER BY id LIMIT ?"
               : "SELECT id, origin, class, purpose, txn, subject_ref, received_at, sha256, "
                 "payload, irrelevant_why FROM jobs_received WHERE id > ? ORDER BY id LIMIT ?";
    const char *upd =
        review ? "UPDATE jobs_review SET evidence = ?, action = ?, why = ? WHERE id = ?"
               : "UPDATE jobs_received SET payload = ?, sha256 = ?, irrelevant_why = ? "
                 "WHERE id = ?";
    static const char *const kinds[3] = {NULL, "review-action", "review-why"};
    row_t *rows = calloc(batch, sizeof *rows);
    if (!rows)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    pm_buf_t plain = {0}, raw = {0};
    int64_t last = 0;
    int rc = PM_OK, more = 1;
    while (!rc && more) {
        pm_stmt_t *q = NULL;
        size_t nr = 0, seen = 0;
        if ((rc = pm_stmt_prepare(st, sel, &q, err)))
            break;
        pm_stmt_bind_int64(q, 1, last);
        pm_stmt_bind_int64(q, 2, (int64_t)batch);
        for (;;) {
            int s = pm_stmt_step(q, err);
            if (s <= 0) {
                rc = s;
                break;
            }
            seen++;
            last = pm_stmt_int64(q, 0);
            pg->rows++;
            char use[PM_SEAL_CONTEXT_MAX + 1];
            row_t *r = &rows[nr];
            r->id = last;
            if (review) {
                int any = 0, clear = 0;
                for (int c = 0; c < 3 && !rc; c++) {
                    if (c == 0)
                        pm__jobs_evidence_use(use, pm_stmt_text(q, 1), pm_stmt_text(q, 2),
                                              pm_stmt_text(q, 3), pm_stmt_text(q, 4));
                    else
                        pm__jobs_review_text_use(use, kinds[c], pm_stmt_text(q, 1),
                                                 pm_stmt_text(q, 2), pm_stmt_text(q, 3),
                                                 pm_stmt_text(q, 4));
                    int state = 0;
                    rc = reseal_text(st, use, pm_stmt_text(q, 5 + c), &raw, &plain, &r->val[c],
                                     &state, err);
                    any |= state != 0;
                    clear |= state == 1;
                }
                if (rc)
                    break;
                if (!any)
                    continue;
                nr++;
                if (clear)
                    pg->sealed++;
                else
                    pg->rotated++;
                continue;
            }
            pm__jobs_received_use(use, pm_stmt_text(q, 1), pm_stmt_text(q, 2),
                                  pm_stmt_text(q, 3), pm_stmt_text(q, 4), pm_stmt_text(q, 5),
                                  pm_stmt_int64(q, 6), pm_stmt_text(q, 7));
            /* the officer's reason (R7), when the row was found irrelevant */
            char why_use[PM_SEAL_CONTEXT_MAX + 1];
            pm__jobs_received_why_use(why_use, last, pm_stmt_text(q, 1), pm_stmt_text(q, 3),
                                      pm_stmt_text(q, 4), pm_stmt_text(q, 5),
                                      pm_stmt_int64(q, 6));
            int why_state = 0;
            if ((rc = reseal_text(st, why_use, pm_stmt_text(q, 9), &raw, &plain, &r->val[1],
                                  &why_state, err)))
                break;
            size_t len = 0;
            const uint8_t *blob = pm_stmt_blob(q, 8, &len);
            const char *digest = pm_stmt_text(q, 7);
            r->val[0].len = 0;
            if (len == 0 ||
                (pm_seal_ring_current(ring, blob, len) && pm__jobs_digest_keyed(digest))) {
                /* the payload stays (a keyed digest is always made with the key
                 * that sealed the row); only the reason may need sealing */
                if (!why_state)
                    continue;
                snprintf(r->digest, sizeof r->digest, "%s", digest ? digest : "");
                if (len && pm_buf_append(&r->val[0], blob, len)) {
                    rc = pm_error_set(err, PM_ENOMEM, "out of memory");
                    break;
                }
                nr++;
                if (why_state == 1)
                    pg->sealed++;
                else
                    pg->rotated++;
                continue;
            }
            int was = 0;
            plain.len = 0;
            if ((rc = pm_seal_ring_open(ring, use, blob, len, &plain, &was, err)) ||
                (rc = pm__jobs_digest_check(ring, blob, len, plain.data, plain.len, digest,
                                            err)))
                break;
            /* the digest is rewritten under keys[0], and the label names it */
            pm__jobs_digest(&ring->keys[0], plain.data, plain.len, r->digest);
            pm__jobs_received_use(use, pm_stmt_text(q, 1), pm_stmt_text(q, 2),
                                  pm_stmt_text(q, 3), pm_stmt_text(q, 4), pm_stmt_text(q, 5),
                                  pm_stmt_int64(q, 6), r->digest);
            if ((rc = pm_seal_ring_seal(ring, use, plain.data, plain.len, &r->val[0], err)))
                break;
            nr++;
            if (was && why_state != 1)
                pg->rotated++;
            else
                pg->sealed++;
        }
        pm_stmt_finish(q);
        if (rc)
            pm_error_prefix(err, "%s %lld", review ? "review" : "received record",
                            (long long)last);
        more = seen == batch;
        if (!rc && nr)
            rc = write_rows(st, upd, review, rows, nr, err);
    }
    for (size_t i = 0; i < batch; i++)
        for (int c = 0; c < 3; c++)
            pm_buf_free(&rows[i].val[c]);
    free(rows);
    if (plain.data)
        sodium_memzero(plain.data, plain.cap);
    if (raw.data)
        sodium_memzero(raw.data, raw.cap);
    pm_buf_free(&plain);
    pm_buf_free(&raw);
    return rc;
}

int pm_jobs_reseal(pm_store_t *st, size_t batch, pm_seal_progress_t *progress, pm_error_t *err)
{
    const pm_seal_ring_t *ring = st ? pm_store_seal(st) : NULL;
    if (!ring || !ring->n)
        return pm_error_set(err, PM_EINVAL, "jobs reseal: no data key on the store");
    int rc = pm_jobs_migrate(st, err);
    if (rc)
        return rc;
    pm_seal_progress_t local = {0};
    if (!progress)
        progress = &local;
    if (batch == 0 || batch > 4096)
        batch = 512;
    rc = reseal_table(st, 0, batch, progress, err);
    if (!rc)
        rc = reseal_table(st, 1, batch, progress, err);
    return rc;
}
