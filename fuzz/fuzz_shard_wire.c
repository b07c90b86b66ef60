/* libFuzzer target: the shard wire format (src/shard/shard.c) as the shard
 * server reads a search request (pm_shard_request_decode, "PMS2") and the
 * coordinator reads a shard's reply (pm_shard_reply_decode, "PMR2").
 * Input: one byte (bit 0: reply, else request; bits 1-4: the coordinator's
 * shard count - 1; bits 5-7: its probe finger count, 0 = any), then the
 * message. Invariants: a refusal is PM_EFORMAT with a NUL-terminated
 * message; an accepted request holds 1..10 fingers each with a view, and
 * its re-encoding decodes to the same header and re-encodes to the same
 * bytes; an accepted reply has its shard below the count, its fields in
 * range, and re-encodes to exactly the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/shard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void refused(int rc, const pm_error_t *e)
{
    if (rc != PM_EFORMAT || memchr(e->msg, '\0', sizeof e->msg) == NULL)
        abort();
}

static void request(const uint8_t *data, size_t size)
{
    pm_error_t e;
    pm_error_clear(&e);
    pm_shard_request_t q, q2;
    int rc = pm_shard_request_decode(data, size, &q, &e);
    if (rc) {
        refused(rc, &e);
        pm_shard_request_free(&q);
        return;
    }
    if (q.op < 0 || q.op > 1 || q.nfingers < 1 || q.nfingers > PM_GALLERY_MAX_FINGERS ||
        q.options.max_candidates < 1 || q.options.max_candidates > PM_GALLERY_MAX_CANDIDATES)
        abort();
    for (int i = 0; i < q.nfingers; i++)
        if (!q.fingers[i].fp || q.fingers[i].position < 0 || q.fingers[i].position > 10)
            abort();
    pm_buf_t a, b;
    pm_buf_init(&a, 1u << 22);
    pm_buf_init(&b, 1u << 22);
    if (pm_shard_request_encode(q.op, q.subject, q.fingers, q.nfingers, &q.options, &a, &e))
        abort();
    if (pm_shard_request_decode(a.data, a.len, &q2, &e)) abort();
    if (q2.op != q.op || q2.subject != q.subject || q2.nfingers != q.nfingers ||
        q2.options.max_candidates != q.options.max_candidates ||
        memcmp(&q2.options.threshold, &q.options.threshold, sizeof(double)) ||
        q2.options.first_stage != q.options.first_stage ||
        q2.options.keep_min != q.options.keep_min)
        abort();
    for (int i = 0; i < q.nfingers; i++)
        if (q2.fingers[i].position != q.fingers[i].position) abort();
    if (pm_shard_request_encode(q2.op, q2.subject, q2.fingers, q2.nfingers, &q2.options, &b, &e))
        abort();
    if (a.len != b.len || memcmp(a.data, b.data, a.len)) abort();
    pm_buf_free(&a);
    pm_buf_free(&b);
    pm_shard_request_free(&q2);
    pm_shard_request_free(&q);
}

static void reply(int shards, int nfingers, const uint8_t *data, size_t size)
{
    static pm_gallery_candidate_t cand[PM_GALLERY_MAX_CANDIDATES];
    pm_error_t e;
    pm_error_clear(&e);
    pm_shard_reply_t h;
    int rc = pm_shard_reply_decode(data, size, shards, nfingers, &h, cand,
                                   PM_GALLERY_MAX_CANDIDATES, &e);
    if (rc) {
        refused(rc, &e);
        return;
    }
    if (h.shard < 0 || h.shard >= shards || h.status > 0 || h.n > PM_GALLERY_MAX_CANDIDATES ||
        h.nfingers < 0 || h.nfingers > PM_GALLERY_MAX_FINGERS ||
        (h.status == PM_OK && nfingers && h.nfingers != nfingers) ||
        (h.status != PM_OK && (h.n || h.nfingers)))
        abort();
    pm_buf_t a;
    pm_buf_init(&a, 1u << 22);
    if (pm_shard_reply_encode(&h, cand, &a)) abort();
    if (a.len != size || memcmp(a.data, data, size)) abort();
    pm_buf_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    if (sel & 1)
        reply(1 + ((sel >> 1) & 15), sel >> 5, data + 1, size - 1);
    else
        request(data + 1, size - 1);
    return 0;
}
