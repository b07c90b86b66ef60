/* Watchlist screening with the linkage comparators: names and aliases indexed
 * by the phonetic keys of their tokens (ICAO form and its plain variant), each
 * candidate scored by token-set name similarity and date-of-birth level. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_impl.h"
#include "perimeter/travel.h"

typedef struct watch_entry {
    char id[PM_RECORD_ID_MAX + 1];
    char reason[96];
    pm_dob_t dob;
    char sex;
    char cit[4];
    char doc[PM_DOCNUM_MAX + 1]; /* normalised: A-Z 0-9 only; "" unknown */
    char doc_issuer[4];
    int nnames;
    pm_name_t names[PM_WATCH_NAMES_MAX];
    /* how rare each token's phonetic key is among the list's entries, in
     * eighths of a bit (finalize) */
    uint8_t rarity[PM_WATCH_NAMES_MAX][PM_LINK_TOKENS_MAX];
    /* the romanisation-folded reading of name k (screen_fold.c): index + 1
     * into pm_watchlist.fold, 0 when folding changes nothing (finalize) */
    uint32_t fold[PM_WATCH_NAMES_MAX];
} watch_entry_t;

typedef struct index_item {
    uint64_t key;
    uint32_t entry;
    uint8_t name;
} index_item_t;

struct pm_watchlist {
    watch_entry_t *e;
    size_t n, cap;
    index_item_t *idx;
    uint32_t *idx_df; /* per index item: entries sharing its key */
    size_t nidx, cap_idx;
    index_item_t *didx; /* document numbers: (key, entry) sorted */
    pm__xlit_cache_t xlit; /* transliterators for names added (adding is one thread's) */
    pm_name_t *fold;       /* folded readings of names that change (finalize) */
    size_t nfold, cap_fold;
    size_t ndidx;
    int final;
};

/* A document number as compared: letters and digits only, upper case, the
 * OCR-confusable letters folded into digits ("AB 123-456", "ab123456" and
 * "A8123456" are one document). */
static void doc_norm(const char *in, char out[PM_DOCNUM_MAX + 1])
{
    char t[PM_DOCNUM_MAX + 1];
    size_t n = 0;
    for (const char *p = in ? in : ""; *p && n < PM_DOCNUM_MAX; p++) {
        char c = *p;
        if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) t[n++] = c;
    }
    t[n] = '\0';
    pm_docnum_ocr_fold(t, out, PM_DOCNUM_MAX + 1);
}

static uint64_t key_of(const char *phon)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = phon; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return h;
}

int pm_watchlist_new(pm_watchlist_t **out, pm_error_t *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? PM_OK : pm_error_set(err, PM_ENOMEM, "watchlist: out of memory");
}

void pm_watchlist_free(pm_watchlist_t *wl)
{
    if (!wl) return;
    free(wl->e);
    free(wl->idx);
    free(wl->idx_df);
    free(wl->didx);
    free(wl->fold);
    pm__xlit_cache_close(&wl->xlit);
    free(wl);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t l = src ? strnlen(src, cap - 1) : 0;
    if (l) memcpy(dst, src, l);
    dst[l] = '\0';
}

/* One alias: "SURNAME, GIVEN" or a plain full name (all tokens as surname). */
static int parse_alias(const char *a, size_t len, pm__xlit_cache_t *xc, pm_name_t *out,
                       pm_error_t *err)
{
    char buf[PM_LINK_INPUT_MAX + 1];
    if (len > PM_LINK_INPUT_MAX)
        return pm_error_set(err, PM_ELIMIT, "alias longer than %d bytes", PM_LINK_INPUT_MAX);
    memcpy(buf, a, len);
    buf[len] = '\0';
    char *comma = strchr(buf, ',');
    if (comma) {
        *comma = '\0';
        return pm__name_parse_cached(buf, comma + 1, NULL, PM_NAME_ROMANISE, xc, out, err);
    }
    return pm__name_parse_cached(buf, NULL, NULL, PM_NAME_ROMANISE, xc, out, err);
}

