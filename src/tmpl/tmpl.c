/* Finger minutiae records: native, ISO/IEC 19794-2:2005, ANSI INCITS 378-2004.
 * See docs/tmpl.md for the layouts. */
#include "perimeter/tmpl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TWO_PI 6.28318530717958647692

/* ---- bounded big-endian reader ---------------------------------------- */

typedef struct reader {
    const uint8_t *p;
    size_t len; /* bytes of the record (record length, not file length) */
    size_t pos;
    const char *what; /* "ISO", "ANSI", "native" for messages */
    pm_error_t *err;
} reader_t;

static int need(reader_t *r, size_t n, const char *field)
{
    if (r->len - r->pos < n)
        return pm_error_set(r->err, PM_ETRUNCATED,
                            "%s record truncated: field '%s' needs %zu bytes at offset %zu, "
                            "record has %zu",
                            r->what, field, n, r->pos, r->len);
    return 0;
}

static int get_u8(reader_t *r, const char *field, unsigned *out)
{
    int rc = need(r, 1, field);
    if (rc)
        return rc;
    *out = r->p[r->pos++];
    return 0;
}

static int get_u16(reader_t *r, const char *field, unsigned *out)
{
    int rc = need(r, 2, field);
    if (rc)
        return rc;
    *out = ((unsigned)r->p[r->pos] << 8) | r->p[r->pos + 1];
    r->pos += 2;
    return 0;
}

static int get_u32(reader_t *r, const char *field, uint32_t *out)
{
    int rc = need(r, 4, field);
    if (rc)
        return rc;
    const uint8_t *q = r->p + r->pos;
    *out = ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
    r->pos += 4;
    return 0;
}

static uint32_t be32(const uint8_t *q)
{
    return ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
}

static unsigned be16(const uint8_t *q) { return ((unsigned)q[0] << 8) | q[1]; }

/* ---- detection ----------------------------------------------------------- */

static const uint8_t fmr_magic[8] = {'F', 'M', 'R', 0, ' ', '2', '0', 0};
static const uint8_t native_magic[4] = {'P', 'M', 'T', 0};

#define ISO_HEADER 24
#define ANSI_HEADER 26 /* with the short (2-byte) length */
#define NATIVE_HEADER 12

pm_tmpl_format_t pm_tmpl_detect(const uint8_t *data, size_t len)
{
    if (!data)
        return PM_TMPL_UNKNOWN;
    if (len >= NATIVE_HEADER && memcmp(data, native_magic, 4) == 0)
        return PM_TMPL_NATIVE;
    if (len < 12 || memcmp(data, fmr_magic, 8) != 0)
        return PM_TMPL_UNKNOWN;
    /* ISO has a 4-byte length at 8; ANSI a 2-byte one (or 0 then 4 bytes). A
     * record shorter than 65536 bytes starts with 00 00 in ISO, which reads
     * as the ANSI long form; the ISO length must then fit the data. */
    uint32_t iso_len = be32(data + 8);
    if (iso_len >= ISO_HEADER && iso_len <= len)
        return PM_TMPL_ISO;
    unsigned short_len = be16(data + 8);
    if (short_len >= ANSI_HEADER && short_len <= len)
        return PM_TMPL_ANSI;
    if (short_len == 0 && len >= 14) {
        uint32_t long_len = be32(data + 10);
        if (long_len >= ANSI_HEADER + 4 && long_len <= len)
            return PM_TMPL_ANSI;
    }
    /* Truncated: let the ISO reader report the precise problem. */
    return iso_len >= ISO_HEADER ? PM_TMPL_ISO : PM_TMPL_ANSI;
}

const char *pm_tmpl_format_name(pm_tmpl_format_t format)
{
    switch (format) {
    case PM_TMPL_NATIVE: return "native";
    case PM_TMPL_ISO: return "iso";
    case PM_TMPL_ANSI: return "ansi";
    default: return "unknown";
    }
}

