/* Gallery engine: identify among decoys, delete, verify, fusion, subsets,
 * snapshot round trip and corruption, store rebuild. Data: synthetic
 * templates (pm_gallery_synth_*), generated here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>
#include <math.h>

#include "testutil.h"

#include "perimeter/gallery.h"
#include "perimeter/match.h"
#include "perimeter/store.h"
#include "gallery/gallery_internal.h"

#define SEED 20261204u
#define DECOYS 3000

/* n synthetic fingers at positions 1..10 in turn, subject 1000 + i /
 * per_subject (1: a subject per finger; 10: ten-print subjects). */
static pm_gallery_t *make_gallery_subjects(size_t n, int threads, size_t per_subject)
{
    pm_gallery_options_t go = {.threads = threads};
    pm_gallery_t *g = NULL;
    pm_error_t err = {0};
    assert_int_equal(pm_gallery_new(&go, &g, &err), 0);
    pm_fingerprint_t *master = malloc(sizeof *master), *imp = malloc(sizeof *imp);
    assert_non_null(master);
    assert_non_null(imp);
    for (size_t i = 0; i < n; i++) {
        pm_gallery_synth_master(SEED, i, master);
        pm_gallery_synth_impression(master, SEED, i, 0, NULL, imp);
        int rc = pm_gallery_insert(g, 1000 + i / per_subject, 1, (int)(i % 10) + 1, imp, &err);
        assert_int_equal(rc, 0);
    }
    free(master);
    free(imp);
    return g;
}

static pm_gallery_t *make_gallery(size_t n, int threads) { return make_gallery_subjects(n, threads, 1); }

static void probe_of(size_t i, uint32_t impression, pm_fingerprint_t *out)
{
    pm_fingerprint_t *master = malloc(sizeof *master);
    assert_non_null(master);
    pm_gallery_synth_master(SEED, i, master);
    pm_gallery_synth_impression(master, SEED, i, impression, NULL, out);
    free(master);
}

