/* synth: countries (traffic weights, name cultures, passport number shapes,
 * time zones), land ports between the two partners, and the transliteration
 * variant tables used by the noise model. All numbers are approximations
 * chosen for realistic-looking data, not official statistics (docs/synth.md). */
#include <stdio.h>
#include <string.h>

#include "synth/synth_int.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Culture mixes; index = culture_mix_id of a country. */
static const pm__culture_mix_t mixes[] = {
    /* 0 CAN */
    {{"anglo", "french", "chinese", "hindi", "filipino", "arabic", "italian", "south_asian"},
     {56, 21, 6, 6, 3, 3, 3, 2}},
    /* 1 USA */
    {{"anglo", "hispanic", "chinese", "hindi", "korean", "vietnamese", "filipino", "arabic"},
     {65, 19, 3, 3, 2, 2, 2, 1}},
    /* 2 */ {{"hispanic"}, {1}},
    /* 3 IND */ {{"hindi", "south_asian"}, {85, 15}},
    /* 4 */ {{"chinese"}, {1}},
    /* 5 */ {{"filipino"}, {1}},
    /* 6 GBR */ {{"anglo", "south_asian", "hindi", "polish"}, {85, 7, 5, 3}},
    /* 7 FRA */ {{"french", "arabic", "portuguese"}, {85, 12, 3}},
    /* 8 DEU */ {{"german", "turkish", "polish"}, {85, 10, 5}},
    /* 9 */ {{"korean"}, {1}},
    /* 10 */ {{"japanese"}, {1}},
    /* 11 */ {{"vietnamese"}, {1}},
    /* 12 */ {{"south_asian"}, {1}},
    /* 13 */ {{"persian"}, {1}},
    /* 14 BRA */ {{"portuguese", "italian", "german"}, {90, 5, 5}},
    /* 15 */ {{"italian"}, {1}},
    /* 16 */ {{"anglo"}, {1}},
    /* 17 */ {{"french"}, {1}},
    /* 18 */ {{"nigerian"}, {1}},
    /* 19 */ {{"russian"}, {1}},
    /* 20 UKR */ {{"ukrainian", "russian"}, {85, 15}},
    /* 21 */ {{"arabic"}, {1}},
    /* 22 */ {{"polish"}, {1}},
    /* 23 */ {{"portuguese"}, {1}},
    /* 24 */ {{"greek"}, {1}},
    /* 25 */ {{"turkish"}, {1}},
    /* 26 NLD */ {{"dutch", "turkish", "arabic"}, {90, 5, 5}},
    /* 27 AUS */ {{"anglo", "chinese", "greek", "italian"}, {85, 7, 4, 4}},
    /* 28 ISR */ {{"hebrew", "russian", "arabic"}, {75, 15, 10}},
    /* 29 XXA stateless */
    {{"arabic", "persian", "south_asian", "russian", "vietnamese"}, {40, 20, 20, 10, 10}},
    /* 30 XXB refugee */
    {{"arabic", "persian", "nigerian", "south_asian", "ukrainian"}, {40, 30, 10, 10, 10}},
    /* 31 */ {{"german"}, {1}},
    /* 32 */ {{"dutch"}, {1}},
};

/* code, weight (per mille of all travellers; the two partners share the
 * rest), culture mix, zone (minutes), dst, passport number shape,
 * placeholder-birthday %, issues sex X. Shapes: 'A' letter, '9' digit, 'X'
 * either; alternatives separated by '|'. */
