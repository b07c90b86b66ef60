/* Officer accounts (Argon2id password hashes in the store) and bearer
 * session tokens (random, only their BLAKE2b hash kept, in memory). */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/node_impl.h"

/* The node's own tables. Released steps are never edited; changes are new steps. */
static const pm_migration_t node_steps[] = {
    {1, "officer accounts and feed push state",
     "CREATE TABLE officer (\n"
     "  name TEXT PRIMARY KEY,\n"
     "  pwhash TEXT NOT NULL,\n"
     "  role TEXT NOT NULL CHECK (role IN ('officer', 'supervisor', 'admin')),\n"
     "  created_at INTEGER NOT NULL\n"
     ") STRICT;\n"
     "CREATE TABLE feed_push (\n"
     "  partner TEXT PRIMARY KEY CHECK (length(partner) = 3),\n"
     "  acked INTEGER NOT NULL DEFAULT 0,\n"
     "  failures INTEGER NOT NULL DEFAULT 0,\n"
     "  last_error TEXT NOT NULL DEFAULT '',\n"
     "  last_ok_at INTEGER NOT NULL DEFAULT 0\n"
     ") STRICT;\n",
     "CREATE TABLE officer (\n"
     "  name text PRIMARY KEY,\n"
     "  pwhash text NOT NULL,\n"
     "  role text NOT NULL CHECK (role IN ('officer', 'supervisor', 'admin')),\n"
     "  created_at bigint NOT NULL\n"
     ");\n"
     "CREATE TABLE feed_push (\n"
     "  partner text PRIMARY KEY CHECK (length(partner) = 3),\n"
     "  acked bigint NOT NULL DEFAULT 0,\n"
     "  failures bigint NOT NULL DEFAULT 0,\n"
     "  last_error text NOT NULL DEFAULT '',\n"
     "  last_ok_at bigint NOT NULL DEFAULT 0\n"
     ");\n"},
    {2, "what the node knows of each enrolled subject (R2 class, R3 prior decisions, R4 fields)",
     "CREATE TABLE gallery_subject (\n"
     "  subject INTEGER PRIMARY KEY,\n"
     "  surname TEXT NOT NULL DEFAULT '',\n"
     "  given_names TEXT NOT NULL DEFAULT '',\n"
     "  date_of_birth TEXT NOT NULL DEFAULT '',\n"
     "  citizenship TEXT NOT NULL DEFAULT '',\n"
     "  sex TEXT NOT NULL DEFAULT '',\n"
     "  status TEXT NOT NULL DEFAULT 'foreign_national' CHECK (status IN ('foreign_national',\n"
     "    'citizen', 'permanent_resident', 'asylum_claimant')),\n"
     "  persecution_by TEXT NOT NULL DEFAULT '',\n"
     "  prior_adverse INTEGER NOT NULL DEFAULT 0,\n"
     "  refused INTEGER NOT NULL DEFAULT 0,\n"
     "  removed INTEGER NOT NULL DEFAULT 0,\n"
     "  decisions TEXT NOT NULL DEFAULT '',\n"
     "  encounters INTEGER NOT NULL DEFAULT 0\n"
     ") STRICT;\n",
     "CREATE TABLE gallery_subject (\n"
     "  subject bigint PRIMARY KEY,\n"
     "  surname text NOT NULL DEFAULT '',\n"
     "  given_names text NOT NULL DEFAULT '',\n"
     "  date_of_birth text NOT NULL DEFAULT '',\n"
     "  citizenship text NOT NULL DEFAULT '',\n"
     "  sex text NOT NULL DEFAULT '',\n"
     "  status text NOT NULL DEFAULT 'foreign_national' CHECK (status IN ('foreign_national',\n"
     "    'citizen', 'permanent_resident', 'asylum_claimant')),\n"
     "  persecution_by text NOT NULL DEFAULT '',\n"
     "  prior_adverse bigint NOT NULL DEFAULT 0,\n"
     "  refused bigint NOT NULL DEFAULT 0,\n"
     "  removed bigint NOT NULL DEFAULT 0,\n"
     "  decisions text NOT NULL DEFAULT '',\n"
     "  encounters bigint NOT NULL DEFAULT 0\n"
     ");\n"},
    {3, "the web console's roles (vetting officer, adjudicator, analyst, auditor)",
     "CREATE TABLE officer_v3 (\n"
     "  name TEXT PRIMARY KEY,\n"
     "  pwhash TEXT NOT NULL,\n"
     "  role TEXT NOT NULL CHECK (role IN ('officer', 'supervisor', 'admin', 'vetting_officer',\n"
     "    'adjudicator', 'analyst', 'auditor')),\n"
     "  created_at INTEGER NOT NULL\n"
     ") STRICT;\n"
     "INSERT INTO officer_v3 (name, pwhash, role, created_at)\n"
     "  SELECT name, pwhash, role, created_at FROM officer;\n"
     "DROP TABLE officer;\n"
     "ALTER TABLE officer_v3 RENAME TO officer;\n",
     /* PostgreSQL changes the CHECK in place (the same rows, the same rule) */
     "ALTER TABLE officer DROP CONSTRAINT officer_role_check;\n"
     "ALTER TABLE officer ADD CONSTRAINT officer_role_check CHECK (role IN ('officer',\n"
     "  'supervisor', 'admin', 'vetting_officer', 'adjudicator', 'analyst', 'auditor'));\n"},
};
static const pm_migration_set_t node_schema = {"node", node_steps,
                                               sizeof node_steps / sizeof node_steps[0]};

