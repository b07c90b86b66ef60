/* The node: configuration, the test PKI and the peer check, officer accounts
 * and sessions, strict JSON, and a node started in-process on 127.0.0.1
 * (port chosen by the kernel) answering over real TLS. */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "node/node_impl.h"
#include "perimeter/node.h"
#include "perimeter/policy.h"
#include "perimeter/store.h"

static char *g_dir;

static void path(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", g_dir, rel);
}

static void write_text(const char *rel, const char *text)
{
    char p[4096];
    path(p, sizeof p, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    g_dir = pm_test_tmpdir();
    pm_node_init_options_t o = {"CAN", "USA", 18443, 18444, 30};
    pm_error_t e;
    char pair[4096];
    path(pair, sizeof pair, "pair");
    int rc = pm_node_init_pair(pair, &o, &e);
    if (rc)
        fprintf(stderr, "init: %s\n", e.msg);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    pm_test_rmdir(g_dir);
    free(g_dir);
    return 0;
}

static void test_init_refuses_overwrite(void **state)
{
    (void)state;
    pm_node_init_options_t o = {"CAN", "USA", 0, 0, 0};
    pm_error_t e;
    char pair[4096];
    path(pair, sizeof pair, "pair");
    assert_int_equal(pm_node_init_pair(pair, &o, &e), PM_EEXISTS);
    pm_node_init_options_t same = {"CAN", "CAN", 0, 0, 0};
    assert_int_equal(pm_node_init_pair(pair, &same, &e), PM_EINVAL);
    /* private keys are created 0600 (never chmod-ed afterwards: no window in
     * which another user could read them) */
    static const char *const secret[] = {"pair/CAN/node.key", "pair/CAN/ca/ca.key",
                                         "pair/USA/audit.key"};
    for (size_t i = 0; i < 3; i++) {
        char p[4096];
        struct stat sb;
        path(p, sizeof p, secret[i]);
        assert_int_equal(stat(p, &sb), 0);
        if ((sb.st_mode & 0777) != 0600)
            fail_msg("%s has mode %o", secret[i], (unsigned)(sb.st_mode & 0777));
    }
}

static void test_config_loads(void **state)
{
    (void)state;
    char p[4096];
    path(p, sizeof p, "pair/CAN/node.json");
    pm_node_config_t cfg;
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_node_config_load(p, &cfg, &e);
    if (rc)
        fail_msg("%s", e.msg);
    assert_string_equal(cfg.country, "CAN");
    assert_int_equal(cfg.port, 18443);
    assert_int_equal(cfg.gallery_exhaustive, 0); /* the first stage is on by default */
    assert_int_equal(cfg.npartners, 1);
    const pm_node_partner_t *usa = pm_node_config_partner(&cfg, "USA");
    assert_non_null(usa);
    assert_true(usa->push);
    assert_int_equal(usa->nsubjects, 1);
    assert_int_equal(usa->npins, 1);
    assert_non_null(strstr(usa->ca_pem, "BEGIN CERTIFICATE"));
    assert_non_null(strstr(cfg.store_path, "/pair/CAN/perimeter.db"));
    assert_null(pm_node_config_partner(&cfg, "MEX"));
    pm_node_config_free(&cfg);
}

/* Loads a configuration whose "gallery" object is `gallery` (the rest
 * minimal); fails the test if it is refused. */
static void load_with_gallery(const char *gallery, pm_node_config_t *cfg)
{
    char text[1024], p[4096];
    snprintf(text, sizeof text,
             "{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\","
             "\"port\":1},\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"gallery\":%s}",
             gallery);
    write_text("fs.json", text);
    path(p, sizeof p, "fs.json");
    pm_error_t e;
    pm_error_clear(&e);
    if (pm_node_config_load(p, cfg, &e))
        fail_msg("%s: %s", gallery, e.msg);
}

/* "gallery": {"first_stage": false} alone turns the first stage off and
 * leaves the gallery in process. */
static void test_config_first_stage_off(void **state)
{
    (void)state;
    pm_node_config_t cfg;
    load_with_gallery("{\"first_stage\":false}", &cfg);
    assert_int_equal(cfg.gallery_exhaustive, 1);
    assert_int_equal(cfg.gallery_shards, 0);
    assert_int_equal(cfg.gallery_fused_nominal, 0); /* calibrated unless turned off */
    assert_int_equal(cfg.gallery_threads, 0);       /* one per CPU unless set */
    pm_node_config_free(&cfg);
    /* "fused_calibration": false beside it: raw fused scores, still in process */
    load_with_gallery("{\"first_stage\":false,\"fused_calibration\":false}", &cfg);
    assert_int_equal(cfg.gallery_exhaustive, 1);
    assert_int_equal(cfg.gallery_fused_nominal, 1);
    assert_int_equal(cfg.gallery_shards, 0);
    pm_node_config_free(&cfg);
    /* "threads": the in-process gallery's search threads */
    load_with_gallery("{\"threads\":3}", &cfg);
    assert_int_equal(cfg.gallery_threads, 3);
    assert_int_equal(cfg.gallery_exhaustive, 0);
    assert_int_equal(cfg.gallery_shards, 0);
    pm_node_config_free(&cfg);
}

/* Each bad configuration is refused with the key named. */
static void test_config_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *want;
    } cases[] = {
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"colour\":1}",
         "colour: unknown field"},
        {"{\"country\":\"ZZZ\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"}}",
         "country: 'ZZZ'"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":"
         "\"1\"},\"tls\":{\"cert\":\"c\",\"key\":\"k\"}}",
         "listen.port: must be an integer"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"limits\":{\"workers\":0}}",
         "limits.workers: must be in 1..64"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"partners\":[{\"code\":\"USA\",\"ca\":"
         "\"pair/CAN/partners/USA-ca.pem\",\"agreement\":\"a.json\"}]}",
         "needs subjects or pins"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"partners\":[{\"code\":\"USA\",\"ca\":"
         "\"missing.pem\",\"subjects\":[\"CN=x\"],\"agreement\":\"a.json\"}]}",
         "partners[0].ca"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\"", "malformed JSON"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\"},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"}}",
         "listen.port: required"},
        /* the feed over JetStream */
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"partners\":[{\"code\":\"USA\",\"ca\":"
         "\"pair/CAN/partners/USA-ca.pem\",\"subjects\":[\"CN=x\"],\"agreement\":\"a.json\","
         "\"jetstream\":{\"url\":\"http://x\"}}]}",
         "jetstream.url: must start with nats://"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"partners\":[{\"code\":\"USA\",\"ca\":"
         "\"pair/CAN/partners/USA-ca.pem\",\"subjects\":[\"CN=x\"],\"agreement\":\"a.json\","
         "\"jetstream\":{\"url\":\"nats://127.0.0.1:4222\",\"receive\":true}}]}",
         "jetstream.domain: required with receive"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"partners\":[{\"code\":\"USA\",\"ca\":"
         "\"pair/CAN/partners/USA-ca.pem\",\"subjects\":[\"CN=x\"],\"agreement\":\"a.json\","
         "\"jetstream\":{\"url\":\"nats://127.0.0.1:4222\",\"receive\":true,\"domain\":\"U.S\"}}]}",
         "jetstream.domain: letters"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"partners\":[{\"code\":\"USA\",\"ca\":"
         "\"pair/CAN/partners/USA-ca.pem\",\"subjects\":[\"CN=x\"],\"agreement\":\"a.json\","
         "\"url\":\"https://127.0.0.1:1\",\"push\":true,"
         "\"jetstream\":{\"url\":\"nats://127.0.0.1:4222\",\"send\":true}}]}",
         "push and jetstream.send"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"partners\":[{\"code\":\"USA\",\"ca\":"
         "\"pair/CAN/partners/USA-ca.pem\",\"subjects\":[\"CN=x\"],\"agreement\":\"a.json\","
         "\"jetstream\":{\"url\":\"nats://127.0.0.1:4222\",\"sned\":true}}]}",
         "jetstream.sned: unknown field"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"gallery\":{\"nats\":\"nats://h:1\",\"shards\":0}}",
         "gallery.shards: must be in 1..256"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"gallery\":{\"nats\":\"http://h:1\",\"shards\":2}}",
         "gallery.nats: must start with nats://"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"gallery\":{\"shards\":2}}",
         "gallery.nats: required"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"gallery\":{\"nats\":\"nats://h:1\",\"shards\":2,"
         "\"hedge_ms\":-5}}",
         "gallery.hedge_ms: must be in -1..600000"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"gallery\":{\"nats\":\"nats://h:1\",\"shards\":2,"
         "\"prefix\":\"a b\"}}",
         "gallery.prefix"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"gallery\":{\"first_stage\":1}}",
         "gallery.first_stage"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"gallery\":{\"fused_calibration\":\"yes\"}}",
         "gallery.fused_calibration"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"gallery\":{\"first_stage\":true,"
         "\"hedge_ms\":5}}",
         "need \"nats\""},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"gallery\":{\"nats\":\"nats://h:1\"}}",
         "gallery.shards: required"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"gallery\":{\"threads\":257}}",
         "gallery.threads: must be in 0..256"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"gallery\":{\"threads\":-1}}",
         "gallery.threads: must be in 0..256"},
        {"{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\",\"port\":1},"
         "\"tls\":{\"cert\":\"c\",\"key\":\"k\"},\"gallery\":{\"nats\":\"nats://h:1\",\"shards\":2,"
         "\"threads\":2}}",
         "gallery.threads: the in-process gallery's"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_text("bad.json", cases[i].json);
        char p[4096];
        path(p, sizeof p, "bad.json");
        pm_node_config_t cfg;
        pm_error_t e;
        pm_error_clear(&e);
        assert_int_not_equal(pm_node_config_load(p, &cfg, &e), PM_OK);
        if (!strstr(e.msg, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, cases[i].want);
    }
}

