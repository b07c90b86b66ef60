/* Commands of the shard module: shard serve (one shard of the gallery on
 * NATS) and shard identify (the coordinator's search, for operators and
 * tests). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_env.h"
#include "perimeter/core.h"
#include "perimeter/gallery.h"
#include "perimeter/shard.h"
#include "perimeter/store.h"
#include "perimeter/tmpl.h"

#define EXIT_USAGE 2
#define EXIT_FATAL 3

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* "K/S" */
static int parse_ks(const char *s, int *k, int *n)
{
    const char *slash = strchr(s, '/');
    char kb[16];
    long kv, sv;
    if (!slash || (size_t)(slash - s) >= sizeof kb)
        return -1;
    memcpy(kb, s, (size_t)(slash - s));
    kb[slash - s] = '\0';
    if (parse_long(kb, 0, PM_SHARD_MAX - 1, &kv) || parse_long(slash + 1, 1, PM_SHARD_MAX, &sv) ||
        kv >= sv)
        return -1;
    *k = (int)kv;
    *n = (int)sv;
    return 0;
}

struct shard_of_ctx {
    int k, s;
};

static int in_shard(uint64_t subject, void *ctx)
{
    const struct shard_of_ctx *c = ctx;
    return pm_shard_of(subject, c->s) == c->k;
}

static void serve_usage(FILE *f)
{
    fprintf(f, "usage: perimeter shard serve --shard K/S --nats URL [--db PATH] [--threads N]\n"
               "                             [--prefix SUBJECT]\n"
               "Loads from the store the subjects of shard K of S only (stable hash of the\n"
               "subject id), learns new enrolments of that shard from SUBJECT.enrol, and\n"
               "answers searches on SUBJECT.S.K (default prefix pm.gallery) in a queue group\n"
               "and on its own replica subject, until SIGTERM or SIGINT. Run several with the\n"
               "same K/S for replicas.\n");
}

int pm_cmd_shard_serve(int argc, char **argv);
int pm_cmd_shard_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"shard", required_argument, NULL, 'k'}, {"nats", required_argument, NULL, 'n'},
        {"db", required_argument, NULL, 'd'},    {"threads", required_argument, NULL, 't'},
        {"prefix", required_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'},
        {"json", no_argument, NULL, 'j'},        {NULL, 0, NULL, 0},
    };
    const char *url = NULL, *db = NULL, *prefix = NULL;
    int k = -1, s = 0;
    long threads = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'k':
            if (parse_ks(optarg, &k, &s))
                goto usage;
            break;
        case 'n': url = optarg; break;
        case 'd': db = optarg; break;
        case 't':
            if (parse_long(optarg, 0, 1024, &threads))
                goto usage;
            break;
        case 'p': prefix = optarg; break;
        case 'j': break;
        case 'h': serve_usage(stdout); return 0;
        default: goto usage;
        }
    }
    if (optind != argc || k < 0 || !url)
        goto usage;
    const char *path = pm__cli_db_path(db);
    pm_error_t e;
    pm_error_clear(&e);
    pm_store_t *st = NULL;
    pm_gallery_t *g = NULL;
    pm_shard_server_t *srv = NULL;
    int status = EXIT_FATAL;
    pm_gallery_options_t go = {(int)threads};
    uint64_t gen = 0;
    size_t loaded = 0;
    pm_store_options_t so = {PM_STORE_DURABLE_FULL, 0, 1, 0};
    struct shard_of_ctx ks = {k, s};
    /* libnats' threads inherit this mask; only this thread takes the signals */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* enrolments first, then the shard's rows from the store, then searches:
     * an enrolment made while loading is in the store or arrives on NATS */
    pm_shard_server_options_t o = {url, k, s, prefix, 1};
    if (pm_gallery_new(&go, &g, &e) || pm_shard_server_open(g, &o, &srv, &e)) {
        fprintf(stderr, "perimeter: shard serve: %s\n", pm_error_text(&e));
        goto out;
    }
    if (pm_store_open(path, &so, &st, &e) || pm_gallery_store_migrate(st, &e) ||
        pm__cli_seal_store(st) || pm_gallery_store_load_where(st, g, in_shard, &ks, &gen, &loaded, &e)) {
        fprintf(stderr, "perimeter: shard serve: %s: %s\n", path, pm_error_text(&e));
        goto out;
    }
    pm_store_close(st);
    st = NULL;
    if (pm_shard_server_serve(srv, &e)) {
        fprintf(stderr, "perimeter: shard serve: %s\n", pm_error_text(&e));
        goto out;
    }
    fprintf(stderr, "shard %d/%d: %zu fingers (generation %" PRIu64 ", %zu loaded from the "
                    "store), serving on %s.%d.%d, replica %016" PRIx64 "\n",
            k, s, pm_gallery_count(g), gen, loaded, prefix ? prefix : "pm.gallery", s, k,
            pm_shard_server_replica(srv));
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "shard %d/%d: %s after %" PRIu64 " requests (%" PRIu64 " enrolments learnt)\n",
            k, s, sig == SIGTERM ? "SIGTERM" : "SIGINT", pm_shard_server_served(srv),
            pm_shard_server_learned(srv));
    status = 0;
out:
    pm_shard_server_stop(srv);
    pm_gallery_free(g);
    pm_store_close(st);
    return status;
usage:
    serve_usage(stderr);
    return EXIT_USAGE;
}

