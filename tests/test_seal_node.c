/* The node's data key ("data_key" in node.json, docs/security.md "A stolen
 * node disk"): no key means in clear; a missing, unreadable or too open key
 * (or passphrase) file is refused with a clear error; a key file plus older
 * keys loads a ring that opens old blobs and seals under the new key; a
 * passphrase derives the same key each time; a malformed data_key is
 * refused when the configuration is read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "perimeter/node.h"
#include "perimeter/seal.h"

static char dir[4096];

static void write_file(const char *name, const char *text, mode_t mode)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(p, mode);
}

/* Loads a configuration whose "data_key" is dk (NULL: none); returns the
 * config load's code, and on success the ring load's code. */
static int load(const char *dk, pm_seal_ring_t *ring, pm_error_t *e)
{
    char body[2048];
    snprintf(body, sizeof body,
             "{\"country\":\"CAN\",\"store\":\"x.db\",\"listen\":{\"address\":\"127.0.0.1\","
             "\"port\":1},\"tls\":{\"cert\":\"c\",\"key\":\"k\"}%s%s}",
             dk ? ",\"data_key\":" : "", dk ? dk : "");
    write_file("node.json", body, 0644);
    char p[4200];
    snprintf(p, sizeof p, "%s/node.json", dir);
    pm_node_config_t *cfg = calloc(1, sizeof *cfg);
    assert_non_null(cfg);
    int rc = pm_node_config_load(p, cfg, e);
    if (!rc) {
        rc = pm_node_data_keys_load(cfg, ring, e);
        pm_node_config_free(cfg);
    }
    free(cfg);
    return rc;
}

static void test_data_key(void **state)
{
    (void)state;
    char *tmp = pm_test_tmpdir();
    assert_non_null(tmp);
    snprintf(dir, sizeof dir, "%s", tmp);
    free(tmp);
    pm_seal_ring_t ring;
    pm_error_t e;
    pm_error_clear(&e);
    assert_int_equal(load(NULL, &ring, &e), PM_OK);
    assert_int_equal(ring.n, 0); /* in clear */
    assert_int_equal(load("{\"file\":\"none.key\"}", &ring, &e), PM_ENOTFOUND);
    assert_non_null(strstr(e.msg, "data_key"));
    char p[4200];
    pm_seal_key_t k1, k2;
    snprintf(p, sizeof p, "%s/k1.key", dir);
    assert_int_equal(pm_seal_key_new(p, &k1, &e), PM_OK);
    snprintf(p, sizeof p, "%s/k2.key", dir);
    assert_int_equal(pm_seal_key_new(p, &k2, &e), PM_OK);
    chmod(p, 0644);
    assert_int_equal(load("{\"file\":\"k2.key\"}", &ring, &e), PM_EDENIED);
    assert_non_null(strstr(e.msg, "chmod 600"));
    chmod(p, 0600);
    assert_int_equal(load("{\"file\":\"k2.key\",\"old\":[\"k1.key\"]}", &ring, &e), PM_OK);
    assert_int_equal(ring.n, 2);
    assert_memory_equal(&ring.keys[0], &k2, sizeof k2);
    /* a blob of the old key opens; sealing uses the new one */
    pm_buf_t s = {0}, o = {0}, s2 = {0};
    assert_int_equal(pm_seal(&k1, "template:7:1:1", "minutiae", 8, &s, &e), PM_OK);
    assert_false(pm_seal_ring_current(&ring, s.data, s.len));
    int was = 0;
    assert_int_equal(pm_seal_ring_open(&ring, "template:7:1:1", s.data, s.len, &o, &was, &e),
                     PM_OK);
    assert_true(was);
    assert_int_equal(o.len, 8);
    assert_memory_equal(o.data, "minutiae", 8);
    /* bound to its row: another row's label refuses it, nothing appended */
    o.len = 0;
    assert_int_equal(pm_seal_ring_open(&ring, "template:8:1:1", s.data, s.len, &o, NULL, &e),
                     PM_ECHECKSUM);
    assert_int_equal(o.len, 0);
    assert_int_equal(pm_seal_ring_seal(&ring, "x", "abc", 3, &s2, &e), PM_OK);
    assert_true(pm_seal_ring_current(&ring, s2.data, s2.len));
    /* a clear row (written before the key) reads as is; a sealed one without a key is refused */
    o.len = 0;
    assert_int_equal(pm_seal_ring_open(&ring, "x", "abc", 3, &o, &was, &e), PM_OK);
    assert_false(was);
    assert_int_equal(pm_seal_ring_open(NULL, "x", s2.data, s2.len, &o, NULL, &e), PM_EDENIED);
    pm_buf_free(&s);
    pm_buf_free(&s2);
    pm_buf_free(&o);
    /* the old key alone does not open the new key's blob */
    assert_int_equal(load("{\"file\":\"k1.key\"}", &ring, &e), PM_OK);
    pm_buf_t s3 = {0}, o3 = {0};
    assert_int_equal(pm_seal(&k2, "x", "abc", 3, &s3, &e), PM_OK);
    assert_int_equal(pm_seal_ring_open(&ring, "x", s3.data, s3.len, &o3, NULL, &e), PM_EDENIED);
    pm_buf_free(&s3);
    pm_buf_free(&o3);
    /* passphrase + salt: private file, the same key each time */
    write_file("pass.txt", "correct horse battery staple\n", 0600);
    const char *pp = "{\"passphrase_file\":\"pass.txt\",\"salt\":\"000102030405060708090a0b0c0d0e0f\"}";
    assert_int_equal(load(pp, &ring, &e), PM_OK);
    assert_int_equal(ring.n, 1);
    pm_seal_key_t d1 = ring.keys[0];
    assert_int_equal(load(pp, &ring, &e), PM_OK);
    assert_memory_equal(&ring.keys[0], &d1, sizeof d1);
    write_file("pass.txt", "correct horse battery staple\n", 0640);
    assert_int_equal(load(pp, &ring, &e), PM_EDENIED);
    /* malformed data_key: refused with the configuration */
    assert_int_equal(load("{\"file\":\"k1.key\",\"passphrase_file\":\"pass.txt\"}", &ring, &e),
                     PM_EVALIDATION);
    assert_int_equal(load("{\"passphrase_file\":\"pass.txt\",\"salt\":\"00\"}", &ring, &e),
                     PM_EVALIDATION);
    assert_int_equal(load("{\"passphrase_file\":\"pass.txt\"}", &ring, &e), PM_EVALIDATION);
    assert_int_equal(load("{}", &ring, &e), PM_EVALIDATION);
    assert_int_equal(load("{\"file\":\"k1.key\",\"color\":1}", &ring, &e), PM_EVALIDATION);
    pm_seal_ring_wipe(&ring);
    pm_seal_key_wipe(&k1);
    pm_seal_key_wipe(&k2);
    pm_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_key),
    };
    return PM_RUN_TESTS("seal_node", tests, NULL, NULL);
}