/* A node refuses to start on a malformed or self-contradicting agreement,
 * naming the file, the line and the reason. */
static void test_agreement_refusals(void **state)
{
    (void)state;
    char p[4096];
    path(p, sizeof p, "pair/CAN/node.json");
    uint8_t *cfg_text = NULL;
    size_t cfg_len = 0;
    pm_error_t e;
    assert_int_equal(pm_file_read(p, 1u << 20, &cfg_text, &cfg_len, &e), PM_OK);
    char *at = strstr((char *)cfg_text, "agreement-USA.json");
    assert_non_null(at);
    memcpy(at, "agreement-BAD.json", 18);
    write_text("pair/CAN/bad-node.json", (char *)cfg_text);
    free(cfg_text);
    path(p, sizeof p, "pair/CAN/agreement-USA.json");
    uint8_t *good = NULL;
    size_t good_len = 0;
    assert_int_equal(pm_file_read(p, 1u << 20, &good, &good_len, &e), PM_OK);
    static const struct {
        const char *from, *to, *want;
    } cases[] = {
        /* a syntax error: jansson's line */
        {"\"purposes\": [", "\"purposes\": [,", "line 4: "},
        /* an allow-list for a purpose the agreement does not list */
        {"\"BORDER-EXIT\": [\"surname\"", "\"FISHING\": [\"surname\"",
         "line 13: $.allow.FISHING"},
        /* a field outside the legal list */
        {"\"IMMIGRATION\": [\"citizenship\"", "\"IMMIGRATION\": [\"licence_plate\"",
         "line 11: $.allow.IMMIGRATION[0]: 'licence_plate'"},
        /* probes kept: contradicts R6 */
        {"\"probe\": 0", "\"probe\": 3", "$.retention_days.probe"},
        /* an agreement between two other countries */
        {"\"parties\": [\"CAN\", \"USA\"]", "\"parties\": [\"FRA\", \"USA\"]",
         "between FRA and USA, not CAN"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *hit = strstr((char *)good, cases[i].from);
        assert_non_null(hit);
        pm_buf_t b;
        pm_buf_init(&b, 0);
        assert_int_equal(pm_buf_append(&b, good, (size_t)(hit - (char *)good)), PM_OK);
        assert_int_equal(pm_buf_append_str(&b, cases[i].to), PM_OK);
        assert_int_equal(pm_buf_append_str(&b, hit + strlen(cases[i].from)), PM_OK);
        write_text("pair/CAN/agreement-BAD.json", (char *)b.data);
        pm_buf_free(&b);
        path(p, sizeof p, "pair/CAN/bad-node.json");
        pm_node_config_t cfg;
        pm_error_clear(&e);
        assert_int_not_equal(pm_node_config_load(p, &cfg, &e), PM_OK);
        if (!strstr(e.msg, cases[i].want) || !strstr(e.msg, "partners[0].agreement") ||
            !strstr(e.msg, "agreement-BAD.json"))
            fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, cases[i].want);
    }
    /* a feed purpose the (good) agreement does not list */
    write_text("pair/CAN/agreement-BAD.json", (char *)good);
    path(p, sizeof p, "pair/CAN/bad-node.json");
    uint8_t *bad_cfg = NULL;
    size_t bad_len = 0;
    assert_int_equal(pm_file_read(p, 1u << 20, &bad_cfg, &bad_len, &e), PM_OK);
    char *k = strstr((char *)bad_cfg, "\"agreement\":");
    assert_non_null(k);
    pm_buf_t b;
    pm_buf_init(&b, 0);
    assert_int_equal(pm_buf_append(&b, bad_cfg, (size_t)(k - (char *)bad_cfg)), PM_OK);
    assert_int_equal(pm_buf_append_str(&b, "\"feed_purpose\": \"ENTRY-EXIT\", "), PM_OK);
    assert_int_equal(pm_buf_append_str(&b, k), PM_OK);
    write_text("pair/CAN/bad-node.json", (char *)b.data);
    pm_buf_free(&b);
    free(bad_cfg);
    pm_node_config_t cfg;
    pm_error_clear(&e);
    assert_int_not_equal(pm_node_config_load(p, &cfg, &e), PM_OK);
    if (!strstr(e.msg, "partners[0].feed_purpose: 'ENTRY-EXIT' is not a purpose of the agreement"))
        fail_msg("feed purpose: '%s'", e.msg);
    free(good);
}

