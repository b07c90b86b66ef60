/* The sharded gallery over NATS: stable routing, the shard server and the
 * coordinator's scatter-gather with a deadline and hedged requests. Uses
 * only the gallery's and the template module's public APIs. Subjects
 * (prefix default "pm.gallery"):
 *   <prefix>.<S>.<K>            searches of shard K of S, queue group of that name
 *   <prefix>.<S>.<K>.r.<id>     the same, to one replica (hex id): hedged requests
 *   <prefix>.<S>.who            "who serves layout S?" (each replica answers)
 *   <prefix>.<S>.hello          a replica announces itself (serving) or its end
 *   <prefix>.enrol              new enrolments, every layout (growing S)
 * Wire format (little-endian, bounded):
 *   request: "PMS2", u8 op (0 identify, 1 verify), u64 subject (verify),
 *            u32 max_candidates, f64 threshold, u8 first_stage,
 *            f64 keep_fraction, i32 keep_min, u8 nfingers,
 *            nfingers x (u8 position, u32 len, native template of len bytes)
 *   reply:   "PMR2", u32 shard, i32 status, u64 replica, u64 records scanned,
 *            f64 seconds of the shard's own search, u32 n, u8 nfingers, n x (u64 subject, f64 score, u32 encounter,
 *            nfingers x f64)
 *   who / hello: "PMW1" (alive) or "PMB1" (stopping), u32 shard, u64 replica
 *   enrolment: "PME1", u64 subject, u32 encounter, u8 position, u32 len,
 *            native template; its ack "PMA1", u32 S, u32 K, i32 status */
#include <inttypes.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "perimeter/core.h"
#include "perimeter/shard.h"
#include "perimeter/tmpl.h"

#define REQ_MAX (1u << 20) /* a request of ten native templates is a few KB */

/* --- routing ------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    /* splitmix64 finaliser: ids in sequence spread evenly */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

