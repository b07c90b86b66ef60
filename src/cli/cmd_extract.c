/* perimeter extract: minutiae of one fingerprint image (module fp). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/fp.h"
#include "perimeter/image.h"
#include "perimeter/tmpl.h"

static void extract_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter extract IMAGE [-o OUT] [--format native|iso|ansi|text] [--ppi N]\n"
            "                         [--draw PNG [--draw-skeleton]]\n"
            "  IMAGE            a fingerprint image (PNG, TIFF, PGM, BMP, JPEG, WSQ...)\n"
            "  -o, --output OUT write the template to OUT (default: a text listing on\n"
            "                   standard output)\n"
            "  --format FMT     native (default with -o), iso (ISO/IEC 19794-2:2005),\n"
            "                   ansi (ANSI INCITS 378-2004) or text (a plain listing)\n"
            "  --ppi N          resolution of IMAGE when its file does not say (default 500)\n"
            "  --draw PNG       draw the minutiae over the image (red: endings, blue:\n"
            "                   bifurcations, grey: outside the fingerprint area)\n"
            "  --draw-skeleton  draw over the ridge skeleton instead of the image\n");
}

static int png_rgb(pm_buf_t *buf, const uint8_t *rgb, int w, int h, pm_error_t *err);

typedef struct canvas {
    uint8_t *rgb;
    int w, h;
} canvas_t;

static void dot(canvas_t *c, int x, int y, const uint8_t col[3])
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    memcpy(c->rgb + 3 * ((size_t)y * c->w + x), col, 3);
}

static void segment(canvas_t *c, float x0, float y0, float x1, float y1, const uint8_t col[3])
{
    int n = (int)(fabsf(x1 - x0) + fabsf(y1 - y0)) + 1;
    for (int i = 0; i <= n; i++)
        dot(c, (int)lrintf(x0 + (x1 - x0) * i / n), (int)lrintf(y0 + (y1 - y0) * i / n), col);
}

static void draw_minutia(canvas_t *c, const pm_minutia_t *m, float s)
{
    static const uint8_t red[3] = {230, 20, 20}, blue[3] = {20, 60, 240};
    const uint8_t *col = m->type == PM_MINUTIA_BIFURCATION ? blue : red;
    float r = 3.f * s;
    if (m->type == PM_MINUTIA_BIFURCATION) {
        for (int k = 0; k < 32; k++) {
            float a = (float)k * 0.19635f;
            dot(c, (int)lrintf(m->x + r * cosf(a)), (int)lrintf(m->y + r * sinf(a)), col);
        }
    } else {
        segment(c, m->x - r, m->y - r, m->x + r, m->y - r, col);
        segment(c, m->x - r, m->y + r, m->x + r, m->y + r, col);
        segment(c, m->x - r, m->y - r, m->x - r, m->y + r, col);
        segment(c, m->x + r, m->y - r, m->x + r, m->y + r, col);
    }
    /* ISO angle: counter-clockwise on the displayed image */
    segment(c, m->x, m->y, m->x + 12.f * s * cosf(m->angle), m->y - 12.f * s * sinf(m->angle),
            col);
}

static int draw(const char *path, const pm_image_t *img, const pm_fingerprint_t *fp,
                const pm_fp_maps_t *maps, int skeleton, pm_error_t *err)
{
    canvas_t c = {.w = img->width, .h = img->height};
    c.rgb = malloc((size_t)c.w * c.h * 3);
    if (!c.rgb)
        return pm_error_set(err, PM_ENOMEM, "out of memory for drawing");
    for (int y = 0; y < c.h; y++)
        for (int x = 0; x < c.w; x++) {
            int v = img->pixels[(size_t)y * c.w + x];
            int inside = 1;
            if (maps->mask && maps->width > 0) {
                int wx = (int)(x * maps->scale), wy = (int)(y * maps->scale);
                wx = wx < maps->width ? wx : maps->width - 1;
                wy = wy < maps->height ? wy : maps->height - 1;
                inside = maps->mask[(wy / maps->cell) * maps->bw + wx / maps->cell];
                if (skeleton && maps->skeleton) {
                    size_t i = (size_t)wy * maps->width + wx;
                    v = maps->skeleton[i] ? 0 : maps->binary[i] ? 180 : 255;
                }
            }
            uint8_t g = (uint8_t)(inside ? v : 96 + v / 3);
            uint8_t col[3] = {g, g, g};
            dot(&c, x, y, col);
        }
    float s = img->width > 600 ? (float)img->width / 400.f : 1.f;
    for (size_t i = 0; i < fp->count; i++)
        draw_minutia(&c, &fp->minutiae[i], s);
    pm_buf_t buf;
    pm_buf_init(&buf, (size_t)1 << 28);
    int rc = png_rgb(&buf, c.rgb, c.w, c.h, err);
    if (rc == PM_OK)
        rc = pm_file_write_atomic(path, buf.data, buf.len, err);
    pm_buf_free(&buf);
    free(c.rgb);
    return rc;
}

struct png_sink {
    pm_buf_t *buf;
    int failed;
};

static void png_write_cb(png_structp png, png_bytep data, png_size_t len)
{
    struct png_sink *sink = png_get_io_ptr(png);
    if (pm_buf_append(sink->buf, data, len) != PM_OK)
        sink->failed = 1;
}

static void png_flush_cb(png_structp png)
{
    (void)png;
}

