/* Romanisation of the scripts that ICAO Doc 9303 Part 3 gives no table for
 * (docs/link.md, "Names"): Devanagari by rule (ISO 15919 letters written in
 * plain A-Z with Hindi schwa deletion), every other one (Han as Hanyu Pinyin,
 * surnames with their surname readings; Hangul as the Revised Romanisation;
 * kana, Greek, Hebrew, Thai, ...) through ICU's transliterators, whose data
 * comes from Unicode's Unihan and CLDR. Output is upper-case A-Z and spaces. */
#include <string.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>
#include <utf8proc.h>

#include "link_impl.h"

/* ---------------------------------------------------------------- Devanagari */

/* Consonants U+0915..U+0939 (ISO 15919 in plain letters: retroflex and dental
 * alike, both sibilants SH, the vowel-less letter is written with its
 * inherent A added below). */
static const char *const deva_cons[0x39 - 0x15 + 1] = {
    "K",  "KH", "G",  "GH", "N",  "CH", "CHH", "J", "JH", "N",  "T",  "TH",
    "D",  "DH", "N",  "T",  "TH", "D",  "DH",  "N", "N",  "P",  "PH", "B",
    "BH", "M",  "Y",  "R",  "R",  "L",  "L",   "L", "V",  "SH", "SH", "S",  "H",
};
/* Nukta letters U+0958..U+095F: qa, khha, ghha, za, dddha, rha, fa, yya. */
static const char *const deva_nukta[8] = {"Q", "KH", "GH", "Z", "R", "RH", "F", "Y"};

/* Independent vowels U+0904..U+0914, and vowel signs U+093E..U+094C (by the
 * same letters: aa, i, ii, u, uu, vocalic r, ..., e, ai, o, au). Long vowels
 * are written short: passports write DEEPAK and DIPAK, the phonetic key keeps
 * neither. */
static const char *deva_vowel(int32_t c)
{
    switch (c) {
    case 0x0904: case 0x090F: case 0x0946: case 0x0947: case 0x090D: case 0x090E: case 0x0945:
        return "E";
    case 0x0905: case 0x0906: case 0x093E: case 0x0972:
        return "A";
    case 0x0907: case 0x0908: case 0x093F: case 0x0940:
        return "I";
    case 0x0909: case 0x090A: case 0x0941: case 0x0942:
        return "U";
    case 0x090B: case 0x0960: case 0x0943: case 0x0944:
        return "RI";
    case 0x090C: case 0x0961: case 0x0962: case 0x0963:
        return "LRI";
    case 0x0910: case 0x0948:
        return "AI";
    case 0x0911: case 0x0912: case 0x0913: case 0x0949: case 0x094A: case 0x094B:
        return "O";
    case 0x0914: case 0x094C:
        return "AU";
    default:
        return NULL;
    }
}

static int deva_is_sign(int32_t c) /* a dependent vowel sign */
{
    return (c >= 0x093E && c <= 0x094C) || c == 0x0962 || c == 0x0963;
}

static const char *deva_consonant(int32_t c)
{
    if (c >= 0x0915 && c <= 0x0939) return deva_cons[c - 0x0915];
    if (c >= 0x0958 && c <= 0x095F) return deva_nukta[c - 0x0958];
    return NULL;
}

/* A Devanagari word as a row of units, so that schwa deletion can look at
 * its neighbours: a consonant (with the vowel after it: a sign, none after a
 * virama, or the inherent schwa), an independent vowel, or a nasal sign. */
typedef struct dunit {
    const char *cons;  /* consonant letters, or NULL */
    const char *vowel; /* following vowel letters; NULL: none (virama) */
    int schwa;         /* vowel is the inherent A (deletable) */
    int nasal;         /* anusvara or chandrabindu */
    int32_t cp;
} dunit_t;

#define DEVA_UNITS 64

static int is_labial(const dunit_t *u)
{
    return u->cons && (u->cp == 0x092A || u->cp == 0x092B || u->cp == 0x092C || u->cp == 0x092D ||
                       u->cp == 0x092E);
}

