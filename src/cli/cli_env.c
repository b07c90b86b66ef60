/* The CLI's reading of the environment: environment belongs to the program,
 * not to libperimeter (a server reads its paths from its configuration). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_env.h"
#include "perimeter/seal.h"
#include "perimeter/store.h"

const char *pm__cli_db_path(const char *given)
{
    if (given)
        return given;
    const char *p = getenv("PERIMETER_DB");
    return p && *p ? p : pm_store_default_path();
}

/* The CLI is one process: the key is read once and kept for its life. */
static pm_seal_ring_t cli_ring;
static int cli_ring_state; /* 0 unread, 1 loaded, -1 refused */

const pm_seal_ring_t *pm__cli_seal_ring(void)
{
    if (cli_ring_state)
        return cli_ring_state > 0 ? &cli_ring : NULL;
    cli_ring_state = -1;
    pm_error_t err = {0};
    const char *cur = getenv("PERIMETER_DATA_KEY"), *old = getenv("PERIMETER_DATA_KEY_OLD");
    if (cur && *cur) {
        if (pm_seal_key_load(cur, &cli_ring.keys[0], &err)) {
            fprintf(stderr, "perimeter: PERIMETER_DATA_KEY: %s\n", pm_error_text(&err));
            return NULL;
        }
        cli_ring.n = 1;
        char path[4096];
        while (old && *old) {
            const char *end = strchr(old, ':');
            size_t len = end ? (size_t)(end - old) : strlen(old);
            if (len && len < sizeof path) {
                if (cli_ring.n == PM_SEAL_RING_MAX) {
                    fprintf(stderr, "perimeter: PERIMETER_DATA_KEY_OLD: at most %d keys\n",
                            PM_SEAL_RING_MAX - 1);
                    pm_seal_ring_wipe(&cli_ring);
                    return NULL;
                }
                memcpy(path, old, len);
                path[len] = 0;
                if (pm_seal_key_load(path, &cli_ring.keys[cli_ring.n], &err)) {
                    fprintf(stderr, "perimeter: PERIMETER_DATA_KEY_OLD: %s\n",
                            pm_error_text(&err));
                    pm_seal_ring_wipe(&cli_ring);
                    return NULL;
                }
                cli_ring.n++;
            }
            old = end ? end + 1 : NULL;
        }
    } else if (old && *old) {
        fprintf(stderr, "perimeter: PERIMETER_DATA_KEY_OLD without PERIMETER_DATA_KEY\n");
        return NULL;
    }
    cli_ring_state = 1;
    return &cli_ring;
}

int pm__cli_seal_store(pm_store_t *st)
{
    const pm_seal_ring_t *r = pm__cli_seal_ring();
    if (!r)
        return -1;
    pm_store_set_seal(st, r);
    return 0;
}