int pm_shard_of(uint64_t subject, int shards)
{
    if (shards <= 1)
        return 0;
    /* jump consistent hash (Lamping & Veach 2014) */
    uint64_t key = mix64(subject);
    int64_t b = -1, j = 0;
    while (j < shards) {
        b = j;
        key = key * 2862933555777941757ULL + 1;
        j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
    }
    return (int)b;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int pm_shard_gallery_keep(pm_gallery_t *g, int shard, int shards, size_t *out_removed,
                          pm_error_t *err)
{
    if (out_removed)
        *out_removed = 0;
    if (!g || shards < 1 || shards > PM_SHARD_MAX || shard < 0 || shard >= shards)
        return pm_error_set(err, PM_EINVAL, "shard %d of %d", shard, shards);
    size_t n = pm_gallery_count(g), ndrop = 0;
    uint64_t *drop = n ? malloc(n * sizeof *drop) : NULL;
    if (n && !drop)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    pm_fingerprint_t *fp = malloc(sizeof *fp);
    if (!fp) {
        free(drop);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    int rc = PM_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        uint64_t subject;
        uint32_t enc;
        int pos;
        rc = pm_gallery_record(g, i, &subject, &enc, &pos, fp, err);
        if (!rc && pm_shard_of(subject, shards) != shard)
            drop[ndrop++] = subject;
    }
    free(fp);
    qsort(drop, ndrop, sizeof *drop, cmp_u64);
    for (size_t i = 0; i < ndrop && !rc; i++) {
        if (i && drop[i] == drop[i - 1])
            continue;
        size_t removed = 0;
        rc = pm_gallery_delete_subject(g, drop[i], &removed, err);
        if (!rc && out_removed)
            *out_removed += removed;
    }
    free(drop);
    return rc;
}

/* --- wire ---------------------------------------------------------------- */

static int put_u32(pm_buf_t *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return pm_buf_append(b, x, 4);
}

static int put_u64(pm_buf_t *b, uint64_t v)
{
    int rc = put_u32(b, (uint32_t)v);
    return rc ? rc : put_u32(b, (uint32_t)(v >> 32));
}

static int put_f64(pm_buf_t *b, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    return put_u64(b, v);
}

typedef struct rd {
    const uint8_t *p;
    size_t n, off;
    int bad;
} rd_t;

static const uint8_t *take(rd_t *r, size_t n)
{
    if (r->bad || r->n - r->off < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}

static uint32_t get_u32(rd_t *r)
{
    const uint8_t *p = take(r, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
             : 0;
}

static uint64_t get_u64(rd_t *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}

static double get_f64(rd_t *r)
{
    uint64_t v = get_u64(r);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static uint8_t get_u8(rd_t *r)
{
    const uint8_t *p = take(r, 1);
    return p ? *p : 0;
}

static int is_finite(double d)
{
    return d == d && d - d == 0; /* not NaN, not infinite */
}

int pm_shard_request_encode(int op, uint64_t subject, const pm_gallery_finger_t *fingers,
                            int nfingers, const pm_gallery_search_options_t *o, pm_buf_t *req,
                            pm_error_t *err)
{
    if (op < 0 || op > 1 || !o || nfingers < 1 || nfingers > PM_GALLERY_MAX_FINGERS)
        return pm_error_set(err, PM_EINVAL, "shard request: op 0/1 and 1..%d fingers",
                            PM_GALLERY_MAX_FINGERS);
    int rc = pm_buf_append(req, "PMS2", 4);
    rc = rc ? rc : pm_buf_append(req, &(uint8_t){(uint8_t)op}, 1);
    rc = rc ? rc : put_u64(req, subject);
    rc = rc ? rc : put_u32(req, (uint32_t)o->max_candidates);
    rc = rc ? rc : put_f64(req, o->threshold);
    rc = rc ? rc : pm_buf_append(req, &(uint8_t){(uint8_t)(o->first_stage ? 1 : 0)}, 1);
    rc = rc ? rc : put_f64(req, o->keep_fraction);
    rc = rc ? rc : put_u32(req, (uint32_t)o->keep_min);
    rc = rc ? rc : pm_buf_append(req, &(uint8_t){(uint8_t)nfingers}, 1);
    pm_buf_t t;
    pm_buf_init(&t, REQ_MAX);
    for (int i = 0; i < nfingers && !rc; i++) {
        if (!fingers[i].fp || fingers[i].position < 0 || fingers[i].position > 10) {
            rc = pm_error_set(err, PM_EINVAL, "shard search: finger %d", i);
            break;
        }
        pm_buf_reset(&t);
        if ((rc = pm_tmpl_write(PM_TMPL_NATIVE, fingers[i].fp, 1, &t, err)))
            break;
        rc = pm_buf_append(req, &(uint8_t){(uint8_t)fingers[i].position}, 1);
        rc = rc ? rc : put_u32(req, (uint32_t)t.len);
        rc = rc ? rc : pm_buf_append(req, t.data, t.len);
    }
    pm_buf_free(&t);
    if (rc && !(err && err->code))
        pm_error_set(err, rc, "shard search: request");
    return rc;
}

void pm_shard_request_free(pm_shard_request_t *q)
{
    if (!q)
        return;
    for (int i = 0; i < PM_GALLERY_MAX_FINGERS; i++) {
        free(q->views[i]);
        q->views[i] = NULL;
    }
    q->nfingers = 0;
}

int pm_shard_request_decode(const void *data, size_t len, pm_shard_request_t *q,
                            pm_error_t *err)
{
    memset(q, 0, sizeof *q);
    rd_t r = {data, data ? len : 0, 0, 0};
    const uint8_t *magic = take(&r, 4);
    if (!magic || memcmp(magic, "PMS2", 4) != 0)
        return pm_error_set(err, PM_EFORMAT, "shard request: not PMS2");
    q->op = get_u8(&r);
    q->subject = get_u64(&r);
    uint32_t maxc = get_u32(&r);
    q->options.threshold = get_f64(&r);
    q->options.first_stage = get_u8(&r);
    q->options.keep_fraction = get_f64(&r);
    uint32_t keep_min = get_u32(&r);
    int nf = get_u8(&r);
    if (r.bad || q->op > 1 || maxc < 1 || maxc > PM_GALLERY_MAX_CANDIDATES || nf < 1 ||
        nf > PM_GALLERY_MAX_FINGERS || q->options.first_stage > 1 ||
        !is_finite(q->options.threshold) || !is_finite(q->options.keep_fraction) ||
        keep_min > INT32_MAX)
        return pm_error_set(err, PM_EFORMAT, "shard request: bad header (op, candidates 1..%d, "
                                             "fingers 1..%d, finite options)",
                            PM_GALLERY_MAX_CANDIDATES, PM_GALLERY_MAX_FINGERS);
    q->options.max_candidates = (int)maxc;
    q->options.keep_min = (int)keep_min;
    for (int i = 0; i < nf; i++) {
        int pos = get_u8(&r);
        uint32_t tlen = get_u32(&r);
        const uint8_t *t = take(&r, tlen);
        size_t count = 0;
        int rc = !t || pos > 10
                     ? PM_EFORMAT
                     : pm_tmpl_read(t, tlen, PM_TMPL_NATIVE, &q->views[i], &count, NULL, err);
        if (rc == PM_OK && count != 1)
            rc = PM_EFORMAT;
        if (rc) {
            pm_shard_request_free(q);
            return pm_error_set(err, PM_EFORMAT, "shard request: finger %d is not one native "
                                                 "template",
                                i);
        }
        q->fingers[i].position = pos;
        q->fingers[i].fp = q->views[i];
        q->nfingers = i + 1;
    }
    if (r.off != r.n) {
        pm_shard_request_free(q);
        return pm_error_set(err, PM_EFORMAT, "shard request: %zu bytes after the fingers",
                            r.n - r.off);
    }
    return PM_OK;
}

int pm_shard_reply_encode(const pm_shard_reply_t *h, const pm_gallery_candidate_t *cand,
                          pm_buf_t *b)
{
    int rc = pm_buf_append(b, "PMR2", 4);
    rc = rc ? rc : put_u32(b, (uint32_t)h->shard);
    rc = rc ? rc : put_u32(b, (uint32_t)h->status);
    rc = rc ? rc : put_u64(b, h->replica);
    rc = rc ? rc : put_u64(b, h->records_scanned);
    rc = rc ? rc : put_f64(b, h->seconds);
    rc = rc ? rc : put_u32(b, (uint32_t)h->n);
    rc = rc ? rc : pm_buf_append(b, &(uint8_t){(uint8_t)h->nfingers}, 1);
    for (size_t i = 0; i < h->n && !rc; i++) {
        rc = put_u64(b, cand[i].subject);
        rc = rc ? rc : put_f64(b, cand[i].score);
        rc = rc ? rc : put_u32(b, cand[i].encounter);
        for (int f = 0; f < h->nfingers && !rc; f++)
            rc = put_f64(b, cand[i].finger_score[f]);
    }
    return rc;
}

int pm_shard_reply_decode(const void *data, size_t len, int shards, int nfingers,
                          pm_shard_reply_t *h, pm_gallery_candidate_t *out, size_t cap,
                          pm_error_t *err)
{
    memset(h, 0, sizeof *h);
    rd_t r = {data, data ? len : 0, 0, 0};
    const uint8_t *magic = take(&r, 4);
    if (!magic || memcmp(magic, "PMR2", 4) != 0)
        return pm_error_set(err, PM_EFORMAT, "shard reply: not PMR2");
    uint32_t shard = get_u32(&r);
    h->status = (int)get_u32(&r);
    h->replica = get_u64(&r);
    h->records_scanned = get_u64(&r);
    h->seconds = get_f64(&r);
    uint32_t n = get_u32(&r);
    int nf = get_u8(&r);
    if (r.bad || shards < 1 || shard >= (uint32_t)shards || h->status > 0 ||
        (h->status == PM_OK && nfingers > 0 && nf != nfingers) ||
        (h->status != PM_OK && (n || nf)) || nf > PM_GALLERY_MAX_FINGERS ||
        n > PM_GALLERY_MAX_CANDIDATES || !is_finite(h->seconds))
        return pm_error_set(err, PM_EFORMAT, "shard reply: bad header");
    h->shard = (int)shard;
    h->nfingers = nf;
    h->n = n;
    for (uint32_t i = 0; i < n; i++) {
        pm_gallery_candidate_t c;
        memset(&c, 0, sizeof c);
        c.subject = get_u64(&r);
        c.score = get_f64(&r);
        c.encounter = get_u32(&r);
        int ok = is_finite(c.score);
        for (int f = 0; f < nf; f++) {
            c.finger_score[f] = get_f64(&r);
            ok = ok && is_finite(c.finger_score[f]);
        }
        if (r.bad || !ok)
            return pm_error_set(err, PM_EFORMAT, "shard reply: candidate %u", (unsigned)i);
        if (i < cap)
            out[i] = c;
    }
    if (r.off != r.n)
        return pm_error_set(err, PM_EFORMAT, "shard reply: %zu bytes after the candidates",
                            r.n - r.off);
    return PM_OK;
}

/* --- server -------------------------------------------------------------- */

struct pm_shard_server {
    pm_gallery_t *g;
    natsConnection *nc;
    natsSubscription *sub, *direct, *who, *learn;
    int shard, shards;
    uint64_t replica; /* random id: the direct subject <prefix>.<S>.<K>.r.<id> */
    char prefix[104];
    atomic_uint_fast64_t served, learned;
};

static int nats_err(natsStatus s, pm_error_t *err, const char *what)
{
    return pm_error_set(err, PM_ENET, "%s: %s", what, natsStatus_GetText(s));
}

static void subject_of(char *out, size_t cap, const char *prefix, int shards, int shard)
{
    snprintf(out, cap, "%s.%d.%d", prefix, shards, shard);
}

static void direct_of(char *out, size_t cap, const char *prefix, int shards, int shard,
                      uint64_t replica)
{
    snprintf(out, cap, "%s.%d.%d.r.%016" PRIx64, prefix, shards, shard, replica);
}

/* Answers one search request (identify, or verify of one subject) on this
 * shard's gallery: replies with the candidates or the error code. */
static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    pm_shard_server_t *s = closure;
    const char *reply = natsMsg_GetReply(msg);
    pm_shard_request_t q;
    pm_gallery_candidate_t *cand = NULL;
    size_t ncand = 0;
    pm_gallery_search_stats_t stats;
    memset(&stats, 0, sizeof stats);
    pm_error_t err;
    pm_error_clear(&err);
    int status = pm_shard_request_decode(natsMsg_GetData(msg),
                                         (size_t)natsMsg_GetDataLength(msg), &q, &err);
    if (status == PM_OK) {
        cand = calloc((size_t)q.options.max_candidates, sizeof *cand);
        if (!cand)
            status = PM_ENOMEM;
        else if (q.op == 1) {
            status = pm_gallery_verify(s->g, q.subject, q.fingers, q.nfingers, cand, &err);
            ncand = status == PM_OK;
        } else
            status = pm_gallery_identify(s->g, q.fingers, q.nfingers, &q.options, cand, &ncand,
                                         &stats, &err);
    }
    pm_shard_reply_t head = {s->shard, status, s->replica, stats.records_scanned,
                             stats.seconds, status == PM_OK ? q.nfingers : 0,
                             status == PM_OK ? ncand : 0};
    pm_buf_t b;
    pm_buf_init(&b, REQ_MAX);
    int rc = pm_shard_reply_encode(&head, cand, &b);
    atomic_fetch_add(&s->served, 1); /* before the reply: a caller that has it sees the count */
    if (!rc && reply)
        natsConnection_Publish(nc, reply, b.data, (int)b.len);
    pm_buf_free(&b);
    free(cand);
    pm_shard_request_free(&q);
    natsMsg_Destroy(msg);
}

/* --- control messages ------------------------------------------------------ */

#define ENROL_TMPL_MAX REQ_MAX
#define STATUS_MIN (-100000) /* a PM_* code is a small negative number */

int pm_shard_enrol_encode(const pm_shard_enrol_msg_t *m, pm_buf_t *b)
{
    if (!m || !m->tmpl || m->tmpl_len < 1 || m->tmpl_len > ENROL_TMPL_MAX || m->position < 0 ||
        m->position > 10)
        return PM_EINVAL;
    int rc = pm_buf_append(b, "PME1", 4);
    rc = rc ? rc : put_u64(b, m->subject);
    rc = rc ? rc : put_u32(b, m->encounter);
    rc = rc ? rc : pm_buf_append(b, &(uint8_t){(uint8_t)m->position}, 1);
    rc = rc ? rc : put_u32(b, (uint32_t)m->tmpl_len);
    rc = rc ? rc : pm_buf_append(b, m->tmpl, m->tmpl_len);
    return rc;
}

int pm_shard_enrol_decode(const void *data, size_t len, pm_shard_enrol_msg_t *m, pm_error_t *err)
{
    memset(m, 0, sizeof *m);
    rd_t r = {data, data ? len : 0, 0, 0};
    const uint8_t *magic = take(&r, 4);
    if (!magic || memcmp(magic, "PME1", 4) != 0)
        return pm_error_set(err, PM_EFORMAT, "shard enrolment: not PME1");
    m->subject = get_u64(&r);
    m->encounter = get_u32(&r);
    m->position = get_u8(&r);
    uint32_t tlen = get_u32(&r);
    if (r.bad || m->position > 10 || tlen < 1 || tlen > ENROL_TMPL_MAX)
        return pm_error_set(err, PM_EFORMAT, "shard enrolment: bad header (position 0..10, "
                                             "template 1..%u bytes)",
                            (unsigned)ENROL_TMPL_MAX);
    m->tmpl = take(&r, tlen);
    m->tmpl_len = tlen;
    if (!m->tmpl)
        return pm_error_set(err, PM_EFORMAT, "shard enrolment: template of %u bytes cut short",
                            (unsigned)tlen);
    if (r.off != r.n)
        return pm_error_set(err, PM_EFORMAT, "shard enrolment: %zu bytes after the template",
                            r.n - r.off);
    return PM_OK;
}

int pm_shard_ack_encode(const pm_shard_ack_t *a, pm_buf_t *b)
{
    int rc = pm_buf_append(b, "PMA1", 4);
    rc = rc ? rc : put_u32(b, a->shards);
    rc = rc ? rc : put_u32(b, a->shard);
    rc = rc ? rc : put_u32(b, (uint32_t)a->status);
    return rc;
}

int pm_shard_ack_decode(const void *data, size_t len, pm_shard_ack_t *a, pm_error_t *err)
{
    memset(a, 0, sizeof *a);
    rd_t r = {data, data ? len : 0, 0, 0};
    const uint8_t *magic = take(&r, 4);
    if (!magic || memcmp(magic, "PMA1", 4) != 0)
        return pm_error_set(err, PM_EFORMAT, "shard enrolment ack: not PMA1");
    a->shards = get_u32(&r);
    a->shard = get_u32(&r);
    int32_t st = (int32_t)get_u32(&r);
    if (r.bad || r.off != r.n)
        return pm_error_set(err, PM_EFORMAT, "shard enrolment ack: %zu bytes, 16 expected", len);
    if (a->shards < 1 || a->shard >= a->shards || st > 0 || st < STATUS_MIN)
        return pm_error_set(err, PM_EFORMAT, "shard enrolment ack: shard %u of %u, status %d",
                            (unsigned)a->shard, (unsigned)a->shards, (int)st);
    a->status = st;
    return PM_OK;
}

int pm_shard_presence_encode(const pm_shard_presence_t *p, pm_buf_t *b)
{
    int rc = pm_buf_append(b, p->alive ? "PMW1" : "PMB1", 4);
    rc = rc ? rc : put_u32(b, p->shard);
    rc = rc ? rc : put_u64(b, p->replica);
    return rc;
}

int pm_shard_presence_decode(const void *data, size_t len, pm_shard_presence_t *p,
                             pm_error_t *err)
{
    memset(p, 0, sizeof *p);
    rd_t r = {data, data ? len : 0, 0, 0};
    const uint8_t *magic = take(&r, 4);
    int alive = magic && memcmp(magic, "PMW1", 4) == 0;
    int gone = magic && memcmp(magic, "PMB1", 4) == 0;
    if (!alive && !gone)
        return pm_error_set(err, PM_EFORMAT, "shard presence: not PMW1 or PMB1");
    p->alive = alive;
    p->shard = get_u32(&r);
    p->replica = get_u64(&r);
    if (r.bad || r.off != r.n)
        return pm_error_set(err, PM_EFORMAT, "shard presence: %zu bytes, 16 expected", len);
    return PM_OK;
}

/* "Who serves layout S?": every replica answers with its shard and id. */
static void on_who(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    pm_shard_server_t *s = closure;
    const char *reply = natsMsg_GetReply(msg);
    pm_buf_t b;
    pm_buf_init(&b, 16);
    pm_shard_presence_t me = {1, (uint32_t)s->shard, s->replica};
    if (reply && !pm_shard_presence_encode(&me, &b))
        natsConnection_Publish(nc, reply, b.data, (int)b.len);
    pm_buf_free(&b);
    natsMsg_Destroy(msg);
}

/* An enrolment (pm_shard_client_enrol): kept if its subject belongs to this
 * shard under this server's layout, then acknowledged with the layout. */
static void on_enrol(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    pm_shard_server_t *s = closure;
    const char *reply = natsMsg_GetReply(msg);
    pm_shard_enrol_msg_t m;
    if (pm_shard_enrol_decode(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), &m,
                              NULL) ||
        pm_shard_of(m.subject, s->shards) != s->shard) {
        natsMsg_Destroy(msg);
        return; /* not ours (or not an enrolment): another shard answers */
    }
    pm_fingerprint_t *views = NULL;
    size_t count = 0;
    pm_error_t err;
    pm_error_clear(&err);
    int status = pm_tmpl_read(m.tmpl, m.tmpl_len, PM_TMPL_NATIVE, &views, &count, NULL, &err);
    if (status == PM_OK && count != 1)
        status = PM_EFORMAT;
    if (status == PM_OK) {
        status = pm_gallery_insert(s->g, m.subject, m.encounter, m.position, &views[0], &err);
        if (status == PM_OK)
            atomic_fetch_add(&s->learned, 1);
        else if (status == PM_EEXISTS)
            status = PM_OK; /* already loaded from the store */
    }
    free(views);
    pm_buf_t b;
    pm_buf_init(&b, 64);
    pm_shard_ack_t ack = {(uint32_t)s->shards, (uint32_t)s->shard, status};
    if (reply && !pm_shard_ack_encode(&ack, &b))
        natsConnection_Publish(nc, reply, b.data, (int)b.len);
    pm_buf_free(&b);
    natsMsg_Destroy(msg);
}

static int connect_nats(const char *url, int client, natsConnection **out, pm_error_t *err)
{
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetURL(o, url);
    if (s == NATS_OK)
        s = natsOptions_SetSendAsap(o, true);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(o, 5000);
    /* a coordinator times every shard itself (deadline, hedge): a "no
     * responders" status for one of many requests could not be told apart */
    if (s == NATS_OK && client)
        s = natsOptions_DisableNoResponders(o, true);
    if (s == NATS_OK)
        s = natsConnection_Connect(out, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK)
        return nats_err(s, err, url);
    return PM_OK;
}

static int check_prefix(const char *prefix)
{
    return !prefix || (prefix[0] && strlen(prefix) <= 100);
}

int pm_shard_server_open(pm_gallery_t *g, const pm_shard_server_options_t *o,
                         pm_shard_server_t **out, pm_error_t *err)
{
    *out = NULL;
    if (!g || !o || !o->nats_url || o->shards < 1 || o->shards > PM_SHARD_MAX || o->shard < 0 ||
        o->shard >= o->shards)
        return pm_error_set(err, PM_EINVAL, "shard server: need a gallery, a NATS URL and K/S "
                                            "with 0 <= K < S <= %d",
                            PM_SHARD_MAX);
    if (!check_prefix(o->prefix))
        return pm_error_set(err, PM_EINVAL, "shard server: bad subject prefix");
    pm_shard_server_t *s = calloc(1, sizeof *s);
    if (!s)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    s->g = g;
    s->shard = o->shard;
    s->shards = o->shards;
    snprintf(s->prefix, sizeof s->prefix, "%s", o->prefix ? o->prefix : "pm.gallery");
    atomic_init(&s->served, 0);
    atomic_init(&s->learned, 0);
    if (getrandom(&s->replica, sizeof s->replica, 0) != (ssize_t)sizeof s->replica) {
        free(s);
        return pm_error_set(err, PM_EIO, "shard server: no random replica id");
    }
    int rc = connect_nats(o->nats_url, 0, &s->nc, err);
    if (rc) {
        free(s);
        return rc;
    }
    if (o->learn) {
        char subj[128];
        snprintf(subj, sizeof subj, "%s.enrol", s->prefix);
        natsStatus ns = natsConnection_Subscribe(&s->learn, s->nc, subj, on_enrol, s);
        if (ns == NATS_OK)
            ns = natsConnection_FlushTimeout(s->nc, 5000); /* subscribed before we return */
        if (ns != NATS_OK) {
            rc = nats_err(ns, err, subj);
            pm_shard_server_stop(s);
            return rc;
        }
    }
    *out = s;
    return PM_OK;
}

int pm_shard_server_serve(pm_shard_server_t *s, pm_error_t *err)
{
    if (!s || s->sub)
        return pm_error_set(err, PM_EINVAL, "shard server: not open, or serving already");
    char subj[160], direct[192], who[160];
    subject_of(subj, sizeof subj, s->prefix, s->shards, s->shard);
    direct_of(direct, sizeof direct, s->prefix, s->shards, s->shard, s->replica);
    snprintf(who, sizeof who, "%s.%d.who", s->prefix, s->shards);
    natsStatus ns = natsConnection_QueueSubscribe(&s->sub, s->nc, subj, subj, on_request, s);
    if (ns == NATS_OK)
        ns = natsConnection_Subscribe(&s->direct, s->nc, direct, on_request, s);
    if (ns == NATS_OK)
        ns = natsConnection_Subscribe(&s->who, s->nc, who, on_who, s);
    if (ns == NATS_OK)
        ns = natsConnection_FlushTimeout(s->nc, 5000); /* subscribed before we return */
    if (ns == NATS_OK) {
        /* coordinators learn of this replica at once (they also ask "who") */
        pm_buf_t b;
        pm_buf_init(&b, 16);
        pm_shard_presence_t me = {1, (uint32_t)s->shard, s->replica};
        if (!pm_shard_presence_encode(&me, &b)) {
            char hs[160];
            snprintf(hs, sizeof hs, "%s.%d.hello", s->prefix, s->shards);
            natsConnection_Publish(s->nc, hs, b.data, (int)b.len);
        }
        pm_buf_free(&b);
    }
    if (ns != NATS_OK)
        return nats_err(ns, err, subj);
    return PM_OK;
}

int pm_shard_server_start(pm_gallery_t *g, const pm_shard_server_options_t *options,
                          pm_shard_server_t **out, pm_error_t *err)
{
    int rc = pm_shard_server_open(g, options, out, err);
    if (!rc && (rc = pm_shard_server_serve(*out, err))) {
        pm_shard_server_stop(*out);
        *out = NULL;
    }
    return rc;
}

/* Ends an asynchronous subscription: drained (the server stops sending,
 * what arrived is handled) and waited for, so no callback of it still runs
 * when its closure is freed (a search in progress: up to 10 s). */
static void drop_sub(natsSubscription **sub)
{
    if (*sub) {
        if (natsSubscription_Drain(*sub) == NATS_OK)
            natsSubscription_WaitForDrainCompletion(*sub, 10000);
        else
            natsSubscription_Unsubscribe(*sub);
        natsSubscription_Destroy(*sub);
        *sub = NULL;
    }
}

void pm_shard_server_stop(pm_shard_server_t *s)
{
    if (!s)
        return;
    if (s->nc) {
        int serving = s->sub != NULL;
        drop_sub(&s->sub);
        drop_sub(&s->direct);
        drop_sub(&s->who);
        drop_sub(&s->learn);
        if (serving) {
            /* coordinators stop sending to this replica's direct subject */
            pm_buf_t b;
            pm_buf_init(&b, 16);
            pm_shard_presence_t me = {0, (uint32_t)s->shard, s->replica};
            if (!pm_shard_presence_encode(&me, &b)) {
                char bs[160];
                snprintf(bs, sizeof bs, "%s.%d.hello", s->prefix, s->shards);
                natsConnection_Publish(s->nc, bs, b.data, (int)b.len);
            }
            pm_buf_free(&b);
        }
        /* a PING/PONG round trip: the server has taken the UNSUBs before we
         * return, so a request sent after the stop goes to a live replica */
        natsConnection_FlushTimeout(s->nc, 2000);
        natsConnection_Close(s->nc);
        natsConnection_Destroy(s->nc);
    }
    free(s);
}

uint64_t pm_shard_server_served(pm_shard_server_t *s)
{
    return (uint64_t)atomic_load(&s->served);
}

uint64_t pm_shard_server_learned(pm_shard_server_t *s)
{
    return (uint64_t)atomic_load(&s->learned);
}

uint64_t pm_shard_server_replica(const pm_shard_server_t *s)
{
    return s->replica;
}

/* --- coordinator --------------------------------------------------------- */

#define REPLICAS_MAX 16               /* live replicas remembered per shard */
#define REPLICA_TTL_NS 3000000000ULL  /* forgotten when silent this long */
#define WHO_EVERY_NS 1000000000ULL    /* ask "who" at most this often */
#define LAT_RING 64                   /* recent answer times per shard (hedge delay) */
#define LAT_MIN 16                    /* ... needed before their p95 is trusted */

typedef struct replica {
    uint64_t id, seen_ns;
} replica_t;

typedef struct shard_state {
    replica_t r[REPLICAS_MAX];
    int nr;
    unsigned rr; /* round robin over the live replicas */
    double lat_ms[LAT_RING];
    int nlat, ilat;
} shard_state_t;

struct pm_shard_client {
    natsConnection *nc;
    natsSubscription *who_sub, *hello_sub;
    char who_inbox[96];
    int shards;
    char prefix[104];
    pthread_mutex_t mu; /* guards what follows */
    pthread_cond_t cv;  /* wakes the "who" ticker when closing */
    pthread_t ticker;
    int ticking, closing;
    int hedge_ms;       /* > 0 fixed, 0 adaptive (p95), < 0 off */
    uint64_t who_ns;    /* when "who" was last asked */
    shard_state_t *st;  /* [shards] */
};

/* A "PMW1" (alive) or "PMB1" (stopping) announcement of a replica. */
static void on_replica(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    pm_shard_client_t *c = closure;
    pm_shard_presence_t p;
    int ok = !pm_shard_presence_decode(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg),
                                       &p, NULL);
    uint32_t k = p.shard;
    uint64_t id = p.replica;
    int alive = ok && p.alive, gone = ok && !p.alive;
    if (ok && k < (uint32_t)c->shards) {
        uint64_t now = pm_now_ns();
        pthread_mutex_lock(&c->mu);
        shard_state_t *ss = &c->st[k];
        int at = -1, oldest = 0;
        for (int i = 0; i < ss->nr; i++) {
            if (ss->r[i].id == id)
                at = i;
            if (ss->r[i].seen_ns < ss->r[oldest].seen_ns)
                oldest = i;
        }
        if (gone && at >= 0)
            ss->r[at] = ss->r[--ss->nr];
        else if (alive && at >= 0)
            ss->r[at].seen_ns = now;
        else if (alive) {
            at = ss->nr < REPLICAS_MAX ? ss->nr++ : oldest;
            ss->r[at].id = id;
            ss->r[at].seen_ns = now;
        }
        pthread_mutex_unlock(&c->mu);
    }
    natsMsg_Destroy(msg);
}

/* Asks every replica of the layout to announce itself (answers arrive on
 * libnats' thread). Called with c->mu held. */
static void ask_who(pm_shard_client_t *c, uint64_t now)
{
    char who[160];
    snprintf(who, sizeof who, "%s.%d.who", c->prefix, c->shards);
    c->who_ns = now;
    natsConnection_PublishRequest(c->nc, who, c->who_inbox, "PMW?", 4);
}

/* Asks "who" every WHO_EVERY_NS, so the live replicas are known even when
 * searches are rare (a replica silent for REPLICA_TTL_NS is forgotten). */
static void *who_ticker(void *arg)
{
    pm_shard_client_t *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->closing) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        uint64_t now = pm_now_ns();
        if (!c->closing && now - c->who_ns >= WHO_EVERY_NS)
            ask_who(c, now);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int pm_shard_client_open(const char *nats_url, int shards, const char *prefix,
                         pm_shard_client_t **out, pm_error_t *err)
{
    *out = NULL;
    if (!nats_url || shards < 1 || shards > PM_SHARD_MAX || !check_prefix(prefix))
        return pm_error_set(err, PM_EINVAL, "shard client: need a NATS URL and 1..%d shards",
                            PM_SHARD_MAX);
    pm_shard_client_t *c = calloc(1, sizeof *c);
    shard_state_t *st = calloc((size_t)shards, sizeof *st);
    if (!c || !st) {
        free(c);
        free(st);
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    }
    c->st = st;
    c->shards = shards;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    snprintf(c->prefix, sizeof c->prefix, "%s", prefix ? prefix : "pm.gallery");
    int rc = connect_nats(nats_url, 1, &c->nc, err);
    natsInbox *inbox = NULL;
    natsStatus ns = NATS_OK;
    if (!rc) {
        char hello[160];
        snprintf(hello, sizeof hello, "%s.%d.hello", c->prefix, shards);
        ns = natsInbox_Create(&inbox);
        if (ns == NATS_OK)
            snprintf(c->who_inbox, sizeof c->who_inbox, "%s", (const char *)inbox);
        if (ns == NATS_OK)
            ns = natsConnection_Subscribe(&c->who_sub, c->nc, c->who_inbox, on_replica, c);
        if (ns == NATS_OK)
            ns = natsConnection_Subscribe(&c->hello_sub, c->nc, hello, on_replica, c);
        if (ns == NATS_OK) {
            pthread_mutex_lock(&c->mu);
            ask_who(c, pm_now_ns());
            pthread_mutex_unlock(&c->mu);
            ns = natsConnection_FlushTimeout(c->nc, 5000);
        }
        natsInbox_Destroy(inbox);
        if (ns != NATS_OK)
            rc = nats_err(ns, err, "shard client");
    }
    if (!rc) {
        if (pthread_create(&c->ticker, NULL, who_ticker, c) == 0)
            c->ticking = 1;
        else
            rc = pm_error_set(err, PM_ENOMEM, "shard client: no thread");
    }
    if (rc) {
        pm_shard_client_close(c);
        return rc;
    }
    *out = c;
    return PM_OK;
}

void pm_shard_client_close(pm_shard_client_t *c)
{
    if (!c)
        return;
    if (c->ticking) {
        pthread_mutex_lock(&c->mu);
        c->closing = 1;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->ticker, NULL);
    }
    drop_sub(&c->who_sub);
    drop_sub(&c->hello_sub);
    if (c->nc) {
        natsConnection_Close(c->nc);
        natsConnection_Destroy(c->nc);
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c->st);
    free(c);
}

