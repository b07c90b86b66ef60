/* The Perimeter vetting profile (docs/an2k.md): search request PMSR,
 * response PMRS, error response PMER. Type-2 fields:
 *   2.006 ATN  case reference (request, optional)
 *   2.037 RFP  purpose code (request, echoed in the response)
 *   2.059 SRF  match indicator: I = match (identification), N = no match
 *   2.060 MSG  error message (PMER)
 *   2.064 CAN  candidate list: one subfield per candidate, items ID US SCORE
 *   2.070 DSC  disclosed fields (response, optional): subfields NAME US VALUE
 *   2.900 SUP  request, optional: the TCN of a query whose answer was lost,
 *              which this request re-asks (supersedes)
 *   2.901 RQO  request, with 2.900 only: the first TCN of a chain of re-asks
 * (2.900/2.901 are this profile's own: EBTS assigns no number for them) */
#include "an2k_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F_ATN = 6, F_RFP = 37, F_SRF = 59, F_MSG = 60, F_CAN = 64, F_DSC = 70, F_SUP = 900, F_RQO = 901 };

/* Refuses values holding separators or control bytes (they would break the record). */
static int check_text(const char *what, const char *s, size_t max, pm_error_t *err)
{
    if (!s || !*s) return pm_error_set(err, PM_EINVAL, "%s is empty", what);
    size_t n = strlen(s);
    if (n > max) return pm_error_set(err, PM_EINVAL, "%s longer than %zu characters", what, max);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return pm_error_set(err, PM_EINVAL,
                                "%s: character 0x%02x at %zu is not printable "
                                "ASCII",
                                what, (unsigned char)s[i], i);
    return PM_OK;
}

int pm_an2k_search_build(const pm_an2k_search_t *s, pm_an2k_txn_t *out, pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_text("purpose (2.037)", s->purpose, 31, err);
    if (rc) return rc;
    if (s->case_ref && (rc = check_text("case reference (2.006)", s->case_ref, 63, err))) return rc;
    if ((s->nviews && !s->views) || (s->nfingers && !s->fingers) ||
        s->nfingers + s->nviews == 0 || s->nfingers + s->nviews > 98)
        return pm_error_set(err, PM_EINVAL,
                            "a search request carries 1..98 finger images or minutiae views, "
                            "not %zu",
                            s->nfingers + s->nviews);
    if ((rc = check_text("TCN (1.009)", s->header.tcn, 63, err))) return rc;
    if (s->supersedes && (rc = check_text("superseded TCN (2.900)", s->supersedes, 63, err)))
        return rc;
    if (s->reask_of) {
        if (!s->supersedes)
            return pm_error_set(err, PM_EINVAL, "2.901 (first TCN of a re-ask) needs 2.900");
        if ((rc = check_text("first TCN of a re-ask (2.901)", s->reask_of, 63, err))) return rc;
    }
    if (s->supersedes && strcmp(s->supersedes, s->header.tcn) == 0)
        return pm_error_set(err, PM_EINVAL, "2.900: a request cannot supersede its own TCN");
    pm_an2k_header_t h = s->header;
    h.tot = PM_AN2K_TOT_SEARCH;
    h.tcr = NULL;
    if (!h.nsr) h.nsr = "19.69";
    if (!h.ntr) h.ntr = "19.69";
    rc = pm_an2k_txn_init(out, &h, err);
    size_t i2 = 0;
    if (!rc) rc = pm_an2k_add_record(out, 2, &i2, err);
    if (!rc) rc = pm_an2k_set_text(&out->records[i2], 2, "00", err);
    if (!rc && s->case_ref) rc = pm_an2k_set_text(&out->records[i2], F_ATN, s->case_ref, err);
    if (!rc) rc = pm_an2k_set_text(&out->records[i2], F_RFP, s->purpose, err);
    if (!rc && s->supersedes) rc = pm_an2k_set_text(&out->records[i2], F_SUP, s->supersedes, err);
    if (!rc && s->reask_of) rc = pm_an2k_set_text(&out->records[i2], F_RQO, s->reask_of, err);
    for (size_t i = 0; i < s->nfingers && !rc; i++) {
        const pm_an2k_finger_t *f = &s->fingers[i];
        rc = pm_an2k_add_fingerprint_data(out, 14, (int)i + 1, f->position, f->data, f->len,
                                          f->compression, f->width, f->height, f->ppi,
                                          s->header.ori, s->header.date, NULL, err);
        if (rc) pm_error_prefix(err, "finger %zu", i + 1);
    }
    for (size_t i = 0; i < s->nviews && !rc; i++) {
        rc = pm_an2k_add_minutiae(out, (int)(s->nfingers + i + 1), &s->views[i], NULL, err);
        if (rc) pm_error_prefix(err, "minutiae view %zu", i + 1);
    }
    if (!rc) rc = pm_an2k_finalize(out, err);
    if (rc) pm_an2k_free(out);
    return rc;
}

