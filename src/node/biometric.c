/* The gallery's routes: the partner's anonymous biometric query (through the
 * policy library and the disclosure log at every step) and the officers'
 * enrol / identify / verify. The gallery engine is used only through its
 * public API (include/perimeter/gallery.h): in-process by default, or its
 * shards over NATS when the configuration names them (include/perimeter/
 * shard.h, docs/scale.md). */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/server_impl.h"
#include "perimeter/an2k.h"
#include "perimeter/audit.h"
#include "perimeter/gallery.h"
#include "perimeter/policy.h"
#include "perimeter/shard.h"
#include "perimeter/travel.h"

/* ------------------------------------------------------------ helpers */

/* Decodes standard base64 into a fresh buffer (caller wipes and frees). */
static int b64_decode(const char *b64, uint8_t **out, size_t *out_len, size_t *out_cap)
{
    size_t cap = strlen(b64) / 4 * 3 + 3, n = 0;
    uint8_t *d = malloc(cap);
    if (!d)
        return PM_ENOMEM;
    if (sodium_base642bin(d, cap, b64, strlen(b64), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n == 0) {
        free(d);
        return PM_EFORMAT;
    }
    *out = d;
    *out_len = n;
    *out_cap = cap;
    return PM_OK;
}

/* Reads a "fingers" array of {position?, format, data} into one probe;
 * answers 400/422 and returns -1 on a bad item. */
int pm__read_fingers(pm__req_t *rq, const json_t *arr, pm__probe_t *p)
{
    const pm__jfield_t *f = pm__body_finger_fields;
    memset(p, 0, sizeof *p);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        char where[32], field[96];
        pm_error_t e;
        pm_error_clear(&e);
        snprintf(where, sizeof where, "fingers[%zu]", i);
        if (pm__json_check(v, where, f, 3, field, sizeof field, &e)) {
            pm__reply_error(rq, 400, "invalid_field", e.msg, field);
            return -1;
        }
        json_int_t pos = json_integer_value(json_object_get(v, "position"));
        if (pos < 0 || pos > 10) {
            pm__reply_error(rq, 400, "invalid_field", "position: 0..10", where);
            return -1;
        }
        uint8_t *d = NULL;
        size_t n = 0, cap = 0;
        if (b64_decode(pm__json_str(v, "data"), &d, &n, &cap)) {
            pm__reply_error(rq, 400, "invalid_field", "data: not standard base64", where);
            return -1;
        }
        pm__probe_t one;
        int rc = pm__probe_read(rq->node->extractor, pm__json_str(v, "format"), d, n, &one, &e);
        sodium_memzero(d, cap);
        free(d);
        if (!rc && p->n + one.n > PM__PROBE_MAX)
            rc = pm_error_set(&e, PM_ELIMIT, "more than %d finger views", PM__PROBE_MAX);
        if (rc) {
            pm__probe_wipe(&one);
            pm__reply_error(rq, rc == PM_EUNSUPPORTED ? 400 : 422,
                            rc == PM_EUNSUPPORTED ? "invalid_field" : "probe_invalid", e.msg, where);
            return -1;
        }
        for (int k = 0; k < one.n; k++) {
            p->views[p->n] = one.views[k];
            p->position[p->n] = pos ? (int)pos : one.position[k];
            p->n++;
        }
        pm__probe_wipe(&one);
    }
    if (p->n == 0) {
        pm__reply_error(rq, 400, "missing_field", "fingers: at least one", "fingers");
        return -1;
    }
    return 0;
}

const pm_gallery_calibration_t *pm__node_fused_calibration(const pm_node_t *node,
                                                           pm_gallery_calibration_t *buf)
{
    if (node->cfg->gallery_fused_nominal)
        return NULL;
    pm_gallery_fused_calibration_default(buf);
    return buf;
}

void pm__calibrate_verify(const pm_node_t *node, int nfingers, pm_gallery_candidate_t *c)
{
    pm_gallery_calibration_t buf;
    const pm_gallery_calibration_t *fc = pm__node_fused_calibration(node, &buf);
    c->fused_raw = c->score;
    if (nfingers > 1 && fc)
        c->score = pm_gallery_fused_score(fc, c->score);
}

static int to_fingers(const pm__probe_t *p, pm_gallery_finger_t *f)
{
    for (int i = 0; i < p->n; i++) {
        f[i].position = p->position[i];
        f[i].fp = &p->views[i];
    }
    return p->n;
}

/* The node's 1:N search: the in-process gallery, or every shard over NATS
 * with the configured deadline. *a says which shards answered (in-process:
 * one "shard", always whole); *records the records searched. */
