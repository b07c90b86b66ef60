/* synth: reading people back from a person master CSV (for watchlists and
 * manifests), sampling k of them in two bounded passes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth/synth_int.h"

#define LINE_MAX_BYTES 16384
#define MAX_FIELDS     64

enum {
    C_ID,
    C_SUR,
    C_GIV,
    C_MID,
    C_SURN,
    C_GIVN,
    C_MIDN,
    C_CULT,
    C_SEX,
    C_DOB,
    C_CIT,
    C_RES,
    C_START,
    C_CLASS,
    C_HH,
    C_HHR,
    C_HHS,
    C_D1T,
    C_D1N,
    C_D1I,
    C_D1C,
    C_D1E,
    C_D2T,
    C_D2N,
    C_D2I,
    C_D2C,
    C_D2E,
    C_RN,
    C_RI,
    C_RE,
    C_RO, /* removal order (optional columns: read back for evaluations) */
    C_RC,
    C_ROD,
    C_ROI,
    C_SDAYS,
    C_COUNT
};
static const char *const wanted[C_COUNT] = {"person_id",
                                            "surname",
                                            "given_names",
                                            "middle_names",
                                            "surname_native",
                                            "given_names_native",
                                            "middle_names_native",
                                            "culture",
                                            "sex",
                                            "date_of_birth",
                                            "citizenship",
                                            "residence",
                                            "start_location",
                                            "class",
                                            "household_id",
                                            "household_role",
                                            "household_size",
                                            "doc1_type",
                                            "doc1_number",
                                            "doc1_issuer",
                                            "doc1_nationality",
                                            "doc1_expiry",
                                            "doc2_type",
                                            "doc2_number",
                                            "doc2_issuer",
                                            "doc2_nationality",
                                            "doc2_expiry",
                                            "renewal_number",
                                            "renewal_issued",
                                            "renewal_expiry",
                                            "removal_order",
                                            "removal_country",
                                            "removal_order_date",
                                            "removal_order_id",
                                            "authorised_stay_days"};

typedef struct reader {
    FILE *f;
    int owned; /* opened here (closed here) or the caller's stream (rewound) */
    const char *path;
    char line[LINE_MAX_BYTES + 2];
    uint64_t lineno;
    char *field[MAX_FIELDS];
    size_t nfields;
} reader_t;

/* Reads one line and splits it into RFC 4180 fields (quotes undone in place).
 * 1 = a row, 0 = end of file, negative = error (err set). */
static int read_row(reader_t *r, pm_error_t *err)
{
    if (!fgets(r->line, sizeof r->line, r->f)) {
        if (ferror(r->f)) return pm_error_set(err, PM_EIO, "%s: %s", r->path, strerror(errno));
        return 0;
    }
    r->lineno++;
    size_t len = strlen(r->line);
    if (len > LINE_MAX_BYTES && r->line[len - 1] != '\n')
        return pm_error_set(err, PM_ELIMIT, "%s: line %llu longer than %d bytes", r->path,
                            (unsigned long long)r->lineno, LINE_MAX_BYTES);
    while (len && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
        r->line[--len] = '\0';
    r->nfields = 0;
    char *p = r->line, *w;
    for (;;) {
        if (r->nfields == MAX_FIELDS)
            return pm_error_set(err, PM_ELIMIT, "%s: line %llu has more than %d fields", r->path,
                                (unsigned long long)r->lineno, MAX_FIELDS);
        r->field[r->nfields++] = w = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p)
                    return pm_error_set(err, PM_EFORMAT,
                                        "%s: line %llu: unterminated quoted field %zu", r->path,
                                        (unsigned long long)r->lineno, r->nfields);
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            if (*p && *p != ',')
                return pm_error_set(err, PM_EFORMAT, "%s: line %llu: text after quoted field %zu",
                                    r->path, (unsigned long long)r->lineno, r->nfields);
        } else {
            while (*p && *p != ',')
                *w++ = *p++;
        }
        if (!*p) {
            *w = '\0';
            return 1;
        }
        *w = '\0';
        p++;
    }
}

static void close_reader(reader_t *r)
{
    if (r->f && r->owned) fclose(r->f);
    r->f = NULL;
}

