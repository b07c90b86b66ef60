/* synth: watchlists (seeded true hits drawn from a population, the rest
 * invented) and APIS-like passenger manifests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth/synth_int.h"

static const char *const reasons[] = {"immigration_violation", "criminal_warrant", "removal_order",
                                      "lost_stolen_document", "security"};
static const double reason_w[] = {40, 25, 20, 10, 5};

/* "SURNAME, GIVEN NAMES" of a record's names into out. */
static void full_name(const pm_synth_crossing_t *c, char *out, size_t cap)
{
    pm__strlcpy(out, c->surname, cap);
    if (c->given_names[0]) {
        pm__strlcat(out, ", ", cap);
        pm__strlcat(out, c->given_names, cap);
    }
}

/* One alias of a person (a spelling a watchlist might hold); 0 if none made. */
static int make_alias(pm__rng_t *r, const pm_synth_person_t *p, char *out, size_t cap)
{
    pm_synth_crossing_t c;
    pm__crossing_from_person(p, 0, &c);
    c.middle_names[0] = '\0';
    double w[5] = {35, 20, 15, 15, 15};
    switch (pm__rng_weighted(r, w, 5)) {
    case 0: /* another transliteration */
        if (!pm__noise_apply_kind(r, PM_SYNTH_NOISE_TRANSLIT, p, &c) &&
            !pm__noise_apply_kind(r, PM_SYNTH_NOISE_TYPO, p, &c))
            return 0;
        break;
    case 1: /* as written in the person's own script */
        if (strcmp(p->surname_native, p->surname) == 0 || !p->surname_native[0]) return 0;
        pm__strlcpy(c.surname, p->surname_native, sizeof c.surname);
        pm__strlcpy(c.given_names, p->given_names_native, sizeof c.given_names);
        break;
    case 2: /* name order the other way round */
        if (!pm__noise_apply_kind(r, PM_SYNTH_NOISE_ORDER, p, &c)) return 0;
        break;
    case 3: { /* another surname (married, maiden or an assumed one) */
        const pm__culture_t *cul = pm__culture_find(p->culture ? p->culture : "");
        if (!cul) cul = pm__culture_find("anglo");
        const pm__name_t *s = &cul->surnames[pm__rng_below(r, (uint32_t)cul->n_surnames)];
        if (strcmp(s->latin, p->surname) == 0) return 0;
        pm__strlcpy(c.surname, s->latin, sizeof c.surname);
        break;
    }
    default: /* particle dropped or joined, else a typo */
        if (!pm__noise_apply_kind(r, PM_SYNTH_NOISE_PARTICLE, p, &c) &&
            !pm__noise_apply_kind(r, PM_SYNTH_NOISE_TYPO, p, &c))
            return 0;
        break;
    }
    full_name(&c, out, cap);
    return 1;
}

/* Share of entries (other than lost/stolen documents, which always list one)
 * that know one of the person's travel documents. */
#define WL_DOCUMENT_SHARE 0.5

