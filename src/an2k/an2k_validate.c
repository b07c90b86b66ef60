/* an2k validation: structure (LEN, CNT, tags, order), mandatory fields per
 * record type and version, value formats, image data against compression. */
#include "an2k_internal.h"
#include "perimeter/wsq.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vctx {
    pm_an2k_report_t *rep;
    int oom;
    int version;
} vctx_t;

__attribute__((format(printf, 9, 10))) static void add(vctx_t *c, int sev, int rec, int type,
                                                       int field, int sub, int item, size_t off,
                                                       const char *fmt, ...)
{
    pm_an2k_report_t *rep = c->rep;
    if (c->oom) return;
    if (rep->count == rep->cap) {
        size_t cap = rep->cap ? rep->cap * 2 : 16;
        if (cap > 100000) { /* enough to describe any transaction */
            c->oom = 0;
            return;
        }
        pm_an2k_issue_t *p = realloc(rep->issues, cap * sizeof *p);
        if (!p) {
            c->oom = 1;
            return;
        }
        rep->issues = p;
        rep->cap = cap;
    }
    pm_an2k_issue_t *is = &rep->issues[rep->count++];
    is->severity = sev;
    is->record = rec;
    is->type = type;
    is->field = field;
    is->subfield = sub;
    is->item = item;
    is->offset = off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(is->msg, sizeof is->msg, fmt, ap);
    va_end(ap);
    if (sev == PM_AN2K_ERROR)
        rep->errors++;
    else
        rep->warnings++;
}

static int all_digits(const uint8_t *p, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return 0;
    return 1;
}

