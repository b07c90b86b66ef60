/* Linkage quality against ground truth: pairwise precision/recall/F1 and the
 * reconciliation rate of reconcilable exits; the truth-file loader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_impl.h"

struct pm_link_truth {
    uint64_t *keys; /* hash of country + record_id; 0 = empty */
    uint64_t *persons;
    size_t cap, n;
};

static uint64_t key_hash(const char *country, const char *record_id)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = country; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    h = (h ^ ',') * 0x100000001b3ULL;
    for (const char *p = record_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h ? h : 1;
}

/* 64-bit keys: a collision of two distinct records is astronomically unlikely
 * at evaluation sizes (< 2^-30 for 10^6 records) and would only blur figures. */
static int truth_put(pm_link_truth_t *t, uint64_t key, uint64_t person)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 1 << 16;
        uint64_t *nk = calloc(nc, sizeof *nk), *np = calloc(nc, sizeof *np);
        if (!nk || !np) {
            free(nk);
            free(np);
            return PM_ENOMEM;
        }
        for (size_t i = 0; i < t->cap; i++)
            if (t->keys[i]) {
                size_t j = t->keys[i] & (nc - 1);
                while (nk[j])
                    j = (j + 1) & (nc - 1);
                nk[j] = t->keys[i];
                np[j] = t->persons[i];
            }
        free(t->keys);
        free(t->persons);
        t->keys = nk;
        t->persons = np;
        t->cap = nc;
    }
    size_t j = key & (t->cap - 1);
    while (t->keys[j] && t->keys[j] != key)
        j = (j + 1) & (t->cap - 1);
    if (!t->keys[j]) t->n++;
    t->keys[j] = key;
    t->persons[j] = person;
    return PM_OK;
}

