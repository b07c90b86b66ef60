/* synth: the context and the day-by-day simulation of crossings.
 *
 * Each person has a small state (where they are, their next event day); a
 * bucket list per simulated day holds the people with an event that day. A
 * day's events produce crossings into a buffer that is sorted by time and
 * streamed out, so memory grows with the population and one day's traffic. */
#include <stdlib.h>
#include <string.h>

#include "synth/synth_int.h"

typedef struct pm__state {
    int32_t next;               /* day of the next event (relative), or -1 */
    int32_t link;               /* next person (0-based) in the same day bucket, -1 ends */
    int32_t aux;                /* class-specific (stay length, season return) */
    int32_t last_foreign_entry; /* day of the last entry where not a citizen/resident; -1 */
    uint32_t crossings;
    uint16_t stay_days;
    uint8_t loc;
    uint8_t own_mask; /* bit i: citizen or resident of side i */
    uint8_t start_loc;
    uint8_t last_pair, last_mode;
    int64_t last_utc; /* a person's crossings go forward in time */
    pm__plan_t plan;
} pm__state_t;

typedef struct pm__pending {
    int64_t utc;
    uint32_t person; /* 0-based */
    int32_t day;
    int16_t offset_min;
    uint8_t to; /* side entered (the reporting country) */
    uint8_t pair;
    uint8_t mode;
    uint8_t seq; /* order of the person's crossings within the day */
} pm__pending_t;

struct pm_synth {
    pm__model_t model;
    char run_tag[9]; /* hex tag in record ids so different runs do not collide */
};

static const char *const class_names[PM_SYNTH_CLASS_COUNT] = {
    "commuter_daily", "commuter_weekly", "visitor",      "long_stay",
    "snowbird",       "overstayer",      "never_leaves", "removal"};

const char *pm_synth_class_name(pm_synth_class_t c)
{
    return (unsigned)c < PM_SYNTH_CLASS_COUNT ? class_names[c] : "";
}

static const char *const mode_names[5] = {"land", "ferry", "pedestrian", "rail", "air"};

void pm_synth_params_default(pm_synth_params_t *p)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    p->people = 1000;
    p->days = 7;
    memcpy(p->countries[0], "CAN", 4);
    memcpy(p->countries[1], "USA", 4);
    p->start_year = 2026;
    p->start_month = 1;
    p->start_day = 5;
    p->noise = 0;
    p->mrz_share = 0.3;
    p->native_share = 0.1;
}

int pm_synth_new(const pm_synth_params_t *params, pm_synth_t **out, pm_error_t *err)
{
    *out = NULL;
    pm_synth_t *s = calloc(1, sizeof *s);
    if (!s) return pm_error_set(err, PM_ENOMEM, "out of memory");
    int rc = pm__model_init(&s->model, params, err);
    if (rc) {
        free(s);
        return rc;
    }
    /* the tag depends on every parameter that changes the records, so the
     * same run re-imports idempotently and two different runs never collide */
    uint64_t x = params->seed;
    uint64_t h = pm__splitmix64(&x);
    uint64_t parts[8] = {params->people,
                         params->days,
                         (uint64_t)s->model.start_day,
                         (uint64_t)(params->noise * 1e9),
                         (uint64_t)(params->mrz_share * 1e9),
                         (uint64_t)(params->native_share * 1e9),
                         0,
                         0};
    memcpy(&parts[6], params->countries[0], 3);
    memcpy(&parts[7], params->countries[1], 3);
    for (int i = 0; i < 8; i++) {
        x = h ^ parts[i];
        h = pm__splitmix64(&x);
    }
    uint32_t tag = (uint32_t)h;
    static const char hex[] = "0123456789ABCDEF";
    for (int i = 0; i < 8; i++)
        s->run_tag[i] = hex[(tag >> (28 - 4 * i)) & 15];
    s->run_tag[8] = '\0';
    *out = s;
    return PM_OK;
}

void pm_synth_free(pm_synth_t *s)
{
    free(s);
}

