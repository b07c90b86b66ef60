/* Perimeter shard module: the 1:N gallery split over processes and machines,
 * NATS request/reply between a coordinator and the shards (docs/scale.md).
 *
 * A shard server holds one shard's gallery (a pm_gallery_t built by the
 * caller through the gallery's public API) and answers search requests on
 * the subject "<prefix>.<S>.<K>" in the queue group of the same name, so
 * replicas of a shard share the work and one may die without errors. The
 * coordinator (pm_shard_identify) sends one request per shard, waits for the
 * replies until a deadline, merges the top-k and says which shards did not
 * answer (a partial answer) instead of hanging: NATS itself does not notice
 * a hung (not dead) replica.
 *
 * Hedged requests: each replica also answers on its own subject and
 * announces itself; the coordinator sends a shard's request to one live
 * replica and, if it has not answered within the hedge delay (by default
 * the p95 of that shard's recent answers), to another one; the first
 * answer wins, so a hung replica costs at most the hedge delay.
 *
 * Subjects are routed to shards by a stable hash (pm_shard_of). New
 * enrolments reach the shard servers through pm_shard_client_enrol. A
 * server handle is used by one thread at a time; a client (coordinator)
 * may be shared by threads. The NATS client library (libnats) keeps its
 * own process-wide state. */
#ifndef PERIMETER_SHARD_H
#define PERIMETER_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/core.h"
#include "perimeter/error.h"
#include "perimeter/gallery.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_SHARD_MAX 256 /* shards per gallery */

/* The shard (0 .. shards-1) of a subject: jump consistent hashing (Lamping
 * and Veach, 2014) of a 64-bit mix of the id. Growing S to S+1 moves about
 * 1/(S+1) of the subjects, each to the new shard; none moves between old
 * shards. shards < 1 gives 0. */
int pm_shard_of(uint64_t subject, int shards);

/* Removes from g every subject whose shard (pm_shard_of(subject, shards)) is
 * not `shard`: after loading the whole gallery from the store, what a shard
 * server keeps. *out_removed (may be NULL) = finger records removed. */
int pm_shard_gallery_keep(pm_gallery_t *g, int shard, int shards, size_t *out_removed,
                          pm_error_t *err);

typedef struct pm_shard_server pm_shard_server_t;

typedef struct pm_shard_server_options {
    const char *nats_url; /* e.g. "nats://127.0.0.1:4222" */
    int shard;            /* K: 0 .. shards-1 */
    int shards;           /* S: 1 .. PM_SHARD_MAX */
    const char *prefix;   /* subject prefix (NULL = "pm.gallery") */
    int learn;            /* nonzero: also take the enrolments sent with
                             pm_shard_client_enrol and insert this shard's into g */
} pm_shard_server_options_t;

/* Connects and, with options->learn, starts taking enrolments into g; does
 * not answer searches yet. For a server that loads its shard after this
 * (pm_gallery_store_load_where keeps what was learnt meanwhile), so no
 * enrolment falls between the load and the subscription. */
int pm_shard_server_open(pm_gallery_t *g, const pm_shard_server_options_t *options,
                         pm_shard_server_t **out, pm_error_t *err);
/* Starts answering searches (queue group, its own subject, "who") and
 * announces itself to the coordinators. */
int pm_shard_server_serve(pm_shard_server_t *s, pm_error_t *err);

/* Starts serving searches of shard K of S from g (caller-owned; it must
 * outlive the server and may be changed meanwhile through its own API):
 * pm_shard_server_open + pm_shard_server_serve. Requests are answered on
 * libnats' threads. */
int pm_shard_server_start(pm_gallery_t *g, const pm_shard_server_options_t *options,
                          pm_shard_server_t **out, pm_error_t *err);
/* Unsubscribes, tells the coordinators it stops, closes the connection and
 * frees. NULL is a no-op. */
void pm_shard_server_stop(pm_shard_server_t *s);
/* Requests handled so far, counted before the reply is sent (any thread). */
uint64_t pm_shard_server_served(pm_shard_server_t *s);
/* Enrolments inserted into g through options->learn (already present ones
 * not counted). */
