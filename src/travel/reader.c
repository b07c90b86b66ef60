/* Streaming readers of crossing records: CSV (RFC 4180, header row) and
 * JSON Lines. Every length is bounded; a bad row is reported and skipped,
 * the reader resynchronises at the next line. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perimeter/travel.h"
#include "travel/travel_impl.h"

#define READ_CHUNK (1u << 18)
#define MAX_COLUMNS 64

struct pm_crossing_reader {
    pm_crossing_format_t fmt;
    int fd;            /* -1 for memory */
    const char *buf;   /* current input window */
    char *own;         /* our read buffer (fd mode) */
    size_t pos, end;
    int eof;
    int io_error;
    uint64_t line;     /* physical line of the next byte */
    uint64_t row_line; /* line where the last row started */
    pm_crossing_field_t err_field;
    int header_done;
    int ncols;
    int colmap[MAX_COLUMNS]; /* field index, or -1 for an x_ column */
    size_t nfields;
    uint32_t foff[MAX_COLUMNS];
    uint32_t flen[MAX_COLUMNS];
    char rec[PM_CROSSING_LINE_MAX + 1]; /* unescaped fields of one record, or one JSON line */
};

static int refill(pm_crossing_reader_t *r)
{
    if (r->fd < 0 || r->eof)
        return 0;
    for (;;) {
        ssize_t n = read(r->fd, r->own, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r->io_error = errno;
            r->eof = 1;
            return 0;
        }
        if (n == 0) {
            r->eof = 1;
            return 0;
        }
        r->pos = 0;
        r->end = (size_t)n;
        return 1;
    }
}

static inline int getb(pm_crossing_reader_t *r)
{
    if (r->pos == r->end && !refill(r))
        return -1;
    return (unsigned char)r->buf[r->pos++];
}

static inline int peekb(pm_crossing_reader_t *r)
{
    if (r->pos == r->end && !refill(r))
        return -1;
    return (unsigned char)r->buf[r->pos];
}

/* Skips the rest of the current physical line (after an error). */
static void skip_line(pm_crossing_reader_t *r)
{
    for (;;) {
        if (r->pos == r->end && !refill(r))
            return;
        const char *nl = memchr(r->buf + r->pos, '\n', r->end - r->pos);
        if (nl) {
            r->pos = (size_t)(nl - r->buf) + 1;
            r->line++;
            return;
        }
        r->pos = r->end;
    }
}

static int open_common(pm_crossing_format_t fmt, pm_crossing_reader_t **out, pm_error_t *err)
{
    *out = NULL;
    if (fmt != PM_CROSSING_FORMAT_CSV && fmt != PM_CROSSING_FORMAT_JSONL)
        return pm_error_set(err, PM_EINVAL, "reader: format must be csv or jsonl");
    pm_crossing_reader_t *r = calloc(1, sizeof *r);
    if (!r)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    r->fmt = fmt;
    r->fd = -1;
    r->line = 1;
    r->err_field = PM_CF_NONE;
    *out = r;
    return PM_OK;
}

int pm_crossing_reader_open_fd(int fd, pm_crossing_format_t fmt, pm_crossing_reader_t **out,
                               pm_error_t *err)
{
    int rc = open_common(fmt, out, err);
    if (rc)
        return rc;
    pm_crossing_reader_t *r = *out;
    r->own = malloc(READ_CHUNK);
    if (!r->own) {
        free(r);
        *out = NULL;
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    r->buf = r->own;
    r->fd = fd;
    return PM_OK;
}

int pm_crossing_reader_open_mem(const char *data, size_t len, pm_crossing_format_t fmt,
                                pm_crossing_reader_t **out, pm_error_t *err)
{
    int rc = open_common(fmt, out, err);
    if (rc)
        return rc;
    (*out)->buf = data;
    (*out)->end = len;
    (*out)->eof = 1;
    return PM_OK;
}

void pm_crossing_reader_free(pm_crossing_reader_t *r)
{
    if (!r)
        return;
    free(r->own);
    free(r);
}

uint64_t pm_crossing_reader_line(const pm_crossing_reader_t *r)
{
    return r->row_line;
}

pm_crossing_field_t pm_crossing_reader_error_field(const pm_crossing_reader_t *r)
{
    return r->err_field;
}

pm_crossing_format_t pm_crossing_format_for_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return PM_CROSSING_FORMAT_AUTO;
    if (strcmp(dot, ".csv") == 0 || strcmp(dot, ".CSV") == 0)
        return PM_CROSSING_FORMAT_CSV;
    if (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".ndjson") == 0 || strcmp(dot, ".json") == 0)
        return PM_CROSSING_FORMAT_JSONL;
    return PM_CROSSING_FORMAT_AUTO;
}