static int node_identify(pm_node_t *node, const pm_gallery_finger_t *f, int nf,
                         const pm_gallery_search_options_t *so, pm_gallery_candidate_t *c,
                         size_t *nc, pm_shard_answer_t *a, pm_error_t *e)
{
    if (node->shards)
        return pm_shard_identify(node->shards, f, nf, so, (int)node->cfg->gallery_deadline_ms, c,
                                 nc, a, e);
    memset(a, 0, sizeof *a);
    pm_gallery_search_stats_t stats;
    memset(&stats, 0, sizeof stats);
    int rc = pm_gallery_identify(node->gallery, f, nf, so, c, nc, &stats, e);
    a->shards = a->replied = 1;
    a->records_scanned = stats.records_scanned;
    a->seconds = stats.seconds;
    return rc;
}

/* The shards that did not answer, as a JSON array. */
static json_t *missing_json(const pm_shard_answer_t *a)
{
    json_t *arr = json_array();
    for (int k = 0; arr && k < a->shards; k++)
        if (a->missing[k])
            json_array_append_new(arr, json_integer(k));
    return arr;
}

/* What a sharded search's answer says of its shards: {"shards", "replied",
 * "partial", "missing", "hedged"} added to o. */
static void add_shards(json_t *o, const pm_shard_answer_t *a)
{
    json_object_set_new(o, "shards", json_integer(a->shards));
    json_object_set_new(o, "shards_replied", json_integer(a->replied));
    json_object_set_new(o, "partial", json_boolean(a->partial));
    json_object_set_new(o, "shards_missing", missing_json(a));
    json_object_set_new(o, "shards_hedged", json_integer(a->hedged));
}

/* What the node knows of an enrolled subject. */
typedef struct subject_row {
    char surname[PM_NAME_MAX + 1], given_names[PM_NAME_MAX + 1], dob[16], citizenship[4], sex[2];
    char status[24], persecution_by[4], decisions[256];
    int prior_adverse, refused, removed;
    long long encounters;
} subject_row_t;

static int subject_get(pm_store_t *st, uint64_t id, subject_row_t *r, pm_error_t *err)
{
    memset(r, 0, sizeof *r);
    pm_stmt_t *q = NULL;
    int rc = pm_stmt_prepare(st,
                             "SELECT surname, given_names, date_of_birth, citizenship, sex, status, "
                             "persecution_by, decisions, prior_adverse, refused, removed, encounters "
                             "FROM gallery_subject WHERE subject = ?",
                             &q, err);
    if (rc) {
        pm_error_prefix(err, "subject");
        return rc;
    }
    pm_stmt_bind_int64(q, 1, (int64_t)id);
    int s = pm_stmt_step(q, err);
    if (s == 1) {
#define COL(i, dst) snprintf(dst, sizeof dst, "%s", pm_stmt_text(q, i) ? pm_stmt_text(q, i) : "")
        COL(0, r->surname);
        COL(1, r->given_names);
        COL(2, r->dob);
        COL(3, r->citizenship);
        COL(4, r->sex);
        COL(5, r->status);
        COL(6, r->persecution_by);
        COL(7, r->decisions);
#undef COL
        r->prior_adverse = (int)pm_stmt_int64(q, 8);
        r->refused = (int)pm_stmt_int64(q, 9);
        r->removed = (int)pm_stmt_int64(q, 10);
        r->encounters = pm_stmt_int64(q, 11);
    } else if (s == 0) {
        rc = pm_error_set(err, PM_ENOTFOUND, "subject %" PRIu64 " has no record", id);
    } else {
        rc = s;
        pm_error_prefix(err, "subject");
    }
    pm_stmt_finish(q);
    return rc;
}

/* R2: the class of a subject as the requesting partner sees it. */
static pm_subject_class_t subject_class(const subject_row_t *r, const char *ours,
                                        const char *requester)
{
    if (strcmp(r->status, "citizen") == 0 || strcmp(r->citizenship, ours) == 0 ||
        strcmp(r->citizenship, requester) == 0)
        return PM_SUBJ_CITIZEN;
    if (strcmp(r->status, "permanent_resident") == 0)
        return PM_SUBJ_PERMANENT_RESIDENT;
    if (strcmp(r->status, "asylum_claimant") == 0 && strcmp(r->persecution_by, requester) == 0)
        return PM_SUBJ_ASYLUM_PERSECUTION_BY_REQUESTER;
    return PM_SUBJ_FOREIGN_NATIONAL;
}

/* ------------------------------------------------------------ partner query */

/* One partner biometric query, whatever its wire format. */
typedef struct bio_query {
    const char *purpose, *txn, *format;
    const char *supersedes; /* the lost query's id this one re-asks (NULL: none) */
    uint8_t *raw; /* the probe's bytes: wiped and freed here */
    size_t n, cap;
    int has_bio_fields; /* biographic data beside the probe (judged by R5) */
} bio_query_t;

typedef struct bio_answer {
    int match;      /* a match the agreement lets us disclose */
    double score;   /* its calibrated score */
    json_t *fields; /* the disclosure (allow-list of the purpose, R4), match only */
} bio_answer_t;