int pm_watchlist_add(pm_watchlist_t *wl, const char *id, const char *surname, const char *given,
                     const char *aliases, const pm_dob_t *dob, char sex, const char *citizenship,
                     const char *reason, pm_error_t *err)
{
    if (wl->n >= PM_WATCHLIST_MAX)
        return pm_error_set(err, PM_ELIMIT, "watchlist: more than %d entries", PM_WATCHLIST_MAX);
    if (wl->n == wl->cap) {
        size_t nc = wl->cap ? wl->cap * 2 : 256;
        watch_entry_t *ne = realloc(wl->e, nc * sizeof *ne);
        if (!ne) return pm_error_set(err, PM_ENOMEM, "watchlist: out of memory");
        wl->e = ne;
        wl->cap = nc;
    }
    watch_entry_t *e = &wl->e[wl->n];
    memset(e, 0, sizeof *e);
    copy_str(e->id, sizeof e->id, id);
    copy_str(e->reason, sizeof e->reason, reason);
    copy_str(e->cit, sizeof e->cit, citizenship);
    if (dob) e->dob = *dob;
    e->sex = sex;
    int rc =
        pm__name_parse_cached(surname, given, NULL, PM_NAME_ROMANISE, &wl->xlit, &e->names[0], err);
    if (rc) return pm_error_prefix(err, "watchlist entry %s", e->id), rc;
    e->nnames = 1;
    const char *p = aliases ? aliases : "";
    while (*p && e->nnames < PM_WATCH_NAMES_MAX) {
        const char *semi = strchr(p, ';');
        size_t l = semi ? (size_t)(semi - p) : strlen(p);
        if (l > 0) {
            rc = parse_alias(p, l, &wl->xlit, &e->names[e->nnames], err);
            if (rc) return pm_error_prefix(err, "watchlist entry %s alias", e->id), rc;
            if (e->names[e->nnames].n > 0) e->nnames++;
        }
        p += l + (semi ? 1 : 0);
    }
    wl->n++;
    wl->final = 0;
    return PM_OK;
}

int pm_watchlist_set_document(pm_watchlist_t *wl, uint32_t entry, const char *number,
                              const char *issuer, pm_error_t *err)
{
    if (entry >= wl->n) return pm_error_set(err, PM_EINVAL, "watchlist: no entry %u", entry);
    watch_entry_t *e = &wl->e[entry];
    if (number && strlen(number) > PM_DOCNUM_MAX)
        return pm_error_set(err, PM_ELIMIT, "watchlist entry %s: document number longer than %d",
                            e->id, PM_DOCNUM_MAX);
    if (issuer && *issuer && !pm_country_is_valid(issuer))
        return pm_error_set(err, PM_EFORMAT, "watchlist entry %s: bad document issuer '%.8s'",
                            e->id, issuer);
    doc_norm(number, e->doc);
    copy_str(e->doc_issuer, sizeof e->doc_issuer, issuer);
    wl->final = 0;
    return PM_OK;
}

static int idx_push(pm_watchlist_t *wl, uint64_t key, uint32_t entry, uint8_t name)
{
    if (wl->nidx == wl->cap_idx) {
        size_t nc = wl->cap_idx ? wl->cap_idx * 2 : 1024;
        index_item_t *ni = realloc(wl->idx, nc * sizeof *ni);
        if (!ni) return PM_ENOMEM;
        wl->idx = ni;
        wl->cap_idx = nc;
    }
    wl->idx[wl->nidx++] = (index_item_t){key, entry, name};
    return PM_OK;
}

static int cmp_item(const void *a, const void *b)
{
    const index_item_t *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    if (x->entry != y->entry) return x->entry < y->entry ? -1 : 1;
    return (int)x->name - (int)y->name;
}

static size_t lower_bound(const index_item_t *a, size_t n, uint64_t key);

/* Name-token rarity: -log2 of the share of entries with a name token of the
 * key, smoothed towards one in RARITY_PRIOR (as if RARITY_PRIOR entries of
 * typical names were added), in eighths of a bit; 0 for a token without a
 * key. On a 10,000-entry list a token only this entry has is worth about 12
 * bits, SMITH about 7; on a short list every token is near the prior's 10. */
#define RARITY_PRIOR 1024.0
static uint8_t rarity_of(const pm_watchlist_t *wl, const char *phon)
{
    if (!phon[0]) return 0;
    uint64_t key = key_of(phon);
    size_t lo = lower_bound(wl->idx, wl->nidx, key);
    double df = lo < wl->nidx && wl->idx[lo].key == key ? wl->idx_df[lo] : 0;
    double bits = log2(((double)wl->n + RARITY_PRIOR) / (df + 1.0));
    if (bits < 0) bits = 0;
    if (bits > 31) bits = 31;
    return (uint8_t)(bits * 8.0 + 0.5);
}

