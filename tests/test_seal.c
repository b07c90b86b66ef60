/* seal: authenticated encryption at rest. A sealed blob opens with its key
 * and context only; any altered byte, a truncation, another context or
 * another key is refused and nothing is appended; key files are created
 * 0600, never overwritten, refused when readable by others; rotation opens
 * old blobs with the old key among the loaded ones; a passphrase derives
 * the same key from the same salt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "perimeter/seal.h"

static void test_round_trip_and_tamper(void **state)
{
    (void)state;
    char *dir = pm_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/data.key", dir);
    pm_seal_key_t k, k2;
    pm_error_t e;
    assert_int_equal(pm_seal_key_new(path, &k, &e), PM_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(pm_seal_key_new(path, &k2, &e), PM_EEXISTS);
    assert_int_equal(pm_seal_key_load(path, &k2, &e), PM_OK);
    assert_memory_equal(&k, &k2, sizeof k);
    const char msg[] = "minutiae of subject 42";
    pm_buf_t s, o;
    pm_buf_init(&s, 1u << 20);
    pm_buf_init(&o, 1u << 20);
    assert_int_equal(pm_seal(&k, "template", msg, sizeof msg, &s, &e), PM_OK);
    assert_int_equal(s.len, sizeof msg + PM_SEAL_OVERHEAD);
    assert_true(pm_seal_is_sealed(s.data, s.len));
    assert_null(memmem(s.data, s.len, "subject 42", 10)); /* not in clear */
    assert_int_equal(pm_seal_open(&k, 1, "template", s.data, s.len, &o, &e), PM_OK);
    assert_int_equal(o.len, sizeof msg);
    assert_memory_equal(o.data, msg, sizeof msg);
    /* every single-byte change is refused, nothing appended */
    for (size_t i = 0; i < s.len; i++) {
        s.data[i] ^= 0x20;
        pm_buf_reset(&o);
        int rc = pm_seal_open(&k, 1, "template", s.data, s.len, &o, &e);
        assert_true(rc == PM_ECHECKSUM || rc == PM_EFORMAT || rc == PM_EDENIED);
        assert_int_equal(o.len, 0);
        s.data[i] ^= 0x20;
    }
    pm_buf_reset(&o);
    assert_int_equal(pm_seal_open(&k, 1, "template", s.data, s.len - 1, &o, &e), PM_ECHECKSUM);
    assert_int_equal(pm_seal_open(&k, 1, "template", s.data, 10, &o, &e), PM_EFORMAT);
    assert_int_equal(pm_seal_open(&k, 1, "image", s.data, s.len, &o, &e), PM_ECHECKSUM);
    /* rotation: a new key; the old blob opens with both loaded, not with the new alone */
    char path2[4200];
    snprintf(path2, sizeof path2, "%s/data2.key", dir);
    pm_seal_key_t ring[2];
    assert_int_equal(pm_seal_key_new(path2, &ring[0], &e), PM_OK);
    ring[1] = k;
    assert_int_equal(pm_seal_open(ring, 1, "template", s.data, s.len, &o, &e), PM_EDENIED);
    assert_int_equal(pm_seal_open(ring, 2, "template", s.data, s.len, &o, &e), PM_OK);
    /* a key file readable by others is refused */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(pm_seal_key_load(path, &k2, &e), PM_EDENIED);
    /* passphrase: the same salt gives the same key */
    uint8_t salt[PM_SEAL_SALT_BYTES] = {1, 2, 3};
    pm_seal_key_t d1, d2;
    assert_int_equal(pm_seal_key_derive("correct horse battery", 21, salt, &d1, &e), PM_OK);
    assert_int_equal(pm_seal_key_derive("correct horse battery", 21, salt, &d2, &e), PM_OK);
    assert_memory_equal(&d1, &d2, sizeof d1);
    salt[0] = 9;
    assert_int_equal(pm_seal_key_derive("correct horse battery", 21, salt, &d2, &e), PM_OK);
    assert_memory_not_equal(d1.key, d2.key, sizeof d1.key);
    assert_int_equal(pm_seal_key_derive("short", 5, salt, &d2, &e), PM_EINVAL);
    pm_buf_reset(&s);
    assert_int_equal(pm_seal(&d1, "gallery-snapshot", "", 0, &s, &e), PM_OK); /* empty plaintext */
    pm_buf_reset(&o);
    assert_int_equal(pm_seal_open(&d1, 1, "gallery-snapshot", s.data, s.len, &o, &e), PM_OK);
    assert_int_equal(o.len, 0);
    pm_seal_key_wipe(&k);
    pm_buf_free(&s);
    pm_buf_free(&o);
    pm_test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_tamper),
    };
    return PM_RUN_TESTS("seal", tests, NULL, NULL);
}
