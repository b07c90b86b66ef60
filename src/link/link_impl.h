/* Private helpers shared by the link module's files. */
#ifndef PM_LINK_IMPL_H
#define PM_LINK_IMPL_H

#include "perimeter/link.h"

/* Token-set similarity over arrays of core-token pointers (see
 * pm_name_similarity). Equal pointers count as identical tokens. */
double pm__name_sim_core(const pm_name_token_t *const *ta, size_t na,
                         const pm_name_token_t *const *tb, size_t nb, int *out_matched);
/* Name agreement level (0..4) from a similarity and matched-token count. */
int pm__name_level(double sim, int matched, size_t na, size_t nb);
/* Sex and citizenship levels. */
int pm__sex_level(char a, char b);
int pm__code_level(const char *a, const char *b);

/* "name=good dob=exact ... name_sim=0.93" into out. */
void pm__link_evidence_text(const pm_link_evidence_t *ev, char *out, size_t cap);

/* A minimal RFC 4180 row reader for the module's list files (watchlists,
 * removal orders, manifests): quoted fields, "" escapes, CRLF or LF. */
#define PM__CSV_FIELDS_MAX 32
#define PM__CSV_ROW_MAX 4096
typedef struct pm__csv_row {
    size_t n;
    char *f[PM__CSV_FIELDS_MAX];
    char buf[PM__CSV_ROW_MAX + PM__CSV_FIELDS_MAX];
} pm__csv_row_t;

/* Reads the row at *pos of data[0..len) into row and advances *pos; *line is
 * the 1-based line where the next row starts (updated). Returns 1 for a row,
 * 0 at the end, PM_EFORMAT / PM_ELIMIT with "line N: ..." on bad input.
 * Blank lines are skipped. */
int pm__csv_next(const char *data, size_t len, size_t *pos, uint64_t *line, pm__csv_row_t *row,
                 pm_error_t *err);
/* Index of the column named name in a header row, -1 if absent. */
int pm__csv_column(const pm__csv_row_t *header, const char *name);

#endif
