/* Impressions of a synthetic master fingerprint, their ground truth, and the
 * multi-threaded driver.
 *
 * An impression maps each output pixel back to the master through
 * - the placement: rotation by alpha and translation (master anchor point ->
 *   image point);
 * - non-linear skin distortion after Cappelli, Maio & Maltoni (2001): inside
 *   a close-contact ellipse the skin does not move relative to the anchor;
 *   outside, it follows an extra small rotation and translation, blended in
 *   with a smooth brake over K pixels. The forward map is
 *   D(v) = v + (R(beta)(v - c) + tau - (v - c)) * brake(d(v)); it is
 *   inverted per pixel by fixed-point iteration;
 * and renders there the master's ridge field through a threshold (pressure:
 * thin dry ridges / thick wet ridges, thinner towards the contact border),
 * with breaks (dry), blur and smear (smudged), a soft irregular contact
 * ellipse (partial contact: smaller and off-centre), background shading,
 * scratches and sensor noise. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint_int.h"

typedef struct imp_model {
    double ca, sa;           /* cos/sin of the rotation (counter-clockwise on the display) */
    double ax, ay, px, py;   /* anchor in the master, its place in the image */
    double dcx, dcy, dra, drb; /* close-contact region (master), semi-axes */
    double dcb, dsb, dtx, dty; /* distortion rotation cos/sin and translation */
    double brake_k;
    double ccx, ccy, cra, crb; /* contact ellipse (master) */
    double cph1, cph2, camp1, camp2;
} imp_model_t;

/* distance outside the close-contact ellipse, roughly in pixels */
static double outside(const imp_model_t *im, double x, double y)
{
    double u = (x - im->dcx) / im->dra, v = (y - im->dcy) / im->drb;
    double r = sqrt(u * u + v * v);
    return r <= 1 ? 0 : (r - 1) * 0.5 * (im->dra + im->drb);
}

static void distort_delta(const imp_model_t *im, double x, double y, double *dx, double *dy)
{
    double b = sfp_smoothstep(0.f, (float)im->brake_k, (float)outside(im, x, y));
    double rx = x - im->dcx, ry = y - im->dcy;
    *dx = (im->dcb * rx - im->dsb * ry + im->dtx - rx) * b;
    *dy = (im->dsb * rx + im->dcb * ry + im->dty - ry) * b;
}

/* master point -> impression point */
static void forward(const imp_model_t *im, double x, double y, double *ox, double *oy)
{
    double dx, dy;
    distort_delta(im, x, y, &dx, &dy);
    double ux = x + dx - im->ax, uy = y + dy - im->ay;
    /* counter-clockwise on the display (y down) */
    *ox = im->px + im->ca * ux + im->sa * uy;
    *oy = im->py - im->sa * ux + im->ca * uy;
}

/* impression point -> master point */
static void inverse(const imp_model_t *im, double x, double y, double *ox, double *oy)
{
    double qx = x - im->px, qy = y - im->py;
    double ux = im->ax + im->ca * qx - im->sa * qy, uy = im->ay + im->sa * qx + im->ca * qy;
    double vx = ux, vy = uy;
    for (int i = 0; i < 5; i++) {
        double dx, dy;
        distort_delta(im, vx, vy, &dx, &dy);
        vx = ux - dx;
        vy = uy - dy;
    }
    *ox = vx;
    *oy = vy;
}

/* contact weight 0..1 at a master point (soft, irregular ellipse) */
static float contact_at(const imp_model_t *im, double x, double y)
{
    double u = (x - im->ccx) / im->cra, v = (y - im->ccy) / im->crb;
    double r2 = u * u + v * v, lim = 1.0 + im->camp1 + im->camp2;
    if (r2 > (lim + 0.1) * (lim + 0.1))
        return 0.f;
    double t = atan2(v, u);
    double rr = 1.0 + im->camp1 * sin(3 * t + im->cph1) + im->camp2 * sin(5 * t + im->cph2);
    double r = sqrt(u * u + v * v) / rr; /* 1 at the border */
    double px = (1.0 - r) * 0.5 * (im->cra + im->crb); /* pixels inside */
    return sfp_smoothstep(-4.f, 10.f, (float)px);
}

