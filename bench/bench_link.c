/* bench_link: linkage quality and speed on a generated population with ground
 * truth, at several sizes (default 100k, 300k and 1M crossings, 5% noisy).
 *
 *   bench_link [--noise 0.05] [--no-em] [N ...]
 *
 * The generator here is the benchmark's own (names from several cultures with
 * transliteration variants and Zipf-distributed popularity, particles, middle
 * names, placeholder and partial dates, dual nationals; noise: typos,
 * transliteration, dropped middle names and particles, order swaps, day/month
 * swaps, placeholder dates, OCR confusions). `perimeter eval linkage` runs the
 * same measurement on files from `perimeter synth crossings`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/link.h"

typedef struct rng {
    uint64_t s;
} rng_t;

static uint64_t rnd(rng_t *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}

static double unif(rng_t *r)
{
    return (double)(rnd(r) >> 11) / 9007199254740992.0;
}

/* Zipf-like index in [0, n): popular names are much more common. */
static size_t zipf(rng_t *r, size_t n)
{
    double u = unif(r);
    size_t k = (size_t)floor(pow((double)n + 1.0, u)) - 1;
    return k < n ? k : n - 1;
}

/* Given names: variants of one name separated by '|', the first is the usual one. */
static const char *const given_arabic[] = {"MOHAMMED|MUHAMMAD|MOHAMED|MOHAMAD",
                                           "AHMED|AHMAD",
                                           "ALI",
                                           "OMAR|UMAR",
                                           "YOUSSEF|YUSUF|YOUSEF",
                                           "HASSAN|HASAN",
                                           "HUSSEIN|HUSSAIN|HOSSEIN",
                                           "KHALED|KHALID",
                                           "IBRAHIM|EBRAHIM",
                                           "FATIMA|FATMA",
                                           "AISHA|AYESHA",
                                           "MARIAM|MARYAM",
                                           "ZAINAB|ZEINAB",
                                           "ABDULLAH|ABDALLAH",
                                           "MAHMOUD|MAHMUD",
                                           "MUSTAFA|MOSTAFA",
                                           "SAMIR",
                                           "NOUR|NOOR",
                                           "LAYLA|LEILA",
                                           "TAREK|TARIQ",
                                           "HAMZA",
                                           "BILAL",
                                           "RANIA",
                                           "SALMA",
                                           "AMIRA",
                                           "KARIM|KAREEM",
                                           "WALID|WALEED",
                                           "JAMAL|GAMAL",
                                           "NABIL",
                                           "RAMI"};
static const char *const sur_arabic[] = {
    "AL HASSAN", "HADDAD",        "MANSOUR|MANSUR",    "SALEH|SALIH", "KHAN",
    "AL RASHID", "NASSER|NASSAR", "AL SAYED|EL SAYED", "IBRAHIM",     "ABDULLAH",
    "HAMDAN",    "AZIZ",          "QURESHI|KURESHI",   "FARAH",       "BIN SALEM",
    "ABU ZAID",  "HUSSEIN",       "AL AMIN|EL AMIN",   "YOUSEF",      "OTHMAN|OSMAN"};
static const char *const given_slavic[] = {"OLEKSANDR|ALEKSANDR|ALEXANDR",
                                           "OLGA",
                                           "IVAN",
                                           "NATALIA|NATALIYA",
                                           "SERGEI|SERHII|SERGEY",
                                           "YULIA|IULIIA|YULIYA",
                                           "DMITRY|DMYTRO",
                                           "ANNA",
                                           "ANDRII|ANDREI|ANDREY",
                                           "TETIANA|TATIANA",
                                           "MYKOLA|NIKOLAI",
                                           "OKSANA",
                                           "PAVLO|PAVEL",
                                           "IRYNA|IRINA",
                                           "VIKTOR",
                                           "SVITLANA|SVETLANA",
                                           "YURII|YURI|IURII",
                                           "MARIIA|MARIYA|MARIA",
                                           "HRYHORII|GRIGORII",
                                           "OLENA|ELENA"};
