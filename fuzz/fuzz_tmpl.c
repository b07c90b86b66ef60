/* libFuzzer target: the ISO 19794-2, ANSI 378 and native template readers.
 * Whatever parses must re-encode, parse again and go through the matcher. */
#include <stdint.h>
#include <stdlib.h>

#include "perimeter/match.h"
#include "perimeter/tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const pm_tmpl_format_t formats[] = {PM_TMPL_UNKNOWN, PM_TMPL_ISO, PM_TMPL_ANSI,
                                               PM_TMPL_NATIVE};
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        pm_fingerprint_t *views = NULL;
        size_t n = 0;
        pm_error_t err = {0};
        int rc = pm_tmpl_read(data, size, formats[f], &views, &n, NULL, &err);
        if (rc != 0) {
            if (views || err.msg[0] == '\0')
                abort(); /* a failure must say why and return nothing */
            continue;
        }
        if (n == 0 || n > PM_TMPL_MAX_VIEWS)
            abort();
        pm_buf_t b = {0};
        if (pm_tmpl_write(PM_TMPL_NATIVE, views, n, &b, &err) == 0) {
            pm_fingerprint_t *again = NULL;
            size_t n2 = 0;
            if (pm_tmpl_read(b.data, b.len, PM_TMPL_NATIVE, &again, &n2, NULL, &err) != 0 || n2 != n)
                abort();
            free(again);
        }
        pm_buf_free(&b);
        pm_match_template_t *t = NULL;
        static pm_matcher_t *m; /* scratch kept across runs (harness only) */
        if (!m && pm_matcher_new(&m, NULL) != 0)
            abort();
        if (pm_match_prepare(&views[0], &t, NULL) == 0) {
            double s = pm_match_compare(m, t, t, NULL);
            if (!(s >= 0))
                abort();
        }
        pm_match_template_free(t);
        free(views);
    }
    return 0;
}
