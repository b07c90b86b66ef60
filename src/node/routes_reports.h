/* Officers' history and report routes (routes_reports.c). */
#ifndef PM_NODE_ROUTES_REPORTS_H
#define PM_NODE_ROUTES_REPORTS_H

#include "node/server_impl.h"

/* GET /v1/history?traveller=ID|record=CCC:ID|document=NUMBER[&format=] */
void pm__h_history(pm__req_t *rq, pm_store_t *st);
/* GET /v1/reports/{reconcile|overstays|presence}?as_of=&stay=&all=&traveller=&years=&required=&format= */
void pm__h_report(pm__req_t *rq, pm_store_t *st);
/* POST /v1/reports/removals (text/csv orders body)[?format=] */
void pm__h_report_removals(pm__req_t *rq, pm_store_t *st);

#endif
