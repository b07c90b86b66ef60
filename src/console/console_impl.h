/* Internals shared by the console module's files. */
#ifndef PM_CONSOLE_IMPL_H
#define PM_CONSOLE_IMPL_H

#include <stdint.h>

#include "perimeter/console.h"
#include "perimeter/image.h"

typedef struct pm__plate {
    int w, h;
    uint8_t *px; /* RGB */
} pm__plate_t;

int pm__plate_new(pm__plate_t *p, int w, int h, uint8_t grey, pm_error_t *err);
void pm__plate_free(pm__plate_t *p);
void pm__plate_blit(pm__plate_t *p, const pm_image_t *img, int x0, int y0);
void pm__plate_line(pm__plate_t *p, double x0, double y0, double x1, double y1,
                    const uint8_t c[3], int thick);
/* A minutia: a ring and a tick along its direction (angle as minutiae.h). */
void pm__plate_minutia(pm__plate_t *p, double x, double y, double angle, int bifurcation);
int pm__plate_png(const pm__plate_t *p, pm_buf_t *out, pm_error_t *err);

/* 1 if s is a safe path segment: [A-Za-z0-9._-], 1-64, no leading dot. */
int pm__console_name_ok(const char *s);

#endif