static void test_identify_among_decoys(void **state)
{
    (void)state;
    pm_gallery_t *g = make_gallery(DECOYS, 2);
    pm_error_t err = {0};
    pm_fingerprint_t *p = malloc(sizeof *p);
    assert_non_null(p);
    int found_exh = 0, found_fs = 0, tries = 20;
    for (int t = 0; t < tries; t++) {
        size_t who = (size_t)(t * 149 + 7) % DECOYS;
        probe_of(who, 1, p);
        pm_gallery_finger_t f = {0, p};
        pm_gallery_candidate_t c[5];
        size_t n = 0;
        pm_gallery_search_options_t o = {.max_candidates = 5};
        pm_gallery_search_stats_t st;
        assert_int_equal(pm_gallery_identify(g, &f, 1, &o, c, &n, &st, &err), 0);
        assert_int_equal(st.records_scanned, DECOYS);
        assert_int_equal(st.records_exact, DECOYS);
        found_exh += n > 0 && c[0].subject == 1000 + who;
        o.first_stage = 1;
        assert_int_equal(pm_gallery_identify(g, &f, 1, &o, c, &n, &st, &err), 0);
        assert_int_equal(st.records_exact, 200); /* keep_min, ties cut */
        found_fs += n > 0 && c[0].subject == 1000 + who;
    }
    print_message("found: exhaustive %d/%d, first stage %d/%d\n", found_exh, tries, found_fs, tries);
    /* measured at SEED: exhaustive 20/20; first stage (the fast comparison,
     * keeping 200 of 3000) 20/20 (18/20 before near-miss hypotheses were
     * re-checked turned); the gate sits just under so a regression shows */
    assert_true(found_exh >= tries - 1);
    assert_true(found_fs >= tries - 1);

    /* delete removes the subject: the same probe no longer finds it */
    size_t who = 7;
    probe_of(who, 1, p);
    pm_gallery_finger_t f = {0, p};
    pm_gallery_candidate_t c[5];
    size_t n = 0, removed = 0;
    pm_gallery_search_options_t o = {.max_candidates = 5};
    assert_int_equal(pm_gallery_identify(g, &f, 1, &o, c, &n, NULL, &err), 0);
    assert_true(n > 0);
    assert_int_equal(c[0].subject, 1000 + who);
    assert_int_equal(pm_gallery_delete_subject(g, 1000 + who, &removed, &err), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(pm_gallery_count(g), DECOYS - 1);
    assert_int_equal(pm_gallery_identify(g, &f, 1, &o, c, &n, NULL, &err), 0);
    for (size_t i = 0; i < n; i++)
        assert_true(c[i].subject != 1000 + who);
    assert_int_equal(pm_gallery_delete_subject(g, 1000 + who, &removed, &err), PM_ENOTFOUND);

    /* verify: mate high, another subject low */
    probe_of(11, 2, p);
    pm_gallery_candidate_t v;
    assert_int_equal(pm_gallery_verify(g, 1011, &f, 1, &v, &err), 0);
    assert_true(v.score > 30);
    assert_int_equal(pm_gallery_verify(g, 1012, &f, 1, &v, &err), 0);
    assert_true(v.score < 30);
    assert_int_equal(pm_gallery_verify(g, 1000 + who, &f, 1, &v, &err), PM_ENOTFOUND);

    /* a subset limits the search: the mate outside it is not returned */
    uint64_t members[] = {1012, 1013, 1014};
    assert_int_equal(pm_gallery_subset_set(g, "flight", members, 3, &err), 0);
    o.subset = "flight";
    assert_int_equal(pm_gallery_identify(g, &f, 1, &o, c, &n, NULL, &err), 0);
    for (size_t i = 0; i < n; i++)
        assert_true(c[i].subject >= 1012 && c[i].subject <= 1014);
    o.subset = "nope";
    assert_int_equal(pm_gallery_identify(g, &f, 1, &o, c, &n, NULL, &err), PM_ENOTFOUND);

    /* duplicates and bad input */
    probe_of(11, 0, p);
    assert_int_equal(pm_gallery_insert(g, 1011, 1, 2, p, &err), PM_EEXISTS);
    assert_int_equal(pm_gallery_insert(g, 1011, 1, 11, p, &err), PM_ERANGE);
    free(p);
    pm_gallery_free(g);
}

/* One search split over two worker threads (the 4096-row chunks of both
 * stages shared between them) returns exactly what one thread returns:
 * same candidates, same scores, same number of exact comparisons (ties at
 * the first-stage cutoff are admitted in row order, not in the order the
 * workers finish). 9,000 records = 3 chunks. */
static void test_two_threads_identical(void **state)
{
    (void)state;
    enum { N = 9000 };
    pm_gallery_t *g1 = make_gallery(N, 1), *g2 = make_gallery(N, 2);
    pm_error_t err = {0};
    pm_fingerprint_t *p = malloc(sizeof *p);
    assert_non_null(p);
    int found = 0;
    for (int t = 0; t < 6; t++) {
        size_t who = (size_t)(t * 1499 + 11) % N;
        probe_of(who, 1, p);
        /* unknown position, then the right one; keep_min varies the cutoff */
        pm_gallery_finger_t f = {t % 2 ? (int)(who % 10) + 1 : 0, p};
        pm_gallery_search_options_t o = {.max_candidates = 20, .first_stage = 1,
                                         .keep_min = t < 3 ? 200 : 37};
        pm_gallery_candidate_t c1[20], c2[20];
        size_t n1 = 0, n2 = 0;
        pm_gallery_search_stats_t s1, s2;
        assert_int_equal(pm_gallery_identify(g1, &f, 1, &o, c1, &n1, &s1, &err), 0);
        assert_int_equal(pm_gallery_identify(g2, &f, 1, &o, c2, &n2, &s2, &err), 0);
        assert_int_equal(n1, n2);
        assert_true(n1 > 0);
        assert_int_equal(s1.records_exact, s2.records_exact);
        for (size_t i = 0; i < n1; i++) {
            assert_true(c1[i].subject == c2[i].subject);
            assert_true(c1[i].score == c2[i].score);
        }
        found += c1[0].subject == 1000 + who;
    }
    assert_true(found >= 5); /* the searches compared were real ones */
    free(p);
    pm_gallery_free(g1);
    pm_gallery_free(g2);
}

/* The fast comparison's vector (AVX2) and portable paths give the same
 * scores (fixed-point arithmetic), so a search does not depend on the CPU;
 * and a mate scores above the impostors. */
/* Impression 0 of synthetic fingers 0..n-1 packed as gallery records (the
 * fast comparison's input), for the tests that call it directly, with a
 * view and a probe to work with. */
static void pack_records(size_t n, uint32_t **minu, uint16_t **keys, uint8_t *nmin, uint8_t *nk,
                         pm_fingerprint_t **v, pm__gal_probe_t **p)
{
    *minu = calloc(n * PM_GALLERY_MAX_MINUTIAE, sizeof **minu);
    *keys = calloc(n * PM_GALLERY_KEYS, sizeof **keys);
    *v = malloc(sizeof **v);
    *p = malloc(sizeof **p);
    assert_non_null(*minu);
    assert_non_null(*keys);
    assert_non_null(*v);
    assert_non_null(*p);
    for (size_t i = 0; i < n; i++) {
        probe_of(i, 0, *v);
        pm__gal_pack_view(*v, *minu + i * PM_GALLERY_MAX_MINUTIAE, &nmin[i],
                          *keys + i * PM_GALLERY_KEYS, &nk[i]);
    }
}

static void test_fast_paths_identical(void **state)
{
    (void)state;
    enum { N = 400 };
    uint32_t *minu = NULL;
    uint16_t *keys = NULL;
    uint8_t nmin[N], nk[N];
    pm_fingerprint_t *v = NULL;
    pm__gal_probe_t *p = NULL;
    pack_records(N, &minu, &keys, nmin, nk, &v, &p);
    int differ = 0, compared = 0, mate_first = 0, serial_differ = 0;
    int gate_differ = 0, gate_mate_first = 0, hyp_open = 0, hyp_gated = 0;
    int hits_differ = 0, hits_total = 0;
    for (size_t q = 0; q < 6; q++) {
        size_t who = q * 61 + 5;
        probe_of(who, 1, v);
        pm__gal_probe_build(v, p);
        int has_vector = p->avx2;
        int best = 0, best_row = -1, gbest = 0, gbest_row = -1;
        for (size_t r = 0; r < N; r++) {
            p->avx2 = 0;
            int a = pm__gal_fast_score(p, keys + r * PM_GALLERY_KEYS, minu + r * PM_GALLERY_MAX_MINUTIAE,
                                       nk[r], nmin[r]);
            assert_true(a >= 1 && a <= 255);
            /* the batched key look-up checks the hits in the order the
             * serial one did: the same score */
            p->scan_serial = 1;
            int s = pm__gal_fast_score(p, keys + r * PM_GALLERY_KEYS,
                                       minu + r * PM_GALLERY_MAX_MINUTIAE, nk[r], nmin[r]);
            p->scan_serial = 0;
            serial_differ += a != s;
            if (has_vector) {
                p->avx2 = 1;
                int b = pm__gal_fast_score(p, keys + r * PM_GALLERY_KEYS,
                                           minu + r * PM_GALLERY_MAX_MINUTIAE, nk[r], nmin[r]);
                differ += a != b;
                compared++;
                /* the same key hits in the same order, also for key counts
                 * that are not a multiple of the vector's eight */
                static const int cuts[] = {0, 1, 7, 8, 9, 13, 39, 40};
                for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
                    int nkc = cuts[c] < nk[r] ? cuts[c] : nk[r];
                    uint16_t hv[PM_GALLERY_KEYS * PM__GAL_MAP_SLOTS], hp[PM_GALLERY_KEYS * PM__GAL_MAP_SLOTS];
                    p->avx2 = 1;
                    int nv = pm__gal_fast_hits(p, keys + r * PM_GALLERY_KEYS,
                                               minu + r * PM_GALLERY_MAX_MINUTIAE, nkc, hv);
                    p->avx2 = 0;
                    int np = pm__gal_fast_hits(p, keys + r * PM_GALLERY_KEYS,
                                               minu + r * PM_GALLERY_MAX_MINUTIAE, nkc, hp);
                    hits_differ += nv != np || memcmp(hv, hp, (size_t)np * sizeof hp[0]) != 0;
                    hits_total += np;
                }
            }
            if (a > best)
                best = a, best_row = (int)r;
            /* the pair gate: the same scores on both paths */
            p->pair_gate = 1;
            p->avx2 = 0;
            int ga = pm__gal_fast_score(p, keys + r * PM_GALLERY_KEYS,
                                        minu + r * PM_GALLERY_MAX_MINUTIAE, nk[r], nmin[r]);
            assert_true(ga >= 1 && ga <= 255);
            if (has_vector) {
                p->avx2 = 1;
                int gb = pm__gal_fast_score(p, keys + r * PM_GALLERY_KEYS,
                                            minu + r * PM_GALLERY_MAX_MINUTIAE, nk[r], nmin[r]);
                gate_differ += ga != gb;
            }
            p->pair_gate = 0;
            if (r != who) {
                hyp_open += a > 1;
                hyp_gated += ga > 1;
            }
            if (ga > gbest)
                gbest = ga, gbest_row = (int)r;
        }
        mate_first += best_row == (int)who;
        gate_mate_first += gbest_row == (int)who;
    }
    print_message("fast comparison: %d of %d scores differ between paths; mate first %d/6\n",
                  differ, compared, mate_first);
    print_message("pair gate: %d scores differ between paths; mate first %d/6; non-mates with a "
                  "hypothesis %d without the gate, %d with it\n",
                  gate_differ, gate_mate_first, hyp_open, hyp_gated);
    print_message("key hits: %d lists of %d hits differ between paths\n", hits_differ, hits_total);
    assert_int_equal(differ, 0);
    assert_int_equal(hits_differ, 0);
    assert_int_equal(serial_differ, 0);
    assert_true(mate_first >= 5);
    assert_int_equal(gate_differ, 0);
    assert_true(gate_mate_first >= 5);
    /* chance hits rarely agree: the gate must remove most impostor hypotheses */
    assert_true(hyp_gated * 2 < hyp_open);
    free(minu);
    free(keys);
    free(v);
    free(p);
}

/* The gallery prepares its candidates without the edge hash
 * (pm_match_prepare_candidate): the scores must be those of a full prepare. */
static void test_candidate_prepare_same_scores(void **state)
{
    (void)state;
    pm_matcher_t *m = NULL;
    pm_error_t err = {0};
    assert_int_equal(pm_matcher_new(&m, &err), 0);
    pm_fingerprint_t *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    int mated_high = 0;
    for (size_t i = 0; i < 40; i++) {
        probe_of(i, 1, a);
        probe_of(i % 2 ? i : i + 1, 0, b); /* half mated, half not */
        pm_match_template_t *ta = NULL, *tb = NULL, *tc = NULL;
        assert_int_equal(pm_match_prepare(a, &ta, &err), 0);
        assert_int_equal(pm_match_prepare(b, &tb, &err), 0);
        assert_int_equal(pm_match_prepare_candidate(b, &tc, &err), 0);
        double full = pm_match_compare(m, ta, tb, NULL);
        double cand = pm_match_compare(m, ta, tc, NULL);
        assert_true(full == cand);
        mated_high += i % 2 && full > 30;
        /* as the first argument it has no hash: nothing matches */
        assert_true(pm_match_compare(m, tc, ta, NULL) == 0);
        pm_match_template_free(ta);
        pm_match_template_free(tb);
        pm_match_template_free(tc);
    }
    assert_true(mated_high >= 18); /* the comparison above did compare something */
    free(a);
    free(b);
    pm_matcher_free(m);
}