static int png_rgb(pm_buf_t *buf, const uint8_t *rgb, int w, int h, pm_error_t *err)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        return pm_error_set(err, PM_ENOMEM, "out of memory for PNG encoding");
    }
    struct png_sink sink = {buf, 0};
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return pm_error_set(err, PM_EIMAGE, "PNG encoding failed");
    }
    png_set_write_fn(png, &sink, png_write_cb, png_flush_cb);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, (png_const_bytep)(rgb + (size_t)y * w * 3));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    if (sink.failed)
        return pm_error_set(err, PM_ELIMIT, "PNG output too large");
    return PM_OK;
}

static int listing(pm_buf_t *out, const pm_fingerprint_t *fp)
{
    int rc = pm_buf_printf(out,
                           "# perimeter minutiae: x y (pixels, origin top-left) angle (degrees, "
                           "ISO 19794-2) type quality\n"
                           "width %d\nheight %d\nppi %d\nquality %d\ncount %zu\n",
                           fp->width, fp->height, fp->ppi, fp->quality, fp->count);
    for (size_t i = 0; i < fp->count && rc == PM_OK; i++) {
        const pm_minutia_t *m = &fp->minutiae[i];
        rc = pm_buf_printf(out, "%.1f %.1f %.1f %s %u\n", (double)m->x, (double)m->y,
                           (double)m->angle * 180.0 / 3.14159265358979323846,
                           m->type == PM_MINUTIA_ENDING         ? "ending"
                           : m->type == PM_MINUTIA_BIFURCATION ? "bifurcation"
                                                                : "other",
                           m->quality);
    }
    return rc;
}

int pm_cmd_extract(int argc, char **argv)
{
    enum { OPT_FORMAT = 1, OPT_DRAW, OPT_PPI, OPT_SKEL, OPT_HELP };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},   {"format", required_argument, NULL, OPT_FORMAT},
        {"draw", required_argument, NULL, OPT_DRAW}, {"ppi", required_argument, NULL, OPT_PPI},
        {"draw-skeleton", no_argument, NULL, OPT_SKEL}, {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0}};
    const char *out_path = NULL, *draw_path = NULL, *format = NULL;
    int ppi = 0, skeleton = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out_path = optarg;
            break;
        case OPT_FORMAT:
            format = optarg;
            break;
        case OPT_DRAW:
            draw_path = optarg;
            break;
        case OPT_SKEL:
            skeleton = 1;
            break;
        case OPT_PPI: {
            char *end = NULL;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 100 || v > 4000) {
                fprintf(stderr, "perimeter extract: --ppi wants 100..4000, got '%s'\n", optarg);
                return 2;
            }
            ppi = (int)v;
            break;
        }
        case OPT_HELP:
            extract_usage(stdout);
            return 0;
        default:
            extract_usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        extract_usage(stderr);
        return 2;
    }
    if (!format)
        format = out_path ? "native" : "text";
    pm_tmpl_format_t tfmt = PM_TMPL_UNKNOWN;
    if (strcmp(format, "text") != 0 && (tfmt = pm_tmpl_format_parse(format)) == PM_TMPL_UNKNOWN) {
        fprintf(stderr, "perimeter extract: unknown format '%s' (native, iso, ansi, text)\n", format);
        return 2;
    }
    if (tfmt != PM_TMPL_UNKNOWN && !out_path && isatty(1)) {
        fprintf(stderr, "perimeter extract: a binary template needs -o OUT (or a pipe)\n");
        return 2;
    }
    const char *path = argv[optind];
    pm_error_t err;
    pm_error_clear(&err);
    pm_image_t img;
    if (pm_image_load(path, NULL, &img, &err) != PM_OK) {
        fprintf(stderr, "perimeter extract: %s\n", pm_error_text(&err));
        return 1;
    }
    if (ppi)
        img.ppi = ppi;
    pm_extractor_t *ex = NULL;
    pm_fingerprint_t *fp = malloc(sizeof *fp);
    pm_fp_maps_t maps;
    memset(&maps, 0, sizeof maps);
    int status = 1;
    pm_buf_t out;
    pm_buf_init(&out, 0);
    if (!fp || pm_extractor_create(&ex, &err) != PM_OK) {
        fprintf(stderr, "perimeter extract: out of memory\n");
        goto done;
    }
    int rc = pm_fp_extract_maps(ex, &img, fp, draw_path ? &maps : NULL, &err);
    if (rc != PM_OK) {
        fprintf(stderr, "perimeter extract: %s: %s\n", path, pm_error_text(&err));
        goto done;
    }
    if (draw_path && draw(draw_path, &img, fp, &maps, skeleton, &err) != PM_OK) {
        fprintf(stderr, "perimeter extract: %s: %s\n", draw_path, pm_error_text(&err));
        goto done;
    }
    if (tfmt == PM_TMPL_UNKNOWN ? listing(&out, fp) != PM_OK
                                : pm_tmpl_write(tfmt, fp, 1, &out, &err) != PM_OK) {
        fprintf(stderr, "perimeter extract: %s\n",
                tfmt == PM_TMPL_UNKNOWN ? "out of memory" : pm_error_text(&err));
        goto done;
    }
    if (out_path) {
        if (pm_file_write_atomic(out_path, out.data, out.len, &err) != PM_OK) {
            fprintf(stderr, "perimeter extract: %s\n", pm_error_text(&err));
            goto done;
        }
    } else if (fwrite(out.data, 1, out.len, stdout) != out.len) {
        fprintf(stderr, "perimeter extract: cannot write standard output\n");
        goto done;
    }
    status = 0;
done:
    pm_buf_free(&out);
    pm_fp_maps_free(&maps);
    pm_extractor_free(ex);
    free(fp);
    pm_image_free(&img);
    return status;
}
