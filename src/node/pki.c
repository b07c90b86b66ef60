/* Certificates: the test PKI `perimeter init` writes (GnuTLS's X.509 API) and
 * the peer check every partner route runs before its handler. */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node/node_impl.h"

#define PEM_MAX (1u << 20)

static int tls_err(pm_error_t *err, int g, const char *what)
{
    return pm_error_set(err, PM_ETLS, "%s: %s", what, gnutls_strerror(g));
}

/* Writes data to path atomically, the file created with mode (0600 for
 * keys) so that a key is never readable by others, not even briefly. */
static int write_file(const char *path, const void *data, size_t len, mode_t mode, pm_error_t *err)
{
    return pm_file_write_atomic_mode(path, data, len, (unsigned)mode, err);
}

static int load_crt(const char *path, gnutls_x509_crt_t *out, pm_error_t *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(path, PEM_MAX, &data, &len, err);
    if (rc)
        return rc;
    gnutls_datum_t d = {data, (unsigned)len};
    int g = gnutls_x509_crt_init(out);
    if (!g)
        g = gnutls_x509_crt_import(*out, &d, GNUTLS_X509_FMT_PEM);
    free(data);
    if (g) {
        gnutls_x509_crt_deinit(*out);
        *out = NULL;
        return pm_error_set(err, PM_ETLS, "%s: not a PEM certificate: %s", path,
                            gnutls_strerror(g));
    }
    return PM_OK;
}

static int load_key(const char *path, gnutls_x509_privkey_t *out, pm_error_t *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = pm_file_read(path, PEM_MAX, &data, &len, err);
    if (rc)
        return rc;
    gnutls_datum_t d = {data, (unsigned)len};
    int g = gnutls_x509_privkey_init(out);
    if (!g)
        g = gnutls_x509_privkey_import(*out, &d, GNUTLS_X509_FMT_PEM);
    memset(data, 0, len);
    free(data);
    if (g) {
        gnutls_x509_privkey_deinit(*out);
        *out = NULL;
        return pm_error_set(err, PM_ETLS, "%s: not a PEM private key: %s", path,
                            gnutls_strerror(g));
    }
    return PM_OK;
}

static int export_crt(gnutls_x509_crt_t crt, const char *path, pm_error_t *err)
{
    gnutls_datum_t d = {NULL, 0};
    int g = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d);
    if (g)
        return tls_err(err, g, "export certificate");
    int rc = write_file(path, d.data, d.size, 0644, err);
    gnutls_free(d.data);
    return rc;
}

static int export_key(gnutls_x509_privkey_t key, const char *path, pm_error_t *err)
{
    gnutls_datum_t d = {NULL, 0};
    int g = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d);
    if (g)
        return tls_err(err, g, "export key");
    int rc = write_file(path, d.data, d.size, 0600, err);
    gnutls_memset(d.data, 0, d.size);
    gnutls_free(d.data);
    return rc;
}

/* Common fields of a new certificate: v3, random serial, validity, DN, key. */
static int crt_base(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *dn,
                    unsigned days, pm_error_t *err)
{
    unsigned char serial[16];
    int g = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial);
    serial[0] &= 0x7f; /* positive */
    serial[0] |= 0x01; /* no leading zero byte */
    time_t now = time(NULL);
    const char *bad = NULL;
    if (!g)
        g = gnutls_x509_crt_set_version(crt, 3);
    if (!g)
        g = gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
    if (!g)
        g = gnutls_x509_crt_set_activation_time(crt, now - 3600);
    if (!g)
        g = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * 86400);
    if (!g && (g = gnutls_x509_crt_set_dn(crt, dn, &bad)))
        return pm_error_set(err, PM_EINVAL, "distinguished name '%s': %s near '%s'", dn,
                            gnutls_strerror(g), bad ? bad : "");
    if (!g)
        g = gnutls_x509_crt_set_key(crt, key);
    if (!g) {
        unsigned char id[64];
        size_t idlen = sizeof id;
        g = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &idlen);
        if (!g)
            g = gnutls_x509_crt_set_subject_key_id(crt, id, idlen);
    }
    return g ? tls_err(err, g, "certificate") : PM_OK;
}

static int new_key(gnutls_x509_privkey_t *key, pm_error_t *err)
{
    int g = gnutls_x509_privkey_init(key);
    if (!g)
        g = gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
                                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    if (g) {
        gnutls_x509_privkey_deinit(*key);
        *key = NULL;
        return tls_err(err, g, "generate key");
    }
    return PM_OK;
}

int pm_node_pki_make_ca(const char *dn, unsigned days, const char *cert_path,
                        const char *key_path, pm_error_t *err)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    int rc = new_key(&key, err);
    if (rc)
        return rc;
    int g = gnutls_x509_crt_init(&crt);
    if (g) {
        rc = tls_err(err, g, "certificate");
        goto out;
    }
    if ((rc = crt_base(crt, key, dn, days ? days : 365, err)))
        goto out;
    if ((g = gnutls_x509_crt_set_basic_constraints(crt, 1, 0)) ||
        (g = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN)) ||
        (g = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0))) {
        rc = tls_err(err, g, "sign CA certificate");
        goto out;
    }
    if (!(rc = export_key(key, key_path, err)))
        rc = export_crt(crt, cert_path, err);
out:
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
    return rc;
}

