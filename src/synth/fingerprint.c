/* Synthetic master fingerprints (SFinGe family: Cappelli, Maio, Maltoni).
 *
 * 1. Fingertip mask: a half ellipse on top of a slowly narrowing band.
 * 2. Orientation field from the zero-pole model of Sherlock & Monro (1993):
 *    O(z) = sum over cores of arg(z - c)/2 - sum over deltas of arg(z - d)/2
 *    (y up), plus a smooth random perturbation; arches use a bump model
 *    without singular points.
 * 3. Ridge-period map around a per-finger mean (8-10 px at 500 ppi), a little
 *    longer towards the tip, with smooth random variation.
 * 4. Ridges grown from random seeds by iterated even-symmetric Gabor filtering
 *    tuned to the local orientation and period, the response clipped to
 *    [-1, 1] after each pass; minutiae appear where fronts of different seeds
 *    meet out of phase. Only tiles near non-zero content are filtered.
 * Filters come from a bank over quantised orientation and period, built
 * lazily per call (no shared mutable state). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint_int.h"

#define SFP_R 7                      /* Gabor kernel radius */
#define SFP_K (2 * SFP_R + 1)        /* kernel side */
#define SFP_NORI 36                  /* orientations over [0, pi) */
#define SFP_PMIN 5.5f                /* shortest period of the bank */
#define SFP_PSTEP 0.5f
#define SFP_NPER 18                  /* 5.5 .. 14.0 */
#define SFP_TILE 8
#define SFP_ITER 14                  /* growth passes */
#define SFP_GAIN 2.2f
#define SFP_SEED_CELL 48              /* seed spacing (pixels) */

static const char *const class_names[] = {"arch", "tented_arch", "left_loop", "right_loop",
                                          "whorl"};
static const char *const quality_names[] = {"good", "dry", "wet", "smudged", "partial"};

const char *pm_synthfp_class_name(pm_synthfp_class_t c)
{
    return (unsigned)c < PM_SYNTHFP_CLASS_COUNT ? class_names[c] : "";
}

const char *pm_synthfp_quality_name(pm_synthfp_quality_t q)
{
    return (unsigned)q < PM_SYNTHFP_QUALITY_COUNT ? quality_names[q] : "";
}

void pm_synthfp_params_default(pm_synthfp_params_t *p)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    p->width = 0; /* sensors by finger group */
    p->height = 0;
    p->difficulty = 1.0;
    p->force_class = -1;
}

int pm_synthfp_params_check(const pm_synthfp_params_t *p, pm_error_t *err)
{
    if (!p)
        return pm_error_set(err, PM_EINVAL, "no parameters");
    if (p->width == 0 && p->height == 0)
        ; /* sensors by finger group */
    else if (p->width < PM_SYNTHFP_MIN_DIM || p->width > PM_SYNTHFP_MAX_DIM ||
        p->height < PM_SYNTHFP_MIN_DIM || p->height > PM_SYNTHFP_MAX_DIM)
        return pm_error_set(err, PM_EINVAL, "image size %dx%d outside %d..%d", p->width,
                            p->height, PM_SYNTHFP_MIN_DIM, PM_SYNTHFP_MAX_DIM);
    if (!(p->difficulty >= 0 && p->difficulty <= PM_SYNTHFP_MAX_DIFFICULTY))
        return pm_error_set(err, PM_EINVAL, "difficulty %g outside 0..%g", p->difficulty,
                            PM_SYNTHFP_MAX_DIFFICULTY);
    if (p->rolled != 0 && p->rolled != 1)
        return pm_error_set(err, PM_EINVAL, "rolled must be 0 or 1");
    if (p->force_class < -1 || p->force_class >= PM_SYNTHFP_CLASS_COUNT)
        return pm_error_set(err, PM_EINVAL, "class %d unknown", p->force_class);
    return 0;
}

