/* Pre-clearance on the node: POST /v1/preclear, a thin shell over
 * pm_preclear_manifest (include/perimeter/preclear.h, docs/preclear.md) with
 * the node's own store (stay history), an optional watchlist, and the gate
 * fingerprint check against the node's gallery: 1:1 against the prints on
 * file for the traveller, or 1:N against a gallery subset built for the
 * flight from the manifest's travellers' enrolled prints. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/routes_preclear.h"
#include "perimeter/gallery.h"
#include "perimeter/preclear.h"

/* One passenger's gate capture and what is on file for him. */
typedef struct gate_row {
    char seq[32];
    pm__probe_t *capture; /* NULL: no capture at the gate */
    uint64_t subject;     /* on file (0: none) */
} gate_row_t;

typedef struct gate_ctx {
    pm_node_t *node;
    pm_store_t *st;
    int one_to_n;
    char subset[PM_GALLERY_NAME_MAX + 1];
    gate_row_t *rows;
    size_t n, cap;
    char other[96];
} gate_ctx_t;

/* The subject enrolled with this name and date of birth (0: none; several:
 * the first enrolled). Names compared case-insensitively. */
static int on_file(pm_store_t *st, const pm_preclear_passenger_t *p, uint64_t *out,
                   pm_error_t *err)
{
    *out = 0;
    if (!p->dob.year || !p->surname[0])
        return PM_OK;
    char dob[16];
    pm_dob_format(&p->dob, dob);
    pm_stmt_t *q = NULL;
    int rc = pm_stmt_prepare(st,
                             "SELECT subject FROM gallery_subject WHERE upper(surname) = upper(?) "
                             "AND upper(given_names) = upper(?) AND date_of_birth = ? "
                             "ORDER BY subject LIMIT 1",
                             &q, err);
    if (rc) {
        pm_error_prefix(err, "gate");
        return rc;
    }
    pm_stmt_bind_text(q, 1, p->surname);
    pm_stmt_bind_text(q, 2, p->given_names);
    pm_stmt_bind_text(q, 3, dob);
    int s = pm_stmt_step(q, err);
    if (s == 1)
        *out = (uint64_t)pm_stmt_int64(q, 0);
    else if (s < 0) {
        rc = s;
        pm_error_prefix(err, "gate");
    }
    pm_stmt_finish(q);
    return rc;
}

static gate_row_t *row_of(gate_ctx_t *g, const char *seq)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->rows[i].seq, seq) == 0)
            return &g->rows[i];
    return NULL;
}

static gate_row_t *row_add(gate_ctx_t *g, const char *seq)
{
    gate_row_t *r = row_of(g, seq);
    if (r)
        return r;
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 64;
        gate_row_t *nr = realloc(g->rows, nc * sizeof *nr);
        if (!nr)
            return NULL;
        g->rows = nr;
        g->cap = nc;
    }
    r = &g->rows[g->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->seq, sizeof r->seq, "%s", seq);
    return r;
}

/* The manifest's pre-pass: who is on file (for 1:1 and the flight subset). */
static int note_passenger(void *ctx, const pm_preclear_passenger_t *p, pm_error_t *err)
{
    gate_ctx_t *g = ctx;
    gate_row_t *r = row_add(g, p->seq);
    if (!r)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    return on_file(g->st, p, &r->subject, err);
}

static int to_fingers(const pm__probe_t *p, pm_gallery_finger_t *f)
{
    for (int i = 0; i < p->n; i++)
        f[i] = (pm_gallery_finger_t){p->position[i], &p->views[i]};
    return p->n;
}

