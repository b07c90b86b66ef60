/* A small raster plotter for `eval fvc --plot`: DET curves (log-log) and
 * score distributions, drawn into an RGB canvas with a built-in 5x7 bitmap
 * font and written as PNG with libpng. */
#include "cli/plot.h"

#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/match.h"

typedef struct canvas {
    int w, h;
    uint8_t *rgb;
} canvas_t;

typedef struct rgb {
    uint8_t r, g, b;
} rgb_t;

static const rgb_t black = {0, 0, 0}, grey = {200, 200, 200}, white = {255, 255, 255};
static const rgb_t palette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},
                                {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {0, 0, 0}};

static void put(canvas_t *c, int x, int y, rgb_t col)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    uint8_t *p = c->rgb + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
    p[0] = col.r;
    p[1] = col.g;
    p[2] = col.b;
}

static void rect(canvas_t *c, int x0, int y0, int x1, int y1, rgb_t col)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            put(c, x, y, col);
}

/* Bresenham line, `thick` pixels wide; dashed when dash > 0. */
static void line(canvas_t *c, int x0, int y0, int x1, int y1, rgb_t col, int thick, int dash)
{
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int e = dx + dy, step = 0;
    for (;;) {
        if (!dash || (step / dash) % 2 == 0)
            for (int t = 0; t < thick; t++)
                for (int u = 0; u < thick; u++)
                    put(c, x0 + t - thick / 2, y0 + u - thick / 2, col);
        step++;
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

/* ---- 5x7 font: rows top to bottom, bit 4 = leftmost column ---- */
typedef struct glyph {
    char ch;
    uint8_t rows[7];
} glyph_t;

static const glyph_t font[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}}, {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}}, {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}}, {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}}, {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
    {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}}, {'<', {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}},
};

/* Draws text with its top-left at (x, y), each font pixel scale x scale.
 * Lower case is drawn as upper case; unknown characters as blanks. */
static void text(canvas_t *c, int x, int y, const char *s, rgb_t col, int scale)
{
    for (; *s; s++, x += 6 * scale) {
        char ch = (*s >= 'a' && *s <= 'z') ? (char)(*s - 'a' + 'A') : *s;
        const glyph_t *g = NULL;
        for (size_t k = 0; k < sizeof font / sizeof font[0] && !g; k++)
            if (font[k].ch == ch)
                g = &font[k];
        if (!g)
            continue;
        for (int r = 0; r < 7; r++)
            for (int b = 0; b < 5; b++)
                if (g->rows[r] & (0x10 >> b))
                    rect(c, x + b * scale, y + r * scale, x + b * scale + scale - 1,
                         y + r * scale + scale - 1, col);
    }
}

static int text_width(const char *s, int scale) { return (int)strlen(s) * 6 * scale; }

/* ---- panels ---- */
typedef struct panel {
    int x0, y0, x1, y1; /* plot area in pixels */
    double vx0, vx1, vy0, vy1; /* value range (log10 where the axis is logarithmic) */
} panel_t;

static int px(const panel_t *p, double v)
{
    return p->x0 + (int)lround((v - p->vx0) / (p->vx1 - p->vx0) * (p->x1 - p->x0));
}

