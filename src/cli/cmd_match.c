/* Commands of the match module: compare, eval fvc, bench match. */
#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "perimeter/core.h"
#include "perimeter/fp.h"
#include "perimeter/match.h"
#include "perimeter/tmpl.h"

#include "cli/fingerprint_io.h"
#include "cli/plot.h"

/* CPU time of this thread: comparisons per second per core stay honest when
 * other processes share the machine. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- compare ------------------------------------------------------------------- */

static void compare_usage(FILE *out)
{
    fprintf(out, "usage: perimeter compare A B [--json]\n"
                 "  A, B: fingerprint images or minutiae templates (ISO 19794-2, ANSI 378, native)\n"
                 "  prints the calibrated score -10*log10(FMR) (30 = FMR 0.1%%, 40 = FMR 0.01%%)\n");
}

int pm_cmd_compare(int argc, char **argv)
{
    int json = 0;
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else if (c == 'h') {
            compare_usage(stdout);
            return 0;
        } else {
            compare_usage(stderr);
            return 2;
        }
    }
    if (argc - optind != 2) {
        compare_usage(stderr);
        return 2;
    }
    pm_error_t err = {0};
    pm_fingerprint_t *fa = calloc(1, sizeof *fa), *fb = calloc(1, sizeof *fb);
    pm_match_template_t *ta = NULL, *tb = NULL;
    pm_matcher_t *m = NULL;
    int rc = (!fa || !fb) ? pm_error_set(&err, PM_ENOMEM, "out of memory") : 0;
    if (!rc)
        rc = pm__cli_load_fingerprint(argv[optind], fa, NULL, &err);
    if (!rc)
        rc = pm__cli_load_fingerprint(argv[optind + 1], fb, NULL, &err);
    if (!rc)
        rc = pm_match_prepare(fa, &ta, &err);
    if (!rc)
        rc = pm_match_prepare(fb, &tb, &err);
    if (!rc)
        rc = pm_matcher_new(&m, &err);
    if (rc) {
        fprintf(stderr, "perimeter compare: %s\n", pm_error_text(&err));
    } else {
        pm_match_result_t r;
        pm_match_compare(m, ta, tb, &r);
        if (json) {
            printf("{\"score\": %.2f, \"fmr\": %.3g, \"raw\": %.3f, \"paired\": %d, \"support\": %d, "
                   "\"minutiae_a\": %zu, \"minutiae_b\": %zu, \"overlap_a\": %d, \"overlap_b\": %d, "
                   "\"rotation_deg\": %.1f, \"dx\": %.1f, \"dy\": %.1f}\n",
                   r.score, pm_match_score_to_fmr(r.score), r.raw, r.paired, r.support, fa->count,
                   fb->count, r.overlap_a, r.overlap_b, r.rotation * 180.0 / M_PI, r.dx, r.dy);
        } else {
            printf("score %.2f (FMR %.3g)\n", r.score, pm_match_score_to_fmr(r.score));
            printf("paired %d of %zu/%zu minutiae (overlap %d/%d), %d supporting edges, raw %.3f\n",
                   r.paired, fa->count, fb->count, r.overlap_a, r.overlap_b, r.support, r.raw);
            printf("alignment: rotation %.1f deg, translation (%.1f, %.1f) px at 500 ppi\n",
                   r.rotation * 180.0 / M_PI, r.dx, r.dy);
        }
    }
    pm_matcher_free(m);
    pm_match_template_free(ta);
    pm_match_template_free(tb);
    free(fa);
    free(fb);
    return rc ? 1 : 0;
}

/* ---- eval fvc ------------------------------------------------------------------ */

#define FINGERS 10
#define IMPRESSIONS 8
#define VIEWS (FINGERS * IMPRESSIONS)

typedef struct db_eval {
    char name[64];
    double *gen, *imp_fvc, *imp_all;
    double *raw_all; /* raw scores of imp_all, for calibration fitting */
    double *raw_gen, *raw_fvc; /* raw scores of gen and imp_fvc (cross-validation) */
    pm_match_pair_t *pairs;    /* genuine and all cross-finger impostor comparisons */
    size_t npairs;
    int quality[VIEWS];        /* print quality of each view (0 when unusable) */
    size_t ngen, nimp_fvc, nimp_all;
    int fte;       /* failures to extract (or read) */
    int missing;   /* views without a file */
    double extract_ms_median;
    double prepare_us_median;
    double compare_seconds;
    size_t comparisons;
    pm_match_rates_t fvc, all;
} db_eval_t;

typedef struct eval_opts {
    const char *dir;
    const char *mixed_dir; /* if set: DIR's views vs these */
    int iso_roundtrip;     /* write our views as ISO and read them back */
    int json;
    const char *plot;
    int fit;
    const char *dump;
    const void *ex; /* extractor for images (NULL: the CLI's default) */
    int resample_ppi; /* images resampled to this and declared unknown (0: as they are) */
    int estimate_ppi; /* extract with the resolution check by ridge frequency */
    int sensor_ppi;   /* estimate each DB's resolution from all its prints first */
    float ref_period; /* reference ridge period for sensor_ppi (0: pm_fp_params_t's) */
} eval_opts_t;

