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

/* Fitted on the vendor ISO templates of FVC2002 DB1-4 B, 11,520 cross-finger
 * impostor comparisons; tail: log10(FMR) = 0.19393 - 0.20917 * raw. */
static const knot_t knots[] = {
    {0.0, 0.0},
    {3.0988, 3.0103},
    {4.7777, 6.9897},
    {6.0025, 10.0000},
    {7.1471, 13.0103},
    {9.5375, 18.0103},
    {11.9278, 23.0103},
    {14.3182, 28.0103},
    {16.7086, 33.0103},
    {19.0990, 38.0103},
    {21.4894, 43.0103},
    {23.8798, 48.0103},
    {26.2702, 53.0103},
    {28.6606, 58.0103},
    {31.0510, 63.0103},
    {33.4414, 68.0103},
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
    /* beyond the last knot: continue the last segment's slope */
    double slope = (knots[n - 1].score - knots[n - 2].score) / (knots[n - 1].raw - knots[n - 2].raw);
    return knots[n - 1].score + slope * (raw - knots[n - 1].raw);
}
