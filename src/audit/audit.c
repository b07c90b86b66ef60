/* The disclosure log: append, chain, verify, report. Format (docs/audit.md):
 * one entry per line, "<hash hex> <canonical JSON body>\n", where the body
 * holds seq, time, kind, partner, purpose, rule, fields, records, txn,
 * probe_sha256 and prev, and hash = SHA-256(prev hash bytes || body bytes). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_internal.h"

static const char *const kinds[] = {"query",   "answer",          "disclosure",
                                    "correction", "purge", "refusal", "probe_destroyed",
                                    "onward_transfer", "review", "subject_access",
                                    "officer_action", "supersede"};

struct pm_audit_log {
    pthread_mutex_t lock;
    int fd;
    unsigned sync_batch;
    unsigned pending;
    int broken; /* a write failed part-way: no more appends until reopened */
    uint64_t count;
    unsigned char head[PM_AUDIT_HASH_BYTES];
    char path[4096];
};

void pm__audit_chain(const unsigned char prev[PM_AUDIT_HASH_BYTES], const char *body, size_t len,
                     unsigned char out[PM_AUDIT_HASH_BYTES])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, prev, PM_AUDIT_HASH_BYTES);
    crypto_hash_sha256_update(&st, (const unsigned char *)body, len);
    crypto_hash_sha256_final(&st, out);
}

void pm_audit_probe_hash(const void *probe, size_t len, unsigned char out[PM_AUDIT_HASH_BYTES])
{
    crypto_hash_sha256(out, probe, len);
}

static int fsync_dir(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int pm__audit_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int pm_audit_open(const char *path, unsigned sync_batch, pm_audit_log_t **out, pm_error_t *err)
{
    if (!path || !out) return pm_error_set(err, PM_EINVAL, "audit: NULL argument");
    *out = NULL;
    if (sodium_init() < 0)
        return pm_error_set(err, PM_EINTERNAL, "audit: libsodium failed to initialise");
    if (strlen(path) >= sizeof((pm_audit_log_t *)0)->path)
        return pm_error_set(err, PM_ELIMIT, "audit: path too long");
    struct stat sb;
    int existed = stat(path, &sb) == 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return pm_error_set(err, PM_EIO, "%s: %s", path, strerror(errno));
    /* One writer per log: a second handle (this process or another) would
     * chain from a stale head and fork the log. The lock goes with the fd. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return pm_error_set(err, PM_EBUSY,
                                "%s: the log is open for writing elsewhere (one writer per log)",
                                path);
        return pm_error_set(err, PM_EIO, "%s: lock: %s", path, strerror(e));
    }
    pm_audit_verify_result_t r;
    size_t good_len = 0;
    int tail = 0;
    uint8_t *data = NULL;
    size_t len = 0;
    memset(&r, 0, sizeof r);
    int rc = pm_file_read(path, PM_AUDIT_FILE_MAX, &data, &len, err);
    if (rc) {
        close(fd);
        return rc;
    }
    if (len) {
        rc = pm__audit_walk(data, len, NULL, NULL, &r, &good_len, &tail);
        if (rc && !tail) {
            free(data);
            close(fd);
            return pm_error_set(err, rc, "%s: %s", path, r.what);
        }
    }
    free(data);
    if (len && tail) {
        /* An incomplete last line was never acknowledged (fsync follows the
         * whole line): cut it off. */
        if (ftruncate(fd, (off_t)good_len) != 0 || fsync(fd) != 0) {
            close(fd);
            return pm_error_set(err, PM_EIO, "%s: cutting an unfinished entry: %s", path,
                                strerror(errno));
        }
    }
    if (!existed && fsync_dir(path) != 0) {
        close(fd);
        return pm_error_set(err, PM_EIO, "%s: fsync of its folder: %s", path, strerror(errno));
    }
    pm_audit_log_t *log = calloc(1, sizeof *log);
    if (!log) {
        close(fd);
        return pm_error_set(err, PM_ENOMEM, "audit: out of memory");
    }
    pthread_mutex_init(&log->lock, NULL);
    log->fd = fd;
    log->sync_batch = sync_batch ? sync_batch : 1;
    log->count = r.entries;
    memcpy(log->head, r.head, sizeof log->head);
    snprintf(log->path, sizeof log->path, "%s", path);
    *out = log;
    return PM_OK;
}