int pm_watchlist_finalize(pm_watchlist_t *wl, pm_error_t *err)
{
    wl->nidx = 0;
    wl->nfold = 0;
    for (size_t i = 0; i < wl->n; i++) {
        watch_entry_t *e = &wl->e[i];
        for (int k = 0; k < e->nnames; k++) {
            if (wl->nfold == wl->cap_fold) {
                size_t nc = wl->cap_fold ? wl->cap_fold * 2 : 256;
                pm_name_t *nf = realloc(wl->fold, nc * sizeof *nf);
                if (!nf) return pm_error_set(err, PM_ENOMEM, "watchlist: out of memory");
                wl->fold = nf;
                wl->cap_fold = nc;
            }
            e->fold[k] = 0;
            if (pm__screen_fold_name(&e->names[k], &wl->fold[wl->nfold]))
                e->fold[k] = (uint32_t)++wl->nfold;
            /* the original tokens' keys, and the folded ones where they differ
             * (RHEE and LI meet under LI's key) */
            for (int pass = 0; pass < 2; pass++) {
                const pm_name_t *nm = pass ? (e->fold[k] ? &wl->fold[e->fold[k] - 1] : NULL)
                                           : &e->names[k];
                for (size_t t = 0; nm && t < nm->n; t++) {
                    const pm_name_token_t *tok = &nm->tok[t];
                    if ((tok->flags & PM_TOK_PARTICLE) || !tok->phon[0]) continue;
                    if (pass && (strcmp(tok->phon, e->names[k].tok[t].phon) == 0 ||
                                 !pm__screen_fold_is_class(e->names[k].tok[t].text)))
                        continue;
                    if (idx_push(wl, key_of(tok->phon), (uint32_t)i, (uint8_t)k))
                        return pm_error_set(err, PM_ENOMEM, "watchlist: out of memory");
                }
            }
        }
    }
    if (wl->nidx > 1) qsort(wl->idx, wl->nidx, sizeof *wl->idx, cmp_item);
    /* document frequency of each key: the entries that have a name token
     * with it (aliases of one entry count once) */
    free(wl->idx_df);
    wl->idx_df = malloc((wl->nidx ? wl->nidx : 1) * sizeof *wl->idx_df);
    if (!wl->idx_df) return pm_error_set(err, PM_ENOMEM, "watchlist: out of memory");
    for (size_t lo = 0, hi; lo < wl->nidx; lo = hi) {
        uint32_t df = 0;
        for (hi = lo; hi < wl->nidx && wl->idx[hi].key == wl->idx[lo].key; hi++)
            df += hi == lo || wl->idx[hi].entry != wl->idx[hi - 1].entry;
        for (size_t i = lo; i < hi; i++)
            wl->idx_df[i] = df;
    }
    for (size_t i = 0; i < wl->n; i++) {
        watch_entry_t *e = &wl->e[i];
        for (int k = 0; k < e->nnames; k++)
            for (size_t t = 0; t < e->names[k].n; t++)
                e->rarity[k][t] = rarity_of(wl, e->names[k].tok[t].phon);
    }
    free(wl->didx);
    wl->didx = NULL;
    wl->ndidx = 0;
    size_t nd = 0;
    for (size_t i = 0; i < wl->n; i++)
        nd += wl->e[i].doc[0] != '\0';
    if (nd) {
        wl->didx = malloc(nd * sizeof *wl->didx);
        if (!wl->didx) return pm_error_set(err, PM_ENOMEM, "watchlist: out of memory");
        for (size_t i = 0; i < wl->n; i++)
            if (wl->e[i].doc[0])
                wl->didx[wl->ndidx++] = (index_item_t){key_of(wl->e[i].doc), (uint32_t)i, 0};
        qsort(wl->didx, wl->ndidx, sizeof *wl->didx, cmp_item);
    }
    wl->final = 1;
    return PM_OK;
}

size_t pm_watchlist_count(const pm_watchlist_t *wl)
{
    return wl->n;
}

const char *pm_watchlist_entry_id(const pm_watchlist_t *wl, uint32_t entry)
{
    return entry < wl->n ? wl->e[entry].id : "";
}

const char *pm_watchlist_entry_reason(const pm_watchlist_t *wl, uint32_t entry)
{
    return entry < wl->n ? wl->e[entry].reason : "";
}

int pm_watchlist_entry_dated(const pm_watchlist_t *wl, uint32_t entry)
{
    return entry < wl->n && wl->e[entry].dob.year != 0;
}

