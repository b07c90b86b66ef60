/* R11: data received from a partner never goes to a third party without a
 * consent recorded in the agreement. Every transfer and every refusal is
 * logged. */
#include <stdio.h>
#include <string.h>

#include "jobs_internal.h"
#include "perimeter/travel.h"

static int code_ok(const char *s)
{
    return s && strlen(s) == 3 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3;
}

/* Decides, logs, and returns PM_OK (allowed) or PM_EDENIED naming R11. */
static int decide_and_log(const pm_jobs_ctx_t *ctx, const char *origin, const char *ref,
                          const char *third_party, const char *purpose, int64_t now,
                          pm_decision_t *dec, pm_error_t *err)
{
    if (strcmp(third_party, ctx->agreement->parties[0]) == 0 ||
        strcmp(third_party, ctx->agreement->parties[1]) == 0)
        return pm_error_set(err, PM_EINVAL,
                            "transfer: %s is a party to the agreement, not a third party",
                            third_party);
    pm_policy_onward_transfer(ctx->agreement, origin[0] ? origin : ctx->ours, ctx->ours,
                              third_party, purpose ? purpose : "", dec);
    char txn[PM_JOBS_REF_MAX], detail[PM_AUDIT_STR_MAX + 1];
    pm__jobs_txn("transfer", now, txn);
    if (dec->allow)
        snprintf(detail, sizeof detail, "origin %s; %s", origin[0] ? origin : ctx->ours,
                 origin[0] ? "consent recorded in the agreement" : "our own record");
    else
        snprintf(detail, sizeof detail, "onward transfer refused: %.200s", dec->reason);
    const char *recs[1] = {ref};
    pm_audit_event_t ev = {.time = now,
                           .kind = dec->allow ? "onward_transfer" : "refusal",
                           .actor = ctx->actor,
                           .partner = third_party,
                           .purpose = purpose,
                           .rule = dec->allow ? "R11 consent" : "R11",
                           .record_ids = recs,
                           .n_record_ids = 1,
                           .txn = txn,
                           .detail = detail};
    if (!dec->allow) ev.rule = dec->rule == 1 ? "R1" : "R11";
    int rc = pm__jobs_log(ctx, &ev, err);
    if (rc) return rc;
    if (!dec->allow) return pm_error_set(err, PM_EDENIED, "R%d: %s", dec->rule, dec->reason);
    return PM_OK;
}

int pm_transfer_received(const pm_jobs_ctx_t *ctx, int64_t id, const char *third_party,
                         const char *purpose, int64_t now, pm_buf_t *out, pm_decision_t *dec,
                         pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if (!out || !code_ok(third_party))
        return pm_error_set(err, PM_EINVAL, "transfer: a third party code (alpha-3) is required");
    pm_decision_t d;
    if (!dec) dec = &d;
    pm_received_t r;
    pm_buf_t payload;
    pm_buf_init(&payload, PM_JOBS_PAYLOAD_MAX + 1);
    rc = pm_received_get(ctx->store, id, &r, &payload, err);
    if (!rc) {
        char ref[64];
        snprintf(ref, sizeof ref, "received:%lld", (long long)id);
        rc = decide_and_log(ctx, r.origin, ref, third_party, purpose, now, dec, err);
    }
    if (!rc && payload.len && pm_buf_append(out, payload.data, payload.len))
        rc = pm_error_set(err, PM_ELIMIT, "transfer: output buffer full");
    pm_buf_free(&payload);
    return rc;
}

int pm_transfer_crossing(const pm_jobs_ctx_t *ctx, int64_t store_id, const char *third_party,
                         const char *purpose, int64_t now, pm_buf_t *out, pm_decision_t *dec,
                         pm_error_t *err)
{
    int rc = pm__jobs_ctx_check(ctx, err);
    if (rc) return rc;
    if (!out || !code_ok(third_party))
        return pm_error_set(err, PM_EINVAL, "transfer: a third party code (alpha-3) is required");
    pm_decision_t d;
    if (!dec) dec = &d;
    pm_crossing_t c;
    rc = pm_store_get_crossing(ctx->store, store_id, &c, err);
    if (rc) return rc;
    char ref[PM_JOBS_REF_MAX];
    snprintf(ref, sizeof ref, "%s:%s", c.reporting_country, c.record_id);
    rc = decide_and_log(ctx, c.origin, ref, third_party, purpose, now, dec, err);
    if (!rc && pm_crossing_to_jsonl(&c, c.store_id, out))
        rc = pm_error_set(err, PM_ELIMIT, "transfer: output buffer full");
    return rc;
}
