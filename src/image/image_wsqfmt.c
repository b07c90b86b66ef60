/* WSQ in the generic image API: the header through pm_wsq_info (so the size
 * limit holds before the codec allocates), pixels through pm_wsq_decode,
 * encoding through pm_wsq_encode. The codec itself is in wsq*.c. */
#include <stdlib.h>

#include "image/image_internal.h"
#include "perimeter/wsq.h"

int pm__wsqfmt_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                      pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err)
{
    pm_wsq_info_t info;
    int rc = pm_wsq_info(data, len, &info, err);
    if (rc)
        return rc;
    out_header->width = info.width;
    out_header->height = info.height;
    out_header->ppi = info.ppi > 0 ? info.ppi : 500; /* WSQ is 500 ppi by convention */
    out_header->channels = 1;
    out_header->bit_depth = 8;
    rc = pm__image_check_size(info.width, info.height, max_width, max_height, "wsq", err);
    if (rc || !out_img)
        return rc;
    rc = pm_wsq_decode(data, len, max_width, max_height, out_img, err);
    if (rc)
        return rc;
    if (out_img->width != info.width || out_img->height != info.height) {
        pm_image_free(out_img);
        return pm_error_set(err, PM_EINTERNAL, "wsq: decoded %dx%d, header says %dx%d",
                            out_img->width, out_img->height, info.width, info.height);
    }
    if (out_img->ppi <= 0)
        out_img->ppi = info.ppi;
    return PM_OK;
}

int pm__wsqfmt_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                      pm_error_t *err)
{
    double bitrate = opts && opts->wsq_bitrate > 0 ? opts->wsq_bitrate : 0.75;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_wsq_encode(img, bitrate, &data, &len, err);
    if (rc)
        return rc;
    rc = pm_buf_append(out, data, len);
    free(data);
    return rc ? pm_error_set(err, rc, "wsq: %s", pm_strerror(rc)) : PM_OK;
}
