/* The sharded gallery over NATS: stable routing, the shard server and the
 * coordinator's scatter-gather with a deadline. Uses only the gallery's and
 * the template module's public APIs. Wire format (little-endian, bounded):
 *   request: "PMS1", u32 max_candidates, f64 threshold, u8 first_stage,
 *            f64 keep_fraction, i32 keep_min, u8 nfingers,
 *            nfingers x (u8 position, u32 len, native template of len bytes)
 *   reply:   "PMR1", u32 shard, i32 status, u32 n, u8 nfingers,
 *            n x (u64 subject, f64 score, u32 encounter, nfingers x f64) */
#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* --- server -------------------------------------------------------------- */

struct pm_shard_server {
    pm_gallery_t *g;
    natsConnection *nc;
    natsSubscription *sub;
    int shard;
    atomic_uint_fast64_t served;
};

static int nats_err(natsStatus s, pm_error_t *err, const char *what)
{
    return pm_error_set(err, PM_ENET, "%s: %s", what, natsStatus_GetText(s));
}

/* Answers one request: identify on this shard's gallery, reply with the
 * candidates (or the error code). */
static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    pm_shard_server_t *s = closure;
    const char *reply = natsMsg_GetReply(msg);
    rd_t r = {(const uint8_t *)natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), 0, 0};
    pm_gallery_search_options_t o;
    memset(&o, 0, sizeof o);
    pm_gallery_finger_t fingers[PM_GALLERY_MAX_FINGERS];
    pm_fingerprint_t *views[PM_GALLERY_MAX_FINGERS] = {0};
    int nf = 0, status = PM_OK;
    pm_gallery_candidate_t *cand = NULL;
    size_t ncand = 0;
    pm_error_t err;
    pm_error_clear(&err);
    const uint8_t *magic = take(&r, 4);
    if (!magic || memcmp(magic, "PMS1", 4) != 0)
        r.bad = 1;
    uint32_t maxc = get_u32(&r);
    o.threshold = get_f64(&r);
    o.first_stage = get_u8(&r);
    o.keep_fraction = get_f64(&r);
    o.keep_min = (int)get_u32(&r);
    int want = get_u8(&r);
    if (r.bad || maxc < 1 || maxc > PM_GALLERY_MAX_CANDIDATES || want < 1 ||
        want > PM_GALLERY_MAX_FINGERS)
        status = PM_EFORMAT;
    o.max_candidates = (int)maxc;
    for (int i = 0; i < want && status == PM_OK; i++) {
        int pos = get_u8(&r);
        uint32_t len = get_u32(&r);
        const uint8_t *t = take(&r, len);
        size_t count = 0;
        if (!t || pos > 10 ||
            pm_tmpl_read(t, len, PM_TMPL_NATIVE, &views[i], &count, NULL, &err) != PM_OK ||
            count != 1) {
            status = PM_EFORMAT;
            break;
        }
        fingers[i].position = pos;
        fingers[i].fp = views[i];
        nf = i + 1;
    }
    if (status == PM_OK) {
        cand = calloc(maxc, sizeof *cand);
        status = cand ? pm_gallery_identify(s->g, fingers, nf, &o, cand, &ncand, NULL, &err)
                      : PM_ENOMEM;
    }
    if (status != PM_OK)
        ncand = 0;
    pm_buf_t b;
    pm_buf_init(&b, REQ_MAX);
    int rc = pm_buf_append(&b, "PMR1", 4);
    rc = rc ? rc : put_u32(&b, (uint32_t)s->shard);
    rc = rc ? rc : put_u32(&b, (uint32_t)status);
    rc = rc ? rc : put_u32(&b, (uint32_t)ncand);
    rc = rc ? rc : pm_buf_append(&b, &(uint8_t){(uint8_t)nf}, 1);
    for (size_t i = 0; i < ncand && !rc; i++) {
        rc = put_u64(&b, cand[i].subject);
        rc = rc ? rc : put_f64(&b, cand[i].score);
        rc = rc ? rc : put_u32(&b, cand[i].encounter);
        for (int f = 0; f < nf && !rc; f++)
            rc = put_f64(&b, cand[i].finger_score[f]);
    }
    atomic_fetch_add(&s->served, 1); /* before the reply: a caller that has it sees the count */
    if (!rc && reply)
        natsConnection_Publish(nc, reply, b.data, (int)b.len);
    pm_buf_free(&b);
    free(cand);
    for (int i = 0; i < PM_GALLERY_MAX_FINGERS; i++)
        free(views[i]);
    natsMsg_Destroy(msg);
}

static int connect_nats(const char *url, int send_asap, natsConnection **out, pm_error_t *err)
{
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetURL(o, url);
    if (s == NATS_OK)
        s = natsOptions_SetSendAsap(o, send_asap ? true : false);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(o, 5000);
    if (s == NATS_OK)
        s = natsConnection_Connect(out, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK)
        return nats_err(s, err, url);
    return PM_OK;
}

