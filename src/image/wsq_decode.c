/* Perimeter WSQ: stream parsing (pm_wsq_info) and decoding (pm_wsq_decode).
 *
 * A WSQ file is SOI, table segments (DTT, DQT, DHT, DRT, COM) in any order,
 * the frame header SOF, then blocks (SOB + entropy-coded data, possibly
 * preceded by new DHT/COM segments) and EOI. The quantised coefficients of the
 * transmitted subbands (those with a non-zero bin width) follow each other in
 * subband order, row by row, across the blocks. Every length, count and table
 * index is checked; errors name the byte offset. */
#include "image/wsq_internal.h"
#include "perimeter/wsq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

float pm__wsq_scaled_float(uint32_t raw, unsigned scale)
{
    /* The reference converts the integer to float, then divides by 10.0 once
     * per decimal digit, rounding to float after every step. This holds for
     * the filter taps too (32-bit integers, so the first conversion already
     * rounds); decoding bit-exactly depends on it (docs/wsq.md). */
    float v = (float)raw;
    while (scale-- > 0)
        v = (float)((double)v / 10.0);
    return v;
}

typedef struct frame {
    int width, height;
    int black, white;
    unsigned m_raw, m_scale, r_raw, r_scale;
    float m_shift, r_scale_f;
    int encoder, software;
} frame_t;

typedef struct dec {
    const uint8_t *data;
    size_t len;
    size_t pos;
    pm_error_t *err;
    int have_sof, have_dtt, have_dqt, blocks;
    frame_t frame;
    pm__wsq_filters_t filters;
    float c;
    float qbin[PM__WSQ_BANDS], zbin[PM__WSQ_BANDS];
    int restart;
    pm__wsq_huff_t huff[PM__WSQ_HUFF_TABLES];
    pm_wsq_info_t *info;
    /* decoding state */
    float *plane;
    pm__wsq_tree_t tree;
    int band_order[PM__WSQ_BANDS], nbands;
    int cur_band, cur_row, cur_col;
    size_t remaining;
    /* cached for the current subband row */
    float *cur_ptr; /* next coefficient's place in the plane */
    int cur_left;   /* coefficients left in this row */
    float cur_q, cur_c;
    double cur_hz;
} dec_t;

static int fmt_err(dec_t *d, size_t at, const char *what)
{
    return pm_error_set(d->err, PM_EFORMAT, "wsq: %s at offset %zu", what, at);
}

static int need(dec_t *d, size_t n, const char *what)
{
    if (d->len - d->pos < n)
        return pm_error_set(d->err, PM_ETRUNCATED, "wsq: stream ends inside %s at offset %zu", what,
                            d->pos);
    return PM_OK;
}

static unsigned rd8(dec_t *d)
{
    return d->data[d->pos++];
}

static unsigned rd16(dec_t *d)
{
    unsigned v = ((unsigned)d->data[d->pos] << 8) | d->data[d->pos + 1];
    d->pos += 2;
    return v;
}

static uint32_t rd32(dec_t *d)
{
    uint32_t v = ((uint32_t)d->data[d->pos] << 24) | ((uint32_t)d->data[d->pos + 1] << 16) |
                 ((uint32_t)d->data[d->pos + 2] << 8) | d->data[d->pos + 3];
    d->pos += 4;
    return v;
}

/* ------------------------------------------------------------ table segments */

static int parse_sof(dec_t *d, size_t seg, unsigned len)
{
    if (len != 17) return fmt_err(d, seg, "frame header length is not 17");
    if (d->have_sof) return fmt_err(d, seg, "second frame header");
    frame_t *f = &d->frame;
    f->black = (int)rd8(d);
    f->white = (int)rd8(d);
    f->height = (int)rd16(d);
    f->width = (int)rd16(d);
    f->m_scale = rd8(d);
    f->m_raw = rd16(d);
    f->r_scale = rd8(d);
    f->r_raw = rd16(d);
    f->encoder = (int)rd8(d);
    f->software = (int)rd16(d);
    f->m_shift = pm__wsq_scaled_float(f->m_raw, f->m_scale);
    f->r_scale_f = pm__wsq_scaled_float(f->r_raw, f->r_scale);
    if (f->width == 0 || f->height == 0)
        return fmt_err(d, seg, "frame header with zero width or height");
    d->have_sof = 1;
    return PM_OK;
}

