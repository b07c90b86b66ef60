/* libFuzzer target: a checkpoint the partner sends (POST
 * /v1/partner/checkpoint, src/node/checkpoint.c): pm_audit_checkpoint_from_json
 * then pm_audit_checkpoint_store against the partner's pinned key, the calls
 * the route makes, into a temporary file (emptied every 1000 inputs). The
 * pinned key is Ed25519 from a fixed seed, so seeds signed with it (made by
 * running this binary with PM_FUZZ_MAKE_SEED=FILE and no input) reach the
 * store. Invariants: only a checkpoint whose signature verifies against the
 * pinned key (and whose embedded signer is that key) is stored; a stored one
 * reads back from the file identical; a forged or altered one (other signer,
 * other head/count/time) is refused with PM_EDENIED and nothing is written;
 * a genuine one older than the last one stored (fewer entries) or forking
 * from it (same count, another head) is refused with PM_ESTATE and nothing
 * is written. */
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perimeter/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
static char dir[64], file[128];
static unsigned uses;

static off_t file_size(void)
{
    struct stat sb;
    return stat(file, &sb) == 0 ? sb.st_size : 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0) abort();
    unsigned char seed[crypto_sign_SEEDBYTES];
    memset(seed, 0x5a, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    snprintf(dir, sizeof dir, "%s", "/tmp/pm-fuzz-cp-XXXXXX");
    if (!mkdtemp(dir)) abort();
    snprintf(file, sizeof file, "%s/partner-checkpoints.jsonl", dir);
    const char *make = getenv("PM_FUZZ_MAKE_SEED");
    if (make) {
        /* a real checkpoint of a small log, signed with the pinned key */
        char log[128];
        snprintf(log, sizeof log, "%s/audit.log", dir);
        pm_audit_log_t *L = NULL;
        pm_error_t e;
        if (pm_audit_open(log, 1, &L, &e) != PM_OK) abort();
        pm_audit_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = "query";
        ev.actor = "partner:CAN";
        ev.partner = "CAN";
        ev.purpose = "ASYLUM";
        for (int i = 0; i < 3; i++)
            if (pm_audit_append(L, &ev, NULL, &e) != PM_OK) abort();
        pm_audit_checkpoint_t cp;
        if (pm_audit_checkpoint(L, sk, 1780000000, &cp, &e) != PM_OK) abort();
        pm_buf_t b;
        pm_buf_init(&b, 0);
        if (pm_audit_checkpoint_to_json(&cp, &b) != PM_OK) abort();
        FILE *f = fopen(make, "wb");
        if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) abort();
        pm_buf_free(&b);
        pm_audit_close(L, &e);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (++uses > 1000) {
        unlink(file);
        uses = 0;
    }
    pm_audit_checkpoint_t cp;
    pm_error_t e;
    pm_error_clear(&e);
    if (pm_audit_checkpoint_from_json((const char *)data, size, &cp, &e) != PM_OK)
        return 0;
    off_t before = file_size();
    int genuine = pm_audit_checkpoint_check(&cp, pk, &e) == PM_OK;
    int rc = pm_audit_checkpoint_store(file, &cp, pk, &e);
    if (rc == PM_OK) {
        if (!genuine || memcmp(cp.signer, pk, sizeof pk) != 0) abort();
        pm_audit_checkpoint_t *all = NULL;
        size_t n = 0;
        if (pm_audit_checkpoints_load(file, &all, &n, &e) != PM_OK || n == 0) abort();
        if (memcmp(&all[n - 1], &cp, sizeof cp) != 0) abort();
        free(all);
    } else if (genuine && rc == PM_ESTATE) {
        /* rollback or fork: the last one stored has more entries, or as many
         * under another head; nothing written */
        if (file_size() != before) abort();
        pm_audit_checkpoint_t *all = NULL;
        size_t n = 0;
        if (pm_audit_checkpoints_load(file, &all, &n, &e) != PM_OK || n == 0) abort();
        if (!(all[n - 1].count > cp.count ||
              (all[n - 1].count == cp.count && memcmp(all[n - 1].head, cp.head, sizeof cp.head))))
            abort();
        free(all);
    } else {
        if (genuine || rc != PM_EDENIED) abort();
        if (file_size() != before) abort();
    }
    return 0;
}
