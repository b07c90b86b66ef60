/* Comparators: Jaro / Jaro-Winkler, Damerau-Levenshtein (optimal string
 * alignment), token-set name similarity, date-of-birth agreement levels,
 * document numbers with OCR confusions. */
#include <stdbool.h>
#include <string.h>

#include "perimeter/link.h"
#include "link_impl.h"

#define CMP_MAX 63

double pm_jaro(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > CMP_MAX) la = CMP_MAX;
    if (lb > CMP_MAX) lb = CMP_MAX;
    if (la == 0 && lb == 0) return 1.0;
    if (la == 0 || lb == 0) return 0.0;
    size_t maxl = la > lb ? la : lb;
    size_t window = maxl / 2 > 0 ? maxl / 2 - 1 : 0;
    bool ma[CMP_MAX] = {0}, mb[CMP_MAX] = {0};
    size_t m = 0;
    for (size_t i = 0; i < la; i++) {
        size_t lo = i > window ? i - window : 0;
        size_t hi = i + window + 1 < lb ? i + window + 1 : lb;
        for (size_t j = lo; j < hi; j++) {
            if (!mb[j] && a[i] == b[j]) {
                ma[i] = mb[j] = true;
                m++;
                break;
            }
        }
    }
    if (m == 0) return 0.0;
    size_t t = 0, k = 0;
    for (size_t i = 0; i < la; i++) {
        if (!ma[i]) continue;
        while (!mb[k])
            k++;
        if (a[i] != b[k]) t++;
        k++;
    }
    double md = (double)m;
    return (md / (double)la + md / (double)lb + (md - (double)t / 2.0) / md) / 3.0;
}

double pm_jaro_winkler(const char *a, const char *b)
{
    double j = pm_jaro(a, b);
    size_t l = 0;
    while (l < 4 && a[l] && a[l] == b[l])
        l++;
    return j + (double)l * 0.1 * (1.0 - j);
}

int pm_osa_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > CMP_MAX) la = CMP_MAX;
    if (lb > CMP_MAX) lb = CMP_MAX;
    /* three rolling rows of the (la+1) x (lb+1) table */
    int r0[CMP_MAX + 1], r1[CMP_MAX + 1], r2[CMP_MAX + 1];
    int *pp = r0, *prev = r1, *cur = r2;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int v = prev[j] + 1;
            if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v) v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
        }
        int *tmp = pp;
        pp = prev;
        prev = cur;
        cur = tmp;
    }
    return prev[lb];
}

double pm__token_score(const pm_name_token_t *x, const pm_name_token_t *y)
{
    if (strcmp(x->text, y->text) == 0) return 1.0;
    double s = pm_jaro_winkler(x->text, y->text);
    /* one name the start of a much longer one (RICHARD / RICHARDSON, JOHN /
     * JOHNSON): Jaro-Winkler's prefix bonus overrates it */
    size_t lx = strlen(x->text), ly = strlen(y->text);
    size_t lo = lx < ly ? lx : ly, hi = lx < ly ? ly : lx;
    if (lo >= 2 && 4 * lo < 3 * hi && s > 0.84 && strncmp(x->text, y->text, lo) == 0) s = 0.84;
    /* equal phonetic keys of two or more codes (one code says little: ROY, RAY) */
    if (x->phon[0] && x->phon[1] && strcmp(x->phon, y->phon) == 0 && s < 0.90) s = 0.90;
    /* one adjacent transposition (ROY / ORY, LUC / ULC): a keying slip */
    if (lx == ly && lx >= 3 && s < 0.90) {
        size_t d = 0;
        while (d < lx && x->text[d] == y->text[d])
            d++;
        if (d + 1 < lx && x->text[d] == y->text[d + 1] && x->text[d + 1] == y->text[d] &&
            strcmp(x->text + d + 2, y->text + d + 2) == 0)
            s = 0.90;
    }
    /* a joined particle: ALHASSAN ~ HASSAN, ELSAYED ~ SAYED */
    const pm_name_token_t *jx = x, *jy = y;
    for (int k = 0; k < 2; k++) {
        const char *t = jx->text;
        if ((t[0] == 'A' || t[0] == 'E') && t[1] == 'L' && strlen(t) >= 5 && s < 0.97) {
            if (strcmp(t + 2, jy->text) == 0)
                s = 0.97;
            else if (s < 0.90) {
                char key[PM_LINK_PHON_MAX];
                pm_phonetic_key(t + 2, key);
                if (key[0] && strcmp(key, jy->phon) == 0) s = 0.90;
            }
        }
        jx = y;
        jy = x;
    }
    /* an initial agrees with a name of that letter, weakly */
    if ((x->text[1] == '\0' || y->text[1] == '\0') && x->text[0] == y->text[0] && s < 0.85)
        s = 0.85;
    return s;
}