static long long to_num(const uint8_t *p, size_t n)
{
    if (!all_digits(p, n) || n > 12) return -1;
    long long v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

static int valid_date(const uint8_t *p, size_t n)
{
    if (n != 8 || !all_digits(p, 8)) return 0;
    int y = (int)to_num(p, 4), m = (int)to_num(p + 4, 2), d = (int)to_num(p + 6, 2);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return 0;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 0;
    return 1;
}

static const char *cmp_name(int c)
{
    switch (c) {
    case PM_AN2K_CMP_NONE:
        return "uncompressed";
    case PM_AN2K_CMP_WSQ:
        return "WSQ";
    case PM_AN2K_CMP_JPEG:
        return "JPEG";
    case PM_AN2K_CMP_JPEGL:
        return "lossless JPEG";
    case PM_AN2K_CMP_JP2:
        return "JPEG 2000";
    case PM_AN2K_CMP_PNG:
        return "PNG";
    default:
        return "unrecognised";
    }
}

/* Mandatory fields by record type (0-terminated). */
static const int *mandatory(int type)
{
    static const int t1[] = {1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 0};
    static const int t2[] = {1, 2, 0};
    static const int t9[] = {1, 2, 3, 4, 0};
    static const int t10[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 999, 0};
    static const int t13[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 999, 0};
    static const int t16[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 999, 0};
    static const int t17[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 999, 0};
    static const int t98[] = {1, 2, 3, 4, 0};
    static const int t99[] = {1, 2, 4, 100, 101, 103, 104, 999, 0};
    static const int other[] = {1, 2, 0};
    switch (type) {
    case 1:
        return t1;
    case 2:
        return t2;
    case 9:
        return t9;
    case 10:
        return t10;
    case 13:
    case 14:
    case 15:
        return t13;
    case 16:
        return t16;
    case 17:
        return t17;
    case 98:
        return t98;
    case 99:
        return t99;
    default:
        return other;
    }
}

/* Version (1.002 as a number) from which a record type is defined. */
static int type_since(int type)
{
    if (type >= 13 && type <= 16) return 300;
    if (type == 17 || type == 99) return 400;
    if (type == 98 || (type >= 18 && type <= 22)) return 500;
    return 200;
}

static void check_type1(vctx_t *c, const pm_an2k_txn_t *t)
{
    const pm_an2k_record_t *r = &t->records[0];
    const pm_an2k_field_t *f;
    const uint8_t *p;
    size_t n;
    if ((f = pm_an2k_find(r, 2)) && pm_an2k_item(f, 1, 1, &p, &n)) {
        static const char *const known[] = {"0200", "0201", "0300", "0400", "0500", "0501", "0502"};
        int ok = 0;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok |= n == 4 && memcmp(p, known[i], 4) == 0;
        if (!ok)
            add(c, PM_AN2K_ERROR, 1, 1, 2, 1, 1, f->offset,
                "VER \"%.*s\" is not a known version (0200..0502)", (int)(n > 8 ? 8 : n),
                (const char *)p);
    }
    if ((f = pm_an2k_find(r, 4)) && pm_an2k_item(f, 1, 1, &p, &n) && (n == 0 || n > 16))
        add(c, PM_AN2K_ERROR, 1, 1, 4, 1, 1, f->offset, "TOT must be 1..16 characters, has %zu", n);
    if ((f = pm_an2k_find(r, 5)) && pm_an2k_item(f, 1, 1, &p, &n) && !valid_date(p, n))
        add(c, PM_AN2K_ERROR, 1, 1, 5, 1, 1, f->offset, "DAT \"%.*s\" is not a date CCYYMMDD",
            (int)(n > 16 ? 16 : n), (const char *)p);
    if ((f = pm_an2k_find(r, 6)) && pm_an2k_item(f, 1, 1, &p, &n) &&
        (n != 1 || p[0] < '1' || p[0] > '9'))
        add(c, PM_AN2K_ERROR, 1, 1, 6, 1, 1, f->offset, "PRY must be one digit 1..9");
    if ((f = pm_an2k_find(r, 9)) && pm_an2k_item(f, 1, 1, &p, &n) && n == 0)
        add(c, PM_AN2K_ERROR, 1, 1, 9, 1, 1, f->offset, "TCN is empty");
    for (int id = 11; id <= 12; id++)
        if ((f = pm_an2k_find(r, id)) && pm_an2k_item(f, 1, 1, &p, &n) &&
            !(n == 5 && all_digits(p, 2) && p[2] == '.' && all_digits(p + 3, 2)))
            add(c, PM_AN2K_ERROR, 1, 1, id, 1, 1, f->offset,
                "%s \"%.*s\" must be NN.NN pixels per millimetre", id == 11 ? "NSR" : "NTR",
                (int)(n > 16 ? 16 : n), (const char *)p);
    if ((f = pm_an2k_find(r, 14)) && pm_an2k_item(f, 1, 1, &p, &n) &&
        !(n == 15 && valid_date(p, 8) && all_digits(p + 8, 6) && p[14] == 'Z' &&
          to_num(p + 8, 2) < 24 && to_num(p + 10, 2) < 60 && to_num(p + 12, 2) < 61))
        add(c, PM_AN2K_ERROR, 1, 1, 14, 1, 1, f->offset, "GMT must be CCYYMMDDHHMMSSZ");
    if ((f = pm_an2k_find(r, 15))) {
        size_t ns = pm_an2k_subfields(f);
        for (size_t s = 1; s <= ns; s++)
            if (!pm_an2k_item(f, s, 1, &p, &n) || n != 3 || !all_digits(p, 3) ||
                !pm_an2k_item(f, s, 2, &p, &n) || n == 0)
                add(c, PM_AN2K_ERROR, 1, 1, 15, (int)s, 0, f->offset,
                    "DCS subfield must be a 3-digit character set index and a name");
    }
    /* Field ranges per version. */
    int maxid = c->version < 300 ? 12 : c->version < 500 ? 15 : 22;
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i].id > maxid)
            add(c, PM_AN2K_WARNING, 1, 1, r->fields[i].id, 0, 0, r->fields[i].offset,
                "field 1.%03d is not defined in version %04d", r->fields[i].id, c->version);
    /* Type-1 is 7-bit ASCII. */
    for (size_t i = 0; i < r->nfields; i++)
        for (size_t k = 0; k < r->fields[i].len; k++)
            if (r->fields[i].value[k] >= 0x80) {
                add(c, PM_AN2K_ERROR, 1, 1, r->fields[i].id, 0, 0, r->fields[i].offset,
                    "byte 0x%02x at value offset %zu: Type-1 is 7-bit ASCII", r->fields[i].value[k],
                    k);
                break;
            }
}