pm_tmpl_format_t pm_tmpl_format_parse(const char *name)
{
    if (!name)
        return PM_TMPL_UNKNOWN;
    if (strcmp(name, "native") == 0)
        return PM_TMPL_NATIVE;
    if (strcmp(name, "iso") == 0)
        return PM_TMPL_ISO;
    if (strcmp(name, "ansi") == 0)
        return PM_TMPL_ANSI;
    return PM_TMPL_UNKNOWN;
}

/* ---- ISO / ANSI reader --------------------------------------------------- */

static int read_ext_data(reader_t *r, size_t view)
{
    unsigned ext_len;
    int rc = get_u16(r, "extended data block length", &ext_len);
    if (rc)
        return rc;
    if (ext_len == 0)
        return 0;
    size_t start = r->pos;
    if ((rc = need(r, ext_len, "extended data")))
        return rc;
    size_t end = start + ext_len;
    /* Blocks: type id (2), length (2, including these 4 bytes), data. */
    while (r->pos < end) {
        if (end - r->pos < 4)
            return pm_error_set(r->err, PM_EFORMAT,
                                "%s view %zu: extended data block header at offset %zu "
                                "overruns the extended data area (ends at %zu)",
                                r->what, view, r->pos, end);
        unsigned type = be16(r->p + r->pos);
        unsigned blen = be16(r->p + r->pos + 2);
        if (blen < 4 || blen > end - r->pos)
            return pm_error_set(r->err, PM_EFORMAT,
                                "%s view %zu: extended data block type 0x%04x at offset %zu has "
                                "length %u (must be 4..%zu)",
                                r->what, view, type, r->pos, blen, end - r->pos);
        r->pos += blen;
    }
    return 0;
}

