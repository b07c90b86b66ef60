/* The gallery's routes: the partner's anonymous biometric query (through the
 * policy library and the disclosure log at every step) and the officers'
 * enrol / identify / verify. The gallery engine is used only through its
 * public API (include/perimeter/gallery.h). */
#include <inttypes.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/server_impl.h"
#include "perimeter/audit.h"
#include "perimeter/gallery.h"
#include "perimeter/policy.h"
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
static int read_fingers(pm__req_t *rq, const json_t *arr, pm__probe_t *p)
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

static int to_fingers(const pm__probe_t *p, pm_gallery_finger_t *f)
{
    for (int i = 0; i < p->n; i++) {
        f[i].position = p->position[i];
        f[i].fp = &p->views[i];
    }
    return p->n;
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
    sqlite3 *db = pm_store_sqlite_handle(st);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT surname, given_names, date_of_birth, citizenship, sex, status, "
                           "persecution_by, decisions, prior_adverse, refused, removed, encounters "
                           "FROM gallery_subject WHERE subject = ?1",
                           -1, &q, NULL) != SQLITE_OK)
        return pm_error_set(err, PM_EDB, "subject: %s", sqlite3_errmsg(db));
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    int s = sqlite3_step(q), rc = PM_OK;
    if (s == SQLITE_ROW) {
#define COL(i, dst) snprintf(dst, sizeof dst, "%s", (const char *)sqlite3_column_text(q, i))
        COL(0, r->surname);
        COL(1, r->given_names);
        COL(2, r->dob);
        COL(3, r->citizenship);
        COL(4, r->sex);
        COL(5, r->status);
        COL(6, r->persecution_by);
        COL(7, r->decisions);
#undef COL
        r->prior_adverse = sqlite3_column_int(q, 8);
        r->refused = sqlite3_column_int(q, 9);
        r->removed = sqlite3_column_int(q, 10);
        r->encounters = sqlite3_column_int64(q, 11);
    } else if (s == SQLITE_DONE) {
        rc = pm_error_set(err, PM_ENOTFOUND, "subject %" PRIu64 " has no record", id);
    } else {
        rc = pm_error_set(err, PM_EDB, "subject: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(q);
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

/* The partner's anonymous biometric query. In order: the body (strict), the
 * probe decoded (template, image or ANSI/NIST transaction), the query decided
 * by the policy (R15 channel, R1 purpose, R5 anonymous, R13 quota) and
 * logged with the probe's hash; the gallery searched; the probe destroyed
 * (R6: pm_policy_retain_probe refuses it once matching ended; the log keeps
 * only its SHA-256); the best candidate's disclosure decided (R2 subject
 * class, R3 established match or prior adverse decision, R16) and serialized
 * from the purpose's allow-list (R4); the disclosure or "no match" logged and
 * made durable before the answer leaves. A withheld match answers exactly
 * like no match. */
void pm__h_partner_query_biometric(pm__req_t *rq, pm_store_t *st)
{
    json_t *o = pm__json_body(rq, &pm__body_partner_biometric);
    if (!o)
        return;
    const pm_agreement_t *a = rq->partner->agreement;
    const char *purpose = pm__json_str(o, "purpose"), *txn = pm__json_str(o, "transaction_id");
    pm_node_t *node = rq->node;
    pm_error_t e;
    pm_error_clear(&e);
    uint8_t *raw = NULL;
    size_t n = 0, cap = 0;
    unsigned char ph[PM_AUDIT_HASH_BYTES];
    pm__probe_t *p = calloc(1, sizeof *p);
    char actor[80], basis[PM_AGR_CODE_MAX + 16];
    pm__audit_actor(rq, actor, sizeof actor);
    snprintf(basis, sizeof basis, "agreement %s", a->version);
    if (!p) {
        pm__reply_error(rq, 503, "busy", "out of memory", NULL);
        goto out;
    }
    int rc = b64_decode(pm__json_str(o, "data"), &raw, &n, &cap);
    if (rc) {
        if (rc == PM_ENOMEM)
            pm__reply_error(rq, 503, "busy", "out of memory", NULL);
        else
            pm__reply_error(rq, 400, "invalid_field", "data: not standard base64", "data");
        goto out;
    }
    pm_audit_probe_hash(raw, n, ph);
    const char *format = pm__json_str(o, "format");
    /* the query is decided before any work is spent on the probe */
    int has_bio = pm__probe_has_biographic(format, raw, n) || json_object_get(o, "surname") ||
                  json_object_get(o, "given_names") || json_object_get(o, "date_of_birth") ||
                  json_object_get(o, "citizenship");
    pm_query_facts_t qf = {purpose, 1, has_bio};
    pm_decision_t d;
    if ((rc = pm__quota_decide(node, rq->partner, a, &qf, 1, (int64_t)time(NULL), &d, &e))) {
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
    /* 1:N: the best subject scoring at least the agreement's threshold;
     * weaker candidates are not the person and are never looked at */
    pm_gallery_finger_t fingers[PM__PROBE_MAX];
    int nf = to_fingers(p, fingers);
    pm_gallery_search_options_t so;
    memset(&so, 0, sizeof so);
    so.max_candidates = 1;
    so.threshold = a->match_threshold;
    pm_gallery_candidate_t cand;
    size_t nc = 0;
    rc = pm_gallery_identify(node->gallery, fingers, nf, &so, &cand, &nc, NULL, &e);
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
    json_t *ans = NULL;
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
        /* R14: the partner may not act adversely on this before a person confirms it */
        ans = json_pack("{s:s, s:s, s:s, s:o, s:b}", "transaction_id", txn, "purpose", purpose,
                        "result", "match", "disclosure", fields, "review_required",
                        a->review_before_adverse_action);
    } else {
        if (nc && (rc = pm__audit_refusal(rq, purpose, &dd, txn, rec, NULL, &e))) {
            pm__reply_pm_error(rq, rc, &e, NULL);
            goto out;
        }
        pm__audit_t aev = {"answer", actor, rq->partner->code, purpose,
                           nc ? "no_match" : "no_match R3", NULL, 0, NULL, 0, txn, NULL};
        if (pm__audit_or_fail(rq, &aev) || pm__sync_or_fail(rq))
            goto out;
        ans = json_pack("{s:s, s:s, s:s}", "transaction_id", txn, "purpose", purpose, "result",
                        "no_match");
    }
    pm__node_log(node, 0, "partner %s biometric query %s purpose %s: %s, probe destroyed",
                 rq->partner->code, txn, purpose, dd.allow ? "match disclosed" : "no match");
    pm__reply_json(rq, 200, ans);
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
    sodium_memzero(rq->body.data, rq->body.len);
    json_decref(o);
}

/* ------------------------------------------------------------ officers */

static int subject_put(pm_store_t *st, uint64_t id, const json_t *person, pm_error_t *err)
{
    sqlite3 *db = pm_store_sqlite_handle(st);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(
            db,
            "INSERT INTO gallery_subject (subject, surname, given_names, date_of_birth, "
            "citizenship, sex, status, persecution_by, prior_adverse, refused, removed, "
            "decisions, encounters) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 1) "
            "ON CONFLICT (subject) DO UPDATE SET surname = ?2, given_names = ?3, "
            "date_of_birth = ?4, citizenship = ?5, sex = ?6, status = ?7, persecution_by = ?8, "
            "prior_adverse = ?9, refused = ?10, removed = ?11, decisions = ?12, "
            "encounters = encounters + 1",
            -1, &q, NULL) != SQLITE_OK)
        return pm_error_set(err, PM_EDB, "subject: %s", sqlite3_errmsg(db));
    static const char *const keys[] = {"surname", "given_names", "date_of_birth", "citizenship",
                                       "sex",     "status",      "persecution_by"};
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    for (int i = 0; i < 7; i++) {
        const char *v = pm__json_str(person, keys[i]);
        sqlite3_bind_text(q, 2 + i, v ? v : (i == 5 ? "foreign_national" : ""), -1,
                          SQLITE_TRANSIENT);
    }
    sqlite3_bind_int(q, 9, pm__json_bool(person, "prior_adverse_decision", 0));
    sqlite3_bind_int(q, 10, pm__json_bool(person, "refused", 0));
    sqlite3_bind_int(q, 11, pm__json_bool(person, "removed", 0));
    const char *dec = pm__json_str(person, "decisions");
    sqlite3_bind_text(q, 12, dec ? dec : "", -1, SQLITE_TRANSIENT);
    int s = sqlite3_step(q);
    sqlite3_finalize(q);
    if (s != SQLITE_DONE)
        return pm_error_set(err, s == SQLITE_CONSTRAINT ? PM_EVALIDATION : PM_EDB, "subject: %s",
                            sqlite3_errmsg(db));
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
    if (read_fingers(rq, json_object_get(o, "fingers"), p))
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
    for (int i = 0; !rc && i < p->n; i++)
        rc = pm_gallery_insert(rq->node->gallery, (uint64_t)subj, (uint32_t)enc, p->position[i],
                               &p->views[i], &e);
    pthread_mutex_unlock(&rq->node->enrol_mu);
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        goto out;
    }
    pm__node_log(rq->node, 0, "officer %s enrolled subject %lld encounter %lld (%d finger%s)",
                 rq->officer, (long long)subj, (long long)enc, p->n, p->n == 1 ? "" : "s");
    pm__reply_json(rq, 200,
                   json_pack("{s:I, s:I, s:i, s:I}", "subject", subj, "encounter", enc, "fingers",
                             p->n, "gallery_fingers",
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
    if (read_fingers(rq, json_object_get(o, "fingers"), p))
        goto out;
    pm_gallery_finger_t fingers[PM__PROBE_MAX];
    int nf = to_fingers(p, fingers);
    pm_gallery_search_options_t so;
    memset(&so, 0, sizeof so);
    so.max_candidates = (int)k;
    so.threshold = json_object_get(o, "threshold")
                       ? json_number_value(json_object_get(o, "threshold"))
                       : 0.0;
    c = calloc((size_t)k, sizeof *c);
    size_t nc = 0;
    pm_gallery_search_stats_t stats;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = c ? pm_gallery_identify(rq->node->gallery, fingers, nf, &so, c, &nc, &stats, &e)
               : pm_error_set(&e, PM_ENOMEM, "out of memory");
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        goto out;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < nc; i++)
        json_array_append_new(arr, json_pack("{s:I, s:f, s:I}", "subject",
                                             (json_int_t)c[i].subject, "score", c[i].score,
                                             "encounter", (json_int_t)c[i].encounter));
    pm__reply_json(rq, 200,
                   json_pack("{s:o, s:I, s:f}", "candidates", arr, "records_searched",
                             (json_int_t)stats.records_scanned, "seconds", stats.seconds));
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
    if (read_fingers(rq, json_object_get(o, "fingers"), p))
        goto out;
    pm_gallery_finger_t fingers[PM__PROBE_MAX];
    int nf = to_fingers(p, fingers);
    pm_gallery_candidate_t c;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_gallery_verify(rq->node->gallery, (uint64_t)subj, fingers, nf, &c, &e);
    if (rc == PM_ENOTFOUND) {
        pm__reply_error(rq, 404, "not_found", e.msg, "subject");
        goto out;
    }
    if (rc) {
        pm__reply_pm_error(rq, rc, &e, NULL);
        goto out;
    }
    pm__reply_json(rq, 200, json_pack("{s:I, s:f}", "subject", subj, "score", c.score));
out:
    if (p) {
        pm__probe_wipe(p);
        free(p);
    }
    json_decref(o);
}
