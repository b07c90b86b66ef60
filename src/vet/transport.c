/* The two partner transports of the vetting run: in-process against a
 * gallery (tests, benchmarks) and through our node's officer route. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perimeter/an2k.h"
#include "perimeter/core.h"
#include "perimeter/gallery.h"
#include "perimeter/node.h"
#include "perimeter/tmpl.h"
#include "perimeter/vet.h"

/* ------------------------------------------------------------ in-process */

static int log_query(const char *path, const char *tcn, pm_error_t *err)
{
    char line[PM_VET_ID_MAX + 2];
    int n = snprintf(line, sizeof line, "%s\n", tcn);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return pm_error_set(err, PM_EIO, "query log %s: %s", path, strerror(errno));
    /* one write of a short line with O_APPEND: lines from threads and
     * processes never interleave */
    int ok = write(fd, line, (size_t)n) == n;
    close(fd);
    return ok ? 0 : pm_error_set(err, PM_EIO, "query log %s: write failed", path);
}

int pm_vet_gallery_query(void *ctx, const pm_vet_query_t *q, pm_vet_answer_t *out,
                         pm_error_t *err)
{
    const pm_vet_gallery_transport_t *t = ctx;
    if (!t || !t->gallery || !q || !out || !q->purpose)
        return pm_error_set(err, PM_EINVAL, "gallery transport: bad arguments");
    if (q->nfingers < 1 || q->nfingers > PM_GALLERY_MAX_FINGERS)
        return pm_error_set(err, PM_EINVAL, "gallery transport: 1..%d fingers",
                            PM_GALLERY_MAX_FINGERS);
    int rc = t->log_path ? log_query(t->log_path, q->transaction_id, err) : 0;
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    snprintf(out->partner_ref, sizeof out->partner_ref, "%s", q->transaction_id);
    if (t->purposes) {
        int listed = 0;
        for (size_t i = 0; i < t->npurposes && !listed; i++)
            listed = strcmp(t->purposes[i], q->purpose) == 0;
        if (!listed) {
            out->result = PM_VET_REFUSED;
            snprintf(out->rule, sizeof out->rule, "R1");
            snprintf(out->reason, sizeof out->reason,
                     "purpose %s is not in the agreement's list", q->purpose);
            return 0;
        }
    }
    pm_gallery_finger_t f[PM_GALLERY_MAX_FINGERS];
    for (size_t i = 0; i < q->nfingers; i++)
        f[i] = (pm_gallery_finger_t){q->fingers[i].finger, &q->fingers[i]};
    int maxc = t->max_candidates > 0 ? t->max_candidates : 5;
    if (maxc > PM_VET_MAX_CANDIDATES)
        maxc = PM_VET_MAX_CANDIDATES;
    pm_gallery_search_options_t so = {
        .max_candidates = maxc,
        .threshold = t->threshold > 0 ? t->threshold : PM_VET_DEFAULT_THRESHOLD,
        .first_stage = t->first_stage,
    };
    pm_gallery_calibration_t fcal;
    pm_gallery_fused_calibration_default(&fcal);
    so.fused_calibration = t->fused_nominal ? NULL : &fcal;
    pm_gallery_candidate_t c[PM_VET_MAX_CANDIDATES];
    size_t n = 0;
    if ((rc = pm_gallery_identify(t->gallery, f, (int)q->nfingers, &so, c, &n, NULL, err)))
        return rc;
    out->result = n ? PM_VET_MATCH : PM_VET_NO_MATCH;
    for (size_t i = 0; i < n; i++) {
        snprintf(out->candidates[i].subject, sizeof out->candidates[i].subject, "%llu",
                 (unsigned long long)c[i].subject);
        out->candidates[i].score = c[i].score;
    }
    out->ncandidates = n;
    if (n)
        snprintf(out->disclosed, sizeof out->disclosed, "{\"subject_id\":\"%llu\"}",
                 (unsigned long long)c[0].subject);
    return 0;
}

/* ------------------------------------------------------------ through our node */

static int parse_candidates(json_t *arr, pm_vet_answer_t *out)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (out->ncandidates == PM_VET_MAX_CANDIDATES)
            break;
        json_t *s = json_object_get(v, "subject");
        json_t *sc = json_object_get(v, "score");
        pm_vet_candidate_t *c = &out->candidates[out->ncandidates];
        if (json_is_string(s))
            snprintf(c->subject, sizeof c->subject, "%s", json_string_value(s));
        else if (json_is_integer(s))
            snprintf(c->subject, sizeof c->subject, "%lld", (long long)json_integer_value(s));
        else
            return -1;
        c->score = json_is_number(sc) ? json_number_value(sc) : 0;
        out->ncandidates++;
    }
    return 0;
}