static void check_cnt(vctx_t *c, const pm_an2k_txn_t *t)
{
    const pm_an2k_field_t *f = pm_an2k_find(&t->records[0], 3);
    if (!f) return; /* reported as a missing mandatory field */
    const uint8_t *p;
    size_t n;
    if (!pm_an2k_item(f, 1, 1, &p, &n) || to_num(p, n) != 1)
        add(c, PM_AN2K_ERROR, 1, 1, 3, 1, 1, f->offset, "CNT first item must be 1 (the Type-1)");
    long long count = pm_an2k_item(f, 1, 2, &p, &n) ? to_num(p, n) : -1;
    if (count < 0)
        add(c, PM_AN2K_ERROR, 1, 1, 3, 1, 2, f->offset, "CNT record count missing or not a number");
    else if ((size_t)count != t->nrecords - 1)
        add(c, PM_AN2K_ERROR, 1, 1, 3, 1, 2, f->offset,
            "CNT announces %lld records after the Type-1, %zu are present", count, t->nrecords - 1);
    size_t ns = pm_an2k_subfields(f);
    if (ns - 1 != t->nrecords - 1)
        add(c, PM_AN2K_ERROR, 1, 1, 3, 0, 0, f->offset,
            "CNT lists %zu records after the Type-1, %zu are present", ns - 1, t->nrecords - 1);
    for (size_t s = 2; s <= ns && s <= t->nrecords; s++) {
        const pm_an2k_record_t *r = &t->records[s - 1];
        long long ty = pm_an2k_item(f, s, 1, &p, &n) ? to_num(p, n) : -1;
        if (ty != r->type)
            add(c, PM_AN2K_ERROR, 1, 1, 3, (int)s, 1, f->offset,
                "CNT says record %zu is Type-%lld, it is Type-%d", s, ty, r->type);
        long long idc = pm_an2k_item(f, s, 2, &p, &n) ? to_num(p, n) : -1;
        char v[16];
        int vn = pm_an2k_get(r, 2, 1, 1, v, sizeof v);
        long long ridc = vn > 0 ? to_num((const uint8_t *)v, (size_t)vn) : -1;
        if (idc < 0)
            add(c, PM_AN2K_ERROR, 1, 1, 3, (int)s, 2, f->offset, "CNT IDC missing or not a number");
        else if (!r->opaque && ridc >= 0 && idc != ridc)
            add(c, PM_AN2K_ERROR, 1, 1, 3, (int)s, 2, f->offset,
                "CNT IDC %lld differs from record %zu's IDC %lld", idc, s, ridc);
    }
}

static void check_image(vctx_t *c, const pm_an2k_record_t *r, int rec)
{
    pm_an2k_image_ref_t ir;
    if (pm_an2k_image_ref(r, &ir, NULL)) return;
    int legacy = r->type == 3 || r->type == 5 || r->type == 6 || r->type == 7 || r->type == 8;
    int sev = legacy ? PM_AN2K_WARNING : PM_AN2K_ERROR;
    const pm_an2k_field_t *d = pm_an2k_find(r, ir.field);
    size_t off = d ? d->offset : r->offset;
    if (!r->binary && d && pm__an2k_dup_tag_prefix(d)) {
        size_t k = 0;
        while (k < d->len && k < 32 && d->value[k] != PM_AN2K_GS)
            k++;
        add(c, PM_AN2K_ERROR, rec, r->type, 999, 1, 1, off,
            "image data starts with %zu bytes of text fields tagged %d.999 "
            "(\"%.*s<GS>%d.999:...\") "
            "before the image",
            pm__an2k_dup_tag_prefix(d), r->type, (int)k, (const char *)d->value, r->type);
    }
    if (r->type == 8 && ir.declared_text[0] == '2') return; /* SRT 2: vector signature, no raster */
    if (ir.width <= 0 || ir.height <= 0)
        add(c, PM_AN2K_ERROR, rec, r->type, 6, 0, 0, r->offset,
            "HLL/VLL must be positive pixel counts");
    int cgafield = r->binary ? (r->type == 8 ? 4 : 8) : 11;
    if (ir.declared == PM_AN2K_CMP_UNKNOWN) {
        if (r->binary)
            add(c, PM_AN2K_WARNING, rec, r->type, cgafield, 0, 0, r->offset,
                "compression code %s is vendor-specific; data not checked", ir.declared_text);
        else
            add(c, PM_AN2K_ERROR, rec, r->type, cgafield, 1, 1, r->offset,
                "unknown compression code \"%s\"", ir.declared_text);
        return;
    }
    if (r->type == 8 && ir.declared == PM_AN2K_CMP_NONE) {
        /* SRT 0: uncompressed 1-bit scan. */
        size_t want = (size_t)(ir.width > 0 ? (ir.width + 7) / 8 : 0) *
                      (size_t)(ir.height > 0 ? ir.height : 0);
        if (want != ir.len)
            add(c, PM_AN2K_WARNING, rec, r->type, ir.field, 0, 0, off,
                "%zu bytes of signature data, %dx%d at 1 bit needs %zu", ir.len, ir.width,
                ir.height, want);
        return;
    }
    if (ir.declared == PM_AN2K_CMP_NONE) {
        if (ir.detected != PM_AN2K_CMP_UNKNOWN) {
            add(c, sev, rec, r->type, cgafield, 0, 0, off,
                "compression %s declares uncompressed data, but the data is a %s image",
                ir.declared_text, cmp_name(ir.detected));
            return;
        }
        size_t w = ir.width > 0 ? (size_t)ir.width : 0, h = ir.height > 0 ? (size_t)ir.height : 0;
        size_t want = ir.depth == 1 ? (w + 7) / 8 * h : w * h * (size_t)((ir.depth + 7) / 8);
        if (want != ir.len)
            add(c, sev, rec, r->type, ir.field, 0, 0, off,
                "%zu bytes of uncompressed image, %zux%zu at %d bit(s) per pixel needs %zu", ir.len,
                w, h, ir.depth, want);
        return;
    }
    int ok = ir.detected == ir.declared ||
             (ir.declared == PM_AN2K_CMP_JPEGL && ir.detected == PM_AN2K_CMP_JPEG);
    if (ok && ir.width > 0 && ir.height > 0) {
        /* The image's own header must agree with HLL/VLL. */
        int w = 0, h = 0;
        if (ir.detected == PM_AN2K_CMP_WSQ) {
            pm_wsq_info_t wi;
            if (pm_wsq_info(ir.data, ir.len, &wi, NULL) == PM_OK) w = wi.width, h = wi.height;
        } else {
            pm_image_header_t ih;
            if (pm_image_probe(ir.data, ir.len, &ih, NULL) == PM_OK) w = ih.width, h = ih.height;
        }
        if (w > 0 && h > 0 && (w != ir.width || h != ir.height))
            add(c, sev, rec, r->type, 6, 0, 0, off, "HLL/VLL say %dx%d, the %s image is %dx%d",
                ir.width, ir.height, cmp_name(ir.detected), w, h);
        else if (w == 0 && ir.detected != PM_AN2K_CMP_UNKNOWN)
            add(c, sev, rec, r->type, ir.field, 0, 0, off, "the %s image header is unreadable",
                cmp_name(ir.detected));
    }
    if (!ok)
        add(c, sev, rec, r->type, cgafield, 0, 0, off,
            "compression \"%s\" declares %s, but the data %s%s", ir.declared_text,
            cmp_name(ir.declared),
            ir.detected == PM_AN2K_CMP_UNKNOWN ? "has no known signature" : "is a ",
            ir.detected == PM_AN2K_CMP_UNKNOWN ? "" : cmp_name(ir.detected));
}

