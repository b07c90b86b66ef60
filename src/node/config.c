/* The node configuration file (docs/node.md): strict JSON through jansson. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"
#include "perimeter/policy.h"
#include "perimeter/travel.h"

#define CONFIG_MAX_BYTES (1u << 20)
#define CA_MAX_BYTES (1u << 20)

void pm_node_limits_default(pm_node_limits_t *l)
{
    l->max_json_bytes = 64 * 1024;
    l->max_import_bytes = 64u << 20;
    l->max_probe_bytes = 8u << 20;
    l->max_body_total = 256u << 20;
    l->http_threads = 4;
    l->connections = 256;
    l->timeout_s = 30;
    /* twice the 2 cores measured on: while one worker waits (the log's
     * fsync, a serial step of a search) another keeps the core busy
     * (docs/node.md "Workers") */
    l->workers = 4;
    l->queue = 64;
    l->sessions = 10000;
    l->session_ttl_s = 8 * 3600;
    l->feed_batch = 5000;
    l->feed_interval_ms = 500;
    l->feed_backoff_max_ms = 30000;
    l->client_timeout_s = 30;
    l->max_header_bytes = 64 * 1024;
    l->connections_per_ip = 128;
    l->partner_rate = 500;
    l->partner_burst = 1000;
    l->officer_rate = 50;
    l->officer_burst = 200;
    l->login_failures = 5;
    l->login_failures_ip = 20;
    l->login_lock_s = 1;
    l->header_timeout_s = 10;
    l->replay_window_s = 7 * 86400;
    l->request_timeout_s = 30;
    l->store_pool = 0;
    l->store_wait_ms = 5000;
}

/* dir + "/" + rel unless rel is absolute; PM_ELIMIT if it does not fit. */
static int resolve(const char *dir, const char *rel, char *out, size_t cap, const char *field,
                   pm_error_t *err)
{
    /* absolute paths and PostgreSQL targets (store) are taken as they are */
    int n = rel[0] == '/' || pm_store_is_postgres(rel) ? snprintf(out, cap, "%s", rel)
                                                        : snprintf(out, cap, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= cap)
        return pm_error_set(err, PM_ELIMIT, "%s: path too long", field);
    return PM_OK;
}

static int copy_str(char *dst, size_t cap, const char *src, const char *field, pm_error_t *err)
{
    size_t n = strlen(src);
    if (n >= cap)
        return pm_error_set(err, PM_ELIMIT, "%s: longer than %zu bytes", field, cap - 1);
    memcpy(dst, src, n + 1);
    return PM_OK;
}

static int country_ok(const char *s)
{
    return s && strlen(s) == 3 && pm_country_is_iso(s);
}

/* An unsigned integer key in [lo, hi] (absent: keep *out). */
static int get_uint(const json_t *obj, const char *key, uint64_t lo, uint64_t hi, const char *where,
                    uint64_t *out, pm_error_t *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return PM_OK;
    json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi)
        return pm_error_set(err, PM_EVALIDATION, "%s.%s: must be in %llu..%llu", where, key,
                            (unsigned long long)lo, (unsigned long long)hi);
    *out = (uint64_t)x;
    return PM_OK;
}

