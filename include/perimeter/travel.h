/* Perimeter travel module: the crossing record (DOMAIN.md section 1), its
 * validation (ISO 3166-1 / ICAO 9303 codes, dates, check digits), and the
 * CSV / JSON Lines wire format of docs/crossings-format.md.
 *
 * A pm_crossing_t is a plain value: fixed-size, NUL-terminated text fields,
 * no heap pointers, so it can be copied, zeroed and stored freely. */
#ifndef PERIMETER_TRAVEL_H
#define PERIMETER_TRAVEL_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/core.h"
#include "perimeter/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Field limits in bytes (excluding the NUL). Names are UTF-8, any script. */
#define PM_RECORD_ID_MAX 64
#define PM_PORT_CODE_MAX 16
#define PM_NAME_MAX 192      /* one name field as given */
#define PM_NAME_NORM_MAX 384 /* its normalised form (NFKC may expand) */
#define PM_DOCNUM_MAX 20
#define PM_MRZ_MAX 100 /* TD1 3x30, TD2 2x36, TD3 2x44, joined by '|' */
#define PM_ADMISSION_CLASS_MAX 24

typedef enum pm_direction {
    PM_DIRECTION_UNSET = 0,
    PM_DIRECTION_ENTRY = 1,
    PM_DIRECTION_EXIT = 2,
} pm_direction_t;

typedef enum pm_mode {
    PM_MODE_UNSET = 0,
    PM_MODE_LAND = 1,
    PM_MODE_FERRY = 2,
    PM_MODE_PEDESTRIAN = 3,
    PM_MODE_RAIL = 4,
    PM_MODE_AIR = 5,
} pm_mode_t;

/* A date of birth: full (year, month, day), year+month, or year only.
 * Placeholders such as 01 January are full dates; pm_dob_is_placeholder
 * says whether a full date looks like one (the linker weights it low). */
typedef struct pm_dob {
    int16_t year; /* 0 = unset */
    uint8_t month; /* 0 = unknown */
    uint8_t day;   /* 0 = unknown */
} pm_dob_t;

/* One crossing record. Every text field is NUL-terminated; absent = "". */
typedef struct pm_crossing {
    int64_t store_id; /* row id assigned by the store (0 until stored); also the feed cursor */
    char record_id[PM_RECORD_ID_MAX + 1];  /* sender-assigned, [A-Za-z0-9._:-] */
    char reporting_country[4];             /* alpha-3 of the country whose port recorded it */
    pm_direction_t direction;              /* as stored here (a partner entry becomes our exit) */
    int64_t time_utc;                      /* crossing instant, seconds since 1970-01-01 UTC */
    int16_t utc_offset_min;                /* local offset of the port, minutes east of UTC */
    char port_code[PM_PORT_CODE_MAX + 1];  /* [A-Z0-9] */
    pm_mode_t mode;
    char surname[PM_NAME_MAX + 1];         /* as given */
    char given_names[PM_NAME_MAX + 1];     /* as given, space-separated */
    char middle_names[PM_NAME_MAX + 1];    /* as given, may be "" */
    char surname_norm[PM_NAME_NORM_MAX + 1]; /* NFKC, case-folded, marks stripped, spaces collapsed */
    char given_names_norm[PM_NAME_NORM_MAX + 1];
    char middle_names_norm[PM_NAME_NORM_MAX + 1];
    pm_dob_t dob;
    char citizenship[4];                   /* ISO 3166-1 alpha-3 or ICAO code (XXA, UNO, ...) */
    char sex;                              /* 'M', 'F' or 'X' */
    char document_type[3];                 /* ICAO 9303 code, e.g. "P", "PM", "ID" ("I" + letter) */
    char document_number[PM_DOCNUM_MAX + 1];
    char document_issuer[4];               /* alpha-3 or ICAO organisation code */
    char mrz[PM_MRZ_MAX + 1];              /* optional, lines joined by '|' */
    char origin[4]; /* "" for our own records; the partner's code for records received in its feed */
    /* Admission data: only on our own entries, kept local (not in the list of
     * exchanged elements, so never written to the partner feed). */
    char admission_class[PM_ADMISSION_CLASS_MAX + 1]; /* "" = not recorded; see pm_admission_class_valid */
    pm_dob_t stay_until; /* authorised stay ends at the end of this local day; year 0 = not recorded */
} pm_crossing_t;

