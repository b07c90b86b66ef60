/* The store's backend interface (private). A backend fills a pm__store_ops
 * table; pm_store_t holds it plus the backend's state. Adding PostgreSQL
 * means one more file (src/store/postgres.c) providing these operations. */
#ifndef PM_STORE_IMPL_H
#define PM_STORE_IMPL_H

#include "perimeter/store.h"

typedef struct pm__store_ops {
    const char *name;
    void (*close)(pm_store_t *st);
    int (*migrate)(pm_store_t *st, const pm_migration_set_t *set, pm_error_t *err);
    int (*schema_version)(pm_store_t *st, const char *module, int *out_version, pm_error_t *err);
    int (*begin)(pm_store_t *st, pm_error_t *err);
    int (*commit)(pm_store_t *st, pm_error_t *err);
    int (*rollback)(pm_store_t *st, pm_error_t *err);
    int (*ensure_partner)(pm_store_t *st, const char *code, pm_error_t *err);
    int (*partners)(pm_store_t *st, char (*out)[4], size_t max, size_t *out_n, pm_error_t *err);
    int (*partner_cursor)(pm_store_t *st, const char *code, int64_t *out_cursor, pm_error_t *err);
    int (*set_partner_cursor)(pm_store_t *st, const char *code, int64_t cursor, pm_error_t *err);
    int (*put_crossing)(pm_store_t *st, const pm_crossing_t *c, int *out_inserted,
                        pm_error_t *err);
    int (*put_crossings)(pm_store_t *st, const pm_crossing_t *rows, size_t n,
                         uint64_t *out_inserted, pm_error_t *err);
    int (*crossings)(pm_store_t *st, const pm_crossing_filter_t *f, pm_crossing_iter_t **out,
                     pm_error_t *err);
    int (*count_crossings)(pm_store_t *st, const pm_crossing_filter_t *f, int64_t *out,
                           pm_error_t *err);
    int (*max_store_id)(pm_store_t *st, int64_t *out, pm_error_t *err);
    void *(*sqlite_handle)(pm_store_t *st);
    int (*delete_crossings)(pm_store_t *st, const int64_t *ids, size_t n, uint64_t *out_deleted,
                            pm_error_t *err);
    int (*update_crossing)(pm_store_t *st, const pm_crossing_t *c, int64_t *out_id,
                           pm_error_t *err);
    /* The query API (pm_stmt_*, src/store/query.c keeps the cache): a
     * backend statement is an opaque void *. */
    int (*q_prepare)(pm_store_t *st, const char *sql, void **out, pm_error_t *err);
    void (*q_free)(pm_store_t *st, void *q);
    int (*q_bind)(void *q, int i, int kind, int64_t v, const void *p, size_t n);
    int (*q_step)(pm_store_t *st, void *q, pm_error_t *err);
    void (*q_reset)(void *q, int clear_bindings);
    int (*q_columns)(void *q);
    int (*q_is_null)(void *q, int col);
    int64_t (*q_int64)(void *q, int col);
    const char *(*q_text)(void *q, int col);
    const void *(*q_blob)(void *q, int col, size_t *n);
    int64_t (*q_changes)(void *q);
    int (*exec)(pm_store_t *st, const char *sql, pm_error_t *err);
    int (*begin_read)(pm_store_t *st, pm_error_t *err);
    /* For the pool (src/store/pool.c): rolls back a transaction left open
     * and says whether the handle can serve another user (1) or is broken
     * (0: a lost PostgreSQL connection). NULL: always reusable. */
    int (*reusable)(pm_store_t *st);
    double (*q_double)(void *q, int col); /* PM__BIND_DOUBLE binds p = &double */
} pm__store_ops_t;

/* Kinds of q_bind. */
enum { PM__BIND_NULL, PM__BIND_INT64, PM__BIND_TEXT, PM__BIND_BLOB, PM__BIND_DOUBLE };

struct pm_stmt {
    pm_store_t *st;
    char *sql;
    void *impl;
    int busy;   /* checked out by pm_stmt_prepare */
    int cached; /* in st->stmts (else freed at finish) */
    struct pm_stmt *next;
};

struct pm_store {
    const pm__store_ops_t *ops;
    void *impl; /* backend state */
    struct pm_stmt *stmts; /* the query API's cache */
    size_t nstmts;
    const struct pm_seal_ring *seal; /* pm_store_set_seal; NULL: in clear */
};

/* Frees the cached statements (before the backend closes). */
void pm__store_free_stmts(pm_store_t *st);

typedef struct pm__crossing_iter_ops {
    int (*next)(pm_crossing_iter_t *it, pm_crossing_t *out, pm_error_t *err);
    void (*close)(pm_crossing_iter_t *it);
} pm__crossing_iter_ops_t;

struct pm_crossing_iter {
    const pm__crossing_iter_ops_t *ops;
    void *impl;
};

/* The store's own schema (crossings, partners), applied on open. */
extern const pm_migration_set_t pm__store_schema;

/* Backend constructors. */
int pm__sqlite_open(const char *path, const pm_store_options_t *options, pm_store_t **out,
                    pm_error_t *err);
/* target: a postgresql:// or postgres:// URI, or "postgres:" + a libpq
 * keyword/value connection string. */
int pm__postgres_open(const char *target, const pm_store_options_t *options, pm_store_t **out,
                      pm_error_t *err);

/* Shared by the backends: the on-disk lookup keys (64-bit FNV-1a of
 * "number|issuer" and "surname_norm|YYYYMMDD"; never change them), the
 * packed date of birth, and the crossing table's CHECK conditions done in C
 * (direction, mode, sex) so a put is refused whole with PM_EINVAL. */
int64_t pm__store_dob_int(const pm_dob_t *d);
int64_t pm__store_doc_key(const char *number, const char *issuer);
int64_t pm__store_name_key(const char *surname_norm, const pm_dob_t *d);
int pm__store_row_check(const pm_crossing_t *c, pm_error_t *err);

#endif
