/* ICAO 9303 machine-readable zones: check digits and agreement with the
 * record's fields. Layouts (Part 4, 5, 6, 7):
 *   TD3 / MRV-A: 2 lines of 44;  TD2 / MRV-B: 2 lines of 36;  TD1: 3 lines of 30. */
#include <stdio.h>
#include <string.h>

#include "perimeter/travel.h"

static int mrz_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A' + 10;
    if (ch == '<')
        return 0;
    return -1;
}

int pm_icao_check_digit(const char *s, size_t len)
{
    static const int weight[3] = {7, 3, 1};
    int sum = 0;
    for (size_t i = 0; i < len; i++) {
        int v = mrz_value(s[i]);
        if (v < 0)
            return -1;
        sum += v * weight[i % 3];
    }
    return sum % 10;
}

/* Checks the digit at s[at] against the field s[from..from+n). A '<' check
 * digit is accepted only for an all-filler optional field (allow_filler). */
static int check(const char *what, const char *field, size_t n, char digit, int allow_filler,
                 pm_error_t *err)
{
    if (allow_filler && digit == '<') {
        for (size_t i = 0; i < n; i++)
            if (field[i] != '<')
                return pm_error_set(err, PM_ECHECKSUM, "mrz: %s has data but a '<' check digit",
                                    what);
        return PM_OK;
    }
    int want = pm_icao_check_digit(field, n);
    if (digit < '0' || digit > '9' || want != digit - '0')
        return pm_error_set(err, PM_ECHECKSUM, "mrz: %s check digit is '%c', computed %d", what,
                            digit, want);
    return PM_OK;
}

