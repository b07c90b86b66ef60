/* The disclosure serializer (R4): it works only from the allow-list. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/policy.h"
#include "perimeter/travel.h"

int pm_disclosure_serialize(const pm_agreement_t *a, const char *purpose,
                            const pm_field_value_t *fields, size_t n, pm_buf_t *out,
                            size_t *out_dropped, pm_error_t *err)
{
    if (!a || !purpose || (!fields && n) || !out)
        return pm_error_set(err, PM_EINVAL, "disclosure: NULL argument");
    const pm_allow_list_t *al = NULL;
    for (size_t i = 0; i < a->n_allow; i++)
        if (strcmp(a->allow[i].purpose, purpose) == 0) al = &a->allow[i];
    if (!al) return pm_error_set(err, PM_EDENIED, "R4: no allow-list for purpose '%.64s'", purpose);
    json_t *obj = json_object(), *fo = json_object();
    size_t dropped = 0;
    int rc = PM_OK;
    if (!obj || !fo || json_object_set_new(obj, "purpose", json_string(purpose)) ||
        json_object_set(obj, "fields", fo))
        rc = PM_ENOMEM;
    /* Emit by walking the allow-list, never the caller's names: an unlisted
     * name has no path to the output. */
    for (size_t f = 0; rc == PM_OK && pm_agreement_field_name(f); f++) {
        if (!(al->fields & (1u << f))) continue;
        const char *name = pm_agreement_field_name(f);
        for (size_t i = 0; i < n; i++)
            if (fields[i].name && fields[i].value && strcmp(fields[i].name, name) == 0) {
                json_t *s = json_string(fields[i].value);
                if (!s) {
                    rc = pm_error_set(err, PM_EUTF8, "disclosure: field %s is not UTF-8", name);
                    break;
                }
                if (json_object_set_new(fo, name, s)) rc = PM_ENOMEM;
                break;
            }
    }
    for (size_t i = 0; i < n; i++) {
        int fi = pm_agreement_field_index(fields[i].name);
        if (fi < 0 || !(al->fields & (1u << fi))) dropped++;
    }
    char *s = rc == PM_OK ? json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(fo);
    json_decref(obj);
    if (rc) return rc == PM_ENOMEM ? pm_error_set(err, rc, "disclosure: out of memory") : rc;
    if (!s) return pm_error_set(err, PM_ENOMEM, "disclosure: out of memory");
    rc = pm_buf_append_str(out, s);
    free(s);
    if (rc) return pm_error_set(err, rc, "disclosure: output too large");
    if (out_dropped) *out_dropped = dropped;
    return PM_OK;
}

int pm_disclosure_serialize_crossing(const pm_agreement_t *a, const char *purpose,
                                     const pm_crossing_t *c, pm_buf_t *out, pm_error_t *err)
{
    if (!a || !purpose || !c || !out)
        return pm_error_set(err, PM_EINVAL, "disclosure: NULL argument");
    char dob[16], ts[32], sex[2] = {c->sex, '\0'};
    pm_dob_format(&c->dob, dob);
    pm_timestamp_format(c->time_utc, c->utc_offset_min, ts);
    /* Every element of the record, by its legal name; the allow-list decides. */
    const pm_field_value_t f[] = {
        {"surname", c->surname},
        {"given_names", c->given_names},
        {"middle_names", c->middle_names},
        {"date_of_birth", dob},
        {"citizenship", c->citizenship},
        {"sex", sex},
        {"document_type", c->document_type},
        {"document_number", c->document_number},
        {"document_issuer", c->document_issuer},
        {"crossing_time", ts},
        {"port", c->port_code},
        {"direction", pm_direction_name(c->direction)},
        {"mode", pm_mode_name(c->mode)},
    };
    return pm_disclosure_serialize(a, purpose, f, sizeof f / sizeof f[0], out, NULL, err);
}
