/* The agreement file: parse, check for contradictions, canonicalise, hash. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <string.h>

#include "perimeter/core.h"
#include "perimeter/policy.h"

static const char *const legal_fields[] = {
    /* DOMAIN.md §1: the full legal list of a crossing record */
    "surname",
    "given_names",
    "middle_names",
    "date_of_birth",
    "citizenship",
    "sex",
    "document_type",
    "document_number",
    "document_issuer",
    "crossing_time",
    "port",
    "direction",
    "mode",
    /* DOMAIN.md §2: what a biometric answer may carry on a match */
    "match",
    "prior_encounters",
    "immigration_decisions",
    "refused",
    "removed",
};
#define N_LEGAL (sizeof legal_fields / sizeof legal_fields[0])
_Static_assert(N_LEGAL <= PM_AGR_MAX_FIELDS, "legal list fits the bit mask");

static const char *const subject_names[PM_SUBJ_COUNT] = {
    "foreign_national", "citizen", "permanent_resident",
    "asylum_claimant_persecution_by_requester"};
static const char *const class_names[PM_RC_COUNT] = {"crossing", "probe", "match_result",
                                                     "received_biographic"};

const char *pm_agreement_field_name(size_t i)
{
    return i < N_LEGAL ? legal_fields[i] : NULL;
}

int pm_agreement_field_index(const char *name)
{
    for (size_t i = 0; name && i < N_LEGAL; i++)
        if (strcmp(legal_fields[i], name) == 0) return (int)i;
    return -1;
}

const char *pm_subject_class_name(pm_subject_class_t c)
{
    return (unsigned)c < PM_SUBJ_COUNT ? subject_names[c] : "unknown";
}
const char *pm_record_class_name(pm_record_class_t c)
{
    return (unsigned)c < PM_RC_COUNT ? class_names[c] : "unknown";
}

int pm_agreement_purpose_index(const pm_agreement_t *a, const char *purpose)
{
    for (size_t i = 0; a && purpose && i < a->n_purposes; i++)
        if (strcmp(a->purposes[i], purpose) == 0) return (int)i;
    return -1;
}

#define BAD(...) pm_error_set(err, PM_EFORMAT, __VA_ARGS__)

/* Only the keys in allowed[] may appear in obj. */
static int only_keys(json_t *obj, const char *path, const char *const *allowed, size_t n,
                     pm_error_t *err)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        size_t i = 0;
        while (i < n && strcmp(allowed[i], k) != 0)
            i++;
        if (i == n) return BAD("%s.%s: unknown field", path, k);
    }
    return PM_OK;
}

static int get_code(json_t *v, const char *path, char out[PM_AGR_CODE_MAX], pm_error_t *err)
{
    if (!json_is_string(v)) return BAD("%s: expected a string", path);
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0 || n >= PM_AGR_CODE_MAX)
        return BAD("%s: must be 1..%d bytes", path, PM_AGR_CODE_MAX - 1);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return BAD("%s: '%s' has a character outside [A-Za-z0-9_.-]", path, s);
    }
    memcpy(out, s, n + 1);
    return PM_OK;
}

static int get_count(json_t *v, const char *path, int64_t max, int64_t *out, pm_error_t *err)
{
    if (!json_is_integer(v)) return BAD("%s: expected an integer", path);
    json_int_t x = json_integer_value(v);
    if (x < 0) return BAD("%s: must not be negative", path);
    if (x > max) return BAD("%s: %lld is above the limit %lld", path, (long long)x, (long long)max);
    *out = (int64_t)x;
    return PM_OK;
}

static json_t *need(json_t *root, const char *key, pm_error_t *err)
{
    json_t *v = json_object_get(root, key);
    if (!v) BAD("$.%s: missing", key);
    return v;
}

#define DAY      86400LL
#define MAX_DAYS (200LL * 366)