/* A row-level error: records the field, prefixes the line, resynchronises. */
static int row_error(pm_crossing_reader_t *r, pm_crossing_field_t f, int skip, pm_error_t *err,
                     int code)
{
    r->err_field = f;
    if (skip)
        skip_line(r);
    pm_error_prefix(err, "line %llu", (unsigned long long)r->row_line);
    if (err)
        err->code = code; /* the precise cause; the caller sees PM_EVALIDATION */
    return PM_EVALIDATION;
}

/* --- CSV --- */

enum { ST_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTE_IN_QUOTED };

/* Reads one CSV record into r->rec / foff / flen. Returns 1, 0 at EOF, or a
 * negative row error (already resynchronised and prefixed). */
static int csv_record(pm_crossing_reader_t *r, pm_error_t *err)
{
    size_t out = 0;
    size_t nf = 0;
    int st = ST_START;
    size_t fstart = 0;
    r->row_line = r->line;
    for (;;) {
        int c = getb(r);
        if (c == '\r' && st != ST_QUOTED) {
            if (peekb(r) != '\n') {
                pm_error_set(err, PM_EFORMAT, "row: bare carriage return outside quotes");
                return row_error(r, PM_CF_NONE, 1, err, PM_EFORMAT);
            }
            continue;
        }
        if (c < 0 || (c == '\n' && st != ST_QUOTED)) {
            if (c < 0 && r->io_error) {
                pm_error_set(err, PM_EIO, "read error: %s", strerror(r->io_error));
                return PM_EIO;
            }
            if (c < 0 && st == ST_QUOTED) {
                pm_error_set(err, PM_ETRUNCATED,
                             "row: input ends inside a quoted field (truncated file?)");
                return row_error(r, PM_CF_NONE, 0, err, PM_ETRUNCATED);
            }
            if (c == '\n')
                r->line++;
            if (nf == 0 && out == 0 && st == ST_START) {
                if (c < 0)
                    return 0;
                r->row_line = r->line; /* blank line: skip */
                continue;
            }
            if (nf == MAX_COLUMNS) {
                pm_error_set(err, PM_ELIMIT, "row: more than %d columns", MAX_COLUMNS);
                return row_error(r, PM_CF_NONE, 0, err, PM_ELIMIT);
            }
            r->foff[nf] = (uint32_t)fstart;
            r->flen[nf] = (uint32_t)(out - fstart);
            r->nfields = nf + 1;
            r->rec[out] = '\0';
            return 1;
        }
        switch (st) {
        case ST_START:
            if (c == '"') {
                st = ST_QUOTED;
                continue;
            }
            st = ST_UNQUOTED;
            /* fall through */
        case ST_UNQUOTED:
            if (c == ',')
                break;
            if (c == '"') {
                pm_error_set(err, PM_EFORMAT, "row: quote inside an unquoted field %zu", nf + 1);
                return row_error(r, PM_CF_NONE, 1, err, PM_EFORMAT);
            }
            goto append;
        case ST_QUOTED:
            if (c == '"') {
                st = ST_QUOTE_IN_QUOTED;
                continue;
            }
            if (c == '\n')
                r->line++;
            goto append;
        case ST_QUOTE_IN_QUOTED:
            if (c == '"') {
                st = ST_QUOTED;
                goto append;
            }
            if (c == ',')
                break;
            pm_error_set(err, PM_EFORMAT, "row: character after the closing quote of field %zu",
                         nf + 1);
            return row_error(r, PM_CF_NONE, 1, err, PM_EFORMAT);
        }
        /* c == ',' ends a field */
        if (nf + 1 >= MAX_COLUMNS) {
            pm_error_set(err, PM_ELIMIT, "row: more than %d columns", MAX_COLUMNS);
            return row_error(r, PM_CF_NONE, 1, err, PM_ELIMIT);
        }
        r->foff[nf] = (uint32_t)fstart;
        r->flen[nf] = (uint32_t)(out - fstart);
        nf++;
        fstart = out;
        st = ST_START;
        continue;
    append:
        if (out - fstart >= PM_CROSSING_FIELD_MAX) {
            pm_error_set(err, PM_ELIMIT, "field %zu: longer than %d bytes", nf + 1,
                         PM_CROSSING_FIELD_MAX);
            return row_error(r, nf < (size_t)r->ncols && r->colmap[nf] >= 0
                                    ? (pm_crossing_field_t)r->colmap[nf]
                                    : PM_CF_NONE,
                             1, err, PM_ELIMIT);
        }
        if (out >= PM_CROSSING_LINE_MAX) {
            pm_error_set(err, PM_ELIMIT, "row: longer than %d bytes", PM_CROSSING_LINE_MAX);
            return row_error(r, PM_CF_NONE, 1, err, PM_ELIMIT);
        }
        r->rec[out++] = (char)c;
    }
}

