/* Perimeter synth module: a deterministic synthetic population of travellers
 * for two partner countries, their land-border crossings with ground truth and
 * an optional noise model, watchlists and passenger manifests (DOMAIN.md §6).
 *
 * Everything is driven by a caller-owned context seeded from one 64-bit seed;
 * there is no global state, so several generators may run on several threads.
 * The same parameters always give byte-identical output. */
#ifndef PERIMETER_SYNTH_H
#define PERIMETER_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/core.h"
#include "perimeter/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_SYNTH_NAME_MAX   160 /* bytes of one name field (UTF-8), excluding NUL */
#define PM_SYNTH_MAX_PEOPLE 50000000u
#define PM_SYNTH_MAX_DAYS   3660u

/* Generation parameters. Fill with pm_synth_params_default, then override. */
typedef struct pm_synth_params {
    uint64_t seed;
    uint32_t people;      /* size of the population (1..PM_SYNTH_MAX_PEOPLE) */
    uint32_t days;        /* simulated days (1..PM_SYNTH_MAX_DAYS) */
    char countries[2][4]; /* the two partner countries, ISO alpha-3 (default CAN, USA) */
    int start_year;       /* first simulated day (default 2026-01-05) */
    int start_month;
    int start_day;
    double noise;        /* share of records that get noise, 0..1 (default 0) */
    double mrz_share;    /* share of clean passport records carrying the mrz (default 0.3) */
    double native_share; /* share of records of non-ASCII names written as given (default 0.1) */
} pm_synth_params_t;

void pm_synth_params_default(pm_synth_params_t *p);

/* Classes of traveller (behaviour over the simulated period). */
typedef enum pm_synth_class {
    PM_SYNTH_COMMUTER_DAILY = 0, /* works across the border, crosses both ways on weekdays */
    PM_SYNTH_COMMUTER_WEEKLY,    /* out on Monday, back on Friday */
    PM_SYNTH_VISITOR,            /* short trips (same day to a few weeks) */
    PM_SYNTH_LONG_STAY,          /* stays of one to six months */
    PM_SYNTH_SNOWBIRD,           /* winters in the second country (up to ~6 months) */
    PM_SYNTH_OVERSTAYER,         /* enters, does not leave before the authorised stay ends */
    PM_SYNTH_NEVER_LEAVES,       /* enters (e.g. an immigrant) and stays */
    PM_SYNTH_REMOVAL,            /* under a removal order; most depart during the period */
    PM_SYNTH_CLASS_COUNT
} pm_synth_class_t;

/* "commuter_daily", "visitor", ...; "" if out of range. */
const char *pm_synth_class_name(pm_synth_class_t c);

/* Noise kinds (bit flags) applied to a record; recorded in the truth. */
enum {
    PM_SYNTH_NOISE_TYPO = 1u << 0,        /* insert/delete/substitute/transpose in a name */
    PM_SYNTH_NOISE_TRANSLIT = 1u << 1,    /* another transliteration of a name */
    PM_SYNTH_NOISE_DROP_MIDDLE = 1u << 2, /* middle name(s) dropped */
    PM_SYNTH_NOISE_PARTICLE = 1u << 3, /* surname particle (AL, BIN, VAN, DE...) dropped/joined */
    PM_SYNTH_NOISE_ORDER = 1u << 4,    /* given names and surname swapped */
    PM_SYNTH_NOISE_DOB_SWAP = 1u << 5, /* day and month of birth swapped */
    PM_SYNTH_NOISE_DOB_PLACEHOLDER = 1u << 6, /* date of birth replaced by YYYY-01-01 */
    PM_SYNTH_NOISE_OCR = 1u << 7,             /* OCR confusion in the document number */
    PM_SYNTH_NOISE_DUAL = 1u << 8,            /* dual national crossing on the other passport */
    PM_SYNTH_NOISE_KIND_COUNT = 9
};

/* Writes the noise kinds of mask as "typo;translit" (empty for 0) into out. */
void pm_synth_noise_names(unsigned mask, char *out, size_t out_cap);
/* Name of one kind bit ("typo", ...); "" if not a single known bit. */
const char *pm_synth_noise_name(unsigned bit);

/* One generated crossing record: every field is the wire string of
 * docs/crossings-format.md ("" = absent), plus its truth and facts. */
