/* Perimeter WSQ codec: private declarations shared by src/image/wsq_*.c.
 * Written from the FBI specification IAFIS-IC-0110 v3.1 (see docs/wsq.md). */
#ifndef PM_WSQ_INTERNAL_H
#define PM_WSQ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/error.h"

/* Markers (second byte after 0xFF). */
enum {
    PM__WSQ_SOI = 0xA0,
    PM__WSQ_EOI = 0xA1,
    PM__WSQ_SOF = 0xA2,
    PM__WSQ_SOB = 0xA3,
    PM__WSQ_DTT = 0xA4,
    PM__WSQ_DQT = 0xA5,
    PM__WSQ_DHT = 0xA6,
    PM__WSQ_DRT = 0xA7,
    PM__WSQ_COM = 0xA8,
    PM__WSQ_RST0 = 0xB0,
    PM__WSQ_RST7 = 0xB7,
};

#define PM__WSQ_NODES       20 /* wavelet-tree nodes (each split into four) */
#define PM__WSQ_BANDS       64 /* subbands in the quantisation tree */
#define PM__WSQ_CODED       60 /* subbands 60..63 are never transmitted */
#define PM__WSQ_MIN_DIM     32 /* five levels of decomposition need >= 2 samples at the last */
#define PM__WSQ_MAX_TAPS    31 /* longest filter we accept (the standard uses 9 and 7) */
#define PM__WSQ_HUFF_TABLES 8
#define PM__WSQ_LUT_BITS    10

/* Huffman symbols (IAFIS-IC-0110 table of "categories"). */
#define PM__WSQ_SYM_RUN_MAX 100 /* 1..100: that many zero coefficients */
#define PM__WSQ_SYM_POS8    101
#define PM__WSQ_SYM_NEG8    102
#define PM__WSQ_SYM_POS16   103
#define PM__WSQ_SYM_NEG16   104
#define PM__WSQ_SYM_RUN8    105
#define PM__WSQ_SYM_RUN16   106
#define PM__WSQ_SYM_VAL0    180 /* 107..254: coefficient value (symbol - 180), -73..74 */
#define PM__WSQ_VAL_MIN     (-73)
#define PM__WSQ_VAL_MAX     74

typedef struct pm__wsq_rect {
    int x, y, w, h;
} pm__wsq_rect_t;

/* Geometry of the fixed decomposition for one image size. */
typedef struct pm__wsq_tree {
    pm__wsq_rect_t node[PM__WSQ_NODES];
    uint8_t inv_x[PM__WSQ_NODES]; /* high band stored first along x */
    uint8_t inv_y[PM__WSQ_NODES]; /* high band stored first along y */
    pm__wsq_rect_t band[PM__WSQ_BANDS];
} pm__wsq_tree_t;

void pm__wsq_build_tree(int width, int height, pm__wsq_tree_t *out_tree);

/* The filter bank as transmitted (analysis filters, full symmetric taps). */
typedef struct pm__wsq_filters {
    int lo_len, hi_len;
    float lo[PM__WSQ_MAX_TAPS];
    float hi[PM__WSQ_MAX_TAPS];
} pm__wsq_filters_t;

/* Inverse transform of the whole tree in place. plane: width*height floats;
 * scratch: at least width*height floats (+ a few lines). Returns PM_OK or
 * PM_ENOMEM. */
int pm__wsq_inverse(float *plane, int width, int height, const pm__wsq_tree_t *tree,
                    const pm__wsq_filters_t *filters, pm_error_t *err);
/* Forward transform of the whole tree in place. */
int pm__wsq_forward(float *plane, int width, int height, const pm__wsq_tree_t *tree,
                    const pm__wsq_filters_t *filters, pm_error_t *err);

/* The standard 9/7 analysis filters as the encoder transmits them. */
void pm__wsq_standard_filters(pm__wsq_filters_t *out_filters);

/* ---- Huffman ---- */
typedef struct pm__wsq_huff {
    int defined;
    uint8_t counts[17];  /* counts[l] = number of codes of length l (1..16) */
    uint8_t values[256]; /* symbols in code order */
    int nvalues;
    /* decoding */
    int32_t maxcode[18]; /* largest code of length l, -1 if none */
    int32_t valptr[17];  /* index into values of the first code of length l */
    int32_t mincode[17];
    uint16_t lut[1 << PM__WSQ_LUT_BITS]; /* (len << 8) | symbol, 0 if longer code */
    /* encoding */
    uint16_t code[256];
    uint8_t size[256];
} pm__wsq_huff_t;

/* Builds the decode/encode tables from counts/values. PM_EFORMAT if the
 * counts over-subscribe the code space or a symbol repeats. */
int pm__wsq_huff_build(pm__wsq_huff_t *h, pm_error_t *err);
/* Optimal code lengths (<= 16 bits, all-ones code unused) from symbol
 * frequencies; fills counts/values and builds the tables. */
int pm__wsq_huff_from_freq(const uint32_t freq[256], pm__wsq_huff_t *h, pm_error_t *err);

/* Parses a scaled value: raw / 10^scale computed as the reference does. */
float pm__wsq_scaled_float(uint32_t raw, unsigned scale);
/* Chooses (raw, scale) with raw <= max_raw and the most decimal digits. */
void pm__wsq_to_scaled(double value, uint32_t max_raw, uint32_t *out_raw, uint8_t *out_scale);

#endif
