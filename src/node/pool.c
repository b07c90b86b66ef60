/* The worker pool: imports, queries, logins and partner calls run here, off
 * the HTTP threads; the queue is bounded, a full queue is refused (503).
 * Store handles come from a store pool (pm_store_pool_*): a worker checks
 * one out per job and gives it back after, waiting at most store_wait_ms
 * (else the job is told why and answers 503); a broken PostgreSQL
 * connection is replaced by the store pool, never handed out again. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"

struct job {
    pm__job_fn fn;
    void *arg;
};

struct pm__pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *ring;
    unsigned cap, head, count;
    int stopping;
    unsigned nthreads;
    pthread_t *threads;
    pm_store_pool_t *stores;
    unsigned wait_ms;
    const struct pm_seal_ring *seal; /* set before serving; read-only after */
};

struct worker_arg {
    pm__node_pool_t *p;
    unsigned idx;
};

static void *worker_main(void *v)
{
    struct worker_arg *wa = v;
    pm__node_pool_t *p = wa->p;
    free(wa);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->count && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        if (!p->count) { /* stopping and drained */
            pthread_mutex_unlock(&p->mu);
            break;
        }
        struct job j = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        pthread_mutex_unlock(&p->mu);
        pm_store_t *st = NULL;
        pm_error_t e;
        pm_error_clear(&e);
        pm_store_pool_get(p->stores, p->wait_ms, &st, &e);
        if (st) /* a replaced handle too: the ring is set on every checkout */
            pm_store_set_seal(st, p->seal);
        j.fn(j.arg, st, st ? NULL : &e);
        pm_store_pool_put(p->stores, st);
    }
    return NULL;
}

static int prepare_store(pm_store_t *st, void *ctx, pm_error_t *err)
{
    (void)ctx;
    return pm__node_migrate(st, err);
}

int pm__node_pool_new(const char *store_path, unsigned threads, unsigned queue,
                      unsigned store_size, unsigned wait_ms, pm__node_pool_t **out,
                      pm_error_t *err)
{
    pm__node_pool_t *p = calloc(1, sizeof *p);
    if (!p)
        return pm_error_set(err, PM_ENOMEM, "pool: out of memory");
    p->cap = queue;
    p->wait_ms = wait_ms;
    p->ring = calloc(queue, sizeof *p->ring);
    p->threads = calloc(threads, sizeof *p->threads);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    int rc = PM_OK;
    if (!p->ring || !p->threads) {
        rc = pm_error_set(err, PM_ENOMEM, "pool: out of memory");
        goto fail;
    }
    pm_store_options_t so = {PM_STORE_DURABLE_FULL, 1, 0, 0};
    if ((rc = pm_store_pool_open(store_path, &so, store_size ? store_size : threads, prepare_store,
                                 NULL, &p->stores, err)))
        goto fail;
    for (unsigned i = 0; i < threads; i++) {
        struct worker_arg *wa = malloc(sizeof *wa);
        if (wa) {
            wa->p = p;
            wa->idx = i;
        }
        if (!wa || pthread_create(&p->threads[i], NULL, worker_main, wa) != 0) {
            free(wa);
            rc = pm_error_set(err, PM_EINTERNAL, "pool: cannot start a worker thread");
            goto fail;
        }
        p->nthreads++;
    }
    *out = p;
    return PM_OK;
fail:
    pm__node_pool_free(p);
    return rc;
}

void pm__node_pool_store_stats(pm__node_pool_t *p, pm_store_pool_stats_t *out)
{
    pm_store_pool_stats(p->stores, out);
}

int pm__node_pool_submit(pm__node_pool_t *p, pm__job_fn fn, void *arg)
{
    pthread_mutex_lock(&p->mu);
    if (p->stopping || p->count == p->cap) {
        pthread_mutex_unlock(&p->mu);
        return PM_EBUSY;
    }
    p->ring[(p->head + p->count) % p->cap] = (struct job){fn, arg};
    p->count++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return PM_OK;
}

unsigned pm__node_pool_queued(pm__node_pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    unsigned n = p->count;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void pm__node_pool_free(pm__node_pool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pm_store_pool_close(p->stores); /* every job gave its handle back */
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->ring);
    free(p->threads);
    free(p);
}

void pm__node_pool_set_seal(pm__node_pool_t *p, const struct pm_seal_ring *ring)
{
    if (p)
        p->seal = ring;
}
