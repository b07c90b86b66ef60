/* link: name normalisation, ICAO transliteration, particles, phonetic keys and
 * the comparators, on known values. */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "perimeter/link.h"

static void norm_is(const char *in, const char *want)
{
    char out[PM_LINK_NAME_MAX];
    pm_error_t e;
    assert_int_equal(pm_name_icao(in, strlen(in), out, sizeof out, &e), PM_OK);
    assert_string_equal(out, want);
}

static int has_variant(const pm_name_variants_t *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i], s) == 0) return 1;
    return 0;
}

static void test_normalize_latin(void **state)
{
    (void)state;
    norm_is("José", "JOSE");
    norm_is("Müller", "MUELLER");
    norm_is("Mu\xcc\x88"
            "ller",
            "MUELLER"); /* decomposed U + combining diaeresis */
    norm_is("O'Brien", "OBRIEN");
    norm_is("O\xe2\x80\x99"
            "Brien",
            "OBRIEN");
    norm_is("  al-Hassan   bin  Omar ", "AL HASSAN BIN OMAR");
    norm_is("Łukasz Żółć", "LUKASZ ZOLC");
    norm_is("Strauß", "STRAUSS");
    norm_is("Ærø Þór", "AEROE THOR");
    norm_is("", "");
    pm_name_variants_t v;
    pm_error_t e;
    assert_int_equal(pm_name_variants("Müller", strlen("Müller"), &v, &e), PM_OK);
    assert_string_equal(v.v[0], "MUELLER");
    assert_true(has_variant(&v, "MULLER"));
    assert_true(has_variant(&v, "MUXXLLER"));
    assert_int_equal(v.n, 3);
    assert_int_equal(pm_name_variants("Peña", strlen("Peña"), &v, &e), PM_OK);
    assert_string_equal(v.v[0], "PENA");
    assert_true(has_variant(&v, "PENXXA"));
}

static void test_normalize_cyrillic_arabic(void **state)
{
    (void)state;
    norm_is("Александр", "ALEKSANDR");
    norm_is("Хрущёв", "KHRUSHCHEV");
    norm_is("ЮЛИЯ", "IULIIA");
    norm_is("Щербаков Ольга", "SHCHERBAKOV OLGA");
    pm_name_variants_t v;
    pm_error_t e;
    const char *yulia = "Юлия";
    assert_int_equal(pm_name_variants(yulia, strlen(yulia), &v, &e), PM_OK);
    assert_string_equal(v.v[0], "IULIIA");
    assert_true(has_variant(&v, "YULIYA"));
    assert_true(has_variant(&v, "YULIIA"));
    assert_true(has_variant(&v, "IULIYA"));
    assert_int_equal(v.n, 4);
    const char *hryhorii = "Григорій"; /* Ukrainian: Г may be H */
    assert_int_equal(pm_name_variants(hryhorii, strlen(hryhorii), &v, &e), PM_OK);
    assert_string_equal(v.v[0], "GRIGORII");
    assert_true(has_variant(&v, "HRIHORII"));
    /* Arabic: ICAO escapes first, plain transcription among the variants */
    const char *mhmd = "محمد";
    assert_int_equal(pm_name_variants(mhmd, strlen(mhmd), &v, &e), PM_OK);
    assert_string_equal(v.v[0], "MXHMD");
    assert_true(has_variant(&v, "MHMD"));
    norm_is("فاطمة", "FAXTTMXAH"); /* teh marbuta at the end: XAH */
    norm_is("خالد", "XKHALD");
    /* invalid UTF-8 and oversized input are refused with a code */
    char out[PM_LINK_NAME_MAX];
    assert_int_equal(pm_name_icao("\xff\xfe", 2, out, sizeof out, &e), PM_EUTF8);
    char big[PM_LINK_INPUT_MAX + 2];
    memset(big, 'A', sizeof big);
    assert_int_equal(pm_name_icao(big, sizeof big, out, sizeof out, &e), PM_ELIMIT);
    /* a long name is cut at a token boundary */
    char small[8];
    assert_int_equal(pm_name_icao("ANNA MARIA", 10, small, sizeof small, &e), PM_OK);
    assert_string_equal(small, "ANNA");
}

