/* The comparison itself: roots from the edge hash, pairing growth, scoring. */
#include <math.h>
#include <string.h>

#include "match/match_internal.h"

/* ceil(2^18 / d): floor(n / d) == (n * R(d)) >> 18 whenever n * d < 2^18 */
#define R(d) ((1u << 18) / (d) + ((1u << 18) % (d) != 0))
#define R8(d) R(d), R(d + 1), R(d + 2), R(d + 3), R(d + 4), R(d + 5), R(d + 6), R(d + 7)
static const uint32_t len_recip[] = {0, R8(1), R8(9), R8(17), R8(25), R8(33)};
#undef R8
#undef R
/* edge lengths are at most 255 px, so tol + 1 stays within the table */
_Static_assert(PM__LEN_TOL_BASE + PM__MAX_EDGE_LEN / PM__LEN_TOL_DIV + 1 <= 40 &&
                   (PM__LEN_TOL_BASE + PM__MAX_EDGE_LEN / PM__LEN_TOL_DIV + 1) * 256 *
                           (PM__LEN_TOL_BASE + PM__MAX_EDGE_LEN / PM__LEN_TOL_DIV + 1) <
                       (1 << 18),
               "len_recip table too small");

/* Error of matching edge (la, aia, aja) with (lb, aib, ajb), scaled so each
 * tolerance counts 256; -1 when outside a tolerance. */
static inline int edge_error(const pm__edge_t *ea, const pm__edge_t *eb)
{
    int la = ea->len, lb = eb->len;
    uint8_t aia = ea->ai, aja = ea->aj, aib = eb->ai, ajb = eb->aj;
    int dl = la - lb;
    if (dl < 0)
        dl = -dl;
    /* pm__len_tol of the shorter edge (the tolerance grows with the length) */
    int tol = ea->tol < eb->tol ? ea->tol : eb->tol;
    if (dl > tol)
        return -1;
    int da = (int8_t)(uint8_t)(aia - aib);
    if (da < 0)
        da = -da;
    if (da > PM__ANGLE_TOL)
        return -1;
    int db = (int8_t)(uint8_t)(aja - ajb);
    if (db < 0)
        db = -db;
    if (db > PM__ANGLE_TOL)
        return -1;
    /* dl * 256 / (tol + 1) without a division: dl <= tol, so the product is
     * below 2^18 / (tol + 1) and the rounded-up reciprocal is exact. */
    return (int)(((unsigned)dl * 256u * len_recip[tol + 1]) >> 18) +
           (da + db) * 256 / (PM__ANGLE_TOL + 1);
}

/* ---- root votes ------------------------------------------------------------- */

/* The entries e0 + k of a's hash for the bits k of mask (ascending) match
 * query edge q (j -> l) of b: each votes for the pairs (i, j) and (k, l).
 * A pair's first vote appends it to touched (branch-free). Returns the new
 * number of touched pairs. */
static inline __attribute__((always_inline)) int vote(const pm_match_template_t *a, unsigned e0,
                                                      unsigned mask, const pm__qedge_t *q,
                                                      unsigned nb, uint16_t *votes,
                                                      uint16_t *touched, int ntouched)
{
    while (mask) {
        unsigned e = e0 + (unsigned)__builtin_ctz(mask);
        mask &= mask - 1;
        unsigned idx = (unsigned)a->h_i[e] * nb + q->j;
        unsigned v = votes[idx];
        touched[ntouched] = (uint16_t)idx;
        ntouched += v == 0;
        votes[idx] = (uint16_t)(v + 1);
        idx = (unsigned)a->h_j[e] * nb + q->l;
        v = votes[idx];
        touched[ntouched] = (uint16_t)idx;
        ntouched += v == 0;
        votes[idx] = (uint16_t)(v + 1);
    }
    return ntouched;
}

/* ---- min-heap of packed (error << 16 | k << 8 | l) ---------------------- */

typedef struct heap {
    uint32_t *v;
    int n;
} heap_t;

static inline void heap_push(heap_t *h, uint32_t x)
{
    if (h->n >= PM__HEAP_CAP)
        return;
    int i = h->n++;
    while (i > 0) {
        int p = (i - 1) >> 1;
        if (h->v[p] <= x)
            break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = x;
}

static inline uint32_t heap_pop(heap_t *h)
{
    uint32_t top = h->v[0];
    uint32_t x = h->v[--h->n];
    int i = 0, n = h->n;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && h->v[c + 1] < h->v[c])
            c++;
        if (h->v[c] >= x)
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (n > 0)
        h->v[i] = x;
    return top;
}