void pm_shard_client_set_hedge(pm_shard_client_t *c, int hedge_ms)
{
    pthread_mutex_lock(&c->mu);
    c->hedge_ms = hedge_ms;
    pthread_mutex_unlock(&c->mu);
}

int pm_shard_client_replicas(pm_shard_client_t *c, int shard)
{
    if (shard < 0 || shard >= c->shards)
        return 0;
    uint64_t now = pm_now_ns();
    int n = 0;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->st[shard].nr; i++)
        n += now - c->st[shard].r[i].seen_ns < REPLICA_TTL_NS;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Best first; equal scores by subject id so the merge is deterministic. */
static int cmp_cand(const void *a, const void *b)
{
    const pm_gallery_candidate_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->subject > y->subject) - (x->subject < y->subject);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The delay after which an unanswered shard is asked again, in ns (0 = never). */
static uint64_t hedge_delay_ns(pm_shard_client_t *c, int k, int deadline_ms)
{
    if (c->hedge_ms < 0)
        return 0;
    if (c->hedge_ms > 0)
        return (uint64_t)c->hedge_ms * 1000000ULL;
    const shard_state_t *ss = &c->st[k];
    if (ss->nlat < LAT_MIN)
        return (uint64_t)deadline_ms * 500000ULL; /* half the deadline until it has figures */
    double v[LAT_RING];
    memcpy(v, ss->lat_ms, (size_t)ss->nlat * sizeof *v);
    qsort(v, (size_t)ss->nlat, sizeof *v, cmp_double);
    double p95 = v[(ss->nlat * 95 + 99) / 100 - 1];
    if (p95 < 1)
        p95 = 1;
    return (uint64_t)(p95 * 1e6);
}

