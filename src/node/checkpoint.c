/* Signed checkpoints of the disclosure log between the two nodes (R10,
 * docs/audit.md "Checkpoints"): each node signs the head of its own log
 * (count + hash, Ed25519) and sends it to the partner on a schedule
 * (audit.checkpoint_interval_s) and on demand; the partner checks the
 * signature against the key pinned in its configuration (audit_pub) and
 * keeps it. A node that later rewrites its log cannot change what the
 * partner holds: `perimeter audit verify LOG --checkpoints <the partner's
 * copy> --key <our public key>` names the first entry that differs. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/server_impl.h"
#include "perimeter/audit.h"
#include "perimeter/policy.h"

static int partner_pk(const pm_node_partner_t *p, unsigned char pk[PM_AUDIT_PK_BYTES],
                      pm_error_t *err)
{
    size_t bl = 0;
    if (!p->audit_pub[0] ||
        sodium_hex2bin(pk, PM_AUDIT_PK_BYTES, p->audit_pub, 64, NULL, &bl, NULL) != 0 ||
        bl != PM_AUDIT_PK_BYTES)
        return pm_error_set(err, PM_EDENIED,
                            "no audit_pub pinned for %s: its checkpoints cannot be checked",
                            p->code);
    return PM_OK;
}

/* Signs our log's head now and keeps our own copy. */
static int make_checkpoint(pm_node_t *node, pm_audit_checkpoint_t *cp, pm_error_t *err)
{
    if (!node->has_audit_sk)
        return pm_error_set(err, PM_ESTATE, "no audit.key configured: cannot sign checkpoints");
    int rc = pm_audit_checkpoint(node->audit, node->audit_sk, (int64_t)time(NULL), cp, err);
    if (!rc)
        rc = pm_audit_checkpoint_store(node->cfg->audit_checkpoints, cp, cp->signer, err);
    return rc;
}

/* POSTs a checkpoint to one partner; PM_OK only on its 200. */
static int send_checkpoint(pm_node_t *node, const pm_node_partner_t *p,
                           const pm_audit_checkpoint_t *cp, pm_error_t *err)
{
    if (!p->url[0])
        return pm_error_set(err, PM_ESTATE, "%s has no url", p->code);
    pm_buf_t body;
    pm_buf_init(&body, 4096);
    int rc = pm_audit_checkpoint_to_json(cp, &body);
    if (rc) {
        pm_buf_free(&body);
        return pm_error_set(err, rc, "checkpoint: %s", pm_strerror(rc));
    }
    pm_node_request_t r = {p->url,     p->ca_file, node->cfg->cert_file,
                           node->cfg->key_file, NULL, node->cfg->limits.client_timeout_s,
                           1u << 16,   p->agreement->hash_hex};
    long status = 0;
    pm_buf_t ans;
    rc = pm_node_call(&r, "POST", "/v1/partner/checkpoint", body.data, body.len,
                      "application/json", &status, &ans, err);
    pm_buf_free(&body);
    if (!rc && status != 200)
        rc = pm_error_set(err, PM_EDENIED, "%s answered HTTP %ld: %.200s", p->code, status,
                          ans.data ? (const char *)ans.data : "");
    pm_buf_free(&ans);
    return rc;
}

/* ------------------------------------------------------------ the schedule */

static void *cp_main(void *v)
{
    pm_node_t *node = v;
    const pm_node_config_t *cfg = node->cfg;
    pthread_mutex_lock(&node->cp_mu);
    while (!node->cp_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)cfg->checkpoint_interval_s;
        while (!node->cp_stop &&
               pthread_cond_timedwait(&node->cp_cv, &node->cp_mu, &ts) == 0)
            ;
        if (node->cp_stop)
            break;
        pthread_mutex_unlock(&node->cp_mu);
        pm_audit_checkpoint_t cp;
        pm_error_t e;
        pm_error_clear(&e);
        if (make_checkpoint(node, &cp, &e) != PM_OK) {
            pm__node_log(node, 2, "checkpoint: %s", e.msg);
        } else {
            for (size_t i = 0; i < cfg->npartners; i++) {
                if (!cfg->partners[i].url[0])
                    continue;
                pm_error_clear(&e);
                if (send_checkpoint(node, &cfg->partners[i], &cp, &e))
                    pm__node_log(node, 1, "checkpoint %llu to %s not delivered: %s",
                                 (unsigned long long)cp.count, cfg->partners[i].code, e.msg);
            }
        }
        pthread_mutex_lock(&node->cp_mu);
    }
    pthread_mutex_unlock(&node->cp_mu);
    return NULL;
}

int pm__checkpoint_start(pm_node_t *node, pm_error_t *err)
{
    pthread_mutex_init(&node->cp_mu, NULL);
    pthread_cond_init(&node->cp_cv, NULL);
    if (!node->cfg->checkpoint_interval_s || !node->has_audit_sk)
        return PM_OK;
    if (pthread_create(&node->cp_thread, NULL, cp_main, node) != 0)
        return pm_error_set(err, PM_EINTERNAL, "checkpoint: cannot start its thread");
    node->cp_started = 1;
    return PM_OK;
}

void pm__checkpoint_stop(pm_node_t *node)
{
    if (!node->cp_started)
        return;
    pthread_mutex_lock(&node->cp_mu);
    node->cp_stop = 1;
    pthread_cond_signal(&node->cp_cv);
    pthread_mutex_unlock(&node->cp_mu);
    pthread_join(node->cp_thread, NULL);
    node->cp_started = 0;
}

