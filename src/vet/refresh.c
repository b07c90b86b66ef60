/* The final R14 review status of a vetting run's matches: read from our
 * node's review queue (GET /v1/reviews?status=all) and copied back into the
 * case files and the summary, each file rewritten atomically. docs/vet.md
 * "Final review status". */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"
#include "perimeter/node.h"
#include "perimeter/vet.h"

#include "vet/vet_int.h"

#define REVIEWS_MAX ((size_t)64 << 20) /* bytes of the node's review list */
#define CASE_MAX ((size_t)1 << 20)     /* bytes of one case file */
#define REVIEW_SECTION PM__VET_REVIEW_SECTION

int pm_vet_node_reviews(const pm_vet_node_transport_t *t, pm_buf_t *body, pm_error_t *err)
{
    if (!t || !t->base_url || !body)
        return pm_error_set(err, PM_EINVAL, "vet refresh: bad arguments");
    pm_node_request_t rq = {
        .base_url = t->base_url,
        .ca_file = t->ca_file,
        .token = t->token,
        .timeout_s = t->timeout_s ? t->timeout_s : 60,
        .max_response = REVIEWS_MAX,
    };
    long status = 0;
    pm_buf_reset(body);
    int rc = pm_node_call(&rq, "GET", "/v1/reviews?status=all", NULL, 0, NULL, &status, body, err);
    if (rc)
        return rc;
    if (status != 200)
        return pm_error_set(err, PM_EIO, "GET /v1/reviews: HTTP %ld", status);
    return 0;
}

/* The item of the list with this id, or NULL. */
static json_t *find_item(json_t *arr, json_int_t id)
{
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it) {
        json_t *v = json_object_get(it, "id");
        if (json_is_integer(v) && json_integer_value(v) == id)
            return it;
    }
    return NULL;
}

