/* synth: the CSV / JSON Lines writers. */
#include <stdio.h>
#include <string.h>

#include "synth/synth_int.h"

/* MRZs: pm_mrz_build_td3 and pm_icao_check_digit from travel.h. */

int pm_synth_csv_field(pm_buf_t *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) return pm_buf_append_str(out, s);
    int rc = pm_buf_append(out, "\"", 1);
    for (const char *p = s; *p && rc == 0; p++)
        rc = *p == '"' ? pm_buf_append(out, "\"\"", 2) : pm_buf_append(out, p, 1);
    return rc ? rc : pm_buf_append(out, "\"", 1);
}

static const char *const record_columns[] = {"record_id",       "reporting_country",
                                             "direction",       "timestamp",
                                             "port_code",       "mode",
                                             "surname",         "given_names",
                                             "middle_names",    "date_of_birth",
                                             "citizenship",     "sex",
                                             "document_type",   "document_number",
                                             "document_issuer", "mrz",
                                             "admission_class", "stay_until"};
#define NCOLS (sizeof record_columns / sizeof record_columns[0])

static void record_values(const pm_synth_crossing_t *c, const char *v[NCOLS])
{
    v[0] = c->record_id, v[1] = c->reporting_country, v[2] = c->direction;
    v[3] = c->timestamp, v[4] = c->port_code, v[5] = c->mode, v[6] = c->surname;
    v[7] = c->given_names, v[8] = c->middle_names, v[9] = c->date_of_birth;
    v[10] = c->citizenship, v[11] = c->sex, v[12] = c->document_type;
    v[13] = c->document_number, v[14] = c->document_issuer, v[15] = c->mrz;
    v[16] = c->admission_class, v[17] = c->stay_until;
}

static int csv_row(pm_buf_t *out, const char *const *v, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i) rc = pm_buf_append(out, ",", 1);
        if (rc == 0) rc = pm_synth_csv_field(out, v[i]);
    }
    return rc ? rc : pm_buf_append(out, "\n", 1);
}

int pm_synth_csv_header(pm_buf_t *out)
{
    return csv_row(out, record_columns, NCOLS);
}

int pm_synth_crossing_csv(const pm_synth_crossing_t *c, pm_buf_t *out)
{
    const char *v[NCOLS];
    record_values(c, v);
    return csv_row(out, v, NCOLS);
}

static int json_string(pm_buf_t *out, const char *s)
{
    int rc = pm_buf_append(out, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
        size_t run = 0;
        while (p[run] && p[run] != '"' && p[run] != '\\' && p[run] >= 0x20)
            run++;
        if (run) {
            rc = pm_buf_append(out, p, run);
            p += run - 1;
        } else if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            rc = pm_buf_append(out, e, 2);
        } else if (*p < 0x20) {
            rc = pm_buf_printf(out, "\\u%04x", *p);
        } else {
            rc = pm_buf_append(out, p, 1);
        }
    }
    return rc ? rc : pm_buf_append(out, "\"", 1);
}

int pm_synth_crossing_jsonl(const pm_synth_crossing_t *c, pm_buf_t *out)
{
    const char *v[NCOLS];
    record_values(c, v);
    int rc = pm_buf_append(out, "{", 1);
    int first = 1;
    for (size_t i = 0; i < NCOLS && rc == 0; i++) {
        if (i >= 15 && !v[i][0]) continue; /* mrz and admission data only when present */
        if (!first) rc = pm_buf_append(out, ",", 1);
        first = 0;
        if (rc == 0) rc = json_string(out, record_columns[i]);
        if (rc == 0) rc = pm_buf_append(out, ":", 1);
        if (rc == 0) rc = json_string(out, v[i]);
    }
    return rc ? rc : pm_buf_append(out, "}\n", 2);
}

int pm_synth_truth_header(pm_buf_t *out)
{
    return pm_buf_append_str(out, "reporting_country,record_id,person_id,noise\n");
}

int pm_synth_truth_csv(const pm_synth_crossing_t *c, pm_buf_t *out)
{
    char noise[160];
    pm_synth_noise_names(c->noise, noise, sizeof noise);
    return pm_buf_printf(out, "%s,%s,%llu,%s\n", c->reporting_country, c->record_id,
                         (unsigned long long)c->person_id, noise);
}

