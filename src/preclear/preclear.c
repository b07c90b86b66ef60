/* Pre-clearance decisions (include/perimeter/preclear.h, docs/preclear.md). */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"
#include "perimeter/preclear.h"

#define BIOMETRIC_MIN_DEFAULT 40.0

const char *pm_preclear_decision_name(pm_preclear_decision_t d)
{
    switch (d) {
    case PM_PRECLEAR_CLEARED:
        return "cleared";
    case PM_PRECLEAR_REFER:
        return "refer";
    case PM_PRECLEAR_DO_NOT_BOARD:
        return "do_not_board";
    }
    return "";
}

/* reasons: "; "-joined, truncated at cap */
static void add_reason(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_reason(char *out, size_t cap, const char *fmt, ...)
{
    size_t l = strnlen(out, cap);
    if (l + 3 >= cap) return;
    if (l) {
        memcpy(out + l, "; ", 2);
        l += 2;
        out[l] = '\0';
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + l, cap - l, fmt, ap);
    va_end(ap);
}

static void worse(pm_preclear_decision_t *d, pm_preclear_decision_t x)
{
    if (x > *d) *d = x;
}

static int64_t day_of(const pm_dob_t *d)
{
    return pm_days_from_civil(d->year, d->month ? d->month : 1, d->day ? d->day : 1);
}

/* Document checks: codes and number as the crossing format accepts them, the
 * MRZ's check digits and agreement with the fields, expiry on departure. */
static void check_document(const pm_preclear_passenger_t *p, pm_preclear_decision_t *d,
                           char *why, size_t cap)
{
    pm_crossing_t *c = calloc(1, sizeof *c);
    if (!c) {
        worse(d, PM_PRECLEAR_REFER);
        add_reason(why, cap, "document not checked (out of memory)");
        return;
    }
    pm_crossing_init(c);
    pm_error_t e;
    struct {
        pm_crossing_field_t f;
        const char *v;
    } fields[] = {{PM_CF_SURNAME, p->surname},
                  {PM_CF_GIVEN_NAMES, p->given_names},
                  {PM_CF_MIDDLE_NAMES, p->middle_names},
                  {PM_CF_SEX, p->sex ? (char[2]){p->sex, 0} : ""},
                  {PM_CF_CITIZENSHIP, p->citizenship},
                  {PM_CF_DOCUMENT_TYPE, p->document_type},
                  {PM_CF_DOCUMENT_NUMBER, p->document_number},
                  {PM_CF_DOCUMENT_ISSUER, p->document_issuer}};
    int bad = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = fields[i].v ? fields[i].v : "";
        if (!*v) continue;
        pm_error_clear(&e);
        if (pm_crossing_set_field(c, fields[i].f, v, strlen(v), &e)) {
            add_reason(why, cap, "document data: %s", pm_error_text(&e));
            bad = 1;
        }
    }
    if (p->dob.year) c->dob = p->dob;
    if (!p->document_number || !p->document_number[0]) {
        add_reason(why, cap, "no travel document given");
        bad = 1;
    }
    if (p->mrz && p->mrz[0]) {
        pm_error_clear(&e);
        if (pm_mrz_validate(p->mrz, c, &e)) {
            add_reason(why, cap, "MRZ: %s", pm_error_text(&e));
            bad = 1;
        }
    }
    if (bad) worse(d, PM_PRECLEAR_REFER);
    if (p->document_expiry.year && p->departure.year) {
        int64_t exp = day_of(&p->document_expiry), dep = day_of(&p->departure);
        char ds[16];
        pm_dob_format(&p->document_expiry, ds);
        if (exp < dep) {
            worse(d, PM_PRECLEAR_DO_NOT_BOARD);
            add_reason(why, cap, "document expired %s", ds);
        }
    } else if (p->document_number && p->document_number[0] && !p->document_expiry.year) {
        worse(d, PM_PRECLEAR_REFER);
        add_reason(why, cap, "document expiry not given");
    }
    free(c);
}

