/* The console's traveller: one person's linked crossings in both countries
 * (history), days of presence, overstay flags, and the linkage review pairs
 * that involve them with the evidence of each; the review queue paged. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "console/console_impl.h"
#include "perimeter/link.h"
#include "perimeter/reports.h"
#include "perimeter/store.h"

static json_t *report_json(const pm_report_t *r, pm_error_t *err)
{
    char *s = NULL;
    size_t n = 0;
    if (pm_report_render(r, PM_REPORT_JSON, &s, &n, err))
        return NULL;
    json_error_t je;
    json_t *o = json_loadb(s, n, 0, &je);
    free(s);
    if (!o)
        pm_error_set(err, PM_EINTERNAL, "report: %s", je.text);
    return o;
}

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

static json_t *review_json(const pm_link_review_row_t *r)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:s, s:s}", "id", (json_int_t)r->id,
                     "crossing", (json_int_t)r->crossing_id, "candidate_crossing",
                     (json_int_t)r->candidate_id, "traveller", (json_int_t)r->traveller,
                     "candidate_traveller", (json_int_t)r->candidate_traveller, "score", r->score,
                     "evidence", r->evidence, "status", r->status);
}

int pm_console_traveller(pm_store_t *st, int64_t traveller, const char *document,
                         const pm_dob_t *as_of, int stay_days, pm_buf_t *out, pm_error_t *err)
{
    if ((traveller > 0) == (document && *document))
        return pm_error_set(err, PM_EINVAL, "give a traveller or a document, not both");
    if (!as_of || stay_days < 0 || stay_days > 36600)
        return pm_error_set(err, PM_EINVAL, "as_of and a stay of 0..36600 days");
    pm_link_events_t L;
    memset(&L, 0, sizeof L);
    int rc = pm_link_events_load(st, &L, err);
    if (rc)
        return rc;
    json_t *res = json_object(), *hist = NULL;
    pm_report_t *r = NULL;
    pm_history_query_t hq = {traveller, NULL, traveller > 0 ? NULL : document};
    if ((rc = pm_report_history(st, &L, &hq, &r, err)))
        goto done;
    hist = report_json(r, err);
    pm_report_free(r);
    r = NULL;
    if (!hist) {
        rc = err->code ? err->code : PM_EINTERNAL;
        goto done;
    }
    /* the person: the first traveller the document names */
    json_t *rows = json_object_get(hist, "rows");
    if (traveller <= 0)
        traveller = json_integer_value(json_object_get(json_array_get(rows, 0), "traveller"));
    json_object_set_new(res, "traveller", json_integer((json_int_t)traveller));
    json_object_set_new(res, "history", hist);
    /* presence in the 5 years to as_of (citizenship: 1095 days) */
    if ((rc = pm_report_presence(&L, traveller, as_of, 5, 1095, &r, err)))
        goto done;
    json_t *pres = report_json(r, err);
    pm_report_free(r);
    r = NULL;
    json_object_set_new(res, "presence", json_incref(json_array_get(json_object_get(pres, "rows"), 0)));
    json_decref(pres);
    /* overstay flags: this traveller's rows of the overstays report */
    pm_stay_rules_t rules;
    memset(&rules, 0, sizeof rules);
    rules.default_days = stay_days;
    if ((rc = pm_report_overstays(st, &L, &rules, as_of, &r, err)))
        goto done;
    json_t *ov = report_json(r, err);
    pm_report_free(r);
    r = NULL;
    json_t *mine = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(ov, "rows"), i, v)
    {
        if (json_integer_value(json_object_get(v, "traveller")) == traveller)
            json_array_append(mine, v);
    }
    json_decref(ov);
    json_object_set_new(res, "overstays", mine);
    /* the linkage review pairs involving them, with the evidence */
    pm_link_review_row_t *rv = NULL;
    size_t nrv = 0;
    if ((rc = pm_link_store_reviews(st, NULL, 0, &rv, &nrv, err)))
        goto done;
    json_t *links = json_array();
    for (size_t k = 0; k < nrv && json_array_size(links) < 200; k++)
        if ((int64_t)rv[k].traveller == traveller || (int64_t)rv[k].candidate_traveller == traveller)
            json_array_append_new(links, review_json(&rv[k]));
    free(rv);
    json_object_set_new(res, "link_reviews", links);
    /* every link of their crossings with its evidence: the linker's own
     * (persisted when it made them) and those accepted from the queue */
    pm_link_evidence_row_t *lv = NULL;
    size_t nlv = 0;
    if ((rc = pm_link_store_links(st, traveller, &lv, &nlv, err)))
        goto done;
    json_t *auto_links = json_array();
    pm_crossing_t *cx = malloc(sizeof *cx);
    for (size_t k = 0; cx && k < nlv && k < 500; k++) {
        json_error_t je;
        json_t *f = json_loads(lv[k].fields, 0, &je);
        char rec[2][64] = {"", ""};
        int64_t ids[2] = {lv[k].crossing_id, lv[k].candidate_id};
        for (int j = 0; j < 2; j++) {
            pm_error_t ge;
            pm_error_clear(&ge);
            if (pm_store_get_crossing(st, ids[j], cx, &ge) == PM_OK)
                snprintf(rec[j], sizeof rec[j], "%s", cx->record_id);
        }
        json_array_append_new(
            auto_links,
            json_pack("{s:I, s:s, s:I, s:s, s:s, s:f, s:f, s:s, s:o, s:s, s:I}", "crossing",
                      (json_int_t)ids[0], "record", rec[0], "candidate_crossing", (json_int_t)ids[1],
                      "candidate_record", rec[1], "how", lv[k].how, "score", lv[k].score,
                      "threshold", lv[k].threshold, "rule", lv[k].rule, "fields",
                      f ? f : json_array(), "at", lv[k].at, "run", (json_int_t)lv[k].run));
    }
    free(cx);
    free(lv);
    json_object_set_new(res, "links", auto_links);
    rc = append_json(out, res, err);
    res = NULL;
done:
    json_decref(res);
    pm_link_events_free(&L);
    return rc;
}

int pm_console_link_reviews(pm_store_t *st, const char *status, size_t offset, size_t limit,
                            pm_buf_t *out, pm_error_t *err)
{
    if (limit < 1 || limit > PM_CONSOLE_PAGE_MAX)
        return pm_error_set(err, PM_EINVAL, "limit: 1..%d", PM_CONSOLE_PAGE_MAX);
    if (status && strcmp(status, "open") && strcmp(status, "accepted") && strcmp(status, "rejected"))
        return pm_error_set(err, PM_EINVAL, "status: open, accepted or rejected");
    pm_link_review_row_t *rv = NULL;
    size_t n = 0;
    int rc = pm_link_store_reviews(st, status, 0, &rv, &n, err);
    if (rc)
        return rc;
    json_t *rows = json_array();
    for (size_t k = offset; k < n && k < offset + limit; k++)
        json_array_append_new(rows, review_json(&rv[k]));
    free(rv);
    return append_json(out,
                       json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)n, "offset",
                                 (json_int_t)offset, "limit", (json_int_t)limit, "reviews", rows),
                       err);
}
