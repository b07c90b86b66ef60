/* The packed gallery: records, the (subject, encounter, position) index,
 * inserts, deletes, subsets, statistics. Searches are in search.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gallery/gallery_internal.h"

#define TWO_PI 6.28318530717958647692

/* ---- packing ---------------------------------------------------------------- */

typedef struct qm {
    int q;
    int i;
} qm_t;

static int qm_cmp(const void *a, const void *b)
{
    const qm_t *p = a, *q = b;
    return p->q != q->q ? q->q - p->q : p->i - q->i;
}

void pm__gal_pack_view(const pm_fingerprint_t *fp, uint32_t *minu, uint8_t *nmin, uint16_t *keys,
                       uint8_t *nkeys)
{
    double scale = fp->ppi > 0 ? 500.0 / fp->ppi : 1.0;
    qm_t order[PM_MAX_MINUTIAE];
    int n = 0;
    for (size_t i = 0; i < fp->count && i < PM_MAX_MINUTIAE; i++) {
        const pm_minutia_t *m = &fp->minutiae[i];
        if (!isfinite(m->x) || !isfinite(m->y) || !isfinite(m->angle))
            continue;
        double x = m->x * scale, y = m->y * scale;
        if (x < 0 || y < 0 || x > 2047 || y > 2047)
            continue;
        order[n].q = m->quality;
        order[n].i = (int)i;
        n++;
    }
    /* more than fit: keep the best quality (stable, so equal qualities keep
     * the extractor's order) */
    if (n > PM_GALLERY_MAX_MINUTIAE) {
        qsort(order, (size_t)n, sizeof order[0], qm_cmp);
        n = PM_GALLERY_MAX_MINUTIAE;
    }
    int16_t x[PM_GALLERY_MAX_MINUTIAE] = {0}, y[PM_GALLERY_MAX_MINUTIAE] = {0};
    uint8_t dir[PM_GALLERY_MAX_MINUTIAE] = {0}, type[PM_GALLERY_MAX_MINUTIAE] = {0};
    for (int k = 0; k < n; k++) {
        const pm_minutia_t *m = &fp->minutiae[order[k].i];
        x[k] = (int16_t)lround(m->x * scale);
        y[k] = (int16_t)lround(m->y * scale);
        dir[k] = (uint8_t)(lround(m->angle * 256.0 / TWO_PI) & 0xff);
        type[k] = m->type <= 2 ? m->type : 0;
    }
    /* stored in the keys' order: key t belongs to minutia t */
    int perm[PM_GALLERY_MAX_MINUTIAE], nk = 0;
    pm__gal_record_keys(x, y, dir, n, perm, keys, &nk, PM_GALLERY_KEYS);
    for (int k = 0; k < n; k++) {
        int o = perm[k];
        minu[k] = pm__gal_pack(x[o], y[o], dir[o], type[o]);
    }
    for (int k = n; k < PM_GALLERY_MAX_MINUTIAE; k++)
        minu[k] = 0;
    *nmin = (uint8_t)n;
    for (int k = nk; k < PM_GALLERY_KEYS; k++)
        keys[k] = 0;
    *nkeys = (uint8_t)nk;
}

void pm__gal_unpack_view(const uint32_t *minu, int nmin, int position, pm_fingerprint_t *fp)
{
    fp->width = 0;
    fp->height = 0;
    fp->ppi = 500;
    fp->quality = 0;
    fp->finger = position;
    fp->count = (size_t)nmin;
    for (int k = 0; k < nmin; k++) {
        uint32_t v = minu[k];
        pm_minutia_t *m = &fp->minutiae[k];
        m->x = (float)(v & 2047);
        m->y = (float)((v >> 11) & 2047);
        m->angle = (float)(((v >> 22) & 255) * TWO_PI / 256.0);
        m->type = (uint8_t)(v >> 30);
        m->quality = 0;
    }
}

/* ---- index ---------------------------------------------------------------------- */

static uint64_t key_hash(uint64_t subject, uint32_t encounter, int position)
{
    uint64_t h = subject * 0x9E3779B97F4A7C15ull;
    h ^= ((uint64_t)encounter << 8 | (uint64_t)(position & 255)) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return h;
}

static size_t row_hash(const pm_gallery_t *g, size_t row)
{
    return (size_t)key_hash(g->s.subject[row], g->s.encounter[row], g->s.pos[row]);
}

/* Slot of the key, or of the empty slot where it would go. */
static size_t index_find(const pm_gallery_t *g, uint64_t subject, uint32_t encounter, int position)
{
    size_t mask = g->index_cap - 1, at = (size_t)key_hash(subject, encounter, position) & mask;
    for (;;) {
        uint32_t v = g->index[at];
        if (!v)
            return at;
        size_t r = v - 1;
        if (g->s.subject[r] == subject && g->s.encounter[r] == encounter && g->s.pos[r] == position)
            return at;
        at = (at + 1) & mask;
    }
}

