/* Perimeter core utilities shared by every module: bounded byte buffers,
 * bounded whole-file reads, monotonic time. */
#ifndef PERIMETER_CORE_H
#define PERIMETER_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_VERSION_STRING "0.1.0"

/* A growable byte buffer with a hard maximum. Zero-initialise it
 * (pm_buf_t b = {0}; b.max = N) or call pm_buf_init. */
typedef struct pm_buf {
    uint8_t *data; /* owned; always NUL-terminated when len > 0 or after append */
    size_t len;
    size_t cap;
    size_t max; /* hard limit on len; 0 means PM_BUF_DEFAULT_MAX */
} pm_buf_t;

#define PM_BUF_DEFAULT_MAX ((size_t)1 << 30)

void pm_buf_init(pm_buf_t *b, size_t max);
/* Ensures room for `extra` more bytes (+1 for a NUL). PM_ELIMIT past max. */
int pm_buf_reserve(pm_buf_t *b, size_t extra);
int pm_buf_append(pm_buf_t *b, const void *data, size_t n);
int pm_buf_append_str(pm_buf_t *b, const char *s);
int pm_buf_printf(pm_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pm_buf_reset(pm_buf_t *b); /* len = 0, keeps memory */
void pm_buf_free(pm_buf_t *b);
/* Hands the bytes to the caller (free() them); the buffer is left empty. */
uint8_t *pm_buf_steal(pm_buf_t *b, size_t *out_len);

/* Reads a whole file ("-" = stdin) into a malloc'd buffer (NUL-terminated,
 * caller frees). Refuses files larger than max_bytes with PM_ELIMIT. */
int pm_file_read(const char *path, size_t max_bytes, uint8_t **out_data, size_t *out_len,
                 pm_error_t *err);
/* Writes data to path atomically (temp file, fsync, rename, fsync dir). */
int pm_file_write_atomic(const char *path, const void *data, size_t len, pm_error_t *err);
/* The same, the file created with mode (e.g. 0600 for a private key) from
 * the start: never visible with a wider mode (the umask still applies). */
int pm_file_write_atomic_mode(const char *path, const void *data, size_t len, unsigned mode,
                              pm_error_t *err);

/* Monotonic clock in nanoseconds (for benchmarks and timeouts). */
uint64_t pm_now_ns(void);

/* Median of n doubles (sorts a copy; n may be 0 -> 0.0). */
double pm_median(const double *values, size_t n);

#ifdef __cplusplus
}
#endif
#endif