static int py(const panel_t *p, double v)
{
    return p->y1 - (int)lround((v - p->vy0) / (p->vy1 - p->vy0) * (p->y1 - p->y0));
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

static void frame(canvas_t *c, const panel_t *p, const char *title, const char *xlabel,
                  const char *ylabel)
{
    line(c, p->x0, p->y1, p->x1, p->y1, black, 1, 0);
    line(c, p->x0, p->y0, p->x0, p->y1, black, 1, 0);
    line(c, p->x1, p->y0, p->x1, p->y1, black, 1, 0);
    line(c, p->x0, p->y0, p->x1, p->y0, black, 1, 0);
    text(c, (p->x0 + p->x1 - text_width(title, 2)) / 2, p->y0 - 26, title, black, 2);
    text(c, (p->x0 + p->x1 - text_width(xlabel, 2)) / 2, p->y1 + 34, xlabel, black, 2);
    /* y label drawn horizontally inside the top-left corner */
    text(c, p->x0 + 6, p->y0 + 6, ylabel, black, 1);
}

static void decade_label(char *buf, size_t n, int e)
{
    /* 10^e as a percentage: e = -2 -> "1%", -5 -> "0.001%" */
    if (e >= -2)
        snprintf(buf, n, "%.0f%%", pow(10.0, e + 2));
    else
        snprintf(buf, n, "%.*f%%", -(e + 2), pow(10.0, e + 2));
}

static void det_panel(canvas_t *c, const panel_t *p, const pm__plot_series_t *series, int nseries)
{
    char buf[32];
    for (int e = (int)p->vx0; e <= (int)p->vx1; e++) {
        int x = px(p, e);
        line(c, x, p->y0, x, p->y1, grey, 1, 0);
        decade_label(buf, sizeof buf, e);
        text(c, x - text_width(buf, 1) / 2, p->y1 + 6, buf, black, 1);
    }
    for (int e = (int)p->vy0; e <= (int)p->vy1; e++) {
        int y = py(p, e);
        line(c, p->x0, y, p->x1, y, grey, 1, 0);
        decade_label(buf, sizeof buf, e);
        text(c, p->x0 - text_width(buf, 1) - 4, y - 3, buf, black, 1);
    }
    frame(c, p, "DET", "FMR", "FNMR");
    enum { MAXP = 4000 };
    double *fmr = malloc(MAXP * sizeof *fmr), *fnmr = malloc(MAXP * sizeof *fnmr);
    if (!fmr || !fnmr) {
        free(fmr);
        free(fnmr);
        return;
    }
    for (int s = 0; s < nseries; s++) {
        size_t n = pm_match_det(series[s].genuine, series[s].ngenuine, series[s].impostor,
                                series[s].nimpostor, fmr, fnmr, MAXP);
        rgb_t col = palette[s % (int)(sizeof palette / sizeof palette[0])];
        int thick = s == nseries - 1 ? 3 : 2;
        int lx = -1, ly = -1;
        for (size_t k = 0; k < n; k++) {
            double vx = clampd(log10(fmr[k] > 0 ? fmr[k] : 1e-12), p->vx0, p->vx1);
            double vy = clampd(log10(fnmr[k] > 0 ? fnmr[k] : 1e-12), p->vy0, p->vy1);
            int x = px(p, vx), y = py(p, vy);
            if (lx >= 0)
                line(c, lx, ly, x, y, col, thick, 0);
            lx = x;
            ly = y;
        }
        /* legend */
        int ly0 = p->y0 + 24 + s * 18;
        rect(c, p->x1 - 150, ly0, p->x1 - 130, ly0 + 10, col);
        text(c, p->x1 - 124, ly0 - 2, series[s].name, black, 2);
    }
    free(fmr);
    free(fnmr);
}

static void dist_panel(canvas_t *c, const panel_t *p, const pm__plot_series_t *s)
{
    char buf[32];
    enum { BINS = 100 };
    double hg[BINS] = {0}, hi[BINS] = {0};
    double width = (p->vx1 - p->vx0) / BINS;
    for (size_t k = 0; k < s->ngenuine; k++)
        hg[(int)clampd((s->genuine[k] - p->vx0) / width, 0, BINS - 1)] += 1.0 / (double)s->ngenuine;
    for (size_t k = 0; k < s->nimpostor; k++)
        hi[(int)clampd((s->impostor[k] - p->vx0) / width, 0, BINS - 1)] += 1.0 / (double)s->nimpostor;
    for (int v = (int)p->vx0; v <= (int)p->vx1; v += 10) {
        int x = px(p, v);
        line(c, x, p->y0, x, p->y1, grey, 1, 0);
        snprintf(buf, sizeof buf, "%d", v);
        text(c, x - text_width(buf, 1) / 2, p->y1 + 6, buf, black, 1);
    }
    for (int e = (int)p->vy0; e <= (int)p->vy1; e++) {
        int y = py(p, e);
        line(c, p->x0, y, p->x1, y, grey, 1, 0);
        decade_label(buf, sizeof buf, e);
        text(c, p->x0 - text_width(buf, 1) - 4, y - 3, buf, black, 1);
    }
    frame(c, p, "SCORES", "SCORE = -10 LOG10(FMR)", "FRACTION PER BIN");
    const double *h[2] = {hi, hg};
    const char *names[2] = {"IMPOSTOR", "GENUINE"};
    rgb_t cols[2] = {palette[3], palette[2]};
    for (int t = 0; t < 2; t++) {
        int lx = -1, ly = -1;
        for (int b = 0; b < BINS; b++) {
            double v = h[t][b] > 0 ? log10(h[t][b]) : p->vy0;
            v = clampd(v, p->vy0, p->vy1);
            int xa = px(p, p->vx0 + b * width), xb = px(p, p->vx0 + (b + 1) * width), y = py(p, v);
            if (lx >= 0)
                line(c, lx, ly, xa, y, cols[t], 2, 0);
            line(c, xa, y, xb, y, cols[t], 2, 0);
            lx = xb;
            ly = y;
        }
        int ly0 = p->y0 + 24 + t * 18;
        rect(c, p->x1 - 150, ly0, p->x1 - 130, ly0 + 10, cols[t]);
        text(c, p->x1 - 124, ly0 - 2, names[t], black, 2);
    }
    /* the thresholds FMR 1% and 0.1% */
    for (int sc = 20; sc <= 30; sc += 10) {
        int x = px(p, sc);
        line(c, x, p->y0, x, p->y1, black, 1, 4);
    }
    text(c, px(p, 30) + 4, p->y1 - 14, "FMR 0.1%", black, 1);
}

static int write_png(const char *path, const canvas_t *c, pm_error_t *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return pm_error_set(err, PM_EIO, "cannot write %s", path);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return pm_error_set(err, PM_ENOMEM, "libpng: out of memory");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return pm_error_set(err, PM_EIO, "libpng failed writing %s", path);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)c->w, (png_uint_32)c->h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < c->h; y++)
        png_write_row(png, c->rgb + (size_t)y * (size_t)c->w * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0)
        return pm_error_set(err, PM_EIO, "cannot write %s", path);
    return 0;
}

