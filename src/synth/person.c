/* synth: the population model and one person's static facts (class,
 * nationality, names in both forms, sex, date of birth, documents). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "synth/synth_int.h"

/* Share of people per class, per cent (docs/synth.md). */
static const double class_share[PM_SYNTH_CLASS_COUNT] = {2, 2, 75, 8, 5, 3, 3, 2};
/* Households travel together: sizes 1..5 per class (visitors and long stays:
 * families; snowbirds: couples; the others travel alone). */
static const double hh_sizes[PM_SYNTH_CLASS_COUNT][5] = {
    {1}, {1}, {55, 25, 10, 7, 3}, {55, 25, 10, 7, 3}, {40, 60}, {1}, {1}, {1}};
/* Mean household size per class (for the lead weights below). */
static const double hh_mean[PM_SYNTH_CLASS_COUNT] = {1, 1, 1.78, 1.78, 1.6, 1, 1, 1};
#define HH_BLOCK 16 /* households never straddle blocks of 16 person ids */

static pm_synth_class_t draw_class(const pm__model_t *m, uint64_t pid, pm__rng_t *r)
{
    pm__rng_seed(r, m->params.seed, pid, 0x5045525301ull, 0);
    return (pm_synth_class_t)pm__rng_weighted(r, m->lead_w, PM_SYNTH_CLASS_COUNT);
}

/* Household of person pid: its lead, its role (0 = lead or alone) and the size. */
static void household_of(const pm__model_t *m, uint64_t pid, uint64_t *lead, int *role, int *size)
{
    uint64_t first = (pid - 1) / HH_BLOCK * HH_BLOCK + 1;
    uint64_t last = first + HH_BLOCK - 1;
    if (last > m->params.people) last = m->params.people;
    uint64_t i = first;
    for (;;) {
        pm__rng_t r;
        pm_synth_class_t c = draw_class(m, i, &r);
        pm__rng_t hr;
        pm__rng_seed(&hr, m->params.seed, i, 0x484F555345ull, 0);
        int n = 1 + (int)pm__rng_weighted(&hr, hh_sizes[c], 5);
        if (i + (uint64_t)n - 1 > last) n = (int)(last - i + 1);
        if (pid < i + (uint64_t)n) {
            *lead = i;
            *role = (int)(pid - i);
            *size = n;
            return;
        }
        i += (uint64_t)n;
    }
}

int pm__model_init(pm__model_t *m, const pm_synth_params_t *p, pm_error_t *err)
{
    memset(m, 0, sizeof *m);
    m->params = *p;
    for (int i = 0; i < 2; i++) {
        m->side[i] = pm__country_find(p->countries[i]);
        if (!m->side[i] || p->countries[i][0] == 'X')
            return pm_error_set(err, PM_EINVAL,
                                "country '%s' is not one synth knows (e.g. CAN, USA, MEX, FRA, "
                                "DEU, GBR)",
                                p->countries[i]);
    }
    if (m->side[0] == m->side[1])
        return pm_error_set(err, PM_EINVAL, "the two countries must differ");
    if (p->people < 1 || p->people > PM_SYNTH_MAX_PEOPLE)
        return pm_error_set(err, PM_EINVAL, "people must be 1..%u", PM_SYNTH_MAX_PEOPLE);
    if (p->days < 1 || p->days > PM_SYNTH_MAX_DAYS)
        return pm_error_set(err, PM_EINVAL, "days must be 1..%u", PM_SYNTH_MAX_DAYS);
    if (p->start_year < 1990 || p->start_year > 2090 || p->start_month < 1 || p->start_month > 12 ||
        p->start_day < 1 || p->start_day > pm__days_in_month(p->start_year, p->start_month))
        return pm_error_set(err, PM_EINVAL, "start date %04d-%02d-%02d is not a valid date",
                            p->start_year, p->start_month, p->start_day);
    if (!(p->noise >= 0 && p->noise <= 1) || !(p->mrz_share >= 0 && p->mrz_share <= 1) ||
        !(p->native_share >= 0 && p->native_share <= 1))
        return pm_error_set(err, PM_EINVAL, "noise, mrz and native shares must be in 0..1");
    m->start_day = pm_days_from_civil(p->start_year, p->start_month, p->start_day);
    /* weights of household leads, so that the share of people per class
     * matches class_share */
    for (int c = 0; c < PM_SYNTH_CLASS_COUNT; c++)
        m->lead_w[c] = class_share[c] / hh_mean[c];
    for (size_t i = 0; i < pm__country_count() && m->n_tcn < PM__MAX_NAT; i++) {
        const pm__country_t *c = pm__country_at(i);
        if (c == m->side[0] || c == m->side[1] || c->weight <= 0) continue;
        m->tcn[m->n_tcn] = c;
        m->tcn_w[m->n_tcn] = c->weight;
        m->tcn_total += c->weight;
        m->n_tcn++;
    }
    m->n_pairs =
        pm__port_pairs(p->countries[0], p->countries[1], m->pairs, PM__MAX_PAIRS, m->port_codes);
    for (size_t i = 0; i < m->n_pairs; i++)
        m->pair_w[i] = m->pairs[i].weight;
    for (size_t i = 0; i < m->n_pairs; i++) /* ports reached by road, rail or water */
        m->ground_w[i] = m->pairs[i].modes[4] == 100 ? 0 : m->pairs[i].weight;
    return PM_OK;
}

