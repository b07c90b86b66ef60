/* Perimeter WSQ: Huffman tables. Codes are canonical, as in JPEG (ISO/IEC
 * 10918-1 Annex C): lengths 1..16, codes of one length consecutive, values
 * listed in code order. Decoding uses a 10-bit lookup table with a per-length
 * fallback for longer codes; encoding tables come from symbol frequencies
 * (Annex K.2: Huffman code sizes, then lengths limited to 16 bits). */
#include "image/wsq_internal.h"

#include <string.h>

int pm__wsq_huff_build(pm__wsq_huff_t *h, pm_error_t *err)
{
    int total = 0;
    for (int l = 1; l <= 16; l++)
        total += h->counts[l];
    if (total == 0 || total > 256)
        return pm_error_set(err, PM_EFORMAT, "wsq: Huffman table has %d codes (1..256 allowed)",
                            total);
    h->nvalues = total;
    memset(h->lut, 0, sizeof h->lut);
    memset(h->size, 0, sizeof h->size);
    uint32_t code = 0;
    int k = 0;
    for (int l = 1; l <= 16; l++) {
        int n = h->counts[l];
        if (n == 0) {
            h->maxcode[l] = -1;
            h->valptr[l] = 0;
            h->mincode[l] = 0;
        } else {
            h->valptr[l] = k;
            h->mincode[l] = (int32_t)code;
            if (code + (uint32_t)n > (1u << l))
                return pm_error_set(err, PM_EFORMAT,
                                    "wsq: Huffman code lengths over-subscribe the code space at "
                                    "length %d",
                                    l);
            for (int i = 0; i < n; i++, k++, code++) {
                uint8_t sym = h->values[k];
                if (h->size[sym] == 0) { /* a repeated symbol keeps its first code */
                    h->code[sym] = (uint16_t)code;
                    h->size[sym] = (uint8_t)l;
                }
                if (l <= PM__WSQ_LUT_BITS) {
                    uint32_t first = code << (PM__WSQ_LUT_BITS - l);
                    uint32_t cnt = 1u << (PM__WSQ_LUT_BITS - l);
                    for (uint32_t e = 0; e < cnt; e++)
                        h->lut[first + e] = (uint16_t)((l << 8) | sym);
                }
            }
            h->maxcode[l] = (int32_t)code - 1;
        }
        code <<= 1;
    }
    h->maxcode[17] = 0x7fffffff;
    h->defined = 1;
    return PM_OK;
}

int pm__wsq_huff_from_freq(const uint32_t freq_in[256], pm__wsq_huff_t *h, pm_error_t *err)
{
    /* Annex K.2: one reserved symbol (index 256) with frequency 1 keeps the
     * all-ones code unused. */
    uint64_t freq[257];
    int codesize[257], others[257];
    int used = 0;
    for (int i = 0; i < 256; i++) {
        freq[i] = freq_in[i];
        used += freq_in[i] != 0;
    }
    freq[256] = 1;
    for (int i = 0; i < 257; i++) {
        codesize[i] = 0;
        others[i] = -1;
    }
    if (used == 0) freq[0] = 1; /* an empty block still needs a valid table */
    for (;;) {
        int v1 = -1, v2 = -1;
        for (int i = 0; i < 257; i++) /* least frequent; ties to the larger index */
            if (freq[i] && (v1 < 0 || freq[i] <= freq[v1])) v1 = i;
        for (int i = 0; i < 257; i++)
            if (freq[i] && i != v1 && (v2 < 0 || freq[i] <= freq[v2])) v2 = i;
        if (v2 < 0) break;
        freq[v1] += freq[v2];
        freq[v2] = 0;
        for (;;) {
            codesize[v1]++;
            if (others[v1] < 0) break;
            v1 = others[v1];
        }
        others[v1] = v2;
        for (;;) {
            codesize[v2]++;
            if (others[v2] < 0) break;
            v2 = others[v2];
        }
    }
    int bits[64];
    memset(bits, 0, sizeof bits);
    for (int i = 0; i < 257; i++)
        if (codesize[i]) {
            if (codesize[i] >= 64)
                return pm_error_set(err, PM_EINTERNAL, "wsq: Huffman code size overflow");
            bits[codesize[i]]++;
        }
    /* Limit to 16 bits (Annex K.3 adjustment). */
    for (int i = 63; i > 16; i--) {
        while (bits[i] > 0) {
            int j = i - 2;
            while (bits[j] == 0)
                j--;
            bits[i] -= 2;
            bits[i - 1]++;
            bits[j + 1] += 2;
            bits[j]--;
        }
    }
    int i = 16;
    while (bits[i] == 0)
        i--;
    bits[i]--; /* drop the reserved symbol */
    memset(h->counts, 0, sizeof h->counts);
    for (int l = 1; l <= 16; l++)
        h->counts[l] = (uint8_t)bits[l];
    /* Values sorted by code size, then by symbol. */
    int k = 0;
    for (int l = 1; l <= 32 && k < 256; l++)
        for (int s = 0; s < 256; s++)
            if (codesize[s] == l) h->values[k++] = (uint8_t)s;
    return pm__wsq_huff_build(h, err);
}