/* ------------------------------------------------------------ routes */

static json_t *cp_json(const pm_audit_checkpoint_t *cp)
{
    pm_buf_t b;
    pm_buf_init(&b, 4096);
    json_t *o = NULL;
    if (pm_audit_checkpoint_to_json(cp, &b) == PM_OK)
        o = json_loadb((const char *)b.data, b.len, 0, NULL);
    pm_buf_free(&b);
    return o;
}

/* POST /v1/partner/checkpoint: the partner's signed head of its own log. */
void pm__h_partner_checkpoint_post(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    const pm_node_partner_t *p = rq->partner;
    pm_error_t e;
    pm_error_clear(&e);
    unsigned char pk[PM_AUDIT_PK_BYTES];
    pm_audit_checkpoint_t cp;
    int rc = partner_pk(p, pk, &e);
    if (rc) {
        pm__reply_error(rq, 403, "checkpoint_refused", e.msg, NULL);
        return;
    }
    if ((rc = pm_audit_checkpoint_from_json(rq->body.data ? (const char *)rq->body.data : "",
                                            rq->body.len, &cp, &e))) {
        pm__reply_error(rq, 400, "invalid_checkpoint", e.msg, NULL);
        return;
    }
    rc = pm_audit_checkpoint_store(p->checkpoints_file, &cp, pk, &e);
    if (rc == PM_EDENIED) {
        pm__node_log(rq->node, 1, "checkpoint from %s refused: %s", p->code, e.msg);
        pm__reply_error(rq, 403, "checkpoint_refused", e.msg, NULL);
        return;
    }
    if (rc == PM_ESTATE) { /* validly signed, but older than (or forking from) what we hold */
        pm__node_log(rq->node, 2, "checkpoint from %s refused: %s", p->code, e.msg);
        pm__reply_error(rq, 409, "checkpoint_rollback", e.msg, NULL);
        return;
    }
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    pm__node_log(rq->node, 0, "checkpoint of %s's log stored: %llu entries", p->code,
                 (unsigned long long)cp.count);
    pm__reply_json(rq, 200, json_pack("{s:b, s:I}", "stored", 1, "count", (json_int_t)cp.count));
}

/* GET /v1/partner/checkpoint: a fresh signed head of our log, on demand. */
void pm__h_partner_checkpoint_get(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    pm_audit_checkpoint_t cp;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = make_checkpoint(rq->node, &cp, &e);
    if (rc) {
        pm__reply_error(rq, 503, "checkpoint_unavailable", e.msg, NULL);
        return;
    }
    pm__reply_json(rq, 200, cp_json(&cp));
}

/* POST /v1/audit/checkpoint (supervisor): sign now and send to every partner. */
void pm__h_audit_checkpoint(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    pm_audit_checkpoint_t cp;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = make_checkpoint(rq->node, &cp, &e);
    if (rc) {
        pm__reply_error(rq, 503, "checkpoint_unavailable", e.msg, NULL);
        return;
    }
    json_t *sent = json_object();
    const pm_node_config_t *cfg = rq->node->cfg;
    for (size_t i = 0; i < cfg->npartners; i++) {
        pm_error_clear(&e);
        rc = send_checkpoint(rq->node, &cfg->partners[i], &cp, &e);
        json_object_set_new(sent, cfg->partners[i].code,
                            rc ? json_string(e.msg) : json_string("stored"));
    }
    pm__reply_json(rq, 200, json_pack("{s:o, s:o}", "checkpoint", cp_json(&cp), "partners", sent));
}

/* POST /v1/partners/{code}/checkpoint (supervisor): fetch the partner's
 * signed head now and keep it. */
void pm__h_partner_checkpoint_fetch(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    const pm_node_partner_t *p = pm_node_config_partner(rq->node->cfg, rq->param);
    if (!p || !p->url[0]) {
        pm__reply_error(rq, 404, "unknown_partner", "no partner with that code and a URL", "code");
        return;
    }
    const pm_node_config_t *cfg = rq->node->cfg;
    pm_node_request_t r = {p->url,        p->ca_file, cfg->cert_file,
                           cfg->key_file, NULL,       cfg->limits.client_timeout_s,
                           1u << 16,      p->agreement->hash_hex};
    long status = 0;
    pm_buf_t ans;
    pm_error_t e;
    pm_error_clear(&e);
    unsigned char pk[PM_AUDIT_PK_BYTES];
    pm_audit_checkpoint_t cp;
    int rc = partner_pk(p, pk, &e);
    if (!rc)
        rc = pm_node_call(&r, "GET", "/v1/partner/checkpoint", NULL, 0, NULL, &status, &ans, &e);
    else
        pm_buf_init(&ans, 1);
    if (!rc && status != 200)
        rc = pm_error_set(&e, PM_EDENIED, "%s answered HTTP %ld", p->code, status);
    if (!rc)
        rc = pm_audit_checkpoint_from_json((const char *)ans.data, ans.len, &cp, &e);
    pm_buf_free(&ans);
    if (!rc)
        rc = pm_audit_checkpoint_store(p->checkpoints_file, &cp, pk, &e);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        return;
    }
    pm__reply_json(rq, 200, json_pack("{s:s, s:o}", "partner", p->code, "checkpoint", cp_json(&cp)));
}