static void test_particles_tokens(void **state)
{
    (void)state;
    pm_name_t n;
    pm_error_t e;
    assert_int_equal(pm_name_parse("Al-Hassan", "Omar", "bin Khalid", &n, &e), PM_OK);
    assert_int_equal(n.n, 5);
    assert_string_equal(n.tok[0].text, "AL");
    assert_true(n.tok[0].flags & PM_TOK_PARTICLE);
    assert_string_equal(n.tok[1].text, "HASSAN");
    assert_false(n.tok[1].flags & PM_TOK_PARTICLE);
    assert_int_equal(n.tok[2].part, PM_NAME_GIVEN);
    assert_true(n.tok[3].flags & PM_TOK_PARTICLE); /* BIN */
    assert_int_equal(n.tok[4].part, PM_NAME_MIDDLE);
    assert_true(pm_name_is_particle("VAN"));
    assert_true(pm_name_is_particle("DE"));
    assert_true(pm_name_is_particle("IBN"));
    assert_false(pm_name_is_particle("HASSAN"));
    /* Arabic tokens use the escape-free transcription and split the article */
    assert_int_equal(pm_name_parse("الفرج", "محمد", NULL, &n, &e), PM_OK);
    assert_int_equal(n.n, 3);
    assert_string_equal(n.tok[0].text, "AL");
    assert_true(n.tok[0].flags & PM_TOK_PARTICLE);
    assert_string_equal(n.tok[1].text, "FRJ");
    assert_string_equal(n.tok[2].text, "MHMD");
    char icao[PM_LINK_NAME_MAX];
    assert_int_equal(pm_name_icao("الفرج", strlen("الفرج"), icao, sizeof icao, &e), PM_OK);
    assert_string_equal(icao, "ALFRJ"); /* the ICAO form keeps the article joined */
    /* only particles: kept as core tokens */
    assert_int_equal(pm_name_parse("De", "La", NULL, &n, &e), PM_OK);
    assert_int_equal(n.n, 2);
    assert_false(n.tok[0].flags & PM_TOK_PARTICLE);
}

static void key_is(const char *tok, const char *want)
{
    char k[PM_LINK_PHON_MAX];
    pm_phonetic_key(tok, k);
    assert_string_equal(k, want);
}

static void same_key(const char *a, const char *b)
{
    char ka[PM_LINK_PHON_MAX], kb[PM_LINK_PHON_MAX];
    pm_phonetic_key(a, ka);
    pm_phonetic_key(b, kb);
    if (strcmp(ka, kb) != 0) fail_msg("%s -> %s but %s -> %s", a, ka, b, kb);
}

static void test_phonetic(void **state)
{
    (void)state;
    key_is("MOHAMMED", "MMT");
    same_key("MOHAMMED", "MUHAMMAD");
    same_key("MOHAMED", "MUHAMMAD");
    same_key("YOUSSEF", "YUSUF");
    same_key("PHILIP", "FILIP");
    same_key("KHALED", "HALID");
    same_key("SCHMIDT", "SHMIDT");
    same_key("ALEKSANDR", "ALEXANDR");
    same_key("GAMAL", "JAMAL");
    key_is("SMITH", "SMT");
    key_is("", "");
    char a[PM_LINK_PHON_MAX], b[PM_LINK_PHON_MAX];
    pm_phonetic_key("SMITH", a);
    pm_phonetic_key("JONES", b);
    assert_string_not_equal(a, b);
    pm_phonetic_key("ABCDEFGHIJKLMNOPQRSTUVWXYZBCDFG", a);
    assert_true(strlen(a) <= PM_LINK_PHON_MAX - 1);
}

static void test_jaro_winkler_known(void **state)
{
    (void)state;
    /* Winkler's published examples */
    assert_true(fabs(pm_jaro("MARTHA", "MARHTA") - 0.944444) < 1e-5);
    assert_true(fabs(pm_jaro_winkler("MARTHA", "MARHTA") - 0.961111) < 1e-5);
    assert_true(fabs(pm_jaro_winkler("DWAYNE", "DUANE") - 0.84) < 1e-5);
    assert_true(fabs(pm_jaro("DIXON", "DICKSONX") - 0.766667) < 1e-5);
    assert_true(fabs(pm_jaro_winkler("DIXON", "DICKSONX") - 0.813333) < 1e-5);
    assert_true(pm_jaro_winkler("ABC", "ABC") == 1.0);
    assert_true(pm_jaro_winkler("ABC", "XYZ") == 0.0);
    assert_true(pm_jaro_winkler("", "") == 1.0);
    assert_true(pm_jaro_winkler("A", "") == 0.0);
}