void pm_synthfp_sensor(const pm_synthfp_params_t *p, uint64_t finger, pm_synthfp_sensor_t *out)
{
    static const pm_synthfp_sensor_t sensors[4] = {
        {388, 374, 1.0, 1.0, "optical-388x374"},
        {296, 560, 0.8, 1.1, "optical-296x560"},
        {300, 300, 1.6, 0.75, "capacitive-300x300"},
        {288, 384, 1.25, 0.9, "sweep-288x384"},
    };
    if (p->width == 0 && p->height == 0) {
        if (p->rolled)
            *out = (pm_synthfp_sensor_t){800, 750, 0.8, 1.1, "rolled-800x750"};
        else
            *out = sensors[(finger / 10) % 4];
        return;
    }
    *out = (pm_synthfp_sensor_t){p->width, p->height, 1.0, 1.0, "custom"};
}

/* ---- small shared helpers ---- */

int pm__sfp_noise_init(sfp_noise_t *n, pm__rng_t *r, int w, int h, float cell)
{
    n->cell = cell;
    n->gw = (int)(w / cell) + 3;
    n->gh = (int)(h / cell) + 3;
    n->v = malloc((size_t)n->gw * n->gh * sizeof *n->v);
    if (!n->v)
        return PM_ENOMEM;
    for (int i = 0; i < n->gw * n->gh; i++)
        n->v[i] = (float)(2.0 * pm__rng_unit(r) - 1.0);
    return 0;
}

float pm__sfp_noise_at(const sfp_noise_t *n, float x, float y)
{
    float gx = x / n->cell, gy = y / n->cell;
    if (gx < 0)
        gx = 0;
    if (gy < 0)
        gy = 0;
    int ix = (int)gx, iy = (int)gy;
    if (ix > n->gw - 2)
        ix = n->gw - 2;
    if (iy > n->gh - 2)
        iy = n->gh - 2;
    float fx = sfp_clampf(gx - (float)ix, 0.f, 1.f), fy = sfp_clampf(gy - (float)iy, 0.f, 1.f);
    fx = fx * fx * (3.f - 2.f * fx);
    fy = fy * fy * (3.f - 2.f * fy);
    const float *v = n->v + (size_t)iy * n->gw + ix;
    float a = v[0] + (v[1] - v[0]) * fx;
    float b = v[n->gw] + (v[n->gw + 1] - v[n->gw]) * fx;
    return a + (b - a) * fy;
}

void pm__sfp_noise_free(sfp_noise_t *n)
{
    free(n->v);
    n->v = NULL;
}

float pm__sfp_bilinear(const float *map, int w, int h, float x, float y)
{
    if (!(x >= 0 && y >= 0 && x <= (float)(w - 1) && y <= (float)(h - 1)))
        return 0.f;
    int ix = (int)x, iy = (int)y;
    if (ix > w - 2)
        ix = w - 2;
    if (iy > h - 2)
        iy = h - 2;
    float fx = x - (float)ix, fy = y - (float)iy;
    const float *p = map + (size_t)iy * w + ix;
    float a = p[0] + (p[1] - p[0]) * fx;
    float b = p[w] + (p[w + 1] - p[w]) * fx;
    return a + (b - a) * fy;
}

/* ---- the filter bank (per call, lazily filled) ---- */

typedef struct bank {
    float *k[SFP_NPER][SFP_NORI]; /* SFP_K*SFP_K taps or NULL */
} bank_t;