/* The partner's anonymous biometric query. In order: the probe decoded
 * (template, image or ANSI/NIST transaction), the query decided by the policy
 * (R15 channel, R1 purpose, R5 anonymous, R13 quota) and logged with the
 * probe's hash; the gallery searched; the probe destroyed (R6:
 * pm_policy_retain_probe refuses it once matching ended; the log keeps only
 * its SHA-256); the best candidate's disclosure decided (R2 subject class, R3
 * established match or prior adverse decision, R16) and serialized from the
 * purpose's allow-list (R4); the disclosure or "no match" logged and made
 * durable. A withheld match answers exactly like no match. Returns 0 with
 * *out filled (the caller answers in its format: JSON or ANSI/NIST), or -1
 * after answering an error or a refusal itself. */
static int partner_query(pm__req_t *rq, pm_store_t *st, bio_query_t *q, bio_answer_t *out)
{
    memset(out, 0, sizeof *out);
    const pm_agreement_t *a = rq->partner->agreement;
    const char *purpose = q->purpose, *txn = q->txn, *format = q->format;
    pm_node_t *node = rq->node;
    pm_error_t e;
    pm_error_clear(&e);
    uint8_t *raw = q->raw;
    size_t n = q->n, cap = q->cap;
    q->raw = NULL;
    unsigned char ph[PM_AUDIT_HASH_BYTES];
    int ret = -1;
    pm__probe_t *p = calloc(1, sizeof *p);
    char actor[80], basis[PM_AGR_CODE_MAX + 16];
    pm__audit_actor(rq, actor, sizeof actor);
    snprintf(basis, sizeof basis, "agreement %s", a->version);
    if (!p) {
        pm__reply_error(rq, 503, "busy", "out of memory", NULL);
        goto out;
    }
    int superseded = 0;
    if (pm__replay_check(rq, st, purpose, txn, q->supersedes, &superseded))
        goto out; /* a transaction id already answered: refused before it counts */
    pm_audit_probe_hash(raw, n, ph);
    /* the query is decided before any work is spent on the probe */
    int has_bio = pm__probe_has_biographic(format, raw, n) || q->has_bio_fields;
    pm_query_facts_t qf = {purpose, 1, has_bio};
    pm_decision_t d;
    int rc;
    if ((rc = pm__quota_decide(node, rq->partner, a, &qf, 1, (int64_t)time(NULL), txn,
                               superseded ? q->supersedes : NULL, &d, &e))) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        goto destroyed;
    }
    if (!d.allow) {
        sodium_memzero(raw, cap);
        free(raw);
        raw = NULL;
        pm__audit_t dev = {"probe_destroyed", actor, rq->partner->code, purpose, "R6", NULL, 0,
                           NULL, 0, txn, ph};
        if (pm__audit_or_fail(rq, &dev) == 0)
            pm__refuse_logged(rq, purpose, &d, txn, ph,
                              d.rule == 5 ? "surname" : d.rule == 1 ? "purpose" : NULL);
        goto out;
    }
    rc = pm__probe_read(node->extractor, format, raw, n, p, &e);
    sodium_memzero(raw, cap); /* the views are all that matching needs */
    free(raw);
    raw = NULL;
    if (rc) {
        pm__reply_error(rq, rc == PM_EUNSUPPORTED ? 400 : 422,
                        rc == PM_EUNSUPPORTED ? "invalid_field" : "probe_invalid", e.msg,
                        rc == PM_EUNSUPPORTED ? "format" : "data");
        goto destroyed;
    }
    pm__audit_t qev = {"query", actor, rq->partner->code, purpose, basis, NULL, 0, NULL, 0, txn,
                       ph};
    if (pm__audit_or_fail(rq, &qev))
        goto destroyed;
    /* 1:N: the best subject scoring at least the agreement's threshold and,
     * when it states match_fpir, at least the score whose false-positive
     * identification rate over the records searched is match_fpir (the
     * gallery's size counts); weaker candidates are not the person and are
     * never looked at. R3 (pm_policy_disclosure) still asks for the plain
     * match_threshold. */
    pm_gallery_finger_t fingers[PM__PROBE_MAX];
    int nf = to_fingers(p, fingers);
    pm_gallery_search_options_t so;
    memset(&so, 0, sizeof so);
    so.max_candidates = 1;
    so.threshold = a->match_threshold;
    so.target_fpir = a->match_fpir;
    so.first_stage = !node->cfg->gallery_exhaustive;
    /* ten-print scores calibrated per subject compared (docs/gallery.md
     * "Fused score calibration"): match_threshold and match_fpir mean for a
     * ten-print what they mean for one finger */
    pm_gallery_calibration_t fcal;
    so.fused_calibration = pm__node_fused_calibration(node, &fcal);
    pm_gallery_candidate_t cand;
    size_t nc = 0;
    pm_shard_answer_t sa;
    rc = node_identify(node, fingers, nf, &so, &cand, &nc, &sa, &e);
    /* R6: matching has ended; the probe may not be kept */
    pm_decision_t rd;
    pm_policy_retain_probe(a, 1, &rd);
    if (!rd.allow)
        pm__probe_wipe(p);
    pm__audit_t dev = {"probe_destroyed", actor, rq->partner->code, purpose, "R6", NULL, 0, NULL,
                       0, txn, ph};
    if (pm__audit_or_fail(rq, &dev))
        goto out;
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        goto out;
    }
    if (sa.partial && !nc) {
        /* shards missing and nothing found: not a "no match" (the person may
         * be on a missing shard); the partner asks again */
        char m[160];
        int len = snprintf(m, sizeof m, "the gallery answered in part (%d of %d shards; missing:",
                           sa.replied, sa.shards);
        for (int k = 0; k < sa.shards && len > 0 && (size_t)len < sizeof m - 16; k++)
            if (sa.missing[k])
                len += snprintf(m + len, sizeof m - (size_t)len, " %d", k);
        if (len > 0 && (size_t)len < sizeof m - 2)
            snprintf(m + len, sizeof m - (size_t)len, ")");
        pm__node_log(node, 1, "partner %s biometric query %s: %s", rq->partner->code, txn, m);
        pm__reply_error(rq, 503, "gallery_partial", m, NULL);
        goto out;
    }
    subject_row_t sr;
    char rec[40] = "";
    int have = 0;
    if (nc) {
        snprintf(rec, sizeof rec, "subject:%" PRIu64, cand.subject);
        int g = subject_get(st, cand.subject, &sr, &e);
        if (g && g != PM_ENOTFOUND) {
            pm__reply_pm_error(rq, g, &e, NULL);
            goto out;
        }
        have = g == PM_OK;
    }
    pm_answer_facts_t af = {purpose,
                            have ? subject_class(&sr, node->cfg->country, rq->partner->code)
                                 : PM_SUBJ_FOREIGN_NATIONAL,
                            nc > 0,
                            nc ? cand.score : 0.0,
                            have && sr.prior_adverse,
                            have /* a match with no subject record cannot be vouched for (R16) */};
    pm_decision_t dd;
    pm_policy_disclosure(a, &af, &dd);
    if (dd.allow) {
        char match[64], enc[24];
        snprintf(match, sizeof match, "established (score %.1f)", cand.score);
        snprintf(enc, sizeof enc, "%lld", sr.encounters);
        const pm_field_value_t vals[] = {
            {"surname", sr.surname},         {"given_names", sr.given_names},
            {"date_of_birth", sr.dob},       {"citizenship", sr.citizenship},
            {"sex", sr.sex},                 {"match", match},
            {"prior_encounters", enc},       {"immigration_decisions", sr.decisions},
            {"refused", sr.refused ? "yes" : "no"}, {"removed", sr.removed ? "yes" : "no"},
        };
        pm_buf_t ser;
        pm_buf_init(&ser, 1u << 16);
        rc = pm_disclosure_serialize(a, purpose, vals, sizeof vals / sizeof vals[0], &ser, NULL,
                                     &e);
        json_t *one = rc ? NULL : json_loadb((const char *)ser.data, ser.len, 0, NULL);
        pm_buf_free(&ser);
        json_t *fields = one ? json_incref(json_object_get(one, "fields")) : NULL;
        json_decref(one);
        if (!fields) {
            pm__reply_pm_error(rq, rc ? rc : PM_EINTERNAL, &e, NULL);
            goto out;
        }
        const char *names[PM_AGR_MAX_FIELDS];
        size_t nn = 0;
        const char *k;
        json_t *v;
        json_object_foreach(fields, k, v) {
            int fi = pm_agreement_field_index(k);
            if (fi >= 0 && nn < PM_AGR_MAX_FIELDS)
                names[nn++] = pm_agreement_field_name((size_t)fi);
        }
        const char *recs[1] = {rec};
        pm__audit_t aev = {"disclosure", actor, rq->partner->code, purpose, basis, names, nn,
                           recs, 1, txn, NULL};
        if (pm__audit_or_fail(rq, &aev) || pm__sync_or_fail(rq)) {
            json_decref(fields);
            goto out;
        }
        out->match = 1;
        out->score = cand.score;
        out->fields = fields;
    } else {
        if (nc && (rc = pm__audit_refusal(rq, purpose, &dd, txn, rec, NULL, &e))) {
            pm__reply_pm_error(rq, rc, &e, NULL);
            goto out;
        }
        pm__audit_t aev = {"answer", actor, rq->partner->code, purpose,
                           nc ? "no_match" : "no_match R3", NULL, 0, NULL, 0, txn, NULL};
        if (pm__audit_or_fail(rq, &aev) || pm__sync_or_fail(rq))
            goto out;
    }
    pm__node_log(node, 0, "partner %s biometric query %s (%s) purpose %s: %s, probe destroyed",
                 rq->partner->code, txn, format, purpose,
                 dd.allow ? "match disclosed" : "no match");
    ret = 0;
    goto out;
