/* Image module: decoders, encoders, limits, colour to grey, resolution,
 * resampling, corrupt input; with shared data, the FVC TIFFs and the
 * SourceAFIS probe in several formats. All test images are generated here. */
#include "testutil.h"

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"
#include "perimeter/image.h"

/* A deterministic test picture: ridges-like stripes plus a gradient. */
static void make_picture(pm_image_t *img, int w, int h, int ppi)
{
    pm_error_t e;
    assert_int_equal(pm_image_alloc(img, w, h, ppi, &e), PM_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double v = 128 + 90 * sin((x * 0.35) + (y * 0.2)) + (x - w / 2) * 0.1;
            img->pixels[(size_t)y * w + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

static uint32_t crc32_of(const uint8_t *p, size_t n, uint32_t crc)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

static void put_le16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
    p[3] = (uint8_t)(v >> 24);
}

static int images_equal(const pm_image_t *a, const pm_image_t *b)
{
    return a->width == b->width && a->height == b->height &&
           memcmp(a->pixels, b->pixels, (size_t)a->width * (size_t)a->height) == 0;
}

static int max_abs_diff(const pm_image_t *a, const pm_image_t *b)
{
    int m = 0;
    size_t n = (size_t)a->width * (size_t)a->height;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a->pixels[i] - (int)b->pixels[i]);
        if (d > m)
            m = d;
    }
    return m;
}

/* Encodes, decodes by signature, and compares: lossless formats exactly. */
static void roundtrip(pm_image_format_t format, int lossless, int keeps_ppi)
{
    pm_image_t src, dec;
    make_picture(&src, 123, 77, 569);
    pm_error_t e;
    pm_error_clear(&e);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_image_encode(&src, format, NULL, &data, &len, &e);
    if (rc)
        print_message("encode %s: %s\n", pm_image_format_name(format), pm_error_text(&e));
    assert_int_equal(rc, PM_OK);
    assert_true(len > 0);
    assert_int_equal(pm_image_detect(data, len), format);
    rc = pm_image_decode(data, len, NULL, &dec, &e);
    if (rc)
        print_message("decode %s: %s\n", pm_image_format_name(format), pm_error_text(&e));
    assert_int_equal(rc, PM_OK);
    assert_int_equal(dec.format, format);
    assert_int_equal(dec.width, 123);
    assert_int_equal(dec.height, 77);
    if (keeps_ppi)
        assert_int_equal(dec.ppi, 569);
    if (lossless)
        assert_true(images_equal(&src, &dec));
    else
        assert_true(max_abs_diff(&src, &dec) < 40);
    pm_image_header_t hdr;
    assert_int_equal(pm_image_probe(data, len, &hdr, &e), PM_OK);
    assert_int_equal(hdr.width, 123);
    assert_int_equal(hdr.height, 77);
    assert_int_equal(hdr.format, format);

    /* Every truncation of the file fails cleanly (and never crashes). */
    size_t step = len / 40 + 1;
    for (size_t cut = 0; cut < len; cut += step) {
        pm_image_t t;
        rc = pm_image_decode_as(format, data, cut, NULL, &t, &e);
        assert_true(rc < 0);
        assert_null(t.pixels);
    }
    /* Corrupt bytes after the header: an error or some image, never a crash. */
    uint64_t seed = 42;
    for (int trial = 0; trial < 30; trial++) {
        uint8_t *bad = malloc(len);
        assert_non_null(bad);
        memcpy(bad, data, len);
        for (int k = 0; k < 8; k++)
            bad[pm_test_rand(&seed) % len] ^= (uint8_t)(1 + pm_test_rand(&seed) % 255);
        pm_image_t t;
        rc = pm_image_decode_as(format, bad, len, NULL, &t, &e);
        if (rc == PM_OK)
            pm_image_free(&t);
        else
            assert_null(t.pixels);
        free(bad);
    }
    free(data);
    pm_image_free(&src);
    pm_image_free(&dec);
}

static void test_png_roundtrip(void **state)
{
    (void)state;
    roundtrip(PM_IMAGE_PNG, 1, 1);
}

static void test_tiff_roundtrip(void **state)
{
    (void)state;
    roundtrip(PM_IMAGE_TIFF, 1, 1);
}

