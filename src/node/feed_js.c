/* The partner feed over JetStream, an option beside the HTTPS feed (whose
 * API stays the contract; docs/node.md "The feed on JetStream").
 *
 * Each agency runs its own nats-server with JetStream; a leaf node
 * connection with mutual TLS links the two servers' exchange accounts (an
 * account holding nothing but the feed streams, so whatever the partner can
 * reach through the leaf connection - including a consumer naming any
 * delivery subject - reaches only the feed). The node connects to its own
 * server as a user of that account:
 *
 * - sending: our exported entries (the same export, policy checks and
 *   disclosure-log entries as the HTTPS push, feed.c) are published one
 *   record per message to the subject pm.feed.<us>.<partner>, captured by
 *   our stream PMFEED_<us>_<partner>, with Nats-Msg-Id "<us>:<record_id>" so
 *   a batch re-published after a crash is dropped by the stream's duplicate
 *   window; the cursor (feed_push.acked) moves only after every message of
 *   the batch was acknowledged by the stream;
 * - receiving: our stream PMFEED_IN_<partner> sources the partner's
 *   PMFEED_<partner>_<us> through the JetStream API of its domain
 *   ($JS.<domain>.API, across the leaf connection); the node pulls from a
 *   durable consumer on it, imports the records with the partner mirror
 *   (idempotent on reporting country + record id, cursor in the same
 *   transaction) and acknowledges the batch only after the commit. A crash
 *   between commit and acknowledgement redelivers the batch, which the
 *   importer stores as duplicates (nothing twice).
 *
 * One pm__jsfeed_t per partner, used by the feed job's thread only. */
#include <jansson.h>
#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"

#define DUP_WINDOW_NS (3600LL * 1000000000LL) /* re-publish after a crash: dropped within 1 h */
#define ACK_WAIT_NS (60LL * 1000000000LL)
#define API_WAIT_MS 5000

struct pm__jsfeed {
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub; /* receive: bound to the durable consumer */
    natsMsgList batch;     /* messages fetched and not yet acknowledged */
    char out_stream[32], out_subject[40], in_stream[32], src_stream[32], src_subject[40];
    char api[48], deliver[48];
    char prefix[8];        /* "<us>:" of every Nats-Msg-Id */
    atomic_int pub_errors;
    char first_error[200]; /* first asynchronous publish error of a batch (guarded by pub_errors) */
};

static int nerr(pm_error_t *err, natsStatus s, jsErrCode je, const char *what)
{
    if (je)
        return pm_error_set(err, PM_ENET, "jetstream: %s: %s (JetStream error %d)", what,
                            natsStatus_GetText(s), (int)je);
    const char *last = nats_GetLastError(NULL);
    return pm_error_set(err, s == NATS_TIMEOUT ? PM_ETIMEOUT : PM_ENET, "jetstream: %s: %s%s%s",
                        what, natsStatus_GetText(s), last && *last ? ": " : "",
                        last ? last : "");
}

static void on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    pm__jsfeed_t *f = closure;
    if (atomic_fetch_add(&f->pub_errors, 1) == 0)
        snprintf(f->first_error, sizeof f->first_error, "%s (JetStream error %d)",
                 pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err), (int)pae->ErrCode);
}

/* Creates the stream if it does not exist (its configuration is fixed by
 * this file; an existing one is left as it is). */
static int ensure_stream(pm__jsfeed_t *f, jsStreamConfig *sc, pm_error_t *err)
{
    jsStreamInfo *si = NULL;
    jsErrCode je = 0;
    natsStatus s = js_GetStreamInfo(&si, f->js, sc->Name, NULL, &je);
    if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return PM_OK;
    }
    if (s != NATS_NOT_FOUND)
        return nerr(err, s, je, "stream info");
    je = 0;
    s = js_AddStream(&si, f->js, sc, NULL, &je);
    if (s != NATS_OK)
        return nerr(err, s, je, "add stream");
    jsStreamInfo_Destroy(si);
    return PM_OK;
}

static int setup_send(pm__jsfeed_t *f, pm_error_t *err)
{
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    const char *subj[1] = {f->out_subject};
    sc.Name = f->out_stream;
    sc.Subjects = subj;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Retention = js_LimitsPolicy;
    sc.Duplicates = DUP_WINDOW_NS;
    sc.DenyDelete = true;
    return ensure_stream(f, &sc, err);
}

