/* libFuzzer target: opening a sealed blob (pm_seal_open, src/core/seal.c),
 * what a node reads back from its disk. The key is fixed (bytes 1..32, id
 * "fuzzkey!"), so the seeds (made by running this binary with
 * PM_FUZZ_MAKE_SEED=DIR and no input) open. Input: one byte choosing the
 * context ("template", "image", "gallery-snapshot"), then the blob.
 * Invariants: the result is PM_OK, PM_EFORMAT, PM_EDENIED or PM_ECHECKSUM; a
 * refusal appends nothing; an opened blob gives exactly its length less the
 * overhead, and the plaintext sealed again opens to the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *const contexts[3] = {"template", "image", "gallery-snapshot"};
static pm_seal_key_t key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    memcpy(key.id, "fuzzkey!", PM_SEAL_ID_BYTES);
    for (int i = 0; i < PM_SEAL_KEY_BYTES; i++) key.key[i] = (uint8_t)(i + 1);
    const char *dir = getenv("PM_FUZZ_MAKE_SEED");
    if (dir) {
        static const char *const plain[3] = {"PMT\1 a native template", "\x89PNG image bytes", ""};
        for (int c = 0; c < 3; c++) {
            pm_buf_t b;
            pm_buf_init(&b, 1u << 20);
            pm_error_t e;
            uint8_t sel = (uint8_t)c;
            if (pm_buf_append(&b, &sel, 1) ||
                pm_seal(&key, contexts[c], plain[c], strlen(plain[c]), &b, &e))
                abort();
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", dir, contexts[c]);
            FILE *f = fopen(p, "wb");
            if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) abort();
            pm_buf_free(&b);
        }
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *ctx = contexts[data[0] % 3];
    pm_buf_t out, again, back;
    pm_buf_init(&out, 1u << 24);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_seal_open(&key, 1, ctx, data + 1, size - 1, &out, &e);
    if (rc != PM_OK) {
        if (rc != PM_EFORMAT && rc != PM_EDENIED && rc != PM_ECHECKSUM) abort();
        if (out.len != 0 || memchr(e.msg, '\0', sizeof e.msg) == NULL) abort();
        pm_buf_free(&out);
        return 0;
    }
    if (out.len != size - 1 - PM_SEAL_OVERHEAD) abort();
    pm_buf_init(&again, 1u << 24);
    pm_buf_init(&back, 1u << 24);
    if (pm_seal(&key, ctx, out.data, out.len, &again, &e) ||
        pm_seal_open(&key, 1, ctx, again.data, again.len, &back, &e) || back.len != out.len ||
        (out.len && memcmp(back.data, out.data, out.len)))
        abort();
    pm_buf_free(&out);
    pm_buf_free(&again);
    pm_buf_free(&back);
    return 0;
}