/* ---- growth ------------------------------------------------------------------ */

typedef struct pairing {
    int paired;
    int support;
    int types;  /* pairs with the same minutia type */
    int err;    /* summed edge error of the tree edges */
} pairing_t;

static void add_pair(pm_matcher_t *m, const pm_match_template_t *a, const pm_match_template_t *b,
                     heap_t *h, int i, int j, pairing_t *pr)
{
    m->pa[i] = (int16_t)j;
    m->pb[j] = (int16_t)i;
    m->votes[i * b->n + j] = 0; /* a later root inside this pairing is not grown */
    pr->paired++;
    pr->types += a->type[i] == b->type[j];
    const pm__edge_t *ea = a->edges + a->edge_start[i], *ea_end = a->edges + a->edge_start[i + 1];
    const pm__edge_t *eb0 = b->edges + b->edge_start[j], *eb_end = b->edges + b->edge_start[j + 1];
    if (ea_end - ea > PM__GROW_RANK)
        ea_end = ea + PM__GROW_RANK;
    if (eb_end - eb0 > PM__GROW_RANK)
        eb_end = eb0 + PM__GROW_RANK;
    /* Both lists are sorted by length: only a window of b's edges can match
     * (a supporting edge, to k's partner, must lie in it too). */
    const pm__edge_t *win = eb0;
    for (; ea < ea_end; ea++) {
        int k = ea->j;
        int pk = m->pa[k];
        int lo = ea->len - ea->tol, hi = ea->len + ea->tol;
        while (win < eb_end && win->len < lo)
            win++;
        if (pk >= 0) {
            /* k already paired: is the edge to its partner consistent? */
            for (const pm__edge_t *eb = win; eb < eb_end && eb->len <= hi; eb++)
                if (eb->j == pk) {
                    if (edge_error(ea, eb) >= 0)
                        pr->support++;
                    break;
                }
            continue;
        }
        for (const pm__edge_t *eb = win; eb < eb_end && eb->len <= hi; eb++) {
            if (m->pb[eb->j] >= 0)
                continue;
            int e = edge_error(ea, eb);
            if (e < 0)
                continue;
            heap_push(h, ((uint32_t)e << 16) | ((uint32_t)k << 8) | eb->j);
        }
    }
}

static void grow(pm_matcher_t *m, const pm_match_template_t *a, const pm_match_template_t *b,
                 int i0, int j0, pairing_t *pr)
{
    memset(pr, 0, sizeof *pr);
    memset(m->pa, 0xff, (size_t)a->n * sizeof m->pa[0]); /* all -1 */
    memset(m->pb, 0xff, (size_t)b->n * sizeof m->pb[0]);
    heap_t h = {m->heap, 0};
    add_pair(m, a, b, &h, i0, j0, pr);
    while (h.n > 0) {
        uint32_t top = heap_pop(&h);
        int k = (top >> 8) & 0xff, l = top & 0xff;
        if (m->pa[k] >= 0 || m->pb[l] >= 0)
            continue;
        pr->err += (int)(top >> 16);
        add_pair(m, a, b, &h, k, l, pr);
    }
}

/* ---- alignment and overlap ------------------------------------------------------ */

static int in_mask(const pm_match_template_t *t, double x, double y)
{
    if (x < 0 || y < 0)
        return 0;
    int gx = (int)(x / PM__CELL), gy = (int)(y / PM__CELL);
    if (gx >= PM__GRID || gy >= PM__GRID)
        return 0;
    return (int)((t->mask[gy] >> gx) & 1);
}

/* Least-squares rigid transform b = R a + t over the pairs in m->pa. */
static void fit_rigid(const pm_matcher_t *m, const pm_match_template_t *a,
                      const pm_match_template_t *b, double *out_rot, double *out_tx, double *out_ty)
{
    double sax = 0, say = 0, sbx = 0, sby = 0;
    int n = 0;
    for (int i = 0; i < a->n; i++) {
        int j = m->pa[i];
        if (j < 0)
            continue;
        sax += a->x[i];
        say += a->y[i];
        sbx += b->x[j];
        sby += b->y[j];
        n++;
    }
    if (n == 0) {
        *out_rot = *out_tx = *out_ty = 0;
        return;
    }
    sax /= n, say /= n, sbx /= n, sby /= n;
    double sxx = 0, sxy = 0;
    for (int i = 0; i < a->n; i++) {
        int j = m->pa[i];
        if (j < 0)
            continue;
        double ax = a->x[i] - sax, ay = a->y[i] - say, bx = b->x[j] - sbx, by = b->y[j] - sby;
        sxx += ax * bx + ay * by;
        sxy += ax * by - ay * bx;
    }
    double rot = atan2(sxy, sxx);
    double c = cos(rot), s = sin(rot);
    *out_rot = rot;
    *out_tx = sbx - (c * sax - s * say);
    *out_ty = sby - (s * sax + c * say);
}

