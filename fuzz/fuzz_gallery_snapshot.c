/* libFuzzer target: the gallery snapshot loader (pm_gallery_load) on
 * arbitrary files, then a search of whatever it accepted.
 * Input: one flags byte, then the file. Flags bit 0: the harness first makes
 * the header's layout fields agree with this build and the record count with
 * the size (so mutations reach past the layout checks); bit 1: it recomputes
 * the BLAKE2b checksum (so they reach the field-range and duplicate checks
 * and the search). Invariants: a refused file leaves the gallery as it was
 * (count unchanged); an accepted one holds exactly the header's count; a
 * search on it never fails except for memory. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "gallery/gallery_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pm_gallery_t *gal;
static pm_fingerprint_t probe;
static char path[64];

static void setup(void)
{
    pm_error_t e = {0};
    pm_gallery_options_t o = {.threads = 1};
    if (pm_gallery_new(&o, &gal, &e))
        abort();
    pm_fingerprint_t *m = malloc(sizeof *m);
    if (!m)
        abort();
    pm_gallery_synth_master(5, 1, m);
    pm_gallery_synth_impression(m, 5, 1, 1, NULL, &probe);
    free(m);
    snprintf(path, sizeof path, "/tmp/fuzz-gallery-snapshot-%ld", (long)getpid());
    if (sodium_init() < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!gal)
        setup();
    if (size < 1 || size > (1u << 20))
        return 0;
    uint8_t flags = data[0];
    size_t n = size - 1;
    uint8_t *f = malloc(n ? n : 1);
    if (!f)
        return 0;
    memcpy(f, data + 1, n);
    if (n >= 96 && (flags & 1)) {
        uint32_t layout[6] = {1, 96, 0x01020304u, PM_GALLERY_MAX_MINUTIAE, PM_GALLERY_KEYS,
                              PM__GAL_RECORD_BYTES};
        memcpy(f, "PMGALSNP", 8);
        memcpy(f + 8, layout, sizeof layout);
        uint64_t count = (n - 96) / PM__GAL_RECORD_BYTES;
        memcpy(f + 32, &count, 8);
        n = 96 + count * PM__GAL_RECORD_BYTES;
    }
    if (n >= 96 && (flags & 2)) {
        memset(f + 48, 0, 32);
        uint8_t sum[32];
        crypto_generichash(sum, 32, f, n, NULL, 0);
        memcpy(f + 48, sum, 32);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    if (n && write(fd, f, n) != (ssize_t)n)
        abort();
    close(fd);

    size_t before = pm_gallery_count(gal);
    pm_error_t e = {0};
    uint64_t gen = 0;
    int rc = pm_gallery_load(gal, path, &gen, &e);
    if (rc) {
        if (pm_gallery_count(gal) != before)
            abort();
    } else {
        uint64_t count;
        memcpy(&count, f + 32, 8);
        if (pm_gallery_count(gal) != count)
            abort();
        if (count > 64) /* the exact stage costs ~0.1 ms a record: keep inputs fast */
            goto done;
        pm_gallery_finger_t pf = {0, &probe};
        pm_gallery_candidate_t c[5];
        size_t nc = 0;
        for (int fs = 0; fs < 2; fs++) {
            pm_gallery_search_options_t so = {.max_candidates = 5, .first_stage = fs};
            int r = pm_gallery_identify(gal, &pf, 1, &so, c, &nc, NULL, &e);
            if (r && r != PM_ENOMEM)
                abort();
        }
    }
done:
    unlink(path);
    free(f);
    return 0;
}
