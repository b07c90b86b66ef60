/* Private layout of the gallery (src/gallery only). */
#ifndef PM_GALLERY_INTERNAL_H
#define PM_GALLERY_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "perimeter/gallery.h"
#include "perimeter/match.h"

/* One packed minutia: x (11 bits) | y (11 bits) << 11 | dir (8 bits, 1/256
 * turn) << 22 | type (2 bits) << 30, coordinates in 500 ppi pixels. */
static inline uint32_t pm__gal_pack(int x, int y, int dir, int type)
{
    return (uint32_t)(x & 2047) | (uint32_t)(y & 2047) << 11 | (uint32_t)(dir & 255) << 22 |
           (uint32_t)(type & 3) << 30;
}

/* Bytes of one record in the arrays below. */
#define PM__GAL_RECORD_BYTES                                                                       \
    (8 + 4 + 3 + 4 * PM_GALLERY_MAX_MINUTIAE + 2 * PM_GALLERY_KEYS)

/* The packed records: a structure of arrays, row i of each. This is the
 * shard a search reads; it never changes while a search holds the read lock. */
typedef struct pm__gal_shard {
    size_t n;
    uint64_t *subject;
    uint32_t *encounter;
    uint8_t *pos;
    uint8_t *nmin;
    uint8_t *nkeys;
    uint32_t *minu; /* n * PM_GALLERY_MAX_MINUTIAE */
    uint16_t *keys; /* n * PM_GALLERY_KEYS */
} pm__gal_shard_t;

typedef struct pm__gal_subset {
    char name[PM_GALLERY_NAME_MAX + 1];
    uint64_t *ids; /* sorted, distinct */
    size_t n;
} pm__gal_subset_t;

#define PM__GAL_MAX_SUBSETS 64

typedef struct pm__pool pm__pool_t;

struct pm_gallery {
    pthread_rwlock_t lock;
    pm__gal_shard_t s;
    size_t cap;
    uint32_t *index; /* open addressing on (subject, encounter, position): row + 1, 0 = empty */
    size_t index_cap; /* power of two */
    pm__gal_subset_t subsets[PM__GAL_MAX_SUBSETS];
    size_t nsubsets;
    pm__pool_t *pool;
    int threads;
};

/* Packing (gallery.c). */
void pm__gal_pack_view(const pm_fingerprint_t *fp, uint32_t *minu, uint8_t *nmin, uint16_t *keys,
                       uint8_t *nkeys);
void pm__gal_unpack_view(const uint32_t *minu, int nmin, int position, pm_fingerprint_t *fp);
/* Rebuilds the (subject, encounter, position) index from the shard. */
int pm__gal_reindex(pm_gallery_t *g);
/* Resizes the arrays to hold cap rows (write lock held). */
int pm__gal_reserve(pm_gallery_t *g, size_t cap);

/* First stage (first_stage.c). Record side: the minutiae in the order the
 * keys use (key t belongs to packed minutia t), *out_nkeys keys. Probe side:
 * a map from key to the probe minutia whose triplet reaches it, and the
 * probe minutiae to turn a hit into a (rotation, translation) vote. */
void pm__gal_record_keys(const int16_t *x, const int16_t *y, const uint8_t *dir, int n,
                         int *perm, uint16_t *keys, int *out_nkeys, int max_keys);
#define PM__GAL_GRID_SHIFT 3
#define PM__GAL_GRID 128 /* cells per side: 1024 px */
/* Probe minutiae per key-map entry (first_stage.c). */
#ifndef PM__GAL_MAP_SLOTS
#define PM__GAL_MAP_SLOTS 3
#endif
#if PM__GAL_MAP_SLOTS <= 2
typedef uint16_t pm__gal_map_t;
#else
typedef uint32_t pm__gal_map_t;
#endif
/* The near-miss check on all of a record's minutiae (fast_match.c, extend 2)
 * is skipped for probes of at least PM__GAL_EXT_DENSE minutiae when the
 * record's PM__GAL_EXT_CENTRE most central minutiae all land inside the
 * probe's area (session 16: the dense probes set the p95; the sparse ones
 * hold the mates the check finds). */