/* Pairs the minutiae the edge growth could not reach: after the rigid fit, an
 * unpaired minutia of a is paired with the nearest unpaired one of b that lies
 * within a distance growing with its distance from the paired centroid and has
 * a similar direction. Returns how many pairs were added. */
#ifndef PM__EXT_DIST
#define PM__EXT_DIST 5.0
#endif
#ifndef PM__EXT_DIST_FRAC
#define PM__EXT_DIST_FRAC 0.05
#endif
#ifndef PM__EXT_ANGLE
#define PM__EXT_ANGLE 16
#endif
/* always inlined: each call site gets the loop for its own offsets (NULL or
 * not) without a test per minutia */
static inline __attribute__((always_inline)) int
extend_pairing_off(pm_matcher_t *m, const pm_match_template_t *a, const pm_match_template_t *b,
                   double rot, double tx, double ty, const double *offx, const double *offy)
{
    double c = cos(rot), s = sin(rot);
    double cx = 0, cy = 0;
    int n = 0;
    for (int i = 0; i < a->n; i++)
        if (m->pa[i] >= 0) {
            cx += a->x[i];
            cy += a->y[i];
            n++;
        }
    if (n == 0)
        return 0;
    cx /= n;
    cy /= n;
    /* rotation in image coordinates is clockwise as displayed: directions
     * (counter-clockwise) turn by -rot */
    int drot = (int)lround(-rot * 256.0 / (2 * M_PI));
    int added = 0;
    /* First the transformed positions and tolerances of all minutiae, a
     * branch-free loop (the square roots overlap instead of each one
     * stalling the search below). */
    double px[PM_MAX_MINUTIAE], py[PM_MAX_MINUTIAE], ptol[PM_MAX_MINUTIAE];
    for (int i = 0; i < a->n; i++) {
        double ax = a->x[i], ay = a->y[i];
        px[i] = c * ax - s * ay + tx;
        py[i] = s * ax + c * ay + ty;
        if (offx) {
            px[i] += offx[i];
            py[i] += offy[i];
        }
        ptol[i] = PM__EXT_DIST + PM__EXT_DIST_FRAC * sqrt((ax - cx) * (ax - cx) + (ay - cy) * (ay - cy));
    }
    for (int i = 0; i < a->n; i++) {
        if (m->pa[i] >= 0)
            continue;
        double x = px[i], y = py[i], tol = ptol[i];
        double best = tol * tol;
        int bj = -1;
        uint8_t dir = (uint8_t)(a->dir[i] + drot);
        /* cell range of the search box, clipped to the grid (no floor():
         * without SSE4.1 it is a libm call) */
        if (x + tol < 0 || y + tol < 0)
            continue;
        int gx0 = x - tol > 0 ? (int)(x - tol) >> PM__SCELL_SHIFT : 0;
        int gy0 = y - tol > 0 ? (int)(y - tol) >> PM__SCELL_SHIFT : 0;
        int gx1 = x + tol < PM__SGRID << PM__SCELL_SHIFT ? (int)(x + tol) >> PM__SCELL_SHIFT : PM__SGRID - 1;
        int gy1 = y + tol < PM__SGRID << PM__SCELL_SHIFT ? (int)(y + tol) >> PM__SCELL_SHIFT : PM__SGRID - 1;
        for (int gy = gy0; gy <= gy1; gy++)
            for (int gx = gx0; gx <= gx1; gx++) {
                int cell = gy * PM__SGRID + gx;
                for (int q = b->cell_start[cell]; q < b->cell_start[cell + 1]; q++) {
                    int j = b->cell_items[q];
                    if (m->pb[j] >= 0)
                        continue;
                    double dx = b->x[j] - x, dy = b->y[j] - y, d2 = dx * dx + dy * dy;
                    if (d2 > best)
                        continue;
                    int da = (int8_t)(uint8_t)(b->dir[j] - dir);
                    if (da > PM__EXT_ANGLE || da < -PM__EXT_ANGLE)
                        continue;
                    best = d2;
                    bj = j;
                }
            }
        if (bj >= 0) {
            m->pa[i] = (int16_t)bj;
            m->pb[bj] = (int16_t)i;
            added++;
        }
    }
    return added;
}

