/* Retention purge (R9) throughput: rows deleted per second by pm_jobs_purge
 * (policy decision per row, deletion with the lookup tables, one tombstone
 * per batch synced to the disclosure log, the store committed per batch),
 * against a baseline in the same process: the same rows deleted by
 * pm_store_delete_crossings in the same batches, without policy, tombstones
 * or log. Each run fills a fresh store (not timed) with N synthetic expired
 * crossings (pm_crossing_sample).
 * usage: bench_jobs [ROWS] [RUNS] [DIR] [BATCH]  (defaults 50000 3 /tmp 1024) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perimeter/audit.h"
#include "perimeter/core.h"
#include "perimeter/jobs.h"
#include "perimeter/policy.h"
#include "perimeter/store.h"
#include "perimeter/travel.h"

static void die(const char *what, const pm_error_t *e)
{
    fprintf(stderr, "bench_jobs: %s: %s\n", what, e->msg);
    exit(1);
}

static void paths(const char *dir, char *db, char *log)
{
    snprintf(db, 4096, "%s/bench_jobs_%d.db", dir, (int)getpid());
    snprintf(log, 4096, "%s/bench_jobs_%d.log", dir, (int)getpid());
    char x[4200];
    remove(db);
    remove(log);
    snprintf(x, sizeof x, "%s-wal", db);
    remove(x);
    snprintf(x, sizeof x, "%s-shm", db);
    remove(x);
}

static pm_store_t *fill(const char *db, int n)
{
    pm_store_t *st = NULL;
    pm_error_t e = {0};
    if (pm_store_open(db, NULL, &st, &e)) die("store", &e);
    pm_crossing_t *rows = calloc(1000, sizeof *rows);
    if (!rows) exit(1);
    for (int i = 0; i < n; i += 1000) {
        int k = n - i < 1000 ? n - i : 1000;
        for (int j = 0; j < k; j++) {
            pm_crossing_sample(11, (uint64_t)(i + j), "CAN", &rows[j]);
            rows[j].time_utc -= 20LL * 365 * 86400; /* 20 years old: past 15 */
        }
        if (pm_store_put_crossings(st, rows, (size_t)k, NULL, &e)) die("fill", &e);
    }
    free(rows);
    if (pm_jobs_migrate(st, &e)) die("migrate", &e);
    return st;
}

static double purge_rate(const char *dir, const pm_agreement_t *a, int n, size_t batch,
                         int baseline)
{
    char db[4096], log[4096];
    paths(dir, db, log);
    pm_store_t *st = fill(db, n);
    pm_error_t e = {0};
    pm_audit_log_t *lg = NULL;
    if (pm_audit_open(log, 1, &lg, &e)) die("log", &e);
    int64_t now = 1900000000;
    uint64_t t0 = pm_now_ns(), done = 0;
    if (baseline) {
        int64_t *ids = malloc(batch * sizeof *ids);
        for (int64_t next = 1; next <= n;) {
            size_t k = 0;
            while (k < batch && next <= n)
                ids[k++] = next++;
            uint64_t d = 0;
            if (pm_store_delete_crossings(st, ids, k, &d, &e)) die("delete", &e);
            done += d;
        }
        free(ids);
    } else {
        pm_jobs_ctx_t ctx = {st, lg, a, "CAN", "bench"};
        pm_purge_result_t r;
        if (pm_jobs_purge(&ctx, now, batch, &r, &e)) die("purge", &e);
        done = r.purged[PM_RC_CROSSING];
    }
    double s = (double)(pm_now_ns() - t0) / 1e9;
    if (done != (uint64_t)n) {
        fprintf(stderr, "bench_jobs: %llu of %d rows deleted\n", (unsigned long long)done, n);
        exit(1);
    }
    pm_audit_close(lg, NULL);
    pm_store_close(st);
    paths(dir, db, log);
    return n / s;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 50000;
    int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
    const char *dir = argc > 3 ? argv[3] : "/tmp";
    size_t batch = argc > 4 ? (size_t)strtoul(argv[4], NULL, 10) : 1024;
    if (n < 1 || runs < 1 || runs > 99 || batch < 1 || batch > PM_JOBS_BATCH_MAX) return 2;
    pm_agreement_t a;
    pm_error_t e = {0};
    const char *src = getenv("PERIMETER_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/agreement-example.json", src ? src : ".");
    if (pm_agreement_load(path, &a, &e)) die("agreement (set PERIMETER_SRC)", &e);
    printf("retention purge of %d expired crossings, batches of %zu, median of %d runs, dir %s\n"
           "(wall clock; store synchronous=FULL, log fsync per tombstone)\n",
           n, batch, runs, dir);
    double base[99], job[99];
    for (int r = 0; r < runs; r++) {
        base[r] = purge_rate(dir, &a, n, batch, 1);
        job[r] = purge_rate(dir, &a, n, batch, 0);
    }
    double mb = pm_median(base, (size_t)runs), mj = pm_median(job, (size_t)runs);
    printf("baseline pm_store_delete_crossings: %10.0f rows/s\n", mb);
    printf("pm_jobs_purge (policy + tombstones): %10.0f rows/s  (%.2fx baseline)\n", mj, mj / mb);
    return 0;
}
