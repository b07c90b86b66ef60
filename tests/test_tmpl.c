/* tmpl: native/ISO/ANSI round trips, malformed records, vendor test vectors. */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/tmpl.h"

#define TWO_PI 6.28318530717958647692

static void random_view(pm_fingerprint_t *fp, uint64_t *rng, size_t count)
{
    memset(fp, 0, sizeof *fp);
    fp->width = 388;
    fp->height = 374;
    fp->ppi = 500;
    fp->quality = 77;
    fp->finger = 2;
    fp->count = count;
    for (size_t i = 0; i < count; i++) {
        pm_minutia_t *m = &fp->minutiae[i];
        m->x = (float)(pm_test_rand(rng) % 388);
        m->y = (float)(pm_test_rand(rng) % 374);
        m->angle = (float)((double)(pm_test_rand(rng) % 100000) / 100000.0 * TWO_PI);
        m->type = (uint8_t)(1 + pm_test_rand(rng) % 2);
        m->quality = (uint8_t)(pm_test_rand(rng) % 101);
    }
}

static double ang_err(double a, double b)
{
    double d = fmod(fabs(a - b), TWO_PI);
    return d > TWO_PI / 2 ? TWO_PI - d : d;
}

static void check_same(const pm_fingerprint_t *a, const pm_fingerprint_t *b, double angle_tol)
{
    assert_int_equal(a->count, b->count);
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
    assert_int_equal(a->finger, b->finger);
    assert_int_equal(a->quality, b->quality);
    assert_true(abs(a->ppi - b->ppi) <= 2);
    for (size_t i = 0; i < a->count; i++) {
        assert_true(fabsf(a->minutiae[i].x - b->minutiae[i].x) <= 0.5f);
        assert_true(fabsf(a->minutiae[i].y - b->minutiae[i].y) <= 0.5f);
        assert_true(ang_err(a->minutiae[i].angle, b->minutiae[i].angle) <= angle_tol);
        assert_int_equal(a->minutiae[i].type, b->minutiae[i].type);
        assert_int_equal(a->minutiae[i].quality, b->minutiae[i].quality);
    }
}

static void roundtrip(pm_tmpl_format_t fmt, double angle_tol)
{
    uint64_t rng = 12345 + (uint64_t)fmt;
    pm_fingerprint_t views[3];
    for (int v = 0; v < 3; v++)
        random_view(&views[v], &rng, (size_t)(v == 2 ? 255 : 20 + v * 17));
    for (size_t nviews = 1; nviews <= 3; nviews++) {
        pm_buf_t b = {0};
        pm_error_t err = {0};
        assert_int_equal(pm_tmpl_write(fmt, views, nviews, &b, &err), 0);
        assert_int_equal(pm_tmpl_detect(b.data, b.len), fmt);
        pm_fingerprint_t *back = NULL;
        size_t n = 0;
        pm_tmpl_format_t got = PM_TMPL_UNKNOWN;
        assert_int_equal(pm_tmpl_read(b.data, b.len, PM_TMPL_UNKNOWN, &back, &n, &got, &err), 0);
        assert_int_equal(got, fmt);
        assert_int_equal(n, nviews);
        for (size_t v = 0; v < nviews; v++)
            check_same(&views[v], &back[v], angle_tol);
        free(back);
        pm_buf_free(&b);
    }
}

static void test_roundtrip_native(void **state)
{
    (void)state;
    roundtrip(PM_TMPL_NATIVE, 1e-3);
}

static void test_roundtrip_iso(void **state)
{
    (void)state;
    roundtrip(PM_TMPL_ISO, TWO_PI / 256 / 2 + 1e-4);
}

static void test_roundtrip_ansi(void **state)
{
    (void)state;
    roundtrip(PM_TMPL_ANSI, TWO_PI / 180 / 2 + 1e-4);
}

