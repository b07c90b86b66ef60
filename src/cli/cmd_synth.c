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
