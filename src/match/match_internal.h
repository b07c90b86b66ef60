/* Private layout of prepared templates and matcher scratch (src/match only). */
#ifndef PM_MATCH_INTERNAL_H
#define PM_MATCH_INTERNAL_H

#include <stdint.h>

#include "perimeter/match.h"
#include "perimeter/minutiae.h"

/* Neighbour graph */
#ifndef PM__K_NEAREST
#define PM__K_NEAREST 9
#endif
#define PM__MAX_DEGREE 20
/* Only each minutia's HASH_RANK shortest edges take part in root finding. */
#ifndef PM__HASH_RANK
#define PM__HASH_RANK 12
#endif
#define PM__MIN_EDGE_LEN 6
#define PM__MAX_EDGE_LEN 255

/* Tolerances (500 ppi pixels, 1/256 turns) for growing a pairing... */
#ifndef PM__ANGLE_TOL
#define PM__ANGLE_TOL 14 /* ~20 degrees */
#endif
#ifndef PM__LEN_TOL_BASE
#define PM__LEN_TOL_BASE 4
#endif
#ifndef PM__LEN_TOL_DIV
#define PM__LEN_TOL_DIV 10
#endif
static inline int pm__len_tol(int len) { return PM__LEN_TOL_BASE + len / PM__LEN_TOL_DIV; }
/* ...and tighter ones for finding root pairs through the hash. */
#ifndef PM__ROOT_ANGLE_TOL
#define PM__ROOT_ANGLE_TOL 7
#endif
#ifndef PM__ROOT_LEN_TOL_BASE
#define PM__ROOT_LEN_TOL_BASE 2
#endif
#ifndef PM__ROOT_LEN_TOL_DIV
#define PM__ROOT_LEN_TOL_DIV 20
#endif
static inline int pm__root_len_tol(int len) { return PM__ROOT_LEN_TOL_BASE + len / PM__ROOT_LEN_TOL_DIV; }

/* Edge hash: length bins of 8 px, angle bins of 16 units (16 per turn),
 * about twice the root tolerances so an edge lands in 4-8 buckets. */
#define PM__LEN_BIN 8
#define PM__LEN_BINS 32
#define PM__ANGLE_SHIFT 4
#define PM__ANGLE_BINS 16
#define PM__BUCKETS (PM__LEN_BINS * PM__ANGLE_BINS * PM__ANGLE_BINS)

/* Area mask: 16 px cells covering 1024 x 1024 px at 500 ppi. */
#define PM__CELL 16
#define PM__GRID 64

/* Spatial grid of the minutiae: 32 px cells, 32 x 32 cells. */
#define PM__SCELL_SHIFT 5
#define PM__SGRID 32

/* Angle in 1/256 turns of the vector (dx, dy), image coordinates (y down),
 * counter-clockwise: lround(atan2(-dy, dx) * 256 / 2pi) & 255 computed
 * without atan2 (match.c); exact for |dx|, |dy| <= 255 (every edge). */
uint8_t pm__vec_angle256(int dx, int dy);

/* Directed edge from minutia i (implicit: its list) to j. ai/aj: angle of the
 * edge i->j minus the direction of i / of j, in 1/256 turns. */
typedef struct pm__edge {
    uint8_t j;
    uint8_t ai;
    uint8_t aj;
    uint8_t tol; /* pm__len_tol(len), precomputed */
    uint16_t len;
} pm__edge_t;

/* Edge hash entries are stored as a structure of arrays (pm_match_template
 * h_len .. h_j, one byte each: lengths are at most 255 px) so a lookup tests
 * 16 entries of a bucket at once. Every array holds nhash entries plus
 * PM__HASH_PAD zero bytes, so a 16-byte load at any bucket's start stays
 * inside the allocation (lanes past the bucket's end are masked off). */
#define PM__HASH_PAD 16
#define PM__QUERY_PAD 4
_Static_assert(PM__MAX_EDGE_LEN <= 255, "hash lengths are stored in one byte");

/* An undirected edge as looked up in the other view's hash (j < l), with
 * its root tolerance box precomputed at preparation: a hash entry matches
 * when lo <= len <= hi and its angles lie in [a0, a0 + 2 ROOT_ANGLE_TOL]
 * and [b0, b0 + 2 ROOT_ANGLE_TOL] (1/256 turns, modulo a turn). a0, b0, lo,
 * hi are consecutive so one 32-bit load can fetch all four. */
typedef struct pm__qedge {
    uint16_t key; /* hash bucket of (len, ai, aj) */
    uint8_t j;
    uint8_t l;
    uint8_t a0, b0, lo, hi;
} pm__qedge_t;

/* Bit k (k < 16, k < n) set when hash entry k of the 16 at len/ai/aj lies
 * in query q's tolerance box. The portable definition; pm__hash_block is the
 * same with SSE2 when available (tests/test_match.c checks they agree). */
static inline unsigned pm__hash_block_portable(const uint8_t *len, const uint8_t *ai,
                                               const uint8_t *aj, unsigned n,
                                               const pm__qedge_t *q)
{
    unsigned mask = 0;
    for (unsigned k = 0; k < 16 && k < n; k++) {
        unsigned pass = ((uint8_t)(ai[k] - q->a0) <= 2 * PM__ROOT_ANGLE_TOL) &
                        ((uint8_t)(aj[k] - q->b0) <= 2 * PM__ROOT_ANGLE_TOL) & (len[k] >= q->lo) &
                        (len[k] <= q->hi);
        mask |= pass << k;
    }
    return mask;
}

