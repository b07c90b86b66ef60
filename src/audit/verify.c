/* Reading the chain back: the walk, verification against signed
 * checkpoints, and the auditor's report. */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"

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

int pm__audit_walk(const uint8_t *data, size_t len, pm__audit_entry_fn fn, void *ctx,
                   pm_audit_verify_result_t *r, size_t *out_good_len, int *out_tail)
{
    static const unsigned char zero[32];
    return pm__audit_walk_from(data, len, 1, zero, fn, ctx, r, out_good_len, out_tail, NULL);
}

int pm__audit_walk_from(const uint8_t *data, size_t len, uint64_t first_seq,
                        const unsigned char first_prev[PM_AUDIT_HASH_BYTES],
                        pm__audit_entry_fn fn, void *ctx, pm_audit_verify_result_t *r,
                        size_t *out_good_len, int *out_tail, pm__audit_line_t *line_out)
{
    unsigned char head[32];
    memcpy(head, first_prev, 32);
    uint64_t expect = first_seq;
    size_t pos = 0;
    int rc = PM_OK;
    *out_tail = 0;
    r->entries = first_seq - 1;
    r->bad_seq = 0;
    memcpy(r->head, head, 32);
    while (pos < len) {
        const uint8_t *nl = memchr(data + pos, '\n', len - pos);
        if (!nl) {
            *out_tail = 1;
            rc = bad(r, expect, "entry %llu: unfinished (log cut off inside the entry)",
                     (unsigned long long)expect);
            break;
        }
        size_t end = (size_t)(nl - data), n = end - pos;
        const char *line = (const char *)data + pos;
        unsigned char stored[32], computed[32];
        size_t bl = 0;
        if (n < 66 || n > PM_AUDIT_LINE_MAX || line[64] != ' ' ||
            sodium_hex2bin(stored, 32, line, 64, NULL, &bl, NULL) != 0 || bl != 32) {
            rc = bad(r, expect, "entry %llu: altered (malformed line)", (unsigned long long)expect);
            break;
        }
        const char *body = line + 65;
        size_t blen = n - 65;
        json_t *o = json_loadb(body, blen, JSON_REJECT_DUPLICATES, NULL);
        char *canon = o ? json_dumps(o, PM__AUDIT_JSON_FLAGS) : NULL;
        json_t *seqv = o ? json_object_get(o, "seq") : NULL,
               *prevv = o ? json_object_get(o, "prev") : NULL;
        unsigned char prev[32];
        if (!o || !json_is_object(o) || !canon || strlen(canon) != blen ||
            memcmp(canon, body, blen) != 0 || !json_is_integer(seqv) || !json_is_string(prevv) ||
            json_string_length(prevv) != 64 ||
            sodium_hex2bin(prev, 32, json_string_value(prevv), 64, NULL, &bl, NULL) != 0) {
            rc = bad(r, expect, "entry %llu: altered (body is not a canonical entry)",
                     (unsigned long long)expect);
        } else if ((uint64_t)json_integer_value(seqv) != expect) {
            rc = bad(r, expect,
                     "entry %llu: removed or out of order (its position holds entry %lld)",
                     (unsigned long long)expect, (long long)json_integer_value(seqv));
        } else if (sodium_memcmp(prev, head, 32) != 0) {
            rc = bad(r, expect,
                     "entry %llu: link to the previous entry broken (altered or reordered)",
                     (unsigned long long)expect);
        } else {
            pm__audit_chain(head, body, blen, computed);
            if (sodium_memcmp(computed, stored, 32) != 0)
                rc = bad(r, expect, "entry %llu: altered (hash does not match its content)",
                         (unsigned long long)expect);
        }
        if (rc == PM_OK) {
            memcpy(head, computed, 32);
            if (line_out) {
                line_out->pos = pos;
                line_out->len = n;
            }
            if (fn) rc = fn(ctx, o, expect, head, r);
        }
        free(canon);
        json_decref(o);
        if (rc) break;
        memcpy(r->head, head, 32);
        r->entries = expect;
        expect++;
        pos = end + 1;
    }
    if (out_good_len) *out_good_len = pos;
    return rc;
}

typedef struct verify_ctx {
    const pm_audit_checkpoint_t **cps; /* sorted by count */
    size_t n, next;
    uint64_t last_matched;
    size_t matched;
} verify_ctx_t;

static int check_cp(verify_ctx_t *v, uint64_t seq, const unsigned char head[32],
                    pm_audit_verify_result_t *r)
{
    while (v->next < v->n && v->cps[v->next]->count == seq) {
        if (sodium_memcmp(v->cps[v->next]->head, head, 32) != 0)
            return bad(r, v->last_matched + 1,
                       "entries %llu..%llu differ from the signed checkpoint at count %llu "
                       "(log rewritten): first entry not proven is %llu",
                       (unsigned long long)(v->last_matched + 1), (unsigned long long)seq,
                       (unsigned long long)seq, (unsigned long long)(v->last_matched + 1));
        v->last_matched = seq;
        v->matched++;
        v->next++;
    }
    return PM_OK;
}

