/* match on shared data: the calibration holds on impostor pairs it was not
 * fitted on, and our minutiae mean what a vendor's ISO templates mean.
 * ctest-label: heavy */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"
#include "perimeter/fp.h"
#include "perimeter/image.h"
#include "perimeter/match.h"
#include "perimeter/tmpl.h"

#define PI 3.14159265358979323846
#define NFING 10
#define NIMP 8

static uint8_t *slurp(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    *out_len = n;
    return buf;
}

static void load_template(const char *path, pm_fingerprint_t *out)
{
    pm_fingerprint_t *v = NULL;
    size_t n = 0;
    pm_error_t e;
    if (pm_tmpl_read_file(path, &v, &n, NULL, &e) != PM_OK)
        fail_msg("%s: %s", path, pm_error_text(&e));
    assert_true(n >= 1);
    *out = v[0];
    free(v);
}

static void extract_image(const pm_extractor_t *ex, const char *path, pm_fingerprint_t *out)
{
    pm_image_t img;
    pm_error_t e;
    if (pm_image_load(path, NULL, &img, &e) != PM_OK)
        fail_msg("%s: %s", path, pm_error_text(&e));
    if (pm_fp_extract(ex, &img, out, &e) != PM_OK)
        fail_msg("%s: %s", path, pm_error_text(&e));
    pm_image_free(&img);
}

/* Prepared views of impression 1 of every finger of DB1..DB4, from the vendor's
 * templates (vendor = 1) or from our extraction of the images. */
static void prepare_db(const char *data, int db, int vendor, const pm_extractor_t *ex,
                       pm_match_template_t **out)
{
    static pm_fingerprint_t fp;
    char path[4200];
    for (int f = 0; f < NFING; f++)
        for (int i = 0; i < NIMP; i++) {
            if (vendor) {
                snprintf(path, sizeof path, "%s/fvc2002-vendor-iso/DB%d_B/%d_%d.iso", data, db,
                         101 + f, i + 1);
                load_template(path, &fp);
            } else {
                snprintf(path, sizeof path, "%s/fvc2002/DB%d_B/%d_%d.tif", data, db, 101 + f,
                         i + 1);
                extract_image(ex, path, &fp);
            }
            pm_error_t e;
            assert_int_equal(pm_match_prepare(&fp, &out[f * NIMP + i], &e), PM_OK);
        }
}

/* The calibration was fitted on cross-finger pairs WITHIN each FVC2002 DB.
 * Pairs ACROSS databases were not used; DB4 is synthetic (SFinGe), so every
 * DB4 x DB1..3 pair is an impostor pair of different fingers (DB1 and DB2 share
 * volunteers, so those two are never paired). 80 x 240 = 19,200 pairs per
 * extractor. The share of impostors at or above 20 / 30 / 40 must not exceed
 * the 1% / 0.1% / 0.01% the scores claim by more than 2x (the direction that
 * would understate the risk of a false match; the binomial 99.9% upper bound
 * at 0.1% of 19,200 is ~35 pairs = 0.18%). Since issue 14 the table is
 * conservative (every knot the highest threshold of 8 sets: each DB with our
 * extraction and with the vendor's templates), so on these cross-sensor pairs
 * fewer impostors reach a score than it claims. Measured: vendor templates
 * 0.323% / 0.057% / 0%, our extraction 0.260% / 0% / 0% (before the
 * conservative fit, at 84484cf+: 0.58% / 0.078% / 0.016% and 0.52% / 0.036% /
 * 0.005%). The lower gate at 20 (1/8 of the claim, half the share measured)
 * still fails a scale shifted by several dB the other way. */
static void check_calibration(const char *data, int vendor, const pm_extractor_t *ex)
{
    static pm_match_template_t *t[4][NFING * NIMP];
    for (int db = 1; db <= 4; db++)
        prepare_db(data, db, vendor, ex, t[db - 1]);
    pm_matcher_t *m = NULL;
    assert_int_equal(pm_matcher_new(&m, NULL), PM_OK);
    size_t n = 0, at20 = 0, at30 = 0, at40 = 0;
    for (int a = 0; a < NFING * NIMP; a++)
        for (int db = 0; db < 3; db++)
            for (int b = 0; b < NFING * NIMP; b++) {
                double s = pm_match_compare(m, t[3][a], t[db][b], NULL);
                n++;
                at20 += s >= 20;
                at30 += s >= 30;
                at40 += s >= 40;
            }
    pm_matcher_free(m);
    for (int db = 0; db < 4; db++)
        for (int k = 0; k < NFING * NIMP; k++)
            pm_match_template_free(t[db][k]);
    double f20 = 100.0 * (double)at20 / (double)n, f30 = 100.0 * (double)at30 / (double)n,
           f40 = 100.0 * (double)at40 / (double)n;
    print_message("calibration on %zu held-out impostor pairs (%s): >=20 %.3f%%, >=30 %.3f%%, "
                  ">=40 %.4f%% (claimed 1%% / 0.1%% / 0.01%%)\n",
                  n, vendor ? "vendor templates" : "our extraction", f20, f30, f40);
    assert_int_equal(n, 19200);
    assert_true(f20 >= 0.125 && f20 <= 2.0);
    assert_true(f30 <= 0.2);
    assert_true(at40 <= 10);
}

