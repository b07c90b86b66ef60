/* link: the incremental linker (exact, fuzzy, merges, review queue), the EM
 * estimate, and quality on a small generated population with known truth. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/link.h"
#include "perimeter/store.h"

static void mk(pm_crossing_t *c, const char *id, const char *sur, const char *given,
               const char *middle, const char *dob, char sex, const char *cit, const char *doc,
               pm_direction_t dir, int64_t t)
{
    pm_crossing_init(c);
    snprintf(c->record_id, sizeof c->record_id, "%s", id);
    snprintf(c->surname, sizeof c->surname, "%s", sur);
    snprintf(c->given_names, sizeof c->given_names, "%s", given);
    snprintf(c->middle_names, sizeof c->middle_names, "%s", middle);
    if (*dob) assert_int_equal(pm_dob_parse(dob, strlen(dob), &c->dob, NULL), PM_OK);
    c->sex = sex;
    snprintf(c->citizenship, sizeof c->citizenship, "%s", cit);
    snprintf(c->document_issuer, sizeof c->document_issuer, "%s", cit);
    snprintf(c->document_number, sizeof c->document_number, "%s", doc);
    c->direction = dir;
    c->time_utc = t;
}

static void test_exact_fuzzy_merge(void **state)
{
    (void)state;
    pm_linker_t *lk;
    pm_error_t e;
    assert_int_equal(pm_linker_new(NULL, &lk, &e), PM_OK);
    pm_crossing_t c;
    pm_link_result_t r;
    mk(&c, "1", "SMITH", "JOHN", "", "1980-05-06", 'M', "CAN", "P1000001", PM_DIRECTION_ENTRY, 100);
    assert_int_equal(pm_linker_add(lk, &c, &r, &e), PM_OK);
    assert_int_equal(r.decision, PM_LINK_NEW);
    uint32_t t1 = r.traveller;
    /* same identity again: joins without scoring */
    mk(&c, "2", "Smith", "John", "", "1980-05-06", 'M', "CAN", "P1000001", PM_DIRECTION_EXIT, 200);
    assert_int_equal(pm_linker_add(lk, &c, &r, &e), PM_OK);
    assert_int_equal(r.decision, PM_LINK_SAME);
    assert_int_equal(r.traveller, t1);
    /* OCR confusion in the document and a name-order swap: linked by score */
    mk(&c, "3", "JOHN", "SMITH", "", "1980-05-06", 'M', "CAN", "PI000OO1", PM_DIRECTION_ENTRY, 300);
    assert_int_equal(pm_linker_add(lk, &c, &r, &e), PM_OK);
    assert_int_equal(r.decision, PM_LINK_LINKED);
    assert_int_equal(r.traveller, t1);
    /* a different person with the same name, other date of birth and document */
    mk(&c, "4", "SMITH", "JOHN", "", "1980-11-23", 'M', "USA", "555000111", PM_DIRECTION_ENTRY,
       400);
    assert_int_equal(pm_linker_add(lk, &c, &r, &e), PM_OK);
    assert_true(r.decision == PM_LINK_NEW || r.decision == PM_LINK_REVIEW);
    assert_int_not_equal(r.traveller, t1);
    /* a spelling variant with a day/month swap on a new passport: a second traveller */
    mk(&c, "5", "SMYTHE", "JON", "", "1980-06-05", 'M', "GBR", "GB7777777", PM_DIRECTION_ENTRY,
       500);
    assert_int_equal(pm_linker_add(lk, &c, &r, &e), PM_OK);
    uint32_t t2 = r.traveller;
    assert_int_not_equal(t2, t1);
    size_t before = pm_linker_traveller_count(lk);
    /* the bridging record: John Smith's identity on the GBR passport -> merge */
    mk(&c, "6", "SMITH", "JOHN", "", "1980-05-06", 'M', "GBR", "GB7777777", PM_DIRECTION_EXIT, 600);
    assert_int_equal(pm_linker_add(lk, &c, &r, &e), PM_OK);
    assert_int_equal(r.decision, PM_LINK_LINKED);
    assert_int_equal(r.merged, 1);
    assert_int_equal(pm_linker_traveller_count(lk), before - 1);
    assert_int_equal(pm_linker_traveller(lk, 0), pm_linker_traveller(lk, 4));
    assert_int_equal(pm_linker_merge_count(lk), 1);
    const pm_link_merge_t *mg = pm_linker_merges(lk);
    assert_int_equal(mg[0].record, 5);
    assert_true(mg[0].kept == t1 || mg[0].kept == t2);
    assert_true(mg[0].score >= pm_linker_model(lk)->link_threshold);
    /* the other John Smith stays apart */
    assert_int_not_equal(pm_linker_traveller(lk, 3), pm_linker_traveller(lk, 0));
    pm_linker_free(lk);
}

