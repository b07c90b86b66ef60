/* A screening run as a library call: a manifest, crossings or the store
 * screened against a watchlist, each distinct identity once (repeat crossers
 * reuse its hits), with an optional evaluation against the generator's truth.
 * The result is a pm_report_t, so the CLI and a server give the same answer.
 * Moved from the CLI (issue 11). Reentrant: all state lives in the run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_impl.h"
#include "perimeter/core.h"
#include "perimeter/reports.h"

#define SCREEN_HITS_MAX 16

struct pm_screen_run {
    const pm_watchlist_t *wl;
    pm_screen_run_options_t o;
    int name_only;    /* also list name-only referrals */
    pm_report_t *rep; /* hit rows */
    uint64_t screened, hit_records, hits, referred_records, referrals;
    uint64_t ns; /* time inside screening calls */
    /* evaluation */
    const pm_link_truth_t *truth;
    uint64_t *entry_person; /* per watchlist entry, 0 = nobody; owned */
    uint64_t *persons;      /* per screened record with truth: person id */
    uint8_t *flags; /* per such record: 1 own-entry hit, 2 other hit, 4 own-entry
                       name-only referral, 8 other referral */
    size_t cap;
    uint64_t untruthed;
    /* identities already screened: key -> hits in pool */
    uint64_t *cache_key;
    uint32_t *cache_off;
    uint8_t *cache_n;
    size_t cache_cap, cache_used;
    pm_screen_hit_t *pool;
    size_t pool_n, pool_cap;
    pm_list_row_t row; /* manifest reader's rows (too big for the stack) */
    pm_list_row_t hdr;
};

static const char *const screen_cols[] = {"record", "name",    "watchlist_id", "listed_name",
                                          "score",  "reasons", "list_reason"};

int pm_screen_run_new(const pm_watchlist_t *wl, const pm_screen_run_options_t *o,
                      pm_screen_run_t **out, pm_error_t *err)
{
    *out = NULL;
    if (!wl) return pm_error_set(err, PM_EINVAL, "screen: no watchlist");
    pm_screen_run_t *s = calloc(1, sizeof *s);
    if (!s) return pm_error_set(err, PM_ENOMEM, "screen: out of memory");
    s->wl = wl;
    if (o) s->o = *o;
    const pm_screen_min_t m = pm_screen_min_of(s->o.min_score, s->o.min_undated);
    s->o.min_score = m.dated;
    s->o.min_undated = m.undated;
    if (s->o.max_hits == 0) s->o.max_hits = 5;
    if (s->o.max_hits > SCREEN_HITS_MAX) {
        free(s);
        return pm_error_set(err, PM_EINVAL, "screen: max_hits %zu > %d", o->max_hits,
                            SCREEN_HITS_MAX);
    }
    s->rep = pm_report_new_table(7, screen_cols);
    if (!s->rep) {
        free(s);
        return pm_error_set(err, PM_ENOMEM, "screen: out of memory");
    }
    *out = s;
    return PM_OK;
}

void pm_screen_run_free(pm_screen_run_t *s)
{
    if (!s) return;
    pm_report_free(s->rep);
    free(s->entry_person);
    free(s->persons);
    free(s->flags);
    free(s->cache_key);
    free(s->cache_off);
    free(s->cache_n);
    free(s->pool);
    free(s);
}

int pm_screen_run_set_name_only(pm_screen_run_t *s, int on)
{
    if (!s) return PM_EINVAL;
    s->name_only = on != 0;
    return PM_OK;
}

static int cmp_entry_id(const void *a, const void *b, void *ctx)
{
    const pm_watchlist_t *wl = ctx;
    return strcmp(pm_watchlist_entry_id(wl, *(const uint32_t *)a),
                  pm_watchlist_entry_id(wl, *(const uint32_t *)b));
}

