/* Concurrent inserts, deletes and searches on one gallery: run under
 * ThreadSanitizer by `make tsan` (label threads).
 * ctest-label: threads */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "perimeter/gallery.h"

#define SEED 77
#define BASE 400
#define ROUNDS 60

typedef struct shared {
    pm_gallery_t *g;
    pm_fingerprint_t *views; /* BASE + ROUNDS impressions 0, and probes */
    pm_fingerprint_t *probes;
    int failures;
    pthread_mutex_t mu;
} shared_t;

static void note_failure(shared_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->failures++;
    pthread_mutex_unlock(&s->mu);
}

static void *writer(void *arg)
{
    shared_t *s = arg;
    pm_error_t err = {0};
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t id = 100000 + (uint64_t)r;
        if (pm_gallery_insert(s->g, id, 1, 1, &s->views[BASE + r], &err))
            note_failure(s);
        if (r % 3 == 2 && pm_gallery_delete_subject(s->g, id - 1, NULL, &err))
            note_failure(s);
        if (r % 10 == 0) {
            uint64_t members[2] = {id, 5};
            if (pm_gallery_subset_set(s->g, "flight", members, 2, &err))
                note_failure(s);
        }
    }
    return NULL;
}

static void *searcher(void *arg)
{
    shared_t *s = arg;
    pm_error_t err = {0};
    for (int r = 0; r < 12; r++) {
        pm_gallery_finger_t f = {0, &s->probes[r % 6]};
        pm_gallery_candidate_t c[10];
        size_t n = 0;
        pm_gallery_search_options_t o = {.max_candidates = 10, .first_stage = r & 1};
        if (pm_gallery_identify(s->g, &f, 1, &o, c, &n, NULL, &err))
            note_failure(s);
        /* the probe's mate (never deleted) must stay findable throughout */
        else if (!(o.first_stage) && (n == 0 || c[0].subject != (uint64_t)(r % 6) * 50))
            note_failure(s);
        pm_gallery_candidate_t v;
        if (pm_gallery_verify(s->g, (uint64_t)(r % 6) * 50, &f, 1, &v, &err))
            note_failure(s);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    shared_t s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    pm_error_t err = {0};
    pm_gallery_options_t go = {.threads = 2};
    assert_int_equal(pm_gallery_new(&go, &s.g, &err), 0);
    s.views = malloc((BASE + ROUNDS) * sizeof *s.views);
    s.probes = malloc(6 * sizeof *s.probes);
    pm_fingerprint_t *m = malloc(sizeof *m);
    assert_non_null(s.views);
    assert_non_null(s.probes);
    assert_non_null(m);
    for (int i = 0; i < BASE + ROUNDS; i++) {
        pm_gallery_synth_master(SEED, (uint64_t)i, m);
        pm_gallery_synth_impression(m, SEED, (uint64_t)i, 0, NULL, &s.views[i]);
        if (i < BASE)
            assert_int_equal(pm_gallery_insert(s.g, (uint64_t)i, 1, 1, &s.views[i], &err), 0);
        if (i < 300 && i % 50 == 0)
            pm_gallery_synth_impression(m, SEED, (uint64_t)i, 1, NULL, &s.probes[i / 50]);
    }
    pthread_t w, q1, q2;
    assert_int_equal(pthread_create(&w, NULL, writer, &s), 0);
    assert_int_equal(pthread_create(&q1, NULL, searcher, &s), 0);
    assert_int_equal(pthread_create(&q2, NULL, searcher, &s), 0);
    pthread_join(w, NULL);
    pthread_join(q1, NULL);
    pthread_join(q2, NULL);
    assert_int_equal(s.failures, 0);
    /* 60 inserted, 20 of them deleted */
    assert_int_equal(pm_gallery_count(s.g), BASE + ROUNDS - ROUNDS / 3);
    pm_gallery_free(s.g);
    free(s.views);
    free(s.probes);
    free(m);
    pthread_mutex_destroy(&s.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_concurrent)};
    return PM_RUN_TESTS("gallery_threads", tests, NULL, NULL);
}