static int is_db_name(const char *s)
{
    if (strncmp(s, "DB", 2) != 0)
        return 0;
    s += 2;
    if (*s < '0' || *s > '9')
        return 0;
    while (*s >= '0' && *s <= '9')
        s++;
    return strcmp(s, "_B") == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads one DB's 80 views (finger 101.. x impression 1..8) into views[];
 * ok[k] says whether view k is usable. */
/* The median ridge periods of a DB's views (at most VIEWS into periods[]). */
static size_t db_periods(const char *dbdir, const void *ex, int resample_ppi, float *periods)
{
    size_t np = 0;
    for (int k = 0; k < VIEWS; k++) {
        char base[64], path[4096];
        snprintf(base, sizeof base, "%d_%d", 101 + k / IMPRESSIONS, k % IMPRESSIONS + 1);
        pm_error_t err = {0};
        float per = 0;
        if (pm__cli_find_view(dbdir, base, path, sizeof path) == 0 &&
            pm__cli_image_period(path, ex, resample_ppi, &per, &err) == 0 && per > 0)
            periods[np++] = per;
    }
    return np;
}

static void load_db(const char *dbdir, const void *ex, int resample_ppi, int sensor_ppi,
                    float ref_period, pm_fingerprint_t *views, int *ok, int iso_roundtrip,
                    double *extract_ms, size_t *nextract, int *fte, int *missing)
{
    int declare = 0;
    if (sensor_ppi) {
        /* the sensor's resolution from the median ridge period of all its
         * prints (pm_fp_sensor_ppi), then every print extracted at it */
        float periods[VIEWS];
        size_t np = db_periods(dbdir, ex, resample_ppi, periods);
        pm_error_t err = {0};
        pm_fp_params_t fpp;
        pm_fp_params_default(&fpp);
        if (ref_period > 0)
            fpp.ridge_period = ref_period;
        if (np > 0 && pm_fp_sensor_ppi(periods, np, 0, &fpp, &declare, &err) == 0)
            fprintf(stderr, "perimeter eval: %s: resolution from %zu prints' ridge periods: %d ppi\n",
                    dbdir, np, declare);
        else
            declare = 0;
    }
    for (int f = 0; f < FINGERS; f++)
        for (int i = 0; i < IMPRESSIONS; i++) {
            int k = f * IMPRESSIONS + i;
            char base[64];
            snprintf(base, sizeof base, "%d_%d", 101 + f, i + 1);
            char path[4096];
            ok[k] = 0;
            memset(&views[k], 0, sizeof views[k]);
            if (pm__cli_find_view(dbdir, base, path, sizeof path) != 0) {
                (*missing)++;
                (*fte)++;
                continue;
            }
            pm_error_t err = {0};
            double ms = -1;
            int rc = pm__cli_load_fingerprint_declared(path, ex, resample_ppi, declare, &views[k],
                                                       &ms, &err);
            if (ms >= 0)
                extract_ms[(*nextract)++] = ms;
            if (!rc && iso_roundtrip) {
                pm_buf_t b = {0};
                pm_fingerprint_t *back = NULL;
                size_t nb = 0;
                rc = pm_tmpl_write(PM_TMPL_ISO, &views[k], 1, &b, &err);
                if (!rc)
                    rc = pm_tmpl_read(b.data, b.len, PM_TMPL_ISO, &back, &nb, NULL, &err);
                if (!rc)
                    views[k] = back[0];
                free(back);
                pm_buf_free(&b);
            }
            if (rc) {
                if (isatty(2))
                    fprintf(stderr, "\n");
                fprintf(stderr, "perimeter eval: %s: %s\n", path, pm_error_text(&err));
                (*fte)++;
                continue;
            }
            ok[k] = 1;
        }
}

/* The extracted views of one DB, kept between grid points that differ only
 * in the matcher's options (extraction is most of an evaluation's time). */
typedef struct view_cache {
    int filled;
    pm_fingerprint_t *views; /* VIEWS */
    int ok[VIEWS];
    double ext_ms[VIEWS];
    size_t next;
    int fte, missing;
} view_cache_t;

static int eval_db_cached(const eval_opts_t *o, const char *name, db_eval_t *d, pm_matcher_t *m,
                          view_cache_t *cache);

static int eval_db(const eval_opts_t *o, const char *name, db_eval_t *d, pm_matcher_t *m)
{
    return eval_db_cached(o, name, d, m, NULL);
}

static int eval_db_cached(const eval_opts_t *o, const char *name, db_eval_t *d, pm_matcher_t *m,
                          view_cache_t *cache)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    char dbdir[4096], mixdir[4096];
    snprintf(dbdir, sizeof dbdir, "%s/%s", o->dir, name);
    if (o->mixed_dir)
        snprintf(mixdir, sizeof mixdir, "%s/%s", o->mixed_dir, name);
    pm_fingerprint_t *va = calloc(VIEWS, sizeof *va);
    pm_fingerprint_t *vb = o->mixed_dir ? calloc(VIEWS, sizeof *vb) : va;
    pm_match_template_t **ta = calloc(VIEWS, sizeof *ta);
    pm_match_template_t **tb = o->mixed_dir ? calloc(VIEWS, sizeof *tb) : ta;
    int oka[VIEWS], okb_store[VIEWS], *okb = o->mixed_dir ? okb_store : oka;
    double ext_ms[2 * VIEWS], prep_us[2 * VIEWS];
    size_t next = 0, nprep = 0;
    d->gen = malloc(FINGERS * IMPRESSIONS * IMPRESSIONS * sizeof(double));
    d->imp_fvc = malloc(FINGERS * FINGERS * sizeof(double));
    d->imp_all = malloc(VIEWS * VIEWS * sizeof(double));
    d->raw_all = malloc(VIEWS * VIEWS * sizeof(double));
    d->raw_gen = malloc(FINGERS * IMPRESSIONS * IMPRESSIONS * sizeof(double));
    d->raw_fvc = malloc(FINGERS * FINGERS * sizeof(double));
    if (!va || !vb || !ta || !tb || !d->gen || !d->imp_fvc || !d->imp_all || !d->raw_all ||
        !d->raw_gen || !d->raw_fvc ||
        !(d->pairs = malloc(VIEWS * VIEWS * sizeof *d->pairs))) {
        fprintf(stderr, "perimeter eval: out of memory\n");
        return 1;
    }
    if (cache && cache->filled && cache->views) {
        memcpy(va, cache->views, VIEWS * sizeof *va);
        memcpy(oka, cache->ok, sizeof oka);
        memcpy(ext_ms, cache->ext_ms, cache->next * sizeof ext_ms[0]);
        next = cache->next;
        d->fte = cache->fte;
        d->missing = cache->missing;
    } else {
        load_db(dbdir, o->ex, o->resample_ppi, o->sensor_ppi, o->ref_period, va, oka,
                o->iso_roundtrip, ext_ms, &next, &d->fte, &d->missing);
        if (cache && !o->mixed_dir && next <= VIEWS &&
            (cache->views = malloc(VIEWS * sizeof *cache->views)) != NULL) {
            memcpy(cache->views, va, VIEWS * sizeof *va);
            memcpy(cache->ok, oka, sizeof oka);
            memcpy(cache->ext_ms, ext_ms, next * sizeof ext_ms[0]);
            cache->next = next;
            cache->fte = d->fte;
            cache->missing = d->missing;
            cache->filled = 1;
        }
    }
    if (o->mixed_dir)
        load_db(mixdir, o->ex, 0, o->sensor_ppi, o->ref_period, vb, okb, 0, ext_ms, &next, &d->fte,
                &d->missing);
    for (int side = 0; side < (o->mixed_dir ? 2 : 1); side++) {
        pm_fingerprint_t *v = side ? vb : va;
        pm_match_template_t **t = side ? tb : ta;
        int *ok = side ? okb : oka;
        for (int k = 0; k < VIEWS; k++) {
            if (!ok[k])
                continue;
            pm_error_t err = {0};
            uint64_t t0 = pm_now_ns();
            if (pm_match_prepare(&v[k], &t[k], &err) != 0) {
                fprintf(stderr, "perimeter eval: %s view %d: %s\n", name, k, pm_error_text(&err));
                ok[k] = 0;
                continue;
            }
            prep_us[nprep++] = (double)(pm_now_ns() - t0) / 1e3;
        }
    }
    for (int k = 0; k < VIEWS; k++)
        d->quality[k] = oka[k] ? va[k].quality : 0;
    d->extract_ms_median = pm_median(ext_ms, next);
    d->prepare_us_median = pm_median(prep_us, nprep);
    uint64_t tc = 0;
#define SCORE(ka, kb, out_raw)                                                                    \
    __extension__({                                                                               \
        double s_ = 0;                                                                            \
        (out_raw) = 0;                                                                            \
        if (oka[ka] && okb[kb]) {                                                                 \
            pm_match_result_t r_;                                                                 \
            s_ = pm_match_compare(m, ta[ka], tb[kb], &r_);                                        \
            d->comparisons++;                                                                     \
            (out_raw) = r_.raw;                                                                   \
        }                                                                                         \
        s_;                                                                                       \
    })
    double raw;
    uint64_t t_start = cpu_ns();
    for (int f = 0; f < FINGERS; f++)
        for (int i = 0; i < IMPRESSIONS; i++)
            for (int j = i + 1; j < IMPRESSIONS; j++) {
                d->gen[d->ngen] = SCORE(f * IMPRESSIONS + i, f * IMPRESSIONS + j, raw);
                d->pairs[d->npairs++] = (pm_match_pair_t){(uint32_t)(f * IMPRESSIONS + i),
                                                          (uint32_t)(f * IMPRESSIONS + j), 1,
                                                          d->gen[d->ngen]};
                d->raw_gen[d->ngen++] = raw;
            }
    for (int f = 0; f < FINGERS; f++)
        for (int g = f + 1; g < FINGERS; g++) {
            d->imp_fvc[d->nimp_fvc] = SCORE(f * IMPRESSIONS, g * IMPRESSIONS, raw);
            d->raw_fvc[d->nimp_fvc++] = raw;
        }
    for (int ka = 0; ka < VIEWS; ka++)
        for (int kb = ka + 1; kb < VIEWS; kb++) {
            if (ka / IMPRESSIONS == kb / IMPRESSIONS)
                continue;
            d->imp_all[d->nimp_all] = SCORE(ka, kb, raw);
            d->pairs[d->npairs++] = (pm_match_pair_t){(uint32_t)ka, (uint32_t)kb, 0,
                                                      d->imp_all[d->nimp_all]};
            d->raw_all[d->nimp_all++] = raw;
        }
#undef SCORE
    tc = cpu_ns() - t_start;
    d->compare_seconds = (double)tc / 1e9;
    pm_match_rates(d->gen, d->ngen, d->imp_fvc, d->nimp_fvc, &d->fvc, NULL);
    pm_match_rates(d->gen, d->ngen, d->imp_all, d->nimp_all, &d->all, NULL);
    for (int k = 0; k < VIEWS; k++) {
        pm_match_template_free(ta[k]);
        if (o->mixed_dir)
            pm_match_template_free(tb[k]);
    }
    free(ta);
    if (o->mixed_dir) {
        free(tb);
        free(vb);
    }
    free(va);
    return 0;
}

