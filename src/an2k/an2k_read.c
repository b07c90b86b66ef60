/* an2k reader: splits the traditional encoding into records and fields.
 *
 * Record boundaries: a tagged record ends at the FS that ends its last text
 * field, or, when it holds a binary NNN.999 field, at the end its LEN gives.
 * A binary record (Types 3..8) is exactly LEN bytes. Record types after the
 * Type-1 come from its CNT field (1.003); a tagged record beyond the CNT list
 * is still read (its tag says its type) so that the validator can report the
 * mismatch with a location instead of the reader refusing the file. */
#include "an2k_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a field tag "T.F:" at data[p..end). Returns the byte count of the tag
 * including the colon, or 0 when there is no well-formed tag. */
static size_t parse_tag(const uint8_t *data, size_t p, size_t end, int *out_type, int *out_id)
{
    size_t i = p;
    long type = 0, id = 0;
    size_t nd = 0;
    while (i < end && data[i] >= '0' && data[i] <= '9' && nd < 3) {
        type = type * 10 + (data[i] - '0');
        i++;
        nd++;
    }
    if (nd == 0 || i >= end || data[i] != '.') return 0;
    i++;
    nd = 0;
    while (i < end && data[i] >= '0' && data[i] <= '9' && nd < 9) {
        id = id * 10 + (data[i] - '0');
        i++;
        nd++;
    }
    if (nd == 0 || i >= end || data[i] != ':') return 0;
    i++;
    if (i - p > PM_AN2K_MAX_TAG - 1) return 0;
    *out_type = (int)type;
    *out_id = (int)id;
    return i - p;
}

/* The decimal value of data[p..p+n), or -1 if not all digits / too large. */
static long long parse_decimal(const uint8_t *data, size_t n)
{
    if (n == 0 || n > 12) return -1;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (data[i] < '0' || data[i] > '9') return -1;
        v = v * 10 + (data[i] - '0');
    }
    return v;
}

int pm__an2k_push_field(pm_an2k_record_t *r, const pm_an2k_field_t *f, pm_error_t *err)
{
    if (r->nfields >= PM_AN2K_MAX_FIELDS)
        return pm_error_set(err, PM_ELIMIT, "record has more than %d fields", PM_AN2K_MAX_FIELDS);
    if (r->nfields == r->capfields) {
        size_t cap = r->capfields ? r->capfields * 2 : 16;
        pm_an2k_field_t *p = realloc(r->fields, cap * sizeof *p);
        if (!p) return pm_error_set(err, PM_ENOMEM, "out of memory for fields");
        r->fields = p;
        r->capfields = cap;
    }
    r->fields[r->nfields++] = *f;
    return PM_OK;
}

/* Makes a field with an owned copy of value[0..len). */
int pm__an2k_make_field(pm_an2k_field_t *f, int type, int id, const char *tag, const uint8_t *value,
                        size_t len, int binary, size_t offset, pm_error_t *err)
{
    memset(f, 0, sizeof *f);
    f->type = type;
    f->id = id;
    if (tag) {
        size_t tl = strlen(tag);
        if (tl >= sizeof f->tag) tl = sizeof f->tag - 1;
        memcpy(f->tag, tag, tl);
        f->tag[tl] = '\0';
    }
    f->value = malloc(len + 1);
    if (!f->value) return pm_error_set(err, PM_ENOMEM, "out of memory for a %zu-byte field", len);
    if (len) memcpy(f->value, value, len);
    f->value[len] = '\0';
    f->len = len;
    f->binary = binary;
    f->offset = offset;
    return PM_OK;
}

int pm__an2k_push_record(pm_an2k_txn_t *t, pm_an2k_record_t **out, pm_error_t *err)
{
    if (t->nrecords >= PM_AN2K_MAX_RECORDS)
        return pm_error_set(err, PM_ELIMIT, "more than %d records", PM_AN2K_MAX_RECORDS);
    if (t->nrecords == t->caprecords) {
        size_t cap = t->caprecords ? t->caprecords * 2 : 8;
        pm_an2k_record_t *p = realloc(t->records, cap * sizeof *p);
        if (!p) return pm_error_set(err, PM_ENOMEM, "out of memory for records");
        t->records = p;
        t->caprecords = cap;
    }
    pm_an2k_record_t *r = &t->records[t->nrecords++];
    memset(r, 0, sizeof *r);
    *out = r;
    return PM_OK;
}

