/* BMP (Windows and OS/2 bitmaps), our own bounded parser and an 8-bit grey
 * writer. Reads 1/4/8-bit palette images (uncompressed, RLE4, RLE8), 16/24/32
 * bit direct colour (default layouts or BI_BITFIELDS masks), bottom-up or
 * top-down. Colour becomes BT.601 grey; alpha is ignored (BMP writers rarely
 * fill it meaningfully). Resolution from the pixels-per-metre field. */
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"

enum { BI_RGB = 0, BI_RLE8 = 1, BI_RLE4 = 2, BI_BITFIELDS = 3, BI_ALPHABITFIELDS = 6 };

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One channel of a BI_BITFIELDS pixel: position and width of the mask. */
struct channel {
    uint32_t mask;
    int shift;
    uint32_t max;
};

static int channel_make(uint32_t mask, struct channel *c)
{
    c->mask = mask;
    c->shift = 0;
    c->max = 0;
    if (!mask)
        return 0;
    while (!(mask & 1u)) {
        mask >>= 1;
        c->shift++;
    }
    c->max = mask;
    /* the mask must be contiguous ones */
    return (mask & (mask + 1u)) == 0 ? 0 : -1;
}

static unsigned channel_get(const struct channel *c, uint32_t px)
{
    if (!c->max)
        return 0;
    uint64_t v = (px & c->mask) >> c->shift;
    return (unsigned)((v * 255u + c->max / 2) / c->max);
}

struct bmp_info {
    long long width, height;
    int top_down;
    unsigned bpp;
    uint32_t compression;
    uint32_t pixel_offset;
    uint8_t palette[256]; /* palette entries already as grey */
    unsigned palette_count;
    struct channel r, g, b;
};

/* RLE8/RLE4: decodes palette indices into idx (width*height, bottom-up
 * rows as stored); undefined pixels stay index 0. */
static int decode_rle(const uint8_t *p, size_t len, const struct bmp_info *bi, uint8_t *idx,
                      pm_error_t *err)
{
    const int w = (int)bi->width, h = (int)bi->height;
    const int four = bi->compression == BI_RLE4;
    size_t pos = 0;
    int x = 0, y = 0;
    while (pos + 2 <= len) {
        unsigned n = p[pos], v = p[pos + 1];
        pos += 2;
        if (n > 0) { /* encoded run */
            for (unsigned k = 0; k < n; k++, x++) {
                if (x >= w || y >= h)
                    return pm_error_set(err, PM_EFORMAT, "bmp: RLE run past the image at "
                                        "offset %zu", (size_t)bi->pixel_offset + pos - 2);
                idx[(size_t)y * (size_t)w + (size_t)x] =
                    (uint8_t)(four ? ((k & 1u) ? (v & 15u) : (v >> 4)) : v);
            }
        } else if (v == 0) { /* end of line */
            x = 0;
            y++;
        } else if (v == 1) { /* end of bitmap */
            return PM_OK;
        } else if (v == 2) { /* delta */
            if (pos + 2 > len)
                break;
            x += p[pos];
            y += p[pos + 1];
            pos += 2;
            if (x > w || y > h)
                return pm_error_set(err, PM_EFORMAT, "bmp: RLE delta past the image");
        } else { /* absolute run of v pixels, padded to 16 bits */
            size_t bytes = four ? (v + 1u) / 2u : v;
            if (pos + bytes > len)
                break;
            for (unsigned k = 0; k < v; k++, x++) {
                if (x >= w || y >= h)
                    return pm_error_set(err, PM_EFORMAT, "bmp: RLE run past the image at "
                                        "offset %zu", (size_t)bi->pixel_offset + pos);
                unsigned b = p[pos + (four ? k / 2 : k)];
                idx[(size_t)y * (size_t)w + (size_t)x] =
                    (uint8_t)(four ? ((k & 1u) ? (b & 15u) : (b >> 4)) : b);
            }
            pos += bytes + (bytes & 1u);
        }
        if (y > h)
            return pm_error_set(err, PM_EFORMAT, "bmp: RLE data past the last row");
    }
    return pm_error_set(err, PM_ETRUNCATED, "bmp: RLE data ends without end-of-bitmap");
}

