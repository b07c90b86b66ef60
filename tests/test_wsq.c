/* WSQ codec: conformance against the reference decodings (bit-exact), the
 * encoder's round trip, limits, and corrupt or truncated streams. */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"
#include "perimeter/wsq.h"

#define MAX_FILE (64u << 20)

static uint8_t *read_file(const char *path, size_t *out_len)
{
    uint8_t *data = NULL;
    pm_error_t e;
    if (pm_file_read(path, MAX_FILE, &data, out_len, &e) != PM_OK) {
        print_message("cannot read %s: %s\n", path, pm_error_text(&e));
        return NULL;
    }
    return data;
}

/* Decodes wsq_path and compares with the expected pixels; prints the maximum
 * absolute difference when any pixel differs. Returns that maximum (0 = exact). */
static int compare_decode(const char *wsq_path, const uint8_t *expect, int w, int h)
{
    size_t len;
    uint8_t *data = read_file(wsq_path, &len);
    assert_non_null(data);
    pm_image_t img;
    pm_error_t e;
    int rc = pm_wsq_decode(data, len, 0, 0, &img, &e);
    if (rc != PM_OK)
        print_message("%s: %s\n", wsq_path, pm_error_text(&e));
    assert_int_equal(rc, PM_OK);
    assert_int_equal(img.width, w);
    assert_int_equal(img.height, h);
    assert_int_equal(img.format, PM_IMAGE_WSQ);
    int maxdiff = 0;
    size_t ndiff = 0;
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
        int d = abs((int)img.pixels[i] - (int)expect[i]);
        if (d) {
            ndiff++;
            if (d > maxdiff)
                maxdiff = d;
        }
    }
    print_message("%-70s %4dx%-4d max abs diff %d (%zu pixels differ)\n", wsq_path, w, h,
                  maxdiff, ndiff);
    pm_image_free(&img);
    free(data);
    return maxdiff;
}

static void test_conformance_fvc(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(base_ro, "wsq/dims.txt");
    char base[4096], path[4600];
    snprintf(base, sizeof base, "%s/wsq", base_ro);
    snprintf(path, sizeof path, "%s/dims.txt", base);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char name[256];
    int w, h, files = 0;
    while (fscanf(f, "%255s %d %d", name, &w, &h) == 3) {
        static const char *rates[] = {"075", "225"};
        for (int r = 0; r < 2; r++) {
            char raw[4600];
            snprintf(raw, sizeof raw, "%s/%s_br%s.decoded.raw", base, name, rates[r]);
            snprintf(path, sizeof path, "%s/%s_br%s.wsq", base, name, rates[r]);
            size_t len;
            uint8_t *expect = read_file(raw, &len);
            assert_non_null(expect);
            assert_int_equal(len, (size_t)w * (size_t)h);
            assert_int_equal(compare_decode(path, expect, w, h), 0);
            free(expect);
            files++;
        }
    }
    fclose(f);
    assert_int_equal(files, 8);
}

static int ncm_dim(const char *ncm, const char *key)
{
    const char *p = strstr(ncm, key);
    if (!p)
        return -1;
    return (int)strtol(p + strlen(key), NULL, 10);
}

static void test_conformance_an2k(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(base_ro, "an2k/reference-dumps");
    char base[4096];
    snprintf(base, sizeof base, "%s/an2k/reference-dumps", base_ro);
    DIR *dir = opendir(base);
    assert_non_null(dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char sub[4400];
        snprintf(sub, sizeof sub, "%s/%s", base, de->d_name);
        DIR *d2 = opendir(sub);
        if (!d2)
            continue;
        struct dirent *fe;
        while ((fe = readdir(d2)) != NULL) {
            size_t n = strlen(fe->d_name);
            if (n < 10 || strcmp(fe->d_name + n - 9, ".dwsq.raw") != 0)
                continue;
            char stem[512], raw[5000], ncm[5000], bin[5000];
            snprintf(stem, sizeof stem, "%.*s", (int)(n - 9), fe->d_name);
            snprintf(raw, sizeof raw, "%s/%s", sub, fe->d_name);
            snprintf(ncm, sizeof ncm, "%s/%s.dwsq.ncm", sub, stem);
            snprintf(bin, sizeof bin, "%s/%s.bin", sub, stem);
            size_t len, nlen;
            uint8_t *text = read_file(ncm, &nlen);
            assert_non_null(text);
            int w = ncm_dim((const char *)text, "PIX_WIDTH "),
                h = ncm_dim((const char *)text, "PIX_HEIGHT ");
            free(text);
            uint8_t *expect = read_file(raw, &len);
            assert_non_null(expect);
            assert_int_equal(len, (size_t)w * (size_t)h);
            assert_int_equal(compare_decode(bin, expect, w, h), 0);
            free(expect);
            files++;
        }
        closedir(d2);
    }
    closedir(dir);
    assert_int_equal(files, 10);
}