static const float *bank_get(bank_t *b, int pi, int oi)
{
    if (b->k[pi][oi])
        return b->k[pi][oi];
    float *k = malloc(SFP_K * SFP_K * sizeof *k);
    if (!k)
        return NULL;
    double T = SFP_PMIN + SFP_PSTEP * pi;
    double phi = SFP_PI * oi / SFP_NORI; /* ridge direction, image coordinates */
    double c = cos(phi), s = sin(phi);
    double sx = 0.42 * T, sy = 0.65 * T; /* across / along the ridges */
    double sum = 0, wsum = 0;
    for (int dy = -SFP_R; dy <= SFP_R; dy++)
        for (int dx = -SFP_R; dx <= SFP_R; dx++) {
            double xr = -dx * s + dy * c, yr = dx * c + dy * s;
            double g = exp(-0.5 * (xr * xr / (sx * sx) + yr * yr / (sy * sy)));
            k[(dy + SFP_R) * SFP_K + dx + SFP_R] = (float)(g * cos(2 * SFP_PI * xr / T));
            sum += g * cos(2 * SFP_PI * xr / T);
            wsum += g;
        }
    /* zero DC (subtract the envelope share), unit response to a unit sinusoid */
    double resp = 0;
    for (int dy = -SFP_R; dy <= SFP_R; dy++)
        for (int dx = -SFP_R; dx <= SFP_R; dx++) {
            double xr = -dx * s + dy * c, yr = dx * c + dy * s;
            double g = exp(-0.5 * (xr * xr / (sx * sx) + yr * yr / (sy * sy)));
            float *t = &k[(dy + SFP_R) * SFP_K + dx + SFP_R];
            *t = (float)(*t - g * sum / wsum);
            resp += *t * cos(2 * SFP_PI * xr / T);
        }
    for (int i = 0; i < SFP_K * SFP_K; i++)
        k[i] = (float)(k[i] / resp);
    b->k[pi][oi] = k;
    return k;
}

static void bank_free(bank_t *b)
{
    for (int p = 0; p < SFP_NPER; p++)
        for (int o = 0; o < SFP_NORI; o++)
            free(b->k[p][o]);
}

/* ---- orientation and period models ---- */

typedef struct model {
    pm_synthfp_class_t cls;
    int ns;
    pm_synthfp_singular_t sp[4];
    double fx, fy;          /* finger centre (mask) */
    double arch_s, arch_k, arch_y, arch_ly; /* arch bump */
    double pert_a[3], pert_kx[3], pert_ky[3], pert_ph[3];
    double T0, tip_y;
} model_t;

/* Ridge direction in image coordinates (radians, any multiple of pi). */
static double orientation_at(const model_t *m, double x, double y)
{
    double o = 0;
    if (m->cls == PM_SYNTHFP_ARCH) {
        double xn = (x - m->fx) / m->arch_s;
        double w = exp(-((y - m->arch_y) / m->arch_ly) * ((y - m->arch_y) / m->arch_ly));
        o = atan(-m->arch_k * xn * exp(-0.5 * xn * xn) * w);
    } else {
        for (int i = 0; i < m->ns; i++) {
            double a = atan2(-(y - m->sp[i].y), x - m->sp[i].x);
            o += m->sp[i].delta ? -0.5 * a : 0.5 * a;
        }
    }
    for (int i = 0; i < 3; i++)
        o += m->pert_a[i] * sin(m->pert_kx[i] * x + m->pert_ky[i] * y + m->pert_ph[i]);
    return -o; /* y up -> y down */
}

static double period_at(const model_t *m, const sfp_noise_t *pn, double x, double y)
{
    double t = m->T0 * (1.0 + 0.07 * pm__sfp_noise_at(pn, (float)x, (float)y));
    if (y < m->tip_y) /* wider ridges towards the tip */
        t *= 1.0 + 0.10 * fmin(1.0, (m->tip_y - y) / 120.0);
    return t;
}

static pm_synthfp_class_t draw_class(pm__rng_t *r)
{
    /* Henry class frequencies (Wilson, Candela & Watson 1994, NIST; as used by
     * SFinGe): arch 3.7%, tented arch 2.9%, left loop 33.8%, right loop 31.7%,
     * whorl 27.9% */
    static const double w[] = {3.7, 2.9, 33.8, 31.7, 27.9};
    return (pm_synthfp_class_t)pm__rng_weighted(r, w, 5);
}

