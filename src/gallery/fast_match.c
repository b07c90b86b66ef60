/* The fast comparison: a probe-prepared Hough alignment scored directly on a
 * packed record (no unpacking, no per-record preparation).
 *
 * Method (alignment-based minutiae matching, Ratha, Karu, Chen & Jain 1996,
 * with hypotheses from geometric hashing as in Germain, Califano &
 * Colville 1997):
 *  1. hypotheses: the record's triplet keys are looked up in the probe's key
 *     map (first_stage.c); each hit pairs a record minutia with a probe
 *     minutia and so gives a rotation and a translation; hits vote in a
 *     coarse (rotation, translation) accumulator and the hits of the best
 *     distinct cells are tried;
 *  2. alignment: every record minutia is moved by the hypothesis and looked
 *     up in a grid built once from the probe (8 px cells): the nearest probe
 *     minutia within a wide tolerance, if its direction agrees, is paired;
 *     the pairs give a least-squares rigid transformation;
 *  3. verification: under that transformation, each record minutia landing
 *     on a probe minutia of the same direction (tight tolerance: a bit per
 *     direction bin in each cell) counts, and those landing inside the
 *     probe's area are the overlap.
 * A hit is tried through a quick check on the record's central minutiae; a
 * near miss is checked on all of the record's minutiae, since impressions
 * that overlap on one side of the finger leave the record's centre outside
 * the probe (FS_EXTEND); against a dense probe, only when the record's
 * centre does land outside it.
 * Score: matched^2 / overlap. Per record this is ~40 table look-ups and a
 * few passes of 48 multiply-adds and grid look-ups: about a microsecond.
 * The key hits, the quick checks, the verification and the alignment's
 * sums have AVX2 paths (gathers) that give the portable paths' results
 * exactly: the same hits in the same order, integer sums (tested in
 * test_fast_paths_identical).
 * A ranking for the short list, not calibrated: the exact matcher re-scores
 * the survivors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gallery/gallery_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

#ifndef FS_POS_TOL
#define FS_POS_TOL 12 /* px: tight tolerance of the verification */
#endif
#ifndef FS_DIR_TOL
#define FS_DIR_TOL 2 /* direction bins (of 32) either side */
#endif
#ifndef FS_WIDE_TOL
#define FS_WIDE_TOL 24 /* px: pairing for the alignment */
#endif
#ifndef FS_WIDE_DIR
#define FS_WIDE_DIR 24 /* 1/256 turn */
#endif
#ifndef FS_AREA_R
#define FS_AREA_R 40 /* px around each probe minutia counted as the probe's area */
#endif
#ifndef FS_HYP
#define FS_HYP 2 /* hypotheses aligned and verified per record */
#endif
#ifndef FS_GATE_MINUTIAE
#define FS_GATE_MINUTIAE 16 /* the quick check looks at the record's most central minutiae */
#endif
#ifndef FS_GATE
#define FS_GATE 5 /* ... of which a hypothesis must pair this many (chance: ~0.5) */
#endif

#ifndef FS_EXTEND
#define FS_EXTEND 2 /* a hit pairing this many (but fewer than FS_GATE) of the central
                     * minutiae is checked on all of the record's minutiae ... */
#endif
#ifndef FS_GATE_ALL
#define FS_GATE_ALL 7 /* ... and kept (as a hit at the gate) if it pairs this many there:
                       * partial overlaps (docs/gallery.md "Partial overlaps") */
#endif
/* ... unless (p->extend 2, the default) the probe is dense and the record's
 * centre lands inside it: PM__GAL_EXT_DENSE, PM__GAL_EXT_CENTRE (gallery_internal.h) */

#ifndef FS_RETRY
#define FS_RETRY 2 /* a hypothesis this many short of the gate is retried turned */
#endif
#ifndef FS_ROT_STEP
#define FS_ROT_STEP 4 /* ... by this much either way (1/256 turn, ~5.6 degrees) */
#endif

#ifndef FS_KEYS
#define FS_KEYS PM_GALLERY_KEYS /* keys looked up per record (the most central first); 28 is -24.5% per record but costs +2 FNIR points at 100k (docs/gallery.md, issue 9 step 2) */
#endif

#ifndef FS_MAX_ROT
#define FS_MAX_ROT 32 /* 1/256 turn (45 degrees): larger rotations are not hypothesised (FVC2002's
                       * genuine pairs turn up to 42.7 degrees and are all still found; 43, ~60
                       * degrees, until session 15: docs/gallery.md "Rotation limit 45 degrees") */
#endif

#ifndef FS_PAIR_PX
#define FS_PAIR_PX 20 /* px: two hits agree when they put the record's first minutia this close */
#endif
#ifndef FS_PAIR_ROT
#define FS_PAIR_ROT 16 /* 1/256 turn (~22 degrees): ... with rotations this close */
#endif

#define TWO_PI 6.28318530717958647692

