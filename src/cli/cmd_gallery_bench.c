/* bench gallery and eval identify (commands of the gallery module). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/gallery.h"
#include "perimeter/match.h"

#include "cli/fingerprint_io.h"
/* per-core speed of the two stages is measured on this thread, below the
 * public API: the gallery's own internals */
#include "gallery/gallery_internal.h"

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t process_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, dcmp);
    size_t i = (size_t)ceil(p * (double)n) - 1;
    if (i >= n)
        i = n - 1;
    return v[i];
}

static void progress(int tty, const char *what, size_t done, size_t total)
{
    if (!tty || !total || (done != total && done % 2000 != 0))
        return;
    fprintf(stderr, "\r%s %zu/%zu (%.0f%%)", what, done, total, 100.0 * (double)done / (double)total);
    if (done == total)
        fprintf(stderr, "\n");
}

typedef struct outcome {
    int mated;
    uint64_t mate;
    double mate_score; /* mate's score among the candidates (0 if absent) */
    int rank1;         /* mate is the first candidate */
    double top_score;  /* best candidate's score (non-mated: the false alarm) */
    double mate_exact; /* mated: the mate's exact score (pm_gallery_verify), what an
                        * exhaustive search gives it */
    double seconds;
    uint64_t probe_id; /* synthetic finger the probe was drawn from */
    double cpu;        /* process CPU seconds of the search (all pool threads) */
} outcome_t;

/* A mated search that did not return a mate the exact matcher scores. */
static int mate_not_returned(const outcome_t *o)
{
    return o->mated && o->mate_score <= 0 && o->mate_exact > 0;
}

static void run_probe_sl(pm_gallery_t *g, const pm_gallery_finger_t *f, int nf, int first_stage,
                         double keep, int shortlist, int lead, int gate, int mated, uint64_t mate,
                         outcome_t *o)
{
    pm_gallery_search_options_t so = {.max_candidates = 10, .first_stage = first_stage,
                                      .keep_fraction = keep, .shortlist = shortlist,
                                      .lead_fingers = lead, .pair_gate = gate};
    pm_gallery_candidate_t c[10];
    size_t n = 0;
    pm_gallery_search_stats_t ss;
    pm_error_t err = {0};
    memset(o, 0, sizeof *o);
    o->mated = mated;
    o->mate = mate;
    uint64_t c0 = process_cpu_ns();
    if (pm_gallery_identify(g, f, nf, &so, c, &n, &ss, &err)) {
        fprintf(stderr, "perimeter: identify: %s\n", pm_error_text(&err));
        return;
    }
    o->cpu = (double)(process_cpu_ns() - c0) / 1e9;
    o->seconds = ss.seconds;
    o->top_score = n ? c[0].score : 0;
    if (mated) {
        pm_gallery_candidate_t vc;
        if (pm_gallery_verify(g, mate, f, nf, &vc, &err) == 0)
            o->mate_exact = vc.score;
    }
    for (size_t i = 0; i < n; i++)
        if (c[i].subject == mate) {
            o->mate_score = c[i].score;
            o->rank1 = i == 0;
        }
}

static void run_probe(pm_gallery_t *g, const pm_gallery_finger_t *f, int nf, int first_stage,
                      double keep, int mated, uint64_t mate, outcome_t *o)
{
    run_probe_sl(g, f, nf, first_stage, keep, 0, 0, 0, mated, mate, o);
}

typedef struct rates {
    int mated, nonmated;
    double rank1;
    double fnir[2], fpir_measured[2], thr[2];
    double fnir_exact[2]; /* the same mated probes, the mate's exact score: exhaustive-equivalent */
    int not_kept;         /* mated probes whose mate the search did not return at all */
    double p50, p95, p99;
    double cpu50, cpu95; /* process CPU seconds per search (all pool threads) */
    double share50;      /* median of CPU/wall per search: cores the search actually got */
} rates_t;

static const double target_fpir[2] = {0.01, 0.001};

/* thresholds from the calibration (FPIR ~ searched x FMR), FPIR measured */
static void summarise(outcome_t *o, size_t n, double searched, const pm_gallery_calibration_t *cal,
                      rates_t *r)
{
    memset(r, 0, sizeof *r);
    double *lat = malloc((n ? n : 1) * sizeof *lat);
    int r1 = 0;
    for (size_t i = 0; i < n; i++) {
        lat[i] = o[i].seconds;
        if (o[i].mated) {
            r->mated++;
            r1 += o[i].rank1;
        } else {
            r->nonmated++;
        }
    }
    r->rank1 = r->mated ? (double)r1 / r->mated : 0;
    for (size_t i = 0; i < n; i++)
        r->not_kept += mate_not_returned(&o[i]);
    for (int k = 0; k < 2; k++) {
        double t = pm_gallery_threshold(cal, target_fpir[k], searched);
        int miss = 0, fa = 0;
        for (size_t i = 0; i < n; i++) {
            if (o[i].mated) {
                miss += !(o[i].mate_score >= t);
                r->fnir_exact[k] += !(o[i].mate_exact >= t);
            } else
                fa += o[i].top_score >= t;
        }
        r->thr[k] = t;
        r->fnir[k] = r->mated ? (double)miss / r->mated : 0;
        r->fnir_exact[k] = r->mated ? r->fnir_exact[k] / r->mated : 0;
        r->fpir_measured[k] = r->nonmated ? (double)fa / r->nonmated : 0;
    }
    if (lat) {
        r->p50 = pct(lat, n, 0.50);
        r->p95 = pct(lat, n, 0.95);
        r->p99 = pct(lat, n, 0.99);
        for (size_t i = 0; i < n; i++)
            lat[i] = o[i].cpu;
        r->cpu50 = pct(lat, n, 0.50);
        r->cpu95 = pct(lat, n, 0.95);
        for (size_t i = 0; i < n; i++)
            lat[i] = o[i].seconds > 0 ? o[i].cpu / o[i].seconds : 0;
        r->share50 = pct(lat, n, 0.50);
    }
    free(lat);
}