destroyed:
    /* refused before matching: the probe is destroyed all the same (R6) */
    pm__probe_wipe(p);
    {
        pm__audit_t gone = {"probe_destroyed", actor, rq->partner->code, purpose, "R6", NULL, 0,
                            NULL, 0, txn, ph};
        pm_error_t e2;
        if (pm__audit_append(node, &gone, &e2) == PM_OK)
            pm__audit_sync(node, &e2);
    }
out:
    if (raw) {
        sodium_memzero(raw, cap);
        free(raw);
    }
    if (p) {
        pm__probe_wipe(p);
        free(p);
    }
    return ret;
}

/* POST /v1/partner/query/biometric: the JSON form (docs/API.md). */
void pm__h_partner_query_biometric(pm__req_t *rq, pm_store_t *st)
{
    json_t *o = pm__json_body(rq, &pm__body_partner_biometric);
    if (!o)
        return;
    bio_query_t q = {pm__json_str(o, "purpose"), pm__json_str(o, "transaction_id"),
                     pm__json_str(o, "format"), pm__json_str(o, "supersedes"), NULL, 0, 0,
                     json_object_get(o, "surname") || json_object_get(o, "given_names") ||
                         json_object_get(o, "date_of_birth") || json_object_get(o, "citizenship")};
    int rc = b64_decode(pm__json_str(o, "data"), &q.raw, &q.n, &q.cap);
    if (rc) {
        if (rc == PM_ENOMEM)
            pm__reply_error(rq, 503, "busy", "out of memory", NULL);
        else
            pm__reply_error(rq, 400, "invalid_field", "data: not standard base64", "data");
    } else {
        bio_answer_t ans;
        if (partner_query(rq, st, &q, &ans) == 0) {
            json_t *r;
            if (ans.match) /* R14: the partner may not act adversely on this before a person
                            * confirms it */
                r = json_pack("{s:s, s:s, s:s, s:o, s:b}", "transaction_id", q.txn, "purpose",
                              q.purpose, "result", "match", "disclosure", ans.fields,
                              "review_required", rq->partner->agreement->review_before_adverse_action);
            else
                r = json_pack("{s:s, s:s, s:s}", "transaction_id", q.txn, "purpose", q.purpose,
                              "result", "no_match");
            pm__reply_json(rq, 200, r);
        }
    }
    sodium_memzero(rq->body.data, rq->body.len);
    json_decref(o);
}

