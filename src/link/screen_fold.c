/* Screening: romanisation-equivalence folding of name tokens (docs/link.md,
 * "Romanisation classes"). A name is folded token by token: a token in one of
 * the classes below becomes the class's first spelling; in any other token the
 * letters that romanisation conventions write either way are folded (J -> Y,
 * W -> V). The
 * screener compares the folded forms of both names as a second reading; the
 * original comparison is never made weaker.
 *
 * Classes (one spelling per romanisation convention of one written name):
 * - Korean surnames: Revised Romanisation (Ministry of Culture and Tourism,
 *   2000), McCune-Reischauer (1939) and the customary passport spellings (the
 *   National Institute of Korean Language's 2009 survey of surname spellings:
 *   이 LEE/YI/RHEE/RI/I, 박 PARK/BAK/PAK, 최 CHOI/CHOE, 정 JUNG/JEONG/CHUNG/
 *   CHONG, 김 KIM/GIM, 강 KANG/GANG, 조 CHO/JO, 윤 YOON/YUN, 신 SHIN/SIN,
 *   임 LIM/IM/RIM, 오 OH/O, 장 JANG/CHANG, 한 HAN, 송 SONG).
 * - Chinese surnames: Hanyu Pinyin (ISO 7098), Wade-Giles, and the Cantonese
 *   and Hokkien spellings of Hong Kong, Singapore and Malaysian documents:
 *   李 LI/LEE, 张 ZHANG/CHANG/CHEUNG, 周 ZHOU/CHOU/CHOW, 徐 XU/HSU/TSUI,
 *   陈 CHEN/CHAN/TAN, 黄 HUANG/WONG/HWANG/NG, 吴 WU/GOH/GOO, 赵 ZHAO/CHAO/CHIU,
 *   刘 LIU/LAU/LEW, 林 LIN/LAM/LIM, 杨 YANG/YEUNG/YEO, 郭 GUO/KUO/KWOK,
 *   何 HE/HO, 罗 LUO/LO/LOH, 郑 ZHENG/CHENG/CHEANG, 谢 XIE/HSIEH/TSE,
 *   蔡 CAI/TSAI/CHOY, 邓 DENG/TENG/TANG.
 *   Two classes that share a spelling (LIM: 林 and 임; CHANG: 张 and 장)
 *   are merged into one: folding cannot tell them apart, and such a name
 *   still needs date of birth or document evidence to be a hit.
 * - Letters: J/Y (Cyrillic Й/Ю/Я/Е in ISO 9 and German practice against
 *   BGN/PCGN and English: JURIJ/YURIY, JELENA/YELENA; Spanish and English
 *   given names: JESSICA/YESSICA), W/V (German and Polish W against V:
 *   WAGNER/VAGNER, ICAO Doc 9303 Part 3 transliteration of Cyrillic В as V).
 */
#include <string.h>

#include "link_impl.h"

static const char *const classes[][6] = {
    /* Korean */
    {"LI", "LEE", "YI", "RHEE", "RI", "RHIE"},
    {"PARK", "BAK", "PAK", NULL},
    {"CHOI", "CHOE", NULL},
    {"JUNG", "JEONG", "CHUNG", "CHONG", NULL},
    {"KIM", "GIM", NULL},
    {"KANG", "GANG", NULL},
    {"CHO", "JO", NULL},
    {"YOON", "YUN", NULL},
    {"SHIN", "SIN", NULL},
    {"LIM", "IM", "RIM", "LIN", "LAM", NULL},
    {"OH", "O", NULL},
    {"JANG", "CHANG", "ZHANG", "CHEUNG", NULL},
    /* Chinese */
    {"ZHOU", "CHOU", "CHOW", NULL},
    {"XU", "HSU", "TSUI", NULL},
    {"CHEN", "CHAN", "TAN", NULL},
    {"HUANG", "WONG", "HWANG", "NG", NULL},
    {"WU", "GOH", "GOO", NULL},
    {"ZHAO", "CHAO", "CHIU", NULL},
    {"LIU", "LAU", "LEW", NULL},
    {"YANG", "YEUNG", "YEO", NULL},
    {"GUO", "KUO", "KWOK", NULL},
    {"HE", "HO", NULL},
    {"LUO", "LO", "LOH", NULL},
    {"ZHENG", "CHENG", "CHEANG", NULL},
    {"XIE", "HSIEH", "TSE", NULL},
    {"CAI", "TSAI", "CHOY", NULL},
    {"DENG", "TENG", "TANG", NULL},
};

/* The class spelling of a token, or NULL. */
static const char *class_of(const char *t)
{
    for (size_t c = 0; c < sizeof classes / sizeof *classes; c++)
        for (size_t i = 0; i < 6 && classes[c][i]; i++)
            if (strcmp(classes[c][i], t) == 0) return classes[c][0];
    return NULL;
}

int pm__screen_fold_is_class(const char *token)
{
    return class_of(token) != NULL;
}

int pm__screen_fold_name(const pm_name_t *in, pm_name_t *out)
{
    int changed = 0;
    *out = *in;
    for (size_t t = 0; t < out->n; t++) {
        pm_name_token_t *tok = &out->tok[t];
        const char *cl = class_of(tok->text);
        char buf[PM_LINK_TOKEN_MAX];
        size_t l = strnlen(cl ? cl : tok->text, PM_LINK_TOKEN_MAX - 1);
        memcpy(buf, cl ? cl : tok->text, l);
        buf[l] = '\0';
        for (size_t i = 0; !cl && i < l; i++) {
            if (buf[i] == 'J') buf[i] = 'Y';
            if (buf[i] == 'W') buf[i] = 'V';
        }
        if (strcmp(buf, tok->text) != 0) {
            memcpy(tok->text, buf, l + 1);
            pm_phonetic_key(tok->text, tok->phon);
            changed = 1;
        }
    }
    return changed;
}
