/* bench_vet: cohort vetting end to end, applicants per hour.
 *
 *   bench_vet COHORT [WORKERS [FIRST_STAGE [LIMIT]]]
 *
 * COHORT is a folder written by `perimeter synth cohort` (its
 * partner/gallery.snap is the partner). Two runs over the same applicants in
 * this process, each into a fresh output folder:
 *  1. baseline: capture only (decode, extraction, quality checks, journal,
 *     case files) with a transport that answers "no match" at once;
 *  2. full: the same plus the partner's 1:N search of the snapshot (the
 *     in-process transport, exhaustive or with the first stage).
 * Prints, for each, applicants per hour and the median milliseconds per
 * applicant of each stage, and the ratio full / baseline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/gallery.h"
#include "perimeter/vet.h"

static int noop_query(void *ctx, const pm_vet_query_t *q, pm_vet_answer_t *out, pm_error_t *err)
{
    (void)ctx;
    (void)q;
    (void)err;
    out->result = PM_VET_NO_MATCH;
    return 0;
}

static int run(const char *cohort, const char *out, int workers, uint64_t limit,
               pm_vet_transport_t tr, pm_vet_summary_t *s)
{
    pm_vet_options_t o = {.cohort = cohort, .out_dir = out, .purpose = "REFUGEE_VETTING",
                          .transport = tr, .workers = workers, .limit = limit};
    pm_error_t err = {0};
    int rc = pm_vet_run(&o, s, &err);
    if (rc && rc != PM_EPARTIAL) {
        fprintf(stderr, "bench_vet: %s\n", pm_error_text(&err));
        return -1;
    }
    return 0;
}

static void report(const char *what, const pm_vet_summary_t *s)
{
    printf("%-9s %5llu applicants in %7.1f s wall, %7.1f s CPU: %7.0f applicants/hour, %.3f CPU s "
           "per applicant; median ms: capture %.0f, "
           "partner %.0f, total %.0f; outcomes match %llu, no_match %llu, failed_capture %llu\n",
           what, (unsigned long long)s->done_this_run, s->seconds, s->cpu_seconds, s->per_hour,
           s->done_this_run ? s->cpu_seconds / (double)s->done_this_run : 0.0,
           s->extract_ms_median, s->query_ms_median, s->total_ms_median,
           (unsigned long long)s->match, (unsigned long long)s->no_match,
           (unsigned long long)s->failed_capture);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_vet COHORT [WORKERS [FIRST_STAGE [LIMIT]]]\n");
        return 2;
    }
    const char *cohort = argv[1];
    int workers = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 2;
    int first_stage = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 0;
    uint64_t limit = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
    if (workers < 1 || workers > PM_VET_MAX_THREADS) {
        fprintf(stderr, "bench_vet: workers 1..%d\n", PM_VET_MAX_THREADS);
        return 2;
    }
    char tmpl[] = "/tmp/bench_vet.XXXXXX";
    if (!mkdtemp(tmpl)) {
        perror("bench_vet: mkdtemp");
        return 1;
    }
    char snap[4096], out1[4200], out2[4200];
    snprintf(snap, sizeof snap, "%s/partner/gallery.snap", cohort);
    snprintf(out1, sizeof out1, "%s/baseline", tmpl);
    snprintf(out2, sizeof out2, "%s/full", tmpl);
    pm_error_t err = {0};
    pm_gallery_t *g = NULL;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    pm_gallery_options_t go = {.threads = ncpu > 0 ? (int)ncpu : 1};
    if (pm_gallery_new(&go, &g, &err) || pm_gallery_load(g, snap, NULL, &err)) {
        fprintf(stderr, "bench_vet: %s: %s\n", snap, pm_error_text(&err));
        pm_gallery_free(g);
        return 1;
    }
    pm_gallery_stats_t gs;
    pm_gallery_stats(g, &gs, &err);
    printf("cohort %s, partner gallery %zu fingers of %zu subjects, %d workers, %s search, %ld "
           "CPUs\n",
           cohort, gs.fingers, gs.subjects, workers, first_stage ? "first-stage" : "exhaustive",
           ncpu);
    pm_vet_summary_t base, full;
    pm_vet_gallery_transport_t gt = {.gallery = g, .first_stage = first_stage};
    int rc = run(cohort, out1, workers, limit, (pm_vet_transport_t){noop_query, NULL, "noop"},
                 &base);
    if (!rc)
        rc = run(cohort, out2, workers, limit,
                 (pm_vet_transport_t){pm_vet_gallery_query, &gt, "gallery"}, &full);
    if (!rc) {
        report("baseline", &base);
        report("full", &full);
        printf("full / baseline time per applicant: %.2f\n",
               base.per_hour > 0 && full.per_hour > 0 ? base.per_hour / full.per_hour : 0.0);
        printf("25,000 applicants at the full rate: %.1f hours wall as measured; %.1f hours on "
               "%ld free CPUs from the CPU time\n",
               full.per_hour > 0 ? 25000.0 / full.per_hour : 0.0,
               full.done_this_run ? 25000.0 * full.cpu_seconds / (double)full.done_this_run /
                                        (double)(ncpu > 0 ? ncpu : 1) / 3600.0
                                  : 0.0,
               ncpu);
    }
    pm_gallery_free(g);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_vet: could not remove %s\n", tmpl);
    return rc ? 1 : 0;
}
