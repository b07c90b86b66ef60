/* The node's data key ("data_key" in node.json, docs/security.md "A stolen
 * node disk"): parsed with the configuration, loaded once at start into the
 * node's seal ring, which every store handle of the node seals with. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node/node_impl.h"
#include "perimeter/seal.h"

static int path_of(const char *dir, const char *rel, char *out, size_t cap, const char *field,
                   pm_error_t *err)
{
    int n = rel[0] == '/' ? snprintf(out, cap, "%s", rel) : snprintf(out, cap, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= cap)
        return pm_error_set(err, PM_ELIMIT, "%s: path too long", field);
    return PM_OK;
}

int pm__node_data_key_parse(const json_t *o, const char *dir, pm_node_config_t *cfg,
                            pm_error_t *err)
{
    static const pm__jfield_t f[] = {{"file", JSON_STRING, 0, 0},
                                     {"passphrase_file", JSON_STRING, 0, 0},
                                     {"salt", JSON_STRING, 0, 32},
                                     {"old", JSON_ARRAY, 0, 3}};
    int rc = pm__json_check(o, "data_key", f, sizeof f / sizeof f[0], NULL, 0, err);
    if (rc)
        return rc;
    const char *file = pm__json_str(o, "file"), *pass = pm__json_str(o, "passphrase_file"),
               *salt = pm__json_str(o, "salt");
    if (!file == !pass)
        return pm_error_set(err, PM_EVALIDATION,
                            "data_key: exactly one of \"file\" (a key file) or "
                            "\"passphrase_file\" (with \"salt\")");
    if (file && (rc = path_of(dir, file, cfg->data_key_file, sizeof cfg->data_key_file,
                              "data_key.file", err)))
        return rc;
    if (pass) {
        size_t bl = 0;
        if (!salt || sodium_hex2bin(cfg->data_salt, sizeof cfg->data_salt, salt, strlen(salt),
                                    NULL, &bl, NULL) != 0 ||
            bl != sizeof cfg->data_salt)
            return pm_error_set(err, PM_EVALIDATION,
                                "data_key.salt: 32 hex digits are required with a passphrase");
        if ((rc = path_of(dir, pass, cfg->data_passphrase_file, sizeof cfg->data_passphrase_file,
                          "data_key.passphrase_file", err)))
            return rc;
    } else if (salt)
        return pm_error_set(err, PM_EVALIDATION, "data_key.salt: only with passphrase_file");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "old"), i, v) {
        if (!json_is_string(v) || !json_string_value(v)[0])
            return pm_error_set(err, PM_EVALIDATION, "data_key.old[%zu]: a key file path", i);
        if ((rc = path_of(dir, json_string_value(v), cfg->data_old_keys[i],
                          sizeof cfg->data_old_keys[i], "data_key.old", err)))
            return rc;
        cfg->ndata_old_keys = i + 1;
    }
    return PM_OK;
}

/* A passphrase file: private like a key file; its first line is the
 * passphrase (a trailing newline is not part of it). */
static int derive(const char *path, const uint8_t salt[16], pm_seal_key_t *out, pm_error_t *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return pm_error_set(err, errno == ENOENT ? PM_ENOTFOUND : PM_EIO, "%s: %s", path,
                            strerror(errno));
    if (sb.st_mode & 077)
        return pm_error_set(err, PM_EDENIED,
                            "%s: readable by group or others (mode %03o); chmod 600", path,
                            (unsigned)(sb.st_mode & 0777));
    uint8_t *d = NULL;
    size_t n = 0;
    int rc = pm_file_read(path, 4096, &d, &n, err);
    if (rc)
        return rc;
    size_t len = 0;
    while (len < n && d[len] != '\n' && d[len] != '\r')
        len++;
    rc = pm_seal_key_derive((const char *)d, len, salt, out, err);
    sodium_memzero(d, n);
    free(d);
    return rc;
}

int pm_node_data_keys_load(const pm_node_config_t *cfg, pm_seal_ring_t *ring, pm_error_t *err)
{
    if (!cfg || !ring)
        return pm_error_set(err, PM_EINVAL, "data key: NULL argument");
    memset(ring, 0, sizeof *ring);
    int rc = PM_OK;
    if (cfg->data_key_file[0])
        rc = pm_seal_key_load(cfg->data_key_file, &ring->keys[0], err);
    else if (cfg->data_passphrase_file[0])
        rc = derive(cfg->data_passphrase_file, cfg->data_salt, &ring->keys[0], err);
    else
        return PM_OK; /* no data key: in clear */
    if (rc) {
        pm_error_prefix(err, "data_key");
        return rc;
    }
    ring->n = 1;
    for (size_t i = 0; i < cfg->ndata_old_keys && i + 1 < PM_SEAL_RING_MAX; i++) {
        if ((rc = pm_seal_key_load(cfg->data_old_keys[i], &ring->keys[ring->n], err))) {
            pm_error_prefix(err, "data_key.old[%zu]", i);
            pm_seal_ring_wipe(ring);
            return rc;
        }
        ring->n++;
    }
    return PM_OK;
}