static void test_compare_records(void **state)
{
    (void)state;
    pm_crossing_t a, b;
    mk(&a, "1", "Al-Rashid", "Omar", "", "1979-03-04", 'M', "JOR", "K1234508", PM_DIRECTION_ENTRY,
       1);
    mk(&b, "2", "OMAR", "RASHID", "", "1979-04-03", 'M', "JOR", "KI2345O8", PM_DIRECTION_EXIT, 2);
    pm_link_model_t m;
    pm_link_model_default(&m);
    pm_link_evidence_t ev;
    pm_error_t e;
    assert_int_equal(pm_link_compare(&a, &b, &m, &ev, &e), PM_OK);
    assert_int_equal(ev.level[PM_LF_NAME], 0); /* particle dropped, order swapped */
    assert_int_equal(ev.level[PM_LF_DOB], PM_DOB_SWAP);
    assert_int_equal(ev.level[PM_LF_SEX], 0);
    assert_int_equal(ev.level[PM_LF_CITIZENSHIP], 0);
    assert_int_equal(ev.level[PM_LF_DOC], PM_DOC_OCR);
    double w = 0;
    for (int f = 0; f < PM_LINK_FIELDS; f++)
        w += m.w[f][ev.level[f]];
    assert_true(ev.weight == w);
    assert_true(ev.weight >= m.link_threshold);
    assert_int_equal(pm_link_pattern_index(ev.level) >= 0 &&
                         pm_link_pattern_index(ev.level) < PM_LINK_PATTERNS,
                     1);
    assert_string_equal(pm_link_level_name(PM_LF_DOC, PM_DOC_OCR), "ocr-confusion");
    assert_string_equal(pm_link_field_name(PM_LF_CITIZENSHIP), "citizenship");
    /* a different person */
    mk(&b, "3", "NGUYEN", "THI", "", "1990-12-12", 'F', "VNM", "C7777777", PM_DIRECTION_EXIT, 3);
    assert_int_equal(pm_link_compare(&a, &b, &m, &ev, &e), PM_OK);
    assert_true(ev.weight < m.review_threshold);
}

static void test_review_queue(void **state)
{
    (void)state;
    pm_linker_t *lk;
    pm_error_t e;
    assert_int_equal(pm_linker_new(NULL, &lk, &e), PM_OK);
    pm_crossing_t c;
    pm_link_result_t r;
    mk(&c, "1", "IVANOV", "PETR", "", "1975-01-01", 'M', "RUS", "700000001", PM_DIRECTION_ENTRY, 1);
    assert_int_equal(pm_linker_add(lk, &c, &r, &e), PM_OK);
    /* same name, placeholder date in the same year, another passport: uncertain */
    mk(&c, "2", "IVANOV", "PETR", "", "1975-09-14", 'M', "RUS", "711111112", PM_DIRECTION_ENTRY, 2);
    assert_int_equal(pm_linker_add(lk, &c, &r, &e), PM_OK);
    assert_int_equal(r.decision, PM_LINK_REVIEW);
    assert_int_equal(pm_linker_review_count(lk), 1);
    const pm_link_review_t *rv = pm_linker_reviews(lk);
    assert_int_equal(rv[0].record, 1);
    assert_int_equal(rv[0].candidate, 0);
    assert_int_equal(rv[0].evidence.level[PM_LF_DOB], PM_DOB_PARTIAL);
    assert_int_equal(rv[0].evidence.level[PM_LF_DOC], PM_DOC_DISAGREE);
    assert_int_equal(rv[0].evidence.level[PM_LF_NAME], 0);
    pm_linker_free(lk);
}

