/* The backend-neutral query API (pm_stmt_*): the per-handle statement cache
 * and dispatch to the backend (src/store/sqlite.c, src/store/postgres.c).
 * See include/perimeter/store.h and docs/store.md. */
#include <stdlib.h>
#include <string.h>

#include "store/store_impl.h"

/* Statements kept per handle; past this, statements are prepared per use. */
#define STMT_CACHE_MAX 64

void pm__store_free_stmts(pm_store_t *st)
{
    pm_stmt_t *q = st->stmts;
    while (q) {
        pm_stmt_t *next = q->next;
        st->ops->q_free(st, q->impl);
        free(q->sql);
        free(q);
        q = next;
    }
    st->stmts = NULL;
    st->nstmts = 0;
}

int pm_stmt_prepare(pm_store_t *st, const char *sql, pm_stmt_t **out, pm_error_t *err)
{
    *out = NULL;
    if (!st->ops->q_prepare)
        return pm_error_set(err, PM_EUNSUPPORTED, "%s: no query API", st->ops->name);
    for (pm_stmt_t *q = st->stmts; q; q = q->next) {
        if (!q->busy && strcmp(q->sql, sql) == 0) {
            q->busy = 1;
            *out = q;
            return PM_OK;
        }
    }
    pm_stmt_t *q = calloc(1, sizeof *q);
    size_t len = strlen(sql);
    if (q)
        q->sql = malloc(len + 1);
    if (!q || !q->sql) {
        free(q);
        return pm_error_set(err, PM_ENOMEM, "prepare: out of memory");
    }
    memcpy(q->sql, sql, len + 1);
    int rc = st->ops->q_prepare(st, sql, &q->impl, err);
    if (rc) {
        free(q->sql);
        free(q);
        return rc;
    }
    q->st = st;
    q->busy = 1;
    if (st->nstmts < STMT_CACHE_MAX) {
        q->cached = 1;
        q->next = st->stmts;
        st->stmts = q;
        st->nstmts++;
    }
    *out = q;
    return PM_OK;
}

int pm_stmt_bind_int64(pm_stmt_t *q, int i, int64_t v)
{
    return q->st->ops->q_bind(q->impl, i, PM__BIND_INT64, v, NULL, 0);
}

int pm_stmt_bind_text(pm_stmt_t *q, int i, const char *v)
{
    if (!v)
        return pm_stmt_bind_null(q, i);
    return q->st->ops->q_bind(q->impl, i, PM__BIND_TEXT, 0, v, strlen(v));
}

int pm_stmt_bind_blob(pm_stmt_t *q, int i, const void *p, size_t n)
{
    return q->st->ops->q_bind(q->impl, i, PM__BIND_BLOB, 0, p ? p : "", p ? n : 0);
}

int pm_stmt_bind_double(pm_stmt_t *q, int i, double v)
{
    return q->st->ops->q_bind(q->impl, i, PM__BIND_DOUBLE, 0, &v, sizeof v);
}

int pm_stmt_bind_null(pm_stmt_t *q, int i)
{
    return q->st->ops->q_bind(q->impl, i, PM__BIND_NULL, 0, NULL, 0);
}

int pm_stmt_step(pm_stmt_t *q, pm_error_t *err)
{
    return q->st->ops->q_step(q->st, q->impl, err);
}

int pm_stmt_column_count(pm_stmt_t *q)
{
    return q->st->ops->q_columns(q->impl);
}

int pm_stmt_is_null(pm_stmt_t *q, int col)
{
    return q->st->ops->q_is_null(q->impl, col);
}

int64_t pm_stmt_int64(pm_stmt_t *q, int col)
{
    return q->st->ops->q_int64(q->impl, col);
}

double pm_stmt_double(pm_stmt_t *q, int col)
{
    return q->st->ops->q_double(q->impl, col);
}

const char *pm_stmt_text(pm_stmt_t *q, int col)
{
    return q->st->ops->q_text(q->impl, col);
}

const void *pm_stmt_blob(pm_stmt_t *q, int col, size_t *n)
{
    return q->st->ops->q_blob(q->impl, col, n);
}

int64_t pm_stmt_changes(pm_stmt_t *q)
{
    return q->st->ops->q_changes(q->impl);
}

void pm_stmt_reset(pm_stmt_t *q)
{
    q->st->ops->q_reset(q->impl, 0);
}

void pm_stmt_finish(pm_stmt_t *q)
{
    if (!q)
        return;
    q->st->ops->q_reset(q->impl, 1);
    q->busy = 0;
    if (!q->cached) {
        q->st->ops->q_free(q->st, q->impl);
        free(q->sql);
        free(q);
    }
}

int pm_store_exec(pm_store_t *st, const char *sql, pm_error_t *err)
{
    if (!st->ops->exec)
        return pm_error_set(err, PM_EUNSUPPORTED, "%s: no query API", st->ops->name);
    return st->ops->exec(st, sql, err);
}

int pm_store_query_int64(pm_store_t *st, const char *sql, const int64_t *args, int nargs,
                         int64_t *out, pm_error_t *err)
{
    pm_stmt_t *q = NULL;
    int rc = pm_stmt_prepare(st, sql, &q, err);
    if (rc)
        return rc;
    for (int i = 0; i < nargs && !rc; i++)
        if (pm_stmt_bind_int64(q, i + 1, args[i]))
            rc = pm_error_set(err, PM_ERANGE, "query: parameter %d out of range", i + 1);
    if (!rc) {
        rc = pm_stmt_step(q, err);
        if (rc == 1) {
            *out = pm_stmt_int64(q, 0);
            rc = PM_OK;
        } else if (rc == 0) {
            rc = pm_error_set(err, PM_ENOTFOUND, "query: no row");
        }
    }
    pm_stmt_finish(q);
    return rc;
}

int pm_store_begin_read(pm_store_t *st, pm_error_t *err)
{
    return st->ops->begin_read ? st->ops->begin_read(st, err) : st->ops->begin(st, err);
}
