/* Private to the synth module's fingerprint part: helpers shared by the
 * master generator (fingerprint.c) and the impressions (fingerprint_imp.c). */
#ifndef PM_SYNTH_FINGERPRINT_INT_H
#define PM_SYNTH_FINGERPRINT_INT_H

#include <stdint.h>

#include "perimeter/synthfp.h"
#include "synth_int.h"

#define SFP_PI 3.14159265358979323846

/* Stream discriminators of the fingerprint generator (kept apart from the
 * population's streams). */
#define SFP_STREAM_MASTER 0x5046504d41535452ull     /* "SFPMASTR" */
#define SFP_STREAM_IMPRESSION 0x5046504d494d5052ull /* "SFPMIMPR" */

/* Smooth random field ("value noise"): random values on a grid of `cell`
 * pixels, interpolated with a smoothstep. */
typedef struct sfp_noise {
    int gw, gh;
    float cell;
    float *v;
} sfp_noise_t;

int pm__sfp_noise_init(sfp_noise_t *n, pm__rng_t *r, int w, int h, float cell);
float pm__sfp_noise_at(const sfp_noise_t *n, float x, float y); /* about -1..1 */
void pm__sfp_noise_free(sfp_noise_t *n);

static inline float sfp_clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static inline float sfp_smoothstep(float e0, float e1, float x)
{
    float t = sfp_clampf((x - e0) / (e1 - e0), 0.f, 1.f);
    return t * t * (3.f - 2.f * t);
}

/* Bilinear sample of a w x h float map (0 outside). */
float pm__sfp_bilinear(const float *map, int w, int h, float x, float y);

#endif
