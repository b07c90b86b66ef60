/* Name normalisation (a first, simple form; link does the rich one):
 * NFKC, case fold, combining marks stripped, whitespace collapsed. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "perimeter/travel.h"

/* Copies s collapsing whitespace runs to one space and trimming both ends;
 * lower-cases ASCII when fold is set. Returns the length or -1 if it does not fit. */
static long collapse(const char *s, size_t len, int fold, char *out, size_t out_cap)
{
    size_t n = 0;
    int pending_space = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f') {
            pending_space = n > 0;
            continue;
        }
        if (pending_space) {
            if (n + 1 >= out_cap)
                return -1;
            out[n++] = ' ';
            pending_space = 0;
        }
        if (n + 1 >= out_cap)
            return -1;
        out[n++] = (char)(fold && ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    out[n] = '\0';
    return (long)n;
}

int pm_name_normalize(const char *s, size_t len, char *out, size_t out_cap, pm_error_t *err)
{
    if (out_cap == 0)
        return pm_error_set(err, PM_EINVAL, "name: no room for output");
    int ascii = 1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80) {
            ascii = 0;
            break;
        }
    if (ascii) {
        /* Fast path: for ASCII, NFKC + case fold is lower-casing. */
        if (collapse(s, len, 1, out, out_cap) < 0)
            return pm_error_set(err, PM_ELIMIT, "name: normalised form longer than %zu bytes",
                                out_cap - 1);
        return PM_OK;
    }
    utf8proc_uint8_t *mapped = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &mapped,
                                      UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
                                          UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |
                                          UTF8PROC_LUMP);
    if (n < 0) {
        free(mapped);
        return pm_error_set(err, n == UTF8PROC_ERROR_NOMEM ? PM_ENOMEM : PM_EUTF8, "name: %s",
                            utf8proc_errmsg(n));
    }
    long m = collapse((const char *)mapped, (size_t)n, 0, out, out_cap);
    free(mapped);
    if (m < 0)
        return pm_error_set(err, PM_ELIMIT, "name: normalised form longer than %zu bytes",
                            out_cap - 1);
    return PM_OK;
}
