/* The store interface: dispatch to the backend, and the store's own schema. */
#include <stdlib.h>
#include <string.h>

#include "store/store_impl.h"

/* Version 1: crossings and partners.
 * crossing.dob is YYYYMMDD with 00 for an unknown month or day (19800700 =
 * July 1980). doc_key and name_key are 64-bit FNV-1a hashes (signed) of
 * "number|issuer" and of "surname_norm|dob"; an integer index is cheaper to
 * maintain at ingest than a text one, and every lookup also compares the real
 * columns, so a hash collision never returns a wrong row. Lookups by name go
 * through crossing_person (name_key -> the documents seen with that name and
 * date of birth) and then the document index: for the repeat travellers that
 * make most traffic the pair is already there, so an import reads it instead
 * of growing a second random-key index on crossing. Later versions append steps here; never
 * edit a released step. */
static const pm_migration_t store_steps[] = {
    {1, "crossing records and partners",
     "CREATE TABLE partner (\n"
     "  code TEXT PRIMARY KEY CHECK (length(code) = 3)\n"
     ") STRICT;\n"
     "CREATE TABLE crossing (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  reporting_country TEXT NOT NULL,\n"
     "  record_id TEXT NOT NULL,\n"
     "  direction INTEGER NOT NULL CHECK (direction IN (1, 2)),\n"
     "  time_utc INTEGER NOT NULL,\n"
     "  utc_offset INTEGER NOT NULL,\n"
     "  port_code TEXT NOT NULL,\n"
     "  mode INTEGER NOT NULL CHECK (mode BETWEEN 1 AND 5),\n"
     "  surname TEXT NOT NULL,\n"
     "  given_names TEXT NOT NULL,\n"
     "  middle_names TEXT NOT NULL,\n"
     "  surname_norm TEXT NOT NULL,\n"
     "  given_names_norm TEXT NOT NULL,\n"
     "  dob INTEGER NOT NULL,\n"
     "  citizenship TEXT NOT NULL,\n"
     "  sex TEXT NOT NULL CHECK (sex IN ('M', 'F', 'X')),\n"
     "  document_type TEXT NOT NULL,\n"
     "  document_number TEXT NOT NULL,\n"
     "  document_issuer TEXT NOT NULL,\n"
     "  mrz TEXT,\n"
     "  origin TEXT REFERENCES partner(code),\n"
     "  doc_key INTEGER NOT NULL,\n"
     "  UNIQUE (reporting_country, record_id)\n"
     ") STRICT;\n"
     "CREATE INDEX crossing_doc_key ON crossing (doc_key);\n"
     "CREATE TABLE crossing_person (\n"
     "  name_key INTEGER NOT NULL,\n"
     "  doc_key INTEGER NOT NULL,\n"
     "  PRIMARY KEY (name_key, doc_key)\n"
     ") STRICT, WITHOUT ROWID;\n"
     "CREATE INDEX crossing_time ON crossing (time_utc);\n",
     NULL},
    {2, "partner feed cursor",
     "ALTER TABLE partner ADD COLUMN feed_cursor INTEGER NOT NULL DEFAULT 0;\n", NULL},
    /* The document lookup moves from an index on crossing(doc_key) to a
     * WITHOUT ROWID table the store fills once per batch in key order (an
     * index is maintained row by row at random places, which was most of the
     * import's cost); a trigger keeps it in step when crossings are deleted. */
    {3, "document lookup table filled in key order",
     "CREATE TABLE crossing_doc (\n"
     "  doc_key INTEGER NOT NULL,\n"
     "  id INTEGER NOT NULL,\n"
     "  PRIMARY KEY (doc_key, id)\n"
     ") STRICT, WITHOUT ROWID;\n"
     "INSERT INTO crossing_doc (doc_key, id) SELECT doc_key, id FROM crossing ORDER BY doc_key, id;\n"
     "DROP INDEX crossing_doc_key;\n"
     "CREATE TRIGGER crossing_doc_delete AFTER DELETE ON crossing BEGIN\n"
     "  DELETE FROM crossing_doc WHERE doc_key = old.doc_key AND id = old.id;\n"
     "END;\n",
     NULL},
    /* Admission data on our own entries (docs/travel.md): kept here, never
     * exported, so the partner feed cannot carry it. */
    {4, "admission class and authorised stay end on our own entries",
     "ALTER TABLE crossing ADD COLUMN admission_class TEXT;\n"
     "ALTER TABLE crossing ADD COLUMN stay_until INTEGER;\n",
     NULL},
};

const pm_migration_set_t pm__store_schema = {"store", store_steps,
                                             sizeof store_steps / sizeof store_steps[0]};

const char *pm_store_default_path(void)
{
    return "./perimeter.db";
}

int pm_store_open(const char *path, const pm_store_options_t *options, pm_store_t **out,
                  pm_error_t *err)
{
    *out = NULL;
    if (!path)
        path = pm_store_default_path();
    return pm__sqlite_open(path, options, out, err);
}

void pm_store_close(pm_store_t *st)
{
    if (st)
        st->ops->close(st);
}

const char *pm_store_backend(const pm_store_t *st)
{
    return st->ops->name;
}

int pm_store_migrate(pm_store_t *st, const pm_migration_set_t *set, pm_error_t *err)
{
    return st->ops->migrate(st, set, err);
}

