/* Strict JSON for request bodies and the configuration: one object, known
 * keys only, types and bounds checked, a field name in every refusal. */
#include <stdio.h>
#include <string.h>

#include "node/node_impl.h"

static const char *type_name(json_type t)
{
    switch (t) {
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_REAL: return "a number";
    default: return "null";
    }
}

static int type_ok(const json_t *v, json_type want)
{
    if (want == JSON_TRUE)
        return json_is_boolean(v);
    if (want == JSON_REAL)
        return json_is_number(v);
    return json_typeof(v) == want;
}

int pm__json_check(const json_t *obj, const char *where, const pm__jfield_t *fields, size_t n,
                   char *out_field, size_t cap, pm_error_t *err)
{
    if (out_field && cap)
        snprintf(out_field, cap, "%s", where);
    if (!json_is_object(obj))
        return pm_error_set(err, PM_EVALIDATION, "%s: must be a JSON object", where);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        size_t i;
        for (i = 0; i < n && strcmp(fields[i].name, key) != 0; i++)
            ;
        if (out_field && cap)
            snprintf(out_field, cap, "%s%s%s", where, where[0] ? "." : "", key);
        if (i == n)
            return pm_error_set(err, PM_EVALIDATION, "%s%s%s: unknown field", where,
                                where[0] ? "." : "", key);
        if (!type_ok(v, fields[i].type))
            return pm_error_set(err, PM_EVALIDATION, "%s%s%s: must be %s, got %s", where,
                                where[0] ? "." : "", key, type_name(fields[i].type),
                                type_name(json_typeof(v)));
        if (fields[i].max && json_is_string(v) && json_string_length(v) > fields[i].max)
            return pm_error_set(err, PM_EVALIDATION, "%s%s%s: longer than %zu bytes", where,
                                where[0] ? "." : "", key, fields[i].max);
        if (fields[i].max && json_is_array(v) && json_array_size(v) > fields[i].max)
            return pm_error_set(err, PM_EVALIDATION, "%s%s%s: more than %zu items", where,
                                where[0] ? "." : "", key, fields[i].max);
        if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))
            return pm_error_set(err, PM_EVALIDATION, "%s%s%s: contains a NUL character", where,
                                where[0] ? "." : "", key);
    }
    for (size_t i = 0; i < n; i++)
        if (fields[i].required && !json_object_get(obj, fields[i].name)) {
            if (out_field && cap)
                snprintf(out_field, cap, "%s%s%s", where, where[0] ? "." : "", fields[i].name);
            return pm_error_set(err, PM_EVALIDATION, "%s%s%s: required", where,
                                where[0] ? "." : "", fields[i].name);
        }
    if (out_field && cap)
        out_field[0] = '\0';
    return PM_OK;
}

int pm__json_parse(const void *data, size_t len, json_t **out, pm_error_t *err)
{
    json_error_t je;
    *out = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!*out)
        return pm_error_set(err, PM_EFORMAT, "malformed JSON at line %d column %d: %s", je.line,
                            je.column, je.text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return pm_error_set(err, PM_EFORMAT, "the body must be a JSON object");
    }
    return PM_OK;
}

const char *pm__json_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

int pm__json_bool(const json_t *obj, const char *key, int dflt)
{
    const json_t *v = json_object_get(obj, key);
    return v ? json_is_true(v) : dflt;
}