uint64_t pm_shard_server_learned(pm_shard_server_t *s);
/* This replica's random id (its own subject <prefix>.<S>.<K>.r.<16 hex>). */
uint64_t pm_shard_server_replica(const pm_shard_server_t *s);

typedef struct pm_shard_client pm_shard_client_t;

/* A coordinator's connection (natsOptions_SetSendAsap: requests leave at
 * once). It asks the layout's replicas to announce themselves (answers
 * arrive in the background; until then requests go to the queue groups).
 * Thread-safe: one client may serve many threads. */
int pm_shard_client_open(const char *nats_url, int shards, const char *prefix,
                         pm_shard_client_t **out, pm_error_t *err);
void pm_shard_client_close(pm_shard_client_t *c);
/* Hedge delay: > 0 fixed, in ms; 0 (the default) the p95 of the shard's
 * last 64 answers (half the deadline until 16 are known); < 0 no hedging. */
void pm_shard_client_set_hedge(pm_shard_client_t *c, int hedge_ms);
/* Live replicas of a shard the client knows (announced in the last 3 s). */
int pm_shard_client_replicas(pm_shard_client_t *c, int shard);

typedef struct pm_shard_answer {
    int shards;                   /* asked */
    int replied;                  /* answered in time without error */
    int partial;                  /* replied < shards: the candidates miss those shards */
    uint8_t missing[PM_SHARD_MAX]; /* 1 for each shard that did not answer (or failed) */
    double seconds;               /* wall time of the whole search */
    int hedged;                   /* shards whose request went to a second replica */
    uint64_t records_scanned;     /* summed over the shards that answered */
    double shard_seconds_max;     /* the slowest answering shard's own search time:
                                     seconds - this = transport, queueing and merge */
} pm_shard_answer_t;

/* Searches every shard: options as pm_gallery_identify's (max_candidates,
 * threshold, first_stage, keep_*; target_fpir and subset are refused with
 * PM_EUNSUPPORTED: a shard knows only its own subjects). Waits at most
 * deadline_ms (> 0) for the replies, merges them best first into out
 * (max_candidates entries), and fills *answer. A shard that does not answer
 * in time is marked missing and the call still returns 0 with
 * answer->partial set: a dead or hung shard costs the deadline, never a
 * hang. Returns an error (PM_EINVAL, PM_EUNSUPPORTED, PM_ENET) only for bad
 * arguments or a broken connection. */
int pm_shard_identify(pm_shard_client_t *c, const pm_gallery_finger_t *fingers, int nfingers,
                      const pm_gallery_search_options_t *options, int deadline_ms,
                      pm_gallery_candidate_t *out, size_t *out_n, pm_shard_answer_t *answer,
                      pm_error_t *err);

/* 1:1: compares the probe with one subject's fingers on that subject's
 * shard (pm_gallery_verify there), hedged like a search. PM_ENOTFOUND if
 * the subject has no fingers, PM_ETIMEOUT if the shard did not answer
 * within deadline_ms. */
int pm_shard_verify(pm_shard_client_t *c, uint64_t subject, const pm_gallery_finger_t *fingers,
                    int nfingers, int deadline_ms, pm_gallery_candidate_t *out, pm_error_t *err);

/* Sends one enrolled finger view to the shard servers (<prefix>.enrol, every
 * layout: servers of a grown S learn it too); the servers started with
 * options.learn whose shard it belongs to insert it. Waits at most
 * timeout_ms for one replica of its shard in this client's layout to
 * acknowledge: PM_OK, PM_ETIMEOUT if none did (the store still has it: a
 * server loads it when it starts), or the shard's error. The caller stores
 * the enrolment first (the system of record). */
int pm_shard_client_enrol(pm_shard_client_t *c, uint64_t subject, uint32_t encounter,
                          int position, const pm_fingerprint_t *fp, int timeout_ms,
                          pm_error_t *err);


/* --- the wire format (the header comment of src/shard/shard.c) ------------
 * The decoders the shard server and the coordinator both call on what
 * arrives from NATS, bounded and strict (fuzzed: fuzz/fuzz_shard_wire.c):
 * a message is refused with PM_EFORMAT when its magic, a count, a position
 * or a length is out of range, a float is not finite, a template does not
 * read as one native view, or bytes are left over. */