int pm_synth_person(const pm_synth_t *s, uint64_t person_id, pm_synth_person_t *out,
                    pm_error_t *err)
{
    if (person_id < 1 || person_id > s->model.params.people)
        return pm_error_set(err, PM_ERANGE, "person id %llu is not in 1..%u",
                            (unsigned long long)person_id, s->model.params.people);
    pm__person_make(&s->model, person_id, out, NULL);
    return PM_OK;
}

/* ---------------- the simulation ---------------- */

typedef struct sim {
    const pm__model_t *m;
    pm__rng_t rng;
    pm__state_t *st;
    int32_t *bucket; /* head per day, -1 empty */
    pm__pending_t *day_buf;
    size_t day_len, day_cap;
    int oom;
} sim_t;

static int weekday_of(const sim_t *S, int32_t d)
{
    return pm__weekday(S->m->start_day + d);
}

static void schedule(sim_t *S, uint32_t i, int32_t day)
{
    pm__state_t *st = &S->st[i];
    st->next = -1;
    if (day < 0 || (uint32_t)day >= S->m->params.days) return;
    st->next = day;
    st->link = S->bucket[day];
    S->bucket[day] = (int32_t)i;
}

/* Next weekday strictly after d (or d itself if from_today and a weekday). */
static int32_t next_weekday(const sim_t *S, int32_t d, int from_today)
{
    int32_t x = from_today ? d : d + 1;
    while (weekday_of(S, x) >= 5)
        x++;
    return x;
}

static int32_t next_monday(const sim_t *S, int32_t d)
{
    int32_t x = d + 1;
    while (weekday_of(S, x) != 0)
        x++;
    return x;
}

/* Picks the port pair and mode of one crossing. */
static void route(sim_t *S, const pm__state_t *st, int want_air, uint8_t *pair, uint8_t *mode)
{
    const pm__model_t *m = S->m;
    uint8_t p = st->plan.pair;
    if (want_air) {
        /* an airport pair if the partners have one */
        for (size_t k = 0; k < m->n_pairs; k++)
            if (m->pairs[k].modes[4] && pm__rng_chance(&S->rng, 0.7)) {
                *pair = (uint8_t)k;
                *mode = 4;
                return;
            }
    }
    if (pm__rng_chance(&S->rng, 0.15))
        p = (uint8_t)pm__rng_weighted(&S->rng, m->ground_w, m->n_pairs);
    uint8_t md = st->plan.mode;
    if (p != st->plan.pair || m->pairs[p].modes[md] == 0) {
        double mw[5];
        for (int k = 0; k < 5; k++)
            mw[k] = m->pairs[p].modes[k];
        md = (uint8_t)pm__rng_weighted(&S->rng, mw, 5);
    }
    *pair = p;
    *mode = md;
}

/* The household members who are where the lead was cross with the lead, in the
 * same vehicle a few seconds apart: always on the way home, mostly (80%) on the
 * way out (someone sometimes stays home). */
static void follow(sim_t *S, uint32_t lead, size_t lead_idx, uint8_t from)
{
    pm__pending_t lp = S->day_buf[lead_idx];
    int going_home = lp.to == S->st[lead].plan.home;
    int64_t t = lp.utc;
    for (uint32_t j = lead + 1; j < lead + S->st[lead].plan.hh_size && j < S->m->params.people;
         j++) {
        pm__state_t *m = &S->st[j];
        if (m->loc != from || (!going_home && !pm__rng_chance(&S->rng, 0.8))) continue;
        if (S->day_len == S->day_cap) {
            size_t cap = S->day_cap * 2;
            pm__pending_t *nb = realloc(S->day_buf, cap * sizeof *nb);
            if (!nb) {
                S->oom = 1;
                return;
            }
            S->day_buf = nb;
            S->day_cap = cap;
        }
        t += 5 + pm__rng_below(&S->rng, 40);
        if (t <= m->last_utc) t = m->last_utc + 600;
        pm__pending_t *pe = &S->day_buf[S->day_len++];
        *pe = lp;
        pe->utc = t;
        pe->person = j;
        pe->seq = (uint8_t)(m->crossings & 0xFF);
        m->last_utc = t;
        m->last_pair = lp.pair;
        m->last_mode = lp.mode;
        m->loc = lp.to;
        m->crossings++;
        if (!(m->own_mask & (1u << lp.to))) m->last_foreign_entry = lp.day;
    }
}

