/* vet module internals: the applicant list and the journal. */
#ifndef PERIMETER_VET_RUN_H
#define PERIMETER_VET_RUN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "perimeter/error.h"
#include "perimeter/vet.h"
#include "vet/vet_int.h"

struct sqlite3;

enum { PM__VET_PENDING = 0, PM__VET_SENT = 1, PM__VET_DONE = 2 };

/* One applicant of the cohort: a transaction file or a folder of images. */
typedef struct pm__vet_applicant {
    char id[PM_VET_ID_MAX]; /* file or folder name without extension */
    char *path;             /* malloc'd */
    int is_dir;
    int64_t seq;            /* journal row */
    int state;              /* PM__VET_* at the start of this run */
} pm__vet_applicant_t;

typedef struct pm__vet_journal {
    struct sqlite3 *db;
    pthread_mutex_t lock;
    char nonce[17];
} pm__vet_journal_t;

typedef struct pm__vet_row {
    int64_t seq;
    const char *applicant, *file, *state, *outcome, *recapture, *candidates, *last_error;
    int attempts, local_hits;
    int64_t review_id; /* R14 review item of a match in the asking node's queue (0: none) */
} pm__vet_row_t;
typedef int (*pm__vet_row_fn)(void *ctx, const pm__vet_row_t *r, pm_error_t *err);

/* Opens (creating) the journal at path; checks that it belongs to this cohort
 * and purpose (PM_ESTATE otherwise) and adds the applicants not in it yet. */
int pm__vet_journal_open(pm__vet_journal_t *j, const char *path, const char *cohort,
                         const char *purpose, const pm__vet_applicant_t *apps, size_t n,
                         pm_error_t *err);
void pm__vet_journal_close(pm__vet_journal_t *j);
/* Fills seq and state of each applicant from the journal. */
int pm__vet_journal_load(pm__vet_journal_t *j, pm__vet_applicant_t *apps, size_t n,
                         pm_error_t *err);
/* Committed before the transport is called. */
int pm__vet_journal_sent(pm__vet_journal_t *j, int64_t seq, pm_error_t *err);
int pm__vet_journal_error(pm__vet_journal_t *j, int64_t seq, const char *message,
                          pm_error_t *err);
/* Committed after the case file is written: the outcome counts from here on. */
int pm__vet_journal_done(pm__vet_journal_t *j, int64_t seq, const char *outcome,
                         const char *recapture, const char *candidates, int local_hits,
                         int64_t review_id, pm_error_t *err);
/* Every row in seq order. */
int pm__vet_journal_each(pm__vet_journal_t *j, pm__vet_row_fn fn, void *ctx, pm_error_t *err);

uint64_t pm__vet_random64(void);

#endif
