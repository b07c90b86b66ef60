/* The Fellegi-Sunter model: comparison vectors, default weights, and the EM
 * estimate of m/u probabilities from counts of comparison patterns. */
#include <math.h>
#include <string.h>

#include "link_impl.h"

#define PRIOR 0.02
#define W_MIN (-10.0)
#define W_MAX 14.0

static const int field_levels[PM_LINK_FIELDS] = {5, PM_DOB_LEVELS, 3, 3, PM_DOC_LEVELS};

int pm_link_field_levels(int field)
{
    return field >= 0 && field < PM_LINK_FIELDS ? field_levels[field] : 0;
}

const char *pm_link_field_name(int field)
{
    static const char *const names[PM_LINK_FIELDS] = {"name", "dob", "sex", "citizenship",
                                                      "document"};
    return field >= 0 && field < PM_LINK_FIELDS ? names[field] : "?";
}

const char *pm_link_level_name(int field, int level)
{
    static const char *const name_lv[5] = {"same-tokens", "strong", "good", "weak", "disagree"};
    static const char *const code_lv[3] = {"agree", "disagree", "missing"};
    if (level < 0 || level >= pm_link_field_levels(field)) return "?";
    switch (field) {
    case PM_LF_NAME:
        return name_lv[level];
    case PM_LF_DOB:
        return pm_dob_level_name((pm_dob_level_t)level);
    case PM_LF_DOC:
        return pm_doc_level_name((pm_doc_level_t)level);
    default:
        return code_lv[level];
    }
}

/* Levels that carry no evidence keep weight 0 whatever EM says. */
static int is_missing_level(int f, int l)
{
    return (f == PM_LF_DOB && l == PM_DOB_MISSING) || (f == PM_LF_SEX && l == 2) ||
           (f == PM_LF_CITIZENSHIP && l == 2) || (f == PM_LF_DOC && l == PM_DOC_MISSING);
}

void pm_link_model_default(pm_link_model_t *model)
{
    static const double w0[PM_LINK_FIELDS][PM_LINK_LEVELS_MAX] = {
        {8, 6, 3, 0, -6},          /* name */
        {7, 4, 4, 2, 2, 1, -6, 0}, /* dob */
        {0.5, -4, 0},              /* sex */
        {0.5, -2, 0},              /* citizenship */
        {8, 7, 5, -2, 0},          /* document */
    };
    memset(model, 0, sizeof *model);
    memcpy(model->w, w0, sizeof w0);
    model->p_match = 0.1;
    model->link_threshold = 10.0;
    model->review_threshold = 4.0;
    model->em_iterations = 0;
    /* m and u consistent with the weights: u uniform, m proportional to 2^w */
    for (int f = 0; f < PM_LINK_FIELDS; f++) {
        double zs = 0;
        for (int l = 0; l < field_levels[f]; l++)
            zs += exp2(w0[f][l]);
        for (int l = 0; l < field_levels[f]; l++) {
            model->u[f][l] = 1.0 / field_levels[f];
            model->m[f][l] = exp2(w0[f][l]) / zs;
        }
    }
}

int pm_link_pattern_index(const uint8_t level[PM_LINK_FIELDS])
{
    int k = 0;
    for (int f = 0; f < PM_LINK_FIELDS; f++)
        k = k * field_levels[f] + (level[f] < field_levels[f] ? level[f] : field_levels[f] - 1);
    return k;
}

static void pattern_levels(int k, uint8_t level[PM_LINK_FIELDS])
{
    for (int f = PM_LINK_FIELDS - 1; f >= 0; f--) {
        level[f] = (uint8_t)(k % field_levels[f]);
        k /= field_levels[f];
    }
}

