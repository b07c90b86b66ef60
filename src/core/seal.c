/* Authenticated encryption at rest: XChaCha20-Poly1305 under a node data
 * key (include/perimeter/seal.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#include "perimeter/seal.h"

#define MAGIC "PMX1"
#define KEY_MAGIC "PMK1"
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define HEAD_BYTES (4 + PM_SEAL_ID_BYTES + NONCE_BYTES)
#define KEYFILE_BYTES (4 + PM_SEAL_ID_BYTES + PM_SEAL_KEY_BYTES)

_Static_assert(PM_SEAL_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(PM_SEAL_OVERHEAD == HEAD_BYTES + TAG_BYTES, "overhead");

static int init(pm_error_t *err)
{
    return sodium_init() < 0 ? pm_error_set(err, PM_EINTERNAL, "libsodium cannot initialise")
                             : PM_OK;
}

/* Associated data: magic, key id, context. */
static size_t aad_of(const uint8_t *id, const char *context, uint8_t *out)
{
    size_t cl = strlen(context);
    memcpy(out, MAGIC, 4);
    memcpy(out + 4, id, PM_SEAL_ID_BYTES);
    memcpy(out + 4 + PM_SEAL_ID_BYTES, context, cl);
    return 4 + PM_SEAL_ID_BYTES + cl;
}

static int context_ok(const char *context, pm_error_t *err)
{
    size_t cl = context ? strlen(context) : 0;
    return cl >= 1 && cl <= PM_SEAL_CONTEXT_MAX
               ? PM_OK
               : pm_error_set(err, PM_EINVAL, "seal: context of 1..%d bytes", PM_SEAL_CONTEXT_MAX);
}

int pm_seal_key_new(const char *path, pm_seal_key_t *out, pm_error_t *err)
{
    int rc = init(err);
    if (rc)
        return rc;
    struct stat sb;
    if (!path || !out)
        return pm_error_set(err, PM_EINVAL, "seal key: NULL argument");
    if (stat(path, &sb) == 0)
        return pm_error_set(err, PM_EEXISTS, "%s exists: a key file is never overwritten", path);
    randombytes_buf(out->id, sizeof out->id);
    crypto_aead_xchacha20poly1305_ietf_keygen(out->key);
    uint8_t f[KEYFILE_BYTES];
    memcpy(f, KEY_MAGIC, 4);
    memcpy(f + 4, out->id, PM_SEAL_ID_BYTES);
    memcpy(f + 4 + PM_SEAL_ID_BYTES, out->key, PM_SEAL_KEY_BYTES);
    rc = pm_file_write_atomic_mode(path, f, sizeof f, 0600, err);
    sodium_memzero(f, sizeof f);
    if (rc)
        pm_seal_key_wipe(out);
    return rc;
}

int pm_seal_key_load(const char *path, pm_seal_key_t *out, pm_error_t *err)
{
    int rc = init(err);
    if (rc)
        return rc;
    if (!path || !out)
        return pm_error_set(err, PM_EINVAL, "seal key: NULL argument");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return pm_error_set(err, errno == ENOENT ? PM_ENOTFOUND : PM_EIO, "%s: %s", path,
                            strerror(errno));
    if (sb.st_mode & 077)
        return pm_error_set(err, PM_EDENIED, "%s: readable by group or others (mode %03o); "
                                             "chmod 600",
                            path, (unsigned)(sb.st_mode & 0777));
    uint8_t *d = NULL;
    size_t n = 0;
    if ((rc = pm_file_read(path, 4096, &d, &n, err)))
        return rc;
    if (n != KEYFILE_BYTES || memcmp(d, KEY_MAGIC, 4) != 0)
        rc = pm_error_set(err, PM_EFORMAT, "%s: not a Perimeter key file", path);
    else {
        memcpy(out->id, d + 4, PM_SEAL_ID_BYTES);
        memcpy(out->key, d + 4 + PM_SEAL_ID_BYTES, PM_SEAL_KEY_BYTES);
    }
    sodium_memzero(d, n);
    free(d);
    return rc;
}

