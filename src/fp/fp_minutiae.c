/* fp: minutiae from the ridge skeleton.
 *
 * The skeleton is read as a graph: nodes are ridge endings (crossing number 1)
 * and junctions (crossing number >= 3, adjacent junction pixels merged), edges
 * are the ridge paths between them. Structural false minutiae are removed by
 * editing the skeleton and re-reading the graph (Maltoni et al., Handbook of
 * Fingerprint Recognition, ch. 3.8; Xiao & Raafat 1991): short spurs, short
 * isolated fragments, small holes (two short paths between the same
 * junctions) and bridges (short junction-to-junction paths across the ridge
 * flow). Then close opposing ending pairs (broken ridges), minutiae near the
 * print border, in low-coherence areas and in dense clusters are dropped.
 * Directions follow ISO 19794-2: an ending points from the end into its ridge,
 * a bifurcation points from the fork along the valley between its branches. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fp/fp_internal.h"

static const int ring_dx[8] = {0, 1, 1, 1, 0, -1, -1, -1};
static const int ring_dy[8] = {-1, -1, 0, 1, 1, 1, 0, -1};

enum { NODE_END = 1, NODE_JUNCTION = 2 };
#define MAX_NODE_EDGES 8

typedef struct node {
    float x, y;
    int type;
    int degree;
    int edges[MAX_NODE_EDGES];
    int removed;
} node_t;

typedef struct edge {
    int a, b;   /* node ids; b = -1 if the trace stopped without reaching a node */
    int off, n; /* path[off .. off+n): from a's pixel to b's pixel */
} edge_t;

typedef struct graph {
    int *node_of;  /* per pixel: node id or -1 */
    int *owner;    /* per pixel: edge id of an interior pixel or -1 */
    int *path;
    size_t path_cap, path_len;
    node_t *nodes;
    int nn, node_cap;
    edge_t *edges;
    int ne, edge_cap;
    int *queue;
} graph_t;

static int grow(void **arr, int *cap, size_t elem)
{
    int nc = *cap ? *cap * 2 : 256;
    void *p = realloc(*arr, elem * (size_t)nc);
    if (!p)
        return PM_ENOMEM;
    *arr = p;
    *cap = nc;
    return PM_OK;
}

static inline int ring_code(const uint8_t *im, int pw, int p)
{
    const uint8_t *r0 = im + p - pw, *r1 = im + p, *r2 = im + p + pw;
    return r0[0] | r0[1] << 1 | r1[1] << 2 | r2[1] << 3 | r2[0] << 4 | r2[-1] << 5 |
           r1[-1] << 6 | r0[-1] << 7;
}