static void test_osa_known(void **state)
{
    (void)state;
    assert_int_equal(pm_osa_distance("KITTEN", "SITTING"), 3);
    assert_int_equal(pm_osa_distance("ABCD", "ACBD"), 1); /* one transposition */
    assert_int_equal(pm_osa_distance("CA", "ABC"), 3);    /* OSA, true DL gives 2 */
    assert_int_equal(pm_osa_distance("", "ABC"), 3);
    assert_int_equal(pm_osa_distance("SAME", "SAME"), 0);
    assert_int_equal(pm_osa_distance("FLAW", "LAWN"), 2);
}

static double sim(const char *s1, const char *g1, const char *m1, const char *s2, const char *g2,
                  const char *m2, int *matched)
{
    pm_name_t a, b;
    assert_int_equal(pm_name_parse(s1, g1, m1, &a, NULL), PM_OK);
    assert_int_equal(pm_name_parse(s2, g2, m2, &b, NULL), PM_OK);
    return pm_name_similarity(&a, &b, matched);
}

static void test_token_set(void **state)
{
    (void)state;
    int m;
    assert_true(sim("SMITH", "JOHN", "", "JOHN", "SMITH", "", &m) == 1.0); /* swap */
    assert_int_equal(m, 2);
    double s = sim("SMITH", "JOHN", "PAUL", "SMITH", "JOHN", "", &m); /* dropped middle */
    assert_true(fabs(s - 0.97) < 1e-9);
    assert_int_equal(m, 2);
    s = sim("AL-RASHID", "OMAR", "", "RASHID", "OMAR", "", &m); /* dropped particle */
    assert_true(s == 1.0);
    s = sim("ABDULRAHMAN", "ALI", "", "ABDUL RAHMAN", "ALI", "", &m); /* split token */
    assert_true(s == 1.0);
    s = sim("HASSAN", "MOHAMMED", "", "HASAN", "MUHAMMAD", "", &m); /* transcription */
    assert_true(s > 0.9);
    assert_int_equal(m, 2);
    s = sim("THOMAS", "RICHARD", "", "RICHARDSON", "THOMAS", "", &m); /* prefix, not a name */
    assert_true(s < 0.93);
    s = sim("عباس", "سارة", "علي", "ABBAS", "SARA", "ALI", &m); /* script vs Latin */
    assert_true(s >= 0.9);
    assert_int_equal(m, 3);
    s = sim("ELFARAG", "MOHAMMED", "", "الفرج", "محمد", "", &m);
    assert_true(s >= 0.9);
    s = sim("ROY", "JOSEE", "", "ORY", "JOSEE", "", &m); /* one transposition */
    assert_true(s >= 0.95);
    s = sim("ROY", "JOSEE", "", "RAY", "JOSEE", "", &m); /* another name */
    assert_true(s < 0.95);
    s = sim("SMITH", "JOHN", "", "NGUYEN", "THI", "", &m);
    assert_true(s < 0.6);
    assert_int_equal(m, 0);
    s = sim("", "", "", "SMITH", "", "", &m);
    assert_true(s == 0.0);
}

static pm_dob_t dobs[64];
static size_t ndobs;
static const pm_dob_t *d(const char *s)
{
    pm_dob_t *out = &dobs[ndobs++ % 64];
    memset(out, 0, sizeof *out);
    if (*s) assert_int_equal(pm_dob_parse(s, strlen(s), out, NULL), PM_OK);
    return out;
}

