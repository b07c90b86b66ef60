#include "perimeter/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pm_buf_init(pm_buf_t *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

int pm_buf_reserve(pm_buf_t *b, size_t extra)
{
    size_t max = b->max ? b->max : PM_BUF_DEFAULT_MAX;
    if (extra > max || b->len > max - extra)
        return PM_ELIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return PM_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return PM_ENOMEM;
    b->data = p;
    b->cap = cap;
    return PM_OK;
}

int pm_buf_append(pm_buf_t *b, const void *data, size_t n)
{
    int rc = pm_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return PM_OK;
}

int pm_buf_append_str(pm_buf_t *b, const char *s)
{
    return pm_buf_append(b, s, strlen(s));
}

int pm_buf_printf(pm_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return PM_EINVAL;
    int rc = pm_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return PM_OK;
}

void pm_buf_reset(pm_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void pm_buf_free(pm_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

uint8_t *pm_buf_steal(pm_buf_t *b, size_t *out_len)
{
    uint8_t *p = b->data;
    if (out_len)
        *out_len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