static int entry_row(pm__rng_t *r, pm__rng_t *dr, const pm_synth_person_t *p, uint32_t seq,
                     pm_buf_t *wl)
{
    pm_synth_crossing_t c;
    pm__crossing_from_person(p, 0, &c);
    /* the primary name as the list holds it */
    double nw[4] = {50, 25, 15, 10};
    switch (pm__rng_weighted(r, nw, 4)) {
    case 1:
        if (!pm__noise_apply_kind(r, PM_SYNTH_NOISE_TRANSLIT, p, &c))
            pm__noise_apply_kind(r, PM_SYNTH_NOISE_TYPO, p, &c);
        break;
    case 2:
        c.middle_names[0] = '\0';
        break;
    case 3:
        if (p->surname_native[0] && strcmp(p->surname_native, p->surname) != 0 && p->script &&
            strcmp(p->script, "Latin") != 0) {
            pm__strlcpy(c.surname, p->surname_native, sizeof c.surname);
            pm__strlcpy(c.given_names, p->given_names_native, sizeof c.given_names);
            pm__strlcpy(c.middle_names, p->middle_names_native, sizeof c.middle_names);
        }
        break;
    default:
        break;
    }
    char given[2 * PM_SYNTH_NAME_MAX + 2];
    pm__strlcpy(given, c.given_names, sizeof given);
    if (c.middle_names[0]) {
        pm__strlcat(given, " ", sizeof given);
        pm__strlcat(given, c.middle_names, sizeof given);
    }
    /* aliases */
    char primary[3 * PM_SYNTH_NAME_MAX + 4];
    full_name(&c, primary, sizeof primary);
    char aliases[4 * (2 * PM_SYNTH_NAME_MAX + 4)] = "";
    double aw[4] = {40, 35, 20, 5};
    size_t na = pm__rng_weighted(r, aw, 4);
    for (size_t k = 0, tries = 0; k < na && tries < 8; tries++) {
        char a[2 * PM_SYNTH_NAME_MAX + 4];
        if (!make_alias(r, p, a, sizeof a) || strstr(aliases, a) || strcmp(a, primary) == 0)
            continue;
        if (aliases[0]) pm__strlcat(aliases, ";", sizeof aliases);
        pm__strlcat(aliases, a, sizeof aliases);
        k++;
    }
    /* date of birth: mostly as known, sometimes only the year, or day and month
     * the other way round, or unknown */
    char dob[11];
    pm__strlcpy(dob, p->date_of_birth, sizeof dob);
    double dw[4] = {70, 15, 7, 8};
    switch (pm__rng_weighted(r, dw, 4)) {
    case 1:
        dob[4] = '\0';
        break;
    case 2:
        pm__strlcpy(c.date_of_birth, dob, sizeof c.date_of_birth);
        if (pm__noise_apply_kind(r, PM_SYNTH_NOISE_DOB_SWAP, p, &c))
            pm__strlcpy(dob, c.date_of_birth, sizeof dob);
        break;
    case 3:
        dob[0] = '\0';
        break;
    default:
        break;
    }
    char sex[2] = {pm__rng_chance(r, 0.9) ? p->sex : '\0', '\0'};
    const char *cit = p->citizenship;
    if (p->n_documents > 1 && pm__rng_chance(r, 0.3))
        cit = p->documents[1].nationality;
    else if (pm__rng_chance(r, 0.1))
        cit = "";
    char id[16];
    snprintf(id, sizeof id, "WL%07u", seq);
    size_t reason = pm__rng_weighted(r, reason_w, 5);
    /* a known document (its own stream: the other fields stay as they were) */
    const char *docn = "", *doci = "";
    if (strcmp(reasons[reason], "lost_stolen_document") == 0 ||
        pm__rng_chance(dr, WL_DOCUMENT_SHARE)) {
        const pm_synth_document_t *d = &p->documents[0];
        if (p->n_documents > 1 && pm__rng_chance(dr, 0.2)) d = &p->documents[1];
        docn = d->number;
        doci = d->issuer;
    }
    const char *v[10] = {id,  c.surname, given, aliases,         dob,
                         sex, cit,       docn,  doci, reasons[reason]};
    int rc = 0;
    for (int i = 0; i < 10 && rc == 0; i++) {
        if (i) rc = pm_buf_append(wl, ",", 1);
        if (rc == 0) rc = pm_synth_csv_field(wl, v[i]);
    }
    return rc ? rc : pm_buf_append(wl, "\n", 1);
}