int pm_preclear_passenger(const pm_preclear_options_t *o, const pm_preclear_passenger_t *p,
                          pm_preclear_decision_t *decision, char *reasons, size_t cap,
                          pm_error_t *err)
{
    *decision = PM_PRECLEAR_CLEARED;
    if (cap) reasons[0] = '\0';
    if (!o || !p) return pm_error_set(err, PM_EINVAL, "preclear: no options or passenger");
    check_document(p, decision, reasons, cap);
    if (o->watchlist) {
        pm_screen_hit_t hits[4];
        size_t nh = 0;
        pm_screen_query_t q = {p->surname,
                               p->given_names,
                               p->middle_names,
                               p->dob.year ? &p->dob : NULL,
                               p->sex,
                               p->citizenship,
                               p->document_number,
                               p->document_issuer};
        /* name-only referrals too (an entry listed with neither a date of
         * birth nor a document whose full name agrees): nothing but an
         * officer's check can clear those, so they refer, never more */
        const pm_screen_min_t m =
            pm_screen_min_of(o->screen_min > 0 ? o->screen_min : 0,
                             o->screen_min_undated > 0 ? o->screen_min_undated : 0);
        int rc = pm_watchlist_screen_query_min(o->watchlist, &q, PM_SCREEN_NAME_ONLY, &m, hits, 4,
                                               &nh, err);
        if (rc) return rc;
        for (size_t h = 0; h < nh; h++) {
            const char *lr = pm_watchlist_entry_reason(o->watchlist, hits[h].entry);
            char hw[200];
            pm_screen_hit_reason(&hits[h], hw, sizeof hw);
            /* a listed document in hand is decisive; a name is for an officer */
            int doc_listed = hits[h].document_level == 0;
            worse(decision, !hits[h].name_only && doc_listed && strstr(lr, "lost_stolen")
                                ? PM_PRECLEAR_DO_NOT_BOARD
                                : PM_PRECLEAR_REFER);
            add_reason(reasons, cap, "watchlist %s (%s) %s %.1f: %s",
                       pm_watchlist_entry_id(o->watchlist, hits[h].entry), lr,
                       hits[h].name_only ? "name-only referral, score" : "score", hits[h].score,
                       hw);
        }
    }
    if (o->history) {
        pm_preclear_history_t h;
        memset(&h, 0, sizeof h);
        int rc = o->history(o->history_ctx, p, &h, err);
        if (rc) return rc;
        if (h.known && h.overstays > 0) {
            worse(decision, PM_PRECLEAR_REFER);
            add_reason(reasons, cap, "overstayed %d of %d stays (up to %d days; traveller %u)%s",
                       h.overstays, h.stays, h.max_days_over, h.traveller,
                       h.inside ? ", the last one with no recorded exit" : "");
        }
    }
    if (o->gate) {
        pm_preclear_gate_result_t g;
        memset(&g, 0, sizeof g);
        int rc = o->gate(o->gate_ctx, p, &g, err);
        if (rc) return rc;
        double min = o->biometric_min > 0 ? o->biometric_min : BIOMETRIC_MIN_DEFAULT;
        if (g.other && g.other_score >= min) {
            worse(decision, PM_PRECLEAR_REFER);
            add_reason(reasons, cap, "the prints captured at the gate are those of %s "
                       "(score %.1f)%s%s", g.other, g.other_score, g.note[0] ? ": " : "", g.note);
        } else if (g.checked && !(g.score >= min)) {
            worse(decision, PM_PRECLEAR_REFER);
            add_reason(reasons, cap, "fingerprint does not match what is on file (score %.1f < %.0f)%s%s",
                       g.score, min, g.note[0] ? ": " : "", g.note);
        } else if (g.note[0]) {
            add_reason(reasons, cap, "gate: %s", g.note);
        }
    }
    if (o->biometric) {
        int checked = 0;
        double score = 0;
        int rc = o->biometric(o->biometric_ctx, p, &checked, &score, err);
        if (rc) return rc;
        double min = o->biometric_min > 0 ? o->biometric_min : BIOMETRIC_MIN_DEFAULT;
        if (checked && !(score >= min)) {
            worse(decision, PM_PRECLEAR_REFER);
            add_reason(reasons, cap, "fingerprint does not match what is on file (score %.1f < %.0f)",
                       score, min);
        }
    }
    return PM_OK;
}

/* ---- manifest --------------------------------------------------------------------- */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int parse_date_field(const char *s, pm_dob_t *d)
{
    memset(d, 0, sizeof *d);
    if (!*s) return 0;
    /* "YYYY-MM-DD" alone or the date part of a timestamp (local date) */
    size_t l = strlen(s);
    if (l > 10 && s[10] == 'T') l = 10;
    return pm_dob_parse(s, l, d, NULL);
}

/* Reads the manifest and calls fn for each passenger in order (a malformed
 * row stops it with its line). */
