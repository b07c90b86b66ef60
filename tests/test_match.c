/* match: invariance to rotation/translation, partial overlap, impostors,
 * error-rate arithmetic, vendor templates. */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/match.h"
#include "perimeter/tmpl.h"

#include "match/match_internal.h"

#define TWO_PI 6.28318530717958647692

static double urand(uint64_t *rng) { return (double)(pm_test_rand(rng) >> 11) / 9007199254740992.0; }

/* A plausible view: minutiae at least 12 px apart in a 300 x 400 area, with
 * directions that follow a smooth field plus noise (as on real prints). */
static void random_view(pm_fingerprint_t *fp, uint64_t *rng, size_t count)
{
    memset(fp, 0, sizeof *fp);
    fp->width = 300;
    fp->height = 400;
    fp->ppi = 500;
    double phase = urand(rng) * TWO_PI;
    size_t n = 0;
    for (int tries = 0; n < count && tries < 100000; tries++) {
        double x = 20 + urand(rng) * 260, y = 20 + urand(rng) * 360;
        int close = 0;
        for (size_t k = 0; k < n && !close; k++) {
            double dx = fp->minutiae[k].x - x, dy = fp->minutiae[k].y - y;
            close = dx * dx + dy * dy < 144;
        }
        if (close)
            continue;
        double field = atan2(y - 200, x - 150) + phase + 0.3 * sin(x / 40.0);
        double a = field + (pm_test_rand(rng) & 1 ? M_PI : 0) + (urand(rng) - 0.5) * 0.6;
        a = fmod(a + 4 * TWO_PI, TWO_PI);
        fp->minutiae[n] = (pm_minutia_t){(float)x, (float)y, (float)a,
                                         (uint8_t)(1 + pm_test_rand(rng) % 2), 60};
        n++;
    }
    fp->count = n;
}

/* Rotates by `rot` about the centre, translates, jitters positions by up to
 * `jitter` px and angles by up to 8 degrees, drops minutiae with probability
 * `drop`, keeps only those with x < keep_x (partial view). */
static void transform(const pm_fingerprint_t *in, pm_fingerprint_t *out, double rot, double tx,
                      double ty, double jitter, double drop, double keep_x, uint64_t *rng)
{
    *out = *in;
    out->count = 0;
    double c = cos(rot), s = sin(rot);
    for (size_t i = 0; i < in->count; i++) {
        const pm_minutia_t *m = &in->minutiae[i];
        if (m->x >= keep_x || urand(rng) < drop)
            continue;
        double x = m->x - 150, y = m->y - 200;
        /* image coordinates (y down): a counter-clockwise rotation as displayed */
        double nx = c * x + s * y + 150 + tx + (urand(rng) - 0.5) * 2 * jitter;
        double ny = -s * x + c * y + 200 + ty + (urand(rng) - 0.5) * 2 * jitter;
        if (nx < 0 || ny < 0)
            continue;
        double a = fmod(m->angle + rot + (urand(rng) - 0.5) * 0.28 + 2 * TWO_PI, TWO_PI);
        out->minutiae[out->count++] = (pm_minutia_t){(float)nx, (float)ny, (float)a, m->type, 60};
    }
}

static double score_of(const pm_fingerprint_t *a, const pm_fingerprint_t *b, pm_match_result_t *r)
{
    pm_match_template_t *ta = NULL, *tb = NULL;
    pm_matcher_t *m = NULL;
    assert_int_equal(pm_match_prepare(a, &ta, NULL), 0);
    assert_int_equal(pm_match_prepare(b, &tb, NULL), 0);
    assert_int_equal(pm_matcher_new(&m, NULL), 0);
    double s = pm_match_compare(m, ta, tb, r);
    pm_matcher_free(m);
    pm_match_template_free(ta);
    pm_match_template_free(tb);
    return s;
}

static void test_rotated_translated_copy(void **state)
{
    (void)state;
    uint64_t rng = 42;
    static pm_fingerprint_t a, b;
    for (int trial = 0; trial < 8; trial++) {
        random_view(&a, &rng, 40);
        double rot = (trial - 4) * 0.35; /* -80 .. +60 degrees */
        transform(&a, &b, rot, 60 + trial * 10, -30 + trial * 7, 3.0, 0.1, 1e9, &rng);
        pm_match_result_t r;
        double s = score_of(&a, &b, &r);
        print_message("rot %+.0f deg: score %.1f paired %d/%zu, est. rotation %.1f\n",
                      rot * 180 / M_PI, s, r.paired, b.count, r.rotation * 180 / M_PI);
        assert_true(s >= 40.0); /* FMR below 1e-4 */
        assert_true(r.paired >= (int)b.count * 3 / 4);
        double d = fabs(fmod(r.rotation - rot + 3 * M_PI, TWO_PI) - M_PI);
        assert_true(d < 0.1);
    }
    /* identity: the best possible score, and symmetric */
    pm_match_result_t r1, r2;
    double s1 = score_of(&a, &a, &r1), s2 = score_of(&b, &a, &r2);
    assert_int_equal(r1.paired, (int)a.count);
    assert_true(s1 >= s2);
}

