/* vet module internals shared between its files. */
#ifndef PERIMETER_VET_INT_H
#define PERIMETER_VET_INT_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/error.h"

/* The first line of summary.txt's review section (refresh.c writes it,
 * vet.c keeps it when a resumed run rewrites the summary). */
/* re-asks of one applicant's query at most (a chain of lost answers:
 * -R, -R2, ..., docs/vet.md "Resuming") */
#define PM__VET_REASK_MAX 8
#define PM__VET_REVIEW_SECTION "review (R14, from the node's queue):"

/* splitmix64 finaliser: a well-mixed 64-bit hash of x. */
uint64_t pm__vet_mix(uint64_t x);
/* mkdir that accepts an existing folder. */
int pm__vet_mkdir(const char *path, pm_error_t *err);
/* Writes a whole file (not atomically: generated data). */
int pm__vet_write_file(const char *path, const void *data, size_t len, pm_error_t *err);

struct pm_vet_answer;
/* The node's answer to one biometric query (HTTP status and body) into *out
 * (transport.c; fuzz/fuzz_vet_answer.c). 0 for an answer (no match, match,
 * refused), a negative code when none came. */
int pm__vet_answer_parse(long status, const void *data, size_t len, struct pm_vet_answer *out,
                         pm_error_t *err);

#endif