/* contact weight including the soft outline of the finger */
static float touch_at(const imp_model_t *im, const pm_synthfp_master_t *m, double x, double y)
{
    float skin = pm__sfp_bilinear(m->skin, m->width, m->height, (float)x, (float)y);
    return contact_at(im, x, y) * sfp_smoothstep(0.15f, 0.95f, skin);
}

static void box_blur(float *img, float *tmp, int w, int h, int rx, int ry)
{
    for (int y = 0; y < h; y++) {
        const float *s = img + (size_t)y * w;
        float *d = tmp + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            float acc = 0;
            int n = 0;
            for (int k = -rx; k <= rx; k++)
                if (x + k >= 0 && x + k < w) {
                    acc += s[x + k];
                    n++;
                }
            d[x] = acc / (float)n;
        }
    }
    for (int x = 0; x < w; x++)
        for (int y = 0; y < h; y++) {
            float acc = 0;
            int n = 0;
            for (int k = -ry; k <= ry; k++)
                if (y + k >= 0 && y + k < h) {
                    acc += tmp[(size_t)(y + k) * w + x];
                    n++;
                }
            img[(size_t)y * w + x] = acc / (float)n;
        }
}

/* about N(0, 1): the sum of four 16-bit uniforms of one draw (Irwin-Hall) */
static inline double fast_normal(pm__rng_t *r)
{
    uint64_t v = pm__rng_next(r);
    double s = (double)(v & 0xffff) + (double)((v >> 16) & 0xffff) + (double)((v >> 32) & 0xffff) +
               (double)(v >> 48);
    return (s / 65536.0 - 2.0) * 1.7320508;
}

static pm_synthfp_quality_t draw_quality(pm__rng_t *r, double difficulty)
{
    /* at difficulty 1: good 52%, dry 13%, wet 13%, smudged 9%, partial 13% */
    double bad = fmin(1.0, difficulty);
    double w[] = {52 + 48 * (1 - bad), 13 * bad, 13 * bad, 9 * bad, 13 * bad};
    return (pm_synthfp_quality_t)pm__rng_weighted(r, w, 5);
}

