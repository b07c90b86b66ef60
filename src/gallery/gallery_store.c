/* The system of record for the gallery: enrolled templates in the store
 * (SQLite), module "gallery" in schema_version. The snapshot is a cache of
 * these rows; gallery_state.generation counts every change so a stale
 * snapshot is recognised. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "perimeter/core.h"
#include "perimeter/store.h"
#include "perimeter/tmpl.h"
#include "gallery/gallery_internal.h"

static const pm_migration_t gallery_steps[] = {
    {1, "enrolled finger templates",
     "CREATE TABLE gallery_template(\n"
     "  subject INTEGER NOT NULL,\n"
     "  encounter INTEGER NOT NULL CHECK (encounter BETWEEN 0 AND 4294967295),\n"
     "  position INTEGER NOT NULL CHECK (position BETWEEN 0 AND 10),\n"
     "  template BLOB NOT NULL,\n"
     "  enrolled_at INTEGER NOT NULL DEFAULT (unixepoch()),\n"
     "  PRIMARY KEY (subject, encounter, position)) STRICT;\n"
     "CREATE TABLE gallery_state(\n"
     "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
     "  generation INTEGER NOT NULL) STRICT;\n"
     "INSERT INTO gallery_state(id, generation) VALUES (1, 0);\n",
     NULL},
};
static const pm_migration_set_t gallery_schema = {"gallery", gallery_steps, 1};

int pm_gallery_store_migrate(pm_store_t *st, pm_error_t *err)
{
    return pm_store_migrate(st, &gallery_schema, err);
}

static sqlite3 *db_of(pm_store_t *st, pm_error_t *err)
{
    sqlite3 *db = st ? pm_store_sqlite_handle(st) : NULL;
    if (!db)
        pm_error_set(err, PM_EUNSUPPORTED, "gallery tables need the SQLite backend");
    return db;
}

static int db_fail(sqlite3 *db, pm_error_t *err, const char *what)
{
    return pm_error_set(err, PM_EDB, "gallery store: %s: %s", what, sqlite3_errmsg(db));
}

static int bump(sqlite3 *db, pm_error_t *err)
{
    if (sqlite3_exec(db, "UPDATE gallery_state SET generation = generation + 1 WHERE id = 1", NULL,
                     NULL, NULL) != SQLITE_OK)
        return db_fail(db, err, "generation");
    return 0;
}

int pm_gallery_store_put(pm_store_t *st, uint64_t subject, uint32_t encounter, int position,
                         const pm_fingerprint_t *fp, pm_error_t *err)
{
    sqlite3 *db = db_of(st, err);
    if (!db)
        return PM_EUNSUPPORTED;
    if (!fp || position < 0 || position > 10)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_store_put: bad argument");
    if (subject > INT64_MAX)
        return pm_error_set(err, PM_ERANGE, "subject id %llu above 2^63-1",
                            (unsigned long long)subject);
    pm_buf_t b = {0};
    int rc = pm_tmpl_write(PM_TMPL_NATIVE, fp, 1, &b, err);
    if (rc) {
        pm_buf_free(&b);
        return rc;
    }
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO gallery_template(subject, encounter, position, template) "
                           "VALUES (?, ?, ?, ?)",
                           -1, &q, NULL) != SQLITE_OK) {
        pm_buf_free(&b);
        return db_fail(db, err, "prepare insert");
    }
    sqlite3_bind_int64(q, 1, (sqlite3_int64)subject);
    sqlite3_bind_int64(q, 2, encounter);
    sqlite3_bind_int(q, 3, position);
    sqlite3_bind_blob(q, 4, b.data, (int)b.len, SQLITE_TRANSIENT);
    int s = sqlite3_step(q);
    if (s == SQLITE_CONSTRAINT)
        rc = pm_error_set(err, PM_EEXISTS, "subject %llu encounter %u position %d already stored",
                          (unsigned long long)subject, encounter, position);
    else if (s != SQLITE_DONE)
        rc = db_fail(db, err, "insert");
    sqlite3_finalize(q);
    pm_buf_free(&b);
    if (!rc)
        rc = bump(db, err);
    return rc;
}

int pm_gallery_store_delete(pm_store_t *st, uint64_t subject, int64_t encounter,
                            size_t *out_removed, pm_error_t *err)
{
    sqlite3 *db = db_of(st, err);
    if (!db)
        return PM_EUNSUPPORTED;
    sqlite3_stmt *q = NULL;
    const char *sql = encounter < 0 ? "DELETE FROM gallery_template WHERE subject = ?"
                                    : "DELETE FROM gallery_template WHERE subject = ? AND encounter = ?";
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return db_fail(db, err, "prepare delete");
    sqlite3_bind_int64(q, 1, (sqlite3_int64)subject);
    if (encounter >= 0)
        sqlite3_bind_int64(q, 2, encounter);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : db_fail(db, err, "delete");
    sqlite3_finalize(q);
    size_t removed = rc ? 0 : (size_t)sqlite3_changes(db);
    if (out_removed)
        *out_removed = removed;
    if (!rc && removed)
        rc = bump(db, err);
    if (!rc && !removed)
        rc = pm_error_set(err, PM_ENOTFOUND, "subject %llu has no stored templates%s",
                          (unsigned long long)subject, encounter >= 0 ? " for that encounter" : "");
    return rc;
}

int pm_gallery_store_generation(pm_store_t *st, uint64_t *out, pm_error_t *err)
{
    sqlite3 *db = db_of(st, err);
    if (!db)
        return PM_EUNSUPPORTED;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT generation FROM gallery_state WHERE id = 1", -1, &q,
                           NULL) != SQLITE_OK)
        return db_fail(db, err, "prepare generation");
    int rc = 0;
    if (sqlite3_step(q) == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(q, 0);
    else
        rc = db_fail(db, err, "read generation");
    sqlite3_finalize(q);
    return rc;
}

/* Every stored template (or those of the subjects keep() accepts, the others
 * not even decoded) inserted into g; one already there (learnt meanwhile) is
 * not an error. *inserted counts the new ones. */