static int sync_locked(pm_audit_log_t *log, pm_error_t *err)
{
    if (log->pending == 0) return PM_OK;
    if (fsync(log->fd) != 0) {
        log->broken = 1;
        return pm_error_set(err, PM_EIO, "%s: fsync: %s", log->path, strerror(errno));
    }
    log->pending = 0;
    return PM_OK;
}

int pm_audit_sync(pm_audit_log_t *log, pm_error_t *err)
{
    if (!log) return pm_error_set(err, PM_EINVAL, "audit: NULL log");
    pthread_mutex_lock(&log->lock);
    int rc = sync_locked(log, err);
    pthread_mutex_unlock(&log->lock);
    return rc;
}

static json_t *bounded_string(const char *s, const char *what, pm_error_t *err)
{
    if (!s) s = "";
    if (strlen(s) > PM_AUDIT_STR_MAX) {
        pm_error_set(err, PM_ELIMIT, "audit: %s longer than %d bytes", what, PM_AUDIT_STR_MAX);
        return NULL;
    }
    json_t *j = json_string(s);
    if (!j) pm_error_set(err, PM_EUTF8, "audit: %s is not valid UTF-8", what);
    return j;
}

static json_t *string_array(const char *const *v, size_t n, size_t max, const char *what,
                            pm_error_t *err)
{
    if (n > max) {
        pm_error_set(err, PM_ELIMIT, "audit: more than %zu %s", max, what);
        return NULL;
    }
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *s = bounded_string(v[i], what, err);
        if (!s) {
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, s);
    }
    return a;
}

static char *make_body(const pm_audit_event_t *ev, uint64_t seq, const unsigned char prev[32],
                       pm_error_t *err)
{
    int known = 0;
    for (size_t i = 0; ev->kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(ev->kind, kinds[i]) == 0) known = 1;
    if (!known) {
        pm_error_set(err, PM_EINVAL, "audit: unknown event kind '%.32s'",
                     ev->kind ? ev->kind : "(null)");
        return NULL;
    }
    char prev_hex[65], probe_hex[65] = "";
    sodium_bin2hex(prev_hex, sizeof prev_hex, prev, 32);
    if (ev->probe_sha256) sodium_bin2hex(probe_hex, sizeof probe_hex, ev->probe_sha256, 32);
    json_t *o = json_object();
    json_t *parts[9] = {
        bounded_string(ev->kind, "kind", err),
        bounded_string(ev->actor, "actor", err),
        bounded_string(ev->partner, "partner", err),
        bounded_string(ev->purpose, "purpose", err),
        bounded_string(ev->rule, "rule", err),
        string_array(ev->fields, ev->n_fields, PM_AUDIT_MAX_FIELDS, "fields", err),
        string_array(ev->record_ids, ev->n_record_ids, PM_AUDIT_MAX_RECORDS, "record ids", err),
        bounded_string(ev->txn, "transaction id", err),
        json_string(probe_hex)};
    static const char *const names[9] = {"kind",   "actor",   "partner", "purpose",     "rule",
                                         "fields", "records", "txn",     "probe_sha256"};
    int ok = o != NULL;
    for (int i = 0; i < 9; i++) {
        if (!parts[i])
            ok = 0;
        else if (ok)
            json_object_set_new(o, names[i], parts[i]);
        else
            json_decref(parts[i]);
    }
    char *s = NULL;
    if (ok) {
        json_object_set_new(o, "seq", json_integer((json_int_t)seq));
        json_object_set_new(o, "time", json_integer((json_int_t)ev->time));
        json_object_set_new(o, "prev", json_string(prev_hex));
        /* detail is written only when given: entries without it keep the
         * original body, so logs written before it existed still verify. */
        if (ev->detail && ev->detail[0]) {
            json_t *d = bounded_string(ev->detail, "detail", err);
            if (!d) {
                json_decref(o);
                return NULL;
            }
            json_object_set_new(o, "detail", d);
        }
        s = json_dumps(o, PM__AUDIT_JSON_FLAGS);
        if (!s) pm_error_set(err, PM_ENOMEM, "audit: out of memory");
    } else if (!o) {
        pm_error_set(err, PM_ENOMEM, "audit: out of memory");
    }
    json_decref(o);
    return s;
}

