/* Cohort vetting: scan, capture checks, local 1:N, partner query through a
 * transport, journal, case files, summary. docs/vet.md. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "perimeter/an2k.h"
#include "perimeter/core.h"
#include "perimeter/fp.h"
#include "perimeter/gallery.h"
#include "perimeter/image.h"
#include "vet/vet_run.h"

#define MAX_FILE_BYTES ((size_t)64 << 20) /* one applicant's transaction or image */
#define MAX_VIEWS 10

enum { OUT_NO_MATCH = 0, OUT_MATCH, OUT_REFUSED, OUT_FAILED, OUT_COUNT };
static const char *const outcome_names[] = {"no_match", "match", "refused", "failed_capture"};

const char *pm_vet_outcome_name(int outcome)
{
    return outcome >= 0 && outcome < OUT_COUNT ? outcome_names[outcome] : "";
}

uint64_t pm__vet_random64(void)
{
    uint64_t x = 0;
    if (getrandom(&x, sizeof x, 0) != (ssize_t)sizeof x)
        x = pm__vet_mix(pm_now_ns() ^ (uint64_t)(uintptr_t)&x);
    return x;
}

/* ------------------------------------------------------------ scan */

static int has_ext(const char *name, const char *const *exts)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    for (; *exts; exts++)
        if (strcasecmp(dot + 1, *exts) == 0)
            return 1;
    return 0;
}

static const char *const txn_exts[] = {"an2", "an2k", "eft", "nist", NULL};
static const char *const img_exts[] = {"wsq", "png", "jpg", "jpeg", "jp2", "j2k", "tif",
                                       "tiff", "pgm", "bmp", NULL};

static void make_id(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    const char *dot = strrchr(name, '.');
    size_t len = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.';
        out[n++] = ok ? c : '_';
    }
    out[n] = 0;
}

static int cmp_app(const void *a, const void *b)
{
    return strcmp(((const pm__vet_applicant_t *)a)->id, ((const pm__vet_applicant_t *)b)->id);
}

static void free_apps(pm__vet_applicant_t *apps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(apps[i].path);
    free(apps);
}

/* The applicants of a cohort folder (or of its applicants/ sub-folder, the
 * layout of pm_vet_cohort_generate), sorted by id. Two entries with the same
 * id are refused (PM_EEXISTS): the id names the case file. */
