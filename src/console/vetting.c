/* The console's vetting data: runs and their live progress (the run's
 * journal), pages of cases, one case, the applicant's print with its
 * minutiae, the applicant beside a candidate with the paired minutiae, and
 * the adjudicator's decision into the R14 review queue. */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "console/console_impl.h"
#include "perimeter/an2k.h"
#include "perimeter/fp.h"
#include "perimeter/jobs.h"
#include "perimeter/match.h"
#include "perimeter/tmpl.h"
#include "perimeter/vet.h"

#define MAX_CASE_BYTES ((size_t)1 << 20)
#define MAX_TXN_BYTES ((size_t)64 << 20)
#define MAX_RUNS 1000
#define MAX_ENTRIES 1000000u /* files in one run's cases/ */

int pm__console_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= 64 && s[0] != '.' &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int run_dir(const char *root, const char *run, char *out, size_t cap, pm_error_t *err)
{
    if (!root || !pm__console_name_ok(run))
        return pm_error_set(err, PM_EINVAL, "run: 1-64 of [A-Za-z0-9._-]");
    snprintf(out, cap, "%s/%s", root, run);
    char cases[4200];
    snprintf(cases, sizeof cases, "%s/cases", out);
    struct stat st;
    if (stat(cases, &st) != 0 || !S_ISDIR(st.st_mode))
        return pm_error_set(err, PM_ENOTFOUND, "no vetting run '%s'", run);
    return PM_OK;
}

static int append_json(pm_buf_t *out, json_t *o, pm_error_t *err)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s)
        return pm_error_set(err, PM_ENOMEM, "console: out of memory");
    int rc = pm_buf_append_str(out, s);
    free(s);
    return rc ? pm_error_set(err, rc, "console: answer too large") : PM_OK;
}

static json_t *read_json_file(const char *path, pm_error_t *err)
{
    uint8_t *d = NULL;
    size_t n = 0;
    if (pm_file_read(path, MAX_CASE_BYTES, &d, &n, err))
        return NULL;
    json_error_t je;
    json_t *o = json_loadb((const char *)d, n, JSON_REJECT_DUPLICATES, &je);
    free(d);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        pm_error_set(err, PM_EFORMAT, "%s: %s", path, o ? "not an object" : je.text);
        return NULL;
    }
    return o;
}

/* Live progress from the run's journal (read-only; the run may be going on). */
static json_t *progress_of(const char *dir)
{
    json_t *p = json_pack("{s:I, s:I, s:I, s:{}}", "applicants", (json_int_t)0, "done",
                          (json_int_t)0, "pending", (json_int_t)0, "outcomes");
    char path[4200];
    snprintf(path, sizeof path, "%s/journal.sqlite", dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return p;
    }
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt *q = NULL;
    json_int_t all = 0, done = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT state, coalesce(outcome, ''), count(*) FROM applicants "
                           "GROUP BY 1, 2",
                           -1, &q, NULL) == SQLITE_OK) {
        while (sqlite3_step(q) == SQLITE_ROW) {
            const char *state = (const char *)sqlite3_column_text(q, 0);
            const char *outc = (const char *)sqlite3_column_text(q, 1);
            json_int_t n = sqlite3_column_int64(q, 2);
            all += n;
            if (state && strcmp(state, "done") == 0) {
                done += n;
                if (outc && outc[0])
                    json_object_set_new(json_object_get(p, "outcomes"), outc, json_integer(n));
            }
        }
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    json_object_set_new(p, "applicants", json_integer(all));
    json_object_set_new(p, "done", json_integer(done));
    json_object_set_new(p, "pending", json_integer(all - done));
    return p;
}