int pm_screen_run_set_truth(pm_screen_run_t *s, const pm_link_truth_t *truth, const char *wl_truth,
                            size_t len, pm_error_t *err)
{
    size_t nwl = pm_watchlist_count(s->wl);
    uint64_t *ep = calloc(nwl ? nwl : 1, sizeof *ep);
    if (!ep) return pm_error_set(err, PM_ENOMEM, "screen: out of memory");
    /* watchlist entry id -> entry index, sorted for lookup */
    uint32_t *idx = malloc((nwl ? nwl : 1) * sizeof *idx);
    if (!idx) {
        free(ep);
        return pm_error_set(err, PM_ENOMEM, "screen: out of memory");
    }
    for (size_t k = 0; k < nwl; k++)
        idx[k] = (uint32_t)k;
    /* insertion sort would be quadratic at 1M entries: qsort_r by id */
    qsort_r(idx, nwl, sizeof *idx, cmp_entry_id, (void *)s->wl);
    size_t pos = 0;
    uint64_t line = 1;
    int rc = pm_list_next(wl_truth, len, &pos, &line, &s->hdr, err);
    if (rc != 1) {
        free(ep);
        free(idx);
        return rc < 0 ? rc : pm_error_set(err, PM_EFORMAT, "watchlist truth: empty");
    }
    int c_w = pm_list_column(&s->hdr, "watchlist_id"), c_p = pm_list_column(&s->hdr, "person_id");
    if (c_w < 0 || c_p < 0) {
        free(ep);
        free(idx);
        return pm_error_set(err, PM_EFORMAT,
                            "watchlist truth: header needs watchlist_id and person_id");
    }
    rc = PM_OK;
    for (;;) {
        uint64_t at = line;
        int got = pm_list_next(wl_truth, len, &pos, &line, &s->row, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        if ((size_t)c_w >= s->row.n || (size_t)c_p >= s->row.n || !s->row.f[c_p][0]) continue;
        char *end;
        unsigned long long person = strtoull(s->row.f[c_p], &end, 10);
        if (*end || person == 0) {
            rc = pm_error_set(err, PM_EFORMAT, "watchlist truth:%llu: bad person_id '%.24s'",
                              (unsigned long long)at, s->row.f[c_p]);
            break;
        }
        size_t lo = 0, hi = nwl;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(pm_watchlist_entry_id(s->wl, idx[mid]), s->row.f[c_w]) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        /* every entry with that id (ids should be unique; duplicates all count) */
        for (; lo < nwl && !strcmp(pm_watchlist_entry_id(s->wl, idx[lo]), s->row.f[c_w]); lo++)
            ep[idx[lo]] = person;
    }
    free(idx);
    if (rc) {
        free(ep);
        return rc;
    }
    free(s->entry_person);
    s->entry_person = ep;
    s->truth = truth;
    return PM_OK;
}

static uint64_t identity_key(const pm_screen_subject_t *p)
{
    const pm_dob_t *dob = p->dob;
    char sex = p->sex;
    /* the same identity crosses often: screen it once (64-bit key; a
     * collision would reuse another identity's hits, odds ~n^2/2^65) */
    uint64_t key = 0xcbf29ce484222325ULL;
    const char *parts[6] = {p->surname,         p->given,          p->middle, p->citizenship,
                            p->document_number, p->document_issuer};
    for (int k = 0; k < 6; k++)
        for (const char *q = parts[k] ? parts[k] : "";; q++) {
            key = (key ^ (unsigned char)*q) * 0x100000001b3ULL;
            if (!*q) break;
        }
    pm_dob_t z = {0};
    if (!dob) dob = &z;
    key = (key ^ (uint64_t)(uint16_t)dob->year ^ (uint64_t)dob->month << 16 ^
           (uint64_t)dob->day << 24 ^ (uint64_t)(unsigned char)sex << 32) *
          0x9e3779b97f4a7c15ULL;
    return key | 1;
}

static int cache_grow(pm_screen_run_t *s, pm_error_t *err)
{
    size_t nc = s->cache_cap ? s->cache_cap * 2 : 1 << 12;
    uint64_t *nk = calloc(nc, sizeof *nk);
    uint32_t *no = calloc(nc, sizeof *no);
    uint8_t *nn = calloc(nc, 1);
    if (!nk || !no || !nn) {
        free(nk);
        free(no);
        free(nn);
        return pm_error_set(err, PM_ENOMEM, "screen: out of memory");
    }
    for (size_t i = 0; i < s->cache_cap; i++)
        if (s->cache_key[i]) {
            size_t j = (size_t)(s->cache_key[i] >> 17) & (nc - 1);
            while (nk[j])
                j = (j + 1) & (nc - 1);
            nk[j] = s->cache_key[i];
            no[j] = s->cache_off[i];
            nn[j] = s->cache_n[i];
        }
    free(s->cache_key);
    free(s->cache_off);
    free(s->cache_n);
    s->cache_key = nk;
    s->cache_off = no;
    s->cache_n = nn;
    s->cache_cap = nc;
    return PM_OK;
}

int pm_screen_run_person(pm_screen_run_t *s, const pm_screen_subject_t *p, pm_error_t *err)
{
    pm_screen_hit_t hits[SCREEN_HITS_MAX];
    size_t nh = 0;
    uint64_t t0 = pm_now_ns();
    const char *surname = p->surname ? p->surname : "", *given = p->given ? p->given : "",
               *middle = p->middle ? p->middle : "";
    if (!s->rep) return pm_error_set(err, PM_ESTATE, "screen: the run has finished");
    uint64_t key = identity_key(p);
    int cached = 0, rc;
    if (s->cache_cap) {
        size_t j = (size_t)(key >> 17) & (s->cache_cap - 1);
        while (s->cache_key[j] && s->cache_key[j] != key)
            j = (j + 1) & (s->cache_cap - 1);
        if (s->cache_key[j] == key) {
            nh = s->cache_n[j];
            if (nh) memcpy(hits, s->pool + s->cache_off[j], nh * sizeof *hits);
            cached = 1;
        }
    }
    if (!cached) {
        pm_screen_query_t q = {surname, given,          middle, p->dob, p->sex, p->citizenship,
                               p->document_number, p->document_issuer};
        const pm_screen_min_t m = {s->o.min_score, s->o.min_undated};
        rc = pm_watchlist_screen_query_min(s->wl, &q, s->name_only ? PM_SCREEN_NAME_ONLY : 0, &m,
                                           hits, s->o.max_hits, &nh, err);
        if (rc) return rc;
        if ((s->cache_used + 1) * 2 > s->cache_cap && (rc = cache_grow(s, err))) return rc;
        if (s->pool_n + nh > s->pool_cap) {
            size_t nc = s->pool_cap ? s->pool_cap * 2 : 1024;
            while (nc < s->pool_n + nh)
                nc *= 2;
            pm_screen_hit_t *np = realloc(s->pool, nc * sizeof *np);
            if (!np) return pm_error_set(err, PM_ENOMEM, "screen: out of memory");
            s->pool = np;
            s->pool_cap = nc;
        }
        if (s->pool_n + nh <= UINT32_MAX) {
            size_t j = (size_t)(key >> 17) & (s->cache_cap - 1);
            while (s->cache_key[j])
                j = (j + 1) & (s->cache_cap - 1);
            s->cache_key[j] = key;
            s->cache_off[j] = (uint32_t)s->pool_n;
            s->cache_n[j] = (uint8_t)nh;
            if (nh) memcpy(s->pool + s->pool_n, hits, nh * sizeof *hits);
            s->pool_n += nh;
            s->cache_used++;
        }
    }
    s->ns += pm_now_ns() - t0;
    s->screened++;
    size_t nref = 0;
    for (size_t h = 0; h < nh; h++)
        nref += hits[h].name_only != 0;
    s->hits += nh - nref;
    s->hit_records += nh > nref;
    s->referrals += nref;
    s->referred_records += nref > 0;
    if (s->truth) {
        uint64_t person = 0;
        if (pm_link_truth_person(s->truth, p->key1 ? p->key1 : "", p->key2 ? p->key2 : "",
                                 &person)) {
            s->untruthed++;
        } else {
            size_t i = s->screened - 1 - s->untruthed;
            if (i >= s->cap) {
                size_t nc = s->cap ? s->cap * 2 : 4096;
                uint64_t *np = realloc(s->persons, nc * sizeof *np);
                if (np) s->persons = np;
                uint8_t *nf = realloc(s->flags, nc);
                if (nf) s->flags = nf;
                if (!np || !nf) return pm_error_set(err, PM_ENOMEM, "screen: out of memory");
                s->cap = nc;
            }
            s->persons[i] = person;
            s->flags[i] = 0;
            for (size_t h = 0; h < nh; h++) {
                s->flags[i] |= (uint8_t)((s->entry_person[hits[h].entry] == person ? 1 : 2)
                                         << (hits[h].name_only ? 2 : 0));
                /* a hit (not a referral) through an entry listed without a
                 * date of birth, or with one: the figures per kind of entry */
                if (!hits[h].name_only)
                    s->flags[i] |= pm_watchlist_entry_dated(s->wl, hits[h].entry) ? 32 : 16;
            }
        }
    }
    if (!s->o.no_rows)
        for (size_t h = 0; h < nh; h++) {
            char score[16], why[400], nm[PM_LINK_NAME_MAX], who[1040];
            snprintf(score, sizeof score, "%.1f", hits[h].score);
            pm_screen_hit_reason(&hits[h], why, sizeof why);
            pm_watchlist_entry_name(s->wl, hits[h].entry, hits[h].name_index, nm, sizeof nm);
            snprintf(who, sizeof who, "%s, %s", surname, given);
            const char *cells[7] = {p->ref ? p->ref : "",
                                    who,
                                    pm_watchlist_entry_id(s->wl, hits[h].entry),
                                    nm,
                                    score,
                                    why,
                                    pm_watchlist_entry_reason(s->wl, hits[h].entry)};
            if (pm_report_add_row(s->rep, cells))
                return pm_error_set(err, PM_ENOMEM, "screen: out of memory");
        }
    return PM_OK;
}

int pm_screen_run_crossing(pm_screen_run_t *s, const pm_crossing_t *c, pm_error_t *err)
{
    char ref[PM_RECORD_ID_MAX + 8];
    snprintf(ref, sizeof ref, "%s:%s", c->reporting_country, c->record_id);
    pm_screen_subject_t p = {c->reporting_country, c->record_id,  ref,
                             c->surname,           c->given_names, c->middle_names,
                             &c->dob,              c->sex,         c->citizenship,
                             c->document_number,   c->document_issuer};
    return pm_screen_run_person(s, &p, err);
}

int pm_screen_run_manifest(pm_screen_run_t *s, const char *data, size_t len, const char *name,
                           pm_error_t *err)
{
    size_t pos = 0;
    uint64_t line = 1;
    if (!name) name = "manifest";
    int rc = pm_list_next(data, len, &pos, &line, &s->hdr, err);
    if (rc != 1)
        return rc < 0 ? pm_error_prefix(err, "%s", name)
                      : pm_error_set(err, PM_EFORMAT, "%s: empty or bad header", name);
    const pm_list_row_t *h = &s->hdr;
    int c_f = pm_list_column(h, "flight_id"), c_q = pm_list_column(h, "passenger_seq");
    int c_s = pm_list_column(h, "surname"), c_g = pm_list_column(h, "given_names");
    int c_m = pm_list_column(h, "middle_names"), c_d = pm_list_column(h, "date_of_birth");
    int c_x = pm_list_column(h, "sex"), c_c = pm_list_column(h, "citizenship");
    if (c_c < 0) c_c = pm_list_column(h, "nationality");
    int c_n = pm_list_column(h, "document_number"), c_i = pm_list_column(h, "document_issuer");
    if (c_s < 0) return pm_error_set(err, PM_EFORMAT, "%s:1: header has no surname column", name);
    rc = PM_OK;
    while (!rc) {
        uint64_t at = line;
        int got = pm_list_next(data, len, &pos, &line, &s->row, err);
        if (got <= 0) {
            if (got < 0) pm_error_prefix(err, "%s", name);
            rc = got;
            break;
        }
        const pm_list_row_t *r = &s->row;
#define COL(c) ((c) >= 0 && (size_t)(c) < r->n ? r->f[c] : "")
        pm_dob_t dob = {0};
        const char *ds = COL(c_d);
        if (*ds && pm_dob_parse(ds, strlen(ds), &dob, NULL))
            return pm_error_set(err, PM_EFORMAT, "%s:%llu: bad date_of_birth '%.16s'", name,
                                (unsigned long long)at, ds);
        char ref[160];
        snprintf(ref, sizeof ref, "%s:%s", COL(c_f), COL(c_q));
        pm_screen_subject_t p = {COL(c_f), COL(c_q), ref,         COL(c_s), COL(c_g), COL(c_m),
                                 &dob,     COL(c_x)[0], COL(c_c), COL(c_n), COL(c_i)};
#undef COL
        rc = pm_screen_run_person(s, &p, err);
        if (rc) pm_error_prefix(err, "%s:%llu", name, (unsigned long long)at);
    }
    return rc;
}

int pm_screen_run_store(pm_screen_run_t *s, pm_store_t *st, pm_error_t *err)
{
    pm_crossing_iter_t *it = NULL;
    int rc = pm_store_crossings(st, NULL, &it, err);
    if (rc) return rc;
    pm_crossing_t *c = malloc(sizeof *c);
    if (!c) rc = pm_error_set(err, PM_ENOMEM, "screen: out of memory");
    while (!rc) {
        int got = pm_crossing_iter_next(it, c, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        rc = pm_screen_run_crossing(s, c, err);
    }
    free(c);
    pm_crossing_iter_close(it);
    return rc;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Per person: seeded (on the list) or clean; detected / falsely hit. */
static int evaluate(pm_screen_run_t *s, pm_report_t *r, pm_error_t *err)
{
    size_t n = s->screened - s->untruthed, nwl = pm_watchlist_count(s->wl);
    uint64_t *seeded = malloc((nwl + 1) * sizeof *seeded);
    uint64_t *key = malloc((n ? n : 1) * sizeof *key);
    if (!seeded || !key) {
        free(seeded);
        free(key);
        return pm_error_set(err, PM_ENOMEM, "screen: out of memory");
    }
    size_t ns = 0;
    /* seeded[] holds person << 1 | listed without a date of birth */
    for (size_t k = 0; k < nwl; k++)
        if (s->entry_person[k])
            seeded[ns++] = s->entry_person[k] << 1 | !pm_watchlist_entry_dated(s->wl, (uint32_t)k);
    qsort(seeded, ns, sizeof *seeded, cmp_u64);
    for (size_t i = 0; i < n; i++)
        key[i] = s->persons[i] << 6 | s->flags[i];
    qsort(key, n, sizeof *key, cmp_u64);
    uint64_t sp = 0, sp_hit = 0, sr = 0, sr_hit = 0, cp = 0, cp_hit = 0, cr = 0, cr_hit = 0;
    uint64_t sp_ref = 0, cp_ref = 0; /* found only by a referral; clean people referred only */
    /* per kind of entry: seeded people listed without a date of birth and
     * found; clean people hit through an undated / a dated entry */
    uint64_t su = 0, su_hit = 0, cp_hit_undated = 0, cp_hit_dated = 0;
    for (size_t i = 0; i < n;) {
        uint64_t person = key[i] >> 6;
        uint64_t k0 = person << 1, k1 = person << 1 | 1;
        int undated = bsearch(&k1, seeded, ns, sizeof *seeded, cmp_u64) != NULL;
        int on = undated || bsearch(&k0, seeded, ns, sizeof *seeded, cmp_u64) != NULL;
        int own = 0, other = 0, own_ref = 0, other_ref = 0, via = 0;
        size_t j = i;
        for (; j < n && key[j] >> 6 == person; j++) {
            via |= (int)(key[j] & 48);
            int f = (int)(key[j] & 15);
            own_ref |= (f & 4) != 0;
            other_ref |= (f & 8) != 0;
            f &= 3;
            own |= f & 1;
            other |= (f & 2) != 0;
            if (on) {
                sr++;
                sr_hit += (f & 1) != 0;
            } else {
                cr++;
                cr_hit += f != 0;
            }
        }
        if (on) {
            sp++;
            sp_hit += own;
            sp_ref += !own && own_ref;
            su += undated;
            su_hit += undated && own;
        } else {
            cp++;
            cp_hit += other || own;
            cp_hit_undated += (via & 16) != 0;
            cp_hit_dated += (via & 32) != 0;
            cp_ref += !(other || own) && (other_ref || own_ref);
        }
        i = j;
    }
    free(key);
    free(seeded);
#define SETI(k, v) pm_report_set_int(r, k, (int64_t)(v))
#define SETR(k, v) pm_report_set_real(r, k, v)
    SETI("seeded_people_screened", sp);
    SETI("seeded_people_hit", sp_hit);
    SETR("hit_rate_people", sp ? (double)sp_hit / (double)sp : 0);
    SETI("seeded_records", sr);
    SETR("hit_rate_records", sr ? (double)sr_hit / (double)sr : 0);
    SETI("clean_people", cp);
    SETI("clean_people_hit", cp_hit);
    SETR("false_hits_per_1000_clean_travellers", cp ? 1000.0 * (double)cp_hit / (double)cp : 0);
    SETR("false_hits_per_1000_clean_records", cr ? 1000.0 * (double)cr_hit / (double)cr : 0);
    SETI("without_truth", s->untruthed);
    /* the same, apart for entries listed with and without a date of birth
     * (docs/link.md, "Where the target stands") */
    SETI("seeded_people_listed_without_dob", su);
    SETR("hit_rate_people_listed_with_dob",
         sp > su ? (double)(sp_hit - su_hit) / (double)(sp - su) : 0);
    SETR("hit_rate_people_listed_without_dob", su ? (double)su_hit / (double)su : 0);
    SETR("false_hits_per_1000_clean_travellers_via_dated_entries",
         cp ? 1000.0 * (double)cp_hit_dated / (double)cp : 0);
    SETR("false_hits_per_1000_clean_travellers_via_undated_entries",
         cp ? 1000.0 * (double)cp_hit_undated / (double)cp : 0);
    if (s->name_only) {
        SETI("seeded_people_referred_name_only", sp_ref);
        SETR("hit_rate_people_with_referrals", sp ? (double)(sp_hit + sp_ref) / (double)sp : 0);
        SETI("clean_people_referred_name_only", cp_ref);
        SETR("name_only_referrals_per_1000_clean_travellers",
             cp ? 1000.0 * (double)cp_ref / (double)cp : 0);
    }
#undef SETI
#undef SETR
    return PM_OK;
}

int pm_screen_run_finish(pm_screen_run_t *s, double wall_seconds, pm_report_t **out,
                         pm_error_t *err)
{
    *out = NULL;
    if (!s->rep) return pm_error_set(err, PM_ESTATE, "screen: the run has finished");
    pm_report_t *r = s->rep;
    pm_report_set_int(r, "watchlist_entries", (int64_t)pm_watchlist_count(s->wl));
    pm_report_set_int(r, "screened", (int64_t)s->screened);
    pm_report_set_int(r, "records_with_hits", (int64_t)s->hit_records);
    pm_report_set_int(r, "hits", (int64_t)s->hits);
    if (s->name_only) {
        pm_report_set_int(r, "records_with_name_only_referrals", (int64_t)s->referred_records);
        pm_report_set_int(r, "name_only_referrals", (int64_t)s->referrals);
    }
    pm_report_set_real(r, "screened_per_second",
                       s->ns ? (double)s->screened / ((double)s->ns / 1e9) : 0);
    pm_report_set_real(r, "seconds", wall_seconds);
    if (s->truth) {
        int rc = evaluate(s, r, err);
        if (rc) return rc;
    }
    *out = s->rep;
    s->rep = NULL; /* the caller owns the result; the run is over */
    return PM_OK;
}