int pm_node_pki_issue(const char *ca_cert, const char *ca_key, const char *dn, unsigned days,
                      const char *cert_path, const char *key_path, pm_error_t *err)
{
    gnutls_x509_crt_t ca = NULL, crt = NULL;
    gnutls_x509_privkey_t cakey = NULL, key = NULL;
    int rc, g;
    if ((rc = load_crt(ca_cert, &ca, err)) || (rc = load_key(ca_key, &cakey, err)) ||
        (rc = new_key(&key, err)))
        goto out;
    if ((g = gnutls_x509_crt_init(&crt))) {
        rc = tls_err(err, g, "certificate");
        goto out;
    }
    if ((rc = crt_base(crt, key, dn, days ? days : 365, err)))
        goto out;
    static const unsigned char loopback[4] = {127, 0, 0, 1};
    unsigned char akid[64];
    size_t akid_len = sizeof akid;
    if ((g = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) ||
        (g = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) ||
        (g = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) ||
        (g = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0)) ||
        (g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                                  GNUTLS_FSAN_APPEND)) ||
        (g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, loopback, 4,
                                                  GNUTLS_FSAN_APPEND)) ||
        (g = gnutls_x509_crt_get_subject_key_id(ca, akid, &akid_len, NULL)) ||
        (g = gnutls_x509_crt_set_authority_key_id(crt, akid, akid_len)) ||
        (g = gnutls_x509_crt_sign2(crt, ca, cakey, GNUTLS_DIG_SHA256, 0))) {
        rc = tls_err(err, g, "sign node certificate");
        goto out;
    }
    if (!(rc = export_key(key, key_path, err)))
        rc = export_crt(crt, cert_path, err);
out:
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_crt_deinit(ca);
    gnutls_x509_privkey_deinit(key);
    gnutls_x509_privkey_deinit(cakey);
    return rc;
}

static int crt_pin(gnutls_x509_crt_t crt, char out[72])
{
    unsigned char id[32];
    size_t n = sizeof id;
    int g = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, id, &n);
    if (g || n != 32)
        return -1;
    memcpy(out, "sha256:", 7);
    for (size_t i = 0; i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", id[i]);
    return 0;
}

static int crt_dn(gnutls_x509_crt_t crt, char *dn, size_t cap)
{
    gnutls_datum_t d = {NULL, 0};
    if (gnutls_x509_crt_get_dn3(crt, &d, 0))
        return -1;
    int ok = d.size < cap;
    if (ok) {
        memcpy(dn, d.data, d.size);
        dn[d.size] = '\0';
    }
    gnutls_free(d.data);
    return ok ? 0 : -1;
}

int pm_node_pki_describe(const char *cert_path, char out_pin[72], char *dn, size_t dn_cap,
                         pm_error_t *err)
{
    gnutls_x509_crt_t crt = NULL;
    int rc = load_crt(cert_path, &crt, err);
    if (rc)
        return rc;
    if (crt_pin(crt, out_pin) || (dn && crt_dn(crt, dn, dn_cap)))
        rc = pm_error_set(err, PM_ETLS, "%s: cannot read key id or subject", cert_path);
    gnutls_x509_crt_deinit(crt);
    return rc;
}

/* 1 if leaf verifies against the partner's CA(s) (signature chain, dates). */
static int issued_by(gnutls_x509_crt_t leaf, const pm_node_partner_t *p)
{
    gnutls_x509_crt_t *cas = NULL;
    unsigned ncas = 0;
    gnutls_datum_t d = {(unsigned char *)p->ca_pem, (unsigned)strlen(p->ca_pem)};
    if (gnutls_x509_crt_list_import2(&cas, &ncas, &d, GNUTLS_X509_FMT_PEM, 0) < 0)
        return 0;
    unsigned status = 1;
    int g = gnutls_x509_crt_verify(leaf, cas, ncas, 0, &status);
    for (unsigned i = 0; i < ncas; i++)
        gnutls_x509_crt_deinit(cas[i]);
    gnutls_free(cas);
    return g == 0 && status == 0;
}

int pm_node_peer_partner(const pm_node_config_t *cfg, const void *const *der,
                         const size_t *der_len, size_t n, const pm_node_partner_t **out_partner,
                         pm_error_t *err)
{
    *out_partner = NULL;
    if (n == 0 || !der || !der[0])
        return pm_error_set(err, PM_EDENIED, "no client certificate (partner routes need mutual TLS)");
    gnutls_x509_crt_t leaf = NULL;
    gnutls_datum_t d = {(unsigned char *)der[0], (unsigned)der_len[0]};
    if (gnutls_x509_crt_init(&leaf) || gnutls_x509_crt_import(leaf, &d, GNUTLS_X509_FMT_DER)) {
        gnutls_x509_crt_deinit(leaf);
        return pm_error_set(err, PM_EDENIED, "client certificate cannot be parsed");
    }
    char dn[PM_NODE_DN_MAX] = "", pin[72] = "";
    if (crt_dn(leaf, dn, sizeof dn) || crt_pin(leaf, pin)) {
        gnutls_x509_crt_deinit(leaf);
        return pm_error_set(err, PM_EDENIED, "client certificate has no readable subject or key");
    }
    int rc = pm_error_set(err, PM_EDENIED, "client certificate '%s' not issued by a partner CA", dn);
    for (size_t i = 0; i < cfg->npartners; i++) {
        const pm_node_partner_t *p = &cfg->partners[i];
        if (!p->ca_pem || !issued_by(leaf, p))
            continue;
        for (size_t k = 0; k < p->nsubjects; k++)
            if (strcmp(p->subjects[k], dn) == 0)
                *out_partner = p;
        for (size_t k = 0; k < p->npins; k++)
            if (strcmp(p->pins[k], pin) == 0)
                *out_partner = p;
        if (*out_partner) {
            rc = PM_OK;
            pm_error_clear(err);
            break;
        }
        rc = pm_error_set(err, PM_EDENIED,
                          "client certificate '%s' (%s) is issued by %s's CA but neither its "
                          "subject is listed nor its key pinned",
                          dn, pin, p->code);
    }
    gnutls_x509_crt_deinit(leaf);
    return rc;
}
