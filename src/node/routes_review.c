/* The human review queue on the node (R14): officers list the matches that
 * wait, a supervisor confirms or rejects each with a reason, and adverse
 * action is asked for through the gate, which refuses it (naming R14) until a
 * match is confirmed. Thin shells over the jobs library (include/perimeter/jobs.h);
 * every decision and refusal goes to the node's disclosure log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/routes_review.h"
#include "perimeter/jobs.h"
#include "perimeter/travel.h"

/* The jobs context of a review item: the agreement with the partner that
 * answered (the first partner's for a local one). */
static void ctx_of(const pm__req_t *rq, pm_store_t *st, const char *partner, char *actor,
                   size_t cap, pm_jobs_ctx_t *jc)
{
    const pm_node_config_t *cfg = rq->node->cfg;
    const pm_node_partner_t *p = partner && partner[0] ? pm_node_config_partner(cfg, partner) : NULL;
    if (!p && cfg->npartners) p = &cfg->partners[0];
    pm__audit_actor(rq, actor, cap);
    *jc = (pm_jobs_ctx_t){st, rq->node->audit, p ? p->agreement : NULL, cfg->country, actor};
}

static json_t *item_json(const pm_review_item_t *it)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "id",
                          (json_int_t)it->id, "status", pm_review_status_name(it->status), "txn",
                          it->txn, "partner", it->partner, "purpose", it->purpose, "subject_ref",
                          it->subject_ref, "evidence", it->evidence, "created_at",
                          (json_int_t)it->created_at, "action", it->action);
    if (o && it->status != PM_REVIEW_PENDING) {
        json_object_set_new(o, "officer", json_string(it->officer));
        json_object_set_new(o, "why", json_string(it->why));
        json_object_set_new(o, "decided_at", json_integer((json_int_t)it->decided_at));
    }
    return o;
}

static int param_id(pm__req_t *rq, int64_t *id)
{
    char *end;
    long long v = strtoll(rq->param, &end, 10);
    if (!rq->param[0] || *end || v <= 0) {
        pm__reply_error(rq, 400, "invalid_field", "the review id is a positive integer", "id");
        return 0;
    }
    *id = v;
    return 1;
}

void pm__h_reviews(pm__req_t *rq, pm_store_t *st)
{
    static const char *const names[] = {"status", NULL};
    if (!pm__req_args_only(rq, names)) return;
    const char *s = pm__req_arg(rq, "status");
    int status = PM_REVIEW_PENDING;
    if (s) {
        if (!strcmp(s, "all"))
            status = -1;
        else if (!strcmp(s, "pending"))
            status = PM_REVIEW_PENDING;
        else if (!strcmp(s, "confirmed"))
            status = PM_REVIEW_CONFIRMED;
        else if (!strcmp(s, "rejected"))
            status = PM_REVIEW_REJECTED;
        else {
            pm__reply_error(rq, 400, "bad_argument", "status is pending, confirmed, rejected or all",
                            "status");
            return;
        }
    }
    pm_review_item_t *items = NULL;
    size_t n = 0;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_review_list(st, status, &items, &n, &e);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, item_json(&items[i]));
    free(items);
    pm__reply_json(rq, 200, json_pack("{s:o}", "reviews", arr));
}

void pm__h_review_decide(pm__req_t *rq, pm_store_t *st)
{
    int64_t id;
    if (!param_id(rq, &id)) return;
    json_t *o = pm__json_body(rq, &pm__body_review_decision);
    if (!o) return;
    const char *d = pm__json_str(o, "decision"), *why = pm__json_str(o, "why");
    int confirm = d && !strcmp(d, "confirm");
    if (!confirm && !(d && !strcmp(d, "reject"))) {
        json_decref(o);
        pm__reply_error(rq, 400, "invalid_field", "decision is confirm or reject", "decision");
        return;
    }
    pm_review_item_t it;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_review_get(st, id, &it, &e);
    char actor[80];
    pm_jobs_ctx_t jc;
    ctx_of(rq, st, rc ? NULL : it.partner, actor, sizeof actor, &jc);
    if (!rc) rc = pm_review_decide(&jc, id, confirm, rq->officer, why, (int64_t)time(NULL), &e);
    json_decref(o);
    if (!rc && pm__sync_or_fail(rq)) return;
    if (rc == PM_ESTATE) {
        pm__reply_error(rq, 409, "already_decided", pm_error_text(&e), NULL);
        return;
    }
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    pm__reply_json(rq, 200,
                   json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "status",
                             confirm ? "confirmed" : "rejected", "officer", rq->officer));
}