/* The wire fields, in the canonical column order of docs/crossings-format.md. */
typedef enum pm_crossing_field {
    PM_CF_RECORD_ID = 0,
    PM_CF_REPORTING_COUNTRY,
    PM_CF_DIRECTION,
    PM_CF_TIMESTAMP,
    PM_CF_PORT_CODE,
    PM_CF_MODE,
    PM_CF_SURNAME,
    PM_CF_GIVEN_NAMES,
    PM_CF_MIDDLE_NAMES,
    PM_CF_DATE_OF_BIRTH,
    PM_CF_CITIZENSHIP,
    PM_CF_SEX,
    PM_CF_DOCUMENT_TYPE,
    PM_CF_DOCUMENT_NUMBER,
    PM_CF_DOCUMENT_ISSUER,
    PM_CF_MRZ,
    PM_CF_COUNT, /* the exchanged (wire) fields end here */
    /* local fields: our own entries only, read on import, never exported */
    PM_CF_ADMISSION_CLASS = PM_CF_COUNT,
    PM_CF_STAY_UNTIL,
    PM_CF_ALL_COUNT,
    PM_CF_NONE = -1 /* a problem not tied to one field (e.g. column count) */
} pm_crossing_field_t;

/* Admission classes: citizen, permanent_resident, visitor, student, worker,
 * refugee_claimant, other. Returns 1 for one of them. */
int pm_admission_class_valid(const char *s, size_t len);

/* Wire name of a field ("record_id", ...); "row" for PM_CF_NONE. Never NULL. */
const char *pm_crossing_field_name(pm_crossing_field_t f);
/* Field for a wire name of given length; PM_CF_NONE if unknown. */
pm_crossing_field_t pm_crossing_field_from_name(const char *name, size_t len);

/* Zeroes a record (all fields absent). */
void pm_crossing_init(pm_crossing_t *c);

/* Parses and validates one wire field (value need not be NUL-terminated) into
 * c. On failure returns PM_EVALIDATION (or PM_EUTF8 / PM_ELIMIT / PM_ECHECKSUM)
 * with err->msg "<field>: <reason>" and leaves the field unset. */
int pm_crossing_set_field(pm_crossing_t *c, pm_crossing_field_t f, const char *value, size_t len,
                          pm_error_t *err);

/* Checks the whole record after its fields are set: required fields present,
 * date of birth not after the crossing, MRZ check digits and agreement with
 * the fields. Fills the normalised names. On failure returns a negative code,
 * *out_field (may be NULL) names the offending field, err says why. */
int pm_crossing_finish(pm_crossing_t *c, pm_crossing_field_t *out_field, pm_error_t *err);

/* --- value helpers (all pure functions) --- */

/* 1 if code (3 bytes) is an ISO 3166-1 alpha-3 country code, else 0. */
int pm_country_is_iso(const char *code);
/* 1 if code is acceptable as citizenship or document issuer: ISO 3166-1
 * alpha-3 or an ICAO 9303 code (XXA stateless, XXB/XXC refugee, XXX
 * unspecified, UNO/UNA/UNK United Nations, XOM, EUE, GBD..., RKS, ...). */
int pm_country_is_valid(const char *code);

/* ICAO 9303 check digit (weights 7,3,1; A-Z = 10..35; '<' = 0) over s[0..len).
 * Returns 0..9, or -1 if s holds a character outside [0-9A-Z<]. */
int pm_icao_check_digit(const char *s, size_t len);

/* Validates an MRZ (TD1 3x30, TD2 2x36, TD3 2x44 incl. MRV-A/B visas; lines
 * joined by '|'): line lengths, charset, every check digit. If c is not NULL
 * also checks that it agrees with c's document type/number/issuer,
 * citizenship, date of birth and sex. PM_ECHECKSUM / PM_EVALIDATION on failure. */