/* A colour PNG written with libpng: each channel weighs as BT.601 says. */
struct wbuf {
    uint8_t *p;
    size_t n, cap;
};
static void wbuf_write(png_structp png, png_bytep src, size_t n)
{
    struct wbuf *b = png_get_io_ptr(png);
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void wbuf_flush(png_structp png)
{
    (void)png;
}

static void test_png_colour_to_grey(void **state)
{
    (void)state;
    const int w = 4, h = 1;
    /* red, green, blue, half-transparent black */
    uint8_t rgba[16] = {255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 0, 0, 0, 128};
    struct wbuf b = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_set_write_fn(png, &b, wbuf_write, wbuf_flush);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_pHYs(png, info, 20000, 20000, PNG_RESOLUTION_METER); /* 508 ppi */
    png_write_info(png, info);
    png_write_row(png, rgba);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    pm_image_t img;
    pm_error_t e;
    assert_int_equal(pm_image_decode(b.p, b.n, NULL, &img, &e), PM_OK);
    assert_int_equal(img.ppi, 508);
    assert_int_equal(img.pixels[0], 76);  /* 0.299 * 255 */
    assert_int_equal(img.pixels[1], 150); /* 0.587 * 255 */
    assert_int_equal(img.pixels[2], 29);  /* 0.114 * 255 */
    assert_int_equal(img.pixels[3], 127); /* black at alpha 128 over white */
    pm_image_free(&img);
    free(b.p);
}

/* A PNG whose IHDR claims 100000 x 100000 (with a valid CRC) is refused by
 * our limit, before any allocation. */
static void test_png_limit(void **state)
{
    (void)state;
    uint8_t f[8 + 25];
    memcpy(f, "\x89PNG\r\n\x1a\n", 8);
    put_be32(f + 8, 13);
    memcpy(f + 12, "IHDR", 4);
    put_be32(f + 16, 100000);
    put_be32(f + 20, 100000);
    f[24] = 8, f[25] = 0, f[26] = 0, f[27] = 0, f[28] = 0;
    put_be32(f + 29, crc32_of(f + 12, 17, 0));
    pm_image_t img;
    pm_error_t e;
    pm_error_clear(&e);
    assert_int_equal(pm_image_decode(f, sizeof f, NULL, &img, &e), PM_ELIMIT);
    assert_non_null(strstr(e.msg, "100000x100000"));
    assert_null(img.pixels);
    pm_image_header_t hdr;
    assert_int_equal(pm_image_probe(f, sizeof f, &hdr, &e), PM_ELIMIT);
    /* A configured limit applies too. */
    pm_image_t src;
    make_picture(&src, 300, 200, 500);
    uint8_t *data;
    size_t len;
    assert_int_equal(pm_image_encode(&src, PM_IMAGE_PNG, NULL, &data, &len, &e), PM_OK);
    pm_image_limits_t lim = {.max_width = 299, .max_height = 1000};
    assert_int_equal(pm_image_decode(data, len, &lim, &img, &e), PM_ELIMIT);
    lim.max_width = 300;
    assert_int_equal(pm_image_decode(data, len, &lim, &img, &e), PM_OK);
    pm_image_free(&img);
    free(data);
    pm_image_free(&src);
}

/* A minimal little-endian TIFF header claiming 100000 x 100000 grey. */
static void test_tiff_limit(void **state)
{
    (void)state;
    uint8_t f[8 + 2 + 8 * 12 + 4 + 16];
    memset(f, 0, sizeof f);
    memcpy(f, "II*\0", 4);
    put_le32(f + 4, 8);
    put_le16(f + 8, 8);
    const uint32_t entries[8][3] = {
        {256, 4, 100000}, {257, 4, 100000}, {258, 3, 8}, {259, 3, 1},
        {262, 3, 1},      {273, 4, 122},    {278, 4, 100000}, {279, 4, 16},
    };
    for (int i = 0; i < 8; i++) {
        uint8_t *e = f + 10 + 12 * i;
        put_le16(e, entries[i][0]);
        put_le16(e + 2, entries[i][1]);
        put_le32(e + 4, 1);
        if (entries[i][1] == 3)
            put_le16(e + 8, entries[i][2]);
        else
            put_le32(e + 8, entries[i][2]);
    }
    pm_image_t img;
    pm_error_t e;
    pm_error_clear(&e);
    assert_int_equal(pm_image_decode(f, sizeof f, NULL, &img, &e), PM_ELIMIT);
    assert_non_null(strstr(e.msg, "100000x100000"));
    assert_null(img.pixels);
}

static void test_unknown_and_empty(void **state)
{
    (void)state;
    pm_image_t img;
    pm_error_t e;
    assert_int_equal(pm_image_decode((const uint8_t *)"hello world", 11, NULL, &img, &e),
                     PM_EUNSUPPORTED);
    assert_int_equal(pm_image_decode((const uint8_t *)"", 0, NULL, &img, &e), PM_EUNSUPPORTED);
    assert_int_equal(pm_image_format_from_path("a/b.c/X.TIFF"), PM_IMAGE_TIFF);
    assert_int_equal(pm_image_format_from_path("x.jpeg"), PM_IMAGE_JPEG);
    assert_int_equal(pm_image_format_from_path("dir.png/x"), PM_IMAGE_UNKNOWN);
    assert_int_equal(pm_image_format_from_path("x.wsq"), PM_IMAGE_WSQ);
}

static void test_raw(void **state)
{
    (void)state;
    uint8_t px[6] = {1, 2, 3, 4, 5, 6};
    pm_image_raw_params_t p = {.width = 3, .height = 2, .ppi = 500};
    pm_image_t img;
    pm_error_t e;
    assert_int_equal(pm_image_decode_raw(px, 6, &p, NULL, &img, &e), PM_OK);
    assert_int_equal(img.ppi, 500);
    assert_int_equal(img.pixels[4], 5);
    assert_int_equal(img.format, PM_IMAGE_RAW);
    pm_image_free(&img);
    assert_int_equal(pm_image_decode_raw(px, 5, &p, NULL, &img, &e), PM_ETRUNCATED);
    p.width = 100000;
    p.height = 100000;
    assert_int_equal(pm_image_decode_raw(px, 6, &p, NULL, &img, &e), PM_ELIMIT);
}

/* Resampling: sizes follow the resolutions, flat stays flat, equal
 * resolution copies, and shrinking a smooth image keeps its values. */
static void test_resample(void **state)
{
    (void)state;
    pm_error_t e;
    pm_image_t src, out;
    make_picture(&src, 296, 560, 569);
    assert_int_equal(pm_image_resample(&src, 500, &out, &e), PM_OK);
    assert_int_equal(out.width, 260);  /* 296 * 500 / 569 = 260.1 */
    assert_int_equal(out.height, 492); /* 560 * 500 / 569 = 492.1 */
    assert_int_equal(out.ppi, 500);
    pm_image_free(&out);
    src.ppi = 500;
    assert_int_equal(pm_image_resample(&src, 500, &out, &e), PM_OK);
    assert_true(images_equal(&src, &out));
    pm_image_free(&out);
    src.ppi = 0;
    assert_int_equal(pm_image_resample(&src, 500, &out, &e), PM_EINVAL);
    pm_image_free(&src);

    pm_image_t flat;
    assert_int_equal(pm_image_alloc(&flat, 50, 40, 512, &e), PM_OK);
    memset(flat.pixels, 173, 2000);
    assert_int_equal(pm_image_resample(&flat, 500, &out, &e), PM_OK);
    assert_int_equal(out.width, 49);
    for (int i = 0; i < out.width * out.height; i++)
        assert_int_equal(out.pixels[i], 173);
    pm_image_free(&out);
    pm_image_free(&flat);

    /* A linear ramp stays a linear ramp (away from the borders). */
    pm_image_t ramp;
    assert_int_equal(pm_image_alloc(&ramp, 200, 10, 569, &e), PM_OK);
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 200; x++)
            ramp.pixels[y * 200 + x] = (uint8_t)x;
    assert_int_equal(pm_image_resample(&ramp, 500, &out, &e), PM_OK);
    for (int x = 10; x < out.width - 10; x++) {
        double expect = (x + 0.5) * 200.0 / out.width - 0.5;
        assert_true(fabs(out.pixels[5 * out.width + x] - expect) <= 1.0);
    }
    pm_image_free(&out);
    /* Enlarging and shrinking back stays close to the original. */
    pm_image_t up, back;
    ramp.ppi = 500;
    assert_int_equal(pm_image_resample(&ramp, 1000, &up, &e), PM_OK);
    assert_int_equal(up.width, 400);
    assert_int_equal(pm_image_resample(&up, 500, &back, &e), PM_OK);
    assert_int_equal(back.width, 200);
    for (int x = 5; x < 195; x++)
        assert_true(abs(back.pixels[5 * 200 + x] - ramp.pixels[5 * 200 + x]) <= 1);
    pm_image_free(&up);
    pm_image_free(&back);
    pm_image_free(&ramp);
}