/* Compares with the given options (pm_match_options_t). */
static double score_opts(const pm_fingerprint_t *a, const pm_fingerprint_t *b, double sigma,
                         double qw, pm_match_result_t *r)
{
    pm_match_template_t *ta = NULL, *tb = NULL;
    pm_matcher_t *m = NULL;
    pm_match_options_t o;
    pm_match_options_default(&o);
    o.local_sigma = sigma;
    o.quality_weight = qw;
    assert_int_equal(pm_match_prepare(a, &ta, NULL), 0);
    assert_int_equal(pm_match_prepare(b, &tb, NULL), 0);
    assert_int_equal(pm_matcher_new(&m, NULL), 0);
    assert_int_equal(pm_matcher_set_options(m, &o, NULL), 0);
    double s = pm_match_compare(m, ta, tb, r);
    pm_matcher_free(m);
    pm_match_template_free(ta);
    pm_match_template_free(tb);
    return s;
}

/* Skin distortion: a copy (25% of minutiae dropped, 2 px jitter) bent
 * non-linearly (a displacement growing with the square of the distance from
 * the centre, 35-50 px at the edges)
 * scores higher (raw) with the local consolidation at 30 px than with the
 * rigid matcher (at the shipped 120 px the neighbourhood spans most of a
 * print and the effect on such a smooth bend is small). */
static void test_distortion_local(void **state)
{
    (void)state;
    uint64_t rng = 1414;
    static pm_fingerprint_t a, b;
    double sum_rigid = 0, sum_local = 0;
    for (int trial = 0; trial < 6; trial++) {
        random_view(&a, &rng, 45);
        transform(&a, &b, 0.1, 5, 5, 2.0, 0.25, 1e9, &rng);
        for (size_t i = 0; i < b.count; i++) {
            double x = b.minutiae[i].x - 150, y = b.minutiae[i].y - 200;
            b.minutiae[i].x = (float)(150 + x + 0.0015 * (y * y) * (trial & 1 ? 1 : -1));
            b.minutiae[i].y = (float)(200 + y + 0.0015 * x * x);
        }
        pm_match_result_t rr, rl;
        double s_rigid = score_opts(&a, &b, 0, 0, &rr);
        double s_local = score_opts(&a, &b, 30, 0, &rl);
        print_message("bent copy: rigid %.1f (raw %.2f, %d paired), local %.1f (raw %.2f, %d paired) "
                      "of %zu\n", s_rigid, rr.raw, rr.paired, s_local, rl.raw, rl.paired, b.count);
        assert_true(rl.paired >= rr.paired);
        sum_rigid += rr.raw;
        sum_local += rl.raw;
    }
    /* raw, not the score: scores beyond 70 only order strong matches */
    assert_true(sum_local > 1.1 * sum_rigid);
    /* options are checked */
    pm_matcher_t *m = NULL;
    assert_int_equal(pm_matcher_new(&m, NULL), 0);
    pm_match_options_t o;
    pm_match_options_default(&o);
    assert_int_equal(pm_matcher_set_options(m, &o, NULL), 0);
    o.local_sigma = -1;
    assert_int_equal(pm_matcher_set_options(m, &o, NULL), PM_EINVAL);
    pm_match_options_default(&o);
    o.quality_weight = 1.5;
    assert_int_equal(pm_matcher_set_options(m, &o, NULL), PM_EINVAL);
    o.quality_weight = NAN;
    assert_int_equal(pm_matcher_set_options(m, &o, NULL), PM_EINVAL);
    assert_int_equal(pm_matcher_set_options(NULL, &o, NULL), PM_EINVAL);
    assert_int_equal(pm_matcher_set_options(m, NULL, NULL), PM_EINVAL);
    pm_matcher_free(m);
}

/* Quality in the overlap: the paired share of each view's overlap is
 * measured in reliability (capped at the count share), so a pairing made of
 * the overlap's less reliable minutiae scores lower with the weight on;
 * minutiae of unreported quality (0) count fully, as without the weight. */
static void test_quality_overlap(void **state)
{
    (void)state;
    uint64_t rng = 77;
    static pm_fingerprint_t a, b;
    random_view(&a, &rng, 60);
    transform(&a, &b, 0.2, 10, 5, 2.0, 0.0, 1e9, &rng);
    /* b holds a's first 30 minutiae (of low quality in a) and 30 others */
    static pm_fingerprint_t other;
    random_view(&other, &rng, 60);
    for (size_t i = 30; i < 60; i++)
        b.minutiae[i] = other.minutiae[i];
    for (size_t i = 0; i < 30; i++)
        a.minutiae[i].quality = 10;
    double off = score_opts(&a, &b, 0, 0, NULL), on = score_opts(&a, &b, 0, 1, NULL);
    print_message("pairing of low-quality minutiae: weight off %.1f, on %.1f\n", off, on);
    assert_true(on < off - 2);
    for (size_t i = 0; i < a.count; i++)
        a.minutiae[i].quality = 0;
    off = score_opts(&a, &b, 0, 0, NULL);
    on = score_opts(&a, &b, 0, 1, NULL);
    assert_true(fabs(on - off) < 1e-9);
}

static void test_unrelated_low(void **state)
{
    (void)state;
    uint64_t rng = 7;
    static pm_fingerprint_t a, b;
    int high = 0;
    for (int trial = 0; trial < 100; trial++) {
        random_view(&a, &rng, 35 + trial % 20);
        random_view(&b, &rng, 35 + (trial * 7) % 20);
        double s = score_of(&a, &b, NULL);
        high += s >= 30.0;
    }
    print_message("unrelated pairs scoring >= 30: %d of 100\n", high);
    assert_true(high <= 2);
}