static const char *const people_columns[] = {"person_id",
                                             "surname",
                                             "given_names",
                                             "middle_names",
                                             "surname_native",
                                             "given_names_native",
                                             "middle_names_native",
                                             "script",
                                             "culture",
                                             "sex",
                                             "date_of_birth",
                                             "citizenship",
                                             "residence",
                                             "start_location",
                                             "class",
                                             "household_id",
                                             "household_role",
                                             "household_size",
                                             "doc1_type",
                                             "doc1_number",
                                             "doc1_issuer",
                                             "doc1_nationality",
                                             "doc1_expiry",
                                             "doc2_type",
                                             "doc2_number",
                                             "doc2_issuer",
                                             "doc2_nationality",
                                             "doc2_expiry",
                                             "renewal_number",
                                             "renewal_issued",
                                             "renewal_expiry",
                                             "authorised_stay_days",
                                             "authorised_stay_end",
                                             "removal_order",
                                             "removal_country",
                                             "removal_order_date",
                                             "removal_order_id",
                                             "crossings",
                                             "location_at_end"};
#define NPCOLS (sizeof people_columns / sizeof people_columns[0])

int pm_synth_people_header(pm_buf_t *out)
{
    return csv_row(out, people_columns, NPCOLS);
}

int pm_synth_person_csv(const pm_synth_person_t *p, pm_buf_t *out)
{
    char id[24], stay[16], rem[4], cross[16], sex[2] = {p->sex, 0};
    char hh[24], hr[8], hs[8];
    snprintf(id, sizeof id, "%llu", (unsigned long long)p->person_id);
    snprintf(hh, sizeof hh, "%llu", (unsigned long long)p->household_id);
    snprintf(hr, sizeof hr, "%d", p->household_role);
    snprintf(hs, sizeof hs, "%d", p->household_size);
    snprintf(stay, sizeof stay, "%d", p->authorised_stay_days);
    snprintf(rem, sizeof rem, "%d", p->removal_order ? 1 : 0);
    snprintf(cross, sizeof cross, "%u", p->crossings);
    const pm_synth_document_t *d1 = &p->documents[0];
    const pm_synth_document_t *d2 = p->n_documents > 1 ? &p->documents[1] : NULL;
    const char *v[NPCOLS] = {id,
                             p->surname,
                             p->given_names,
                             p->middle_names,
                             p->surname_native,
                             p->given_names_native,
                             p->middle_names_native,
                             p->script ? p->script : "",
                             p->culture ? p->culture : "",
                             sex,
                             p->date_of_birth,
                             p->citizenship,
                             p->residence,
                             p->start_location,
                             pm_synth_class_name(p->cls),
                             hh,
                             hr,
                             hs,
                             d1->type,
                             d1->number,
                             d1->issuer,
                             d1->nationality,
                             d1->expiry,
                             d2 ? d2->type : "",
                             d2 ? d2->number : "",
                             d2 ? d2->issuer : "",
                             d2 ? d2->nationality : "",
                             d2 ? d2->expiry : "",
                             p->has_renewal ? p->renewal.number : "",
                             p->has_renewal ? p->renewal.issued : "",
                             p->has_renewal ? p->renewal.expiry : "",
                             stay,
                             p->authorised_stay_end,
                             rem,
                             p->removal_country,
                             p->removal_order_date,
                             p->removal_order_id,
                             cross,
                             p->location_at_end};
    return csv_row(out, v, NPCOLS);
}

int pm_synth_removals_header(pm_buf_t *out)
{
    return pm_buf_append_str(out, "order_id,surname,given_names,date_of_birth,document_number,"
                                  "document_issuer,order_date,ordering_country\n");
}

int pm_synth_removal_csv(const pm_synth_person_t *p, pm_buf_t *out)
{
    if (!p->removal_order) return PM_OK;
    char given[2 * PM_SYNTH_NAME_MAX + 2];
    pm__strlcpy(given, p->given_names, sizeof given);
    if (p->middle_names[0]) {
        pm__strlcat(given, " ", sizeof given);
        pm__strlcat(given, p->middle_names, sizeof given);
    }
    const char *v[8] = {p->removal_order_id,
                        p->surname,
                        given,
                        p->date_of_birth,
                        p->documents[0].number,
                        p->documents[0].issuer,
                        p->removal_order_date,
                        p->removal_country};
    return csv_row(out, v, 8);
}
