/* `perimeter init`: a working pair of node configurations with a test PKI. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node/node_impl.h"
#include "perimeter/travel.h"

static int mkdir_p(const char *path, pm_error_t *err)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return pm_error_set(err, PM_EIO, "%s: %s", path, strerror(errno));
    return PM_OK;
}

static int path_join(char *out, size_t cap, const char *a, const char *b, pm_error_t *err)
{
    int n = snprintf(out, cap, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= cap)
        return pm_error_set(err, PM_ELIMIT, "%s/%s: path too long", a, b);
    return PM_OK;
}

/* The CA and the node certificate of one country under dir/<cc>. */
static int make_country(const char *dir, const char *cc, unsigned days, pm_error_t *err)
{
    char base[PM_NODE_PATH_MAX], sub[PM_NODE_PATH_MAX], a[PM_NODE_PATH_MAX], b[PM_NODE_PATH_MAX];
    char dn[256];
    int rc;
    if ((rc = path_join(base, sizeof base, dir, cc, err)) || (rc = mkdir_p(base, err)) ||
        (rc = path_join(sub, sizeof sub, base, "ca", err)) || (rc = mkdir_p(sub, err)) ||
        (rc = path_join(sub, sizeof sub, base, "partners", err)) || (rc = mkdir_p(sub, err)) ||
        (rc = path_join(a, sizeof a, base, "ca/ca.pem", err)) ||
        (rc = path_join(b, sizeof b, base, "ca/ca.key", err)))
        return rc;
    snprintf(dn, sizeof dn, "CN=Perimeter test CA %s,O=Perimeter test PKI %s", cc, cc);
    if ((rc = pm_node_pki_make_ca(dn, days, a, b, err)))
        return rc;
    char c[PM_NODE_PATH_MAX], k[PM_NODE_PATH_MAX];
    if ((rc = path_join(c, sizeof c, base, "node.pem", err)) ||
        (rc = path_join(k, sizeof k, base, "node.key", err)))
        return rc;
    snprintf(dn, sizeof dn, "CN=perimeter-node-%s,O=Perimeter test PKI %s", cc, cc);
    return pm_node_pki_issue(a, b, dn, days, c, k, err);
}

static int copy_file(const char *from, const char *to, pm_error_t *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(from, 1u << 20, &data, &len, err);
    if (!rc)
        rc = pm_file_write_atomic(to, data, len, err);
    free(data);
    return rc;
}

static int write_config(const char *dir, const char *cc, const char *pc, unsigned port,
                        unsigned partner_port, pm_error_t *err)
{
    char base[PM_NODE_PATH_MAX], path[PM_NODE_PATH_MAX], pcert[PM_NODE_PATH_MAX];
    char pin[72], dn[PM_NODE_DN_MAX], url[128], ca_rel[32];
    int rc;
    if ((rc = path_join(base, sizeof base, dir, cc, err)))
        return rc;
    /* the partner's node certificate, to list its subject and pin its key */
    snprintf(path, sizeof path, "%s/%s/node.pem", dir, pc);
    if ((rc = pm_node_pki_describe(path, pin, dn, sizeof dn, err)))
        return rc;
    snprintf(pcert, sizeof pcert, "%s/%s/ca/ca.pem", dir, pc);
    snprintf(ca_rel, sizeof ca_rel, "partners/%s-ca.pem", pc);
    if ((rc = path_join(path, sizeof path, base, ca_rel, err)) ||
        (rc = copy_file(pcert, path, err)))
        return rc;
    snprintf(url, sizeof url, "https://127.0.0.1:%u", partner_port);
    json_t *root = json_pack(
        "{s:s, s:s, s:{s:s, s:I}, s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:[s], s:[s], s:s, s:b, s:b, "
        "s:b, s:[s,s,s]}], s:{s:I, s:I, s:I, s:I, s:I}}",
        "country", cc, "store", "perimeter.db", "listen", "address", "127.0.0.1", "port",
        (json_int_t)port, "tls", "cert", "node.pem", "key", "node.key", "ca", "ca/ca.pem",
        "partners", "code", pc, "ca", ca_rel, "subjects", dn, "pins", pin, "url", url, "push", 1,
        "pull", 0, "biographic_query", 1, "purposes", "IMMIGRATION", "ASYLUM", "BORDER-EXIT",
        "limits", "max_json_bytes", (json_int_t)65536, "max_import_bytes", (json_int_t)(64 << 20),
        "workers", (json_int_t)2, "feed_batch", (json_int_t)5000, "feed_interval_ms",
        (json_int_t)200);
    if (!root)
        return pm_error_set(err, PM_ENOMEM, "building the configuration");
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return pm_error_set(err, PM_ENOMEM, "building the configuration");
    if (!(rc = path_join(path, sizeof path, base, "node.json", err))) {
        pm_buf_t b;
        pm_buf_init(&b, 0);
        if (pm_buf_append_str(&b, text) || pm_buf_append_str(&b, "\n"))
            rc = pm_error_set(err, PM_ENOMEM, "building the configuration");
        else
            rc = pm_file_write_atomic(path, b.data, b.len, err);
        pm_buf_free(&b);
    }
    free(text);
    return rc;
}

int pm_node_init_pair(const char *dir, const pm_node_init_options_t *o, pm_error_t *err)
{
    if (!o || !o->country || !o->partner || strlen(o->country) != 3 || strlen(o->partner) != 3 ||
        !pm_country_is_iso(o->country) || !pm_country_is_iso(o->partner))
        return pm_error_set(err, PM_EINVAL, "country and partner must be ISO 3166-1 alpha-3 codes");
    if (strcmp(o->country, o->partner) == 0)
        return pm_error_set(err, PM_EINVAL, "country and partner must differ");
    unsigned port = o->port ? o->port : 8443, pport = o->partner_port ? o->partner_port : 8444;
    if (port > 65535 || pport > 65535 || port == pport)
        return pm_error_set(err, PM_EINVAL, "ports must be two different numbers in 1..65535");
    const char *cc[2] = {o->country, o->partner};
    int rc;
    for (int i = 0; i < 2; i++) {
        char p[PM_NODE_PATH_MAX];
        struct stat sb;
        if ((rc = path_join(p, sizeof p, dir, cc[i], err)))
            return rc;
        if (stat(p, &sb) == 0)
            return pm_error_set(err, PM_EEXISTS, "%s exists; init never overwrites", p);
    }
    if ((rc = mkdir_p(dir, err)))
        return rc;
    for (int i = 0; i < 2; i++)
        if ((rc = make_country(dir, cc[i], o->days, err)))
            return rc;
    if ((rc = write_config(dir, cc[0], cc[1], port, pport, err)) ||
        (rc = write_config(dir, cc[1], cc[0], pport, port, err)))
        return rc;
    return PM_OK;
}
