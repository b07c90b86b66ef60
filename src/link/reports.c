/* Reports as library calls: result tables and their rendering (text, CSV,
 * JSON). Moved from the CLI (issue 11) so the CLI and a server share them. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_impl.h"
#include "perimeter/reports.h"

struct pm_report {
    size_t ncol;
    const char *const *cols; /* static column names */
    char **cells;            /* row-major, owned */
    size_t nrows, cap;
    json_t *summary;         /* object, owned; insertion order is output order */
    int oom;                 /* a row could not be stored */
};

static pm_report_t *report_new(size_t ncol, const char *const *cols)
{
    pm_report_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->ncol = ncol;
    r->cols = cols;
    r->summary = json_object();
    if (!r->summary) {
        free(r);
        return NULL;
    }
    return r;
}

void pm_report_free(pm_report_t *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nrows * r->ncol; i++)
        free(r->cells[i]);
    free(r->cells);
    json_decref(r->summary);
    free(r);
}

size_t pm_report_ncols(const pm_report_t *r) { return r->ncol; }
size_t pm_report_nrows(const pm_report_t *r) { return r->nrows; }

const char *pm_report_column(const pm_report_t *r, size_t col)
{
    return col < r->ncol ? r->cols[col] : NULL;
}

const char *pm_report_cell(const pm_report_t *r, size_t row, size_t col)
{
    return row < r->nrows && col < r->ncol ? r->cells[row * r->ncol + col] : NULL;
}

int pm_report_summary_int(const pm_report_t *r, const char *key, int64_t *out, pm_error_t *err)
{
    json_t *v = json_object_get(r->summary, key);
    *out = 0;
    if (!json_is_integer(v)) return pm_error_set(err, PM_ENOTFOUND, "no integer summary '%s'", key);
    *out = (int64_t)json_integer_value(v);
    return PM_OK;
}

/* Appends one row of r->ncol strings (NULL is ""). On failure sets r->oom. */
static int report_add(pm_report_t *r, ...)
{
    const char *cells[32];
    if (r->ncol > 32) return r->oom = 1, -1;
    va_list ap;
    va_start(ap, r);
    for (size_t i = 0; i < r->ncol; i++)
        cells[i] = va_arg(ap, const char *);
    va_end(ap);
    return pm_report_add_row(r, cells);
}

static void summary_int(pm_report_t *r, const char *k, int64_t v)
{
    json_object_set_new(r->summary, k, json_integer((json_int_t)v));
}

/* Building a result (reports.h): for other producers of result tables. */
pm_report_t *pm_report_new_table(size_t ncol, const char *const *cols) { return report_new(ncol, cols); }

int pm_report_add_row(pm_report_t *r, const char *const *cells)
{
    if (r->nrows == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 64;
        char **n = realloc(r->cells, nc * r->ncol * sizeof *n);
        if (!n) return r->oom = 1, -1;
        r->cells = n;
        r->cap = nc;
    }
    char **row = &r->cells[r->nrows * r->ncol];
    int bad = 0;
    for (size_t i = 0; i < r->ncol; i++) {
        row[i] = strdup(cells[i] ? cells[i] : "");
        bad |= !row[i];
    }
    if (bad) {
        for (size_t i = 0; i < r->ncol; i++)
            free(row[i]);
        return r->oom = 1, -1;
    }
    r->nrows++;
    return 0;
}


void pm_report_set_int(pm_report_t *r, const char *key, int64_t v) { summary_int(r, key, v); }

void pm_report_set_real(pm_report_t *r, const char *key, double v)
{
    json_object_set_new(r->summary, key, json_real(v));
}

void pm_report_set_string(pm_report_t *r, const char *key, const char *v)
{
    json_object_set_new(r->summary, key, json_string(v ? v : ""));
}

/* ---- rendering ------------------------------------------------------------------- */

static json_t *cell_json(const char *s)
{
    char *end;
    if (*s && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) {
        long long v = strtoll(s, &end, 10);
        if (!*end) return json_integer(v);
        double d = strtod(s, &end);
        if (!*end) return json_real(d);
    }
    return json_string(s);
}

static void csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static int render_json(const pm_report_t *r, FILE *f)
{
    json_t *o = json_deep_copy(r->summary);
    json_t *arr = json_array();
    if (!o || !arr) {
        json_decref(o);
        json_decref(arr);
        return -1;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        json_t *row = json_object();
        if (!row) break;
        for (size_t c = 0; c < r->ncol; c++)
            json_object_set_new(row, r->cols[c], cell_json(r->cells[i * r->ncol + c]));
        json_array_append_new(arr, row);
    }
    json_object_set_new(o, "rows", arr);
    char *s = json_dumps(o, JSON_INDENT(2));
    json_decref(o);
    if (!s) return -1;
    fputs(s, f);
    fputc('\n', f);
    free(s);
    return 0;
}

static void render_csv(const pm_report_t *r, FILE *f)
{
    for (size_t c = 0; c < r->ncol; c++) {
        if (c) fputc(',', f);
        csv_field(f, r->cols[c]);
    }
    fputc('\n', f);
    for (size_t i = 0; i < r->nrows; i++) {
        for (size_t c = 0; c < r->ncol; c++) {
            if (c) fputc(',', f);
            csv_field(f, r->cells[i * r->ncol + c]);
        }
        fputc('\n', f);
    }
}

