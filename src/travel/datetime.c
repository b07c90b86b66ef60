/* Dates and times of crossing records: the wire timestamp with its UTC
 * offset, dates of birth (full or partial), civil-date arithmetic. */
#include <stdio.h>
#include <string.h>

#include "perimeter/travel.h"
#include "travel/travel_impl.h"

int64_t pm_days_from_civil(int year, int month, int day)
{
    /* Howard Hinnant's days_from_civil algorithm (public domain description). */
    int64_t y = (int64_t)year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void pm_civil_from_days(int64_t z, int *out_y, int *out_m, int *out_d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *out_y = (int)(y + (m <= 2));
    *out_m = (int)m;
    *out_d = (int)d;
}

static int days_in_month(int year, int month)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return dim[month - 1];
}

/* n ASCII digits at s -> value, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

#define PM_TS_YEAR_MIN 1990
#define PM_TS_YEAR_MAX 2100

int pm_timestamp_parse(const char *s, size_t len, int64_t *out_utc, int16_t *out_offset_min,
                       pm_error_t *err)
{
    /* YYYY-MM-DDThh:mm:ss then Z or +hh:mm / -hh:mm */
    if (len != 20 && len != 25)
        return pm_error_set(err, PM_EVALIDATION,
                            "timestamp: want YYYY-MM-DDThh:mm:ss+hh:mm or ...Z (%zu bytes given)",
                            len);
    if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return pm_error_set(err, PM_EVALIDATION,
                            "timestamp: want YYYY-MM-DDThh:mm:ss+hh:mm or ...Z");
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0)
        return pm_error_set(err, PM_EVALIDATION, "timestamp: non-digit in date or time");
    if (y < PM_TS_YEAR_MIN || y > PM_TS_YEAR_MAX)
        return pm_error_set(err, PM_EVALIDATION, "timestamp: year %d outside %d..%d", y,
                            PM_TS_YEAR_MIN, PM_TS_YEAR_MAX);
    if (mo < 1 || mo > 12)
        return pm_error_set(err, PM_EVALIDATION, "timestamp: month %02d does not exist", mo);
    if (d < 1 || d > days_in_month(y, mo))
        return pm_error_set(err, PM_EVALIDATION, "timestamp: day %04d-%02d-%02d does not exist",
                            y, mo, d);
    if (h > 23 || mi > 59 || se > 59)
        return pm_error_set(err, PM_EVALIDATION, "timestamp: time %02d:%02d:%02d does not exist",
                            h, mi, se);
    int off = 0;
    if (len == 20) {
        if (s[19] != 'Z' && s[19] != 'z')
            return pm_error_set(err, PM_EVALIDATION, "timestamp: want Z or +hh:mm after the time");
    } else {
        if ((s[19] != '+' && s[19] != '-') || s[22] != ':')
            return pm_error_set(err, PM_EVALIDATION, "timestamp: want +hh:mm or -hh:mm offset");
        int oh = digits(s + 20, 2), om = digits(s + 23, 2);
        if (oh < 0 || om < 0 || om > 59)
            return pm_error_set(err, PM_EVALIDATION, "timestamp: malformed UTC offset");
        off = oh * 60 + om;
        if (s[19] == '-')
            off = -off;
        if (off < -12 * 60 || off > 14 * 60)
            return pm_error_set(err, PM_EVALIDATION,
                                "timestamp: UTC offset outside -12:00..+14:00");
    }
    int64_t local = pm_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    *out_utc = local - (int64_t)off * 60;
    *out_offset_min = (int16_t)off;
    return PM_OK;
}

void pm_timestamp_format(int64_t utc, int16_t offset_min, char out[32])
{
    int64_t local = utc + (int64_t)offset_min * 60;
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t secs = local - days * 86400;
    int y, m, d;
    pm_civil_from_days(days, &y, &m, &d);
    int off = offset_min < 0 ? -offset_min : offset_min;
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60), offset_min < 0 ? '-' : '+', off / 60,
             off % 60);
}

#define PM_DOB_YEAR_MIN 1850
#define PM_DOB_YEAR_MAX 2100

int pm_dob_parse(const char *s, size_t len, pm_dob_t *out, pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (len != 4 && len != 7 && len != 10)
        return pm_error_set(err, PM_EVALIDATION,
                            "date_of_birth: want YYYY-MM-DD, YYYY-MM or YYYY");
    int y = digits(s, 4);
    if (y < 0)
        return pm_error_set(err, PM_EVALIDATION, "date_of_birth: year is not 4 digits");
    if (y < PM_DOB_YEAR_MIN || y > PM_DOB_YEAR_MAX)
        return pm_error_set(err, PM_EVALIDATION, "date_of_birth: year %d outside %d..%d", y,
                            PM_DOB_YEAR_MIN, PM_DOB_YEAR_MAX);
    int mo = 0, d = 0;
    if (len >= 7) {
        if (s[4] != '-' || (mo = digits(s + 5, 2)) < 0)
            return pm_error_set(err, PM_EVALIDATION,
                                "date_of_birth: want YYYY-MM-DD, YYYY-MM or YYYY");
        if (mo < 1 || mo > 12)
            return pm_error_set(err, PM_EVALIDATION, "date_of_birth: month %02d does not exist",
                                mo);
    }
    if (len == 10) {
        if (s[7] != '-' || (d = digits(s + 8, 2)) < 0)
            return pm_error_set(err, PM_EVALIDATION,
                                "date_of_birth: want YYYY-MM-DD, YYYY-MM or YYYY");
        if (d < 1 || d > days_in_month(y, mo))
            return pm_error_set(err, PM_EVALIDATION,
                                "date_of_birth: %04d-%02d-%02d does not exist", y, mo, d);
    }
    out->year = (int16_t)y;
    out->month = (uint8_t)mo;
    out->day = (uint8_t)d;
    return PM_OK;
}

void pm_dob_format(const pm_dob_t *d, char out[16])
{
    if (d->year == 0)
        out[0] = '\0';
    else if (d->month == 0)
        snprintf(out, 16, "%04d", d->year);
    else if (d->day == 0)
        snprintf(out, 16, "%04d-%02d", d->year, d->month);
    else
        snprintf(out, 16, "%04d-%02d-%02d", d->year, d->month, d->day);
}

int pm_dob_is_placeholder(const pm_dob_t *d)
{
    return d->year != 0 && d->day == 1 && (d->month == 1 || d->month == 7);
}