typedef struct pm_shard_request {
    int op;           /* 0 identify, 1 verify */
    uint64_t subject; /* verify */
    pm_gallery_search_options_t options; /* max_candidates, threshold, first_stage, keep_* */
    int nfingers;     /* 1 .. PM_GALLERY_MAX_FINGERS */
    pm_gallery_finger_t fingers[PM_GALLERY_MAX_FINGERS]; /* fp = views[i] */
    pm_fingerprint_t *views[PM_GALLERY_MAX_FINGERS];     /* owned: pm_shard_request_free */
} pm_shard_request_t;

/* Appends the request "PMS2" (op 0 identify, 1 verify of subject) to out. */
int pm_shard_request_encode(int op, uint64_t subject, const pm_gallery_finger_t *fingers,
                            int nfingers, const pm_gallery_search_options_t *options,
                            pm_buf_t *out, pm_error_t *err);
/* Reads one request; on success the caller frees it with
 * pm_shard_request_free (also safe after a failure). */
int pm_shard_request_decode(const void *data, size_t len, pm_shard_request_t *out,
                            pm_error_t *err);
void pm_shard_request_free(pm_shard_request_t *r);

typedef struct pm_shard_reply {
    int shard;                /* K */
    int status;               /* the shard's PM_* code */
    uint64_t replica;
    uint64_t records_scanned;
    double seconds;           /* the shard's own search time */
    int nfingers;             /* per-finger scores per candidate (0 unless status is 0) */
    size_t n;                 /* candidates in the message */
} pm_shard_reply_t;

/* Appends the reply "PMR2" with head's fields and head->n candidates. */
int pm_shard_reply_encode(const pm_shard_reply_t *head, const pm_gallery_candidate_t *cand,
                          pm_buf_t *out);
/* Reads one reply of a search over `shards` shards with `nfingers` probe
 * fingers (0 = any): its head into *head, its first min(head->n, cap)
 * candidates into out (the rest are checked and dropped). */
int pm_shard_reply_decode(const void *data, size_t len, int shards, int nfingers,
                          pm_shard_reply_t *head, pm_gallery_candidate_t *out, size_t cap,
                          pm_error_t *err);

/* The small control messages, public so that they are fuzzed and tested like
 * the request and reply. Every decoder reads exactly its bytes: a short,
 * long or wrongly tagged message is PM_EFORMAT with a message. */

/* An enrolment "PME1" (pm_shard_client_enrol -> every shard server). */
typedef struct pm_shard_enrol_msg {
    uint64_t subject;
    uint32_t encounter;
    int position;          /* 0..10 */
    const uint8_t *tmpl;   /* one native template: points into the message */
    size_t tmpl_len;       /* 1 .. 1 MiB */
} pm_shard_enrol_msg_t;
int pm_shard_enrol_encode(const pm_shard_enrol_msg_t *m, pm_buf_t *out);
int pm_shard_enrol_decode(const void *data, size_t len, pm_shard_enrol_msg_t *m,
                          pm_error_t *err);

/* Its acknowledgement "PMA1": the answering server's layout and the status
 * of the insert (0 or a negative PM_* code). */
typedef struct pm_shard_ack {
    uint32_t shards, shard;
    int status;
} pm_shard_ack_t;
int pm_shard_ack_encode(const pm_shard_ack_t *a, pm_buf_t *out);
int pm_shard_ack_decode(const void *data, size_t len, pm_shard_ack_t *a, pm_error_t *err);

/* A replica's presence: "PMW1" (serving; the answer to "who" and the hello
 * at start) or "PMB1" (stopping). */
typedef struct pm_shard_presence {
    int alive;             /* 1 PMW1, 0 PMB1 */
    uint32_t shard;
    uint64_t replica;
} pm_shard_presence_t;
int pm_shard_presence_encode(const pm_shard_presence_t *p, pm_buf_t *out);
int pm_shard_presence_decode(const void *data, size_t len, pm_shard_presence_t *p,
                             pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