int pm_audit_append(pm_audit_log_t *log, const pm_audit_event_t *ev, uint64_t *out_seq,
                    pm_error_t *err)
{
    if (!log || !ev) return pm_error_set(err, PM_EINVAL, "audit: NULL argument");
    pthread_mutex_lock(&log->lock);
    int rc = PM_OK;
    char *body = NULL;
    if (log->broken) {
        rc = pm_error_set(err, PM_ESTATE, "%s: an earlier write failed; reopen the log", log->path);
        goto out;
    }
    body = make_body(ev, log->count + 1, log->head, err);
    if (!body) {
        rc = err ? err->code : PM_EINVAL;
        goto out;
    }
    size_t blen = strlen(body);
    if (blen + 66 > PM_AUDIT_LINE_MAX) {
        rc = pm_error_set(err, PM_ELIMIT, "audit: entry larger than %u bytes", PM_AUDIT_LINE_MAX);
        goto out;
    }
    unsigned char h[32];
    pm__audit_chain(log->head, body, blen, h);
    char *line = malloc(blen + 67);
    if (!line) {
        rc = pm_error_set(err, PM_ENOMEM, "audit: out of memory");
        goto out;
    }
    sodium_bin2hex(line, 65, h, 32);
    line[64] = ' ';
    memcpy(line + 65, body, blen);
    line[65 + blen] = '\n';
    if (pm__audit_write_all(log->fd, line, blen + 66) != 0) {
        log->broken = 1;
        rc = pm_error_set(err, PM_EIO, "%s: write: %s", log->path, strerror(errno));
        free(line);
        goto out;
    }
    free(line);
    log->count++;
    memcpy(log->head, h, 32);
    log->pending++;
    if (out_seq) *out_seq = log->count;
    if (log->pending >= log->sync_batch) rc = sync_locked(log, err);
out:
    pthread_mutex_unlock(&log->lock);
    free(body);
    return rc;
}

void pm_audit_head(pm_audit_log_t *log, uint64_t *out_count,
                   unsigned char out_head[PM_AUDIT_HASH_BYTES])
{
    pthread_mutex_lock(&log->lock);
    if (out_count) *out_count = log->count;
    if (out_head) memcpy(out_head, log->head, PM_AUDIT_HASH_BYTES);
    pthread_mutex_unlock(&log->lock);
}

const char *pm_audit_path(pm_audit_log_t *log)
{
    return log ? log->path : "";
}

int pm_audit_close(pm_audit_log_t *log, pm_error_t *err)
{
    if (!log) return PM_OK;
    int rc = log->broken ? PM_OK : sync_locked(log, err);
    close(log->fd);
    pthread_mutex_destroy(&log->lock);
    free(log);
    return rc;
}

int pm_audit_checkpoint(pm_audit_log_t *log, const unsigned char sk[PM_AUDIT_SK_BYTES],
                        int64_t time, pm_audit_checkpoint_t *out, pm_error_t *err)
{
    if (!log || !sk || !out) return pm_error_set(err, PM_EINVAL, "audit: NULL argument");
    pthread_mutex_lock(&log->lock);
    int rc = sync_locked(log, err);
    if (rc == PM_OK) {
        memset(out, 0, sizeof *out);
        out->count = log->count;
        memcpy(out->head, log->head, 32);
        out->time = time;
    }
    pthread_mutex_unlock(&log->lock);
    if (rc) return rc;
    crypto_sign_ed25519_sk_to_pk(out->signer, sk);
    pm__audit_checkpoint_sign(out, sk);
    return PM_OK;
}