void pm__gal_fast_build(pm__gal_probe_t *p)
{
#ifdef HAVE_AVX2_PATH
    p->avx2 = __builtin_cpu_supports("avx2");
#else
    p->avx2 = 0;
#endif
    p->key_cap = FS_KEYS;
    p->scan_serial = 0;
    p->pair_gate = 0; /* the search sets it (options.pair_gate) */
    p->extend = 2;
    p->pair_px = FS_PAIR_PX;
    p->pair_rot = FS_PAIR_ROT;
    int minx = 1 << 30, miny = 1 << 30, maxx = 0, maxy = 0;
    for (int i = 0; i < p->n; i++) {
        int x = (int)p->x[i], y = (int)p->y[i];
        minx = x < minx ? x : minx;
        miny = y < miny ? y : miny;
        maxx = x > maxx ? x : maxx;
        maxy = y > maxy ? y : maxy;
    }
    if (!p->n)
        minx = miny = maxx = maxy = 0;
    const int cell = 1 << PM__GAL_GRID_SHIFT;
    static const int rmax = FS_AREA_R > FS_WIDE_TOL ? FS_AREA_R : FS_WIDE_TOL;
    /* the probe's extent and a margin: small enough to stay in the L1 cache */
    p->gx0 = minx - rmax - cell;
    p->gy0 = miny - rmax - cell;
    p->gw = (maxx - p->gx0 + rmax + cell) / cell + 1;
    p->gh = (maxy - p->gy0 + rmax + cell) / cell + 1;
    p->gw = p->gw > PM__GAL_GRID ? PM__GAL_GRID : p->gw;
    p->gh = p->gh > PM__GAL_GRID ? PM__GAL_GRID : p->gh;
    const int gw = p->gw, gh = p->gh;
    memset(p->grid, 0, (size_t)(gw * gh) * sizeof p->grid[0]);
    memset(p->near, 0, (size_t)(gw * gh));
    uint16_t nd2[PM__GAL_GRID * PM__GAL_GRID]; /* squared distance of `near` */
    for (int i = 0; i < p->n; i++) {
        int px = (int)p->x[i] - p->gx0, py = (int)p->y[i] - p->gy0;
        int db = p->dir[i] >> 3;
        uint32_t bits = 0;
        for (int d = -FS_DIR_TOL; d <= FS_DIR_TOL; d++)
            bits |= 1u << ((db + d) & 31);
        int c0x = (px - rmax) / cell, c1x = (px + rmax) / cell;
        int c0y = (py - rmax) / cell, c1y = (py + rmax) / cell;
        for (int cy = c0y; cy <= c1y; cy++)
            for (int cx = c0x; cx <= c1x; cx++) {
                if (cx < 0 || cy < 0 || cx >= gw || cy >= gh)
                    continue;
                /* distance from the minutia to the cell's centre */
                int ox = cx * cell + cell / 2 - px, oy = cy * cell + cell / 2 - py;
                int d2 = ox * ox + oy * oy, c = cy * gw + cx;
                if (d2 <= FS_POS_TOL * FS_POS_TOL)
                    p->grid[c] |= bits;
                if (d2 <= FS_WIDE_TOL * FS_WIDE_TOL && i < 254 &&
                    (p->near[c] == 0 || p->near[c] == 255 || d2 < nd2[c])) {
                    p->near[c] = (uint8_t)(i + 1);
                    nd2[c] = (uint16_t)d2;
                } else if (d2 <= FS_AREA_R * FS_AREA_R && p->near[c] == 0) {
                    p->near[c] = 255;
                }
            }
    }
}

/* Fixed point: Q14 rotation, translation in Q14 pixels; a cell is the
 * transformed coordinate >> (14 + PM__GAL_GRID_SHIFT) (floor). Integer
 * arithmetic, so the vector and portable paths give identical results on
 * every machine. Magnitudes: |c x| + |s y| <= 2 * 16384 * 2047, |bx| below
 * 16384 * 4096: within 31 bits. */
#define Q 14
#define QS (Q + PM__GAL_GRID_SHIFT)

typedef struct xf {
    int32_t c, s;   /* cos(phi), sin(phi) in Q14; phi the rotation as displayed */
    int32_t bx, by; /* grid pixel of record (x, y) in Q14: (bx + c x + s y, by - s x + c y) */
    int rot;        /* record direction - probe direction, 1/256 turn */
} xf_t;

/* The transformation putting record minutia t on probe minutia q, its
 * rotation (from the two directions) corrected by drot. */
static inline void xf_pair_rot(const pm__gal_probe_t *p, uint32_t vt, int q, int drot, xf_t *f)
{
    f->rot = (int)(((vt >> 22) & 255) - p->dir[q] + (unsigned)drot) & 255;
    /* image rotation by phi = -rot (counter-clockwise as displayed) */
    f->c = p->ics[f->rot];
    f->s = -p->isn[f->rot];
    int32_t xt = (int32_t)(vt & 2047), yt = (int32_t)((vt >> 11) & 2047);
    f->bx = ((int32_t)p->x[q] - p->gx0) * (1 << Q) - (f->c * xt + f->s * yt);
    f->by = ((int32_t)p->y[q] - p->gy0) * (1 << Q) - (-f->s * xt + f->c * yt);
}

static inline void xf_pair(const pm__gal_probe_t *p, uint32_t vt, int q, xf_t *f)
{
    xf_pair_rot(p, vt, q, 0, f);
}

#ifdef HAVE_AVX2_PATH
/* The vector paths' shared steps (inlined into each). */
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,popcnt")))

/* Lanes 0..n-1 of eight. */
AVX2_INLINE __m256i lanes_below(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The grid cells of eight record minutiae at (x, y) under f; *valid (in:
 * the lanes to use) keeps the lanes landing on the grid, the others' cell
 * is 0. The portable paths' arithmetic, lane by lane. */
AVX2_INLINE __m256i cells8(const pm__gal_probe_t *p, const xf_t *f, __m256i x, __m256i y,
                           __m256i *valid)
{
    const __m256i c = _mm256_set1_epi32(f->c), s = _mm256_set1_epi32(f->s);
    const __m256i gw = _mm256_set1_epi32(p->gw), gh = _mm256_set1_epi32(p->gh);
    const __m256i minus1 = _mm256_set1_epi32(-1);
    __m256i X = _mm256_srai_epi32(
        _mm256_add_epi32(_mm256_set1_epi32(f->bx),
                         _mm256_add_epi32(_mm256_mullo_epi32(c, x), _mm256_mullo_epi32(s, y))),
        QS);
    __m256i Y = _mm256_srai_epi32(
        _mm256_add_epi32(_mm256_set1_epi32(f->by),
                         _mm256_sub_epi32(_mm256_mullo_epi32(c, y), _mm256_mullo_epi32(s, x))),
        QS);
    __m256i ok = _mm256_and_si256(
        _mm256_and_si256(_mm256_cmpgt_epi32(X, minus1), _mm256_cmpgt_epi32(Y, minus1)),
        _mm256_and_si256(_mm256_cmpgt_epi32(gw, X), _mm256_cmpgt_epi32(gh, Y)));
    *valid = _mm256_and_si256(ok, *valid);
    return _mm256_and_si256(_mm256_add_epi32(_mm256_mullo_epi32(Y, gw), X), *valid);
}

/* How many of the valid lanes' cells hold a probe minutia of the record
 * minutia's direction bin (dir: its 8-bit direction) under rotation rot. */
AVX2_INLINE int on_bits8(const pm__gal_probe_t *p, __m256i idx, __m256i valid, __m256i dir, int rot)
{
    __m256i cell = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), (const int *)p->grid, idx,
                                               valid, 4);
    __m256i db = _mm256_srli_epi32(
        _mm256_and_si256(_mm256_sub_epi32(dir, _mm256_set1_epi32(rot)), _mm256_set1_epi32(255)), 3);
    /* the bin's bit to the sign, counted from the mask */
    __m256i top = _mm256_sllv_epi32(cell, _mm256_sub_epi32(_mm256_set1_epi32(31), db));
    return __builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(top)));
}

