/* The CLI's reading of the environment: environment belongs to the program,
 * not to libperimeter (a server reads its paths from its configuration). */
#include <stdlib.h>

#include "cli_env.h"
#include "perimeter/store.h"

const char *pm__cli_db_path(const char *given)
{
    if (given)
        return given;
    const char *p = getenv("PERIMETER_DB");
    return p && *p ? p : pm_store_default_path();
}
