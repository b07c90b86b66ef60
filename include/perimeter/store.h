/* Perimeter store module: persistence behind one interface.
 *
 * A pm_store_t is an open database. The embedded default backend is SQLite
 * (WAL journal, foreign keys on, STRICT tables); the interface is a table of
 * operations inside the store so that other backends (PostgreSQL, a later
 * issue) can be added without changing callers.
 *
 * Schema migrations are versioned per module. The store's own schema (the
 * crossing records) is applied on open; any other module keeps its migration
 * list in its own source file and applies it with pm_store_migrate() when it
 * first uses a store, e.g. in link.c:
 *
 *     static const pm_migration_t link_steps[] = {
 *         {1, "traveller tables", "CREATE TABLE traveller(...) STRICT; ...", NULL},
 *         {2, "review queue",     "CREATE TABLE review(...) STRICT;",         NULL},
 *     };
 *     static const pm_migration_set_t link_schema = {"link", link_steps, 2};
 *     ... rc = pm_store_migrate(st, &link_schema, err);
 *
 * Each module's version lives in its own row of the table schema_version
 * (module TEXT PRIMARY KEY, version, applied_at), so modules never edit each
 * other's lists. Steps are applied in order, each in its own transaction with
 * its version row; a database newer than the binary is refused (PM_ESTATE).
 *
 * A store handle is used by one thread at a time; open one per thread. */
#ifndef PERIMETER_STORE_H
#define PERIMETER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/error.h"
#include "perimeter/travel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_store pm_store_t;

/* One schema step. Versions of a set are 1, 2, 3, ... in array order.
 * Each SQL text may hold several statements; sql_postgres may be NULL for a
 * module that is SQLite-only for now (its steps are then refused on
 * PostgreSQL with PM_EUNSUPPORTED, naming the module). */
typedef struct pm_migration {
    int version;
    const char *description;
    const char *sql_sqlite;
    const char *sql_postgres;
} pm_migration_t;

typedef struct pm_migration_set {
    const char *module; /* key in schema_version, e.g. "store", "link", "audit" */
    const pm_migration_t *steps;
    size_t count;
} pm_migration_set_t;

/* How hard a commit is made durable (SQLite: PRAGMA synchronous). Both survive
 * a process crash (kill -9); FULL also survives power loss at one fsync per commit. */
typedef enum pm_store_durability {
    PM_STORE_DURABLE_FULL = 0, /* default */
    PM_STORE_DURABLE_NORMAL = 1,
} pm_store_durability_t;

typedef struct pm_store_options {
    pm_store_durability_t durability;
    int create;      /* nonzero: create the database if missing (default when options is NULL) */
    int read_only;   /* nonzero: open read-only (no migrations are applied; schema must be current) */
    int busy_ms;     /* wait this long for a lock held by another process (0 = 30000: an import may hold the write lock for a whole batch) */
} pm_store_options_t;

/* The database path pm_store_open uses when none is given: "./perimeter.db".
 * The library never reads the environment; the CLI maps $PERIMETER_DB to a
 * path itself. Returns a literal; do not free. */
const char *pm_store_default_path(void);

/* Nonzero when target names a PostgreSQL database rather than a SQLite file:
 * "postgresql://..." or "postgres://..." (libpq URIs), or "postgres:" followed
 * by a libpq keyword/value string ("postgres:host=/run/pg port=5433 dbname=pm"). */
int pm_store_is_postgres(const char *target);

/* Opens the store and applies the store's own migrations. path is a SQLite
 * file (created if allowed) or a PostgreSQL target (pm_store_is_postgres; the
 * database must exist: PostgreSQL databases are created by their
 * administrator, the tables by the migrations). options may be NULL
 * (defaults). On success *out is an open store (pm_store_close frees it); on
 * failure *out is NULL and err says why (PM_EDB, PM_ESTATE for a too-new
 * schema, PM_ENOTFOUND). */
int pm_store_open(const char *path, const pm_store_options_t *options, pm_store_t **out,
                  pm_error_t *err);
/* Closes the store, rolling back an open transaction. NULL is a no-op. */
void pm_store_close(pm_store_t *st);
/* Backend name: "sqlite" or "postgres". */
const char *pm_store_backend(const pm_store_t *st);

/* Applies the steps of set newer than the module's recorded version. */
int pm_store_migrate(pm_store_t *st, const pm_migration_set_t *set, pm_error_t *err);
/* The module's recorded schema version (0 if none). */
int pm_store_schema_version(pm_store_t *st, const char *module, int *out_version, pm_error_t *err);

/* Explicit transactions (not nestable). Writes outside one are autocommitted.
 * A batch import wraps many puts in one transaction; after commit returns 0
 * the batch is durable (see pm_store_durability_t). */
