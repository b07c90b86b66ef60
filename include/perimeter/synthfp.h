/* Perimeter synth module, fingerprint part: synthetic fingerprint images with
 * ground truth (SFinGe family of methods, see docs/synth.md).
 *
 * A finger is a "master": a ridge pattern grown by iterative oriented Gabor
 * filtering over an orientation field from a global model with singular
 * points (arch, tented arch, left/right loop, whorl) and a ridge-period map,
 * inside a fingertip-shaped mask. Impressions of a master differ in placement,
 * rotation, contact area, non-linear skin distortion, pressure (ridge width),
 * noise, scratches and background. Everything is deterministic from the seed
 * and the finger number, whatever the number of threads. No global state. */
#ifndef PERIMETER_SYNTHFP_H
#define PERIMETER_SYNTHFP_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/core.h"
#include "perimeter/error.h"
#include "perimeter/fp.h"
#include "perimeter/image.h"
#include "perimeter/minutiae.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_SYNTHFP_MIN_DIM 256   /* impression width/height limits (pixels, 500 ppi) */
#define PM_SYNTHFP_MAX_DIM 1024
#define PM_SYNTHFP_MAX_IMPRESSIONS 64
#define PM_SYNTHFP_MAX_FINGERS 10000000u
#define PM_SYNTHFP_MAX_THREADS 256
#define PM_SYNTHFP_MAX_DIFFICULTY 3.0

/* Pattern classes (Henry). */
typedef enum pm_synthfp_class {
    PM_SYNTHFP_ARCH = 0,
    PM_SYNTHFP_TENTED_ARCH,
    PM_SYNTHFP_LEFT_LOOP,  /* ridges enter and leave on the left; delta on the right */
    PM_SYNTHFP_RIGHT_LOOP, /* delta on the left */
    PM_SYNTHFP_WHORL,
    PM_SYNTHFP_CLASS_COUNT
} pm_synthfp_class_t;

/* Kind of impression (what went wrong at capture). */
typedef enum pm_synthfp_quality {
    PM_SYNTHFP_GOOD = 0,
    PM_SYNTHFP_DRY,     /* thin, broken ridges, low contrast */
    PM_SYNTHFP_WET,     /* thick ridges that merge, dark */
    PM_SYNTHFP_SMUDGED, /* blurred and smeared (finger moved) */
    PM_SYNTHFP_PARTIAL, /* small, off-centre contact */
    PM_SYNTHFP_QUALITY_COUNT
} pm_synthfp_quality_t;

/* "arch", "tented_arch", "left_loop", "right_loop", "whorl"; "" if out of range. */
const char *pm_synthfp_class_name(pm_synthfp_class_t c);
/* "good", "dry", "wet", "smudged", "partial"; "" if out of range. */
const char *pm_synthfp_quality_name(pm_synthfp_quality_t q);

typedef struct pm_synthfp_params {
    uint64_t seed;
    int width, height; /* impression size, PM_SYNTHFP_MIN_DIM..PM_SYNTHFP_MAX_DIM; both 0
                          (default): a sensor per group of ten fingers, see below */
    double difficulty; /* 0..PM_SYNTHFP_MAX_DIFFICULTY: scales displacement, rotation,
                          distortion, noise and how often captures go wrong (default 1) */
    int force_class;   /* -1 (default): classes by population frequency; else a class */
    int rolled;        /* 1: rolled ten-print impressions (the finger's surface
                          unrolled: a 1.45x wider finger, 800x750 images unless a size
                          is given, upright, full contact); masters differ from flat ones */
} pm_synthfp_params_t;

void pm_synthfp_params_default(pm_synthfp_params_t *p);

/* The capture device of a finger's impressions. With width = height = 0 in
 * the parameters, fingers 10k..10k+9 (one DBn_B folder) share a sensor,
 * cycling through four with the image sizes of the FVC2002 sensors (388x374,
 * 296x560, 300x300, 288x384) and their own noise and contrast; otherwise the
 * given size with noise and contrast factors 1. Rolled impressions without a
 * size are 800x750 (1.6 x 1.5 inch, a ten-print card's rolled box). */
typedef struct pm_synthfp_sensor {
    int width, height;
    double noise;    /* factor on the sensor noise */
    double contrast; /* factor on the ridge contrast */
    const char *name; /* static */
} pm_synthfp_sensor_t;

void pm_synthfp_sensor(const pm_synthfp_params_t *p, uint64_t finger, pm_synthfp_sensor_t *out);
/* PM_EINVAL with a message when a field is out of its range. */
int pm_synthfp_params_check(const pm_synthfp_params_t *p, pm_error_t *err);

