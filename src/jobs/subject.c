/* R12: a person's own travel and disclosure report. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs_internal.h"
#include "perimeter/travel.h"

#define SUBJECT_MAX_CROSSINGS 100000

typedef struct refs {
    char (*v)[PM_JOBS_REF_MAX];
    size_t n, cap;
} refs_t;

static int refs_has(const refs_t *r, const char *s)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i], s) == 0) return 1;
    return 0;
}

static int refs_add(refs_t *r, const char *s)
{
    if (refs_has(r, s)) return 0;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        void *n = realloc(r->v, cap * sizeof *r->v);
        if (!n) return PM_ENOMEM;
        r->v = n;
        r->cap = cap;
    }
    snprintf(r->v[r->n++], PM_JOBS_REF_MAX, "%s", s);
    return 0;
}

static json_t *crossing_json(const pm_crossing_t *c)
{
    char dob[16], ts[32];
    pm_dob_format(&c->dob, dob);
    pm_timestamp_format(c->time_utc, c->utc_offset_min, ts);
    json_t *o = json_object();
    json_object_set_new(o, "record", json_sprintf("%s:%s", c->reporting_country, c->record_id));
    json_object_set_new(o, "reporting_country", json_string(c->reporting_country));
    json_object_set_new(o, "direction", json_string(pm_direction_name(c->direction)));
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "port", json_string(c->port_code));
    json_object_set_new(o, "mode", json_string(pm_mode_name(c->mode)));
    json_object_set_new(o, "surname", json_string(c->surname));
    json_object_set_new(o, "given_names", json_string(c->given_names));
    json_object_set_new(o, "middle_names", json_string(c->middle_names));
    json_object_set_new(o, "date_of_birth", json_string(dob));
    json_object_set_new(o, "citizenship", json_string(c->citizenship));
    json_object_set_new(
        o, "document",
        json_sprintf("%s %s %s", c->document_type, c->document_issuer, c->document_number));
    json_object_set_new(o, "source",
                        c->origin[0] ? json_sprintf("received from %s", c->origin)
                                     : json_string("recorded by this node"));
    return o;
}

typedef struct log_scan {
    const refs_t *refs;
    const char *subject_ref;
    json_t *out;
} log_scan_t;

static int scan_entry(void *ctx, const pm_audit_entry_t *e)
{
    log_scan_t *s = ctx;
    if (strcmp(e->kind, "subject_access") == 0) return 0;
    json_t *named = NULL;
    for (size_t i = 0; i < e->n_record_ids; i++) {
        const char *r = e->record_ids[i];
        if (refs_has(s->refs, r) ||
            (s->subject_ref && s->subject_ref[0] && strcmp(r, s->subject_ref) == 0)) {
            if (!named) named = json_array();
            json_array_append_new(named, json_string(r));
        }
    }
    if (!named) return 0;
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
    json_object_set_new(o, "time", json_integer(e->time));
    json_object_set_new(o, "kind", json_string(e->kind));
    json_object_set_new(o, "partner", json_string(e->partner));
    json_object_set_new(o, "purpose", json_string(e->purpose));
    json_object_set_new(o, "rule", json_string(e->rule));
    json_t *f = json_array();
    for (size_t i = 0; i < e->n_fields; i++)
        json_array_append_new(f, json_string(e->fields[i]));
    json_object_set_new(o, "fields", f);
    json_object_set_new(o, "records", named);
    json_object_set_new(o, "txn", json_string(e->txn));
    json_array_append_new(s->out, o);
    return 0;
}

static int find_crossings(pm_store_t *st, const pm_subject_query_t *q, json_t *arr, refs_t *refs,
                          pm_error_t *err)
{
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_TIME;
    f.limit = SUBJECT_MAX_CROSSINGS;
    if (q->document_number && q->document_number[0]) {
        if (!q->document_issuer || strlen(q->document_issuer) != 3 ||
            strlen(q->document_number) > PM_DOCNUM_MAX)
            return pm_error_set(err, PM_EINVAL, "subject access: document number and issuer");
        snprintf(f.document_number, sizeof f.document_number, "%s", q->document_number);
        snprintf(f.document_issuer, sizeof f.document_issuer, "%s", q->document_issuer);
    } else if (q->surname && q->surname[0] && q->dob && q->dob[0]) {
        int rc = pm_name_normalize(q->surname, strlen(q->surname), f.surname_norm,
                                   sizeof f.surname_norm, err);
        if (!rc && q->given_names && q->given_names[0])
            rc = pm_name_normalize(q->given_names, strlen(q->given_names), f.given_names_norm,
                                   sizeof f.given_names_norm, err);
        if (!rc) rc = pm_dob_parse(q->dob, strlen(q->dob), &f.dob, err);
        if (rc) return pm_error_prefix(err, "subject access"), rc;
        if (!f.dob.year) return pm_error_set(err, PM_EINVAL, "subject access: a birth year");
    } else {
        return pm_error_set(err, PM_EINVAL,
                            "subject access: a document (number + issuer) or surname + date of "
                            "birth");
    }
    pm_crossing_iter_t *it = NULL;
    int rc = pm_store_crossings(st, &f, &it, err);
    pm_crossing_t *c = malloc(sizeof *c);
    if (!c) rc = rc ? rc : pm_error_set(err, PM_ENOMEM, "out of memory");
    while (!rc) {
        int got = pm_crossing_iter_next(it, c, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        char ref[PM_JOBS_REF_MAX];
        snprintf(ref, sizeof ref, "%s:%s", c->reporting_country, c->record_id);
        if (refs_add(refs, ref) || refs_add(refs, c->record_id))
            rc = pm_error_set(err, PM_ENOMEM, "out of memory");
        else
            json_array_append_new(arr, crossing_json(c));
    }
    free(c);
    pm_crossing_iter_close(it);
    return rc;
}

int pm_subject_access(const pm_jobs_ctx_t *ctx, const pm_subject_query_t *q, const char *requester,
                      int64_t now, pm_buf_t *out, pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if (!q || !out || !requester || !requester[0] || strlen(requester) >= PM_JOBS_REF_MAX)
        return pm_error_set(err, PM_EINVAL, "subject access: query and requester required");
    if (q->subject_ref && strlen(q->subject_ref) >= PM_JOBS_REF_MAX)
        return pm_error_set(err, PM_ELIMIT, "subject access: subject reference too long");
    refs_t refs = {0};
    json_t *report = json_object(), *crossings = json_array(), *events = json_array(),
           *received = json_array(), *reviews = json_array();
    rc = find_crossings(ctx->store, q, crossings, &refs, err);
    /* the log: every entry naming one of their records */
    log_scan_t s = {&refs, q->subject_ref, events};
    if (!rc) rc = pm_audit_sync(ctx->log, err);
    if (!rc) rc = pm_audit_read(pm_audit_path(ctx->log), scan_entry, &s, err);
    /* received data and reviews under our reference to the person */
    if (!rc && q->subject_ref && q->subject_ref[0]) {
        pm_received_t *rv = NULL;
        size_t n = 0;
        rc = pm_received_list(ctx->store, 0, &rv, &n, err);
        for (size_t i = 0; !rc && i < n; i++) {
            if (strcmp(rv[i].subject_ref, q->subject_ref) != 0) continue;
            json_t *o = json_object();
            json_object_set_new(o, "id", json_integer(rv[i].id));
            json_object_set_new(o, "from", json_string(rv[i].origin));
            json_object_set_new(o, "class", json_string(pm_record_class_name(rv[i].cls)));
            json_object_set_new(o, "purpose", json_string(rv[i].purpose));
            json_object_set_new(o, "received_at", json_integer(rv[i].received_at));
            json_object_set_new(o, "found_irrelevant", json_boolean(rv[i].irrelevant_since > 0));
            json_array_append_new(received, o);
        }
        free(rv);
        pm_review_item_t *iv = NULL;
        if (!rc) rc = pm_review_list(ctx->store, -1, &iv, &n, err);
        for (size_t i = 0; !rc && i < n; i++) {
            if (strcmp(iv[i].subject_ref, q->subject_ref) != 0) continue;
            json_t *o = json_object();
            json_object_set_new(o, "id", json_integer(iv[i].id));
            json_object_set_new(o, "partner", json_string(iv[i].partner));
            json_object_set_new(o, "purpose", json_string(iv[i].purpose));
            json_object_set_new(o, "proposed_action", json_string(iv[i].action));
            json_object_set_new(o, "status", json_string(pm_review_status_name(iv[i].status)));
            json_object_set_new(o, "queued_at", json_integer(iv[i].created_at));
            json_object_set_new(o, "decided_at", json_integer(iv[i].decided_at));
            json_array_append_new(reviews, o);
        }
        free(iv);
    }
    char *text = NULL;
    if (!rc) {
        json_t *who = json_object();
        if (q->document_number && q->document_number[0]) {
            json_object_set_new(who, "document_number", json_string(q->document_number));
            json_object_set_new(who, "document_issuer", json_string(q->document_issuer));
        } else {
            json_object_set_new(who, "surname", json_string(q->surname));
            json_object_set_new(who, "given_names",
                                json_string(q->given_names ? q->given_names : ""));
            json_object_set_new(who, "date_of_birth", json_string(q->dob));
        }
        if (q->subject_ref && q->subject_ref[0])
            json_object_set_new(who, "reference", json_string(q->subject_ref));
        json_object_set_new(report, "subject", who);
        json_object_set_new(report, "generated_at", json_integer(now));
        json_object_set_new(report, "node", json_string(ctx->ours));
        json_object_set_new(report, "agreement", json_string(ctx->agreement->version));
        json_object_set_new(report, "crossings", json_incref(crossings));
        json_object_set_new(report, "disclosure_log", json_incref(events));
        json_object_set_new(report, "received_about_you", json_incref(received));
        json_object_set_new(report, "reviews", json_incref(reviews));
        text = json_dumps(report, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!text) rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    if (!rc) {
        /* the report itself is an event: who asked for whose data, what it held */
        size_t n = refs.n < PM_AUDIT_MAX_RECORDS ? refs.n : PM_AUDIT_MAX_RECORDS;
        const char **ids = malloc((n ? n : 1) * sizeof *ids);
        size_t k = 0;
        for (size_t i = 0; ids && i < refs.n && k < n; i++)
            if (strchr(refs.v[i], ':')) ids[k++] = refs.v[i];
        char detail[PM_AUDIT_STR_MAX + 1], txn[PM_JOBS_REF_MAX];
        snprintf(detail, sizeof detail,
                 "subject access report: %zu crossings, %zu log entries, %zu received, %zu "
                 "reviews",
                 json_array_size(crossings), json_array_size(events), json_array_size(received),
                 json_array_size(reviews));
        pm__jobs_txn("subject", now, txn);
        pm_audit_event_t ev = {.time = now,
                               .kind = "subject_access",
                               .actor = requester,
                               .rule = "R12",
                               .record_ids = ids,
                               .n_record_ids = k,
                               .txn = txn,
                               .detail = detail};
        rc = ids ? pm__jobs_log(ctx, &ev, err) : pm_error_set(err, PM_ENOMEM, "out of memory");
        free(ids);
    }
    if (!rc && (pm_buf_append_str(out, text) || pm_buf_append_str(out, "\n")))
        rc = pm_error_set(err, PM_ELIMIT, "subject access: report too large");
    free(text);
    json_decref(report);
    json_decref(crossings);
    json_decref(events);
    json_decref(received);
    json_decref(reviews);
    free(refs.v);
    return rc;
}