int pm_synthfp_impression(const pm_synthfp_params_t *p, const pm_synthfp_master_t *m,
                          int impression, pm_image_t *out, pm_synthfp_impression_t *truth,
                          pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    int rc = pm_synthfp_params_check(p, err);
    if (rc)
        return rc;
    if (!m || !m->ridge)
        return pm_error_set(err, PM_EINVAL, "no master");
    if (impression < 1 || impression > PM_SYNTHFP_MAX_IMPRESSIONS)
        return pm_error_set(err, PM_EINVAL, "impression %d outside 1..%d", impression,
                            PM_SYNTHFP_MAX_IMPRESSIONS);
    pm__rng_t r;
    pm__rng_seed(&r, p->seed, SFP_STREAM_IMPRESSION, m->finger, (uint64_t)impression);
    const double d = p->difficulty;
    pm_synthfp_sensor_t sen;
    pm_synthfp_sensor(p, m->finger, &sen);
    const int W = sen.width, H = sen.height;
    pm_synthfp_impression_t tr;
    memset(&tr, 0, sizeof tr);
    tr.impression = impression;
    tr.quality = draw_quality(&r, d);
    tr.sensor = sen.name;
    tr.width = W;
    tr.height = H;

    /* placement: the contact centre is near the finger centre (about the core) */
    double fcx = m->centre_x, fcy = m->centre_y;
    imp_model_t im;
    memset(&im, 0, sizeof im);
    /* ten-print cards are taken upright by an operator: small rotation */
    double rot = pm__rng_normal(&r, 0, (p->rolled ? 2.5 : 7.0) * d);
    rot = fmax(-35, fmin(35, rot));
    im.ca = cos(rot * SFP_PI / 180);
    im.sa = sin(rot * SFP_PI / 180);
    im.ax = fcx + pm__rng_normal(&r, 0, 14 * d);
    im.ay = fcy + pm__rng_normal(&r, 0, 18 * d);
    im.px = W / 2.0 + pm__rng_normal(&r, 0, 0.07 * W * d);
    im.py = H / 2.0 + pm__rng_normal(&r, 0, 0.07 * H * d);
    /* contact ellipse (master coordinates) */
    im.cra = 0.5 * W * (0.72 + 0.24 * pm__rng_unit(&r));
    im.crb = 0.5 * H * (0.88 + 0.25 * pm__rng_unit(&r));
    im.ccx = im.ax + pm__rng_normal(&r, 0, 10);
    im.ccy = im.ay + pm__rng_normal(&r, 0, 12);
    if (p->rolled) { /* rolled nail to nail: the whole finger touches */
        im.cra = 0.5 * W;
        im.crb = 0.5 * H * (0.9 + 0.1 * pm__rng_unit(&r));
        im.ccy += 0.1 * H;
    }
    if (tr.quality == PM_SYNTHFP_PARTIAL) {
        double s = 0.5 + 0.2 * pm__rng_unit(&r), ang = 2 * SFP_PI * pm__rng_unit(&r);
        im.cra *= s;
        im.crb *= s;
        im.ccx += cos(ang) * 0.35 * im.cra / s;
        im.ccy += sin(ang) * 0.35 * im.crb / s;
    }
    im.camp1 = 0.04 + 0.06 * pm__rng_unit(&r);
    im.camp2 = 0.02 + 0.04 * pm__rng_unit(&r);
    im.cph1 = 2 * SFP_PI * pm__rng_unit(&r);
    im.cph2 = 2 * SFP_PI * pm__rng_unit(&r);
    /* plastic distortion */
    im.dcx = im.ccx + pm__rng_normal(&r, 0, 10);
    im.dcy = im.ccy + pm__rng_normal(&r, 0, 10);
    im.dra = 0.35 * im.cra;
    im.drb = 0.35 * im.crb;
    double beta = pm__rng_normal(&r, 0, 2.5 * d);
    im.dcb = cos(beta * SFP_PI / 180);
    im.dsb = sin(beta * SFP_PI / 180);
    im.dtx = pm__rng_normal(&r, 0, 6.0 * d);
    im.dty = pm__rng_normal(&r, 0, 6.0 * d);
    im.brake_k = 110 + 60 * pm__rng_unit(&r);

    /* pressure, contrast, noise */
    double thr, contrast, blur = 0;
    switch (tr.quality) {
    case PM_SYNTHFP_DRY:
        thr = 0.25 + 0.25 * pm__rng_unit(&r);
        contrast = 90 + 50 * pm__rng_unit(&r);
        break;
    case PM_SYNTHFP_WET:
        thr = -0.25 - 0.25 * pm__rng_unit(&r);
        contrast = 170 + 50 * pm__rng_unit(&r);
        blur = 1;
        break;
    case PM_SYNTHFP_SMUDGED:
        thr = pm__rng_normal(&r, -0.1, 0.1);
        contrast = 120 + 60 * pm__rng_unit(&r);
        blur = 2;
        break;
    default:
        thr = pm__rng_normal(&r, 0, 0.12);
        contrast = 140 + 70 * pm__rng_unit(&r);
        break;
    }
    contrast *= sen.contrast;
    double bg = 225 + 25 * pm__rng_unit(&r);
    double sigma = (3 + 5 * d * pm__rng_unit(&r)) * sen.noise;
    int scratches = pm__rng_chance(&r, fmin(1.0, 0.25 * d)) ? 1 + (int)pm__rng_below(&r, 3) : 0;

    float *dark = malloc((size_t)W * H * sizeof *dark);
    float *wgt = malloc((size_t)W * H * sizeof *wgt);
    float *tmp = malloc((size_t)W * H * sizeof *tmp);
    sfp_noise_t nbreak = {0}, nbg = {0}, npress = {0};
    if (!dark || !wgt || !tmp || pm__sfp_noise_init(&nbreak, &r, W, H, 5.f + (float)pm__rng_unit(&r) * 3.f) ||
        pm__sfp_noise_init(&nbg, &r, W, H, 70.f) || pm__sfp_noise_init(&npress, &r, W, H, 45.f)) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory for an impression");
        goto done;
    }
    rc = pm_image_alloc(out, W, H, 500, err);
    if (rc)
        goto done;
    /* the mapping and the contact weight are smooth: computed every GRID
     * pixels and interpolated */
    enum { GRID = 4 };
    int gw = W / GRID + 2, gh = H / GRID + 2;
    float *gmx = malloc((size_t)gw * gh * sizeof *gmx), *gmy = malloc((size_t)gw * gh * sizeof *gmy);
    float *gc = malloc((size_t)gw * gh * sizeof *gc);
    if (!gmx || !gmy || !gc) {
        free(gmx);
        free(gmy);
        free(gc);
        rc = pm_error_set(err, PM_ENOMEM, "out of memory for an impression");
        goto done;
    }
    for (int gy = 0; gy < gh; gy++)
        for (int gx = 0; gx < gw; gx++) {
            double mx, my;
            inverse(&im, gx * GRID, gy * GRID, &mx, &my);
            gmx[gy * gw + gx] = (float)mx;
            gmy[gy * gw + gx] = (float)my;
            gc[gy * gw + gx] = contact_at(&im, mx, my);
        }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float fx = (float)x / GRID, fy = (float)y / GRID;
            float mx = pm__sfp_bilinear(gmx, gw, gh, fx, fy);
            float my = pm__sfp_bilinear(gmy, gw, gh, fx, fy);
            float c = pm__sfp_bilinear(gc, gw, gh, fx, fy);
            float skin = pm__sfp_bilinear(m->skin, m->width, m->height, mx, my);
            float rv = pm__sfp_bilinear(m->ridge, m->width, m->height, mx, my);
            c *= sfp_smoothstep(0.15f, 0.95f, skin);
            /* lighter pressure (thinner ridges) towards the contact border and in patches */
            float t = (float)thr + 0.35f * (1.f - sfp_smoothstep(0.f, 0.9f, c)) +
                      0.12f * (float)d * pm__sfp_noise_at(&npress, (float)x, (float)y);
            float dk = sfp_clampf((rv - t) / 0.45f + 0.5f, 0.f, 1.f);
            if (tr.quality == PM_SYNTHFP_DRY &&
                pm__sfp_noise_at(&nbreak, (float)x, (float)y) > 0.35f)
                dk *= 0.15f;
            dark[(size_t)y * W + x] = dk;
            wgt[(size_t)y * W + x] = c;
        }
    free(gmx);
    free(gmy);
    free(gc);
    if (blur > 0) {
        int rx = (int)blur, ry = (int)blur;
        if (tr.quality == PM_SYNTHFP_SMUDGED) /* smear: motion in one direction */
        {
            if (pm__rng_chance(&r, 0.5))
                rx += 2;
            else
                ry += 2;
        }
        box_blur(dark, tmp, W, H, rx, ry);
    }
    /* scratches: straight light lines */
    for (int s = 0; s < scratches; s++) {
        double x0 = W * pm__rng_unit(&r), y0 = H * pm__rng_unit(&r);
        double ang = SFP_PI * pm__rng_unit(&r), len = 80 + 200 * pm__rng_unit(&r);
        double wd = 0.8 + 1.2 * pm__rng_unit(&r);
        for (double l = -len / 2; l <= len / 2; l += 0.5) {
            double cx = x0 + l * cos(ang), cy = y0 + l * sin(ang);
            for (int yy = (int)(cy - 2); yy <= (int)(cy + 2); yy++)
                for (int xx = (int)(cx - 2); xx <= (int)(cx + 2); xx++) {
                    if (xx < 0 || yy < 0 || xx >= W || yy >= H)
                        continue;
                    double dd = hypot(xx - cx, yy - cy);
                    if (dd <= wd)
                        dark[(size_t)yy * W + xx] *= 0.1f;
                }
        }
    }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            size_t i = (size_t)y * W + x;
            double g = bg + 12 * pm__sfp_noise_at(&nbg, (float)x, (float)y) -
                       contrast * dark[i] * wgt[i] + sigma * fast_normal(&r);
            out->pixels[i] = (uint8_t)(g < 0 ? 0 : g > 255 ? 255 : lrint(g));
        }

    /* truth */
    tr.rotation_deg = rot;
    tr.anchor_x = im.ax;
    tr.anchor_y = im.ay;
    tr.place_x = im.px;
    tr.place_y = im.py;
    tr.distortion_deg = beta;
    tr.distortion_dx = im.dtx;
    tr.distortion_dy = im.dty;
    tr.contact_a = im.cra;
    tr.contact_b = im.crb;
    tr.ridge_threshold = thr;
    tr.n_singular = m->n_singular;
    for (int i = 0; i < m->n_singular; i++) {
        double ox, oy;
        forward(&im, m->singular[i].x, m->singular[i].y, &ox, &oy);
        tr.singular[i].delta = m->singular[i].delta;
        tr.singular[i].x = (float)ox;
        tr.singular[i].y = (float)oy;
        tr.singular[i].visible = ox >= 0 && oy >= 0 && ox < W && oy < H &&
                                 touch_at(&im, m, m->singular[i].x, m->singular[i].y) > 0.5f;
    }
    tr.minutiae.width = W;
    tr.minutiae.height = H;
    tr.minutiae.ppi = 500;
    if (m->minutiae_ok)
        for (size_t i = 0; i < m->minutiae.count; i++) {
            const pm_minutia_t *mm = &m->minutiae.minutiae[i];
            double ox, oy, ex, ey;
            forward(&im, mm->x, mm->y, &ox, &oy);
            if (!(ox >= 0 && oy >= 0 && ox < W && oy < H) || touch_at(&im, m, mm->x, mm->y) < 0.5f)
                continue;
            forward(&im, mm->x + 6 * cos(mm->angle), mm->y - 6 * sin(mm->angle), &ex, &ey);
            pm_minutia_t *t = &tr.minutiae.minutiae[tr.minutiae.count++];
            *t = *mm;
            t->x = (float)ox;
            t->y = (float)oy;
            double a = atan2(-(ey - oy), ex - ox);
            if (a < 0)
                a += 2 * SFP_PI;
            t->angle = (float)a;
        }
    if (truth)
        *truth = tr;
