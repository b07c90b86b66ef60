/* Gallery snapshot: one file holding the packed arrays, so a node restarts
 * with a bulk read instead of re-packing every template from the store.
 *
 * Layout (little-endian, docs/gallery.md):
 *   header (96 bytes): magic "PMGALSNP", u32 version, u32 header size,
 *     u32 endian mark 0x01020304, u32 max minutiae, u32 keys, u32 record bytes,
 *     u64 count, u64 generation, 32 bytes BLAKE2b-256, 16 reserved zero bytes
 *   then the arrays in order: subject u64[n], encounter u32[n], pos u8[n],
 *     nmin u8[n], nkeys u8[n], minutiae u32[n*MAX_MINUTIAE], keys u16[n*KEYS].
 * The checksum covers the header (checksum field zero) and every array byte.
 * Written to a temporary file, fsync'd, renamed over the old one, directory
 * fsync'd: a crash leaves the old or the new snapshot, never a mix. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "gallery/gallery_internal.h"
#include "perimeter/seal.h"

#define SNAP_MAGIC "PMGALSNP"
#define SNAP_VERSION 1
#define SNAP_HEADER 96
#define SNAP_ENDIAN 0x01020304u
#define SNAP_MAX_COUNT ((uint64_t)UINT32_MAX - 2)

typedef struct snap_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint32_t endian;
    uint32_t max_minutiae;
    uint32_t keys;
    uint32_t record_bytes;
    uint64_t count;
    uint64_t generation;
    uint8_t checksum[32];
    uint8_t reserved[16];
} snap_header_t;
_Static_assert(sizeof(snap_header_t) == SNAP_HEADER, "snapshot header layout");

typedef struct span {
    void *p;
    size_t len;
} span_t;

static void spans_of(const pm__gal_shard_t *s, size_t n, span_t *sp)
{
    sp[0] = (span_t){s->subject, n * sizeof *s->subject};
    sp[1] = (span_t){s->encounter, n * sizeof *s->encounter};
    sp[2] = (span_t){s->pos, n};
    sp[3] = (span_t){s->nmin, n};
    sp[4] = (span_t){s->nkeys, n};
    sp[5] = (span_t){s->minu, n * PM_GALLERY_MAX_MINUTIAE * sizeof *s->minu};
    sp[6] = (span_t){s->keys, n * PM_GALLERY_KEYS * sizeof *s->keys};
}
#define NSPANS 7

/* Where a snapshot goes / comes from: a file descriptor, or memory (the
 * sealed form is built and opened in memory). */
typedef struct sink {
    int fd;       /* >= 0: a file */
    pm_buf_t *buf; /* else: memory */
    const uint8_t *src; /* reading memory: the bytes */
    size_t src_len, src_off;
} sink_t;

static int write_fd(int fd, const void *p, size_t len);

static int sink_write(sink_t *k, const void *p, size_t len)
{
    if (k->fd >= 0)
        return write_fd(k->fd, p, len);
    return pm_buf_append(k->buf, p, len) ? -1 : 0;
}

static int sink_pwrite0(sink_t *k, const void *p, size_t len)
{
    if (k->fd >= 0)
        return pwrite(k->fd, p, len, 0) == (ssize_t)len ? 0 : -1;
    if (k->buf->len < len)
        return -1;
    memcpy(k->buf->data, p, len);
    return 0;
}

