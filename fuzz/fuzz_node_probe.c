/* libFuzzer target: the node's probe reader (src/node/probe.c), which turns
 * a partner's or an officer's biometric probe into finger views: ISO 19794-2
 * and ANSI 378 templates, WSQ and PNG images (through the extractor), ANSI/NIST
 * transactions, and the R5 check of a Type-2 record.
 * Input: one byte choosing the format, then the probe. Invariants: a refusal
 * has a message; an accepted probe has 1..PM__PROBE_MAX views, each position
 * 0..10 and each view's minutiae count within its array. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"
#include "perimeter/fp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pm_extractor_t *ex;
static const char *const formats[] = {"iso19794-2", "ansi378", "wsq", "png", "an2k", "bogus"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ex) {
        pm_error_t e;
        if (pm_extractor_create(&ex, &e) != PM_OK) abort();
    }
    if (size < 1)
        return 0;
    const char *fmt = formats[data[0] % (sizeof formats / sizeof formats[0])];
    pm_error_t e;
    pm_error_clear(&e);
    pm__probe_t *p = calloc(1, sizeof *p);
    if (!p) return 0;
    (void)pm__probe_has_biographic(fmt, data + 1, size - 1);
    int rc = pm__probe_read(ex, fmt, data + 1, size - 1, p, &e);
    if (rc) {
        if (memchr(e.msg, '\0', sizeof e.msg) == NULL) abort();
        if (strcmp(fmt, "bogus") == 0 && rc != PM_EUNSUPPORTED) abort();
    } else {
        if (p->n < 1 || p->n > PM__PROBE_MAX) abort();
        for (int i = 0; i < p->n; i++) {
            if (p->position[i] < 0 || p->position[i] > 10) abort();
            if (p->views[i].count > PM_MAX_MINUTIAE) abort();
        }
    }
    pm__probe_wipe(p);
    free(p);
    return 0;
}