static int csv_header(pm_crossing_reader_t *r, pm_error_t *err)
{
    /* skip a UTF-8 byte order mark */
    if (r->pos + 3 <= r->end || refill(r)) {
        if (r->end - r->pos >= 3 && memcmp(r->buf + r->pos, "\xef\xbb\xbf", 3) == 0)
            r->pos += 3;
    }
    int rc = csv_record(r, err);
    if (rc == 0)
        return pm_error_set(err, PM_EFORMAT, "empty input: no header row");
    if (rc < 0) {
        if (rc != PM_EVALIDATION)
            return rc; /* I/O error */
        pm_error_prefix(err, "header");
        if (err)
            err->code = PM_EFORMAT;
        return PM_EFORMAT;
    }
    int seen[PM_CF_ALL_COUNT] = {0};
    r->ncols = (int)r->nfields;
    for (size_t i = 0; i < r->nfields; i++) {
        const char *name = r->rec + r->foff[i];
        size_t len = r->flen[i];
        pm_crossing_field_t f = pm_crossing_field_from_name(name, len);
        if (f == PM_CF_NONE) {
            if (len >= 2 && name[0] == 'x' && name[1] == '_') {
                r->colmap[i] = -1;
                continue;
            }
            return pm_error_set(err, PM_EFORMAT,
                                "header: unknown column '%.*s' (extra columns must start with x_)",
                                (int)(len > 64 ? 64 : len), name);
        }
        if (seen[f]++)
            return pm_error_set(err, PM_EFORMAT, "header: column '%s' appears twice",
                                pm_crossing_field_name(f));
        r->colmap[i] = (int)f;
    }
    for (int f = 0; f < PM_CF_COUNT; f++)
        if (!seen[f] && f != PM_CF_GIVEN_NAMES && f != PM_CF_MIDDLE_NAMES && f != PM_CF_MRZ)
            return pm_error_set(err, PM_EFORMAT, "header: required column '%s' is missing",
                                pm_crossing_field_name((pm_crossing_field_t)f));
    r->header_done = 1;
    return PM_OK;
}

static int csv_next(pm_crossing_reader_t *r, pm_crossing_t *c, pm_error_t *err)
{
    if (!r->header_done) {
        int rc = csv_header(r, err);
        if (rc)
            return rc;
    }
    int rc = csv_record(r, err);
    if (rc <= 0)
        return rc;
    if ((int)r->nfields != r->ncols) {
        pm_error_set(err, PM_EVALIDATION, "row: want %d columns, got %zu", r->ncols, r->nfields);
        return row_error(r, PM_CF_NONE, 0, err, PM_EVALIDATION);
    }
    pm_crossing_init(c);
    for (int i = 0; i < r->ncols; i++) {
        const char *v = r->rec + r->foff[i];
        size_t len = r->flen[i];
        if (r->colmap[i] < 0) {
            long at = pm__utf8_invalid_at((const unsigned char *)v, len);
            if (at >= 0) {
                pm_error_set(err, PM_EUTF8, "column %d: invalid UTF-8 at byte %ld", i + 1,
                             at + 1);
                return row_error(r, PM_CF_NONE, 0, err, PM_EUTF8);
            }
            continue;
        }
        pm_crossing_field_t f = (pm_crossing_field_t)r->colmap[i];
        rc = pm_crossing_set_field(c, f, v, len, err);
        if (rc)
            return row_error(r, f, 0, err, rc);
    }
    pm_crossing_field_t bf;
    rc = pm_crossing_finish(c, &bf, err);
    if (rc)
        return row_error(r, bf, 0, err, rc);
    return 1;
}

/* --- JSON Lines --- */