done:
    free(dark);
    free(wgt);
    free(tmp);
    pm__sfp_noise_free(&nbreak);
    pm__sfp_noise_free(&nbg);
    pm__sfp_noise_free(&npress);
    if (rc)
        pm_image_free(out);
    return rc;
}

/* ---- ground truth ---- */

static int put_minutiae(pm_buf_t *out, const pm_fingerprint_t *f)
{
    int rc = pm_buf_append_str(out, "[");
    for (size_t i = 0; i < f->count && !rc; i++) {
        const pm_minutia_t *m = &f->minutiae[i];
        rc = pm_buf_printf(out, "%s[%.1f,%.1f,%.1f,\"%s\"]", i ? "," : "", m->x, m->y,
                           m->angle * 180.0 / SFP_PI,
                           m->type == PM_MINUTIA_BIFURCATION ? "bifurcation"
                           : m->type == PM_MINUTIA_ENDING    ? "ending"
                                                             : "other");
    }
    return rc ? rc : pm_buf_append_str(out, "]");
}

static int put_singular(pm_buf_t *out, const pm_synthfp_singular_t *s, int n, int with_visible)
{
    int rc = pm_buf_append_str(out, "[");
    for (int i = 0; i < n && !rc; i++) {
        rc = pm_buf_printf(out, "%s{\"type\":\"%s\",\"x\":%.1f,\"y\":%.1f", i ? "," : "",
                           s[i].delta ? "delta" : "core", s[i].x, s[i].y);
        if (!rc && with_visible)
            rc = pm_buf_printf(out, ",\"visible\":%s", s[i].visible ? "true" : "false");
        if (!rc)
            rc = pm_buf_append_str(out, "}");
    }
    return rc ? rc : pm_buf_append_str(out, "]");
}