static void test_partial_overlap(void **state)
{
    (void)state;
    uint64_t rng = 1234;
    static pm_fingerprint_t a, b;
    for (int trial = 0; trial < 5; trial++) {
        random_view(&a, &rng, 50);
        /* keep only the left 45% of the view: about 20 minutiae in common */
        transform(&a, &b, 0.2, -20, 15, 2.5, 0.1, 135, &rng);
        pm_match_result_t r;
        double s = score_of(&a, &b, &r);
        print_message("partial: score %.1f paired %d of %zu\n", s, r.paired, b.count);
        assert_true(s >= 30.0);
    }
}

/* pm_match_last_pairs: the pairing the score came from, as indices into the
 * views the templates were prepared from (a minutia the template skips, here
 * a non-finite one at index 0 of a, shifts nothing). b is a rotated,
 * translated copy of a in reverse order, so the true partner of a's minutia
 * i is b's minutia n - i (a's 0 is the skipped one). */
static void test_last_pairs(void **state)
{
    (void)state;
    uint64_t rng = 99;
    static pm_fingerprint_t a, b, src;
    random_view(&src, &rng, 40);
    a = src;
    a.minutiae[0].x = NAN;
    size_t n = a.count - 1;
    b = src;
    b.count = n;
    double rot = 0.3, c = cos(rot), s = sin(rot);
    for (size_t i = 1; i <= n; i++) {
        const pm_minutia_t *m = &src.minutiae[i];
        double x = m->x - 150, y = m->y - 200;
        pm_minutia_t *o = &b.minutiae[n - i];
        *o = *m;
        o->x = (float)(c * x + s * y + 200 + (urand(&rng) - 0.5) * 3);
        o->y = (float)(-s * x + c * y + 220 + (urand(&rng) - 0.5) * 3);
        o->angle = (float)fmod(m->angle + rot + 2 * TWO_PI, TWO_PI);
    }
    pm_match_template_t *ta = NULL, *tb = NULL;
    pm_matcher_t *mt = NULL;
    assert_int_equal(pm_match_prepare(&a, &ta, NULL), 0);
    assert_int_equal(pm_match_prepare(&b, &tb, NULL), 0);
    assert_int_equal(pm_matcher_new(&mt, NULL), 0);
    pm_match_result_t r;
    double sc = pm_match_compare(mt, ta, tb, &r);
    pm_match_minutia_pair_t pairs[PM_MAX_MINUTIAE];
    int np = pm_match_last_pairs(mt, ta, tb, pairs, PM_MAX_MINUTIAE);
    int right = 0;
    uint8_t used_a[PM_MAX_MINUTIAE] = {0}, used_b[PM_MAX_MINUTIAE] = {0};
    for (int k = 0; k < np; k++) {
        assert_true(pairs[k].a >= 1 && pairs[k].a <= (int)n);
        assert_true(pairs[k].b >= 0 && pairs[k].b < (int)n);
        assert_false(used_a[pairs[k].a]++);
        assert_false(used_b[pairs[k].b]++);
        right += pairs[k].b == (int)n - pairs[k].a;
    }
    print_message("last pairs: score %.1f, %d pairs (result %d), %d the true partners\n", sc, np,
                  r.paired, right);
    assert_true(sc >= 40.0);
    assert_int_equal(np, r.paired);
    assert_true(np >= (int)n * 9 / 10);
    assert_int_equal(right, np);
    /* a count without room, then a comparison pairing nothing clears them */
    assert_int_equal(pm_match_last_pairs(mt, ta, tb, NULL, 0), np);
    static pm_fingerprint_t tiny;
    memset(&tiny, 0, sizeof tiny);
    tiny.count = 2;
    pm_match_template_t *tt = NULL;
    assert_int_equal(pm_match_prepare(&tiny, &tt, NULL), 0);
    assert_true(pm_match_compare(mt, tt, tb, NULL) == 0.0);
    assert_int_equal(pm_match_last_pairs(mt, tt, tb, pairs, PM_MAX_MINUTIAE), 0);
    assert_int_equal(pm_match_last_pairs(mt, ta, tb, pairs, PM_MAX_MINUTIAE), 0);
    pm_match_template_free(tt);
    pm_matcher_free(mt);
    pm_match_template_free(ta);
    pm_match_template_free(tb);
}

static void test_degenerate(void **state)
{
    (void)state;
    static pm_fingerprint_t a;
    memset(&a, 0, sizeof a);
    a.count = 2;
    a.minutiae[1].x = 50;
    assert_true(score_of(&a, &a, NULL) == 0.0);
    pm_match_template_t *t = NULL;
    assert_int_equal(pm_match_prepare(NULL, &t, NULL), PM_EINVAL);
    assert_true(pm_match_compare(NULL, NULL, NULL, NULL) == 0.0);
}