int pm__plot_det_png(const char *path, const pm__plot_series_t *series, int nseries, pm_error_t *err)
{
    if (!path || !series || nseries < 1)
        return pm_error_set(err, PM_EINVAL, "plot: nothing to draw");
    canvas_t c = {1280, 600, NULL};
    c.rgb = malloc((size_t)c.w * (size_t)c.h * 3);
    if (!c.rgb)
        return pm_error_set(err, PM_ENOMEM, "plot: out of memory");
    rect(&c, 0, 0, c.w - 1, c.h - 1, white);
    panel_t det = {90, 60, 600, 520, -5, 0, -3, 0};
    det_panel(&c, &det, series, nseries);
    const pm__plot_series_t *last = &series[nseries - 1];
    double maxs = 0;
    for (size_t k = 0; k < last->ngenuine; k++)
        maxs = last->genuine[k] > maxs ? last->genuine[k] : maxs;
    double top = clampd(ceil(maxs / 10.0) * 10.0, 40, 200);
    panel_t dist = {740, 60, 1250, 520, 0, top, -4, 0};
    dist_panel(&c, &dist, last);
    int rc = write_png(path, &c, err);
    free(c.rgb);
    return rc;
}

static int lines_png(const char *path, const char *title, const char *xlabel, const char *ylabel,
                     const double *x, int nx, const double *const *y, const char *const *names,
                     const int *dashed, int nseries, int percent, pm_error_t *err)
{
    if (!path || !x || nx < 2 || !y || !names || nseries < 1)
        return pm_error_set(err, PM_EINVAL, "plot: nothing to draw");
    double xmin = x[0], xmax = x[0], ymax = 0;
    for (int i = 0; i < nx; i++) {
        xmin = x[i] < xmin ? x[i] : xmin;
        xmax = x[i] > xmax ? x[i] : xmax;
        for (int s = 0; s < nseries; s++)
            ymax = y[s][i] > ymax ? y[s][i] : ymax;
    }
    if (!(xmax > xmin))
        return pm_error_set(err, PM_EINVAL, "plot: empty x range");
    /* y from 0 to a round step above the maximum */
    double step = ymax > 5 ? 1.0 : ymax > 2 ? 0.5 : 0.25;
    if (!percent) { /* 1, 2 or 5 times a power of ten: at most 10 lines */
        double raw = ymax > 0 ? ymax / 8.0 : 1.0, mag = pow(10.0, floor(log10(raw)));
        step = raw <= mag ? mag : raw <= 2 * mag ? 2 * mag : raw <= 5 * mag ? 5 * mag : 10 * mag;
    }
    double top = (floor(ymax / step) + 1) * step;
    canvas_t c = {900, 600, NULL};
    c.rgb = malloc((size_t)c.w * (size_t)c.h * 3);
    if (!c.rgb)
        return pm_error_set(err, PM_ENOMEM, "plot: out of memory");
    rect(&c, 0, 0, c.w - 1, c.h - 1, white);
    panel_t p = {90, 60, 860, 520, xmin, xmax, 0, top};
    char buf[32];
    int stride = (nx + 11) / 12; /* at most about 12 x labels */
    for (int i = 0; i < nx; i += stride) {
        int gx = px(&p, x[i]);
        line(&c, gx, p.y0, gx, p.y1, grey, 1, 0);
        snprintf(buf, sizeof buf, "%g", x[i]);
        text(&c, gx - text_width(buf, 1) / 2, p.y1 + 6, buf, black, 1);
    }
    for (double v = 0; v <= top + 1e-9; v += step) {
        int gy = py(&p, v);
        line(&c, p.x0, gy, p.x1, gy, grey, 1, 0);
        snprintf(buf, sizeof buf, percent ? "%g%%" : "%g", v);
        text(&c, p.x0 - text_width(buf, 1) - 4, gy - 3, buf, black, 1);
    }
    frame(&c, &p, title, xlabel, ylabel);
    for (int s = 0; s < nseries; s++) {
        rgb_t col = palette[s % (int)(sizeof palette / sizeof palette[0])];
        int dash = dashed && dashed[s] ? 6 : 0;
        for (int i = 1; i < nx; i++)
            line(&c, px(&p, x[i - 1]), py(&p, y[s][i - 1]), px(&p, x[i]), py(&p, y[s][i]), col,
                 s == nseries - 1 ? 3 : 2, dash);
        int ly0 = p.y0 + 24 + s * 18;
        rect(&c, p.x1 - 250, ly0, p.x1 - 230, ly0 + 10, col);
        text(&c, p.x1 - 224, ly0 - 2, names[s], black, 2);
    }
    int rc = write_png(path, &c, err);
    free(c.rgb);
    return rc;
}

int pm__plot_lines_png(const char *path, const char *title, const char *xlabel, const char *ylabel,
                       const double *x, int nx, const double *const *y, const char *const *names,
                       const int *dashed, int nseries, pm_error_t *err)
{
    return lines_png(path, title, xlabel, ylabel, x, nx, y, names, dashed, nseries, 1, err);
}

int pm__plot_values_png(const char *path, const char *title, const char *xlabel,
                        const char *ylabel, const double *x, int nx, const double *const *y,
                        const char *const *names, int nseries, pm_error_t *err)
{
    return lines_png(path, title, xlabel, ylabel, x, nx, y, names, NULL, nseries, 0, err);
}
