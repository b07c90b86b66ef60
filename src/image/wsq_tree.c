/* Perimeter WSQ: the fixed subband decomposition (IAFIS-IC-0110 v3.1, the
 * wavelet tree of 20 splits and the quantisation tree of 64 subbands).
 *
 * A split halves a length n; when n is odd one half gets (n+1)/2 samples.
 * The low-pass half is the larger one, so where the high band is stored first
 * (an "inverted" split) the first half is the smaller. The quantisation tree
 * follows the specification's tables, which apply the inversion only to the
 * first level of each 16-band group; coefficient order in the stream depends
 * on these rectangles, so they are reproduced exactly. */
#include "image/wsq_internal.h"

#include <string.h>

static void split(int n, int small_first, int *out_first, int *out_second)
{
    if (n % 2 == 0) {
        *out_first = *out_second = n / 2;
    } else if (small_first) {
        *out_first = (n - 1) / 2;
        *out_second = (n + 1) / 2;
    } else {
        *out_first = (n + 1) / 2;
        *out_second = (n - 1) / 2;
    }
}

/* Four quadrants of r, in the order top-left, top-right, bottom-left, bottom-right. */
static void quarter(pm__wsq_rect_t r, int small_first_x, int small_first_y, pm__wsq_rect_t q[4])
{
    int w0, w1, h0, h1;
    split(r.w, small_first_x, &w0, &w1);
    split(r.h, small_first_y, &h0, &h1);
    q[0] = (pm__wsq_rect_t){r.x, r.y, w0, h0};
    q[1] = (pm__wsq_rect_t){r.x + w0, r.y, w1, h0};
    q[2] = (pm__wsq_rect_t){r.x, r.y + h0, w0, h1};
    q[3] = (pm__wsq_rect_t){r.x + w0, r.y + h0, w1, h1};
}

/* Sixteen subbands starting at band[start]: the quadrants of node `parent`,
 * which are the nodes kids[0..3] (-1: a quadrant that is no node, never
 * inverted), each quartered again. */
static void bands16(pm__wsq_tree_t *t, int start, int parent, const int kids[4])
{
    pm__wsq_rect_t q[4];
    quarter(t->node[parent], t->inv_x[parent], t->inv_y[parent], q);
    for (int i = 0; i < 4; i++) {
        int k = kids[i];
        quarter(q[i], k >= 0 ? t->inv_x[k] : 0, k >= 0 ? t->inv_y[k] : 0, t->band + start + 4 * i);
    }
}

void pm__wsq_build_tree(int width, int height, pm__wsq_tree_t *out_tree)
{
    pm__wsq_tree_t *t = out_tree;
    memset(t, 0, sizeof *t);
    pm__wsq_rect_t q[4];

    /* Which splits store the high band first (spectral inversion after a
     * high-pass decimation along that axis). */
    static const uint8_t inv_x[] = {2, 4, 7, 9, 11, 13, 16, 18};
    static const uint8_t inv_y[] = {3, 5, 8, 9, 12, 13, 17, 18};
    for (size_t i = 0; i < sizeof inv_x; i++)
        t->inv_x[inv_x[i]] = 1;
    for (size_t i = 0; i < sizeof inv_y; i++)
        t->inv_y[inv_y[i]] = 1;

    /* Wavelet tree: node 0 is the image; 1..3 its top-left, top-right and
     * bottom-left quadrants (the bottom-right is discarded); node 1 is split
     * into 14 (TL), 4 (TR), 5 (BL); 4 into 6..9, 5 into 10..13, 14 into
     * 15..18; 19 is the top-left quadrant of 15. */
    t->node[0] = (pm__wsq_rect_t){0, 0, width, height};
    quarter(t->node[0], 0, 0, q);
    t->node[1] = q[0];
    t->node[2] = q[1];
    t->node[3] = q[2];
    quarter(t->node[1], 0, 0, q);
    t->node[14] = q[0];
    t->node[4] = q[1];
    t->node[5] = q[2];
    quarter(t->node[4], t->inv_x[4], t->inv_y[4], t->node + 6);
    quarter(t->node[5], t->inv_x[5], t->inv_y[5], t->node + 10);
    quarter(t->node[14], t->inv_x[14], t->inv_y[14], t->node + 15);
    quarter(t->node[15], 0, 0, q);
    t->node[19] = q[0];

    /* Quantisation tree. Later assignments replace overlapping earlier ones. */
    static const int k14[4] = {15, 16, 17, 18}, k4[4] = {6, 7, 8, 9}, k5[4] = {10, 11, 12, 13},
                     k0[4] = {1, 2, 3, -1};
    bands16(t, 3, 14, k14); /* 3..18 (3 replaced below) */
    bands16(t, 19, 4, k4);  /* 19..34 */
    bands16(t, 48, 0, k0);  /* 51..63 (48..50 replaced below) */
    bands16(t, 35, 5, k5);  /* 35..50 */
    quarter(t->node[19], t->inv_x[19], t->inv_y[19], t->band + 0); /* 0..3 */
}
