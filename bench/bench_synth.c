/* bench_synth: records/s of the crossing generator, in process (no disk):
 * generation only (records handed to a no-op callback, the baseline), then
 * with CSV and JSON Lines formatting, and with 5% noise. Medians over runs.
 *
 * usage: bench_synth [people] [days] [runs]   (default 440000 30 3: ~1M records) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "perimeter/synth.h"

typedef struct sink {
    pm_buf_t buf;
    int mode; /* 0 none, 1 csv, 2 jsonl */
    uint64_t n, bytes;
} sink_t;

static int on_crossing(void *user, const pm_synth_crossing_t *c)
{
    sink_t *s = user;
    s->n++;
    if (s->mode == 0) return 0;
    int rc = s->mode == 1 ? pm_synth_crossing_csv(c, &s->buf) : pm_synth_crossing_jsonl(c, &s->buf);
    if (s->buf.len > (1u << 20)) {
        s->bytes += s->buf.len;
        pm_buf_reset(&s->buf);
    }
    return rc;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Records per second of wall time; *out_cpu_rate gets records per CPU second
 * (steadier on a shared machine). */
static double one(const pm_synth_params_t *p, int mode, uint64_t *out_n, uint64_t *out_bytes,
                  double *out_cpu_rate)
{
    sink_t s = {.mode = mode};
    pm_buf_init(&s.buf, 0);
    pm_synth_t *g;
    pm_error_t err;
    if (pm_synth_new(p, &g, &err)) {
        fprintf(stderr, "bench_synth: %s\n", pm_error_text(&err));
        exit(1);
    }
    uint64_t t0 = pm_now_ns();
    double c0 = cpu_seconds();
    if (pm_synth_run(g, on_crossing, NULL, &s, &err)) {
        fprintf(stderr, "bench_synth: %s\n", pm_error_text(&err));
        exit(1);
    }
    double secs = (double)(pm_now_ns() - t0) / 1e9;
    *out_cpu_rate = (double)s.n / (cpu_seconds() - c0);
    pm_synth_free(g);
    *out_n = s.n;
    *out_bytes = s.bytes + s.buf.len;
    pm_buf_free(&s.buf);
    return (double)s.n / secs;
}

int main(int argc, char **argv)
{
    pm_synth_params_t p;
    pm_synth_params_default(&p);
    p.people = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 440000;
    p.days = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 30;
    int runs = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
    if (runs < 1 || runs > 50 || p.people < 1 || p.days < 1) {
        fprintf(stderr, "usage: bench_synth [people] [days] [runs 1..50]\n");
        return 2;
    }
    p.seed = 2026;
    static const struct {
        const char *name;
        int mode;
        double noise;
    } cases[] = {{"generate (no output)", 0, 0},
                 {"generate + CSV", 1, 0},
                 {"generate + JSON Lines", 2, 0},
                 {"generate + CSV, 5% noise", 1, 0.05}};
    double base = 0;
    printf("bench_synth: %u people, %u days, CAN/USA, median of %d runs, one thread; ratio is\n"
           "records per CPU second against generation with a no-op callback\n",
           p.people, p.days, runs);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double rates[50], cpu_rates[50];
        uint64_t n = 0, bytes = 0;
        p.noise = cases[c].noise;
        for (int r = 0; r < runs; r++)
            rates[r] = one(&p, cases[c].mode, &n, &bytes, &cpu_rates[r]);
        double med = pm_median(rates, (size_t)runs);
        double cpu_med = pm_median(cpu_rates, (size_t)runs);
        if (c == 0) base = cpu_med;
        printf("  %-26s %9llu records  %9.0f records/s wall  %9.0f records/CPU-s  ratio %.2f",
               cases[c].name, (unsigned long long)n, med, cpu_med, base > 0 ? cpu_med / base : 0);
        if (bytes) printf("  %.0f bytes/record", (double)bytes / (double)n);
        printf("\n");
    }
    return 0;
}
