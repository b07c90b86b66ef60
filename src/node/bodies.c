/* The JSON request bodies of the node's routes, in one place: each route's
 * schema (known keys, types, bounds, required) and the one parse + check the
 * route runs (pm__json_body) and the fuzz target fuzz/fuzz_node_body.c calls.
 * Checks that need the store or the agreement stay in the handlers. */
#include <stdio.h>
#include <string.h>

#include "node/node_impl.h"
#include "perimeter/policy.h"
#include "perimeter/travel.h"

#define N(a) (sizeof a / sizeof a[0])

const pm__jfield_t pm__body_finger_fields[3] = {{"position", JSON_INTEGER, 0, 0},
                                                {"format", JSON_STRING, 1, 16},
                                                {"data", JSON_STRING, 1, 0}};
const pm__jfield_t pm__body_person_fields[11] = {
    {"surname", JSON_STRING, 0, PM_NAME_MAX},   {"given_names", JSON_STRING, 0, PM_NAME_MAX},
    {"date_of_birth", JSON_STRING, 0, 10},      {"citizenship", JSON_STRING, 0, 3},
    {"sex", JSON_STRING, 0, 1},                 {"status", JSON_STRING, 0, 23},
    {"persecution_by", JSON_STRING, 0, 3},      {"prior_adverse_decision", JSON_TRUE, 0, 0},
    {"refused", JSON_TRUE, 0, 0},               {"removed", JSON_TRUE, 0, 0},
    {"decisions", JSON_STRING, 0, 200},
};

static const pm__jfield_t login_f[] = {{"username", JSON_STRING, 1, 64},
                                       {"password", JSON_STRING, 1, 1024}};
static const pm__jfield_t biographic_f[] = {
    {"transaction_id", JSON_STRING, 1, 64}, {"purpose", JSON_STRING, 1, PM_AGR_CODE_MAX - 1},
    {"surname", JSON_STRING, 1, PM_NAME_MAX}, {"given_names", JSON_STRING, 0, PM_NAME_MAX},
    {"date_of_birth", JSON_STRING, 1, 10},
    {"supersedes", JSON_STRING, 0, 64}, /* a lost query's transaction_id, re-asked */
    {"reask_of", JSON_STRING, 0, 64},   /* with supersedes: the chain's first transaction_id */
};
static const pm__jfield_t biometric_f[] = {
    {"transaction_id", JSON_STRING, 1, 64}, {"purpose", JSON_STRING, 1, PM_AGR_CODE_MAX - 1},
    {"format", JSON_STRING, 1, 16},         {"data", JSON_STRING, 1, 0},
    /* biographic data: accepted only to be judged by R5 */
    {"surname", JSON_STRING, 0, PM_NAME_MAX}, {"given_names", JSON_STRING, 0, PM_NAME_MAX},
    {"date_of_birth", JSON_STRING, 0, 10},    {"citizenship", JSON_STRING, 0, 3},
    {"supersedes", JSON_STRING, 0, 64}, /* a lost query's transaction_id, re-asked */
    {"reask_of", JSON_STRING, 0, 64},   /* with supersedes: the chain's first transaction_id */
};
static const pm__jfield_t preclear_f[] = {
    {"manifest", JSON_STRING, 1, 0}, {"date", JSON_STRING, 0, 10},
    {"stay", JSON_OBJECT, 0, 0},     {"watchlist", JSON_STRING, 0, 0},
    {"gate", JSON_OBJECT, 0, 0},     {"min", JSON_REAL, 0, 0},
};
static const pm__jfield_t link_decision_f[] = {{"decision", JSON_STRING, 1, 16}};
static const pm__jfield_t decision_f[] = {{"decision", JSON_STRING, 1, 16},
                                          {"why", JSON_STRING, 1, 256}};
static const pm__jfield_t act_f[] = {{"why", JSON_STRING, 1, 256}};
static const pm__jfield_t correction_f[] = {{"correction_id", JSON_INTEGER, 1, 0},
                                            {"txn", JSON_STRING, 1, 127},
                                            {"record", JSON_STRING, 1, 1u << 20}};
