/* The link module's tables in the store (SQLite): record -> traveller, the
 * merge audit trail, the clerical review queue, and one row per link run. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "link_impl.h"

static const pm_migration_t link_steps[] = {
    {1, "travellers, merges, review queue, runs",
     "CREATE TABLE link_record (\n"
     "  crossing_id INTEGER PRIMARY KEY REFERENCES crossing(id),\n"
     "  traveller INTEGER NOT NULL\n"
     ") STRICT;\n"
     "CREATE INDEX link_record_traveller ON link_record (traveller);\n"
     "CREATE TABLE link_run (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  at TEXT NOT NULL,\n"
     "  records INTEGER NOT NULL,\n"
     "  travellers INTEGER NOT NULL,\n"
     "  model TEXT NOT NULL\n"
     ") STRICT;\n"
     "CREATE TABLE link_merge (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  run INTEGER REFERENCES link_run(id),\n"
     "  crossing_id INTEGER NOT NULL,\n"
     "  kept INTEGER NOT NULL,\n"
     "  absorbed INTEGER NOT NULL,\n"
     "  score REAL NOT NULL,\n"
     "  cause TEXT NOT NULL CHECK (cause IN ('record', 'review')),\n"
     "  at TEXT NOT NULL\n"
     ") STRICT;\n"
     "CREATE TABLE link_review (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  crossing_id INTEGER NOT NULL,\n"
     "  candidate_id INTEGER NOT NULL,\n"
     "  traveller INTEGER NOT NULL,\n"
     "  candidate_traveller INTEGER NOT NULL,\n"
     "  score REAL NOT NULL,\n"
     "  evidence TEXT NOT NULL,\n"
     "  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected')),\n"
     "  decided_at TEXT,\n"
     "  UNIQUE (crossing_id, candidate_id)\n"
     ") STRICT;\n",
     NULL},
    {2, "highest crossing linked per run (merges are logged once)",
     "ALTER TABLE link_run ADD COLUMN max_store_id INTEGER NOT NULL DEFAULT 0;\n", NULL},
    {3, "links follow crossings deleted by retention (ON DELETE CASCADE)",
     "CREATE TABLE link_record_new (\n"
     "  crossing_id INTEGER PRIMARY KEY REFERENCES crossing(id) ON DELETE CASCADE,\n"
     "  traveller INTEGER NOT NULL\n"
     ") STRICT;\n"
     "INSERT INTO link_record_new (crossing_id, traveller)\n"
     "  SELECT crossing_id, traveller FROM link_record;\n"
     "DROP TABLE link_record;\n"
     "ALTER TABLE link_record_new RENAME TO link_record;\n"
     "CREATE INDEX link_record_traveller ON link_record (traveller);\n",
     NULL},
    {4, "the evidence of each link the linker makes (console traveller view)",
     "CREATE TABLE link_evidence (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  run INTEGER NOT NULL,\n"
     "  crossing_id INTEGER NOT NULL,\n"
     "  candidate_id INTEGER NOT NULL,\n"
     "  how TEXT NOT NULL CHECK (how IN ('link', 'merge')),\n"
     "  score REAL NOT NULL,\n"
     "  threshold REAL NOT NULL,\n"
     "  rule TEXT NOT NULL,\n"
     "  fields TEXT NOT NULL,\n"
     "  at TEXT NOT NULL\n"
     ") STRICT;\n"
     "CREATE INDEX link_evidence_crossing ON link_evidence (crossing_id);\n",
     NULL},
};
static const pm_migration_set_t link_schema = {"link", link_steps, 4};

int pm_link_store_migrate(pm_store_t *st, pm_error_t *err)
{
    return pm_store_migrate(st, &link_schema, err);
}

static sqlite3 *db_of(pm_store_t *st, pm_error_t *err)
{
    sqlite3 *db = pm_store_sqlite_handle(st);
    if (!db) pm_error_set(err, PM_EUNSUPPORTED, "link tables need the SQLite backend");
    return db;
}

static int db_fail(sqlite3 *db, pm_error_t *err, const char *what)
{
    return pm_error_set(err, PM_EDB, "link: %s: %s", what, sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql, pm_error_t *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = pm_error_set(err, PM_EDB, "link: %s", msg ? msg : "SQL error");
        sqlite3_free(msg);
        return rc;
    }
    return PM_OK;
}

void pm__link_evidence_text(const pm_link_evidence_t *ev, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int f = 0; f < PM_LINK_FIELDS && len < cap; f++) {
        int k = snprintf(out + len, cap - len, "%s%s=%s", f ? " " : "", pm_link_field_name(f),
                         pm_link_level_name(f, ev->level[f]));
        if (k < 0) break;
        len += (size_t)k;
    }
    if (len < cap) snprintf(out + len, cap - len, " name_sim=%.3f", ev->name_similarity);
}

/* The fields of a link's evidence as JSON: [{"field","level","weight"}] plus
 * the name similarity; and the rule that accepted it. */
