#include "cli/plot.h"

int pm__plot_det_png(const char *path, const pm__plot_series_t *series, int nseries, pm_error_t *err)
{
    (void)series;
    (void)nseries;
    return pm_error_set(err, PM_EUNSUPPORTED, "%s: plotting not built yet", path);
}
