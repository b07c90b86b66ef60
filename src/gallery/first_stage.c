/* Triplet keys (geometric hashing, cf. Germain, Califano & Colville 1997,
 * "Fingerprint matching using transformation parameter clustering").
 * A record keeps one 16-bit key per minutia (its two nearest neighbours'
 * distances, the angle between them, the minutia's direction relative to the
 * first), for its PM_GALLERY_KEYS most central minutiae, stored in the same
 * order as the minutiae. The probe maps every key its triplets can reach
 * within the tolerances to up to two probe minutiae. A record key found
 * there pairs a record minutia with a probe minutia: a hypothesis for the
 * fast comparison (fast_match.c), which votes on them and verifies the best.
 * The tolerances are loose (measured on dev seed 1, docs/gallery.md): the
 * keys only propose alignments, the verification decides. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gallery/gallery_internal.h"

#define MIN_LEN 8
#define MAX_LEN 250
#define ANG_SHIFT 3 /* 8/256 turn bins: 32 per turn */

#define TWO_PI 6.28318530717958647692

static uint8_t angle256(double dx, double dy)
{
    long q = lround(atan2(-dy, dx) * 256.0 / TWO_PI);
    return (uint8_t)(q & 0xff);
}


typedef struct nb {
    int d2;
    int j;
} nb_t;

/* The k nearest neighbours of i within [MIN_LEN, MAX_LEN], nearest first. */
static int nearest(const int16_t *x, const int16_t *y, int n, int i, int k, nb_t *out)
{
    int c = 0;
    for (int j = 0; j < n; j++) {
        if (j == i)
            continue;
        int dx = x[j] - x[i], dy = y[j] - y[i], d2 = dx * dx + dy * dy;
        if (d2 < MIN_LEN * MIN_LEN || d2 > MAX_LEN * MAX_LEN)
            continue;
        if (c == k && d2 >= out[c - 1].d2)
            continue;
        int p = c < k ? c++ : c - 1;
        while (p > 0 && out[p - 1].d2 > d2) {
            out[p] = out[p - 1];
            p--;
        }
        out[p].d2 = d2;
        out[p].j = j;
    }
    return c;
}

/* ---- triplets ----------------------------------------------------------------
 * A key is a minutia i with two of its nearest neighbours j, k (d_ij <= d_ik):
 * lengths d_ij and d_ik (5 px bins from 10 px, 3 bits each), the angle from
 * edge ij to edge ik (5 bits) and i's direction relative to edge ij (5 bits).
 * Unlike a pair's two relative directions, which the smooth ridge flow makes
 * nearly equal, these four numbers are close to independent, so the keys
 * spread over the whole 16-bit space. */
#ifndef TRI_LEN0
#define TRI_LEN0 10
#endif
#ifndef TRI_LBIN
#define TRI_LBIN 5
#endif
#ifndef TRI_LTOL
#define TRI_LTOL 6 /* px: probe-side length tolerance (5 before issue 9 step 1) */
#endif
#ifndef TRI_ATOL
#define TRI_ATOL 16
#endif
#ifndef TRI_PROBE_NB
#define TRI_PROBE_NB 3
#endif

static int lbin(int d)
{
    int b = (d - TRI_LEN0) / TRI_LBIN;
    return b < 0 ? 0 : b > 7 ? 7 : b;
}

static inline uint16_t tri_key(int l1, int l2, int beta, int alpha)
{
    return (uint16_t)(l1 << 13 | l2 << 10 | (beta & 31) << 5 | (alpha & 31));
}

typedef struct tri {
    int has;   /* 1 if the minutia has two neighbours (a key) */
    int order; /* squared distance from the centroid: central minutiae first */
    int i;
    uint16_t key;
} tri_t;

static int tri_cmp(const void *a, const void *b)
{
    const tri_t *p = a, *q = b;
    if (p->has != q->has)
        return q->has - p->has;
    if (p->order != q->order)
        return p->order < q->order ? -1 : 1;
    return p->i - q->i;
}

void pm__gal_record_keys(const int16_t *x, const int16_t *y, const uint8_t *dir, int n,
                         int *perm, uint16_t *keys, int *out_nkeys, int max_keys)
{
    tri_t tris[PM_MAX_MINUTIAE];
    double cx = 0, cy = 0;
    for (int i = 0; i < n; i++) {
        cx += x[i];
        cy += y[i];
    }
    if (n) {
        cx /= n;
        cy /= n;
    }
    for (int i = 0; i < n; i++) {
        nb_t nb[2];
        double ox = x[i] - cx, oy = y[i] - cy;
        tris[i].order = (int)(ox * ox + oy * oy);
        tris[i].i = i;
        tris[i].has = nearest(x, y, n, i, 2, nb) == 2;
        tris[i].key = 0;
        if (!tris[i].has)
            continue;
        int j = nb[0].j, k = nb[1].j;
        uint8_t tj = angle256(x[j] - x[i], y[j] - y[i]), tk = angle256(x[k] - x[i], y[k] - y[i]);
        int d1 = (int)lround(sqrt((double)nb[0].d2)), d2 = (int)lround(sqrt((double)nb[1].d2));
        tris[i].key = tri_key(lbin(d1), lbin(d2), (uint8_t)(tk - tj) >> ANG_SHIFT,
                              (uint8_t)(dir[i] - tj) >> ANG_SHIFT);
    }
    qsort(tris, (size_t)n, sizeof tris[0], tri_cmp);
    int nk = 0;
    for (int t = 0; t < n; t++) {
        perm[t] = tris[t].i;
        if (tris[t].has && nk < max_keys && t == nk)
            keys[nk++] = tris[t].key;
    }
    *out_nkeys = nk;
}