/* A live replica of shard k other than `not` (round robin), or 0 (the queue
 * group). Called with c->mu held. */
static uint64_t pick_replica(pm_shard_client_t *c, int k, uint64_t not, uint64_t now)
{
    shard_state_t *ss = &c->st[k];
    for (int tries = 0; tries < ss->nr; tries++) {
        const replica_t *r = &ss->r[ss->rr++ % (unsigned)ss->nr];
        if (r->id != not && now - r->seen_ns < REPLICA_TTL_NS)
            return r->id;
    }
    return 0;
}

/* Sends req to shard k: to replica `to` directly, or to the queue group (0). */
static natsStatus send_to(pm_shard_client_t *c, int k, uint64_t to, const char *inbox,
                          const pm_buf_t *req)
{
    char subj[192];
    if (to)
        direct_of(subj, sizeof subj, c->prefix, c->shards, k, to);
    else
        subject_of(subj, sizeof subj, c->prefix, c->shards, k);
    return natsConnection_PublishRequest(c->nc, subj, inbox, req->data, (int)req->len);
}

/* The scatter-gather shared by identify and verify: req goes to every shard
 * with ask[k] set (to a live replica's own subject, round robin, or to the
 * shard's queue group when none is known); a shard still silent after the
 * hedge delay is asked again on another replica (or the queue group); the
 * first answer of each shard wins. Candidates of the shards that answered
 * go to pool; status[k] gets each shard's status (PM_ETIMEOUT if silent). */