/* Records a crossing of person i into side `to` on day d at local second secs.
 * want_air: 1 fly if possible; 2 come back the way the person went (same day). */
static void cross(sim_t *S, uint32_t i, int32_t d, int32_t secs, uint8_t to, int want_air)
{
    pm__state_t *st = &S->st[i];
    if (S->day_len == S->day_cap) {
        size_t cap = S->day_cap ? S->day_cap * 2 : 4096;
        pm__pending_t *nb = realloc(S->day_buf, cap * sizeof *nb);
        if (!nb) {
            S->oom = 1;
            return;
        }
        S->day_buf = nb;
        S->day_cap = cap;
    }
    if (secs < 0) secs = 0;
    if (secs > 86399) secs = 86399;
    pm__pending_t *pe = &S->day_buf[S->day_len++];
    if (want_air == 2) {
        pe->pair = st->last_pair;
        pe->mode = st->last_mode;
    } else {
        route(S, st, want_air, &pe->pair, &pe->mode);
    }
    st->last_pair = pe->pair;
    st->last_mode = pe->mode;
    const pm__port_t *port = &S->m->pairs[pe->pair].side[to];
    int64_t days = S->m->start_day + d;
    int off = pm__utc_offset(port->std_offset_min, port->dst, days, secs / 3600);
    if (secs >= 3600 && secs < 82800 &&
        off > pm__utc_offset(port->std_offset_min, port->dst, days, secs / 3600 - 1)) {
        /* the hour skipped when clocks go forward does not exist locally */
        secs += 3600;
        off = pm__utc_offset(port->std_offset_min, port->dst, days, secs / 3600);
    }
    pe->utc = days * 86400 + secs - (int64_t)off * 60;
    if (pe->utc <= st->last_utc) /* across time zones: keep the person's order */
        pe->utc = st->last_utc + 600 + pm__rng_below(&S->rng, 3000);
    st->last_utc = pe->utc;
    pe->offset_min = (int16_t)off;
    pe->person = i;
    pe->day = d;
    pe->to = to;
    pe->seq = (uint8_t)(st->crossings & 0xFF);
    uint8_t from = st->loc;
    st->loc = to;
    st->crossings++;
    if (!(st->own_mask & (1u << to))) st->last_foreign_entry = d;
    if (st->plan.hh_size > 1 && st->plan.role == 0) follow(S, i, S->day_len - 1, from);
}

static int32_t secs_normal(sim_t *S, double mean_h, double sd_h)
{
    double h = pm__rng_normal(&S->rng, mean_h, sd_h);
    if (h < 0.2) h = 0.2 + pm__rng_unit(&S->rng);
    if (h > 23.9) h = 23.9 - pm__rng_unit(&S->rng);
    return (int32_t)(h * 3600);
}

static int32_t gap_days(sim_t *S, double mean)
{
    double g = pm__rng_exp(&S->rng, mean);
    return g > 3000 ? 3000 : (int32_t)g;
}

/* Snowbird season: departure day-of-season offset and stay length are per person. */
static void snowbird_season(const sim_t *S, uint32_t i, int year, int64_t *dep, int64_t *ret)
{
    pm__rng_t r;
    pm__rng_seed(&r, S->m->params.seed, i + 1, 0x534E4F57ull, (uint64_t)year);
    *dep = pm_days_from_civil(year, 10, 15) + pm__rng_below(&r, 60);
    *ret = *dep + 120 + pm__rng_below(&r, 56);
}

