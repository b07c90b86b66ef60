/* The crossing record: field-by-field parsing and validation, and the
 * whole-record checks (required fields, dates, MRZ agreement). */
#include <stdio.h>
#include <string.h>

#include "perimeter/travel.h"
#include "travel/travel_impl.h"

static const char *const field_names[PM_CF_ALL_COUNT] = {
    "record_id",   "reporting_country", "direction",       "timestamp",
    "port_code",   "mode",              "surname",         "given_names",
    "middle_names", "date_of_birth",    "citizenship",     "sex",
    "document_type", "document_number", "document_issuer", "mrz",
    "admission_class", "stay_until",
};

static const char *const admission_classes[] = {"citizen", "permanent_resident", "visitor",
                                                "student", "worker", "refugee_claimant",
                                                "other"};

int pm_admission_class_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof admission_classes / sizeof admission_classes[0]; i++)
        if (strlen(admission_classes[i]) == len && memcmp(admission_classes[i], s, len) == 0)
            return 1;
    return 0;
}

const char *pm_crossing_field_name(pm_crossing_field_t f)
{
    if (f < 0 || f >= PM_CF_ALL_COUNT)
        return "row";
    return field_names[f];
}

pm_crossing_field_t pm_crossing_field_from_name(const char *name, size_t len)
{
    for (int i = 0; i < PM_CF_ALL_COUNT; i++)
        if (strlen(field_names[i]) == len && memcmp(field_names[i], name, len) == 0)
            return (pm_crossing_field_t)i;
    return PM_CF_NONE;
}

void pm_crossing_init(pm_crossing_t *c)
{
    memset(c, 0, sizeof *c);
}

const char *pm_direction_name(pm_direction_t d)
{
    return d == PM_DIRECTION_ENTRY ? "entry" : d == PM_DIRECTION_EXIT ? "exit" : "";
}

const char *pm_mode_name(pm_mode_t m)
{
    static const char *const names[] = {"", "land", "ferry", "pedestrian", "rail", "air"};
    return (m >= PM_MODE_UNSET && m <= PM_MODE_AIR) ? names[m] : "";
}

/* Offset of the first invalid UTF-8 sequence (overlong, surrogate, > U+10FFFF,
 * truncated), or -1 if s is valid. */
long pm__utf8_invalid_at(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF)
            n = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 3, cp = c & 0x07;
        else
            return (long)i;
        if (len - i <= n)
            return (long)i;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return (long)i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return (long)i;
        i += n + 1;
    }
    return -1;
}

static int bad(pm_crossing_field_t f, pm_error_t *err, const char *reason)
{
    return pm_error_set(err, PM_EVALIDATION, "%s: %s", pm_crossing_field_name(f), reason);
}

/* Copies a value of [A-Z0-9] (plus extra characters) with length limits. */
static int copy_charset(pm_crossing_field_t f, const char *v, size_t len, size_t min, size_t max,
                        const char *extra, const char *what, char *out, pm_error_t *err)
{
    if (len < min || len > max)
        return pm_error_set(err, PM_EVALIDATION, "%s: want %zu-%zu characters of %s, got %zu",
                            pm_crossing_field_name(f), min, max, what, len);
    for (size_t i = 0; i < len; i++) {
        char ch = v[i];
        int ok = (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 (extra && ch && strchr(extra, ch));
        if (!ok)
            return pm_error_set(err, PM_EVALIDATION, "%s: character %zu ('%c') is not one of %s",
                                pm_crossing_field_name(f), i + 1,
                                (unsigned char)ch >= 0x20 && (unsigned char)ch < 0x7f ? ch : '?',
                                what);
    }
    memcpy(out, v, len);
    out[len] = '\0';
    return PM_OK;
}

static int copy_code(pm_crossing_field_t f, const char *v, size_t len, int iso_only, char out[4],
                     pm_error_t *err)
{
    char code[4];
    if (len != 3)
        return pm_error_set(err, PM_EVALIDATION, "%s: want a 3-letter code, got %zu characters",
                            pm_crossing_field_name(f), len);
    memcpy(code, v, 3);
    code[3] = '\0';
    if (iso_only ? !pm_country_is_iso(code) : !pm_country_is_valid(code))
        return pm_error_set(err, PM_EVALIDATION, "%s: '%s' is not %s",
                            pm_crossing_field_name(f), code,
                            iso_only ? "an ISO 3166-1 alpha-3 country code"
                                     : "an ISO 3166-1 alpha-3 or ICAO 9303 code");
    memcpy(out, code, 4);
    return PM_OK;
}

static int copy_name(pm_crossing_field_t f, const char *v, size_t len, int required, char *out,
                     pm_error_t *err)
{
    if (len > PM_NAME_MAX)
        return pm_error_set(err, PM_ELIMIT, "%s: longer than %d bytes",
                            pm_crossing_field_name(f), PM_NAME_MAX);
    int blank = 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch < 0x20 || ch == 0x7f)
            return pm_error_set(err, PM_EVALIDATION, "%s: control character at byte %zu",
                                pm_crossing_field_name(f), i + 1);
        if (ch != ' ')
            blank = 0;
    }
    if (required && blank)
        return bad(f, err, "required, but empty");
    memcpy(out, v, len);
    out[len] = '\0';
    return PM_OK;
}