static const char *const given_latin[] = {
    "JOHN",     "MARY",      "JAMES",   "PATRICIA", "ROBERT",  "JENNIFER", "MICHAEL", "LINDA",
    "WILLIAM",  "ELIZABETH", "DAVID",   "BARBARA",  "RICHARD", "SUSAN",    "JOSEPH",  "JESSICA",
    "THOMAS",   "SARAH",     "CHARLES", "KAREN",    "JOSE",    "MARIA",    "JUAN",    "GUADALUPE",
    "LUIS",     "CARMEN",    "PIERRE",  "MARIE",    "JEAN",    "SOPHIE",   "LUC",     "CHLOE",
    "WEI",      "LI NA",     "HIROSHI", "YUKI",     "RAJESH",  "PRIYA",    "AMIT",    "SUNITA",
    "NGOC ANH", "MINH",      "DANIEL",  "EMMA",     "OLIVIA",  "NOAH",     "LIAM",    "CHARLOTTE",
    "BENJAMIN", "AMELIA"};
static const char *const sur_latin[] = {
    "SMITH",      "JOHNSON",    "WILLIAMS",   "BROWN",          "JONES",      "GARCIA",
    "MILLER",     "DAVIS",      "RODRIGUEZ",  "MARTINEZ",       "HERNANDEZ",  "LOPEZ",
    "GONZALEZ",   "WILSON",     "ANDERSON",   "THOMAS",         "TAYLOR",     "MOORE",
    "JACKSON",    "MARTIN",     "TREMBLAY",   "GAGNON",         "ROY",        "COTE",
    "BOUCHARD",   "GAUTHIER",   "MORIN",      "LAVOIE",         "FORTIN",     "GAGNE",
    "NGUYEN",     "TRAN",       "LE",         "PHAM",           "WANG",       "LI",
    "ZHANG",      "LIU",        "CHEN",       "YANG",           "PATEL",      "SINGH",
    "SHARMA",     "KUMAR",      "GUPTA",      "VAN DIJK",       "DE JONG",    "VAN DER BERG",
    "DE LA CRUZ", "DOS SANTOS", "DI STEFANO", "MUELLER|MULLER", "SCHMIDT",    "SCHNEIDER",
    "FISCHER",    "WEBER",      "KOWALSKI",   "NOWAK",          "WISNIEWSKI", "OKAFOR",
    "MENSAH"};

/* Synthetic surnames so that the name space is large. */
static const char *const syl_a[] = {"KO", "MA",  "RA",  "BE",  "TA", "NO", "LI", "SA", "DU", "PE",
                                    "VO", "GRA", "STE", "BRO", "HA", "MI", "FE", "ZA", "LO", "KU"};
static const char *const syl_b[] = {"VAL", "REN", "TOR", "SAN", "MOL", "DER", "LIN", "GAR", "BER",
                                    "NAT", "ROS", "KEL", "PAR", "WIN", "DAL", "MOR", "TIS", "CAR"};
static const char *const syl_c[] = {"SKI",  "OV",  "ENKO", "SON",  "EZ", "INI",
                                    "AKIS", "ER",  "MAN",  "ELLI", "OS", "IAN",
                                    "ESCU", "ICH", "ETTE", "AUD",  "AR", "ULA"};

typedef struct person {
    char sur[48], given[48], middle[32];
    const char *given_var; /* the variant list the given name came from */
    pm_dob_t dob;
    char sex;
    char cit[4], cit2[4];
    char doc[12], doc2[12];
} person_t;

static void pick_variant(rng_t *r, const char *list, char *out, size_t cap, int usual)
{
    int nv = 1;
    for (const char *p = list; *p; p++)
        nv += *p == '|';
    int k = usual ? 0 : (int)(rnd(r) % (uint64_t)nv);
    const char *p = list;
    for (int i = 0; i < k; i++)
        p = strchr(p, '|') + 1;
    const char *e = strchr(p, '|');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l >= cap) l = cap - 1;
    memcpy(out, p, l);
    out[l] = '\0';
}