int pm_mrz_validate(const char *mrz, const pm_crossing_t *c, pm_error_t *err);

/* Builds a TD3 (passport) MRZ, two 44-character lines joined by '|', into
 * out (at least 90 bytes). Names must be ICAO Latin capitals; dob and expiry
 * full YYYY-MM-DD dates. PM_EINVAL if a field cannot be encoded. */
int pm_mrz_build_td3(const char *doc_type, const char *issuer, const char *surname,
                     const char *given_names, const char *number, const char *nationality,
                     const char *dob, char sex, const char *expiry, char *out, size_t out_cap);

/* Parses "YYYY-MM-DDThh:mm:ss+hh:mm" (or "Z") into UTC seconds and offset. */
int pm_timestamp_parse(const char *s, size_t len, int64_t *out_utc, int16_t *out_offset_min,
                       pm_error_t *err);
/* Formats the instant in its local offset, as the wire form; out needs 26 bytes. */
void pm_timestamp_format(int64_t utc, int16_t offset_min, char out[32]);

/* Parses "YYYY-MM-DD", "YYYY-MM" or "YYYY" (year 1850..2100, real calendar dates). */
int pm_dob_parse(const char *s, size_t len, pm_dob_t *out, pm_error_t *err);
/* Wire form of a date of birth; out needs 11 bytes. */
void pm_dob_format(const pm_dob_t *d, char out[16]);
/* 1 if a full date looks like a placeholder (01 January, 01 July, or day 01 with month 01). */
int pm_dob_is_placeholder(const pm_dob_t *d);

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int64_t pm_days_from_civil(int year, int month, int day);
/* The civil date (proleptic Gregorian) of a day count since 1970-01-01. */
void pm_civil_from_days(int64_t days, int *out_year, int *out_month, int *out_day);

/* Normalises a UTF-8 name: NFKC, case fold, combining marks stripped,
 * whitespace runs collapsed to one space, trimmed. out_cap includes the NUL.
 * PM_EUTF8 on invalid input, PM_ELIMIT if the result does not fit. */
int pm_name_normalize(const char *s, size_t len, char *out, size_t out_cap, pm_error_t *err);

const char *pm_direction_name(pm_direction_t d); /* "entry", "exit", "" */
const char *pm_mode_name(pm_mode_t m);           /* "land", ...; "" if unset */

/* --- wire format --- */

typedef enum pm_crossing_format {
    PM_CROSSING_FORMAT_AUTO = 0, /* by file extension (.csv / .jsonl / .ndjson / .json) */
    PM_CROSSING_FORMAT_CSV = 1,
    PM_CROSSING_FORMAT_JSONL = 2,
} pm_crossing_format_t;

/* Format for a file name by extension; PM_CROSSING_FORMAT_AUTO if unknown. */
pm_crossing_format_t pm_crossing_format_for_path(const char *path);

/* Limits of the readers. */
#define PM_CROSSING_LINE_MAX 8192 /* bytes per CSV record / JSON line */
#define PM_CROSSING_FIELD_MAX 512 /* bytes per field before field-specific limits */

/* A streaming reader of crossing records from a file descriptor or memory.
 * Not thread-safe per reader; several readers may run on several threads. */
typedef struct pm_crossing_reader pm_crossing_reader_t;

/* Opens a reader over fd (not closed by the reader). fmt must be CSV or JSONL.
 * Caller frees with pm_crossing_reader_free. */
int pm_crossing_reader_open_fd(int fd, pm_crossing_format_t fmt, pm_crossing_reader_t **out,
                               pm_error_t *err);
/* Opens a reader over data[0..len) (borrowed; must outlive the reader). */
int pm_crossing_reader_open_mem(const char *data, size_t len, pm_crossing_format_t fmt,
                                pm_crossing_reader_t **out, pm_error_t *err);
void pm_crossing_reader_free(pm_crossing_reader_t *r);

