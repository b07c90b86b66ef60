/* Perimeter: one error-code table for the whole library.
 *
 * Every library function that can fail returns an int: 0 (PM_OK) on success,
 * a negative PM_E* code on failure. Detail for a human goes into a
 * caller-owned pm_error_t (may be NULL), never to stdout or stderr. */
#ifndef PERIMETER_ERROR_H
#define PERIMETER_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, message). Append new codes at the end of their group;
 * values are stable once released. */
#define PM_ERROR_TABLE(X)                                                                          \
    X(OK, 0, "success")                                                                            \
    X(NOMEM, -1, "out of memory")                                                                  \
    X(INVAL, -2, "invalid argument")                                                               \
    X(IO, -3, "input/output error")                                                                \
    X(NOTFOUND, -4, "not found")                                                                   \
    X(EXISTS, -5, "already exists")                                                                \
    X(LIMIT, -6, "size or count limit exceeded")                                                   \
    X(FORMAT, -7, "malformed input")                                                               \
    X(TRUNCATED, -8, "input truncated")                                                            \
    X(UNSUPPORTED, -9, "unsupported feature or format")                                            \
    X(CHECKSUM, -10, "check digit or checksum mismatch")                                           \
    X(UTF8, -11, "invalid UTF-8")                                                                  \
    X(RANGE, -12, "value out of range")                                                            \
    X(DB, -13, "database error")                                                                   \
    X(BUSY, -14, "resource busy")                                                                  \
    X(STATE, -15, "operation not valid in this state")                                             \
    X(CORRUPT, -16, "corrupt data")                                                                \
    X(INTERNAL, -17, "internal error")                                                             \
    X(VALIDATION, -18, "record failed validation")                                                 \
    X(PARTIAL, -19, "some items were rejected")                                                    \
    X(DENIED, -20, "denied by policy")                                                             \
    X(QUOTA, -21, "quota exhausted")                                                               \
    X(TLS, -22, "TLS or certificate error")                                                        \
    X(NET, -23, "network error")                                                                   \
    X(TIMEOUT, -24, "timed out")                                                                   \
    X(NOMATCH, -25, "no match")                                                                    \
    X(EXTRACT, -26, "feature extraction failed")                                                   \
    X(IMAGE, -27, "image decoding or encoding error")                                              \
    X(CANCELLED, -28, "cancelled")

typedef enum pm_errno {
#define PM__ERR_ENUM(name, value, msg) PM_E##name = (value),
    PM_ERROR_TABLE(PM__ERR_ENUM)
#undef PM__ERR_ENUM
} pm_errno_t;

#define PM_OK PM_EOK

/* Short human description of a code; never NULL ("unknown error" if unknown). */
const char *pm_strerror(int code);
/* Symbolic name of a code, e.g. "PM_EFORMAT"; never NULL. */
const char *pm_err_name(int code);

/* Caller-owned error detail. */
#define PM_ERRMSG_MAX 512
typedef struct pm_error {
    int code;
    char msg[PM_ERRMSG_MAX];
} pm_error_t;

/* Records code and a printf-style message into err (if err is not NULL) and
 * returns code, so a failure site reads `return pm_error_set(err, PM_EFORMAT, ...)`. */
int pm_error_set(pm_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepends "prefix: " to an existing message (context as an error travels up). */
int pm_error_prefix(pm_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pm_error_clear(pm_error_t *err);
/* The message if set, else pm_strerror(code). */
const char *pm_error_text(const pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