static void link_fields_json(const pm_link_model_t *m, const pm_link_evidence_t *ev, char *out,
                             size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int f = 0; f < PM_LINK_FIELDS && len < cap; f++) {
        int k = snprintf(out + len, cap - len, "%s{\"field\":\"%s\",\"level\":\"%s\",\"weight\":%.2f}",
                         f ? "," : "[", pm_link_field_name(f), pm_link_level_name(f, ev->level[f]),
                         m->w[f][ev->level[f]]);
        if (k < 0) break;
        len += (size_t)k;
    }
    if (len < cap) snprintf(out + len, cap - len, ",{\"field\":\"name_similarity\",\"level\":\"%.3f\"}]",
                            ev->name_similarity);
}

static void link_rule(const pm_link_model_t *m, const pm_link_evidence_t *ev, int merge, char *out,
                      size_t cap)
{
    double sum = 0;
    for (int f = 0; f < PM_LINK_FIELDS; f++)
        sum += m->w[f][ev->level[f]];
    if (sum < m->link_threshold && ev->weight >= m->link_threshold)
        snprintf(out, cap, "renewed document: name, date of birth, sex and citizenship agree, "
                           "only the number differs (fields sum %.2f, raised to the link "
                           "threshold %.2f)", sum, m->link_threshold);
    else
        snprintf(out, cap, "%s: weight %.2f >= link threshold %.2f", merge ? "merge" : "link",
                 ev->weight, m->link_threshold);
}