static void copy_item(const pm_an2k_record_t *r, int id, char *out, size_t cap)
{
    if (pm_an2k_get(r, id, 1, 1, out, cap) < 0) out[0] = '\0';
}

int pm_an2k_vetting_parse(const pm_an2k_txn_t *t, pm_an2k_vetting_t *out, pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    out->match = -1;
    if (t->nrecords == 0 || t->records[0].type != 1)
        return pm_error_set(err, PM_EVALIDATION, "no Type-1 record");
    const pm_an2k_record_t *t1 = &t->records[0];
    copy_item(t1, 4, out->tot, sizeof out->tot);
    copy_item(t1, 5, out->date, sizeof out->date);
    copy_item(t1, 7, out->dai, sizeof out->dai);
    copy_item(t1, 8, out->ori, sizeof out->ori);
    copy_item(t1, 9, out->tcn, sizeof out->tcn);
    copy_item(t1, 10, out->tcr, sizeof out->tcr);
    int request = strcmp(out->tot, PM_AN2K_TOT_SEARCH) == 0;
    int response = strcmp(out->tot, PM_AN2K_TOT_RESPONSE) == 0;
    int error = strcmp(out->tot, PM_AN2K_TOT_ERROR) == 0;
    if (!request && !response && !error)
        return pm_error_set(err, PM_EVALIDATION,
                            "record 1 field 1.004: TOT \"%s\" is not a vetting transaction "
                            "(" PM_AN2K_TOT_SEARCH ", " PM_AN2K_TOT_RESPONSE ", " PM_AN2K_TOT_ERROR
                            ")",
                            out->tot);
    if (!out->tcn[0]) return pm_error_set(err, PM_EVALIDATION, "record 1 field 1.009: TCN missing");
    if ((response || error) && !out->tcr[0])
        return pm_error_set(err, PM_EVALIDATION,
                            "record 1 field 1.010: a response must echo the request's TCN as TCR");
    const pm_an2k_record_t *t2 = NULL;
    size_t t2i = 0;
    for (size_t i = 1; i < t->nrecords; i++) {
        if (t->records[i].type == 2 && !t2) {
            t2 = &t->records[i];
            t2i = i + 1;
        }
        if (t->records[i].type == 14 || t->records[i].type == 4 || t->records[i].type == 9)
            out->nfingers++;
    }
    if (!t2) return pm_error_set(err, PM_EVALIDATION, "no Type-2 record");
    copy_item(t2, F_RFP, out->purpose, sizeof out->purpose);
    copy_item(t2, F_ATN, out->case_ref, sizeof out->case_ref);
    copy_item(t2, F_MSG, out->message, sizeof out->message);
    if (request) {
        /* the re-ask link: never truncated (a cut id would name another query) */
        static const struct { int id; const char *name; } link[2] = {{F_SUP, "superseded TCN"},
                                                                     {F_RQO, "first TCN of a re-ask"}};
        char *dst[2] = {out->supersedes, out->reask_of};
        for (int l = 0; l < 2; l++) {
            const pm_an2k_field_t *f = pm_an2k_find(t2, link[l].id);
            if (!f) continue;
            const uint8_t *p;
            size_t n, n2;
            const uint8_t *p2;
            if (pm_an2k_subfields(f) != 1 || !pm_an2k_item(f, 1, 1, &p, &n) || n == 0 || n > 63 ||
                pm_an2k_item(f, 1, 2, &p2, &n2))
                return pm_error_set(err, PM_EVALIDATION,
                                    "record %zu field 2.%03d: %s must be one item of 1..63 bytes",
                                    t2i, link[l].id, link[l].name);
            for (size_t i = 0; i < n; i++)
                if (p[i] < 0x20 || p[i] >= 0x7f)
                    return pm_error_set(err, PM_EVALIDATION,
                                        "record %zu field 2.%03d: %s is not printable ASCII", t2i,
                                        link[l].id, link[l].name);
            memcpy(dst[l], p, n);
            dst[l][n] = '\0';
        }
        if (out->reask_of[0] && !out->supersedes[0])
            return pm_error_set(err, PM_EVALIDATION,
                                "record %zu field 2.901: the first TCN of a re-ask needs 2.900", t2i);
        if (out->supersedes[0] && strcmp(out->supersedes, out->tcn) == 0)
            return pm_error_set(err, PM_EVALIDATION,
                                "record %zu field 2.900: a request cannot supersede its own TCN", t2i);
        if (!out->purpose[0])
            return pm_error_set(err, PM_EVALIDATION, "record %zu field 2.037: purpose code missing",
                                t2i);
        if (out->nfingers == 0)
            return pm_error_set(err, PM_EVALIDATION,
                                "search request without finger images or minutiae");
        return PM_OK;
    }
    if (error) {
        if (!out->message[0])
            return pm_error_set(err, PM_EVALIDATION,
                                "record %zu field 2.060: error response without a message", t2i);
        return PM_OK;
    }
    char srf[4];
    copy_item(t2, F_SRF, srf, sizeof srf);
    if (strcmp(srf, "I") == 0)
        out->match = 1;
    else if (strcmp(srf, "N") == 0)
        out->match = 0;
    else
        return pm_error_set(err, PM_EVALIDATION,
                            "record %zu field 2.059: match indicator must be I or N, is \"%s\"",
                            t2i, srf);
    const pm_an2k_field_t *can = pm_an2k_find(t2, F_CAN);
    if (can && can->len) {
        size_t ns = pm_an2k_subfields(can);
        if (ns > PM_AN2K_MAX_CANDIDATES)
            return pm_error_set(err, PM_EVALIDATION,
                                "record %zu field 2.064: %zu candidates, at most %d", t2i, ns,
                                PM_AN2K_MAX_CANDIDATES);
        for (size_t s = 1; s <= ns; s++) {
            const uint8_t *p;
            size_t n;
            pm_an2k_candidate_t *c = &out->candidates[out->ncandidates];
            if (!pm_an2k_item(can, s, 1, &p, &n) || n == 0 || n >= sizeof c->id)
                return pm_error_set(err, PM_EVALIDATION,
                                    "record %zu field 2.064 subfield %zu item 1: bad candidate id",
                                    t2i, s);
            memcpy(c->id, p, n);
            c->id[n] = '\0';
            char num[32];
            if (!pm_an2k_item(can, s, 2, &p, &n) || n == 0 || n >= sizeof num)
                return pm_error_set(err, PM_EVALIDATION,
                                    "record %zu field 2.064 subfield %zu item 2: score missing",
                                    t2i, s);
            memcpy(num, p, n);
            num[n] = '\0';
            char *end;
            errno = 0;
            double v = strtod(num, &end);
            if (*end || errno || !isfinite(v) || v < 0)
                return pm_error_set(err, PM_EVALIDATION,
                                    "record %zu field 2.064 subfield %zu item 2: score \"%s\" is "
                                    "not a non-negative number",
                                    t2i, s, num);
            c->score = v;
            out->ncandidates++;
        }
    }
    const pm_an2k_field_t *dsc = pm_an2k_find(t2, F_DSC);
    if (dsc && dsc->len) {
        size_t ns = pm_an2k_subfields(dsc);
        if (ns > PM_AN2K_MAX_DISCLOSED)
            return pm_error_set(err, PM_EVALIDATION,
                                "record %zu field 2.070: %zu disclosed fields, at most %d", t2i,
                                ns, PM_AN2K_MAX_DISCLOSED);
        for (size_t s = 1; s <= ns; s++) {
            const uint8_t *p, *v;
            size_t n, nv;
            if (!pm_an2k_item(dsc, s, 1, &p, &n) || n == 0 ||
                n >= sizeof out->disclosed[0].name || !pm_an2k_item(dsc, s, 2, &v, &nv) ||
                nv > PM_AN2K_DISCLOSED_VALUE_MAX)
                return pm_error_set(err, PM_EVALIDATION,
                                    "record %zu field 2.070 subfield %zu: a disclosed field is "
                                    "NAME<US>VALUE (name 1..31, value 0..%d bytes)",
                                    t2i, s, PM_AN2K_DISCLOSED_VALUE_MAX);
            memcpy(out->disclosed[out->ndisclosed].name, p, n);
            out->disclosed[out->ndisclosed].name[n] = '\0';
            memcpy(out->disclosed[out->ndisclosed].value, v, nv);
            out->disclosed[out->ndisclosed].value[nv] = '\0';
            out->ndisclosed++;
        }
    }
    if (out->match == 1 && out->ncandidates == 0)
        return pm_error_set(err, PM_EVALIDATION,
                            "record %zu field 2.064: match indicated but no candidate listed", t2i);
    if (out->match == 0 && out->ncandidates)
        return pm_error_set(err, PM_EVALIDATION,
                            "record %zu field 2.064: candidates listed with a no-match indicator",
                            t2i);
    return PM_OK;
}