void pm__title_case(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    int start = 1;
    for (; in[i] && i + 1 < cap; i++) {
        char ch = in[i];
        if (isalpha((unsigned char)ch)) {
            out[i] = start ? (char)toupper((unsigned char)ch) : (char)tolower((unsigned char)ch);
            start = 0;
        } else {
            out[i] = ch;
            start = (ch == ' ' || ch == '-' || ch == '\'');
        }
    }
    out[i] = '\0';
}

static const pm__name_t *pick_name(pm__rng_t *r, const pm__name_t *list, size_t n)
{
    uint32_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += list[i].weight ? list[i].weight : 1;
    uint32_t x = pm__rng_below(r, total);
    for (size_t i = 0; i < n; i++) {
        uint32_t w = list[i].weight ? list[i].weight : 1;
        if (x < w) return &list[i];
        x -= w;
    }
    return &list[n - 1];
}

/* Appends a name's Latin and native forms to the two buffers, space-separated. */
static void add_name(char *lat, char *nat, size_t cap, const char *l, const char *n)
{
    if (lat[0]) pm__strlcat(lat, " ", cap);
    pm__strlcat(lat, l, cap);
    if (nat[0]) pm__strlcat(nat, " ", cap);
    if (n) {
        pm__strlcat(nat, n, cap);
    } else {
        char t[PM_SYNTH_NAME_MAX + 1];
        pm__title_case(l, t, sizeof t);
        pm__strlcat(nat, t, cap);
    }
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && memcmp(s + a - b, suf, b) == 0;
}

/* Replaces a suffix of s (if present) by rep. */
static int swap_suffix(char *s, size_t cap, const char *suf, const char *rep)
{
    if (!ends_with(s, suf)) return 0;
    s[strlen(s) - strlen(suf)] = '\0';
    pm__strlcat(s, rep, cap);
    return 1;
}

/* Feminine surname forms of Slavic and Greek names (both scripts). */
static void feminine_surname(const char *culture, char *lat, char *nat, size_t cap)
{
    if (strcmp(culture, "russian") == 0) {
        if (swap_suffix(lat, cap, "SKII", "SKAIA")) {
            swap_suffix(nat, cap, "ский", "ская");
        } else if (ends_with(lat, "OV") || ends_with(lat, "EV") || ends_with(lat, "IN")) {
            pm__strlcat(lat, "A", cap);
            pm__strlcat(nat, "а", cap);
        }
    } else if (strcmp(culture, "polish") == 0) {
        if (swap_suffix(lat, cap, "SKI", "SKA"))
            swap_suffix(nat, cap, "ski", "ska");
        else if (swap_suffix(lat, cap, "CKI", "CKA"))
            swap_suffix(nat, cap, "cki", "cka");
    } else if (strcmp(culture, "greek") == 0) {
        if (swap_suffix(lat, cap, "OS", "OU"))
            swap_suffix(nat, cap, "ΟΣ", "ΟΥ");
        else if (swap_suffix(lat, cap, "IS", "I"))
            swap_suffix(nat, cap, "ΗΣ", "Η");
        else if (swap_suffix(lat, cap, "AS", "A"))
            swap_suffix(nat, cap, "ΑΣ", "Α");
    }
}