static void gen_person(rng_t *r, uint32_t id, person_t *p)
{
    memset(p, 0, sizeof *p);
    double c = unif(r);
    static const char *const cits_latin[] = {"USA", "CAN", "MEX", "FRA", "CHN",
                                             "IND", "VNM", "GBR", "DEU", "PHL"};
    const char *const *gv;
    size_t ngv;
    if (c < 0.15) { /* arabic */
        gv = given_arabic;
        ngv = sizeof given_arabic / sizeof *given_arabic;
        if (unif(r) < 0.5)
            pick_variant(r, sur_arabic[zipf(r, sizeof sur_arabic / sizeof *sur_arabic)], p->sur,
                         sizeof p->sur, 1);
        else /* a father's name as surname */
            pick_variant(r, given_arabic[zipf(r, ngv)], p->sur, sizeof p->sur, 1);
        static const char *const cits[] = {"EGY", "SYR", "JOR", "LBN", "IRQ", "PAK", "SAU", "MAR"};
        memcpy(p->cit, cits[rnd(r) % 8], 4);
    } else if (c < 0.27) { /* slavic */
        gv = given_slavic;
        ngv = sizeof given_slavic / sizeof *given_slavic;
        snprintf(p->sur, sizeof p->sur, "%s%s%s", syl_a[rnd(r) % 20], syl_b[rnd(r) % 18],
                 (const char *[]){"OV", "ENKO", "SKI", "UK", "CHUK", "IN"}[rnd(r) % 6]);
        memcpy(p->cit, (const char *[]){"UKR", "RUS", "POL", "BLR"}[rnd(r) % 4], 4);
    } else {
        gv = given_latin;
        ngv = sizeof given_latin / sizeof *given_latin;
        if (unif(r) < 0.5)
            pick_variant(r, sur_latin[zipf(r, sizeof sur_latin / sizeof *sur_latin)], p->sur,
                         sizeof p->sur, 1);
        else
            snprintf(p->sur, sizeof p->sur, "%s%s%s", syl_a[rnd(r) % 20], syl_b[rnd(r) % 18],
                     syl_c[rnd(r) % 18]);
        memcpy(p->cit, cits_latin[zipf(r, 10)], 4);
    }
    p->given_var = gv[zipf(r, ngv)];
    pick_variant(r, p->given_var, p->given, sizeof p->given, 1);
    if (unif(r) < 0.3) pick_variant(r, gv[rnd(r) % ngv], p->middle, sizeof p->middle, 1);
    p->dob.year = (int16_t)(1935 + rnd(r) % 75);
    double d = unif(r);
    if (d < 0.02) {        /* year only */
    } else if (d < 0.05) { /* placeholder at source */
        p->dob.month = 1;
        p->dob.day = 1;
    } else {
        p->dob.month = (uint8_t)(1 + rnd(r) % 12);
        p->dob.day = (uint8_t)(1 + rnd(r) % 28);
    }
    p->sex = rnd(r) % 2 ? 'M' : 'F';
    snprintf(p->doc, sizeof p->doc, "%c%c%07u", 'A' + (int)(rnd(r) % 26), 'A' + (int)(rnd(r) % 26),
             id);
    if (unif(r) < 0.03) { /* dual national */
        memcpy(p->cit2, strcmp(p->cit, "CAN") ? "CAN" : "USA", 4);
        snprintf(p->doc2, sizeof p->doc2, "%07u%02u", id, (unsigned)(rnd(r) % 100));
    }
}

typedef struct event {
    int64_t time;
    uint32_t person;
    uint8_t dir;
} event_t;

static int cmp_event(const void *a, const void *b)
{
    const event_t *x = a, *y = b;
    return x->time < y->time ? -1 : x->time > y->time;
}

static void typo(rng_t *r, char *s)
{
    size_t l = strlen(s);
    if (l < 4) return;
    size_t i = 1 + rnd(r) % (l - 2);
    if (s[i] == ' ' || s[i + 1] == ' ') return;
    switch (rnd(r) % 3) {
    case 0: {
        char t = s[i];
        s[i] = s[i + 1];
        s[i + 1] = t;
        break;
    }
    case 1:
        memmove(s + i, s + i + 1, l - i);
        break;
    default:
        s[i] = (char)('A' + rnd(r) % 26);
    }
}

static const char *const noise_names[] = {"typo",  "translit", "drop-middle", "particle",
                                          "order", "dob-swap", "placeholder", "ocr"};
enum { NOISE_KINDS = 8 };

