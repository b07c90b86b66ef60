/* Pre-clearance: a flight manifest (the advance passenger fields of
 * DOMAIN.md §3) screened before departure, one decision per traveller -
 * cleared, refer (an officer must look) or do not board - with the reasons:
 * document validity (codes, MRZ check digits and agreement, expiry on the
 * departure date), watchlist screening (names, dates of birth, documents),
 * the traveller's entry/exit history (past overstays), and, at the gate, a
 * fingerprint check supplied by the caller. A library call: the CLI and the
 * node call the same function. Reentrant; nothing global. See docs/preclear.md. */
#ifndef PERIMETER_PRECLEAR_H
#define PERIMETER_PRECLEAR_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/error.h"
#include "perimeter/link.h"
#include "perimeter/reports.h"
#include "perimeter/store.h"
#include "perimeter/travel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pm_preclear_decision {
    PM_PRECLEAR_CLEARED = 0,
    PM_PRECLEAR_REFER = 1,        /* an officer decides */
    PM_PRECLEAR_DO_NOT_BOARD = 2, /* e.g. an expired or a listed lost/stolen document */
} pm_preclear_decision_t;

/* "cleared", "refer", "do_not_board". */
const char *pm_preclear_decision_name(pm_preclear_decision_t d);

/* One passenger as the manifest gives it (strings NUL-terminated, "" absent). */
typedef struct pm_preclear_passenger {
    const char *flight_id, *seq;
    const char *surname, *given_names, *middle_names;
    pm_dob_t dob; /* year 0: absent */
    char sex;
    const char *citizenship;
    const char *document_type, *document_number, *document_issuer;
    pm_dob_t document_expiry; /* year 0: absent */
    const char *mrz;
    pm_dob_t departure; /* local date of departure */
} pm_preclear_passenger_t;

/* What our records say of the traveller holding the passenger's document. */
typedef struct pm_preclear_history {
    int known;          /* a linked traveller holds this document */
    uint32_t traveller; /* its id (known) */
    int stays;          /* completed stays in our country (entry then exit) */
    int overstays;      /* of those, longer than the authorised stay */
    int max_days_over;
    int inside; /* the last stay has no recorded exit and its authorised time ran
                   out before departure (counted in overstays) */
} pm_preclear_history_t;

/* Caller-supplied checks. Return 0 or a negative PM_E* code (the run stops). */
typedef int (*pm_preclear_history_fn)(void *ctx, const pm_preclear_passenger_t *p,
                                      pm_preclear_history_t *out, pm_error_t *err);
/* Gate fingerprint check: *checked = 0 if no capture or nothing on file;
 * else *score is the calibrated comparison score (-10 log10 FMR). */
typedef int (*pm_preclear_biometric_fn)(void *ctx, const pm_preclear_passenger_t *p,
                                        int *checked, double *score, pm_error_t *err);

/* The gate check with its evidence (preferred to pm_preclear_biometric_fn):
 * checked: the capture was compared with the traveller's own prints on file,
 * score their calibrated score; other (NULL or a text naming him, e.g.
 * "passenger 014"): the capture matched someone else on file with
 * other_score; note: why nothing was compared, or a remark (a note alone does
 * not change the decision). */
typedef struct pm_preclear_gate_result {
    int checked;
    double score;
    const char *other; /* must stay valid until the callback is called again */
    double other_score;
    char note[160];
} pm_preclear_gate_result_t;
typedef int (*pm_preclear_gate_fn)(void *ctx, const pm_preclear_passenger_t *p,
                                   pm_preclear_gate_result_t *out, pm_error_t *err);

typedef struct pm_preclear_options {
    const pm_watchlist_t *watchlist; /* finalised; NULL: no name screening */
    double screen_min;               /* 0: PM_SCREEN_DEFAULT_MIN */
    double screen_min_undated;       /* entries listed without a date of birth;
                                        0: screen_min + the default gap
                                        (pm_screen_min_of) */
    pm_dob_t departure;              /* used when a row has no scheduled_departure */
    pm_preclear_history_fn history;  /* NULL: no history check */
    void *history_ctx;
    pm_preclear_biometric_fn biometric; /* NULL: no gate check */
    void *biometric_ctx;
    double biometric_min; /* 0: 40 (claimed FMR 1e-4); also the gate's */
    pm_preclear_gate_fn gate; /* NULL: no gate check (refer when the capture matches
                                 someone else or not the traveller's own prints) */
    void *gate_ctx;
} pm_preclear_options_t;

/* Decides one passenger: *decision and a "; "-joined reasons text into
 * reasons (cap bytes; "" when cleared without remark). */
int pm_preclear_passenger(const pm_preclear_options_t *o, const pm_preclear_passenger_t *p,
                          pm_preclear_decision_t *decision, char *reasons, size_t cap,
                          pm_error_t *err);

/* A manifest CSV (header naming at least surname; flight_id, passenger_seq,
 * given_names, middle_names, date_of_birth, sex, citizenship|nationality,
 * document_type, document_number, document_issuer, document_expiry, mrz,
 * scheduled_departure used when present). Result rows: flight_id,
 * passenger_seq, name, decision, reasons, ms; summary: passengers, cleared,
 * refer, do_not_board, ms_p50, ms_p95, ms_max (time per traveller including
 * the callbacks). A malformed row is an error naming its line (the run
 * stops: a manifest is screened whole or not at all). */
int pm_preclear_manifest(const pm_preclear_options_t *o, const char *data, size_t len,
                         const char *name, pm_report_t **out, pm_error_t *err);

/* Reads a manifest (as pm_preclear_manifest does) and calls fn with each
 * passenger in order, nothing decided: for a caller that prepares per-flight
 * data first (the node's flight gallery). A nonzero return from fn stops it. */
typedef int (*pm_preclear_passenger_each_fn)(void *ctx, const pm_preclear_passenger_t *p,
                                             pm_error_t *err);
int pm_preclear_manifest_each(const char *data, size_t len, const char *name, pm_dob_t departure,
                              pm_preclear_passenger_each_fn fn, void *ctx, pm_error_t *err);

/* A history source over a linked store: the passenger's document finds the
 * crossings that carry it, their travellers, and those travellers' stays in
 * our country before the departure date, judged against rules (by the
 * entry's citizenship). Loads the linked events once. pm_preclear_store_history is the callback (ctx = the
 * object). */
typedef struct pm_preclear_store_history pm_preclear_store_history_t;
int pm_preclear_store_history_new(pm_store_t *st, const pm_stay_rules_t *rules,
                                  pm_preclear_store_history_t **out, pm_error_t *err);
void pm_preclear_store_history_free(pm_preclear_store_history_t *h);
int pm_preclear_store_history(void *ctx, const pm_preclear_passenger_t *p,
                              pm_preclear_history_t *out, pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
