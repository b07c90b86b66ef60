/* an2k Type-9 minutiae: the INCITS 378 block and the legacy standard fields. */
#include "an2k_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PM__PI 3.14159265358979323846

static long item_num(const pm_an2k_field_t *f, size_t sub, size_t item, size_t off, size_t n,
                     int *ok)
{
    const uint8_t *p;
    size_t len;
    if (!pm_an2k_item(f, sub, item, &p, &len) || off + n > len || n == 0 || n > 9) {
        *ok = 0;
        return 0;
    }
    long v = 0;
    for (size_t i = off; i < off + n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            *ok = 0;
            return 0;
        }
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static long whole_num(const pm_an2k_field_t *f, size_t sub, size_t item, int *ok)
{
    const uint8_t *p;
    size_t len;
    if (!pm_an2k_item(f, sub, item, &p, &len)) {
        *ok = 0;
        return 0;
    }
    return item_num(f, sub, item, 0, len, ok);
}

static int rec_num(const pm_an2k_record_t *r, int id)
{
    const pm_an2k_field_t *f = pm_an2k_find(r, id);
    int ok = 1;
    long v = f ? whole_num(f, 1, 1, &ok) : -1;
    return ok && v >= 0 && v < 1000000 ? (int)v : -1;
}

int pm_an2k_minutiae(const pm_an2k_txn_t *t, size_t rec_index, pm_fingerprint_t *out,
                     pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (rec_index >= t->nrecords || t->records[rec_index].type != 9)
        return pm_error_set(err, PM_EINVAL, "record %zu is not a Type-9 record", rec_index + 1);
    const pm_an2k_record_t *r = &t->records[rec_index];
    const pm_an2k_field_t *m1 = pm_an2k_find(r, 137);
    const pm_an2k_field_t *std = pm_an2k_find(r, 12);
    if (m1 || pm_an2k_find(r, 136)) {
        out->width = rec_num(r, 128) > 0 ? rec_num(r, 128) : 0;
        out->height = rec_num(r, 129) > 0 ? rec_num(r, 129) : 0;
        int slc = rec_num(r, 130), thps = rec_num(r, 131);
        out->ppi = slc == 1 && thps > 0   ? thps
                   : slc == 2 && thps > 0 ? (int)(thps * 2.54 + 0.5)
                                          : 500;
        out->finger = rec_num(r, 134) >= 0 ? rec_num(r, 134) : 0;
        size_t ns = m1 ? pm_an2k_subfields(m1) : 0;
        if (ns > PM_MAX_MINUTIAE)
            return pm_error_set(err, PM_ELIMIT, "record %zu field 9.137: %zu minutiae, at most %d",
                                rec_index + 1, ns, PM_MAX_MINUTIAE);
        for (size_t s = 1; s <= ns; s++) {
            int ok = 1;
            /* MAN index, MXC x, MYC y, MAV angle (2-degree units), M1M type, QOM quality */
            long x = whole_num(m1, s, 2, &ok), y = whole_num(m1, s, 3, &ok);
            long a = whole_num(m1, s, 4, &ok), ty = whole_num(m1, s, 5, &ok);
            long q = whole_num(m1, s, 6, &ok);
            if (!ok || a > 179 || ty > 2 || q > 100)
                return pm_error_set(err, PM_EFORMAT,
                                    "record %zu field 9.137 subfield %zu: malformed minutia",
                                    rec_index + 1, s);
            pm_minutia_t *mm = &out->minutiae[out->count++];
            mm->x = (float)x;
            mm->y = (float)y;
            mm->angle = (float)(a * 2.0 * PM__PI / 180.0);
            mm->type = (uint8_t)ty;
            mm->quality = (uint8_t)q;
        }
        return PM_OK;
    }
    if (!std)
        return pm_error_set(err, PM_ENOTFOUND, "record %zu: no minutiae (9.012 or 9.137)",
                            rec_index + 1);
    /* Legacy: 0.01 mm units, origin bottom-left. Height from the image record
     * with the same IDC. */
    char idc[8];
    pm_an2k_get(r, 2, 1, 1, idc, sizeof idc);
    out->ppi = 500;
    for (size_t i = 1; i < t->nrecords; i++) {
        const pm_an2k_record_t *ir = &t->records[i];
        char other[8];
        if (i == rec_index || ir->type == 9 || pm_an2k_get(ir, 2, 1, 1, other, sizeof other) < 0)
            continue;
        pm_an2k_image_ref_t ref;
        if (strtol(other, NULL, 10) == strtol(idc, NULL, 10) &&
            pm_an2k_image_ref(ir, &ref, NULL) == PM_OK && ref.height > 0) {
            out->width = ref.width;
            out->height = ref.height;
            if (ref.ppi > 0) out->ppi = ref.ppi;
            break;
        }
    }
    {
        int ok = 1;
        const pm_an2k_field_t *fgp = pm_an2k_find(r, 6);
        long f = fgp ? whole_num(fgp, 1, 1, &ok) : 0;
        out->finger = ok && f >= 0 && f <= 15 ? (int)f : 0;
    }
    double px_per_unit = out->ppi / 2540.0; /* 0.01 mm -> pixels */
    size_t ns = pm_an2k_subfields(std);
    if (ns > PM_MAX_MINUTIAE)
        return pm_error_set(err, PM_ELIMIT, "record %zu field 9.012: %zu minutiae, at most %d",
                            rec_index + 1, ns, PM_MAX_MINUTIAE);
    for (size_t s = 1; s <= ns; s++) {
        int ok = 1;
        long x = item_num(std, s, 2, 0, 4, &ok), y = item_num(std, s, 2, 4, 4, &ok);
        long th = item_num(std, s, 2, 8, 3, &ok);
        long q = whole_num(std, s, 3, &ok);
        const uint8_t *tp;
        size_t tl;
        if (!ok || th > 359 || !pm_an2k_item(std, s, 4, &tp, &tl) || tl != 1)
            return pm_error_set(err, PM_EFORMAT,
                                "record %zu field 9.012 subfield %zu: malformed minutia (want "
                                "index, XXXXYYYYTTT, quality, type)",
                                rec_index + 1, s);
        pm_minutia_t *mm = &out->minutiae[out->count++];
        mm->x = (float)(x * px_per_unit);
        mm->y = (float)(out->height > 0 ? out->height - y * px_per_unit : y * px_per_unit);
        mm->angle = (float)(th * PM__PI / 180.0);
        mm->type = tp[0] == 'A'   ? PM_MINUTIA_ENDING
                   : tp[0] == 'B' ? PM_MINUTIA_BIFURCATION
                                  : PM_MINUTIA_OTHER;
        /* Legacy quality: 0 manual, 1 unknown, 2 (best) .. 63 (worst). */
        mm->quality = q >= 2 && q <= 63 ? (uint8_t)(100 - (q - 2) * 100 / 61) : 0;
    }
    return PM_OK;
}

int pm_an2k_add_minutiae(pm_an2k_txn_t *t, int idc, const pm_fingerprint_t *view, size_t *out_index,
                         pm_error_t *err)
{
    if (idc < 0 || idc > 99 || view->count > PM_MAX_MINUTIAE)
        return pm_error_set(err, PM_EINVAL, "IDC %d or minutiae count %zu out of range", idc,
                            view->count);
    size_t ri;
    int rc = pm_an2k_add_record(t, 9, &ri, err);
    if (rc) return rc;
    pm_an2k_record_t *r = &t->records[ri];
    pm_buf_t b;
    pm_buf_init(&b, 1 << 20);
    struct {
        int id;
        long v;
    } nums[] = {{128, view->width},
                {129, view->height},
                {130, 1},
                {131, view->ppi > 0 ? view->ppi : 500},
                {132, view->ppi > 0 ? view->ppi : 500},
                {134, view->finger},
                {136, (long)view->count}};
    char v[32];
    snprintf(v, sizeof v, "%02d", idc);
    rc = pm_an2k_set_text(r, 2, v, err);
    if (!rc) rc = pm_an2k_set_text(r, 3, "0", err);
    if (!rc) rc = pm_an2k_set_text(r, 4, "U", err);
    for (size_t i = 0; i < sizeof nums / sizeof nums[0] && !rc; i++) {
        snprintf(v, sizeof v, "%ld", nums[i].v < 0 ? 0 : nums[i].v);
        rc = pm_an2k_set_text(r, nums[i].id, v, err);
    }
    for (size_t i = 0; i < view->count && !rc; i++) {
        const pm_minutia_t *m = &view->minutiae[i];
        double a = m->angle * 180.0 / PM__PI / 2.0;
        long au = lround(a) % 180;
        if (au < 0) au += 180;
        long x = lround(m->x), y = lround(m->y);
        if (x < 0 || y < 0 || x > 99999 || y > 99999) {
            rc =
                pm_error_set(err, PM_ERANGE, "minutia %zu at (%ld, %ld) out of range", i + 1, x, y);
            break;
        }
        if (pm_buf_printf(&b, "%s%zu\x1f%ld\x1f%ld\x1f%ld\x1f%u\x1f%u", i ? "\x1e" : "", i + 1, x,
                          y, au, m->type > 2 ? 0u : m->type, m->quality > 100 ? 100u : m->quality))
            rc = pm_error_set(err, PM_ELIMIT, "minutiae field too long");
    }
    if (!rc && view->count) rc = pm_an2k_set(r, 137, b.data, b.len, 0, err);
    pm_buf_free(&b);
    if (rc) {
        pm_an2k_record_t *last = &t->records[--t->nrecords];
        for (size_t k = 0; k < last->nfields; k++)
            free(last->fields[k].value);
        free(last->fields);
        return rc;
    }
    if (out_index) *out_index = ri;
    return PM_OK;
}
