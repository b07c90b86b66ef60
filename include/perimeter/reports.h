/* Reports over linked crossings as library calls: each returns a caller-owned
 * result table (columns, rows of text cells, a summary), and one renderer turns
 * a result into the exact bytes the CLI prints (terminal table, CSV or JSON), so
 * the CLI and a server give the same answer. Reentrant; nothing global. */
#ifndef PERIMETER_REPORTS_H
#define PERIMETER_REPORTS_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/error.h"
#include "perimeter/link.h"
#include "perimeter/store.h"

/* Every linked crossing as an event, sorted by traveller then time. */
typedef struct pm_link_events {
    pm_link_event_t *ev;
    size_t n;
    uint64_t unlinked; /* crossings stored but not linked yet */
} pm_link_events_t;

int pm_link_events_load(pm_store_t *st, pm_link_events_t *out, pm_error_t *err);
void pm_link_events_free(pm_link_events_t *L);

/* A report's result. Opaque; read it with the accessors or render it. */
typedef struct pm_report pm_report_t;

typedef enum pm_report_format {
    PM_REPORT_TEXT = 0, /* summary lines, then an aligned table */
    PM_REPORT_CSV = 1,  /* header line then rows (RFC 4180 quoting); no summary */
    PM_REPORT_JSON = 2, /* {summary keys..., "rows": [{column: value}, ...]} */
} pm_report_format_t;

void pm_report_free(pm_report_t *r);
size_t pm_report_ncols(const pm_report_t *r);
size_t pm_report_nrows(const pm_report_t *r);
const char *pm_report_column(const pm_report_t *r, size_t col);
const char *pm_report_cell(const pm_report_t *r, size_t row, size_t col);
/* The summary value named key as an integer (0 and PM_ENOTFOUND if absent). */
int pm_report_summary_int(const pm_report_t *r, const char *key, int64_t *out, pm_error_t *err);

/* Building a result, for producers outside this file (screening, pre-clearance):
 * cols must outlive r (static names); a row is ncol strings (NULL = ""), copied;
 * pm_report_add_row returns -1 when out of memory. Summary keys keep their
 * insertion order. */
pm_report_t *pm_report_new_table(size_t ncol, const char *const *cols);
int pm_report_add_row(pm_report_t *r, const char *const *cells);
void pm_report_set_int(pm_report_t *r, const char *key, int64_t v);
void pm_report_set_real(pm_report_t *r, const char *key, double v);
void pm_report_set_string(pm_report_t *r, const char *key, const char *v);

/* Renders r; *out is a NUL-terminated malloc'd string (caller frees), *out_len
 * its length (may be NULL). Numbers-looking cells are JSON numbers. */
int pm_report_render(const pm_report_t *r, pm_report_format_t fmt, char **out, size_t *out_len,
                     pm_error_t *err);

/* history: the crossings of the travellers selected by exactly one of
 * traveller (> 0), record ("CCC:RECORD_ID") or document number. PM_ENOTFOUND
 * when no linked traveller matches. At most 64 travellers. */
typedef struct pm_history_query {
    int64_t traveller;
    const char *record;
    const char *document;
} pm_history_query_t;

int pm_report_history(pm_store_t *st, const pm_link_events_t *L, const pm_history_query_t *q,
                      pm_report_t **out, pm_error_t *err);

/* reconcile: exits matched with a prior entry; rows are the unreconciled exits
 * (the work queue), or every exit when all is non-zero. */
int pm_report_reconcile(const pm_link_events_t *L, int all, pm_report_t **out, pm_error_t *err);

/* overstays: as of the end of as_of (UTC), entries whose authorised stay under
 * rules has ended, with the crossing's names and document from st. */
int pm_report_overstays(pm_store_t *st, const pm_link_events_t *L, const pm_stay_rules_t *rules,
                        const pm_dob_t *as_of, pm_report_t **out, pm_error_t *err);

/* presence: days of physical presence in the window of `years` years ending on
 * as_of, for one traveller (traveller > 0; PM_ENOTFOUND if it has no linked
 * crossings) or every traveller (traveller == 0); meets = days >= required. */
int pm_report_presence(const pm_link_events_t *L, int64_t traveller, const pm_dob_t *as_of,
                       int years, int required, pm_report_t **out, pm_error_t *err);

/* removals: departures of people under removal orders. data/len is the orders
 * CSV (order_id,surname,given_names,date_of_birth,document_number,order_date;
 * name labels it in messages); an order is matched to linked crossings by the
 * screening comparator on names + date of birth or by exact document number,
 * and the first exit on or after the order date confirms the departure. */
int pm_report_removals(pm_store_t *st, const pm_link_events_t *L, const char *data, size_t len,
                       const char *name, pm_report_t **out, pm_error_t *err);

/* ---- screening run ---------------------------------------------------------------
 * A manifest, crossings or the store screened against a watchlist
 * (pm_watchlist_screen), each distinct identity once per run, hits as report
 * rows (record, name, watchlist_id, listed_name, score, reasons, list_reason)
 * and counts as the summary; with the generator's truth, the hit rate on
 * seeded people and the false hits per 1,000 clean travellers. One run is used
 * by one thread; several runs may share one finalised watchlist. */
