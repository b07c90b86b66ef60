/* synth: determinism, the wire format rules of docs/crossings-format.md on
 * every generated record, ICAO check digits, behaviour of the traveller
 * classes, the noise rate and its truth. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/synth.h"
#include "perimeter/travel.h"

/* ---------------- an independent checker of the wire rules ---------------- */

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "YYYY-MM-DD", "YYYY-MM" or "YYYY"; fills y/m/d (0 when absent). */
static int valid_date(const char *s, int *y, int *m, int *d)
{
    size_t n = strlen(s);
    *m = *d = 0;
    if (n != 4 && n != 7 && n != 10) return 0;
    *y = digits(s, 4);
    if (*y < 1850 || *y > 2100) return 0;
    if (n >= 7) {
        if (s[4] != '-' || (*m = digits(s + 5, 2)) < 1 || *m > 12) return 0;
    }
    if (n == 10) {
        if (s[7] != '-' || (*d = digits(s + 8, 2)) < 1 || *d > days_in(*y, *m)) return 0;
    }
    return 1;
}

static int charset(const char *s, const char *allowed, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max) return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr(allowed, s[i])) return 0;
    return 1;
}

static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int extra = *p < 0x80             ? 0
                    : (*p & 0xE0) == 0xC0 ? 1
                    : (*p & 0xF0) == 0xE0 ? 2
                    : (*p & 0xF8) == 0xF0 ? 3
                                          : -1;
        if (extra < 0) return 0;
        p++;
        for (int k = 0; k < extra; k++, p++)
            if ((*p & 0xC0) != 0x80) return 0;
    }
    return 1;
}

/* ICAO 9303 check digit, computed here independently of the library. */
static int cd(const char *s, int n)
{
    static const int w[3] = {7, 3, 1};
    int sum = 0;
    for (int i = 0; i < n; i++) {
        int v = s[i] == '<' ? 0 : (s[i] >= 'A' ? s[i] - 'A' + 10 : s[i] - '0');
        sum += v * w[i % 3];
    }
    return sum % 10;
}

#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGIT "0123456789"

static void check_record(const pm_synth_crossing_t *c, const char *a, const char *b)
{
    assert_true(charset(c->record_id, UPPER "abcdefghijklmnopqrstuvwxyz" DIGIT "._:-", 1, 64));
    assert_true(strcmp(c->reporting_country, a) == 0 || strcmp(c->reporting_country, b) == 0);
    assert_string_equal(c->direction, "entry");
    /* timestamp */
    const char *t = c->timestamp;
    assert_int_equal(strlen(t), 25);
    int y, m, d;
    char date[11];
    memcpy(date, t, 10);
    date[10] = 0;
    assert_true(valid_date(date, &y, &m, &d) && d > 0);
    assert_true(t[10] == 'T' && t[13] == ':' && t[16] == ':' && (t[19] == '+' || t[19] == '-'));
    assert_true(digits(t + 11, 2) < 24 && digits(t + 14, 2) < 60 && digits(t + 17, 2) < 60);
    assert_true(digits(t + 20, 2) <= 14 && t[22] == ':' && digits(t + 23, 2) < 60);
    assert_true(charset(c->port_code, UPPER DIGIT, 1, 16));
    const char *modes[] = {"land", "ferry", "pedestrian", "rail", "air"};
    int mode_ok = 0;
    for (int i = 0; i < 5; i++)
        mode_ok |= strcmp(c->mode, modes[i]) == 0;
    assert_true(mode_ok);
    assert_true(c->surname[0] && valid_utf8(c->surname) && valid_utf8(c->given_names) &&
                valid_utf8(c->middle_names));
    int by, bm, bd;
    assert_true(valid_date(c->date_of_birth, &by, &bm, &bd));
    assert_true(by <= y);
    assert_true(charset(c->citizenship, UPPER, 3, 3));
    assert_true(strlen(c->sex) == 1 && strchr("MFX", c->sex[0]));
    assert_true(charset(c->document_type, UPPER, 1, 2) && strchr("PIACV", c->document_type[0]));
    assert_true(charset(c->document_number, UPPER DIGIT, 1, 20));
    assert_true(charset(c->document_issuer, UPPER, 3, 3));
    if (c->mrz[0]) {
        const char *l1 = c->mrz, *bar = strchr(c->mrz, '|');
        assert_non_null(bar);
        const char *l2 = bar + 1;
        assert_int_equal(bar - l1, 44);
        assert_int_equal(strlen(l2), 44);
        assert_true(charset(l2, UPPER DIGIT "<", 44, 44));
        assert_int_equal(cd(l2, 9), l2[9] - '0');
        assert_int_equal(cd(l2 + 13, 6), l2[19] - '0');
        assert_int_equal(cd(l2 + 21, 6), l2[27] - '0');
        assert_int_equal(cd(l2 + 28, 14), l2[42] - '0');
        char comp[39];
        memcpy(comp, l2, 10);
        memcpy(comp + 10, l2 + 13, 7);
        memcpy(comp + 17, l2 + 21, 22);
        assert_int_equal(cd(comp, 39), l2[43] - '0');
        /* agreement with the fields */
        assert_int_equal(l1[0], c->document_type[0]);
        assert_memory_equal(l1 + 2, c->document_issuer, 3);
        size_t dl = strlen(c->document_number);
        assert_memory_equal(l2, c->document_number, dl);
        assert_memory_equal(l2 + 10, c->citizenship, 3);
        assert_memory_equal(l2 + 13, c->date_of_birth + 2, 2);
        assert_memory_equal(l2 + 15, c->date_of_birth + 5, 2);
        assert_memory_equal(l2 + 17, c->date_of_birth + 8, 2);
        assert_int_equal(l2[20], c->sex[0] == 'X' ? '<' : c->sex[0]);
        assert_int_equal(strncmp(l1 + 5, c->surname, strcspn(c->surname, " -'")), 0);
    }
}

