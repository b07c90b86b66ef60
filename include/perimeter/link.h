/* Perimeter link: name normalisation and transliteration, comparators,
 * Fellegi-Sunter linkage of crossing records into travellers, reports
 * (histories, reconciliation, overstays, presence days, removals) and
 * watchlist screening. See docs/link.md. */
#ifndef PERIMETER_LINK_H
#define PERIMETER_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/error.h"
#include "perimeter/travel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- names */

#define PM_LINK_INPUT_MAX 512   /* bytes of one name field accepted */
#define PM_LINK_NAME_MAX 256         /* bytes of one normalised name (A-Z and spaces) */
#define PM_LINK_VARIANTS_MAX 16 /* acceptable Latin variants kept per name */
#define PM_LINK_TOKENS_MAX 12   /* tokens kept per person name */
#define PM_LINK_TOKEN_MAX 32         /* bytes of one token, NUL included */
#define PM_LINK_PHON_MAX 8           /* bytes of one phonetic key, NUL included */

/* The set of acceptable Latin forms of one name field. v[0] is the ICAO Doc 9303
 * recommended transliteration (Ä -> AE, Cyrillic and Arabic per Part 3 tables);
 * the others are the accepted alternatives (Ä -> A, Ü -> UXX, Г -> H, Arabic
 * without the X escapes, ...). Each is upper-case A-Z tokens separated by one
 * space. untransliterated counts letters of scripts with no table (dropped). */
typedef struct pm_name_variants {
    size_t n;
    unsigned untransliterated;
    char v[PM_LINK_VARIANTS_MAX][PM_LINK_NAME_MAX];
} pm_name_variants_t;

/* Computes the variants of one UTF-8 name field (len bytes, need not be
 * NUL-terminated). NFC normalisation and case folding through utf8proc.
 * Returns PM_EUTF8 for invalid UTF-8, PM_ELIMIT past PM_LINK_INPUT_MAX. */
int pm_name_variants(const char *utf8, size_t len, pm_name_variants_t *out, pm_error_t *err);

/* The primary (ICAO) form only, into out (cap bytes, NUL-terminated; truncated
 * at a token boundary when too long). Same failures as pm_name_variants. */
int pm_name_icao(const char *utf8, size_t len, char *out, size_t cap, pm_error_t *err);

enum pm_name_part { PM_NAME_SURNAME = 0, PM_NAME_GIVEN = 1, PM_NAME_MIDDLE = 2 };
#define PM_TOK_PARTICLE 0x01 /* AL, EL, BIN, IBN, ABU, VAN, DE, ... */

typedef struct pm_name_token {
    char text[PM_LINK_TOKEN_MAX]; /* normalised A-Z */
    char phon[PM_LINK_PHON_MAX];  /* pm_phonetic_key of text */
    uint8_t part;            /* enum pm_name_part */
    uint8_t flags;           /* PM_TOK_* */
} pm_name_token_t;

/* A person's name as tokens. Order is surname, given, middle, but every
 * comparator treats it as a set so that given/surname swaps still agree. */
typedef struct pm_name {
    size_t n;
    pm_name_token_t tok[PM_LINK_TOKENS_MAX];
} pm_name_t;

/* Normalises and tokenises the three name fields (any may be NULL or empty).
 * Tokens past PM_LINK_TOKENS_MAX are dropped. Fails like pm_name_variants. */
int pm_name_parse(const char *surname, const char *given, const char *middle, pm_name_t *out,
                  pm_error_t *err);

/* 1 if the normalised token is a name particle (AL, BIN, VAN, DE, ...), else 0. */
int pm_name_is_particle(const char *token);

/* Phonetic key of a normalised A-Z token: a consonant skeleton (vowels dropped
 * after the first letter, PH=F, KH/GH/DH/TH collapse, C/K/Q, S/Z/X, D/T, G/J,
 * V/W/F merged, doubled letters once), at most PM_LINK_PHON_MAX-1 characters.
 * MOHAMMED, MUHAMMAD and MOHAMED share a key. Never fails. */
void pm_phonetic_key(const char *token, char out[PM_LINK_PHON_MAX]);

/* ---------------------------------------------------------- comparators */

/* Jaro similarity in [0,1] of two byte strings. */
double pm_jaro(const char *a, const char *b);
/* Jaro-Winkler: prefix scale 0.1, prefix up to 4, applied for every Jaro. */
double pm_jaro_winkler(const char *a, const char *b);
/* Damerau-Levenshtein distance in its optimal-string-alignment form (no
 * substring edited twice): CA -> ABC is 3, not 2. Strings longer than 63
 * bytes are compared on their first 63 bytes. */
int pm_osa_distance(const char *a, const char *b);

/* Token-set similarity in [0,1] of two names, order-free: each core
 * (non-particle) token of the shorter name is paired with a distinct best token
 * of the other (Jaro-Winkler, or 0.92 for equal phonetic keys); the mean over
 * the shorter name, scaled down 3% per extra unmatched token of the longer.
 * out_matched (may be NULL) receives the number of pairs scoring >= 0.88. */
double pm_name_similarity(const pm_name_t *a, const pm_name_t *b, int *out_matched);

typedef enum pm_dob_level {
    PM_DOB_EXACT = 0,     /* both full, equal, not placeholders */
    PM_DOB_SWAP = 1,      /* day and month swapped */
    PM_DOB_DAY1 = 2,      /* one day apart */
    PM_DOB_YEARMONTH = 3, /* same year and month, days differ */
    PM_DOB_YEAR1 = 4,     /* same month and day, years one apart */
    PM_DOB_PARTIAL = 5,   /* compatible but partial or placeholder */
    PM_DOB_DISAGREE = 6,
    PM_DOB_MISSING = 7, /* one side has no date */
    PM_DOB_LEVELS = 8
} pm_dob_level_t;

/* Agreement level of two dates of birth. */
/* Dates are travel.h's pm_dob_t; placeholders per pm_dob_is_placeholder. */
pm_dob_level_t pm_dob_compare(const pm_dob_t *a, const pm_dob_t *b);
const char *pm_dob_level_name(pm_dob_level_t level);

typedef enum pm_doc_level {
    PM_DOC_EXACT = 0,
    PM_DOC_OCR = 1,   /* equal after folding O->0, I->1, S->5, B->8 */
    PM_DOC_EDIT1 = 2, /* one edit or transposition (after folding) */
    PM_DOC_DISAGREE = 3,
    PM_DOC_MISSING = 4,
    PM_DOC_LEVELS = 5
} pm_doc_level_t;

/* Agreement level of two document numbers (A-Z0-9, up to 20). */
pm_doc_level_t pm_docnum_compare(const char *a, const char *b);
const char *pm_doc_level_name(pm_doc_level_t level);
/* Folds the OCR-confusable letters of a document number into digits
 * (O->0, I->1, S->5, B->8) into out (cap bytes, NUL-terminated, truncated). */
void pm_docnum_ocr_fold(const char *in, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
