/* 1:1 minutiae comparison: edge hash -> root pairs -> pairing grown along the
 * neighbour graph -> score normalised by the overlap -> calibrated to FMR.
 * See docs/match.md. */
#include "perimeter/match.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "match/match_internal.h"

#define TWO_PI 6.28318530717958647692

/* ---- geometry helpers -------------------------------------------------- */

/* tan((k + 1/2) turn/256) for k = 0..31: the bounds between the rounded
 * angles 0..32 (1/256 turns) of the first octant. */
static const double octant_bound[32] = {
    0.012272462379566276,
    0.036832180994845636,
    0.061436352581593759,
    0.086114851197627906,
    0.11089791159591302,
    0.1358162787093877,
    0.16090136245348918,
    0.1861853995275837,
    0.21170162402398335,
    0.23748444881607017,
    0.26356965989991799,
    0.28999462611260612,
    0.3167985269526038,
    0.34402260159242631,
    0.37171042261274345,
    0.39990819851453718,
    0.4286651096994995,
    0.45803368337067241,
    0.48807021372286286,
    0.51883523489997574,
    0.55039405553726395,
    0.58281736533497608,
    0.61618192609486599,
    0.65057136208015331,
    0.68607706754486286,
    0.72279925296420588,
    0.76084815607025125,
    0.80034544949932018,
    0.84142588400725471,
    0.88423921522534976,
    0.92895247337036746,
    0.97575264993237654};

/* Angle in 1/256 turns of the vector (dx, dy) given in image coordinates
 * (y down), counter-clockwise as displayed (minutiae.h convention), rounded
 * to the nearest: lround(atan2(-dy, dx) * 256 / 2pi) & 255, without atan2.
 * The vector is folded into the first octant (0 <= v <= u), where the
 * rounded angle is the number of bounds tan((k + 1/2) turn/256) below v/u
 * (a binary search, 33 outcomes); unfolding mirrors it back. An integer ratio
 * never equals one of those irrational bounds, so no case is a tie and the
 * folding commutes with rounding; tests/test_match.c checks every vector of
 * an edge (|dx|, |dy| <= 255) against the atan2 formula. */
uint8_t pm__vec_angle256(int dx, int dy)
{
    int x = dx, y = -dy; /* y up */
    int u = x < 0 ? -x : x, v = y < 0 ? -y : y;
    int swap = v > u;
    if (swap) {
        int w = u;
        u = v;
        v = w;
    }
    double du = u, dv = v;
    int r = 0;
    if (dv > du * octant_bound[r + 15])
        r += 16;
    if (dv > du * octant_bound[r + 7])
        r += 8;
    if (dv > du * octant_bound[r + 3])
        r += 4;
    if (dv > du * octant_bound[r + 1])
        r += 2;
    if (dv > du * octant_bound[r])
        r += 1;
    if (r == 31 && dv > du * octant_bound[31]) /* the 33rd outcome: 32 */
        r = 32;
    int a = swap ? 64 - r : r; /* first quadrant, 0..64 */
    if (x < 0)
        a = 128 - a;
    if (y < 0)
        a = -a;
    return (uint8_t)(a & 0xff);
}

/* ---- preparation ----------------------------------------------------------- */

/* Rounded length of a vector of squared length d2 (lround(sqrt(d2)), in
 * integers): sqrt of an integer is correctly rounded, so its truncation r
 * is the floor, and sqrt(d2) >= r + 1/2 exactly when d2 > r^2 + r (never
 * equal: d2 is an integer). */
static int round_len(uint32_t d2)
{
    uint32_t r = (uint32_t)sqrt((double)d2);
    return (int)(r + (d2 > r * r + r));
}

/* Neighbour graph: each minutia's nearest neighbours, made symmetric.
 * Minutia i's k nearest (by squared distance, then index) are taken in
 * order; each adds the edge i->j and j->i unless present or the list is
 * full (PM__MAX_DEGREE). Each list is then sorted by edge length (stable).
 * The geometry of a pair (angle, length) is computed once for both of its
 * directions: the angle of j->i is that of i->j plus half a turn. */