static void test_calibration_vendor(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(data, "fvc2002-vendor-iso/DB4_B");
    check_calibration(data, 1, NULL);
}

static void test_calibration_ours(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(data, "fvc2002/DB4_B");
    pm_extractor_t *ex = NULL;
    assert_int_equal(pm_extractor_create(&ex, NULL), PM_OK);
    check_calibration(data, 0, ex);
    pm_extractor_free(ex);
}

/* ---- template meaning ---- */

/* An independent decoding of the minutiae of an ISO/IEC 19794-2:2005 record
 * (first view), straight from the standard's layout, so that our reader and
 * writer are checked against the bytes rather than against each other:
 * 24-byte record header, 4-byte view header, then 6 bytes per minutia: type in
 * the top 2 bits and x in 14 bits, 2 reserved bits and y in 14 bits (origin top
 * left, y down), angle in units of 360/256 degrees counter-clockwise, quality. */
typedef struct raw_minutia {
    int type, x, y, angle;
} raw_minutia_t;

static size_t iso_decode(const uint8_t *d, size_t len, raw_minutia_t *out, size_t max,
                         int *out_w, int *out_h)
{
    assert_true(len >= 28);
    assert_memory_equal(d, "FMR\0", 4);
    *out_w = d[14] << 8 | d[15];
    *out_h = d[16] << 8 | d[17];
    size_t n = d[27];
    assert_true(28 + 6 * n <= len);
    assert_true(n <= max);
    for (size_t k = 0; k < n; k++) {
        const uint8_t *p = d + 28 + 6 * k;
        out[k].type = p[0] >> 6;
        out[k].x = (p[0] & 0x3f) << 8 | p[1];
        out[k].y = (p[2] & 0x3f) << 8 | p[3];
        out[k].angle = p[4];
    }
    return n;
}