typedef struct pm_synth_crossing {
    char record_id[48];
    char reporting_country[4];
    char direction[8]; /* always "entry": each side reports its own entries */
    char timestamp[32];
    char port_code[17];
    char mode[12];
    char surname[PM_SYNTH_NAME_MAX + 1];
    char given_names[PM_SYNTH_NAME_MAX + 1];
    char middle_names[PM_SYNTH_NAME_MAX + 1];
    char date_of_birth[11];
    char citizenship[4];
    char sex[2];
    char document_type[3];
    char document_number[21];
    char document_issuer[4];
    char mrz[96];
    /* admission data (local to the admitting country; docs/synth.md):
     * citizen, permanent_resident, visitor, student, worker; stay_until is
     * the last authorised day ("" for none) */
    char admission_class[24];
    char stay_until[11];
    /* not part of the record: */
    uint64_t person_id; /* ground truth */
    unsigned noise;     /* PM_SYNTH_NOISE_* applied */
    int64_t time_utc;   /* seconds since 1970 UTC */
    int utc_offset_min; /* offset of the port, minutes east of UTC */
    uint32_t day;       /* simulated day index */
} pm_synth_crossing_t;

/* One travel document of a person. */
typedef struct pm_synth_document {
    char type[3]; /* "P" passport, "I" passport card */
    char number[21];
    char issuer[4];
    char nationality[4]; /* the citizenship it attests */
    char issued[11];     /* YYYY-MM-DD */
    char expiry[11];
} pm_synth_document_t;

/* One person of the population (the "person master"). Latin names are the
 * ICAO 9303 (MRZ) forms in capitals; *_native are the names as written in the
 * person's script (may equal the Latin form for plain-ASCII names). */
typedef struct pm_synth_person {
    uint64_t person_id;
    char surname[PM_SYNTH_NAME_MAX + 1];
    char given_names[PM_SYNTH_NAME_MAX + 1];
    char middle_names[PM_SYNTH_NAME_MAX + 1];
    char surname_native[PM_SYNTH_NAME_MAX + 1];
    char given_names_native[PM_SYNTH_NAME_MAX + 1];
    char middle_names_native[PM_SYNTH_NAME_MAX + 1];
    const char *script;     /* "Latin", "Cyrillic", "Arabic", "Han", ... (static) */
    const char *culture;    /* name-list culture, e.g. "anglo", "arabic" (static) */
    char sex;               /* 'M', 'F', 'X' */
    char date_of_birth[11]; /* as on the documents: full, YYYY-MM, YYYY, or a placeholder */
    char citizenship[4];    /* primary */
    char residence[4];      /* country the person lives in (one of the pair, or elsewhere) */
    char start_location[4]; /* partner country the person is in on the first simulated day */
    pm_synth_class_t cls;
    uint64_t household_id; /* person id of the household's lead (itself if alone) */
    int household_role;    /* 0 lead or alone; 1 spouse/partner; 2.. children */
    int household_size;    /* people who travel together, lead included */
    int n_documents;       /* 1, or 2 for dual nationals */
    pm_synth_document_t documents[2];
    /* documents[0] renewed during the period: the new one is used from its
     * issue date on (has_renewal 0: documents[0] is valid throughout) */
    int has_renewal;
    pm_synth_document_t renewal;
    int authorised_stay_days;     /* per entry into the other country (0 = not applicable) */
    char authorised_stay_end[11]; /* end of the last authorised stay in the period ("" if none) */
    int removal_order;            /* 1 if under a removal order */
    char removal_country[4];      /* the country that ordered it */
    char removal_order_date[11];
    char removal_order_id[16]; /* the ordering country's case number, "RO" + 10 hex */
    /* filled after a run (pm_synth_run): */
    uint32_t crossings;      /* crossings made in the period */
    char location_at_end[4]; /* country the person is in after the last simulated day */
} pm_synth_person_t;

typedef struct pm_synth pm_synth_t;

/* Called once per crossing, in time order within each simulated day. A nonzero
 * return stops the run, which then returns that value. The record is only
 * valid during the call. */
typedef int (*pm_synth_crossing_fn)(void *user, const pm_synth_crossing_t *c);
/* Called once per person after the crossings (person master). */
typedef int (*pm_synth_person_fn)(void *user, const pm_synth_person_t *p);

/* Creates a generator for params (copied). PM_EINVAL with a message for bad
 * parameters (unknown country, counts out of range, bad date). Caller frees
 * with pm_synth_free. */
int pm_synth_new(const pm_synth_params_t *params, pm_synth_t **out, pm_error_t *err);
void pm_synth_free(pm_synth_t *s);

