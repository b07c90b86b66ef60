/* Commands of the travel module: crossings import/export, history, bench ingest.
 * Exit codes: 0 success; 1 some rows were rejected (import); 2 usage error;
 * 3 a fatal error (I/O, database, malformed header). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_env.h"
#include "perimeter/core.h"
#include "perimeter/store.h"
#include "perimeter/travel.h"

#define EXIT_REJECTED 1
#define EXIT_USAGE 2
#define EXIT_FATAL 3

static int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static pm_store_t *open_store(const char *path, int create)
{
    pm_store_options_t o = {PM_STORE_DURABLE_FULL, create, 0, 0};
    pm_store_t *st = NULL;
    pm_error_t e;
    pm_error_clear(&e);
    path = pm__cli_db_path(path);
    if (pm_store_open(path, &o, &st, &e) != PM_OK) {
        fprintf(stderr, "perimeter: database %s: %s\n", path, pm_error_text(&e));
        return NULL;
    }
    return st;
}

/* ---------------------------------------------------------------- import */

struct import_ctx {
    uint64_t reported;
    uint64_t max_report;
    int tty;
};

static void on_reject(void *ctx, uint64_t line, pm_crossing_field_t field, const pm_error_t *e)
{
    struct import_ctx *ic = ctx;
    (void)line;
    (void)field;
    if (ic->reported++ < ic->max_report)
        fprintf(stderr, "perimeter: rejected: %s\n", e->msg);
    else if (ic->reported == ic->max_report + 1)
        fprintf(stderr, "perimeter: (further rejected rows not shown)\n");
}

static void on_batch(void *ctx, uint64_t rows, uint64_t stored)
{
    struct import_ctx *ic = ctx;
    if (ic->tty)
        fprintf(stderr, "\r%" PRIu64 " rows read, %" PRIu64 " new stored", rows, stored);
}

static void import_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter crossings import [options] FILE|-\n"
            "  --db PATH            database (default $PERIMETER_DB or ./perimeter.db)\n"
            "  --format csv|jsonl   input format (default: by extension; required for -)\n"
            "  --strict             reject the whole input if any row is bad\n"
            "  --from-partner CODE  input is partner CODE's feed: its entries become our exits\n"
            "  --batch N            rows per committed transaction (default 20000)\n"
            "  --max-errors N       rejected rows to print (default 100)\n"
            "Exit: 0 all rows good, 1 rows rejected, 2 usage, 3 fatal error.\n");
}

