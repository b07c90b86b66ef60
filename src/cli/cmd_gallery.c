/* Commands of the gallery module: enroll, identify, verify, gallery
 * stats|rebuild, synth templates, bench gallery, eval identify.
 *
 * The store (SQLite) is the system of record; the snapshot file
 * (<db>.gallery unless --snapshot) is a cache loaded at start, and rebuilt
 * from the store when missing, stale (other generation) or corrupt. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_env.h"
#include "perimeter/core.h"
#include "perimeter/gallery.h"
#include "perimeter/match.h"
#include "perimeter/store.h"
#include "perimeter/tmpl.h"

#include "cli/fingerprint_io.h"

/* ---- helpers --------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static void progress(int tty, const char *what, size_t done, size_t total)
{
    if (!tty || !total)
        return;
    if (done != total && done % 1000 != 0)
        return;
    int width = 40, fill = (int)((double)done / (double)total * width);
    char bar[41];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r%s [%s] %zu/%zu", what, bar, done, total);
    if (done == total)
        fprintf(stderr, "\n");
}

typedef struct gopts {
    const char *db;
    const char *snapshot;
    int threads;
    int json;
} gopts_t;

/* The snapshot file: --snapshot, else beside a SQLite store; a PostgreSQL
 * store has no folder of its own, so without --snapshot there is none (""):
 * the gallery is read from the store each time. */
static void snapshot_path(const gopts_t *o, char *out, size_t cap)
{
    if (o->snapshot)
        snprintf(out, cap, "%s", o->snapshot);
    else if (pm_store_is_postgres(pm__cli_db_path(o->db)))
        snprintf(out, cap, "%s", "");
    else
        snprintf(out, cap, "%s.gallery", pm__cli_db_path(o->db));
}

static int open_store(const gopts_t *o, pm_store_t **st)
{
    pm_error_t err = {0};
    const char *path = pm__cli_db_path(o->db);
    if (pm_store_open(path, NULL, st, &err) || pm_gallery_store_migrate(*st, &err)) {
        fprintf(stderr, "perimeter: database %s: %s\n", path, pm_error_text(&err));
        pm_store_close(*st);
        *st = NULL;
        return -1;
    }
    if (pm__cli_seal_store(*st)) { /* $PERIMETER_DATA_KEY: templates and snapshot sealed */
        pm_store_close(*st);
        *st = NULL;
        return -1;
    }
    return 0;
}

/* The gallery as the store has it: the snapshot if it is intact and of the
 * store's generation, else rebuilt from the store (and the snapshot
 * rewritten). *how says which, for the user. */
static int open_gallery(const gopts_t *o, pm_store_t *st, pm_gallery_t **out, char *how,
                        size_t howcap)
{
    pm_error_t err = {0};
    pm_gallery_options_t go = {.threads = o->threads};
    if (pm_gallery_new(&go, out, &err)) {
        fprintf(stderr, "perimeter: %s\n", pm_error_text(&err));
        return -1;
    }
    uint64_t gen = 0, sgen = 0;
    if (pm_gallery_store_generation(st, &gen, &err)) {
        fprintf(stderr, "perimeter: %s\n", pm_error_text(&err));
        return -1;
    }
    char snap[PATH_MAX];
    snapshot_path(o, snap, sizeof snap);
    uint64_t t0 = pm_now_ns();
    int rc = snap[0] ? pm_gallery_load_sealed(*out, snap, pm_store_seal(st), &sgen, &err)
                     : pm_error_set(&err, PM_ENOTFOUND, "none for a PostgreSQL store without --snapshot");
    if (!rc && sgen == gen) {
        snprintf(how, howcap, "snapshot %s loaded in %.3f s", snap, (double)(pm_now_ns() - t0) / 1e9);
        return 0;
    }
    char reason[PM_ERRMSG_MAX + 64];
    if (rc)
        snprintf(reason, sizeof reason, "%s", pm_error_text(&err));
    else
        snprintf(reason, sizeof reason, "stale (generation %llu, store %llu)",
                 (unsigned long long)sgen, (unsigned long long)gen);
    pm_error_clear(&err);
    t0 = pm_now_ns();
    if (pm_gallery_store_load(st, *out, &gen, &err)) {
        fprintf(stderr, "perimeter: rebuilding the gallery from the store: %s\n", pm_error_text(&err));
        return -1;
    }
    double secs = (double)(pm_now_ns() - t0) / 1e9;
    if (snap[0] && pm_gallery_save_sealed(*out, snap, gen, pm_store_seal(st), &err))
        fprintf(stderr, "perimeter: warning: snapshot not written: %s\n", pm_error_text(&err));
    snprintf(how, howcap, "rebuilt from the store in %.3f s (snapshot %s)", secs, reason);
    return 0;
}