static void test_conformance_sourceafis(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(base_ro, "sourceafis/wsq-original.wsq");
    char base[4096], png_path[4600], wsq_path[4600];
    snprintf(base, sizeof base, "%s/sourceafis", base_ro);
    snprintf(png_path, sizeof png_path, "%s/wsq-converted.png", base);
    snprintf(wsq_path, sizeof wsq_path, "%s/wsq-original.wsq", base);
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_file(&png, png_path));
    png.format = PNG_FORMAT_GRAY;
    uint8_t *expect = malloc(PNG_IMAGE_SIZE(png));
    assert_non_null(expect);
    assert_true(png_image_finish_read(&png, NULL, expect, 0, NULL));
    assert_int_equal(compare_decode(wsq_path, expect, (int)png.width, (int)png.height), 0);
    free(expect);

    size_t len;
    uint8_t *data = read_file(wsq_path, &len);
    pm_wsq_info_t info;
    pm_error_t e;
    assert_int_equal(pm_wsq_info(data, len, &info, &e), PM_OK);
    assert_int_equal(info.width, 832);
    assert_int_equal(info.height, 768);
    assert_int_equal(info.ppi, 500);
    assert_true(fabs(info.bitrate - 0.75) < 1e-9);
    assert_int_equal(info.comments, 1);
    assert_non_null(strstr(info.nist_com, "SD_ID 14"));
    free(data);
}

/* ------------------------------------------------------------ robustness */

/* Every prefix of a valid stream fails cleanly; flipped bytes never crash. */
static void check_corruption(const uint8_t *data, size_t len, size_t trunc_step, int flips)
{
    pm_error_t e;
    pm_image_t img;
    for (size_t cut = 0; cut < len; cut += (cut < 2048 ? 1 : trunc_step)) {
        int rc = pm_wsq_decode(data, cut, 0, 0, &img, &e);
        if (rc == PM_OK) {
            print_message("prefix of %zu bytes decoded without error\n", cut);
            pm_image_free(&img);
        }
        assert_true(rc < 0);
        assert_null(img.pixels);
        pm_wsq_info_t info;
        (void)pm_wsq_info(data, cut, &info, &e);
    }
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    uint64_t seed = 0x5eed1234abcdULL;
    int failed = 0;
    for (int i = 0; i < flips; i++) {
        memcpy(copy, data, len);
        int nflip = 1 + (int)(pm_test_rand(&seed) % 4);
        for (int k = 0; k < nflip; k++) {
            size_t at = (size_t)(pm_test_rand(&seed) % len);
            copy[at] ^= (uint8_t)(1u << (pm_test_rand(&seed) % 8));
        }
        int rc = pm_wsq_decode(copy, len, 1024, 1024, &img, &e);
        if (rc == PM_OK) {
            assert_non_null(img.pixels);
            pm_image_free(&img);
        } else {
            assert_true(rc == PM_EFORMAT || rc == PM_ECORRUPT || rc == PM_ETRUNCATED ||
                        rc == PM_EUNSUPPORTED || rc == PM_ELIMIT);
            assert_true(e.msg[0] != 0);
            failed++;
        }
    }
    print_message("%d of %d corrupted streams rejected\n", failed, flips);
    free(copy);
}

static void test_corrupt_reference(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(base_ro, "wsq/fvc2002_db3_103_1_br075.wsq");
    char path[4600];
    snprintf(path, sizeof path, "%s/wsq/fvc2002_db3_103_1_br075.wsq", base_ro);
    size_t len;
    uint8_t *data = read_file(path, &len);
    assert_non_null(data);
    check_corruption(data, len, 61, 300);
    free(data);
}

static void test_limits_and_headers(void **state)
{
    (void)state;
    pm_error_t e;
    pm_image_t img;
    /* SOI, SOF claiming 65535 x 65535, EOI: refused before any allocation. */
    static const uint8_t huge[] = {0xFF, 0xA0, 0xFF, 0xA2, 0x00, 0x11, 0x00, 0xFF, 0xFF,
                                   0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02,
                                   0x00, 0x00, 0xFF, 0xA3, 0x00, 0x03, 0x00, 0xFF, 0xA1};
    /* Without tables the block is refused first; either way not PM_OK. */
    assert_true(pm_wsq_decode(huge, sizeof huge, 0, 0, &img, &e) < 0);
    pm_wsq_info_t info;
    assert_int_equal(pm_wsq_info(huge, sizeof huge, &info, &e), PM_EFORMAT);
    static const uint8_t not_wsq[] = {0x89, 'P', 'N', 'G'};
    assert_int_equal(pm_wsq_decode(not_wsq, sizeof not_wsq, 0, 0, &img, &e), PM_EFORMAT);
    assert_int_equal(pm_wsq_decode(not_wsq, 0, 0, 0, &img, &e), PM_ETRUNCATED);
    static const uint8_t bad_len[] = {0xFF, 0xA0, 0xFF, 0xA8, 0x00, 0x01};
    assert_int_equal(pm_wsq_info(bad_len, sizeof bad_len, &info, &e), PM_EFORMAT);
    static const uint8_t long_seg[] = {0xFF, 0xA0, 0xFF, 0xA8, 0x10, 0x00, 'a'};
    assert_int_equal(pm_wsq_info(long_seg, sizeof long_seg, &info, &e), PM_ETRUNCATED);
}

static void test_limit_reference(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(base_ro, "sourceafis/wsq-original.wsq");
    char path[4600];
    snprintf(path, sizeof path, "%s/sourceafis/wsq-original.wsq", base_ro);
    size_t len;
    uint8_t *data = read_file(path, &len);
    pm_image_t img;
    pm_error_t e;
    assert_int_equal(pm_wsq_decode(data, len, 800, 800, &img, &e), PM_ELIMIT);
    assert_null(img.pixels);
    assert_int_equal(pm_wsq_decode(data, len, 832, 768, &img, &e), PM_OK);
    pm_image_free(&img);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance_fvc),
        cmocka_unit_test(test_conformance_an2k),
        cmocka_unit_test(test_conformance_sourceafis),
        cmocka_unit_test(test_corrupt_reference),
        cmocka_unit_test(test_limits_and_headers),
        cmocka_unit_test(test_limit_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