/* Reads the next record into *out (validated and finished).
 * Returns 1 for a good record, 0 at end of input,
 * PM_EVALIDATION for a rejected row: err->msg says "line N: field: reason",
 * err->code holds the precise cause (PM_EVALIDATION, PM_EUTF8, PM_ELIMIT,
 * PM_ECHECKSUM, PM_ETRUNCATED, PM_EFORMAT), pm_crossing_reader_line/_error_field
 * give the parts, and the next call continues with the following row;
 * any other negative code is fatal (PM_EFORMAT bad header, PM_EIO): stop.
 * A JSONL "cursor" key, if present, is returned in *out_cursor (may be NULL; -1 if absent). */
int pm_crossing_reader_next(pm_crossing_reader_t *r, pm_crossing_t *out, int64_t *out_cursor,
                            pm_error_t *err);
/* Line number (1-based, physical line where the row started) of the last row returned. */
uint64_t pm_crossing_reader_line(const pm_crossing_reader_t *r);
/* Field of the last rejection (PM_CF_NONE if not field-specific). */
pm_crossing_field_t pm_crossing_reader_error_field(const pm_crossing_reader_t *r);

/* Appends the CSV header row (canonical columns, CRLF-free "\n" line end). */
int pm_crossing_csv_header(pm_buf_t *out);
/* Appends one record as a CSV row (RFC 4180 quoting where needed). */
int pm_crossing_to_csv(const pm_crossing_t *c, pm_buf_t *out);
/* Appends one record as a JSON object line; cursor >= 0 adds "cursor". The
 * direction written is the record's wire direction (its `direction` field). */
int pm_crossing_to_jsonl(const pm_crossing_t *c, int64_t cursor, pm_buf_t *out);

/* --- import into a store --- */

struct pm_store;

typedef struct pm_import_options {
    size_t batch_rows; /* rows per committed transaction (0 = 20000); a crash loses at most one batch */
    int strict;        /* nonzero: any rejected row means nothing from the input is stored */
    /* Non-NULL: the input is this partner's feed (alpha-3). Each row must be an
     * entry reported by that partner; it is stored as an exit from here with
     * origin = the partner. The feed's highest "cursor" is stored with each
     * batch (pm_store_partner_cursor), so a consumer resumes where it stopped. */
    const char *from_partner;
    /* Called for each rejected row (may be NULL): line, field (PM_CF_NONE if
     * none) and the error (message "line N: field: reason"). */
    void (*on_reject)(void *ctx, uint64_t line, pm_crossing_field_t field, const pm_error_t *e);
    /* Called after each committed batch (may be NULL). */
    void (*on_batch)(void *ctx, uint64_t rows_read, uint64_t rows_stored);
    void *ctx;
} pm_import_options_t;

typedef struct pm_import_stats {
    uint64_t rows;       /* rows read (good + rejected) */
    uint64_t stored;     /* new records stored */
    uint64_t duplicates; /* good rows whose (reporting_country, record_id) was already stored */
    uint64_t rejected;   /* rows rejected */
    int64_t last_cursor; /* highest "cursor" seen in a JSONL feed, -1 if none */
} pm_import_stats_t;

/* Reads every row of r and stores the good ones in st, in batches of
 * o->batch_rows rows per transaction (options may be NULL: defaults).
 * Returns PM_OK if every row was good, PM_EPARTIAL if some were rejected (the
 * good ones are stored), PM_EVALIDATION in strict mode when any row was
 * rejected (nothing stored), or another negative code on a fatal error (rows
 * of batches committed before it stay stored). *out_stats (may be NULL) is
 * filled in every case. */
int pm_crossings_import(struct pm_store *st, pm_crossing_reader_t *r, const pm_import_options_t *o,
                        pm_import_stats_t *out_stats, pm_error_t *err);

/* A deterministic, plausible crossing number `index` of a sample stream
 * (seed picks the stream): names in several scripts, weighted nationalities,
 * partial dates of birth, passports and ID cards, some with a valid TD3 MRZ,
 * timestamps in time order (about 170,000 rows a day from 2026-03-01). For benchmarks and tests before real generated data. */
void pm_crossing_sample(uint64_t seed, uint64_t index, const char *reporting_country,
                        pm_crossing_t *out);

#ifdef __cplusplus
}
#endif
#endif