static void init_person(sim_t *S, uint32_t i)
{
    const pm__model_t *m = S->m;
    pm_synth_person_t p;
    pm__state_t *st = &S->st[i];
    memset(st, 0, sizeof *st);
    pm__person_make(m, (uint64_t)i + 1, &p, &st->plan);
    st->last_foreign_entry = -1;
    st->next = -1;
    for (int sd = 0; sd < 2; sd++) {
        const char *code = m->side[sd]->code;
        int own = strcmp(p.residence, code) == 0;
        for (int k = 0; k < p.n_documents; k++)
            own |= strcmp(p.documents[k].nationality, code) == 0;
        if (own) st->own_mask |= (uint8_t)(1u << sd);
    }
    st->stay_days = (uint16_t)p.authorised_stay_days;
    uint8_t home = st->plan.home, away = (uint8_t)(1 - home);
    st->loc = home;
    if (st->plan.role > 0) {
        /* a household member is where its lead is and moves with it */
        st->loc = S->st[i - st->plan.role].loc;
        st->start_loc = st->loc;
        return;
    }
    int32_t days = (int32_t)m->params.days;
    switch ((pm_synth_class_t)st->plan.cls) {
    case PM_SYNTH_COMMUTER_DAILY:
        schedule(S, i, next_weekday(S, 0, 1));
        break;
    case PM_SYNTH_COMMUTER_WEEKLY: {
        int wd = weekday_of(S, 0);
        if (wd >= 1 && wd <= 4 && pm__rng_chance(&S->rng, 0.8)) {
            st->loc = away; /* the working week is under way */
            schedule(S, i, 4 - wd);
        } else {
            schedule(S, i, wd == 0 ? 0 : next_monday(S, 0));
        }
        break;
    }
    case PM_SYNTH_VISITOR:
        if (pm__rng_chance(&S->rng, 0.12)) {
            st->loc = away;
            schedule(S, i, (int32_t)pm__rng_below(&S->rng, 15));
        } else {
            schedule(S, i, gap_days(S, 30));
        }
        break;
    case PM_SYNTH_LONG_STAY:
        if (pm__rng_chance(&S->rng, 0.4)) {
            st->loc = away;
            schedule(S, i, (int32_t)pm__rng_below(&S->rng, 150));
        } else {
            schedule(S, i, gap_days(S, 120));
        }
        break;
    case PM_SYNTH_SNOWBIRD: {
        int y, mo, dd;
        pm_civil_from_days(m->start_day, &y, &mo, &dd);
        int64_t dep, ret;
        snowbird_season(S, i, y - 1, &dep, &ret);
        if (m->start_day >= dep && m->start_day < ret) {
            st->loc = away;
            st->aux = (int32_t)(ret - m->start_day);
            schedule(S, i, st->aux);
        } else {
            snowbird_season(S, i, m->start_day < ret ? y - 1 : y, &dep, &ret);
            if (dep < m->start_day) snowbird_season(S, i, y, &dep, &ret);
            schedule(S, i, (int32_t)(dep - m->start_day));
        }
        break;
    }
    case PM_SYNTH_OVERSTAYER:
        schedule(S, i, (int32_t)pm__rng_below(&S->rng, (uint32_t)(days > 2 ? days / 2 : 1)));
        break;
    case PM_SYNTH_NEVER_LEAVES:
        schedule(S, i, (int32_t)pm__rng_below(&S->rng, (uint32_t)days));
        break;
    case PM_SYNTH_REMOVAL:
        if (pm__rng_chance(&S->rng, 0.8))
            schedule(S, i, (int32_t)pm__rng_below(&S->rng, (uint32_t)days));
        break;
    default:
        break;
    }
    st->start_loc = st->loc;
}