static int parse_dtt(dec_t *d, size_t seg, unsigned len)
{
    pm__wsq_filters_t *f = &d->filters;
    if (len < 4) return fmt_err(d, seg, "transform table too short");
    int lo_len = (int)rd8(d), hi_len = (int)rd8(d);
    if (lo_len % 2 == 0 || hi_len % 2 == 0 || lo_len > PM__WSQ_MAX_TAPS ||
        hi_len > PM__WSQ_MAX_TAPS || lo_len < 3 || hi_len < 3)
        return pm_error_set(d->err, PM_EUNSUPPORTED,
                            "wsq: transform table filter lengths %d/%d at offset %zu (odd "
                            "lengths 3..%d supported)",
                            lo_len, hi_len, seg, PM__WSQ_MAX_TAPS);
    int nlo = (lo_len + 1) / 2, nhi = (hi_len + 1) / 2;
    if (len != 4u + 6u * (unsigned)(nlo + nhi))
        return fmt_err(d, seg, "transform table length does not match its filter lengths");
    memset(f, 0, sizeof *f);
    f->lo_len = lo_len;
    f->hi_len = hi_len;
    for (int pass = 0; pass < 2; pass++) {
        int n = pass ? nhi : nlo;
        float *taps = pass ? f->hi : f->lo;
        int centre = n - 1;
        for (int k = 0; k < n; k++) {
            unsigned sign = rd8(d), scale = rd8(d);
            uint32_t raw = rd32(d);
            float v = pm__wsq_scaled_float(raw, scale);
            taps[centre + k] = taps[centre - k] = sign ? -v : v;
        }
    }
    d->have_dtt = 1;
    return PM_OK;
}

static int parse_dqt(dec_t *d, size_t seg, unsigned len)
{
    if (len != 5u + 6u * PM__WSQ_BANDS)
        return fmt_err(d, seg, "quantisation table length is not 389");
    if (d->blocks > 0)
        return pm_error_set(d->err, PM_EUNSUPPORTED,
                            "wsq: quantisation table redefined after the first block at offset "
                            "%zu",
                            seg);
    unsigned s = rd8(d), v = rd16(d);
    d->c = pm__wsq_scaled_float(v, s);
    for (int k = 0; k < PM__WSQ_BANDS; k++) {
        s = rd8(d);
        v = rd16(d);
        d->qbin[k] = pm__wsq_scaled_float(v, s);
        s = rd8(d);
        v = rd16(d);
        d->zbin[k] = pm__wsq_scaled_float(v, s);
    }
    for (int k = PM__WSQ_CODED; k < PM__WSQ_BANDS; k++)
        if (d->qbin[k] != 0.0f)
            return pm_error_set(d->err, PM_EUNSUPPORTED,
                                "wsq: subband %d is quantised but never transmitted "
                                "(offset %zu)",
                                k, seg);
    d->have_dqt = 1;
    return PM_OK;
}

static int parse_dht(dec_t *d, size_t seg, unsigned len)
{
    size_t end = seg + 2 + len;
    while (d->pos < end) {
        if (end - d->pos < 17) return fmt_err(d, d->pos, "Huffman table header truncated");
        unsigned id = rd8(d);
        if (id >= PM__WSQ_HUFF_TABLES)
            return pm_error_set(d->err, PM_EFORMAT,
                                "wsq: Huffman table id %u at offset %zu (0..%d allowed)", id,
                                d->pos - 1, PM__WSQ_HUFF_TABLES - 1);
        pm__wsq_huff_t *h = &d->huff[id];
        memset(h, 0, sizeof *h);
        unsigned total = 0;
        for (int l = 1; l <= 16; l++) {
            h->counts[l] = (uint8_t)rd8(d);
            total += h->counts[l];
        }
        if (total > 256 || end - d->pos < total)
            return fmt_err(d, d->pos, "Huffman table value count exceeds the segment");
        memcpy(h->values, d->data + d->pos, total);
        d->pos += total;
        int rc = pm__wsq_huff_build(h, d->err);
        if (rc < 0) return pm_error_prefix(d->err, "table %u at offset %zu", id, seg), rc;
    }
    return PM_OK;
}

