/* The system of record for the gallery: enrolled templates in the store
 * (SQLite or PostgreSQL, through the store's query API), module "gallery" in schema_version. The snapshot is a cache of
 * these rows; gallery_state.generation counts every change so a stale
 * snapshot is recognised. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"
#include "perimeter/seal.h"
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
     "CREATE TABLE gallery_template(\n"
     "  subject bigint NOT NULL,\n"
     "  encounter bigint NOT NULL CHECK (encounter BETWEEN 0 AND 4294967295),\n"
     "  position integer NOT NULL CHECK (position BETWEEN 0 AND 10),\n"
     "  template bytea NOT NULL,\n"
     "  enrolled_at bigint NOT NULL DEFAULT (extract(epoch FROM now())::bigint),\n"
     "  PRIMARY KEY (subject, encounter, position));\n"
     "CREATE TABLE gallery_state(\n"
     "  id integer PRIMARY KEY CHECK (id = 1),\n"
     "  generation bigint NOT NULL);\n"
     "INSERT INTO gallery_state(id, generation) VALUES (1, 0);\n"},
};
static const pm_migration_set_t gallery_schema = {"gallery", gallery_steps, 1};

int pm_gallery_store_migrate(pm_store_t *st, pm_error_t *err)
{
    return pm_store_migrate(st, &gallery_schema, err);
}

/* A template is sealed under the use "template" with its row's key, so a
 * blob copied onto another subject's row does not open (docs/security.md). */
static void seal_context(char *out, size_t cap, uint64_t subject, uint32_t encounter, int position)
{
    snprintf(out, cap, "template:%llu:%u:%d", (unsigned long long)subject, encounter, position);
}

static int bump(pm_store_t *st, pm_error_t *err)
{
    int rc = pm_store_exec(st, "UPDATE gallery_state SET generation = generation + 1 WHERE id = 1",
                           err);
    if (rc)
        pm_error_prefix(err, "gallery store: generation");
    return rc;
}

int pm_gallery_store_put(pm_store_t *st, uint64_t subject, uint32_t encounter, int position,
                         const pm_fingerprint_t *fp, pm_error_t *err)
{
    if (!st)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_store_put: no store");
    if (!fp || position < 0 || position > 10)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_store_put: bad argument");
    if (subject > INT64_MAX)
        return pm_error_set(err, PM_ERANGE, "subject id %llu above 2^63-1",
                            (unsigned long long)subject);
    pm_buf_t clear = {0}, b = {0};
    int rc = pm_tmpl_write(PM_TMPL_NATIVE, fp, 1, &clear, err);
    char ctx[PM_SEAL_CONTEXT_MAX + 1];
    seal_context(ctx, sizeof ctx, subject, encounter, position);
    if (!rc)
        rc = pm_seal_ring_seal(pm_store_seal(st), ctx, clear.data, clear.len, &b, err);
    if (clear.data)
        sodium_memzero(clear.data, clear.len);
    pm_buf_free(&clear);
    if (rc) {
        pm_buf_free(&b);
        return rc;
    }
    pm_stmt_t *q = NULL;
    if ((rc = pm_stmt_prepare(st,
                              "INSERT INTO gallery_template(subject, encounter, position, template) "
                              "VALUES (?, ?, ?, ?)",
                              &q, err))) {
        pm_buf_free(&b);
        pm_error_prefix(err, "gallery store: prepare insert");
        return rc;
    }
    pm_stmt_bind_int64(q, 1, (int64_t)subject);
    pm_stmt_bind_int64(q, 2, encounter);
    pm_stmt_bind_int64(q, 3, position);
    pm_stmt_bind_blob(q, 4, b.data, b.len);
    rc = pm_stmt_step(q, err);
    if (rc == PM_EEXISTS)
        rc = pm_error_set(err, PM_EEXISTS, "subject %llu encounter %u position %d already stored",
                          (unsigned long long)subject, encounter, position);
    else if (rc < 0)
        pm_error_prefix(err, "gallery store: insert");
    pm_stmt_finish(q);
    pm_buf_free(&b);
    if (!rc)
        rc = bump(st, err);
    return rc;
}