static int setup_receive(pm__jsfeed_t *f, pm_error_t *err)
{
    jsExternalStream ext;
    jsExternalStream_Init(&ext);
    ext.APIPrefix = f->api;
    ext.DeliverPrefix = f->deliver;
    jsStreamSource src;
    jsStreamSource_Init(&src);
    src.Name = f->src_stream;
    src.External = &ext;
    jsStreamSource *srcs[1] = {&src};
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = f->in_stream;
    sc.Sources = srcs;
    sc.SourcesLen = 1;
    sc.Storage = js_FileStorage;
    sc.Retention = js_LimitsPolicy;
    sc.Duplicates = DUP_WINDOW_NS;
    int rc = ensure_stream(f, &sc, err);
    if (rc)
        return rc;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = f->in_stream;
    so.Config.AckPolicy = js_AckAll;
    so.Config.AckWait = ACK_WAIT_NS;
    so.Config.DeliverPolicy = js_DeliverAll;
    so.Config.MaxAckPending = 100000;
    jsErrCode je = 0;
    /* sourced messages keep the partner's subject: the consumer filters on it */
    natsStatus s = js_PullSubscribe(&f->sub, f->js, f->src_subject, "node", NULL, &so, &je);
    if (s != NATS_OK)
        return nerr(err, s, je, "pull subscription");
    return PM_OK;
}

int pm__jsfeed_open(const char *ours, const pm_node_partner_t *p, pm__jsfeed_t **out,
                    pm_error_t *err)
{
    *out = NULL;
    pm__jsfeed_t *f = calloc(1, sizeof *f);
    if (!f)
        return pm_error_set(err, PM_ENOMEM, "jetstream: out of memory");
    snprintf(f->out_stream, sizeof f->out_stream, "PMFEED_%s_%s", ours, p->code);
    snprintf(f->out_subject, sizeof f->out_subject, "pm.feed.%s.%s", ours, p->code);
    snprintf(f->in_stream, sizeof f->in_stream, "PMFEED_IN_%s", p->code);
    snprintf(f->src_stream, sizeof f->src_stream, "PMFEED_%s_%s", p->code, ours);
    snprintf(f->src_subject, sizeof f->src_subject, "pm.feed.%s.%s", p->code, ours);
    snprintf(f->api, sizeof f->api, "$JS.%s.API", p->js_domain);
    snprintf(f->deliver, sizeof f->deliver, "pm.feed.deliver.%s.%s", p->code, ours);
    snprintf(f->prefix, sizeof f->prefix, "%s:", ours);
    natsOptions *o = NULL;
    char name[32];
    snprintf(name, sizeof name, "perimeter-node-%s", ours);
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetURL(o, p->js_url);
    if (s == NATS_OK)
        s = natsOptions_SetName(o, name);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(o, 5000);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o, -1); /* our own server: keep trying */
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(o, 250);
    if (s == NATS_OK) /* no buffering while disconnected: a publish then fails at once and the
                         batch is sent again from our cursor after the backoff */
        s = natsOptions_SetReconnectBufSize(o, 0);
    if (s == NATS_OK)
        s = natsConnection_Connect(&f->nc, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK) {
        pm_error_set(err, PM_ENET, "jetstream: cannot connect to our nats-server: %s",
                     natsStatus_GetText(s));
        free(f);
        return PM_ENET;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = API_WAIT_MS;
    jo.PublishAsync.ErrHandler = on_pub_error;
    jo.PublishAsync.ErrHandlerClosure = f;
    jo.PublishAsync.MaxPending = 4096;
    s = natsConnection_JetStream(&f->js, f->nc, &jo);
    int rc = s == NATS_OK ? PM_OK : nerr(err, s, 0, "context");
    if (!rc && p->js_send)
        rc = setup_send(f, err);
    if (!rc && p->js_receive)
        rc = setup_receive(f, err);
    if (rc) {
        pm__jsfeed_close(f);
        return rc;
    }
    *out = f;
    return PM_OK;
}

void pm__jsfeed_close(pm__jsfeed_t *f)
{
    if (!f)
        return;
    if (f->batch.Msgs)
        natsMsgList_Destroy(&f->batch);
    natsSubscription_Destroy(f->sub);
    jsCtx_Destroy(f->js);
    natsConnection_Destroy(f->nc);
    free(f);
}

/* The record id of one exported line, for the message id. */
static int line_record_id(const char *line, size_t len, char *out, size_t cap)
{
    json_t *o = json_loadb(line, len, 0, NULL);
    const char *id = o ? json_string_value(json_object_get(o, "record_id")) : NULL;
    int ok = id && strlen(id) < cap;
    if (ok)
        memcpy(out, id, strlen(id) + 1);
    json_decref(o);
    return ok;
}

