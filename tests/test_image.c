/* Image module: decoders, encoders, limits, colour to grey, resolution,
 * resampling, corrupt input; with shared data, the FVC TIFFs and the
 * SourceAFIS probe in several formats. All test images are generated here. */
#include "testutil.h"

#include <math.h>
#include <png.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <tiffio.h>
/* jpeglib.h needs stdio.h first */
#include <jpeglib.h>
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

/* An in-memory sink for PNGs written with libpng in the tests. */
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
    if (lossless) {
        assert_true(images_equal(&src, &dec));
    } else {
        double se = 0;
        size_t n = (size_t)src.width * (size_t)src.height;
        for (size_t i = 0; i < n; i++)
            se += (double)(src.pixels[i] - dec.pixels[i]) * (src.pixels[i] - dec.pixels[i]);
        double psnr = 10 * log10(255.0 * 255.0 / (se / (double)n + 1e-12));
        print_message("%s: %zu bytes, PSNR %.1f dB\n", pm_image_format_name(format), len, psnr);
        assert_true(psnr > 25.0);
    }
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


static void test_jpeg_roundtrip(void **state)
{
    (void)state;
    roundtrip(PM_IMAGE_JPEG, 0, 1);
}

static void test_jp2_roundtrip(void **state)
{
    (void)state;
    roundtrip(PM_IMAGE_JP2, 1, 1);
}

static void test_bmp_roundtrip(void **state)
{
    (void)state;
    roundtrip(PM_IMAGE_BMP, 1, 1);
}

static void test_wsq_roundtrip(void **state)
{
    (void)state;
    roundtrip(PM_IMAGE_WSQ, 0, 1);
}

static void test_pgm_roundtrip(void **state)
{
    (void)state;
    roundtrip(PM_IMAGE_PGM, 1, 1);
}

/* A raw J2K codestream (the jp2c box of our JP2 output) decodes the same. */
static void test_j2k_codestream(void **state)
{
    (void)state;
    pm_image_t src, dec;
    make_picture(&src, 50, 40, 500);
    pm_error_t e;
    uint8_t *data;
    size_t len;
    assert_int_equal(pm_image_encode(&src, PM_IMAGE_JP2, NULL, &data, &len, &e), PM_OK);
    size_t at = 0;
    for (size_t i = 0; i + 4 <= len; i++)
        if (memcmp(data + i, "\xff\x4f\xff\x51", 4) == 0) {
            at = i;
            break;
        }
    assert_true(at > 0);
    assert_int_equal(pm_image_detect(data + at, len - at), PM_IMAGE_JP2);
    assert_int_equal(pm_image_decode(data + at, len - at, NULL, &dec, &e), PM_OK);
    assert_true(images_equal(&src, &dec));
    assert_int_equal(dec.ppi, 0); /* a bare codestream has no resolution box */
    pm_image_free(&dec);
    /* lossy JPEG 2000 at 8:1 stays close (PSNR over 30 dB) */
    free(data);
    pm_image_free(&src);
    make_picture(&src, 256, 200, 500);
    pm_image_save_options_t o = {.jp2_ratio = 8};
    assert_int_equal(pm_image_encode(&src, PM_IMAGE_JP2, &o, &data, &len, &e), PM_OK);
    assert_true(len < 256 * 200 / 6);
    assert_int_equal(pm_image_decode(data, len, NULL, &dec, &e), PM_OK);
    double se = 0;
    for (int i = 0; i < 256 * 200; i++)
        se += (double)(src.pixels[i] - dec.pixels[i]) * (src.pixels[i] - dec.pixels[i]);
    double psnr = 10 * log10(255.0 * 255.0 / (se / (256 * 200)));
    if (psnr < 30)
        fail_msg("jp2 8:1 PSNR %.1f dB", psnr);
    assert_int_equal(dec.ppi, 500);
    pm_image_free(&dec);
    free(data);
    pm_image_free(&src);
}

