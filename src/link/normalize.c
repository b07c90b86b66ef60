/* Name normalisation: utf8proc NFC + case folding, ICAO Doc 9303 Part 3
 * transliteration (Latin national characters, Cyrillic, Arabic) into the set of
 * acceptable Latin variants, tokenisation with name particles flagged. */
#include <string.h>
#include <utf8proc.h>

#include "link_impl.h"

#define MAX_CP  (PM_LINK_INPUT_MAX * 2)
#define MAX_ALT 3

/* One output position: up to three alternatives, the first being ICAO's. */
typedef struct seg {
    const char *alt[MAX_ALT];
    uint8_t n;
    uint8_t match; /* the alternative the comparison form uses */
} seg_t;

typedef struct xlit {
    int32_t cp; /* lower-case code point */
    const char *alt[MAX_ALT];
} xlit_t;

/* Latin national characters with a multi-letter or non-decomposable ICAO form
 * (Doc 9303 Part 3, transliteration of Latin characters). Other accented
 * letters lose their marks through Unicode decomposition. */
static const xlit_t latin_tab[] = {
    {0x00DF, {"SS"}},             /* ß */
    {0x00E4, {"AE", "A"}},        /* ä */
    {0x00E5, {"AA", "A"}},        /* å */
    {0x00E6, {"AE"}},             /* æ */
    {0x00F0, {"D"}},              /* ð */
    {0x00F1, {"N", "NXX"}},       /* ñ */
    {0x00F6, {"OE", "O"}},        /* ö */
    {0x00F8, {"OE", "O"}},        /* ø */
    {0x00FC, {"UE", "U", "UXX"}}, /* ü */
    {0x00FE, {"TH"}},             /* þ */
    {0x0111, {"D"}},              /* đ */
    {0x0127, {"H"}},              /* ħ */
    {0x0131, {"I"}},              /* ı */
    {0x0133, {"IJ"}},             /* ĳ */
    {0x0138, {"Q", "K"}},         /* ĸ */
    {0x0140, {"L"}},              /* ŀ */
    {0x0142, {"L"}},              /* ł */
    {0x014B, {"N"}},              /* ŋ */
    {0x0153, {"OE"}},             /* œ */
    {0x0167, {"T"}},              /* ŧ */
};

/* Cyrillic (Doc 9303 Part 3 table), with the common alternatives second. */
static const xlit_t cyrillic_tab[] = {
    {0x0430, {"A"}},        {0x0431, {"B"}},       {0x0432, {"V"}},        {0x0433, {"G", "H"}},
    {0x0434, {"D"}},        {0x0435, {"E"}},       {0x0436, {"ZH"}},       {0x0437, {"Z"}},
    {0x0438, {"I"}},        {0x0439, {"I", "Y"}},  {0x043A, {"K"}},        {0x043B, {"L"}},
    {0x043C, {"M"}},        {0x043D, {"N"}},       {0x043E, {"O"}},        {0x043F, {"P"}},
    {0x0440, {"R"}},        {0x0441, {"S"}},       {0x0442, {"T"}},        {0x0443, {"U"}},
    {0x0444, {"F"}},        {0x0445, {"KH", "H"}}, {0x0446, {"TS"}},       {0x0447, {"CH"}},
    {0x0448, {"SH"}},       {0x0449, {"SHCH"}},    {0x044A, {"IE"}},       {0x044B, {"Y"}},
    {0x044C, {""}},         {0x044D, {"E"}},       {0x044E, {"IU", "YU"}}, {0x044F, {"IA", "YA"}},
    {0x0450, {"E"}},        {0x0451, {"E", "YO"}}, {0x0452, {"D"}},        {0x0453, {"G"}},
    {0x0454, {"IE", "YE"}}, {0x0455, {"DZ"}},      {0x0456, {"I"}},        {0x0457, {"I", "YI"}},
    {0x0458, {"J"}},        {0x0459, {"LJ"}},      {0x045A, {"NJ"}},       {0x045B, {"C"}},
    {0x045C, {"K"}},        {0x045D, {"I"}},       {0x045E, {"U"}},        {0x045F, {"DZ"}},
    {0x0491, {"G", "H"}},
};