static void render_text(const pm_report_t *r, FILE *f)
{
    if (json_object_size(r->summary)) {
        const char *k;
        json_t *v;
        json_object_foreach(r->summary, k, v)
        {
            char *s = json_dumps(v, JSON_ENCODE_ANY);
            fprintf(f, "%-22s %s\n", k, s ? s : "");
            free(s);
        }
        if (r->nrows) fputc('\n', f);
    }
    if (!r->nrows) return;
    size_t w[32] = {0};
    for (size_t c = 0; c < r->ncol && c < 32; c++) {
        w[c] = strlen(r->cols[c]);
        for (size_t i = 0; i < r->nrows; i++) {
            size_t l = strlen(r->cells[i * r->ncol + c]);
            if (l > w[c]) w[c] = l;
        }
    }
    for (size_t c = 0; c < r->ncol; c++)
        fprintf(f, "%-*s%s", (int)w[c < 32 ? c : 31], r->cols[c], c + 1 < r->ncol ? "  " : "\n");
    for (size_t i = 0; i < r->nrows; i++)
        for (size_t c = 0; c < r->ncol; c++)
            fprintf(f, "%-*s%s", (int)w[c < 32 ? c : 31], r->cells[i * r->ncol + c],
                    c + 1 < r->ncol ? "  " : "\n");
}

int pm_report_render(const pm_report_t *r, pm_report_format_t fmt, char **out, size_t *out_len,
                     pm_error_t *err)
{
    *out = NULL;
    if (out_len) *out_len = 0;
    if (!r || (fmt != PM_REPORT_TEXT && fmt != PM_REPORT_CSV && fmt != PM_REPORT_JSON))
        return pm_error_set(err, PM_EINVAL, "report render: bad arguments");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return pm_error_set(err, PM_ENOMEM, "report render: out of memory");
    int bad = 0;
    if (fmt == PM_REPORT_JSON)
        bad = render_json(r, f);
    else if (fmt == PM_REPORT_CSV)
        render_csv(r, f);
    else
        render_text(r, f);
    bad |= ferror(f);
    bad |= fclose(f) != 0;
    if (bad || !buf) {
        free(buf);
        return pm_error_set(err, PM_ENOMEM, "report render: out of memory");
    }
    *out = buf;
    if (out_len) *out_len = len;
    return PM_OK;
}

/* ---- events ---------------------------------------------------------------------- */

void pm_link_events_free(pm_link_events_t *L)
{
    if (!L) return;
    free(L->ev);
    memset(L, 0, sizeof *L);
}