int pm_seal_key_derive(const char *pass, size_t len, const uint8_t salt[PM_SEAL_SALT_BYTES],
                       pm_seal_key_t *out, pm_error_t *err)
{
    int rc = init(err);
    if (rc)
        return rc;
    _Static_assert(PM_SEAL_SALT_BYTES == crypto_pwhash_SALTBYTES, "salt size");
    if (!pass || len < 12 || !salt || !out)
        return pm_error_set(err, PM_EINVAL, "seal key: a passphrase of 12 bytes or more and a "
                                            "salt");
    if (crypto_pwhash(out->key, sizeof out->key, pass, len, salt, 3, 64u << 20,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return pm_error_set(err, PM_ENOMEM, "Argon2id: out of memory");
    uint8_t h[32];
    crypto_generichash(h, sizeof h, out->key, sizeof out->key, (const uint8_t *)"pm-seal-id", 10);
    memcpy(out->id, h, PM_SEAL_ID_BYTES);
    return PM_OK;
}

void pm_seal_key_wipe(pm_seal_key_t *k)
{
    if (k)
        sodium_memzero(k, sizeof *k);
}

int pm_seal(const pm_seal_key_t *key, const char *context, const void *plain, size_t n,
            pm_buf_t *out, pm_error_t *err)
{
    int rc = init(err);
    if (!rc)
        rc = context_ok(context, err);
    if (rc)
        return rc;
    if (!key || !out || (!plain && n))
        return pm_error_set(err, PM_EINVAL, "seal: NULL argument");
    if (n > SIZE_MAX - PM_SEAL_OVERHEAD)
        return pm_error_set(err, PM_ELIMIT, "seal: %zu bytes", n);
    size_t start = out->len;
    if ((rc = pm_buf_reserve(out, n + PM_SEAL_OVERHEAD)))
        return pm_error_set(err, rc, "seal: %zu bytes: %s", n, pm_strerror(rc));
    uint8_t *p = out->data + start;
    memcpy(p, MAGIC, 4);
    memcpy(p + 4, key->id, PM_SEAL_ID_BYTES);
    randombytes_buf(p + 4 + PM_SEAL_ID_BYTES, NONCE_BYTES);
    uint8_t aad[4 + PM_SEAL_ID_BYTES + PM_SEAL_CONTEXT_MAX];
    size_t al = aad_of(key->id, context, aad);
    unsigned long long cl = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(p + HEAD_BYTES, &cl, plain, n, aad, al, NULL,
                                               p + 4 + PM_SEAL_ID_BYTES, key->key);
    out->len = start + HEAD_BYTES + (size_t)cl;
    return PM_OK;
}

int pm_seal_is_sealed(const void *data, size_t n)
{
    return data && n >= PM_SEAL_OVERHEAD && memcmp(data, MAGIC, 4) == 0;
}

int pm_seal_open(const pm_seal_key_t *keys, size_t nkeys, const char *context, const void *sealed,
                 size_t n, pm_buf_t *out, pm_error_t *err)
{
    int rc = init(err);
    if (!rc)
        rc = context_ok(context, err);
    if (rc)
        return rc;
    if (!out || (!keys && nkeys))
        return pm_error_set(err, PM_EINVAL, "seal: NULL argument");
    if (!pm_seal_is_sealed(sealed, n))
        return pm_error_set(err, PM_EFORMAT, "not a sealed blob (%zu bytes)", n);
    const uint8_t *p = sealed;
    const pm_seal_key_t *k = NULL;
    for (size_t i = 0; i < nkeys && !k; i++)
        if (sodium_memcmp(keys[i].id, p + 4, PM_SEAL_ID_BYTES) == 0)
            k = &keys[i];
    if (!k) {
        char hex[2 * PM_SEAL_ID_BYTES + 1];
        sodium_bin2hex(hex, sizeof hex, p + 4, PM_SEAL_ID_BYTES);
        return pm_error_set(err, PM_EDENIED, "sealed under key %s, which is not loaded", hex);
    }
    size_t start = out->len, clen = n - HEAD_BYTES;
    if ((rc = pm_buf_reserve(out, clen)))
        return pm_error_set(err, rc, "seal: %zu bytes: %s", n, pm_strerror(rc));
    uint8_t aad[4 + PM_SEAL_ID_BYTES + PM_SEAL_CONTEXT_MAX];
    size_t al = aad_of(k->id, context, aad);
    unsigned long long ml = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out->data + start, &ml, NULL, p + HEAD_BYTES,
                                                   clen, aad, al, p + 4 + PM_SEAL_ID_BYTES,
                                                   k->key) != 0) {
        sodium_memzero(out->data + start, clen);
        return pm_error_set(err, PM_ECHECKSUM,
                            "sealed blob fails authentication (altered, truncated, or sealed "
                            "for another use than \"%s\")",
                            context);
    }
    out->len = start + (size_t)ml;
    return PM_OK;
}

int pm_seal_ring_seal(const pm_seal_ring_t *ring, const char *context, const void *plain, size_t n,
                      pm_buf_t *out, pm_error_t *err)
{
    if (!out || (!plain && n))
        return pm_error_set(err, PM_EINVAL, "seal: NULL argument");
    if (!ring || ring->n == 0) {
        int rc = n ? pm_buf_append(out, plain, n) : PM_OK;
        return rc ? pm_error_set(err, rc, "seal: %zu bytes: %s", n, pm_strerror(rc)) : PM_OK;
    }
    return pm_seal(&ring->keys[0], context, plain, n, out, err);
}

int pm_seal_ring_open(const pm_seal_ring_t *ring, const char *context, const void *data, size_t n,
                      pm_buf_t *out, int *was_sealed, pm_error_t *err)
{
    if (!out || (!data && n))
        return pm_error_set(err, PM_EINVAL, "seal: NULL argument");
    int sealed = pm_seal_is_sealed(data, n);
    if (was_sealed)
        *was_sealed = sealed;
    if (!sealed) {
        int rc = n ? pm_buf_append(out, data, n) : PM_OK;
        return rc ? pm_error_set(err, rc, "%zu bytes: %s", n, pm_strerror(rc)) : PM_OK;
    }
    if (!ring || ring->n == 0)
        return pm_error_set(err, PM_EDENIED, "data sealed at rest, and no data key is configured");
    return pm_seal_open(ring->keys, ring->n, context, data, n, out, err);
}

int pm_seal_ring_current(const pm_seal_ring_t *ring, const void *data, size_t n)
{
    return ring && ring->n && pm_seal_is_sealed(data, n) &&
           memcmp((const uint8_t *)data + 4, ring->keys[0].id, PM_SEAL_ID_BYTES) == 0;
}

void pm_seal_ring_wipe(pm_seal_ring_t *ring)
{
    if (ring)
        sodium_memzero(ring, sizeof *ring);
}
