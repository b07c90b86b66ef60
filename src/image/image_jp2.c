/* JPEG 2000 through openjpeg: JP2 files and raw J2K codestreams, from and to
 * memory. Per-codec message handlers keep openjpeg silent; strict mode makes
 * a truncated codestream an error. Before openjpeg sees the data we parse the
 * JP2 boxes (bounded) for the image header and the resolution box, and the
 * codestream's SIZ marker, so the size limit holds before any allocation. */
#include <math.h>
#include <openjpeg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"

#define JP2_MAX_TILES 16384

static uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One box: type, payload [*out_body, +*out_len), and the offset after it. */
static int next_box(const uint8_t *d, size_t len, size_t pos, uint32_t *out_type,
                    size_t *out_body, size_t *out_len, size_t *out_next, pm_error_t *err)
{
    if (len - pos < 8)
        return pm_error_set(err, PM_ETRUNCATED, "jp2: box header truncated at offset %zu", pos);
    uint64_t size = be32(d + pos);
    uint32_t type = be32(d + pos + 4);
    size_t head = 8;
    if (size == 1) {
        if (len - pos < 16)
            return pm_error_set(err, PM_ETRUNCATED, "jp2: box header truncated at offset %zu",
                                pos);
        size = (uint64_t)be32(d + pos + 8) << 32 | be32(d + pos + 12);
        head = 16;
    } else if (size == 0) {
        size = len - pos; /* to the end of the file */
    }
    if (size < head)
        return pm_error_set(err, PM_EFORMAT, "jp2: box at offset %zu has length %llu", pos,
                            (unsigned long long)size);
    if (size > len - pos)
        return pm_error_set(err, PM_ETRUNCATED, "jp2: box at offset %zu (%llu bytes) runs past "
                            "the end", pos, (unsigned long long)size);
    *out_type = type;
    *out_body = pos + head;
    *out_len = (size_t)size - head;
    *out_next = pos + (size_t)size;
    return PM_OK;
}

#define BOX(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* ppi from a resc/resd payload (horizontal: HR_N/HR_D * 10^HR_E per metre). */
static int res_ppi(const uint8_t *p, size_t n)
{
    if (n < 10)
        return 0;
    uint32_t num = be16(p + 4), den = be16(p + 6);
    int exp = (int8_t)p[9];
    if (!num || !den || exp < -10 || exp > 10)
        return 0;
    return pm__ppi_from_per_metre((double)num / den * pow(10.0, exp));
}

struct jp2_facts {
    size_t codestream; /* offset of the J2K codestream */
    size_t codestream_len;
    int ppi;
};

/* Walks the top-level boxes: finds jp2h/res and the jp2c codestream. */
static int scan_boxes(const uint8_t *d, size_t len, struct jp2_facts *f, pm_error_t *err)
{
    size_t pos = 0;
    int ppi_capture = 0, ppi_display = 0, boxes = 0;
    while (pos < len) {
        uint32_t type;
        size_t body, blen, next;
        int rc = next_box(d, len, pos, &type, &body, &blen, &next, err);
        if (rc)
            return rc;
        if (++boxes > 10000)
            return pm_error_set(err, PM_ELIMIT, "jp2: too many boxes");
        if (type == BOX('j', 'p', '2', 'h')) {
            size_t p2 = body;
            while (p2 < body + blen) {
                uint32_t t2;
                size_t b2, l2, n2;
                rc = next_box(d, body + blen, p2, &t2, &b2, &l2, &n2, err);
                if (rc)
                    return rc;
                if (t2 == BOX('r', 'e', 's', ' ')) {
                    size_t p3 = b2;
                    while (p3 < b2 + l2) {
                        uint32_t t3;
                        size_t b3, l3, n3;
                        rc = next_box(d, b2 + l2, p3, &t3, &b3, &l3, &n3, err);
                        if (rc)
                            return rc;
                        if (t3 == BOX('r', 'e', 's', 'c'))
                            ppi_capture = res_ppi(d + b3, l3);
                        else if (t3 == BOX('r', 'e', 's', 'd'))
                            ppi_display = res_ppi(d + b3, l3);
                        p3 = n3;
                    }
                }
                p2 = n2;
            }
        } else if (type == BOX('j', 'p', '2', 'c')) {
            f->codestream = body;
            f->codestream_len = blen;
            break;
        }
        pos = next;
    }
    if (!f->codestream_len)
        return pm_error_set(err, PM_ETRUNCATED, "jp2: no codestream box");
    f->ppi = ppi_capture ? ppi_capture : ppi_display;
    return PM_OK;
}