static void link_all(pm_store_t *st)
{
    pm_error_t e;
    pm_linker_t *lk = NULL;
    assert_int_equal(pm_linker_new(NULL, &lk, &e), PM_OK);
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_STORE_ID;
    pm_crossing_iter_t *it = NULL;
    assert_int_equal(pm_store_crossings(st, &f, &it, &e), PM_OK);
    pm_crossing_t *c = malloc(sizeof *c);
    assert_non_null(c);
    while (pm_crossing_iter_next(it, c, &e) == 1)
        assert_int_equal(pm_linker_add(lk, c, NULL, &e), PM_OK);
    free(c);
    pm_crossing_iter_close(it);
    assert_int_equal(pm_link_store_save(st, lk, &e), PM_OK);
    pm_linker_free(lk);
}

/* The evidence of the links the linker made itself, persisted when it made
 * them and read back per traveller (pm_link_store_links): the OCR/name-order
 * record linked by score, the bridging record's link and merge, none for a
 * record with the same identity fields, each once after two runs. */
static void test_link_evidence_store(void **state)
{
    (void)state;
    char *dir = pm_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/link.db", dir);
    pm_store_t *st = NULL;
    pm_error_t e;
    assert_int_equal(pm_store_open(path, NULL, &st, &e), PM_OK);
    int64_t r1 = pm_test_put_crossing(st, "R1", "2026-01-01T10:00:00Z", "SMITH", "JOHN",
                                      "1980-05-06", "CAN", "P1000001");
    pm_test_put_crossing(st, "R2", "2026-01-05T10:00:00Z", "SMITH", "JOHN", "1980-05-06", "CAN",
                         "P1000001");
    int64_t r3 = pm_test_put_crossing(st, "R3", "2026-02-01T10:00:00Z", "JOHN", "SMITH",
                                      "1980-05-06", "CAN", "PI000OO1");
    pm_test_put_crossing(st, "R4", "2026-03-01T10:00:00Z", "SMYTHE", "JON", "1980-06-05", "GBR",
                         "GB7777777");
    int64_t r5 = pm_test_put_crossing(st, "R5", "2026-04-01T10:00:00Z", "SMITH", "JOHN",
                                      "1980-05-06", "GBR", "GB7777777");
    link_all(st);
    link_all(st); /* a second run replaces the evidence: each link listed once */
    pm_link_map_t *map = NULL;
    uint32_t trav = 0;
    assert_int_equal(pm_link_map_load(st, &map, &e), PM_OK);
    assert_int_equal(pm_link_map_traveller(map, r1, &trav), PM_OK);
    pm_link_map_free(map);
    pm_link_evidence_row_t *rows = NULL;
    size_t n = 0;
    assert_int_equal(pm_link_store_links(st, trav, &rows, &n, &e), PM_OK);
    pm_link_model_t m;
    pm_link_model_default(&m);
    int seen_link3 = 0, seen_merge5 = 0;
    for (size_t i = 0; i < n; i++) {
        print_message("link %lld -> %lld %s %.2f (%s) %s at %s run %lld\n",
                      (long long)rows[i].crossing_id, (long long)rows[i].candidate_id, rows[i].how,
                      rows[i].score, rows[i].rule, rows[i].fields, rows[i].at,
                      (long long)rows[i].run);
        assert_true(rows[i].score >= m.link_threshold);
        assert_true(rows[i].threshold == m.link_threshold);
        assert_true(rows[i].run > 0);
        assert_int_equal(strlen(rows[i].at), 20);
        json_error_t je;
        json_t *f = json_loads(rows[i].fields, 0, &je);
        assert_non_null(f);
        assert_int_equal(json_array_size(f), PM_LINK_FIELDS + 1);
        double sum = 0;
        for (int k = 0; k < PM_LINK_FIELDS; k++)
            sum += json_real_value(json_object_get(json_array_get(f, k), "weight"));
        if (rows[i].crossing_id == r3) {
            seen_link3++;
            assert_string_equal(rows[i].how, "link");
            assert_int_equal(rows[i].candidate_id, r1);
            /* name order swapped: the same token set; the document's OCR confusion */
            assert_string_equal(
                json_string_value(json_object_get(json_array_get(f, PM_LF_DOC), "level")),
                pm_link_level_name(PM_LF_DOC, PM_DOC_OCR));
            assert_true(sum > rows[i].score - 0.05 && sum < rows[i].score + 0.05);
            assert_non_null(strstr(rows[i].rule, "link threshold"));
        }
        if (rows[i].crossing_id == r5 && strcmp(rows[i].how, "merge") == 0) seen_merge5++;
        assert_true(rows[i].crossing_id != r1); /* the first record is linked to nothing */
        json_decref(f);
    }
    assert_int_equal(seen_link3, 1);
    assert_int_equal(seen_merge5, 1);
    free(rows);
    pm_store_close(st);
    pm_test_rmdir(dir);
    free(dir);
}