int pm__node_migrate(pm_store_t *st, pm_error_t *err)
{
    int rc = pm_store_migrate(st, &node_schema, err);
    if (rc)
        return rc;
    return pm__replay_migrate(st, err);
}

static const char *const role_names[PM_ROLE_COUNT] = {
    "", "officer", "supervisor", "admin", "vetting_officer", "adjudicator", "analyst", "auditor"};

const char *pm_officer_role_name(pm_officer_role_t r)
{
    return r >= PM_ROLE_OFFICER && r < PM_ROLE_COUNT ? role_names[r] : "";
}

pm_officer_role_t pm_officer_role_from_name(const char *name)
{
    if (name && strcmp(name, "administrator") == 0)
        return PM_ROLE_ADMIN;
    for (int r = PM_ROLE_OFFICER; name && r < PM_ROLE_COUNT; r++)
        if (strcmp(role_names[r], name) == 0)
            return (pm_officer_role_t)r;
    return PM_ROLE_NONE;
}

static int name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n >= 1 && n <= 64 &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-") == n;
}

int pm_officer_add(pm_store_t *st, const char *name, const char *password, pm_officer_role_t role,
                   int replace, pm_error_t *err)
{
    if (!name_ok(name))
        return pm_error_set(err, PM_EINVAL, "officer name: 1-64 of [A-Za-z0-9._@-]");
    size_t plen = password ? strlen(password) : 0;
    if (plen < 8 || plen > 1024)
        return pm_error_set(err, PM_EINVAL, "password: 8 to 1024 bytes");
    if (role == PM_ROLE_NONE || !pm_officer_role_name(role)[0])
        return pm_error_set(err, PM_EINVAL, "role: officer, supervisor, admin, vetting_officer, "
                                            "adjudicator, analyst or auditor");
    int rc = pm__node_migrate(st, err);
    if (rc)
        return rc;
    if (sodium_init() < 0)
        return pm_error_set(err, PM_EINTERNAL, "libsodium cannot initialise");
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(hash, password, plen, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return pm_error_set(err, PM_ENOMEM, "Argon2id: out of memory");
    pm_stmt_t *q = NULL;
    const char *sql = replace ? "INSERT INTO officer (name, pwhash, role, created_at) VALUES "
                                "(?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                                "pwhash = excluded.pwhash, role = excluded.role"
                              : "INSERT INTO officer (name, pwhash, role, created_at) VALUES "
                                "(?, ?, ?, ?)";
    if ((rc = pm_stmt_prepare(st, sql, &q, err))) {
        pm_error_prefix(err, "officer");
        return rc;
    }
    pm_stmt_bind_text(q, 1, name);
    pm_stmt_bind_text(q, 2, hash);
    pm_stmt_bind_text(q, 3, pm_officer_role_name(role));
    pm_stmt_bind_int64(q, 4, (int64_t)time(NULL));
    rc = pm_stmt_step(q, err);
    pm_stmt_finish(q);
    if (rc == PM_EEXISTS)
        return pm_error_set(err, PM_EEXISTS, "officer '%s' exists (use replace)", name);
    if (rc < 0) {
        pm_error_prefix(err, "officer");
        return rc;
    }
    return PM_OK;
}

int pm_officer_check(pm_store_t *st, const char *name, const char *password,
                     pm_officer_role_t *out_role, pm_error_t *err)
{
    *out_role = PM_ROLE_NONE;
    if (sodium_init() < 0)
        return pm_error_set(err, PM_EINTERNAL, "libsodium cannot initialise");
    size_t plen = password ? strlen(password) : 0;
    char hash[crypto_pwhash_STRBYTES] = "";
    char role[16] = "";
    int found = 0;
    if (name_ok(name) && plen <= 1024) {
        pm_stmt_t *q = NULL;
        int rc = pm_stmt_prepare(st, "SELECT pwhash, role FROM officer WHERE name = ?", &q, err);
        if (rc) {
            pm_error_prefix(err, "officer");
            return rc;
        }
        pm_stmt_bind_text(q, 1, name);
        rc = pm_stmt_step(q, err);
        if (rc == 1) {
            const char *h = pm_stmt_text(q, 0), *r = pm_stmt_text(q, 1);
            snprintf(hash, sizeof hash, "%s", h ? h : "");
            snprintf(role, sizeof role, "%s", r ? r : "");
            found = 1;
        }
        pm_stmt_finish(q);
        if (rc < 0) {
            pm_error_prefix(err, "officer");
            return rc;
        }
    }
    /* Same message for an unknown name and a wrong password. */
    if (!found || crypto_pwhash_str_verify(hash, password ? password : "", plen) != 0)
        return pm_error_set(err, PM_EDENIED, "unknown officer or wrong password");
    *out_role = pm_officer_role_from_name(role);
    return *out_role == PM_ROLE_NONE ? pm_error_set(err, PM_ECORRUPT, "officer role '%s'", role)
                                     : PM_OK;
}

/* ------------------------------------------------------------ sessions */

struct session {
    unsigned char hash[crypto_generichash_BYTES]; /* of the token; all zero = free slot */
    char name[65];
    pm_officer_role_t role;
    int64_t expires;
};

struct pm__sessions {
    unsigned char csrf_key[crypto_generichash_KEYBYTES]; /* random per node run */
    pthread_mutex_t mu;
    struct session *slots;
    unsigned max, ttl_s;
};

int pm__sessions_new(unsigned max, unsigned ttl_s, pm__sessions_t **out, pm_error_t *err)
{
    if (sodium_init() < 0)
        return pm_error_set(err, PM_EINTERNAL, "libsodium cannot initialise");
    pm__sessions_t *s = calloc(1, sizeof *s);
    if (!s || !(s->slots = calloc(max, sizeof *s->slots))) {
        free(s);
        return pm_error_set(err, PM_ENOMEM, "sessions: out of memory");
    }
    randombytes_buf(s->csrf_key, sizeof s->csrf_key);
    pthread_mutex_init(&s->mu, NULL);
    s->max = max;
    s->ttl_s = ttl_s;
    *out = s;
    return PM_OK;
}

void pm__sessions_free(pm__sessions_t *s)
{
    if (!s)
        return;
    sodium_memzero(s->slots, (size_t)s->max * sizeof *s->slots);
    free(s->slots);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void token_hash(const char *token, unsigned char out[crypto_generichash_BYTES])
{
    crypto_generichash(out, crypto_generichash_BYTES, (const unsigned char *)token,
                       strlen(token), NULL, 0);
}

static int slot_free(const struct session *x, int64_t now)
{
    return x->expires <= now;
}

int pm__sessions_create(pm__sessions_t *s, const char *name, pm_officer_role_t role,
                        char token[65], int64_t *out_expires, pm_error_t *err)
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token, 65, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&s->mu);
    struct session *slot = NULL;
    for (unsigned i = 0; i < s->max && !slot; i++)
        if (slot_free(&s->slots[i], now))
            slot = &s->slots[i];
    if (slot) {
        token_hash(token, slot->hash);
        snprintf(slot->name, sizeof slot->name, "%s", name);
        slot->role = role;
        slot->expires = now + s->ttl_s;
        *out_expires = slot->expires;
    }
    pthread_mutex_unlock(&s->mu);
    if (!slot) {
        sodium_memzero(token, 65);
        return pm_error_set(err, PM_ELIMIT, "too many open sessions");
    }
    return PM_OK;
}