/* Romanises one run of Devanagari code points (a word or more) into out. */
static size_t deva_word(const int32_t *cp, size_t n, char *out, size_t cap)
{
    dunit_t u[DEVA_UNITS];
    size_t nu = 0;
    for (size_t i = 0; i < n && nu < DEVA_UNITS; i++) {
        int32_t c = cp[i];
        const char *k = deva_consonant(c);
        if (c == 0x093C && nu > 0 && u[nu - 1].cons) { /* nukta on a plain letter */
            int32_t b = u[nu - 1].cp;
            static const int32_t base[8] = {0x0915, 0x0916, 0x0917, 0x091C,
                                            0x0921, 0x0922, 0x092B, 0x092F};
            for (int j = 0; j < 8; j++)
                if (base[j] == b) u[nu - 1].cons = deva_nukta[j];
            continue;
        }
        if (k) {
            u[nu++] = (dunit_t){k, "A", 1, 0, c};
            continue;
        }
        if (c == 0x094D) { /* virama: no vowel */
            if (nu > 0 && u[nu - 1].cons) u[nu - 1].vowel = NULL, u[nu - 1].schwa = 0;
            continue;
        }
        if (deva_is_sign(c)) {
            if (nu > 0 && u[nu - 1].cons && u[nu - 1].schwa)
                u[nu - 1].vowel = deva_vowel(c), u[nu - 1].schwa = 0;
            continue;
        }
        if (c == 0x0902 || c == 0x0901) { /* anusvara, chandrabindu */
            u[nu++] = (dunit_t){NULL, NULL, 0, 1, c};
            continue;
        }
        if (c == 0x0903) { /* visarga */
            u[nu++] = (dunit_t){"H", NULL, 0, 0, c};
            continue;
        }
        const char *v = deva_vowel(c);
        if (v) u[nu++] = (dunit_t){NULL, v, 0, 0, c};
    }
    /* Hindi schwa deletion: the word-final schwa goes unless it closes a
     * cluster ending in Y or R (ADITYA, MITRA); a medial one goes between a
     * vowel-consonant and a consonant that has a vowel after it, scanning
     * from the end (ARTI, HARPREET, not KAVITA). */
    if (nu > 0 && u[nu - 1].schwa) {
        int cluster = nu >= 2 && u[nu - 2].cons && !u[nu - 2].vowel && !u[nu - 2].nasal;
        int keep = cluster && (u[nu - 1].cp == 0x092F || u[nu - 1].cp == 0x0930);
        if (!keep) u[nu - 1].vowel = NULL, u[nu - 1].schwa = 0;
    }
    for (size_t i = nu; i-- > 1;) {
        if (!u[i].schwa || i + 1 >= nu) continue;
        /* before: a consonant that itself follows a vowel */
        if (!u[i].cons || i < 1) continue;
        const dunit_t *p = &u[i - 1];
        int vowel_before = p->vowel != NULL && !p->nasal; /* not a closed syllable (ANJALI) */
        if (!vowel_before) continue;
        /* after: a consonant whose cluster ends in a vowel */
        size_t j = i + 1;
        if (!u[j].cons) continue;
        while (j < nu && u[j].cons && !u[j].vowel)
            j++;
        if (j >= nu || !u[j].vowel) continue;
        u[i].vowel = NULL;
        u[i].schwa = 0;
    }
    size_t len = 0;
#define PUT(s)                                                                                     \
    do {                                                                                           \
        size_t l_ = strlen(s);                                                                     \
        if (len + l_ < cap) memcpy(out + len, s, l_), len += l_;                                   \
    } while (0)
    for (size_t i = 0; i < nu; i++) {
        if (u[i].nasal) {
            /* M before a labial; NG before H (SINGH); else N */
            const dunit_t *nx = i + 1 < nu ? &u[i + 1] : NULL;
            PUT(nx && is_labial(nx) ? "M" : nx && nx->cp == 0x0939 ? "NG" : "N");
            continue;
        }
        if (u[i].cons) PUT(u[i].cons);
        if (u[i].vowel) PUT(u[i].vowel);
    }
#undef PUT
    out[len] = '\0';
    return len;
}

/* ---------------------------------------------------------------- ICU */

#define ROMANISE_RUN_MAX 32 /* code points sent to ICU at once */

static int is_han(int32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2FA1F) || (c >= 0xF900 && c <= 0xFAFF) || c == 0x3007;
}

/* Runs a run of code points through an ICU transliterator; 0 on failure
 * (no data: the letters stay untransliterated). Without a cache the
 * transliterator is opened per call, so that the name functions stay
 * reentrant (ICU keeps the compiled rules; a reopen costs about half a
 * millisecond, paid only by names in these scripts); a cache (one
 * thread's, e.g. a watchlist being loaded) keeps them open. */
void pm__xlit_cache_close(pm__xlit_cache_t *c)
{
    if (!c) return;
    for (int k = 0; k < 2; k++)
        if (c->t[k]) utrans_close((UTransliterator *)c->t[k]);
    c->t[0] = c->t[1] = NULL;
}