/* A partial overlap (docs/gallery.md "Partial overlaps"): the probe holds
 * only the part of the record beyond a line that leaves three of the
 * record's 16 most central minutiae in it. The quick check on the central
 * minutiae then fails every true hit; checking such a near miss on all the
 * record's minutiae finds it. Scores equal on both paths either way. */
static void test_fast_partial_overlap(void **state)
{
    (void)state;
    uint32_t minu[PM_GALLERY_MAX_MINUTIAE];
    uint16_t keys[PM_GALLERY_KEYS];
    uint8_t nmin, nk;
    pm_fingerprint_t *v = malloc(sizeof *v), *part = malloc(sizeof *part);
    pm__gal_probe_t *p = malloc(sizeof *p);
    assert_non_null(v);
    assert_non_null(part);
    assert_non_null(p);
    int tried = 0, found_without = 0, found_with = 0, differ = 0;
    for (size_t i = 0; i < 40; i++) {
        probe_of(i * 7 + 3, 0, v);
        pm__gal_pack_view(v, minu, &nmin, keys, &nk);
        if (nmin < 32)
            continue;
        /* the line: x of the 4th rightmost central minutia */
        int xs[16];
        for (int k = 0; k < 16; k++)
            xs[k] = (int)(minu[k] & 2047);
        for (int a = 0; a < 16; a++)
            for (int b = a + 1; b < 16; b++)
                if (xs[b] > xs[a]) {
                    int t = xs[a];
                    xs[a] = xs[b];
                    xs[b] = t;
                }
        int line = (xs[2] + xs[3]) / 2 + 1;
        pm_fingerprint_t *all = malloc(sizeof *all);
        assert_non_null(all);
        pm__gal_unpack_view(minu, nmin, 0, all);
        *part = *all;
        part->count = 0;
        for (size_t k = 0; k < all->count; k++)
            if (all->minutiae[k].x > (float)line)
                part->minutiae[part->count++] = all->minutiae[k];
        free(all);
        if (part->count < 8)
            continue;
        tried++;
        pm__gal_probe_build(part, p);
        int has_vector = p->avx2;
        p->extend = 0;
        p->avx2 = 0;
        int off = pm__gal_fast_score(p, keys, minu, nk, nmin);
        p->extend = 1;
        int on = pm__gal_fast_score(p, keys, minu, nk, nmin);
        if (has_vector) {
            p->avx2 = 1;
            differ += pm__gal_fast_score(p, keys, minu, nk, nmin) != on;
            p->extend = 0;
            differ += pm__gal_fast_score(p, keys, minu, nk, nmin) != off;
        }
        found_without += off > 1;
        found_with += on > 1;
    }
    print_message("partial overlaps: %d probes, a hypothesis for %d without checking near misses "
                  "on every minutia, %d with it\n",
                  tried, found_without, found_with);
    assert_true(tried >= 20);
    assert_int_equal(differ, 0);
    assert_true(found_with >= found_without + tried / 2);
    free(v);
    free(part);
    free(p);
}

/* The near-miss check with the record's centre in view (extend 2, the
 * default): a sparse probe (fewer than PM__GAL_EXT_DENSE minutiae) scores
 * every record exactly as with the check always on (extend 1); a dense probe
 * skips the check for near misses whose record centre lands inside it, so
 * fewer strangers get a hypothesis, the mates keep theirs, and the vector
 * and portable paths still agree. */
static void test_fast_extend_centre(void **state)
{
    (void)state;
    enum { N = 300, PROBES = 40 };
    uint32_t *minu = NULL;
    uint16_t *keys = NULL;
    uint8_t nmin[N], nk[N];
    pm_fingerprint_t *v = NULL;
    pm__gal_probe_t *p = NULL;
    pack_records(N, &minu, &keys, nmin, nk, &v, &p);
    int sparse = 0, dense = 0, sparse_differ = 0, path_differ = 0;
    int mates[2] = {0, 0}, strangers[2] = {0, 0}; /* with a hypothesis: [extend 1, extend 2] */
    for (size_t q = 0; q < PROBES; q++) {
        size_t who = q * 7 + 3;
        probe_of(who, 1, v);
        pm__gal_probe_build(v, p);
        assert_int_equal(p->extend, 2);
        int has_vector = p->avx2, is_dense = p->n >= PM__GAL_EXT_DENSE;
        sparse += !is_dense;
        dense += is_dense;
        for (size_t r = 0; r < N; r++) {
            const uint16_t *k = keys + r * PM_GALLERY_KEYS;
            const uint32_t *mn = minu + r * PM_GALLERY_MAX_MINUTIAE;
            int sc[2];
            for (int e = 0; e < 2; e++) {
                p->extend = e + 1;
                p->avx2 = 0;
                sc[e] = pm__gal_fast_score(p, k, mn, nk[r], nmin[r]);
                if (has_vector) {
                    p->avx2 = 1;
                    path_differ += pm__gal_fast_score(p, k, mn, nk[r], nmin[r]) != sc[e];
                }
            }
            p->extend = 2;
            if (!is_dense) {
                sparse_differ += sc[0] != sc[1];
                continue;
            }
            for (int e = 0; e < 2; e++) {
                if (r == who)
                    mates[e] += sc[e] > 1;
                else
                    strangers[e] += sc[e] > 1;
            }
        }
    }
    print_message("extend 2: %d sparse probes (scores differing from extend 1: %d), %d dense: "
                  "mates with a hypothesis %d / %d, strangers %d / %d (extend 1 / 2)\n",
                  sparse, sparse_differ, dense, mates[0], mates[1], strangers[0], strangers[1]);
    assert_true(sparse >= 3 && dense >= 10);
    assert_int_equal(sparse_differ, 0);
    assert_int_equal(path_differ, 0);
    assert_int_equal(mates[1], mates[0]);
    assert_true(mates[1] >= dense * 9 / 10);
    assert_true(strangers[1] * 5 <= strangers[0] * 4); /* at least a fifth fewer */
    free(minu);
    free(keys);
    free(v);
    free(p);
}

/* The generator's off-centre placements (shift_share): share 0 changes
 * nothing; share 1 makes mates that overlap their record on one side, which
 * the quick check on the record's central minutiae misses far more often
 * and the near-miss check on all minutiae recovers (the real-print failure
 * of "Partial overlaps", now reproducible on synthetic templates). */
static void test_synth_shifted(void **state)
{
    (void)state;
    uint32_t minu[PM_GALLERY_MAX_MINUTIAE];
    uint16_t keys[PM_GALLERY_KEYS];
    uint8_t nmin, nk;
    pm_fingerprint_t *m = malloc(sizeof *m), *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    pm__gal_probe_t *p = malloc(sizeof *p);
    assert_non_null(m);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(p);
    int moved = 0, n = 60;
    int found[2][2] = {{0, 0}, {0, 0}}; /* [shifted][extend] */
    for (int i = 0; i < n; i++) {
        pm_gallery_synth_master(SEED, (uint64_t)i, m);
        pm_gallery_synth_options_t none = {0}, all = {.shift_share = 1};
        pm_gallery_synth_impression(m, SEED, (uint64_t)i, 1, NULL, a);
        pm_gallery_synth_impression(m, SEED, (uint64_t)i, 1, &none, b);
        assert_int_equal(a->count, b->count);
        assert_memory_equal(a->minutiae, b->minutiae, a->count * sizeof a->minutiae[0]);
        pm_gallery_synth_impression(m, SEED, (uint64_t)i, 0, NULL, a);
        pm__gal_pack_view(a, minu, &nmin, keys, &nk);
        for (int sh = 0; sh < 2; sh++) {
            pm_gallery_synth_impression(m, SEED, (uint64_t)i, 1, sh ? &all : NULL, b);
            if (sh) {
                pm_fingerprint_t *c = malloc(sizeof *c);
                assert_non_null(c);
                pm_gallery_synth_impression(m, SEED, (uint64_t)i, 1, NULL, c);
                moved += c->count != b->count ||
                         memcmp(c->minutiae, b->minutiae, c->count * sizeof c->minutiae[0]) != 0;
                free(c);
            }
            pm__gal_probe_build(b, p);
            for (int ext = 0; ext < 2; ext++) {
                p->extend = ext;
                found[sh][ext] += pm__gal_fast_score(p, keys, minu, nk, nmin) > 1;
            }
        }
    }
    print_message("synthetic mates with a hypothesis, of %d: centred %d (%d with the near-miss "
                  "check), off-centre %d (%d)\n",
                  n, found[0][0], found[0][1], found[1][0], found[1][1]);
    assert_int_equal(moved, n);
    assert_true(found[0][0] >= n * 9 / 10);
    assert_true(found[1][0] <= found[0][0] - n / 10);
    assert_true(found[1][1] >= found[1][0] + n / 20);
    free(m);
    free(a);
    free(b);
    free(p);
}