int pm__an2k_is_binary_type(int type)
{
    return type >= 3 && type <= 8;
}

/* Whether field id of a tagged record of this type is binary data. */
int pm__an2k_is_binary_field(int rectype, int id)
{
    return id == 999 && rectype != 1 && rectype != 2 && rectype != 9;
}

/* Reads one tagged record at data[p..len). rec_no is 1-based for messages.
 * expect_type is the type CNT announces (0 = unknown). */
static int read_tagged(const uint8_t *data, size_t len, size_t p, size_t rec_no,
                       pm_an2k_record_t *r, pm_error_t *err)
{
    int type = 0, id = 0;
    size_t tl = parse_tag(data, p, len, &type, &id);
    if (!tl)
        return pm_error_set(err, PM_EFORMAT,
                            "offset %zu: record %zu: expected a field tag like \"2.001:\"", p,
                            rec_no);
    if (id != 1)
        return pm_error_set(err, PM_EFORMAT,
                            "offset %zu: record %zu: first field is %d.%03d, expected LEN %d.001",
                            p, rec_no, type, id, type);
    /* LEN value: digits up to GS (or FS for a one-field record). */
    size_t q = p + tl;
    size_t lstart = q;
    while (q < len && data[q] != PM_AN2K_GS && data[q] != PM_AN2K_FS && q - lstart < 16)
        q++;
    if (q >= len)
        return pm_error_set(
            err, PM_ETRUNCATED,
            "offset %zu: record %zu field %d.001 (LEN): input ends inside the field", lstart,
            rec_no, type);
    long long declared = parse_decimal(data + lstart, q - lstart);
    if (declared < 0)
        return pm_error_set(err, PM_EFORMAT,
                            "offset %zu: record %zu field %d.001 (LEN): \"%.*s\" is not a number",
                            lstart, rec_no, type, (int)(q - lstart > 16 ? 16 : q - lstart),
                            (const char *)data + lstart);
    r->type = type;
    r->offset = p;
    int have_len_end = declared > 0 && (unsigned long long)declared <= len - p &&
                       data[p + (size_t)declared - 1] == PM_AN2K_FS;
    size_t len_end = have_len_end ? p + (size_t)declared : 0;

    size_t pos = p;
    for (;;) {
        int ftype = 0, fid = 0;
        size_t ftl = parse_tag(data, pos, len, &ftype, &fid);
        if (!ftl)
            return pm_error_set(err, PM_EFORMAT,
                                "offset %zu: record %zu (Type-%d) field %zu: malformed field tag",
                                pos, rec_no, type, r->nfields + 1);
        char tag[PM_AN2K_MAX_TAG];
        memcpy(tag, data + pos, ftl - 1);
        tag[ftl - 1] = '\0';
        size_t vstart = pos + ftl;
        pm_an2k_field_t f;
        int rc;
        if (pm__an2k_is_binary_field(type, fid)) {
            if (!have_len_end)
                return pm_error_set(
                    err, declared > (long long)(len - p) ? PM_ETRUNCATED : PM_EFORMAT,
                    "offset %zu: record %zu (Type-%d) field %s: LEN %lld %s, so the binary "
                    "data cannot be delimited",
                    vstart, rec_no, type, tag, declared,
                    declared > (long long)(len - p) ? "runs past the end of the input"
                                                    : "does not end at a FS separator");
            if (vstart > len_end - 1)
                return pm_error_set(err, PM_EFORMAT,
                                    "offset %zu: record %zu (Type-%d) field %s: LEN %lld ends "
                                    "before the field",
                                    vstart, rec_no, type, tag, declared);
            rc = pm__an2k_make_field(&f, ftype, fid, tag, data + vstart, len_end - 1 - vstart, 1,
                                     pos, err);
            if (rc) return rc;
            rc = pm__an2k_push_field(r, &f, err);
            if (rc) {
                free(f.value);
                return rc;
            }
            r->length = len_end - p;
            return PM_OK;
        }
        size_t e = vstart;
        while (e < len && data[e] != PM_AN2K_GS && data[e] != PM_AN2K_FS)
            e++;
        if (e >= len)
            return pm_error_set(err, PM_ETRUNCATED,
                                "offset %zu: record %zu (Type-%d) field %s: input ends inside "
                                "the field (no GS/FS separator)",
                                vstart, rec_no, type, tag);
        rc = pm__an2k_make_field(&f, ftype, fid, tag, data + vstart, e - vstart, 0, pos, err);
        if (rc) return rc;
        rc = pm__an2k_push_field(r, &f, err);
        if (rc) {
            free(f.value);
            return pm_error_prefix(err, "offset %zu: record %zu (Type-%d)", pos, rec_no, type);
        }
        {
            /* Bound the items of a field. */
            size_t items = 1;
            for (size_t k = vstart; k < e; k++)
                if (data[k] == PM_AN2K_RS || data[k] == PM_AN2K_US) items++;
            if (items > PM_AN2K_MAX_ITEMS)
                return pm_error_set(err, PM_ELIMIT,
                                    "offset %zu: record %zu (Type-%d) field %s: more than %d items",
                                    vstart, rec_no, type, tag, PM_AN2K_MAX_ITEMS);
        }
        if (data[e] == PM_AN2K_FS) {
            r->length = e + 1 - p;
            return PM_OK;
        }
        pos = e + 1;
    }
}