int pm_an2k_response_build(const pm_an2k_vetting_t *request, const pm_an2k_response_t *r,
                           pm_an2k_txn_t *out, pm_error_t *err)
{
    memset(out, 0, sizeof *out);
    int rc;
    if (strcmp(request->tot, PM_AN2K_TOT_SEARCH) != 0)
        return pm_error_set(err, PM_EINVAL, "responding to TOT \"%s\", not a search request",
                            request->tot);
    if ((rc = check_text("TCN (1.009)", r->tcn, 63, err)) ||
        (rc = check_text("request TCN", request->tcn, 63, err)))
        return rc;
    if (!r->message && r->ncandidates > PM_AN2K_MAX_CANDIDATES)
        return pm_error_set(err, PM_EINVAL, "%zu candidates, at most %d", r->ncandidates,
                            PM_AN2K_MAX_CANDIDATES);
    if (!r->message && (r->match ? r->ncandidates == 0 : r->ncandidates != 0))
        return pm_error_set(err, PM_EINVAL, "a %s response %s candidates",
                            r->match ? "match" : "no-match", r->match ? "needs" : "carries no");
    pm_an2k_header_t h = {.version = "0502",
                          .tot = r->message ? PM_AN2K_TOT_ERROR : PM_AN2K_TOT_RESPONSE,
                          .date = r->date,
                          .dai = request->ori,
                          .ori = request->dai,
                          .tcn = r->tcn,
                          .tcr = request->tcn};
    rc = pm_an2k_txn_init(out, &h, err);
    size_t i2 = 0;
    if (!rc) rc = pm_an2k_add_record(out, 2, &i2, err);
    pm_an2k_record_t *t2 = rc ? NULL : &out->records[i2];
    if (!rc) rc = pm_an2k_set_text(t2, 2, "00", err);
    if (!rc && request->purpose[0]) rc = pm_an2k_set_text(t2, F_RFP, request->purpose, err);
    if (!rc && r->message) {
        rc = check_text("message (2.060)", r->message, 255, err);
        if (!rc) rc = pm_an2k_set_text(t2, F_MSG, r->message, err);
    } else if (!rc) {
        rc = pm_an2k_set_text(t2, F_SRF, r->match ? "I" : "N", err);
        pm_buf_t can;
        pm_buf_init(&can, 1 << 16);
        for (size_t i = 0; i < r->ncandidates && !rc; i++) {
            const pm_an2k_candidate_t *c = &r->candidates[i];
            rc = check_text("candidate id", c->id, sizeof c->id - 1, err);
            if (!rc && (!isfinite(c->score) || c->score < 0 || c->score > 1e12))
                rc = pm_error_set(err, PM_EINVAL, "candidate %zu: score out of range", i + 1);
            if (!rc && pm_buf_printf(&can, "%s%s\x1f%.4f", i ? "\x1e" : "", c->id, c->score))
                rc = pm_error_set(err, PM_ELIMIT, "candidate list too long");
        }
        if (!rc && r->ncandidates) rc = pm_an2k_set(t2, F_CAN, can.data, can.len, 0, err);
        pm_buf_free(&can);
        if (!rc && r->ndisclosed && (!r->match || r->ndisclosed > PM_AN2K_MAX_DISCLOSED ||
                                     !r->disclosed_names || !r->disclosed_values))
            rc = pm_error_set(err, PM_EINVAL, "disclosed fields: 1..%d, with a match only",
                              PM_AN2K_MAX_DISCLOSED);
        pm_buf_t dsc;
        pm_buf_init(&dsc, 1 << 16);
        for (size_t i = 0; i < r->ndisclosed && !rc; i++) {
            const char *v = r->disclosed_values[i] ? r->disclosed_values[i] : "";
            rc = check_text("disclosed field name", r->disclosed_names[i], 31, err);
            if (!rc && *v) rc = check_text("disclosed value", v, PM_AN2K_DISCLOSED_VALUE_MAX, err);
            if (!rc && pm_buf_printf(&dsc, "%s%s\x1f%s", i ? "\x1e" : "", r->disclosed_names[i], v))
                rc = pm_error_set(err, PM_ELIMIT, "disclosed fields too long");
        }
        if (!rc && r->ndisclosed) rc = pm_an2k_set(t2, F_DSC, dsc.data, dsc.len, 0, err);
        pm_buf_free(&dsc);
    }
    if (!rc) rc = pm_an2k_finalize(out, err);
    if (rc) pm_an2k_free(out);
    return rc;
}
