/* libFuzzer target: the generic image decoder (every format by signature)
 * and the header probe on arbitrary bytes. A decoded image must have the
 * size its header announced and lie within the limits; when it decodes, it
 * must also resample and re-encode as PNG without error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pm_error_t err;
    pm_image_header_t hdr;
    int probed = pm_image_probe(data, size, &hdr, &err);
    /* small limits keep each run fast; they are exercised all the same */
    pm_image_limits_t limits = {.max_width = 1024, .max_height = 1024};
    pm_image_t img;
    if (pm_image_decode(data, size, &limits, &img, &err) != PM_OK) {
        if (img.pixels)
            abort(); /* failures leave no image behind */
        return 0;
    }
    if (probed != PM_OK || hdr.width != img.width || hdr.height != img.height ||
        img.width > 1024 || img.height > 1024 || !img.pixels)
        abort();
    if (img.width <= 256 && img.height <= 256) {
        pm_image_t out;
        img.ppi = 569;
        if (pm_image_resample(&img, 500, &out, &err) != PM_OK)
            abort();
        pm_image_free(&out);
        uint8_t *png;
        size_t n;
        if (pm_image_encode(&img, PM_IMAGE_PNG, NULL, &png, &n, &err) != PM_OK)
            abort();
        free(png);
    }
    pm_image_free(&img);
    return 0;
}