/* Arabic (Doc 9303 Part 3 table with its X escapes), the escape-free
 * transcription second. Teh marbuta is handled in code (XTA / final XAH). */
static const xlit_t arabic_tab[] = {
    {0x0621, {"XE", ""}},     /* hamza */
    {0x0622, {"XAA", "A"}},   /* alef madda */
    {0x0623, {"XAE", "A"}},   /* alef hamza above */
    {0x0624, {"XW", "W"}},    /* waw hamza */
    {0x0625, {"I"}},          /* alef hamza below */
    {0x0626, {"XI", "I"}},    /* yeh hamza */
    {0x0627, {"A"}},          /* alef */
    {0x0628, {"B"}},          /* beh */
    {0x062A, {"T"}},          /* teh */
    {0x062B, {"XTH", "TH"}},  /* theh */
    {0x062C, {"J"}},          /* jeem */
    {0x062D, {"XH", "H"}},    /* hah */
    {0x062E, {"XKH", "KH"}},  /* khah */
    {0x062F, {"D"}},          /* dal */
    {0x0630, {"XDH", "DH"}},  /* thal */
    {0x0631, {"R"}},          /* reh */
    {0x0632, {"Z"}},          /* zain */
    {0x0633, {"S"}},          /* seen */
    {0x0634, {"XSH", "SH"}},  /* sheen */
    {0x0635, {"XSS", "S"}},   /* sad */
    {0x0636, {"XDZ", "D"}},   /* dad */
    {0x0637, {"XTT", "T"}},   /* tah */
    {0x0638, {"XZZ", "Z"}},   /* zah */
    {0x0639, {"E", "A", ""}}, /* ain */
    {0x063A, {"G", "GH"}},    /* ghain */
    {0x0641, {"F"}},          /* feh */
    {0x0642, {"Q", "K"}},     /* qaf */
    {0x0643, {"K"}},          /* kaf */
    {0x0644, {"L"}},          /* lam */
    {0x0645, {"M"}},          /* meem */
    {0x0646, {"N"}},          /* noon */
    {0x0647, {"H"}},          /* heh */
    {0x0648, {"W", "U"}},     /* waw */
    {0x0649, {"XAY", "A"}},   /* alef maksura */
    {0x064A, {"Y", "I"}},     /* yeh */
    {0x067E, {"XP", "P"}},    /* peh (Persian) */
    {0x0686, {"XCH", "CH"}},  /* tcheh */
    {0x0698, {"XZH", "ZH"}},  /* jeh */
    {0x06A9, {"XKK", "K"}},   /* keheh */
    {0x06AF, {"XGG", "G"}},   /* gaf */
    {0x06CC, {"XYA", "Y"}},   /* farsi yeh */
};

static const char *const letters[26] = {"A", "B", "C", "D", "E", "F", "G", "H", "I",
                                        "J", "K", "L", "M", "N", "O", "P", "Q", "R",
                                        "S", "T", "U", "V", "W", "X", "Y", "Z"};
static const char *const space = " ";