static void test_fusion(void **state)
{
    (void)state;
    /* one finger: unchanged; k fingers: the tail of the sum, so below the sum */
    assert_float_equal(pm_gallery_fuse(30, 1), 30, 1e-9);
    double f2 = pm_gallery_fuse(60, 2);
    assert_true(f2 < 60 && f2 > 45);
    /* check against the closed form for k = 2: P = e^-x (1 + x) */
    double x = 60 * log(10.0) / 10.0;
    assert_float_equal(f2, -10 * log10(exp(-x) * (1 + x)), 1e-9);
    assert_float_equal(pm_gallery_fuse(0, 10), 0, 1e-12);

    /* ten-finger identify: the mate's fused score beats every decoy's */
    pm_gallery_t *g = make_gallery(200, 2); /* 200 fingers: positions 1..10 */
    pm_error_t err = {0};
    pm_fingerprint_t *p = malloc(10 * sizeof *p);
    assert_non_null(p);
    pm_gallery_finger_t f[2];
    /* subjects 1000+i have one finger each, at position i%10+1: a two-finger
     * probe of fingers 5 and 6 from two subjects gives each one score */
    probe_of(5, 1, &p[0]);
    probe_of(6, 1, &p[1]);
    f[0] = (pm_gallery_finger_t){6, &p[0]};
    f[1] = (pm_gallery_finger_t){7, &p[1]};
    pm_gallery_candidate_t c[5];
    size_t n = 0;
    pm_gallery_search_options_t o = {.max_candidates = 5};
    assert_int_equal(pm_gallery_identify(g, f, 2, &o, c, &n, NULL, &err), 0);
    assert_true(n >= 2);
    assert_true(c[0].subject == 1005 || c[0].subject == 1006);
    assert_float_equal(c[0].score,
                       pm_gallery_fuse(c[0].finger_score[0] + c[0].finger_score[1], 2), 1e-9);
    free(p);
    pm_gallery_free(g);
}

/* Ten-print shortlist: gallery of SUBJ subjects x 10 fingers; a ten-finger
 * probe finds its mate at rank 1 through the shortlist with fewer exact
 * comparisons than the full search (still reachable with shortlist < 0),
 * the candidates that matter (fused >= 20) and the mate's score are the
 * full search's, and the result does not depend on the thread count. */
static void test_tenprint_shortlist(void **state)
{
    (void)state;
    enum { SUBJ = 400 };
    pm_gallery_t *g1 = make_gallery_subjects(SUBJ * 10, 1, 10), *g2 = make_gallery_subjects(SUBJ * 10, 2, 10);
    pm_error_t err = {0};
    pm_fingerprint_t *p = malloc(10 * sizeof *p);
    assert_non_null(p);
    for (int t = 0; t < 3; t++) {
        size_t who = (size_t)(t * 131 + 17) % SUBJ;
        pm_gallery_finger_t f[10];
        for (int k = 0; k < 10; k++) {
            probe_of(who * 10 + (size_t)k, 1, &p[k]);
            f[k] = (pm_gallery_finger_t){k + 1, &p[k]};
        }
        pm_gallery_search_options_t onew = {.max_candidates = 5, .first_stage = 1, .shortlist = 20};
        pm_gallery_search_options_t oall = {.max_candidates = 5, .first_stage = 1, .shortlist = 20,
                                            .lead_fingers = -1};
        pm_gallery_search_options_t oold = {.max_candidates = 5, .first_stage = 1, .shortlist = -1};
        pm_gallery_search_options_t odef = {.max_candidates = 5, .first_stage = 1};
        pm_gallery_candidate_t c1[5], c2[5], c0[5], cd[5], ca[5];
        size_t n1 = 0, n2 = 0, n0 = 0, nd = 0, na = 0;
        pm_gallery_search_stats_t s1, s2, s0, sd, sa;
        assert_int_equal(pm_gallery_identify(g1, f, 10, &odef, cd, &nd, &sd, &err), 0);
        assert_int_equal(pm_gallery_identify(g1, f, 10, &onew, c1, &n1, &s1, &err), 0);
        assert_int_equal(pm_gallery_identify(g2, f, 10, &onew, c2, &n2, &s2, &err), 0);
        assert_int_equal(pm_gallery_identify(g2, f, 10, &oold, c0, &n0, &s0, &err), 0);
        assert_int_equal(pm_gallery_identify(g2, f, 10, &oall, ca, &na, &sa, &err), 0);
        assert_true(n1 > 0 && n0 > 0 && nd > 0 && na > 0);
        assert_true(c1[0].subject == 1000 + who);
        assert_true(c0[0].subject == 1000 + who);
        assert_true(cd[0].subject == 1000 + who);
        assert_true(ca[0].subject == 1000 + who);
        /* a shortlisted subject is compared finger by finger as
         * pm_gallery_verify compares it: the same finger scores, the same
         * fused score */
        const pm_gallery_candidate_t *lists[3] = {c1, cd, ca};
        size_t ns[3] = {n1, nd, na};
        for (int l = 0; l < 3; l++)
            for (size_t i = 0; i < ns[l]; i++) {
                pm_gallery_candidate_t v;
                assert_int_equal(pm_gallery_verify(g1, lists[l][i].subject, f, 10, &v, &err), 0);
                assert_true(v.score == lists[l][i].score);
                for (int k = 0; k < 10; k++)
                    assert_true(v.finger_score[k] == lists[l][i].finger_score[k]);
            }
        /* ... so never below what the per-finger search gave the mate */
        assert_true(c1[0].score >= c0[0].score);
        /* one encounter per subject, positions known: at most 20 subjects x
         * 10 fingers compared; the first stage on the PM_GALLERY_LEAD_DEFAULT lead fingers only */
        assert_true(s1.records_exact <= 20 * 10 && sa.records_exact <= 20 * 10);
        assert_true(s1.records_exact < s0.records_exact);
        assert_true(sd.records_exact <= 40 * 10);
        assert_true(s1.records_scanned * 10 == sa.records_scanned * PM_GALLERY_LEAD_DEFAULT);
        /* the same with one worker or two */
        assert_int_equal(n1, n2);
        assert_int_equal(s1.records_exact, s2.records_exact);
        for (size_t i = 0; i < n1; i++) {
            assert_true(c1[i].subject == c2[i].subject);
            assert_true(c1[i].score == c2[i].score);
        }
    }
    free(p);
    pm_gallery_free(g1);
    pm_gallery_free(g2);
}


/* The lead fingers are the probe's best prints, not its busiest: two poor
 * captures (another finger's ridges, padded with spurious minutiae, low
 * print quality) have the most minutiae, and with two lead fingers chosen
 * by count alone the mate had no first-stage evidence (session 18: a known
 * applicant of the 1,000-applicant cohort was lost this way). */