/* Colour and odd layouts written by hand or with the libraries: BT.601. */
static const uint8_t RGB3[3][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
static const int GREY3[3] = {76, 150, 29};

static void check_rgb3(const uint8_t *data, size_t len, pm_image_format_t format, int ppi)
{
    pm_image_t img;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_image_decode(data, len, NULL, &img, &e);
    if (rc)
        print_message("%s: %s\n", pm_image_format_name(format), pm_error_text(&e));
    assert_int_equal(rc, PM_OK);
    assert_int_equal(img.format, format);
    assert_int_equal(img.width, 3);
    assert_int_equal(img.height, 2);
    assert_int_equal(img.ppi, ppi);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++) {
            int got = img.pixels[y * 3 + x];
            int want = y == 0 ? GREY3[x] : 255 - 127 * (x == 1); /* row 2: white, grey, white */
            if (abs(got - want) > (format == PM_IMAGE_JPEG ? 12 : 0))
                fail_msg("%s pixel (%d,%d) = %d, want %d", pm_image_format_name(format), x, y,
                         got, want);
        }
    pm_image_free(&img);
}

static void test_colour_bmp_ppm(void **state)
{
    (void)state;
    /* 24-bit bottom-up BMP, 3x2, rows padded to 12 bytes, 3937 px/m = 100 ppi */
    uint8_t bmp[54 + 24];
    memset(bmp, 0, sizeof bmp);
    bmp[0] = 'B', bmp[1] = 'M';
    put_le32(bmp + 2, sizeof bmp);
    put_le32(bmp + 10, 54);
    put_le32(bmp + 14, 40);
    put_le32(bmp + 18, 3);
    put_le32(bmp + 22, 2);
    put_le16(bmp + 26, 1);
    put_le16(bmp + 28, 24);
    put_le32(bmp + 38, 3937);
    put_le32(bmp + 42, 3937);
    uint8_t *row1 = bmp + 54 + 12, *row2 = bmp + 54; /* file order is bottom-up */
    for (int x = 0; x < 3; x++) {
        row1[3 * x] = RGB3[x][2], row1[3 * x + 1] = RGB3[x][1], row1[3 * x + 2] = RGB3[x][0];
        uint8_t v = x == 1 ? 128 : 255;
        row2[3 * x] = row2[3 * x + 1] = row2[3 * x + 2] = v;
    }
    check_rgb3(bmp, sizeof bmp, PM_IMAGE_BMP, 100);
    /* the same as top-down */
    uint8_t td[sizeof bmp];
    memcpy(td, bmp, sizeof bmp);
    put_le32(td + 22, (uint32_t)-2);
    memcpy(td + 54, row1, 12);
    memcpy(td + 54 + 12, row2, 12);
    check_rgb3(td, sizeof td, PM_IMAGE_BMP, 100);
    /* truncated pixel data */
    pm_image_t img;
    pm_error_t e;
    assert_int_equal(pm_image_decode(bmp, sizeof bmp - 1, NULL, &img, &e), PM_ETRUNCATED);

    /* PPM P6 with a comment and the same pixels; P3 in ASCII with maxval 1000 */
    char head[] = "P6\n# made by a test\n# ppi 250\n3 2\n255\n";
    uint8_t ppm[sizeof head - 1 + 18];
    memcpy(ppm, head, sizeof head - 1);
    uint8_t *px = ppm + sizeof head - 1;
    for (int x = 0; x < 3; x++) {
        memcpy(px + 3 * x, RGB3[x], 3);
        memset(px + 9 + 3 * x, x == 1 ? 128 : 255, 3);
    }
    check_rgb3(ppm, sizeof ppm, PM_IMAGE_PGM, 250);
    const char *p3 = "P3 3 2 1000\n1000 0 0  0 1000 0  0 0 1000\n"
                     "1000 1000 1000 502 502 502 1000 1000 1000\n";
    check_rgb3((const uint8_t *)p3, strlen(p3), PM_IMAGE_PGM, 0);
    const char *p2 = "P2 2 1 15 15 16";
    assert_int_equal(pm_image_decode((const uint8_t *)p2, strlen(p2), NULL, &img, &e),
                     PM_ERANGE);
    const char *p2ok = "P2 2 1 15 15 0";
    assert_int_equal(pm_image_decode((const uint8_t *)p2ok, strlen(p2ok), NULL, &img, &e),
                     PM_OK);
    assert_int_equal(img.pixels[0], 255);
    assert_int_equal(img.pixels[1], 0);
    pm_image_free(&img);
}

