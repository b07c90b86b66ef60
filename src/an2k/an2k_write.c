/* an2k writer and builder: serialisation, field setting, LEN/CNT finalisation. */
#include "an2k_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a decimal text of at most 10 digits; -1 if not one. */
static long long decimal(const uint8_t *p, size_t n)
{
    if (n == 0 || n > 10) return -1;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static int write_binary(const pm_an2k_record_t *r, size_t rec_no, pm_buf_t *out, pm_error_t *err)
{
    size_t n;
    const uint8_t *w = pm__an2k_binary_layout(r->type, &n);
    for (size_t i = 0; i < n; i++) {
        const pm_an2k_field_t *f = pm_an2k_find(r, (int)i + 1);
        if (!f)
            return pm_error_set(err, PM_EINVAL,
                                "record %zu (Type-%d): header field %d.%03zu missing", rec_no,
                                r->type, r->type, i + 1);
        uint8_t bytes[8];
        if (w[i] == 6) {
            for (size_t k = 0; k < 6; k++) {
                const uint8_t *ip;
                size_t il;
                long long v = pm_an2k_item(f, 1, k + 1, &ip, &il) ? decimal(ip, il) : 255;
                if (v < 0 || v > 255)
                    return pm_error_set(err, PM_ERANGE,
                                        "record %zu (Type-%d) field %d.%03zu item %zu: not a byte "
                                        "value 0..255",
                                        rec_no, r->type, r->type, i + 1, k + 1);
                bytes[k] = (uint8_t)v;
            }
        } else {
            long long v = decimal(f->value, f->len);
            long long max = w[i] == 4 ? 0xffffffffLL : w[i] == 2 ? 0xffff : 0xff;
            if (v < 0 || v > max)
                return pm_error_set(err, PM_ERANGE,
                                    "record %zu (Type-%d) field %d.%03zu: \"%.*s\" does not fit %u "
                                    "byte(s)",
                                    rec_no, r->type, r->type, i + 1,
                                    (int)(f->len > 20 ? 20 : f->len), (const char *)f->value, w[i]);
            for (size_t k = 0; k < w[i]; k++)
                bytes[k] = (uint8_t)(v >> (8 * (w[i] - 1 - k)));
        }
        int rc = pm_buf_append(out, bytes, w[i]);
        if (rc) return pm_error_set(err, rc, "output too large");
    }
    const pm_an2k_field_t *d = pm_an2k_find(r, (int)n + 1);
    if (d && pm_buf_append(out, d->value, d->len))
        return pm_error_set(err, PM_ELIMIT, "output too large");
    return PM_OK;
}

static int write_tagged(const pm_an2k_record_t *r, pm_buf_t *out, pm_error_t *err)
{
    for (size_t i = 0; i < r->nfields; i++) {
        const pm_an2k_field_t *f = &r->fields[i];
        char tag[PM_AN2K_MAX_TAG + 16];
        if (f->tag[0])
            snprintf(tag, sizeof tag, "%s:", f->tag);
        else
            snprintf(tag, sizeof tag, "%d.%03d:", f->type, f->id);
        uint8_t sep = i + 1 == r->nfields ? PM_AN2K_FS : PM_AN2K_GS;
        if (pm_buf_append_str(out, tag) || pm_buf_append(out, f->value, f->len) ||
            pm_buf_append(out, &sep, 1))
            return pm_error_set(err, PM_ELIMIT, "output too large");
    }
    if (r->nfields == 0)
        return pm_error_set(err, PM_EINVAL, "Type-%d record without fields", r->type);
    return PM_OK;
}

int pm_an2k_write(const pm_an2k_txn_t *t, uint8_t **out_data, size_t *out_len, pm_error_t *err)
{
    *out_data = NULL;
    *out_len = 0;
    pm_buf_t b;
    pm_buf_init(&b, PM_AN2K_MAX_FILE);
    /* One allocation for the whole output (an estimate good to a few bytes). */
    size_t estimate = 0;
    for (size_t i = 0; i < t->nrecords; i++) {
        const pm_an2k_record_t *r = &t->records[i];
        estimate += r->opaque ? r->raw_len : 32;
        for (size_t k = 0; k < r->nfields; k++)
            estimate += r->fields[k].len + PM_AN2K_MAX_TAG + 2;
    }
    if (estimate > PM_AN2K_MAX_FILE) estimate = PM_AN2K_MAX_FILE;
    if (pm_buf_reserve(&b, estimate))
        return pm_error_set(err, PM_ENOMEM, "out of memory for a %zu-byte transaction", estimate);
    for (size_t i = 0; i < t->nrecords; i++) {
        const pm_an2k_record_t *r = &t->records[i];
        int rc;
        if (r->opaque)
            rc = pm_buf_append(&b, r->raw, r->raw_len)
                     ? pm_error_set(err, PM_ELIMIT, "output too large")
                     : PM_OK;
        else if (r->binary)
            rc = write_binary(r, i + 1, &b, err);
        else
            rc = write_tagged(r, &b, err);
        if (rc) {
            pm_buf_free(&b);
            return rc;
        }
    }
    *out_data = pm_buf_steal(&b, out_len);
    if (!*out_data) {
        *out_data = malloc(1);
        if (!*out_data) return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    return PM_OK;
}

/* ---- building ---- */

static int field_cmp_pos(int a, int b)
{
    return a < b;
}

int pm_an2k_set(pm_an2k_record_t *r, int id, const void *value, size_t len, int binary,
                pm_error_t *err)
{
    if (id <= 0 || id > 999999999)
        return pm_error_set(err, PM_EINVAL, "field number %d out of range", id);
    if (r->opaque) return pm_error_set(err, PM_EINVAL, "cannot set a field of an opaque record");
    char tag[PM_AN2K_MAX_TAG];
    if (r->binary)
        tag[0] = '\0';
    else
        snprintf(tag, sizeof tag, "%d.%03d", r->type, id);
    pm_an2k_field_t f;
    int rc = pm__an2k_make_field(&f, r->type, id, tag, value, len, binary, 0, err);
    if (rc) return rc;
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i].id == id) {
            f.offset = r->fields[i].offset;
            if (r->fields[i].tag[0]) memcpy(f.tag, r->fields[i].tag, sizeof f.tag);
            free(r->fields[i].value);
            r->fields[i] = f;
            return PM_OK;
        }
    rc = pm__an2k_push_field(r, &f, err);
    if (rc) {
        free(f.value);
        return rc;
    }
    /* Move into field-number order. */
    size_t i = r->nfields - 1;
    while (i > 0 && field_cmp_pos(id, r->fields[i - 1].id)) {
        pm_an2k_field_t tmp = r->fields[i - 1];
        r->fields[i - 1] = r->fields[i];
        r->fields[i] = tmp;
        i--;
    }
    return PM_OK;
}

