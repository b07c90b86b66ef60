/* Synthetic finger templates at the minutiae level (gallery.h). */
#include <math.h>
#include <string.h>

#include "perimeter/gallery.h"

#define TWO_PI 6.28318530717958647692
#define PI 3.14159265358979323846

typedef struct rng {
    uint64_t s;
} rng_t;

static uint64_t next64(rng_t *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double unif(rng_t *r) { return (double)(next64(r) >> 11) * (1.0 / 9007199254740992.0); }
static double range(rng_t *r, double a, double b) { return a + (b - a) * unif(r); }
static double gauss(rng_t *r)
{
    double u = unif(r), v = unif(r);
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2 * log(u)) * cos(TWO_PI * v);
}
static rng_t seeded(uint64_t seed, uint64_t id, uint64_t salt)
{
    rng_t r = {seed ^ (id * 0xD1B54A32D192ED03ull) ^ (salt * 0x8CB92BA72F3D8DD7ull)};
    next64(&r);
    return r;
}

/* Finger geometry at 500 ppi: an ellipse around (CX, CY). */
#define CX 300.0
#define CY 350.0

typedef struct field {
    int ncores, ndeltas;
    double core[2][2], delta[2][2];
    double base; /* arches: overall tilt */
} field_t;

/* Ridge orientation (radians, modulo pi) at (x, y), y down: the zero-pole
 * model, orientation = base + (sum arg(z - core) - sum arg(z - delta)) / 2. */
static double orientation(const field_t *f, double x, double y)
{
    double o = f->base;
    for (int i = 0; i < f->ncores; i++)
        o += 0.5 * atan2(-(y - f->core[i][1]), x - f->core[i][0]);
    for (int i = 0; i < f->ndeltas; i++)
        o -= 0.5 * atan2(-(y - f->delta[i][1]), x - f->delta[i][0]);
    if (f->ncores == 0) /* arch: ridges bow upwards around the centre */
        o += 0.35 * sin((x - CX) / 120.0) * exp(-fabs(y - CY) / 200.0);
    return o;
}

void pm_gallery_synth_master(uint64_t seed, uint64_t id, pm_fingerprint_t *out)
{
    rng_t r = seeded(seed, id, 1);
    memset(out, 0, sizeof *out);
    out->ppi = 500;
    out->width = 600;
    out->height = 700;
    out->quality = 80;
    field_t f;
    memset(&f, 0, sizeof f);
    double u = unif(&r);
    double cx = CX + range(&r, -30, 30), cy = CY + range(&r, -40, 20);
    if (u < 0.037) { /* arch */
        f.base = range(&r, -0.15, 0.15);
    } else if (u < 0.066) { /* tented arch */
        f.ncores = f.ndeltas = 1;
        f.core[0][0] = cx, f.core[0][1] = cy - 20;
        f.delta[0][0] = cx + range(&r, -10, 10), f.delta[0][1] = cy + range(&r, 60, 90);
    } else if (u < 0.72) { /* loops, left or right */
        f.ncores = f.ndeltas = 1;
        double side = unif(&r) < 0.5 ? -1 : 1;
        f.core[0][0] = cx, f.core[0][1] = cy - 30;
        f.delta[0][0] = cx + side * range(&r, 90, 150), f.delta[0][1] = cy + range(&r, 80, 150);
    } else { /* whorl */
        f.ncores = f.ndeltas = 2;
        double w = range(&r, 20, 50), t = range(&r, -0.5, 0.5);
        f.core[0][0] = cx - w * cos(t), f.core[0][1] = cy - 20 - w * sin(t);
        f.core[1][0] = cx + w * cos(t), f.core[1][1] = cy - 20 + w * sin(t);
        f.delta[0][0] = cx - range(&r, 110, 160), f.delta[0][1] = cy + range(&r, 90, 150);
        f.delta[1][0] = cx + range(&r, 110, 160), f.delta[1][1] = cy + range(&r, 90, 150);
    }
    double ax = range(&r, 170, 200), ay = range(&r, 230, 270);
    int target = (int)range(&r, 70, 110);
    const double min_d2 = 16.0 * 16.0;
    size_t n = 0;
    for (int tries = 0; tries < 20000 && (int)n < target && n < PM_MAX_MINUTIAE; tries++) {
        double x = CX + range(&r, -ax, ax), y = CY + range(&r, -ay, ay);
        double ex = (x - CX) / ax, ey = (y - CY) / ay;
        if (ex * ex + ey * ey > 1)
            continue;
        int ok = 1;
        for (size_t k = 0; k < n && ok; k++) {
            double dx = out->minutiae[k].x - x, dy = out->minutiae[k].y - y;
            ok = dx * dx + dy * dy >= min_d2;
        }
        if (!ok)
            continue;
        double a = orientation(&f, x, y) + (unif(&r) < 0.5 ? 0 : PI) + 0.05 * gauss(&r);
        a = fmod(a, TWO_PI);
        if (a < 0)
            a += TWO_PI;
        pm_minutia_t *m = &out->minutiae[n++];
        m->x = (float)x;
        m->y = (float)y;
        m->angle = (float)a;
        m->type = unif(&r) < 0.5 ? PM_MINUTIA_ENDING : PM_MINUTIA_BIFURCATION;
        m->quality = (uint8_t)range(&r, 40, 100);
    }
    out->count = n;
}