/* A singular point in the coordinates of the image it is given for. */
typedef struct pm_synthfp_singular {
    int delta; /* 0 core, 1 delta */
    float x, y;
    int visible; /* impressions: 1 if inside the image and the contact area */
} pm_synthfp_singular_t;

/* One master fingerprint (the finger itself). */
typedef struct pm_synthfp_master {
    uint64_t finger; /* finger number (0-based), the key of its random stream */
    pm_synthfp_class_t cls;
    int width, height; /* master canvas (pixels, 500 ppi) */
    float *ridge;      /* width*height ridge field, about -1 (valley) .. +1 (ridge crest) */
    uint8_t *mask;     /* width*height 1 = fingertip skin */
    float *skin;       /* width*height the mask softened over ~12 px (0..1): the
                          finger's outline touches the sensor lightly */
    double period;     /* mean ridge period (pixels) */
    float centre_x, centre_y; /* centre of the pattern (about the core), where
                                 impressions are centred before they move */
    int n_singular;
    pm_synthfp_singular_t singular[4];
    pm_fingerprint_t minutiae; /* the master's minutiae (master coordinates) */
    int minutiae_ok;           /* 0 if no extractor was given or extraction failed */
} pm_synthfp_master_t;

/* What was done to make one impression. Positions are in impression pixels. */
typedef struct pm_synthfp_impression {
    int impression; /* 1-based */
    pm_synthfp_quality_t quality;
    const char *sensor; /* pm_synthfp_sensor_t.name (static) */
    int width, height;
    double rotation_deg;      /* counter-clockwise on the displayed image */
    double anchor_x, anchor_y; /* master point (contact centre) ... */
    double place_x, place_y;   /* ... lands here in the impression */
    double distortion_deg;     /* skin distortion outside the close contact region */
    double distortion_dx, distortion_dy;
    double contact_a, contact_b; /* contact ellipse semi-axes (pixels) */
    double ridge_threshold;      /* -0.5 (wet, thick) .. 0.5 (dry, thin) */
    int n_singular;
    pm_synthfp_singular_t singular[4];
    /* the master's minutiae mapped into the impression (those in the contact area) */
    pm_fingerprint_t minutiae;
} pm_synthfp_impression_t;

/* Generates master `finger` of p->seed into *out (caller frees with
 * pm_synthfp_master_free). ex (may be NULL) extracts its minutiae. */
int pm_synthfp_master(const pm_synthfp_params_t *p, uint64_t finger, const pm_extractor_t *ex,
                      pm_synthfp_master_t *out, pm_error_t *err);
void pm_synthfp_master_free(pm_synthfp_master_t *m);
/* The clean master as a grey 500-ppi image (dark ridges on white); caller frees. */
int pm_synthfp_master_image(const pm_synthfp_master_t *m, pm_image_t *out, pm_error_t *err);
/* Impression number `impression` (1-based) of m at 500 ppi, of the size of
 * the finger's sensor (pm_synthfp_sensor), into *out (caller frees); *truth
 * (may be NULL) gets what was done. p must be the parameters m was made with. */
int pm_synthfp_impression(const pm_synthfp_params_t *p, const pm_synthfp_master_t *m,
                          int impression, pm_image_t *out, pm_synthfp_impression_t *truth,
                          pm_error_t *err);

/* Appends one JSON line for a finger: its class, singular points and master
 * minutiae, and for each impression its file name (files[i]; files may be
 * NULL), quality kind, transformation and mapped singular points and minutiae. */
int pm_synthfp_truth_jsonl(const pm_synthfp_master_t *m, const pm_synthfp_impression_t *imps,
                           size_t n, const char *const *files, pm_buf_t *out);

/* Called once per finger with its master, impressions and their truth, on a
 * worker thread (several at once: it must be thread-safe). Everything is
 * valid only during the call. A nonzero return stops the run. */
typedef int (*pm_synthfp_fn)(void *user, const pm_synthfp_master_t *m, const pm_image_t *imgs,
                             const pm_synthfp_impression_t *truth, int n_impressions);

/* Generates fingers first..first+count-1 with `impressions` each on `threads`
 * worker threads (a fixed pool; 0 = 1), calling cb for each finger. The output
 * does not depend on the number of threads. Returns 0, the first nonzero
 * callback value, or a negative code. */
int pm_synthfp_run(const pm_synthfp_params_t *p, uint64_t first, uint64_t count, int impressions,
                   int threads, const pm_extractor_t *ex, pm_synthfp_fn cb, void *user,
                   pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