int pm_cmd_crossings_import(int argc, char **argv);
int pm_cmd_crossings_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},    {"format", required_argument, NULL, 'f'},
        {"strict", no_argument, NULL, 's'},      {"from-partner", required_argument, NULL, 'p'},
        {"batch", required_argument, NULL, 'b'}, {"max-errors", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *partner = NULL;
    pm_crossing_format_t fmt = PM_CROSSING_FORMAT_AUTO;
    int64_t batch = 0, max_errors = 100;
    int strict = 0, ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'f':
            if (strcmp(optarg, "csv") == 0)
                fmt = PM_CROSSING_FORMAT_CSV;
            else if (strcmp(optarg, "jsonl") == 0)
                fmt = PM_CROSSING_FORMAT_JSONL;
            else {
                fprintf(stderr, "perimeter: --format must be csv or jsonl\n");
                return EXIT_USAGE;
            }
            break;
        case 's': strict = 1; break;
        case 'p': partner = optarg; break;
        case 'b':
            if (parse_i64(optarg, 1, 10000000, &batch)) {
                fprintf(stderr, "perimeter: --batch wants 1..10000000\n");
                return EXIT_USAGE;
            }
            break;
        case 'm':
            if (parse_i64(optarg, 0, INT64_MAX, &max_errors)) {
                fprintf(stderr, "perimeter: --max-errors wants a number\n");
                return EXIT_USAGE;
            }
            break;
        case 'h': import_usage(stdout); return 0;
        default: import_usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        import_usage(stderr);
        return EXIT_USAGE;
    }
    const char *path = argv[optind];
    if (fmt == PM_CROSSING_FORMAT_AUTO)
        fmt = pm_crossing_format_for_path(path);
    if (fmt == PM_CROSSING_FORMAT_AUTO) {
        fprintf(stderr, "perimeter: cannot tell the format of '%s'; use --format csv|jsonl\n",
                path);
        return EXIT_USAGE;
    }
    if (partner && (strlen(partner) != 3 || !pm_country_is_iso(partner))) {
        fprintf(stderr, "perimeter: --from-partner wants an ISO 3166-1 alpha-3 code\n");
        return EXIT_USAGE;
    }
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "perimeter: %s: %s\n", path, strerror(errno));
        return EXIT_FATAL;
    }
    pm_store_t *st = open_store(db, 1);
    if (!st) {
        if (fd != STDIN_FILENO)
            close(fd);
        return EXIT_FATAL;
    }
    pm_error_t e;
    pm_error_clear(&e);
    pm_crossing_reader_t *r = NULL;
    int rc = pm_crossing_reader_open_fd(fd, fmt, &r, &e);
    pm_import_stats_t stats = {0, 0, 0, 0, -1};
    struct import_ctx ic = {0, (uint64_t)max_errors, isatty(STDERR_FILENO)};
    if (!rc) {
        pm_import_options_t o = {(size_t)batch, strict, partner, on_reject, on_batch, &ic};
        rc = pm_crossings_import(st, r, &o, &stats, &e);
    }
    if (ic.tty)
        fprintf(stderr, "\n");
    pm_crossing_reader_free(r);
    pm_store_close(st);
    if (fd != STDIN_FILENO)
        close(fd);
    fprintf(stderr,
            "perimeter: %s: %" PRIu64 " rows, %" PRIu64 " stored, %" PRIu64
            " already present, %" PRIu64 " rejected%s\n",
            path, stats.rows, stats.stored, stats.duplicates, stats.rejected,
            strict && stats.rejected ? " (strict: nothing stored)" : "");
    if (partner && stats.last_cursor >= 0)
        fprintf(stderr, "perimeter: partner %s feed cursor %" PRId64 "%s\n", partner,
                stats.last_cursor, rc == PM_OK || rc == PM_EPARTIAL ? " (stored)" : "");
    if (rc == PM_OK)
        return 0;
    if (rc == PM_EPARTIAL || rc == PM_EVALIDATION)
        return EXIT_REJECTED;
    fprintf(stderr, "perimeter: import failed: %s\n", pm_error_text(&e));
    return EXIT_FATAL;
}

/* ---------------------------------------------------------------- export */

static int flush_buf(pm_buf_t *b, FILE *out)
{
    if (b->len && fwrite(b->data, 1, b->len, out) != b->len)
        return -1;
    pm_buf_reset(b);
    return 0;
}

static void export_usage(FILE *out)
{
    fprintf(out, "usage: perimeter crossings export [--db PATH] [--since CURSOR] [--limit N] "
                 "[-o FILE]\n"
                 "Writes our own entries after CURSOR as the partner feed (JSON Lines, each with\n"
                 "its \"cursor\"); the last cursor is printed on stderr.\n");
}

int pm_cmd_crossings_export(int argc, char **argv);
int pm_cmd_crossings_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},    {"since", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'l'}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *outpath = NULL;
    int64_t since = 0, limit = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 's':
            if (parse_i64(optarg, 0, INT64_MAX, &since)) {
                fprintf(stderr, "perimeter: --since wants a cursor (a non-negative integer)\n");
                return EXIT_USAGE;
            }
            break;
        case 'l':
            if (parse_i64(optarg, 1, INT64_MAX, &limit)) {
                fprintf(stderr, "perimeter: --limit wants a positive number\n");
                return EXIT_USAGE;
            }
            break;
        case 'o': outpath = optarg; break;
        case 'h': export_usage(stdout); return 0;
        default: export_usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        export_usage(stderr);
        return EXIT_USAGE;
    }
    pm_store_t *st = open_store(db, 0);
    if (!st)
        return EXIT_FATAL;
    FILE *out = stdout;
    if (outpath && strcmp(outpath, "-") != 0 && !(out = fopen(outpath, "w"))) {
        fprintf(stderr, "perimeter: %s: %s\n", outpath, strerror(errno));
        pm_store_close(st);
        return EXIT_FATAL;
    }
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_STORE_ID;
    f.after_store_id = since;
    f.direction = PM_DIRECTION_ENTRY;
    f.origin_filter = PM_ORIGIN_LOCAL;
    f.limit = limit;
    pm_error_t e;
    pm_error_clear(&e);
    pm_crossing_iter_t *it = NULL;
    int rc = pm_store_crossings(st, &f, &it, &e);
    pm_buf_t b;
    pm_buf_init(&b, 0);
    pm_crossing_t c;
    int64_t n = 0, cursor = since;
    while (!rc && (rc = pm_crossing_iter_next(it, &c, &e)) == 1) {
        rc = pm_crossing_to_jsonl(&c, c.store_id, &b);
        if (rc) {
            pm_error_set(&e, rc, "export: %s", pm_strerror(rc));
            break;
        }
        cursor = c.store_id;
        n++;
        if (b.len > (1u << 20) && flush_buf(&b, out)) {
            rc = pm_error_set(&e, PM_EIO, "write: %s", strerror(errno));
            break;
        }
    }
    if (rc == 0 && flush_buf(&b, out))
        rc = pm_error_set(&e, PM_EIO, "write: %s", strerror(errno));
    pm_buf_free(&b);
    pm_crossing_iter_close(it);
    pm_store_close(st);
    if (out != stdout) {
        if (fclose(out) != 0 && rc == 0)
            rc = pm_error_set(&e, PM_EIO, "%s: %s", outpath, strerror(errno));
    } else if (fflush(stdout) != 0 && rc == 0) {
        rc = pm_error_set(&e, PM_EIO, "stdout: %s", strerror(errno));
    }
    if (rc < 0) {
        fprintf(stderr, "perimeter: export failed: %s\n", pm_error_text(&e));
        return EXIT_FATAL;
    }
    fprintf(stderr, "perimeter: exported %" PRId64 " entries; next: --since %" PRId64 "\n", n,
            cursor);
    return 0;
}