static int verify_entry(void *ctx, json_t *body, uint64_t seq, const unsigned char head[32],
                        pm_audit_verify_result_t *r)
{
    (void)body;
    return check_cp(ctx, seq, head, r);
}

static int by_count(const void *a, const void *b)
{
    uint64_t x = (*(const pm_audit_checkpoint_t *const *)a)->count;
    uint64_t y = (*(const pm_audit_checkpoint_t *const *)b)->count;
    return x < y ? -1 : x > y;
}

int pm_audit_verify(const char *path, const pm_audit_checkpoint_t *cps, size_t n_cps,
                    const unsigned char *trusted_pk, pm_audit_verify_result_t *out, pm_error_t *err)
{
    if (!path || !out || (n_cps && !cps))
        return pm_error_set(err, PM_EINVAL, "audit: NULL argument");
    memset(out, 0, sizeof *out);
    if (sodium_init() < 0) return pm_error_set(err, PM_EINTERNAL, "libsodium failed to initialise");
    for (size_t i = 0; i < n_cps; i++) {
        int rc = pm_audit_checkpoint_check(&cps[i], trusted_pk, err);
        if (rc) {
            snprintf(out->what, sizeof out->what, "%s", err ? err->msg : "bad checkpoint");
            return rc;
        }
    }
    verify_ctx_t v = {0};
    v.cps = n_cps ? malloc(n_cps * sizeof *v.cps) : NULL;
    if (n_cps && !v.cps) return pm_error_set(err, PM_ENOMEM, "audit: out of memory");
    v.n = n_cps;
    for (size_t i = 0; i < n_cps; i++)
        v.cps[i] = &cps[i];
    if (n_cps) qsort(v.cps, n_cps, sizeof *v.cps, by_count);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(path, PM_AUDIT_FILE_MAX, &data, &len, err);
    if (rc) {
        free(v.cps);
        return rc;
    }
    unsigned char zero[32] = {0};
    int tail;
    rc = check_cp(&v, 0, zero, out);
    if (rc == PM_OK) rc = pm__audit_walk(data, len, verify_entry, &v, out, NULL, &tail);
    if (rc == PM_OK && v.next < v.n)
        rc = bad(
            out, out->entries + 1,
            "log truncated: a signed checkpoint covers %llu entries, the log has %llu; entry %llu "
            "onward removed",
            (unsigned long long)v.cps[v.n - 1]->count, (unsigned long long)out->entries,
            (unsigned long long)(out->entries + 1));
    out->checkpoints_matched = v.matched;
    free(v.cps);
    free(data);
    if (rc) return pm_error_set(err, rc, "%s: %s", path, out->what);
    return PM_OK;
}

typedef struct read_ctx {
    pm_audit_entry_fn fn;
    void *ctx;
    int stop;
} read_ctx_t;

