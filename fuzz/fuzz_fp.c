/* libFuzzer target: minutiae extraction on arbitrary pixels.
 * Bytes 0-1: width and height (64..191), byte 2: resolution selector; the rest
 * is tiled over the image. Whatever the pixels, extraction must either fail
 * with a message and an empty result or give minutiae inside the image with
 * valid angles, types and qualities. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/fp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pm_extractor_t *ex;
    if (!ex && pm_extractor_create(&ex, NULL) != PM_OK)
        abort();
    if (size < 4)
        return 0;
    static const int ppis[4] = {0, 500, 400, 700};
    pm_image_t img;
    if (pm_image_alloc(&img, 64 + data[0] % 128, 64 + data[1] % 128, ppis[data[2] & 3], NULL))
        abort();
    const uint8_t *px = data + 3;
    size_t n = size - 3, total = (size_t)img.width * img.height;
    for (size_t i = 0; i < total; i++)
        img.pixels[i] = px[i % n];
    pm_fingerprint_t fp;
    pm_fp_maps_t maps;
    pm_error_t err = {0};
    int rc = pm_fp_extract_maps(ex, &img, &fp, &maps, &err);
    if (rc != PM_OK) {
        if (fp.count != 0 || err.msg[0] == '\0')
            abort();
    } else {
        if (fp.count == 0 || fp.count > PM_MAX_MINUTIAE || fp.quality < 0 || fp.quality > 100)
            abort();
        for (size_t i = 0; i < fp.count; i++) {
            const pm_minutia_t *m = &fp.minutiae[i];
            if (!(m->x >= 0 && m->x < img.width && m->y >= 0 && m->y < img.height) ||
                !(m->angle >= 0 && m->angle < 6.2832f) || m->quality > 100 ||
                (m->type != PM_MINUTIA_ENDING && m->type != PM_MINUTIA_BIFURCATION))
                abort();
        }
    }
    pm_fp_maps_free(&maps);
    pm_image_free(&img);
    return 0;
}
