/* Pre-clearance on the node (routes_preclear.c). */
#ifndef PM_NODE_ROUTES_PRECLEAR_H
#define PM_NODE_ROUTES_PRECLEAR_H

#include "node/server_impl.h"

/* POST /v1/preclear (officer) {"manifest": CSV text, "date"?, "stay"?: {"CODE": days},
 * "watchlist"?: CSV text, "min"?: score, "gate"?: {"mode": "1:1"|"1:N",
 * "captures": [{"passenger_seq", "fingers": [{position?, format, data}]}]}}:
 * the pm_preclear_manifest report as JSON (docs/preclear.md) */
void pm__h_preclear(pm__req_t *rq, pm_store_t *st);

#endif
