/* an2k images: where an image record's bytes are, what compression it
 * declares and what its signature shows. */
#include "an2k_internal.h"

#include <stdio.h>
#include <string.h>

int pm_an2k_sniff(const uint8_t *d, size_t n)
{
    static const uint8_t jp2_box[12] = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (n >= 2 && d[0] == 0xFF && d[1] == 0xA0) return PM_AN2K_CMP_WSQ;
    if (n >= 2 && d[0] == 0xFF && d[1] == 0xD8) return PM_AN2K_CMP_JPEG;
    if (n >= 12 && memcmp(d, jp2_box, 12) == 0) return PM_AN2K_CMP_JP2;
    if (n >= 4 && d[0] == 0xFF && d[1] == 0x4F && d[2] == 0xFF && d[3] == 0x51)
        return PM_AN2K_CMP_JP2;
    if (n >= 8 && memcmp(d, png, 8) == 0) return PM_AN2K_CMP_PNG;
    return PM_AN2K_CMP_UNKNOWN;
}

/* Compression code text of a tagged image record -> our enum. */
static int cga_code(const char *s)
{
    static const struct {
        const char *text;
        int code;
    } map[] = {
        {"NONE", PM_AN2K_CMP_NONE},  {"WSQ", PM_AN2K_CMP_WSQ},     {"WSQ20", PM_AN2K_CMP_WSQ},
        {"JPEGB", PM_AN2K_CMP_JPEG}, {"JPEGL", PM_AN2K_CMP_JPEGL}, {"JP2", PM_AN2K_CMP_JP2},
        {"JP2L", PM_AN2K_CMP_JP2},   {"PNG", PM_AN2K_CMP_PNG},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(s, map[i].text) == 0) return map[i].code;
    return PM_AN2K_CMP_UNKNOWN;
}

static int num(const pm_an2k_record_t *r, int id)
{
    char v[16];
    int n = pm_an2k_get(r, id, 1, 1, v, sizeof v);
    if (n <= 0 || n > 9) return -1;
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return -1;
        x = x * 10 + (v[i] - '0');
    }
    return x;
}

size_t pm__an2k_dup_tag_prefix(const pm_an2k_field_t *f)
{
    /* Some writers put "<text><GS>T.999:" (even several times) before the image
     * bytes: fields mis-tagged as 999. Returns the length of all such prefixes
     * so the image itself can still be found; 0 when there is none. */
    size_t start = 0;
    for (int rounds = 0; rounds < 64; rounds++) {
        size_t i = start;
        while (i < f->len && i - start < 256 && f->value[i] >= 0x20 && f->value[i] < 0x7f)
            i++;
        if (i >= f->len || f->value[i] != PM_AN2K_GS) break;
        i++;
        size_t t = i;
        while (i < f->len && i - t < PM_AN2K_MAX_TAG && f->value[i] != ':')
            i++;
        if (i >= f->len || i - t < 5 || memcmp(f->value + i - 4, ".999", 4) != 0) break;
        start = i + 1;
    }
    return start;
}

int pm_an2k_image_ref(const pm_an2k_record_t *r, pm_an2k_image_ref_t *out, pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (r->opaque) return pm_error_set(err, PM_ENOTFOUND, "Type-%d record is opaque", r->type);
    const pm_an2k_field_t *d = NULL;
    if (r->binary) {
        size_t n;
        pm__an2k_binary_layout(r->type, &n);
        d = pm_an2k_find(r, (int)n + 1);
        out->width = num(r, 6);
        out->height = num(r, 7);
        int gca = num(r, r->type == 8 ? 4 : 8); /* Type-8: SRT (8.004) */
        snprintf(out->declared_text, sizeof out->declared_text, "%d", gca);
        out->depth = (r->type == 5 || r->type == 6 || r->type == 8) ? 1 : 8;
        out->ppi = (r->type == 4 || r->type == 6) ? 500 : (r->type == 3 || r->type == 5) ? 250 : 0;
        if (r->type == 8) {
            out->declared = gca == 0 ? PM_AN2K_CMP_NONE : PM_AN2K_CMP_UNKNOWN;
        } else if (r->type == 4 || r->type == 3 || r->type == 7) {
            /* GCA 0 = none, 1 = WSQ (the value FBI/CJIS assign); others vendor-specific. */
            out->declared = gca == 0   ? PM_AN2K_CMP_NONE
                            : gca == 1 ? PM_AN2K_CMP_WSQ
                                       : PM_AN2K_CMP_UNKNOWN;
        } else {
            /* Types 5/6 bi-level: 0 none, 1 = CCITT G4 facsimile (no signature). */
            out->declared = gca == 0 ? PM_AN2K_CMP_NONE : PM_AN2K_CMP_UNKNOWN;
        }
        out->field = (int)n + 1;
    } else {
        if (r->type != 10 && (r->type < 13 || r->type > 17))
            return pm_error_set(err, PM_ENOTFOUND, "Type-%d is not an image record", r->type);
        d = pm_an2k_find(r, 999);
        if (!d || !d->binary)
            return pm_error_set(err, PM_ENOTFOUND, "Type-%d record has no image data field",
                                r->type);
        out->field = 999;
        out->width = num(r, 6);
        out->height = num(r, 7);
        int slc = num(r, 8), thps = num(r, 9);
        out->ppi = slc == 1 ? thps : slc == 2 ? (int)(thps * 2.54 + 0.5) : 0;
        int cga_id = 11;
        pm_an2k_get(r, cga_id, 1, 1, out->declared_text, sizeof out->declared_text);
        out->declared = cga_code(out->declared_text);
        out->depth = 8;
        if (r->type >= 13 && r->type <= 17) {
            int bpx = num(r, 12);
            if (bpx > 0) out->depth = bpx;
        } else if (r->type == 10) {
            char csp[16];
            pm_an2k_get(r, 12, 1, 1, csp, sizeof csp);
            out->depth = strcmp(csp, "GRAY") == 0 ? 8 : 24;
        }
    }
    if (!d) return pm_error_set(err, PM_ENOTFOUND, "Type-%d record has no image data", r->type);
    size_t skip = r->binary ? 0 : pm__an2k_dup_tag_prefix(d);
    out->data = d->value + skip;
    out->len = d->len - skip;
    out->detected = pm_an2k_sniff(out->data, out->len);
    return PM_OK;
}
