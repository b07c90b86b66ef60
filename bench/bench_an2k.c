/* Benchmark: an2k read, write, validate and text dump of a generated
 * transaction (Type-1, a Type-2 with 400 text fields, 10 Type-14 records of
 * 512 KiB image data each, 10 Type-9 records of 60 minutiae), in MB/s,
 * medians over repeated runs. Baseline in the same run: memcpy of the bytes.
 * usage: bench_an2k [repeats]   (default 15) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/an2k.h"
#include "perimeter/core.h"

static void die(const char *what, const pm_error_t *e)
{
    fprintf(stderr, "bench_an2k: %s: %s\n", what, pm_error_text(e));
    exit(1);
}

static void build(pm_an2k_txn_t *t)
{
    pm_error_t e;
    pm_an2k_header_t h = {
        .tot = "PMSR", .date = "20261127", .dai = "YB", .ori = "XA", .tcn = "BENCH-1"};
    if (pm_an2k_txn_init(t, &h, &e)) die("init", &e);
    size_t i2;
    pm_an2k_add_record(t, 2, &i2, &e);
    pm_an2k_set_text(&t->records[i2], 2, "00", &e);
    for (int f = 3; f < 403; f++)
        pm_an2k_set_text(&t->records[i2], f,
                         "SOME TEXT\x1f"
                         "WITH ITEMS\x1e"
                         "AND SUBFIELDS",
                         &e);
    size_t n = 512 * 1024;
    uint8_t *img = malloc(n);
    for (size_t k = 0; k < n; k++)
        img[k] = (uint8_t)(k * 2654435761u >> 13);
    img[0] = 0xFF, img[1] = 0xA0; /* WSQ signature */
    for (int r = 0; r < 10; r++)
        if (pm_an2k_add_fingerprint_data(t, 14, r + 1, r + 1, img, n, PM_AN2K_CMP_WSQ, 800, 750,
                                         500, "XA", "20261127", NULL, &e))
            die("type-14", &e);
    pm_fingerprint_t *v = calloc(1, sizeof *v);
    v->width = 800, v->height = 750, v->ppi = 500, v->count = 60;
    for (size_t k = 0; k < v->count; k++)
        v->minutiae[k] = (pm_minutia_t){.x = (float)(k * 11 % 800),
                                        .y = (float)(k * 7 % 750),
                                        .angle = (float)(k % 6),
                                        .type = 1,
                                        .quality = 50};
    for (int r = 0; r < 10; r++) {
        v->finger = r + 1;
        if (pm_an2k_add_minutiae(t, r + 1, v, NULL, &e)) die("type-9", &e);
    }
    if (pm_an2k_finalize(t, &e)) die("finalize", &e);
    free(v);
    free(img);
}

int main(int argc, char **argv)
{
    int repeats = 15;
    if (argc > 1) {
        char *end;
        long r = strtol(argv[1], &end, 10);
        if (*end || r < 1 || r > 1000) {
            fprintf(stderr, "usage: bench_an2k [repeats 1..1000]\n");
            return 2;
        }
        repeats = (int)r;
    }
    pm_an2k_txn_t t;
    build(&t);
    pm_error_t e;
    uint8_t *bytes;
    size_t len;
    if (pm_an2k_write(&t, &bytes, &len, &e)) die("write", &e);
    pm_an2k_free(&t);
    double mb = (double)len / 1e6;
    double *ts[5];
    for (int k = 0; k < 5; k++)
        ts[k] = calloc((size_t)repeats, sizeof(double));
    uint8_t *copy = malloc(len);
    for (int r = 0; r < repeats; r++) {
        uint64_t t0 = pm_now_ns();
        memcpy(copy, bytes, len);
        __asm__ volatile("" ::"r"(copy) : "memory");
        ts[0][r] = (double)(pm_now_ns() - t0);
        pm_an2k_txn_t u;
        t0 = pm_now_ns();
        if (pm_an2k_read(bytes, len, &u, &e)) die("read", &e);
        ts[1][r] = (double)(pm_now_ns() - t0);
        uint8_t *out;
        size_t olen;
        t0 = pm_now_ns();
        if (pm_an2k_write(&u, &out, &olen, &e)) die("write", &e);
        ts[2][r] = (double)(pm_now_ns() - t0);
        if (olen != len || memcmp(out, bytes, len) != 0) {
            fprintf(stderr, "bench_an2k: round trip differs\n");
            return 1;
        }
        free(out);
        pm_an2k_report_t rep;
        t0 = pm_now_ns();
        if (pm_an2k_validate(&u, &rep, &e)) die("validate", &e);
        ts[3][r] = (double)(pm_now_ns() - t0);
        pm_an2k_report_free(&rep);
        pm_buf_t d;
        pm_buf_init(&d, 0);
        t0 = pm_now_ns();
        pm_an2k_dump_text(&u, &d, &e);
        ts[4][r] = (double)(pm_now_ns() - t0);
        pm_buf_free(&d);
        pm_an2k_free(&u);
    }
    static const char *names[] = {"memcpy (baseline)", "read", "write", "validate", "dump text"};
    printf("transaction %zu bytes, %zu records, %d repeats, medians\n", len, (size_t)22, repeats);
    printf("%-18s %10s %10s %10s\n", "operation", "ms", "MB/s", "x memcpy");
    double base = pm_median(ts[0], (size_t)repeats);
    for (int k = 0; k < 5; k++) {
        double ns = pm_median(ts[k], (size_t)repeats);
        printf("%-18s %10.3f %10.0f %10.1f\n", names[k], ns / 1e6, mb / (ns / 1e9), ns / base);
    }
    for (int k = 0; k < 5; k++)
        free(ts[k]);
    free(copy);
    free(bytes);
    return 0;
}