static const xlit_t *lookup(const xlit_t *tab, size_t n, int32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (tab[mid].cp == cp) return &tab[mid];
        if (tab[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int is_arabic_letter(int32_t cp)
{
    return (cp >= 0x0621 && cp <= 0x064A) || (cp >= 0x0671 && cp <= 0x06D3);
}

static void seg_from_tab(seg_t *s, const xlit_t *x)
{
    s->n = 0;
    for (int i = 0; i < MAX_ALT && x->alt[i]; i++)
        s->alt[s->n++] = x->alt[i];
}

/* Turns NFC code points into segments; returns the number of segments. */
static size_t segment(const int32_t *cp, size_t n, seg_t *segs, size_t cap, unsigned *untrans)
{
    size_t ns = 0;
    for (size_t i = 0; i < n && ns + 4 < cap; i++) {
        int32_t c = cp[i];
        seg_t *s = &segs[ns];
        s->match = 0;
        if (c < 0x80) {
            if (c >= 'a' && c <= 'z') c -= 32;
            if (c >= 'A' && c <= 'Z') {
                s->alt[0] = letters[c - 'A'];
                s->n = 1;
                ns++;
            } else if (c != '\'' && c != '`') { /* O'BRIEN -> OBRIEN */
                s->alt[0] = space;
                s->n = 1;
                ns++;
            }
            continue;
        }
        if (c == 0x2019 || c == 0x02BC || c == 0x2018 || c == 0x02BB)
            continue; /* typographic apostrophes join like ' */
        int32_t lc = utf8proc_tolower(c);
        const xlit_t *x = NULL;
        if (lc < 0x0180)
            x = lookup(latin_tab, sizeof latin_tab / sizeof latin_tab[0], lc);
        else if (lc >= 0x0400 && lc < 0x0500)
            x = lookup(cyrillic_tab, sizeof cyrillic_tab / sizeof cyrillic_tab[0], lc);
        else if (lc >= 0x0600 && lc < 0x0700) {
            if (lc == 0x0629) { /* teh marbuta: XAH at the end of a name part */
                int final = (i + 1 == n) || !is_arabic_letter(cp[i + 1]);
                s->alt[0] = final ? "XAH" : "XTA";
                s->alt[1] = final ? "AH" : "T";
                s->alt[2] = "A";
                s->n = 3;
                s->match = 1;
                ns++;
                continue;
            }
            if ((lc >= 0x064B && lc <= 0x0652) || lc == 0x0640 || lc == 0x0670)
                continue; /* harakat, tatweel, superscript alef: not written */
            x = lookup(arabic_tab, sizeof arabic_tab / sizeof arabic_tab[0], lc);
        }
        if (x) {
            seg_from_tab(s, x);
            /* Arabic compares in its escape-free transcription, which is how
             * Latin spellings of the same name are written */
            if (lc >= 0x0600 && lc < 0x0700 && s->n > 1) s->match = 1;
            ns++;
            /* the article: a word-initial alef-lam before a noun of two or more
             * letters is split off in the comparison form (AL FRJ), where it
             * becomes a particle, as in Latin spellings (EL-FARAG) */
            if (lc == 0x0644 && i >= 1 && cp[i - 1] == 0x0627 &&
                (i < 2 || !is_arabic_letter(cp[i - 2])) && i + 2 < n &&
                is_arabic_letter(cp[i + 1]) && is_arabic_letter(cp[i + 2])) {
                segs[ns].alt[0] = "";
                segs[ns].alt[1] = space;
                segs[ns].n = 2;
                segs[ns].match = 1;
                ns++;
            }
            continue;
        }
        utf8proc_category_t cat = utf8proc_category(c);
        if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
            cat == UTF8PROC_CATEGORY_ME || cat == UTF8PROC_CATEGORY_CF)
            continue;
        if (cat < UTF8PROC_CATEGORY_LU || cat > UTF8PROC_CATEGORY_LO) {
            s->alt[0] = space;
            s->n = 1;
            ns++;
            continue;
        }
        /* Other letters: compatibility decomposition, marks stripped, case folded;
         * keep what is ASCII (é -> E, ǆ -> DZ). */
        int32_t dec[8];
        utf8proc_ssize_t k = utf8proc_decompose_char(
            c, dec, 8,
            UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD, NULL);
        int kept = 0;
        for (utf8proc_ssize_t j = 0; k > 0 && k <= 8 && j < k && ns + 4 < cap; j++) {
            int32_t d = dec[j];
            if (d >= 'a' && d <= 'z') {
                segs[ns].alt[0] = letters[d - 'a'];
                segs[ns].n = 1;
                segs[ns].match = 0;
                ns++;
                kept++;
            }
        }
        if (!kept) (*untrans)++;
    }
    return ns;
}

/* Writes the variant chosen by idx[] (one choice per segment), collapsing
 * spaces and trimming; truncates at a token boundary to fit PM_LINK_NAME_MAX. */
static void render(const seg_t *segs, size_t ns, const uint8_t *idx, char *out)
{
    size_t len = 0;
    int pending_space = 0;
    for (size_t i = 0; i < ns; i++) {
        const char *a = segs[i].alt[idx ? idx[i] : 0];
        if (a == space) {
            pending_space = len > 0;
            continue;
        }
        size_t al = strlen(a);
        if (al == 0) continue;
        if (len + pending_space + al >= PM_LINK_NAME_MAX) {
            /* drop the partial token */
            while (len > 0 && out[len - 1] != ' ')
                len--;
            while (len > 0 && out[len - 1] == ' ')
                len--;
            break;
        }
        if (pending_space) out[len++] = ' ';
        pending_space = 0;
        memcpy(out + len, a, al);
        len += al;
    }
    out[len] = '\0';
}

static int decode_nfc(const char *utf8, size_t len, int32_t *cp, size_t *out_n, pm_error_t *err)
{
    if (len > PM_LINK_INPUT_MAX)
        return pm_error_set(err, PM_ELIMIT, "name field of %zu bytes exceeds %d", len,
                            PM_LINK_INPUT_MAX);
    int ascii = 1;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)utf8[i] >= 0x80)
            ascii = 0;
        else if (utf8[i] == '\0')
            return pm_error_set(err, PM_EUTF8, "NUL byte in name at offset %zu", i);
    }
    if (ascii) {
        for (size_t i = 0; i < len; i++)
            cp[i] = (unsigned char)utf8[i];
        *out_n = len;
        return PM_OK;
    }
    utf8proc_ssize_t n = utf8proc_decompose((const utf8proc_uint8_t *)utf8, (utf8proc_ssize_t)len,
                                            cp, MAX_CP, UTF8PROC_DECOMPOSE | UTF8PROC_STABLE);
    if (n < 0)
        return pm_error_set(err, PM_EUTF8, "name is not valid UTF-8: %s", utf8proc_errmsg(n));
    if (n > MAX_CP) return pm_error_set(err, PM_ELIMIT, "name decomposes to too many code points");
    n = utf8proc_normalize_utf32(cp, n, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    if (n < 0)
        return pm_error_set(err, PM_EUTF8, "name normalisation failed: %s", utf8proc_errmsg(n));
    *out_n = (size_t)n;
    return PM_OK;
}