/* ---------------- collecting runs ---------------- */

typedef struct collect {
    pm_synth_crossing_t *recs;
    size_t n, cap;
    pm_synth_person_t *people;
    size_t np, pcap;
    const char *a, *b;
} collect_t;

static int collect_crossing(void *user, const pm_synth_crossing_t *c)
{
    collect_t *k = user;
    check_record(c, k->a, k->b);
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 1024;
        k->recs = realloc(k->recs, k->cap * sizeof *k->recs);
        assert_non_null(k->recs);
    }
    k->recs[k->n++] = *c;
    return 0;
}

static int collect_person(void *user, const pm_synth_person_t *p)
{
    collect_t *k = user;
    if (k->np == k->pcap) {
        k->pcap = k->pcap ? k->pcap * 2 : 1024;
        k->people = realloc(k->people, k->pcap * sizeof *k->people);
        assert_non_null(k->people);
    }
    k->people[k->np++] = *p;
    return 0;
}

static void run(const pm_synth_params_t *p, collect_t *k)
{
    memset(k, 0, sizeof *k);
    k->a = p->countries[0];
    k->b = p->countries[1];
    pm_synth_t *s;
    pm_error_t err;
    assert_int_equal(pm_synth_new(p, &s, &err), PM_OK);
    assert_int_equal(pm_synth_run(s, collect_crossing, collect_person, k, &err), PM_OK);
    pm_synth_free(s);
}

static void collect_free(collect_t *k)
{
    free(k->recs);
    free(k->people);
}

static void test_check_digit_known(void **state)
{
    (void)state;
    /* the ICAO 9303 specimen passport: document L898902C3 check 6, birth
     * 740812 check 2, expiry 120415 check 9 (its personal number is left
     * empty here, which gives the composite digit 8) */
    assert_int_equal(pm_icao_check_digit("L898902C3", 9), 6);
    assert_int_equal(pm_icao_check_digit("740812", 6), 2);
    assert_int_equal(pm_icao_check_digit("120415", 6), 9);
    assert_int_equal(pm_icao_check_digit("ab", 2), -1);
    char mrz[100];
    assert_int_equal(pm_mrz_build_td3("P", "UTO", "ERIKSSON", "ANNA MARIA", "L898902C3", "UTO",
                                      "1974-08-12", 'F', "2012-04-15", mrz, sizeof mrz),
                     PM_OK);
    assert_string_equal(mrz, "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<|"
                             "L898902C36UTO7408122F1204159<<<<<<<<<<<<<<08");
    assert_int_equal(pm_mrz_build_td3("P", "UTO", "X", "", "TOOLONGNUMBER", "UTO", "1974-08-12",
                                      'F', "2012-04-15", mrz, sizeof mrz),
                     PM_EINVAL);
}

static void test_bad_params(void **state)
{
    (void)state;
    pm_synth_params_t p;
    pm_synth_t *s;
    pm_error_t err;
    pm_synth_params_default(&p);
    memcpy(p.countries[1], "ZZZ", 4);
    assert_int_equal(pm_synth_new(&p, &s, &err), PM_EINVAL);
    assert_non_null(strstr(err.msg, "ZZZ"));
    pm_synth_params_default(&p);
    p.days = 0;
    assert_int_equal(pm_synth_new(&p, &s, &err), PM_EINVAL);
    pm_synth_params_default(&p);
    p.start_month = 2;
    p.start_day = 30;
    assert_int_equal(pm_synth_new(&p, &s, &err), PM_EINVAL);
    pm_synth_params_default(&p);
    p.noise = 1.5;
    assert_int_equal(pm_synth_new(&p, &s, &err), PM_EINVAL);
}