/* East Slavic patronymic from a father's name (both scripts). */
static void patronymic(const char *culture, const pm__name_t *father, int female, char *lat,
                       char *nat, size_t cap)
{
    pm__strlcpy(lat, father->latin, cap);
    pm__strlcpy(nat, father->native ? father->native : father->latin, cap);
    if (strcmp(culture, "ukrainian") == 0) {
        if (swap_suffix(nat, cap, "о", "")) { /* Дмитро -> Дмитрович */
            swap_suffix(lat, cap, "O", "");
        } else if (ends_with(nat, "а")) { /* Микола -> Миколайович */
            swap_suffix(nat, cap, "а", female ? "аї" : "ай");
            swap_suffix(lat, cap, "A", female ? "AI" : "AI");
        }
        if (female) {
            if (ends_with(nat, "й")) {
                swap_suffix(nat, cap, "й", "ї");
                pm__strlcat(nat, "вна", cap);
                pm__strlcat(lat, "VNA", cap);
            } else {
                pm__strlcat(nat, ends_with(nat, "ї") ? "вна" : "івна", cap);
                pm__strlcat(lat, ends_with(lat, "AI") ? "VNA" : "IVNA", cap);
            }
        } else {
            pm__strlcat(nat, "ович", cap);
            pm__strlcat(lat, "OVYCH", cap);
        }
        return;
    }
    /* Russian: Сергей -> Сергеевич, Дмитрий -> Дмитриевич, Иван -> Иванович */
    if (swap_suffix(nat, cap, "ий", "и")) {
        swap_suffix(lat, cap, "II", "I");
        pm__strlcat(nat, female ? "евна" : "евич", cap);
        pm__strlcat(lat, female ? "EVNA" : "EVICH", cap);
    } else if (swap_suffix(nat, cap, "й", "")) {
        swap_suffix(lat, cap, "I", "");
        pm__strlcat(nat, female ? "евна" : "евич", cap);
        pm__strlcat(lat, female ? "EVNA" : "EVICH", cap);
    } else if (ends_with(nat, "ь")) { /* Игорь -> Игоревич */
        swap_suffix(nat, cap, "ь", "");
        pm__strlcat(nat, female ? "евна" : "евич", cap);
        pm__strlcat(lat, female ? "EVNA" : "EVICH", cap);
    } else {
        pm__strlcat(nat, female ? "овна" : "ович", cap);
        pm__strlcat(lat, female ? "OVNA" : "OVICH", cap);
    }
}

static void make_names(pm__rng_t *r, const pm__culture_t *c, char sex, pm_synth_person_t *out)
{
    const size_t cap = PM_SYNTH_NAME_MAX + 1;
    int female = sex == 'F' || (sex == 'X' && pm__rng_chance(r, 0.5));
    const pm__name_t *gl = female ? c->female : c->male;
    size_t gn = female ? c->n_female : c->n_male;
    const pm__name_t *g1 = pick_name(r, gl, gn);
    add_name(out->given_names, out->given_names_native, cap, g1->latin, g1->native);
    if (c->second_given_pct && pm__rng_below(r, 100) < c->second_given_pct) {
        const pm__name_t *g2 = pick_name(r, gl, gn);
        if (g2 != g1)
            add_name(out->given_names, out->given_names_native, cap, g2->latin, g2->native);
    }
    if (c->middle_pct && pm__rng_below(r, 100) < c->middle_pct) {
        const pm__name_t *ml;
        size_t mn;
        if (c->patronymic == 1) {
            patronymic(c->id, pick_name(r, c->male, c->n_male), female, out->middle_names,
                       out->middle_names_native, cap);
        } else if (c->patronymic == 2) {
            const pm__name_t *f = pick_name(r, c->male, c->n_male);
            add_name(out->middle_names, out->middle_names_native, cap, f->latin, f->native);
        } else if (c->patronymic == 3) {
            const pm__name_t *f = pick_name(r, c->surnames, c->n_surnames);
            add_name(out->middle_names, out->middle_names_native, cap, f->latin, f->native);
        } else if (pm__culture_middle(c, female, &ml, &mn)) {
            const pm__name_t *f = pick_name(r, ml, mn);
            add_name(out->middle_names, out->middle_names_native, cap, f->latin, f->native);
        } else {
            const pm__name_t *f = pick_name(r, gl, gn);
            if (f != g1)
                add_name(out->middle_names, out->middle_names_native, cap, f->latin, f->native);
        }
    }
    const pm__name_t *s1 = pick_name(r, c->surnames, c->n_surnames);
    if (c->n_particles && pm__rng_below(r, 100) < c->particle_pct) {
        const pm__name_t *pt = pick_name(r, c->particles, c->n_particles);
        pm__strlcpy(out->surname, pt->latin, cap);
        pm__strlcat(out->surname, s1->latin, cap);
        pm__strlcpy(out->surname_native, pt->native ? pt->native : pt->latin, cap);
        pm__strlcat(out->surname_native, s1->native ? s1->native : s1->latin, cap);
    } else {
        add_name(out->surname, out->surname_native, cap, s1->latin, s1->native);
    }
    if (female) feminine_surname(c->id, out->surname, out->surname_native, cap);
    if (c->double_surname_pct && pm__rng_below(r, 100) < c->double_surname_pct) {
        const pm__name_t *s2 = pick_name(r, c->surnames, c->n_surnames);
        if (s2 != s1) add_name(out->surname, out->surname_native, cap, s2->latin, s2->native);
    }
}

