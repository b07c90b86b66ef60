/* Request rate limits (limits.partner_rate / officer_rate): one token bucket
 * per partner and per officer name, refilled at `rate` requests per second up
 * to `burst`. A request over the rate is answered 429 rate_limited before its
 * handler runs (server.c). The quota of the agreement (R13) still counts
 * queries per period; this bounds how fast any caller can spend the node. */
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"

#define OFFICER_SLOTS 256

typedef struct bucket {
    double tokens;
    uint64_t last_ns; /* 0 = never used: full */
} bucket_t;

struct pm__rates {
    pthread_mutex_t mu;
    double prate, pburst, orate, oburst;
    bucket_t partner[PM_NODE_MAX_PARTNERS];
    struct {
        char name[65];
        bucket_t b;
    } officer[OFFICER_SLOTS];
};

int pm__rates_new(const pm_node_limits_t *l, pm__rates_t **out, pm_error_t *err)
{
    pm__rates_t *r = calloc(1, sizeof *r);
    if (!r)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    pthread_mutex_init(&r->mu, NULL);
    r->prate = l->partner_rate;
    r->pburst = l->partner_burst ? l->partner_burst : l->partner_rate;
    r->orate = l->officer_rate;
    r->oburst = l->officer_burst ? l->officer_burst : l->officer_rate;
    *out = r;
    return PM_OK;
}

void pm__rates_free(pm__rates_t *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r);
}

int pm__bucket_take(double *tokens, uint64_t *last_ns, double rate, double burst, uint64_t now_ns)
{
    if (rate <= 0)
        return 1;
    if (*last_ns == 0 || now_ns < *last_ns)
        *tokens = burst;
    else
        *tokens += (double)(now_ns - *last_ns) * rate / 1e9;
    if (*tokens > burst)
        *tokens = burst;
    *last_ns = now_ns ? now_ns : 1;
    if (*tokens < 1.0)
        return 0;
    *tokens -= 1.0;
    return 1;
}

int pm__rate_take_partner(pm__rates_t *r, size_t pi, uint64_t now_ns)
{
    if (!r || r->prate <= 0 || pi >= PM_NODE_MAX_PARTNERS)
        return 1;
    pthread_mutex_lock(&r->mu);
    bucket_t *b = &r->partner[pi];
    int ok = pm__bucket_take(&b->tokens, &b->last_ns, r->prate, r->pburst, now_ns);
    pthread_mutex_unlock(&r->mu);
    return ok;
}

int pm__rate_take_officer(pm__rates_t *r, const char *name, uint64_t now_ns)
{
    if (!r || r->orate <= 0 || !name)
        return 1;
    pthread_mutex_lock(&r->mu);
    size_t pick = OFFICER_SLOTS, oldest = 0;
    for (size_t i = 0; i < OFFICER_SLOTS; i++) {
        if (strcmp(r->officer[i].name, name) == 0) {
            pick = i;
            break;
        }
        /* a free slot, else the one idle longest: an idle bucket has refilled,
         * so reusing it for someone else loses nothing but its name */
        if (r->officer[i].b.last_ns < r->officer[oldest].b.last_ns)
            oldest = i;
    }
    if (pick == OFFICER_SLOTS) {
        pick = oldest;
        size_t n = strlen(name);
        if (n >= sizeof r->officer[pick].name)
            n = sizeof r->officer[pick].name - 1;
        memcpy(r->officer[pick].name, name, n);
        r->officer[pick].name[n] = '\0';
        r->officer[pick].b.last_ns = 0;
    }
    bucket_t *b = &r->officer[pick].b;
    int ok = pm__bucket_take(&b->tokens, &b->last_ns, r->orate, r->oburst, now_ns);
    pthread_mutex_unlock(&r->mu);
    return ok;
}