int pm_synthfp_truth_jsonl(const pm_synthfp_master_t *m, const pm_synthfp_impression_t *imps,
                           size_t n, const char *const *files, pm_buf_t *out)
{
    int rc = pm_buf_printf(out,
                           "{\"finger\":%llu,\"class\":\"%s\",\"master\":{\"width\":%d,\"height\":%d,"
                           "\"ridge_period\":%.2f,\"singular\":",
                           (unsigned long long)m->finger, pm_synthfp_class_name(m->cls), m->width,
                           m->height, m->period);
    if (!rc)
        rc = put_singular(out, m->singular, m->n_singular, 0);
    if (!rc)
        rc = pm_buf_append_str(out, ",\"minutiae\":");
    if (!rc)
        rc = m->minutiae_ok ? put_minutiae(out, &m->minutiae) : pm_buf_append_str(out, "null");
    if (!rc)
        rc = pm_buf_append_str(out, "},\"impressions\":[");
    for (size_t i = 0; i < n && !rc; i++) {
        const pm_synthfp_impression_t *t = &imps[i];
        rc = pm_buf_printf(out, "%s{\"impression\":%d", i ? "," : "", t->impression);
        if (!rc && files && files[i]) {
            rc = pm_buf_append_str(out, ",\"file\":\"");
            for (const char *c = files[i]; *c && !rc; c++)
                rc = (*c == '"' || *c == '\\') ? pm_buf_printf(out, "\\%c", *c)
                                               : pm_buf_append(out, c, 1);
            if (!rc)
                rc = pm_buf_append_str(out, "\"");
        }
        if (!rc)
            rc = pm_buf_printf(
                out,
                ",\"sensor\":\"%s\",\"width\":%d,\"height\":%d,\"quality\":\"%s\",\"transform\":{\"rotation_deg\":%.2f,\"anchor\":[%.1f,%.1f],"
                "\"place\":[%.1f,%.1f],\"distortion_deg\":%.2f,\"distortion_shift\":[%.1f,%.1f]},"
                "\"contact\":[%.1f,%.1f],\"ridge_threshold\":%.3f,\"singular\":",
                t->sensor ? t->sensor : "", t->width, t->height,
                pm_synthfp_quality_name(t->quality), t->rotation_deg, t->anchor_x, t->anchor_y,
                t->place_x, t->place_y, t->distortion_deg, t->distortion_dx, t->distortion_dy,
                t->contact_a, t->contact_b, t->ridge_threshold);
        if (!rc)
            rc = put_singular(out, t->singular, t->n_singular, 1);
        if (!rc)
            rc = pm_buf_append_str(out, ",\"minutiae\":");
        if (!rc)
            rc = m->minutiae_ok ? put_minutiae(out, &t->minutiae) : pm_buf_append_str(out, "null");
        if (!rc)
            rc = pm_buf_append_str(out, "}");
    }
    return rc ? rc : pm_buf_append_str(out, "]}\n");
}