static void check_type9(vctx_t *c, const pm_an2k_record_t *r, int rec)
{
    char fmt[8];
    int n = pm_an2k_get(r, 4, 1, 1, fmt, sizeof fmt);
    if (n >= 0 && strcmp(fmt, "S") != 0 && strcmp(fmt, "U") != 0)
        add(c, PM_AN2K_ERROR, rec, 9, 4, 1, 1, r->offset, "FMT must be S or U, is \"%s\"", fmt);
    if (n > 0 && strcmp(fmt, "S") == 0) {
        static const int std_fields[] = {5, 6, 7, 10, 11};
        for (size_t i = 0; i < sizeof std_fields / sizeof std_fields[0]; i++)
            if (!pm_an2k_find(r, std_fields[i]))
                add(c, PM_AN2K_ERROR, rec, 9, std_fields[i], 0, 0, r->offset,
                    "FMT S (standard minutiae) needs field 9.%03d", std_fields[i]);
    }
    for (size_t i = 0; i < r->nfields; i++) {
        int id = r->fields[i].id;
        if (id >= 226 && id <= 299)
            add(c, PM_AN2K_WARNING, rec, 9, id, 0, 0, r->fields[i].offset,
                "field 9.%03d is in the range reserved by ANSI/NIST-ITL", id);
    }
}