int pm_gallery_store_delete(pm_store_t *st, uint64_t subject, int64_t encounter,
                            size_t *out_removed, pm_error_t *err)
{
    if (!st)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_store_delete: no store");
    pm_stmt_t *q = NULL;
    const char *sql = encounter < 0 ? "DELETE FROM gallery_template WHERE subject = ?"
                                    : "DELETE FROM gallery_template WHERE subject = ? AND encounter = ?";
    int rc = pm_stmt_prepare(st, sql, &q, err);
    if (rc) {
        pm_error_prefix(err, "gallery store: prepare delete");
        return rc;
    }
    pm_stmt_bind_int64(q, 1, (int64_t)subject);
    if (encounter >= 0)
        pm_stmt_bind_int64(q, 2, encounter);
    rc = pm_stmt_step(q, err);
    if (rc < 0)
        pm_error_prefix(err, "gallery store: delete");
    size_t removed = rc ? 0 : (size_t)pm_stmt_changes(q);
    pm_stmt_finish(q);
    if (out_removed)
        *out_removed = removed;
    if (!rc && removed)
        rc = bump(st, err);
    if (!rc && !removed)
        rc = pm_error_set(err, PM_ENOTFOUND, "subject %llu has no stored templates%s",
                          (unsigned long long)subject, encounter >= 0 ? " for that encounter" : "");
    return rc;
}

int pm_gallery_store_generation(pm_store_t *st, uint64_t *out, pm_error_t *err)
{
    if (!st)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_store_generation: no store");
    int64_t gen = 0;
    int rc = pm_store_query_int64(st, "SELECT generation FROM gallery_state WHERE id = 1", NULL, 0,
                                  &gen, err);
    if (rc) {
        pm_error_prefix(err, "gallery store: read generation");
        return rc;
    }
    *out = (uint64_t)gen;
    return PM_OK;
}

/* Rows per page of a load: PostgreSQL reads a statement's whole answer, so
 * the load pages by key (the same on SQLite) and memory stays bounded. */
#define LOAD_PAGE 4096

/* Every stored template (or those of the subjects keep() accepts, the others
 * not even decoded) inserted into g; one already there (learnt meanwhile) is
 * not an error. *inserted counts the new ones. */