void pm_watchlist_entry_name(const pm_watchlist_t *wl, uint32_t entry, int k, char *out, size_t cap)
{
    size_t len = 0;
    if (cap == 0) return;
    out[0] = '\0';
    if (entry >= wl->n || k < 0 || k >= wl->e[entry].nnames) return;
    const pm_name_t *nm = &wl->e[entry].names[k];
    for (size_t i = 0; i < nm->n; i++) {
        size_t l = strlen(nm->tok[i].text);
        if (len + l + 2 > cap) break;
        if (len) out[len++] = ' ';
        memcpy(out + len, nm->tok[i].text, l);
        len += l;
    }
    out[len] = '\0';
}

static double dob_adjust(pm_dob_level_t l)
{
    switch (l) {
    case PM_DOB_EXACT:
        return 10;
    case PM_DOB_SWAP:
    case PM_DOB_DAY1:
        return 6;
    case PM_DOB_YEARMONTH:
        return 2;
    case PM_DOB_YEAR1:
        return 3;
    case PM_DOB_PARTIAL:
        return 1;
    case PM_DOB_MISSING:
        return -8;
    default:
        return -30;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static size_t lower_bound(const index_item_t *a, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#define SCREEN_CANDIDATES 512

/* Scoring beyond name and date (docs/link.md, "Screening"): a citizenship
 * both sides state and that differs is weak ground; a listed document number
 * is decisive, another number than the listed one counts against. Without a
 * date of birth the name must carry the hit alone: its evidence is the rarity
 * of the agreeing tokens among the list's entries (name_bits), NO_DOB_PIVOT
 * bits scoring nothing, each bit more or less one point, within
 * +-NO_DOB_RARITY_MAX. A year-only date (partial) and a same-month date agree
 * with one stranger in 50 or so and count little. Chosen on tuning sets
 * (people seed 11; watchlists 12 and 14; manifests 13 and 15), reported on
 * another (docs/link.md). */
#define DOC_EXACT         20.0
#define DOC_HIT_FLOOR     100.0
#define NO_DOB_PIVOT      14.0
#define NO_DOB_PER_BIT    1.0
#define NO_DOB_RARITY_MAX 10.0
/* Nationality and document as one field: a dual national's other
 * citizenship and other passport are one fact, not two against (the previous
 * scoring added citizenship -5 and document -8). Rows: citizenship agrees,
 * agrees as a set (the citizenships differ but one side's document issuer is
 * the other's citizenship), disagrees, not stated on one side; columns: the
 * listed document is another number of the same issuer, a number of another
 * issuer, nothing to compare. Another number of the same issuer keeps the -8
 * it had (chosen on the tuning sets; renewals and cards make it weak, not
 * nothing); a document of another issuer is not required to match when the
 * nationalities agree or meet as a set (0), and counts once with a differing
 * citizenship (-8, not -13). Log-likelihood weights learned on the tuning pair
 * were measured too and not kept (docs/link.md, "Evidence per kind"). */
enum { NAT_AGREE, NAT_SET, NAT_DISAGREE, NAT_UNKNOWN };
enum { NDOC_OTHER_SAME_ISSUER, NDOC_OTHER_ISSUER, NDOC_UNKNOWN };
static const double natdoc_w[4][3] = {
    {-6.0, 0.0, 2.0},    /* citizenship agrees */
    {-6.0, 0.0, 2.0},    /* agrees as a set */
    {-13.0, -8.0, -5.0}, /* disagrees */
    {-8.0, -8.0, 0.0},   /* not stated on one side */
};
#define SEX_DISAGREE (-10.0)
/* Name-only referral (PM_SCREEN_NAME_ONLY): an entry listed without a
 * date of birth and without a document, whose every name token agrees. */
#define NAME_ONLY_SIM 0.97

static size_t core_tokens(const pm_name_t *n)
{
    size_t c = 0;
    for (size_t t = 0; t < n->n; t++)
        c += !(n->tok[t].flags & PM_TOK_PARTICLE);
    return c;
}

/* The evidence of the name agreement: the rarity of each listed core token
 * that a query token agrees with (token similarity >= 0.88), times that
 * similarity, summed (bits). */
static double name_bits(const pm_name_t *q, const pm_name_t *l, const watch_entry_t *e, int k)
{
    double sum = 0;
    for (size_t t = 0; t < l->n; t++) {
        if (l->tok[t].flags & PM_TOK_PARTICLE) continue;
        double best = 0;
        for (size_t u = 0; u < q->n; u++) {
            if (q->tok[u].flags & PM_TOK_PARTICLE) continue;
            double s = pm__token_score(&q->tok[u], &l->tok[t]);
            if (s > best) best = s;
        }
        if (best >= 0.88) sum += best * e->rarity[k][t] / 8.0;
    }
    return sum;
}

int pm_watchlist_screen(const pm_watchlist_t *wl, const char *surname, const char *given,
                        const char *middle, const pm_dob_t *dob, char sex, const char *citizenship,
                        double min_score, pm_screen_hit_t *hits, size_t max_hits, size_t *out_n,
                        pm_error_t *err)
{
    pm_screen_query_t q = {surname, given, middle, dob, sex, citizenship, NULL, NULL};
    return pm_watchlist_screen_query(wl, &q, min_score, hits, max_hits, out_n, err);
}

static void add_hit(pm_screen_hit_t *hits, size_t max_hits, size_t *out_n, const pm_screen_hit_t *h)
{
    /* keep one hit per entry (its best name), hits sorted best first */
    size_t j = 0;
    while (j < *out_n && hits[j].entry != h->entry)
        j++;
    if (j < *out_n) {
        if (hits[j].score >= h->score) return;
        memmove(&hits[j], &hits[j + 1], (*out_n - j - 1) * sizeof *hits);
        (*out_n)--;
    }
    /* hits best first, then the name-only referrals best first (with two
     * thresholds a referral may outscore a hit of the other kind of entry) */
    size_t pos = *out_n;
    while (pos > 0 && (hits[pos - 1].name_only > h->name_only ||
                       (hits[pos - 1].name_only == h->name_only && hits[pos - 1].score < h->score)))
        pos--;
    if (pos >= max_hits) return;
    size_t keep = *out_n < max_hits ? *out_n : max_hits - 1;
    memmove(&hits[pos + 1], &hits[pos], (keep - pos) * sizeof *hits);
    hits[pos] = *h;
    *out_n = keep + 1;
}

int pm_watchlist_screen_query(const pm_watchlist_t *wl, const pm_screen_query_t *qp,
                              double min_score, pm_screen_hit_t *hits, size_t max_hits,
                              size_t *out_n, pm_error_t *err)
{
    return pm_watchlist_screen_query_ex(wl, qp, 0, min_score, hits, max_hits, out_n, err);
}

pm_screen_min_t pm_screen_min_of(double min_score, double min_undated)
{
    pm_screen_min_t m;
    m.dated = min_score != 0 ? min_score : PM_SCREEN_DEFAULT_MIN;
    m.undated = min_undated != 0
                    ? min_undated
                    : m.dated + (PM_SCREEN_DEFAULT_MIN_UNDATED - PM_SCREEN_DEFAULT_MIN);
    return m;
}

int pm_watchlist_screen_query_ex(const pm_watchlist_t *wl, const pm_screen_query_t *qp,
                                 unsigned flags, double min_score, pm_screen_hit_t *hits,
                                 size_t max_hits, size_t *out_n, pm_error_t *err)
{
    const pm_screen_min_t m = {min_score, min_score};
    return pm_watchlist_screen_query_min(wl, qp, flags, &m, hits, max_hits, out_n, err);
}

int pm_watchlist_screen_query_min(const pm_watchlist_t *wl, const pm_screen_query_t *qp,
                                  unsigned flags, const pm_screen_min_t *min,
                                  pm_screen_hit_t *hits, size_t max_hits, size_t *out_n,
                                  pm_error_t *err)
{
    const int name_only = (flags & PM_SCREEN_NAME_ONLY) != 0;
    *out_n = 0;
    if (!wl->final) return pm_error_set(err, PM_ESTATE, "watchlist not finalised");
    if (max_hits == 0) return PM_OK;
    pm_name_t q;
    int rc = pm_name_parse_ex(qp->surname ? qp->surname : "", qp->given, qp->middle,
                              PM_NAME_ROMANISE, &q, err);
    if (rc) return rc;
    pm_dob_t nodob = {0};
    const pm_dob_t *dob = qp->dob ? qp->dob : &nodob;
    const char *citizenship = qp->citizenship ? qp->citizenship : "";
    char qdoc[PM_DOCNUM_MAX + 1];
    doc_norm(qp->document_number, qdoc);
    const char *qiss = qp->document_issuer ? qp->document_issuer : "";
    /* the romanisation-folded reading of the query (screen_fold.c) */
    pm_name_t qf;
    const int qfolded = pm__screen_fold_name(&q, &qf);
    /* candidates: entries listing the document first (decisive; name 0xff
     * expands to every name of the entry), then (entry, name) pairs sharing a
     * phonetic key, rarest key first, so that a common surname cannot crowd
     * out the given name that a true hit shares */
    uint64_t cand[SCREEN_CANDIDATES];
    size_t nc = 0;
    if (qdoc[0]) {
        uint64_t key = key_of(qdoc);
        for (size_t i = lower_bound(wl->didx, wl->ndidx, key);
             i < wl->ndidx && wl->didx[i].key == key && nc < SCREEN_CANDIDATES; i++)
            for (int k = 0; k < wl->e[wl->didx[i].entry].nnames && nc < SCREEN_CANDIDATES; k++)
                cand[nc++] = (uint64_t)wl->didx[i].entry << 8 | (unsigned)k;
    }
    struct {
        size_t lo, hi;
    } post[PM_LINK_TOKENS_MAX];
    size_t np = 0, qcore = 0;
    for (size_t t = 0; t < 2 * q.n && np < PM_LINK_TOKENS_MAX; t++) {
        const pm_name_token_t *qt = t < q.n ? &q.tok[t] : &qf.tok[t - q.n];
        if ((qt->flags & PM_TOK_PARTICLE) || !qt->phon[0]) continue;
        if (t >= q.n && (!qfolded || strcmp(qt->phon, q.tok[t - q.n].phon) == 0 ||
                         !pm__screen_fold_is_class(q.tok[t - q.n].text)))
            continue;
        if (t < q.n) qcore++;
        uint64_t key = key_of(qt->phon);
        size_t lo = lower_bound(wl->idx, wl->nidx, key), hi = lo;
        while (hi < wl->nidx && wl->idx[hi].key == key)
            hi++;
        size_t at = np++;
        while (at > 0 && post[at - 1].hi - post[at - 1].lo > hi - lo) {
            post[at] = post[at - 1];
            at--;
        }
        post[at].lo = lo;
        post[at].hi = hi;
    }
    for (size_t j = 0; j < np && nc < SCREEN_CANDIDATES; j++)
        for (size_t i = post[j].lo; i < post[j].hi && nc < SCREEN_CANDIDATES; i++) {
            const watch_entry_t *e = &wl->e[wl->idx[i].entry];
            /* the date alone can rule an entry out: skip before scoring names
             * (an entry listing the document is a candidate already) */
            /* years more than one apart disagree whatever the days: skip the
             * full comparison (most postings of a common key) */
            int dy = dob->year - e->dob.year;
            pm_dob_level_t dl = dob->year && e->dob.year && (dy > 1 || dy < -1)
                                    ? PM_DOB_DISAGREE
                                    : pm_dob_compare(dob, &e->dob);
            double best = 100.0 + dob_adjust(dl) + 2.0;
            if (dl == PM_DOB_MISSING) best += NO_DOB_RARITY_MAX;
            if (best < (e->dob.year ? min->dated : min->undated) && !(name_only && !e->dob.year))
                continue;
            cand[nc++] = (uint64_t)wl->idx[i].entry << 8 | wl->idx[i].name;
        }
    qsort(cand, nc, sizeof *cand, cmp_u64);
    for (size_t i = 0; i < nc; i++) {
        if (i > 0 && cand[i] == cand[i - 1]) continue;
        uint32_t entry = (uint32_t)(cand[i] >> 8);
        int k = (int)(cand[i] & 0xff);
        const watch_entry_t *e = &wl->e[entry];
        /* entries listed without a date of birth have their own threshold */
        const double min_score = e->dob.year ? min->dated : min->undated;
        pm_screen_hit_t h;
        memset(&h, 0, sizeof h);
        h.entry = entry;
        h.name_index = k;
        h.name_similarity = pm_name_similarity(&q, &e->names[k], NULL);
        const pm_name_t *fq = &q, *fl = &e->names[k];
        /* the folded reading only where a full agreement could still be a hit
         * (or a referral): the date can rule it out first */
        pm_dob_level_t dl0 = pm_dob_compare(dob, &e->dob);
        int fold_may = 100.0 + dob_adjust(dl0) + 2.0 +
                               (dl0 == PM_DOB_MISSING ? NO_DOB_RARITY_MAX : 0) >=
                           min_score ||
                       (qdoc[0] && e->doc[0]) || (name_only && !e->dob.year);
        if (fold_may && h.name_similarity < 1.0 && (qfolded || e->fold[k])) {
            const pm_name_t *a = qfolded ? &qf : &q;
            const pm_name_t *b = e->fold[k] ? &wl->fold[e->fold[k] - 1] : &e->names[k];
            double s2 = pm_name_similarity(a, b, NULL);
            if (s2 > h.name_similarity) {
                h.name_similarity = s2;
                h.romanised = 1;
                fq = a;
                fl = b;
            }
        }
        /* a single listed token (or a single given one) against a fuller name is
         * a surname-only agreement: weak */
        size_t lcore = core_tokens(&e->names[k]);
        if ((lcore == 1) != (qcore == 1)) h.name_similarity *= 0.85;
        h.dob_level = dl0;
        h.sex_level = pm__sex_level(qp->sex, e->sex);
        h.citizenship_level = pm__code_level(citizenship, e->cit);
        h.document_level = 2;
        if (qdoc[0] && e->doc[0]) {
            int same = strcmp(qdoc, e->doc) == 0 &&
                       (!qiss[0] || !e->doc_issuer[0] || strcmp(qiss, e->doc_issuer) == 0);
            h.document_level = same ? 0 : 1;
        }
        /* nationality as a set: each side's citizenship and document issuer */
        int nat = NAT_UNKNOWN;
        if (h.citizenship_level == 0)
            nat = NAT_AGREE;
        else if (h.citizenship_level == 1) {
            int meet = (qiss[0] && strcmp(qiss, e->cit) == 0) ||
                       (e->doc_issuer[0] && strcmp(e->doc_issuer, citizenship) == 0) ||
                       (qiss[0] && e->doc_issuer[0] && strcmp(qiss, e->doc_issuer) == 0);
            nat = meet ? NAT_SET : NAT_DISAGREE;
            h.nationality_set = meet;
        }
        int ndoc = NDOC_UNKNOWN;
        if (h.document_level == 1)
            ndoc = !qiss[0] || !e->doc_issuer[0] || strcmp(qiss, e->doc_issuer) == 0
                       ? NDOC_OTHER_SAME_ISSUER
                       : NDOC_OTHER_ISSUER;
        h.w_name = 100.0 * h.name_similarity;
        h.w_dob = dob_adjust(h.dob_level);
        h.w_sex = h.sex_level == 1 ? SEX_DISAGREE : 0;
        h.w_natdoc = h.document_level == 0 ? (nat == NAT_AGREE ? 2.0 : 0.0) : natdoc_w[nat][ndoc];
        h.score = h.w_name + h.w_dob + h.w_sex + h.w_natdoc;
        /* the listed document says nothing against a traveller carrying one of
         * another issuer whose nationality agrees (or meets as a set) */
        int doc_silent =
            !e->doc[0] || (ndoc == NDOC_OTHER_ISSUER && (nat == NAT_AGREE || nat == NAT_SET));
        int may_refer = name_only && !e->dob.year && doc_silent &&
                        h.name_similarity >= NAME_ONLY_SIM;
        if (h.dob_level == PM_DOB_MISSING &&
            (h.score + NO_DOB_RARITY_MAX >= min_score || may_refer)) {
            h.name_bits = name_bits(fq, fl, e, k);
            double r = NO_DOB_PER_BIT * (h.name_bits - NO_DOB_PIVOT);
            h.w_rarity = r > NO_DOB_RARITY_MAX    ? NO_DOB_RARITY_MAX
                         : r < -NO_DOB_RARITY_MAX ? -NO_DOB_RARITY_MAX
                                                  : r;
            h.score += h.w_rarity;
        }
        if (h.document_level == 0) {
            h.score += DOC_EXACT;
            if (h.score < DOC_HIT_FLOOR) h.score = DOC_HIT_FLOOR;
        }
        if (h.score < min_score) {
            /* nothing but the name can tie the traveller to an entry listed
             * without a date of birth or a document: a full name agreement
             * that nothing contradicts is a referral, not a hit */
            if (!name_only || e->dob.year || !doc_silent || h.name_similarity < NAME_ONLY_SIM ||
                h.sex_level == 1 || (h.citizenship_level == 1 && !h.nationality_set))
                continue;
            h.name_only = 1;
        }
        if (h.name_bits == 0) h.name_bits = name_bits(fq, fl, e, k); /* shown with the hit */
        add_hit(hits, max_hits, out_n, &h);
    }
    return PM_OK;
}

void pm_screen_hit_reason(const pm_screen_hit_t *h, char *out, size_t cap)
{
    static const char *const lv[3] = {"agree", "disagree", "unknown"};
    char alias[24] = "", rar[64] = "";
    if (h->name_index > 0) snprintf(alias, sizeof alias, " (alias %d)", h->name_index);
    if (h->dob_level == PM_DOB_MISSING)
        snprintf(rar, sizeof rar, " (no date listed: name rarity %.1f bits %+.1f)", h->name_bits,
                 h->w_rarity);
    const char *doc = h->document_level == 0   ? "; document exact (+20, a hit at >= 100)"
                      : h->document_level != 1 ? ""
                      : h->w_natdoc >= 0       ? "; document differs, another issuer: not required"
                                               : "; document differs";
    snprintf(out, cap, "name %.2f%s%s %+.1f; dob %s %+.1f%s; sex %s%s; citizenship %s%s %+.1f%s",
             h->name_similarity, alias, h->romanised ? " (romanisation variant)" : "", h->w_name,
             pm_dob_level_name(h->dob_level), h->w_dob, rar,
             lv[h->sex_level < 3 ? h->sex_level : 2], h->sex_level == 1 ? " -10.0" : "",
             h->nationality_set ? "agree as a set (dual nationality)"
                                : lv[h->citizenship_level < 3 ? h->citizenship_level : 2],
             doc, h->w_natdoc,
             h->name_only ? "; name only: listed without date of birth or document" : "");
}

int pm_watchlist_load_csv(pm_watchlist_t *wl, const char *data, size_t len, pm_error_t *err)
{
    size_t pos = 0;
    uint64_t line = 1;
    pm_list_row_t *row = malloc(sizeof *row), *hdr = malloc(sizeof *hdr);
    if (!row || !hdr) {
        free(row);
        free(hdr);
        return pm_error_set(err, PM_ENOMEM, "watchlist: out of memory");
    }
    int rc = pm_list_next(data, len, &pos, &line, hdr, err);
    if (rc <= 0) {
        free(row);
        free(hdr);
        return rc < 0 ? rc : pm_error_set(err, PM_EFORMAT, "watchlist: empty file");
    }
    int c_id = pm_list_column(hdr, "watchlist_id"), c_sur = pm_list_column(hdr, "surname");
    int c_giv = pm_list_column(hdr, "given_names"), c_al = pm_list_column(hdr, "aliases");
    int c_dob = pm_list_column(hdr, "date_of_birth"), c_sex = pm_list_column(hdr, "sex");
    int c_cit = pm_list_column(hdr, "citizenship"), c_rs = pm_list_column(hdr, "reason");
    int c_doc = pm_list_column(hdr, "document_number");
    int c_iss = pm_list_column(hdr, "document_issuer");
    if (c_id < 0 || c_sur < 0) {
        free(row);
        free(hdr);
        return pm_error_set(err, PM_EFORMAT,
                            "watchlist line 1: header needs watchlist_id and surname");
    }
    rc = PM_OK;
    for (;;) {
        uint64_t at = line;
        int got = pm_list_next(data, len, &pos, &line, row, err);
        if (got == 0) break;
        if (got < 0) {
            rc = got;
            break;
        }
#define COL(c) ((c) >= 0 && (size_t)(c) < row->n ? row->f[c] : "")
        if (row->n != hdr->n) {
            rc = pm_error_set(err, PM_EFORMAT, "watchlist line %llu: %zu fields, header has %zu",
                              (unsigned long long)at, row->n, hdr->n);
            break;
        }
        pm_dob_t dob = {0};
        const char *ds = COL(c_dob);
        int drc = *ds ? pm_dob_parse(ds, strlen(ds), &dob, err) : PM_OK;
        if (drc) {
            pm_error_prefix(err, "watchlist line %llu: date_of_birth", (unsigned long long)at);
            rc = drc;
            break;
        }
        const char *sx = COL(c_sex);
        rc = pm_watchlist_add(wl, COL(c_id), COL(c_sur), COL(c_giv), COL(c_al), &dob, sx[0],
                              COL(c_cit), COL(c_rs), err);
        if (!rc && (*COL(c_doc) || *COL(c_iss)))
            rc = pm_watchlist_set_document(wl, (uint32_t)(wl->n - 1), COL(c_doc), COL(c_iss), err);
        if (rc) {
            pm_error_prefix(err, "watchlist line %llu", (unsigned long long)at);
            break;
        }
#undef COL
    }
    free(row);
    free(hdr);
    return rc;
}