static int parse_root(json_t *root, pm_agreement_t *a, pm_error_t *err)
{
    static const char *const keys[] = {"version",
                                       "parties",
                                       "purposes",
                                       "never_disclose",
                                       "allow",
                                       "biographic_query_purposes",
                                       "match_threshold",
                                       "match_fpir",
                                       "quota",
                                       "retention_days",
                                       "onward_transfer_consent",
                                       "review_before_adverse_action",
                                       "irrelevant_destruction_days",
                                       "biographic_with_biometric"};
    int rc;
    char path[160];
    if (!json_is_object(root)) return BAD("$: expected an object");
    if ((rc = only_keys(root, "$", keys, sizeof keys / sizeof keys[0], err))) return rc;
    json_t *v;
    if (!(v = need(root, "version", err))) return PM_EFORMAT;
    if ((rc = get_code(v, "$.version", a->version, err))) return rc;

    if (!(v = need(root, "parties", err))) return PM_EFORMAT;
    if (!json_is_array(v) || json_array_size(v) != 2)
        return BAD("$.parties: expected two party codes");
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "$.parties[%zu]", i);
        if ((rc = get_code(json_array_get(v, i), path, a->parties[i], err))) return rc;
    }
    if (strcmp(a->parties[0], a->parties[1]) == 0)
        return BAD("$.parties: the two parties are the same");

    if (!(v = need(root, "purposes", err))) return PM_EFORMAT;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return BAD("$.purposes: expected a non-empty array");
    if (json_array_size(v) > PM_AGR_MAX_PURPOSES)
        return BAD("$.purposes: more than %d", PM_AGR_MAX_PURPOSES);
    for (size_t i = 0; i < json_array_size(v); i++) {
        snprintf(path, sizeof path, "$.purposes[%zu]", i);
        if ((rc = get_code(json_array_get(v, i), path, a->purposes[i], err))) return rc;
        if (pm_agreement_purpose_index(a, a->purposes[i]) >= 0)
            return BAD("%s: duplicate purpose", path);
        a->n_purposes = i + 1;
    }

    if (!(v = need(root, "never_disclose", err))) return PM_EFORMAT;
    if (!json_is_array(v)) return BAD("$.never_disclose: expected an array");
    for (size_t i = 0; i < json_array_size(v); i++) {
        snprintf(path, sizeof path, "$.never_disclose[%zu]", i);
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s)) return BAD("%s: expected a string", path);
        int c = 1;
        while (c < PM_SUBJ_COUNT && strcmp(subject_names[c], json_string_value(s)) != 0)
            c++;
        if (c == PM_SUBJ_COUNT)
            return BAD("%s: '%s' is not a protected subject class", path, json_string_value(s));
        a->never_disclose |= 1u << c;
    }
    for (int c = 1; c < PM_SUBJ_COUNT; c++)
        if (!(a->never_disclose & (1u << c)))
            return BAD("$.never_disclose: '%s' must be listed (R2)", subject_names[c]);

    if (!(v = need(root, "allow", err))) return PM_EFORMAT;
    if (!json_is_object(v)) return BAD("$.allow: expected an object");
    const char *k;
    json_t *list;
    json_object_foreach(v, k, list)
    {
        snprintf(path, sizeof path, "$.allow.%.64s", k);
        if (pm_agreement_purpose_index(a, k) < 0) return BAD("%s: purpose not in $.purposes", path);
        pm_allow_list_t *al = &a->allow[a->n_allow];
        memcpy(al->purpose, k, strlen(k) + 1); /* k is a listed purpose: length checked */
        if (!json_is_array(list)) return BAD("%s: expected an array of field names", path);
        for (size_t i = 0; i < json_array_size(list); i++) {
            json_t *f = json_array_get(list, i);
            if (!json_is_string(f)) return BAD("%s[%zu]: expected a string", path, i);
            int fi = pm_agreement_field_index(json_string_value(f));
            if (fi < 0)
                return BAD("%s[%zu]: '%.64s' is not in the legal list of exchanged elements", path,
                           i, json_string_value(f));
            if (al->fields & (1u << fi)) return BAD("%s[%zu]: duplicate field", path, i);
            al->fields |= 1u << fi;
        }
        a->n_allow++;
    }

    if ((v = json_object_get(root, "biographic_query_purposes"))) {
        if (!json_is_array(v)) return BAD("$.biographic_query_purposes: expected an array");
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *s = json_array_get(v, i);
            int pi = json_is_string(s) ? pm_agreement_purpose_index(a, json_string_value(s)) : -1;
            if (pi < 0)
                return BAD("$.biographic_query_purposes[%zu]: purpose not in $.purposes", i);
            a->biographic_query_purposes |= 1u << pi;
        }
    }

    if (!(v = need(root, "match_threshold", err))) return PM_EFORMAT;
    if (!json_is_number(v)) return BAD("$.match_threshold: expected a number");
    a->match_threshold = json_number_value(v);
    if (!(a->match_threshold > 0.0) || !isfinite(a->match_threshold) || a->match_threshold > 200.0)
        return BAD("$.match_threshold: must be in (0, 200] (score = -10*log10(FMR))");
    if ((v = json_object_get(root, "match_fpir"))) {
        if (!json_is_number(v)) return BAD("$.match_fpir: expected a number");
        a->match_fpir = json_number_value(v);
        if (!(a->match_fpir > 0.0 && a->match_fpir < 1.0))
            return BAD("$.match_fpir: must be in (0, 1) (false positives per search)");
    }

    static const char *const qkeys[] = {"period_days", "biometric_query", "biographic_query"};
    if (!(v = need(root, "quota", err))) return PM_EFORMAT;
    if (!json_is_object(v)) return BAD("$.quota: expected an object");
    if ((rc = only_keys(v, "$.quota", qkeys, 3, err))) return rc;
    int64_t x;
    for (int i = 0; i < 3; i++)
        if (!json_object_get(v, qkeys[i])) return BAD("$.quota.%s: missing", qkeys[i]);
    if ((rc = get_count(json_object_get(v, "period_days"), "$.quota.period_days", MAX_DAYS, &x,
                        err)))
        return rc;
    if (x == 0) return BAD("$.quota.period_days: must be at least 1");
    a->quota_period_s = x * DAY;
    if ((rc = get_count(json_object_get(v, "biometric_query"), "$.quota.biometric_query", INT64_MAX,
                        &x, err)))
        return rc;
    a->quota_biometric = (uint64_t)x;
    if ((rc = get_count(json_object_get(v, "biographic_query"), "$.quota.biographic_query",
                        INT64_MAX, &x, err)))
        return rc;
    a->quota_biographic = (uint64_t)x;

    if (!(v = need(root, "retention_days", err))) return PM_EFORMAT;
    if (!json_is_object(v)) return BAD("$.retention_days: expected an object");
    if ((rc = only_keys(v, "$.retention_days", class_names, PM_RC_COUNT, err))) return rc;
    for (int c = 0; c < PM_RC_COUNT; c++) {
        snprintf(path, sizeof path, "$.retention_days.%s", class_names[c]);
        json_t *d = json_object_get(v, class_names[c]);
        if (!d) return BAD("%s: missing", path);
        if ((rc = get_count(d, path, MAX_DAYS, &x, err))) return rc;
        a->retention_s[c] = x * DAY;
    }
    if (a->retention_s[PM_RC_PROBE] != 0) return BAD("$.retention_days.probe: must be 0 (R6)");

    if ((v = json_object_get(root, "onward_transfer_consent"))) {
        static const char *const ckeys[] = {"third_party", "purpose"};
        if (!json_is_array(v)) return BAD("$.onward_transfer_consent: expected an array");
        if (json_array_size(v) > PM_AGR_MAX_CONSENTS)
            return BAD("$.onward_transfer_consent: more than %d", PM_AGR_MAX_CONSENTS);
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *c = json_array_get(v, i);
            snprintf(path, sizeof path, "$.onward_transfer_consent[%zu]", i);
            if (!json_is_object(c)) return BAD("%s: expected an object", path);
            if ((rc = only_keys(c, path, ckeys, 2, err))) return rc;
            char p2[200];
            snprintf(p2, sizeof p2, "%s.third_party", path);
            if ((rc = get_code(json_object_get(c, "third_party"), p2, a->consents[i].third_party,
                               err)))
                return rc;
            snprintf(p2, sizeof p2, "%s.purpose", path);
            if ((rc = get_code(json_object_get(c, "purpose"), p2, a->consents[i].purpose, err)))
                return rc;
            if (pm_agreement_purpose_index(a, a->consents[i].purpose) < 0)
                return BAD("%s: purpose not in $.purposes", p2);
            if (strcmp(a->consents[i].third_party, a->parties[0]) == 0 ||
                strcmp(a->consents[i].third_party, a->parties[1]) == 0)
                return BAD("%s: a party is not a third party", path);
            a->n_consents = i + 1;
        }
    }

    if (!(v = need(root, "review_before_adverse_action", err))) return PM_EFORMAT;
    if (!json_is_boolean(v)) return BAD("$.review_before_adverse_action: expected true or false");
    a->review_before_adverse_action = json_is_true(v);
    if (!a->review_before_adverse_action)
        return BAD("$.review_before_adverse_action: must be true (R14)");

    if (!(v = need(root, "irrelevant_destruction_days", err))) return PM_EFORMAT;
    if ((rc = get_count(v, "$.irrelevant_destruction_days", MAX_DAYS, &x, err))) return rc;
    a->irrelevant_destruction_s = x * DAY;

    if (!(v = need(root, "biographic_with_biometric", err))) return PM_EFORMAT;
    if (!json_is_boolean(v)) return BAD("$.biographic_with_biometric: expected true or false");
    a->biographic_with_biometric = json_is_true(v);
    return PM_OK;
}