static void test_colour_jpeg_tiff(void **state)
{
    (void)state;
    uint8_t rgb[18];
    for (int x = 0; x < 3; x++) {
        memcpy(rgb + 3 * x, RGB3[x], 3);
        memset(rgb + 9 + 3 * x, x == 1 ? 128 : 255, 3);
    }
    /* JPEG, colour, quality 100 without chroma subsampling, 20 dots/cm */
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *buf = NULL;
    unsigned long blen = 0;
    jpeg_mem_dest(&c, &buf, &blen);
    c.image_width = 3;
    c.image_height = 2;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 100, TRUE);
    for (int i = 0; i < c.num_components; i++)
        c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    c.density_unit = 2;
    c.X_density = c.Y_density = 20; /* 50.8 ppi */
    jpeg_start_compress(&c, TRUE);
    for (int y = 0; y < 2; y++) {
        JSAMPROW r = rgb + 9 * y;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    check_rgb3(buf, blen, PM_IMAGE_JPEG, 51);
    free(buf);

    /* TIFF RGB written with libtiff to a file, resolution in centimetres */
    char *dir = pm_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/rgb.tif", dir);
    TIFF *t = TIFFOpen(path, "w");
    assert_non_null(t);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 3);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, 2);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
    TIFFSetField(t, TIFFTAG_XRESOLUTION, 200.0f);
    TIFFSetField(t, TIFFTAG_YRESOLUTION, 200.0f);
    TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_CENTIMETER);
    for (int y = 0; y < 2; y++)
        assert_true(TIFFWriteScanline(t, rgb + 9 * y, (uint32_t)y, 0) >= 0);
    TIFFClose(t);
    uint8_t *data;
    size_t len;
    pm_error_t e;
    assert_int_equal(pm_file_read(path, 1 << 20, &data, &len, &e), PM_OK);
    check_rgb3(data, len, PM_IMAGE_TIFF, 508);
    free(data);
    pm_test_rmdir(dir);
    free(dir);
}


/* Less common layouts: RLE8 and 1-bit BMP, 16-bit and interlaced palette
 * PNG, progressive JPEG, 16-bit PGM, min-is-white and tiled TIFF. */