/* Reads SIZ (right after SOC) for the size, components and tile count. */
static int read_siz(const uint8_t *d, size_t len, int max_width, int max_height,
                    pm_image_header_t *h, pm_error_t *err)
{
    if (len < 4 + 38 + 3)
        return pm_error_set(err, PM_ETRUNCATED, "jp2: codestream too short for SIZ");
    if (be16(d) != 0xFF4F || be16(d + 2) != 0xFF51)
        return pm_error_set(err, PM_EFORMAT, "jp2: codestream does not start with SOC, SIZ");
    const uint8_t *s = d + 4;
    uint32_t lsiz = be16(s);
    uint64_t xsiz = be32(s + 4), ysiz = be32(s + 8), x0 = be32(s + 12), y0 = be32(s + 16);
    uint64_t xt = be32(s + 20), yt = be32(s + 24), xt0 = be32(s + 28), yt0 = be32(s + 32);
    uint32_t csiz = be16(s + 36);
    if (lsiz < 41 || csiz == 0 || csiz > 16384 || lsiz != 38 + 3 * csiz || 4 + lsiz > len)
        return pm_error_set(err, PM_EFORMAT, "jp2: bad SIZ segment (Lsiz %u, Csiz %u)", lsiz,
                            csiz);
    long long w = (long long)xsiz - (long long)x0, hh = (long long)ysiz - (long long)y0;
    h->width = (int)(w > 65535 ? 65536 : w < 0 ? 0 : w);
    h->height = (int)(hh > 65535 ? 65536 : hh < 0 ? 0 : hh);
    h->channels = (int)csiz;
    h->bit_depth = (s[38] & 0x7F) + 1;
    int rc = pm__image_check_size(w, hh, max_width, max_height, "jp2", err);
    if (rc)
        return rc;
    if (!xt || !yt || xt0 > x0 || yt0 > y0)
        return pm_error_set(err, PM_EFORMAT, "jp2: bad tile grid in SIZ");
    uint64_t tiles = ((xsiz - xt0 + xt - 1) / xt) * ((ysiz - yt0 + yt - 1) / yt);
    if (tiles > JP2_MAX_TILES)
        return pm_error_set(err, PM_ELIMIT, "jp2: %llu tiles (limit %d)",
                            (unsigned long long)tiles, JP2_MAX_TILES);
    return PM_OK;
}

struct jp2_mem {
    const uint8_t *data;
    size_t len;
    size_t pos;
    pm_buf_t *out;
    int out_failed;
    char msg[200];
};

static void on_error(const char *msg, void *user)
{
    struct jp2_mem *m = user;
    if (m && !m->msg[0]) {
        snprintf(m->msg, sizeof m->msg, "%s", msg ? msg : "error");
        size_t n = strlen(m->msg);
        while (n && (m->msg[n - 1] == '\n' || m->msg[n - 1] == ' '))
            m->msg[--n] = '\0';
    }
}

static void on_quiet(const char *msg, void *user)
{
    (void)msg, (void)user; /* warnings and info: not printed */
}

static OPJ_SIZE_T mem_read(void *buf, OPJ_SIZE_T n, void *user)
{
    struct jp2_mem *m = user;
    if (m->pos >= m->len)
        return (OPJ_SIZE_T)-1;
    size_t k = n < m->len - m->pos ? n : m->len - m->pos;
    memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    return k;
}

