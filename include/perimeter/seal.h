/* Perimeter seal: authenticated encryption at rest (docs/security.md "A
 * stolen node disk"). XChaCha20-Poly1305 (libsodium, IETF construction)
 * under a 256-bit node data key held in a key file (0600) or derived from a
 * passphrase with Argon2id. A sealed blob is
 *   "PMX1", key id (8 bytes), nonce (24 random bytes), ciphertext + 16-byte tag
 * with the magic, the key id and a caller's context label (e.g.
 * "template", "image", "gallery-snapshot") as associated data, so a blob
 * moved to another use or another key id does not open. Key rotation: keys
 * carry a random id; pm_seal_open takes the current and older keys and
 * picks by id, so data is re-sealed under the new key at leisure.
 * Reentrant; keys are caller-owned (wipe them with pm_seal_key_wipe). */
#ifndef PERIMETER_SEAL_H
#define PERIMETER_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/core.h"
#include "perimeter/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_SEAL_KEY_BYTES 32
#define PM_SEAL_ID_BYTES 8
#define PM_SEAL_SALT_BYTES 16
#define PM_SEAL_OVERHEAD (4 + PM_SEAL_ID_BYTES + 24 + 16) /* bytes added to the plaintext */
#define PM_SEAL_CONTEXT_MAX 64

typedef struct pm_seal_key {
    uint8_t id[PM_SEAL_ID_BYTES];
    uint8_t key[PM_SEAL_KEY_BYTES];
} pm_seal_key_t;

/* Creates a new random key file at path ("PMK1", id, key; mode 0600, written
 * atomically). PM_EEXISTS if the file exists: a key is never overwritten. */
int pm_seal_key_new(const char *path, pm_seal_key_t *out, pm_error_t *err);
/* Reads a key file. PM_EDENIED if the file is readable by group or others,
 * PM_EFORMAT if it is not a key file. */
int pm_seal_key_load(const char *path, pm_seal_key_t *out, pm_error_t *err);
/* Derives a key from a passphrase (Argon2id, 3 passes, 64 MiB) and a salt
 * kept beside the data (not secret); its id is derived from the key. */
int pm_seal_key_derive(const char *passphrase, size_t len, const uint8_t salt[PM_SEAL_SALT_BYTES],
                       pm_seal_key_t *out, pm_error_t *err);
void pm_seal_key_wipe(pm_seal_key_t *k);

/* Appends the sealed form of plain[0..n) to out. context: 1..64 bytes. */
int pm_seal(const pm_seal_key_t *key, const char *context, const void *plain, size_t n,
            pm_buf_t *out, pm_error_t *err);
/* Opens a sealed blob with the key of its id among keys[0..nkeys): appends
 * the plaintext to out. PM_EFORMAT (not a sealed blob, too short),
 * PM_EDENIED (no key with its id), PM_ECHECKSUM (altered, truncated, or
 * sealed for another context): nothing appended on failure. */
int pm_seal_open(const pm_seal_key_t *keys, size_t nkeys, const char *context, const void *sealed,
                 size_t n, pm_buf_t *out, pm_error_t *err);
/* 1 if data starts like a sealed blob ("PMX1" and long enough). */
int pm_seal_is_sealed(const void *data, size_t n);

/* ---- a node's keys: the one that seals, older ones kept for reading ---- */
#define PM_SEAL_RING_MAX 4
typedef struct pm_seal_ring {
    pm_seal_key_t keys[PM_SEAL_RING_MAX]; /* keys[0] seals; every key opens */
    size_t n;                             /* 0: nothing is sealed (data at rest in clear) */
} pm_seal_ring_t;

/* Appends plain[0..n) to out: sealed under ring->keys[0] when ring has a
 * key, as is when ring is NULL or empty (a node without a data key). */
int pm_seal_ring_seal(const pm_seal_ring_t *ring, const char *context, const void *plain, size_t n,
                      pm_buf_t *out, pm_error_t *err);
/* Appends the plaintext of data[0..n) to out: a sealed blob is opened with
 * the ring (PM_EDENIED if the ring is NULL or lacks its key; errors as
 * pm_seal_open); anything else is a row written before sealing was
 * configured and is appended as is. *was_sealed (if not NULL) says which. */
int pm_seal_ring_open(const pm_seal_ring_t *ring, const char *context, const void *data, size_t n,
                      pm_buf_t *out, int *was_sealed, pm_error_t *err);
/* 1 if data is sealed under ring->keys[0] (nothing to re-seal). */
int pm_seal_ring_current(const pm_seal_ring_t *ring, const void *data, size_t n);
void pm_seal_ring_wipe(pm_seal_ring_t *ring);

/* Counts of a re-seal pass (pm_gallery_store_reseal, pm_received_reseal). */
typedef struct pm_seal_progress {
    size_t rows;    /* rows read */
    size_t sealed;  /* were in clear, now sealed */
    size_t rotated; /* were sealed under an older key, now under keys[0] */
} pm_seal_progress_t;

#ifdef __cplusplus
}
#endif
#endif