/* ---- enroll ---------------------------------------------------------------------- */

static void enroll_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter enroll [--db PATH] [--snapshot PATH] --subject ID [--encounter N]\n"
            "                        [--position P] FILE...\n"
            "       perimeter enroll [--db PATH] [--snapshot PATH] --list CSV\n"
            "  FILE: fingerprint image or minutiae template; several FILEs are positions P, P+1, ...\n"
            "  CSV lines: subject,encounter,position,path (as `perimeter synth templates` writes)\n"
            "  The store is the system of record; the snapshot is brought up to date.\n");
}

typedef struct enr {
    uint64_t subject;
    uint32_t encounter;
    int position;
    char path[PATH_MAX];
} enr_t;

static int read_list(const char *path, enr_t **out, size_t *out_n)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "perimeter: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1024, n = 0;
    enr_t *v = malloc(cap * sizeof *v);
    char line[PATH_MAX + 128];
    int rc = v ? 0 : -1;
    size_t lineno = 0;
    while (!rc && fgets(line, sizeof line, fp)) {
        lineno++;
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len || line[0] == '#' || strncmp(line, "subject,", 8) == 0)
            continue;
        char *f[4] = {line, NULL, NULL, NULL};
        for (int k = 1; k < 4; k++) {
            char *c = strchr(f[k - 1], ',');
            if (!c)
                break;
            *c = '\0';
            f[k] = c + 1;
        }
        uint64_t s;
        long e, p;
        if (!f[3] || parse_u64(f[0], &s) || parse_int(f[1], 0, UINT32_MAX, &e) ||
            parse_int(f[2], 0, 10, &p) || strlen(f[3]) >= PATH_MAX) {
            fprintf(stderr, "perimeter: %s:%zu: expected subject,encounter,position,path\n", path,
                    lineno);
            rc = -1;
            break;
        }
        if (n == cap) {
            enr_t *w = realloc(v, 2 * cap * sizeof *v);
            if (!w) {
                rc = -1;
                break;
            }
            v = w;
            cap *= 2;
        }
        v[n].subject = s;
        v[n].encounter = (uint32_t)e;
        v[n].position = (int)p;
        snprintf(v[n].path, sizeof v[n].path, "%s", f[3]);
        n++;
    }
    fclose(fp);
    if (rc) {
        free(v);
        return -1;
    }
    *out = v;
    *out_n = n;
    return 0;
}