/* Reads one physical line into r->rec. 1, 0 at EOF, or a row error. */
static int jsonl_line(pm_crossing_reader_t *r, size_t *out_len, pm_error_t *err)
{
    for (;;) {
        size_t n = 0;
        r->row_line = r->line;
        int c;
        while ((c = getb(r)) >= 0 && c != '\n') {
            if (n >= PM_CROSSING_LINE_MAX) {
                pm_error_set(err, PM_ELIMIT, "row: longer than %d bytes", PM_CROSSING_LINE_MAX);
                return row_error(r, PM_CF_NONE, 1, err, PM_ELIMIT);
            }
            r->rec[n++] = (char)c;
        }
        if (c < 0 && r->io_error) {
            pm_error_set(err, PM_EIO, "read error: %s", strerror(r->io_error));
            return PM_EIO;
        }
        if (c == '\n')
            r->line++;
        while (n > 0 && (r->rec[n - 1] == '\r' || r->rec[n - 1] == ' ' || r->rec[n - 1] == '\t'))
            n--;
        if (n == 0) {
            if (c < 0)
                return 0;
            continue;
        }
        r->rec[n] = '\0';
        *out_len = n;
        return 1;
    }
}

/* The fast path for the common JSON Lines row: one flat object whose values
 * are strings without escapes (and an integer "cursor"). Returns 1 when the
 * row was taken this way (*out_rc then holds the row's result), 0 when the
 * line needs the general parser (escapes, other value types, unknown or
 * duplicate keys, any syntax problem: jansson then parses it and words the
 * error). */
static int jsonl_fast(pm_crossing_reader_t *r, const char *p, const char *end, pm_crossing_t *c,
                      int64_t *out_cursor, pm_error_t *err, int *out_rc)
{
#define WS()                                                                                       \
    while (p < end && (*p == ' ' || *p == '\t'))                                                   \
    p++
    uint32_t seen = 0;
    int have_cursor = 0;
    int64_t cursor = -1;
    const char *val[PM_CF_ALL_COUNT];
    size_t vlen[PM_CF_ALL_COUNT];
    WS();
    if (p == end || *p++ != '{')
        return 0;
    WS();
    if (p < end && *p == '}')
        return 0;
    for (;;) {
        WS();
        if (p == end || *p++ != '"')
            return 0;
        const char *key = p;
        while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            p++;
        if (p == end || *p != '"')
            return 0;
        size_t klen = (size_t)(p++ - key);
        WS();
        if (p == end || *p++ != ':')
            return 0;
        WS();
        if (klen == 6 && memcmp(key, "cursor", 6) == 0) {
            if (have_cursor || p == end || *p < '0' || *p > '9')
                return 0;
            if (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')
                return 0; /* JSON has no leading zeros */
            int64_t v = 0;
            for (int n = 0; p < end && *p >= '0' && *p <= '9'; n++, p++) {
                if (n >= 18)
                    return 0;
                v = v * 10 + (*p - '0');
            }
            have_cursor = 1;
            cursor = v;
        } else {
            pm_crossing_field_t f = pm_crossing_field_from_name(key, klen);
            int extra = f == PM_CF_NONE && klen >= 2 && key[0] == 'x' && key[1] == '_';
            if (f == PM_CF_NONE && !extra)
                return 0;
            if (p == end || *p++ != '"')
                return 0;
            const char *v = p;
            while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
                p++;
            if (p == end || *p != '"')
                return 0;
            size_t n = (size_t)(p++ - v);
            if (extra) {
                if (pm__utf8_invalid_at((const unsigned char *)v, n) >= 0 ||
                    pm__utf8_invalid_at((const unsigned char *)key, klen) >= 0)
                    return 0;
            } else {
                if (seen & (1u << f))
                    return 0;
                seen |= 1u << f;
                val[f] = v;
                vlen[f] = n;
            }
        }
        WS();
        if (p == end)
            return 0;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p++ != '}')
            return 0;
        WS();
        if (p != end)
            return 0;
        break;
    }
#undef WS
    /* Syntax is fine: validate the fields in column order. */
    if (out_cursor && have_cursor)
        *out_cursor = cursor;
    pm_crossing_init(c);
    for (int f = 0; f < PM_CF_ALL_COUNT; f++) {
        if (!(seen & (1u << f)))
            continue;
        if (vlen[f] > PM_CROSSING_FIELD_MAX) {
            pm_error_set(err, PM_ELIMIT, "%s: longer than %d bytes",
                         pm_crossing_field_name((pm_crossing_field_t)f), PM_CROSSING_FIELD_MAX);
            *out_rc = row_error(r, (pm_crossing_field_t)f, 0, err, PM_ELIMIT);
            return 1;
        }
        int rc = pm_crossing_set_field(c, (pm_crossing_field_t)f, val[f], vlen[f], err);
        if (rc) {
            *out_rc = row_error(r, (pm_crossing_field_t)f, 0, err, rc);
            return 1;
        }
    }
    pm_crossing_field_t bad = PM_CF_NONE;
    int rc = pm_crossing_finish(c, &bad, err);
    *out_rc = rc ? row_error(r, bad, 0, err, rc) : 1;
    return 1;
}