static const char *str_of(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static int read_entry(void *ctx, json_t *body, uint64_t seq, const unsigned char head[32],
                      pm_audit_verify_result_t *r)
{
    (void)head, (void)r;
    read_ctx_t *c = ctx;
    int rc = pm__audit_entry_call(body, seq, c->fn, c->ctx);
    if (rc) c->stop = rc;
    return rc;
}

int pm__audit_entry_call(json_t *body, uint64_t seq, pm_audit_entry_fn fn, void *ctx)
{
    pm_audit_entry_t e;
    memset(&e, 0, sizeof e);
    e.seq = seq;
    e.time = (int64_t)json_integer_value(json_object_get(body, "time"));
    e.kind = str_of(body, "kind");
    e.actor = str_of(body, "actor");
    e.partner = str_of(body, "partner");
    e.purpose = str_of(body, "purpose");
    e.rule = str_of(body, "rule");
    e.txn = str_of(body, "txn");
    e.detail = str_of(body, "detail");
    json_t *f = json_object_get(body, "fields"), *recs = json_object_get(body, "records");
    for (size_t i = 0; i < json_array_size(f) && e.n_fields < PM_AUDIT_MAX_FIELDS; i++)
        if (json_is_string(json_array_get(f, i)))
            e.fields[e.n_fields++] = json_string_value(json_array_get(f, i));
    size_t nr = json_array_size(recs);
    const char **ids = nr ? malloc(nr * sizeof *ids) : NULL;
    if (nr && !ids) return PM_ENOMEM;
    for (size_t i = 0; i < nr; i++)
        if (json_is_string(json_array_get(recs, i)))
            ids[e.n_record_ids++] = json_string_value(json_array_get(recs, i));
    e.record_ids = ids;
    int rc = fn(ctx, &e);
    free(ids);
    return rc;
}

int pm_audit_read(const char *path, pm_audit_entry_fn fn, void *ctx, pm_error_t *err)
{
    if (!path || !fn) return pm_error_set(err, PM_EINVAL, "audit: NULL argument");
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(path, PM_AUDIT_FILE_MAX, &data, &len, err);
    if (rc) return rc;
    read_ctx_t c = {fn, ctx, 0};
    pm_audit_verify_result_t r;
    int tail = 0;
    rc = pm__audit_walk(data, len, read_entry, &c, &r, NULL, &tail);
    free(data);
    if (c.stop) return c.stop;
    if (rc == PM_ENOMEM) return pm_error_set(err, rc, "audit: out of memory");
    if (rc && !tail) return pm_error_set(err, rc, "%s: %s", path, r.what);
    return PM_OK;
}

typedef struct find_ctx {
    const char *kind, *txn;
    uint64_t seq;
} find_ctx_t;

static int find_entry(void *ctx, const pm_audit_entry_t *e)
{
    find_ctx_t *f = ctx;
    if (strcmp(e->kind, f->kind) == 0 && strcmp(e->txn, f->txn) == 0) {
        f->seq = e->seq;
        return 1;
    }
    return 0;
}

int pm_audit_find_txn(const char *path, const char *kind, const char *txn, uint64_t *out_seq,
                      pm_error_t *err)
{
    if (!path || !kind || !txn || !out_seq)
        return pm_error_set(err, PM_EINVAL, "audit: NULL argument");
    *out_seq = 0;
    find_ctx_t f = {kind, txn, 0};
    int rc = pm_audit_read(path, find_entry, &f, err);
    if (rc == PM_ENOTFOUND) return PM_OK;
    if (rc < 0) return rc;
    *out_seq = f.seq;
    return PM_OK;
}

typedef struct report_ctx {
    json_t *by_kind, *per_purpose, *per_rule, *per_partner;
} report_ctx_t;

static void bump(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    json_object_set_new(o, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

static int report_entry(void *ctx, json_t *body, uint64_t seq, const unsigned char head[32],
                        pm_audit_verify_result_t *r)
{
    (void)seq, (void)head, (void)r;
    report_ctx_t *c = ctx;
    const char *kind = json_string_value(json_object_get(body, "kind"));
    const char *purpose = json_string_value(json_object_get(body, "purpose"));
    const char *rule = json_string_value(json_object_get(body, "rule"));
    const char *partner = json_string_value(json_object_get(body, "partner"));
    if (!kind || !purpose || !rule || !partner)
        return bad(r, seq, "entry %llu: missing kind, purpose, rule or partner",
                   (unsigned long long)seq);
    bump(c->by_kind, kind);
    if (strcmp(kind, "disclosure") == 0) bump(c->per_purpose, purpose);
    if (strcmp(kind, "refusal") == 0) bump(c->per_rule, rule);
    if (strcmp(kind, "query") == 0) bump(c->per_partner, partner);
    return PM_OK;
}

int pm_audit_report(const char *path, pm_buf_t *out, pm_error_t *err)
{
    if (!path || !out) return pm_error_set(err, PM_EINVAL, "audit: NULL argument");
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(path, PM_AUDIT_FILE_MAX, &data, &len, err);
    if (rc) return rc;
    report_ctx_t c = {json_object(), json_object(), json_object(), json_object()};
    pm_audit_verify_result_t r;
    int tail;
    int wrc = pm__audit_walk(data, len, report_entry, &c, &r, NULL, &tail);
    free(data);
    json_t *o = json_object();
    json_object_set_new(o, "intact", json_boolean(wrc == PM_OK));
    if (wrc) json_object_set_new(o, "finding", json_string(r.what));
    json_object_set_new(o, "entries", json_integer((json_int_t)r.entries));
    json_object_set_new(o, "by_kind", c.by_kind);
    json_object_set_new(o, "disclosures_per_purpose", c.per_purpose);
    json_object_set_new(o, "refusals_per_rule", c.per_rule);
    json_object_set_new(o, "queries_per_partner", c.per_partner);
    char *s = json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2));
    json_decref(o);
    if (!s) return pm_error_set(err, PM_ENOMEM, "audit: out of memory");
    rc = pm_buf_append_str(out, s);
    free(s);
    if (rc == PM_OK) rc = pm_buf_append_str(out, "\n");
    return rc ? pm_error_set(err, rc, "audit: report too large") : PM_OK;
}
