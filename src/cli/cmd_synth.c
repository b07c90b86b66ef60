/* perimeter synth crossings | watchlist | manifest */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perimeter/synth.h"

#define FLUSH_AT (1u << 20)

typedef struct out_file {
    FILE *f;
    const char *path;
    pm_buf_t buf;
    int is_stdout;
} out_file_t;

static int out_open(out_file_t *o, const char *path)
{
    memset(o, 0, sizeof *o);
    o->path = path;
    pm_buf_init(&o->buf, 0);
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        o->is_stdout = 1;
        return 0;
    }
    o->f = fopen(path, "w");
    if (!o->f) {
        fprintf(stderr, "synth: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int out_flush(out_file_t *o)
{
    if (!o->f || o->buf.len == 0) return 0;
    if (fwrite(o->buf.data, 1, o->buf.len, o->f) != o->buf.len) {
        fprintf(stderr, "synth: write to %s failed: %s\n", o->path, strerror(errno));
        return -1;
    }
    pm_buf_reset(&o->buf);
    return 0;
}

static int out_maybe_flush(out_file_t *o)
{
    return o->buf.len >= FLUSH_AT ? out_flush(o) : 0;
}

static int out_close(out_file_t *o)
{
    int rc = out_flush(o);
    if (o->f) {
        if (fflush(o->f) != 0) rc = -1;
        if (!o->is_stdout) {
            if (rc == 0 && fsync(fileno(o->f)) != 0 && errno != EINVAL) rc = -1;
            if (fclose(o->f) != 0) rc = -1;
        }
        if (rc) fprintf(stderr, "synth: closing %s failed: %s\n", o->path, strerror(errno));
    }
    o->f = NULL;
    pm_buf_free(&o->buf);
    return rc;
}

static int parse_u64(const char *s, const char *what, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-') {
        fprintf(stderr, "synth: %s needs a non-negative integer\n", what);
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) {
        fprintf(stderr, "synth: %s '%s' is not an integer in 0..%llu\n", what, s,
                (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_share(const char *s, const char *what, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= 0 && v <= 1)) {
        fprintf(stderr, "synth: %s '%s' must be a number in 0..1\n", what, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_date(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        fprintf(stderr, "synth: date '%s' is not YYYY-MM-DD\n", s);
        return -1;
    }
    uint64_t a, b, c;
    char ys[5], ms[3], ds[3];
    memcpy(ys, s, 4), ys[4] = 0;
    memcpy(ms, s + 5, 2), ms[2] = 0;
    memcpy(ds, s + 8, 2), ds[2] = 0;
    if (parse_u64(ys, "year", 9999, &a) || parse_u64(ms, "month", 12, &b) ||
        parse_u64(ds, "day", 31, &c))
        return -1;
    *y = (int)a, *m = (int)b, *d = (int)c;
    return 0;
}

static int parse_countries(const char *s, pm_synth_params_t *p)
{
    if (strlen(s) != 7 || s[3] != ',') {
        fprintf(stderr, "synth: --countries wants two alpha-3 codes, e.g. CAN,USA\n");
        return -1;
    }
    memcpy(p->countries[0], s, 3);
    p->countries[0][3] = 0;
    memcpy(p->countries[1], s + 4, 3);
    p->countries[1][3] = 0;
    return 0;
}

static int format_for(const char *fmt, const char *path)
{
    if (fmt) {
        if (strcmp(fmt, "csv") == 0) return 0;
        if (strcmp(fmt, "jsonl") == 0) return 1;
        fprintf(stderr, "synth: --format must be csv or jsonl\n");
        return -1;
    }
    if (path) {
        const char *dot = strrchr(path, '.');
        if (dot && (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".ndjson") == 0 ||
                    strcmp(dot, ".json") == 0))
            return 1;
    }
    return 0;
}

/* ---------------- synth crossings ---------------- */

typedef struct crossings_job {
    out_file_t rec[2]; /* one file, or one per reporting country (--split) */
    int split;
    int jsonl;
    out_file_t truth;
    int have_truth;
    out_file_t people;
    int have_people;
    out_file_t removals;
    int have_removals;
    pm_synth_params_t params;
    uint64_t count[2];
    uint64_t noisy;
    uint32_t last_day;
    int progress;
} crossings_job_t;

static int on_crossing(void *user, const pm_synth_crossing_t *c)
{
    crossings_job_t *j = user;
    int side = strcmp(c->reporting_country, j->params.countries[0]) == 0 ? 0 : 1;
    out_file_t *o = &j->rec[j->split ? side : 0];
    int rc = j->jsonl ? pm_synth_crossing_jsonl(c, &o->buf) : pm_synth_crossing_csv(c, &o->buf);
    if (rc || out_maybe_flush(o)) return rc ? rc : PM_EIO;
    j->count[side]++;
    j->noisy += c->noise != 0;
    if (j->have_truth) {
        if (pm_synth_truth_csv(c, &j->truth.buf) || out_maybe_flush(&j->truth)) return PM_EIO;
    }
    if (j->progress && c->day != j->last_day) {
        j->last_day = c->day;
        fprintf(stderr, "\rsynth: day %u/%u, %llu records", c->day + 1, j->params.days,
                (unsigned long long)(j->count[0] + j->count[1]));
    }
    return 0;
}

static int on_person(void *user, const pm_synth_person_t *p)
{
    crossings_job_t *j = user;
    if (j->have_people && (pm_synth_person_csv(p, &j->people.buf) || out_maybe_flush(&j->people)))
        return PM_EIO;
    if (j->have_removals &&
        (pm_synth_removal_csv(p, &j->removals.buf) || out_maybe_flush(&j->removals)))
        return PM_EIO;
    return 0;
}

static void crossings_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter synth crossings --people N --days D --seed S\n"
            "         (-o FILE | --split DIR) [--truth FILE] [--people-out FILE]\n"
            "         [--removals-out FILE]\n"
            "         [--countries CAN,USA] [--start YYYY-MM-DD] [--format csv|jsonl]\n"
            "         [--noise FRACTION] [--mrz-share FRACTION] [--native-share FRACTION]\n"
            "Generates a population of travellers and their crossings between two\n"
            "countries: each crossing is an entry record reported by the country entered.\n"
            "  -o FILE          all records in one file ('-' = stdout)\n"
            "  --split DIR      one file per reporting country: DIR/<CODE>.csv|.jsonl\n"
            "  --truth FILE     ground truth CSV: reporting_country,record_id,person_id,noise\n"
            "  --people-out F   the person master CSV (names, documents, class, stays)\n"
            "  --removals-out F the removal orders (input of `perimeter report removals`)\n"
            "  --noise F        share of records with noise (typos, transliteration, ...)\n"
            "See docs/synth.md.\n");
}

int pm_cmd_synth_crossings(int argc, char **argv)
{
    static const struct option opts[] = {{"people", required_argument, 0, 'n'},
                                         {"days", required_argument, 0, 'd'},
                                         {"seed", required_argument, 0, 's'},
                                         {"countries", required_argument, 0, 'c'},
                                         {"start", required_argument, 0, 'S'},
                                         {"format", required_argument, 0, 'f'},
                                         {"output", required_argument, 0, 'o'},
                                         {"split", required_argument, 0, 'D'},
                                         {"truth", required_argument, 0, 't'},
                                         {"noise", required_argument, 0, 'N'},
                                         {"people-out", required_argument, 0, 'P'},
                                         {"mrz-share", required_argument, 0, 'M'},
                                         {"native-share", required_argument, 0, 'A'},
                                         {"removals-out", required_argument, 0, 'R'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    crossings_job_t j;
    memset(&j, 0, sizeof j);
    pm_synth_params_default(&j.params);
    const char *out = NULL, *split = NULL, *truth = NULL, *people = NULL, *fmt = NULL;
    const char *removals = NULL;
    uint64_t v;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            if (parse_u64(optarg, "--people", PM_SYNTH_MAX_PEOPLE, &v)) return 2;
            j.params.people = (uint32_t)v;
            break;
        case 'd':
            if (parse_u64(optarg, "--days", PM_SYNTH_MAX_DAYS, &v)) return 2;
            j.params.days = (uint32_t)v;
            break;
        case 's':
            if (parse_u64(optarg, "--seed", UINT64_MAX, &v)) return 2;
            j.params.seed = v;
            break;
        case 'c':
            if (parse_countries(optarg, &j.params)) return 2;
            break;
        case 'S':
            if (parse_date(optarg, &j.params.start_year, &j.params.start_month,
                           &j.params.start_day))
                return 2;
            break;
        case 'f':
            fmt = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'D':
            split = optarg;
            break;
        case 't':
            truth = optarg;
            break;
        case 'N':
            if (parse_share(optarg, "--noise", &j.params.noise)) return 2;
            break;
        case 'P':
            people = optarg;
            break;
        case 'R':
            removals = optarg;
            break;
        case 'M':
            if (parse_share(optarg, "--mrz-share", &j.params.mrz_share)) return 2;
            break;
        case 'A':
            if (parse_share(optarg, "--native-share", &j.params.native_share)) return 2;
            break;
        case 'h':
            crossings_usage(stdout);
            return 0;
        default:
            crossings_usage(stderr);
            return 2;
        }
    }
    if (optind < argc || (!out && !split) || (out && split)) {
        fprintf(stderr, "synth: give exactly one of -o FILE or --split DIR\n");
        crossings_usage(stderr);
        return 2;
    }
    j.jsonl = format_for(fmt, out);
    if (j.jsonl < 0) return 2;
    pm_error_t err;
    pm_error_clear(&err);
    pm_synth_t *s;
    if (pm_synth_new(&j.params, &s, &err) != PM_OK) {
        fprintf(stderr, "synth: %s\n", pm_error_text(&err));
        return 2;
    }
    int rc = 0;
    if (split) {
        if (mkdir(split, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "synth: cannot create %s: %s\n", split, strerror(errno));
            pm_synth_free(s);
            return 1;
        }
        j.split = 1;
        for (int k = 0; k < 2 && rc == 0; k++) {
            static char paths[2][PATH_MAX];
            snprintf(paths[k], sizeof paths[k], "%s/%s.%s", split, j.params.countries[k],
                     j.jsonl ? "jsonl" : "csv");
            rc = out_open(&j.rec[k], paths[k]);
        }
    } else {
        rc = out_open(&j.rec[0], out);
    }
    if (rc == 0 && truth) {
        rc = out_open(&j.truth, truth);
        j.have_truth = rc == 0;
        if (rc == 0) pm_synth_truth_header(&j.truth.buf);
    }
    if (rc == 0 && people) {
        rc = out_open(&j.people, people);
        j.have_people = rc == 0;
        if (rc == 0) pm_synth_people_header(&j.people.buf);
    }
    if (rc == 0 && removals) {
        rc = out_open(&j.removals, removals);
        j.have_removals = rc == 0;
        if (rc == 0) pm_synth_removals_header(&j.removals.buf);
    }
    if (rc == 0 && !j.jsonl)
        for (int k = 0; k < 1 + j.split; k++)
            pm_synth_csv_header(&j.rec[k].buf);
    j.progress = isatty(STDERR_FILENO);
    j.last_day = UINT32_MAX;
    uint64_t t0 = pm_now_ns();
    if (rc == 0) {
        rc = pm_synth_run(s, on_crossing, j.have_people || j.have_removals ? on_person : NULL, &j,
                          &err);
        if (j.progress) fprintf(stderr, "\n");
        if (rc) fprintf(stderr, "synth: %s\n", rc < 0 ? pm_error_text(&err) : "stopped");
    }
    double secs = (double)(pm_now_ns() - t0) / 1e9;
    int crc = 0;
    for (int k = 0; k < 2; k++)
        crc |= out_close(&j.rec[k]);
    crc |= out_close(&j.truth);
    crc |= out_close(&j.people);
    crc |= out_close(&j.removals);
    pm_synth_free(s);
    if (rc || crc) return 1;
    uint64_t total = j.count[0] + j.count[1];
    fprintf(stderr,
            "synth: %llu crossings (%s %llu, %s %llu; %llu with noise) for %u people over %u "
            "days in %.2f s (%.0f records/s)\n",
            (unsigned long long)total, j.params.countries[0], (unsigned long long)j.count[0],
            j.params.countries[1], (unsigned long long)j.count[1], (unsigned long long)j.noisy,
            j.params.people, j.params.days, secs, secs > 0 ? (double)total / secs : 0.0);
    return 0;
}

/* ---------------- synth watchlist / synth manifest ---------------- */

static int write_buf(const char *path, pm_buf_t *b)
{
    out_file_t o;
    if (out_open(&o, path)) return -1;
    pm_buf_free(&o.buf);
    o.buf = *b;
    pm_buf_init(b, 0);
    return out_close(&o);
}

static void watchlist_usage(FILE *out)
{
    fprintf(out, "usage: perimeter synth watchlist --from-people FILE --size N --hits K --seed S\n"
                 "         -o FILE [--truth FILE]\n"
                 "Writes a watchlist of N entries (names, aliases, dates of birth): K people\n"
                 "drawn from the person master FILE (true hits, spelled as a list would hold\n"
                 "them) and N-K invented people. --truth gets watchlist_id,person_id.\n");
}

int pm_cmd_synth_watchlist(int argc, char **argv)
{
    static const struct option opts[] = {{"from-people", required_argument, 0, 'p'},
                                         {"size", required_argument, 0, 'n'},
                                         {"hits", required_argument, 0, 'k'},
                                         {"seed", required_argument, 0, 's'},
                                         {"output", required_argument, 0, 'o'},
                                         {"truth", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *people = NULL, *out = NULL, *truth = NULL;
    uint64_t size = 1000, hits = 10, seed = 1;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            people = optarg;
            break;
        case 'n':
            if (parse_u64(optarg, "--size", 10000000, &size)) return 2;
            break;
        case 'k':
            if (parse_u64(optarg, "--hits", 10000000, &hits)) return 2;
            break;
        case 's':
            if (parse_u64(optarg, "--seed", UINT64_MAX, &seed)) return 2;
            break;
        case 'o':
            out = optarg;
            break;
        case 't':
            truth = optarg;
            break;
        case 'h':
            watchlist_usage(stdout);
            return 0;
        default:
            watchlist_usage(stderr);
            return 2;
        }
    }
    if (optind < argc || !out || (hits && !people) || hits > size) {
        fprintf(stderr,
                "synth: need -o FILE, --from-people FILE when --hits > 0, and hits <= size\n");
        watchlist_usage(stderr);
        return 2;
    }
    pm_error_t err;
    pm_error_clear(&err);
    pm_synth_person_t *sample = NULL;
    size_t n = 0;
    if (hits && pm_synth_people_sample(people, (size_t)hits, seed, &sample, &n, &err) != PM_OK) {
        fprintf(stderr, "synth: %s\n", pm_error_text(&err));
        return 1;
    }
    if (n < hits) fprintf(stderr, "synth: %s holds only %zu people; %zu hits\n", people, n, n);
    pm_buf_t wl, tr;
    pm_buf_init(&wl, 0);
    pm_buf_init(&tr, 0);
    int rc = pm_synth_watchlist(sample, n, (uint32_t)size, seed, &wl, truth ? &tr : NULL, &err);
    free(sample);
    if (rc) {
        fprintf(stderr, "synth: %s\n", pm_error_text(&err));
    } else if (write_buf(out, &wl) || (truth && write_buf(truth, &tr))) {
        rc = 1;
    } else {
        fprintf(stderr, "synth: watchlist of %llu entries, %zu true hits\n",
                (unsigned long long)size, n);
    }
    pm_buf_free(&wl);
    pm_buf_free(&tr);
    return rc ? 1 : 0;
}

static void manifest_usage(FILE *out)
{
    fprintf(out, "usage: perimeter synth manifest --from-people FILE --passengers N --seed S\n"
                 "         -o FILE [--truth FILE] [--flights F] [--date YYYY-MM-DD]\n"
                 "         [--countries CAN,USA] [--noise FRACTION]\n"
                 "Writes an APIS-like passenger manifest (CSV) of N passengers drawn from the\n"
                 "person master FILE, spread over F flights (default 10) between the two\n"
                 "countries. --truth gets flight_id,passenger_seq,person_id,noise.\n");
}

int pm_cmd_synth_manifest(int argc, char **argv)
{
    static const struct option opts[] = {{"from-people", required_argument, 0, 'p'},
                                         {"passengers", required_argument, 0, 'n'},
                                         {"flights", required_argument, 0, 'f'},
                                         {"seed", required_argument, 0, 's'},
                                         {"date", required_argument, 0, 'd'},
                                         {"countries", required_argument, 0, 'c'},
                                         {"noise", required_argument, 0, 'N'},
                                         {"output", required_argument, 0, 'o'},
                                         {"truth", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    pm_synth_manifest_params_t mp;
    pm_synth_manifest_params_default(&mp);
    pm_synth_params_t cp;
    pm_synth_params_default(&cp);
    const char *people = NULL, *out = NULL, *truth = NULL;
    uint64_t pax = 1500, v;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            people = optarg;
            break;
        case 'n':
            if (parse_u64(optarg, "--passengers", 10000000, &pax)) return 2;
            break;
        case 'f':
            if (parse_u64(optarg, "--flights", 100000, &v) || v == 0) {
                fprintf(stderr, "synth: --flights must be 1..100000\n");
                return 2;
            }
            mp.flights = (uint32_t)v;
            break;
        case 's':
            if (parse_u64(optarg, "--seed", UINT64_MAX, &mp.seed)) return 2;
            break;
        case 'd':
            if (parse_date(optarg, &mp.year, &mp.month, &mp.day)) return 2;
            break;
        case 'c':
            if (parse_countries(optarg, &cp)) return 2;
            memcpy(mp.countries, cp.countries, sizeof mp.countries);
            break;
        case 'N':
            if (parse_share(optarg, "--noise", &mp.noise)) return 2;
            break;
        case 'o':
            out = optarg;
            break;
        case 't':
            truth = optarg;
            break;
        case 'h':
            manifest_usage(stdout);
            return 0;
        default:
            manifest_usage(stderr);
            return 2;
        }
    }
    if (optind < argc || !out || !people) {
        fprintf(stderr, "synth: need --from-people FILE and -o FILE\n");
        manifest_usage(stderr);
        return 2;
    }
    pm_error_t err;
    pm_error_clear(&err);
    pm_synth_person_t *sample = NULL;
    size_t n = 0;
    if (pm_synth_people_sample(people, (size_t)pax, mp.seed ^ 0x4D414E49ull, &sample, &n, &err)) {
        fprintf(stderr, "synth: %s\n", pm_error_text(&err));
        return 1;
    }
    pm_buf_t mb, tr;
    pm_buf_init(&mb, 0);
    pm_buf_init(&tr, 0);
    int rc = pm_synth_manifest(sample, n, &mp, &mb, truth ? &tr : NULL, &err);
    free(sample);
    if (rc) {
        fprintf(stderr, "synth: %s\n", pm_error_text(&err));
    } else if (write_buf(out, &mb) || (truth && write_buf(truth, &tr))) {
        rc = 1;
    } else {
        fprintf(stderr, "synth: manifest of %zu passengers on %u flights\n", n, mp.flights);
    }
    pm_buf_free(&mb);
    pm_buf_free(&tr);
    return rc ? 1 : 0;
}

/* ---------------- synth prints ---------------- */

#include <fcntl.h>
#include <pthread.h>

#include "perimeter/an2k.h"
#include "perimeter/fp.h"
#include "perimeter/image.h"
#include "perimeter/synthfp.h"

/* Fingers are laid out like the FVC databases, ten per DBn_B folder, named
 * <101..110>_<impression>, so `perimeter eval fvc DIR` reads them as they are. */
#define PRINTS_PER_DB 10

typedef struct prints_job {
    const char *dir;
    pm_image_format_t format;
    pm_image_save_options_t save;
    uint64_t first, count;
    int impressions;
    /* truth lines are written in finger order: slots until their turn */
    pthread_mutex_t lock;
    char **slot;
    size_t *slot_len;
    uint64_t next_write, done;
    size_t window; /* one slot per finger */
    FILE *truth;
    int failed;
    int progress;
    uint64_t cls[PM_SYNTHFP_CLASS_COUNT];
    uint64_t qual[PM_SYNTHFP_QUALITY_COUNT];
    uint64_t start_ns;
    /* ten-print mode: a subject's ten fingers gathered until complete */
    int tenprint;
    uint64_t seed;
    struct tp_subject {
        int have;
        uint8_t *wsq[10][PM_SYNTHFP_MAX_IMPRESSIONS];
        size_t len[10][PM_SYNTHFP_MAX_IMPRESSIONS];
        int w, h;
    } *subjects;
} prints_job_t;

static int write_plain(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int rc = fwrite(data, 1, len, f) == len ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

static void tp_subject_free(struct tp_subject *sj)
{
    for (int f = 0; f < 10; f++)
        for (int i = 0; i < PM_SYNTHFP_MAX_IMPRESSIONS; i++) {
            free(sj->wsq[f][i]);
            sj->wsq[f][i] = NULL;
        }
}

/* Builds and writes subject k's transactions, one per impression: Type-1,
 * Type-2 (purpose, case reference) and ten Type-14 WSQ rolled prints
 * (finger positions 1..10) through the an2k vetting builder. */
static int tp_write(prints_job_t *j, uint64_t k, struct tp_subject *sj)
{
    for (int i = 0; i < j->impressions; i++) {
        pm_an2k_finger_t fingers[10];
        for (int f = 0; f < 10; f++)
            fingers[f] = (pm_an2k_finger_t){f + 1, sj->wsq[f][i], sj->len[f][i], PM_AN2K_CMP_WSQ,
                                            sj->w, sj->h, 500};
        char tcn[64], case_ref[64];
        snprintf(tcn, sizeof tcn, "SYN%llu-%llu-%d", (unsigned long long)(j->seed % 1000000000ull),
                 (unsigned long long)k + 1, i + 1);
        snprintf(case_ref, sizeof case_ref, "SYNTH SUBJECT %llu", (unsigned long long)k + 1);
        pm_an2k_search_t q = {
            .header = {.tot = NULL, .date = "20260105", .dai = "SYNTHDAI0", .ori = "SYNTHORI0",
                       .tcn = tcn},
            .purpose = "TEST",
            .case_ref = case_ref,
            .fingers = fingers,
            .nfingers = 10,
        };
        pm_an2k_txn_t t;
        pm_error_t err = {0};
        uint8_t *data = NULL;
        size_t len = 0;
        int rc = pm_an2k_search_build(&q, &t, &err);
        /* the builder writes impression type 0 (live-scan plain): these are
         * rolled (14.003 = 1, live-scan rolled) */
        for (size_t r = 0; !rc && r < t.nrecords; r++)
            if (t.records[r].type == 14)
                rc = pm_an2k_set_text(&t.records[r], 3, "1", &err);
        if (!rc)
            rc = pm_an2k_finalize(&t, &err);
        if (!rc) {
            rc = pm_an2k_write(&t, &data, &len, &err);
            pm_an2k_free(&t);
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%llu_%d.an2", j->dir, (unsigned long long)k + 1, i + 1);
        if (rc) {
            fprintf(stderr, "synth: %s: %s\n", path, pm_error_text(&err));
            return 1;
        }
        rc = write_plain(path, data, len);
        free(data);
        if (rc) {
            fprintf(stderr, "synth: cannot write %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    return 0;
}

static void print_view_name(char *out, size_t cap, uint64_t finger, int impression, const char *ext)
{
    snprintf(out, cap, "DB%llu_B/%llu_%d.%s", (unsigned long long)(finger / PRINTS_PER_DB + 1),
             (unsigned long long)(101 + finger % PRINTS_PER_DB), impression, ext);
}


static int on_finger(void *user, const pm_synthfp_master_t *m, const pm_image_t *imgs,
                     const pm_synthfp_impression_t *truth, int n)
{
    prints_job_t *j = user;
    const char *ext = j->format == PM_IMAGE_WSQ ? "wsq" : "png";
    char rel[128], path[4096];
    if (n > PM_SYNTHFP_MAX_IMPRESSIONS)
        return 1;
    char names[PM_SYNTHFP_MAX_IMPRESSIONS][128];
    const char *files[PM_SYNTHFP_MAX_IMPRESSIONS];
    if (j->tenprint) {
        uint64_t k = (m->finger - j->first) / 10;
        int pos = (int)((m->finger - j->first) % 10);
        uint8_t *wsq[PM_SYNTHFP_MAX_IMPRESSIONS] = {0};
        size_t wlen[PM_SYNTHFP_MAX_IMPRESSIONS] = {0};
        for (int i = 0; i < n; i++) {
            pm_error_t err = {0};
            if (pm_image_encode(&imgs[i], PM_IMAGE_WSQ, &j->save, &wsq[i], &wlen[i], &err) != 0) {
                fprintf(stderr, "synth: WSQ: %s\n", pm_error_text(&err));
                for (int q = 0; q < i; q++)
                    free(wsq[q]);
                return 1;
            }
            snprintf(names[i], sizeof names[i], "%llu_%d.an2 finger %d", (unsigned long long)k + 1,
                     i + 1, pos + 1);
            files[i] = names[i];
        }
        pthread_mutex_lock(&j->lock);
        struct tp_subject *sj = &j->subjects[k];
        for (int i = 0; i < n; i++) {
            sj->wsq[pos][i] = wsq[i];
            sj->len[pos][i] = wlen[i];
        }
        sj->w = imgs[0].width;
        sj->h = imgs[0].height;
        int complete = ++sj->have == 10;
        pthread_mutex_unlock(&j->lock);
        if (complete) { /* every finger is in: no other thread touches sj now */
            int rc = tp_write(j, k, sj);
            tp_subject_free(sj);
            if (rc)
                return rc;
        }
    }
    for (int i = 0; i < n && !j->tenprint; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        pm_error_t err = {0};
        print_view_name(rel, sizeof rel, m->finger, i + 1, ext);
        snprintf(path, sizeof path, "%s/%s", j->dir, rel);
        if (pm_image_encode(&imgs[i], j->format, &j->save, &data, &len, &err) != 0) {
            fprintf(stderr, "synth: %s: %s\n", path, pm_error_text(&err));
            return 1;
        }
        int rc = write_plain(path, data, len);
        free(data);
        if (rc) {
            fprintf(stderr, "synth: cannot write %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    for (int i = 0; i < n && !j->tenprint; i++) {
        print_view_name(names[i], sizeof names[i], m->finger, i + 1, ext);
        files[i] = names[i];
    }
    pm_buf_t line = {0};
    if (pm_synthfp_truth_jsonl(m, truth, (size_t)n, files, &line) != 0) {
        pm_buf_free(&line);
        fprintf(stderr, "synth: out of memory for the truth\n");
        return 1;
    }
    uint64_t k = m->finger - j->first;
    pthread_mutex_lock(&j->lock);
    j->slot[k % j->window] = (char *)pm_buf_steal(&line, &j->slot_len[k % j->window]);
    j->cls[m->cls]++;
    for (int i = 0; i < n; i++)
        j->qual[truth[i].quality]++;
    int rc = 0;
    while (j->next_write < j->count && j->slot[j->next_write % j->window]) {
        size_t w = j->next_write % j->window;
        if (fwrite(j->slot[w], 1, j->slot_len[w], j->truth) != j->slot_len[w])
            rc = 1;
        free(j->slot[w]);
        j->slot[w] = NULL;
        j->next_write++;
    }
    j->done++;
    if (j->progress && (j->done % 4 == 0 || j->done == j->count)) {
        double s = (double)(pm_now_ns() - j->start_ns) / 1e9;
        fprintf(stderr, "\rsynth prints: %llu/%llu fingers, %.0f images/s ",
                (unsigned long long)j->done, (unsigned long long)j->count,
                s > 0 ? (double)j->done * n / s : 0.0);
    }
    pthread_mutex_unlock(&j->lock);
    if (rc)
        fprintf(stderr, "synth: writing the truth failed: %s\n", strerror(errno));
    return rc;
}

static void prints_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter synth prints --out DIR [--fingers N] [--impressions M] [--seed S]\n"
            "                              [--format png|wsq] [--size WxH] [--threads T]\n"
            "                              [--difficulty D] [--class C] [--truth FILE]\n"
            "                              [--no-minutiae] [--tenprint N]\n"
            "  Generates N synthetic fingers (default 100) with M impressions each (default 8)\n"
            "  as DIR/DBk_B/<101..110>_<1..M>.png (ten fingers per DBk_B folder, as in FVC,\n"
            "  so `perimeter eval fvc DIR` runs on it) and the ground truth as JSON Lines\n"
            "  (default DIR/truth.jsonl: class, singular points, master minutiae, and per\n"
            "  impression the quality kind, transformation and mapped minutiae).\n"
            "  --size WxH      impression size at 500 ppi, 256..1024 each (default: a sensor\n"
            "                  per DBn_B folder with the FVC2002 sizes 388x374, 296x560,\n"
            "                  300x300, 288x384 in turn)\n"
            "  --threads T     worker threads (default: online CPUs); output does not depend on it\n"
            "  --difficulty D  0..3 (default 1): displacement, rotation, distortion, noise and\n"
            "                  the share of dry/wet/smudged/partial captures\n"
            "  --class C       only arch, tented_arch, left_loop, right_loop or whorl\n"
            "  --no-minutiae   skip extracting the masters' minutiae (faster, no minutiae truth)\n"
            "  --tenprint N    instead: N subjects, each M ANSI/NIST transactions DIR/<s>_<m>.an2\n"
            "                  (Type-1, Type-2, ten Type-14 WSQ rolled prints, 800x750 unless\n"
            "                  --size) for the vetting workflow; fingers 10(s-1)..10(s-1)+9 of\n"
            "                  the truth are subject s's positions 1..10\n");
}

int pm_cmd_synth_prints(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},        {"fingers", required_argument, 0, 'n'},
        {"impressions", required_argument, 0, 'm'}, {"seed", required_argument, 0, 's'},
        {"format", required_argument, 0, 'f'},     {"size", required_argument, 0, 'z'},
        {"threads", required_argument, 0, 't'},    {"difficulty", required_argument, 0, 'd'},
        {"class", required_argument, 0, 'c'},      {"truth", required_argument, 0, 'T'},
        {"no-minutiae", no_argument, 0, 'N'},      {"help", no_argument, 0, 'h'},
        {"tenprint", required_argument, 0, 'P'},
        {0, 0, 0, 0}};
    pm_synthfp_params_t p;
    pm_synthfp_params_default(&p);
    const char *dir = NULL, *truth_path = NULL;
    uint64_t fingers = 100, impressions = 8, threads = 0;
    int no_minutiae = 0;
    uint64_t tenprint = 0;
    pm_image_format_t format = PM_IMAGE_PNG;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    threads = ncpu > 0 ? (uint64_t)ncpu : 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:n:m:s:f:z:t:d:c:T:NhP:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': dir = optarg; break;
        case 'n':
            if (parse_u64(optarg, "--fingers", PM_SYNTHFP_MAX_FINGERS, &fingers)) return 2;
            break;
        case 'm':
            if (parse_u64(optarg, "--impressions", PM_SYNTHFP_MAX_IMPRESSIONS, &impressions))
                return 2;
            break;
        case 's':
            if (parse_u64(optarg, "--seed", UINT64_MAX, &p.seed)) return 2;
            break;
        case 'f':
            if (strcmp(optarg, "png") == 0) format = PM_IMAGE_PNG;
            else if (strcmp(optarg, "wsq") == 0) format = PM_IMAGE_WSQ;
            else {
                fprintf(stderr, "synth: --format must be png or wsq\n");
                return 2;
            }
            break;
        case 'z': {
            char *x = strchr(optarg, 'x');
            uint64_t w, h;
            char ws[16];
            if (!x || x - optarg >= (ptrdiff_t)sizeof ws) {
                fprintf(stderr, "synth: --size wants WxH, e.g. 400x400\n");
                return 2;
            }
            memcpy(ws, optarg, (size_t)(x - optarg));
            ws[x - optarg] = 0;
            if (parse_u64(ws, "--size width", PM_SYNTHFP_MAX_DIM, &w) ||
                parse_u64(x + 1, "--size height", PM_SYNTHFP_MAX_DIM, &h))
                return 2;
            p.width = (int)w;
            p.height = (int)h;
            break;
        }
        case 't':
            if (parse_u64(optarg, "--threads", PM_SYNTHFP_MAX_THREADS, &threads)) return 2;
            break;
        case 'd': {
            char *end;
            errno = 0;
            p.difficulty = strtod(optarg, &end);
            if (errno || *end || end == optarg) {
                fprintf(stderr, "synth: --difficulty '%s' is not a number\n", optarg);
                return 2;
            }
            break;
        }
        case 'c': {
            int found = -1;
            for (int k = 0; k < PM_SYNTHFP_CLASS_COUNT; k++)
                if (strcmp(optarg, pm_synthfp_class_name((pm_synthfp_class_t)k)) == 0)
                    found = k;
            if (found < 0) {
                fprintf(stderr, "synth: unknown class '%s'\n", optarg);
                return 2;
            }
            p.force_class = found;
            break;
        }
        case 'T': truth_path = optarg; break;
        case 'N': no_minutiae = 1; break;
        case 'P':
            if (parse_u64(optarg, "--tenprint", PM_SYNTHFP_MAX_FINGERS / 10, &tenprint)) return 2;
            if (tenprint == 0) {
                fprintf(stderr, "synth: --tenprint needs at least 1 subject\n");
                return 2;
            }
            break;
        case 'h': prints_usage(stdout); return 0;
        default: prints_usage(stderr); return 2;
        }
    }
    if (!dir || optind != argc) {
        prints_usage(stderr);
        return 2;
    }
    pm_error_t err = {0};
    if (tenprint) {
        fingers = tenprint * 10;
        p.rolled = 1;
    }
    if (fingers == 0 || impressions == 0) {
        fprintf(stderr, "synth: --fingers and --impressions must be at least 1\n");
        return 2;
    }
    if (pm_synthfp_params_check(&p, &err) != 0) {
        fprintf(stderr, "synth: %s\n", pm_error_text(&err));
        return 2;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "synth: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char path[4096];
    for (uint64_t k = 0; !tenprint && k < (fingers + PRINTS_PER_DB - 1) / PRINTS_PER_DB; k++) {
        snprintf(path, sizeof path, "%s/DB%llu_B", dir, (unsigned long long)k + 1);
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "synth: cannot create %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    char tpath[4096];
    if (!truth_path) {
        snprintf(tpath, sizeof tpath, "%s/truth.jsonl", dir);
        truth_path = tpath;
    }
    prints_job_t j;
    memset(&j, 0, sizeof j);
    j.dir = dir;
    j.format = format;
    j.first = 0;
    j.count = fingers;
    j.impressions = (int)impressions;
    j.window = (size_t)fingers;
    j.slot = calloc(j.window, sizeof *j.slot);
    j.slot_len = calloc(j.window, sizeof *j.slot_len);
    j.truth = fopen(truth_path, "w");
    j.tenprint = tenprint != 0;
    j.seed = p.seed;
    if (tenprint && !(j.subjects = calloc((size_t)tenprint, sizeof *j.subjects))) {
        fprintf(stderr, "synth: out of memory for %llu subjects\n", (unsigned long long)tenprint);
        return 1;
    }
    j.progress = isatty(2);
    pthread_mutex_init(&j.lock, NULL);
    if (!j.slot || !j.slot_len || !j.truth) {
        fprintf(stderr, "synth: cannot write %s: %s\n", truth_path, strerror(errno));
        return 1;
    }
    pm_extractor_t *ex = NULL;
    if (!no_minutiae && pm_extractor_create(&ex, &err) != 0) {
        fprintf(stderr, "synth: %s\n", pm_error_text(&err));
        return 1;
    }
    j.start_ns = pm_now_ns();
    int rc = pm_synthfp_run(&p, 0, fingers, (int)impressions, (int)threads, ex, on_finger, &j,
                            &err);
    double secs = (double)(pm_now_ns() - j.start_ns) / 1e9;
    if (j.progress)
        fprintf(stderr, "\n");
    pm_extractor_free(ex);
    for (size_t k = 0; k < j.window; k++)
        free(j.slot[k]);
    free(j.slot);
    free(j.slot_len);
    for (uint64_t k = 0; k < tenprint; k++)
        tp_subject_free(&j.subjects[k]);
    free(j.subjects);
    int close_rc = 0;
    if (fflush(j.truth) != 0 || fsync(fileno(j.truth)) != 0)
        close_rc = 1;
    if (fclose(j.truth) != 0)
        close_rc = 1;
    /* images were written without a sync each: one file-system sync at the end */
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        if (syncfs(dfd) != 0)
            close_rc = 1;
        close(dfd);
    }
    pthread_mutex_destroy(&j.lock);
    if (rc) {
        if (rc < 0)
            fprintf(stderr, "synth: %s\n", pm_error_text(&err));
        return 1;
    }
    if (close_rc) {
        fprintf(stderr, "synth: writing %s failed: %s\n", truth_path, strerror(errno));
        return 1;
    }
    uint64_t nimg = fingers * impressions;
    char size[64] = "FVC2002 sensor sizes";
    if (p.width)
        snprintf(size, sizeof size, "%dx%d", p.width, p.height);
    else if (tenprint)
        snprintf(size, sizeof size, "rolled 800x750, %llu ANSI/NIST transactions",
                 (unsigned long long)(tenprint * impressions));
    printf("wrote %llu images (%llu fingers x %llu impressions, %s, %s) and %s\n",
           (unsigned long long)nimg, (unsigned long long)fingers, (unsigned long long)impressions,
           size, format == PM_IMAGE_WSQ || tenprint ? "wsq" : "png", truth_path);
    printf("time %.2f s on %llu threads: %.1f images/s\n", secs, (unsigned long long)threads,
           secs > 0 ? (double)nimg / secs : 0.0);
    printf("classes:");
    for (int k = 0; k < PM_SYNTHFP_CLASS_COUNT; k++)
        printf(" %s %llu", pm_synthfp_class_name((pm_synthfp_class_t)k),
               (unsigned long long)j.cls[k]);
    printf("\nqualities:");
    for (int k = 0; k < PM_SYNTHFP_QUALITY_COUNT; k++)
        printf(" %s %llu", pm_synthfp_quality_name((pm_synthfp_quality_t)k),
               (unsigned long long)j.qual[k]);
    printf("\n");
    return 0;
}