int pm_cmd_enroll(int argc, char **argv)
{
    gopts_t o = {0};
    uint64_t subject = 0;
    int have_subject = 0;
    long encounter = 1, position = 0;
    const char *list = NULL;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},       {"snapshot", required_argument, NULL, 's'},
        {"subject", required_argument, NULL, 'S'},  {"encounter", required_argument, NULL, 'e'},
        {"position", required_argument, NULL, 'p'}, {"list", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},           {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o.db = optarg; break;
        case 's': o.snapshot = optarg; break;
        case 'S':
            if (parse_u64(optarg, &subject)) {
                fprintf(stderr, "perimeter: --subject: a number 0..2^63-1\n");
                return 2;
            }
            have_subject = 1;
            break;
        case 'e':
            if (parse_int(optarg, 0, UINT32_MAX, &encounter)) {
                fprintf(stderr, "perimeter: --encounter: 0..4294967295\n");
                return 2;
            }
            break;
        case 'p':
            if (parse_int(optarg, 0, 10, &position)) {
                fprintf(stderr, "perimeter: --position: 0 (unknown) or 1..10\n");
                return 2;
            }
            break;
        case 'l': list = optarg; break;
        case 'j': o.json = 1; break;
        case 'h': enroll_usage(stdout); return 0;
        default: enroll_usage(stderr); return 2;
        }
    }
    enr_t *items = NULL;
    size_t n = 0;
    if (list) {
        if (read_list(list, &items, &n))
            return 1;
    } else {
        if (!have_subject || optind >= argc) {
            enroll_usage(stderr);
            return 2;
        }
        n = (size_t)(argc - optind);
        items = calloc(n, sizeof *items);
        if (!items)
            return 1;
        for (size_t i = 0; i < n; i++) {
            items[i].subject = subject;
            items[i].encounter = (uint32_t)encounter;
            items[i].position = position ? (int)((position - 1 + (long)i) % 10) + 1 : 0;
            snprintf(items[i].path, sizeof items[i].path, "%s", argv[optind + (int)i]);
        }
    }
    pm_store_t *st = NULL;
    if (open_store(&o, &st)) {
        free(items);
        return 1;
    }
    pm_error_t err = {0};
    uint64_t gen0 = 0, gen1 = 0;
    int rc = pm_gallery_store_generation(st, &gen0, &err) || pm_store_begin(st, &err);
    pm_fingerprint_t *fp = malloc(sizeof *fp);
    int tty = isatty(2), failed = 0;
    for (size_t i = 0; !rc && fp && i < n; i++) {
        if (pm__cli_load_fingerprint(items[i].path, fp, NULL, &err)) {
            fprintf(stderr, "perimeter: %s: %s\n", items[i].path, pm_error_text(&err));
            failed = 1;
            break;
        }
        if (pm_gallery_store_put(st, items[i].subject, items[i].encounter, items[i].position, fp,
                                 &err)) {
            fprintf(stderr, "perimeter: %s: %s\n", items[i].path, pm_error_text(&err));
            failed = 1;
            break;
        }
        progress(tty, "enroll", i + 1, n);
    }
    if (!rc && !failed && fp)
        rc = pm_store_commit(st, &err) || pm_gallery_store_generation(st, &gen1, &err);
    else
        pm_store_rollback(st, NULL);
    if (rc || failed || !fp) {
        if (rc)
            fprintf(stderr, "perimeter: %s\n", pm_error_text(&err));
        fprintf(stderr, "perimeter: nothing enrolled (the batch is one transaction)\n");
        pm_store_close(st);
        free(fp);
        free(items);
        return 1;
    }
    /* bring the snapshot up to date: the old one plus these records when it
     * was current, else a rebuild from the store */
    char snap[PATH_MAX], how[PATH_MAX + 256];
    snapshot_path(&o, snap, sizeof snap);
    pm_gallery_t *g = NULL;
    pm_gallery_options_t go = {.threads = 1};
    uint64_t sgen = 0;
    int ok = snap[0] && !pm_gallery_new(&go, &g, &err) && !pm_gallery_load_sealed(g, snap, pm_store_seal(st), &sgen, &err) &&
             sgen == gen0;
    for (size_t i = 0; ok && i < n; i++)
        ok = !pm__cli_load_fingerprint(items[i].path, fp, NULL, &err) &&
             !pm_gallery_insert(g, items[i].subject, items[i].encounter, items[i].position, fp, &err);
    if (ok && !pm_gallery_save_sealed(g, snap, gen1, pm_store_seal(st), &err)) {
        snprintf(how, sizeof how, "snapshot %s updated", snap);
    } else {
        pm_gallery_free(g);
        g = NULL;
        if (open_gallery(&o, st, &g, how, sizeof how)) {
            pm_store_close(st);
            free(fp);
            free(items);
            return 1;
        }
    }
    size_t count = pm_gallery_count(g);
    if (o.json)
        printf("{\"enrolled\": %zu, \"gallery_fingers\": %zu, \"generation\": %llu}\n", n, count,
               (unsigned long long)gen1);
    else
        printf("enrolled %zu finger view(s); gallery holds %zu; %s\n", n, count, how);
    pm_gallery_free(g);
    pm_store_close(st);
    free(fp);
    free(items);
    return 0;
}