/* The coordinates and directions of eight packed minutiae. */
AVX2_INLINE void unpack8(const uint32_t *minu, __m256i *x, __m256i *y, __m256i *dir)
{
    const __m256i v = _mm256_loadu_si256((const __m256i *)minu), m2047 = _mm256_set1_epi32(2047);
    *x = _mm256_and_si256(v, m2047);
    *y = _mm256_and_si256(_mm256_srli_epi32(v, 11), m2047);
    *dir = _mm256_srli_epi32(v, 22);
}
#endif

/* The sums of the pairs under f (wide tolerance: each record minutia and
 * the nearest probe minutia of agreeing direction), in integers (pixel
 * coordinates, products within 31 bits): exact in any order, so the vector
 * and portable paths give the same transformation. */
typedef struct align_sums {
    int32_t n, rx, ry, qx, qy; /* pairs; sums of record and probe coordinates */
    int32_t dot, crs;          /* sums of qx rx + qy ry and qx ry - qy rx */
} align_sums_t;

static void align_sums_portable(const pm__gal_probe_t *p, const uint32_t *minu, int nmin,
                                const xf_t *f, align_sums_t *s)
{
    memset(s, 0, sizeof *s);
    for (int k = 0; k < nmin; k++) {
        uint32_t v = minu[k];
        int32_t x = (int32_t)(v & 2047), y = (int32_t)((v >> 11) & 2047);
        int32_t cx = (f->bx + f->c * x + f->s * y) >> QS, cy = (f->by - f->s * x + f->c * y) >> QS;
        if (cx < 0 || cy < 0 || cx >= p->gw || cy >= p->gh)
            continue;
        int q = p->near[cy * p->gw + cx];
        if (q == 0 || q == 255)
            continue;
        q--;
        int dd = (int)((((v >> 22) & 255) - (unsigned)f->rot - p->dir[q]) & 255);
        if (dd > 128)
            dd = 256 - dd;
        if (dd > FS_WIDE_DIR)
            continue;
        int32_t qx = (int32_t)p->x[q] - p->gx0, qy = (int32_t)p->y[q] - p->gy0;
        s->n++;
        s->rx += x, s->ry += y, s->qx += qx, s->qy += qy;
        s->dot += qx * x + qy * y;
        s->crs += qx * y - qy * x;
    }
}

#ifdef HAVE_AVX2_PATH
/* The same sums, eight minutiae at a time (the near cell, the probe
 * minutia's direction and place gathered). */
__attribute__((target("avx2,popcnt"))) static void align_sums_avx2(const pm__gal_probe_t *p,
                                                                   const uint32_t *minu, int nmin,
                                                                   const xf_t *f, align_sums_t *s)
{
    const __m256i m255 = _mm256_set1_epi32(255), one = _mm256_set1_epi32(1);
    const __m256i zero = _mm256_setzero_si256(), full = _mm256_set1_epi32(256);
    const __m256i gx0 = _mm256_set1_epi32(p->gx0), gy0 = _mm256_set1_epi32(p->gy0);
    const __m256i wdir = _mm256_set1_epi32(FS_WIDE_DIR), rot = _mm256_set1_epi32(f->rot);
    __m256i sn_ = zero, srx = zero, sry = zero, sqx = zero, sqy = zero, sdot = zero, scrs = zero;
    for (int k = 0; k < nmin; k += 8) {
        __m256i x, y, dir, ok = lanes_below(nmin - k);
        unpack8(minu + k, &x, &y, &dir);
        __m256i idx = cells8(p, f, x, y, &ok);
        __m256i nr = _mm256_mask_i32gather_epi32(zero, (const int *)(const void *)p->near, idx, ok, 1);
        nr = _mm256_and_si256(nr, m255);
        ok = _mm256_andnot_si256(_mm256_or_si256(_mm256_cmpeq_epi32(nr, zero), _mm256_cmpeq_epi32(nr, m255)), ok);
        __m256i q = _mm256_and_si256(_mm256_sub_epi32(nr, one), ok);
        __m256i d = _mm256_mask_i32gather_epi32(zero, (const int *)(const void *)p->dir, q, ok, 1);
        d = _mm256_and_si256(d, m255);
        __m256i dd = _mm256_and_si256(_mm256_sub_epi32(_mm256_sub_epi32(dir, rot), d), m255);
        dd = _mm256_min_epi32(dd, _mm256_sub_epi32(full, dd));
        ok = _mm256_andnot_si256(_mm256_cmpgt_epi32(dd, wdir), ok);
        __m256 fx = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p->x, q, _mm256_castsi256_ps(ok), 4);
        __m256 fy = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p->y, q, _mm256_castsi256_ps(ok), 4);
        __m256i qx = _mm256_and_si256(_mm256_sub_epi32(_mm256_cvttps_epi32(fx), gx0), ok);
        __m256i qy = _mm256_and_si256(_mm256_sub_epi32(_mm256_cvttps_epi32(fy), gy0), ok);
        x = _mm256_and_si256(x, ok);
        y = _mm256_and_si256(y, ok);
        sn_ = _mm256_sub_epi32(sn_, ok);
        srx = _mm256_add_epi32(srx, x);
        sry = _mm256_add_epi32(sry, y);
        sqx = _mm256_add_epi32(sqx, qx);
        sqy = _mm256_add_epi32(sqy, qy);
        sdot = _mm256_add_epi32(sdot, _mm256_add_epi32(_mm256_mullo_epi32(qx, x), _mm256_mullo_epi32(qy, y)));
        scrs = _mm256_add_epi32(scrs, _mm256_sub_epi32(_mm256_mullo_epi32(qx, y), _mm256_mullo_epi32(qy, x)));
    }
    int32_t t[7][8];
    _mm256_storeu_si256((__m256i *)t[0], sn_);
    _mm256_storeu_si256((__m256i *)t[1], srx);
    _mm256_storeu_si256((__m256i *)t[2], sry);
    _mm256_storeu_si256((__m256i *)t[3], sqx);
    _mm256_storeu_si256((__m256i *)t[4], sqy);
    _mm256_storeu_si256((__m256i *)t[5], sdot);
    _mm256_storeu_si256((__m256i *)t[6], scrs);
    int32_t r[7] = {0};
    for (int i = 0; i < 7; i++)
        for (int l = 0; l < 8; l++)
            r[i] += t[i][l];
    *s = (align_sums_t){r[0], r[1], r[2], r[3], r[4], r[5], r[6]};
}
#endif

