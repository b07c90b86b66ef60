/* Private to the synth module: the PRNG, calendar helpers, and the tables
 * (countries, cultures and their name lists, ports). */
#ifndef PM_SYNTH_INT_H
#define PM_SYNTH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/synth.h"
#include "perimeter/travel.h"

/* ---- PRNG: xoshiro256** seeded through splitmix64 (algorithms by Vigna). ---- */
typedef struct pm__rng {
    uint64_t s[4];
} pm__rng_t;

uint64_t pm__splitmix64(uint64_t *x);
/* Seeds a stream from a seed and up to three discriminators. */
void pm__rng_seed(pm__rng_t *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t c);
uint64_t pm__rng_next(pm__rng_t *r);
/* Uniform in [0, n) (n > 0), without modulo bias worth noting (Lemire). */
uint32_t pm__rng_below(pm__rng_t *r, uint32_t n);
/* Uniform double in [0, 1). */
double pm__rng_unit(pm__rng_t *r);
/* 1 with probability p. */
int pm__rng_chance(pm__rng_t *r, double p);
/* Index drawn from weights w[0..n) (sum > 0). */
size_t pm__rng_weighted(pm__rng_t *r, const double *w, size_t n);
/* Exponential with the given mean. */
double pm__rng_exp(pm__rng_t *r, double mean);
/* Approximately normal (sum of uniforms). */
double pm__rng_normal(pm__rng_t *r, double mean, double sd);

/* ---- calendar ---- */
/* Civil dates: pm_days_from_civil / pm_civil_from_days from travel.h. */
int pm__weekday(int64_t days); /* 0 = Monday .. 6 = Sunday */
int pm__days_in_month(int y, int m);
/* "YYYY-MM-DD" of a day number. */
void pm__format_date(int64_t days, char out[11]);

/* ---- time zones of ports ---- */
typedef enum pm__dst {
    PM__DST_NONE = 0,
    PM__DST_NA, /* second Sunday of March 02:00 local .. first Sunday of November */
    PM__DST_EU, /* last Sunday of March 01:00 UTC .. last Sunday of October */
} pm__dst_t;
/* UTC offset in minutes at local day `days`, local hour. */
int pm__utc_offset(int std_offset_min, pm__dst_t dst, int64_t days, int hour);

/* ---- countries ---- */
typedef struct pm__country {
    const char *code;
    double weight;          /* share of land traffic among third-country nationals (per 1000) */
    uint8_t culture_mix_id; /* index into the culture mix table */
    int16_t std_offset_min; /* a typical zone, for generic ports */
    uint8_t dst;
    const char *passport_pattern; /* per char: 'A' letter, '9' digit, 'X' either, else literal */
    uint8_t placeholder_pct;      /* % of people with 01-01 birth dates */
    uint8_t issues_x;             /* issues sex X */
} pm__country_t;

const pm__country_t *pm__country_find(const char *code);
size_t pm__country_count(void);
const pm__country_t *pm__country_at(size_t i);

/* ---- cultures and names ---- */
typedef struct pm__name {
    const char *latin;  /* ICAO Latin capitals */
    const char *native; /* as written; NULL if the same as latin */
    uint16_t weight;    /* relative frequency (0 treated as 1) */
} pm__name_t;

typedef struct pm__culture {
    const char *id;
    const char *script;
    const pm__name_t *male;
    size_t n_male;
    const pm__name_t *female;
    size_t n_female;
    const pm__name_t *surnames;
    size_t n_surnames;
    const pm__name_t *particles; /* surname prefixes; may be NULL */
    size_t n_particles;
    uint8_t particle_pct;       /* % of surnames with a particle */
    uint8_t middle_pct;         /* % with a middle name */
    uint8_t second_given_pct;   /* % with a second given name */
    uint8_t double_surname_pct; /* % with two surnames (Hispanic) */
    uint8_t patronymic;         /* middle name is a patronymic from the male list */
    uint8_t native_joins;       /* native script writes names without spaces (Han, Japanese) */
    const char *dual_country;   /* a country dual nationals of this culture often hold */
} pm__culture_t;

const pm__culture_t *pm__culture_find(const char *id);
size_t pm__culture_count(void);
const pm__culture_t *pm__culture_at(size_t i);

/* culture mix of a nationality: up to 8 (culture id, weight) pairs */
typedef struct pm__culture_mix {
    const char *ids[8];
    double w[8];
} pm__culture_mix_t;
const pm__culture_mix_t *pm__culture_mix(const char *country_code);

