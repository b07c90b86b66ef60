/* A deterministic sample stream of plausible crossings, for benchmarks and
 * tests (the full generator with people, trips and noise is `synth`). */
#include <stdio.h>
#include <string.h>

#include "perimeter/travel.h"

static uint64_t mix(uint64_t x)
{
    /* splitmix64 finaliser */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct person_kind {
    const char *country; /* citizenship and issuer */
    int weight;          /* share of land traffic, per mille (rough) */
    const char *const *surnames;
    const char *const *given;
};

static const char *const us_s[] = {"Smith", "Johnson", "Williams", "Brown", "García", "Miller",
                                   "O'Brien", "Nguyen", NULL};
static const char *const us_g[] = {"James", "Mary", "Robert", "Patricia", "John Paul", "Linda",
                                   "Michael", "Elizabeth", NULL};
static const char *const ca_s[] = {"Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "MacDonald",
                                   "Singh", "Wong", NULL};
static const char *const ca_g[] = {"Émilie", "Olivier", "Chloé", "William", "Noah", "Zoé",
                                   "Liam", "Léa", NULL};
static const char *const mx_s[] = {"Hernández", "López", "Martínez", "González", "Pérez", NULL};
static const char *const mx_g[] = {"José Luis", "María Guadalupe", "Juan", "Ana Sofía", NULL};
static const char *const in_s[] = {"Patel", "Sharma", "Kumar", "पटेल", "Reddy", NULL};
static const char *const in_g[] = {"Priya", "Rahul", "अमित", "Sunita", NULL};
static const char *const cn_s[] = {"王", "李", "Zhang", "Liu", "陈", NULL};
static const char *const cn_g[] = {"伟", "Fang", "秀英", "Wei", NULL};
static const char *const de_s[] = {"Müller", "Schmidt", "Weiß", "Groß", NULL};
static const char *const de_g[] = {"Anna Maria", "Jürgen", "Lukas", NULL};
static const char *const ru_s[] = {"Иванов", "Smirnova", "Кузнецов", NULL};
static const char *const ru_g[] = {"Ольга", "Dmitri", "Сергей", NULL};
static const char *const ar_s[] = {"محمد", "Al-Hassan", "Haddad", "Khoury", NULL};
static const char *const ar_g[] = {"Omar", "فاطمة", "Layla", NULL};

static const struct person_kind kinds[] = {
    {"USA", 430, us_s, us_g}, {"CAN", 420, ca_s, ca_g}, {"MEX", 40, mx_s, mx_g},
    {"IND", 30, in_s, in_g},  {"CHN", 25, cn_s, cn_g},  {"DEU", 20, de_s, de_g},
    {"RUS", 10, ru_s, ru_g},  {"SYR", 8, ar_s, ar_g},   {"XXB", 5, ar_s, ar_g},
    {"GBR", 12, us_s, us_g},
};

static const char *pick(const char *const *list, uint64_t r)
{
    size_t n = 0;
    while (list[n])
        n++;
    return list[r % n];
}

static void td3(const pm_crossing_t *c, char *out, size_t cap)
{
    char dob[11];
    snprintf(dob, sizeof dob, "%04d-%02d-%02d", c->dob.year, c->dob.month, c->dob.day);
    if (pm_mrz_build_td3("P", c->document_issuer, "SAMPLE", "TRAVELLER", c->document_number,
                         c->citizenship, dob, c->sex, "2031-01-01", out, cap) != PM_OK)
        out[0] = '\0';
}

void pm_crossing_sample(uint64_t seed, uint64_t index, const char *reporting_country,
                        pm_crossing_t *c)
{
    pm_crossing_init(c);
    uint64_t r = mix(seed * 0x100000001b3ULL ^ index);
    uint64_t r2 = mix(r);
    uint64_t person = r % 50000; /* a population that crosses repeatedly */
    uint64_t p = mix(seed ^ (person + 1) * 0x9e3779b97f4a7c15ULL);
    int w = (int)(p % 1000);
    size_t k = 0;
    while (k + 1 < sizeof kinds / sizeof kinds[0] && w >= kinds[k].weight) {
        w -= kinds[k].weight;
        k++;
    }
    const struct person_kind *kind = &kinds[k];
    snprintf(c->record_id, sizeof c->record_id, "%s-%llu-%09llu", reporting_country,
             (unsigned long long)(seed % 1000), (unsigned long long)index);
    memcpy(c->reporting_country, reporting_country, 4);
    c->direction = (r2 & 1) ? PM_DIRECTION_ENTRY : PM_DIRECTION_EXIT;
    /* in time order as a port's file is, from 2026-03-01, one row every half
     * second (about 170,000 a day) give or take two minutes; ports at -05:00 or -08:00 */
    c->utc_offset_min = (r2 >> 1) % 4 == 0 ? -480 : -300;
    c->time_utc = pm_days_from_civil(2026, 3, 1) * 86400 + 300 + (int64_t)(index / 2) +
                  (int64_t)((r2 >> 8) % 240) - 120;
    static const char *const ports[] = {"0901", "0115", "3004", "BLA1", "DET2", "0712"};
    snprintf(c->port_code, sizeof c->port_code, "%s", ports[(r2 >> 32) % 6]);
    int m = (int)((r2 >> 40) % 100);
    c->mode = m < 85 ? PM_MODE_LAND : m < 92 ? PM_MODE_PEDESTRIAN : m < 96 ? PM_MODE_FERRY
                                                                           : PM_MODE_RAIL;
    snprintf(c->surname, sizeof c->surname, "%s", pick(kind->surnames, p >> 8));
    snprintf(c->given_names, sizeof c->given_names, "%s", pick(kind->given, p >> 16));
    if ((p >> 24) % 5 == 0)
        snprintf(c->middle_names, sizeof c->middle_names, "%s", pick(kind->given, p >> 28));
    int year = 1940 + (int)((p >> 32) % 66);
    int month = 1 + (int)((p >> 40) % 12);
    int day = 1 + (int)((p >> 44) % 28);
    int prec = (int)((p >> 50) % 100);
    c->dob.year = (int16_t)year;
    if (prec >= 3) /* a few partial dates */
        c->dob.month = (uint8_t)month;
    if (prec >= 6)
        c->dob.day = (uint8_t)(prec < 10 ? 1 : day); /* and some 01 placeholders */
    if (prec >= 6 && prec < 10)
        c->dob.month = 1;
    memcpy(c->citizenship, kind->country, 4);
    c->sex = "MFMFMFMFMX"[(p >> 54) % 10];
    int idcard = (p >> 58) % 4 == 0;
    snprintf(c->document_type, sizeof c->document_type, "%s", idcard ? "ID" : "P");
    memcpy(c->document_issuer, strcmp(kind->country, "XXB") == 0 ? "CAN" : kind->country, 4);
    snprintf(c->document_number, sizeof c->document_number, "%c%08llu",
             'A' + (int)(p % 26), (unsigned long long)(p >> 20) % 100000000ULL);
    if (!idcard && c->dob.day && (r >> 60) % 5 == 0)
        td3(c, c->mrz, sizeof c->mrz);
    pm_error_t e;
    pm_crossing_finish(c, NULL, &e); /* fills the normalised names */
}