/* ---------------------------------------------------------------- history */

static void history_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter history [--db PATH] [--json] --document NUMBER --issuer CODE\n"
            "       perimeter history [--db PATH] [--json] --surname S [--given G] --dob DATE\n"
            "Lists the crossings of one document, or of one exact (normalised) name and date\n"
            "of birth, in time order.\n");
}

int pm_cmd_history(int argc, char **argv);
int pm_cmd_history(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},      {"document", required_argument, NULL, 'n'},
        {"issuer", required_argument, NULL, 'i'},  {"surname", required_argument, NULL, 's'},
        {"given", required_argument, NULL, 'g'},   {"dob", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *doc = NULL, *issuer = NULL, *surname = NULL, *given = NULL,
               *dob = NULL;
    int json = 0, ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'n': doc = optarg; break;
        case 'i': issuer = optarg; break;
        case 's': surname = optarg; break;
        case 'g': given = optarg; break;
        case 'b': dob = optarg; break;
        case 'j': json = 1; break;
        case 'h': history_usage(stdout); return 0;
        default: history_usage(stderr); return EXIT_USAGE;
        }
    }
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_TIME;
    pm_error_t e;
    pm_error_clear(&e);
    pm_crossing_t probe;
    pm_crossing_init(&probe);
    if (optind != argc || (!doc == !surname) || (doc && !issuer) || (surname && !dob) ||
        (doc && (surname || given || dob)) || (surname && issuer)) {
        history_usage(stderr);
        return EXIT_USAGE;
    }
    if (doc) {
        if (pm_crossing_set_field(&probe, PM_CF_DOCUMENT_NUMBER, doc, strlen(doc), &e) ||
            pm_crossing_set_field(&probe, PM_CF_DOCUMENT_ISSUER, issuer, strlen(issuer), &e)) {
            fprintf(stderr, "perimeter: %s\n", pm_error_text(&e));
            return EXIT_USAGE;
        }
        memcpy(f.document_number, probe.document_number, sizeof f.document_number);
        memcpy(f.document_issuer, probe.document_issuer, sizeof f.document_issuer);
    } else {
        if (pm_name_normalize(surname, strlen(surname), f.surname_norm, sizeof f.surname_norm,
                              &e) ||
            (given && pm_name_normalize(given, strlen(given), f.given_names_norm,
                                        sizeof f.given_names_norm, &e)) ||
            pm_dob_parse(dob, strlen(dob), &f.dob, &e)) {
            fprintf(stderr, "perimeter: %s\n", pm_error_text(&e));
            return EXIT_USAGE;
        }
        if (!f.surname_norm[0]) {
            fprintf(stderr, "perimeter: --surname is empty\n");
            return EXIT_USAGE;
        }
    }
    pm_store_t *st = open_store(db, 0);
    if (!st)
        return EXIT_FATAL;
    pm_crossing_iter_t *it = NULL;
    int rc = pm_store_crossings(st, &f, &it, &e);
    json_t *arr = json ? json_array() : NULL;
    pm_buf_t line;
    pm_buf_init(&line, 0);
    pm_crossing_t c;
    int64_t n = 0;
    if (!rc && !json)
        printf("%-25s %-5s %-3s %-5s %-10s %-7s %-11s %-20s %s\n", "time (local)", "dir", "rep",
               "port", "mode", "origin", "birth", "document", "name");
    while (!rc && (rc = pm_crossing_iter_next(it, &c, &e)) == 1) {
        rc = 0;
        n++;
        char ts[32], db_[16];
        pm_timestamp_format(c.time_utc, c.utc_offset_min, ts);
        pm_dob_format(&c.dob, db_);
        if (json) {
            pm_buf_reset(&line);
            pm_crossing_to_jsonl(&c, -1, &line);
            json_t *o = json_loadb((const char *)line.data, line.len, 0, NULL);
            if (o) {
                json_object_set_new(o, "origin", c.origin[0] ? json_string(c.origin) : json_null());
                json_object_set_new(o, "store_id", json_integer(c.store_id));
                json_array_append_new(arr, o);
            }
        } else {
            char doc_[40];
            snprintf(doc_, sizeof doc_, "%s %s/%s", c.document_type, c.document_number,
                     c.document_issuer);
            printf("%-25s %-5s %-3s %-5s %-10s %-7s %-11s %-20s %s, %s%s%s\n", ts,
                   pm_direction_name(c.direction), c.reporting_country, c.port_code,
                   pm_mode_name(c.mode), c.origin[0] ? c.origin : "-", db_, doc_, c.surname,
                   c.given_names, c.middle_names[0] ? " " : "", c.middle_names);
        }
    }
    pm_buf_free(&line);
    pm_crossing_iter_close(it);
    pm_store_close(st);
    if (rc < 0) {
        json_decref(arr);
        fprintf(stderr, "perimeter: history: %s\n", pm_error_text(&e));
        return EXIT_FATAL;
    }
    if (json) {
        json_t *top = json_pack("{s:I, s:o}", "count", (json_int_t)n, "crossings", arr);
        char *s = json_dumps(top, JSON_INDENT(2));
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(top);
    } else {
        printf("%" PRId64 " crossing%s\n", n, n == 1 ? "" : "s");
    }
    return 0;
}