static OPJ_SIZE_T mem_write(void *buf, OPJ_SIZE_T n, void *user)
{
    struct jp2_mem *m = user;
    size_t end = m->pos + n;
    if (end > m->out->len) {
        size_t grow = end - m->out->len;
        if (pm_buf_reserve(m->out, grow) != PM_OK) {
            m->out_failed = 1;
            return (OPJ_SIZE_T)-1;
        }
        memset(m->out->data + m->out->len, 0, grow);
        m->out->len = end;
    }
    memcpy(m->out->data + m->pos, buf, n);
    m->pos = end;
    return n;
}

static size_t mem_size(const struct jp2_mem *m)
{
    return m->out ? m->out->len : m->len;
}

static OPJ_OFF_T mem_skip(OPJ_OFF_T n, void *user)
{
    struct jp2_mem *m = user;
    if (n < 0 ? (size_t)-n > m->pos : (uint64_t)n > ((uint64_t)1 << 40))
        return -1;
    m->pos = (size_t)((OPJ_OFF_T)m->pos + n);
    if (!m->out && m->pos > m->len)
        m->pos = m->len;
    return n;
}

static OPJ_BOOL mem_seek(OPJ_OFF_T n, void *user)
{
    struct jp2_mem *m = user;
    if (n < 0 || (!m->out && (uint64_t)n > mem_size(m)) || (uint64_t)n > ((uint64_t)1 << 40))
        return OPJ_FALSE;
    m->pos = (size_t)n;
    return OPJ_TRUE;
}

static opj_stream_t *stream_for(struct jp2_mem *m, int input)
{
    opj_stream_t *s = opj_stream_create(64 * 1024, input ? OPJ_TRUE : OPJ_FALSE);
    if (!s)
        return NULL;
    opj_stream_set_user_data(s, m, NULL);
    if (input) {
        opj_stream_set_user_data_length(s, m->len);
        opj_stream_set_read_function(s, mem_read);
    } else {
        opj_stream_set_write_function(s, mem_write);
    }
    opj_stream_set_skip_function(s, mem_skip);
    opj_stream_set_seek_function(s, mem_seek);
    return s;
}

/* A component sample as 8 bits (precision scaled, signed shifted). */
static inline unsigned sample8(const opj_image_comp_t *c, size_t i)
{
    long v = c->data[i];
    if (c->sgnd)
        v += 1L << (c->prec - 1);
    long max = (1L << c->prec) - 1;
    if (v < 0)
        v = 0;
    if (v > max)
        v = max;
    return c->prec == 8 ? (unsigned)v : (unsigned)((v * 255 + max / 2) / max);
}

