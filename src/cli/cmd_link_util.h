/* Helpers shared by the link module's commands. */
#ifndef PM_CLI_CMD_LINK_UTIL_H
#define PM_CLI_CMD_LINK_UTIL_H

#include <stdint.h>

#include "perimeter/error.h"
#include "perimeter/travel.h"

typedef int (*pm__cli_crossing_fn)(void *user, pm_crossing_t *c, pm_error_t *err);

/* Streams the valid records of a crossings file (CSV / JSON Lines) to fn,
 * numbering them 1, 2, ... in store_id. With home set, an entry reported by
 * another country becomes an exit. Rejected rows are counted (the first few
 * are printed to stderr). Stops at limit records (0 = all). */
int pm__cli_each_crossing_file(const char *path, const char *home, uint64_t limit,
                               pm__cli_crossing_fn fn, void *user, uint64_t *out_rejected,
                               pm_error_t *err);
int pm__cli_parse_u64(const char *s, uint64_t *out);
int pm__cli_parse_double(const char *s, double *out);

#endif
