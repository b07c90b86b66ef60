/* An index of a disclosure log on disk, kept by a reader between reads
 * (docs/audit.md "Index"): the chain verified up to entry n with head h,
 * extended by walking only the bytes appended since, and per entry its
 * offset, length, hash and the fields a reader filters on, so that one page
 * of entries is read by offset instead of reading the whole file. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_internal.h"

#define NO_STR UINT32_MAX

typedef struct {
    uint64_t off;  /* first byte of the line */
    uint32_t len;  /* line length without its '\n' */
    uint32_t kind, purpose, rule, partner; /* interned strings */
    int64_t time;
    unsigned char hash[PM_AUDIT_HASH_BYTES];
} ix_entry_t;

struct pm_audit_index {
    pthread_mutex_t mu;
    char *path;
    dev_t dev;
    ino_t ino;
    uint64_t size_seen; /* the file's size and modification time at the last update */
    struct timespec mtime_seen;
    ix_entry_t *e; /* entries 1..n at e[0..n) */
    size_t n, cap;
    uint64_t good_len; /* bytes of the verified prefix */
    /* the tail after the verified prefix: its fault, if any (re-walked on
     * every update: a damaged entry stays reported until the file changes) */
    int walk_rc;
    pm_audit_verify_result_t walk;
    /* interned strings: ids index str; slots is an open-addressing table of id + 1 */
    char **str;
    size_t nstr, strcap;
    uint32_t *slots;
    size_t nslots;
    /* checkpoints whose signatures were checked (as given, in order) */
    pm_audit_checkpoint_t *cps_ok;
    size_t ncps_ok;
    unsigned char cps_ok_pk_v[PM_AUDIT_PK_BYTES]; /* the key they were checked with */
    int cps_ok_has_pk;
};

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int intern_grow(pm_audit_index_t *ix)
{
    size_t ns = ix->nslots ? ix->nslots * 2 : 64;
    uint32_t *sl = calloc(ns, sizeof *sl);
    if (!sl)
        return PM_ENOMEM;
    for (size_t id = 0; id < ix->nstr; id++) {
        size_t k = fnv(ix->str[id]) & (ns - 1);
        while (sl[k])
            k = (k + 1) & (ns - 1);
        sl[k] = (uint32_t)id + 1;
    }
    free(ix->slots);
    ix->slots = sl;
    ix->nslots = ns;
    return PM_OK;
}

/* The id of s, NO_STR when absent (add: interned then). */
static int intern(pm_audit_index_t *ix, const char *s, int add, uint32_t *out)
{
    *out = NO_STR;
    if (!ix->nslots) {
        if (!add)
            return PM_OK;
        if (intern_grow(ix))
            return PM_ENOMEM;
    }
    size_t k = fnv(s) & (ix->nslots - 1);
    for (; ix->slots[k]; k = (k + 1) & (ix->nslots - 1))
        if (strcmp(ix->str[ix->slots[k] - 1], s) == 0) {
            *out = ix->slots[k] - 1;
            return PM_OK;
        }
    if (!add)
        return PM_OK;
    if (ix->nstr >= UINT32_MAX - 1)
        return PM_ELIMIT;
    if (ix->nstr == ix->strcap) {
        size_t c = ix->strcap ? ix->strcap * 2 : 32;
        char **v = realloc(ix->str, c * sizeof *v);
        if (!v)
            return PM_ENOMEM;
        ix->str = v;
        ix->strcap = c;
    }
    char *d = strdup(s);
    if (!d)
        return PM_ENOMEM;
    uint32_t id = (uint32_t)ix->nstr;
    ix->str[ix->nstr++] = d;
    ix->slots[k] = id + 1;
    if (ix->nstr * 2 > ix->nslots && intern_grow(ix))
        return PM_ENOMEM;
    *out = id;
    return PM_OK;
}

static void reset(pm_audit_index_t *ix)
{
    ix->n = 0;
    ix->good_len = 0;
    ix->walk_rc = PM_OK;
    memset(&ix->walk, 0, sizeof ix->walk);
    ix->dev = 0;
    ix->ino = 0;
    ix->size_seen = 0;
    memset(&ix->mtime_seen, 0, sizeof ix->mtime_seen);
}

