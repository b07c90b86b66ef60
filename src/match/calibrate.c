/* Raw similarity -> calibrated score -10*log10(FMR). The knots below are
 * fitted constants (docs/match.md "Calibration"); regenerate them with
 *   perimeter eval fvc DIR --fit-calibration
 * which fits the pooled impostor distribution and prints this table. */
#include <math.h>

#include "perimeter/match.h"

typedef struct knot {
    double raw;
    double score;
} knot_t;

/* Fitted on 23040 impostor comparisons (all cross-finger pairs of FVC2002 DB1-4 B,
 * once with our extraction (fp at db9970a) and once with the vendor ISO templates): empirical quantiles for FMR >= 10%,
 * above that an exponential tail fitted by least squares on the top 5%:
 * log10(FMR) = 0.04680 -0.97562 * raw. Check, empirical vs fitted:
 *   FMR 1e-02: empirical raw 2.067, fitted raw 2.098
 *   FMR 1e-03: empirical raw 3.141, fitted raw 3.123
 *   FMR 1e-04: empirical raw 4.208, fitted raw 4.148
 */
static const knot_t knots[] = {
    {0.0, 0.0},
    {0.4431, 3.0103},
    {0.8361, 6.9897},
    {1.1122, 10.0000},
    {1.3815, 13.0103},
    {1.8940, 18.0103},
    {2.4065, 23.0103},
    {2.9190, 28.0103},
    {3.4315, 33.0103},
    {3.9440, 38.0103},
    {4.4565, 43.0103},
    {4.9689, 48.0103},
    {5.4814, 53.0103},
    {5.9939, 58.0103},
    {6.5064, 63.0103},
    {7.0189, 68.0103},
};

double pm_match_calibrate(double raw)
{
    const int n = (int)(sizeof knots / sizeof knots[0]);
    if (!(raw > knots[0].raw))
        return 0.0;
    for (int i = 1; i < n; i++)
        if (raw <= knots[i].raw) {
            double f = (raw - knots[i - 1].raw) / (knots[i].raw - knots[i - 1].raw);
            return knots[i - 1].score + f * (knots[i].score - knots[i - 1].score);
        }
    /* Beyond the last knot (FMR 1e-7) no data can support the fit: the score
     * keeps growing (it still orders strong matches) but logarithmically,
     * starting with the last segment's slope. */
    double slope = (knots[n - 1].score - knots[n - 2].score) / (knots[n - 1].raw - knots[n - 2].raw);
    const double k = 10.0 / log(10.0);
    return knots[n - 1].score + k * log1p(slope * (raw - knots[n - 1].raw) / k);
}
