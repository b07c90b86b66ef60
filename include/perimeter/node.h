/* Perimeter node module: the server each country runs (DOMAIN.md 1-3, R15).
 *
 * A node serves its own officers over HTTPS (bearer session tokens of local
 * accounts, passwords hashed with Argon2id) and talks to each partner's node
 * over mutual TLS: every partner route verifies the peer certificate against
 * that partner's CA from the configuration and maps it (CA + subject, or a
 * pinned public key) to the partner before its handler runs. A partner
 * certificate never grants officer rights; an officer token never opens a
 * partner route.
 *
 * Library first: configuration, certificates, accounts, the feed and the
 * partner client are calls the CLI (`perimeter serve`, `perimeter init`,
 * `perimeter partner ...`) and the tests use; the server is a thin shell of
 * routes over them. No global mutable state: everything lives in a pm_node_t
 * or a caller-owned value. */
#ifndef PERIMETER_NODE_H
#define PERIMETER_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/core.h"
#include "perimeter/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pm_store;
struct pm_agreement;

/* ------------------------------------------------------------ configuration */

#define PM_NODE_MAX_PARTNERS 8
#define PM_NODE_MAX_SUBJECTS 8
#define PM_NODE_MAX_PINS 8
#define PM_NODE_MAX_PURPOSES 16
#define PM_NODE_PATH_MAX 1024
#define PM_NODE_DN_MAX 512
#define PM_NODE_URL_MAX 512

/* One partner node as the agreement and the configuration describe it. */
typedef struct pm_node_partner {
    char code[4];                                  /* ISO 3166-1 alpha-3 */
    char ca_file[PM_NODE_PATH_MAX];                /* PEM: the partner's CA (absolute path) */
    char *ca_pem;                                  /* its contents (owned, NUL-terminated) */
    char subjects[PM_NODE_MAX_SUBJECTS][PM_NODE_DN_MAX]; /* RFC 4514 DNs accepted */
    size_t nsubjects;
    char pins[PM_NODE_MAX_PINS][72];               /* "sha256:<64 hex>" of the SubjectPublicKeyInfo */
    size_t npins;
    char url[PM_NODE_URL_MAX];                     /* base URL of its node, "" = none (we never call it) */
    int push;                                      /* nonzero: our feed job pushes our entries to it */
    int pull;                                      /* nonzero: our feed job pulls its entries from it */
    char agreement_file[PM_NODE_PATH_MAX];         /* the agreement with it (docs/agreement.md) */
    struct pm_agreement *agreement;                /* parsed and checked (owned); purposes,
                                                      allow-lists, quotas, threshold (R1-R16) */
    char audit_pub[65];                            /* hex Ed25519 key its checkpoints are signed
                                                      with ("" = none: its checkpoints refused) */
    char checkpoints_file[PM_NODE_PATH_MAX];       /* where its signed checkpoints are kept */
    char feed_purpose[48];                         /* purpose code of the entry/exit feed
                                                      (default "BORDER-EXIT") */
    /* The feed over JetStream (docs/node.md "The feed on JetStream"): our
     * own nats-server, whose exchange account a leaf node links to the
     * partner's. js_send: our entries go to the stream PMFEED_<us>_<it>
     * (instead of push); js_receive: its entries come from PMFEED_<it>_<us>
     * in its JetStream domain js_domain, sourced into our PMFEED_IN_<it>. */
    char js_url[PM_NODE_URL_MAX];                  /* nats://[user:password@]host:port, "" = none */
    int js_send, js_receive;
    char js_domain[33];                            /* the partner's JetStream domain */
} pm_node_partner_t;