static int scan_cohort(const char *cohort, const char *skip_dir, pm__vet_applicant_t **out,
                       size_t *out_n, pm_error_t *err)
{
    char base[4096];
    struct stat st;
    snprintf(base, sizeof base, "%s/applicants", cohort);
    if (stat(base, &st) != 0 || !S_ISDIR(st.st_mode))
        snprintf(base, sizeof base, "%s", cohort);
    DIR *d = opendir(base);
    if (!d)
        return pm_error_set(err, PM_EIO, "cohort %s: %s", base, strerror(errno));
    size_t n = 0, cap = 256;
    pm__vet_applicant_t *apps = calloc(cap, sizeof *apps);
    int rc = apps ? 0 : pm_error_set(err, PM_ENOMEM, "out of memory");
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", base, e->d_name) >= sizeof path)
            continue;
        if (stat(path, &st) != 0)
            continue;
        int is_dir = S_ISDIR(st.st_mode);
        if (!is_dir && !(S_ISREG(st.st_mode) && has_ext(e->d_name, txn_exts)))
            continue;
        if (is_dir) {
            /* a vetting run's output folder (COHORT/vet-CODE by default) is
             * not an applicant */
            char j[4200];
            struct stat js;
            snprintf(j, sizeof j, "%s/journal.sqlite", path);
            if (stat(j, &js) == 0 || (skip_dir && strcmp(path, skip_dir) == 0))
                continue;
            char real[4096];
            if (skip_dir && realpath(path, real) && strcmp(real, skip_dir) == 0)
                continue;
        }
        if (n == PM_VET_MAX_APPLICANTS) {
            rc = pm_error_set(err, PM_ELIMIT, "cohort %s: more than %u applicants", base,
                              PM_VET_MAX_APPLICANTS);
            break;
        }
        if (n == cap) {
            pm__vet_applicant_t *w = realloc(apps, 2 * cap * sizeof *apps);
            if (!w) {
                rc = pm_error_set(err, PM_ENOMEM, "out of memory");
                break;
            }
            memset(w + cap, 0, cap * sizeof *w);
            apps = w;
            cap *= 2;
        }
        make_id(e->d_name, apps[n].id, sizeof apps[n].id);
        apps[n].is_dir = is_dir;
        if (!(apps[n].path = strdup(path))) {
            rc = pm_error_set(err, PM_ENOMEM, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (!rc && n)
        qsort(apps, n, sizeof *apps, cmp_app);
    for (size_t i = 1; !rc && i < n; i++)
        if (strcmp(apps[i].id, apps[i - 1].id) == 0)
            rc = pm_error_set(err, PM_EEXISTS, "cohort: %s and %s are both applicant %s",
                              apps[i - 1].path, apps[i].path, apps[i].id);
    if (rc) {
        free_apps(apps, n);
        return rc;
    }
    *out = apps;
    *out_n = n;
    return 0;
}

/* ------------------------------------------------------------ capture */

typedef struct finger_check {
    int position;
    int usable;
    int quality, minutiae;
    char status[16]; /* ok, decode_failed, extract_failed, poor_quality, few_minutiae */
    char reason[200];
} finger_check_t;

typedef struct capture {
    char error[300]; /* the whole applicant unreadable ("" if readable) */
    finger_check_t checks[PM_AN2K_MAX_RECORDS < 32 ? PM_AN2K_MAX_RECORDS : 32];
    size_t nchecks;
    pm_fingerprint_t *views; /* usable views, MAX_VIEWS */
    size_t nviews;
    char name[160], dob[16]; /* Type-2, kept in the case file only (never sent) */
} capture_t;

static void check_view(const pm_vet_options_t *o, const pm_extractor_t *ex, const pm_image_t *img,
                       int decode_rc, const pm_error_t *derr, capture_t *c)
{
    if (c->nchecks == sizeof c->checks / sizeof c->checks[0])
        return;
    finger_check_t *k = &c->checks[c->nchecks];
    int position = k->position;
    memset(k, 0, sizeof *k);
    k->position = position;
    c->nchecks++;
    if (decode_rc) {
        snprintf(k->status, sizeof k->status, "decode_failed");
        snprintf(k->reason, sizeof k->reason, "%s", pm_error_text(derr));
        return;
    }
    pm_error_t e = {0};
    pm_fingerprint_t *v = &c->views[c->nviews]; /* views has MAX_VIEWS + 1: the last is scratch */
    int rc = pm_fp_extract(ex, img, v, &e);
    if (rc) {
        snprintf(k->status, sizeof k->status, "extract_failed");
        snprintf(k->reason, sizeof k->reason, "%s", pm_error_text(&e));
        return;
    }
    k->quality = v->quality;
    k->minutiae = (int)v->count;
    int minq = o->min_quality ? o->min_quality : PM_VET_DEFAULT_MIN_QUALITY;
    int minm = o->min_minutiae ? o->min_minutiae : PM_VET_DEFAULT_MIN_MINUTIAE;
    if (v->quality < minq) {
        snprintf(k->status, sizeof k->status, "poor_quality");
        snprintf(k->reason, sizeof k->reason, "quality %d below %d", v->quality, minq);
    } else if ((int)v->count < minm) {
        snprintf(k->status, sizeof k->status, "few_minutiae");
        snprintf(k->reason, sizeof k->reason, "%zu minutiae, fewer than %d", v->count, minm);
    } else if (c->nviews >= MAX_VIEWS) {
        snprintf(k->status, sizeof k->status, "extra");
        snprintf(k->reason, sizeof k->reason, "more than %d finger images: not used", MAX_VIEWS);
    } else {
        snprintf(k->status, sizeof k->status, "ok");
        v->finger = position >= 1 && position <= 10 ? position : 0;
        k->usable = 1;
        c->nviews++;
    }
}

/* Finger position of a Type-14 (14.013) or Type-3..7 (FGP, field 4) record. */
static int record_position(const pm_an2k_record_t *r)
{
    char v[16];
    int id = r->type == 14 ? 13 : 4;
    if (pm_an2k_get(r, id, 1, 1, v, sizeof v) < 1)
        return 0;
    char *end;
    long p = strtol(v, &end, 10);
    return *end == 0 && p >= 0 && p <= 15 ? (int)p : 0;
}

static void capture_transaction(const pm_vet_options_t *o, const pm_extractor_t *ex,
                                const char *path, capture_t *c)
{
    uint8_t *data = NULL;
    size_t len = 0;
    pm_error_t e = {0};
    pm_an2k_txn_t t = {0};
    if (pm_file_read(path, MAX_FILE_BYTES, &data, &len, &e) != 0 ||
        pm_an2k_read(data, len, &t, &e) != 0) {
        snprintf(c->error, sizeof c->error, "%s", pm_error_text(&e));
        pm_an2k_free(&t);
        free(data);
        return;
    }
    for (size_t i = 0; i < t.nrecords; i++) {
        const pm_an2k_record_t *r = &t.records[i];
        if (r->type == 2) {
            pm_an2k_get(r, 18, 1, 1, c->name, sizeof c->name);
            pm_an2k_get(r, 22, 1, 1, c->dob, sizeof c->dob);
            continue;
        }
        if (r->type != 14 && (r->type < 3 || r->type > 6))
            continue;
        int pos = record_position(r);
        if (pos < 1 || pos > 10)
            continue; /* slaps and palms: not searched as single fingers */
        if (c->nchecks == sizeof c->checks / sizeof c->checks[0])
            break;
        c->checks[c->nchecks].position = pos;
        pm_image_t img = {0};
        pm_error_t de = {0};
        int rc = pm_an2k_image_decode(r, NULL, &img, &de);
        check_view(o, ex, &img, rc, &de, c);
        pm_image_free(&img);
    }
    if (c->nchecks == 0)
        snprintf(c->error, sizeof c->error,
                 "no single-finger image record (Type-14/Type-4, positions 1..10)");
    pm_an2k_free(&t);
    free(data);
}

/* The position a file name gives: the number ending its stem (1..10), else 0. */
static int name_position(const char *name)
{
    const char *dot = strrchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : strlen(name);
    size_t i = len;
    while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
        i--;
    if (i == len || len - i > 2)
        return 0;
    int p = 0;
    for (size_t k = i; k < len; k++)
        p = p * 10 + (name[k] - '0');
    return p >= 1 && p <= 10 ? p : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void capture_folder(const pm_vet_options_t *o, const pm_extractor_t *ex, const char *dir,
                           capture_t *c)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(c->error, sizeof c->error, "%s: %s", dir, strerror(errno));
        return;
    }
    char *names[32];
    size_t n = 0, extra = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && has_ext(e->d_name, img_exts)) {
            if (n < 32)
                names[n++] = strdup(e->d_name);
            else
                extra++;
        }
    closedir(d);
    if (extra) { /* reported, never silently cut */
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        snprintf(c->error, sizeof c->error, "%zu finger images in %s: at most 32 per applicant",
                 n + extra, dir);
        return;
    }
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        c->checks[c->nchecks].position = name_position(names[i]);
        pm_image_t img = {0};
        pm_error_t de = {0};
        int rc = pm_image_load(path, NULL, &img, &de);
        check_view(o, ex, &img, rc, &de, c);
        pm_image_free(&img);
        free(names[i]);
    }
    if (c->nchecks == 0)
        snprintf(c->error, sizeof c->error, "no finger image in %s", dir);
}

