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
    json_t *entries;
} page_t;

static int on_entry(void *ctx, const pm_audit_entry_t *e)
{
    page_t *s = ctx;
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
    if (!o || json_array_append_new(s->entries, o))
        return PM_ENOMEM;
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
                     pm_audit_index_t *index, const pm_console_audit_query_t *q, pm_buf_t *out,
                     pm_error_t *err)
{
    if (!log_path || !q)
        return pm_error_set(err, PM_EINVAL, "audit view: no log or query");
    if (q->limit < 1 || q->limit > PM_CONSOLE_PAGE_MAX || q->offset > 100000000)
        return pm_error_set(err, PM_EINVAL, "limit: 1..%d", PM_CONSOLE_PAGE_MAX);
    pm_audit_index_t *own = NULL;
    int rc;
    if (!index) { /* no index kept by the caller: one for this call */
        if ((rc = pm_audit_index_new(log_path, &own, err)))
            return rc;
        index = own;
    }
    /* verification of the chain against our own checkpoints (extended from
     * the index's verified head: only what was appended since is read) */
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
    int vrc = pm_audit_index_update(index, cps, ncps, NULL, &vr, &e);
    free(cps);
    if (vrc == PM_ENOMEM || vrc == PM_EIO || vrc == PM_ENOTFOUND || vrc == PM_ELIMIT ||
        vrc == PM_EINVAL) {
        pm_audit_index_free(own);
        return pm_error_set(err, vrc, "%s", pm_error_text(&e));
    }
    json_t *verify = json_pack("{s:b, s:I, s:I, s:I, s:s}", "intact", vrc == PM_OK, "entries",
                               (json_int_t)vr.entries, "checkpoints_matched",
                               (json_int_t)vr.checkpoints_matched, "bad_seq",
                               (json_int_t)vr.bad_seq, "what",
                               vrc == PM_OK ? (vr.what[0] ? vr.what : "intact") : pm_error_text(&e));
    /* the page: the verified entries (a damaged log still shows its intact
     * prefix), filtered on the index, only the page's entries read */
    pm_audit_filter_t f = {q->kind, q->purpose, q->rule, q->partner, q->from, q->to};
    page_t s = {json_array()};
    uint64_t total = 0;
    pm_error_clear(&e);
    rc = s.entries ? pm_audit_index_page(index, &f, q->offset, q->limit, on_entry, &s, &total, &e)
                   : PM_ENOMEM;
    pm_audit_index_free(own);
    if (rc) {
        json_decref(verify);
        json_decref(s.entries);
        return pm_error_set(err, rc, "%s", rc == PM_ENOMEM ? "out of memory" : pm_error_text(&e));
    }
    json_t *parts = json_array();
    for (size_t i = 0; i < npartners; i++)
        json_array_append_new(parts, partner_json(&partners[i]));
    return append_json(out,
                       json_pack("{s:o, s:o, s:I, s:I, s:I, s:o}", "verify", verify, "partners",
                                 parts, "total", (json_int_t)total, "offset",
                                 (json_int_t)q->offset, "limit", (json_int_t)q->limit, "entries",
                                 s.entries),
                       err);
}