typedef struct pm_node_limits {
    size_t max_json_bytes;    /* body limit of JSON routes (default 64 KiB) */
    size_t max_import_bytes;  /* body limit of crossings in / feed push (default 64 MiB) */
    size_t max_probe_bytes;   /* body limit of a biometric query (default 8 MiB) */
    size_t max_body_total;    /* request bodies held at once, all connections (default 256 MiB) */
    unsigned http_threads;    /* libmicrohttpd threads (default 4) */
    unsigned connections;     /* concurrent connections (default 256) */
    unsigned timeout_s;       /* idle connection timeout (default 30) */
    unsigned workers;         /* worker pool threads for imports, queries, logins (default 4) */
    unsigned queue;           /* jobs waiting for a worker before 503 (default 64) */
    unsigned sessions;        /* officer sessions held at once (default 10000) */
    unsigned session_ttl_s;   /* officer session lifetime (default 28800) */
    unsigned feed_batch;      /* crossings per feed push/pull request (default 5000) */
    unsigned feed_interval_ms;   /* idle poll of the feed job (default 500) */
    unsigned feed_backoff_max_ms; /* longest wait between retries (default 30000) */
    unsigned client_timeout_s;   /* one request to a partner (default 30) */
    /* hardening (issue 18, docs/node.md "Limits") */
    size_t max_header_bytes;     /* request line + headers of one request; more is answered
                                    431 and the connection closed (default 64 KiB; it is
                                    also the connection buffer MHD reads bodies through) */
    unsigned connections_per_ip; /* concurrent connections from one address (default 128,
                                    0 = no limit beyond connections) */
    unsigned partner_rate;       /* requests per second per partner on partner routes
                                    (default 500, 0 = no limit); over it: 429 */
    unsigned partner_burst;      /* requests a partner may send at once (default 1000) */
    unsigned officer_rate;       /* requests per second per officer name (default 50) */
    unsigned officer_burst;      /* (default 200) */
    unsigned login_failures;     /* failed logins of one name before it is locked out, the
                                    lock doubling with each further failure (default 5) */
    unsigned login_failures_ip;  /* the same per client address (default 20) */
    unsigned login_lock_s;       /* the first lock (default 1 s; capped at 3600 s) */
    unsigned header_timeout_s;   /* request line + headers must arrive within this many
                                    seconds of the connection (or of the previous answer
                                    on it); else it is cut: slow-loris (default 10, 0 = off) */
    unsigned replay_window_s;    /* a partner query's transaction_id is remembered (in the
                                    store) this long; the same id from the same partner
                                    again is refused 409 replayed (default 604800 = 7 days,
                                    0 = off) */
    unsigned request_timeout_s;  /* a request's body must have arrived within this many
                                    seconds of the end of its headers; else the
                                    connection is cut: a slow body (default 30, 0 = off) */
    /* the store pool (docs/node.md "Store handles"): handles checked out per
     * request (on PostgreSQL each is a connection) */
    unsigned store_pool;         /* handles at most (default 0 = one per worker) */
    unsigned store_wait_ms;      /* a request waits this long for a handle, then 503 with
                                    Retry-After (default 5000) */
} pm_node_limits_t;

