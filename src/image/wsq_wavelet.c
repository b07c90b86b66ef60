/* Perimeter WSQ: the separable symmetric wavelet transform over the fixed
 * tree (analysis for the encoder, synthesis for the decoder).
 *
 * Bit-exactness of the synthesis: every output sample is accumulated in a
 * single-precision float, starting with the low-band products and then the
 * high-band products, each group in ascending order of its source index; each
 * product is rounded to float before it is added (no fused multiply-add).
 * Columns are synthesised before rows at every node, and the nodes are
 * undone from the deepest (19) to the image (0). docs/wsq.md explains why. */
#include "image/wsq_internal.h"

#include <stdlib.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Four-float vectors (GCC/Clang vector extensions: SSE on x86-64, NEON on
 * ARM). Lane-wise IEEE single-precision arithmetic, so a lane computes
 * exactly what the scalar code computes, in the same order. */
typedef float v4f __attribute__((vector_size(16)));

static inline v4f ld4(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void st4(float *p, v4f v)
{
    memcpy(p, &v, sizeof v);
}

static inline v4f splat(float c)
{
    return (v4f){c, c, c, c};
}

/* Symmetric extension: maps a virtual index j to a real one in [0, len).
 * half_* selects half-sample symmetry at that end (the boundary sample
 * repeats), otherwise whole-sample (it does not). */
static int fold(int j, int len, int half_left, int half_right)
{
    if (len <= 1) return 0;
    while (j < 0 || j >= len) {
        if (j < 0)
            j = half_left ? -j - 1 : -j;
        else
            j = half_right ? 2 * len - 1 - j : 2 * (len - 1) - j;
    }
    return j;
}

typedef struct synth {
    int l0, h0; /* low-band synthesis filter length and half length */
    int l1, h1; /* high-band synthesis filter */
    float g0[PM__WSQ_MAX_TAPS];
    float g1[PM__WSQ_MAX_TAPS];
} synth_t;

/* Synthesis filters are the analysis filters of the other band, modulated by
 * (-1)^k from their centre. */
static void make_synth(const pm__wsq_filters_t *f, synth_t *s)
{
    s->l0 = f->hi_len;
    s->h0 = (f->hi_len - 1) / 2;
    s->l1 = f->lo_len;
    s->h1 = (f->lo_len - 1) / 2;
    for (int k = -s->h0; k <= s->h0; k++)
        s->g0[s->h0 + k] = (k & 1) ? -f->hi[s->h0 + k] : f->hi[s->h0 + k];
    for (int k = -s->h1; k <= s->h1; k++)
        s->g1[s->h1 + k] = (k & 1) ? -f->lo[s->h1 + k] : f->lo[s->h1 + k];
}

static int floor_div2(int a)
{
    return a >= 0 ? a / 2 : -((-a + 1) / 2);
}

/* The band layout of one line of n samples. */
typedef struct layout {
    int n, llen, hlen, lo_off, hi_off;
    int lo_half_right, hi_half_right;
} layout_t;

static layout_t make_layout(int n, int inv)
{
    layout_t l;
    l.n = n;
    l.llen = (n + 1) / 2;
    l.hlen = n / 2;
    l.lo_off = inv ? l.hlen : 0;
    l.hi_off = inv ? 0 : l.llen;
    /* low band: whole-sample at the left; at the right whole when n is odd.
     * high band: half-sample at the left; at the right half when n is odd. */
    l.lo_half_right = (n % 2 == 0);
    l.hi_half_right = (n % 2 == 1);
    return l;
}

/* ---------------------------------------------------------------- synthesis */

/* Vertical synthesis of a w x h block: src rows (stride sstride) to dst rows
 * (stride dstride). Each output row is one pass over x with all its taps. */
static void synth_columns(const float *src, size_t sstride, float *dst, size_t dstride, int w,
                          int h, int inv, const synth_t *s)
{
    layout_t l = make_layout(h, inv);
    const float *rows[2 * PM__WSQ_MAX_TAPS];
    v4f cv[2 * PM__WSQ_MAX_TAPS];
    float cs[2 * PM__WSQ_MAX_TAPS];
    for (int k = 0; k < h; k++) {
        int nt = 0;
        int j0 = -floor_div2(-(k - s->h0)), j1 = floor_div2(k + s->h0);
        for (int j = j0; j <= j1; j++, nt++) {
            rows[nt] = src + (size_t)(l.lo_off + fold(j, l.llen, 0, l.lo_half_right)) * sstride;
            cs[nt] = s->g0[s->h0 + 2 * j - k];
        }
        if (l.hlen > 0) {
            j0 = -floor_div2(-(k - 1 - s->h1));
            j1 = floor_div2(k - 1 + s->h1);
            for (int j = j0; j <= j1; j++, nt++) {
                rows[nt] = src + (size_t)(l.hi_off + fold(j, l.hlen, 1, l.hi_half_right)) * sstride;
                cs[nt] = s->g1[s->h1 + 2 * j - (k - 1)];
            }
        }
        for (int i = 0; i < nt; i++)
            cv[i] = splat(cs[i]);
        float *out = dst + (size_t)k * dstride;
        int x = 0;
        for (; x + 8 <= w; x += 8) {
            v4f a = ld4(rows[0] + x) * cv[0];
            v4f b = ld4(rows[0] + x + 4) * cv[0];
            for (int i = 1; i < nt; i++) {
                a += ld4(rows[i] + x) * cv[i];
                b += ld4(rows[i] + x + 4) * cv[i];
            }
            st4(out + x, a);
            st4(out + x + 4, b);
        }
        for (; x < w; x++) {
            float acc = rows[0][x] * cs[0];
            for (int i = 1; i < nt; i++)
                acc += rows[i][x] * cs[i];
            out[x] = acc;
        }
    }
}

/* Horizontal synthesis of one row of n samples (src) into dst; ext is scratch
 * of at least n + 4 * PM__WSQ_MAX_TAPS floats. */
static void synth_row(const float *src, float *dst, int n, int inv, const synth_t *s, float *ext)
{
    layout_t l = make_layout(n, inv);
    int m = PM__WSQ_MAX_TAPS / 2 + 1; /* margin in band samples */
    float *lo = ext + m;
    float *hi = ext + 3 * m + l.llen;
    memcpy(lo, src + l.lo_off, (size_t)l.llen * sizeof(float));
    for (int j = 1; j <= m; j++) {
        lo[-j] = src[l.lo_off + fold(-j, l.llen, 0, l.lo_half_right)];
        lo[l.llen - 1 + j] = src[l.lo_off + fold(l.llen - 1 + j, l.llen, 0, l.lo_half_right)];
    }
    if (l.hlen > 0) {
        memcpy(hi, src + l.hi_off, (size_t)l.hlen * sizeof(float));
        for (int j = 1; j <= m; j++) {
            hi[-j] = src[l.hi_off + fold(-j, l.hlen, 1, l.hi_half_right)];
            hi[l.hlen - 1 + j] = src[l.hi_off + fold(l.hlen - 1 + j, l.hlen, 1, l.hi_half_right)];
        }
    }
    if (s->l0 == 7 && s->l1 == 9 && l.hlen > 0) {
        /* Four output pairs at a time; lanes follow the scalar order below. */
        const v4f va1 = splat(s->g0[1]), va3 = splat(s->g0[3]), va5 = splat(s->g0[5]);
        const v4f va0 = splat(s->g0[0]), va2 = splat(s->g0[2]), va4 = splat(s->g0[4]),
                  va6 = splat(s->g0[6]);
        const v4f vb0 = splat(s->g1[0]), vb2 = splat(s->g1[2]), vb4 = splat(s->g1[4]),
                  vb6 = splat(s->g1[6]), vb8 = splat(s->g1[8]);
        const v4f vb1 = splat(s->g1[1]), vb3 = splat(s->g1[3]), vb5 = splat(s->g1[5]),
                  vb7 = splat(s->g1[7]);
        int pairs = n / 2, t = 0;
        for (; t + 4 <= pairs; t += 4) {
            v4f lm1 = ld4(lo + t - 1), l0 = ld4(lo + t), l1 = ld4(lo + t + 1), l2 = ld4(lo + t + 2);
            v4f hm2 = ld4(hi + t - 2), hm1 = ld4(hi + t - 1), h0 = ld4(hi + t),
                h1 = ld4(hi + t + 1), h2 = ld4(hi + t + 2);
            v4f e = lm1 * va1;
            e += l0 * va3;
            e += l1 * va5;
            e += hm2 * vb1;
            e += hm1 * vb3;
            e += h0 * vb5;
            e += h1 * vb7;
            v4f o = lm1 * va0;
            o += l0 * va2;
            o += l1 * va4;
            o += l2 * va6;
            o += hm2 * vb0;
            o += hm1 * vb2;
            o += h0 * vb4;
            o += h1 * vb6;
            o += h2 * vb8;
            float *d = dst + 2 * t;
            d[0] = e[0];
            d[1] = o[0];
            d[2] = e[1];
            d[3] = o[1];
            d[4] = e[2];
            d[5] = o[2];
            d[6] = e[3];
            d[7] = o[3];
        }
        const float a1 = s->g0[1], a3 = s->g0[3], a5 = s->g0[5];
        const float a0 = s->g0[0], a2 = s->g0[2], a4 = s->g0[4], a6 = s->g0[6];
        const float b0 = s->g1[0], b2 = s->g1[2], b4 = s->g1[4], b6 = s->g1[6], b8 = s->g1[8];
        const float b1 = s->g1[1], b3 = s->g1[3], b5 = s->g1[5], b7 = s->g1[7];
        for (; 2 * t < n; t++) {
            float acc = lo[t - 1] * a1;
            acc += lo[t] * a3;
            acc += lo[t + 1] * a5;
            acc += hi[t - 2] * b1;
            acc += hi[t - 1] * b3;
            acc += hi[t] * b5;
            acc += hi[t + 1] * b7;
            dst[2 * t] = acc;
            if (2 * t + 1 >= n) break;
            acc = lo[t - 1] * a0;
            acc += lo[t] * a2;
            acc += lo[t + 1] * a4;
            acc += lo[t + 2] * a6;
            acc += hi[t - 2] * b0;
            acc += hi[t - 1] * b2;
            acc += hi[t] * b4;
            acc += hi[t + 1] * b6;
            acc += hi[t + 2] * b8;
            dst[2 * t + 1] = acc;
        }
        return;
    }
    for (int k = 0; k < n; k++) {
        int j0 = -floor_div2(-(k - s->h0)), j1 = floor_div2(k + s->h0);
        float acc = 0.0f;
        int first = 1;
        for (int j = j0; j <= j1; j++) {
            float p = lo[j] * s->g0[s->h0 + 2 * j - k];
            if (first) {
                acc = p;
                first = 0;
            } else {
                acc += p;
            }
        }
        if (l.hlen > 0) {
            j0 = -floor_div2(-(k - 1 - s->h1));
            j1 = floor_div2(k - 1 + s->h1);
            for (int j = j0; j <= j1; j++)
                acc += hi[j] * s->g1[s->h1 + 2 * j - (k - 1)];
        }
        dst[k] = acc;
    }
}

int pm__wsq_inverse(float *plane, int width, int height, const pm__wsq_tree_t *tree,
                    const pm__wsq_filters_t *filters, pm_error_t *err)
{
    synth_t s;
    make_synth(filters, &s);
    size_t ext_len = (size_t)width + 8 * PM__WSQ_MAX_TAPS;
    float *tmp = malloc(((size_t)width * (size_t)height + ext_len) * sizeof(float));
    if (!tmp) return pm_error_set(err, PM_ENOMEM, "wsq: out of memory for the inverse transform");
    float *ext = tmp + (size_t)width * (size_t)height;
    for (int i = PM__WSQ_NODES - 1; i >= 0; i--) {
        pm__wsq_rect_t r = tree->node[i];
        float *base = plane + (size_t)r.y * (size_t)width + (size_t)r.x;
        synth_columns(base, (size_t)width, tmp, (size_t)r.w, r.w, r.h, tree->inv_y[i], &s);
        for (int y = 0; y < r.h; y++)
            synth_row(tmp + (size_t)y * (size_t)r.w, base + (size_t)y * (size_t)width, r.w,
                      tree->inv_x[i], &s, ext);
    }
    free(tmp);
    return PM_OK;
}

/* ----------------------------------------------------------------- analysis */

/* Taps of one analysis output, as (source pointer, coefficient) pairs; the
 * sources advance by one per output. */
typedef struct taps {
    int n;
    const float *src[PM__WSQ_MAX_TAPS];
    float c[PM__WSQ_MAX_TAPS];
} taps_t;

/* out[j] = sum_i t->src[i][j] * t->c[i] for j in [0, count). */
static void run_taps(const taps_t *t, float *out, int count)
{
    v4f cv[PM__WSQ_MAX_TAPS];
    for (int i = 0; i < t->n; i++)
        cv[i] = splat(t->c[i]);
    int j = 0;
    for (; j + 4 <= count; j += 4) {
        v4f a = ld4(t->src[0] + j) * cv[0];
        for (int i = 1; i < t->n; i++)
            a += ld4(t->src[i] + j) * cv[i];
        st4(out + j, a);
    }
    for (; j < count; j++) {
        float a = t->src[0][j] * t->c[0];
        for (int i = 1; i < t->n; i++)
            a += t->src[i][j] * t->c[i];
        out[j] = a;
    }
}

/* Horizontal analysis of one row of n samples into low then high band (high
 * first if inv). ext: scratch of at least 3 * n + 8 * MAX_TAPS floats. */
static void analyse_row(const float *src, float *dst, int n, int inv, const pm__wsq_filters_t *f,
                        float *ext)
{
    layout_t l = make_layout(n, inv);
    int m = PM__WSQ_MAX_TAPS; /* margin in samples */
    float *x = ext + m;
    memcpy(x, src, (size_t)n * sizeof(float));
    for (int j = 1; j <= m; j++) {
        x[-j] = src[fold(-j, n, 0, 0)];
        x[n - 1 + j] = src[fold(n - 1 + j, n, 0, 0)];
    }
    /* even and odd samples, each with a margin of m/2 */
    int half = (n + 2 * m) / 2 + 1, hm = m / 2;
    float *xe = ext + n + 2 * m + hm, *xo = xe + half + 2 * hm;
    for (int i = -hm; i < (n + 1) / 2 + hm; i++) {
        xe[i] = x[2 * i];
        xo[i] = x[2 * i + 1];
    }
    for (int band = 0; band < 2; band++) {
        int len = band ? f->hi_len : f->lo_len, h = (len - 1) / 2, shift = band;
        const float *coef = band ? f->hi : f->lo;
        taps_t t;
        t.n = len;
        for (int k = -h; k <= h; k++) {
            int o = k + shift; /* sample 2j + o */
            t.src[k + h] = (o % 2 == 0) ? xe + o / 2 : xo + floor_div2(o - 1);
            t.c[k + h] = coef[k + h];
        }
        run_taps(&t, dst + (band ? l.hi_off : l.lo_off), band ? l.hlen : l.llen);
    }
}

/* Vertical analysis of a w x h block (src stride sstride) into dst. */
static void analyse_columns(const float *src, size_t sstride, float *dst, size_t dstride, int w,
                            int h, int inv, const pm__wsq_filters_t *f)
{
    layout_t l = make_layout(h, inv);
    for (int band = 0; band < 2; band++) {
        int len = band ? f->hi_len : f->lo_len, hh = (len - 1) / 2;
        const float *coef = band ? f->hi : f->lo;
        int count = band ? l.hlen : l.llen, off = band ? l.hi_off : l.lo_off;
        for (int j = 0; j < count; j++) {
            taps_t t;
            t.n = len;
            for (int k = -hh; k <= hh; k++) {
                t.src[k + hh] = src + (size_t)fold(2 * j + band + k, h, 0, 0) * sstride;
                t.c[k + hh] = coef[k + hh];
            }
            run_taps(&t, dst + (size_t)(off + j) * dstride, w);
        }
    }
}

int pm__wsq_forward(float *plane, int width, int height, const pm__wsq_tree_t *tree,
                    const pm__wsq_filters_t *filters, pm_error_t *err)
{
    size_t ext_len = 4 * (size_t)width + 16 * PM__WSQ_MAX_TAPS;
    float *tmp = malloc(((size_t)width * (size_t)height + ext_len) * sizeof(float));
    if (!tmp) return pm_error_set(err, PM_ENOMEM, "wsq: out of memory for the forward transform");
    float *ext = tmp + (size_t)width * (size_t)height;
    for (int i = 0; i < PM__WSQ_NODES; i++) {
        pm__wsq_rect_t r = tree->node[i];
        float *base = plane + (size_t)r.y * (size_t)width + (size_t)r.x;
        for (int y = 0; y < r.h; y++)
            analyse_row(base + (size_t)y * (size_t)width, tmp + (size_t)y * (size_t)r.w, r.w,
                        tree->inv_x[i], filters, ext);
        analyse_columns(tmp, (size_t)r.w, base, (size_t)width, r.w, r.h, tree->inv_y[i], filters);
    }
    free(tmp);
    return PM_OK;
}

/* The 9/7 analysis filters of the specification (Table 1 of IAFIS-IC-0110). */
void pm__wsq_standard_filters(pm__wsq_filters_t *out_filters)
{
    static const double lo[5] = {0.852698679009, 0.377402855613, -0.110624404418, -0.023849465020,
                                 0.037828455507};
    static const double hi[4] = {0.788485616406, -0.418092273222, -0.040689417609, 0.064538882629};
    memset(out_filters, 0, sizeof *out_filters);
    out_filters->lo_len = 9;
    out_filters->hi_len = 7;
    for (int k = 0; k < 5; k++)
        out_filters->lo[4 + k] = out_filters->lo[4 - k] = (float)lo[k];
    for (int k = 0; k < 4; k++)
        out_filters->hi[3 + k] = out_filters->hi[3 - k] = (float)hi[k];
}
