/* Rule decisions R1-R16 as pure functions: no I/O, no state but the
 * caller-owned quota counter. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "perimeter/policy.h"
#include "perimeter/travel.h"

static int allow(pm_decision_t *out)
{
    out->allow = 1;
    out->rule = 0;
    snprintf(out->reason, sizeof out->reason, "allowed");
    return PM_OK;
}

__attribute__((format(printf, 3, 4))) static int deny(pm_decision_t *out, int rule, const char *fmt,
                                                      ...)
{
    out->allow = 0;
    out->rule = rule;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
    return PM_OK;
}

/* R1: a purpose from the closed list; returns its index or -1 after denying. */
static int check_purpose(const pm_agreement_t *a, const char *purpose, pm_decision_t *out)
{
    if (!purpose || !*purpose) {
        deny(out, 1, "no purpose code");
        return -1;
    }
    int pi = pm_agreement_purpose_index(a, purpose);
    if (pi < 0) deny(out, 1, "purpose '%.64s' is not in the agreement", purpose);
    return pi;
}

/* R13: starts a new period when the old one is over; the caller counts on allow. */
static int check_quota(const pm_agreement_t *a, pm_quota_counter_t *qc, uint64_t *used,
                       uint64_t limit, const char *kind, int64_t now, pm_decision_t *out)
{
    /* A clock that steps back stays in the current period: it must not reopen the quota. */
    if (qc->period_start == 0 || now - qc->period_start >= a->quota_period_s) {
        qc->period_start = now;
        qc->biometric = qc->biographic = 0;
    }
    if (*used >= limit)
        return deny(out, 13, "%s quota of %llu per %lld days used up", kind,
                    (unsigned long long)limit, (long long)(a->quota_period_s / 86400));
    return 1;
}

static int query_common(const pm_agreement_t *a, const pm_query_facts_t *q, pm_decision_t *out)
{
    if (!q->channel_authenticated) {
        deny(out, 15, "channel not mutually authenticated and encrypted");
        return -1;
    }
    return check_purpose(a, q->purpose, out);
}

int pm_policy_biometric_query(const pm_agreement_t *a, const pm_query_facts_t *q,
                              pm_quota_counter_t *qc, int64_t now, pm_decision_t *out)
{
    if (!a || !q || !qc || !out) return PM_EINVAL;
    if (query_common(a, q, out) < 0) return PM_OK;
    if (q->has_biographic && !a->biographic_with_biometric)
        return deny(out, 5,
                    "biometric query carries biographic data and the agreement does not allow it");
    if (check_quota(a, qc, &qc->biometric, a->quota_biometric, "biometric query", now, out) != 1)
        return PM_OK;
    qc->biometric++;
    return allow(out);
}

int pm_policy_biographic_query(const pm_agreement_t *a, const pm_query_facts_t *q,
                               pm_quota_counter_t *qc, int64_t now, pm_decision_t *out)
{
    if (!a || !q || !qc || !out) return PM_EINVAL;
    int pi = query_common(a, q, out);
    if (pi < 0) return PM_OK;
    if (!(a->biographic_query_purposes & (1u << pi)))
        return deny(out, 1, "purpose '%.64s' does not allow a biographic query", q->purpose);
    if (check_quota(a, qc, &qc->biographic, a->quota_biographic, "biographic query", now, out) != 1)
        return PM_OK;
    qc->biographic++;
    return allow(out);
}

int pm_policy_disclosure(const pm_agreement_t *a, const pm_answer_facts_t *f, pm_decision_t *out)
{
    if (!a || !f || !out) return PM_EINVAL;
    if (check_purpose(a, f->purpose, out) < 0) return PM_OK;
    if ((unsigned)f->subject >= PM_SUBJ_COUNT) return deny(out, 2, "unknown subject class");
    if (a->never_disclose & (1u << f->subject))
        return deny(out, 2, "subject is a %s: never disclosed", pm_subject_class_name(f->subject));
    if (!f->prior_adverse_decision && !(f->matched && f->score >= a->match_threshold))
        return deny(
            out, 3,
            "no established match (score %.1f, threshold %.1f) and no prior adverse decision",
            f->matched ? f->score : 0.0, a->match_threshold);
    if (!f->record_valid) return deny(out, 16, "record failed validation at source");
    return allow(out);
}

int pm_policy_retain_probe(const pm_agreement_t *a, int matching_finished, pm_decision_t *out)
{
    if (!a || !out) return PM_EINVAL;
    if (matching_finished && a->retention_s[PM_RC_PROBE] == 0)
        return deny(out, 6, "matching has ended: the partner's probe must be destroyed now");
    return allow(out);
}

int pm_policy_keep_record(const pm_agreement_t *a, pm_record_class_t cls, int64_t created,
                          int64_t irrelevant_since, int64_t now, pm_decision_t *out)
{
    if (!a || !out || (unsigned)cls >= PM_RC_COUNT) return PM_EINVAL;
    if (now - created >= a->retention_s[cls])
        return deny(out, 9, "%s retention of %lld days has passed", pm_record_class_name(cls),
                    (long long)(a->retention_s[cls] / 86400));
    if (irrelevant_since > 0 && now - irrelevant_since >= a->irrelevant_destruction_s)
        return deny(out, 7, "found irrelevant and the %lld-day destruction deadline has passed",
                    (long long)(a->irrelevant_destruction_s / 86400));
    return allow(out);
}

int pm_policy_correction(size_t disclosed_to, size_t acknowledged, pm_decision_t *out)
{
    if (!out) return PM_EINVAL;
    if (acknowledged < disclosed_to)
        return deny(out, 8, "correction acknowledged by %zu of the %zu partners the record went to",
                    acknowledged, disclosed_to);
    return allow(out);
}

int pm_policy_onward_transfer(const pm_agreement_t *a, const char *origin, const char *ours,
                              const char *third_party, const char *purpose, pm_decision_t *out)
{
    if (!a || !origin || !ours || !third_party || !out) return PM_EINVAL;
    if (check_purpose(a, purpose, out) < 0) return PM_OK;
    if (strcmp(origin, ours) == 0) return allow(out);
    for (size_t i = 0; i < a->n_consents; i++)
        if (strcmp(a->consents[i].third_party, third_party) == 0 &&
            strcmp(a->consents[i].purpose, purpose) == 0)
            return allow(out);
    return deny(out, 11, "no recorded consent to forward %.8s data to %.16s for %.64s", origin,
                third_party, purpose);
}

int pm_policy_adverse_action(const pm_agreement_t *a, int reviewed, pm_decision_t *out)
{
    if (!a || !out) return PM_EINVAL;
    if (!reviewed && a->review_before_adverse_action)
        return deny(out, 14, "adverse action on a match before human review");
    return allow(out);
}

int pm_policy_send_crossing(const pm_crossing_t *c, pm_decision_t *out)
{
    if (!c || !out) return PM_EINVAL;
    if (c->origin[0])
        return deny(out, 11, "record %.40s was received from %.3s: not ours to send", c->record_id,
                    c->origin);
    pm_crossing_t copy = *c; /* finish fills normalised names: work on a copy */
    pm_crossing_field_t f = PM_CF_NONE;
    pm_error_t e;
    pm_error_clear(&e);
    if (pm_crossing_finish(&copy, &f, &e) != PM_OK)
        return deny(out, 16, "record %.40s fails validation at source: %.120s", c->record_id,
                    e.msg);
    return allow(out);
}