/* Every prefix of a valid record is rejected cleanly; padding is ignored. */
static void test_truncation(void **state)
{
    (void)state;
    uint64_t rng = 7;
    pm_fingerprint_t fp;
    random_view(&fp, &rng, 30);
    for (int f = PM_TMPL_NATIVE; f <= PM_TMPL_ANSI; f++) {
        pm_buf_t b = {0};
        assert_int_equal(pm_tmpl_write((pm_tmpl_format_t)f, &fp, 1, &b, NULL), 0);
        for (size_t len = 0; len < b.len; len++) {
            pm_fingerprint_t *back = NULL;
            size_t n = 0;
            pm_error_t err = {0};
            uint8_t *copy = malloc(len + 1); /* exact-size copy so ASan sees overreads */
            memcpy(copy, b.data, len);
            int rc = pm_tmpl_read(copy, len, (pm_tmpl_format_t)f, &back, &n, NULL, &err);
            assert_true(rc < 0);
            assert_null(back);
            assert_true(strlen(err.msg) > 0);
            free(copy);
        }
        /* zero padding after the record is accepted */
        uint8_t *padded = calloc(1, b.len + 100);
        memcpy(padded, b.data, b.len);
        pm_fingerprint_t *back = NULL;
        size_t n = 0;
        assert_int_equal(pm_tmpl_read(padded, b.len + 100, PM_TMPL_UNKNOWN, &back, &n, NULL, NULL), 0);
        assert_int_equal(back[0].count, 30);
        free(back);
        free(padded);
        pm_buf_free(&b);
    }
}