static int read_fmr(reader_t *r, int ansi, pm_fingerprint_t **out_views, size_t *out_count)
{
    pm_error_t *err = r->err;
    int rc;
    if (r->len < 8 || memcmp(r->p, fmr_magic, 4) != 0)
        return pm_error_set(err, PM_EFORMAT, "%s record: no 'FMR\\0' format identifier at offset 0",
                            r->what);
    if (memcmp(r->p + 4, fmr_magic + 4, 4) != 0)
        return pm_error_set(err, PM_EUNSUPPORTED,
                            "%s record: version at offset 4 is not ' 20' (only the 2004/2005 "
                            "editions are supported)",
                            r->what);
    r->pos = 8;
    uint32_t rec_len;
    if (ansi) {
        unsigned short_len;
        if ((rc = get_u16(r, "record length", &short_len)))
            return rc;
        rec_len = short_len;
        if (short_len == 0 && (rc = get_u32(r, "record length (long form)", &rec_len)))
            return rc;
    } else if ((rc = get_u32(r, "record length", &rec_len))) {
        return rc;
    }
    size_t header = ansi ? (size_t)ANSI_HEADER + (r->pos == 14 ? 4 : 0) : ISO_HEADER;
    if (rec_len < header)
        return pm_error_set(err, PM_EFORMAT,
                            "%s record: record length %u at offset 8 is shorter than the %zu-byte "
                            "header",
                            r->what, (unsigned)rec_len, header);
    if (rec_len > r->len)
        return pm_error_set(err, PM_ETRUNCATED,
                            "%s record truncated: record length field says %u bytes, only %zu "
                            "present",
                            r->what, (unsigned)rec_len, r->len);
    r->len = rec_len; /* ignore padding after the record */
    if (ansi)
        r->pos += 4; /* CBEFF product identifier (owner, type) */
    unsigned equip, width, height, xres, yres, nviews, reserved;
    if ((rc = get_u16(r, "capture equipment", &equip)) || (rc = get_u16(r, "image width", &width)) ||
        (rc = get_u16(r, "image height", &height)) ||
        (rc = get_u16(r, "x resolution", &xres)) || (rc = get_u16(r, "y resolution", &yres)) ||
        (rc = get_u8(r, "number of finger views", &nviews)) ||
        (rc = get_u8(r, "reserved byte", &reserved)))
        return rc;
    (void)equip;
    (void)reserved;
    if (nviews == 0)
        return pm_error_set(err, PM_EFORMAT, "%s record: number of finger views is 0 (offset %zu)",
                            r->what, r->pos - 2);
    if (nviews > PM_TMPL_MAX_VIEWS)
        return pm_error_set(err, PM_ELIMIT, "%s record: %u finger views, at most %d accepted",
                            r->what, nviews, PM_TMPL_MAX_VIEWS);
    /* Resolution is in pixels per centimetre; 0 means unknown (assume 500 ppi). */
    int ppi = xres ? (int)lround(xres * 2.54) : 500;
    pm_fingerprint_t *views = calloc(nviews, sizeof *views);
    if (!views)
        return pm_error_set(err, PM_ENOMEM, "out of memory for %u finger views", nviews);
    for (size_t v = 0; v < nviews; v++) {
        pm_fingerprint_t *fp = &views[v];
        unsigned finger, view_imp, quality, count;
        size_t at = r->pos;
        if ((rc = get_u8(r, "finger position", &finger)) ||
            (rc = get_u8(r, "view number/impression type", &view_imp)) ||
            (rc = get_u8(r, "finger quality", &quality)) ||
            (rc = get_u8(r, "number of minutiae", &count)))
            goto fail;
        if (finger > 10) {
            rc = pm_error_set(err, PM_ERANGE, "%s view %zu: finger position %u at offset %zu (0..10)",
                              r->what, v, finger, at);
            goto fail;
        }
        if (quality > 100) {
            rc = pm_error_set(err, PM_ERANGE, "%s view %zu: finger quality %u at offset %zu (0..100)",
                              r->what, v, quality, at + 2);
            goto fail;
        }
        fp->width = (int)width;
        fp->height = (int)height;
        fp->ppi = ppi;
        fp->finger = (int)finger;
        fp->quality = (int)quality;
        if ((rc = need(r, (size_t)count * 6, "minutiae")))
            goto fail;
        for (unsigned i = 0; i < count; i++) {
            const uint8_t *m = r->p + r->pos;
            unsigned type = m[0] >> 6;
            unsigned x = ((unsigned)(m[0] & 0x3f) << 8) | m[1];
            unsigned y = ((unsigned)(m[2] & 0x3f) << 8) | m[3];
            unsigned angle = m[4], mq = m[5];
            if (type == 3) {
                rc = pm_error_set(err, PM_EFORMAT,
                                  "%s view %zu minutia %u at offset %zu: reserved minutia type 3",
                                  r->what, v, i, r->pos);
                goto fail;
            }
            if (ansi && angle >= 180) {
                rc = pm_error_set(err, PM_ERANGE,
                                  "%s view %zu minutia %u at offset %zu: angle %u (ANSI 0..179)",
                                  r->what, v, i, r->pos + 4, angle);
                goto fail;
            }
            if (mq > 100) {
                rc = pm_error_set(err, PM_ERANGE,
                                  "%s view %zu minutia %u at offset %zu: quality %u (0..100)",
                                  r->what, v, i, r->pos + 5, mq);
                goto fail;
            }
            pm_minutia_t *mu = &fp->minutiae[i];
            mu->x = (float)x;
            mu->y = (float)y;
            mu->angle = ansi ? (float)(angle * 2.0 * TWO_PI / 360.0)
                             : (float)(angle * TWO_PI / 256.0);
            mu->type = type == 1 ? PM_MINUTIA_ENDING
                                 : type == 2 ? PM_MINUTIA_BIFURCATION : PM_MINUTIA_OTHER;
            mu->quality = (uint8_t)mq;
            r->pos += 6;
        }
        fp->count = count;
        if ((rc = read_ext_data(r, v)))
            goto fail;
    }
    if (r->pos != r->len) {
        rc = pm_error_set(err, PM_EFORMAT,
                          "%s record: record length says %zu bytes but the views end at offset %zu",
                          r->what, r->len, r->pos);
        goto fail;
    }
    *out_views = views;
    *out_count = nviews;
    return 0;
fail:
    free(views);
    return rc;
}