/* POST /v1/partner/query/vetting: the same query as an ANSI/NIST transaction
 * of the vetting profile (docs/an2k.md): a search request PMSR (Type-1 TCN,
 * Type-2 2.037 purpose, Type-14 images or Type-9 minutiae) answered by a
 * search response PMRS: TCR = the request's TCN, 2.059 match indicator, 2.064
 * candidate list and 2.070 disclosed fields. The candidate list says no more
 * than the JSON answer: one candidate at most, identified by its rank ("1",
 * the gallery's subject id is never sent), with its score only when the
 * purpose's allow-list discloses "match" (else 0), and 2.070 holds exactly
 * the fields the JSON answer's "disclosure" holds. Refusals and errors are
 * answered as on every route (JSON with the rule), so are logged the same. */
void pm__h_partner_query_vetting(pm__req_t *rq, pm_store_t *st)
{
    pm_an2k_txn_t t;
    memset(&t, 0, sizeof t);
    pm_an2k_vetting_t *v = calloc(1, sizeof *v);
    pm_error_t e;
    pm_error_clear(&e);
    bio_query_t q = {NULL, NULL, "an2k", NULL, NULL, 0, 0, 0};
    int rc = v ? pm_an2k_read(rq->body.data, rq->body.len, &t, &e) : PM_ENOMEM;
    if (!rc)
        rc = pm_an2k_vetting_parse(&t, v, &e);
    if (!rc && strcmp(v->tot, PM_AN2K_TOT_SEARCH) != 0)
        rc = pm_error_set(&e, PM_EVALIDATION, "TOT %s: this route takes a search request (%s)",
                          v->tot, PM_AN2K_TOT_SEARCH);
    if (!rc && strlen(v->purpose) >= PM_AGR_CODE_MAX)
        rc = pm_error_set(&e, PM_EVALIDATION, "2.037: purpose code too long");
    pm_an2k_free(&t); /* the probe is read again (with its images) from the copy below */
    if (rc == PM_ENOMEM) {
        pm__reply_error(rq, 503, "busy", "out of memory", NULL);
        goto out;
    }
    if (rc) {
        pm__reply_error(rq, 400, "invalid_transaction", e.msg, "an2k");
        goto out;
    }
    q.purpose = v->purpose;
    q.txn = v->tcn;
    q.supersedes = v->supersedes[0] ? v->supersedes : NULL; /* 2.900: a re-ask (replay.c) */
    q.n = q.cap = rq->body.len;
    q.raw = malloc(q.cap);
    if (!q.raw) {
        pm__reply_error(rq, 503, "busy", "out of memory", NULL);
        goto out;
    }
    memcpy(q.raw, rq->body.data, q.n);
    bio_answer_t ans;
    if (partner_query(rq, st, &q, &ans) != 0)
        goto out;
    /* the response: our own TCN, the request's as TCR */
    char tcn[64], date[9];
    unsigned char nonce[8];
    randombytes_buf(nonce, sizeof nonce);
    snprintf(tcn, sizeof tcn, "%s-%02x%02x%02x%02x%02x%02x%02x%02x", rq->node->cfg->country,
             nonce[0], nonce[1], nonce[2], nonce[3], nonce[4], nonce[5], nonce[6], nonce[7]);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y%m%d", &tm);
    pm_an2k_candidate_t cand = {"1", 0};
    const char *names[PM_AN2K_MAX_DISCLOSED], *values[PM_AN2K_MAX_DISCLOSED];
    size_t nd = 0;
    if (ans.match) {
        const char *k;
        json_t *val;
        json_object_foreach(ans.fields, k, val) {
            if (nd == PM_AN2K_MAX_DISCLOSED)
                break;
            names[nd] = k;
            values[nd++] = json_is_string(val) ? json_string_value(val) : "";
            if (!strcmp(k, "match"))
                cand.score = ans.score; /* the score is disclosed: the allow-list has "match" */
        }
    }
    pm_an2k_response_t r = {tcn, date, ans.match, ans.match ? &cand : NULL, ans.match ? 1 : 0,
                            NULL, names, values, nd};
    pm_an2k_txn_t resp;
    uint8_t *bytes = NULL;
    size_t len = 0;
    rc = pm_an2k_response_build(v, &r, &resp, &e);
    if (!rc) {
        rc = pm_an2k_write(&resp, &bytes, &len, &e);
        pm_an2k_free(&resp);
    }
    json_decref(ans.fields);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        goto out;
    }
    pm__reply(rq, 200, "application/octet-stream", (char *)bytes, len);