typedef struct pm_node_config {
    char path[PM_NODE_PATH_MAX];     /* the file it came from (absolute) */
    char country[4];                 /* our country, alpha-3 */
    char store_path[PM_NODE_PATH_MAX];
    char address[64];                /* listen address (IPv4 or IPv6 literal) */
    unsigned port;                   /* 0 = any free port (pm_node_port tells) */
    char cert_file[PM_NODE_PATH_MAX]; /* our certificate (server and client), PEM */
    char key_file[PM_NODE_PATH_MAX];  /* its private key, PEM */
    char ca_file[PM_NODE_PATH_MAX];   /* our own CA (clients of this node verify it) */
    pm_node_partner_t partners[PM_NODE_MAX_PARTNERS];
    size_t npartners;
    pm_node_limits_t limits;
    /* the disclosure log (R10, docs/audit.md) and its checkpoint key */
    char audit_log[PM_NODE_PATH_MAX];         /* default "audit.log" beside the configuration */
    char audit_key[PM_NODE_PATH_MAX];         /* hex Ed25519 secret key (audit keygen), "" = none */
    char audit_checkpoints[PM_NODE_PATH_MAX]; /* our own signed checkpoints (default
                                                 "audit-checkpoints.jsonl") */
    unsigned checkpoint_interval_s;           /* send a checkpoint to each partner (0 = only
                                                 on demand; default 300) */
    /* sealing at rest ("data_key", docs/security.md "A stolen node disk"):
     * a key file (perimeter store keygen), or a passphrase file + salt
     * (Argon2id); older key files kept for reading during a rotation.
     * All empty: data at rest in clear. */
    char data_key_file[PM_NODE_PATH_MAX];      /* "data_key.file" */
    char data_passphrase_file[PM_NODE_PATH_MAX]; /* "data_key.passphrase_file" */
    uint8_t data_salt[16];                     /* "data_key.salt" (32 hex) */
    char data_old_keys[3][PM_NODE_PATH_MAX];   /* "data_key.old": key files */
    size_t ndata_old_keys;
    /* the gallery sharded over NATS (docs/scale.md); gallery_shards 0 = the
     * embedded in-process gallery (the default) */
    char gallery_nats[PM_NODE_URL_MAX];  /* "gallery.nats": the NATS URL */
    unsigned gallery_shards;             /* "gallery.shards": S, 1..256 */
    char gallery_prefix[104];            /* "gallery.prefix" (default "pm.gallery") */
    unsigned gallery_deadline_ms;        /* "gallery.deadline_ms": per search (default 10000) */
    int gallery_hedge_ms;                /* "gallery.hedge_ms": > 0 fixed, 0 the shard's p95
                                            (default), -1 off */
    int gallery_exhaustive; /* "gallery.first_stage": false = 1 (every search exhaustive, exact
                               on every record); default 0: the gallery's first stage
                               (docs/gallery.md) picks the records compared exactly */
    unsigned gallery_threads; /* "gallery.threads": the in-process gallery's search threads,
                                 0 = one per online CPU (the default) */
    int gallery_fused_nominal; /* "gallery.fused_calibration": false = 1 (ten-print scores
                                  fused without the built-in fused calibration, as before) */
} pm_node_config_t;

/* Fills limits with the defaults above. */
void pm_node_limits_default(pm_node_limits_t *limits);

/* Reads and strictly validates a node configuration (docs/node.md): JSON,
 * unknown keys refused, types and ranges checked, relative paths resolved
 * against the file's folder, each partner CA loaded. On failure err names
 * the key ("partners[0].ca: ..."). Free with pm_node_config_free. */
int pm_node_config_load(const char *path, pm_node_config_t *out, pm_error_t *err);
/* Releases what pm_node_config_load allocated. */
void pm_node_config_free(pm_node_config_t *cfg);
/* The partner with this code, or NULL. */
const pm_node_partner_t *pm_node_config_partner(const pm_node_config_t *cfg, const char *code);

/* ------------------------------------------------------------ certificates (test PKI) */

typedef struct pm_node_init_options {
    const char *country;  /* ours, e.g. "CAN" */
    const char *partner;  /* theirs, e.g. "USA" */
    unsigned port;        /* our node's port (default 8443) */
    unsigned partner_port; /* the partner node's port (default 8444) */
    unsigned days;        /* certificate lifetime (default 365) */
} pm_node_init_options_t;

/* Writes a working pair of node configurations under dir for a test or a
 * demo: dir/<CC>/ for each of the two countries with a test CA (ca/ca.pem,
 * ca/ca.key), the node's certificate and key (node.pem, node.key, both server
 * and client use, SAN localhost and 127.0.0.1), the partner's CA
 * (partners/<PP>-ca.pem) and node.json naming each other on 127.0.0.1.
 * Keys are ECDSA P-256, made with GnuTLS. Refuses to overwrite (PM_EEXISTS). */
int pm_node_init_pair(const char *dir, const pm_node_init_options_t *options, pm_error_t *err);

/* Makes a self-signed CA certificate (cert_path, key_path; PEM) with the
 * distinguished name dn (RFC 4514, e.g. "CN=Test CA,O=X,C=CA"). */
