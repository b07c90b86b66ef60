/* A small bounded RFC 4180 reader for the link module's list files. */
#include <string.h>

#include "link_impl.h"

int pm_list_next(const char *data, size_t len, size_t *pos, uint64_t *line, pm_list_row_t *row,
                 pm_error_t *err)
{
    size_t p = *pos;
    /* skip blank lines */
    while (p < len && (data[p] == '\n' || data[p] == '\r')) {
        if (data[p] == '\n') (*line)++;
        p++;
    }
    if (p >= len) {
        *pos = p;
        return 0;
    }
    uint64_t start_line = *line;
    size_t out = 0;
    row->n = 0;
    row->f[row->n++] = row->buf;
    int quoted = 0, at_start = 1;
    for (;;) {
        if (p >= len) {
            if (quoted)
                return pm_error_set(err, PM_EFORMAT, "line %llu: unterminated quoted field",
                                    (unsigned long long)start_line);
            break;
        }
        char c = data[p++];
        if (quoted) {
            if (c == '"') {
                if (p < len && data[p] == '"') {
                    p++;
                } else {
                    quoted = 0;
                    continue;
                }
            } else if (c == '\n')
                (*line)++;
        } else if (c == '"' && at_start) {
            quoted = 1;
            at_start = 0;
            continue;
        } else if (c == ',') {
            if (out >= sizeof row->buf - 1 || row->n >= PM_LIST_FIELDS_MAX)
                return pm_error_set(err, PM_ELIMIT, "line %llu: more than %d fields",
                                    (unsigned long long)start_line, PM_LIST_FIELDS_MAX);
            row->buf[out++] = '\0';
            row->f[row->n++] = row->buf + out;
            at_start = 1;
            continue;
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && p < len && data[p] == '\n') p++;
            (*line)++;
            break;
        } else if (c == '\0')
            return pm_error_set(err, PM_EFORMAT, "line %llu: NUL byte",
                                (unsigned long long)start_line);
        at_start = 0;
        if (out >= PM_LIST_ROW_MAX)
            return pm_error_set(err, PM_ELIMIT, "line %llu: row longer than %d bytes",
                                (unsigned long long)start_line, PM_LIST_ROW_MAX);
        row->buf[out++] = c;
    }
    row->buf[out] = '\0';
    *pos = p;
    return 1;
}

int pm_list_column(const pm_list_row_t *header, const char *name)
{
    for (size_t i = 0; i < header->n; i++)
        if (strcmp(header->f[i], name) == 0) return (int)i;
    return -1;
}