static void test_deterministic_and_valid(void **state)
{
    (void)state;
    pm_synth_params_t p;
    pm_synth_params_default(&p);
    p.seed = 99;
    p.people = 3000;
    p.days = 10;
    p.noise = 0.05;
    collect_t k1, k2, k3;
    run(&p, &k1);
    run(&p, &k2);
    assert_true(k1.n > 1000);
    assert_int_equal(k1.n, k2.n);
    for (size_t i = 0; i < k1.n; i++)
        assert_int_equal(memcmp(&k1.recs[i], &k2.recs[i], sizeof k1.recs[i]), 0);
    p.seed = 100;
    run(&p, &k3);
    size_t same = 0;
    for (size_t i = 0; i < k1.n && i < k3.n; i++)
        same += strcmp(k1.recs[i].surname, k3.recs[i].surname) == 0 &&
                strcmp(k1.recs[i].record_id, k3.recs[i].record_id) == 0;
    assert_int_equal(same, 0); /* another seed: other people, other record ids */
    collect_free(&k1);
    collect_free(&k2);
    collect_free(&k3);
}

/* Record ids are unique per reporting country, a person's entries alternate
 * between the two countries and go forward in time, and the truth person
 * agrees with a clean record. */
static void test_consistency(void **state)
{
    (void)state;
    pm_synth_params_t p;
    pm_synth_params_default(&p);
    p.seed = 5;
    p.people = 2000;
    p.days = 21;
    collect_t k;
    run(&p, &k);
    assert_int_equal(k.np, p.people);
    int *last_side = calloc(p.people + 1, sizeof *last_side);
    int64_t *last_t = calloc(p.people + 1, sizeof *last_t);
    uint32_t *count = calloc(p.people + 1, sizeof *count);
    assert_non_null(last_side);
    assert_non_null(last_t);
    assert_non_null(count);
    size_t mrz = 0, native = 0, followed = 0;
    size_t *last_rec = calloc(p.people + 1, sizeof *last_rec);
    assert_non_null(last_rec);
    for (size_t i = 0; i < k.n; i++) {
        const pm_synth_crossing_t *c = &k.recs[i];
        /* household members cross right behind their lead, same port */
        const pm_synth_person_t *me = &k.people[c->person_id - 1];
        if (me->household_role > 0) {
            assert_int_equal(me->household_id, c->person_id - (uint64_t)me->household_role);
            size_t li = last_rec[me->household_id];
            assert_true(li > 0);
            const pm_synth_crossing_t *lc = &k.recs[li - 1];
            assert_string_equal(lc->reporting_country, c->reporting_country);
            assert_string_equal(lc->port_code, c->port_code);
            assert_true(c->time_utc - lc->time_utc > 0 && c->time_utc - lc->time_utc < 600);
            followed++;
        }
        last_rec[c->person_id] = i + 1;
        assert_true(c->person_id >= 1 && c->person_id <= p.people);
        int side = strcmp(c->reporting_country, "CAN") == 0 ? 1 : 2;
        if (last_side[c->person_id]) assert_int_not_equal(last_side[c->person_id], side);
        assert_true(c->time_utc > last_t[c->person_id]);
        last_side[c->person_id] = side;
        last_t[c->person_id] = c->time_utc;
        count[c->person_id]++;
        const pm_synth_person_t *pp = &k.people[c->person_id - 1];
        assert_int_equal(pp->person_id, c->person_id);
        int latin = strcmp(c->surname, pp->surname) == 0;
        assert_true(latin || strcmp(c->surname, pp->surname_native) == 0);
        native += !latin;
        assert_string_equal(c->date_of_birth, pp->date_of_birth);
        if (pp->has_renewal && strncmp(c->timestamp, pp->renewal.issued, 10) >= 0)
            assert_string_equal(c->document_number, pp->renewal.number);
        else
            assert_string_equal(c->document_number, pp->documents[0].number);
        mrz += c->mrz[0] != 0;
        /* the first entry of a person goes away from where the person starts */
        if (count[c->person_id] == 1)
            assert_string_not_equal(c->reporting_country, pp->start_location);
        for (size_t j = 0; j < i && j < 50; j++)
            if (strcmp(k.recs[i - 1 - j].reporting_country, c->reporting_country) == 0)
                assert_string_not_equal(k.recs[i - 1 - j].record_id, c->record_id);
    }
    for (uint32_t id = 1; id <= p.people; id++) {
        assert_int_equal(count[id], k.people[id - 1].crossings);
        if (count[id])
            assert_string_equal(k.people[id - 1].location_at_end,
                                last_side[id] == 1 ? "CAN" : "USA");
        else
            assert_string_equal(k.people[id - 1].location_at_end, k.people[id - 1].start_location);
    }
    /* about 30% of clean passport records carry an MRZ, ~10% of the records
     * of people with another written form use it */
    assert_true(mrz > k.n / 6 && mrz < k.n / 2);
    assert_true(native > k.n / 30 && native < k.n / 5);
    assert_true(followed > k.n / 20); /* families are a real share of traffic */
    size_t members = 0, same_surname = 0;
    for (size_t i = 0; i < k.np; i++) {
        const pm_synth_person_t *me = &k.people[i];
        if (me->household_role == 0) continue;
        members++;
        same_surname += strcmp(me->surname, k.people[me->household_id - 1].surname) == 0;
        assert_string_equal(me->start_location, k.people[me->household_id - 1].start_location);
        assert_int_equal(me->cls, k.people[me->household_id - 1].cls);
    }
    assert_true(members > k.np / 10 && same_surname > members / 2);
    free(last_rec);
    free(last_side);
    free(last_t);
    free(count);
    collect_free(&k);
}