void pm__h_review_act(pm__req_t *rq, pm_store_t *st)
{
    int64_t id;
    if (!param_id(rq, &id)) return;
    pm_review_item_t it;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_review_get(st, id, &it, &e);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    char actor[80];
    pm_jobs_ctx_t jc;
    ctx_of(rq, st, it.partner, actor, sizeof actor, &jc);
    pm_decision_t dec;
    memset(&dec, 0, sizeof dec);
    rc = pm_review_adverse_action(&jc, id, (int64_t)time(NULL), &dec, &e);
    if (pm__sync_or_fail(rq)) return;
    if (rc == PM_EDENIED) {
        json_t *r = json_pack("{s:s, s:s, s:s, s:n}", "code", "policy_refused", "rule", "R14",
                              "message", pm_error_text(&e), "field");
        pm__reply_json(rq, 403, r);
        return;
    }
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    pm__reply_json(rq, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "allowed", 1));
}

/* ---- R12: a person's own report, on the node (its store and its log) ---- */

void pm__h_subject_access(pm__req_t *rq, pm_store_t *st)
{
    static const char *const names[] = {"document", "issuer", "surname", "given_names",
                                        "dob",      "format", NULL};
    if (!pm__req_args_only(rq, names)) return;
    const char *fmt = pm__req_arg(rq, "format");
    int html = fmt && !strcmp(fmt, "html");
    if (fmt && !html && strcmp(fmt, "json")) {
        pm__reply_error(rq, 400, "bad_argument", "format is json or html", "format");
        return;
    }
    pm_subject_query_t q = {pm__req_arg(rq, "document"), pm__req_arg(rq, "issuer"),
                            pm__req_arg(rq, "surname"),  pm__req_arg(rq, "given_names"),
                            pm__req_arg(rq, "dob"),      NULL};
    if (!(q.document_number && q.document_issuer) && !(q.surname && q.dob)) {
        pm__reply_error(rq, 400, "bad_request",
                        "give document + issuer, or surname + dob (given_names optional)", NULL);
        return;
    }
    char actor[80];
    pm_jobs_ctx_t jc;
    ctx_of(rq, st, NULL, actor, sizeof actor, &jc);
    pm_buf_t out, page;
    pm_buf_init(&out, 64u << 20);
    pm_buf_init(&page, 64u << 20);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_subject_access(&jc, &q, rq->officer, (int64_t)time(NULL), &out, &e);
    if (!rc && pm__sync_or_fail(rq)) {
        pm_buf_free(&out);
        pm_buf_free(&page);
        return;
    }
    if (!rc && html) rc = pm_subject_access_html((const char *)out.data, out.len, &page, &e);
    if (rc) {
        pm_buf_free(&out);
        pm_buf_free(&page);
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    pm_buf_t *b = html ? &page : &out;
    size_t len = b->len;
    char *body = (char *)pm_buf_steal(b, &len);
    pm_buf_free(&out);
    pm_buf_free(&page);
    pm__reply(rq, 200, html ? "text/html; charset=utf-8" : "application/json", body, len);
}

/* ---- R7 and R9: received data, irrelevance, the jobs run on the node ---- */

void pm__h_received(pm__req_t *rq, pm_store_t *st)
{
    static const char *const names[] = {"irrelevant", NULL};
    if (!pm__req_args_only(rq, names)) return;
    const char *only = pm__req_arg(rq, "irrelevant");
    pm_received_t *r = NULL;
    size_t n = 0;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_received_list(st, only && !strcmp(only, "1"), &r, &n, &e);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I}", "id",
                              (json_int_t)r[i].id, "origin", r[i].origin, "class",
                              pm_record_class_name(r[i].cls), "purpose", r[i].purpose, "txn",
                              r[i].txn, "subject_ref", r[i].subject_ref, "received_at",
                              (json_int_t)r[i].received_at, "sha256", r[i].sha256, "bytes",
                              (json_int_t)r[i].payload_len);
        if (o && r[i].irrelevant_since) {
            json_object_set_new(o, "irrelevant_since", json_integer(r[i].irrelevant_since));
            json_object_set_new(o, "irrelevant_by", json_string(r[i].irrelevant_by));
            json_object_set_new(o, "irrelevant_why", json_string(r[i].irrelevant_why));
        }
        json_array_append_new(arr, o);
    }
    free(r);
    pm__reply_json(rq, 200, json_pack("{s:o}", "received", arr));
}