static void subject_of(char *out, size_t cap, const char *prefix, int shards, int shard)
{
    snprintf(out, cap, "%s.%d.%d", prefix ? prefix : "pm.gallery", shards, shard);
}

int pm_shard_server_start(pm_gallery_t *g, const pm_shard_server_options_t *o,
                          pm_shard_server_t **out, pm_error_t *err)
{
    *out = NULL;
    if (!g || !o || !o->nats_url || o->shards < 1 || o->shards > PM_SHARD_MAX || o->shard < 0 ||
        o->shard >= o->shards)
        return pm_error_set(err, PM_EINVAL, "shard server: need a gallery, a NATS URL and K/S "
                                            "with 0 <= K < S <= %d",
                            PM_SHARD_MAX);
    if (o->prefix && (!o->prefix[0] || strlen(o->prefix) > 100))
        return pm_error_set(err, PM_EINVAL, "shard server: bad subject prefix");
    pm_shard_server_t *s = calloc(1, sizeof *s);
    if (!s)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    s->g = g;
    s->shard = o->shard;
    atomic_init(&s->served, 0);
    int rc = connect_nats(o->nats_url, 1, &s->nc, err);
    if (rc) {
        free(s);
        return rc;
    }
    char subj[160];
    subject_of(subj, sizeof subj, o->prefix, o->shards, o->shard);
    natsStatus ns = natsConnection_QueueSubscribe(&s->sub, s->nc, subj, subj, on_request, s);
    if (ns == NATS_OK)
        ns = natsConnection_FlushTimeout(s->nc, 5000); /* subscribed before we return */
    if (ns != NATS_OK) {
        rc = nats_err(ns, err, subj);
        pm_shard_server_stop(s);
        return rc;
    }
    *out = s;
    return PM_OK;
}

void pm_shard_server_stop(pm_shard_server_t *s)
{
    if (!s)
        return;
    if (s->sub) {
        natsSubscription_Unsubscribe(s->sub);
        /* a PING/PONG round trip: the server has taken the UNSUB before we
         * return, so a request sent after the stop goes to a live replica */
        if (s->nc) natsConnection_FlushTimeout(s->nc, 2000);
        natsSubscription_Destroy(s->sub);
    }
    if (s->nc) {
        natsConnection_Close(s->nc);
        natsConnection_Destroy(s->nc);
    }
    free(s);
}

uint64_t pm_shard_server_served(pm_shard_server_t *s)
{
    return (uint64_t)atomic_load(&s->served);
}

/* --- coordinator --------------------------------------------------------- */

struct pm_shard_client {
    natsConnection *nc;
    int shards;
    char prefix[104];
};

int pm_shard_client_open(const char *nats_url, int shards, const char *prefix,
                         pm_shard_client_t **out, pm_error_t *err)
{
    *out = NULL;
    if (!nats_url || shards < 1 || shards > PM_SHARD_MAX ||
        (prefix && (!prefix[0] || strlen(prefix) > 100)))
        return pm_error_set(err, PM_EINVAL, "shard client: need a NATS URL and 1..%d shards",
                            PM_SHARD_MAX);
    pm_shard_client_t *c = calloc(1, sizeof *c);
    if (!c)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    c->shards = shards;
    snprintf(c->prefix, sizeof c->prefix, "%s", prefix ? prefix : "pm.gallery");
    int rc = connect_nats(nats_url, 1, &c->nc, err);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return PM_OK;
}

void pm_shard_client_close(pm_shard_client_t *c)
{
    if (!c)
        return;
    natsConnection_Close(c->nc);
    natsConnection_Destroy(c->nc);
    free(c);
}

/* Best first; equal scores by subject id so the merge is deterministic. */
static int cmp_cand(const void *a, const void *b)
{
    const pm_gallery_candidate_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->subject > y->subject) - (x->subject < y->subject);
}