static int build_graph(pm_match_template_t *t)
{
    int n = t->n;
    enum { K = PM__K_NEAREST, WORDS = (PM_MAX_MINUTIAE + 63) / 64 };
    uint8_t adj_count[PM_MAX_MINUTIAE];
    uint8_t adj[PM_MAX_MINUTIAE][PM__MAX_DEGREE];
    uint8_t adj_th[PM_MAX_MINUTIAE][PM__MAX_DEGREE];
    uint8_t adj_len[PM_MAX_MINUTIAE][PM__MAX_DEGREE];
    uint64_t present[PM_MAX_MINUTIAE][WORDS]; /* bit j of row i: j in adj[i] */
    uint32_t key[PM_MAX_MINUTIAE];
    memset(adj_count, 0, (size_t)n);
    memset(present, 0, (size_t)n * sizeof present[0]);
    const uint32_t min2 = PM__MIN_EDGE_LEN * PM__MIN_EDGE_LEN;
    const uint32_t max2 = PM__MAX_EDGE_LEN * PM__MAX_EDGE_LEN;
    for (int i = 0; i < n; i++) {
        /* keys d2 << 8 | j are distinct and order as (d2, j); out of range
         * (itself, too close, too far) is UINT32_MAX */
        const int xi = t->x[i], yi = t->y[i];
        for (int j = 0; j < n; j++) {
            int dx = t->x[j] - xi, dy = t->y[j] - yi;
            uint32_t d2 = (uint32_t)(dx * dx + dy * dy);
            int ok = (d2 - min2) <= (max2 - min2); /* min2 <= d2 <= max2 */
            key[j] = ok ? d2 << 8 | (uint32_t)j : UINT32_MAX;
        }
        /* the K smallest, sorted: insertion into a sorted array (most keys
         * fail the first test once it is full) */
        uint32_t best[K];
        int c = 0;
        for (int j = 0; j < n; j++) {
            uint32_t x = key[j];
            if (c == K && x >= best[K - 1])
                continue;
            if (x == UINT32_MAX)
                continue;
            int p = c < K ? c++ : K - 1;
            while (p > 0 && best[p - 1] > x) {
                best[p] = best[p - 1];
                p--;
            }
            best[p] = x;
        }
        for (int q = 0; q < c; q++) {
            int j = (int)(best[q] & 0xff);
            int add_ij = !(present[i][j >> 6] >> (j & 63) & 1) && adj_count[i] < PM__MAX_DEGREE;
            int add_ji = !(present[j][i >> 6] >> (i & 63) & 1) && adj_count[j] < PM__MAX_DEGREE;
            if (!add_ij && !add_ji)
                continue;
            uint8_t th = pm__vec_angle256(t->x[j] - xi, t->y[j] - yi);
            int len = round_len(best[q] >> 8);
            if (add_ij) {
                int r = adj_count[i]++;
                adj[i][r] = (uint8_t)j;
                adj_th[i][r] = th;
                adj_len[i][r] = (uint8_t)len;
                present[i][j >> 6] |= (uint64_t)1 << (j & 63);
            }
            if (add_ji) {
                int r = adj_count[j]++;
                adj[j][r] = (uint8_t)i;
                adj_th[j][r] = (uint8_t)(th + 128);
                adj_len[j][r] = (uint8_t)len;
                present[j][i >> 6] |= (uint64_t)1 << (i & 63);
            }
        }
    }
    int total = 0;
    for (int i = 0; i < n; i++)
        total += adj_count[i];
    if (!t->edges || total > t->edges_cap) {
        free(t->edges);
        t->edges_cap = total > 64 ? total : 64;
        t->edges = malloc((size_t)t->edges_cap * sizeof *t->edges);
        if (!t->edges) {
            t->edges_cap = 0;
            return PM_ENOMEM;
        }
    }
    t->nedges = total;
    int at = 0;
    for (int i = 0; i < n; i++) {
        t->edge_start[i] = (uint16_t)at;
        for (int r = 0; r < adj_count[i]; r++) {
            /* insertion by length: each list is sorted by edge length */
            int j = adj[i][r], len = adj_len[i][r];
            pm__edge_t e = {.j = (uint8_t)j,
                            .ai = (uint8_t)(adj_th[i][r] - t->dir[i]),
                            .aj = (uint8_t)(adj_th[i][r] - t->dir[j]),
                            .tol = (uint8_t)pm__len_tol(len),
                            .len = (uint16_t)len};
            int p = at++;
            while (p > t->edge_start[i] && t->edges[p - 1].len > e.len) {
                t->edges[p] = t->edges[p - 1];
                p--;
            }
            t->edges[p] = e;
        }
    }
    t->edge_start[n] = (uint16_t)at;
    return 0;
}