static void test_class_mix_and_behaviour(void **state)
{
    (void)state;
    pm_synth_params_t p;
    pm_synth_params_default(&p);
    p.seed = 11;
    p.people = 20000;
    p.days = 14; /* 2026-01-05 is a Monday: ten weekdays */
    collect_t k;
    run(&p, &k);
    static const double want[PM_SYNTH_CLASS_COUNT] = {2, 2, 75, 8, 5, 3, 3, 2};
    size_t n[PM_SYNTH_CLASS_COUNT] = {0}, crossings[PM_SYNTH_CLASS_COUNT] = {0};
    size_t partner = 0, dual = 0, nonlatin = 0, renewals = 0;
    for (size_t i = 0; i < k.np; i++) {
        const pm_synth_person_t *pp = &k.people[i];
        n[pp->cls]++;
        crossings[pp->cls] += pp->crossings;
        partner += strcmp(pp->citizenship, "CAN") == 0 || strcmp(pp->citizenship, "USA") == 0;
        dual += pp->n_documents == 2;
        nonlatin += strcmp(pp->script, "Latin") != 0;
        if (pp->cls == PM_SYNTH_NEVER_LEAVES || pp->cls == PM_SYNTH_REMOVAL)
            assert_true(pp->crossings <= 1);
        pm_buf_t rb;
        pm_buf_init(&rb, 0);
        assert_int_equal(pm_synth_removal_csv(pp, &rb), PM_OK);
        assert_int_equal(rb.len > 0, pp->cls == PM_SYNTH_REMOVAL);
        if (rb.len)
            assert_memory_equal(rb.data, pp->removal_order_id, strlen(pp->removal_order_id));
        pm_buf_free(&rb);
        if (pp->cls == PM_SYNTH_REMOVAL) {
            assert_int_equal(pp->removal_order, 1);
            assert_int_equal(strlen(pp->removal_order_id), 12);
            assert_string_equal(pp->removal_country, pp->start_location);
            if (pp->crossings) assert_string_not_equal(pp->location_at_end, pp->removal_country);
        } else {
            assert_int_equal(pp->removal_order, 0);
        }
        if (pp->cls == PM_SYNTH_OVERSTAYER && pp->crossings == 1) {
            /* entered, stayed past the authorised end, which is inside the period */
            assert_string_not_equal(pp->location_at_end, pp->start_location);
            assert_true(pp->authorised_stay_end[0]);
            assert_true(strcmp(pp->authorised_stay_end, "2026-01-18") <= 0);
        }
        /* documents are valid for the whole period, or renewed in time */
        for (int d = 0; d < pp->n_documents; d++)
            if (d > 0 || !pp->has_renewal)
                assert_true(strcmp(pp->documents[d].expiry, "2026-01-19") > 0);
        if (pp->has_renewal) {
            renewals++;
            assert_true(strcmp(pp->renewal.expiry, "2026-01-19") > 0);
            assert_true(strcmp(pp->renewal.issued, "2026-01-05") > 0);
            assert_true(strcmp(pp->documents[0].expiry, pp->renewal.issued) >= 0);
            assert_string_not_equal(pp->renewal.number, pp->documents[0].number);
        }
    }
    for (int c = 0; c < PM_SYNTH_CLASS_COUNT; c++) {
        double share = 100.0 * (double)n[c] / (double)k.np;
        assert_true(share > want[c] * 0.8 - 0.3 && share < want[c] * 1.2 + 0.3);
    }
    /* daily commuters cross twice on most of the ten weekdays */
    double per_commuter = (double)crossings[PM_SYNTH_COMMUTER_DAILY] / (double)n[0];
    assert_true(per_commuter > 16 && per_commuter <= 20);
    /* weekly commuters: about two crossings a week */
    double per_weekly = (double)crossings[PM_SYNTH_COMMUTER_WEEKLY] / (double)n[1];
    assert_true(per_weekly > 2.5 && per_weekly <= 5);
    /* most travellers are citizens of the two partners */
    assert_true(partner > k.np * 8 / 10 && partner < k.np * 95 / 100);
    assert_true(dual > k.np / 100 && dual < k.np / 10);
    assert_true(nonlatin > k.np / 50);
    /* ~1 in 170 passports expires in a 3-week window */
    assert_true(renewals > 20 && renewals < 400);
    collect_free(&k);
}

