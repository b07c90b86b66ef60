/* Disclosure log appends per second with durability (fsync every N appends,
 * N = 1, 8, 64, 512) and the cost of a policy decision plus a serialized
 * disclosure, against a baseline of no log at all.
 * usage: bench_audit [APPENDS_PER_RUN] [RUNS] [DIR]  (defaults 2000 3 /tmp) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perimeter/audit.h"
#include "perimeter/core.h"
#include "perimeter/policy.h"

static double appends_per_s(const char *dir, unsigned batch, int n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_audit_%d.log", dir, (int)getpid());
    remove(path);
    pm_audit_log_t *log;
    pm_error_t e;
    if (pm_audit_open(path, batch, &log, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    const char *fields[] = {"surname", "given_names", "date_of_birth", "match"};
    const char *recs[] = {"CAN-000123456"};
    unsigned char ph[32];
    pm_audit_probe_hash("probe", 5, ph);
    pm_audit_event_t ev = {.time = 1800000000,
                           .kind = "disclosure",
                           .partner = "USA",
                           .purpose = "REFUGEE_VETTING",
                           .rule = "agreement 4.1",
                           .fields = fields,
                           .n_fields = 4,
                           .record_ids = recs,
                           .n_record_ids = 1,
                           .txn = "TXN-2026-000001",
                           .probe_sha256 = ph};
    uint64_t t0 = pm_now_ns();
    for (int i = 0; i < n; i++)
        if (pm_audit_append(log, &ev, NULL, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            exit(1);
        }
    if (pm_audit_close(log, &e)) exit(1);
    double s = (double)(pm_now_ns() - t0) / 1e9;
    remove(path);
    return n / s;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 2000;
    int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
    const char *dir = argc > 3 ? argv[3] : "/tmp";
    if (n < 1 || runs < 1 || runs > 99) return 2;
    static const unsigned batches[] = {1, 8, 64, 512};
    printf("disclosure log, %d appends per run, median of %d runs, dir %s (wall clock, fsync "
           "included)\n",
           n, runs, dir);
    double base = 0;
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        double v[99];
        for (int r = 0; r < runs; r++)
            v[r] = appends_per_s(dir, batches[b], n);
        double med = pm_median(v, (size_t)runs);
        if (b == 0) base = med;
        printf("fsync every %3u appends: %10.0f appends/s  (%.1fx fsync-every-append)\n",
               batches[b], med, med / base);
    }
    /* Policy decision + serializer per query, against an empty loop body. */
    pm_agreement_t a;
    pm_error_t e;
    const char *src = getenv("PERIMETER_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/agreement-example.json", src ? src : ".");
    if (pm_agreement_load(path, &a, &e)) {
        fprintf(stderr, "%s (set PERIMETER_SRC)\n", e.msg);
        return 1;
    }
    pm_field_value_t f[] = {{"surname", "DOE"},
                            {"given_names", "JANE"},
                            {"date_of_birth", "1980-01-01"},
                            {"match", "yes"},
                            {"licence_plate", "X"}};
    pm_buf_t b;
    pm_buf_init(&b, 0);
    const int q = 100000;
    double v[99];
    for (int r = 0; r < runs; r++) {
        pm_quota_counter_t qc = {0};
        uint64_t t0 = pm_now_ns();
        for (int i = 0; i < q; i++) {
            pm_decision_t d;
            pm_query_facts_t qf = {.purpose = "REFUGEE_VETTING", .channel_authenticated = 1};
            pm_answer_facts_t af = {
                .purpose = "REFUGEE_VETTING", .matched = 1, .score = 50, .record_valid = 1};
            qc.biometric = 0;
            pm_policy_biometric_query(&a, &qf, &qc, 1800000000, &d);
            pm_policy_disclosure(&a, &af, &d);
            pm_buf_reset(&b);
            pm_disclosure_serialize(&a, "REFUGEE_VETTING", f, 5, &b, NULL, &e);
        }
        v[r] = (double)(pm_now_ns() - t0) / q / 1e3;
    }
    pm_buf_free(&b);
    printf("policy: query + disclosure decisions + serializer: %.2f us per query (median of %d "
           "runs of %d)\n",
           pm_median(v, (size_t)runs), runs, q);
    return 0;
}