/* Finds the nodes and traces every edge. */
static int build_graph(fp_work_t *wk, graph_t *g)
{
    const int pw = wk->pw, ph = wk->ph;
    const uint8_t *sk = wk->skel;
    const size_t np = (size_t)pw * ph;
    g->nn = g->ne = 0;
    g->path_len = 0;
    for (size_t i = 0; i < np; i++) {
        g->node_of[i] = -1;
        g->owner[i] = -1;
    }
    /* classify */
    for (int y = 1; y < ph - 1; y++)
        for (int x = 1; x < pw - 1; x++) {
            int p = y * pw + x;
            if (!sk[p])
                continue;
            int c = ring_code(sk, pw, p);
            int cn = wk->ex->ring_crossings[c];
            if (cn == 1 || cn >= 3)
                g->node_of[p] = -2 - (cn >= 3); /* -2 end, -3 junction (unlabelled) */
        }
    /* label: ends are single nodes, junction pixels merge 8-connected */
    for (int p = 0; p < (int)np; p++) {
        if (g->node_of[p] > -2)
            continue;
        if (g->nn == g->node_cap && grow((void **)&g->nodes, &g->node_cap, sizeof(node_t)))
            return PM_ENOMEM;
        int id = g->nn++;
        node_t *nd = &g->nodes[id];
        memset(nd, 0, sizeof *nd);
        nd->type = g->node_of[p] == -2 ? NODE_END : NODE_JUNCTION;
        if (nd->type == NODE_END) {
            g->node_of[p] = id;
            nd->x = (float)(p % pw);
            nd->y = (float)(p / pw);
            continue;
        }
        int qh = 0, qt = 0;
        g->queue[qt++] = p;
        g->node_of[p] = id;
        float sx = 0, sy = 0;
        while (qh < qt) {
            int q = g->queue[qh++];
            sx += (float)(q % pw);
            sy += (float)(q / pw);
            for (int k = 0; k < 8; k++) {
                int r = q + ring_dy[k] * pw + ring_dx[k];
                if (g->node_of[r] == -3) {
                    g->node_of[r] = id;
                    g->queue[qt++] = r;
                }
            }
        }
        nd->x = sx / (float)qt;
        nd->y = sy / (float)qt;
    }
    /* trace edges from every node pixel */
    for (int p = 0; p < (int)np; p++) {
        int a = g->node_of[p];
        if (a < 0)
            continue;
        for (int k = 0; k < 8; k++) {
            int r = p + ring_dy[k] * pw + ring_dx[k];
            if (!sk[r] || g->node_of[r] == a)
                continue;
            if (g->owner[r] >= 0)
                continue; /* already traced from the other end */
            int b = g->node_of[r];
            if (b >= 0 && b < a)
                continue; /* direct node-node link: record once */
            if (b >= 0 && b == a)
                continue;
            /* a direct link between the same pair may exist via several pixels */
            if (b >= 0) {
                int dup = 0;
                for (int e = 0; e < g->nodes[a].degree && e < MAX_NODE_EDGES; e++) {
                    const edge_t *ed = &g->edges[g->nodes[a].edges[e]];
                    if (ed->n == 2 && ((ed->a == a && ed->b == b) || (ed->a == b && ed->b == a)))
                        dup = 1;
                }
                if (dup)
                    continue;
            }
            if (g->ne == g->edge_cap && grow((void **)&g->edges, &g->edge_cap, sizeof(edge_t)))
                return PM_ENOMEM;
            int eid = g->ne;
            if (g->path_len + 4 > g->path_cap)
                return PM_ELIMIT;
            edge_t *ed = &g->edges[eid];
            ed->a = a;
            ed->b = -1;
            ed->off = (int)g->path_len;
            g->path[g->path_len++] = p;
            int prev = p, cur = r;
            for (;;) {
                if (g->path_len + 2 > g->path_cap)
                    return PM_ELIMIT;
                g->path[g->path_len++] = cur;
                int nb = g->node_of[cur];
                if (nb >= 0) {
                    ed->b = nb;
                    break;
                }
                g->owner[cur] = eid;
                /* next pixel: a node first, then 4-neighbours, then diagonals */
                int next = -1, best = 99;
                for (int j = 0; j < 8; j++) {
                    int q = cur + ring_dy[j] * pw + ring_dx[j];
                    if (!sk[q] || q == prev || g->owner[q] == eid)
                        continue;
                    int rank = g->node_of[q] >= 0 ? 0 : (j & 1) ? 2 : 1;
                    if (g->node_of[q] < 0) {
                        /* never into another edge; sideways onto a pixel next
                         * to where we came from (a corner short-cut) only when
                         * nothing else continues the ridge */
                        if (g->owner[q] >= 0)
                            continue;
                        int ddx = q % pw - prev % pw, ddy = q / pw - prev / pw;
                        if (ddx >= -1 && ddx <= 1 && ddy >= -1 && ddy <= 1)
                            rank = 3;
                    }
                    if (g->node_of[q] == a && q == p)
                        continue;
                    if (g->node_of[q] >= 0 && prev == p && g->node_of[q] == a)
                        continue; /* do not turn straight back into the start node */
                    if (rank < best) {
                        best = rank;
                        next = q;
                    }
                }
                if (next < 0)
                    break;
                prev = cur;
                cur = next;
            }
            ed->n = (int)g->path_len - ed->off;
            g->ne++;
            node_t *na = &g->nodes[a];
            if (na->degree < MAX_NODE_EDGES)
                na->edges[na->degree] = eid;
            na->degree++;
            if (ed->b >= 0) {
                node_t *nb = &g->nodes[ed->b];
                if (nb->degree < MAX_NODE_EDGES)
                    nb->edges[nb->degree] = eid;
                nb->degree++;
            }
        }
    }
    return PM_OK;
}