/* Fits the calibration with the library (pm_match_calibration_fit) on the
 * pooled impostors of every DB, or each DB as its own set (conservative),
 * and prints it as the knot table of src/match/calibrate.c. */
static void fit_calibration(const db_eval_t *dbs, int ndb, pm_match_cal_method_t method)
{
    const double *raw[PM_MATCH_CV_MAX_SETS];
    size_t n[PM_MATCH_CV_MAX_SETS], total = 0;
    int k = 0;
    for (; k < ndb && k < PM_MATCH_CV_MAX_SETS; k++) {
        raw[k] = dbs[k].raw_all;
        n[k] = dbs[k].nimp_all;
        total += n[k];
    }
    pm_match_calibration_t cal;
    pm_error_t err = {0};
    if (pm_match_calibration_fit(raw, n, k, method, &cal, &err) != 0) {
        fprintf(stderr, "perimeter eval: calibration fit: %s\n", pm_error_text(&err));
        return;
    }
    printf("/* Fitted on %zu impostor comparisons (%d sets, %s): empirical quantiles%s,\n"
           " * beyond them an exponential tail fitted by least squares on the top 5%%%s:\n"
           " * log10(FMR) = %.5f %+.5f * raw (the set deciding the last knot).\n */\n",
           total, k,
           method == PM_MATCH_CAL_POOLED ? "pooled"
           : method == PM_MATCH_CAL_BOUND ? "conservative, tails at their 95% bound"
                                          : "conservative",
           method == PM_MATCH_CAL_POOLED ? " for FMR >= 10%" : " while 25 impostors lie above",
           method == PM_MATCH_CAL_POOLED ? "" : " of each set; every knot the highest raw of any set",
           cal.tail_icpt, cal.tail_slope);
    printf("static const knot_t knots[] = {\n");
    for (int i = 0; i < cal.nknots; i++)
        printf("    {%.4f, %.4f},\n", cal.raw[i], cal.score[i]);
    printf("};\n");
}

/* The reference ridge period (pm_fp_reference_period) of every DBn_B of dir
 * not among names[] (the DBs evaluated): the training sensors of a fold. */
static int reference_period(const char *dir, char *const *names, int nnames, const void *ex,
                            float *out)
{
    DIR *dh = opendir(dir);
    if (!dh) {
        fprintf(stderr, "perimeter eval: cannot open %s\n", dir);
        return 1;
    }
    float *periods = malloc(16 * VIEWS * sizeof *periods);
    size_t np = 0;
    int ndb = 0;
    struct dirent *de;
    while (periods && (de = readdir(dh)) && ndb < 16) {
        if (!is_db_name(de->d_name))
            continue;
        int held = 0;
        for (int k = 0; k < nnames; k++)
            held |= strcmp(names[k], de->d_name) == 0;
        if (held)
            continue;
        char dbdir[4096];
        snprintf(dbdir, sizeof dbdir, "%s/%s", dir, de->d_name);
        np += db_periods(dbdir, ex, 0, periods + np);
        ndb++;
    }
    closedir(dh);
    pm_error_t err = {0};
    int rc = periods ? pm_fp_reference_period(periods, np, out, &err)
                     : pm_error_set(&err, PM_ENOMEM, "out of memory");
    free(periods);
    if (rc) {
        fprintf(stderr, "perimeter eval: reference period from %s: %s\n", dir, pm_error_text(&err));
        return 1;
    }
    fprintf(stderr, "perimeter eval: reference ridge period %.2f px from %zu prints of %d DBs of %s\n",
            *out, np, ndb, dir);
    return 0;
}

static void print_rates(const char *label, const pm_match_rates_t *r)
{
    printf("  %-22s EER %6.2f%%  FMR100 %6.2f%%  FMR1000 %6.2f%%  ZeroFMR %6.2f%%\n", label,
           100 * r->eer, 100 * r->fmr100, 100 * r->fmr1000, 100 * r->zerofmr);
}

static json_t *rates_json(const pm_match_rates_t *r)
{
    return json_pack("{s:f,s:f,s:f,s:f}", "eer", 100 * r->eer, "fmr100", 100 * r->fmr100,
                     "fmr1000", 100 * r->fmr1000, "zerofmr", 100 * r->zerofmr);
}

static void eval_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter eval fvc DIR [--json] [--plot FILE.png] [--templates TDIR | --mixed DIR2]\n"
            "                               [--iso-roundtrip] [--fit-calibration] [--dump-scores FILE]\n"
            "                               [--reject-plot FILE.png]\n"
            "       perimeter eval fvc DIR --cross-validate [--grid-border L] [--grid-local L]\n"
            "                               [--grid-quality L] [--calibration M] [--json]\n"
            "  Runs the FVC protocol on every DBn_B folder of DIR. A folder may hold images\n"
            "  (<finger>_<impression>.tif/.png/...) or templates (.iso/.ist/.ansi/.pmt).\n"
            "  --templates TDIR  evaluate the pre-made templates of TDIR/DBn_B (e.g. a vendor's\n"
            "                    ISO templates of DIR's images) instead of DIR's views\n"
            "  --mixed DIR2      compare DIR's views (probe) with DIR2's (gallery), e.g. our\n"
            "                    extraction against a vendor's ISO templates of the same images\n"
            "  --iso-roundtrip   encode DIR's views as ISO 19794-2 and decode them before matching\n"
            "  --plot FILE.png   DET curves and score distributions\n"
            "  --fit-calibration print the calibration table fitted on the pooled impostors\n"
            "  --dump-scores F   write every score as TSV (db, kind, score, raw), 17 digits\n"
            "  --cross-validate  leave-one-DB-out: choose the extractor's border margin and fit\n"
            "                    the calibration on the other DBs, report the held-out DB's\n"
            "                    EER/FMR1000/ZeroFMR and impostor shares at scores 20/30/40\n"
            "  --grid-border L   the margins (px, 500 ppi) to choose from (default 4,8,12,16)\n"
            "  --grid-local L    the matcher's local consolidation widths (px, 0 = rigid) to\n"
            "                    choose from (default 0,30,60,120)\n"
            "  --grid-quality L  the matcher's minutia-quality weights (0..1) to choose from\n"
            "                    (default 0,0.5,1)\n"
            "  --local-sigma S, --quality-weight W  the matcher's options (pm_match_options_t)\n"
            "  --resample-ppi N  resample every image to N ppi and declare its resolution\n"
            "                    unknown (a sensor at another resolution)\n"
            "  --estimate-ppi    extract with the resolution check by ridge frequency\n"
            "                    (per print)\n"
            "  --sensor-ppi      estimate each DB's resolution from the median ridge period of\n"
            "                    all its prints, then extract them at it (per sensor)\n"
            "  --reference-from TRAIN  the reference ridge period of --sensor-ppi learnt from\n"
            "                    the DBn_B folders of TRAIN that are not evaluated (the\n"
            "                    training sensors of a fold, at their declared resolution)\n"
            "                    instead of the constant 9 px\n"
            "  --calibration M   pooled, conservative or bound (default: conservative with each\n"
            "                    set's tail at its upper 95%% confidence bound): how\n"
            "                    --cross-validate and --fit-calibration fit the calibration\n"
            "                    (docs/match.md)\n"
            "  --reject-plot F   error-versus-reject by print quality: EER after rejecting the\n"
            "                    lowest-quality 0..30%% of each DB's prints (and at random),\n"
            "                    printed and drawn to F (PNG)\n");
}