static const pm__country_t *draw_tcn(const pm__model_t *m, pm__rng_t *r)
{
    return m->tcn[pm__rng_weighted(r, m->tcn_w, m->n_tcn)];
}

/* A passport number of the issuer's shape. */
static void make_number(pm__rng_t *r, const pm__country_t *issuer, char *out, size_t cap)
{
    const char *pat = issuer->passport_pattern;
    if (!pat || !*pat) pat = "AA9999999";
    /* choose one of the '|' alternatives */
    size_t alts = 1;
    for (const char *q = pat; *q; q++)
        alts += *q == '|';
    size_t k = pm__rng_below(r, (uint32_t)alts);
    while (k > 0) {
        pat = strchr(pat, '|') + 1;
        k--;
    }
    static const char letters[] = "ABCDEFGHJKLMNPRSTUVWXYZ"; /* no I, O, Q: as many issuers */
    size_t i = 0;
    for (; pat[i] && pat[i] != '|' && i + 1 < cap; i++) {
        char ch = pat[i];
        if (ch == 'A')
            out[i] = letters[pm__rng_below(r, sizeof letters - 1)];
        else if (ch == '9')
            out[i] = (char)('0' + pm__rng_below(r, 10));
        else if (ch == 'X')
            out[i] = pm__rng_chance(r, 0.5) ? letters[pm__rng_below(r, sizeof letters - 1)]
                                            : (char)('0' + pm__rng_below(r, 10));
        else
            out[i] = ch;
    }
    out[i] = '\0';
}

/* Fills number, issue and expiry dates of a document issued on day `issued`. */
static void issue_document(pm__rng_t *r, pm_synth_document_t *d, const pm__country_t *issuer,
                           int card, int years, int64_t issued)
{
    if (card) {
        d->number[0] = 'C';
        for (int i = 1; i < 9; i++)
            d->number[i] = (char)('0' + pm__rng_below(r, 10));
        d->number[9] = '\0';
    } else {
        make_number(r, issuer, d->number, sizeof d->number);
    }
    int y, mo, dd;
    pm_civil_from_days(issued, &y, &mo, &dd);
    pm__format_date(issued, d->issued);
    if (mo == 2 && dd == 29) dd = 28;
    pm__format_date(pm_days_from_civil(y + years, mo, dd) - 1, d->expiry);
}

/* A travel document of nationality nat. With `renew` (the primary document)
 * it was issued at any time within its validity, and if it expires during
 * the period its holder renews it a week to six months before: the new one
 * goes to *renewal (used from its issue date) or replaces it if renewed before
 * the period. Otherwise it is valid throughout the period. */