out:
    free(v);
    sodium_memzero(rq->body.data, rq->body.len);
}

/* ------------------------------------------------------------ officers */

static int subject_put(pm_store_t *st, uint64_t id, const json_t *person, pm_error_t *err)
{
    pm_stmt_t *q = NULL;
    int rc = pm_stmt_prepare(
        st,
        "INSERT INTO gallery_subject (subject, surname, given_names, date_of_birth, "
        "citizenship, sex, status, persecution_by, prior_adverse, refused, removed, "
        "decisions, encounters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) "
        "ON CONFLICT (subject) DO UPDATE SET surname = excluded.surname, "
        "given_names = excluded.given_names, date_of_birth = excluded.date_of_birth, "
        "citizenship = excluded.citizenship, sex = excluded.sex, status = excluded.status, "
        "persecution_by = excluded.persecution_by, prior_adverse = excluded.prior_adverse, "
        "refused = excluded.refused, removed = excluded.removed, "
        "decisions = excluded.decisions, encounters = gallery_subject.encounters + 1",
        &q, err);
    if (rc) {
        pm_error_prefix(err, "subject");
        return rc;
    }
    static const char *const keys[] = {"surname", "given_names", "date_of_birth", "citizenship",
                                       "sex",     "status",      "persecution_by"};
    pm_stmt_bind_int64(q, 1, (int64_t)id);
    for (int i = 0; i < 7; i++) {
        const char *v = pm__json_str(person, keys[i]);
        pm_stmt_bind_text(q, 2 + i, v ? v : (i == 5 ? "foreign_national" : ""));
    }
    pm_stmt_bind_int64(q, 9, pm__json_bool(person, "prior_adverse_decision", 0));
    pm_stmt_bind_int64(q, 10, pm__json_bool(person, "refused", 0));
    pm_stmt_bind_int64(q, 11, pm__json_bool(person, "removed", 0));
    const char *dec = pm__json_str(person, "decisions");
    pm_stmt_bind_text(q, 12, dec ? dec : "");
    rc = pm_stmt_step(q, err);
    pm_stmt_finish(q);
    if (rc < 0) {
        /* a constraint (the status CHECK) is the caller's input */
        if (rc == PM_EEXISTS) {
            rc = PM_EVALIDATION;
            if (err)
                err->code = rc;
        }
        pm_error_prefix(err, "subject");
        return rc;
    }
    return PM_OK;
}

/* POST /v1/gallery/enrol {subject, encounter?, person?, fingers:[...]}: the
 * store first (system of record, one transaction), then the in-memory gallery. */
