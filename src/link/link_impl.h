/* Private helpers shared by the link module's files. */
#ifndef PM_LINK_IMPL_H
#define PM_LINK_IMPL_H

#include "perimeter/link.h"

/* Token-set similarity over arrays of core-token pointers (see
 * pm_name_similarity). Equal pointers count as identical tokens. */
double pm__name_sim_core(const pm_name_token_t *const *ta, size_t na,
                         const pm_name_token_t *const *tb, size_t nb, int *out_matched);
/* Similarity of two tokens (Jaro-Winkler with the phonetic-key, transposition
 * and joined-particle floors) as the token-set similarity pairs them. */
double pm__token_score(const pm_name_token_t *x, const pm_name_token_t *y);
/* Screening: the romanisation-folded reading of a name (screen_fold.c): class
 * spellings (LEE/RHEE -> LI) and J/Y, W/V folded; 1 if any token changed. */
int pm__screen_fold_name(const pm_name_t *in, pm_name_t *out);
/* 1 if the token is in one of the romanisation classes (its folded key is
 * indexed; letter folds alone are not, to keep the candidate lists short). */
int pm__screen_fold_is_class(const char *token);
/* Name agreement level (0..4) from a similarity and matched-token count. */
int pm__name_level(double sim, int matched, size_t na, size_t nb);
/* Sex and citizenship levels. */
int pm__sex_level(char a, char b);
int pm__code_level(const char *a, const char *b);

/* Rewrites runs of letters of scripts without an ICAO table (Devanagari by
 * rule, others through ICU: Han as pinyin, with surname readings when surname
 * is set) into upper-case A-Z in place; returns the new count (<= cap).
 * Letters it cannot romanise are left as they were. romanise.c. cache:
 * NULL, or transliterators kept open across calls of one thread. */
typedef struct pm__xlit_cache {
    void *t[2]; /* ICU transliterators: other names, surnames */
} pm__xlit_cache_t;
size_t pm__romanise(int32_t *cp, size_t n, size_t cap, int surname, pm__xlit_cache_t *cache);
void pm__xlit_cache_close(pm__xlit_cache_t *c);
/* pm_name_parse_ex with a transliterator cache (NULL: none); the cache must
 * not be shared between threads. */
int pm__name_parse_cached(const char *surname, const char *given, const char *middle,
                          unsigned flags, pm__xlit_cache_t *cache, pm_name_t *out,
                          pm_error_t *err);

/* "name=good dob=exact ... name_sim=0.93" into out. */
void pm__link_evidence_text(const pm_link_evidence_t *ev, char *out, size_t cap);

#endif