static int bucket_of(int lb, int ab, int bb)
{
    return (lb * PM__ANGLE_BINS + ab) * PM__ANGLE_BINS + bb;
}

/* Hash of the directed edges by (length, ai, aj); each edge goes into every
 * bucket its tolerance box touches, so a lookup reads a single bucket. */
typedef struct hentry {
    uint8_t i, j, ai, aj, len;
} hentry_t;

/* Sorts each bucket by edge length (stable) so lookups can stop early. */
static void sort_buckets(const pm_match_template_t *t, hentry_t *hash)
{
    for (int b = 0; b < PM__BUCKETS; b++) {
        hentry_t *h = hash + t->bucket_start[b];
        int n = t->bucket_start[b + 1] - t->bucket_start[b];
        for (int k = 1; k < n; k++) {
            hentry_t x = h[k];
            int p = k;
            while (p > 0 && h[p - 1].len > x.len) {
                h[p] = h[p - 1];
                p--;
            }
            h[p] = x;
        }
    }
}

static int build_hash(pm_match_template_t *t)
{
    int counts[PM__BUCKETS + 1];
    /* Offsets are 16-bit: on a huge view only each minutia's shortest
     * `max_rank` edges are hashed (roots come from short edges anyway). */
    int max_rank = PM__HASH_RANK;
    hentry_t *hash = NULL;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0) {
            memset(counts, 0, sizeof counts);
        }
        int fill[PM__BUCKETS];
        if (pass == 1) {
            int sum = 0;
            for (int b = 0; b < PM__BUCKETS; b++)
                sum += counts[b];
            if (sum > 65535 && max_rank > 1) {
                max_rank--;
                pass = -1; /* count again with fewer edges */
                continue;
            }
            sum = 0;
            for (int b = 0; b < PM__BUCKETS; b++) {
                t->bucket_start[b] = (uint16_t)sum;
                fill[b] = sum;
                sum += counts[b];
            }
            t->bucket_start[PM__BUCKETS] = (uint16_t)sum;
            t->nhash = sum;
            hash = malloc((size_t)(sum ? sum : 1) * sizeof *hash);
            t->h_len = calloc(5, (size_t)sum + PM__HASH_PAD);
            if (!hash || !t->h_len) {
                free(hash);
                return PM_ENOMEM;
            }
        }
        for (int i = 0; i < t->n; i++) {
            for (int e = t->edge_start[i]; e < t->edge_start[i + 1]; e++) {
                if (e - t->edge_start[i] >= max_rank)
                    break;
                const pm__edge_t *ed = &t->edges[e];
                int tol = pm__root_len_tol(ed->len);
                int l0 = (ed->len - tol) < 0 ? 0 : (ed->len - tol) / PM__LEN_BIN;
                int l1 = (ed->len + tol) / PM__LEN_BIN;
                if (l1 >= PM__LEN_BINS)
                    l1 = PM__LEN_BINS - 1;
                int a0 = (ed->ai - PM__ROOT_ANGLE_TOL) >> PM__ANGLE_SHIFT;
                int a1 = (ed->ai + PM__ROOT_ANGLE_TOL) >> PM__ANGLE_SHIFT;
                int b0 = (ed->aj - PM__ROOT_ANGLE_TOL) >> PM__ANGLE_SHIFT;
                int b1 = (ed->aj + PM__ROOT_ANGLE_TOL) >> PM__ANGLE_SHIFT;
                for (int lb = l0; lb <= l1; lb++)
                    for (int ab = a0; ab <= a1; ab++)
                        for (int bb = b0; bb <= b1; bb++) {
                            int key = bucket_of(lb, ab & (PM__ANGLE_BINS - 1),
                                                bb & (PM__ANGLE_BINS - 1));
                            if (pass == 0) {
                                counts[key]++;
                            } else {
                                hentry_t *h = &hash[fill[key]++];
                                h->i = (uint8_t)i;
                                h->j = ed->j;
                                h->ai = ed->ai;
                                h->aj = ed->aj;
                                h->len = (uint8_t)ed->len;
                            }
                        }
            }
        }
    }
    sort_buckets(t, hash);
    /* structure of arrays, each followed by its PM__HASH_PAD zero bytes */
    size_t stride = (size_t)t->nhash + PM__HASH_PAD;
    t->h_ai = t->h_len + stride;
    t->h_aj = t->h_ai + stride;
    t->h_i = t->h_aj + stride;
    t->h_j = t->h_i + stride;
    for (int e = 0; e < t->nhash; e++) {
        t->h_len[e] = hash[e].len;
        t->h_ai[e] = hash[e].ai;
        t->h_aj[e] = hash[e].aj;
        t->h_i[e] = hash[e].i;
        t->h_j[e] = hash[e].j;
    }
    free(hash);
    return 0;
}