static void test_noise_rate_and_truth(void **state)
{
    (void)state;
    pm_synth_params_t p;
    pm_synth_params_default(&p);
    p.seed = 21;
    p.people = 6000;
    p.days = 7;
    collect_t clean, noisy;
    run(&p, &clean);
    p.noise = 0.2;
    run(&p, &noisy);
    assert_int_equal(clean.n, noisy.n);
    size_t flagged = 0;
    unsigned kinds = 0;
    for (size_t i = 0; i < clean.n; i++) {
        const pm_synth_crossing_t *a = &clean.recs[i], *b = &noisy.recs[i];
        /* same country and sequence; another run tag (other parameters) */
        assert_memory_equal(a->record_id, b->record_id, 4);
        assert_string_equal(a->record_id + 12, b->record_id + 12);
        assert_memory_not_equal(a->record_id + 4, b->record_id + 4, 8);
        assert_int_equal(a->person_id, b->person_id);
        assert_int_equal(a->noise, 0);
        if (!b->noise) {
            pm_synth_crossing_t same = *b;
            memcpy(same.record_id, a->record_id, sizeof same.record_id);
            assert_int_equal(memcmp(a, &same, sizeof *a), 0);
            continue;
        }
        flagged++;
        kinds |= b->noise;
        assert_true(b->mrz[0] == 0);
        /* the flagged record really differs in what its kinds touch */
        int names = strcmp(a->surname, b->surname) || strcmp(a->given_names, b->given_names) ||
                    strcmp(a->middle_names, b->middle_names);
        int dob = strcmp(a->date_of_birth, b->date_of_birth) != 0;
        int doc = strcmp(a->document_number, b->document_number) != 0;
        if (b->noise & (PM_SYNTH_NOISE_TYPO | PM_SYNTH_NOISE_TRANSLIT | PM_SYNTH_NOISE_DROP_MIDDLE |
                        PM_SYNTH_NOISE_PARTICLE | PM_SYNTH_NOISE_ORDER))
            assert_true(names);
        if (b->noise & (PM_SYNTH_NOISE_DOB_SWAP | PM_SYNTH_NOISE_DOB_PLACEHOLDER)) assert_true(dob);
        if (b->noise & (PM_SYNTH_NOISE_OCR | PM_SYNTH_NOISE_DUAL)) assert_true(doc);
        if (b->noise & PM_SYNTH_NOISE_DUAL) assert_string_not_equal(a->citizenship, b->citizenship);
        if (!(b->noise & (PM_SYNTH_NOISE_DOB_SWAP | PM_SYNTH_NOISE_DOB_PLACEHOLDER)))
            assert_false(dob);
        char names_buf[200];
        pm_synth_noise_names(b->noise, names_buf, sizeof names_buf);
        assert_true(names_buf[0] != 0);
    }
    double rate = (double)flagged / (double)clean.n;
    /* binomial: sd = sqrt(0.2 * 0.8 / n) < 0.007 for n > 3300; allow ~3.5 sd */
    assert_true(clean.n > 3300);
    assert_true(rate > 0.2 - 0.025 && rate < 0.2 + 0.025);
    collect_free(&clean);
    collect_free(&noisy);
    /* with every record noisy, every kind shows up */
    p.noise = 1.0;
    p.people = 8000;
    run(&p, &noisy);
    kinds = 0;
    for (size_t i = 0; i < noisy.n; i++) {
        assert_int_not_equal(noisy.recs[i].noise, 0);
        kinds |= noisy.recs[i].noise;
    }
    assert_int_equal(kinds, 0x1FF);
    collect_free(&noisy);
}