/* The rotation of (cos, sin) in 1/256 turn, -atan2(s, c) rounded: atan on
 * [0, 1] by a polynomial (error below 2e-6 rad, 1/15,000 of a step; the
 * rounding differs from atan2's in ~3 of 100,000 angles) and the octant by
 * symmetry. libm's atan2f cost a third as much as the rest of align. */
static int rot256(double c, double s)
{
    double ax = fabs(c), ay = fabs(s);
    double hi = ax > ay ? ax : ay, lo = ax > ay ? ay : ax;
    double z = hi > 0 ? lo / hi : 0, z2 = z * z;
    double a = z * (0.99997726 +
                    z2 * (-0.33262347 +
                          z2 * (0.19354346 + z2 * (-0.11643287 + z2 * (0.05265332 + z2 * -0.01172120)))));
    if (ay > ax)
        a = TWO_PI / 4 - a;
    if (c < 0)
        a = TWO_PI / 2 - a;
    if (s < 0)
        a = -a;
    return (int)lrint(-a * (256.0 / TWO_PI)) & 255;
}

/* Pairs under f (wide tolerance), then the least-squares rigid
 * transformation of those pairs into *out. 0 if fewer than 3 pairs. */
static int align(const pm__gal_probe_t *p, const uint32_t *minu, int nmin, const xf_t *f,
                 xf_t *out)
{
    align_sums_t s;
#ifdef HAVE_AVX2_PATH
    if (p->avx2)
        align_sums_avx2(p, minu, nmin, f, &s);
    else
#endif
        align_sums_portable(p, minu, nmin, f, &s);
    if (s.n < 3)
        return 0;
    /* maximise sum q . R r with R = [[c, s], [-s, c]] over the centred
     * pairs: (c, s) along (A, B), here n times the centred sums */
    const int64_t n = s.n;
    const double A = (double)(n * s.dot - ((int64_t)s.qx * s.rx + (int64_t)s.qy * s.ry));
    const double B = (double)(n * s.crs - ((int64_t)s.qx * s.ry - (int64_t)s.qy * s.rx));
    const double norm = sqrt(A * A + B * B);
    if (!(norm > 0))
        return 0;
    const double c = A / norm, sn = B / norm;
    const double mrx = s.rx / (double)n, mry = s.ry / (double)n;
    const double mqx = s.qx / (double)n, mqy = s.qy / (double)n;
    out->c = (int32_t)lrint(c * (double)(1 << Q));
    out->s = (int32_t)lrint(sn * (double)(1 << Q));
    out->bx = (int32_t)lrint((mqx - (c * mrx + sn * mry)) * (double)(1 << Q));
    out->by = (int32_t)lrint((mqy - (-sn * mrx + c * mry)) * (double)(1 << Q));
    /* the image rotation by phi counter-clockwise maps directions d -> d + phi:
     * rot = -phi */
    out->rot = rot256(c, sn);
    return s.n;
}

/* Record minutiae landing on a probe minutia of the same direction, and
 * (when inside is not NULL) those landing inside the probe's area.
 * Portable path. */
static void verify_portable(const pm__gal_probe_t *p, const uint32_t *minu, int nmin,
                            const xf_t *f, int *matched, int *inside)
{
    int m = 0, in = 0;
    for (int k = 0; k < nmin; k++) {
        uint32_t v = minu[k];
        int32_t x = (int32_t)(v & 2047), y = (int32_t)((v >> 11) & 2047);
        int32_t X = (f->bx + f->c * x + f->s * y) >> QS, Y = (f->by - f->s * x + f->c * y) >> QS;
        if (X < 0 || Y < 0 || X >= p->gw || Y >= p->gh)
            continue;
        int cidx = Y * p->gw + X;
        in += p->near[cidx] != 0;
        int db = (int)((((v >> 22) & 255) - (unsigned)f->rot) & 255) >> 3;
        m += (int)(p->grid[cidx] >> db & 1u);
    }
    *matched = m;
    if (inside)
        *inside = in;
}