/* ---- transliteration variants (noise) ---- */
/* Another spelling of token (ASCII capitals) from the variant tables or the
 * spelling rules, written to out; 0 if none is known. */
int pm__translit_variant(pm__rng_t *r, const char *token, char *out, size_t out_cap);
/* 1 if the token is a surname particle (AL, BIN, VAN, DE...). */
int pm__is_particle(const char *token, size_t len);

/* ---- ports ---- */
typedef struct pm__port {
    const char *code;
    const char *name;
    int16_t std_offset_min;
    uint8_t dst;
} pm__port_t;

typedef struct pm__port_pair {
    pm__port_t side[2]; /* side[i] is in country i of the pair */
    double weight;
    /* mode weights: land, ferry, pedestrian, rail, air */
    uint8_t modes[5];
} pm__port_pair_t;

/* Port pairs for the two countries (CAN/USA table, or generic ones built into
 * buf for any other pair). Returns the count. */
size_t pm__port_pairs(const char *a, const char *b, pm__port_pair_t *buf, size_t cap,
                      char codes[][17]);

/* ---- strings ---- */
/* Bounded copy (always NUL-terminates; truncates at a UTF-8 boundary). */
void pm__strlcpy(char *dst, const char *src, size_t cap);
/* Appends src (truncating at a UTF-8 boundary). */
void pm__strlcat(char *dst, const char *src, size_t cap);

/* ---- the population model (built once per context) ---- */
#define PM__MAX_NAT   64
#define PM__MAX_PAIRS 32
typedef struct pm__model {
    pm_synth_params_t params;
    const pm__country_t *side[2];          /* the two partners */
    const pm__country_t *tcn[PM__MAX_NAT]; /* third-country nationalities */
    double tcn_w[PM__MAX_NAT];
    size_t n_tcn;
    double tcn_total;                    /* per mille of all travellers */
    int64_t start_day;                   /* days since 1970 of the first simulated day */
    double lead_w[PM_SYNTH_CLASS_COUNT]; /* class weights of household leads */
    double tcn_override; /* > 0: share of third-country nationals for everyone (watchlists) */
    pm__port_pair_t pairs[PM__MAX_PAIRS];
    double pair_w[PM__MAX_PAIRS];
    double ground_w[PM__MAX_PAIRS]; /* the same without airport-only pairs */
    size_t n_pairs;
    char port_codes[2 * PM__MAX_PAIRS][17];
} pm__model_t;

int pm__model_init(pm__model_t *m, const pm_synth_params_t *p, pm_error_t *err);

/* Behaviour facts of a person the simulation needs (derived with its names). */
typedef struct pm__plan {
    uint8_t home; /* side index the person starts in */
    uint8_t pair; /* usual port pair */
    uint8_t mode; /* usual mode: 0 land, 1 ferry, 2 pedestrian, 3 rail, 4 air */
    uint8_t cls;
    uint8_t role;    /* 0 lead of a household (or alone), k > 0 its k-th member */
    uint8_t hh_size; /* members of the household, lead included */
} pm__plan_t;

/* Generates the static facts of person pid (1-based). */
void pm__person_make(const pm__model_t *m, uint64_t pid, pm_synth_person_t *out, pm__plan_t *plan);
/* The same when its household role and size are already known. */
void pm__person_make_hh(const pm__model_t *m, uint64_t pid, int role, int hh_size,
                        pm_synth_person_t *out, pm__plan_t *plan);
/* Middle-name list of a culture that has its own (Vietnamese); 0 if none. */
int pm__culture_middle(const pm__culture_t *c, int female, const pm__name_t **out, size_t *n);
/* Title-cases an ASCII capital name ("O'BRIEN" -> "O'Brien"). */
void pm__title_case(const char *in, char *out, size_t cap);

/* ---- noise ---- */
/* Applies noise kinds (chosen by r among those applicable to the record) to c,
 * with the person for dual passports. Returns the mask applied (never 0). */
unsigned pm__noise_apply(pm__rng_t *r, const pm_synth_person_t *person, pm_synth_crossing_t *c);
/* Applies one given kind if it applies to the record; 1 if the record changed. */
int pm__noise_apply_kind(pm__rng_t *r, unsigned kind, const pm_synth_person_t *person,
                         pm_synth_crossing_t *c);
/* Fills the identity fields of a record (names in Latin, date of birth, sex,
 * document i) from a person. */
void pm__crossing_from_person(const pm_synth_person_t *p, int doc, pm_synth_crossing_t *c);

#endif