/* ---- identify / verify ----------------------------------------------------------- */

static void identify_usage(FILE *out, int verify)
{
    if (verify)
        fprintf(out, "usage: perimeter verify [--db PATH] [--snapshot PATH] [--json] --subject ID\n"
                     "                        [--position P] [--raw-fused] FILE...\n"
                     "  several FILEs: the fused score is calibrated per subject compared (the\n"
                     "  built-in fused calibration, docs/gallery.md) unless --raw-fused\n");
    else
        fprintf(out,
                "usage: perimeter identify [--db PATH] [--snapshot PATH] [--json] [--top K]\n"
                "                          [--threshold SCORE | --fpir RATE] [--first-stage]\n"
                "                          [--subset-file IDS] [--threads N] [--position P]\n"
                "                          [--calibration LOC,GROWTH,SCALE] [--raw-fused] FILE...\n"
                "  FILE: a probe finger (image or template); several FILEs are positions P, P+1, ...\n"
                "  (P = 0: unknown, every FILE searched against every position)\n"
                "  scores are -10*log10(FMR); fused over the probe's fingers and calibrated per\n"
                "  subject compared (the built-in fused calibration, as the node's; --raw-fused:\n"
                "  the raw fused score, fused_raw in --json either way); id_score is\n"
                "  -10*log10(FPIR) for this search's size under the identification calibration\n"
                "  (--calibration, fitted by bench gallery; default the matcher's nominal one)\n");
}