/* Copies an MRZ field without its trailing '<' fillers. */
static void field_text(const char *s, size_t n, char *out, size_t cap)
{
    while (n > 0 && s[n - 1] == '<')
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* Agreement of the MRZ's code fields with the record. */
static int code_agrees(const char *what, const char *mrz3, const char *value, pm_error_t *err)
{
    char code[4];
    field_text(mrz3, 3, code, sizeof code);
    /* ICAO writes Germany as "D<<" in the MRZ. */
    const char *norm = strcmp(code, "D") == 0 ? "DEU" : code;
    if (value[0] && strcmp(norm, value) != 0)
        return pm_error_set(err, PM_EVALIDATION, "mrz: %s '%s' disagrees with the field '%s'",
                            what, code, value);
    return PM_OK;
}

static int dob_agrees(const char *yymmdd, const pm_dob_t *d, pm_error_t *err)
{
    if (d->year == 0)
        return PM_OK;
    char want[7];
    snprintf(want, sizeof want, "%02d", d->year % 100);
    if (d->month)
        snprintf(want + 2, 5, "%02d", d->month);
    else
        memcpy(want + 2, "<<", 3);
    if (d->day)
        snprintf(want + 4, 3, "%02d", d->day);
    else
        memcpy(want + 4, "<<", 3);
    if (memcmp(want, yymmdd, 6) != 0)
        return pm_error_set(err, PM_EVALIDATION,
                            "mrz: date of birth '%.6s' disagrees with the field (want %s)",
                            yymmdd, want);
    return PM_OK;
}

static int sex_agrees(char mrz_sex, char sex, pm_error_t *err)
{
    if (mrz_sex != 'M' && mrz_sex != 'F' && mrz_sex != 'X' && mrz_sex != '<')
        return pm_error_set(err, PM_EVALIDATION, "mrz: sex '%c' is not M, F, X or <", mrz_sex);
    char m = mrz_sex == '<' ? 'X' : mrz_sex;
    if (sex && m != sex)
        return pm_error_set(err, PM_EVALIDATION, "mrz: sex '%c' disagrees with the field '%c'",
                            mrz_sex, sex);
    return PM_OK;
}

static int docnum_agrees(const char *mrznum, const char *value, pm_error_t *err)
{
    if (value[0] && strcmp(mrznum, value) != 0)
        return pm_error_set(err, PM_EVALIDATION,
                            "mrz: document number '%s' disagrees with the field '%s'", mrznum,
                            value);
    return PM_OK;
}

static int doctype_agrees(const char *l1, const pm_crossing_t *c, pm_error_t *err)
{
    char t[3];
    field_text(l1, 2, t, sizeof t);
    if (c && c->document_type[0] && strcmp(t, c->document_type) != 0)
        return pm_error_set(err, PM_EVALIDATION,
                            "mrz: document type '%s' disagrees with the field '%s'", t,
                            c->document_type);
    return PM_OK;
}

/* TD3, TD2 and the two visa forms share the layout of line 2 up to the
 * optional data; w = 44 or 36. */
static int two_line(const char *l1, const char *l2, size_t w, const pm_crossing_t *c,
                    pm_error_t *err)
{
    int visa = l1[0] == 'V';
    int rc;
    if ((rc = check("document number", l2, 9, l2[9], 0, err)) ||
        (rc = check("date of birth", l2 + 13, 6, l2[19], 0, err)) ||
        (rc = check("date of expiry", l2 + 21, 6, l2[27], 0, err)))
        return rc;
    if (!visa) {
        if (w == 44 && (rc = check("personal number", l2 + 28, 14, l2[42], 1, err)))
            return rc;
        /* composite: number+cd, dob+cd, expiry+cd, optional (+cd on TD3) */
        char comp[64];
        size_t n = 0;
        memcpy(comp + n, l2, 10), n += 10;
        memcpy(comp + n, l2 + 13, 7), n += 7;
        memcpy(comp + n, l2 + 21, w - 1 - 21), n += w - 1 - 21;
        if ((rc = check("composite", comp, n, l2[w - 1], 0, err)))
            return rc;
    }
    if (!c)
        return PM_OK;
    char num[16];
    field_text(l2, 9, num, sizeof num);
    if ((rc = doctype_agrees(l1, c, err)) || (rc = code_agrees("issuer", l1 + 2,
                                                                c->document_issuer, err)) ||
        (rc = code_agrees("nationality", l2 + 10, c->citizenship, err)) ||
        (rc = dob_agrees(l2 + 13, &c->dob, err)) || (rc = sex_agrees(l2[20], c->sex, err)))
        return rc;
    /* A number longer than 9 does not fit the TD2/TD3 field; compare its first 9. */
    if (strlen(c->document_number) > 9) {
        if (strncmp(num, c->document_number, 9) != 0)
            return docnum_agrees(num, c->document_number, err);
        return PM_OK;
    }
    return docnum_agrees(num, c->document_number, err);
}

static int td1(const char *l1, const char *l2, const char *l3, const pm_crossing_t *c,
               pm_error_t *err)
{
    (void)l3;
    int rc;
    char num[32];
    if (l1[14] == '<' && l1[15] != '<') {
        /* long document number: digits 10.. continue in optional data 1, the
         * check digit follows them, then filler */
        size_t k = 15;
        while (k < 30 && l1[k] != '<')
            k++;
        if (k - 15 < 2)
            return pm_error_set(err, PM_EVALIDATION, "mrz: malformed long document number");
        char all[32];
        memcpy(all, l1 + 5, 9);
        memcpy(all + 9, l1 + 15, k - 16);
        size_t n = 9 + k - 16;
        if ((rc = check("document number", all, n, l1[k - 1], 0, err)))
            return rc;
        memcpy(num, all, n);
        num[n] = '\0';
    } else {
        if ((rc = check("document number", l1 + 5, 9, l1[14], 0, err)))
            return rc;
        field_text(l1 + 5, 9, num, sizeof num);
    }
    if ((rc = check("date of birth", l2, 6, l2[6], 0, err)) ||
        (rc = check("date of expiry", l2 + 8, 6, l2[14], 0, err)))
        return rc;
    char comp[64];
    size_t n = 0;
    memcpy(comp + n, l1 + 5, 25), n += 25;
    memcpy(comp + n, l2, 7), n += 7;
    memcpy(comp + n, l2 + 8, 7), n += 7;
    memcpy(comp + n, l2 + 18, 11), n += 11;
    if ((rc = check("composite", comp, n, l2[29], 0, err)))
        return rc;
    if (!c)
        return PM_OK;
    if ((rc = doctype_agrees(l1, c, err)) ||
        (rc = code_agrees("issuer", l1 + 2, c->document_issuer, err)) ||
        (rc = code_agrees("nationality", l2 + 15, c->citizenship, err)) ||
        (rc = dob_agrees(l2, &c->dob, err)) || (rc = sex_agrees(l2[7], c->sex, err)) ||
        (rc = docnum_agrees(num, c->document_number, err)))
        return rc;
    return PM_OK;
}

int pm_mrz_validate(const char *mrz, const pm_crossing_t *c, pm_error_t *err)
{
    const char *line[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0};
    size_t nlines = 0;
    const char *p = mrz;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (nlines == 3)
            return pm_error_set(err, PM_EVALIDATION, "mrz: more than 3 lines");
        line[nlines] = p;
        len[nlines] = n;
        nlines++;
        for (size_t i = 0; i < n; i++)
            if (mrz_value(p[i]) < 0)
                return pm_error_set(err, PM_EVALIDATION,
                                    "mrz: line %zu position %zu: '%c' is not [0-9A-Z<]", nlines,
                                    i + 1, p[i]);
        if (!bar)
            break;
        p = bar + 1;
    }
    if (nlines == 3 && len[0] == 30 && len[1] == 30 && len[2] == 30)
        return td1(line[0], line[1], line[2], c, err);
    if (nlines == 2 && len[0] == 44 && len[1] == 44)
        return two_line(line[0], line[1], 44, c, err);
    if (nlines == 2 && len[0] == 36 && len[1] == 36)
        return two_line(line[0], line[1], 36, c, err);
    return pm_error_set(err, PM_EVALIDATION,
                        "mrz: want 3 lines of 30 (TD1), 2 of 36 (TD2) or 2 of 44 (TD3)");
}