static void test_dob_levels(void **state)
{
    (void)state;
    assert_int_equal(pm_dob_compare(d("1980-03-15"), d("1980-03-15")), PM_DOB_EXACT);
    assert_int_equal(pm_dob_compare(d("1980-03-04"), d("1980-04-03")), PM_DOB_SWAP);
    assert_int_equal(pm_dob_compare(d("1980-03-15"), d("1980-03-16")), PM_DOB_DAY1);
    assert_int_equal(pm_dob_compare(d("1980-04-30"), d("1980-05-01")), PM_DOB_DAY1);
    assert_int_equal(pm_dob_compare(d("1980-02-29"), d("1980-03-01")), PM_DOB_DAY1);
    assert_int_equal(pm_dob_compare(d("1980-03-15"), d("1980-03-25")), PM_DOB_YEARMONTH);
    assert_int_equal(pm_dob_compare(d("1980-03-15"), d("1981-03-15")), PM_DOB_YEAR1);
    assert_int_equal(pm_dob_compare(d("1980-03-15"), d("1980-03")), PM_DOB_PARTIAL);
    assert_int_equal(pm_dob_compare(d("1980"), d("1980-07-02")), PM_DOB_PARTIAL);
    assert_int_equal(pm_dob_compare(d("1980-01-01"), d("1980-07-02")), PM_DOB_PARTIAL);
    assert_int_equal(pm_dob_compare(d("1980-01-01"), d("1981-07-02")), PM_DOB_DISAGREE);
    assert_int_equal(pm_dob_compare(d("1980-03"), d("1980-04")), PM_DOB_DISAGREE);
    assert_int_equal(pm_dob_compare(d("1980-03-15"), d("1975-09-02")), PM_DOB_DISAGREE);
    assert_int_equal(pm_dob_compare(d(""), d("1975-09-02")), PM_DOB_MISSING);
    assert_string_equal(pm_dob_level_name(PM_DOB_SWAP), "day-month-swap");
}

static void test_docnum(void **state)
{
    (void)state;
    assert_int_equal(pm_docnum_compare("AB123456", "AB123456"), PM_DOC_EXACT);
    assert_int_equal(pm_docnum_compare("AB123456", "A8123456"), PM_DOC_OCR);
    assert_int_equal(pm_docnum_compare("X0I5", "XO15"), PM_DOC_OCR);
    assert_int_equal(pm_docnum_compare("AB123456", "AB123465"), PM_DOC_EDIT1);
    assert_int_equal(pm_docnum_compare("AB123456", "AB12345"), PM_DOC_EDIT1);
    assert_int_equal(pm_docnum_compare("AB123456", "ZZ999999"), PM_DOC_DISAGREE);
    assert_int_equal(pm_docnum_compare("", "ZZ999999"), PM_DOC_MISSING);
    char f[16];
    pm_docnum_ocr_fold("BOSI7", f, sizeof f);
    assert_string_equal(f, "80517");
}

/* Scripts without an ICAO table, romanised on request (PM_NAME_ROMANISE):
 * Devanagari by rule with Hindi schwa deletion, Han as pinyin (a name part as
 * one word, surnames with their surname reading), Hangul; without the flag
 * they stay untransliterated (no tokens). */
static void parse_is(const char *sur, const char *giv, const char *want)
{
    pm_name_t n;
    pm_error_t e;
    assert_int_equal(pm_name_parse_ex(sur, giv, NULL, PM_NAME_ROMANISE, &n, &e), PM_OK);
    char got[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < n.n; i++) {
        size_t l = strlen(n.tok[i].text);
        assert_true(len + l + 2 < sizeof got);
        if (len) got[len++] = ' ';
        memcpy(got + len, n.tok[i].text, l + 1);
        len += l;
    }
    assert_string_equal(got, want);
}