int pm_link_model_em(const uint64_t *counts, pm_link_model_t *model, pm_error_t *err)
{
    double total = 0;
    for (int k = 0; k < PM_LINK_PATTERNS; k++)
        total += (double)counts[k];
    if (total < 5000)
        return pm_error_set(err, PM_EINVAL, "EM needs at least 5000 compared pairs, have %.0f",
                            total);
    double m[PM_LINK_FIELDS][PM_LINK_LEVELS_MAX], u[PM_LINK_FIELDS][PM_LINK_LEVELS_MAX];
    memcpy(m, model->m, sizeof m);
    memcpy(u, model->u, sizeof u);
    double m0[PM_LINK_FIELDS][PM_LINK_LEVELS_MAX];
    memcpy(m0, model->m, sizeof m0);
    double p = model->p_match > 0.001 && model->p_match < 0.999 ? model->p_match : 0.1;
    const double eps = 1e-7;
    int it;
    for (it = 0; it < 200; it++) {
        double am[PM_LINK_FIELDS][PM_LINK_LEVELS_MAX] = {{0}};
        double au[PM_LINK_FIELDS][PM_LINK_LEVELS_MAX] = {{0}};
        double sg = 0;
        for (int k = 0; k < PM_LINK_PATTERNS; k++) {
            if (!counts[k]) continue;
            uint8_t lv[PM_LINK_FIELDS];
            pattern_levels(k, lv);
            double pm_ = p, pu = 1.0 - p;
            for (int f = 0; f < PM_LINK_FIELDS; f++) {
                pm_ *= m[f][lv[f]] + eps;
                pu *= u[f][lv[f]] + eps;
            }
            double g = pm_ / (pm_ + pu);
            double c = (double)counts[k];
            sg += g * c;
            for (int f = 0; f < PM_LINK_FIELDS; f++) {
                am[f][lv[f]] += g * c;
                au[f][lv[f]] += (1.0 - g) * c;
            }
        }
        double np = sg / total;
        double delta = fabs(np - p);
        p = np;
        if (p < 1e-6 || p > 1 - 1e-6)
            return pm_error_set(err, PM_ESTATE, "EM degenerated (p = %g)", p);
        /* A Dirichlet prior (PRIOR of the same-person mass, spread as the
         * starting m) keeps rare same-person disagreements (a dual national's
         * second passport and citizenship) from getting an infinite penalty. */
        for (int f = 0; f < PM_LINK_FIELDS; f++)
            for (int l = 0; l < field_levels[f]; l++) {
                double nm = (am[f][l] + PRIOR * sg * m0[f][l]) / (sg * (1.0 + PRIOR));
                double nu = au[f][l] / (total - sg);
                delta = fmax(delta, fabs(nm - m[f][l]));
                m[f][l] = nm;
                u[f][l] = nu;
            }
        if (delta < 1e-7) break;
    }
    memcpy(model->m, m, sizeof m);
    memcpy(model->u, u, sizeof u);
    model->p_match = p;
    model->em_iterations = it + 1;
    for (int f = 0; f < PM_LINK_FIELDS; f++)
        for (int l = 0; l < field_levels[f]; l++) {
            double w = log2((m[f][l] + 1e-6) / (u[f][l] + 1e-6));
            if (w > W_MAX) w = W_MAX;
            if (w < W_MIN) w = W_MIN;
            model->w[f][l] = is_missing_level(f, l) ? 0.0 : w;
        }
    return PM_OK;
}

static size_t core_of(const pm_name_t *n, const pm_name_token_t **out)
{
    size_t k = 0;
    for (size_t i = 0; i < n->n; i++)
        if (!(n->tok[i].flags & PM_TOK_PARTICLE)) out[k++] = &n->tok[i];
    return k;
}

int pm_link_compare(const pm_crossing_t *a, const pm_crossing_t *b, const pm_link_model_t *model,
                    pm_link_evidence_t *out, pm_error_t *err)
{
    pm_name_t na, nb;
    int rc = pm_name_parse(a->surname, a->given_names, a->middle_names, &na, err);
    if (!rc) rc = pm_name_parse(b->surname, b->given_names, b->middle_names, &nb, err);
    if (rc) return rc;
    const pm_name_token_t *ta[PM_LINK_TOKENS_MAX], *tb[PM_LINK_TOKENS_MAX];
    size_t ca = core_of(&na, ta), cb = core_of(&nb, tb);
    int matched = 0;
    out->name_similarity = pm__name_sim_core(ta, ca, tb, cb, &matched);
    out->level[PM_LF_NAME] = (uint8_t)pm__name_level(out->name_similarity, matched, ca, cb);
    out->level[PM_LF_DOB] = (uint8_t)pm_dob_compare(&a->dob, &b->dob);
    out->level[PM_LF_SEX] = (uint8_t)pm__sex_level(a->sex, b->sex);
    out->level[PM_LF_CITIZENSHIP] = (uint8_t)pm__code_level(a->citizenship, b->citizenship);
    out->level[PM_LF_DOC] = (uint8_t)pm_docnum_compare(a->document_number, b->document_number);
    out->weight = 0;
    for (int f = 0; f < PM_LINK_FIELDS; f++)
        out->weight += model->w[f][out->level[f]];
    return PM_OK;
}