static void test_odd_layouts(void **state)
{
    (void)state;
    pm_image_t img;
    pm_error_t e;
    pm_error_clear(&e);
    /* RLE8 BMP 4x2: palette black, white, grey 100 */
    const uint8_t rle[] = {4, 1, 0, 0,                /* bottom row: 4 x white, EOL */
                           0, 3, 2, 0, 1, 0, 1, 2, /* top: absolute 2 0 1 (+pad), 1 x 2 */
                           0, 0, 0, 1};              /* EOL, end of bitmap */
    uint8_t bmp[54 + 12 + sizeof rle];
    memset(bmp, 0, sizeof bmp);
    bmp[0] = 'B', bmp[1] = 'M';
    put_le32(bmp + 10, 54 + 12);
    put_le32(bmp + 14, 40);
    put_le32(bmp + 18, 4);
    put_le32(bmp + 22, 2);
    put_le16(bmp + 26, 1);
    put_le16(bmp + 28, 8);
    put_le32(bmp + 30, 1); /* BI_RLE8 */
    put_le32(bmp + 46, 3);
    memset(bmp + 58, 255, 3);
    memset(bmp + 62, 100, 3);
    memcpy(bmp + 66, rle, sizeof rle);
    assert_int_equal(pm_image_decode(bmp, sizeof bmp, NULL, &img, &e), PM_OK);
    const uint8_t want_rle[8] = {100, 0, 255, 100, 255, 255, 255, 255};
    assert_memory_equal(img.pixels, want_rle, 8);
    pm_image_free(&img);
    assert_int_equal(pm_image_decode(bmp, sizeof bmp - 2, NULL, &img, &e), PM_ETRUNCATED);
    bmp[66] = 5; /* a run past the row end */
    assert_int_equal(pm_image_decode(bmp, sizeof bmp, NULL, &img, &e), PM_EFORMAT);

    /* 1-bit BMP 10x1: bits 1011001110 with palette (black, white) */
    uint8_t b1[54 + 8 + 4];
    memset(b1, 0, sizeof b1);
    b1[0] = 'B', b1[1] = 'M';
    put_le32(b1 + 10, 62);
    put_le32(b1 + 14, 40);
    put_le32(b1 + 18, 10);
    put_le32(b1 + 22, 1);
    put_le16(b1 + 26, 1);
    put_le16(b1 + 28, 1);
    memset(b1 + 58, 255, 3);
    b1[62] = 0xB3, b1[63] = 0x80; /* 1011 0011 10.. */
    assert_int_equal(pm_image_decode(b1, sizeof b1, NULL, &img, &e), PM_OK);
    const uint8_t want_b1[10] = {255, 0, 255, 255, 0, 0, 255, 255, 255, 0};
    assert_memory_equal(img.pixels, want_b1, 10);
    pm_image_free(&img);

    /* 16-bit grey PNG and an interlaced palette PNG */
    for (int kind = 0; kind < 2; kind++) {
        struct wbuf b = {0};
        png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_infop info = png_create_info_struct(png);
        png_set_write_fn(png, &b, wbuf_write, wbuf_flush);
        if (kind == 0) {
            png_set_IHDR(png, info, 3, 1, 16, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                         PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
            png_write_info(png, info);
            uint8_t row[6] = {0, 0, 0xFF, 0xFF, 0x80, 0x80};
            png_write_row(png, row);
        } else {
            png_color pal[2] = {{255, 0, 0}, {255, 255, 255}};
            png_set_IHDR(png, info, 9, 9, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_ADAM7,
                         PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
            png_set_PLTE(png, info, pal, 2);
            png_write_info(png, info);
            int passes = png_set_interlace_handling(png);
            uint8_t rows[9][9];
            for (int y = 0; y < 9; y++)
                for (int x = 0; x < 9; x++)
                    rows[y][x] = (uint8_t)((x + y) & 1);
            for (int p = 0; p < passes; p++)
                for (int y = 0; y < 9; y++)
                    png_write_row(png, rows[y]);
        }
        png_write_end(png, NULL);
        png_destroy_write_struct(&png, &info);
        assert_int_equal(pm_image_decode(b.p, b.n, NULL, &img, &e), PM_OK);
        if (kind == 0) {
            assert_int_equal(img.pixels[0], 0);
            assert_int_equal(img.pixels[1], 255);
            assert_int_equal(img.pixels[2], 128);
        } else {
            for (int y = 0; y < 9; y++)
                for (int x = 0; x < 9; x++)
                    assert_int_equal(img.pixels[y * 9 + x], (x + y) & 1 ? 255 : 76);
        }
        pm_image_free(&img);
        free(b.p);
    }

    /* progressive JPEG */
    pm_image_t src;
    make_picture(&src, 64, 48, 0);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *buf = NULL;
    unsigned long blen = 0;
    jpeg_mem_dest(&c, &buf, &blen);
    c.image_width = 64;
    c.image_height = 48;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < 48) {
        JSAMPROW r = src.pixels + c.next_scanline * 64;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    assert_int_equal(pm_image_decode(buf, blen, NULL, &img, &e), PM_OK);
    assert_true(max_abs_diff(&src, &img) < 20);
    pm_image_free(&img);
    /* cut in the middle of the scans: an error, not a padded image */
    assert_int_equal(pm_image_decode(buf, blen / 2, NULL, &img, &e), PM_ETRUNCATED);
    free(buf);

    /* 16-bit binary PGM */
    uint8_t p16[] = "P5 2 1 65535\n\x00\x00\xff\xff";
    assert_int_equal(pm_image_decode(p16, sizeof p16 - 1, NULL, &img, &e), PM_OK);
    assert_int_equal(img.pixels[0], 0);
    assert_int_equal(img.pixels[1], 255);
    pm_image_free(&img);

    /* TIFF: min-is-white strips, and tiles */
    char *dir = pm_test_tmpdir();
    char path[4200];
    for (int kind = 0; kind < 2; kind++) {
        snprintf(path, sizeof path, "%s/t%d.tif", dir, kind);
        TIFF *t = TIFFOpen(path, "w");
        assert_non_null(t);
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 64);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, 48);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_DEFLATE);
        if (kind == 0) {
            TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
            uint8_t row[64];
            for (int y = 0; y < 48; y++) {
                for (int x = 0; x < 64; x++)
                    row[x] = (uint8_t)(255 - src.pixels[y * 64 + x]);
                assert_true(TIFFWriteScanline(t, row, (uint32_t)y, 0) >= 0);
            }
        } else {
            TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
            TIFFSetField(t, TIFFTAG_TILEWIDTH, 16);
            TIFFSetField(t, TIFFTAG_TILELENGTH, 16);
            uint8_t tile[256];
            for (int ty = 0; ty < 48; ty += 16)
                for (int tx = 0; tx < 64; tx += 16) {
                    for (int y = 0; y < 16; y++)
                        memcpy(tile + 16 * y, src.pixels + (ty + y) * 64 + tx, 16);
                    assert_true(TIFFWriteTile(t, tile, (uint32_t)tx, (uint32_t)ty, 0, 0) >= 0);
                }
        }
        TIFFClose(t);
        assert_int_equal(pm_image_load(path, NULL, &img, &e), PM_OK);
        assert_true(images_equal(&src, &img));
        pm_image_free(&img);
    }
    pm_test_rmdir(dir);
    free(dir);
    pm_image_free(&src);
}