static int write_fd(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len) {
        ssize_t w = write(fd, b, len > (1u << 30) ? (1u << 30) : len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Writes the snapshot (header, arrays, checksum) to k. -1 on a write error. */
static int serialize(pm_gallery_t *g, sink_t *k, uint64_t generation)
{
    int rc = 0;
    pthread_rwlock_rdlock(&g->lock);
    size_t n = g->s.n;
    snap_header_t h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, SNAP_MAGIC, 8);
    h.version = SNAP_VERSION;
    h.header_size = SNAP_HEADER;
    h.endian = SNAP_ENDIAN;
    h.max_minutiae = PM_GALLERY_MAX_MINUTIAE;
    h.keys = PM_GALLERY_KEYS;
    h.record_bytes = PM__GAL_RECORD_BYTES;
    h.count = n;
    h.generation = generation;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)&h, sizeof h);
    span_t sp[NSPANS];
    spans_of(&g->s, n, sp);
    if (sink_write(k, &h, sizeof h))
        rc = -1;
    for (int i = 0; i < NSPANS && !rc; i++) {
        crypto_generichash_update(&st, sp[i].p, sp[i].len);
        if (sink_write(k, sp[i].p, sp[i].len))
            rc = -1;
    }
    pthread_rwlock_unlock(&g->lock);
    crypto_generichash_final(&st, h.checksum, 32);
    if (!rc && sink_pwrite0(k, &h, sizeof h))
        rc = -1;
    return rc;
}

