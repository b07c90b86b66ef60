/* Commands of the link module: link, review, report, screen, eval linkage. */
#include <fcntl.h>
#include <time.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_env.h"
#include "perimeter/core.h"
#include "perimeter/link.h"
#include "perimeter/reports.h"
#include "perimeter/store.h"
#include "perimeter/synth.h"
#include "perimeter/travel.h"

#include "cli/cmd_link_util.h"

/* ---- reading crossings from a file ------------------------------------------ */

int pm__cli_each_crossing_file(const char *path, const char *home, uint64_t limit,
                               pm__cli_crossing_fn fn, void *user, uint64_t *out_rejected,
                               pm_error_t *err)
{
    *out_rejected = 0;
    pm_crossing_format_t fmt = pm_crossing_format_for_path(path);
    if (fmt == PM_CROSSING_FORMAT_AUTO) fmt = PM_CROSSING_FORMAT_CSV;
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pm_error_set(err, PM_ENOTFOUND, "%s: cannot open", path);
    pm_crossing_reader_t *r = NULL;
    int rc = pm_crossing_reader_open_fd(fd, fmt, &r, err);
    pm_crossing_t *c = malloc(sizeof *c);
    if (!rc && !c) rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    uint64_t n = 0;
    int tty = isatty(2);
    while (!rc && (!limit || n < limit)) {
        pm_error_t rowerr = {0};
        int got = pm_crossing_reader_next(r, c, NULL, &rowerr);
        if (got == 0) break;
        if (got == PM_EIO || got == PM_EFORMAT) {
            *err = rowerr;
            rc = got;
            break;
        }
        if (got < 0) {
            if (*out_rejected < 5)
                fprintf(stderr, "%s: %s (skipped)\n", path, pm_error_text(&rowerr));
            (*out_rejected)++;
            continue;
        }
        /* each side reports its own entries: a partner's entry is our exit */
        if (home && *home && strcmp(c->reporting_country, home) != 0 &&
            c->direction == PM_DIRECTION_ENTRY)
            c->direction = PM_DIRECTION_EXIT;
        c->store_id = (int64_t)n + 1;
        rc = fn(user, c, err);
        n++;
        if (tty && n % 100000 == 0) fprintf(stderr, "\r%llu records", (unsigned long long)n);
    }
    if (tty && n >= 100000) fprintf(stderr, "\r\033[K");
    free(c);
    pm_crossing_reader_free(r);
    if (fd > 0) close(fd);
    return rc;
}

/* ---- eval linkage -------------------------------------------------------------- */

typedef struct eval_ctx {
    pm_linker_t *lk;
    const pm_link_truth_t *truth;
    uint64_t *person;
    size_t n, cap;
    uint64_t untruthed;
    uint64_t link_ns;
    uint64_t link_cpu_ns;
} eval_ctx_t;

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int eval_add(void *user, pm_crossing_t *c, pm_error_t *err)
{
    eval_ctx_t *ev = user;
    uint64_t person = 0;
    if (ev->truth) {
        if (pm_link_truth_person(ev->truth, c->reporting_country, c->record_id, &person)) {
            ev->untruthed++;
            return PM_OK;
        }
        if (ev->n == ev->cap) {
            size_t nc = ev->cap ? ev->cap * 2 : 1 << 16;
            uint64_t *np = realloc(ev->person, nc * sizeof *np);
            if (!np) return pm_error_set(err, PM_ENOMEM, "out of memory");
            ev->person = np;
            ev->cap = nc;
        }
        ev->person[ev->n] = person;
    }
    uint64_t t0 = pm_now_ns(), c0 = thread_cpu_ns();
    int rc = pm_linker_add(ev->lk, c, NULL, err);
    ev->link_cpu_ns += thread_cpu_ns() - c0;
    ev->link_ns += pm_now_ns() - t0;
    if (rc) return rc;
    ev->n++;
    return PM_OK;
}

static void eval_usage(FILE *out)
{
    fprintf(out, "usage: perimeter eval linkage --crossings FILE --truth FILE [options]\n"
                 "  --crossings FILE   crossing records (CSV or JSON Lines, the wire format)\n"
                 "  --truth FILE       ground truth CSV: reporting_country,record_id,person_id\n"
                 "  --country CODE     our country (alpha-3): the partner's entries are our exits\n"
                 "  --limit N          use only the first N records\n"
                 "  --em N             estimate the weights by EM on the first N records first\n"
                 "                     (0 = keep the default weights; default 200000)\n"
                 "  --link W --review W  thresholds on the total log2 weight\n"
                 "  --json             machine-readable output\n");
}

static void print_model(FILE *out, const pm_link_model_t *m)
{
    fprintf(out, "model: %s, p(match) %.4f, link >= %.1f, review >= %.1f\n",
            m->em_iterations ? "EM" : "default", m->p_match, m->link_threshold,
            m->review_threshold);
    for (int f = 0; f < PM_LINK_FIELDS; f++) {
        fprintf(out, "  %-12s", pm_link_field_name(f));
        for (int l = 0; l < pm_link_field_levels(f); l++)
            fprintf(out, " %s %+.1f", pm_link_level_name(f, l), m->w[f][l]);
        fprintf(out, "\n");
    }
}

static json_t *model_json(const pm_link_model_t *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "estimated", json_boolean(m->em_iterations > 0));
    json_object_set_new(o, "em_iterations", json_integer(m->em_iterations));
    json_object_set_new(o, "p_match", json_real(m->p_match));
    json_object_set_new(o, "link_threshold", json_real(m->link_threshold));
    json_object_set_new(o, "review_threshold", json_real(m->review_threshold));
    json_t *w = json_object();
    for (int f = 0; f < PM_LINK_FIELDS; f++) {
        json_t *fw = json_object();
        for (int l = 0; l < pm_link_field_levels(f); l++)
            json_object_set_new(fw, pm_link_level_name(f, l), json_real(m->w[f][l]));
        json_object_set_new(w, pm_link_field_name(f), fw);
    }
    json_object_set_new(o, "weights", w);
    return o;
}

int pm__cli_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end) return -1;
    *out = v;
    return 0;
}

int pm__cli_parse_double(const char *s, double *out)
{
    char *end;
    if (!s || !*s) return -1;
    double v = strtod(s, &end);
    if (*end) return -1;
    *out = v;
    return 0;
}

