/* perimeter bench image: our WSQ codec against the reference encodings
 * (size and PSNR) and its decode/encode speed on one core.
 * bench/bench_wsq.c includes this file so the benchmark program and the
 * command are the same code. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/image.h"
#include "perimeter/wsq.h"

/* Whole-process timings of the reference tools on an 832x768 image, quoted
 * in issue 4 (not measured here: the tools are not installed). */
#define REF_DECODE_MS 32.0
#define REF_ENCODE_MS 24.0

int pm_cmd_bench_image(int argc, char **argv);

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double psnr(const uint8_t *a, const uint8_t *b, size_t n)
{
    double se = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        se += d * d;
    }
    return se == 0.0 ? 99.0 : 10.0 * log10(255.0 * 255.0 * (double)n / se);
}

static uint8_t *slurp(const char *dir, const char *name, size_t *out_len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    uint8_t *data = NULL;
    pm_error_t e;
    if (pm_file_read(path, (size_t)1 << 28, &data, out_len, &e) != PM_OK) return NULL;
    return data;
}

/* Size and PSNR of our encodings next to the reference encoder's. */
static int quality_table(const char *data_dir)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/wsq", data_dir);
    size_t len;
    uint8_t *dims = slurp(dir, "dims.txt", &len);
    if (!dims) {
        printf("quality: %s/dims.txt not found, skipped\n", dir);
        return 0;
    }
    printf("WSQ quality, ours vs the reference encoder (PSNR against the original)\n");
    printf("%-20s %5s | %8s %8s | %8s %8s | %7s %8s\n", "image", "rate", "ours B", "ours dB",
           "ref B", "ref dB", "size", "dPSNR");
    const char *p = (const char *)dims;
    char name[256];
    int w, h, consumed, bad = 0;
    double worst_dpsnr = 1e9, worst_size = 0.0;
    while (sscanf(p, "%255s %d %d%n", name, &w, &h, &consumed) == 3) {
        p += consumed;
        char file[512];
        snprintf(file, sizeof file, "%s.raw", name);
        size_t n;
        uint8_t *raw = slurp(dir, file, &n);
        if (!raw || n != (size_t)w * (size_t)h) {
            free(raw);
            printf("%s: missing or wrong size\n", name);
            bad = 1;
            continue;
        }
        pm_image_t img = {w, h, 500, PM_IMAGE_RAW, raw};
        static const char *tags[] = {"075", "225"};
        static const double rates[] = {0.75, 2.25};
        for (int r = 0; r < 2; r++) {
            uint8_t *ours = NULL;
            size_t ours_len = 0, ref_len = 0, ref_dec_len = 0;
            pm_error_t e;
            pm_image_t dec = {0};
            if (pm_wsq_encode(&img, rates[r], &ours, &ours_len, &e) != PM_OK ||
                pm_wsq_decode(ours, ours_len, 0, 0, &dec, &e) != PM_OK) {
                printf("%s: %s\n", name, pm_error_text(&e));
                free(ours);
                bad = 1;
                continue;
            }
            snprintf(file, sizeof file, "%s_br%s.wsq", name, tags[r]);
            free(slurp(dir, file, &ref_len));
            snprintf(file, sizeof file, "%s_br%s.decoded.raw", name, tags[r]);
            uint8_t *ref_dec = slurp(dir, file, &ref_dec_len);
            double po = psnr(raw, dec.pixels, n);
            double pr = ref_dec && ref_dec_len == n ? psnr(raw, ref_dec, n) : NAN;
            double size = ref_len ? (double)ours_len / (double)ref_len : NAN;
            printf("%-20s %5.2f | %8zu %8.3f | %8zu %8.3f | %7.4f %+8.3f\n", name, rates[r],
                   ours_len, po, ref_len, pr, size, po - pr);
            if (po - pr < worst_dpsnr) worst_dpsnr = po - pr;
            if (size > worst_size) worst_size = size;
            free(ref_dec);
            pm_image_free(&dec);
            free(ours);
        }
        free(raw);
    }
    free(dims);
    printf("worst dPSNR %+.3f dB (target >= -0.3), largest size ratio %.4f (target <= 1)\n\n",
           worst_dpsnr, worst_size);
    return bad;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Decode and encode speed on one image, median over runs (wall and CPU). */