int pm_store_begin(pm_store_t *st, pm_error_t *err);
int pm_store_commit(pm_store_t *st, pm_error_t *err);
int pm_store_rollback(pm_store_t *st, pm_error_t *err);

/* Records a partner (origin code, alpha-3) if not known yet. Crossings with a
 * non-empty origin need their partner recorded first (foreign key). */
int pm_store_ensure_partner(pm_store_t *st, const char *code, pm_error_t *err);

/* The recorded partners' codes, sorted, into out[0..max) (NUL-terminated
 * alpha-3); *out_n = how many exist (may exceed max). */
int pm_store_partners(pm_store_t *st, char (*out)[4], size_t max, size_t *out_n, pm_error_t *err);

/* The cursor of partner `code`'s feed that we have stored up to (0 if none
 * or unknown partner): ask its export for `--since` this. */
int pm_store_partner_cursor(pm_store_t *st, const char *code, int64_t *out_cursor,
                            pm_error_t *err);
/* Raises the partner's stored feed cursor to `cursor` (never lowers it). Call
 * it inside the transaction that stores the rows up to that cursor, so that
 * the cursor and the rows are committed together. The partner must exist. */
int pm_store_set_partner_cursor(pm_store_t *st, const char *code, int64_t cursor,
                                pm_error_t *err);

/* Stores one validated crossing. Idempotent on (reporting_country, record_id):
 * if that key exists nothing changes and *out_inserted = 0, else 1.
 * out_inserted may be NULL. */
int pm_store_put_crossing(pm_store_t *st, const pm_crossing_t *c, int *out_inserted,
                          pm_error_t *err);

/* Stores n validated crossings (the same rule per row; duplicates within
 * rows count once). Faster than n single puts: the SQLite backend inserts 16
 * rows per statement. *out_inserted (may be NULL) = how many were new. */
int pm_store_put_crossings(pm_store_t *st, const pm_crossing_t *rows, size_t n,
                           uint64_t *out_inserted, pm_error_t *err);

/* Which crossings an iterator or count visits. Zero-initialise, then set the
 * parts you need; empty strings and zeros mean "any". */
typedef enum pm_crossing_order {
    PM_ORDER_TIME = 0, /* by crossing instant (UTC), then store_id */
    PM_ORDER_STORE_ID = 1, /* by store_id (insertion order: the feed cursor) */
} pm_crossing_order_t;

typedef enum pm_origin_filter {
    PM_ORIGIN_ANY = 0,
    PM_ORIGIN_LOCAL = 1,   /* our own records only */
    PM_ORIGIN_PARTNER = 2, /* records received from a partner (origin = filter.origin, or any) */
} pm_origin_filter_t;

typedef struct pm_crossing_filter {
    pm_crossing_order_t order;
    int64_t after_store_id;      /* only store_id > this (0 = all) */
    int64_t time_from;           /* only time_utc >= this, when has_time_from */
    int64_t time_to;             /* only time_utc < this, when has_time_to */
    int has_time_from;
    int has_time_to;
    pm_direction_t direction;    /* UNSET = any */
    pm_origin_filter_t origin_filter;
    char origin[4];              /* with PM_ORIGIN_PARTNER: this partner only ("" = any) */
    char reporting_country[4];
    char document_number[PM_DOCNUM_MAX + 1]; /* with document_issuer: one document */
    char document_issuer[4];
    char surname_norm[PM_NAME_NORM_MAX + 1]; /* exact normalised name ... */
    char given_names_norm[PM_NAME_NORM_MAX + 1];
    pm_dob_t dob;                /* ... and date of birth (year != 0 to use) */
    int64_t limit;               /* at most this many rows (0 = no limit) */
} pm_crossing_filter_t;

typedef struct pm_crossing_iter pm_crossing_iter_t;

/* Opens an iterator over the crossings matching filter (NULL = all, in time
 * order). The iterator reads a consistent snapshot; close it before writing
 * through the same store. Caller frees with pm_crossing_iter_close. */
int pm_store_crossings(pm_store_t *st, const pm_crossing_filter_t *filter,
                       pm_crossing_iter_t **out, pm_error_t *err);
/* Fills *out with the next crossing (store_id and origin set). Returns 1 for
 * a row, 0 at the end, negative on error. */
int pm_crossing_iter_next(pm_crossing_iter_t *it, pm_crossing_t *out, pm_error_t *err);
/* Ends the iteration. NULL is a no-op. */
void pm_crossing_iter_close(pm_crossing_iter_t *it);

/* Counts the crossings matching filter (NULL = all); filter.limit is ignored. */
int pm_store_count_crossings(pm_store_t *st, const pm_crossing_filter_t *filter,
                             int64_t *out_count, pm_error_t *err);

