/* Officers' history and report routes: thin shells over the reports library
 * (include/perimeter/reports.h), answering the same bytes `perimeter report`
 * prints (format=json, the default; csv; text). Query arguments are checked:
 * an unknown one, a bad date or number is a 400 naming it. Each request loads
 * the linked events from the worker's store (docs/node.md, "Reports"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/routes_reports.h"
#include "perimeter/reports.h"

static int arg_format(pm__req_t *rq, pm_report_format_t *f)
{
    const char *v = pm__req_arg(rq, "format");
    if (!v || !strcmp(v, "json"))
        *f = PM_REPORT_JSON;
    else if (!strcmp(v, "csv"))
        *f = PM_REPORT_CSV;
    else if (!strcmp(v, "text"))
        *f = PM_REPORT_TEXT;
    else {
        pm__reply_error(rq, 400, "bad_argument", "format is json, csv or text", "format");
        return 0;
    }
    return 1;
}

/* A whole date (YYYY-MM-DD); required or not. */
static int arg_date(pm__req_t *rq, const char *name, int required, pm_dob_t *d)
{
    const char *v = pm__req_arg(rq, name);
    memset(d, 0, sizeof *d);
    if (!v) {
        if (!required) return 1;
        pm__reply_error(rq, 400, "missing_argument", "a date YYYY-MM-DD is required", name);
        return 0;
    }
    if (pm_dob_parse(v, strlen(v), d, NULL) || !d->month || !d->day) {
        pm__reply_error(rq, 400, "bad_argument", "not a date YYYY-MM-DD", name);
        return 0;
    }
    return 1;
}

/* An integer in [lo, hi]; def when absent. */
static int arg_int(pm__req_t *rq, const char *name, long long lo, long long hi, long long def,
                   long long *out)
{
    const char *v = pm__req_arg(rq, name);
    *out = def;
    if (!v) return 1;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || x < lo || x > hi) {
        pm__reply_error(rq, 400, "bad_argument", "not an integer in range", name);
        return 0;
    }
    *out = x;
    return 1;
}

static void send_report(pm__req_t *rq, pm_report_t *r, pm_report_format_t f)
{
    static const char *const ctype[] = {"text/plain; charset=utf-8", "text/csv; charset=utf-8",
                                        "application/json"};
    char *body = NULL;
    size_t len = 0;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_report_render(r, f, &body, &len, &e);
    pm_report_free(r);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    pm__reply(rq, 200, ctype[f], body, len);
}

static int load_events(pm__req_t *rq, pm_store_t *st, pm_link_events_t *L)
{
    pm_error_t e;
    pm_error_clear(&e);
    memset(L, 0, sizeof *L);
    int rc = pm_link_events_load(st, L, &e);
    if (rc) pm__reply_pm_error(rq, rc, &e, NULL);
    return rc == 0;
}

void pm__h_history(pm__req_t *rq, pm_store_t *st)
{
    static const char *const names[] = {"traveller", "record", "document", "format", NULL};
    pm_report_format_t f;
    long long trav = 0;
    if (!pm__req_args_only(rq, names) || !arg_format(rq, &f) ||
        !arg_int(rq, "traveller", 1, INT64_MAX, 0, &trav))
        return;
    pm_history_query_t q = {trav, pm__req_arg(rq, "record"), pm__req_arg(rq, "document")};
    if ((q.traveller > 0) + (q.record != NULL) + (q.document != NULL) != 1) {
        pm__reply_error(rq, 400, "bad_request", "give exactly one of traveller, record, document",
                        NULL);
        return;
    }
    pm_link_events_t L;
    if (!load_events(rq, st, &L)) return;
    pm_report_t *r = NULL;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_report_history(st, &L, &q, &r, &e);
    pm_link_events_free(&L);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    send_report(rq, r, f);
}

void pm__h_report(pm__req_t *rq, pm_store_t *st)
{
    static const char *const names[] = {"format", "all",      "as_of",    "stay",
                                        "years",  "required", "traveller", NULL};
    const char *kind = rq->param;
    int reconcile = !strcmp(kind, "reconcile"), over = !strcmp(kind, "overstays"),
        pres = !strcmp(kind, "presence");
    if (!reconcile && !over && !pres) {
        pm__reply_error(rq, 404, "not_found",
                        "reports: reconcile, overstays, presence (removals is POST)", "kind");
        return;
    }
    pm_report_format_t f;
    long long all = 0, years = 5, required = 1095, trav = 0;
    pm_dob_t as_of;
    if (!pm__req_args_only(rq, names) || !arg_format(rq, &f) || !arg_int(rq, "all", 0, 1, 0, &all) ||
        !arg_int(rq, "years", 1, 50, 5, &years) ||
        !arg_int(rq, "required", 0, 366 * 50, 1095, &required) ||
        !arg_int(rq, "traveller", 1, INT64_MAX, 0, &trav) || !arg_date(rq, "as_of", !reconcile, &as_of))
        return;
    pm_stay_rules_t rules;
    memset(&rules, 0, sizeof rules);
    rules.default_days = 180;
    pm_error_t e;
    pm_error_clear(&e);
    const char *stay = pm__req_arg(rq, "stay");
    if (stay) {
        /* "CAN=0,USA=90,default=180" */
        for (const char *p = stay; *p;) {
            const char *comma = strchr(p, ',');
            size_t l = comma ? (size_t)(comma - p) : strlen(p);
            char one[32];
            if (l == 0 || l >= sizeof one) {
                pm__reply_error(rq, 400, "bad_argument", "stay is CODE=DAYS[,CODE=DAYS...]",
                                "stay");
                return;
            }
            memcpy(one, p, l);
            one[l] = '\0';
            if (pm_stay_rules_add(&rules, one, &e)) {
                pm__reply_error(rq, 400, "bad_argument", pm_error_text(&e), "stay");
                return;
            }
            p += l + (comma ? 1 : 0);
        }
    }
    if (pres && !trav && !all) {
        pm__reply_error(rq, 400, "bad_request", "presence needs traveller=ID or all=1", NULL);
        return;
    }
    pm_link_events_t L;
    if (!load_events(rq, st, &L)) return;
    pm_report_t *r = NULL;
    int rc;
    if (reconcile)
        rc = pm_report_reconcile(&L, (int)all, &r, &e);
    else if (over)
        rc = pm_report_overstays(st, &L, &rules, &as_of, &r, &e);
    else
        rc = pm_report_presence(&L, trav, &as_of, (int)years, (int)required, &r, &e);
    pm_link_events_free(&L);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    send_report(rq, r, f);
}

void pm__h_report_removals(pm__req_t *rq, pm_store_t *st)
{
    static const char *const names[] = {"format", NULL};
    pm_report_format_t f;
    if (!pm__req_args_only(rq, names) || !arg_format(rq, &f)) return;
    if (strncmp(rq->content_type_in, "text/csv", 8) != 0) {
        pm__reply_error(rq, 415, "unsupported_media_type",
                        "send the removal orders as text/csv", NULL);
        return;
    }
    pm_link_events_t L;
    if (!load_events(rq, st, &L)) return;
    pm_report_t *r = NULL;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_report_removals(st, &L, rq->body.data ? (const char *)rq->body.data : "",
                                rq->body.len, "orders", &r, &e);
    pm_link_events_free(&L);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    send_report(rq, r, f);
}