int pm_an2k_set_text(pm_an2k_record_t *r, int id, const char *value, pm_error_t *err)
{
    return pm_an2k_set(r, id, value, strlen(value), 0, err);
}

void pm_an2k_remove(pm_an2k_record_t *r, int id)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i].id == id) {
            free(r->fields[i].value);
            memmove(&r->fields[i], &r->fields[i + 1], (r->nfields - i - 1) * sizeof r->fields[0]);
            r->nfields--;
            return;
        }
}

int pm_an2k_add_record(pm_an2k_txn_t *t, int type, size_t *out_index, pm_error_t *err)
{
    if (type < 1 || type > 99)
        return pm_error_set(err, PM_EINVAL, "record type %d out of range", type);
    pm_an2k_record_t *r;
    int rc = pm__an2k_push_record(t, &r, err);
    if (rc) return rc;
    r->type = type;
    r->binary = pm__an2k_is_binary_type(type);
    if (out_index) *out_index = t->nrecords - 1;
    return PM_OK;
}

int pm_an2k_txn_init(pm_an2k_txn_t *t, const pm_an2k_header_t *h, pm_error_t *err)
{
    memset(t, 0, sizeof *t);
    if (!h->tot || !h->date || !h->dai || !h->ori || !h->tcn)
        return pm_error_set(err, PM_EINVAL, "Type-1 needs TOT, DAT, DAI, ORI and TCN");
    int rc = pm_an2k_add_record(t, 1, NULL, err);
    if (rc) return rc;
    pm_an2k_record_t *r = &t->records[0];
    struct {
        int id;
        const char *v;
    } f[] = {
        {1, "0"},
        {2, h->version ? h->version : "0502"},
        {3, "1\x1f"
            "0"},
        {4, h->tot},
        {5, h->date},
        {6, h->pry},
        {7, h->dai},
        {8, h->ori},
        {9, h->tcn},
        {10, h->tcr},
        {11, h->nsr ? h->nsr : "00.00"},
        {12, h->ntr ? h->ntr : "00.00"},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (!f[i].v) continue;
        rc = pm_an2k_set_text(r, f[i].id, f[i].v, err);
        if (rc) return rc;
    }
    return PM_OK;
}