static void test_romanise(void **state)
{
    (void)state;
    /* Devanagari: inherent vowel, final and medial schwa deletion, clusters,
     * anusvara (N, M before a labial, NG before H), nukta */
    parse_is("शर्मा", "राहुल", "SHARMA RAHUL");
    parse_is("सिंह", "हरप्रीत", "SINGH HARPRIT");
    parse_is("पांडे", "अंजलि", "PANDE ANJALI");
    parse_is("कुमार", "आरती", "KUMAR ARTI");
    parse_is("भट्ट", "आदित्य", "BHATT ADITYA");
    parse_is("कविता", "करण", "KAVITA KARAN");
    parse_is("संभव", "ज़फ़र", "SAMBHAV ZAFAR");
    /* Han: pinyin, a given name as one word, the surname reading of 单 and 曾 */
    parse_is("王", "思琪", "WANG SIQI");
    parse_is("单", "晓明", "SHAN XIAOMING");
    parse_is("曾", "志强", "ZENG ZHIQIANG");
    /* Hangul (Revised Romanisation) */
    parse_is("최", "예은", "CHOE YEEUN");
    /* tables still win: Latin, Cyrillic */
    parse_is("Müller", "Пётр", "MUELLER PETR");
    /* without the flag: no tokens, as before */
    pm_name_t n;
    pm_error_t e;
    assert_int_equal(pm_name_parse("王", "思琪", NULL, &n, &e), PM_OK);
    assert_int_equal(n.n, 0);
    /* a romanised name matches its Latin spelling */
    pm_name_t a, b;
    assert_int_equal(pm_name_parse_ex("मिश्रा", "दीपक", NULL, PM_NAME_ROMANISE, &a, &e), PM_OK);
    assert_int_equal(pm_name_parse("MISHRA", "DEEPAK", NULL, &b, &e), PM_OK);
    assert_true(pm_name_similarity(&a, &b, NULL) >= 0.95);
    /* long runs and mixed scripts are bounded and do not fail */
    char big[PM_LINK_INPUT_MAX + 1];
    size_t bl = 0;
    while (bl + 3 <= PM_LINK_INPUT_MAX) {
        memcpy(big + bl, "王", 3);
        bl += 3;
    }
    big[bl] = '\0';
    assert_int_equal(pm_name_parse_ex(big, "a सि 최", NULL, PM_NAME_ROMANISE, &n, &e), PM_OK);
    assert_true(n.n >= 1);
    /* random mixes of Devanagari (signs, viramas and nuktas in odd places),
     * Han, Hangul, kana and marks: always parsed, tokens are A-Z only */
    static const uint32_t pool[] = {0x0915, 0x094D, 0x093C, 0x093F, 0x0902, 0x0903, 0x0905,
                                    0x0939, 0x092E, 0x0958, 0x0962, 0x0900, 0x097F, 0x4E00,
                                    0x738B, 0x20000, 0xAC00, 0xD7A3, 0x30AE, 0x0301, 0x0020,
                                    0x0041, 0x05E9, 0x03B1, 0x0E01, 0x1100};
    uint64_t r = 0x9E3779B97F4A7C15ull;
    for (int it = 0; it < 300; it++) {
        char buf[PM_LINK_INPUT_MAX + 1];
        size_t rl = 0;
        int len = 1 + (int)(r % 60);
        for (int k = 0; k < len; k++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            uint32_t c = pool[r % (sizeof pool / sizeof pool[0])];
            char u[4];
            size_t ul = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
            if (ul == 1) u[0] = (char)c;
            else if (ul == 2) u[0] = (char)(0xC0 | c >> 6), u[1] = (char)(0x80 | (c & 0x3F));
            else if (ul == 3)
                u[0] = (char)(0xE0 | c >> 12), u[1] = (char)(0x80 | (c >> 6 & 0x3F)),
                u[2] = (char)(0x80 | (c & 0x3F));
            else
                u[0] = (char)(0xF0 | c >> 18), u[1] = (char)(0x80 | (c >> 12 & 0x3F)),
                u[2] = (char)(0x80 | (c >> 6 & 0x3F)), u[3] = (char)(0x80 | (c & 0x3F));
            if (rl + ul > PM_LINK_INPUT_MAX) break;
            memcpy(buf + rl, u, ul);
            rl += ul;
        }
        buf[rl] = '\0';
        assert_int_equal(pm_name_parse_ex(buf, buf, NULL, PM_NAME_ROMANISE, &n, &e), PM_OK);
        for (size_t t = 0; t < n.n; t++)
            for (const char *q = n.tok[t].text; *q; q++)
                assert_true(*q >= 'A' && *q <= 'Z');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_latin),
        cmocka_unit_test(test_normalize_cyrillic_arabic),
        cmocka_unit_test(test_particles_tokens),
        cmocka_unit_test(test_phonetic),
        cmocka_unit_test(test_jaro_winkler_known),
        cmocka_unit_test(test_osa_known),
        cmocka_unit_test(test_token_set),
        cmocka_unit_test(test_dob_levels),
        cmocka_unit_test(test_docnum),
        cmocka_unit_test(test_romanise),
    };
    return PM_RUN_TESTS("link_names", tests, NULL, NULL);
}