static void check_record(vctx_t *c, const pm_an2k_txn_t *t, size_t ri)
{
    const pm_an2k_record_t *r = &t->records[ri];
    int rec = (int)ri + 1;
    if (r->opaque) {
        add(c, PM_AN2K_WARNING, rec, r->type, 0, 0, 0, r->offset,
            "Type-%d record kept opaque (fields not checked)", r->type);
        return;
    }
    if (c->version && type_since(r->type) > c->version)
        add(c, PM_AN2K_WARNING, rec, r->type, 0, 0, 0, r->offset,
            "Type-%d is defined from version %04d, the transaction says %04d", r->type,
            type_since(r->type), c->version);
    /* LEN. */
    const pm_an2k_field_t *lenf = pm_an2k_find(r, 1);
    if (lenf) {
        long long v = to_num(lenf->value, lenf->len);
        if (v < 0)
            add(c, PM_AN2K_ERROR, rec, r->type, 1, 1, 1, lenf->offset, "LEN is not a number");
        else if ((unsigned long long)v != r->length)
            add(c, PM_AN2K_ERROR, rec, r->type, 1, 1, 1, lenf->offset,
                "LEN says %lld bytes, the record has %zu", v, r->length);
    }
    if (!r->binary) {
        if (r->nfields > 0 && r->fields[0].id != 1)
            add(c, PM_AN2K_ERROR, rec, r->type, r->fields[0].id, 0, 0, r->fields[0].offset,
                "the first field must be %d.001 LEN", r->type);
        if (r->nfields > 1 && r->fields[1].id != 2)
            add(c, PM_AN2K_ERROR, rec, r->type, r->fields[1].id, 0, 0, r->fields[1].offset,
                "the second field must be %d.002 %s", r->type, r->type == 1 ? "VER" : "IDC");
        int maxid = 0;
        for (size_t i = 0; i < r->nfields; i++) {
            const pm_an2k_field_t *f = &r->fields[i];
            if (f->type != r->type)
                add(c, PM_AN2K_ERROR, rec, r->type, f->id, 0, 0, f->offset,
                    "tag %s belongs to Type-%d, not to this Type-%d record", f->tag, f->type,
                    r->type);
            /* Fields are usually ascending: only look back when this one is not. */
            for (size_t k = 0; i > 0 && f->id <= maxid && k < i; k++)
                if (r->fields[k].id == f->id) {
                    add(c, PM_AN2K_ERROR, rec, r->type, f->id, 0, 0, f->offset,
                        "field %d.%03d appears more than once", r->type, f->id);
                    break;
                }
            if (f->id > maxid) maxid = f->id;
            if (f->id == 999 && i + 1 != r->nfields)
                add(c, PM_AN2K_ERROR, rec, r->type, f->id, 0, 0, f->offset,
                    "field %d.999 must be the last field", r->type);
        }
    }
    const int *m = mandatory(r->type);
    if (!r->binary)
        for (; *m; m++) {
            if (pm_an2k_find(r, *m)) continue;
            if (r->type == 14 && *m == 999 && c->version >= 501)
                continue; /* 14.999 is conditional from the 2013 update on */
            add(c, PM_AN2K_ERROR, rec, r->type, *m, 0, 0, r->offset,
                "mandatory field %d.%03d is missing", r->type, *m);
        }
    if (r->type != 1) {
        const pm_an2k_field_t *idc = pm_an2k_find(r, 2);
        long long v = idc ? to_num(idc->value, idc->len) : 0;
        if (idc && (v < 0 || v > 99))
            add(c, PM_AN2K_ERROR, rec, r->type, 2, 1, 1, idc->offset, "IDC must be a number 0..99");
    }
    if (r->type == 9) check_type9(c, r, rec);
    check_image(c, r, rec);
}

int pm_an2k_validate(const pm_an2k_txn_t *t, pm_an2k_report_t *out, pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    vctx_t c = {.rep = out, .oom = 0, .version = pm_an2k_version(t)};
    if (t->nrecords == 0 || t->records[0].type != 1) {
        add(&c, PM_AN2K_ERROR, 0, 0, 0, 0, 0, 0, "a transaction starts with a Type-1 record");
    } else {
        check_cnt(&c, t);
        check_type1(&c, t);
        for (size_t i = 0; i < t->nrecords; i++)
            check_record(&c, t, i);
    }
    if (c.oom) return pm_error_set(err, PM_ENOMEM, "out of memory while validating");
    if (out->errors)
        return pm_error_set(err, PM_EVALIDATION, "%zu error(s), %zu warning(s)", out->errors,
                            out->warnings);
    return PM_OK;
}

void pm_an2k_report_free(pm_an2k_report_t *rep)
{
    if (!rep) return;
    free(rep->issues);
    memset(rep, 0, sizeof *rep);
}

void pm_an2k_issue_format(const pm_an2k_issue_t *is, char *out, size_t cap)
{
    char loc[128];
    size_t n = 0;
    if (is->record == 0)
        n = (size_t)snprintf(loc, sizeof loc, "transaction");
    else
        n = (size_t)snprintf(loc, sizeof loc, "record %d (Type-%d)", is->record, is->type);
    if (is->field && n < sizeof loc)
        n += (size_t)snprintf(loc + n, sizeof loc - n, " field %d.%03d", is->type, is->field);
    if (is->subfield && n < sizeof loc)
        n += (size_t)snprintf(loc + n, sizeof loc - n, " subfield %d", is->subfield);
    if (is->item && n < sizeof loc) snprintf(loc + n, sizeof loc - n, " item %d", is->item);
    snprintf(out, cap, "%s: %s%s at offset %zu: %s",
             is->severity == PM_AN2K_ERROR ? "error" : "warning", loc, "", is->offset, is->msg);
}