static void parse_com(dec_t *d, size_t seg, unsigned len)
{
    size_t n = len - 2;
    const char *text = (const char *)d->data + d->pos;
    if (d->info) {
        d->info->comments++;
        if (d->info->nist_com[0] == 0 && n >= 8 && memcmp(text, "NIST_COM", 8) == 0) {
            size_t m = n < sizeof d->info->nist_com - 1 ? n : sizeof d->info->nist_com - 1;
            memcpy(d->info->nist_com, text, m);
            d->info->nist_com[m] = 0;
        }
    }
    (void)seg;
    d->pos += n;
}

/* Handles one non-block segment whose marker is at seg. */
static int parse_segment(dec_t *d, size_t seg, unsigned marker)
{
    int rc = need(d, 2, "a segment length");
    if (rc < 0) return rc;
    unsigned len = rd16(d);
    if (len < 2) return fmt_err(d, seg, "segment length below 2");
    rc = need(d, len - 2, "a segment");
    if (rc < 0) return rc;
    size_t end = seg + 2 + len;
    switch (marker) {
    case PM__WSQ_SOF:
        rc = parse_sof(d, seg, len);
        break;
    case PM__WSQ_DTT:
        rc = parse_dtt(d, seg, len);
        break;
    case PM__WSQ_DQT:
        rc = parse_dqt(d, seg, len);
        break;
    case PM__WSQ_DHT:
        rc = parse_dht(d, seg, len);
        break;
    case PM__WSQ_DRT:
        if (len != 4) return fmt_err(d, seg, "restart interval segment length is not 4");
        d->restart = (int)rd16(d);
        break;
    case PM__WSQ_COM:
        parse_com(d, seg, len);
        break;
    default:
        return fmt_err(d, seg, "unexpected marker");
    }
    if (rc < 0) return rc;
    if (d->pos != end) return fmt_err(d, seg, "segment length does not match its content");
    return PM_OK;
}

/* ------------------------------------------------------------ entropy data */

typedef struct bits {
    const uint8_t *p, *end;
    uint64_t buf; /* left aligned */
    int n;        /* valid bits in buf */
    int stopped;  /* reached a marker or the end of the stream */
} bits_t;

static inline void refill(bits_t *b)
{
    while (b->n <= 56 && !b->stopped) {
        if (b->p >= b->end) {
            b->stopped = 1;
            break;
        }
        unsigned byte = *b->p;
        if (byte == 0xFF) {
            if (b->p + 1 < b->end && b->p[1] == 0x00) {
                b->p += 2;
            } else {
                b->stopped = 1; /* a marker (or a lone 0xFF at the end) */
                break;
            }
        } else {
            b->p++;
        }
        b->buf |= (uint64_t)byte << (56 - b->n);
        b->n += 8;
    }
}

static inline uint32_t take(bits_t *b, int k)
{
    uint32_t v = (uint32_t)(b->buf >> (64 - k));
    b->buf <<= k;
    b->n -= k;
    return v;
}

/* Next symbol; 1 and *out_sym on success, 0 at a clean end of the segment
 * (only 1-bit padding left), negative on a bad code. Codes are prefix-free
 * and tables built as in JPEG never assign an all-ones code, so a run of
 * ones that completes no code before the marker is padding. */
static inline int next_symbol(bits_t *b, const pm__wsq_huff_t *h, int *out_sym)
{
    if (b->n < 16) refill(b);
    if (b->n == 0) return 0;
    uint32_t e = h->lut[b->buf >> (64 - PM__WSQ_LUT_BITS)];
    int len;
    int sym;
    if (e) {
        len = (int)(e >> 8);
        sym = (int)(e & 0xFF);
    } else {
        len = 0;
        sym = 0;
        for (int l = PM__WSQ_LUT_BITS + 1; l <= 16; l++) {
            int32_t code = (int32_t)(b->buf >> (64 - l));
            if (code <= h->maxcode[l]) {
                len = l;
                sym = h->values[h->valptr[l] + code - h->mincode[l]];
                break;
            }
        }
    }
    if (len == 0 || len > b->n) {
        /* Not a complete code: fine if what is left is padding, all ones (some
         * encoders write a whole 0xFF byte when the data ends on a byte boundary). */
        if (b->stopped && b->n <= 16 && (b->buf >> (64 - b->n)) == ((1u << b->n) - 1u)) return 0;
        return -1;
    }
    take(b, len);
    *out_sym = sym;
    return 1;
}

