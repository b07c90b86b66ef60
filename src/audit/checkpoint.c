/* Signed checkpoints: count + head hash + time, Ed25519 over a fixed layout. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "audit_internal.h"

#define CP_DOMAIN "perimeter-audit-checkpoint-v1"

/* domain || count (8 bytes LE) || head (32) || time (8 bytes LE) */
static void cp_message(const pm_audit_checkpoint_t *cp, unsigned char m[sizeof CP_DOMAIN + 48])
{
    memcpy(m, CP_DOMAIN, sizeof CP_DOMAIN); /* with its NUL as separator */
    unsigned char *p = m + sizeof CP_DOMAIN;
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(cp->count >> (8 * i));
    memcpy(p + 8, cp->head, 32);
    uint64_t t = (uint64_t)cp->time;
    for (int i = 0; i < 8; i++)
        p[40 + i] = (unsigned char)(t >> (8 * i));
}

void pm__audit_checkpoint_sign(pm_audit_checkpoint_t *cp, const unsigned char sk[PM_AUDIT_SK_BYTES])
{
    unsigned char m[sizeof CP_DOMAIN + 48];
    cp_message(cp, m);
    crypto_sign_detached(cp->sig, NULL, m, sizeof m, sk);
}

int pm_audit_keypair(unsigned char pk[PM_AUDIT_PK_BYTES], unsigned char sk[PM_AUDIT_SK_BYTES])
{
    if (sodium_init() < 0) return PM_EINTERNAL;
    return crypto_sign_keypair(pk, sk) == 0 ? PM_OK : PM_EINTERNAL;
}

int pm_audit_checkpoint_check(const pm_audit_checkpoint_t *cp, const unsigned char *trusted_pk,
                              pm_error_t *err)
{
    if (!cp) return pm_error_set(err, PM_EINVAL, "checkpoint: NULL");
    if (sodium_init() < 0) return pm_error_set(err, PM_EINTERNAL, "libsodium failed to initialise");
    if (trusted_pk && sodium_memcmp(trusted_pk, cp->signer, PM_AUDIT_PK_BYTES) != 0)
        return pm_error_set(err, PM_EDENIED, "checkpoint at count %llu: signed by another key",
                            (unsigned long long)cp->count);
    unsigned char m[sizeof CP_DOMAIN + 48];
    cp_message(cp, m);
    if (crypto_sign_verify_detached(cp->sig, m, sizeof m, cp->signer) != 0)
        return pm_error_set(err, PM_EDENIED, "checkpoint at count %llu: bad signature",
                            (unsigned long long)cp->count);
    return PM_OK;
}

int pm_audit_checkpoint_to_json(const pm_audit_checkpoint_t *cp, pm_buf_t *out)
{
    char head[65], signer[65], sig[129];
    sodium_bin2hex(head, sizeof head, cp->head, 32);
    sodium_bin2hex(signer, sizeof signer, cp->signer, 32);
    sodium_bin2hex(sig, sizeof sig, cp->sig, 64);
    return pm_buf_printf(
        out, "{\"count\":%llu,\"head\":\"%s\",\"sig\":\"%s\",\"signer\":\"%s\",\"time\":%lld}\n",
        (unsigned long long)cp->count, head, sig, signer, (long long)cp->time);
}

static int hex_field(json_t *o, const char *key, unsigned char *out, size_t n, pm_error_t *err)
{
    json_t *v = json_object_get(o, key);
    size_t bin_len = 0;
    if (!json_is_string(v) || json_string_length(v) != 2 * n ||
        sodium_hex2bin(out, n, json_string_value(v), 2 * n, NULL, &bin_len, NULL) != 0 ||
        bin_len != n)
        return pm_error_set(err, PM_EFORMAT, "checkpoint: %s must be %zu hex digits", key, 2 * n);
    return PM_OK;
}

int pm_audit_checkpoint_from_json(const char *text, size_t len, pm_audit_checkpoint_t *out,
                                  pm_error_t *err)
{
    if (!text || !out) return pm_error_set(err, PM_EINVAL, "checkpoint: NULL argument");
    if (len > 4096) return pm_error_set(err, PM_ELIMIT, "checkpoint: longer than 4096 bytes");
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) return pm_error_set(err, PM_EFORMAT, "checkpoint: %s", je.text);
    memset(out, 0, sizeof *out);
    int rc = PM_OK;
    json_t *c = json_object_get(o, "count"), *t = json_object_get(o, "time");
    if (!json_is_object(o) || json_object_size(o) != 5)
        rc = pm_error_set(err, PM_EFORMAT, "checkpoint: expected count, head, sig, signer, time");
    else if (!json_is_integer(c) || json_integer_value(c) < 0 || !json_is_integer(t))
        rc = pm_error_set(err, PM_EFORMAT, "checkpoint: count and time must be integers");
    else if (!(rc = hex_field(o, "head", out->head, 32, err)) &&
             !(rc = hex_field(o, "signer", out->signer, 32, err)) &&
             !(rc = hex_field(o, "sig", out->sig, 64, err))) {
        out->count = (uint64_t)json_integer_value(c);
        out->time = (int64_t)json_integer_value(t);
    }
    json_decref(o);
    return rc;
}