/* The undirected edges (j < l, within each minutia's HASH_RANK shortest)
 * with their bucket keys, for lookups in another view's hash. */
static int build_query(pm_match_template_t *t)
{
    if (!t->query || t->nedges + PM__QUERY_PAD > t->query_cap) {
        free(t->query);
        t->query_cap = t->nedges + PM__QUERY_PAD;
        t->query = malloc((size_t)t->query_cap * sizeof *t->query);
        if (!t->query) {
            t->query_cap = 0;
            return PM_ENOMEM;
        }
    }
    int q = 0;
    for (int j = 0; j < t->n; j++) {
        int e_end = t->edge_start[j + 1];
        if (e_end - t->edge_start[j] > PM__HASH_RANK)
            e_end = t->edge_start[j] + PM__HASH_RANK;
        for (int e = t->edge_start[j]; e < e_end; e++) {
            const pm__edge_t *ed = &t->edges[e];
            if (ed->j < j)
                continue;
            int lb = ed->len / PM__LEN_BIN;
            if (lb >= PM__LEN_BINS)
                lb = PM__LEN_BINS - 1;
            pm__qedge_t *qe = &t->query[q++];
            qe->key = (uint16_t)bucket_of(lb, ed->ai >> PM__ANGLE_SHIFT, ed->aj >> PM__ANGLE_SHIFT);
            qe->j = (uint8_t)j;
            qe->l = ed->j;
            int ltol = pm__root_len_tol(ed->len), hi = ed->len + ltol;
            qe->a0 = (uint8_t)(ed->ai - PM__ROOT_ANGLE_TOL);
            qe->b0 = (uint8_t)(ed->aj - PM__ROOT_ANGLE_TOL);
            qe->lo = (uint8_t)(ed->len - ltol); /* len >= 6 > ltol */
            qe->hi = (uint8_t)(hi > 255 ? 255 : hi); /* hash lengths are <= 255 */
        }
    }
    memset(t->query + q, 0, PM__QUERY_PAD * sizeof *t->query); /* zeroed lookahead */
    t->nquery = q;
    return 0;
}

/* Area of the view: the convex hull of its minutiae on a coarse grid, grown
 * by one cell. */
