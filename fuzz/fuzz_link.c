/* libFuzzer target: the link module's parsers on arbitrary bytes - name
 * normalisation and variants (UTF-8, Cyrillic, Arabic; romanisation of
 * Devanagari, Han, Hangul, ...), tokenisation, the
 * comparators, and the watchlist CSV reader followed by screening. */
#include <stdint.h>
#include <string.h>

#include "perimeter/link.h"
#include "perimeter/preclear.h"
#include "perimeter/reports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pm_error_t err;
    const char *s = (const char *)data;
    /* names: the whole input and its halves */
    static pm_name_variants_t v;
    pm_name_variants(s, size, &v, &err);
    char out[PM_LINK_NAME_MAX];
    pm_name_icao(s, size, out, sizeof out, &err);
    char a[PM_LINK_INPUT_MAX + 1], b[PM_LINK_INPUT_MAX + 1];
    size_t h = size / 2;
    size_t la = h < PM_LINK_INPUT_MAX ? h : PM_LINK_INPUT_MAX;
    size_t lb = size - h < PM_LINK_INPUT_MAX ? size - h : PM_LINK_INPUT_MAX;
    memcpy(a, s, la);
    a[la] = '\0';
    memcpy(b, s + h, lb);
    b[lb] = '\0';
    pm_name_t na, nb;
    if (pm_name_parse(a, b, NULL, &na, &err) == PM_OK &&
        pm_name_parse(b, NULL, a, &nb, &err) == PM_OK)
        pm_name_similarity(&na, &nb, NULL);
    if (pm_name_parse_ex(a, b, a, PM_NAME_ROMANISE, &na, &err) == PM_OK &&
        pm_name_parse_ex(b, a, NULL, PM_NAME_ROMANISE, &nb, &err) == PM_OK)
        pm_name_similarity(&na, &nb, NULL);
    pm_jaro_winkler(a, b);
    pm_osa_distance(a, b);
    pm_docnum_compare(a, b);
    /* the watchlist reader and a screening pass */
    pm_watchlist_t *wl;
    if (pm_watchlist_new(&wl, &err) == PM_OK) {
        if (pm_watchlist_load_csv(wl, s, size, &err) == PM_OK &&
            pm_watchlist_finalize(wl, &err) == PM_OK) {
            pm_screen_hit_t hits[4];
            size_t n;
            pm_watchlist_screen(wl, a, b, NULL, NULL, 'M', "CAN", 0, hits, 4, &n, &err);
            pm_screen_query_t q = {b, a, NULL, NULL, 'F', "", a, "MEX"};
            pm_watchlist_screen_query(wl, &q, 0, hits, 4, &n, &err);
            pm_watchlist_screen_query_ex(wl, &q, PM_SCREEN_NAME_ONLY, 95, hits, 4, &n, &err);
            /* the same bytes as a manifest screened against the list */
            pm_screen_run_t *run = NULL;
            if (pm_screen_run_new(wl, NULL, &run, &err) == PM_OK) {
                pm_report_t *r = NULL;
                if (pm_screen_run_manifest(run, s, size, "fuzz", &err) == PM_OK &&
                    pm_screen_run_finish(run, 0, &r, &err) == PM_OK)
                    pm_report_free(r);
                pm_screen_run_free(run);
            }
            /* and as a manifest for pre-clearance */
            pm_preclear_options_t po;
            memset(&po, 0, sizeof po);
            po.watchlist = wl;
            po.departure.year = 2026, po.departure.month = 9, po.departure.day = 1;
            pm_report_t *pr = NULL;
            if (pm_preclear_manifest(&po, s, size, "fuzz", &pr, &err) == PM_OK) pm_report_free(pr);
        }
        pm_watchlist_free(wl);
    }
    return 0;
}