static int extend_pairing(pm_matcher_t *m, const pm_match_template_t *a,
                          const pm_match_template_t *b, double rot, double tx, double ty)
{
    return extend_pairing_off(m, a, b, rot, tx, ty, NULL, NULL);
}

/* Residual evidence of the pairing under the rigid fit: feat[0] sum over
 * pairs of (1 - (d / tol)^2) clipped at 0, feat[1] mean absolute direction
 * residual (1/256 turns), feat[2] pairs of equal type. */
static void pairing_evidence(const pm_matcher_t *m, const pm_match_template_t *a,
                             const pm_match_template_t *b, double rot, double tx, double ty,
                             double *feat)
{
    double c = cos(rot), s = sin(rot);
    int drot = (int)lround(-rot * 256.0 / (2 * M_PI));
    double cx = 0, cy = 0, good = 0, ang = 0, good_a = 0, good_t = 0;
    int n = 0, types = 0;
    for (int i = 0; i < a->n; i++)
        if (m->pa[i] >= 0) {
            cx += a->x[i];
            cy += a->y[i];
            n++;
        }
    if (n == 0) {
        feat[0] = feat[1] = feat[2] = feat[3] = feat[4] = 0;
        return;
    }
    cx /= n;
    cy /= n;
    for (int i = 0; i < a->n; i++) {
        int j = m->pa[i];
        if (j < 0)
            continue;
        double x = c * a->x[i] - s * a->y[i] + tx, y = s * a->x[i] + c * a->y[i] + ty;
        double dx = b->x[j] - x, dy = b->y[j] - y;
        double r = sqrt((a->x[i] - cx) * (a->x[i] - cx) + (a->y[i] - cy) * (a->y[i] - cy));
        double tol = 12.0 + 0.1 * r;
        double q = 1.0 - (dx * dx + dy * dy) / (tol * tol);
        good += q > 0 ? q : 0;
        int da = (int8_t)(uint8_t)(b->dir[j] - (uint8_t)(a->dir[i] + drot));
        double qa = 1.0 - (double)(da * da) / (24.0 * 24.0);
        good_a += (q > 0 ? q : 0) * (qa > 0 ? qa : 0);
        double tol2 = 8.0 + 0.08 * r;
        double q2 = 1.0 - (dx * dx + dy * dy) / (tol2 * tol2);
        good_t += q2 > 0 ? q2 : 0;
        ang += da < 0 ? -da : da;
        types += a->type[i] == b->type[j];
    }
    feat[0] = good;
    feat[1] = ang / n;
    feat[2] = types;
    feat[3] = good_a;
    feat[4] = good_t;
}

static void overlap(const pm_match_template_t *a, const pm_match_template_t *b, double rot,
                    double tx, double ty, int *out_oa, int *out_ob)
{
    double c = cos(rot), s = sin(rot);
    int oa = 0, ob = 0;
    for (int i = 0; i < a->n; i++)
        oa += in_mask(b, c * a->x[i] - s * a->y[i] + tx, s * a->x[i] + c * a->y[i] + ty);
    for (int j = 0; j < b->n; j++) {
        double x = b->x[j] - tx, y = b->y[j] - ty;
        ob += in_mask(a, c * x + s * y, -s * x + c * y);
    }
    *out_oa = oa;
    *out_ob = ob;
}

/* ---- scoring -------------------------------------------------------------------- */

#ifndef MIN_OVERLAP
#define MIN_OVERLAP 10
#endif

/* Raw similarity of one pairing: the paired minutiae, each weighted by how
 * well it fits the rigid alignment (distance and direction residuals), plus
 * half a point per supporting edge beyond the spanning tree, times the
 * paired fraction of the minutiae in the overlap of each view, to the power
 * 0.75 per side. Views with little overlap count at least MIN_OVERLAP
 * minutiae, so a handful of pairs in a tiny overlap cannot score high. */