static const pm__country_t countries[] = {
    {"CAN", 0, 0, -300, PM__DST_NA, "AA999999", 1, 1},
    {"USA", 0, 1, -300, PM__DST_NA, "999999999|A99999999", 1, 1},
    {"MEX", 22, 2, -360, PM__DST_NONE, "A99999999", 2, 0},
    {"IND", 18, 3, 330, PM__DST_NONE, "A9999999", 4, 1},
    {"CHN", 13, 4, 480, PM__DST_NONE, "E99999999", 1, 0},
    {"PHL", 9, 5, 480, PM__DST_NONE, "P9999999A", 2, 0},
    {"GBR", 8, 6, 0, PM__DST_EU, "999999999", 1, 0},
    {"FRA", 5, 7, 60, PM__DST_EU, "99AA99999", 1, 0},
    {"DEU", 5, 8, 60, PM__DST_EU, "CXXXXXXXX", 1, 1},
    {"KOR", 4, 9, 540, PM__DST_NONE, "M99999999", 1, 0},
    {"JPN", 3, 10, 540, PM__DST_NONE, "AA9999999", 1, 0},
    {"VNM", 3, 11, 420, PM__DST_NONE, "A9999999", 6, 0},
    {"PAK", 3, 12, 300, PM__DST_NONE, "AA9999999", 12, 1},
    {"IRN", 2.5, 13, 210, PM__DST_NONE, "A99999999", 3, 0},
    {"BRA", 2, 14, -180, PM__DST_NONE, "AA999999", 1, 0},
    {"ITA", 2, 15, 60, PM__DST_EU, "AA9999999", 1, 0},
    {"ESP", 1.5, 2, 60, PM__DST_EU, "AAA999999", 1, 0},
    {"JAM", 1.5, 16, -300, PM__DST_NONE, "A9999999", 3, 0},
    {"COL", 1.5, 2, -300, PM__DST_NONE, "AA999999", 2, 0},
    {"HTI", 1, 17, -300, PM__DST_NA, "AA9999999", 8, 0},
    {"NGA", 1.5, 18, 60, PM__DST_NONE, "A99999999", 10, 0},
    {"RUS", 1.5, 19, 180, PM__DST_NONE, "999999999", 1, 0},
    {"UKR", 2, 20, 120, PM__DST_EU, "AA999999", 1, 0},
    {"SYR", 1, 21, 180, PM__DST_NONE, "999999999", 15, 0},
    {"EGY", 1, 21, 120, PM__DST_NONE, "A99999999", 5, 0},
    {"LBN", 1, 21, 120, PM__DST_EU, "AA9999999", 5, 0},
    {"SAU", 0.8, 21, 180, PM__DST_NONE, "A9999999", 5, 0},
    {"IRQ", 0.8, 21, 180, PM__DST_NONE, "A99999999", 20, 0},
    {"AFG", 0.8, 13, 270, PM__DST_NONE, "P99999999", 40, 0},
    {"MAR", 0.8, 21, 60, PM__DST_NONE, "AA9999999", 8, 0},
    {"POL", 1.2, 22, 60, PM__DST_EU, "AA9999999", 1, 0},
    {"PRT", 1, 23, 0, PM__DST_EU, "AA999999", 1, 0},
    {"GRC", 0.8, 24, 120, PM__DST_EU, "AA9999999", 1, 0},
    {"TUR", 1, 25, 180, PM__DST_NONE, "U99999999", 3, 0},
    {"BGD", 1, 12, 360, PM__DST_NONE, "AA9999999", 12, 0},
    {"NLD", 1, 26, 60, PM__DST_EU, "AAXXXXXX9", 1, 1},
    {"AUS", 1.5, 27, 600, PM__DST_NONE, "PA9999999", 1, 1},
    {"ISR", 0.8, 28, 120, PM__DST_NONE, "99999999", 1, 0},
    {"IRL", 0.8, 16, 0, PM__DST_EU, "AA9999999", 1, 0},
    {"AUT", 0.5, 31, 60, PM__DST_EU, "A9999999", 1, 1},
    {"BEL", 0.5, 17, 60, PM__DST_EU, "AA999999", 1, 0},
    {"CHE", 0.6, 31, 60, PM__DST_EU, "A9999999", 1, 0},
    {"NZL", 0.4, 16, 720, PM__DST_NONE, "AA999999", 1, 1},
    {"XXA", 0.3, 29, 0, PM__DST_NONE, "", 35, 0},
    {"XXB", 0.5, 30, 0, PM__DST_NONE, "", 35, 0},
};