static size_t digits(size_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

int pm_an2k_finalize(pm_an2k_txn_t *t, pm_error_t *err)
{
    if (t->nrecords == 0 || t->records[0].type != 1)
        return pm_error_set(err, PM_EINVAL, "a transaction starts with a Type-1 record");
    pm_buf_t cnt;
    pm_buf_init(&cnt, 1 << 20);
    int rc = pm_buf_printf(&cnt, "1\x1f%zu", t->nrecords - 1);
    for (size_t i = 1; i < t->nrecords && !rc; i++) {
        const pm_an2k_record_t *r = &t->records[i];
        char idc[16];
        int n = pm_an2k_get(r, 2, 1, 1, idc, sizeof idc);
        if (n < 0) snprintf(idc, sizeof idc, "00");
        rc = pm_buf_printf(&cnt, "\x1e%d\x1f%s%s", r->type, n == 1 ? "0" : "", idc);
    }
    if (rc) {
        pm_buf_free(&cnt);
        return pm_error_set(err, rc, "CNT too large");
    }
    rc = pm_an2k_set(&t->records[0], 3, cnt.data, cnt.len, 0, err);
    pm_buf_free(&cnt);
    if (rc) return rc;
    for (size_t i = 0; i < t->nrecords; i++) {
        pm_an2k_record_t *r = &t->records[i];
        if (r->opaque) continue;
        char text[32];
        if (r->binary) {
            size_t total = pm__an2k_binary_header_size(r->type);
            size_t nh;
            pm__an2k_binary_layout(r->type, &nh);
            const pm_an2k_field_t *d = pm_an2k_find(r, (int)nh + 1);
            total += d ? d->len : 0;
            if (total > 0xffffffffu)
                return pm_error_set(err, PM_ELIMIT, "record %zu too large", i + 1);
            snprintf(text, sizeof text, "%zu", total);
        } else {
            /* Every field but LEN: tag, colon, value, separator. */
            size_t rest = 0, lentag = 0;
            for (size_t k = 0; k < r->nfields; k++) {
                const pm_an2k_field_t *f = &r->fields[k];
                char tag[PM_AN2K_MAX_TAG + 16];
                int tl = f->tag[0] ? snprintf(tag, sizeof tag, "%s:", f->tag)
                                   : snprintf(tag, sizeof tag, "%d.%03d:", f->type, f->id);
                if (f->id == 1)
                    lentag = (size_t)tl + 1;
                else
                    rest += (size_t)tl + f->len + 1;
            }
            if (!pm_an2k_find(r, 1)) {
                rc = pm_an2k_set_text(r, 1, "0", err);
                if (rc) return rc;
                char tag[PM_AN2K_MAX_TAG + 16];
                lentag = (size_t)snprintf(tag, sizeof tag, "%d.%03d:", r->type, 1) + 1;
            }
            size_t base = rest + lentag, total = base + 1;
            while (base + digits(total) != total)
                total = base + digits(total);
            snprintf(text, sizeof text, "%zu", total);
        }
        rc = pm_an2k_set_text(r, 1, text, err);
        if (rc) return rc;
    }
    return PM_OK;
}