static double raw_score(int paired, int grown, int support, double evidence, int oa, int ob)
{
    double p = paired;
    if (p < 3)
        return 0;
    double na = oa > p ? oa : p, nb = ob > p ? ob : p;
    if (na < MIN_OVERLAP)
        na = MIN_OVERLAP;
    if (nb < MIN_OVERLAP)
        nb = MIN_OVERLAP;
    double extra = support - (grown - 1);
    if (extra < 0)
        extra = 0;
    return (evidence + 0.5 * extra) * pow((p / na) * (p / nb), 0.75);
}

/* ---- consolidation of the best pairing (pm_match_options_t) -------------------- */

/* Weight of one minutia by its quality (0 = not reported counts fully). */
static inline double qual_weight(double w, int q) { return q == 0 ? 1.0 : (1.0 - w) + w * q / 100.0; }

/* The paired minutiae of a (positions in a) and their residuals from the
 * rigid fit, contiguous so the weighting loop vectorises. */
typedef struct plist {
    int n;
    int idx[PM_MAX_MINUTIAE];
    float x[PM_MAX_MINUTIAE], y[PM_MAX_MINUTIAE], rx[PM_MAX_MINUTIAE], ry[PM_MAX_MINUTIAE];
} plist_t;

/* Local displacement at (xi, yi) of a: the paired minutiae's residuals
 * averaged with weights max(0, 1 - d^2 / (2 sigma)^2) of their distance d in
 * a, against a prior of weight 1/2 on no displacement (one close neighbour
 * moves the prediction two thirds of the way). self_rx/self_ry: the residual
 * of the minutia itself when it is paired (its own term, weight 1, is taken
 * out), else NULL. */
static void local_offset(const plist_t *p, float inv, float xi, float yi, const float *self_rx,
                         const float *self_ry, double *ox, double *oy)
{
    float sw = 0.5f, sx = 0, sy = 0;
    for (int t = 0; t < p->n; t++) {
        float dx = p->x[t] - xi, dy = p->y[t] - yi;
        float w = 1.0f - (dx * dx + dy * dy) * inv;
        w = w > 0 ? w : 0;
        sw += w;
        sx += w * p->rx[t];
        sy += w * p->ry[t];
    }
    if (self_rx) {
        sw -= 1.0f;
        sx -= *self_rx;
        sy -= *self_ry;
    }
    *ox = sx / sw;
    *oy = sy / sw;
}

/* Re-scores the best rigid pairing (in m->pa / m->pb) with the options:
 * with local_sigma, the pairing is extended once more with each minutia's
 * position corrected by its neighbours' displacement, and each pair's
 * evidence counts its residual from that local displacement instead of the
 * rigid one; with quality_weight, the minutiae in the overlap count by their
 * quality, so unpaired low-quality minutiae cost less than reliable ones. */