static void make_document(const pm__model_t *m, pm__rng_t *r, pm_synth_document_t *d,
                          const pm__country_t *nat, const pm__country_t *issuer, int card,
                          int minor, pm_synth_document_t *renewal, int *has_renewal)
{
    memset(d, 0, sizeof *d);
    pm__strlcpy(d->type, card ? "I" : "P", sizeof d->type);
    pm__strlcpy(d->issuer, issuer->code, sizeof d->issuer);
    pm__strlcpy(d->nationality, nat->code, sizeof d->nationality);
    int years = minor ? 5 : 10;
    int64_t span = (int64_t)years * 365 - (renewal ? 1 : (int64_t)m->params.days + 60);
    if (span < 1) span = 1;
    int64_t issued = m->start_day - (int64_t)pm__rng_below(r, (uint32_t)span);
    issue_document(r, d, issuer, card, years, issued);
    if (!renewal) return;
    int ey, em, ed;
    pm_civil_from_days(issued, &ey, &em, &ed);
    if (em == 2 && ed == 29) ed = 28;
    int64_t expiry = pm_days_from_civil(ey + years, em, ed) - 1;
    int64_t end = m->start_day + (int64_t)m->params.days;
    /* renewed a week to six months before it expires */
    int64_t renewed = expiry - 7 - (int64_t)pm__rng_below(r, 174);
    if (renewed >= end) return; /* valid throughout the period */
    *renewal = *d;
    issue_document(r, renewal, issuer, card, years, renewed);
    if (renewed <= m->start_day) {
        *d = *renewal; /* renewed before the period: the old one is never seen */
        memset(renewal, 0, sizeof *renewal);
        return;
    }
    *has_renewal = 1;
}

static int is_partner(const pm__model_t *m, const pm__country_t *c)
{
    return c == m->side[0] ? 0 : c == m->side[1] ? 1 : -1;
}

static int gendered_surnames(const char *culture)
{
    return strcmp(culture, "russian") == 0 || strcmp(culture, "polish") == 0 ||
           strcmp(culture, "greek") == 0;
}

void pm__person_make(const pm__model_t *m, uint64_t pid, pm_synth_person_t *out, pm__plan_t *plan)
{
    uint64_t lead_id;
    int role, hh_size;
    household_of(m, pid, &lead_id, &role, &hh_size);
    pm__person_make_hh(m, pid, role, hh_size, out, plan);
}