static int read_header(const uint8_t *d, size_t len, struct bmp_info *bi, int *out_ppi,
                       pm_error_t *err)
{
    memset(bi, 0, sizeof *bi);
    if (len < 14 + 12)
        return pm_error_set(err, PM_ETRUNCATED, "bmp: %zu bytes is too short", len);
    if (d[0] != 'B' || d[1] != 'M')
        return pm_error_set(err, PM_EFORMAT, "bmp: bad signature");
    bi->pixel_offset = le32(d + 10);
    uint32_t dib = le32(d + 14);
    const uint8_t *h = d + 14;
    if (dib != 12 && dib != 40 && dib != 52 && dib != 56 && dib != 64 && dib != 108 &&
        dib != 124)
        return pm_error_set(err, PM_EUNSUPPORTED, "bmp: unknown info header size %u", dib);
    if (len < 14 + (size_t)dib)
        return pm_error_set(err, PM_ETRUNCATED, "bmp: info header of %u bytes truncated", dib);
    uint32_t ppm = 0;
    size_t palette_at = 14 + (size_t)dib, palette_entry = 4;
    uint32_t colours_used = 0;
    if (dib == 12 || dib == 64) {
        if (dib == 12) { /* OS/2 1.x BITMAPCOREHEADER */
            bi->width = le16(h + 4);
            bi->height = le16(h + 6);
            bi->bpp = le16(h + 10);
            palette_entry = 3;
        } else { /* OS/2 2.x: laid out as BITMAPINFOHEADER for what we read */
            bi->width = (int32_t)le32(h + 4);
            bi->height = (int32_t)le32(h + 8);
            bi->bpp = le16(h + 14);
            bi->compression = le32(h + 16);
            if (bi->compression > BI_RLE4)
                return pm_error_set(err, PM_EUNSUPPORTED, "bmp: OS/2 compression %u",
                                    bi->compression);
            ppm = le32(h + 24);
            colours_used = le32(h + 32);
        }
    } else {
        bi->width = (int32_t)le32(h + 4);
        bi->height = (int32_t)le32(h + 8);
        bi->bpp = le16(h + 14);
        bi->compression = le32(h + 16);
        ppm = le32(h + 24);
        colours_used = le32(h + 32);
        if (bi->compression == BI_BITFIELDS || bi->compression == BI_ALPHABITFIELDS) {
            /* masks follow a 40-byte header, or sit inside a larger one */
            size_t at = 14 + 40;
            if (len < at + 12)
                return pm_error_set(err, PM_ETRUNCATED, "bmp: colour masks truncated");
            if (channel_make(le32(d + at), &bi->r) || channel_make(le32(d + at + 4), &bi->g) ||
                channel_make(le32(d + at + 8), &bi->b))
                return pm_error_set(err, PM_EFORMAT, "bmp: colour mask not contiguous");
            if (dib == 40)
                palette_at += bi->compression == BI_ALPHABITFIELDS ? 16 : 12;
        }
    }
    if (bi->height < 0) {
        bi->top_down = 1;
        bi->height = -bi->height;
    }
    *out_ppi = (int32_t)ppm > 0 ? pm__ppi_from_per_metre((double)ppm) : 0;
    switch (bi->bpp) {
    case 1:
    case 4:
    case 8:
        break;
    case 16:
    case 24:
    case 32:
        break;
    default:
        return pm_error_set(err, PM_EUNSUPPORTED, "bmp: %u bits per pixel", bi->bpp);
    }
    uint32_t c = bi->compression;
    int ok = c == BI_RGB || (c == BI_RLE8 && bi->bpp == 8) || (c == BI_RLE4 && bi->bpp == 4) ||
             ((c == BI_BITFIELDS || c == BI_ALPHABITFIELDS) && (bi->bpp == 16 || bi->bpp == 32));
    if (!ok)
        return pm_error_set(err, PM_EUNSUPPORTED, "bmp: compression %u with %u bits per pixel",
                            c, bi->bpp);
    if ((c == BI_RLE8 || c == BI_RLE4) && bi->top_down)
        return pm_error_set(err, PM_EFORMAT, "bmp: top-down RLE bitmap");
    if (c == BI_RGB && bi->bpp == 16) { /* default 5-5-5 */
        channel_make(0x7C00, &bi->r);
        channel_make(0x03E0, &bi->g);
        channel_make(0x001F, &bi->b);
    }
    if (bi->bpp <= 8) {
        unsigned max_entries = 1u << bi->bpp;
        unsigned n = colours_used ? colours_used : max_entries;
        if (n > max_entries)
            n = max_entries;
        if (palette_at > len || (len - palette_at) / palette_entry < n)
            return pm_error_set(err, PM_ETRUNCATED, "bmp: palette of %u entries truncated", n);
        for (unsigned i = 0; i < n; i++) {
            const uint8_t *e = d + palette_at + i * palette_entry;
            bi->palette[i] = pm__luma(e[2], e[1], e[0]); /* stored B, G, R */
        }
        bi->palette_count = n;
    }
    return PM_OK;
}