void pm__h_received_irrelevant(pm__req_t *rq, pm_store_t *st)
{
    int64_t id;
    if (!param_id(rq, &id)) return;
    json_t *o = pm__json_body(rq, &pm__body_review_act);
    if (!o) return;
    char actor[80];
    pm_jobs_ctx_t jc;
    ctx_of(rq, st, NULL, actor, sizeof actor, &jc);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_received_mark_irrelevant(&jc, id, rq->officer, pm__json_str(o, "why"),
                                         (int64_t)time(NULL), &e);
    json_decref(o);
    if (!rc && pm__sync_or_fail(rq)) return;
    if (rc == PM_ESTATE) {
        pm__reply_error(rq, 409, "already_marked", pm_error_text(&e), NULL);
        return;
    }
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    pm__reply_json(rq, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "irrelevant", 1));
}

/* POST /v1/jobs/{job}: purge (R9) or destroy (R7), now, with the node's log. */
void pm__h_job(pm__req_t *rq, pm_store_t *st)
{
    int purge = !strcmp(rq->param, "purge"), destroy = !strcmp(rq->param, "destroy");
    if (!purge && !destroy) {
        pm__reply_error(rq, 404, "not_found", "jobs: purge (R9) or destroy (R7)", "job");
        return;
    }
    char actor[80];
    pm_jobs_ctx_t jc;
    ctx_of(rq, st, NULL, actor, sizeof actor, &jc);
    pm_error_t e;
    pm_error_clear(&e);
    int64_t now = (int64_t)time(NULL);
    json_t *o = NULL;
    int rc;
    if (purge) {
        pm_purge_result_t r;
        memset(&r, 0, sizeof r);
        rc = pm_jobs_purge(&jc, now, 1024, &r, &e);
        if (!rc) {
            json_t *per = json_object();
            for (int c = 0; c < PM_RC_COUNT; c++)
                json_object_set_new(per, pm_record_class_name((pm_record_class_t)c),
                                    json_integer((json_int_t)r.purged[c]));
            o = json_pack("{s:s, s:o, s:I, s:I}", "job", "purge", "purged", per, "tombstones",
                          (json_int_t)r.tombstones, "recovered", (json_int_t)r.recovered);
        }
    } else {
        pm_destroy_result_t r;
        memset(&r, 0, sizeof r);
        rc = pm_jobs_destroy_irrelevant(&jc, now, &r, &e);
        if (!rc)
            o = json_pack("{s:s, s:I, s:I, s:I}", "job", "destroy", "destroyed",
                          (json_int_t)r.destroyed, "overdue", (json_int_t)r.overdue, "tombstones",
                          (json_int_t)r.tombstones);
    }
    if (!rc && pm__sync_or_fail(rq)) {
        json_decref(o);
        return;
    }
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    pm__reply_json(rq, 200, o);
}

/* ---- R8: corrections, sent to every partner that received the record ---- */

/* The one record of a JSON Lines text (validated like an import). */
static int one_record(const char *data, size_t len, pm_crossing_t *c, pm_error_t *e)
{
    pm_crossing_reader_t *r = NULL;
    int rc = pm_crossing_reader_open_mem(data, len, PM_CROSSING_FORMAT_JSONL, &r, e);
    if (rc) return rc;
    int got = pm_crossing_reader_next(r, c, NULL, e);
    pm_crossing_t extra;
    int more = got == 1 ? pm_crossing_reader_next(r, &extra, NULL, e) : 0;
    pm_crossing_reader_free(r);
    if (got < 0) return got;
    if (got == 0) return pm_error_set(e, PM_EFORMAT, "no record");
    if (more != 0) return pm_error_set(e, PM_EFORMAT, "one record only");
    return PM_OK;
}

/* Sends every unacknowledged correction queued for partner p; returns how
 * many the partner acknowledged. Failures stay queued (GET /v1/corrections). */