static int search_cmd(int argc, char **argv, int verify)
{
    gopts_t o = {0};
    pm_gallery_search_options_t so = {.max_candidates = 10};
    long position = 0;
    uint64_t subject = 0;
    int have_subject = 0;
    const char *subset_file = NULL;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},        {"snapshot", required_argument, NULL, 's'},
        {"top", required_argument, NULL, 'k'},       {"threshold", required_argument, NULL, 't'},
        {"fpir", required_argument, NULL, 'f'},      {"first-stage", no_argument, NULL, '1'},
        {"subset-file", required_argument, NULL, 'u'}, {"threads", required_argument, NULL, 'T'},
        {"position", required_argument, NULL, 'p'},  {"subject", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},            {"help", no_argument, NULL, 'h'},
        {"calibration", required_argument, NULL, 'C'}, {"raw-fused", no_argument, NULL, 'R'},
        {NULL, 0, NULL, 0}};
    int c;
    long v;
    pm_gallery_calibration_t cal = {0}, fcal;
    pm_gallery_fused_calibration_default(&fcal);
    int raw_fused = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o.db = optarg; break;
        case 's': o.snapshot = optarg; break;
        case 'k':
            if (parse_int(optarg, 1, PM_GALLERY_MAX_CANDIDATES, &v))
                goto bad;
            so.max_candidates = (int)v;
            break;
        case 't':
            if (parse_double(optarg, &so.threshold))
                goto bad;
            break;
        case 'f':
            if (parse_double(optarg, &so.target_fpir) || so.target_fpir <= 0 || so.target_fpir >= 1)
                goto bad;
            break;
        case '1': so.first_stage = 1; break;
        case 'C': {
            /* LOC,GROWTH,SCALE */
            char *p1 = strchr(optarg, ','), *p2 = p1 ? strchr(p1 + 1, ',') : NULL;
            if (!p1 || !p2)
                goto bad;
            *p1 = *p2 = 0;
            int bad_cal = parse_double(optarg, &cal.loc) || parse_double(p1 + 1, &cal.growth) ||
                          parse_double(p2 + 1, &cal.scale) || !(cal.scale > 0);
            *p1 = *p2 = ',';
            if (bad_cal)
                goto bad;
            so.calibration = &cal;
            break;
        }
        case 'u': subset_file = optarg; break;
        case 'T':
            if (parse_int(optarg, 1, 256, &v))
                goto bad;
            o.threads = (int)v;
            break;
        case 'p':
            if (parse_int(optarg, 0, 10, &position))
                goto bad;
            break;
        case 'S':
            if (parse_u64(optarg, &subject))
                goto bad;
            have_subject = 1;
            break;
        case 'j': o.json = 1; break;
        case 'R': raw_fused = 1; break;
        case 'h': identify_usage(stdout, verify); return 0;
        default: goto bad;
        }
    }
    int nf = argc - optind;
    if (nf < 1 || nf > PM_GALLERY_MAX_FINGERS || (verify && !have_subject))
        goto bad;
    /* several fingers: the fused score calibrated per subject compared,
     * as the node's routes do (single fingers are calibrated already) */
    if (!raw_fused)
        so.fused_calibration = &fcal;
    pm_fingerprint_t *views = calloc((size_t)nf, sizeof *views);
    pm_gallery_finger_t fingers[PM_GALLERY_MAX_FINGERS];
    pm_error_t err = {0};
    if (!views)
        return 1;
    for (int f = 0; f < nf; f++) {
        if (pm__cli_load_fingerprint(argv[optind + f], &views[f], NULL, &err)) {
            fprintf(stderr, "perimeter: %s: %s\n", argv[optind + f], pm_error_text(&err));
            free(views);
            return 1;
        }
        fingers[f].fp = &views[f];
        fingers[f].position = position ? (int)((position - 1 + f) % 10) + 1 : 0;
    }
    pm_store_t *st = NULL;
    pm_gallery_t *g = NULL;
    char how[PATH_MAX + 256];
    if (open_store(&o, &st) || open_gallery(&o, st, &g, how, sizeof how)) {
        pm_store_close(st);
        pm_gallery_free(g);
        free(views);
        return 1;
    }
    pm_store_close(st);
    if (!o.json && isatty(2))
        fprintf(stderr, "gallery: %s\n", how);
    int rc = 0;
    pm_gallery_candidate_t *cands = calloc((size_t)so.max_candidates, sizeof *cands);
    size_t n = 0;
    pm_gallery_search_stats_t ss = {0};
    if (!cands) {
        rc = 1;
    } else if (verify) {
        if (pm_gallery_verify(g, subject, fingers, nf, &cands[0], &err))
            rc = 1;
        n = 1;
        cands[0].fused_raw = cands[0].score;
        if (!rc && nf > 1 && !raw_fused)
            cands[0].score = pm_gallery_fused_score(&fcal, cands[0].score);
    } else {
        if (subset_file) {
            FILE *fp = fopen(subset_file, "r");
            uint64_t *ids = NULL;
            size_t nid = 0, cap = 0;
            char line[64];
            if (!fp) {
                fprintf(stderr, "perimeter: %s: %s\n", subset_file, strerror(errno));
                rc = 1;
            }
            while (!rc && fgets(line, sizeof line, fp)) {
                line[strcspn(line, "\r\n")] = '\0';
                uint64_t id;
                if (!line[0])
                    continue;
                if (parse_u64(line, &id)) {
                    fprintf(stderr, "perimeter: %s: not a subject id: %s\n", subset_file, line);
                    rc = 1;
                    break;
                }
                if (nid == cap) {
                    cap = cap ? 2 * cap : 256;
                    uint64_t *w = realloc(ids, cap * sizeof *ids);
                    if (!w) {
                        rc = 1;
                        break;
                    }
                    ids = w;
                }
                ids[nid++] = id;
            }
            if (fp)
                fclose(fp);
            if (!rc && pm_gallery_subset_set(g, "cli", ids, nid, &err))
                rc = 1;
            free(ids);
            so.subset = "cli";
        }
        if (!rc && pm_gallery_identify(g, fingers, nf, &so, cands, &n, &ss, &err))
            rc = 1;
    }
    if (rc) {
        if (err.code)
            fprintf(stderr, "perimeter: %s\n", pm_error_text(&err));
    } else if (o.json) {
        json_t *root = json_object(), *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *cj = json_object(), *fs = json_array();
            json_object_set_new(cj, "subject", json_integer((json_int_t)cands[i].subject));
            json_object_set_new(cj, "encounter", json_integer(cands[i].encounter));
            json_object_set_new(cj, "score", json_real(cands[i].score));
            json_object_set_new(cj, "fmr", json_real(pm_match_score_to_fmr(cands[i].score)));
            if (nf > 1)
                json_object_set_new(cj, "fused_raw", json_real(cands[i].fused_raw));
            if (!verify)
                json_object_set_new(cj, "id_score", json_real(cands[i].id_score));
            for (int f = 0; f < nf; f++)
                json_array_append_new(fs, json_real(cands[i].finger_score[f]));
            json_object_set_new(cj, "finger_scores", fs);
            json_array_append_new(arr, cj);
        }
        json_object_set_new(root, verify ? "verification" : "candidates", arr);
        if (!verify) {
            json_object_set_new(root, "records_scanned", json_integer((json_int_t)ss.records_scanned));
            json_object_set_new(root, "records_exact", json_integer((json_int_t)ss.records_exact));
            json_object_set_new(root, "threshold", json_real(ss.threshold_used));
            json_object_set_new(root, "seconds", json_real(ss.seconds));
        }
        char *s = json_dumps(root, JSON_COMPACT);
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(root);
    } else if (verify) {
        printf("subject %llu: score %.2f (FMR %.2g)%s\n", (unsigned long long)subject,
               cands[0].score, pm_match_score_to_fmr(cands[0].score),
               so.threshold > 0 ? (cands[0].score >= so.threshold ? " ACCEPT" : " REJECT") : "");
    } else {
        printf("%zu candidate(s) (threshold %.2f; %llu records, %llu exact comparisons, %.3f s)\n",
               n, ss.threshold_used, (unsigned long long)ss.records_scanned,
               (unsigned long long)ss.records_exact, ss.seconds);
        for (size_t i = 0; i < n; i++)
            printf("%2zu. subject %llu encounter %u score %.2f id_score %.2f\n", i + 1,
                   (unsigned long long)cands[i].subject, cands[i].encounter, cands[i].score,
                   cands[i].id_score);
    }
    free(cands);
    pm_gallery_free(g);
    free(views);
    return rc;
