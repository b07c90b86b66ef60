/* Reports over linked crossings: reconciliation of exits with entries,
 * overstays under per-class authorised stays, days of physical presence. */
#include <stdlib.h>
#include <string.h>

#include "link_impl.h"

int32_t pm_link_local_day(int64_t time_utc, int utc_offset_min)
{
    int64_t t = time_utc + (int64_t)utc_offset_min * 60;
    int64_t d = t / 86400;
    if (t % 86400 < 0) d--;
    return (int32_t)d;
}

static int cmp_event(const void *a, const void *b)
{
    const pm_link_event_t *x = a, *y = b;
    if (x->traveller != y->traveller) return x->traveller < y->traveller ? -1 : 1;
    if (x->time_utc != y->time_utc) return x->time_utc < y->time_utc ? -1 : 1;
    return (x->store_id > y->store_id) - (x->store_id < y->store_id);
}

void pm_link_sort_events(pm_link_event_t *ev, size_t n)
{
    if (n > 1) qsort(ev, n, sizeof *ev, cmp_event);
}

size_t pm_link_reconcile(const pm_link_event_t *ev, size_t n, int64_t *out_entry, size_t *out_exits)
{
    size_t reconciled = 0, exits = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].direction != PM_DIRECTION_EXIT) {
            out_entry[i] = -2;
            continue;
        }
        exits++;
        if (i > 0 && ev[i - 1].traveller == ev[i].traveller &&
            ev[i - 1].direction == PM_DIRECTION_ENTRY) {
            out_entry[i] = (int64_t)(i - 1);
            reconciled++;
        } else
            out_entry[i] = -1;
    }
    if (out_exits) *out_exits = exits;
    return reconciled;
}

int pm_stay_rules_add(pm_stay_rules_t *rules, const char *spec, pm_error_t *err)
{
    const char *eq = strchr(spec, '=');
    if (!eq) return pm_error_set(err, PM_EFORMAT, "stay rule '%.40s' is not CODE=DAYS", spec);
    size_t cl = (size_t)(eq - spec);
    char *end;
    long days = strtol(eq + 1, &end, 10);
    if (eq[1] == '\0' || *end || days < 0 || days > 36500)
        return pm_error_set(err, PM_EFORMAT, "stay rule '%.40s': DAYS must be 0..36500", spec);
    if (cl == 7 && !memcmp(spec, "default", 7)) {
        rules->default_days = (int)days;
        return PM_OK;
    }
    if (cl != 3)
        return pm_error_set(err, PM_EFORMAT, "stay rule '%.40s': CODE must be alpha-3 or default",
                            spec);
    for (size_t i = 0; i < 3; i++)
        if (spec[i] < 'A' || spec[i] > 'Z')
            return pm_error_set(err, PM_EFORMAT, "stay rule '%.40s': CODE must be A-Z", spec);
    for (size_t i = 0; i < rules->n; i++)
        if (!memcmp(rules->citizenship[i], spec, 3)) {
            rules->days[i] = (int)days;
            return PM_OK;
        }
    if (rules->n >= PM_STAY_RULES_MAX)
        return pm_error_set(err, PM_ELIMIT, "more than %d stay rules", PM_STAY_RULES_MAX);
    memcpy(rules->citizenship[rules->n], spec, 3);
    rules->citizenship[rules->n][3] = '\0';
    rules->days[rules->n++] = (int)days;
    return PM_OK;
}

int pm_stay_rules_days(const pm_stay_rules_t *rules, const char *citizenship)
{
    for (size_t i = 0; i < rules->n; i++)
        if (!strcmp(rules->citizenship[i], citizenship)) return rules->days[i];
    return rules->default_days;
}

