/* synth: the noise model. A noisy record gets one kind of error (sometimes
 * two) chosen among those that can apply to it; the kinds are returned as a
 * bit mask for the ground truth. */
#include <stdio.h>
#include <string.h>

#include "synth/synth_int.h"

static const char *const kind_names[PM_SYNTH_NOISE_KIND_COUNT] = {
    "typo",     "translit",        "drop_middle", "particle", "order",
    "dob_swap", "dob_placeholder", "ocr",         "dual"};
/* relative weights of the kinds when they apply */
static const double kind_w[PM_SYNTH_NOISE_KIND_COUNT] = {30, 15, 10, 8, 8, 8, 6, 10, 5};

const char *pm_synth_noise_name(unsigned bit)
{
    for (int i = 0; i < PM_SYNTH_NOISE_KIND_COUNT; i++)
        if (bit == (1u << i)) return kind_names[i];
    return "";
}

void pm_synth_noise_names(unsigned mask, char *out, size_t out_cap)
{
    if (out_cap == 0) return;
    out[0] = '\0';
    for (int i = 0; i < PM_SYNTH_NOISE_KIND_COUNT; i++)
        if (mask & (1u << i)) {
            if (out[0]) pm__strlcat(out, ";", out_cap);
            pm__strlcat(out, kind_names[i], out_cap);
        }
}

/* ---- UTF-8 code points ---- */
#define MAXCP (PM_SYNTH_NAME_MAX + 8)

static size_t decode(const char *s, uint32_t *cp, size_t cap)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && n < cap) {
        uint32_t c = *p;
        int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        if (extra) c &= 0x3Fu >> extra;
        p++;
        for (int k = 0; k < extra && (*p & 0xC0) == 0x80; k++, p++)
            c = (c << 6) | (*p & 0x3F);
        cp[n++] = c;
    }
    return n;
}

static void encode(const uint32_t *cp, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cp[i];
        char b[4];
        size_t k;
        if (c < 0x80) {
            b[0] = (char)c, k = 1;
        } else if (c < 0x800) {
            b[0] = (char)(0xC0 | (c >> 6)), b[1] = (char)(0x80 | (c & 0x3F)), k = 2;
        } else if (c < 0x10000) {
            b[0] = (char)(0xE0 | (c >> 12)), b[1] = (char)(0x80 | ((c >> 6) & 0x3F));
            b[2] = (char)(0x80 | (c & 0x3F)), k = 3;
        } else {
            b[0] = (char)(0xF0 | (c >> 18)), b[1] = (char)(0x80 | ((c >> 12) & 0x3F));
            b[2] = (char)(0x80 | ((c >> 6) & 0x3F)), b[3] = (char)(0x80 | (c & 0x3F)), k = 4;
        }
        if (o + k >= cap) break;
        memcpy(out + o, b, k);
        o += k;
    }
    out[o] = '\0';
}

static int is_letter(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80;
}

/* QWERTY neighbours of each capital letter (a slip of the finger). */
static const char *const keyboard[26] = {
    "QWSZ",   "VGHN",  "XDFV", "SERFCX", "WSDR", "DRTGVC", "FTYHBV", "GYUJNB", "UJKO",
    "HUIKMN", "JIOLM", "KOP",  "NJK",    "BHJM", "IKLP",   "OL",     "WA",     "EDFT",
    "AWEDXZ", "RFGY",  "YHJI", "CFGB",   "QASE", "ZSDC",   "TGHU",   "ASX"};

static uint32_t neighbour(pm__rng_t *r, uint32_t c)
{
    int lower = c >= 'a' && c <= 'z';
    uint32_t u = lower ? c - 32 : c;
    if (u < 'A' || u > 'Z') return 0;
    const char *k = keyboard[u - 'A'];
    uint32_t v = (uint32_t)k[pm__rng_below(r, (uint32_t)strlen(k))];
    return lower ? v + 32 : v;
}

