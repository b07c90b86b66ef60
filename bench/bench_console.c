/* What the console's lists cost at 10,000 rows (docs/console.md), on data
 * made here: a vetting run of N case files and a disclosure log of N
 * entries. Figures are medians of RUNS; each list is against a baseline run
 * in the same process: the run page against reading every case file raw
 * (pm_file_read), the audit page against a bare pm_audit_read pass over the
 * log (no filter, no JSON). The audit page is timed without a kept index
 * (the whole log verified and indexed for the call), with the index the
 * node keeps (its first call builds it; then only what was appended since is
 * read), and after one entry appended (the index extended by it).
 * usage: bench_console [N] [RUNS] [DIR]  (defaults 10000 5 /tmp) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perimeter/audit.h"
#include "perimeter/console.h"
#include "perimeter/core.h"

#define MAX_RUNS 99

static void die(const char *what, const pm_error_t *e)
{
    fprintf(stderr, "bench_console: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int count_entry(void *ctx, const pm_audit_entry_t *e)
{
    (void)e;
    (*(size_t *)ctx)++;
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 10000;
    int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
    const char *base = argc > 3 ? argv[3] : "/tmp";
    if (n < 1 || n > 1000000 || runs < 1 || runs > MAX_RUNS)
        return 2;
    char root[4096], dir[4200], path[4400];
    snprintf(root, sizeof root, "%s/bench_console_%d", base, (int)getpid());
    snprintf(dir, sizeof dir, "%s/run1/cases", root);
    mkdir(root, 0700);
    snprintf(path, sizeof path, "%s/run1", root);
    mkdir(path, 0700);
    mkdir(dir, 0700);
    static const char *const outcomes[] = {"no_match", "no_match", "no_match", "match",
                                           "failed_capture"};
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/A%07d.json", dir, i + 1);
        FILE *f = fopen(path, "w");
        if (!f)
            die("case file", NULL);
        const char *oc = outcomes[i % 5];
        fprintf(f,
                "{\"applicant\":\"A%07d\",\"file\":\"x.an2\",\"transaction_id\":\"VET-b-%d\","
                "\"purpose\":\"ASYLUM\",\"outcome\":\"%s\",\"usable_fingers\":10,"
                "\"partner\":{\"result\":\"%s\",\"candidates\":[%s]},"
                "\"review\":{\"status\":\"pending\",\"rule\":\"R14\"}}\n",
                i + 1, i, oc, oc,
                strcmp(oc, "match") ? "" : "{\"subject\":\"1000001\",\"score\":120.5}");
        fclose(f);
    }
    char log_path[4400];
    snprintf(log_path, sizeof log_path, "%s/audit.log", root);
    pm_error_t e;
    pm_error_clear(&e);
    pm_audit_log_t *log = NULL;
    if (pm_audit_open(log_path, 4096, &log, &e))
        die("log", &e);
    static const char *const kinds[] = {"query", "disclosure", "refusal", "officer_action"};
    for (int i = 0; i < n; i++) {
        pm_audit_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.time = 1800000000 + i;
        ev.kind = kinds[i % 4];
        ev.actor = "officer:alice";
        ev.partner = "USA";
        ev.purpose = i % 2 ? "ASYLUM" : "IMMIGRATION";
        ev.rule = i % 4 == 2 ? "R2" : "agreement 4.1";
        ev.txn = "TXN-1";
        if (pm_audit_append(log, &ev, NULL, &e))
            die("append", &e);
    }
    if (pm_audit_close(log, &e))
        die("close", &e);
    /* the index the node keeps, and the log open for the appends between runs */
    pm_audit_index_t *ix = NULL;
    if (pm_audit_index_new(log_path, &ix, &e))
        die("index", &e);
    double t_first = 0;
    if (pm_audit_open(log_path, 1, &log, &e))
        die("log", &e);

    double t_raw[MAX_RUNS], t_page[MAX_RUNS], t_filter[MAX_RUNS], t_last[MAX_RUNS];
    double t_read[MAX_RUNS], t_audit[MAX_RUNS], t_audit_f[MAX_RUNS];
    double t_ix[MAX_RUNS], t_ix_f[MAX_RUNS], t_ix_app[MAX_RUNS], t_ix_last[MAX_RUNS];
    pm_buf_t b;
    pm_buf_init(&b, 256u << 20);
    for (int r = 0; r < runs; r++) {
        uint64_t t0 = pm_now_ns();
        for (int i = 0; i < n; i++) { /* baseline: every case file read */
            uint8_t *d = NULL;
            size_t len = 0;
            snprintf(path, sizeof path, "%s/A%07d.json", dir, i + 1);
            if (pm_file_read(path, 1u << 20, &d, &len, &e))
                die("read", &e);
            free(d);
        }
        t_raw[r] = (double)(pm_now_ns() - t0) / 1e6;
        pm_buf_reset(&b);
        t0 = pm_now_ns();
        if (pm_console_run(root, "run1", NULL, 0, 50, NULL, &b, &e))
            die("run page", &e);
        t_page[r] = (double)(pm_now_ns() - t0) / 1e6;
        pm_buf_reset(&b);
        t0 = pm_now_ns();
        if (pm_console_run(root, "run1", NULL, (size_t)(n > 50 ? n - 50 : 0), 50, NULL, &b, &e))
            die("last page", &e);
        t_last[r] = (double)(pm_now_ns() - t0) / 1e6;
        pm_buf_reset(&b);
        t0 = pm_now_ns();
        if (pm_console_run(root, "run1", "match", 0, 50, NULL, &b, &e))
            die("filtered page", &e);
        t_filter[r] = (double)(pm_now_ns() - t0) / 1e6;
        size_t cnt = 0;
        t0 = pm_now_ns();
        if (pm_audit_read(log_path, count_entry, &cnt, &e))
            die("audit read", &e);
        t_read[r] = (double)(pm_now_ns() - t0) / 1e6;
        pm_console_audit_query_t q;
        memset(&q, 0, sizeof q);
        q.limit = 50;
        q.offset = 100;
        pm_buf_reset(&b);
        t0 = pm_now_ns();
        if (pm_console_audit(log_path, NULL, NULL, 0, NULL, &q, &b, &e))
            die("audit page", &e);
        t_audit[r] = (double)(pm_now_ns() - t0) / 1e6;
        if (r == 0) { /* the kept index's first call: builds it */
            pm_buf_reset(&b);
            t0 = pm_now_ns();
            if (pm_console_audit(log_path, NULL, NULL, 0, ix, &q, &b, &e))
                die("audit page (index built)", &e);
            t_first = (double)(pm_now_ns() - t0) / 1e6;
        }
        pm_buf_reset(&b);
        t0 = pm_now_ns();
        if (pm_console_audit(log_path, NULL, NULL, 0, ix, &q, &b, &e))
            die("audit page (index)", &e);
        t_ix[r] = (double)(pm_now_ns() - t0) / 1e6;
        pm_console_audit_query_t ql = q;
        ql.offset = (size_t)(n > 50 ? n - 50 : 0);
        pm_buf_reset(&b);
        t0 = pm_now_ns();
        if (pm_console_audit(log_path, NULL, NULL, 0, ix, &ql, &b, &e))
            die("audit last page (index)", &e);
        t_ix_last[r] = (double)(pm_now_ns() - t0) / 1e6;
        pm_audit_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.time = 1900000000 + r;
        ev.kind = "query";
        ev.partner = "USA";
        ev.purpose = "ASYLUM";
        ev.rule = "agreement 4.1";
        if (pm_audit_append(log, &ev, NULL, &e))
            die("append", &e);
        pm_buf_reset(&b);
        t0 = pm_now_ns();
        if (pm_console_audit(log_path, NULL, NULL, 0, ix, &q, &b, &e))
            die("audit page after an append (index)", &e);
        t_ix_app[r] = (double)(pm_now_ns() - t0) / 1e6;
        q.kind = "refusal";
        q.purpose = "IMMIGRATION";
        pm_buf_reset(&b);
        t0 = pm_now_ns();
        if (pm_console_audit(log_path, NULL, NULL, 0, NULL, &q, &b, &e))
            die("audit filtered", &e);
        t_audit_f[r] = (double)(pm_now_ns() - t0) / 1e6;
        pm_buf_reset(&b);
        t0 = pm_now_ns();
        if (pm_console_audit(log_path, NULL, NULL, 0, ix, &q, &b, &e))
            die("audit filtered (index)", &e);
        t_ix_f[r] = (double)(pm_now_ns() - t0) / 1e6;
    }
    pm_buf_free(&b);
    double raw = median(t_raw, runs), rd = median(t_read, runs);
    printf("console lists, %d rows, median of %d runs (ms, wall clock)\n", n, runs);
    printf("  vetting run, baseline: read all %d case files      %8.1f\n", n, raw);
    double v = median(t_page, runs);
    printf("  run page 1 (50 rows, no filter)                    %8.1f  %.2fx\n", v, v / raw);
    v = median(t_last, runs);
    printf("  run last page (50 rows, no filter)                 %8.1f  %.2fx\n", v, v / raw);
    v = median(t_filter, runs);
    printf("  run page 1 filtered by outcome (reads every file)  %8.1f  %.2fx\n", v, v / raw);
    printf("  audit log, baseline: pm_audit_read of %d entries   %8.1f\n", n, rd);
    v = median(t_audit, runs);
    printf("  audit page (50 rows at offset 100, chain verified) %8.1f  %.2fx  no kept index\n", v, v / rd);
    v = median(t_audit_f, runs);
    printf("  audit page filtered by kind and purpose            %8.1f  %.2fx  no kept index\n", v, v / rd);
    printf("  audit page, kept index: first call (builds it)     %8.1f  %.2fx  (one run)\n", t_first, t_first / rd);
    v = median(t_ix, runs);
    printf("  audit page, kept index (offset 100)                %8.2f  %.4fx\n", v, v / rd);
    v = median(t_ix_last, runs);
    printf("  audit page, kept index (the oldest 50)             %8.2f  %.4fx\n", v, v / rd);
    v = median(t_ix_app, runs);
    printf("  audit page, kept index, after one append           %8.2f  %.4fx\n", v, v / rd);
    v = median(t_ix_f, runs);
    printf("  audit page, kept index, filtered                   %8.2f  %.4fx\n", v, v / rd);
    pm_audit_index_free(ix);
    if (pm_audit_close(log, &e))
        die("close", &e);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/A%07d.json", dir, i + 1);
        remove(path);
    }
    remove(log_path);
    rmdir(dir);
    snprintf(path, sizeof path, "%s/run1", root);
    rmdir(path);
    rmdir(root);
    return 0;
}