/* ---- native ---------------------------------------------------------------
 * "PMT\0" u8 version u8 views u16 reserved u32 total length (incl. CRC)
 * per view: u16 width u16 height u16 ppi u8 quality u8 finger u8 count u8 reserved
 *           per minutia: u16 x*4 u16 y*4 u16 angle*65536/2pi u8 type u8 quality
 * u32 CRC-32 (IEEE) of every preceding byte. All big-endian. */

#define NATIVE_VIEW_HEADER 10
#define NATIVE_MINUTIA 8

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static int read_native(reader_t *r, pm_fingerprint_t **out_views, size_t *out_count)
{
    pm_error_t *err = r->err;
    int rc;
    if (r->len < 4 || memcmp(r->p, native_magic, 4) != 0)
        return pm_error_set(err, PM_EFORMAT, "native template: no 'PMT\\0' magic at offset 0");
    r->pos = 4;
    unsigned version, nviews, reserved;
    uint32_t total;
    if ((rc = get_u8(r, "version", &version)) || (rc = get_u8(r, "view count", &nviews)) ||
        (rc = get_u16(r, "reserved", &reserved)) || (rc = get_u32(r, "total length", &total)))
        return rc;
    if (version < 1 || version > PM_TMPL_NATIVE_VERSION)
        return pm_error_set(err, PM_EUNSUPPORTED, "native template: version %u (this build reads 1..%d)",
                            version, PM_TMPL_NATIVE_VERSION);
    if (total < NATIVE_HEADER + 4)
        return pm_error_set(err, PM_EFORMAT, "native template: total length %u at offset 8 too small",
                            (unsigned)total);
    if (total > r->len)
        return pm_error_set(err, PM_ETRUNCATED, "native template truncated: %u bytes declared, %zu present",
                            (unsigned)total, r->len);
    r->len = total;
    uint32_t stored = be32(r->p + total - 4);
    uint32_t actual = crc32_ieee(r->p, total - 4);
    if (stored != actual)
        return pm_error_set(err, PM_ECHECKSUM, "native template: CRC-32 mismatch (stored %08x, computed %08x)",
                            (unsigned)stored, (unsigned)actual);
    r->len = total - 4;
    if (nviews == 0 || nviews > PM_TMPL_MAX_VIEWS)
        return pm_error_set(err, PM_EFORMAT, "native template: view count %u (1..%d)", nviews,
                            PM_TMPL_MAX_VIEWS);
    pm_fingerprint_t *views = calloc(nviews, sizeof *views);
    if (!views)
        return pm_error_set(err, PM_ENOMEM, "out of memory for %u finger views", nviews);
    for (size_t v = 0; v < nviews; v++) {
        pm_fingerprint_t *fp = &views[v];
        unsigned w, h, ppi, q, finger, count, res;
        if ((rc = get_u16(r, "width", &w)) || (rc = get_u16(r, "height", &h)) ||
            (rc = get_u16(r, "ppi", &ppi)) || (rc = get_u8(r, "quality", &q)) ||
            (rc = get_u8(r, "finger", &finger)) || (rc = get_u8(r, "minutiae count", &count)) ||
            (rc = get_u8(r, "reserved", &res)))
            goto fail;
        if (q > 100 || finger > 10) {
            rc = pm_error_set(err, PM_ERANGE, "native view %zu: quality %u / finger %u out of range", v,
                              q, finger);
            goto fail;
        }
        fp->width = (int)w;
        fp->height = (int)h;
        fp->ppi = (int)ppi;
        fp->quality = (int)q;
        fp->finger = (int)finger;
        if ((rc = need(r, (size_t)count * NATIVE_MINUTIA, "minutiae")))
            goto fail;
        for (unsigned i = 0; i < count; i++) {
            const uint8_t *m = r->p + r->pos;
            unsigned type = m[6], mq = m[7];
            if (type > PM_MINUTIA_BIFURCATION || mq > 100) {
                rc = pm_error_set(err, PM_ERANGE,
                                  "native view %zu minutia %u at offset %zu: type %u / quality %u", v,
                                  i, r->pos, type, mq);
                goto fail;
            }
            fp->minutiae[i].x = (float)be16(m) / 4.0f;
            fp->minutiae[i].y = (float)be16(m + 2) / 4.0f;
            fp->minutiae[i].angle = (float)(be16(m + 4) * TWO_PI / 65536.0);
            fp->minutiae[i].type = (uint8_t)type;
            fp->minutiae[i].quality = (uint8_t)mq;
            r->pos += NATIVE_MINUTIA;
        }
        fp->count = count;
    }
    if (r->pos != r->len) {
        rc = pm_error_set(err, PM_EFORMAT, "native template: %zu unexpected bytes before the CRC at offset %zu",
                          r->len - r->pos, r->pos);
        goto fail;
    }
    *out_views = views;
    *out_count = nviews;
    return 0;
fail:
    free(views);
    return rc;
}

