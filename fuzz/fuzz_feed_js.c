/* libFuzzer target: the partner's feed messages over JetStream as the feed
 * job takes them (src/node/feed_js.c, feed.c pull_js): each fetched message's
 * Perimeter-Agreement header and payload through pm__jsfeed_take, then the
 * batch, if every message was taken, through pm_crossing_reader_open_mem +
 * pm_crossings_import into a SQLite store in a temporary file (recreated
 * every 2000 inputs), the exact calls of the feed job.
 * Input: messages, each u8 header length (255: no header), the header,
 * u16 little-endian payload length, the payload; a header "=" stands for the
 * agreement we run (so mutations reach the payload checks). Invariants: a
 * refused message is PM_EDENIED (wrong or missing header) or PM_EFORMAT and
 * leaves the batch as it was; a taken one adds its bytes and one newline;
 * the batch holds one line per message; the import never reads more rows
 * than messages, its counts add up, and it fails only on rejected rows. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node_impl.h"
#include "perimeter/store.h"
#include "perimeter/travel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ours[] = "3f1c9a0e5b7d2486f0a1b2c3d4e5f60718293a4b5c6d7e8f9012a3b4c5d6e7f8";
static pm_store_t *st;
static char path[128];
static unsigned uses;

static void reopen(void)
{
    pm_error_t e;
    if (st) pm_store_close(st);
    st = NULL;
    if (!path[0]) {
        char tmpl[] = "/tmp/pm-fuzz-feedjs-XXXXXX";
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
    pm_buf_t b;
    pm_buf_init(&b, 1u << 24);
    pm_error_t e;
    size_t off = 0, msgs = 0;
    int refused = 0;
    while (off < size && msgs < 256 && !refused) {
        size_t hl = data[off++];
        char hdr[256];
        const char *h = NULL;
        if (hl != 255) {
            if (size - off < hl) break;
            memcpy(hdr, data + off, hl);
            hdr[hl] = '\0';
            off += hl;
            h = hl == 1 && hdr[0] == '=' ? ours : hdr;
        }
        if (size - off < 2) break;
        size_t pl = data[off] | (size_t)data[off + 1] << 8;
        off += 2;
        if (size - off < pl) pl = size - off;
        size_t before = b.len;
        pm_error_clear(&e);
        int rc = pm__jsfeed_take(h, data + off, pl, ours, &b, &e);
        off += pl;
        if (rc) {
            if (rc != PM_EDENIED && rc != PM_EFORMAT) abort();
            if (b.len != before || memchr(e.msg, '\0', sizeof e.msg) == NULL) abort();
            refused = 1; /* the batch is refused whole, nothing acknowledged */
            break;
        }
        if (b.len != before + pl + 1 || b.data[b.len - 1] != '\n') abort();
        msgs++;
    }
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++)
        lines += b.data[i] == '\n';
    if (lines != msgs) abort();
    if (refused || !msgs) {
        pm_buf_free(&b);
        return 0;
    }
    if (!st || ++uses > 2000)
        reopen();
    pm_crossing_reader_t *r = NULL;
    if (pm_crossing_reader_open_mem((const char *)b.data, b.len, PM_CROSSING_FORMAT_JSONL, &r,
                                    &e)) {
        pm_buf_free(&b);
        return 0;
    }
    pm_import_options_t io = {0, 0, "USA", NULL, NULL, NULL};
    pm_import_stats_t s;
    memset(&s, 0, sizeof s);
    int rc = pm_crossings_import(st, r, &io, &s, &e);
    pm_crossing_reader_free(r);
    if (rc != PM_OK && rc != PM_EPARTIAL && rc != PM_EFORMAT && rc != PM_ELIMIT &&
        rc != PM_EVALIDATION)
        abort();
    if (s.stored + s.duplicates + s.rejected != s.rows || s.rows > msgs) abort();
    pm_buf_free(&b);
    return 0;
}