static int load_rows(sqlite3 *db, pm_gallery_t *g, int (*keep)(uint64_t subject, void *ctx),
                     void *ctx, size_t *inserted, pm_error_t *err)
{
    int rc = PM_OK;
    sqlite3_stmt *q = NULL;
    if (!rc && sqlite3_prepare_v2(db,
                                  "SELECT subject, encounter, position, template FROM "
                                  "gallery_template ORDER BY subject, encounter, position",
                                  -1, &q, NULL) != SQLITE_OK)
        rc = db_fail(db, err, "prepare load");
    while (!rc) {
        int s = sqlite3_step(q);
        if (s == SQLITE_DONE)
            break;
        if (s != SQLITE_ROW) {
            rc = db_fail(db, err, "load");
            break;
        }
        uint64_t subject = (uint64_t)sqlite3_column_int64(q, 0);
        if (keep && !keep(subject, ctx))
            continue; /* another shard's: not even decoded */
        uint32_t enc = (uint32_t)sqlite3_column_int64(q, 1);
        int pos = sqlite3_column_int(q, 2);
        const uint8_t *blob = sqlite3_column_blob(q, 3);
        int len = sqlite3_column_bytes(q, 3);
        pm_fingerprint_t *views = NULL;
        size_t nv = 0;
        rc = pm_tmpl_read(blob, (size_t)len, PM_TMPL_NATIVE, &views, &nv, NULL, err);
        if (!rc && nv >= 1) {
            rc = pm_gallery_insert(g, subject, enc, pos, &views[0], err);
            if (rc == PM_OK)
                (*inserted)++;
            else if (rc == PM_EEXISTS) {
                rc = PM_OK; /* already there (learnt meanwhile) */
                pm_error_clear(err);
            }
        }
        free(views);
        if (rc)
            pm_error_prefix(err, "stored template of subject %llu encounter %u position %d",
                            (unsigned long long)subject, enc, pos);
    }
    sqlite3_finalize(q);
    return rc;
}

int pm_gallery_store_load(pm_store_t *st, pm_gallery_t *g, uint64_t *out_generation,
                          pm_error_t *err)
{
    sqlite3 *db = db_of(st, err);
    if (!db)
        return PM_EUNSUPPORTED;
    if (!g)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_store_load: NULL gallery");
    int rc = pm_store_begin(st, err); /* one consistent read of rows + generation */
    if (rc)
        return rc;
    uint64_t gen = 0;
    rc = pm_gallery_store_generation(st, &gen, err);
    /* empty the gallery */
    if (!rc) {
        pthread_rwlock_wrlock(&g->lock);
        g->s.n = 0;
        rc = pm__gal_reindex(g) ? pm_error_set(err, PM_ENOMEM, "out of memory") : 0;
        pthread_rwlock_unlock(&g->lock);
    }
    size_t inserted = 0;
    if (!rc)
        rc = load_rows(db, g, NULL, NULL, &inserted, err);
    pm_store_rollback(st, NULL); /* read-only transaction */
    if (!rc && out_generation)
        *out_generation = gen;
    return rc;
}

int pm_gallery_store_load_where(pm_store_t *st, pm_gallery_t *g,
                                int (*keep)(uint64_t subject, void *ctx), void *ctx,
                                uint64_t *out_generation, size_t *out_inserted, pm_error_t *err)
{
    if (out_inserted)
        *out_inserted = 0;
    sqlite3 *db = db_of(st, err);
    if (!db)
        return PM_EUNSUPPORTED;
    if (!g)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_store_load_where: NULL gallery");
    int rc = pm_store_begin(st, err); /* one consistent read of rows + generation */
    if (rc)
        return rc;
    uint64_t gen = 0;
    size_t inserted = 0;
    rc = pm_gallery_store_generation(st, &gen, err);
    if (!rc)
        rc = load_rows(db, g, keep, ctx, &inserted, err);
    pm_store_rollback(st, NULL); /* read-only transaction */
    if (!rc && out_generation)
        *out_generation = gen;
    if (out_inserted)
        *out_inserted = inserted;
    return rc;
}