#ifdef HAVE_AVX2_PATH
/* The same, eight minutiae at a time (AVX2 gathers). */
__attribute__((target("avx2,popcnt"))) static void verify_avx2(const pm__gal_probe_t *p,
                                                                const uint32_t *minu, int nmin,
                                                                const xf_t *f, int *matched,
                                                                int *inside)
{
    const __m256i m255 = _mm256_set1_epi32(255), zero = _mm256_setzero_si256();
    int m = 0;
    __m256i isum = zero;
    for (int k = 0; k < nmin; k += 8) {
        __m256i x, y, dir, valid = lanes_below(nmin - k);
        unpack8(minu + k, &x, &y, &dir);
        __m256i idx = cells8(p, f, x, y, &valid);
        m += on_bits8(p, idx, valid, dir, f->rot);
        if (inside) {
            __m256i nr = _mm256_mask_i32gather_epi32(zero, (const int *)p->near, idx, valid, 1);
            nr = _mm256_and_si256(nr, m255);
            isum = _mm256_sub_epi32(isum, _mm256_andnot_si256(_mm256_cmpeq_epi32(nr, zero), valid));
        }
    }
    *matched = m;
    if (inside) {
        int iv[8];
        _mm256_storeu_si256((__m256i *)iv, isum);
        *inside = iv[0] + iv[1] + iv[2] + iv[3] + iv[4] + iv[5] + iv[6] + iv[7];
    }
}
#endif

static inline void verify(const pm__gal_probe_t *p, const uint32_t *minu, int nmin, const xf_t *f,
                          int *matched, int *inside)
{
#ifdef HAVE_AVX2_PATH
    if (p->avx2) {
        verify_avx2(p, minu, nmin, f, matched, inside);
        return;
    }
#endif
    verify_portable(p, minu, nmin, f, matched, inside);
}

/* quick_avx2 checks the 16 central minutiae as two vectors; another
 * FS_GATE_MINUTIAE (a tuning build) checks hit by hit through verify */
#if defined(HAVE_AVX2_PATH) && FS_GATE_MINUTIAE == 16
#define HAVE_QUICK16 1
/* The quick checks of a record's hits in one call (the count of check_hit's
 * first verification, for every hit): the record's 16 central minutiae
 * unpacked once, the transformations of xf_pair, then two gathers per
 * hit. The same counts as verify (tested through the scores). */
__attribute__((target("avx2,popcnt"))) static void quick_avx2(const pm__gal_probe_t *p,
                                                              const uint32_t *minu,
                                                              const uint16_t *hit, int nhit,
                                                              uint8_t *m_out)
{
    __m256i x[2], y[2], dir[2];
    for (int b = 0; b < 2; b++)
        unpack8(minu + 8 * b, &x[b], &y[b], &dir[b]);
    for (int h = 0; h < nhit; h++) {
        xf_t f;
        xf_pair(p, minu[hit[h] >> 8], hit[h] & 255, &f);
        int m = 0;
        for (int b = 0; b < 2; b++) {
            __m256i valid = _mm256_set1_epi32(-1);
            __m256i idx = cells8(p, &f, x[b], y[b], &valid);
            m += on_bits8(p, idx, valid, dir[b], f.rot);
        }
        m_out[h] = (uint8_t)m;
    }
}
#endif

/* The quick check of one hit (record minutia t on probe minutia q): kept
 * among the FS_HYP best hypotheses if it pairs FS_GATE of the record's ng
 * most central minutiae, or (a near miss, p->extend) FS_GATE_ALL of all nmin. */
static inline void check_hit(const pm__gal_probe_t *p, const uint32_t *minu, int ng, int nmin,
                             int t, int q, int m0, int *hyp_t, int *hyp_q, int *hyp_m, int *hyp_r,
                             int *nhp)
{
    int nh = *nhp;
    xf_t f0;
    int m = m0, r = 0;
    if (m0 < 0) {
        xf_pair(p, minu[t], q, &f0);
        verify(p, minu, ng, &f0, &m, NULL);
    }
    /* a near miss may be a true pair whose rotation (the difference
     * of two noisy directions) is off: try it turned both ways */
    if (m >= FS_GATE - FS_RETRY && m < FS_GATE) {
        for (int sgn = -1; sgn <= 1; sgn += 2) {
            int m2 = 0;
            xf_pair_rot(p, minu[t], q, sgn * FS_ROT_STEP, &f0);
            verify(p, minu, ng, &f0, &m2, NULL);
            if (m2 > m)
                m = m2, r = sgn * FS_ROT_STEP;
        }
    }
    /* a partial overlap: the record's central minutiae may lie outside the
     * probe while the hit's own region pairs well; a hit that pairs a few
     * of them is checked on every record minutia */
    if (p->extend && m >= FS_EXTEND && m < FS_GATE && nmin > ng) {
        xf_pair_rot(p, minu[t], q, r, &f0);
        /* extend 2: not for a probe of PM__GAL_EXT_DENSE minutiae or more
         * when the record's PM__GAL_EXT_CENTRE most central minutiae all land
         * inside the probe's area (scalar look-ups, the same on both paths):
         * the centre is in view and pairs too few for a true hit. A quarter
         * of the chance hits are near misses, and this check of all
         * minutiae was a third of the minutiae verified per record; the
         * sparse probes keep it, since their mates are the ones it finds
         * (docs/gallery.md "Near misses with the centre in view") */
        int in = 0;
        const int dense = p->extend == 2 && p->n >= PM__GAL_EXT_DENSE;
        for (int k = 0; dense && k < PM__GAL_EXT_CENTRE && k < ng; k++) {
            int32_t x = (int32_t)(minu[k] & 2047), y = (int32_t)((minu[k] >> 11) & 2047);
            int32_t X = (f0.bx + f0.c * x + f0.s * y) >> QS, Y = (f0.by - f0.s * x + f0.c * y) >> QS;
            /* branch-free: a cell off the grid reads cell 0, a corner
             * farther than FS_AREA_R from every probe minutia (0) */
            int on = ((unsigned)X < (unsigned)p->gw) & ((unsigned)Y < (unsigned)p->gh);
            in += p->near[on ? Y * p->gw + X : 0] != 0;
        }
        if (!dense || in < PM__GAL_EXT_CENTRE) {
            /* the central ng are counted in m already (under the same rotation r) */
            int ma = 0;
            verify(p, minu + ng, nmin - ng, &f0, &ma, NULL);
            if (m + ma >= FS_GATE_ALL)
                m = FS_GATE;
        }
    }
    if (m < FS_GATE || (nh == FS_HYP && m <= hyp_m[nh - 1]))
        return;
    int at = nh < FS_HYP ? nh++ : nh - 1;
    while (at > 0 && hyp_m[at - 1] < m) {
        hyp_t[at] = hyp_t[at - 1];
        hyp_q[at] = hyp_q[at - 1];
        hyp_m[at] = hyp_m[at - 1];
        hyp_r[at] = hyp_r[at - 1];
        at--;
    }
    hyp_t[at] = t;
    hyp_q[at] = q;
    hyp_m[at] = m;
    hyp_r[at] = r;
    *nhp = nh;
}

