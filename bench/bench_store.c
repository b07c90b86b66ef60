/* bench_store: the import rate of the same crossings into SQLite and into
 * PostgreSQL (COPY), in one process, runs interleaved so both see the same
 * machine load.
 *
 *   bench_store --pg URI [--rows N] [--repeat K] [--batch B] [--dir DIR]
 *
 * URI is a PostgreSQL cluster this program may create and drop databases in
 * (bench_store_<pid>_<run>), e.g. a throwaway one:
 *   bash tests/pg_env.sh run sh -c \
 *     'build/bench/bench_store --pg "$PERIMETER_PG_URI" --rows 200000 --repeat 5'
 * (pg_env.sh without --fast: fsync on, synchronous_commit on, the same
 * durability as SQLite's default synchronous=FULL).
 *
 * Each run: N sample rows (pm_crossing_sample, seed 1) as CSV in memory
 * (generated once, not timed) -> pm_crossings_import (parse, validate, store
 * in transactions of B rows, 20,000 by default) into a fresh SQLite file /
 * a fresh PostgreSQL database; close included. Figures: rows per wall-clock
 * second (the PostgreSQL server's CPU is in other processes, so this
 * process's CPU seconds are shown apart), medians of K runs, and the ratio
 * PostgreSQL / SQLite. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/store.h"
#include "perimeter/travel.h"

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static int admin_sql(const char *uri, const char *sql)
{
    PGconn *c = PQconnectdb(uri);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PQsetNoticeProcessor(c, quiet, NULL);
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            fprintf(stderr, "bench_store: %s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
    } else {
        fprintf(stderr, "bench_store: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

/* Imports the CSV into target; rows per wall second (and CPU rate) or -1. */
static double import_once(const char *target, const pm_buf_t *csv, size_t batch,
                          uint64_t *out_stored, double *out_cpu_rate)
{
    pm_store_t *st = NULL;
    pm_crossing_reader_t *r = NULL;
    pm_error_t e;
    pm_error_clear(&e);
    double rate = -1;
    if (pm_store_open(target, NULL, &st, &e) ||
        pm_crossing_reader_open_mem((const char *)csv->data, csv->len, PM_CROSSING_FORMAT_CSV,
                                    &r, &e)) {
        fprintf(stderr, "bench_store: %s\n", pm_error_text(&e));
        goto out;
    }
    pm_import_options_t io = {batch, 0, NULL, NULL, NULL, NULL};
    pm_import_stats_t stats;
    uint64_t t0 = pm_now_ns();
    double c0 = cpu_seconds();
    int rc = pm_crossings_import(st, r, &io, &stats, &e);
    pm_store_close(st);
    st = NULL;
    double s = (double)(pm_now_ns() - t0) / 1e9;
    double cs = cpu_seconds() - c0;
    if (rc) {
        fprintf(stderr, "bench_store: import: %s\n", pm_error_text(&e));
        goto out;
    }
    *out_stored = stats.stored;
    *out_cpu_rate = cs > 0 ? (double)stats.rows / cs : 0;
    rate = s > 0 ? (double)stats.rows / s : 0;
out:
    pm_crossing_reader_free(r);
    pm_store_close(st);
    return rate;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_store --pg URI [--rows N] [--repeat K] [--batch B] [--dir DIR]\n");
}

int main(int argc, char **argv)
{
    const char *pg = NULL, *dir = NULL;
    long long rows = 200000, repeat = 5, batch = 0;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!v) {
            usage();
            return 2;
        }
        if (!strcmp(a, "--pg"))
            pg = v;
        else if (!strcmp(a, "--dir"))
            dir = v;
        else if (!strcmp(a, "--rows"))
            rows = strtoll(v, &end, 10);
        else if (!strcmp(a, "--repeat"))
            repeat = strtoll(v, &end, 10);
        else if (!strcmp(a, "--batch"))
            batch = strtoll(v, &end, 10);
        else {
            usage();
            return 2;
        }
        if (end && *end) {
            usage();
            return 2;
        }
    }
    if (!pg || !pm_store_is_postgres(pg) || rows < 1 || repeat < 1 || repeat > 100 ||
        batch < 0) {
        usage();
        return 2;
    }
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/bench-store-XXXXXX", dir ? dir : "/tmp");
    if (!mkdtemp(tmpl)) {
        perror(tmpl);
        return 3;
    }
    pm_buf_t csv;
    pm_buf_init(&csv, 0);
    pm_crossing_t c;
    int rc = pm_crossing_csv_header(&csv);
    for (long long i = 0; i < rows && !rc; i++) {
        pm_crossing_sample(1, (uint64_t)i, "CAN", &c);
        rc = pm_crossing_to_csv(&c, &csv);
    }
    if (rc) {
        fprintf(stderr, "bench_store: generating rows: %s\n", pm_strerror(rc));
        return 3;
    }
    const char *slash = strrchr(pg, '/');
    if (!slash || strchr(slash, '?')) {
        fprintf(stderr, "bench_store: --pg must be postgresql://.../DATABASE (no parameters)\n");
        return 2;
    }
    double wall[2][100], cpu[2][100];
    uint64_t stored[2] = {0, 0};
    int status = 0;
    for (long long i = 0; i < repeat; i++) {
        char path[4200], name[64], target[4400], sql[128];
        snprintf(path, sizeof path, "%s/run-%lld.db", tmpl, i);
        wall[0][i] = import_once(path, &csv, (size_t)batch, &stored[0], &cpu[0][i]);
        char side[4300];
        unlink(path);
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
        snprintf(name, sizeof name, "bench_store_%ld_%lld", (long)getpid(), i);
        snprintf(target, sizeof target, "%.*s/%s", (int)(slash - pg), pg, name);
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
        if (admin_sql(pg, sql)) {
            status = 3;
            break;
        }
        wall[1][i] = import_once(target, &csv, (size_t)batch, &stored[1], &cpu[1][i]);
        snprintf(sql, sizeof sql, "DROP DATABASE %s", name);
        admin_sql(pg, sql);
        if (wall[0][i] < 0 || wall[1][i] < 0)
            status = 3;
        fprintf(stderr, "run %lld: sqlite %.0f rows/s, postgres %.0f rows/s\n", i + 1, wall[0][i],
                wall[1][i]);
    }
    rmdir(tmpl);
    pm_buf_free(&csv);
    if (status)
        return status;
    double m[2], mc[2];
    for (int b = 0; b < 2; b++) {
        m[b] = pm_median(wall[b], (size_t)repeat);
        mc[b] = pm_median(cpu[b], (size_t)repeat);
    }
    printf("bench_store: %lld sample rows (CSV in memory), batch %lld, median of %lld runs, "
           "interleaved\n",
           rows, batch ? batch : 20000, repeat);
    printf("%-10s %10s %15s %22s %8s\n", "backend", "stored", "import/wall-s",
           "import/cpu-s (client)", "ratio");
    printf("%-10s %10" PRIu64 " %15.0f %22.0f %8.2f\n", "sqlite", stored[0], m[0], mc[0], 1.0);
    printf("%-10s %10" PRIu64 " %15.0f %22.0f %8.2f\n", "postgres", stored[1], m[1], mc[1],
           m[0] > 0 ? m[1] / m[0] : 0);
    printf("import = parse + validate + store (pm_crossings_import) into a fresh database, close\n"
           "included; sqlite: WAL, synchronous=FULL; postgres: COPY into a staging table + one\n"
           "INSERT ... SELECT per call, synchronous_commit=on; ratio = postgres / sqlite wall rate.\n");
    return 0;
}