int pm_cmd_eval_linkage(int argc, char **argv)
{
    const char *crossings = NULL, *truth_path = NULL, *home = "";
    uint64_t limit = 0, em_sample = 200000;
    double link_t = 0, review_t = 0;
    int have_link = 0, have_review = 0, json = 0;
    static const struct option opts[] = {{"crossings", required_argument, NULL, 'c'},
                                         {"truth", required_argument, NULL, 't'},
                                         {"country", required_argument, NULL, 'C'},
                                         {"limit", required_argument, NULL, 'n'},
                                         {"em", required_argument, NULL, 'e'},
                                         {"link", required_argument, NULL, 'L'},
                                         {"review", required_argument, NULL, 'R'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            crossings = optarg;
            break;
        case 't':
            truth_path = optarg;
            break;
        case 'C':
            home = optarg;
            break;
        case 'n':
            if (pm__cli_parse_u64(optarg, &limit)) goto bad;
            break;
        case 'e':
            if (pm__cli_parse_u64(optarg, &em_sample)) goto bad;
            break;
        case 'L':
            if (pm__cli_parse_double(optarg, &link_t)) goto bad;
            have_link = 1;
            break;
        case 'R':
            if (pm__cli_parse_double(optarg, &review_t)) goto bad;
            have_review = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            eval_usage(stdout);
            return 0;
        default:
            goto bad;
        }
    }
    if (!crossings || !truth_path || optind != argc) goto bad;

    pm_error_t err = {0};
    pm_link_truth_t *truth = NULL;
    uint64_t t0 = pm_now_ns();
    int rc = pm_link_truth_load(truth_path, 50000000, &truth, &err);
    if (rc) {
        fprintf(stderr, "perimeter eval linkage: %s\n", pm_error_text(&err));
        return 1;
    }
    pm_link_model_t model;
    pm_link_model_default(&model);
    if (have_link) model.link_threshold = link_t;
    if (have_review) model.review_threshold = review_t;
    uint64_t rejected = 0, em_records = 0;
    double em_s = 0;
    if (em_sample > 0) {
        eval_ctx_t ev = {0};
        uint64_t e0 = pm_now_ns();
        rc = pm_linker_new(&model, &ev.lk, &err);
        if (!rc)
            rc = pm__cli_each_crossing_file(crossings, home,
                                            limit && limit < em_sample ? limit : em_sample,
                                            eval_add, &ev, &rejected, &err);
        if (!rc) {
            pm_link_model_t est = model;
            rc = pm_link_model_em(pm_linker_pattern_counts(ev.lk), &est, &err);
            if (rc == PM_OK)
                model = est;
            else if (rc == PM_EINVAL || rc == PM_ESTATE) {
                fprintf(stderr, "perimeter eval linkage: default weights (%s)\n",
                        pm_error_text(&err));
                rc = PM_OK;
            }
        }
        em_records = ev.n;
        pm_linker_free(ev.lk);
        em_s = (double)(pm_now_ns() - e0) / 1e9;
        if (rc) {
            fprintf(stderr, "perimeter eval linkage: EM: %s\n", pm_error_text(&err));
            pm_link_truth_free(truth);
            return 1;
        }
    }
    eval_ctx_t ev = {0};
    ev.truth = truth;
    rc = pm_linker_new(&model, &ev.lk, &err);
    uint64_t r0 = pm_now_ns();
    if (!rc)
        rc = pm__cli_each_crossing_file(crossings, home, limit, eval_add, &ev, &rejected, &err);
    double total_s = (double)(pm_now_ns() - r0) / 1e9;
    pm_link_quality_t q;
    if (!rc) rc = pm_link_quality(ev.lk, ev.person, ev.n, &q, &err);
    if (rc) {
        fprintf(stderr, "perimeter eval linkage: %s\n", pm_error_text(&err));
        pm_linker_free(ev.lk);
        pm_link_truth_free(truth);
        free(ev.person);
        return 1;
    }
    double link_s = (double)ev.link_ns / 1e9, cpu_s = (double)ev.link_cpu_ns / 1e9;
    double rps = link_s > 0 ? (double)ev.n / link_s : 0;
    double cpu_rps = cpu_s > 0 ? (double)ev.n / cpu_s : 0;
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "records", json_integer((json_int_t)q.records));
        json_object_set_new(o, "rejected", json_integer((json_int_t)rejected));
        json_object_set_new(o, "without_truth", json_integer((json_int_t)ev.untruthed));
        json_object_set_new(o, "persons", json_integer((json_int_t)q.persons));
        json_object_set_new(o, "travellers", json_integer((json_int_t)q.travellers));
        json_object_set_new(o, "true_pairs", json_integer((json_int_t)q.true_pairs));
        json_object_set_new(o, "linked_pairs", json_integer((json_int_t)q.linked_pairs));
        json_object_set_new(o, "correct_pairs", json_integer((json_int_t)q.correct_pairs));
        json_object_set_new(o, "precision", json_real(q.precision));
        json_object_set_new(o, "recall", json_real(q.recall));
        json_object_set_new(o, "f1", json_real(q.f1));
        json_object_set_new(o, "exits", json_integer((json_int_t)q.exits));
        json_object_set_new(o, "reconcilable_exits", json_integer((json_int_t)q.reconcilable));
        json_object_set_new(o, "reconciled_exits", json_integer((json_int_t)q.reconciled));
        json_object_set_new(o, "reconciled_correct",
                            json_integer((json_int_t)q.reconciled_correct));
        json_object_set_new(o, "reconciliation_rate", json_real(q.reconciliation));
        json_object_set_new(o, "review_queue", json_integer((json_int_t)q.reviews));
        json_object_set_new(o, "merges", json_integer((json_int_t)q.merges));
        json_object_set_new(o, "profiles",
                            json_integer((json_int_t)pm_linker_profile_count(ev.lk)));
        json_object_set_new(o, "comparisons",
                            json_integer((json_int_t)pm_linker_comparisons(ev.lk)));
        json_object_set_new(o, "link_seconds", json_real(link_s));
        json_object_set_new(o, "records_per_second", json_real(rps));
        json_object_set_new(o, "link_cpu_seconds", json_real(cpu_s));
        json_object_set_new(o, "records_per_cpu_second", json_real(cpu_rps));
        json_object_set_new(o, "read_and_link_seconds", json_real(total_s));
        json_object_set_new(o, "em_records", json_integer((json_int_t)em_records));
        json_object_set_new(o, "em_seconds", json_real(em_s));
        json_object_set_new(o, "model", model_json(&model));
        char *s = json_dumps(o, JSON_INDENT(2));
        if (s) puts(s);
        free(s);
        json_decref(o);
    } else {
        print_model(stdout, &model);
        printf("records            %llu (rejected %llu, without truth %llu)\n",
               (unsigned long long)q.records, (unsigned long long)rejected,
               (unsigned long long)ev.untruthed);
        printf("persons            %llu true, %llu travellers found\n",
               (unsigned long long)q.persons, (unsigned long long)q.travellers);
        printf("precision          %.5f  (%llu of %llu linked pairs)\n", q.precision,
               (unsigned long long)q.correct_pairs, (unsigned long long)q.linked_pairs);
        printf("recall             %.5f  (%llu of %llu true pairs)\n", q.recall,
               (unsigned long long)q.correct_pairs, (unsigned long long)q.true_pairs);
        printf("F1                 %.5f\n", q.f1);
        printf("exits              %llu, reconcilable %llu, reconciled %llu, correctly %llu\n",
               (unsigned long long)q.exits, (unsigned long long)q.reconcilable,
               (unsigned long long)q.reconciled, (unsigned long long)q.reconciled_correct);
        printf("reconciliation     %.5f  (correctly reconciled / reconcilable)\n",
               q.reconciliation);
        printf("review queue       %llu pairs; merges %llu\n", (unsigned long long)q.reviews,
               (unsigned long long)q.merges);
        printf("profiles           %zu; comparisons %zu\n", pm_linker_profile_count(ev.lk),
               pm_linker_comparisons(ev.lk));
        printf("linking            %.3f s wall, %.0f records/s; %.3f s CPU, %.0f records/CPU-s\n"
               "                   (one thread; reading+linking %.3f s wall)\n",
               link_s, rps, cpu_s, cpu_rps, total_s);
        if (em_records)
            printf("EM pass            %llu records, %.3f s\n", (unsigned long long)em_records,
                   em_s);
        printf("total              %.3f s\n", (double)(pm_now_ns() - t0) / 1e9);
    }
    pm_linker_free(ev.lk);
    pm_link_truth_free(truth);
    free(ev.person);
    return 0;
