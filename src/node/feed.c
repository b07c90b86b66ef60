/* The partner entry/exit feed (DOMAIN.md 1): our entries go to each partner,
 * its entries come back as our exits.
 *
 * Push (the feed job, at-least-once): read our own entries after the cursor
 * the partner last acknowledged (table feed_push), POST them as JSON Lines to
 * its /v1/partner/feed, and store the acknowledged cursor only after its 200.
 * A crash between its commit and our cursor update re-sends a batch; the
 * receiver's import is idempotent on (reporting_country, record_id), so
 * nothing is stored twice. While the partner is down the job retries with
 * exponential backoff; the cursor is in the store, so a restart resumes.
 *
 * Pull: the partner's GET /v1/partner/feed?since=CURSOR serves the same
 * JSON Lines; a node configured to pull imports them with the partner mirror
 * and keeps the cursor in the same transaction as the rows
 * (pm_store_partner_cursor). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/server_impl.h"
#include "perimeter/policy.h"
#include "perimeter/travel.h"

int pm__feed_state_get(pm_store_t *st, const char *partner, pm__feed_state_t *out,
                       pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->partner, sizeof out->partner, "%s", partner);
    pm_stmt_t *q = NULL;
    int rc = pm_stmt_prepare(st,
                             "SELECT acked, failures, last_error, last_ok_at FROM feed_push "
                             "WHERE partner = ?",
                             &q, err);
    if (rc) {
        pm_error_prefix(err, "feed state");
        return rc;
    }
    pm_stmt_bind_text(q, 1, partner);
    int s = pm_stmt_step(q, err);
    if (s == 1) {
        const char *le = pm_stmt_text(q, 2);
        out->push_acked = pm_stmt_int64(q, 0);
        out->failures = pm_stmt_int64(q, 1);
        snprintf(out->last_error, sizeof out->last_error, "%s", le ? le : "");
        out->last_ok_at = pm_stmt_int64(q, 3);
    }
    pm_stmt_finish(q);
    if (s < 0) {
        pm_error_prefix(err, "feed state");
        return s;
    }
    /* The newest store id (any row): cheap, unlike the newest of our entries,
     * which in a store full of partner exits is a long backwards scan. */
    rc = pm_store_max_store_id(st, &out->store_max, err);
    if (rc)
        return rc;
    return pm_store_partner_cursor(st, partner, &out->pull_cursor, err);
}

/* Runs one upsert of feed_push: partner, an integer, a text, now. */
static int upsert(pm_store_t *st, const char *sql, const char *partner, int64_t v,
                  const char *text, pm_error_t *err)
{
    pm_stmt_t *q = NULL;
    int rc = pm_stmt_prepare(st, sql, &q, err);
    if (!rc) {
        pm_stmt_bind_text(q, 1, partner);
        pm_stmt_bind_int64(q, 2, v);
        pm_stmt_bind_text(q, 3, text ? text : "");
        pm_stmt_bind_int64(q, 4, (int64_t)time(NULL));
        rc = pm_stmt_step(q, err);
        pm_stmt_finish(q);
    }
    if (rc)
        pm_error_prefix(err, "feed state");
    return rc;
}

/* Plain SQL both backends run: the target table named in the update (an
 * unqualified column is ambiguous on PostgreSQL), CASE for SQLite's max(). */
int pm__feed_set_acked(pm_store_t *st, const char *partner, int64_t cursor, pm_error_t *err)
{
    return upsert(st,
                  "INSERT INTO feed_push (partner, acked, last_error, last_ok_at) "
                  "VALUES (?, ?, ?, ?) ON CONFLICT (partner) DO UPDATE SET acked = CASE WHEN "
                  "excluded.acked > feed_push.acked THEN excluded.acked ELSE feed_push.acked END, "
                  "failures = 0, last_error = excluded.last_error, "
                  "last_ok_at = excluded.last_ok_at",
                  partner, cursor, "", err);
}