#if defined(__SSE2__) && !defined(PM__NO_SIMD)
#include <emmintrin.h>
/* Reads 16 bytes at len, ai and aj whatever n (see PM__HASH_PAD). */
static inline unsigned pm__hash_block(const uint8_t *len, const uint8_t *ai, const uint8_t *aj,
                                      unsigned n, const pm__qedge_t *q)
{
    /* a0, b0, lo, hi (the compiler merges this into one load) */
    uint32_t box = (uint32_t)q->a0 | (uint32_t)q->b0 << 8 | (uint32_t)q->lo << 16 | (uint32_t)q->hi << 24;
    __m128i x = _mm_cvtsi32_si128((int)box);
    x = _mm_unpacklo_epi8(x, x);
    x = _mm_unpacklo_epi16(x, x); /* a0 x4, b0 x4, lo x4, hi x4 */
    const __m128i a0 = _mm_shuffle_epi32(x, 0x00), b0 = _mm_shuffle_epi32(x, 0x55);
    const __m128i lo = _mm_shuffle_epi32(x, 0xaa), hi = _mm_shuffle_epi32(x, 0xff);
    const __m128i tol = _mm_set1_epi8((char)(2 * PM__ROOT_ANGLE_TOL));
    const __m128i l = _mm_loadu_si128((const __m128i *)(const void *)len);
    const __m128i da = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)ai), a0);
    const __m128i db = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)aj), b0);
    /* unsigned byte compares: x <= y iff min(x, y) == x */
    __m128i ok = _mm_and_si128(_mm_cmpeq_epi8(_mm_min_epu8(da, tol), da),
                               _mm_cmpeq_epi8(_mm_min_epu8(db, tol), db));
    ok = _mm_and_si128(ok, _mm_cmpeq_epi8(_mm_max_epu8(l, lo), l));
    ok = _mm_and_si128(ok, _mm_cmpeq_epi8(_mm_min_epu8(l, hi), l));
    unsigned mask = (unsigned)_mm_movemask_epi8(ok);
    return n >= 16 ? mask : mask & ((1u << n) - 1);
}
#else
#define pm__hash_block pm__hash_block_portable
#endif

struct pm_match_template {
    int n;
    int nedges;
    int nhash;
    int16_t x[PM_MAX_MINUTIAE];
    int16_t y[PM_MAX_MINUTIAE];
    uint8_t dir[PM_MAX_MINUTIAE];
    uint8_t type[PM_MAX_MINUTIAE];
    uint8_t qual[PM_MAX_MINUTIAE]; /* 0..100, 0 = not reported */
    uint16_t edge_start[PM_MAX_MINUTIAE + 1];
    pm__edge_t *edges;
    uint16_t bucket_start[PM__BUCKETS + 1];
    uint8_t *h_len, *h_ai, *h_aj, *h_i, *h_j; /* the hash (see PM__HASH_PAD); one block at h_len */
    int edges_cap, query_cap; /* allocated room (pm_match_prepare_candidate_into reuses it) */
    pm__qedge_t *query; /* nquery undirected edges for lookups, then PM__QUERY_PAD
                         * zeroed ones (the lookup loop prefetches ahead) */
    int nquery;
    uint64_t mask[PM__GRID]; /* bit gx of row gy: cell inside the view's area */
    uint16_t cell_start[PM__SGRID * PM__SGRID + 1];
    uint8_t cell_items[PM_MAX_MINUTIAE];
    uint8_t src[PM_MAX_MINUTIAE]; /* index in the pm_fingerprint_t prepared from */
};

/* Defaults of pm_match_options_t (chosen by cross-validation, docs/match.md). */
#define PM__DEFAULT_LOCAL_SIGMA 120.0
#define PM__DEFAULT_QUALITY_WEIGHT 1.0

#ifndef PM__MAX_ROOTS
#define PM__MAX_ROOTS 9
#endif
/* Growth follows each minutia's GROW_RANK shortest edges, so one added pair
 * pushes at most GROW_RANK^2 candidates. */
#ifndef PM__GROW_RANK
#define PM__GROW_RANK 7
#endif
#define PM__HEAP_CAP (PM_MAX_MINUTIAE * PM__GROW_RANK * PM__GROW_RANK)

struct pm_matcher {
    uint16_t votes[PM_MAX_MINUTIAE * PM_MAX_MINUTIAE]; /* at most 20 x 20 per pair */
    uint16_t touched[PM_MAX_MINUTIAE * PM_MAX_MINUTIAE + 1]; /* +1: voting writes one past */
    int16_t pa[PM_MAX_MINUTIAE];
    int16_t pb[PM_MAX_MINUTIAE];
    uint8_t best_pa[PM_MAX_MINUTIAE]; /* pairing of the best score, 0xff = none */
    int last_na; /* minutiae of a in the last comparison whose pairing best_pa
                  * holds (0: the last comparison paired nothing) */
    uint32_t heap[PM__HEAP_CAP];
    double features[16]; /* of the best pairing, for calibration experiments */
    pm_match_options_t opt;
};

#endif
