/* fp on real prints: every FVC2002 B image extracts (needs the shared data).
 * ctest-label: heavy */
#include "testutil.h"

#include <math.h>
#include <stdio.h>

#include "perimeter/fp.h"
#include "perimeter/image.h"

#define PI 3.14159265358979323846

static pm_extractor_t *new_extractor(void)
{
    pm_extractor_t *ex = NULL;
    pm_error_t e;
    assert_int_equal(pm_extractor_create(&ex, &e), PM_OK);
    return ex;
}

/* Every FVC2002 B image extracts, with a plausible number of minutiae. */
static void test_fvc2002_all_extract(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(dir, "fvc2002");
    pm_extractor_t *ex = new_extractor();
    int total = 0;
    double quality_sum = 0;
    for (int db = 1; db <= 4; db++) {
        char path[4096];
        for (int f = 101; f <= 110; f++)
            for (int i = 1; i <= 8; i++) {
                snprintf(path, sizeof path, "%s/fvc2002/DB%d_B/%d_%d.tif", dir, db, f, i);
                pm_image_t img;
                pm_error_t e;
                if (pm_image_load(path, NULL, &img, &e) != PM_OK)
                    fail_msg("%s: %s", path, pm_error_text(&e));
                pm_fingerprint_t fp;
                int rc = pm_fp_extract(ex, &img, &fp, &e);
                if (rc != PM_OK)
                    fail_msg("%s: %s", path, pm_error_text(&e));
                if (fp.count < 8 || fp.count > 150)
                    fail_msg("%s: implausible minutiae count %zu", path, fp.count);
                for (size_t m = 0; m < fp.count; m++) {
                    assert_true(fp.minutiae[m].x >= 0 && fp.minutiae[m].x < img.width);
                    assert_true(fp.minutiae[m].y >= 0 && fp.minutiae[m].y < img.height);
                    assert_true(fp.minutiae[m].angle >= 0 && fp.minutiae[m].angle < 2 * PI);
                }
                assert_true(fp.quality >= 0 && fp.quality <= 100);
                quality_sum += fp.quality;
                total++;
                pm_image_free(&img);
            }
    }
    assert_int_equal(total, 320);
    /* live-scan prints of usable quality: the mean sits in the middle of the scale */
    assert_true(quality_sum / total > 20 && quality_sum / total < 95);
    pm_extractor_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fvc2002_all_extract),
    };
    return PM_RUN_TESTS("fp_data", tests, NULL, NULL);
}