/* The libraries never print: decode damaged files of every format (and a
 * TIFF with an unknown tag, which libtiff warns about) with stderr and stdout
 * redirected to a file, which must stay empty. Runs the decoders from
 * several threads at once, as a server would. */
struct silence_job {
    uint8_t *files[7];
    size_t lens[7];
    int failures;
};

static void *silence_worker(void *arg)
{
    struct silence_job *job = arg;
    uint64_t seed = (uint64_t)(uintptr_t)arg;
    for (int round = 0; round < 40; round++)
        for (int f = 0; f < 7; f++) {
            size_t len = job->lens[f];
            uint8_t *bad = malloc(len);
            memcpy(bad, job->files[f], len);
            if (round % 2)
                for (int k = 0; k < 6; k++)
                    bad[16 + pm_test_rand(&seed) % (len - 16)] ^= 0x5A;
            size_t cut = round % 2 ? len : len / 2 + (size_t)round;
            pm_image_t img;
            pm_error_t e;
            if (pm_image_decode(bad, cut < len ? cut : len, NULL, &img, &e) == PM_OK)
                pm_image_free(&img);
            else if (!e.msg[0])
                job->failures++;
            free(bad);
        }
    return NULL;
}

static void test_libraries_silent(void **state)
{
    (void)state;
    pm_image_t src;
    make_picture(&src, 90, 70, 500);
    struct silence_job job;
    static const pm_image_format_t formats[6] = {PM_IMAGE_PNG, PM_IMAGE_TIFF, PM_IMAGE_JPEG,
                                                 PM_IMAGE_JP2, PM_IMAGE_BMP, PM_IMAGE_PGM};
    pm_error_t e;
    for (int f = 0; f < 6; f++)
        assert_int_equal(pm_image_encode(&src, formats[f], NULL, &job.files[f], &job.lens[f], &e),
                         PM_OK);
    /* the TIFF again with tag 65000 added to its directory (libtiff warns) */
    job.lens[6] = job.lens[1];
    job.files[6] = malloc(job.lens[6]);
    memcpy(job.files[6], job.files[1], job.lens[6]);
    {
        uint8_t *t = job.files[6];
        uint32_t ifd = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 |
                       (uint32_t)t[7] << 24;
        assert_true(ifd + 2 < job.lens[6]);
        uint32_t n = (uint32_t)t[ifd] | (uint32_t)t[ifd + 1] << 8;
        uint8_t *last = t + ifd + 2 + 12 * (n - 1);
        put_le16(last, 65000); /* the last entry (highest tag) renamed */
    }
    job.failures = 0;
    fflush(stdout);
    fflush(stderr);
    char *dir = pm_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    FILE *sink = fopen(path, "w+");
    assert_non_null(sink);
    int saved_err = dup(2), saved_out = dup(1);
    dup2(fileno(sink), 2);
    dup2(fileno(sink), 1);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, silence_worker, &job);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_err, 2);
    dup2(saved_out, 1);
    close(saved_err);
    close(saved_out);
    long size = ftell(sink);
    fseek(sink, 0, SEEK_END);
    size = ftell(sink);
    char head[200] = "";
    fseek(sink, 0, SEEK_SET);
    size_t got = fread(head, 1, sizeof head - 1, sink);
    head[got] = '\0';
    fclose(sink);
    if (size != 0)
        fail_msg("a library printed %ld bytes: %s", size, head);
    assert_int_equal(job.failures, 0); /* every failure came with a message */
    for (int f = 0; f < 7; f++)
        free(job.files[f]);
    pm_image_free(&src);
    pm_test_rmdir(dir);
    free(dir);
}