static void utc_now(char *out, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Re-applies accepted review decisions (merge the candidate's traveller into
 * the record's), logging each as a 'review' merge. */
static int apply_accepted(sqlite3 *db, int64_t run, pm_error_t *err)
{
    sqlite3_stmt *q = NULL, *tr = NULL, *up = NULL, *mg = NULL;
    int rc = PM_OK;
    if (sqlite3_prepare_v2(db,
                           "SELECT crossing_id, candidate_id, score FROM link_review "
                           "WHERE status = 'accepted' ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT traveller FROM link_record WHERE crossing_id = ?1", -1, &tr,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "UPDATE link_record SET traveller = ?1 WHERE traveller = ?2", -1,
                           &up, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO link_merge (run, crossing_id, kept, absorbed, score, "
                           "cause, at) VALUES (?1, ?2, ?3, ?4, ?5, 'review', "
                           "strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                           -1, &mg, NULL) != SQLITE_OK) {
        rc = db_fail(db, err, "prepare");
        goto out;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int64_t ids[2] = {sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1)};
        int64_t t[2] = {-1, -1};
        for (int k = 0; k < 2; k++) {
            sqlite3_reset(tr);
            sqlite3_bind_int64(tr, 1, ids[k]);
            if (sqlite3_step(tr) == SQLITE_ROW) t[k] = sqlite3_column_int64(tr, 0);
        }
        if (t[0] < 0 || t[1] < 0 || t[0] == t[1]) continue;
        int64_t kept = t[0] < t[1] ? t[0] : t[1], gone = t[0] < t[1] ? t[1] : t[0];
        sqlite3_reset(up);
        sqlite3_bind_int64(up, 1, kept);
        sqlite3_bind_int64(up, 2, gone);
        sqlite3_reset(mg);
        if (run > 0)
            sqlite3_bind_int64(mg, 1, run);
        else
            sqlite3_bind_null(mg, 1);
        sqlite3_bind_int64(mg, 2, ids[0]);
        sqlite3_bind_int64(mg, 3, kept);
        sqlite3_bind_int64(mg, 4, gone);
        sqlite3_bind_double(mg, 5, sqlite3_column_double(q, 2));
        if (sqlite3_step(up) != SQLITE_DONE || sqlite3_step(mg) != SQLITE_DONE) {
            rc = db_fail(db, err, "apply review decision");
            goto out;
        }
    }
out:
    sqlite3_finalize(q);
    sqlite3_finalize(tr);
    sqlite3_finalize(up);
    sqlite3_finalize(mg);
    return rc;
}

int pm_link_store_save(pm_store_t *st, pm_linker_t *lk, pm_error_t *err)
{
    sqlite3 *db = db_of(st, err);
    if (!db) return PM_EUNSUPPORTED;
    int rc = pm_link_store_migrate(st, err);
    if (rc) return rc;
    if ((rc = pm_store_begin(st, err))) return rc;
    sqlite3_stmt *ins = NULL, *mg = NULL, *rv = NULL, *run = NULL, *lv = NULL;
    char model[512];
    const pm_link_model_t *m = pm_linker_model(lk);
    snprintf(
        model, sizeof model,
        "{\"estimated\":%s,\"p_match\":%.6f,\"link_threshold\":%.3f,\"review_threshold\":%.3f}",
        m->em_iterations ? "true" : "false", m->p_match, m->link_threshold, m->review_threshold);
    if ((rc = exec(db, "DELETE FROM link_record; DELETE FROM link_review WHERE status = 'open';",
                   err)))
        goto fail;
    /* merges are logged once: by the run that first linked their record */
    int64_t prev_max = 0, new_max = 0;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(max_store_id), 0) FROM link_run", -1, &run,
                           NULL) != SQLITE_OK ||
        sqlite3_step(run) != SQLITE_ROW) {
        rc = db_fail(db, err, "read runs");
        goto fail;
    }
    prev_max = sqlite3_column_int64(run, 0);
    sqlite3_finalize(run);
    run = NULL;
    pm_link_record_info_t info, cinfo;
    for (size_t i = 0; i < pm_linker_record_count(lk); i++) {
        pm_linker_record(lk, (uint32_t)i, &info);
        if (info.store_id > new_max) new_max = info.store_id;
    }
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO link_run (at, records, travellers, model, max_store_id) "
                           "VALUES (strftime('%Y-%m-%dT%H:%M:%SZ','now'), ?1, ?2, ?3, ?4)",
                           -1, &run, NULL) != SQLITE_OK) {
        rc = db_fail(db, err, "prepare");
        goto fail;
    }
    sqlite3_bind_int64(run, 1, (int64_t)pm_linker_record_count(lk));
    sqlite3_bind_int64(run, 2, (int64_t)pm_linker_traveller_count(lk));
    sqlite3_bind_text(run, 3, model, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(run, 4, new_max);
    if (sqlite3_step(run) != SQLITE_DONE) {
        rc = db_fail(db, err, "insert run");
        goto fail;
    }
    int64_t run_id = sqlite3_last_insert_rowid(db);
    if (sqlite3_prepare_v2(db, "INSERT INTO link_record (crossing_id, traveller) VALUES (?1, ?2)",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO link_merge (run, crossing_id, kept, absorbed, score, "
                           "cause, at) VALUES (?1, ?2, ?3, ?4, ?5, 'record', "
                           "strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                           -1, &mg, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO link_review (crossing_id, candidate_id, traveller, "
                           "candidate_traveller, score, evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                           "ON CONFLICT (crossing_id, candidate_id) DO NOTHING",
                           -1, &rv, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO link_evidence (run, crossing_id, candidate_id, how, score, "
                           "threshold, rule, fields, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                           -1, &lv, NULL) != SQLITE_OK) {
        rc = db_fail(db, err, "prepare");
        goto fail;
    }
    size_t n = pm_linker_record_count(lk);
    for (size_t i = 0; i < n; i++) {
        pm_linker_record(lk, (uint32_t)i, &info);
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, info.store_id);
        sqlite3_bind_int64(ins, 2, (int64_t)pm_linker_traveller(lk, (uint32_t)i) + 1);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            rc = db_fail(db, err, "insert record");
            goto fail;
        }
    }
    const pm_link_merge_t *merges = pm_linker_merges(lk);
    for (size_t i = 0; i < pm_linker_merge_count(lk); i++) {
        pm_linker_record(lk, merges[i].record, &info);
        if (info.store_id <= prev_max) continue;
        sqlite3_reset(mg);
        sqlite3_bind_int64(mg, 1, run_id);
        sqlite3_bind_int64(mg, 2, info.store_id);
        sqlite3_bind_int64(mg, 3, (int64_t)merges[i].kept + 1);
        sqlite3_bind_int64(mg, 4, (int64_t)merges[i].absorbed + 1);
        sqlite3_bind_double(mg, 5, merges[i].score);
        if (sqlite3_step(mg) != SQLITE_DONE) {
            rc = db_fail(db, err, "insert merge");
            goto fail;
        }
    }
    /* the evidence of the links this run made (a run rebuilds the links,
     * so it replaces their evidence, as link_record) */
    if ((rc = exec(db, "DELETE FROM link_evidence;", err))) goto fail;
    const pm_link_link_t *links = pm_linker_links(lk);
    char now[32];
    utc_now(now, sizeof now);
    for (size_t i = 0; i < pm_linker_link_count(lk); i++) {
        pm_linker_record(lk, links[i].record, &info);
        pm_linker_record(lk, links[i].candidate, &cinfo);
        char fields[640], rule[160];
        link_fields_json(m, &links[i].evidence, fields, sizeof fields);
        link_rule(m, &links[i].evidence, links[i].merge, rule, sizeof rule);
        sqlite3_reset(lv);
        sqlite3_bind_int64(lv, 1, run_id);
        sqlite3_bind_int64(lv, 2, info.store_id);
        sqlite3_bind_int64(lv, 3, cinfo.store_id);
        sqlite3_bind_text(lv, 4, links[i].merge ? "merge" : "link", -1, SQLITE_STATIC);
        sqlite3_bind_double(lv, 5, links[i].evidence.weight);
        sqlite3_bind_double(lv, 6, m->link_threshold);
        sqlite3_bind_text(lv, 7, rule, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(lv, 8, fields, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(lv, 9, now, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(lv) != SQLITE_DONE) {
            rc = db_fail(db, err, "insert link evidence");
            goto fail;
        }
    }
    const pm_link_review_t *reviews = pm_linker_reviews(lk);
    for (size_t i = 0; i < pm_linker_review_count(lk); i++) {
        char ev[200];
        pm__link_evidence_text(&reviews[i].evidence, ev, sizeof ev);
        pm_linker_record(lk, reviews[i].record, &info);
        pm_linker_record(lk, reviews[i].candidate, &cinfo);
        sqlite3_reset(rv);
        sqlite3_bind_int64(rv, 1, info.store_id);
        sqlite3_bind_int64(rv, 2, cinfo.store_id);
        sqlite3_bind_int64(rv, 3, (int64_t)pm_linker_traveller(lk, reviews[i].record) + 1);
        sqlite3_bind_int64(rv, 4, (int64_t)pm_linker_traveller(lk, reviews[i].candidate) + 1);
        sqlite3_bind_double(rv, 5, reviews[i].evidence.weight);
        sqlite3_bind_text(rv, 6, ev, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(rv) != SQLITE_DONE) {
            rc = db_fail(db, err, "insert review");
            goto fail;
        }
    }
    /* pairs that ended up in one traveller through later merges need no review */
    if ((rc = exec(
             db,
             "DELETE FROM link_review WHERE status = 'open' AND "
             "(SELECT traveller FROM link_record WHERE crossing_id = link_review.crossing_id) = "
             "(SELECT traveller FROM link_record WHERE crossing_id = link_review.candidate_id)",
             err)))
        goto fail;
    if ((rc = apply_accepted(db, run_id, err))) goto fail;
    sqlite3_finalize(ins);
    sqlite3_finalize(mg);
    sqlite3_finalize(rv);
    sqlite3_finalize(run);
    sqlite3_finalize(lv);
    return pm_store_commit(st, err);
fail:
    sqlite3_finalize(ins);
    sqlite3_finalize(mg);
    sqlite3_finalize(rv);
    sqlite3_finalize(run);
    sqlite3_finalize(lv);
    pm_store_rollback(st, NULL);
    return rc;
}

struct pm_link_map {
    int64_t *ids; /* sorted crossing ids */
    uint32_t *trav;
    size_t n;
};

int pm_link_map_load(pm_store_t *st, pm_link_map_t **out, pm_error_t *err)
{
    *out = NULL;
    sqlite3 *db = db_of(st, err);
    if (!db) return PM_EUNSUPPORTED;
    int rc = pm_link_store_migrate(st, err);
    if (rc) return rc;
    pm_link_map_t *m = calloc(1, sizeof *m);
    sqlite3_stmt *q = NULL;
    size_t cap = 0;
    if (!m) return pm_error_set(err, PM_ENOMEM, "link map: out of memory");
    if (sqlite3_prepare_v2(db,
                           "SELECT crossing_id, traveller FROM link_record ORDER BY crossing_id",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = db_fail(db, err, "prepare");
        goto fail;
    }
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (m->n == cap) {
            size_t nc = cap ? cap * 2 : 4096;
            int64_t *ni = realloc(m->ids, nc * sizeof *ni);
            if (ni) m->ids = ni;
            uint32_t *nt = realloc(m->trav, nc * sizeof *nt);
            if (nt) m->trav = nt;
            if (!ni || !nt) {
                rc = pm_error_set(err, PM_ENOMEM, "link map: out of memory");
                goto fail;
            }
            cap = nc;
        }
        m->ids[m->n] = sqlite3_column_int64(q, 0);
        m->trav[m->n] = (uint32_t)sqlite3_column_int64(q, 1);
        m->n++;
    }
    if (s != SQLITE_DONE) {
        rc = db_fail(db, err, "read link_record");
        goto fail;
    }
    sqlite3_finalize(q);
    *out = m;
    return PM_OK;
fail:
    sqlite3_finalize(q);
    pm_link_map_free(m);
    return rc;
}

void pm_link_map_free(pm_link_map_t *m)
{
    if (!m) return;
    free(m->ids);
    free(m->trav);
    free(m);
}

size_t pm_link_map_count(const pm_link_map_t *m)
{
    return m->n;
}

int pm_link_map_traveller(const pm_link_map_t *m, int64_t id, uint32_t *out)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->n && m->ids[lo] == id) {
        *out = m->trav[lo];
        return PM_OK;
    }
    return PM_ENOTFOUND;
}

int pm_link_store_reviews(pm_store_t *st, const char *status, size_t limit,
                          pm_link_review_row_t **out, size_t *out_n, pm_error_t *err)
{
    *out = NULL;
    *out_n = 0;
    sqlite3 *db = db_of(st, err);
    if (!db) return PM_EUNSUPPORTED;
    int rc = pm_link_store_migrate(st, err);
    if (rc) return rc;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, crossing_id, candidate_id, traveller, candidate_traveller, "
                           "score, evidence, status FROM link_review "
                           "WHERE ?1 IS NULL OR status = ?1 ORDER BY score DESC, id LIMIT ?2",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(db, err, "prepare");
    if (status)
        sqlite3_bind_text(q, 1, status, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, 1);
    sqlite3_bind_int64(q, 2, limit ? (int64_t)limit : -1);
    size_t cap = 0;
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (*out_n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            pm_link_review_row_t *nr = realloc(*out, nc * sizeof *nr);
            if (!nr) {
                sqlite3_finalize(q);
                free(*out);
                *out = NULL;
                *out_n = 0;
                return pm_error_set(err, PM_ENOMEM, "reviews: out of memory");
            }
            *out = nr;
            cap = nc;
        }
        pm_link_review_row_t *r = &(*out)[(*out_n)++];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(q, 0);
        r->crossing_id = sqlite3_column_int64(q, 1);
        r->candidate_id = sqlite3_column_int64(q, 2);
        r->traveller = (uint32_t)sqlite3_column_int64(q, 3);
        r->candidate_traveller = (uint32_t)sqlite3_column_int64(q, 4);
        r->score = sqlite3_column_double(q, 5);
        const unsigned char *ev = sqlite3_column_text(q, 6), *stt = sqlite3_column_text(q, 7);
        snprintf(r->evidence, sizeof r->evidence, "%s", ev ? (const char *)ev : "");
        snprintf(r->status, sizeof r->status, "%s", stt ? (const char *)stt : "");
    }
    rc = s == SQLITE_DONE ? PM_OK : db_fail(db, err, "read reviews");
    sqlite3_finalize(q);
    return rc;
}