static int load_limits(const json_t *o, pm_node_limits_t *l, pm_error_t *err)
{
    static const pm__jfield_t f[] = {
        {"max_json_bytes", JSON_INTEGER, 0, 0},   {"max_import_bytes", JSON_INTEGER, 0, 0},
        {"max_probe_bytes", JSON_INTEGER, 0, 0},  {"max_body_total", JSON_INTEGER, 0, 0},
        {"http_threads", JSON_INTEGER, 0, 0},
        {"connections", JSON_INTEGER, 0, 0},      {"timeout_s", JSON_INTEGER, 0, 0},
        {"workers", JSON_INTEGER, 0, 0},          {"queue", JSON_INTEGER, 0, 0},
        {"sessions", JSON_INTEGER, 0, 0},         {"session_ttl_s", JSON_INTEGER, 0, 0},
        {"feed_batch", JSON_INTEGER, 0, 0},       {"feed_interval_ms", JSON_INTEGER, 0, 0},
        {"feed_backoff_max_ms", JSON_INTEGER, 0, 0}, {"client_timeout_s", JSON_INTEGER, 0, 0},
        {"max_header_bytes", JSON_INTEGER, 0, 0}, {"connections_per_ip", JSON_INTEGER, 0, 0},
        {"partner_rate", JSON_INTEGER, 0, 0},     {"partner_burst", JSON_INTEGER, 0, 0},
        {"officer_rate", JSON_INTEGER, 0, 0},     {"officer_burst", JSON_INTEGER, 0, 0},
        {"header_timeout_s", JSON_INTEGER, 0, 0}, {"replay_window_s", JSON_INTEGER, 0, 0},
        {"request_timeout_s", JSON_INTEGER, 0, 0},
        {"store_pool", JSON_INTEGER, 0, 0},       {"store_wait_ms", JSON_INTEGER, 0, 0},
        {"login_failures", JSON_INTEGER, 0, 0},   {"login_failures_ip", JSON_INTEGER, 0, 0},
        {"login_lock_s", JSON_INTEGER, 0, 0},
    };
    int rc = pm__json_check(o, "limits", f, sizeof f / sizeof f[0], NULL, 0, err);
    if (rc)
        return rc;
    struct {
        const char *key;
        uint64_t lo, hi;
        int is_size;
        void *dst;
    } m[] = {
        {"max_json_bytes", 1024, 16u << 20, 1, &l->max_json_bytes},
        {"max_import_bytes", 4096, (uint64_t)1 << 31, 1, &l->max_import_bytes},
        {"max_probe_bytes", 1024, 256u << 20, 1, &l->max_probe_bytes},
        {"max_body_total", 4096, (uint64_t)1 << 36, 1, &l->max_body_total},
        {"http_threads", 1, 64, 0, &l->http_threads},
        {"connections", 1, 65536, 0, &l->connections},
        {"timeout_s", 1, 3600, 0, &l->timeout_s},
        {"workers", 1, 64, 0, &l->workers},
        {"queue", 1, 100000, 0, &l->queue},
        {"sessions", 1, 1000000, 0, &l->sessions},
        {"session_ttl_s", 60, 7 * 86400, 0, &l->session_ttl_s},
        {"feed_batch", 1, 100000, 0, &l->feed_batch},
        {"feed_interval_ms", 10, 3600000, 0, &l->feed_interval_ms},
        {"feed_backoff_max_ms", 10, 3600000, 0, &l->feed_backoff_max_ms},
        {"client_timeout_s", 1, 3600, 0, &l->client_timeout_s},
        {"max_header_bytes", 4096, 1u << 20, 1, &l->max_header_bytes},
        {"connections_per_ip", 0, 65536, 0, &l->connections_per_ip},
        {"partner_rate", 0, 1000000, 0, &l->partner_rate},
        {"partner_burst", 1, 1000000, 0, &l->partner_burst},
        {"officer_rate", 0, 1000000, 0, &l->officer_rate},
        {"officer_burst", 1, 1000000, 0, &l->officer_burst},
        {"login_failures", 1, 1000, 0, &l->login_failures},
        {"login_failures_ip", 1, 100000, 0, &l->login_failures_ip},
        {"login_lock_s", 1, 3600, 0, &l->login_lock_s},
        {"header_timeout_s", 0, 3600, 0, &l->header_timeout_s},
        {"replay_window_s", 0, 366 * 86400, 0, &l->replay_window_s},
        {"request_timeout_s", 0, 3600, 0, &l->request_timeout_s},
        {"store_pool", 0, 1024, 0, &l->store_pool},
        {"store_wait_ms", 0, 600000, 0, &l->store_wait_ms},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        uint64_t v = m[i].is_size ? *(size_t *)m[i].dst : *(unsigned *)m[i].dst;
        if ((rc = get_uint(o, m[i].key, m[i].lo, m[i].hi, "limits", &v, err)))
            return rc;
        if (m[i].is_size)
            *(size_t *)m[i].dst = (size_t)v;
        else
            *(unsigned *)m[i].dst = (unsigned)v;
    }
    return PM_OK;
}

/* "gallery": the search's first stage on or off, and the gallery sharded over
 * NATS instead of the in-process one ("nats" and "shards" together). */