/* last_ok_at is kept (the bound time is not used on a conflict). */
int pm__feed_note_error(pm_store_t *st, const char *partner, const char *msg, pm_error_t *err)
{
    return upsert(st,
                  "INSERT INTO feed_push (partner, failures, last_error, last_ok_at) "
                  "VALUES (?, ?, ?, CAST(? AS BIGINT) * 0) ON CONFLICT (partner) DO UPDATE SET "
                  "failures = feed_push.failures + 1, last_error = excluded.last_error",
                  partner, 1, msg, err);
}

/* The legal names of a crossing record's elements (DOMAIN.md 1). */
static const char *const crossing_fields[] = {
    "surname",         "given_names",     "middle_names",  "date_of_birth", "citizenship",
    "sex",             "document_type",   "document_number", "document_issuer",
    "crossing_time",   "port",            "direction",     "mode",
};

int pm__feed_export(pm_node_t *node, const pm_node_partner_t *p, pm_store_t *st, int64_t after,
                    size_t limit, pm_buf_t *out, int64_t *out_last, size_t *out_rows,
                    pm_error_t *err)
{
    *out_last = after;
    *out_rows = 0;
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_STORE_ID;
    f.after_store_id = after;
    f.direction = PM_DIRECTION_ENTRY;
    f.origin_filter = PM_ORIGIN_LOCAL;
    f.limit = (int64_t)limit;
    pm_crossing_iter_t *it = NULL;
    int rc = pm_store_crossings(st, &f, &it, err);
    pm_crossing_t c;
    char actor[16];
    snprintf(actor, sizeof actor, "node:%s", node->cfg->country);
    /* A batch ends before the buffer's limit (a record line is < 16 KiB), so a
     * large feed_batch never fails on size; the rest goes in the next batch. */
    size_t room = out->max > (32u << 10) ? out->max - (32u << 10) : out->max / 2;
    while (!rc && out->len < room && (rc = pm_crossing_iter_next(it, &c, err)) == 1) {
        rc = 0;
        *out_last = c.store_id;
        /* R16 accuracy at source (and R11: never a record a partner sent us):
         * a record that fails validation now is not sent, and the refusal is
         * logged; the cursor moves past it. */
        pm_decision_t d;
        pm_policy_send_crossing(&c, &d);
        if (!d.allow) {
            char rule[8];
            snprintf(rule, sizeof rule, "R%d", d.rule);
            const char *recs[1] = {c.record_id};
            pm__audit_t ev = {"refusal", actor, p->code, p->feed_purpose, rule, NULL, 0, recs, 1,
                              NULL, NULL};
            if ((rc = pm__audit_append(node, &ev, err)))
                break;
            atomic_fetch_add(&node->policy_refusals, 1);
            pm__node_log(node, 1, "feed to %s: record %s not sent: %s", p->code, c.record_id,
                         d.reason);
            continue;
        }
        c.mrz[0] = '\0'; /* R4: the MRZ line is not an element of the exchanged record */
        rc = pm_crossing_to_jsonl(&c, c.store_id, out);
        if (rc) {
            pm_error_set(err, rc, "feed export: %s", pm_strerror(rc));
            break;
        }
        (*out_rows)++;
    }
    pm_crossing_iter_close(it);
    return rc < 0 ? rc : PM_OK;
}

int pm__feed_log_disclosure(pm_node_t *node, const pm_node_partner_t *p, int64_t from,
                            int64_t last, size_t rows, pm_error_t *err)
{
    char actor[16], range[96], basis[64];
    snprintf(actor, sizeof actor, "node:%s", node->cfg->country);
    snprintf(range, sizeof range, "crossings store_id %lld..%lld (%zu rows)", (long long)from + 1,
             (long long)last, rows);
    snprintf(basis, sizeof basis, "agreement %.47s", p->agreement->version);
    const char *recs[1] = {range};
    pm__audit_t ev = {"disclosure", actor, p->code, p->feed_purpose, basis, crossing_fields,
                      sizeof crossing_fields / sizeof crossing_fields[0], recs, 1, NULL, NULL};
    int rc = pm__audit_append(node, &ev, err);
    return rc ? rc : pm__audit_sync(node, err);
}