static void event(sim_t *S, uint32_t i, int32_t d)
{
    pm__state_t *st = &S->st[i];
    uint8_t home = st->plan.home, away = (uint8_t)(1 - home);
    int32_t days = (int32_t)S->m->params.days;
    switch ((pm_synth_class_t)st->plan.cls) {
    case PM_SYNTH_COMMUTER_DAILY:
        if (!pm__rng_chance(&S->rng, 0.05)) {
            int32_t t1 = 6 * 3600 + (int32_t)pm__rng_below(&S->rng, 3 * 3600);
            int32_t t2 = 15 * 3600 + 1800 + (int32_t)pm__rng_below(&S->rng, 3 * 3600 + 1800);
            cross(S, i, d, t1, away, 0);
            cross(S, i, d, t2, home, 2);
        }
        schedule(S, i, next_weekday(S, d, 0));
        break;
    case PM_SYNTH_COMMUTER_WEEKLY:
        if (st->loc == home) {
            cross(S, i, d, 5 * 3600 + (int32_t)pm__rng_below(&S->rng, 4 * 3600), away, 0);
            schedule(S, i, d + 4);
        } else {
            cross(S, i, d, 14 * 3600 + (int32_t)pm__rng_below(&S->rng, 6 * 3600), home, 0);
            int32_t nx = next_monday(S, d);
            schedule(S, i, pm__rng_chance(&S->rng, 0.1) ? nx + 7 : nx);
        }
        break;
    case PM_SYNTH_VISITOR:
    case PM_SYNTH_LONG_STAY: {
        int lng = st->plan.cls == PM_SYNTH_LONG_STAY;
        if (st->loc == home) {
            int32_t len;
            if (lng) {
                len = 30 + (int32_t)pm__rng_below(&S->rng, 141);
            } else {
                double lw[4] = {40, 30, 20, 10};
                size_t k = pm__rng_weighted(&S->rng, lw, 4);
                len = k == 0   ? 0
                      : k == 1 ? 1 + (int32_t)pm__rng_below(&S->rng, 3)
                      : k == 2 ? 4 + (int32_t)pm__rng_below(&S->rng, 11)
                               : 15 + (int32_t)pm__rng_below(&S->rng, 31);
            }
            int air = len >= 4 && pm__rng_chance(&S->rng, lng ? 0.3 : 0.08);
            if (len == 0) {
                int32_t t1 = 8 * 3600 + (int32_t)pm__rng_below(&S->rng, 5 * 3600);
                int32_t t2 = t1 + 2 * 3600 + (int32_t)pm__rng_below(&S->rng, 6 * 3600);
                cross(S, i, d, t1, away, 0);
                cross(S, i, d, t2, home, 2);
                schedule(S, i, d + 1 + gap_days(S, lng ? 150 : 30));
            } else {
                cross(S, i, d,
                      air ? 7 * 3600 + (int32_t)pm__rng_below(&S->rng, 16 * 3600)
                          : secs_normal(S, 12.5, 3.5),
                      away, air);
                st->aux = air;
                schedule(S, i, d + len);
            }
        } else {
            cross(S, i, d, secs_normal(S, 14, 3.5), home, st->aux == 1);
            st->aux = 0;
            schedule(S, i, d + 1 + gap_days(S, lng ? 150 : 30));
        }
        break;
    }
    case PM_SYNTH_SNOWBIRD: {
        int air = pm__rng_chance(&S->rng, 0.35);
        if (st->loc == home) {
            cross(S, i, d,
                  air ? 7 * 3600 + (int32_t)pm__rng_below(&S->rng, 14 * 3600)
                      : secs_normal(S, 11, 2.5),
                  away, air);
            int64_t dep, ret;
            int y, mo, dd;
            pm_civil_from_days(S->m->start_day + d, &y, &mo, &dd);
            snowbird_season(S, i, y, &dep, &ret);
            schedule(S, i, d + (int32_t)(ret - dep));
        } else {
            cross(S, i, d,
                  air ? 7 * 3600 + (int32_t)pm__rng_below(&S->rng, 14 * 3600)
                      : secs_normal(S, 13, 2.5),
                  home, air);
            int y, mo, dd;
            pm_civil_from_days(S->m->start_day + d, &y, &mo, &dd);
            int64_t dep, ret;
            snowbird_season(S, i, y, &dep, &ret);
            schedule(S, i, (int32_t)(dep - S->m->start_day));
        }
        break;
    }
    case PM_SYNTH_OVERSTAYER:
        if (st->loc == home) {
            cross(S, i, d, secs_normal(S, 13, 4), away, 0);
            /* the longest usual authorised stay that ends inside the period, so
             * the overstay can be seen in the data */
            static const int stays[] = {180, 90, 30, 14, 7};
            int stay = 0;
            for (size_t k = 0; k < sizeof stays / sizeof stays[0]; k++)
                if (d + stays[k] < days - 1) {
                    stay = stays[k];
                    break;
                }
            if (!stay) stay = (days - d - 1) / 2 > 1 ? (days - d - 1) / 2 : 1;
            st->stay_days = (uint16_t)stay;
            if (pm__rng_chance(&S->rng, 0.5))
                schedule(S, i, d + stay + 1 + (int32_t)pm__rng_below(&S->rng, 60));
        } else {
            cross(S, i, d, secs_normal(S, 13, 4), home, 0);
        }
        break;
    case PM_SYNTH_NEVER_LEAVES:
        cross(S, i, d, secs_normal(S, 12, 4), away, pm__rng_chance(&S->rng, 0.2));
        break;
    case PM_SYNTH_REMOVAL:
        /* escorted departures usually happen in office hours; the other
         * country admits the person as a visitor with the usual 180 days (so
         * every limited admission has its end date, docs/synth.md) */
        st->stay_days = 180;
        cross(S, i, d, 9 * 3600 + (int32_t)pm__rng_below(&S->rng, 7 * 3600), away, 0);
        break;
    default:
        break;
    }
}