static void test_rates(void **state)
{
    (void)state;
    /* genuine 1..10, impostors 0, 0.5, .., 9.5; accept when score >= t. At t = 5.5:
     * FNMR 5/10 (1..5), FMR 9/20 (5.5..9.5), the closest pair (gap 0.05; t = 5 gives
     * 0.4/0.5, t = 6 gives 0.5/0.4): EER 0.475 at 5.5. */
    double g[10], im[20];
    for (int i = 0; i < 10; i++)
        g[i] = i + 1;
    for (int i = 0; i < 20; i++)
        im[i] = i * 0.5;
    pm_match_rates_t r;
    assert_int_equal(pm_match_rates(g, 10, im, 20, &r, NULL), 0);
    assert_true(fabs(r.eer - 0.475) < 1e-12);
    assert_true(fabs(r.eer_threshold - 5.5) < 1e-12);
    /* zero FMR needs t > 9.5, i.e. t = 10: FNMR 9/10 */
    assert_true(fabs(r.zerofmr - 0.9) < 1e-12);
    /* FMR <= 1% and <= 0.1% of 20 impostors both mean zero false matches */
    assert_true(fabs(r.fmr100 - 0.9) < 1e-12 && fabs(r.fmr1000 - 0.9) < 1e-12);
    /* Known answers for FMR100 / FMR1000: impostors 0..999; genuine 5 at 989.5,
     * 10 at 995.5, 5 at 1000.5. FMR <= 1% allows the 10 impostors 990..999:
     * t = 989.5 accepts every genuine (FMR100 0). FMR <= 0.1% allows one: t = 999
     * rejects the 15 genuine below it (FMR1000 0.75); ZeroFMR: t = 1000.5, 0.75.
     * EER: t = 989.5, FMR 0.01, FNMR 0 (every other threshold has a gap >= 0.24):
     * 0.005. */
    static double imp[1000], gen[20];
    for (int i = 0; i < 1000; i++)
        imp[i] = i;
    for (int i = 0; i < 20; i++)
        gen[i] = i < 5 ? 989.5 : i < 15 ? 995.5 : 1000.5;
    assert_int_equal(pm_match_rates(gen, 20, imp, 1000, &r, NULL), 0);
    assert_true(fabs(r.fmr100 - 0.0) < 1e-12);
    assert_true(fabs(r.fmr1000 - 0.75) < 1e-12);
    assert_true(fabs(r.zerofmr - 0.75) < 1e-12);
    assert_true(fabs(r.eer - 0.005) < 1e-12);
    assert_true(fabs(r.eer_threshold - 989.5) < 1e-12);
    /* perfectly separated: EER 0 at the lowest genuine score */
    for (int i = 0; i < 10; i++)
        g[i] = 100 + i;
    assert_int_equal(pm_match_rates(g, 10, im, 20, &r, NULL), 0);
    assert_true(r.eer == 0.0 && r.zerofmr == 0.0 && r.fmr1000 == 0.0);
    assert_true(r.eer_threshold > 9.5 && r.eer_threshold <= 100);
    assert_int_equal(pm_match_rates(g, 0, im, 20, &r, NULL), PM_EINVAL);
    /* the calibration is monotone and maps 0 to 0 */
    assert_true(pm_match_calibrate(0) == 0.0);
    double last = 0;
    for (double raw = 0.5; raw < 200; raw += 0.5) {
        double s = pm_match_calibrate(raw);
        assert_true(s >= last);
        last = s;
    }
    /* Whether the calibrated scale is right is measured on held-out impostor
     * pairs in test_match_data.c (shared data), not restated from the formula. */
}

static int load(const char *path, pm_fingerprint_t *out)
{
    pm_fingerprint_t *v = NULL;
    size_t n = 0;
    int rc = pm_tmpl_read_file(path, &v, &n, NULL, NULL);
    if (!rc) {
        *out = v[0];
        free(v);
    }
    return rc;
}

/* On the vendor's templates, impressions of one finger outscore other fingers. */
static void test_vendor_genuine_vs_impostor(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(data, "fvc2002-vendor-iso");
    char root[4096];
    snprintf(root, sizeof root, "%s/fvc2002-vendor-iso/DB1_B", data);
    static pm_fingerprint_t v[10][2];
    for (int f = 0; f < 10; f++)
        for (int i = 0; i < 2; i++) {
            char path[4200];
            snprintf(path, sizeof path, "%s/%d_%d.iso", root, 101 + f, i + 1);
            assert_int_equal(load(path, &v[f][i]), 0);
        }
    int gen_high = 0, imp_high = 0;
    for (int f = 0; f < 10; f++) {
        gen_high += score_of(&v[f][0], &v[f][1], NULL) >= 30.0;
        for (int g = f + 1; g < 10; g++)
            imp_high += score_of(&v[f][0], &v[g][1], NULL) >= 30.0;
    }
    print_message("DB1 vendor: genuine >= 30: %d/10, impostors >= 30: %d/45\n", gen_high, imp_high);
    assert_true(gen_high >= 9); /* measured 10/10 */
    assert_true(imp_high == 0); /* measured 0/45 */
}

/* Prepared templates are shared read-only; each thread has its own matcher
 * and gets exactly the single-threaded scores. */
#define MT_VIEWS 12
typedef struct mt_job {
    pm_match_template_t **t;
    double scores[MT_VIEWS * MT_VIEWS];
} mt_job_t;

static void *mt_run(void *arg)
{
    mt_job_t *job = arg;
    pm_matcher_t *m = NULL;
    if (pm_matcher_new(&m, NULL) != 0)
        return NULL;
    for (int rep = 0; rep < 5; rep++)
        for (int a = 0; a < MT_VIEWS; a++)
            for (int b = 0; b < MT_VIEWS; b++)
                job->scores[a * MT_VIEWS + b] = pm_match_compare(m, job->t[a], job->t[b], NULL);
    pm_matcher_free(m);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    uint64_t rng = 99;
    static pm_fingerprint_t v[MT_VIEWS];
    pm_match_template_t *t[MT_VIEWS];
    for (int k = 0; k < MT_VIEWS; k++) {
        if (k % 2 == 0)
            random_view(&v[k], &rng, 30 + k);
        else
            transform(&v[k - 1], &v[k], 0.3, 10, 5, 2.0, 0.1, 1e9, &rng);
        assert_int_equal(pm_match_prepare(&v[k], &t[k], NULL), 0);
    }
    static mt_job_t ref, jobs[4];
    ref.t = t;
    mt_run(&ref);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].t = t;
        assert_int_equal(pthread_create(&th[i], NULL, mt_run, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_memory_equal(jobs[i].scores, ref.scores, sizeof ref.scores);
    }
    /* a view and its transformed copy match; different views do not */
    assert_true(ref.scores[0 * MT_VIEWS + 1] >= 40.0);
    assert_true(ref.scores[0 * MT_VIEWS + 2] < 30.0);
    for (int k = 0; k < MT_VIEWS; k++)
        pm_match_template_free(t[k]);
}