/* ------------------------------------------------------------ the job */

struct pm__feed_job {
    pm_node_t *node;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    pm_store_t *st;
    uint64_t next_ns[PM_NODE_MAX_PARTNERS * 2];
    unsigned backoff_ms[PM_NODE_MAX_PARTNERS * 2];
    int64_t scanned[PM_NODE_MAX_PARTNERS]; /* store ids examined: none of ours to push up to here */
    pm__jsfeed_t *jsf[PM_NODE_MAX_PARTNERS]; /* the feed over JetStream, opened on first use */
};

/* The partner's JetStream feed, connected (and its streams made) on first
 * use; a failure is retried with the job's backoff. */
static int jsfeed(struct pm__feed_job *job, size_t pi, pm__jsfeed_t **out, pm_error_t *err)
{
    if (!job->jsf[pi]) {
        int rc = pm__jsfeed_open(job->node->cfg->country, &job->node->cfg->partners[pi],
                                 &job->jsf[pi], err);
        if (rc)
            return rc;
        pm__node_log(job->node, 0, "feed with %s: JetStream at our nats-server ready",
                     job->node->cfg->partners[pi].code);
    }
    *out = job->jsf[pi];
    return PM_OK;
}

static pm_node_request_t partner_request(const pm_node_t *node, const pm_node_partner_t *p)
{
    pm_node_request_t rq = {p->url, p->ca_file, node->cfg->cert_file, node->cfg->key_file, NULL,
                            node->cfg->limits.client_timeout_s, 0, p->agreement->hash_hex};
    return rq;
}

/* A short "HTTP 503: message" from an error answer. */
static void answer_text(long status, const pm_buf_t *body, char *out, size_t cap)
{
    json_t *o = body->len ? json_loadb((const char *)body->data, body->len, 0, NULL) : NULL;
    const char *m = o ? json_string_value(json_object_get(o, "message")) : NULL;
    snprintf(out, cap, "HTTP %ld: %s", status, m ? m : "(no message)");
    json_decref(o);
}

/* A batch store ids from+1..last (rows of them sent) was acknowledged: the
 * disclosure is logged (durably) before the cursor moves. */
static int push_done(struct pm__feed_job *job, size_t pi, const pm__feed_state_t *fs, int64_t from,
                     int64_t last, size_t rows, size_t *out_rows, pm_error_t *err)
{
    pm_node_t *node = job->node;
    const pm_node_partner_t *p = &node->cfg->partners[pi];
    int rc;
    if ((rc = pm__feed_log_disclosure(node, p, from, last, rows, err)) ||
        (rc = pm__feed_set_acked(job->st, p->code, last, err)))
        return rc;
    atomic_fetch_add(&node->feed_pushed_rows, rows);
    atomic_store(&node->feed_lag[pi], rows < node->cfg->limits.feed_batch || fs->store_max <= last
                                          ? 0
                                          : fs->store_max - last);
    *out_rows = rows;
    return PM_OK;
}