static int gate_check(void *ctx, const pm_preclear_passenger_t *p, pm_preclear_gate_result_t *out,
                      pm_error_t *err)
{
    gate_ctx_t *g = ctx;
    gate_row_t *r = row_of(g, p->seq);
    if (!r || !r->capture) {
        snprintf(out->note, sizeof out->note, "no fingerprint captured at the gate");
        return PM_OK;
    }
    pm_gallery_finger_t f[PM__PROBE_MAX];
    int nf = to_fingers(r->capture, f);
    if (g->one_to_n) {
        pm_gallery_search_options_t so;
        memset(&so, 0, sizeof so);
        so.max_candidates = 1;
        so.subset = g->subset;
        pm_gallery_calibration_t fcal;
        so.fused_calibration = pm__node_fused_calibration(g->node, &fcal);
        pm_gallery_candidate_t c;
        size_t nc = 0;
        int rc = pm_gallery_identify(g->node->gallery, f, nf, &so, &c, &nc, NULL, err);
        if (rc)
            return rc;
        if (nc && r->subject && c.subject == r->subject) {
            out->checked = 1;
            out->score = c.score;
            return PM_OK;
        }
        if (nc && c.subject != r->subject) {
            const char *who = "";
            for (size_t i = 0; i < g->n; i++)
                if (g->rows[i].subject == c.subject)
                    who = g->rows[i].seq;
            snprintf(g->other, sizeof g->other, "passenger %s of this flight", who);
            out->other = g->other;
            out->other_score = c.score;
        }
    }
    if (!r->subject) {
        snprintf(out->note, sizeof out->note, "no prints on file for this traveller");
        return PM_OK;
    }
    pm_gallery_candidate_t c;
    int rc = pm_gallery_verify(g->node->gallery, r->subject, f, nf, &c, err);
    if (rc == PM_ENOTFOUND) {
        snprintf(out->note, sizeof out->note, "no prints on file for this traveller");
        return PM_OK;
    }
    if (rc)
        return rc;
    pm__calibrate_verify(g->node, nf, &c);
    out->checked = 1;
    out->score = c.score;
    return PM_OK;
}