int pm_link_events_load(pm_store_t *st, pm_link_events_t *L, pm_error_t *err)
{
    memset(L, 0, sizeof *L);
    size_t cap = 0;
    pm_link_map_t *map = NULL;
    int rc = pm_link_map_load(st, &map, err);
    if (rc) return rc;
    pm_crossing_iter_t *it = NULL;
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_TIME;
    rc = pm_store_crossings(st, &f, &it, err);
    pm_crossing_t *c = malloc(sizeof *c);
    if (!rc && !c) rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    while (!rc) {
        int got = pm_crossing_iter_next(it, c, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        uint32_t trav;
        if (pm_link_map_traveller(map, c->store_id, &trav)) {
            L->unlinked++;
            continue;
        }
        if (L->n == cap) {
            size_t nc = cap ? cap * 2 : 4096;
            pm_link_event_t *ne = realloc(L->ev, nc * sizeof *ne);
            if (!ne) {
                rc = pm_error_set(err, PM_ENOMEM, "out of memory");
                break;
            }
            L->ev = ne;
            cap = nc;
        }
        pm_link_event_t *e = &L->ev[L->n++];
        memset(e, 0, sizeof *e);
        e->store_id = c->store_id;
        e->time_utc = c->time_utc;
        e->local_day = pm_link_local_day(c->time_utc, c->utc_offset_min);
        e->traveller = trav;
        e->direction = c->direction;
        memcpy(e->citizenship, c->citizenship, 4);
        e->utc_offset_min = c->utc_offset_min;
        if (!strcmp(c->admission_class, "citizen") ||
            !strcmp(c->admission_class, "permanent_resident")) {
            e->admission = PM_ADMISSION_UNLIMITED;
        } else if (c->stay_until.year) {
            e->admission = PM_ADMISSION_LIMITED;
            e->stay_until_day = (int32_t)pm_days_from_civil(c->stay_until.year, c->stay_until.month,
                                                            c->stay_until.day);
        }
    }
    free(c);
    pm_crossing_iter_close(it);
    pm_link_map_free(map);
    if (rc)
        pm_link_events_free(L);
    else
        pm_link_sort_events(L->ev, L->n);
    return rc;
}

/* ---- history --------------------------------------------------------------------- */

#define HISTORY_MAX_TRAVELLERS 64

/* The travellers a history query selects (at most HISTORY_MAX_TRAVELLERS). */
static int history_select(pm_store_t *st, const pm_history_query_t *q, uint32_t *want,
                          size_t *out_nw, pm_error_t *err)
{
    size_t nw = 0;
    *out_nw = 0;
    if (q->traveller > 0) {
        want[0] = (uint32_t)q->traveller;
        *out_nw = 1;
        return PM_OK;
    }
    pm_crossing_t *c = malloc(sizeof *c);
    pm_link_map_t *map = NULL;
    int rc = c ? pm_link_map_load(st, &map, err) : pm_error_set(err, PM_ENOMEM, "out of memory");
    pm_crossing_iter_t *it = NULL;
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    if (q->document) snprintf(f.document_number, sizeof f.document_number, "%s", q->document);
    if (!rc) rc = pm_store_crossings(st, &f, &it, err);
    char cc[8] = "", rid[PM_RECORD_ID_MAX + 1] = "";
    if (!rc && q->record) {
        const char *colon = strchr(q->record, ':');
        if (!colon || colon - q->record != 3) {
            rc = pm_error_set(err, PM_EINVAL, "--record wants COUNTRY:RECORD_ID");
        } else {
            memcpy(cc, q->record, 3);
            snprintf(rid, sizeof rid, "%s", colon + 1);
        }
    }
    while (!rc) {
        int got = pm_crossing_iter_next(it, c, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        if (q->document && strcmp(c->document_number, q->document)) continue;
        if (q->record && (strcmp(c->reporting_country, cc) || strcmp(c->record_id, rid)))
            continue;
        uint32_t t;
        if (pm_link_map_traveller(map, c->store_id, &t)) continue;
        size_t k = 0;
        while (k < nw && want[k] != t)
            k++;
        if (k == nw && nw < HISTORY_MAX_TRAVELLERS) want[nw++] = t;
    }
    pm_crossing_iter_close(it);
    pm_link_map_free(map);
    free(c);
    *out_nw = nw;
    return rc;
}

int pm_report_history(pm_store_t *st, const pm_link_events_t *L, const pm_history_query_t *q,
                      pm_report_t **out, pm_error_t *err)
{
    *out = NULL;
    if (!st || !L || !q || (q->traveller <= 0 && !q->record && !q->document))
        return pm_error_set(err, PM_EINVAL, "history: give a traveller, a record or a document");
    uint32_t want[HISTORY_MAX_TRAVELLERS];
    size_t nw = 0;
    int rc = history_select(st, q, want, &nw, err);
    if (rc) return rc;
    if (nw == 0) return pm_error_set(err, PM_ENOTFOUND, "no linked traveller matches");
    static const char *const cols[] = {
        "traveller",         "store_id",  "direction",      "timestamp",   "port",
        "reporting_country", "record_id", "surname",        "given_names", "date_of_birth",
        "citizenship",       "document",  "reconciled_with"};
    pm_report_t *r = report_new(13, cols);
    int64_t *entry = malloc((L->n ? L->n : 1) * sizeof *entry);
    pm_crossing_t *c = malloc(sizeof *c);
    if (!r || !entry || !c) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory");
        goto out;
    }
    pm_link_reconcile(L->ev, L->n, entry, NULL);
    for (size_t k = 0; !rc && k < nw; k++)
        for (size_t i = 0; !rc && i < L->n; i++) {
            if (L->ev[i].traveller != want[k]) continue;
            if ((rc = pm_store_get_crossing(st, L->ev[i].store_id, c, err))) break;
            char trav[16], sid[24], ts[32], dob[16], doc[32], rec[24] = "";
            snprintf(trav, sizeof trav, "%u", want[k]);
            snprintf(sid, sizeof sid, "%lld", (long long)c->store_id);
            pm_timestamp_format(c->time_utc, c->utc_offset_min, ts);
            pm_dob_format(&c->dob, dob);
            snprintf(doc, sizeof doc, "%s %s", c->document_issuer, c->document_number);
            if (entry[i] >= 0)
                snprintf(rec, sizeof rec, "%lld", (long long)L->ev[entry[i]].store_id);
            else if (entry[i] == -1)
                snprintf(rec, sizeof rec, "unreconciled");
            if (report_add(r, trav, sid, pm_direction_name(c->direction), ts, c->port_code,
                           c->reporting_country, c->record_id, c->surname, c->given_names, dob,
                           c->citizenship, doc, rec))
                rc = pm_error_set(err, PM_ENOMEM, "out of memory");
        }
    if (!rc) {
        summary_int(r, "travellers", (int64_t)nw);
        summary_int(r, "crossings", (int64_t)r->nrows);
    }
out:
    free(c);
    free(entry);
    if (rc)
        pm_report_free(r);
    else
        *out = r;
    return rc;
}

/* ---- reconcile ------------------------------------------------------------------- */

int pm_report_reconcile(const pm_link_events_t *L, int all, pm_report_t **out, pm_error_t *err)
{
    *out = NULL;
    if (!L) return pm_error_set(err, PM_EINVAL, "reconcile: no events");
    static const char *const cols[] = {"exit_store_id", "traveller", "exit_time_utc",
                                       "entry_store_id", "status"};
    pm_report_t *r = report_new(5, cols);
    int64_t *entry = malloc((L->n ? L->n : 1) * sizeof *entry);
    if (!r || !entry) {
        pm_report_free(r);
        free(entry);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    size_t exits = 0, rec = pm_link_reconcile(L->ev, L->n, entry, &exits);
    for (size_t i = 0; i < L->n && !r->oom; i++) {
        if (entry[i] == -2 || (entry[i] >= 0 && !all)) continue;
        char sid[24], trav[16], ts[32], es[24] = "";
        snprintf(sid, sizeof sid, "%lld", (long long)L->ev[i].store_id);
        snprintf(trav, sizeof trav, "%u", L->ev[i].traveller);
        pm_timestamp_format(L->ev[i].time_utc, 0, ts);
        if (entry[i] >= 0) snprintf(es, sizeof es, "%lld", (long long)L->ev[entry[i]].store_id);
        report_add(r, sid, trav, ts, es, entry[i] >= 0 ? "reconciled" : "unreconciled");
    }
    free(entry);
    if (r->oom) {
        pm_report_free(r);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    summary_int(r, "exits", (int64_t)exits);
    summary_int(r, "reconciled", (int64_t)rec);
    summary_int(r, "unreconciled", (int64_t)(exits - rec));
    json_object_set_new(r->summary, "reconciliation_rate",
                        json_real(exits ? (double)rec / (double)exits : 1.0));
    summary_int(r, "unlinked_crossings", (int64_t)L->unlinked);
    *out = r;
    return PM_OK;
}

/* ---- overstays ------------------------------------------------------------------- */

/* An exit that nothing reconciles (its traveller's previous crossing is not an
 * entry), with the identity fields the departure check compares (kept
 * compact: there can be tens of thousands). */
typedef struct loose_exit {
    size_t ev; /* index in L->ev */
    pm_dob_t dob;
    char sex;
    char citizenship[4];
    char document_number[PM_DOCNUM_MAX + 1];
    char *names; /* surname, given names, middle names, each NUL-terminated; owned */
} loose_exit_t;

static void loose_free(loose_exit_t *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(x[i].names);
    free(x);
}

static int cmp_loose_year(const void *a, const void *b)
{
    int x = ((const loose_exit_t *)a)->dob.year, y = ((const loose_exit_t *)b)->dob.year;
    return (x > y) - (x < y);
}

/* The unreconciled exits of L with their identity fields (x malloc'd, caller
 * frees with loose_free), sorted by birth year. */
static int loose_exits(pm_store_t *st, const pm_link_events_t *L, loose_exit_t **out,
                       size_t *out_n, pm_error_t *err)
{
    *out = NULL;
    *out_n = 0;
    int64_t *entry = malloc((L->n ? L->n : 1) * sizeof *entry);
    if (!entry) return pm_error_set(err, PM_ENOMEM, "out of memory");
    pm_link_reconcile(L->ev, L->n, entry, NULL);
    size_t n = 0;
    for (size_t i = 0; i < L->n; i++)
        n += entry[i] == -1;
    loose_exit_t *x = calloc(n ? n : 1, sizeof *x);
    pm_crossing_t *c = malloc(sizeof *c);
    int rc = x && c ? PM_OK : pm_error_set(err, PM_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; !rc && i < L->n; i++) {
        if (entry[i] != -1) continue;
        if ((rc = pm_store_get_crossing(st, L->ev[i].store_id, c, err))) break;
        size_t ls = strlen(c->surname), lg = strlen(c->given_names), lm = strlen(c->middle_names);
        loose_exit_t *e = &x[k];
        e->names = malloc(ls + lg + lm + 3);
        if (!e->names) {
            rc = pm_error_set(err, PM_ENOMEM, "out of memory");
            break;
        }
        memcpy(e->names, c->surname, ls + 1);
        memcpy(e->names + ls + 1, c->given_names, lg + 1);
        memcpy(e->names + ls + lg + 2, c->middle_names, lm + 1);
        e->ev = i;
        e->dob = c->dob;
        e->sex = c->sex;
        memcpy(e->citizenship, c->citizenship, sizeof e->citizenship);
        memcpy(e->document_number, c->document_number, sizeof e->document_number);
        k++;
    }
    free(c);
    free(entry);
    if (rc) {
        loose_free(x, k);
        return rc;
    }
    if (k > 1) qsort(x, k, sizeof *x, cmp_loose_year); /* the departure check blocks on it */
    *out = x;
    *out_n = k;
    return PM_OK;
}

/* Fills the identity fields pm_link_compare reads from a loose exit. */
static void loose_identity(const loose_exit_t *x, pm_crossing_t *c)
{
    const char *s = x->names, *g = s + strlen(s) + 1, *m = g + strlen(g) + 1;
    snprintf(c->surname, sizeof c->surname, "%s", s);
    snprintf(c->given_names, sizeof c->given_names, "%s", g);
    snprintf(c->middle_names, sizeof c->middle_names, "%s", m);
    c->dob = x->dob;
    c->sex = x->sex;
    memcpy(c->citizenship, x->citizenship, sizeof c->citizenship);
    memcpy(c->document_number, x->document_number, sizeof c->document_number);
}

/* First index in x (sorted by birth year) whose year is >= year. */
static size_t loose_lower(const loose_exit_t *x, size_t n, int year)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (x[mid].dob.year < year)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The departure check of an overstay candidate: an unreconciled exit of
 * another traveller, after the entry and by the as-of day, whose identity
 * compares with the entry's at least at the default model's review threshold
 * (its default weights, not EM's: see docs/link.md). Such an exit is most
 * likely the person leaving under a record the linker kept apart (a passport
 * renewed with a typo, a dual national's other passport, a placeholder date),
 * so the stay is not reported as an overstay but as a departure to confirm,
 * with the evidence. scratch receives each exit's identity in turn. Returns
 * the best exit's index in x, or SIZE_MAX. */
static size_t departure_check(const pm_link_events_t *L, const pm_link_event_t *e,
                              const pm_crossing_t *entry, const loose_exit_t *x, size_t nx,
                              int32_t as_of_day, const pm_link_model_t *model,
                              pm_crossing_t *scratch, pm_link_evidence_t *out_ev)
{
    size_t best = SIZE_MAX;
    double best_w = model->review_threshold;
    /* blocked on the birth year (within one; exits without a date always) */
    int ya = entry->dob.year;
    size_t no_year = loose_lower(x, nx, 1);
    size_t lo = ya ? loose_lower(x, nx, ya - 1) : no_year;
    size_t hi = ya ? loose_lower(x, nx, ya + 2) : nx;
    if (lo < no_year) lo = no_year;
    for (size_t j = 0; j < no_year + (hi - lo); j++) {
        size_t k = j < no_year ? j : lo + (j - no_year);
        const pm_link_event_t *xe = &L->ev[x[k].ev];
        if (xe->traveller == e->traveller || xe->time_utc <= e->time_utc ||
            xe->local_day > as_of_day)
            continue;
        pm_link_evidence_t ev;
        loose_identity(&x[k], scratch);
        if (pm_link_compare(entry, scratch, model, &ev, NULL)) continue;
        if (ev.weight >= best_w) {
            best_w = ev.weight;
            best = k;
            *out_ev = ev;
        }
    }
    return best;
}

static void evidence_text(const pm_link_evidence_t *ev, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (int f = 0; f < PM_LINK_FIELDS && o < cap; f++) {
        int w = snprintf(out + o, cap - o, "%s%s=%s", f ? " " : "", pm_link_field_name(f),
                         pm_link_level_name(f, ev->level[f]));
        if (w < 0) break;
        o += (size_t)w;
    }
}

int pm_report_overstays(pm_store_t *st, const pm_link_events_t *L, const pm_stay_rules_t *rules,
                        const pm_dob_t *as_of, pm_report_t **out, pm_error_t *err)
{
    *out = NULL;
    if (!st || !L || !rules || !as_of || !as_of->month || !as_of->day)
        return pm_error_set(err, PM_EINVAL, "overstays: give the store, events, rules and a date");
    /* as of the end of the given (local) day */
    int32_t as_of_day = (int32_t)pm_days_from_civil(as_of->year, as_of->month, as_of->day);
    int64_t end_utc = ((int64_t)as_of_day + 1) * 86400 - 1;
    pm_link_overstay_t *os = NULL;
    size_t n = 0;
    int rc = pm_link_overstays(L->ev, L->n, rules, end_utc, &os, &n, err);
    if (rc) return rc;
    loose_exit_t *x = NULL;
    size_t nx = 0;
    if (n) rc = loose_exits(st, L, &x, &nx, err);
    pm_link_model_t model;
    pm_link_model_default(&model);
    static const char *const cols[] = {
        "traveller",   "entry_store_id", "entry",      "citizenship", "stay_days",
        "stay_end",    "days_over",      "surname",    "given_names", "document",
        "stay_basis",  "status",         "exit_store_id", "exit_traveller", "evidence"};
    pm_report_t *r = rc ? NULL : report_new(15, cols);
    pm_crossing_t *c = malloc(sizeof *c), *scratch = calloc(1, sizeof *scratch);
    if (!rc && (!r || !c || !scratch)) rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    size_t confirmed = 0, departed = 0, estimated = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        const pm_link_event_t *e = &L->ev[os[i].entry];
        if ((rc = pm_store_get_crossing(st, e->store_id, c, err))) break;
        char trav[16], sid[24], ts[32], end[32], days[16], over[16], doc[32];
        char xs[24] = "", xt[16] = "", evs[200] = "";
        snprintf(trav, sizeof trav, "%u", e->traveller);
        snprintf(sid, sizeof sid, "%lld", (long long)e->store_id);
        pm_timestamp_format(c->time_utc, c->utc_offset_min, ts);
        pm_timestamp_format(os[i].stay_end_utc, c->utc_offset_min, end);
        snprintf(days, sizeof days, "%d", os[i].stay_days);
        snprintf(over, sizeof over, "%d", os[i].days_over);
        snprintf(doc, sizeof doc, "%s %s", c->document_issuer, c->document_number);
        pm_link_evidence_t ev;
        size_t k = departure_check(L, e, c, x, nx, as_of_day, &model, scratch, &ev);
        const char *status = "overstay";
        if (k != SIZE_MAX) {
            const pm_link_event_t *xe = &L->ev[x[k].ev];
            status = "departure_to_confirm";
            snprintf(xs, sizeof xs, "%lld", (long long)xe->store_id);
            snprintf(xt, sizeof xt, "%u", xe->traveller);
            char lv[160];
            evidence_text(&ev, lv, sizeof lv);
            snprintf(evs, sizeof evs, "score %.1f: %s", ev.weight, lv);
            departed++;
        } else {
            confirmed++;
            estimated += os[i].estimated != 0;
        }
        if (report_add(r, trav, sid, ts, e->citizenship, days, end, over, c->surname,
                       c->given_names, doc, os[i].estimated ? "estimated" : "admission", status,
                       xs, xt, evs))
            rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    free(scratch);
    free(c);
    free(os);
    loose_free(x, nx);
    if (rc) {
        pm_report_free(r);
        return rc;
    }
    char d[16];
    pm_dob_format(as_of, d);
    json_object_set_new(r->summary, "as_of", json_string(d));
    summary_int(r, "overstays", (int64_t)confirmed);
    summary_int(r, "overstays_estimated", (int64_t)estimated);
    summary_int(r, "departures_to_confirm", (int64_t)departed);
    summary_int(r, "unlinked_crossings", (int64_t)L->unlinked);
    *out = r;
    return PM_OK;
}

/* ---- presence -------------------------------------------------------------------- */

static void fmt_day(int32_t day, char out[16])
{
    int y, m, d;
    pm_civil_from_days(day, &y, &m, &d);
    snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
}

int pm_report_presence(const pm_link_events_t *L, int64_t traveller, const pm_dob_t *as_of,
                       int years, int required, pm_report_t **out, pm_error_t *err)
{
    *out = NULL;
    if (!L || !as_of || !as_of->month || !as_of->day || traveller < 0 || years < 1 ||
        years > 100)
        return pm_error_set(err, PM_EINVAL, "presence: give events, a date and 1..100 years");
    int32_t to = (int32_t)pm_days_from_civil(as_of->year, as_of->month, as_of->day);
    int fd = as_of->day;
    if (as_of->month == 2 && fd == 29) fd = 28;
    int32_t from = (int32_t)pm_days_from_civil(as_of->year - years, as_of->month, fd) + 1;
    static const char *const cols[] = {
        "traveller", "window_from", "window_to", "days_present",
        "required",  "meets",       "anomalies", "assumed_present_before",
        "days_min",  "days_max",    "uncertain"};
    pm_report_t *r = report_new(11, cols);
    if (!r) return pm_error_set(err, PM_ENOMEM, "out of memory");
    size_t shown = 0;
    for (size_t i = 0; i < L->n && !r->oom;) {
        size_t j = i;
        while (j < L->n && L->ev[j].traveller == L->ev[i].traveller)
            j++;
        if (!traveller || L->ev[i].traveller == (uint32_t)traveller) {
            pm_link_presence_t p;
            pm_link_presence_days(L->ev + i, j - i, from, to, &p);
            char trav[16], fs[16], ts[16], days[16], req[16], an[16];
            snprintf(trav, sizeof trav, "%u", L->ev[i].traveller);
            fmt_day(from, fs);
            fmt_day(to, ts);
            snprintf(days, sizeof days, "%d", p.days);
            snprintf(req, sizeof req, "%d", required);
            snprintf(an, sizeof an, "%d", p.anomalies);
            char dmin[16], dmax[16], unc[PM_PRESENCE_RANGES_MAX * 24 + 8] = "";
            snprintf(dmin, sizeof dmin, "%d", p.days_min);
            snprintf(dmax, sizeof dmax, "%d", p.days_max);
            size_t o = 0;
            for (int k = 0; k < p.n_uncertain && k < PM_PRESENCE_RANGES_MAX; k++) {
                char a[16], b[16];
                fmt_day(p.uncertain_from[k], a);
                fmt_day(p.uncertain_to[k], b);
                int w = snprintf(unc + o, sizeof unc - o, "%s%s..%s", k ? ";" : "", a, b);
                if (w > 0 && (size_t)w < sizeof unc - o) o += (size_t)w;
            }
            if (p.n_uncertain > PM_PRESENCE_RANGES_MAX && o + 4 < sizeof unc)
                snprintf(unc + o, sizeof unc - o, ";...");
            report_add(r, trav, fs, ts, days, req, p.days >= required ? "yes" : "no", an,
                       p.assumed_in ? "yes" : "no", dmin, dmax, unc);
            shown++;
        }
        i = j;
    }
    if (r->oom) {
        pm_report_free(r);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    if (!shown && traveller) {
        pm_report_free(r);
        return pm_error_set(err, PM_ENOTFOUND, "traveller %lld has no linked crossings",
                            (long long)traveller);
    }
    *out = r;
    return PM_OK;
}

/* ---- removals -------------------------------------------------------------------- */

/* How an order matched a traveller's crossing, strongest first. */
enum {
    MATCH_NAME_WEAK = 1, /* a screening hit without an exact date of birth: to confirm */
    MATCH_NAME_DOB = 2,  /* a screening hit on the name with the exact date of birth */
    MATCH_DOCUMENT = 3,  /* the order's document number on the crossing */
};

typedef struct order_match {
    uint32_t trav;
    int strength;
    int64_t store_id; /* the crossing that matched */
    double score;     /* screening score (name matches) */
} order_match_t;

typedef struct order {
    char id[PM_RECORD_ID_MAX + 1];
    char doc[PM_DOCNUM_MAX + 1];
    int64_t since;
    order_match_t m[8];
    int ntrav;
} order_t;

/* Notes that order ord matched traveller trav through crossing sid; keeps the
 * strongest match per traveller. */
static void order_note(order_t *ord, uint32_t trav, int strength, int64_t sid, double score)
{
    for (int q = 0; q < ord->ntrav; q++)
        if (ord->m[q].trav == trav) {
            if (strength > ord->m[q].strength)
                ord->m[q] = (order_match_t){trav, strength, sid, score};
            return;
        }
    if (ord->ntrav < 8) ord->m[ord->ntrav++] = (order_match_t){trav, strength, sid, score};
}

static int cmp_order_doc(const void *a, const void *b, void *ctx)
{
    const order_t *o = ctx;
    return strcmp(o[*(const size_t *)a].doc, o[*(const size_t *)b].doc);
}

int pm_report_removals(pm_store_t *st, const pm_link_events_t *L, const char *data, size_t len,
                       const char *name, pm_report_t **out, pm_error_t *err)
{
    *out = NULL;
    if (!st || !L || (!data && len))
        return pm_error_set(err, PM_EINVAL, "removals: give the store, events and the orders");
    if (!name) name = "orders";
    if (!data) data = "";
    int rc = PM_OK;
    /* the orders as a watchlist (reason = order date), plus document numbers */
    pm_watchlist_t *wl = NULL;
    rc = pm_watchlist_new(&wl, err);
    order_t *orders = NULL;
    size_t norders = 0, cap = 0;
    size_t pos = 0;
    uint64_t line = 1;
    /* two rows on the heap (large; no static state: the library is reentrant) */
    pm_list_row_t *rows2 = calloc(2, sizeof *rows2);
    if (!rows2) {
        pm_watchlist_free(wl);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
#define hdr (rows2[0])
#define row (rows2[1])
    if (!rc && pm_list_next(data, len, &pos, &line, &hdr, err) != 1)
        rc = pm_error_set(err, PM_EFORMAT, "%s: empty or bad header", name);
    int c_id = pm_list_column(&hdr, "order_id"), c_s = pm_list_column(&hdr, "surname");
    int c_g = pm_list_column(&hdr, "given_names"), c_d = pm_list_column(&hdr, "date_of_birth");
    int c_doc = pm_list_column(&hdr, "document_number"), c_od = pm_list_column(&hdr, "order_date");
    if (!rc && (c_id < 0 || c_s < 0 || c_od < 0))
        rc = pm_error_set(err, PM_EFORMAT, "%s:1: header needs order_id, surname, order_date",
                          name);
    while (!rc) {
        uint64_t at = line;
        int got = pm_list_next(data, len, &pos, &line, &row, err);
        if (got <= 0) {
            rc = got;
            break;
        }
#define COL(c) ((c) >= 0 && (size_t)(c) < row.n ? row.f[c] : "")
        pm_dob_t dob = {0}, od = {0};
        if ((*COL(c_d) && pm_dob_parse(COL(c_d), strlen(COL(c_d)), &dob, NULL)) ||
            pm_dob_parse(COL(c_od), strlen(COL(c_od)), &od, NULL) || !od.month || !od.day) {
            rc = pm_error_set(err, PM_EFORMAT, "%s:%llu: bad date_of_birth or order_date",
                              name, (unsigned long long)at);
            break;
        }
        if (norders == cap) {
            size_t nc = cap ? cap * 2 : 64;
            order_t *no = realloc(orders, nc * sizeof *no);
            if (!no) {
                rc = pm_error_set(err, PM_ENOMEM, "out of memory");
                break;
            }
            orders = no;
            cap = nc;
        }
        order_t *ord = &orders[norders++];
        memset(ord, 0, sizeof *ord);
        snprintf(ord->id, sizeof ord->id, "%s", COL(c_id));
        snprintf(ord->doc, sizeof ord->doc, "%s", COL(c_doc));
        ord->since = pm_days_from_civil(od.year, od.month, od.day) * 86400;
        rc = pm_watchlist_add(wl, ord->id, COL(c_s), COL(c_g), NULL, &dob, 0, "", "", err);
#undef COL
    }
#undef hdr
#undef row
    free(rows2);
    if (!rc) rc = pm_watchlist_finalize(wl, err);
    /* order indexes sorted by document number (those without one last) */
    size_t *docidx = malloc((norders ? norders : 1) * sizeof *docidx);
    size_t ndoc = 0;
    if (!rc && !docidx) rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < norders; k++)
        if (orders[k].doc[0]) docidx[ndoc++] = k;
    if (!rc) qsort_r(docidx, ndoc, sizeof *docidx, cmp_order_doc, orders);
    /* match every linked crossing against the orders */
    pm_link_map_t *map = NULL;
    if (!rc) rc = pm_link_map_load(st, &map, err);
    pm_crossing_iter_t *it = NULL;
    if (!rc) rc = pm_store_crossings(st, NULL, &it, err);
    pm_crossing_t *c = malloc(sizeof *c);
    while (!rc && c) {
        int got = pm_crossing_iter_next(it, c, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        uint32_t trav;
        if (pm_link_map_traveller(map, c->store_id, &trav)) continue;
        pm_screen_hit_t hits[4];
        size_t nh = 0;
        const pm_screen_query_t q = {c->surname, c->given_names, c->middle_names, &c->dob, 0, "",
                                     NULL, NULL};
        const pm_screen_min_t m = pm_screen_min_of(0, 0);
        if (pm_watchlist_screen_query_min(wl, &q, 0, &m, hits, 4, &nh, NULL))
            nh = 0;
        /* orders hit by name (entry k is order k) or by document number */
        for (size_t h = 0; h < nh; h++)
            order_note(&orders[hits[h].entry], trav,
                       hits[h].dob_level == PM_DOB_EXACT ? MATCH_NAME_DOB : MATCH_NAME_WEAK,
                       c->store_id, hits[h].score);
        if (c->document_number[0]) {
            size_t lo = 0, hi = ndoc;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (strcmp(orders[docidx[mid]].doc, c->document_number) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (; lo < ndoc && !strcmp(orders[docidx[lo]].doc, c->document_number); lo++)
                order_note(&orders[docidx[lo]], trav, MATCH_DOCUMENT, c->store_id, 0);
        }
    }
    pm_crossing_iter_close(it);
    pm_link_map_free(map);
    pm_watchlist_free(wl);
    static const char *const cols[] = {
        "order_id",     "status",          "traveller",        "departure",
        "exit_store_id", "port",           "reporting_country", "exit_record",
        "matched_by",   "matched_store_id", "evidence"};
    pm_report_t *r = rc ? NULL : report_new(11, cols);
    if (!rc && !r) rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    size_t departed = 0, to_confirm = 0;
    for (size_t k = 0; !rc && k < norders; k++) {
        /* the first exit on or after the order date of each matched traveller;
         * the strongest match wins, then the earliest exit */
        const pm_link_event_t *best = NULL;
        const order_match_t *bm = NULL;
        for (int q = 0; q < orders[k].ntrav; q++) {
            const order_match_t *om = &orders[k].m[q];
            /* events are sorted by traveller, then time: the traveller's range */
            size_t lo = 0, hi = L->n;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (L->ev[mid].traveller < om->trav)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (size_t i = lo; i < L->n && L->ev[i].traveller == om->trav; i++) {
                const pm_link_event_t *e = &L->ev[i];
                if (e->direction == PM_DIRECTION_EXIT && e->time_utc >= orders[k].since) {
                    if (!best || om->strength > bm->strength ||
                        (om->strength == bm->strength && e->time_utc < best->time_utc)) {
                        best = e;
                        bm = om;
                    }
                    break;
                }
            }
        }
        char trav[16] = "", ts[32] = "", sid[24] = "", port[24] = "", rc3[8] = "";
        char xrec[48] = "", by[48] = "", msid[24] = "", evid[200] = "";
        const order_match_t *show = bm ? bm : (orders[k].ntrav ? &orders[k].m[0] : NULL);
        if (show) {
            snprintf(trav, sizeof trav, "%u", show->trav);
            snprintf(msid, sizeof msid, "%lld", (long long)show->store_id);
            if (show->strength == MATCH_DOCUMENT)
                snprintf(by, sizeof by, "document");
            else
                snprintf(by, sizeof by, "name %.1f%s", show->score,
                         show->strength == MATCH_NAME_DOB ? " + date of birth" : "");
        }
        const char *status = orders[k].ntrav ? "no departure recorded" : "no match";
        if (best && !(rc = pm_store_get_crossing(st, best->store_id, c, err))) {
            pm_timestamp_format(c->time_utc, c->utc_offset_min, ts);
            snprintf(sid, sizeof sid, "%lld", (long long)c->store_id);
            snprintf(port, sizeof port, "%s", c->port_code);
            snprintf(rc3, sizeof rc3, "%s", c->reporting_country);
            snprintf(xrec, sizeof xrec, "%s:%s", c->reporting_country, c->record_id);
            snprintf(evid, sizeof evid,
                     "order matched crossing %lld (%s); exit %lld linked to the same traveller %u",
                     (long long)bm->store_id, by, (long long)c->store_id, bm->trav);
            /* a weak name match is a lead, not a confirmation */
            if (bm->strength >= MATCH_NAME_DOB) {
                status = "departed";
                departed++;
            } else {
                status = "departure_to_confirm";
                to_confirm++;
            }
        }
        if (!rc && report_add(r, orders[k].id, status, trav, ts, sid, port, rc3, xrec, by, msid,
                              evid))
            rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    free(c);
    free(orders);
    free(docidx);
    if (rc) {
        pm_report_free(r);
        return rc;
    }
    summary_int(r, "orders", (int64_t)norders);
    summary_int(r, "departed", (int64_t)departed);
    summary_int(r, "departures_to_confirm", (int64_t)to_confirm);
    *out = r;
    return PM_OK;
}