static void test_split_countries_other_pair(void **state)
{
    (void)state;
    pm_synth_params_t p;
    pm_synth_params_default(&p);
    memcpy(p.countries[0], "FRA", 4);
    memcpy(p.countries[1], "DEU", 4);
    p.people = 1500;
    p.days = 5;
    p.start_year = 2026, p.start_month = 7, p.start_day = 1; /* summer time in Europe */
    collect_t k;
    run(&p, &k);
    assert_true(k.n > 100);
    for (size_t i = 0; i < k.n; i++)
        assert_string_equal(k.recs[i].timestamp + 19, "+02:00");
    collect_free(&k);
}

static void test_wire_writers(void **state)
{
    (void)state;
    pm_synth_crossing_t c;
    memset(&c, 0, sizeof c);
    snprintf(c.record_id, sizeof c.record_id, "X-1");
    snprintf(c.surname, sizeof c.surname, "O\"NEIL, JR");
    snprintf(c.mode, sizeof c.mode, "land");
    pm_buf_t b;
    pm_buf_init(&b, 0);
    assert_int_equal(pm_synth_crossing_csv(&c, &b), PM_OK);
    assert_non_null(strstr((char *)b.data, "\"O\"\"NEIL, JR\""));
    pm_buf_reset(&b);
    assert_int_equal(pm_synth_crossing_jsonl(&c, &b), PM_OK);
    assert_non_null(strstr((char *)b.data, "\"surname\":\"O\\\"NEIL, JR\""));
    assert_null(strstr((char *)b.data, "\"mrz\""));
    pm_buf_reset(&b);
    assert_int_equal(pm_synth_csv_header(&b), PM_OK);
    assert_string_equal((char *)b.data,
                        "record_id,reporting_country,direction,timestamp,port_code,mode,surname,"
                        "given_names,middle_names,date_of_birth,citizenship,sex,document_type,"
                        "document_number,document_issuer,mrz,admission_class,stay_until\n");
    /* admission data in JSON Lines only when present */
    snprintf(c.admission_class, sizeof c.admission_class, "visitor");
    snprintf(c.stay_until, sizeof c.stay_until, "2026-05-30");
    pm_buf_reset(&b);
    assert_int_equal(pm_synth_crossing_jsonl(&c, &b), PM_OK);
    assert_non_null(strstr((char *)b.data, "\"admission_class\":\"visitor\",\"stay_until\":\"2026-05-30\""));
    pm_buf_free(&b);
}

