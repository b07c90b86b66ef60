/* Perimeter tmpl module: finger minutiae templates on the wire.
 *
 * Three encodings of one or more finger views (pm_fingerprint_t):
 * - native: Perimeter's compact, versioned, checksummed format (docs/tmpl.md);
 * - ISO/IEC 19794-2:2005 finger minutiae record ("FMR\0", " 20\0", 4-byte length,
 *   angle unit 360/256 degrees);
 * - ANSI INCITS 378-2004 finger minutiae record ("FMR\0", " 20\0", 2- or 6-byte
 *   length, CBEFF product id, angle unit 2 degrees).
 * Readers check every length, count and field range and reject truncated or
 * inconsistent records with a message naming the field and byte offset.
 * Extended data blocks are validated structurally and skipped. */
#ifndef PERIMETER_TMPL_H
#define PERIMETER_TMPL_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/core.h"
#include "perimeter/error.h"
#include "perimeter/minutiae.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pm_tmpl_format {
    PM_TMPL_UNKNOWN = 0,
    PM_TMPL_NATIVE,
    PM_TMPL_ISO,  /* ISO/IEC 19794-2:2005 */
    PM_TMPL_ANSI, /* ANSI INCITS 378-2004 */
} pm_tmpl_format_t;

/* Most finger views accepted in one record (ISO/ANSI allow more in theory). */
#define PM_TMPL_MAX_VIEWS 32

/* Native format version written by pm_tmpl_write (readers accept 1..this). */
#define PM_TMPL_NATIVE_VERSION 1

/* Guesses the encoding from the first bytes and the length fields; never fails
 * (PM_TMPL_UNKNOWN when nothing fits). */
pm_tmpl_format_t pm_tmpl_detect(const uint8_t *data, size_t len);

/* "native", "iso", "ansi" (or "unknown"). */
const char *pm_tmpl_format_name(pm_tmpl_format_t format);
/* Parses a format name as above; PM_TMPL_UNKNOWN if not one of them. */
pm_tmpl_format_t pm_tmpl_format_parse(const char *name);

/* Decodes a record of the given format (PM_TMPL_UNKNOWN: detect it) into a
 * malloc'd array of views that the caller frees with free(). Bytes after the
 * record's own length are ignored (records are often zero-padded).
 * On failure returns PM_ETRUNCATED, PM_EFORMAT, PM_ERANGE, PM_ELIMIT,
 * PM_EUNSUPPORTED or PM_ENOMEM with the field and offset in err; *out_views
 * is then NULL. out_format (may be NULL) receives the format read. */
int pm_tmpl_read(const uint8_t *data, size_t len, pm_tmpl_format_t format,
                 pm_fingerprint_t **out_views, size_t *out_count, pm_tmpl_format_t *out_format,
                 pm_error_t *err);

/* Reads a template file (any format) as pm_tmpl_read; caller frees *out_views. */
int pm_tmpl_read_file(const char *path, pm_fingerprint_t **out_views, size_t *out_count,
                      pm_tmpl_format_t *out_format, pm_error_t *err);

/* Encodes `count` views (1..PM_TMPL_MAX_VIEWS) in `format`, appending to out
 * (caller-owned buffer). Coordinates must fit the format (0..16383, ISO/ANSI
 * 14 bits); angles are rounded to the format's unit. Returns PM_EINVAL or
 * PM_ERANGE for views that cannot be encoded, PM_ENOMEM/PM_ELIMIT from the buffer. */
int pm_tmpl_write(pm_tmpl_format_t format, const pm_fingerprint_t *views, size_t count,
                  pm_buf_t *out, pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