bad:
    identify_usage(stderr, verify);
    return 2;
}

int pm_cmd_identify(int argc, char **argv) { return search_cmd(argc, argv, 0); }
int pm_cmd_verify(int argc, char **argv) { return search_cmd(argc, argv, 1); }

/* ---- gallery stats | rebuild ----------------------------------------------------- */

static int gallery_cmd(int argc, char **argv, int rebuild)
{
    gopts_t o = {0};
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"snapshot", required_argument, NULL, 's'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            o.db = optarg;
        else if (c == 's')
            o.snapshot = optarg;
        else if (c == 'j')
            o.json = 1;
        else {
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: perimeter gallery %s [--db PATH] [--snapshot PATH] [--json]\n",
                    rebuild ? "rebuild" : "stats");
            return c == 'h' ? 0 : 2;
        }
    }
    pm_store_t *st = NULL;
    pm_gallery_t *g = NULL;
    char how[PATH_MAX + 256];
    pm_error_t err = {0};
    if (open_store(&o, &st))
        return 1;
    if (rebuild) {
        /* never trust the snapshot: read the store, write a fresh one */
        pm_gallery_options_t go = {.threads = 1};
        uint64_t gen = 0;
        char snap[PATH_MAX];
        snapshot_path(&o, snap, sizeof snap);
        uint64_t t0 = pm_now_ns();
        if (pm_gallery_new(&go, &g, &err) || pm_gallery_store_load(st, g, &gen, &err) ||
            (snap[0] && pm_gallery_save_sealed(g, snap, gen, pm_store_seal(st), &err))) {
            fprintf(stderr, "perimeter: gallery rebuild: %s\n", pm_error_text(&err));
            pm_gallery_free(g);
            pm_store_close(st);
            return 1;
        }
        snprintf(how, sizeof how, "rebuilt from the store into %s in %.3f s", snap,
                 (double)(pm_now_ns() - t0) / 1e9);
    } else if (open_gallery(&o, st, &g, how, sizeof how)) {
        pm_store_close(st);
        return 1;
    }
    pm_store_close(st);
    pm_gallery_stats_t s;
    pm_gallery_stats(g, &s, &err);
    if (o.json) {
        json_t *root = json_object(), *pos = json_array();
        json_object_set_new(root, "fingers", json_integer((json_int_t)s.fingers));
        json_object_set_new(root, "subjects", json_integer((json_int_t)s.subjects));
        json_object_set_new(root, "bytes_per_finger", json_real(s.bytes_per_finger));
        json_object_set_new(root, "bytes_allocated", json_integer((json_int_t)s.bytes_allocated));
        for (int p = 0; p <= 10; p++)
            json_array_append_new(pos, json_integer((json_int_t)s.positions[p]));
        json_object_set_new(root, "positions", pos);
        json_object_set_new(root, "source", json_string(how));
        char *txt = json_dumps(root, JSON_COMPACT);
        if (txt)
            printf("%s\n", txt);
        free(txt);
        json_decref(root);
    } else {
        printf("fingers %zu, subjects %zu, %.1f bytes/finger (records %zu B + index %zu B), "
               "%d worker threads\n%s\n",
               s.fingers, s.subjects, s.bytes_per_finger, s.bytes_records, s.bytes_index,
               s.threads, how);
    }
    pm_gallery_free(g);
    return 0;
}

