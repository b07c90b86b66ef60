/* An RGB plate for the console's images: grey prints, lines, minutiae marks,
 * written as PNG (libpng) into a caller's buffer. */
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "console/console_impl.h"

int pm__plate_new(pm__plate_t *p, int w, int h, uint8_t grey, pm_error_t *err)
{
    if (w < 1 || h < 1 || w > 8192 || h > 8192)
        return pm_error_set(err, PM_ELIMIT, "image of %dx%d pixels", w, h);
    p->w = w;
    p->h = h;
    p->px = malloc((size_t)w * (size_t)h * 3);
    if (!p->px)
        return pm_error_set(err, PM_ENOMEM, "image: out of memory");
    memset(p->px, grey, (size_t)w * (size_t)h * 3);
    return PM_OK;
}

void pm__plate_free(pm__plate_t *p)
{
    free(p->px);
    p->px = NULL;
}

void pm__plate_blit(pm__plate_t *p, const pm_image_t *img, int x0, int y0)
{
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++) {
            int X = x0 + x, Y = y0 + y;
            if (X < 0 || Y < 0 || X >= p->w || Y >= p->h)
                continue;
            uint8_t v = img->pixels[(size_t)y * (size_t)img->width + (size_t)x];
            uint8_t *d = &p->px[((size_t)Y * (size_t)p->w + (size_t)X) * 3];
            d[0] = d[1] = d[2] = v;
        }
}

static void dot(pm__plate_t *p, int x, int y, const uint8_t c[3])
{
    if (x < 0 || y < 0 || x >= p->w || y >= p->h)
        return;
    memcpy(&p->px[((size_t)y * (size_t)p->w + (size_t)x) * 3], c, 3);
}

void pm__plate_line(pm__plate_t *p, double x0, double y0, double x1, double y1,
                    const uint8_t c[3], int thick)
{
    double dx = x1 - x0, dy = y1 - y0;
    int n = (int)ceil(fmax(fabs(dx), fabs(dy)));
    if (n > 20000)
        return;
    for (int i = 0; i <= n; i++) {
        double t = n ? (double)i / n : 0;
        int x = (int)lround(x0 + t * dx), y = (int)lround(y0 + t * dy);
        for (int a = 0; a < thick; a++)
            for (int b = 0; b < thick; b++)
                dot(p, x + a, y + b, c);
    }
}

void pm__plate_minutia(pm__plate_t *p, double x, double y, double angle, int bifurcation)
{
    static const uint8_t red[3] = {220, 30, 30}, blue[3] = {30, 90, 230};
    const uint8_t *c = bifurcation ? blue : red;
    for (int k = 0; k < 24; k++) { /* a ring of radius 4 */
        double t = k * 2 * M_PI / 24;
        dot(p, (int)lround(x + 4 * cos(t)), (int)lround(y + 4 * sin(t)), c);
        dot(p, (int)lround(x + 5 * cos(t)), (int)lround(y + 5 * sin(t)), c);
    }
    pm__plate_line(p, x + 5 * cos(angle), y - 5 * sin(angle), x + 14 * cos(angle),
                   y - 14 * sin(angle), c, 2);
}

static void png_to_buf(png_structp png, png_bytep data, size_t n)
{
    pm_buf_t *b = png_get_io_ptr(png);
    if (pm_buf_append(b, data, n))
        png_error(png, "out of memory");
}

static void png_flush_none(png_structp png)
{
    (void)png;
}

int pm__plate_png(const pm__plate_t *p, pm_buf_t *out, pm_error_t *err)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        return pm_error_set(err, PM_ENOMEM, "png: out of memory");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return pm_error_set(err, PM_ENOMEM, "png: cannot encode");
    }
    png_set_write_fn(png, out, png_to_buf, png_flush_none);
    png_set_IHDR(png, info, (png_uint_32)p->w, (png_uint_32)p->h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 3);
    png_write_info(png, info);
    for (int y = 0; y < p->h; y++)
        png_write_row(png, &p->px[(size_t)y * (size_t)p->w * 3]);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return PM_OK;
}
