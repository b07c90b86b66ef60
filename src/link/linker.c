/* The incremental linker: interned tokens, identity profiles, blocking,
 * Fellegi-Sunter scoring per traveller, merges and the review queue. */
#include <stdlib.h>
#include <string.h>

#include "link_impl.h"

#define PROF_TOK       8   /* tokens kept per profile */
#define BLOCK_VISIT    32  /* most recent profiles visited per block */
#define MAX_CANDIDATES 128 /* profiles scored per new profile */
#define MAX_TRAVELLERS 64  /* distinct candidate travellers per new profile */
#define MAX_RECORDS    0x7fffffffu

typedef struct prof {
    uint64_t hash;
    uint32_t tok[PROF_TOK];
    uint8_t ntok;
    char sex;
    pm_dob_t dob;
    char cit[4];
    char doc[PM_DOCNUM_MAX + 1];
    uint32_t trav;      /* traveller node (find() gives the current one) */
    uint32_t first_rec; /* a record with this profile */
    uint32_t stamp;     /* last query that visited it */
} prof_t;

typedef struct rec {
    int64_t store_id;
    int64_t time;
    uint32_t prof;
    uint8_t dir;
} rec_t;

typedef struct block {
    uint32_t *ids;
    uint32_t n, cap;
} block_t;

/* Open addressing: slot value 0 = empty, else id + 1. */
typedef struct map {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap; /* power of two */
    size_t n;
} map_t;

struct pm_linker {
    pm_link_model_t model;
    pm_name_token_t *toks; /* interned tokens (text, phon, particle flag) */
    uint64_t *tok_hash;
    size_t ntoks, cap_toks;
    map_t tok_map;
    prof_t *profs;
    size_t nprofs, cap_profs;
    map_t prof_map;
    rec_t *recs;
    size_t nrecs, cap_recs;
    uint32_t *parent; /* union-find over traveller nodes */
    size_t ntrav, cap_trav;
    map_t block_map;
    block_t *blocks;
    size_t nblocks, cap_blocks;
    pm_link_merge_t *merges;
    size_t nmerges, cap_merges;
    pm_link_review_t *reviews;
    size_t nreviews, cap_reviews;
    pm_link_link_t *links;
    size_t nlinks, cap_links;
    uint64_t patterns[PM_LINK_PATTERNS];
    size_t comparisons;
    uint32_t stamp;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    if (!h) h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    return hash_bytes(h, s, strlen(s) + 1);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return PM_OK;
    size_t nc = *cap ? *cap * 2 : 1024;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np) return PM_ENOMEM;
    *p = np;
    *cap = nc;
    return PM_OK;
}

static int map_init(map_t *m, size_t cap)
{
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = calloc(cap, sizeof *m->vals);
    m->cap = cap;
    m->n = 0;
    return m->keys && m->vals ? PM_OK : PM_ENOMEM;
}

static void map_free(map_t *m)
{
    free(m->keys);
    free(m->vals);
}

static int map_rehash(map_t *m)
{
    map_t nm;
    if (map_init(&nm, m->cap * 2)) {
        map_free(&nm);
        return PM_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->vals[i]) continue;
        size_t j = mix64(m->keys[i]) & (nm.cap - 1);
        while (nm.vals[j])
            j = (j + 1) & (nm.cap - 1);
        nm.keys[j] = m->keys[i];
        nm.vals[j] = m->vals[i];
    }
    nm.n = m->n;
    map_free(m);
    *m = nm;
    return PM_OK;
}

/* Inserts key -> id (duplicates of a key allowed; lookups walk them all). */
static int map_insert(map_t *m, uint64_t key, uint32_t id)
{
    if ((m->n + 1) * 2 > m->cap && map_rehash(m)) return PM_ENOMEM;
    size_t j = mix64(key) & (m->cap - 1);
    while (m->vals[j])
        j = (j + 1) & (m->cap - 1);
    m->keys[j] = key;
    m->vals[j] = id + 1;
    m->n++;
    return PM_OK;
}