static int each_passenger(const char *data, size_t len, const char *name, pm_dob_t departure,
                          pm_preclear_passenger_each_fn fn, void *ctx, pm_error_t *err)
{
    if (!name) name = "manifest";
    pm_list_row_t *hdr = malloc(sizeof *hdr), *row = malloc(sizeof *row);
    int rc = PM_OK;
    if (!hdr || !row) {
        rc = pm_error_set(err, PM_ENOMEM, "preclear: out of memory");
        goto out;
    }
    size_t pos = 0;
    uint64_t line = 1;
    int got = pm_list_next(data, len, &pos, &line, hdr, err);
    if (got != 1) {
        rc = got < 0 ? pm_error_prefix(err, "%s", name)
                     : pm_error_set(err, PM_EFORMAT, "%s: empty manifest", name);
        goto out;
    }
    int c_f = pm_list_column(hdr, "flight_id"), c_q = pm_list_column(hdr, "passenger_seq");
    int c_s = pm_list_column(hdr, "surname"), c_g = pm_list_column(hdr, "given_names");
    int c_m = pm_list_column(hdr, "middle_names"), c_d = pm_list_column(hdr, "date_of_birth");
    int c_x = pm_list_column(hdr, "sex"), c_c = pm_list_column(hdr, "citizenship");
    if (c_c < 0) c_c = pm_list_column(hdr, "nationality");
    int c_t = pm_list_column(hdr, "document_type"), c_n = pm_list_column(hdr, "document_number");
    int c_i = pm_list_column(hdr, "document_issuer"), c_e = pm_list_column(hdr, "document_expiry");
    int c_z = pm_list_column(hdr, "mrz"), c_dep = pm_list_column(hdr, "scheduled_departure");
    if (c_s < 0) {
        rc = pm_error_set(err, PM_EFORMAT, "%s:1: header has no surname column", name);
        goto out;
    }
    for (;;) {
        uint64_t at = line;
        got = pm_list_next(data, len, &pos, &line, row, err);
        if (got == 0) break;
        if (got < 0) {
            rc = pm_error_prefix(err, "%s", name);
            goto out;
        }
        if (row->n != hdr->n) {
            rc = pm_error_set(err, PM_EFORMAT, "%s:%llu: %zu fields, header has %zu", name,
                              (unsigned long long)at, row->n, hdr->n);
            goto out;
        }
#define COL(c) ((c) >= 0 ? row->f[c] : "")
        pm_preclear_passenger_t p;
        memset(&p, 0, sizeof p);
        p.flight_id = COL(c_f);
        p.seq = COL(c_q);
        p.surname = COL(c_s);
        p.given_names = COL(c_g);
        p.middle_names = COL(c_m);
        p.sex = COL(c_x)[0];
        p.citizenship = COL(c_c);
        p.document_type = COL(c_t);
        p.document_number = COL(c_n);
        p.document_issuer = COL(c_i);
        p.mrz = COL(c_z);
        const char *bad = NULL;
        if (parse_date_field(COL(c_d), &p.dob))
            bad = "date_of_birth";
        else if (parse_date_field(COL(c_e), &p.document_expiry))
            bad = "document_expiry";
        else if (parse_date_field(COL(c_dep), &p.departure))
            bad = "scheduled_departure";
#undef COL
        if (bad) {
            rc = pm_error_set(err, PM_EFORMAT, "%s:%llu: bad %s", name, (unsigned long long)at,
                              bad);
            goto out;
        }
        if (!p.departure.year) p.departure = departure;
        if ((rc = fn(ctx, &p, err))) {
            pm_error_prefix(err, "%s:%llu", name, (unsigned long long)at);
            goto out;
        }
    }
out:
    free(hdr);
    free(row);
    return rc;
}

int pm_preclear_manifest_each(const char *data, size_t len, const char *name, pm_dob_t departure,
                              pm_preclear_passenger_each_fn fn, void *ctx, pm_error_t *err)
{
    if (!data || !fn) return pm_error_set(err, PM_EINVAL, "preclear: NULL argument");
    return each_passenger(data, len, name, departure, fn, ctx, err);
}

typedef struct run_ctx {
    const pm_preclear_options_t *o;
    pm_report_t *r;
    double *ms;
    size_t nms, cap_ms;
    int64_t counts[3];
} run_ctx_t;