int pm__jp2_decode(const uint8_t *data, size_t len, int max_width, int max_height,
                   pm_image_header_t *out_header, pm_image_t *out_img, pm_error_t *err)
{
    int is_jp2 = len >= 12 && memcmp(data, "\0\0\0\x0cjP  \r\n\x87\n", 12) == 0;
    struct jp2_facts facts = {.codestream = 0, .codestream_len = len};
    int rc = is_jp2 ? scan_boxes(data, len, &facts, err) : PM_OK;
    if (rc)
        return rc;
    rc = read_siz(data + facts.codestream, facts.codestream_len, max_width, max_height,
                  out_header, err);
    out_header->ppi = facts.ppi;
    if (rc || !out_img)
        return rc;
    if (out_header->bit_depth > 16)
        return pm_error_set(err, PM_EUNSUPPORTED, "jp2: %d-bit samples", out_header->bit_depth);

    struct jp2_mem m = {.data = data, .len = len};
    opj_codec_t *codec = opj_create_decompress(is_jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
    opj_stream_t *stream = stream_for(&m, 1);
    opj_image_t *image = NULL;
    if (!codec || !stream) {
        rc = pm_error_set(err, PM_ENOMEM, "jp2: cannot create decoder");
        goto done;
    }
    opj_set_error_handler(codec, on_error, &m);
    opj_set_warning_handler(codec, on_quiet, &m);
    opj_set_info_handler(codec, on_quiet, &m);
    opj_dparameters_t params;
    opj_set_default_decoder_parameters(&params);
    if (!opj_setup_decoder(codec, &params) || !opj_decoder_set_strict_mode(codec, OPJ_TRUE)) {
        rc = pm_error_set(err, PM_EIMAGE, "jp2: cannot set up decoder: %s", m.msg);
        goto done;
    }
    if (!opj_read_header(stream, codec, &image) || !image) {
        rc = pm_error_set(err, m.pos >= len ? PM_ETRUNCATED : PM_EIMAGE, "jp2: bad header: %s",
                          m.msg);
        goto done;
    }
    /* openjpeg's view must agree with the SIZ we checked. */
    long long w = (long long)image->x1 - image->x0, h = (long long)image->y1 - image->y0;
    if (w != out_header->width || h != out_header->height || image->numcomps < 1) {
        rc = pm_error_set(err, PM_EFORMAT, "jp2: header size %lldx%lld disagrees with SIZ", w,
                          h);
        goto done;
    }
    if (!opj_decode(codec, stream, image) || !opj_end_decompress(codec, stream)) {
        rc = pm_error_set(err, m.pos >= len ? PM_ETRUNCATED : PM_EIMAGE, "jp2: %s",
                          m.msg[0] ? m.msg : "cannot decode");
        goto done;
    }
    const opj_image_comp_t *c0 = &image->comps[0];
    if (c0->w != (OPJ_UINT32)w || c0->h != (OPJ_UINT32)h || !c0->data || c0->prec < 1 ||
        c0->prec > 16) {
        rc = pm_error_set(err, PM_EUNSUPPORTED, "jp2: first component is %ux%u at %u bits",
                          c0->w, c0->h, c0->prec);
        goto done;
    }
    int colour = image->numcomps >= 3 && image->color_space != OPJ_CLRSPC_SYCC &&
                 image->color_space != OPJ_CLRSPC_GRAY;
    for (int k = 1; colour && k < 3; k++) {
        const opj_image_comp_t *ck = &image->comps[k];
        if (ck->w != c0->w || ck->h != c0->h || !ck->data || ck->prec < 1 || ck->prec > 16)
            colour = 0; /* subsampled or odd: use the first (luma-like) component */
    }
    rc = pm_image_alloc(out_img, (int)w, (int)h, facts.ppi, err);
    if (rc)
        goto done;
    size_t n = (size_t)w * (size_t)h;
    for (size_t i = 0; i < n; i++)
        out_img->pixels[i] =
            colour ? pm__luma(sample8(c0, i), sample8(&image->comps[1], i),
                              sample8(&image->comps[2], i))
                   : (uint8_t)sample8(c0, i);
done:
    if (image)
        opj_image_destroy(image);
    if (stream)
        opj_stream_destroy(stream);
    if (codec)
        opj_destroy_codec(codec);
    return rc;
}

/* Inserts a 'res ' superbox holding 'resc' into the jp2h box: the
 * resolution as (ppi*50/127) * 10^2 per metre (exact, ppi <= 1310) or
 * (ppi*5/127) * 10^3. */
static int add_resolution_box(pm_buf_t *out, int ppi, pm_error_t *err)
{
    size_t pos = 0;
    while (pos < out->len) {
        uint32_t type;
        size_t body, blen, next;
        int rc = next_box(out->data, out->len, pos, &type, &body, &blen, &next, err);
        if (rc)
            return rc;
        if (type == BOX('j', 'p', '2', 'h')) {
            if (body - pos != 8)
                return pm_error_set(err, PM_EIMAGE, "jp2: unexpected long jp2h box");
            uint8_t res[26];
            uint32_t num = ppi <= 1310 ? (uint32_t)ppi * 50u : (uint32_t)ppi * 5u;
            int8_t exp = ppi <= 1310 ? 2 : 3;
            const uint8_t head[16] = {0, 0, 0, 26, 'r', 'e', 's', ' ', 0, 0, 0, 18,
                                      'r', 'e', 's', 'c'};
            memcpy(res, head, 16);
            res[16] = (uint8_t)(num >> 8), res[17] = (uint8_t)num; /* VR_N */
            res[18] = 0, res[19] = 127;                            /* VR_D */
            res[20] = (uint8_t)(num >> 8), res[21] = (uint8_t)num; /* HR_N */
            res[22] = 0, res[23] = 127;                            /* HR_D */
            res[24] = (uint8_t)exp, res[25] = (uint8_t)exp;        /* VR_E, HR_E */
            if (pm_buf_reserve(out, sizeof res) != PM_OK)
                return pm_error_set(err, PM_ENOMEM, "jp2: out of memory");
            memmove(out->data + next + sizeof res, out->data + next, out->len - next);
            memcpy(out->data + next, res, sizeof res);
            out->len += sizeof res;
            uint32_t size = (uint32_t)(next - pos + sizeof res);
            out->data[pos] = (uint8_t)(size >> 24), out->data[pos + 1] = (uint8_t)(size >> 16);
            out->data[pos + 2] = (uint8_t)(size >> 8), out->data[pos + 3] = (uint8_t)size;
            return PM_OK;
        }
        pos = next;
    }
    return pm_error_set(err, PM_EIMAGE, "jp2: encoder wrote no jp2h box");
}

int pm__jp2_encode(const pm_image_t *img, const pm_image_save_options_t *opts, pm_buf_t *out,
                   pm_error_t *err)
{
    opj_image_cmptparm_t cp;
    memset(&cp, 0, sizeof cp);
    cp.dx = cp.dy = 1;
    cp.w = (OPJ_UINT32)img->width;
    cp.h = (OPJ_UINT32)img->height;
    cp.prec = 8;
    cp.sgnd = 0;
    opj_image_t *image = opj_image_create(1, &cp, OPJ_CLRSPC_GRAY);
    if (!image)
        return pm_error_set(err, PM_ENOMEM, "jp2: out of memory");
    image->x0 = image->y0 = 0;
    image->x1 = (OPJ_UINT32)img->width;
    image->y1 = (OPJ_UINT32)img->height;
    size_t n = (size_t)img->width * (size_t)img->height;
    for (size_t i = 0; i < n; i++)
        image->comps[0].data[i] = img->pixels[i];

    opj_cparameters_t params;
    opj_set_default_encoder_parameters(&params);
    double ratio = opts && opts->jp2_ratio > 1.0 ? opts->jp2_ratio : 0.0;
    params.tcp_numlayers = 1;
    params.tcp_rates[0] = (float)ratio; /* 0 = lossless */
    params.cp_disto_alloc = 1;
    params.irreversible = ratio > 0 ? 1 : 0;
    int minside = img->width < img->height ? img->width : img->height;
    int levels = 1;
    while (levels < 6 && (minside >> levels) >= 1)
        levels++;
    params.numresolution = levels;

    struct jp2_mem m = {.out = out};
    opj_codec_t *codec = opj_create_compress(OPJ_CODEC_JP2);
    opj_stream_t *stream = stream_for(&m, 0);
    int rc = PM_OK;
    if (!codec || !stream) {
        rc = pm_error_set(err, PM_ENOMEM, "jp2: cannot create encoder");
        goto done;
    }
    opj_set_error_handler(codec, on_error, &m);
    opj_set_warning_handler(codec, on_quiet, &m);
    opj_set_info_handler(codec, on_quiet, &m);
    if (!opj_setup_encoder(codec, &params, image) || !opj_start_compress(codec, image, stream) ||
        !opj_encode(codec, stream) || !opj_end_compress(codec, stream)) {
        rc = pm_error_set(err, m.out_failed ? PM_ENOMEM : PM_EIMAGE, "jp2: %s",
                          m.msg[0] ? m.msg : "cannot encode");
        goto done;
    }
    opj_stream_destroy(stream);
    stream = NULL; /* flushes */
    if (m.out_failed) {
        rc = pm_error_set(err, PM_ENOMEM, "jp2: output too large");
        goto done;
    }
    if (img->ppi > 0 && img->ppi <= 13107)
        rc = add_resolution_box(out, img->ppi, err);
done:
    if (stream)
        opj_stream_destroy(stream);
    if (codec)
        opj_destroy_codec(codec);
    opj_image_destroy(image);
    return rc;
}
