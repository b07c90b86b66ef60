/* libFuzzer target for the WSQ decoder: header parsing and full decoding of
 * arbitrary bytes must never crash, hang or leak. Seeds in fuzz/corpus/wsq/
 * are written by our encoder (tests/test_wsq.c, test_fuzz_seeds).
 * Run: build-fuzz/fuzz/fuzz_wsq fuzz/corpus/wsq -max_total_time=600 */
#include <stddef.h>
#include <stdint.h>

#include "perimeter/wsq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pm_error_t err;
    pm_wsq_info_t info;
    (void)pm_wsq_info(data, size, &info, &err);
    pm_image_t img;
    /* A modest limit keeps each run fast; the size check itself is exercised. */
    if (pm_wsq_decode(data, size, 1024, 1024, &img, &err) == PM_OK) pm_image_free(&img);
    return 0;
}
