/* The CLI's reading of the environment (the library never reads it). */
#ifndef PM_CLI_ENV_H
#define PM_CLI_ENV_H

/* The database to open: given if non-NULL, else $PERIMETER_DB if set and
 * non-empty, else pm_store_default_path(). Do not free the result. */
const char *pm__cli_db_path(const char *given);

/* Sealing at rest for the CLI: the data key from $PERIMETER_DATA_KEY (a key
 * file, perimeter store keygen) and older keys kept for reading from
 * $PERIMETER_DATA_KEY_OLD (key files separated by ':'); loaded once per
 * process. Returns the ring (n = 0 when the variable is unset: in clear),
 * or NULL after printing why the key was refused. */
struct pm_seal_ring;
const struct pm_seal_ring *pm__cli_seal_ring(void);
/* Attaches that ring to st. 0, or -1 after printing why. */
struct pm_store;
int pm__cli_seal_store(struct pm_store *st);

#endif