static void erase_interior(fp_work_t *wk, const graph_t *g, const edge_t *ed, int keep_a,
                           int keep_b)
{
    for (int i = 0; i < ed->n; i++) {
        int p = g->path[ed->off + i];
        int nd = g->node_of[p];
        if (nd >= 0) {
            if ((nd == ed->a && keep_a) || (nd == ed->b && keep_b))
                continue;
            if (g->nodes[nd].type == NODE_JUNCTION)
                continue; /* never erase a junction pixel of another branch */
        }
        wk->skel[p] = 0;
    }
}

static float local_period(const fp_work_t *wk, float x, float y)
{
    int cx = fp_clampi((int)(x / FP_CELL), 0, wk->bw - 1);
    int cy = fp_clampi((int)(y / FP_CELL), 0, wk->bh - 1);
    float p = wk->period[(size_t)cy * wk->bw + cx];
    return p > 0 ? p : 9.f;
}

static float local_orient(const fp_work_t *wk, float x, float y)
{
    int cx = fp_clampi((int)(x / FP_CELL), 0, wk->bw - 1);
    int cy = fp_clampi((int)(y / FP_CELL), 0, wk->bh - 1);
    return wk->orient[(size_t)cy * wk->bw + cx];
}

/* One pass of structural clean-up; returns the number of edits. */
static int clean_pass(fp_work_t *wk, graph_t *g)
{
    int edits = 0;
    for (int e = 0; e < g->ne; e++) {
        const edge_t *ed = &g->edges[e];
        if (ed->b < 0)
            continue;
        node_t *na = &g->nodes[ed->a], *nb = &g->nodes[ed->b];
        if (na->removed || nb->removed)
            continue;
        float per = local_period(wk, na->x, na->y);
        int len = ed->n;
        if (na->type == NODE_END && nb->type == NODE_END) {
            if (len < 1.6f * per) { /* short isolated fragment */
                erase_interior(wk, g, ed, 0, 0);
                na->removed = nb->removed = 1;
                edits++;
            }
        } else if (na->type != nb->type) {
            node_t *end = na->type == NODE_END ? na : nb;
            if (len < 0.9f * per) { /* spur */
                erase_interior(wk, g, ed, na->type == NODE_JUNCTION, nb->type == NODE_JUNCTION);
                end->removed = 1;
                edits++;
            }
        } else if (ed->a != ed->b) {
            /* junction - junction: bridge across the flow, or part of a small hole */
            float dx = nb->x - na->x, dy = nb->y - na->y;
            float chord = sqrtf(dx * dx + dy * dy);
            float th = local_orient(wk, 0.5f * (na->x + nb->x), 0.5f * (na->y + nb->y));
            float along = chord > 0 ? fabsf(dx * cosf(th) + dy * sinf(th)) / chord : 1.f;
            int hole = 0;
            for (int j = 0; j < na->degree && j < MAX_NODE_EDGES; j++) {
                int e2 = na->edges[j];
                if (e2 == e)
                    continue;
                const edge_t *o = &g->edges[e2];
                if (((o->a == ed->a && o->b == ed->b) || (o->a == ed->b && o->b == ed->a)) &&
                    o->n + len < 5.f * per && o->n >= len)
                    hole = 1;
            }
            if (hole || (len < 1.5f * per && along < 0.7f)) {
                erase_interior(wk, g, ed, 1, 1);
                na->removed = nb->removed = 1;
                edits++;
            }
        } else if (len < 4.f * per) {
            /* small loop on one junction (a pore or a dot touching a ridge) */
            erase_interior(wk, g, ed, 1, 1);
            na->removed = 1;
            edits++;
        }
    }
    return edits;
}

/* Direction (unit vector) of the path of edge e seen from node side `from_a`,
 * using the pixel about `dist` pixels along. */