/* DER of a PEM certificate file (caller frees). */
static void *der_of(const char *rel, size_t *out_len)
{
    char p[4096];
    path(p, sizeof p, rel);
    gnutls_datum_t pem, der;
    assert_int_equal(gnutls_load_file(p, &pem), 0);
    gnutls_x509_crt_t crt;
    gnutls_x509_crt_init(&crt);
    assert_int_equal(gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM), 0);
    assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
    gnutls_x509_crt_deinit(crt);
    gnutls_free(pem.data);
    void *copy = malloc(der.size);
    memcpy(copy, der.data, der.size);
    *out_len = der.size;
    gnutls_free(der.data);
    return copy;
}

static int peer(const pm_node_config_t *cfg, const char *rel, const pm_node_partner_t **p,
                pm_error_t *e)
{
    size_t len = 0;
    void *der = der_of(rel, &len);
    const void *list[1] = {der};
    size_t lens[1] = {len};
    int rc = pm_node_peer_partner(cfg, list, lens, 1, p, e);
    free(der);
    return rc;
}

static void test_peer_check(void **state)
{
    (void)state;
    char p[4096], a[4096], b[4096];
    path(p, sizeof p, "pair/CAN/node.json");
    pm_node_config_t cfg;
    pm_error_t e;
    assert_int_equal(pm_node_config_load(p, &cfg, &e), PM_OK);
    const pm_node_partner_t *who = NULL;
    /* the partner's node: accepted, mapped to USA */
    assert_int_equal(peer(&cfg, "pair/USA/node.pem", &who, &e), PM_OK);
    assert_non_null(who);
    assert_string_equal(who->code, "USA");
    /* our own node certificate: another CA */
    assert_int_equal(peer(&cfg, "pair/CAN/node.pem", &who, &e), PM_EDENIED);
    assert_null(who);
    assert_non_null(strstr(e.msg, "not issued by a partner CA"));
    /* no certificate */
    assert_int_equal(pm_node_peer_partner(&cfg, NULL, NULL, 0, &who, &e), PM_EDENIED);
    assert_non_null(strstr(e.msg, "no client certificate"));
    /* the partner's CA, an unlisted subject (and another key) */
    path(a, sizeof a, "other.pem");
    path(b, sizeof b, "other.key");
    char ca[4096], cakey[4096];
    path(ca, sizeof ca, "pair/USA/ca/ca.pem");
    path(cakey, sizeof cakey, "pair/USA/ca/ca.key");
    assert_int_equal(pm_node_pki_issue(ca, cakey, "CN=someone-else,O=Perimeter test PKI USA", 30,
                                       a, b, &e),
                     PM_OK);
    assert_int_equal(peer(&cfg, "other.pem", &who, &e), PM_EDENIED);
    assert_non_null(strstr(e.msg, "neither its subject is listed nor its key pinned"));
    /* ... accepted once its key is pinned */
    char pin[72], dn[512];
    assert_int_equal(pm_node_pki_describe(a, pin, dn, sizeof dn, &e), PM_OK);
    assert_string_equal(dn, "CN=someone-else,O=Perimeter test PKI USA");
    memcpy(cfg.partners[0].pins[cfg.partners[0].npins++], pin, 72);
    assert_int_equal(peer(&cfg, "other.pem", &who, &e), PM_OK);
    /* a certificate with the listed subject from an unknown CA */
    path(ca, sizeof ca, "rogue-ca.pem");
    path(cakey, sizeof cakey, "rogue-ca.key");
    assert_int_equal(pm_node_pki_make_ca("CN=Rogue CA", 30, ca, cakey, &e), PM_OK);
    assert_int_equal(pm_node_pki_issue(ca, cakey, "CN=perimeter-node-USA,O=Perimeter test PKI USA",
                                       30, a, b, &e),
                     PM_OK);
    assert_int_equal(peer(&cfg, "other.pem", &who, &e), PM_EDENIED);
    assert_non_null(strstr(e.msg, "not issued by a partner CA"));
    pm_node_config_free(&cfg);
}

