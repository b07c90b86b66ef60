/* Import of crossing records into a store: batched transactions (durable per
 * batch, idempotent per record key), rejected rows reported and skipped,
 * strict mode, and the partner mirror (their entry = our exit). */
#include <stdlib.h>
#include <string.h>

#include "perimeter/store.h"
#include "perimeter/travel.h"

#define DEFAULT_BATCH 20000

static int partner_check(pm_crossing_t *c, const char *partner, pm_crossing_field_t *out_field,
                         pm_error_t *err)
{
    if (strcmp(c->reporting_country, partner) != 0) {
        *out_field = PM_CF_REPORTING_COUNTRY;
        return pm_error_set(err, PM_EVALIDATION,
                            "reporting_country: '%s' in the feed of partner %s",
                            c->reporting_country, partner);
    }
    if (c->direction != PM_DIRECTION_ENTRY) {
        *out_field = PM_CF_DIRECTION;
        return pm_error_set(err, PM_EVALIDATION,
                            "direction: a partner feed carries entries only, got '%s'",
                            pm_direction_name(c->direction));
    }
    /* Admission data is local to the admitting country and never exchanged:
     * whatever a partner's file carries of it is not stored here. */
    c->admission_class[0] = '\0';
    memset(&c->stay_until, 0, sizeof c->stay_until);
    c->direction = PM_DIRECTION_EXIT;
    memcpy(c->origin, partner, 4);
    return PM_OK;
}

/* Rows handed to the store per call. SQLite inserts them 16 per statement
 * either way; PostgreSQL pays a few round trips per call (COPY into a staging
 * table, then one INSERT ... SELECT), so calls are large. */
#define CHUNK 4096

struct import_state {
    struct pm_store *st;
    pm_crossing_t *chunk; /* CHUNK rows waiting to be stored */
    size_t nchunk;
    int open_tx;
    size_t in_batch;       /* rows put in the open transaction */
    uint64_t batch_stored; /* of which new */
    int64_t saved_cursor;  /* partner feed cursor written in this import */
};

/* Stores the waiting rows inside the open transaction (opening one if needed). */
static int flush_chunk(struct import_state *is, pm_import_stats_t *stats, pm_error_t *err)
{
    if (is->nchunk == 0)
        return PM_OK;
    int rc;
    if (!is->open_tx) {
        if ((rc = pm_store_begin(is->st, err)))
            return rc;
        is->open_tx = 1;
    }
    uint64_t inserted = 0;
    if ((rc = pm_store_put_crossings(is->st, is->chunk, is->nchunk, &inserted, err)))
        return rc;
    stats->stored += inserted;
    stats->duplicates += is->nchunk - inserted;
    is->batch_stored += inserted;
    is->in_batch += is->nchunk;
    is->nchunk = 0;
    return PM_OK;
}

/* Records the partner feed's cursor with the rows up to it (same transaction). */
static int save_cursor(struct import_state *is, const char *partner, const pm_import_stats_t *stats,
                       pm_error_t *err)
{
    if (!partner || stats->last_cursor < 0 || stats->last_cursor <= is->saved_cursor)
        return PM_OK;
    int rc;
    if (!is->open_tx) {
        if ((rc = pm_store_begin(is->st, err)))
            return rc;
        is->open_tx = 1;
    }
    if ((rc = pm_store_set_partner_cursor(is->st, partner, stats->last_cursor, err)))
        return rc;
    is->saved_cursor = stats->last_cursor;
    return PM_OK;
}

int pm_crossings_import(struct pm_store *st, pm_crossing_reader_t *r, const pm_import_options_t *o,
                        pm_import_stats_t *out_stats, pm_error_t *err)
{
    pm_import_options_t defaults;
    memset(&defaults, 0, sizeof defaults);
    if (!o)
        o = &defaults;
    pm_import_stats_t stats = {0, 0, 0, 0, -1};
    size_t batch = o->batch_rows ? o->batch_rows : DEFAULT_BATCH;
    const char *partner = o->from_partner;
    struct import_state is = {st, NULL, 0, 0, 0, 0, -1};
    int rc = PM_OK;
    if (partner) {
        if (strlen(partner) != 3 || !pm_country_is_iso(partner)) {
            rc = pm_error_set(err, PM_EINVAL, "partner code '%s' is not an ISO 3166-1 alpha-3 code",
                              partner);
            goto done;
        }
        if ((rc = pm_store_ensure_partner(st, partner, err)))
            goto done;
    }
    is.chunk = malloc(CHUNK * sizeof *is.chunk);
    if (!is.chunk) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory");
        goto done;
    }
    pm_error_t rowerr;
    for (;;) {
        pm_crossing_t *c = &is.chunk[is.nchunk];
        int64_t cursor = -1;
        pm_error_clear(&rowerr);
        int got = pm_crossing_reader_next(r, c, &cursor, &rowerr);
        if (got == 0)
            break;
        if (got < 0 && got != PM_EVALIDATION) {
            rc = got;
            if (err)
                *err = rowerr;
            goto fail;
        }
        stats.rows++;
        if (cursor > stats.last_cursor)
            stats.last_cursor = cursor;
        pm_crossing_field_t field = pm_crossing_reader_error_field(r);
        if (got == 1 && partner && partner_check(c, partner, &field, &rowerr)) {
            pm_error_prefix(&rowerr, "line %llu", (unsigned long long)pm_crossing_reader_line(r));
            got = PM_EVALIDATION;
        }
        if (got < 0) {
            stats.rejected++;
            if (o->on_reject)
                o->on_reject(o->ctx, pm_crossing_reader_line(r), field, &rowerr);
            continue;
        }
        if (o->strict && stats.rejected)
            continue; /* validate the rest, to report every bad row; store nothing */
        if (++is.nchunk < CHUNK && is.in_batch + is.nchunk < batch)
            continue;
        if ((rc = flush_chunk(&is, &stats, err)))
            goto fail;
        if (!o->strict && is.in_batch >= batch) {
            if ((rc = save_cursor(&is, partner, &stats, err)) || (rc = pm_store_commit(st, err)))
                goto fail;
            is.open_tx = 0;
            is.in_batch = 0;
            is.batch_stored = 0;
            if (o->on_batch)
                o->on_batch(o->ctx, stats.rows, stats.stored);
        }
    }
    if (o->strict && stats.rejected) {
        if (is.open_tx)
            pm_store_rollback(st, NULL);
        stats.stored = 0;
        stats.duplicates = 0;
        rc = pm_error_set(err, PM_EVALIDATION,
                          "%llu of %llu rows rejected; strict mode: nothing stored",
                          (unsigned long long)stats.rejected, (unsigned long long)stats.rows);
        goto done;
    }
    if ((rc = flush_chunk(&is, &stats, err)) || (rc = save_cursor(&is, partner, &stats, err)))
        goto fail;
    if (is.open_tx) {
        if ((rc = pm_store_commit(st, err)))
            goto fail;
        is.open_tx = 0;
        if (o->on_batch)
            o->on_batch(o->ctx, stats.rows, stats.stored);
    }
    if (stats.rejected)
        rc = pm_error_set(err, PM_EPARTIAL, "%llu of %llu rows rejected",
                          (unsigned long long)stats.rejected, (unsigned long long)stats.rows);
    goto done;
fail:
    if (is.open_tx) {
        /* the open batch is lost; what was committed before stays */
        pm_store_rollback(st, NULL);
        stats.stored -= is.batch_stored;
        stats.duplicates -= is.in_batch - is.batch_stored;
    }
done:
    free(is.chunk);
    if (out_stats)
        *out_stats = stats;
    return rc;
}