static int scatter(pm_shard_client_t *c, const pm_buf_t *req, const uint8_t *ask, int nfingers,
                   int deadline_ms, uint64_t t0, pm_gallery_candidate_t *pool, size_t cap,
                   size_t *npool, int *status, pm_shard_answer_t *answer, pm_error_t *err)
{
    int S = c->shards, nask = 0, answered = 0, rc = PM_OK;
    uint64_t *first = calloc((size_t)S, sizeof *first), *second = calloc((size_t)S, sizeof *second);
    uint64_t *sent = calloc((size_t)S, sizeof *sent), *hedge_at = calloc((size_t)S, sizeof *hedge_at);
    uint64_t *hedge_sent = calloc((size_t)S, sizeof *hedge_sent);
    uint8_t *seen = calloc((size_t)S, 1);
    natsInbox *inbox = NULL;
    natsSubscription *sub = NULL;
    if (!first || !second || !sent || !hedge_at || !hedge_sent || !seen) {
        rc = pm_error_set(err, PM_ENOMEM, "out of memory");
        goto out;
    }
    natsStatus ns = natsInbox_Create(&inbox);
    if (ns == NATS_OK)
        ns = natsConnection_SubscribeSync(&sub, c->nc, inbox);
    uint64_t now = pm_now_ns(), end = t0 + (uint64_t)deadline_ms * 1000000ULL;
    pthread_mutex_lock(&c->mu);
    if (now - c->who_ns > WHO_EVERY_NS)
        ask_who(c, now);
    for (int k = 0; k < S; k++) {
        status[k] = PM_ETIMEOUT;
        if (!ask[k])
            continue;
        nask++;
        first[k] = pick_replica(c, k, 0, now);
        uint64_t d = hedge_delay_ns(c, k, deadline_ms);
        hedge_at[k] = d ? now + d : 0;
    }
    pthread_mutex_unlock(&c->mu);
    for (int k = 0; k < S && ns == NATS_OK; k++)
        if (ask[k]) {
            sent[k] = pm_now_ns();
            ns = send_to(c, k, first[k], (const char *)inbox, req);
        }
    if (ns != NATS_OK) {
        rc = nats_err(ns, err, "shard search");
        goto out;
    }
    while (answered < nask) {
        now = pm_now_ns();
        if (now >= end)
            break;
        uint64_t next = end;
        for (int k = 0; k < S; k++) {
            if (!ask[k] || seen[k] || !hedge_at[k] || hedge_sent[k])
                continue;
            if (now >= hedge_at[k]) {
                pthread_mutex_lock(&c->mu);
                second[k] = pick_replica(c, k, first[k], now);
                pthread_mutex_unlock(&c->mu);
                hedge_sent[k] = pm_now_ns();
                if ((ns = send_to(c, k, second[k], (const char *)inbox, req)) != NATS_OK) {
                    rc = nats_err(ns, err, "shard search");
                    goto out;
                }
                answer->hedged++;
            } else if (hedge_at[k] < next)
                next = hedge_at[k];
        }
        int64_t wait_ms = (int64_t)((next - now + 999999) / 1000000);
        natsMsg *m = NULL;
        ns = natsSubscription_NextMsg(&m, sub, wait_ms > 0 ? wait_ms : 1);
        if (ns == NATS_TIMEOUT || ns == NATS_NO_RESPONDERS)
            continue; /* a hedge is due, or the deadline passed: the loop decides */
        if (ns != NATS_OK) {
            rc = nats_err(ns, err, "shard search");
            goto out;
        }
        pm_shard_reply_t head;
        size_t before = *npool;
        int k = pm_shard_reply_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), S,
                                      nfingers, &head, pool + before, cap - before, NULL)
                    ? -1
                    : head.shard;
        if (k >= 0)
            *npool += head.n < cap - before ? head.n : cap - before;
        natsMsg_Destroy(m);
        int st = k >= 0 ? head.status : PM_OK;
        uint64_t replica = k >= 0 ? head.replica : 0, records = k >= 0 ? head.records_scanned : 0;
        double secs = k >= 0 ? head.seconds : 0;
        if (k < 0 || !ask[k] || seen[k]) {
            *npool = before; /* malformed, or a later answer of a shard: ignored */
            continue;
        }
        uint64_t got = pm_now_ns();
        seen[k] = 1;
        answered++;
        status[k] = st;
        if (st != PM_OK) {
            *npool = before; /* that shard failed: it counts as missing */
            continue;
        }
        answer->records_scanned += records;
        if (secs > answer->shard_seconds_max && secs < 1e6)
            answer->shard_seconds_max = secs;
        /* the answer's time, from the request that replica got */
        uint64_t from = hedge_sent[k] && replica == second[k] && second[k] ? hedge_sent[k] : sent[k];
        pthread_mutex_lock(&c->mu);
        shard_state_t *ss = &c->st[k];
        ss->lat_ms[ss->ilat] = (double)(got - from) / 1e6;
        ss->ilat = (ss->ilat + 1) % LAT_RING;
        if (ss->nlat < LAT_RING)
            ss->nlat++;
        pthread_mutex_unlock(&c->mu);
    }