static int cmp_pending(const void *a, const void *b)
{
    const pm__pending_t *x = a, *y = b;
    if (x->utc != y->utc) return x->utc < y->utc ? -1 : 1;
    if (x->person != y->person) return x->person < y->person ? -1 : 1;
    return (int)x->seq - (int)y->seq;
}

/* Admission data the admitting country records on its entry: the class from
 * the person's tie to that country and synth class, and the authorised stay's
 * last day = entry day + the stay in days (the people file's
 * authorised_stay_end for the last entry). */
static void admission(const pm__model_t *m, const pm__pending_t *pe, const pm__state_t *st,
                      const pm_synth_person_t *person, pm_synth_crossing_t *c)
{
    const char *code = m->side[pe->to]->code;
    int citizen = 0;
    for (int k = 0; k < person->n_documents; k++)
        citizen |= strcmp(person->documents[k].nationality, code) == 0;
    c->stay_until[0] = '\0';
    if (citizen) {
        pm__strlcpy(c->admission_class, "citizen", sizeof c->admission_class);
    } else if (strcmp(person->residence, code) == 0 || st->plan.cls == PM_SYNTH_NEVER_LEAVES) {
        pm__strlcpy(c->admission_class, "permanent_resident", sizeof c->admission_class);
    } else if (st->plan.cls == PM_SYNTH_COMMUTER_DAILY || st->plan.cls == PM_SYNTH_COMMUTER_WEEKLY) {
        pm__strlcpy(c->admission_class, "worker", sizeof c->admission_class);
        /* a cross-border worker is admitted for a year at each entry: every
         * limited admission has its end date */
        pm__format_date(m->start_day + pe->day + 365, c->stay_until);
    } else {
        pm__strlcpy(c->admission_class, st->plan.cls == PM_SYNTH_LONG_STAY ? "student" : "visitor",
                    sizeof c->admission_class);
        if (st->stay_days > 0)
            pm__format_date(m->start_day + pe->day + st->stay_days, c->stay_until);
    }
}

/* Fills the wire fields of one crossing and applies the record-level choices
 * (written form of the names, mrz, noise). */