static double angle_diff(double a, double b)
{
    double d = fmod(fabs(a - b), 2 * PI);
    return d > PI ? 2 * PI - d : d;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Our reader decodes the vendor's bytes as the standard says. */
static void test_iso_reader_matches_bytes(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(data, "fvc2002-vendor-iso/DB4_B");
    char path[4200];
    snprintf(path, sizeof path, "%s/fvc2002-vendor-iso/DB4_B/101_1.iso", data);
    size_t len;
    uint8_t *bytes = slurp(path, &len);
    assert_non_null(bytes);
    static raw_minutia_t raw[256];
    int w, h;
    size_t n = iso_decode(bytes, len, raw, 256, &w, &h);
    free(bytes);
    pm_fingerprint_t fp;
    load_template(path, &fp);
    assert_int_equal(fp.count, n);
    assert_int_equal(fp.width, w);
    assert_int_equal(fp.height, h);
    for (size_t k = 0; k < n; k++) {
        assert_true(fabs(fp.minutiae[k].x - raw[k].x) < 1e-3);
        assert_true(fabs(fp.minutiae[k].y - raw[k].y) < 1e-3); /* y down, as stored */
        assert_true(angle_diff(fp.minutiae[k].angle, raw[k].angle * 2 * PI / 256) < 1e-3);
        assert_int_equal(fp.minutiae[k].type, raw[k].type); /* 1 ending, 2 bifurcation */
    }
}

/* Our extraction, written by our ISO writer and decoded from the bytes, lands
 * where the vendor's extractor put the same minutiae: DB4 (the images and the
 * vendor's frames agree in size), every impression of every finger. For each of
 * our minutiae, the nearest vendor minutia within 6 px is its pair. A flipped y
 * axis, a clockwise angle, degrees for 360/256 units or swapped type codes
 * would each break one of these checks. */
static void test_conventions_against_vendor(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(data, "fvc2002-vendor-iso/DB4_B");
    PM_REQUIRE_DATA(img_data, "fvc2002/DB4_B");
    pm_extractor_t *ex = NULL;
    assert_int_equal(pm_extractor_create(&ex, NULL), PM_OK);
    static double pos[80 * 255], ang[80 * 255], along[80 * 255], across[80 * 255];
    static int is_end[80 * 255];
    double sum_dx = 0, sum_dy = 0;
    size_t npairs = 0, type_same = 0, ours_total = 0;
    char path[4200];
    for (int f = 101; f <= 110; f++)
        for (int i = 1; i <= NIMP; i++) {
            static pm_fingerprint_t fp;
            snprintf(path, sizeof path, "%s/fvc2002/DB4_B/%d_%d.tif", img_data, f, i);
            extract_image(ex, path, &fp);
            pm_buf_t ours;
            pm_buf_init(&ours, 1 << 20);
            pm_error_t e;
            assert_int_equal(pm_tmpl_write(PM_TMPL_ISO, &fp, 1, &ours, &e), PM_OK);
            static raw_minutia_t a[256], b[256];
            int wa, ha, wb, hb;
            size_t na = iso_decode(ours.data, ours.len, a, 256, &wa, &ha);
            pm_buf_free(&ours);
            snprintf(path, sizeof path, "%s/fvc2002-vendor-iso/DB4_B/%d_%d.iso", data, f, i);
            size_t vlen;
            uint8_t *vend = slurp(path, &vlen);
            assert_non_null(vend);
            size_t nb = iso_decode(vend, vlen, b, 256, &wb, &hb);
            free(vend);
            /* our frame is the image (288x384); the vendor's is 300x400 with the
             * image centred in it (found by searching the shift that pairs most
             * minutiae over DB4: (+6, +8), i.e. half the padding each way) */
            assert_int_equal(wa, 288);
            assert_int_equal(ha, 384);
            assert_int_equal(wb, 300);
            assert_int_equal(hb, 400);
            int ox = (wb - wa) / 2, oy = (hb - ha) / 2;
            ours_total += na;
            for (size_t k = 0; k < na; k++) {
                double best = 1e9;
                size_t bi = 0;
                for (size_t j = 0; j < nb; j++) {
                    double dx = a[k].x + ox - b[j].x, dy = a[k].y + oy - b[j].y;
                    double d = sqrt(dx * dx + dy * dy);
                    if (d < best) {
                        best = d;
                        bi = j;
                    }
                }
                if (best > 6)
                    continue;
                assert_true(npairs < sizeof pos / sizeof pos[0]);
                pos[npairs] = best;
                {
                    /* signed displacement of ours from the vendor's, along the
                     * vendor minutia's direction (x right, y up) and across it */
                    double th = b[bi].angle * 2 * PI / 256;
                    double dx = a[k].x + ox - b[bi].x, dy = -(a[k].y + oy - b[bi].y);
                    sum_dx += dx;
                    sum_dy += -dy;
                    along[npairs] = dx * cos(th) + dy * sin(th);
                    across[npairs] = -dx * sin(th) + dy * cos(th);
                    is_end[npairs] = b[bi].type == 1;
                }
                ang[npairs] = angle_diff(a[k].angle * 2 * PI / 256, b[bi].angle * 2 * PI / 256) *
                              180 / PI;
                type_same += a[k].type == b[bi].type;
                npairs++;
            }
        }
    pm_extractor_free(ex);
    double al_e = 0, al_b = 0, ac = 0;
    size_t ne = 0, nbif = 0;
    for (size_t k = 0; k < npairs; k++) {
        if (is_end[k]) {
            al_e += along[k];
            ne++;
        } else {
            al_b += along[k];
            nbif++;
        }
        ac += across[k];
    }
    print_message("mean displacement along the direction: endings %.2f px (%zu), bifurcations "
                  "%.2f px (%zu); across %.2f px\n",
                  al_e / (double)(ne ? ne : 1), ne, al_b / (double)(nbif ? nbif : 1), nbif,
                  ac / (double)(npairs ? npairs : 1));
    qsort(pos, npairs, sizeof pos[0], cmp_double);
    qsort(ang, npairs, sizeof ang[0], cmp_double);
    double pair_share = (double)npairs / (double)ours_total;
    double pos_med = pos[npairs / 2], ang_med = ang[npairs / 2];
    double type_share = (double)type_same / (double)npairs;
    double mdx = sum_dx / (double)npairs, mdy = sum_dy / (double)npairs;
    print_message("DB4 ours vs vendor: %zu of %zu minutiae paired within 6 px (%.0f%%); mean "
                  "offset (%.2f, %.2f) px; median position difference %.2f px, median angle "
                  "difference %.1f deg, same type %.0f%%\n",
                  npairs, ours_total, 100 * pair_share, mdx, mdy, pos_med, ang_med,
                  100 * type_share);
    /* Two extractors scatter around each other (median 3.6 px measured), but the
     * frames must agree: no mean offset in x or y (a one-pixel shift of the frame
     * or a flipped axis would show here), none along or across the direction.
     * Measured at 84484cf+: offset (-0.34, 0.17) px, along 0.4 / 0.8 px (endings /
     * bifurcations), across 0.0 px, angle median 4.2 deg, same type 82%, paired 62%. */
    assert_true(pair_share > 0.55);
    assert_true(fabs(mdx) < 0.75 && fabs(mdy) < 0.75);
    assert_true(fabs(al_e / (double)ne) < 1.0 && fabs(al_b / (double)nbif) < 1.5);
    assert_true(fabs(ac / (double)npairs) < 0.5);
    assert_true(pos_med < 4.0);
    assert_true(ang_med < 6.0);
    assert_true(type_share > 0.75);
}

/* Extracts DBn_B/f_i resampled to ppi (0: as it is) and declared of unknown
 * resolution; returns the ppi the extractor settled on. */
static int extract_resampled(const pm_extractor_t *ex, const char *data, const char *view, int ppi,
                             pm_fingerprint_t *out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/fvc2002/DB1_B/%s.tif", data, view);
    pm_image_t img, rs;
    pm_error_t e;
    if (pm_image_load(path, NULL, &img, &e) != PM_OK)
        fail_msg("%s: %s", path, pm_error_text(&e));
    if (ppi > 0) {
        img.ppi = 500;
        assert_int_equal(pm_image_resample(&img, ppi, &rs, &e), PM_OK);
        pm_image_free(&img);
        img = rs;
        img.ppi = 0;
    }
    if (pm_fp_extract(ex, &img, out, &e) != PM_OK)
        fail_msg("%s: %s", path, pm_error_text(&e));
    pm_image_free(&img);
    return out->ppi;
}

/* A print resampled to 400 and 600 ppi and declared of unknown resolution
 * still matches its mate when the extractor checks the resolution by ridge
 * frequency (issue 14); without the check the scale error breaks the match. */
static void test_resolution_estimate(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(data, "fvc2002/DB1_B");
    pm_fp_params_t p;
    pm_fp_params_default(&p);
    pm_extractor_t *plain = NULL, *est = NULL;
    assert_int_equal(pm_extractor_create_with(&p, &plain, NULL), PM_OK);
    p.estimate_ppi = 1;
    assert_int_equal(pm_extractor_create_with(&p, &est, NULL), PM_OK);
    p.ridge_period = 30.f;
    pm_extractor_t *bad = NULL;
    assert_int_equal(pm_extractor_create_with(&p, &bad, NULL), PM_EINVAL);
    pm_matcher_t *m = NULL;
    assert_int_equal(pm_matcher_new(&m, NULL), PM_OK);
    static pm_fingerprint_t mate, probe;
    pm_match_template_t *tm = NULL, *tp = NULL;
    /* the mate at its own resolution: the check leaves it alone */
    assert_int_equal(extract_resampled(est, data, "103_2", 0, &mate), 500);
    assert_int_equal(pm_match_prepare(&mate, &tm, NULL), PM_OK);
    const int res[2] = {400, 600};
    for (int k = 0; k < 2; k++) {
        extract_resampled(plain, data, "103_1", res[k], &probe);
        assert_int_equal(pm_match_prepare(&probe, &tp, NULL), PM_OK);
        double s_plain = pm_match_compare(m, tp, tm, NULL);
        pm_match_template_free(tp);
        assert_int_equal(extract_resampled(est, data, "103_1", res[k], &probe), res[k]);
        assert_int_equal(pm_match_prepare(&probe, &tp, NULL), PM_OK);
        double s_est = pm_match_compare(m, tp, tm, NULL);
        pm_match_template_free(tp);
        print_message("resampled to %d ppi: score %.1f without the check, %.1f with it\n", res[k],
                      s_plain, s_est);
        assert_true(s_est >= 30.0);
        assert_true(s_plain < s_est);
    }
    pm_match_template_free(tm);
    pm_matcher_free(m);
    pm_extractor_free(plain);
    pm_extractor_free(est);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calibration_vendor),
        cmocka_unit_test(test_calibration_ours),
        cmocka_unit_test(test_iso_reader_matches_bytes),
        cmocka_unit_test(test_conventions_against_vendor),
        cmocka_unit_test(test_resolution_estimate),
    };
    return PM_RUN_TESTS("match_data", tests, NULL, NULL);
}
