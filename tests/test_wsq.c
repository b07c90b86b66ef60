/* WSQ codec: conformance against the reference decodings (bit-exact), the
 * encoder's round trip, limits, and corrupt or truncated streams. */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/wsq_internal.h"
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

/* A synthetic fingerprint-like image: curved ridges of varying period on a
 * light background, with some noise; deterministic for a seed. */
static void make_print(pm_image_t *img, int w, int h, int ppi, uint64_t seed)
{
    pm_error_t e;
    assert_int_equal(pm_image_alloc(img, w, h, ppi, &e), PM_OK);
    double cx = w * 0.5, cy = h * 0.45;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double dx = (x - cx) / w, dy = (y - cy) / h;
            double r = sqrt(dx * dx * 1.6 + dy * dy);
            double inside = r < 0.42 ? 1.0 : r < 0.5 ? (0.5 - r) / 0.08 : 0.0;
            double phase = 2.0 * M_PI * (r * w / 9.0 + 0.8 * sin(3.0 * dx + 2.0 * dy));
            double noise = (double)(pm_test_rand(&seed) % 21) - 10.0;
            double v = 215.0 - inside * (70.0 + 70.0 * sin(phase)) + noise;
            img->pixels[(size_t)y * (size_t)w + (size_t)x] = (uint8_t)(v < 0.0     ? 0.0
                                                                       : v > 255.0 ? 255.0
                                                                                   : v);
        }
}

