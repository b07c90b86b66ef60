/* The agreement as the node applies it: quota counters (R13, one per
 * partner, replayed from the log at start), the
 * disclosure log (R10) every query, answer, disclosure and refusal goes to,
 * and the refusal answer that names the rule. The decisions themselves are
 * the policy library's (pm_policy_*); nothing here decides a rule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/server_impl.h"
#include "perimeter/audit.h"
#include "perimeter/policy.h"

/* Remembers a charged query (caller holds quota_mu). Out of memory: not
 * remembered, so a re-ask of it would be charged again (never less). */
static void charge_push(pm_node_t *node, size_t pi, const char *txn, int biometric,
                        int64_t period_start)
{
    if (!txn || !txn[0] || strlen(txn) >= sizeof ((pm__charge_t *)0)->txn)
        return;
    if (!node->charges[pi] &&
        !(node->charges[pi] = calloc(PM__QUOTA_RECENT, sizeof *node->charges[pi])))
        return;
    pm__charge_t *c = &node->charges[pi][node->charges_next[pi]];
    node->charges_next[pi] = (node->charges_next[pi] + 1) % PM__QUOTA_RECENT;
    snprintf(c->txn, sizeof c->txn, "%s", txn);
    c->biometric = (uint8_t)(biometric != 0);
    c->period_start = period_start;
}

/* Takes back the charge of `old` if it was charged in the counter's current
 * period (caller holds quota_mu); the newest entry of that id counts, and
 * is spent, so a chain of re-asks takes back each charge once. */
static void charge_take_back(pm_node_t *node, size_t pi, const char *old)
{
    pm__charge_t *ring = node->charges[pi];
    if (!ring || !old || !old[0])
        return;
    pm_quota_counter_t *qc = &node->quota[pi];
    for (uint32_t k = 1; k <= PM__QUOTA_RECENT; k++) {
        pm__charge_t *c = &ring[(node->charges_next[pi] + PM__QUOTA_RECENT - k) % PM__QUOTA_RECENT];
        if (!c->txn[0] || strcmp(c->txn, old) != 0)
            continue;
        if (c->period_start == qc->period_start) {
            uint64_t *n = c->biometric ? &qc->biometric : &qc->biographic;
            if (*n > 0)
                (*n)--;
        }
        c->txn[0] = 0;
        return;
    }
}

/* R13: the quota counters live in memory, one per partner, and the
 * disclosure log is their record: every allowed partner query is a "query"
 * entry (actor "partner:XX", with a probe hash when biometric), made durable
 * before its answer, so at start the counters are replayed from the log
 * (pm__quota_replay) and no second durable write is needed per query. A
 * query whose entry never reached the log was never answered, so it rightly
 * does not count after a restart. An accepted re-ask is a "supersede" entry
 * before its query entry: live and in the replay alike, it takes back the
 * lost query's charge (if that one was charged in the current period), so
 * a query and its re-asks count once. */
int pm__quota_decide(pm_node_t *node, const pm_node_partner_t *p, const pm_agreement_t *a,
                     const pm_query_facts_t *q, int biometric, int64_t now, const char *txn,
                     const char *superseded, pm_decision_t *out, pm_error_t *err)
{
    size_t pi = (size_t)(p - node->cfg->partners);
    if (pi >= node->cfg->npartners)
        return pm_error_set(err, PM_EINVAL, "quota: unknown partner");
    pthread_mutex_lock(&node->quota_mu);
    if (superseded)
        charge_take_back(node, pi, superseded);
    int rc = biometric ? pm_policy_biometric_query(a, q, &node->quota[pi], now, out)
                       : pm_policy_biographic_query(a, q, &node->quota[pi], now, out);
    if (!rc && out->allow)
        charge_push(node, pi, txn, biometric, node->quota[pi].period_start);
    pthread_mutex_unlock(&node->quota_mu);
    if (rc)
        return pm_error_set(err, rc, "quota: policy call failed");
    return PM_OK;
}

void pm__quota_free(pm_node_t *node)
{
    for (size_t i = 0; i < PM_NODE_MAX_PARTNERS; i++) {
        free(node->charges[i]);
        node->charges[i] = NULL;
        node->charges_next[i] = 0;
    }
}