/* Header layout of binary records: widths in bytes of fields 1.. in order;
 * the last field (image data) takes the rest. */
static const uint8_t hdr_3to7[] = {4, 1, 1, 6, 1, 2, 2, 1}; /* LEN IDC IMP FGP ISR HLL VLL GCA */
static const uint8_t hdr_8[] = {4, 1, 1, 1, 1, 2, 2};       /* LEN IDC SIG SRT ISR HLL VLL */

const uint8_t *pm__an2k_binary_layout(int type, size_t *out_n)
{
    if (type == 8) {
        *out_n = sizeof hdr_8;
        return hdr_8;
    }
    *out_n = sizeof hdr_3to7;
    return hdr_3to7;
}

size_t pm__an2k_binary_header_size(int type)
{
    size_t n;
    const uint8_t *w = pm__an2k_binary_layout(type, &n);
    size_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += w[i];
    return s;
}

static int read_binary(const uint8_t *data, size_t len, size_t p, size_t rec_no, int type,
                       pm_an2k_record_t *r, pm_error_t *err)
{
    size_t hs = pm__an2k_binary_header_size(type);
    if (len - p < hs)
        return pm_error_set(err, PM_ETRUNCATED,
                            "offset %zu: record %zu (Type-%d): %zu bytes left, the binary header "
                            "needs %zu",
                            p, rec_no, type, len - p, hs);
    uint32_t declared = ((uint32_t)data[p] << 24) | ((uint32_t)data[p + 1] << 16) |
                        ((uint32_t)data[p + 2] << 8) | data[p + 3];
    if (declared < hs)
        return pm_error_set(err, PM_EFORMAT,
                            "offset %zu: record %zu (Type-%d) field %d.001 (LEN): %u is shorter "
                            "than the %zu-byte header",
                            p, rec_no, type, type, declared, hs);
    if (declared > len - p)
        return pm_error_set(err, PM_ETRUNCATED,
                            "offset %zu: record %zu (Type-%d) field %d.001 (LEN): %u bytes "
                            "declared, only %zu left in the input",
                            p, rec_no, type, type, declared, len - p);
    r->type = type;
    r->binary = 1;
    r->offset = p;
    r->length = declared;
    size_t n;
    const uint8_t *w = pm__an2k_binary_layout(type, &n);
    size_t q = p;
    for (size_t i = 0; i < n; i++) {
        char text[64];
        size_t tl = 0;
        if (w[i] == 6) { /* FGP: six one-byte positions as US-separated items */
            for (int k = 0; k < 6; k++) {
                int m = snprintf(text + tl, sizeof text - tl, "%s%u", k ? "\x1f" : "",
                                 (unsigned)data[q + (size_t)k]);
                tl += (size_t)m;
            }
        } else {
            unsigned long v = 0;
            for (size_t k = 0; k < w[i]; k++)
                v = (v << 8) | data[q + k];
            tl = (size_t)snprintf(text, sizeof text, "%lu", v);
        }
        pm_an2k_field_t f;
        int rc =
            pm__an2k_make_field(&f, type, (int)i + 1, "", (const uint8_t *)text, tl, 0, q, err);
        if (rc) return rc;
        rc = pm__an2k_push_field(r, &f, err);
        if (rc) {
            free(f.value);
            return rc;
        }
        q += w[i];
    }
    pm_an2k_field_t f;
    int rc = pm__an2k_make_field(&f, type, (int)n + 1, "", data + q, p + declared - q, 1, q, err);
    if (rc) return rc;
    rc = pm__an2k_push_field(r, &f, err);
    if (rc) free(f.value);
    return rc;
}