/* Impostor raws with P(raw >= r) = 10^(-r / scale): FMR 1% at raw 2 * scale. */
static void exp_scores(double *v, size_t n, double scale, double shift, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++) {
        double u = urand(rng);
        v[i] = shift + scale * -log10(u > 1e-300 ? u : 1e-300);
    }
}

static void test_calibration_fit(void **state)
{
    (void)state;
    enum { N = 20000 };
    static double a[N], b[N];
    uint64_t rng = 7;
    exp_scores(a, N, 1.0, 0, &rng);
    exp_scores(b, N, 1.5, 0, &rng);
    pm_match_calibration_t cal;
    const double *one[1] = {a};
    size_t n1[1] = {N};
    assert_int_equal(pm_match_calibration_fit(one, n1, 1, PM_MATCH_CAL_POOLED, &cal, NULL), PM_OK);
    /* body (empirical) and tail (extrapolated beyond FMR 5e-4... 1e-4) */
    assert_true(fabs(pm_match_calibrate_with(&cal, 1.0) - 10.0) < 0.5);
    assert_true(fabs(pm_match_calibrate_with(&cal, 3.0) - 30.0) < 1.5);
    assert_true(fabs(pm_match_calibrate_with(&cal, 4.0) - 40.0) < 2.5);
    assert_true(pm_match_calibrate_with(&cal, 0.0) == 0.0);
    for (int k = 1; k < cal.nknots; k++)
        assert_true(cal.raw[k] > cal.raw[k - 1] && cal.score[k] > cal.score[k - 1]);
    /* conservative: at every FMR level the heavier-tailed set decides (raw 3
     * is FMR 1% for b), the pooled fit lies between the two */
    const double *two[2] = {a, b};
    size_t n2[2] = {N, N};
    pm_match_calibration_t cons, pool;
    assert_int_equal(pm_match_calibration_fit(two, n2, 2, PM_MATCH_CAL_CONSERVATIVE, &cons, NULL), PM_OK);
    assert_int_equal(pm_match_calibration_fit(two, n2, 2, PM_MATCH_CAL_POOLED, &pool, NULL), PM_OK);
    assert_true(fabs(pm_match_calibrate_with(&cons, 3.0) - 20.0) < 1.0);
    assert_true(fabs(pm_match_calibrate_with(&cons, 6.0) - 40.0) < 3.0);
    assert_true(pm_match_calibrate_with(&pool, 3.0) > pm_match_calibrate_with(&cons, 3.0) + 1.0);
    /* bound: the same knots where the data reach (empirical body), a
     * shallower tail beyond them; on one set of 2,880 (an FVC DB's impostors)
     * the far tail claims no less FMR than the true 10^-raw */
    enum { M = 2880 };
    static double c[M];
    exp_scores(c, M, 1.0, 0, &rng);
    const double *onec[1] = {c};
    size_t nc[1] = {M};
    pm_match_calibration_t cc, cb;
    assert_int_equal(pm_match_calibration_fit(onec, nc, 1, PM_MATCH_CAL_CONSERVATIVE, &cc, NULL), PM_OK);
    assert_int_equal(pm_match_calibration_fit(onec, nc, 1, PM_MATCH_CAL_BOUND, &cb, NULL), PM_OK);
    assert_true(pm_match_calibrate_with(&cb, 1.0) == pm_match_calibrate_with(&cc, 1.0));
    assert_true(pm_match_calibrate_with(&cb, 5.0) < pm_match_calibrate_with(&cc, 5.0) - 2.0);
    assert_true(pm_match_calibrate_with(&cb, 4.0) <= 40.0);
    for (int k = 1; k < cb.nknots; k++)
        assert_true(cb.raw[k] > cb.raw[k - 1] && cb.score[k] > cb.score[k - 1]);
    /* NULL: the built-in table */
    assert_true(pm_match_calibrate_with(NULL, 3.0) == pm_match_calibrate(3.0));
    /* too few scores, no sets */
    size_t few[1] = {99};
    assert_int_equal(pm_match_calibration_fit(one, few, 1, PM_MATCH_CAL_POOLED, &cal, NULL), PM_EINVAL);
    assert_int_equal(pm_match_calibration_fit(one, n1, 0, PM_MATCH_CAL_POOLED, &cal, NULL), PM_EINVAL);
}