/* Headers claiming 100000 x 100000 (JPEG: 60000 x 60000, its maximum is
 * 65500) are refused with PM_ELIMIT before any pixel allocation. */
static void test_limits_all_formats(void **state)
{
    (void)state;
    pm_image_t img;
    pm_error_t e;
    /* BMP */
    uint8_t bmp[54];
    memset(bmp, 0, sizeof bmp);
    bmp[0] = 'B', bmp[1] = 'M';
    put_le32(bmp + 10, 54);
    put_le32(bmp + 14, 40);
    put_le32(bmp + 18, 100000);
    put_le32(bmp + 22, 100000);
    put_le16(bmp + 26, 1);
    put_le16(bmp + 28, 24);
    assert_int_equal(pm_image_decode(bmp, sizeof bmp, NULL, &img, &e), PM_ELIMIT);
    assert_null(img.pixels);
    put_le32(bmp + 22, 0x80000000u); /* INT32_MIN height */
    assert_int_equal(pm_image_decode(bmp, sizeof bmp, NULL, &img, &e), PM_ELIMIT);
    /* PGM */
    const char *pgm = "P5 100000 100000 255\n";
    assert_int_equal(pm_image_decode((const uint8_t *)pgm, strlen(pgm), NULL, &img, &e),
                     PM_ELIMIT);
    const char *pgm2 = "P5 99999999999999999999 1 255\n";
    assert_int_equal(pm_image_decode((const uint8_t *)pgm2, strlen(pgm2), NULL, &img, &e),
                     PM_ERANGE);
    /* JPEG: SOI, SOF0 60000x60000, no more */
    uint8_t jpg[] = {0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0xEA, 0x60, 0xEA, 0x60, 1, 1, 0x11, 0,
                     0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0, 0xFF, 0xD9};
    assert_int_equal(pm_image_decode(jpg, sizeof jpg, NULL, &img, &e), PM_ELIMIT);
    assert_non_null(strstr(e.msg, "60000x60000"));
    /* J2K: SOC, SIZ 100000x100000, one component */
    uint8_t j2k[4 + 2 + 41];
    memset(j2k, 0, sizeof j2k);
    j2k[0] = 0xFF, j2k[1] = 0x4F, j2k[2] = 0xFF, j2k[3] = 0x51;
    uint8_t *s = j2k + 4;
    s[1] = 41;
    put_be32(s + 4, 100000);
    put_be32(s + 8, 100000);
    put_be32(s + 20, 100000);
    put_be32(s + 24, 100000);
    s[37] = 1, s[38] = 7, s[39] = 1, s[40] = 1;
    assert_int_equal(pm_image_decode(j2k, 6 + 41, NULL, &img, &e), PM_ELIMIT);
    assert_non_null(strstr(e.msg, "100000x100000"));
    /* small image but a million tiles */
    put_be32(s + 4, 4000), put_be32(s + 8, 4000), put_be32(s + 20, 2), put_be32(s + 24, 2);
    assert_int_equal(pm_image_decode(j2k, 6 + 41, NULL, &img, &e), PM_ELIMIT);
}

/* A colour PNG written with libpng: each channel weighs as BT.601 says. */
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