/* Opens path, or rewinds stream if it is not NULL, and reads the header. */
static int open_reader(reader_t *r, const char *path, FILE *stream, int col[C_COUNT],
                       pm_error_t *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    if (stream) {
        r->f = stream;
        rewind(stream);
    } else {
        r->f = fopen(path, "r");
        r->owned = 1;
    }
    if (!r->f)
        return pm_error_set(err, errno == ENOENT ? PM_ENOTFOUND : PM_EIO, "%s: %s", path,
                            strerror(errno));
    int rc = read_row(r, err);
    if (rc <= 0) {
        close_reader(r);
        return rc < 0 ? rc : pm_error_set(err, PM_EFORMAT, "%s: empty file", path);
    }
    for (int c = 0; c < C_COUNT; c++) {
        col[c] = -1;
        for (size_t i = 0; i < r->nfields; i++)
            if (strcmp(r->field[i], wanted[c]) == 0) col[c] = (int)i;
    }
    static const int required[] = {C_ID, C_SUR, C_DOB, C_CIT};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (col[required[i]] < 0) {
            close_reader(r);
            return pm_error_set(err, PM_EFORMAT,
                                "%s: line 1: no '%s' column (not a person master?)", path,
                                wanted[required[i]]);
        }
    return PM_OK;
}

static const char *get(const reader_t *r, const int col[C_COUNT], int c)
{
    return col[c] >= 0 && (size_t)col[c] < r->nfields ? r->field[col[c]] : "";
}

static int parse_person(const reader_t *r, const int col[C_COUNT], pm_synth_person_t *p,
                        pm_error_t *err)
{
    memset(p, 0, sizeof *p);
    const char *id = get(r, col, C_ID);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(id, &end, 10);
    if (!*id || *end || errno)
        return pm_error_set(err, PM_EFORMAT, "%s: line %llu: person_id '%s' is not a number",
                            r->path, (unsigned long long)r->lineno, id);
    p->person_id = v;
    const size_t cap = PM_SYNTH_NAME_MAX + 1;
    pm__strlcpy(p->surname, get(r, col, C_SUR), cap);
    if (!p->surname[0])
        return pm_error_set(err, PM_EFORMAT, "%s: line %llu: empty surname", r->path,
                            (unsigned long long)r->lineno);
    pm__strlcpy(p->given_names, get(r, col, C_GIV), cap);
    pm__strlcpy(p->middle_names, get(r, col, C_MID), cap);
    pm__strlcpy(p->surname_native, get(r, col, C_SURN), cap);
    pm__strlcpy(p->given_names_native, get(r, col, C_GIVN), cap);
    pm__strlcpy(p->middle_names_native, get(r, col, C_MIDN), cap);
    if (!p->surname_native[0]) {
        pm__strlcpy(p->surname_native, p->surname, cap);
        pm__strlcpy(p->given_names_native, p->given_names, cap);
        pm__strlcpy(p->middle_names_native, p->middle_names, cap);
    }
    const pm__culture_t *cul = pm__culture_find(get(r, col, C_CULT));
    p->culture = cul ? cul->id : "";
    p->script = cul ? cul->script : "";
    const char *sex = get(r, col, C_SEX);
    p->sex = (sex[0] && !sex[1] && strchr("MFX", sex[0])) ? sex[0] : 'X';
    pm__strlcpy(p->date_of_birth, get(r, col, C_DOB), sizeof p->date_of_birth);
    pm__strlcpy(p->citizenship, get(r, col, C_CIT), sizeof p->citizenship);
    pm__strlcpy(p->residence, get(r, col, C_RES), sizeof p->residence);
    pm__strlcpy(p->start_location, get(r, col, C_START), sizeof p->start_location);
    p->household_id = strtoull(get(r, col, C_HH), NULL, 10);
    if (!p->household_id) p->household_id = p->person_id;
    p->household_role = (int)strtol(get(r, col, C_HHR), NULL, 10);
    p->household_size = (int)strtol(get(r, col, C_HHS), NULL, 10);
    if (p->household_size < 1) p->household_size = 1;
    const char *cls = get(r, col, C_CLASS);
    p->cls = PM_SYNTH_VISITOR;
    for (int c = 0; c < PM_SYNTH_CLASS_COUNT; c++)
        if (strcmp(cls, pm_synth_class_name((pm_synth_class_t)c)) == 0)
            p->cls = (pm_synth_class_t)c;
    for (int d = 0; d < 2; d++) {
        pm_synth_document_t *doc = &p->documents[d];
        int b = d ? C_D2T : C_D1T;
        pm__strlcpy(doc->type, get(r, col, b), sizeof doc->type);
        pm__strlcpy(doc->number, get(r, col, b + 1), sizeof doc->number);
        pm__strlcpy(doc->issuer, get(r, col, b + 2), sizeof doc->issuer);
        pm__strlcpy(doc->nationality, get(r, col, b + 3), sizeof doc->nationality);
        pm__strlcpy(doc->expiry, get(r, col, b + 4), sizeof doc->expiry);
        if (doc->number[0]) p->n_documents = d + 1;
    }
    if (get(r, col, C_RN)[0]) {
        p->has_renewal = 1;
        p->renewal = p->documents[0];
        pm__strlcpy(p->renewal.number, get(r, col, C_RN), sizeof p->renewal.number);
        pm__strlcpy(p->renewal.issued, get(r, col, C_RI), sizeof p->renewal.issued);
        pm__strlcpy(p->renewal.expiry, get(r, col, C_RE), sizeof p->renewal.expiry);
    }
    p->removal_order = strcmp(get(r, col, C_RO), "1") == 0;
    pm__strlcpy(p->removal_country, get(r, col, C_RC), sizeof p->removal_country);
    pm__strlcpy(p->removal_order_date, get(r, col, C_ROD), sizeof p->removal_order_date);
    pm__strlcpy(p->removal_order_id, get(r, col, C_ROI), sizeof p->removal_order_id);
    p->authorised_stay_days = (int)strtol(get(r, col, C_SDAYS), NULL, 10);
    if (p->n_documents == 0) {
        /* a master without documents: keep the citizenship at least */
        pm__strlcpy(p->documents[0].nationality, p->citizenship, 4);
        pm__strlcpy(p->documents[0].issuer, p->citizenship, 4);
        pm__strlcpy(p->documents[0].type, "P", 3);
    }
    return PM_OK;
}