static void consolidate(pm_matcher_t *m, const pm_match_template_t *a, const pm_match_template_t *b,
                        double rot, double tx, double ty, int grown, pairing_t *pr, double *best,
                        int *out_oa, int *out_ob)
{
    const double sigma = m->opt.local_sigma, qw = m->opt.quality_weight;
    const double c = cos(rot), s = sin(rot);
    const int drot = (int)lround(-rot * 256.0 / (2 * M_PI));
    const float inv = sigma > 0 ? (float)(1.0 / (4.0 * sigma * sigma)) : 0;
    double ox[PM_MAX_MINUTIAE], oy[PM_MAX_MINUTIAE];
    double tax[PM_MAX_MINUTIAE], tay[PM_MAX_MINUTIAE];
    plist_t pl;
    pl.n = 0;
    for (int i = 0; i < a->n; i++) {
        tax[i] = c * a->x[i] - s * a->y[i] + tx;
        tay[i] = s * a->x[i] + c * a->y[i] + ty;
        int j = m->pa[i];
        if (j < 0)
            continue;
        pl.idx[pl.n] = i;
        pl.x[pl.n] = a->x[i];
        pl.y[pl.n] = a->y[i];
        pl.rx[pl.n] = (float)(b->x[j] - tax[i]);
        pl.ry[pl.n] = (float)(b->y[j] - tay[i]);
        pl.n++;
    }
    if (sigma > 0) {
        /* the unpaired minutiae's predicted positions, then one more extension */
        uint8_t was[PM_MAX_MINUTIAE];
        for (int i = 0; i < a->n; i++) {
            ox[i] = oy[i] = 0;
            was[i] = m->pa[i] >= 0;
            if (!was[i])
                local_offset(&pl, inv, a->x[i], a->y[i], NULL, NULL, &ox[i], &oy[i]);
        }
        int added = extend_pairing_off(m, a, b, rot, tx, ty, ox, oy);
        pr->paired += added;
        for (int i = 0; added && i < a->n; i++) {
            int j = m->pa[i];
            if (j < 0 || was[i])
                continue;
            pl.idx[pl.n] = i;
            pl.x[pl.n] = a->x[i];
            pl.y[pl.n] = a->y[i];
            pl.rx[pl.n] = (float)(b->x[j] - tax[i]);
            pl.ry[pl.n] = (float)(b->y[j] - tay[i]);
            pl.n++;
        }
    }
    const int np = pl.n;
    /* evidence: as pairing_evidence (ev[3]), with the residuals from the
     * local displacement (weighting each pair by its quality was tried and
     * lost accuracy, docs/match.md) */
    double cx = 0, cy = 0;
    for (int t = 0; t < np; t++) {
        cx += pl.x[t];
        cy += pl.y[t];
    }
    cx /= np;
    cy /= np;
    double ev = 0, wpa = 0, wpb = 0;
    for (int t = 0; t < np; t++) {
        int i = pl.idx[t], j = m->pa[i];
        double dx = pl.rx[t], dy = pl.ry[t];
        if (sigma > 0) {
            double lx, ly;
            local_offset(&pl, inv, pl.x[t], pl.y[t], &pl.rx[t], &pl.ry[t], &lx, &ly);
            dx -= lx;
            dy -= ly;
        }
        double r = sqrt((pl.x[t] - cx) * (pl.x[t] - cx) + (pl.y[t] - cy) * (pl.y[t] - cy));
        double tol = 12.0 + 0.1 * r;
        double q = 1.0 - (dx * dx + dy * dy) / (tol * tol);
        int da = (int8_t)(uint8_t)(b->dir[j] - (uint8_t)(a->dir[i] + drot));
        double qa = 1.0 - (double)(da * da) / (24.0 * 24.0);
        ev += (q > 0 ? q : 0) * (qa > 0 ? qa : 0);
        wpa += qual_weight(qw, a->qual[i]);
        wpb += qual_weight(qw, b->qual[j]);
    }
    /* overlap, counted and weighted */
    int oa = 0, ob = 0;
    double woa = 0, wob = 0;
    for (int i = 0; i < a->n; i++)
        if (in_mask(b, tax[i], tay[i])) {
            oa++;
            woa += qual_weight(qw, a->qual[i]);
        }
    for (int j = 0; j < b->n; j++) {
        double x = b->x[j] - tx, y = b->y[j] - ty;
        if (in_mask(a, c * x + s * y, -s * x + c * y)) {
            ob++;
            wob += qual_weight(qw, b->qual[j]);
        }
    }
    double p = pr->paired;
    double na = oa > p ? oa : p, nb = ob > p ? ob : p;
    if (na < MIN_OVERLAP)
        na = MIN_OVERLAP;
    if (nb < MIN_OVERLAP)
        nb = MIN_OVERLAP;
    double fa = p / na, fb = p / nb;
    if (qw > 0 && oa > 0 && ob > 0) {
        /* mean weight of the paired minutiae over that of the overlap's */
        double ka = (wpa / p) / (woa / oa), kb = (wpb / p) / (wob / ob);
        fa *= ka < 1 ? ka : 1;
        fb *= kb < 1 ? kb : 1;
    }
    double extra = pr->support - (grown - 1);
    if (extra < 0)
        extra = 0;
    *best = (ev + 0.5 * extra) * pow(fa * fb, 0.75);
    *out_oa = oa;
    *out_ob = ob;
}