static void test_officers_and_sessions(void **state)
{
    (void)state;
    char p[4096];
    path(p, sizeof p, "officers.db");
    pm_store_t *st = NULL;
    pm_error_t e;
    assert_int_equal(pm_store_open(p, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_officer_add(st, "alice", "correct horse", PM_ROLE_OFFICER, 0, &e), PM_OK);
    assert_int_equal(pm_officer_add(st, "alice", "another one", PM_ROLE_ADMIN, 0, &e), PM_EEXISTS);
    assert_int_equal(pm_officer_add(st, "bob", "short", PM_ROLE_OFFICER, 0, &e), PM_EINVAL);
    assert_int_equal(pm_officer_add(st, "bad name", "long enough", PM_ROLE_OFFICER, 0, &e),
                     PM_EINVAL);
    pm_officer_role_t role = PM_ROLE_NONE;
    assert_int_equal(pm_officer_check(st, "alice", "correct horse", &role, &e), PM_OK);
    assert_int_equal(role, PM_ROLE_OFFICER);
    assert_int_equal(pm_officer_check(st, "alice", "wrong horse", &role, &e), PM_EDENIED);
    char msg_wrong_pw[PM_ERRMSG_MAX];
    memcpy(msg_wrong_pw, e.msg, sizeof msg_wrong_pw);
    assert_int_equal(pm_officer_check(st, "nobody", "correct horse", &role, &e), PM_EDENIED);
    assert_string_equal(e.msg, msg_wrong_pw); /* no hint which part was wrong */
    pm_store_close(st);

    pm__sessions_t *s = NULL;
    assert_int_equal(pm__sessions_new(2, 60, &s, &e), PM_OK);
    char t1[65], t2[65], t3[65], name[65];
    int64_t exp;
    assert_int_equal(pm__sessions_create(s, "alice", PM_ROLE_OFFICER, t1, &exp, &e), PM_OK);
    assert_int_equal(strlen(t1), 64);
    assert_int_equal(pm__sessions_create(s, "bob", PM_ROLE_ADMIN, t2, &exp, &e), PM_OK);
    assert_int_equal(pm__sessions_create(s, "carol", PM_ROLE_ADMIN, t3, &exp, &e), PM_ELIMIT);
    assert_int_equal(pm__sessions_find(s, t1, name, &role), PM_OK);
    assert_string_equal(name, "alice");
    assert_int_equal(pm__sessions_find(s, t2, name, &role), PM_OK);
    assert_int_equal(role, PM_ROLE_ADMIN);
    t2[0] = t2[0] == 'a' ? 'b' : 'a';
    assert_int_equal(pm__sessions_find(s, t2, name, &role), PM_EDENIED);
    pm__sessions_drop(s, t1);
    assert_int_equal(pm__sessions_find(s, t1, name, &role), PM_EDENIED);
    assert_int_equal(pm__sessions_count(s), 1);
    pm__sessions_free(s);
}

static void test_json_check(void **state)
{
    (void)state;
    static const pm__jfield_t f[] = {{"name", JSON_STRING, 1, 5}, {"n", JSON_INTEGER, 0, 0},
                                     {"ok", JSON_TRUE, 0, 0}};
    static const struct {
        const char *json;
        int rc;
        const char *field;
    } cases[] = {
        {"{\"name\":\"abc\",\"n\":1,\"ok\":false}", PM_OK, ""},
        {"{\"name\":\"abc\",\"x\":1}", PM_EVALIDATION, "x"},
        {"{\"n\":1}", PM_EVALIDATION, "name"},
        {"{\"name\":1}", PM_EVALIDATION, "name"},
        {"{\"name\":\"abcdef\"}", PM_EVALIDATION, "name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *o = NULL;
        pm_error_t e;
        assert_int_equal(pm__json_parse(cases[i].json, strlen(cases[i].json), &o, &e), PM_OK);
        char field[64];
        assert_int_equal(pm__json_check(o, "", f, 3, field, sizeof field, &e), cases[i].rc);
        assert_string_equal(field, cases[i].field);
        json_decref(o);
    }
    json_t *o = NULL;
    pm_error_t e;
    assert_int_equal(pm__json_parse("{\"a\":1,\"a\":2}", 13, &o, &e), PM_EFORMAT);
    assert_int_equal(pm__json_parse("[1]", 3, &o, &e), PM_EFORMAT);
    assert_int_equal(pm__json_parse("{\"a\":\"x\\u0000y\"}", 16, &o, &e), PM_EFORMAT);
    assert_int_equal(pm__json_parse("{\"a\":", 5, &o, &e), PM_EFORMAT);
}

/* A node in this process, on a kernel-chosen port, answering over TLS. */
static void test_server_in_process(void **state)
{
    (void)state;
    char p[4096];
    path(p, sizeof p, "pair/CAN/node.json");
    pm_node_config_t cfg;
    pm_error_t e;
    assert_int_equal(pm_node_config_load(p, &cfg, &e), PM_OK);
    cfg.port = 0;
    pm_node_options_t o = {NULL, NULL, 1};
    pm_node_t *node = NULL;
    int rc = pm_node_start(&cfg, &o, &node, &e);
    if (rc)
        fail_msg("start: %s", e.msg);
    unsigned port = pm_node_port(node);
    assert_true(port > 0);
    char url[64], ca[4096], cert[4096], key[4096];
    snprintf(url, sizeof url, "https://127.0.0.1:%u", port);
    path(ca, sizeof ca, "pair/CAN/ca/ca.pem");
    path(cert, sizeof cert, "pair/USA/node.pem");
    path(key, sizeof key, "pair/USA/node.key");
    pm_node_request_t anon = {url, ca, NULL, NULL, NULL, 10, 0, NULL};
    pm_node_request_t usa = {url, ca, cert, key, NULL, 10, 0, cfg.partners[0].agreement->hash_hex};
    long status = 0;
    pm_buf_t body;
    assert_int_equal(pm_node_call(&anon, "GET", "/health", NULL, 0, NULL, &status, &body, &e),
                     PM_OK);
    assert_int_equal(status, 200);
    assert_non_null(strstr((char *)body.data, "\"CAN\""));
    pm_buf_free(&body);
    assert_int_equal(
        pm_node_call(&anon, "GET", "/v1/partner/hello", NULL, 0, NULL, &status, &body, &e), PM_OK);
    assert_int_equal(status, 401);
    pm_buf_free(&body);
    assert_int_equal(
        pm_node_call(&usa, "GET", "/v1/partner/hello", NULL, 0, NULL, &status, &body, &e), PM_OK);
    assert_int_equal(status, 200);
    assert_non_null(strstr((char *)body.data, "\"partner\":\"USA\""));
    pm_buf_free(&body);
    /* the partner's certificate does not open an officer route */
    assert_int_equal(
        pm_node_call(&usa, "GET", "/v1/feed/status", NULL, 0, NULL, &status, &body, &e), PM_OK);
    assert_int_equal(status, 401);
    pm_buf_free(&body);
    /* the feed cursor runs on a worker */
    assert_int_equal(pm_node_call(&usa, "GET", "/v1/partner/feed/cursor", NULL, 0, NULL, &status,
                                  &body, &e),
                     PM_OK);
    assert_int_equal(status, 200);
    assert_non_null(strstr((char *)body.data, "\"cursor\":0"));
    pm_buf_free(&body);
    assert_int_equal(pm_node_call(&anon, "GET", "/nowhere", NULL, 0, NULL, &status, &body, &e),
                     PM_OK);
    assert_int_equal(status, 404);
    pm_buf_free(&body);
    assert_int_equal(pm_node_call(&anon, "DELETE", "/health", NULL, 0, NULL, &status, &body, &e),
                     PM_OK);
    assert_int_equal(status, 405);
    pm_buf_free(&body);
    assert_int_equal(pm_node_call(&anon, "GET", "/metrics", NULL, 0, NULL, &status, &body, &e),
                     PM_OK);
    assert_int_equal(status, 200);
    assert_non_null(strstr((char *)body.data,
                           "perimeter_http_requests_total{method=\"GET\",route=\"/health\","
                           "status=\"2xx\"} 1"));
    pm_buf_free(&body);
    pm_node_stop(node, 1000);
    pm_node_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_refuses_overwrite),
        cmocka_unit_test(test_agreement_refusals),
        cmocka_unit_test(test_config_loads),
        cmocka_unit_test(test_config_first_stage_off),
        cmocka_unit_test(test_config_refusals),
        cmocka_unit_test(test_peer_check),
        cmocka_unit_test(test_officers_and_sessions),
        cmocka_unit_test(test_json_check),
        cmocka_unit_test(test_server_in_process),
    };
    return PM_RUN_TESTS("node", tests, setup, teardown);
}
