/* Synthetic cohort: applicants as ten-print ANSI/NIST transactions, the
 * partner's holdings (another impression of the known applicants' fingers,
 * plus template-level distractors) and the truth. docs/vet.md. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "perimeter/an2k.h"
#include "perimeter/core.h"
#include "perimeter/fp.h"
#include "perimeter/gallery.h"
#include "perimeter/image.h"
#include "perimeter/synth.h"
#include "perimeter/synthfp.h"
#include "perimeter/tmpl.h"
#include "perimeter/vet.h"
#include "vet/vet_int.h"

enum { CAP_GOOD = 0, CAP_BLANK, CAP_BAD_FINGER, CAP_CORRUPT };
static const char *const cap_names[] = {"good", "blank", "bad_finger", "corrupt"};

#define KNOWN_BASE 1000000u     /* partner subject ids of known applicants: base + rank */
#define DISTRACTOR_BASE 5000000u /* of distractors */
#define BAD_FINGER_POSITION 2   /* the finger a "bad_finger" applicant gets wrong */

typedef struct applicant_plan {
    uint64_t partner_subject; /* 0: unknown to the partner */
    int capture;              /* CAP_* */
} applicant_plan_t;

typedef struct cohort_job {
    const pm_vet_cohort_params_t *p;
    const char *dir;
    pm_synthfp_params_t fp;
    pm_synth_t *names;
    pm_extractor_t *ex;
    pm_gallery_t *gallery;
    applicant_plan_t *plan;
    pthread_mutex_t lock;
    uint32_t next, done;
    int failed;
    pm_error_t err;
    FILE *enroll;
    pm_vet_progress_fn progress;
    void *progress_ctx;
} cohort_job_t;

void pm_vet_cohort_params_default(pm_vet_cohort_params_t *p)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    p->applicants = 20;
    p->difficulty = 1.0;
    p->threads = 1;
}

uint64_t pm__vet_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

int pm__vet_mkdir(const char *path, pm_error_t *err)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return pm_error_set(err, PM_EIO, "cannot create %s: %s", path, strerror(errno));
    return 0;
}

int pm__vet_write_file(const char *path, const void *data, size_t len, pm_error_t *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return pm_error_set(err, PM_EIO, "cannot write %s: %s", path, strerror(errno));
    int ok = fwrite(data, 1, len, f) == len;
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : pm_error_set(err, PM_EIO, "writing %s failed: %s", path, strerror(errno));
}

/* A blank capture: a nearly white image with faint sensor noise (no ridges). */
static int blank_image(int w, int h, uint64_t key, pm_image_t *out, pm_error_t *err)
{
    int rc = pm_image_alloc(out, w, h, 500, err);
    if (rc)
        return rc;
    uint64_t s = key;
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
        if (i % 8 == 0)
            s = pm__vet_mix(s);
        out->pixels[i] = (uint8_t)(244 + ((s >> ((i % 8) * 8)) & 7));
    }
    return 0;
}

