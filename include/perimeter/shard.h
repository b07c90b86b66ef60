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
 * Subjects are routed to shards by a stable hash (pm_shard_of). Handles are
 * used by one thread at a time; the NATS client library (libnats) keeps its
 * own process-wide state. */
#ifndef PERIMETER_SHARD_H
#define PERIMETER_SHARD_H

#include <stddef.h>
#include <stdint.h>

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
} pm_shard_server_options_t;

/* Starts serving searches of shard K of S from g (caller-owned; it must
 * outlive the server and may be changed meanwhile through its own API).
 * Requests are answered on libnats' thread. */
int pm_shard_server_start(pm_gallery_t *g, const pm_shard_server_options_t *options,
                          pm_shard_server_t **out, pm_error_t *err);
/* Unsubscribes, closes the connection and frees. NULL is a no-op. */
void pm_shard_server_stop(pm_shard_server_t *s);
/* Requests handled so far, counted before the reply is sent (any thread). */
uint64_t pm_shard_server_served(pm_shard_server_t *s);

typedef struct pm_shard_client pm_shard_client_t;

/* A coordinator's connection (natsOptions_SetSendAsap: requests leave at once). */
int pm_shard_client_open(const char *nats_url, int shards, const char *prefix,
                         pm_shard_client_t **out, pm_error_t *err);
void pm_shard_client_close(pm_shard_client_t *c);

typedef struct pm_shard_answer {
    int shards;                   /* asked */
    int replied;                  /* answered in time without error */
    int partial;                  /* replied < shards: the candidates miss those shards */
    uint8_t missing[PM_SHARD_MAX]; /* 1 for each shard that did not answer (or failed) */
    double seconds;               /* wall time of the whole search */
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

#ifdef __cplusplus
}
#endif
#endif