static json_t *load_json(const char *text, size_t len, pm_error_t *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) BAD("line %d: %s", je.line, je.text);
    return root;
}

int pm_agreement_canonical(const char *text, size_t len, pm_buf_t *out, pm_error_t *err)
{
    if (!text || !out) return pm_error_set(err, PM_EINVAL, "agreement: NULL argument");
    if (len > PM_AGR_MAX_BYTES)
        return pm_error_set(err, PM_ELIMIT, "agreement: larger than %u bytes", PM_AGR_MAX_BYTES);
    json_t *root = load_json(text, len, err);
    if (!root) return PM_EFORMAT;
    char *s = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII |
                                   JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!s) return pm_error_set(err, PM_ENOMEM, "agreement: out of memory");
    int rc = pm_buf_append_str(out, s);
    free(s);
    return rc ? pm_error_set(err, rc, "agreement: canonical text too large") : PM_OK;
}

int pm_agreement_parse(const char *text, size_t len, pm_agreement_t *out, pm_error_t *err)
{
    if (!text || !out) return pm_error_set(err, PM_EINVAL, "agreement: NULL argument");
    if (len > PM_AGR_MAX_BYTES)
        return pm_error_set(err, PM_ELIMIT, "agreement: larger than %u bytes", PM_AGR_MAX_BYTES);
    memset(out, 0, sizeof *out);
    json_t *root = load_json(text, len, err);
    if (!root) return PM_EFORMAT;
    int rc = parse_root(root, out, err);
    json_decref(root);
    if (rc) return rc;
    pm_buf_t canon;
    pm_buf_init(&canon, PM_AGR_MAX_BYTES * 2);
    if ((rc = pm_agreement_canonical(text, len, &canon, err))) {
        pm_buf_free(&canon);
        return rc;
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    if (sodium_init() < 0) {
        pm_buf_free(&canon);
        return pm_error_set(err, PM_EINTERNAL, "agreement: libsodium failed to initialise");
    }
    crypto_hash_sha256(h, canon.data, canon.len);
    pm_buf_free(&canon);
    sodium_bin2hex(out->hash_hex, sizeof out->hash_hex, h, sizeof h);
    return PM_OK;
}

int pm_agreement_load(const char *path, pm_agreement_t *out, pm_error_t *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(path, PM_AGR_MAX_BYTES, &data, &len, err);
    if (rc) return rc;
    rc = pm_agreement_parse((const char *)data, len, out, err);
    free(data);
    if (rc) pm_error_prefix(err, "%s", path);
    return rc;
}

int pm_agreement_check_partner(const pm_agreement_t *a, const char *partner_hash_hex,
                               pm_error_t *err)
{
    if (!a || !partner_hash_hex) return pm_error_set(err, PM_EINVAL, "agreement: NULL argument");
    if (strlen(partner_hash_hex) != 64 || strcmp(partner_hash_hex, a->hash_hex) != 0)
        return pm_error_set(err, PM_EDENIED, "partner runs agreement %.64s, we run %s (version %s)",
                            partner_hash_hex, a->hash_hex, a->version);
    return PM_OK;
}