/* The highest store_id (0 if empty): the cursor a feed consumer is caught up to. */
int pm_store_max_store_id(pm_store_t *st, int64_t *out_id, pm_error_t *err);

/* The crossing whose store id is `id` into *out. PM_ENOTFOUND if there is none. */
int pm_store_get_crossing(pm_store_t *st, int64_t id, pm_crossing_t *out, pm_error_t *err);

/* The standard counts of stored crossings (what `crossings stats` and the
 * node's stats route show). */
typedef struct pm_crossing_counts {
    int64_t total;
    int64_t our_entries;   /* our own records, direction entry */
    int64_t our_exits;     /* our own records, direction exit */
    int64_t partner_exits; /* partners' entries, stored as our exits */
} pm_crossing_counts_t;
int pm_store_crossing_counts(pm_store_t *st, pm_crossing_counts_t *out, pm_error_t *err);

/* Deletes the crossings with these store ids, with their lookup entries
 * (the retention purge, R9; links to them cascade). Ids that do not exist
 * are skipped; *out_deleted (may be NULL) = rows deleted. Inside an open
 * transaction it joins it, else it is one transaction of its own. */
int pm_store_delete_crossings(pm_store_t *st, const int64_t *ids, size_t n, uint64_t *out_deleted,
                              pm_error_t *err);

/* Replaces the stored values of the crossing with c's key (reporting_country,
 * record_id) by c's (validated: pm_crossing_finish), keeping its store id
 * and its origin (a correction never changes whose record it is): a
 * correction (R8). *out_store_id (may be NULL) gets the id.
 * PM_ENOTFOUND if no crossing has that key. */
int pm_store_update_crossing(pm_store_t *st, const pm_crossing_t *c, int64_t *out_store_id,
                             pm_error_t *err);

/* --- Backend-neutral queries, for modules that keep their own tables ---
 *
 * Public (here, not in an internal header) because every module with tables
 * in the store (gallery, link, jobs, node, vet, console) is a separate
 * module that may only use another module's public API; it replaces
 * pm_store_sqlite_handle for them.
 *
 * SQL is written once with `?` placeholders (numbered 1, 2, ... left to
 * right) in plain SQL both backends accept; on PostgreSQL they become
 * $1..$n (outside quotes and comments). A placeholder whose type PostgreSQL
 * cannot infer needs a CAST(? AS BIGINT) / CAST(? AS TEXT). New ids come
 * back with `RETURNING id` (SQLite >= 3.35 and PostgreSQL). Statements are
 * prepared once per handle and cached by their SQL text (up to 64 per
 * handle); pm_stmt_prepare of a cached text is a lookup. A statement
 * belongs to its store handle and its thread.
 *
 * Errors: PM_EEXISTS for a unique (or primary key) violation,
 * PM_EVALIDATION for another constraint (CHECK, NOT NULL, foreign key), PM_EBUSY for a
 * lock not obtained within busy_ms (SQLite busy/locked, PostgreSQL
 * lock_timeout, serialization failure, deadlock), PM_EDB otherwise, each with
 * the backend's message. Inside pm_store_begin..commit a failing statement
 * is undone alone and the transaction goes on, on both backends (PostgreSQL:
 * a savepoint around each statement that is not a SELECT).
 * PostgreSQL reads a statement's whole answer at its first step: keep
 * queries that may return very many rows for the store's iterators or page
 * them with LIMIT. */
typedef struct pm_stmt pm_stmt_t;

/* Prepares (or finds in the handle's cache) sql; *out is ready to bind. */
int pm_stmt_prepare(pm_store_t *st, const char *sql, pm_stmt_t **out, pm_error_t *err);
/* Binds parameter i (1-based). Text and blobs are copied. A NULL text binds
 * SQL NULL. Returns PM_ERANGE for an index past the statement's count. */
int pm_stmt_bind_int64(pm_stmt_t *q, int i, int64_t v);
int pm_stmt_bind_text(pm_stmt_t *q, int i, const char *v);
int pm_stmt_bind_blob(pm_stmt_t *q, int i, const void *p, size_t n);
int pm_stmt_bind_null(pm_stmt_t *q, int i);
/* A double: SQLite REAL; PostgreSQL `double precision`, sent as the shortest
 * text that reads back to the same value (%.17g). */
int pm_stmt_bind_double(pm_stmt_t *q, int i, double v);
/* Runs the statement / moves to its next row: 1 = a row is available,
 * 0 = done, negative = error (err set; the statement is then reset). */
int pm_stmt_step(pm_stmt_t *q, pm_error_t *err);
/* Columns of the current row (0-based). text: NUL-terminated UTF-8, NULL for
 * SQL NULL; blob: *n bytes (NULL with *n = 0 for SQL NULL or empty). The
 * pointers are valid until the next step, reset or finish. */