/* One edit in a name field; 1 if the field changed. */
static int typo(pm__rng_t *r, char *field, size_t cap)
{
    uint32_t cp[MAXCP];
    size_t n = decode(field, cp, MAXCP - 2);
    if (n == 0) return 0;
    size_t letters[MAXCP], nl = 0;
    for (size_t i = 0; i < n; i++)
        if (is_letter(cp[i])) letters[nl++] = i;
    if (nl == 0) return 0;
    size_t at = letters[pm__rng_below(r, (uint32_t)nl)];
    uint32_t op = pm__rng_below(r, 4);
    if (nl == 1 && (op == 1 || op == 3)) op = 0; /* never delete the only letter */
    switch (op) {
    case 0: { /* insert: a neighbouring key, or a doubled character */
        uint32_t c = neighbour(r, cp[at]);
        if (!c || pm__rng_chance(r, 0.3)) c = cp[at];
        memmove(cp + at + 1, cp + at, (n - at) * sizeof *cp);
        cp[at] = c;
        n++;
        break;
    }
    case 1: /* delete */
        memmove(cp + at, cp + at + 1, (n - at - 1) * sizeof *cp);
        n--;
        break;
    case 2: { /* substitute */
        uint32_t c = neighbour(r, cp[at]);
        if (!c) {
            /* another script: a character from elsewhere in the name */
            size_t other = letters[pm__rng_below(r, (uint32_t)nl)];
            c = cp[other];
        }
        if (c == cp[at]) {
            memmove(cp + at + 1, cp + at, (n - at) * sizeof *cp);
            n++; /* fall back to doubling */
        } else {
            cp[at] = c;
        }
        break;
    }
    default: { /* transpose with the next letter */
        size_t b = at + 1 < n && is_letter(cp[at + 1]) ? at + 1 : at;
        if (b == at && at > 0 && is_letter(cp[at - 1])) b = at - 1;
        if (b == at || cp[b] == cp[at]) {
            memmove(cp + at, cp + at + 1, (n - at - 1) * sizeof *cp);
            n--; /* nothing to swap: delete instead */
        } else {
            uint32_t t = cp[at];
            cp[at] = cp[b];
            cp[b] = t;
        }
        break;
    }
    }
    char before[PM_SYNTH_NAME_MAX + 1];
    pm__strlcpy(before, field, sizeof before);
    encode(cp, n, field, cap);
    return strcmp(before, field) != 0;
}

/* Another transliteration of one token of one of the Latin name fields. */
static int translit(pm__rng_t *r, pm_synth_crossing_t *c, int dry)
{
    char *fields[3] = {c->surname, c->given_names, c->middle_names};
    uint32_t first = pm__rng_below(r, 3);
    for (uint32_t k = 0; k < 3; k++) {
        char *f = fields[(first + k) % 3];
        char tok[PM_SYNTH_NAME_MAX + 1], var[PM_SYNTH_NAME_MAX + 1];
        const char *p = f;
        while (*p) {
            while (*p == ' ' || *p == '-')
                p++;
            const char *e = p;
            while (*e && *e != ' ' && *e != '-')
                e++;
            size_t len = (size_t)(e - p);
            if (len > 0 && len < sizeof tok) {
                memcpy(tok, p, len);
                tok[len] = '\0';
                if (pm__translit_variant(r, tok, var, sizeof var)) {
                    if (dry) return 1;
                    char out[PM_SYNTH_NAME_MAX + 1];
                    size_t pre = (size_t)(p - f);
                    memcpy(out, f, pre);
                    out[pre] = '\0';
                    pm__strlcat(out, var, sizeof out);
                    pm__strlcat(out, e, sizeof out);
                    pm__strlcpy(f, out, PM_SYNTH_NAME_MAX + 1);
                    return 1;
                }
            }
            p = e;
        }
    }
    return 0;
}

/* Length of the leading particle run of a surname ("AL-", "VAN DER "), 0 if none. */
static size_t particle_prefix(const char *s)
{
    size_t at = 0, end = 0;
    for (;;) {
        size_t e = at;
        while (s[e] && s[e] != ' ' && s[e] != '-')
            e++;
        if (!s[e] || !pm__is_particle(s + at, e - at)) break;
        end = e + 1;
        at = end;
    }
    return s[end] ? end : 0;
}

static int is_latin(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0x80 || (*p >= 'a' && *p <= 'z')) return 0;
    return 1;
}

