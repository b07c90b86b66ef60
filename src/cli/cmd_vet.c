/* perimeter synth cohort | vet: thin shells over the vet module (docs/vet.md). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
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
int pm_cmd_vet_refresh(int argc, char **argv);

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
    uint64_t base; /* done at the first call (a resumed run's earlier work) */
    int started;
} progress_t;

static void progress_draw(void *ctx, uint64_t done, uint64_t total)
{
    progress_t *pg = ctx;
    uint64_t now = pm_now_ns();
    if (!pg->started) {
        pg->started = 1;
        pg->base = done;
        pg->start_ns = now;
    }
    if (done < total && now - pg->last_ns < 200000000ull)
        return;
    pg->last_ns = now;
    double s = (double)(now - pg->start_ns) / 1e9;
    double rate = s > 0 ? (double)(done - pg->base) / s : 0;
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
    progress_t pg = {"synth cohort", "applicants", pm_now_ns(), 0, 0, 0};
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

/* ------------------------------------------------------------ vet */

#include "perimeter/node.h"

static volatile int vet_cancel;

static void on_signal(int sig)
{
    (void)sig;
    vet_cancel = 1;
}

static void vet_usage(FILE *f)
{
    fprintf(f,
            "usage: perimeter vet COHORT --purpose CODE [--out DIR] [--workers N]\n"
            "         (--partner-gallery SNAP [--threshold S] [--first-stage]\n"
            "            [--accept-purposes A,B,...] [--query-log FILE]\n"
            "          | --config NODE.json --partner CODE [--url URL] [--token T] [--an2k]\n"
            "            [--no-refresh])\n"
            "         [--local-gallery SNAP] [--local-threshold S] [--min-quality Q]\n"
            "         [--min-minutiae M] [--min-fingers F] [--limit N] [--json]\n"
            "  Vets every applicant of COHORT (ANSI/NIST transactions, or one folder of finger\n"
            "  images per applicant): capture checks, optional local 1:N, then the anonymous\n"
            "  partner query under the purpose. Resumable: run again with the same --out\n"
            "  (default COHORT/vet-CODE) after an interruption. Partner: an in-process search\n"
            "  of a gallery snapshot (--partner-gallery), or our node's officer route\n"
            "  (--config, token from --token or $PERIMETER_TOKEN; --an2k: as ANSI/NIST\n"
            "  vetting searches, PMSR/PMRS, instead of JSON). Writes cases/*.json,\n"
            "  summary.json, summary.txt, recapture.csv, adjudication.jsonl, journal.sqlite.\n"
            "  Through the node, the matches' review status (R14) is then refreshed from\n"
            "  its queue as by `perimeter vet refresh` (--no-refresh: not; an unreachable\n"
            "  node is a warning).\n"
            "  Exit 0: every applicant has an outcome; 3: some are pending (run again);\n"
            "  1: error; 2: usage.\n");
}

static int load_gallery(const char *path, int threads, pm_gallery_t **out)
{
    pm_error_t err = {0};
    pm_gallery_options_t go = {.threads = threads};
    int rc = pm_gallery_new(&go, out, &err);
    if (!rc)
        rc = pm_gallery_load(*out, path, NULL, &err);
    if (rc) {
        fprintf(stderr, "vet: %s: %s\n", path, pm_error_text(&err));
        pm_gallery_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int pm_cmd_vet(int argc, char **argv)
{
    static const struct option opts[] = {
        {"purpose", required_argument, 0, 'p'},        {"out", required_argument, 0, 'o'},
        {"workers", required_argument, 0, 'w'},        {"partner-gallery", required_argument, 0, 'G'},
        {"threshold", required_argument, 0, 'S'},      {"first-stage", no_argument, 0, 'F'},
        {"accept-purposes", required_argument, 0, 'A'}, {"query-log", required_argument, 0, 'L'},
        {"config", required_argument, 0, 'c'},         {"partner", required_argument, 0, 'P'},
        {"url", required_argument, 0, 'U'},            {"token", required_argument, 0, 'T'},
        {"local-gallery", required_argument, 0, 'g'},  {"local-threshold", required_argument, 0, 's'},
        {"min-quality", required_argument, 0, 'q'},    {"min-minutiae", required_argument, 0, 'm'},
        {"min-fingers", required_argument, 0, 'f'},    {"limit", required_argument, 0, 'l'},
        {"json", no_argument, 0, 'j'},                 {"help", no_argument, 0, 'h'},
        {"an2k", no_argument, 0, 'N'},                 {"no-refresh", no_argument, 0, 'R'},
        {0, 0, 0, 0}};
    pm_vet_options_t o = {0};
    pm_vet_gallery_transport_t gt = {0};
    pm_vet_node_transport_t nt = {0};
    const char *partner_gallery = NULL, *local_gallery = NULL, *config = NULL, *url = NULL;
    char *accept = NULL;
    int json = 0, no_refresh = 0;
    unsigned long long v;
    double d;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int cpus = ncpu > 0 ? (int)(ncpu < PM_VET_MAX_THREADS ? ncpu : PM_VET_MAX_THREADS) : 1;
    o.workers = cpus;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:o:w:G:S:FA:L:c:P:U:T:g:s:q:m:f:l:jhN", opts, NULL)) != -1) {
        switch (c) {
        case 'p': o.purpose = optarg; break;
        case 'N': nt.an2k = 1; break;
        case 'R': no_refresh = 1; break;
        case 'o': o.out_dir = optarg; break;
        case 'w':
            if (parse_num("vet", "--workers", optarg, PM_VET_MAX_THREADS, &v) || v == 0) return 2;
            o.workers = (int)v;
            break;
        case 'G': partner_gallery = optarg; break;
        case 'S':
            if (parse_real("vet", "--threshold", optarg, 0.001, 1000, &d)) return 2;
            gt.threshold = d;
            break;
        case 'F': gt.first_stage = 1; break;
        case 'A': accept = optarg; break;
        case 'L': gt.log_path = optarg; break;
        case 'c': config = optarg; break;
        case 'P': nt.partner = optarg; break;
        case 'U': url = optarg; break;
        case 'T': nt.token = optarg; break;
        case 'g': local_gallery = optarg; break;
        case 's':
            if (parse_real("vet", "--local-threshold", optarg, 0.001, 1000, &d)) return 2;
            o.local_threshold = d;
            break;
        case 'q':
            if (parse_num("vet", "--min-quality", optarg, 100, &v)) return 2;
            o.min_quality = (int)v;
            break;
        case 'm':
            if (parse_num("vet", "--min-minutiae", optarg, 255, &v)) return 2;
            o.min_minutiae = (int)v;
            break;
        case 'f':
            if (parse_num("vet", "--min-fingers", optarg, 10, &v) || v == 0) return 2;
            o.min_fingers = (int)v;
            break;
        case 'l':
            if (parse_num("vet", "--limit", optarg, PM_VET_MAX_APPLICANTS, &v)) return 2;
            o.limit = v;
            break;
        case 'j': json = 1; break;
        case 'h': vet_usage(stdout); return 0;
        default: vet_usage(stderr); return 2;
        }
    }
    if (optind + 1 != argc || !o.purpose) {
        vet_usage(stderr);
        return 2;
    }
    if (!!partner_gallery == !!config) {
        fprintf(stderr, "vet: give one partner: --partner-gallery SNAP or --config NODE.json\n");
        return 2;
    }
    o.cohort = argv[optind];
    char outbuf[4096];
    if (!o.out_dir) {
        snprintf(outbuf, sizeof outbuf, "%s/vet-%s", o.cohort, o.purpose);
        o.out_dir = outbuf;
    }
    pm_gallery_t *pg = NULL, *lg = NULL;
    pm_node_config_t cfg;
    int have_cfg = 0;
    const char *purposes[32];
    char urlbuf[PM_NODE_URL_MAX + 32];
    int rc = 0;
    if (partner_gallery) {
        if (load_gallery(partner_gallery, cpus, &pg))
            return 1;
        gt.gallery = pg;
        if (accept) {
            size_t n = 0;
            for (char *s = accept, *e; s && n < 32; s = e) {
                e = strchr(s, ',');
                if (e)
                    *e++ = 0;
                if (*s)
                    purposes[n++] = s;
            }
            gt.purposes = purposes;
            gt.npurposes = n;
        }
        o.transport = (pm_vet_transport_t){pm_vet_gallery_query, &gt, "gallery"};
    } else {
        pm_error_t err = {0};
        if (!nt.partner) {
            fprintf(stderr, "vet: --config needs --partner CODE\n");
            return 2;
        }
        if (pm_node_config_load(config, &cfg, &err)) {
            fprintf(stderr, "vet: %s\n", pm_error_text(&err));
            return 1;
        }
        have_cfg = 1;
        if (url)
            snprintf(urlbuf, sizeof urlbuf, "%s", url);
        else
            snprintf(urlbuf, sizeof urlbuf, "https://%s:%u",
                     strcmp(cfg.address, "0.0.0.0") == 0 ? "127.0.0.1" : cfg.address, cfg.port);
        if (!nt.token)
            nt.token = getenv("PERIMETER_TOKEN");
        if (!nt.token) {
            fprintf(stderr, "vet: an officer token is needed (--token or $PERIMETER_TOKEN)\n");
            rc = 2;
            goto out;
        }
        nt.base_url = urlbuf;
        nt.ca_file = cfg.ca_file;
        nt.timeout_s = 60;
        nt.ori = cfg.country;
        o.transport = (pm_vet_transport_t){pm_vet_node_query, &nt, "node"};
    }
    if (local_gallery && load_gallery(local_gallery, cpus, &lg)) {
        rc = 1;
        goto out;
    }
    o.local_gallery = lg;
    o.cancel = &vet_cancel;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    progress_t pg_bar = {"vet", "applicants", pm_now_ns(), 0, 0, 0};
    if (isatty(2)) {
        o.progress = progress_draw;
        o.progress_ctx = &pg_bar;
    }
    /* Each finger's extraction allocates a few MB of work buffers and frees
     * them; by default glibc gives blocks that size back to the kernel
     * (mmap threshold, heap trim) and the next finger faults them in and has
     * them zeroed again: 28% of the vet process's CPU on the seed-4242 cohort
     * (bench/README.md "The cohort's CPU: ..."). This process keeps them. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    const char *hook = getenv("PERIMETER_TEST_VET_KILL_AFTER"); /* tests only, docs/vet.md */
    if (hook && hook[0]) {
        char *end = NULL;
        unsigned long long k = strtoull(hook, &end, 10);
        if (end && !*end)
            o.test_kill_after = (uint64_t)k;
    }
    pm_vet_summary_t s;
    pm_error_t err = {0};
    int vrc = pm_vet_run(&o, &s, &err);
    if (vrc && vrc != PM_EPARTIAL) {
        fprintf(stderr, "vet: %s\n", pm_error_text(&err));
        rc = 1;
        goto out;
    }
    if (nt.base_url && !no_refresh) {
        /* the matches' review status from our node's queue (pm_vet_refresh):
         * keeps the summary's review section on a resumed run too */
        pm_buf_t body = {0};
        pm_error_t fe = {0};
        pm_vet_refresh_stats_t fs;
        int frc = pm_vet_node_reviews(&nt, &body, &fe);
        if (!frc)
            frc = pm_vet_refresh(o.out_dir, (const char *)body.data, body.len, &fs, &fe);
        pm_buf_free(&body);
        if (frc)
            fprintf(stderr, "vet: review status not refreshed (run `perimeter vet refresh`): %s\n",
                    pm_error_text(&fe));
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", o.out_dir, json ? "summary.json" : "summary.txt");
    uint8_t *text = NULL;
    size_t len = 0;
    pm_error_t re = {0};
    if (pm_file_read(path, (size_t)1 << 20, &text, &len, &re) == 0) {
        fwrite(text, 1, len, stdout);
        free(text);
    }
    if (!json)
        printf("case files in %s/cases, summary in %s/summary.json\n", o.out_dir, o.out_dir);
    if (vrc == PM_EPARTIAL) {
        fprintf(stderr, "vet: %s\n", pm_error_text(&err));
        rc = 3;
    }
out:
    pm_gallery_free(pg);
    pm_gallery_free(lg);
    if (have_cfg)
        pm_node_config_free(&cfg);
    return rc;
}

static void refresh_usage(FILE *f)
{
    fprintf(f, "usage: perimeter vet refresh OUT_DIR --config NODE.json [--url URL] [--token T]\n"
               "       [--reviews FILE] [--json]\n"
               "  reads the node's review queue (GET /v1/reviews?status=all; officer token from\n"
               "  --token or $PERIMETER_TOKEN) or a saved copy of it (--reviews FILE), and writes\n"
               "  each match's final R14 status (confirmed, rejected, pending; by, when, why)\n"
               "  into OUT_DIR/cases/*.json and the counts into OUT_DIR/summary.json/.txt\n");
}

int pm_cmd_vet_refresh(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"url", required_argument, 0, 'U'},
        {"token", required_argument, 0, 'T'},  {"reviews", required_argument, 0, 'r'},
        {"json", no_argument, 0, 'j'},         {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *config = NULL, *url = NULL, *token = NULL, *reviews = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:U:T:r:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'U': url = optarg; break;
        case 'T': token = optarg; break;
        case 'r': reviews = optarg; break;
        case 'j': json = 1; break;
        case 'h': refresh_usage(stdout); return 0;
        default: refresh_usage(stderr); return 2;
        }
    }
    if (optind + 1 != argc || !!config == !!reviews) {
        refresh_usage(stderr);
        return 2;
    }
    const char *out_dir = argv[optind];
    pm_error_t err = {0};
    pm_buf_t body = {0};
    int rc = 0;
    if (reviews) {
        uint8_t *data = NULL;
        size_t len = 0;
        if (pm_file_read(reviews, (size_t)64 << 20, &data, &len, &err)) {
            fprintf(stderr, "vet refresh: %s\n", pm_error_text(&err));
            return 1;
        }
        body.data = data;
        body.len = len;
        body.cap = len;
    } else {
        pm_node_config_t cfg;
        if (pm_node_config_load(config, &cfg, &err)) {
            fprintf(stderr, "vet refresh: %s\n", pm_error_text(&err));
            return 1;
        }
        char urlbuf[PM_NODE_URL_MAX + 32];
        if (url)
            snprintf(urlbuf, sizeof urlbuf, "%s", url);
        else
            snprintf(urlbuf, sizeof urlbuf, "https://%s:%u",
                     strcmp(cfg.address, "0.0.0.0") == 0 ? "127.0.0.1" : cfg.address, cfg.port);
        if (!token)
            token = getenv("PERIMETER_TOKEN");
        pm_vet_node_transport_t nt = {.base_url = urlbuf, .ca_file = cfg.ca_file, .token = token,
                                      .timeout_s = 60};
        if (!token) {
            fprintf(stderr, "vet refresh: an officer token is needed (--token or $PERIMETER_TOKEN)\n");
            pm_node_config_free(&cfg);
            return 2;
        }
        rc = pm_vet_node_reviews(&nt, &body, &err);
        pm_node_config_free(&cfg);
        if (rc) {
            fprintf(stderr, "vet refresh: %s\n", pm_error_text(&err));
            pm_buf_free(&body);
            return 1;
        }
    }
    pm_vet_refresh_stats_t s;
    rc = pm_vet_refresh(out_dir, (const char *)body.data, body.len, &s, &err);
    pm_buf_free(&body);
    if (rc) {
        fprintf(stderr, "vet refresh: %s\n", pm_error_text(&err));
        return 1;
    }
    if (json)
        printf("{\"cases\":%llu,\"matches\":%llu,\"confirmed\":%llu,\"rejected\":%llu,"
               "\"pending\":%llu,\"not_queued\":%llu,\"not_found\":%llu,\"updated\":%llu}\n",
               (unsigned long long)s.cases, (unsigned long long)s.matches,
               (unsigned long long)s.confirmed, (unsigned long long)s.rejected,
               (unsigned long long)s.pending, (unsigned long long)s.not_queued,
               (unsigned long long)s.missing, (unsigned long long)s.updated);
    else
        printf("%llu case files, %llu matches: %llu confirmed, %llu rejected, %llu still pending, "
               "%llu not queued, %llu not found; %llu case files updated\n",
               (unsigned long long)s.cases, (unsigned long long)s.matches,
               (unsigned long long)s.confirmed, (unsigned long long)s.rejected,
               (unsigned long long)s.pending, (unsigned long long)s.not_queued,
               (unsigned long long)s.missing, (unsigned long long)s.updated);
    return 0;
}
