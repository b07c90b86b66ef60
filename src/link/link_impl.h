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

#endif