static void set_box(pm__gal_map_t *map, uint8_t who, int d1, int d2, uint8_t beta, uint8_t alpha)
{
    int a0 = lbin(d1 - TRI_LTOL), a1 = lbin(d1 + TRI_LTOL);
    int b0 = lbin(d2 - TRI_LTOL), b1 = lbin(d2 + TRI_LTOL);
    int c0 = (beta - TRI_ATOL) >> ANG_SHIFT, c1 = (beta + TRI_ATOL) >> ANG_SHIFT;
    int e0 = (alpha - TRI_ATOL) >> ANG_SHIFT, e1 = (alpha + TRI_ATOL) >> ANG_SHIFT;
    for (int l1 = a0; l1 <= a1; l1++)
        for (int l2 = b0; l2 <= b1; l2++)
            for (int c = c0; c <= c1; c++)
                for (int e = e0; e <= e1; e++) {
                    uint16_t k = tri_key(l1, l2, c, e);
                    pm__gal_map_t v = map[k];
                    for (int sl = 0; sl < PM__GAL_MAP_SLOTS; sl++) {
                        unsigned b = (unsigned)(v >> (8 * sl)) & 255u;
                        if (b == who)
                            break;
                        if (!b) {
                            map[k] = (pm__gal_map_t)(v | (pm__gal_map_t)who << (8 * sl));
                            break;
                        }
                    }
                }
}

void pm__gal_probe_build(const pm_fingerprint_t *fp, pm__gal_probe_t *p)
{
    memset(p->map, 0, sizeof p->map);
    for (int k = 0; k < 256; k++) {
        p->cs[k] = (float)cos(k * TWO_PI / 256.0);
        p->sn[k] = (float)sin(k * TWO_PI / 256.0);
        p->ics[k] = (int32_t)lround(cos(k * TWO_PI / 256.0) * 16384.0);
        p->isn[k] = (int32_t)lround(sin(k * TWO_PI / 256.0) * 16384.0);
    }
    int16_t x[PM_MAX_MINUTIAE], y[PM_MAX_MINUTIAE];
    double scale = fp->ppi > 0 ? 500.0 / fp->ppi : 1.0;
    int n = 0;
    for (size_t i = 0; i < fp->count && i < PM_MAX_MINUTIAE && n < 254; i++) {
        const pm_minutia_t *m = &fp->minutiae[i];
        if (!isfinite(m->x) || !isfinite(m->y) || !isfinite(m->angle))
            continue;
        double xs = m->x * scale, ys = m->y * scale;
        if (xs < 0 || ys < 0 || xs > 2047 || ys > 2047)
            continue;
        x[n] = (int16_t)lround(xs);
        y[n] = (int16_t)lround(ys);
        p->x[n] = x[n];
        p->y[n] = y[n];
        p->dir[n] = (uint8_t)(lround(m->angle * 256.0 / TWO_PI) & 0xff);
        n++;
    }
    p->n = n;
    /* every ordered pair of i's TRI_PROBE_NB nearest: a missed or spurious
     * neighbour, or two near-equal distances, still leave the record's
     * triplet among them */
    for (int i = 0; i < n; i++) {
        nb_t nb[TRI_PROBE_NB];
        int c = nearest(x, y, n, i, TRI_PROBE_NB, nb);
        uint8_t th[TRI_PROBE_NB];
        int d[TRI_PROBE_NB];
        for (int q = 0; q < c; q++) {
            th[q] = angle256(x[nb[q].j] - x[i], y[nb[q].j] - y[i]);
            d[q] = (int)lround(sqrt((double)nb[q].d2));
        }
        for (int q = 0; q < c; q++)
            for (int r = 0; r < c; r++)
                if (q != r && d[q] <= d[r] + 2 * TRI_LTOL)
                    set_box(p->map, (uint8_t)(i + 1), d[q], d[r], (uint8_t)(th[r] - th[q]),
                            (uint8_t)(p->dir[i] - th[q]));
    }
    pm__gal_fast_build(p);
}