out:
    if (sub) {
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
    }
    natsInbox_Destroy(inbox);
    free(first);
    free(second);
    free(sent);
    free(hedge_at);
    free(hedge_sent);
    free(seen);
    return rc;
}

int pm_shard_identify(pm_shard_client_t *c, const pm_gallery_finger_t *fingers, int nfingers,
                      const pm_gallery_search_options_t *options, int deadline_ms,
                      pm_gallery_candidate_t *out, size_t *out_n, pm_shard_answer_t *answer,
                      pm_error_t *err)
{
    uint64_t t0 = pm_now_ns();
    *out_n = 0;
    memset(answer, 0, sizeof *answer);
    answer->shards = c->shards;
    pm_gallery_search_options_t o;
    memset(&o, 0, sizeof o);
    if (options)
        o = *options;
    if (o.max_candidates == 0)
        o.max_candidates = 10;
    if (!fingers || nfingers < 1 || nfingers > PM_GALLERY_MAX_FINGERS || deadline_ms < 1 ||
        o.max_candidates < 1 || o.max_candidates > PM_GALLERY_MAX_CANDIDATES)
        return pm_error_set(err, PM_EINVAL, "shard identify: 1..%d fingers, a deadline and "
                                            "1..%d candidates",
                            PM_GALLERY_MAX_FINGERS, PM_GALLERY_MAX_CANDIDATES);
    if (o.target_fpir > 0 || o.subset)
        return pm_error_set(err, PM_EUNSUPPORTED,
                            "shard identify: target_fpir and subsets need the whole gallery; "
                            "give a threshold");
    /* a fused calibration stays here: the shards search on the raw fused
     * score with the threshold translated, their candidates are mapped back */
    const pm_gallery_calibration_t *fcal = nfingers > 1 ? o.fused_calibration : NULL;
    double threshold = o.threshold;
    if (fcal) {
        /* the round trip score -> raw -> score is exact only to an ulp or two:
         * the shards get a raw threshold a hair low, and the calibrated
         * threshold is applied again below, so a candidate exactly at it is
         * kept as the unsharded search keeps it (test_shard fused_calibrated) */
        double raw = pm_gallery_fused_raw(fcal, threshold);
        o.threshold = raw - 1e-9 * fmax(1.0, fabs(raw));
    }
    pm_buf_t req;
    pm_buf_init(&req, REQ_MAX);
    int rc = pm_shard_request_encode(0, 0, fingers, nfingers, &o, &req, err);
    size_t cap = (size_t)c->shards * (size_t)o.max_candidates, npool = 0;
    pm_gallery_candidate_t *pool = rc ? NULL : calloc(cap, sizeof *pool);
    int *status = rc ? NULL : calloc((size_t)c->shards, sizeof *status);
    uint8_t ask[PM_SHARD_MAX];
    memset(ask, 1, sizeof ask);
    if (!rc && (!pool || !status))
        rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    if (!rc)
        rc = scatter(c, &req, ask, nfingers, deadline_ms, t0, pool, cap, &npool, status, answer,
                     err);
    if (!rc) {
        for (int k = 0; k < c->shards; k++) {
            answer->missing[k] = status[k] != PM_OK;
            answer->replied += status[k] == PM_OK;
        }
        answer->partial = answer->replied < c->shards;
        qsort(pool, npool, sizeof *pool, cmp_cand);
        size_t kept = 0;
        for (size_t i = 0; i < npool; i++) {
            pool[i].fused_raw = pool[i].score;
            pool[i].score = pm_gallery_fused_score(fcal, pool[i].score);
            if (!fcal || pool[i].score >= threshold)
                pool[kept++] = pool[i];
        }
        npool = kept;
        size_t n = npool < (size_t)o.max_candidates ? npool : (size_t)o.max_candidates;
        memcpy(out, pool, n * sizeof *out);
        *out_n = n;
    }
    pm_buf_free(&req);
    free(pool);
    free(status);
    answer->seconds = (double)(pm_now_ns() - t0) / 1e9;
    return rc;
}