static size_t core_tokens(const pm_name_t *n, const pm_name_token_t **out)
{
    size_t k = 0;
    for (size_t i = 0; i < n->n; i++)
        if (!(n->tok[i].flags & PM_TOK_PARTICLE)) out[k++] = &n->tok[i];
    return k;
}

static void concat_core(const pm_name_token_t *const *t, size_t n, char *out, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(t[i]->text);
        if (len + l + 1 > cap) break;
        memcpy(out + len, t[i]->text, l);
        len += l;
    }
    out[len] = '\0';
}

double pm__name_sim_core(const pm_name_token_t *const *a_in, size_t na,
                         const pm_name_token_t *const *b_in, size_t nb, int *out_matched)
{
    const pm_name_token_t *const *ta = a_in, *const *tb = b_in;
    if (out_matched) *out_matched = 0;
    if (na == 0 || nb == 0) return 0.0;
    if (na > nb) { /* make a the shorter */
        ta = b_in;
        tb = a_in;
        size_t tmp = na;
        na = nb;
        nb = tmp;
    }
    if (na > PM_LINK_TOKENS_MAX) na = PM_LINK_TOKENS_MAX;
    if (nb > PM_LINK_TOKENS_MAX) nb = PM_LINK_TOKENS_MAX;
    /* greedy one-to-one pairing on the best scores */
    double sc[PM_LINK_TOKENS_MAX][PM_LINK_TOKENS_MAX];
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            sc[i][j] = ta[i] == tb[j] ? 1.0 : pm__token_score(ta[i], tb[j]);
    bool used_a[PM_LINK_TOKENS_MAX] = {0}, used_b[PM_LINK_TOKENS_MAX] = {0};
    double sum = 0.0;
    int matched = 0;
    for (size_t round = 0; round < na; round++) {
        double best = -1.0;
        size_t bi = 0, bj = 0;
        for (size_t i = 0; i < na; i++) {
            if (used_a[i]) continue;
            for (size_t j = 0; j < nb; j++)
                if (!used_b[j] && sc[i][j] > best) {
                    best = sc[i][j];
                    bi = i;
                    bj = j;
                }
        }
        used_a[bi] = used_b[bj] = true;
        sum += best;
        if (best >= 0.88) matched++;
    }
    double s = sum / (double)na;
    s *= 1.0 - 0.03 * (double)(nb - na);
    /* split or joined tokens: ABDUL RAHMAN vs ABDULRAHMAN */
    if (na != nb || s < 0.9) {
        char ca[PM_LINK_NAME_MAX], cb[PM_LINK_NAME_MAX];
        concat_core(ta, na, ca, sizeof ca);
        concat_core(tb, nb, cb, sizeof cb);
        if (strcmp(ca, cb) == 0) {
            s = 1.0;
            matched = (int)na;
        }
    }
    if (out_matched) *out_matched = matched;
    return s < 0.0 ? 0.0 : s;
}

double pm_name_similarity(const pm_name_t *a, const pm_name_t *b, int *out_matched)
{
    const pm_name_token_t *ta[PM_LINK_TOKENS_MAX], *tb[PM_LINK_TOKENS_MAX];
    size_t na = core_tokens(a, ta), nb = core_tokens(b, tb);
    return pm__name_sim_core(ta, na, tb, nb, out_matched);
}