/* The last checkpoint in the open file fd (the last non-empty line of its
 * tail): 1 if there is one, 0 if the file is empty, or an error. */
static int last_stored(int fd, const char *path, pm_audit_checkpoint_t *out, pm_error_t *err)
{
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0) return pm_error_set(err, PM_EIO, "%s: %s", path, strerror(errno));
    if (size == 0) return 0;
    char tail[4096];
    size_t n = size < (off_t)sizeof tail ? (size_t)size : sizeof tail;
    if (pread(fd, tail, n, size - (off_t)n) != (ssize_t)n)
        return pm_error_set(err, PM_EIO, "%s: %s", path, strerror(errno));
    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r')) n--;
    size_t start = n;
    while (start > 0 && tail[start - 1] != '\n') start--;
    if (n == 0) return 0;
    if (start == 0 && size > (off_t)sizeof tail)
        return pm_error_set(err, PM_ECORRUPT, "%s: last line longer than %zu bytes", path,
                            sizeof tail);
    int rc = pm_audit_checkpoint_from_json(tail + start, n - start, out, err);
    if (rc) pm_error_prefix(err, "%s: last checkpoint", path);
    return rc ? rc : 1;
}

int pm_audit_checkpoint_store(const char *path, const pm_audit_checkpoint_t *cp,
                              const unsigned char *trusted_pk, pm_error_t *err)
{
    if (!path || !cp) return pm_error_set(err, PM_EINVAL, "checkpoint: NULL argument");
    int rc = pm_audit_checkpoint_check(cp, trusted_pk, err);
    if (rc) return rc;
    pm_buf_t b;
    pm_buf_init(&b, 4096);
    if ((rc = pm_audit_checkpoint_to_json(cp, &b)))
        return pm_error_set(err, rc, "checkpoint: %s", pm_strerror(rc));
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        rc = pm_error_set(err, PM_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    /* rollback and fork: the log only grows, so a head never goes back and
     * one count never has two heads (held under the file lock) */
    pm_audit_checkpoint_t last;
    int have = last_stored(fd, path, &last, err);
    if (have < 0) {
        rc = have;
        goto out;
    }
    if (have && cp->count < last.count) {
        rc = pm_error_set(err, PM_ESTATE,
                          "checkpoint rollback: it signs %llu entries, the last one stored "
                          "signed %llu",
                          (unsigned long long)cp->count, (unsigned long long)last.count);
        goto out;
    }
    if (have && cp->count == last.count &&
        sodium_memcmp(cp->head, last.head, PM_AUDIT_HASH_BYTES) != 0) {
        rc = pm_error_set(err, PM_ESTATE,
                          "checkpoint fork: another head for the %llu entries of the last "
                          "one stored",
                          (unsigned long long)cp->count);
        goto out;
    }
    if (pm__audit_write_all(fd, (const char *)b.data, b.len) != 0 || fsync(fd) != 0)
        rc = pm_error_set(err, PM_EIO, "%s: %s", path, strerror(errno));
out:
    if (fd >= 0) close(fd); /* releases the lock */
    pm_buf_free(&b);
    return rc;
}

int pm_audit_checkpoints_load(const char *path, pm_audit_checkpoint_t **out, size_t *out_n,
                              pm_error_t *err)
{
    if (!path || !out || !out_n) return pm_error_set(err, PM_EINVAL, "checkpoint: NULL argument");
    *out = NULL;
    *out_n = 0;
    uint8_t *data;
    size_t len;
    int rc = pm_file_read(path, (size_t)1 << 28, &data, &len, err);
    if (rc) return rc;
    size_t cap = 0, n = 0, line = 0;
    pm_audit_checkpoint_t *v = NULL;
    for (size_t pos = 0; pos < len && rc == PM_OK;) {
        const uint8_t *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len;
        line++;
        if (end > pos) {
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                pm_audit_checkpoint_t *nv = realloc(v, cap * sizeof *v);
                if (!nv) {
                    rc = pm_error_set(err, PM_ENOMEM, "checkpoints: out of memory");
                    break;
                }
                v = nv;
            }
            rc = pm_audit_checkpoint_from_json((const char *)data + pos, end - pos, &v[n], err);
            if (rc)
                pm_error_prefix(err, "%s line %zu", path, line);
            else
                n++;
        }
        pos = end + 1;
    }
    free(data);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return PM_OK;
}