/* Person master round trip, sampling, watchlist hits with truth, manifests. */
static void test_watchlist_and_manifest(void **state)
{
    (void)state;
    pm_synth_params_t p;
    pm_synth_params_default(&p);
    p.seed = 77;
    p.people = 3000;
    p.days = 3;
    collect_t k;
    run(&p, &k);
    pm_buf_t b;
    pm_buf_init(&b, 0);
    assert_int_equal(pm_synth_people_header(&b), PM_OK);
    for (size_t i = 0; i < k.np; i++)
        assert_int_equal(pm_synth_person_csv(&k.people[i], &b), PM_OK);
    char *dir = pm_test_tmpdir();
    assert_non_null(dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/people.csv", dir);
    pm_error_t err;
    assert_int_equal(pm_file_write_atomic(path, b.data, b.len, &err), PM_OK);
    pm_buf_free(&b);

    /* sampling: k distinct people, equal to the originals, deterministic */
    pm_synth_person_t *s1, *s2;
    size_t n1, n2;
    assert_int_equal(pm_synth_people_sample(path, 200, 5, &s1, &n1, &err), PM_OK);
    assert_int_equal(pm_synth_people_sample(path, 200, 5, &s2, &n2, &err), PM_OK);
    assert_int_equal(n1, 200);
    assert_int_equal(n2, 200);
    char *seen = calloc(p.people + 1, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < n1; i++) {
        assert_int_equal(s1[i].person_id, s2[i].person_id);
        assert_true(s1[i].person_id >= 1 && s1[i].person_id <= p.people);
        assert_false(seen[s1[i].person_id]);
        seen[s1[i].person_id] = 1;
        const pm_synth_person_t *o = &k.people[s1[i].person_id - 1];
        assert_string_equal(s1[i].surname, o->surname);
        assert_string_equal(s1[i].given_names_native, o->given_names_native);
        assert_string_equal(s1[i].date_of_birth, o->date_of_birth);
        assert_int_equal(s1[i].n_documents, o->n_documents);
        assert_string_equal(s1[i].documents[o->n_documents - 1].number,
                            o->documents[o->n_documents - 1].number);
        assert_int_equal(s1[i].cls, o->cls);
    }
    free(seen);
    free(s2);

    /* watchlist: size rows, exactly the hits in the truth, each a recognisable
     * spelling of its person */
    pm_buf_t wl, tr;
    pm_buf_init(&wl, 0);
    pm_buf_init(&tr, 0);
    assert_int_equal(pm_synth_watchlist(s1, 40, 500, 9, &wl, &tr, &err), PM_OK);
    assert_int_equal(pm_synth_watchlist(s1, 40, 30, 9, &wl, &tr, &err), PM_EINVAL);
    size_t rows = 0, hits = 0;
    for (size_t i = 0; i < wl.len; i++)
        rows += wl.data[i] == '\n';
    assert_int_equal(rows, 501);
    /* walk the truth: "WLnnnnnnn,<id>" */
    const char *t = strchr((const char *)tr.data, '\n') + 1; /* after the header */
    while (t < (const char *)tr.data + tr.len) {
        const char *comma = strchr(t, ',');
        assert_non_null(comma);
        if (comma[1] != '\n' && comma[1] != '\0') {
            unsigned long long pid = strtoull(comma + 1, NULL, 10);
            const pm_synth_person_t *o = &k.people[pid - 1];
            /* find the entry's row */
            char id[16];
            memcpy(id, t, 9);
            id[9] = 0;
            const char *row = strstr((const char *)wl.data, id);
            assert_non_null(row);
            const char *sur = row + 10;
            const char *given = strchr(sur, ',') + 1;
            size_t sl = strlen(o->surname), nl = strlen(o->surname_native);
            size_t g1 = strcspn(o->given_names, " "), gn = strcspn(o->given_names_native, " ");
            int ok = (strncmp(sur, o->surname, sl) == 0 && sur[sl] == ',') ||
                     (strncmp(sur, o->surname_native, nl) == 0 && sur[nl] == ',') ||
                     strncmp(given, o->given_names, g1) == 0 ||
                     strncmp(given, o->given_names_native, gn) == 0;
            assert_true(ok);
            hits++;
        }
        t = strchr(t, '\n');
        if (!t) break;
        t++;
    }
    assert_int_equal(hits, 40);
    pm_buf_free(&wl);
    pm_buf_free(&tr);

    /* manifest: one row per passenger, spread over the flights */
    pm_synth_manifest_params_t mp;
    pm_synth_manifest_params_default(&mp);
    mp.flights = 4;
    mp.noise = 0.5;
    pm_buf_t mf, mt;
    pm_buf_init(&mf, 0);
    pm_buf_init(&mt, 0);
    assert_int_equal(pm_synth_manifest(s1, n1, &mp, &mf, &mt, &err), PM_OK);
    rows = 0;
    size_t noisy = 0;
    for (size_t i = 0; i < mf.len; i++)
        rows += mf.data[i] == '\n';
    assert_int_equal(rows, n1 + 1);
    for (const char *q = (const char *)mt.data; (q = strchr(q, '\n')) != NULL; q++)
        noisy += q[1] && q[-1] != ',' && q != (const char *)mt.data;
    assert_true(noisy > 60 && noisy < 140);             /* ~100 of 200 */
    assert_null(strstr((const char *)mf.data, ",I,C")); /* no passport cards in the air */
    mp.flights = 0;
    assert_int_equal(pm_synth_manifest(s1, n1, &mp, &mf, &mt, &err), PM_EINVAL);
    pm_buf_free(&mf);
    pm_buf_free(&mt);
    free(s1);

    /* in memory, with quoted fields and missing optional columns */
    static const char mini[] = "person_id,surname,date_of_birth,citizenship\n"
                               "1,\"O\"\"BRIEN, JR\",1970,IRL\n2,X,,\n";
    assert_int_equal(pm_synth_people_sample_mem(mini, sizeof mini - 1, 10, 1, &s1, &n1, &err),
                     PM_OK);
    assert_int_equal(n1, 2);
    assert_true(strcmp(s1[0].surname, "O\"BRIEN, JR") == 0 ||
                strcmp(s1[1].surname, "O\"BRIEN, JR") == 0);
    free(s1);
    static const char broken[] = "person_id,surname,date_of_birth,citizenship\n1,\"X,1970,IRL\n";
    assert_int_equal(pm_synth_people_sample_mem(broken, sizeof broken - 1, 10, 1, &s1, &n1, &err),
                     PM_EFORMAT);
    assert_non_null(strstr(err.msg, "line 2"));

    /* a file that is not a person master */
    snprintf(path, sizeof path, "%s/bad.csv", dir);
    assert_int_equal(pm_file_write_atomic(path, "a,b\n1,2\n", 8, &err), PM_OK);
    assert_int_equal(pm_synth_people_sample(path, 5, 1, &s1, &n1, &err), PM_EFORMAT);
    assert_non_null(strstr(err.msg, "person_id"));
    snprintf(path, sizeof path, "%s/missing.csv", dir);
    assert_int_equal(pm_synth_people_sample(path, 5, 1, &s1, &n1, &err), PM_ENOTFOUND);
    pm_test_rmdir(dir);
    free(dir);
    collect_free(&k);
}

/* North American daylight saving: 2026-03-08 02:00 local does not exist;
 * offsets move one hour east from then on. */
static void test_daylight_saving(void **state)
{
    (void)state;
    pm_synth_params_t p;
    pm_synth_params_default(&p);
    p.seed = 3;
    p.people = 20000;
    p.days = 3;
    p.start_year = 2026, p.start_month = 3, p.start_day = 7;
    collect_t k;
    run(&p, &k);
    size_t before = 0, after = 0;
    for (size_t i = 0; i < k.n; i++) {
        const char *t = k.recs[i].timestamp;
        int off = -(digits(t + 20, 2) * 60 + digits(t + 23, 2));
        int64_t local = k.recs[i].time_utc + off * 60;
        assert_int_equal(off, k.recs[i].utc_offset_min);
        /* the wire text is the UTC instant in the local offset */
        assert_int_equal(digits(t + 11, 2), (int)(local % 86400 / 3600));
        if (strncmp(t, "2026-03-07", 10) == 0) {
            assert_true(off <= -240 && off >= -480); /* AST/EST/CST/MST/PST */
            before++;
        } else if (strncmp(t, "2026-03-09", 10) == 0) {
            assert_true(off <= -180 && off >= -420); /* ADT .. PDT */
            after++;
        } else if (strncmp(t, "2026-03-08", 10) == 0) {
            assert_int_not_equal(digits(t + 11, 2), 2);
        }
    }
    assert_true(before > 100 && after > 100);
    collect_free(&k);
}

/* The travel module's own reader and validator accept every generated record,
 * CSV and JSON Lines, noise included (the agreed wire format). */
typedef struct two_bufs {
    pm_buf_t csv, jsonl;
    size_t n;
} two_bufs_t;

static int to_bufs(void *user, const pm_synth_crossing_t *c)
{
    two_bufs_t *b = user;
    b->n++;
    int rc = pm_synth_crossing_csv(c, &b->csv);
    return rc ? rc : pm_synth_crossing_jsonl(c, &b->jsonl);
}

static void reader_accepts(const pm_buf_t *b, pm_crossing_format_t fmt, size_t want)
{
    pm_crossing_reader_t *r;
    pm_error_t err;
    assert_int_equal(pm_crossing_reader_open_mem((const char *)b->data, b->len, fmt, &r, &err),
                     PM_OK);
    pm_crossing_t *c = malloc(sizeof *c);
    assert_non_null(c);
    size_t good = 0;
    int rc;
    while ((rc = pm_crossing_reader_next(r, c, NULL, &err)) != 0) {
        if (rc != 1) fail_msg("record rejected: %s", pm_error_text(&err));
        assert_true(pm_country_is_valid(c->citizenship));
        assert_true(pm_country_is_valid(c->document_issuer));
        good++;
    }
    assert_int_equal(good, want);
    free(c);
    pm_crossing_reader_free(r);
}

static void test_travel_reader_accepts(void **state)
{
    (void)state;
    pm_synth_params_t p;
    pm_synth_params_default(&p);
    p.seed = 404;
    p.people = 4000;
    p.days = 10;
    p.noise = 0.3;
    p.native_share = 0.3;
    p.mrz_share = 0.8;
    two_bufs_t b;
    memset(&b, 0, sizeof b);
    pm_buf_init(&b.csv, 0);
    pm_buf_init(&b.jsonl, 0);
    assert_int_equal(pm_synth_csv_header(&b.csv), PM_OK);
    pm_synth_t *s;
    pm_error_t err;
    assert_int_equal(pm_synth_new(&p, &s, &err), PM_OK);
    assert_int_equal(pm_synth_run(s, to_bufs, NULL, &b, &err), PM_OK);
    pm_synth_free(s);
    assert_true(b.n > 2000);
    reader_accepts(&b.csv, PM_CROSSING_FORMAT_CSV, b.n);
    reader_accepts(&b.jsonl, PM_CROSSING_FORMAT_JSONL, b.n);
    pm_buf_free(&b.csv);
    pm_buf_free(&b.jsonl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_digit_known),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_deterministic_and_valid),
        cmocka_unit_test(test_consistency),
        cmocka_unit_test(test_class_mix_and_behaviour),
        cmocka_unit_test(test_noise_rate_and_truth),
        cmocka_unit_test(test_split_countries_other_pair),
        cmocka_unit_test(test_wire_writers),
        cmocka_unit_test(test_watchlist_and_manifest),
        cmocka_unit_test(test_daylight_saving),
        cmocka_unit_test(test_travel_reader_accepts),
    };
    return PM_RUN_TESTS("synth", tests, NULL, NULL);
}
