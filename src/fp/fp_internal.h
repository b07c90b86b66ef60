/* Private to the fp module: the extractor context and one extraction's work area. */
#ifndef PM_FP_INTERNAL_H
#define PM_FP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/fp.h"

#define FP_CELL 8       /* block (cell) size in pixels at 500 ppi */
#define FP_NORI 24      /* quantised orientations of the Gabor bank over [0, pi) */
#define FP_PMIN 5       /* shortest ridge period of the bank (pixels) */
#define FP_PMAX 15      /* longest ridge period of the bank */
#define FP_NPER (FP_PMAX - FP_PMIN + 1)
#define FP_KR_MAX 8     /* largest Gabor kernel radius; also the image padding */
#define FP_PI 3.14159265358979323846f

typedef struct fp_kernel {
    int r;          /* radius; size (2r+1)^2 */
    float *k;       /* (2r+1)^2 taps, zero mean */
} fp_kernel_t;

struct pm_extractor {
    fp_kernel_t gabor[FP_NPER][FP_NORI];
    uint8_t ring_components[256]; /* 8-connected foreground components among the 8 neighbours */
    uint8_t ring_crossings[256];  /* crossing number (0..4) of the 8 neighbours */
    uint8_t ring_count[256];      /* number of set neighbours */
    float *kernel_store;
    pm_fp_params_t params;
};

/* One extraction's state (private to a call). Pixel arrays are pw x ph, the
 * working image padded right/bottom to whole cells; `w`/`h` are the real size. */
typedef struct fp_work {
    const pm_extractor_t *ex;
    int w, h;   /* working image size (500 ppi) */
    int bw, bh; /* cells */
    int pw, ph; /* bw*FP_CELL, bh*FP_CELL */
    float *img; /* pw*ph grey, replicated into the padding */
    /* per-cell maps */
    float *gxx, *gyy, *gxy; /* gradient moments summed over the cell */
    float *orient;          /* ridge orientation in [0, pi) */
    float *coh;             /* coherence 0..1 */
    float *energy;          /* mean squared gradient over a 3x3-cell window */
    float *period;          /* ridge period (pixels) */
    uint8_t *mask;          /* fingerprint area */
    /* per-pixel maps */
    float *enh;        /* Gabor output (ridges negative) */
    uint8_t *bin;      /* 1 = ridge */
    uint8_t *skel;     /* 1 = skeleton */
    float enh_scale;   /* typical |enh| for display */
    double mean_coh;   /* mean coherence in the mask */
    int mask_cells;
} fp_work_t;

int pm__fp_field(fp_work_t *wk, pm_error_t *err);
int pm__fp_enhance(fp_work_t *wk, pm_error_t *err);
int pm__fp_skeleton(fp_work_t *wk, pm_error_t *err);
int pm__fp_minutiae(fp_work_t *wk, pm_fingerprint_t *out, pm_error_t *err);
int pm__fp_bank_init(pm_extractor_t *ex);

static inline int fp_clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static inline float fp_clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

#endif