/* Iterates the ids stored under key: start with *pos = SIZE_MAX. Returns 1 and
 * *out_id while there are more. */
static int map_next(const map_t *m, uint64_t key, size_t *pos, uint32_t *out_id)
{
    size_t j = *pos == SIZE_MAX ? mix64(key) & (m->cap - 1) : (*pos + 1) & (m->cap - 1);
    while (m->vals[j]) {
        if (m->keys[j] == key) {
            *pos = j;
            *out_id = m->vals[j] - 1;
            return 1;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}

int pm_linker_new(const pm_link_model_t *model, pm_linker_t **out, pm_error_t *err)
{
    *out = NULL;
    pm_linker_t *lk = calloc(1, sizeof *lk);
    if (!lk) return pm_error_set(err, PM_ENOMEM, "linker: out of memory");
    if (model)
        lk->model = *model;
    else
        pm_link_model_default(&lk->model);
    if (map_init(&lk->tok_map, 1 << 12) || map_init(&lk->prof_map, 1 << 12) ||
        map_init(&lk->block_map, 1 << 12)) {
        pm_linker_free(lk);
        return pm_error_set(err, PM_ENOMEM, "linker: out of memory");
    }
    *out = lk;
    return PM_OK;
}

void pm_linker_free(pm_linker_t *lk)
{
    if (!lk) return;
    map_free(&lk->tok_map);
    map_free(&lk->prof_map);
    map_free(&lk->block_map);
    for (size_t i = 0; i < lk->nblocks; i++)
        free(lk->blocks[i].ids);
    free(lk->blocks);
    free(lk->toks);
    free(lk->tok_hash);
    free(lk->profs);
    free(lk->recs);
    free(lk->parent);
    free(lk->merges);
    free(lk->reviews);
    free(lk->links);
    free(lk);
}

static uint32_t find(pm_linker_t *lk, uint32_t t)
{
    uint32_t r = t;
    while (lk->parent[r] != r)
        r = lk->parent[r];
    while (lk->parent[t] != r) {
        uint32_t n = lk->parent[t];
        lk->parent[t] = r;
        t = n;
    }
    return r;
}

static int intern(pm_linker_t *lk, const pm_name_token_t *t, uint32_t *out_id)
{
    uint64_t h = hash_str(0, t->text);
    size_t pos = SIZE_MAX;
    uint32_t id;
    while (map_next(&lk->tok_map, h, &pos, &id))
        if (strcmp(lk->toks[id].text, t->text) == 0) {
            *out_id = id;
            return PM_OK;
        }
    if (grow((void **)&lk->toks, &lk->cap_toks, lk->ntoks + 1, sizeof *lk->toks)) return PM_ENOMEM;
    id = (uint32_t)lk->ntoks++;
    lk->toks[id] = *t;
    lk->toks[id].part = 0;
    if (map_insert(&lk->tok_map, h, id)) return PM_ENOMEM;
    *out_id = id;
    return PM_OK;
}

static int block_add(pm_linker_t *lk, uint64_t key, uint32_t prof)
{
    size_t pos = SIZE_MAX;
    uint32_t b;
    if (!map_next(&lk->block_map, key, &pos, &b)) {
        if (grow((void **)&lk->blocks, &lk->cap_blocks, lk->nblocks + 1, sizeof *lk->blocks))
            return PM_ENOMEM;
        b = (uint32_t)lk->nblocks++;
        memset(&lk->blocks[b], 0, sizeof lk->blocks[b]);
        if (map_insert(&lk->block_map, key, b)) return PM_ENOMEM;
    }
    block_t *bl = &lk->blocks[b];
    if (bl->n == bl->cap) {
        uint32_t nc = bl->cap ? bl->cap * 2 : 4;
        uint32_t *ni = realloc(bl->ids, nc * sizeof *ni);
        if (!ni) return PM_ENOMEM;
        bl->ids = ni;
        bl->cap = nc;
    }
    bl->ids[bl->n++] = prof;
    return PM_OK;
}

/* The blocking keys of a profile (at most 8): the OCR-folded document
 * number; the sorted phonetic keys of the first two core tokens (surname and
 * first given name, so a swap keeps the key, and dropped particles or middle
 * names do not change it) with and without the birth year; and each core
 * token's phonetic key with the whole date of birth (a typo in the other
 * token). */
static size_t block_keys(const pm_linker_t *lk, const prof_t *p, uint64_t *keys)
{
    size_t n = 0;
    if (p->doc[0]) {
        char f[PM_DOCNUM_MAX + 1];
        pm_docnum_ocr_fold(p->doc, f, sizeof f);
        keys[n++] = hash_str(1, f);
    }
    const char *ph[3];
    size_t nph = 0;
    for (size_t i = 0; i < p->ntok && nph < 3; i++) {
        const pm_name_token_t *t = &lk->toks[p->tok[i]];
        if (t->flags & PM_TOK_PARTICLE || !t->phon[0]) continue;
        ph[nph++] = t->phon;
    }
    uint8_t dob[4];
    memcpy(dob, &p->dob.year, 2);
    dob[2] = p->dob.month;
    dob[3] = p->dob.day;
    if (nph >= 2) {
        const char *a = strcmp(ph[0], ph[1]) <= 0 ? ph[0] : ph[1];
        const char *b = a == ph[0] ? ph[1] : ph[0];
        uint64_t h = hash_str(hash_str(3, a), b);
        keys[n++] = h;
        keys[n++] = hash_bytes(h, dob, 2);
    }
    for (size_t i = 0; i < nph; i++)
        keys[n++] = hash_bytes(hash_str(2, ph[i]), dob, 4);
    return n;
}

static size_t prof_core(const pm_linker_t *lk, const prof_t *p, const pm_name_token_t **out)
{
    size_t k = 0;
    for (size_t i = 0; i < p->ntok; i++)
        if (!(lk->toks[p->tok[i]].flags & PM_TOK_PARTICLE)) out[k++] = &lk->toks[p->tok[i]];
    return k;
}

static void compare_profiles(const pm_linker_t *lk, const prof_t *a, const prof_t *b,
                             pm_link_evidence_t *ev)
{
    const pm_name_token_t *ta[PROF_TOK], *tb[PROF_TOK];
    size_t na = prof_core(lk, a, ta), nb = prof_core(lk, b, tb);
    int matched = 0;
    ev->name_similarity = pm__name_sim_core(ta, na, tb, nb, &matched);
    ev->level[PM_LF_NAME] = (uint8_t)pm__name_level(ev->name_similarity, matched, na, nb);
    ev->level[PM_LF_DOB] = (uint8_t)pm_dob_compare(&a->dob, &b->dob);
    ev->level[PM_LF_SEX] = (uint8_t)pm__sex_level(a->sex, b->sex);
    ev->level[PM_LF_CITIZENSHIP] = (uint8_t)pm__code_level(a->cit, b->cit);
    ev->level[PM_LF_DOC] = (uint8_t)pm_docnum_compare(a->doc, b->doc);
    ev->weight = 0;
    for (int f = 0; f < PM_LINK_FIELDS; f++)
        ev->weight += lk->model.w[f][ev->level[f]];
    /* A renewed passport (or a second document of the same nationality): the
     * whole identity agrees - every core name token, a full date of birth that
     * is not a placeholder, sex and citizenship - and only the number differs.
     * EM learns the name and date weights from blocked pairs, which already
     * share a name key, so it undervalues that agreement (exact name + exact
     * date scored ~7 and the renewal split the traveller mid-stay, issue 15);
     * such a pair links. Anything weaker (a name typo, a swapped date, another
     * citizenship) keeps the model's score. */
    if (ev->level[PM_LF_DOC] == PM_DOC_DISAGREE && ev->level[PM_LF_NAME] == 0 &&
        ev->level[PM_LF_DOB] == PM_DOB_EXACT && ev->level[PM_LF_SEX] == 0 &&
        ev->level[PM_LF_CITIZENSHIP] == 0 && ev->weight < lk->model.link_threshold)
        ev->weight = lk->model.link_threshold;
}

static int new_traveller(pm_linker_t *lk, uint32_t *out)
{
    if (grow((void **)&lk->parent, &lk->cap_trav, lk->ntrav + 1, sizeof *lk->parent))
        return PM_ENOMEM;
    *out = (uint32_t)lk->ntrav;
    lk->parent[lk->ntrav] = (uint32_t)lk->ntrav;
    lk->ntrav++;
    return PM_OK;
}

typedef struct cand {
    uint32_t root;
    uint32_t prof;
    pm_link_evidence_t ev;
} cand_t;

static int add_review(pm_linker_t *lk, uint32_t rec, const cand_t *c, uint32_t own)
{
    if (grow((void **)&lk->reviews, &lk->cap_reviews, lk->nreviews + 1, sizeof *lk->reviews))
        return PM_ENOMEM;
    pm_link_review_t *r = &lk->reviews[lk->nreviews++];
    r->record = rec;
    r->candidate = lk->profs[c->prof].first_rec;
    r->record_traveller = own;
    r->candidate_traveller = c->root;
    r->evidence = c->ev;
    return PM_OK;
}

static int add_link(pm_linker_t *lk, uint32_t rec, const cand_t *c, int merge)
{
    if (grow((void **)&lk->links, &lk->cap_links, lk->nlinks + 1, sizeof *lk->links))
        return PM_ENOMEM;
    pm_link_link_t *l = &lk->links[lk->nlinks++];
    l->record = rec;
    l->candidate = lk->profs[c->prof].first_rec;
    l->merge = merge;
    l->evidence = c->ev;
    return PM_OK;
}

/* Scores profile p against its blocks and decides its traveller. */
static int link_profile(pm_linker_t *lk, uint32_t pi, uint32_t rec, pm_link_result_t *res)
{
    uint64_t keys[8];
    size_t nk = block_keys(lk, &lk->profs[pi], keys);
    cand_t cands[MAX_TRAVELLERS];
    size_t nc = 0, visited = 0;
    uint32_t stamp = ++lk->stamp;
    lk->profs[pi].stamp = stamp;
    for (size_t k = 0; k < nk && visited < MAX_CANDIDATES; k++) {
        size_t pos = SIZE_MAX;
        uint32_t b;
        while (map_next(&lk->block_map, keys[k], &pos, &b) && visited < MAX_CANDIDATES) {
            const block_t *bl = &lk->blocks[b];
            uint32_t lo = bl->n > BLOCK_VISIT ? bl->n - BLOCK_VISIT : 0;
            for (uint32_t i = bl->n; i-- > lo && visited < MAX_CANDIDATES;) {
                uint32_t q = bl->ids[i];
                if (lk->profs[q].stamp == stamp) continue;
                lk->profs[q].stamp = stamp;
                visited++;
                pm_link_evidence_t ev;
                compare_profiles(lk, &lk->profs[pi], &lk->profs[q], &ev);
                lk->patterns[pm_link_pattern_index(ev.level)]++;
                lk->comparisons++;
                uint32_t root = find(lk, lk->profs[q].trav);
                size_t j = 0;
                while (j < nc && cands[j].root != root)
                    j++;
                if (j == nc) {
                    if (nc == MAX_TRAVELLERS) continue;
                    cands[nc].root = root;
                    cands[nc].prof = q;
                    cands[nc].ev = ev;
                    nc++;
                } else if (ev.weight > cands[j].ev.weight) {
                    cands[j].prof = q;
                    cands[j].ev = ev;
                }
            }
        }
    }
    /* best first */
    for (size_t i = 1; i < nc; i++)
        for (size_t j = i; j > 0 && cands[j].ev.weight > cands[j - 1].ev.weight; j--) {
            cand_t t = cands[j];
            cands[j] = cands[j - 1];
            cands[j - 1] = t;
        }
    const pm_link_model_t *m = &lk->model;
    res->score = nc ? cands[0].ev.weight : 0.0;
    res->merged = 0;
    uint32_t trav;
    if (nc && cands[0].ev.weight >= m->link_threshold) {
        trav = cands[0].root;
        res->decision = PM_LINK_LINKED;
        if (add_link(lk, rec, &cands[0], 0)) return PM_ENOMEM;
        for (size_t i = 1; i < nc; i++) {
            if (cands[i].ev.weight >= m->link_threshold) {
                uint32_t other = find(lk, cands[i].root);
                trav = find(lk, trav);
                if (other == trav) continue;
                if (grow((void **)&lk->merges, &lk->cap_merges, lk->nmerges + 1,
                         sizeof *lk->merges))
                    return PM_ENOMEM;
                /* keep the older (smaller) id so ids stay stable */
                uint32_t kept = trav < other ? trav : other;
                uint32_t gone = trav < other ? other : trav;
                lk->parent[gone] = kept;
                pm_link_merge_t *mg = &lk->merges[lk->nmerges++];
                mg->record = rec;
                mg->kept = kept;
                mg->absorbed = gone;
                mg->score = cands[i].ev.weight;
                if (add_link(lk, rec, &cands[i], 1)) return PM_ENOMEM;
                trav = kept;
                res->merged++;
            } else if (cands[i].ev.weight >= m->review_threshold) {
                if (add_review(lk, rec, &cands[i], trav)) return PM_ENOMEM;
            }
        }
    } else {
        if (new_traveller(lk, &trav)) return PM_ENOMEM;
        res->decision = PM_LINK_NEW;
        for (size_t i = 0; i < nc && cands[i].ev.weight >= m->review_threshold; i++) {
            res->decision = PM_LINK_REVIEW;
            if (add_review(lk, rec, &cands[i], trav)) return PM_ENOMEM;
        }
    }
    lk->profs[pi].trav = trav;
    for (size_t k = 0; k < nk; k++)
        if (block_add(lk, keys[k], pi)) return PM_ENOMEM;
    return PM_OK;
}

int pm_linker_add(pm_linker_t *lk, const pm_crossing_t *c, pm_link_result_t *out, pm_error_t *err)
{
    pm_link_result_t tmp;
    pm_link_result_t *res = out ? out : &tmp;
    memset(res, 0, sizeof *res);
    if (lk->nrecs >= MAX_RECORDS) return pm_error_set(err, PM_ELIMIT, "linker: too many records");
    pm_name_t name;
    int rc = pm_name_parse(c->surname, c->given_names, c->middle_names, &name, err);
    if (rc) return pm_error_prefix(err, "record %s", c->record_id), rc;
    prof_t p;
    memset(&p, 0, sizeof p);
    for (size_t i = 0; i < name.n && p.ntok < PROF_TOK; i++) {
        if (intern(lk, &name.tok[i], &p.tok[p.ntok]))
            return pm_error_set(err, PM_ENOMEM, "linker: out of memory");
        p.ntok++;
    }
    p.dob = c->dob;
    p.sex = c->sex;
    memcpy(p.cit, c->citizenship, sizeof p.cit);
    p.cit[3] = '\0';
    size_t dl = strnlen(c->document_number, PM_DOCNUM_MAX);
    memcpy(p.doc, c->document_number, dl);
    p.doc[dl] = '\0';
    uint64_t h = hash_bytes(0, p.tok, p.ntok * sizeof p.tok[0]);
    h = hash_bytes(h, &p.dob.year, sizeof p.dob.year);
    h = hash_bytes(h, &p.dob.month, 1);
    h = hash_bytes(h, &p.dob.day, 1);
    h = hash_bytes(h, &p.sex, 1);
    h = hash_str(h, p.cit);
    h = hash_str(h, p.doc);
    p.hash = h;

    if (grow((void **)&lk->recs, &lk->cap_recs, lk->nrecs + 1, sizeof *lk->recs))
        return pm_error_set(err, PM_ENOMEM, "linker: out of memory");
    uint32_t ri = (uint32_t)lk->nrecs;
    res->record = ri;

    size_t pos = SIZE_MAX;
    uint32_t pi;
    int found = 0;
    while (map_next(&lk->prof_map, h, &pos, &pi)) {
        const prof_t *q = &lk->profs[pi];
        if (q->ntok == p.ntok && !memcmp(q->tok, p.tok, p.ntok * sizeof p.tok[0]) &&
            q->dob.year == p.dob.year && q->dob.month == p.dob.month && q->dob.day == p.dob.day &&
            q->sex == p.sex && !strcmp(q->cit, p.cit) && !strcmp(q->doc, p.doc)) {
            found = 1;
            break;
        }
    }
    if (found) {
        res->decision = PM_LINK_SAME;
    } else {
        if (grow((void **)&lk->profs, &lk->cap_profs, lk->nprofs + 1, sizeof *lk->profs))
            return pm_error_set(err, PM_ENOMEM, "linker: out of memory");
        pi = (uint32_t)lk->nprofs++;
        p.first_rec = ri;
        lk->profs[pi] = p;
        if (map_insert(&lk->prof_map, h, pi) || link_profile(lk, pi, ri, res))
            return pm_error_set(err, PM_ENOMEM, "linker: out of memory");
    }
    rec_t *r = &lk->recs[lk->nrecs++];
    r->store_id = c->store_id;
    r->time = c->time_utc;
    r->prof = pi;
    r->dir = (uint8_t)c->direction;
    res->traveller = find(lk, lk->profs[pi].trav);
    return PM_OK;
}

size_t pm_linker_record_count(const pm_linker_t *lk)
{
    return lk->nrecs;
}

uint32_t pm_linker_traveller(pm_linker_t *lk, uint32_t record)
{
    if (record >= lk->nrecs) return UINT32_MAX;
    return find(lk, lk->profs[lk->recs[record].prof].trav);
}

int pm_linker_record(const pm_linker_t *lk, uint32_t record, pm_link_record_info_t *out)
{
    if (record >= lk->nrecs) return PM_ENOTFOUND;
    const rec_t *r = &lk->recs[record];
    out->store_id = r->store_id;
    out->time_utc = r->time;
    out->direction = (pm_direction_t)r->dir;
    out->profile = r->prof;
    return PM_OK;
}

size_t pm_linker_profile_count(const pm_linker_t *lk)
{
    return lk->nprofs;
}

size_t pm_linker_traveller_count(const pm_linker_t *lk)
{
    return lk->ntrav - lk->nmerges;
}

size_t pm_linker_comparisons(const pm_linker_t *lk)
{
    return lk->comparisons;
}

const uint64_t *pm_linker_pattern_counts(const pm_linker_t *lk)
{
    return lk->patterns;
}

size_t pm_linker_merge_count(const pm_linker_t *lk)
{
    return lk->nmerges;
}

const pm_link_merge_t *pm_linker_merges(const pm_linker_t *lk)
{
    return lk->merges;
}

size_t pm_linker_review_count(const pm_linker_t *lk)
{
    return lk->nreviews;
}

const pm_link_review_t *pm_linker_reviews(const pm_linker_t *lk)
{
    return lk->reviews;
}

size_t pm_linker_link_count(const pm_linker_t *lk)
{
    return lk->nlinks;
}

const pm_link_link_t *pm_linker_links(const pm_linker_t *lk)
{
    return lk->links;
}

const pm_link_model_t *pm_linker_model(const pm_linker_t *lk)
{
    return &lk->model;
}