/* ---- the readable page ---- */

static int esc(pm_buf_t *b, const char *s)
{
    int rc = 0;
    for (; s && *s && !rc; s++) {
        switch (*s) {
        case '&':
            rc = pm_buf_append_str(b, "&amp;");
            break;
        case '<':
            rc = pm_buf_append_str(b, "&lt;");
            break;
        case '>':
            rc = pm_buf_append_str(b, "&gt;");
            break;
        case '"':
            rc = pm_buf_append_str(b, "&quot;");
            break;
        case '\'':
            rc = pm_buf_append_str(b, "&#39;");
            break;
        default:
            rc = pm_buf_append(b, s, 1);
        }
    }
    return rc;
}

static int cell(pm_buf_t *b, json_t *v)
{
    char num[64];
    const char *s = "";
    json_t *x;
    size_t i;
    int rc = pm_buf_append_str(b, "<td>");
    if (json_is_string(v)) {
        s = json_string_value(v);
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        s = num;
    } else if (json_is_real(v)) {
        snprintf(num, sizeof num, "%.1f", json_real_value(v));
        s = num;
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "yes" : "no";
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            if (i) rc = rc ? rc : pm_buf_append_str(b, ", ");
            rc = rc ? rc : esc(b, json_string_value(x));
        }
    }
    rc = rc ? rc : esc(b, s);
    return rc ? rc : pm_buf_append_str(b, "</td>");
}