int pm_cmd_gallery_stats(int argc, char **argv) { return gallery_cmd(argc, argv, 0); }
int pm_cmd_gallery_rebuild(int argc, char **argv) { return gallery_cmd(argc, argv, 1); }

/* ---- synth templates --------------------------------------------------------------- */

int pm_cmd_synth_templates(int argc, char **argv)
{
    uint64_t seed = 1;
    long subjects = 100, fingers = 1, probes = 30;
    const char *out = NULL;
    pm_gallery_synth_options_t so = {0}; /* the probes' impressions */
    static const struct option opts[] = {
        {"subjects", required_argument, NULL, 'n'}, {"fingers", required_argument, NULL, 'f'},
        {"probes", required_argument, NULL, 'p'},   {"seed", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},      {"shifted", required_argument, NULL, 'O'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'n': bad = parse_int(optarg, 1, 10000000, &subjects); break;
        case 'f': bad = parse_int(optarg, 1, 10, &fingers); break;
        case 'p': bad = parse_int(optarg, 0, 10000000, &probes); break;
        case 's': bad = parse_u64(optarg, &seed); break;
        case 'o': out = optarg; break;
        case 'O':
            bad = parse_double(optarg, &so.shift_share) ||
                  !(so.shift_share >= 0 && so.shift_share <= 1);
            break;
        default: bad = 1;
        }
        if (bad || c == 'h') {
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: perimeter synth templates --out DIR [--subjects N] [--fingers 1..10]\n"
                    "                                 [--probes M] [--seed S] [--shifted 0..1]\n"
                    "  writes DIR/g/<subject>_<position>.pmt (impression 0 of each finger),\n"
                    "  DIR/enroll.csv (for `perimeter enroll --list`), DIR/p/*.pmt probes of which\n"
                    "  one third are mated (impression 1) and DIR/probes.csv (path,position,mate\n"
                    "  subject or empty). --shifted places that share of the probes off-centre\n"
                    "  (one-sided overlaps, pm_gallery_synth_options_t.shift_share). Template-level\n"
                    "  simulation: no images.\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!out) {
        fprintf(stderr, "perimeter: synth templates: --out DIR is required\n");
        return 2;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/g", out);
    mkdir(out, 0755);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/p", out);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/enroll.csv", out);
    FILE *ec = fopen(path, "w");
    snprintf(path, sizeof path, "%s/probes.csv", out);
    FILE *pc = fopen(path, "w");
    if (!ec || !pc) {
        fprintf(stderr, "perimeter: cannot write into %s: %s\n", out, strerror(errno));
        if (ec)
            fclose(ec);
        if (pc)
            fclose(pc);
        return 1;
    }
    fprintf(ec, "subject,encounter,position,path\n");
    fprintf(pc, "path,position,mate\n");
    pm_fingerprint_t *m = malloc(sizeof *m), *v = malloc(sizeof *v);
    pm_buf_t b = {0};
    pm_error_t err = {0};
    int rc = m && v ? 0 : 1, tty = isatty(2);
    size_t total = (size_t)(subjects * fingers), done = 0;
    for (long s = 0; s < subjects && !rc; s++)
        for (long f = 0; f < fingers && !rc; f++) {
            uint64_t id = (uint64_t)s * 10 + (uint64_t)f;
            pm_gallery_synth_master(seed, id, m);
            m->finger = (int)f + 1;
            pm_gallery_synth_impression(m, seed, id, 0, NULL, v);
            pm_buf_reset(&b);
            snprintf(path, sizeof path, "%s/g/%ld_%ld.pmt", out, s + 1, f + 1);
            if (pm_tmpl_write(PM_TMPL_NATIVE, v, 1, &b, &err) ||
                pm_file_write_atomic(path, b.data, b.len, &err)) {
                fprintf(stderr, "perimeter: %s: %s\n", path, pm_error_text(&err));
                rc = 1;
            }
            fprintf(ec, "%ld,1,%ld,%s\n", s + 1, f + 1, path);
            progress(tty, "synth", ++done, total);
        }
    /* probes: every third mated (a random enrolled finger, impression 1),
     * the others from fingers never enrolled (ids above the gallery's) */
    uint64_t st = seed * 0x9E3779B97F4A7C15ull + 12345;
    for (long p = 0; p < probes && !rc; p++) {
        st ^= st << 13, st ^= st >> 7, st ^= st << 17;
        long s, f;
        int mated = p % 3 == 0;
        if (mated) {
            s = (long)(st % (uint64_t)subjects);
            f = (long)((st >> 32) % (uint64_t)fingers);
        } else {
            s = subjects + 1000 + p;
            f = (long)((st >> 32) % (uint64_t)fingers);
        }
        uint64_t id = (uint64_t)s * 10 + (uint64_t)f;
        pm_gallery_synth_master(seed, id, m);
        m->finger = (int)f + 1;
        pm_gallery_synth_impression(m, seed, id, 1, &so, v);
        pm_buf_reset(&b);
        snprintf(path, sizeof path, "%s/p/%ld.pmt", out, p + 1);
        if (pm_tmpl_write(PM_TMPL_NATIVE, v, 1, &b, &err) ||
            pm_file_write_atomic(path, b.data, b.len, &err)) {
            fprintf(stderr, "perimeter: %s: %s\n", path, pm_error_text(&err));
            rc = 1;
        }
        if (mated)
            fprintf(pc, "%s,%ld,%ld\n", path, f + 1, s + 1);
        else
            fprintf(pc, "%s,%ld,\n", path, f + 1);
    }
    if (fclose(ec) | fclose(pc))
        rc = 1;
    pm_buf_free(&b);
    free(m);
    free(v);
    if (!rc)
        printf("wrote %zu gallery templates and %ld probes into %s (template-level simulation, "
               "seed %llu)\n",
               total, probes, out, (unsigned long long)seed);
    return rc;
}