/* Copies an ICAO Latin name into the MRZ alphabet: letters kept, spaces and
 * hyphens become '<', anything else (apostrophes) dropped. */
static size_t mrz_name(const char *in, char *out, size_t room)
{
    size_t n = 0;
    for (; *in && n < room; in++) {
        char ch = *in;
        if (ch >= 'A' && ch <= 'Z')
            out[n++] = ch;
        else if (ch == ' ' || ch == '-')
            out[n++] = '<';
    }
    return n;
}

static int yymmdd(const char *date, char out[6])
{
    if (strlen(date) != 10 || date[4] != '-' || date[7] != '-')
        return -1;
    memcpy(out, date + 2, 2);
    memcpy(out + 2, date + 5, 2);
    memcpy(out + 4, date + 8, 2);
    return 0;
}

int pm_mrz_build_td3(const char *doc_type, const char *issuer, const char *surname,
                     const char *given_names, const char *number, const char *nationality,
                     const char *dob, char sex, const char *expiry, char *out, size_t out_cap)
{
    if (out_cap < 90 || strlen(doc_type) < 1 || strlen(doc_type) > 2 || strlen(issuer) != 3 ||
        strlen(nationality) != 3 || strlen(number) > 9 || strlen(number) < 1)
        return PM_EINVAL;
    char l1[45], l2[45];
    memset(l1, '<', 44);
    memset(l2, '<', 44);
    l1[44] = l2[44] = '\0';
    l1[0] = doc_type[0];
    if (doc_type[1]) l1[1] = doc_type[1];
    memcpy(l1 + 2, issuer, 3);
    size_t n = mrz_name(surname, l1 + 5, 39);
    if (n == 0) return PM_EINVAL;
    if (given_names && *given_names && n + 2 < 39) {
        n += 2; /* "<<" separates the primary and secondary identifiers */
        mrz_name(given_names, l1 + 5 + n, 39 - n);
    }
    memcpy(l2, number, strlen(number));
    l2[9] = (char)('0' + pm_icao_check_digit(l2, 9));
    memcpy(l2 + 10, nationality, 3);
    if (yymmdd(dob, l2 + 13) || yymmdd(expiry, l2 + 21)) return PM_EINVAL;
    l2[19] = (char)('0' + pm_icao_check_digit(l2 + 13, 6));
    l2[20] = sex == 'M' || sex == 'F' ? sex : '<';
    l2[27] = (char)('0' + pm_icao_check_digit(l2 + 21, 6));
    /* optional data (personal number) empty: its check digit is that of 14 fillers, 0 */
    l2[42] = (char)('0' + pm_icao_check_digit(l2 + 28, 14));
    char comp[39];
    memcpy(comp, l2, 10);
    memcpy(comp + 10, l2 + 13, 7);
    memcpy(comp + 17, l2 + 21, 22);
    l2[43] = (char)('0' + pm_icao_check_digit(comp, 39));
    for (int i = 0; i < 44; i++)
        if (pm_icao_check_digit(l1 + i, 1) < 0 || pm_icao_check_digit(l2 + i, 1) < 0)
            return PM_EINVAL;
    snprintf(out, out_cap, "%s|%s", l1, l2);
    return PM_OK;
}
