#include "perimeter/image.h"

#include <stdlib.h>
#include <string.h>

int pm_image_alloc(pm_image_t *img, int width, int height, int ppi, pm_error_t *err)
{
    memset(img, 0, sizeof *img);
    if (width <= 0 || height <= 0 || width > 65535 || height > 65535)
        return pm_error_set(err, PM_ERANGE, "image size %dx%d out of range", width, height);
    img->pixels = calloc((size_t)width * (size_t)height, 1);
    if (!img->pixels)
        return pm_error_set(err, PM_ENOMEM, "out of memory for %dx%d image", width, height);
    img->width = width;
    img->height = height;
    img->ppi = ppi;
    return PM_OK;
}

void pm_image_free(pm_image_t *img)
{
    if (!img)
        return;
    free(img->pixels);
    img->pixels = NULL;
    img->width = img->height = 0;
}