int pm_shard_verify(pm_shard_client_t *c, uint64_t subject, const pm_gallery_finger_t *fingers,
                    int nfingers, int deadline_ms, pm_gallery_candidate_t *out, pm_error_t *err)
{
    uint64_t t0 = pm_now_ns();
    if (!fingers || nfingers < 1 || nfingers > PM_GALLERY_MAX_FINGERS || deadline_ms < 1 || !out)
        return pm_error_set(err, PM_EINVAL, "shard verify: 1..%d fingers and a deadline",
                            PM_GALLERY_MAX_FINGERS);
    pm_gallery_search_options_t o;
    memset(&o, 0, sizeof o);
    o.max_candidates = 1;
    pm_buf_t req;
    pm_buf_init(&req, REQ_MAX);
    int rc = pm_shard_request_encode(1, subject, fingers, nfingers, &o, &req, err);
    int k = pm_shard_of(subject, c->shards);
    uint8_t ask[PM_SHARD_MAX] = {0};
    ask[k] = 1;
    int *status = calloc((size_t)c->shards, sizeof *status);
    pm_gallery_candidate_t got;
    size_t n = 0;
    pm_shard_answer_t a;
    memset(&a, 0, sizeof a);
    if (!rc && !status)
        rc = pm_error_set(err, PM_ENOMEM, "out of memory");
    if (!rc)
        rc = scatter(c, &req, ask, nfingers, deadline_ms, t0, &got, 1, &n, status, &a, err);
    if (!rc && status[k] == PM_ETIMEOUT)
        rc = pm_error_set(err, PM_ETIMEOUT, "shard %d of %d did not answer within %d ms", k,
                          c->shards, deadline_ms);
    else if (!rc && status[k] == PM_ENOTFOUND)
        rc = pm_error_set(err, PM_ENOTFOUND, "subject %" PRIu64 " is not enrolled", subject);
    else if (!rc && status[k] != PM_OK)
        rc = pm_error_set(err, status[k], "shard %d: %s", k, pm_strerror(status[k]));
    else if (!rc && n != 1)
        rc = pm_error_set(err, PM_EFORMAT, "shard %d: verify answer without a score", k);
    if (!rc)
        *out = got;
    pm_buf_free(&req);
    free(status);
    return rc;
}