static void test_save_load_files(void **state)
{
    (void)state;
    char *dir = pm_test_tmpdir();
    assert_non_null(dir);
    char path[4200];
    pm_error_t e;
    pm_image_t src, img;
    make_picture(&src, 64, 48, 500);
    snprintf(path, sizeof path, "%s/a.png", dir);
    assert_int_equal(pm_image_save(path, &src, NULL, &e), PM_OK);
    assert_int_equal(pm_image_load(path, NULL, &img, &e), PM_OK);
    assert_true(images_equal(&src, &img));
    assert_int_equal(img.ppi, 500);
    pm_image_free(&img);
    snprintf(path, sizeof path, "%s/a.raw", dir);
    assert_int_equal(pm_image_save(path, &src, NULL, &e), PM_OK);
    assert_int_equal(pm_image_load(path, NULL, &img, &e), PM_EUNSUPPORTED);
    pm_image_raw_params_t p = {64, 48, 500};
    assert_int_equal(pm_image_load_raw(path, &p, NULL, &img, &e), PM_OK);
    assert_true(images_equal(&src, &img));
    pm_image_free(&img);
    snprintf(path, sizeof path, "%s/a.xyz", dir);
    assert_int_equal(pm_image_save(path, &src, NULL, &e), PM_EUNSUPPORTED);
    snprintf(path, sizeof path, "%s/missing.png", dir);
    assert_int_equal(pm_image_load(path, NULL, &img, &e), PM_ENOTFOUND);
    pm_image_free(&src);
    pm_test_rmdir(dir);
    free(dir);
}

