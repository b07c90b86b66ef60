/* Login limits that hold (issue 18 step 2, docs/security.md "Officers and
 * insiders"): FAILED logins are counted per officer name and per client
 * address; past limits.login_failures (login_failures_ip) the name (the
 * address) is locked for login_lock_s, doubling with each further failure
 * (at most an hour), and an attempt while locked is refused 429 with
 * Retry-After BEFORE the password is checked: no Argon2id run. A success
 * resets both. A name's lock is kept in the store (table login_lock), so a
 * restart does not lift it; address counts live in memory. Attempts in
 * flight count too, so a burst at the threshold cannot all slip through to
 * Argon2id at once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"

static const pm_migration_t login_steps[] = {
    {1, "officer login locks (failed attempts past the limit)",
     "CREATE TABLE login_lock (\n"
     "  name TEXT PRIMARY KEY,\n"
     "  failures INTEGER NOT NULL,\n"
     "  locked_until INTEGER NOT NULL\n"
     ") STRICT;\n",
     "CREATE TABLE login_lock (\n"
     "  name text PRIMARY KEY,\n"
     "  failures bigint NOT NULL,\n"
     "  locked_until bigint NOT NULL\n"
     ");\n"},
};
static const pm_migration_set_t login_schema = {"login", login_steps, 1};

#define SLOTS 1024
#define LOCK_MAX_S 3600

typedef struct slot {
    char key[80];
    unsigned failures, inflight;
    int64_t locked_until, last;
} slot_t;

struct pm__login_limit {
    pthread_mutex_t mu;
    unsigned max_name, max_ip, lock_s;
    slot_t names[SLOTS], addrs[SLOTS];
};

int pm__login_limit_new(const pm_node_limits_t *l, pm__login_limit_t **out, pm_error_t *err)
{
    pm__login_limit_t *ll = calloc(1, sizeof *ll);
    if (!ll)
        return pm_error_set(err, PM_ENOMEM, "login limits: out of memory");
    pthread_mutex_init(&ll->mu, NULL);
    ll->max_name = l->login_failures ? l->login_failures : 5;
    ll->max_ip = l->login_failures_ip ? l->login_failures_ip : 20;
    ll->lock_s = l->login_lock_s ? l->login_lock_s : 1;
    *out = ll;
    return PM_OK;
}

void pm__login_limit_free(pm__login_limit_t *ll)
{
    if (!ll)
        return;
    pthread_mutex_destroy(&ll->mu);
    free(ll);
}

int pm__login_limit_migrate(pm_store_t *st, pm_error_t *err)
{
    return pm_store_migrate(st, &login_schema, err);
}

/* The slot of key, or a free / least recently used unlocked one (new: *fresh). */
static slot_t *find(slot_t *t, const char *key, int64_t now, int *fresh)
{
    slot_t *victim = NULL;
    *fresh = 0;
    for (size_t i = 0; i < SLOTS; i++) {
        if (t[i].key[0] && strcmp(t[i].key, key) == 0)
            return &t[i];
        if (t[i].inflight)
            continue;
        if (!victim || !t[i].key[0] ||
            (victim->key[0] && t[i].locked_until <= now && t[i].last < victim->last))
            victim = &t[i];
    }
    if (!victim)
        victim = &t[0]; /* every slot busy: reuse the first (bounded memory wins) */
    memset(victim, 0, sizeof *victim);
    snprintf(victim->key, sizeof victim->key, "%s", key);
    *fresh = 1;
    return victim;
}

static int64_t lock_for(unsigned failures, unsigned max, unsigned base)
{
    unsigned over = failures - max; /* failures >= max */
    int64_t s = over >= 12 ? LOCK_MAX_S : (int64_t)base << over;
    return s > LOCK_MAX_S ? LOCK_MAX_S : s;
}