static void test_cross_validate(void **state)
{
    (void)state;
    /* 3 sets x 2 grid points. Grid 0 separates sets 0 and 1 perfectly and
     * set 2 not at all (genuine drawn like the impostors: EER ~50%); grid 1
     * separates every set fairly (genuine shifted by 1: EER ~9%). Holding
     * out set 2 leaves sets 0 and 1, where grid 0 wins; holding out 0 or 1
     * keeps set 2 in training, where grid 1 wins. */
    enum { NG = 300, NI = 5000, NS = 3 };
    static double gen[2][NS][NG], imp[2][NS][NI];
    uint64_t rng = 11;
    pm_match_cv_set_t sets[2 * NS];
    for (int g = 0; g < 2; g++)
        for (int s = 0; s < NS; s++) {
            exp_scores(imp[g][s], NI, 1.0, 0, &rng);
            if (g == 0)
                exp_scores(gen[g][s], NG, 1.0, s == 2 ? 0.0 : 50.0, &rng);
            else
                exp_scores(gen[g][s], NG, 1.0, 1.0, &rng);
            sets[g * NS + s] = (pm_match_cv_set_t){"set", gen[g][s], NG, imp[g][s], NI, NULL, 0};
        }
    pm_match_cv_result_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    assert_int_equal(pm_match_cross_validate(sets, 2, NS, PM_MATCH_CAL_CONSERVATIVE, r, NULL), PM_OK);
    assert_int_equal(r->nfolds, NS);
    assert_int_equal(r->fold[2].choice, 0);
    assert_int_equal(r->fold[0].choice, 1);
    assert_int_equal(r->fold[1].choice, 1);
    assert_true(r->fold[2].all.eer > 0.3);               /* what grid 0 does to set 2 */
    assert_true(r->fold[0].all.eer < 0.2 && r->fold[0].all.eer > 0.02);
    /* grid 1's mean over sets 1 and 2 (~9%), below grid 0's (~(0 + 50%) / 2) */
    assert_true(r->fold[0].train_eer > 0.03 && r->fold[0].train_eer < 0.15);
    assert_true(r->pooled_nimpostor == (size_t)NS * NI);
    /* impostors drawn like the training ones: about 1% at 20, 0.1% at 30 */
    for (int h = 0; h < NS; h++) {
        assert_true(r->fold[h].at[0] >= 25 && r->fold[h].at[0] <= 90);
        assert_true(r->fold[h].at[1] <= 15);
    }
    /* no FVC impostors given: the FVC figures stay zero */
    assert_true(r->mean_fvc.eer == 0.0);
    /* bad arguments */
    assert_int_equal(pm_match_cross_validate(sets, 2, 1, PM_MATCH_CAL_POOLED, r, NULL), PM_EINVAL);
    sets[1].ngenuine = 0;
    assert_int_equal(pm_match_cross_validate(sets, 2, NS, PM_MATCH_CAL_POOLED, r, NULL), PM_EINVAL);
    free(r);
}

static void test_error_reject(void **state)
{
    (void)state;
    /* views 0..3, view 0 the worst; genuine (0,1) scores 1 and (2,3) 10,
     * impostors (0,2) 5 and (1,3) 2. All kept: the genuine 1 sits below both
     * impostors, so the EER is that of pm_match_rates on the four (above 0.2).
     * Rejecting 25% drops view 0 and with it (0,1) and (0,2): genuine 10 vs
     * impostor 2, EER 0. */
    const pm_match_pair_t pairs[] = {{0, 1, 1, 1.0}, {2, 3, 1, 10.0}, {0, 2, 0, 5.0}, {1, 3, 0, 2.0}};
    const int q[4] = {10, 50, 60, 70};
    const double rej[2] = {0.0, 0.25};
    double eer[2];
    size_t kept[2];
    assert_int_equal(pm_match_error_reject(pairs, 4, q, 4, rej, 2, eer, kept, NULL), PM_OK);
    pm_match_rates_t r;
    double g[2] = {1.0, 10.0}, im[2] = {5.0, 2.0};
    assert_int_equal(pm_match_rates(g, 2, im, 2, &r, NULL), PM_OK);
    assert_true(eer[0] == r.eer && eer[0] > 0.2);
    assert_true(eer[1] == 0.0);
    assert_true(kept[0] == 4 && kept[1] == 2);
    /* ties in quality: the lower index goes first */
    const int tie[4] = {50, 50, 60, 70};
    assert_int_equal(pm_match_error_reject(pairs, 4, tie, 4, rej, 2, eer, kept, NULL), PM_OK);
    assert_true(eer[1] == 0.0 && kept[1] == 2);
    /* rejecting half leaves no impostor; a view out of range; a bad share */
    const double half = 0.5, bad = 0.95;
    assert_int_equal(pm_match_error_reject(pairs, 4, q, 4, &half, 1, eer, NULL, NULL), PM_EINVAL);
    assert_int_equal(pm_match_error_reject(pairs, 4, q, 3, rej, 2, eer, NULL, NULL), PM_EINVAL);
    assert_int_equal(pm_match_error_reject(pairs, 4, q, 4, &bad, 1, eer, NULL, NULL), PM_EINVAL);
}

/* The edge-hash lookup's block test (SSE2 where built with it) gives the
 * same mask as its portable definition: random entries and tolerance boxes,
 * with boundary values (angles at the box's edges, wrapping a turn, lengths
 * at lo/hi and 255) made frequent, and every bucket length 0..20. */
