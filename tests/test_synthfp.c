/* synth prints: determinism (same seed, same bytes; threads do not matter),
 * the singular points of each class are really in the grown ridge pattern
 * (Poincare index of the orientation our extractor measures), option bounds,
 * the ground truth is valid JSON, impressions carry extractable minutiae. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/fp.h"
#include "perimeter/synthfp.h"

static pm_synthfp_params_t small_params(uint64_t seed)
{
    pm_synthfp_params_t p;
    pm_synthfp_params_default(&p);
    p.seed = seed;
    p.width = 320;
    p.height = 320;
    return p;
}

static void test_determinism(void **state)
{
    (void)state;
    pm_synthfp_params_t p = small_params(42);
    pm_synthfp_master_t a, b, c;
    pm_error_t err = {0};
    assert_int_equal(pm_synthfp_master(&p, 3, NULL, &a, &err), 0);
    assert_int_equal(pm_synthfp_master(&p, 3, NULL, &b, &err), 0);
    assert_int_equal(a.width, b.width);
    assert_int_equal(a.cls, b.cls);
    size_t n = (size_t)a.width * a.height;
    assert_memory_equal(a.ridge, b.ridge, n * sizeof(float));
    pm_image_t ia, ib;
    pm_synthfp_impression_t ta, tb;
    assert_int_equal(pm_synthfp_impression(&p, &a, 2, &ia, &ta, &err), 0);
    assert_int_equal(pm_synthfp_impression(&p, &b, 2, &ib, &tb, &err), 0);
    assert_int_equal(ia.width, 320);
    assert_int_equal(ia.height, 320);
    assert_int_equal(ia.ppi, 500);
    assert_memory_equal(ia.pixels, ib.pixels, (size_t)ia.width * ia.height);
    assert_true(ta.rotation_deg == tb.rotation_deg);
    /* another impression of the same finger differs */
    pm_image_t ic;
    assert_int_equal(pm_synthfp_impression(&p, &a, 3, &ic, NULL, &err), 0);
    assert_true(memcmp(ia.pixels, ic.pixels, (size_t)ia.width * ia.height) != 0);
    /* another seed gives another finger */
    pm_synthfp_params_t q = small_params(43);
    assert_int_equal(pm_synthfp_master(&q, 3, NULL, &c, &err), 0);
    assert_true(c.width != a.width || memcmp(a.ridge, c.ridge, n * sizeof(float)) != 0);
    pm_image_free(&ia);
    pm_image_free(&ib);
    pm_image_free(&ic);
    pm_synthfp_master_free(&a);
    pm_synthfp_master_free(&b);
    pm_synthfp_master_free(&c);
}

/* Poincare index (a core +-1/2, a delta -+1/2) of the block orientation field around
 * pixel (x, y) on a circle of radius rad blocks. */
static double poincare(const pm_fp_maps_t *mp, double x, double y, double rad)
{
    double sum = 0, prev = 0;
    int first = 1;
    const int steps = 32;
    double first_o = 0;
    for (int k = 0; k <= steps; k++) {
        double a = 2 * M_PI * k / steps;
        int bx = (int)((x + rad * mp->cell * cos(a)) / mp->cell);
        int by = (int)((y + rad * mp->cell * sin(a)) / mp->cell);
        if (bx < 0 || by < 0 || bx >= mp->bw || by >= mp->bh)
            return NAN;
        double o = mp->orientation[by * mp->bw + bx];
        if (first) {
            first = 0;
            first_o = o;
        } else {
            double d = o - prev;
            while (d > M_PI / 2)
                d -= M_PI;
            while (d < -M_PI / 2)
                d += M_PI;
            sum += d;
        }
        prev = o;
    }
    (void)first_o;
    return sum / (2 * M_PI);
}

