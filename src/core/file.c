#include "perimeter/core.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int pm_file_read(const char *path, size_t max_bytes, uint8_t **out_data, size_t *out_len,
                 pm_error_t *err)
{
    *out_data = NULL;
    *out_len = 0;
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pm_error_set(err, errno == ENOENT ? PM_ENOTFOUND : PM_EIO, "%s: %s", path,
                            strerror(errno));
    pm_buf_t b;
    pm_buf_init(&b, max_bytes);
    int rc = PM_OK;
    for (;;) {
        rc = pm_buf_reserve(&b, 65536);
        if (rc == PM_ELIMIT) {
            /* maybe the file ends exactly within the limit: try a smaller read */
            size_t room = max_bytes - b.len;
            if (room == 0) {
                char probe;
                ssize_t n = read(fd, &probe, 1);
                if (n == 0) {
                    rc = PM_OK;
                    break;
                }
                rc = pm_error_set(err, PM_ELIMIT, "%s: larger than the limit of %zu bytes", path,
                                  max_bytes);
                break;
            }
            rc = pm_buf_reserve(&b, room);
            if (rc)
                break;
        } else if (rc) {
            pm_error_set(err, rc, "%s: %s", path, pm_strerror(rc));
            break;
        }
        size_t room = b.cap - b.len - 1;
        if (b.max && room > b.max - b.len)
            room = b.max - b.len;
        ssize_t n = read(fd, b.data + b.len, room);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = pm_error_set(err, PM_EIO, "%s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        b.len += (size_t)n;
        b.data[b.len] = '\0';
    }
    if (fd != STDIN_FILENO)
        close(fd);
    if (rc) {
        pm_buf_free(&b);
        return rc;
    }
    if (!b.data && pm_buf_reserve(&b, 0) != PM_OK)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    b.data[b.len] = '\0';
    *out_data = pm_buf_steal(&b, out_len);
    return PM_OK;
}

int pm_file_write_atomic(const char *path, const void *data, size_t len, pm_error_t *err)
{
    return pm_file_write_atomic_mode(path, data, len, 0644, err);
}

int pm_file_write_atomic_mode(const char *path, const void *data, size_t len, unsigned mode,
                              pm_error_t *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    char *dircopy = strdup(path);
    if (!tmp || !dircopy) {
        free(tmp);
        free(dircopy);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    snprintf(tmp, plen + 16, "%s.tmp%ld", path, (long)getpid());
    int rc = PM_OK;
    /* O_EXCL: a stale temporary (another writer's, or a planted link) is
     * never reused; the file is created with its final mode (a key is never
     * readable by others, not even for an instant) */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (fd < 0) {
        rc = pm_error_set(err, PM_EIO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    const uint8_t *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = pm_error_set(err, PM_EIO, "%s: %s", tmp, strerror(errno));
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    if (!rc && fsync(fd) != 0)
        rc = pm_error_set(err, PM_EIO, "%s: fsync: %s", tmp, strerror(errno));
    close(fd);
    if (!rc && rename(tmp, path) != 0)
        rc = pm_error_set(err, PM_EIO, "%s: rename: %s", path, strerror(errno));
    if (rc) {
        unlink(tmp);
        goto out;
    }
    int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
out:
    free(tmp);
    free(dircopy);
    return rc;
}

uint64_t pm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pm_median(const double *values, size_t n)
{
    if (n == 0)
        return 0.0;
    double *c = malloc(n * sizeof *c);
    if (!c)
        return values[n / 2];
    memcpy(c, values, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_double);
    double m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
    free(c);
    return m;
}