/* ---- eval fvc --reject-plot ------------------------------------------------ */

#define NREJECT 7
static const double reject_shares[NREJECT] = {0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30};
#define RANDOM_ORDERS 50

typedef struct reject_curves {
    double eer[16][NREJECT];   /* per DB, % */
    double random[16][NREJECT]; /* per DB, mean over random rejection orders, % */
    double mean[NREJECT], mean_random[NREJECT];
} reject_curves_t;

/* Error-versus-reject by print quality on every DB, and the same with views
 * rejected in random order (the curve a quality that predicts nothing
 * gives), averaged over RANDOM_ORDERS fixed pseudo-random orders. */
static int error_reject(const db_eval_t *dbs, int ndb, reject_curves_t *rc_out)
{
    memset(rc_out, 0, sizeof *rc_out);
    for (int k = 0; k < ndb && k < 16; k++) {
        double eer[NREJECT];
        pm_error_t err = {0};
        if (pm_match_error_reject(dbs[k].pairs, dbs[k].npairs, dbs[k].quality, VIEWS, reject_shares,
                                  NREJECT, eer, NULL, &err) != 0) {
            fprintf(stderr, "perimeter eval: error-reject %s: %s\n", dbs[k].name, pm_error_text(&err));
            return 1;
        }
        uint64_t state = 0x9E3779B97F4A7C15ull ^ (uint64_t)k;
        for (int o = 0; o < RANDOM_ORDERS; o++) {
            int q[VIEWS];
            for (int v = 0; v < VIEWS; v++) {
                state = state * 6364136223846793005ull + 1442695040888963407ull;
                q[v] = (int)(state >> 33);
            }
            double r[NREJECT];
            if (pm_match_error_reject(dbs[k].pairs, dbs[k].npairs, q, VIEWS, reject_shares, NREJECT,
                                      r, NULL, &err) != 0)
                return 1;
            for (int j = 0; j < NREJECT; j++)
                rc_out->random[k][j] += 100 * r[j] / RANDOM_ORDERS;
        }
        for (int j = 0; j < NREJECT; j++) {
            rc_out->eer[k][j] = 100 * eer[j];
            rc_out->mean[j] += 100 * eer[j] / ndb;
            rc_out->mean_random[j] += rc_out->random[k][j] / ndb;
        }
    }
    return 0;
}

static int reject_plot(const char *path, const db_eval_t *dbs, int ndb, const reject_curves_t *c)
{
    const double *y[18];
    const char *names[18];
    int dashed[18] = {0};
    double x[NREJECT];
    int n = 0;
    for (int j = 0; j < NREJECT; j++)
        x[j] = 100 * reject_shares[j];
    for (int k = 0; k < ndb && k < 16; k++) {
        y[n] = c->eer[k];
        names[n++] = dbs[k].name;
    }
    y[n] = c->mean_random;
    dashed[n] = 1;
    names[n++] = "MEAN, RANDOM";
    y[n] = c->mean;
    names[n++] = "MEAN";
    pm_error_t err = {0};
    if (pm__plot_lines_png(path, "EER AFTER REJECTING THE LOWEST QUALITY PRINTS",
                           "PRINTS REJECTED (%)", "EER (ALL IMPOSTORS)", x, NREJECT, y, names, dashed,
                           n, &err) != 0) {
        fprintf(stderr, "perimeter eval: reject plot: %s\n", pm_error_text(&err));
        return 1;
    }
    return 0;
}

/* ---- eval fvc --cross-validate ----------------------------------------------- */

#define CV_MAX_GRID 16 /* values per parameter */
/* The stated grid of the extractor's border margin (pixels at 500 ppi) and
 * the calibration method the cross-validation uses by default. */
static const float cv_default_grid[] = {4.f, 8.f, 12.f, 16.f};
/* ... and of the matcher's options: local consolidation width (px, 0 =
 * rigid) and minutia-quality weight (issue 14). */
static const float cv_default_local[] = {0.f, 30.f, 60.f, 120.f};
static const float cv_default_quality[] = {0.f, 0.5f, 1.f};

/* One grid point of the cross-validation: the extractor's border margin and
 * the matcher's options (pm_match_options_t). */
typedef struct cv_point {
    float margin;
    pm_match_options_t mo;
} cv_point_t;

static void print_point(FILE *f, const cv_point_t *p)
{
    fprintf(f, "margin %g px, local %g px, quality %g", (double)p->margin, p->mo.local_sigma,
            p->mo.quality_weight);
}
#define PM_MATCH_CAL_DEFAULT_FIT PM_MATCH_CAL_BOUND