static void edge_dir(const graph_t *g, const edge_t *ed, int from_a, int pw, float dist,
                     float *ux, float *uy)
{
    int n = ed->n;
    int k = (int)dist < n - 1 ? (int)dist : n - 1;
    int p0 = from_a ? g->path[ed->off] : g->path[ed->off + n - 1];
    int pk = from_a ? g->path[ed->off + k] : g->path[ed->off + n - 1 - k];
    float dx = (float)(pk % pw - p0 % pw), dy = (float)(pk / pw - p0 / pw);
    float l = sqrtf(dx * dx + dy * dy);
    if (l < 1e-3f) {
        *ux = 1;
        *uy = 0;
        return;
    }
    *ux = dx / l;
    *uy = dy / l;
}

typedef struct cand {
    float x, y;
    float ux, uy; /* ISO direction, image coordinates */
    int type;
    float quality;
    int drop;
} cand_t;

/* Snap the traced direction to the smoothed orientation field when they agree. */
static void refine_dir(const fp_work_t *wk, cand_t *c)
{
    float th = local_orient(wk, c->x, c->y);
    float fx = cosf(th), fy = sinf(th);
    float dot = fx * c->ux + fy * c->uy;
    if (dot < 0) {
        fx = -fx;
        fy = -fy;
        dot = -dot;
    }
    if (dot > 0.6f) { /* within ~53 degrees */
        float mx = c->ux + 2.f * fx, my = c->uy + 2.f * fy;
        float l = sqrtf(mx * mx + my * my);
        c->ux = mx / l;
        c->uy = my / l;
    }
}

static int collect(fp_work_t *wk, graph_t *g, cand_t *cands, int cap)
{
    int nc = 0;
    const int pw = wk->pw;
    for (int i = 0; i < g->nn && nc < cap; i++) {
        node_t *nd = &g->nodes[i];
        if (nd->removed)
            continue;
        float per = local_period(wk, nd->x, nd->y);
        float dist = fp_clampf(1.2f * per, 8.f, 20.f);
        cand_t c = {.x = nd->x, .y = nd->y};
        if (nd->type == NODE_END && nd->degree == 1) {
            const edge_t *ed = &g->edges[nd->edges[0]];
            if (ed->n < 3)
                continue;
            edge_dir(g, ed, ed->a == i, pw, dist, &c.ux, &c.uy);
            c.type = PM_MINUTIA_ENDING;
        } else if (nd->type == NODE_JUNCTION && nd->degree == 3) {
            float vx[3], vy[3];
            for (int j = 0; j < 3; j++) {
                const edge_t *ed = &g->edges[nd->edges[j]];
                if (ed->a == ed->b)
                    goto skip;
                edge_dir(g, ed, ed->a == i, pw, dist, &vx[j], &vy[j]);
            }
            /* the two branches closest in angle are the fork; the third the stem */
            int stem = 0;
            float bestdot = -2;
            for (int j = 0; j < 3; j++) {
                int a = (j + 1) % 3, b = (j + 2) % 3;
                float d = vx[a] * vx[b] + vy[a] * vy[b];
                if (d > bestdot) {
                    bestdot = d;
                    stem = j;
                }
            }
            c.ux = -vx[stem];
            c.uy = -vy[stem];
            c.type = PM_MINUTIA_BIFURCATION;
        } else {
            continue;
        }
        refine_dir(wk, &c);
        cands[nc++] = c;
    skip:;
    }
    return nc;
}

/* The edge of the print area at 2-pixel resolution.
 *
 * The cell mask (segment() in fp_field.c) decides from gradient energy over a
 * 3x3-cell window, so it reaches one to two cells (8-16 px) beyond the last
 * ridge: where a sensor's sensing area is narrower than its image, the mask
 * runs past the area's straight border and every ridge cut there ends well
 * inside it, a column of false endings. In the mask's outer ring (cells
 * within EDGE_RING cells of its boundary) a 2 x 2 pixel bin belongs to the
 * print only where the grey image varies: the standard deviation over the
 * 8 x 8 pixels around it above EDGE_SHARE of the median inside the mask
 * (sampled once per cell). Only the few minutiae in the ring look at it, so
 * it is computed around them, not as a map. */