void pm__h_gallery_enrol(pm__req_t *rq, pm_store_t *st)
{
    const pm__jfield_t *pf = pm__body_person_fields;
    json_t *o = pm__json_body(rq, &pm__body_enrol);
    if (!o)
        return;
    pm__probe_t *p = calloc(1, sizeof *p);
    pm_error_t e;
    pm_error_clear(&e);
    const json_t *person = json_object_get(o, "person");
    json_t *empty = json_object();
    char field[96];
    json_int_t subj = json_integer_value(json_object_get(o, "subject"));
    json_int_t enc = json_object_get(o, "encounter")
                         ? json_integer_value(json_object_get(o, "encounter"))
                         : 1;
    if (!p || !empty) {
        pm__reply_error(rq, 503, "busy", "out of memory", NULL);
        goto out;
    }
    if (person && pm__json_check(person, "person", pf, 11, field,
                                 sizeof field, &e)) {
        pm__reply_error(rq, 400, "invalid_field", e.msg, field);
        goto out;
    }
    const char *status = person ? json_string_value(json_object_get(person, "status")) : NULL;
    if (status && strcmp(status, "foreign_national") && strcmp(status, "citizen") &&
        strcmp(status, "permanent_resident") && strcmp(status, "asylum_claimant")) {
        pm__reply_error(rq, 400, "invalid_field",
                        "status is foreign_national, citizen, permanent_resident or "
                        "asylum_claimant",
                        "person.status");
        goto out;
    }
    if (subj <= 0 || enc <= 0 || enc > UINT32_MAX) {
        pm__reply_error(rq, 400, "invalid_field", "subject and encounter: positive integers",
                        subj <= 0 ? "subject" : "encounter");
        goto out;
    }
    if (pm__read_fingers(rq, json_object_get(o, "fingers"), p))
        goto out;
    /* the gallery refuses views it cannot search: refuse them before the
     * store keeps them (the store is reloaded into the gallery at start) */
    for (int i = 0; i < p->n; i++)
        if (p->views[i].count < 3) {
            char m[96];
            snprintf(m, sizeof m, "finger %d has %zu minutiae; at least 3 are needed", i,
                     p->views[i].count);
            pm__reply_error(rq, 422, "probe_invalid", m, "fingers");
            goto out;
        }
    pthread_mutex_lock(&rq->node->enrol_mu);
    int rc = pm_store_begin(st, &e);
    for (int i = 0; !rc && i < p->n; i++)
        rc = pm_gallery_store_put(st, (uint64_t)subj, (uint32_t)enc, p->position[i], &p->views[i],
                                  &e);
    if (!rc)
        rc = subject_put(st, (uint64_t)subj, person ? person : empty, &e);
    if (!rc)
        rc = pm_store_commit(st, &e);
    else
        pm_store_rollback(st, NULL);
    /* sharded: stored (committed) first, then sent to the subject's shard;
     * a shard that does not acknowledge loads it from the store when it
     * starts, so the enrolment stands and the answer says so */
    int acked = 0;
    pm_error_t se;
    pm_error_clear(&se);
    for (int i = 0; !rc && rq->node->shards && i < p->n; i++)
        if (pm_shard_client_enrol(rq->node->shards, (uint64_t)subj, (uint32_t)enc,
                                  p->position[i], &p->views[i],
                                  (int)rq->node->cfg->gallery_deadline_ms, &se) == PM_OK)
            acked++;
    for (int i = 0; !rc && !rq->node->shards && i < p->n; i++)
        rc = pm_gallery_insert(rq->node->gallery, (uint64_t)subj, (uint32_t)enc, p->position[i],
                               &p->views[i], &e);
    pthread_mutex_unlock(&rq->node->enrol_mu);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        goto out;
    }
    pm__node_log(rq->node, 0, "officer %s enrolled subject %lld encounter %lld (%d finger%s)",
                 rq->officer, (long long)subj, (long long)enc, p->n, p->n == 1 ? "" : "s");
    if (rq->node->shards) {
        int k = pm_shard_of((uint64_t)subj, (int)rq->node->cfg->gallery_shards);
        if (acked < p->n)
            pm__node_log(rq->node, 1,
                         "subject %lld stored; shard %d acknowledged %d of %d finger%s: %s",
                         (long long)subj, k, acked, p->n, p->n == 1 ? "" : "s",
                         pm_error_text(&se));
        pm__reply_json(rq, 200,
                       json_pack("{s:I, s:I, s:i, s:i, s:b}", "subject", subj, "encounter", enc,
                                 "fingers", p->n, "shard", k, "shard_acknowledged",
                                 acked == p->n));
    } else
        pm__reply_json(rq, 200,
                       json_pack("{s:I, s:I, s:i, s:I}", "subject", subj, "encounter", enc,
                                 "fingers", p->n, "gallery_fingers",
                                 (json_int_t)pm_gallery_count(rq->node->gallery)));
out:
    json_decref(empty);
    if (p) {
        pm__probe_wipe(p);
        free(p);
    }
    json_decref(o);
}