static int load_rows(pm_store_t *st, pm_gallery_t *g, int (*keep)(uint64_t subject, void *ctx),
                     void *ctx, size_t *inserted, pm_error_t *err)
{
    int rc = PM_OK;
    int64_t last[3] = {-1, -1, -1}; /* key of the last row read */
    pm_buf_t plain = {0};
    for (;;) {
        pm_stmt_t *q = NULL;
        if ((rc = pm_stmt_prepare(st,
                                  "SELECT subject, encounter, position, template FROM "
                                  "gallery_template WHERE (subject, encounter, position) > (?, ?, ?) "
                                  "ORDER BY subject, encounter, position LIMIT 4096",
                                  &q, err))) {
            pm_error_prefix(err, "gallery store: prepare load");
            break;
        }
        for (int i = 0; i < 3; i++)
            pm_stmt_bind_int64(q, i + 1, last[i]);
        size_t rows = 0;
        while (!rc) {
            int s = pm_stmt_step(q, err);
            if (s == 0)
                break;
            if (s < 0) {
                rc = s;
                pm_error_prefix(err, "gallery store: load");
                break;
            }
            rows++;
            uint64_t subject = (uint64_t)pm_stmt_int64(q, 0);
            uint32_t enc = (uint32_t)pm_stmt_int64(q, 1);
            int pos = (int)pm_stmt_int64(q, 2);
            last[0] = (int64_t)subject;
            last[1] = enc;
            last[2] = pos;
            if (keep && !keep(subject, ctx))
                continue; /* another shard's: not even decoded */
            size_t len = 0;
            const uint8_t *blob = pm_stmt_blob(q, 3, &len);
            pm_fingerprint_t *views = NULL;
            size_t nv = 0;
            char use[PM_SEAL_CONTEXT_MAX + 1];
            seal_context(use, sizeof use, subject, enc, pos);
            plain.len = 0;
            rc = pm_seal_ring_open(pm_store_seal(st), use, blob, len, &plain, NULL, err);
            if (!rc)
                rc = pm_tmpl_read(plain.data, plain.len, PM_TMPL_NATIVE, &views, &nv, NULL, err);
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
        pm_stmt_finish(q);
        if (rc || rows < LOAD_PAGE)
            break;
    }
    if (plain.data)
        sodium_memzero(plain.data, plain.cap);
    pm_buf_free(&plain);
    return rc;
}

int pm_gallery_store_load(pm_store_t *st, pm_gallery_t *g, uint64_t *out_generation,
                          pm_error_t *err)
{
    if (!st || !g)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_store_load: NULL store or gallery");
    int rc = pm_store_begin_read(st, err); /* one consistent read of rows + generation */
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
        rc = load_rows(st, g, NULL, NULL, &inserted, err);
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
    if (!st || !g)
        return pm_error_set(err, PM_EINVAL, "pm_gallery_store_load_where: NULL store or gallery");
    int rc = pm_store_begin_read(st, err); /* one consistent read of rows + generation */
    if (rc)
        return rc;
    uint64_t gen = 0;
    size_t inserted = 0;
    rc = pm_gallery_store_generation(st, &gen, err);
    if (!rc)
        rc = load_rows(st, g, keep, ctx, &inserted, err);
    pm_store_rollback(st, NULL); /* read-only transaction */
    if (!rc && out_generation)
        *out_generation = gen;
    if (out_inserted)
        *out_inserted = inserted;
    return rc;
}

/* One row to re-seal: its key and its new blob. */
typedef struct reseal_row {
    int64_t key[3];
    pm_buf_t blob;
} reseal_row_t;

int pm_gallery_store_reseal(pm_store_t *st, size_t batch, struct pm_seal_progress *progress,
                            pm_error_t *err)
{
    const pm_seal_ring_t *ring = st ? pm_store_seal(st) : NULL;
    if (!ring || !ring->n)
        return pm_error_set(err, PM_EINVAL, "gallery reseal: no data key on the store");
    if (batch == 0 || batch > LOAD_PAGE)
        batch = 512;
    reseal_row_t *rows = calloc(batch, sizeof *rows);
    if (!rows)
        return pm_error_set(err, PM_ENOMEM, "gallery reseal: out of memory");
    int64_t last[3] = {-1, -1, -1};
    pm_buf_t plain = {0};
    int rc = PM_OK, more = 1;
    while (!rc && more) {
        /* read one page, re-seal in memory the rows not under the current key */
        pm_stmt_t *q = NULL;
        size_t nr = 0, seen = 0;
        if ((rc = pm_stmt_prepare(st,
                                  "SELECT subject, encounter, position, template FROM "
                                  "gallery_template WHERE (subject, encounter, position) > (?, ?, ?) "
                                  "ORDER BY subject, encounter, position LIMIT ?",
                                  &q, err)))
            break;
        for (int i = 0; i < 3; i++)
            pm_stmt_bind_int64(q, i + 1, last[i]);
        pm_stmt_bind_int64(q, 4, (int64_t)batch);
        for (;;) {
            int s = pm_stmt_step(q, err);
            if (s <= 0) {
                rc = s;
                break;
            }
            seen++;
            for (int i = 0; i < 3; i++)
                last[i] = pm_stmt_int64(q, i);
            size_t len = 0;
            const uint8_t *blob = pm_stmt_blob(q, 3, &len);
            if (progress)
                progress->rows++;
            if (pm_seal_ring_current(ring, blob, len))
                continue;
            char ctx[PM_SEAL_CONTEXT_MAX + 1];
            seal_context(ctx, sizeof ctx, (uint64_t)last[0], (uint32_t)last[1], (int)last[2]);
            int was = 0;
            plain.len = 0;
            reseal_row_t *r = &rows[nr];
            r->blob.len = 0;
            if ((rc = pm_seal_ring_open(ring, ctx, blob, len, &plain, &was, err)) ||
                (rc = pm_seal_ring_seal(ring, ctx, plain.data, plain.len, &r->blob, err))) {
                pm_error_prefix(err, "template of subject %lld encounter %lld position %lld",
                                (long long)last[0], (long long)last[1], (long long)last[2]);
                break;
            }
            memcpy(r->key, last, sizeof last);
            nr++;
            if (progress) {
                if (was)
                    progress->rotated++;
                else
                    progress->sealed++;
            }
        }
        pm_stmt_finish(q);
        more = seen == batch;
        if (rc || nr == 0)
            continue;
        /* write the page's new blobs in one transaction: a crash leaves the
         * page all old or all new, and a rerun picks up what is left */
        if ((rc = pm_store_begin(st, err)))
            break;
        for (size_t i = 0; i < nr && !rc; i++) {
            pm_stmt_t *u = NULL;
            if ((rc = pm_stmt_prepare(st,
                                      "UPDATE gallery_template SET template = ? WHERE subject = ? "
                                      "AND encounter = ? AND position = ?",
                                      &u, err)))
                break;
            pm_stmt_bind_blob(u, 1, rows[i].blob.data, rows[i].blob.len);
            for (int k = 0; k < 3; k++)
                pm_stmt_bind_int64(u, k + 2, rows[i].key[k]);
            rc = pm_stmt_step(u, err);
            pm_stmt_finish(u);
        }
        if (!rc)
            rc = pm_store_commit(st, err);
        else
            pm_store_rollback(st, NULL);
        if (rc)
            pm_error_prefix(err, "gallery reseal: write");
    }
    for (size_t i = 0; i < batch; i++)
        pm_buf_free(&rows[i].blob);
    free(rows);
    if (plain.data)
        sodium_memzero(plain.data, plain.cap);
    pm_buf_free(&plain);
    return rc;
}