/* Shared data: the SourceAFIS probe in PNG (RGBA), BMP (24-bit) and JPEG is
 * FVC2002 DB1_B/102_1.tif; the lossless ones decode to exactly its pixels,
 * the JPEG close to them. */
static void test_sourceafis_probe(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(base, "sourceafis/probe.png");
    static const char *const names[] = {"probe.png", "probe.bmp", "probe.jpeg"};
    static const pm_image_format_t formats[] = {PM_IMAGE_PNG, PM_IMAGE_BMP, PM_IMAGE_JPEG};
    pm_image_t img[3];
    pm_error_t e;
    char path[4200];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/sourceafis/%s", base, names[i]);
        assert_int_equal(pm_image_load(path, NULL, &img[i], &e), PM_OK);
        assert_int_equal(img[i].format, formats[i]);
        assert_int_equal(img[i].width, 388);
        assert_int_equal(img[i].height, 374);
    }
    assert_true(images_equal(&img[0], &img[1]));
    int d = max_abs_diff(&img[0], &img[2]);
    print_message("probe.jpeg vs probe.png: max abs difference %d\n", d);
    assert_true(d > 0 && d < 40); /* lossy, but the same picture */
    /* the TIFF is shared data too: it must load, or the test fails */
    snprintf(path, sizeof path, "%s/fvc2002/DB1_B/102_1.tif", base);
    pm_image_t tif;
    assert_int_equal(pm_image_load(path, NULL, &tif, &e), PM_OK);
    assert_true(images_equal(&img[0], &tif));
    pm_image_free(&tif);
    for (int i = 0; i < 3; i++)
        pm_image_free(&img[i]);
    /* the WSQ reference decoding is a palette PNG */
    snprintf(path, sizeof path, "%s/sourceafis/wsq-converted.png", base);
    pm_image_t ref;
    assert_int_equal(pm_image_load(path, NULL, &ref, &e), PM_OK);
    assert_int_equal(ref.width, 832);
    assert_int_equal(ref.height, 768);
    pm_image_free(&ref);
}

/* Shared data: gray-*.dat are headerless 8-bit dumps of three other prints
 * (332x533, 320x407, 333x435; no header, the sizes are the only factorings
 * whose rows line up). They load as raw, agree with their own PGM/PNG
 * re-encodings, and are refused with any other size. */
static void test_sourceafis_gray_dumps(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(base, "sourceafis/gray-probe.dat");
    static const struct {
        const char *name;
        int w, h;
    } dumps[] = {{"gray-probe.dat", 332, 533},
                 {"gray-matching.dat", 320, 407},
                 {"gray-nonmatching.dat", 333, 435}};
    for (int i = 0; i < 3; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/sourceafis/%s", base, dumps[i].name);
        pm_image_raw_params_t p = {dumps[i].w, dumps[i].h, 500};
        pm_image_t img, back;
        pm_error_t e;
        assert_int_equal(pm_image_load_raw(path, &p, NULL, &img, &e), PM_OK);
        /* rows line up: neighbouring rows differ far less than pixels a
         * quarter row apart */
        double near = 0, far = 0;
        size_t n = (size_t)img.width * (size_t)(img.height - 1);
        for (size_t k = 0; k < n; k++) {
            near += abs(img.pixels[k] - img.pixels[k + (size_t)img.width]);
            far += abs(img.pixels[k] - img.pixels[k + (size_t)img.width / 4]);
        }
        assert_true(near * 2 < far);
        uint8_t *data;
        size_t len;
        for (int f = 0; f < 2; f++) {
            pm_image_format_t fmt = f ? PM_IMAGE_PNG : PM_IMAGE_PGM;
            assert_int_equal(pm_image_encode(&img, fmt, NULL, &data, &len, &e), PM_OK);
            assert_int_equal(pm_image_decode(data, len, NULL, &back, &e), PM_OK);
            assert_true(images_equal(&img, &back));
            assert_int_equal(back.ppi, 500);
            pm_image_free(&back);
            free(data);
        }
        pm_image_free(&img);
        p.width++;
        assert_true(pm_image_load_raw(path, &p, NULL, &img, &e) < 0);
    }
}