void pm__person_make_hh(const pm__model_t *m, uint64_t pid, int role, int hh_size,
                        pm_synth_person_t *out, pm__plan_t *plan)
{
    uint64_t lead_id = pid - (uint64_t)role;
    pm_synth_person_t *lead = NULL, lead_buf;
    pm__plan_t lead_plan;
    if (role > 0) {
        pm__person_make_hh(m, lead_id, 0, hh_size, &lead_buf, &lead_plan);
        lead = &lead_buf;
    }
    pm__rng_t r;
    pm_synth_class_t cls = draw_class(m, pid, &r);
    memset(out, 0, sizeof *out);
    out->person_id = pid;
    out->household_id = lead_id;
    out->household_role = role;
    out->household_size = hh_size;
    if (lead) cls = lead->cls;
    out->cls = cls;

    /* nationality */
    double p_tcn = m->tcn_total / 1000.0, p_a = (1 - p_tcn) / 2, p_b = p_a;
    switch (cls) {
    case PM_SYNTH_COMMUTER_DAILY:
    case PM_SYNTH_COMMUTER_WEEKLY:
        p_tcn = 0.10, p_a = p_b = 0.45;
        break;
    case PM_SYNTH_SNOWBIRD:
        p_tcn = 0.08, p_a = 0.88, p_b = 0.04;
        break;
    case PM_SYNTH_OVERSTAYER:
        p_tcn = 0.75, p_a = 0.15, p_b = 0.10;
        break;
    case PM_SYNTH_NEVER_LEAVES:
        p_tcn = 0.60, p_a = p_b = 0.20;
        break;
    case PM_SYNTH_REMOVAL:
        p_tcn = 0.40, p_a = p_b = 0.30;
        break;
    default:
        break;
    }
    if (m->tcn_override > 0) {
        p_tcn = m->tcn_override;
        p_a = p_b = (1 - p_tcn) / 2;
    }
    double nw[3] = {p_a, p_b, p_tcn};
    size_t nk = pm__rng_weighted(&r, nw, 3);
    const pm__country_t *nat = nk < 2 ? m->side[nk] : draw_tcn(m, &r);
    if (lead && pm__rng_chance(&r, 0.85)) nat = pm__country_find(lead->citizenship);
    int partner = is_partner(m, nat);

    /* home side and residence */
    int home;
    int tourist = 0;
    if (cls == PM_SYNTH_SNOWBIRD) {
        home = 0;
    } else if (cls == PM_SYNTH_REMOVAL) {
        /* a citizen of one partner is removed from the other one to home */
        home = partner >= 0 ? 1 - partner : (int)pm__rng_below(&r, 2);
    } else if (partner >= 0) {
        home =
            (cls <= PM_SYNTH_COMMUTER_WEEKLY && pm__rng_chance(&r, 0.05)) ? 1 - partner : partner;
    } else {
        home = (int)pm__rng_below(&r, 2);
        tourist =
            (cls == PM_SYNTH_VISITOR || cls == PM_SYNTH_OVERSTAYER) && pm__rng_chance(&r, 0.5);
    }
    if (lead) { /* the household lives together */
        home = lead_plan.home;
        tourist = strcmp(lead->residence, lead->citizenship) == 0 &&
                  is_partner(m, pm__country_find(lead->residence)) < 0;
    }
    pm__strlcpy(out->citizenship, nat->code, sizeof out->citizenship);
    pm__strlcpy(out->residence, tourist ? nat->code : m->side[home]->code, sizeof out->residence);
    if (nat->code[0] == 'X' && nat->code[1] == 'X')
        pm__strlcpy(out->residence, m->side[home]->code, sizeof out->residence);
    pm__strlcpy(out->start_location, m->side[home]->code, sizeof out->start_location);

    /* sex */
    double sw[3] = {49.6, 49.6, nat->issues_x ? 0.8 : 0};
    out->sex = "MFX"[pm__rng_weighted(&r, sw, 3)];

    /* culture and names */
    const pm__culture_mix_t *mix = pm__culture_mix(nat->code);
    size_t nmix = 0;
    while (nmix < 8 && mix->ids[nmix])
        nmix++;
    const pm__culture_t *cul = pm__culture_find(mix->ids[pm__rng_weighted(&r, mix->w, nmix)]);
    if (lead && pm__rng_chance(&r, 0.9)) cul = pm__culture_find(lead->culture);
    if (!cul) cul = pm__culture_at(0);
    out->culture = cul->id;
    out->script = cul->script;
    make_names(&r, cul, out->sex, out);
    if (lead && strcmp(lead->culture, cul->id) == 0 &&
        (!gendered_surnames(cul->id) || lead->sex == out->sex) &&
        (role >= 2 || pm__rng_chance(&r, 0.6))) {
        /* children and most spouses carry the family name */
        pm__strlcpy(out->surname, lead->surname, sizeof out->surname);
        pm__strlcpy(out->surname_native, lead->surname_native, sizeof out->surname_native);
    }

    /* date of birth */
    double age;
    switch (cls) {
    case PM_SYNTH_COMMUTER_DAILY:
    case PM_SYNTH_COMMUTER_WEEKLY:
        age = 20 + pm__rng_unit(&r) * 45;
        break;
    case PM_SYNTH_SNOWBIRD:
        age = 55 + pm__rng_unit(&r) * 30;
        break;
    case PM_SYNTH_VISITOR:
    case PM_SYNTH_LONG_STAY:
        age = pm__rng_chance(&r, 0.12) ? pm__rng_unit(&r) * 18
                                       : 18 + (pm__rng_unit(&r) + pm__rng_unit(&r)) * 33.5;
        break;
    default:
        age = 18 + pm__rng_unit(&r) * 42;
        break;
    }
    if (role == 0 && hh_size > 1 && age < 22) age += 25; /* a household is led by an adult */
    if (lead) {
        int ly = 0;
        for (int i = 0; i < 4 && lead->date_of_birth[i]; i++)
            ly = ly * 10 + (lead->date_of_birth[i] - '0');
        int sy, smo, sd;
        pm_civil_from_days(m->start_day, &sy, &smo, &sd);
        double lead_age = (double)(sy - ly);
        age = role == 1 ? lead_age + pm__rng_normal(&r, 0, 4) : pm__rng_unit(&r) * 18;
        if (cls == PM_SYNTH_SNOWBIRD) age = lead_age + pm__rng_normal(&r, 0, 4);
        if (age < 0.1) age = 0.1;
        if (age > 95) age = 95;
    }
    int64_t dob = m->start_day - (int64_t)(age * 365.2425) - pm__rng_below(&r, 365);
    int by, bm, bd;
    pm_civil_from_days(dob, &by, &bm, &bd);
    uint32_t dobk = pm__rng_below(&r, 1000);
    if (dobk < 6)
        snprintf(out->date_of_birth, sizeof out->date_of_birth, "%04d", by);
    else if (dobk < 9)
        snprintf(out->date_of_birth, sizeof out->date_of_birth, "%04d-%02d", by, bm);
    else if (dobk < 9 + 10u * nat->placeholder_pct)
        snprintf(out->date_of_birth, sizeof out->date_of_birth, "%04d-01-01", by);
    else
        pm__format_date(dob, out->date_of_birth);

    /* documents */
    int minor = age < 16;
    const pm__country_t *issuer = nat;
    if (nat->code[0] == 'X' && nat->code[1] == 'X')
        issuer = m->side[home]; /* travel document of the country of residence */
    int card = strcmp(nat->code, "USA") == 0 && pm__rng_chance(&r, 0.12);
    make_document(m, &r, &out->documents[0], nat, issuer, card, minor, &out->renewal,
                  &out->has_renewal);
    out->n_documents = 1;
    const pm__country_t *second = NULL;
    if (partner >= 0 && pm__rng_chance(&r, 0.04)) {
        second =
            pm__rng_chance(&r, 0.5) ? m->side[1 - partner] : pm__country_find(cul->dual_country);
    } else if (partner < 0 && !tourist && nat->code[0] != 'X' && pm__rng_chance(&r, 0.15)) {
        second = m->side[home]; /* naturalised, kept the first citizenship */
    }
    if (second && is_partner(m, second) >= 0 &&
        (cls == PM_SYNTH_OVERSTAYER || cls == PM_SYNTH_REMOVAL))
        second = NULL; /* a citizen of the partner could neither overstay nor be removed */
    if (second && second != nat) {
        make_document(m, &r, &out->documents[1], second, second, 0, minor, NULL, NULL);
        out->n_documents = 2;
    }

    /* authorised stay and removal */
    if (cls == PM_SYNTH_VISITOR || cls == PM_SYNTH_LONG_STAY || cls == PM_SYNTH_OVERSTAYER)
        out->authorised_stay_days = 180;
    else if (cls == PM_SYNTH_SNOWBIRD)
        out->authorised_stay_days = 182;
    if (cls == PM_SYNTH_REMOVAL) {
        out->removal_order = 1;
        pm__strlcpy(out->removal_country, m->side[home]->code, sizeof out->removal_country);
        pm__format_date(m->start_day - 1 - pm__rng_below(&r, 90), out->removal_order_date);
        uint64_t x = m->params.seed ^ (pid * 0x9E3779B97F4A7C15ull);
        uint64_t h = pm__splitmix64(&x);
        static const char hex[] = "0123456789ABCDEF";
        out->removal_order_id[0] = 'R';
        out->removal_order_id[1] = 'O';
        for (int i = 0; i < 10; i++)
            out->removal_order_id[2 + i] = hex[(h >> (4 * i)) & 15];
        out->removal_order_id[12] = '\0';
    }

    if (plan && lead) {
        *plan = lead_plan; /* same home, port and mode as the household */
        plan->role = (uint8_t)role;
        plan->hh_size = (uint8_t)hh_size;
    } else if (plan) {
        plan->role = 0;
        plan->hh_size = (uint8_t)hh_size;
        plan->cls = (uint8_t)cls;
        plan->home = (uint8_t)home;
        plan->pair = (uint8_t)pm__rng_weighted(&r, m->ground_w, m->n_pairs);
        double mw[5];
        for (int i = 0; i < 5; i++)
            mw[i] = m->pairs[plan->pair].modes[i];
        plan->mode = (uint8_t)pm__rng_weighted(&r, mw, 5);
    }
}
