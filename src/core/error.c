#include "perimeter/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *pm_strerror(int code)
{
    switch (code) {
#define PM__ERR_STR(name, value, msg)                                                              \
    case (value):                                                                                  \
        return msg;
        PM_ERROR_TABLE(PM__ERR_STR)
#undef PM__ERR_STR
    }
    return "unknown error";
}

const char *pm_err_name(int code)
{
    switch (code) {
#define PM__ERR_NAME(name, value, msg)                                                             \
    case (value):                                                                                  \
        return "PM_E" #name;
        PM_ERROR_TABLE(PM__ERR_NAME)
#undef PM__ERR_NAME
    }
    return "PM_E?";
}

int pm_error_set(pm_error_t *err, int code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int pm_error_prefix(pm_error_t *err, const char *fmt, ...)
{
    if (!err)
        return 0;
    char prefix[PM_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[PM_ERRMSG_MAX];
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old[0] ? old : pm_strerror(err->code));
    return err->code;
}

void pm_error_clear(pm_error_t *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

const char *pm_error_text(const pm_error_t *err)
{
    if (!err)
        return "unknown error";
    return err->msg[0] ? err->msg : pm_strerror(err->code);
}
