/* The phonetic key of a name token: a consonant skeleton tuned to the ways one
 * name is transcribed into Latin (Arabic and Cyrillic names in particular),
 * where vowels are the least stable part (MOHAMMED / MUHAMMAD / MOHAMED,
 * YOUSSEF / YUSUF, OLEKSANDR / ALEKSANDR share keys).
 *
 * Rules, applied left to right on A-Z:
 *  - digraphs first: PH -> F, SCH/SH/CH/ZH -> X (one sound), KH -> H, GH -> G,
 *    DH -> D, TH -> T, CK -> K;
 *  - classes: B; P; F V W -> F; C K Q -> K (C before E I Y -> S); S Z -> S;
 *    X (letter) -> KS; D T -> T; G J -> J; L; M; N; R; H and Y are dropped
 *    inside a word but separate like a vowel (MHMD keeps both M);
 *  - the first letter gives the first code: a vowel (or Y) gives 'A', H 'H';
 *  - vowels are dropped after the first letter; a code equal to the previous
 *    one is dropped unless a vowel separated them (doubled letters count once);
 *  - the key keeps at most PM_LINK_PHON_MAX-1 codes. */
#include <string.h>

#include "perimeter/link.h"

static int is_vowel(char c)
{
    return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U';
}

void pm_phonetic_key(const char *token, char out[PM_LINK_PHON_MAX])
{
    size_t n = 0;
    char prev = 0;
    int vowel_gap = 0;
    size_t len = strlen(token);
    for (size_t i = 0; i < len && n < PM_LINK_PHON_MAX - 1; i++) {
        char c = token[i];
        char nx = i + 1 < len ? token[i + 1] : 0;
        char nx2 = i + 2 < len ? token[i + 2] : 0;
        char code = 0;
        if (c < 'A' || c > 'Z') continue;
        if (i == 0 && (is_vowel(c) || c == 'Y')) {
            out[n++] = 'A';
            prev = 'A';
            vowel_gap = 0;
            continue;
        }
        if (i == 0 && c == 'H' && !(nx == 'H')) {
            out[n++] = 'H';
            prev = 'H';
            continue;
        }
        if (is_vowel(c)) {
            vowel_gap = 1;
            continue;
        }
        switch (c) {
        case 'P':
            if (nx == 'H') {
                code = 'F';
                i++;
            } else
                code = 'P';
            break;
        case 'S':
            if (nx == 'C' && nx2 == 'H') {
                code = 'X';
                i += 2;
            } else if (nx == 'H') {
                code = 'X';
                i++;
            } else
                code = 'S';
            break;
        case 'C':
            if (nx == 'H') {
                code = 'X';
                i++;
            } else if (nx == 'K') {
                code = 'K';
                i++;
            } else if (nx == 'E' || nx == 'I' || nx == 'Y')
                code = 'S';
            else
                code = 'K';
            break;
        case 'Z':
            if (nx == 'H') {
                code = 'X';
                i++;
            } else
                code = 'S';
            break;
        case 'K':
            if (nx == 'H') {
                i++;
                code = (i == 1) ? 'H' : 0; /* KHALID ~ HALID; inner KH like H */
                if (!code) continue;
            } else
                code = 'K';
            break;
        case 'G':
            if (nx == 'H') i++;
            code = 'J';
            break;
        case 'D':
        case 'T':
            if (nx == 'H') i++;
            code = 'T';
            break;
        case 'Q':
            code = 'K';
            break;
        case 'X':
            if (n < PM_LINK_PHON_MAX - 2 && !(prev == 'K' && !vowel_gap)) out[n++] = 'K';
            code = 'S';
            prev = 'K';
            break;
        case 'B':
            code = 'B';
            break;
        case 'F':
        case 'V':
        case 'W':
            code = 'F';
            break;
        case 'J':
            code = 'J';
            break;
        case 'L':
        case 'M':
        case 'N':
        case 'R':
            code = c;
            break;
        case 'H':
        case 'Y':
            /* silent inside a word, but they separate two equal consonants as a
             * vowel would (MHMD, the consonant skeleton of MOHAMMED) */
            vowel_gap = 1;
            continue;
        default:
            continue;
        }
        if (code == prev && !vowel_gap) continue;
        out[n++] = code;
        prev = code;
        vowel_gap = 0;
    }
    out[n] = '\0';
}