static int speed(const uint8_t *wsq, size_t wsq_len, const char *label, int runs)
{
    double *wall = calloc((size_t)runs, sizeof *wall), *cpu = calloc((size_t)runs, sizeof *cpu);
    if (!wall || !cpu) {
        free(wall);
        free(cpu);
        return 1;
    }
    pm_image_t img = {0};
    pm_error_t e;
    int tty = isatty(STDERR_FILENO);
    for (int i = 0; i < runs; i++) {
        pm_image_free(&img);
        double c0 = cpu_ms();
        uint64_t t0 = pm_now_ns();
        if (pm_wsq_decode(wsq, wsq_len, 0, 0, &img, &e) != PM_OK) {
            fprintf(stderr, "decode: %s\n", pm_error_text(&e));
            free(wall);
            free(cpu);
            return 1;
        }
        wall[i] = (double)(pm_now_ns() - t0) / 1e6;
        cpu[i] = cpu_ms() - c0;
        if (tty) fprintf(stderr, "\rdecode %d/%d", i + 1, runs);
    }
    double mpix = (double)img.width * (double)img.height / 1e6;
    double dw = median_of(wall, runs), dc = median_of(cpu, runs);
    size_t out_len = 0;
    for (int i = 0; i < runs; i++) {
        uint8_t *out = NULL;
        double c0 = cpu_ms();
        uint64_t t0 = pm_now_ns();
        if (pm_wsq_encode(&img, 0.75, &out, &out_len, &e) != PM_OK) {
            fprintf(stderr, "encode: %s\n", pm_error_text(&e));
            pm_image_free(&img);
            free(wall);
            free(cpu);
            return 1;
        }
        wall[i] = (double)(pm_now_ns() - t0) / 1e6;
        cpu[i] = cpu_ms() - c0;
        free(out);
        if (tty) fprintf(stderr, "\rencode %d/%d", i + 1, runs);
    }
    if (tty) fprintf(stderr, "\r                 \r");
    double ew = median_of(wall, runs), ec = median_of(cpu, runs);
    printf("WSQ speed, %s %dx%d (%.3f MPix), one thread, median of %d runs\n", label, img.width,
           img.height, mpix, runs);
    printf("%-8s %9s %9s %12s %12s\n", "", "wall ms", "CPU ms", "MPix/s(CPU)", "MPix/s(wall)");
    printf("%-8s %9.2f %9.2f %12.1f %12.1f\n", "decode", dw, dc, mpix / dc * 1e3, mpix / dw * 1e3);
    printf("%-8s %9.2f %9.2f %12.1f %12.1f   (0.75 bpp, %zu bytes)\n", "encode", ew, ec,
           mpix / ec * 1e3, mpix / ew * 1e3, out_len);
    if (img.width == 832 && img.height == 768)
        printf("vs the reference tools' quoted %.0f ms decode / %.0f ms encode (whole process, "
               "issue 4): decode x%.2f, encode x%.2f faster (CPU time; target x2)\n",
               REF_DECODE_MS, REF_ENCODE_MS, REF_DECODE_MS / dc, REF_ENCODE_MS / ec);
    printf("\n");
    pm_image_free(&img);
    free(wall);
    free(cpu);
    return 0;
}

/* An 832x768 synthetic print, for machines without the shared data. */
static int synthetic_wsq(uint8_t **out, size_t *out_len)
{
    pm_image_t img;
    pm_error_t e;
    if (pm_image_alloc(&img, 832, 768, 500, &e) != PM_OK) return 1;
    uint64_t seed = 12345;
    for (int y = 0; y < 768; y++)
        for (int x = 0; x < 832; x++) {
            double r = hypot(x - 416.0, (y - 360.0) * 1.2);
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            double v = 200.0 - (r < 330.0 ? 80.0 + 70.0 * sin(r / 1.6) : 0.0) +
                       (double)((seed >> 33) % 17) - 8.0;
            img.pixels[(size_t)y * 832 + (size_t)x] = (uint8_t)fmin(255.0, fmax(0.0, v));
        }
    int rc = pm_wsq_encode(&img, 0.75, out, out_len, &e);
    pm_image_free(&img);
    return rc != PM_OK;
}

/* `perimeter bench image [--data DIR] [--runs N] [--image FILE.wsq]`: prints
 * the quality table and the speed figures; returns 0, or 1 if a step failed,
 * 2 on bad options. */
int pm_cmd_bench_image(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"runs", required_argument, NULL, 'r'},
                                         {"image", required_argument, NULL, 'i'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *data_dir = getenv("PERIMETER_DATA");
    const char *image = NULL;
    int runs = 21, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data_dir = optarg;
            break;
        case 'i':
            image = optarg;
            break;
        case 'r': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || v < 1 || v > 1000) {
                fprintf(stderr, "bench image: --runs wants 1..1000\n");
                return 2;
            }
            runs = (int)v;
            break;
        }
        case 'h':
            printf("usage: perimeter bench image [--data DIR] [--runs N] [--image FILE.wsq]\n"
                   "  quality of our WSQ encoder against the reference encodings in DIR/wsq,\n"
                   "  and decode/encode speed (default image: DIR/sourceafis/wsq-original.wsq,\n"
                   "  or a synthetic 832x768 print). DIR defaults to $PERIMETER_DATA.\n");
            return 0;
        default:
            return 2;
        }
    }
    if (!data_dir || !*data_dir) data_dir = "../shared/data";
    int bad = quality_table(data_dir);
    uint8_t *wsq = NULL;
    size_t len = 0;
    const char *label = image;
    pm_error_t e;
    if (image) {
        if (pm_file_read(image, (size_t)1 << 28, &wsq, &len, &e) != PM_OK) {
            fprintf(stderr, "bench image: %s\n", pm_error_text(&e));
            return 1;
        }
    } else {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/sourceafis", data_dir);
        wsq = slurp(dir, "wsq-original.wsq", &len);
        label = "NIST SD14 wsq-original.wsq";
        if (!wsq) {
            if (synthetic_wsq(&wsq, &len)) return 1;
            label = "synthetic print";
        }
    }
    bad |= speed(wsq, len, label, runs);
    free(wsq);
    return bad;
}