/* Reads k (8 or 16) raw bits after an escape symbol. */
static inline int extra_bits(bits_t *b, int k, uint32_t *out)
{
    if (b->n < k) refill(b);
    if (b->n < k) return -1;
    *out = take(b, k);
    return 0;
}

static void cursor_start(dec_t *d)
{
    d->nbands = 0;
    d->remaining = 0;
    for (int k = 0; k < PM__WSQ_CODED; k++)
        if (d->qbin[k] != 0.0f) {
            const pm__wsq_rect_t *r = &d->tree.band[k];
            if (r->w > 0 && r->h > 0) {
                d->band_order[d->nbands++] = k;
                d->remaining += (size_t)r->w * (size_t)r->h;
            }
        }
    d->cur_band = 0;
    d->cur_row = 0;
    d->cur_col = 0;
    d->cur_left = 0;
    d->cur_c = d->c;
}

/* Moves the cached row pointer to (cur_band, cur_row, cur_col). */
static void cursor_sync(dec_t *d)
{
    if (d->cur_band >= d->nbands) {
        d->cur_left = 0;
        return;
    }
    int k = d->band_order[d->cur_band];
    const pm__wsq_rect_t *r = &d->tree.band[k];
    d->cur_ptr = d->plane + (size_t)(r->y + d->cur_row) * (size_t)d->frame.width +
                 (size_t)(r->x + d->cur_col);
    d->cur_left = r->w - d->cur_col;
    d->cur_q = d->qbin[k];
    d->cur_hz = (double)d->zbin[k] / 2.0;
}

/* Advances past the end of the current row. */
static void cursor_next_row(dec_t *d)
{
    const pm__wsq_rect_t *r = &d->tree.band[d->band_order[d->cur_band]];
    d->cur_col = 0;
    if (++d->cur_row == r->h) {
        d->cur_row = 0;
        d->cur_band++;
    }
    cursor_sync(d);
}

/* Skips n zero coefficients (the plane is zero already). */
static void cursor_skip(dec_t *d, size_t n)
{
    d->remaining -= n;
    while (n > 0) {
        const pm__wsq_rect_t *r = &d->tree.band[d->band_order[d->cur_band]];
        size_t left_in_row = (size_t)(r->w - d->cur_col);
        if (n < left_in_row) {
            d->cur_col += (int)n;
            return;
        }
        n -= left_in_row;
        d->cur_col = 0;
        if (++d->cur_row == r->h) {
            d->cur_row = 0;
            d->cur_band++;
        }
    }
}

static void cursor_skip_fast(dec_t *d, size_t n)
{
    if (n < (size_t)d->cur_left) {
        d->cur_left -= (int)n;
        d->cur_col += (int)n;
        d->cur_ptr += n;
        d->remaining -= n;
        return;
    }
    cursor_skip(d, n);
    cursor_sync(d);
}

/* Stores the dequantised value of coefficient v (non-zero) at the cursor:
 * Q * (v - C) + Z/2 for v > 0, Q * (v + C) - Z/2 for v < 0, with the float
 * product widened to double before adding Z/2, as the reference computes it. */
static inline void cursor_put(dec_t *d, int v)
{
    float q = d->cur_q;
    float x;
    if (v > 0)
        x = (float)((double)(q * ((float)v - d->cur_c)) + d->cur_hz);
    else
        x = (float)((double)(q * ((float)v + d->cur_c)) - d->cur_hz);
    *d->cur_ptr++ = x;
    d->cur_col++;
    d->remaining--;
    if (--d->cur_left == 0) cursor_next_row(d);
}

/* Decodes the entropy-coded data of one block starting at d->pos; leaves
 * d->pos at the marker that ends it. */