/* One push of up to feed_batch entries; *out_rows = rows acknowledged. */
static int push_once(struct pm__feed_job *job, size_t pi, size_t *out_rows, pm_error_t *err)
{
    pm_node_t *node = job->node;
    const pm_node_partner_t *p = &node->cfg->partners[pi];
    *out_rows = 0;
    pm__feed_state_t fs;
    int rc = pm__feed_state_get(job->st, p->code, &fs, err);
    if (rc)
        return rc;
    /* store_max is read before the export: every row up to it is committed
     * (one writer, ids increase), so if the export finds none of our entries
     * after `from`, none exist up to store_max and the next look starts there
     * (a store full of partner exits is not rescanned every interval). */
    int64_t from = fs.push_acked > job->scanned[pi] ? fs.push_acked : job->scanned[pi];
    if (fs.store_max <= from) {
        atomic_store(&node->feed_lag[pi], 0);
        return PM_OK;
    }
    pm_buf_t body;
    /* at most 16 MiB per request (the partner's default limit is 64 MiB) */
    pm_buf_init(&body, node->cfg->limits.max_import_bytes < (16u << 20)
                           ? node->cfg->limits.max_import_bytes
                           : (16u << 20));
    int64_t last = 0;
    size_t rows = 0;
    if (pm_agreement_purpose_index(p->agreement, p->feed_purpose) < 0)
        return pm_error_set(err, PM_EDENIED, "R1: the feed purpose %s is not in the agreement",
                            p->feed_purpose);
    rc = pm__feed_export(node, p, job->st, from, node->cfg->limits.feed_batch, &body, &last, &rows,
                         err);
    if (!rc && rows == 0 && last > from) {
        /* every record of the batch was refused (R16): acknowledge our own
         * cursor past them so they are not looked at again */
        pm_buf_free(&body);
        pm__audit_sync(node, NULL);
        return pm__feed_set_acked(job->st, p->code, last, err);
    }
    if (rc || rows == 0) {
        pm_buf_free(&body);
        if (!rc) {
            job->scanned[pi] = fs.store_max;
            atomic_store(&node->feed_lag[pi], 0);
        }
        return rc;
    }
    if (p->js_send) {
        /* JetStream: acknowledged by our stream, from which the partner's
         * server sources it; the disclosure is logged as for a push */
        pm__jsfeed_t *f = NULL;
        if (!(rc = jsfeed(job, pi, &f, err)))
            rc = pm__jsfeed_publish(f, p->agreement->hash_hex, &body, err);
        pm_buf_free(&body);
        if (rc)
            return rc;
        return push_done(job, pi, &fs, from, last, rows, out_rows, err);
    }
    pm_node_request_t r = partner_request(node, p);
    long status = 0;
    pm_buf_t ans;
    rc = pm_node_call(&r, "POST", "/v1/partner/feed", body.data, body.len, "application/x-ndjson",
                      &status, &ans, err);
    pm_buf_free(&body);
    if (rc) {
        pm_buf_free(&ans);
        return rc;
    }
    if (status != 200) {
        char m[256];
        answer_text(status, &ans, m, sizeof m);
        pm_buf_free(&ans);
        return pm_error_set(err, status == 503 ? PM_EBUSY : PM_EDENIED, "%s", m);
    }
    json_t *o = json_loadb((const char *)ans.data, ans.len, 0, NULL);
    pm_buf_free(&ans);
    json_int_t acked = o ? json_integer_value(json_object_get(o, "cursor")) : -1;
    json_int_t rejected = o ? json_integer_value(json_object_get(o, "rejected")) : 0;
    json_decref(o);
    if (acked != last)
        return pm_error_set(err, PM_EFORMAT,
                            "partner acknowledged cursor %lld, we sent up to %lld",
                            (long long)acked, (long long)last);
    if (rejected > 0)
        pm__node_log(node, 1, "feed to %s: partner rejected %lld of %zu rows (cursor %lld)",
                     p->code, (long long)rejected, rows, (long long)last);
    return push_done(job, pi, &fs, from, last, rows, out_rows, err);
}