bad:
    eval_usage(stderr);
    return 2;
}

/* ---- common: store, output format ------------------------------------------------ */

enum out_fmt { OUT_TABLE = 0, OUT_CSV = 1, OUT_JSON = 2 };

static pm_store_t *open_db(const char *path, int read_only)
{
    pm_store_options_t o = {PM_STORE_DURABLE_FULL, !read_only, 0, 0};
    pm_store_t *st = NULL;
    pm_error_t e = {0};
    path = pm__cli_db_path(path);
    if (pm_store_open(path, &o, &st, &e) != PM_OK) {
        fprintf(stderr, "perimeter: database %s: %s\n", path, pm_error_text(&e));
        return NULL;
    }
    return st;
}

/* ---- link ------------------------------------------------------------------------- */

typedef struct link_ctx {
    pm_linker_t *lk;
    uint64_t limit, n;
} link_ctx_t;

static int link_all(pm_store_t *st, pm_linker_t *lk, uint64_t limit, uint64_t *out_n,
                    pm_error_t *err)
{
    /* arrival (store id) order: a later run replays the earlier decisions
     * exactly and links the new crossings on top, so traveller ids and the
     * merge log stay stable - the incremental linker, persisted */
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_STORE_ID;
    f.limit = (int64_t)limit;
    pm_crossing_iter_t *it = NULL;
    int rc = pm_store_crossings(st, &f, &it, err);
    pm_crossing_t *c = malloc(sizeof *c);
    if (!rc && !c) rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    uint64_t n = 0;
    int tty = isatty(2);
    while (!rc) {
        int got = pm_crossing_iter_next(it, c, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        rc = pm_linker_add(lk, c, NULL, err);
        if (tty && ++n % 100000 == 0) fprintf(stderr, "\rlinked %llu", (unsigned long long)n);
    }
    if (tty && n >= 100000) fprintf(stderr, "\r\033[K");
    free(c);
    pm_crossing_iter_close(it);
    *out_n = pm_linker_record_count(lk);
    return rc;
}

static void link_usage(FILE *out)
{
    fprintf(out, "usage: perimeter link [--db PATH] [--em N] [--link W] [--review W] [--json]\n"
                 "Links the stored crossings into travellers in arrival order and saves\n"
                 "travellers, merges and the review queue in the database. Replaying the\n"
                 "arrival order reproduces earlier decisions, so a run after an import links\n"
                 "the new crossings on top: traveller ids stay, merges are logged once, and\n"
                 "review decisions are kept and re-applied.\n"
                 "  --em N       estimate the weights by EM on the first N crossings (default\n"
                 "               200000; 0 = the default weights, also used when EM has\n"
                 "               fewer than 5000 compared pairs)\n"
                 "  --link W     link threshold on the total log2 weight (default 10)\n"
                 "  --review W   review threshold (default 4)\n");
}

int pm_cmd_link(int argc, char **argv)
{
    const char *db = NULL;
    uint64_t em = 200000;
    double lt = 0, rt = 0;
    int have_l = 0, have_r = 0, json = 0;
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"em", required_argument, NULL, 'e'},
                                         {"link", required_argument, NULL, 'L'},
                                         {"review", required_argument, NULL, 'R'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            db = optarg;
            break;
        case 'e':
            if (pm__cli_parse_u64(optarg, &em)) goto bad;
            break;
        case 'L':
            if (pm__cli_parse_double(optarg, &lt)) goto bad;
            have_l = 1;
            break;
        case 'R':
            if (pm__cli_parse_double(optarg, &rt)) goto bad;
            have_r = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            link_usage(stdout);
            return 0;
        default:
            goto bad;
        }
    }
    if (optind != argc) goto bad;
    pm_store_t *st = open_db(db, 0);
    if (!st) return 3;
    pm_error_t err = {0};
    pm_link_model_t model;
    pm_link_model_default(&model);
    if (have_l) model.link_threshold = lt;
    if (have_r) model.review_threshold = rt;
    pm_linker_t *lk = NULL;
    uint64_t n = 0;
    int rc = PM_OK;
    if (em) {
        rc = pm_linker_new(&model, &lk, &err);
        if (!rc) rc = link_all(st, lk, em, &n, &err);
        if (!rc) {
            pm_link_model_t est = model;
            int erc = pm_link_model_em(pm_linker_pattern_counts(lk), &est, &err);
            if (erc == PM_OK)
                model = est;
            else if (erc == PM_EINVAL || erc == PM_ESTATE)
                fprintf(stderr, "perimeter link: default weights (%s)\n", pm_error_text(&err));
            else
                rc = erc;
        }
        pm_linker_free(lk);
        lk = NULL;
    }
    uint64_t t0 = pm_now_ns();
    if (!rc) rc = pm_linker_new(&model, &lk, &err);
    if (!rc) rc = link_all(st, lk, 0, &n, &err);
    double secs = (double)(pm_now_ns() - t0) / 1e9;
    uint64_t t1 = pm_now_ns();
    if (!rc) rc = pm_link_store_save(st, lk, &err);
    double save_secs = (double)(pm_now_ns() - t1) / 1e9;
    if (rc) {
        fprintf(stderr, "perimeter link: %s\n", pm_error_text(&err));
        pm_linker_free(lk);
        pm_store_close(st);
        return 3;
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "records", json_integer((json_int_t)n));
        json_object_set_new(o, "travellers",
                            json_integer((json_int_t)pm_linker_traveller_count(lk)));
        json_object_set_new(o, "merges", json_integer((json_int_t)pm_linker_merge_count(lk)));
        json_object_set_new(o, "review_pairs",
                            json_integer((json_int_t)pm_linker_review_count(lk)));
        json_object_set_new(o, "seconds", json_real(secs));
        json_object_set_new(o, "records_per_second", json_real(secs > 0 ? (double)n / secs : 0));
        json_object_set_new(o, "save_seconds", json_real(save_secs));
        json_object_set_new(o, "model", model_json(&model));
        char *s = json_dumps(o, JSON_INDENT(2));
        if (s) puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("linked %llu crossings into %zu travellers (%zu merges, %zu pairs for review) in "
               "%.2f s\n",
               (unsigned long long)n, pm_linker_traveller_count(lk), pm_linker_merge_count(lk),
               pm_linker_review_count(lk), secs);
    }
    pm_linker_free(lk);
    pm_store_close(st);
    return 0;