/* ---- a small generated population with ground truth ---- */

static const char *const given_pool[] = {
    "JOHN",   "MARY",  "AHMED",  "FATIMA", "OLEKSANDR", "OLGA",  "WEI",   "MARIA",
    "JOSE",   "ANNA",  "PETER",  "SARAH",  "OMAR",      "LAYLA", "IVAN",  "NATALIA",
    "DAVID",  "EMMA",  "HASSAN", "AISHA",  "MICHAEL",   "LINDA", "YUSUF", "SOFIA",
    "PIERRE", "CHLOE", "RAJ",    "PRIYA",  "KENJI",     "YUKI"};
static const char *const surname_pool[] = {
    "SMITH",   "JOHNSON",   "NGUYEN",   "GARCIA",     "AL HASSAN", "IVANOV",     "KOWALSKI",
    "MUELLER", "TREMBLAY",  "ROY",      "GAGNON",     "WANG",      "LI",         "PATEL",
    "SINGH",   "BIN LADEN", "VAN DIJK", "DE LA CRUZ", "ROSSI",     "SHEVCHENKO", "KHAN",
    "OKAFOR",  "MENSAH",    "SILVA",    "SANTOS",     "JENSEN",    "NIELSEN",    "MARTIN",
    "BERNARD", "DUBOIS",    "LAMBERT",  "FOURNIER",   "MOREAU",    "PETROV",     "SOKOLOV",
    "HADDAD",  "MANSOUR",   "SALEH",    "YILMAZ",     "KAYA"};
static const char *const middle_pool[] = {"", "", "", "JAMES", "ANNE", "ALI", "MARIE", "LEE"};

typedef struct person {
    char sur[64], given[32], middle[32];
    pm_dob_t dob;
    char sex;
    char cit[4];
    char doc[21];
} person_t;

static void gen_person(uint64_t *rng, uint32_t id, person_t *p)
{
    snprintf(p->sur, sizeof p->sur, "%s",
             surname_pool[pm_test_rand(rng) % (sizeof surname_pool / sizeof *surname_pool)]);
    snprintf(p->given, sizeof p->given, "%s",
             given_pool[pm_test_rand(rng) % (sizeof given_pool / sizeof *given_pool)]);
    snprintf(p->middle, sizeof p->middle, "%s",
             middle_pool[pm_test_rand(rng) % (sizeof middle_pool / sizeof *middle_pool)]);
    p->dob.year = (int16_t)(1940 + pm_test_rand(rng) % 65);
    p->dob.month = (uint8_t)(1 + pm_test_rand(rng) % 12);
    p->dob.day = (uint8_t)(2 + pm_test_rand(rng) % 27);
    p->sex = pm_test_rand(rng) % 2 ? 'M' : 'F';
    static const char *const cits[] = {"CAN", "USA", "MEX", "IND", "CHN", "UKR"};
    snprintf(p->cit, sizeof p->cit, "%s", cits[pm_test_rand(rng) % 6]);
    snprintf(p->doc, sizeof p->doc, "%c%07u", 'A' + (int)(pm_test_rand(rng) % 26), id * 7 + 1000);
}