int pm_shard_client_enrol(pm_shard_client_t *c, uint64_t subject, uint32_t encounter,
                          int position, const pm_fingerprint_t *fp, int timeout_ms,
                          pm_error_t *err)
{
    if (!fp || position < 0 || position > 10 || timeout_ms < 1)
        return pm_error_set(err, PM_EINVAL, "shard enrol: bad argument");
    pm_buf_t req, t;
    pm_buf_init(&req, REQ_MAX);
    pm_buf_init(&t, REQ_MAX);
    int rc = pm_tmpl_write(PM_TMPL_NATIVE, fp, 1, &t, err);
    pm_shard_enrol_msg_t em = {subject, encounter, position, t.data, t.len};
    rc = rc ? rc : pm_shard_enrol_encode(&em, &req);
    pm_buf_free(&t);
    if (rc) {
        pm_buf_free(&req);
        return err && err->code ? err->code : pm_error_set(err, rc, "shard enrol: request");
    }
    int k = pm_shard_of(subject, c->shards);
    natsInbox *inbox = NULL;
    natsSubscription *sub = NULL;
    char subj[128];
    snprintf(subj, sizeof subj, "%s.enrol", c->prefix);
    natsStatus ns = natsInbox_Create(&inbox);
    if (ns == NATS_OK)
        ns = natsConnection_SubscribeSync(&sub, c->nc, inbox);
    if (ns == NATS_OK)
        ns = natsConnection_PublishRequest(c->nc, subj, inbox, req.data, (int)req.len);
    pm_buf_free(&req);
    uint64_t end = pm_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
    rc = PM_ETIMEOUT;
    while (ns == NATS_OK && rc == PM_ETIMEOUT) {
        uint64_t now = pm_now_ns();
        if (now >= end)
            break;
        natsMsg *m = NULL;
        ns = natsSubscription_NextMsg(&m, sub, (int64_t)((end - now + 999999) / 1000000));
        if (ns == NATS_TIMEOUT)
            break;
        if (ns != NATS_OK)
            break;
        pm_shard_ack_t ack;
        /* a server of another layout (growing S) also keeps it: not the ack we wait for */
        int ours = !pm_shard_ack_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &ack,
                                        NULL) &&
                   ack.shards == (uint32_t)c->shards && ack.shard == (uint32_t)k;
        natsMsg_Destroy(m);
        if (ours)
            rc = ack.status;
    }
    if (ns != NATS_OK && ns != NATS_TIMEOUT)
        rc = nats_err(ns, err, "shard enrol");
    else if (rc == PM_ETIMEOUT)
        pm_error_set(err, PM_ETIMEOUT, "no replica of shard %d of %d acknowledged within %d ms",
                     k, c->shards, timeout_ms);
    else if (rc != PM_OK)
        pm_error_set(err, rc, "shard %d of %d refused the enrolment: %s", k, c->shards,
                     pm_strerror(rc));
    if (sub) {
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
    }
    natsInbox_Destroy(inbox);
    return rc;
}