/* POST /v1/gallery/identify {fingers, max_candidates?, threshold?}: our
 * own search (no partner involved, nothing disclosed). */
void pm__h_gallery_identify(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    json_t *o = pm__json_body(rq, &pm__body_identify);
    if (!o)
        return;
    pm__probe_t *p = calloc(1, sizeof *p);
    pm_gallery_candidate_t *c = NULL;
    json_int_t k = json_object_get(o, "max_candidates")
                       ? json_integer_value(json_object_get(o, "max_candidates"))
                       : 10;
    if (!p) {
        pm__reply_error(rq, 503, "busy", "out of memory", NULL);
        goto out;
    }
    if (k < 1 || k > 100) {
        pm__reply_error(rq, 400, "invalid_field", "max_candidates: 1..100", "max_candidates");
        goto out;
    }
    if (pm__read_fingers(rq, json_object_get(o, "fingers"), p))
        goto out;
    pm_gallery_finger_t fingers[PM__PROBE_MAX];
    int nf = to_fingers(p, fingers);
    pm_gallery_search_options_t so;
    memset(&so, 0, sizeof so);
    so.max_candidates = (int)k;
    so.threshold = json_object_get(o, "threshold")
                       ? json_number_value(json_object_get(o, "threshold"))
                       : 0.0;
    so.first_stage = !rq->node->cfg->gallery_exhaustive;
    /* a multi-finger probe's score (and the threshold) on the calibrated
     * fused scale, as in the partner query; fused_raw is pm_gallery_fuse's */
    pm_gallery_calibration_t fcal;
    so.fused_calibration = pm__node_fused_calibration(rq->node, &fcal);
    c = calloc((size_t)k, sizeof *c);
    size_t nc = 0;
    pm_shard_answer_t sa;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = c ? node_identify(rq->node, fingers, nf, &so, c, &nc, &sa, &e)
               : pm_error_set(&e, PM_ENOMEM, "out of memory");
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        goto out;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < nc; i++) {
        json_t *ci = json_pack("{s:I, s:f, s:I}", "subject", (json_int_t)c[i].subject, "score",
                               c[i].score, "encounter", (json_int_t)c[i].encounter);
        if (ci && nf > 1)
            json_object_set_new(ci, "fused_raw", json_real(c[i].fused_raw));
        json_array_append_new(arr, ci);
    }
    json_t *ans = json_pack("{s:o, s:I, s:f}", "candidates", arr, "records_searched",
                            (json_int_t)sa.records_scanned, "seconds", sa.seconds);
    if (ans && rq->node->shards)
        add_shards(ans, &sa); /* a partial answer says which shards it lacks */
    pm__reply_json(rq, 200, ans);
out:
    free(c);
    if (p) {
        pm__probe_wipe(p);
        free(p);
    }
    json_decref(o);
}

/* POST /v1/gallery/verify {subject, fingers}: 1:1 against one subject. */
void pm__h_gallery_verify(pm__req_t *rq, pm_store_t *st)
{
    (void)st;
    json_t *o = pm__json_body(rq, &pm__body_verify);
    if (!o)
        return;
    pm__probe_t *p = calloc(1, sizeof *p);
    json_int_t subj = json_integer_value(json_object_get(o, "subject"));
    if (!p) {
        pm__reply_error(rq, 503, "busy", "out of memory", NULL);
        goto out;
    }
    if (subj <= 0) {
        pm__reply_error(rq, 400, "invalid_field", "subject: a positive integer", "subject");
        goto out;
    }
    if (pm__read_fingers(rq, json_object_get(o, "fingers"), p))
        goto out;
    pm_gallery_finger_t fingers[PM__PROBE_MAX];
    int nf = to_fingers(p, fingers);
    pm_gallery_candidate_t c;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = rq->node->shards
                 ? pm_shard_verify(rq->node->shards, (uint64_t)subj, fingers, nf,
                                   (int)rq->node->cfg->gallery_deadline_ms, &c, &e)
                 : pm_gallery_verify(rq->node->gallery, (uint64_t)subj, fingers, nf, &c, &e);
    if (rc == PM_ETIMEOUT) {
        pm__reply_error(rq, 503, "gallery_partial", e.msg, NULL);
        goto out;
    }
    if (rc == PM_ENOTFOUND) {
        pm__reply_error(rq, 404, "not_found", e.msg, "subject");
        goto out;
    }
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        goto out;
    }
    pm__calibrate_verify(rq->node, nf, &c);
    json_t *ans = json_pack("{s:I, s:f}", "subject", subj, "score", c.score);
    if (ans && nf > 1)
        json_object_set_new(ans, "fused_raw", json_real(c.fused_raw));
    pm__reply_json(rq, 200, ans);
out:
    if (p) {
        pm__probe_wipe(p);
        free(p);
    }
    json_decref(o);
}