double pm_match_compare(pm_matcher_t *m, const pm_match_template_t *a,
                        const pm_match_template_t *b, pm_match_result_t *out_result)
{
    pm_match_result_t res;
    memset(&res, 0, sizeof res);
    if (m)
        m->last_na = 0;
    if (!m || !a || !b || a->n < 3 || b->n < 3) {
        if (out_result)
            *out_result = res;
        return 0;
    }
    int na = a->n, nb = b->n;
    memset(m->votes, 0, (size_t)na * nb * sizeof m->votes[0]);
    uint16_t *votes = m->votes, *touched = m->touched;
    memset(m->features, 0, sizeof m->features);
    int ntouched = 0;
    /* Votes: each undirected edge of b (taken once, j < l) looked up in a's
     * hash, which holds both directions of a's edges; a match i->k ~ j->l
     * votes for the pairs (i, j) and (k, l), in the bucket's order (the
     * order pairs are first voted breaks ties between roots). */
    const pm__qedge_t *q = b->query, *q_end = b->query + b->nquery;
    if (!a->h_len)
        q_end = q; /* a prepared without its hash (pm_match_prepare_candidate) */
    for (; q < q_end; q++) {
        __builtin_prefetch(&a->bucket_start[q[4].key]); /* PM__QUERY_PAD spare entries */
        const unsigned s0 = a->bucket_start[q->key], n = a->bucket_start[q->key + 1] - s0;
        /* 16 entries at a time (buckets hold at most ~20): the first block is
         * tested even when the bucket is empty (the padding makes it safe),
         * which avoids a mispredicted branch on a third of the lookups */
        unsigned mask = pm__hash_block(a->h_len + s0, a->h_ai + s0, a->h_aj + s0, n, q);
        ntouched = vote(a, s0, mask, q, (unsigned)nb, votes, touched, ntouched);
        for (unsigned c = 16; __builtin_expect(c < n, 0); c += 16) {
            mask = pm__hash_block(a->h_len + s0 + c, a->h_ai + s0 + c, a->h_aj + s0 + c, n - c, q);
            ntouched = vote(a, s0 + c, mask, q, (unsigned)nb, votes, touched, ntouched);
        }
    }
    /* Roots: the best-voted pairs. */
    int roots[PM__MAX_ROOTS], nroots = 0;
    for (int t = 0; t < ntouched; t++) {
        int idx = m->touched[t];
        int v = m->votes[idx];
#ifndef PM__MIN_VOTES
#define PM__MIN_VOTES 1
#endif
        if (v < PM__MIN_VOTES)
            continue;
        if (nroots == PM__MAX_ROOTS && v <= m->votes[roots[nroots - 1]])
            continue;
        int p = nroots < PM__MAX_ROOTS ? nroots++ : nroots - 1;
        while (p > 0 && m->votes[roots[p - 1]] < v) {
            roots[p] = roots[p - 1];
            p--;
        }
        roots[p] = idx;
    }
/* Pairings of 3 minutiae are not aligned: with at least 10 minutiae per
 * overlap their raw score is at most 3 x 0.3^1.5 = 0.49 (FMR ~45%), a region
 * no decision threshold uses. */
#ifndef PM__MIN_ALIGN
#define PM__MIN_ALIGN 4
#endif
#ifndef PM__ROOT_KEEP
#define PM__ROOT_KEEP 3
#endif
#ifndef PM__ROOT_TYPE_VOTES
#define PM__ROOT_TYPE_VOTES 3
#endif
#ifndef PM__GROWN_SLACK
#define PM__GROWN_SLACK 2
#endif
    int best_grown = 0;
    double best = 0;
    pairing_t best_pr = {0};
    int best_grown_pr = 0;
    int best_oa = 0, best_ob = 0;
    double best_rot = 0, best_tx = 0, best_ty = 0;
    for (int r = 0; r < nroots; r++) {
        int idx = roots[r];
        if (m->votes[idx] == 0)
            continue; /* already inside an earlier pairing */
        int i0 = idx / nb, j0 = idx % nb;
        /* Beyond the first ROOT_KEEP roots, a weakly voted root (fewer than
         * ROOT_TYPE_VOTES votes) pairing an ending with a bifurcation is
         * not grown: types flip between impressions often enough that the
         * top roots must not care, but the tail of weak, type-mismatched
         * roots almost never yields the best pairing (measured: same EER and
         * FMR figures, 13-23% faster; skipping them among the top roots too
         * costs 0.3 point of mean EER). */
        if (r >= PM__ROOT_KEEP && a->type[i0] != b->type[j0] && m->votes[idx] < PM__ROOT_TYPE_VOTES)
            continue;
        pairing_t pr;
        grow(m, a, b, i0, j0, &pr); /* clears the votes of the pairs it makes */
        /* only pairings near the largest grown so far are worth aligning */
        if (pr.paired < PM__MIN_ALIGN || pr.paired + PM__GROWN_SLACK < best_grown)
            continue;
        if (pr.paired > best_grown)
            best_grown = pr.paired;
        double rot, tx, ty;
        int oa, ob;
        fit_rigid(m, a, b, &rot, &tx, &ty);
#ifndef PM__EXTEND
#define PM__EXTEND 1
#endif
        int grown = pr.paired;
#ifndef PM__EXT_MIN
#define PM__EXT_MIN 4
#endif
#ifndef PM__EXT_PASSES
#define PM__EXT_PASSES 1
#endif
        if (PM__EXTEND && pr.paired >= PM__EXT_MIN)
            for (int pass = 0; pass < PM__EXT_PASSES; pass++) {
                int added = extend_pairing(m, a, b, rot, tx, ty);
                pr.paired += added;
                if (!added)
                    break;
                if (pass + 1 < PM__EXT_PASSES)
                    fit_rigid(m, a, b, &rot, &tx, &ty);
            }
        /* Upper bound: every pair's evidence is at most 1 and each overlap
         * holds at least max(P, MIN_OVERLAP) minutiae; a pairing that cannot
         * beat the best so far needs no overlap or evidence. */
        if (raw_score(pr.paired, grown, pr.support, pr.paired, 0, 0) <= best)
            continue;
        overlap(a, b, rot, tx, ty, &oa, &ob);
        double ev[5];
        pairing_evidence(m, a, b, rot, tx, ty, ev);
        double s = raw_score(pr.paired, grown, pr.support, ev[3], oa, ob);
        if (s > best) {
            double *f = m->features;
            f[0] = pr.paired;
            f[1] = grown;
            f[2] = oa;
            f[3] = ob;
            f[4] = na;
            f[5] = nb;
            f[6] = pr.support;
            memcpy(f + 7, ev, sizeof ev);
            best = s;
            best_pr = pr;
            best_grown_pr = grown;
            for (int i = 0; i < na; i++)
                m->best_pa[i] = (uint8_t)(m->pa[i] >= 0 ? m->pa[i] : 0xff);
            best_oa = oa;
            best_ob = ob;
            best_rot = rot;
            best_tx = tx;
            best_ty = ty;
        }
    }
/* Consolidation only for pairings whose rigid raw score already reaches
 * FMR ~10% (raw 1.3 in the shipped table; the decision thresholds in use are
 * at FMR 1% and below): most impostor comparisons skip it, which keeps the
 * speed. A design constant, not tuned on the data. */
#ifndef PM__CONSOLIDATE_MIN_RAW
#define PM__CONSOLIDATE_MIN_RAW 1.3
#endif
    if ((m->opt.local_sigma > 0 || m->opt.quality_weight > 0) && best_pr.paired >= PM__MIN_ALIGN &&
        best >= PM__CONSOLIDATE_MIN_RAW) {
        /* consolidation of the best rigid pairing (docs/match.md) */
        for (int i = 0; i < na; i++)
            m->pa[i] = m->best_pa[i] == 0xff ? -1 : (int16_t)m->best_pa[i];
        memset(m->pb, 0xff, (size_t)nb * sizeof m->pb[0]);
        for (int i = 0; i < na; i++)
            if (m->pa[i] >= 0)
                m->pb[m->pa[i]] = (int16_t)i;
        consolidate(m, a, b, best_rot, best_tx, best_ty, best_grown_pr, &best_pr, &best, &best_oa,
                    &best_ob);
        /* the consolidated pairing is the one scored: keep it for pm_match_last_pairs */
        for (int i = 0; i < na; i++)
            m->best_pa[i] = (uint8_t)(m->pa[i] >= 0 ? m->pa[i] : 0xff);
    }
    if (best_pr.paired > 0)
        m->last_na = na;
    res.raw = best;
    res.score = pm_match_calibrate(best);
    res.paired = best_pr.paired;
    res.support = best_pr.support;
    res.overlap_a = best_oa;
    res.overlap_b = best_ob;
    res.rotation = -best_rot; /* counter-clockwise as displayed (minutiae.h) */
    res.dx = best_tx;
    res.dy = best_ty;
    if (out_result)
        *out_result = res;
    return res.score;
}

int pm_match_last_pairs(const pm_matcher_t *m, const pm_match_template_t *a,
                        const pm_match_template_t *b, pm_match_minutia_pair_t *out, int max)
{
    if (!m || !a || !b || m->last_na != a->n)
        return 0;
    int n = 0;
    for (int i = 0; i < a->n; i++) {
        int j = m->best_pa[i];
        if (j == 0xff || j >= b->n)
            continue;
        if (out && n < max) {
            out[n].a = a->src[i];
            out[n].b = b->src[j];
        }
        n++;
    }
    return n;
}