#define EDGE_RING 3      /* cells of the mask's outer ring that are refined */
#define EDGE_SHARE 0.15f /* of the median deviation inside the mask */
#define EDGE_BIN 2       /* pixels per bin side */
#define EDGE_WIN 8       /* deviation window side (pixels) */

typedef struct edge_ctx {
    float thr; /* deviation below which a ring bin is outside the print */
} edge_ctx_t;

/* Grey standard deviation over the EDGE_WIN^2 pixels centred on the corner
 * (x, y) (clipped to the image). */
static float grey_deviation(const fp_work_t *wk, int x, int y)
{
    int x0 = x - EDGE_WIN / 2, y0 = y - EDGE_WIN / 2;
    int x1 = x0 + EDGE_WIN, y1 = y0 + EDGE_WIN;
    x0 = x0 < 0 ? 0 : x0;
    y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > wk->w ? wk->w : x1;
    y1 = y1 > wk->h ? wk->h : y1;
    if (x1 <= x0 || y1 <= y0)
        return 0.f;
    float s = 0.f, s2 = 0.f;
    for (int yy = y0; yy < y1; yy++) {
        const float *row = wk->img + (size_t)yy * wk->pw;
        for (int xx = x0; xx < x1; xx++) {
            s += row[xx];
            s2 += row[xx] * row[xx];
        }
    }
    float n = (float)((x1 - x0) * (y1 - y0)), m = s / n, v = s2 / n - m * m;
    return v > 0.f ? sqrtf(v) : 0.f;
}

static void edge_init(const fp_work_t *wk, edge_ctx_t *e)
{
    uint32_t hist[256] = {0}, hn = 0;
    for (int cy = 0; cy < wk->bh; cy++)
        for (int cx = 0; cx < wk->bw; cx++)
            if (wk->mask[(size_t)cy * wk->bw + cx]) {
                float sd = grey_deviation(wk, cx * FP_CELL + FP_CELL / 2, cy * FP_CELL + FP_CELL / 2);
                hist[fp_clampi((int)sd, 0, 255)]++;
                hn++;
            }
    e->thr = 0.f;
    for (uint32_t k = 0, acc = 0; k < 256 && hn; k++) {
        acc += hist[k];
        if (2 * acc >= hn) {
            e->thr = EDGE_SHARE * (float)k;
            break;
        }
    }
}

static int in_ring(const fp_work_t *wk, int cx, int cy)
{
    for (int dy = -EDGE_RING; dy <= EDGE_RING; dy++)
        for (int dx = -EDGE_RING; dx <= EDGE_RING; dx++) {
            int x = cx + dx, y = cy + dy;
            if (x < 0 || y < 0 || x >= wk->bw || y >= wk->bh || !wk->mask[(size_t)y * wk->bw + x])
                return 1;
        }
    return 0;
}

/* Distance from (x, y) to the nearest ring bin outside the refined print
 * area, if below cap; else cap. */
static float refined_edge_distance(const fp_work_t *wk, const edge_ctx_t *e, float x, float y,
                                   float cap)
{
    int cx = fp_clampi((int)(x / FP_CELL), 0, wk->bw - 1), cy = fp_clampi((int)(y / FP_CELL), 0, wk->bh - 1);
    if (cap <= 0.f || !wk->mask[(size_t)cy * wk->bw + cx] || !in_ring(wk, cx, cy))
        return cap;
    float best = cap;
    int r = (int)(cap / EDGE_BIN) + 1;
    int gx0 = (int)(x / EDGE_BIN), gy0 = (int)(y / EDGE_BIN);
    for (int gy = gy0 - r; gy <= gy0 + r; gy++)
        for (int gx = gx0 - r; gx <= gx0 + r; gx++) {
            float bx = (float)(gx * EDGE_BIN) + 0.5f, by = (float)(gy * EDGE_BIN) + 0.5f;
            float dx = bx - x, dy = by - y, d2 = dx * dx + dy * dy;
            if (d2 >= best * best || bx < 0 || by < 0 || bx >= (float)wk->w || by >= (float)wk->h)
                continue;
            int bcx = (gx * EDGE_BIN) / FP_CELL, bcy = (gy * EDGE_BIN) / FP_CELL;
            /* cells outside the mask are measured by the cell distance */
            if (!wk->mask[(size_t)bcy * wk->bw + bcx])
                continue;
            if (grey_deviation(wk, gx * EDGE_BIN + 1, gy * EDGE_BIN + 1) <= e->thr)
                best = sqrtf(d2);
        }
    return best;
}