static void print_rates(const char *label, const rates_t *r)
{
    printf("  %-34s latency p50 %.3f s  p95 %.3f s  p99 %.3f s\n", label, r->p50, r->p95, r->p99);
    if (r->cpu50 > 0)
        printf("  %-34s process CPU per search p50 %.3f s  p95 %.3f s; cores obtained (CPU/wall) "
               "p50 %.2f\n",
               "", r->cpu50, r->cpu95, r->share50);
    if (r->mated)
        printf("  %-34s rank-1 %.1f%% of %d mated; FNIR %.1f%% @FPIR 1%% (thr %.1f, measured FPIR "
               "%.1f%% of %d), FNIR %.1f%% @FPIR 0.1%% (thr %.1f, measured %.1f%%)\n",
               "", 100 * r->rank1, r->mated, 100 * r->fnir[0], r->thr[0],
               100 * r->fpir_measured[0], r->nonmated, 100 * r->fnir[1], r->thr[1],
               100 * r->fpir_measured[1]);
    if (r->mated)
        printf("  %-34s same probes, mate's exact score (= exhaustive): FNIR %.1f%% @1%%, %.1f%% "
               "@0.1%%; search cost %+.1f / %+.1f points; mate not returned in %d of %d\n",
               "", 100 * r->fnir_exact[0], 100 * r->fnir_exact[1],
               100 * (r->fnir[0] - r->fnir_exact[0]), 100 * (r->fnir[1] - r->fnir_exact[1]),
               r->not_kept, r->mated);
}

/* One mate the search did not return: its record's fast score against the
 * probe (1 = no hypothesis passed the quick check), how many rows scored
 * higher, and the cutoff (the keep-th best). One core. */
static void lost_mate_line(pm_gallery_t *g, pm__gal_probe_t *bp, const pm_fingerprint_t *probe,
                           size_t row, size_t kept, int gate, const char *label, double exact)
{
    size_t rows = g->s.n;
    pm__gal_probe_build(probe, bp);
    bp->pair_gate = gate > 0; /* as the single-finger searches ran */
    uint64_t hist[256] = {0};
    int mine = 0;
    for (size_t r = 0; r < rows; r++) {
        int s = pm__gal_fast_score(bp, g->s.keys + r * PM_GALLERY_KEYS,
                                   g->s.minu + r * PM_GALLERY_MAX_MINUTIAE, g->s.nkeys[r],
                                   g->s.nmin[r]);
        hist[s]++;
        if (r == row)
            mine = s;
    }
    uint64_t above = 0, acc = 0;
    int cutoff = 1;
    for (int s = 255; s > mine; s--)
        above += hist[s];
    for (int s = 255; s >= 1; s--) {
        acc += hist[s];
        if (acc >= kept) {
            cutoff = s;
            break;
        }
    }
    printf("  mate not returned: probe %s, mate exact score %.1f, fast score %d%s, %llu of "
           "%zu records score higher (%llu tie), cutoff score %d keeps %zu; records with a "
           "hypothesis: %llu\n",
           label, exact, mine, mine == 1 ? " (no hypothesis)" : "", (unsigned long long)above,
           rows, (unsigned long long)hist[mine] - 1, cutoff, kept,
           (unsigned long long)(rows - hist[1]));
}

static size_t kept_rows(const pm_gallery_t *g, double keep)
{
    size_t kept = (size_t)ceil(keep * (double)g->s.n);
    return kept < 200 ? 200 : kept;
}

/* Where the first stage ranked the mates it did not return, after the
 * searches (the mate of synthetic probe id is row id). */
static void lost_mates_report(pm_gallery_t *g, const outcome_t *o, size_t n, double keep,
                              int gate, uint64_t seed, const pm_gallery_synth_options_t *so,
                              pm_fingerprint_t *m, pm_fingerprint_t *v)
{
    pm__gal_probe_t *bp = malloc(sizeof *bp);
    if (!bp)
        return;
    for (size_t i = 0; i < n; i++) {
        if (!mate_not_returned(&o[i]))
            continue;
        uint64_t id = o[i].probe_id;
        if (id >= g->s.n || g->s.subject[id] != o[i].mate)
            continue;
        pm_gallery_synth_master(seed, id, m);
        pm_gallery_synth_impression(m, seed, id, 1, so, &v[0]);
        char label[32];
        snprintf(label, sizeof label, "%llu", (unsigned long long)id);
        lost_mate_line(g, bp, &v[0], (size_t)id, kept_rows(g, keep), gate, label, o[i].mate_exact);
    }
    free(bp);
}

/* Reads 'records score' lines and fits the identification calibration. */
static int fit_file(const char *path, pm_gallery_calibration_t *cal)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "perimeter: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = 0, cap = 0;
    double *x = NULL, *nn = NULL;
    char line[256];
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        char *end = NULL;
        errno = 0;
        double recs = strtod(line, &end);
        char *end2 = NULL;
        double sc = end && end != line ? strtod(end, &end2) : NAN;
        if (errno || !end2 || end2 == end || !(recs >= 1) || !isfinite(sc) ||
            (*end2 != '\n' && *end2 != 0)) {
            fprintf(stderr, "perimeter: %s: bad line %zu (want 'records score')\n", path, n + 1);
            rc = -1;
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            double *a = realloc(x, cap * sizeof *x), *b = a ? realloc(nn, cap * sizeof *nn) : NULL;
            if (a)
                x = a;
            if (!a || !b) {
                fprintf(stderr, "perimeter: out of memory\n");
                rc = -1;
                break;
            }
            nn = b;
        }
        x[n] = sc;
        nn[n] = recs;
        n++;
    }
    fclose(f);
    pm_error_t err = {0};
    if (!rc && pm_gallery_calibration_fit(x, nn, n, cal, &err)) {
        fprintf(stderr, "perimeter: %s: %s\n", path, pm_error_text(&err));
        rc = -1;
    }
    free(x);
    free(nn);
    return rc;
}

/* The non-mated searches' best scores: quantiles, this run's own fit (for
 * information only) and, when asked, the lines for a later --calibration. */
static void nonmated_report(const outcome_t *o, size_t n, double size, const char *out)
{
    double *x = malloc((n ? n : 1) * sizeof *x), *nn = malloc((n ? n : 1) * sizeof *nn);
    size_t k = 0;
    FILE *f = out ? fopen(out, "a") : NULL;
    if (out && !f)
        fprintf(stderr, "perimeter: %s: %s\n", out, strerror(errno));
    for (size_t i = 0; x && nn && i < n; i++)
        if (!o[i].mated) {
            x[k] = o[i].top_score;
            nn[k++] = size;
            if (f)
                fprintf(f, "%.0f %.4f\n", size, o[i].top_score);
        }
    if (f)
        fclose(f);
    if (k) {
        pm_gallery_calibration_t c;
        pm_error_t err = {0};
        int fitted = pm_gallery_calibration_fit(x, nn, k, &c, &err) == 0;
        double q50 = pct(x, k, 0.5), q90 = pct(x, k, 0.9), mx = pct(x, k, 1.0);
        printf("  non-mated best scores (%zu searches): median %.1f, 90%% %.1f, max %.1f", k, q50, q90,
               mx);
        if (fitted)
            printf("; this run's own fit (information only, growth tied): loc %.2f scale %.2f",
                   c.loc, c.scale);
        printf("\n");
    }
    free(x);
    free(nn);
}

