/* libFuzzer target: the vetting run's reading of the partner's answer to a
 * biometric query as our node relays it (pm__vet_answer_parse,
 * src/vet/transport.c). Input: one byte choosing the HTTP status (200, 403,
 * 503, 500), then the body. Invariants: an answer is no match, match (at most
 * PM_VET_MAX_CANDIDATES candidates) or refused with a rule; every string
 * field is NUL-terminated within its array; no answer is a negative code
 * with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/vet.h"
#include "vet/vet_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 403, 503, 500};
    if (size < 1)
        return 0;
    long status = statuses[data[0] % 4];
    pm_vet_answer_t a;
    memset(&a, 0, sizeof a);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm__vet_answer_parse(status, data + 1, size - 1, &a, &e);
    if (rc) {
        if (rc > 0 || memchr(e.msg, '\0', sizeof e.msg) == NULL) abort();
        return 0;
    }
    if (a.result != PM_VET_NO_MATCH && a.result != PM_VET_MATCH && a.result != PM_VET_REFUSED)
        abort();
    if (a.ncandidates > PM_VET_MAX_CANDIDATES) abort();
    if (a.result == PM_VET_REFUSED && (status != 403 || !a.rule[0])) abort();
    if (memchr(a.partner_ref, '\0', sizeof a.partner_ref) == NULL ||
        memchr(a.disclosed, '\0', sizeof a.disclosed) == NULL ||
        memchr(a.rule, '\0', sizeof a.rule) == NULL || memchr(a.reason, '\0', sizeof a.reason) == NULL)
        abort();
    for (size_t i = 0; i < a.ncandidates; i++)
        if (memchr(a.candidates[i].subject, '\0', sizeof a.candidates[i].subject) == NULL) abort();
    return 0;
}