/* One pull of up to feed_batch of the partner's entries. */
static int pull_once(struct pm__feed_job *job, size_t pi, size_t *out_rows, pm_error_t *err)
{
    pm_node_t *node = job->node;
    const pm_node_partner_t *p = &node->cfg->partners[pi];
    *out_rows = 0;
    int64_t cursor = 0;
    int rc = pm_store_partner_cursor(job->st, p->code, &cursor, err);
    if (rc)
        return rc;
    char path[128];
    snprintf(path, sizeof path, "/v1/partner/feed?since=%lld&limit=%u", (long long)cursor,
             node->cfg->limits.feed_batch);
    pm_node_request_t r = partner_request(node, p);
    r.max_response = node->cfg->limits.max_import_bytes;
    long status = 0;
    pm_buf_t ans;
    if ((rc = pm_node_call(&r, "GET", path, NULL, 0, NULL, &status, &ans, err))) {
        pm_buf_free(&ans);
        return rc;
    }
    if (status != 200) {
        char m[256];
        answer_text(status, &ans, m, sizeof m);
        pm_buf_free(&ans);
        return pm_error_set(err, PM_EDENIED, "%s", m);
    }
    pm_crossing_reader_t *rd = NULL;
    pm_import_stats_t stats;
    memset(&stats, 0, sizeof stats);
    if (ans.len) {
        rc = pm_crossing_reader_open_mem((const char *)ans.data, ans.len, PM_CROSSING_FORMAT_JSONL,
                                         &rd, err);
        if (!rc) {
            pm_import_options_t io = {0, 0, p->code, NULL, NULL, NULL};
            rc = pm_crossings_import(job->st, rd, &io, &stats, err);
            if (rc == PM_EPARTIAL) {
                pm__node_log(node, 1, "feed from %s: %llu rows rejected", p->code,
                             (unsigned long long)stats.rejected);
                rc = PM_OK;
            }
        }
        pm_crossing_reader_free(rd);
    }
    pm_buf_free(&ans);
    if (!rc) {
        atomic_fetch_add(&node->feed_pulled_rows, stats.stored);
        *out_rows = stats.rows;
    }
    return rc;
}

/* One batch of the partner's entries from our JetStream stream (sourced
 * from its own): imported with the partner mirror, then acknowledged. */
static int js_receive_once(struct pm__feed_job *job, size_t pi, size_t *out_rows, pm_error_t *err)
{
    pm_node_t *node = job->node;
    const pm_node_partner_t *p = &node->cfg->partners[pi];
    *out_rows = 0;
    pm__jsfeed_t *f = NULL;
    int rc = jsfeed(job, pi, &f, err);
    if (rc)
        return rc;
    pm_buf_t b;
    pm_buf_init(&b, node->cfg->limits.max_import_bytes);
    size_t msgs = 0;
    /* a short wait: the job also serves the other partners and its stop */
    rc = pm__jsfeed_fetch(f, (int)node->cfg->limits.feed_batch, 200, p->agreement->hash_hex, &b,
                          &msgs, err);
    pm_import_stats_t stats;
    memset(&stats, 0, sizeof stats);
    if (!rc && msgs) {
        pm_crossing_reader_t *rd = NULL;
        rc = pm_crossing_reader_open_mem((const char *)b.data, b.len, PM_CROSSING_FORMAT_JSONL,
                                         &rd, err);
        if (!rc) {
            pm_import_options_t io = {0, 0, p->code, NULL, NULL, NULL};
            rc = pm_crossings_import(job->st, rd, &io, &stats, err);
            if (rc == PM_EPARTIAL) {
                pm__node_log(node, 1, "feed from %s (JetStream): %llu rows rejected", p->code,
                             (unsigned long long)stats.rejected);
                rc = PM_OK;
            }
        }
        pm_crossing_reader_free(rd);
        if (!rc)
            rc = pm__jsfeed_ack(f, err); /* after the commit: a crash before it redelivers */
    }
    pm_buf_free(&b);
    if (!rc) {
        atomic_fetch_add(&node->feed_received_rows, stats.stored);
        *out_rows = msgs;
    }
    return rc;
}