void pm_gallery_synth_impression(const pm_fingerprint_t *master, uint64_t seed, uint64_t id,
                                 uint32_t impression, const pm_gallery_synth_options_t *options,
                                 pm_fingerprint_t *out)
{
    pm_gallery_synth_options_t o = {0};
    if (options)
        o = *options;
#define DEF(f, v)                                                                                  \
    if (!(o.f > 0))                                                                                \
    o.f = (v)
    DEF(rotation_deg, 20);
    DEF(displacement, 40);
    DEF(distortion, 8);
    DEF(jitter_px, 2.5);
    DEF(jitter_deg, 5);
    DEF(drop, 0.2);
    DEF(spurious, 0.1);
    DEF(type_flip, 0.1);
    DEF(window_w, 300);
    DEF(window_h, 360);
    DEF(shift_px, PM_GALLERY_SYNTH_SHIFT_PX);
#undef DEF
    rng_t r = seeded(seed, id, 0x1000 + impression);
    memset(out, 0, sizeof *out);
    out->ppi = 500;
    out->width = o.window_w;
    out->height = o.window_h;
    out->quality = 60;
    out->finger = master->finger;
    /* where the finger touched: the contact centre in master coordinates */
    double ccx = CX + range(&r, -o.displacement, o.displacement);
    double ccy = CY + range(&r, -o.displacement, o.displacement);
    if (o.shift_share > 0) {
        /* its own stream: the draws above and below stay as without it */
        rng_t rs = seeded(seed, id, 0x2000 + impression);
        if (unif(&rs) < o.shift_share) {
            double d = range(&rs, 0.5, 1.0) * o.shift_px, t = range(&rs, 0, TWO_PI);
            ccx += d * cos(t);
            ccy += d * sin(t);
        }
    }
    double rot = range(&r, -o.rotation_deg, o.rotation_deg) * PI / 180.0;
    double c = cos(rot), s = sin(rot);
    /* distortion: a smooth swirl-and-stretch field, zero at the contact
     * centre, growing with the square of the distance */
    double d_amp = range(&r, 0.3, 1.0) * o.distortion, d_phase = range(&r, 0, TWO_PI);
    double d_sx = range(&r, -1, 1), d_sy = range(&r, -1, 1);
    double half_diag = 0.5 * sqrt((double)o.window_w * o.window_w + (double)o.window_h * o.window_h);
    size_t n = 0;
    for (size_t i = 0; i < master->count && n < PM_MAX_MINUTIAE; i++) {
        const pm_minutia_t *m = &master->minutiae[i];
        if (unif(&r) < o.drop)
            continue;
        double dx = m->x - ccx, dy = m->y - ccy;
        double rr = sqrt(dx * dx + dy * dy) / half_diag, k = d_amp * rr * rr;
        double ddx = k * (d_sx * cos(d_phase) + 0.5 * sin(dy / 80.0 + d_phase));
        double ddy = k * (d_sy * sin(d_phase) + 0.5 * sin(dx / 80.0 - d_phase));
        dx += ddx + o.jitter_px * gauss(&r);
        dy += ddy + o.jitter_px * gauss(&r);
        /* rotate about the contact centre, then into window coordinates */
        double x = c * dx - s * dy + o.window_w / 2.0, y = s * dx + c * dy + o.window_h / 2.0;
        if (x < 8 || y < 8 || x >= o.window_w - 8 || y >= o.window_h - 8)
            continue;
        /* image rotation (y down) by rot turns directions (counter-clockwise) by -rot */
        double a = m->angle - rot + o.jitter_deg * PI / 180.0 * gauss(&r);
        a = fmod(a, TWO_PI);
        if (a < 0)
            a += TWO_PI;
        pm_minutia_t *q = &out->minutiae[n++];
        q->x = (float)x;
        q->y = (float)y;
        q->angle = (float)a;
        q->type = m->type;
        if (unif(&r) < o.type_flip)
            q->type = q->type == PM_MINUTIA_ENDING ? PM_MINUTIA_BIFURCATION : PM_MINUTIA_ENDING;
        q->quality = (uint8_t)fmin(100, fmax(1, m->quality + 15 * gauss(&r)));
    }
    size_t kept = n;
    size_t extra = (size_t)(o.spurious * (double)kept + unif(&r));
    for (size_t e = 0; e < extra && n < PM_MAX_MINUTIAE; e++) {
        pm_minutia_t *q = &out->minutiae[n++];
        q->x = (float)range(&r, 8, o.window_w - 8);
        q->y = (float)range(&r, 8, o.window_h - 8);
        q->angle = (float)range(&r, 0, TWO_PI);
        q->type = unif(&r) < 0.5 ? PM_MINUTIA_ENDING : PM_MINUTIA_BIFURCATION;
        q->quality = (uint8_t)range(&r, 10, 60);
    }
    /* shuffle, so order carries no information */
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(next64(&r) % i);
        pm_minutia_t t = out->minutiae[i - 1];
        out->minutiae[i - 1] = out->minutiae[j];
        out->minutiae[j] = t;
    }
    out->count = n;
}