static int send_corrections(pm__req_t *rq, pm_jobs_ctx_t *jc, const pm_node_partner_t *p,
                            char *last_error, size_t cap)
{
    const pm_node_config_t *cfg = rq->node->cfg;
    pm_correction_t *pend = NULL;
    size_t n = 0;
    pm_error_t e;
    pm_error_clear(&e);
    if (pm_corrections_pending(jc->store, p->code, &pend, &n, &e)) {
        snprintf(last_error, cap, "%s", pm_error_text(&e));
        return 0;
    }
    int acked = 0;
    for (size_t i = 0; i < n; i++) {
        pm_buf_t line;
        pm_buf_init(&line, 1u << 20);
        pm_correction_t c;
        if (pm_correction_get(jc->store, pend[i].id, &c, &line, &e)) {
            snprintf(last_error, cap, "%s", pm_error_text(&e));
            pm_buf_free(&line);
            continue;
        }
        json_t *b = json_pack("{s:I, s:s, s:s%}", "correction_id", (json_int_t)c.id, "txn", c.txn,
                              "record", (const char *)line.data, line.len);
        pm_buf_free(&line);
        char *text = b ? json_dumps(b, JSON_COMPACT) : NULL;
        json_decref(b);
        if (!text) continue;
        pm_node_request_t r = {p->url,        p->ca_file, cfg->cert_file, cfg->key_file, NULL,
                               cfg->limits.client_timeout_s, 1u << 20, p->agreement->hash_hex};
        long status = 0;
        pm_buf_t ans;
        int64_t now = (int64_t)time(NULL);
        int rc = pm_node_call(&r, "POST", "/v1/partner/correction", text, strlen(text),
                              "application/json", &status, &ans, &e);
        free(text);
        if (!rc) pm_correction_sent(jc, c.id, now, &e);
        json_t *a = !rc ? json_loadb((const char *)ans.data, ans.len, 0, NULL) : NULL;
        pm_buf_free(&ans);
        if (a && status != 200) {
            const char *m = json_string_value(json_object_get(a, "message"));
            snprintf(last_error, cap, "%s answered HTTP %ld: %s", p->code, status, m ? m : "");
            json_decref(a);
            continue;
        }
        const char *ref = a ? json_string_value(json_object_get(a, "ack")) : NULL;
        if (rc)
            snprintf(last_error, cap, "%s: %s", p->code, pm_error_text(&e));
        else if (!ref)
            snprintf(last_error, cap, "%s answered HTTP %ld", p->code, status);
        else if (pm_correction_acknowledged(jc, c.id, p->code, ref, now, &e))
            snprintf(last_error, cap, "%s", pm_error_text(&e));
        else
            acked++;
        json_decref(a);
    }
    free(pend);
    return acked;
}

void pm__h_correction(pm__req_t *rq, pm_store_t *st)
{
    static const char *const names[] = {"why", NULL};
    if (!pm__req_args_only(rq, names)) return;
    const char *why = pm__req_arg(rq, "why");
    if (!why || !why[0]) {
        pm__reply_error(rq, 400, "missing_argument", "say why the record is corrected", "why");
        return;
    }
    pm_crossing_t c;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = one_record(rq->body.data ? (const char *)rq->body.data : "", rq->body.len, &c, &e);
    if (rc) {
        pm__reply_error(rq, 400, "invalid", pm_error_text(&e), "record");
        return;
    }
    char actor[80];
    pm_jobs_ctx_t jc;
    ctx_of(rq, st, NULL, actor, sizeof actor, &jc);
    size_t queued = 0;
    rc = pm_correction_crossing(&jc, &c, why, (int64_t)time(NULL), &queued, &e);
    if (!rc && pm__sync_or_fail(rq)) return;
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    int acked = 0;
    char last_error[256] = "";
    for (size_t i = 0; i < rq->node->cfg->npartners; i++) {
        const pm_node_partner_t *p = &rq->node->cfg->partners[i];
        if (p->url[0]) acked += send_corrections(rq, &jc, p, last_error, sizeof last_error);
    }
    if (pm__sync_or_fail(rq)) return;
    char rec[PM_JOBS_REF_MAX];
    snprintf(rec, sizeof rec, "%s:%s", c.reporting_country, c.record_id);
    pm_decision_t d;
    memset(&d, 0, sizeof d);
    pm_correction_status(st, rec, &d, &e);
    json_t *ans = json_pack("{s:s, s:I, s:i, s:b}", "record", rec, "queued", (json_int_t)queued,
                            "acknowledged", acked, "complete", d.allow ? 1 : 0);
    if (ans && last_error[0]) json_object_set_new(ans, "last_error", json_string(last_error));
    pm__reply_json(rq, 200, ans);
}