static int decode_block(dec_t *d, const pm__wsq_huff_t *h, size_t block_at)
{
    bits_t b = {d->data + d->pos, d->data + d->len, 0, 0, 0};
    for (;;) {
        int sym;
        int rc = next_symbol(&b, h, &sym);
        if (rc < 0)
            return pm_error_set(d->err, PM_ECORRUPT,
                                "wsq: invalid Huffman code in the block at offset %zu (near "
                                "byte %zu)",
                                block_at, (size_t)(b.p - d->data));
        if (rc == 0) {
            /* End of a segment: a restart marker continues the block. */
            const uint8_t *p = b.p;
            if (p + 1 < b.end && p[0] == 0xFF && p[1] >= PM__WSQ_RST0 && p[1] <= PM__WSQ_RST7) {
                b.p = p + 2;
                b.buf = 0;
                b.n = 0;
                b.stopped = 0;
                continue;
            }
            d->pos = (size_t)(p - d->data);
            return PM_OK;
        }
        if (sym >= 1 && sym <= PM__WSQ_SYM_RUN_MAX) {
            if ((size_t)sym > d->remaining) goto too_many;
            cursor_skip_fast(d, (size_t)sym);
            continue;
        }
        if (sym > 106 && sym < 255 && sym != PM__WSQ_SYM_VAL0) {
            if (d->remaining == 0) goto too_many;
            cursor_put(d, sym - PM__WSQ_SYM_VAL0);
            continue;
        }
        uint32_t v;
        int nbits = (sym == PM__WSQ_SYM_POS8 || sym == PM__WSQ_SYM_NEG8 || sym == PM__WSQ_SYM_RUN8)
                        ? 8
                        : 16;
        if (sym < PM__WSQ_SYM_POS8 || sym > PM__WSQ_SYM_RUN16)
            return pm_error_set(d->err, PM_ECORRUPT,
                                "wsq: invalid symbol %d in the block at offset %zu", sym, block_at);
        if (extra_bits(&b, nbits, &v) < 0)
            return pm_error_set(d->err, PM_ECORRUPT,
                                "wsq: escape code cut short in the block at offset %zu", block_at);
        if (sym == PM__WSQ_SYM_RUN8 || sym == PM__WSQ_SYM_RUN16) {
            if (v > d->remaining) goto too_many;
            cursor_skip_fast(d, v);
            continue;
        }
        if (v == 0 || d->remaining == 0) goto too_many;
        cursor_put(d, (sym == PM__WSQ_SYM_POS8 || sym == PM__WSQ_SYM_POS16) ? (int)v : -(int)v);
    }
too_many:
    return pm_error_set(d->err, PM_ECORRUPT,
                        "wsq: block at offset %zu holds more coefficients than the image (or a "
                        "zero-valued escape)",
                        block_at);
}

/* Skips entropy data without decoding (for pm_wsq_info). */
static void skip_entropy(dec_t *d)
{
    while (d->pos + 1 < d->len) {
        if (d->data[d->pos] == 0xFF) {
            unsigned m = d->data[d->pos + 1];
            if (m != 0x00 && !(m >= PM__WSQ_RST0 && m <= PM__WSQ_RST7)) return;
            d->pos += 2;
        } else {
            d->pos++;
        }
    }
    d->pos = d->len;
}

/* ------------------------------------------------------------------- driver */

static int check_dims(dec_t *d, int max_w, int max_h)
{
    const frame_t *f = &d->frame;
    if (max_w <= 0) max_w = PM_IMAGE_DEFAULT_MAX_DIM;
    if (max_h <= 0) max_h = PM_IMAGE_DEFAULT_MAX_DIM;
    if (f->width > max_w || f->height > max_h)
        return pm_error_set(d->err, PM_ELIMIT, "wsq: image %dx%d exceeds the limit %dx%d", f->width,
                            f->height, max_w, max_h);
    if (f->width < PM__WSQ_MIN_DIM || f->height < PM__WSQ_MIN_DIM)
        return pm_error_set(d->err, PM_EUNSUPPORTED, "wsq: image %dx%d is smaller than %dx%d",
                            f->width, f->height, PM__WSQ_MIN_DIM, PM__WSQ_MIN_DIM);
    return PM_OK;
}