static void test_hash_block_portable(void **state)
{
    uint64_t rng = 14;
    uint8_t len[16 + PM__HASH_PAD], ai[16 + PM__HASH_PAD], aj[16 + PM__HASH_PAD];
    long set = 0;
    for (int it = 0; it < 200000; it++) {
        pm__qedge_t q = {0};
        q.a0 = (uint8_t)pm_test_rand(&rng);
        q.b0 = (uint8_t)pm_test_rand(&rng);
        q.lo = (uint8_t)(pm_test_rand(&rng) % 250);
        q.hi = (uint8_t)(q.lo + pm_test_rand(&rng) % 30 > 255 ? 255 : q.lo + pm_test_rand(&rng) % 30);
        for (int k = 0; k < 16 + PM__HASH_PAD; k++) {
            uint64_t r = pm_test_rand(&rng);
            int d = (int)(r % 5) - 2; /* near a boundary */
            switch ((r >> 8) % 4) {
            case 0: len[k] = (uint8_t)(q.lo + d); break;
            case 1: len[k] = (uint8_t)(q.hi + d); break;
            case 2: len[k] = (uint8_t)(r >> 16); break;
            default: len[k] = 255; break;
            }
            ai[k] = (uint8_t)(r >> 24 & 1 ? q.a0 + (r >> 25) % 32 - 2 : r >> 32);
            aj[k] = (uint8_t)(r >> 40 & 1 ? q.b0 + (r >> 41) % 32 - 2 : r >> 48);
        }
        unsigned n = (unsigned)(pm_test_rand(&rng) % 21);
        unsigned want = pm__hash_block_portable(len, ai, aj, n, &q);
        unsigned got = pm__hash_block(len, ai, aj, n, &q);
        if (got != want)
            fail_msg("iteration %d: n %u, box a0 %u b0 %u len %u..%u: mask %04x, portable %04x", it,
                     n, q.a0, q.b0, q.lo, q.hi, got, want);
        assert_true(want < 1u << (n < 16 ? n : 16));
        set += want != 0;
    }
    assert_true(set > 1000); /* the boxes are hit, not only missed */
}

/* The edge angle without atan2 (pm__vec_angle256) equals the rounded atan2
 * for every vector an edge can have (|dx|, |dy| <= 255), ties and axes
 * included. */
static void test_vec_angle_exact(void **state)
{
    (void)state;
    long checked = 0;
    for (int dx = -255; dx <= 255; dx++)
        for (int dy = -255; dy <= 255; dy++) {
            long q = lround(atan2(-(double)dy, (double)dx) * 256.0 / TWO_PI);
            uint8_t want = (uint8_t)(q & 0xff), got = pm__vec_angle256(dx, dy);
            if (got != want)
                fail_msg("(%d, %d): %u, atan2 gives %u", dx, dy, got, want);
            checked++;
        }
    assert_int_equal(checked, 511L * 511L);
}

/* The neighbour graph as first written (every pair scanned, the k nearest
 * by (d2, j) sorted, each edge's angle by atan2 and length by lround(sqrt)),
 * kept here as the reference of the faster build_graph. */
static int ref_graph(const pm_match_template_t *t, pm__edge_t *edges, uint16_t *start)
{
    int n = t->n, cnt[PM_MAX_MINUTIAE] = {0};
    uint8_t adj[PM_MAX_MINUTIAE][PM__MAX_DEGREE];
    for (int i = 0; i < n; i++) {
        uint32_t keys[PM_MAX_MINUTIAE];
        int c = 0;
        for (int j = 0; j < n; j++) {
            int dx = t->x[j] - t->x[i], dy = t->y[j] - t->y[i], d2 = dx * dx + dy * dy;
            if (j != i && d2 >= PM__MIN_EDGE_LEN * PM__MIN_EDGE_LEN &&
                d2 <= PM__MAX_EDGE_LEN * PM__MAX_EDGE_LEN)
                keys[c++] = (uint32_t)d2 << 8 | (uint32_t)j;
        }
        for (int a = 1; a < c; a++) /* insertion sort */
            for (int b = a; b > 0 && keys[b - 1] > keys[b]; b--) {
                uint32_t x = keys[b];
                keys[b] = keys[b - 1];
                keys[b - 1] = x;
            }
        for (int q = 0; q < c && q < PM__K_NEAREST; q++) {
            int j = (int)(keys[q] & 0xff), have = 0;
            for (int r = 0; r < cnt[i]; r++)
                have |= adj[i][r] == j;
            if (!have && cnt[i] < PM__MAX_DEGREE)
                adj[i][cnt[i]++] = (uint8_t)j;
            have = 0;
            for (int r = 0; r < cnt[j]; r++)
                have |= adj[j][r] == i;
            if (!have && cnt[j] < PM__MAX_DEGREE)
                adj[j][cnt[j]++] = (uint8_t)i;
        }
    }
    int at = 0;
    for (int i = 0; i < n; i++) {
        start[i] = (uint16_t)at;
        for (int r = 0; r < cnt[i]; r++) {
            int j = adj[i][r];
            double dx = t->x[j] - t->x[i], dy = t->y[j] - t->y[i];
            long th = lround(atan2(-dy, dx) * 256.0 / TWO_PI) & 0xff;
            long len = lround(sqrt(dx * dx + dy * dy));
            pm__edge_t e = {.j = (uint8_t)j,
                            .ai = (uint8_t)(th - t->dir[i]),
                            .aj = (uint8_t)(th - t->dir[j]),
                            .tol = (uint8_t)pm__len_tol((int)len),
                            .len = (uint16_t)len};
            int p = at++;
            while (p > start[i] && edges[p - 1].len > e.len) {
                edges[p] = edges[p - 1];
                p--;
            }
            edges[p] = e;
        }
    }
    start[n] = (uint16_t)at;
    return at;
}

/* Views with many equal distances (minutiae on a coarse lattice, some on
 * the same spot, some beyond the longest edge) and plain random ones, up to
 * the 255-minutia limit: the prepared graph equals the reference's, edge for
 * edge; and a candidate prepared over in place (pm_match_prepare_candidate_into,
 * growing and shrinking) equals a fresh one and scores the same. */
