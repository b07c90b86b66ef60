/* A biometric probe as it arrives at the node (a partner's query or an
 * officer's enrol/identify/verify): ISO/ANSI template, WSQ or PNG image, or
 * an ANSI/NIST transaction, turned into finger views for the gallery. Images
 * go through the extractor; templates are read as they are. Nothing here
 * keeps a copy: the caller wipes the views when matching ends (R6). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"
#include "perimeter/an2k.h"
#include "perimeter/fp.h"
#include "perimeter/image.h"
#include "perimeter/tmpl.h"

/* Type-2 fields that carry biographic data (name, aliases, place and date of
 * birth, citizenship, sex: the traditional EBTS numbering); a probe carrying
 * any of them is not anonymous (R5). */
static const int type2_biographic[] = {18, 19, 20, 21, 22, 24};

static int add_view(pm__probe_t *p, const pm_fingerprint_t *fp, int position, pm_error_t *err)
{
    if (p->n >= PM__PROBE_MAX)
        return pm_error_set(err, PM_ELIMIT, "more than %d finger views in the probe",
                            PM__PROBE_MAX);
    p->views[p->n] = *fp;
    p->position[p->n] = position >= 0 && position <= 10 ? position : 0;
    p->n++;
    return PM_OK;
}

static int add_image(const pm_extractor_t *ex, pm__probe_t *p, const pm_image_t *img, int position,
                     pm_error_t *err)
{
    pm_fingerprint_t *fp = malloc(sizeof *fp);
    if (!fp)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    int rc = pm_fp_extract(ex, img, fp, err);
    if (!rc)
        rc = add_view(p, fp, position, err);
    sodium_memzero(fp, sizeof *fp);
    free(fp);
    return rc;
}

static int from_an2k(const pm_extractor_t *ex, const uint8_t *d, size_t n, pm__probe_t *p,
                     pm_error_t *err)
{
    pm_an2k_txn_t t;
    memset(&t, 0, sizeof t);
    int rc = pm_an2k_read(d, n, &t, err);
    for (size_t i = 1; !rc && i < t.nrecords; i++) {
        const pm_an2k_record_t *r = &t.records[i];
        if (r->type == 2) {
            for (size_t k = 0; k < sizeof type2_biographic / sizeof type2_biographic[0]; k++)
                if (pm_an2k_find(r, type2_biographic[k]))
                    p->has_biographic = 1;
        } else if (r->type == 9) {
            pm_fingerprint_t *fp = malloc(sizeof *fp);
            if (!fp) {
                rc = pm_error_set(err, PM_ENOMEM, "out of memory");
                break;
            }
            rc = pm_an2k_minutiae(&t, i, fp, err);
            if (!rc)
                rc = add_view(p, fp, fp->finger, err);
            sodium_memzero(fp, sizeof *fp);
            free(fp);
        } else if (r->type == 4 || r->type == 14) {
            pm_image_t img;
            memset(&img, 0, sizeof img);
            char fgp[8] = "";
            if (r->type == 14)
                pm_an2k_get(r, 13, 0, 0, fgp, sizeof fgp);
            rc = pm_an2k_image_decode(r, NULL, &img, err);
            if (!rc)
                rc = add_image(ex, p, &img, fgp[0] ? (int)strtol(fgp, NULL, 10) : 0, err);
            pm_image_free(&img);
            if (rc)
                pm_error_prefix(err, "record %zu (Type-%d)", i + 1, r->type);
        }
    }
    pm_an2k_free(&t);
    if (!rc && p->n == 0)
        rc = pm_error_set(err, PM_EFORMAT,
                          "the transaction holds no fingerprint (Type-4/14 image or Type-9 minutiae)");
    return rc;
}

int pm__probe_has_biographic(const char *format, const uint8_t *d, size_t n)
{
    if (strcmp(format, "an2k") != 0)
        return 0;
    pm_an2k_txn_t t;
    memset(&t, 0, sizeof t);
    int found = 0;
    if (pm_an2k_read(d, n, &t, NULL) == PM_OK)
        for (size_t i = 1; i < t.nrecords && !found; i++)
            for (size_t k = 0; t.records[i].type == 2 &&
                               k < sizeof type2_biographic / sizeof type2_biographic[0];
                 k++)
                if (pm_an2k_find(&t.records[i], type2_biographic[k]))
                    found = 1;
    pm_an2k_free(&t);
    return found;
}

int pm__probe_read(const pm_extractor_t *ex, const char *format, const uint8_t *d, size_t n,
                   pm__probe_t *p, pm_error_t *err)
{
    memset(p, 0, sizeof *p);
    if (strcmp(format, "iso19794-2") == 0 || strcmp(format, "ansi378") == 0) {
        pm_fingerprint_t *views = NULL;
        size_t count = 0;
        int rc = pm_tmpl_read(d, n, strcmp(format, "ansi378") == 0 ? PM_TMPL_ANSI : PM_TMPL_ISO,
                              &views, &count, NULL, err);
        for (size_t i = 0; !rc && i < count; i++)
            rc = add_view(p, &views[i], views[i].finger, err);
        if (views) {
            sodium_memzero(views, count * sizeof *views);
            free(views);
        }
        return rc;
    }
    if (strcmp(format, "wsq") == 0 || strcmp(format, "png") == 0) {
        pm_image_header_t h;
        int rc = pm_image_probe(d, n, &h, err);
        if (!rc && ((strcmp(format, "wsq") == 0) != (h.format == PM_IMAGE_WSQ) ||
                    (strcmp(format, "png") == 0) != (h.format == PM_IMAGE_PNG)))
            return pm_error_set(err, PM_EFORMAT, "the data is %s, not %s",
                                pm_image_format_name(h.format), format);
        if (rc)
            return rc;
        pm_image_t img;
        memset(&img, 0, sizeof img);
        if ((rc = pm_image_decode(d, n, NULL, &img, err)))
            return rc;
        rc = add_image(ex, p, &img, 0, err);
        if (img.pixels)
            sodium_memzero(img.pixels, (size_t)img.width * (size_t)img.height);
        pm_image_free(&img);
        return rc;
    }
    if (strcmp(format, "an2k") == 0)
        return from_an2k(ex, d, n, p, err);
    return pm_error_set(err, PM_EUNSUPPORTED, "format: iso19794-2, ansi378, wsq, png or an2k");
}

void pm__probe_wipe(pm__probe_t *p)
{
    sodium_memzero(p, sizeof *p);
}