static int table(pm_buf_t *b, const char *title, const char *empty, json_t *rows,
                 const char *const *cols, const char *const *heads, size_t ncol)
{
    int rc = pm_buf_printf(b, "<h2>%s</h2>\n", title);
    if (!json_array_size(rows)) return rc ? rc : pm_buf_printf(b, "<p>%s</p>\n", empty);
    rc = rc ? rc : pm_buf_append_str(b, "<table>\n<tr>");
    for (size_t c = 0; !rc && c < ncol; c++)
        rc = pm_buf_printf(b, "<th>%s</th>", heads[c]);
    rc = rc ? rc : pm_buf_append_str(b, "</tr>\n");
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        rc = rc ? rc : pm_buf_append_str(b, "<tr>");
        for (size_t c = 0; !rc && c < ncol; c++)
            rc = cell(b, json_object_get(row, cols[c]));
        rc = rc ? rc : pm_buf_append_str(b, "</tr>\n");
    }
    return rc ? rc : pm_buf_append_str(b, "</table>\n");
}

int pm_subject_access_html(const char *json, size_t len, pm_buf_t *out, pm_error_t *err)
{
    json_error_t je;
    json_t *r = json ? json_loadb(json, len, 0, &je) : NULL;
    if (!json_is_object(r)) {
        json_decref(r);
        return pm_error_set(err, PM_EFORMAT, "subject access page: not a report");
    }
    static const char *const cc[] = {"time",     "direction", "reporting_country", "port",
                                     "mode",     "surname",   "given_names",       "date_of_birth",
                                     "document", "source"};
    static const char *const ch[] = {"When",     "Direction", "Recorded by", "Port",
                                     "Mode",     "Surname",   "Given names", "Date of birth",
                                     "Document", "Source"};
    static const char *const lc[] = {"seq",  "time",   "kind",    "partner", "purpose",
                                     "rule", "fields", "records", "txn"};
    static const char *const lh[] = {"Entry",   "When (unix time)", "What",
                                     "Partner", "Purpose",          "Rule",
                                     "Fields",  "Your records",     "Transaction"};
    static const char *const rc_[] = {"from", "class", "purpose", "received_at",
                                      "found_irrelevant"};
    static const char *const rh[] = {"From", "Kind", "Purpose", "Received (unix time)",
                                     "Found irrelevant"};
    static const char *const vc[] = {"partner", "purpose",   "proposed_action",
                                     "status",  "queued_at", "decided_at"};
    static const char *const vh[] = {"Partner",
                                     "Purpose",
                                     "Proposed action",
                                     "Status",
                                     "Queued (unix time)",
                                     "Decided (unix time)"};
    json_t *who = json_object_get(r, "subject");
    int rc = pm_buf_append_str(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
                                    "charset=\"utf-8\"><title>Your travel and disclosure "
                                    "report</title>\n<style>body{font-family:sans-serif;margin:2em}"
                                    "table{border-collapse:collapse}td,th{border:1px solid #999;"
                                    "padding:.3em .6em;text-align:left}</style></head><body>\n"
                                    "<h1>Your travel and disclosure report</h1>\n<p>");
    const char *key;
    json_t *v;
    json_object_foreach(who, key, v)
    {
        rc = rc ? rc : esc(out, key);
        rc = rc ? rc : pm_buf_append_str(out, ": <b>");
        rc = rc ? rc : esc(out, json_string_value(v));
        rc = rc ? rc : pm_buf_append_str(out, "</b><br>\n");
    }
    rc = rc ? rc : pm_buf_append_str(out, "Node: ");
    rc = rc ? rc : esc(out, json_string_value(json_object_get(r, "node")));
    rc = rc ? rc : pm_buf_append_str(out, ", agreement ");
    rc = rc ? rc : esc(out, json_string_value(json_object_get(r, "agreement")));
    rc = rc ? rc
            : pm_buf_printf(out, ", generated at %lld (unix time)</p>\n",
                            (long long)json_integer_value(json_object_get(r, "generated_at")));
    rc = rc ? rc
            : table(out, "Your border crossings", "No crossing records.",
                    json_object_get(r, "crossings"), cc, ch, 10);
    rc = rc ? rc
            : table(out, "Every logged event about your records (disclosure log)",
                    "Nothing was disclosed about you.", json_object_get(r, "disclosure_log"), lc,
                    lh, 9);
    rc = rc ? rc
            : table(out, "Data received about you from the partner", "None.",
                    json_object_get(r, "received_about_you"), rc_, rh, 5);
    rc = rc ? rc
            : table(out, "Reviews of matches about you", "None.", json_object_get(r, "reviews"), vc,
                    vh, 6);
    rc = rc ? rc : pm_buf_append_str(out, "</body></html>\n");
    json_decref(r);
    return rc ? pm_error_set(err, rc, "subject access page: too large") : PM_OK;
}