static int applicable(unsigned kind, const pm_synth_person_t *person, pm_synth_crossing_t *c)
{
    size_t dl = strlen(c->date_of_birth);
    switch (kind) {
    case PM_SYNTH_NOISE_TYPO:
        return c->surname[0] != '\0';
    case PM_SYNTH_NOISE_TRANSLIT: {
        pm__rng_t probe = {{1, 2, 3, 4}};
        pm_synth_crossing_t tmp;
        pm__strlcpy(tmp.surname, person->surname, sizeof tmp.surname);
        pm__strlcpy(tmp.given_names, person->given_names, sizeof tmp.given_names);
        pm__strlcpy(tmp.middle_names, person->middle_names, sizeof tmp.middle_names);
        return translit(&probe, &tmp, 1);
    }
    case PM_SYNTH_NOISE_DROP_MIDDLE:
        return c->middle_names[0] != '\0' || strchr(c->given_names, ' ') != NULL;
    case PM_SYNTH_NOISE_PARTICLE:
        return particle_prefix(person->surname) > 0;
    case PM_SYNTH_NOISE_ORDER:
        return c->given_names[0] != '\0' && strcmp(c->given_names, c->surname) != 0;
    case PM_SYNTH_NOISE_DOB_SWAP:
        return dl == 10 && c->date_of_birth[8] <= '1' &&
               (c->date_of_birth[8] == '0' || c->date_of_birth[9] <= '2') &&
               memcmp(c->date_of_birth + 5, c->date_of_birth + 8, 2) != 0 &&
               memcmp(c->date_of_birth + 8, "00", 2) != 0;
    case PM_SYNTH_NOISE_DOB_PLACEHOLDER:
        return !(dl == 10 && memcmp(c->date_of_birth + 5, "01-01", 5) == 0);
    case PM_SYNTH_NOISE_OCR:
        return strpbrk(c->document_number, "0O1I5S8B") != NULL;
    case PM_SYNTH_NOISE_DUAL:
        return person->n_documents > 1;
    default:
        return 0;
    }
}

/* Puts the person's Latin names back on a record written in its own script. */
static void to_latin(const pm_synth_person_t *person, pm_synth_crossing_t *c)
{
    if (is_latin(c->surname) && is_latin(c->given_names)) return;
    pm__strlcpy(c->surname, person->surname, sizeof c->surname);
    pm__strlcpy(c->given_names, person->given_names, sizeof c->given_names);
    pm__strlcpy(c->middle_names, person->middle_names, sizeof c->middle_names);
}

static int apply(pm__rng_t *r, unsigned kind, const pm_synth_person_t *person,
                 pm_synth_crossing_t *c)
{
    char tmp[PM_SYNTH_NAME_MAX + 1];
    switch (kind) {
    case PM_SYNTH_NOISE_TYPO: {
        uint32_t w = pm__rng_below(r, 10);
        char *f = w < 5                            ? c->surname
                  : (w < 9 || !c->middle_names[0]) ? c->given_names
                                                   : c->middle_names;
        if (!f[0]) f = c->surname;
        return typo(r, f, PM_SYNTH_NAME_MAX + 1);
    }
    case PM_SYNTH_NOISE_TRANSLIT:
        to_latin(person, c);
        return translit(r, c, 0);
    case PM_SYNTH_NOISE_DROP_MIDDLE:
        if (c->middle_names[0]) {
            c->middle_names[0] = '\0';
        } else {
            char *sp = strrchr(c->given_names, ' ');
            if (!sp) return 0;
            *sp = '\0';
        }
        return 1;
    case PM_SYNTH_NOISE_PARTICLE: {
        to_latin(person, c);
        size_t pl = particle_prefix(c->surname);
        if (pl == 0) return 0;
        if (pm__rng_chance(r, 0.7)) { /* dropped: AL-RASHID -> RASHID */
            pm__strlcpy(tmp, c->surname + pl, sizeof tmp);
        } else { /* joined: AL-RASHID -> ALRASHID, VAN DER MEER -> VANDERMEER */
            size_t o = 0;
            for (size_t i = 0; c->surname[i] && o + 1 < sizeof tmp; i++)
                if (i >= pl || (c->surname[i] != ' ' && c->surname[i] != '-'))
                    tmp[o++] = c->surname[i];
            tmp[o] = '\0';
        }
        pm__strlcpy(c->surname, tmp, sizeof c->surname);
        return 1;
    }
    case PM_SYNTH_NOISE_ORDER:
        pm__strlcpy(tmp, c->surname, sizeof tmp);
        pm__strlcpy(c->surname, c->given_names, sizeof c->surname);
        pm__strlcpy(c->given_names, tmp, sizeof c->given_names);
        return 1;
    case PM_SYNTH_NOISE_DOB_SWAP: {
        char *d = c->date_of_birth;
        char a = d[5], b = d[6];
        d[5] = d[8], d[6] = d[9];
        d[8] = a, d[9] = b;
        return 1;
    }
    case PM_SYNTH_NOISE_DOB_PLACEHOLDER:
        c->date_of_birth[4] = '\0';
        pm__strlcat(c->date_of_birth, "-01-01", sizeof c->date_of_birth);
        return 1;
    case PM_SYNTH_NOISE_OCR: {
        static const char from[] = "0O1I5S8B", to[] = "O0I1S5B8";
        size_t idx[24], n = 0;
        for (size_t i = 0; c->document_number[i] && n < 24; i++)
            if (strchr(from, c->document_number[i])) idx[n++] = i;
        if (n == 0) return 0;
        size_t i = idx[pm__rng_below(r, (uint32_t)n)];
        c->document_number[i] = to[strchr(from, c->document_number[i]) - from];
        return 1;
    }
    case PM_SYNTH_NOISE_DUAL: {
        const pm_synth_document_t *d = &person->documents[1];
        pm__strlcpy(c->citizenship, d->nationality, sizeof c->citizenship);
        pm__strlcpy(c->document_type, d->type, sizeof c->document_type);
        pm__strlcpy(c->document_number, d->number, sizeof c->document_number);
        pm__strlcpy(c->document_issuer, d->issuer, sizeof c->document_issuer);
        return 1;
    }
    default:
        return 0;
    }
}

