/* perimeter preclear: a flight manifest screened before departure (a thin
 * shell over pm_preclear_manifest; see docs/preclear.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_env.h"
#include "perimeter/core.h"
#include "perimeter/preclear.h"

int pm_cmd_preclear(int argc, char **argv);

static void usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter preclear MANIFEST [--watchlist FILE] [--db PATH]\n"
            "                          [--stay CODE=DAYS ...] [--date YYYY-MM-DD]\n"
            "                          [--min SCORE] [--min-undated SCORE] [--csv | --json]\n"
            "Decides cleared / refer / do_not_board for every passenger of a manifest,\n"
            "with the reasons: the travel document (codes, MRZ check digits, expiry on\n"
            "the departure date), the watchlist (names, dates of birth, listed\n"
            "documents; --min and --min-undated as for perimeter screen: 94 for entries\n"
            "listing a date of birth, --min + 1.5 for entries listed without), and with\n"
            "--db the traveller's stays in our country from the linked store (an\n"
            "overstay against the authorised stay, per citizenship with --stay as for\n"
            "perimeter report; default 180 days). --date is the departure date for rows\n"
            "without a scheduled_departure. Exit 0 when every passenger was decided.\n");
}

int pm_cmd_preclear(int argc, char **argv)
{
    const char *wlp = NULL, *db = NULL, *date = NULL;
    double min = 0, min_undated = 0;
    int fmt = PM_REPORT_TEXT;
    pm_stay_rules_t rules;
    memset(&rules, 0, sizeof rules);
    rules.default_days = 180;
    pm_error_t err = {0};
    static const struct option opts[] = {
        {"watchlist", required_argument, NULL, 'w'}, {"db", required_argument, NULL, 'd'},
        {"stay", required_argument, NULL, 's'},      {"date", required_argument, NULL, 'D'},
        {"min", required_argument, NULL, 'm'},       {"min-undated", required_argument, NULL, 'u'},
        {"csv", no_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},            {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'w':
            wlp = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 's':
            if (pm_stay_rules_add(&rules, optarg, &err)) {
                fprintf(stderr, "perimeter preclear: --stay: %s\n", pm_error_text(&err));
                return 2;
            }
            break;
        case 'D':
            date = optarg;
            break;
        case 'm': {
            char *end;
            min = strtod(optarg, &end);
            if (*end || min < 0 || min > 200) goto bad;
            break;
        }
        case 'u': {
            char *end;
            min_undated = strtod(optarg, &end);
            if (*end || min_undated <= 0 || min_undated > 200) goto bad;
            break;
        }
        case 'c':
            fmt = PM_REPORT_CSV;
            break;
        case 'j':
            fmt = PM_REPORT_JSON;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            goto bad;
        }
    }
    if (optind + 1 != argc) goto bad;
    const char *manifest = argv[optind];
    pm_preclear_options_t o;
    memset(&o, 0, sizeof o);
    o.screen_min = min;
    o.screen_min_undated = min_undated;
    if (date && (pm_dob_parse(date, strlen(date), &o.departure, NULL) || !o.departure.day)) {
        fprintf(stderr, "perimeter preclear: --date: not a date YYYY-MM-DD\n");
        return 2;
    }
    pm_watchlist_t *wl = NULL;
    pm_store_t *st = NULL;
    pm_preclear_store_history_t *hist = NULL;
    pm_report_t *r = NULL;
    uint8_t *data = NULL, *man = NULL;
    size_t len = 0, mlen = 0;
    int rc = PM_OK;
    if (wlp) {
        rc = pm_file_read(wlp, 256u << 20, &data, &len, &err);
        if (!rc) rc = pm_watchlist_new(&wl, &err);
        if (!rc) rc = pm_watchlist_load_csv(wl, (const char *)data, len, &err);
        if (!rc) rc = pm_watchlist_finalize(wl, &err);
        if (rc) pm_error_prefix(&err, "%s", wlp);
        o.watchlist = wl;
    }
    if (!rc && db) {
        pm_store_options_t so = {PM_STORE_DURABLE_FULL, 0, 0, 0};
        const char *path = pm__cli_db_path(db);
        rc = pm_store_open(path, &so, &st, &err);
        if (rc) pm_error_prefix(&err, "database %s", path);
        if (!rc) rc = pm_preclear_store_history_new(st, &rules, &hist, &err);
        o.history = pm_preclear_store_history;
        o.history_ctx = hist;
    }
    if (!rc) rc = pm_file_read(manifest, 1u << 30, &man, &mlen, &err);
    if (!rc) rc = pm_preclear_manifest(&o, (const char *)man, mlen, manifest, &r, &err);
    char *text = NULL;
    size_t tl = 0;
    if (!rc) rc = pm_report_render(r, (pm_report_format_t)fmt, &text, &tl, &err);
    if (!rc) fwrite(text, 1, tl, stdout);
    free(text);
    if (rc) fprintf(stderr, "perimeter preclear: %s\n", pm_error_text(&err));
    pm_report_free(r);
    pm_preclear_store_history_free(hist);
    pm_store_close(st);
    pm_watchlist_free(wl);
    free(data);
    free(man);
    return rc ? 3 : 0;
bad:
    usage(stderr);
    return 2;
}