static void place_singular(model_t *m, pm__rng_t *r)
{
    double cx = m->fx + pm__rng_normal(r, 0, 20), cy = m->fy + pm__rng_normal(r, 0, 22);
    m->ns = 0;
    switch (m->cls) {
    case PM_SYNTHFP_ARCH:
        m->arch_s = 70 + 40 * pm__rng_unit(r);
        m->arch_k = 0.9 + 0.8 * pm__rng_unit(r);
        m->arch_y = cy + 20 * pm__rng_unit(r);
        m->arch_ly = 140 + 80 * pm__rng_unit(r);
        break;
    case PM_SYNTHFP_TENTED_ARCH:
        m->sp[m->ns++] = (pm_synthfp_singular_t){0, (float)cx, (float)(cy - 20), 1};
        m->sp[m->ns++] = (pm_synthfp_singular_t){
            1, (float)(cx + pm__rng_normal(r, 0, 5)), (float)(cy - 20 + 70 + 40 * pm__rng_unit(r)), 1};
        break;
    case PM_SYNTHFP_LEFT_LOOP:
    case PM_SYNTHFP_RIGHT_LOOP: {
        double side = m->cls == PM_SYNTHFP_LEFT_LOOP ? 1 : -1;
        m->sp[m->ns++] = (pm_synthfp_singular_t){0, (float)cx, (float)(cy - 25), 1};
        m->sp[m->ns++] = (pm_synthfp_singular_t){1, (float)(cx + side * (70 + 60 * pm__rng_unit(r))),
                                                 (float)(cy - 25 + 95 + 55 * pm__rng_unit(r)), 1};
        break;
    }
    default: { /* whorl: two cores close together, two deltas below on each side */
        double a = SFP_PI / 2 + pm__rng_normal(r, 0, 0.5), d = 8 + 14 * pm__rng_unit(r);
        m->sp[m->ns++] = (pm_synthfp_singular_t){0, (float)(cx + d * cos(a)), (float)(cy - 20 - d * sin(a)), 1};
        m->sp[m->ns++] = (pm_synthfp_singular_t){0, (float)(cx - d * cos(a)), (float)(cy - 20 + d * sin(a)), 1};
        m->sp[m->ns++] = (pm_synthfp_singular_t){1, (float)(cx - 85 - 50 * pm__rng_unit(r)),
                                                 (float)(cy - 20 + 95 + 50 * pm__rng_unit(r)), 1};
        m->sp[m->ns++] = (pm_synthfp_singular_t){1, (float)(cx + 85 + 50 * pm__rng_unit(r)),
                                                 (float)(cy - 20 + 95 + 50 * pm__rng_unit(r)), 1};
        break;
    }
    }
}

/* ---- growth ---- */

typedef float v8f __attribute__((vector_size(32)));


/* One Gabor pass over the active tiles: out = clip(gain * (in * k)) (or the
 * raw response when gain is 0). in/out are padded by SFP_R on each side. */
/* On x86-64 an AVX2 copy is picked at load time where the CPU has it. No FMA:
 * the multiplies and adds are the same IEEE operations in the same order as
 * the SSE2 copy, so both give the same bits (-std=c17 keeps contraction off). */