static void test_tenprint_lead_by_quality(void **state)
{
    (void)state;
    enum { SUBJ = 400 };
    pm_gallery_t *g = make_gallery_subjects(SUBJ * 10, 2, 10);
    pm_error_t err = {0};
    pm_fingerprint_t *p = malloc(10 * sizeof *p);
    assert_non_null(p);
    for (int t = 0; t < 3; t++) {
        size_t who = (size_t)(t * 97 + 29) % SUBJ, other = (who + SUBJ / 2) % SUBJ;
        pm_gallery_finger_t f[10];
        for (int k = 0; k < 10; k++) {
            probe_of(who * 10 + (size_t)k, 1, &p[k]);
            p[k].quality = 60;
            f[k] = (pm_gallery_finger_t){k + 1, &p[k]};
        }
        for (int k = 0; k < 2; k++) {
            /* a poor capture: another subject's finger and spurious minutiae */
            probe_of(other * 10 + (size_t)k, 1, &p[k]);
            size_t n0 = p[k].count;
            for (size_t i = 0; i < n0 && p[k].count < 100; i++) {
                pm_minutia_t m = p[k].minutiae[i];
                m.x += 9.0f;
                m.y -= 7.0f;
                p[k].minutiae[p[k].count++] = m;
            }
            p[k].quality = 20;
        }
        pm_gallery_search_options_t o = {.max_candidates = 5, .first_stage = 1, .shortlist = 20,
                                         .lead_fingers = 2};
        pm_gallery_candidate_t c[5];
        size_t n = 0;
        pm_gallery_search_stats_t st;
        assert_int_equal(pm_gallery_identify(g, f, 10, &o, c, &n, &st, &err), 0);
        assert_true(n > 0);
        assert_true(c[0].subject == 1000 + who);
        /* the same prints with the quality unknown (0 everywhere): the count
         * decides, the poor captures lead, and the mate is not shortlisted */
        for (int k = 0; k < 10; k++)
            p[k].quality = 0;
        assert_int_equal(pm_gallery_identify(g, f, 10, &o, c, &n, &st, &err), 0);
        assert_true(n == 0 || c[0].subject != 1000 + who);
    }
    free(p);
    pm_gallery_free(g);
}

/* Identification calibration: the nominal model is the matcher's
 * calibration, thresholds and FPIR are inverses, the fit recovers a known
 * Gumbel model, and a search uses it for its threshold and id_score. */
static void test_calibration(void **state)
{
    (void)state;
    /* nominal: threshold ~ -10*log10(FPIR / n) */
    assert_float_equal(pm_gallery_threshold(NULL, 0.01, 1e6), 80.0, 0.03);
    assert_float_equal(pm_gallery_threshold(NULL, 0.001, 1e6), 90.0, 0.01);
    pm_gallery_calibration_t c = {.loc = 12.5, .growth = 3.0, .scale = 2.0};
    for (int k = 0; k < 3; k++) {
        double fpir = k == 0 ? 0.5 : k == 1 ? 0.01 : 1e-4;
        double t = pm_gallery_threshold(&c, fpir, 1e5);
        assert_float_equal(pm_gallery_fpir(&c, t, 1e5), fpir, fpir * 1e-9);
        assert_float_equal(pm_gallery_id_score(&c, t, 1e5), -10 * log10(fpir), 1e-6);
    }
    /* far above the impostors: no underflow, grows linearly */
    double a = pm_gallery_id_score(&c, 200, 1e6), b = pm_gallery_id_score(&c, 210, 1e6);
    assert_true(isfinite(a) && a > 300);
    assert_float_equal(b - a, 10 * 10 / (c.scale * log(10.0)), 1e-4); /* cmocka compares as float */
    assert_float_equal(pm_gallery_id_score(&c, 0, 1e6), 0, 1e-9);

    /* fit: samples of the best of n impostors, n = 1e4 and 1e5 (growth and
     * scale both identifiable), known model */
    size_t k = 4000;
    double *x = malloc(k * sizeof *x), *n = malloc(k * sizeof *n);
    assert_non_null(x);
    assert_non_null(n);
    uint64_t r = 12345;
    for (size_t i = 0; i < k; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        double u = ((double)(r >> 11) + 0.5) / 9007199254740992.0;
        n[i] = i % 2 ? 1e4 : 1e5;
        x[i] = c.loc + c.growth * log(n[i]) - c.scale * log(-log(u));
    }
    pm_gallery_calibration_t fit;
    pm_error_t err = {0};
    assert_int_equal(pm_gallery_calibration_fit(x, n, k, &fit, &err), 0);
    print_message("fit: loc %.3f growth %.3f scale %.3f (true 12.5, 3.0, 2.0)\n", fit.loc,
                  fit.growth, fit.scale);
    assert_float_equal(fit.growth, 3.0, 0.2);
    /* the tail step may widen the scale (upper bound of the tail's), never
     * narrow it; thresholds stay at or a little above the true ones */
    assert_true(fit.scale > 1.9 && fit.scale < 2.4);
    for (int t = 0; t < 2; t++) {
        double fp = t ? 0.001 : 0.01, want = pm_gallery_threshold(&c, fp, 1e6);
        double got = pm_gallery_threshold(&fit, fp, 1e6);
        print_message("threshold FPIR %g at 1M: fitted %.2f, true %.2f\n", fp, got, want);
        assert_true(got > want - 0.3 && got < want + 2.0);
    }
    /* a heavier tail than the body's Gumbel (the top 5% spread 4x wider):
     * the fitted thresholds move up with it */
    pm_gallery_calibration_t body;
    assert_int_equal(pm_gallery_calibration_fit(x, n, k, &body, &err), 0);
    double *xh = malloc(k * sizeof *xh);
    assert_non_null(xh);
    for (size_t i = 0; i < k; i++) {
        double q = c.loc + c.growth * log(n[i]) + c.scale * 2.97; /* ~95% quantile */
        xh[i] = x[i] > q ? q + 4 * (x[i] - q) : x[i];
    }
    assert_int_equal(pm_gallery_calibration_fit(xh, n, k, &fit, &err), 0);
    double heavy = 0;
    for (size_t i = 0; i < k; i++)
        heavy += n[i] == 1e5 && xh[i] >= pm_gallery_threshold(&fit, 0.01, 1e5);
    print_message("heavy tail: fitted scale %.2f (body %.2f); FPIR at the 1%% threshold %.2f%%\n",
                  fit.scale, body.scale, 100 * heavy / (double)(k / 2));
    assert_true(fit.scale > body.scale + 1);
    assert_true(heavy / (double)(k / 2) <= 0.02);
    free(xh);
    /* one gallery size: growth tied to the scale */
    for (size_t i = 0; i < k; i++)
        n[i] = 1e5;
    assert_int_equal(pm_gallery_calibration_fit(x, n, k, &fit, &err), 0);
    assert_float_equal(fit.growth, fit.scale, 1e-12);
    /* scores <= 0 (no candidate) are left out; too few is refused */
    for (size_t i = 0; i < k - 5; i++)
        x[i] = 0;
    assert_int_equal(pm_gallery_calibration_fit(x, n, k, &fit, &err), PM_EINVAL);
    x[0] = NAN;
    assert_int_equal(pm_gallery_calibration_fit(x, n, k, &fit, &err), PM_EINVAL);
    free(x);
    free(n);

    /* a search uses it: threshold and id_score */
    pm_gallery_t *g = make_gallery(300, 1);
    pm_fingerprint_t *p = malloc(sizeof *p);
    assert_non_null(p);
    probe_of(17, 1, p);
    pm_gallery_finger_t f = {0, p};
    pm_gallery_candidate_t cand[3];
    size_t nc = 0;
    pm_gallery_search_stats_t st;
    pm_gallery_search_options_t o = {.max_candidates = 3, .target_fpir = 0.01, .calibration = &c};
    assert_int_equal(pm_gallery_identify(g, &f, 1, &o, cand, &nc, &st, &err), 0);
    assert_float_equal(st.threshold_used, pm_gallery_threshold(&c, 0.01, 300), 1e-9);
    assert_true(nc >= 1);
    assert_int_equal(cand[0].subject, 1017);
    assert_float_equal(cand[0].id_score, pm_gallery_id_score(&c, cand[0].score, 300), 1e-9);
    o.calibration = NULL;
    assert_int_equal(pm_gallery_identify(g, &f, 1, &o, cand, &nc, &st, &err), 0);
    assert_float_equal(st.threshold_used, pm_gallery_threshold(NULL, 0.01, 300), 1e-9);
    free(p);
    pm_gallery_free(g);
}