static double psnr(const uint8_t *a, const uint8_t *b, size_t n)
{
    double se = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        se += d * d;
    }
    if (se == 0.0) return 99.0;
    return 10.0 * log10(255.0 * 255.0 * (double)n / se);
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
    if (rc != PM_OK) print_message("%s: %s\n", wsq_path, pm_error_text(&e));
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
            if (d > maxdiff) maxdiff = d;
        }
    }
    print_message("%-70s %4dx%-4d max abs diff %d (%zu pixels differ)\n", wsq_path, w, h, maxdiff,
                  ndiff);
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
    if (!p) return -1;
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
        if (de->d_name[0] == '.') continue;
        char sub[4400];
        snprintf(sub, sizeof sub, "%s/%s", base, de->d_name);
        DIR *d2 = opendir(sub);
        if (!d2) continue;
        struct dirent *fe;
        while ((fe = readdir(d2)) != NULL) {
            size_t n = strlen(fe->d_name);
            if (n < 10 || strcmp(fe->d_name + n - 9, ".dwsq.raw") != 0) continue;
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

static void test_transform_reconstructs(void **state)
{
    (void)state;
    int sizes[][2] = {{32, 32}, {33, 47}, {300, 300}, {97, 131}, {388, 374}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int w = sizes[t][0], h = sizes[t][1];
        size_t n = (size_t)w * (size_t)h;
        float *plane = malloc(n * sizeof(float)), *orig = malloc(n * sizeof(float));
        assert_non_null(plane);
        assert_non_null(orig);
        uint64_t seed = 42 + t;
        for (size_t i = 0; i < n; i++)
            orig[i] = plane[i] = (float)((int)(pm_test_rand(&seed) % 2001) - 1000) / 10.0f;
        pm__wsq_tree_t tree;
        pm__wsq_build_tree(w, h, &tree);
        pm__wsq_filters_t f;
        pm__wsq_standard_filters(&f);
        pm_error_t e;
        assert_int_equal(pm__wsq_forward(plane, w, h, &tree, &f, &e), PM_OK);
        double moved = 0.0;
        for (size_t i = 0; i < n; i++)
            moved = fmax(moved, fabs(plane[i] - orig[i]));
        assert_true(moved > 1.0); /* the transform did something */
        assert_int_equal(pm__wsq_inverse(plane, w, h, &tree, &f, &e), PM_OK);
        double maxerr = 0.0;
        for (size_t i = 0; i < n; i++)
            maxerr = fmax(maxerr, fabs(plane[i] - orig[i]));
        print_message("%dx%d: forward+inverse max error %.2e\n", w, h, maxerr);
        assert_true(maxerr < 2e-3);
        /* The quantisation tree tiles the image exactly once (bands 0..63). */
        size_t area = 0;
        for (int k = 0; k < PM__WSQ_BANDS; k++)
            area += (size_t)tree.band[k].w * (size_t)tree.band[k].h;
        assert_int_equal(area, n);
        free(plane);
        free(orig);
    }
}

static void test_roundtrip_synthetic(void **state)
{
    (void)state;
    int sizes[][2] = {{32, 32}, {33, 47}, {257, 129}, {300, 400}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        pm_image_t img;
        make_print(&img, sizes[t][0], sizes[t][1], 500, 7 + t);
        size_t n = (size_t)img.width * (size_t)img.height;
        double last_psnr = 0.0;
        size_t last_len = 0;
        static const double rates[] = {0.75, 2.25};
        for (int r = 0; r < 2; r++) {
            uint8_t *data;
            size_t len;
            pm_error_t e;
            assert_int_equal(pm_wsq_encode(&img, rates[r], &data, &len, &e), PM_OK);
            pm_image_t dec;
            assert_int_equal(pm_wsq_decode(data, len, 0, 0, &dec, &e), PM_OK);
            assert_int_equal(dec.width, img.width);
            assert_int_equal(dec.height, img.height);
            assert_int_equal(dec.ppi, 500);
            double p = psnr(img.pixels, dec.pixels, n);
            print_message("%dx%d @ %.2f: %zu bytes (%.3f bpp), PSNR %.2f dB\n", img.width,
                          img.height, rates[r], len, 8.0 * len / (double)n, p);
            assert_true(p > (n < 4096 ? 12.0 : 22.0)); /* tiny images: headers eat the bits */
            assert_true(p > last_psnr);                /* more bits, better image */
            assert_true(len > last_len);
            last_psnr = p;
            last_len = len;
            pm_wsq_info_t info;
            assert_int_equal(pm_wsq_info(data, len, &info, &e), PM_OK);
            assert_int_equal(info.width, img.width);
            assert_int_equal(info.ppi, 500);
            assert_true(fabs(info.bitrate - rates[r]) < 1e-9);
            assert_int_equal(info.comments, 1);
            assert_non_null(strstr(info.nist_com, "COMPRESSION WSQ"));
            pm_image_free(&dec);
            free(data);
        }
        pm_image_free(&img);
    }
}

static void test_encoder_vs_reference(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(base_ro, "wsq/dims.txt");
    char base[4096], path[4600];
    snprintf(base, sizeof base, "%s/wsq", base_ro);
    snprintf(path, sizeof path, "%s/dims.txt", base);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char name[256];
    int w, h, images = 0;
    while (fscanf(f, "%255s %d %d", name, &w, &h) == 3) {
        images++;
        snprintf(path, sizeof path, "%s/%s.raw", base, name);
        size_t n;
        pm_image_t img = {w, h, 500, PM_IMAGE_RAW, read_file(path, &n)};
        assert_non_null(img.pixels);
        static const char *tags[] = {"075", "225"};
        static const double rates[] = {0.75, 2.25};
        for (int r = 0; r < 2; r++) {
            uint8_t *data;
            size_t len, ref_len, ref_dec_len;
            pm_error_t e;
            assert_int_equal(pm_wsq_encode(&img, rates[r], &data, &len, &e), PM_OK);
            pm_image_t dec;
            assert_int_equal(pm_wsq_decode(data, len, 0, 0, &dec, &e), PM_OK);
            snprintf(path, sizeof path, "%s/%s_br%s.wsq", base, name, tags[r]);
            ref_len = 0;
            uint8_t *ref_wsq = read_file(path, &ref_len);
            assert_non_null(ref_wsq);
            assert_true(ref_len > 0);
            free(ref_wsq);
            snprintf(path, sizeof path, "%s/%s_br%s.decoded.raw", base, name, tags[r]);
            uint8_t *ref_dec = read_file(path, &ref_dec_len);
            assert_non_null(ref_dec);
            double ours = psnr(img.pixels, dec.pixels, n), ref = psnr(img.pixels, ref_dec, n);
            print_message("%s @ %.2f: ours %6zu B %.3f dB, reference %6zu B %.3f dB\n", name,
                          rates[r], len, ours, ref_len, ref);
            assert_true(ours > ref - 0.3);
            assert_true(len <= ref_len); /* issue 4: equal or smaller size */
            free(ref_dec);
            pm_image_free(&dec);
            free(data);
        }
        free(img.pixels);
    }
    fclose(f);
    assert_int_equal(images, 4); /* one image of each FVC2002 DB */
}

static void test_corrupt_generated(void **state)
{
    (void)state;
    pm_image_t img;
    make_print(&img, 96, 80, 500, 99);
    uint8_t *data;
    size_t len;
    pm_error_t e;
    assert_int_equal(pm_wsq_encode(&img, 0.75, &data, &len, &e), PM_OK);
    check_corruption(data, len, 7, 400);

    /* Patch the frame header's size: too large, too small, zero. */
    size_t sof = 0;
    for (size_t i = 2; i + 1 < len; i++)
        if (data[i] == 0xFF && data[i + 1] == 0xA2) {
            sof = i;
            break;
        }
    assert_true(sof > 0);
    pm_image_t dec;
    uint8_t save[4];
    memcpy(save, data + sof + 6, 4);
    static const uint8_t big[4] = {0x13, 0x88, 0x13, 0x88}; /* 5000 x 5000 */
    memcpy(data + sof + 6, big, 4);
    assert_int_equal(pm_wsq_decode(data, len, 0, 0, &dec, &e), PM_ELIMIT);
    assert_null(dec.pixels);
    static const uint8_t tiny[4] = {0x00, 0x10, 0x00, 0x10}; /* 16 x 16 */
    memcpy(data + sof + 6, tiny, 4);
    assert_int_equal(pm_wsq_decode(data, len, 0, 0, &dec, &e), PM_EUNSUPPORTED);
    static const uint8_t zero[4] = {0, 0, 0, 0};
    memcpy(data + sof + 6, zero, 4);
    assert_int_equal(pm_wsq_decode(data, len, 0, 0, &dec, &e), PM_EFORMAT);
    memcpy(data + sof + 6, save, 4);
    assert_int_equal(pm_wsq_decode(data, len, 64, 64, &dec, &e), PM_ELIMIT);
    assert_int_equal(pm_wsq_decode(data, len, 96, 80, &dec, &e), PM_OK);
    pm_image_free(&dec);
    /* A Huffman table whose lengths over-subscribe the code space (fuzzer
     * finding: it used to write past the lookup table). */
    size_t dht = 0;
    for (size_t i = 2; i + 1 < len; i++)
        if (data[i] == 0xFF && data[i + 1] == 0xA6) {
            dht = i;
            break;
        }
    assert_true(dht > 0);
    uint8_t *counts = data + dht + 5; /* counts[0] = codes of length 1 */
    int longest = 15;
    while (longest > 0 && counts[longest] < 2)
        longest--;
    assert_true(longest > 0);
    counts[longest] -= 2;
    counts[0] += 2;
    assert_int_equal(pm_wsq_decode(data, len, 0, 0, &dec, &e), PM_EFORMAT);
    pm_wsq_info_t info;
    assert_int_equal(pm_wsq_info(data, len, &info, &e), PM_EFORMAT);
    counts[longest] += 2;
    counts[0] -= 2;
    assert_int_equal(pm_wsq_decode(data, len, 0, 0, &dec, &e), PM_OK);
    pm_image_free(&dec);
    /* A stream cut just before its end-of-image marker is an error. */
    assert_int_equal(pm_wsq_decode(data, len - 2, 0, 0, &dec, &e), PM_ETRUNCATED);
    free(data);

    /* Encoder arguments. */
    assert_int_equal(pm_wsq_encode(&img, 0.0, &data, &len, &e), PM_ERANGE);
    assert_null(data);
    pm_image_t small;
    make_print(&small, 31, 64, 500, 1);
    assert_int_equal(pm_wsq_encode(&small, 0.75, &data, &len, &e), PM_ERANGE);
    pm_image_free(&small);
    pm_image_free(&img);
}

/* Restart markers inside a block (at its start and after its padded end)
 * restart the bit reader and leave the decoded image unchanged. */
static void test_restart_markers(void **state)
{
    (void)state;
    pm_image_t img, ref, dec;
    make_print(&img, 64, 48, 500, 5);
    uint8_t *data;
    size_t len;
    pm_error_t e;
    assert_int_equal(pm_wsq_encode(&img, 1.0, &data, &len, &e), PM_OK);
    assert_int_equal(pm_wsq_decode(data, len, 0, 0, &ref, &e), PM_OK);
    size_t sob = 0, end = 0;
    for (size_t i = 2; i + 1 < len; i++)
        if (data[i] == 0xFF && data[i + 1] == 0xA3) {
            sob = i;
            break;
        }
    assert_true(sob > 0);
    for (size_t i = sob + 5; i + 1 < len; i++)
        if (data[i] == 0xFF && data[i + 1] != 0x00) {
            end = i;
            break;
        }
    assert_true(end > sob + 5);
    uint8_t *patched = malloc(len + 4);
    assert_non_null(patched);
    size_t a = sob + 5;
    memcpy(patched, data, a);
    patched[a] = 0xFF;
    patched[a + 1] = 0xB0;
    memcpy(patched + a + 2, data + a, end - a);
    patched[end + 2] = 0xFF;
    patched[end + 3] = 0xB1;
    memcpy(patched + end + 4, data + end, len - end);
    assert_int_equal(pm_wsq_decode(patched, len + 4, 0, 0, &dec, &e), PM_OK);
    assert_memory_equal(dec.pixels, ref.pixels, (size_t)img.width * (size_t)img.height);
    pm_image_free(&dec);
    pm_image_free(&ref);
    pm_image_free(&img);
    free(patched);
    free(data);
}

/* Writes the fuzzing seeds (fuzz/corpus/wsq/) when PM_WSQ_WRITE_CORPUS names
 * a directory; otherwise only checks that the seeds decode. */
static void test_fuzz_seeds(void **state)
{
    (void)state;
    static const struct {
        int w, h;
        double rate;
    } seeds[] = {{32, 32, 0.75}, {48, 40, 2.25}, {64, 64, 0.75}, {37, 53, 1.5}, {80, 33, 4.0}};
    const char *dir = getenv("PM_WSQ_WRITE_CORPUS");
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        pm_image_t img;
        make_print(&img, seeds[i].w, seeds[i].h, i % 2 ? 500 : 0, 1000 + i);
        uint8_t *data;
        size_t len;
        pm_error_t e;
        assert_int_equal(pm_wsq_encode(&img, seeds[i].rate, &data, &len, &e), PM_OK);
        assert_true(len < 8192);
        pm_image_t dec;
        assert_int_equal(pm_wsq_decode(data, len, 0, 0, &dec, &e), PM_OK);
        pm_image_free(&dec);
        if (dir && *dir) {
            char path[4200];
            snprintf(path, sizeof path, "%s/seed-%dx%d-%.2f_wsq", dir, seeds[i].w, seeds[i].h,
                     seeds[i].rate);
            assert_int_equal(pm_file_write_atomic(path, data, len, &e), PM_OK);
        }
        free(data);
        pm_image_free(&img);
    }
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
        cmocka_unit_test(test_conformance_fvc),        cmocka_unit_test(test_conformance_an2k),
        cmocka_unit_test(test_conformance_sourceafis), cmocka_unit_test(test_corrupt_reference),
        cmocka_unit_test(test_limits_and_headers),     cmocka_unit_test(test_limit_reference),
        cmocka_unit_test(test_transform_reconstructs), cmocka_unit_test(test_roundtrip_synthetic),
        cmocka_unit_test(test_encoder_vs_reference),   cmocka_unit_test(test_corrupt_generated),
        cmocka_unit_test(test_restart_markers),        cmocka_unit_test(test_fuzz_seeds),
    };
    return PM_RUN_TESTS("wsq", tests, NULL, NULL);
}