#if defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx2", "default")))
#endif
static int gabor_pass(bank_t *bank, const float *in, float *out, int pw, int tw, int th,
                      const uint8_t *tori, const uint8_t *tper, const uint8_t *tmask,
                      uint8_t *active, float gain)
{
    /* active tiles: any content within one tile */
    uint8_t *live = active + (size_t)tw * th;
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++) {
            int a = 0;
            for (int yy = ty - 1; yy <= ty + 1 && !a; yy++)
                for (int xx = tx - 1; xx <= tx + 1; xx++)
                    if (yy >= 0 && xx >= 0 && yy < th && xx < tw && live[yy * tw + xx]) {
                        a = 1;
                        break;
                    }
            active[ty * tw + tx] = a && tmask[ty * tw + tx];
        }
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++) {
            int t = ty * tw + tx;
            float *o0 = out + (size_t)(ty * SFP_TILE + SFP_R) * pw + tx * SFP_TILE + SFP_R;
            if (!active[t]) {
                for (int yy = 0; yy < SFP_TILE; yy++)
                    memset(o0 + (size_t)yy * pw, 0, SFP_TILE * sizeof(float));
                live[t] = 0;
                continue;
            }
            const float *k = bank_get(bank, tper[t], tori[t]);
            if (!k)
                return PM_ENOMEM;
            int any = 0;
            for (int yy = 0; yy < SFP_TILE; yy++) {
                v8f acc = {0, 0, 0, 0, 0, 0, 0, 0};
                const float *src = in + (size_t)(ty * SFP_TILE + yy) * pw + tx * SFP_TILE;
                /* point symmetry: k(d) = k(-d), so mirrored taps share a multiply */
                for (int ky = 0; ky <= SFP_R; ky++) {
                    const float *ra = src + (size_t)ky * pw;
                    const float *rb = src + (size_t)(2 * SFP_R - ky) * pw;
                    const float *kr = k + ky * SFP_K;
                    int nx = ky < SFP_R ? SFP_K : SFP_R;
                    for (int kx = 0; kx < nx; kx++) {
                        v8f va, vb;
                        memcpy(&va, ra + kx, sizeof va);
                        memcpy(&vb, rb + 2 * SFP_R - kx, sizeof vb);
                        acc += kr[kx] * (va + vb);
                    }
                }
                {
                    v8f vc;
                    memcpy(&vc, src + (size_t)SFP_R * pw + SFP_R, sizeof vc);
                    acc += k[SFP_R * SFP_K + SFP_R] * vc;
                }
                float v[8];
                memcpy(v, &acc, sizeof v);
                for (int i = 0; i < 8; i++) {
                    if (gain > 0)
                        v[i] = sfp_clampf(gain * v[i], -1.f, 1.f);
                    any |= v[i] != 0.f;
                }
                memcpy(o0 + (size_t)yy * pw, v, sizeof v);
            }
            live[t] = (uint8_t)any;
        }
    return 0;
}

static void mask_shape(pm_synthfp_master_t *m, model_t *md, pm__rng_t *r, int rolled)
{
    int W = m->width, H = m->height;
    double a = (150 + 35 * pm__rng_unit(r)) * (rolled ? 1.45 : 1.0); /* half width */
    double btop = a * (1.05 + 0.2 * pm__rng_unit(r));
    double top = 24 + 20 * pm__rng_unit(r);
    md->fx = W / 2.0 + pm__rng_normal(r, 0, 6);
    double cy = top + btop; /* centre of the half ellipse */
    md->fy = cy + 10;
    md->tip_y = cy - 0.35 * btop;
    double narrow = 0.06 + 0.08 * pm__rng_unit(r);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double dx = x - md->fx, in;
            if (y < cy) {
                double dy = (y - cy) / btop;
                in = (dx / a) * (dx / a) + dy * dy <= 1.0;
            } else {
                double hw = a * (1.0 - narrow * (y - cy) / H);
                in = fabs(dx) <= hw;
            }
            m->mask[(size_t)y * W + x] = (uint8_t)in;
        }
}