int pm_cmd_bench_gallery(int argc, char **argv)
{
    long size = 100000, probes = 30, exhaustive = -1, tenprints = 4, threads = 0;
    long sl_k = 0, sl_lead = 0; /* the ten-print shortlist measured (0: the library's defaults) */
    long gate = 0; /* options.pair_gate of the first-stage searches (0: the library's default) */
    const char *nonmated_out = NULL, *calib_from = NULL;
    uint64_t seed = 2;
    double keep = 0.0002;
    pm_gallery_synth_options_t so = {0}; /* the single-finger probes' impressions */
    const char *dir = "/tmp", *cache = NULL;
    static const struct option opts[] = {
        {"size", required_argument, NULL, 'n'},       {"probes", required_argument, NULL, 'p'},
        {"exhaustive", required_argument, NULL, 'e'}, {"tenprints", required_argument, NULL, 't'},
        {"threads", required_argument, NULL, 'T'},    {"seed", required_argument, NULL, 's'},
        {"keep", required_argument, NULL, 'k'},       {"dir", required_argument, NULL, 'd'},
        {"nonmated-out", required_argument, NULL, 'o'}, {"calibration", required_argument, NULL, 'c'},
        {"cache", required_argument, NULL, 'C'},
        {"shortlist", required_argument, NULL, 'S'}, {"lead", required_argument, NULL, 'L'},
        {"pair-gate", required_argument, NULL, 'G'},
        {"shifted", required_argument, NULL, 'O'}, {"shift", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        errno = 0;
        switch (c) {
        case 'n': size = strtol(optarg, &end, 10); break;
        case 'p': probes = strtol(optarg, &end, 10); break;
        case 'e': exhaustive = strtol(optarg, &end, 10); break;
        case 't': tenprints = strtol(optarg, &end, 10); break;
        case 'T': threads = strtol(optarg, &end, 10); break;
        case 's': seed = strtoull(optarg, &end, 10); break;
        case 'k': keep = strtod(optarg, &end); break;
        case 'd': dir = optarg; break;
        case 'o': nonmated_out = optarg; break;
        case 'c': calib_from = optarg; break;
        case 'C': cache = optarg; break;
        case 'S': sl_k = strtol(optarg, &end, 10); break;
        case 'L': sl_lead = strtol(optarg, &end, 10); break;
        case 'G': gate = strtol(optarg, &end, 10); break;
        case 'O': so.shift_share = strtod(optarg, &end); break;
        case 'P': so.shift_px = strtod(optarg, &end); break;
        default:
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: perimeter bench gallery [--size N] [--probes Q] [--exhaustive E]\n"
                    "         [--tenprints T] [--threads N] [--keep FRACTION] [--seed S] [--dir D]\n"
                    "         [--nonmated-out FILE] [--calibration FILE] [--cache SNAPSHOT]\n"
                    "         [--shortlist K] [--lead L] [--pair-gate G] [--shifted SHARE]\n"
                    "         [--shift PX]\n"
                    "  a synthetic gallery of N fingers (N/10 subjects x 10 positions), Q single-\n"
                    "  finger probes one third mated (all searched with the first stage, the first\n"
                    "  E exhaustively too; default all), T ten-finger probes (the first E of them\n"
                    "  exhaustively too). Template-level simulation (pm_gallery_synth_*), not images.\n"
                    "  --nonmated-out appends 'records best-score' of each non-mated single-finger\n"
                    "  search; --calibration fits the identification calibration on such lines\n"
                    "  (from other runs) and sets the FPIR thresholds with it. --cache loads the\n"
                    "  gallery from that snapshot when it holds this size and seed, else builds it\n"
                    "  and writes the snapshot there (the snapshot timing is then that file's).\n"
                    "  Ten-finger probes run with the ten-print shortlist (K subjects, first stage\n"
                    "  on L lead fingers; 0 = the library's defaults, -1 = every finger) and\n"
                    "  without it, alternated. --pair-gate sets the first stage's pair gate of\n"
                    "  the single-finger searches and of the shortlist's (1 on, -1 off, 0 the\n"
                    "  library's default: on with the shortlist only). --shifted places that share\n"
                    "  of the single-finger probes off-centre (a further PX/2..PX, default 150, in\n"
                    "  a random direction), so that some mates overlap their record on one side\n"
                    "  only (pm_gallery_synth_options_t.shift_share).\n");
            return c == 'h' ? 0 : 2;
        }
        if (errno || (end && *end)) {
            fprintf(stderr, "perimeter: bench gallery: bad value '%s'\n", optarg);
            return 2;
        }
    }
    if (size < 10 || size > 50000000 || probes < 0 || tenprints < 0 || keep <= 0 || keep > 1 ||
        sl_k < 0 || sl_k > 100000 || sl_lead < -1 || sl_lead > 10 || gate < -1 || gate > 1 ||
        !(so.shift_share >= 0 && so.shift_share <= 1) || !(so.shift_px >= 0 && so.shift_px <= 400)) {
        fprintf(stderr, "perimeter: bench gallery: --size 10..5e7, --keep (0, 1], --shortlist "
                        "0..1e5, --lead -1..10, --pair-gate -1..1, --shifted 0..1, --shift 0..400\n");
        return 2;
    }
    if (exhaustive < 0 || exhaustive > probes)
        exhaustive = probes;
    long texh = exhaustive < tenprints ? exhaustive : tenprints;
    /* identification calibration: fitted from another run's non-mated
     * searches (never this run's: the figures below are measured with it) */
    pm_gallery_calibration_t cal = {0}, *calp = NULL;
    if (calib_from) {
        if (fit_file(calib_from, &cal))
            return 1;
        calp = &cal;
        printf("identification calibration fitted on %s: loc %.3f, growth %.3f, scale %.3f "
               "(thresholds: FPIR 1%% at %ld records %.2f, 0.1%% %.2f)\n",
               calib_from, cal.loc, cal.growth, cal.scale, size, pm_gallery_threshold(calp, 0.01, (double)size),
               pm_gallery_threshold(calp, 0.001, (double)size));
    }
    int tty = isatty(2);
    pm_error_t err = {0};
    pm_gallery_options_t go = {.threads = (int)threads};
    pm_gallery_t *g = NULL;
    if (pm_gallery_new(&go, &g, &err)) {
        fprintf(stderr, "perimeter: %s\n", pm_error_text(&err));
        return 1;
    }
    long subjects = (size + 9) / 10;
    pm_fingerprint_t *m = malloc(sizeof *m), *v = malloc(11 * sizeof *v);
    if (!m || !v)
        return 1;
    printf("bench gallery: %ld fingers (%ld subjects x 10 positions), synthetic templates seed %llu, "
           "%d threads\n",
           size, subjects, (unsigned long long)seed, g->threads);
    uint64_t pack_cpu = 0;
    /* a cached gallery: the snapshot of an earlier run (generation = seed) */
    int from_cache = 0;
    double cache_load_s = 0;
    if (cache && access(cache, R_OK) == 0) {
        uint64_t gen = 0, t0c = pm_now_ns();
        int rc = pm_gallery_load(g, cache, &gen, &err);
        cache_load_s = (double)(pm_now_ns() - t0c) / 1e9;
        if (rc == 0 && gen == seed && pm_gallery_count(g) == (size_t)size) {
            from_cache = 1;
            printf("gallery loaded from the cache %s in %.3f s (no synthesis)\n", cache, cache_load_s);
        } else {
            printf("cache %s not used (%s): building the gallery\n", cache,
                   rc ? pm_error_text(&err) : "another size or seed");
            pm_gallery_free(g);
            g = NULL;
            if (pm_gallery_new(&go, &g, &err)) {
                fprintf(stderr, "perimeter: %s\n", pm_error_text(&err));
                return 1;
            }
        }
    }
    for (long i = 0; i < size && !from_cache; i++) {
        long s = i / 10, p = i % 10;
        pm_gallery_synth_master(seed, (uint64_t)i, m);
        pm_gallery_synth_impression(m, seed, (uint64_t)i, 0, NULL, v);
        uint64_t t0 = cpu_ns();
        if (pm_gallery_insert(g, (uint64_t)s + 1, 1, (int)p + 1, v, &err)) {
            fprintf(stderr, "perimeter: insert: %s\n", pm_error_text(&err));
            return 1;
        }
        pack_cpu += cpu_ns() - t0;
        progress(tty, "enrol", (size_t)i + 1, (size_t)size);
    }
    pm_gallery_stats_t st;
    pm_gallery_stats(g, &st, &err);
    printf("RAM: %.1f bytes/finger (record %d B + index %.1f B), %zu MB allocated; insert %.1f us "
           "CPU/finger%s\n",
           st.bytes_per_finger, PM__GAL_RECORD_BYTES,
           (double)st.bytes_index / (double)st.fingers, st.bytes_allocated >> 20,
           (double)pack_cpu / 1e3 / (double)size, from_cache ? " (not measured: cached)" : "");
    {
        /* resident memory of the whole process with the gallery in it */
        long pages_total = 0, pages_res = 0;
        FILE *sf = fopen("/proc/self/statm", "r");
        if (sf && fscanf(sf, "%ld %ld", &pages_total, &pages_res) == 2)
            printf("process RSS with the gallery: %.1f MB = %.1f bytes/finger (code, heap, "
                   "probe scratch included)\n",
                   (double)pages_res * (double)sysconf(_SC_PAGESIZE) / 1e6,
                   (double)pages_res * (double)sysconf(_SC_PAGESIZE) / (double)size);
        if (sf)
            fclose(sf);
    }
    if (cache) {
        /* the cache file is the snapshot: written once, its load timed */
        uint64_t t0 = pm_now_ns();
        if (!from_cache && pm_gallery_save(g, cache, seed, &err)) {
            fprintf(stderr, "perimeter: snapshot %s: %s\n", cache, pm_error_text(&err));
            return 1;
        }
        double save_s = (double)(pm_now_ns() - t0) / 1e9;
        if (!from_cache) {
            pm_gallery_t *h = NULL;
            pm_gallery_options_t one = {.threads = 1};
            pm_gallery_new(&one, &h, &err);
            t0 = pm_now_ns();
            if (pm_gallery_load(h, cache, NULL, &err)) {
                fprintf(stderr, "perimeter: load: %s\n", pm_error_text(&err));
                return 1;
            }
            cache_load_s = (double)(pm_now_ns() - t0) / 1e9;
            pm_gallery_free(h);
        }
        printf("snapshot (cache %s): %.1f MB, %s, load %.3f s (one load, checksum and index "
               "included)\n",
               cache, (double)(96 + (double)size * PM__GAL_RECORD_BYTES) / 1e6,
               from_cache ? "not written (cached)" : "written", cache_load_s);
        if (!from_cache)
            printf("snapshot save %.3f s\n", save_s);
    }

    /* snapshot (without a cache: a temporary file, saved once, loaded 3 times) */
    char snap[PATH_MAX];
    if (!cache) {
        snprintf(snap, sizeof snap, "%s/bench-gallery-%ld.snap", dir, (long)getpid());
        uint64_t t0 = pm_now_ns();
        if (pm_gallery_save(g, snap, 1, &err)) {
            fprintf(stderr, "perimeter: snapshot: %s\n", pm_error_text(&err));
            return 1;
        }
        double save_s = (double)(pm_now_ns() - t0) / 1e9;
        double loads[3];
        for (int k = 0; k < 3; k++) {
            pm_gallery_t *h = NULL;
            pm_gallery_options_t one = {.threads = 1};
            pm_gallery_new(&one, &h, &err);
            t0 = pm_now_ns();
            if (pm_gallery_load(h, snap, NULL, &err)) {
                fprintf(stderr, "perimeter: load: %s\n", pm_error_text(&err));
                return 1;
            }
            loads[k] = (double)(pm_now_ns() - t0) / 1e9;
            pm_gallery_free(h);
        }
        unlink(snap);
        printf("snapshot: %.1f MB, save %.3f s, load median %.3f s of 3 (checksum and index included)\n",
               (double)(96 + (double)size * PM__GAL_RECORD_BYTES) / 1e6, save_s, pm_median(loads, 3));
    }

    /* per-core speed of each stage, on this thread */
    pm_gallery_synth_master(seed, 7, m);
    pm_gallery_synth_impression(m, seed, 7, 1, NULL, &v[0]);
    pm_match_template_t *pt = NULL;
    pm_matcher_t *mt = NULL;
    pm_match_prepare(&v[0], &pt, &err);
    pm_matcher_new(&mt, &err);
    long nex = size < 3000 ? size : 3000;
    double sink = 0;
    pm_match_template_t **cands = calloc((size_t)nex, sizeof *cands), *ct = NULL;
    /* as stage 2 runs: one candidate template prepared over in place */
    uint64_t c0 = cpu_ns();
    for (long r = 0; r < nex; r++) {
        pm__gal_unpack_view(g->s.minu + (size_t)r * PM_GALLERY_MAX_MINUTIAE, g->s.nmin[r], g->s.pos[r], &v[1]);
        if (!pm_match_prepare_candidate_into(&v[1], &ct, NULL))
            sink += pm_match_compare(mt, pt, ct, NULL);
    }
    uint64_t c1 = cpu_ns();
    pm_match_template_free(ct);
    for (long r = 0; r < nex; r++) { /* prepared untimed, for the comparison alone */
        pm__gal_unpack_view(g->s.minu + (size_t)r * PM_GALLERY_MAX_MINUTIAE, g->s.nmin[r], g->s.pos[r], &v[1]);
        pm_match_prepare_candidate(&v[1], &cands[r], NULL);
    }
    uint64_t cb = cpu_ns();
    for (long r = 0; r < nex; r++)
        sink += pm_match_compare(mt, pt, cands[r], NULL);
    uint64_t cmp_ns = cpu_ns() - cb;
    for (long r = 0; r < nex; r++)
        pm_match_template_free(cands[r]);
    free(cands);
    double exact_rate = (double)nex / ((double)(c1 - c0) / 1e9);
    double compare_rate = (double)nex / ((double)cmp_ns / 1e9);
    pm__gal_probe_t *bm = malloc(sizeof *bm);
    if (!bm)
        return 1;
    pm__gal_probe_build(&v[0], bm);
    bm->pair_gate = gate > 0; /* the cost the single-finger searches below pay */
    unsigned acc = 0;
    c0 = cpu_ns();
    for (int rep = 0; rep < 3; rep++)
        for (size_t r = 0; r < g->s.n; r++)
            acc += (unsigned)pm__gal_fast_score(bm, g->s.keys + r * PM_GALLERY_KEYS,
                                                g->s.minu + r * PM_GALLERY_MAX_MINUTIAE,
                                                g->s.nkeys[r], g->s.nmin[r]);
    c1 = cpu_ns();
    double first_rate = 3.0 * (double)g->s.n / ((double)(c1 - c0) / 1e9);
    /* effective: every record through the fast comparison, the kept ones
     * through the exact stage (what a search does on one core) */
    double kept = ceil(keep * (double)size);
    if (kept < 200)
        kept = 200;
    if (kept > (double)size)
        kept = (double)size;
    double eff = (double)size / ((double)size / first_rate + kept / exact_rate);
    printf("per core (CPU time, this thread): exact stage %.0f comparisons/s (unpack + prepare + "
           "compare of a packed record; compare alone on prepared templates %.0f/s, same process); "
           "fast comparison (first stage, on the packed record%s) %.0f records/s = %.2f us each; "
           "effective with the first stage keeping %.0f of %ld: %.0f comparisons/s [checks %g %u]\n",
           exact_rate, compare_rate, gate > 0 ? ", pair gate" : "", first_rate, 1e6 / first_rate,
           kept, size, eff,
           sink > 0 ? 0.0 : 1.0, acc % 2);
    free(bm);
    pm_match_template_free(pt);
    pm_matcher_free(mt);

    /* single-finger searches, position unknown */
    outcome_t *on = calloc((size_t)probes + 1, sizeof *on), *off = calloc((size_t)probes + 1, sizeof *off);
    uint64_t rs = seed * 0x9E3779B97F4A7C15ull + 99;
    for (long q = 0; q < probes; q++) {
        rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
        int mated = q % 3 == 0;
        uint64_t id = mated ? rs % (uint64_t)size : (uint64_t)size + 1000000 + (uint64_t)q;
        pm_gallery_synth_master(seed, id, m);
        pm_gallery_synth_impression(m, seed, id, 1, &so, &v[0]);
        pm_gallery_finger_t f = {0, &v[0]};
        uint64_t mate = mated ? id / 10 + 1 : 0;
        run_probe_sl(g, &f, 1, 1, keep, 0, 0, (int)gate, mated, mate, &on[q]);
        on[q].probe_id = id;
        if (q < exhaustive)
            run_probe(g, &f, 1, 0, keep, mated, mate, &off[q]);
        progress(tty, "single-finger probes", (size_t)q + 1, (size_t)probes);
    }
    rates_t r_on, r_off;
    summarise(on, (size_t)probes, (double)size, calp, &r_on);
    summarise(off, (size_t)exhaustive, (double)size, calp, &r_off);
    double la[3] = {0, 0, 0};
    if (getloadavg(la, 3) == 3)
        printf("load average now %.2f %.2f %.2f (%ld online CPUs): latencies below are wall time on "
               "this machine as loaded\n",
               la[0], la[1], la[2], sysconf(_SC_NPROCESSORS_ONLN));
    printf("single-finger probes (position unknown: all %ld fingers searched), one third mated; "
           "thresholds from the %s calibration:\n",
           size, calp ? "fitted" : "nominal (matcher's -10*log10(FMR))");
    if (so.shift_share > 0) {
        double px = so.shift_px > 0 ? so.shift_px : PM_GALLERY_SYNTH_SHIFT_PX;
        printf("  %.0f%% of these probes placed off-centre (a further %.0f-%.0f px: one-sided "
               "overlaps)\n",
               100 * so.shift_share, px / 2, px);
    }
    print_rates("exhaustive (first stage off)", &r_off);
    char label[80];
    snprintf(label, sizeof label, "first stage on (keep max(200, %.2g%%)%s)", 100 * keep,
             gate > 0 ? ", pair gate" : "");
    print_rates(label, &r_on);
    /* first stage cost, on the probes searched both ways */
    int both = 0, lost = 0;
    for (long q = 0; q < exhaustive; q++)
        if (on[q].mated) {
            both++;
            lost += off[q].rank1 && !on[q].rank1;
        }
    printf("  first stage lost the rank-1 mate in %d of %d mated probes searched both ways\n", lost,
           both);
    nonmated_report(on, (size_t)probes, (double)size, nonmated_out);
    lost_mates_report(g, on, (size_t)probes, keep, (int)gate, seed, &so, m, v);

    /* ten-finger probes, positions known: T mated (a gallery subject seen
     * again) and T non-mated (a subject beyond the gallery's), each searched
     * with the ten-print shortlist and without it (every survivor exact),
     * in alternating order, same process */
    outcome_t *ton = calloc((size_t)tenprints + 1, sizeof *ton), *toff = calloc((size_t)tenprints + 1, sizeof *toff);
    outcome_t *tfull = calloc((size_t)tenprints + 1, sizeof *tfull);
    outcome_t *non_sl = calloc((size_t)tenprints + 1, sizeof *non_sl);
    outcome_t *non_full = calloc((size_t)tenprints + 1, sizeof *non_full);
    for (long q = 0; q < tenprints && subjects >= 1; q++) {
        for (int mated = 1; mated >= 0; mated--) {
            rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
            uint64_t s = rs % (uint64_t)(size / 10 ? size / 10 : 1);
            if (!mated)
                s += (uint64_t)subjects; /* never enrolled */
            pm_gallery_finger_t f[10];
            for (int p = 0; p < 10; p++) {
                uint64_t id = s * 10 + (uint64_t)p;
                pm_gallery_synth_master(seed, id, m);
                pm_gallery_synth_impression(m, seed, id, 1, NULL, &v[p]);
                f[p].fp = &v[p];
                f[p].position = p + 1;
            }
            outcome_t *sl = mated ? &ton[q] : &non_sl[q], *full = mated ? &tfull[q] : &non_full[q];
            if (q % 2) {
                run_probe_sl(g, f, 10, 1, keep, sl_k, sl_lead, (int)gate, mated, s + 1, sl);
                run_probe_sl(g, f, 10, 1, keep, -1, 0, 0, mated, s + 1, full);
            } else {
                run_probe_sl(g, f, 10, 1, keep, -1, 0, 0, mated, s + 1, full);
                run_probe_sl(g, f, 10, 1, keep, sl_k, sl_lead, (int)gate, mated, s + 1, sl);
            }
            if (mated && q < texh)
                run_probe(g, f, 10, 0, keep, 1, s + 1, &toff[q]);
        }
        progress(tty, "ten-finger probes (x2 mated/non-mated, x2 shortlist on/off)", (size_t)q + 1,
                 (size_t)tenprints);
    }
    if (tenprints) {
        summarise(toff, (size_t)texh, (double)subjects, NULL, &r_off);
        summarise(ton, (size_t)tenprints, (double)subjects, NULL, &r_on);
        rates_t r_full;
        summarise(tfull, (size_t)tenprints, (double)subjects, NULL, &r_full);
        printf("ten-finger probes (positions known: each finger against %ld fingers), %ld mated + "
               "%ld non-mated, nominal fused scores:\n", size / 10, tenprints, tenprints);
        if (texh)
            print_rates("exhaustive (first stage off)", &r_off);
        char l2[128];
        int k_used = sl_k ? (int)sl_k : PM_GALLERY_SHORTLIST_DEFAULT;
        int l_used = sl_lead ? (int)sl_lead : PM_GALLERY_LEAD_DEFAULT;
        snprintf(l2, sizeof l2, "%s, shortlist %d subjects, %d lead fingers, pair gate %s", label,
                 k_used, l_used, gate >= 0 ? "on" : "off");
        print_rates(l2, &r_on);
        snprintf(l2, sizeof l2, "%s, no shortlist", label);
        print_rates(l2, &r_full);
        double *c_sl = calloc(2 * (size_t)tenprints, sizeof *c_sl);
        double *c_full = calloc(2 * (size_t)tenprints, sizeof *c_full);
        double *lat_sl = calloc(2 * (size_t)tenprints, sizeof *lat_sl);
        double *lat_full = calloc(2 * (size_t)tenprints, sizeof *lat_full);
        long mate_kept = 0, mate_full = 0, mate_verify = 0, mate_ge = 0;
        long over_sl[2] = {0, 0}, over_full[2] = {0, 0};
        double top_sl = 0, top_full = 0;
        pm_gallery_calibration_t fcal;
        pm_gallery_fused_calibration_default(&fcal);
        for (long q = 0; q < tenprints; q++) {
            mate_kept += ton[q].mate_score > 0;
            mate_full += tfull[q].mate_score > 0;
            /* a shortlisted subject is scored finger by finger (pm_gallery_verify) */
            mate_verify += ton[q].mate_score > 0 && ton[q].mate_score == ton[q].mate_exact;
            mate_ge += ton[q].mate_score >= tfull[q].mate_score;
            top_sl = non_sl[q].top_score > top_sl ? non_sl[q].top_score : top_sl;
            top_full = non_full[q].top_score > top_full ? non_full[q].top_score : top_full;
            for (int t = 0; t < 2; t++) {
                double thr = t ? 40 : 30;
                over_sl[t] += pm_gallery_fused_score(&fcal, non_sl[q].top_score) >= thr;
                over_full[t] += pm_gallery_fused_score(&fcal, non_full[q].top_score) >= thr;
            }
            c_sl[2 * q] = ton[q].cpu, c_sl[2 * q + 1] = non_sl[q].cpu;
            c_full[2 * q] = tfull[q].cpu, c_full[2 * q + 1] = non_full[q].cpu;
            lat_sl[2 * q] = ton[q].seconds, lat_sl[2 * q + 1] = non_sl[q].seconds;
            lat_full[2 * q] = tfull[q].seconds, lat_full[2 * q + 1] = non_full[q].seconds;
        }
        size_t nt = 2 * (size_t)tenprints;
        double cs = pct(c_sl, nt, 0.5), cf = pct(c_full, nt, 0.5);
        printf("  shortlist vs none, same probes alternated: CPU per search median %.4f s vs %.4f s "
               "(ratio %.2f); wall p50 %.3f vs %.3f s, p95 %.3f vs %.3f s\n",
               cs, cf, cf > 0 ? cs / cf : 0, pct(lat_sl, nt, 0.5), pct(lat_full, nt, 0.5),
               pct(lat_sl, nt, 0.95), pct(lat_full, nt, 0.95));
        printf("  mate returned %ld (shortlist) / %ld (none) of %ld; shortlist: the mate's score is "
               "its finger-by-finger (verify) score in %ld, >= the per-finger search's in %ld\n",
               mate_kept, mate_full, tenprints, mate_verify, mate_ge);
        printf("  non-mated: best fused score %.1f (shortlist) / %.1f (none); searches whose best "
               "reaches calibrated fused 30 / 40 (built-in fused calibration): %ld / %ld "
               "(shortlist), %ld / %ld (none) of %ld\n",
               top_sl, top_full, over_sl[0], over_sl[1], over_full[0], over_full[1], tenprints);
        free(c_sl), free(c_full), free(lat_sl), free(lat_full);
    }
    free(tfull);
    free(non_sl);
    free(non_full);
    free(on);
    free(off);
    free(ton);
    free(toff);
    free(m);
    free(v);
    pm_gallery_free(g);
    return 0;
}