/* Distance in pixels from (x, y) to the nearest pixel outside the print
 * area's cells or the image, up to cap. */
static float border_distance(const fp_work_t *wk, float x, float y, float cap)
{
    /* the image edge counts nearer than it is: within a filter radius of it
     * the enhancement sees replicated pixels, and ridges cut by the edge end
     * there */
    float best = fminf(fminf(x, y), fminf((float)(wk->w - 1) - x, (float)(wk->h - 1) - y)) -
                 4.f;
    if (best < 0)
        return 0;
    if (best > cap)
        best = cap;
    int r = (int)(best / FP_CELL) + 1;
    int cx = (int)(x / FP_CELL), cy = (int)(y / FP_CELL);
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++) {
            int bx = cx + dx, by = cy + dy;
            if (bx < 0 || by < 0 || bx >= wk->bw || by >= wk->bh ||
                wk->mask[(size_t)by * wk->bw + bx])
                continue;
            float x0 = (float)(bx * FP_CELL), x1 = x0 + FP_CELL - 1;
            float y0 = (float)(by * FP_CELL), y1 = y0 + FP_CELL - 1;
            float ex = x < x0 ? x0 - x : x > x1 ? x - x1 : 0.f;
            float ey = y < y0 ? y0 - y : y > y1 ? y - y1 : 0.f;
            float d = sqrtf(ex * ex + ey * ey);
            if (d < best)
                best = d;
        }
    return best;
}

static void filter(fp_work_t *wk, const edge_ctx_t *edge, cand_t *c, int nc)
{
    /* broken ridges: two endings facing each other across a short gap */
    for (int i = 0; i < nc; i++) {
        if (c[i].type != PM_MINUTIA_ENDING)
            continue;
        for (int j = i + 1; j < nc; j++) {
            if (c[j].type != PM_MINUTIA_ENDING)
                continue;
            float dx = c[j].x - c[i].x, dy = c[j].y - c[i].y;
            float d2 = dx * dx + dy * dy;
            float per = local_period(wk, c[i].x, c[i].y);
            if (d2 > (1.5f * per) * (1.5f * per) || d2 < 1e-6f)
                continue;
            float d = sqrtf(d2);
            float vx = dx / d, vy = dy / d;
            /* ISO ending direction points into the ridge: facing means the gap
             * lies behind each ending */
            float fi = -(c[i].ux * vx + c[i].uy * vy);
            float fj = c[j].ux * vx + c[j].uy * vy;
            float opp = -(c[i].ux * c[j].ux + c[i].uy * c[j].uy);
            if ((fi > 0.7f && fj > 0.7f && opp > 0.7f) || d < 0.6f * per) {
                c[i].drop = c[j].drop = 1;
            }
        }
    }
    /* border and quality */
    for (int i = 0; i < nc; i++) {
        int cx = fp_clampi((int)(c[i].x / FP_CELL), 0, wk->bw - 1);
        int cy = fp_clampi((int)(c[i].y / FP_CELL), 0, wk->bh - 1);
        size_t ci = (size_t)cy * wk->bw + cx;
        /* a ridge cut by the edge of the sensing area leaves an ending: the
         * refined edge decides for endings, the cell mask for bifurcations */
        float bdist = border_distance(wk, c[i].x, c[i].y, 40.f);
        const float margin = wk->ex->params.border_margin;
        /* a ridge cut by the edge of the sensing area leaves an ending: for
         * endings the refined edge counts too */
        if (c[i].type == PM_MINUTIA_ENDING && bdist >= margin)
            bdist = fminf(bdist, refined_edge_distance(wk, edge, c[i].x, c[i].y, margin));
        if (bdist < margin) {
            c[i].drop = 1;
            continue;
        }
        float coh = wk->coh[ci];
        if (coh < 0.15f) {
            c[i].drop = 1;
            continue;
        }
        float q = fp_clampf((coh - 0.15f) / 0.6f, 0.f, 1.f);
        q *= fp_clampf(0.4f + bdist / 40.f, 0.f, 1.f);
        c[i].quality = 100.f * fp_clampf(q, 0.01f, 1.f);
    }
    /* clusters: two or more others within 1.2 periods (marked, then dropped
     * together so the order of the scan does not matter) */
    for (int i = 0; i < nc; i++) {
        if (c[i].drop)
            continue;
        float per = local_period(wk, c[i].x, c[i].y);
        float r2 = (1.2f * per) * (1.2f * per);
        int near = 0;
        for (int j = 0; j < nc; j++) {
            if (j == i || c[j].drop == 1)
                continue;
            float dx = c[j].x - c[i].x, dy = c[j].y - c[i].y;
            if (dx * dx + dy * dy < r2)
                near++;
        }
        if (near >= 2)
            c[i].drop = 2;
    }
    for (int i = 0; i < nc; i++)
        if (c[i].drop == 2)
            c[i].drop = 1;
}