const pm__country_t *pm__country_find(const char *code)
{
    for (size_t i = 0; i < COUNT(countries); i++)
        if (strcmp(countries[i].code, code) == 0) return &countries[i];
    return NULL;
}

size_t pm__country_count(void)
{
    return COUNT(countries);
}

const pm__country_t *pm__country_at(size_t i)
{
    return i < COUNT(countries) ? &countries[i] : NULL;
}

const pm__culture_mix_t *pm__culture_mix(const char *code)
{
    const pm__country_t *c = pm__country_find(code);
    if (!c || c->culture_mix_id >= COUNT(mixes)) return &mixes[16];
    return &mixes[c->culture_mix_id];
}

/* ---------------- ports ----------------
 * Canada-US pairs, side[0] Canadian, side[1] US. The US codes follow the style
 * of CBP's four-digit port codes; the Canadian ones are our own four-character
 * codes. Both are illustrative. Weights loosely follow the relative size of
 * the crossings (the Detroit-Windsor and Niagara corridors lead). */
#define PST (-480)
#define MST (-420)
#define CST (-360)
#define EST (-300)
#define AST (-240)
#define NA  PM__DST_NA
static const pm__port_pair_t can_usa[] = {
    {{{"WND1", "Windsor ON", EST, NA}, {"3801", "Detroit MI", EST, NA}}, 20, {97, 0, 1, 2, 0}},
    {{{"FTE1", "Fort Erie / Niagara Falls ON", EST, NA},
      {"0901", "Buffalo-Niagara Falls NY", EST, NA}},
     18,
     {92, 0, 5, 3, 0}},
    {{{"DGL1", "Douglas / Pacific Highway BC", PST, NA}, {"3004", "Blaine WA", PST, NA}},
     14,
     {95, 0, 2, 3, 0}},
    {{{"LCL1", "Lacolle QC", EST, NA}, {"0712", "Champlain NY", EST, NA}}, 7, {96, 0, 0, 4, 0}},
    {{{"SRN1", "Sarnia ON", EST, NA}, {"3802", "Port Huron MI", EST, NA}}, 6, {100, 0, 0, 0, 0}},
    {{{"LSD1", "Lansdowne ON", EST, NA}, {"0708", "Alexandria Bay NY", EST, NA}},
     4,
     {100, 0, 0, 0, 0}},
    {{{"STS1", "St. Stephen NB", AST, NA}, {"0115", "Calais ME", EST, NA}}, 3, {90, 0, 10, 0, 0}},
    {{{"CTS1", "Coutts AB", MST, NA}, {"3310", "Sweetgrass MT", MST, NA}}, 2, {100, 0, 0, 0, 0}},
    {{{"EMR1", "Emerson MB", CST, NA}, {"3401", "Pembina ND", CST, NA}}, 2, {100, 0, 0, 0, 0}},
    {{{"FTF1", "Fort Frances ON", CST, NA}, {"3604", "International Falls MN", CST, NA}},
     1,
     {95, 0, 5, 0, 0}},
    {{{"SSM1", "Sault Ste. Marie ON", EST, NA}, {"3803", "Sault Ste. Marie MI", EST, NA}},
     3,
     {100, 0, 0, 0, 0}},
    {{{"VIC1", "Victoria BC", PST, NA}, {"3007", "Port Angeles WA", PST, NA}},
     1,
     {0, 100, 0, 0, 0}},
    {{{"STN1", "Stanstead QC", EST, NA}, {"0209", "Derby Line VT", EST, NA}}, 1, {90, 0, 10, 0, 0}},
    {{{"OSY1", "Osoyoos BC", PST, NA}, {"3019", "Oroville WA", PST, NA}}, 1, {100, 0, 0, 0, 0}},
    {{{"HTG1", "Huntingdon BC", PST, NA}, {"3009", "Sumas WA", PST, NA}}, 3, {100, 0, 0, 0, 0}},
    {{{"YYZ1", "Toronto Pearson Airport", EST, NA}, {"4701", "New York JFK Airport", EST, NA}},
     2,
     {0, 0, 0, 0, 100}},
    {{{"YVR1", "Vancouver Airport", PST, NA}, {"3029", "Seattle-Tacoma Airport", PST, NA}},
     1,
     {0, 0, 0, 0, 100}},
};