static void make_record(rng_t *r, const person_t *p, const event_t *ev, uint64_t n, double noise,
                        pm_crossing_t *c, int *out_kind)
{
    pm_crossing_init(c);
    snprintf(c->record_id, sizeof c->record_id, "R%llu", (unsigned long long)n);
    memcpy(c->reporting_country, ev->dir == PM_DIRECTION_ENTRY ? "CAN" : "USA", 4);
    c->direction = (pm_direction_t)ev->dir;
    c->time_utc = ev->time;
    snprintf(c->surname, sizeof c->surname, "%s", p->sur);
    snprintf(c->given_names, sizeof c->given_names, "%s", p->given);
    snprintf(c->middle_names, sizeof c->middle_names, "%s", p->middle);
    c->dob = p->dob;
    c->sex = p->sex;
    int second = p->doc2[0] && rnd(r) % 3 == 0;
    memcpy(c->citizenship, second ? p->cit2 : p->cit, 4);
    memcpy(c->document_issuer, c->citizenship, 4);
    snprintf(c->document_number, sizeof c->document_number, "%s", second ? p->doc2 : p->doc);
    *out_kind = -1;
    if (unif(r) >= noise) return;
    int kind = (int)(rnd(r) % NOISE_KINDS);
    *out_kind = kind;
    switch (kind) {
    case 0:
        typo(r, rnd(r) % 2 ? c->surname : c->given_names);
        break;
    case 1:
        pick_variant(r, p->given_var, c->given_names, sizeof c->given_names, 0);
        break;
    case 2:
        c->middle_names[0] = '\0';
        break;
    case 3: { /* drop or join the particle */
        const char *sp = strchr(p->sur, ' ');
        if (sp && sp - p->sur <= 3) {
            if (rnd(r) % 2)
                snprintf(c->surname, sizeof c->surname, "%s", sp + 1);
            else
                snprintf(c->surname, sizeof c->surname, "%.*s%s", (int)(sp - p->sur), p->sur,
                         sp + 1);
        } else
            typo(r, c->surname);
        break;
    }
    case 4:
        snprintf(c->surname, sizeof c->surname, "%s", p->given);
        snprintf(c->given_names, sizeof c->given_names, "%s", p->sur);
        break;
    case 5:
        if (c->dob.day && c->dob.day <= 12 && c->dob.day != c->dob.month) {
            uint8_t t = c->dob.day;
            c->dob.day = c->dob.month;
            c->dob.month = t;
        } else if (c->dob.day > 1)
            c->dob.day--; /* a keying error of one day instead */
        break;
    case 6:
        c->dob.month = 1;
        c->dob.day = 1;
        break;
    default:
        for (char *q = c->document_number + 2; *q; q++) {
            static const char from[] = "0158", to[] = "OISB";
            const char *f = strchr(from, *q);
            if (f) {
                *q = to[f - from];
                break;
            }
        }
    }
}

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int run(uint64_t nrec, double noise, int use_em)
{
    rng_t r = {0x9e3779b97f4a7c15ULL ^ nrec};
    /* people and their crossings, in time order */
    size_t cap = nrec + 64, nev = 0;
    event_t *ev = malloc(cap * sizeof *ev);
    size_t pcap = nrec / 3 + 16, np = 0;
    person_t *people = malloc(pcap * sizeof *people);
    if (!ev || !people) return 1;
    const int64_t t0 = 1767225600; /* 2026-01-01 */
    const int64_t span = 365LL * 86400;
    while (nev < nrec) {
        if (np == pcap) break;
        gen_person(&r, (uint32_t)np, &people[np]);
        double cls = unif(&r);
        int resident = cls < 0.15; /* lives here: leaves first */
        int trips = cls < 0.25 ? 5 + (int)(rnd(&r) % 20) : 1 + (int)(rnd(&r) % 3);
        int overstay = cls > 0.95;
        int64_t t = t0 + (int64_t)(rnd(&r) % (uint64_t)(span / 2));
        for (int k = 0; k < trips && nev + 2 <= nrec; k++) {
            ev[nev++] =
                (event_t){t, (uint32_t)np, resident ? PM_DIRECTION_EXIT : PM_DIRECTION_ENTRY};
            if (overstay) break;
            t += 3600 + (int64_t)(rnd(&r) % (uint64_t)(cls < 0.25 ? 3 * 86400 : 30 * 86400));
            ev[nev++] =
                (event_t){t, (uint32_t)np, resident ? PM_DIRECTION_ENTRY : PM_DIRECTION_EXIT};
            t += 3600 + (int64_t)(rnd(&r) % (uint64_t)(cls < 0.25 ? 4 * 86400 : 60 * 86400));
        }
        np++;
        if (nev + 1 == nrec) break;
    }
    qsort(ev, nev, sizeof *ev, cmp_event);

    pm_link_model_t model;
    pm_link_model_default(&model);
    pm_crossing_t c;
    pm_error_t err = {0};
    int kind;
    double em_s = 0;
    uint64_t em_cpu = 0; /* CPU of the EM pre-pass: its linking pass and the EM fit, not the record generation */
    if (use_em) {
        uint64_t e0 = pm_now_ns();
        pm_linker_t *lk;
        pm_linker_new(&model, &lk, &err);
        rng_t r2 = {r.s};
        size_t ns = nev < 200000 ? nev : 200000;
        for (size_t i = 0; i < ns; i++) {
            make_record(&r2, &people[ev[i].person], &ev[i], i, noise, &c, &kind);
            uint64_t ec = cpu_ns();
            if (pm_linker_add(lk, &c, NULL, &err)) return 1;
            em_cpu += cpu_ns() - ec;
        }
        uint64_t ec = cpu_ns();
        if (pm_link_model_em(pm_linker_pattern_counts(lk), &model, &err)) {
            fprintf(stderr, "EM: %s\n", pm_error_text(&err));
            return 1;
        }
        em_cpu += cpu_ns() - ec;
        pm_linker_free(lk);
        em_s = (double)(pm_now_ns() - e0) / 1e9;
    }
    pm_linker_t *lk;
    pm_linker_new(&model, &lk, &err);
    uint64_t *truth = malloc(nev * sizeof *truth);
    uint64_t link_ns = 0, link_cpu = 0, noisy = 0;
    uint64_t kinds[NOISE_KINDS] = {0};
    for (size_t i = 0; i < nev; i++) {
        make_record(&r, &people[ev[i].person], &ev[i], i, noise, &c, &kind);
        if (kind >= 0) {
            noisy++;
            kinds[kind]++;
        }
        truth[i] = ev[i].person;
        uint64_t a = pm_now_ns(), ac = cpu_ns();
        if (pm_linker_add(lk, &c, NULL, &err)) {
            fprintf(stderr, "link: %s\n", pm_error_text(&err));
            return 1;
        }
        link_cpu += cpu_ns() - ac;
        link_ns += pm_now_ns() - a;
    }
    pm_link_quality_t q;
    if (pm_link_quality(lk, truth, nev, &q, &err)) {
        fprintf(stderr, "quality: %s\n", pm_error_text(&err));
        return 1;
    }
    double s = (double)link_ns / 1e9;
    printf("%8zu records %7zu persons noisy %5.2f%%  P %.5f  R %.5f  F1 %.5f  recon %.5f "
           "(%llu/%llu)  review %llu  merges %llu  %.0f rec/s wall, %.0f rec/CPU-s linking, "
           "%.0f rec/CPU-s with the EM pre-pass  (%.2f s, EM %.2f s, %s)\n",
           nev, np, 100.0 * (double)noisy / (double)nev, q.precision, q.recall, q.f1,
           q.reconciliation, (unsigned long long)q.reconciled_correct,
           (unsigned long long)q.reconcilable, (unsigned long long)q.reviews,
           (unsigned long long)q.merges, (double)nev / s, (double)nev / ((double)link_cpu / 1e9),
           (double)nev / ((double)(link_cpu + em_cpu) / 1e9), s,
           em_s, use_em ? "EM" : "default");
    if (getenv("BENCH_LINK_VERBOSE")) {
        for (int k = 0; k < NOISE_KINDS; k++)
            printf("  noise %-12s %llu\n", noise_names[k], (unsigned long long)kinds[k]);
        const pm_link_model_t *m = pm_linker_model(lk);
        for (int f = 0; f < PM_LINK_FIELDS; f++) {
            printf("  %-12s", pm_link_field_name(f));
            for (int l = 0; l < pm_link_field_levels(f); l++)
                printf(" %s %+.1f", pm_link_level_name(f, l), m->w[f][l]);
            printf("\n");
        }
    }
    free(truth);
    pm_linker_free(lk);
    free(ev);
    free(people);
    return 0;
}

int main(int argc, char **argv)
{
    double noise = 0.05;
    int use_em = 1;
    uint64_t sizes[16];
    int ns = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--noise") && i + 1 < argc)
            noise = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--no-em"))
            use_em = 0;
        else if (ns < 16)
            sizes[ns++] = strtoull(argv[i], NULL, 10);
    }
    if (ns == 0) {
        sizes[0] = 100000;
        sizes[1] = 300000;
        sizes[2] = 1000000;
        ns = 3;
    }
    for (int i = 0; i < ns; i++)
        if (run(sizes[i], noise, use_em)) return 1;
    return 0;
}
