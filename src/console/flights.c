/* The console's pre-clearance: flight manifests kept in a folder (CSV, one
 * or more flights each) screened on demand with pm_preclear_manifest against
 * the node's linked store (history) and the folder's watchlist.csv, answered
 * as each passenger's decision with its reasons, paged. */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "console/console_impl.h"
#include "perimeter/link.h"
#include "perimeter/preclear.h"
#include "perimeter/reports.h"

#define MAX_MANIFEST_BYTES ((size_t)16 << 20)
#define MAX_MANIFESTS 1000

static int append_json(pm_buf_t *out, json_t *o, pm_error_t *err)
{
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!t)
        return pm_error_set(err, PM_ENOMEM, "console: out of memory");
    int rc = pm_buf_append_str(out, t);
    free(t);
    return rc ? pm_error_set(err, rc, "console: answer too large") : PM_OK;
}

static int cmp_json_name(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

int pm_console_manifests(const char *dir, pm_buf_t *out, pm_error_t *err)
{
    DIR *d = dir ? opendir(dir) : NULL;
    json_t *names[MAX_MANIFESTS];
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) && n < MAX_MANIFESTS) {
        size_t l = strlen(de->d_name);
        char base[80];
        if (l <= 4 || l - 4 >= sizeof base || strcmp(de->d_name + l - 4, ".csv") != 0)
            continue;
        memcpy(base, de->d_name, l - 4);
        base[l - 4] = '\0';
        if (!pm__console_name_ok(base) || strcmp(base, "watchlist") == 0)
            continue;
        names[n++] = json_string(base);
    }
    if (d)
        closedir(d);
    qsort(names, n, sizeof names[0], cmp_json_name);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, names[i]);
    return append_json(out, a, err);
}

int pm_console_preclear(pm_store_t *st, const char *dir, const char *manifest,
                        const pm_dob_t *departure, int stay_days, const char *decision,
                        size_t offset, size_t limit, pm_buf_t *out, pm_error_t *err)
{
    if (!dir || !pm__console_name_ok(manifest) || strcmp(manifest, "watchlist") == 0)
        return pm_error_set(err, PM_EINVAL, "manifest: 1-64 of [A-Za-z0-9._-]");
    if (limit < 1 || limit > PM_CONSOLE_PAGE_MAX || stay_days < 0 || stay_days > 36600)
        return pm_error_set(err, PM_EINVAL, "limit: 1..%d", PM_CONSOLE_PAGE_MAX);
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.csv", dir, manifest);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return pm_error_set(err, PM_ENOTFOUND, "no manifest '%s'", manifest);
    uint8_t *data = NULL, *wdata = NULL;
    size_t len = 0, wlen = 0;
    pm_watchlist_t *wl = NULL;
    pm_preclear_store_history_t *hist = NULL;
    pm_report_t *r = NULL;
    char *text = NULL;
    json_t *res = NULL;
    int rc = pm_file_read(path, MAX_MANIFEST_BYTES, &data, &len, err);
    if (rc)
        goto done;
    pm_preclear_options_t o;
    memset(&o, 0, sizeof o);
    snprintf(path, sizeof path, "%s/watchlist.csv", dir);
    if (stat(path, &sb) == 0) {
        if ((rc = pm_file_read(path, MAX_MANIFEST_BYTES, &wdata, &wlen, err)) ||
            (rc = pm_watchlist_new(&wl, err)) ||
            (rc = pm_watchlist_load_csv(wl, (const char *)wdata, wlen, err)) ||
            (rc = pm_watchlist_finalize(wl, err)))
            goto done;
        o.watchlist = wl;
    }
    pm_stay_rules_t rules;
    memset(&rules, 0, sizeof rules);
    rules.default_days = stay_days;
    if ((rc = pm_preclear_store_history_new(st, &rules, &hist, err)))
        goto done;
    o.history = pm_preclear_store_history;
    o.history_ctx = hist;
    if (departure)
        o.departure = *departure;
    if ((rc = pm_preclear_manifest(&o, (const char *)data, len, manifest, &r, err)))
        goto done;
    size_t tlen = 0;
    if ((rc = pm_report_render(r, PM_REPORT_JSON, &text, &tlen, err)))
        goto done;
    json_error_t je;
    res = json_loadb(text, tlen, 0, &je);
    if (!res) {
        rc = pm_error_set(err, PM_EINTERNAL, "pre-clearance: %s", je.text);
        goto done;
    }
    /* the page of the decision asked for */
    json_t *rows = json_object_get(res, "rows"), *page = json_array();
    size_t total = 0, i;
    json_t *v;
    json_array_foreach(rows, i, v)
    {
        const char *d = json_string_value(json_object_get(v, "decision"));
        if (decision && *decision && (!d || strcmp(d, decision) != 0))
            continue;
        if (total >= offset && json_array_size(page) < limit)
            json_array_append(page, v);
        total++;
    }
    json_object_set_new(res, "manifest", json_string(manifest));
    json_object_set_new(res, "watchlist", json_boolean(wl != NULL));
    json_object_set_new(res, "total", json_integer((json_int_t)total));
    json_object_set_new(res, "offset", json_integer((json_int_t)offset));
    json_object_set_new(res, "limit", json_integer((json_int_t)limit));
    json_object_set_new(res, "rows", page);
    rc = append_json(out, res, err);
    res = NULL;
done:
    json_decref(res);
    free(text);
    pm_report_free(r);
    pm_preclear_store_history_free(hist);
    pm_watchlist_free(wl);
    free(wdata);
    free(data);
    return rc;
}
