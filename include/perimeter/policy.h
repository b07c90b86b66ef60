/* Perimeter policy: the bilateral agreement as data (parsed, checked, hashed)
 * and the decisions of rules R1-R16 (../shared/docs/DOMAIN.md §4) as pure
 * functions over explicit inputs. Nothing here does I/O except
 * pm_agreement_load, which reads the agreement file. See docs/agreement.md. */
#ifndef PERIMETER_POLICY_H
#define PERIMETER_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/core.h"
#include "perimeter/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_AGR_MAX_PURPOSES 32
#define PM_AGR_MAX_FIELDS   32 /* size of the legal list; an allow-list cannot be longer */
#define PM_AGR_MAX_CONSENTS 64
#define PM_AGR_CODE_MAX     48 /* purpose codes, versions, party codes (bytes incl. NUL) */
#define PM_AGR_MAX_BYTES    (1u << 20)

/* Record classes with a retention time (R9). */
typedef enum pm_record_class {
    PM_RC_CROSSING = 0,        /* crossing records (15 years on the Canadian side) */
    PM_RC_PROBE,               /* a partner's biometric probe: 0 (R6) */
    PM_RC_MATCH_RESULT,        /* a disclosed match answer we received */
    PM_RC_RECEIVED_BIOGRAPHIC, /* biographic data received in an answer */
    PM_RC_COUNT
} pm_record_class_t;

/* Subject classes (R2). */
typedef enum pm_subject_class {
    PM_SUBJ_FOREIGN_NATIONAL = 0,
    PM_SUBJ_CITIZEN,
    PM_SUBJ_PERMANENT_RESIDENT,
    PM_SUBJ_ASYLUM_PERSECUTION_BY_REQUESTER,
    PM_SUBJ_COUNT
} pm_subject_class_t;

typedef struct pm_allow_list {
    char purpose[PM_AGR_CODE_MAX];
    uint32_t fields; /* bit i = pm_agreement_field_name(i) may be disclosed */
} pm_allow_list_t;

typedef struct pm_consent {
    char third_party[PM_AGR_CODE_MAX];
    char purpose[PM_AGR_CODE_MAX];
} pm_consent_t;

/* A parsed, self-consistent agreement. Plain data: copy it freely. */
typedef struct pm_agreement {
    char version[PM_AGR_CODE_MAX];
    char parties[2][PM_AGR_CODE_MAX]; /* ISO 3166-1 alpha-3 */
    size_t n_purposes;
    char purposes[PM_AGR_MAX_PURPOSES][PM_AGR_CODE_MAX];
    uint32_t never_disclose; /* bit per pm_subject_class_t; all three protected required */
    size_t n_allow;
    pm_allow_list_t allow[PM_AGR_MAX_PURPOSES];
    uint32_t biographic_query_purposes; /* bit i = purposes[i] allows a biographic query */
    double match_threshold;             /* established match: score >= threshold (R3) */
    double match_fpir; /* optional "match_fpir" (0 = absent): the node's 1:N search also asks
                          for an identification score (false-positive identification rate over
                          the gallery searched, docs/gallery.md) of at least -10*log10(this) */
    int64_t quota_period_s;             /* R13 */
    uint64_t quota_biometric;           /* per partner per period */
    uint64_t quota_biographic;
    int64_t retention_s[PM_RC_COUNT]; /* R9; probe must be 0 */
    size_t n_consents;
    pm_consent_t consents[PM_AGR_MAX_CONSENTS]; /* R11 */
    int review_before_adverse_action;           /* R14; must be true */
    int64_t irrelevant_destruction_s;           /* R7 */
    int biographic_with_biometric;              /* R5 */
    char hash_hex[65];                          /* SHA-256 of the canonical text */
} pm_agreement_t;

/* Parses and checks an agreement from memory. Unknown fields, wrong types and
 * contradictions are refused (PM_EFORMAT) with "line N: ..." for syntax errors
 * or "$.json.path: reason" otherwise. Fills *out (caller-owned). */
int pm_agreement_parse(const char *text, size_t len, pm_agreement_t *out, pm_error_t *err);
/* Reads path (at most PM_AGR_MAX_BYTES) and parses it. */
int pm_agreement_load(const char *path, pm_agreement_t *out, pm_error_t *err);
/* Appends the canonical text (sorted keys, compact) of an agreement source to out.
 * The hash is SHA-256 over exactly these bytes. */
int pm_agreement_canonical(const char *text, size_t len, pm_buf_t *out, pm_error_t *err);

/* Compares the hash the partner announced at connection with ours.
 * PM_EDENIED (message names both) when they differ or partner_hash_hex is
 * not 64 lowercase hex digits: the nodes must not exchange data then. */
int pm_agreement_check_partner(const pm_agreement_t *a, const char *partner_hash_hex,
                               pm_error_t *err);

/* The legal list of exchanged elements (DOMAIN.md §1) plus the biometric
 * answer fields (§2), by index; NULL past the end. */