bad:
    link_usage(stderr);
    return 2;
}

/* ---- review ----------------------------------------------------------------------- */

static void person_line(const pm_crossing_t *c, char *out, size_t cap)
{
    char dob[16];
    pm_dob_format(&c->dob, dob);
    snprintf(out, cap, "%s, %s%s%s | %s | %c | %s | %s %s", c->surname, c->given_names,
             c->middle_names[0] ? " " : "", c->middle_names, dob, c->sex ? c->sex : '-',
             c->citizenship, c->document_issuer, c->document_number);
}

static json_t *crossing_json(const pm_crossing_t *c, uint32_t traveller)
{
    char dob[16], ts[32];
    pm_dob_format(&c->dob, dob);
    pm_timestamp_format(c->time_utc, c->utc_offset_min, ts);
    json_t *o = json_object();
    json_object_set_new(o, "store_id", json_integer(c->store_id));
    if (traveller) json_object_set_new(o, "traveller", json_integer(traveller));
    json_object_set_new(o, "reporting_country", json_string(c->reporting_country));
    json_object_set_new(o, "record_id", json_string(c->record_id));
    json_object_set_new(o, "direction", json_string(pm_direction_name(c->direction)));
    json_object_set_new(o, "timestamp", json_string(ts));
    json_object_set_new(o, "port_code", json_string(c->port_code));
    json_object_set_new(o, "surname", json_string(c->surname));
    json_object_set_new(o, "given_names", json_string(c->given_names));
    json_object_set_new(o, "middle_names", json_string(c->middle_names));
    json_object_set_new(o, "date_of_birth", json_string(dob));
    json_object_set_new(o, "citizenship", json_string(c->citizenship));
    json_object_set_new(o, "document_number", json_string(c->document_number));
    json_object_set_new(o, "document_issuer", json_string(c->document_issuer));
    if (c->origin[0]) json_object_set_new(o, "origin", json_string(c->origin));
    return o;
}

static void review_usage(FILE *out)
{
    fprintf(out, "usage: perimeter review [--db PATH] [--status open|accepted|rejected|all]\n"
                 "                        [--limit N] [--json]\n"
                 "       perimeter review [--db PATH] --accept ID | --reject ID\n"
                 "Lists the uncertain pairs found by `perimeter link` with their evidence, or\n"
                 "records a clerk's decision (an accepted pair merges the two travellers).\n");
}

