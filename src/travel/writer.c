/* Writing crossing records: CSV rows (RFC 4180) and JSON Lines objects. */
#include <stdio.h>
#include <string.h>

#include "perimeter/travel.h"

/* Appends s as a CSV field, quoted only when it holds , " CR or LF. */
static int csv_field(pm_buf_t *out, const char *s, int last)
{
    int rc;
    if (strpbrk(s, ",\"\r\n")) {
        rc = pm_buf_append(out, "\"", 1);
        for (const char *p = s; !rc && *p; p++)
            rc = *p == '"' ? pm_buf_append(out, "\"\"", 2) : pm_buf_append(out, p, 1);
        rc = rc ? rc : pm_buf_append(out, "\"", 1);
    } else {
        rc = pm_buf_append(out, s, strlen(s));
    }
    return rc ? rc : pm_buf_append(out, last ? "\n" : ",", 1);
}

/* The wire text of every field of c, in canonical order. */
static void wire_values(const pm_crossing_t *c, char ts[32], char dob[16], char sex[2],
                        const char *v[PM_CF_COUNT])
{
    pm_timestamp_format(c->time_utc, c->utc_offset_min, ts);
    pm_dob_format(&c->dob, dob);
    sex[0] = c->sex;
    sex[1] = '\0';
    v[PM_CF_RECORD_ID] = c->record_id;
    v[PM_CF_REPORTING_COUNTRY] = c->reporting_country;
    v[PM_CF_DIRECTION] = pm_direction_name(c->direction);
    v[PM_CF_TIMESTAMP] = ts;
    v[PM_CF_PORT_CODE] = c->port_code;
    v[PM_CF_MODE] = pm_mode_name(c->mode);
    v[PM_CF_SURNAME] = c->surname;
    v[PM_CF_GIVEN_NAMES] = c->given_names;
    v[PM_CF_MIDDLE_NAMES] = c->middle_names;
    v[PM_CF_DATE_OF_BIRTH] = dob;
    v[PM_CF_CITIZENSHIP] = c->citizenship;
    v[PM_CF_SEX] = sex;
    v[PM_CF_DOCUMENT_TYPE] = c->document_type;
    v[PM_CF_DOCUMENT_NUMBER] = c->document_number;
    v[PM_CF_DOCUMENT_ISSUER] = c->document_issuer;
    v[PM_CF_MRZ] = c->mrz;
}

int pm_crossing_csv_header(pm_buf_t *out)
{
    int rc = PM_OK;
    for (int i = 0; i < PM_CF_COUNT && !rc; i++)
        rc = csv_field(out, pm_crossing_field_name((pm_crossing_field_t)i), i == PM_CF_COUNT - 1);
    return rc;
}

int pm_crossing_to_csv(const pm_crossing_t *c, pm_buf_t *out)
{
    char ts[32], dob[16], sex[2];
    const char *v[PM_CF_COUNT];
    wire_values(c, ts, dob, sex, v);
    int rc = PM_OK;
    for (int i = 0; i < PM_CF_COUNT && !rc; i++)
        rc = csv_field(out, v[i], i == PM_CF_COUNT - 1);
    return rc;
}

/* Appends s as a JSON string (UTF-8 passes through; controls are escaped). */
static int json_string(pm_buf_t *out, const char *s)
{
    int rc = pm_buf_append(out, "\"", 1);
    const char *run = s;
    for (const char *p = s; !rc; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch != 0 && ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        rc = pm_buf_append(out, run, (size_t)(p - run));
        if (rc || ch == 0)
            break;
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            rc = pm_buf_append(out, esc, 2);
        } else {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            rc = pm_buf_append(out, esc, 6);
        }
        run = p + 1;
    }
    return rc ? rc : pm_buf_append(out, "\"", 1);
}

int pm_crossing_to_jsonl(const pm_crossing_t *c, int64_t cursor, pm_buf_t *out)
{
    char ts[32], dob[16], sex[2];
    const char *v[PM_CF_COUNT];
    wire_values(c, ts, dob, sex, v);
    int rc = pm_buf_append(out, "{", 1);
    for (int i = 0; i < PM_CF_COUNT && !rc; i++) {
        if (i == PM_CF_MRZ && !c->mrz[0])
            continue;
        if (i > 0)
            rc = pm_buf_append(out, ",", 1);
        rc = rc ? rc : json_string(out, pm_crossing_field_name((pm_crossing_field_t)i));
        rc = rc ? rc : pm_buf_append(out, ":", 1);
        rc = rc ? rc : json_string(out, v[i]);
    }
    if (!rc && cursor >= 0)
        rc = pm_buf_printf(out, ",\"cursor\":%lld", (long long)cursor);
    return rc ? rc : pm_buf_append(out, "}\n", 2);
}