static int decide_row(void *ctx, const pm_preclear_passenger_t *p, pm_error_t *err)
{
    run_ctx_t *x = ctx;
    uint64_t t0 = pm_now_ns();
    pm_preclear_decision_t d;
    char why[1024];
    int rc = pm_preclear_passenger(x->o, p, &d, why, sizeof why, err);
    if (rc) return rc;
    double t = (double)(pm_now_ns() - t0) / 1e6;
    if (x->nms == x->cap_ms) {
        size_t nc = x->cap_ms ? x->cap_ms * 2 : 256;
        double *nm = realloc(x->ms, nc * sizeof *nm);
        if (!nm) return pm_error_set(err, PM_ENOMEM, "preclear: out of memory");
        x->ms = nm;
        x->cap_ms = nc;
    }
    x->ms[x->nms++] = t;
    x->counts[d]++;
    char who[1100], mss[32];
    snprintf(who, sizeof who, "%s, %s", p->surname, p->given_names);
    snprintf(mss, sizeof mss, "%.3f", t);
    const char *cells[6] = {p->flight_id, p->seq, who, pm_preclear_decision_name(d), why, mss};
    if (pm_report_add_row(x->r, cells)) return pm_error_set(err, PM_ENOMEM, "preclear: out of memory");
    return PM_OK;
}

int pm_preclear_manifest(const pm_preclear_options_t *o, const char *data, size_t len,
                         const char *name, pm_report_t **out, pm_error_t *err)
{
    *out = NULL;
    static const char *const cols[] = {"flight_id", "passenger_seq", "name", "decision",
                                       "reasons",   "ms"};
    run_ctx_t x = {.o = o, .r = pm_report_new_table(6, cols)};
    if (!x.r) return pm_error_set(err, PM_ENOMEM, "preclear: out of memory");
    int rc = each_passenger(data, len, name, o->departure, decide_row, &x, err);
    if (!rc) {
        size_t nms = x.nms;
        double *ms = x.ms;
        if (nms) qsort(ms, nms, sizeof *ms, cmp_dbl);
        pm_report_set_int(x.r, "passengers", (int64_t)nms);
        pm_report_set_int(x.r, "cleared", x.counts[PM_PRECLEAR_CLEARED]);
        pm_report_set_int(x.r, "refer", x.counts[PM_PRECLEAR_REFER]);
        pm_report_set_int(x.r, "do_not_board", x.counts[PM_PRECLEAR_DO_NOT_BOARD]);
        pm_report_set_real(x.r, "ms_p50", nms ? ms[(nms - 1) / 2] : 0);
        pm_report_set_real(x.r, "ms_p95", nms ? ms[(size_t)ceil(0.95 * (double)nms) - 1] : 0);
        pm_report_set_real(x.r, "ms_max", nms ? ms[nms - 1] : 0);
        *out = x.r;
        x.r = NULL;
    }
    pm_report_free(x.r);
    free(x.ms);
    return rc;
}

/* ---- history over a linked store ---------------------------------------------------- */

typedef struct sid_trav {
    int64_t store_id;
    uint32_t idx; /* index in the sorted events */
} sid_trav_t;

struct pm_preclear_store_history {
    pm_store_t *st;
    pm_stay_rules_t rules;
    pm_link_events_t L;
    sid_trav_t *by_sid; /* sorted by store id */
};

static int cmp_sid(const void *a, const void *b)
{
    const sid_trav_t *x = a, *y = b;
    return (x->store_id > y->store_id) - (x->store_id < y->store_id);
}

int pm_preclear_store_history_new(pm_store_t *st, const pm_stay_rules_t *rules,
                                  pm_preclear_store_history_t **out, pm_error_t *err)
{
    *out = NULL;
    pm_preclear_store_history_t *h = calloc(1, sizeof *h);
    if (!h) return pm_error_set(err, PM_ENOMEM, "preclear: out of memory");
    h->st = st;
    h->rules = *rules;
    int rc = pm_link_events_load(st, &h->L, err);
    if (!rc && h->L.n > UINT32_MAX) rc = pm_error_set(err, PM_ELIMIT, "preclear: too many events");
    if (!rc) {
        h->by_sid = malloc((h->L.n ? h->L.n : 1) * sizeof *h->by_sid);
        if (!h->by_sid) rc = pm_error_set(err, PM_ENOMEM, "preclear: out of memory");
    }
    if (rc) {
        pm_preclear_store_history_free(h);
        return rc;
    }
    for (size_t i = 0; i < h->L.n; i++)
        h->by_sid[i] = (sid_trav_t){h->L.ev[i].store_id, (uint32_t)i};
    qsort(h->by_sid, h->L.n, sizeof *h->by_sid, cmp_sid);
    *out = h;
    return PM_OK;
}