static int write_json(const char *path, json_t *root, pm_error_t *err)
{
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    size_t n = strlen(text);
    char *t2 = realloc(text, n + 2);
    if (!t2) {
        free(text);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    t2[n] = '\n';
    t2[n + 1] = 0;
    int rc = pm_file_write_atomic(path, t2, n + 1, err);
    free(t2);
    return rc;
}

/* Sets key to a copy of val in o; 1 if that changed o. */
static int set_if_changed(json_t *o, const char *key, json_t *val)
{
    json_t *old = json_object_get(o, key);
    if (!val)
        return 0;
    if (old && json_equal(old, val)) {
        json_decref(val);
        return 0;
    }
    json_object_set_new(o, key, val);
    return 1;
}

int pm_vet_case_owns_txn(const char *txn, const char *supersedes, const char *reask_of,
                         const char *item)
{
    if (!item)
        return 0;
    return (txn && !strcmp(txn, item)) || (supersedes && !strcmp(supersedes, item)) ||
           (supersedes && reask_of && !strcmp(reask_of, item));
}

/* One case file: the review status of its match from the node's item. */
static int refresh_case(const char *path, json_t *items, pm_vet_refresh_stats_t *s,
                        pm_error_t *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return pm_error_set(err, PM_EFORMAT, "%s: not a case file: %s", path, je.text);
    }
    s->cases++;
    const char *outcome = json_string_value(json_object_get(root, "outcome"));
    json_t *rv = json_object_get(root, "review");
    int rc = 0;
    if (!outcome || strcmp(outcome, "match") || !json_is_object(rv))
        goto done;
    s->matches++;
    json_t *rid = json_object_get(rv, "review_id");
    if (!json_is_integer(rid)) {
        s->not_queued++;
        goto done;
    }
    json_t *it = find_item(items, json_integer_value(rid));
    const char *txn = json_string_value(json_object_get(root, "transaction_id"));
    const char *itxn = it ? json_string_value(json_object_get(it, "txn")) : NULL;
    const char *st = it ? json_string_value(json_object_get(it, "status")) : NULL;
    /* a re-ask joined the lost (or first) query's item */
    int ours = txn && pm_vet_case_owns_txn(txn, json_string_value(json_object_get(root, "supersedes")),
                                           json_string_value(json_object_get(root, "reask_of")), itxn);
    if (!it || !ours || !st ||
        (strcmp(st, "pending") && strcmp(st, "confirmed") && strcmp(st, "rejected"))) {
        /* not ours (another node, or a queue that was reset): left as it is */
        s->missing++;
        goto done;
    }
    int changed = set_if_changed(rv, "status", json_string(st));
    if (!strcmp(st, "confirmed"))
        s->confirmed++;
    else if (!strcmp(st, "rejected"))
        s->rejected++;
    else
        s->pending++;
    if (strcmp(st, "pending")) {
        json_t *by = json_object_get(it, "officer"), *why = json_object_get(it, "why"),
               *at = json_object_get(it, "decided_at");
        if (json_is_string(by)) changed |= set_if_changed(rv, "by", json_copy(by));
        if (json_is_integer(at)) changed |= set_if_changed(rv, "decided_at", json_copy(at));
        if (json_is_string(why)) changed |= set_if_changed(rv, "why", json_copy(why));
    }
    if (changed) {
        rc = write_json(path, root, err);
        if (!rc)
            s->updated++;
    }
done:
    json_decref(root);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* summary.txt with its review section replaced. */
static int refresh_summary_txt(const char *out_dir, const pm_vet_refresh_stats_t *s,
                               pm_error_t *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.txt", out_dir);
    uint8_t *old = NULL;
    size_t len = 0;
    int rc = pm_file_read(path, (size_t)1 << 20, &old, &len, err);
    if (rc)
        return rc;
    pm_buf_t b = {0};
    b.max = len + 4096;
    const char *cut = NULL;
    /* the old section (and everything after it: it is written last) goes */
    for (size_t i = 0; i + sizeof REVIEW_SECTION - 1 <= len; i++)
        if ((i == 0 || old[i - 1] == '\n') &&
            !memcmp(old + i, REVIEW_SECTION, sizeof REVIEW_SECTION - 1)) {
            cut = (const char *)old + i;
            break;
        }
    size_t keep = cut ? (size_t)(cut - (const char *)old) : len;
    rc = pm_buf_append(&b, old, keep);
    if (!rc && keep && old[keep - 1] != '\n')
        rc = pm_buf_append_str(&b, "\n");
    if (!rc)
        rc = pm_buf_printf(&b,
                           REVIEW_SECTION "\n"
                           "  confirmed       %llu\n"
                           "  rejected        %llu\n"
                           "  still pending   %llu\n"
                           "  not queued      %llu  (no review item: in-process partner)\n"
                           "  not found       %llu  (review id not in the node's queue)\n",
                           (unsigned long long)s->confirmed, (unsigned long long)s->rejected,
                           (unsigned long long)s->pending, (unsigned long long)s->not_queued,
                           (unsigned long long)s->missing);
    free(old);
    if (rc) {
        pm_buf_free(&b);
        return pm_error_set(err, rc, "summary.txt: out of memory");
    }
    rc = pm_file_write_atomic(path, b.data, b.len, err);
    pm_buf_free(&b);
    return rc;
}

int pm_vet_refresh(const char *out_dir, const char *reviews, size_t len,
                   pm_vet_refresh_stats_t *out, pm_error_t *err)
{
    if (!out_dir || !reviews)
        return pm_error_set(err, PM_EINVAL, "vet refresh: bad arguments");
    if (len > REVIEWS_MAX)
        return pm_error_set(err, PM_ELIMIT, "vet refresh: the review list is over %zu bytes",
                            REVIEWS_MAX);
    json_error_t je;
    json_t *list = json_loadb(reviews, len, 0, &je);
    json_t *items = json_object_get(list, "reviews");
    if (!json_is_array(items)) {
        json_decref(list);
        return pm_error_set(err, PM_EFORMAT, "vet refresh: not a review list (%s)",
                            list ? "no \"reviews\" array" : je.text);
    }
    pm_vet_refresh_stats_t s = {0};
    char dir[4200], path[4400];
    snprintf(dir, sizeof dir, "%s/cases", out_dir);
    DIR *d = opendir(dir);
    if (!d) {
        json_decref(list);
        return pm_error_set(err, PM_ENOTFOUND, "vet refresh: %s: no case files", dir);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") || e->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nn = nc <= PM_VET_MAX_APPLICANTS ? realloc(names, nc * sizeof *nn) : NULL;
            if (!nn) {
                rc = pm_error_set(err, PM_ENOMEM, "vet refresh: too many case files");
                break;
            }
            names = nn;
            cap = nc;
        }
        if (!(names[n] = strdup(e->d_name)))
            rc = pm_error_set(err, PM_ENOMEM, "out of memory");
        else
            n++;
    }
    closedir(d);
    if (!rc && n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; !rc && i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = refresh_case(path, items, &s, err);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    json_decref(list);
    if (rc)
        return rc;
    /* the summary: JSON then text */
    snprintf(path, sizeof path, "%s/summary.json", out_dir);
    json_t *sum = json_load_file(path, 0, &je);
    if (!json_is_object(sum)) {
        json_decref(sum);
        return pm_error_set(err, PM_EFORMAT, "vet refresh: %s: %s", path, je.text);
    }
    json_object_set_new(sum, "review",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "matches",
                                  (json_int_t)s.matches, "confirmed", (json_int_t)s.confirmed,
                                  "rejected", (json_int_t)s.rejected, "pending",
                                  (json_int_t)s.pending, "not_queued", (json_int_t)s.not_queued,
                                  "not_found", (json_int_t)s.missing));
    rc = write_json(path, sum, err);
    json_decref(sum);
    if (!rc)
        rc = refresh_summary_txt(out_dir, &s, err);
    if (!rc && out)
        *out = s;
    return rc;
}