/* Fused ten-print calibration: the tail fit recovers a known exponential
 * tail of generated impostor fused scores, the calibrated score is what it
 * claims on a fresh sample, the map inverts, and a search applies it. */
static double exp_tail_sample(uint64_t *r, double loc, double beta)
{
    *r ^= *r << 13, *r ^= *r >> 7, *r ^= *r << 17;
    double u = ((double)(*r >> 11) + 0.5) / 9007199254740992.0;
    double v = loc - beta * log(u);
    return v > 0 ? v : 0;
}

static void test_fused_calibration_exp(void **state)
{
    (void)state;
    /* generated: P(F >= s) = exp(-(s + 30) / 12); the exponential tail fit
     * (pooled-seed fits in bench_vet_calib) recovers it, conservatively */
    const double loc = -30, beta = 12;
    size_t k = 200000;
    double *x = malloc(k * sizeof *x);
    assert_non_null(x);
    uint64_t r = 1777;
    for (size_t i = 0; i < k; i++)
        x[i] = exp_tail_sample(&r, loc, beta);
    pm_gallery_calibration_t fc;
    pm_error_t err = {0};
    assert_int_equal(pm_gallery_fused_calibration_fit_exp(x, k, 0.99, &fc, &err), 0);
    print_message("exp fit: loc %.2f scale %.2f shape %.2f (true %.1f, %.1f)\n", fc.loc, fc.scale,
                  fc.shape, loc, beta);
    assert_float_equal(fc.shape, 0, 1e-12);
    assert_float_equal(fc.growth, fc.scale, 1e-12);
    /* mean excess of 2,000 at its upper one-sigma bound: ~2% above beta */
    assert_true(fc.scale > beta && fc.scale < beta * 1.07);
    double raw4 = loc + beta * log(1e4);
    double c4 = pm_gallery_fused_score(&fc, raw4);
    print_message("exp fit: raw %.1f (true 40): calibrated %.2f\n", raw4, c4);
    assert_true(c4 > 37 && c4 <= 40.2);
    assert_float_equal(pm_gallery_fused_raw(&fc, c4), raw4, 1e-6);
    /* a fresh sample: at calibrated >= 30 about 0.1% (at most a little more) */
    size_t over = 0;
    r = 5151;
    for (size_t i = 0; i < k; i++)
        over += pm_gallery_fused_score(&fc, exp_tail_sample(&r, loc, beta)) >= 30;
    print_message("exp fit, fresh sample at calibrated >= 30: %zu (model %zu)\n", over, k / 1000);
    assert_true(over > k / 2000 && over <= k / 1000 + k / 4000);
    /* a heavier (Pareto) tail: the exponential fit under-states the far end
     * (what bench_vet_calib compares against the GPD fit) */
    r = 31337;
    for (size_t i = 0; i < k; i++) {
        double u01 = exp(-exp_tail_sample(&r, 0, 1));
        x[i] = 5 / 0.3 * (pow(u01, -0.3) - 1);
    }
    pm_gallery_calibration_t gp;
    assert_int_equal(pm_gallery_fused_calibration_fit_exp(x, k, 0.99, &fc, &err), 0);
    assert_int_equal(pm_gallery_fused_calibration_fit(x, k, 0.99, &gp, &err), 0);
    double far = gp.tail_u + 200;
    print_message("pareto 0.3: at raw %.0f exp %.1f, gpd %.1f\n", far,
                  pm_gallery_fused_score(&fc, far), pm_gallery_fused_score(&gp, far));
    assert_true(pm_gallery_fused_score(&fc, far) > pm_gallery_fused_score(&gp, far) + 5);
    /* lighter than nominal is not believed; refusals */
    r = 99;
    for (size_t i = 0; i < k; i++)
        x[i] = exp_tail_sample(&r, 0, 2.0);
    assert_int_equal(pm_gallery_fused_calibration_fit_exp(x, k, 0.99, &fc, &err), 0);
    assert_float_equal(fc.scale, 10 / log(10.0), 1e-12);
    assert_int_equal(pm_gallery_fused_calibration_fit_exp(x, 1000, 0.99, &fc, &err), PM_EINVAL);
    assert_int_equal(pm_gallery_fused_calibration_fit_exp(x, k, 0, &fc, &err), PM_EINVAL);
    assert_int_equal(pm_gallery_fused_calibration_fit_exp(x, k, 0.99, NULL, &err), PM_EINVAL);
    x[7] = INFINITY;
    assert_int_equal(pm_gallery_fused_calibration_fit_exp(x, k, 0.99, &fc, &err), PM_EINVAL);
    free(x);
}

/* Cohorts whose levels differ (pm_gallery_fused_calibration_fit_cohorts):
 * the pooled fit under-states the heaviest cohort, the between-cohort fit
 * does not; identical cohorts get (almost) no shift. */
static void test_fused_calibration_cohorts(void **state)
{
    (void)state;
    enum { C = 10, K = 20000, KF = 100000 };
    static const double level[C] = {-6, -4, -2, -1, 0, 0, 1, 2, 4, 6}; /* sd ~3.7 */
    const double loc = -30, beta = 12;
    double *x = malloc((size_t)C * K * sizeof *x), *f = malloc((size_t)KF * sizeof *f);
    assert_non_null(x);
    assert_non_null(f);
    const double *v[C];
    size_t k[C];
    uint64_t r = 4242;
    for (int c = 0; c < C; c++) {
        for (int i = 0; i < K; i++)
            x[(size_t)c * K + (size_t)i] = exp_tail_sample(&r, loc + level[c], beta);
        v[c] = x + (size_t)c * K;
        k[c] = K;
    }
    pm_gallery_calibration_t pooled, coh;
    pm_gallery_cohort_spread_t sp;
    pm_error_t err = {0};
    assert_int_equal(pm_gallery_fused_calibration_fit_exp(x, (size_t)C * K, 0.99, &pooled, &err), 0);
    assert_int_equal(
        pm_gallery_fused_calibration_fit_cohorts(v, k, C, 0.99, 1.645, 0, &coh, &sp, &err), 0);
    print_message("cohorts: mean %.2f sd %.2f tau %.2f shift %.2f (levels sd 3.7)\n", sp.mean,
                  sp.sd, sp.tau, sp.shift);
    assert_true(sp.tau > 2.5 && sp.tau < 5.5);
    assert_true(sp.shift > 4 && sp.shift < 11);
    assert_float_equal(coh.loc, pooled.loc + sp.shift, 1e-9);
    assert_float_equal(coh.scale, pooled.scale, 1e-9);
    /* a fresh cohort at the heaviest level: at calibrated >= 30 the pooled
     * model (0.1%) is exceeded, the between-cohort one is not */
    for (int i = 0; i < KF; i++)
        f[i] = exp_tail_sample(&r, loc + 6, beta);
    size_t over_pooled = 0, over_coh = 0;
    for (int i = 0; i < KF; i++) {
        over_pooled += pm_gallery_fused_score(&pooled, f[i]) >= 30;
        over_coh += pm_gallery_fused_score(&coh, f[i]) >= 30;
    }
    print_message("fresh heavy cohort at >= 30: pooled %zu, cohorts %zu (model %d)\n", over_pooled,
                  over_coh, KF / 1000);
    assert_true(over_pooled > KF / 1000 * 13 / 10);
    assert_true(over_coh <= KF / 1000 * 115 / 100);
    /* identical cohorts: no between-cohort term worth the name */
    for (int c = 0; c < C; c++)
        for (int i = 0; i < K; i++)
            x[(size_t)c * K + (size_t)i] = exp_tail_sample(&r, loc, beta);
    assert_int_equal(
        pm_gallery_fused_calibration_fit_cohorts(v, k, C, 0.99, 1.645, 1, &coh, &sp, &err), 0);
    print_message("identical cohorts (GPD): tau %.2f shift %.2f\n", sp.tau, sp.shift);
    assert_true(sp.tau < 1.5);
    assert_true(sp.shift >= 0 && sp.shift < 2.5);
    assert_true(coh.shape > 0); /* the pooled GPD fit underneath */
    /* refusals */
    assert_int_equal(
        pm_gallery_fused_calibration_fit_cohorts(v, k, 2, 0.99, 1.645, 0, &coh, NULL, &err),
        PM_EINVAL);
    assert_int_equal(
        pm_gallery_fused_calibration_fit_cohorts(v, k, C, 0.99, -1, 0, &coh, NULL, &err), PM_EINVAL);
    assert_int_equal(
        pm_gallery_fused_calibration_fit_cohorts(v, k, C, 0.99, 1.645, 0, NULL, NULL, &err),
        PM_EINVAL);
    k[3] = 50;
    assert_int_equal(
        pm_gallery_fused_calibration_fit_cohorts(v, k, C, 0.99, 1.645, 0, &coh, NULL, &err),
        PM_EINVAL);
    assert_non_null(strstr(err.msg, "cohort 3"));
    free(x);
    free(f);
}