/* A 403 refusal or another status without an answer (shared by both forms). */
static int non_answer(long status, json_t *a, pm_vet_answer_t *out, pm_error_t *err)
{
    if (status == 403 && json_is_object(a) &&
        (json_is_string(json_object_get(a, "rule")) || json_is_string(json_object_get(a, "code")))) {
        /* a refusal by the partner's policy: the rule it names, or R1 for
         * the node's purpose_refused */
        const char *rule = json_string_value(json_object_get(a, "rule"));
        const char *code = json_string_value(json_object_get(a, "code"));
        const char *msg = json_string_value(json_object_get(a, "message"));
        if (!rule && code && strcmp(code, "purpose_refused") == 0)
            rule = "R1";
        if (!rule)
            return pm_error_set(err, PM_EDENIED, "HTTP 403 %s: %s", code ? code : "",
                                msg ? msg : "");
        if (!rule[0] || strlen(rule) >= sizeof out->rule)
            /* a refusal must name its rule; an empty or cut one would be
             * recorded as a refusal by no rule (found by fuzz_vet_answer) */
            return pm_error_set(err, PM_EFORMAT, "partner answer: the refusal's rule '%.32s' is "
                                "empty or longer than %zu bytes", rule, sizeof out->rule - 1);
        out->result = PM_VET_REFUSED;
        snprintf(out->rule, sizeof out->rule, "%s", rule);
        snprintf(out->reason, sizeof out->reason, "%s", msg ? msg : (code ? code : ""));
        return 0;
    }
    const char *code = json_is_object(a) ? json_string_value(json_object_get(a, "code")) : NULL;
    const char *msg = json_is_object(a) ? json_string_value(json_object_get(a, "message")) : NULL;
    if (status == 409 && code && strcmp(code, "replayed") == 0)
        return pm_error_set(err, PM_EEXISTS, "the partner already answered this id: %s",
                            msg ? msg : "");
    return pm_error_set(err, status == 503 ? PM_EBUSY : PM_ENET,
                        "no answer from the partner: HTTP %ld %s%s%s", status, code ? code : "",
                        msg ? ": " : "", msg ? msg : "");
}

/* The node's JSON answer to a biometric query (status and body) into *out;
 * the same return convention as pm_vet_node_query. */
int pm__vet_answer_parse(long status, const void *data, size_t len, pm_vet_answer_t *out,
                         pm_error_t *err)
{
    int rc = PM_OK;
    json_error_t je;
    json_t *a = len ? json_loadb((const char *)data, len, 0, &je) : NULL;
    memset(out, 0, sizeof *out);
    if (status == 200 && json_is_object(a)) {
        const char *res = json_string_value(json_object_get(a, "result"));
        json_t *ref = json_object_get(a, "transaction_id");
        if (json_is_string(ref))
            snprintf(out->partner_ref, sizeof out->partner_ref, "%s", json_string_value(ref));
        if (res && strcmp(res, "no_match") == 0) {
            out->result = PM_VET_NO_MATCH;
        } else if (res && strcmp(res, "match") == 0) {
            out->result = PM_VET_MATCH;
            json_t *rid = json_object_get(a, "review_id");
            if (json_is_integer(rid) && json_integer_value(rid) > 0)
                out->review_id = (int64_t)json_integer_value(rid);
            json_t *cands = json_object_get(a, "candidates");
            if (json_is_array(cands) && parse_candidates(cands, out) != 0)
                rc = pm_error_set(err, PM_EFORMAT, "partner answer: malformed candidates");
            /* the node answers "disclosure" (docs/API.md); "disclosed" is
             * accepted from other partners' systems */
            json_t *disc = json_object_get(a, "disclosure");
            if (!disc) disc = json_object_get(a, "disclosed");
            if (!rc && json_is_object(disc)) {
                char *d = json_dumps(disc, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (d && strlen(d) < sizeof out->disclosed)
                    snprintf(out->disclosed, sizeof out->disclosed, "%s", d);
                else
                    rc = pm_error_set(err, PM_ELIMIT, "partner answer: disclosed fields over %d "
                                      "bytes", PM_VET_DISCLOSED_MAX);
                free(d);
            }
        } else {
            rc = pm_error_set(err, PM_EFORMAT, "partner answer: no \"result\" of match/no_match");
        }
    } else {
        rc = non_answer(status, a, out, err);
    }
    json_decref(a);
    return rc;
}

/* The ANSI/NIST form: PMSR out, PMRS back. */
static int node_query_an2k(const pm_vet_node_transport_t *t, const pm_vet_query_t *q,
                           pm_vet_answer_t *out, pm_error_t *err)
{
    char date[9];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y%m%d", &tm);
    const char *sup = q->supersedes && q->supersedes[0] ? q->supersedes : NULL;
    pm_an2k_search_t s = {.header = {.date = date,
                                     .dai = t->partner,
                                     .ori = t->ori ? t->ori : "XXX",
                                     .tcn = q->transaction_id},
                          .purpose = q->purpose,
                          /* a re-ask names what it supersedes, as the JSON form does */
                          .supersedes = sup,
                          .reask_of = sup && q->reask_of && q->reask_of[0] ? q->reask_of : NULL,
                          .views = q->fingers,
                          .nviews = q->nfingers};
    pm_an2k_txn_t req;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = pm_an2k_search_build(&s, &req, err);
    if (rc)
        return rc;
    rc = pm_an2k_write(&req, &bytes, &len, err);
    pm_an2k_free(&req);
    if (rc)
        return rc;
    char path[128], review[32];
    snprintf(path, sizeof path, "/v1/partners/%s/query/vetting", t->partner);
    pm_node_request_t rq = {
        .base_url = t->base_url,
        .ca_file = t->ca_file,
        .token = t->token,
        .timeout_s = t->timeout_s,
        .max_response = (size_t)1 << 20,
    };
    long status = 0;
    pm_buf_t resp = {0};
    rc = pm_node_call_header(&rq, "POST", path, bytes, len, "application/octet-stream", &status,
                             &resp, "Perimeter-Review-Id", review, sizeof review, err);
    free(bytes);
    if (rc) {
        pm_buf_free(&resp);
        return rc;
    }
    memset(out, 0, sizeof *out);
    if (status == 200) {
        pm_an2k_txn_t at;
        memset(&at, 0, sizeof at);
        pm_an2k_vetting_t *v = calloc(1, sizeof *v);
        rc = v ? pm_an2k_read(resp.data, resp.len, &at, err)
               : pm_error_set(err, PM_ENOMEM, "out of memory");
        if (!rc)
            rc = pm_an2k_vetting_parse(&at, v, err);
        pm_an2k_free(&at);
        if (!rc && (strcmp(v->tot, PM_AN2K_TOT_RESPONSE) != 0 ||
                    strcmp(v->tcr, q->transaction_id) != 0))
            rc = pm_error_set(err, PM_EFORMAT, "partner answer: TOT %s TCR %s is not the response "
                              "to %s", v->tot, v->tcr, q->transaction_id);
        if (!rc) {
            snprintf(out->partner_ref, sizeof out->partner_ref, "%s", v->tcn);
            out->result = v->match == 1 ? PM_VET_MATCH : PM_VET_NO_MATCH;
            for (size_t i = 0; i < v->ncandidates && i < PM_VET_MAX_CANDIDATES; i++) {
                snprintf(out->candidates[i].subject, sizeof out->candidates[i].subject, "%s",
                         v->candidates[i].id);
                out->candidates[i].score = v->candidates[i].score;
                out->ncandidates++;
            }
            json_t *d = json_object();
            for (size_t i = 0; d && i < v->ndisclosed; i++)
                json_object_set_new(d, v->disclosed[i].name, json_string(v->disclosed[i].value));
            char *dt = d && v->ndisclosed ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER)
                                          : NULL;
            json_decref(d);
            if (dt && strlen(dt) < sizeof out->disclosed)
                snprintf(out->disclosed, sizeof out->disclosed, "%s", dt);
            free(dt);
            char *end;
            long long rid = strtoll(review, &end, 10);
            if (out->result == PM_VET_MATCH && review[0] && !*end && rid > 0)
                out->review_id = rid;
        }
        free(v);
    } else {
        json_t *a = resp.len ? json_loadb((const char *)resp.data, resp.len, 0, NULL) : NULL;
        rc = non_answer(status, a, out, err);
        json_decref(a);
    }
    pm_buf_free(&resp);
    return rc;
}