static int jsonl_next(pm_crossing_reader_t *r, pm_crossing_t *c, int64_t *out_cursor,
                      pm_error_t *err)
{
    size_t len = 0;
    int rc = jsonl_line(r, &len, err);
    if (rc <= 0)
        return rc;
    if (jsonl_fast(r, r->rec, r->rec + len, c, out_cursor, err, &rc))
        return rc;
    if (out_cursor)
        *out_cursor = -1;
    json_error_t jerr;
    json_t *obj = json_loadb(r->rec, len, JSON_REJECT_DUPLICATES,
                             &jerr);
    if (!obj) {
        pm_error_set(err, PM_EFORMAT, "row: invalid JSON at column %d: %s", jerr.column,
                     jerr.text);
        /* jansson reports bad UTF-8 as its own error text */
        int code = (strstr(jerr.text, "UTF-8") || strstr(jerr.text, "decode byte")) ? PM_EUTF8 : PM_EFORMAT;
        return row_error(r, PM_CF_NONE, 0, err, code);
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        pm_error_set(err, PM_EFORMAT, "row: want a JSON object");
        return row_error(r, PM_CF_NONE, 0, err, PM_EFORMAT);
    }
    pm_crossing_init(c);
    const char *key;
    json_t *val;
    rc = PM_OK;
    pm_crossing_field_t bad = PM_CF_NONE;
    json_object_foreach(obj, key, val)
    {
        size_t klen = strlen(key);
        if (strcmp(key, "cursor") == 0) {
            if (!json_is_integer(val) || json_integer_value(val) < 0) {
                rc = pm_error_set(err, PM_EVALIDATION, "cursor: want a non-negative integer");
                break;
            }
            if (out_cursor)
                *out_cursor = json_integer_value(val);
            continue;
        }
        pm_crossing_field_t f = pm_crossing_field_from_name(key, klen);
        if (f == PM_CF_NONE) {
            if (klen >= 2 && key[0] == 'x' && key[1] == '_')
                continue;
            rc = pm_error_set(err, PM_EVALIDATION,
                              "row: unknown key '%.64s' (extra keys must start with x_)", key);
            break;
        }
        if (!json_is_string(val)) {
            bad = f;
            rc = pm_error_set(err, PM_EVALIDATION, "%s: want a string value",
                              pm_crossing_field_name(f));
            break;
        }
        size_t vlen = json_string_length(val);
        if (vlen > PM_CROSSING_FIELD_MAX) {
            bad = f;
            rc = pm_error_set(err, PM_ELIMIT, "%s: longer than %d bytes",
                              pm_crossing_field_name(f), PM_CROSSING_FIELD_MAX);
            break;
        }
        const char *s = json_string_value(val);
        if (memchr(s, '\0', vlen)) {
            bad = f;
            rc = pm_error_set(err, PM_EVALIDATION, "%s: contains a NUL character",
                              pm_crossing_field_name(f));
            break;
        }
        rc = pm_crossing_set_field(c, f, s, vlen, err);
        if (rc) {
            bad = f;
            break;
        }
    }
    json_decref(obj);
    if (rc)
        return row_error(r, bad, 0, err, rc);
    rc = pm_crossing_finish(c, &bad, err);
    if (rc)
        return row_error(r, bad, 0, err, rc);
    return 1;
}

int pm_crossing_reader_next(pm_crossing_reader_t *r, pm_crossing_t *out, int64_t *out_cursor,
                            pm_error_t *err)
{
    r->err_field = PM_CF_NONE;
    if (out_cursor)
        *out_cursor = -1;
    if (r->fmt == PM_CROSSING_FORMAT_CSV)
        return csv_next(r, out, err);
    return jsonl_next(r, out, out_cursor, err);
}