static int split_csv(char *line, char **f, int maxf)
{
    int n = 0;
    char *p = line;
    while (n < maxf) {
        f[n++] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

int pm_link_truth_load(const char *path, size_t max_rows, pm_link_truth_t **out, pm_error_t *err)
{
    *out = NULL;
    FILE *fp = fopen(path, "r");
    if (!fp) return pm_error_set(err, PM_ENOTFOUND, "%s: cannot open", path);
    pm_link_truth_t *t = calloc(1, sizeof *t);
    if (!t) {
        fclose(fp);
        return pm_error_set(err, PM_ENOMEM, "truth: out of memory");
    }
    char line[1024];
    int ci = -1, ri = -1, pi = -1, rc = PM_OK;
    uint64_t lineno = 0;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        size_t l = strlen(line);
        if (l == sizeof line - 1 && line[l - 1] != '\n') {
            rc = pm_error_set(err, PM_ELIMIT, "%s:%llu: line longer than %zu bytes", path,
                              (unsigned long long)lineno, sizeof line - 2);
            break;
        }
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            line[--l] = '\0';
        if (l == 0) continue;
        char *f[16];
        int nf = split_csv(line, f, 16);
        if (ci < 0) {
            for (int i = 0; i < nf; i++) {
                if (!strcmp(f[i], "reporting_country") || !strcmp(f[i], "flight_id"))
                    ci = i;
                else if (!strcmp(f[i], "record_id") || !strcmp(f[i], "passenger_seq"))
                    ri = i;
                else if (!strcmp(f[i], "person_id"))
                    pi = i;
            }
            if (ci < 0 || ri < 0 || pi < 0) {
                rc = pm_error_set(err, PM_EFORMAT,
                                  "%s:1: header lacks reporting_country, record_id or person_id",
                                  path);
                break;
            }
            continue;
        }
        if (nf <= ci || nf <= ri || nf <= pi) {
            rc = pm_error_set(err, PM_EFORMAT, "%s:%llu: %d columns", path,
                              (unsigned long long)lineno, nf);
            break;
        }
        char *end;
        unsigned long long person = strtoull(f[pi], &end, 10);
        if (*f[pi] == '\0' || *end) {
            rc = pm_error_set(err, PM_EFORMAT, "%s:%llu: person_id '%.32s' is not a number", path,
                              (unsigned long long)lineno, f[pi]);
            break;
        }
        if (t->n >= max_rows) {
            rc = pm_error_set(err, PM_ELIMIT, "%s: more than %zu rows", path, max_rows);
            break;
        }
        if (truth_put(t, key_hash(f[ci], f[ri]), person)) {
            rc = pm_error_set(err, PM_ENOMEM, "truth: out of memory");
            break;
        }
    }
    if (!rc && ferror(fp)) rc = pm_error_set(err, PM_EIO, "%s: read error", path);
    fclose(fp);
    if (rc) {
        pm_link_truth_free(t);
        return rc;
    }
    *out = t;
    return PM_OK;
}

void pm_link_truth_free(pm_link_truth_t *t)
{
    if (!t) return;
    free(t->keys);
    free(t->persons);
    free(t);
}

size_t pm_link_truth_count(const pm_link_truth_t *t)
{
    return t->n;
}

int pm_link_truth_person(const pm_link_truth_t *t, const char *country, const char *record_id,
                         uint64_t *out_person)
{
    if (!t->cap) return PM_ENOTFOUND;
    uint64_t key = key_hash(country, record_id);
    size_t j = key & (t->cap - 1);
    while (t->keys[j]) {
        if (t->keys[j] == key) {
            *out_person = t->persons[j];
            return PM_OK;
        }
        j = (j + 1) & (t->cap - 1);
    }
    return PM_ENOTFOUND;
}

/* ---- quality ---- */

typedef struct row {
    uint64_t a, b; /* sort keys */
    int64_t time;
    uint32_t rec;
} row_t;

static int cmp_row(const void *x, const void *y)
{
    const row_t *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    if (p->time != q->time) return p->time < q->time ? -1 : 1;
    return p->rec < q->rec ? -1 : p->rec > q->rec;
}

static uint64_t pairs(uint64_t n)
{
    return n * (n - 1) / 2;
}

int pm_link_quality(pm_linker_t *lk, const uint64_t *person, size_t n, pm_link_quality_t *out,
                    pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (n != pm_linker_record_count(lk))
        return pm_error_set(err, PM_EINVAL, "truth for %zu records, linker has %zu", n,
                            pm_linker_record_count(lk));
    row_t *rows = malloc((n ? n : 1) * sizeof *rows);
    uint32_t *prev = malloc((n ? n : 1) * sizeof *prev); /* previous record of the true person */
    if (!rows || !prev) {
        free(rows);
        free(prev);
        return pm_error_set(err, PM_ENOMEM, "quality: out of memory");
    }
    out->records = n;
    pm_link_record_info_t info;
    /* by (traveller, person): linked and correct pairs */
    for (size_t i = 0; i < n; i++) {
        pm_linker_record(lk, (uint32_t)i, &info);
        rows[i].a = pm_linker_traveller(lk, (uint32_t)i);
        rows[i].b = person[i];
        rows[i].time = info.time_utc;
        rows[i].rec = (uint32_t)i;
    }
    qsort(rows, n, sizeof *rows, cmp_row);
    for (size_t i = 0; i < n;) {
        size_t j = i, k = i;
        while (j < n && rows[j].a == rows[i].a)
            j++;
        out->travellers++;
        out->linked_pairs += pairs(j - i);
        while (k < j) {
            size_t m = k;
            while (m < j && rows[m].b == rows[k].b)
                m++;
            out->correct_pairs += pairs(m - k);
            k = m;
        }
        i = j;
    }
    /* traveller order by time for reconciliation */
    for (size_t i = 0; i < n; i++)
        rows[i].b = 0;
    qsort(rows, n, sizeof *rows, cmp_row);
    uint32_t *tprev = malloc((n ? n : 1) * sizeof *tprev);
    if (!tprev) {
        free(rows);
        free(prev);
        return pm_error_set(err, PM_ENOMEM, "quality: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        tprev[rows[i].rec] = (i > 0 && rows[i - 1].a == rows[i].a) ? rows[i - 1].rec : UINT32_MAX;
    /* by person, in time order */
    for (size_t i = 0; i < n; i++) {
        pm_linker_record(lk, (uint32_t)i, &info);
        rows[i].a = person[i];
        rows[i].b = 0;
        rows[i].time = info.time_utc;
        rows[i].rec = (uint32_t)i;
    }
    qsort(rows, n, sizeof *rows, cmp_row);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && rows[j].a == rows[i].a)
            j++;
        out->persons++;
        out->true_pairs += pairs(j - i);
        for (size_t r = i; r < j; r++)
            prev[rows[r].rec] = r > i ? rows[r - 1].rec : UINT32_MAX;
        i = j;
    }
    for (size_t i = 0; i < n; i++) {
        pm_linker_record(lk, (uint32_t)i, &info);
        if (info.direction != PM_DIRECTION_EXIT) continue;
        out->exits++;
        pm_link_record_info_t pi;
        int reconcilable = 0;
        if (prev[i] != UINT32_MAX) {
            pm_linker_record(lk, prev[i], &pi);
            reconcilable = pi.direction == PM_DIRECTION_ENTRY;
        }
        out->reconcilable += reconcilable;
        if (tprev[i] != UINT32_MAX) {
            pm_linker_record(lk, tprev[i], &pi);
            if (pi.direction == PM_DIRECTION_ENTRY) {
                out->reconciled++;
                if (reconcilable && tprev[i] == prev[i]) out->reconciled_correct++;
            }
        }
    }
    free(tprev);
    free(rows);
    free(prev);
    out->precision =
        out->linked_pairs ? (double)out->correct_pairs / (double)out->linked_pairs : 1.0;
    out->recall = out->true_pairs ? (double)out->correct_pairs / (double)out->true_pairs : 1.0;
    out->f1 = out->precision + out->recall > 0
                  ? 2 * out->precision * out->recall / (out->precision + out->recall)
                  : 0.0;
    out->reconciliation =
        out->reconcilable ? (double)out->reconciled_correct / (double)out->reconcilable : 1.0;
    out->reviews = pm_linker_review_count(lk);
    out->merges = pm_linker_merge_count(lk);
    return PM_OK;
}