static void test_class_singular_points(void **state)
{
    (void)state;
    pm_extractor_t *ex = NULL;
    pm_error_t err = {0};
    assert_int_equal(pm_extractor_create(&ex, &err), 0);
    for (int cls = 0; cls < PM_SYNTHFP_CLASS_COUNT; cls++) {
        pm_synthfp_params_t p = small_params(1000 + (uint64_t)cls);
        p.force_class = cls;
        pm_synthfp_master_t m;
        assert_int_equal(pm_synthfp_master(&p, 0, NULL, &m, &err), 0);
        assert_int_equal(m.cls, cls);
        int cores = 0, deltas = 0;
        for (int i = 0; i < m.n_singular; i++)
            m.singular[i].delta ? deltas++ : cores++;
        const pm_synthfp_singular_t *s = m.singular;
        switch (cls) {
        case PM_SYNTHFP_ARCH:
            assert_int_equal(m.n_singular, 0);
            break;
        case PM_SYNTHFP_TENTED_ARCH: /* delta right under the core */
            assert_int_equal(cores, 1);
            assert_int_equal(deltas, 1);
            assert_true(fabs(s[1].x - s[0].x) < 25 && s[1].y - s[0].y > 60 && s[1].y - s[0].y < 120);
            break;
        case PM_SYNTHFP_LEFT_LOOP: /* delta below, on the right */
            assert_true(cores == 1 && deltas == 1);
            assert_true(s[1].x > s[0].x + 40 && s[1].y > s[0].y + 60);
            break;
        case PM_SYNTHFP_RIGHT_LOOP:
            assert_true(cores == 1 && deltas == 1);
            assert_true(s[1].x < s[0].x - 40 && s[1].y > s[0].y + 60);
            break;
        case PM_SYNTHFP_WHORL:
            assert_true(cores == 2 && deltas == 2);
            assert_true((s[2].x - s[0].x) * (s[3].x - s[0].x) < 0); /* one delta on each side */
            break;
        }
        /* the grown pattern has them: index +-1/2 around each point (cores and
         * deltas of opposite signs), 0 around a point without any */
        pm_image_t img;
        assert_int_equal(pm_synthfp_master_image(&m, &img, &err), 0);
        pm_fingerprint_t fp;
        pm_fp_maps_t maps;
        memset(&maps, 0, sizeof maps);
        assert_int_equal(pm_fp_extract_maps(ex, &img, &fp, &maps, &err), 0);
        assert_true(fp.count >= 15);
        double core_sign = 0;
        for (int i = 0; i < m.n_singular; i++) {
            if (cls == PM_SYNTHFP_WHORL && !s[i].delta)
                continue; /* two close cores: measured together below */
            double pi = poincare(&maps, s[i].x, s[i].y, 2.5);
            if (fabs(fabs(pi) - 0.5) > 0.1)
                print_error("class %s point %d: Poincare index %.2f\n",
                            pm_synthfp_class_name((pm_synthfp_class_t)cls), i, pi);
            assert_true(fabs(fabs(pi) - 0.5) < 0.1);
            double sign = s[i].delta ? -pi : pi;
            if (core_sign == 0)
                core_sign = sign;
            assert_true(sign * core_sign > 0);
        }
        if (cls == PM_SYNTHFP_WHORL) { /* both cores inside one circle: index 1 */
            double pi = poincare(&maps, (s[0].x + s[1].x) / 2, (s[0].y + s[1].y) / 2, 5);
            assert_true(fabs(fabs(pi) - 1.0) < 0.1);
        }
        /* a point well away from the singular points (arch: anywhere) */
        double qx = m.width / 2.0, qy = m.height - 60.0;
        assert_true(fabs(poincare(&maps, qx, qy, 2.5)) < 0.1);
        pm_fp_maps_free(&maps);
        pm_image_free(&img);
        pm_synthfp_master_free(&m);
    }
    pm_extractor_free(ex);
}

/* The truth's mapped master minutiae are where the extractor finds minutiae
 * in the impression (checks the transformation written into the truth): in
 * good captures at least 85% of them have an extracted minutia within 10 px
 * whose angle agrees within 0.5 rad (measured at seed 21, fingers 0-2: 92-98%). */
static void test_truth_minutiae_match_extraction(void **state)
{
    (void)state;
    pm_extractor_t *ex = NULL;
    pm_error_t err = {0};
    assert_int_equal(pm_extractor_create(&ex, &err), 0);
    pm_synthfp_params_t p;
    pm_synthfp_params_default(&p);
    p.seed = 21;
    int checked = 0;
    for (uint64_t f = 0; f < 3; f++) {
        pm_synthfp_master_t m;
        assert_int_equal(pm_synthfp_master(&p, f, ex, &m, &err), 0);
        assert_true(m.minutiae_ok);
        for (int i = 1; i <= 4; i++) {
            pm_image_t img;
            pm_synthfp_impression_t t;
            assert_int_equal(pm_synthfp_impression(&p, &m, i, &img, &t, &err), 0);
            if (t.quality == PM_SYNTHFP_GOOD) {
                pm_fingerprint_t fp;
                assert_int_equal(pm_fp_extract(ex, &img, &fp, &err), 0);
                size_t hit = 0;
                for (size_t a = 0; a < t.minutiae.count; a++) {
                    const pm_minutia_t *ta = &t.minutiae.minutiae[a];
                    for (size_t b = 0; b < fp.count; b++) {
                        const pm_minutia_t *fb = &fp.minutiae[b];
                        double da = fabs(remainder((double)ta->angle - fb->angle, 2 * M_PI));
                        if (hypot(ta->x - fb->x, ta->y - fb->y) < 10 && da < 0.5) {
                            hit++;
                            break;
                        }
                    }
                }
                assert_true(t.minutiae.count >= 20);
                if (hit * 100 < 85 * t.minutiae.count)
                    print_error("finger %llu impression %d: %zu of %zu truth minutiae found\n",
                                (unsigned long long)f, i, hit, t.minutiae.count);
                assert_true(hit * 100 >= 85 * t.minutiae.count);
                checked++;
            }
            pm_image_free(&img);
        }
        pm_synthfp_master_free(&m);
    }
    assert_true(checked >= 4);
    pm_extractor_free(ex);
}