static size_t icu_run(const int32_t *cp, size_t n, int surname, pm__xlit_cache_t *cache,
                      char *out, size_t cap)
{
    UErrorCode e = U_ZERO_ERROR;
    UChar buf[1024], id[64];
    int32_t len = 0;
    if (n > ROMANISE_RUN_MAX) return 0;
    u_strFromUTF32(buf, 2 * ROMANISE_RUN_MAX, &len, (const UChar32 *)cp, (int32_t)n, &e);
    if (U_FAILURE(e) || len <= 0) return 0;
    UTransliterator *t = cache ? (UTransliterator *)cache->t[surname != 0] : NULL;
    if (!t) {
        u_uastrncpy(id, surname ? "Han-Latin/Names; Any-Latin; Latin-ASCII; Upper"
                                : "Any-Latin; Latin-ASCII; Upper",
                    (int32_t)(sizeof id / sizeof id[0]));
        t = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &e);
        if (U_FAILURE(e) || !t) return 0;
        if (cache) cache->t[surname != 0] = t;
    }
    int32_t limit = len;
    utrans_transUChars(t, buf, &len, (int32_t)(sizeof buf / sizeof buf[0]), 0, &limit, &e);
    if (!cache) utrans_close(t);
    if (U_FAILURE(e)) return 0;
    size_t o = 0;
    for (int32_t i = 0; i < len && o + 1 < cap; i++) {
        UChar c = buf[i];
        if (c >= 'A' && c <= 'Z')
            out[o++] = (char)c;
        else if (c >= 'a' && c <= 'z')
            out[o++] = (char)(c - 32);
        else if (c == ' ' || c == '-')
            out[o++] = ' ';
        /* apostrophes (syllable marks) and anything else are dropped */
    }
    out[o] = '\0';
    return o;
}

/* ---------------------------------------------------------------- runs */

/* Scripts the ICAO tables or utf8proc's decomposition already handle. */
static int has_table(int32_t c)
{
    return c < 0x0370 || (c >= 0x0400 && c < 0x0530) || (c >= 0x0600 && c < 0x0700) ||
           (c >= 0x0750 && c < 0x0780) || (c >= 0x1E00 && c < 0x1F00) ||
           (c >= 0xFB50 && c < 0xFE00) || (c >= 0xFE70 && c < 0xFF00) ||
           (c >= 0xFF00 && c < 0xFFF0);
}

static int is_deva(int32_t c)
{
    return c >= 0x0900 && c < 0x0980;
}

size_t pm__romanise(int32_t *cp, size_t n, size_t cap, int surname, pm__xlit_cache_t *cache)
{
    size_t i = 0;
    while (i < n) {
        int32_t c = cp[i];
        if (has_table(c)) {
            i++;
            continue;
        }
        int deva = is_deva(c);
        if (!deva && !(utf8proc_category(c) >= UTF8PROC_CATEGORY_LU &&
                       utf8proc_category(c) <= UTF8PROC_CATEGORY_LO)) {
            i++;
            continue;
        }
        /* the run: letters and marks of scripts without a table, of the same
         * kind (Devanagari or not) */
        size_t j = i;
        int han = 1;
        while (j < n && !has_table(cp[j]) && is_deva(cp[j]) == deva && j - i < ROMANISE_RUN_MAX) {
            utf8proc_category_t cat = utf8proc_category(cp[j]);
            if (!(cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_ME)) break;
            han &= is_han(cp[j]);
            j++;
        }
        if (j == i) {
            i++;
            continue;
        }
        char latin[256];
        size_t ll = deva ? deva_word(cp + i, j - i, latin, sizeof latin)
                         : icu_run(cp + i, j - i, surname, cache, latin, sizeof latin);
        if (ll == 0) {
            i = j; /* left as it was: counted as untransliterated */
            continue;
        }
        if (han) { /* a Chinese name part is written as one word (XIAOMING) */
            size_t o = 0;
            for (size_t k = 0; k < ll; k++)
                if (latin[k] != ' ') latin[o++] = latin[k];
            ll = o;
            latin[ll] = '\0';
        }
        /* replace cp[i..j) by the letters */
        if (n - (j - i) + ll > cap) break;
        memmove(cp + i + ll, cp + j, (n - j) * sizeof *cp);
        for (size_t k = 0; k < ll; k++)
            cp[i + k] = (unsigned char)latin[k];
        n = n - (j - i) + ll;
        i += ll;
    }
    return n;
}