static int read_iso(const uint8_t *d, size_t len, pm_error_t *err)
{
    pm_fingerprint_t *back = NULL;
    size_t n = 0;
    int rc = pm_tmpl_read(d, len, PM_TMPL_ISO, &back, &n, NULL, err);
    free(back);
    return rc;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void test_malformed_iso(void **state)
{
    (void)state;
    uint64_t rng = 99;
    pm_fingerprint_t fp;
    random_view(&fp, &rng, 10);
    pm_buf_t b = {0};
    assert_int_equal(pm_tmpl_write(PM_TMPL_ISO, &fp, 1, &b, NULL), 0);
    assert_int_equal(b.len, 24 + 4 + 60 + 2);
    uint8_t rec[256];
    pm_error_t err = {0};
    size_t len = b.len;

    /* minutiae count larger than the data: inconsistent */
    memcpy(rec, b.data, len);
    rec[27] = 11;
    assert_true(read_iso(rec, len, &err) < 0);
    /* count smaller: bytes left over before the record end */
    memcpy(rec, b.data, len);
    rec[27] = 9;
    assert_true(read_iso(rec, len, &err) < 0);
    /* record length beyond the data */
    memcpy(rec, b.data, len);
    rec[11] = (uint8_t)(len + 1);
    assert_int_equal(read_iso(rec, len, &err), PM_ETRUNCATED);
    /* record length shorter than the header */
    memcpy(rec, b.data, len);
    rec[11] = 10;
    assert_int_equal(read_iso(rec, len, &err), PM_EFORMAT);
    /* zero views */
    memcpy(rec, b.data, len);
    rec[22] = 0;
    assert_int_equal(read_iso(rec, len, &err), PM_EFORMAT);
    /* two views declared, one present */
    memcpy(rec, b.data, len);
    rec[22] = 2;
    assert_int_equal(read_iso(rec, len, &err), PM_ETRUNCATED);
    /* reserved minutia type 3 */
    memcpy(rec, b.data, len);
    rec[28] |= 0xc0;
    assert_int_equal(read_iso(rec, len, &err), PM_EFORMAT);
    assert_non_null(strstr(err.msg, "minutia 0"));
    /* wrong magic and version */
    memcpy(rec, b.data, len);
    rec[0] = 'X';
    assert_true(read_iso(rec, len, &err) < 0);
    memcpy(rec, b.data, len);
    rec[5] = '3';
    assert_int_equal(read_iso(rec, len, &err), PM_EUNSUPPORTED);

    /* extended data: one block of 7 bytes (type 0x0001, length 7) is skipped */
    memcpy(rec, b.data, len);
    size_t ext = len - 2;
    put16(rec + ext, 7);
    put16(rec + ext + 2, 0x0001);
    put16(rec + ext + 4, 7);
    rec[ext + 6] = rec[ext + 7] = rec[ext + 8] = 0xab;
    size_t len2 = len + 7;
    rec[8] = rec[9] = rec[10] = 0;
    rec[11] = (uint8_t)len2;
    assert_int_equal(read_iso(rec, len2, &err), 0);
    /* block length overrunning the extended data area */
    put16(rec + ext + 4, 8);
    assert_int_equal(read_iso(rec, len2, &err), PM_EFORMAT);
    /* block length below its own header */
    put16(rec + ext + 4, 3);
    assert_int_equal(read_iso(rec, len2, &err), PM_EFORMAT);
    /* extended data length beyond the record */
    put16(rec + ext + 4, 7);
    put16(rec + ext, 9);
    assert_true(read_iso(rec, len2, &err) < 0);
    pm_buf_free(&b);
}

static void test_malformed_ansi(void **state)
{
    (void)state;
    uint64_t rng = 5;
    pm_fingerprint_t fp;
    random_view(&fp, &rng, 4);
    pm_buf_t b = {0};
    assert_int_equal(pm_tmpl_write(PM_TMPL_ANSI, &fp, 1, &b, NULL), 0);
    assert_int_equal(b.len, 26 + 4 + 24 + 2);
    pm_fingerprint_t *back = NULL;
    size_t n = 0;
    pm_error_t err = {0};
    uint8_t rec[128];
    memcpy(rec, b.data, b.len);
    rec[30 + 4] = 200; /* first minutia angle, ANSI allows 0..179 */
    assert_int_equal(pm_tmpl_read(rec, b.len, PM_TMPL_ANSI, &back, &n, NULL, &err), PM_ERANGE);
    memcpy(rec, b.data, b.len);
    rec[29] = 5; /* count */
    assert_true(pm_tmpl_read(rec, b.len, PM_TMPL_ANSI, &back, &n, NULL, &err) < 0);
    memcpy(rec, b.data, b.len);
    rec[26] = 11; /* finger position */
    assert_int_equal(pm_tmpl_read(rec, b.len, PM_TMPL_ANSI, &back, &n, NULL, &err), PM_ERANGE);
    assert_null(back);
    pm_buf_free(&b);
}

/* The ANSI long length form (00 00 then a 4-byte length) reads like the short one. */
static void test_ansi_long_length(void **state)
{
    (void)state;
    uint64_t rng = 11;
    pm_fingerprint_t fp;
    random_view(&fp, &rng, 9);
    pm_buf_t b = {0};
    assert_int_equal(pm_tmpl_write(PM_TMPL_ANSI, &fp, 1, &b, NULL), 0);
    size_t len = b.len + 4;
    uint8_t *rec = malloc(len);
    memcpy(rec, b.data, 8);
    rec[8] = rec[9] = 0;
    rec[10] = (uint8_t)(len >> 24);
    rec[11] = (uint8_t)(len >> 16);
    rec[12] = (uint8_t)(len >> 8);
    rec[13] = (uint8_t)len;
    memcpy(rec + 14, b.data + 10, b.len - 10);
    pm_fingerprint_t *back = NULL;
    size_t n = 0;
    pm_tmpl_format_t f = PM_TMPL_UNKNOWN;
    pm_error_t err = {0};
    assert_int_equal(pm_tmpl_read(rec, len, PM_TMPL_UNKNOWN, &back, &n, &f, &err), 0);
    assert_int_equal(f, PM_TMPL_ANSI);
    check_same(&fp, &back[0], TWO_PI / 180 / 2 + 1e-4);
    free(back);
    /* a long length that overstates the data is a truncation */
    rec[13] = (uint8_t)(len + 1);
    assert_int_equal(pm_tmpl_read(rec, len, PM_TMPL_ANSI, &back, &n, NULL, &err), PM_ETRUNCATED);
    free(rec);
    pm_buf_free(&b);
}

static void test_native_checksum(void **state)
{
    (void)state;
    uint64_t rng = 3;
    pm_fingerprint_t fp;
    random_view(&fp, &rng, 12);
    pm_buf_t b = {0};
    assert_int_equal(pm_tmpl_write(PM_TMPL_NATIVE, &fp, 1, &b, NULL), 0);
    assert_int_equal(b.len, 12 + 10 + 12 * 8 + 4);
    b.data[30] ^= 1;
    pm_fingerprint_t *back = NULL;
    size_t n = 0;
    assert_int_equal(pm_tmpl_read(b.data, b.len, PM_TMPL_UNKNOWN, &back, &n, NULL, NULL), PM_ECHECKSUM);
    pm_buf_free(&b);
}

static void test_unencodable(void **state)
{
    (void)state;
    pm_fingerprint_t fp;
    uint64_t rng = 1;
    random_view(&fp, &rng, 3);
    fp.minutiae[1].x = 20000;
    pm_buf_t b = {0};
    pm_error_t err = {0};
    assert_int_equal(pm_tmpl_write(PM_TMPL_ISO, &fp, 1, &b, &err), PM_ERANGE);
    assert_int_equal(pm_tmpl_write(PM_TMPL_ISO, &fp, 0, &b, &err), PM_EINVAL);
    pm_buf_free(&b);
}

/* All shared ISO test vectors parse, with sane contents. */
static int parse_dir(const char *dir, const char *prefix, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int count = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name), sl = strlen(suffix);
        if (l < sl || strcmp(de->d_name + l - sl, suffix) != 0 ||
            strncmp(de->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        pm_fingerprint_t *views = NULL;
        size_t n = 0;
        pm_tmpl_format_t f;
        pm_error_t err = {0};
        int rc = pm_tmpl_read_file(path, &views, &n, &f, &err);
        if (rc)
            print_message("%s: %s\n", path, err.msg);
        assert_int_equal(rc, 0);
        assert_int_equal(f, PM_TMPL_ISO);
        assert_int_equal(n, 1);
        assert_true(views[0].count >= 5);
        assert_true(views[0].ppi == 500);
        free(views);
        count++;
    }
    closedir(d);
    return count;
}

static void test_vendor_templates(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(data, "fvc2002-vendor-iso");
    char base[4096], dir[4200];
    snprintf(base, sizeof base, "%s", data);
    int total = 0;
    for (int db = 1; db <= 4; db++) {
        snprintf(dir, sizeof dir, "%s/fvc2002-vendor-iso/DB%d_B", base, db);
        total += parse_dir(dir, "", ".iso");
    }
    assert_int_equal(total, 320);
    snprintf(dir, sizeof dir, "%s/minex", base);
    assert_int_equal(parse_dir(dir, "", ".ist"), 9);
    snprintf(dir, sizeof dir, "%s/sourceafis", base);
    assert_int_equal(parse_dir(dir, "iso-", ".dat"), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_native), cmocka_unit_test(test_roundtrip_iso),
        cmocka_unit_test(test_roundtrip_ansi),   cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_malformed_iso),    cmocka_unit_test(test_malformed_ansi),
        cmocka_unit_test(test_native_checksum),  cmocka_unit_test(test_unencodable),
        cmocka_unit_test(test_ansi_long_length),
        cmocka_unit_test(test_vendor_templates),
    };
    return PM_RUN_TESTS("tmpl", tests, NULL, NULL);
}