/* ---------------------------------------------------------------- bench ingest */

static int write_file(const char *path, const pm_buf_t *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        fprintf(stderr, "perimeter: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int bad = b->len && fwrite(b->data, 1, b->len, f) != b->len;
    bad |= f == stdout ? fflush(f) != 0 : fclose(f) != 0;
    if (bad)
        fprintf(stderr, "perimeter: %s: write failed\n", path);
    return bad ? -1 : 0;
}

/* CPU seconds used by this process (all of it runs on one thread). */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses and validates every row of data without storing; returns rows per
 * CPU second or -1. */
static double bench_parse(const char *data, size_t len, pm_crossing_format_t fmt,
                          uint64_t *out_rows, uint64_t *out_rejected)
{
    pm_crossing_reader_t *r = NULL;
    pm_error_t e;
    if (pm_crossing_reader_open_mem(data, len, fmt, &r, &e))
        return -1;
    pm_crossing_t c;
    uint64_t rows = 0, rejected = 0;
    double t0 = cpu_seconds();
    int rc;
    while ((rc = pm_crossing_reader_next(r, &c, NULL, &e)) != 0) {
        rejected += rc == PM_EVALIDATION;
        if (rc < 0 && rc != PM_EVALIDATION) {
            fprintf(stderr, "perimeter: bench: %s\n", pm_error_text(&e));
            pm_crossing_reader_free(r);
            return -1;
        }
        rows++;
    }
    double s = cpu_seconds() - t0;
    pm_crossing_reader_free(r);
    *out_rows = rows;
    *out_rejected = rejected;
    return s > 0 ? (double)rows / s : 0;
}

/* Imports data into a fresh database under dir; returns rows per wall-clock
 * second (and per CPU second in *out_cpu_rate) or -1. */
static double bench_import(const char *data, size_t len, pm_crossing_format_t fmt,
                           const char *dir, int run, pm_store_durability_t dur, size_t batch,
                           uint64_t *out_stored, double *out_cpu_rate)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bench-%d.db", dir, run);
    pm_store_options_t o = {dur, 1, 0, 0};
    pm_store_t *st = NULL;
    pm_error_t e;
    pm_error_clear(&e);
    double rate = -1;
    pm_crossing_reader_t *r = NULL;
    if (pm_store_open(path, &o, &st, &e) ||
        pm_crossing_reader_open_mem(data, len, fmt, &r, &e)) {
        fprintf(stderr, "perimeter: bench: %s\n", pm_error_text(&e));
        goto out;
    }
    pm_import_options_t io = {batch, 0, NULL, NULL, NULL, NULL};
    pm_import_stats_t stats;
    uint64_t t0 = pm_now_ns();
    double c0 = cpu_seconds();
    int rc = pm_crossings_import(st, r, &io, &stats, &e);
    pm_store_close(st); /* includes the final WAL checkpoint, part of the cost */
    st = NULL;
    double s = (double)(pm_now_ns() - t0) / 1e9;
    double cs = cpu_seconds() - c0;
    *out_cpu_rate = cs > 0 ? (double)stats.rows / cs : 0;
    if (rc && rc != PM_EPARTIAL) {
        fprintf(stderr, "perimeter: bench: %s\n", pm_error_text(&e));
        goto out;
    }
    *out_stored = stats.stored;
    rate = s > 0 ? (double)stats.rows / s : 0;
out:
    pm_crossing_reader_free(r);
    pm_store_close(st);
    char side[4200];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return rate;
}