void pm_preclear_store_history_free(pm_preclear_store_history_t *h)
{
    if (!h) return;
    pm_link_events_free(&h->L);
    free(h->by_sid);
    free(h);
}

/* The last local day of the authorised stay entry e opened: the admission
 * recorded on our own entry (docs/crossings-format.md, as the overstays
 * report uses it), else the rules by citizenship (0 = not limited).
 * INT32_MAX when the stay is not limited. */
static int32_t last_allowed_day(const pm_link_event_t *e, const pm_stay_rules_t *rules)
{
    if (e->admission == PM_ADMISSION_UNLIMITED) return INT32_MAX;
    if (e->admission == PM_ADMISSION_LIMITED) return e->stay_until_day;
    int days = pm_stay_rules_days(rules, e->citizenship);
    return days > 0 ? e->local_day + days : INT32_MAX;
}

/* The stays in our country of the traveller of event `at`, up to the end of
 * day `until` (local days): each entry followed by an exit is a completed stay
 * judged against its authorised stay (last_allowed_day); a last entry without
 * an exit counts as an overstay once that stay has run out by `until` (the
 * traveller is abroad, boarding, so they left unrecorded after overstaying,
 * or the exit record is missing). */
static void judge_stays(const pm_preclear_store_history_t *h, size_t at, int32_t until,
                        pm_preclear_history_t *out)
{
    const pm_link_event_t *ev = h->L.ev;
    uint32_t t = ev[at].traveller;
    size_t i = at;
    while (i > 0 && ev[i - 1].traveller == t)
        i--;
    int32_t last_day = INT32_MAX;
    int open = 0;
    for (; i < h->L.n && ev[i].traveller == t && ev[i].local_day <= until; i++) {
        if (ev[i].direction == PM_DIRECTION_ENTRY) {
            open = 1;
            last_day = last_allowed_day(&ev[i], &h->rules);
        } else if (ev[i].direction == PM_DIRECTION_EXIT && open) {
            open = 0;
            out->stays++;
            if (ev[i].local_day > last_day) {
                out->overstays++;
                if (ev[i].local_day - last_day > out->max_days_over)
                    out->max_days_over = (int)(ev[i].local_day - last_day);
            }
        }
    }
    if (open && until > last_day) {
        out->inside = 1;
        out->stays++;
        out->overstays++;
        if (until - last_day > out->max_days_over) out->max_days_over = (int)(until - last_day);
    }
}

int pm_preclear_store_history(void *ctx, const pm_preclear_passenger_t *p,
                              pm_preclear_history_t *out, pm_error_t *err)
{
    pm_preclear_store_history_t *h = ctx;
    memset(out, 0, sizeof *out);
    if (!p->document_number || !p->document_number[0] || !p->document_issuer ||
        strlen(p->document_number) > PM_DOCNUM_MAX || strlen(p->document_issuer) > 3)
        return PM_OK;
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    memcpy(f.document_number, p->document_number, strlen(p->document_number) + 1);
    memcpy(f.document_issuer, p->document_issuer, strlen(p->document_issuer) + 1);
    f.limit = 10000;
    pm_crossing_iter_t *it = NULL;
    int rc = pm_store_crossings(h->st, &f, &it, err);
    if (rc) return rc;
    int32_t until = p->departure.year ? (int32_t)day_of(&p->departure) : INT32_MAX;
    pm_crossing_t *c = malloc(sizeof *c);
    if (!c) rc = pm_error_set(err, PM_ENOMEM, "preclear: out of memory");
    /* the newest crossing with the document that is linked names the traveller */
    while (!rc) {
        int got = pm_crossing_iter_next(it, c, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        sid_trav_t key = {c->store_id, 0};
        sid_trav_t *hit = bsearch(&key, h->by_sid, h->L.n, sizeof *h->by_sid, cmp_sid);
        if (hit) {
            memset(out, 0, sizeof *out);
            out->known = 1;
            out->traveller = h->L.ev[hit->idx].traveller;
            judge_stays(h, hit->idx, until, out);
        }
    }
    free(c);
    pm_crossing_iter_close(it);
    return rc;
}
