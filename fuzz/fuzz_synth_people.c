/* libFuzzer target: the person-master reader of synth (sampling people back
 * from a CSV), then the watchlist, manifest and person writers on whatever it
 * accepted: nothing may crash, and the writers must succeed. */
#include <stdint.h>
#include <stdlib.h>

#include "perimeter/synth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pm_synth_person_t *people = NULL;
    size_t n = 0;
    pm_error_t err;
    if (pm_synth_people_sample_mem((const char *)data, size, 4, 7, &people, &n, &err) != PM_OK)
        return 0;
    pm_buf_t b;
    pm_buf_init(&b, 0);
    for (size_t i = 0; i < n; i++)
        if (pm_synth_person_csv(&people[i], &b) || pm_synth_removal_csv(&people[i], &b)) abort();
    if (pm_synth_watchlist(people, n, (uint32_t)n + 2, 3, &b, &b, &err) != PM_OK) abort();
    pm_synth_manifest_params_t mp;
    pm_synth_manifest_params_default(&mp);
    mp.flights = 2;
    mp.noise = 1.0; /* every noise kind on arbitrary names */
    if (pm_synth_manifest(people, n, &mp, &b, &b, &err) != PM_OK) abort();
    pm_buf_free(&b);
    free(people);
    return 0;
}