int pm__bmp_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                   pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err)
{
    struct bmp_info bi;
    int ppi = 0;
    int rc = read_header(data, len, &bi, &ppi, err);
    if (rc)
        return rc;
    out_header->width = (int)(bi.width > 65535 ? 65536 : bi.width);
    out_header->height = (int)(bi.height > 65535 ? 65536 : bi.height);
    out_header->bit_depth = bi.bpp <= 8 ? (int)bi.bpp : 8;
    out_header->channels = bi.bpp <= 8 ? 1 : 3;
    out_header->ppi = ppi;
    rc = pm__image_check_size(bi.width, bi.height, max_width, max_height, "bmp", err);
    if (rc || !out_img)
        return rc;
    if (bi.pixel_offset >= len)
        return pm_error_set(err, PM_ETRUNCATED, "bmp: pixel data offset %u beyond the %zu-byte "
                            "file", bi.pixel_offset, len);
    const size_t w = (size_t)bi.width, h = (size_t)bi.height;
    const uint8_t *px = data + bi.pixel_offset;
    size_t avail = len - bi.pixel_offset;
    rc = pm_image_alloc(out_img, (int)w, (int)h, ppi, err);
    if (rc)
        return rc;
    if (bi.compression == BI_RLE8 || bi.compression == BI_RLE4) {
        uint8_t *idx = calloc(w * h, 1);
        if (!idx) {
            pm_image_free(out_img);
            return pm_error_set(err, PM_ENOMEM, "bmp: out of memory");
        }
        rc = decode_rle(px, avail, &bi, idx, err);
        for (size_t y = 0; y < h && rc == PM_OK; y++)
            for (size_t x = 0; x < w; x++) {
                uint8_t i = idx[(h - 1 - y) * w + x];
                out_img->pixels[y * w + x] = i < bi.palette_count ? bi.palette[i] : 0;
            }
        free(idx);
        if (rc)
            pm_image_free(out_img);
        return rc;
    }
    size_t stride = (w * bi.bpp + 31) / 32 * 4;
    if (avail / stride < h) {
        pm_image_free(out_img);
        return pm_error_set(err, PM_ETRUNCATED, "bmp: %zu bytes of pixels, %zux%zu at %u bits "
                            "needs %zu", avail, w, h, bi.bpp, stride * h);
    }
    for (size_t y = 0; y < h; y++) {
        const uint8_t *row = px + (bi.top_down ? y : h - 1 - y) * stride;
        uint8_t *dst = out_img->pixels + y * w;
        for (size_t x = 0; x < w; x++) {
            unsigned v;
            switch (bi.bpp) {
            case 1:
            case 4:
            case 8: {
                size_t bit = x * bi.bpp;
                unsigned i = (row[bit / 8] >> (8 - bi.bpp - bit % 8)) & ((1u << bi.bpp) - 1u);
                v = i < bi.palette_count ? bi.palette[i] : 0;
                break;
            }
            case 24:
                v = pm__luma(row[3 * x + 2], row[3 * x + 1], row[3 * x]);
                break;
            case 16: {
                uint32_t p = le16(row + 2 * x);
                v = pm__luma(channel_get(&bi.r, p), channel_get(&bi.g, p), channel_get(&bi.b, p));
                break;
            }
            default: /* 32 */
                if (bi.compression == BI_RGB) {
                    v = pm__luma(row[4 * x + 2], row[4 * x + 1], row[4 * x]);
                } else {
                    uint32_t p = le32(row + 4 * x);
                    v = pm__luma(channel_get(&bi.r, p), channel_get(&bi.g, p),
                                 channel_get(&bi.b, p));
                }
                break;
            }
            dst[x] = (uint8_t)v;
        }
    }
    return PM_OK;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
    p[3] = (uint8_t)(v >> 24);
}

int pm__bmp_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                   pm_error_t *err)
{
    (void)opts;
    const size_t w = (size_t)img->width, h = (size_t)img->height;
    const size_t stride = (w + 3) / 4 * 4;
    const size_t offset = 14 + 40 + 256 * 4;
    const size_t total = offset + stride * h;
    if (total > 0xFFFFFFFFu)
        return pm_error_set(err, PM_ELIMIT, "bmp: image too large for BMP");
    uint8_t head[14 + 40 + 256 * 4];
    memset(head, 0, sizeof head);
    head[0] = 'B', head[1] = 'M';
    put32(head + 2, (uint32_t)total);
    put32(head + 10, (uint32_t)offset);
    put32(head + 14, 40);
    put32(head + 18, (uint32_t)w);
    put32(head + 22, (uint32_t)h); /* bottom-up */
    put16(head + 26, 1);
    put16(head + 28, 8);
    put32(head + 34, (uint32_t)(stride * h));
    uint32_t ppm = img->ppi > 0 ? (uint32_t)(img->ppi / 0.0254 + 0.5) : 0;
    put32(head + 38, ppm);
    put32(head + 42, ppm);
    put32(head + 46, 256);
    for (int i = 0; i < 256; i++) {
        uint8_t *e = head + 54 + 4 * i;
        e[0] = e[1] = e[2] = (uint8_t)i;
    }
    int rc = pm_buf_reserve(out, total);
    if (!rc)
        rc = pm_buf_append(out, head, sizeof head);
    static const uint8_t pad[3] = {0, 0, 0};
    for (size_t y = 0; y < h && !rc; y++) {
        rc = pm_buf_append(out, img->pixels + (h - 1 - y) * w, w);
        if (!rc && stride > w)
            rc = pm_buf_append(out, pad, stride - w);
    }
    return rc ? pm_error_set(err, rc, "bmp: %s", pm_strerror(rc)) : PM_OK;
}