int pm_crossing_set_field(pm_crossing_t *c, pm_crossing_field_t f, const char *v, size_t len,
                          pm_error_t *err)
{
    long at = pm__utf8_invalid_at((const unsigned char *)v, len);
    if (at >= 0)
        return pm_error_set(err, PM_EUTF8, "%s: invalid UTF-8 at byte %ld",
                            pm_crossing_field_name(f), at + 1);
    switch (f) {
    case PM_CF_RECORD_ID:
        return copy_charset(f, v, len, 1, PM_RECORD_ID_MAX, "abcdefghijklmnopqrstuvwxyz._:-",
                            "[A-Za-z0-9._:-]", c->record_id, err);
    case PM_CF_REPORTING_COUNTRY:
        return copy_code(f, v, len, 1, c->reporting_country, err);
    case PM_CF_DIRECTION:
        if (len == 5 && memcmp(v, "entry", 5) == 0)
            c->direction = PM_DIRECTION_ENTRY;
        else if (len == 4 && memcmp(v, "exit", 4) == 0)
            c->direction = PM_DIRECTION_EXIT;
        else
            return bad(f, err, "want 'entry' or 'exit'");
        return PM_OK;
    case PM_CF_TIMESTAMP:
        return pm_timestamp_parse(v, len, &c->time_utc, &c->utc_offset_min, err);
    case PM_CF_PORT_CODE:
        return copy_charset(f, v, len, 1, PM_PORT_CODE_MAX, NULL, "[A-Z0-9]", c->port_code, err);
    case PM_CF_MODE:
        for (int m = PM_MODE_LAND; m <= PM_MODE_AIR; m++) {
            const char *name = pm_mode_name((pm_mode_t)m);
            if (strlen(name) == len && memcmp(name, v, len) == 0) {
                c->mode = (pm_mode_t)m;
                return PM_OK;
            }
        }
        return bad(f, err, "want land, ferry, pedestrian, rail or air");
    case PM_CF_SURNAME:
        return copy_name(f, v, len, 1, c->surname, err);
    case PM_CF_GIVEN_NAMES:
        return copy_name(f, v, len, 0, c->given_names, err);
    case PM_CF_MIDDLE_NAMES:
        return copy_name(f, v, len, 0, c->middle_names, err);
    case PM_CF_DATE_OF_BIRTH:
        return pm_dob_parse(v, len, &c->dob, err);
    case PM_CF_CITIZENSHIP:
        return copy_code(f, v, len, 0, c->citizenship, err);
    case PM_CF_SEX:
        if (len != 1 || (v[0] != 'M' && v[0] != 'F' && v[0] != 'X'))
            return bad(f, err, "want M, F or X");
        c->sex = v[0];
        return PM_OK;
    case PM_CF_DOCUMENT_TYPE:
        if (len < 1 || len > 2 || !strchr("PIACV", v[0]) || v[0] == '\0' ||
            (len == 2 && (v[1] < 'A' || v[1] > 'Z')))
            return bad(f, err,
                       "want an ICAO 9303 code: 1-2 capital letters starting with P, I, A, C or V");
        memcpy(c->document_type, v, len);
        c->document_type[len] = '\0';
        return PM_OK;
    case PM_CF_DOCUMENT_NUMBER:
        return copy_charset(f, v, len, 1, PM_DOCNUM_MAX, NULL, "[A-Z0-9]", c->document_number,
                            err);
    case PM_CF_DOCUMENT_ISSUER:
        return copy_code(f, v, len, 0, c->document_issuer, err);
    case PM_CF_MRZ:
        if (len == 0) {
            c->mrz[0] = '\0';
            return PM_OK;
        }
        return copy_charset(f, v, len, 1, PM_MRZ_MAX, "<|", "[0-9A-Z<|]", c->mrz, err);
    case PM_CF_ADMISSION_CLASS:
        if (len == 0) {
            c->admission_class[0] = '\0';
            return PM_OK;
        }
        if (!pm_admission_class_valid(v, len))
            return bad(f, err, "want citizen, permanent_resident, visitor, student, worker, "
                               "refugee_claimant or other");
        memcpy(c->admission_class, v, len);
        c->admission_class[len] = '\0';
        return PM_OK;
    case PM_CF_STAY_UNTIL:
        if (len == 0) {
            memset(&c->stay_until, 0, sizeof c->stay_until);
            return PM_OK;
        }
        if (pm_dob_parse(v, len, &c->stay_until, NULL) || !c->stay_until.month ||
            !c->stay_until.day) {
            memset(&c->stay_until, 0, sizeof c->stay_until);
            return bad(f, err, "want a full date YYYY-MM-DD");
        }
        return PM_OK;
    default:
        return pm_error_set(err, PM_EINVAL, "unknown field %d", (int)f);
    }
}