int pm__jsfeed_publish(pm__jsfeed_t *f, const char *agreement_hash, const pm_buf_t *jsonl,
                       pm_error_t *err)
{
    atomic_store(&f->pub_errors, 0);
    f->first_error[0] = '\0';
    const char *d = (const char *)jsonl->data, *end = d + jsonl->len;
    int rc = PM_OK;
    natsStatus s = NATS_OK;
    while (d < end && !rc) {
        const char *nl = memchr(d, '\n', (size_t)(end - d));
        size_t len = nl ? (size_t)(nl - d) : (size_t)(end - d);
        char id[160];
        memcpy(id, f->prefix, strlen(f->prefix) + 1);
        size_t pl = strlen(id);
        if (!line_record_id(d, len, id + pl, sizeof id - pl)) {
            rc = pm_error_set(err, PM_EINTERNAL, "jetstream: an exported line has no record_id");
            break;
        }
        natsMsg *m = NULL;
        s = natsMsg_Create(&m, f->out_subject, NULL, d, (int)len);
        if (s == NATS_OK)
            s = natsMsgHeader_Set(m, "Perimeter-Agreement", agreement_hash);
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = id;
        /* no ExpectStream: its header stays on the stored message and the
         * partner's sourcing stream (another name) would refuse it */
        if (s == NATS_OK)
            s = js_PublishMsgAsync(f->js, &m, &po);
        natsMsg_Destroy(m); /* NULL once the library owns it */
        if (s != NATS_OK)
            rc = nerr(err, s, 0, "publish");
        d = nl ? nl + 1 : end;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = API_WAIT_MS * 2;
    s = js_PublishAsyncComplete(f->js, &po);
    if (s != NATS_OK) {
        /* unacknowledged ones: dropped here, the whole batch is sent again
         * (the stream's duplicate window keeps what did arrive once) */
        natsMsgList pending = {NULL, 0};
        if (js_PublishAsyncGetPendingList(&pending, f->js) == NATS_OK)
            natsMsgList_Destroy(&pending);
        if (!rc)
            rc = nerr(err, s, 0, "waiting for the stream's acknowledgements");
    }
    if (!rc && atomic_load(&f->pub_errors))
        rc = pm_error_set(err, PM_ENET, "jetstream: %d messages refused by the stream: %s",
                          atomic_load(&f->pub_errors), f->first_error);
    return rc;
}

int pm__jsfeed_take(const char *h, const void *payload, size_t len, const char *agreement_hash,
                    pm_buf_t *out, pm_error_t *err)
{
    if (!h || strcmp(h, agreement_hash) != 0)
        return pm_error_set(err, PM_EDENIED,
                            "jetstream: a feed message runs agreement %.16s..., we run %.16s...",
                            h ? h : "(none)", agreement_hash);
    if (!payload || len == 0 || len > PM_CROSSING_LINE_MAX || memchr(payload, '\n', len) ||
        memchr(payload, '\0', len))
        return pm_error_set(err, PM_EFORMAT,
                            "jetstream: a feed message is not one JSON line of 1..%d bytes "
                            "(%zu bytes)",
                            PM_CROSSING_LINE_MAX, len);
    int rc = pm_buf_append(out, payload, len);
    if (!rc)
        rc = pm_buf_append(out, "\n", 1);
    if (rc)
        return pm_error_set(err, rc, "jetstream: batch buffer: %s", pm_strerror(rc));
    return PM_OK;
}

int pm__jsfeed_fetch(pm__jsfeed_t *f, int batch, int timeout_ms, const char *agreement_hash,
                     pm_buf_t *out, size_t *out_msgs, pm_error_t *err)
{
    *out_msgs = 0;
    if (f->batch.Msgs)
        natsMsgList_Destroy(&f->batch);
    memset(&f->batch, 0, sizeof f->batch);
    jsErrCode je = 0;
    natsStatus s = natsSubscription_Fetch(&f->batch, f->sub, batch, timeout_ms, &je);
    if (s == NATS_TIMEOUT)
        return PM_OK; /* nothing waiting */
    if (s != NATS_OK)
        return nerr(err, s, je, "fetch");
    for (int i = 0; i < f->batch.Count; i++) {
        natsMsg *m = f->batch.Msgs[i];
        const char *h = NULL;
        if (natsMsgHeader_Get(m, "Perimeter-Agreement", &h) != NATS_OK)
            h = NULL;
        int rc = pm__jsfeed_take(h, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
                                 agreement_hash, out, err);
        if (rc)
            return rc;
    }
    *out_msgs = (size_t)f->batch.Count;
    return PM_OK;
}

int pm__jsfeed_ack(pm__jsfeed_t *f, pm_error_t *err)
{
    if (!f->batch.Count)
        return PM_OK;
    /* AckAll: the last message acknowledges the batch */
    jsErrCode je = 0;
    natsStatus s = natsMsg_AckSync(f->batch.Msgs[f->batch.Count - 1], NULL, &je);
    natsMsgList_Destroy(&f->batch);
    memset(&f->batch, 0, sizeof f->batch);
    return s == NATS_OK ? PM_OK : nerr(err, s, je, "acknowledge");
}

int pm__jsfeed_count(pm__jsfeed_t *f, int incoming, uint64_t *out_msgs, pm_error_t *err)
{
    jsStreamInfo *si = NULL;
    jsErrCode je = 0;
    natsStatus s =
        js_GetStreamInfo(&si, f->js, incoming ? f->in_stream : f->out_stream, NULL, &je);
    if (s != NATS_OK)
        return nerr(err, s, je, "stream info");
    *out_msgs = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return PM_OK;
}
