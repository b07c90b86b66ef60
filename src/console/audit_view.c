/* The console's audit view: the disclosure log filtered and paged (newest
 * first), the chain verified against our own signed checkpoints, and each
 * partner's last signed checkpoint of its log. */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "console/console_impl.h"
#include "perimeter/audit.h"

typedef struct {
    const pm_console_audit_query_t *q;
    size_t total;
    /* a ring of the newest offset+limit matches: the page is its oldest `limit` */
    json_t **ring;
    size_t cap, next;
} scan_t;

static int eq_or_any(const char *want, const char *have)
{
    return !want || !*want || strcmp(want, have) == 0;
}

static int on_entry(void *ctx, const pm_audit_entry_t *e)
{
    scan_t *s = ctx;
    const pm_console_audit_query_t *q = s->q;
    if (!eq_or_any(q->kind, e->kind) || !eq_or_any(q->purpose, e->purpose) ||
        !eq_or_any(q->rule, e->rule) || !eq_or_any(q->partner, e->partner) ||
        (q->from && e->time < q->from) || (q->to && e->time > q->to))
        return 0;
    s->total++;
    json_t *f = json_array(), *r = json_array();
    for (size_t i = 0; i < e->n_fields; i++)
        json_array_append_new(f, json_string(e->fields[i]));
    for (size_t i = 0; i < e->n_record_ids && i < 50; i++)
        json_array_append_new(r, json_string(e->record_ids[i]));
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:s}", "seq",
                          (json_int_t)e->seq, "time", (json_int_t)e->time, "kind", e->kind,
                          "actor", e->actor, "partner", e->partner, "purpose", e->purpose, "rule",
                          e->rule, "txn", e->txn, "fields", f, "records", r, "n_records",
                          (json_int_t)e->n_record_ids, "detail", e->detail);
    if (!o)
        return PM_ENOMEM;
    json_decref(s->ring[s->next]);
    s->ring[s->next] = o;
    s->next = (s->next + 1) % s->cap;
    return 0;
}

static int append_json(pm_buf_t *out, json_t *o, pm_error_t *err)
{
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!t)
        return pm_error_set(err, PM_ENOMEM, "console: out of memory");
    int rc = pm_buf_append_str(out, t);
    free(t);
    return rc ? pm_error_set(err, rc, "console: answer too large") : PM_OK;
}

static json_t *partner_json(const pm_console_partner_log_t *p)
{
    json_t *o = json_pack("{s:s, s:s, s:n}", "code", p->code ? p->code : "", "checkpoints",
                          p->checkpoints ? p->checkpoints : "", "last");
    pm_audit_checkpoint_t *cps = NULL;
    size_t n = 0;
    pm_error_t e;
    pm_error_clear(&e);
    struct stat st;
    if (!p->checkpoints || stat(p->checkpoints, &st) != 0)
        return o; /* none received yet */
    if (pm_audit_checkpoints_load(p->checkpoints, &cps, &n, &e) || n == 0) {
        json_object_set_new(o, "error", json_string(n ? e.msg : "no checkpoint"));
        free(cps);
        return o;
    }
    const pm_audit_checkpoint_t *last = &cps[n - 1];
    unsigned char pk[32];
    int have_pk = p->audit_pub && strlen(p->audit_pub) == 64 &&
                  sodium_hex2bin(pk, sizeof pk, p->audit_pub, 64, NULL, NULL, NULL) == 0;
    pm_error_t ce;
    pm_error_clear(&ce);
    int ok = have_pk && pm_audit_checkpoint_check(last, pk, &ce) == PM_OK;
    char head[2 * PM_AUDIT_HASH_BYTES + 1];
    sodium_bin2hex(head, sizeof head, last->head, sizeof last->head);
    json_object_set_new(o, "last",
                        json_pack("{s:I, s:I, s:s, s:s, s:I}", "count", (json_int_t)last->count,
                                  "time", (json_int_t)last->time, "head", head, "signature",
                                  ok ? "valid" : have_pk ? "INVALID" : "no key to check",
                                  "received", (json_int_t)n));
    free(cps);
    return o;
}

int pm_console_audit(const char *log_path, const char *own_checkpoints,
                     const pm_console_partner_log_t *partners, size_t npartners,
                     const pm_console_audit_query_t *q, pm_buf_t *out, pm_error_t *err)
{
    if (!log_path || !q)
        return pm_error_set(err, PM_EINVAL, "audit view: no log or query");
    if (q->limit < 1 || q->limit > PM_CONSOLE_PAGE_MAX || q->offset > 100000000)
        return pm_error_set(err, PM_EINVAL, "limit: 1..%d", PM_CONSOLE_PAGE_MAX);
    /* verification of the chain against our own checkpoints */
    pm_audit_checkpoint_t *cps = NULL;
    size_t ncps = 0;
    struct stat st;
    pm_error_t e;
    pm_error_clear(&e);
    if (own_checkpoints && stat(own_checkpoints, &st) == 0 &&
        pm_audit_checkpoints_load(own_checkpoints, &cps, &ncps, &e)) {
        free(cps);
        cps = NULL;
        ncps = 0;
    }
    pm_audit_verify_result_t vr;
    memset(&vr, 0, sizeof vr);
    pm_error_clear(&e);
    int vrc = pm_audit_verify(log_path, cps, ncps, NULL, &vr, &e);
    free(cps);
    json_t *verify = json_pack("{s:b, s:I, s:I, s:I, s:s}", "intact", vrc == PM_OK, "entries",
                               (json_int_t)vr.entries, "checkpoints_matched",
                               (json_int_t)vr.checkpoints_matched, "bad_seq",
                               (json_int_t)vr.bad_seq, "what",
                               vrc == PM_OK ? (vr.what[0] ? vr.what : "intact") : pm_error_text(&e));
    /* the page */
    scan_t s;
    memset(&s, 0, sizeof s);
    s.q = q;
    s.cap = q->offset + q->limit;
    s.ring = calloc(s.cap, sizeof *s.ring);
    if (!s.ring) {
        json_decref(verify);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    pm_error_clear(&e);
    int rc = pm_audit_read(log_path, on_entry, &s, &e);
    json_t *entries = json_array();
    if (rc == PM_OK || rc == PM_ECORRUPT) { /* a damaged log still shows its intact prefix */
        /* newest first: walk back from the last written slot, skip `offset` */
        size_t have = s.total < s.cap ? s.total : s.cap;
        for (size_t k = 0; k < have; k++) {
            size_t idx = (s.next + s.cap - 1 - k) % s.cap;
            if (k >= q->offset && s.ring[idx])
                json_array_append(entries, s.ring[idx]);
        }
        rc = PM_OK;
    } else {
        pm_error_set(err, rc, "%s", pm_error_text(&e));
    }
    for (size_t i = 0; i < s.cap; i++)
        json_decref(s.ring[i]);
    free(s.ring);
    if (rc) {
        json_decref(verify);
        json_decref(entries);
        return rc;
    }
    json_t *parts = json_array();
    for (size_t i = 0; i < npartners; i++)
        json_array_append_new(parts, partner_json(&partners[i]));
    return append_json(out,
                       json_pack("{s:o, s:o, s:I, s:I, s:I, s:o}", "verify", verify, "partners",
                                 parts, "total", (json_int_t)s.total, "offset",
                                 (json_int_t)q->offset, "limit", (json_int_t)q->limit, "entries",
                                 entries),
                       err);
}