int pm_synth_watchlist(const pm_synth_person_t *hits, size_t n_hits, uint32_t size, uint64_t seed,
                       pm_buf_t *wl, pm_buf_t *truth, pm_error_t *err)
{
    if (n_hits > size)
        return pm_error_set(err, PM_EINVAL, "%zu hits do not fit in a watchlist of %u", n_hits,
                            size);
    /* invented people come from a population model of their own seed */
    pm_synth_params_t params;
    pm_synth_params_default(&params);
    params.seed = seed ^ 0x5741544348ull;
    params.people = size ? size : 1;
    pm__model_t *m = malloc(sizeof *m);
    int64_t *order = malloc(((size_t)size + 1) * sizeof *order);
    pm_synth_person_t *tmp = malloc(sizeof *tmp);
    int rc = PM_OK;
    if (!m || !order || !tmp) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory for a watchlist of %u", size);
        goto done;
    }
    if ((rc = pm__model_init(m, &params, err)) != 0) goto done;
    m->tcn_override = 0.5; /* lists hold more foreign nationals than the traffic */
    /* entry k is hit k (k < n_hits) or invented person k - n_hits + 1; shuffled */
    pm__rng_t r;
    pm__rng_seed(&r, seed, 0x574C00ull, 0, 0);
    for (uint32_t k = 0; k < size; k++)
        order[k] = k;
    for (uint32_t k = size; k > 1; k--) {
        uint32_t j = pm__rng_below(&r, k);
        int64_t t = order[k - 1];
        order[k - 1] = order[j];
        order[j] = t;
    }
    rc = pm_buf_append_str(wl, "watchlist_id,surname,given_names,aliases,date_of_birth,sex,"
                               "citizenship,document_number,document_issuer,reason\n");
    if (rc == 0 && truth) rc = pm_buf_append_str(truth, "watchlist_id,person_id\n");
    for (uint32_t k = 0; k < size && rc == 0; k++) {
        pm__rng_t er, dr;
        pm__rng_seed(&er, seed, 0x574C01ull, k, 0);
        pm__rng_seed(&dr, seed, 0x574C02ull, k, 0);
        const pm_synth_person_t *p;
        if ((size_t)order[k] < n_hits) {
            p = &hits[order[k]];
        } else {
            pm__person_make(m, (uint64_t)(order[k] - (int64_t)n_hits) + 1, tmp, NULL);
            p = tmp;
        }
        rc = entry_row(&er, &dr, p, k + 1, wl);
        if (rc == 0 && truth) {
            if ((size_t)order[k] < n_hits)
                rc = pm_buf_printf(truth, "WL%07u,%llu\n", k + 1, (unsigned long long)p->person_id);
            else
                rc = pm_buf_printf(truth, "WL%07u,\n", k + 1);
        }
    }
    if (rc) rc = pm_error_set(err, rc, "watchlist: %s", pm_strerror(rc));
done:
    free(m);
    free(order);
    free(tmp);
    return rc;
}

/* ---------------- manifests ---------------- */

void pm_synth_manifest_params_default(pm_synth_manifest_params_t *mp)
{
    memset(mp, 0, sizeof *mp);
    mp->seed = 1;
    memcpy(mp->countries[0], "CAN", 4);
    memcpy(mp->countries[1], "USA", 4);
    mp->year = 2026, mp->month = 1, mp->day = 5;
    mp->flights = 10;
}

typedef struct airport {
    char code[4];
    int16_t std;
    uint8_t dst;
} airport_t;

static const airport_t can_airports[] = {{"YYZ", -300, PM__DST_NA}, {"YUL", -300, PM__DST_NA},
                                         {"YVR", -480, PM__DST_NA}, {"YYC", -420, PM__DST_NA},
                                         {"YOW", -300, PM__DST_NA}, {"YEG", -420, PM__DST_NA},
                                         {"YWG", -360, PM__DST_NA}, {"YHZ", -240, PM__DST_NA}};
static const airport_t usa_airports[] = {
    {"JFK", -300, PM__DST_NA}, {"LGA", -300, PM__DST_NA}, {"ORD", -360, PM__DST_NA},
    {"LAX", -480, PM__DST_NA}, {"SFO", -480, PM__DST_NA}, {"BOS", -300, PM__DST_NA},
    {"MIA", -300, PM__DST_NA}, {"SEA", -480, PM__DST_NA}, {"DEN", -420, PM__DST_NA},
    {"ATL", -300, PM__DST_NA}, {"DFW", -360, PM__DST_NA}, {"LAS", -480, PM__DST_NA}};
static const char *const can_carriers[] = {"AC", "WS", "PD"};
static const char *const usa_carriers[] = {"AA", "UA", "DL", "AS", "B6"};

/* Airports and carriers of a country: the tables for CAN/USA, else generic
 * codes made from the country code. */