static long cross(const int *o, const int *a, const int *b)
{
    return (long)(a[0] - o[0]) * (b[1] - o[1]) - (long)(a[1] - o[1]) * (b[0] - o[0]);
}

/* Is the centre of cell (gx, gy) inside the hull (exact, as before)? */
static int cell_inside(int (*hull)[2], int h, int gx, int gy)
{
    int c[2] = {gx * PM__CELL + PM__CELL / 2, gy * PM__CELL + PM__CELL / 2};
    for (int e = 0; e < h; e++)
        if (cross(hull[e], hull[e + 1], c) < 0)
            return 0;
    return 1;
}

static void build_mask(pm_match_template_t *t)
{
    memset(t->mask, 0, sizeof t->mask);
    int n = t->n;
    if (n < 3)
        return;
    int pts[PM_MAX_MINUTIAE][2], hull[2 * PM_MAX_MINUTIAE + 2][2];
    /* sorted by (x, y): insertion sort of the packed keys (n <= 255; 0 <=
     * x, y <= 8000 < 2^16) */
    uint32_t xy[PM_MAX_MINUTIAE];
    for (int i = 0; i < n; i++) {
        uint32_t v = (uint32_t)t->x[i] << 16 | (uint32_t)t->y[i];
        int p = i;
        while (p > 0 && xy[p - 1] > v) {
            xy[p] = xy[p - 1];
            p--;
        }
        xy[p] = v;
    }
    for (int i = 0; i < n; i++) {
        pts[i][0] = (int)(xy[i] >> 16);
        pts[i][1] = (int)(xy[i] & 0xffff);
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        while (k >= 2 && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0)
            k--;
        hull[k][0] = pts[i][0];
        hull[k][1] = pts[i][1];
        k++;
    }
    for (int i = n - 2, lo = k + 1; i >= 0; i--) {
        while (k >= lo && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0)
            k--;
        hull[k][0] = pts[i][0];
        hull[k][1] = pts[i][1];
        k++;
    }
    int h = k - 1; /* last point repeats the first */
    if (h < 3)
        return;
    /* The hull is convex, so the cells whose centre lies inside form one run
     * per row: find its ends by exact tests, starting from the real-valued
     * edge crossings, then dilate by one cell with shifts. */
    uint64_t inside[PM__GRID];
    int ymin = hull[0][1], ymax = hull[0][1];
    for (int e = 1; e < h; e++) {
        ymin = hull[e][1] < ymin ? hull[e][1] : ymin;
        ymax = hull[e][1] > ymax ? hull[e][1] : ymax;
    }
    for (int gy = 0; gy < PM__GRID; gy++) {
        inside[gy] = 0;
        double cy = gy * PM__CELL + PM__CELL / 2;
        if (cy < ymin || cy > ymax)
            continue; /* no point of the hull at that height */
        double lo = -1e9, hi = 1e9;
        for (int e = 0; e < h; e++) {
            /* cross(h_e, h_e+1, (cx, cy)) = A * cx + B >= 0 */
            double ex = hull[e + 1][0] - hull[e][0], ey = hull[e + 1][1] - hull[e][1];
            double A = -ey, B = ex * (cy - hull[e][1]) + ey * hull[e][0];
            if (A > 0) {
                if (-B / A > lo)
                    lo = -B / A;
            } else if (A < 0) {
                if (-B / A < hi)
                    hi = -B / A;
            } else if (B < 0) {
                lo = 1e9;
            }
        }
        if (lo > hi + PM__CELL)
            continue;
        double glo = (lo - PM__CELL / 2) / PM__CELL, ghi = (hi - PM__CELL / 2) / PM__CELL;
        int a = glo < 0 ? 0 : glo > PM__GRID ? PM__GRID : (int)glo - 1;
        int b = ghi >= PM__GRID ? PM__GRID - 1 : ghi < -1 ? -1 : (int)ghi + 1;
        if (a < 0)
            a = 0;
        if (b > PM__GRID - 1)
            b = PM__GRID - 1;
        while (a <= b && !cell_inside(hull, h, a, gy))
            a++;
        while (b >= a && !cell_inside(hull, h, b, gy))
            b--;
        for (int gx = a; gx <= b; gx++)
            inside[gy] |= (uint64_t)1 << gx;
    }
    for (int gy = 0; gy < PM__GRID; gy++) {
        uint64_t rows = inside[gy];
        if (gy > 0)
            rows |= inside[gy - 1];
        if (gy + 1 < PM__GRID)
            rows |= inside[gy + 1];
        t->mask[gy] = rows | rows << 1 | rows >> 1;
    }
}