/* Shared data: the FVC2002 TIFFs decode with their documented sizes. */
static void test_fvc_tiff(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(base, "fvc2002/DB1_B/101_1.tif");
    static const struct {
        int db, w, h;
    } dbs[] = {{1, 388, 374}, {2, 296, 560}, {3, 300, 300}, {4, 288, 384}};
    for (size_t i = 0; i < 4; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/fvc2002/DB%d_B/101_1.tif", base, dbs[i].db);
        pm_image_t img;
        pm_error_t e;
        assert_int_equal(pm_image_load(path, NULL, &img, &e), PM_OK);
        assert_int_equal(img.width, dbs[i].w);
        assert_int_equal(img.height, dbs[i].h);
        assert_int_equal(img.format, PM_IMAGE_TIFF);
        assert_int_equal(img.ppi, 0); /* the FVC TIFFs carry no resolution tags */
        /* not flat: a fingerprint has contrast */
        int lo = 255, hi = 0;
        for (int k = 0; k < img.width * img.height; k++) {
            lo = img.pixels[k] < lo ? img.pixels[k] : lo;
            hi = img.pixels[k] > hi ? img.pixels[k] : hi;
        }
        assert_true(hi - lo > 100);
        pm_image_free(&img);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_roundtrip),
        cmocka_unit_test(test_tiff_roundtrip),
        cmocka_unit_test(test_png_colour_to_grey),
        cmocka_unit_test(test_png_limit),
        cmocka_unit_test(test_tiff_limit),
        cmocka_unit_test(test_unknown_and_empty),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_resample),
        cmocka_unit_test(test_save_load_files),
        cmocka_unit_test(test_fvc_tiff),
    };
    return cmocka_run_group_tests_name("image", tests, NULL, NULL);
}