static size_t airports_of(const char *cc, airport_t *buf, size_t cap, const char **carrier,
                          pm__rng_t *r, char gen_carrier[3])
{
    if (strcmp(cc, "CAN") == 0 || strcmp(cc, "USA") == 0) {
        int can = cc[0] == 'C';
        const airport_t *t = can ? can_airports : usa_airports;
        size_t n = can ? sizeof can_airports / sizeof *t : sizeof usa_airports / sizeof *t;
        n = n < cap ? n : cap;
        memcpy(buf, t, n * sizeof *t);
        *carrier = can ? can_carriers[pm__rng_below(r, 3)] : usa_carriers[pm__rng_below(r, 5)];
        return n;
    }
    const pm__country_t *c = pm__country_find(cc);
    size_t n = 3 < cap ? 3 : cap;
    for (size_t i = 0; i < n; i++) {
        buf[i].code[0] = cc[0];
        buf[i].code[1] = cc[1];
        buf[i].code[2] = (char)('X' + i);
        buf[i].code[3] = '\0';
        buf[i].std = (int16_t)(c ? c->std_offset_min : 0);
        buf[i].dst = c ? c->dst : 0;
    }
    gen_carrier[0] = cc[0];
    gen_carrier[1] = (char)('1' + pm__rng_below(r, 3));
    gen_carrier[2] = '\0';
    *carrier = gen_carrier;
    return n;
}

static void local_ts(int64_t utc, int off, char out[32])
{
    int64_t local = utc + (int64_t)off * 60;
    int64_t d = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t s = local - d * 86400;
    char date[11];
    pm__format_date(d, date);
    int a = off < 0 ? -off : off;
    snprintf(out, 32, "%sT%02d:%02d:%02d%c%02d:%02d", date, (int)(s / 3600), (int)(s / 60 % 60),
             (int)(s % 60), off < 0 ? '-' : '+', a / 60, a % 60);
}