/* Reads one reply into the merge pool; returns the shard or -1 if malformed. */
static int take_reply(const natsMsg *m, int shards, int nfingers, pm_gallery_candidate_t *pool,
                      size_t cap, size_t *npool, int *out_status)
{
    rd_t r = {(const uint8_t *)natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, 0};
    const uint8_t *magic = take(&r, 4);
    if (!magic || memcmp(magic, "PMR1", 4) != 0)
        return -1;
    uint32_t shard = get_u32(&r);
    int status = (int)get_u32(&r);
    uint32_t n = get_u32(&r);
    int nf = get_u8(&r);
    if (r.bad || shard >= (uint32_t)shards || nf != (status == PM_OK ? nfingers : nf) ||
        nf > PM_GALLERY_MAX_FINGERS || n > PM_GALLERY_MAX_CANDIDATES)
        return -1;
    *out_status = status;
    for (uint32_t i = 0; i < n; i++) {
        pm_gallery_candidate_t c;
        memset(&c, 0, sizeof c);
        c.subject = get_u64(&r);
        c.score = get_f64(&r);
        c.encounter = get_u32(&r);
        for (int f = 0; f < nf; f++)
            c.finger_score[f] = get_f64(&r);
        if (r.bad)
            return -1;
        if (*npool < cap)
            pool[(*npool)++] = c;
    }
    return (int)shard;
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
    pm_buf_t req;
    pm_buf_init(&req, REQ_MAX);
    int rc = pm_buf_append(&req, "PMS1", 4);
    rc = rc ? rc : put_u32(&req, (uint32_t)o.max_candidates);
    rc = rc ? rc : put_f64(&req, o.threshold);
    rc = rc ? rc : pm_buf_append(&req, &(uint8_t){(uint8_t)(o.first_stage ? 1 : 0)}, 1);
    rc = rc ? rc : put_f64(&req, o.keep_fraction);
    rc = rc ? rc : put_u32(&req, (uint32_t)o.keep_min);
    rc = rc ? rc : pm_buf_append(&req, &(uint8_t){(uint8_t)nfingers}, 1);
    pm_buf_t t;
    pm_buf_init(&t, REQ_MAX);
    for (int i = 0; i < nfingers && !rc; i++) {
        if (!fingers[i].fp || fingers[i].position < 0 || fingers[i].position > 10) {
            rc = pm_error_set(err, PM_EINVAL, "shard identify: finger %d", i);
            break;
        }
        pm_buf_reset(&t);
        if ((rc = pm_tmpl_write(PM_TMPL_NATIVE, fingers[i].fp, 1, &t, err)))
            break;
        rc = pm_buf_append(&req, &(uint8_t){(uint8_t)fingers[i].position}, 1);
        rc = rc ? rc : put_u32(&req, (uint32_t)t.len);
        rc = rc ? rc : pm_buf_append(&req, t.data, t.len);
    }
    pm_buf_free(&t);
    if (rc) {
        pm_buf_free(&req);
        return err && err->code ? err->code : pm_error_set(err, rc, "shard identify: request");
    }
    /* One inbox for this search: every shard's reply comes back to it. */
    natsInbox *inbox = NULL;
    natsSubscription *sub = NULL;
    natsStatus ns = natsInbox_Create(&inbox);
    if (ns == NATS_OK)
        ns = natsConnection_SubscribeSync(&sub, c->nc, inbox);
    for (int k = 0; k < c->shards && ns == NATS_OK; k++) {
        char subj[160];
        subject_of(subj, sizeof subj, c->prefix, c->shards, k);
        ns = natsConnection_PublishRequest(c->nc, subj, inbox, req.data, (int)req.len);
    }
    pm_buf_free(&req);
    size_t cap = (size_t)c->shards * (size_t)o.max_candidates;
    pm_gallery_candidate_t *pool = ns == NATS_OK ? calloc(cap, sizeof *pool) : NULL;
    if (ns != NATS_OK || !pool) {
        rc = ns != NATS_OK ? nats_err(ns, err, "shard identify")
                           : pm_error_set(err, PM_ENOMEM, "out of memory");
        goto out;
    }
    uint8_t seen[PM_SHARD_MAX] = {0}, ok[PM_SHARD_MAX] = {0};
    size_t npool = 0;
    uint64_t end = t0 + (uint64_t)deadline_ms * 1000000ULL;
    int answered = 0;
    while (answered < c->shards) {
        uint64_t now = pm_now_ns();
        if (now >= end)
            break;
        int64_t left_ms = (int64_t)((end - now + 999999) / 1000000);
        natsMsg *m = NULL;
        ns = natsSubscription_NextMsg(&m, sub, left_ms);
        if (ns == NATS_TIMEOUT)
            break;
        if (ns == NATS_NO_RESPONDERS)
            continue; /* a shard with no server at all: it stays missing */
        if (ns != NATS_OK) {
            rc = nats_err(ns, err, "shard identify");
            goto out;
        }
        int status = PM_OK;
        size_t before = npool;
        int k = take_reply(m, c->shards, nfingers, pool, cap, &npool, &status);
        natsMsg_Destroy(m);
        if (k < 0 || seen[k]) {
            npool = before; /* malformed, or a second reply for that shard: ignored */
            continue;
        }
        seen[k] = 1;
        answered++;
        if (status != PM_OK) {
            npool = before; /* that shard failed: it counts as missing */
            continue;
        }
        ok[k] = 1;
        answer->replied++;
    }
    for (int k = 0; k < c->shards; k++)
        answer->missing[k] = !ok[k];
    answer->partial = answer->replied < c->shards;
    qsort(pool, npool, sizeof *pool, cmp_cand);
    size_t n = npool < (size_t)o.max_candidates ? npool : (size_t)o.max_candidates;
    memcpy(out, pool, n * sizeof *out);
    *out_n = n;
    rc = PM_OK;
out:
    free(pool);
    if (sub) {
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
    }
    natsInbox_Destroy(inbox);
    answer->seconds = (double)(pm_now_ns() - t0) / 1e9;
    return rc;
}