/* ---- eval identify: FVC2002 B sets ------------------------------------------------- */

int pm_cmd_eval_identify(int argc, char **argv)
{
    long decoys = 0;
    int first_stage = 0, gate = 0;
    static const struct option opts[] = {{"decoys", required_argument, NULL, 'n'},
                                         {"first-stage", no_argument, NULL, '1'},
                                         {"pair-gate", required_argument, NULL, 'g'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'n') {
            char *end = NULL;
            errno = 0;
            decoys = strtol(optarg, &end, 10);
            if (errno || *end || decoys < 0 || decoys > 50000000) {
                fprintf(stderr, "perimeter: --decoys: 0..5e7\n");
                return 2;
            }
        } else if (c == '1') {
            first_stage = 1;
        } else if (c == 'g') {
            if (strcmp(optarg, "1") && strcmp(optarg, "-1") && strcmp(optarg, "0")) {
                fprintf(stderr, "perimeter: --pair-gate: 1 (on), -1 (off) or 0 (the default)\n");
                return 2;
            }
            gate = atoi(optarg);
        } else {
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: perimeter eval identify DIR [--decoys N] [--first-stage] [--pair-gate 1|-1]\n"
                    "  DIR holds DB1_B..DB4_B (FVC2002 images, which are extracted, or templates\n"
                    "  such as fvc2002-vendor-iso, read as given): impression 1 of each finger of the four\n"
                    "  DBs is the gallery (40 fingers, plus N synthetic decoy templates),\n"
                    "  impressions 2-8 are the probes (280). Each probe is searched twice: against\n"
                    "  the whole gallery (mated) and with its own finger left out (non-mated).\n"
                    "  --pair-gate: the first stage's pair gate on (1) or off (-1); default: the\n"
                    "  search's default for single fingers (off).\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: perimeter eval identify DIR [--decoys N] [--first-stage] "
                        "[--pair-gate 1|-1]\n");
        return 2;
    }
    const char *root = argv[optind];
    pm_error_t err = {0};
    pm_gallery_t *g = NULL;
    if (pm_gallery_new(NULL, &g, &err)) {
        fprintf(stderr, "perimeter: %s\n", pm_error_text(&err));
        return 1;
    }
    pm_fingerprint_t *views = calloc(4 * 10 * 8, sizeof *views);
    if (!views)
        return 1;
    int tty = isatty(2);
    size_t done = 0, extracted = 0;
    for (int db = 0; db < 4; db++)
        for (int f = 0; f < 10; f++)
            for (int i = 0; i < 8; i++) {
                char dir[PATH_MAX], base[32], path[PATH_MAX];
                double ms = -1;
                snprintf(dir, sizeof dir, "%s/DB%d_B", root, db + 1);
                snprintf(base, sizeof base, "%d_%d", 101 + f, i + 1);
                if (pm__cli_find_view(dir, base, path, sizeof path) ||
                    pm__cli_load_fingerprint(path, &views[(db * 10 + f) * 8 + i], &ms, &err)) {
                    fprintf(stderr, "perimeter: %s/%s: %s\n", dir, base,
                            err.code ? pm_error_text(&err) : "not found");
                    return 1;
                }
                extracted += ms >= 0; /* an image (else a template read as given) */
                progress(tty, "extract", ++done, 320);
            }
    for (int k = 0; k < 40; k++)
        if (pm_gallery_insert(g, (uint64_t)k + 1, 1, 0, &views[k * 8], &err)) {
            fprintf(stderr, "perimeter: enrol finger %d: %s\n", k, pm_error_text(&err));
            return 1;
        }
    pm_fingerprint_t *m = malloc(2 * sizeof *m);
    for (long d = 0; d < decoys && m; d++) {
        pm_gallery_synth_master(9090, (uint64_t)d, &m[0]);
        pm_gallery_synth_impression(&m[0], 9090, (uint64_t)d, 0, NULL, &m[1]);
        if (pm_gallery_insert(g, 1000000 + (uint64_t)d, 1, 0, &m[1], &err)) {
            fprintf(stderr, "perimeter: decoy: %s\n", pm_error_text(&err));
            return 1;
        }
        progress(tty, "decoys", (size_t)d + 1, (size_t)decoys);
    }
    free(m);
    /* the subset "all but k" for the non-mated search of finger k */
    size_t total = (size_t)(40 + decoys);
    uint64_t *ids = malloc(total * sizeof *ids);
    if (!ids)
        return 1;
    outcome_t *o = calloc(2 * 280, sizeof *o);
    size_t no = 0;
    for (int k = 0; k < 40; k++) {
        size_t n = 0;
        for (int j = 0; j < 40; j++)
            if (j != k)
                ids[n++] = (uint64_t)j + 1;
        for (long d = 0; d < decoys; d++)
            ids[n++] = 1000000 + (uint64_t)d;
        if (pm_gallery_subset_set(g, "others", ids, n, &err)) {
            fprintf(stderr, "perimeter: %s\n", pm_error_text(&err));
            return 1;
        }
        for (int i = 1; i < 8; i++) {
            pm_gallery_finger_t f = {0, &views[k * 8 + i]};
            run_probe_sl(g, &f, 1, first_stage, 0.001, 0, 0, gate, 1, (uint64_t)k + 1, &o[no]);
            o[no++].probe_id = (uint64_t)(k * 8 + i);
            pm_gallery_search_options_t so = {.max_candidates = 10, .first_stage = first_stage,
                                              .subset = "others", .pair_gate = gate};
            pm_gallery_candidate_t cc[10];
            size_t nc = 0;
            pm_gallery_search_stats_t ss;
            if (pm_gallery_identify(g, &f, 1, &so, cc, &nc, &ss, &err)) {
                fprintf(stderr, "perimeter: %s\n", pm_error_text(&err));
                return 1;
            }
            o[no].mated = 0;
            o[no].top_score = nc ? cc[0].score : 0;
            o[no].seconds = ss.seconds;
            no++;
            progress(tty, "probes", (size_t)(k * 7 + i), 280);
        }
    }
    /* FNIR at an empirical FPIR: the threshold is the smallest score with at
     * most FPIR x 280 non-mated searches at or above it */
    double *nm = malloc(280 * sizeof *nm);
    size_t nn = 0;
    int r1 = 0, nmated = 0;
    for (size_t i = 0; i < no; i++) {
        if (o[i].mated) {
            nmated++;
            r1 += o[i].rank1;
        } else {
            nm[nn++] = o[i].top_score;
        }
    }
    qsort(nm, nn, sizeof *nm, dcmp);
    printf("eval identify: FVC2002 DB1-4 B (%s), gallery 40 fingers + %ld "
           "synthetic decoys (template-level), %d mated + %zu non-mated searches, first stage %s\n",
           extracted == 320 ? "images, our extraction"
           : extracted == 0 ? "templates as given, not our extraction"
                            : "images and templates mixed",
           decoys, nmated, nn,
           !first_stage ? "off" : gate > 0 ? "on (keep max(200, 0.1%), pair gate on)"
                                           : "on (keep max(200, 0.1%))");
    printf("  rank-1: %.1f%% (%d/%d)\n", 100.0 * r1 / nmated, r1, nmated);
    {
        /* the mated searches cover the whole gallery (the non-mated ones a
         * subset, whose filter costs a binary search per record): their
         * latency is a search of this gallery with real probes */
        outcome_t *mo = malloc((size_t)nmated * sizeof *mo);
        double *mn = malloc((size_t)nmated * sizeof *mn);
        size_t k = 0;
        for (size_t i = 0; mo && mn && i < no; i++)
            if (o[i].mated) {
                mn[k] = (double)views[o[i].probe_id].count;
                mo[k++] = o[i];
            }
        pm_gallery_stats_t gs = {0};
        pm_error_t serr = {0};
        if (pm_gallery_stats(g, &gs, &serr))
            gs.threads = 0;
        if (k) {
            rates_t lr;
            summarise(mo, k, (double)total, NULL, &lr);
            printf("  mated searches (all %zu records, %d worker threads): wall p50 %.3f s, p95 "
                   "%.3f s, p99 %.3f s; process CPU p50 %.3f s, p95 %.3f s; probe minutiae p50 "
                   "%.0f, p95 %.0f\n",
                   total, gs.threads, lr.p50, lr.p95, lr.p99, lr.cpu50, lr.cpu95,
                   pct(mn, k, 0.50), pct(mn, k, 0.95));
        }
        free(mo);
        free(mn);
    }
    const double fp[2] = {0.01, 0.05};
    for (int k = 0; k < 2; k++) {
        size_t allowed = (size_t)floor(fp[k] * (double)nn);
        /* threshold just above the (allowed+1)-th highest non-mated score */
        double thr = nn > allowed ? nm[nn - 1 - allowed] + 1e-9 : 0;
        int miss = 0, fa = 0, miss_exact = 0, cost = 0;
        for (size_t i = 0; i < no; i++) {
            if (o[i].mated) {
                miss += !(o[i].mate_score >= thr);
                miss_exact += !(o[i].mate_exact >= thr);
                cost += !(o[i].mate_score >= thr) && o[i].mate_exact >= thr;
            } else {
                fa += o[i].top_score >= thr;
            }
        }
        printf("  FNIR %.1f%% at FPIR %.1f%% (threshold %.2f, %d of %zu non-mated above)\n",
               100.0 * miss / nmated, 100.0 * fa / (double)nn, thr, fa, nn);
        /* the mates' exact scores at the same threshold: what a search that
         * compared every record would give them. The threshold stays the one
         * of these non-mated searches (an exhaustive one could only raise
         * it), so the difference is an upper bound of the first stage's cost */
        if (first_stage)
            printf("    exhaustive-equivalent (each mate's exact score): FNIR %.1f%%; first-stage "
                   "cost %+.1f points (%d mates at or above the threshold not returned)\n",
                   100.0 * miss_exact / nmated, 100.0 * (miss - miss_exact) / nmated, cost);
    }
    if (first_stage) {
        int not_kept = 0;
        for (size_t i = 0; i < no; i++)
            not_kept += mate_not_returned(&o[i]);
        printf("  mates not among the candidates: %d of %d\n", not_kept, nmated);
        /* why (rows 0-39 are the FVC fingers, inserted first) */
        pm__gal_probe_t *bp = malloc(sizeof *bp);
        for (size_t i = 0; bp && i < no; i++) {
            if (!mate_not_returned(&o[i]))
                continue;
            size_t k = (size_t)o[i].probe_id / 8, row = (size_t)o[i].mate - 1;
            if (row >= g->s.n || g->s.subject[row] != o[i].mate)
                continue;
            char label[48];
            snprintf(label, sizeof label, "DB%zu_B %zu_%zu", k / 10 + 1, 101 + k % 10,
                     (size_t)o[i].probe_id % 8 + 1);
            lost_mate_line(g, bp, &views[o[i].probe_id], row, kept_rows(g, 0.001), gate, label,
                           o[i].mate_exact);
        }
        free(bp);
    }
    double cal = -10 * log10(0.01 / (double)total);
    int miss = 0, fa = 0;
    for (size_t i = 0; i < no; i++) {
        if (o[i].mated)
            miss += !(o[i].mate_score >= cal);
        else
            fa += o[i].top_score >= cal;
    }
    printf("  calibrated threshold for FPIR 1%% (-10*log10(0.01/%zu) = %.2f): FNIR %.1f%%, "
           "measured FPIR %.1f%%\n",
           total, cal, 100.0 * miss / nmated, 100.0 * fa / (double)nn);
    free(nm);
    free(o);
    free(ids);
    free(views);
    pm_gallery_free(g);
    return 0;
}
