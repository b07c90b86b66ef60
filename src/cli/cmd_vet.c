/* perimeter synth cohort | vet: thin shells over the vet module (docs/vet.md). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/gallery.h"
#include "perimeter/vet.h"

int pm_cmd_synth_cohort(int argc, char **argv);
int pm_cmd_vet(int argc, char **argv);

static int parse_num(const char *cmd, const char *what, const char *s, unsigned long long max,
                     unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-') {
        fprintf(stderr, "%s: %s needs a non-negative integer\n", cmd, what);
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) {
        fprintf(stderr, "%s: %s '%s' is not an integer in 0..%llu\n", cmd, what, s, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_real(const char *cmd, const char *what, const char *s, double lo, double hi,
                      double *out)
{
    char *end;
    errno = 0;
    double v = s && *s ? strtod(s, &end) : 0;
    if (!s || !*s || errno || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "%s: %s '%s' is not a number in %g..%g\n", cmd, what, s ? s : "", lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* Progress on stderr, only when it is a terminal: a bar, the rate and the
 * time remaining. */
typedef struct progress {
    const char *what;
    const char *unit;
    uint64_t start_ns;
    uint64_t last_ns;
} progress_t;

static void progress_draw(void *ctx, uint64_t done, uint64_t total)
{
    progress_t *pg = ctx;
    uint64_t now = pm_now_ns();
    if (done < total && now - pg->last_ns < 200000000ull)
        return;
    pg->last_ns = now;
    double s = (double)(now - pg->start_ns) / 1e9;
    double rate = s > 0 ? (double)done / s : 0;
    double left = rate > 0 ? (double)(total - done) / rate : 0;
    char bar[31];
    int fill = total ? (int)(30 * done / total) : 30;
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    fprintf(stderr, "\r%s [%s] %llu/%llu %s, %.1f/s (%.0f/h), %02d:%02d:%02d left ", pg->what, bar,
            (unsigned long long)done, (unsigned long long)total, pg->unit, rate, rate * 3600,
            (int)(left / 3600), (int)(left / 60) % 60, (int)left % 60);
    if (done == total)
        fputc('\n', stderr);
}

/* ------------------------------------------------------------ synth cohort */

static void cohort_usage(FILE *f)
{
    fprintf(f,
            "usage: perimeter synth cohort --out DIR [--applicants N] [--known K] [--bad B]\n"
            "                              [--distractors D] [--seed S] [--threads T]\n"
            "                              [--difficulty X] [--purpose CODE]\n"
            "  N applicants as ten-print ANSI/NIST transactions DIR/applicants/A000001.an2 ...\n"
            "  (Type-2 name and date of birth, ten plain Type-14 WSQ impressions), the partner's\n"
            "  holdings for K of them (another impression: DIR/partner/gallery.snap,\n"
            "  DIR/partner/templates/*.iso, DIR/partner/enroll.csv) plus D template-level\n"
            "  distractor subjects, B deliberately bad captures (blank, one bad finger, a cut\n"
            "  file) and the truth DIR/truth.csv. Defaults: N 20, K 0, B 0, D 0, seed 1.\n");
}

int pm_cmd_synth_cohort(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},       {"applicants", required_argument, 0, 'n'},
        {"known", required_argument, 0, 'k'},     {"bad", required_argument, 0, 'b'},
        {"distractors", required_argument, 0, 'D'}, {"seed", required_argument, 0, 's'},
        {"threads", required_argument, 0, 't'},   {"difficulty", required_argument, 0, 'd'},
        {"purpose", required_argument, 0, 'p'},   {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    pm_vet_cohort_params_t p;
    pm_vet_cohort_params_default(&p);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    p.threads = ncpu > 0 ? (int)(ncpu < PM_VET_MAX_THREADS ? ncpu : PM_VET_MAX_THREADS) : 1;
    const char *dir = NULL;
    unsigned long long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:n:k:b:D:s:t:d:p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': dir = optarg; break;
        case 'n':
            if (parse_num("synth cohort", "--applicants", optarg, PM_VET_MAX_APPLICANTS, &v)) return 2;
            p.applicants = (uint32_t)v;
            break;
        case 'k':
            if (parse_num("synth cohort", "--known", optarg, PM_VET_MAX_APPLICANTS, &v)) return 2;
            p.known = (uint32_t)v;
            break;
        case 'b':
            if (parse_num("synth cohort", "--bad", optarg, PM_VET_MAX_APPLICANTS, &v)) return 2;
            p.bad = (uint32_t)v;
            break;
        case 'D':
            if (parse_num("synth cohort", "--distractors", optarg, 10000000, &v)) return 2;
            p.distractors = (uint32_t)v;
            break;
        case 's':
            if (parse_num("synth cohort", "--seed", optarg, ULLONG_MAX, &v)) return 2;
            p.seed = v;
            break;
        case 't':
            if (parse_num("synth cohort", "--threads", optarg, PM_VET_MAX_THREADS, &v)) return 2;
            p.threads = (int)v;
            break;
        case 'd':
            if (parse_real("synth cohort", "--difficulty", optarg, 0, 3, &p.difficulty)) return 2;
            break;
        case 'p': p.purpose = optarg; break;
        case 'h': cohort_usage(stdout); return 0;
        default: cohort_usage(stderr); return 2;
        }
    }
    if (!dir || optind != argc) {
        cohort_usage(stderr);
        return 2;
    }
    progress_t pg = {"synth cohort", "applicants", pm_now_ns(), 0};
    pm_vet_cohort_stats_t st;
    pm_error_t err = {0};
    int rc = pm_vet_cohort_generate(&p, dir, isatty(2) ? progress_draw : NULL, &pg, &st, &err);
    if (rc) {
        fprintf(stderr, "synth cohort: %s\n", pm_error_text(&err));
        return 1;
    }
    printf("wrote %u applicants to %s/applicants (%u known to the partner, %u bad captures)\n",
           st.applicants, dir, st.known, st.bad);
    printf("partner gallery %s/partner/gallery.snap: %zu fingers (%u known subjects, %u "
           "distractors)\n",
           dir, st.partner_fingers, st.known, st.distractors);
    printf("truth %s/truth.csv\n", dir);
    printf("time %.1f s wall, %.1f s CPU: %.3f s wall and %.3f s CPU per applicant\n", st.seconds,
           st.cpu_seconds, st.seconds / st.applicants, st.cpu_seconds / st.applicants);
    return 0;
}