int pm_stmt_column_count(pm_stmt_t *q);
int pm_stmt_is_null(pm_stmt_t *q, int col);
int64_t pm_stmt_int64(pm_stmt_t *q, int col);
double pm_stmt_double(pm_stmt_t *q, int col); /* 0 for SQL NULL */
const char *pm_stmt_text(pm_stmt_t *q, int col);
const void *pm_stmt_blob(pm_stmt_t *q, int col, size_t *n);
/* Rows changed by the last completed INSERT/UPDATE/DELETE of q. */
int64_t pm_stmt_changes(pm_stmt_t *q);
/* Makes q ready to run again; bindings are kept. */
void pm_stmt_reset(pm_stmt_t *q);
/* Done with q: reset, bindings cleared, back to the handle's cache (or
 * freed). NULL is a no-op. */
void pm_stmt_finish(pm_stmt_t *q);

/* Runs sql without parameters (may hold several statements; no rows are
 * returned), e.g. a DDL or a DELETE. Same error mapping as above. */
int pm_store_exec(pm_store_t *st, const char *sql, pm_error_t *err);
/* A read-only transaction giving one consistent view of several queries
 * (SQLite: the same BEGIN IMMEDIATE as pm_store_begin; PostgreSQL: BEGIN
 * ISOLATION LEVEL REPEATABLE READ READ ONLY). End it with pm_store_rollback
 * or pm_store_commit. */
int pm_store_begin_read(pm_store_t *st, pm_error_t *err);
/* Convenience: runs sql (one int64 parameter bound to each `?` in args,
 * nargs of them) and puts column 0 of its first row into *out.
 * PM_ENOTFOUND when there is no row (then *out is unchanged). */
int pm_store_query_int64(pm_store_t *st, const char *sql, const int64_t *args, int nargs,
                         int64_t *out, pm_error_t *err);

/* A pool of store handles for a server: handles are checked out per
 * request and returned after, at most `size` open at once (on PostgreSQL
 * each is a connection; on SQLite each is a WAL handle of the same file).
 * Thread-safe (a mutex and a condition variable; no global state). All
 * `size` handles are opened by pm_store_pool_open, each passed to
 * `prepare` (e.g. the caller's migrations; may be NULL). A handle given
 * back with a transaction still open is rolled back; one that is broken (a
 * lost PostgreSQL connection) is closed and a fresh one is opened in its
 * place at the next checkout, never handed out again. */
typedef struct pm_store_pool pm_store_pool_t;
typedef int (*pm_store_prepare_fn)(pm_store_t *st, void *ctx, pm_error_t *err);
typedef struct pm_store_pool_stats {
    unsigned size;        /* handles allowed */
    unsigned idle;        /* open and waiting in the pool */
    unsigned in_use;      /* checked out */
    uint64_t checkouts;   /* successful checkouts so far */
    uint64_t timeouts;    /* checkouts that waited past their timeout */
    uint64_t replaced;    /* broken handles closed (and reopened on demand) */
} pm_store_pool_stats_t;

int pm_store_pool_open(const char *target, const pm_store_options_t *options, unsigned size,
                       pm_store_prepare_fn prepare, void *ctx, pm_store_pool_t **out,
                       pm_error_t *err);
/* Checks out a handle, waiting up to wait_ms for one to be returned:
 * PM_EBUSY when none came back in time; the backend's error when a
 * replacement cannot be opened (the slot stays free for the next try). */
int pm_store_pool_get(pm_store_pool_t *p, unsigned wait_ms, pm_store_t **out, pm_error_t *err);
/* Gives st back (see above). NULL is a no-op. */
void pm_store_pool_put(pm_store_pool_t *p, pm_store_t *st);
void pm_store_pool_stats(pm_store_pool_t *p, pm_store_pool_stats_t *out);
/* Closes the idle handles; every handle must have been given back. NULL is a no-op. */
void pm_store_pool_close(pm_store_pool_t *p);

/* For modules whose own tables are SQLite-only for now (link; the
 * others use the query API above): the underlying `sqlite3 *` (as void *), or NULL on PostgreSQL, where
 * those modules refuse with PM_EUNSUPPORTED. The store keeps
 * ownership; do not close it, and do not use it inside another thread. */
void *pm_store_sqlite_handle(pm_store_t *st);

/* Sealing at rest (docs/security.md "A stolen node disk"): the keys with
 * which the modules seal their sensitive columns (gallery templates, the
 * partner's received records) on write and open them on read. NULL (the
 * default) writes in clear; the ring is the caller's and must outlive the
 * store. */
struct pm_seal_ring;
void pm_store_set_seal(pm_store_t *st, const struct pm_seal_ring *ring);
const struct pm_seal_ring *pm_store_seal(const pm_store_t *st);

#ifdef __cplusplus
}
#endif
#endif