static void test_bounds(void **state)
{
    (void)state;
    pm_error_t err = {0};
    pm_synthfp_params_t p = small_params(1);
    assert_int_equal(pm_synthfp_params_check(&p, &err), 0);
    p.width = PM_SYNTHFP_MIN_DIM - 1;
    assert_int_equal(pm_synthfp_params_check(&p, &err), PM_EINVAL);
    assert_non_null(strstr(err.msg, "size"));
    p.width = PM_SYNTHFP_MAX_DIM + 1;
    assert_int_equal(pm_synthfp_params_check(&p, &err), PM_EINVAL);
    p.width = PM_SYNTHFP_MAX_DIM;
    p.height = PM_SYNTHFP_MIN_DIM;
    assert_int_equal(pm_synthfp_params_check(&p, &err), 0);
    p.width = 0; /* 0 x 0 = sensors by finger group; one zero alone is an error */
    assert_int_equal(pm_synthfp_params_check(&p, &err), PM_EINVAL);
    p.height = 0;
    assert_int_equal(pm_synthfp_params_check(&p, &err), 0);
    pm_synthfp_sensor_t s1, s2;
    pm_synthfp_sensor(&p, 9, &s1);
    pm_synthfp_sensor(&p, 10, &s2);
    assert_int_equal(s1.width, 388);
    assert_int_equal(s2.width, 296);
    assert_int_equal(s2.height, 560);
    p.rolled = 1;
    pm_synthfp_sensor(&p, 10, &s2);
    assert_int_equal(s2.width, 800);
    assert_int_equal(s2.height, 750);
    p.rolled = 2;
    assert_int_equal(pm_synthfp_params_check(&p, &err), PM_EINVAL);
    p = small_params(1);
    p.difficulty = -0.01;
    assert_int_equal(pm_synthfp_params_check(&p, &err), PM_EINVAL);
    p.difficulty = PM_SYNTHFP_MAX_DIFFICULTY + 0.01;
    assert_int_equal(pm_synthfp_params_check(&p, &err), PM_EINVAL);
    p.difficulty = NAN;
    assert_int_equal(pm_synthfp_params_check(&p, &err), PM_EINVAL);
    p = small_params(1);
    p.force_class = PM_SYNTHFP_CLASS_COUNT;
    assert_int_equal(pm_synthfp_params_check(&p, &err), PM_EINVAL);
    p.force_class = -2;
    assert_int_equal(pm_synthfp_params_check(&p, &err), PM_EINVAL);
    /* a bad parameter fails before any work, with the output zeroed */
    pm_synthfp_master_t m;
    assert_int_equal(pm_synthfp_master(&p, 0, NULL, &m, &err), PM_EINVAL);
    assert_null(m.ridge);
    p = small_params(1);
    assert_int_equal(pm_synthfp_master(&p, 0, NULL, &m, &err), 0);
    pm_image_t img;
    assert_int_equal(pm_synthfp_impression(&p, &m, 0, &img, NULL, &err), PM_EINVAL);
    assert_null(img.pixels);
    assert_int_equal(pm_synthfp_impression(&p, &m, PM_SYNTHFP_MAX_IMPRESSIONS + 1, &img, NULL, &err),
                     PM_EINVAL);
    pm_synthfp_master_free(&m);
    assert_int_equal(pm_synthfp_run(&p, 0, 1, 0, 1, NULL, NULL, NULL, &err), PM_EINVAL);
    assert_string_equal(pm_synthfp_class_name(PM_SYNTHFP_CLASS_COUNT), "");
    assert_string_equal(pm_synthfp_quality_name(PM_SYNTHFP_PARTIAL), "partial");
}