static int cell_of(int x, int y)
{
    int gx = x >> PM__SCELL_SHIFT, gy = y >> PM__SCELL_SHIFT;
    if (gx >= PM__SGRID)
        gx = PM__SGRID - 1;
    if (gy >= PM__SGRID)
        gy = PM__SGRID - 1;
    return gy * PM__SGRID + gx;
}

/* Bucket the minutiae by grid cell (counting sort). */
static void build_cells(pm_match_template_t *t)
{
    uint16_t count[PM__SGRID * PM__SGRID + 1];
    memset(count, 0, sizeof count);
    for (int i = 0; i < t->n; i++)
        count[cell_of(t->x[i], t->y[i])]++;
    int sum = 0;
    for (int c = 0; c < PM__SGRID * PM__SGRID; c++) {
        t->cell_start[c] = (uint16_t)sum;
        sum += count[c];
        count[c] = t->cell_start[c];
    }
    t->cell_start[PM__SGRID * PM__SGRID] = (uint16_t)sum;
    for (int i = 0; i < t->n; i++)
        t->cell_items[count[cell_of(t->x[i], t->y[i])]++] = (uint8_t)i;
}

/* Prepares fp into t: a zeroed template (calloc) or, for a candidate, one
 * reused from an earlier candidate preparation (no hash: bucket_start is
 * still zero, h_len NULL). Every field a comparison reads is written here. */
/* lround(v) for a finite v without the library call: truncation, then the
 * exact remainder (v - trunc(v) is exact below 2^52) decides, halves away
 * from zero. */
static long round_half_away(double v)
{
    if (!(v > -1e15 && v < 1e15))
        return lround(v);
    long r = (long)v;
    double d = v - (double)r;
    return r + (d >= 0.5) - (d <= -0.5);
}

static int prepare_into(const pm_fingerprint_t *fp, pm_match_template_t *t, int with_hash)
{
    double scale = fp->ppi > 0 ? 500.0 / fp->ppi : 1.0;
    int n = 0;
    for (size_t i = 0; i < fp->count; i++) {
        const pm_minutia_t *m = &fp->minutiae[i];
        if (!isfinite(m->x) || !isfinite(m->y) || !isfinite(m->angle))
            continue;
        double x = m->x * scale, y = m->y * scale;
        if (x < 0 || y < 0 || x > 8000 || y > 8000)
            continue;
        t->x[n] = (int16_t)round_half_away(x);
        t->y[n] = (int16_t)round_half_away(y);
        t->dir[n] = (uint8_t)(round_half_away(m->angle * 256.0 / TWO_PI) & 0xff);
        t->type[n] = m->type;
        t->qual[n] = m->quality > 100 ? 100 : m->quality;
        t->src[n] = (uint8_t)i;
        n++;
    }
    t->n = n;
    int rc = build_graph(t);
    if (!rc && with_hash)
        rc = build_hash(t);
    if (!rc)
        rc = build_query(t);
    if (rc)
        return rc;
    build_mask(t);
    build_cells(t);
    return 0;
}

static int check_view(const pm_fingerprint_t *fp, pm_error_t *err)
{
    if (fp->count > PM_MAX_MINUTIAE)
        return pm_error_set(err, PM_EINVAL, "pm_match_prepare: %zu minutiae (max %d)", fp->count,
                            PM_MAX_MINUTIAE);
    return 0;
}