static int cmp_quality(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    return (x->quality < y->quality) - (x->quality > y->quality);
}

int pm__fp_minutiae(fp_work_t *wk, pm_fingerprint_t *out, pm_error_t *err)
{
    const size_t np = (size_t)wk->pw * wk->ph;
    size_t sk_count = 0;
    for (size_t i = 0; i < np; i++)
        sk_count += wk->skel[i];
    graph_t g;
    memset(&g, 0, sizeof g);
    g.node_of = malloc(sizeof(int) * np * 3);
    g.path_cap = sk_count * 2 + 4096;
    g.path = malloc(sizeof(int) * g.path_cap);
    cand_t *cands = NULL;
    int rc = PM_OK;
    if (!g.node_of || !g.path) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory for minutiae detection");
        goto done;
    }
    g.owner = g.node_of + np;
    g.queue = g.node_of + 2 * np;
    for (int pass = 0; pass < 4; pass++) {
        rc = build_graph(wk, &g);
        if (rc != PM_OK) {
            rc = pm_error_set(err, rc, "skeleton graph too large");
            goto done;
        }
        if (pass == 3 || !clean_pass(wk, &g))
            break;
    }
    cands = malloc(sizeof(cand_t) * (size_t)(g.nn + 1));
    if (!cands) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory for minutiae");
        goto done;
    }
    int nc = collect(wk, &g, cands, g.nn);
    edge_ctx_t edge;
    edge_init(wk, &edge);
    filter(wk, &edge, cands, nc);
    int k = 0;
    for (int i = 0; i < nc; i++)
        if (!cands[i].drop)
            cands[k++] = cands[i];
    nc = k;
    qsort(cands, (size_t)nc, sizeof(cand_t), cmp_quality);
    if (nc > PM_MAX_MINUTIAE)
        nc = PM_MAX_MINUTIAE;
    out->count = 0;
    for (int i = 0; i < nc; i++) {
        pm_minutia_t *m = &out->minutiae[out->count++];
        m->x = cands[i].x;
        m->y = cands[i].y;
        float a = atan2f(-cands[i].uy, cands[i].ux);
        if (a < 0)
            a += 2 * FP_PI;
        if (a >= 2 * FP_PI)
            a -= 2 * FP_PI;
        m->angle = a;
        m->type = (uint8_t)cands[i].type;
        m->quality = (uint8_t)fp_clampi((int)lrintf(cands[i].quality), 1, 100);
    }
done:
    free(cands);
    free(g.node_of);
    free(g.path);
    free(g.nodes);
    free(g.edges);
    return rc;
}