int pm_store_schema_version(pm_store_t *st, const char *module, int *out_version, pm_error_t *err)
{
    return st->ops->schema_version(st, module, out_version, err);
}

int pm_store_begin(pm_store_t *st, pm_error_t *err)
{
    return st->ops->begin(st, err);
}

int pm_store_commit(pm_store_t *st, pm_error_t *err)
{
    return st->ops->commit(st, err);
}

int pm_store_rollback(pm_store_t *st, pm_error_t *err)
{
    return st->ops->rollback(st, err);
}

int pm_store_ensure_partner(pm_store_t *st, const char *code, pm_error_t *err)
{
    return st->ops->ensure_partner(st, code, err);
}

int pm_store_partners(pm_store_t *st, char (*out)[4], size_t max, size_t *out_n, pm_error_t *err)
{
    return st->ops->partners(st, out, max, out_n, err);
}

int pm_store_partner_cursor(pm_store_t *st, const char *code, int64_t *out_cursor,
                            pm_error_t *err)
{
    return st->ops->partner_cursor(st, code, out_cursor, err);
}

int pm_store_set_partner_cursor(pm_store_t *st, const char *code, int64_t cursor, pm_error_t *err)
{
    return st->ops->set_partner_cursor(st, code, cursor, err);
}

int pm_store_put_crossing(pm_store_t *st, const pm_crossing_t *c, int *out_inserted,
                          pm_error_t *err)
{
    int dummy;
    return st->ops->put_crossing(st, c, out_inserted ? out_inserted : &dummy, err);
}

int pm_store_put_crossings(pm_store_t *st, const pm_crossing_t *rows, size_t n,
                           uint64_t *out_inserted, pm_error_t *err)
{
    uint64_t dummy;
    return st->ops->put_crossings(st, rows, n, out_inserted ? out_inserted : &dummy, err);
}

int pm_store_crossings(pm_store_t *st, const pm_crossing_filter_t *filter,
                       pm_crossing_iter_t **out, pm_error_t *err)
{
    pm_crossing_filter_t all;
    if (!filter) {
        memset(&all, 0, sizeof all);
        filter = &all;
    }
    return st->ops->crossings(st, filter, out, err);
}

int pm_crossing_iter_next(pm_crossing_iter_t *it, pm_crossing_t *out, pm_error_t *err)
{
    return it->ops->next(it, out, err);
}

void pm_crossing_iter_close(pm_crossing_iter_t *it)
{
    if (it)
        it->ops->close(it);
}

int pm_store_count_crossings(pm_store_t *st, const pm_crossing_filter_t *filter,
                             int64_t *out_count, pm_error_t *err)
{
    pm_crossing_filter_t all;
    if (!filter) {
        memset(&all, 0, sizeof all);
        filter = &all;
    }
    return st->ops->count_crossings(st, filter, out_count, err);
}

int pm_store_max_store_id(pm_store_t *st, int64_t *out_id, pm_error_t *err)
{
    return st->ops->max_store_id(st, out_id, err);
}

int pm_store_get_crossing(pm_store_t *st, int64_t id, pm_crossing_t *out, pm_error_t *err)
{
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_STORE_ID;
    f.after_store_id = id - 1;
    f.limit = 1;
    pm_crossing_iter_t *it = NULL;
    int rc = pm_store_crossings(st, &f, &it, err);
    if (!rc) {
        int got = pm_crossing_iter_next(it, out, err);
        rc = got == 1 && out->store_id == id ? PM_OK
             : got < 0                       ? got
                         : pm_error_set(err, PM_ENOTFOUND, "no crossing %lld", (long long)id);
    }
    pm_crossing_iter_close(it);
    return rc;
}

int pm_store_crossing_counts(pm_store_t *st, pm_crossing_counts_t *out, pm_error_t *err)
{
    static const struct {
        pm_direction_t dir;
        pm_origin_filter_t origin;
    } kinds[4] = {
        {PM_DIRECTION_UNSET, PM_ORIGIN_ANY},
        {PM_DIRECTION_ENTRY, PM_ORIGIN_LOCAL},
        {PM_DIRECTION_EXIT, PM_ORIGIN_LOCAL},
        {PM_DIRECTION_EXIT, PM_ORIGIN_PARTNER},
    };
    int64_t *dst[4] = {&out->total, &out->our_entries, &out->our_exits, &out->partner_exits};
    for (size_t i = 0; i < 4; i++) {
        pm_crossing_filter_t f;
        memset(&f, 0, sizeof f);
        f.direction = kinds[i].dir;
        f.origin_filter = kinds[i].origin;
        int rc = pm_store_count_crossings(st, &f, dst[i], err);
        if (rc)
            return rc;
    }
    return 0;
}

void *pm_store_sqlite_handle(pm_store_t *st)
{
    return st->ops->sqlite_handle ? st->ops->sqlite_handle(st) : NULL;
}

int pm_store_delete_crossings(pm_store_t *st, const int64_t *ids, size_t n, uint64_t *out_deleted,
                              pm_error_t *err)
{
    uint64_t dummy;
    return st->ops->delete_crossings(st, ids, n, out_deleted ? out_deleted : &dummy, err);
}

int pm_store_update_crossing(pm_store_t *st, const pm_crossing_t *c, int64_t *out_store_id,
                             pm_error_t *err)
{
    if (!c)
        return pm_error_set(err, PM_EINVAL, "update crossing: NULL record");
    return st->ops->update_crossing(st, c, out_store_id, err);
}