#ifndef PM__GAL_EXT_DENSE
#define PM__GAL_EXT_DENSE 45
#endif
#ifndef PM__GAL_EXT_CENTRE
#define PM__GAL_EXT_CENTRE 4
#endif
typedef struct pm__gal_probe {
    pm__gal_map_t map[65536]; /* up to PM__GAL_MAP_SLOTS probe minutiae (index + 1, low
                               * byte first) whose triplets reach the key; 0 = none */
    int n;
    float x[PM_MAX_MINUTIAE], y[PM_MAX_MINUTIAE];
    uint8_t dir[PM_MAX_MINUTIAE];
    float cs[256], sn[256];
    int32_t ics[256], isn[256]; /* Q14 */
    /* fast comparison (fast_match.c): 8 px cells from (gx0, gy0); per cell a
     * bit per direction bin (32) of the probe minutiae near it, the nearest
     * probe minutia and whether the cell is inside the probe's area */
    int avx2; /* the vector path may be used */
    int key_cap; /* record keys looked up (the most central first; FS_KEYS in fast_match.c) */
    int scan_serial; /* 1: key hits checked as each is looked up (the code before the batched
                      * look-up; same scores; tests and bench_gallery_first only) */
    int pair_gate; /* 1: only key hits agreeing with another hit are checked (fast_match.c,
                    * FS_PAIR_*); 0: every hit (the serial path's order and scores) */
    int pair_px, pair_rot; /* the agreement's tolerances: pixels, 1/256 turn */
    int extend; /* a near-miss hit is checked on all the record's minutiae (fast_match.c):
                 * 2 (the default) always for a sparse probe, for a dense one only when
                 * the record's centre lands outside it (PM__GAL_EXT_*); 1 always
                 * (sessions 14-15); 0 never */
    int gx0, gy0, gw, gh; /* origin, cells per row (<= PM__GAL_GRID), rows */
    uint32_t grid[PM__GAL_GRID * PM__GAL_GRID]; /* tight tolerance, gw x gh used */
    uint8_t near[PM__GAL_GRID * PM__GAL_GRID];  /* probe minutia + 1 nearest within the wide
                                                  * tolerance, 255 inside the area, 0 outside */
    uint8_t near_pad[4]; /* the vector path reads 4 bytes at a cell */
} pm__gal_probe_t;
void pm__gal_probe_build(const pm_fingerprint_t *fp, pm__gal_probe_t *p);

/* The fast comparison (fast_match.c): builds the probe's grid (called by
 * pm__gal_probe_build), and scores a packed record 1..255 (1: no
 * hypothesis). A ranking for the short list, not a calibrated score. */
void pm__gal_fast_build(pm__gal_probe_t *p);
int pm__gal_fast_score(const pm__gal_probe_t *p, const uint16_t *keys, const uint32_t *minu,
                       int nkeys, int nmin);
/* The key hits pm__gal_fast_score checks (t << 8 | q: record minutia t on
 * probe minutia q, key by key, within the rotation limit) into hit[]
 * (PM_GALLERY_KEYS * PM__GAL_MAP_SLOTS); their count. */
int pm__gal_fast_hits(const pm__gal_probe_t *p, const uint16_t *keys, const uint32_t *minu,
                      int nkeys, uint16_t *hit);

/* Worker pool (pool.c): runs fn(ctx, chunk, worker) for chunk 0..nchunks-1
 * on the workers and returns when all are done. Worker scratch: one matcher each. */
typedef void (*pm__pool_fn)(void *ctx, size_t chunk, int worker);
int pm__pool_new(int threads, pm__pool_t **out, pm_error_t *err);
void pm__pool_free(pm__pool_t *p);
void pm__pool_run(pm__pool_t *p, pm__pool_fn fn, void *ctx, size_t nchunks);
pm_matcher_t *pm__pool_matcher(pm__pool_t *p, int worker);

#endif