/* Shared data: WSQ through the generic API (signature, header, limits) gives
 * the reference decodings exactly; the WSQ codec's own conformance tests are
 * in test_wsq*. A frame header patched to 60000x60000 is refused by the
 * limit before decoding. */
static void test_wsq_generic(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(base, "wsq/dims.txt");
    static const struct {
        const char *name;
        int w, h;
    } refs[] = {{"fvc2002_db1_101_1", 388, 374}, {"fvc2002_db2_102_1", 296, 560},
                {"fvc2002_db3_103_1", 300, 300}, {"fvc2002_db4_104_1", 288, 384}};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 2; b++) {
            char path[4200];
            const char *rate = b ? "br225" : "br075";
            snprintf(path, sizeof path, "%s/wsq/%s_%s.wsq", base, refs[i].name, rate);
            pm_image_t img, ref;
            pm_error_t e;
            pm_error_clear(&e);
            int rc = pm_image_load(path, NULL, &img, &e);
            if (rc)
                fail_msg("%s: %s", path, pm_error_text(&e));
            assert_int_equal(img.format, PM_IMAGE_WSQ);
            assert_int_equal(img.ppi, 500);
            snprintf(path, sizeof path, "%s/wsq/%s_%s.decoded.raw", base, refs[i].name, rate);
            pm_image_raw_params_t p = {refs[i].w, refs[i].h, 500};
            assert_int_equal(pm_image_load_raw(path, &p, NULL, &ref, &e), PM_OK);
            int d = max_abs_diff(&img, &ref);
            if (d)
                fail_msg("%s %s: max abs difference %d from the reference", refs[i].name, rate,
                         d);
            pm_image_free(&ref);
            if (i == 0 && b == 0) {
                /* the same stream with its frame header claiming 60000x60000 */
                uint8_t *data;
                size_t len;
                snprintf(path, sizeof path, "%s/wsq/%s_%s.wsq", base, refs[i].name, rate);
                assert_int_equal(pm_file_read(path, 1 << 24, &data, &len, &e), PM_OK);
                size_t sof = 0;
                for (size_t k = 2; k + 10 < len; k++)
                    if (data[k] == 0xFF && data[k + 1] == 0xA2) {
                        sof = k;
                        break;
                    }
                assert_true(sof > 0);
                assert_int_equal(data[sof + 6] << 8 | data[sof + 7], refs[i].h);
                data[sof + 6] = data[sof + 8] = 0xEA;
                data[sof + 7] = data[sof + 9] = 0x60;
                pm_image_t big;
                assert_int_equal(pm_image_decode(data, len, NULL, &big, &e), PM_ELIMIT);
                assert_null(big.pixels);
                pm_image_header_t hdr;
                assert_int_equal(pm_image_probe(data, len, &hdr, &e), PM_OK);
                assert_int_equal(hdr.width, 60000); /* probing reports, does not refuse */
                free(data);
            }
            pm_image_free(&img);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_roundtrip),
        cmocka_unit_test(test_tiff_roundtrip),
        cmocka_unit_test(test_jpeg_roundtrip),
        cmocka_unit_test(test_jp2_roundtrip),
        cmocka_unit_test(test_bmp_roundtrip),
        cmocka_unit_test(test_pgm_roundtrip),
        cmocka_unit_test(test_wsq_roundtrip),
        cmocka_unit_test(test_j2k_codestream),
        cmocka_unit_test(test_colour_bmp_ppm),
        cmocka_unit_test(test_colour_jpeg_tiff),
        cmocka_unit_test(test_limits_all_formats),
        cmocka_unit_test(test_odd_layouts),
        cmocka_unit_test(test_libraries_silent),
        cmocka_unit_test(test_png_colour_to_grey),
        cmocka_unit_test(test_png_limit),
        cmocka_unit_test(test_tiff_limit),
        cmocka_unit_test(test_unknown_and_empty),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_resample),
        cmocka_unit_test(test_save_load_files),
        cmocka_unit_test(test_fvc_tiff),
        cmocka_unit_test(test_sourceafis_probe),
        cmocka_unit_test(test_sourceafis_gray_dumps),
        cmocka_unit_test(test_wsq_generic),
    };
    return PM_RUN_TESTS("image", tests, NULL, NULL);
}