int pm_audit_index_new(const char *path, pm_audit_index_t **out, pm_error_t *err)
{
    if (!path || !out)
        return pm_error_set(err, PM_EINVAL, "audit index: NULL argument");
    *out = NULL;
    pm_audit_index_t *ix = calloc(1, sizeof *ix);
    if (!ix || !(ix->path = strdup(path))) {
        free(ix);
        return pm_error_set(err, PM_ENOMEM, "audit index: out of memory");
    }
    if (pthread_mutex_init(&ix->mu, NULL)) {
        free(ix->path);
        free(ix);
        return pm_error_set(err, PM_EINTERNAL, "audit index: mutex");
    }
    *out = ix;
    return PM_OK;
}

void pm_audit_index_free(pm_audit_index_t *ix)
{
    if (!ix)
        return;
    pthread_mutex_destroy(&ix->mu);
    for (size_t i = 0; i < ix->nstr; i++)
        free(ix->str[i]);
    free(ix->str);
    free(ix->slots);
    free(ix->e);
    free(ix->cps_ok);
    free(ix->path);
    free(ix);
}

typedef struct {
    pm_audit_index_t *ix;
    pm__audit_line_t line;
    uint64_t base; /* file offset of data[0] */
} add_ctx_t;

static const char *str_of(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static int add_entry(void *ctx, json_t *body, uint64_t seq, const unsigned char head[32],
                     pm_audit_verify_result_t *r)
{
    (void)seq, (void)r;
    add_ctx_t *a = ctx;
    pm_audit_index_t *ix = a->ix;
    if (ix->n == ix->cap) {
        size_t c = ix->cap ? ix->cap * 2 : 1024;
        ix_entry_t *v = realloc(ix->e, c * sizeof *v);
        if (!v)
            return PM_ENOMEM;
        ix->e = v;
        ix->cap = c;
    }
    ix_entry_t *e = &ix->e[ix->n];
    e->off = a->base + a->line.pos;
    e->len = (uint32_t)a->line.len;
    e->time = (int64_t)json_integer_value(json_object_get(body, "time"));
    int rc;
    if ((rc = intern(ix, str_of(body, "kind"), 1, &e->kind)) ||
        (rc = intern(ix, str_of(body, "purpose"), 1, &e->purpose)) ||
        (rc = intern(ix, str_of(body, "rule"), 1, &e->rule)) ||
        (rc = intern(ix, str_of(body, "partner"), 1, &e->partner)))
        return rc;
    memcpy(e->hash, head, PM_AUDIT_HASH_BYTES);
    ix->n++;
    return PM_OK;
}

static int read_at(int fd, uint64_t off, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t k = pread(fd, buf + got, len - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    return 0;
}

/* Does the line of the last indexed entry still hold its hash? (the prefix
 * the index stands for was not rewritten: its head is where it was) */
static int last_still_there(pm_audit_index_t *ix, int fd)
{
    if (ix->n == 0)
        return 1;
    const ix_entry_t *e = &ix->e[ix->n - 1];
    uint8_t line[65];
    char hex[2 * PM_AUDIT_HASH_BYTES + 1];
    uint8_t nl;
    if (read_at(fd, e->off, line, 65) || read_at(fd, e->off + e->len, &nl, 1) || nl != '\n' ||
        line[64] != ' ')
        return 0;
    sodium_bin2hex(hex, sizeof hex, e->hash, PM_AUDIT_HASH_BYTES);
    return memcmp(hex, line, 64) == 0;
}

/* Walks the bytes appended after the verified prefix. */
static int extend(pm_audit_index_t *ix, int fd, uint64_t size, pm_error_t *err)
{
    ix->walk_rc = PM_OK;
    memset(&ix->walk, 0, sizeof ix->walk);
    if (size <= ix->good_len)
        return PM_OK;
    if (size - ix->good_len > PM_AUDIT_FILE_MAX)
        return pm_error_set(err, PM_ELIMIT, "%s: too large", ix->path);
    size_t len = (size_t)(size - ix->good_len);
    uint8_t *data = malloc(len);
    if (!data)
        return pm_error_set(err, PM_ENOMEM, "audit index: out of memory");
    if (read_at(fd, ix->good_len, data, len)) {
        free(data);
        return pm_error_set(err, PM_EIO, "%s: read failed", ix->path);
    }
    static const unsigned char zero[PM_AUDIT_HASH_BYTES];
    add_ctx_t a = {ix, {0, 0}, ix->good_len};
    size_t good = 0;
    int tail = 0;
    int rc = pm__audit_walk_from(data, len, ix->n + 1, ix->n ? ix->e[ix->n - 1].hash : zero,
                                 add_entry, &a, &ix->walk, &good, &tail, &a.line);
    free(data);
    ix->good_len += good;
    if (rc == PM_ENOMEM || rc == PM_ELIMIT)
        return pm_error_set(err, rc, "audit index: out of memory");
    ix->walk_rc = rc;
    return PM_OK;
}

__attribute__((format(printf, 3, 4))) static int bad(pm_audit_verify_result_t *r, uint64_t seq,
                                                     const char *fmt, ...)
{
    r->bad_seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->what, sizeof r->what, fmt, ap);
    va_end(ap);
    return PM_ECORRUPT;
}

static int by_count(const void *a, const void *b)
{
    uint64_t x = (*(const pm_audit_checkpoint_t *const *)a)->count;
    uint64_t y = (*(const pm_audit_checkpoint_t *const *)b)->count;
    return x < y ? -1 : x > y;
}

/* The checkpoints' signatures: those given exactly as last time with the
 * same key were checked then. */
static int check_signatures(pm_audit_index_t *ix, const pm_audit_checkpoint_t *cps, size_t n,
                            const unsigned char *pk, pm_audit_verify_result_t *out,
                            pm_error_t *err)
{
    int same_key = (pk != NULL) == ix->cps_ok_has_pk &&
                   (!pk || memcmp(pk, ix->cps_ok_pk_v, PM_AUDIT_PK_BYTES) == 0);
    size_t from = 0;
    if (same_key)
        while (from < n && from < ix->ncps_ok && memcmp(&cps[from], &ix->cps_ok[from], sizeof *cps) == 0)
            from++;
    for (size_t i = from; i < n; i++) {
        int rc = pm_audit_checkpoint_check(&cps[i], pk, err);
        if (rc) {
            snprintf(out->what, sizeof out->what, "%s", err ? err->msg : "bad checkpoint");
            return rc;
        }
    }
    if (from < n || n != ix->ncps_ok || !same_key) {
        pm_audit_checkpoint_t *c = n ? malloc(n * sizeof *c) : NULL;
        if (n && !c)
            return pm_error_set(err, PM_ENOMEM, "audit index: out of memory");
        if (n)
            memcpy(c, cps, n * sizeof *c);
        free(ix->cps_ok);
        ix->cps_ok = c;
        ix->ncps_ok = n;
        ix->cps_ok_has_pk = pk != NULL;
        if (pk)
            memcpy(ix->cps_ok_pk_v, pk, PM_AUDIT_PK_BYTES);
    }
    return PM_OK;
}

/* The verification result from the index, as pm_audit_verify gives it. */
static int status(pm_audit_index_t *ix, const pm_audit_checkpoint_t *cps, size_t n_cps,
                  pm_audit_verify_result_t *out)
{
    out->entries = ix->n;
    if (ix->n)
        memcpy(out->head, ix->e[ix->n - 1].hash, PM_AUDIT_HASH_BYTES);
    const pm_audit_checkpoint_t **v = n_cps ? malloc(n_cps * sizeof *v) : NULL;
    if (n_cps && !v)
        return PM_ENOMEM;
    for (size_t i = 0; i < n_cps; i++)
        v[i] = &cps[i];
    if (n_cps)
        qsort(v, n_cps, sizeof *v, by_count);
    static const unsigned char zero[PM_AUDIT_HASH_BYTES];
    uint64_t last_matched = 0;
    size_t i = 0;
    int rc = PM_OK;
    for (; i < n_cps && v[i]->count <= ix->n; i++) {
        uint64_t c = v[i]->count;
        const unsigned char *h = c ? ix->e[c - 1].hash : zero;
        if (sodium_memcmp(v[i]->head, h, PM_AUDIT_HASH_BYTES) != 0) {
            /* as the walk of pm_audit_verify: it stops before entry c */
            out->entries = c ? c - 1 : 0;
            memcpy(out->head, c > 1 ? ix->e[c - 2].hash : zero, PM_AUDIT_HASH_BYTES);
            rc = bad(out, last_matched + 1,
                     "entries %llu..%llu differ from the signed checkpoint at count %llu "
                     "(log rewritten): first entry not proven is %llu",
                     (unsigned long long)(last_matched + 1), (unsigned long long)c,
                     (unsigned long long)c, (unsigned long long)(last_matched + 1));
            break;
        }
        last_matched = c;
        out->checkpoints_matched++;
    }
    if (rc == PM_OK && ix->walk_rc) {
        rc = ix->walk_rc;
        out->bad_seq = ix->walk.bad_seq;
        memcpy(out->what, ix->walk.what, sizeof out->what);
    } else if (rc == PM_OK && i < n_cps) {
        rc = bad(out, ix->n + 1,
                 "log truncated: a signed checkpoint covers %llu entries, the log has %llu; "
                 "entry %llu onward removed",
                 (unsigned long long)v[n_cps - 1]->count, (unsigned long long)ix->n,
                 (unsigned long long)(ix->n + 1));
    }
    free(v);
    return rc;
}

static int update_locked(pm_audit_index_t *ix, const pm_audit_checkpoint_t *cps, size_t n_cps,
                         const unsigned char *trusted_pk, pm_audit_verify_result_t *out,
                         pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_signatures(ix, cps, n_cps, trusted_pk, out, err);
    if (rc)
        return rc;
    int fd = open(ix->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pm_error_set(err, errno == ENOENT ? PM_ENOTFOUND : PM_EIO, "%s: %s", ix->path,
                            strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return pm_error_set(err, PM_EIO, "%s: %s", ix->path, strerror(errno));
    }
    /* another file, a shorter one, one written to without growing, or the
     * head entry no longer where it was: verify from the start */
    uint64_t size = (uint64_t)st.st_size;
    if (st.st_dev != ix->dev || st.st_ino != ix->ino || size < ix->good_len ||
        size < ix->size_seen ||
        (size == ix->size_seen && (st.st_mtim.tv_sec != ix->mtime_seen.tv_sec ||
                                   st.st_mtim.tv_nsec != ix->mtime_seen.tv_nsec)) ||
        !last_still_there(ix, fd))
        reset(ix);
    ix->dev = st.st_dev;
    ix->ino = st.st_ino;
    ix->size_seen = size;
    ix->mtime_seen = st.st_mtim;
    rc = extend(ix, fd, size, err);
    close(fd);
    if (rc)
        return rc;
    rc = status(ix, cps, n_cps, out);
    if (rc == PM_ENOMEM)
        return pm_error_set(err, rc, "audit index: out of memory");
    if (rc)
        return pm_error_set(err, rc, "%s: %s", ix->path, out->what);
    return PM_OK;
}

int pm_audit_index_update(pm_audit_index_t *ix, const pm_audit_checkpoint_t *cps, size_t n_cps,
                          const unsigned char *trusted_pk, pm_audit_verify_result_t *out,
                          pm_error_t *err)
{
    if (!ix || !out || (n_cps && !cps))
        return pm_error_set(err, PM_EINVAL, "audit index: NULL argument");
    if (sodium_init() < 0)
        return pm_error_set(err, PM_EINTERNAL, "libsodium failed to initialise");
    pthread_mutex_lock(&ix->mu);
    int rc = update_locked(ix, cps, n_cps, trusted_pk, out, err);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

static int want(pm_audit_index_t *ix, const char *s, uint32_t *id)
{
    if (!s || !*s) {
        *id = NO_STR; /* any */
        return 1;
    }
    intern(ix, s, 0, id);
    return *id != NO_STR; /* a value never logged matches nothing */
}

/* Reads entry i (0-based) by its offset and checks it is still the entry
 * verified: its hash over the previous entry's and its body. */
static int read_one(pm_audit_index_t *ix, int fd, size_t i, uint8_t **buf, size_t *cap,
                    pm_audit_entry_fn fn, void *ctx, pm_error_t *err)
{
    const ix_entry_t *e = &ix->e[i];
    if (*cap < (size_t)e->len + 1) {
        uint8_t *b = realloc(*buf, (size_t)e->len + 1);
        if (!b)
            return pm_error_set(err, PM_ENOMEM, "audit index: out of memory");
        *buf = b;
        *cap = (size_t)e->len + 1;
    }
    static const unsigned char zero[PM_AUDIT_HASH_BYTES];
    unsigned char h[PM_AUDIT_HASH_BYTES];
    uint8_t *line = *buf;
    if (read_at(fd, e->off, line, (size_t)e->len + 1) || line[e->len] != '\n' || e->len < 66)
        return PM_ECORRUPT;
    pm__audit_chain(i ? ix->e[i - 1].hash : zero, (const char *)line + 65, e->len - 65, h);
    if (sodium_memcmp(h, e->hash, PM_AUDIT_HASH_BYTES) != 0)
        return PM_ECORRUPT;
    json_t *o = json_loadb((const char *)line + 65, e->len - 65, 0, NULL);
    if (!o)
        return PM_ECORRUPT;
    int rc = pm__audit_entry_call(o, i + 1, fn, ctx);
    json_decref(o);
    return rc;
}

static int page_locked(pm_audit_index_t *ix, const pm_audit_filter_t *f, size_t offset,
                       size_t limit, pm_audit_entry_fn fn, void *ctx, uint64_t *out_total,
                       pm_error_t *err)
{
    uint32_t kind, purpose, rule, partner;
    int any = want(ix, f ? f->kind : NULL, &kind) & want(ix, f ? f->purpose : NULL, &purpose) &
              want(ix, f ? f->rule : NULL, &rule) & want(ix, f ? f->partner : NULL, &partner);
    int64_t from = f ? f->from : 0, to = f ? f->to : 0;
    size_t *pick = limit ? malloc(limit * sizeof *pick) : NULL;
    if (limit && !pick)
        return pm_error_set(err, PM_ENOMEM, "audit index: out of memory");
    size_t npick = 0;
    uint64_t total = 0;
    for (size_t i = ix->n; any && i-- > 0;) { /* newest first */
        const ix_entry_t *e = &ix->e[i];
        if ((kind != NO_STR && e->kind != kind) || (purpose != NO_STR && e->purpose != purpose) ||
            (rule != NO_STR && e->rule != rule) || (partner != NO_STR && e->partner != partner) ||
            (from && e->time < from) || (to && e->time > to))
            continue;
        if (total >= offset && npick < limit)
            pick[npick++] = i;
        total++;
    }
    int rc = PM_OK;
    if (npick) {
        int fd = open(ix->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            free(pick);
            return pm_error_set(err, PM_EIO, "%s: %s", ix->path, strerror(errno));
        }
        uint8_t *buf = NULL;
        size_t cap = 0;
        for (size_t k = 0; k < npick && !rc; k++)
            rc = read_one(ix, fd, pick[k], &buf, &cap, fn, ctx, err);
        free(buf);
        close(fd);
    }
    free(pick);
    if (out_total)
        *out_total = total;
    return rc;
}

int pm_audit_index_page(pm_audit_index_t *ix, const pm_audit_filter_t *f, size_t offset,
                        size_t limit, pm_audit_entry_fn fn, void *ctx, uint64_t *out_total,
                        pm_error_t *err)
{
    if (!ix || !fn)
        return pm_error_set(err, PM_EINVAL, "audit index: NULL argument");
    pthread_mutex_lock(&ix->mu);
    int rc = page_locked(ix, f, offset, limit, fn, ctx, out_total, err);
    if (rc == PM_ECORRUPT) {
        /* an entry changed on disk since it was verified: forget the index
         * (the next update verifies from the start and names it) */
        reset(ix);
        rc = pm_error_set(err, PM_ECORRUPT,
                          "%s: an entry changed since it was verified; verify again", ix->path);
    }
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

uint64_t pm_audit_index_entries(pm_audit_index_t *ix)
{
    if (!ix)
        return 0;
    pthread_mutex_lock(&ix->mu);
    uint64_t n = ix->n;
    pthread_mutex_unlock(&ix->mu);
    return n;
}