/* ---- multi-threaded driver ---- */

typedef struct run_ctx {
    const pm_synthfp_params_t *p;
    uint64_t first, count;
    int impressions;
    const pm_extractor_t *ex;
    pm_synthfp_fn cb;
    void *user;
    atomic_ullong next;
    atomic_int stop; /* 0, or the first nonzero result */
    pthread_mutex_t lock;
    pm_error_t err;
} run_ctx_t;

static void run_fail(run_ctx_t *c, int rc, const pm_error_t *e)
{
    pthread_mutex_lock(&c->lock);
    if (atomic_load(&c->stop) == 0) {
        atomic_store(&c->stop, rc);
        if (e)
            c->err = *e;
    }
    pthread_mutex_unlock(&c->lock);
}

static void *run_worker(void *arg)
{
    run_ctx_t *c = arg;
    int n = c->impressions;
    pm_image_t *imgs = calloc((size_t)n, sizeof *imgs);
    pm_synthfp_impression_t *tr = calloc((size_t)n, sizeof *tr);
    if (!imgs || !tr) {
        pm_error_t e = {0};
        pm_error_set(&e, PM_ENOMEM, "out of memory for a worker");
        run_fail(c, PM_ENOMEM, &e);
    }
    while (imgs && tr && atomic_load(&c->stop) == 0) {
        unsigned long long k = atomic_fetch_add(&c->next, 1);
        if (k >= c->count)
            break;
        pm_error_t e = {0};
        pm_synthfp_master_t m;
        int rc = pm_synthfp_master(c->p, c->first + k, c->ex, &m, &e);
        int made = 0;
        for (int i = 0; i < n && !rc; i++, made++)
            rc = pm_synthfp_impression(c->p, &m, i + 1, &imgs[i], &tr[i], &e);
        if (!rc)
            rc = c->cb(c->user, &m, imgs, tr, n);
        for (int i = 0; i < made; i++)
            pm_image_free(&imgs[i]);
        pm_synthfp_master_free(&m);
        if (rc)
            run_fail(c, rc, rc < 0 ? &e : NULL);
    }
    free(imgs);
    free(tr);
    return NULL;
}