static void test_fused_calibration(void **state)
{
    (void)state;
    /* NULL: the fused score unchanged */
    assert_float_equal(pm_gallery_fused_score(NULL, 41.3), 41.3, 1e-12);
    assert_float_equal(pm_gallery_fused_raw(NULL, 41.3), 41.3, 1e-12);
    /* generated: P(F >= s) = exp(-(s + 30) / 12), scores below 0 are 0 */
    const double loc = -30, beta = 12;
    size_t k = 200000;
    double *x = malloc(k * sizeof *x);
    assert_non_null(x);
    uint64_t r = 777;
    for (size_t i = 0; i < k; i++)
        x[i] = exp_tail_sample(&r, loc, beta);
    pm_gallery_calibration_t fc;
    pm_error_t err = {0};
    assert_int_equal(pm_gallery_fused_calibration_fit(x, k, 0.99, &fc, &err), 0);
    print_message("fused fit: loc %.2f scale %.2f (true %.1f, %.1f)\n", fc.loc, fc.scale, loc,
                  beta);
    assert_float_equal(fc.growth, fc.scale, 1e-12);
    /* an exponential tail: the shape at its upper one-sigma bound of 2,000
     * excesses (~0.02) is small, the scale close to the true one */
    print_message("fused fit: shape %.4f above raw %.1f\n", fc.shape, fc.tail_u);
    assert_true(fc.shape > 0 && fc.shape < 0.07);
    assert_true(fc.scale > beta * 0.9 && fc.scale < beta * 1.08);
    /* at the raw score whose true FMR per subject is 1e-4: calibrated ~40,
     * a little below (the fit is conservative), never above */
    double raw4 = loc + beta * log(1e4);
    double c4 = pm_gallery_fused_score(&fc, raw4);
    print_message("raw %.1f (true 40): calibrated %.2f\n", raw4, c4);
    assert_true(c4 > 37 && c4 <= 40.2);
    assert_float_equal(pm_gallery_fused_raw(&fc, c4), raw4, 1e-6);
    assert_float_equal(pm_gallery_fused_score(&fc, pm_gallery_fused_raw(&fc, 300)), 300, 1e-6);
    /* a fresh sample: the share at or above calibrated 20 is ~1% (at most) */
    size_t over = 0;
    r = 4242;
    for (size_t i = 0; i < k; i++)
        over += pm_gallery_fused_score(&fc, exp_tail_sample(&r, loc, beta)) >= 20;
    print_message("fresh sample at calibrated >= 20: %.3f%% (model 1%%)\n",
                  100.0 * (double)over / (double)k);
    assert_true(over > k / 200 && over <= k / 100 + k / 1000);
    /* without the calibration the same scores would claim far more */
    assert_true(pm_gallery_fused_score(NULL, raw4) > c4 + 30);
    /* a lighter tail than the nominal one is not believed */
    r = 99;
    for (size_t i = 0; i < k; i++)
        x[i] = exp_tail_sample(&r, 0, 2.0);
    assert_int_equal(pm_gallery_fused_calibration_fit(x, k, 0.99, &fc, &err), 0);
    assert_float_equal(fc.scale, 10 / log(10.0), 1e-12);
    /* refusals: too few excesses, a bad quantile, NaN */
    assert_int_equal(pm_gallery_fused_calibration_fit(x, 1000, 0.99, &fc, &err), PM_EINVAL);
    assert_int_equal(pm_gallery_fused_calibration_fit(x, k, 1.0, &fc, &err), PM_EINVAL);
    x[5] = NAN;
    assert_int_equal(pm_gallery_fused_calibration_fit(x, k, 0.99, &fc, &err), PM_EINVAL);
    free(x);

    /* a heavy (generalized Pareto) tail, shape 0.15: the exponential model
     * would under-state the far tail; the fit follows it, conservatively */
    x = malloc(k * sizeof *x);
    assert_non_null(x);
    const double xi0 = 0.15, sig0 = 5;
    r = 31337;
    for (size_t i = 0; i < k; i++) {
        double u01 = exp(-exp_tail_sample(&r, 0, 1)); /* uniform (0, 1] */
        x[i] = sig0 / xi0 * (pow(u01, -xi0) - 1);
    }
    assert_int_equal(pm_gallery_fused_calibration_fit(x, k, 0.99, &fc, &err), 0);
    print_message("heavy tail fit: shape %.4f scale %.2f above raw %.1f (true shape %.2f)\n",
                  fc.shape, fc.scale, fc.tail_u, xi0);
    assert_true(fc.shape > xi0 - 0.03 && fc.shape < xi0 + 0.08);
    /* continuous at the threshold, inverts above it */
    assert_float_equal(pm_gallery_fused_score(&fc, fc.tail_u + 1e-9),
                       pm_gallery_fused_score(&fc, fc.tail_u - 1e-9), 1e-6);
    assert_true(pm_gallery_fused_raw(&fc, 45) > fc.tail_u);
    assert_float_equal(pm_gallery_fused_score(&fc, pm_gallery_fused_raw(&fc, 45)), 45, 1e-6);
    /* a fresh sample of 200,000: counts at calibrated >= 30 / 40 (model 200 /
     * 20) within 2x of the model (measured 200 / 32), and well below what
     * the exponential tail gives (next) */
    size_t o30 = 0, o40 = 0;
    r = 2718;
    for (size_t i = 0; i < k; i++) {
        double u01 = exp(-exp_tail_sample(&r, 0, 1));
        double c = pm_gallery_fused_score(&fc, sig0 / xi0 * (pow(u01, -xi0) - 1));
        o30 += c >= 30, o40 += c >= 40;
    }
    print_message("heavy tail, fresh sample: >= 30: %zu (model 200), >= 40: %zu (model 20)\n", o30,
                  o40);
    assert_true(o30 >= 60 && o30 <= 240);
    assert_true(o40 >= 3 && o40 <= 40);
    /* the exponential tail through the same threshold (shape 0) under-states
     * it: more than twice the claimed count at 40 */
    pm_gallery_calibration_t ex0 = fc;
    ex0.shape = 0;
    size_t e40 = 0;
    for (size_t i = 0; i < k; i++)
        e40 += pm_gallery_fused_score(&ex0, x[i]) >= 40;
    print_message("heavy tail, exponential model: >= 40: %zu (claims 20)\n", e40);
    assert_true(e40 > 45 && e40 > o40 + 10);
    free(x);

    /* the built-in calibration is not the nominal one (fitted: heavier tail) */
    pm_gallery_calibration_t def;
    pm_gallery_fused_calibration_default(&def);
    assert_true(def.scale > 10 / log(10.0) && def.growth == def.scale);

    /* a two-finger search applies it: score = calibrated raw, the threshold on it */
    pm_gallery_t *g = make_gallery(200, 1);
    pm_fingerprint_t *p = malloc(2 * sizeof *p);
    assert_non_null(p);
    probe_of(5, 1, &p[0]);
    probe_of(6, 1, &p[1]);
    pm_gallery_finger_t f[2] = {{6, &p[0]}, {7, &p[1]}};
    pm_gallery_candidate_t c[5];
    size_t n = 0;
    pm_gallery_search_options_t o = {.max_candidates = 5, .fused_calibration = &def};
    assert_int_equal(pm_gallery_identify(g, f, 2, &o, c, &n, NULL, &err), 0);
    assert_true(n >= 2);
    assert_float_equal(c[0].fused_raw,
                       pm_gallery_fuse(c[0].finger_score[0] + c[0].finger_score[1], 2), 1e-9);
    assert_float_equal(c[0].score, pm_gallery_fused_score(&def, c[0].fused_raw), 1e-9);
    assert_true(c[0].score < c[0].fused_raw);
    /* a threshold between the raw and the calibrated score keeps it out */
    o.threshold = (c[0].score + c[0].fused_raw) / 2;
    uint64_t top = c[0].subject;
    assert_int_equal(pm_gallery_identify(g, f, 2, &o, c, &n, NULL, &err), 0);
    for (size_t i = 0; i < n; i++)
        assert_true(c[i].subject != top);
    free(p);
    pm_gallery_free(g);
}