int pm_name_variants(const char *utf8, size_t len, pm_name_variants_t *out, pm_error_t *err)
{
    int32_t cp[MAX_CP];
    seg_t segs[MAX_CP];
    size_t ncp = 0;
    out->n = 0;
    out->untransliterated = 0;
    int rc = decode_nfc(utf8 ? utf8 : "", utf8 ? len : 0, cp, &ncp, err);
    if (rc) return rc;
    size_t ns = segment(cp, ncp, segs, MAX_CP, &out->untransliterated);

    /* Positions with alternatives, enumerated in mixed radix: the ICAO form
     * first, the all-last-alternative form second, then the others. */
    size_t multi[MAX_CP];
    size_t nm = 0;
    for (size_t i = 0; i < ns; i++)
        if (segs[i].n > 1) multi[nm++] = i;
    uint8_t idx[MAX_CP] = {0};
    render(segs, ns, idx, out->v[0]);
    out->n = 1;
    if (nm == 0) return PM_OK;
    for (size_t j = 0; j < nm; j++)
        idx[multi[j]] = (uint8_t)(segs[multi[j]].n - 1);
    render(segs, ns, idx, out->v[1]);
    out->n = 2;
    memset(idx, 0, ns);
    for (unsigned iter = 0; iter < 4096 && out->n < PM_LINK_VARIANTS_MAX; iter++) {
        /* increment the mixed-radix counter */
        size_t j = 0;
        while (j < nm) {
            size_t p = multi[j];
            if (++idx[p] < segs[p].n) break;
            idx[p] = 0;
            j++;
        }
        if (j == nm) break;
        char *dst = out->v[out->n];
        render(segs, ns, idx, dst);
        int dup = 0;
        for (size_t k = 0; k < out->n && !dup; k++)
            dup = strcmp(out->v[k], dst) == 0;
        if (!dup) out->n++;
    }
    return PM_OK;
}