/* The pair gate's agreement (pm__gal_fast_score): keep[i] = 1 when some
 * hit j of another record minutia and another probe minutia places the
 * record's first minutia within pair_px of hit i's place, at a rotation
 * within pair_rot. Arrays padded to PM__GAL_HITS_PAD; the vector path
 * gives the same keep[] as the portable one. */
#define PM__GAL_HITS_PAD (PM_GALLERY_KEYS * PM__GAL_MAP_SLOTS + 16)
static void pair_keep_portable(const pm__gal_probe_t *p, const int16_t *hx, const int16_t *hy,
                               const int16_t *hr, const int16_t *ht, const int16_t *hq, int n,
                               uint8_t *keep)
{
    const int tp = p->pair_px, tr = p->pair_rot;
    for (int i = 0; i < n; i++) {
        int k = 0;
        for (int j = 0; j < n && !k; j++)
            k = abs(hx[i] - hx[j]) <= tp && abs(hy[i] - hy[j]) <= tp && abs(hr[i] - hr[j]) <= tr &&
                ht[i] != ht[j] && hq[i] != hq[j];
        keep[i] = (uint8_t)k;
    }
}

#ifdef HAVE_AVX2_PATH
/* Sixteen hits j at a time. */
__attribute__((target("avx2"))) static void pair_keep_avx2(const pm__gal_probe_t *p, int16_t *hx,
                                                           int16_t *hy, int16_t *hr, int16_t *ht,
                                                           int16_t *hq, int n, uint8_t *keep)
{
    /* padding lanes never agree: a place far from every real one */
    for (int j = n; j < ((n + 15) & ~15); j++)
        hx[j] = 30000, hy[j] = 30000, hr[j] = 0, ht[j] = -1, hq[j] = -1;
    const __m256i tp = _mm256_set1_epi16((short)p->pair_px);
    const __m256i tr = _mm256_set1_epi16((short)p->pair_rot);
    for (int i = 0; i < n; i++) {
        const __m256i xi = _mm256_set1_epi16(hx[i]), yi = _mm256_set1_epi16(hy[i]);
        const __m256i ri = _mm256_set1_epi16(hr[i]), ti = _mm256_set1_epi16(ht[i]);
        const __m256i qi = _mm256_set1_epi16(hq[i]);
        int k = 0;
        for (int j = 0; j < n && !k; j += 16) {
            __m256i dx = _mm256_abs_epi16(_mm256_sub_epi16(xi, _mm256_loadu_si256((const __m256i *)(hx + j))));
            __m256i dy = _mm256_abs_epi16(_mm256_sub_epi16(yi, _mm256_loadu_si256((const __m256i *)(hy + j))));
            __m256i dr = _mm256_abs_epi16(_mm256_sub_epi16(ri, _mm256_loadu_si256((const __m256i *)(hr + j))));
            __m256i far = _mm256_or_si256(_mm256_cmpgt_epi16(dx, tp), _mm256_cmpgt_epi16(dy, tp));
            far = _mm256_or_si256(far, _mm256_cmpgt_epi16(dr, tr));
            far = _mm256_or_si256(far, _mm256_cmpeq_epi16(ti, _mm256_loadu_si256((const __m256i *)(ht + j))));
            far = _mm256_or_si256(far, _mm256_cmpeq_epi16(qi, _mm256_loadu_si256((const __m256i *)(hq + j))));
            k = (unsigned)_mm256_movemask_epi8(far) != 0xffffffffu;
        }
        keep[i] = (uint8_t)k;
    }
}
#endif

static inline void pair_keep(const pm__gal_probe_t *p, int16_t *hx, int16_t *hy, int16_t *hr,
                             int16_t *ht, int16_t *hq, int n, uint8_t *keep)
{
#ifdef HAVE_AVX2_PATH
    if (p->avx2) {
        pair_keep_avx2(p, hx, hy, hr, ht, hq, n, keep);
        return;
    }
#endif
    pair_keep_portable(p, hx, hy, hr, ht, hq, n, keep);
}

/* The pair gate (a Hough vote in the spirit of Ratha et al.: true hits
 * agree on one transformation, chance hits scatter): each hit places the
 * record's first (most central) minutia in the probe's frame under its own
 * rotation; only hits that another hit (of two other minutiae) agrees with
 * are kept, in their order. A mate has many true hits; a stranger's ~15
 * chance hits rarely agree, so most quick checks (the cost of a record)
 * are skipped. A mate finger with a single true hit is lost: the search
 * uses the gate where other fingers make up for it (options.pair_gate). */