static void render(const pm_synth_t *s, const pm__pending_t *pe, const pm__plan_t *plan,
                   uint64_t seq, pm_synth_crossing_t *c, pm_synth_person_t *person)
{
    const pm__model_t *m = &s->model;
    pm__rng_t r;
    pm__rng_seed(&r, m->params.seed, seq, pe->to, 0x5245434Full);
    memset(c, 0, sizeof *c);
    const char *rep = m->side[pe->to]->code;
    char num[24];
    {
        /* "<country>-<run tag>-<sequence>" */
        uint64_t v = seq;
        int k = 0;
        char tmp[24];
        do {
            tmp[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (k < 10)
            tmp[k++] = '0';
        for (int j = 0; j < k; j++)
            num[j] = tmp[k - 1 - j];
        num[k] = '\0';
    }
    pm__strlcpy(c->record_id, rep, sizeof c->record_id);
    pm__strlcat(c->record_id, "-", sizeof c->record_id);
    pm__strlcat(c->record_id, s->run_tag, sizeof c->record_id);
    pm__strlcat(c->record_id, "-", sizeof c->record_id);
    pm__strlcat(c->record_id, num, sizeof c->record_id);
    pm__strlcpy(c->reporting_country, rep, sizeof c->reporting_country);
    pm__strlcpy(c->direction, "entry", sizeof c->direction);
    /* local time at the port */
    int64_t local = pe->utc + (int64_t)pe->offset_min * 60;
    int64_t ld = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t sod = local - ld * 86400;
    char date[11];
    pm__format_date(ld, date);
    int off = pe->offset_min < 0 ? -pe->offset_min : pe->offset_min;
    char *t = c->timestamp;
    memcpy(t, date, 10);
    t[10] = 'T';
    int hh = (int)(sod / 3600), mi = (int)(sod / 60 % 60), ss = (int)(sod % 60);
    t[11] = (char)('0' + hh / 10), t[12] = (char)('0' + hh % 10), t[13] = ':';
    t[14] = (char)('0' + mi / 10), t[15] = (char)('0' + mi % 10), t[16] = ':';
    t[17] = (char)('0' + ss / 10), t[18] = (char)('0' + ss % 10);
    t[19] = pe->offset_min < 0 ? '-' : '+';
    t[20] = (char)('0' + off / 600), t[21] = (char)('0' + off / 60 % 10), t[22] = ':';
    t[23] = (char)('0' + off % 60 / 10), t[24] = (char)('0' + off % 10), t[25] = '\0';
    pm__strlcpy(c->port_code, m->pairs[pe->pair].side[pe->to].code, sizeof c->port_code);
    pm__strlcpy(c->mode, mode_names[pe->mode], sizeof c->mode);

    pm__person_make_hh(m, (uint64_t)pe->person + 1, plan->role, plan->hh_size, person, NULL);
    /* written form of the names: the document's Latin capitals mostly; as
     * written in the person's own script for a share of records */
    int native = (strcmp(person->surname, person->surname_native) != 0 ||
                  strcmp(person->given_names, person->given_names_native) != 0) &&
                 pm__rng_chance(&r, m->params.native_share);
    if (native) {
        pm__strlcpy(c->surname, person->surname_native, sizeof c->surname);
        pm__strlcpy(c->given_names, person->given_names_native, sizeof c->given_names);
        pm__strlcpy(c->middle_names, person->middle_names_native, sizeof c->middle_names);
    } else {
        pm__strlcpy(c->surname, person->surname, sizeof c->surname);
        pm__strlcpy(c->given_names, person->given_names, sizeof c->given_names);
        pm__strlcpy(c->middle_names, person->middle_names, sizeof c->middle_names);
    }
    pm__strlcpy(c->date_of_birth, person->date_of_birth, sizeof c->date_of_birth);
    c->sex[0] = person->sex;
    const pm_synth_document_t *doc = &person->documents[0];
    if (person->has_renewal && strncmp(c->timestamp, person->renewal.issued, 10) >= 0)
        doc = &person->renewal; /* the new passport from the day it was issued */
    pm__strlcpy(c->citizenship, doc->nationality, sizeof c->citizenship);
    pm__strlcpy(c->document_type, doc->type, sizeof c->document_type);
    pm__strlcpy(c->document_number, doc->number, sizeof c->document_number);
    pm__strlcpy(c->document_issuer, doc->issuer, sizeof c->document_issuer);

    c->person_id = (uint64_t)pe->person + 1;
    c->time_utc = pe->utc;
    c->utc_offset_min = pe->offset_min;
    c->day = (uint32_t)pe->day;

    /* the noise draw is always made, so a record is the same with and without
     * noise unless it is chosen for noise */
    int noisy = pm__rng_unit(&r) < m->params.noise;
    if (noisy) {
        c->noise = pm__noise_apply(&r, person, c);
    } else if (!native && doc->type[0] == 'P' && strlen(c->date_of_birth) == 10 &&
               pm__rng_chance(&r, m->params.mrz_share)) {
        char given[2 * PM_SYNTH_NAME_MAX + 2];
        pm__strlcpy(given, c->given_names, sizeof given);
        if (c->middle_names[0]) {
            pm__strlcat(given, " ", sizeof given);
            pm__strlcat(given, c->middle_names, sizeof given);
        }
        if (pm_mrz_build_td3(doc->type, doc->issuer, c->surname, given, doc->number,
                             doc->nationality, c->date_of_birth, person->sex, doc->expiry, c->mrz,
                             sizeof c->mrz) != PM_OK)
            c->mrz[0] = '\0';
    }
}

int pm_synth_run(pm_synth_t *s, pm_synth_crossing_fn on_crossing, pm_synth_person_fn on_person,
                 void *user, pm_error_t *err)
{
    const pm__model_t *m = &s->model;
    sim_t S;
    memset(&S, 0, sizeof S);
    S.m = m;
    pm__rng_seed(&S.rng, m->params.seed, 0, 0x53494D00ull, 0);
    uint32_t n = m->params.people, days = m->params.days;
    S.st = calloc(n, sizeof *S.st);
    S.bucket = malloc(days * sizeof *S.bucket);
    pm_synth_person_t *person = malloc(sizeof *person);
    pm_synth_crossing_t *rec = malloc(sizeof *rec);
    int rc = PM_OK;
    if (!S.st || !S.bucket || !person || !rec) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory for %u people", n);
        goto done;
    }
    for (uint32_t d = 0; d < days; d++)
        S.bucket[d] = -1;
    for (uint32_t i = 0; i < n; i++)
        init_person(&S, i);
    uint64_t seq[2] = {0, 0};
    for (uint32_t d = 0; d < days && rc == 0; d++) {
        S.day_len = 0;
        /* detach the bucket first: handlers may schedule into later days only */
        int32_t i = S.bucket[d];
        S.bucket[d] = -1;
        while (i >= 0) {
            int32_t nx = S.st[i].link;
            event(&S, (uint32_t)i, (int32_t)d);
            i = nx;
        }
        if (S.oom) {
            rc = pm_error_set(err, PM_ENOMEM, "out of memory on day %u", d);
            break;
        }
        qsort(S.day_buf, S.day_len, sizeof *S.day_buf, cmp_pending);
        for (size_t k = 0; k < S.day_len && rc == 0; k++) {
            const pm__pending_t *pe = &S.day_buf[k];
            render(s, pe, &S.st[pe->person].plan, ++seq[pe->to], rec, person);
            admission(m, pe, &S.st[pe->person], person, rec);
            if (on_crossing) rc = on_crossing(user, rec);
        }
    }
    if (rc == 0 && on_person) {
        for (uint32_t i = 0; i < n && rc == 0; i++) {
            const pm__state_t *st = &S.st[i];
            pm__person_make_hh(m, (uint64_t)i + 1, st->plan.role, st->plan.hh_size, person, NULL);
            person->crossings = st->crossings;
            pm__strlcpy(person->location_at_end, m->side[st->loc]->code,
                        sizeof person->location_at_end);
            pm__strlcpy(person->start_location, m->side[st->start_loc]->code,
                        sizeof person->start_location);
            person->authorised_stay_days = st->stay_days;
            if (st->last_foreign_entry >= 0 && st->stay_days > 0 &&
                person->cls != PM_SYNTH_NEVER_LEAVES)
                pm__format_date(m->start_day + st->last_foreign_entry + st->stay_days,
                                person->authorised_stay_end);
            rc = on_person(user, person);
        }
    }
done:
    free(S.st);
    free(S.bucket);
    free(S.day_buf);
    free(person);
    free(rec);
    return rc;
}
