/* libFuzzer target: the agreement parser on arbitrary bytes. An accepted
 * agreement must hash the same from its own canonical text, and every
 * allow-list field must be a legal field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pm_agreement_t a;
    pm_error_t e;
    if (pm_agreement_parse((const char *)data, size, &a, &e) != PM_OK) {
        if (memchr(e.msg, '\0', sizeof e.msg) == NULL) abort();
        return 0;
    }
    pm_buf_t canon;
    pm_buf_init(&canon, 0);
    if (pm_agreement_canonical((const char *)data, size, &canon, &e) != PM_OK) abort();
    pm_agreement_t b;
    if (pm_agreement_parse((const char *)canon.data, canon.len, &b, &e) != PM_OK) abort();
    if (strcmp(a.hash_hex, b.hash_hex) != 0) abort();
    pm_buf_free(&canon);
    for (size_t i = 0; i < a.n_allow; i++)
        for (size_t f = 0; f < 32; f++)
            if ((a.allow[i].fields & (1u << f)) && !pm_agreement_field_name(f)) abort();
    if (a.retention_s[PM_RC_PROBE] != 0 || !a.review_before_adverse_action) abort();
    return 0;
}