size_t pm__port_pairs(const char *a, const char *b, pm__port_pair_t *buf, size_t cap,
                      char codes[][17])
{
    int can_usa_pair = (strcmp(a, "CAN") == 0 && strcmp(b, "USA") == 0);
    int usa_can_pair = (strcmp(a, "USA") == 0 && strcmp(b, "CAN") == 0);
    if (can_usa_pair || usa_can_pair) {
        size_t n = COUNT(can_usa) < cap ? COUNT(can_usa) : cap;
        for (size_t i = 0; i < n; i++) {
            buf[i] = can_usa[i];
            if (usa_can_pair) {
                buf[i].side[0] = can_usa[i].side[1];
                buf[i].side[1] = can_usa[i].side[0];
            }
        }
        return n;
    }
    /* Any other pair: eight generic land ports per side, in each country's
     * typical zone, codes <first two letters of the country><nn>. */
    const pm__country_t *ca = pm__country_find(a), *cb = pm__country_find(b);
    static const double w[] = {20, 15, 12, 10, 8, 6, 4, 2};
    size_t n = COUNT(w) < cap ? COUNT(w) : cap;
    for (size_t i = 0; i < n; i++) {
        snprintf(codes[2 * i], 17, "%.2s%02zu", a, i + 1);
        snprintf(codes[2 * i + 1], 17, "%.2s%02zu", b, i + 1);
        buf[i] = (pm__port_pair_t){
            {{codes[2 * i], "", (int16_t)(ca ? ca->std_offset_min : 0), ca ? ca->dst : 0},
             {codes[2 * i + 1], "", (int16_t)(cb ? cb->std_offset_min : 0), cb ? cb->dst : 0}},
            w[i],
            {i == 0 ? 80 : 95, 0, i == 0 ? 10 : 5, i == 0 ? 10 : 0, 0}};
    }
    return n;
}

/* ---------------- transliteration variants ----------------
 * Groups of spellings of one name seen across documents and systems
 * (Arabic, Persian, Russian/Ukrainian, German, Chinese and Korean examples).
 * Each group is a NULL-terminated list. */