/* Runs the whole simulation once, streaming every crossing to on_crossing and
 * then (if on_person is not NULL) every person to on_person. Memory grows with
 * the number of people (about 48 bytes each) and one day's crossings, not with
 * the total. Returns 0, a callback's nonzero value, or a negative code. */
int pm_synth_run(pm_synth_t *s, pm_synth_crossing_fn on_crossing, pm_synth_person_fn on_person,
                 void *user, pm_error_t *err);

/* Regenerates the static facts of one person (1..people) without running the
 * simulation (crossings/location_at_end/authorised_stay_end are left empty). */
int pm_synth_person(const pm_synth_t *s, uint64_t person_id, pm_synth_person_t *out,
                    pm_error_t *err);

/* --- wire helpers --- */

/* Appends the canonical CSV header (record columns) / one record as CSV or as
 * a JSON object line (the mrz key only when present). PM_ELIMIT past the
 * buffer's max. */
int pm_synth_csv_header(pm_buf_t *out);
int pm_synth_crossing_csv(const pm_synth_crossing_t *c, pm_buf_t *out);
int pm_synth_crossing_jsonl(const pm_synth_crossing_t *c, pm_buf_t *out);
/* The truth row "reporting_country,record_id,person_id,noise\n" (and its header). */
int pm_synth_truth_header(pm_buf_t *out);
int pm_synth_truth_csv(const pm_synth_crossing_t *c, pm_buf_t *out);
/* The person master header and row (columns in docs/synth.md). */
int pm_synth_people_header(pm_buf_t *out);
int pm_synth_person_csv(const pm_synth_person_t *p, pm_buf_t *out);
/* The removal-order list (header, and one row per person under an order;
 * nothing for others): order_id, surname, given_names (with middle names),
 * date_of_birth, document_number, document_issuer, order_date,
 * ordering_country. The input of `perimeter report removals`. */
int pm_synth_removals_header(pm_buf_t *out);
int pm_synth_removal_csv(const pm_synth_person_t *p, pm_buf_t *out);
/* Appends s as one RFC 4180 CSV field (quoted only when needed). */
int pm_synth_csv_field(pm_buf_t *out, const char *s);

/* --- watchlists and manifests --- */

/* Reads a person master CSV (as written by pm_synth_person_csv; columns found
 * by the header) and returns k people drawn by the seed (all of them, in a
 * seeded order, if the file holds fewer), without keeping the rest in memory.
 * *out is malloc'd (caller frees), *out_n its count. Errors name the line. */
int pm_synth_people_sample(const char *path, size_t k, uint64_t seed, pm_synth_person_t **out,
                           size_t *out_n, pm_error_t *err);
/* The same over data[0..len) in memory (borrowed). */
int pm_synth_people_sample_mem(const char *data, size_t len, size_t k, uint64_t seed,
                               pm_synth_person_t **out, size_t *out_n, pm_error_t *err);

/* Appends a watchlist CSV of `size` entries to wl (header: watchlist_id,
 * surname, given_names, aliases, date_of_birth, sex, citizenship, reason;
 * aliases ';'-separated, each "SURNAME, GIVEN NAMES") and its truth
 * (watchlist_id,person_id; person_id empty for invented entries) to truth
 * (may be NULL). The n_hits people of hits[] become entries written as a
 * watchlist would hold them (other transliterations, partial dates of birth,
 * aliases, some in their own script); the other entries are invented people
 * (common names among them, so they can collide with innocent travellers).
 * PM_EINVAL if n_hits > size. */
int pm_synth_watchlist(const pm_synth_person_t *hits, size_t n_hits, uint32_t size, uint64_t seed,
                       pm_buf_t *wl, pm_buf_t *truth, pm_error_t *err);

/* Manifest parameters. */
typedef struct pm_synth_manifest_params {
    uint64_t seed;
    char countries[2][4]; /* flights between these two (default CAN, USA) */
    int year, month, day; /* first departure date */
    uint32_t flights;
    double noise; /* share of passenger rows with noise (same model as crossings) */
} pm_synth_manifest_params_t;

void pm_synth_manifest_params_default(pm_synth_manifest_params_t *mp);

/* Appends an APIS-like passenger manifest CSV (columns in docs/synth.md) to
 * out: the n passengers are spread over mp->flights flights between airports
 * of the two countries; truth (may be NULL) gets flight,passenger_seq,
 * person_id,noise. */
int pm_synth_manifest(const pm_synth_person_t *passengers, size_t n,
                      const pm_synth_manifest_params_t *mp, pm_buf_t *out, pm_buf_t *truth,
                      pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
