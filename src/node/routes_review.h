/* The human review queue's routes (routes_review.c). */
#ifndef PM_NODE_ROUTES_REVIEW_H
#define PM_NODE_ROUTES_REVIEW_H

#include "node/server_impl.h"

/* GET /v1/reviews[?status=pending|confirmed|rejected|all] */
void pm__h_reviews(pm__req_t *rq, pm_store_t *st);
/* POST /v1/reviews/{id}/decision {"decision":"confirm"|"reject","why":...} (supervisor) */
void pm__h_review_decide(pm__req_t *rq, pm_store_t *st);
/* POST /v1/reviews/{id}/act: may adverse action follow? 403 R14 until confirmed */
void pm__h_review_act(pm__req_t *rq, pm_store_t *st);

/* GET /v1/subject-access?document=&issuer= | surname=&dob=[&given_names=][&format=html] (R12; supervisor) */
void pm__h_subject_access(pm__req_t *rq, pm_store_t *st);

/* GET /v1/received[?irrelevant=1]: data received from partners (metadata) */
void pm__h_received(pm__req_t *rq, pm_store_t *st);
/* POST /v1/received/{id}/irrelevant {"why":...}: found irrelevant (R7) */
void pm__h_received_irrelevant(pm__req_t *rq, pm_store_t *st);
/* POST /v1/jobs/{purge|destroy} (admin): the retention purge (R9) or the
 * destruction of data found irrelevant (R7), run now with the node's log */
void pm__h_job(pm__req_t *rq, pm_store_t *st);

/* POST /v1/corrections?why=... (supervisor; body: the corrected record as one
 * JSON line): corrects our record and sends the correction to every partner
 * that received it (R8); answers queued / acknowledged / complete */
void pm__h_correction(pm__req_t *rq, pm_store_t *st);
/* GET /v1/corrections: the unacknowledged ones with their age */
void pm__h_corrections(pm__req_t *rq, pm_store_t *st);
/* POST /v1/partner/correction (partner): the partner's correction of its
 * record, applied and acknowledged */
void pm__h_partner_correction(pm__req_t *rq, pm_store_t *st);

/* POST /v1/transfers {"received_id"|"crossing_id","to","purpose"} (supervisor):
 * hand a record to a third party; partner data only with the agreement's
 * consent (R11), refusals logged */
void pm__h_transfer(pm__req_t *rq, pm_store_t *st);

#endif