static json_t *run_json(const char *root, const char *name)
{
    char dir[4200], path[4300];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    json_t *r = json_pack("{s:s}", "run", name);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    pm_error_t e;
    pm_error_clear(&e);
    json_t *s = read_json_file(path, &e);
    static const char *const keep[] = {"cohort", "purpose", "transport", "written_at",
                                       "pending_review"};
    for (size_t i = 0; s && i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(s, keep[i]);
        if (v)
            json_object_set(r, keep[i], v);
    }
    json_decref(s);
    json_object_set_new(r, "progress", progress_of(dir));
    return r;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of dir accepted by keep (malloc'd array). */
static int list_dir(const char *dir, int want_dirs, const char *suffix, char ***out, size_t *out_n,
                    pm_error_t *err)
{
    *out = NULL;
    *out_n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return pm_error_set(err, PM_ENOTFOUND, "cannot open %s", dir);
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = PM_OK;
    struct dirent *de;
    size_t sl = suffix ? strlen(suffix) : 0;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        size_t l = strlen(nm);
        char base[80];
        if (suffix) {
            if (l <= sl || strcmp(nm + l - sl, suffix) != 0 || l - sl >= sizeof base)
                continue;
            memcpy(base, nm, l - sl);
            base[l - sl] = '\0';
        } else {
            if (l >= sizeof base)
                continue;
            memcpy(base, nm, l + 1);
        }
        if (!pm__console_name_ok(base))
            continue;
        if (want_dirs) {
            char sub[4300];
            struct stat st;
            snprintf(sub, sizeof sub, "%s/%s/cases", dir, base);
            if (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
                continue;
        }
        if (n == MAX_ENTRIES) {
            rc = pm_error_set(err, PM_ELIMIT, "%s: more than %u entries", dir,
                              (unsigned)MAX_ENTRIES);
            break;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = pm_error_set(err, PM_ENOMEM, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        if (!(v[n] = strdup(base))) {
            rc = pm_error_set(err, PM_ENOMEM, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return rc;
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    *out_n = n;
    return PM_OK;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int pm_console_runs(const char *root, pm_buf_t *out, pm_error_t *err)
{
    char **names = NULL;
    size_t n = 0;
    int rc = list_dir(root, 1, NULL, &names, &n, err);
    if (rc == PM_ENOTFOUND) /* no runs yet */
        return append_json(out, json_array(), err);
    if (rc)
        return rc;
    json_t *a = json_array();
    for (size_t i = 0; a && i < n && i < MAX_RUNS; i++)
        json_array_append_new(a, run_json(root, names[i]));
    free_list(names, n);
    return append_json(out, a, err);
}

/* The queue's item of case c (pm_vet_case_owns_txn: its own id, or a
 * re-ask's lost or first id, as `perimeter vet refresh` reads it). -1 if
 * none. */
static long case_item(const pm_review_item_t *items, size_t n, const json_t *c)
{
    const char *txn = json_string_value(json_object_get(c, "transaction_id"));
    const char *sup = json_string_value(json_object_get(c, "supersedes"));
    const char *first = json_string_value(json_object_get(c, "reask_of"));
    for (size_t i = 0; i < n; i++)
        if (pm_vet_case_owns_txn(txn, sup, first, items[i].txn))
            return (long)i;
    return -1;
}

static json_t *case_row(const char *name, const json_t *c, const pm_review_item_t *items,
                        size_t nitems)
{
    json_t *partner = json_object_get(c, "partner");
    json_t *cands = json_object_get(partner, "candidates");
    double best = 0;
    size_t i;
    json_t *v;
    json_array_foreach(cands, i, v)
    {
        double s = json_number_value(json_object_get(v, "score"));
        if (s > best)
            best = s;
    }
    json_t *review = json_object_get(c, "review");
    json_t *status = json_object_get(review, "status");
    const char *source = status ? "case_file" : NULL;
    const char *oc = json_string_value(json_object_get(c, "outcome"));
    long at = items && oc && strcmp(oc, "match") == 0 ? case_item(items, nitems, c) : -1;
    json_t *live = at >= 0 ? json_string(pm_review_status_name(items[at].status)) : NULL;
    if (live)
        status = live, source = "queue";
    json_t *row = json_pack("{s:s, s:O?, s:O?, s:f, s:O?, s:s?}", "applicant", name, "outcome",
                            json_object_get(c, "outcome"), "usable_fingers",
                            json_object_get(c, "usable_fingers"), "best_score", best, "review",
                            status, "review_source", source);
    json_decref(live);
    return row;
}

int pm_console_run(const char *root, const char *run, const char *outcome, size_t offset,
                   size_t limit, struct pm_store *reviews, pm_buf_t *out, pm_error_t *err)
{
    char dir[4200], cases[4300];
    int rc = run_dir(root, run, dir, sizeof dir, err);
    if (rc)
        return rc;
    if (limit < 1 || limit > PM_CONSOLE_PAGE_MAX)
        return pm_error_set(err, PM_EINVAL, "limit: 1..%d", PM_CONSOLE_PAGE_MAX);
    snprintf(cases, sizeof cases, "%s/cases", dir);
    char **names = NULL;
    size_t n = 0;
    if ((rc = list_dir(cases, 0, ".json", &names, &n, err)))
        return rc;
    /* the queue, read once per page: the live review status */
    pm_review_item_t *items = NULL;
    size_t nitems = 0;
    if (reviews && (rc = pm_review_list(reviews, -1, &items, &nitems, err))) {
        free_list(names, n);
        return rc;
    }
    json_t *rows = json_array();
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        /* Without a filter only the page's files are read. */
        if (!outcome && (i < offset || i >= offset + limit)) {
            total++;
            continue;
        }
        char path[4400];
        snprintf(path, sizeof path, "%s/%s.json", cases, names[i]);
        pm_error_t e;
        pm_error_clear(&e);
        json_t *c = read_json_file(path, &e);
        if (!c)
            continue; /* being written: the next poll shows it */
        const char *oc = json_string_value(json_object_get(c, "outcome"));
        if (!outcome || (oc && strcmp(oc, outcome) == 0)) {
            if (total >= offset && json_array_size(rows) < limit)
                json_array_append_new(rows, case_row(names[i], c, items, nitems));
            total++;
        }
        json_decref(c);
    }
    free_list(names, n);
    free(items);
    json_t *r = run_json(root, run);
    json_object_set_new(r, "total", json_integer((json_int_t)total));
    json_object_set_new(r, "offset", json_integer((json_int_t)offset));
    json_object_set_new(r, "limit", json_integer((json_int_t)limit));
    json_object_set_new(r, "cases", rows);
    return append_json(out, r, err);
}

static json_t *load_case(const char *root, const char *run, const char *applicant, char *dir,
                         size_t cap, pm_error_t *err)
{
    if (run_dir(root, run, dir, cap, err))
        return NULL;
    if (!pm__console_name_ok(applicant)) {
        pm_error_set(err, PM_EINVAL, "applicant: 1-64 of [A-Za-z0-9._-]");
        return NULL;
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/cases/%s.json", dir, applicant);
    struct stat st;
    if (stat(path, &st) != 0) {
        pm_error_set(err, PM_ENOTFOUND, "no case '%s' in run '%s'", applicant, run);
        return NULL;
    }
    return read_json_file(path, err);
}

/* Where this node holds a candidate's finger template: the run's candidates/
 * folder, or (the synthetic generator's layout, run inside the cohort) the
 * cohort's partner/templates/. */
static int candidate_template(const char *dir, const char *subject, int pos, char *out, size_t cap)
{
    if (!pm__console_name_ok(subject))
        return 0;
    struct stat st;
    snprintf(out, cap, "%s/candidates/%s_%d.iso", dir, subject, pos);
    if (stat(out, &st) == 0)
        return 1;
    snprintf(out, cap, "%s/../partner/templates/%s_%d.iso", dir, subject, pos);
    return stat(out, &st) == 0;
}

int pm_console_case(const char *root, const char *run, const char *applicant, pm_buf_t *out,
                    pm_error_t *err)
{
    char dir[4200];
    json_t *c = load_case(root, run, applicant, dir, sizeof dir, err);
    if (!c)
        return err->code ? err->code : PM_EINTERNAL;
    json_t *held = json_object();
    json_t *cands = json_object_get(json_object_get(c, "partner"), "candidates");
    size_t i;
    json_t *v;
    json_array_foreach(cands, i, v)
    {
        const char *s = json_string_value(json_object_get(v, "subject"));
        if (!s)
            continue;
        json_t *pos = json_array();
        char path[4400];
        for (int p = 1; p <= 10; p++)
            if (candidate_template(dir, s, p, path, sizeof path))
                json_array_append_new(pos, json_integer(p));
        json_object_set_new(held, s, pos);
    }
    json_object_set_new(c, "candidate_templates", held);
    json_object_set_new(c, "run", json_string(run));
    return append_json(out, c, err);
}

/* The applicant's transaction: the path in the case file, or (a run made
 * from another folder) the cohort's applicants/ beside the run. */
static int applicant_image(const char *dir, const json_t *c, int finger, pm_image_t *img,
                           pm_error_t *err)
{
    const char *file = json_string_value(json_object_get(c, "file"));
    if (!file || !*file)
        return pm_error_set(err, PM_ENOTFOUND, "the case names no transaction");
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char tries[3][4400];
    snprintf(tries[0], sizeof tries[0], "%s", file);
    snprintf(tries[1], sizeof tries[1], "%s/../applicants/%s", dir, base);
    snprintf(tries[2], sizeof tries[2], "%s/../%s", dir, base);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = PM_ENOTFOUND;
    for (int i = 0; i < 3 && rc; i++) {
        pm_error_t e;
        pm_error_clear(&e);
        struct stat st;
        if (stat(tries[i], &st) == 0)
            rc = pm_file_read(tries[i], MAX_TXN_BYTES, &data, &len, err);
    }
    if (rc)
        return rc == PM_ENOTFOUND ? pm_error_set(err, PM_ENOTFOUND,
                                                 "the applicant's transaction %s is not here", base)
                                  : rc;
    pm_an2k_txn_t t;
    memset(&t, 0, sizeof t);
    rc = pm_an2k_read(data, len, &t, err);
    free(data);
    if (rc) {
        pm_an2k_free(&t);
        return rc;
    }
    rc = pm_error_set(err, PM_ENOTFOUND, "no image of finger %d in the transaction", finger);
    for (size_t i = 0; i < t.nrecords; i++) {
        const pm_an2k_record_t *r = &t.records[i];
        if (r->type != 14 && (r->type < 3 || r->type > 6))
            continue;
        char v[16];
        if (pm_an2k_get(r, r->type == 14 ? 13 : 4, 1, 1, v, sizeof v) < 1)
            continue;
        char *end;
        long p = strtol(v, &end, 10);
        if (*end || p != finger)
            continue;
        pm_error_clear(err);
        rc = pm_an2k_image_decode(r, NULL, img, err);
        break;
    }
    pm_an2k_free(&t);
    return rc;
}

static void draw_minutiae(pm__plate_t *p, const pm_fingerprint_t *f, double x0, double y0)
{
    for (size_t i = 0; i < f->count; i++)
        pm__plate_minutia(p, x0 + f->minutiae[i].x, y0 + f->minutiae[i].y,
                          f->minutiae[i].angle,
                          f->minutiae[i].type == PM_MINUTIA_BIFURCATION);
}

static int extract_applicant(const pm_extractor_t *ex, const char *root, const char *run,
                             const char *applicant, int finger, pm_image_t *img,
                             pm_fingerprint_t *fp, char *dir, size_t cap, pm_error_t *err)
{
    if (!ex)
        return pm_error_set(err, PM_EINVAL, "no extractor");
    if (finger < 1 || finger > 10)
        return pm_error_set(err, PM_EINVAL, "finger: 1..10");
    json_t *c = load_case(root, run, applicant, dir, cap, err);
    if (!c)
        return err->code ? err->code : PM_EINTERNAL;
    int rc = applicant_image(dir, c, finger, img, err);
    json_decref(c);
    if (rc)
        return rc;
    if ((rc = pm_fp_extract(ex, img, fp, err)))
        pm_image_free(img);
    return rc;
}

int pm_console_print_png(const pm_extractor_t *ex, const char *root, const char *run,
                         const char *applicant, int finger, pm_buf_t *out, int *out_minutiae,
                         pm_error_t *err)
{
    char dir[4200];
    pm_image_t img;
    memset(&img, 0, sizeof img);
    pm_fingerprint_t *fp = calloc(1, sizeof *fp);
    if (!fp)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    int rc = extract_applicant(ex, root, run, applicant, finger, &img, fp, dir, sizeof dir, err);
    if (rc) {
        free(fp);
        return rc;
    }
    pm__plate_t p;
    if (!(rc = pm__plate_new(&p, img.width, img.height, 255, err))) {
        pm__plate_blit(&p, &img, 0, 0);
        draw_minutiae(&p, fp, 0, 0);
        rc = pm__plate_png(&p, out, err);
        pm__plate_free(&p);
    }
    if (out_minutiae)
        *out_minutiae = (int)fp->count;
    pm_image_free(&img);
    free(fp);
    return rc;
}

int pm_console_pair_png(const pm_extractor_t *ex, const char *root, const char *run,
                        const char *applicant, int finger, const char *subject, pm_buf_t *out,
                        double *out_score, int *out_pairs, pm_match_minutia_pair_t *out_list,
                        pm_error_t *err)
{
    char dir[4200], tpath[4400];
    if (!pm__console_name_ok(subject))
        return pm_error_set(err, PM_EINVAL, "candidate: 1-64 of [A-Za-z0-9._-]");
    pm_image_t img;
    memset(&img, 0, sizeof img);
    pm_fingerprint_t *fa = calloc(1, sizeof *fa);
    if (!fa)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    int rc = extract_applicant(ex, root, run, applicant, finger, &img, fa, dir, sizeof dir, err);
    if (rc) {
        free(fa);
        return rc;
    }
    pm_fingerprint_t *views = NULL;
    size_t nviews = 0;
    pm_match_template_t *ta = NULL, *tb = NULL;
    pm_matcher_t *m = NULL;
    pm__plate_t p = {0, 0, NULL};
    if (!candidate_template(dir, subject, finger, tpath, sizeof tpath)) {
        rc = pm_error_set(err, PM_ENOTFOUND,
                          "this node holds no template of candidate %s finger %d", subject,
                          finger);
        goto done;
    }
    if ((rc = pm_tmpl_read_file(tpath, &views, &nviews, NULL, err)))
        goto done;
    if (nviews < 1) {
        rc = pm_error_set(err, PM_EFORMAT, "%s: no view", tpath);
        goto done;
    }
    const pm_fingerprint_t *fb = &views[0];
    if ((rc = pm_match_prepare(fa, &ta, err)) || (rc = pm_match_prepare(fb, &tb, err)) ||
        (rc = pm_matcher_new(&m, err)))
        goto done;
    pm_match_result_t res;
    memset(&res, 0, sizeof res);
    double score = pm_match_compare(m, ta, tb, &res);
    int bw = fb->width > 0 ? fb->width : img.width, bh = fb->height > 0 ? fb->height : img.height;
    if (bw > 2048 || bh > 2048) {
        rc = pm_error_set(err, PM_ELIMIT, "candidate view of %dx%d", bw, bh);
        goto done;
    }
    int gap = 40, W = img.width + gap + bw, H = img.height > bh ? img.height : bh;
    if ((rc = pm__plate_new(&p, W, H, 255, err)))
        goto done;
    pm__plate_blit(&p, &img, 0, 0);
    /* the candidate's side: its template on a pale plate (no image disclosed) */
    static const uint8_t plate[3] = {236, 236, 228}, green[3] = {20, 160, 60};
    for (int y = 0; y < bh; y++)
        pm__plate_line(&p, img.width + gap, y, img.width + gap + bw - 1, y, plate, 1);
    draw_minutiae(&p, fa, 0, 0);
    draw_minutiae(&p, fb, img.width + gap, 0);
    /* the matcher's own pairing, the one its score was computed from */
    pm_match_minutia_pair_t pairs[PM_MAX_MINUTIAE];
    int np = pm_match_last_pairs(m, ta, tb, pairs, PM_MAX_MINUTIAE);
    if (np > PM_MAX_MINUTIAE)
        np = PM_MAX_MINUTIAE;
    for (int k = 0; k < np; k++) {
        const pm_minutia_t *a = &fa->minutiae[pairs[k].a], *b = &fb->minutiae[pairs[k].b];
        pm__plate_line(&p, a->x, a->y, img.width + gap + b->x, b->y, green, 1);
    }
    if (out_list)
        memcpy(out_list, pairs, (size_t)np * sizeof pairs[0]);
    rc = pm__plate_png(&p, out, err);
    if (out_score)
        *out_score = score;
    if (out_pairs)
        *out_pairs = np;
done:
    pm__plate_free(&p);
    pm_matcher_free(m);
    pm_match_template_free(ta);
    pm_match_template_free(tb);
    free(views);
    pm_image_free(&img);
    free(fa);
    return rc;
}

int pm_console_case_decide(const pm_jobs_ctx_t *ctx, const char *partner_code, const char *root,
                           const char *run, const char *applicant, int confirm, const char *officer,
                           const char *why, int64_t now, int64_t *out_review, pm_error_t *err)
{
    char dir[4200];
    json_t *c = load_case(root, run, applicant, dir, sizeof dir, err);
    if (!c)
        return err->code ? err->code : PM_EINTERNAL;
    int rc = PM_OK;
    const char *outcome = json_string_value(json_object_get(c, "outcome"));
    const char *txn = json_string_value(json_object_get(c, "transaction_id"));
    const char *purpose = json_string_value(json_object_get(c, "purpose"));
    json_t *partner = json_object_get(c, "partner");
    json_t *best = json_array_get(json_object_get(partner, "candidates"), 0);
    if (!outcome || strcmp(outcome, "match") != 0 || !txn || !best) {
        rc = pm_error_set(err, PM_ESTATE, "case %s is not a match: nothing to adjudicate",
                          applicant);
        goto out;
    }
    /* once per applicant: find its item (case_item), else queue it */
    pm_review_item_t *items = NULL;
    size_t n = 0;
    int64_t id = 0;
    if ((rc = pm_review_list(ctx->store, -1, &items, &n, err)))
        goto out;
    long at = case_item(items, n, c);
    if (at >= 0)
        id = items[at].id;
    free(items);
    if (!id) {
        char evidence[256];
        snprintf(evidence, sizeof evidence, "vetting run %s, candidate %s, fused score %.1f", run,
                 json_string_value(json_object_get(best, "subject")),
                 json_number_value(json_object_get(best, "score")));
        pm_review_request_t r = {txn,      partner_code ? partner_code : "",    purpose ? purpose : "", applicant,
                                 json_number_value(json_object_get(best, "score")),
                                 "refuse the application", evidence, 0};
        if ((rc = pm_review_enqueue(ctx, &r, now, &id, err)))
            goto out;
    }
    rc = pm_review_decide(ctx, id, confirm, officer, why, now, err);
    if (out_review)
        *out_review = id;
out:
    json_decref(c);
    return rc;
}