/* ---- the threaded driver ---- */

#define RUN_FINGERS 6
#define RUN_IMPS 3

typedef struct run_out {
    pthread_mutex_t lock;
    uint64_t hash[RUN_FINGERS];
    char *truth[RUN_FINGERS];
    int calls;
    size_t minutiae[RUN_FINGERS][RUN_IMPS];
} run_out_t;

static uint64_t fnv(const uint8_t *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static int on_finger(void *user, const pm_synthfp_master_t *m, const pm_image_t *imgs,
                     const pm_synthfp_impression_t *truth, int n)
{
    run_out_t *o = user;
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < n; i++)
        h = fnv(imgs[i].pixels, (size_t)imgs[i].width * imgs[i].height, h);
    pm_buf_t b = {0};
    if (pm_synthfp_truth_jsonl(m, truth, (size_t)n, NULL, &b) != 0)
        return 1;
    pthread_mutex_lock(&o->lock);
    o->hash[m->finger] = h;
    o->truth[m->finger] = strndup((const char *)b.data, b.len);
    for (int i = 0; i < n; i++)
        o->minutiae[m->finger][i] = truth[i].minutiae.count;
    o->calls++;
    pthread_mutex_unlock(&o->lock);
    pm_buf_free(&b);
    return 0;
}

static void test_threads_same_output(void **state)
{
    (void)state;
    pm_extractor_t *ex = NULL;
    pm_error_t err = {0};
    assert_int_equal(pm_extractor_create(&ex, &err), 0);
    pm_synthfp_params_t p = small_params(9);
    run_out_t one, two;
    memset(&one, 0, sizeof one);
    memset(&two, 0, sizeof two);
    pthread_mutex_init(&one.lock, NULL);
    pthread_mutex_init(&two.lock, NULL);
    assert_int_equal(pm_synthfp_run(&p, 0, RUN_FINGERS, RUN_IMPS, 1, ex, on_finger, &one, &err), 0);
    assert_int_equal(pm_synthfp_run(&p, 0, RUN_FINGERS, RUN_IMPS, 3, ex, on_finger, &two, &err), 0);
    assert_int_equal(one.calls, RUN_FINGERS);
    assert_int_equal(two.calls, RUN_FINGERS);
    for (int f = 0; f < RUN_FINGERS; f++) {
        assert_true(one.hash[f] == two.hash[f]);
        assert_string_equal(one.truth[f], two.truth[f]);
        /* the truth is one valid JSON object per line with what it promises */
        json_error_t je;
        json_t *j = json_loads(one.truth[f], 0, &je);
        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "finger")), f);
        assert_non_null(json_string_value(json_object_get(j, "class")));
        json_t *imps = json_object_get(j, "impressions");
        assert_int_equal(json_array_size(imps), RUN_IMPS);
        json_t *mm = json_object_get(json_object_get(j, "master"), "minutiae");
        assert_true(json_array_size(mm) >= 15);
        for (size_t i = 0; i < RUN_IMPS; i++) {
            json_t *im = json_array_get(imps, i);
            assert_non_null(json_object_get(json_object_get(im, "transform"), "rotation_deg"));
            assert_non_null(json_string_value(json_object_get(im, "quality")));
            assert_int_equal(json_array_size(json_object_get(im, "minutiae")), one.minutiae[f][i]);
        }
        json_decref(j);
        free(one.truth[f]);
        free(two.truth[f]);
    }
    pthread_mutex_destroy(&one.lock);
    pthread_mutex_destroy(&two.lock);
    pm_extractor_free(ex);
}

static int stop_at_two(void *user, const pm_synthfp_master_t *m, const pm_image_t *imgs,
                       const pm_synthfp_impression_t *truth, int n)
{
    (void)m, (void)imgs, (void)truth, (void)n;
    int *calls = user;
    return __atomic_add_fetch(calls, 1, __ATOMIC_SEQ_CST) >= 2 ? 7 : 0;
}

static void test_callback_stops(void **state)
{
    (void)state;
    pm_synthfp_params_t p = small_params(5);
    pm_error_t err = {0};
    int calls = 0;
    assert_int_equal(pm_synthfp_run(&p, 0, 40, 1, 2, NULL, stop_at_two, &calls, &err), 7);
    assert_true(calls < 6); /* stopped early, not after all 40 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_class_singular_points),
        cmocka_unit_test(test_truth_minutiae_match_extraction),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_threads_same_output),
        cmocka_unit_test(test_callback_stops),
    };
    return PM_RUN_TESTS("synthfp", tests, NULL, NULL);
}
