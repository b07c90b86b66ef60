/* Private layout of prepared templates and matcher scratch (src/match only). */
#ifndef PM_MATCH_INTERNAL_H
#define PM_MATCH_INTERNAL_H

#include <stdint.h>

#include "perimeter/match.h"
#include "perimeter/minutiae.h"

/* Neighbour graph */
#define PM__K_NEAREST 9
#define PM__MAX_DEGREE 20
#define PM__MIN_EDGE_LEN 6
#define PM__MAX_EDGE_LEN 255

/* Tolerances (500 ppi pixels, 1/256 turns) */
#define PM__ANGLE_TOL 14 /* ~20 degrees */
static inline int pm__len_tol(int len) { return 4 + len / 10; }

/* Edge hash: length bins of 16 px, angle bins of 32 units (8 per turn). */
#define PM__LEN_BIN 16
#define PM__LEN_BINS 16
#define PM__ANGLE_SHIFT 5
#define PM__ANGLE_BINS 8
#define PM__BUCKETS (PM__LEN_BINS * PM__ANGLE_BINS * PM__ANGLE_BINS)

/* Area mask: 16 px cells covering 1024 x 1024 px at 500 ppi. */
#define PM__CELL 16
#define PM__GRID 64

/* Directed edge from minutia i (implicit: its list) to j. ai/aj: angle of the
 * edge i->j minus the direction of i / of j, in 1/256 turns. */
typedef struct pm__edge {
    uint8_t j;
    uint8_t ai;
    uint8_t aj;
    uint8_t pad;
    uint16_t len;
} pm__edge_t;

typedef struct pm__hentry {
    uint8_t i;
    uint8_t j;
    uint8_t ai;
    uint8_t aj;
    uint16_t len;
} pm__hentry_t;

struct pm_match_template {
    int n;
    int nedges;
    int nhash;
    int16_t x[PM_MAX_MINUTIAE];
    int16_t y[PM_MAX_MINUTIAE];
    uint8_t dir[PM_MAX_MINUTIAE];
    uint8_t type[PM_MAX_MINUTIAE];
    uint16_t edge_start[PM_MAX_MINUTIAE + 1];
    pm__edge_t *edges;
    uint32_t bucket_start[PM__BUCKETS + 1];
    pm__hentry_t *hash;
    uint8_t mask[PM__GRID][PM__GRID];
};

#define PM__MAX_ROOTS 24
#define PM__HEAP_CAP (PM_MAX_MINUTIAE * PM__MAX_DEGREE * PM__MAX_DEGREE)

struct pm_matcher {
    uint8_t votes[PM_MAX_MINUTIAE * PM_MAX_MINUTIAE];
    uint16_t touched[PM_MAX_MINUTIAE * PM_MAX_MINUTIAE];
    int16_t pa[PM_MAX_MINUTIAE];
    int16_t pb[PM_MAX_MINUTIAE];
    uint8_t best_pa[PM_MAX_MINUTIAE];
    uint32_t heap[PM__HEAP_CAP];
};

#endif
