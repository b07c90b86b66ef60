/* an2k dumps: the NIST-style field-by-field text form and JSON. */
#include "an2k_internal.h"

#include <string.h>

int pm_an2k_dump_text(const pm_an2k_txn_t *t, pm_buf_t *out, pm_error_t *err)
{
    for (size_t ri = 0; ri < t->nrecords; ri++) {
        const pm_an2k_record_t *r = &t->records[ri];
        if (r->opaque) {
            if (pm_buf_printf(out, "%zu.0.0.0 [%d.000]=opaque record, %zu bytes\n", ri + 1, r->type,
                              r->raw_len))
                return pm_error_set(err, PM_ELIMIT, "dump too large");
            continue;
        }
        for (size_t fi = 0; fi < r->nfields; fi++) {
            const pm_an2k_field_t *f = &r->fields[fi];
            int ftype = r->binary ? r->type : f->type;
            if (f->binary) {
                if (pm_buf_printf(out, "%zu.%zu.1.1 [%d.%03d]=fld_%zu_%zu.tmp\x1f\n", ri + 1,
                                  fi + 1, ftype, f->id, ri + 1, fi + 1))
                    return pm_error_set(err, PM_ELIMIT, "dump too large");
                continue;
            }
            size_t sub = 1, item = 1, start = 0;
            for (size_t i = 0; i <= f->len; i++) {
                if (i < f->len && f->value[i] != PM_AN2K_RS && f->value[i] != PM_AN2K_US) continue;
                if (pm_buf_printf(out, "%zu.%zu.%zu.%zu [%d.%03d]=", ri + 1, fi + 1, sub, item,
                                  ftype, f->id) ||
                    pm_buf_append(out, f->value + start, i - start) ||
                    pm_buf_append(out, "\x1f\n", 2))
                    return pm_error_set(err, PM_ELIMIT, "dump too large");
                if (i < f->len && f->value[i] == PM_AN2K_RS) {
                    sub++;
                    item = 1;
                } else {
                    item++;
                }
                start = i + 1;
            }
        }
    }
    return PM_OK;
}

/* Appends s[0..n) as a JSON string; bytes >= 0x80 are passed through when they
 * form valid UTF-8 is not checked here, so they are escaped as \u00XX (Latin-1
 * reading), which keeps the output valid JSON whatever the input. */
static int json_str(pm_buf_t *out, const uint8_t *s, size_t n)
{
    if (pm_buf_append(out, "\"", 1)) return PM_ELIMIT;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        int rc;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            rc = pm_buf_append(out, e, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            rc = pm_buf_printf(out, "\\u%04x", c);
        } else {
            rc = pm_buf_append(out, &c, 1);
        }
        if (rc) return rc;
    }
    return pm_buf_append(out, "\"", 1);
}

int pm_an2k_dump_json(const pm_an2k_txn_t *t, pm_buf_t *out, pm_error_t *err)
{
    int rc = pm_buf_append_str(out, "{\"records\":[");
    for (size_t ri = 0; ri < t->nrecords && !rc; ri++) {
        const pm_an2k_record_t *r = &t->records[ri];
        rc = pm_buf_printf(out, "%s\n{\"record\":%zu,\"type\":%d,\"offset\":%zu,\"length\":%zu,%s",
                           ri ? "," : "", ri + 1, r->type, r->offset, r->length,
                           r->opaque ? "\"opaque\":true,\"fields\":[" : "\"fields\":[");
        for (size_t fi = 0; fi < r->nfields && !rc; fi++) {
            const pm_an2k_field_t *f = &r->fields[fi];
            int ftype = r->binary ? r->type : f->type;
            rc = pm_buf_printf(out, "%s{\"tag\":\"%d.%03d\",", fi ? "," : "", ftype, f->id);
            if (rc) break;
            if (f->binary) {
                rc = pm_buf_printf(out, "\"binary\":%zu,\"file\":\"fld_%zu_%zu.bin\"}", f->len,
                                   ri + 1, fi + 1);
                continue;
            }
            rc = pm_buf_append_str(out, "\"subfields\":[[");
            size_t start = 0;
            for (size_t i = 0; i <= f->len && !rc; i++) {
                if (i < f->len && f->value[i] != PM_AN2K_RS && f->value[i] != PM_AN2K_US) continue;
                rc = json_str(out, f->value + start, i - start);
                if (!rc && i < f->len)
                    rc = pm_buf_append_str(out, f->value[i] == PM_AN2K_RS ? "],[" : ",");
                start = i + 1;
            }
            if (!rc) rc = pm_buf_append_str(out, "]]}");
        }
        if (!rc) rc = pm_buf_append_str(out, "]}");
    }
    if (!rc) rc = pm_buf_append_str(out, "\n]}\n");
    if (rc) return pm_error_set(err, rc, "JSON dump too large");
    return PM_OK;
}