/* Type-2 name (SURNAME,GIVEN) and date of birth (CCYYMMDD, only when full). */
static int set_biographics(pm_an2k_txn_t *t, const pm_synth_t *names, uint64_t person,
                           pm_error_t *err)
{
    pm_synth_person_t sp;
    int rc = pm_synth_person(names, person, &sp, err);
    if (rc)
        return rc;
    pm_an2k_record_t *r2 = NULL;
    for (size_t i = 0; i < t->nrecords; i++)
        if (t->records[i].type == 2)
            r2 = &t->records[i];
    if (!r2)
        return pm_error_set(err, PM_EINTERNAL, "no Type-2 record");
    char nam[160];
    snprintf(nam, sizeof nam, "%.70s,%.70s", sp.surname, sp.given_names);
    for (char *c = nam; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    if ((rc = pm_an2k_set_text(r2, 18, nam, err)))
        return rc;
    const char *d = sp.date_of_birth;
    if (strlen(d) == 10 && d[4] == '-' && d[7] == '-') {
        char dob[9] = {d[0], d[1], d[2], d[3], d[5], d[6], d[8], d[9], 0};
        if ((rc = pm_an2k_set_text(r2, 22, dob, err)))
            return rc;
    }
    return 0;
}

/* Applicant k (0-based): ten plain impressions (impression 1 of masters
 * 10k..10k+9), the transaction, and for a known applicant impression 2 of
 * each finger extracted into the partner's gallery and template files. */
static int make_applicant(cohort_job_t *j, uint32_t k, pm_error_t *err)
{
    const applicant_plan_t *pl = &j->plan[k];
    uint8_t *wsq[10] = {0};
    size_t wlen[10] = {0};
    int wd[10] = {0}, ht[10] = {0};
    pm_fingerprint_t *view = malloc(sizeof *view);
    int rc = view ? 0 : pm_error_set(err, PM_ENOMEM, "out of memory");
    pm_image_save_options_t save = {.wsq_bitrate = 0.75};
    for (int f = 0; f < 10 && !rc; f++) {
        uint64_t finger = (uint64_t)k * 10 + (uint64_t)f;
        pm_synthfp_master_t m;
        if ((rc = pm_synthfp_master(&j->fp, finger, NULL, &m, err)))
            break;
        pm_image_t img = {0};
        rc = pm_synthfp_impression(&j->fp, &m, 1, &img, NULL, err);
        if (!rc && (pl->capture == CAP_BLANK ||
                    (pl->capture == CAP_BAD_FINGER && f + 1 == BAD_FINGER_POSITION))) {
            int w = img.width, h = img.height;
            pm_image_free(&img);
            rc = blank_image(w, h, pm__vet_mix(j->p->seed ^ finger), &img, err);
        }
        if (!rc) {
            wd[f] = img.width;
            ht[f] = img.height;
            rc = pm_image_encode(&img, PM_IMAGE_WSQ, &save, &wsq[f], &wlen[f], err);
        }
        pm_image_free(&img);
        if (!rc && pl->partner_subject) {
            pm_image_t other = {0};
            rc = pm_synthfp_impression(&j->fp, &m, 2, &other, NULL, err);
            if (!rc)
                rc = pm_fp_extract(j->ex, &other, view, err);
            pm_image_free(&other);
            int held = 1;
            if (!rc) {
                view->finger = f + 1;
                rc = pm_gallery_insert(j->gallery, pl->partner_subject, 1, f + 1, view, err);
                if (rc == PM_EVALIDATION) {
                    /* the partner's impression gave too few minutiae to enrol:
                     * the partner does not hold this finger (a real enrolment
                     * failure), the generation goes on */
                    pm_error_clear(err);
                    rc = 0;
                    held = 0;
                }
            }
            pm_buf_t iso = {0};
            if (!rc && held)
                rc = pm_tmpl_write(PM_TMPL_ISO, view, 1, &iso, err);
            char path[4096];
            snprintf(path, sizeof path, "%s/partner/templates/%llu_%d.iso", j->dir,
                     (unsigned long long)pl->partner_subject, f + 1);
            if (!rc && held)
                rc = pm__vet_write_file(path, iso.data, iso.len, err);
            pm_buf_free(&iso);
            if (!rc && held) {
                pthread_mutex_lock(&j->lock);
                fprintf(j->enroll, "%llu,1,%d,templates/%llu_%d.iso\n",
                        (unsigned long long)pl->partner_subject, f + 1,
                        (unsigned long long)pl->partner_subject, f + 1);
                pthread_mutex_unlock(&j->lock);
            }
        }
        pm_synthfp_master_free(&m);
    }
    char tcn[64];
    snprintf(tcn, sizeof tcn, "COH%llu-A%06u", (unsigned long long)(j->p->seed % 1000000000ull),
             k + 1);
    pm_an2k_txn_t t = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    if (!rc) {
        pm_an2k_finger_t fingers[10];
        for (int f = 0; f < 10; f++)
            fingers[f] = (pm_an2k_finger_t){f + 1, wsq[f], wlen[f], PM_AN2K_CMP_WSQ,
                                            wd[f], ht[f], 500};
        pm_an2k_search_t q = {
            .header = {.date = "20260105", .dai = j->p->dai, .ori = j->p->ori, .tcn = tcn},
            .purpose = j->p->purpose,
            .fingers = fingers,
            .nfingers = 10,
        };
        rc = pm_an2k_search_build(&q, &t, err);
        if (!rc)
            rc = set_biographics(&t, j->names, (uint64_t)k + 1, err);
        if (!rc)
            rc = pm_an2k_finalize(&t, err);
        if (!rc)
            rc = pm_an2k_write(&t, &data, &len, err);
        pm_an2k_free(&t);
    }
    if (!rc) {
        if (pl->capture == CAP_CORRUPT)
            len = len * 3 / 5; /* a transfer cut short */
        char path[4096];
        snprintf(path, sizeof path, "%s/applicants/A%06u.an2", j->dir, k + 1);
        rc = pm__vet_write_file(path, data, len, err);
    }
    free(data);
    for (int f = 0; f < 10; f++)
        free(wsq[f]);
    free(view);
    return rc;
}

static void *cohort_worker(void *arg)
{
    cohort_job_t *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        if (j->failed || j->next >= j->p->applicants) {
            pthread_mutex_unlock(&j->lock);
            return NULL;
        }
        uint32_t k = j->next++;
        pthread_mutex_unlock(&j->lock);
        pm_error_t e = {0};
        int rc = make_applicant(j, k, &e);
        pthread_mutex_lock(&j->lock);
        if (rc && !j->failed) {
            j->failed = rc;
            j->err = e;
            pm_error_prefix(&j->err, "applicant A%06u", k + 1);
        }
        if (!rc) {
            j->done++;
            if (j->progress)
                j->progress(j->progress_ctx, j->done, j->p->applicants);
        }
        pthread_mutex_unlock(&j->lock);
    }
}

