/* libFuzzer target: the disclosure log reader (the chain walk used by open,
 * verify and report) and the checkpoint line parser, on arbitrary bytes.
 * Invariants: an intact prefix is never longer than the input, a fault names
 * an entry just past the intact prefix, and a parsed checkpoint survives a
 * write and re-read unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pm_audit_verify_result_t r;
    size_t good = 0;
    int tail = 0;
    int rc = pm__audit_walk(data, size, NULL, NULL, &r, &good, &tail);
    if (good > size) abort();
    if (rc == PM_OK && (r.bad_seq != 0 || good != size)) abort();
    if (rc != PM_OK && (rc != PM_ECORRUPT || r.bad_seq != r.entries + 1)) abort();

    pm_audit_checkpoint_t cp, back;
    pm_error_t e;
    if (pm_audit_checkpoint_from_json((const char *)data, size, &cp, &e) == PM_OK) {
        pm_buf_t b;
        pm_buf_init(&b, 0);
        if (pm_audit_checkpoint_to_json(&cp, &b) != PM_OK) abort();
        if (pm_audit_checkpoint_from_json((const char *)b.data, b.len, &back, &e) != PM_OK) abort();
        if (memcmp(&cp, &back, sizeof cp) != 0) abort();
        pm_audit_checkpoint_check(&cp, NULL, &e); /* must not crash; almost always refused */
        pm_buf_free(&b);
    }
    return 0;
}
