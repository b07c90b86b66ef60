/* libFuzzer target: the crossing readers (CSV and JSON Lines) and the MRZ
 * validator on arbitrary bytes. Every record a reader accepts must survive a
 * write and re-read unchanged, in both formats. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/travel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reread(const pm_crossing_t *c, pm_crossing_format_t fmt)
{
    pm_buf_t b;
    pm_buf_init(&b, 0);
    if (fmt == PM_CROSSING_FORMAT_CSV) {
        pm_crossing_csv_header(&b);
        pm_crossing_to_csv(c, &b);
    } else {
        pm_crossing_to_jsonl(c, 1, &b);
    }
    pm_crossing_reader_t *r = NULL;
    pm_error_t e;
    if (pm_crossing_reader_open_mem((const char *)b.data, b.len, fmt, &r, &e) == PM_OK) {
        pm_crossing_t back;
        if (pm_crossing_reader_next(r, &back, NULL, &e) != 1 ||
            memcmp(&back, c, sizeof back) != 0)
            abort();
        pm_crossing_reader_free(r);
    }
    pm_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int fmt = PM_CROSSING_FORMAT_CSV; fmt <= PM_CROSSING_FORMAT_JSONL; fmt++) {
        pm_crossing_reader_t *r = NULL;
        pm_error_t e;
        if (pm_crossing_reader_open_mem((const char *)data, size, (pm_crossing_format_t)fmt, &r,
                                        &e) != PM_OK)
            continue;
        pm_crossing_t c;
        for (int rows = 0; rows < 10000; rows++) {
            int rc = pm_crossing_reader_next(r, &c, NULL, &e);
            if (rc == 0 || (rc < 0 && rc != PM_EVALIDATION))
                break;
            if (rc == 1) {
                reread(&c, PM_CROSSING_FORMAT_CSV);
                reread(&c, PM_CROSSING_FORMAT_JSONL);
            }
        }
        pm_crossing_reader_free(r);
    }
    if (size < 200) {
        char mrz[256];
        memcpy(mrz, data, size);
        mrz[size] = '\0';
        pm_error_t e;
        pm_mrz_validate(mrz, NULL, &e);
    }
    return 0;
}
