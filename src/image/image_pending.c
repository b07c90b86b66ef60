/* Formats whose codecs are not written yet report PM_EUNSUPPORTED. */
#include "image/image_internal.h"

#define PENDING_DECODER(fn, name)                                                                  \
    int fn(const uint8_t *data, size_t len, int max_width, int max_height,                         \
           pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err)                    \
    {                                                                                              \
        (void)data, (void)len, (void)max_width, (void)max_height, (void)out_header,                \
            (void)out_img;                                                                         \
        return pm_error_set(err, PM_EUNSUPPORTED, name ": decoder not built yet");                 \
    }
#define PENDING_ENCODER(fn, name)                                                                  \
    int fn(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,              \
           pm_error_t *err)                                                                        \
    {                                                                                              \
        (void)img, (void)opts, (void)out;                                                          \
        return pm_error_set(err, PM_EUNSUPPORTED, name ": encoder not built yet");                 \
    }

PENDING_DECODER(pm__jpeg_decode, "jpeg")
PENDING_DECODER(pm__jp2_decode, "jp2")
PENDING_DECODER(pm__bmp_decode, "bmp")
PENDING_DECODER(pm__pnm_decode, "pgm")
PENDING_ENCODER(pm__jpeg_encode, "jpeg")
PENDING_ENCODER(pm__jp2_encode, "jp2")
PENDING_ENCODER(pm__bmp_encode, "bmp")
PENDING_ENCODER(pm__pgm_encode, "pgm")