void pm__h_partner_correction(pm__req_t *rq, pm_store_t *st)
{
    json_t *o = pm__json_body(rq, &pm__body_partner_correction);
    if (!o) return;
    const char *line = pm__json_str(o, "record");
    pm_crossing_t c;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = one_record(line, strlen(line), &c, &e);
    if (rc) {
        json_decref(o);
        pm__reply_error(rq, 400, "invalid", pm_error_text(&e), "record");
        return;
    }
    /* it came from the partner: its record, as the feed stored it */
    snprintf(c.origin, sizeof c.origin, "%s", rq->partner->code);
    char actor[80];
    pm_jobs_ctx_t jc;
    ctx_of(rq, st, rq->partner->code, actor, sizeof actor, &jc);
    rc = pm_correction_apply_received(&jc, &c, pm__json_str(o, "txn"), (int64_t)time(NULL), &e);
    if (!rc && pm__sync_or_fail(rq)) {
        json_decref(o);
        return;
    }
    if (rc) {
        json_decref(o);
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    char ack[96];
    snprintf(ack, sizeof ack, "%s:%s", rq->node->cfg->country, pm__json_str(o, "txn"));
    json_decref(o);
    pm__reply_json(rq, 200, json_pack("{s:s, s:b}", "ack", ack, "applied", 1));
}

void pm__h_corrections(pm__req_t *rq, pm_store_t *st)
{
    pm_correction_t *pend = NULL;
    size_t n = 0;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_corrections_pending(st, NULL, &pend, &n, &e);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    json_t *arr = json_array();
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:I, s:i}", "id",
                                             (json_int_t)pend[i].id, "record", pend[i].record,
                                             "partner", pend[i].partner, "reason", pend[i].reason,
                                             "age_s", (json_int_t)(now - pend[i].created_at),
                                             "attempts", (int)pend[i].attempts));
    free(pend);
    pm__reply_json(rq, 200, json_pack("{s:o}", "unacknowledged", arr));
}

/* ---- R11: onward transfer to a third party ---- */

void pm__h_transfer(pm__req_t *rq, pm_store_t *st)
{
    json_t *o = pm__json_body(rq, &pm__body_transfer);
    if (!o) return;
    json_t *rid = json_object_get(o, "received_id"), *cid = json_object_get(o, "crossing_id");
    if (!rid == !cid) {
        json_decref(o);
        pm__reply_error(rq, 400, "invalid_field", "give exactly one of received_id, crossing_id",
                        NULL);
        return;
    }
    char actor[80];
    pm_jobs_ctx_t jc;
    ctx_of(rq, st, NULL, actor, sizeof actor, &jc);
    pm_buf_t out;
    pm_buf_init(&out, 2u << 20);
    pm_decision_t dec;
    memset(&dec, 0, sizeof dec);
    pm_error_t e;
    pm_error_clear(&e);
    int64_t now = (int64_t)time(NULL);
    char to_s[8], purpose_s[64];
    snprintf(to_s, sizeof to_s, "%s", pm__json_str(o, "to") ? pm__json_str(o, "to") : "");
    snprintf(purpose_s, sizeof purpose_s, "%s",
             pm__json_str(o, "purpose") ? pm__json_str(o, "purpose") : "");
    const char *to = to_s, *purpose = purpose_s; /* o is released below */
    int rc = rid ? pm_transfer_received(&jc, json_integer_value(rid), to, purpose, now, &out, &dec,
                                        &e)
                 : pm_transfer_crossing(&jc, json_integer_value(cid), to, purpose, now, &out,
                                        &dec, &e);
    json_decref(o);
    if (pm__sync_or_fail(rq)) {
        pm_buf_free(&out);
        return;
    }
    if (rc == PM_EDENIED) {
        pm_buf_free(&out);
        char rule[8];
        snprintf(rule, sizeof rule, "R%d", dec.rule ? dec.rule : 11);
        pm__reply_json(rq, 403, json_pack("{s:s, s:s, s:s, s:n}", "code", "policy_refused", "rule",
                                          rule, "message", pm_error_text(&e), "field"));
        return;
    }
    if (rc) {
        pm_buf_free(&out);
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    /* what was handed on: the record (one JSON line) or the received payload */
    size_t n = out.len;
    while (n && (out.data[n - 1] == '\n' || out.data[n - 1] == '\0'))
        n--;
    json_t *data = n ? json_loadb((const char *)out.data, n, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
    if (!data) data = json_stringn(n ? (const char *)out.data : "", n);
    json_t *a = json_pack("{s:s, s:s, s:o}", "to", to ? to : "", "purpose", purpose ? purpose : "",
                          "data", data ? data : json_null());
    pm_buf_free(&out);
    pm__reply_json(rq, 200, a);
}