int pm_node_pki_make_ca(const char *dn, unsigned days, const char *cert_path,
                        const char *key_path, pm_error_t *err);
/* Issues a node certificate (server + client auth, SAN localhost/127.0.0.1)
 * for dn, signed by the CA in ca_cert/ca_key, with a fresh key. */
int pm_node_pki_issue(const char *ca_cert, const char *ca_key, const char *dn, unsigned days,
                      const char *cert_path, const char *key_path, pm_error_t *err);
/* The pin of a PEM certificate's public key: "sha256:<hex of SHA-256 of the
 * SubjectPublicKeyInfo>" into out (>= 72 bytes); and its subject DN (RFC
 * 4514) into dn (may be NULL). */
int pm_node_pki_describe(const char *cert_path, char out_pin[72], char *dn, size_t dn_cap,
                         pm_error_t *err);

/* Which partner, if any, a peer certificate chain (DER, leaf first) belongs
 * to: the leaf must verify against a partner's CA (signature, validity
 * dates) and its subject must be listed for that partner or its public key
 * pinned. On success *out_partner points into cfg. PM_EDENIED otherwise, with
 * the reason in err ("no client certificate", "not issued by a partner CA",
 * "subject ... not listed for USA"). */
int pm_node_peer_partner(const pm_node_config_t *cfg, const void *const *der,
                         const size_t *der_len, size_t n, const pm_node_partner_t **out_partner,
                         pm_error_t *err);

/* ------------------------------------------------------------ officer accounts */

typedef enum pm_officer_role {
    PM_ROLE_NONE = 0,
    PM_ROLE_OFFICER = 1,    /* posts crossings, queries, reads feed status */
    PM_ROLE_SUPERVISOR = 2, /* also reports and review (later routes) */
    PM_ROLE_ADMIN = 3,      /* everything ("administrator" in the console) */
    /* The web console's roles (docs/console.md). They are not ranked: each
     * route lists which of them it admits (pm__route_roles), beside the
     * ranked officer < supervisor < admin of the routes' minimum. */
    PM_ROLE_VETTING = 4,     /* vetting officer: vetting cases, gallery, cohort dashboard */
    PM_ROLE_ADJUDICATOR = 5, /* decides matches in the R14 review queue */
    PM_ROLE_ANALYST = 6,     /* entry/exit analyst: travellers, reports, pre-clearance */
    PM_ROLE_AUDITOR = 7,     /* privacy auditor: disclosure log, subject access (read only) */
} pm_officer_role_t;
#define PM_ROLE_COUNT 8
/* The bit of a role in a route's role mask. */
#define PM_ROLE_BIT(r) (1u << (unsigned)(r))

/* "officer", "supervisor", "admin", "vetting_officer", "adjudicator",
 * "analyst", "auditor" <-> role ("administrator" is read as admin);
 * PM_ROLE_NONE if unknown. */
const char *pm_officer_role_name(pm_officer_role_t r);
pm_officer_role_t pm_officer_role_from_name(const char *name);

/* Adds or replaces (replace != 0) a local officer account: the password is
 * hashed with Argon2id (libsodium crypto_pwhash_str, interactive limits);
 * names are 1-64 of [A-Za-z0-9._@-], passwords 8-1024 bytes. */
int pm_officer_add(struct pm_store *st, const char *name, const char *password,
                   pm_officer_role_t role, int replace, pm_error_t *err);
/* Checks a name and password. PM_EDENIED (same message whether the name or
 * the password is wrong) or PM_OK with *out_role set. */
int pm_officer_check(struct pm_store *st, const char *name, const char *password,
                     pm_officer_role_t *out_role, pm_error_t *err);

/* ------------------------------------------------------------ the server */

typedef struct pm_node pm_node_t;

/* Where the server's log lines go (the library never prints). level: 0 info,
 * 1 warning, 2 error. May be called from any of the node's threads. */
