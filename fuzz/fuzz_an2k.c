/* libFuzzer target: the an2k reader, validator, dumps and writer on arbitrary
 * bytes. Whatever reads must write back byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/an2k.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pm_an2k_txn_t t;
    pm_error_t err;
    if (pm_an2k_read(data, size, &t, &err) == PM_OK) {
        pm_an2k_report_t rep;
        pm_an2k_validate(&t, &rep, &err);
        pm_an2k_report_free(&rep);
        pm_buf_t b;
        pm_buf_init(&b, 0);
        pm_an2k_dump_text(&t, &b, &err);
        pm_buf_reset(&b);
        pm_an2k_dump_json(&t, &b, &err);
        pm_buf_free(&b);
        for (size_t i = 0; i < t.nrecords; i++) {
            pm_an2k_image_ref_t ir;
            pm_an2k_image_ref(&t.records[i], &ir, &err);
            if (t.records[i].type == 9) {
                pm_fingerprint_t *fp = malloc(sizeof *fp);
                if (fp) pm_an2k_minutiae(&t, i, fp, &err);
                free(fp);
            }
        }
        pm_an2k_vetting_t v;
        pm_an2k_vetting_parse(&t, &v, &err);
        uint8_t *out;
        size_t n;
        if (pm_an2k_write(&t, &out, &n, &err) == PM_OK) {
            if (n != size || memcmp(out, data, size) != 0) abort(); /* round trip must be exact */
            free(out);
        }
    }
    pm_an2k_free(&t);
    return 0;
}
