/* The store pool (pm_store_pool_*, include/perimeter/store.h): a bounded set
 * of handles checked out per request by a server's workers; see
 * docs/store.md. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_impl.h"

struct pm_store_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *target;
    pm_store_options_t opt;
    pm_store_prepare_fn prepare;
    void *ctx;
    pm_store_t **idle; /* a stack of open handles waiting */
    unsigned nidle;
    unsigned size;
    unsigned in_use; /* checked out, or being opened for a checkout */
    uint64_t checkouts, timeouts, replaced;
};

static int open_one(pm_store_pool_t *p, pm_store_t **out, pm_error_t *err)
{
    int rc = pm_store_open(p->target, &p->opt, out, err);
    if (!rc && p->prepare)
        rc = p->prepare(*out, p->ctx, err);
    if (rc) {
        pm_store_close(*out);
        *out = NULL;
    }
    return rc;
}

int pm_store_pool_open(const char *target, const pm_store_options_t *options, unsigned size,
                       pm_store_prepare_fn prepare, void *ctx, pm_store_pool_t **out,
                       pm_error_t *err)
{
    *out = NULL;
    if (!target || size == 0)
        return pm_error_set(err, PM_EINVAL, "store pool: a target and a size of 1 or more");
    pm_store_pool_t *p = calloc(1, sizeof *p);
    size_t tl = strlen(target);
    if (p) {
        p->target = malloc(tl + 1);
        p->idle = calloc(size, sizeof *p->idle);
    }
    if (!p || !p->target || !p->idle) {
        if (p) {
            free(p->target);
            free(p->idle);
        }
        free(p);
        return pm_error_set(err, PM_ENOMEM, "store pool: out of memory");
    }
    memcpy(p->target, target, tl + 1);
    if (options)
        p->opt = *options;
    else
        p->opt = (pm_store_options_t){PM_STORE_DURABLE_FULL, 1, 0, 0};
    p->prepare = prepare;
    p->ctx = ctx;
    p->size = size;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (unsigned i = 0; i < size; i++) {
        int rc = open_one(p, &p->idle[i], err);
        if (rc) {
            pm_store_pool_close(p);
            return rc;
        }
        p->nidle++;
    }
    *out = p;
    return PM_OK;
}

int pm_store_pool_get(pm_store_pool_t *p, unsigned wait_ms, pm_store_t **out, pm_error_t *err)
{
    *out = NULL;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    /* a handle is available when one is idle or a slot is free (a broken
     * handle was closed): in_use + nidle < size */
    while (p->nidle == 0 && p->in_use + p->nidle >= p->size) {
        int w = pthread_cond_timedwait(&p->cv, &p->mu, &until);
        if (w == ETIMEDOUT && p->nidle == 0 && p->in_use + p->nidle >= p->size) {
            p->timeouts++;
            unsigned size = p->size;
            pthread_mutex_unlock(&p->mu);
            return pm_error_set(err, PM_EBUSY,
                                "store pool: all %u handles in use for %u ms", size, wait_ms);
        }
    }
    p->in_use++;
    if (p->nidle) {
        *out = p->idle[--p->nidle];
        p->checkouts++;
        pthread_mutex_unlock(&p->mu);
        return PM_OK;
    }
    pthread_mutex_unlock(&p->mu);
    /* a free slot: open its replacement outside the lock */
    pm_store_t *st = NULL;
    int rc = open_one(p, &st, err);
    pthread_mutex_lock(&p->mu);
    if (rc) {
        p->in_use--;
        pthread_cond_signal(&p->cv);
    } else {
        p->checkouts++;
        *out = st;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void pm_store_pool_put(pm_store_pool_t *p, pm_store_t *st)
{
    if (!st)
        return;
    int ok = st->ops->reusable ? st->ops->reusable(st) : 1;
    if (!ok)
        pm_store_close(st); /* its slot is reopened at the next checkout */
    pthread_mutex_lock(&p->mu);
    p->in_use--;
    if (ok)
        p->idle[p->nidle++] = st;
    else
        p->replaced++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void pm_store_pool_stats(pm_store_pool_t *p, pm_store_pool_stats_t *out)
{
    pthread_mutex_lock(&p->mu);
    out->size = p->size;
    out->idle = p->nidle;
    out->in_use = p->in_use;
    out->checkouts = p->checkouts;
    out->timeouts = p->timeouts;
    out->replaced = p->replaced;
    pthread_mutex_unlock(&p->mu);
}

void pm_store_pool_close(pm_store_pool_t *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->nidle; i++)
        pm_store_close(p->idle[i]);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->idle);
    free(p->target);
    free(p);
}