static int add_distractors(cohort_job_t *j, pm_error_t *err)
{
    pm_fingerprint_t *m = malloc(sizeof *m), *v = malloc(sizeof *v);
    int rc = m && v ? 0 : pm_error_set(err, PM_ENOMEM, "out of memory");
    uint64_t dseed = pm__vet_mix(j->p->seed ^ 0xd157ac70ull);
    for (uint32_t d = 0; !rc && d < j->p->distractors; d++)
        for (int f = 0; f < 10 && !rc; f++) {
            uint64_t id = (uint64_t)d * 10 + (uint64_t)f;
            pm_gallery_synth_master(dseed, id, m);
            pm_gallery_synth_impression(m, dseed, id, 1, NULL, v);
            v->finger = f + 1;
            rc = pm_gallery_insert(j->gallery, DISTRACTOR_BASE + d + 1, 1, f + 1, v, err);
        }
    free(m);
    free(v);
    return rc;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_truth(const cohort_job_t *j, pm_error_t *err)
{
    pm_buf_t b = {0};
    int rc = pm_buf_append_str(&b, "applicant,file,partner_subject,capture,expected\n");
    for (uint32_t k = 0; !rc && k < j->p->applicants; k++) {
        const applicant_plan_t *pl = &j->plan[k];
        const char *expected = pl->capture == CAP_BLANK || pl->capture == CAP_CORRUPT
                                   ? "failed_capture"
                                   : pl->partner_subject ? "match" : "no_match";
        char subj[24] = "";
        if (pl->partner_subject)
            snprintf(subj, sizeof subj, "%llu", (unsigned long long)pl->partner_subject);
        rc = pm_buf_printf(&b, "A%06u,applicants/A%06u.an2,%s,%s,%s\n", k + 1, k + 1, subj,
                           cap_names[pl->capture], expected);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/truth.csv", j->dir);
    if (!rc)
        rc = pm_file_write_atomic(path, b.data, b.len, err);
    else
        pm_error_set(err, rc, "truth: out of memory");
    pm_buf_free(&b);
    return rc;
}

int pm_vet_cohort_generate(const pm_vet_cohort_params_t *p, const char *dir,
                           pm_vet_progress_fn progress, void *progress_ctx,
                           pm_vet_cohort_stats_t *out_stats, pm_error_t *err)
{
    if (!p || !dir || !*dir)
        return pm_error_set(err, PM_EINVAL, "cohort: no parameters or folder");
    if (p->applicants < 1 || p->applicants > PM_VET_MAX_APPLICANTS)
        return pm_error_set(err, PM_EINVAL, "cohort: applicants must be 1..%u", PM_VET_MAX_APPLICANTS);
    if ((uint64_t)p->known + p->bad > p->applicants)
        return pm_error_set(err, PM_EINVAL,
                            "cohort: known (%u) + bad (%u) exceed the applicants (%u)", p->known,
                            p->bad, p->applicants);
    if (p->distractors > 10000000u)
        return pm_error_set(err, PM_EINVAL, "cohort: at most 10000000 distractors");
    if (p->threads < 0 || p->threads > PM_VET_MAX_THREADS)
        return pm_error_set(err, PM_EINVAL, "cohort: threads must be 0..%d", PM_VET_MAX_THREADS);
    pm_vet_cohort_params_t q = *p;
    if (!q.purpose) q.purpose = "REFUGEE_VETTING";
    if (!q.ori) q.ori = "CAN";
    if (!q.dai) q.dai = "USA";
    int threads = q.threads ? q.threads : 1;

    char path[4096];
    snprintf(path, sizeof path, "%s/truth.csv", dir);
    struct stat st;
    if (stat(path, &st) == 0)
        return pm_error_set(err, PM_EEXISTS, "cohort: %s already holds a cohort", dir);
    int rc = pm__vet_mkdir(dir, err);
    const char *subdirs[] = {"applicants", "partner", "partner/templates"};
    for (size_t i = 0; !rc && i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, subdirs[i]);
        rc = pm__vet_mkdir(path, err);
    }
    if (rc)
        return rc;

    cohort_job_t j = {.p = &q, .dir = dir, .progress = progress, .progress_ctx = progress_ctx};
    pthread_mutex_init(&j.lock, NULL);
    uint64_t t0 = pm_now_ns();
    double c0 = cpu_now();
    pm_synthfp_params_default(&j.fp);
    j.fp.seed = q.seed;
    j.fp.difficulty = q.difficulty;
    if ((rc = pm_synthfp_params_check(&j.fp, err)))
        goto out;
    pm_synth_params_t sp;
    pm_synth_params_default(&sp);
    sp.seed = q.seed;
    sp.people = q.applicants;
    if ((rc = pm_synth_new(&sp, &j.names, err)))
        goto out;
    if ((rc = pm_extractor_create(&j.ex, err)))
        goto out;
    pm_gallery_options_t go = {.threads = 1};
    if ((rc = pm_gallery_new(&go, &j.gallery, err)))
        goto out;
    if (!(j.plan = calloc(q.applicants, sizeof *j.plan))) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory");
        goto out;
    }
    /* known and bad applicants: the first `known` and next `bad` of a seeded
     * permutation; partner ids follow the permutation, not applicant order */
    {
        uint32_t *perm = malloc(q.applicants * sizeof *perm);
        if (!perm) {
            rc = pm_error_set(err, PM_ENOMEM, "out of memory");
            goto out;
        }
        for (uint32_t k = 0; k < q.applicants; k++)
            perm[k] = k;
        uint64_t s = pm__vet_mix(q.seed ^ 0xc0407ull);
        for (uint32_t k = q.applicants - 1; k > 0; k--) {
            s = pm__vet_mix(s);
            uint32_t r = (uint32_t)(s % ((uint64_t)k + 1));
            uint32_t tmp = perm[k];
            perm[k] = perm[r];
            perm[r] = tmp;
        }
        for (uint32_t i = 0; i < q.known; i++)
            j.plan[perm[i]].partner_subject = KNOWN_BASE + i + 1;
        for (uint32_t i = 0; i < q.bad; i++)
            j.plan[perm[q.known + i]].capture = 1 + (int)(i % 3);
        free(perm);
    }
    snprintf(path, sizeof path, "%s/partner/enroll.csv", dir);
    if (!(j.enroll = fopen(path, "w"))) {
        rc = pm_error_set(err, PM_EIO, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    fprintf(j.enroll, "subject,encounter,position,path\n");

    if (progress)
        progress(progress_ctx, 0, q.applicants);
    pthread_t tid[PM_VET_MAX_THREADS];
    int started = 0;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&tid[i], NULL, cohort_worker, &j) != 0)
            break;
        started++;
    }
    if (!started) {
        rc = pm_error_set(err, PM_EINTERNAL, "cannot start a worker thread");
        goto out;
    }
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    if (j.failed) {
        rc = j.failed;
        if (err)
            *err = j.err;
        goto out;
    }
    if (fclose(j.enroll) != 0) {
        j.enroll = NULL;
        rc = pm_error_set(err, PM_EIO, "writing partner/enroll.csv failed");
        goto out;
    }
    j.enroll = NULL;
    if ((rc = add_distractors(&j, err)))
        goto out;
    snprintf(path, sizeof path, "%s/partner/gallery.snap", dir);
    if ((rc = pm_gallery_save(j.gallery, path, 0, err)))
        goto out;
    if ((rc = write_truth(&j, err)))
        goto out;
    if (out_stats) {
        memset(out_stats, 0, sizeof *out_stats);
        out_stats->applicants = q.applicants;
        out_stats->known = q.known;
        out_stats->bad = q.bad;
        out_stats->distractors = q.distractors;
        out_stats->partner_fingers = pm_gallery_count(j.gallery);
        out_stats->seconds = (double)(pm_now_ns() - t0) / 1e9;
        out_stats->cpu_seconds = cpu_now() - c0;
    }
out:
    if (j.enroll)
        fclose(j.enroll);
    free(j.plan);
    pm_gallery_free(j.gallery);
    pm_extractor_free(j.ex);
    pm_synth_free(j.names);
    pthread_mutex_destroy(&j.lock);
    return rc;
}