typedef void (*pm_node_log_fn)(void *ctx, int level, const char *line);

typedef struct pm_node_options {
    pm_node_log_fn log;
    void *log_ctx;
    int no_feed; /* nonzero: do not start the feed job (tests) */
} pm_node_options_t;

/* Starts a node: opens the store (applying the node's migrations), starts
 * the worker pool, the HTTPS daemon and the feed job. On success *out runs
 * until pm_node_stop. */
/* Loads the configuration's data key (and the older keys kept for
 * reading) into ring: PM_ENOTFOUND / PM_EIO if a file is missing or
 * unreadable, PM_EDENIED if readable by group or others, PM_EFORMAT if not
 * a key file. No "data_key": ring->n = 0 (data at rest in clear). The node
 * calls it once at start; the CLI's reseal too. Wipe with pm_seal_ring_wipe. */
struct pm_seal_ring;
int pm_node_data_keys_load(const pm_node_config_t *cfg, struct pm_seal_ring *ring,
                           pm_error_t *err);

int pm_node_start(const pm_node_config_t *cfg, const pm_node_options_t *options, pm_node_t **out,
                  pm_error_t *err);
/* The port the node listens on (useful with port 0). */
unsigned pm_node_port(const pm_node_t *node);
/* Stops accepting, lets requests in flight and queued jobs finish (up to
 * drain_ms), stops the feed job after its current request, closes the store
 * (every acknowledged write is already committed). Frees the node. */
void pm_node_stop(pm_node_t *node, unsigned drain_ms);

/* One row of the route table (the contract docs/openapi.json describes). */
typedef enum pm_route_auth {
    PM_AUTH_PUBLIC = 0,  /* /health, /ready, /metrics, login */
    PM_AUTH_OFFICER = 1, /* bearer session token of a local account */
    PM_AUTH_PARTNER = 2, /* mutual TLS: a partner's certificate */
} pm_route_auth_t;

typedef struct pm_route_info {
    const char *method;
    const char *path; /* "{name}" marks a path parameter */
    pm_route_auth_t auth;
    const char *summary;
} pm_route_info_t;

/* The server's routes, in table order: how many, and row i (NULL past the
 * end). Static data. */
size_t pm_node_route_count(void);
const pm_route_info_t *pm_node_route(size_t i);

/* ------------------------------------------------------------ client */

/* One HTTPS call to a node. Authenticates the server against ca_file (host
 * name checked); presents cert_file/key_file when set (mutual TLS, partner
 * routes) and "Authorization: Bearer token" when token is set (officer
 * routes). The response body (at most max_response bytes, else PM_ELIMIT)
 * goes to *out_body (caller frees with pm_buf_free). Returns PM_OK whenever
 * an HTTP answer arrived (any status: see *out_status), PM_ENET / PM_ETLS /
 * PM_ETIMEOUT otherwise. Thread-safe; each call uses its own connection. */
typedef struct pm_node_request {
    const char *base_url;  /* "https://127.0.0.1:8443" */
    const char *ca_file;
    const char *cert_file; /* NULL: none */
    const char *key_file;
    const char *token;     /* NULL: none */
    unsigned timeout_s;    /* 0 = 30 */
    size_t max_response;   /* 0 = 64 MiB */
    const char *agreement_hash; /* partner routes: our agreement's hash, sent as the
                                   Perimeter-Agreement header (NULL: none) */
} pm_node_request_t;

int pm_node_call(const pm_node_request_t *rq, const char *method, const char *path,
                 const void *body, size_t body_len, const char *content_type, long *out_status,
                 pm_buf_t *out_body, pm_error_t *err);
/* The same, also keeping the value of the response header `header` (e.g.
 * "Perimeter-Review-Id") in out (cap bytes; "" when absent). */
int pm_node_call_header(const pm_node_request_t *rq, const char *method, const char *path,
                        const void *body, size_t body_len, const char *content_type,
                        long *out_status, pm_buf_t *out_body, const char *header, char *out,
                        size_t cap, pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