/* ------------------------------------------------------------ the run */

typedef struct run {
    const pm_vet_options_t *o;
    pm__vet_applicant_t *apps;
    size_t napps;
    pm__vet_journal_t journal;
    pm_extractor_t *ex;
    char cases_dir[4096];
    pthread_mutex_t lock;
    size_t next;
    uint64_t taken, done_total, total;
    int failed;
    pm_error_t err;
    pm_vet_summary_t sum;
    double *t_extract, *t_local, *t_query, *t_total;
    size_t nt_extract, nt_local, nt_query, nt_total;
    /* o->test_kill_after (a test hook), and the answers counted for it */
    uint64_t kill_after, answers;
} run_t;

static json_t *candidates_json(const pm_vet_candidate_t *c, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:f}", "subject", c[i].subject, "score",
                                           c[i].score));
    return a;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void iso_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Writes the case file of one applicant atomically. */
static int write_case(run_t *r, const pm__vet_applicant_t *a, const char *tcn,
                      const char *supersedes, const char *first, int outcome,
                      const capture_t *c, const pm_vet_candidate_t *local, size_t nlocal,
                      const pm_vet_answer_t *ans, int queried, int resend, const double ms[4],
                      pm_error_t *err)
{
    char when[32];
    iso_now(when);
    json_t *fingers = json_array(), *recap = json_array();
    for (size_t i = 0; i < c->nchecks; i++) {
        const finger_check_t *k = &c->checks[i];
        json_t *f = json_pack("{s:i, s:s, s:i, s:i}", "position", k->position, "status",
                              k->status, "quality", k->quality, "minutiae", k->minutiae);
        if (k->reason[0])
            json_object_set_new(f, "reason", json_string(k->reason));
        json_array_append_new(fingers, f);
        if (!k->usable)
            json_array_append_new(recap, json_pack("{s:i, s:s}", "position", k->position,
                                                   "reason", k->reason[0] ? k->reason : k->status));
    }
    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "applicant", a->id, "file", a->path,
        "transaction_id", tcn, "purpose", r->o->purpose, "outcome", outcome_names[outcome],
        "decided_at", when, "transport",
        r->o->transport.name ? r->o->transport.name : "", "fingers", fingers, "recapture", recap);
    if (!root)
        return pm_error_set(err, PM_ENOMEM, "case file: out of memory");
    json_object_set_new(root, "biographics",
                        json_pack("{s:s, s:s, s:b}", "name", c->name, "date_of_birth", c->dob,
                                  "sent_to_partner", 0));
    if (supersedes && supersedes[0]) { /* the lost query this one re-asked */
        json_object_set_new(root, "supersedes", json_string(supersedes));
        json_object_set_new(root, "reask_of", json_string(first)); /* the chain's root */
    }
    if (c->error[0])
        json_object_set_new(root, "capture_error", json_string(c->error));
    json_object_set_new(root, "usable_fingers", json_integer((json_int_t)c->nviews));
    if (r->o->local_gallery)
        json_object_set_new(root, "local", json_pack("{s:o}", "candidates",
                                                     candidates_json(local, nlocal)));
    if (queried) {
        json_t *p = json_pack("{s:s, s:o, s:b}", "result",
                              ans->result == PM_VET_MATCH     ? "match"
                              : ans->result == PM_VET_REFUSED ? "refused"
                                                              : "no_match",
                              "candidates", candidates_json(ans->candidates, ans->ncandidates),
                              "resent", resend);
        json_t *disc = ans->disclosed[0] ? json_loads(ans->disclosed, 0, NULL) : NULL;
        json_object_set_new(p, "disclosed", disc ? disc : json_object());
        json_object_set_new(p, "disclosed_under_purpose", json_string(r->o->purpose));
        if (ans->result == PM_VET_REFUSED) {
            json_object_set_new(p, "rule", json_string(ans->rule));
            json_object_set_new(p, "reason", json_string(ans->reason));
        }
        if (ans->partner_ref[0])
            json_object_set_new(p, "partner_ref", json_string(ans->partner_ref));
        json_object_set_new(root, "partner", p);
    } else {
        json_object_set_new(root, "partner", json_null());
    }
    if (outcome == OUT_MATCH) {
        /* R14: nothing is decided on a match until an officer confirms it;
         * through a node the match is already in its review queue */
        json_t *rv = json_pack("{s:s, s:s}", "status", "pending", "rule", "R14");
        if (ans->review_id > 0) {
            json_object_set_new(rv, "review_id", json_integer((json_int_t)ans->review_id));
            json_object_set_new(rv, "queue", json_string("node /v1/reviews"));
        }
        json_object_set_new(root, "review", rv);
    }
    json_object_set_new(root, "timings_ms",
                        json_pack("{s:f, s:f, s:f, s:f}", "capture", ms[0], "local", ms[1],
                                  "partner", ms[2], "total", ms[3]));
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return pm_error_set(err, PM_ENOMEM, "case file: out of memory");
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.json", r->cases_dir, a->id);
    size_t len = strlen(text);
    int rc = pm_file_write_atomic(path, text, len, err);
    free(text);
    return rc;
}