static int pair_gate(const pm__gal_probe_t *p, const uint32_t *minu, uint16_t *hit, int nhit)
{
    int16_t hx[PM__GAL_HITS_PAD], hy[PM__GAL_HITS_PAD], hr[PM__GAL_HITS_PAD];
    int16_t ht[PM__GAL_HITS_PAD], hq[PM__GAL_HITS_PAD];
    uint8_t keep[PM__GAL_HITS_PAD];
    const int32_t x0 = (int32_t)(minu[0] & 2047), y0 = (int32_t)((minu[0] >> 11) & 2047);
    for (int h = 0; h < nhit; h++) {
        int t = hit[h] >> 8, q = hit[h] & 255;
        unsigned rot = (((minu[t] >> 22) & 255u) - p->dir[q]) & 255u;
        int32_t c = p->ics[rot], sn = -p->isn[rot];
        int32_t dx = x0 - (int32_t)(minu[t] & 2047), dy = y0 - (int32_t)((minu[t] >> 11) & 2047);
        /* the xf_pair transformation applied to minutia 0, in pixels */
        hx[h] = (int16_t)((int32_t)p->x[q] + ((c * dx + sn * dy) >> Q));
        hy[h] = (int16_t)((int32_t)p->y[q] + ((c * dy - sn * dx) >> Q));
        hr[h] = (int16_t)((rot + FS_MAX_ROT) & 255u);
        ht[h] = (int16_t)t;
        hq[h] = (int16_t)q;
    }
    pair_keep(p, hx, hy, hr, ht, hq, nhit, keep);
    int n = 0;
    for (int h = 0; h < nhit; h++)
        if (keep[h])
            hit[n++] = hit[h];
    return n;
}

/* The key hits of a record (t << 8 | q: record minutia t, probe minutia q),
 * key by key and each key's slots in order, without the pairs needing more
 * than FS_MAX_ROT of rotation. hit[] holds PM_GALLERY_KEYS *
 * PM__GAL_MAP_SLOTS. Portable path. */
static int hits_portable(const pm__gal_probe_t *p, const uint16_t *keys, const uint32_t *minu,
                         int lim, uint16_t *hit)
{
    /* every key's map entry is loaded before any is used (independent
     * loads the CPU overlaps) */
    pm__gal_map_t mv[PM_GALLERY_KEYS];
    for (int t = 0; t < lim; t++)
        mv[t] = p->map[keys[t]];
    /* branch-free: every slot of every entry, an empty one (0) or one
     * beyond the rotation limit not counted (data-dependent branches on
     * 0-3 hits per key were mispredicted most of the time) */
    int nhit = 0;
    for (int t = 0; t < lim; t++) {
        unsigned dt = (minu[t] >> 22) & 255u;
        unsigned v = mv[t];
        for (int sl = 0; sl < PM__GAL_MAP_SLOTS; sl++) {
            unsigned b = (v >> (8 * sl)) & 255u;
            unsigned q = (b + 255u) & 255u; /* 255 when empty */
            /* a finger placed on a scanner (or rolled on a card) is
             * upright within a few tens of degrees: a pair needing
             * more rotation is a chance hit (random pairs spread over
             * the whole turn) */
            unsigned dr = (dt - p->dir[q - (q == 255u)] + FS_MAX_ROT) & 255u;
            hit[nhit] = (uint16_t)((unsigned)t << 8 | q);
            nhit += (b != 0) & (dr <= 2 * FS_MAX_ROT);
        }
    }
    return nhit;
}

#if defined(HAVE_AVX2_PATH) && PM__GAL_MAP_SLOTS == 3
/* The same hits in the same order, eight keys at a time: the map entries
 * and the probe minutiae's directions gathered, each slot's test a mask,
 * then the hits written key by key. The portable loop is a chain of
 * dependent loads and was a fifth of the time per record. */
__attribute__((target("avx2"))) static int hits_avx2(const pm__gal_probe_t *p,
                                                     const uint16_t *keys, const uint32_t *minu,
                                                     int lim, uint16_t *hit)
{
    const __m256i m255 = _mm256_set1_epi32(255), zero = _mm256_setzero_si256();
    const __m256i one = _mm256_set1_epi32(1), rmax = _mm256_set1_epi32(FS_MAX_ROT);
    const __m256i rlim = _mm256_set1_epi32(2 * FS_MAX_ROT + 1);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int nhit = 0;
    for (int t0 = 0; t0 < lim; t0 += 8) {
        __m256i k, v;
        if (t0 + 8 <= lim) {
            k = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(keys + t0)));
            v = _mm256_loadu_si256((const __m256i *)(minu + t0));
        } else { /* the last keys: never read past lim */
            uint16_t kb[8] = {0};
            uint32_t vb[8] = {0};
            memcpy(kb, keys + t0, (size_t)(lim - t0) * sizeof kb[0]);
            memcpy(vb, minu + t0, (size_t)(lim - t0) * sizeof vb[0]);
            k = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)kb));
            v = _mm256_loadu_si256((const __m256i *)vb);
        }
        const __m256i valid = _mm256_cmpgt_epi32(_mm256_set1_epi32(lim - t0), lane);
        const __m256i e = _mm256_mask_i32gather_epi32(zero, (const int *)p->map, k, valid, 4);
        const __m256i dt = _mm256_and_si256(_mm256_srli_epi32(v, 22), m255);
        const __m256i t8 = _mm256_slli_epi32(_mm256_add_epi32(_mm256_set1_epi32(t0), lane), 8);
        uint32_t hv[PM__GAL_MAP_SLOTS][8];
        unsigned msk[PM__GAL_MAP_SLOTS];
        for (int sl = 0; sl < PM__GAL_MAP_SLOTS; sl++) {
            __m256i b = _mm256_and_si256(_mm256_srli_epi32(e, 8 * sl), m255);
            __m256i has = _mm256_andnot_si256(_mm256_cmpeq_epi32(b, zero), valid);
            __m256i q = _mm256_and_si256(_mm256_sub_epi32(b, one), has);
            /* four bytes from dir + q, the low one the direction (the
             * three after dir[PM_MAX_MINUTIAE - 1] are the probe's cs[]) */
            __m256i d = _mm256_mask_i32gather_epi32(zero, (const int *)(const void *)p->dir, q, has, 1);
            d = _mm256_and_si256(d, m255);
            __m256i dr = _mm256_and_si256(_mm256_add_epi32(_mm256_sub_epi32(dt, d), rmax), m255);
            __m256i ok = _mm256_and_si256(has, _mm256_cmpgt_epi32(rlim, dr));
            msk[sl] = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(ok));
            _mm256_storeu_si256((__m256i *)hv[sl], _mm256_or_si256(t8, q));
        }
        for (unsigned any = msk[0] | msk[1] | msk[2]; any; any &= any - 1) {
            int l = __builtin_ctz(any);
            for (int sl = 0; sl < PM__GAL_MAP_SLOTS; sl++) {
                hit[nhit] = (uint16_t)hv[sl][l];
                nhit += (int)(msk[sl] >> l & 1u);
            }
        }
    }
    return nhit;
}
#endif