int pm__sessions_find(pm__sessions_t *s, const char *token, char name[65],
                      pm_officer_role_t *out_role)
{
    if (!token || strlen(token) != 64)
        return PM_EDENIED;
    unsigned char h[crypto_generichash_BYTES];
    token_hash(token, h);
    int64_t now = (int64_t)time(NULL);
    int rc = PM_EDENIED;
    pthread_mutex_lock(&s->mu);
    for (unsigned i = 0; i < s->max; i++) {
        struct session *x = &s->slots[i];
        if (!slot_free(x, now) && sodium_memcmp(x->hash, h, sizeof h) == 0) {
            memcpy(name, x->name, 65);
            *out_role = x->role;
            rc = PM_OK;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int pm__sessions_lookup(pm__sessions_t *s, const char *token, char name[65],
                        pm_officer_role_t *out_role, int64_t *out_expires, char csrf[65])
{
    if (!token || strlen(token) != 64)
        return PM_EDENIED;
    unsigned char h[crypto_generichash_BYTES];
    token_hash(token, h);
    int64_t now = (int64_t)time(NULL);
    int rc = PM_EDENIED;
    pthread_mutex_lock(&s->mu);
    for (unsigned i = 0; i < s->max; i++) {
        struct session *x = &s->slots[i];
        if (!slot_free(x, now) && sodium_memcmp(x->hash, h, sizeof h) == 0) {
            memcpy(name, x->name, 65);
            *out_role = x->role;
            if (out_expires)
                *out_expires = x->expires;
            rc = PM_OK;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (rc == PM_OK && csrf) {
        /* The session's CSRF token: keyed BLAKE2b of the token's hash, so it
         * is fixed for the session, unguessable without the session, and
         * needs no storage. */
        unsigned char c[32];
        crypto_generichash(c, sizeof c, h, sizeof h, s->csrf_key, sizeof s->csrf_key);
        sodium_bin2hex(csrf, 65, c, sizeof c);
    }
    return rc;
}

void pm__sessions_drop(pm__sessions_t *s, const char *token)
{
    if (!token || strlen(token) != 64)
        return;
    unsigned char h[crypto_generichash_BYTES];
    token_hash(token, h);
    pthread_mutex_lock(&s->mu);
    for (unsigned i = 0; i < s->max; i++)
        if (sodium_memcmp(s->slots[i].hash, h, sizeof h) == 0)
            memset(&s->slots[i], 0, sizeof s->slots[i]);
    pthread_mutex_unlock(&s->mu);
}

size_t pm__sessions_count(pm__sessions_t *s)
{
    int64_t now = (int64_t)time(NULL);
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    for (unsigned i = 0; i < s->max; i++)
        n += !slot_free(&s->slots[i], now);
    pthread_mutex_unlock(&s->mu);
    return n;
}