static int load_gallery(const json_t *o, pm_node_config_t *cfg, pm_error_t *err)
{
    static const pm__jfield_t f[] = {
        {"nats", JSON_STRING, 0, PM_NODE_URL_MAX - 1}, {"shards", JSON_INTEGER, 0, 0},
        {"prefix", JSON_STRING, 0, 100},               {"deadline_ms", JSON_INTEGER, 0, 0},
        {"hedge_ms", JSON_INTEGER, 0, 0},              {"first_stage", JSON_TRUE, 0, 0},
        {"fused_calibration", JSON_TRUE, 0, 0},        {"threads", JSON_INTEGER, 0, 0},
    };
    int rc = pm__json_check(o, "gallery", f, sizeof f / sizeof f[0], NULL, 0, err);
    if (rc)
        return rc;
    const json_t *fs = json_object_get(o, "first_stage");
    cfg->gallery_exhaustive = fs && json_is_false(fs);
    const json_t *fc = json_object_get(o, "fused_calibration");
    cfg->gallery_fused_nominal = fc && json_is_false(fc);
    const json_t *th = json_object_get(o, "threads");
    uint64_t threads = 0;
    if (th && (rc = get_uint(o, "threads", 0, 256, "gallery", &threads, err)))
        return rc;
    cfg->gallery_threads = (unsigned)threads;
    int has_nats = json_object_get(o, "nats") != NULL;
    if (has_nats && th)
        return pm_error_set(err, PM_EVALIDATION,
                            "gallery.threads: the in-process gallery's; with \"nats\" each "
                            "shard server has its own (shard serve --threads)");
    if (has_nats != (json_object_get(o, "shards") != NULL))
        return pm_error_set(err, PM_EVALIDATION,
                            has_nats ? "gallery.shards: required with \"nats\""
                                     : "gallery.nats: required with \"shards\"");
    if (!has_nats)
        return json_object_size(o) == (fs ? 1u : 0u) + (fc ? 1u : 0u) + (th ? 1u : 0u)
                   ? PM_OK
                   : pm_error_set(err, PM_EVALIDATION,
                                  "gallery: prefix, deadline_ms and hedge_ms need \"nats\"");
    const char *url = pm__json_str(o, "nats");
    if (strncmp(url, "nats://", 7) != 0 && strncmp(url, "tls://", 6) != 0)
        return pm_error_set(err, PM_EVALIDATION, "gallery.nats: must start with nats:// or tls://");
    memcpy(cfg->gallery_nats, url, strlen(url) + 1);
    uint64_t shards = 0, deadline = 10000;
    if ((rc = get_uint(o, "shards", 1, 256, "gallery", &shards, err)) ||
        (rc = get_uint(o, "deadline_ms", 1, 600000, "gallery", &deadline, err)))
        return rc;
    cfg->gallery_shards = (unsigned)shards;
    cfg->gallery_deadline_ms = (unsigned)deadline;
    const char *prefix = pm__json_str(o, "prefix");
    if (prefix && (!prefix[0] || strspn(prefix, "abcdefghijklmnopqrstuvwxyz"
                                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                                     strlen(prefix)))
        return pm_error_set(err, PM_EVALIDATION,
                            "gallery.prefix: letters, digits, '.', '_' and '-' only");
    snprintf(cfg->gallery_prefix, sizeof cfg->gallery_prefix, "%s",
             prefix ? prefix : "pm.gallery");
    const json_t *h = json_object_get(o, "hedge_ms");
    json_int_t hv = h ? json_integer_value(h) : 0;
    if (hv < -1 || hv > 600000)
        return pm_error_set(err, PM_EVALIDATION, "gallery.hedge_ms: must be in -1..600000");
    cfg->gallery_hedge_ms = (int)hv;
    return PM_OK;
}

/* The line of the JSON path "$.a.b[2].c" in text: each key is looked for
 * (as "key") after the previous one; array indices keep the line of their
 * array's key. 0 if a key is not found. */
static unsigned path_line(const char *text, size_t len, const char *path)
{
    const char *pos = text, *end = text + len, *p = path;
    if (strncmp(p, "$", 1) != 0)
        return 0;
    p++;
    int found = 0;
    while (*p) {
        if (*p == '[') {
            const char *q = strchr(p, ']');
            if (!q)
                break;
            p = q + 1;
            continue;
        }
        if (*p != '.')
            break;
        p++;
        size_t k = strcspn(p, ".[:");
        if (k == 0 || k > 100)
            break;
        char key[104];
        key[0] = '"';
        memcpy(key + 1, p, k);
        key[k + 1] = '"';
        key[k + 2] = '\0';
        const char *hit = NULL;
        for (const char *s = pos; s + k + 2 <= end; s++)
            if (memcmp(s, key, k + 2) == 0) {
                hit = s;
                break;
            }
        if (!hit)
            return 0;
        pos = hit + k + 2;
        found = 1;
        p += k;
    }
    if (!found)
        return 0;
    unsigned line = 1;
    for (const char *s = text; s < pos; s++)
        line += *s == '\n';
    return line;
}

/* Loads and checks the agreement named by the partner's entry. A refusal
 * names the file, the line and the reason: "line N: $.path: reason". */
static int load_agreement(pm_node_partner_t *p, const char *field, pm_error_t *err)
{
    pm_agreement_t *a = calloc(1, sizeof *a);
    if (!a)
        return pm_error_set(err, PM_ENOMEM, "%s: out of memory", field);
    uint8_t *text = NULL;
    size_t len = 0;
    int rc = pm_file_read(p->agreement_file, PM_AGR_MAX_BYTES, &text, &len, err);
    if (rc) {
        free(a);
        return pm_error_prefix(err, "%s", field);
    }
    rc = pm_agreement_parse((const char *)text, len, a, err);
    if (rc && err && strncmp(err->msg, "$.", 2) == 0) {
        char path[128];
        size_t k = strcspn(err->msg, ":");
        snprintf(path, sizeof path, "%.*s", (int)(k < 127 ? k : 127), err->msg);
        unsigned line = path_line((const char *)text, len, path);
        if (line)
            pm_error_prefix(err, "line %u", line);
    }
    free(text);
    if (rc) {
        free(a);
        return pm_error_prefix(err, "%s: %s", field, p->agreement_file);
    }
    if (strcmp(a->parties[0], p->code) != 0 && strcmp(a->parties[1], p->code) != 0) {
        rc = pm_error_set(err, PM_EVALIDATION, "%s: %s: the agreement is between %s and %s, not %s",
                          field, p->agreement_file, a->parties[0], a->parties[1], p->code);
        free(a);
        return rc;
    }
    p->agreement = a;
    return PM_OK;
}

/* The partner's "jetstream" object (the feed over JetStream), if any. */
static int load_jetstream(const json_t *js, const char *where, pm_node_partner_t *p,
                          pm_error_t *err)
{
    static const pm__jfield_t f[] = {
        {"url", JSON_STRING, 1, PM_NODE_URL_MAX - 1},
        {"send", JSON_TRUE, 0, 0},
        {"receive", JSON_TRUE, 0, 0},
        {"domain", JSON_STRING, 0, 32},
    };
    if (!js)
        return PM_OK;
    char w[48];
    snprintf(w, sizeof w, "%s.jetstream", where);
    int rc = pm__json_check(js, w, f, sizeof f / sizeof f[0], NULL, 0, err);
    if (rc)
        return rc;
    const char *url = pm__json_str(js, "url");
    if (strncmp(url, "nats://", 7) != 0 && strncmp(url, "tls://", 6) != 0)
        return pm_error_set(err, PM_EVALIDATION, "%s.url: must start with nats:// or tls://", w);
    memcpy(p->js_url, url, strlen(url) + 1);
    p->js_send = pm__json_bool(js, "send", 0);
    p->js_receive = pm__json_bool(js, "receive", 0);
    const char *dom = pm__json_str(js, "domain");
    if (dom) {
        size_t n = strlen(dom);
        if (!n || strspn(dom, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
                      n)
            return pm_error_set(err, PM_EVALIDATION,
                                "%s.domain: letters, digits, '_' and '-' only (a JetStream domain)",
                                w);
        memcpy(p->js_domain, dom, n + 1);
    }
    if (p->js_receive && !p->js_domain[0])
        return pm_error_set(err, PM_EVALIDATION,
                            "%s.domain: required with receive (the partner's JetStream domain)", w);
    return PM_OK;
}

static int load_partner(const json_t *o, size_t idx, const char *dir, pm_node_partner_t *p,
                        pm_error_t *err)
{
    static const pm__jfield_t f[] = {
        {"code", JSON_STRING, 1, 3},        {"ca", JSON_STRING, 1, 0},
        {"subjects", JSON_ARRAY, 0, PM_NODE_MAX_SUBJECTS},
        {"pins", JSON_ARRAY, 0, PM_NODE_MAX_PINS},
        {"url", JSON_STRING, 0, PM_NODE_URL_MAX - 1},
        {"push", JSON_TRUE, 0, 0},          {"pull", JSON_TRUE, 0, 0},
        {"agreement", JSON_STRING, 1, 0},   {"audit_pub", JSON_STRING, 0, 64},
        {"checkpoints", JSON_STRING, 0, 0}, {"feed_purpose", JSON_STRING, 0, 47},
        {"jetstream", JSON_OBJECT, 0, 0},
    };
    char where[32];
    snprintf(where, sizeof where, "partners[%zu]", idx);
    int rc = pm__json_check(o, where, f, sizeof f / sizeof f[0], NULL, 0, err);
    if (rc)
        return rc;
    const char *code = pm__json_str(o, "code");
    if (!country_ok(code))
        return pm_error_set(err, PM_EVALIDATION, "%s.code: '%s' is not an ISO 3166-1 alpha-3 code",
                            where, code);
    memcpy(p->code, code, 4);
    char field[64];
    snprintf(field, sizeof field, "%s.ca", where);
    if ((rc = resolve(dir, pm__json_str(o, "ca"), p->ca_file, sizeof p->ca_file, field, err)))
        return rc;
    uint8_t *pem = NULL;
    size_t pem_len = 0;
    if ((rc = pm_file_read(p->ca_file, CA_MAX_BYTES, &pem, &pem_len, err)))
        return pm_error_prefix(err, "%s", field);
    p->ca_pem = (char *)pem;
    const json_t *a = json_object_get(o, "subjects");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        snprintf(field, sizeof field, "%s.subjects[%zu]", where, i);
        if (!json_is_string(v) || !json_string_length(v))
            return pm_error_set(err, PM_EVALIDATION, "%s: must be a non-empty string", field);
        if ((rc = copy_str(p->subjects[i], sizeof p->subjects[i], json_string_value(v), field,
                           err)))
            return rc;
        p->nsubjects++;
    }
    a = json_object_get(o, "pins");
    json_array_foreach(a, i, v) {
        snprintf(field, sizeof field, "%s.pins[%zu]", where, i);
        const char *s = json_string_value(v);
        if (!s || strlen(s) != 71 || strncmp(s, "sha256:", 7) != 0 ||
            strspn(s + 7, "0123456789abcdef") != 64)
            return pm_error_set(err, PM_EVALIDATION,
                                "%s: must be \"sha256:\" and 64 lower-case hex digits", field);
        memcpy(p->pins[i], s, 72);
        p->npins++;
    }
    if (!p->nsubjects && !p->npins)
        return pm_error_set(err, PM_EVALIDATION,
                            "%s: needs subjects or pins (which certificates of its CA are its node)",
                            where);
    const char *url = pm__json_str(o, "url");
    if (url) {
        if (strncmp(url, "https://", 8) != 0)
            return pm_error_set(err, PM_EVALIDATION, "%s.url: must start with https://", where);
        memcpy(p->url, url, strlen(url) + 1);
        size_t n = strlen(p->url);
        while (n > 8 && p->url[n - 1] == '/')
            p->url[--n] = '\0';
    }
    p->push = pm__json_bool(o, "push", 0);
    p->pull = pm__json_bool(o, "pull", 0);
    if ((rc = load_jetstream(json_object_get(o, "jetstream"), where, p, err)))
        return rc;
    if (p->push && p->js_send)
        return pm_error_set(err, PM_EVALIDATION,
                            "%s: push and jetstream.send both send our entries; choose one", where);
    if (p->pull && p->js_receive)
        return pm_error_set(err, PM_EVALIDATION,
                            "%s: pull and jetstream.receive both fetch its entries; choose one",
                            where);
    if ((p->push || p->pull) && !p->url[0])
        return pm_error_set(err, PM_EVALIDATION, "%s.url: required with push or pull", where);
    const char *pub = pm__json_str(o, "audit_pub");
    if (pub) {
        if (strlen(pub) != 64 || strspn(pub, "0123456789abcdef") != 64)
            return pm_error_set(err, PM_EVALIDATION,
                                "%s.audit_pub: must be 64 lower-case hex digits (Ed25519 key)",
                                where);
        memcpy(p->audit_pub, pub, 65);
    }
    char rel[64];
    snprintf(rel, sizeof rel, "partners/%s-checkpoints.jsonl", p->code);
    snprintf(field, sizeof field, "%s.checkpoints", where);
    if ((rc = resolve(dir, pm__json_str(o, "checkpoints") ? pm__json_str(o, "checkpoints") : rel,
                      p->checkpoints_file, sizeof p->checkpoints_file, field, err)))
        return rc;
    snprintf(field, sizeof field, "%s.agreement", where);
    if ((rc = resolve(dir, pm__json_str(o, "agreement"), p->agreement_file,
                      sizeof p->agreement_file, field, err)))
        return rc;
    snprintf(p->feed_purpose, sizeof p->feed_purpose, "%s",
             pm__json_str(o, "feed_purpose") ? pm__json_str(o, "feed_purpose") : "BORDER-EXIT");
    if ((rc = load_agreement(p, field, err)))
        return rc;
    if ((p->push || p->pull) && pm_agreement_purpose_index(p->agreement, p->feed_purpose) < 0)
        return pm_error_set(err, PM_EVALIDATION,
                            "%s.feed_purpose: '%s' is not a purpose of the agreement (R1)", where,
                            p->feed_purpose);
    return PM_OK;
}

int pm_node_config_load(const char *path, pm_node_config_t *cfg, pm_error_t *err)
{
    memset(cfg, 0, sizeof *cfg);
    pm_node_limits_default(&cfg->limits);
    char abs[PATH_MAX];
    if (!realpath(path, abs))
        return pm_error_set(err, PM_ENOTFOUND, "%s: no such file", path);
    if (strlen(abs) >= sizeof cfg->path)
        return pm_error_set(err, PM_ELIMIT, "%s: path too long", path);
    memcpy(cfg->path, abs, strlen(abs) + 1);
    char dir[PM_NODE_PATH_MAX];
    memcpy(dir, cfg->path, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(cfg->path, CONFIG_MAX_BYTES, &data, &len, err);
    if (rc)
        return rc;
    rc = pm__node_config_parse(data, len, dir, cfg, err);
    free(data);
    if (rc)
        pm_error_prefix(err, "%s", path);
    return rc;
}

int pm__node_config_parse(const void *data, size_t len, const char *dir, pm_node_config_t *cfg,
                          pm_error_t *err)
{
    json_t *root = NULL;
    int rc = pm__json_parse(data, len, &root, err);
    if (rc)
        return rc;
    static const pm__jfield_t top[] = {
        {"country", JSON_STRING, 1, 3}, {"store", JSON_STRING, 1, 0},
        {"listen", JSON_OBJECT, 1, 0},  {"tls", JSON_OBJECT, 1, 0},
        {"partners", JSON_ARRAY, 0, PM_NODE_MAX_PARTNERS}, {"limits", JSON_OBJECT, 0, 0},
        {"audit", JSON_OBJECT, 0, 0},   {"gallery", JSON_OBJECT, 0, 0},
        {"data_key", JSON_OBJECT, 0, 0},
    };
    static const pm__jfield_t audit[] = {
        {"log", JSON_STRING, 0, 0}, {"key", JSON_STRING, 0, 0},
        {"checkpoints", JSON_STRING, 0, 0}, {"checkpoint_interval_s", JSON_INTEGER, 0, 0}};
    static const pm__jfield_t listen[] = {{"address", JSON_STRING, 1, 63},
                                          {"port", JSON_INTEGER, 1, 0}};
    static const pm__jfield_t tls[] = {
        {"cert", JSON_STRING, 1, 0}, {"key", JSON_STRING, 1, 0}, {"ca", JSON_STRING, 0, 0}};
    const json_t *o;
    if ((rc = pm__json_check(root, "", top, sizeof top / sizeof top[0], NULL, 0, err)))
        goto out;
    const char *country = pm__json_str(root, "country");
    if (!country_ok(country)) {
        rc = pm_error_set(err, PM_EVALIDATION, "country: '%s' is not an ISO 3166-1 alpha-3 code",
                          country);
        goto out;
    }
    memcpy(cfg->country, country, 4);
    if ((rc = resolve(dir, pm__json_str(root, "store"), cfg->store_path, sizeof cfg->store_path,
                      "store", err)))
        goto out;
    o = json_object_get(root, "listen");
    if ((rc = pm__json_check(o, "listen", listen, 2, NULL, 0, err)))
        goto out;
    memcpy(cfg->address, pm__json_str(o, "address"), strlen(pm__json_str(o, "address")) + 1);
    json_int_t port = json_integer_value(json_object_get(o, "port"));
    if (port < 0 || port > 65535) {
        rc = pm_error_set(err, PM_EVALIDATION, "listen.port: must be in 0..65535");
        goto out;
    }
    cfg->port = (unsigned)port;
    o = json_object_get(root, "tls");
    if ((rc = pm__json_check(o, "tls", tls, 3, NULL, 0, err)) ||
        (rc = resolve(dir, pm__json_str(o, "cert"), cfg->cert_file, sizeof cfg->cert_file,
                      "tls.cert", err)) ||
        (rc = resolve(dir, pm__json_str(o, "key"), cfg->key_file, sizeof cfg->key_file, "tls.key",
                      err)))
        goto out;
    if (pm__json_str(o, "ca") &&
        (rc = resolve(dir, pm__json_str(o, "ca"), cfg->ca_file, sizeof cfg->ca_file, "tls.ca",
                      err)))
        goto out;
    if ((o = json_object_get(root, "limits")) && (rc = load_limits(o, &cfg->limits, err)))
        goto out;
    {
        const json_t *ao = json_object_get(root, "audit");
        const char *log = "audit.log", *key = NULL, *cps = "audit-checkpoints.jsonl";
        uint64_t interval = 300;
        if (ao) {
            if ((rc = pm__json_check(ao, "audit", audit, 4, NULL, 0, err)) ||
                (rc = get_uint(ao, "checkpoint_interval_s", 0, 86400 * 7, "audit", &interval,
                               err)))
                goto out;
            if (pm__json_str(ao, "log"))
                log = pm__json_str(ao, "log");
            key = pm__json_str(ao, "key");
            if (pm__json_str(ao, "checkpoints"))
                cps = pm__json_str(ao, "checkpoints");
        }
        cfg->checkpoint_interval_s = (unsigned)interval;
        if ((rc = resolve(dir, log, cfg->audit_log, sizeof cfg->audit_log, "audit.log", err)) ||
            (key && (rc = resolve(dir, key, cfg->audit_key, sizeof cfg->audit_key, "audit.key",
                                  err))) ||
            (rc = resolve(dir, cps, cfg->audit_checkpoints, sizeof cfg->audit_checkpoints,
                          "audit.checkpoints", err)))
            goto out;
    }
    if ((o = json_object_get(root, "gallery")) && (rc = load_gallery(o, cfg, err)))
        goto out;
    if ((o = json_object_get(root, "data_key")) && (rc = pm__node_data_key_parse(o, dir, cfg, err)))
        goto out;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(root, "partners"), i, v) {
        if ((rc = load_partner(v, i, dir, &cfg->partners[i], err))) {
            cfg->npartners = i + 1; /* free its CA too */
            goto out;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->partners[j].code, cfg->partners[i].code) == 0) {
                cfg->npartners = i + 1;
                rc = pm_error_set(err, PM_EVALIDATION, "partners[%zu].code: %s listed twice", i,
                                  cfg->partners[i].code);
                goto out;
            }
        const pm_agreement_t *ag = cfg->partners[i].agreement;
        if (strcmp(ag->parties[0], cfg->country) != 0 && strcmp(ag->parties[1], cfg->country) != 0) {
            cfg->npartners = i + 1;
            rc = pm_error_set(err, PM_EVALIDATION,
                              "partners[%zu].agreement: %s: the agreement is between %s and %s, "
                              "not %s",
                              i, cfg->partners[i].agreement_file, ag->parties[0], ag->parties[1],
                              cfg->country);
            goto out;
        }
        if (strcmp(cfg->partners[i].code, cfg->country) == 0) {
            cfg->npartners = i + 1;
            rc = pm_error_set(err, PM_EVALIDATION, "partners[%zu].code: %s is our own country",
                              i, cfg->country);
            goto out;
        }
        cfg->npartners = i + 1;
    }
out:
    json_decref(root);
    if (rc)
        pm_node_config_free(cfg);
    return rc;
}

void pm_node_config_free(pm_node_config_t *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->npartners; i++) {
        free(cfg->partners[i].ca_pem);
        cfg->partners[i].ca_pem = NULL;
        free(cfg->partners[i].agreement);
        cfg->partners[i].agreement = NULL;
    }
    cfg->npartners = 0;
}

const pm_node_partner_t *pm_node_config_partner(const pm_node_config_t *cfg, const char *code)
{
    for (size_t i = 0; code && i < cfg->npartners; i++)
        if (strcmp(cfg->partners[i].code, code) == 0)
            return &cfg->partners[i];
    return NULL;
}
