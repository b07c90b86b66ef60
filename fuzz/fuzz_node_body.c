/* libFuzzer target: every JSON request body the node parses, through the
 * same call the route makes (pm__body_parse, src/node/bodies.c).
 * Input: one byte choosing the body (login, partner biographic/biometric
 * query, review decision/act, partner correction, transfer, gallery
 * enrol/identify/verify), then the body. Invariants: a refusal has a
 * NUL-terminated message and a PM_EFORMAT/PM_EVALIDATION code; an accepted
 * body is an object that passes again after a dump and re-parse, every
 * string within its bound and free of NUL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const pm__jbody_t *b = pm__body_at(data[0] % pm__body_count());
    pm_error_t e;
    pm_error_clear(&e);
    json_t *o = NULL;
    char field[96];
    int rc = pm__body_parse(b, data + 1, size - 1, &o, field, sizeof field, &e);
    if (rc) {
        if (o || memchr(e.msg, '\0', sizeof e.msg) == NULL) abort();
        if (rc != PM_EFORMAT && rc != PM_EVALIDATION) abort();
        if (rc == PM_EVALIDATION && memchr(field, '\0', sizeof field) == NULL) abort();
        return 0;
    }
    if (!json_is_object(o)) abort();
    for (size_t i = 0; i < b->n; i++) {
        const json_t *v = json_object_get(o, b->fields[i].name);
        if (b->fields[i].required && !v) abort();
        if (v && json_is_string(v) && b->fields[i].max && json_string_length(v) > b->fields[i].max)
            abort();
        if (v && json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))
            abort();
    }
    char *text = json_dumps(o, JSON_COMPACT);
    if (text) {
        json_t *back = NULL;
        if (pm__body_parse(b, text, strlen(text), &back, field, sizeof field, &e) != PM_OK) abort();
        if (!json_equal(o, back)) abort();
        json_decref(back);
        free(text);
    }
    json_decref(o);
    return 0;
}