int pm_tmpl_read(const uint8_t *data, size_t len, pm_tmpl_format_t format,
                 pm_fingerprint_t **out_views, size_t *out_count, pm_tmpl_format_t *out_format,
                 pm_error_t *err)
{
    if (!out_views || !out_count || (!data && len))
        return pm_error_set(err, PM_EINVAL, "pm_tmpl_read: NULL argument");
    *out_views = NULL;
    *out_count = 0;
    if (format == PM_TMPL_UNKNOWN)
        format = pm_tmpl_detect(data, len);
    if (out_format)
        *out_format = format;
    reader_t r = {.p = data, .len = len, .pos = 0, .err = err};
    switch (format) {
    case PM_TMPL_ISO: r.what = "ISO 19794-2"; return read_fmr(&r, 0, out_views, out_count);
    case PM_TMPL_ANSI: r.what = "ANSI 378"; return read_fmr(&r, 1, out_views, out_count);
    case PM_TMPL_NATIVE: r.what = "native"; return read_native(&r, out_views, out_count);
    default:
        return pm_error_set(err, PM_EFORMAT,
                            "not a minutiae template (no 'FMR\\0 20\\0' or 'PMT\\0' header, %zu bytes)",
                            len);
    }
}

int pm_tmpl_read_file(const char *path, pm_fingerprint_t **out_views, size_t *out_count,
                      pm_tmpl_format_t *out_format, pm_error_t *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(path, 1u << 20, &data, &len, err);
    if (rc)
        return rc;
    rc = pm_tmpl_read(data, len, PM_TMPL_UNKNOWN, out_views, out_count, out_format, err);
    free(data);
    if (rc)
        pm_error_prefix(err, "%s", path);
    return rc;
}

/* ---- writers ------------------------------------------------------------- */

static int put_u8(pm_buf_t *b, unsigned v)
{
    uint8_t c = (uint8_t)v;
    return pm_buf_append(b, &c, 1);
}