void pm__h_preclear(pm__req_t *rq, pm_store_t *st)
{
    static const pm__jfield_t gf[] = {{"mode", JSON_STRING, 0, 8}, {"captures", JSON_ARRAY, 1, 0}};
    static const pm__jfield_t cf[] = {{"passenger_seq", JSON_STRING, 1, 31},
                                      {"fingers", JSON_ARRAY, 1, 0}};
    json_t *o = pm__json_body(rq, &pm__body_preclear);
    if (!o)
        return;
    pm_error_t e;
    pm_error_clear(&e);
    char field[96];
    pm_preclear_options_t po;
    memset(&po, 0, sizeof po);
    gate_ctx_t g = {.node = rq->node, .st = st};
    pm_watchlist_t *wl = NULL;
    pm_preclear_store_history_t *hist = NULL;
    pm_report_t *rep = NULL;
    int subset_set = 0, rc = PM_OK;
    const char *manifest = pm__json_str(o, "manifest"), *date = pm__json_str(o, "date");
    if (date && (pm_dob_parse(date, strlen(date), &po.departure, NULL) || !po.departure.day)) {
        pm__reply_error(rq, 400, "invalid_field", "date: YYYY-MM-DD", "date");
        goto out;
    }
    json_t *min = json_object_get(o, "min");
    if (min) {
        po.biometric_min = json_number_value(min);
        if (!(po.biometric_min > 0 && po.biometric_min <= 200)) {
            pm__reply_error(rq, 400, "invalid_field", "min: a score in (0, 200]", "min");
            goto out;
        }
    }
    pm_stay_rules_t rules;
    memset(&rules, 0, sizeof rules);
    rules.default_days = 180;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(o, "stay"), k, v) {
        char spec[32];
        if (!json_is_integer(v) || strlen(k) > 8 ||
            snprintf(spec, sizeof spec, "%s=%lld", k, (long long)json_integer_value(v)) < 0 ||
            pm_stay_rules_add(&rules, spec, &e)) {
            pm__reply_error(rq, 400, "invalid_field",
                            e.msg[0] ? e.msg : "stay: {\"CODE\": days, ...}", "stay");
            goto out;
        }
    }
    const char *wtext = pm__json_str(o, "watchlist");
    if (wtext) {
        rc = pm_watchlist_new(&wl, &e);
        if (!rc) rc = pm_watchlist_load_csv(wl, wtext, strlen(wtext), &e);
        if (!rc) rc = pm_watchlist_finalize(wl, &e);
        if (rc) {
            pm__reply_error(rq, rc == PM_ENOMEM ? 503 : 400, "invalid_field", e.msg, "watchlist");
            goto out;
        }
        po.watchlist = wl;
    }
    json_t *gate = json_object_get(o, "gate");
    if (gate) {
        if (pm__json_check(gate, "gate", gf, 2, field, sizeof field, &e)) {
            pm__reply_error(rq, 400, "invalid_field", e.msg, field);
            goto out;
        }
        const char *mode = pm__json_str(gate, "mode");
        g.one_to_n = mode && !strcmp(mode, "1:N");
        if (mode && !g.one_to_n && strcmp(mode, "1:1")) {
            pm__reply_error(rq, 400, "invalid_field", "gate.mode: 1:1 or 1:N", "gate.mode");
            goto out;
        }
        /* who is on file, from the manifest (a malformed manifest: 400) */
        if ((rc = pm_preclear_manifest_each(manifest, strlen(manifest), "manifest",
                                            po.departure, note_passenger, &g, &e))) {
            pm__reply_error(rq, rc == PM_EFORMAT ? 400 : 500,
                            rc == PM_EFORMAT ? "invalid_field" : "internal", e.msg, "manifest");
            goto out;
        }
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(gate, "captures"), i, c) {
            char where[48];
            snprintf(where, sizeof where, "gate.captures[%zu]", i);
            if (pm__json_check(c, where, cf, 2, field, sizeof field, &e)) {
                pm__reply_error(rq, 400, "invalid_field", e.msg, field);
                goto out;
            }
            gate_row_t *r = row_of(&g, pm__json_str(c, "passenger_seq"));
            if (!r) {
                pm__reply_error(rq, 400, "invalid_field", "no passenger with this seq in the manifest",
                                where);
                goto out;
            }
            if (r->capture) {
                pm__reply_error(rq, 400, "invalid_field", "two captures for one passenger", where);
                goto out;
            }
            r->capture = calloc(1, sizeof *r->capture);
            if (!r->capture) {
                pm__reply_error(rq, 503, "busy", "out of memory", NULL);
                goto out;
            }
            if (pm__read_fingers(rq, json_object_get(c, "fingers"), r->capture))
                goto out;
        }
        if (g.one_to_n) {
            /* the flight's gallery: the travellers' enrolled prints */
            uint64_t *subj = calloc(g.n ? g.n : 1, sizeof *subj);
            size_t ns = 0;
            for (size_t j = 0; subj && j < g.n; j++)
                if (g.rows[j].subject)
                    subj[ns++] = g.rows[j].subject;
            snprintf(g.subset, sizeof g.subset, "preclear-%p", (void *)rq);
            rc = subj ? (ns ? pm_gallery_subset_set(rq->node->gallery, g.subset, subj, ns, &e)
                            : PM_OK)
                      : pm_error_set(&e, PM_ENOMEM, "out of memory");
            free(subj);
            if (rc) {
                pm__reply_pm_error(rq, rc, &e, NULL);
                goto out;
            }
            subset_set = ns > 0;
            if (!ns)
                g.one_to_n = 0; /* nobody on file: every traveller is "no prints on file" */
        }
        po.gate = gate_check;
        po.gate_ctx = &g;
    }
    rc = pm_preclear_store_history_new(st, &rules, &hist, &e);
    if (!rc) {
        po.history = pm_preclear_store_history;
        po.history_ctx = hist;
        rc = pm_preclear_manifest(&po, manifest, strlen(manifest), "manifest", &rep, &e);
    }
    char *text = NULL;
    size_t tl = 0;
    if (!rc)
        rc = pm_report_render(rep, PM_REPORT_JSON, &text, &tl, &e);
    if (rc) {
        if (rc == PM_EFORMAT)
            pm__reply_error(rq, 400, "invalid_field", e.msg, "manifest");
        else
            pm__reply_pm_error(rq, rc, &e, NULL);
        goto out;
    }
    pm__node_log(rq->node, 0, "officer %s: pre-clearance of a manifest (%s gate)", rq->officer,
                 gate ? (g.one_to_n ? "1:N" : "1:1") : "no");
    pm__reply(rq, 200, "application/json", text, tl);
out:
    if (subset_set) {
        pm_error_t e2;
        pm_gallery_subset_set(rq->node->gallery, g.subset, NULL, 0, &e2);
    }
    for (size_t i = 0; i < g.n; i++) {
        if (g.rows[i].capture) {
            pm__probe_wipe(g.rows[i].capture);
            free(g.rows[i].capture);
        }
    }
    free(g.rows);
    pm_report_free(rep);
    pm_preclear_store_history_free(hist);
    pm_watchlist_free(wl);
    json_decref(o);
}