static void note_time(run_t *r, double *arr, size_t *n, double ms)
{
    if (*n < r->total)
        arr[(*n)++] = ms;
}

/* One applicant end to end. Returns 0 (outcome committed, or left pending
 * after a transport failure) or a negative code that stops the run. */
static int vet_one(run_t *r, pm__vet_applicant_t *a)
{
    const pm_vet_options_t *o = r->o;
    uint64_t t0 = pm_now_ns();
    capture_t *c = calloc(1, sizeof *c);
    pm_fingerprint_t *views = calloc(MAX_VIEWS + 1, sizeof *views);
    pm_error_t e = {0};
    if (!c || !views) {
        free(c);
        free(views);
        return pm_error_set(&r->err, PM_ENOMEM, "out of memory");
    }
    c->views = views;
    if (a->is_dir)
        capture_folder(o, r->ex, a->path, c);
    else
        capture_transaction(o, r->ex, a->path, c);
    uint64_t t1 = pm_now_ns();
    int min_fingers = o->min_fingers ? o->min_fingers : PM_VET_DEFAULT_MIN_FINGERS;
    if (!c->error[0] && (int)c->nviews < min_fingers)
        snprintf(c->error, sizeof c->error, "%zu usable finger(s), %d needed", c->nviews,
                 min_fingers);
    int failed = c->error[0] != 0;

    pm_gallery_finger_t gf[MAX_VIEWS];
    for (size_t i = 0; i < c->nviews; i++)
        gf[i] = (pm_gallery_finger_t){views[i].finger, &views[i]};
    pm_gallery_candidate_t lc[5];
    size_t nl = 0;
    pm_vet_candidate_t local[5];
    if (!failed && o->local_gallery) {
        pm_gallery_search_options_t so = {
            .max_candidates = 5,
            .threshold = o->local_threshold > 0 ? o->local_threshold : PM_VET_DEFAULT_THRESHOLD,
        };
        pm_gallery_calibration_t fcal;
        pm_gallery_fused_calibration_default(&fcal);
        so.fused_calibration = &fcal;
        if (pm_gallery_identify(o->local_gallery, gf, (int)c->nviews, &so, lc, &nl, NULL, &e) !=
            0) {
            int rc = pm_error_prefix(&e, "applicant %s: local 1:N", a->id);
            r->err = e;
            free(views);
            free(c);
            return rc ? rc : PM_EINTERNAL;
        }
        for (size_t i = 0; i < nl; i++) {
            snprintf(local[i].subject, sizeof local[i].subject, "%llu",
                     (unsigned long long)lc[i].subject);
            local[i].score = lc[i].score;
        }
    }
    uint64_t t2 = pm_now_ns();

    char tcn[PM_VET_ID_MAX];
    snprintf(tcn, sizeof tcn, "VET-%s-%06lld", r->journal.nonce, (long long)a->seq);
    pm_vet_answer_t *ans = calloc(1, sizeof *ans);
    int rc = ans ? 0 : pm_error_set(&e, PM_ENOMEM, "out of memory");
    int outcome = OUT_FAILED, queried = 0, resend = a->state == PM__VET_SENT;
    char lost[PM_VET_ID_MAX] = ""; /* a re-ask: the id whose answer was lost */
    char first[PM_VET_ID_MAX] = ""; /* the applicant's first id (a re-ask chain's root) */
    if (!rc && !failed) {
        rc = pm__vet_journal_sent(&r->journal, a->seq, &e);
        if (!rc) {
            pm_vet_query_t q = {tcn, o->purpose, views, c->nviews, resend, NULL, NULL};
            pm_error_t te = {0};
            pthread_mutex_lock(&r->lock);
            r->sum.queries++;
            r->sum.resent += (uint64_t)resend;
            pthread_mutex_unlock(&r->lock);
            int trc = o->transport.query(o->transport.ctx, &q, ans, &te);
            snprintf(first, sizeof first, "%s", tcn);
            /* the partner answered this id before and the answer was lost
             * (the run died between send and journal): re-ask under a new
             * id naming the lost one; if that re-ask was answered and lost
             * too (a second death), the next re-ask supersedes it, and so on
             * down a bounded chain (the ids are deterministic, so a resumed
             * run walks the same chain: each id is asked at most once) */
            for (int g = 1; trc == PM_EEXISTS && resend && g <= PM__VET_REASK_MAX; g++) {
                snprintf(lost, sizeof lost, "%s", tcn);
                if (g == 1)
                    snprintf(tcn, sizeof tcn, "%s-R", first);
                else
                    snprintf(tcn, sizeof tcn, "%s-R%d", first, g);
                q.transaction_id = tcn;
                q.supersedes = lost;
                q.reask_of = first;
                memset(ans, 0, sizeof *ans);
                pm_error_clear(&te);
                pthread_mutex_lock(&r->lock);
                r->sum.queries++;
                r->sum.superseded++;
                pthread_mutex_unlock(&r->lock);
                trc = o->transport.query(o->transport.ctx, &q, ans, &te);
            }
            if (trc) {
                /* no answer: stays "sent", retried by the next run with this id */
                char msg[PM_ERRMSG_MAX + 32];
                snprintf(msg, sizeof msg, "%s", pm_error_text(&te));
                rc = pm__vet_journal_error(&r->journal, a->seq, msg, &e);
                pthread_mutex_lock(&r->lock);
                r->sum.transport_errors++;
                pthread_mutex_unlock(&r->lock);
                free(ans);
                free(views);
                free(c);
                if (rc)
                    r->err = e;
                return rc;
            }
            if (r->kill_after) {
                pthread_mutex_lock(&r->lock);
                int die = ++r->answers >= r->kill_after;
                pthread_mutex_unlock(&r->lock);
                if (die)
                    raise(SIGKILL); /* the answer is lost: received, not journaled */
            }
            queried = 1;
            outcome = ans->result == PM_VET_MATCH     ? OUT_MATCH
                      : ans->result == PM_VET_REFUSED ? OUT_REFUSED
                                                      : OUT_NO_MATCH;
        }
    }
    uint64_t t3 = pm_now_ns();
    double ms[4] = {(double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, (double)(t3 - t2) / 1e6,
                    (double)(t3 - t0) / 1e6};
    if (!rc)
        rc = write_case(r, a, tcn, lost, first, outcome, c, local, nl, ans, queried, resend, ms,
                        &e);
    char *recap = NULL, *cands = NULL;
    if (!rc) {
        json_t *ra = json_array();
        for (size_t i = 0; i < c->nchecks; i++)
            if (!c->checks[i].usable)
                json_array_append_new(ra, json_pack("{s:i, s:s}", "position",
                                                    c->checks[i].position, "status",
                                                    c->checks[i].status));
        if (c->error[0])
            json_array_append_new(ra, json_pack("{s:i, s:s}", "position", 0, "status",
                                                c->error));
        recap = json_array_size(ra) ? json_dumps(ra, JSON_COMPACT) : NULL;
        json_decref(ra);
        if (outcome == OUT_MATCH) {
            json_t *ca = candidates_json(ans->candidates, ans->ncandidates);
            cands = json_dumps(ca, JSON_COMPACT);
            json_decref(ca);
        }
        rc = pm__vet_journal_done(&r->journal, a->seq, outcome_names[outcome], recap, cands,
                                  (int)nl, outcome == OUT_MATCH ? ans->review_id : 0, &e);
    }
    if (!rc) {
        pthread_mutex_lock(&r->lock);
        r->sum.done_this_run++;
        r->done_total++;
        note_time(r, r->t_extract, &r->nt_extract, ms[0]);
        if (o->local_gallery && !failed)
            note_time(r, r->t_local, &r->nt_local, ms[1]);
        if (queried)
            note_time(r, r->t_query, &r->nt_query, ms[2]);
        note_time(r, r->t_total, &r->nt_total, ms[3]);
        if (o->progress)
            o->progress(o->progress_ctx, r->done_total, r->total);
        pthread_mutex_unlock(&r->lock);
    } else {
        pm_error_prefix(&e, "applicant %s", a->id);
        r->err = e;
    }
    free(recap);
    free(cands);
    free(ans);
    free(views);
    free(c);
    return rc;
}

static void *vet_worker(void *arg)
{
    run_t *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        while (r->next < r->napps && r->apps[r->next].state == PM__VET_DONE)
            r->next++;
        int stop = r->failed || r->next >= r->napps || (r->o->cancel && *r->o->cancel) ||
                   (r->o->limit && r->taken >= r->o->limit);
        pm__vet_applicant_t *a = stop ? NULL : &r->apps[r->next++];
        if (a)
            r->taken++;
        pthread_mutex_unlock(&r->lock);
        if (!a)
            return NULL;
        int rc = vet_one(r, a);
        if (rc) {
            pthread_mutex_lock(&r->lock);
            if (!r->failed)
                r->failed = rc;
            pthread_mutex_unlock(&r->lock);
            return NULL;
        }
    }
}

