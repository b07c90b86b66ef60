/* `perimeter init`: a working pair of node configurations with a test PKI. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "node/node_impl.h"
#include "perimeter/travel.h"

/* The agreement `perimeter init` writes for the pair (the same text on both
 * sides, so both compute the same hash). Purposes: ASYLUM and IMMIGRATION
 * for queries, BORDER-EXIT for the entry/exit feed; the quotas are small
 * enough to be reached in a test (biometric 20 a day), a real agreement
 * sets its own. docs/agreement.md explains every key. */
static int write_agreement(const char *path, const char *a, const char *b, pm_error_t *err)
{
    const char *lo = strcmp(a, b) < 0 ? a : b, *hi = strcmp(a, b) < 0 ? b : a;
    pm_buf_t t;
    pm_buf_init(&t, 1u << 16);
    int rc = pm_buf_printf(
        &t,
        "{\n"
        "  \"version\": \"%s-%s-test.1\",\n"
        "  \"parties\": [\"%s\", \"%s\"],\n"
        "  \"purposes\": [\"ASYLUM\", \"IMMIGRATION\", \"BORDER-EXIT\"],\n"
        "  \"never_disclose\": [\"citizen\", \"permanent_resident\",\n"
        "                     \"asylum_claimant_persecution_by_requester\"],\n"
        "  \"allow\": {\n"
        "    \"ASYLUM\": [\"surname\", \"given_names\", \"date_of_birth\", \"citizenship\", "
        "\"sex\",\n"
        "               \"crossing_time\", \"port\", \"direction\", \"mode\",\n"
        "               \"match\", \"prior_encounters\", \"immigration_decisions\", "
        "\"refused\", \"removed\"],\n"
        "    \"IMMIGRATION\": [\"citizenship\", \"document_type\", \"crossing_time\", "
        "\"port\", \"direction\", \"mode\",\n"
        "                    \"match\", \"refused\", \"removed\"],\n"
        "    \"BORDER-EXIT\": [\"surname\", \"given_names\", \"middle_names\", "
        "\"date_of_birth\", \"citizenship\", \"sex\",\n"
        "                    \"document_type\", \"document_number\", \"document_issuer\", "
        "\"crossing_time\", \"port\",\n"
        "                    \"direction\", \"mode\"]\n"
        "  },\n"
        "  \"biographic_query_purposes\": [\"ASYLUM\", \"IMMIGRATION\"],\n"
        "  \"match_threshold\": 40.0,\n"
        "  \"quota\": {\"period_days\": 1, \"biometric_query\": 20, \"biographic_query\": "
        "1000000},\n"
        "  \"retention_days\": {\"crossing\": 5479, \"probe\": 0, \"match_result\": 1826,\n"
        "                     \"received_biographic\": 1826},\n"
        "  \"onward_transfer_consent\": [],\n"
        "  \"review_before_adverse_action\": true,\n"
        "  \"irrelevant_destruction_days\": 30,\n"
        "  \"biographic_with_biometric\": false\n"
        "}\n",
        lo, hi, lo, hi);
    if (rc)
        rc = pm_error_set(err, PM_ENOMEM, "building the agreement");
    else
        rc = pm_file_write_atomic(path, t.data, t.len, err);
    pm_buf_free(&t);
    return rc;
}

/* dir/<cc>/audit.key (secret, 0600) and audit.pub: the Ed25519 key pair that
 * signs the node's disclosure-log checkpoints (the format of `audit keygen`). */
static int make_audit_key(const char *base, pm_error_t *err)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    char hex[2 * crypto_sign_SECRETKEYBYTES + 2], path[PM_NODE_PATH_MAX];
    if (sodium_init() < 0 || crypto_sign_keypair(pk, sk) != 0)
        return pm_error_set(err, PM_EINTERNAL, "libsodium: cannot make a key pair");
    int rc = PM_OK;
    for (int which = 0; which < 2 && !rc; which++) {
        snprintf(path, sizeof path, "%s/%s", base, which ? "audit.pub" : "audit.key");
        sodium_bin2hex(hex, sizeof hex - 1, which ? pk : sk, which ? sizeof pk : sizeof sk);
        size_t n = strlen(hex);
        hex[n] = '\n';
        rc = pm_file_write_atomic_mode(path, hex, n + 1, which ? 0644 : 0600, err);
    }
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(hex, sizeof hex);
    return rc;
}

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
    if ((rc = pm_node_pki_issue(a, b, dn, days, c, k, err)))
        return rc;
    return make_audit_key(base, err);
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
    char pin[72], dn[PM_NODE_DN_MAX], url[128], ca_rel[32], agr_rel[32], pub[80];
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
    snprintf(agr_rel, sizeof agr_rel, "agreement-%s.json", pc);
    if ((rc = path_join(path, sizeof path, base, agr_rel, err)) ||
        (rc = write_agreement(path, cc, pc, err)))
        return rc;
    /* the partner's checkpoint key */
    {
        char pp[PM_NODE_PATH_MAX];
        uint8_t *d = NULL;
        size_t n = 0;
        snprintf(pp, sizeof pp, "%s/%s/audit.pub", dir, pc);
        if ((rc = pm_file_read(pp, 256, &d, &n, err)))
            return rc;
        snprintf(pub, sizeof pub, "%.64s", (const char *)d);
        free(d);
    }
    /* the limits written out for the operator to see are the defaults
     * (pm_node_limits_default), except the feed's interval, shorter here */
    pm_node_limits_t dl;
    pm_node_limits_default(&dl);
    json_t *root = json_pack(
        "{s:s, s:s, s:{s:s, s:I}, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:I}, s:[{s:s, s:s, s:[s], "
        "s:[s], s:s, s:b, s:b, s:s, s:s}], s:{s:I, s:I, s:I, s:I, s:I}}",
        "country", cc, "store", "perimeter.db", "listen", "address", "127.0.0.1", "port",
        (json_int_t)port, "tls", "cert", "node.pem", "key", "node.key", "ca", "ca/ca.pem",
        "audit", "log", "audit.log", "key", "audit.key", "checkpoints", "audit-checkpoints.jsonl",
        "checkpoint_interval_s", (json_int_t)300,
        "partners", "code", pc, "ca", ca_rel, "subjects", dn, "pins", pin, "url", url, "push", 1,
        "pull", 0, "agreement", agr_rel, "audit_pub", pub,
        "limits", "max_json_bytes", (json_int_t)dl.max_json_bytes, "max_import_bytes",
        (json_int_t)dl.max_import_bytes, "workers", (json_int_t)dl.workers, "feed_batch",
        (json_int_t)dl.feed_batch, "feed_interval_ms", (json_int_t)200);
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