/* Keeps an unreadable tagged record of an unknown type as raw bytes: up to
 * LEN when LEN ends at a FS, else fails. */
static int read_opaque(const uint8_t *data, size_t len, size_t p, size_t rec_no, int type,
                       pm_an2k_record_t *r, pm_error_t *err)
{
    size_t q = p;
    while (q < len && data[q] != ':' && q - p < PM_AN2K_MAX_TAG)
        q++;
    size_t lstart = q + 1;
    size_t e = lstart;
    while (e < len && data[e] != PM_AN2K_GS && data[e] != PM_AN2K_FS && e - lstart < 16)
        e++;
    long long declared = (q < len && e < len) ? parse_decimal(data + lstart, e - lstart) : -1;
    if (declared <= 0 || (unsigned long long)declared > len - p ||
        data[p + (size_t)declared - 1] != PM_AN2K_FS)
        return pm_error_set(err, PM_EFORMAT,
                            "offset %zu: record %zu (Type-%d): cannot delimit the record", p,
                            rec_no, type);
    r->type = type;
    r->opaque = 1;
    r->offset = p;
    r->length = (size_t)declared;
    r->raw = malloc(r->length);
    if (!r->raw) return pm_error_set(err, PM_ENOMEM, "out of memory for an opaque record");
    memcpy(r->raw, data + p, r->length);
    r->raw_len = r->length;
    return PM_OK;
}

static int known_tagged_type(int type)
{
    switch (type) {
    case 1:
    case 2:
    case 9:
    case 10:
    case 11:
    case 12:
    case 13:
    case 14:
    case 15:
    case 16:
    case 17:
    case 18:
    case 19:
    case 20:
    case 21:
    case 22:
    case 98:
    case 99:
        return 1;
    default:
        return 0;
    }
}

/* CNT (1.003): the record types announced, in order (after the Type-1). */
static int read_cnt(const pm_an2k_record_t *t1, int *types, size_t cap, size_t *out_n)
{
    const pm_an2k_field_t *cnt = pm_an2k_find(t1, 3);
    *out_n = 0;
    if (!cnt) return -1;
    size_t nsub = pm_an2k_subfields(cnt);
    for (size_t s = 2; s <= nsub && *out_n < cap; s++) {
        const uint8_t *ip;
        size_t il;
        if (!pm_an2k_item(cnt, s, 1, &ip, &il)) break;
        long long v = parse_decimal(ip, il);
        types[(*out_n)++] = (v < 0 || v > 999) ? -1 : (int)v;
    }
    return 0;
}

int pm_an2k_read(const uint8_t *data, size_t len, pm_an2k_txn_t *out, pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (!data && len) return pm_error_set(err, PM_EINVAL, "no input");
    if (len > PM_AN2K_MAX_FILE)
        return pm_error_set(err, PM_ELIMIT, "input of %zu bytes exceeds the %zu-byte limit", len,
                            PM_AN2K_MAX_FILE);
    if (len == 0) return pm_error_set(err, PM_ETRUNCATED, "offset 0: empty input");
    pm_an2k_record_t *r;
    int rc = pm__an2k_push_record(out, &r, err);
    if (rc) return rc;
    rc = read_tagged(data, len, 0, 1, r, err);
    if (rc) return rc;
    if (r->type != 1)
        return pm_error_set(err, PM_EFORMAT,
                            "offset 0: record 1 is Type-%d; a transaction starts with a Type-1",
                            r->type);
    int types[PM_AN2K_MAX_RECORDS];
    size_t ntypes = 0;
    read_cnt(&out->records[0], types, PM_AN2K_MAX_RECORDS, &ntypes);
    size_t p = out->records[0].length;
    size_t rec_no = 2;
    while (p < len) {
        int type = rec_no - 2 < ntypes ? types[rec_no - 2] : 0;
        if (type < 0)
            return pm_error_set(err, PM_EFORMAT,
                                "record 1 field 1.003 (CNT) subfield %zu: bad record type", rec_no);
        rc = pm__an2k_push_record(out, &r, err);
        if (rc) return pm_error_prefix(err, "offset %zu", p);
        if (pm__an2k_is_binary_type(type)) {
            rc = read_binary(data, len, p, rec_no, type, r, err);
        } else {
            int ttype = 0, tid = 0;
            if (!parse_tag(data, p, len, &ttype, &tid)) {
                if (type == 0)
                    return pm_error_set(err, PM_EFORMAT,
                                        "offset %zu: %zu bytes after the last record announced "
                                        "in 1.003 (CNT), not a tagged record",
                                        p, len - p);
                return pm_error_set(err, PM_EFORMAT,
                                    "offset %zu: record %zu (Type-%d per CNT): expected a field "
                                    "tag like \"%d.001:\"",
                                    p, rec_no, type, type);
            }
            if (known_tagged_type(ttype)) {
                rc = read_tagged(data, len, p, rec_no, r, err);
            } else {
                pm_error_t e2;
                rc = read_tagged(data, len, p, rec_no, r, &e2);
                if (rc && rc != PM_ENOMEM) {
                    for (size_t k = 0; k < r->nfields; k++)
                        free(r->fields[k].value);
                    free(r->fields);
                    memset(r, 0, sizeof *r);
                    rc = read_opaque(data, len, p, rec_no, ttype, r, err);
                } else if (rc) {
                    return pm_error_set(err, rc, "%s", e2.msg);
                }
            }
            /* A tag type that differs from CNT's is kept; the validator reports it. */
        }
        if (rc) return rc;
        if (r->length == 0)
            return pm_error_set(err, PM_EFORMAT, "offset %zu: record %zu is empty", p, rec_no);
        p += r->length;
        rec_no++;
    }
    return PM_OK;
}