static const char *const variant_groups[][8] = {
    {"MOHAMMED", "MUHAMMAD", "MOHAMED", "MOHAMMAD", "MUHAMMED", "MOHAMAD", "MOHAMMET", NULL},
    {"AHMED", "AHMAD", "AHMET", "AHMADU", NULL},
    {"HUSSEIN", "HUSSAIN", "HUSAIN", "HOSSEIN", "HUSEYIN", NULL},
    {"HASSAN", "HASAN", "HASSANE", NULL},
    {"YOUSEF", "YUSUF", "YOUSSEF", "YOUSIF", "YUSEF", "JOSEF", NULL},
    {"ABDULLAH", "ABDALLAH", "ABDULA", "ABDOULLAH", NULL},
    {"OMAR", "UMAR", "OMER", NULL},
    {"IBRAHIM", "EBRAHIM", "IBRAGIM", NULL},
    {"MUSTAFA", "MOSTAFA", "MUSTAPHA", NULL},
    {"KHALED", "KHALID", "HALED", NULL},
    {"FATIMA", "FATMA", "FATIMAH", "FATEMEH", "FATIMATA", NULL},
    {"AISHA", "AYESHA", "AICHA", "AISHAH", NULL},
    {"ZAINAB", "ZEINAB", "ZAYNAB", NULL},
    {"MAHMOUD", "MAHMUD", "MAHMOOD", NULL},
    {"YASSER", "YASIR", "YASER", NULL},
    {"SAEED", "SAID", "SAYED", NULL},
    {"NASSER", "NASIR", "NASER", NULL},
    {"ABDELRAHMAN", "ABDULRAHMAN", "ABDEL RAHMAN", "ABDURRAHMAN", NULL},
    {"SULEIMAN", "SULAIMAN", "SULEYMAN", "SOLIMAN", NULL},
    {"KHOURY", "KHOURI", "KHURI", "HOURY", NULL},
    {"QASSEM", "KASSEM", "QASIM", "GHASEM", NULL},
    {"SERGEI", "SERGEY", "SERGEJ", "SERGIY", NULL},
    {"ALEKSANDR", "ALEXANDER", "ALEKSANDER", "ALEXANDR", NULL},
    {"ALEKSEI", "ALEXEY", "ALEKSEY", "ALEXEI", NULL},
    {"ANDREI", "ANDREY", "ANDREJ", NULL},
    {"DMITRII", "DMITRY", "DMITRIY", "DMITRI", NULL},
    {"EVGENII", "YEVGENY", "EVGENY", "EVGENIY", "YEVGENIY", NULL},
    {"IURII", "YURI", "YURIY", "IURI", "JURIJ", NULL},
    {"NIKOLAI", "NIKOLAY", "NICOLAI", NULL},
    {"IULIIA", "YULIA", "JULIA", "IULIA", "YULIYA", NULL},
    {"TATIANA", "TATYANA", "TATJANA", NULL},
    {"NATALIA", "NATALYA", "NATALIYA", "NATALJA", NULL},
    {"MARIIA", "MARIYA", "MARIA", NULL},
    {"KSENIIA", "KSENIA", "XENIA", "KSENIYA", NULL},
    {"ANASTASIIA", "ANASTASIA", "ANASTASIYA", NULL},
    {"LIUDMILA", "LYUDMILA", "LUDMILA", NULL},
    {"MIKHAIL", "MIKHAIL", "MIHAIL", "MICHAIL", NULL},
    {"FEDOROV", "FYODOROV", "FEDOROFF", NULL},
    {"SEMENOV", "SEMYONOV", "SEMIONOV", NULL},
    {"SOLOVEV", "SOLOVYOV", "SOLOVIEV", "SOLOVYEV", NULL},
    {"KOVALEV", "KOVALYOV", "KOVALIOV", NULL},
    {"VASILEV", "VASILIEV", "VASILYEV", NULL},
    {"OLEKSANDR", "OLEXANDR", "ALEKSANDR", NULL},
    {"SERHII", "SERHIY", "SERGII", NULL},
    {"VOLODYMYR", "VOLODIMIR", "VLADIMIR", NULL},
    {"MUELLER", "MULLER", "MILLER", NULL},
    {"SCHROEDER", "SCHRODER", NULL},
    {"KRUEGER", "KRUGER", NULL},
    {"SCHAEFER", "SCHAFER", NULL},
    {"KOEHLER", "KOHLER", NULL},
    {"JUERGEN", "JURGEN", NULL},
    {"ZHANG", "CHANG", "CHEUNG", NULL},
    {"ZHOU", "CHOU", "CHOW", NULL},
    {"XU", "HSU", "HSI", NULL},
    {"CHEN", "CHAN", "TAN", NULL},
    {"HUANG", "WONG", "HWANG", NULL},
    {"WU", "NG", "GOH", NULL},
    {"ZHAO", "CHAO", "CHIU", NULL},
    {"LEE", "LI", "YI", "RHEE", NULL},
    {"PARK", "PAK", "BAK", NULL},
    {"CHOI", "CHOE", NULL},
    {"JUNG", "CHUNG", "JEONG", NULL},
    {"KIM", "GIM", NULL},
    {"NGUYEN", "NGUYN", "NGUEN", NULL},
    {"SANTOS", "DOS SANTOS", NULL},
    {"SILVA", "DA SILVA", "DE SILVA", NULL},
    {"HARPREET", "HARPRIT", NULL},
    {"POOJA", "PUJA", NULL},
    {"DEEPAK", "DIPAK", NULL},
    {"CHAUDHARY", "CHOUDHARY", "CHAUDHRY", "CHOWDHURY", NULL},
    {"MOUSAVI", "MUSAVI", "MOUSSAVI", NULL},
    {"HOSSEINI", "HOSEINI", "HUSSEINI", NULL},
    {"REZAEI", "REZAIE", "REZAI", NULL},
    {"YAAKOV", "YAKOV", "JACOB", "YAACOV", NULL},
    {"YOSEF", "YOSSEF", "JOSEF", NULL},
    {"GEORGIOS", "GIORGOS", "YORGOS", NULL},
    {"IOANNIS", "YIANNIS", "GIANNIS", NULL},
};