static int name_form(const char *utf8, size_t len, int match, unsigned flags, int surname,
                     pm__xlit_cache_t *cache, char *out, size_t cap, pm_error_t *err)
{
    int32_t cp[MAX_CP];
    seg_t segs[MAX_CP];
    uint8_t idx[MAX_CP];
    size_t ncp = 0;
    unsigned untrans = 0;
    if (cap == 0) return pm_error_set(err, PM_EINVAL, "no room for the normalised name");
    out[0] = '\0';
    int rc = decode_nfc(utf8 ? utf8 : "", utf8 ? len : 0, cp, &ncp, err);
    if (rc) return rc;
    if (flags & PM_NAME_ROMANISE) ncp = pm__romanise(cp, ncp, MAX_CP, surname, cache);
    size_t ns = segment(cp, ncp, segs, MAX_CP, &untrans);
    for (size_t i = 0; match && i < ns; i++)
        idx[i] = segs[i].match;
    char tmp[PM_LINK_NAME_MAX];
    render(segs, ns, match ? idx : NULL, tmp);
    size_t tl = strlen(tmp);
    if (tl >= cap) {
        tl = cap - 1;
        while (tl > 0 && tmp[tl] != ' ')
            tl--;
    }
    memcpy(out, tmp, tl);
    out[tl] = '\0';
    return PM_OK;
}

int pm_name_icao(const char *utf8, size_t len, char *out, size_t cap, pm_error_t *err)
{
    return name_form(utf8, len, 0, 0, 0, NULL, out, cap, err);
}

static const char *const particles[] = {
    "AB",  "ABOU",  "ABU", "AL",  "AP",  "BAR",  "BEN",    "BIN", "BINT", "BOU",
    "DA",  "DAL",   "DAS", "DE",  "DEL", "DELA", "DELLA",  "DEN", "DER",  "DES",
    "DI",  "DO",    "DOS", "DU",  "EL",  "IBN",  "LA",     "LE",  "LES",  "OULD",
    "SAN", "SANTA", "TEN", "TER", "UL",  "VAN",  "VANDER", "VON", "ZU",
};

int pm_name_is_particle(const char *token)
{
    size_t lo = 0, hi = sizeof particles / sizeof particles[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(particles[mid], token);
        if (c == 0) return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int add_tokens(const char *field, uint8_t part, unsigned flags, pm__xlit_cache_t *cache,
                      pm_name_t *out, pm_error_t *err)
{
    if (!field || !*field) return PM_OK;
    char norm[PM_LINK_NAME_MAX];
    int rc = name_form(field, strlen(field), 1, flags, part == PM_NAME_SURNAME, cache, norm,
                       sizeof norm, err);
    if (rc) return rc;
    const char *p = norm;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *start = p;
        while (*p && *p != ' ')
            p++;
        size_t tl = (size_t)(p - start);
        if (tl == 0 || out->n >= PM_LINK_TOKENS_MAX) continue;
        pm_name_token_t *t = &out->tok[out->n++];
        if (tl >= PM_LINK_TOKEN_MAX) tl = PM_LINK_TOKEN_MAX - 1;
        memcpy(t->text, start, tl);
        t->text[tl] = '\0';
        t->part = part;
        t->flags = pm_name_is_particle(t->text) ? PM_TOK_PARTICLE : 0;
        pm_phonetic_key(t->text, t->phon);
    }
    return PM_OK;
}

int pm_name_parse(const char *surname, const char *given, const char *middle, pm_name_t *out,
                  pm_error_t *err)
{
    return pm_name_parse_ex(surname, given, middle, 0, out, err);
}

int pm_name_parse_ex(const char *surname, const char *given, const char *middle, unsigned flags,
                     pm_name_t *out, pm_error_t *err)
{
    return pm__name_parse_cached(surname, given, middle, flags, NULL, out, err);
}

int pm__name_parse_cached(const char *surname, const char *given, const char *middle,
                          unsigned flags, pm__xlit_cache_t *cache, pm_name_t *out,
                          pm_error_t *err)
{
    out->n = 0;
    int rc = add_tokens(surname, PM_NAME_SURNAME, flags, cache, out, err);
    if (!rc) rc = add_tokens(given, PM_NAME_GIVEN, flags, cache, out, err);
    if (!rc) rc = add_tokens(middle, PM_NAME_MIDDLE, flags, cache, out, err);
    /* A name made only of particles keeps them as core tokens. */
    size_t core = 0;
    for (size_t i = 0; i < out->n; i++)
        core += !(out->tok[i].flags & PM_TOK_PARTICLE);
    if (core == 0)
        for (size_t i = 0; i < out->n; i++)
            out->tok[i].flags &= (uint8_t)~PM_TOK_PARTICLE;
    return rc;
}
