/* A fixed pool of worker threads shared by every search on one gallery: a
 * search is a job of chunks; workers claim chunks in FIFO job order, so
 * concurrent searches share the cores instead of each starting threads. */
#include <pthread.h>
#include <stdlib.h>

#include "gallery/gallery_internal.h"

typedef struct job {
    pm__pool_fn fn;
    void *ctx;
    size_t nchunks;
    size_t next; /* next chunk to claim */
    size_t done;
    pthread_cond_t done_cv;
    struct job *link;
} job_t;

typedef struct worker {
    pm__pool_t *pool;
    int id;
    pthread_t th;
    pm_matcher_t *matcher;
} worker_t;

struct pm__pool {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    job_t *head, *tail;
    int stop;
    int n;
    worker_t *w;
};

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    pm__pool_t *p = w->pool;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && !p->head)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->stop)
            break;
        job_t *j = p->head;
        size_t chunk = j->next++;
        if (j->next == j->nchunks) {
            p->head = j->link;
            if (!p->head)
                p->tail = NULL;
        }
        pthread_mutex_unlock(&p->mu);
        j->fn(j->ctx, chunk, w->id);
        pthread_mutex_lock(&p->mu);
        if (++j->done == j->nchunks)
            pthread_cond_broadcast(&j->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int pm__pool_new(int threads, pm__pool_t **out, pm_error_t *err)
{
    *out = NULL;
    pm__pool_t *p = calloc(1, sizeof *p);
    if (!p)
        return pm_error_set(err, PM_ENOMEM, "out of memory for the worker pool");
    p->w = calloc((size_t)threads, sizeof *p->w);
    if (!p->w) {
        free(p);
        return pm_error_set(err, PM_ENOMEM, "out of memory for the worker pool");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    for (int i = 0; i < threads; i++) {
        p->w[i].pool = p;
        p->w[i].id = i;
        int rc = pm_matcher_new(&p->w[i].matcher, err);
        if (!rc && pthread_create(&p->w[i].th, NULL, worker_main, &p->w[i]) != 0) {
            pm_matcher_free(p->w[i].matcher);
            rc = pm_error_set(err, PM_EINTERNAL, "cannot start worker thread %d", i);
        }
        if (rc) {
            p->n = i;
            pm__pool_free(p);
            return rc;
        }
    }
    p->n = threads;
    *out = p;
    return 0;
}

void pm__pool_free(pm__pool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++) {
        pthread_join(p->w[i].th, NULL);
        pm_matcher_free(p->w[i].matcher);
    }
    pthread_cond_destroy(&p->work_cv);
    pthread_mutex_destroy(&p->mu);
    free(p->w);
    free(p);
}

void pm__pool_run(pm__pool_t *p, pm__pool_fn fn, void *ctx, size_t nchunks)
{
    if (nchunks == 0)
        return;
    job_t j = {.fn = fn, .ctx = ctx, .nchunks = nchunks};
    pthread_cond_init(&j.done_cv, NULL);
    pthread_mutex_lock(&p->mu);
    if (p->tail)
        p->tail->link = &j;
    else
        p->head = &j;
    p->tail = &j;
    pthread_cond_broadcast(&p->work_cv);
    while (j.done < j.nchunks)
        pthread_cond_wait(&j.done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_cond_destroy(&j.done_cv);
}

pm_matcher_t *pm__pool_matcher(pm__pool_t *p, int worker) { return p->w[worker].matcher; }

