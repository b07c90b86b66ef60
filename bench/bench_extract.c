/* bench_extract: minutiae extraction time over the FVC2002 B images.
 *
 * usage: bench_extract [DATA_DIR] [REPEATS]
 *   DATA_DIR  the shared data folder holding fvc2002/DBn_B (default: $PERIMETER_DATA,
 *             else ../shared/data)
 *   REPEATS   extractions per image (default 3; the per-image time is their minimum)
 *
 * Prints, per database and over all images, the median milliseconds per image
 * (one thread, images already decoded), the median of each stage, the
 * median minutiae count and print quality. The baseline in the same run is a
 * plain 3x3 box blur of each image (a memory-bound pass over the pixels), so
 * the ratio shows how many "image passes" one extraction costs on this
 * machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/fp.h"
#include "perimeter/image.h"

#define NIMG 80

/* CPU time of this thread in ms: on a shared machine the wall clock also
 * counts the time other jobs hold the cores. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double box_blur_ms(const pm_image_t *img, uint8_t *out)
{
    uint64_t t0 = pm_now_ns();
    const int w = img->width, h = img->height;
    for (int y = 1; y < h - 1; y++)
        for (int x = 1; x < w - 1; x++) {
            const uint8_t *p = img->pixels + (size_t)y * w + x;
            int s = p[-w - 1] + p[-w] + p[-w + 1] + p[-1] + p[0] + p[1] + p[w - 1] + p[w] + p[w + 1];
            out[(size_t)y * w + x] = (uint8_t)(s / 9);
        }
    return (double)(pm_now_ns() - t0) / 1e6;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : getenv("PERIMETER_DATA");
    if (!dir)
        dir = "../shared/data";
    int repeats = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
    if (repeats < 1 || repeats > 100)
        repeats = 3;
    pm_extractor_t *ex = NULL;
    pm_error_t err;
    if (pm_extractor_create(&ex, &err) != PM_OK) {
        fprintf(stderr, "bench_extract: %s\n", pm_error_text(&err));
        return 1;
    }
    static double all_ms[4 * NIMG], all_stage[PM_FP_STAGE_COUNT][4 * NIMG], all_base[4 * NIMG];
    static double all_count[4 * NIMG], all_quality[4 * NIMG], all_cpu[4 * NIMG];
    size_t nall = 0;
    int failures = 0, tty = isatty(2);
    pm_fingerprint_t *fp = malloc(sizeof *fp);
    uint8_t *scratch = malloc(4096 * 4096);
    if (!fp || !scratch)
        return 1;
    printf("bench_extract: FVC2002 B sets in %s, %d extraction(s) per image, one thread\n", dir,
           repeats);
    printf("%-6s %6s %9s %8s %9s %9s %9s %9s %9s %8s %8s %7s\n", "db", "images", "median_ms", "cpu_ms",
           "prepare", "field", "enhance", "skeleton", "minutiae", "blur_ms", "ratio", "minutiae");
    for (int db = 1; db <= 4; db++) {
        double ms[NIMG], stage[PM_FP_STAGE_COUNT][NIMG], base[NIMG], cnt[NIMG], cpu[NIMG];
        size_t n = 0;
        for (int f = 101; f <= 110; f++)
            for (int i = 1; i <= 8; i++) {
                char path[4096];
                snprintf(path, sizeof path, "%s/fvc2002/DB%d_B/%d_%d.tif", dir, db, f, i);
                pm_image_t img;
                if (pm_image_load(path, NULL, &img, &err) != PM_OK) {
                    fprintf(stderr, "bench_extract: %s\n", pm_error_text(&err));
                    return 1;
                }
                double best = 1e30, best_stage[PM_FP_STAGE_COUNT] = {0}, bbest = 1e30, cbest = 1e30;
                for (int r = 0; r < repeats; r++) {
                    pm_fp_maps_t maps;
                    double c0 = cpu_ms();
                    uint64_t t0 = pm_now_ns();
                    int rc = pm_fp_extract(ex, &img, fp, &err);
                    double t = (double)(pm_now_ns() - t0) / 1e6;
                    double ct = cpu_ms() - c0;
                    if (ct < cbest)
                        cbest = ct;
                    if (rc != PM_OK) {
                        failures++;
                        break;
                    }
                    if (t < best)
                        best = t;
                    /* stage split from a separate run with the maps */
                    if (r == 0 && pm_fp_extract_maps(ex, &img, fp, &maps, &err) == PM_OK)
                        memcpy(best_stage, maps.stage_ms, sizeof best_stage);
                    pm_fp_maps_free(&maps);
                    double b = box_blur_ms(&img, scratch);
                    if (b < bbest)
                        bbest = b;
                }
                ms[n] = best;
                cpu[n] = cbest;
                all_cpu[nall] = cbest;
                base[n] = bbest;
                cnt[n] = (double)fp->count;
                for (int s = 0; s < PM_FP_STAGE_COUNT; s++)
                    stage[s][n] = best_stage[s];
                all_ms[nall] = best;
                all_base[nall] = bbest;
                all_count[nall] = (double)fp->count;
                all_quality[nall] = fp->quality;
                for (int s = 0; s < PM_FP_STAGE_COUNT; s++)
                    all_stage[s][nall] = best_stage[s];
                nall++;
                n++;
                pm_image_free(&img);
                if (tty)
                    fprintf(stderr, "\r  DB%d %zu/80", db, n);
            }
        if (tty)
            fprintf(stderr, "\r              \r");
        printf("DB%d_B  %6zu %9.2f %8.2f %9.2f %9.2f %9.2f %9.2f %9.2f %8.3f %8.1f %7.0f\n", db, n,
               pm_median(ms, n), pm_median(cpu, n), pm_median(stage[0], n), pm_median(stage[1], n),
               pm_median(stage[2], n), pm_median(stage[3], n), pm_median(stage[4], n),
               pm_median(base, n), pm_median(ms, n) / pm_median(base, n), pm_median(cnt, n));
    }
    printf("all    %6zu %9.2f %8.2f %9.2f %9.2f %9.2f %9.2f %9.2f %8.3f %8.1f %7.0f\n", nall,
           pm_median(all_ms, nall), pm_median(all_cpu, nall), pm_median(all_stage[0], nall), pm_median(all_stage[1], nall),
           pm_median(all_stage[2], nall), pm_median(all_stage[3], nall),
           pm_median(all_stage[4], nall), pm_median(all_base, nall),
           pm_median(all_ms, nall) / pm_median(all_base, nall), pm_median(all_count, nall));
    printf("failures to extract: %d; median print quality %.0f\n", failures,
           pm_median(all_quality, nall));
    free(fp);
    free(scratch);
    pm_extractor_free(ex);
    return failures ? 1 : 0;
}