void pm_an2k_free(pm_an2k_txn_t *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->nrecords; i++) {
        pm_an2k_record_t *r = &t->records[i];
        for (size_t k = 0; k < r->nfields; k++)
            free(r->fields[k].value);
        free(r->fields);
        free(r->raw);
    }
    free(t->records);
    memset(t, 0, sizeof *t);
}

const pm_an2k_field_t *pm_an2k_find(const pm_an2k_record_t *r, int id)
{
    if (!r) return NULL;
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i].id == id) return &r->fields[i];
    return NULL;
}

size_t pm_an2k_subfields(const pm_an2k_field_t *f)
{
    size_t n = 1;
    if (f->binary) return 1;
    for (size_t i = 0; i < f->len; i++)
        if (f->value[i] == PM_AN2K_RS) n++;
    return n;
}

int pm_an2k_item(const pm_an2k_field_t *f, size_t sub, size_t item, const uint8_t **out_p,
                 size_t *out_len)
{
    if (!f || sub == 0 || item == 0) return 0;
    if (f->binary) {
        if (sub != 1 || item != 1) return 0;
        *out_p = f->value;
        *out_len = f->len;
        return 1;
    }
    size_t i = 0, s = 1;
    while (s < sub) {
        while (i < f->len && f->value[i] != PM_AN2K_RS)
            i++;
        if (i >= f->len) return 0;
        i++;
        s++;
    }
    size_t send = i;
    while (send < f->len && f->value[send] != PM_AN2K_RS)
        send++;
    size_t it = 1;
    while (it < item) {
        while (i < send && f->value[i] != PM_AN2K_US)
            i++;
        if (i >= send) return 0;
        i++;
        it++;
    }
    size_t e = i;
    while (e < send && f->value[e] != PM_AN2K_US)
        e++;
    *out_p = f->value + i;
    *out_len = e - i;
    return 1;
}

int pm_an2k_get(const pm_an2k_record_t *r, int id, size_t sub, size_t item, char *out, size_t cap)
{
    const uint8_t *p;
    size_t n;
    if (!pm_an2k_item(pm_an2k_find(r, id), sub, item, &p, &n)) {
        if (cap) out[0] = '\0';
        return -1;
    }
    if (cap) {
        size_t c = n < cap - 1 ? n : cap - 1;
        memcpy(out, p, c);
        out[c] = '\0';
    }
    return n > 0x7fffffff ? 0x7fffffff : (int)n;
}

int pm_an2k_version(const pm_an2k_txn_t *t)
{
    if (!t || t->nrecords == 0) return 0;
    char v[8];
    if (pm_an2k_get(&t->records[0], 2, 1, 1, v, sizeof v) != 4) return 0;
    long long n = parse_decimal((const uint8_t *)v, 4);
    return n < 0 ? 0 : (int)n;
}
