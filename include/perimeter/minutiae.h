/* Perimeter: the minutiae of one fingerprint view, shared by extraction (fp),
 * templates (tmpl) and matching (match). Fixed here so those modules agree.
 *
 * Conventions (those of ISO/IEC 19794-2:2005, so ISO records map 1:1):
 * - x to the right, y downwards, in pixels of the image the view came from,
 *   origin top-left; resolution in `ppi` of the view (extraction works at 500).
 * - angle in radians in [0, 2*pi), measured counter-clockwise on the displayed
 *   image from the horizontal axis to the right, i.e. a direction vector
 *   (dx, dy) in image coordinates has angle atan2(-dy, dx); the direction is
 *   the one ISO 19794-2 defines for each minutia type.
 * - quality 0..100 (ISO: 0 = not reported). */
#ifndef PERIMETER_MINUTIAE_H
#define PERIMETER_MINUTIAE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pm_minutia_type {
    PM_MINUTIA_OTHER = 0,
    PM_MINUTIA_ENDING = 1,
    PM_MINUTIA_BIFURCATION = 2,
} pm_minutia_type_t;

typedef struct pm_minutia {
    float x;
    float y;
    float angle; /* radians, see above */
    uint8_t type;    /* pm_minutia_type_t */
    uint8_t quality; /* 0..100 */
} pm_minutia_t;

/* Hard cap on minutiae per view (ISO allows 255 per view). */
#define PM_MAX_MINUTIAE 255

/* One finger view: its minutiae plus the facts of the image they came from. */
typedef struct pm_fingerprint {
    int width;   /* image width in pixels (0 if unknown) */
    int height;  /* image height in pixels */
    int ppi;     /* resolution of x/y (pixels per inch) */
    int quality; /* overall print quality 0..100 (predicts match performance) */
    int finger;  /* finger position code (ISO/ANSI: 0 unknown, 1..10) */
    size_t count;
    pm_minutia_t minutiae[PM_MAX_MINUTIAE];
} pm_fingerprint_t;

#ifdef __cplusplus
}
#endif
#endif