/* Parses "8,12,16" into values 0..vmax; the number of values or -1. */
static int parse_grid(const char *s, float *out, int cap, double vmax)
{
    int n = 0;
    while (*s) {
        char *end;
        double v = strtod(s, &end);
        if (end == s || n >= cap || !(v >= 0 && v <= vmax))
            return -1;
        out[n++] = (float)v;
        s = end;
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return n;
}

static void check_cells(json_t *o, const size_t *at, size_t n)
{
    static const char *const keys[] = {"at20", "at30", "at40"};
    for (int c = 0; c < PM_MATCH_CV_NCHECK; c++)
        json_object_set_new(o, keys[c], json_pack("{s:I,s:f}", "count", (json_int_t)at[c],
                                                  "percent", n ? 100.0 * (double)at[c] / (double)n : 0.0));
}

static void print_check(const size_t *at, size_t n)
{
    printf("  impostors >= 20: %5.3f%% (%zu; claim 1%%)  >= 30: %6.4f%% (%zu; claim 0.1%%)  >= 40: "
           "%6.4f%% (%zu; claim 0.01%%) of %zu\n",
           100.0 * (double)at[0] / (double)n, at[0], 100.0 * (double)at[1] / (double)n, at[1],
           100.0 * (double)at[2] / (double)n, at[2], n);
}

/* Runs the FVC protocol on every DB under every grid point of the extractor's
 * border margin, then the library's cross-validation over the DBs. */
static int eval_cross_validate(const eval_opts_t *base, char **names, int nnames,
                               const cv_point_t *grid, int ngrid, pm_match_cal_method_t method)
{
    if (nnames < 2 || nnames > PM_MATCH_CV_MAX_SETS) {
        fprintf(stderr, "perimeter eval: --cross-validate needs 2..%d DBs (found %d)\n",
                PM_MATCH_CV_MAX_SETS, nnames);
        return 1;
    }
    db_eval_t *dbs = calloc((size_t)ngrid * nnames, sizeof *dbs);
    pm_match_cv_set_t *sets = calloc((size_t)ngrid * nnames, sizeof *sets);
    pm_matcher_t *m = NULL;
    int rc = (!dbs || !sets || pm_matcher_new(&m, NULL) != 0) ? 1 : 0;
    double ext_ms[PM_MATCH_CV_MAX_GRID] = {0}, cps[PM_MATCH_CV_MAX_GRID] = {0};
    view_cache_t *cache = calloc((size_t)nnames, sizeof *cache);
    if (!cache)
        rc = 1;
    for (int g = 0; g < ngrid && !rc; g++) {
        if (g > 0 && grid[g].margin != grid[g - 1].margin)
            for (int k = 0; k < nnames; k++) {
                free(cache[k].views);
                memset(&cache[k], 0, sizeof cache[k]);
            }
        eval_opts_t o = *base;
        pm_extractor_t *ex = NULL;
        pm_fp_params_t p;
        pm_fp_params_default(&p);
        p.border_margin = grid[g].margin;
        p.estimate_ppi = base->estimate_ppi;
        pm_error_t err = {0};
        if (pm_matcher_set_options(m, &grid[g].mo, &err) != 0 ||
            pm_extractor_create_with(&p, &ex, &err) != 0) {
            fprintf(stderr, "perimeter eval: %s\n", pm_error_text(&err));
            rc = 1;
            break;
        }
        o.ex = ex;
        size_t comps = 0;
        double secs = 0;
        for (int k = 0; k < nnames && !rc; k++) {
            if (isatty(2))
                fprintf(stderr, "\rmargin %g px, local %g, quality %g: %s (%d/%d)...",
                        (double)grid[g].margin, grid[g].mo.local_sigma, grid[g].mo.quality_weight,
                        names[k], g * nnames + k + 1, ngrid * nnames);
            db_eval_t *d = &dbs[g * nnames + k];
            rc = eval_db_cached(&o, names[k], d, m, &cache[k]);
            if (rc)
                break;
            sets[g * nnames + k] = (pm_match_cv_set_t){d->name, d->raw_gen, d->ngen, d->raw_all,
                                                        d->nimp_all, d->raw_fvc, d->nimp_fvc};
            ext_ms[g] += d->extract_ms_median / nnames;
            comps += d->comparisons;
            secs += d->compare_seconds;
        }
        cps[g] = secs > 0 ? (double)comps / secs : 0;
        pm_extractor_free(ex);
    }
    if (isatty(2))
        fprintf(stderr, "\r%60s\r", "");
    for (int k = 0; cache && k < nnames; k++)
        free(cache[k].views);
    free(cache);
    pm_matcher_free(m);
    pm_match_cv_result_t *r = calloc(1, sizeof *r);
    pm_error_t err = {0};
    if (!rc && (!r || pm_match_cross_validate(sets, ngrid, nnames, method, r, &err) != 0)) {
        fprintf(stderr, "perimeter eval: cross-validation: %s\n", r ? pm_error_text(&err) : "out of memory");
        rc = 1;
    }
    const char *mname = method == PM_MATCH_CAL_POOLED  ? "pooled"
                        : method == PM_MATCH_CAL_BOUND ? "bound"
                                                       : "conservative";
    if (!rc && base->json) {
        json_t *root = json_object(), *folds = json_array(), *gj = json_array();
        for (int g = 0; g < ngrid; g++) {
            pm_match_rates_t mean = {0};
            for (int k = 0; k < nnames; k++) {
                const pm_match_rates_t *a = &dbs[g * nnames + k].all;
                mean.eer += a->eer / nnames;
                mean.fmr1000 += a->fmr1000 / nnames;
            }
            json_array_append_new(gj, json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "border_margin",
                                                (double)grid[g].margin, "local_sigma",
                                                grid[g].mo.local_sigma, "quality_weight",
                                                grid[g].mo.quality_weight, "extract_ms_median", ext_ms[g],
                                                "comparisons_per_second_per_core", cps[g],
                                                "all_data_mean_eer", 100 * mean.eer,
                                                "all_data_mean_fmr1000", 100 * mean.fmr1000));
        }
        for (int h = 0; h < r->nfolds; h++) {
            const pm_match_cv_fold_t *f = &r->fold[h];
            json_t *fj = json_pack("{s:s,s:f,s:f,s:f,s:f,s:o,s:o,s:I}", "held_out", names[h],
                                   "border_margin", (double)grid[f->choice].margin, "local_sigma",
                                   grid[f->choice].mo.local_sigma, "quality_weight",
                                   grid[f->choice].mo.quality_weight, "train_mean_eer",
                                   100 * f->train_eer, "fvc",
                                   rates_json(&f->fvc), "all_impostors", rates_json(&f->all),
                                   "impostors", (json_int_t)f->nimpostor);
            check_cells(fj, f->at, f->nimpostor);
            json_array_append_new(folds, fj);
        }
        json_object_set_new(root, "calibration_method", json_string(mname));
        json_object_set_new(root, "grid", gj);
        json_object_set_new(root, "folds", folds);
        json_object_set_new(root, "mean_fvc", rates_json(&r->mean_fvc));
        json_object_set_new(root, "mean_all_impostors", rates_json(&r->mean_all));
        json_object_set_new(root, "pooled_fvc", rates_json(&r->pooled_fvc));
        json_object_set_new(root, "pooled_all_impostors", rates_json(&r->pooled_all));
        json_t *pc = json_object();
        check_cells(pc, r->pooled_at, r->pooled_nimpostor);
        json_object_set_new(pc, "impostors", json_integer((json_int_t)r->pooled_nimpostor));
        json_object_set_new(root, "pooled_calibration_check", pc);
        char *txt = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        if (txt)
            printf("%s\n", txt);
        free(txt);
        json_decref(root);
    } else if (!rc) {
        printf("Cross-validated FVC protocol on %s: grid point and calibration (%s) fitted on %d DBs,\n"
               "measured on the held-out one, every DB held out once\n",
               base->dir, mname, nnames - 1);
        printf("grid: %d points (chosen per fold by the lowest mean training EER, all impostors)\n",
               ngrid);
        for (int g = 0; g < ngrid; g++) {
            double me = 0;
            for (int k = 0; k < nnames; k++)
                me += 100 * dbs[g * nnames + k].all.eer / nnames;
            printf("  ");
            print_point(stdout, &grid[g]);
            printf(": extraction median %.2f ms, %.0f comparisons/s/core, all-data mean EER %.2f%%\n",
                   ext_ms[g], cps[g], me);
        }
        for (int h = 0; h < r->nfolds; h++) {
            const pm_match_cv_fold_t *f = &r->fold[h];
            printf("held out %s (", names[h]);
            print_point(stdout, &grid[f->choice]);
            printf(", training mean EER %.2f%%):\n", 100 * f->train_eer);
            print_rates("FVC impostors", &f->fvc);
            print_rates("all cross-finger", &f->all);
            print_check(f->at, f->nimpostor);
        }
        printf("mean over %d held-out DBs:\n", r->nfolds);
        print_rates("FVC impostors", &r->mean_fvc);
        print_rates("all cross-finger", &r->mean_all);
        printf("pooled held-out scores (each DB calibrated by its own fold):\n");
        print_rates("FVC impostors", &r->pooled_fvc);
        print_rates("all cross-finger", &r->pooled_all);
        print_check(r->pooled_at, r->pooled_nimpostor);
    }
    free(r);
    for (int k = 0; dbs && k < ngrid * nnames; k++) {
        free(dbs[k].gen);
        free(dbs[k].imp_fvc);
        free(dbs[k].imp_all);
        free(dbs[k].raw_all);
        free(dbs[k].raw_gen);
        free(dbs[k].raw_fvc);
        free(dbs[k].pairs);
    }
    free(dbs);
    free(sets);
    return rc;
}