int pm_synth_manifest(const pm_synth_person_t *passengers, size_t n,
                      const pm_synth_manifest_params_t *mp, pm_buf_t *out, pm_buf_t *truth,
                      pm_error_t *err)
{
    if (mp->flights < 1 || mp->flights > 100000)
        return pm_error_set(err, PM_EINVAL, "flights must be 1..100000");
    if (!(mp->noise >= 0 && mp->noise <= 1))
        return pm_error_set(err, PM_EINVAL, "noise must be in 0..1");
    if (mp->year < 1990 || mp->year > 2090 || mp->month < 1 || mp->month > 12 || mp->day < 1 ||
        mp->day > pm__days_in_month(mp->year, mp->month))
        return pm_error_set(err, PM_EINVAL, "departure date is not a valid date");
    for (int i = 0; i < 2; i++)
        if (!pm__country_find(mp->countries[i]))
            return pm_error_set(err, PM_EINVAL, "country '%s' is not one synth knows",
                                mp->countries[i]);
    int rc = pm_buf_append_str(
        out, "flight_id,flight,departure_port,arrival_port,scheduled_departure,"
             "scheduled_arrival,passenger_seq,pnr,surname,given_names,middle_names,"
             "date_of_birth,sex,citizenship,residence,document_type,document_number,"
             "document_issuer,document_expiry\n");
    if (rc == 0 && truth)
        rc = pm_buf_append_str(truth, "flight_id,passenger_seq,person_id,noise\n");
    int64_t day0 = pm_days_from_civil(mp->year, mp->month, mp->day);
    for (uint32_t f = 0; f < mp->flights && rc == 0; f++) {
        pm__rng_t r;
        pm__rng_seed(&r, mp->seed, 0x464C54ull, f, 0);
        int from = (int)(f & 1);
        airport_t dep_a[16], arr_a[16];
        const char *carrier, *carrier2;
        char gc[3], gc2[3];
        size_t nd = airports_of(mp->countries[from], dep_a, 16, &carrier, &r, gc);
        size_t na = airports_of(mp->countries[1 - from], arr_a, 16, &carrier2, &r, gc2);
        const airport_t *dep = &dep_a[pm__rng_below(&r, (uint32_t)nd)];
        const airport_t *arr = &arr_a[pm__rng_below(&r, (uint32_t)na)];
        if (pm__rng_chance(&r, 0.4)) carrier = carrier2;
        char flight[8], flight_id[32];
        snprintf(flight, sizeof flight, "%s%04u", carrier, 100 + pm__rng_below(&r, 9000));
        int64_t day = day0 + f / 8; /* eight flights a day */
        int dep_secs = 6 * 3600 + (int)pm__rng_below(&r, 16 * 3600);
        dep_secs -= dep_secs % 300;
        int dep_off = pm__utc_offset(dep->std, dep->dst, day, dep_secs / 3600);
        int64_t dep_utc = day * 86400 + dep_secs - (int64_t)dep_off * 60;
        int zone_h = abs(dep->std - arr->std) / 60;
        int64_t arr_utc = dep_utc + (75 + 45 * zone_h + (int)pm__rng_below(&r, 40)) * 60;
        int arr_off = pm__utc_offset(arr->std, arr->dst, (arr_utc + arr->std * 60) / 86400,
                                     (int)((arr_utc + arr->std * 60) % 86400 / 3600));
        char dts[32], ats[32], date[11];
        local_ts(dep_utc, dep_off, dts);
        local_ts(arr_utc, arr_off, ats);
        pm__format_date(day, date);
        snprintf(flight_id, sizeof flight_id, "%s-%s", flight, date);
        size_t lo = (size_t)((uint64_t)n * f / mp->flights);
        size_t hi = (size_t)((uint64_t)n * (f + 1) / mp->flights);
        char pnr[7] = "";
        for (size_t k = lo; k < hi && rc == 0; k++) {
            const pm_synth_person_t *p = &passengers[k];
            /* families and groups share a booking */
            if (k == lo || pm__rng_chance(&r, 0.6)) {
                static const char al[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
                for (int i = 0; i < 6; i++)
                    pnr[i] = al[pm__rng_below(&r, sizeof al - 1)];
                pnr[6] = '\0';
            }
            pm_synth_crossing_t c;
            pm__crossing_from_person(p, 0, &c);
            int renewed = p->has_renewal && strcmp(date, p->renewal.issued) >= 0;
            if (renewed)
                pm__strlcpy(c.document_number, p->renewal.number, sizeof c.document_number);
            unsigned noise = 0;
            if (pm__rng_unit(&r) < mp->noise) noise = pm__noise_apply(&r, p, &c);
            const pm_synth_document_t *d = renewed ? &p->renewal : &p->documents[0];
            if (noise & PM_SYNTH_NOISE_DUAL) d = &p->documents[1];
            if (c.document_type[0] == 'I') {
                /* a passport card is not valid for air travel: the person's
                 * passport (number derived from the person id) */
                uint64_t x = p->person_id ^ 0x50415353ull;
                uint64_t h = pm__splitmix64(&x);
                snprintf(c.document_number, sizeof c.document_number, "%09llu",
                         (unsigned long long)(h % 1000000000ull));
                pm__strlcpy(c.document_type, "P", sizeof c.document_type);
            }
            char seq[16];
            snprintf(seq, sizeof seq, "%zu", k - lo + 1);
            const char *v[19] = {flight_id,
                                 flight,
                                 dep->code,
                                 arr->code,
                                 dts,
                                 ats,
                                 seq,
                                 pnr,
                                 c.surname,
                                 c.given_names,
                                 c.middle_names,
                                 c.date_of_birth,
                                 c.sex,
                                 c.citizenship,
                                 p->residence,
                                 c.document_type,
                                 c.document_number,
                                 c.document_issuer,
                                 d->expiry};
            for (int i = 0; i < 19 && rc == 0; i++) {
                if (i) rc = pm_buf_append(out, ",", 1);
                if (rc == 0) rc = pm_synth_csv_field(out, v[i]);
            }
            if (rc == 0) rc = pm_buf_append(out, "\n", 1);
            if (rc == 0 && truth) {
                char nn[160];
                pm_synth_noise_names(noise, nn, sizeof nn);
                rc = pm_buf_printf(truth, "%s,%s,%llu,%s\n", flight_id, seq,
                                   (unsigned long long)p->person_id, nn);
            }
        }
    }
    if (rc) return pm_error_set(err, rc, "manifest: %s", pm_strerror(rc));
    return PM_OK;
}