static void identify_usage(FILE *f)
{
    fprintf(f, "usage: perimeter shard identify --nats URL --shards S [--position P] [--top K]\n"
               "                                [--threshold T] [--deadline MS] [--prefix SUBJECT]\n"
               "                                [--hedge MS] [--json] TEMPLATE\n"
               "Searches every shard with one probe finger (a minutiae template: native, ISO\n"
               "or ANSI), waits at most MS milliseconds (default 2000), prints the merged\n"
               "candidates and which shards did not answer (a partial answer: exit 1).\n"
               "--hedge MS: ask another replica of a shard silent after MS (default: half\n"
               "the deadline; -1 never).\n");
}

int pm_cmd_shard_identify(int argc, char **argv);
int pm_cmd_shard_identify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"nats", required_argument, NULL, 'n'},     {"shards", required_argument, NULL, 's'},
        {"position", required_argument, NULL, 'P'}, {"top", required_argument, NULL, 'k'},
        {"threshold", required_argument, NULL, 'T'}, {"deadline", required_argument, NULL, 'D'},
        {"prefix", required_argument, NULL, 'p'},   {"json", no_argument, NULL, 'j'},
        {"db", required_argument, NULL, 'd'},       {"help", no_argument, NULL, 'h'},
        {"hedge", required_argument, NULL, 'H'},    {NULL, 0, NULL, 0},
    };
    const char *url = NULL, *prefix = NULL;
    long shards = 0, position = 0, top = 10, deadline = 2000, hedge = 0;
    double threshold = 0;
    int json = 0, ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n': url = optarg; break;
        case 's':
            if (parse_long(optarg, 1, PM_SHARD_MAX, &shards))
                goto usage;
            break;
        case 'P':
            if (parse_long(optarg, 0, 10, &position))
                goto usage;
            break;
        case 'k':
            if (parse_long(optarg, 1, PM_GALLERY_MAX_CANDIDATES, &top))
                goto usage;
            break;
        case 'T': {
            char *end = NULL;
            errno = 0;
            threshold = strtod(optarg, &end);
            if (errno || !end || end == optarg || *end)
                goto usage;
            break;
        }
        case 'D':
            if (parse_long(optarg, 1, 600000, &deadline))
                goto usage;
            break;
        case 'p': prefix = optarg; break;
        case 'j': json = 1; break;
        case 'H':
            if (parse_long(optarg, -1, 600000, &hedge))
                goto usage;
            break;
        case 'd': break; /* the global --db does not apply */
        case 'h': identify_usage(stdout); return 0;
        default: goto usage;
        }
    }
    if (optind + 1 != argc || !url || !shards)
        goto usage;
    pm_error_t e;
    pm_error_clear(&e);
    pm_fingerprint_t *views = NULL;
    size_t nviews = 0;
    if (pm_tmpl_read_file(argv[optind], &views, &nviews, NULL, &e) || nviews < 1) {
        fprintf(stderr, "perimeter: %s: %s\n", argv[optind],
                nviews < 1 && !e.code ? "no finger view" : pm_error_text(&e));
        free(views);
        return EXIT_FATAL;
    }
    pm_shard_client_t *cl = NULL;
    if (pm_shard_client_open(url, (int)shards, prefix, &cl, &e)) {
        fprintf(stderr, "perimeter: shard identify: %s\n", pm_error_text(&e));
        free(views);
        return EXIT_FATAL;
    }
    pm_shard_client_set_hedge(cl, (int)hedge);
    pm_gallery_finger_t f = {(int)position, &views[0]};
    pm_gallery_search_options_t o;
    memset(&o, 0, sizeof o);
    o.max_candidates = (int)top;
    o.threshold = threshold;
    pm_gallery_candidate_t *cand = calloc((size_t)top, sizeof *cand);
    size_t n = 0;
    pm_shard_answer_t a;
    int rc = cand ? pm_shard_identify(cl, &f, 1, &o, (int)deadline, cand, &n, &a, &e)
                  : pm_error_set(&e, PM_ENOMEM, "out of memory");
    pm_shard_client_close(cl);
    free(views);
    if (rc) {
        fprintf(stderr, "perimeter: shard identify: %s\n", pm_error_text(&e));
        free(cand);
        return EXIT_FATAL;
    }
    if (json) {
        printf("{\"shards\":%d,\"replied\":%d,\"partial\":%s,\"missing\":[", a.shards, a.replied,
               a.partial ? "true" : "false");
        int first = 1;
        for (int k = 0; k < a.shards; k++)
            if (a.missing[k]) {
                printf("%s%d", first ? "" : ",", k);
                first = 0;
            }
        printf("],\"seconds\":%.4f,\"hedged\":%d,\"candidates\":[", a.seconds, a.hedged);
        for (size_t i = 0; i < n; i++)
            printf("%s{\"subject\":%" PRIu64 ",\"score\":%.2f,\"encounter\":%" PRIu32 "}",
                   i ? "," : "", cand[i].subject, cand[i].score, cand[i].encounter);
        printf("]}\n");
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%2zu  subject %" PRIu64 "  score %.2f\n", i + 1, cand[i].subject,
                   cand[i].score);
        printf("%d of %d shards answered in %.3f s", a.replied, a.shards, a.seconds);
        if (a.partial) {
            printf("; PARTIAL, missing:");
            for (int k = 0; k < a.shards; k++)
                if (a.missing[k])
                    printf(" %d", k);
        }
        printf("\n");
    }
    free(cand);
    return a.partial ? 1 : 0;
usage:
    identify_usage(stderr);
    return EXIT_USAGE;
}