static int missing(const pm_crossing_t *c, pm_crossing_field_t *out_field)
{
    struct {
        int absent;
        pm_crossing_field_t f;
    } req[] = {
        {!c->record_id[0], PM_CF_RECORD_ID},
        {!c->reporting_country[0], PM_CF_REPORTING_COUNTRY},
        {c->direction == PM_DIRECTION_UNSET, PM_CF_DIRECTION},
        {c->time_utc == 0 && c->utc_offset_min == 0, PM_CF_TIMESTAMP},
        {!c->port_code[0], PM_CF_PORT_CODE},
        {c->mode == PM_MODE_UNSET, PM_CF_MODE},
        {!c->surname[0], PM_CF_SURNAME},
        {c->dob.year == 0, PM_CF_DATE_OF_BIRTH},
        {!c->citizenship[0], PM_CF_CITIZENSHIP},
        {!c->sex, PM_CF_SEX},
        {!c->document_type[0], PM_CF_DOCUMENT_TYPE},
        {!c->document_number[0], PM_CF_DOCUMENT_NUMBER},
        {!c->document_issuer[0], PM_CF_DOCUMENT_ISSUER},
    };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (req[i].absent) {
            *out_field = req[i].f;
            return 1;
        }
    return 0;
}

int pm_crossing_finish(pm_crossing_t *c, pm_crossing_field_t *out_field, pm_error_t *err)
{
    pm_crossing_field_t dummy;
    if (!out_field)
        out_field = &dummy;
    *out_field = PM_CF_NONE;
    if (missing(c, out_field))
        return pm_error_set(err, PM_EVALIDATION, "%s: required, but missing",
                            pm_crossing_field_name(*out_field));
    /* Date of birth must not be after the (local) crossing date, nor absurdly early. */
    int64_t local = c->time_utc + (int64_t)c->utc_offset_min * 60;
    int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int cy, cm, cd;
    pm_civil_from_days(day, &cy, &cm, &cd);
    long dob_key = c->dob.year * 10000L + c->dob.month * 100L + c->dob.day;
    long cross_key = cy * 10000L + (c->dob.month ? cm * 100L : 0) + (c->dob.day ? cd : 0);
    if (dob_key > cross_key) {
        *out_field = PM_CF_DATE_OF_BIRTH;
        return pm_error_set(err, PM_EVALIDATION,
                            "date_of_birth: after the crossing date %04d-%02d-%02d", cy, cm, cd);
    }
    if (cy - c->dob.year > 130) {
        *out_field = PM_CF_DATE_OF_BIRTH;
        return pm_error_set(err, PM_EVALIDATION,
                            "date_of_birth: more than 130 years before the crossing");
    }
    if (c->admission_class[0] || c->stay_until.year) {
        *out_field = c->admission_class[0] ? PM_CF_ADMISSION_CLASS : PM_CF_STAY_UNTIL;
        if (c->direction != PM_DIRECTION_ENTRY)
            return pm_error_set(err, PM_EVALIDATION,
                                "%s: admission data belongs on an entry, not an exit",
                                pm_crossing_field_name(*out_field));
        if (c->stay_until.year) {
            *out_field = PM_CF_STAY_UNTIL;
            if (!strcmp(c->admission_class, "citizen") ||
                !strcmp(c->admission_class, "permanent_resident"))
                return pm_error_set(err, PM_EVALIDATION,
                                    "stay_until: a %s's stay has no end date",
                                    c->admission_class);
            if (pm_days_from_civil(c->stay_until.year, c->stay_until.month,
                                   c->stay_until.day) < day)
                return pm_error_set(err, PM_EVALIDATION,
                                    "stay_until: before the entry date");
        }
        *out_field = PM_CF_NONE;
    }
    if (c->mrz[0]) {
        int rc = pm_mrz_validate(c->mrz, c, err);
        if (rc) {
            *out_field = PM_CF_MRZ;
            return rc;
        }
    }
    struct {
        const char *src;
        char *dst;
        pm_crossing_field_t f;
    } names[] = {
        {c->surname, c->surname_norm, PM_CF_SURNAME},
        {c->given_names, c->given_names_norm, PM_CF_GIVEN_NAMES},
        {c->middle_names, c->middle_names_norm, PM_CF_MIDDLE_NAMES},
    };
    for (size_t i = 0; i < 3; i++) {
        int rc = pm_name_normalize(names[i].src, strlen(names[i].src), names[i].dst,
                                   PM_NAME_NORM_MAX + 1, err);
        if (rc) {
            *out_field = names[i].f;
            return pm_error_prefix(err, "%s", pm_crossing_field_name(names[i].f)), rc;
        }
    }
    if (!c->surname_norm[0]) {
        *out_field = PM_CF_SURNAME;
        return pm_error_set(err, PM_EVALIDATION, "surname: empty once normalised");
    }
    return PM_OK;
}
