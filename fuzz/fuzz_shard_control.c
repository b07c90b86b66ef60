/* libFuzzer target: the shard's control messages (src/shard/shard.c) as a
 * shard server reads an enrolment ("PME1", pm_shard_enrol_decode, then the
 * template it carries as on_enrol does) and the coordinator reads an
 * enrolment acknowledgement ("PMA1") and a replica's presence ("PMW1" /
 * "PMB1"). Input: one selector byte (value % 3: enrolment, ack, presence),
 * then the message. Invariants: a refusal is PM_EFORMAT with a
 * NUL-terminated message; an accepted message has its fields in range and
 * re-encodes to exactly the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/shard.h"
#include "perimeter/tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void refused(int rc, const pm_error_t *e)
{
    if (rc != PM_EFORMAT || memchr(e->msg, '\0', sizeof e->msg) == NULL)
        abort();
}

static void same(pm_buf_t *b, const uint8_t *data, size_t size)
{
    if (b->len != size || memcmp(b->data, data, size))
        abort();
    pm_buf_free(b);
}

static void enrol(const uint8_t *data, size_t size)
{
    pm_error_t e;
    pm_error_clear(&e);
    pm_shard_enrol_msg_t m;
    int rc = pm_shard_enrol_decode(data, size, &m, &e);
    if (rc) {
        refused(rc, &e);
        return;
    }
    if (m.position < 0 || m.position > 10 || !m.tmpl || m.tmpl_len < 1 ||
        m.tmpl < data || m.tmpl + m.tmpl_len != data + size)
        abort();
    pm_buf_t b;
    pm_buf_init(&b, 1u << 21);
    if (pm_shard_enrol_encode(&m, &b)) abort();
    same(&b, data, size);
    pm_fingerprint_t *views = NULL;
    size_t count = 0;
    pm_error_clear(&e);
    rc = pm_tmpl_read(m.tmpl, m.tmpl_len, PM_TMPL_NATIVE, &views, &count, NULL, &e);
    if (rc && (rc > 0 || memchr(e.msg, '\0', sizeof e.msg) == NULL)) abort();
    free(views);
}

static void ack(const uint8_t *data, size_t size)
{
    pm_error_t e;
    pm_error_clear(&e);
    pm_shard_ack_t a;
    int rc = pm_shard_ack_decode(data, size, &a, &e);
    if (rc) {
        refused(rc, &e);
        return;
    }
    if (a.shards < 1 || a.shard >= a.shards || a.status > 0) abort();
    pm_buf_t b;
    pm_buf_init(&b, 64);
    if (pm_shard_ack_encode(&a, &b)) abort();
    same(&b, data, size);
}

static void presence(const uint8_t *data, size_t size)
{
    pm_error_t e;
    pm_error_clear(&e);
    pm_shard_presence_t p;
    int rc = pm_shard_presence_decode(data, size, &p, &e);
    if (rc) {
        refused(rc, &e);
        return;
    }
    if (p.alive != 0 && p.alive != 1) abort();
    pm_buf_t b;
    pm_buf_init(&b, 64);
    if (pm_shard_presence_encode(&p, &b)) abort();
    same(&b, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0: enrol(data + 1, size - 1); break;
    case 1: ack(data + 1, size - 1); break;
    default: presence(data + 1, size - 1); break;
    }
    return 0;
}