/* A name's durable lock (after a restart). */
static void load_name(pm_store_t *st, slot_t *s)
{
    pm_stmt_t *q = NULL;
    pm_error_t e;
    if (!st || pm_stmt_prepare(st, "SELECT failures, locked_until FROM login_lock WHERE name = ?",
                               &q, &e))
        return;
    pm_stmt_bind_text(q, 1, s->key);
    if (pm_stmt_step(q, &e) == 1) {
        s->failures = (unsigned)pm_stmt_int64(q, 0);
        s->locked_until = pm_stmt_int64(q, 1);
    }
    pm_stmt_finish(q);
}

unsigned pm__login_gate(pm__login_limit_t *ll, pm_store_t *st, const char *name, const char *addr,
                        int64_t now, unsigned *failures)
{
    int fresh = 0;
    unsigned wait = 0;
    pthread_mutex_lock(&ll->mu);
    slot_t *n = find(ll->names, name ? name : "", now, &fresh);
    if (fresh)
        load_name(st, n);
    slot_t *a = find(ll->addrs, addr ? addr : "", now, &fresh);
    n->last = a->last = now;
    int64_t until = n->locked_until > a->locked_until ? n->locked_until : a->locked_until;
    if (until > now)
        wait = (unsigned)(until - now);
    else if ((n->inflight && n->failures + n->inflight >= ll->max_name) ||
             (a->inflight && a->failures + a->inflight >= ll->max_ip))
        wait = 1; /* at the threshold with attempts still being checked */
    if (!wait) {
        n->inflight++;
        a->inflight++;
    }
    if (failures)
        *failures = n->failures > a->failures ? n->failures : a->failures;
    pthread_mutex_unlock(&ll->mu);
    return wait;
}

int pm__login_result(pm__login_limit_t *ll, pm_store_t *st, const char *name, const char *addr,
                     int ok, int64_t now, unsigned *lock_s, pm_error_t *err)
{
    int fresh = 0;
    pthread_mutex_lock(&ll->mu);
    slot_t *n = find(ll->names, name ? name : "", now, &fresh);
    slot_t *a = find(ll->addrs, addr ? addr : "", now, &fresh);
    if (n->inflight)
        n->inflight--;
    if (a->inflight)
        a->inflight--;
    if (ok < 0) { /* no outcome (the check itself failed): nothing counted */
        pthread_mutex_unlock(&ll->mu);
        *lock_s = 0;
        return PM_OK;
    }
    int had_lock = n->failures >= ll->max_name;
    int64_t until = 0;
    unsigned failures = 0;
    *lock_s = 0;
    if (ok) {
        n->failures = a->failures = 0;
        n->locked_until = a->locked_until = 0;
    } else {
        failures = ++n->failures;
        a->failures++;
        if (n->failures >= ll->max_name)
            n->locked_until = until = now + lock_for(n->failures, ll->max_name, ll->lock_s);
        if (a->failures >= ll->max_ip)
            a->locked_until = now + lock_for(a->failures, ll->max_ip, ll->lock_s);
        int64_t u = n->locked_until > a->locked_until ? n->locked_until : a->locked_until;
        *lock_s = u > now ? (unsigned)(u - now) : 0;
    }
    pthread_mutex_unlock(&ll->mu);
    /* the name's lock survives a restart */
    if (!st || (ok && !had_lock) || (!ok && !until))
        return PM_OK;
    pm_stmt_t *q = NULL;
    int rc = pm_stmt_prepare(st,
                             ok ? "DELETE FROM login_lock WHERE name = ?"
                                : "INSERT INTO login_lock (name, failures, locked_until) VALUES "
                                  "(?, ?, ?) ON CONFLICT (name) DO UPDATE SET failures = "
                                  "excluded.failures, locked_until = excluded.locked_until",
                             &q, err);
    if (rc)
        return rc;
    pm_stmt_bind_text(q, 1, name ? name : "");
    if (!ok) {
        pm_stmt_bind_int64(q, 2, failures);
        pm_stmt_bind_int64(q, 3, until);
    }
    rc = pm_stmt_step(q, err);
    pm_stmt_finish(q);
    return rc < 0 ? rc : PM_OK;
}