static void corrupt_byte(const char *path, long off)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, off, SEEK_SET), 0);
    int ch = fgetc(fp);
    assert_int_equal(fseek(fp, off, SEEK_SET), 0);
    fputc(ch ^ 0x40, fp);
    fclose(fp);
}

static void test_snapshot(void **state)
{
    (void)state;
    char *dir = pm_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/gallery.snap", dir);
    pm_gallery_t *g = make_gallery(500, 2);
    pm_error_t err = {0};
    assert_int_equal(pm_gallery_save(g, path, 42, &err), 0);
    pm_gallery_free(g);

    /* "restart": a new gallery loads it and finds the same subject */
    pm_gallery_t *h = NULL;
    assert_int_equal(pm_gallery_new(NULL, &h, &err), 0);
    uint64_t gen = 0;
    assert_int_equal(pm_gallery_load(h, path, &gen, &err), 0);
    assert_int_equal(gen, 42);
    assert_int_equal(pm_gallery_count(h), 500);
    pm_fingerprint_t *p = malloc(sizeof *p);
    assert_non_null(p);
    probe_of(123, 1, p);
    pm_gallery_finger_t f = {0, p};
    pm_gallery_candidate_t c[10];
    size_t n = 0;
    assert_int_equal(pm_gallery_identify(h, &f, 1, NULL, c, &n, NULL, &err), 0);
    assert_true(n > 0);
    assert_int_equal(c[0].subject, 1123);
    /* inserts work after a load (the index was rebuilt) */
    assert_int_equal(pm_gallery_insert(h, 1123, 1, 4, p, &err), PM_EEXISTS);
    assert_int_equal(pm_gallery_insert(h, 1123, 2, 4, p, &err), 0);

    /* a flipped byte anywhere (header, arrays, end) is detected; the
     * gallery keeps its contents */
    struct stat st;
    if (stat(path, &st) != 0)
        fail_msg("stat %s: %s", path, strerror(errno));
    long offs[] = {3, 40, 96, 96 + 500 * 8 + 3, (long)st.st_size - 1};
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.snap", dir);
    for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
        uint8_t *data = NULL;
        size_t len = 0;
        FILE *in = fopen(path, "rb");
        assert_non_null(in);
        data = malloc((size_t)st.st_size);
        assert_non_null(data);
        len = fread(data, 1, (size_t)st.st_size, in);
        fclose(in);
        FILE *out = fopen(bad, "wb");
        assert_non_null(out);
        fwrite(data, 1, len, out);
        fclose(out);
        free(data);
        corrupt_byte(bad, offs[k]);
        int rc = pm_gallery_load(h, bad, NULL, &err);
        assert_true(rc == PM_ECORRUPT || rc == PM_EUNSUPPORTED);
        assert_int_equal(pm_gallery_count(h), 501);
    }
    /* truncated: at the header, mid-array, one byte short */
    long cuts[] = {10, 96 + 1000, (long)st.st_size - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        FILE *in = fopen(path, "rb");
        assert_non_null(in);
        uint8_t *data = malloc((size_t)cuts[k]);
        assert_non_null(data);
        assert_int_equal(fread(data, 1, (size_t)cuts[k], in), (size_t)cuts[k]);
        fclose(in);
        FILE *out = fopen(bad, "wb");
        assert_non_null(out);
        fwrite(data, 1, (size_t)cuts[k], out);
        fclose(out);
        free(data);
        assert_int_equal(pm_gallery_load(h, bad, NULL, &err), PM_ETRUNCATED);
        assert_int_equal(pm_gallery_count(h), 501);
    }
    assert_int_equal(pm_gallery_load(h, "/nonexistent/x.snap", NULL, &err), PM_ENOTFOUND);
    free(p);
    pm_gallery_free(h);
    pm_test_rmdir(dir);
    free(dir);
}

static void test_store_rebuild(void **state)
{
    (void)state;
    char *dir = pm_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/p.db", dir);
    pm_error_t err = {0};
    pm_store_t *st = NULL;
    assert_int_equal(pm_store_open(path, NULL, &st, &err), 0);
    assert_int_equal(pm_gallery_store_migrate(st, &err), 0);
    pm_fingerprint_t *p = malloc(sizeof *p);
    assert_non_null(p);
    assert_int_equal(pm_store_begin(st, &err), 0);
    for (size_t i = 0; i < 50; i++) {
        probe_of(i, 0, p);
        assert_int_equal(pm_gallery_store_put(st, 500 + i, 1, 2, p, &err), 0);
    }
    assert_int_equal(pm_store_commit(st, &err), 0);
    probe_of(3, 0, p);
    assert_int_equal(pm_gallery_store_put(st, 503, 1, 2, p, &err), PM_EEXISTS);
    size_t removed = 0;
    assert_int_equal(pm_gallery_store_delete(st, 504, -1, &removed, &err), 0);
    assert_int_equal(removed, 1);
    uint64_t gen = 0, gen2 = 0;
    assert_int_equal(pm_gallery_store_generation(st, &gen, &err), 0);
    assert_int_equal(gen, 51);
    pm_gallery_t *g = NULL;
    assert_int_equal(pm_gallery_new(NULL, &g, &err), 0);
    assert_int_equal(pm_gallery_store_load(st, g, &gen2, &err), 0);
    assert_int_equal(gen2, gen);
    assert_int_equal(pm_gallery_count(g), 49);
    probe_of(3, 2, p);
    pm_gallery_finger_t f = {2, p};
    pm_gallery_candidate_t c[10];
    size_t n = 0;
    assert_int_equal(pm_gallery_identify(g, &f, 1, NULL, c, &n, NULL, &err), 0);
    assert_true(n > 0);
    assert_int_equal(c[0].subject, 503);
    pm_gallery_free(g);
    pm_store_close(st);
    free(p);
    pm_test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identify_among_decoys),
        cmocka_unit_test(test_candidate_prepare_same_scores),
        cmocka_unit_test(test_two_threads_identical),
        cmocka_unit_test(test_tenprint_shortlist),
        cmocka_unit_test(test_tenprint_lead_by_quality),
        cmocka_unit_test(test_fast_paths_identical),
        cmocka_unit_test(test_fast_partial_overlap),
        cmocka_unit_test(test_fast_extend_centre),
        cmocka_unit_test(test_synth_shifted),
        cmocka_unit_test(test_fusion),
        cmocka_unit_test(test_calibration),
        cmocka_unit_test(test_fused_calibration),
        cmocka_unit_test(test_fused_calibration_exp),
        cmocka_unit_test(test_fused_calibration_cohorts),
        cmocka_unit_test(test_snapshot),
        cmocka_unit_test(test_store_rebuild),
    };
    return PM_RUN_TESTS("gallery", tests, NULL, NULL);
}