static int prepare(const pm_fingerprint_t *fp, pm_match_template_t **out, int with_hash,
                   pm_error_t *err)
{
    if (!fp || !out)
        return pm_error_set(err, PM_EINVAL, "pm_match_prepare: NULL argument");
    *out = NULL;
    int rc = check_view(fp, err);
    if (rc)
        return rc;
    pm_match_template_t *t = calloc(1, sizeof *t);
    if (!t)
        return pm_error_set(err, PM_ENOMEM, "out of memory preparing a template");
    rc = prepare_into(fp, t, with_hash);
    if (rc) {
        pm_match_template_free(t);
        return pm_error_set(err, rc, "out of memory preparing a template");
    }
    *out = t;
    return 0;
}

int pm_match_prepare(const pm_fingerprint_t *fp, pm_match_template_t **out, pm_error_t *err)
{
    return prepare(fp, out, 1, err);
}

int pm_match_prepare_candidate(const pm_fingerprint_t *fp, pm_match_template_t **out,
                               pm_error_t *err)
{
    return prepare(fp, out, 0, err);
}

int pm_match_prepare_candidate_into(const pm_fingerprint_t *fp, pm_match_template_t **t,
                                    pm_error_t *err)
{
    if (!fp || !t)
        return pm_error_set(err, PM_EINVAL, "pm_match_prepare_candidate_into: NULL argument");
    if (*t && (*t)->h_len) { /* a template with a hash: not reusable as a candidate */
        pm_match_template_free(*t);
        *t = NULL;
    }
    if (!*t)
        return prepare(fp, t, 0, err);
    int rc = check_view(fp, err);
    if (!rc && (rc = prepare_into(fp, *t, 0)) != 0)
        rc = pm_error_set(err, rc, "out of memory preparing a template");
    if (rc) {
        pm_match_template_free(*t);
        *t = NULL;
    }
    return rc;
}

void pm_match_template_free(pm_match_template_t *t)
{
    if (!t)
        return;
    free(t->edges);
    free(t->h_len);
    free(t->query);
    free(t);
}

size_t pm_match_template_size(const pm_match_template_t *t)
{
    if (!t)
        return 0;
    return sizeof *t + (size_t)t->nedges * sizeof *t->edges + (t->h_len ? 5 * ((size_t)t->nhash + PM__HASH_PAD) : 0) +
           ((size_t)t->nquery + PM__QUERY_PAD) * sizeof *t->query;
}

int pm_match_template_count(const pm_match_template_t *t) { return t ? t->n : 0; }

/* ---- matcher scratch ------------------------------------------------------ */

int pm_matcher_new(pm_matcher_t **out, pm_error_t *err)
{
    if (!out)
        return pm_error_set(err, PM_EINVAL, "pm_matcher_new: NULL argument");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return pm_error_set(err, PM_ENOMEM, "out of memory for matcher scratch");
    pm_match_options_default(&(*out)->opt);
    return 0;
}

void pm_match_options_default(pm_match_options_t *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->local_sigma = PM__DEFAULT_LOCAL_SIGMA;
    o->quality_weight = PM__DEFAULT_QUALITY_WEIGHT;
}

int pm_matcher_set_options(pm_matcher_t *m, const pm_match_options_t *o, pm_error_t *err)
{
    if (!m || !o)
        return pm_error_set(err, PM_EINVAL, "pm_matcher_set_options: NULL argument");
    if (!(o->local_sigma >= 0 && o->local_sigma <= 400))
        return pm_error_set(err, PM_EINVAL, "pm_matcher_set_options: local_sigma %g outside 0..400",
                            o->local_sigma);
    if (!(o->quality_weight >= 0 && o->quality_weight <= 1))
        return pm_error_set(err, PM_EINVAL,
                            "pm_matcher_set_options: quality_weight %g outside 0..1",
                            o->quality_weight);
    m->opt = *o;
    return 0;
}

void pm_matcher_free(pm_matcher_t *m) { free(m); }

double pm_match_score_to_fmr(double score) { return pow(10.0, -score / 10.0); }