static int sample(const char *path, FILE *stream, size_t k, uint64_t seed, pm_synth_person_t **out,
                  size_t *out_n, pm_error_t *err)
{
    *out = NULL;
    *out_n = 0;
    reader_t *r = malloc(sizeof *r);
    if (!r) return pm_error_set(err, PM_ENOMEM, "out of memory");
    int col[C_COUNT];
    int rc = open_reader(r, path, stream, col, err);
    if (rc) {
        free(r);
        return rc;
    }
    /* pass 1: count the rows */
    uint64_t total = 0;
    while ((rc = read_row(r, err)) == 1)
        if (r->nfields > 1 || r->field[0][0]) total++;
    close_reader(r);
    if (rc < 0) {
        free(r);
        return rc;
    }
    size_t want = k < total ? k : (size_t)total;
    pm_synth_person_t *people = want ? calloc(want, sizeof *people) : NULL;
    if (want && !people) {
        free(r);
        return pm_error_set(err, PM_ENOMEM, "out of memory for %zu people", want);
    }
    /* pass 2: selection sampling (Knuth's algorithm S) keeps exactly `want` rows */
    rc = open_reader(r, path, stream, col, err);
    pm__rng_t rng;
    pm__rng_seed(&rng, seed, 0x53414D50ull, 0, 0);
    size_t got = 0;
    uint64_t seen = 0;
    while (rc == 0 && got < want) {
        int rr = read_row(r, err);
        if (rr <= 0) {
            rc = rr < 0 ? rr : pm_error_set(err, PM_ETRUNCATED, "%s: changed while reading", path);
            break;
        }
        if (r->nfields == 1 && !r->field[0][0]) continue;
        double u = pm__rng_unit(&rng);
        if ((double)(total - seen) * u < (double)(want - got))
            rc = parse_person(r, col, &people[got++], err);
        seen++;
    }
    close_reader(r);
    free(r);
    if (rc) {
        free(people);
        return rc;
    }
    /* seeded order */
    for (size_t i = got; i > 1; i--) {
        size_t j = pm__rng_below(&rng, (uint32_t)i);
        pm_synth_person_t t = people[i - 1];
        people[i - 1] = people[j];
        people[j] = t;
    }
    *out = people;
    *out_n = got;
    return PM_OK;
}

int pm_synth_people_sample(const char *path, size_t k, uint64_t seed, pm_synth_person_t **out,
                           size_t *out_n, pm_error_t *err)
{
    return sample(path, NULL, k, seed, out, out_n, err);
}

int pm_synth_people_sample_mem(const char *data, size_t len, size_t k, uint64_t seed,
                               pm_synth_person_t **out, size_t *out_n, pm_error_t *err)
{
    *out = NULL;
    *out_n = 0;
    if (len == 0) return pm_error_set(err, PM_EFORMAT, "people: empty input");
    FILE *f = fmemopen((void *)data, len, "r");
    if (!f) return pm_error_set(err, PM_ENOMEM, "people: %s", strerror(errno));
    int rc = sample("people", f, k, seed, out, out_n, err);
    fclose(f);
    return rc;
}