/* Walks the stream. With decode set, decodes blocks into d->plane (allocated
 * here once the frame header is known); otherwise only skips them. */
static int walk(dec_t *d, int decode, int max_w, int max_h)
{
    int rc = need(d, 2, "the start-of-image marker");
    if (rc < 0) return rc;
    if (d->data[0] != 0xFF || d->data[1] != PM__WSQ_SOI)
        return fmt_err(d, 0, "missing start-of-image marker (not a WSQ file)");
    d->pos = 2;
    for (;;) {
        size_t seg = d->pos;
        rc = need(d, 2, "a marker");
        if (rc < 0) return rc;
        if (d->data[d->pos] != 0xFF) return fmt_err(d, seg, "expected a marker");
        unsigned marker = d->data[d->pos + 1];
        d->pos += 2;
        if (marker == PM__WSQ_EOI) break;
        if (marker == PM__WSQ_SOI) return fmt_err(d, seg, "second start-of-image marker");
        if (marker != PM__WSQ_SOB) {
            rc = parse_segment(d, seg, marker);
            if (rc < 0) return rc;
            continue;
        }
        /* A block. */
        rc = need(d, 3, "a block header");
        if (rc < 0) return rc;
        unsigned len = rd16(d), id = rd8(d);
        if (len != 3) return fmt_err(d, seg, "block header length is not 3");
        if (!d->have_sof || !d->have_dtt || !d->have_dqt)
            return fmt_err(d, seg,
                           "block before the frame header, transform and quantisation "
                           "tables");
        if (id >= PM__WSQ_HUFF_TABLES || !d->huff[id].defined)
            return pm_error_set(d->err, PM_EFORMAT,
                                "wsq: block at offset %zu uses undefined Huffman table %u", seg,
                                id);
        if (d->blocks == 0 && decode) {
            rc = check_dims(d, max_w, max_h);
            if (rc < 0) return rc;
            size_t n = (size_t)d->frame.width * (size_t)d->frame.height;
            d->plane = calloc(n, sizeof(float));
            if (!d->plane)
                return pm_error_set(d->err, PM_ENOMEM, "wsq: out of memory for %dx%d",
                                    d->frame.width, d->frame.height);
            pm__wsq_build_tree(d->frame.width, d->frame.height, &d->tree);
            cursor_start(d);
            cursor_sync(d);
        }
        d->blocks++;
        if (decode) {
            rc = decode_block(d, &d->huff[id], seg);
            if (rc < 0) return rc;
        } else {
            skip_entropy(d);
        }
    }
    if (!d->have_sof) return fmt_err(d, d->pos, "no frame header before the end of the image");
    if (d->blocks == 0) return fmt_err(d, d->pos, "no data blocks");
    if (decode && d->remaining != 0)
        return pm_error_set(d->err, PM_ETRUNCATED,
                            "wsq: %zu quantised coefficients missing at the end of the image",
                            d->remaining);
    return PM_OK;
}

/* Reads "KEY value" from NIST_COM text into buf (NUL-terminated); 0 if absent. */
static int nist_value(const char *text, const char *key, char *buf, size_t cap)
{
    size_t klen = strlen(key);
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (n > klen && memcmp(p, key, klen) == 0 && (p[klen] == ' ' || p[klen] == '\t')) {
            size_t m = n - klen - 1;
            if (m >= cap) m = cap - 1;
            memcpy(buf, p + klen + 1, m);
            buf[m] = 0;
            return 1;
        }
        if (!eol) break;
        p = eol + 1;
    }
    return 0;
}