static int put_u16(pm_buf_t *b, unsigned v)
{
    uint8_t c[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return pm_buf_append(b, c, 2);
}

static int put_u32(pm_buf_t *b, uint32_t v)
{
    uint8_t c[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return pm_buf_append(b, c, 4);
}

static void patch_u32(pm_buf_t *b, size_t at, uint32_t v)
{
    b->data[at] = (uint8_t)(v >> 24);
    b->data[at + 1] = (uint8_t)(v >> 16);
    b->data[at + 2] = (uint8_t)(v >> 8);
    b->data[at + 3] = (uint8_t)v;
}

static double wrap_angle(double a)
{
    a = fmod(a, TWO_PI);
    if (a < 0)
        a += TWO_PI;
    return a;
}

static int check_views(const pm_fingerprint_t *views, size_t count, pm_error_t *err)
{
    if (!views || count == 0 || count > PM_TMPL_MAX_VIEWS)
        return pm_error_set(err, PM_EINVAL, "template: %zu views (1..%d)", count, PM_TMPL_MAX_VIEWS);
    for (size_t v = 0; v < count; v++) {
        const pm_fingerprint_t *fp = &views[v];
        if (fp->count > PM_MAX_MINUTIAE)
            return pm_error_set(err, PM_ERANGE, "template view %zu: %zu minutiae (max %d)", v,
                                fp->count, PM_MAX_MINUTIAE);
        if (fp->width < 0 || fp->width > 65535 || fp->height < 0 || fp->height > 65535 ||
            fp->ppi < 0 || fp->ppi > 65535)
            return pm_error_set(err, PM_ERANGE, "template view %zu: image size/resolution out of range", v);
        if (fp->finger < 0 || fp->finger > 10)
            return pm_error_set(err, PM_ERANGE, "template view %zu: finger position %d (0..10)", v,
                                fp->finger);
        for (size_t i = 0; i < fp->count; i++) {
            const pm_minutia_t *m = &fp->minutiae[i];
            if (!(m->x >= 0 && m->x < 16383.5f && m->y >= 0 && m->y < 16383.5f) ||
                !isfinite(m->angle) || m->type > PM_MINUTIA_BIFURCATION)
                return pm_error_set(err, PM_ERANGE,
                                    "template view %zu minutia %zu: position (%g,%g) or type %u "
                                    "cannot be encoded",
                                    v, i, (double)m->x, (double)m->y, m->type);
        }
    }
    return 0;
}

static int clamp_quality(int q) { return q < 0 ? 0 : q > 100 ? 100 : q; }

static int write_fmr(int ansi, const pm_fingerprint_t *views, size_t count, pm_buf_t *out)
{
    size_t start = out->len;
    size_t body = 0;
    for (size_t v = 0; v < count; v++)
        body += 4 + views[v].count * 6 + 2;
    size_t total = (ansi ? ANSI_HEADER : ISO_HEADER) + body;
    int long_ansi = ansi && total > 0xffff;
    if (long_ansi)
        total += 4;
    int rc = pm_buf_append(out, fmr_magic, 8);
    if (rc)
        return rc;
    if (!ansi) {
        rc = put_u32(out, (uint32_t)total);
    } else if (long_ansi) {
        if (!(rc = put_u16(out, 0)))
            rc = put_u32(out, (uint32_t)total);
    } else {
        rc = put_u16(out, (unsigned)total);
    }
    if (!rc && ansi)
        rc = put_u32(out, 0); /* CBEFF product identifier: unregistered */
    int ppi = views[0].ppi > 0 ? views[0].ppi : 500;
    unsigned ppcm = (unsigned)lround(ppi / 2.54);
    if (!rc)
        rc = put_u16(out, 0); /* capture equipment: no certification, unknown device */
    if (!rc)
        rc = put_u16(out, (unsigned)views[0].width);
    if (!rc)
        rc = put_u16(out, (unsigned)views[0].height);
    if (!rc)
        rc = put_u16(out, ppcm);
    if (!rc)
        rc = put_u16(out, ppcm);
    if (!rc)
        rc = put_u8(out, (unsigned)count);
    if (!rc)
        rc = put_u8(out, 0);
    for (size_t v = 0; v < count && !rc; v++) {
        const pm_fingerprint_t *fp = &views[v];
        /* view number (4 bits) | impression type 0 (live-scan plain) */
        rc = put_u8(out, (unsigned)fp->finger);
        if (!rc)
            rc = put_u8(out, (unsigned)((v & 0x0f) << 4));
        if (!rc)
            rc = put_u8(out, (unsigned)clamp_quality(fp->quality));
        if (!rc)
            rc = put_u8(out, (unsigned)fp->count);
        for (size_t i = 0; i < fp->count && !rc; i++) {
            const pm_minutia_t *m = &fp->minutiae[i];
            unsigned type = m->type == PM_MINUTIA_ENDING ? 1 : m->type == PM_MINUTIA_BIFURCATION ? 2 : 0;
            unsigned x = (unsigned)lround(m->x), y = (unsigned)lround(m->y);
            double a = wrap_angle(m->angle);
            unsigned code = ansi ? (unsigned)lround(a * 180.0 / TWO_PI) % 180u
                                 : (unsigned)lround(a * 256.0 / TWO_PI) % 256u;
            uint8_t rec[6] = {(uint8_t)((type << 6) | (x >> 8)), (uint8_t)x, (uint8_t)(y >> 8),
                              (uint8_t)y, (uint8_t)code, (uint8_t)clamp_quality(m->quality)};
            rc = pm_buf_append(out, rec, 6);
        }
        if (!rc)
            rc = put_u16(out, 0); /* no extended data */
    }
    if (!rc && out->len - start != total)
        rc = PM_EINTERNAL;
    return rc;
}

static int write_native(const pm_fingerprint_t *views, size_t count, pm_buf_t *out)
{
    size_t start = out->len;
    int rc = pm_buf_append(out, native_magic, 4);
    if (!rc)
        rc = put_u8(out, PM_TMPL_NATIVE_VERSION);
    if (!rc)
        rc = put_u8(out, (unsigned)count);
    if (!rc)
        rc = put_u16(out, 0);
    size_t len_at = out->len;
    if (!rc)
        rc = put_u32(out, 0);
    for (size_t v = 0; v < count && !rc; v++) {
        const pm_fingerprint_t *fp = &views[v];
        rc = put_u16(out, (unsigned)fp->width);
        if (!rc)
            rc = put_u16(out, (unsigned)fp->height);
        if (!rc)
            rc = put_u16(out, (unsigned)fp->ppi);
        if (!rc)
            rc = put_u8(out, (unsigned)clamp_quality(fp->quality));
        if (!rc)
            rc = put_u8(out, (unsigned)fp->finger);
        if (!rc)
            rc = put_u8(out, (unsigned)fp->count);
        if (!rc)
            rc = put_u8(out, 0);
        for (size_t i = 0; i < fp->count && !rc; i++) {
            const pm_minutia_t *m = &fp->minutiae[i];
            long x = lround(m->x * 4.0), y = lround(m->y * 4.0);
            if (x > 65535)
                x = 65535;
            if (y > 65535)
                y = 65535;
            unsigned a = (unsigned)lround(wrap_angle(m->angle) * 65536.0 / TWO_PI) & 0xffffu;
            uint8_t rec[8] = {(uint8_t)(x >> 8), (uint8_t)x, (uint8_t)(y >> 8), (uint8_t)y,
                              (uint8_t)(a >> 8), (uint8_t)a, m->type,
                              (uint8_t)clamp_quality(m->quality)};
            rc = pm_buf_append(out, rec, 8);
        }
    }
    if (rc)
        return rc;
    size_t total = out->len - start + 4;
    patch_u32(out, len_at, (uint32_t)total);
    return put_u32(out, crc32_ieee(out->data + start, out->len - start));
}

int pm_tmpl_write(pm_tmpl_format_t format, const pm_fingerprint_t *views, size_t count,
                  pm_buf_t *out, pm_error_t *err)
{
    if (!out)
        return pm_error_set(err, PM_EINVAL, "pm_tmpl_write: NULL buffer");
    int rc = check_views(views, count, err);
    if (rc)
        return rc;
    switch (format) {
    case PM_TMPL_ISO: rc = write_fmr(0, views, count, out); break;
    case PM_TMPL_ANSI: rc = write_fmr(1, views, count, out); break;
    case PM_TMPL_NATIVE: rc = write_native(views, count, out); break;
    default: return pm_error_set(err, PM_EINVAL, "pm_tmpl_write: unknown format %d", (int)format);
    }
    if (rc)
        return pm_error_set(err, rc, "writing %s template: %s", pm_tmpl_format_name(format),
                            pm_strerror(rc));
    return 0;
}