int pm_cmd_review(int argc, char **argv)
{
    const char *db = NULL, *status = "open";
    uint64_t limit = 50, decide_id = 0;
    int json = 0, decide = -1;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},     {"status", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'n'},  {"accept", required_argument, NULL, 'a'},
        {"reject", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            db = optarg;
            break;
        case 's':
            status = strcmp(optarg, "all") == 0 ? NULL : optarg;
            if (status && strcmp(status, "open") && strcmp(status, "accepted") &&
                strcmp(status, "rejected"))
                goto bad;
            break;
        case 'n':
            if (pm__cli_parse_u64(optarg, &limit)) goto bad;
            break;
        case 'a':
        case 'r':
            if (pm__cli_parse_u64(optarg, &decide_id) || decide >= 0) goto bad;
            decide = opt == 'a';
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            review_usage(stdout);
            return 0;
        default:
            goto bad;
        }
    }
    if (optind != argc) goto bad;
    pm_store_t *st = open_db(db, 0);
    if (!st) return 3;
    pm_error_t err = {0};
    if (decide >= 0) {
        int rc = pm_link_store_decide(st, (int64_t)decide_id, decide, &err);
        pm_store_close(st);
        if (rc) {
            fprintf(stderr, "perimeter review: %s\n", pm_error_text(&err));
            return rc == PM_ENOTFOUND || rc == PM_ESTATE ? 1 : 3;
        }
        printf("review pair %llu %s\n", (unsigned long long)decide_id,
               decide ? "accepted: travellers merged" : "rejected");
        return 0;
    }
    pm_link_review_row_t *rows = NULL;
    size_t n = 0;
    int rc = pm_link_store_reviews(st, status, (size_t)limit, &rows, &n, &err);
    if (rc) {
        fprintf(stderr, "perimeter review: %s\n", pm_error_text(&err));
        pm_store_close(st);
        return 3;
    }
    json_t *arr = json ? json_array() : NULL;
    pm_crossing_t *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    for (size_t i = 0; a && b && i < n; i++) {
        if (pm_store_get_crossing(st, rows[i].crossing_id, a, &err) ||
            pm_store_get_crossing(st, rows[i].candidate_id, b, &err)) {
            fprintf(stderr, "perimeter review: %s\n", pm_error_text(&err));
            continue;
        }
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "id", json_integer(rows[i].id));
            json_object_set_new(o, "status", json_string(rows[i].status));
            json_object_set_new(o, "score", json_real(rows[i].score));
            json_object_set_new(o, "evidence", json_string(rows[i].evidence));
            json_object_set_new(o, "record", crossing_json(a, rows[i].traveller));
            json_object_set_new(o, "candidate", crossing_json(b, rows[i].candidate_traveller));
            json_array_append_new(arr, o);
        } else {
            char la[512], lb[512];
            person_line(a, la, sizeof la);
            person_line(b, lb, sizeof lb);
            printf("#%lld  score %.1f  %s  [%s]\n  record    %s:%s (traveller %u)  %s\n"
                   "  candidate %s:%s (traveller %u)  %s\n",
                   (long long)rows[i].id, rows[i].score, rows[i].status, rows[i].evidence,
                   a->reporting_country, a->record_id, rows[i].traveller, la, b->reporting_country,
                   b->record_id, rows[i].candidate_traveller, lb);
        }
    }
    if (json) {
        char *s = json_dumps(arr, JSON_INDENT(2));
        if (s) puts(s);
        free(s);
        json_decref(arr);
    } else if (n == 0)
        printf("no %s review pairs\n", status ? status : "");
    free(a);
    free(b);
    free(rows);
    pm_store_close(st);
    return 0;
bad:
    review_usage(stderr);
    return 2;
}

/* ---- report ----------------------------------------------------------------------- */

/* The events are loaded by the library (perimeter/reports.h). */
typedef pm_link_events_t linked_t;

/* Prints a library report result in the chosen format (the same bytes a server sends). */
static int print_report(const pm_report_t *r, enum out_fmt fmt, pm_error_t *err)
{
    char *text = NULL;
    size_t len = 0;
    pm_report_format_t f = fmt == OUT_JSON ? PM_REPORT_JSON
                           : fmt == OUT_CSV ? PM_REPORT_CSV
                                            : PM_REPORT_TEXT;
    int rc = pm_report_render(r, f, &text, &len, err);
    if (!rc) fwrite(text, 1, len, stdout);
    free(text);
    return rc;
}

static int parse_date_arg(const char *s, pm_dob_t *d)
{
    return pm_dob_parse(s, strlen(s), d, NULL) || !d->month || !d->day ? -1 : 0;
}

static void report_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter report KIND [--db PATH] [--csv | --json] [options]\n"
            "  history   --traveller ID | --record COUNTRY:RECORD_ID | --document NUMBER\n"
            "            the traveller's crossings in time order\n"
            "  reconcile [--all]\n"
            "            exits reconciled with a prior entry; lists the unreconciled ones\n"
            "            (the work queue), or every exit with --all\n"
            "  overstays --as-of DATE [--stay CODE=DAYS ...]\n"
            "            still inside past the authorised stay: the entry's own admission\n"
            "            data (stay_basis=admission), else a stay per citizenship\n"
            "            (stay_basis=estimated; default=180; CODE=0 means not limited);\n"
            "            a likely exit under another traveller makes it departure_to_confirm\n"
            "  presence  (--traveller ID | --all) --as-of DATE [--years 5] [--required 1095]\n"
            "            days of physical presence in the window ending on DATE; gaps in\n"
            "            the records as uncertain ranges (days_min, days_max)\n"
            "            (citizenship 1095 in 5 years; permanent residence 730)\n"
            "  removals  --orders FILE\n"
            "            departures of people under removal orders, with the evidence\n"
            "            (exit record, how the order matched, the linking traveller); FILE is CSV with\n"
            "            order_id,surname,given_names,date_of_birth,document_number,order_date\n"
            "Run `perimeter link` first; crossings imported since are reported as unlinked.\n");
}

typedef struct report_opts {
    const char *db;
    enum out_fmt fmt;
    int64_t traveller;
    const char *record, *document, *orders;
    int all;
    pm_dob_t as_of;
    int have_as_of;
    int years;
    int required;
    pm_stay_rules_t rules;
} report_opts_t;

static int history_report(pm_store_t *st, const report_opts_t *o, linked_t *L, pm_error_t *err)
{
    pm_history_query_t q = {o->traveller, o->record, o->document};
    pm_report_t *r = NULL;
    int rc = pm_report_history(st, L, &q, &r, err);
    if (!rc) rc = print_report(r, o->fmt, err);
    pm_report_free(r);
    return rc;
}

static int reconcile_report(const report_opts_t *o, linked_t *L, pm_error_t *err)
{
    pm_report_t *r = NULL;
    int rc = pm_report_reconcile(L, o->all, &r, err);
    if (!rc) rc = print_report(r, o->fmt, err);
    pm_report_free(r);
    return rc;
}

static int overstay_report(pm_store_t *st, const report_opts_t *o, linked_t *L, pm_error_t *err)
{
    pm_report_t *r = NULL;
    int rc = pm_report_overstays(st, L, &o->rules, &o->as_of, &r, err);
    if (!rc) rc = print_report(r, o->fmt, err);
    pm_report_free(r);
    return rc;
}

