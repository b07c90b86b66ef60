/* libFuzzer target: a page of the partner's feed as the node receives it,
 * pushed (POST /v1/partner/feed) or pulled (GET, by the feed job): JSON Lines
 * read by pm_crossing_reader_open_mem and stored by pm_crossings_import with
 * from_partner set, the exact calls of import_body (routes.c) and pull_once
 * (feed.c), into a SQLite store in a temporary file (recreated every 2000
 * inputs so it stays small). Invariants: the counts add up (stored +
 * duplicates + rejected = rows); the stored cursor never goes backwards and
 * is the highest cursor seen when one was; the import never fails except
 * for rejected rows. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perimeter/store.h"
#include "perimeter/travel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pm_store_t *st;
static char path[128];
static unsigned uses;

static void reopen(void)
{
    pm_error_t e;
    if (st) pm_store_close(st);
    st = NULL;
    if (!path[0]) {
        char tmpl[] = "/tmp/pm-fuzz-feed-XXXXXX";
        if (!mkdtemp(tmpl)) abort();
        snprintf(path, sizeof path, "%s/store.db", tmpl);
    }
    char side[160];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path); unlink(side);
    snprintf(side, sizeof side, "%s-shm", path); unlink(side);
    pm_store_options_t o = {PM_STORE_DURABLE_NORMAL, 1, 0, 0};
    if (pm_store_open(path, &o, &st, &e) != PM_OK) abort();
    uses = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!st || ++uses > 2000)
        reopen();
    pm_error_t e;
    pm_error_clear(&e);
    int64_t before = 0, after = 0;
    if (pm_store_partner_cursor(st, "USA", &before, &e) != PM_OK) abort();
    pm_crossing_reader_t *r = NULL;
    if (pm_crossing_reader_open_mem((const char *)data, size, PM_CROSSING_FORMAT_JSONL, &r, &e))
        return 0;
    pm_import_options_t io = {0, 0, "USA", NULL, NULL, NULL};
    pm_import_stats_t s;
    memset(&s, 0, sizeof s);
    int rc = pm_crossings_import(st, r, &io, &s, &e);
    pm_crossing_reader_free(r);
    if (rc != PM_OK && rc != PM_EPARTIAL && rc != PM_EFORMAT && rc != PM_ELIMIT &&
        rc != PM_EVALIDATION)
        abort();
    if (s.stored + s.duplicates + s.rejected != s.rows) abort();
    if (pm_store_partner_cursor(st, "USA", &after, &e) != PM_OK) abort();
    if (after < before) abort();
    if ((rc == PM_OK || rc == PM_EPARTIAL) && s.last_cursor > before && after != s.last_cursor)
        abort();
    return 0;
}