/* 10% of records carry one kind of noise. */
static void noisy(uint64_t *rng, const person_t *p, pm_crossing_t *c)
{
    if (pm_test_rand(rng) % 10) return;
    size_t l;
    switch (pm_test_rand(rng) % 6) {
    case 0: /* typo: transpose two letters of the surname */
        l = strlen(c->surname);
        if (l > 3) {
            char t = c->surname[1];
            c->surname[1] = c->surname[2];
            c->surname[2] = t;
        }
        break;
    case 1: /* name order swap */
        snprintf(c->surname, sizeof c->surname, "%s", p->given);
        snprintf(c->given_names, sizeof c->given_names, "%s", p->sur);
        break;
    case 2: /* dropped middle name */
        c->middle_names[0] = '\0';
        break;
    case 3: /* day/month swap */
        if (c->dob.day <= 12) {
            uint8_t t = c->dob.day;
            c->dob.day = c->dob.month;
            c->dob.month = t;
        }
        break;
    case 4: /* OCR confusion */
        for (char *q = c->document_number + 1; *q; q++)
            if (*q == '0') {
                *q = 'O';
                break;
            } else if (*q == '1') {
                *q = 'I';
                break;
            }
        break;
    default: /* placeholder date of birth */
        c->dob.month = 1;
        c->dob.day = 1;
        break;
    }
}

static void test_generated_quality(void **state)
{
    (void)state;
    enum { PEOPLE = 3000 };
    static person_t people[PEOPLE];
    static uint32_t truth[PEOPLE * 12];
    uint64_t rng = 42;
    for (uint32_t i = 0; i < PEOPLE; i++)
        gen_person(&rng, i, &people[i]);
    pm_linker_t *lk;
    pm_error_t e;
    assert_int_equal(pm_linker_new(NULL, &lk, &e), PM_OK);
    size_t n = 0;
    for (int round = 0; round < 6; round++)
        for (uint32_t i = 0; i < PEOPLE; i++) {
            if (pm_test_rand(&rng) % 3 == 0) continue;
            const person_t *p = &people[i];
            pm_crossing_t c;
            char id[16];
            snprintf(id, sizeof id, "r%zu", n);
            char dob[16];
            pm_dob_format(&p->dob, dob);
            mk(&c, id, p->sur, p->given, p->middle, dob, p->sex, p->cit, p->doc,
               round % 2 ? PM_DIRECTION_EXIT : PM_DIRECTION_ENTRY, round * 1000 + i);
            noisy(&rng, p, &c);
            assert_int_equal(pm_linker_add(lk, &c, NULL, &e), PM_OK);
            truth[n++] = i;
        }
    /* pairwise precision / recall over all record pairs (n is small) */
    uint64_t tp = 0, fp = 0, fn = 0;
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++) {
            int same = truth[a] == truth[b];
            int linked =
                pm_linker_traveller(lk, (uint32_t)a) == pm_linker_traveller(lk, (uint32_t)b);
            tp += same && linked;
            fp += !same && linked;
            fn += same && !linked;
        }
    double precision = (double)tp / (double)(tp + fp), recall = (double)tp / (double)(tp + fn);
    print_message(
        "generated: %zu records, %zu travellers, precision %.4f recall %.4f, %zu reviews\n", n,
        pm_linker_traveller_count(lk), precision, recall, pm_linker_review_count(lk));
    assert_true(precision >= 0.995);
    assert_true(recall >= 0.98);

    /* EM on the compared pairs gives weights of the right signs */
    pm_link_model_t m;
    pm_link_model_default(&m);
    assert_int_equal(pm_link_model_em(pm_linker_pattern_counts(lk), &m, &e), PM_OK);
    assert_true(m.em_iterations > 0);
    assert_true(m.w[PM_LF_NAME][0] > 0);
    assert_true(m.w[PM_LF_DOB][PM_DOB_EXACT] > 3);
    assert_true(m.w[PM_LF_DOB][PM_DOB_DISAGREE] < 0);
    assert_true(m.w[PM_LF_DOC][PM_DOC_EXACT] > 3);
    assert_true(m.w[PM_LF_DOB][PM_DOB_MISSING] == 0);
    assert_true(m.p_match > 0 && m.p_match < 1);
    pm_linker_free(lk);

    uint64_t few[PM_LINK_PATTERNS] = {0};
    few[0] = 5;
    assert_int_equal(pm_link_model_em(few, &m, &e), PM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_fuzzy_merge), cmocka_unit_test(test_compare_records),
        cmocka_unit_test(test_review_queue),      cmocka_unit_test(test_link_evidence_store),
        cmocka_unit_test(test_generated_quality),
    };
    return PM_RUN_TESTS("link", tests, NULL, NULL);
}
