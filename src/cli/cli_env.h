/* The CLI's reading of the environment (the library never reads it). */
#ifndef PM_CLI_ENV_H
#define PM_CLI_ENV_H

/* The database to open: given if non-NULL, else $PERIMETER_DB if set and
 * non-empty, else pm_store_default_path(). Do not free the result. */
const char *pm__cli_db_path(const char *given);

#endif
