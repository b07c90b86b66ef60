/* bench_synthfp [FINGERS] [REPEAT] [THREADS]: synthetic fingerprint
 * generation speed. Generates FINGERS fingers x 8 impressions (default 24)
 * REPEAT times (default 3) on 1 thread (the baseline) and on THREADS threads
 * (default: online CPUs), each image PNG-encoded in memory (not written), with
 * the masters' minutiae extracted, as `perimeter synth prints` does. Prints
 * median images/s of each and their ratio; also the median ms of one master
 * and of one impression (1 thread). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/fp.h"
#include "perimeter/image.h"
#include "perimeter/synthfp.h"

static int on_finger(void *user, const pm_synthfp_master_t *m, const pm_image_t *imgs,
                     const pm_synthfp_impression_t *truth, int n)
{
    (void)m, (void)truth;
    atomic_size_t *bytes = user;
    for (int i = 0; i < n; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        if (pm_image_encode(&imgs[i], PM_IMAGE_PNG, NULL, &data, &len, NULL) != 0)
            return 1;
        atomic_fetch_add(bytes, len);
        free(data);
    }
    return 0;
}

static double run(const pm_synthfp_params_t *p, const pm_extractor_t *ex, int fingers, int threads)
{
    atomic_size_t bytes = 0;
    pm_error_t err = {0};
    uint64_t t0 = pm_now_ns();
    if (pm_synthfp_run(p, 0, (uint64_t)fingers, 8, threads, ex, on_finger, &bytes, &err) != 0) {
        fprintf(stderr, "bench_synthfp: %s\n", pm_error_text(&err));
        exit(1);
    }
    return fingers * 8 / ((double)(pm_now_ns() - t0) / 1e9);
}

int main(int argc, char **argv)
{
    int fingers = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 24;
    int repeat = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = argc > 3 ? (int)strtol(argv[3], NULL, 10) : (int)(ncpu > 0 ? ncpu : 1);
    if (fingers < 1 || repeat < 1 || repeat > 99 || threads < 1 || threads > 256) {
        fprintf(stderr, "usage: bench_synthfp [FINGERS] [REPEAT 1..99] [THREADS]\n");
        return 2;
    }
    pm_extractor_t *ex = NULL;
    pm_error_t err = {0};
    if (pm_extractor_create(&ex, &err) != 0)
        return 1;
    pm_synthfp_params_t p;
    pm_synthfp_params_default(&p);
    p.seed = 5;
    double one[99], many[99], mms[99], ims[99];
    for (int r = 0; r < repeat; r++) {
        one[r] = run(&p, ex, fingers, 1);
        many[r] = run(&p, ex, fingers, threads);
        /* one master (with minutiae) and one impression, 1 thread */
        pm_synthfp_master_t m;
        uint64_t t0 = pm_now_ns();
        if (pm_synthfp_master(&p, (uint64_t)r, ex, &m, &err) != 0)
            return 1;
        uint64_t t1 = pm_now_ns();
        pm_image_t img;
        if (pm_synthfp_impression(&p, &m, 1, &img, NULL, &err) != 0)
            return 1;
        uint64_t t2 = pm_now_ns();
        mms[r] = (double)(t1 - t0) / 1e6;
        ims[r] = (double)(t2 - t1) / 1e6;
        pm_image_free(&img);
        pm_synthfp_master_free(&m);
    }
    double a = pm_median(one, (size_t)repeat), b = pm_median(many, (size_t)repeat);
    printf("fingers %d x 8 impressions, %d repeats (PNG-encoded in memory, master minutiae extracted)\n",
           fingers, repeat);
    printf("1 thread:   %.1f images/s (median)\n", a);
    printf("%d threads: %.1f images/s (median), %.2fx the 1-thread baseline\n", threads, b, b / a);
    printf("10,000 images at that rate: %.0f s\n", 10000.0 / b);
    printf("one master %.1f ms, one impression %.1f ms (medians, 1 thread)\n",
           pm_median(mms, (size_t)repeat), pm_median(ims, (size_t)repeat));
    pm_extractor_free(ex);
    return 0;
}