int pm_cmd_eval_fvc(int argc, char **argv)
{
    eval_opts_t o = {0};
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"plot", required_argument, NULL, 'p'},
                                         {"mixed", required_argument, NULL, 'm'},
                                         {"templates", required_argument, NULL, 't'},
                                         {"iso-roundtrip", no_argument, NULL, 'r'},
                                         {"fit-calibration", no_argument, NULL, 'f'},
                                         {"dump-scores", required_argument, NULL, 'd'},
                                         {"cross-validate", no_argument, NULL, 'X'},
                                         {"reject-plot", required_argument, NULL, 'R'},
                                         {"grid-border", required_argument, NULL, 'G'},
                                         {"calibration", required_argument, NULL, 'C'},
                                         {"grid-local", required_argument, NULL, 'L'},
                                         {"grid-quality", required_argument, NULL, 'Q'},
                                         {"local-sigma", required_argument, NULL, 'l'},
                                         {"quality-weight", required_argument, NULL, 'q'},
                                         {"resample-ppi", required_argument, NULL, 'P'},
                                         {"estimate-ppi", no_argument, NULL, 'E'},
                                         {"sensor-ppi", no_argument, NULL, 'S'},
                                         {"reference-from", required_argument, NULL, 'F'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    const char *templates = NULL;
    int cross = 0, ngrid = 0, nlocal = 0, nqual = 0;
    const char *reject_png = NULL, *reference_from = NULL;
    float grid[CV_MAX_GRID], glocal[CV_MAX_GRID], gqual[CV_MAX_GRID];
    pm_match_options_t mopt;
    pm_match_options_default(&mopt);
    pm_match_cal_method_t method = PM_MATCH_CAL_DEFAULT_FIT;
    while ((c = getopt_long(argc, argv, "jp:m:t:rfd:h", opts, NULL)) != -1) {
        switch (c) {
        case 'X': cross = 1; break;
        case 'R': reject_png = optarg; break;
        case 'L':
        case 'Q':
            if (c == 'L')
                nlocal = parse_grid(optarg, glocal, CV_MAX_GRID, 400);
            else
                nqual = parse_grid(optarg, gqual, CV_MAX_GRID, 1);
            if ((c == 'L' ? nlocal : nqual) < 1) {
                fprintf(stderr, "perimeter eval: %s wants up to %d values %s\n",
                        c == 'L' ? "--grid-local" : "--grid-quality", CV_MAX_GRID,
                        c == 'L' ? "0..400 px" : "0..1");
                return 2;
            }
            break;
        case 'E': o.estimate_ppi = 1; break;
        case 'S': o.sensor_ppi = 1; break;
        case 'F': reference_from = optarg; break;
        case 'P': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 200 || v > 1200) {
                fprintf(stderr, "perimeter eval: --resample-ppi wants 200..1200\n");
                return 2;
            }
            o.resample_ppi = (int)v;
            break;
        }
        case 'l':
        case 'q': {
            char *end;
            double v = strtod(optarg, &end);
            if (end == optarg || *end || !(v >= 0 && v <= (c == 'l' ? 400 : 1))) {
                fprintf(stderr, "perimeter eval: %s wants %s\n",
                        c == 'l' ? "--local-sigma" : "--quality-weight",
                        c == 'l' ? "0..400 px" : "0..1");
                return 2;
            }
            if (c == 'l')
                mopt.local_sigma = v;
            else
                mopt.quality_weight = v;
            break;
        }
        case 'G':
            ngrid = parse_grid(optarg, grid, CV_MAX_GRID, 64);
            if (ngrid < 1) {
                fprintf(stderr, "perimeter eval: --grid-border wants up to %d margins 0..64 px, "
                                "e.g. 8,12,16\n", CV_MAX_GRID);
                return 2;
            }
            break;
        case 'C':
            if (strcmp(optarg, "pooled") == 0)
                method = PM_MATCH_CAL_POOLED;
            else if (strcmp(optarg, "conservative") == 0)
                method = PM_MATCH_CAL_CONSERVATIVE;
            else if (strcmp(optarg, "bound") == 0)
                method = PM_MATCH_CAL_BOUND;
            else {
                fprintf(stderr, "perimeter eval: --calibration is pooled, conservative or bound\n");
                return 2;
            }
            break;
        case 't': templates = optarg; break;
        case 'j': o.json = 1; break;
        case 'p': o.plot = optarg; break;
        case 'm': o.mixed_dir = optarg; break;
        case 'r': o.iso_roundtrip = 1; break;
        case 'f': o.fit = 1; break;
        case 'd': o.dump = optarg; break;
        case 'h': eval_usage(stdout); return 0;
        default: eval_usage(stderr); return 2;
        }
    }
    if (argc - optind != 1) {
        eval_usage(stderr);
        return 2;
    }
    o.dir = templates ? templates : argv[optind];
    DIR *dh = opendir(o.dir);
    if (!dh) {
        fprintf(stderr, "perimeter eval: cannot open %s\n", o.dir);
        return 1;
    }
    char *names[16];
    int nnames = 0;
    struct dirent *de;
    while ((de = readdir(dh)) && nnames < 16)
        if (is_db_name(de->d_name))
            names[nnames++] = strdup(de->d_name);
    closedir(dh);
    if (nnames == 0) {
        fprintf(stderr, "perimeter eval: no DBn_B folder in %s\n", o.dir);
        return 1;
    }
    qsort(names, (size_t)nnames, sizeof names[0], cmp_str);
    if (reference_from && reference_period(reference_from, names, nnames, o.ex, &o.ref_period) != 0)
        return 1;
    if (cross) {
        if (ngrid == 0) {
            for (int g = 0; g < (int)(sizeof cv_default_grid / sizeof cv_default_grid[0]); g++)
                grid[ngrid++] = cv_default_grid[g];
        }
        if (o.mixed_dir || o.iso_roundtrip || o.plot || o.fit || o.dump)
            fprintf(stderr, "perimeter eval: --cross-validate ignores --mixed, --iso-roundtrip, "
                            "--plot, --fit-calibration and --dump-scores\n");
        o.mixed_dir = NULL;
        o.iso_roundtrip = 0;
        for (int g = 0; nlocal == 0 && g < (int)(sizeof cv_default_local / sizeof(float)); g++)
            glocal[g] = cv_default_local[g];
        if (nlocal == 0)
            nlocal = (int)(sizeof cv_default_local / sizeof(float));
        for (int g = 0; nqual == 0 && g < (int)(sizeof cv_default_quality / sizeof(float)); g++)
            gqual[g] = cv_default_quality[g];
        if (nqual == 0)
            nqual = (int)(sizeof cv_default_quality / sizeof(float));
        cv_point_t pts[PM_MATCH_CV_MAX_GRID];
        int npts = 0;
        for (int g = 0; g < ngrid; g++)
            for (int l = 0; l < nlocal; l++)
                for (int q = 0; q < nqual; q++) {
                    if (npts == PM_MATCH_CV_MAX_GRID) {
                        fprintf(stderr, "perimeter eval: more than %d grid points\n",
                                PM_MATCH_CV_MAX_GRID);
                        return 2;
                    }
                    pts[npts].margin = grid[g];
                    pts[npts].mo = mopt;
                    pts[npts].mo.local_sigma = glocal[l];
                    pts[npts].mo.quality_weight = gqual[q];
                    npts++;
                }
        int crc = eval_cross_validate(&o, names, nnames, pts, npts, method);
        for (int k = 0; k < nnames; k++)
            free(names[k]);
        return crc;
    }
    pm_matcher_t *m = NULL;
    if (pm_matcher_new(&m, NULL) != 0 || pm_matcher_set_options(m, &mopt, NULL) != 0)
        return 1;
    pm_extractor_t *est_ex = NULL;
    if (o.estimate_ppi) {
        pm_fp_params_t fpp;
        pm_fp_params_default(&fpp);
        fpp.estimate_ppi = 1;
        pm_error_t e2 = {0};
        if (pm_extractor_create_with(&fpp, &est_ex, &e2) != 0) {
            fprintf(stderr, "perimeter eval: %s\n", pm_error_text(&e2));
            return 1;
        }
        o.ex = est_ex;
    }
    db_eval_t dbs[16];
    int rc = 0;
    for (int k = 0; k < nnames && !rc; k++) {
        if (isatty(2))
            fprintf(stderr, "\r%s (%d/%d)...", names[k], k + 1, nnames);
        rc = eval_db(&o, names[k], &dbs[k], m);
    }
    if (isatty(2))
        fprintf(stderr, "\r%40s\r", "");
    pm_matcher_free(m);
    pm_extractor_free(est_ex);
    if (rc)
        return 1;
    /* pooled and mean figures */
    size_t ng = 0, ni = 0, nf = 0, comps = 0;
    double secs = 0, ext_sum = 0;
    int fte = 0;
    pm_match_rates_t mean_fvc = {0}, mean_all = {0};
    for (int k = 0; k < nnames; k++) {
        ng += dbs[k].ngen;
        ni += dbs[k].nimp_all;
        nf += dbs[k].nimp_fvc;
        comps += dbs[k].comparisons;
        secs += dbs[k].compare_seconds;
        fte += dbs[k].fte;
        ext_sum += dbs[k].extract_ms_median;
#define ACC(dst, src) dst.eer += src.eer / nnames, dst.fmr100 += src.fmr100 / nnames, \
                      dst.fmr1000 += src.fmr1000 / nnames, dst.zerofmr += src.zerofmr / nnames
        ACC(mean_fvc, dbs[k].fvc);
        ACC(mean_all, dbs[k].all);
#undef ACC
    }
    double *pg = malloc(ng * sizeof *pg), *pi = malloc(ni * sizeof *pi);
    double *pf = malloc(nf * sizeof *pf);
    if (!pg || !pi || !pf)
        return 1;
    size_t ag = 0, ai = 0, af = 0;
    for (int k = 0; k < nnames; k++) {
        memcpy(pg + ag, dbs[k].gen, dbs[k].ngen * sizeof *pg);
        ag += dbs[k].ngen;
        memcpy(pi + ai, dbs[k].imp_all, dbs[k].nimp_all * sizeof *pi);
        ai += dbs[k].nimp_all;
        memcpy(pf + af, dbs[k].imp_fvc, dbs[k].nimp_fvc * sizeof *pf);
        af += dbs[k].nimp_fvc;
    }
    pm_match_rates_t pooled_all = {0}, pooled_fvc = {0};
    pm_match_rates(pg, ng, pi, ni, &pooled_all, NULL);
    pm_match_rates(pg, ng, pf, nf, &pooled_fvc, NULL);
    double cps = secs > 0 ? (double)comps / secs : 0;
    if (o.dump) {
        FILE *fo = fopen(o.dump, "w");
        if (fo) {
            for (int k = 0; k < nnames; k++) {
                for (size_t q = 0; q < dbs[k].ngen; q++)
                    fprintf(fo, "%s\tgenuine\t%.17g\n", dbs[k].name, dbs[k].gen[q]);
                for (size_t q = 0; q < dbs[k].nimp_all; q++)
                    fprintf(fo, "%s\timpostor\t%.17g\t%.17g\n", dbs[k].name, dbs[k].imp_all[q],
                            dbs[k].raw_all[q]);
            }
            fclose(fo);
        }
    }
    if (o.fit)
        fit_calibration(dbs, nnames, method);
    reject_curves_t *rj = NULL;
    if (reject_png) {
        rj = calloc(1, sizeof *rj);
        if (!rj || error_reject(dbs, nnames, rj) != 0 || reject_plot(reject_png, dbs, nnames, rj) != 0)
            rc = 1;
        if (rc) {
            free(rj);
            rj = NULL;
        }
    }
    if (o.json) {
        json_t *root = json_object(), *arr = json_array();
        for (int k = 0; k < nnames; k++) {
            json_t *dj = json_pack("{s:s,s:i,s:i,s:i,s:i,s:f,s:f,s:o,s:o}", "db", dbs[k].name,
                                   "genuine", (int)dbs[k].ngen, "impostors_fvc", (int)dbs[k].nimp_fvc,
                                   "impostors_all", (int)dbs[k].nimp_all, "failures_to_extract",
                                   dbs[k].fte, "extract_ms_median", dbs[k].extract_ms_median,
                                   "prepare_us_median", dbs[k].prepare_us_median, "fvc",
                                   rates_json(&dbs[k].fvc), "all_impostors", rates_json(&dbs[k].all));
            json_array_append_new(arr, dj);
        }
        json_object_set_new(root, "databases", arr);
        json_object_set_new(root, "mean_fvc", rates_json(&mean_fvc));
        json_object_set_new(root, "mean_all_impostors", rates_json(&mean_all));
        json_object_set_new(root, "pooled_fvc", rates_json(&pooled_fvc));
        json_object_set_new(root, "pooled_all_impostors", rates_json(&pooled_all));
        json_object_set_new(root, "failures_to_extract", json_integer(fte));
        json_object_set_new(root, "extract_ms_median", json_real(ext_sum / nnames));
        json_object_set_new(root, "comparisons", json_integer((json_int_t)comps));
        json_object_set_new(root, "comparisons_per_second_per_core", json_real(cps));
        if (rj) {
            json_t *ej = json_object(), *sh = json_array(), *per = json_object();
            for (int j = 0; j < NREJECT; j++)
                json_array_append_new(sh, json_real(100 * reject_shares[j]));
            json_object_set_new(ej, "rejected_percent", sh);
            for (int k = 0; k < nnames && k < 16; k++) {
                json_t *a = json_array(), *b = json_array();
                for (int j = 0; j < NREJECT; j++) {
                    json_array_append_new(a, json_real(rj->eer[k][j]));
                    json_array_append_new(b, json_real(rj->random[k][j]));
                }
                json_object_set_new(per, dbs[k].name, json_pack("{s:o,s:o}", "eer", a, "random", b));
            }
            json_t *m1 = json_array(), *m2 = json_array();
            for (int j = 0; j < NREJECT; j++) {
                json_array_append_new(m1, json_real(rj->mean[j]));
                json_array_append_new(m2, json_real(rj->mean_random[j]));
            }
            json_object_set_new(ej, "databases", per);
            json_object_set_new(ej, "mean_eer", m1);
            json_object_set_new(ej, "mean_random", m2);
            json_object_set_new(root, "error_reject", ej);
        }
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(root);
    } else {
        printf("FVC protocol on %s%s%s%s\n", o.dir, o.mixed_dir ? " vs " : "",
               o.mixed_dir ? o.mixed_dir : "", o.iso_roundtrip ? " (ISO round trip)" : "");
        for (int k = 0; k < nnames; k++) {
            printf("%s: %zu genuine, %zu/%zu impostors, %d failures to extract%s, extraction median "
                   "%.2f ms\n",
                   dbs[k].name, dbs[k].ngen, dbs[k].nimp_fvc, dbs[k].nimp_all, dbs[k].fte,
                   dbs[k].missing ? " (files missing)" : "", dbs[k].extract_ms_median);
            print_rates("FVC impostors", &dbs[k].fvc);
            print_rates("all cross-finger", &dbs[k].all);
        }
        printf("mean over %d DBs:\n", nnames);
        print_rates("FVC impostors", &mean_fvc);
        print_rates("all cross-finger", &mean_all);
        printf("pooled over all DBs:\n");
        print_rates("FVC impostors", &pooled_fvc);
        print_rates("all cross-finger", &pooled_all);
        printf("failures to extract: %d; comparisons: %zu, %.0f per second per core\n", fte, comps, cps);
        if (rj) {
            printf("error versus reject (EER %%, all impostors; lowest print quality rejected first,\n"
                   "in brackets the mean of %d random rejection orders):\n  rejected  ", RANDOM_ORDERS);
            for (int j = 0; j < NREJECT; j++)
                printf("%13.0f%%", 100 * reject_shares[j]);
            printf("\n");
            for (int k = 0; k < nnames && k < 16; k++) {
                printf("  %-9s ", dbs[k].name);
                for (int j = 0; j < NREJECT; j++)
                    printf("  %5.2f (%5.2f)", rj->eer[k][j], rj->random[k][j]);
                printf("\n");
            }
            printf("  %-9s ", "mean");
            for (int j = 0; j < NREJECT; j++)
                printf("  %5.2f (%5.2f)", rj->mean[j], rj->mean_random[j]);
            printf("\n");
        }
    }
    if (o.plot) {
        pm__plot_series_t series[17];
        int ns = 0;
        for (int k = 0; k < nnames && ns < 16; k++)
            series[ns++] = (pm__plot_series_t){dbs[k].name, dbs[k].gen, dbs[k].ngen, dbs[k].imp_all,
                                               dbs[k].nimp_all};
        series[ns++] = (pm__plot_series_t){"pooled", pg, ng, pi, ni};
        pm_error_t err = {0};
        if (pm__plot_det_png(o.plot, series, ns, &err) != 0) {
            fprintf(stderr, "perimeter eval: plot: %s\n", pm_error_text(&err));
            rc = 1;
        }
    }
    free(rj);
    for (int k = 0; k < nnames; k++) {
        free(dbs[k].gen);
        free(dbs[k].imp_fvc);
        free(dbs[k].imp_all);
        free(dbs[k].raw_all);
        free(dbs[k].raw_gen);
        free(dbs[k].raw_fvc);
        free(dbs[k].pairs);
        free(names[k]);
    }
    free(pg);
    free(pi);
    free(pf);
    return rc;
}