/* A review's evidence text ("name=strong dob=exact ... name_sim=0.950") as
 * the JSON of pm_link_evidence_row_t.fields (levels, no weights). */
static void review_fields_json(const char *text, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    const char *p = text;
    int first = 1;
    while (*p && len < cap) {
        while (*p == ' ')
            p++;
        const char *eq = strchr(p, '='), *end = strchr(p, ' ');
        if (!end) end = p + strlen(p);
        if (!eq || eq > end) break;
        int k = snprintf(out + len, cap - len, "%s{\"field\":\"%.*s\",\"level\":\"%.*s\"}",
                         first ? "[" : ",", (int)(eq - p), p, (int)(end - eq - 1), eq + 1);
        if (k < 0) break;
        len += (size_t)k;
        first = 0;
        p = end;
    }
    if (len < cap) snprintf(out + len, cap - len, "%s", first ? "[]" : "]");
}

int pm_link_store_links(pm_store_t *st, int64_t traveller, pm_link_evidence_row_t **out,
                        size_t *out_n, pm_error_t *err)
{
    *out = NULL;
    *out_n = 0;
    sqlite3 *db = db_of(st, err);
    if (!db) return PM_EUNSUPPORTED;
    int rc = pm_link_store_migrate(st, err);
    if (rc) return rc;
    /* the linker's links of the traveller's crossings, then the pairs a
     * person accepted (their evidence is the review's) */
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(
            db,
            "SELECT e.crossing_id, e.candidate_id, e.how, e.score, e.threshold, e.rule, e.fields, "
            "e.at, e.run FROM link_evidence e JOIN link_record r ON r.crossing_id = e.crossing_id "
            "WHERE r.traveller = ?1 "
            "UNION ALL "
            "SELECT v.crossing_id, v.candidate_id, 'review', v.score, 0, "
            "'accepted by a person from the review queue', v.evidence, "
            "coalesce(v.decided_at, ''), 0 FROM link_review v JOIN link_record r "
            "ON r.crossing_id = v.crossing_id WHERE r.traveller = ?1 AND v.status = 'accepted' "
            "ORDER BY 1, 8 LIMIT 10000",
            -1, &q, NULL) != SQLITE_OK)
        return db_fail(db, err, "prepare");
    sqlite3_bind_int64(q, 1, traveller);
    size_t cap = 0;
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (*out_n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            pm_link_evidence_row_t *nr = realloc(*out, nc * sizeof *nr);
            if (!nr) {
                sqlite3_finalize(q);
                free(*out);
                *out = NULL;
                *out_n = 0;
                return pm_error_set(err, PM_ENOMEM, "links: out of memory");
            }
            *out = nr;
            cap = nc;
        }
        pm_link_evidence_row_t *r = &(*out)[(*out_n)++];
        memset(r, 0, sizeof *r);
        r->crossing_id = sqlite3_column_int64(q, 0);
        r->candidate_id = sqlite3_column_int64(q, 1);
        const char *how = (const char *)sqlite3_column_text(q, 2);
        snprintf(r->how, sizeof r->how, "%s", how ? how : "");
        r->score = sqlite3_column_double(q, 3);
        r->threshold = sqlite3_column_double(q, 4);
        const char *rule = (const char *)sqlite3_column_text(q, 5);
        snprintf(r->rule, sizeof r->rule, "%s", rule ? rule : "");
        const char *f = (const char *)sqlite3_column_text(q, 6);
        if (strcmp(r->how, "review") == 0)
            review_fields_json(f ? f : "", r->fields, sizeof r->fields);
        else
            snprintf(r->fields, sizeof r->fields, "%s", f ? f : "[]");
        const char *at = (const char *)sqlite3_column_text(q, 7);
        snprintf(r->at, sizeof r->at, "%s", at ? at : "");
        r->run = sqlite3_column_int64(q, 8);
    }
    rc = s == SQLITE_DONE ? PM_OK : db_fail(db, err, "read links");
    sqlite3_finalize(q);
    return rc;
}