int pm__quota_replay(pm_node_t *node, pm_error_t *err)
{
    const pm_node_config_t *cfg = node->cfg;
    memset(node->quota, 0, sizeof node->quota);
    for (size_t i = 0; i < PM_NODE_MAX_PARTNERS; i++) {
        if (node->charges[i])
            memset(node->charges[i], 0, PM__QUOTA_RECENT * sizeof *node->charges[i]);
        node->charges_next[i] = 0;
    }
    FILE *f = fopen(cfg->audit_log, "r");
    if (!f)
        return PM_OK; /* no log yet: nothing counted */
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = PM_OK;
    while ((n = getline(&line, &cap, f)) > 0) {
        if ((size_t)n > PM_AUDIT_LINE_MAX || n < 66) {
            rc = pm_error_set(err, PM_ECORRUPT, "quota replay: a log line of %zd bytes", n);
            break;
        }
        /* cheap filter before parsing: only partners' queries and re-asks count */
        if ((!strstr(line + 65, "\"kind\":\"query\"") &&
             !strstr(line + 65, "\"kind\":\"supersede\"")) ||
            !strstr(line + 65, "\"actor\":\"partner:"))
            continue;
        json_t *o = json_loadb(line + 65, (size_t)n - 65, 0, NULL);
        const char *actor = o ? json_string_value(json_object_get(o, "actor")) : NULL;
        const char *kind = o ? json_string_value(json_object_get(o, "kind")) : NULL;
        const char *probe = o ? json_string_value(json_object_get(o, "probe_sha256")) : NULL;
        const char *txn = o ? json_string_value(json_object_get(o, "txn")) : NULL;
        const char *detail = o ? json_string_value(json_object_get(o, "detail")) : NULL;
        json_int_t t = o ? json_integer_value(json_object_get(o, "time")) : 0;
        const pm_node_partner_t *p =
            actor && strncmp(actor, "partner:", 8) == 0 ? pm_node_config_partner(cfg, actor + 8)
                                                        : NULL;
        if (p && kind && strcmp(kind, "supersede") == 0) {
            /* "supersedes OLD" (replay.c): its charge taken back, as live */
            if (detail && strncmp(detail, "supersedes ", 11) == 0)
                charge_take_back(node, (size_t)(p - cfg->partners), detail + 11);
        } else if (p && kind && strcmp(kind, "query") == 0) {
            size_t pi = (size_t)(p - cfg->partners);
            pm_quota_counter_t *qc = &node->quota[pi];
            /* the policy's own window rule: a period opens with the first
             * query after the last one ended (pm_policy_*_query) */
            if (qc->period_start == 0 || t - qc->period_start >= p->agreement->quota_period_s) {
                qc->period_start = t;
                qc->biometric = qc->biographic = 0;
            }
            int bio = probe && probe[0];
            if (bio)
                qc->biometric++;
            else
                qc->biographic++;
            charge_push(node, pi, txn, bio, qc->period_start);
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    return rc;
}

int pm__audit_append(pm_node_t *node, const pm__audit_t *ev, pm_error_t *err)
{
    if (!node->audit)
        return pm_error_set(err, PM_ESTATE, "the disclosure log is not open");
    pm_audit_event_t e;
    memset(&e, 0, sizeof e);
    e.time = (int64_t)time(NULL);
    e.kind = ev->kind;
    e.actor = ev->actor;
    e.partner = ev->partner;
    e.purpose = ev->purpose;
    e.rule = ev->rule;
    e.fields = ev->fields;
    e.n_fields = ev->n_fields;
    e.record_ids = ev->records;
    e.n_record_ids = ev->n_records;
    e.txn = ev->txn;
    e.probe_sha256 = ev->probe_sha256;
    return pm_audit_append(node->audit, &e, NULL, err);
}

int pm__audit_sync(pm_node_t *node, pm_error_t *err)
{
    return node->audit ? pm_audit_sync(node->audit, err) : PM_OK;
}

void pm__reply_refused(pm__req_t *rq, const pm_decision_t *d, const char *field)
{
    char rule[8];
    snprintf(rule, sizeof rule, "R%d", d->rule);
    json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "code", "policy_refused", "rule", rule,
                          "message", d->reason, "field",
                          field && field[0] ? json_string(field) : json_null());
    pm__reply_json(rq, d->rule == 13 ? 429 : 403, o);
}

int pm__audit_refusal(pm__req_t *rq, const char *purpose, const pm_decision_t *d,
                      const char *txn, const char *record, const unsigned char *probe_sha256,
                      pm_error_t *err)
{
    char rule[8], actor[80];
    snprintf(rule, sizeof rule, "R%d", d->rule);
    pm__audit_actor(rq, actor, sizeof actor);
    const char *recs[1] = {record};
    pm__audit_t ev = {"refusal", actor, rq->partner ? rq->partner->code : NULL, purpose, rule,
                      NULL, 0, record ? recs : NULL, record ? 1 : 0, txn, probe_sha256};
    return pm__audit_append(rq->node, &ev, err);
}

void pm__audit_actor(const pm__req_t *rq, char *out, size_t cap)
{
    if (rq->partner)
        snprintf(out, cap, "partner:%s", rq->partner->code);
    else if (rq->officer[0])
        snprintf(out, cap, "officer:%s", rq->officer);
    else
        snprintf(out, cap, "node:%s", rq->node->cfg->country);
}