static void index_put_row(pm_gallery_t *g, size_t row)
{
    size_t at = index_find(g, g->s.subject[row], g->s.encounter[row], g->s.pos[row]);
    g->index[at] = (uint32_t)(row + 1);
}

/* Removes slot `at` (linear probing: shift the following cluster back). */
static void index_remove_slot(pm_gallery_t *g, size_t at)
{
    size_t mask = g->index_cap - 1, hole = at, j = at;
    g->index[hole] = 0;
    for (;;) {
        j = (j + 1) & mask;
        uint32_t v = g->index[j];
        if (!v)
            return;
        size_t home = row_hash(g, v - 1) & mask;
        /* can v move to the hole? only if its home is not in (hole, j] cyclically */
        int between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!between) {
            g->index[hole] = v;
            g->index[j] = 0;
            hole = j;
        }
    }
}

int pm__gal_reindex(pm_gallery_t *g)
{
    size_t cap = 16;
    while (cap < g->s.n + g->s.n / 2 + 2)
        cap <<= 1;
    uint32_t *ix = calloc(cap, sizeof *ix);
    if (!ix)
        return PM_ENOMEM;
    free(g->index);
    g->index = ix;
    g->index_cap = cap;
    for (size_t r = 0; r < g->s.n; r++)
        index_put_row(g, r);
    return 0;
}

/* ---- arrays ------------------------------------------------------------------------ */

#define GROW(field, count)                                                                         \
    do {                                                                                           \
        void *p_ = realloc(g->s.field, (count) * sizeof *g->s.field);                              \
        if (!p_)                                                                                   \
            return PM_ENOMEM;                                                                      \
        g->s.field = p_;                                                                           \
    } while (0)

int pm__gal_reserve(pm_gallery_t *g, size_t cap)
{
    if (cap < 1)
        cap = 1;
    GROW(subject, cap);
    GROW(encounter, cap);
    GROW(pos, cap);
    GROW(nmin, cap);
    GROW(nkeys, cap);
    GROW(minu, cap * PM_GALLERY_MAX_MINUTIAE);
    GROW(keys, cap * PM_GALLERY_KEYS);
    g->cap = cap;
    return 0;
}