static void test_graph_reference(void **state)
{
    (void)state;
    uint64_t rng = 2026;
    pm_fingerprint_t *fp = malloc(sizeof *fp), *probe_fp = malloc(sizeof *probe_fp);
    pm__edge_t *edges = malloc(PM_MAX_MINUTIAE * PM__MAX_DEGREE * sizeof *edges);
    uint16_t start[PM_MAX_MINUTIAE + 1];
    pm_match_template_t *reused = NULL, *probe = NULL;
    pm_matcher_t *m = NULL;
    assert_non_null(fp);
    assert_non_null(probe_fp);
    assert_non_null(edges);
    assert_int_equal(pm_matcher_new(&m, NULL), 0);
    random_view(probe_fp, &rng, 50);
    assert_int_equal(pm_match_prepare(probe_fp, &probe, NULL), 0);
    long compared_edges = 0, nonzero = 0;
    for (int it = 0; it < 300; it++) {
        size_t count = it % 3 == 2 ? 1 + pm_test_rand(&rng) % PM_MAX_MINUTIAE : 5 + pm_test_rand(&rng) % 80;
        if (it % 2) {
            random_view(fp, &rng, count);
            if (it % 4 == 1) /* the probe's own minutiae, jittered: scores above zero */
                transform(probe_fp, fp, 0.1, 5, -3, 2, 0.2, 1e9, &rng);
        } else {
            memset(fp, 0, sizeof *fp);
            fp->ppi = 500;
            int step = 6 + (int)(pm_test_rand(&rng) % 20), side = 4 + (int)(pm_test_rand(&rng) % 12);
            for (size_t k = 0; k < count; k++) {
                uint64_t r = pm_test_rand(&rng);
                fp->minutiae[k] = (pm_minutia_t){(float)(20 + step * (int)(r % side)),
                                                 (float)(20 + step * (int)((r >> 8) % side)),
                                                 (float)((r >> 16) % 628) / 100.0f,
                                                 (uint8_t)(1 + (r >> 32) % 2), 50};
            }
            fp->count = count;
        }
        pm_match_template_t *t = NULL;
        assert_int_equal(pm_match_prepare_candidate(fp, &t, NULL), 0);
        int ne = ref_graph(t, edges, start);
        assert_int_equal(t->nedges, ne);
        for (int i = 0; i <= t->n; i++)
            assert_int_equal(t->edge_start[i], start[i]);
        for (int e = 0; e < ne; e++) {
            const pm__edge_t *a = &t->edges[e], *b = &edges[e];
            if (a->j != b->j || a->ai != b->ai || a->aj != b->aj || a->len != b->len || a->tol != b->tol)
                fail_msg("view %d (%d minutiae), edge %d: j %u ai %u aj %u len %u, reference j %u ai "
                         "%u aj %u len %u", it, t->n, e, a->j, a->ai, a->aj, a->len, b->j, b->ai,
                         b->aj, b->len);
        }
        compared_edges += ne;
        /* the same view prepared over the previous view's template */
        assert_int_equal(pm_match_prepare_candidate_into(fp, &reused, NULL), 0);
        assert_int_equal(reused->n, t->n);
        assert_int_equal(reused->nedges, t->nedges);
        assert_int_equal(reused->nquery, t->nquery);
        assert_memory_equal(reused->edges, t->edges, (size_t)t->nedges * sizeof *t->edges);
        assert_memory_equal(reused->query, t->query,
                            (size_t)(t->nquery + PM__QUERY_PAD) * sizeof *t->query);
        assert_memory_equal(reused->mask, t->mask, sizeof t->mask);
        assert_memory_equal(reused->cell_start, t->cell_start, sizeof t->cell_start);
        double s1 = pm_match_compare(m, probe, t, NULL), s2 = pm_match_compare(m, probe, reused, NULL);
        assert_true(s1 == s2);
        nonzero += s1 > 0;
        pm_match_template_free(t);
    }
    assert_true(compared_edges > 10000);
    assert_true(nonzero > 20); /* the scores compared are not all zero */
    /* a template with a hash is not reused as a candidate: replaced */
    pm_match_template_t *full = NULL;
    assert_int_equal(pm_match_prepare(probe_fp, &full, NULL), 0);
    assert_int_equal(pm_match_prepare_candidate_into(probe_fp, &full, NULL), 0);
    assert_null(full->h_len);
    assert_true(pm_match_compare(m, probe, full, NULL) > 0);
    assert_int_equal(pm_match_prepare_candidate_into(NULL, &full, NULL), PM_EINVAL);
    pm_match_template_free(full);
    pm_match_template_free(reused);
    pm_match_template_free(probe);
    pm_matcher_free(m);
    free(edges), free(fp), free(probe_fp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotated_translated_copy), cmocka_unit_test(test_unrelated_low),
        cmocka_unit_test(test_partial_overlap),         cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_last_pairs),
        cmocka_unit_test(test_rates),                   cmocka_unit_test(test_vendor_genuine_vs_impostor),
        cmocka_unit_test(test_threads),                 cmocka_unit_test(test_calibration_fit),
        cmocka_unit_test(test_cross_validate),          cmocka_unit_test(test_error_reject),
        cmocka_unit_test(test_distortion_local),        cmocka_unit_test(test_quality_overlap),
        cmocka_unit_test(test_hash_block_portable),     cmocka_unit_test(test_vec_angle_exact),
        cmocka_unit_test(test_graph_reference),
    };
    return PM_RUN_TESTS("match", tests, NULL, NULL);
}