static void bench_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter bench ingest [--rows N] [--file F [--format csv|jsonl]] [--repeat K]\n"
            "                              [--durability normal|full] [--batch N] [--dir DIR]\n"
            "       perimeter bench ingest --rows N [--seed S] [--country C] --write-csv F | "
            "--write-jsonl F\n"
            "Generates N sample rows in memory (or reads F into memory first: reading the file\n"
            "is not timed), then measures rows/s for parsing + validation alone and for import\n"
            "into a fresh database, CSV and JSON Lines, median of K runs, at both durabilities\n"
            "(synchronous=FULL, the store's default, and NORMAL) unless --durability picks one.\n"
            "--write-* only writes the generated rows and exits.\n");
}

struct bench_input {
    const char *name;
    pm_crossing_format_t fmt;
    const char *data;
    size_t len;
};

int pm_cmd_bench_ingest(int argc, char **argv);
int pm_cmd_bench_ingest(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rows", required_argument, NULL, 'n'},       {"file", required_argument, NULL, 'f'},
        {"format", required_argument, NULL, 'F'},     {"repeat", required_argument, NULL, 'r'},
        {"durability", required_argument, NULL, 'D'}, {"batch", required_argument, NULL, 'b'},
        {"dir", required_argument, NULL, 'd'},        {"seed", required_argument, NULL, 's'},
        {"country", required_argument, NULL, 'c'},    {"write-csv", required_argument, NULL, 'C'},
        {"write-jsonl", required_argument, NULL, 'J'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int64_t rows = 200000, repeat = 3, seed = 1, batch = 0;
    const char *file = NULL, *dir = NULL, *country = "CAN", *wcsv = NULL, *wjsonl = NULL;
    pm_crossing_format_t ffmt = PM_CROSSING_FORMAT_AUTO;
    pm_store_durability_t durs[2] = {PM_STORE_DURABLE_FULL, PM_STORE_DURABLE_NORMAL};
    int ndurs = 2;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            if (parse_i64(optarg, 1, 100000000, &rows))
                goto usage;
            break;
        case 'f': file = optarg; break;
        case 'F':
            ffmt = strcmp(optarg, "csv") == 0     ? PM_CROSSING_FORMAT_CSV
                   : strcmp(optarg, "jsonl") == 0 ? PM_CROSSING_FORMAT_JSONL
                                                  : PM_CROSSING_FORMAT_AUTO;
            if (ffmt == PM_CROSSING_FORMAT_AUTO)
                goto usage;
            break;
        case 'r':
            if (parse_i64(optarg, 1, 100, &repeat))
                goto usage;
            break;
        case 'D':
            if (strcmp(optarg, "normal") == 0)
                durs[0] = PM_STORE_DURABLE_NORMAL;
            else if (strcmp(optarg, "full") == 0)
                durs[0] = PM_STORE_DURABLE_FULL;
            else
                goto usage;
            ndurs = 1;
            break;
        case 'b':
            if (parse_i64(optarg, 1, 100000000, &batch))
                goto usage;
            break;
        case 'd': dir = optarg; break;
        case 's':
            if (parse_i64(optarg, 0, INT64_MAX, &seed))
                goto usage;
            break;
        case 'c':
            if (!pm_country_is_iso(optarg))
                goto usage;
            country = optarg;
            break;
        case 'C': wcsv = optarg; break;
        case 'J': wjsonl = optarg; break;
        case 'h': bench_usage(stdout); return 0;
        default: goto usage;
        }
    }
    if (optind != argc)
        goto usage;

    pm_buf_t csv, jsonl;
    pm_buf_init(&csv, 0);
    pm_buf_init(&jsonl, 0);
    uint8_t *filedata = NULL;
    size_t filelen = 0;
    pm_error_t e;
    if (file) {
        if (ffmt == PM_CROSSING_FORMAT_AUTO)
            ffmt = pm_crossing_format_for_path(file);
        if (ffmt == PM_CROSSING_FORMAT_AUTO)
            goto usage;
        if (pm_file_read(file, (size_t)1 << 34, &filedata, &filelen, &e)) {
            fprintf(stderr, "perimeter: %s\n", pm_error_text(&e));
            return EXIT_FATAL;
        }
    } else {
        int tty = isatty(STDERR_FILENO);
        pm_crossing_t c;
        int rc = pm_crossing_csv_header(&csv);
        for (int64_t i = 0; i < rows && !rc; i++) {
            pm_crossing_sample((uint64_t)seed, (uint64_t)i, country, &c);
            rc = pm_crossing_to_csv(&c, &csv);
            rc = rc ? rc : pm_crossing_to_jsonl(&c, -1, &jsonl);
            if (tty && i % 100000 == 0)
                fprintf(stderr, "\rgenerating %" PRId64 "/%" PRId64, i, rows);
        }
        if (tty)
            fprintf(stderr, "\r%40s\r", "");
        if (rc) {
            fprintf(stderr, "perimeter: generating rows: %s\n", pm_strerror(rc));
            pm_buf_free(&csv);
            pm_buf_free(&jsonl);
            return EXIT_FATAL;
        }
    }
    if (wcsv || wjsonl) {
        int bad = (wcsv && write_file(wcsv, &csv)) || (wjsonl && write_file(wjsonl, &jsonl));
        pm_buf_free(&csv);
        pm_buf_free(&jsonl);
        free(filedata);
        return bad ? EXIT_FATAL : 0;
    }

    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/perimeter-bench-XXXXXX",
             dir ? dir : (getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"));
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "perimeter: %s: %s\n", tmpl, strerror(errno));
        return EXIT_FATAL;
    }
    struct bench_input inputs[2];
    int ninputs = 0;
    if (file) {
        inputs[ninputs++] = (struct bench_input){ffmt == PM_CROSSING_FORMAT_CSV ? "csv" : "jsonl",
                                                ffmt, (const char *)filedata, filelen};
    } else {
        inputs[ninputs++] = (struct bench_input){"csv", PM_CROSSING_FORMAT_CSV,
                                                (const char *)csv.data, csv.len};
        inputs[ninputs++] = (struct bench_input){"jsonl", PM_CROSSING_FORMAT_JSONL,
                                                (const char *)jsonl.data, jsonl.len};
    }
    printf("bench ingest: %s (in memory; file reading not timed), SQLite WAL, batch %" PRId64
           ", median of %" PRId64 " runs\n",
           file ? file : "generated sample rows", batch ? batch : 20000, repeat);
    printf("%-6s %-6s %9s %8s %7s %15s %15s %15s %6s\n", "format", "sync", "rows", "rejected",
           "MB", "validate/cpu-s", "import/cpu-s", "import/wall-s", "ratio");
    int status = 0;
    for (int k = 0; k < ninputs; k++) {
        double parse[100];
        uint64_t nrows = 0, rejected = 0;
        for (int64_t i = 0; i < repeat; i++) {
            parse[i] = bench_parse(inputs[k].data, inputs[k].len, inputs[k].fmt, &nrows, &rejected);
            if (parse[i] < 0)
                status = EXIT_FATAL;
        }
        double mp = pm_median(parse, (size_t)repeat);
        for (int d = 0; d < ndurs; d++) {
            double import[100], import_cpu[100];
            uint64_t stored = 0;
            for (int64_t i = 0; i < repeat; i++) {
                import[i] = bench_import(inputs[k].data, inputs[k].len, inputs[k].fmt, tmpl, (int)i,
                                         durs[d], (size_t)batch, &stored, &import_cpu[i]);
                if (import[i] < 0)
                    status = EXIT_FATAL;
            }
            double mi = pm_median(import, (size_t)repeat), mc = pm_median(import_cpu, (size_t)repeat);
            printf("%-6s %-6s %9" PRIu64 " %8" PRIu64 " %7.1f %15.0f %15.0f %15.0f %6.2f\n",
                   inputs[k].name, durs[d] == PM_STORE_DURABLE_NORMAL ? "NORMAL" : "FULL", nrows,
                   rejected, (double)inputs[k].len / 1e6, mp, mc, mi, mp > 0 ? mc / mp : 0);
            if (stored + rejected != nrows)
                printf("       (%" PRIu64 " of %" PRIu64 " rows stored, %" PRIu64
                       " rejected; the rest were duplicates)\n",
                       stored, nrows, rejected);
        }
    }
    printf("rows = every row read, rejected ones included (counted apart: they are validated\n"
           "but not stored); validate = parse + validate only; import = parse + validate + store\n"
           "into a fresh database, final WAL checkpoint included (rows per CPU second of this\n"
           "single-threaded process, and per wall-clock second); ratio = import/cpu-s over\n"
           "validate/cpu-s. sync FULL is the store's default durability (an fsync per commit).\n");
    rmdir(tmpl);
    pm_buf_free(&csv);
    pm_buf_free(&jsonl);
    free(filedata);
    return status;