static void *feed_main(void *v)
{
    struct pm__feed_job *job = v;
    pm_node_t *node = job->node;
    const pm_node_config_t *cfg = node->cfg;
    pm_error_t e;
    for (;;) {
        pthread_mutex_lock(&job->mu);
        int stop = job->stop;
        pthread_mutex_unlock(&job->mu);
        if (stop)
            break;
        int busy = 0;
        uint64_t now = pm_now_ns(), next = now + (uint64_t)cfg->limits.feed_interval_ms * 1000000u;
        for (size_t i = 0; i < cfg->npartners * 2; i++) {
            const pm_node_partner_t *p = &cfg->partners[i / 2];
            int is_push = (i % 2) == 0;
            if (is_push ? !p->push && !p->js_send : !p->pull && !p->js_receive)
                continue;
            if (job->next_ns[i] > now) {
                if (job->next_ns[i] < next)
                    next = job->next_ns[i];
                continue;
            }
            size_t rows = 0;
            pm_error_clear(&e);
            int rc = is_push          ? push_once(job, i / 2, &rows, &e)
                     : p->js_receive ? js_receive_once(job, i / 2, &rows, &e)
                                     : pull_once(job, i / 2, &rows, &e);
            if (rc == PM_OK) {
                if (job->backoff_ms[i])
                    pm__node_log(node, 0, "feed %s %s: partner reachable again",
                                 is_push ? "to" : "from", p->code);
                job->backoff_ms[i] = 0;
                job->next_ns[i] = 0;
                /* a full batch went, or JetStream delivered some: more is
                 * probably waiting */
                busy |= rows == cfg->limits.feed_batch || (!is_push && p->js_receive && rows);
                continue;
            }
            unsigned b = job->backoff_ms[i] ? job->backoff_ms[i] * 2 : 250;
            if (b > cfg->limits.feed_backoff_max_ms)
                b = cfg->limits.feed_backoff_max_ms;
            job->backoff_ms[i] = b;
            job->next_ns[i] = pm_now_ns() + (uint64_t)b * 1000000u;
            if (job->next_ns[i] < next)
                next = job->next_ns[i];
            if (is_push) {
                atomic_fetch_add(&node->feed_push_failures, 1);
                pm__feed_note_error(job->st, p->code, e.msg, NULL);
            }
            pm__node_log(node, 1, "feed %s %s failed (%s), retry in %u ms", is_push ? "to" : "from",
                         p->code, e.msg, b);
        }
        if (busy)
            continue; /* a full batch went: more is probably waiting */
        pthread_mutex_lock(&job->mu);
        if (!job->stop) {
            uint64_t wait = next > pm_now_ns() ? next - pm_now_ns() : 0;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t ns = (uint64_t)ts.tv_nsec + wait;
            ts.tv_sec += (time_t)(ns / 1000000000u);
            ts.tv_nsec = (long)(ns % 1000000000u);
            pthread_cond_timedwait(&job->cv, &job->mu, &ts);
        }
        pthread_mutex_unlock(&job->mu);
    }
    return NULL;
}

int pm__feed_start(pm_node_t *node, pm__feed_job_t **out, pm_error_t *err)
{
    *out = NULL;
    int any = 0;
    for (size_t i = 0; i < node->cfg->npartners; i++)
        any |= node->cfg->partners[i].push || node->cfg->partners[i].pull ||
               node->cfg->partners[i].js_send || node->cfg->partners[i].js_receive;
    if (!any)
        return PM_OK;
    struct pm__feed_job *job = calloc(1, sizeof *job);
    if (!job)
        return pm_error_set(err, PM_ENOMEM, "feed: out of memory");
    job->node = node;
    pm_store_options_t so = {PM_STORE_DURABLE_FULL, 1, 0, 0};
    int rc = pm_store_open(node->cfg->store_path, &so, &job->st, err);
    if (rc) {
        free(job);
        return rc;
    }
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->cv, NULL);
    if (pthread_create(&job->thread, NULL, feed_main, job) != 0) {
        pm_store_close(job->st);
        free(job);
        return pm_error_set(err, PM_EINTERNAL, "feed: cannot start its thread");
    }
    *out = job;
    return PM_OK;
}

void pm__feed_stop(pm__feed_job_t *job)
{
    if (!job)
        return;
    pthread_mutex_lock(&job->mu);
    job->stop = 1;
    pthread_cond_signal(&job->cv);
    pthread_mutex_unlock(&job->mu);
    pthread_join(job->thread, NULL);
    for (size_t i = 0; i < PM_NODE_MAX_PARTNERS; i++)
        pm__jsfeed_close(job->jsf[i]);
    pm_store_close(job->st);
    pthread_cond_destroy(&job->cv);
    pthread_mutex_destroy(&job->mu);
    free(job);
}