static int presence_report(const report_opts_t *o, linked_t *L, pm_error_t *err)
{
    pm_report_t *r = NULL;
    int rc = pm_report_presence(L, o->all ? 0 : o->traveller, &o->as_of, o->years, o->required,
                                &r, err);
    if (!rc) rc = print_report(r, o->fmt, err);
    pm_report_free(r);
    return rc;
}

static int removals_report(pm_store_t *st, const report_opts_t *o, linked_t *L, pm_error_t *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(o->orders, 64u << 20, &data, &len, err);
    if (rc) return rc;
    pm_report_t *r = NULL;
    rc = pm_report_removals(st, L, (const char *)data, len, o->orders, &r, err);
    free(data);
    if (!rc) rc = print_report(r, o->fmt, err);
    pm_report_free(r);
    return rc;
}

int pm_cmd_report(int argc, char **argv)
{
    report_opts_t o;
    memset(&o, 0, sizeof o);
    o.years = 5;
    o.required = 1095;
    o.rules.default_days = 180;
    pm_error_t err = {0};
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        report_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *kind = argv[1];
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},     {"csv", no_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},         {"traveller", required_argument, NULL, 't'},
        {"record", required_argument, NULL, 'r'}, {"document", required_argument, NULL, 'D'},
        {"all", no_argument, NULL, 'a'},          {"as-of", required_argument, NULL, 'A'},
        {"years", required_argument, NULL, 'y'},  {"required", required_argument, NULL, 'q'},
        {"stay", required_argument, NULL, 's'},   {"orders", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int opt;
    uint64_t v;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            o.db = optarg;
            break;
        case 'c':
            o.fmt = OUT_CSV;
            break;
        case 'j':
            o.fmt = OUT_JSON;
            break;
        case 't':
            if (pm__cli_parse_u64(optarg, &v) || v == 0 || v > UINT32_MAX) goto bad;
            o.traveller = (int64_t)v;
            break;
        case 'r':
            o.record = optarg;
            break;
        case 'D':
            o.document = optarg;
            break;
        case 'a':
            o.all = 1;
            break;
        case 'A':
            if (parse_date_arg(optarg, &o.as_of)) {
                fprintf(stderr, "perimeter report: --as-of wants YYYY-MM-DD\n");
                return 2;
            }
            o.have_as_of = 1;
            break;
        case 'y':
            if (pm__cli_parse_u64(optarg, &v) || v == 0 || v > 100) goto bad;
            o.years = (int)v;
            break;
        case 'q':
            if (pm__cli_parse_u64(optarg, &v) || v > 36600) goto bad;
            o.required = (int)v;
            break;
        case 's':
            if (pm_stay_rules_add(&o.rules, optarg, &err)) {
                fprintf(stderr, "perimeter report: %s\n", pm_error_text(&err));
                return 2;
            }
            break;
        case 'o':
            o.orders = optarg;
            break;
        case 'h':
            report_usage(stdout);
            return 0;
        default:
            goto bad;
        }
    }
    if (optind != argc) goto bad;
    int is_hist = !strcmp(kind, "history"), is_rec = !strcmp(kind, "reconcile"),
        is_over = !strcmp(kind, "overstays"), is_pres = !strcmp(kind, "presence"),
        is_rem = !strcmp(kind, "removals");
    if (!(is_hist || is_rec || is_over || is_pres || is_rem)) goto bad;
    if ((is_hist && !o.traveller && !o.record && !o.document) || (is_over && !o.have_as_of) ||
        (is_pres && (!o.have_as_of || (!o.all && !o.traveller))) || (is_rem && !o.orders))
        goto bad;
    pm_store_t *st = open_db(o.db, 0);
    if (!st) return 3;
    linked_t L;
    int rc = pm_link_events_load(st, &L, &err);
    if (!rc && L.n == 0 && L.unlinked > 0)
        fprintf(stderr, "perimeter report: no crossing is linked yet; run `perimeter link`\n");
    else if (!rc && L.unlinked > 0)
        fprintf(stderr,
                "perimeter report: %llu crossings are not linked yet (run `perimeter link`)\n",
                (unsigned long long)L.unlinked);
    if (!rc) {
        if (is_hist)
            rc = history_report(st, &o, &L, &err);
        else if (is_rec)
            rc = reconcile_report(&o, &L, &err);
        else if (is_over)
            rc = overstay_report(st, &o, &L, &err);
        else if (is_pres)
            rc = presence_report(&o, &L, &err);
        else
            rc = removals_report(st, &o, &L, &err);
    }
    pm_link_events_free(&L);
    pm_store_close(st);
    if (rc) {
        fprintf(stderr, "perimeter report %s: %s\n", kind, pm_error_text(&err));
        return rc == PM_ENOTFOUND ? 1 : 3;
    }
    return 0;
bad:
    report_usage(stderr);
    return 2;
}

/* ---- screen ----------------------------------------------------------------------- */

static int screen_crossing(void *user, pm_crossing_t *c, pm_error_t *err)
{
    return pm_screen_run_crossing(user, c, err);
}

static void screen_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter screen --watchlist FILE (--manifest FILE | --crossings FILE |\n"
            "                        --db PATH) [--min SCORE] [--min-undated SCORE]\n"
            "                        [--max-hits N] [--csv | --json]\n"
            "                        [--name-only] [--truth FILE --watchlist-truth FILE]\n"
            "Checks every passenger or crossing against the watchlist (names with aliases,\n"
            "dates of birth, documents; any script) and lists the hits with scores and\n"
            "reasons. Score = 100 x name similarity + date/sex/citizenship/document\n"
            "adjustments (no date of birth: the name's rarity); a hit needs >= --min (94)\n"
            "on an entry listing a date of birth, >= --min-undated on one listed without\n"
            "(default: --min + 1.5, so 95.5).\n"
            "--name-only also lists name-only referrals: entries listed without a date of\n"
            "birth or document whose name agrees in full, counted apart from hits.\n"
            "With --truth (the generator's record or manifest truth) and --watchlist-truth\n"
            "(watchlist_id,person_id) it prints the hit rate on seeded people and the false\n"
            "hits per 1,000 clean travellers instead of the hits.\n");
}