const char *pm_agreement_field_name(size_t i);
/* Index of a legal field name, or -1. */
int pm_agreement_field_index(const char *name);
/* Index of a purpose code in a, or -1. */
int pm_agreement_purpose_index(const pm_agreement_t *a, const char *purpose);
const char *pm_subject_class_name(pm_subject_class_t c);
const char *pm_record_class_name(pm_record_class_t c);

/* ---- decisions ---- */
typedef struct pm_decision {
    int allow; /* 1 allowed, 0 refused */
    int rule;  /* refusing rule 1..16, 0 when allowed */
    char reason[200];
} pm_decision_t;

/* Caller-owned quota counter: one per partner (R13). Zero-initialise. */
typedef struct pm_quota_counter {
    int64_t period_start; /* unix seconds; 0 = not started */
    uint64_t biometric;
    uint64_t biographic;
} pm_quota_counter_t;

/* Facts about an incoming (or outgoing) query that the node establishes. */
typedef struct pm_query_facts {
    const char *purpose;       /* may be NULL (refused, R1) */
    int channel_authenticated; /* mutual TLS with the partner's pinned certificate (R15) */
    int has_biographic;        /* biometric query carries names/dates/documents (R5) */
} pm_query_facts_t;

/* Each returns PM_OK and fills *out (allow or the refusing rule), or
 * PM_EINVAL on NULL arguments. Counting calls count only an allowed query. */
int pm_policy_biometric_query(const pm_agreement_t *a, const pm_query_facts_t *q,
                              pm_quota_counter_t *qc, int64_t now, pm_decision_t *out);
int pm_policy_biographic_query(const pm_agreement_t *a, const pm_query_facts_t *q,
                               pm_quota_counter_t *qc, int64_t now, pm_decision_t *out);

typedef struct pm_answer_facts {
    const char *purpose;
    pm_subject_class_t subject;
    int matched;  /* a candidate was found at all */
    double score; /* best score, -10*log10(FMR) */
    int prior_adverse_decision;
    int record_valid; /* passed validation at source: check digits, dates, codes (R16) */
} pm_answer_facts_t;
/* May more than "no match" be disclosed? (R1, R2, R3, R16). A "no match"
 * answer itself is always allowed: call with matched = 0 and read allow=0 rule=3
 * as "answer no match only". */
int pm_policy_disclosure(const pm_agreement_t *a, const pm_answer_facts_t *f, pm_decision_t *out);

/* May the partner's probe still be held? Only while matching runs; after a
 * no-match (or any end of matching, probe retention 0) it is refused, R6. */
int pm_policy_retain_probe(const pm_agreement_t *a, int matching_finished, pm_decision_t *out);

/* May a stored record still be kept? Refused (R9) once its class's retention
 * has passed, or (R7) once received data found irrelevant passed the
 * destruction deadline. irrelevant_since = 0 when not found irrelevant. */
int pm_policy_keep_record(const pm_agreement_t *a, pm_record_class_t cls, int64_t created,
                          int64_t irrelevant_since, int64_t now, pm_decision_t *out);

/* Is a correction complete? R8: sent to every partner the record went to and
 * acknowledged by each. */
int pm_policy_correction(size_t disclosed_to, size_t acknowledged, pm_decision_t *out);

/* May data be forwarded to third_party? Data from a partner (origin != ours)
 * needs a consent entry for (third_party, purpose) (R11). */
int pm_policy_onward_transfer(const pm_agreement_t *a, const char *origin, const char *ours,
                              const char *third_party, const char *purpose, pm_decision_t *out);

/* May adverse action follow a match? Only after human review (R14). */
int pm_policy_adverse_action(const pm_agreement_t *a, int reviewed, pm_decision_t *out);

struct pm_crossing;
/* May this crossing record go to the partner in the feed? Refused by R11 if it
 * was received from a partner (origin set), by R16 if it fails validation at
 * source (required fields, codes, dates, MRZ check digits: pm_crossing_finish). */
int pm_policy_send_crossing(const struct pm_crossing *c, pm_decision_t *out);

/* ---- disclosure serializer (R4) ---- */
typedef struct pm_field_value {
    const char *name;
    const char *value;
} pm_field_value_t;
/* Emits a JSON object {"purpose":..., "fields":{name:value,...}} holding only
 * the fields in the purpose's allow-list; every other field is dropped
 * whatever the caller passes (*out_dropped counts them, may be NULL).
 * PM_EDENIED if the purpose has no allow-list. Appends to out. */
int pm_disclosure_serialize(const pm_agreement_t *a, const char *purpose,
                            const pm_field_value_t *fields, size_t n, pm_buf_t *out,
                            size_t *out_dropped, pm_error_t *err);

/* The same for a crossing record: each element under its legal name, only
 * the purpose's allow-list emitted (no record id, MRZ or origin ever). */
int pm_disclosure_serialize_crossing(const pm_agreement_t *a, const char *purpose,
                                     const struct pm_crossing *c, pm_buf_t *out, pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