/* Spelling rules that map one transliteration convention onto another. */
static const char *const rules[][2] = {
    {"KH", "H"}, {"IIA", "IA"}, {"IIA", "IYA"}, {"IU", "YU"},  {"IA", "YA"}, {"SKII", "SKY"},
    {"II", "Y"}, {"II", "IY"},  {"EI", "EY"},   {"AI", "AY"},  {"OU", "U"},  {"OO", "U"},
    {"EE", "I"}, {"UE", "U"},   {"OE", "O"},    {"AE", "A"},   {"J", "Y"},   {"Y", "J"},
    {"PH", "F"}, {"TH", "T"},   {"CK", "K"},    {"SCH", "SH"}, {"Q", "K"},   {"DH", "D"},
    {"GH", "G"}, {"SH", "S"},   {"W", "V"},     {"X", "KS"},   {"TS", "C"},  {"ZH", "J"},
};

int pm__translit_variant(pm__rng_t *r, const char *token, char *out, size_t out_cap)
{
    for (size_t g = 0; g < COUNT(variant_groups); g++) {
        size_t n = 0, self = SIZE_MAX;
        while (n < 8 && variant_groups[g][n]) {
            if (strcmp(variant_groups[g][n], token) == 0) self = n;
            n++;
        }
        if (self != SIZE_MAX && n > 1) {
            size_t pick = pm__rng_below(r, (uint32_t)(n - 1));
            if (pick >= self) pick++;
            pm__strlcpy(out, variant_groups[g][pick], out_cap);
            return 1;
        }
    }
    /* rules: collect those that apply, pick one, replace its first occurrence */
    size_t applicable[COUNT(rules)];
    size_t na = 0;
    for (size_t i = 0; i < COUNT(rules); i++)
        if (strstr(token, rules[i][0])) applicable[na++] = i;
    if (na == 0) return 0;
    size_t i = applicable[pm__rng_below(r, (uint32_t)na)];
    const char *at = strstr(token, rules[i][0]);
    size_t pre = (size_t)(at - token);
    size_t fl = strlen(rules[i][0]), tl = strlen(rules[i][1]);
    if (pre + tl + strlen(at + fl) + 1 > out_cap) return 0;
    memcpy(out, token, pre);
    memcpy(out + pre, rules[i][1], tl);
    pm__strlcpy(out + pre + tl, at + fl, out_cap - pre - tl);
    return strcmp(out, token) != 0;
}

static const char *const particles[] = {"AL",  "EL",  "BIN", "IBN", "ABU",  "BEN", "VAN", "VON",
                                        "DE",  "DER", "DEN", "DEL", "DELA", "LA",  "LOS", "DA",
                                        "DOS", "DAS", "DI",  "DU",  "LE",   "ABD"};

int pm__is_particle(const char *token, size_t len)
{
    for (size_t i = 0; i < COUNT(particles); i++)
        if (strlen(particles[i]) == len && memcmp(particles[i], token, len) == 0) return 1;
    return 0;
}