int pm_cmd_screen(int argc, char **argv)
{
    const char *wlp = NULL, *manifest = NULL, *crossings = NULL, *db = NULL, *truth_p = NULL,
               *wlt_p = NULL;
    double min = PM_SCREEN_DEFAULT_MIN, min_undated = 0;
    uint64_t max_hits = 5;
    int name_only = 0;
    enum out_fmt fmt = OUT_TABLE;
    static const struct option opts[] = {{"watchlist", required_argument, NULL, 'w'},
                                         {"manifest", required_argument, NULL, 'm'},
                                         {"crossings", required_argument, NULL, 'c'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"min", required_argument, NULL, 'n'},
                                         {"min-undated", required_argument, NULL, 'u'},
                                         {"max-hits", required_argument, NULL, 'x'},
                                         {"csv", no_argument, NULL, 'C'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"truth", required_argument, NULL, 't'},
                                         {"watchlist-truth", required_argument, NULL, 'T'},
                                         {"name-only", no_argument, NULL, 'N'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'w':
            wlp = optarg;
            break;
        case 'm':
            manifest = optarg;
            break;
        case 'c':
            crossings = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 'n':
            if (pm__cli_parse_double(optarg, &min)) goto bad;
            break;
        case 'u':
            if (pm__cli_parse_double(optarg, &min_undated) || min_undated <= 0) goto bad;
            break;
        case 'x':
            if (pm__cli_parse_u64(optarg, &max_hits) || max_hits == 0 || max_hits > 16) goto bad;
            break;
        case 'C':
            fmt = OUT_CSV;
            break;
        case 'j':
            fmt = OUT_JSON;
            break;
        case 't':
            truth_p = optarg;
            break;
        case 'T':
            wlt_p = optarg;
            break;
        case 'N':
            name_only = 1;
            break;
        case 'h':
            screen_usage(stdout);
            return 0;
        default:
            goto bad;
        }
    }
    if (optind != argc || !wlp || (!!manifest + !!crossings + !!db) != 1 || (!truth_p != !wlt_p) ||
        (truth_p && db))
        goto bad;
    pm_error_t err = {0};
    pm_watchlist_t *wl = NULL;
    pm_screen_run_t *run = NULL;
    pm_link_truth_t *truth = NULL;
    pm_report_t *rep = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(wlp, 256u << 20, &data, &len, &err);
    if (!rc) rc = pm_watchlist_new(&wl, &err);
    if (!rc) rc = pm_watchlist_load_csv(wl, (const char *)data, len, &err);
    if (!rc) rc = pm_watchlist_finalize(wl, &err);
    free(data);
    data = NULL;
    if (rc) {
        fprintf(stderr, "perimeter screen: %s: %s\n", wlp, pm_error_text(&err));
        pm_watchlist_free(wl);
        return 3;
    }
    pm_screen_run_options_t so = {min, (size_t)max_hits, truth_p != NULL, min_undated};
    rc = pm_screen_run_new(wl, &so, &run, &err);
    if (!rc) rc = pm_screen_run_set_name_only(run, name_only);
    if (!rc && truth_p) {
        rc = pm_link_truth_load(truth_p, 50000000, &truth, &err);
        if (!rc) rc = pm_file_read(wlt_p, 64u << 20, &data, &len, &err);
        if (!rc) rc = pm_screen_run_set_truth(run, truth, (const char *)data, len, &err);
        free(data);
        data = NULL;
    }
    uint64_t rejected = 0, t0 = pm_now_ns();
    if (!rc && crossings)
        rc = pm__cli_each_crossing_file(crossings, NULL, 0, screen_crossing, run, &rejected, &err);
    else if (!rc && manifest) {
        rc = pm_file_read(manifest, 1u << 30, &data, &len, &err);
        if (!rc) rc = pm_screen_run_manifest(run, (const char *)data, len, manifest, &err);
        free(data);
    } else if (!rc && db) {
        pm_store_t *st = open_db(db, 0);
        if (!st)
            rc = pm_error_set(&err, PM_EDB, "cannot open %s", db);
        else
            rc = pm_screen_run_store(run, st, &err);
        pm_store_close(st);
    }
    if (!rc) rc = pm_screen_run_finish(run, (double)(pm_now_ns() - t0) / 1e9, &rep, &err);
    if (!rc) rc = print_report(rep, fmt, &err);
    if (rc) {
        fprintf(stderr, "perimeter screen: %s\n", pm_error_text(&err));
        rc = 3;
    }
    pm_report_free(rep);
    pm_screen_run_free(run);
    pm_link_truth_free(truth);
    pm_watchlist_free(wl);
    return rc;
bad:
    screen_usage(stderr);
    return 2;
}

/* ---- eval entry-exit -------------------------------------------------------------- */

static void eval_ee_usage(FILE *f)
{
    fputs("usage: perimeter eval entry-exit --db PATH --truth FILE --people FILE --country CODE\n"
          "                                 --as-of DATE [--stay CODE=DAYS ...] [--years N] [--json]\n"
          "Scores the overstays, presence and removals reports of a linked store against\n"
          "the generator's truth (docs/synth.md, \"Entry/exit truth\").\n"
          "  --truth FILE    the generator's truth CSV (every stored crossing must be in it)\n"
          "  --people FILE   the generator's person master (--people-out)\n"
          "  --country CODE  our country (the store's own entries)\n"
          "  --as-of DATE    overstays as of the end of this local day; presence window end\n"
          "  --stay CODE=DAYS  fallback stays for entries without admission data\n"
          "                  (default=180 unless given)\n"
          "  --years N       presence window in years (default 5)\n",
          f);
}