static void fill_info(dec_t *d, pm_wsq_info_t *info)
{
    info->width = d->frame.width;
    info->height = d->frame.height;
    info->shift = (double)d->frame.m_shift;
    info->scale = (double)d->frame.r_scale_f;
    info->encoder = d->frame.encoder;
    info->software = d->frame.software;
    char buf[64];
    char *end;
    if (nist_value(info->nist_com, "PPI", buf, sizeof buf)) {
        long v = strtol(buf, &end, 10);
        if (end != buf && v > 0 && v < 100000) info->ppi = (int)v;
    }
    if (nist_value(info->nist_com, "WSQ_BITRATE", buf, sizeof buf)) {
        double v = strtod(buf, &end);
        if (end != buf && v > 0.0 && v < 100.0) info->bitrate = v;
    }
    if (info->bitrate == 0.0 && d->frame.width > 0 && d->frame.height > 0)
        info->bitrate = (double)d->len * 8.0 / ((double)d->frame.width * d->frame.height);
}

int pm_wsq_info(const uint8_t *data, size_t len, pm_wsq_info_t *out_info, pm_error_t *err)
{
    if (!data || !out_info) return pm_error_set(err, PM_EINVAL, "wsq: NULL argument");
    memset(out_info, 0, sizeof *out_info);
    dec_t *d = calloc(1, sizeof *d);
    if (!d) return pm_error_set(err, PM_ENOMEM, "wsq: out of memory");
    d->data = data;
    d->len = len;
    d->err = err;
    d->info = out_info;
    int rc = walk(d, 0, 0, 0);
    if (rc == PM_OK) fill_info(d, out_info);
    free(d);
    return rc;
}

/* Final step: pixel = trunc(x * R + M + 0.5) clamped to 0..255, in float.
 * (The reference adds the 0.5 in double and rounds back to float; the sum of
 * a float and 0.5 is exact in double, so a float addition gives the same.) */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static void to_pixels(const float *src, uint8_t *dst, size_t n, float m, float r)
{
    size_t i = 0;
    const v4f vr = {r, r, r, r}, vm = {m, m, m, m}, half = {0.5f, 0.5f, 0.5f, 0.5f};
    const v4f zero = {0.0f, 0.0f, 0.0f, 0.0f}, top = {255.0f, 255.0f, 255.0f, 255.0f};
    for (; i + 4 <= n; i += 4) {
        v4f x;
        memcpy(&x, src + i, sizeof x);
        x = x * vr + vm;
        x = x + half;
        v4i pos = x > zero; /* false for negatives and NaN */
        v4i low = x < top;
        v4i xi = (v4i)x;
        xi = xi & pos;
        v4i tv = (v4i)top;
        xi = (xi & low) | (tv & ~low);
        x = (v4f)xi;
        v4i p = __builtin_convertvector(x, v4i);
        dst[i] = (uint8_t)p[0];
        dst[i + 1] = (uint8_t)p[1];
        dst[i + 2] = (uint8_t)p[2];
        dst[i + 3] = (uint8_t)p[3];
    }
    for (; i < n; i++) {
        float v = src[i] * r + m;
        v = v + 0.5f;
        dst[i] = !(v > 0.0f) ? 0 : v >= 255.0f ? 255 : (uint8_t)v;
    }
}

int pm_wsq_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                  pm_image_t *out_img, pm_error_t *err)
{
    if (!data || !out_img) return pm_error_set(err, PM_EINVAL, "wsq: NULL argument");
    memset(out_img, 0, sizeof *out_img);
    pm_wsq_info_t info;
    memset(&info, 0, sizeof info);
    dec_t *d = calloc(1, sizeof *d);
    if (!d) return pm_error_set(err, PM_ENOMEM, "wsq: out of memory");
    d->data = data;
    d->len = len;
    d->err = err;
    d->info = &info;
    int rc = walk(d, 1, max_width, max_height);
    if (rc == PM_OK)
        rc = pm__wsq_inverse(d->plane, d->frame.width, d->frame.height, &d->tree, &d->filters, err);
    if (rc == PM_OK) {
        fill_info(d, &info);
        rc = pm_image_alloc(out_img, d->frame.width, d->frame.height, info.ppi > 0 ? info.ppi : 500,
                            err);
    }
    if (rc == PM_OK) {
        out_img->format = PM_IMAGE_WSQ;
        const float m = d->frame.m_shift, r = d->frame.r_scale_f;
        size_t n = (size_t)d->frame.width * (size_t)d->frame.height;
        to_pixels(d->plane, out_img->pixels, n, m, r);
    }
    free(d->plane);
    free(d);
    return rc;
}