/* ---- bench match ------------------------------------------------------------- */

/* Baseline for the benchmark ratio: exhaustive alignment. Every pair of
 * minutiae with a similar type-free direction defines a rigid alignment; the
 * score is the most minutiae of a that land within 12 px and 20 degrees of a
 * minutia of b under any of them. Quadratic in pairs, no precomputation:
 * what a matcher costs without local structures. */
static int baseline_compare(const pm_fingerprint_t *a, const pm_fingerprint_t *b)
{
    int best = 0;
    for (size_t i = 0; i < a->count; i++)
        for (size_t j = 0; j < b->count; j++) {
            double rot = b->minutiae[j].angle - a->minutiae[i].angle;
            double c = cos(rot), s = sin(rot);
            int n = 0;
            for (size_t k = 0; k < a->count; k++) {
                /* image coordinates, y down: a counter-clockwise turn as displayed */
                double x = a->minutiae[k].x - a->minutiae[i].x, y = a->minutiae[k].y - a->minutiae[i].y;
                double tx = c * x + s * y + b->minutiae[j].x, ty = -s * x + c * y + b->minutiae[j].y;
                for (size_t l = 0; l < b->count; l++) {
                    double dx = b->minutiae[l].x - tx, dy = b->minutiae[l].y - ty;
                    double da = fabs(remainder(b->minutiae[l].angle - a->minutiae[k].angle - rot, 2 * M_PI));
                    if (dx * dx + dy * dy < 144 && da < 0.35) {
                        n++;
                        break;
                    }
                }
            }
            if (n > best)
                best = n;
        }
    return best;
}