typedef struct pm_screen_run pm_screen_run_t;

typedef struct pm_screen_run_options {
    double min_score; /* entries listing a date of birth; 0 = PM_SCREEN_DEFAULT_MIN */
    size_t max_hits;  /* per person, 1..16; 0 = 5 */
    int no_rows;      /* count only (evaluation runs) */
    double min_undated; /* entries listed without one; 0 = min_score + the default
                           gap (pm_screen_min_of: 95.5 with both 0) */
} pm_screen_run_options_t;

/* One person to screen. key1/key2 identify the record for the truth
 * (reporting country and record id, or flight and passenger sequence); ref
 * labels the hit rows. dob may be NULL; strings may be NULL (""). */
typedef struct pm_screen_subject {
    const char *key1, *key2, *ref;
    const char *surname, *given, *middle;
    const pm_dob_t *dob;
    char sex;
    const char *citizenship;
    const char *document_number, *document_issuer; /* the travel document, if known */
} pm_screen_subject_t;

/* wl must be finalised and outlive the run. */
int pm_screen_run_new(const pm_watchlist_t *wl, const pm_screen_run_options_t *o,
                      pm_screen_run_t **out, pm_error_t *err);
/* Also list name-only referrals (PM_SCREEN_NAME_ONLY, docs/link.md): rows whose
 * reasons end "name only: ...", counted apart from hits in the summary
 * (records_with_name_only_referrals, name_only_referrals; with the truth:
 * seeded_people_referred_name_only, hit_rate_people_with_referrals,
 * clean_people_referred_name_only,
 * name_only_referrals_per_1000_clean_travellers). Off by default. */
int pm_screen_run_set_name_only(pm_screen_run_t *s, int on);
void pm_screen_run_free(pm_screen_run_t *s);
/* Evaluation: truth maps screened records to people (borrowed, must outlive
 * the run); wl_truth is the watchlist truth CSV (watchlist_id,person_id). */
int pm_screen_run_set_truth(pm_screen_run_t *s, const pm_link_truth_t *truth, const char *wl_truth,
                            size_t len, pm_error_t *err);
int pm_screen_run_person(pm_screen_run_t *s, const pm_screen_subject_t *p, pm_error_t *err);
int pm_screen_run_crossing(pm_screen_run_t *s, const pm_crossing_t *c, pm_error_t *err);
/* A manifest CSV (flight_id, passenger_seq, surname, given_names, middle_names,
 * date_of_birth, sex, citizenship|nationality, document_number, document_issuer);
 * name labels errors. */
int pm_screen_run_manifest(pm_screen_run_t *s, const char *data, size_t len, const char *name,
                           pm_error_t *err);
/* Every crossing in the store. */
int pm_screen_run_store(pm_screen_run_t *s, pm_store_t *st, pm_error_t *err);
/* The result (caller frees with pm_report_free); wall_seconds goes into the
 * summary as "seconds". Ends the run: further calls give PM_ESTATE. */
int pm_screen_run_finish(pm_screen_run_t *s, double wall_seconds, pm_report_t **out,
                         pm_error_t *err);

/* ---- evaluation against the generator's truth (docs/synth.md, "Entry/exit
 * truth") ---- */

struct pm_synth_person; /* perimeter/synth.h */

typedef struct pm_entry_exit_query {
    char country[4];        /* our country: its entries are entries, the partner's are exits */
    pm_dob_t as_of;         /* overstays as of the end of this local day; presence window end */
    pm_stay_rules_t rules;  /* fallback stays for entries without admission data */
    int presence_years;     /* presence window in years (1..100) */
} pm_entry_exit_query_t;

typedef struct pm_entry_exit_eval {
    /* overstays: rows with status "overstay" against the true overstayers */
    uint64_t overstays_true, overstays_listed, overstays_correct, overstays_found;
    uint64_t departures_to_confirm, departures_to_confirm_true; /* ... truly departed */
    double overstay_precision, overstay_recall;
    /* presence days: each person against the traveller holding most of their records */
    uint64_t presence_people, presence_exact, presence_within1, presence_covered;
    double presence_mae;
    uint64_t complete_people, complete_exact, complete_within1; /* no stay open at data start */
    double complete_mae;
    uint64_t certain_people, certain_exact, certain_within1; /* rows without uncertain ranges */
    /* removals: our country's orders */
    uint64_t removal_orders, removal_departed, removal_confirmed, removal_missed, removal_wrong;
} pm_entry_exit_eval_t;

/* Runs the overstays, presence and removals reports on the linked store st
 * and scores them against the truth: truth maps every stored crossing to its
 * person, people (n of them, from the generator's person master) gives where
 * each person was on the first day and the removal orders. PM_EINVAL for bad
 * arguments, PM_ENOTFOUND if a stored crossing has no truth. */
int pm_eval_entry_exit(pm_store_t *st, const pm_link_truth_t *truth,
                       const struct pm_synth_person *people, size_t n,
                       const pm_entry_exit_query_t *q, pm_entry_exit_eval_t *out, pm_error_t *err);

#endif