int pm_gallery_new(const pm_gallery_options_t *options, pm_gallery_t **out, pm_error_t *err)
{
    if (!out)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_new: NULL argument");
    *out = NULL;
    int threads = options ? options->threads : 0;
    if (threads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        threads = c > 0 ? (int)c : 1;
    }
    if (threads > 256)
        return pm_error_set(err, PM_ERANGE, "pm_gallery_new: %d threads (max 256)", threads);
    pm_gallery_t *g = calloc(1, sizeof *g);
    if (!g)
        return pm_error_set(err, PM_ENOMEM, "out of memory for a gallery");
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* writers must not starve behind a stream of searches */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&g->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    g->threads = threads;
    int rc = pm__gal_reindex(g);
    if (!rc)
        rc = pm__gal_reserve(g, 1024);
    if (rc) {
        pm_gallery_free(g);
        return pm_error_set(err, PM_ENOMEM, "out of memory for a gallery");
    }
    if ((rc = pm__pool_new(threads, &g->pool, err))) {
        pm_gallery_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void pm_gallery_free(pm_gallery_t *g)
{
    if (!g)
        return;
    pm__pool_free(g->pool);
    free(g->s.subject);
    free(g->s.encounter);
    free(g->s.pos);
    free(g->s.nmin);
    free(g->s.nkeys);
    free(g->s.minu);
    free(g->s.keys);
    free(g->index);
    for (size_t i = 0; i < g->nsubsets; i++)
        free(g->subsets[i].ids);
    pthread_rwlock_destroy(&g->lock);
    free(g);
}

/* ---- insert / delete ------------------------------------------------------------------ */

int pm_gallery_insert(pm_gallery_t *g, uint64_t subject, uint32_t encounter, int position,
                      const pm_fingerprint_t *fp, pm_error_t *err)
{
    if (!g || !fp)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_insert: NULL argument");
    if (position < 0 || position > 10)
        return pm_error_set(err, PM_ERANGE, "finger position %d (0 unknown, 1..10)", position);
    if (fp->count > PM_MAX_MINUTIAE)
        return pm_error_set(err, PM_EINVAL, "view has %zu minutiae (max %d)", fp->count,
                            PM_MAX_MINUTIAE);
    /* pack outside the lock: it is the costly part */
    uint32_t minu[PM_GALLERY_MAX_MINUTIAE];
    uint16_t keys[PM_GALLERY_KEYS];
    uint8_t nmin, nkeys;
    pm__gal_pack_view(fp, minu, &nmin, keys, &nkeys);
    if (nmin < 3)
        return pm_error_set(err, PM_EVALIDATION, "view has %d usable minutiae (at least 3)", nmin);
    pthread_rwlock_wrlock(&g->lock);
    int rc = 0;
    size_t at = index_find(g, subject, encounter, position);
    if (g->index[at]) {
        rc = pm_error_set(err, PM_EEXISTS, "subject %llu encounter %u position %d already enrolled",
                          (unsigned long long)subject, encounter, position);
        goto out;
    }
    if (g->s.n >= UINT32_MAX - 1) {
        rc = pm_error_set(err, PM_ELIMIT, "gallery is full");
        goto out;
    }
    if (g->s.n == g->cap && pm__gal_reserve(g, g->cap + g->cap / 4 + 1024)) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory growing the gallery");
        goto out;
    }
    size_t r = g->s.n++;
    g->s.subject[r] = subject;
    g->s.encounter[r] = encounter;
    g->s.pos[r] = (uint8_t)position;
    g->s.nmin[r] = nmin;
    g->s.nkeys[r] = nkeys;
    memcpy(g->s.minu + r * PM_GALLERY_MAX_MINUTIAE, minu, sizeof minu);
    memcpy(g->s.keys + r * PM_GALLERY_KEYS, keys, sizeof keys);
    if (g->s.n + g->s.n / 2 + 2 > g->index_cap) {
        if (pm__gal_reindex(g)) {
            g->s.n--;
            rc = pm_error_set(err, PM_ENOMEM, "out of memory growing the gallery index");
            pm__gal_reindex(g); /* the old index was kept on failure */
            goto out;
        }
    } else {
        g->index[at] = (uint32_t)(r + 1);
    }
out:
    pthread_rwlock_unlock(&g->lock);
    return rc;
}

/* Removes row r by moving the last row into it (write lock held). */
static void remove_row(pm_gallery_t *g, size_t r)
{
    size_t at = index_find(g, g->s.subject[r], g->s.encounter[r], g->s.pos[r]);
    index_remove_slot(g, at);
    size_t last = g->s.n - 1;
    if (r != last) {
        size_t lat = index_find(g, g->s.subject[last], g->s.encounter[last], g->s.pos[last]);
        g->s.subject[r] = g->s.subject[last];
        g->s.encounter[r] = g->s.encounter[last];
        g->s.pos[r] = g->s.pos[last];
        g->s.nmin[r] = g->s.nmin[last];
        g->s.nkeys[r] = g->s.nkeys[last];
        memcpy(g->s.minu + r * PM_GALLERY_MAX_MINUTIAE, g->s.minu + last * PM_GALLERY_MAX_MINUTIAE,
               PM_GALLERY_MAX_MINUTIAE * sizeof *g->s.minu);
        memcpy(g->s.keys + r * PM_GALLERY_KEYS, g->s.keys + last * PM_GALLERY_KEYS,
               PM_GALLERY_KEYS * sizeof *g->s.keys);
        g->index[lat] = (uint32_t)(r + 1);
    }
    g->s.n--;
}

static int delete_where(pm_gallery_t *g, uint64_t subject, int64_t encounter, size_t *out_removed,
                        pm_error_t *err)
{
    size_t removed = 0;
    pthread_rwlock_wrlock(&g->lock);
    for (size_t r = 0; r < g->s.n;) {
        if (g->s.subject[r] == subject && (encounter < 0 || g->s.encounter[r] == (uint32_t)encounter)) {
            remove_row(g, r); /* row r now holds the former last row: look again */
            removed++;
        } else {
            r++;
        }
    }
    pthread_rwlock_unlock(&g->lock);
    if (out_removed)
        *out_removed = removed;
    if (!removed)
        return encounter < 0
                   ? pm_error_set(err, PM_ENOTFOUND, "subject %llu is not enrolled",
                                  (unsigned long long)subject)
                   : pm_error_set(err, PM_ENOTFOUND, "subject %llu has no encounter %lld",
                                  (unsigned long long)subject, (long long)encounter);
    return 0;
}

int pm_gallery_delete_encounter(pm_gallery_t *g, uint64_t subject, uint32_t encounter,
                                size_t *out_removed, pm_error_t *err)
{
    if (!g)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_delete_encounter: NULL gallery");
    return delete_where(g, subject, (int64_t)encounter, out_removed, err);
}

int pm_gallery_delete_subject(pm_gallery_t *g, uint64_t subject, size_t *out_removed,
                              pm_error_t *err)
{
    if (!g)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_delete_subject: NULL gallery");
    return delete_where(g, subject, -1, out_removed, err);
}

size_t pm_gallery_count(pm_gallery_t *g)
{
    if (!g)
        return 0;
    pthread_rwlock_rdlock(&g->lock);
    size_t n = g->s.n;
    pthread_rwlock_unlock(&g->lock);
    return n;
}

/* ---- subsets ---------------------------------------------------------------------- */

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int pm_gallery_subset_set(pm_gallery_t *g, const char *name, const uint64_t *subjects, size_t n,
                          pm_error_t *err)
{
    if (!g || !name || (n && !subjects))
        return pm_error_set(err, PM_EINVAL, "pm_gallery_subset_set: NULL argument");
    size_t len = strlen(name);
    if (len == 0 || len > PM_GALLERY_NAME_MAX)
        return pm_error_set(err, PM_EINVAL, "subset name must be 1..%d bytes", PM_GALLERY_NAME_MAX);
    uint64_t *ids = NULL;
    if (n) {
        ids = malloc(n * sizeof *ids);
        if (!ids)
            return pm_error_set(err, PM_ENOMEM, "out of memory for subset '%s'", name);
        memcpy(ids, subjects, n * sizeof *ids);
        qsort(ids, n, sizeof *ids, u64_cmp);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (k == 0 || ids[k - 1] != ids[i])
                ids[k++] = ids[i];
        n = k;
    }
    int rc = 0;
    pthread_rwlock_wrlock(&g->lock);
    size_t at = 0;
    while (at < g->nsubsets && strcmp(g->subsets[at].name, name) != 0)
        at++;
    if (at < g->nsubsets) {
        free(g->subsets[at].ids);
        if (n) {
            g->subsets[at].ids = ids;
            g->subsets[at].n = n;
        } else {
            g->subsets[at] = g->subsets[--g->nsubsets];
        }
    } else if (n) {
        if (g->nsubsets == PM__GAL_MAX_SUBSETS) {
            free(ids);
            rc = pm_error_set(err, PM_ELIMIT, "at most %d subsets", PM__GAL_MAX_SUBSETS);
        } else {
            pm__gal_subset_t *s = &g->subsets[g->nsubsets++];
            memcpy(s->name, name, len + 1);
            s->ids = ids;
            s->n = n;
        }
    }
    pthread_rwlock_unlock(&g->lock);
    return rc;
}

/* ---- stats and records ---------------------------------------------------------------- */

int pm_gallery_stats(pm_gallery_t *g, pm_gallery_stats_t *out, pm_error_t *err)
{
    if (!g || !out)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_stats: NULL argument");
    memset(out, 0, sizeof *out);
    pthread_rwlock_rdlock(&g->lock);
    size_t n = g->s.n;
    out->fingers = n;
    out->bytes_records = n * PM__GAL_RECORD_BYTES;
    out->bytes_index = g->index_cap * sizeof *g->index;
    out->bytes_allocated = g->cap * PM__GAL_RECORD_BYTES + out->bytes_index;
    out->bytes_per_finger = n ? (double)(out->bytes_records + out->bytes_index) / (double)n : 0;
    out->subsets = g->nsubsets;
    out->threads = g->threads;
    for (size_t r = 0; r < n; r++)
        out->positions[g->s.pos[r] <= 10 ? g->s.pos[r] : 0]++;
    uint64_t *ids = n ? malloc(n * sizeof *ids) : NULL;
    if (ids) {
        memcpy(ids, g->s.subject, n * sizeof *ids);
    }
    pthread_rwlock_unlock(&g->lock);
    if (n && !ids)
        return pm_error_set(err, PM_ENOMEM, "out of memory counting subjects");
    if (ids) {
        qsort(ids, n, sizeof *ids, u64_cmp);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            k += i == 0 || ids[i] != ids[i - 1];
        out->subjects = k;
        free(ids);
    }
    return 0;
}

int pm_gallery_record(pm_gallery_t *g, size_t i, uint64_t *subject, uint32_t *encounter,
                      int *position, pm_fingerprint_t *fp, pm_error_t *err)
{
    if (!g)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_record: NULL gallery");
    int rc = 0;
    pthread_rwlock_rdlock(&g->lock);
    if (i >= g->s.n) {
        rc = pm_error_set(err, PM_ERANGE, "record %zu of %zu", i, g->s.n);
    } else {
        if (subject)
            *subject = g->s.subject[i];
        if (encounter)
            *encounter = g->s.encounter[i];
        if (position)
            *position = g->s.pos[i];
        if (fp)
            pm__gal_unpack_view(g->s.minu + i * PM_GALLERY_MAX_MINUTIAE, g->s.nmin[i], g->s.pos[i], fp);
    }
    pthread_rwlock_unlock(&g->lock);
    return rc;
}