unsigned pm__noise_apply(pm__rng_t *r, const pm_synth_person_t *person, pm_synth_crossing_t *c)
{
    unsigned mask = 0;
    int want = pm__rng_chance(r, 0.2) ? 2 : 1;
    for (int round = 0; round < want; round++) {
        double w[PM_SYNTH_NOISE_KIND_COUNT];
        double total = 0;
        for (int k = 0; k < PM_SYNTH_NOISE_KIND_COUNT; k++) {
            unsigned bit = 1u << k;
            w[k] = (!(mask & bit) && applicable(bit, person, c)) ? kind_w[k] : 0;
            total += w[k];
        }
        if (total <= 0) break;
        unsigned bit = 1u << pm__rng_weighted(r, w, PM_SYNTH_NOISE_KIND_COUNT);
        if (apply(r, bit, person, c)) mask |= bit;
        /* two countries' passports often spell the name differently */
        if (bit == PM_SYNTH_NOISE_DUAL && (mask & bit) && !(mask & PM_SYNTH_NOISE_TRANSLIT) &&
            pm__rng_chance(r, 0.4) && applicable(PM_SYNTH_NOISE_TRANSLIT, person, c) &&
            apply(r, PM_SYNTH_NOISE_TRANSLIT, person, c))
            mask |= PM_SYNTH_NOISE_TRANSLIT;
    }
    if (!mask) {
        /* always leave a mark on a record chosen for noise */
        if (typo(r, c->surname, sizeof c->surname)) mask |= PM_SYNTH_NOISE_TYPO;
    }
    c->mrz[0] = '\0'; /* a keyed (noisy) record carries no machine-read zone */
    return mask;
}

int pm__noise_apply_kind(pm__rng_t *r, unsigned kind, const pm_synth_person_t *person,
                         pm_synth_crossing_t *c)
{
    if (!applicable(kind, person, c)) return 0;
    return apply(r, kind, person, c);
}

void pm__crossing_from_person(const pm_synth_person_t *p, int doc, pm_synth_crossing_t *c)
{
    memset(c, 0, sizeof *c);
    pm__strlcpy(c->surname, p->surname, sizeof c->surname);
    pm__strlcpy(c->given_names, p->given_names, sizeof c->given_names);
    pm__strlcpy(c->middle_names, p->middle_names, sizeof c->middle_names);
    pm__strlcpy(c->date_of_birth, p->date_of_birth, sizeof c->date_of_birth);
    c->sex[0] = p->sex;
    const pm_synth_document_t *d = &p->documents[doc < p->n_documents ? doc : 0];
    pm__strlcpy(c->citizenship, d->nationality[0] ? d->nationality : p->citizenship,
                sizeof c->citizenship);
    pm__strlcpy(c->document_type, d->type, sizeof c->document_type);
    pm__strlcpy(c->document_number, d->number, sizeof c->document_number);
    pm__strlcpy(c->document_issuer, d->issuer, sizeof c->document_issuer);
    c->person_id = p->person_id;
}