static void bench_usage(FILE *out)
{
    fprintf(out, "usage: perimeter bench match [DIR] [--rounds N] [--naive-baseline]\n"
                 "  DIR: a folder of templates or images (default: the vendor ISO templates of\n"
                 "  FVC2002 DB1_B under $PERIMETER_DATA). Prints median extraction time (images),\n"
                 "  preparation time, and comparisons per second per core for all pairs.\n"
                 "  --naive-baseline also times a deliberately naive exhaustive rigid aligner\n"
                 "  (every minutia pair as a hypothesis, no precomputation) on 300 pairs: a\n"
                 "  straw man showing what the precomputation buys, not a competing matcher.\n"
                 "  The reference matchers (bozorth3, SourceAFIS, OpenAFIS) are compared in\n"
                 "  docs/match.md, measured separately.\n");
}

int pm_cmd_bench_match(int argc, char **argv)
{
    int rounds = 5, with_baseline = 0;
    static const struct option opts[] = {{"rounds", required_argument, NULL, 'r'},
                                         {"no-baseline", no_argument, NULL, 'B'},
                                         {"naive-baseline", no_argument, NULL, 'N'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:h", opts, NULL)) != -1) {
        if (c == 'r') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 1000) {
                bench_usage(stderr);
                return 2;
            }
            rounds = (int)v;
        } else if (c == 'B') {
            with_baseline = 0; /* the default now; kept so old command lines work */
        } else if (c == 'N') {
            with_baseline = 1;
        } else if (c == 'h') {
            bench_usage(stdout);
            return 0;
        } else {
            bench_usage(stderr);
            return 2;
        }
    }
    char dir[4096];
    if (optind < argc) {
        snprintf(dir, sizeof dir, "%s", argv[optind]);
    } else {
        const char *data = getenv("PERIMETER_DATA");
        snprintf(dir, sizeof dir, "%s/fvc2002-vendor-iso/DB1_B", data && *data ? data : "../shared/data");
    }
    pm_fingerprint_t *views = calloc(VIEWS, sizeof *views);
    pm_match_template_t **t = calloc(VIEWS, sizeof *t);
    double ext_ms[VIEWS], prep_us[VIEWS];
    size_t n = 0, next = 0;
    if (!views || !t)
        return 1;
    for (int f = 0; f < FINGERS; f++)
        for (int i = 0; i < IMPRESSIONS; i++) {
            char base[64], path[4200];
            snprintf(base, sizeof base, "%d_%d", 101 + f, i + 1);
            if (pm__cli_find_view(dir, base, path, sizeof path) != 0)
                continue;
            pm_error_t err = {0};
            double ms = -1;
            if (pm__cli_load_fingerprint(path, &views[n], &ms, &err) != 0) {
                fprintf(stderr, "perimeter bench: %s\n", pm_error_text(&err));
                continue;
            }
            if (ms >= 0)
                ext_ms[next++] = ms;
            uint64_t t0 = cpu_ns();
            if (pm_match_prepare(&views[n], &t[n], &err) != 0)
                continue;
            prep_us[n] = (double)(cpu_ns() - t0) / 1e3;
            n++;
        }
    if (n < 2) {
        fprintf(stderr, "perimeter bench: fewer than 2 views in %s\n", dir);
        free(views);
        free(t);
        return 1;
    }
    pm_matcher_t *m = NULL;
    if (pm_matcher_new(&m, NULL) != 0)
        return 1;
    double rate[1000], rate_rigid[1000];
    volatile double sink = 0;
    pm_match_options_t def, rigid;
    pm_match_options_default(&def);
    rigid = def;
    rigid.local_sigma = 0;
    rigid.quality_weight = 0;
    /* rounds alternate the shipped options and the rigid matcher (options
     * off): the same-process baseline of the consolidation's cost */
    for (int r = 0; r < 2 * rounds; r++) {
        pm_matcher_set_options(m, (r & 1) ? &rigid : &def, NULL);
        uint64_t t0 = cpu_ns();
        size_t cmp = 0;
        for (size_t a = 0; a < n; a++)
            for (size_t b = 0; b < n; b++)
                if (a != b) {
                    sink += pm_match_compare(m, t[a], t[b], NULL);
                    cmp++;
                }
        double v = (double)cmp / ((double)(cpu_ns() - t0) / 1e9);
        if (r & 1)
            rate_rigid[r / 2] = v;
        else
            rate[r / 2] = v;
    }
    pm_matcher_set_options(m, &def, NULL);
    /* baseline on a sample of pairs (it is slow) */
    size_t bpairs = 0;
    uint64_t b0 = cpu_ns();
    for (size_t a = 0; with_baseline && a < n && bpairs < 300; a += 3)
        for (size_t b = 1; b < n && bpairs < 300; b += 7)
            if (a != b) {
                sink += baseline_compare(&views[a], &views[b]);
                bpairs++;
            }
    double base_rate = (double)bpairs / ((double)(cpu_ns() - b0) / 1e9);
    double med = pm_median(rate, (size_t)rounds);
    size_t bytes = 0;
    for (size_t k = 0; k < n; k++)
        bytes += pm_match_template_size(t[k]);
    printf("bench match: %zu views from %s\n", n, dir);
    if (next)
        printf("  extraction: median %.2f ms per image (CPU time)\n", pm_median(ext_ms, next));
    printf("  preparation: median %.1f us per view, %.1f KB per prepared view\n",
           pm_median(prep_us, n), (double)bytes / (double)n / 1024.0);
    printf("  comparisons: median %.0f per second per core over %d rounds of %zu (all ordered pairs)\n",
           med, rounds, n * (n - 1));
    double med_rigid = pm_median(rate_rigid, (size_t)rounds);
    printf("  rigid matcher (local consolidation and quality weight off), alternating rounds: "
           "median %.0f per second per core; shipped / rigid %.3f\n",
           med_rigid, med_rigid > 0 ? med / med_rigid : 0);
    if (with_baseline)
        printf("  naive exhaustive aligner (straw man, not a competing matcher): %.0f per second "
               "per core; ratio %.1fx\n",
               base_rate,
               base_rate > 0 ? med / base_rate : 0);
    (void)sink;
    for (size_t k = 0; k < n; k++)
        pm_match_template_free(t[k]);
    pm_matcher_free(m);
    free(t);
    free(views);
    return 0;
}
