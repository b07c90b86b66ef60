/* The node under concurrent clients, for ThreadSanitizer (`make tsan` runs
 * the tests labelled threads): one node started in-process (its HTTP
 * threads, worker pool and feed job, which keeps retrying the partner that
 * is not running) while four client threads at once send partner
 * biographic queries, officer enrolments, officer imports, partner feed
 * pulls and gallery searches. Every answer must be the expected one; TSan
 * fails the run on any data race in our code.
 * ctest-label: threads */
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "perimeter/policy.h"
#include "perimeter/gallery.h"
#include "perimeter/node.h"
#include "perimeter/store.h"
#include "perimeter/tmpl.h"

enum { ROUNDS = 6 };

static char *g_dir;

typedef struct ctx {
    pm_node_request_t usa, off;
    char token[80];
    int kind, failures;
    char why[256];
} ctx_t;

static int setup(void **state)
{
    (void)state;
    g_dir = pm_test_tmpdir();
    pm_node_init_options_t o = {"CAN", "USA", 18443, 18444, 30};
    pm_error_t e;
    char pair[4096];
    snprintf(pair, sizeof pair, "%s/pair", g_dir);
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

static long call(ctx_t *c, const pm_node_request_t *rq, const char *method, const char *path,
                 const char *body, const char *type, pm_buf_t *out)
{
    long status = 0;
    pm_error_t e;
    pm_buf_t b;
    if (pm_node_call(rq, method, path, body, body ? strlen(body) : 0, type, &status, &b, &e)) {
        snprintf(c->why, sizeof c->why, "%s %s: %s", method, path, e.msg);
        return -1;
    }
    if (out)
        *out = b;
    else
        pm_buf_free(&b);
    return status;
}

/* An ISO 19794-2 template of a synthetic finger, base64, in out. */
static void finger_b64(uint64_t subject, uint32_t impression, char *out, size_t cap)
{
    pm_fingerprint_t master, fp;
    pm_gallery_synth_master(18, subject, &master);
    pm_gallery_synth_impression(&master, 18, subject, impression, NULL, &fp);
    pm_buf_t t;
    pm_buf_init(&t, 1u << 20);
    pm_error_t e;
    assert_int_equal(pm_tmpl_write(PM_TMPL_ISO, &fp, 1, &t, &e), PM_OK);
    assert_true(sodium_base64_ENCODED_LEN(t.len, sodium_base64_VARIANT_ORIGINAL) <= cap);
    sodium_bin2base64(out, cap, t.data, t.len, sodium_base64_VARIANT_ORIGINAL);
    pm_buf_free(&t);
}

static void note(ctx_t *c, long got, long want, const char *what)
{
    if (got == want)
        return;
    c->failures++;
    if (!c->why[0])
        snprintf(c->why, sizeof c->why, "%s: status %ld (want %ld)", what, got, want);
}

static void *client(void *v)
{
    ctx_t *c = v;
    char body[8192], b64[4096];
    for (int i = 0; i < ROUNDS; i++) {
        switch (c->kind) {
        case 0: /* the partner's biographic queries, each its own transaction id */
            snprintf(body, sizeof body,
                     "{\"transaction_id\":\"tsan-%d\",\"purpose\":\"ASYLUM\","
                     "\"surname\":\"Nguyen\",\"date_of_birth\":\"1975-04-20\"}",
                     i);
            note(c, call(c, &c->usa, "POST", "/v1/partner/query/biographic", body,
                         "application/json", NULL),
                 200, "partner query");
            break;
        case 1: /* officer enrolments */
            finger_b64((uint64_t)(100 + i), 0, b64, sizeof b64);
            snprintf(body, sizeof body,
                     "{\"subject\":%d,\"person\":{\"surname\":\"T%d\"},\"fingers\":"
                     "[{\"position\":2,\"format\":\"iso19794-2\",\"data\":\"%s\"}]}",
                     100 + i, i, b64);
            note(c, call(c, &c->off, "POST", "/v1/gallery/enrol", body, "application/json", NULL),
                 200, "enrol");
            break;
        case 2: /* officer imports, then the partner pulls the feed */
            snprintf(body, sizeof body,
                     "{\"record_id\":\"CAN-9-%09d\",\"reporting_country\":\"CAN\","
                     "\"direction\":\"exit\",\"timestamp\":\"2026-03-01T10:%02d:00-05:00\","
                     "\"port_code\":\"BLA1\",\"mode\":\"land\",\"surname\":\"Brown\","
                     "\"given_names\":\"Mary\",\"middle_names\":\"\",\"date_of_birth\":"
                     "\"1975-12-01\",\"citizenship\":\"USA\",\"sex\":\"F\",\"document_type\":"
                     "\"P\",\"document_number\":\"Z8203907%d\",\"document_issuer\":\"USA\"}\n",
                     i, i, i);
            note(c, call(c, &c->off, "POST", "/v1/crossings", body, "application/x-ndjson", NULL),
                 200, "import");
            note(c, call(c, &c->usa, "GET", "/v1/partner/feed?since=0&limit=100", NULL, NULL,
                         NULL),
                 200, "feed pull");
            break;
        default: /* officer searches of the gallery being enrolled */
            finger_b64(100, 1, b64, sizeof b64);
            snprintf(body, sizeof body,
                     "{\"fingers\":[{\"format\":\"iso19794-2\",\"data\":\"%s\"}],"
                     "\"max_candidates\":3}",
                     b64);
            note(c, call(c, &c->off, "POST", "/v1/gallery/identify", body, "application/json",
                         NULL),
                 200, "identify");
            note(c, call(c, &c->off, "GET", "/v1/feed/status", NULL, NULL, NULL), 200,
                 "feed status");
            break;
        }
    }
    return NULL;
}

static void test_node_concurrent(void **state)
{
    (void)state;
    char p[4096], ca[4096], cert[4096], key[4096], url[64];
    snprintf(p, sizeof p, "%s/pair/CAN/node.json", g_dir);
    pm_node_config_t cfg;
    pm_error_t e;
    assert_int_equal(pm_node_config_load(p, &cfg, &e), PM_OK);
    cfg.port = 0;
    pm_store_t *st = NULL;
    assert_int_equal(pm_store_open(cfg.store_path, NULL, &st, &e), PM_OK);
    assert_int_equal(pm_officer_add(st, "alice", "correct horse", PM_ROLE_OFFICER, 0, &e), PM_OK);
    pm_store_close(st);
    pm_node_options_t o = {NULL, NULL, 0}; /* the feed job runs too */
    pm_node_t *node = NULL;
    if (pm_node_start(&cfg, &o, &node, &e))
        fail_msg("start: %s", e.msg);
    snprintf(url, sizeof url, "https://127.0.0.1:%u", pm_node_port(node));
    snprintf(ca, sizeof ca, "%s/pair/CAN/ca/ca.pem", g_dir);
    snprintf(cert, sizeof cert, "%s/pair/USA/node.pem", g_dir);
    snprintf(key, sizeof key, "%s/pair/USA/node.key", g_dir);
    pm_node_request_t anon = {url, ca, NULL, NULL, NULL, 60, 0, NULL};
    ctx_t c[4];
    memset(c, 0, sizeof c);
    pm_buf_t b;
    long st_login = call(&c[0], &anon, "POST", "/v1/auth/login",
                         "{\"username\":\"alice\",\"password\":\"correct horse\"}",
                         "application/json", &b);
    assert_int_equal(st_login, 200);
    json_t *j = json_loadb((const char *)b.data, b.len, 0, NULL);
    pm_buf_free(&b);
    assert_non_null(j);
    char token[80];
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(j, "token")));
    json_decref(j);
    pthread_t t[4];
    for (int k = 0; k < 4; k++) {
        c[k].kind = k;
        c[k].usa = (pm_node_request_t){url, ca, cert, key, NULL, 60, 0,
                                       cfg.partners[0].agreement->hash_hex};
        c[k].off = (pm_node_request_t){url, ca, NULL, NULL, token, 60, 0, NULL};
        assert_int_equal(pthread_create(&t[k], NULL, client, &c[k]), 0);
    }
    for (int k = 0; k < 4; k++)
        pthread_join(t[k], NULL);
    for (int k = 0; k < 4; k++)
        if (c[k].failures)
            fail_msg("client %d: %d failures, first: %s", k, c[k].failures, c[k].why);
    pm_node_stop(node, 2000);
    pm_node_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_concurrent),
    };
    return PM_RUN_TESTS("node_threads", tests, setup, teardown);
}
