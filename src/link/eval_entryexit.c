/* Entry/exit answers scored against the generator's truth (issue 15): the
 * overstays, presence and removals reports run on a linked store, and each
 * answer is compared with what the generated people truly did. The truth is
 * defined in docs/synth.md ("Entry/exit truth"); it is computed here from the
 * stored crossings grouped by their true person (the generator records every
 * crossing and never drops one), never from the linkage. */
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"
#include "perimeter/reports.h"
#include "perimeter/synth.h"

typedef struct tev {
    uint64_t person;
    int64_t store_id;
    int64_t time_utc;
    int32_t local_day;
    int32_t stay_until_day; /* limited admission's last day; INT32_MAX none */
    pm_direction_t direction;
} tev_t;

typedef struct sid_person {
    int64_t store_id;
    uint64_t person;
    size_t tev; /* index in the sorted true events */
} sid_person_t;

typedef struct ee {
    tev_t *ev;
    size_t n;
    sid_person_t *sid; /* by store_id */
    const pm_synth_person_t *people;
    size_t *pidx; /* people indexes by person_id */
    size_t npeople;
} ee_t;

static int cmp_tev(const void *a, const void *b)
{
    const tev_t *x = a, *y = b;
    if (x->person != y->person) return x->person < y->person ? -1 : 1;
    if (x->time_utc != y->time_utc) return x->time_utc < y->time_utc ? -1 : 1;
    return (x->store_id > y->store_id) - (x->store_id < y->store_id);
}

static int cmp_sid(const void *a, const void *b)
{
    const sid_person_t *x = a, *y = b;
    return (x->store_id > y->store_id) - (x->store_id < y->store_id);
}

static int cmp_pidx(const void *a, const void *b, void *ctx)
{
    const pm_synth_person_t *p = ctx;
    uint64_t x = p[*(const size_t *)a].person_id, y = p[*(const size_t *)b].person_id;
    return (x > y) - (x < y);
}