int pm__gal_fast_hits(const pm__gal_probe_t *p, const uint16_t *keys, const uint32_t *minu,
                      int nkeys, uint16_t *hit)
{
    int lim = nkeys < p->key_cap ? nkeys : p->key_cap;
    lim = lim < PM_GALLERY_KEYS ? lim : PM_GALLERY_KEYS;
#if defined(HAVE_AVX2_PATH) && PM__GAL_MAP_SLOTS == 3
    if (p->avx2)
        return hits_avx2(p, keys, minu, lim, hit);
#endif
    return hits_portable(p, keys, minu, lim, hit);
}

int pm__gal_fast_score(const pm__gal_probe_t *p, const uint16_t *keys, const uint32_t *minu,
                       int nkeys, int nmin)
{
    /* every key hit is a hypothesis; a quick check on the record's most
     * central minutiae (stored first) keeps the FS_HYP best */
    int hyp_t[FS_HYP], hyp_q[FS_HYP], hyp_m[FS_HYP], hyp_r[FS_HYP], nh = 0;
    const int ng = nmin < FS_GATE_MINUTIAE ? nmin : FS_GATE_MINUTIAE;
    /* The hits first: every key's map entry is loaded before any is used
     * (independent loads the CPU overlaps, instead of one cache miss per
     * key in the dependent chain of the check below), and pairs beyond the
     * rotation limit are dropped here. The hits are then checked in the
     * same order as one at a time (p->scan_serial, kept to prove it in the
     * tests and time it in bench_gallery_first), so the scores are equal. */
    int lim = nkeys < p->key_cap ? nkeys : p->key_cap;
    lim = lim < PM_GALLERY_KEYS ? lim : PM_GALLERY_KEYS;
    uint16_t hit[PM_GALLERY_KEYS * PM__GAL_MAP_SLOTS];
    int nhit = 0;
    if (p->scan_serial) {
        for (int t = 0; t < lim; t++)
            for (unsigned qq = p->map[keys[t]]; qq; qq >>= 8) {
                int q = (int)(qq & 255u) - 1;
                int dr = (int)((((minu[t] >> 22) & 255u) - p->dir[q]) & 255u);
                if (dr > FS_MAX_ROT && dr < 256 - FS_MAX_ROT)
                    continue;
                check_hit(p, minu, ng, nmin, t, q, -1, hyp_t, hyp_q, hyp_m, hyp_r, &nh);
            }
    } else {
        nhit = pm__gal_fast_hits(p, keys, minu, nkeys, hit);
        if (p->pair_gate && nhit)
            nhit = pair_gate(p, minu, hit, nhit);
#ifdef HAVE_QUICK16
        if (p->avx2 && ng == FS_GATE_MINUTIAE) {
            /* the quick checks of all the hits in one call; a hit pairing
             * fewer than FS_EXTEND central minutiae is neither retried,
             * extended nor kept, so check_hit has nothing to do for it */
            uint8_t m0[PM__GAL_HITS_PAD];
            quick_avx2(p, minu, hit, nhit, m0);
            for (int h = 0; h < nhit; h++)
                if (m0[h] >= FS_EXTEND || m0[h] >= FS_GATE - FS_RETRY)
                    check_hit(p, minu, ng, nmin, hit[h] >> 8, hit[h] & 255, m0[h], hyp_t, hyp_q,
                              hyp_m, hyp_r, &nh);
        } else
#endif
            for (int h = 0; h < nhit; h++)
                check_hit(p, minu, ng, nmin, hit[h] >> 8, hit[h] & 255, -1, hyp_t, hyp_q, hyp_m,
                          hyp_r, &nh);
    }
    if (!nh)
        return 1;
    float best = 0;
    for (int h = 0; h < nh; h++) {
        xf_t f0, f1;
        xf_pair_rot(p, minu[hyp_t[h]], hyp_q[h], hyp_r[h], &f0);
        int m = 0, in = 0;
        verify(p, minu, nmin, &f0, &m, &in);
        if (align(p, minu, nmin, &f0, &f1)) {
            int m1 = 0, in1 = 0;
            verify(p, minu, nmin, &f1, &m1, &in1);
            if (m1 > m)
                m = m1, in = in1;
        }
        /* matched share of the overlap times matched count: partial
         * overlaps are not rewarded for a few chance pairs */
        float sc = in > 0 ? (float)(m * m) / (float)(in > 8 ? in : 8) : 0;
        if (sc > best)
            best = sc;
    }
    /* 2..255, finer where the cutoff falls (the impostors' tail) */
    int v = best > 0 ? 2 + (int)(40.0f * sqrtf(best)) : 1;
    return v > 255 ? 255 : v;
}