int pm__name_level(double sim, int matched, size_t na, size_t nb)
{
    if (na == 0 || nb == 0)
        return 3; /* a name in a script without a table says nothing either way */
    int level = sim >= 0.999 ? 0 : sim >= 0.95 ? 1 : sim >= 0.90 ? 2 : sim >= 0.80 ? 3 : 4;
    size_t small = na < nb ? na : nb;
    if (small >= 2 && matched < 2 && level < 3) level = 3;
    if (level == 0 && na != nb) level = 1; /* a dropped middle name is not the same token set */
    return level;
}

int pm__sex_level(char a, char b)
{
    if (!a || !b || a == 'X' || b == 'X') return 2;
    return a == b ? 0 : 1;
}

int pm__code_level(const char *a, const char *b)
{
    if (!a[0] || !b[0]) return 2;
    return strcmp(a, b) == 0 ? 0 : 1;
}

pm_dob_level_t pm_dob_compare(const pm_dob_t *pa, const pm_dob_t *pb)
{
    pm_dob_t a = *pa, b = *pb;
    if (!a.year || !b.year) return PM_DOB_MISSING;
    int afull = a.month && a.day, bfull = b.month && b.day;
    if (!afull || !bfull || pm_dob_is_placeholder(&a) || pm_dob_is_placeholder(&b)) {
        if (a.year != b.year) return PM_DOB_DISAGREE;
        /* a placeholder month says nothing; a real partial month must agree */
        int am = pm_dob_is_placeholder(&a) ? 0 : a.month;
        int bm = pm_dob_is_placeholder(&b) ? 0 : b.month;
        if (am && bm && am != bm) return PM_DOB_DISAGREE;
        return PM_DOB_PARTIAL;
    }
    if (a.year == b.year && a.month == b.month && a.day == b.day) return PM_DOB_EXACT;
    if (a.year == b.year && a.day == b.month && a.month == b.day) return PM_DOB_SWAP;
    int64_t da = pm_days_from_civil(a.year, a.month, a.day);
    int64_t db = pm_days_from_civil(b.year, b.month, b.day);
    if (da - db == 1 || db - da == 1) return PM_DOB_DAY1;
    if (a.year == b.year && a.month == b.month) return PM_DOB_YEARMONTH;
    if (a.month == b.month && a.day == b.day && (a.year - b.year == 1 || b.year - a.year == 1))
        return PM_DOB_YEAR1;
    return PM_DOB_DISAGREE;
}

const char *pm_dob_level_name(pm_dob_level_t level)
{
    static const char *const names[PM_DOB_LEVELS] = {"exact",           "day-month-swap", "one-day",
                                                     "same-year-month", "one-year",       "partial",
                                                     "disagree",        "missing"};
    return (unsigned)level < PM_DOB_LEVELS ? names[level] : "?";
}

void pm_docnum_ocr_fold(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    if (cap == 0) return;
    for (; in[i] && i + 1 < cap; i++) {
        char c = in[i];
        switch (c) {
        case 'O':
            c = '0';
            break;
        case 'I':
            c = '1';
            break;
        case 'S':
            c = '5';
            break;
        case 'B':
            c = '8';
            break;
        default:
            break;
        }
        out[i] = c;
    }
    out[i] = '\0';
}

pm_doc_level_t pm_docnum_compare(const char *a, const char *b)
{
    if (!a || !b || !*a || !*b) return PM_DOC_MISSING;
    if (strcmp(a, b) == 0) return PM_DOC_EXACT;
    char fa[32], fb[32];
    pm_docnum_ocr_fold(a, fa, sizeof fa);
    pm_docnum_ocr_fold(b, fb, sizeof fb);
    if (strcmp(fa, fb) == 0) return PM_DOC_OCR;
    if (pm_osa_distance(fa, fb) == 1) return PM_DOC_EDIT1;
    return PM_DOC_DISAGREE;
}

const char *pm_doc_level_name(pm_doc_level_t level)
{
    static const char *const names[PM_DOC_LEVELS] = {"exact", "ocr-confusion", "one-edit",
                                                     "disagree", "missing"};
    return (unsigned)level < PM_DOC_LEVELS ? names[level] : "?";
}