int pm_link_store_decide(pm_store_t *st, int64_t review_id, int accept, pm_error_t *err)
{
    sqlite3 *db = db_of(st, err);
    if (!db) return PM_EUNSUPPORTED;
    int rc = pm_link_store_migrate(st, err);
    if (rc) return rc;
    if ((rc = pm_store_begin(st, err))) return rc;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT status FROM link_review WHERE id = ?1", -1, &q, NULL) !=
        SQLITE_OK) {
        rc = db_fail(db, err, "prepare");
        goto fail;
    }
    sqlite3_bind_int64(q, 1, review_id);
    if (sqlite3_step(q) != SQLITE_ROW) {
        rc = pm_error_set(err, PM_ENOTFOUND, "no review pair %lld", (long long)review_id);
        goto fail;
    }
    if (strcmp((const char *)sqlite3_column_text(q, 0), "open") != 0) {
        rc = pm_error_set(err, PM_ESTATE, "review pair %lld is already %s", (long long)review_id,
                          (const char *)sqlite3_column_text(q, 0));
        goto fail;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_prepare_v2(db,
                           "UPDATE link_review SET status = ?2, decided_at = "
                           "strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = ?1",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = db_fail(db, err, "prepare");
        goto fail;
    }
    sqlite3_bind_int64(q, 1, review_id);
    sqlite3_bind_text(q, 2, accept ? "accepted" : "rejected", -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) {
        rc = db_fail(db, err, "update review");
        goto fail;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (accept && (rc = apply_accepted(db, 0, err))) goto fail;
    return pm_store_commit(st, err);
fail:
    sqlite3_finalize(q);
    pm_store_rollback(st, NULL);
    return rc;
}