int pm_synthfp_run(const pm_synthfp_params_t *p, uint64_t first, uint64_t count, int impressions,
                   int threads, const pm_extractor_t *ex, pm_synthfp_fn cb, void *user,
                   pm_error_t *err)
{
    int rc = pm_synthfp_params_check(p, err);
    if (rc)
        return rc;
    if (!cb)
        return pm_error_set(err, PM_EINVAL, "no callback");
    if (count > PM_SYNTHFP_MAX_FINGERS || first > PM_SYNTHFP_MAX_FINGERS)
        return pm_error_set(err, PM_EINVAL, "fingers beyond %u", PM_SYNTHFP_MAX_FINGERS);
    if (impressions < 1 || impressions > PM_SYNTHFP_MAX_IMPRESSIONS)
        return pm_error_set(err, PM_EINVAL, "impressions %d outside 1..%d", impressions,
                            PM_SYNTHFP_MAX_IMPRESSIONS);
    if (threads < 0 || threads > PM_SYNTHFP_MAX_THREADS)
        return pm_error_set(err, PM_EINVAL, "threads %d outside 0..%d", threads,
                            PM_SYNTHFP_MAX_THREADS);
    if (threads == 0)
        threads = 1;
    run_ctx_t c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.first = first;
    c.count = count;
    c.impressions = impressions;
    c.ex = ex;
    c.cb = cb;
    c.user = user;
    atomic_init(&c.next, 0);
    atomic_init(&c.stop, 0);
    pthread_mutex_init(&c.lock, NULL);
    pthread_t tid[PM_SYNTHFP_MAX_THREADS];
    int started = 0;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tid[started], NULL, run_worker, &c) != 0)
            break; /* fewer threads: same output, only slower */
        started++;
    }
    run_worker(&c); /* the caller's thread is one of the pool */
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&c.lock);
    rc = atomic_load(&c.stop);
    if (rc < 0 && err)
        *err = c.err;
    return rc;
}