int pm_gallery_save(pm_gallery_t *g, const char *path, uint64_t generation, pm_error_t *err)
{
    if (!g || !path)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_save: NULL argument");
    if (sodium_init() < 0)
        return pm_error_set(err, PM_EINTERNAL, "libsodium failed to initialise");
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return pm_error_set(err, PM_EINVAL, "snapshot path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return pm_error_set(err, PM_EIO, "cannot create %s: %s", tmp, strerror(errno));
    sink_t k = {fd, NULL, NULL, 0, 0};
    int rc = serialize(g, &k, generation);
    if (!rc && fsync(fd))
        rc = -1;
    if (rc)
        rc = pm_error_set(err, PM_EIO, "writing %s: %s", tmp, strerror(errno));
    if (close(fd) && !rc)
        rc = pm_error_set(err, PM_EIO, "closing %s: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, path))
        rc = pm_error_set(err, PM_EIO, "renaming %s to %s: %s", tmp, path, strerror(errno));
    if (rc) {
        unlink(tmp);
        return rc;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static int read_fd(int fd, void *p, size_t len);

/* 0, 1 (short), -1 (error) */
static int read_all(sink_t *k, void *p, size_t len)
{
    if (k->fd >= 0)
        return read_fd(k->fd, p, len);
    if (k->src_len - k->src_off < len)
        return 1;
    memcpy(p, k->src + k->src_off, len);
    k->src_off += len;
    return 0;
}

static int read_fd(int fd, void *p, size_t len)
{
    uint8_t *b = p;
    while (len) {
        ssize_t r = read(fd, b, len > (1u << 30) ? (1u << 30) : len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            return 1; /* short */
        b += r;
        len -= (size_t)r;
    }
    return 0;
}

static void shard_free(pm__gal_shard_t *s)
{
    free(s->subject);
    free(s->encounter);
    free(s->pos);
    free(s->nmin);
    free(s->nkeys);
    free(s->minu);
    free(s->keys);
}

/* Reads a snapshot from k (size bytes in all) into g. */
static int parse(pm_gallery_t *g, sink_t *k, uint64_t size, const char *path,
                 uint64_t *out_generation, pm_error_t *err)
{
    int rc = 0;
    snap_header_t h;
    pm__gal_shard_t s;
    memset(&s, 0, sizeof s);
    int r = read_all(k, &h, sizeof h);
    if (r) {
        rc = r > 0 ? pm_error_set(err, PM_ETRUNCATED, "%s: shorter than a snapshot header", path)
                   : pm_error_set(err, PM_EIO, "reading %s: %s", path, strerror(errno));
        goto out;
    }
    if (memcmp(h.magic, SNAP_MAGIC, 8) != 0) {
        rc = pm_error_set(err, PM_ECORRUPT, "%s: not a gallery snapshot (bad magic)", path);
        goto out;
    }
    if (h.version != SNAP_VERSION || h.header_size != SNAP_HEADER || h.endian != SNAP_ENDIAN ||
        h.max_minutiae != PM_GALLERY_MAX_MINUTIAE || h.keys != PM_GALLERY_KEYS ||
        h.record_bytes != PM__GAL_RECORD_BYTES) {
        rc = pm_error_set(err, PM_EUNSUPPORTED,
                          "%s: snapshot version %u / layout (%u minutiae, %u keys, %u bytes) is not "
                          "this build's; rebuild it from the store",
                          path, h.version, h.max_minutiae, h.keys, h.record_bytes);
        goto out;
    }
    if (h.count > SNAP_MAX_COUNT) {
        rc = pm_error_set(err, PM_ECORRUPT, "%s: record count %llu out of range", path,
                          (unsigned long long)h.count);
        goto out;
    }
    uint64_t want = SNAP_HEADER + h.count * PM__GAL_RECORD_BYTES;
    if (size != want) {
        rc = pm_error_set(err, size < want ? PM_ETRUNCATED : PM_ECORRUPT,
                          "%s: %lld bytes, the header says %llu records = %llu bytes", path,
                          (long long)size, (unsigned long long)h.count,
                          (unsigned long long)want);
        goto out;
    }
    size_t n = (size_t)h.count, cap = n ? n : 1;
    s.n = n;
    s.subject = malloc(cap * sizeof *s.subject);
    s.encounter = malloc(cap * sizeof *s.encounter);
    s.pos = malloc(cap);
    s.nmin = malloc(cap);
    s.nkeys = malloc(cap);
    s.minu = malloc(cap * PM_GALLERY_MAX_MINUTIAE * sizeof *s.minu);
    s.keys = malloc(cap * PM_GALLERY_KEYS * sizeof *s.keys);
    if (!s.subject || !s.encounter || !s.pos || !s.nmin || !s.nkeys || !s.minu || !s.keys) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory loading %llu records",
                          (unsigned long long)h.count);
        goto out;
    }
    uint8_t sum[32];
    memcpy(sum, h.checksum, 32);
    memset(h.checksum, 0, 32);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)&h, sizeof h);
    span_t sp[NSPANS];
    spans_of(&s, n, sp);
    for (int i = 0; i < NSPANS; i++) {
        r = read_all(k, sp[i].p, sp[i].len);
        if (r) {
            rc = r > 0 ? pm_error_set(err, PM_ETRUNCATED, "%s: truncated while reading", path)
                       : pm_error_set(err, PM_EIO, "reading %s: %s", path, strerror(errno));
            goto out;
        }
        crypto_generichash_update(&st, sp[i].p, sp[i].len);
    }
    uint8_t got[32];
    crypto_generichash_final(&st, got, 32);
    if (sodium_memcmp(got, sum, 32) != 0) {
        rc = pm_error_set(err, PM_ECORRUPT, "%s: checksum mismatch (corrupt snapshot)", path);
        goto out;
    }
    /* field ranges: a record the search would misread is corruption too */
    for (size_t i = 0; i < n; i++)
        if (s.pos[i] > 10 || s.nmin[i] > PM_GALLERY_MAX_MINUTIAE || s.nkeys[i] > PM_GALLERY_KEYS) {
            rc = pm_error_set(err, PM_ECORRUPT, "%s: record %zu has fields out of range", path, i);
            goto out;
        }
    /* install: swap in the arrays and rebuild the index */
    pthread_rwlock_wrlock(&g->lock);
    pm__gal_shard_t old = g->s;
    size_t oldcap = g->cap;
    g->s = s;
    g->cap = cap;
    if (pm__gal_reindex(g)) {
        g->s = old;
        g->cap = oldcap;
        pthread_rwlock_unlock(&g->lock);
        rc = pm_error_set(err, PM_ENOMEM, "out of memory indexing the snapshot");
        goto out;
    }
    /* duplicate keys would make deletes ambiguous: count what the index holds */
    size_t held = 0;
    for (size_t i = 0; i < g->index_cap; i++)
        held += g->index[i] != 0;
    if (held != n) {
        g->s = old;
        g->cap = oldcap;
        pm__gal_reindex(g);
        pthread_rwlock_unlock(&g->lock);
        rc = pm_error_set(err, PM_ECORRUPT, "%s: duplicate records", path);
        goto out;
    }
    pthread_rwlock_unlock(&g->lock);
    memset(&s, 0, sizeof s);
    shard_free(&old);
    if (out_generation)
        *out_generation = h.generation;
out:
    shard_free(&s);
    return rc;
}

int pm_gallery_load(pm_gallery_t *g, const char *path, uint64_t *out_generation, pm_error_t *err)
{
    if (!g || !path)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_load: NULL argument");
    if (sodium_init() < 0)
        return pm_error_set(err, PM_EINTERNAL, "libsodium failed to initialise");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pm_error_set(err, errno == ENOENT ? PM_ENOTFOUND : PM_EIO, "cannot open %s: %s",
                            path, strerror(errno));
    struct stat stt;
    int rc;
    if (fstat(fd, &stt))
        rc = pm_error_set(err, PM_EIO, "stat %s: %s", path, strerror(errno));
    else {
        sink_t k = {fd, NULL, NULL, 0, 0};
        rc = parse(g, &k, (uint64_t)stt.st_size, path, out_generation, err);
    }
    close(fd);
    return rc;
}

/* ---- sealed snapshots (docs/security.md "A stolen node disk") ---------- */
#define SEAL_USE "gallery-snapshot"

int pm_gallery_save_sealed(pm_gallery_t *g, const char *path, uint64_t generation,
                           const pm_seal_ring_t *ring, pm_error_t *err)
{
    if (!ring || !ring->n)
        return pm_gallery_save(g, path, generation, err);
    if (!g || !path)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_save_sealed: NULL argument");
    if (sodium_init() < 0)
        return pm_error_set(err, PM_EINTERNAL, "libsodium failed to initialise");
    pm_buf_t plain, sealed;
    pm_buf_init(&plain, SIZE_MAX / 2);
    pm_buf_init(&sealed, SIZE_MAX / 2);
    sink_t k = {-1, &plain, NULL, 0, 0};
    int rc = serialize(g, &k, generation)
                 ? pm_error_set(err, PM_ENOMEM, "snapshot: out of memory")
                 : pm_seal_ring_seal(ring, SEAL_USE, plain.data, plain.len, &sealed, err);
    if (plain.data)
        sodium_memzero(plain.data, plain.len);
    pm_buf_free(&plain);
    if (!rc)
        rc = pm_file_write_atomic_mode(path, sealed.data, sealed.len, 0600, err);
    pm_buf_free(&sealed);
    return rc;
}

int pm_gallery_load_sealed(pm_gallery_t *g, const char *path, const pm_seal_ring_t *ring,
                           uint64_t *out_generation, pm_error_t *err)
{
    if (!ring || !ring->n)
        return pm_gallery_load(g, path, out_generation, err);
    if (!g || !path)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_load_sealed: NULL argument");
    uint8_t *d = NULL;
    size_t n = 0;
    int rc = pm_file_read(path, SIZE_MAX / 2, &d, &n, err);
    if (rc)
        return rc;
    pm_buf_t plain;
    pm_buf_init(&plain, SIZE_MAX / 2);
    if (!pm_seal_is_sealed(d, n))
        rc = pm_error_set(err, PM_EDENIED,
                          "%s: a snapshot in clear while a data key is configured (rebuild it)",
                          path);
    else if (!(rc = pm_seal_ring_open(ring, SEAL_USE, d, n, &plain, NULL, err))) {
        sink_t k = {-1, NULL, plain.data, plain.len, 0};
        rc = parse(g, &k, plain.len, path, out_generation, err);
    } else
        pm_error_prefix(err, "%s", path);
    free(d);
    if (plain.data)
        sodium_memzero(plain.data, plain.len);
    pm_buf_free(&plain);
    return rc;
}