int pm_vet_node_query(void *ctx, const pm_vet_query_t *q, pm_vet_answer_t *out, pm_error_t *err)
{
    const pm_vet_node_transport_t *t = ctx;
    if (!t || !t->base_url || !t->partner || !q || !out)
        return pm_error_set(err, PM_EINVAL, "node transport: bad arguments");
    if (t->an2k)
        return node_query_an2k(t, q, out, err);
    pm_buf_t iso = {0};
    int rc = pm_tmpl_write(PM_TMPL_ISO, q->fingers, q->nfingers, &iso, err);
    if (rc) {
        pm_buf_free(&iso);
        return rc;
    }
    size_t b64len = sodium_base64_encoded_len(iso.len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64len);
    if (!b64) {
        pm_buf_free(&iso);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    sodium_bin2base64(b64, b64len, iso.data, iso.len, sodium_base64_VARIANT_ORIGINAL);
    pm_buf_free(&iso);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "transaction_id", q->transaction_id,
                             "purpose", q->purpose, "format", "iso19794-2", "data", b64);
    free(b64);
    if (body && q->supersedes && q->supersedes[0]) {
        json_object_set_new(body, "supersedes", json_string(q->supersedes));
        if (q->reask_of && q->reask_of[0])
            json_object_set_new(body, "reask_of", json_string(q->reask_of));
    }
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (!text)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    char path[128];
    snprintf(path, sizeof path, "/v1/partners/%s/query/biometric", t->partner);
    pm_node_request_t rq = {
        .base_url = t->base_url,
        .ca_file = t->ca_file,
        .token = t->token,
        .timeout_s = t->timeout_s,
        .max_response = (size_t)1 << 20,
    };
    long status = 0;
    pm_buf_t resp = {0};
    rc = pm_node_call(&rq, "POST", path, text, strlen(text), "application/json", &status, &resp,
                      err);
    free(text);
    if (rc) {
        pm_buf_free(&resp);
        return rc;
    }
    rc = pm__vet_answer_parse(status, resp.data, resp.len, out, err);
    pm_buf_free(&resp);
    return rc;
}