usage:
    bench_usage(stderr);
    return EXIT_USAGE;
}

/* ---------------------------------------------------------------- stats */

int pm_cmd_crossings_stats(int argc, char **argv);
int pm_cmd_crossings_stats(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    int json = 0, ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'j': json = 1; break;
        case 'h':
            printf("usage: perimeter crossings stats [--db PATH] [--json]\n");
            return 0;
        default:
            fprintf(stderr, "usage: perimeter crossings stats [--db PATH] [--json]\n");
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "usage: perimeter crossings stats [--db PATH] [--json]\n");
        return EXIT_USAGE;
    }
    pm_store_t *st = open_store(db, 0);
    if (!st)
        return EXIT_FATAL;
    pm_crossing_counts_t counts = {0, 0, 0, 0};
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_store_crossing_counts(st, &counts, &e);
    const struct {
        const char *name;
        int64_t n;
    } rows[] = {
        {"total", counts.total},
        {"our entries", counts.our_entries},
        {"our exits", counts.our_exits},
        {"exits from partner feeds", counts.partner_exits},
    };
    int64_t feed_cursor = 0;
    if (!rc)
        rc = pm_store_max_store_id(st, &feed_cursor, &e);
    char partners[16][4];
    int64_t cursors[16];
    size_t npartners = 0;
    if (!rc)
        rc = pm_store_partners(st, partners, 16, &npartners, &e);
    if (npartners > 16)
        npartners = 16;
    for (size_t i = 0; i < npartners && !rc; i++)
        rc = pm_store_partner_cursor(st, partners[i], &cursors[i], &e);
    pm_store_close(st);
    if (rc) {
        fprintf(stderr, "perimeter: stats: %s\n", pm_error_text(&e));
        return EXIT_FATAL;
    }
    if (json) {
        printf("{\"total\":%" PRId64 ",\"our_entries\":%" PRId64 ",\"our_exits\":%" PRId64
               ",\"partner_exits\":%" PRId64 ",\"max_cursor\":%" PRId64 ",\"partner_cursors\":{",
               rows[0].n, rows[1].n, rows[2].n, rows[3].n, feed_cursor);
        for (size_t i = 0; i < npartners; i++)
            printf("%s\"%s\":%" PRId64, i ? "," : "", partners[i], cursors[i]);
        printf("}}\n");
    } else {
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
            printf("%-26s %12" PRId64 "\n", rows[i].name, rows[i].n);
        printf("%-26s %12" PRId64 "\n", "highest cursor", feed_cursor);
        for (size_t i = 0; i < npartners; i++)
            printf("feed of %s read up to      %12" PRId64 "\n", partners[i], cursors[i]);
    }
    return 0;
}