int pm_cmd_eval_entry_exit(int argc, char **argv)
{
    const char *db = NULL, *truth_path = NULL, *people_path = NULL;
    int json = 0, have_as_of = 0;
    uint64_t years = 5;
    pm_entry_exit_query_t q;
    memset(&q, 0, sizeof q);
    q.rules.default_days = 180;
    pm_error_t err = {0};
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"truth", required_argument, NULL, 't'},
                                         {"people", required_argument, NULL, 'p'},
                                         {"country", required_argument, NULL, 'C'},
                                         {"as-of", required_argument, NULL, 'a'},
                                         {"stay", required_argument, NULL, 's'},
                                         {"years", required_argument, NULL, 'y'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            db = optarg;
            break;
        case 't':
            truth_path = optarg;
            break;
        case 'p':
            people_path = optarg;
            break;
        case 'C':
            if (strlen(optarg) != 3) goto bad;
            memcpy(q.country, optarg, 4);
            break;
        case 'a':
            if (parse_date_arg(optarg, &q.as_of)) goto bad;
            have_as_of = 1;
            break;
        case 's':
            if (pm_stay_rules_add(&q.rules, optarg, &err)) {
                fprintf(stderr, "perimeter eval entry-exit: %s\n", pm_error_text(&err));
                return 2;
            }
            break;
        case 'y':
            if (pm__cli_parse_u64(optarg, &years) || years < 1 || years > 100) goto bad;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            eval_ee_usage(stdout);
            return 0;
        default:
            goto bad;
        }
    }
    if (!truth_path || !people_path || !q.country[0] || !have_as_of || optind != argc) goto bad;
    q.presence_years = (int)years;
    pm_link_truth_t *truth = NULL;
    pm_synth_person_t *people = NULL;
    size_t npeople = 0;
    int rc = pm_link_truth_load(truth_path, 50000000, &truth, &err);
    if (!rc) rc = pm_synth_people_sample(people_path, SIZE_MAX, 1, &people, &npeople, &err);
    pm_store_t *st = NULL;
    if (!rc) {
        st = open_db(db, 1);
        if (!st) {
            pm_link_truth_free(truth);
            free(people);
            return 3;
        }
    }
    pm_entry_exit_eval_t e;
    uint64_t t0 = pm_now_ns();
    if (!rc) rc = pm_eval_entry_exit(st, truth, people, npeople, &q, &e, &err);
    double secs = (double)(pm_now_ns() - t0) / 1e9;
    pm_store_close(st);
    pm_link_truth_free(truth);
    free(people);
    if (rc) {
        fprintf(stderr, "perimeter eval entry-exit: %s\n", pm_error_text(&err));
        return 3;
    }
    char d[16];
    pm_dob_format(&q.as_of, d);
#define SHARE(a, b) ((b) ? (double)(a) / (double)(b) : 1.0)
    if (json) {
        json_t *o = json_pack(
            "{s:s,s:s,s:i,s:{s:I,s:I,s:I,s:I,s:f,s:f,s:I,s:I},s:{s:I,s:I,s:I,s:I,s:f,s:I,s:I,s:I,s:f,s:I,s:I,s:I},"
            "s:{s:I,s:I,s:I,s:I,s:I},s:f}",
            "country", q.country, "as_of", d, "presence_years", q.presence_years, "overstays",
            "true", (json_int_t)e.overstays_true, "listed", (json_int_t)e.overstays_listed,
            "correct", (json_int_t)e.overstays_correct, "found", (json_int_t)e.overstays_found,
            "precision", e.overstay_precision, "recall", e.overstay_recall,
            "departures_to_confirm", (json_int_t)e.departures_to_confirm,
            "departures_to_confirm_true", (json_int_t)e.departures_to_confirm_true, "presence",
            "people", (json_int_t)e.presence_people, "exact", (json_int_t)e.presence_exact,
            "within_1", (json_int_t)e.presence_within1, "truth_in_range",
            (json_int_t)e.presence_covered, "mean_abs_error", e.presence_mae, "complete_people",
            (json_int_t)e.complete_people, "complete_exact", (json_int_t)e.complete_exact,
            "complete_within_1", (json_int_t)e.complete_within1, "complete_mean_abs_error",
            e.complete_mae, "certain_people", (json_int_t)e.certain_people, "certain_exact",
            (json_int_t)e.certain_exact, "certain_within_1", (json_int_t)e.certain_within1,
            "removals", "orders", (json_int_t)e.removal_orders, "departed",
            (json_int_t)e.removal_departed, "confirmed", (json_int_t)e.removal_confirmed, "missed",
            (json_int_t)e.removal_missed, "wrongly_confirmed", (json_int_t)e.removal_wrong,
            "seconds", secs);
        char *s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
        json_decref(o);
        if (!s) return 3;
        puts(s);
        free(s);
        return 0;
    }
    printf("entry/exit answers of %s as of %s against the truth\n", q.country, d);
    printf("overstays          %llu listed, %llu correct; %llu true, %llu found\n",
           (unsigned long long)e.overstays_listed, (unsigned long long)e.overstays_correct,
           (unsigned long long)e.overstays_true, (unsigned long long)e.overstays_found);
    printf("  precision        %.4f\n  recall           %.4f\n", e.overstay_precision,
           e.overstay_recall);
    printf("  to confirm       %llu departures (%llu truly the person's exit)\n",
           (unsigned long long)e.departures_to_confirm,
           (unsigned long long)e.departures_to_confirm_true);
    printf("presence (%d y)     %llu people: exact %.4f, within 1 day %.4f, truth in "
           "[min,max] %.4f, mean abs error %.3f days\n",
           q.presence_years, (unsigned long long)e.presence_people,
           SHARE(e.presence_exact, e.presence_people), SHARE(e.presence_within1, e.presence_people),
           SHARE(e.presence_covered, e.presence_people), e.presence_mae);
    printf("  complete records %llu people: exact %.4f, within 1 day %.4f, mean abs error %.3f "
           "days\n",
           (unsigned long long)e.complete_people, SHARE(e.complete_exact, e.complete_people),
           SHARE(e.complete_within1, e.complete_people), e.complete_mae);
    printf("  settled counts   %llu people (no uncertain range): exact %.4f, within 1 day %.4f\n",
           (unsigned long long)e.certain_people, SHARE(e.certain_exact, e.certain_people),
           SHARE(e.certain_within1, e.certain_people));
    printf("removals           %llu orders, %llu truly departed: %llu confirmed (%.4f), %llu "
           "missed, %llu wrongly confirmed\n",
           (unsigned long long)e.removal_orders, (unsigned long long)e.removal_departed,
           (unsigned long long)e.removal_confirmed, SHARE(e.removal_confirmed, e.removal_departed),
           (unsigned long long)e.removal_missed, (unsigned long long)e.removal_wrong);
    printf("time               %.2f s\n", secs);
#undef SHARE
    return 0;
bad:
    eval_ee_usage(stderr);
    return 2;
}