static const sid_person_t *by_sid(const ee_t *E, int64_t sid)
{
    size_t lo = 0, hi = E->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (E->sid[mid].store_id < sid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < E->n && E->sid[lo].store_id == sid ? &E->sid[lo] : NULL;
}

static const pm_synth_person_t *person_of(const ee_t *E, uint64_t id)
{
    size_t lo = 0, hi = E->npeople;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (E->people[E->pidx[mid]].person_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < E->npeople && E->people[E->pidx[lo]].person_id == id ? &E->people[E->pidx[lo]]
                                                                      : NULL;
}

/* Every stored crossing as a true event of its person. */
static int load_truth(pm_store_t *st, const pm_link_truth_t *truth, ee_t *E, pm_error_t *err)
{
    size_t cap = 0;
    pm_crossing_iter_t *it = NULL;
    int rc = pm_store_crossings(st, NULL, &it, err);
    pm_crossing_t *c = malloc(sizeof *c);
    if (!rc && !c) rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    while (!rc) {
        int got = pm_crossing_iter_next(it, c, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        uint64_t person;
        if (pm_link_truth_person(truth, c->reporting_country, c->record_id, &person)) {
            rc = pm_error_set(err, PM_ENOTFOUND, "crossing %s:%s has no truth",
                              c->reporting_country, c->record_id);
            break;
        }
        if (E->n == cap) {
            size_t nc = cap ? cap * 2 : 4096;
            tev_t *ne = realloc(E->ev, nc * sizeof *ne);
            if (!ne) {
                rc = pm_error_set(err, PM_ENOMEM, "out of memory");
                break;
            }
            E->ev = ne;
            cap = nc;
        }
        tev_t *e = &E->ev[E->n++];
        e->person = person;
        e->store_id = c->store_id;
        e->time_utc = c->time_utc;
        e->local_day = pm_link_local_day(c->time_utc, c->utc_offset_min);
        e->direction = c->direction;
        e->stay_until_day = INT32_MAX;
        if (c->stay_until.year)
            e->stay_until_day = (int32_t)pm_days_from_civil(c->stay_until.year, c->stay_until.month,
                                                           c->stay_until.day);
    }
    free(c);
    pm_crossing_iter_close(it);
    if (rc) return rc;
    if (E->n > 1) qsort(E->ev, E->n, sizeof *E->ev, cmp_tev);
    E->sid = malloc((E->n ? E->n : 1) * sizeof *E->sid);
    if (!E->sid) return pm_error_set(err, PM_ENOMEM, "out of memory");
    for (size_t i = 0; i < E->n; i++) {
        E->sid[i].store_id = E->ev[i].store_id;
        E->sid[i].person = E->ev[i].person;
        E->sid[i].tev = i;
    }
    if (E->n > 1) qsort(E->sid, E->n, sizeof *E->sid, cmp_sid);
    return PM_OK;
}

static int col_of(const pm_report_t *r, const char *name)
{
    for (size_t c = 0; c < pm_report_ncols(r); c++)
        if (!strcmp(pm_report_column(r, c), name)) return (int)c;
    return -1;
}

static int64_t cell_int(const pm_report_t *r, size_t row, int col)
{
    const char *s = col >= 0 ? pm_report_cell(r, row, (size_t)col) : NULL;
    return s && *s ? strtoll(s, NULL, 10) : -1;
}

static int cell_is(const pm_report_t *r, size_t row, int col, const char *v)
{
    const char *s = col >= 0 ? pm_report_cell(r, row, (size_t)col) : NULL;
    return s && !strcmp(s, v);
}

/* Index range [*lo, *hi) of person p's true events. */
static int person_range(const ee_t *E, uint64_t p, size_t *lo_out, size_t *hi_out)
{
    size_t lo = 0, hi = E->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (E->ev[mid].person < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t h = lo;
    while (h < E->n && E->ev[h].person == p)
        h++;
    *lo_out = lo;
    *hi_out = h;
    return h > lo;
}

/* Truth: overstayer as of the end of local day as_of. */
static int true_overstayer(const ee_t *E, size_t lo, size_t hi, int32_t as_of)
{
    size_t last = SIZE_MAX;
    for (size_t k = lo; k < hi && E->ev[k].local_day <= as_of; k++)
        last = k;
    return last != SIZE_MAX && E->ev[last].direction == PM_DIRECTION_ENTRY &&
           E->ev[last].stay_until_day != INT32_MAX && E->ev[last].stay_until_day < as_of;
}

/* Truth: local days present in [from, to]; inside at the start per the
 * person master's start_location. */
static int true_presence(const ee_t *E, size_t lo, size_t hi, int inside, int32_t from, int32_t to)
{
    int days = 0;
    int32_t start = INT32_MIN, last = INT32_MIN;
    for (size_t k = lo; k <= hi; k++) {
        int end_of_data = k == hi;
        if (!end_of_data && E->ev[k].direction == PM_DIRECTION_ENTRY) {
            inside = 1;
            start = E->ev[k].local_day;
            continue;
        }
        if (!inside) continue;
        int32_t a = start, b = end_of_data ? to : E->ev[k].local_day;
        if (a < from) a = from;
        if (a <= last) a = last + 1;
        if (b > to) b = to;
        if (b >= a) {
            days += b - a + 1;
            last = b;
        }
        inside = 0;
    }
    return days;
}

typedef struct pt {
    uint64_t person;
    uint32_t traveller;
} pt_t;

static int cmp_pt(const void *a, const void *b)
{
    const pt_t *x = a, *y = b;
    if (x->person != y->person) return x->person < y->person ? -1 : 1;
    return (x->traveller > y->traveller) - (x->traveller < y->traveller);
}

static int eval_overstays(pm_store_t *st, const pm_link_events_t *L, const ee_t *E,
                          const pm_entry_exit_query_t *q, int32_t as_of,
                          pm_entry_exit_eval_t *out, pm_error_t *err)
{
    pm_report_t *r = NULL;
    int rc = pm_report_overstays(st, L, &q->rules, &q->as_of, &r, err);
    if (rc) return rc;
    int c_st = col_of(r, "status"), c_e = col_of(r, "entry_store_id"), c_x = col_of(r, "exit_store_id");
    /* persons found by a correct overstay row */
    uint64_t *found = malloc((pm_report_nrows(r) + 1) * sizeof *found);
    size_t nf = 0;
    if (!found) rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < pm_report_nrows(r); i++) {
        const sid_person_t *sp = by_sid(E, cell_int(r, i, c_e));
        size_t lo, hi;
        int truly = sp && person_range(E, sp->person, &lo, &hi) && true_overstayer(E, lo, hi, as_of);
        if (cell_is(r, i, c_st, "overstay")) {
            out->overstays_listed++;
            if (truly) {
                out->overstays_correct++;
                found[nf++] = sp->person;
            }
        } else {
            out->departures_to_confirm++;
            const sid_person_t *xp = by_sid(E, cell_int(r, i, c_x));
            out->departures_to_confirm_true += !truly && xp && sp && xp->person == sp->person;
        }
    }
    pm_report_free(r);
    if (rc) {
        free(found);
        return rc;
    }
    for (size_t lo = 0; lo < E->n;) {
        size_t hi = lo;
        while (hi < E->n && E->ev[hi].person == E->ev[lo].person)
            hi++;
        if (true_overstayer(E, lo, hi, as_of)) {
            out->overstays_true++;
            int f = 0;
            for (size_t k = 0; k < nf && !f; k++)
                f = found[k] == E->ev[lo].person;
            out->overstays_found += f;
        }
        lo = hi;
    }
    free(found);
    out->overstay_precision =
        out->overstays_listed ? (double)out->overstays_correct / (double)out->overstays_listed : 1.0;
    out->overstay_recall =
        out->overstays_true ? (double)out->overstays_found / (double)out->overstays_true : 1.0;
    return PM_OK;
}

static int eval_presence(const pm_link_events_t *L, const ee_t *E, const pm_entry_exit_query_t *q,
                         pm_entry_exit_eval_t *out, pm_error_t *err)
{
    pm_report_t *r = NULL;
    int rc = pm_report_presence(L, 0, &q->as_of, q->presence_years, 0, &r, err);
    if (rc) return rc;
    int c_t = col_of(r, "traveller"), c_d = col_of(r, "days_present");
    int c_min = col_of(r, "days_min"), c_max = col_of(r, "days_max"), c_f = col_of(r, "window_from");
    int c_to = col_of(r, "window_to");
    pm_dob_t fd = {0}, td = {0};
    const char *fs = pm_report_nrows(r) ? pm_report_cell(r, 0, (size_t)c_f) : NULL;
    const char *ts = pm_report_nrows(r) ? pm_report_cell(r, 0, (size_t)c_to) : NULL;
    if (!fs || !ts || pm_dob_parse(fs, strlen(fs), &fd, NULL) || pm_dob_parse(ts, strlen(ts), &td, NULL)) {
        pm_report_free(r);
        return PM_OK; /* no travellers */
    }
    int32_t from = (int32_t)pm_days_from_civil(fd.year, fd.month, fd.day);
    int32_t to = (int32_t)pm_days_from_civil(td.year, td.month, td.day);
    /* each person's traveller: the one holding most of their linked records */
    pt_t *pt = malloc((L->n ? L->n : 1) * sizeof *pt);
    if (!pt) {
        pm_report_free(r);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    size_t npt = 0;
    for (size_t i = 0; i < L->n; i++) {
        const sid_person_t *sp = by_sid(E, L->ev[i].store_id);
        if (sp) pt[npt++] = (pt_t){sp->person, L->ev[i].traveller};
    }
    qsort(pt, npt, sizeof *pt, cmp_pt);
    double abs_all = 0, abs_complete = 0;
    size_t nrows = pm_report_nrows(r);
    for (size_t i = 0; i < npt;) {
        uint64_t p = pt[i].person;
        uint32_t best = pt[i].traveller;
        size_t best_n = 0;
        size_t j = i;
        while (j < npt && pt[j].person == p) {
            size_t k = j;
            while (k < npt && pt[k].person == p && pt[k].traveller == pt[j].traveller)
                k++;
            if (k - j > best_n) {
                best_n = k - j;
                best = pt[j].traveller;
            }
            j = k;
        }
        i = j;
        /* the report's row of that traveller (rows are in traveller order) */
        size_t lo = 0, hi = nrows;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (cell_int(r, mid, c_t) < (int64_t)best)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo >= nrows || cell_int(r, lo, c_t) != (int64_t)best) continue;
        size_t elo, ehi;
        person_range(E, p, &elo, &ehi);
        const pm_synth_person_t *pp = person_of(E, p);
        int inside0 = pp && !strcmp(pp->start_location, q->country);
        int truth = true_presence(E, elo, ehi, inside0, from, to);
        int64_t got = cell_int(r, lo, c_d), mn = cell_int(r, lo, c_min), mx = cell_int(r, lo, c_max);
        int64_t d = got > truth ? got - truth : truth - got;
        out->presence_people++;
        out->presence_exact += d == 0;
        out->presence_within1 += d <= 1;
        out->presence_covered += mn <= truth && truth <= mx;
        abs_all += (double)d;
        if (mn == mx) { /* the report claims the count is settled */
            out->certain_people++;
            out->certain_exact += d == 0;
            out->certain_within1 += d <= 1;
        }
        if (!inside0) { /* complete records: no stay open when the data begins */
            out->complete_people++;
            out->complete_exact += d == 0;
            out->complete_within1 += d <= 1;
            abs_complete += (double)d;
        }
    }
    free(pt);
    pm_report_free(r);
    out->presence_mae = out->presence_people ? abs_all / (double)out->presence_people : 0;
    out->complete_mae = out->complete_people ? abs_complete / (double)out->complete_people : 0;
    return PM_OK;
}

static int cmp_order_id(const void *a, const void *b)
{
    return strcmp((*(const pm_synth_person_t *const *)a)->removal_order_id,
                  (*(const pm_synth_person_t *const *)b)->removal_order_id);
}

static int eval_removals(pm_store_t *st, const pm_link_events_t *L, const ee_t *E,
                         const pm_entry_exit_query_t *q, pm_entry_exit_eval_t *out,
                         pm_error_t *err)
{
    /* our country's orders, written as the generator writes them */
    pm_buf_t b;
    pm_buf_init(&b, 0);
    int rc = pm_synth_removals_header(&b);
    for (size_t i = 0; !rc && i < E->npeople; i++) {
        const pm_synth_person_t *p = &E->people[i];
        if (p->removal_order && !strcmp(p->removal_country, q->country))
            rc = pm_synth_removal_csv(p, &b);
    }
    pm_report_t *r = NULL;
    if (!rc) rc = pm_report_removals(st, L, (const char *)b.data, b.len, "orders", &r, err);
    else pm_error_set(err, rc, "removal orders: out of memory");
    pm_buf_free(&b);
    if (rc) return rc;
    int c_o = col_of(r, "order_id"), c_s = col_of(r, "status"), c_x = col_of(r, "exit_store_id");
    /* the ordered people by order id */
    size_t nord = 0;
    const pm_synth_person_t **ord = malloc((E->npeople ? E->npeople : 1) * sizeof *ord);
    if (!ord) {
        pm_report_free(r);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < E->npeople; k++)
        if (E->people[k].removal_order && !strcmp(E->people[k].removal_country, q->country))
            ord[nord++] = &E->people[k];
    if (nord > 1) qsort(ord, nord, sizeof *ord, cmp_order_id);
    for (size_t i = 0; i < pm_report_nrows(r); i++) {
        const char *oid = pm_report_cell(r, i, (size_t)c_o);
        const pm_synth_person_t *p = NULL;
        size_t a = 0, z = nord;
        while (a < z) {
            size_t mid = (a + z) / 2;
            if (strcmp(ord[mid]->removal_order_id, oid) < 0)
                a = mid + 1;
            else
                z = mid;
        }
        if (a < nord && !strcmp(ord[a]->removal_order_id, oid)) p = ord[a];
        if (!p) continue;
        pm_dob_t od = {0};
        pm_dob_parse(p->removal_order_date, strlen(p->removal_order_date), &od, NULL);
        int32_t oday = od.month ? (int32_t)pm_days_from_civil(od.year, od.month, od.day) : 0;
        out->removal_orders++;
        size_t lo, hi;
        int departed = 0;
        if (person_range(E, p->person_id, &lo, &hi))
            for (size_t k = lo; k < hi && !departed; k++)
                departed = E->ev[k].direction == PM_DIRECTION_EXIT && E->ev[k].local_day >= oday;
        out->removal_departed += departed;
        if (!cell_is(r, i, c_s, "departed")) {
            out->removal_missed += departed;
            continue;
        }
        const sid_person_t *xp = by_sid(E, cell_int(r, i, c_x));
        int right = xp && xp->person == p->person_id &&
                    E->ev[xp->tev].direction == PM_DIRECTION_EXIT && E->ev[xp->tev].local_day >= oday;
        if (right)
            out->removal_confirmed++;
        else {
            out->removal_wrong++;
            out->removal_missed += departed;
        }
    }
    free(ord);
    pm_report_free(r);
    return PM_OK;
}

int pm_eval_entry_exit(pm_store_t *st, const pm_link_truth_t *truth,
                       const struct pm_synth_person *people, size_t n,
                       const pm_entry_exit_query_t *q, pm_entry_exit_eval_t *out, pm_error_t *err)
{
    if (out) memset(out, 0, sizeof *out);
    if (!st || !truth || (!people && n) || !q || !out || !q->as_of.month || !q->as_of.day ||
        strlen(q->country) != 3 || q->presence_years < 1 || q->presence_years > 100)
        return pm_error_set(err, PM_EINVAL,
                            "eval entry-exit: give a store, truth, people, a country, a date and "
                            "1..100 presence years");
    ee_t E;
    memset(&E, 0, sizeof E);
    E.people = people;
    E.npeople = n;
    E.pidx = malloc((n ? n : 1) * sizeof *E.pidx);
    if (!E.pidx) return pm_error_set(err, PM_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        E.pidx[i] = i;
    qsort_r(E.pidx, n, sizeof *E.pidx, cmp_pidx, (void *)people);
    pm_link_events_t L;
    memset(&L, 0, sizeof L);
    int rc = load_truth(st, truth, &E, err);
    if (!rc) rc = pm_link_events_load(st, &L, err);
    int32_t as_of = (int32_t)pm_days_from_civil(q->as_of.year, q->as_of.month, q->as_of.day);
    if (!rc) rc = eval_overstays(st, &L, &E, q, as_of, out, err);
    if (!rc) rc = eval_presence(&L, &E, q, out, err);
    if (!rc) rc = eval_removals(st, &L, &E, q, out, err);
    pm_link_events_free(&L);
    free(E.ev);
    free(E.sid);
    free(E.pidx);
    return rc;
}