int pm_synthfp_master(const pm_synthfp_params_t *p, uint64_t finger, const pm_extractor_t *ex,
                      pm_synthfp_master_t *out, pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    int rc = pm_synthfp_params_check(p, err);
    if (rc)
        return rc;
    pm__rng_t r;
    pm__rng_seed(&r, p->seed, SFP_STREAM_MASTER, finger, 0);
    /* canvas: the largest impression plus room to move it */
    pm_synthfp_sensor_t sen;
    pm_synthfp_sensor(p, finger, &sen);
    int W = (sen.width > sen.height ? sen.width : sen.height) + 96;
    if (W < 464)
        W = 464;
    W = (W + SFP_TILE - 1) / SFP_TILE * SFP_TILE;
    int H = (sen.height + 160 > 560 ? sen.height + 160 : 560);
    H = (H + SFP_TILE - 1) / SFP_TILE * SFP_TILE;
    out->finger = finger;
    out->width = W;
    out->height = H;
    out->ridge = calloc((size_t)W * H, sizeof *out->ridge);
    out->mask = calloc((size_t)W * H, 1);
    out->skin = calloc((size_t)W * H, sizeof *out->skin);
    if (!out->ridge || !out->mask || !out->skin) {
        pm_synthfp_master_free(out);
        return pm_error_set(err, PM_ENOMEM, "out of memory for a %dx%d master", W, H);
    }
    model_t md;
    memset(&md, 0, sizeof md);
    md.cls = p->force_class >= 0 ? (pm_synthfp_class_t)p->force_class : draw_class(&r);
    mask_shape(out, &md, &r, p->rolled);
    place_singular(&md, &r);
    for (int i = 0; i < 3; i++) {
        double wl = 180 + 260 * pm__rng_unit(&r), ang = 2 * SFP_PI * pm__rng_unit(&r);
        md.pert_a[i] = 0.12 + 0.14 * pm__rng_unit(&r);
        md.pert_kx[i] = 2 * SFP_PI / wl * cos(ang);
        md.pert_ky[i] = 2 * SFP_PI / wl * sin(ang);
        md.pert_ph[i] = 2 * SFP_PI * pm__rng_unit(&r);
    }
    md.T0 = 8.2 + 1.6 * pm__rng_unit(&r);
    out->cls = md.cls;
    out->centre_x = (float)md.fx;
    out->centre_y = (float)(md.fy - 25);
    out->n_singular = md.ns;
    memcpy(out->singular, md.sp, sizeof md.sp);

    sfp_noise_t pn = {0};
    int tw = W / SFP_TILE, th = H / SFP_TILE, pw = W + 2 * SFP_R, ph = H + 2 * SFP_R;
    float *a = calloc((size_t)pw * ph, sizeof *a), *b = calloc((size_t)pw * ph, sizeof *b);
    uint8_t *tori = malloc((size_t)tw * th), *tper = malloc((size_t)tw * th);
    uint8_t *tmask = calloc((size_t)tw * th, 1), *active = calloc((size_t)2 * tw * th, 1);
    bank_t bank;
    memset(&bank, 0, sizeof bank);
    if (!a || !b || !tori || !tper || !tmask || !active ||
        pm__sfp_noise_init(&pn, &r, W, H, 90.f) != 0) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory for a %dx%d master", W, H);
        goto done;
    }
    /* per-tile orientation and period, and tiles near the mask */
    double psum = 0;
    int pn_count = 0;
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++) {
            double x = tx * SFP_TILE + SFP_TILE / 2.0, y = ty * SFP_TILE + SFP_TILE / 2.0;
            double o = fmod(orientation_at(&md, x, y), SFP_PI);
            if (o < 0)
                o += SFP_PI;
            int oi = (int)lround(o / SFP_PI * SFP_NORI) % SFP_NORI;
            double T = period_at(&md, &pn, x, y);
            int pi = (int)lround((T - SFP_PMIN) / SFP_PSTEP);
            pi = pi < 0 ? 0 : pi >= SFP_NPER ? SFP_NPER - 1 : pi;
            tori[ty * tw + tx] = (uint8_t)oi;
            tper[ty * tw + tx] = (uint8_t)pi;
            int near = 0;
            for (int yy = ty - 2; yy <= ty + 2 && !near; yy++)
                for (int xx = tx - 2; xx <= tx + 2; xx++)
                    if (yy >= 0 && xx >= 0 && yy < th && xx < tw &&
                        out->mask[(size_t)(yy * SFP_TILE + 4) * W + xx * SFP_TILE + 4]) {
                        near = 1;
                        break;
                    }
            tmask[ty * tw + tx] = (uint8_t)near;
            if (out->mask[(size_t)(ty * SFP_TILE + 4) * W + tx * SFP_TILE + 4]) {
                psum += SFP_PMIN + SFP_PSTEP * pi;
                pn_count++;
            }
        }
    out->period = pn_count ? psum / pn_count : md.T0;
    /* seeds: small discs of either sign on a jittered grid (one per cell of
     * SFP_SEED_CELL px), so that fronts meet everywhere within a few passes */
    for (int gy = 0; gy < H; gy += SFP_SEED_CELL)
        for (int gx = 0; gx < W; gx += SFP_SEED_CELL) {
            int sx = gx + (int)pm__rng_below(&r, SFP_SEED_CELL);
            int sy = gy + (int)pm__rng_below(&r, SFP_SEED_CELL);
            float v = pm__rng_chance(&r, 0.5) ? 1.f : -1.f;
            if (sx >= W || sy >= H || !out->mask[(size_t)sy * W + sx])
                continue;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int x = sx + dx, y = sy + dy;
                    if (x >= 0 && y >= 0 && x < W && y < H)
                        a[(size_t)(y + SFP_R) * pw + x + SFP_R] = v;
                }
            active[(size_t)tw * th + (sy / SFP_TILE) * tw + sx / SFP_TILE] = 1;
        }
    for (int it = 0; it < SFP_ITER && !rc; it++) {
        rc = gabor_pass(&bank, a, b, pw, tw, th, tori, tper, tmask, active,
                        it + 1 < SFP_ITER ? SFP_GAIN : 0.f);
        float *t = a;
        a = b;
        b = t;
    }
    if (rc) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory for the filter bank");
        goto done;
    }
    /* the last, unclipped response, scaled to about -1..1 */
    double amp = 0;
    size_t namp = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (out->mask[(size_t)y * W + x]) {
                amp += fabs(a[(size_t)(y + SFP_R) * pw + x + SFP_R]);
                namp++;
            }
    amp = namp ? amp / namp * SFP_PI / 2 : 1; /* mean |sin| = 2/pi */
    if (amp <= 0)
        amp = 1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            out->ridge[(size_t)y * W + x] =
                sfp_clampf((float)(a[(size_t)(y + SFP_R) * pw + x + SFP_R] / amp), -1.5f, 1.5f);
    /* soft outline: the mask box-blurred twice over 13 px (rows, then columns) */
    {
        float *t = b; /* free scratch of at least W*H floats */
        for (size_t i = 0; i < (size_t)W * H; i++)
            out->skin[i] = out->mask[i];
        for (int pass = 0; pass < 2; pass++) {
            const int R = 6;
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    float acc = 0;
                    for (int k = -R; k <= R; k++) {
                        int xx = x + k < 0 ? 0 : x + k >= W ? W - 1 : x + k;
                        acc += out->skin[(size_t)y * W + xx];
                    }
                    t[(size_t)y * W + x] = acc / (2 * R + 1);
                }
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    float acc = 0;
                    for (int k = -R; k <= R; k++) {
                        int yy = y + k < 0 ? 0 : y + k >= H ? H - 1 : y + k;
                        acc += t[(size_t)yy * W + x];
                    }
                    out->skin[(size_t)y * W + x] = acc / (2 * R + 1);
                }
        }
    }
    if (ex) {
        pm_image_t img;
        pm_error_t e2 = {0};
        if (pm_synthfp_master_image(out, &img, &e2) == 0) {
            out->minutiae_ok = pm_fp_extract(ex, &img, &out->minutiae, &e2) == 0;
            pm_image_free(&img);
        }
    }
done:
    bank_free(&bank);
    pm__sfp_noise_free(&pn);
    free(a);
    free(b);
    free(tori);
    free(tper);
    free(tmask);
    free(active);
    if (rc)
        pm_synthfp_master_free(out);
    return rc;
}

void pm_synthfp_master_free(pm_synthfp_master_t *m)
{
    if (!m)
        return;
    free(m->ridge);
    free(m->mask);
    free(m->skin);
    m->ridge = NULL;
    m->mask = NULL;
    m->skin = NULL;
}

int pm_synthfp_master_image(const pm_synthfp_master_t *m, pm_image_t *out, pm_error_t *err)
{
    int rc = pm_image_alloc(out, m->width, m->height, 500, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < (size_t)m->width * m->height; i++) {
        float v = m->mask[i] ? sfp_clampf(m->ridge[i], -1.f, 1.f) : -1.f;
        out->pixels[i] = (uint8_t)lrintf(128.f - 120.f * v);
    }
    return 0;
}
