/* Benchmark: decode speed of each image format and Lanczos-3 resampling
 * (569 -> 500 ppi, the FVC2002 DB2 case), in megapixels per second on one
 * thread, medians over repeated runs. The baseline in the same run is a
 * plain memcpy of the pixels (ratio = how many times slower than copying).
 * The test picture is generated (stripes and a gradient, 832x768 like the
 * NIST SD14 WSQ sample).
 * usage: bench_imageio [repeats]   (default 15) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"
#include "perimeter/image.h"

static void make_picture(pm_image_t *img, int w, int h, int ppi)
{
    pm_error_t e;
    if (pm_image_alloc(img, w, h, ppi, &e))
        exit(1);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double v = 128 + 90 * sin(x * 0.7 + y * 0.3) * cos(y * 0.05) + (x - w / 2) * 0.05;
            img->pixels[(size_t)y * w + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

int main(int argc, char **argv)
{
    int repeats = 15;
    if (argc > 1) {
        char *end;
        long r = strtol(argv[1], &end, 10);
        if (*end || r < 1 || r > 1000) {
            fprintf(stderr, "usage: bench_imageio [repeats 1..1000]\n");
            return 2;
        }
        repeats = (int)r;
    }
    const int w = 832, h = 768;
    const double mpix = (double)w * h / 1e6;
    pm_image_t src;
    make_picture(&src, w, h, 569);
    double *t = calloc((size_t)repeats, sizeof *t);
    uint8_t *copy = malloc((size_t)w * h);
    for (int r = 0; r < repeats; r++) {
        uint64_t t0 = pm_now_ns();
        for (int k = 0; k < 20; k++) {
            memcpy(copy, src.pixels, (size_t)w * h);
            __asm__ volatile("" ::"r"(copy) : "memory");
        }
        t[r] = (double)(pm_now_ns() - t0) / 20;
    }
    double base_ns = pm_median(t, (size_t)repeats);
    printf("image %dx%d, %d repeats, median per operation; baseline memcpy %.3f ms\n", w, h,
           repeats, base_ns / 1e6);
    printf("%-22s %10s %10s %12s %10s\n", "operation", "bytes", "ms", "MPixel/s", "x memcpy");
    static const pm_image_format_t formats[] = {PM_IMAGE_PNG, PM_IMAGE_TIFF, PM_IMAGE_JPEG,
                                                PM_IMAGE_JP2, PM_IMAGE_BMP, PM_IMAGE_PGM,
                                                PM_IMAGE_WSQ};
    pm_error_t e;
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        uint8_t *data;
        size_t len;
        if (pm_image_encode(&src, formats[f], NULL, &data, &len, &e) != PM_OK) {
            printf("%-22s (skipped: %s)\n", pm_image_format_name(formats[f]), pm_error_text(&e));
            continue;
        }
        for (int r = 0; r < repeats; r++) {
            pm_image_t img;
            uint64_t t0 = pm_now_ns();
            if (pm_image_decode(data, len, NULL, &img, &e) != PM_OK) {
                fprintf(stderr, "decode %s: %s\n", pm_image_format_name(formats[f]),
                        pm_error_text(&e));
                return 1;
            }
            t[r] = (double)(pm_now_ns() - t0);
            pm_image_free(&img);
        }
        double ns = pm_median(t, (size_t)repeats);
        char name[40];
        snprintf(name, sizeof name, "decode %s", pm_image_format_name(formats[f]));
        printf("%-22s %10zu %10.3f %12.1f %10.1f\n", name, len, ns / 1e6, mpix / (ns / 1e9),
               ns / base_ns);
        free(data);
    }
    for (int r = 0; r < repeats; r++) {
        pm_image_t out;
        uint64_t t0 = pm_now_ns();
        if (pm_image_resample(&src, 500, &out, &e) != PM_OK)
            return 1;
        t[r] = (double)(pm_now_ns() - t0);
        pm_image_free(&out);
    }
    double ns = pm_median(t, (size_t)repeats);
    printf("%-22s %10s %10.3f %12.1f %10.1f\n", "resample 569->500 ppi", "-", ns / 1e6,
           mpix / (ns / 1e9), ns / base_ns);
    free(copy);
    free(t);
    pm_image_free(&src);
    return 0;
}