/* ------------------------------------------------------------ summary */

typedef struct report_ctx {
    run_t *r;
    json_t *adjudication; /* array */
    pm_buf_t recapture;
} report_ctx_t;

static int on_row(void *ctx, const pm__vet_row_t *row, pm_error_t *err)
{
    report_ctx_t *x = ctx;
    pm_vet_summary_t *s = &x->r->sum;
    (void)err;
    if (strcmp(row->state, "done") != 0) {
        s->pending++;
        return 0;
    }
    s->done++;
    const char *oc = row->outcome ? row->outcome : "";
    if (strcmp(oc, "no_match") == 0) s->no_match++;
    else if (strcmp(oc, "match") == 0) s->match++;
    else if (strcmp(oc, "refused") == 0) s->refused++;
    else if (strcmp(oc, "failed_capture") == 0) s->failed_capture++;
    if (row->local_hits > 0)
        s->local_hits++;
    if (row->recapture && row->recapture[0]) {
        s->recapture++;
        pm_buf_append_str(&x->recapture, row->applicant);
        pm_buf_append_str(&x->recapture, ",");
        pm_buf_append_str(&x->recapture, oc);
        pm_buf_append_str(&x->recapture, ",\"");
        for (const char *p = row->recapture; *p; p++)
            pm_buf_append(&x->recapture, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
        pm_buf_append_str(&x->recapture, "\"\n");
    }
    if (strcmp(oc, "match") == 0) {
        json_t *c = row->candidates ? json_loads(row->candidates, 0, NULL) : NULL;
        char cf[4200];
        snprintf(cf, sizeof cf, "%s/%s.json", x->r->cases_dir, row->applicant);
        json_t *item = json_pack("{s:s, s:I, s:s, s:o, s:s, s:s, s:s}", "applicant",
                                 row->applicant, "journal_seq", (json_int_t)row->seq, "purpose",
                                 x->r->o->purpose, "candidates", c ? c : json_array(),
                                 "case_file", cf, "status", "pending_review", "rule", "R14");
        if (item && row->review_id > 0)
            json_object_set_new(item, "review_id", json_integer((json_int_t)row->review_id));
        json_array_append_new(x->adjudication, item);
    }
    return 0;
}

static int write_reports(run_t *r, pm_error_t *err)
{
    report_ctx_t x = {.r = r, .adjudication = json_array()};
    pm_vet_summary_t *s = &r->sum;
    s->done = s->no_match = s->match = s->refused = s->failed_capture = 0;
    s->recapture = s->local_hits = s->pending = 0;
    pm_buf_append_str(&x.recapture, "applicant,outcome,fingers\n");
    int rc = pm__vet_journal_each(&r->journal, on_row, &x, err);
    s->applicants = r->napps;
    s->per_hour = s->seconds > 0 ? (double)s->done_this_run * 3600.0 / s->seconds : 0;
    s->extract_ms_median = pm_median(r->t_extract, r->nt_extract);
    s->local_ms_median = pm_median(r->t_local, r->nt_local);
    s->query_ms_median = pm_median(r->t_query, r->nt_query);
    s->total_ms_median = pm_median(r->t_total, r->nt_total);
    char path[4200];
    const char *out = r->o->out_dir;
    if (!rc) {
        pm_buf_t b = {0};
        size_t n = json_array_size(x.adjudication);
        for (size_t i = 0; i < n && !rc; i++) {
            char *line = json_dumps(json_array_get(x.adjudication, i),
                                    JSON_COMPACT | JSON_PRESERVE_ORDER);
            rc = line ? pm_buf_printf(&b, "%s\n", line) : PM_ENOMEM;
            free(line);
        }
        snprintf(path, sizeof path, "%s/adjudication.jsonl", out);
        rc = rc ? pm_error_set(err, rc, "adjudication list: out of memory")
                : pm_file_write_atomic(path, b.data ? (const char *)b.data : "", b.len, err);
        pm_buf_free(&b);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/recapture.csv", out);
        rc = pm_file_write_atomic(path, x.recapture.data, x.recapture.len, err);
    }
    if (!rc) {
        char when[32];
        iso_now(when);
        json_t *j = json_pack(
            "{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I}, s:I, s:I, s:I, "
            "s:{s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:{s:f, s:f, s:f, s:f}}}",
            "cohort", r->o->cohort, "purpose", r->o->purpose, "transport",
            r->o->transport.name ? r->o->transport.name : "", "written_at", when, "applicants",
            (json_int_t)s->applicants, "done", (json_int_t)s->done, "pending",
            (json_int_t)s->pending, "outcomes", "no_match", (json_int_t)s->no_match, "match",
            (json_int_t)s->match, "refused", (json_int_t)s->refused, "failed_capture",
            (json_int_t)s->failed_capture, "recapture", (json_int_t)s->recapture,
            "pending_review", (json_int_t)s->match, "local_hits", (json_int_t)s->local_hits,
            "this_run", "done", (json_int_t)s->done_this_run, "queries", (json_int_t)s->queries,
            "resent", (json_int_t)s->resent, "transport_errors",
            (json_int_t)s->transport_errors, "seconds", s->seconds, "cpu_seconds",
            s->cpu_seconds, "applicants_per_hour",
            s->per_hour, "median_ms", "capture", s->extract_ms_median, "local",
            s->local_ms_median, "partner", s->query_ms_median, "total", s->total_ms_median);
        {
            /* a resumed run keeps the review section a refresh wrote (its
             * counts as of that refresh; `perimeter vet` refreshes after) */
            snprintf(path, sizeof path, "%s/summary.json", out);
            uint8_t *old = NULL;
            size_t olen = 0;
            pm_error_t oe = {0};
            if (j && pm_file_read(path, (size_t)1 << 20, &old, &olen, &oe) == 0) {
                json_t *prev = json_loadb((const char *)old, olen, 0, NULL);
                json_t *rv = prev ? json_object_get(prev, "review") : NULL;
                if (json_is_object(rv))
                    json_object_set(j, "review", rv);
                json_decref(prev);
                free(old);
            }
        }
        json_t *tr = j ? json_object_get(j, "this_run") : NULL;
        if (tr)
            json_object_set_new(tr, "superseded", json_integer((json_int_t)s->superseded));
        char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(j);
        snprintf(path, sizeof path, "%s/summary.json", out);
        rc = text ? pm_file_write_atomic(path, text, strlen(text), err)
                  : pm_error_set(err, PM_ENOMEM, "summary: out of memory");
        free(text);
    }
    if (!rc) {
        pm_buf_t t = {0};
        pm_buf_printf(&t,
                      "Cohort vetting: %s\n"
                      "purpose %s, partner transport %s\n"
                      "applicants %llu: done %llu, pending %llu\n"
                      "  no match        %llu\n"
                      "  match           %llu  (pending human review, R14: adjudication.jsonl)\n"
                      "  refused         %llu\n"
                      "  failed capture  %llu\n"
                      "re-capture queued for %llu applicant(s) (recapture.csv)\n"
                      "local 1:N candidates for %llu applicant(s)\n"
                      "this run: %llu done, %llu partner queries (%llu resent after an "
                      "interruption, %llu re-asked with supersedes, %llu without an answer) in %.1f s (%.1f s CPU), %.0f "
                      "applicants/hour\n"
                      "median per applicant: capture %.0f ms, local 1:N %.0f ms, partner %.0f "
                      "ms, total %.0f ms\n",
                      r->o->cohort, r->o->purpose,
                      r->o->transport.name ? r->o->transport.name : "",
                      (unsigned long long)s->applicants, (unsigned long long)s->done,
                      (unsigned long long)s->pending, (unsigned long long)s->no_match,
                      (unsigned long long)s->match, (unsigned long long)s->refused,
                      (unsigned long long)s->failed_capture, (unsigned long long)s->recapture,
                      (unsigned long long)s->local_hits, (unsigned long long)s->done_this_run,
                      (unsigned long long)s->queries, (unsigned long long)s->resent,
                      (unsigned long long)s->superseded, (unsigned long long)s->transport_errors, s->seconds, s->cpu_seconds, s->per_hour,
                      s->extract_ms_median, s->local_ms_median, s->query_ms_median,
                      s->total_ms_median);
        {
            /* the review section of the old summary.txt, as summary.json's */
            char tpath[4200];
            snprintf(tpath, sizeof tpath, "%s/summary.txt", out);
            uint8_t *old = NULL;
            size_t olen = 0;
            pm_error_t oe = {0};
            if (t.data && pm_file_read(tpath, (size_t)1 << 20, &old, &olen, &oe) == 0) {
                const size_t ml = sizeof PM__VET_REVIEW_SECTION - 1;
                for (size_t i = 0; i + ml <= olen; i++)
                    if ((i == 0 || old[i - 1] == '\n') &&
                        !memcmp(old + i, PM__VET_REVIEW_SECTION, ml)) {
                        pm_buf_append(&t, old + i, olen - i);
                        break;
                    }
                free(old);
            }
        }
        snprintf(path, sizeof path, "%s/summary.txt", out);
        rc = t.data ? pm_file_write_atomic(path, t.data, t.len, err)
                    : pm_error_set(err, PM_ENOMEM, "summary: out of memory");
        pm_buf_free(&t);
    }
    json_decref(x.adjudication);
    pm_buf_free(&x.recapture);
    return rc;
}

int pm_vet_run(const pm_vet_options_t *o, pm_vet_summary_t *out, pm_error_t *err)
{
    if (!o || !o->cohort || !o->out_dir || !o->transport.query)
        return pm_error_set(err, PM_EINVAL, "vet: cohort, output folder and transport needed");
    if (!o->purpose || !o->purpose[0])
        return pm_error_set(err, PM_EINVAL, "vet: a purpose code is mandatory (R1)");
    if (strlen(o->purpose) > 31)
        return pm_error_set(err, PM_EINVAL, "vet: purpose code longer than 31 characters");
    if (o->workers < 0 || o->workers > PM_VET_MAX_THREADS)
        return pm_error_set(err, PM_EINVAL, "vet: workers must be 0..%d", PM_VET_MAX_THREADS);
    run_t r = {.o = o};
    r.kill_after = o->test_kill_after;
    uint64_t t0 = pm_now_ns();
    double c0 = cpu_now();
    int rc = pm__vet_mkdir(o->out_dir, err);
    char out_real[4096];
    if (!rc && !realpath(o->out_dir, out_real))
        rc = pm_error_set(err, PM_EIO, "%s: %s", o->out_dir, strerror(errno));
    if (!rc)
        rc = scan_cohort(o->cohort, out_real, &r.apps, &r.napps, err);
    if (rc)
        return rc;
    char path[4200];
    snprintf(r.cases_dir, sizeof r.cases_dir, "%s/cases", o->out_dir);
    rc = pm__vet_mkdir(r.cases_dir, err);
    snprintf(path, sizeof path, "%s/journal.sqlite", o->out_dir);
    char cohort_abs[4096];
    if (!realpath(o->cohort, cohort_abs))
        snprintf(cohort_abs, sizeof cohort_abs, "%s", o->cohort);
    if (!rc)
        rc = pm__vet_journal_open(&r.journal, path, cohort_abs, o->purpose, r.apps, r.napps, err);
    if (rc) {
        free_apps(r.apps, r.napps);
        return rc;
    }
    pthread_mutex_init(&r.lock, NULL);
    rc = pm__vet_journal_load(&r.journal, r.apps, r.napps, err);
    r.total = r.napps;
    for (size_t i = 0; i < r.napps; i++)
        r.done_total += r.apps[i].state == PM__VET_DONE;
    size_t nt = r.napps ? r.napps : 1;
    r.t_extract = calloc(nt, sizeof(double));
    r.t_local = calloc(nt, sizeof(double));
    r.t_query = calloc(nt, sizeof(double));
    r.t_total = calloc(nt, sizeof(double));
    if (!rc && (!r.t_extract || !r.t_local || !r.t_query || !r.t_total))
        rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    if (!rc)
        rc = pm_extractor_create(&r.ex, err);
    if (!rc && o->progress)
        o->progress(o->progress_ctx, r.done_total, r.total);
    if (!rc) {
        int workers = o->workers ? o->workers : 1;
        pthread_t tid[PM_VET_MAX_THREADS];
        int started = 0;
        for (int i = 0; i < workers; i++)
            if (pthread_create(&tid[i], NULL, vet_worker, &r) == 0)
                started++;
        if (!started)
            rc = pm_error_set(err, PM_EINTERNAL, "vet: cannot start a worker thread");
        for (int i = 0; i < started; i++)
            pthread_join(tid[i], NULL);
        if (!rc && r.failed) {
            rc = r.failed;
            if (err)
                *err = r.err;
        }
    }
    r.sum.seconds = (double)(pm_now_ns() - t0) / 1e9;
    r.sum.cpu_seconds = cpu_now() - c0;
    pm_error_t werr = {0};
    int wrc = r.journal.db ? write_reports(&r, &werr) : 0;
    if (!rc && wrc) {
        rc = wrc;
        if (err)
            *err = werr;
    }
    if (!rc && r.sum.pending)
        rc = pm_error_set(err, PM_EPARTIAL,
                          "%llu applicant(s) still pending (no answer from the partner, "
                          "interrupted, or --limit): run again to resume",
                          (unsigned long long)r.sum.pending);
    if (out)
        *out = r.sum;
    pm_extractor_free(r.ex);
    free(r.t_extract);
    free(r.t_local);
    free(r.t_query);
    free(r.t_total);
    pm__vet_journal_close(&r.journal);
    pthread_mutex_destroy(&r.lock);
    free_apps(r.apps, r.napps);
    return rc;
}