int pm_link_overstays(const pm_link_event_t *ev, size_t n, const pm_stay_rules_t *rules,
                      int64_t as_of_utc, pm_link_overstay_t **out, size_t *out_n, pm_error_t *err)
{
    *out = NULL;
    *out_n = 0;
    size_t cap = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && ev[j].traveller == ev[i].traveller)
            j++;
        /* last crossing at or before as_of */
        /* the as_of date is a local calendar date at the port */
        int32_t as_of_local = pm_link_local_day(as_of_utc, 0);
        size_t last = SIZE_MAX;
        for (size_t k = i; k < j && ev[k].local_day <= as_of_local; k++)
            last = k;
        if (last != SIZE_MAX && ev[last].direction == PM_DIRECTION_ENTRY &&
            ev[last].admission != PM_ADMISSION_UNLIMITED) {
            const pm_link_event_t *e = &ev[last];
            int est = e->admission != PM_ADMISSION_LIMITED, over = 0, days, days_over = 0;
            int64_t end;
            if (est) {
                days = pm_stay_rules_days(rules, e->citizenship);
                end = e->time_utc + (int64_t)days * 86400;
                over = days > 0 && end < as_of_utc;
                days_over = (int)((as_of_utc - end) / 86400);
            } else {
                /* the stay ends at the end of its last local day; the as_of
                 * date is the officer's calendar date */
                int64_t as_of_day = pm_link_local_day(as_of_utc, 0);
                days = e->stay_until_day - e->local_day + 1;
                end = ((int64_t)e->stay_until_day + 1) * 86400 - (int64_t)e->utc_offset_min * 60 - 1;
                over = as_of_day > e->stay_until_day;
                days_over = (int)(as_of_day - e->stay_until_day);
            }
            if (over) {
                if (*out_n == cap) {
                    size_t nc = cap ? cap * 2 : 64;
                    pm_link_overstay_t *no = realloc(*out, nc * sizeof *no);
                    if (!no) {
                        free(*out);
                        *out = NULL;
                        *out_n = 0;
                        return pm_error_set(err, PM_ENOMEM, "overstays: out of memory");
                    }
                    *out = no;
                    cap = nc;
                }
                pm_link_overstay_t *o = &(*out)[(*out_n)++];
                o->entry = last;
                o->stay_end_utc = end;
                o->days_over = days_over;
                o->estimated = est;
                o->stay_days = days;
            }
        }
        i = j;
    }
    return PM_OK;
}

static int overlap(int32_t a, int32_t b, int32_t from, int32_t to)
{
    if (a < from) a = from;
    if (b > to) b = to;
    return b >= a ? b - a + 1 : 0;
}

/* Notes [a, b] (clipped to the window) as uncertain; returns its length. */
static int uncertain(pm_link_presence_t *out, int32_t a, int32_t b, int32_t from, int32_t to)
{
    if (a < from) a = from;
    if (b > to) b = to;
    if (b < a) return 0;
    if (out->n_uncertain < PM_PRESENCE_RANGES_MAX) {
        out->uncertain_from[out->n_uncertain] = a;
        out->uncertain_to[out->n_uncertain] = b;
    }
    out->n_uncertain++;
    return b - a + 1;
}

void pm_link_presence_days(const pm_link_event_t *ev, size_t n, int32_t from_day, int32_t to_day,
                           pm_link_presence_t *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0 || to_day < from_day) return;
    /* stays as [start, end] day ranges; consecutive ranges may share a day
     * (exit and re-entry on one day), counted once via last_counted */
    int32_t last_counted = INT32_MIN;
    int inside = 0;
    int32_t start = 0;
    int assumed = 0, extra = 0; /* days counted on assumption; days possible but not counted */
    if (ev[0].direction == PM_DIRECTION_EXIT) {
        out->assumed_in = 1;
        inside = 1;
        start = from_day < ev[0].local_day ? from_day : ev[0].local_day;
        assumed = uncertain(out, from_day, ev[0].local_day - 1, from_day, to_day);
    }
    int32_t last_exit = INT32_MIN;
    for (size_t i = 0; i < n; i++) {
        int32_t d = ev[i].local_day;
        if (ev[i].direction == PM_DIRECTION_ENTRY) {
            if (inside) { /* missing exit: only the earlier entry's day is known */
                out->anomalies++;
                int32_t a = start > last_counted ? start : last_counted + 1;
                out->days += overlap(a, start, from_day, to_day);
                if (start > last_counted) last_counted = start;
                extra += uncertain(out, start + 1, d - 1, from_day, to_day);
            }
            inside = 1;
            start = d;
        } else if (ev[i].direction == PM_DIRECTION_EXIT) {
            if (!inside) { /* missing entry: nothing credited */
                out->anomalies++;
                int32_t a = last_exit + 1 > last_counted + 1 ? last_exit + 1 : last_counted + 1;
                extra += uncertain(out, a, d, from_day, to_day);
                last_exit = d;
                continue;
            }
            int32_t a = start > last_counted ? start : last_counted + 1;
            out->days += overlap(a, d, from_day, to_day);
            if (d > last_counted) last_counted = d;
            inside = 0;
            last_exit = d;
        }
    }
    if (inside) {
        int32_t a = start > last_counted ? start : last_counted + 1;
        out->days += overlap(a, to_day, from_day, to_day);
    }
    out->days_min = out->days - assumed;
    out->days_max = out->days + extra;
}