static const pm__jfield_t transfer_f[] = {{"received_id", JSON_INTEGER, 0, 0},
                                          {"crossing_id", JSON_INTEGER, 0, 0},
                                          {"to", JSON_STRING, 1, 3},
                                          {"purpose", JSON_STRING, 1, 63}};
static const pm__jfield_t enrol_f[] = {
    {"subject", JSON_INTEGER, 1, 0}, {"encounter", JSON_INTEGER, 0, 0},
    {"person", JSON_OBJECT, 0, 0},   {"fingers", JSON_ARRAY, 1, PM__PROBE_MAX},
};
static const pm__jfield_t identify_f[] = {{"fingers", JSON_ARRAY, 1, PM__PROBE_MAX},
                                          {"max_candidates", JSON_INTEGER, 0, 0},
                                          {"threshold", JSON_REAL, 0, 0}};
static const pm__jfield_t verify_f[] = {{"subject", JSON_INTEGER, 1, 0},
                                        {"fingers", JSON_ARRAY, 1, PM__PROBE_MAX}};

#define BODY(var, nm, f) const pm__jbody_t var = {nm, f, N(f), NULL, NULL, 0, NULL, NULL, 0}
BODY(pm__body_login, "login", login_f);
BODY(pm__body_partner_biographic, "partner_query_biographic", biographic_f);
BODY(pm__body_partner_biometric, "partner_query_biometric", biometric_f);
BODY(pm__body_preclear, "preclear", preclear_f);
BODY(pm__body_link_decision, "link_decision", link_decision_f);
BODY(pm__body_review_decision, "review_decision", decision_f);
BODY(pm__body_review_act, "review_act", act_f);
BODY(pm__body_partner_correction, "partner_correction", correction_f);
BODY(pm__body_transfer, "transfer", transfer_f);
const pm__jbody_t pm__body_enrol = {"gallery_enrol", enrol_f, N(enrol_f),
                                   "person", pm__body_person_fields, N(pm__body_person_fields),
                                   "fingers", pm__body_finger_fields, N(pm__body_finger_fields)};
const pm__jbody_t pm__body_identify = {"gallery_identify", identify_f, N(identify_f),
                                      NULL, NULL, 0,
                                      "fingers", pm__body_finger_fields, N(pm__body_finger_fields)};
const pm__jbody_t pm__body_verify = {"gallery_verify", verify_f, N(verify_f),
                                    NULL, NULL, 0,
                                    "fingers", pm__body_finger_fields, N(pm__body_finger_fields)};

static const pm__jbody_t *const all[] = {
    &pm__body_login,          &pm__body_partner_biographic, &pm__body_partner_biometric,
    &pm__body_review_decision, &pm__body_review_act,        &pm__body_partner_correction,
    &pm__body_transfer,       &pm__body_enrol,              &pm__body_identify,
    &pm__body_verify,         &pm__body_preclear,
    &pm__body_link_decision,
};

size_t pm__body_count(void)
{
    return N(all);
}

const pm__jbody_t *pm__body_at(size_t i)
{
    return i < N(all) ? all[i] : NULL;
}

int pm__body_parse(const pm__jbody_t *b, const void *data, size_t len, json_t **out, char *field,
                   size_t cap, pm_error_t *err)
{
    *out = NULL;
    if (field && cap)
        field[0] = '\0';
    json_t *o = NULL;
    int rc = pm__json_parse(data ? data : "", len, &o, err);
    if (rc)
        return rc;
    if ((rc = pm__json_check(o, "", b->fields, b->n, field, cap, err)))
        goto fail;
    const json_t *v;
    if (b->object_key && (v = json_object_get(o, b->object_key)) &&
        (rc = pm__json_check(v, b->object_key, b->object_fields, b->object_n, field, cap, err)))
        goto fail;
    if (b->array_key && (v = json_object_get(o, b->array_key))) {
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item) {
            char where[48];
            snprintf(where, sizeof where, "%s[%zu]", b->array_key, i);
            if ((rc = pm__json_check(item, where, b->array_fields, b->array_n, field, cap, err)))
                goto fail;
        }
    }
    *out = o;
    return PM_OK;
fail:
    json_decref(o);
    return rc;
}
